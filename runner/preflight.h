/* preflight.h - the machine's limits read once before the first run, and what they mean for each
 * row: how many load generator processes and source addresses it takes to hold the connections. */
#ifndef RUNNER_PREFLIGHT_H
#define RUNNER_PREFLIGHT_H

#include "cfg.h"
#include "plan.h"

struct pf_sys {
    long nofile_soft, nofile_hard; /* RLIMIT_NOFILE after raising soft to hard */
    long port_lo, port_hi;         /* net.ipv4.ip_local_port_range */
    long somaxconn;
    long tw_reuse;                 /* net.ipv4.tcp_tw_reuse (2: loopback only) */
    long pid_max, threads_max;
    int ncpu;                      /* online CPUs */
    int server_ncpu, loadgen_ncpu; /* CPUs in the configured sets */
};

/* Read the limits (raising our soft open-file limit to the hard one, which children inherit). */
void pf_read(const struct cfg *c, struct pf_sys *s);

/* Fill lg_procs, lg_threads and source_ips of every row, log each decision once and warn about
 * limits a point will hit. Returns 0, or -1 with err filled when a point cannot be run at all. */
int pf_apply(const struct cfg *c, const struct pf_sys *s, struct plan *p, char *err, size_t errlen);

/* Fds one load generator process may use for connections (limit minus a reserve). */
long pf_fds_per_proc(const struct pf_sys *s);
/* Connections one source address can hold towards one server port. */
long pf_ports_per_ip(const struct pf_sys *s);

#endif
