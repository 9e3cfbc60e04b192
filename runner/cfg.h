/* cfg.h - the experiment configuration: the YAML schema of configs/README.md parsed into plain
 * structs. Every error names file:line:column and what was expected; callers exit 2 on it. */
#ifndef RUNNER_CFG_H
#define RUNNER_CFG_H

#include <stddef.h>

/* The matrix axes, in the order rows and keys print them. */
enum cfg_axis {
    CFG_CONNECTIONS,
    CFG_IDLE,
    CFG_SIZE,
    CFG_RATE,
    CFG_PIPELINE,
    CFG_CONN_MODE,
    CFG_WORK_US,
    CFG_LOADER,   /* last, so that points differing only in the loader are neighbours in a plan */
    CFG_NAXES
};
extern const char *const cfg_axis_names[CFG_NAXES];

/* conn_mode is an axis of numbers too: keepalive, close, or reqs=N (N > 0). */
#define CFG_KEEPALIVE 0L
#define CFG_CLOSE (-1L)
const char *cfg_conn_mode_str(long mode, char *buf, size_t len);

/* The loader axis: which load generator measures a point (loader.c has what each can do). */
enum cfg_loader { CFG_LOADGEN, CFG_WRK, CFG_H2LOAD, CFG_NLOADERS };
extern const char *const cfg_loader_names[CFG_NLOADERS + 1]; /* NULL-terminated */

enum cfg_proto { CFG_ECHO, CFG_HTTP };

struct cfg_values {
    int n;        /* 0: the axis is not set here (the default applies) */
    long *v;
};

/* One exclusion: a point is excluded when every axis that is set matches. */
struct cfg_match {
    int set;
    int nvals;    /* match one of vals ... */
    long *vals;
    int has_min, has_max; /* ... or lie in [min, max] */
    long min, max;
};
struct cfg_excl {
    struct cfg_match ax[CFG_NAXES];
};

struct cfg_server {
    char *name;          /* label in results (default: the model, or model-wN with workers) */
    char *model;         /* bin/server-<model> */
    int workers;         /* 0: server default */
    long work_us;        /* -1: from the matrix */
    long idle_timeout;   /* -1: defaults */
    long max_conns;      /* -1: defaults (0 there: not passed) */
    long backlog;        /* -1: defaults */
    char *docroot;
    char **args;         /* extra server arguments, appended last */
    int nargs;
    struct cfg_excl *excl;
    int nexcl;
    int line;            /* 1-based line of the entry, for messages */
    /* An external server (a program that is not bin/server-<model>), extsrv.c: */
    char **command;      /* argv template ({port}, {dir}, {config}, ... substituted); NULL: ours */
    int ncommand;
    char *config;        /* text written to {config} with the same substitutions; NULL: none */
    int http_only;       /* it speaks HTTP only (nginx) */
};

struct cfg_defaults {
    enum cfg_proto proto;
    char *path;            /* http request target */
    double duration, warmup, timeout, cooldown, ready_timeout, stop_grace;
    long repeats;
    char *server_cpus, *loadgen_cpus;
    char *runner_cpus;     /* where bench itself runs (samples, bookkeeping); NULL: loadgen_cpus */
    long loadgen_threads;  /* 0: one per loadgen CPU */
    long loadgen_procs;    /* 0: auto (preflight decides) */
    long source_ips;       /* 0: auto; else that many addresses 127.0.0.1.. */
    char *arrival;         /* constant | poisson */
    long connect_rate;     /* 0: unlimited */
    char *host;
    long port;             /* 0: the server picks one and prints it */
    long workers;
    long idle_timeout;     /* 0: auto (longer than a run) */
    long max_conns, backlog; /* 0: not passed, the server's default applies */
    char *docroot;
    char **server_args, **loadgen_args;
    int nserver_args, nloadgen_args;
};

struct cfg_block {
    struct cfg_values ax[CFG_NAXES];
};

struct cfg {
    char *path;
    char *name, *description;
    struct cfg_defaults d;
    long axis_default[CFG_NAXES]; /* defaults.<axis>, used where a block leaves an axis out */
    struct cfg_server *srv;
    int nsrv;
    struct cfg_block *blk;
    int nblk;
};

/* Parse path. bindir is where bin/server-<model> binaries are looked up (a model is also known
 * when it is one of the project's models). Returns 0, or -1 with "file:line:col: message" in err. */
int cfg_load(const char *path, const char *bindir, struct cfg *c, char *err, size_t errlen);
void cfg_free(struct cfg *c);

/* Is model one of the project's concurrency models (docs list), or present as bindir/server-model? */
int cfg_model_known(const char *model, const char *bindir);
extern const char *const cfg_models[];

/* The server's effective settings after defaults. */
static inline int cfg_srv_external(const struct cfg_server *s)
{
    return s->command != NULL;
}
long cfg_srv_idle_timeout(const struct cfg *c, const struct cfg_server *s);

/* Normalized JSON of the parsed config, for meta.json. */
struct ut_str;
void cfg_to_json(const struct cfg *c, struct ut_str *out);

#endif
