/* remote.c - a server on another host (remote.h). */
#include "remote.h"
#include "runloop.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void remote_srv_argv(const struct run *r, const struct host_conn *hc, const char *rwork, char *const argv[],
                     struct spawn_argv *out)
{
    struct spawn_argv a = {0};
    spawn_arg(&a, "%s/cmb-run", hc->bindir);
    spawn_arg(&a, "--grace"), spawn_arg(&a, "%g", r->e->c->d.stop_grace);
    spawn_arg(&a, "--sample"), spawn_arg(&a, "%s.samples", rwork);
    if (hc->h->cpus)
        spawn_arg(&a, "taskset"), spawn_arg(&a, "-c"), spawn_arg(&a, "%s", hc->h->cpus);
    for (int i = 0; argv[i]; i++)
        spawn_arg(&a, "%s", argv[i]);
    host_argv(hc, a.v, out);
    spawn_argv_free(&a);
}

/* The file at path there, whole, into *out. */
static int get(const struct host_conn *hc, const char *path, struct ut_str *out, char *err, size_t errlen)
{
    char script[1700];
    snprintf(script, sizeof script, "cat '%.1600s'", path);
    return host_sh(hc, script, NULL, 0, out, 30, err, errlen) == 0 ? 0 : -1;
}

void remote_srv_stats(const struct host_conn *hc, const char *rwork, const char *work)
{
    char path[1600], e[UT_ERRLEN];
    struct ut_str stats = {0};
    snprintf(path, sizeof path, "%s.stats.json", rwork);
    if (get(hc, path, &stats, e, sizeof e) == 0) {
        snprintf(path, sizeof path, "%s.stats.json", work);
        ut_write_atomic(path, stats.s ? stats.s : "", stats.len, e, sizeof e);
    }
    ut_str_free(&stats);
}

int remote_srv_collect(struct run *r, const struct host_conn *hc, const char *rwork, const char *work,
                       struct run_facts *f, char *err, size_t errlen)
{
    char path[1600], e[UT_ERRLEN];
    struct ut_str smp = {0};
    (void)work;
    snprintf(path, sizeof path, "%s.samples", rwork);
    if (get(hc, path, &smp, e, sizeof e) < 0) {
        snprintf(err, errlen, "the server's samples on %s: %s", hc->h->name, e);
        return -1;
    }
    char script[1600];
    snprintf(script, sizeof script, "rm -f '%s'.*", rwork);
    host_sh(hc, script, NULL, 0, NULL, 30, e, sizeof e);
    /* Their wall clock onto our monotonic one: less the host's offset, then our own wall-to-monotonic. */
    double shift = -hc->clock_offset_s - (ut_wall() - ut_now());
    struct acct_sample best[2] = {{0}};
    double gap[2] = {HUGE_VAL, HUGE_VAL};
    int have = 0;
    char *save = NULL;
    for (char *l = strtok_r(smp.s ? smp.s : "", "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
        struct acct_sample s = {0};
        double wall;
        long long vcsw, ivcsw;
        if (sscanf(l, "s %lf %lf %lf %lf %ld %ld %d %d %d", &wall, &s.cpu_s, &s.cpu_user_s, &s.cpu_sys_s, &s.rss_kb,
                   &s.mem_kb, &s.threads, &s.procs, &s.fds) == 9) {
            s.t = wall + shift;
            for (int k = 0; k < 2; k++) /* the samples nearest the window's edges */
                if (fabs(s.t - r->edge[k]) < gap[k])
                    gap[k] = fabs(s.t - r->edge[k]), best[k] = s;
            have++;
        } else if (sscanf(l, "end %ld %ld %d %d %d %lld %lld", &f->rss_peak_kb, &f->mem_peak_kb, &f->threads_peak,
                          &f->procs_peak, &f->fds_peak, &vcsw, &ivcsw) == 7) {
            f->vcsw = vcsw, f->ivcsw = ivcsw;
        }
    }
    ut_str_free(&smp);
    if (have < 2 || best[1].t <= best[0].t) {
        snprintf(err, errlen, "the server's samples on %s do not cover the window", hc->h->name);
        return -1;
    }
    f->have_acct = 1;
    acct_cpu_between(&best[0], &best[1], &f->cpu_user_s, &f->cpu_sys_s);
    f->window_s = best[1].t - best[0].t;
    f->host_busy_s = f->cpu_user_s + f->cpu_sys_s; /* others on that host are not seen from here */
    if (gap[0] > 0.15 || gap[1] > 0.15)
        rl_note(r, "server CPU window sampled %.2f s off its edges on %s: CPU columns approximate",
                fmax(gap[0], gap[1]), hc->h->name);
    return 0;
}
