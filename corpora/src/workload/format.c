/* format.c - string formatting: hand-written integer/fixed-point conversion,
 * a string builder, padding and a table layout, cross-checked against snprintf. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "workload.h"

typedef struct {
    char *s;
    size_t len, cap;
} Str;

static void str_reserve(Str *b, size_t extra)
{
    if (b->len + extra + 1 <= b->cap)
        return;
    while (b->len + extra + 1 > b->cap)
        b->cap = b->cap ? b->cap * 2 : 64;
    b->s = realloc(b->s, b->cap);
}

static void str_putc(Str *b, char c)
{
    str_reserve(b, 1);
    b->s[b->len++] = c;
    b->s[b->len] = '\0';
}

static void str_puts(Str *b, const char *s)
{
    size_t n = strlen(s);
    str_reserve(b, n);
    memcpy(b->s + b->len, s, n + 1);
    b->len += n;
}

static void str_pad(Str *b, const char *s, int width, int left)
{
    int n = (int)strlen(s);
    if (!left)
        for (int i = n; i < width; i++)
            str_putc(b, ' ');
    str_puts(b, s);
    if (left)
        for (int i = n; i < width; i++)
            str_putc(b, ' ');
}

/* Unsigned to text in any base 2..36. */
static size_t utoa_base(uint64_t v, unsigned base, char *out)
{
    char tmp[65];
    size_t n = 0;
    do {
        unsigned d = (unsigned)(v % base);
        tmp[n++] = (char)(d < 10 ? '0' + d : 'a' + d - 10);
        v /= base;
    } while (v);
    for (size_t i = 0; i < n; i++)
        out[i] = tmp[n - 1 - i];
    out[n] = '\0';
    return n;
}

static size_t itoa10(int64_t v, char *out)
{
    if (v < 0) {
        out[0] = '-';
        return 1 + utoa_base((uint64_t)0 - (uint64_t)v, 10, out + 1);
    }
    return utoa_base((uint64_t)v, 10, out);
}

/* Integer with thousands separators: 1234567 -> "1,234,567". */
static void group_thousands(int64_t v, char *out)
{
    char digits[32];
    size_t n = utoa_base(v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v, 10, digits), k = 0;
    if (v < 0)
        out[k++] = '-';
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && (n - i) % 3 == 0)
            out[k++] = ',';
        out[k++] = digits[i];
    }
    out[k] = '\0';
}

/* Fixed point with `places` decimals from a value scaled by 10^places. */
static void fixed_point(int64_t scaled, int places, char *out)
{
    int64_t div = 1;
    char frac[32];
    for (int i = 0; i < places; i++)
        div *= 10;
    size_t n = itoa10(scaled / div, out);
    if (scaled < 0 && scaled / div == 0) {
        memmove(out + 1, out, n + 1);
        out[0] = '-';
        n++;
    }
    out[n++] = '.';
    int64_t f = scaled % div;
    utoa_base((uint64_t)(f < 0 ? -f : f), 10, frac);
    for (int i = (int)strlen(frac); i < places; i++)
        out[n++] = '0';
    strcpy(out + n, frac);
}

static void human_bytes(uint64_t bytes, char *out, size_t cap)
{
    static const char *units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int u = 0;
    uint64_t whole = bytes, tenth = 0;
    while (whole >= 1024 && u < 4) {
        tenth = (whole % 1024) * 10 / 1024;
        whole /= 1024;
        u++;
    }
    if (u == 0)
        snprintf(out, cap, "%llu %s", (unsigned long long)whole, units[u]);
    else
        snprintf(out, cap, "%llu.%llu %s", (unsigned long long)whole, (unsigned long long)tenth,
                 units[u]);
}

static int check_against_printf(Rng *r, int rounds)
{
    char mine[80], theirs[80];
    int ok = 0;
    for (int i = 0; i < rounds; i++) {
        uint64_t hi = rng_next(r);
        int64_t v = (int64_t)(hi << 32 | rng_next(r));
        unsigned base = i % 3 == 0 ? 16 : (i % 3 == 1 ? 8 : 10);
        itoa10(v, mine);
        snprintf(theirs, sizeof theirs, "%lld", (long long)v);
        ok += strcmp(mine, theirs) == 0;
        utoa_base((uint64_t)v, base, mine);
        snprintf(theirs, sizeof theirs, base == 16 ? "%llx" : base == 8 ? "%llo" : "%llu",
                 (unsigned long long)v);
        ok += strcmp(mine, theirs) == 0;
    }
    return ok;
}

uint32_t run_format(int scale)
{
    Str table = {NULL, 0, 0};
    Rng r;
    char cell[64];
    int rows = 200 * scale, agree;
    rng_seed(&r, 555);
    agree = check_against_printf(&r, 2000 * scale);
    str_pad(&table, "name", 12, 1);
    str_pad(&table, "count", 16, 0);
    str_pad(&table, "ratio", 12, 0);
    str_pad(&table, "size", 12, 0);
    str_putc(&table, '\n');
    for (int i = 0; i < rows; i++) {
        str_pad(&table, text_word(rng_below(&r, (uint32_t)text_word_count())), 12, 1);
        group_thousands((int64_t)rng_next(&r) * (i % 2 ? -1 : 1), cell);
        str_pad(&table, cell, 16, 0);
        fixed_point((int64_t)rng_below(&r, 2000000) - 1000000, 4, cell);
        str_pad(&table, cell, 12, 0);
        human_bytes((uint64_t)rng_next(&r) << (i % 20), cell, sizeof cell);
        str_pad(&table, cell, 12, 0);
        str_putc(&table, '\n');
    }
    group_thousands(-1234567890123LL, cell);
    printf("format: %d/%d conversions match printf, %zu table bytes, %s\n", agree,
           4000 * scale, table.len, cell);
    uint32_t h = fnv1a(table.s, table.len);
    free(table.s);
    return h;
}
