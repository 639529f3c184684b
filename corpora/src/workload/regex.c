/* regex.c - a small backtracking matcher for a regex subset:
 * literals, '.', character classes [a-z] and [^...], anchors ^ $,
 * and the postfix operators * + ? applied to the previous item. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "workload.h"

typedef struct {
    enum { R_CHAR, R_ANY, R_CLASS } kind;
    char c;
    int negated;
    uint8_t set[32]; /* bitmap for classes */
    char rep;        /* 0, '*', '+' or '?' */
} Item;

typedef struct {
    Item items[64];
    int n;
    int anchored_start, anchored_end;
} Regex;

static void set_bit(uint8_t *set, unsigned c)
{
    set[c >> 3] |= (uint8_t)(1u << (c & 7));
}

static int has_bit(const uint8_t *set, unsigned c)
{
    return (set[c >> 3] >> (c & 7)) & 1;
}

static const char *parse_class(const char *p, Item *it)
{
    it->kind = R_CLASS;
    memset(it->set, 0, sizeof it->set);
    if (*p == '^') {
        it->negated = 1;
        p++;
    }
    while (*p && *p != ']') {
        unsigned lo = (unsigned char)*p, hi = lo;
        if (p[1] == '-' && p[2] && p[2] != ']') {
            hi = (unsigned char)p[2];
            p += 2;
        }
        for (unsigned c = lo; c <= hi; c++)
            set_bit(it->set, c);
        p++;
    }
    return *p == ']' ? p + 1 : NULL;
}

static int regex_compile(Regex *re, const char *pat)
{
    memset(re, 0, sizeof *re);
    if (*pat == '^') {
        re->anchored_start = 1;
        pat++;
    }
    while (*pat) {
        Item *it;
        if (*pat == '$' && pat[1] == '\0') {
            re->anchored_end = 1;
            break;
        }
        if (re->n == 64)
            return -1;
        it = &re->items[re->n++];
        if (*pat == '.') {
            it->kind = R_ANY;
            pat++;
        } else if (*pat == '[') {
            pat = parse_class(pat + 1, it);
            if (!pat)
                return -1;
        } else {
            if (*pat == '\\' && pat[1])
                pat++;
            it->kind = R_CHAR;
            it->c = *pat++;
        }
        if (*pat == '*' || *pat == '+' || *pat == '?')
            it->rep = *pat++;
    }
    return 0;
}

static int item_matches(const Item *it, char c)
{
    if (c == '\0')
        return 0;
    switch (it->kind) {
    case R_ANY: return c != '\n';
    case R_CHAR: return it->c == c;
    default: return has_bit(it->set, (unsigned char)c) != it->negated;
    }
}

/* Returns the end of the match starting at s for items[i..], or NULL. */
static const char *match_here(const Regex *re, int i, const char *s)
{
    if (i == re->n)
        return !re->anchored_end || *s == '\0' ? s : NULL;
    const Item *it = &re->items[i];
    if (it->rep == '*' || it->rep == '+' || it->rep == '?') {
        int min = it->rep == '+', max = it->rep == '?' ? 1 : 1 << 30, count = 0;
        const char *t = s;
        while (count < max && item_matches(it, *t)) {
            t++;
            count++;
        }
        for (; count >= min; count--, t--) {
            const char *end = match_here(re, i + 1, t);
            if (end)
                return end;
            if (count == 0)
                break;
        }
        return NULL;
    }
    return item_matches(it, *s) ? match_here(re, i + 1, s + 1) : NULL;
}

/* Finds the leftmost match; stores its start and length. */
static int regex_search(const Regex *re, const char *s, size_t *start, size_t *len)
{
    const char *p = s;
    do {
        const char *end = match_here(re, 0, p);
        if (end) {
            *start = (size_t)(p - s);
            *len = (size_t)(end - p);
            return 1;
        }
    } while (!re->anchored_start && *p++);
    return 0;
}

static size_t count_matches(const Regex *re, const char *text, uint32_t *h)
{
    size_t n = 0, start, len;
    const char *p = text;
    while (*p && regex_search(re, p, &start, &len)) {
        n++;
        *h = mix32(*h, fnv1a(p + start, len));
        p += start + (len ? len : 1);
        if (re->anchored_start)
            break;
    }
    return n;
}

uint32_t run_regex(int scale)
{
    static const char *patterns[] = {
        "cache", "c[a-z]*e", "^[A-Z][a-z]+", "[^a-z ,.\n]+", "the [a-z]+ of", "mem?ory",
        "gu.rd", "[a-z]+ing", "s[aeiou]+[a-z]", "\\.$",
    };
    size_t cap = (size_t)scale * 24 * 1024, total = 0;
    char *text = malloc(cap), *line;
    uint32_t h = 0;
    text_generate(text, cap, 4242);
    char counts[128] = "";
    for (size_t k = 0; k < sizeof patterns / sizeof patterns[0]; k++) {
        Regex re;
        size_t n = 0;
        char num[16];
        if (regex_compile(&re, patterns[k]) != 0)
            continue;
        /* Line by line, so ^ and $ mean line boundaries. */
        line = text;
        while (*line) {
            char *nl = strchr(line, '\n');
            if (nl)
                *nl = '\0';
            n += count_matches(&re, line, &h);
            if (!nl)
                break;
            *nl = '\n';
            line = nl + 1;
        }
        total += n;
        snprintf(num, sizeof num, "%s%zu", k ? " " : "", n);
        strncat(counts, num, sizeof counts - strlen(counts) - 1);
    }
    printf("regex: %zu matches [%s]\n", total, counts);
    free(text);
    return h;
}
