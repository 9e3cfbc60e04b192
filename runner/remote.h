/* remote.h - a server on a host that does not share our files (ssh, exec): it runs under cmb-run
 * there, which stops it when its stdin closes and accounts its process tree with bench's own code
 * (a sample every 100 ms into a file); its --stats file and those samples are fetched back after
 * it stopped and stand in for the local accounting. */
#ifndef RUNNER_REMOTE_H
#define RUNNER_REMOTE_H

#include "hostcheck.h"
#include "row.h"
#include "run.h"

/* The command that runs the server's argv (its files already under rwork there) on hc. */
void remote_srv_argv(const struct run *r, const struct host_conn *hc, const char *rwork, char *const argv[],
                     struct spawn_argv *out);
/* After the server stopped: its --stats file to <work>.stats.json here (none when it wrote none). */
void remote_srv_stats(const struct host_conn *hc, const char *rwork, const char *work);
/* And its samples, the window's from edge[0] to edge[1] (our monotonic clock), into f; its files
 * there are removed. Returns 0, or -1 with err. */
int remote_srv_collect(struct run *r, const struct host_conn *hc, const char *rwork, const char *work,
                       struct run_facts *f, char *err, size_t errlen);

#endif
