/* coro_bench.c: the cost of one coroutine context switch (servers/common/coro.c), not part of
 * `make test`. Ping-pongs between the thread's context and one coroutine `n` times (2n switches),
 * times it with CLOCK_MONOTONIC and reports ns per switch; the process's CPU time split into user and
 * system shows whether the switch enters the kernel (glibc swapcontext's sigprocmask does).
 *
 *   make coro-bench && bin/coro-bench [n] && bin/coro-bench-ucontext [n]
 *   valgrind --tool=callgrind bin/coro-bench 100000    (instructions: divide Ir by 2n) */
#include "../../servers/common/coro.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>

static struct coro_ctx main_ctx, co_ctx;
static volatile unsigned long bounces; /* volatile: the loop must not be optimised away */

static void bouncer(void *arg)
{
    (void)arg;
    for (;;) {
        bounces++;
        coro_switch(&co_ctx, &main_ctx);
    }
}

static double now_s(clockid_t clk)
{
    struct timespec ts;
    clock_gettime(clk, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double tv_s(struct timeval tv)
{
    return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

int main(int argc, char **argv)
{
    unsigned long n = argc > 1 ? strtoul(argv[1], NULL, 10) : 5000000ul;
    struct coro_stack st;
    struct rusage r0, r1;

    if (coro_stack_alloc(&st, 64 * 1024) < 0) {
        perror("coro_stack_alloc");
        return 1;
    }
    coro_main_init(&main_ctx);
    coro_make(&co_ctx, &st, bouncer, NULL);
    coro_switch(&main_ctx, &co_ctx); /* warm up: first entry */

    getrusage(RUSAGE_SELF, &r0);
    double t0 = now_s(CLOCK_MONOTONIC);
    for (unsigned long i = 0; i < n; i++)
        coro_switch(&main_ctx, &co_ctx);
    double t1 = now_s(CLOCK_MONOTONIC);
    getrusage(RUSAGE_SELF, &r1);

    double sw = 2.0 * (double)n;
    printf("impl=%s switches=%.0f ns_per_switch=%.2f user_s=%.3f sys_s=%.3f\n", coro_impl(), sw,
           (t1 - t0) * 1e9 / sw, tv_s(r1.ru_utime) - tv_s(r0.ru_utime),
           tv_s(r1.ru_stime) - tv_s(r0.ru_stime));
    return bounces == n + 1 ? 0 : 1;
}
