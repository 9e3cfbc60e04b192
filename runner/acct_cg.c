/* acct_cg.c - the cgroup v1 accounting backend: one cpuacct, memory and pids group per run, made
 * under the runner's own group in each hierarchy (the runner may itself live in a sub-group, as
 * in a container), removed after the run. Children inherit the group, so the tree is complete
 * however the server forks, and cpuacct counts the CPU of children nobody waited for. */
#include "acct.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { CG_CPUACCT, CG_MEMORY, CG_PIDS, CG_N };
static const char *const cg_names[CG_N] = {[CG_CPUACCT] = "cpuacct", [CG_MEMORY] = "memory", [CG_PIDS] = "pids"};

struct cg_state {
    char dir[CG_N][640]; /* "" where that controller is not available */
};

/* Where hierarchy `ctl` is mounted and where we sit in it: <mount><own path>. */
static int own_dir(const char *ctl, char *out, size_t len)
{
    char *cg = NULL, *mi = NULL, own[512] = "", mnt[512] = "", root[512] = "/";
    int rc = -1;
    if (ut_read_file("/proc/self/cgroup", &cg) < 0 || ut_read_file("/proc/self/mountinfo", &mi) < 0)
        goto out;
    /* /proc/self/cgroup: "4:memory:/process_api/x"; a hierarchy may carry several controllers. */
    char *s1, *s2, *s3;
    for (char *line = strtok_r(cg, "\n", &s1); line && !own[0]; line = strtok_r(NULL, "\n", &s1)) {
        char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
        if (!c2)
            continue;
        *c2 = '\0';
        for (char *t = strtok_r(c1 + 1, ",", &s2); t; t = strtok_r(NULL, ",", &s2))
            if (!strcmp(t, ctl))
                snprintf(own, sizeof own, "%s", c2 + 1);
    }
    /* mountinfo: "id parent maj:min root mountpoint opts ... - cgroup src super-opts". */
    for (char *line = strtok_r(mi, "\n", &s1); line && own[0]; line = strtok_r(NULL, "\n", &s1)) {
        char r[512], m[512], fstype[64], sopts[512];
        char *dash = strstr(line, " - ");
        if (!dash || sscanf(line, "%*s %*s %*s %511s %511s", r, m) != 2 ||
            sscanf(dash + 3, "%63s %*s %511s", fstype, sopts) != 2 || strcmp(fstype, "cgroup"))
            continue;
        for (char *t = strtok_r(sopts, ",", &s3); t; t = strtok_r(NULL, ",", &s3))
            if (!strcmp(t, ctl)) {
                snprintf(mnt, sizeof mnt, "%s", m);
                snprintf(root, sizeof root, "%s", r);
            }
    }
    if (!own[0] || !mnt[0])
        goto out;
    /* A mount of a sub-tree (root != "/") shows our path relative to that root. */
    const char *rel = own;
    size_t rl = strlen(root);
    if (strcmp(root, "/") && !strncmp(own, root, rl))
        rel = own + rl;
    snprintf(out, len, "%s%s", mnt, strcmp(rel, "/") ? rel : "");
    rc = 0;
out:
    free(cg);
    free(mi);
    return rc;
}

static int cg_open(struct acct *a, const char *tag, char *err, size_t errlen)
{
    struct cg_state *st = ut_calloc(1, sizeof *st);
    int made = 0;
    for (int c = 0; c < CG_N; c++) {
        char base[512];
        if (own_dir(cg_names[c], base, sizeof base) < 0)
            continue;
        snprintf(st->dir[c], sizeof st->dir[c], "%s/cmb-bench-%d-%s", base, (int)getpid(), tag);
        if (mkdir(st->dir[c], 0755) < 0 && errno != EEXIST) {
            snprintf(err, errlen, "mkdir %s: %s", st->dir[c], strerror(errno));
            st->dir[c][0] = '\0';
            continue;
        }
        made++;
    }
    a->state = st;
    if (!made || !st->dir[CG_CPUACCT][0]) {
        /* Without cpuacct the cgroup gives no CPU numbers: /proc does as well alone. */
        if (made)
            snprintf(err, errlen, "no writable cpuacct hierarchy");
        else if (!err[0])
            snprintf(err, errlen, "no writable cgroup v1 hierarchy");
        for (int c = 0; c < CG_N; c++)
            if (st->dir[c][0])
                rmdir(st->dir[c]);
        free(st);
        a->state = NULL;
        return -1;
    }
    return 0;
}

static int cg_attach(struct acct *a, pid_t pid, char *err, size_t errlen)
{
    struct cg_state *st = a->state;
    char path[700], num[32];
    int n = snprintf(num, sizeof num, "%d\n", (int)pid);
    for (int c = 0; c < CG_N; c++) {
        if (!st->dir[c][0])
            continue;
        snprintf(path, sizeof path, "%s/cgroup.procs", st->dir[c]);
        int fd = open(path, O_WRONLY | O_CLOEXEC);
        if (fd < 0 || write(fd, num, (size_t)n) != n) {
            snprintf(err, errlen, "%s: %s", path, strerror(errno));
            if (fd >= 0)
                close(fd);
            return -1;
        }
        close(fd);
    }
    return 0;
}

static int cg_members(struct acct *a, pid_t **out)
{
    struct cg_state *st = a->state;
    char path[700], *text;
    int c = st->dir[CG_PIDS][0] ? CG_PIDS : CG_CPUACCT;
    snprintf(path, sizeof path, "%s/cgroup.procs", st->dir[c]);
    *out = NULL;
    if (ut_read_file(path, &text) < 0)
        return 0;
    int n = 0, cap = 0;
    for (char *p = text, *end; *p; p = end) {
        long v = strtol(p, &end, 10);
        if (end == p)
            break;
        if (n == cap)
            *out = ut_realloc(*out, (size_t)(cap = cap ? cap * 2 : 64) * sizeof **out);
        (*out)[n++] = (pid_t)v;
    }
    free(text);
    return n;
}

static long long read_in(const char *dir, const char *file)
{
    char path[700];
    long long v;
    snprintf(path, sizeof path, "%s/%s", dir, file);
    return dir[0] && ut_read_ll(path, &v) == 0 ? v : -1;
}

static int cg_totals(struct acct *a, struct acct_sample *s, long *tasks_peak, long *mem_peak_kb)
{
    struct cg_state *st = a->state;
    long long total = read_in(st->dir[CG_CPUACCT], "cpuacct.usage");
    long long u = read_in(st->dir[CG_CPUACCT], "cpuacct.usage_user");
    long long sy = read_in(st->dir[CG_CPUACCT], "cpuacct.usage_sys");
    long long mem = read_in(st->dir[CG_MEMORY], "memory.usage_in_bytes");
    long long mpk = read_in(st->dir[CG_MEMORY], "memory.max_usage_in_bytes");
    long long tp = read_in(st->dir[CG_PIDS], "pids.peak");
    long long tc = read_in(st->dir[CG_PIDS], "pids.current");
    if (mem >= 0)
        s->mem_kb = (long)(mem / 1024);
    if (mpk >= 0)
        *mem_peak_kb = (long)(mpk / 1024);
    *tasks_peak = (long)(tp > tc ? tp : tc);
    if (tc > 0)
        s->threads = (int)tc;
    if (total < 0 || u < 0 || sy < 0)
        return 0;
    /* cpuacct.usage is exact (ns from the scheduler); the user/sys split is tick-sampled (4 ms
     * steps here), so it only divides the exact total (acct_cpu_between). */
    s->cpu_s = total / 1e9;
    s->cpu_user_s = u / 1e9;
    s->cpu_sys_s = sy / 1e9;
    return 1;
}

static int cg_close(struct acct *a)
{
    struct cg_state *st = a->state;
    int busy = 0;
    if (!st)
        return 0;
    for (int c = 0; c < CG_N; c++) {
        if (!st->dir[c][0])
            continue;
        if (rmdir(st->dir[c]) == 0 || errno == ENOENT)
            st->dir[c][0] = '\0';
        else
            busy = 1;
    }
    if (busy)
        return -1;
    free(st);
    a->state = NULL;
    return 0;
}

const struct acct_ops acct_cgroup_ops = {
    .name = "cgroup",
    .flags = ACCT_MEM | ACCT_TASKS,
    .open = cg_open,
    .attach = cg_attach,
    .members = cg_members,
    .totals = cg_totals,
    .close = cg_close,
};

void acct_cleanup_stale(void)
{
    for (int c = 0; c < CG_N; c++) {
        char base[512];
        if (own_dir(cg_names[c], base, sizeof base) < 0)
            continue;
        DIR *d = opendir(base);
        if (!d)
            continue;
        for (struct dirent *e; (e = readdir(d));) {
            int pid;
            if (sscanf(e->d_name, "cmb-bench-%d-", &pid) != 1 || pid == getpid() ||
                (kill(pid, 0) == 0 || errno != ESRCH))
                continue;
            char path[1024];
            snprintf(path, sizeof path, "%s/%s", base, e->d_name);
            if (rmdir(path) < 0)
                ut_log(UT_WARN, "stale cgroup %s of a dead runner still holds processes", path);
        }
        closedir(d);
    }
}
