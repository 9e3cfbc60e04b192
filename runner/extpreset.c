/* extpreset.c - external servers at config time (extpreset.h): a server entry resolved into the
 * command and config it will run with. */
#include "extpreset.h"
#include "extsrv.h"
#include "util.h"

#include <stdio.h>
#include <string.h>

int ext_resolve(struct cy *y, yaml_node_t *n, struct cfg_parse *p)
{
    struct cfg_server *s = p->s;
    const struct ext_preset *pre = s->model && !s->command ? ext_preset(s->model) : NULL;
    char err[UT_ERRLEN];
    if (!s->command && s->config)
        return cy_fail(y, n, "'config' is for an external server: give its 'command' too");
    if (!s->command && !pre)
        return 0; /* one of ours */
    if (pre) {
        for (const char *const *a = pre->command; *a; a++) {
            s->command = ut_realloc(s->command, (size_t)(s->ncommand + 2) * sizeof *s->command);
            s->command[s->ncommand++] = ut_strdup(*a);
            s->command[s->ncommand] = NULL;
        }
        if (!s->config)
            s->config = ut_strdup(pre->config);
        s->http_only = pre->http_only;
    }
    if (!s->model) {
        const char *b = strrchr(s->command[0], '/');
        s->model = ut_strdup(b ? b + 1 : s->command[0]);
    }
    if (s->docroot)
        return cy_fail(y, n, "server '%s' is external: it has no --docroot (put one in its config)", s->model);
    if (p->work_us_node)
        return cy_fail(y, p->work_us_node, "server '%s' is external: it cannot burn work_us", s->model);
    if (ext_check(s, err, sizeof err) < 0)
        return cy_fail(y, n, "server '%s': %s", s->model, err);
    return 0;
}

