/* hash.c - the hashing kernel: SHA-256 known answers, then a chain of digests. */
#include <stdio.h>
#include <string.h>

#include "workload.h"

static int known_answer(const char *msg, const char *want_hex)
{
    Sha256 s;
    uint8_t d[32];
    char hex[65];
    sha256_init(&s);
    sha256_update(&s, msg, strlen(msg));
    sha256_final(&s, d);
    sha256_hex(d, hex);
    return strcmp(hex, want_hex) == 0;
}

uint32_t run_hash(int scale)
{
    uint8_t block[4096], digest[32] = {0};
    char hex[65];
    Rng r;
    int kat = known_answer("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855") &&
              known_answer("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    uint32_t crc = 0;
    rng_seed(&r, 7);
    for (int round = 0; round < 64 * scale; round++) {
        Sha256 s;
        for (size_t i = 0; i < sizeof block; i++)
            block[i] = (uint8_t)rng_next(&r);
        sha256_init(&s);
        sha256_update(&s, digest, sizeof digest);
        sha256_update(&s, block, sizeof block);
        sha256_final(&s, digest);
        crc = crc32_update(crc, block, sizeof block);
    }
    sha256_hex(digest, hex);
    printf("hash: sha256 known answers %s, chain %.16s..., crc32 %08x\n", kat ? "ok" : "FAILED",
           hex, (unsigned)crc);
    return mix32(fnv1a(digest, sizeof digest), crc ^ (uint32_t)kat);
}
