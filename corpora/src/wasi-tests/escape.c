/* escape.c - tries to leave the sandbox and reports how it was refused.
 *
 * args: escape.wasm DIR   where DIR is the only preopened directory (e.g. /sandbox);
 *       the host must create nothing outside it.
 * env: none.  stdin: not read.  exit code: 0 if every attempt was refused, 1 if any succeeded
 * Attempts: open DIR/../outside.txt, open /etc/passwd, open DIR/sub/../../outside.txt.
 * A correct runtime refuses each (WASI returns ENOTCAPABLE, or EBADF/ENOENT/EPERM/EACCES
 * from path resolution); the program prints "refused (NAME)" and never "OPENED".
 * The expected output accepts any refusal because runtimes legitimately differ in the
 * errno; compare with escape.expected after mapping NAME, or check for "OPENED" absence.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char *errno_name(int e)
{
    switch (e) {
#ifdef ENOTCAPABLE
    case ENOTCAPABLE: return "ENOTCAPABLE";
#endif
    case EBADF: return "EBADF";
    case ENOENT: return "ENOENT";
    case EPERM: return "EPERM";
    case EACCES: return "EACCES";
    case ENOTDIR: return "ENOTDIR";
    default: return "other";
    }
}

static int attempt(const char *label, const char *path)
{
    int fd;
    errno = 0;
    fd = open(path, O_RDONLY);
    if (fd >= 0) {
        close(fd);
        printf("%s: OPENED\n", label);
        return 1;
    }
    printf("%s: refused (%s)\n", label, errno_name(errno));
    return 0;
}

int main(int argc, char **argv)
{
    char path[512];
    int escaped = 0;
    if (argc != 2) {
        fprintf(stderr, "usage: escape DIR\n");
        return 2;
    }
    snprintf(path, sizeof path, "%s/../outside.txt", argv[1]);
    escaped += attempt("parent of preopen", path);
    escaped += attempt("absolute /etc/passwd", "/etc/passwd");
    snprintf(path, sizeof path, "%s/sub/../../outside.txt", argv[1]);
    escaped += attempt("dot-dot through subdir", path);
    printf("%s\n", escaped ? "SANDBOX ESCAPED" : "all refused");
    return escaped ? 1 : 0;
}
