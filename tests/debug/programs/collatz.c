/* The test program of tests/debug/test_source_map.py, with collatz_step.h and
 * traps.c: a loop, calls, one arithmetic expression per line.  The tests
 * hard-code line numbers of these files: keep them in step when editing, and
 * rebuild with build.sh. */

#include "collatz_step.h"

int collatz_length(int n) {
    int length = 0;
    while (n != 1) {
        n = collatz_step(n);
        length = length + 1;
    }
    return length;
}

int longest_below(int limit) {
    int best = 1;
    for (int start = 1; start < limit; start++) {
        if (collatz_length(start) > collatz_length(best))
            best = start;
    }
    return best;
}
