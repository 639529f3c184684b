/* main.c - the wasm-prof default workload.
 *
 * usage: workload [SCALE]
 *   SCALE  positive integer work multiplier, default 1 (well under a second natively)
 *
 * Runs ten kernels (compression, hashing, sorting, a hash map, JSON, linear
 * algebra, formatting, a bytecode VM, big integers, regular expressions),
 * prints one line each and a final checksum, and exits 0 when all succeed.
 * The output is deterministic: it depends only on SCALE.
 */
#include <stdio.h>
#include <stdlib.h>

#include "workload.h"

typedef struct {
    const char *name;
    uint32_t (*run)(int scale);
} Kernel;

static const Kernel kernels[] = {
    {"compress", run_compress}, {"hash", run_hash},     {"sort", run_sort},
    {"hashmap", run_hashmap},   {"json", run_json},     {"matrix", run_matrix},
    {"format", run_format},     {"vm", run_vm},         {"bigint", run_bigint},
    {"regex", run_regex},
};

static int parse_scale(const char *arg)
{
    char *end;
    long v = strtol(arg, &end, 10);
    if (*end != '\0' || v < 1 || v > 1000)
        return -1;
    return (int)v;
}

int main(int argc, char **argv)
{
    int scale = 1;
    uint32_t total = 0;
    if (argc > 2 || (argc == 2 && (scale = parse_scale(argv[1])) < 0)) {
        fprintf(stderr, "usage: workload [SCALE]  (SCALE is an integer from 1 to 1000)\n");
        return 2;
    }
    printf("wasm-prof workload, scale %d\n", scale);
    for (size_t i = 0; i < sizeof kernels / sizeof kernels[0]; i++) {
        uint32_t h = kernels[i].run(scale);
        total = mix32(total, h);
    }
    printf("checksum %08x\n", (unsigned)total);
    return 0;
}
