/* child.h - process control of a row: the signals the runner reads, waiting for a free port and a
 * ready server, stopping the server, killing everything on a failure or an interrupt, and making
 * sure nothing of a run is left. Every wait goes through rl_pump, so a Ctrl-C is seen at once. */
#ifndef RUNNER_CHILD_H
#define RUNNER_CHILD_H

#include <stddef.h>

struct run;

/* Block the signals the runner reads through a signalfd, become a child subreaper (so orphans of
 * a server come back to us, are reaped and accounted) and return the fd, or -1 with err. */
int child_signals_init(char *err, size_t errlen);

/* Wait (at most `seconds`) until a listener could bind the configured host at `port`. Returns 0,
 * or -1 if it stays in use or an interrupt came. */
int child_wait_port(struct run *r, int port, double seconds);

/* Wait for the ready line (an external server: the port accepting a connection, probed every
 * 20 ms), the server's death, an interrupt or the ready timeout. Returns NULL when ready or
 * interrupted, else why it failed (written into why). */
const char *child_await_ready(struct run *r, int external, char *why, size_t len);

/* The load generator has exited: its worker processes (--procs) end with it, so whatever is left
 * in its group half a second later is a leak, killed and noted in the row as left by `name`. */
void child_sweep_loadgen(struct run *r, const char *name);

/* TERM both groups, `grace` seconds, then KILL everything of the run; bounded well under 2 s. */
void child_kill_all(struct run *r, double grace);

/* The run is over: stop the sampling clock, then the server (SIGTERM, stop_grace, SIGKILL), then
 * whatever outlived it. Returns 0, or -1 if interrupted before or while stopping: then everything
 * was killed at once and the row is to be discarded. */
int child_stop(struct run *r);

#endif
