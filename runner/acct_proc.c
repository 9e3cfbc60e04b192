/* acct_proc.c - reading /proc/<pid>/stat, for the sampler, the /proc backend and the reaper alike:
 * in a file of its own so that a backend never calls back into acct.c. */
#include "acct_proc.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int acct_proc_stat(pid_t pid, struct acct_pstat *ps)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    if (ut_read_small(path, buf, sizeof buf) <= 0)
        return -1;
    /* comm may hold spaces and parentheses: the fields start after the last ')'. */
    char *p = strrchr(buf, ')');
    if (!p)
        return -1;
    /* Fields from 3 (state) on, numbered as in proc(5) minus 3: f[11] is utime (field 14). */
    unsigned long long f[22] = {0};
    char state = p[2], *q = p + 3;
    for (int i = 1; i < 22; i++) {
        char *end;
        long long v = strtoll(q, &end, 10); /* signed: tty_nr and tpgid may be -1 */
        if (end == q)
            return -1;
        f[i] = (unsigned long long)v;
        q = end;
    }
    ps->state = state;
    ps->ppid = (pid_t)f[1];
    ps->pgrp = (pid_t)f[2];
    ps->utime = f[11], ps->stime = f[12], ps->cutime = f[13], ps->cstime = f[14];
    ps->threads = (int)f[17];
    ps->start = f[19];
    ps->rss_pages = (long)f[21];
    return 0;
}
