/* hashmap.c - open-addressing string -> count map; the kernel counts words. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "workload.h"

typedef struct {
    char *key;
    uint32_t hash;
    uint32_t count;
} Slot;

typedef struct {
    Slot *slots;
    size_t cap; /* power of two */
    size_t len;
} Map;

static void map_init(Map *m, size_t cap)
{
    m->cap = cap;
    m->len = 0;
    m->slots = calloc(cap, sizeof *m->slots);
}

static void map_free(Map *m)
{
    for (size_t i = 0; i < m->cap; i++)
        free(m->slots[i].key);
    free(m->slots);
}

static Slot *map_find_slot(Slot *slots, size_t cap, const char *key, size_t len, uint32_t h)
{
    size_t i = h & (cap - 1);
    for (;;) {
        Slot *s = &slots[i];
        if (!s->key || (s->hash == h && strncmp(s->key, key, len) == 0 && s->key[len] == '\0'))
            return s;
        i = (i + 1) & (cap - 1);
    }
}

static void map_grow(Map *m)
{
    size_t cap = m->cap * 2;
    Slot *slots = calloc(cap, sizeof *slots);
    for (size_t i = 0; i < m->cap; i++) {
        Slot *old = &m->slots[i];
        if (old->key)
            *map_find_slot(slots, cap, old->key, strlen(old->key), old->hash) = *old;
    }
    free(m->slots);
    m->slots = slots;
    m->cap = cap;
}

static void map_add(Map *m, const char *key, size_t len, uint32_t amount)
{
    uint32_t h = fnv1a(key, len);
    Slot *s;
    if ((m->len + 1) * 4 > m->cap * 3)
        map_grow(m);
    s = map_find_slot(m->slots, m->cap, key, len, h);
    if (!s->key) {
        s->key = malloc(len + 1);
        memcpy(s->key, key, len);
        s->key[len] = '\0';
        s->hash = h;
        m->len++;
    }
    s->count += amount;
}

static uint32_t map_get(const Map *m, const char *key)
{
    size_t len = strlen(key);
    Slot *s = map_find_slot(m->slots, m->cap, key, len, fnv1a(key, len));
    return s->key ? s->count : 0;
}

static int is_word_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static char lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

/* Counts words and also bigrams ("a b") to exercise longer keys. */
static size_t count_words(Map *m, const char *text)
{
    char word[64], prev[64] = "", pair[130];
    size_t words = 0;
    const char *p = text;
    while (*p) {
        size_t n = 0;
        while (*p && !is_word_char(*p))
            p++;
        while (*p && is_word_char(*p)) {
            if (n < sizeof word - 1)
                word[n++] = lower(*p);
            p++;
        }
        if (n == 0)
            break;
        word[n] = '\0';
        map_add(m, word, n, 1);
        if (prev[0]) {
            int k = snprintf(pair, sizeof pair, "%s %s", prev, word);
            map_add(m, pair, (size_t)k, 1);
        }
        memcpy(prev, word, n + 1);
        words++;
    }
    return words;
}

typedef struct {
    const char *key;
    uint32_t count;
} Entry;

static int entry_cmp(const void *x, const void *y)
{
    const Entry *a = x, *b = y;
    if (a->count != b->count)
        return a->count < b->count ? 1 : -1;
    return strcmp(a->key, b->key);
}

uint32_t run_hashmap(int scale)
{
    size_t cap = (size_t)scale * 64 * 1024;
    char *text = malloc(cap);
    Map m;
    Entry *entries;
    size_t words, n = 0;
    uint32_t sum = 0;
    text_generate(text, cap, 99);
    map_init(&m, 16);
    words = count_words(&m, text);
    entries = malloc(m.len * sizeof *entries);
    for (size_t i = 0; i < m.cap; i++)
        if (m.slots[i].key)
            entries[n++] = (Entry){m.slots[i].key, m.slots[i].count};
    qsort(entries, n, sizeof *entries, entry_cmp);
    for (size_t i = 0; i < n; i++)
        sum = mix32(sum, fnv1a(entries[i].key, strlen(entries[i].key)) + entries[i].count);
    printf("hashmap: %zu words, %zu distinct keys, top \"%s\" x%u, \"the cache\" x%u\n", words, n,
           entries[0].key, (unsigned)entries[0].count, (unsigned)map_get(&m, "the cache"));
    free(entries);
    map_free(&m);
    free(text);
    return sum;
}
