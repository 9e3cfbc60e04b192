/* cfg.h - the experiment configuration: the YAML schema of configs/README.md parsed into plain
 * structs, driven by one table of keys (cfg_keys.c). Every error names file:line:column and what
 * was expected; callers exit 2 on it. */
#ifndef RUNNER_CFG_H
#define RUNNER_CFG_H

#include <stddef.h>
#include <stdio.h>

/* The matrix axes, in the order rows and keys print them: name, how a value is read (cfg_int.h),
 * its range, its words, its default and its line of doc (configs/README.md). The enum, the names
 * and the axes' entries of the table of keys (cfg_keys.c) all come from this one list. loader is
 * last, so that points differing only in the loader are neighbours in a plan. */
#define CFG_AXES(X)                                                                                          \
    X(CONNECTIONS, connections, CT_LONG_K, 1, 1000000, NULL, "10", "active connections (k suffix: 10k)")    \
    X(IDLE, idle, CT_LONG_K, 0, 1000000, NULL, "0", "extra connections held open and silent")               \
    X(SIZE, size, CT_LONG_KIB, 1, 1L << 30, NULL, "64", "echo message bytes (k/m/g are powers of 1024)")     \
    X(RATE, rate, CT_LONG_K, 0, 100000000, NULL, "0", "requests/s in total, 0 = closed loop (k suffix: 10k)") \
    X(PIPELINE, pipeline, CT_LONG, 1, 1024, NULL, "1", "requests in flight per connection")                 \
    X(CONN_MODE, conn_mode, CT_CONN_MODE, 0, 0, NULL, "keepalive",                                           \
      "keepalive, close (a new connection every request) or reqs=N (every N requests)")                     \
    X(WORK_US, work_us, CT_LONG, 0, 10000000, NULL, "0", "CPU microseconds the server burns per request")   \
    X(LOADER, loader, CT_ENUM, 0, 0, cfg_loader_names, "loadgen",                                            \
      "who measures: loadgen, wrk or h2load (closed-loop keep-alive HTTP only)")

enum cfg_axis {
#define CFG_AXIS_ENUM(id, ...) CFG_##id,
    CFG_AXES(CFG_AXIS_ENUM)
#undef CFG_AXIS_ENUM
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
extern const char *const cfg_proto_names[]; /* by enum cfg_proto, NULL-terminated */

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
    long workers;        /* 0: the defaults' */
    long work_us;        /* -1: from the matrix */
    long idle_timeout;   /* -1: the defaults' */
    long max_conns;      /* -1: the defaults' (0 there: not passed) */
    long backlog;        /* -1: the defaults' */
    char *docroot;       /* NULL: the defaults' */
    char *server_cpus;   /* NULL: the defaults' */
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
    char *server_host;   /* where it runs; NULL: the config's server_host */
    char **loadgen_hosts; /* where its load generators run; NULL: the config's loadgen_hosts */
    int nloadgen_hosts;
};

struct cfg_defaults {
    enum cfg_proto proto;
    char *path;            /* http request target */
    double duration, warmup, timeout, cooldown, ready_timeout, stop_grace;
    long repeats;          /* 0: auto, repeats until narrow (repeats.c) with the keys below */
    long repeats_min, repeats_max; /* auto: at least, at most this many */
    double repeats_target; /* auto: a row is narrow when its interval's half-width is within this share of its median */
    double repeats_budget; /* auto: seconds; no round starts that would end past it (0: no budget) */
    char **repeats_on;     /* auto: the runs.csv columns that must be narrow */
    int nrepeats_on;
    char *server_cpus, *loadgen_cpus;
    char *runner_cpus;     /* where bench itself runs (samples, bookkeeping); loadgen_cpus if not given */
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

/* One objective of a capacity search (capacity.c): the highest open-loop rate whose achieved rate
 * is at least achieved of it, whose corrected p99 is at most p99 and whose errors at most errors. */
struct cfg_objective {
    char *name;          /* marks its probes in runs.csv (probe) and its capacity.csv rows */
    double p99;          /* seconds */
    long errors;         /* errors_total at most */
    double achieved;     /* a fraction of the intended rate */
    double resolution;   /* a fraction: the search stops when fail - pass <= resolution * pass */
    long probes;         /* open-loop probes at most, per server and point */
    int line;            /* 1-based line of the entry, for messages */
};

/* A host of `hosts:` (hosts.c runs commands there): where the server or a load generator runs.
 * Exactly one of netns, ssh and exec is set, or none for the machine bench runs on. */
enum cfg_host_kind { CFG_HOST_LOCAL, CFG_HOST_NETNS, CFG_HOST_SSH, CFG_HOST_EXEC };
struct cfg_host {
    char *name;          /* its key in hosts:, or "local" (always defined) */
    enum cfg_host_kind kind;
    char *netns;         /* ip netns exec NAME */
    char *ssh;           /* [user@]host[:port], OpenSSH in batch mode over one multiplexed connection */
    char **exec;         /* a command prefix that runs its arguments there, stdin and stdout passed */
    int nexec;
    char *address;       /* its address as the others see it; NULL: found by preflight */
    char *ssh_config;    /* ssh -F FILE; NULL: the user's own */
    char *cpus;          /* a load generator there runs under taskset -c CPUS; NULL: unpinned */
    int line;
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
    struct cfg_objective *obj; /* capacity: the objectives; none: the matrix's rates are run as given */
    int nobj;
    int cap_line;              /* line of the capacity key, for messages */
    int rep_line;              /* line of the last repeats key in defaults, for messages */
    struct cfg_host *hosts;    /* hosts[0] is local; then hosts: in the file's order */
    int nhosts;
    char *server_host;         /* a name of hosts (default local) */
    char **loadgen_hosts;      /* names of hosts, one load generator each (default: local) */
    int nloadgen_hosts;
    int hosts_line;            /* line of server_host or loadgen_hosts, for messages */
    double clock_offset_max;   /* seconds: a host's clock further off ours stops the run */
    char *testnet;             /* bin/testnet NAME bench makes for the run and removes after; NULL: none */
    long testnet_hosts;        /* its namespaces, NAME-0 .. NAME-(n-1) */
    char *testnet_rate;        /* tbf rate of each one's link; NULL: unshaped */
    char *testnet_delay, *testnet_loss; /* netem on each link (where the kernel has it); NULL: none */
};

/* The host called name, or NULL. */
const struct cfg_host *cfg_host_find(const struct cfg *c, const char *name);
/* A server's placement: its own server_host and loadgen_hosts, else the config's. */
const char *cfg_srv_host(const struct cfg *c, const struct cfg_server *s);
char *const *cfg_srv_loadgen_hosts(const struct cfg *c, const struct cfg_server *s, int *n);

/* The repeats the plan itself runs: the number given, or auto's minimum (repeats.c adds more). */
static inline long cfg_repeats_planned(const struct cfg *c)
{
    return c->d.repeats ? c->d.repeats : c->d.repeats_min;
}

/* Parse path. bindir is where bin/server-<model> binaries are looked up (a model is also known
 * when it is one of the project's models). Returns 0, or -1 with "file:line:col: message" in err. */
int cfg_load(const char *path, const char *bindir, struct cfg *c, char *err, size_t errlen);
void cfg_free(struct cfg *c);
/* bench --set KEY=VALUE: a key of defaults given on the command line, read and checked as the
 * config file's would be, over what the file said. Returns 0, or -1 with err. */
int cfg_override(struct cfg *c, const char *assign, char *err, size_t errlen);

/* Is model one of the project's concurrency models (docs list), or present as bindir/server-model? */
int cfg_model_known(const char *model, const char *bindir);
extern const char *const cfg_models[];

static inline int cfg_srv_external(const struct cfg_server *s)
{
    return s->command != NULL;
}
/* s as it runs: each setting it leaves out (workers, idle_timeout, max_conns, backlog, docroot)
 * is the defaults'. A shallow copy, sharing s's strings; idle_timeout may still be 0 (auto). */
struct cfg_server cfg_srv_effective(const struct cfg *c, const struct cfg_server *s);
/* The idle timeout s runs with, auto resolved (longer than a whole row). */
long cfg_srv_idle_timeout(const struct cfg *c, const struct cfg_server *s);

/* Normalized JSON of the parsed config, for meta.json. */
struct ut_str;
void cfg_to_json(const struct cfg *c, struct ut_str *out);
/* The table of keys as markdown: the "Keys" section of configs/README.md (bench --schema). */
void cfg_schema(FILE *f);

#endif
