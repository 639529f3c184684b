/* trap.c - prints a line, then traps (unreachable) two calls deep inside named
 * functions, so a runtime's trap report and backtrace can be checked.
 *
 * args: none.  env: none.  stdin: not read.  preopens: none.
 * exit: the run must end with a trap (wasm `unreachable`), not a normal exit.
 * Expected backtrace, innermost first: trap_inner, trap_middle, __original_main (clang's
 * name for an argument-less main), then _start. The functions are noinline so they keep
 * their own frames and names (name section).
 */
#include <stdio.h>

__attribute__((noinline)) void trap_inner(int depth)
{
    if (depth >= 0)
        __builtin_trap();
}

__attribute__((noinline)) void trap_middle(int depth)
{
    trap_inner(depth + 1);
    printf("not reached\n");
}

int main(void)
{
    printf("about to trap\n");
    fflush(stdout);
    trap_middle(0);
    return 0;
}
