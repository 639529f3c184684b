/* bigint.c - arbitrary-precision unsigned integers in base 10^9:
 * addition, multiplication, small division, factorials, Fibonacci numbers
 * and a digit-sum check of 2^N. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "workload.h"

#define BASE 1000000000u

typedef struct {
    uint32_t *limb; /* little-endian limbs, each < BASE */
    size_t len, cap;
} Big;

static void big_init(Big *b, uint32_t v)
{
    b->cap = 8;
    b->limb = malloc(b->cap * sizeof *b->limb);
    b->limb[0] = v % BASE;
    b->len = 1;
    if (v >= BASE)
        b->limb[b->len++] = v / BASE;
}

static void big_free(Big *b)
{
    free(b->limb);
}

static void big_reserve(Big *b, size_t len)
{
    if (len <= b->cap)
        return;
    while (b->cap < len)
        b->cap *= 2;
    b->limb = realloc(b->limb, b->cap * sizeof *b->limb);
}

static void big_trim(Big *b)
{
    while (b->len > 1 && b->limb[b->len - 1] == 0)
        b->len--;
}

static void big_copy(Big *dst, const Big *src)
{
    big_reserve(dst, src->len);
    memcpy(dst->limb, src->limb, src->len * sizeof *src->limb);
    dst->len = src->len;
}

/* a += b */
static void big_add(Big *a, const Big *b)
{
    uint32_t carry = 0;
    size_t n = a->len > b->len ? a->len : b->len;
    big_reserve(a, n + 1);
    for (size_t i = a->len; i < n + 1; i++)
        a->limb[i] = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t s = a->limb[i] + (i < b->len ? b->limb[i] : 0) + carry;
        carry = s >= BASE;
        a->limb[i] = carry ? s - BASE : s;
    }
    a->limb[n] = carry;
    a->len = n + 1;
    big_trim(a);
}

/* a *= small */
static void big_mul_small(Big *a, uint32_t m)
{
    uint64_t carry = 0;
    for (size_t i = 0; i < a->len; i++) {
        uint64_t v = (uint64_t)a->limb[i] * m + carry;
        a->limb[i] = (uint32_t)(v % BASE);
        carry = v / BASE;
    }
    while (carry) {
        big_reserve(a, a->len + 1);
        a->limb[a->len++] = (uint32_t)(carry % BASE);
        carry /= BASE;
    }
}

/* out = a * b (schoolbook) */
static void big_mul(Big *out, const Big *a, const Big *b)
{
    size_t n = a->len + b->len;
    uint64_t *acc = calloc(n + 1, sizeof *acc);
    for (size_t i = 0; i < a->len; i++) {
        uint64_t carry = 0;
        for (size_t j = 0; j < b->len; j++) {
            uint64_t v = acc[i + j] + (uint64_t)a->limb[i] * b->limb[j] + carry;
            acc[i + j] = v % BASE;
            carry = v / BASE;
        }
        acc[i + b->len] += carry;
    }
    big_reserve(out, n);
    for (size_t i = 0; i < n; i++)
        out->limb[i] = (uint32_t)acc[i];
    out->len = n;
    big_trim(out);
    free(acc);
}

/* a /= d, returns the remainder */
static uint32_t big_div_small(Big *a, uint32_t d)
{
    uint64_t rem = 0;
    for (size_t i = a->len; i-- > 0;) {
        uint64_t cur = rem * BASE + a->limb[i];
        a->limb[i] = (uint32_t)(cur / d);
        rem = cur % d;
    }
    big_trim(a);
    return (uint32_t)rem;
}

static size_t big_digits(const Big *a)
{
    size_t n = (a->len - 1) * 9;
    for (uint32_t top = a->limb[a->len - 1]; top; top /= 10)
        n++;
    return n ? n : 1;
}

static uint32_t big_digit_sum(const Big *a)
{
    uint32_t s = 0;
    for (size_t i = 0; i < a->len; i++)
        for (uint32_t v = a->limb[i]; v; v /= 10)
            s += v % 10;
    return s;
}

static void big_leading(const Big *a, char *out, size_t n)
{
    char buf[32];
    size_t i = a->len - 1;
    snprintf(out, n + 1, "%u", (unsigned)a->limb[i]);
    while (strlen(out) < n && i-- > 0) {
        snprintf(buf, sizeof buf, "%09u", (unsigned)a->limb[i]);
        strncat(out, buf, n - strlen(out));
    }
}

uint32_t run_bigint(int scale)
{
    Big fact, fa, fb, pow2, sq, tmp;
    uint32_t n_fact = 300 * (uint32_t)scale, n_fib = 1000 * (uint32_t)scale, rem;
    char lead[24];
    uint32_t h;
    big_init(&fact, 1);
    for (uint32_t i = 2; i <= n_fact; i++)
        big_mul_small(&fact, i);
    big_init(&fa, 0);
    big_init(&fb, 1);
    big_init(&tmp, 0);
    for (uint32_t i = 0; i < n_fib; i++) {
        big_copy(&tmp, &fb);
        big_add(&fb, &fa);
        big_copy(&fa, &tmp);
    }
    big_init(&pow2, 1);
    for (uint32_t i = 0; i < 1000; i++)
        big_mul_small(&pow2, 2);
    big_init(&sq, 0);
    big_mul(&sq, &fa, &fa);
    big_leading(&fact, lead, 12);
    printf("bigint: %u! has %zu digits (%s...), fib(%u) has %zu digits, 2^1000 digit sum %u\n",
           (unsigned)n_fact, big_digits(&fact), lead, (unsigned)n_fib, big_digits(&fa),
           (unsigned)big_digit_sum(&pow2));
    rem = big_div_small(&sq, 1000003);
    h = mix32(big_digit_sum(&fact), big_digit_sum(&sq) ^ rem);
    big_free(&fact);
    big_free(&fa);
    big_free(&fb);
    big_free(&pow2);
    big_free(&sq);
    big_free(&tmp);
    return h;
}
