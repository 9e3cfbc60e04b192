/* cfg_keys.c - the table of keys (cfg_int.h): every key a config may write, one entry each, and
 * what follows from the entries alone: names, lookups, and the settings a server runs with. A new
 * key is one entry here plus its use. */
#include "cfg_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const cfg_proto_names[] = {[CFG_ECHO] = "echo", [CFG_HTTP] = "http", NULL};
const char *const cfg_loader_names[CFG_NLOADERS + 1] = {
    [CFG_LOADGEN] = "loadgen", [CFG_WRK] = "wrk", [CFG_H2LOAD] = "h2load", [CFG_NLOADERS] = NULL,
};
static const char *const arrivals[] = {"constant", "poisson", NULL};
/* The columns of runs.csv that repeats: auto can wait on: the figures the report and the claims
 * read as medians over the repeats. */
static const char *const repeat_columns[] = {
    "throughput_rps", "achieved_rps", "latency_p50_us", "latency_p90_us", "latency_p99_us", "latency_p999_us",
    "server_cpu_cores", "server_rss_peak_kb", "server_mem_peak_kb", "connects", "srv_events", "srv_wait_calls",
    NULL,
};

const char *const cfg_type_names[CT_NTYPES] = {
    [CT_STR] = "string",          [CT_NAME] = "name",          [CT_CPUS] = "CPU list",
    [CT_WORD] = "word",           [CT_ENUM] = "word",          [CT_STRS] = "string list",
    [CT_LONG] = "integer",        [CT_LONG_K] = "integer (k)", [CT_LONG_KIB] = "bytes (k/m/g)",
    [CT_AUTO] = "integer or auto", [CT_DUR] = "seconds",       [CT_CONN_MODE] = "connection mode",
    [CT_DEFAULTS] = "mapping",    [CT_SERVERS] = "list",       [CT_MATRIX] = "mapping or list",
    [CT_EXCLUDE] = "mapping or list", [CT_PCT] = "percent",   [CT_CAPACITY] = "mapping or list",
    [CT_HOSTS] = "mapping",
};

#define T(field) offsetof(struct cfg, field)
const struct cfg_key cfg_top_keys[] = {
    {"name", CT_NAME, T(name), .json = "name", .doc = "results folder prefix; default: the file name"},
    {"description", CT_STR, T(description), .json = "description", .doc = "free text, kept in meta.json"},
    {"defaults", CT_DEFAULTS, .json = "defaults", .doc = "settings of every row: the keys of `defaults` below"},
    {"servers", CT_SERVERS, .json = "servers",
     .doc = "required: a list of servers (a server's keys below), or the word all"},
    {"matrix", CT_MATRIX, .json = "matrix",
     .doc = "the cross product of the axes given (a value or a list each); a list of them: their union"},
    {"capacity", CT_CAPACITY, .json = "capacity",
     .doc = "search each server's highest open-loop rate meeting an objective (keys below), or a list of them"},
    {"hosts", CT_HOSTS, .json = "hosts",
     .doc = "names for the machines the run uses: each `local` or a host's keys below (\"Hosts\")"},
    {"server_host", CT_NAME, T(server_host), .def = "local", .json = "server_host",
     .doc = "the host the servers run on: local, or a name of hosts (a netns host for now)"},
    {"loadgen_hosts", CT_STRS, T(loadgen_hosts), T(nloadgen_hosts), .def = "local", .json = "loadgen_hosts",
     .doc = "the hosts of the load generators, one each: connections, idle and rate are split over them"},
    {"testnet", CT_NAME, T(testnet), .json = "testnet",
     .doc = "a test network bench makes (bin/testnet up NAME) before the first row and removes after the last"},
    {"testnet_hosts", CT_LONG, T(testnet_hosts), .min = 1, .max = 200, .def = "4", .json = "testnet_hosts",
     .doc = "its namespaces NAME-0 .. NAME-(n-1), an sshd each (ssh_config: /run/cmb-testnet/NAME/ssh_config)"},
    {"testnet_rate", CT_STR, T(testnet_rate), .json = "testnet_rate",
     .doc = "each namespace's egress shaped to this rate (tc tbf: 100mbit, 1gbit); default: unshaped"},
    {"testnet_delay", CT_STR, T(testnet_delay), .json = "testnet_delay",
     .doc = "each link delayed by this (netem: 5ms); an error where the kernel has no netem"},
    {"testnet_loss", CT_STR, T(testnet_loss), .json = "testnet_loss",
     .doc = "each link loses this share of packets (netem: 0.1%); an error where the kernel has no netem"},
    {"clock_offset_max", CT_DUR, T(clock_offset_max), .min = 0, .max = 60, .def = "5ms", .json = "clock_offset_max_s",
     .doc = "a host whose clock is further off ours stops the run (the agents' windows start at one instant)"},
};
const int cfg_ntop_keys = sizeof cfg_top_keys / sizeof cfg_top_keys[0];

#define D(field) offsetof(struct cfg_defaults, field)
const struct cfg_key cfg_defaults_keys[] = {
    {"proto", CT_ENUM, D(proto), .words = cfg_proto_names, .def = "http", .json = "proto", .doc = "http or echo"},
    {"path", CT_STR, D(path), .def = "/", .json = "path", .doc = "http request target"},
    {"duration", CT_DUR, D(duration), .min = 0.1, .max = 86400, .def = "5", .json = "duration_s",
     .doc = "measured seconds per row: 5, 2.5, 500ms, 1m"},
    {"warmup", CT_DUR, D(warmup), .min = 0, .max = 3600, .def = "1", .json = "warmup_s",
     .doc = "seconds run before measuring (connects happen here)"},
    {"repeats", CT_AUTO, D(repeats), .min = 1, .max = 1000, .def = "1", .json = "repeats",
     .doc = "each row this many times, or auto: until narrow (\"Adaptive repeats\"); see \"Order\" below"},
    {"repeats_min", CT_LONG, D(repeats_min), .min = 2, .max = 1000, .def = "3", .json = "repeats_min",
     .doc = "repeats: auto: every row at least this many times"},
    {"repeats_max", CT_LONG, D(repeats_max), .min = 2, .max = 1000, .def = "10", .json = "repeats_max",
     .doc = "repeats: auto: at most this many times"},
    {"repeats_target", CT_PCT, D(repeats_target), .min = 0.1, .max = 100, .def = "5%", .json = "repeats_target_pct",
     .doc = "repeats: auto: narrow when the 95% interval's half-width is within this of the median"},
    {"repeats_on", CT_STRS, D(repeats_on), D(nrepeats_on), .words = repeat_columns, .def = "throughput_rps",
     .json = "repeats_on", .doc = "repeats: auto: the runs.csv columns that must be narrow, each"},
    {"repeats_budget", CT_DUR, D(repeats_budget), .min = 0, .max = 604800, .def = "0", .json = "repeats_budget_s",
     .doc = "repeats: auto: no round of repeats starts that would end past this (0: none; bench --repeats-budget)"},
    {"timeout", CT_DUR, D(timeout), .min = 0.001, .max = 3600, .def = "5", .json = "timeout_s",
     .doc = "loadgen: connect/answer timeout, and its drain at the end of a run"},
    {"cooldown", CT_DUR, D(cooldown), .min = 0, .max = 600, .def = "0.2", .json = "cooldown_s",
     .doc = "pause between rows"},
    {"ready_timeout", CT_DUR, D(ready_timeout), .min = 0.1, .max = 600, .def = "5", .json = "ready_timeout_s",
     .doc = "the server must print its ready line (an external one: accept) within this"},
    {"stop_grace", CT_DUR, D(stop_grace), .min = 0.1, .max = 60, .def = "2", .json = "stop_grace_s",
     .doc = "SIGTERM, then this long, then SIGKILL to the server's process group"},
    {"server_cpus", CT_CPUS, D(server_cpus), .def = "0", .json = "server_cpus",
     .doc = "CPUs the server (and all its children) is pinned to: 0, 0-1, 0,2"},
    {"loadgen_cpus", CT_CPUS, D(loadgen_cpus), .def = "1", .json = "loadgen_cpus",
     .doc = "CPUs of the load generator (0 on a machine of one CPU)"},
    {"runner_cpus", CT_CPUS, D(runner_cpus), .json = "runner_cpus",
     .doc = "CPUs of bench itself (sampling); default: loadgen_cpus, so the server's CPUs run only the server"},
    {"loadgen_threads", CT_AUTO, D(loadgen_threads), .min = 1, .max = 1024, .def = "auto", .json = "loadgen_threads",
     .doc = "loadgen threads in total; auto: one per loadgen CPU"},
    {"loadgen_procs", CT_AUTO, D(loadgen_procs), .min = 1, .max = 64, .def = "auto", .json = "loadgen_procs",
     .doc = "loadgen processes; auto: as many as the open-file limit requires"},
    {"source_ips", CT_AUTO, D(source_ips), .min = 1, .max = 250, .def = "auto", .json = "source_ips",
     .doc = "client addresses 127.0.0.1..N; auto: as many as the port range requires"},
    {"arrival", CT_WORD, D(arrival), .words = arrivals, .def = "constant", .json = "arrival",
     .doc = "open loop (rate > 0): constant or poisson"},
    {"connect_rate", CT_LONG_K, D(connect_rate), .min = 0, .max = 100000000, .def = "0", .json = "connect_rate",
     .doc = "new connections per second in total; 0: unlimited"},
    {"host", CT_STR, D(host), .def = "127.0.0.1", .json = "host", .doc = "where the servers listen"},
    {"port", CT_LONG, D(port), .min = 0, .max = 65535, .def = "0", .json = "port",
     .doc = "0: the server picks a free port and prints it; else a fixed port, checked free before each row"},
    {"workers", CT_LONG, D(workers), .min = 0, .max = 4096, .def = "0", .json = "workers",
     .doc = "server --workers for every server (0: the server's default)"},
    {"idle_timeout", CT_AUTO, D(idle_timeout), .min = 1, .max = 86400, .def = "auto", .json = "idle_timeout",
     .doc = "server --idle-timeout in seconds; auto: longer than a whole row"},
    {"max_conns", CT_LONG, D(max_conns), .min = 0, .max = 10000000, .def = "0", .json = "max_conns",
     .doc = "server --max-conns (0: not passed)"},
    {"backlog", CT_LONG, D(backlog), .min = 0, .max = 1000000, .def = "0", .json = "backlog",
     .doc = "server --backlog (0: not passed, the server's default)"},
    {"docroot", CT_STR, D(docroot), .doc = "server --docroot (not passed unless set)"},
    {"server_args", CT_STRS, D(server_args), D(nserver_args), .json = "server_args",
     .doc = "extra arguments for every server of ours, appended last"},
    {"loadgen_args", CT_STRS, D(loadgen_args), D(nloadgen_args), .json = "loadgen_args",
     .doc = "extra arguments for our load generator (not wrk or h2load)"},
};
const int cfg_ndefaults_keys = sizeof cfg_defaults_keys / sizeof cfg_defaults_keys[0];

/* A server's keys that inherit start unset and take the defaults' key of the same name. */
#define S(field) offsetof(struct cfg_server, field)
const struct cfg_key cfg_server_keys[] = {
    {"model", CT_STR, S(model), .json = "model",
     .doc = "runs `bin/server-<model>`; an external server's label (default: its program's name)"},
    {"name", CT_STR, S(name), .json = "name",
     .doc = "label in the results, unique (default: the model, or `<model>-w<workers>`)"},
    {"workers", CT_LONG, S(workers), .min = 0, .max = 4096, .unset = 0, .json = "workers", .flags = CK_INHERIT,
     .doc = "--workers"},
    {"work_us", CT_LONG, S(work_us), .min = 0, .max = 10000000, .unset = -1, .json = "work_us",
     .doc = "--work-us for this server (then work_us must not be a matrix axis)"},
    {"idle_timeout", CT_LONG, S(idle_timeout), .min = 1, .max = 86400, .unset = -1, .json = "idle_timeout",
     .flags = CK_INHERIT | CK_EFFECTIVE, .doc = "--idle-timeout"},
    {"max_conns", CT_LONG, S(max_conns), .min = 0, .max = 10000000, .unset = -1, .flags = CK_INHERIT,
     .doc = "--max-conns"},
    {"backlog", CT_LONG, S(backlog), .min = 0, .max = 1000000, .unset = -1, .flags = CK_INHERIT, .doc = "--backlog"},
    {"docroot", CT_STR, S(docroot), .flags = CK_INHERIT, .doc = "--docroot"},
    {"server_cpus", CT_CPUS, S(server_cpus), .flags = CK_INHERIT, .json = "server_cpus",
     .doc = "this server's CPUs, over the defaults' (one model on 1 CPU and on 2 in one run)"},
    {"args", CT_STRS, S(args), S(nargs), .json = "args", .doc = "extra arguments, appended last"},
    {"exclude", CT_EXCLUDE, .json = "exclusions",
     .doc = "matrix points it skips: axes, each a value, a list or {min, max}; or a list of them"},
    {"command", CT_STRS, S(command), S(ncommand), .json = "command", .flags = CK_EXTERNAL,
     .doc = "an external server: its argv, {placeholders} substituted (\"External servers\")"},
    {"config", CT_STR, S(config), .json = "config", .flags = CK_EXTERNAL,
     .doc = "an external server's config file, written to {config}"},
    {"server_host", CT_NAME, S(server_host), .json = "server_host",
     .doc = "this server's host, over the config's server_host (\"Hosts\")"},
    {"loadgen_hosts", CT_STRS, S(loadgen_hosts), S(nloadgen_hosts), .json = "loadgen_hosts",
     .doc = "its load generators' hosts, over the config's loadgen_hosts"},
};
const int cfg_nserver_keys = sizeof cfg_server_keys / sizeof cfg_server_keys[0];

/* An objective of `capacity:` (capacity.c searches the rate that meets it). */
#define O(field) offsetof(struct cfg_objective, field)
const struct cfg_key cfg_objective_keys[] = {
    {"name", CT_STR, O(name), .json = "name",
     .doc = "marks its probes in runs.csv and its rows in capacity.csv; default: p99-<p99>, e.g. p99-1ms"},
    {"p99", CT_DUR, O(p99), .min = 0.0001, .max = 60, .json = "p99_s",
     .doc = "required: the corrected p99 latency at most this: 1ms, 0.01"},
    {"errors", CT_LONG, O(errors), .min = 0, .max = 1000000000, .def = "0", .json = "errors",
     .doc = "errors in the measured window at most this many"},
    {"achieved", CT_PCT, O(achieved), .min = 1, .max = 100, .def = "99%", .json = "achieved_pct",
     .doc = "the achieved rate at least this share of the intended one"},
    {"resolution", CT_PCT, O(resolution), .min = 0.1, .max = 100, .def = "5%", .json = "resolution_pct",
     .doc = "bisect until the lowest failing rate is within this of the highest passing one"},
    {"probes", CT_LONG, O(probes), .min = 1, .max = 100, .def = "12", .json = "probes",
     .doc = "open-loop probes at most per server and point (the closed-loop one not counted)"},
};
const int cfg_nobjective_keys = sizeof cfg_objective_keys / sizeof cfg_objective_keys[0];

/* A host of `hosts:` (cfg_hosts.c); its name is its key there. */
#define H(field) offsetof(struct cfg_host, field)
const struct cfg_key cfg_host_keys[] = {
    {"netns", CT_STR, H(netns), .json = "netns", .doc = "a network namespace of this machine: `ip netns exec NAME`"},
    {"ssh", CT_STR, H(ssh), .json = "ssh",
     .doc = "[user@]host[:port]: OpenSSH in batch mode, one multiplexed connection for the whole run"},
    {"exec", CT_STRS, H(exec), H(nexec), .json = "exec",
     .doc = "a command prefix that runs its arguments there with stdin and stdout: [docker, exec, -i, NAME]"},
    {"address", CT_STR, H(address), .json = "address",
     .doc = "its address as the other hosts reach it; default: the ssh host, or the namespace's first IPv4"},
    {"ssh_config", CT_STR, H(ssh_config), .json = "ssh_config", .doc = "ssh -F FILE for this host"},
    {"cpus", CT_STR, H(cpus), .json = "cpus",
     .doc = "its CPUs a load generator there is pinned to (taskset -c), e.g. 1 where the host is this machine"},
};
const int cfg_nhost_keys = sizeof cfg_host_keys / sizeof cfg_host_keys[0];

/* The axes, from CFG_AXES; a field is one of a long[CFG_NAXES] (cfg.axis_default). */
const struct cfg_key cfg_axis_keys[CFG_NAXES] = {
#define AXIS_KEY(id, nm, ty, lo, hi, w, d, text)                                                               \
    [CFG_##id] = {#nm, ty, CFG_##id * sizeof(long), .min = lo, .max = hi, .words = w, .def = d, .json = #nm,    \
                  .doc = text},
    CFG_AXES(AXIS_KEY)
#undef AXIS_KEY
};
const char *const cfg_axis_names[CFG_NAXES] = {
#define AXIS_NAME(id, nm, ...) [CFG_##id] = #nm,
    CFG_AXES(AXIS_NAME)
#undef AXIS_NAME
};

const struct cfg_key *cfg_key_find(const struct cfg_key *t, int n, const char *name)
{
    for (int i = 0; i < n; i++)
        if (!strcmp(t[i].name, name))
            return &t[i];
    return NULL;
}

const char *cfg_key_names(const struct cfg_key *t, int n, char *buf, size_t len)
{
    size_t at = 0;
    buf[0] = '\0';
    for (int i = 0; i < n && at < len; i++)
        at += (size_t)snprintf(buf + at, len - at, "%s%s", i ? ", " : "", t[i].name);
    return buf;
}

const struct cfg_key *cfg_key_want(struct cy *y, yaml_node_t *k, const struct cfg_key *t, int n, const char *key,
                                   const char *where, const char *what)
{
    char names[512];
    const struct cfg_key *ck = cfg_key_find(t, n, key);
    if (!ck)
        cy_fail(y, k, "unknown key '%s' %s (expected %s%s)", key, where, what,
                cfg_key_names(t, n, names, sizeof names));
    return ck;
}

const char *cfg_conn_mode_str(long mode, char *buf, size_t len)
{
    if (mode == CFG_KEEPALIVE)
        return "keepalive";
    if (mode == CFG_CLOSE)
        return "close";
    snprintf(buf, len, "reqs=%ld", mode);
    return buf;
}

struct cfg_server cfg_srv_effective(const struct cfg *c, const struct cfg_server *s)
{
    struct cfg_server e = *s;
    for (const struct cfg_key *k = cfg_server_keys; k < cfg_server_keys + cfg_nserver_keys; k++) {
        if (!(k->flags & CK_INHERIT))
            continue;
        /* The defaults' key of the same name, of the same C type (a string or a long). */
        const struct cfg_key *dk = cfg_key_find(cfg_defaults_keys, cfg_ndefaults_keys, k->name);
        int str = k->type == CT_STR || k->type == CT_CPUS;
        if (!dk || (dk->type == CT_STR || dk->type == CT_CPUS) != str)
            abort(); /* a wrong table: every run would fail, the tests at once */
        const char *from = (const char *)&c->d + dk->off;
        void *to = cfg_field(&e, k);
        if (str && !*(char **)to)
            *(char **)to = *(char *const *)from;
        else if (!str && *(long *)to == k->unset)
            *(long *)to = *(const long *)from;
    }
    /* auto: idle connections must outlive the whole run, or the idle experiment measures the
     * server's timer instead of its cost of holding them. */
    if (e.idle_timeout <= 0)
        e.idle_timeout = (long)ceil(c->d.warmup + c->d.duration + c->d.timeout) + 30;
    return e;
}

long cfg_srv_idle_timeout(const struct cfg *c, const struct cfg_server *s)
{
    return cfg_srv_effective(c, s).idle_timeout;
}
