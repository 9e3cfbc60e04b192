/* util.h - small helpers the runner's modules share: clocks, growable strings, files written
 * atomically, /proc-style file reads, CPU lists, and the one logging path (stderr + run log). */
#ifndef RUNNER_UTIL_H
#define RUNNER_UTIL_H

#include <sched.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

#define UT_ERRLEN 512

/* Monotonic seconds: every duration the runner measures uses this clock. */
double ut_now(void);
/* Wall-clock seconds since the epoch (CLOCK_REALTIME): only for instants other hosts share. */
double ut_wall(void);
/* CPU seconds this thread has used: the cost of our own work, whatever the machine's load. */
double ut_cputime(void);
/* Is a SIGINT, SIGTERM or SIGHUP waiting (blocked, for the signalfd)? Long loops check it so
 * that Ctrl-C is never held up by a slow scan. */
int ut_stop_pending(void);
/* Sleep for s seconds, resuming after EINTR. */
void ut_sleep(double s);

/* Growable NUL-terminated string. Allocation failure aborts: the runner cannot do anything useful
 * without memory, and checking every append would bury the logic. */
struct ut_str {
    char *s;
    size_t len, cap;
};
void ut_str_add(struct ut_str *b, const char *s);
void ut_str_addn(struct ut_str *b, const char *s, size_t n);
void ut_str_addf(struct ut_str *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void ut_str_free(struct ut_str *b);
/* Append s as a JSON string literal, quotes included. */
void ut_str_json(struct ut_str *b, const char *s);
char *ut_strdup(const char *s);
void *ut_calloc(size_t n, size_t size);
void *ut_realloc(void *p, size_t size);

/* Write data to path through path.tmp + fsync-free rename: readers see the old or the new file,
 * never half of one. Returns 0, or -1 with err filled. */
int ut_write_atomic(const char *path, const char *data, size_t len, char *err, size_t errlen);
/* Read a whole file (NUL-terminated) into *out; returns its length or -1 (errno set). */
long ut_read_file(const char *path, char **out);
/* Read a small file into buf (NUL-terminated, trailing newline kept); -1 on error. */
int ut_read_small(const char *path, char *buf, size_t len);
/* Read a file holding one integer; returns 0 and sets *v, or -1. */
int ut_read_ll(const char *path, long long *v);
/* mkdir -p. Returns 0 or -1 with errno. */
int ut_mkdirs(const char *path, int mode);
/* Copy a file atomically. */
int ut_copy_file(const char *from, const char *to, char *err, size_t errlen);

/* Parse a CPU list such as "0", "1-3" or "0,2-3" into set; returns the CPU count or -1. */
int ut_parse_cpus(const char *s, cpu_set_t *set);

/* Logging: stderr (through the progress bar, which it clears and redraws) and the run log. */
enum ut_level { UT_DEBUG, UT_INFO, UT_WARN, UT_ERROR }; /* DEBUG: the run log only */
void ut_log_open(int fd);   /* run log fd (O_APPEND); -1 to stop copying to a file */
int ut_log_fd(void);
void ut_log_quiet(int quiet); /* 1: info lines go to the run log only */
void ut_log(enum ut_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void ut_logv(enum ut_level lvl, const char *fmt, va_list ap);
/* Hook the progress bar installs so log lines do not tear it. */
void ut_log_set_bar(void (*clear)(void), void (*redraw)(void));

/* Seconds formatted as 1h02m03s / 2m03s / 4.5s into buf. */
const char *ut_fmt_dur(double s, char *buf, size_t len);

#endif
