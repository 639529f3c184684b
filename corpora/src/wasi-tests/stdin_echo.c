/* stdin_echo.c - reads stdin to EOF and prints its byte count, line count,
 * FNV-1a 32-bit hash and the first line.
 *
 * args: none.  env: none.  preopens: none.  exit code: 0
 * stdin: the expected output assumes exactly the 2 lines "hello wasm\nsecond line\n" (23 bytes).
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

int main(void)
{
    unsigned char buf[4096];
    char first[80] = "";
    size_t total = 0, lines = 0, n, fl = 0;
    uint32_t h = 2166136261u;
    int in_first = 1;
    while ((n = fread(buf, 1, sizeof buf, stdin)) > 0) {
        for (size_t i = 0; i < n; i++) {
            h = (h ^ buf[i]) * 16777619u;
            if (buf[i] == '\n') {
                lines++;
                in_first = 0;
            } else if (in_first && fl < sizeof first - 1) {
                first[fl++] = (char)buf[i];
            }
        }
        total += n;
    }
    first[fl] = '\0';
    printf("bytes %zu\nlines %zu\nfnv1a %08x\nfirst \"%s\"\n", total, lines, (unsigned)h, first);
    return 0;
}
