/* timer.c - the deadline min-heap of timer.h: an array heap on lg_timer.at, each entry knowing its
 * own index so that re-arming or disarming one is O(log n) without a search. */
#include "timer.h"

#include <stdlib.h>

static void put(struct lg_timers *h, uint32_t i, struct lg_timer *tm)
{
    h->v[i] = tm;
    tm->idx = i;
}

static void sift_up(struct lg_timers *h, uint32_t i)
{
    struct lg_timer *tm = h->v[i];
    while (i > 0) {
        uint32_t p = (i - 1) / 2;
        if (h->v[p]->at <= tm->at)
            break;
        put(h, i, h->v[p]);
        i = p;
    }
    put(h, i, tm);
}

static void sift_down(struct lg_timers *h, uint32_t i)
{
    struct lg_timer *tm = h->v[i];
    for (;;) {
        uint32_t l = 2 * i + 1, m = i;
        int64_t best = tm->at;
        if (l < h->len && h->v[l]->at < best)
            m = l, best = h->v[l]->at;
        if (l + 1 < h->len && h->v[l + 1]->at < best)
            m = l + 1;
        if (m == i)
            break;
        put(h, i, h->v[m]);
        i = m;
    }
    put(h, i, tm);
}

int lg_timers_init(struct lg_timers *h, uint32_t cap)
{
    h->len = 0;
    h->cap = cap;
    h->v = calloc(cap ? cap : 1, sizeof *h->v);
    return h->v ? 0 : -1;
}

void lg_timers_free(struct lg_timers *h)
{
    free(h->v);
    h->v = NULL;
    h->len = h->cap = 0;
}

void lg_timer_set(struct lg_timers *h, struct lg_timer *tm, int64_t at)
{
    tm->at = at;
    if (tm->idx == LG_TIMER_UNARMED) {
        put(h, h->len++, tm);
        sift_up(h, tm->idx);
    } else {
        sift_up(h, tm->idx);
        sift_down(h, tm->idx);
    }
}

void lg_timer_del(struct lg_timers *h, struct lg_timer *tm)
{
    uint32_t i = tm->idx;
    if (i == LG_TIMER_UNARMED)
        return;
    tm->idx = LG_TIMER_UNARMED;
    struct lg_timer *last = h->v[--h->len];
    if (i == h->len)
        return;
    put(h, i, last);
    sift_up(h, i);
    sift_down(h, last->idx);
}
