/* hostcheck.c - preflight of the hosts (hostcheck.h). */
#include "hostcheck.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CLOCK_ROUNDS 8 /* round trips for the clock offset: the best one counts */

/* The programs a host needs from us: cmb-run always, loadgen where a load generator runs, a
 * server-<model> where that server runs. */
struct progs {
    const char *name[64];
    int n;
};

static void prog_add(struct progs *p, const char *name)
{
    for (int i = 0; i < p->n; i++)
        if (!strcmp(p->name[i], name))
            return;
    if (p->n < 64)
        p->name[p->n++] = name;
}

static const char *where(const struct host_conn *hc, char *buf, size_t len)
{
    char w[512];
    snprintf(buf, len, "host '%s' (%s)", hc->h->name, host_where(hc->h, w, sizeof w));
    return buf;
}

/* FNV-1a over the programs' bytes: the cache directory's name, so a different build never finds
 * its files there. */
static int content_hash(const char *bindir, const struct progs *p, char *out, size_t len, char *err, size_t errlen)
{
    uint64_t h = 1469598103934665603ULL;
    for (int i = 0; i < p->n; i++) {
        char path[1200], *data;
        snprintf(path, sizeof path, "%s/%s", bindir, p->name[i]);
        long n = ut_read_file(path, &data);
        if (n < 0) {
            snprintf(err, errlen, "%s is not built (make all): a host of this run needs it", path);
            return -1;
        }
        for (const char *q = p->name[i]; *q; q++) /* a name is part of the content */
            h = (h ^ (unsigned char)*q) * 1099511628211ULL;
        for (long k = 0; k < n; k++)
            h = (h ^ (unsigned char)data[k]) * 1099511628211ULL;
        free(data);
    }
    snprintf(out, len, "%016llx", (unsigned long long)h);
    return 0;
}

/* uname, limits, home directory, boot id and CPUs, in one round trip. */
static int probe(struct host_conn *hc, char *home, size_t hlen, char *err, size_t errlen)
{
    struct ut_str out = {0};
    char e[UT_ERRLEN], w[600];
    int rc = host_sh(hc, "uname -srm; ulimit -Sn; ulimit -Hn; cat /proc/sys/net/ipv4/ip_local_port_range; "
                         "printf '%s\\n' \"$HOME\"; cat /proc/sys/kernel/random/boot_id; getconf _NPROCESSORS_ONLN",
                 NULL, 0, &out, 15, e, sizeof e);
    if (rc != 0) {
        snprintf(err, errlen, "%s: not reachable: %s", where(hc, w, sizeof w), e);
        ut_str_free(&out);
        return -1;
    }
    char *save = NULL, *lines[7] = {0};
    int n = 0;
    for (char *l = strtok_r(out.s, "\n", &save); l && n < 7; l = strtok_r(NULL, "\n", &save))
        lines[n++] = l;
    if (n < 7) {
        snprintf(err, errlen, "%s: its shell did not answer as a Linux host does (uname, ulimit, /proc)",
                 where(hc, w, sizeof w));
        ut_str_free(&out);
        return -1;
    }
    snprintf(hc->uname, sizeof hc->uname, "%s", lines[0]);
    hc->nofile_soft = !strcmp(lines[1], "unlimited") ? 1L << 20 : atol(lines[1]);
    hc->nofile_hard = !strcmp(lines[2], "unlimited") ? 1L << 20 : atol(lines[2]);
    sscanf(lines[3], "%ld %ld", &hc->port_lo, &hc->port_hi);
    snprintf(home, hlen, "%s", lines[4]);
    snprintf(hc->boot_id, sizeof hc->boot_id, "%s", lines[5]);
    hc->ncpus = atoi(lines[6]) > 0 ? atoi(lines[6]) : 1;
    ut_str_free(&out);
    return 0;
}

/* The first global IPv4 address of a namespace, or the host name ssh would connect to. */
static int find_address(const struct cfg *c, struct host_conn *hc, char *err, size_t errlen)
{
    const struct cfg_host *h = hc->h;
    char w[600], e[UT_ERRLEN];
    struct ut_str out = {0};
    struct host_conn local = {.h = &c->hosts[0], .shares_files = 1};
    if (h->address) {
        snprintf(hc->address, sizeof hc->address, "%s", h->address);
        return 0;
    }
    int rc = -1;
    if (h->kind == CFG_HOST_LOCAL) {
        snprintf(hc->address, sizeof hc->address, "%s", c->d.host);
        return 0;
    } else if (h->kind == CFG_HOST_NETNS) {
        char *const cmd[] = {"/usr/sbin/ip", "-n", h->netns, "-4", "-o", "addr", "show", "scope", "global", NULL};
        rc = host_run(&local, cmd, NULL, 0, &out, 5, e, sizeof e);
        char *inet = rc == 0 && out.s ? strstr(out.s, " inet ") : NULL;
        if (inet && sscanf(inet, " inet %255[0-9.]", hc->address) == 1)
            rc = 0;
        else
            rc = -1, snprintf(e, sizeof e, "no global IPv4 address in namespace %s", h->netns);
    } else if (h->kind == CFG_HOST_SSH) {
        /* ssh -G resolves the destination the way ssh will (aliases, HostName in a config). */
        char dest[256];
        snprintf(dest, sizeof dest, "%s", h->ssh);
        char *at = strrchr(dest, '@'), *host = at ? at + 1 : dest, *colon = strrchr(host, ':');
        if (colon && !strchr(host, ']'))
            *colon = '\0';
        char *const cmd[] = {"ssh", "-G", h->ssh_config ? "-F" : dest, h->ssh_config ? h->ssh_config : NULL, dest, NULL};
        rc = host_run(&local, cmd, NULL, 0, &out, 5, e, sizeof e);
        char *hn = rc == 0 && out.s ? strstr(out.s, "\nhostname ") : NULL;
        if (hn && sscanf(hn, "\nhostname %255s", hc->address) == 1)
            rc = 0;
        else
            rc = -1, snprintf(e, sizeof e, "ssh -G gave no host name");
    } else {
        snprintf(e, sizeof e, "an exec host needs `address:` (how the others reach it)");
    }
    ut_str_free(&out);
    if (rc < 0)
        snprintf(err, errlen, "%s: %s", where(hc, w, sizeof w), e);
    return rc;
}

/* Our programs there, in <home>/.cache/cmb/bin-<content hash>: copied over the channel when the
 * directory is not complete, then run once (--help) to see that they start on that system. */
static int install(struct host_conn *hc, const char *bindir, const char *home, const struct progs *p, char *err,
                   size_t errlen)
{
    char hash[32];
    if (content_hash(bindir, p, hash, sizeof hash, err, errlen) < 0)
        return -1;
    char w[600], e[UT_ERRLEN], script[8192];
    snprintf(hc->bindir, sizeof hc->bindir, "%.900s/.cache/cmb/bin-%.20s", home, hash);
    snprintf(script, sizeof script, "test -f '%s/.complete'", hc->bindir);
    if (host_sh(hc, script, NULL, 0, NULL, 15, e, sizeof e) != 0) {
        for (int i = 0; i < p->n; i++) {
            char path[1200], *data;
            snprintf(path, sizeof path, "%s/%s", bindir, p->name[i]);
            long n = ut_read_file(path, &data);
            if (n < 0) {
                snprintf(err, errlen, "%s: cannot read %s", where(hc, w, sizeof w), path);
                return -1;
            }
            snprintf(script, sizeof script, "umask 022 && mkdir -p '%s' && cat > '%s/%s.tmp' && chmod 755 '%s/%s.tmp' && "
                     "mv -f '%s/%s.tmp' '%s/%s'", hc->bindir, hc->bindir, p->name[i], hc->bindir,
                     p->name[i], hc->bindir, p->name[i], hc->bindir, p->name[i]);
            int rc = host_sh(hc, script, data, (size_t)n, NULL, 60, e, sizeof e);
            free(data);
            if (rc != 0) {
                snprintf(err, errlen, "%s: copying %s to %s failed: %s", where(hc, w, sizeof w), p->name[i],
                         hc->bindir, e);
                return -1;
            }
        }
        snprintf(script, sizeof script, "touch '%s/.complete'", hc->bindir);
        if (host_sh(hc, script, NULL, 0, NULL, 15, e, sizeof e) != 0) {
            snprintf(err, errlen, "%s: %s: %s", where(hc, w, sizeof w), hc->bindir, e);
            return -1;
        }
        ut_log(UT_INFO, "%s: binaries copied into %s", where(hc, w, sizeof w), hc->bindir);
    }
    /* Each one starts there (the same C library): --help of every program but cmb-run, which has none. */
    for (int i = 0; i < p->n; i++) {
        if (!strcmp(p->name[i], "cmb-run"))
            snprintf(script, sizeof script, "test -x '%s/cmb-run'", hc->bindir);
        else
            snprintf(script, sizeof script, "'%s/%s' --help > /dev/null 2>&1", hc->bindir, p->name[i]);
        if (host_sh(hc, script, NULL, 0, NULL, 15, e, sizeof e) != 0) {
            snprintf(err, errlen, "%s: %s/%s does not run there: %s", where(hc, w, sizeof w), hc->bindir, p->name[i], e);
            return -1;
        }
    }
    return 0;
}

/* Its clock against ours: the remote time read halfway through the round trip, the best of a
 * few. The same kernel (this machine, a namespace) has the same clock. */
static int clock_offset(struct host_conn *hc, char *err, size_t errlen)
{
    if (hc->h->kind == CFG_HOST_LOCAL || hc->h->kind == CFG_HOST_NETNS)
        return 0;
    char w[600], e[UT_ERRLEN];
    if (host_clock(hc, CLOCK_ROUNDS, &hc->clock_offset_s, &hc->clock_err_s, e, sizeof e) < 0) {
        snprintf(err, errlen, "%s: %s", where(hc, w, sizeof w), e);
        return -1;
    }
    return 0;
}

static int check_one(const struct cfg *c, struct hosts_run *hr, struct host_conn *hc, const struct progs *p,
                     const char *bindir, char *err, size_t errlen)
{
    char home[1024], w[600];
    if (host_open(hc, hc->h, hr->dir, err, errlen) < 0 || probe(hc, home, sizeof home, err, errlen) < 0 ||
        find_address(c, hc, err, errlen) < 0 || clock_offset(hc, err, errlen) < 0)
        return -1;
    if (hc->shares_files) {
        snprintf(hc->bindir, sizeof hc->bindir, "%s", bindir);
    } else {
        if (p->n > 1 && install(hc, bindir, home, p, err, errlen) < 0)
            return -1;
        snprintf(hc->workdir, sizeof hc->workdir, "%.900s/.cache/cmb/run-%.6s", home, hr->dir + strlen(hr->dir) - 6);
        char script[2048], e[UT_ERRLEN];
        snprintf(script, sizeof script, "mkdir -p '%s'", hc->workdir);
        if (host_sh(hc, script, NULL, 0, NULL, 15, e, sizeof e) != 0) {
            snprintf(err, errlen, "%s: cannot create %s: %s", where(hc, w, sizeof w), hc->workdir, e);
            return -1;
        }
    }
    if (fabs(hc->clock_offset_s) > c->clock_offset_max) {
        snprintf(err, errlen, "%s: its clock is %.1f ms (+- %.1f) off ours, more than clock_offset_max %.1f ms: the "
                 "agents' windows would not start together (sync the clocks, or allow more in the config)",
                 where(hc, w, sizeof w), hc->clock_offset_s * 1e3, hc->clock_err_s * 1e3, c->clock_offset_max * 1e3);
        return -1;
    }
    ut_log(UT_INFO, "%s: %s, address %s, open files %ld/%ld, ports %ld-%ld, clock %+.2f ms (+- %.2f)%s%s",
           where(hc, w, sizeof w), hc->uname, hc->address, hc->nofile_soft, hc->nofile_hard, hc->port_lo, hc->port_hi,
           hc->clock_offset_s * 1e3, hc->clock_err_s * 1e3, hc->shares_files ? "" : ", binaries in ",
           hc->shares_files ? "" : hc->bindir);
    return 0;
}

/* The index in used[] of h, added when new. */
static int conn_of(const struct cfg_host **used, int *n, const struct cfg_host *h)
{
    int k = 0;
    while (k < *n && used[k] != h)
        k++;
    if (k == *n)
        used[(*n)++] = h;
    return k;
}

int hosts_preflight(const struct cfg *c, const struct plan *p, const char *bindir, struct hosts_run *hr, char *err,
                    size_t errlen)
{
    memset(hr, 0, sizeof *hr);
    /* One connection per distinct host: each server's host, then its load generators'. */
    int cap = c->nhosts + 1, *lg_there = ut_calloc((size_t)cap, sizeof *lg_there);
    const struct cfg_host **used = ut_calloc((size_t)cap, sizeof *used);
    int (*idx)[AGENTS_MAX + 1] = ut_calloc((size_t)c->nsrv + 1, sizeof *idx);
    hr->nplace = c->nsrv;
    hr->place = ut_calloc((size_t)c->nsrv + 1, sizeof *hr->place);
    for (int s = 0; s < c->nsrv; s++) {
        struct hosts_place *pl = &hr->place[s];
        const struct cfg_host *sh = cfg_host_find(c, cfg_srv_host(c, &c->srv[s]));
        int n;
        char *const *lgh = cfg_srv_loadgen_hosts(c, &c->srv[s], &n);
        idx[s][0] = conn_of(used, &hr->nconn, sh);
        pl->nlg = n;
        pl->remote = sh->kind != CFG_HOST_LOCAL || n > 1;
        for (int i = 0; i < n; i++) {
            const struct cfg_host *h = cfg_host_find(c, lgh[i]);
            idx[s][i + 1] = conn_of(used, &hr->nconn, h);
            lg_there[idx[s][i + 1]] = 1;
            pl->remote |= h->kind != CFG_HOST_LOCAL;
        }
        hr->remote |= pl->remote;
    }
    hr->conn = ut_calloc((size_t)hr->nconn, sizeof *hr->conn);
    for (int k = 0; k < hr->nconn; k++)
        hr->conn[k].h = used[k];
    for (int s = 0; s < c->nsrv; s++) {
        hr->place[s].server = &hr->conn[idx[s][0]];
        for (int i = 0; i < hr->place[s].nlg; i++)
            hr->place[s].lg[i] = &hr->conn[idx[s][i + 1]];
    }
    free(used);
    free(idx);
    /* wrk, h2load and external servers run here only: the plan must not ask them elsewhere. */
    for (int i = 0; i < p->n; i++) {
        const struct plan_row *r = &p->rows[i];
        const struct hosts_place *pl = &hr->place[r->srv];
        if (!pl->remote)
            continue;
        if (r->ax[CFG_LOADER] != CFG_LOADGEN) {
            snprintf(err, errlen, "%s: loader %s runs on this machine only: with server_host or loadgen_hosts "
                     "elsewhere, use loadgen", c->path, cfg_loader_names[r->ax[CFG_LOADER]]);
            free(lg_there);
            return -1;
        }
        if (cfg_srv_external(&c->srv[r->srv]) && pl->server->h->kind != CFG_HOST_LOCAL) {
            snprintf(err, errlen, "%s: server '%s' is an external program: it runs on this machine only",
                     c->path, c->srv[r->srv].name);
            free(lg_there);
            return -1;
        }
    }
    int rc = 0;
    if (!hr->remote) {
        /* This machine only: the run is what it always was. */
        for (int k = 0; k < hr->nconn; k++)
            hr->conn[k].shares_files = 1, snprintf(hr->conn[k].address, sizeof hr->conn[k].address, "%s", c->d.host),
            snprintf(hr->conn[k].bindir, sizeof hr->conn[k].bindir, "%s", bindir);
        free(lg_there);
        return 0;
    }
    snprintf(hr->dir, sizeof hr->dir, "/tmp/cmb-hosts-XXXXXX");
    if (!mkdtemp(hr->dir)) {
        snprintf(err, errlen, "mkdtemp %s: %s", hr->dir, strerror(errno));
        hr->dir[0] = '\0';
        rc = -1;
    }
    char names[64][80];
    int nn = 0;
    for (int k = 0; rc == 0 && k < hr->nconn; k++) {
        struct progs need = {.n = 0};
        prog_add(&need, "cmb-run");
        if (lg_there[k])
            prog_add(&need, "loadgen");
        for (int s = 0; s < c->nsrv && nn < 64; s++)
            if (hr->place[s].server == &hr->conn[k] && !cfg_srv_external(&c->srv[s])) {
                snprintf(names[nn], sizeof names[nn], "server-%s", c->srv[s].model);
                prog_add(&need, names[nn++]);
            }
        rc = check_one(c, hr, &hr->conn[k], &need, bindir, err, errlen);
    }
    free(lg_there);
    return rc;
}

/* "the server on srv (netns a); load generators on x (ssh b), y (netns c)" for one placement. */
static void place_text(const struct cfg *c, const char *server_host, char *const *lgh, int n, char *buf, size_t len)
{
    char w[512];
    const struct cfg_host *s = cfg_host_find(c, server_host);
    snprintf(buf, len, "the server on %s (%s); load generator%s on", s->name, host_where(s, w, sizeof w),
             n > 1 ? "s" : "");
    for (int i = 0; i < n; i++) {
        const struct cfg_host *h = cfg_host_find(c, lgh[i]);
        snprintf(buf + strlen(buf), len - strlen(buf), "%s %s (%s)", i ? "," : "", h->name,
                 host_where(h, w, sizeof w));
    }
}

void hosts_print(FILE *f, const struct cfg *c)
{
    char text[2048], base[2048];
    int any = c->nhosts > 1 || c->nloadgen_hosts > 1 || strcmp(c->server_host, "local") ||
              strcmp(c->loadgen_hosts[0], "local"), most = c->nloadgen_hosts;
    for (int s = 0; s < c->nsrv; s++)
        any |= c->srv[s].server_host || c->srv[s].loadgen_hosts;
    if (!any)
        return;
    place_text(c, c->server_host, c->loadgen_hosts, c->nloadgen_hosts, base, sizeof base);
    fprintf(f, "hosts: %s\n", base);
    for (int s = 0; s < c->nsrv; s++) {
        int n;
        char *const *lgh = cfg_srv_loadgen_hosts(c, &c->srv[s], &n);
        place_text(c, cfg_srv_host(c, &c->srv[s]), lgh, n, text, sizeof text);
        most = n > most ? n : most;
        if (strcmp(text, base))
            fprintf(f, "  server %s: %s\n", c->srv[s].name, text);
    }
    if (most > 1)
        fprintf(f, "with several load generators, each row's connections, idle connections and open-loop rate are "
                   "split over them (the first take the remainders), their windows opened together at one "
                   "wall-clock instant; results merged from their interval logs\n");
}

void hosts_json(const struct hosts_run *hr, struct ut_str *o)
{
    char w[512];
    ut_str_add(o, "[");
    for (int k = 0; k < hr->nconn; k++) {
        const struct host_conn *hc = &hr->conn[k];
        ut_str_add(o, k ? ", {\"name\": " : "{\"name\": ");
        ut_str_json(o, hc->h->name);
        ut_str_add(o, ", \"placement\": ");
        ut_str_json(o, host_where(hc->h, w, sizeof w));
        ut_str_add(o, ", \"address\": ");
        ut_str_json(o, hc->address);
        ut_str_add(o, ", \"uname\": ");
        ut_str_json(o, hc->uname);
        ut_str_add(o, ", \"boot_id\": ");
        ut_str_json(o, hc->boot_id);
        ut_str_addf(o, ", \"ncpus\": %d", hc->ncpus);
        ut_str_addf(o, ", \"nofile\": [%ld, %ld], \"ports\": [%ld, %ld], \"clock_offset_ms\": %.3f, "
                       "\"clock_error_ms\": %.3f, \"bindir\": ", hc->nofile_soft,
                    hc->nofile_hard, hc->port_lo, hc->port_hi, hc->clock_offset_s * 1e3, hc->clock_err_s * 1e3);
        ut_str_json(o, hc->bindir);
        ut_str_add(o, "}");
    }
    ut_str_add(o, "]");
}

int hosts_testnet(const struct cfg *c, const char *bindir, int up, char *err, size_t errlen)
{
    char tn[1200], n[32], e[UT_ERRLEN];
    struct host_conn local = {.h = &c->hosts[0], .shares_files = 1};
    snprintf(tn, sizeof tn, "%s/testnet", bindir);
    snprintf(n, sizeof n, "%ld", c->testnet_hosts);
    char *const down[] = {tn, "down", c->testnet, NULL};
    int rc = host_run(&local, down, NULL, 0, NULL, 60, e, sizeof e);
    if (!up) {
        if (rc != 0)
            snprintf(err, errlen, "testnet down %s: %s", c->testnet, e);
        return rc == 0 ? 0 : -1;
    }
    char *upv[12] = {tn, "up", c->testnet, n};
    int k = 4;
    if (c->testnet_rate)
        upv[k++] = "--rate", upv[k++] = c->testnet_rate;
    if (c->testnet_delay)
        upv[k++] = "--delay", upv[k++] = c->testnet_delay;
    if (c->testnet_loss)
        upv[k++] = "--loss", upv[k++] = c->testnet_loss;
    upv[k] = NULL;
    ut_log(UT_INFO, "test network %s: %s namespaces %s-0 .. %s-%ld%s%s", c->testnet, n, c->testnet, c->testnet,
           c->testnet_hosts - 1, c->testnet_rate ? ", links at " : "", c->testnet_rate ? c->testnet_rate : "");
    if (host_run(&local, (char *const *)upv, NULL, 0, NULL, 120, e, sizeof e) != 0) {
        snprintf(err, errlen, "testnet up %s %s: %s", c->testnet, n, e);
        return -1;
    }
    return 0;
}

void hosts_close(struct hosts_run *hr)
{
    for (int k = 0; k < hr->nconn; k++) {
        struct host_conn *hc = &hr->conn[k];
        char script[2048], e[UT_ERRLEN];
        if (hc->workdir[0]) {
            snprintf(script, sizeof script, "rm -rf '%s'", hc->workdir);
            host_sh(hc, script, NULL, 0, NULL, 10, e, sizeof e);
        }
        host_close(hc);
    }
    if (hr->dir[0])
        rmdir(hr->dir);
    free(hr->conn);
    free(hr->place);
    memset(hr, 0, sizeof *hr);
}
