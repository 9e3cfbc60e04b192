/* cfg_hosts.c - the hosts of a config: `hosts:` names machines (a network namespace, an ssh host,
 * a command prefix such as docker exec), `server_host` and `loadgen_hosts` place the processes on
 * them. Every name is checked once the file is read, and a namespace must exist: a typo stops the
 * run before anything starts. */
#include "cfg_int.h"
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
    if (h->kind == CFG_HOST_NETNS) {
        char path[512];
        snprintf(path, sizeof path, "/run/netns/%s", h->netns);
        if (strchr(h->netns, '/') || access(path, F_OK) < 0)
            return cy_fail(y, v, "host '%s': network namespace '%s' does not exist (ip netns list; bin/testnet up)",
                           key, h->netns);
    }
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

int cfg_hosts_check(struct cfg *c, char *err, size_t errlen)
{
    char names[512];
    const struct cfg_host *s = cfg_host_find(c, c->server_host);
    if (!s) {
        snprintf(err, errlen, "%s:%d:1: server_host '%s' is not a host (defined: %s)", c->path, c->hosts_line,
                 c->server_host, host_names(c, names, sizeof names));
        return -1;
    }
    /* The server's process tree is accounted where it runs by bench itself: on this machine's
     * kernel, which a namespace shares. An ssh or exec host has its own. */
    if (s->kind == CFG_HOST_SSH || s->kind == CFG_HOST_EXEC) {
        snprintf(err, errlen, "%s:%d:1: server_host '%s' is an %s host: the server runs on this machine or in one of "
                 "its network namespaces (its accounting is this kernel's)", c->path, c->hosts_line, s->name,
                 kind_keys[s->kind]);
        return -1;
    }
    for (int i = 0; i < c->nloadgen_hosts; i++) {
        if (!cfg_host_find(c, c->loadgen_hosts[i])) {
            snprintf(err, errlen, "%s:%d:1: loadgen_hosts: '%s' is not a host (defined: %s)", c->path, c->hosts_line,
                     c->loadgen_hosts[i], host_names(c, names, sizeof names));
            return -1;
        }
        for (int j = 0; j < i; j++)
            if (!strcmp(c->loadgen_hosts[i], c->loadgen_hosts[j])) {
                snprintf(err, errlen, "%s:%d:1: loadgen_hosts names '%s' twice: one load generator per host",
                         c->path, c->hosts_line, c->loadgen_hosts[i]);
                return -1;
            }
    }
    if (c->nloadgen_hosts == 0) {
        snprintf(err, errlen, "%s:%d:1: loadgen_hosts is empty: name at least one host", c->path, c->hosts_line);
        return -1;
    }
    return 0;
}

void cfg_hosts_free(struct cfg *c)
{
    for (int i = 0; i < c->nhosts; i++) {
        struct cfg_host *h = &c->hosts[i];
        free(h->name), free(h->netns), free(h->ssh), free(h->address), free(h->ssh_config);
        for (int k = 0; k < h->nexec; k++)
            free(h->exec[k]);
        free(h->exec);
    }
    free(c->hosts);
    c->hosts = NULL, c->nhosts = 0;
}
