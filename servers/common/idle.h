/* idle.h: --idle-timeout for event-driven models, without a scan of every connection per turn.
 *
 * Every connection has the same timeout, so a plain list does the job of a timer wheel: touching a
 * connection moves it to the tail with deadline now + timeout, and because `now` never goes back the
 * list stays sorted by deadline. The head is the next to expire. Touch and remove are O(1); a check
 * costs O(connections expired). (libev's documentation calls this its "most efficient" timeout
 * strategy for equal timeouts.) With timeout 0 nothing is ever listed. */
#ifndef CMB_IDLE_H
#define CMB_IDLE_H

#include <stddef.h>
#include <stdint.h>

struct idle_node {
    struct idle_node *prev, *next; /* both NULL while not listed */
    int64_t deadline;              /* monotonic ns */
};

struct idle_list {
    struct idle_node head; /* sentinel: head.next is the oldest, head.prev the newest */
    int64_t timeout_ns;    /* 0: idle timeouts are off */
};

static inline void idle_init(struct idle_list *l, unsigned secs)
{
    l->head.prev = l->head.next = &l->head;
    l->timeout_ns = (int64_t)secs * 1000000000;
}

static inline void idle_remove(struct idle_node *n)
{
    if (n->next) {
        n->prev->next = n->next;
        n->next->prev = n->prev;
        n->prev = n->next = NULL;
    }
}

/* The connection was active (or starts waiting) at `now`: its deadline is now + timeout. */
static inline void idle_touch(struct idle_list *l, struct idle_node *n, int64_t now)
{
    if (l->timeout_ns == 0)
        return;
    idle_remove(n);
    n->deadline = now + l->timeout_ns;
    n->prev = l->head.prev;
    n->next = &l->head;
    l->head.prev->next = n;
    l->head.prev = n;
}

/* The oldest node if its deadline has passed, else NULL. The caller removes (or touches) it. */
static inline struct idle_node *idle_expired(struct idle_list *l, int64_t now)
{
    struct idle_node *n = l->head.next;
    return n != &l->head && n->deadline <= now ? n : NULL;
}

/* The structure a node is embedded in. */
#define idle_owner(node, type, member) ((type *)(void *)((char *)(node) - offsetof(type, member)))

/* The earliest deadline, or -1 when nothing is listed. */
static inline int64_t idle_next(const struct idle_list *l)
{
    return l->head.next != &l->head ? l->head.next->deadline : -1;
}

#endif
