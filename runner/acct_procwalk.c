/* acct_procwalk.c - the /proc accounting backend, for machines where the runner cannot create
 * cgroups: the tree is the server's process group plus every descendant of the server, found by
 * scanning /proc/<pid>/stat. A process that leaves the group and whose parent died before we saw
 * it escapes; the cgroup backend has no such gap. */
#include "acct.h"
#include "acct_proc.h"
#include "util.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>

static int pw_open(struct acct *a, const char *tag, char *err, size_t errlen)
{
    a->state = NULL;
    return 0;
}

static int pw_attach(struct acct *a, pid_t pid, char *err, size_t errlen)
{
    return 0; /* the spawner already put the server in its own process group */
}

struct pw_proc {
    pid_t pid, ppid, pgrp;
    int member;
};

static int pw_members(struct acct *a, pid_t **out)
{
    *out = NULL;
    DIR *d = opendir("/proc");
    if (!d)
        return 0;
    struct pw_proc *all = NULL;
    int n = 0, cap = 0;
    for (struct dirent *e; (e = readdir(d));) {
        char *end;
        long pid = strtol(e->d_name, &end, 10);
        struct acct_pstat ps;
        if (*end || pid <= 0 || acct_proc_stat((pid_t)pid, &ps) < 0)
            continue;
        if (n == cap)
            all = ut_realloc(all, (size_t)(cap = cap ? cap * 2 : 256) * sizeof *all);
        all[n++] = (struct pw_proc){.pid = (pid_t)pid, .ppid = ps.ppid, .pgrp = ps.pgrp,
                                    .member = pid == a->leader || (a->pgid > 0 && ps.pgrp == a->pgid)};
    }
    closedir(d);
    /* Descendants: spread membership down parent links until nothing changes. A pid-indexed
     * table keeps each pass linear (a fork server at 10k connections has 10k processes). */
    pid_t maxpid = 0;
    for (int i = 0; i < n; i++)
        if (all[i].pid > maxpid)
            maxpid = all[i].pid;
    char *in = ut_calloc((size_t)maxpid + 1, 1);
    for (int i = 0; i < n; i++)
        in[all[i].pid] = (char)all[i].member;
    for (int changed = 1; changed;) {
        changed = 0;
        for (int i = 0; i < n; i++)
            if (!all[i].member && all[i].ppid > 0 && all[i].ppid <= maxpid && in[all[i].ppid])
                all[i].member = in[all[i].pid] = 1, changed = 1;
    }
    free(in);
    int m = 0;
    for (int i = 0; i < n; i++)
        m += all[i].member;
    *out = ut_calloc((size_t)m + 1, sizeof **out);
    m = 0;
    for (int i = 0; i < n; i++)
        if (all[i].member)
            (*out)[m++] = all[i].pid;
    free(all);
    return m;
}

static int pw_totals(struct acct *a, struct acct_sample *s, long *tasks_peak, long *mem_peak_kb)
{
    return 0; /* no tree-wide counters: CPU comes from the per-process sums */
}

static int pw_close(struct acct *a)
{
    return 0;
}

const struct acct_ops acct_proc_ops = {
    .name = "proc",
    .flags = 0, /* no tree-wide counters: only what the per-process scan finds */
    .open = pw_open,
    .attach = pw_attach,
    .members = pw_members,
    .totals = pw_totals,
    .close = pw_close,
};
