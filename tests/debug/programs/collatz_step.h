/* One Collatz step; a header, so that the line table of collatz.c names a
 * second file. */

static int collatz_step(int n) {
    if (n % 2 == 0)
        return n / 2;
    return 3 * n + 1;
}
