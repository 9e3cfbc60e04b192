/* runloop.h - the event loop one run waits in: signals (children exiting, Ctrl-C) through a
 * signalfd, the server's stdout (its ready line), and the 100 ms sampling clock. Everything that
 * waits in the runner waits here, so an interrupt is seen within one poll. It reaps every child
 * that exits and calls nothing of run.c or child.c. */
#ifndef RUNNER_RUNLOOP_H
#define RUNNER_RUNLOOP_H

#include "run.h"

/* Wait for one batch of events, at most until `until`. */
void rl_pump(struct run *r, double until);
/* Take a sample now (also called by the pump on the sampling clock); the per-process scan stops
 * at `deadline` (0: tree-wide counters only). Returns its index. */
int rl_sample(struct run *r, double deadline);
/* Add a note to the row's status_reason and the log. */
void rl_note(struct run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Describe a wait status: "exit 1", "signal 11 (Segmentation fault)". */
const char *rl_status_str(int status, char *buf, size_t len);

#endif
