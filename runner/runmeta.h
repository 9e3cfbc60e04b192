/* runmeta.h - meta.json: what a reader needs to trust or reproduce a run (config, git revision,
 * compiler and flags, kernel, CPU, limits, pinning, load at start, how it ended). */
#ifndef RUNNER_RUNMETA_H
#define RUNNER_RUNMETA_H

#include "cfg.h"
#include "preflight.h"
#include "util.h"

struct meta {
    char started[32], finished[32];  /* local ISO 8601 */
    char git_rev[64];
    int git_dirty;                   /* -1 unknown */
    char cc_version[256];
    char kernel[256], hostname[128], cpu_model[256];
    double loadavg[3];
    char argv[2048];
    char bindir[1024];
    const char *accounting;          /* "cgroup" | "proc" */
    int planned, done, failed, skipped;
    int interrupted;                 /* signal number, 0 if it ran to the end */
    double wall_s;
    double t0;                       /* when the first row started (ut_now) */
    struct ut_str repeats;           /* repeats: auto: what was decided (repeats.c); empty: a fixed number */
    struct ut_str hosts;             /* the hosts and what preflight found (hostcheck.c); empty: this machine only */
};

/* Gather everything known before the first run (git and the compiler are asked through a shell,
 * so call this before any child is running). */
void meta_init(struct meta *m, int argc, char **argv, const char *bindir);
void meta_stamp(char *buf, size_t len);
/* Write path atomically from m, c and s. */
int meta_write(const char *path, const struct meta *m, const struct cfg *c, const struct pf_sys *s, char *err,
               size_t errlen);

#endif
