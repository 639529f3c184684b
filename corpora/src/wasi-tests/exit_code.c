/* exit_code.c - prints one line, then exits with the status given in argv[1].
 *
 * args: exit_code.wasm CODE  (0..255; default 0). The expected output is for CODE=42.
 * env: none.  stdin: not read.  preopens: none.  exit code: CODE (via proc_exit)
 */
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    int code = argc > 1 ? atoi(argv[1]) : 0;
    printf("exiting with %d\n", code);
    fflush(stdout);
    exit(code);
}
