/* hostcheck.h - preflight of the hosts a run uses (hosts.h), before any row: each is reachable;
 * its address as the others see it; its open-file limit and port range; its clock's offset to
 * ours, estimated NTP-style from a few round trips over its channel; and, where it does not share
 * our files, our binaries there in a cache directory named by their content, copied when missing
 * (never run from another build). A host that fails is one line naming it and why. */
#ifndef RUNNER_HOSTCHECK_H
#define RUNNER_HOSTCHECK_H

#include "cfg.h"
#include "agents.h"
#include "hosts.h"
#include "plan.h"

/* Where one server's rows run: its host and its load generators' hosts. */
struct hosts_place {
    struct host_conn *server;
    struct host_conn *lg[AGENTS_MAX]; /* its loadgen_hosts, in order */
    int nlg;
    int remote;              /* not this machine alone: the rows run as agents, with --start-at */
};

/* The hosts of one run: one connection per distinct host any server uses. */
struct hosts_run {
    struct host_conn *conn;
    int nconn;
    struct hosts_place *place; /* per server of the config (cfg.srv) */
    int nplace;
    char dir[256];           /* private: ssh control sockets (short: a socket path is 108 bytes) */
    int remote;              /* some server's placement is remote */
};

/* Open and check every host c uses, binaries from bindir. Returns 0, or -1 with err (the run
 * must not start). */
int hosts_preflight(const struct cfg *c, const struct plan *p, const char *bindir, struct hosts_run *hr, char *err,
                    size_t errlen);
/* What the plan shows: where the server and each load generator run. */
void hosts_print(FILE *f, const struct cfg *c);
/* meta.json's "hosts": each host, its placement and what preflight found. */
void hosts_json(const struct hosts_run *hr, struct ut_str *o);
/* The config's test network (testnet:): up (after a down of any left from a killed run), or down.
 * Returns 0, or -1 with err. */
int hosts_testnet(const struct cfg *c, const char *bindir, int up, char *err, size_t errlen);
/* Close every connection; remove the private directory and the hosts' work directories. */
void hosts_close(struct hosts_run *hr);

#endif
