/* defaults.h - defaults of the servers' command line that the runner must know too: an external
 * server (runner/extsrv.c) is given the same listen backlog as ours when the config sets none. */
#ifndef CMB_DEFAULTS_H
#define CMB_DEFAULTS_H

#define SRV_DEFAULT_BACKLOG 4096 /* --backlog */

#define SRV_STR_(x) #x
#define SRV_STR(x) SRV_STR_(x) /* a macro's value as a string literal */

#endif
