/* Recursive calls: the cost of a wasm call and return. */
int fib(int n) {
    return n < 2 ? n : fib(n - 1) + fib(n - 2);
}
