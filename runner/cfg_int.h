/* cfg_int.h - what the config parser's files share (not for the rest of the runner): the table
 * of keys, in the spirit of nginx's ngx_command_t. Each key is one entry: its name, how its value
 * is read (the type), where it is stored (offsetof), its range, its default, its name in the copy
 * in meta.json and one line of doc. Parsing, the file:line errors, the defaults, the JSON copy and
 * the schema in configs/README.md (bench --schema) all come from the entries. */
#ifndef RUNNER_CFG_INT_H
#define RUNNER_CFG_INT_H

#include "cfg.h"
#include "cfg_yaml.h"

/* How a value is read, and the C type of the field it is stored in. */
enum cfg_type {
    CT_STR,       /* char *: a non-empty string */
    CT_NAME,      /* char *: letters, digits, - _ . (it names the results folder) */
    CT_CPUS,      /* char *: a CPU list of this machine (0, 1-3, 0,2) */
    CT_WORD,      /* char *: one of words */
    CT_ENUM,      /* int: the index of one of words (an axis: long) */
    CT_STRS,      /* char ** and its int count at noff: a string or a list of strings */
    CT_LONG,      /* long in [min, max] */
    CT_LONG_K,    /* long in [min, max], k/m suffixes powers of 1000 */
    CT_LONG_KIB,  /* long in [min, max], k/m/g suffixes powers of 1024 */
    CT_AUTO,      /* long in [min, max], or auto (stored as 0) */
    CT_DUR,       /* double: seconds in [min, max], or with a unit: 500ms, 2s, 1m */
    CT_CONN_MODE, /* long: keepalive (CFG_KEEPALIVE), close (CFG_CLOSE) or reqs=N */
    CT_PCT,       /* double: a percentage in [min, max], 5% or 5, stored as a fraction (0.05) */
    /* Sections, each with a walker of its own (cfg.c, cfg_servers.c); no field. */
    CT_DEFAULTS,  /* a mapping of cfg_defaults_keys and the axes */
    CT_SERVERS,   /* a list of servers (cfg_server_keys), or the word all */
    CT_MATRIX,    /* a mapping of axes, or a list of them */
    CT_EXCLUDE,   /* a mapping of axes (values or min/max ranges), or a list of them */
    CT_CAPACITY,  /* a mapping of cfg_objective_keys, or a list of them */
    CT_HOSTS,     /* a mapping of host names to `local` or a mapping of cfg_host_keys */
    CT_NTYPES
};

enum {
    CK_INHERIT = 1,  /* a server's key: left out (unset), the defaults' key of the same name applies */
    CK_EXTERNAL = 2, /* copied into meta.json for an external server only */
    CK_EFFECTIVE = 4 /* copied into meta.json as the server runs with it (cfg_srv_effective) */
};

struct cfg_key {
    const char *name;         /* as written in a config ('-' may stand for '_') */
    enum cfg_type type;
    size_t off;               /* offsetof the field in its section's struct */
    size_t noff;              /* CT_STRS: offsetof the count */
    double min, max;          /* numbers: the range, inclusive */
    const char *const *words; /* CT_WORD, CT_ENUM: the choices, NULL-terminated */
    const char *def;          /* the default as a config would write it; NULL: unset */
    long unset;               /* a number's value when def is NULL (-1 where 0 says something) */
    const char *json;         /* its name in meta.json's copy; NULL: not copied */
    int flags;                /* CK_* */
    const char *doc;          /* one line for configs/README.md */
};

/* The sections' tables, each in the order messages list the keys. The axes are their own table:
 * the matrix and exclude take only axes, defaults take its keys and the axes. */
extern const struct cfg_key cfg_top_keys[], cfg_defaults_keys[], cfg_server_keys[], cfg_axis_keys[],
    cfg_objective_keys[], cfg_host_keys[];
extern const int cfg_ntop_keys, cfg_ndefaults_keys, cfg_nserver_keys, cfg_nobjective_keys, cfg_nhost_keys;
extern const char *const cfg_type_names[CT_NTYPES]; /* how the schema names a type */

/* The entry called name in t (n entries), or NULL. */
const struct cfg_key *cfg_key_find(const struct cfg_key *t, int n, const char *name);
/* "a, b, c": the names of t, for messages. */
const char *cfg_key_names(const struct cfg_key *t, int n, char *buf, size_t len);
/* The entry called key in t, or NULL with the error "unknown key 'key' <where> (expected <what>a,
 * b, c)" at node k: where says in which section ("in matrix"), what precedes the names. */
const struct cfg_key *cfg_key_want(struct cy *y, yaml_node_t *k, const struct cfg_key *t, int n, const char *key,
                                   const char *where, const char *what);
/* The field of k in the struct at base. */
static inline void *cfg_field(void *base, const struct cfg_key *k)
{
    return (char *)base + k->off;
}

/* Parser state while walking the document. */
struct cfg_parse {
    struct cfg *c;
    const char *bindir;
    struct cfg_server *s;   /* the server entry being parsed */
    struct cfg_excl *e;     /* the exclusion being parsed */
    struct cfg_block *b;    /* the matrix block being parsed */
    struct cfg_objective *o; /* the capacity objective being parsed */
    struct cfg_host *h;     /* the host being parsed */
    int range_axis;         /* the axis of the min/max range being parsed */
    yaml_node_t *work_us_node; /* where a server set work_us, for the conflict message */
    yaml_node_t *model_node;   /* where a server set model, to check it once command is known */
};

/* Store node n's value into the field of k in the struct at base (a value key, not a section).
 * Returns 0, or -1 with the error filled. */
int cfg_set(struct cy *y, yaml_node_t *n, const struct cfg_key *k, void *base);
/* Every value key of t at its default (def, else unset), as if a config had written it. */
void cfg_set_defaults(const struct cfg_key *t, int n, void *base);
/* One value of axis a from a scalar node; a scalar or non-empty list into v. */
int cfg_axis_value(struct cy *y, yaml_node_t *n, enum cfg_axis a, long *out);
int cfg_axis_values(struct cy *y, yaml_node_t *n, enum cfg_axis a, struct cfg_values *v);
/* The items of v, a list or one node (the matrix and exclude take either): *n of them, in a new
 * array the caller frees. */
yaml_node_t **cfg_items(struct cy *y, yaml_node_t *v, int *n);

/* The `servers:` value: a list of entries, or the word all. */
int cfg_servers(struct cy *y, yaml_node_t *v, struct cfg_parse *p);
/* The `hosts:` value (cfg_hosts.c), the check of server_host and loadgen_hosts against it once
 * the whole file is read (err as cfg_load's; returns 0 or -1), and freeing the hosts (server_host
 * and loadgen_hosts are keys of the top level, freed with it). */
int cfg_hosts(struct cy *y, yaml_node_t *v, struct cfg_parse *p);
int cfg_hosts_check(struct cfg *c, char *err, size_t errlen);
void cfg_hosts_free(struct cfg *c);

#endif
