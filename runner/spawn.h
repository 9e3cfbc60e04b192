/* spawn.h - start a child the way every server and load generator is started: its own process
 * group, pinned to a CPU set, put in its accounting group before it executes a single instruction
 * of the program, stdin from /dev/null, signals as a fresh process expects them. */
#ifndef RUNNER_SPAWN_H
#define RUNNER_SPAWN_H

#include <sched.h>
#include <sys/types.h>

struct acct;

struct spawn_opts {
    const cpu_set_t *cpus;  /* NULL: not pinned */
    int stdout_pipe;        /* 1: stdout is a pipe, its read end returned in out_fd */
    int log_fd;             /* stderr (and stdout without a pipe or a file) go here; -1: /dev/null */
    const char *stdout_path; /* stdout into this file (created or truncated); NULL: as above */
    struct acct *acct;      /* attach the child here before exec; NULL: none */
    int *stdin_fd;          /* not NULL: stdin is a pipe, its write end stored here (else /dev/null) */
};

/* The nice value children start with (the runner itself may run at a higher priority). */
extern int spawn_nice;

/* Start argv[0] with argv. Returns the pid (also its process group id) and *out_fd (or -1), or
 * -1 with err filled when fork or exec failed (the failed child is already reaped). */
pid_t spawn_start(char *const argv[], const struct spawn_opts *o, int *out_fd, char *err, size_t errlen);

/* argv joined with spaces, for the log. */
void spawn_cmdline(char *const argv[], char *buf, size_t len);

/* An argument vector built one printf-formatted argument at a time (NULL-terminated in v). */
struct spawn_argv {
    char *v[160];
    int n;
};
void spawn_arg(struct spawn_argv *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void spawn_argv_free(struct spawn_argv *a);

#endif
