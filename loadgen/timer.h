/* timer.h - a binary min-heap of deadlines, the load generator's timers (as libevent's min_heap.h
 * or libuv's heap-inl.h). An owner embeds one struct lg_timer per deadline it may hold and finds
 * itself again from the entry (LG_TIMER_OWNER); the heap knows nothing of what the owners are.
 * One heap per thread: no locks. Every operation is O(log n); peeking at the earliest is O(1). */
#ifndef LG_TIMER_H
#define LG_TIMER_H

#include <stddef.h>
#include <stdint.h>

#define LG_TIMER_UNARMED UINT32_MAX

struct lg_timer {
    int64_t at;                 /* deadline, monotonic ns */
    uint32_t idx;               /* place in the heap, LG_TIMER_UNARMED when not in it */
};

struct lg_timers {
    struct lg_timer **v;        /* v[0] is the earliest */
    uint32_t len, cap;
};

/* The struct that embeds timer `tm` as its member `member`. */
#define LG_TIMER_OWNER(tm, type, member) ((type *)(void *)((char *)(tm) - offsetof(type, member)))

/* Room for `cap` armed timers at once (never grown: each owner holds at most one entry).
 * Returns 0, or -1 when out of memory. */
int lg_timers_init(struct lg_timers *h, uint32_t cap);
void lg_timers_free(struct lg_timers *h);

static inline void lg_timer_init(struct lg_timer *tm)
{
    tm->idx = LG_TIMER_UNARMED;
}

static inline int lg_timer_armed(const struct lg_timer *tm)
{
    return tm->idx != LG_TIMER_UNARMED;
}

/* Arm tm for `at`, or move it there if it is armed already. */
void lg_timer_set(struct lg_timers *h, struct lg_timer *tm, int64_t at);
/* Disarm tm; nothing happens if it is not armed. */
void lg_timer_del(struct lg_timers *h, struct lg_timer *tm);

/* The earliest armed timer, or NULL. */
static inline struct lg_timer *lg_timer_first(const struct lg_timers *h)
{
    return h->len ? h->v[0] : NULL;
}

#endif
