/* A WASI command using the filesystem the way C programs do, through
 * wasi-libc: directories, files written, read, appended to, sought,
 * truncated, renamed, linked, listed and removed, metadata and times,
 * symbolic links, and standard input read to its end.  It expects a preopened
 * directory named /sandbox, and prints what each step saw; the tests compare
 * that and what is left on the host.  Built by build.sh next to this file. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static void check(int ok, const char *what) {
    if (!ok) {
        printf("%s failed: %s\n", what, strerror(errno));
        exit(1);
    }
}

static void report(const char *what, int result) {
    printf("%s: %s\n", what, result == 0 ? "ok" : strerror(errno));
}

static const char *kind(mode_t mode) {
    if (S_ISREG(mode)) return "file";
    if (S_ISDIR(mode)) return "directory";
    if (S_ISLNK(mode)) return "symlink";
    if (S_ISCHR(mode)) return "character device";
    return "other";
}

static void show_stat(const char *path) {
    struct stat info;
    if (lstat(path, &info) != 0) {
        printf("stat %s: %s\n", path, strerror(errno));
        return;
    }
    if (S_ISDIR(info.st_mode)) /* a directory's size and link count differ between filesystems */
        printf("stat %s: %s, mtime %lld.%09ld\n", path, kind(info.st_mode), (long long)info.st_mtim.tv_sec,
               info.st_mtim.tv_nsec);
    else
        printf("stat %s: %s, %lld bytes, %lu links, mtime %lld.%09ld\n", path, kind(info.st_mode),
               (long long)info.st_size, (unsigned long)info.st_nlink, (long long)info.st_mtim.tv_sec,
               info.st_mtim.tv_nsec);
}

/* Times are simulated: the clock moves when the guest reads it, a write
 * stamps the file with the time then, and set times are what is seen. */
static void times(void) {
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    printf("clock: %lld.%09ld\n", (long long)now.tv_sec, now.tv_nsec);
    FILE *file = fopen("/sandbox/given.txt", "a");
    check(file != NULL, "fopen given.txt");
    fputs("more\n", file);
    fclose(file);
    show_stat("/sandbox/given.txt");
    struct timespec set[2] = {{1000000000, 0}, {1234567890, 500}};
    report("utimensat", utimensat(AT_FDCWD, "/sandbox/given.txt", set, 0));
    show_stat("/sandbox/given.txt");
}

static void list(const char *path) {
    DIR *dir = opendir(path);
    check(dir != NULL, "opendir");
    printf("list %s:", path);
    struct dirent *entry;
    while ((entry = readdir(dir)) != NULL)
        printf(" %s%s", entry->d_name, entry->d_type == DT_DIR ? "/" : entry->d_type == DT_LNK ? "@" : "");
    printf("\n");
    closedir(dir);
}

static void show_file(const char *path) {
    FILE *file = fopen(path, "r");
    if (file == NULL) {
        printf("read %s: %s\n", path, strerror(errno));
        return;
    }
    char buffer[256];
    size_t length = fread(buffer, 1, sizeof buffer, file);
    fclose(file);
    printf("read %s: \"%.*s\"\n", path, (int)length, buffer);
}

int main(void) {
    report("mkdir /sandbox/work", mkdir("/sandbox/work", 0755));
    report("mkdir again", mkdir("/sandbox/work", 0755));

    FILE *file = fopen("/sandbox/work/notes.txt", "w");
    check(file != NULL, "fopen for writing");
    fputs("first line\n", file);
    fclose(file);
    file = fopen("/sandbox/work/notes.txt", "a");
    check(file != NULL, "fopen for appending");
    fputs("appended\n", file);
    fclose(file);
    show_file("/sandbox/work/notes.txt");

    int fd = open("/sandbox/work/notes.txt", O_RDWR);
    check(fd >= 0, "open O_RDWR");
    printf("seek end: %lld\n", (long long)lseek(fd, 0, SEEK_END));
    printf("seek set 6: %lld\n", (long long)lseek(fd, 6, SEEK_SET));
    char word[5] = {0};
    check(read(fd, word, 4) == 4, "read");
    printf("read at 6: %s, now at %lld\n", word, (long long)lseek(fd, 0, SEEK_CUR));
    check(pwrite(fd, "FIRST", 5, 0) == 5, "pwrite");
    check(pread(fd, word, 4, 11) == 4, "pread");
    printf("pread at 11: %s, still at %lld\n", word, (long long)lseek(fd, 0, SEEK_CUR));
    check(ftruncate(fd, 10) == 0, "ftruncate");
    printf("seek before start: %lld (%s)\n", (long long)lseek(fd, -20, SEEK_CUR), strerror(errno));
    close(fd);
    show_file("/sandbox/work/notes.txt");
    show_stat("/sandbox/work/notes.txt");
    show_stat("/sandbox/given.txt");
    show_stat("/sandbox/work");
    times();

    report("rename", rename("/sandbox/work/notes.txt", "/sandbox/work/renamed.txt"));
    report("link", link("/sandbox/work/renamed.txt", "/sandbox/work/hard.txt"));
    show_stat("/sandbox/work/hard.txt");
    report("symlink", symlink("renamed.txt", "/sandbox/work/soft.txt"));
    char target[64] = {0};
    ssize_t length = readlink("/sandbox/work/soft.txt", target, sizeof target - 1);
    printf("readlink: %.*s\n", (int)length, target);
    show_file("/sandbox/work/soft.txt");
    show_stat("/sandbox/work/soft.txt");
    report("mkdir sub", mkdir("/sandbox/work/sub", 0755));
    list("/sandbox/work");

    report("rmdir non-empty", rmdir("/sandbox/work"));
    report("unlink a directory", unlink("/sandbox/work/sub"));
    report("rmdir a file", rmdir("/sandbox/work/hard.txt"));
    report("open missing", open("/sandbox/work/missing", O_RDONLY) >= 0 ? 0 : -1);
    report("open a file as a directory", open("/sandbox/work/hard.txt/x", O_RDONLY) >= 0 ? 0 : -1);
    report("exclusive create of an existing file",
           open("/sandbox/work/hard.txt", O_WRONLY | O_CREAT | O_EXCL, 0644) >= 0 ? 0 : -1);
    report("write to a directory", open("/sandbox/work/sub", O_WRONLY) >= 0 ? 0 : -1);

    report("unlink soft", unlink("/sandbox/work/soft.txt"));
    report("unlink hard", unlink("/sandbox/work/hard.txt"));
    report("rmdir sub", rmdir("/sandbox/work/sub"));
    list("/sandbox/work");
    report("rename into place", rename("/sandbox/work/renamed.txt", "/sandbox/kept.txt"));
    report("rmdir work", rmdir("/sandbox/work"));
    list("/sandbox");

    struct stat out;
    check(fstat(1, &out) == 0, "fstat stdout");
    printf("stdout is a %s\n", kind(out.st_mode));

    char input[64];
    size_t total = 0, got;
    while ((got = fread(input, 1, sizeof input, stdin)) > 0)
        total += got;
    printf("stdin: %zu bytes\n", total);
    return 0;
}
