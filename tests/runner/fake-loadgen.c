/* fake-loadgen.c - a stand-in load generator for the runner's tests: it takes the loadgen command
 * line (docs/DESIGN.md), drives echo closed-loop over --connections sockets with one poll()
 * thread, and writes --json (the keys the runner reads), --timeseries and --hist. Modes by name:
 *   loadgen          as above
 *   (FAKE_LOADGEN=fail in the environment: exit 1 without output)
 *   (FAKE_LOADGEN_RPS=FILE: the throughput it reports is FILE's first line, which it removes: a
 *    test scripts the figures of the rows in the order they run) */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAXC 4096

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double pct(double *v, long n, double p)
{
    return n ? v[(long)(p / 100 * (n - 1))] : 0;
}

/* FAKE_LOADGEN_RPS's next figure, or measured when there is none. */
static double scripted_rps(double measured)
{
    const char *path = getenv("FAKE_LOADGEN_RPS");
    FILE *f = path ? fopen(path, "r") : NULL;
    if (!f)
        return measured;
    static char text[1 << 16];
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = '\0';
    char *end, *nl = strchr(text, '\n');
    double v = strtod(text, &end);
    if (end == text)
        return measured;
    if ((f = fopen(path, "w"))) {
        fputs(nl ? nl + 1 : "", f);
        fclose(f);
    }
    return v;
}

int main(int argc, char **argv)
{
    const char *target = "127.0.0.1:0", *json = NULL, *ts = NULL, *hist = NULL;
    int conns = 1, size = 64;
    double duration = 1, warmup = 0;
    for (int i = 1; i + 1 < argc; i++) {
        const char *k = argv[i], *v = argv[i + 1];
        if (strncmp(k, "--", 2))
            continue;
        i++;
        if (!strcmp(k, "--target")) target = v;
        else if (!strcmp(k, "--connections")) conns = atoi(v);
        else if (!strcmp(k, "--size")) size = atoi(v);
        else if (!strcmp(k, "--duration")) duration = atof(v);
        else if (!strcmp(k, "--warmup")) warmup = atof(v);
        else if (!strcmp(k, "--json")) json = v;
        else if (!strcmp(k, "--timeseries")) ts = v;
        else if (!strcmp(k, "--hist")) hist = v;
    }
    if (getenv("FAKE_LOADGEN") && !strcmp(getenv("FAKE_LOADGEN"), "fail"))
        return 1;
    if (conns > MAXC)
        conns = MAXC;
    if (size > 65536)
        size = 65536;
    char host[64];
    snprintf(host, sizeof host, "%.*s", (int)strcspn(target, ":"), target);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(strchr(target, ':') + 1))};
    inet_pton(AF_INET, host, &sa.sin_addr);

    static struct pollfd p[MAXC];
    static double sent_at[MAXC];
    static int got[MAXC];
    static double answered[MAXC];   /* per connection, in the window: the fairness keys */
    static char msg[65536], buf[65536];
    memset(msg, 'x', sizeof msg);
    long errors = 0, cap = 1 << 20, nlat = 0, per_sec[3600] = {0};
    double *lat = malloc((size_t)cap * sizeof *lat);
    double t0 = now(), ws = t0 + warmup, end = ws + duration;
    for (int i = 0; i < conns; i++) {
        p[i].fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (connect(p[i].fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
            errors++;
            close(p[i].fd);
            p[i].fd = -1;
            continue;
        }
        p[i].events = POLLIN;
        sent_at[i] = now();
        if (write(p[i].fd, msg, (size_t)size) != size)
            errors++;
    }
    while (now() < end) {
        if (poll(p, (nfds_t)conns, 50) <= 0)
            continue;
        for (int i = 0; i < conns; i++) {
            if (p[i].fd < 0 || !p[i].revents)
                continue;
            ssize_t r = read(p[i].fd, buf, sizeof buf);
            if (r <= 0) {
                errors++;
                close(p[i].fd);
                p[i].fd = -1;
                continue;
            }
            if ((got[i] += (int)r) < size)
                continue;
            double t = now();
            if (t >= ws && nlat < cap) {
                answered[i]++;
                lat[nlat++] = (t - sent_at[i]) * 1e6;
                per_sec[(int)(t - t0) % 3600]++;
            }
            got[i] = 0;
            sent_at[i] = t;
            if (write(p[i].fd, msg, (size_t)size) != size)
                errors++;
        }
    }
    double wall = now() - t0;
    qsort(lat, (size_t)nlat, sizeof *lat, cmp);
    double sum = 0, sq = 0;
    int starved = 0;
    for (int i = 0; i < conns; i++)
        sum += answered[i], sq += answered[i] * answered[i], starved += answered[i] == 0;
    qsort(answered, (size_t)conns, sizeof *answered, cmp);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double us = ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6, sy = ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
    double rps = scripted_rps(nlat / duration);
    FILE *f = json ? fopen(json, "w") : NULL;
    if (f) {
        fprintf(f, "{\"target\":\"%s\",\"proto\":\"echo\",\"connections\":%d,\"requests\":%ld,\"requests_total\":%ld,"
                   "\"throughput_rps\":%.1f,\"latency_us\":{\"min\":%.1f,\"mean\":0,\"p50\":%.1f,\"p90\":%.1f,"
                   "\"p99\":%.1f,\"p999\":%.1f,\"max\":%.1f},\"connects\":%d,"
                   "\"conn_requests\":{\"min\":%.0f,\"median\":%.1f,\"max\":%.0f},\"fairness_jain\":%.4f,"
                   "\"conns_starved\":%d,"
                   "\"errors\":{\"connect\":0,\"reset\":%ld,\"timeout\":0},\"errors_total\":%ld,\"incomplete\":%d,"
                   "\"cpu\":{\"user_s\":%.3f,\"sys_s\":%.3f,\"share\":%.3f},\"bottleneck\":\"none\","
                   "\"bottleneck_reason\":\"\"}\n",
                target, conns, nlat, nlat, rps, pct(lat, nlat, 0), pct(lat, nlat, 50), pct(lat, nlat, 90),
                pct(lat, nlat, 99), pct(lat, nlat, 99.9), pct(lat, nlat, 100), conns, answered[0],
                pct(answered, conns, 50), conns ? answered[conns - 1] : 0, sq > 0 ? sum * sum / (conns * sq) : 0, starved,
                errors, errors, conns,
                us, sy, (us + sy) / wall);
        fclose(f);
    }
    if (ts && (f = fopen(ts, "w"))) {
        fprintf(f, "t_s,requests,throughput_rps,latency_p50_us,latency_p99_us,errors\n");
        for (int s = 0; s < (int)wall && s < 3600; s++)
            fprintf(f, "%d,%ld,%ld,,,0\n", s, per_sec[s], per_sec[s]);
        fclose(f);
    }
    if (hist && (f = fopen(hist, "w"))) {
        fprintf(f, "       Value     Percentile TotalCount 1/(1-Percentile)\n");
        for (double q = 0; q < 100; q += 10)
            fprintf(f, "%12.3f %14.12f %10ld %14.2f\n", pct(lat, nlat, q), q / 100, (long)(q / 100 * nlat), 100 / (100 - q));
        fclose(f);
    }
    return 0;
}
