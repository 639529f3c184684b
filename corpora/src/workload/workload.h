/* workload.h - shared declarations for the wasm-prof default workload.
 *
 * The workload is a deterministic command-line program: every kernel takes a
 * scale, does some real work on generated data and returns a 32-bit checksum
 * that main.c prints. No clocks, no randomness from the host, no pointer
 * values in the output, and only correctly rounded floating point (+ - * /
 * sqrt), so native and wasm32-wasi builds print the same bytes.
 */
#ifndef WORKLOAD_H
#define WORKLOAD_H

#include <stddef.h>
#include <stdint.h>

/* rng.c: deterministic pseudo-random numbers (xorshift64*). */
typedef struct { uint64_t state; } Rng;
void rng_seed(Rng *r, uint64_t seed);
uint32_t rng_next(Rng *r);
uint32_t rng_below(Rng *r, uint32_t bound);
double rng_unit(Rng *r);

/* text.c: pseudo-English text used as input by several kernels. */
size_t text_generate(char *out, size_t cap, uint64_t seed);
const char *text_word(size_t index);
size_t text_word_count(void);

/* checksum.c: small helpers for folding results into one number. */
uint32_t fnv1a(const void *data, size_t len);
uint32_t crc32_update(uint32_t crc, const void *data, size_t len);
uint32_t mix32(uint32_t a, uint32_t b);

/* Buffer with a length, used by the codecs. */
typedef struct {
    uint8_t *data;
    size_t len;
    size_t cap;
} Buf;
void buf_init(Buf *b, size_t cap);
void buf_push(Buf *b, uint8_t byte);
void buf_append(Buf *b, const void *data, size_t len);
void buf_free(Buf *b);

/* lz.c: LZ77 with hash chains. */
void lz_compress(const uint8_t *in, size_t len, Buf *out);
int lz_decompress(const uint8_t *in, size_t len, Buf *out);

/* huff.c: canonical Huffman coding of bytes. */
void huff_encode(const uint8_t *in, size_t len, Buf *out);
int huff_decode(const uint8_t *in, size_t len, Buf *out);

/* sha256.c */
typedef struct {
    uint32_t h[8];
    uint64_t total;
    uint8_t block[64];
    size_t used;
} Sha256;
void sha256_init(Sha256 *s);
void sha256_update(Sha256 *s, const void *data, size_t len);
void sha256_final(Sha256 *s, uint8_t digest[32]);
void sha256_hex(const uint8_t digest[32], char hex[65]);

/* Kernels: each returns a checksum and may print one line of detail. */
uint32_t run_compress(int scale);
uint32_t run_hash(int scale);
uint32_t run_sort(int scale);
uint32_t run_hashmap(int scale);
uint32_t run_json(int scale);
uint32_t run_matrix(int scale);
uint32_t run_format(int scale);
uint32_t run_vm(int scale);
uint32_t run_bigint(int scale);
uint32_t run_regex(int scale);

#endif
