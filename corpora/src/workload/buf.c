/* buf.c - a growable byte buffer; aborts on allocation failure. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "workload.h"

static void buf_reserve(Buf *b, size_t need)
{
    size_t cap = b->cap ? b->cap : 64;
    if (need <= b->cap)
        return;
    while (cap < need)
        cap *= 2;
    b->data = realloc(b->data, cap);
    if (!b->data) {
        fputs("out of memory\n", stderr);
        exit(2);
    }
    b->cap = cap;
}

void buf_init(Buf *b, size_t cap)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    buf_reserve(b, cap);
}

void buf_push(Buf *b, uint8_t byte)
{
    if (b->len == b->cap)
        buf_reserve(b, b->len + 1);
    b->data[b->len++] = byte;
}

void buf_append(Buf *b, const void *data, size_t len)
{
    buf_reserve(b, b->len + len);
    memcpy(b->data + b->len, data, len);
    b->len += len;
}

void buf_free(Buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}
