/* json.h - a small JSON reader for the files the runner consumes (loadgen --json, server --stats):
 * parse into a tree, then look values up by dotted path ("latency_us.p99"). */
#ifndef RUNNER_JSON_H
#define RUNNER_JSON_H

#include <stddef.h>

enum json_type { JSON_NULL, JSON_BOOL, JSON_NUM, JSON_STR, JSON_ARR, JSON_OBJ };

struct json {
    enum json_type type;
    double num;            /* JSON_NUM, JSON_BOOL (0/1) */
    char *str;             /* JSON_STR */
    int n;                 /* JSON_ARR, JSON_OBJ: members */
    struct json *kids;
    char **keys;           /* JSON_OBJ */
};

/* Parse text; returns the tree, or NULL with "offset N: what" in err. */
struct json *json_parse(const char *text, char *err, size_t errlen);
struct json *json_parse_file(const char *path, char *err, size_t errlen);
void json_free(struct json *j);

/* Member by dotted path; NULL when absent. */
const struct json *json_get(const struct json *j, const char *path);
/* Number at path into *out: 0, or -1 when absent or not a number (out untouched). */
int json_num(const struct json *j, const char *path, double *out);
/* String at path, or NULL. */
const char *json_str(const struct json *j, const char *path);

#endif
