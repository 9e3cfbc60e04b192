/* results.c - runs.csv / timeseries.csv kept in memory and rewritten whole after each row (a
 * file rename is atomic, an append is not), the run folder, --resume and results/latest. */
#include "results.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define RES_NAME(n) #n,
const char *const res_col_names[RC_N] = {RES_COLUMNS(RES_NAME)};
#undef RES_NAME

static void cell_vset(char **cell, const char *fmt, va_list ap)
{
    char buf[1024];
    vsnprintf(buf, sizeof buf, fmt, ap);
    free(*cell);
    *cell = ut_strdup(buf);
}

void res_set(struct res_row *r, enum res_col c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    cell_vset(&r->cell[c], fmt, ap);
    va_end(ap);
}

void res_cellf(char **cell, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    cell_vset(cell, fmt, ap);
    va_end(ap);
}

void res_row_free(struct res_row *r)
{
    for (int c = 0; c < RC_N; c++)
        free(r->cell[c]), r->cell[c] = NULL;
}

const char *res_path(const struct res *r, const char *name, char *buf, size_t len)
{
    snprintf(buf, len, "%s/%s", r->dir, name);
    return buf;
}

static void csv_field(struct ut_str *o, const char *s)
{
    if (!s)
        return;
    if (!strpbrk(s, ",\"\n\r")) {
        ut_str_add(o, s);
        return;
    }
    ut_str_add(o, "\"");
    for (; *s; s++) {
        if (*s == '"')
            ut_str_add(o, "\""); /* a quote inside a quoted field is doubled */
        ut_str_addn(o, s, 1);
    }
    ut_str_add(o, "\"");
}

int res_csv_split(char *line, char **fields, int max)
{
    int n = 0;
    char *p = line;
    while (n < max) {
        char *w = p;
        fields[n++] = p;
        if (*p == '"') {
            /* Quoted: copy down over the quotes, "" is one quote. */
            for (p++;; p++) {
                if (*p == '"' && p[1] == '"')
                    *w++ = '"', p++;
                else if (*p == '"' || !*p)
                    break;
                else
                    *w++ = *p;
            }
            if (*p == '"')
                p++;
        } else {
            while (*p && *p != ',')
                *w++ = *p++;
        }
        char *next = *p == ',' ? p + 1 : NULL;
        *w = '\0';
        if (!next)
            break;
        p = next;
    }
    return n;
}

int res_csv_write(const char *path, const char *const *names, int ncol, char *const *cells, int n, char *err,
                  size_t errlen)
{
    struct ut_str o = {0};
    for (int c = 0; c < ncol; c++)
        ut_str_addf(&o, "%s%s", c ? "," : "", names[c]);
    ut_str_add(&o, "\n");
    for (int i = 0; i < n; i++) {
        for (int c = 0; c < ncol; c++) {
            if (c)
                ut_str_add(&o, ",");
            csv_field(&o, cells[(size_t)i * (size_t)ncol + (size_t)c]);
        }
        ut_str_add(&o, "\n");
    }
    int rc = ut_write_atomic(path, o.s ? o.s : "", o.len, err, errlen);
    ut_str_free(&o);
    return rc;
}

/* A row is its cells and nothing else, so the rows are one array of cells for res_csv_write. */
_Static_assert(sizeof(struct res_row) == RC_N * sizeof(char *), "struct res_row holds only its cells");

static int write_runs(struct res *r, char *err, size_t errlen)
{
    char path[1200];
    int rc = res_csv_write(res_path(r, "runs.csv", path, sizeof path), res_col_names, RC_N,
                           (char *const *)r->rows, r->nrows, err, errlen);
    if (rc == 0) {
        struct ut_str t = {0};
        ut_str_add(&t, RES_TS_HEADER "\n");
        if (r->ts)
            ut_str_addn(&t, r->ts, r->tslen);
        rc = ut_write_atomic(res_path(r, "timeseries.csv", path, sizeof path), t.s, t.len, err, errlen);
        ut_str_free(&t);
    }
    return rc;
}

/* --resume: keep the rows that completed without failing; a failed row is run again. */
static int load_existing(struct res *r, char *err, size_t errlen)
{
    char path[1200], *text, *save;
    if (ut_read_file(res_path(r, "runs.csv", path, sizeof path), &text) < 0)
        return 0; /* interrupted before the first row: nothing to keep */
    int idx[RC_N], ncol = 0;
    char *fields[RC_N + 8];
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        int n = res_csv_split(line, fields, RC_N + 8);
        if (!ncol) { /* header: map its columns to ours by name */
            ncol = n;
            for (int c = 0; c < RC_N; c++) {
                idx[c] = -1;
                for (int f = 0; f < n; f++)
                    if (!strcmp(fields[f], res_col_names[c]))
                        idx[c] = f;
            }
            if (idx[RC_run] < 0 || idx[RC_status] < 0) {
                snprintf(err, errlen, "%s: not a runs.csv (no run/status columns)", path);
                free(text);
                return -1;
            }
            continue;
        }
        if (n <= idx[RC_status] || !strcmp(fields[idx[RC_status]], "failed"))
            continue;
        r->rows = ut_realloc(r->rows, (size_t)(r->nrows + 1) * sizeof *r->rows);
        struct res_row *row = &r->rows[r->nrows++];
        memset(row, 0, sizeof *row);
        for (int c = 0; c < RC_N; c++)
            if (idx[c] >= 0 && idx[c] < n && fields[idx[c]][0])
                row->cell[c] = ut_strdup(fields[idx[c]]);
    }
    free(text);
    /* Keep the timeseries lines of the rows kept. */
    if (ut_read_file(res_path(r, "timeseries.csv", path, sizeof path), &text) >= 0) {
        struct ut_str keep = {0};
        int first = 1;
        for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
            size_t kl = strcspn(line, ",");
            if (first) {
                first = 0;
                continue;
            }
            char key[256];
            snprintf(key, sizeof key, "%.*s", (int)(kl < 255 ? kl : 255), line);
            if (res_has(r, key))
                ut_str_addf(&keep, "%s\n", line);
        }
        r->ts = keep.s;
        r->tslen = keep.len;
        free(text);
    }
    return 0;
}

int res_open(struct res *r, const char *base, const char *name, const char *config_path, const char *resume,
             char *err, size_t errlen)
{
    memset(r, 0, sizeof *r);
    snprintf(r->base, sizeof r->base, "%s", base);
    if (resume) {
        snprintf(r->dir, sizeof r->dir, "%s", resume);
        size_t l = strlen(r->dir);
        while (l > 1 && r->dir[l - 1] == '/')
            r->dir[--l] = '\0';
        if (access(r->dir, W_OK) < 0) {
            snprintf(err, errlen, "--resume %s: %s", resume, strerror(errno));
            return -1;
        }
        /* latest should point next to the run it resumes. */
        char *slash = strrchr(r->dir, '/');
        snprintf(r->base, sizeof r->base, "%.*s", slash ? (int)(slash - r->dir) : 1, slash ? r->dir : ".");
        if (load_existing(r, err, errlen) < 0)
            return -1;
    } else {
        char stamp[32];
        time_t now = time(NULL);
        struct tm tm;
        localtime_r(&now, &tm);
        strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
        snprintf(r->dir, sizeof r->dir, "%s/%s-%s", base, name, stamp);
        /* Two runs in the same second (tests do that) get -2, -3, ... rather than sharing. */
        for (int i = 2; access(r->dir, F_OK) == 0 && i < 100; i++)
            snprintf(r->dir, sizeof r->dir, "%s/%s-%s-%d", base, name, stamp, i);
        if (ut_mkdirs(r->dir, 0755) < 0) {
            snprintf(err, errlen, "mkdir %s: %s", r->dir, strerror(errno));
            return -1;
        }
    }
    char path[1200];
    if (ut_mkdirs(res_path(r, "hist", path, sizeof path), 0755) < 0 ||
        ut_mkdirs(res_path(r, ".work", path, sizeof path), 0755) < 0) {
        snprintf(err, errlen, "mkdir %s: %s", path, strerror(errno));
        return -1;
    }
    if (!resume && ut_copy_file(config_path, res_path(r, "config.yaml", path, sizeof path), err, errlen) < 0)
        return -1;
    int fd = open(res_path(r, "log", path, sizeof path), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    ut_log_open(fd);
    return write_runs(r, err, errlen);
}

int res_find(const struct res *r, const char *key)
{
    for (int i = 0; i < r->nrows; i++)
        if (r->rows[i].cell[RC_run] && !strcmp(r->rows[i].cell[RC_run], key))
            return i;
    return -1;
}

int res_has(const struct res *r, const char *key)
{
    return res_find(r, key) >= 0;
}

int res_add(struct res *r, struct res_row *row, const char *ts_lines, char *err, size_t errlen)
{
    r->rows = ut_realloc(r->rows, (size_t)(r->nrows + 1) * sizeof *r->rows);
    r->rows[r->nrows++] = *row;
    memset(row, 0, sizeof *row);
    if (ts_lines && *ts_lines) {
        size_t l = strlen(ts_lines);
        r->ts = ut_realloc(r->ts, r->tslen + l + 1);
        memcpy(r->ts + r->tslen, ts_lines, l + 1);
        r->tslen += l;
    }
    return write_runs(r, err, errlen);
}

void res_latest(const struct res *r)
{
    char link[1200], tmp[1200];
    const char *target = strrchr(r->dir, '/') ? strrchr(r->dir, '/') + 1 : r->dir;
    snprintf(link, sizeof link, "%s/latest", r->base);
    snprintf(tmp, sizeof tmp, "%s/.latest.tmp", r->base);
    /* symlink + rename replaces the link atomically; readers never see it missing. */
    unlink(tmp);
    if (symlink(target, tmp) < 0 || rename(tmp, link) < 0)
        ut_log(UT_WARN, "cannot update %s: %s", link, strerror(errno));
}

void res_close(struct res *r)
{
    char path[1200];
    if (r->dir[0])
        rmdir(res_path(r, ".work", path, sizeof path)); /* only if empty: leftovers help debugging */
    int fd = ut_log_fd();
    if (fd >= 0) {
        ut_log_open(-1);
        close(fd);
    }
    for (int i = 0; i < r->nrows; i++)
        res_row_free(&r->rows[i]);
    free(r->rows);
    free(r->ts);
    r->rows = NULL;
    r->ts = NULL;
}

int res_load(struct res *r, const char *dir, char *err, size_t errlen)
{
    memset(r, 0, sizeof *r);
    snprintf(r->dir, sizeof r->dir, "%s", dir);
    return load_existing(r, err, errlen);
}
