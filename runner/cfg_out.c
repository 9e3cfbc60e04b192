/* cfg_out.c - what the table of keys writes out: a parsed config as the JSON copy kept in
 * meta.json (each key under its .json name), and the table itself as the markdown schema of
 * configs/README.md (bench --schema; tests/runner-config.t checks the README holds it). */
#include "cfg_int.h"
#include "util.h"

#include <stdio.h>
#include <string.h>

/* --- the JSON copy ---------------------------------------------------------------------------- */

/* A number-valued key's value v (an axis value, a default). */
static void json_number(struct ut_str *o, const struct cfg_key *k, long v)
{
    char buf[32];
    if (k->type == CT_CONN_MODE)
        ut_str_json(o, cfg_conn_mode_str(v, buf, sizeof buf));
    else if (k->type == CT_ENUM)
        ut_str_json(o, k->words[v]);
    else if (k->type == CT_AUTO && v == 0)
        ut_str_json(o, "auto");
    else
        ut_str_addf(o, "%ld", v);
}

static void json_strs(struct ut_str *o, char *const *v, int n)
{
    ut_str_add(o, "[");
    for (int i = 0; i < n; i++) {
        if (i)
            ut_str_add(o, ",");
        ut_str_json(o, v[i]);
    }
    ut_str_add(o, "]");
}

static void json_section(struct ut_str *o, const struct cfg *c, const struct cfg_key *k, const void *base);

/* The keys of t that are copied, as "name":value pairs of the struct at base; eff is the same
 * struct as it runs (CK_EFFECTIVE), external whether CK_EXTERNAL keys are copied. */
static void json_keys(struct ut_str *o, const struct cfg *c, const struct cfg_key *t, int n, const void *base,
                      const void *eff, int external, int first)
{
    for (const struct cfg_key *k = t; k < t + n; k++) {
        if (!k->json || ((k->flags & CK_EXTERNAL) && !external))
            continue;
        const char *b = (k->flags & CK_EFFECTIVE) ? eff : base, *f = b + k->off;
        ut_str_addf(o, "%s\"%s\":", first ? "" : ",", k->json);
        first = 0;
        switch (k->type) {
        case CT_STR: case CT_NAME: case CT_CPUS: case CT_WORD:
            ut_str_json(o, *(char *const *)f ? *(char *const *)f : "");
            break;
        case CT_STRS:
            json_strs(o, *(char **const *)f, *(const int *)(b + k->noff));
            break;
        case CT_DUR:
            ut_str_addf(o, "%g", *(const double *)f);
            break;
        case CT_PCT:
            ut_str_addf(o, "%g", *(const double *)f * 100);
            break;
        case CT_ENUM:
            json_number(o, k, *(const int *)f); /* an axis's is a long: written by CT_DEFAULTS */
            break;
        case CT_DEFAULTS: case CT_SERVERS: case CT_MATRIX: case CT_EXCLUDE: case CT_CAPACITY: case CT_HOSTS:
            json_section(o, c, k, base);
            break;
        default:
            json_number(o, k, *(const long *)f);
        }
    }
}

static void json_section(struct ut_str *o, const struct cfg *c, const struct cfg_key *k, const void *base)
{
    switch (k->type) {
    case CT_DEFAULTS:
        ut_str_add(o, "{");
        json_keys(o, c, cfg_defaults_keys, cfg_ndefaults_keys, &c->d, &c->d, 0, 1);
        for (int a = 0; a < CFG_NAXES; a++) {
            ut_str_addf(o, ",\"%s\":", cfg_axis_keys[a].json);
            json_number(o, &cfg_axis_keys[a], c->axis_default[a]);
        }
        ut_str_add(o, "}");
        break;
    case CT_SERVERS:
        ut_str_add(o, "[");
        for (int i = 0; i < c->nsrv; i++) {
            const struct cfg_server *s = &c->srv[i];
            struct cfg_server e = cfg_srv_effective(c, s);
            ut_str_add(o, i ? ",{" : "{");
            json_keys(o, c, cfg_server_keys, cfg_nserver_keys, s, &e, cfg_srv_external(s), 1);
            ut_str_add(o, "}");
        }
        ut_str_add(o, "]");
        break;
    case CT_MATRIX:
        ut_str_add(o, "[");
        for (int b = 0; b < c->nblk; b++) {
            ut_str_add(o, b ? ",{" : "{");
            for (int a = 0, first = 1; a < CFG_NAXES; a++) {
                const struct cfg_values *v = &c->blk[b].ax[a];
                if (!v->n)
                    continue;
                ut_str_addf(o, "%s\"%s\":[", first ? "" : ",", cfg_axis_keys[a].json);
                for (int i = 0; i < v->n; i++) {
                    ut_str_add(o, i ? "," : "");
                    json_number(o, &cfg_axis_keys[a], v->v[i]);
                }
                ut_str_add(o, "]");
                first = 0;
            }
            ut_str_add(o, "}");
        }
        ut_str_add(o, "]");
        break;
    case CT_CAPACITY:
        ut_str_add(o, "[");
        for (int i = 0; i < c->nobj; i++) {
            ut_str_add(o, i ? ",{" : "{");
            json_keys(o, c, cfg_objective_keys, cfg_nobjective_keys, &c->obj[i], &c->obj[i], 0, 1);
            ut_str_add(o, "}");
        }
        ut_str_add(o, "]");
        break;
    case CT_HOSTS: /* the names given, local among them only where it was renamed */
        ut_str_add(o, "{");
        for (int i = 1; i < c->nhosts; i++) {
            ut_str_json(o, c->hosts[i].name);
            ut_str_add(o, ":{");
            json_keys(o, c, cfg_host_keys, cfg_nhost_keys, &c->hosts[i], &c->hosts[i], 0, 1);
            ut_str_add(o, "}");
            if (i + 1 < c->nhosts)
                ut_str_add(o, ",");
        }
        ut_str_add(o, "}");
        break;
    default: /* CT_EXCLUDE: how many */
        ut_str_addf(o, "%d", ((const struct cfg_server *)base)->nexcl);
    }
}

void cfg_to_json(const struct cfg *c, struct ut_str *o)
{
    ut_str_add(o, "{\"file\":");
    ut_str_json(o, c->path);
    json_keys(o, c, cfg_top_keys, cfg_ntop_keys, c, c, 0, 0);
    ut_str_add(o, "}");
}

/* --- the schema ------------------------------------------------------------------------------- */

static void schema_table(FILE *f, const char *title, const struct cfg_key *t, int n)
{
    fprintf(f, "\n%s\n\n| key | type | default | values | meaning |\n|---|---|---|---|---|\n", title);
    for (const struct cfg_key *k = t; k < t + n; k++) {
        char range[128] = "";
        if (k->words)
            for (int i = 0; k->words[i]; i++)
                snprintf(range + strlen(range), sizeof range - strlen(range), "%s%s", i ? ", " : "", k->words[i]);
        else if (k->type == CT_CONN_MODE)
            snprintf(range, sizeof range, "keepalive, close, reqs=N");
        else if (k->type == CT_DUR)
            snprintf(range, sizeof range, "%g .. %g", k->min, k->max);
        else if (k->type == CT_PCT)
            snprintf(range, sizeof range, "%g%% .. %g%%", k->min, k->max);
        else if (k->type >= CT_LONG && k->type <= CT_AUTO)
            snprintf(range, sizeof range, "%.0f .. %.0f", k->min, k->max);
        fprintf(f, "| `%s` | %s | %s | %s | %s |\n", k->name, cfg_type_names[k->type],
                k->def ? k->def : (k->flags & CK_INHERIT) ? "from `defaults`" : "", range, k->doc);
    }
}

void cfg_schema(FILE *f)
{
    fputs("Generated from the table of keys (runner/cfg_keys.c) by `bin/bench --schema`; a test checks\n"
          "that this section is what it prints.\n",
          f);
    schema_table(f, "**The top level.**", cfg_top_keys, cfg_ntop_keys);
    schema_table(f, "**`defaults:`**, and a matrix axis there gives its value where the matrix omits it.",
                 cfg_defaults_keys, cfg_ndefaults_keys);
    schema_table(f, "**A server**, an entry of `servers:` (a model's name alone is `model:`).", cfg_server_keys,
                 cfg_nserver_keys);
    schema_table(f, "**The matrix axes**, in `matrix:`, `exclude:` and `defaults:`.", cfg_axis_keys, CFG_NAXES);
    schema_table(f, "**An objective**, `capacity:` or an entry of its list (\"Capacity search\" above).",
                 cfg_objective_keys, cfg_nobjective_keys);
    schema_table(f, "**A host**, a value of `hosts:` (or the word `local`: another name for this machine; "
                    "\"Hosts\" above).", cfg_host_keys, cfg_nhost_keys);
}
