/* Non-local exit for traps in guest code.
 *
 * Rust cannot call setjmp safely (it returns twice), so the runtime enters guest code through
 * wasm_prof_catch, which saves a jump buffer and calls back into Rust. When the signal handler
 * decides a fault belongs to guest code, wasm_prof_unwind jumps back here and
 * wasm_prof_catch returns 0. Only compiled guest frames and trampolines lie between the two,
 * and none of them owns resources. */
#include <setjmp.h>
#include <stddef.h>

typedef void (*wasm_prof_body)(void *);

int wasm_prof_catch(wasm_prof_body body, void *data, void **jmp_slot) {
    sigjmp_buf buf;
    void *previous = *jmp_slot;
    if (sigsetjmp(buf, 0) != 0) {
        *jmp_slot = previous;
        return 0;
    }
    *jmp_slot = &buf;
    body(data);
    *jmp_slot = previous;
    return 1;
}

void wasm_prof_unwind(void *jmp_buf) {
    siglongjmp(*(sigjmp_buf *)jmp_buf, 1);
}
