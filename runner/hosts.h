/* hosts.h - running commands on a host of the config (cfg.h, struct cfg_host). A placement is a
 * command prefix plus the way to move files over the same channel (stdin and stdout): nothing on
 * this machine (local), `ip netns exec NAME` (a namespace: same kernel, same files), OpenSSH in
 * batch mode over one multiplexed connection per host for the whole run (its control socket in
 * the run's private directory), or a user's prefix such as `docker exec -i NAME`. Preflight
 * (hostcheck.c) fills in what a run needs to know of each host. */
#ifndef RUNNER_HOSTS_H
#define RUNNER_HOSTS_H

#include "cfg.h"
#include "spawn.h"
#include "util.h"

#include <sys/types.h>

struct host_conn {
    const struct cfg_host *h;
    char ctl[512];          /* ssh: the control socket of its master connection */
    pid_t master;           /* ssh: the master's pid (its own group), 0 when none */
    char address[256];      /* the address the other hosts reach it at */
    char bindir[1024];      /* where our binaries are there (this machine's bindir when it shares our files) */
    char workdir[1024];     /* where a run's files are there (this machine's when shared) */
    int shares_files;       /* local and netns: the same file system as the runner */
    double clock_offset_s;  /* its CLOCK_REALTIME minus ours (0: the same clock) */
    double clock_err_s;     /* +- how well that is known: half the best round trip */
    long nofile_soft, nofile_hard, port_lo, port_hi;
    char uname[256];
    char boot_id[40];       /* the kernel it runs on: hosts with one boot_id are one machine */
    int ncpus;              /* its online CPUs */
};

/* Prepare h for use: an ssh host gets its master connection (its control socket in dir). Returns
 * 0, or -1 with err ("host 'x' (ssh a@b): why"). */
int host_open(struct host_conn *hc, const struct cfg_host *h, const char *dir, char *err, size_t errlen);
/* Close the master connection, if any. */
void host_close(struct host_conn *hc);

/* The argv that runs cmd on the host into out: the prefix, then cmd (quoted for the remote shell
 * where the channel is ssh). */
void host_argv(const struct host_conn *hc, char *const cmd[], struct spawn_argv *out);

/* Run cmd on the host to its end: in (inlen bytes) on its stdin, its stdout into *out (when out is
 * not NULL), its stderr's last line into err on failure. Returns its exit status (0-255; 128+N for
 * a signal), or -1 with err when it could not run or took longer than timeout (then killed). */
int host_run(const struct host_conn *hc, char *const cmd[], const char *in, size_t inlen, struct ut_str *out,
             double timeout, char *err, size_t errlen);
/* A shell script run there (sh -c script): host_run's contract. */
int host_sh(const struct host_conn *hc, const char *script, const char *in, size_t inlen, struct ut_str *out,
            double timeout, char *err, size_t errlen);

/* Its clock against ours: `rounds` readings over one session on its channel, each taken halfway
 * through its round trip; the one of the shortest round trip counts: *offset its CLOCK_REALTIME
 * minus ours, *error half that round trip. Returns 0, or -1 with err. */
int host_clock(const struct host_conn *hc, int rounds, double *offset, double *error, char *err, size_t errlen);

/* "netns cmb-1", "ssh me@box", "exec docker exec -i c1", "local": for messages and the plan. */
const char *host_where(const struct cfg_host *h, char *buf, size_t len);

#endif
