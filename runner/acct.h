/* acct.h - resource accounting of a server's whole process tree.
 *
 * Membership and tree-wide counters come from a backend: "cgroup" (a fresh cpuacct, memory and
 * pids cgroup per run, under the runner's own cgroup in each hierarchy) or, where cgroups cannot
 * be created, "proc" (walk /proc for the server's process group and descendants). Per-process
 * details (RSS, threads, fds, context switches) are read from /proc/<pid> either way.
 *
 * Context switches and CPU of processes that exit during a run: a process reaped by its parent
 * adds its rusage (all its threads, and its own reaped children) to the parent's, and wait4()
 * on the server hands the runner the sum for the whole tree; orphans reparent to the runner (a
 * child subreaper) and are reaped and added here too. That total is exact whenever every process
 * is waited for. A server that lets the kernel auto-reap children (SIGCHLD ignored) loses theirs,
 * so the sampler also keeps the last counts it saw of every process and the larger of the two
 * lower bounds is reported. CPU comes from cpuacct when the cgroup exists (exact for the tree). */
#ifndef RUNNER_ACCT_H
#define RUNNER_ACCT_H

#include <sys/resource.h>
#include <sys/types.h>

struct acct_sample {
    double t;                   /* monotonic seconds */
    double cpu_s;               /* cumulative CPU of the whole tree (cpuacct: exact ns) */
    double cpu_user_s, cpu_sys_s; /* cumulative split (cpuacct: tick-sampled): use for ratios */
    long rss_kb;                /* sum of RSS over processes (shared pages counted per process) */
    long mem_kb;                /* cgroup memory usage (each page once); -1 unknown */
    int threads, procs, fds;    /* tasks, processes (exact: the member list, pids.current),
                                   open fds (summed over the processes scanned) */
    double cost_s;              /* CPU time the runner spent taking this sample */
    int partial;                /* the per-process scan stopped at its deadline: procs, threads,
                                   rss, fds are lower bounds (CPU and mem are complete) */
    double host_busy_s, host_total_s; /* /proc/stat of the server's CPUs, cumulative (runloop.c) */
};

struct acct;

/* What a backend can do beyond membership, in acct_ops.flags: callers ask these, never which
 * backend it is. */
enum {
    ACCT_MEM = 1 << 0,          /* counts memory once per page: mem_kb and its peak are measured */
    ACCT_TASKS = 1 << 1,        /* counts the tree's tasks, their peak between samples too */
};

/* A membership backend. Its private state stays behind acct.state, seen by its own file only. */
struct acct_ops {
    const char *name;           /* "cgroup", "proc": meta.json's accounting */
    unsigned flags;             /* ACCT_* */
    /* Prepare for a server about to start (cgroup: create the groups). */
    int (*open)(struct acct *a, const char *tag, char *err, size_t errlen);
    /* The child is forked and waiting: put it in the tree. */
    int (*attach)(struct acct *a, pid_t pid, char *err, size_t errlen);
    /* Current member processes (tgids) into *out (malloc'd); returns the count. */
    int (*members)(struct acct *a, pid_t **out);
    /* Tree-wide counters where the backend has them: returns 1 if it filled CPU. */
    int (*totals)(struct acct *a, struct acct_sample *s, long *tasks_peak, long *mem_peak_kb);
    /* Remove what open created; members must be gone. Returns 0 or -1 (still busy). */
    int (*close)(struct acct *a);
};

/* The backends, for acct_open's choice; everyone else asks ops->flags, never which one it is. */
extern const struct acct_ops acct_cgroup_ops, acct_proc_ops;

struct acct_pid {               /* last counts seen of one process, indexed by pid */
    unsigned long long start;   /* starttime: tells a reused pid from the one we saw */
    long long vcsw, ivcsw;
};

struct acct {
    const struct acct_ops *ops;
    void *state;                /* the backend's own, behind its pointer */
    pid_t leader, pgid;
    /* peaks over the samples of this run (mem: ACCT_MEM only; tasks: ACCT_TASKS only) */
    long rss_peak_kb, mem_peak_kb, tasks_peak;
    int threads_peak, procs_peak, fds_peak;
    /* context switches seen by sampling (lower bound, see above) */
    struct acct_pid *seen;
    long nseen;                 /* table size: pid_max */
    long long gone_vcsw, gone_ivcsw;
    /* rusage of reaped members: the leader (with all its waited-for descendants) and orphans */
    double ru_user_s, ru_sys_s;
    long long ru_vcsw, ru_ivcsw;
    /* CPU summed over the per-process scan, used whenever the backend's totals give no CPU (the
     * proc backend always; a cgroup whose cpuacct cannot split user and sys as well) */
    double scan_cpu_reaped_s;   /* CPU of reaped orphans: gone from the scan, kept in the sum */
    double scan_cpu_last_s;     /* the previous sum (CPU never decreases) */
    int scan_from;              /* a scan cut short resumes here next time, so none is starved */
    int multithreaded;          /* some sample saw more tasks than processes */
};

/* Choose a backend (cgroup if it can be created, else proc) and prepare. want_cgroup 0 forces
 * proc. Returns 0 or -1 with err. */
int acct_open(struct acct *a, const char *tag, int want_cgroup, char *err, size_t errlen);
int acct_attach(struct acct *a, pid_t pid, char *err, size_t errlen);
/* CPU between samples a and b, exact total split by the user/sys ratio of that interval. */
void acct_cpu_between(const struct acct_sample *a, const struct acct_sample *b, double *user, double *sys);
/* Take one sample of the tree into s, updating the peaks. The per-process part stops at
 * `deadline` (monotonic; 0: tree-wide counters only) unless CPU depends on it (/proc backend). */
void acct_sample(struct acct *a, struct acct_sample *s, double deadline);
/* A member was reaped by the runner: add its rusage (leader: the server itself). */
void acct_reaped(struct acct *a, const struct rusage *ru, int leader);
/* Signal every member process and the process group; returns how many were signalled. */
int acct_kill(struct acct *a, int sig);
/* Processes in the tree now (0: nothing of the server is left). */
int acct_nmembers(struct acct *a);
/* Peak memory, each page once (kB), or -1 where the backend does not count memory (no ACCT_MEM). */
long acct_mem_peak_kb(const struct acct *a);
/* Peak task count: sampled, or the backend's own peak (ACCT_TASKS: pids.peak, between samples too)
 * when larger. */
int acct_threads_peak(const struct acct *a);
/* Peak process count: sampled, or pids.peak (exact, between samples too) when every sample found
 * the tree single-threaded, so that tasks are processes (a fork server's children). */
int acct_procs_peak(const struct acct *a);
/* Context switches of the tree: the larger of the rusage total and the sampled total. */
void acct_ctxsw(const struct acct *a, long long *vol, long long *invol);
/* Tear down; retries while members disappear. Returns 0, -1 if the cgroup stayed busy. */
int acct_close(struct acct *a);

/* Clean up empty per-run cgroups a killed runner left behind (best effort). */
void acct_cleanup_stale(void);

#endif
