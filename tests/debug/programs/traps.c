/* Functions of the test program that trap on bad arguments, in a second
 * compile unit; unused_helper is dropped by the linker, leaving line-table
 * rows for code that is not in the module. */

int unused_helper(int x) {
    return x * 7;
}

int divide(int total, int parts) {
    int share = total / parts;
    return share;
}

int load_at(int *values, int index) {
    return values[index];
}
