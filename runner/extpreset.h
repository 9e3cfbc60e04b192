/* extpreset.h - external servers at config time: a server entry that names a preset (`- nginx`)
 * or gives a command resolved into what it will run, its templates checked and the options only
 * our servers understand refused. The presets themselves are in extsrv.c. */
#ifndef RUNNER_EXTPRESET_H
#define RUNNER_EXTPRESET_H

#include "cfg_int.h"

/* The server being parsed (p->s, its entry at node n) once all its keys are read: a preset fills
 * what the entry did not give, an external server's templates are checked. 0, or -1 with the
 * error filled. A server of ours passes unchanged. */
int ext_resolve(struct cy *y, yaml_node_t *n, struct cfg_parse *p);

#endif
