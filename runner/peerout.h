/* peerout.h - the text that wrk and h2load print, read into the JSON object our load generator
 * writes (docs/DESIGN.md, "Load generator output"), holding only what the tool measured: a key
 * it has no figure for is left out, and its runs.csv cell stays empty.
 *
 *   wrk --latency: requests, throughput_rps, duration_s, latency_us {mean, stdev, max, p50, p75,
 *       p90, p99}, errors {connect, read, write, timeout, status_4xx_5xx}, errors_total.
 *       Latency keys only when it answered a request (it prints zeros otherwise).
 *   h2load: requests (done), throughput_rps, duration_s, latency_us {min, max, mean, stdev} (no
 *       percentiles: it prints none), errors {timeout, network (errored but not timeout),
 *       status_4xx, status_5xx}, errors_total (its "failed": errored + 4xx/5xx answers).
 *
 * Both add "loader": the tool's name. Pure functions: text in, JSON out. */
#ifndef RUNNER_PEEROUT_H
#define RUNNER_PEEROUT_H

#include "util.h"

#include <stddef.h>

/* Each returns 0 with the object appended to json, or -1 with err saying what is missing (the
 * tool failed before its summary, e.g. "unable to connect"). */
int peer_wrk_json(const char *text, struct ut_str *json, char *err, size_t errlen);
int peer_h2load_json(const char *text, struct ut_str *json, char *err, size_t errlen);

/* "720.09us", "1.40ms", "2s", "1.5m" -> microseconds; -1 when it is not a time. */
double peer_time_us(const char *s);

#endif
