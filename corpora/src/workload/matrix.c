/* matrix.c - dense linear algebra in doubles: multiply, LU with partial pivoting,
 * solve and determinant. Only + - * / and sqrt are used, which IEEE 754 rounds
 * exactly, so results are bit-identical across platforms. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>

#include "workload.h"

typedef struct {
    int n;
    double *a; /* row-major n*n */
} Matrix;

static Matrix mat_new(int n)
{
    Matrix m = {n, calloc((size_t)n * (size_t)n, sizeof(double))};
    return m;
}

static double *at(Matrix *m, int i, int j)
{
    return &m->a[(size_t)i * (size_t)m->n + (size_t)j];
}

static void mat_fill(Matrix *m, Rng *r)
{
    for (int i = 0; i < m->n; i++)
        for (int j = 0; j < m->n; j++)
            *at(m, i, j) = rng_unit(r) - 0.5 + (i == j ? 4.0 : 0.0);
}

/* Blocked i-k-j multiply. */
static void mat_mul(Matrix *c, Matrix *a, Matrix *b)
{
    const int bs = 16;
    int n = a->n;
    memset(c->a, 0, sizeof(double) * (size_t)n * (size_t)n);
    for (int ii = 0; ii < n; ii += bs)
        for (int kk = 0; kk < n; kk += bs)
            for (int i = ii; i < ii + bs && i < n; i++)
                for (int k = kk; k < kk + bs && k < n; k++) {
                    double aik = *at(a, i, k);
                    for (int j = 0; j < n; j++)
                        *at(c, i, j) += aik * *at(b, k, j);
                }
}

/* In-place LU decomposition; perm receives the row order. Returns the sign of
 * the permutation, or 0 if the matrix is singular. */
static int lu_decompose(Matrix *m, int *perm)
{
    int n = m->n, sign = 1;
    for (int i = 0; i < n; i++)
        perm[i] = i;
    for (int k = 0; k < n; k++) {
        int p = k;
        double best = fabs(*at(m, k, k));
        for (int i = k + 1; i < n; i++)
            if (fabs(*at(m, i, k)) > best) {
                best = fabs(*at(m, i, k));
                p = i;
            }
        if (best == 0.0)
            return 0;
        if (p != k) {
            for (int j = 0; j < n; j++) {
                double t = *at(m, k, j);
                *at(m, k, j) = *at(m, p, j);
                *at(m, p, j) = t;
            }
            int t = perm[k];
            perm[k] = perm[p];
            perm[p] = t;
            sign = -sign;
        }
        for (int i = k + 1; i < n; i++) {
            double f = *at(m, i, k) / *at(m, k, k);
            *at(m, i, k) = f;
            for (int j = k + 1; j < n; j++)
                *at(m, i, j) -= f * *at(m, k, j);
        }
    }
    return sign;
}

static void lu_solve(Matrix *lu, const int *perm, const double *b, double *x)
{
    int n = lu->n;
    for (int i = 0; i < n; i++) {
        double s = b[perm[i]];
        for (int j = 0; j < i; j++)
            s -= *at(lu, i, j) * x[j];
        x[i] = s;
    }
    for (int i = n - 1; i >= 0; i--) {
        double s = x[i];
        for (int j = i + 1; j < n; j++)
            s -= *at(lu, i, j) * x[j];
        x[i] = s / *at(lu, i, i);
    }
}

static double log2_det_magnitude(Matrix *lu)
{
    /* Tracks the determinant as mantissa * 2^exp without libm's log. */
    double mant = 1.0;
    int exp = 0;
    for (int i = 0; i < lu->n; i++) {
        mant *= fabs(*at(lu, i, i));
        while (mant >= 2.0) {
            mant /= 2.0;
            exp++;
        }
        while (mant < 1.0 && mant > 0.0) {
            mant *= 2.0;
            exp--;
        }
    }
    return (double)exp + (mant - 1.0); /* a monotone, portable stand-in for log2 */
}

static uint32_t hash_doubles(const double *v, size_t n)
{
    uint32_t h = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t bits;
        memcpy(&bits, &v[i], sizeof bits);
        h = mix32(h, (uint32_t)bits ^ (uint32_t)(bits >> 32));
    }
    return h;
}

uint32_t run_matrix(int scale)
{
    int n = 48 + 16 * scale;
    Matrix a = mat_new(n), b = mat_new(n), c = mat_new(n), lu = mat_new(n);
    double *rhs = malloc(sizeof(double) * (size_t)n), *x = malloc(sizeof(double) * (size_t)n);
    int *perm = malloc(sizeof(int) * (size_t)n);
    double residual = 0.0, trace = 0.0;
    int sign;
    uint32_t h;
    Rng r;
    rng_seed(&r, 31337);
    mat_fill(&a, &r);
    mat_fill(&b, &r);
    mat_mul(&c, &a, &b);
    for (int i = 0; i < n; i++) {
        trace += *at(&c, i, i);
        rhs[i] = (double)(i % 7) - 3.0;
    }
    memcpy(lu.a, c.a, sizeof(double) * (size_t)n * (size_t)n);
    sign = lu_decompose(&lu, perm);
    lu_solve(&lu, perm, rhs, x);
    for (int i = 0; i < n; i++) {
        double s = -rhs[i];
        for (int j = 0; j < n; j++)
            s += *at(&c, i, j) * x[j];
        residual += s * s;
    }
    printf("matrix: %dx%d, trace %.6f, det sign %d, log2|det| ~ %.4f, residual %s\n", n, n,
           trace, sign, log2_det_magnitude(&lu), sqrt(residual) < 1e-9 ? "< 1e-9" : "LARGE");
    h = mix32(hash_doubles(c.a, (size_t)n * (size_t)n), hash_doubles(x, (size_t)n));
    free(a.a);
    free(b.a);
    free(c.a);
    free(lu.a);
    free(rhs);
    free(x);
    free(perm);
    return h;
}
