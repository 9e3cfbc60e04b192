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
    double host_busy_s, host_total_s; /* /proc/stat of the server's CPUs, cumulative (run.c) */
};

struct acct;

/* A membership backend. Private state behind `state`. */
struct acct_ops {
    const char *name;
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

extern const struct acct_ops acct_cgroup_ops, acct_proc_ops;

struct acct_pid {               /* last counts seen of one process, indexed by pid */
    unsigned long long start;   /* starttime: tells a reused pid from the one we saw */
    long long vcsw, ivcsw;
};

struct acct {
    const struct acct_ops *ops;
    void *state;
    pid_t leader, pgid;
    /* peaks over the samples of this run */
    long rss_peak_kb, mem_peak_kb, tasks_peak;
    int threads_peak, procs_peak, fds_peak;
    /* context switches seen by sampling (lower bound, see above) */
    struct acct_pid *seen;
    long nseen;                 /* table size: pid_max */
    long long gone_vcsw, gone_ivcsw;
    /* rusage of reaped members: the leader (with all its waited-for descendants) and orphans */
    double ru_user_s, ru_sys_s;
    long long ru_vcsw, ru_ivcsw;
    int ru_leader;              /* the leader's rusage is in */
    double proc_cpu_reaped_s;   /* proc backend: CPU of reaped orphans, kept in its totals */
    double proc_cpu_last_s;     /* proc backend: the previous total (CPU never decreases) */
    int cgroup_cpu;             /* CPU totals come from cpuacct */
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
