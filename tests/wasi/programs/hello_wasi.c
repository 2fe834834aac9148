/* A WASI command exercising what a C program gets from the host: arguments,
 * environment, both clocks, a sleep (poll_oneoff), random bytes, stdin,
 * stdout and stderr, and the exit status (EXIT_CODE=n makes it exit(n)).
 * Built by build.sh next to this file; the .wasm is committed. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static long long nanoseconds(struct timespec t) {
    return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

int main(int argc, char **argv) {
    printf("argc=%d\n", argc);
    for (int i = 0; i < argc; i++)
        printf("argv[%d]=%s\n", i, argv[i]);
    for (char **entry = environ; *entry; entry++)
        printf("env %s\n", *entry);

    struct timespec real, before, after;
    clock_gettime(CLOCK_REALTIME, &real);
    clock_gettime(CLOCK_MONOTONIC, &before);
    struct timespec pause = {0, 2500000};
    nanosleep(&pause, NULL);
    clock_gettime(CLOCK_MONOTONIC, &after);
    printf("realtime_ns=%lld\n", nanoseconds(real));
    printf("slept_ns=%lld\n", nanoseconds(after) - nanoseconds(before));

    unsigned char bytes[8];
    if (getentropy(bytes, sizeof bytes) != 0) {
        perror("getentropy");
        return 3;
    }
    printf("random=");
    for (size_t i = 0; i < sizeof bytes; i++)
        printf("%02x", bytes[i]);
    printf("\n");

    char input[64];
    size_t length = fread(input, 1, sizeof input, stdin);
    printf("stdin=%zu:%.*s\n", length, (int)length, input);

    fprintf(stderr, "to stderr\n");
    printf("done");
    const char *code = getenv("EXIT_CODE");
    if (code)
        exit(atoi(code));
    return 0;
}
