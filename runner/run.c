/* run.c - the script of one row: start the server, wait until it is ready, load it, stop it and
 * collect the row. Process control (waiting, stopping, killing) is child.c's, and every wait goes
 * through rl_pump, so Ctrl-C is seen at once; every exit path leaves no process of the run behind. */
#include "run.h"
#include "child.h"
#include "extsrv.h"
#include "hosts.h"
#include "json.h"
#include "loader.h"
#include "remote.h"
#include "row.h"
#include "runloop.h"
#include "spawn.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* --- start --------------------------------------------------------------------------------- */

static void server_argv(struct run_env *e, const struct plan_row *pr, const char *bindir, const char *stats,
                        struct spawn_argv *a)
{
    const struct cfg *c = e->c;
    const struct cfg_server *s = &c->srv[pr->srv];
    const struct cfg_server eff = cfg_srv_effective(c, s);
    long workers = eff.workers, max_conns = eff.max_conns, backlog = eff.backlog;
    const char *docroot = eff.docroot;
    spawn_arg(a, "%s/server-%s", bindir, s->model);
    const struct hosts_place *pl = e->hosts ? &e->hosts->place[pr->srv] : NULL;
    spawn_arg(a, "--host"), spawn_arg(a, "%s", pl && pl->remote ? pl->server->address : c->d.host);
    spawn_arg(a, "--port"), spawn_arg(a, "%ld", c->d.port);
    spawn_arg(a, "--proto"), spawn_arg(a, "%s", c->d.proto == CFG_HTTP ? "http" : "echo");
    spawn_arg(a, "--idle-timeout"), spawn_arg(a, "%ld", cfg_srv_idle_timeout(c, s));
    spawn_arg(a, "--work-us"), spawn_arg(a, "%ld", pr->ax[CFG_WORK_US]);
    if (workers)
        spawn_arg(a, "--workers"), spawn_arg(a, "%ld", workers);
    if (max_conns)
        spawn_arg(a, "--max-conns"), spawn_arg(a, "%ld", max_conns);
    if (backlog)
        spawn_arg(a, "--backlog"), spawn_arg(a, "%ld", backlog);
    if (docroot)
        spawn_arg(a, "--docroot"), spawn_arg(a, "%s", docroot);
    spawn_arg(a, "--stats"), spawn_arg(a, "%s", stats);
    for (int i = 0; i < c->d.nserver_args; i++)
        spawn_arg(a, "%s", c->d.server_args[i]);
    for (int i = 0; i < s->nargs; i++)
        spawn_arg(a, "%s", s->args[i]);
}

/* The accounting backend meta.json names: the one every run used, or "mixed" when they differed. */
static void note_backend(struct run_env *e, const char *name)
{
    e->accounting = !e->accounting || !strcmp(e->accounting, name) ? name : "mixed";
}

/* Start: the port free, the accounting open, the server spawned into it (one of ours with its
 * --stats file; an external one on a port chosen here, its files in extdir), the sampling clock
 * running. Returns why it failed or NULL. */
static const char *start(struct run *r, const char *stats, const char *extdir, char *why, size_t len)
{
    struct run_env *e = r->e;
    const struct cfg *c = e->c;
    const struct plan_row *pr = r->pr;
    const struct cfg_server *sv = &c->srv[pr->srv];
    char err[UT_ERRLEN], cmd[4096], tag[32];
    int external = cfg_srv_external(sv);

    if (c->d.port && child_wait_port(r, (int)c->d.port, 5) < 0) {
        snprintf(why, len, "port %ld is in use (another server still running?)", c->d.port);
        return why;
    }
    const struct hosts_place *pl = e->hosts ? &e->hosts->place[pr->srv] : NULL;
    if (pl && !pl->server->shares_files && !external) {
        /* Elsewhere: cmb-run there runs it, stops it and accounts its tree (remote.c). */
        r->remote = pl->server;
        snprintf(r->rwork, sizeof r->rwork, "%s/%s", r->remote->workdir, pr->key);
        char rstats[1500];
        snprintf(rstats, sizeof rstats, "%s.stats.json", r->rwork);
        struct spawn_argv a = {0}, full = {0};
        server_argv(e, pr, r->remote->bindir, rstats, &a);
        remote_srv_argv(r, r->remote, r->rwork, a.v, &full);
        spawn_argv_free(&a);
        char exe[1024];
        if (!strchr(full.v[0], '/') && ext_which(full.v[0], exe, sizeof exe) == 0)
            free(full.v[0]), full.v[0] = ut_strdup(exe);
        spawn_cmdline(full.v, cmd, sizeof cmd);
        ut_log(UT_DEBUG, "server on %s: %s", r->remote->h->name, cmd);
        struct spawn_opts so = {.stdout_pipe = 1, .log_fd = ut_log_fd(), .stdin_fd = &r->srv_stdin};
        pid_t pid = spawn_start(full.v, &so, &r->out_fd, err, sizeof err);
        spawn_argv_free(&full);
        if (pid < 0) {
            snprintf(why, len, "server on %s: %s", r->remote->h->name, err);
            return why;
        }
        note_backend(e, "remote");
        r->srv = (struct kid){.pid = pid, .alive = 1, .t_start = ut_now()};
        return NULL;
    }
    snprintf(tag, sizeof tag, pr->seq ? "%d-%d" : "%d", pr->order, pr->seq); /* probes share an order */
    if (acct_open(&r->acct, tag, e->use_cgroup, err, sizeof err) < 0) {
        snprintf(why, len, "accounting: %s", err);
        return why;
    }
    r->acct_on = 1;

    struct spawn_argv a = {0};
    if (external) {
        /* Its port is chosen here (it prints none), its files go to a private directory. */
        struct ext_vars v;
        r->port = c->d.port ? (int)c->d.port : ext_free_port(c->d.host, err, sizeof err);
        ext_vars_of(c, sv, pr->ax, e->sys->nofile_soft, extdir, r->port, &v);
        if (r->port < 0 || ext_prepare(sv, &v, &a, err, sizeof err) < 0) {
            r->port = 0;
            spawn_argv_free(&a);
            snprintf(why, len, "%s", err);
            return why;
        }
    } else {
        server_argv(e, pr, e->bindir, stats, &a);
        if (pl && pl->server->h->kind == CFG_HOST_NETNS) {
            /* ip netns exec execs the server: the same process, pinned and accounted as here. */
            struct spawn_argv placed = {0};
            host_argv(pl->server, a.v, &placed);
            spawn_argv_free(&a);
            a = placed;
        }
    }
    spawn_cmdline(a.v, cmd, sizeof cmd);
    ut_log(UT_DEBUG, "server: %s", cmd);
    struct spawn_opts so = {.cpus = &r->server_cpus, .stdout_pipe = !external, .log_fd = ut_log_fd(), .acct = &r->acct};
    pid_t pid = spawn_start(a.v, &so, &r->out_fd, err, sizeof err);
    spawn_argv_free(&a);
    if (pid < 0) {
        snprintf(why, len, "%s", err);
        return why;
    }
    note_backend(e, r->acct.ops->name); /* after the attach, which may have fallen back to /proc */
    r->srv = (struct kid){.pid = pid, .alive = 1, .t_start = ut_now()};
    r->sampling = 1;
    rl_sample(r, 0);
    return NULL;
}

/* --- load ---------------------------------------------------------------------------------- */

/* A wrk or h2load summary (<work>.out) into the loadgen's JSON (<work>.lg.json), its text copied
 * to the log. Returns why it failed or NULL. */
static const char *convert(struct run *r, const struct loader *ld, const char *work, char *why, size_t len)
{
    char path[1400], err[UT_ERRLEN], st[64];
    char *text = NULL;
    struct ut_str j = {0};
    snprintf(path, sizeof path, "%s.out", work);
    if (ut_read_file(path, &text) < 0) {
        snprintf(why, len, "%s wrote no output (%s)", ld->name, rl_status_str(r->lg[0].status, st, sizeof st));
        return why;
    }
    char *lines = ut_strdup(text); /* strtok_r cuts what it walks */
    for (char *save = NULL, *l = strtok_r(lines, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
        if (!strstr(l, "progress: ")) /* h2load's per-10% lines say nothing */
            ut_log(UT_DEBUG, "%s: %s", ld->name, l);
    free(lines);
    const char *fail = NULL;
    if (ld->to_json(text, &j, err, sizeof err) < 0) {
        snprintf(why, len, "%s (%s): %s; its output is in the log", ld->name, rl_status_str(r->lg[0].status, st, sizeof st),
                 err);
        fail = why;
    } else {
        snprintf(path, sizeof path, "%s.lg.json", work);
        if (ut_write_atomic(path, j.s, j.len, err, sizeof err) < 0)
            snprintf(why, len, "%s", err), fail = why;
    }
    free(text);
    ut_str_free(&j);
    return fail;
}

/* One run of the loader, pinned to loadgen_cpus in its own group, sampled until it exits. With
 * `measured`, one sample is taken exactly at the start of its measured window and one at the end:
 * the server's CPU is then counted over the same window as its requests (not over a drain of
 * late answers at the end). A warm-up run (wrk) is not measured and its output is dropped. */
static const char *invoke(struct run *r, const struct loader *ld, const char *work, int measured, char *why,
                          size_t len)
{
    const struct cfg *c = r->e->c;
    struct spawn_argv a = {0};
    char cmd[4096], err[UT_ERRLEN], exe[1400], out[1400];
    double seconds = measured ? c->d.duration : c->d.warmup;
    struct loader_ctx x = {.c = c, .pr = r->pr, .bindir = r->e->bindir, .port = r->port, .work = work,
                           .seconds = seconds};
    ld->argv(&x, &a);
    if (ld->program) { /* found on PATH: execv wants the path */
        loader_path(ld, r->e->bindir, exe, sizeof exe);
        free(a.v[0]);
        a.v[0] = ut_strdup(exe);
    }
    spawn_cmdline(a.v, cmd, sizeof cmd);
    ut_log(UT_DEBUG, "%s%s: %s", ld->name, measured ? "" : " (warm-up, not measured)", cmd);
    snprintf(out, sizeof out, "%s.out", work);
    struct spawn_opts lo = {.cpus = &r->e->loadgen_cpus, .log_fd = ut_log_fd(),
                            .stdout_path = !ld->to_json ? NULL : measured ? out : "/dev/null"};
    int dummy;
    pid_t pid = spawn_start(a.v, &lo, &dummy, err, sizeof err);
    spawn_argv_free(&a);
    if (pid < 0) {
        snprintf(why, len, "%s", err);
        return why;
    }
    /* A warm-up run before this one: its CPU and start time stay in the loader's totals. */
    double now = ut_now(), lead = ld->own_warmup ? c->d.warmup : 0;
    r->lg[0] = (struct kid){.pid = pid, .alive = 1, .t_start = r->lg[0].pid ? r->lg[0].t_start : now,
                            .cpu_s = r->lg[0].cpu_s};
    r->nlg = 1;
    r->edge[0] = now + lead;
    r->edge[1] = r->edge[0] + c->d.duration;
    r->edge_sample[0] = r->edge_sample[1] = -1;
    /* wrk and h2load end their measurement when they like (wrk checks its stop flag every 100 ms
     * and counts the requests up to then): their window ends when they exit, the sample after. */
    r->nedges = !measured ? 0 : ld->to_json ? 1 : 2, r->next_edge = 0;
    /* Connecting many sockets takes time before the clock of the loadgen even starts. */
    double limit = lead + seconds + c->d.timeout + 10 + (r->pr->ax[CFG_CONNECTIONS] + r->pr->ax[CFG_IDLE]) / 1000.0;
    double end = now + limit;
    while (r->lg[0].alive && !r->e->interrupted && ut_now() < end)
        rl_pump(r, end);
    r->nedges = 0;
    if (r->e->interrupted)
        return NULL;
    if (r->lg[0].alive) {
        child_kill_all(r, 0.5);
        snprintf(why, len, "%s still running %.0f s after its start: killed", ld->name, limit);
        return why;
    }
    child_sweep_loadgen(r, ld->name);
    return measured && ld->to_json ? convert(r, ld, work, why, len) : NULL;
}

/* Agent k's files, here and on its host: copied over its channel, then removed there. */
static int fetch(struct run *r, int k, const char *rwork, const char *lwork, char *err, size_t errlen)
{
    struct host_conn *hc = r->e->hosts->place[r->pr->srv].lg[k];
    static const char *const files[] = {".lg.json", ".ts.csv", ".hgrm", ".hlog"};
    char script[3200], path[1500], e[UT_ERRLEN];
    for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
        struct ut_str out = {0};
        snprintf(script, sizeof script, "cat '%.1400s%s'", rwork, files[i]);
        int rc = host_sh(hc, script, NULL, 0, &out, 30, e, sizeof e);
        snprintf(path, sizeof path, "%s%s", lwork, files[i]);
        if (rc == 0 && ut_write_atomic(path, out.s ? out.s : "", out.len, err, errlen) < 0) {
            ut_str_free(&out);
            return -1;
        }
        ut_str_free(&out);
    }
    snprintf(script, sizeof script, "rm -f '%.1400s'.*", rwork);
    host_sh(hc, script, NULL, 0, NULL, 30, e, sizeof e);
    return 0;
}

/* The measured run spread over the hosts of loadgen_hosts (agents.c): each agent its share of
 * the point, all opening their windows at one wall-clock instant T chosen here, late enough for
 * every one to connect and warm up; remote ones under cmb-run, which stops them when their
 * channel closes. Their outputs are fetched and merged into <work>'s files, as one loadgen's. */
static const char *invoke_agents(struct run *r, const char *work, char *why, size_t len)
{
    struct run_env *e = r->e;
    const struct cfg *c = e->c;
    const struct hosts_place *hr = &e->hosts->place[r->pr->srv];
    struct agent_share share[AGENTS_MAX];
    struct agent_out out[AGENTS_MAX];
    char cmd[4096], err[UT_ERRLEN], rwork[AGENTS_MAX][1400];
    int n = hr->nlg < AGENTS_MAX ? hr->nlg : AGENTS_MAX;
    agents_split(r->pr, n, share);
    double setup = 1.0 + (double)(r->pr->ax[CFG_CONNECTIONS] + r->pr->ax[CFG_IDLE]) / 2000.0;
    double T = ut_wall() + c->d.warmup + setup, mono_T = ut_now() + (T - ut_wall());
    int used = 0;
    memset(out, 0, sizeof out);
    for (int k = 0; k < n; k++) {
        if (share[k].connections == 0)
            continue; /* fewer connections than hosts: this one has nothing to do */
        struct host_conn *hc = hr->lg[k];
        struct agent_out *ao = &out[used];
        ao->host = hc->h->name;
        host_where(hc->h, ao->placement, sizeof ao->placement);
        cpu_set_t set;
        int pinned = hc->h->cpus && ut_parse_cpus(hc->h->cpus, &set) > 0;
        snprintf(ao->cpus, sizeof ao->cpus, "%s/%s", hc->boot_id, pinned ? hc->h->cpus : "all");
        ao->ncpus = pinned ? CPU_COUNT(&set) : hc->ncpus;
        ao->clock_offset_s = hc->clock_offset_s, ao->clock_err_s = hc->clock_err_s;
        ao->share = share[k];
        snprintf(ao->work, sizeof ao->work, "%s.a%d", work, used + 1);
        if (hc->shares_files)
            snprintf(rwork[used], sizeof rwork[used], "%s", ao->work);
        else
            snprintf(rwork[used], sizeof rwork[used], "%s/%s.a%d", hc->workdir, r->pr->key, used + 1);
        struct loader_ctx x = {.c = c, .pr = r->pr, .bindir = hc->bindir, .port = r->port, .work = rwork[used],
                               .seconds = c->d.duration, .host = hr->server->address, .share = &share[k],
                               .start_at = T, .hlog = 1};
        struct spawn_argv a = {0}, full = {0};
        if (!hc->shares_files)
            spawn_arg(&a, "%s/cmb-run", hc->bindir);
        if (hc->h->cpus) /* a host that is this machine too (a test network) keeps off the server's CPUs */
            spawn_arg(&a, "taskset"), spawn_arg(&a, "-c"), spawn_arg(&a, "%s", hc->h->cpus);
        loader_of(r->pr)->argv(&x, &a);
        host_argv(hc, a.v, &full);
        spawn_argv_free(&a);
        char exe[1024];
        if (!strchr(full.v[0], '/') && ext_which(full.v[0], exe, sizeof exe) == 0) {
            free(full.v[0]);
            full.v[0] = ut_strdup(exe);
        }
        spawn_cmdline(full.v, cmd, sizeof cmd);
        ut_log(UT_DEBUG, "agent %d on %s: %s", used + 1, hc->h->name, cmd);
        int remote = !hc->shares_files, dummy;
        r->lg_stdin[used] = -1;
        struct spawn_opts lo = {.cpus = remote ? NULL : &e->loadgen_cpus, .log_fd = ut_log_fd(),
                                .stdin_fd = remote ? &r->lg_stdin[used] : NULL};
        pid_t pid = spawn_start(full.v, &lo, &dummy, err, sizeof err);
        spawn_argv_free(&full);
        if (pid < 0) {
            snprintf(why, len, "agent %d on %s: %s", used + 1, hc->h->name, err);
            child_kill_all(r, 0.5);
            return why;
        }
        r->lg[used] = (struct kid){.pid = pid, .alive = 1, .t_start = ut_now()};
        r->nlg = ++used;
    }
    r->edge[0] = mono_T;
    r->edge[1] = mono_T + c->d.duration;
    r->edge_sample[0] = r->edge_sample[1] = -1;
    r->nedges = 2, r->next_edge = 0;
    double limit = (mono_T - ut_now()) + c->d.duration + c->d.timeout + 10, end = ut_now() + limit;
    while (run_lg_alive(r) && !e->interrupted && ut_now() < end)
        rl_pump(r, end);
    r->nedges = 0;
    if (e->interrupted)
        return NULL;
    if (run_lg_alive(r)) {
        int k = 0;
        while (!r->lg[k].alive)
            k++;
        child_kill_all(r, 0.5);
        snprintf(why, len, "agent %d on %s still running %.0f s after its start: killed", k + 1, out[k].host, limit);
        return why;
    }
    child_sweep_loadgen(r, "loadgen");
    const char *fail = NULL;
    for (int k = 0; k < used; k++) {
        if (r->lg_stdin[k] >= 0)
            close(r->lg_stdin[k]), r->lg_stdin[k] = -1;
        rl_status_str(r->lg[k].status, out[k].exit, sizeof out[k].exit);
        if (!hr->lg[k]->shares_files && fetch(r, k, rwork[k], out[k].work, err, sizeof err) < 0 && !fail)
            snprintf(why, len, "agent %d on %s: %s", k + 1, out[k].host, err), fail = why;
    }
    char hlog[1200];
    snprintf(hlog, sizeof hlog, "%s/hlog", e->bindir);
    if (!fail && agents_merge(work, r->pr->key, out, used, c->d.warmup, hlog, &e->agent_cells, &e->nagent_cells, err,
                              sizeof err) < 0)
        snprintf(why, len, "%s", err), fail = why;
    for (int k = 0; k < used; k++) {
        static const char *const sfx[] = {".lg.json", ".ts.csv", ".hgrm", ".hlog"};
        char p[1500];
        for (size_t i = 0; i < sizeof sfx / sizeof *sfx; i++) {
            snprintf(p, sizeof p, "%s%s", out[k].work, sfx[i]);
            if (i < 3 || fail) /* an agent's interval log is kept beside the merged one */
                unlink(p);
        }
    }
    return fail;
}

/* The load: a warm-up run first for a loader that has none of its own, then the measured run.
 * Returns why it failed or NULL; *iws / *iwe: the samples bounding the measured window. */
static const char *load(struct run *r, const char *work, int *iws, int *iwe, char *why, size_t len)
{
    const struct loader *ld = loader_of(r->pr);
    const char *fail = NULL;
    int agents = r->e->hosts && r->e->hosts->place[r->pr->srv].remote;
    if (agents)
        fail = invoke_agents(r, work, why, len);
    else if (!ld->own_warmup && r->e->c->d.warmup > 0)
        fail = invoke(r, ld, work, 0, why, len);
    if (!fail && !r->e->interrupted && !agents)
        fail = invoke(r, ld, work, 1, why, len);
    if (r->e->interrupted || !r->acct_on)
        return fail;
    /* The loader ended early (a failure, or a window cut short): what there was. */
    int last = rl_sample(r, 0);
    *iws = r->edge_sample[0] >= 0 ? r->edge_sample[0] : last;
    *iwe = r->edge_sample[1] >= 0 ? r->edge_sample[1] : last;
    /* A window edge sampled late means the server's CPU is counted over another window than the
     * loader's requests: on an overloaded machine (or a /proc scan of a huge tree) say so. */
    double late = 0;
    for (int k = 0; k < 2; k++) {
        int i = k ? *iwe : *iws;
        if (r->edge_sample[k] >= 0 && r->smp[i].t - r->edge[k] > late)
            late = r->smp[i].t - r->edge[k];
    }
    if (late > 0.1)
        rl_note(r, "server CPU window sampled %.2f s late (machine overloaded?): CPU columns approximate", late);
    return fail;
}

/* --- collect ------------------------------------------------------------------------------- */

/* The files of one run in .work/: outputs of the loader and the server. */
static void unlink_temps(const char *work)
{
    static const char *const temps[] = {".lg.json", ".stats.json", ".ts.csv", ".hgrm", ".out", ".hlog"};
    char path[1400];
    for (size_t i = 0; i < sizeof temps / sizeof *temps; i++) {
        snprintf(path, sizeof path, "%s%s", work, temps[i]);
        unlink(path);
    }
}

/* Gather the outputs into the row; the loadgen's exit status decides if there is a result. */
static void collect(struct run *r, const char *fail, const char *work, int iws, int iwe, struct res_row *row,
                    struct ut_str *ts)
{
    struct run_env *e = r->e;
    char path[1400], err[UT_ERRLEN], why[2 * UT_ERRLEN], st[64];
    struct json *lg = NULL, *stats = NULL;
    if (!fail && r->nlg) {
        snprintf(path, sizeof path, "%s.lg.json", work);
        lg = json_parse_file(path, err, sizeof err);
        if (!lg) {
            snprintf(why, sizeof why, "%s %s without a usable --json (%s)", loader_of(r->pr)->name,
                     rl_status_str(r->lg[0].status, st, sizeof st), err);
            fail = why;
        }
        for (int k = 0; lg && k < r->nlg; k++)
            if (!WIFEXITED(r->lg[k].status) || WEXITSTATUS(r->lg[k].status) != 0)
                rl_note(r, "%s%s ended with %s", loader_of(r->pr)->name, r->nlg > 1 ? " agent" : "",
                        rl_status_str(r->lg[k].status, st, sizeof st));
    }
    if (r->remote && r->ready)
        remote_srv_stats(r->remote, r->rwork, work);
    snprintf(path, sizeof path, "%s.stats.json", work);
    if (r->srv.pid && access(path, F_OK) == 0 && !(stats = json_parse_file(path, err, sizeof err)))
        rl_note(r, "server stats unreadable: %s", err);
    else if (r->ready && !stats && WIFEXITED(r->srv.status) && WEXITSTATUS(r->srv.status) == 0 &&
             !cfg_srv_external(&e->c->srv[r->pr->srv]))
        rl_note(r, "server exited 0 but wrote no --stats file");
    struct run_facts f = {.c = e->c, .pr = r->pr, .lg = lg, .stats = stats, .fail = fail,
                          .server_ncpu = r->server_ncpu, .loadgen_ncpu = e->sys->loadgen_ncpu};
    cpu_set_t both;
    CPU_AND(&both, &e->loadgen_cpus, &r->server_cpus);
    f.lg_on_server_cpus = CPU_EQUAL(&both, &e->loadgen_cpus) && !(e->hosts && e->hosts->place[r->pr->srv].remote);
    if (r->acct_on && iws >= 0 && iwe >= iws) {
        const struct acct_sample *a = &r->smp[iws], *b = &r->smp[iwe];
        f.have_acct = 1;
        acct_cpu_between(a, b, &f.cpu_user_s, &f.cpu_sys_s);
        f.host_busy_s = b->host_busy_s - a->host_busy_s;
        f.window_s = b->t - a->t;
        f.rss_peak_kb = r->acct.rss_peak_kb;
        f.mem_peak_kb = acct_mem_peak_kb(&r->acct);
        f.threads_peak = acct_threads_peak(&r->acct);
        f.procs_peak = acct_procs_peak(&r->acct);
        f.fds_peak = r->acct.fds_peak;
        acct_ctxsw(&r->acct, &f.vcsw, &f.ivcsw);
    }
    if (r->remote && r->ready && remote_srv_collect(r, r->remote, r->rwork, work, &f, err, sizeof err) < 0)
        rl_note(r, "%s", err);
    if (run_lg_exit(r) > 0) {
        for (int k = 0; k < r->nlg; k++)
            f.lg_cpu_s += r->lg[k].cpu_s;
        f.lg_wall_s = run_lg_exit(r) - run_lg_start(r);
        double u, sy; /* agents elsewhere: their own CPU, not that of the ssh carrying them */
        if (e->hosts && e->hosts->place[r->pr->srv].remote && lg && json_num(lg, "cpu.user_s", &u) == 0 && json_num(lg, "cpu.sys_s", &sy) == 0)
            f.lg_cpu_s = u + sy;
    }
    f.notes = r->notes.s;
    if (getenv("BENCH_DEBUG_SAMPLES"))
        for (int i = 0; i < r->nsmp; i++)
            ut_log(UT_DEBUG, "sample %d t=%.3f cpu=%.3f user=%.3f sys=%.3f rss=%ld procs=%d cost=%.4f%s%s", i,
                   r->smp[i].t - run_lg_start(r), r->smp[i].cpu_s, r->smp[i].cpu_user_s, r->smp[i].cpu_sys_s, r->smp[i].rss_kb,
                   r->smp[i].procs, r->smp[i].cost_s, i == iws ? " <window start" : "", i == iwe ? " <window end" : "");
    row_build(&f, row);
    char bwhy[256];
    const char *b = row_bottleneck(&f, bwhy, sizeof bwhy);
    if (b && strcmp(b, "none"))
        ut_log(UT_DEBUG, "%s: bottleneck %s (%s)", r->pr->key, b, bwhy);
    snprintf(path, sizeof path, "%s.ts.csv", work);
    if (!fail && run_lg_exit(r) > 0)
        row_timeseries(&f, access(path, R_OK) == 0 ? path : NULL, r->smp, r->nsmp, run_lg_start(r), ts);
    /* The histogram moves into hist/ under the row's key; the rest of .work goes. */
    char hist[1400], dst[1300];
    snprintf(hist, sizeof hist, "%s.hgrm", work);
    snprintf(dst, sizeof dst, "%s/hist/%s.hgrm", e->res->dir, r->pr->key);
    if (!fail && access(hist, F_OK) == 0 && rename(hist, dst) < 0)
        ut_log(UT_WARN, "%s: %s", dst, strerror(errno));
    /* Agents: the merged interval log and each agent's own, beside the histogram. */
    for (int k = 0; k <= (e->hosts && e->hosts->place[r->pr->srv].remote ? r->nlg : -1); k++) {
        char sfx[16] = "";
        if (k)
            snprintf(sfx, sizeof sfx, ".a%d", k);
        snprintf(hist, sizeof hist, "%s%s.hlog", work, sfx);
        snprintf(dst, sizeof dst, "%s/hist/%s%s.hlog", e->res->dir, r->pr->key, sfx);
        if (access(hist, F_OK) == 0 && (fail || rename(hist, dst) < 0))
            unlink(hist);
    }
    unlink_temps(work);
    json_free(lg);
    json_free(stats);
}

/* --- the row, and the pause between rows ------------------------------------------------ */

double run_lg_start(const struct run *r)
{
    double t = 0;
    for (int k = 0; k < r->nlg; k++)
        t = k == 0 || r->lg[k].t_start < t ? r->lg[k].t_start : t;
    return t;
}

double run_lg_exit(const struct run *r)
{
    double t = 0;
    for (int k = 0; k < r->nlg; k++) {
        if (r->lg[k].t_exit <= 0)
            return 0; /* one has not exited (or never ran): no end yet */
        t = r->lg[k].t_exit > t ? r->lg[k].t_exit : t;
    }
    return t;
}

int run_lg_alive(const struct run *r)
{
    for (int k = 0; k < r->nlg; k++)
        if (r->lg[k].alive)
            return 1;
    return 0;
}

static void run_init(struct run *r, struct run_env *e, const struct plan_row *pr)
{
    memset(r, 0, sizeof *r);
    r->e = e, r->pr = pr, r->out_fd = -1, r->srv_stdin = -1;
    for (int k = 0; k < AGENTS_MAX; k++)
        r->lg_stdin[k] = -1;
    r->server_cpus = e->server_cpus;
    r->server_ncpu = CPU_COUNT(&e->server_cpus);
    if (pr) {
        const struct cfg_server s = cfg_srv_effective(e->c, &e->c->srv[pr->srv]);
        if (s.server_cpus && ut_parse_cpus(s.server_cpus, &r->server_cpus) > 0)
            r->server_ncpu = CPU_COUNT(&r->server_cpus);
    }
}

int run_row(struct run_env *e, const struct plan_row *pr, struct res_row *row, struct ut_str *ts)
{
    struct run r;
    run_init(&r, e, pr);
    char work[1300], stats[1400], why[2 * UT_ERRLEN], extdir[1400];
    int iws = -1, iwe = -1, rc = 0, external = cfg_srv_external(&e->c->srv[pr->srv]);
    snprintf(work, sizeof work, "%s/.work/%s", e->res->dir, pr->key);
    /* Absolute: an external program resolves its own relative paths (nginx: against -p). */
    char cwd[512] = "";
    if (work[0] != '/' && !getcwd(cwd, sizeof cwd))
        cwd[0] = '\0';
    snprintf(extdir, sizeof extdir, "%s%s%s.d", cwd, cwd[0] ? "/" : "", work);
    snprintf(stats, sizeof stats, "%s.stats.json", work);
    unlink(stats); /* a stale file from an interrupted attempt would pass for this run's */

    /* Each step runs only if the ones before succeeded and no interrupt came. */
    const char *fail = start(&r, stats, extdir, why, sizeof why);
    if (!fail && !e->interrupted)
        fail = child_await_ready(&r, external, why, sizeof why);
    if (!fail && !e->interrupted)
        fail = load(&r, work, &iws, &iwe, why, sizeof why);
    if (!fail && !e->interrupted && !r.srv.alive) {
        char st[64];
        snprintf(why, sizeof why, "server exited (%s) during the run", rl_status_str(r.srv.status, st, sizeof st));
        fail = why;
    }
    /* A failed run is a row too; an interrupted one is not. */
    if (child_stop(&r) == 0) {
        collect(&r, fail, work, iws, iwe, row, ts);
        /* The next run must find the port free: a listener left behind would be a leak. */
        if (r.port > 0 && child_wait_port(&r, r.port, 2) < 0)
            ut_log(UT_WARN, "%s: port %d still bound after the server stopped", pr->key, r.port);
    } else {
        rc = -1;
    }
    if (r.out_fd >= 0)
        close(r.out_fd);
    if (r.acct_on && acct_close(&r.acct) < 0)
        ut_log(UT_WARN, "%s: could not remove its cgroup (still busy)", pr->key);
    if (rc < 0)
        unlink_temps(work);
    if (external)
        ext_cleanup(extdir);
    free(r.smp);
    ut_str_free(&r.notes);
    return rc;
}

int run_pause(struct run_env *e, double s)
{
    struct run r;
    run_init(&r, e, NULL);
    double end = ut_now() + s;
    while (ut_now() < end && !e->interrupted)
        rl_pump(&r, end);
    return e->interrupted ? -1 : 0;
}
