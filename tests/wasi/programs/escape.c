/* A WASI command that tries every way out of its preopened directory
 * (/sandbox, descriptor 3) and prints what each attempt got: paths with ..
 * through wasi-libc, absolute paths and symbolic links through the raw WASI
 * calls (wasi-libc would resolve those against its preopens itself), a
 * directory descriptor as a new root, links made to point out, and renames,
 * removals and stats of what lies outside.  The tests set up the links and
 * check that nothing outside was read, changed or created.
 * Built by build.sh next to this file. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <wasi/api.h>

#define SANDBOX 3
#define READ_RIGHTS (__WASI_RIGHTS_FD_READ | __WASI_RIGHTS_FD_SEEK | __WASI_RIGHTS_FD_TELL)

static const char *name(int error) {
    switch (error) {
    case 0: return "ok";
    case __WASI_ERRNO_PERM: return "EPERM";
    case __WASI_ERRNO_NOTCAPABLE: return "ENOTCAPABLE";
    case __WASI_ERRNO_LOOP: return "ELOOP";
    case __WASI_ERRNO_NOENT: return "ENOENT";
    case __WASI_ERRNO_NOTDIR: return "ENOTDIR";
    case __WASI_ERRNO_BADF: return "EBADF";
    default: return strerror(error);
    }
}

/* Open with the raw call: the path reaches the host exactly as written. */
static void raw_open(__wasi_fd_t dir, const char *label, const char *path, __wasi_lookupflags_t flags) {
    __wasi_fd_t fd;
    __wasi_errno_t error = __wasi_path_open(dir, flags, path, 0, READ_RIGHTS, 0, 0, &fd);
    if (error == 0) {
        char buffer[64] = {0};
        __wasi_iovec_t iovec = {(uint8_t *)buffer, sizeof buffer - 1};
        __wasi_size_t got = 0;
        (void)__wasi_fd_read(fd, &iovec, 1, &got);
        (void)__wasi_fd_close(fd);
        printf("%s: ok, read \"%.*s\"\n", label, (int)got, buffer);
    } else {
        printf("%s: %s\n", label, name(error));
    }
}

static void libc_open(const char *label, const char *path) {
    int fd = open(path, O_RDONLY);
    if (fd >= 0) {
        char buffer[64] = {0};
        ssize_t got = read(fd, buffer, sizeof buffer - 1);
        close(fd);
        printf("%s: ok, read \"%.*s\"\n", label, (int)(got < 0 ? 0 : got), buffer);
    } else {
        printf("%s: %s\n", label, name(errno));
    }
}

int main(void) {
    const __wasi_lookupflags_t follow = __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW;

    libc_open("inside", "/sandbox/inside.txt");
    libc_open("dot-dot inside", "/sandbox/sub/../inside.txt");
    libc_open("dot-dot out", "/sandbox/../outside.txt");
    libc_open("deeper dot-dot out", "/sandbox/sub/../../outside.txt");
    raw_open(SANDBOX, "dot-dot", "../outside.txt", 0);
    raw_open(SANDBOX, "absolute", "/etc/passwd", 0);
    raw_open(SANDBOX, "absolute into the sandbox", "/sandbox/inside.txt", 0);

    raw_open(SANDBOX, "link inside", "link_in", follow);
    raw_open(SANDBOX, "link inside through a directory", "sub/link_ok", follow);
    raw_open(SANDBOX, "link out", "link_out", follow);
    raw_open(SANDBOX, "absolute link", "link_abs", follow);
    raw_open(SANDBOX, "link out from a directory", "sub/link_up", follow);
    raw_open(SANDBOX, "through a link to the parent", "parent/outside.txt", follow);
    raw_open(SANDBOX, "link not followed", "link_out", 0);
    raw_open(SANDBOX, "link loop", "loop", follow);

    __wasi_fd_t sub;
    __wasi_errno_t error = __wasi_path_open(SANDBOX, 0, "sub", __WASI_OFLAGS_DIRECTORY,
                                            __WASI_RIGHTS_PATH_OPEN | __WASI_RIGHTS_FD_READDIR,
                                            READ_RIGHTS, 0, &sub);
    printf("open sub: %s\n", name(error));
    raw_open(sub, "sub is a root of its own", "../inside.txt", 0);

    printf("symlink to an absolute path: %s\n", name(__wasi_path_symlink("/etc/passwd", SANDBOX, "evil")));
    printf("symlink pointing out: %s\n", name(__wasi_path_symlink("../outside.txt", SANDBOX, "made_out")));
    raw_open(SANDBOX, "the link made", "made_out", follow);
    char target[64] = {0};
    __wasi_size_t used = 0;
    error = __wasi_path_readlink(SANDBOX, "made_out", (uint8_t *)target, sizeof target - 1, &used);
    printf("readlink made_out: %s \"%.*s\"\n", name(error), (int)used, target);

    printf("rename out: %s\n", name(__wasi_path_rename(SANDBOX, "inside.txt", SANDBOX, "../moved.txt")));
    printf("rename in: %s\n", name(__wasi_path_rename(SANDBOX, "../outside.txt", SANDBOX, "stolen.txt")));
    printf("hard link out: %s\n", name(__wasi_path_link(SANDBOX, 0, "../outside.txt", SANDBOX, "stolen.txt")));
    printf("mkdir out: %s\n", name(__wasi_path_create_directory(SANDBOX, "../made")));
    printf("unlink out: %s\n", name(__wasi_path_unlink_file(SANDBOX, "../outside.txt")));
    printf("unlink through a link: %s\n", name(__wasi_path_unlink_file(SANDBOX, "parent/outside.txt")));
    printf("rmdir out: %s\n", name(__wasi_path_remove_directory(SANDBOX, "..")));
    __wasi_filestat_t info;
    printf("stat out: %s\n", name(__wasi_path_filestat_get(SANDBOX, 0, "../outside.txt", &info)));
    printf("stat through a link: %s\n", name(__wasi_path_filestat_get(SANDBOX, follow, "link_out", &info)));
    printf("stat the link itself: %s\n", name(__wasi_path_filestat_get(SANDBOX, 0, "link_out", &info)));
    printf("create through a link: %s\n", name(__wasi_path_open(SANDBOX, follow, "dangling", __WASI_OFLAGS_CREAT,
                                                                  __WASI_RIGHTS_FD_WRITE, 0, 0, &sub)));
    return 0;
}
