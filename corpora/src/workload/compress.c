/* compress.c - the compression kernel: text -> LZ77 -> Huffman and back. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "workload.h"

static int round_trip(const uint8_t *text, size_t len, size_t *lz_len, size_t *huff_len)
{
    Buf lz, huff, back_lz, back;
    int ok;
    buf_init(&lz, len / 2 + 16);
    buf_init(&huff, len / 2 + 300);
    buf_init(&back_lz, len / 2 + 16);
    buf_init(&back, len + 16);
    lz_compress(text, len, &lz);
    huff_encode(lz.data, lz.len, &huff);
    ok = huff_decode(huff.data, huff.len, &back_lz) == 0 &&
         lz_decompress(back_lz.data, back_lz.len, &back) == 0 && back.len == len &&
         memcmp(back.data, text, len) == 0;
    *lz_len = lz.len;
    *huff_len = huff.len;
    buf_free(&lz);
    buf_free(&huff);
    buf_free(&back_lz);
    buf_free(&back);
    return ok;
}

uint32_t run_compress(int scale)
{
    size_t cap = (size_t)scale * 96 * 1024;
    char *text = malloc(cap);
    size_t len = text_generate(text, cap, 42);
    size_t lz_len = 0, huff_len = 0;
    int ok = round_trip((const uint8_t *)text, len, &lz_len, &huff_len);
    uint32_t sum = crc32_update(0, text, len);
    printf("compress: %zu bytes -> lz %zu -> huffman %zu (%.1f%%), round trip %s\n", len,
           lz_len, huff_len, 100.0 * (double)huff_len / (double)len, ok ? "ok" : "FAILED");
    free(text);
    return mix32(sum, (uint32_t)(huff_len * 31 + lz_len) ^ (uint32_t)ok);
}
