/* util.c - clocks, strings, atomic files, CPU lists and logging for the runner. */
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

double ut_wall(void)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (double)t.tv_sec + t.tv_nsec / 1e9;
}

double ut_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

double ut_cputime(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

int ut_stop_pending(void)
{
    sigset_t set;
    if (sigpending(&set) < 0)
        return 0;
    return sigismember(&set, SIGINT) == 1 || sigismember(&set, SIGTERM) == 1 || sigismember(&set, SIGHUP) == 1;
}

void ut_sleep(double s)
{
    struct timespec ts = {.tv_sec = (time_t)s, .tv_nsec = (long)((s - (time_t)s) * 1e9)};
    while (s > 0 && nanosleep(&ts, &ts) == -1 && errno == EINTR)
        ;
}

void *ut_calloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p) {
        fputs("bench: out of memory\n", stderr);
        abort();
    }
    return p;
}

void *ut_realloc(void *p, size_t size)
{
    p = realloc(p, size ? size : 1);
    if (!p) {
        fputs("bench: out of memory\n", stderr);
        abort();
    }
    return p;
}

char *ut_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    return memcpy(ut_calloc(1, n), s, n);
}

void ut_str_addn(struct ut_str *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        b->cap = (b->len + n + 1) * 2;
        b->s = ut_realloc(b->s, b->cap);
    }
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = '\0';
}

void ut_str_add(struct ut_str *b, const char *s)
{
    ut_str_addn(b, s, strlen(s));
}

void ut_str_addf(struct ut_str *b, const char *fmt, ...)
{
    va_list ap;
    char small[256];
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n < sizeof small) {
        ut_str_addn(b, small, (size_t)n);
        return;
    }
    char *big = ut_calloc(1, (size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    ut_str_addn(b, big, (size_t)n);
    free(big);
}

void ut_str_json(struct ut_str *b, const char *s)
{
    ut_str_add(b, "\"");
    for (; s && *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            ut_str_addf(b, "\\%c", c);
        else if (c == '\n')
            ut_str_add(b, "\\n");
        else if (c < 0x20)
            ut_str_addf(b, "\\u%04x", c);
        else
            ut_str_addn(b, (const char *)&c, 1);
    }
    ut_str_add(b, "\"");
}

void ut_str_free(struct ut_str *b)
{
    free(b->s);
    b->s = NULL;
    b->len = b->cap = 0;
}

int ut_write_atomic(const char *path, const char *data, size_t len, char *err, size_t errlen)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
        return -1;
    }
    size_t off = 0;
    while (off < len) {
        ssize_t w = write(fd, data + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0) {
            int e = errno;
            close(fd);
            unlink(tmp);
            snprintf(err, errlen, "write %s: %s", tmp, strerror(e));
            return -1;
        }
        off += (size_t)w;
    }
    if (close(fd) < 0 || rename(tmp, path) < 0) {
        snprintf(err, errlen, "rename %s: %s", path, strerror(errno));
        unlink(tmp);
        return -1;
    }
    return 0;
}

long ut_read_file(const char *path, char **out)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    struct ut_str b = {0};
    char buf[65536];
    for (;;) {
        ssize_t r = read(fd, buf, sizeof buf);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            int e = errno;
            close(fd);
            ut_str_free(&b);
            errno = e;
            return -1;
        }
        if (r == 0)
            break;
        ut_str_addn(&b, buf, (size_t)r);
    }
    close(fd);
    if (!b.s)
        b.s = ut_strdup("");
    *out = b.s;
    return (long)b.len;
}

int ut_read_small(const char *path, char *buf, size_t len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t r;
    do
        r = read(fd, buf, len - 1);
    while (r < 0 && errno == EINTR);
    close(fd);
    if (r < 0)
        return -1;
    buf[r] = '\0';
    return (int)r;
}

int ut_read_ll(const char *path, long long *v)
{
    char buf[64], *end;
    if (ut_read_small(path, buf, sizeof buf) < 0)
        return -1;
    errno = 0;
    *v = strtoll(buf, &end, 10);
    return (end == buf || errno) ? -1 : 0;
}

int ut_mkdirs(const char *path, int mode)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s", path);
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(tmp, (mode_t)mode) < 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    if (mkdir(tmp, (mode_t)mode) < 0 && errno != EEXIST)
        return -1;
    return 0;
}

int ut_copy_file(const char *from, const char *to, char *err, size_t errlen)
{
    char *data;
    long n = ut_read_file(from, &data);
    if (n < 0) {
        snprintf(err, errlen, "%s: %s", from, strerror(errno));
        return -1;
    }
    int rc = ut_write_atomic(to, data, (size_t)n, err, errlen);
    free(data);
    return rc;
}

int ut_parse_cpus(const char *s, cpu_set_t *set)
{
    CPU_ZERO(set);
    const char *p = s;
    while (*p) {
        char *end;
        long a = strtol(p, &end, 10), b;
        if (end == p || a < 0 || a >= CPU_SETSIZE)
            return -1;
        b = a;
        p = end;
        if (*p == '-') {
            b = strtol(p + 1, &end, 10);
            if (end == p + 1 || b < a || b >= CPU_SETSIZE)
                return -1;
            p = end;
        }
        for (long c = a; c <= b; c++)
            CPU_SET((int)c, set);
        if (*p == ',')
            p++;
        else if (*p)
            return -1;
    }
    return CPU_COUNT(set) ? CPU_COUNT(set) : -1;
}

/* --- logging ------------------------------------------------------------------------------- */

static int log_fd = -1;
static int log_quiet;
static void (*bar_clear)(void);
static void (*bar_redraw)(void);

void ut_log_open(int fd) { log_fd = fd; }
int ut_log_fd(void) { return log_fd; }
void ut_log_quiet(int quiet) { log_quiet = quiet; }

void ut_log_set_bar(void (*clear)(void), void (*redraw)(void))
{
    bar_clear = clear;
    bar_redraw = redraw;
}

void ut_logv(enum ut_level lvl, const char *fmt, va_list ap)
{
    static const char *const tag[] = {[UT_DEBUG] = "", [UT_INFO] = "", [UT_WARN] = "warning: ", [UT_ERROR] = "error: "};
    char msg[2048];
    vsnprintf(msg, sizeof msg, fmt, ap);
    if (lvl >= UT_WARN || (lvl == UT_INFO && !log_quiet)) {
        if (bar_clear)
            bar_clear();
        fprintf(stderr, "bench: %s%s\n", tag[lvl], msg);
        if (bar_redraw)
            bar_redraw();
    }
    if (log_fd >= 0) {
        /* One write per line so lines from the servers' stderr (same file) do not interleave
         * inside ours. */
        char line[2200];
        time_t now = time(NULL);
        struct tm tm;
        localtime_r(&now, &tm);
        int n = snprintf(line, sizeof line, "%02d:%02d:%02d bench: %s%s\n", tm.tm_hour, tm.tm_min,
                         tm.tm_sec, tag[lvl], msg);
        if (n > (int)sizeof line - 1)
            n = (int)sizeof line - 1;
        ssize_t w;
        do
            w = write(log_fd, line, (size_t)n);
        while (w < 0 && errno == EINTR);
    }
}

void ut_log(enum ut_level lvl, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    ut_logv(lvl, fmt, ap);
    va_end(ap);
}

const char *ut_fmt_dur(double s, char *buf, size_t len)
{
    if (s < 0)
        s = 0;
    long t = (long)(s + 0.5);
    if (s < 60)
        snprintf(buf, len, "%.0fs", s);
    else if (t < 3600)
        snprintf(buf, len, "%ldm%02lds", t / 60, t % 60);
    else
        snprintf(buf, len, "%ldh%02ldm%02lds", t / 3600, t % 3600 / 60, t % 60);
    return buf;
}
