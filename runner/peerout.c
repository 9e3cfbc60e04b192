/* peerout.c - wrk's and h2load's summaries read into our load generator's JSON (peerout.h).
 * Lines are found by their label, so the banner and progress lines around them do no harm; a
 * summary line that is missing is an error, a figure the tool did not print is left out. */
#include "peerout.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

double peer_time_us(const char *s)
{
    char *end;
    double v = strtod(s, &end);
    if (end == s)
        return -1;
    if (!strncmp(end, "us", 2))
        return v;
    if (!strncmp(end, "ms", 2))
        return v * 1e3;
    if (*end == 's')
        return v * 1e6;
    if (*end == 'm')
        return v * 60e6;
    if (*end == 'h')
        return v * 3600e6;
    return -1;
}

/* The text after the first line starting (after blanks) with label, or NULL. */
static const char *after(const char *text, const char *label)
{
    size_t n = strlen(label);
    for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
        const char *p = l + strspn(l, " \t");
        if (!strncmp(p, label, n))
            return p + n;
    }
    return NULL;
}

/* Up to max blank-separated times after label, on its line, into us[]; returns how many there
 * were before the first word that is not a time. */
static int times(const char *text, const char *label, double *us, int max)
{
    const char *p = after(text, label);
    char line[256], *save = NULL;
    int n = 0;
    if (!p)
        return 0;
    snprintf(line, sizeof line, "%.*s", (int)strcspn(p, "\n"), p);
    for (char *w = strtok_r(line, " \t", &save); w && n < max; w = strtok_r(NULL, " \t", &save))
        if ((us[n++] = peer_time_us(w)) < 0)
            return n - 1;
    return n;
}

int peer_wrk_json(const char *text, struct ut_str *j, char *err, size_t errlen)
{
    const char *rps = after(text, "Requests/sec:"), *req = NULL;
    double thr, dur = -1, lat[3], pct[4];
    unsigned long long n, e[5] = {0};
    char unit[8];
    /* "  57707 requests in 1.00s, 8.86MB read": the count leads its line. */
    for (const char *l = text; l && *l && !req; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
        if (sscanf(l, "%llu requests in %lf%7[a-z]", &n, &dur, unit) == 3)
            req = l;
    if (!rps || sscanf(rps, "%lf", &thr) != 1 || !req) {
        snprintf(err, errlen, "no summary in wrk's output (no 'N requests in' and 'Requests/sec:' lines)");
        return -1;
    }
    char d[32];
    snprintf(d, sizeof d, "%g%s", dur, unit);
    ut_str_addf(j, "{\"loader\":\"wrk\",\"requests\":%llu,\"throughput_rps\":%.2f", n, thr);
    if (peer_time_us(d) >= 0)
        ut_str_addf(j, ",\"duration_s\":%.3f", peer_time_us(d) / 1e6);
    if (n > 0) {
        /* "Latency   720.09us    1.40ms  11.08ms   86.31%": mean, stdev, max. */
        int nl = times(text, "Latency ", lat, 3);
        ut_str_add(j, ",\"latency_us\":{");
        static const char *const lname[] = {"mean", "stdev", "max"}, *const pname[] = {"p50", "p75", "p90", "p99"};
        static const char *const plabel[] = {"50%", "75%", "90%", "99%"};
        int first = 1;
        for (int i = 0; i < nl; i++, first = 0)
            ut_str_addf(j, "%s\"%s\":%.2f", first ? "" : ",", lname[i], lat[i]);
        for (int i = 0; i < 4; i++)
            if (times(text, plabel[i], &pct[i], 1) == 1)
                ut_str_addf(j, "%s\"%s\":%.2f", first ? "" : ",", pname[i], pct[i]), first = 0;
        ut_str_add(j, "}");
    }
    /* Only printed when there were some: absent lines mean zero errors of those kinds. */
    const char *se = after(text, "Socket errors:");
    if (se && sscanf(se, " connect %llu, read %llu, write %llu, timeout %llu", &e[0], &e[1], &e[2], &e[3]) != 4) {
        snprintf(err, errlen, "wrk's 'Socket errors:' line is not 'connect N, read N, write N, timeout N'");
        return -1;
    }
    const char *ns = after(text, "Non-2xx or 3xx responses:");
    if (ns && sscanf(ns, "%llu", &e[4]) != 1) {
        snprintf(err, errlen, "wrk's 'Non-2xx or 3xx responses:' line has no count");
        return -1;
    }
    ut_str_addf(j, ",\"errors\":{\"connect\":%llu,\"read\":%llu,\"write\":%llu,\"timeout\":%llu,"
                   "\"status_4xx_5xx\":%llu},\"errors_total\":%llu}\n",
                e[0], e[1], e[2], e[3], e[4], e[0] + e[1] + e[2] + e[3] + e[4]);
    return 0;
}

int peer_h2load_json(const char *text, struct ut_str *j, char *err, size_t errlen)
{
    const char *fin = after(text, "finished in "), *rq = after(text, "requests: "), *sc = after(text, "status codes: ");
    double thr, lat[4];
    char dur[32];
    unsigned long long total, started, done, ok, failed, errored, tmo, s2, s3, s4, s5;
    if (!fin || sscanf(fin, "%31[^,], %lf req/s", dur, &thr) != 2 || !rq ||
        sscanf(rq, "%llu total, %llu started, %llu done, %llu succeeded, %llu failed, %llu errored, %llu timeout",
               &total, &started, &done, &ok, &failed, &errored, &tmo) != 7 ||
        !sc || sscanf(sc, "%llu 2xx, %llu 3xx, %llu 4xx, %llu 5xx", &s2, &s3, &s4, &s5) != 4) {
        snprintf(err, errlen, "no summary in h2load's output (its 'finished in', 'requests:' and 'status codes:' "
                 "lines)");
        return -1;
    }
    /* "finished in" counts the warm-up too; req/s is over the measured duration only. */
    ut_str_addf(j, "{\"loader\":\"h2load\",\"requests\":%llu,\"throughput_rps\":%.2f", done, thr);
    if (done > 0 && times(text, "time for request:", lat, 4) == 4)
        ut_str_addf(j, ",\"latency_us\":{\"min\":%.2f,\"max\":%.2f,\"mean\":%.2f,\"stdev\":%.2f}", lat[0], lat[1],
                    lat[2], lat[3]);
    ut_str_addf(j, ",\"errors\":{\"timeout\":%llu,\"network\":%llu,\"status_4xx\":%llu,\"status_5xx\":%llu},"
                   "\"errors_total\":%llu}\n",
                tmo, errored > tmo ? errored - tmo : 0, s4, s5, failed);
    (void)total, (void)started, (void)ok, (void)s2, (void)s3;
    return 0;
}
