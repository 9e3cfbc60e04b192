/* list.h: an intrusive circular doubly linked list with a sentinel head, for queues of connections
 * (the CONN_MORE queue of the readiness loop and of the libevent server). A node with next == NULL is
 * on no list, so list_del() is always safe. */
#ifndef CMB_LIST_H
#define CMB_LIST_H

#include <stddef.h>

struct list {
    struct list *prev, *next;
};

#define LIST_ENTRY(ptr, type, member) ((type *)(void *)((char *)(ptr) - offsetof(type, member)))

static inline void list_init(struct list *h)
{
    h->prev = h->next = h;
}

static inline int list_empty(const struct list *h)
{
    return h->next == h;
}

static inline void list_del(struct list *n)
{
    if (!n->next)
        return;
    n->prev->next = n->next;
    n->next->prev = n->prev;
    n->prev = n->next = NULL;
}

static inline void list_add_tail(struct list *h, struct list *n)
{
    n->prev = h->prev;
    n->next = h;
    h->prev->next = n;
    h->prev = n;
}

/* Move every node of `from` onto `to` (which is overwritten); `from` is left empty. */
static inline void list_take(struct list *to, struct list *from)
{
    list_init(to);
    if (list_empty(from))
        return;
    to->next = from->next;
    to->prev = from->prev;
    to->next->prev = to;
    to->prev->next = to;
    list_init(from);
}

#endif
