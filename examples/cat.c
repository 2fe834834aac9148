/* cat: copy the files named on the command line, or standard input when
 * none are named, to standard output.  A WASI command: the files it can
 * open are those under the directories given with --dir.
 * Built by build.sh next to this file; cat.wasm is committed. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

static int copy(FILE *in) {
    char buffer[4096];
    size_t length;
    while ((length = fread(buffer, 1, sizeof buffer, in)) > 0)
        fwrite(buffer, 1, length, stdout);
    return ferror(in) ? -1 : 0;
}

int main(int argc, char **argv) {
    if (argc < 2)
        return copy(stdin) == 0 ? 0 : 1;
    int status = 0;
    for (int i = 1; i < argc; i++) {
        FILE *in = fopen(argv[i], "r");
        if (in == NULL || copy(in) != 0) {
            fprintf(stderr, "cat: %s: %s\n", argv[i], strerror(errno));
            status = 1;
        }
        if (in != NULL)
            fclose(in);
    }
    return status;
}
