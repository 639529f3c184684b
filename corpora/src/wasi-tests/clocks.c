/* clocks.c - checks WASI clocks and sleeping; prints only deterministic facts.
 *
 * args: none.  env: none.  stdin: not read.  preopens: none.  exit code: 0 if all checks pass, 1 otherwise
 * Checks: CLOCK_MONOTONIC never goes backwards and advances across a sleep;
 * CLOCK_REALTIME is after 2020-01-01 and before 2200-01-01; nanosleep (which
 * wasi-libc implements with poll_oneoff) sleeps at least the requested 20 ms;
 * clock resolutions are positive.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <time.h>

static long long ns(const struct timespec *t)
{
    return (long long)t->tv_sec * 1000000000LL + t->tv_nsec;
}

int main(void)
{
    struct timespec a, b, real, res, nap = {0, 20000000};
    int ok = 1, monotonic_ok = 1;
    long long prev;
    clock_gettime(CLOCK_MONOTONIC, &a);
    prev = ns(&a);
    for (int i = 0; i < 1000; i++) {
        clock_gettime(CLOCK_MONOTONIC, &b);
        if (ns(&b) < prev)
            monotonic_ok = 0;
        prev = ns(&b);
    }
    printf("monotonic %s\n", monotonic_ok ? "ok" : "WENT BACKWARDS");
    ok &= monotonic_ok;

    clock_gettime(CLOCK_MONOTONIC, &a);
    int slept = nanosleep(&nap, NULL) == 0;
    clock_gettime(CLOCK_MONOTONIC, &b);
    int long_enough = ns(&b) - ns(&a) >= 20000000LL;
    printf("sleep 20ms %s\n", slept && long_enough ? "ok" : "TOO SHORT OR FAILED");
    ok &= slept && long_enough;

    clock_gettime(CLOCK_REALTIME, &real);
    int plausible = real.tv_sec > 1577836800LL && real.tv_sec < 7258118400LL;
    printf("realtime %s\n", plausible ? "plausible" : "IMPLAUSIBLE");
    ok &= plausible;

    int res_ok = clock_getres(CLOCK_MONOTONIC, &res) == 0 && ns(&res) > 0 &&
                 clock_getres(CLOCK_REALTIME, &res) == 0 && ns(&res) > 0;
    printf("resolution %s\n", res_ok ? "ok" : "BAD");
    ok &= res_ok;
    return ok ? 0 : 1;
}
