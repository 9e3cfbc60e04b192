/* coro.h: stackful coroutines, the mechanism only: a context switch and guard-paged stacks. Who runs
 * when (the scheduler) is the model's business (servers/coroutine.c).
 *
 * Two implementations, chosen at build time:
 *   - x86-64: a hand-written switch (callee-saved registers, MXCSR and x87 control word, stack pointer)
 *     in top-level assembly: no system call, a few nanoseconds;
 *   - anything else, or CORO_UCONTEXT defined (`make CORO=ucontext`): getcontext/makecontext/
 *     swapcontext, portable but glibc's swapcontext makes a sigprocmask system call on every switch.
 * Both tell AddressSanitizer and ThreadSanitizer about every stack switch, so sanitizer builds work.
 *
 * Use: coro_main_init() once for the thread's own context; coro_make() a coroutine on a stack from
 * coro_stack_alloc(); coro_switch() between contexts. A coroutine's function must never return: it
 * ends with coro_exit() to some other context, which then calls coro_release() and frees the stack. */
#ifndef CMB_CORO_H
#define CMB_CORO_H

#include <stddef.h>

#if !defined(__x86_64__) && !defined(CORO_UCONTEXT)
#define CORO_UCONTEXT 1 /* the portable fallback is the only one on other machines */
#endif

#ifdef CORO_UCONTEXT
#include <ucontext.h>
/* The context's layout differs between the two builds: an object compiled for one must not be linked
 * with coro.c built for the other. Different symbol names make that a link error, not a crash. */
#define coro_make coro_make_ucontext
#endif

/* A stack: [base, base + size) usable, with a PROT_NONE guard page below base (stacks grow down). */
struct coro_stack {
    void *base;
    size_t size;
};

/* A saved execution context. */
struct coro_ctx {
#ifdef CORO_UCONTEXT
    ucontext_t uc;
#else
    void *sp;                 /* stack pointer saved by the switch; registers are on that stack */
#endif
    void (*fn)(void *);       /* entry point and its argument (first run only) */
    void *arg;
    const void *stack_bottom; /* sanitizers: lowest address of this context's stack, and its size */
    size_t stack_size;
    void *asan_fake;          /* ASan: this context's fake stack while it is switched out */
    void *tsan_fiber;         /* TSan: this context's fiber */
};

/* Map a stack of `size` bytes (rounded up to pages) plus a guard page. 0, or -1 with errno. */
int coro_stack_alloc(struct coro_stack *st, size_t size);
void coro_stack_free(struct coro_stack *st);

/* The calling thread's own context, the one the first coro_switch() leaves from. */
void coro_main_init(struct coro_ctx *c);

/* Prepare c to run fn(arg) on st when first switched to. */
void coro_make(struct coro_ctx *c, const struct coro_stack *st, void (*fn)(void *), void *arg);

/* Save the running context into from and resume to. Returns when something switches back to from. */
void coro_switch(struct coro_ctx *from, struct coro_ctx *to);

/* The last switch of a coroutine that has finished: like coro_switch, never returns. */
void coro_exit(struct coro_ctx *from, struct coro_ctx *to) __attribute__((noreturn));

/* Free what a finished coroutine's context holds (its sanitizer fiber); call from another context. */
void coro_release(struct coro_ctx *c);

/* "asm-x86_64" or "ucontext": which switch this build uses. */
const char *coro_impl(void);

#endif
