/* hlog_main.c - bin/hlog: merge HdrHistogram interval logs (several agents' bin/loadgen --hlog, or
 * the Java library's) exactly, and summarize them per tag. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hlog.h"

static void usage(FILE *f)
{
    fputs("usage: hlog merge FILE... > OUT\n"
          "       hlog summary [--scale D] FILE...\n"
          "\n"
          "merge    adds the n-th interval of each tag of every log into the n-th interval of the\n"
          "         output (agents started with one --start-at line up second by second); counts\n"
          "         add exactly, the interval spans the inputs' intervals, its max is the largest\n"
          "         Interval_Max. Warns when the inputs' n-th intervals start more than half an\n"
          "         interval apart.\n"
          "summary  per tag, over every interval of every file: count, p50, p99, p99.9 and max,\n"
          "         in the histograms' unit (nanoseconds for bin/loadgen's logs) divided by D;\n"
          "         percentiles as the Java library computes them.\n"
          "Exit: 0 ok, 1 a file that does not read or histograms that do not add exactly.\n", f);
}

/* The intervals of one tag, in order; the n-th is the sum of every input's n-th. */
struct series {
    char tag[64];
    struct hlog_interval *iv;
    size_t n, cap;
    size_t seen;                /* intervals of this tag in the file being read */
};

struct logset {
    struct series *s;
    size_t n;
    char **comments;            /* every input's comment lines, each once */
    int ncomments;
    double start;               /* the earliest StartTime */
    int have_start;
};

static struct series *series_of(struct logset *ls, const char *tag)
{
    for (size_t i = 0; i < ls->n; i++)
        if (!strcmp(ls->s[i].tag, tag))
            return &ls->s[i];
    struct series *grown = realloc(ls->s, (ls->n + 1) * sizeof *grown);
    if (!grown)
        return NULL;
    ls->s = grown;
    struct series *s = &ls->s[ls->n++];
    memset(s, 0, sizeof *s);
    snprintf(s->tag, sizeof s->tag, "%s", tag);
    return s;
}

static void keep_comment(void *arg, const char *text)
{
    struct logset *ls = arg;
    if (!strncmp(text, "[Histogram log format version", 29))
        return;                         /* the writer puts its own */
    for (int i = 0; i < ls->ncomments; i++)
        if (!strcmp(ls->comments[i], text))
            return;
    char **grown = realloc(ls->comments, (size_t)(ls->ncomments + 1) * sizeof *grown);
    if (!grown)
        return;
    ls->comments = grown;
    if ((ls->comments[ls->ncomments] = strdup(text)))
        ls->ncomments++;
}

/* Add one interval as the next of its tag. Takes iv->h over (freed or kept). */
static int take(struct logset *ls, struct hlog_interval *iv, const char *name, char *err, size_t errlen)
{
    struct series *s = series_of(ls, iv->tag);
    if (!s) {
        snprintf(err, errlen, "no memory");
        return -1;
    }
    size_t k = s->seen++;
    if (k == s->n) {                    /* the first of its place: kept as it is */
        if (s->n == s->cap) {
            size_t cap = s->cap ? 2 * s->cap : 16;
            struct hlog_interval *grown = realloc(s->iv, cap * sizeof *grown);
            if (!grown) {
                snprintf(err, errlen, "no memory");
                return -1;
            }
            s->iv = grown, s->cap = cap;
        }
        s->iv[s->n++] = *iv;
        return 0;
    }
    struct hlog_interval *m = &s->iv[k];
    char e[200];
    int rc = hlog_add(&m->h, &iv->h, e, sizeof e);
    if (rc < 0)
        snprintf(err, errlen, "%s: interval %zu of tag '%s': %s", name, k, iv->tag, e);
    double half = (m->length < iv->length ? m->length : iv->length) / 2;
    if (rc == 0 && (iv->start - m->start > half || m->start - iv->start > half))
        fprintf(stderr, "hlog: %s: interval %zu of tag '%s' starts %.3f s from the others'\n", name,
                k, iv->tag, iv->start - m->start);
    double end = iv->start + iv->length > m->start + m->length ? iv->start + iv->length
                                                                : m->start + m->length;
    if (iv->start < m->start)
        m->start = iv->start;
    m->length = end - m->start;
    if (iv->max_column > m->max_column)
        m->max_column = iv->max_column;
    hist_free(&iv->h);
    return rc;
}

static int read_file(struct logset *ls, const char *path)
{
    FILE *f = strcmp(path, "-") ? fopen(path, "re") : stdin;
    if (!f) {
        perror(path);
        return -1;
    }
    struct hlog_reader r;
    hlog_reader_init(&r, f, path);
    r.on_comment = keep_comment;
    r.arg = ls;
    for (size_t i = 0; i < ls->n; i++)
        ls->s[i].seen = 0;
    struct hlog_interval iv;
    char err[400];
    int rc;
    while ((rc = hlog_reader_next(&r, &iv, err, sizeof err)) > 0)
        if ((rc = take(ls, &iv, path, err, sizeof err)) < 0)
            break;
    if (rc < 0)
        fprintf(stderr, "hlog: %s\n", err);
    if (r.have_start && (!ls->have_start || r.start_time < ls->start))
        ls->start = r.start_time, ls->have_start = 1;
    hlog_reader_free(&r);
    if (f != stdin)
        fclose(f);
    return rc;
}

static int merge_out(struct logset *ls, int nfiles)
{
    size_t most = 0;
    double first = 0;
    for (size_t i = 0; i < ls->n; i++) {
        if (ls->s[i].n > most)
            most = ls->s[i].n;
        if (ls->s[i].n && (!first || ls->s[i].iv[0].start < first))
            first = ls->s[i].iv[0].start;
    }
    double base = ls->have_start ? ls->start : first;
    char note[80];
    snprintf(note, sizeof note, "[Merged by bin/hlog from %d logs]", nfiles);
    const char **c = malloc((size_t)(ls->ncomments + 1) * sizeof *c);
    if (!c)
        return -1;
    for (int i = 0; i < ls->ncomments; i++)
        c[i] = ls->comments[i];
    c[ls->ncomments] = note;
    hlog_write_header(stdout, c, ls->ncomments + 1, base, base);
    free(c);
    /* Interval by interval, each tag's in turn: the order bin/loadgen writes. */
    for (size_t k = 0; k < most; k++)
        for (size_t i = 0; i < ls->n; i++) {
            struct hlog_interval *m = &ls->s[i].iv[k];
            if (k < ls->s[i].n &&
                hlog_write_interval(stdout, m->tag, m->start - base, m->length, m->max_column, &m->h) < 0)
                return -1;
        }
    return fflush(stdout) ? -1 : 0;
}

static void summary_out(struct logset *ls, double scale)
{
    static const double ps[] = {50, 99, 99.9};
    for (size_t i = 0; i < ls->n; i++) {
        struct series *s = &ls->s[i];
        struct hist *sum = &s->iv[0].h;     /* every interval added into the first */
        char e[200];
        for (size_t k = 1; k < s->n; k++)
            if (hlog_add(sum, &s->iv[k].h, e, sizeof e) < 0)
                fprintf(stderr, "hlog: tag '%s': %s\n", s->tag, e);
        printf("tag=%s count=%llu", s->tag, (unsigned long long)sum->total);
        static const char *const names[] = {"p50", "p99", "p99.9", "max"};
        for (int j = 0; j < 4; j++) {
            int64_t v = j < 3 ? hlog_percentile(sum, ps[j]) : sum->total ? sum->max : 0;
            if (scale == 1)
                printf(" %s=%lld", names[j], (long long)v);
            else
                printf(" %s=%.3f", names[j], (double)v / scale);
        }
        putchar('\n');
    }
}

int main(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2;
    }
    int merge = !strcmp(argv[1], "merge"), i = 2;
    double scale = 1;
    if (!merge && strcmp(argv[1], "summary")) {
        usage(stderr);
        return 1;
    }
    if (!merge && i + 1 < argc && !strcmp(argv[i], "--scale")) {
        char *e;
        scale = strtod(argv[i + 1], &e);
        if (*e || !(scale > 0)) {
            fprintf(stderr, "hlog: bad --scale '%s'\n", argv[i + 1]);
            return 1;
        }
        i += 2;
    }
    if (i >= argc) {
        usage(stderr);
        return 1;
    }
    struct logset ls = {0};
    int rc = 0;
    for (int f = i; f < argc && rc == 0; f++)
        rc = read_file(&ls, argv[f]);
    /* A summary over every tag's intervals merges the same way, so the files add exactly. */
    if (rc == 0 && merge)
        rc = merge_out(&ls, argc - i);
    else if (rc == 0)
        summary_out(&ls, scale);
    for (size_t s = 0; s < ls.n; s++) {
        for (size_t k = 0; k < ls.s[s].n; k++)
            hist_free(&ls.s[s].iv[k].h);
        free(ls.s[s].iv);
    }
    for (int c = 0; c < ls.ncomments; c++)
        free(ls.comments[c]);
    free(ls.comments);
    free(ls.s);
    return rc ? 1 : 0;
}
