/* cfg_yaml.h - typed access to a libyaml document for the config parser: every accessor either
 * returns a value or fills the error with "file:line:col: what was expected, what was found". */
#ifndef RUNNER_CFG_YAML_H
#define RUNNER_CFG_YAML_H

#include <stddef.h>
#include <yaml.h>

struct cy {
    yaml_document_t doc;
    const char *file;
    char *err;
    size_t errlen;
};

/* Load the single document of file; -1 with a syntax message ("file:line:col: ...") on error. */
int cy_load(struct cy *y, const char *file, char *err, size_t errlen);
void cy_free(struct cy *y);

yaml_node_t *cy_node(struct cy *y, int index);
yaml_node_t *cy_root(struct cy *y);
/* Fill the error with the node's position and the message; always returns -1. */
int cy_fail(struct cy *y, const yaml_node_t *n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int cy_line(const yaml_node_t *n);
/* What a node is, in words, for messages ("a list", "a mapping", "'abc'"). */
const char *cy_what(const yaml_node_t *n, char *buf, size_t len);

/* Visit a mapping's pairs in order. The key is normalized ('-' becomes '_') and checked for
 * duplicates; fn returns 0 to go on or -1 to stop with the error already filled. */
typedef int (*cy_pair_fn)(struct cy *y, const char *key, yaml_node_t *k, yaml_node_t *v, void *arg);
int cy_mapping(struct cy *y, yaml_node_t *n, const char *what, cy_pair_fn fn, void *arg);

/* Scalars. Each checks the type and range and names the key in its message. */
int cy_str(struct cy *y, yaml_node_t *n, const char *key, char **out);
int cy_long(struct cy *y, yaml_node_t *n, const char *key, long min, long max, long *out);
/* An integer with an optional binary suffix k/m/g (size) or decimal suffix k (rates). */
int cy_long_suffix(struct cy *y, yaml_node_t *n, const char *key, long min, long max, int binary, long *out);
/* Seconds: a number (2, 0.5) or a string with a unit (500ms, 2s, 1m). */
int cy_dur(struct cy *y, yaml_node_t *n, const char *key, double min, double max, double *out);
/* One of the words in choices (NULL-terminated); returns its index. */
int cy_enum(struct cy *y, yaml_node_t *n, const char *key, const char *const choices[], int *out);
/* A scalar or a list of scalars as strings. */
int cy_strlist(struct cy *y, yaml_node_t *n, const char *key, char ***out, int *count);
/* Is the node the plain scalar "auto"? */
int cy_is_auto(const yaml_node_t *n);

#endif
