/* cfg_int.h - what the config parser's files share (not for the rest of the runner). */
#ifndef RUNNER_CFG_INT_H
#define RUNNER_CFG_INT_H

#include "cfg.h"
#include "cfg_yaml.h"

/* Parser state while walking the document. */
struct cfg_parse {
    struct cfg *c;
    const char *bindir;
    struct cfg_server *s;   /* the server entry being parsed */
    struct cfg_excl *e;     /* the exclusion being parsed */
    struct cfg_block *b;    /* the matrix block being parsed */
    int range_axis;         /* the axis of the min/max range being parsed */
    yaml_node_t *work_us_node; /* where a server set work_us, for the conflict message */
    yaml_node_t *model_node;   /* where a server set model, to check it once command is known */
};

/* One value of axis a from a scalar node; a scalar or non-empty list into v. */
int cfg_axis_value(struct cy *y, yaml_node_t *n, enum cfg_axis a, long *out);
int cfg_axis_values(struct cy *y, yaml_node_t *n, enum cfg_axis a, struct cfg_values *v);
/* Index of an axis name, or -1. */
int cfg_axis_index(const char *key);
extern const char cfg_axis_list[]; /* the axis names, for messages */

/* The `servers:` value: a list of entries, or the word all. */
int cfg_servers(struct cy *y, yaml_node_t *v, struct cfg_parse *p);

#endif
