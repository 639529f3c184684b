/* files.c - file operations inside a preopened directory.
 *
 * args:    files.wasm DIR   where DIR is a preopened, writable, initially empty-of-these-names
 *          directory (e.g. preopen a host temp dir as "/sandbox" and pass /sandbox)
 * env:     none.  stdin: not read.  exit code: 0 on success, 1 on the first failure
 * Creates DIR/a.txt, writes, seeks, tells, reads back, stats, renames to b.txt,
 * unlinks it, and checks it is gone. Leaves DIR as it found it.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <fcntl.h>

static int fail(const char *what)
{
    printf("FAILED: %s (%s)\n", what, strerror(errno));
    return 1;
}

int main(int argc, char **argv)
{
    char a[512], b[512], buf[64];
    const char *text = "hello, wasi files\n";
    struct stat st;
    FILE *f;
    long pos;
    if (argc != 2) {
        fprintf(stderr, "usage: files DIR\n");
        return 2;
    }
    snprintf(a, sizeof a, "%s/a.txt", argv[1]);
    snprintf(b, sizeof b, "%s/b.txt", argv[1]);
    f = fopen(a, "w+");
    if (!f)
        return fail("create a.txt");
    if (fputs(text, f) < 0 || fflush(f) != 0)
        return fail("write");
    printf("wrote %zu bytes\n", strlen(text));
    pos = ftell(f);
    printf("tell after write: %ld\n", pos);
    if (fseek(f, 7, SEEK_SET) != 0)
        return fail("seek");
    printf("tell after seek: %ld\n", ftell(f));
    memset(buf, 0, sizeof buf);
    if (!fgets(buf, sizeof buf, f))
        return fail("read");
    printf("read from 7: %s", buf);
    fclose(f);
    if (stat(a, &st) != 0)
        return fail("stat");
    printf("stat size: %lld, regular: %s\n", (long long)st.st_size, S_ISREG(st.st_mode) ? "yes" : "no");
    if (rename(a, b) != 0)
        return fail("rename");
    printf("renamed a.txt -> b.txt: a exists %s, b exists %s\n", access(a, F_OK) == 0 ? "yes" : "no",
           access(b, F_OK) == 0 ? "yes" : "no");
    f = fopen(b, "a");
    if (!f || fputs("more\n", f) < 0 || fclose(f) != 0)
        return fail("append");
    if (stat(b, &st) != 0)
        return fail("stat b");
    printf("size after append: %lld\n", (long long)st.st_size);
    if (unlink(b) != 0)
        return fail("unlink");
    printf("after unlink: b exists %s (errno %s)\n", access(b, F_OK) == 0 ? "yes" : "no",
           errno == ENOENT ? "ENOENT" : "other");
    return 0;
}
