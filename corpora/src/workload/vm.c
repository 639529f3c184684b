/* vm.c - a tiny stack-based bytecode interpreter with calls, locals and a heap
 * array, plus a compiler from infix arithmetic expressions to its bytecode. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "workload.h"

enum {
    OP_HALT, OP_PUSH, OP_POP, OP_DUP, OP_SWAP, OP_ADD, OP_SUB, OP_MUL, OP_DIV, OP_MOD,
    OP_LT, OP_EQ, OP_NOT, OP_JMP, OP_JZ, OP_CALL, OP_RET, OP_LOAD, OP_STORE,
    OP_GET, OP_SET, OP_NEG, OP_PRINT
};

typedef struct {
    int32_t code[512];
    int len;
} Program;

typedef struct {
    int32_t stack[1024];
    int sp;
    int32_t frames[256];
    int fp;
    int32_t locals[256 * 4];
    int32_t *heap;
    int heap_len;
    uint64_t steps;
    uint32_t out;
} Vm;

static int emit(Program *p, int32_t op)
{
    p->code[p->len] = op;
    return p->len++;
}

static int emit2(Program *p, int32_t op, int32_t arg)
{
    int at = emit(p, op);
    emit(p, arg);
    return at;
}

static void patch(Program *p, int at, int32_t target)
{
    p->code[at + 1] = target;
}

static int32_t pop(Vm *vm)
{
    return vm->stack[--vm->sp];
}

static void push(Vm *vm, int32_t v)
{
    vm->stack[vm->sp++] = v;
}

/* Arithmetic wraps like two's complement without relying on signed overflow. */
static int32_t wrap_add(int32_t a, int32_t b) { return (int32_t)((uint32_t)a + (uint32_t)b); }
static int32_t wrap_sub(int32_t a, int32_t b) { return (int32_t)((uint32_t)a - (uint32_t)b); }
static int32_t wrap_mul(int32_t a, int32_t b) { return (int32_t)((uint32_t)a * (uint32_t)b); }

/* Returns 0 on normal halt, -1 on an error (bad division, stack misuse). */
static int vm_run(Vm *vm, const Program *p, int pc)
{
    for (;;) {
        int32_t op = p->code[pc++], a, b;
        vm->steps++;
        if (vm->sp < 0 || vm->sp > 1000)
            return -1;
        switch (op) {
        case OP_HALT: return 0;
        case OP_PUSH: push(vm, p->code[pc++]); break;
        case OP_POP: vm->sp--; break;
        case OP_DUP: a = pop(vm); push(vm, a); push(vm, a); break;
        case OP_SWAP: b = pop(vm); a = pop(vm); push(vm, b); push(vm, a); break;
        case OP_ADD: b = pop(vm); a = pop(vm); push(vm, wrap_add(a, b)); break;
        case OP_SUB: b = pop(vm); a = pop(vm); push(vm, wrap_sub(a, b)); break;
        case OP_MUL: b = pop(vm); a = pop(vm); push(vm, wrap_mul(a, b)); break;
        case OP_DIV:
        case OP_MOD:
            b = pop(vm);
            a = pop(vm);
            if (b == 0 || (a == INT32_MIN && b == -1))
                return -1;
            push(vm, op == OP_DIV ? a / b : a % b);
            break;
        case OP_LT: b = pop(vm); a = pop(vm); push(vm, a < b); break;
        case OP_EQ: b = pop(vm); a = pop(vm); push(vm, a == b); break;
        case OP_NOT: push(vm, !pop(vm)); break;
        case OP_NEG: push(vm, wrap_sub(0, pop(vm))); break;
        case OP_JMP: pc = p->code[pc]; break;
        case OP_JZ: a = p->code[pc++]; if (!pop(vm)) pc = a; break;
        case OP_CALL:
            if (vm->fp >= 255)
                return -1;
            vm->frames[++vm->fp] = pc + 1;
            vm->locals[vm->fp * 4] = pop(vm);
            pc = p->code[pc];
            break;
        case OP_RET:
            pc = vm->frames[vm->fp--];
            if (vm->fp < 0)
                return 0;
            break;
        case OP_LOAD: push(vm, vm->locals[vm->fp * 4 + p->code[pc++]]); break;
        case OP_STORE: vm->locals[vm->fp * 4 + p->code[pc++]] = pop(vm); break;
        case OP_GET:
            a = pop(vm);
            if (a < 0 || a >= vm->heap_len)
                return -1;
            push(vm, vm->heap[a]);
            break;
        case OP_SET:
            b = pop(vm);
            a = pop(vm);
            if (a < 0 || a >= vm->heap_len)
                return -1;
            vm->heap[a] = b;
            break;
        case OP_PRINT: vm->out = mix32(vm->out, (uint32_t)pop(vm)); break;
        default: return -1;
        }
    }
}

/* fib(n) = n < 2 ? n : fib(n-1) + fib(n-2), as a recursive bytecode function. */
static int build_fib(Program *p)
{
    int entry = p->len, jz, done;
    emit2(p, OP_LOAD, 0);
    emit2(p, OP_PUSH, 2);
    emit(p, OP_LT);
    jz = emit2(p, OP_JZ, 0);
    emit2(p, OP_LOAD, 0);
    emit(p, OP_RET);
    patch(p, jz, p->len);
    emit2(p, OP_LOAD, 0);
    emit2(p, OP_PUSH, 1);
    emit(p, OP_SUB);
    emit2(p, OP_CALL, entry);
    emit2(p, OP_LOAD, 0);
    emit2(p, OP_PUSH, 2);
    emit(p, OP_SUB);
    emit2(p, OP_CALL, entry);
    emit(p, OP_ADD);
    done = emit(p, OP_RET);
    (void)done;
    return entry;
}

/* Sieve of Eratosthenes over the heap; leaves the prime count on the stack. */
static int build_sieve(Program *p, int32_t n)
{
    int entry = p->len, outer, inner, skip, outer_end, inner_end, count_loop, count_end, nz;
    emit2(p, OP_PUSH, 2);
    emit2(p, OP_STORE, 1); /* i = 2 */
    outer = emit2(p, OP_LOAD, 1);
    emit2(p, OP_LOAD, 1);
    emit(p, OP_MUL);
    emit2(p, OP_PUSH, n);
    emit(p, OP_LT);
    outer_end = emit2(p, OP_JZ, 0);
    emit2(p, OP_LOAD, 1);
    emit(p, OP_GET);
    skip = emit2(p, OP_JZ, 0); /* heap[i] == 0 means prime; nonzero: skip */
    emit2(p, OP_JMP, 0);
    int skip_jmp = p->len - 2;
    patch(p, skip, p->len);
    emit2(p, OP_LOAD, 1);
    emit2(p, OP_LOAD, 1);
    emit(p, OP_MUL);
    emit2(p, OP_STORE, 2); /* j = i*i */
    inner = emit2(p, OP_LOAD, 2);
    emit2(p, OP_PUSH, n);
    emit(p, OP_LT);
    inner_end = emit2(p, OP_JZ, 0);
    emit2(p, OP_LOAD, 2);
    emit2(p, OP_PUSH, 1);
    emit(p, OP_SET);
    emit2(p, OP_LOAD, 2);
    emit2(p, OP_LOAD, 1);
    emit(p, OP_ADD);
    emit2(p, OP_STORE, 2);
    emit2(p, OP_JMP, inner);
    patch(p, inner_end, p->len);
    patch(p, skip_jmp, p->len);
    emit2(p, OP_LOAD, 1);
    emit2(p, OP_PUSH, 1);
    emit(p, OP_ADD);
    emit2(p, OP_STORE, 1);
    emit2(p, OP_JMP, outer);
    patch(p, outer_end, p->len);
    /* count = number of i in [2, n) with heap[i] == 0 */
    emit2(p, OP_PUSH, 0);
    emit2(p, OP_STORE, 3);
    emit2(p, OP_PUSH, 2);
    emit2(p, OP_STORE, 1);
    count_loop = emit2(p, OP_LOAD, 1);
    emit2(p, OP_PUSH, n);
    emit(p, OP_LT);
    count_end = emit2(p, OP_JZ, 0);
    emit2(p, OP_LOAD, 1);
    emit(p, OP_GET);
    emit(p, OP_NOT);
    nz = emit2(p, OP_JZ, 0);
    emit2(p, OP_LOAD, 3);
    emit2(p, OP_PUSH, 1);
    emit(p, OP_ADD);
    emit2(p, OP_STORE, 3);
    patch(p, nz, p->len);
    emit2(p, OP_LOAD, 1);
    emit2(p, OP_PUSH, 1);
    emit(p, OP_ADD);
    emit2(p, OP_STORE, 1);
    emit2(p, OP_JMP, count_loop);
    patch(p, count_end, p->len);
    emit2(p, OP_LOAD, 3);
    emit(p, OP_RET);
    return entry;
}

/* Expression compiler: precedence climbing over + - * / % and parentheses. */
typedef struct {
    const char *s;
    Program *p;
    int error;
} Parser;

static void skip_blanks(Parser *ps)
{
    while (*ps->s == ' ')
        ps->s++;
}

static void compile_expr(Parser *ps, int min_prec);

static void compile_atom(Parser *ps)
{
    skip_blanks(ps);
    if (*ps->s == '(') {
        ps->s++;
        compile_expr(ps, 0);
        skip_blanks(ps);
        if (*ps->s != ')')
            ps->error = 1;
        else
            ps->s++;
    } else if (*ps->s == '-') {
        ps->s++;
        compile_atom(ps);
        emit(ps->p, OP_NEG);
    } else if (*ps->s >= '0' && *ps->s <= '9') {
        int32_t v = 0;
        while (*ps->s >= '0' && *ps->s <= '9')
            v = v * 10 + (*ps->s++ - '0');
        emit2(ps->p, OP_PUSH, v);
    } else {
        ps->error = 1;
    }
}

static int precedence(char c)
{
    return c == '+' || c == '-' ? 1 : (c == '*' || c == '/' || c == '%') ? 2 : -1;
}

static void compile_expr(Parser *ps, int min_prec)
{
    compile_atom(ps);
    for (;;) {
        char op;
        int prec;
        skip_blanks(ps);
        op = *ps->s;
        prec = precedence(op);
        if (prec < min_prec || prec < 0 || ps->error)
            return;
        ps->s++;
        compile_expr(ps, prec + 1);
        emit(ps->p, op == '+' ? OP_ADD : op == '-' ? OP_SUB : op == '*' ? OP_MUL
                    : op == '/' ? OP_DIV : OP_MOD);
    }
}

static int eval_expression(const char *src, int32_t *result)
{
    Program p = {{0}, 0};
    Parser ps = {src, &p, 0};
    Vm *vm = calloc(1, sizeof *vm);
    int rc;
    compile_expr(&ps, 0);
    skip_blanks(&ps);
    if (ps.error || *ps.s) {
        free(vm);
        return -1;
    }
    emit(&p, OP_HALT);
    rc = vm_run(vm, &p, 0);
    *result = rc == 0 && vm->sp == 1 ? vm->stack[0] : 0;
    free(vm);
    return rc;
}

uint32_t run_vm(int scale)
{
    static const char *exprs[] = {
        "1 + 2 * 3", "(1 + 2) * 3", "100 / 7 % 4", "-(5 - 12) * (3 + 4 * (2 - 9))",
        "2 * 3 * 4 * 5 * 6 * 7 * 8 * 9 * 10 * 11 * 12 * 13", "1 / 0", "((((42))))", "7 +",
    };
    Program p = {{0}, 0};
    Vm *vm = calloc(1, sizeof *vm);
    int fib_entry, sieve_entry, start;
    int32_t fib_result, sieve_result, sieve_n = 20000 * scale, fib_n = 20 + (scale > 1);
    uint32_t h = 0;
    int ok_exprs = 0;
    fib_entry = build_fib(&p);
    sieve_entry = build_sieve(&p, sieve_n);
    start = p.len;
    emit2(&p, OP_PUSH, fib_n);
    emit2(&p, OP_CALL, fib_entry);
    emit(&p, OP_DUP);
    emit(&p, OP_PRINT);
    emit2(&p, OP_PUSH, 0);
    emit2(&p, OP_CALL, sieve_entry);
    emit(&p, OP_DUP);
    emit(&p, OP_PRINT);
    emit(&p, OP_HALT);
    vm->heap_len = sieve_n;
    vm->heap = calloc((size_t)sieve_n, sizeof(int32_t));
    if (vm_run(vm, &p, start) != 0 || vm->sp != 2) {
        printf("vm: program FAILED\n");
        return 0;
    }
    sieve_result = vm->stack[1];
    fib_result = vm->stack[0];
    for (size_t i = 0; i < sizeof exprs / sizeof exprs[0]; i++) {
        int32_t v = 0;
        int rc = eval_expression(exprs[i], &v);
        ok_exprs += rc == 0;
        h = mix32(h, (uint32_t)v ^ (uint32_t)rc);
    }
    printf("vm: fib(%d) = %d, primes below %d = %d, %d/%d expressions ok, %llu steps\n",
           (int)fib_n, (int)fib_result, (int)sieve_n, (int)sieve_result, ok_exprs,
           (int)(sizeof exprs / sizeof exprs[0]), (unsigned long long)vm->steps);
    h = mix32(h, vm->out);
    free(vm->heap);
    free(vm);
    return h;
}
