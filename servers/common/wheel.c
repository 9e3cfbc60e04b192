/* wheel.c: hashed timer wheel (see wheel.h). Tick t holds deadlines in ((t-1)*tick, t*tick]: it is due
 * once now >= t*tick, so a timer never fires before its deadline. */
#include "wheel.h"

#include <stdlib.h>

int wheel_init(struct wheel *w, int64_t tick_ns, unsigned nslots, int64_t now)
{
    w->slots = malloc(nslots * sizeof *w->slots);
    if (!w->slots)
        return -1;
    for (unsigned i = 0; i < nslots; i++)
        w->slots[i].prev = w->slots[i].next = &w->slots[i];
    w->nslots = nslots;
    w->tick_ns = tick_ns;
    w->cur = now / tick_ns;
    w->count = 0;
    return 0;
}

void wheel_free(struct wheel *w)
{
    free(w->slots);
    w->slots = NULL;
}

void wheel_add(struct wheel *w, struct wheel_node *n, int64_t when_ns)
{
    int64_t t = (when_ns + w->tick_ns - 1) / w->tick_ns;
    if (t < w->cur)
        t = w->cur;
    if (t > w->cur + (int64_t)w->nslots - 1)
        t = w->cur + (int64_t)w->nslots - 1; /* beyond the horizon: comes back early, re-added */
    /* Within the horizon every slot holds exactly one tick, so a slot's timers are all due together. */
    struct wheel_node *head = &w->slots[(uint64_t)t & (w->nslots - 1)];
    n->prev = head->prev;
    n->next = head;
    head->prev->next = n;
    head->prev = n;
    w->count++;
}

void wheel_del(struct wheel *w, struct wheel_node *n)
{
    if (!n->next)
        return;
    n->prev->next = n->next;
    n->next->prev = n->prev;
    n->prev = n->next = NULL;
    w->count--;
}

struct wheel_node *wheel_pop(struct wheel *w, int64_t now)
{
    int64_t due = now / w->tick_ns; /* ticks up to this one are due */
    if (w->count == 0) {
        if (w->cur < due)
            w->cur = due; /* nothing armed: skip the empty ticks at once */
        return NULL;
    }
    /* One due timer per call: the caller may close connections (and re-arm others) in between. A
     * re-armed timer lands past `due`, so this always ends. */
    while (w->cur <= due) {
        struct wheel_node *head = &w->slots[(uint64_t)w->cur & (w->nslots - 1)];
        if (head->next != head) {
            struct wheel_node *n = head->next;
            wheel_del(w, n);
            return n;
        }
        w->cur++;
    }
    return NULL;
}

int64_t wheel_next(const struct wheel *w)
{
    if (w->count == 0)
        return -1;
    /* At most nslots empty slots to skip, and only when the loop is about to sleep. */
    for (int64_t t = w->cur; t < w->cur + (int64_t)w->nslots; t++) {
        const struct wheel_node *head = &w->slots[(uint64_t)t & (w->nslots - 1)];
        if (head->next != head)
            return t * w->tick_ns;
    }
    return (w->cur + (int64_t)w->nslots) * w->tick_ns; /* unreachable: every timer is in a slot */
}
