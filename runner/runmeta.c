/* runmeta.c - meta.json. The build's compiler and flags are compiled in by mk/runner.mk
 * (CMB_CC, CMB_CFLAGS): the runner is built in the same make invocation as the servers. */
#include "runmeta.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#ifndef CMB_CC
#define CMB_CC "unknown"
#endif
#ifndef CMB_CFLAGS
#define CMB_CFLAGS "unknown"
#endif

void meta_stamp(char *buf, size_t len)
{
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    strftime(buf, len, "%Y-%m-%dT%H:%M:%S%z", &tm);
}

/* First line of a command's output, or "" (stderr discarded). */
static int first_line(const char *cmd, char *buf, size_t len)
{
    buf[0] = '\0';
    FILE *p = popen(cmd, "r");
    if (!p)
        return -1;
    if (fgets(buf, (int)len, p))
        buf[strcspn(buf, "\n")] = '\0';
    int rc = pclose(p);
    return rc == 0 ? 0 : -1;
}

void meta_init(struct meta *m, int argc, char **argv, const char *bindir)
{
    memset(m, 0, sizeof *m);
    meta_stamp(m->started, sizeof m->started);
    if (first_line("git rev-parse HEAD 2>/dev/null", m->git_rev, sizeof m->git_rev) < 0)
        snprintf(m->git_rev, sizeof m->git_rev, "unknown");
    char dirty[256];
    /* Tracked files only: untracked results or editor files do not make the build differ. */
    if (first_line("git status --porcelain --untracked-files=no 2>/dev/null | head -1", dirty, sizeof dirty) < 0)
        m->git_dirty = -1;
    else
        m->git_dirty = dirty[0] != '\0';
    if (!strcmp(m->git_rev, "unknown"))
        m->git_dirty = -1;
    char cmd[512];
    snprintf(cmd, sizeof cmd, "%s --version 2>/dev/null", CMB_CC);
    first_line(cmd, m->cc_version, sizeof m->cc_version);
    struct utsname u;
    if (uname(&u) == 0) {
        snprintf(m->kernel, sizeof m->kernel, "%s %s %s", u.sysname, u.release, u.version);
        snprintf(m->hostname, sizeof m->hostname, "%s", u.nodename);
    }
    char *cpu;
    if (ut_read_file("/proc/cpuinfo", &cpu) >= 0) {
        char *mn = strstr(cpu, "model name");
        if (mn && (mn = strchr(mn, ':')))
            snprintf(m->cpu_model, sizeof m->cpu_model, "%.*s", (int)strcspn(mn + 2, "\n"), mn + 2);
        free(cpu);
    }
    if (getloadavg(m->loadavg, 3) < 0)
        m->loadavg[0] = m->loadavg[1] = m->loadavg[2] = -1;
    size_t off = 0;
    for (int i = 0; i < argc && off + 1 < sizeof m->argv; i++)
        off += (size_t)snprintf(m->argv + off, sizeof m->argv - off, "%s%s", i ? " " : "", argv[i]);
    snprintf(m->bindir, sizeof m->bindir, "%s", bindir);
}

int meta_write(const char *path, const struct meta *m, const struct cfg *c, const struct pf_sys *s, char *err,
               size_t errlen)
{
    struct ut_str o = {0};
    ut_str_add(&o, "{\n  \"name\": ");
    ut_str_json(&o, c->name);
    ut_str_add(&o, ",\n  \"started\": ");
    ut_str_json(&o, m->started);
    ut_str_add(&o, ",\n  \"finished\": ");
    ut_str_json(&o, m->finished);
    ut_str_addf(&o, ",\n  \"wall_s\": %.1f,\n  \"interrupted\": %s,\n  \"runs\": {\"planned\": %d, \"done\": %d, "
                    "\"failed\": %d, \"skipped_resume\": %d},\n",
                m->wall_s, m->interrupted ? "true" : "false", m->planned, m->done, m->failed, m->skipped);
    if (m->repeats.len) {
        ut_str_add(&o, "  \"repeats\": ");
        ut_str_add(&o, m->repeats.s);
        ut_str_add(&o, ",\n");
    } else {
        ut_str_addf(&o, "  \"repeats\": {\"mode\": \"fixed\", \"repeats\": %ld},\n", c->d.repeats);
    }
    if (m->hosts.len) {
        ut_str_add(&o, "  \"hosts\": ");
        ut_str_add(&o, m->hosts.s);
        ut_str_add(&o, ",\n");
    }
    ut_str_add(&o, "  \"git\": {\"revision\": ");
    ut_str_json(&o, m->git_rev);
    ut_str_addf(&o, ", \"dirty\": %s},\n", m->git_dirty < 0 ? "null" : m->git_dirty ? "true" : "false");
    ut_str_add(&o, "  \"build\": {\"cc\": ");
    ut_str_json(&o, CMB_CC);
    ut_str_add(&o, ", \"cc_version\": ");
    ut_str_json(&o, m->cc_version);
    ut_str_add(&o, ", \"cflags\": ");
    ut_str_json(&o, CMB_CFLAGS);
    ut_str_add(&o, "},\n  \"host\": {\"hostname\": ");
    ut_str_json(&o, m->hostname);
    ut_str_add(&o, ", \"kernel\": ");
    ut_str_json(&o, m->kernel);
    ut_str_add(&o, ", \"cpu_model\": ");
    ut_str_json(&o, m->cpu_model);
    ut_str_addf(&o, ", \"cpus_online\": %d, \"loadavg_start\": [%.2f, %.2f, %.2f]},\n", s->ncpu, m->loadavg[0],
                m->loadavg[1], m->loadavg[2]);
    ut_str_addf(&o, "  \"limits\": {\"nofile_soft\": %ld, \"nofile_hard\": %ld, \"somaxconn\": %ld, "
                    "\"ip_local_port_range\": [%ld, %ld], \"tcp_tw_reuse\": %ld, \"pid_max\": %ld, "
                    "\"threads_max\": %ld},\n",
                s->nofile_soft, s->nofile_hard, s->somaxconn, s->port_lo, s->port_hi, s->tw_reuse, s->pid_max,
                s->threads_max);
    ut_str_addf(&o, "  \"pinning\": {\"server_cpus\": \"%s\", \"loadgen_cpus\": \"%s\", \"runner_cpus\": \"%s\"},\n",
                c->d.server_cpus, c->d.loadgen_cpus, c->d.runner_cpus ? c->d.runner_cpus : c->d.loadgen_cpus);
    ut_str_addf(&o, "  \"accounting\": {\"backend\": \"%s\", \"sample_interval_ms\": 100},\n",
                m->accounting ? m->accounting : "none");
    ut_str_add(&o, "  \"runner\": {\"argv\": ");
    ut_str_json(&o, m->argv);
    ut_str_add(&o, ", \"bindir\": ");
    ut_str_json(&o, m->bindir);
    ut_str_add(&o, "},\n  \"config\": ");
    cfg_to_json(c, &o);
    ut_str_add(&o, "\n}\n");
    int rc = ut_write_atomic(path, o.s, o.len, err, errlen);
    ut_str_free(&o);
    return rc;
}
