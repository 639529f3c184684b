/* text.c - generates deterministic pseudo-English text from a fixed vocabulary.
 * Word choice follows a skewed distribution so the text compresses like prose. */
#include <string.h>

#include "workload.h"

static const char *const words[] = {
    "the", "of", "and", "to", "in", "a", "is", "that", "for", "it",
    "as", "was", "with", "be", "by", "on", "not", "he", "this", "are",
    "or", "his", "from", "at", "which", "but", "have", "an", "had", "they",
    "you", "were", "their", "one", "all", "we", "can", "her", "has", "there",
    "been", "if", "more", "when", "will", "would", "who", "so", "no", "module",
    "compile", "cache", "function", "memory", "table", "global", "import", "export",
    "section", "runtime", "engine", "phase", "hash", "signal", "trap", "stack",
    "register", "branch", "loop", "block", "value", "type", "instance", "linear",
    "page", "guard", "code", "image", "artifact", "header", "version", "checksum",
    "river", "mountain", "winter", "garden", "harbour", "lantern", "meadow", "orchard",
    "quiet", "bright", "ancient", "narrow", "distant", "golden", "hollow", "silver",
};

size_t text_word_count(void)
{
    return sizeof words / sizeof words[0];
}

const char *text_word(size_t index)
{
    return words[index % text_word_count()];
}

/* Zipf-like: small indices are much more likely than large ones. */
static size_t pick_word(Rng *r)
{
    uint32_t a = rng_below(r, (uint32_t)text_word_count());
    uint32_t b = rng_below(r, (uint32_t)text_word_count());
    return a < b ? a : b;
}

static size_t put(char *out, size_t at, size_t cap, const char *s)
{
    size_t n = strlen(s);
    if (at + n >= cap)
        return at;
    memcpy(out + at, s, n);
    return at + n;
}

/* Fills out with sentences until it is nearly full; returns the length. */
size_t text_generate(char *out, size_t cap, uint64_t seed)
{
    Rng r;
    size_t at = 0;
    int sentence_len = 0;
    rng_seed(&r, seed);
    while (at + 24 < cap) {
        const char *w = text_word(pick_word(&r));
        if (sentence_len == 0 && at + 1 < cap) {
            char cap_word[32];
            size_t n = strlen(w);
            memcpy(cap_word, w, n + 1);
            cap_word[0] = (char)(cap_word[0] - 'a' + 'A');
            at = put(out, at, cap, cap_word);
        } else {
            at = put(out, at, cap, w);
        }
        sentence_len++;
        if (sentence_len > 6 && rng_below(&r, 8) == 0) {
            at = put(out, at, cap, rng_below(&r, 5) == 0 ? ".\n" : ". ");
            sentence_len = 0;
        } else if (rng_below(&r, 12) == 0) {
            at = put(out, at, cap, ", ");
        } else {
            at = put(out, at, cap, " ");
        }
    }
    out[at] = '\0';
    return at;
}
