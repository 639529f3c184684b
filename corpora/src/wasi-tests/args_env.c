/* args_env.c - prints argc, each argv entry, and selected environment variables.
 *
 * args:    any; the expected output assumes: args_env.wasm alpha "beta gamma" --delta=1
 *          (argv[0] is printed as its last path component so runners may pass a path)
 * env:     GREETING=hello  WASM_PROF=1  (and UNSET_VAR must not be set)
 * stdin:   not read.  preopens: none.  exit code: 0
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

static void show_env(const char *name)
{
    const char *v = getenv(name);
    if (v)
        printf("env %s=%s\n", name, v);
    else
        printf("env %s is unset\n", name);
}

int main(int argc, char **argv)
{
    printf("argc=%d\n", argc);
    for (int i = 0; i < argc; i++)
        printf("argv[%d]=%s\n", i, i == 0 ? base_name(argv[0]) : argv[i]);
    show_env("GREETING");
    show_env("WASM_PROF");
    show_env("UNSET_VAR");
    return 0;
}
