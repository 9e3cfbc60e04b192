/* hostcheck.h - preflight of the hosts a run uses (hosts.h), before any row: each is reachable;
 * its address as the others see it; its open-file limit and port range; its clock's offset to
 * ours, estimated NTP-style from a few round trips over its channel; and, where it does not share
 * our files, our binaries there in a cache directory named by their content, copied when missing
 * (never run from another build). A host that fails is one line naming it and why. */
#ifndef RUNNER_HOSTCHECK_H
#define RUNNER_HOSTCHECK_H

#include "cfg.h"
#include "hosts.h"
#include "plan.h"

/* The hosts of one run: [0] the server's, then one per loadgen host (the same connection where
 * the server's host also runs a load generator). */
struct hosts_run {
    struct host_conn *conn;  /* one per distinct host used */
    int nconn;
    struct host_conn *server;
    struct host_conn **lg;   /* loadgen_hosts, in order */
    int nlg;
    char dir[256];           /* private: ssh control sockets (short: a socket path is 108 bytes) */
    int remote;              /* some host is not this machine: placements are in use */
};

/* Open and check every host c uses, binaries from bindir. Returns 0, or -1 with err (the run
 * must not start). */
int hosts_preflight(const struct cfg *c, const struct plan *p, const char *bindir, struct hosts_run *hr, char *err,
                    size_t errlen);
/* What the plan shows: where the server and each load generator run. */
void hosts_print(FILE *f, const struct cfg *c);
/* meta.json's "hosts": each host, its placement and what preflight found. */
void hosts_json(const struct hosts_run *hr, struct ut_str *o);
/* Close every connection; remove the private directory and the hosts' work directories. */
void hosts_close(struct hosts_run *hr);

#endif
