/* sort.c - the sorting kernel: six algorithms on the same data must agree. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "workload.h"

typedef void (*SortFn)(uint32_t *a, size_t n);

static void insertion_sort(uint32_t *a, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        uint32_t v = a[i];
        size_t j = i;
        while (j > 0 && a[j - 1] > v) {
            a[j] = a[j - 1];
            j--;
        }
        a[j] = v;
    }
}

static void swap_u32(uint32_t *a, uint32_t *b)
{
    uint32_t t = *a;
    *a = *b;
    *b = t;
}

static uint32_t median3(uint32_t *a, size_t lo, size_t hi)
{
    size_t mid = lo + (hi - lo) / 2;
    if (a[mid] < a[lo])
        swap_u32(&a[mid], &a[lo]);
    if (a[hi] < a[lo])
        swap_u32(&a[hi], &a[lo]);
    if (a[hi] < a[mid])
        swap_u32(&a[hi], &a[mid]);
    return a[mid];
}

static void quick_sort_range(uint32_t *a, size_t lo, size_t hi)
{
    while (hi > lo + 16) {
        uint32_t pivot = median3(a, lo, hi);
        size_t i = lo, j = hi;
        for (;;) {
            while (a[i] < pivot)
                i++;
            while (a[j] > pivot)
                j--;
            if (i >= j)
                break;
            swap_u32(&a[i], &a[j]);
            i++;
            j--;
        }
        /* Recurse into the smaller half, loop on the larger. */
        if (j - lo < hi - j) {
            quick_sort_range(a, lo, j);
            lo = j + 1;
        } else {
            quick_sort_range(a, j + 1, hi);
            hi = j;
        }
    }
    insertion_sort(a + lo, hi - lo + 1);
}

static void quick_sort(uint32_t *a, size_t n)
{
    if (n > 1)
        quick_sort_range(a, 0, n - 1);
}

static void merge(uint32_t *a, uint32_t *tmp, size_t lo, size_t mid, size_t hi)
{
    size_t i = lo, j = mid, k = lo;
    while (i < mid && j < hi)
        tmp[k++] = a[j] < a[i] ? a[j++] : a[i++];
    while (i < mid)
        tmp[k++] = a[i++];
    while (j < hi)
        tmp[k++] = a[j++];
    memcpy(a + lo, tmp + lo, (hi - lo) * sizeof *a);
}

static void merge_sort(uint32_t *a, size_t n)
{
    uint32_t *tmp = malloc(n * sizeof *a + 1);
    for (size_t width = 1; width < n; width *= 2)
        for (size_t lo = 0; lo + width < n; lo += 2 * width) {
            size_t hi = lo + 2 * width < n ? lo + 2 * width : n;
            merge(a, tmp, lo, lo + width, hi);
        }
    free(tmp);
}

static void sift_down(uint32_t *a, size_t root, size_t n)
{
    for (;;) {
        size_t child = 2 * root + 1;
        if (child >= n)
            return;
        if (child + 1 < n && a[child + 1] > a[child])
            child++;
        if (a[root] >= a[child])
            return;
        swap_u32(&a[root], &a[child]);
        root = child;
    }
}

static void heap_sort(uint32_t *a, size_t n)
{
    for (size_t i = n / 2; i-- > 0;)
        sift_down(a, i, n);
    for (size_t end = n; end-- > 1;) {
        swap_u32(&a[0], &a[end]);
        sift_down(a, 0, end);
    }
}

static void shell_sort(uint32_t *a, size_t n)
{
    static const size_t gaps[] = {1750, 701, 301, 132, 57, 23, 10, 4, 1};
    for (size_t g = 0; g < sizeof gaps / sizeof gaps[0]; g++) {
        size_t gap = gaps[g];
        for (size_t i = gap; i < n; i++) {
            uint32_t v = a[i];
            size_t j = i;
            while (j >= gap && a[j - gap] > v) {
                a[j] = a[j - gap];
                j -= gap;
            }
            a[j] = v;
        }
    }
}

static void radix_sort(uint32_t *a, size_t n)
{
    uint32_t *tmp = malloc(n * sizeof *a + 1);
    for (int shift = 0; shift < 32; shift += 8) {
        size_t count[257] = {0};
        for (size_t i = 0; i < n; i++)
            count[((a[i] >> shift) & 0xFF) + 1]++;
        for (int b = 0; b < 256; b++)
            count[b + 1] += count[b];
        for (size_t i = 0; i < n; i++)
            tmp[count[(a[i] >> shift) & 0xFF]++] = a[i];
        memcpy(a, tmp, n * sizeof *a);
    }
    free(tmp);
}

static int cmp_u32(const void *x, const void *y)
{
    uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;
    return (a > b) - (a < b);
}

static void libc_qsort(uint32_t *a, size_t n)
{
    qsort(a, n, sizeof *a, cmp_u32);
}

static int is_sorted(const uint32_t *a, size_t n)
{
    for (size_t i = 1; i < n; i++)
        if (a[i - 1] > a[i])
            return 0;
    return 1;
}

uint32_t run_sort(int scale)
{
    static const struct {
        const char *name;
        SortFn fn;
        int quadratic;
    } algos[] = {
        {"quick", quick_sort, 0}, {"merge", merge_sort, 0}, {"heap", heap_sort, 0},
        {"shell", shell_sort, 0}, {"radix", radix_sort, 0}, {"qsort", libc_qsort, 0},
        {"insertion", insertion_sort, 1},
    };
    size_t n = (size_t)scale * 20000;
    uint32_t *orig = malloc(n * sizeof *orig), *work = malloc(n * sizeof *work);
    uint32_t reference = 0, sum = 0;
    int agree = 0, count = (int)(sizeof algos / sizeof algos[0]);
    Rng r;
    rng_seed(&r, 1234);
    for (size_t i = 0; i < n; i++)
        orig[i] = rng_below(&r, 1000000);
    for (int k = 0; k < count; k++) {
        size_t m = algos[k].quadratic ? n / 8 : n;
        uint32_t h;
        memcpy(work, orig, n * sizeof *work);
        algos[k].fn(work, m);
        h = fnv1a(work, m * sizeof *work);
        if (!algos[k].quadratic) {
            if (k == 0)
                reference = h;
            agree += is_sorted(work, m) && h == reference;
        } else {
            agree += is_sorted(work, m);
        }
        sum = mix32(sum, h);
    }
    printf("sort: %zu keys, %d/%d algorithms sorted and agree, first eighth spans %u..%u\n", n, agree,
           count, (unsigned)work[0], (unsigned)work[n / 8 - 1]);
    free(orig);
    free(work);
    return sum;
}
