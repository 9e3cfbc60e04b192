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

/* The programs a load generator's host needs from us. */
static const char *const lg_programs[] = {"loadgen", "cmb-run", NULL};

static const char *where(const struct host_conn *hc, char *buf, size_t len)
{
    char w[512];
    snprintf(buf, len, "host '%s' (%s)", hc->h->name, host_where(hc->h, w, sizeof w));
    return buf;
}

/* FNV-1a over the programs' bytes: the cache directory's name, so a different build never finds
 * its files there. */
static int content_hash(const char *bindir, char *out, size_t len, char *err, size_t errlen)
{
    uint64_t h = 1469598103934665603ULL;
    for (int i = 0; lg_programs[i]; i++) {
        char path[1200], *data;
        snprintf(path, sizeof path, "%s/%s", bindir, lg_programs[i]);
        long n = ut_read_file(path, &data);
        if (n < 0) {
            snprintf(err, errlen, "%s is not built (make all): a load generator's host needs it", path);
            return -1;
        }
        for (long k = 0; k < n; k++)
            h = (h ^ (unsigned char)data[k]) * 1099511628211ULL;
        free(data);
    }
    snprintf(out, len, "%016llx", (unsigned long long)h);
    return 0;
}

/* uname, limits and home directory, in one round trip. */
static int probe(struct host_conn *hc, char *home, size_t hlen, char *err, size_t errlen)
{
    struct ut_str out = {0};
    char e[UT_ERRLEN], w[600];
    int rc = host_sh(hc, "uname -srm; ulimit -Sn; ulimit -Hn; cat /proc/sys/net/ipv4/ip_local_port_range; "
                         "printf '%s\\n' \"$HOME\"", NULL, 0, &out, 15, e, sizeof e);
    if (rc != 0) {
        snprintf(err, errlen, "%s: not reachable: %s", where(hc, w, sizeof w), e);
        ut_str_free(&out);
        return -1;
    }
    char *save = NULL, *lines[5] = {0};
    int n = 0;
    for (char *l = strtok_r(out.s, "\n", &save); l && n < 5; l = strtok_r(NULL, "\n", &save))
        lines[n++] = l;
    if (n < 5) {
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
static int install(struct host_conn *hc, const char *bindir, const char *home, const char *hash, char *err,
                   size_t errlen)
{
    char w[600], e[UT_ERRLEN], script[8192];
    snprintf(hc->bindir, sizeof hc->bindir, "%.900s/.cache/cmb/bin-%.20s", home, hash);
    snprintf(script, sizeof script, "test -f '%s/.complete'", hc->bindir);
    if (host_sh(hc, script, NULL, 0, NULL, 15, e, sizeof e) != 0) {
        for (int i = 0; lg_programs[i]; i++) {
            char path[1200], *data;
            snprintf(path, sizeof path, "%s/%s", bindir, lg_programs[i]);
            long n = ut_read_file(path, &data);
            if (n < 0) {
                snprintf(err, errlen, "%s: cannot read %s", where(hc, w, sizeof w), path);
                return -1;
            }
            snprintf(script, sizeof script, "umask 022 && mkdir -p '%s' && cat > '%s/%s.tmp' && chmod 755 '%s/%s.tmp' && "
                     "mv -f '%s/%s.tmp' '%s/%s'", hc->bindir, hc->bindir, lg_programs[i], hc->bindir,
                     lg_programs[i], hc->bindir, lg_programs[i], hc->bindir, lg_programs[i]);
            int rc = host_sh(hc, script, data, (size_t)n, NULL, 60, e, sizeof e);
            free(data);
            if (rc != 0) {
                snprintf(err, errlen, "%s: copying %s to %s failed: %s", where(hc, w, sizeof w), lg_programs[i],
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
    snprintf(script, sizeof script, "'%s/loadgen' --help > /dev/null && test -x '%s/cmb-run'", hc->bindir, hc->bindir);
    if (host_sh(hc, script, NULL, 0, NULL, 15, e, sizeof e) != 0) {
        snprintf(err, errlen, "%s: %s/loadgen does not run there: %s", where(hc, w, sizeof w), hc->bindir, e);
        return -1;
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

static int check_one(const struct cfg *c, struct hosts_run *hr, struct host_conn *hc, int runs_loadgen,
                     const char *bindir, const char *hash, char *err, size_t errlen)
{
    char home[1024], w[600];
    if (host_open(hc, hc->h, hr->dir, err, errlen) < 0 || probe(hc, home, sizeof home, err, errlen) < 0 ||
        find_address(c, hc, err, errlen) < 0 || clock_offset(hc, err, errlen) < 0)
        return -1;
    if (hc->shares_files) {
        snprintf(hc->bindir, sizeof hc->bindir, "%s", bindir);
    } else {
        if (runs_loadgen && install(hc, bindir, home, hash, err, errlen) < 0)
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

int hosts_preflight(const struct cfg *c, const struct plan *p, const char *bindir, struct hosts_run *hr, char *err,
                    size_t errlen)
{
    memset(hr, 0, sizeof *hr);
    const struct cfg_host *srv = cfg_host_find(c, c->server_host);
    hr->remote = srv->kind != CFG_HOST_LOCAL;
    for (int i = 0; i < c->nloadgen_hosts; i++)
        hr->remote |= cfg_host_find(c, c->loadgen_hosts[i])->kind != CFG_HOST_LOCAL || c->nloadgen_hosts > 1;
    /* wrk, h2load and external servers run here only: the plan must not ask them elsewhere. */
    for (int i = 0; hr->remote && i < p->n; i++) {
        const struct plan_row *r = &p->rows[i];
        if (r->ax[CFG_LOADER] != CFG_LOADGEN) {
            snprintf(err, errlen, "%s: loader %s runs on this machine only: with server_host or loadgen_hosts "
                     "elsewhere, use loadgen", c->path, cfg_loader_names[r->ax[CFG_LOADER]]);
            return -1;
        }
        if (cfg_srv_external(&c->srv[r->srv]) && srv->kind != CFG_HOST_LOCAL) {
            snprintf(err, errlen, "%s: server '%s' is an external program: it runs on this machine only",
                     c->path, c->srv[r->srv].name);
            return -1;
        }
    }
    /* One connection per distinct host: the server's first, then the load generators'. */
    const struct cfg_host **used = ut_calloc((size_t)c->nloadgen_hosts + 1, sizeof *used);
    int *lg_there = ut_calloc((size_t)c->nloadgen_hosts + 1, sizeof *lg_there);
    used[hr->nconn++] = srv;
    for (int i = 0; i < c->nloadgen_hosts; i++) {
        const struct cfg_host *h = cfg_host_find(c, c->loadgen_hosts[i]);
        int k = 0;
        while (k < hr->nconn && used[k] != h)
            k++;
        if (k == hr->nconn)
            used[hr->nconn++] = h;
        lg_there[k] = 1;
    }
    hr->conn = ut_calloc((size_t)hr->nconn, sizeof *hr->conn);
    for (int k = 0; k < hr->nconn; k++)
        hr->conn[k].h = used[k];
    hr->server = &hr->conn[0];
    hr->nlg = c->nloadgen_hosts;
    hr->lg = ut_calloc((size_t)hr->nlg, sizeof *hr->lg);
    for (int i = 0; i < hr->nlg; i++)
        for (int k = 0; k < hr->nconn; k++)
            if (hr->conn[k].h == cfg_host_find(c, c->loadgen_hosts[i]))
                hr->lg[i] = &hr->conn[k];
    free(used);
    int rc = 0;
    char hash[32] = "";
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
    for (int k = 0; rc == 0 && k < hr->nconn; k++) {
        if (lg_there[k] && !hash[0] && hr->conn[k].h->kind != CFG_HOST_LOCAL && hr->conn[k].h->kind != CFG_HOST_NETNS)
            rc = content_hash(bindir, hash, sizeof hash, err, errlen);
        if (rc == 0)
            rc = check_one(c, hr, &hr->conn[k], lg_there[k], bindir, hash, err, errlen);
    }
    free(lg_there);
    return rc;
}

void hosts_print(FILE *f, const struct cfg *c)
{
    char w[512];
    const struct cfg_host *s = cfg_host_find(c, c->server_host);
    if (s->kind == CFG_HOST_LOCAL && c->nloadgen_hosts == 1 &&
        cfg_host_find(c, c->loadgen_hosts[0])->kind == CFG_HOST_LOCAL)
        return;
    fprintf(f, "hosts: the server on %s (%s); load generators on", s->name, host_where(s, w, sizeof w));
    for (int i = 0; i < c->nloadgen_hosts; i++) {
        const struct cfg_host *h = cfg_host_find(c, c->loadgen_hosts[i]);
        fprintf(f, "%s %s (%s)", i ? "," : "", h->name, host_where(h, w, sizeof w));
    }
    fprintf(f, "\n");
    if (c->nloadgen_hosts > 1)
        fprintf(f, "each row's connections, idle connections and open-loop rate are split over the %d load generators "
                   "(the first take the remainders), their windows opened together at one wall-clock instant; "
                   "results merged from their interval logs\n", c->nloadgen_hosts);
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
        ut_str_addf(o, ", \"server\": %s, \"nofile\": [%ld, %ld], \"ports\": [%ld, %ld], \"clock_offset_ms\": %.3f, "
                       "\"clock_error_ms\": %.3f, \"bindir\": ", hc == hr->server ? "true" : "false", hc->nofile_soft,
                    hc->nofile_hard, hc->port_lo, hc->port_hi, hc->clock_offset_s * 1e3, hc->clock_err_s * 1e3);
        ut_str_json(o, hc->bindir);
        ut_str_add(o, "}");
    }
    ut_str_add(o, "]");
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
    free(hr->lg);
    memset(hr, 0, sizeof *hr);
}
