/* dirs.c - directory operations inside a preopened directory.
 *
 * args:    dirs.wasm DIR   where DIR is a preopened, writable directory
 * env:     none.  stdin: not read.  exit code: 0 on success, 1 on the first failure
 * Makes DIR/tree with three files and a subdirectory, lists it sorted,
 * checks that rmdir of a non-empty directory fails, then removes everything.
 */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int fail(const char *what)
{
    printf("FAILED: %s (%s)\n", what, strerror(errno));
    return 1;
}

static int cmp_str(const void *x, const void *y)
{
    return strcmp(*(char *const *)x, *(char *const *)y);
}

static int touch(const char *path)
{
    FILE *f = fopen(path, "w");
    return f && fclose(f) == 0 ? 0 : -1;
}

int main(int argc, char **argv)
{
    static const char *files[] = {"zeta.txt", "alpha.txt", "mid.dat"};
    char root[512], path[1024];
    char *names[16];
    int n = 0;
    DIR *d;
    struct dirent *e;
    if (argc != 2) {
        fprintf(stderr, "usage: dirs DIR\n");
        return 2;
    }
    snprintf(root, sizeof root, "%s/tree", argv[1]);
    if (mkdir(root, 0755) != 0)
        return fail("mkdir tree");
    for (int i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "%s/%s", root, files[i]);
        if (touch(path) != 0)
            return fail("create file");
    }
    snprintf(path, sizeof path, "%s/sub", root);
    if (mkdir(path, 0755) != 0)
        return fail("mkdir sub");
    if (!(d = opendir(root)))
        return fail("opendir");
    while ((e = readdir(d)) && n < 16)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            names[n++] = strdup(e->d_name);
    closedir(d);
    qsort(names, (size_t)n, sizeof names[0], cmp_str);
    printf("entries: %d\n", n);
    for (int i = 0; i < n; i++) {
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", root, names[i]);
        stat(path, &st);
        printf("  %s%s\n", names[i], S_ISDIR(st.st_mode) ? "/" : "");
    }
    errno = 0;
    printf("rmdir non-empty: %s\n", rmdir(root) == 0 ? "succeeded (wrong)" : errno == ENOTEMPTY ? "ENOTEMPTY" : "refused");
    for (int i = 0; i < n; i++) {
        snprintf(path, sizeof path, "%s/%s", root, names[i]);
        if ((strcmp(names[i], "sub") == 0 ? rmdir(path) : unlink(path)) != 0)
            return fail("remove entry");
        free(names[i]);
    }
    if (rmdir(root) != 0)
        return fail("rmdir tree");
    printf("removed tree: exists %s\n", access(root, F_OK) == 0 ? "yes" : "no");
    return 0;
}
