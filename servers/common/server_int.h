/* server_int.h: framework internals used by main.c and the engine's library (proto_lib.c). */
#ifndef CMB_SERVER_INT_H
#define CMB_SERVER_INT_H

#include <stddef.h>

/* Set up the shared totals, fd registry, wake eventfd and signal handlers. stop_listener: a listener
 * the stop handler shuts down to wake blocked accept() calls, or -1. */
int srv_runtime_init(const char *model_name, int stop_listener, char *err, size_t errlen);

/* stop.c: the fd registry and the SIGTERM/SIGINT handlers (a handler function already there is
 * called after ours), with a wake eventfd if with_wake_fd. srv_runtime_init calls it; the Python
 * servers, through the library, after the interpreter's handlers are in place. */
int srv_stop_init(int stop_listener, int with_wake_fd, char *err, size_t errlen);

/* What a stop signal does, callable at any time (async-signal-safe): set the flag, write the wake
 * eventfd, shut the listener and the tracked fds down. */
void srv_stop_now(void);

/* The --help text of a model into buf (usage.c; the Python servers call it through the engine's
 * library). workers: the --workers default shown when flags has SRV_F_WORKERS; yields: the model
 * has a clients_waiting hook. Returns the length snprintf would have written. */
size_t srv_usage(char *buf, size_t len, const char *name, const char *summary, unsigned flags,
                 int workers, unsigned ka_requests, unsigned ka_time, unsigned ka_timeout,
                 unsigned ka_yield, int yields);

/* Write the --stats JSON object atomically; -1 with errno on failure. */
int srv_write_stats(const char *path, const char *model, unsigned flags);

#endif
