/* json.c - a small JSON tokenizer, recursive-descent parser and serializer.
 * The kernel generates a document, parses it, walks the tree, re-serializes it
 * and parses the result again: both serializations must be identical. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "workload.h"

typedef enum { J_NULL, J_BOOL, J_NUM, J_STR, J_ARR, J_OBJ } JType;

typedef struct JValue JValue;
struct JValue {
    JType type;
    int64_t num; /* integers only: keeps output exact across platforms */
    char *str;   /* string value */
    char *key;   /* member name when inside an object */
    JValue *child, *next;
};

typedef enum { T_EOF, T_LBRACE, T_RBRACE, T_LBRACKET, T_RBRACKET, T_COLON, T_COMMA,
               T_STRING, T_NUMBER, T_TRUE, T_FALSE, T_NULL, T_ERROR } TokKind;

typedef struct {
    const char *src;
    size_t pos;
    TokKind kind;
    const char *start;
    size_t len;
} Lexer;

static void skip_space(Lexer *lx)
{
    while (lx->src[lx->pos] == ' ' || lx->src[lx->pos] == '\n' || lx->src[lx->pos] == '\t' ||
           lx->src[lx->pos] == '\r')
        lx->pos++;
}

static int match_word(Lexer *lx, const char *w, TokKind kind)
{
    size_t n = strlen(w);
    if (strncmp(lx->src + lx->pos, w, n) != 0)
        return 0;
    lx->kind = kind;
    lx->pos += n;
    return 1;
}

static void lex_next(Lexer *lx)
{
    char c;
    skip_space(lx);
    lx->start = lx->src + lx->pos;
    lx->len = 0;
    c = lx->src[lx->pos];
    switch (c) {
    case '\0': lx->kind = T_EOF; return;
    case '{': lx->kind = T_LBRACE; lx->pos++; return;
    case '}': lx->kind = T_RBRACE; lx->pos++; return;
    case '[': lx->kind = T_LBRACKET; lx->pos++; return;
    case ']': lx->kind = T_RBRACKET; lx->pos++; return;
    case ':': lx->kind = T_COLON; lx->pos++; return;
    case ',': lx->kind = T_COMMA; lx->pos++; return;
    case '"': {
        size_t p = lx->pos + 1;
        while (lx->src[p] && lx->src[p] != '"') {
            if (lx->src[p] == '\\' && lx->src[p + 1])
                p++;
            p++;
        }
        if (!lx->src[p]) {
            lx->kind = T_ERROR;
            return;
        }
        lx->kind = T_STRING;
        lx->start = lx->src + lx->pos + 1;
        lx->len = p - lx->pos - 1;
        lx->pos = p + 1;
        return;
    }
    default:
        if (c == '-' || (c >= '0' && c <= '9')) {
            size_t p = lx->pos + 1;
            while (lx->src[p] >= '0' && lx->src[p] <= '9')
                p++;
            lx->kind = T_NUMBER;
            lx->len = p - lx->pos;
            lx->pos = p;
            return;
        }
        if (match_word(lx, "true", T_TRUE) || match_word(lx, "false", T_FALSE) ||
            match_word(lx, "null", T_NULL))
            return;
        lx->kind = T_ERROR;
    }
}

static char *unescape(const char *s, size_t len)
{
    char *out = malloc(len + 1);
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (c == '\\' && i + 1 < len) {
            c = s[++i];
            if (c == 'n')
                c = '\n';
            else if (c == 't')
                c = '\t';
        }
        out[n++] = c;
    }
    out[n] = '\0';
    return out;
}

static JValue *new_value(JType type)
{
    JValue *v = calloc(1, sizeof *v);
    v->type = type;
    return v;
}

static JValue *parse_value(Lexer *lx, int depth);

static JValue *parse_container(Lexer *lx, int depth, int is_object)
{
    JValue *v = new_value(is_object ? J_OBJ : J_ARR), **tail = &v->child;
    TokKind close = is_object ? T_RBRACE : T_RBRACKET;
    lex_next(lx);
    if (lx->kind == close) {
        lex_next(lx);
        return v;
    }
    for (;;) {
        char *key = NULL;
        JValue *item;
        if (is_object) {
            if (lx->kind != T_STRING)
                return NULL;
            key = unescape(lx->start, lx->len);
            lex_next(lx);
            if (lx->kind != T_COLON)
                return NULL;
            lex_next(lx);
        }
        item = parse_value(lx, depth + 1);
        if (!item)
            return NULL;
        item->key = key;
        *tail = item;
        tail = &item->next;
        if (lx->kind == T_COMMA) {
            lex_next(lx);
            continue;
        }
        if (lx->kind != close)
            return NULL;
        lex_next(lx);
        return v;
    }
}

static JValue *parse_value(Lexer *lx, int depth)
{
    JValue *v;
    if (depth > 64)
        return NULL;
    switch (lx->kind) {
    case T_LBRACE: return parse_container(lx, depth, 1);
    case T_LBRACKET: return parse_container(lx, depth, 0);
    case T_STRING:
        v = new_value(J_STR);
        v->str = unescape(lx->start, lx->len);
        break;
    case T_NUMBER:
        v = new_value(J_NUM);
        v->num = strtoll(lx->start, NULL, 10);
        break;
    case T_TRUE: case T_FALSE:
        v = new_value(J_BOOL);
        v->num = lx->kind == T_TRUE;
        break;
    case T_NULL: v = new_value(J_NULL); break;
    default: return NULL;
    }
    lex_next(lx);
    return v;
}

static JValue *parse(const char *src)
{
    Lexer lx = {src, 0, T_EOF, NULL, 0};
    JValue *v;
    lex_next(&lx);
    v = parse_value(&lx, 0);
    return v && lx.kind == T_EOF ? v : NULL;
}

static void free_value(JValue *v)
{
    while (v) {
        JValue *next = v->next;
        free_value(v->child);
        free(v->str);
        free(v->key);
        free(v);
        v = next;
    }
}

static void emit_string(Buf *out, const char *s)
{
    buf_push(out, '"');
    for (; *s; s++) {
        if (*s == '"' || *s == '\\') {
            buf_push(out, '\\');
            buf_push(out, (uint8_t)*s);
        } else if (*s == '\n') {
            buf_append(out, "\\n", 2);
        } else {
            buf_push(out, (uint8_t)*s);
        }
    }
    buf_push(out, '"');
}

static void emit_value(Buf *out, const JValue *v)
{
    char num[32];
    int n;
    switch (v->type) {
    case J_NULL: buf_append(out, "null", 4); break;
    case J_BOOL: buf_append(out, v->num ? "true" : "false", v->num ? 4 : 5); break;
    case J_NUM:
        n = snprintf(num, sizeof num, "%lld", (long long)v->num);
        buf_append(out, num, (size_t)n);
        break;
    case J_STR: emit_string(out, v->str); break;
    case J_ARR:
    case J_OBJ:
        buf_push(out, v->type == J_ARR ? '[' : '{');
        for (const JValue *c = v->child; c; c = c->next) {
            if (c != v->child)
                buf_push(out, ',');
            if (v->type == J_OBJ) {
                emit_string(out, c->key);
                buf_push(out, ':');
            }
            emit_value(out, c);
        }
        buf_push(out, v->type == J_ARR ? ']' : '}');
        break;
    }
}

typedef struct {
    size_t nodes, strings, max_depth;
    int64_t number_sum;
} Stats;

static void walk(const JValue *v, size_t depth, Stats *st)
{
    for (; v; v = v->next) {
        st->nodes++;
        if (depth > st->max_depth)
            st->max_depth = depth;
        if (v->type == J_NUM)
            st->number_sum += v->num;
        if (v->type == J_STR)
            st->strings++;
        walk(v->child, depth + 1, st);
    }
}

static const JValue *member(const JValue *obj, const char *key)
{
    for (const JValue *c = obj ? obj->child : NULL; c; c = c->next)
        if (c->key && strcmp(c->key, key) == 0)
            return c;
    return NULL;
}

static int count_children(const JValue *v)
{
    int n = 0;
    for (const JValue *c = v ? v->child : NULL; c; c = c->next)
        n++;
    return n;
}

/* Generates a document of records with nested arrays and escaped strings. */
static void generate_doc(Buf *out, int records, Rng *r)
{
    char tmp[160];
    static const char head[] = "{\"format\": \"wasm-prof-records\", \"version\": 3,\n \"records\": [\n";
    buf_append(out, head, sizeof head - 1);
    for (int i = 0; i < records; i++) {
        /* One draw per statement: argument evaluation order is unspecified in C. */
        const char *first = text_word(rng_below(r, 100));
        const char *second = text_word(rng_below(r, 100));
        int score = (int)rng_below(r, 20001) - 10000;
        const char *active = rng_below(r, 2) ? "true" : "false";
        int n = snprintf(tmp, sizeof tmp,
                         "  {\"id\": %d, \"name\": \"%s \\\"%s\\\"\", \"score\": %d, "
                         "\"active\": %s, \"tags\": [",
                         i, first, second, score, active);
        buf_append(out, tmp, (size_t)n);
        for (uint32_t t = 0, k = rng_below(r, 5); t < k; t++) {
            n = snprintf(tmp, sizeof tmp, "%s\"%s\"", t ? ", " : "", text_word(rng_below(r, 100)));
            buf_append(out, tmp, (size_t)n);
        }
        n = snprintf(tmp, sizeof tmp, "], \"parent\": %s}%s\n",
                     i > 0 && rng_below(r, 3) == 0 ? "{\"ref\": 1}" : "null",
                     i + 1 < records ? "," : "");
        buf_append(out, tmp, (size_t)n);
    }
    buf_append(out, " ]\n}\n", 6);
    buf_push(out, '\0');
}

uint32_t run_json(int scale)
{
    Buf doc, once, twice;
    Rng r;
    Stats st = {0, 0, 0, 0};
    JValue *tree, *again;
    int same;
    const JValue *records;
    rng_seed(&r, 2024);
    buf_init(&doc, 1024);
    buf_init(&once, 1024);
    buf_init(&twice, 1024);
    generate_doc(&doc, 1500 * scale, &r);
    tree = parse((const char *)doc.data);
    if (!tree) {
        printf("json: parse FAILED\n");
        return 0;
    }
    walk(tree, 0, &st);
    emit_value(&once, tree);
    buf_push(&once, '\0');
    again = parse((const char *)once.data);
    if (again)
        emit_value(&twice, again);
    buf_push(&twice, '\0');
    same = again && once.len == twice.len && memcmp(once.data, twice.data, once.len) == 0;
    records = member(tree, "records");
    printf("json: %zu bytes, %zu nodes, %zu strings, depth %zu, score sum %lld, "
           "records %d, reserialize %s\n",
           doc.len - 1, st.nodes, st.strings, st.max_depth, (long long)st.number_sum,
           count_children(records),
           same ? "ok" : "FAILED");
    uint32_t sum = mix32(fnv1a(once.data, once.len), (uint32_t)st.nodes);
    free_value(tree);
    free_value(again);
    buf_free(&doc);
    buf_free(&once);
    buf_free(&twice);
    return sum;
}
