/* extsrv.h - external servers: a program that is not bin/server-<model> (nginx), started from a
 * command template with the run's values substituted, with an optional generated config file in
 * a private directory. It is pinned, accounted and stopped like the project's servers (run.c);
 * what differs is here: the argv, the config, the port (chosen by the runner) and readiness (the
 * port accepting a connection, as such a program prints no ready line). */
#ifndef RUNNER_EXTSRV_H
#define RUNNER_EXTSRV_H

#include "cfg.h"
#include "spawn.h"
#include "util.h"

#include <stddef.h>

/* A built-in external server: `- nginx` in a config means this command and config. */
struct ext_preset {
    const char *name;            /* the model name in configs and results */
    const char *const *command;  /* argv template, NULL-terminated */
    const char *config;          /* config file template */
    int http_only;
};
/* The preset called name, or NULL. */
const struct ext_preset *ext_preset(const char *name);
extern const struct ext_preset ext_presets[]; /* ends with a zeroed entry */

/* The values a template may use, each as {name}. */
struct ext_vars {
    const char *host;
    int port;
    const char *dir;      /* private directory of this run (pid file, temp files, the config) */
    char config[1400];    /* path of the generated config file: {dir}/server.conf */
    long workers;         /* the server's workers (1 when not set) */
    long connections;     /* connections the point opens: active + idle */
    long max_conns;       /* the server's cap: max_conns if set, else connections + 64 */
    long nofile;          /* the open-file limit the server inherits */
    long idle_timeout;    /* seconds, as our servers' --idle-timeout */
    long backlog;         /* listen backlog: backlog if set, else our servers' default */
};

/* Substitute every {name} of tmpl into out. A brace not followed by lower-case letters or '_' and
 * a closing brace is text (nginx blocks), so only placeholders are touched. Returns 0, or -1 with
 * err naming an unknown placeholder. */
int ext_expand(const char *tmpl, const struct ext_vars *v, struct ut_str *out, char *err, size_t errlen);

/* Check s's templates (unknown placeholders) at config time; 0 or -1 with err. */
int ext_check(const struct cfg_server *s, char *err, size_t errlen);

/* The values of one row (dir and port given; the rest from the config and the point). dir must
 * outlive v. */
void ext_vars_of(const struct cfg *c, const struct cfg_server *s, const long ax[CFG_NAXES], long nofile,
                 const char *dir, int port, struct ext_vars *v);

/* Create dir, write the config file into it and build the argv (the program found on PATH, then
 * /usr/sbin and /sbin, when command[0] has no '/'). Returns 0, or -1 with err. */
int ext_prepare(const struct cfg_server *s, struct ext_vars *v, struct spawn_argv *a, char *err, size_t errlen);

/* Remove a run's private directory and everything the server created in it. */
void ext_cleanup(const char *dir);

/* A free TCP port on host now (bound and released at once; the server binds it right after), or
 * -1 with err. */
int ext_free_port(const char *host, char *err, size_t errlen);

/* Does host:port accept a connection (the kernel completes the handshake)? 1 yes, 0 no. */
int ext_accepts(const char *host, int port);

/* An executable for name: name itself when it has a '/', else the first match on PATH, /usr/sbin
 * or /sbin. Returns 0 with the path in buf, or -1. */
int ext_which(const char *name, char *buf, size_t len);

#endif
