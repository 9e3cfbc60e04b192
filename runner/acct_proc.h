/* acct_proc.h - the /proc/<pid>/stat fields the accounting backends share. */
#ifndef RUNNER_ACCT_PROC_H
#define RUNNER_ACCT_PROC_H

#include <sys/types.h>

struct acct_pstat {
    char state;
    pid_t ppid, pgrp;
    unsigned long long utime, stime, cutime, cstime; /* clock ticks */
    int threads;
    unsigned long long start; /* ticks after boot: with the pid, identifies a process */
    long rss_pages;
};

/* Read /proc/<pid>/stat; 0, or -1 when the process is gone. */
int acct_proc_stat(pid_t pid, struct acct_pstat *ps);

#endif
