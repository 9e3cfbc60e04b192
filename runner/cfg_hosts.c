/* cfg_hosts.c - the hosts of a config: `hosts:` names machines (a network namespace, an ssh host,
 * a command prefix such as docker exec), `server_host` and `loadgen_hosts` place the processes on
 * them. Every name is checked once the file is read, and a namespace must exist: a typo stops the
 * run before anything starts. */
#include "cfg_int.h"
#include "agents.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const kind_keys[] = {[CFG_HOST_NETNS] = "netns", [CFG_HOST_SSH] = "ssh", [CFG_HOST_EXEC] = "exec"};

static int host_pair(struct cy *y, const char *key, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    struct cfg_parse *p = arg;
    const struct cfg_key *ck = cfg_key_want(y, k, cfg_host_keys, cfg_nhost_keys, key, "in a host", "");
    if (!ck)
        return -1;
    for (int kind = CFG_HOST_NETNS; kind <= CFG_HOST_EXEC; kind++) {
        if (strcmp(key, kind_keys[kind]))
            continue;
        if (p->h->kind != CFG_HOST_LOCAL)
            return cy_fail(y, k, "host '%s' has %s and %s: give one of netns, ssh and exec", p->h->name,
                           kind_keys[p->h->kind], key);
        p->h->kind = (enum cfg_host_kind)kind;
    }
    return cfg_set(y, v, ck, p->h);
}

/* [user@]host[:port]: a host part without spaces or shell-special characters. */
static int ssh_target_ok(const char *t)
{
    const char *at = strrchr(t, '@'), *host = at ? at + 1 : t;
    if (!*host || *host == ':' || (at && at == t))
        return 0;
    for (const char *q = t; *q; q++)
        if (!(('a' <= *q && *q <= 'z') || ('A' <= *q && *q <= 'Z') || ('0' <= *q && *q <= '9') ||
              strchr("@.:-_[]", *q)))
            return 0;
    const char *colon = strrchr(host, ':');
    if (colon && !strchr(host, ']')) {
        char *end;
        long port = strtol(colon + 1, &end, 10);
        return *end == '\0' && port > 0 && port < 65536;
    }
    return 1;
}

static int host_entry(struct cy *y, const char *key, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    struct cfg_parse *p = arg;
    struct cfg *c = p->c;
    if (!strcmp(key, "local"))
        return cy_fail(y, k, "'local' is the machine bench runs on, always defined: give this host another name");
    for (const char *q = key; *q; q++)
        if (!(('a' <= *q && *q <= 'z') || ('A' <= *q && *q <= 'Z') || ('0' <= *q && *q <= '9') || strchr("-_.", *q)))
            return cy_fail(y, k, "host name '%s': letters, digits, - _ . only", key);
    c->hosts = ut_realloc(c->hosts, (size_t)(c->nhosts + 1) * sizeof *c->hosts);
    struct cfg_host *h = p->h = &c->hosts[c->nhosts++];
    memset(h, 0, sizeof *h);
    h->name = ut_strdup(key);
    h->line = cy_line(k);
    if (v->type == YAML_SCALAR_NODE && !strcmp((const char *)v->data.scalar.value, "local")) {
        h->kind = CFG_HOST_LOCAL; /* another name for this machine */
        return 0;
    }
    if (v->type != YAML_MAPPING_NODE)
        return cy_fail(y, v, "host '%s' expects `local` or a mapping of netns, ssh or exec (and address, ssh_config)",
                       key);
    if (cy_mapping(y, v, "a host", host_pair, p) < 0)
        return -1;
    if (h->kind == CFG_HOST_LOCAL)
        return cy_fail(y, v, "host '%s' needs one of netns, ssh and exec", key);
    if (h->kind == CFG_HOST_SSH && !ssh_target_ok(h->ssh))
        return cy_fail(y, v, "host '%s': ssh expects [user@]host[:port], got '%s'", key, h->ssh);
    if (h->kind == CFG_HOST_EXEC && h->nexec == 0)
        return cy_fail(y, v, "host '%s': exec is empty: give the command prefix, e.g. [docker, exec, -i, NAME]", key);
    if (h->ssh_config && h->kind != CFG_HOST_SSH)
        return cy_fail(y, v, "host '%s': ssh_config is for an ssh host", key);
    if (h->kind == CFG_HOST_NETNS && strchr(h->netns, '/'))
        return cy_fail(y, v, "host '%s': '%s' is not a namespace name", key, h->netns);
    return 0;
}

int cfg_hosts(struct cy *y, yaml_node_t *v, struct cfg_parse *p)
{
    if (v->type != YAML_MAPPING_NODE)
        return cy_fail(y, v, "'hosts' expects a mapping of names to hosts, e.g. {box: {ssh: me@box}}");
    return cy_mapping(y, v, "hosts", host_entry, p);
}

const struct cfg_host *cfg_host_find(const struct cfg *c, const char *name)
{
    for (int i = 0; i < c->nhosts; i++)
        if (!strcmp(c->hosts[i].name, name))
            return &c->hosts[i];
    return NULL;
}

/* "local, a, b": the names defined, for messages. */
static const char *host_names(const struct cfg *c, char *buf, size_t len)
{
    buf[0] = '\0';
    for (int i = 0; i < c->nhosts; i++)
        snprintf(buf + strlen(buf), len - strlen(buf), "%s%s", i ? ", " : "", c->hosts[i].name);
    return buf;
}

const char *cfg_srv_host(const struct cfg *c, const struct cfg_server *s)
{
    return s && s->server_host ? s->server_host : c->server_host;
}

char *const *cfg_srv_loadgen_hosts(const struct cfg *c, const struct cfg_server *s, int *n)
{
    if (s && s->loadgen_hosts) {
        *n = s->nloadgen_hosts;
        return s->loadgen_hosts;
    }
    *n = c->nloadgen_hosts;
    return c->loadgen_hosts;
}

/* One placement: the server's host and its load generators' (line: where it was given). */
static int check_place(const struct cfg *c, const char *server_host, char *const *lgh, int nlg, int line, char *err,
                       size_t errlen)
{
    char names[512];
    const struct cfg_host *s = cfg_host_find(c, server_host);
    if (!s) {
        snprintf(err, errlen, "%s:%d:1: server_host '%s' is not a host (defined: %s)", c->path, line, server_host,
                 host_names(c, names, sizeof names));
        return -1;
    }
    for (int i = 0; i < nlg; i++) {
        if (!cfg_host_find(c, lgh[i])) {
            snprintf(err, errlen, "%s:%d:1: loadgen_hosts: '%s' is not a host (defined: %s)", c->path, line, lgh[i],
                     host_names(c, names, sizeof names));
            return -1;
        }
        for (int j = 0; j < i; j++)
            if (!strcmp(lgh[i], lgh[j])) {
                snprintf(err, errlen, "%s:%d:1: loadgen_hosts names '%s' twice: one load generator per host",
                         c->path, line, lgh[i]);
                return -1;
            }
    }
    if (nlg == 0 || nlg > AGENTS_MAX) {
        snprintf(err, errlen, "%s:%d:1: loadgen_hosts: give 1 to %d hosts, got %d", c->path, line, AGENTS_MAX, nlg);
        return -1;
    }
    return 0;
}

/* A namespace the config's testnet makes itself: NAME-<i>, i below its host count. */
static int from_testnet(const struct cfg *c, const char *ns)
{
    size_t l = c->testnet ? strlen(c->testnet) : 0;
    if (!l || strncmp(ns, c->testnet, l) || ns[l] != '-' || !ns[l + 1])
        return 0;
    char *end;
    long i = strtol(ns + l + 1, &end, 10);
    return *end == '\0' && i >= 0 && i < c->testnet_hosts;
}

int cfg_hosts_check(struct cfg *c, char *err, size_t errlen)
{
    if (c->testnet && (strlen(c->testnet) > 6 || strspn(c->testnet, "abcdefghijklmnopqrstuvwxyz0123456789") !=
                                                   strlen(c->testnet))) {
        snprintf(err, errlen, "%s:1:1: testnet '%s': 1 to 6 lowercase letters or digits (it prefixes interface names)",
                 c->path, c->testnet);
        return -1;
    }
    for (int i = 1; i < c->nhosts; i++) {
        const struct cfg_host *h = &c->hosts[i];
        char path[512];
        snprintf(path, sizeof path, "/run/netns/%s", h->netns ? h->netns : "");
        if (h->kind == CFG_HOST_NETNS && !from_testnet(c, h->netns) && access(path, F_OK) < 0) {
            snprintf(err, errlen, "%s:%d:1: host '%s': network namespace '%s' does not exist (ip netns list; "
                     "bin/testnet up, or testnet: in the config)", c->path, h->line, h->name, h->netns);
            return -1;
        }
    }
    if (check_place(c, c->server_host, c->loadgen_hosts, c->nloadgen_hosts, c->hosts_line, err, errlen) < 0)
        return -1;
    for (int s = 0; s < c->nsrv; s++) {
        int n;
        char *const *lgh = cfg_srv_loadgen_hosts(c, &c->srv[s], &n);
        if (check_place(c, cfg_srv_host(c, &c->srv[s]), lgh, n, c->srv[s].line, err, errlen) < 0)
            return -1;
    }
    return 0;
}

void cfg_hosts_free(struct cfg *c)
{
    for (int i = 0; i < c->nhosts; i++) {
        struct cfg_host *h = &c->hosts[i];
        free(h->name), free(h->netns), free(h->ssh), free(h->address), free(h->ssh_config), free(h->cpus);
        for (int k = 0; k < h->nexec; k++)
            free(h->exec[k]);
        free(h->exec);
    }
    free(c->hosts);
    c->hosts = NULL, c->nhosts = 0;
}
