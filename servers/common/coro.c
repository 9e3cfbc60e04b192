/* coro.c: stackful coroutines: guard-paged stacks and the context switch (see coro.h for the two
 * implementations and their cost). The sanitizer hooks are here too, because a stack switch the
 * sanitizers do not hear about looks to them like a wild jump of the stack pointer. */
#include "coro.h"

#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__)
#define CORO_ASAN 1
#endif
#if defined(__SANITIZE_THREAD__)
#define CORO_TSAN 1
#endif
#if defined(__has_feature) /* clang spells it this way */
#if __has_feature(address_sanitizer)
#define CORO_ASAN 1
#endif
#if __has_feature(thread_sanitizer)
#define CORO_TSAN 1
#endif
#endif

#ifdef CORO_ASAN
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#endif
#ifdef CORO_TSAN
#include <sanitizer/tsan_interface.h>
#endif

/* ---- stacks ---- */

int coro_stack_alloc(struct coro_stack *st, size_t size)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    size = (size + page - 1) & ~(page - 1);
    /* MAP_NORESERVE: thousands of stacks reserve address space, not commit charge; a stack costs
     * memory only for the pages it touches (typically two or three). */
    char *p = mmap(NULL, size + page, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
    if (p == MAP_FAILED)
        return -1;
    if (mprotect(p, page, PROT_NONE) < 0) { /* the guard: an overflow faults instead of corrupting */
        munmap(p, size + page);
        return -1;
    }
    st->base = p + page;
    st->size = size;
    return 0;
}

void coro_stack_free(struct coro_stack *st)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    if (st->base)
        munmap((char *)st->base - page, st->size + page);
    st->base = NULL;
}

/* ---- sanitizer bookkeeping around a switch ---- */

static __thread struct coro_ctx *leaving; /* the context the last switch left (ASan wants its stack) */

static void before_switch(struct coro_ctx *from, struct coro_ctx *to, int dying)
{
#ifdef CORO_ASAN
    /* NULL when dying: ASan then frees the fake stack of the coroutine that is ending. */
    __sanitizer_start_switch_fiber(dying ? NULL : &from->asan_fake, to->stack_bottom, to->stack_size);
#endif
#ifdef CORO_TSAN
    __tsan_switch_to_fiber(to->tsan_fiber, 0);
#endif
    (void)to;
    (void)dying;
    leaving = from;
}

/* Runs on the stack just switched to; also learns the bounds of the stack we came from (the thread's
 * own stack is known only this way). */
static void after_switch(struct coro_ctx *self)
{
#ifdef CORO_ASAN
    struct coro_ctx *prev = leaving;
    __sanitizer_finish_switch_fiber(self ? self->asan_fake : NULL, &prev->stack_bottom,
                                    &prev->stack_size);
#endif
    (void)self;
}

/* First code a coroutine runs, on its own stack. */
__attribute__((noreturn, used)) static void coro_start(struct coro_ctx *c)
{
    after_switch(NULL);
    c->fn(c->arg);
    abort(); /* coro.h: a coroutine ends with coro_exit(), never by returning */
}

void coro_main_init(struct coro_ctx *c)
{
    *c = (struct coro_ctx){ 0 };
#ifdef CORO_TSAN
    c->tsan_fiber = __tsan_get_current_fiber();
#endif
}

static void init_common(struct coro_ctx *c, const struct coro_stack *st, void (*fn)(void *), void *arg)
{
    c->fn = fn;
    c->arg = arg;
    c->stack_bottom = st->base;
    c->stack_size = st->size;
    c->asan_fake = NULL;
#ifdef CORO_ASAN
    /* A reused stack still carries the poisoned redzones of the frames its last coroutine died in. */
    __asan_unpoison_memory_region(st->base, st->size);
#endif
#ifdef CORO_TSAN
    c->tsan_fiber = __tsan_create_fiber(0);
#endif
}

void coro_release(struct coro_ctx *c)
{
#ifdef CORO_TSAN
    if (c->tsan_fiber)
        __tsan_destroy_fiber(c->tsan_fiber);
#endif
    c->tsan_fiber = NULL;
}

#ifndef CORO_UCONTEXT
/* ---- x86-64: the hand-written switch ----
 *
 * cmb_coro_swap(&from->sp, to->sp): push the System V callee-saved registers (rbp rbx r12-r15) and the
 * floating-point control words (MXCSR, x87 CW: callee-saved too), store rsp in *from, load to's rsp,
 * pop the same set, return into to. Everything caller-saved is already dead at a call, so this is
 * the whole state; no signal mask is touched, which is what makes it cheap. */
__asm__(".text\n"
        ".globl cmb_coro_swap\n"
        ".hidden cmb_coro_swap\n"
        ".type cmb_coro_swap,@function\n"
        "cmb_coro_swap:\n"
        "    pushq %rbp\n"
        "    pushq %rbx\n"
        "    pushq %r12\n"
        "    pushq %r13\n"
        "    pushq %r14\n"
        "    pushq %r15\n"
        "    subq $8, %rsp\n"
        "    stmxcsr (%rsp)\n"
        "    fnstcw 4(%rsp)\n"
        "    movq %rsp, (%rdi)\n"
        "    movq %rsi, %rsp\n"
        "    ldmxcsr (%rsp)\n"
        "    fldcw 4(%rsp)\n"
        "    addq $8, %rsp\n"
        "    popq %r15\n"
        "    popq %r14\n"
        "    popq %r13\n"
        "    popq %r12\n"
        "    popq %rbx\n"
        "    popq %rbp\n"
        "    ret\n"
        ".size cmb_coro_swap, .-cmb_coro_swap\n"
        /* A new stack's first swap returns here, with r12 = coro_start and r13 = its context. */
        ".globl cmb_coro_boot\n"
        ".hidden cmb_coro_boot\n"
        ".type cmb_coro_boot,@function\n"
        "cmb_coro_boot:\n"
        "    movq %r13, %rdi\n"
        "    callq *%r12\n"
        "    ud2\n"
        ".size cmb_coro_boot, .-cmb_coro_boot\n");

void cmb_coro_swap(void **from_sp, void *to_sp);
extern const char cmb_coro_boot[];

void coro_make(struct coro_ctx *c, const struct coro_stack *st, void (*fn)(void *), void *arg)
{
    init_common(c, st, fn, arg);
    /* The frame cmb_coro_swap pops, built by hand; after its `ret` into cmb_coro_boot rsp must be
     * 16-byte aligned so that the `call` there enters coro_start as the ABI requires. */
    uintptr_t top = ((uintptr_t)st->base + st->size) & ~(uintptr_t)15;
    uint64_t *sp = (uint64_t *)(top - 80);
    sp[0] = 0x1f80 | ((uint64_t)0x037f << 32); /* MXCSR and x87 CW: the ABI's initial values */
    sp[1] = 0;                                 /* r15 */
    sp[2] = 0;                                 /* r14 */
    sp[3] = (uint64_t)(uintptr_t)c;            /* r13: coro_start's argument */
    sp[4] = (uint64_t)(uintptr_t)coro_start;   /* r12 */
    sp[5] = 0;                                 /* rbx */
    sp[6] = 0;                                 /* rbp: ends frame-pointer walks */
    sp[7] = (uint64_t)(uintptr_t)cmb_coro_boot;
    sp[8] = sp[9] = 0;                         /* top - 16: where rsp is after the ret */
    c->sp = sp;
}

void coro_switch(struct coro_ctx *from, struct coro_ctx *to)
{
    before_switch(from, to, 0);
    cmb_coro_swap(&from->sp, to->sp);
    after_switch(from);
}

void coro_exit(struct coro_ctx *from, struct coro_ctx *to)
{
    before_switch(from, to, 1);
    cmb_coro_swap(&from->sp, to->sp);
    abort(); /* nothing switches back to a finished coroutine */
}

const char *coro_impl(void)
{
    return "asm-x86_64";
}

#else
/* ---- the portable fallback: ucontext ---- */

/* makecontext passes int arguments only: the context pointer travels in two halves. */
static void uc_boot(unsigned hi, unsigned lo)
{
    coro_start((struct coro_ctx *)(uintptr_t)(((uint64_t)hi << 32) | lo));
}

void coro_make(struct coro_ctx *c, const struct coro_stack *st, void (*fn)(void *), void *arg)
{
    init_common(c, st, fn, arg);
    getcontext(&c->uc);
    c->uc.uc_stack.ss_sp = st->base;
    c->uc.uc_stack.ss_size = st->size;
    c->uc.uc_link = NULL;
    uint64_t p = (uint64_t)(uintptr_t)c;
    makecontext(&c->uc, (void (*)(void))uc_boot, 2, (unsigned)(p >> 32), (unsigned)p);
}

void coro_switch(struct coro_ctx *from, struct coro_ctx *to)
{
    before_switch(from, to, 0);
    swapcontext(&from->uc, &to->uc);
    after_switch(from);
}

void coro_exit(struct coro_ctx *from, struct coro_ctx *to)
{
    before_switch(from, to, 1);
    swapcontext(&from->uc, &to->uc);
    abort();
}

const char *coro_impl(void)
{
    return "ucontext";
}
#endif
