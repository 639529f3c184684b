/* lz.c - LZ77 compression with hash chains, and the matching decompressor.
 *
 * Stream format: a sequence of tokens. A token byte T:
 *   T < 0x80: a literal run of T+1 bytes follows.
 *   T >= 0x80: a match of length (T & 0x7F) + MIN_MATCH; two bytes of
 *              little-endian distance (1..WINDOW) follow.
 * The stream starts with the uncompressed length as 4 little-endian bytes.
 */
#include <stdlib.h>
#include <string.h>

#include "workload.h"

#define WINDOW 65535
#define MIN_MATCH 4
#define MAX_MATCH (0x7F + MIN_MATCH)
#define HASH_BITS 14
#define MAX_CHAIN 32

static uint32_t hash4(const uint8_t *p)
{
    uint32_t v = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
                 (uint32_t)p[3] << 24;
    return (v * 2654435761u) >> (32 - HASH_BITS);
}

static void put_u32(Buf *out, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        buf_push(out, (uint8_t)(v >> (8 * i)));
}

static void flush_literals(Buf *out, const uint8_t *lit, size_t n)
{
    while (n > 0) {
        size_t chunk = n > 128 ? 128 : n;
        buf_push(out, (uint8_t)(chunk - 1));
        buf_append(out, lit, chunk);
        lit += chunk;
        n -= chunk;
    }
}

static size_t match_length(const uint8_t *a, const uint8_t *b, size_t limit)
{
    size_t n = 0;
    while (n < limit && a[n] == b[n])
        n++;
    return n;
}

typedef struct {
    int32_t *head;
    int32_t *prev;
} Chains;

static void chains_insert(Chains *c, const uint8_t *in, size_t pos)
{
    uint32_t h = hash4(in + pos);
    c->prev[pos] = c->head[h];
    c->head[h] = (int32_t)pos;
}

static size_t find_match(const Chains *c, const uint8_t *in, size_t pos, size_t len,
                         size_t *dist)
{
    size_t best = 0;
    size_t limit = len - pos < MAX_MATCH ? len - pos : MAX_MATCH;
    int32_t cand = c->head[hash4(in + pos)];
    for (int steps = 0; cand >= 0 && steps < MAX_CHAIN; steps++) {
        size_t d = pos - (size_t)cand;
        if (d > WINDOW)
            break;
        if (in[cand + best] == in[pos + best]) {
            size_t n = match_length(in + cand, in + pos, limit);
            if (n > best) {
                best = n;
                *dist = d;
                if (n == limit)
                    break;
            }
        }
        cand = c->prev[cand];
    }
    return best >= MIN_MATCH ? best : 0;
}

void lz_compress(const uint8_t *in, size_t len, Buf *out)
{
    Chains c;
    size_t pos = 0, lit_start = 0;
    c.head = malloc(sizeof(int32_t) << HASH_BITS);
    c.prev = malloc(sizeof(int32_t) * (len + 1));
    for (size_t i = 0; i < ((size_t)1 << HASH_BITS); i++)
        c.head[i] = -1;
    put_u32(out, (uint32_t)len);
    while (pos + MIN_MATCH <= len) {
        size_t dist = 0;
        size_t n = find_match(&c, in, pos, len, &dist);
        if (n == 0) {
            chains_insert(&c, in, pos);
            pos++;
            continue;
        }
        flush_literals(out, in + lit_start, pos - lit_start);
        buf_push(out, (uint8_t)(0x80 | (n - MIN_MATCH)));
        buf_push(out, (uint8_t)(dist & 0xFF));
        buf_push(out, (uint8_t)(dist >> 8));
        for (size_t k = 0; k < n; k++)
            if (pos + k + MIN_MATCH <= len)
                chains_insert(&c, in, pos + k);
        pos += n;
        lit_start = pos;
    }
    flush_literals(out, in + lit_start, len - lit_start);
    free(c.head);
    free(c.prev);
}

/* Returns 0 on success, -1 on a malformed stream. */
int lz_decompress(const uint8_t *in, size_t len, Buf *out)
{
    size_t pos = 4, expect;
    if (len < 4)
        return -1;
    expect = (size_t)in[0] | (size_t)in[1] << 8 | (size_t)in[2] << 16 | (size_t)in[3] << 24;
    while (pos < len) {
        uint8_t t = in[pos++];
        if (t < 0x80) {
            size_t n = (size_t)t + 1;
            if (pos + n > len)
                return -1;
            buf_append(out, in + pos, n);
            pos += n;
        } else {
            size_t n = (size_t)(t & 0x7F) + MIN_MATCH, dist;
            if (pos + 2 > len)
                return -1;
            dist = (size_t)in[pos] | (size_t)in[pos + 1] << 8;
            pos += 2;
            if (dist == 0 || dist > out->len)
                return -1;
            for (size_t k = 0; k < n; k++)
                buf_push(out, out->data[out->len - dist]);
        }
    }
    return out->len == expect ? 0 : -1;
}
