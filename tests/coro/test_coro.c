/* test_coro.c: unit tests of the coroutine switch (servers/common/coro.c), TAP. Whatever the build
 * (asm or ucontext, with or without sanitizers): state survives switches, each context keeps its own
 * floating-point control state, thousands of coroutines coexist, a deep call chain fits in a 64 KiB
 * stack, and running off the end of a stack faults on the guard page instead of corrupting memory. */
#include "../../servers/common/coro.h"
#include "../unit/tap.h"

#include <fenv.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define STACK (256u * 1024u) /* as servers/coroutine.c: instrumented frames are larger */
#else
#define STACK (64u * 1024u)
#endif
#ifdef __SANITIZE_THREAD__
#define MANY 300 /* TSan's fiber switches are slow: fewer, still interleaved */
#else
#define MANY 2000
#endif
#define ROUNDS 50

static struct coro_ctx main_ctx;

/* ---- many coroutines, each keeping live values across its switches ---- */

struct worker {
    struct coro_ctx ctx;
    struct coro_stack stack;
    int id;
    uint64_t result;
    int done;
};

static void worker_fn(void *arg)
{
    struct worker *w = arg;
    /* Enough live locals that some sit in callee-saved registers across coro_switch. */
    uint64_t a = (uint64_t)w->id, b = 1, c = 7, d = 0;
    for (int r = 0; r < ROUNDS; r++) {
        a = a * 31 + (uint64_t)r;
        b ^= a << 3;
        c += b >> 5;
        d += a ^ c;
        coro_switch(&w->ctx, &main_ctx);
    }
    w->result = a + b + c + d;
    w->done = 1;
    coro_exit(&w->ctx, &main_ctx);
}

static uint64_t expected(int id)
{
    uint64_t a = (uint64_t)id, b = 1, c = 7, d = 0;
    for (int r = 0; r < ROUNDS; r++) {
        a = a * 31 + (uint64_t)r;
        b ^= a << 3;
        c += b >> 5;
        d += a ^ c;
    }
    return a + b + c + d;
}

static void test_many(void)
{
    static struct worker w[MANY];
    int alloc_ok = 1, right = 1, all_done = 1;
    for (int i = 0; i < MANY; i++) {
        w[i].id = i;
        if (coro_stack_alloc(&w[i].stack, STACK) < 0)
            alloc_ok = 0;
        else
            coro_make(&w[i].ctx, &w[i].stack, worker_fn, &w[i]);
    }
    ok(alloc_ok, "many guard-paged stacks mapped");
    if (!alloc_ok)
        return;
    /* Round-robin: every coroutine runs one round per pass, interleaved with all the others. */
    for (int pass = 0; pass <= ROUNDS; pass++)
        for (int i = 0; i < MANY; i++)
            if (!w[i].done)
                coro_switch(&main_ctx, &w[i].ctx);
    for (int i = 0; i < MANY; i++) {
        all_done &= w[i].done;
        right &= w[i].result == expected(i);
        coro_release(&w[i].ctx);
        coro_stack_free(&w[i].stack);
    }
    ok(all_done, "many coroutines interleaved round-robin all finished");
    ok(right, "their live values survived 50 switches each");
}

/* ---- floating-point control state is per context ---- */

static struct coro_ctx fp_ctx;
static int fp_seen_inside;

static void fp_fn(void *arg)
{
    (void)arg;
    fesetround(FE_UPWARD);
    coro_switch(&fp_ctx, &main_ctx);
    fp_seen_inside = fegetround();
    coro_exit(&fp_ctx, &main_ctx);
}

static void test_fp(void)
{
    struct coro_stack st;
    if (coro_stack_alloc(&st, STACK) < 0) {
        ok(0, "stack for the floating-point test");
        return;
    }
    fesetround(FE_TONEAREST);
    coro_make(&fp_ctx, &st, fp_fn, NULL);
    coro_switch(&main_ctx, &fp_ctx);
    ok(fegetround() == FE_TONEAREST, "a coroutine's rounding mode does not leak into its caller");
    coro_switch(&main_ctx, &fp_ctx);
    ok(fp_seen_inside == FE_UPWARD, "the coroutine gets its own rounding mode back");
    fesetround(FE_TONEAREST);
    coro_release(&fp_ctx);
    coro_stack_free(&st);
}

/* ---- stack depth: a deep chain fits; an endless one hits the guard page ---- */

static struct coro_ctx deep_ctx;
static volatile uint64_t deep_sum;

__attribute__((noinline)) static uint64_t burn(unsigned depth)
{
    volatile unsigned char frame[256];
    memset((char *)frame, (int)depth, sizeof frame);
    return depth == 0 ? (uint64_t)frame[3] + 1 : burn(depth - 1) + frame[7];
}

static void deep_fn(void *arg)
{
    deep_sum = burn((unsigned)(uintptr_t)arg);
    coro_exit(&deep_ctx, &main_ctx);
}

static void test_depth(void)
{
    struct coro_stack st;
    if (coro_stack_alloc(&st, STACK) < 0) {
        ok(0, "stack for the depth test");
        return;
    }
    /* ~100 frames of >256 B: about half of the stack (more under sanitizers, which have more). */
    coro_make(&deep_ctx, &st, deep_fn, (void *)(uintptr_t)100);
    coro_switch(&main_ctx, &deep_ctx);
    ok(deep_sum != 0, "a call chain using half of a 64 KiB stack runs");
    coro_release(&deep_ctx);

    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        freopen("/dev/null", "w", stderr); /* a sanitizer's stack-overflow report is expected here */
        coro_make(&deep_ctx, &st, deep_fn, (void *)(uintptr_t)1000000);
        coro_switch(&main_ctx, &deep_ctx);
        _exit(0); /* not reached: the recursion must fault */
    }
    int status = 0;
    waitpid(pid, &status, 0);
    ok(pid > 0 && !(WIFEXITED(status) && WEXITSTATUS(status) == 0),
       "overflowing a coroutine stack faults on its guard page");
    coro_stack_free(&st);
}

int main(void)
{
    printf("# coro implementation: %s\n", coro_impl());
    coro_main_init(&main_ctx);
    test_many();
    test_fp();
    test_depth();
    return done_testing();
}
