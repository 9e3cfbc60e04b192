/* server_int.h: framework internals used by main.c only. */
#ifndef CMB_SERVER_INT_H
#define CMB_SERVER_INT_H

#include <stddef.h>

/* Set up the shared totals, fd registry, wake eventfd and signal handlers. stop_listener: a listener
 * the stop handler shuts down to wake blocked accept() calls, or -1. */
int srv_runtime_init(const char *model_name, int stop_listener, char *err, size_t errlen);

/* Write the --stats JSON object atomically; -1 with errno on failure. */
int srv_write_stats(const char *path, const char *model, unsigned flags);

#endif
