/* wheel.h: a hashed timer wheel for idle timeouts: O(1) add and delete, expiry cost proportional to
 * the timers that are due, never to the number of connections.
 *
 * Time is cut into ticks of tick_ns; slot (t mod nslots) holds the timers due in tick t. A timer beyond
 * the wheel's horizon (nslots ticks) sits in the last slot and comes back early: the caller checks
 * the real deadline and re-adds it, which is also how idle timeouts stay cheap: activity only stamps
 * the connection, and the timer, when it comes due, re-arms itself from the stamp. */
#ifndef CMB_WHEEL_H
#define CMB_WHEEL_H

#include <stddef.h>
#include <stdint.h>

/* Embedded in the timed object; next == NULL while not on the wheel. */
struct wheel_node {
    struct wheel_node *prev, *next;
};

struct wheel {
    struct wheel_node *slots; /* nslots circular list heads */
    unsigned nslots;          /* a power of two */
    int64_t tick_ns;
    int64_t cur;              /* next tick to expire */
    size_t count;             /* timers on the wheel */
};

/* Set up an empty wheel at time now. -1 when out of memory. */
int wheel_init(struct wheel *w, int64_t tick_ns, unsigned nslots, int64_t now);
void wheel_free(struct wheel *w);

/* Arm n to come due at when_ns (or at the horizon, if that is sooner). n must not be armed. */
void wheel_add(struct wheel *w, struct wheel_node *n, int64_t when_ns);

/* Disarm n; harmless when it is not armed. */
void wheel_del(struct wheel *w, struct wheel_node *n);

/* Disarm and return one timer that is due at `now`, or NULL when none is. Call until NULL. */
struct wheel_node *wheel_pop(struct wheel *w, int64_t now);

/* Monotonic time at which the next timer may come due, or -1 when the wheel is empty. */
int64_t wheel_next(const struct wheel *w);

#endif
