/* huff.c - canonical Huffman coding of a byte stream.
 *
 * Format: 4 bytes little-endian length, 256 code lengths (one byte each),
 * then the bit stream, most significant bit first. Code lengths are limited
 * to MAX_BITS by rescaling frequencies until the tree fits.
 */
#include <stdlib.h>
#include <string.h>

#include "workload.h"

#define MAX_BITS 15

typedef struct {
    uint32_t weight;
    int16_t left, right; /* child node indices, -1 for leaves */
    int16_t symbol;
} Node;

/* A small binary min-heap of node indices ordered by weight, then index. */
typedef struct {
    int16_t items[512];
    int n;
    const Node *nodes;
} Heap;

static int heap_less(const Heap *h, int a, int b)
{
    const Node *x = &h->nodes[h->items[a]], *y = &h->nodes[h->items[b]];
    if (x->weight != y->weight)
        return x->weight < y->weight;
    return h->items[a] < h->items[b];
}

static void heap_swap(Heap *h, int a, int b)
{
    int16_t t = h->items[a];
    h->items[a] = h->items[b];
    h->items[b] = t;
}

static void heap_push(Heap *h, int16_t node)
{
    int i = h->n++;
    h->items[i] = node;
    while (i > 0 && heap_less(h, i, (i - 1) / 2)) {
        heap_swap(h, i, (i - 1) / 2);
        i = (i - 1) / 2;
    }
}

static int16_t heap_pop(Heap *h)
{
    int16_t top = h->items[0];
    int i = 0;
    h->items[0] = h->items[--h->n];
    for (;;) {
        int l = 2 * i + 1, r = l + 1, m = i;
        if (l < h->n && heap_less(h, l, m))
            m = l;
        if (r < h->n && heap_less(h, r, m))
            m = r;
        if (m == i)
            break;
        heap_swap(h, i, m);
        i = m;
    }
    return top;
}

static void assign_depths(const Node *nodes, int16_t at, int depth, uint8_t *lengths)
{
    if (nodes[at].left < 0) {
        lengths[nodes[at].symbol] = (uint8_t)(depth ? depth : 1);
        return;
    }
    assign_depths(nodes, nodes[at].left, depth + 1, lengths);
    assign_depths(nodes, nodes[at].right, depth + 1, lengths);
}

static int build_lengths(const uint32_t freq[256], uint8_t lengths[256])
{
    Node nodes[512];
    Heap h;
    int count = 0, max = 0;
    h.n = 0;
    h.nodes = nodes;
    memset(lengths, 0, 256);
    for (int s = 0; s < 256; s++) {
        if (!freq[s])
            continue;
        nodes[count] = (Node){freq[s], -1, -1, (int16_t)s};
        heap_push(&h, (int16_t)count++);
    }
    if (count == 0)
        return 0;
    while (h.n > 1) {
        int16_t a = heap_pop(&h), b = heap_pop(&h);
        nodes[count] = (Node){nodes[a].weight + nodes[b].weight, a, b, -1};
        heap_push(&h, (int16_t)count++);
    }
    assign_depths(nodes, heap_pop(&h), 0, lengths);
    for (int s = 0; s < 256; s++)
        if (lengths[s] > max)
            max = lengths[s];
    return max;
}

static void limited_lengths(const uint8_t *in, size_t len, uint8_t lengths[256])
{
    uint32_t freq[256] = {0};
    for (size_t i = 0; i < len; i++)
        freq[in[i]]++;
    while (build_lengths(freq, lengths) > MAX_BITS)
        for (int s = 0; s < 256; s++)
            if (freq[s])
                freq[s] = (freq[s] + 1) / 2;
}

/* Canonical codes: sorted by (length, symbol). */
static void canonical_codes(const uint8_t lengths[256], uint16_t codes[256])
{
    uint16_t count[MAX_BITS + 1] = {0}, next[MAX_BITS + 2];
    uint16_t code = 0;
    for (int s = 0; s < 256; s++)
        count[lengths[s]]++;
    count[0] = 0;
    for (int bits = 1; bits <= MAX_BITS + 1; bits++) {
        code = (uint16_t)((code + count[bits - 1]) << 1);
        next[bits] = code;
    }
    for (int s = 0; s < 256; s++)
        if (lengths[s])
            codes[s] = next[lengths[s]]++;
}

typedef struct {
    Buf *out;
    uint32_t acc;
    int bits;
} BitWriter;

static void bits_put(BitWriter *w, uint32_t code, int n)
{
    w->acc = (w->acc << n) | code;
    w->bits += n;
    while (w->bits >= 8) {
        w->bits -= 8;
        buf_push(w->out, (uint8_t)(w->acc >> w->bits));
    }
}

static void bits_flush(BitWriter *w)
{
    if (w->bits > 0)
        buf_push(w->out, (uint8_t)(w->acc << (8 - w->bits)));
    w->bits = 0;
}

void huff_encode(const uint8_t *in, size_t len, Buf *out)
{
    uint8_t lengths[256];
    uint16_t codes[256];
    BitWriter w = {out, 0, 0};
    limited_lengths(in, len, lengths);
    canonical_codes(lengths, codes);
    for (int i = 0; i < 4; i++)
        buf_push(out, (uint8_t)(len >> (8 * i)));
    buf_append(out, lengths, 256);
    for (size_t i = 0; i < len; i++)
        bits_put(&w, codes[in[i]], lengths[in[i]]);
    bits_flush(&w);
}

/* Decoding walks lengths one bit at a time using first-code tables. */
int huff_decode(const uint8_t *in, size_t len, Buf *out)
{
    const uint8_t *lengths;
    uint16_t count[MAX_BITS + 1] = {0}, first[MAX_BITS + 1], offset[MAX_BITS + 1];
    uint8_t sorted[256];
    size_t expect, bitpos, nbits;
    int n = 0;
    if (len < 260)
        return -1;
    expect = (size_t)in[0] | (size_t)in[1] << 8 | (size_t)in[2] << 16 | (size_t)in[3] << 24;
    lengths = in + 4;
    for (int s = 0; s < 256; s++) {
        if (lengths[s] > MAX_BITS)
            return -1;
        count[lengths[s]]++;
    }
    count[0] = 0;
    for (int bits = 1, code = 0, idx = 0; bits <= MAX_BITS; bits++) {
        first[bits] = (uint16_t)code;
        offset[bits] = (uint16_t)idx;
        code = (code + count[bits]) << 1;
        idx += count[bits];
    }
    for (int bits = 1; bits <= MAX_BITS; bits++)
        for (int s = 0; s < 256; s++)
            if (lengths[s] == bits)
                sorted[n++] = (uint8_t)s;
    bitpos = 0;
    nbits = (len - 260) * 8;
    while (out->len < expect) {
        uint32_t code = 0;
        int bits = 0;
        for (;;) {
            if (bitpos >= nbits || bits >= MAX_BITS)
                return -1;
            code = (code << 1) | ((in[260 + bitpos / 8] >> (7 - bitpos % 8)) & 1);
            bitpos++;
            bits++;
            if (count[bits] && code - first[bits] < count[bits]) {
                buf_push(out, sorted[offset[bits] + code - first[bits]]);
                break;
            }
        }
    }
    return 0;
}
