#!/usr/bin/python3
"""clients.t: the everyday HTTP clients against every server, with its default keep-alive limits:
curl, ab (ApacheBench, with and without -k) and h2load --h1. Every request must come back 2xx with
nothing failed, and the server's --stats must count exactly the requests the three clients made. The
counts each tool printed are shown as TAP diagnostics.

More clients than workers: a pool (prefork, threadpool) gets its worker count plus CONC clients at
once, the iterative server two, every other server CONC. They complete, 0 failed, because the servers
close kept-alive connections as real servers of their kind do (the defaults in each --help: the
iterative server answers one request per connection; the pools close after 100 answers, and every
answer while a client waits for a worker carries Connection: close, --keepalive-yield). Without the
yield ab would fail some requests against a pool: once it has sent its last request it keeps its
other kept-alive connections open unused, so the last clients queued for the pool wait until
--keepalive-timeout closes those, and ab counts each such close as a failed request ("Length").

    SERVERS=fork,pthread tests/clients.t     narrows the servers; N=5000 CONC=16 scale the load"""

import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from cmbtest import BIN, Server, Tap, counterpart, run_main, server_models  # noqa: E402

N = int(os.environ.get("N", "2000"))           # requests for ab and for h2load
CONC = int(os.environ.get("CONC", "8"))        # concurrent connections (pools: workers + CONC)
N_CLOSE = int(os.environ.get("N_CLOSE", "500"))   # ab without -k: one connection per request
CURL_N = 10                                    # URLs on one curl command line (one connection)
TOOL_TIMEOUT = 120                             # seconds; a hung client fails the test, not CI


def run(argv):
    """(exit code, stdout + stderr) of a client; a timeout is exit code None."""
    try:
        p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           timeout=TOOL_TIMEOUT)
        return p.returncode, p.stdout.decode(errors="replace")
    except subprocess.TimeoutExpired as e:
        return None, (e.stdout or b"").decode(errors="replace")


def field(pattern, text, default=None):
    m = re.search(pattern, text, re.M)
    return int(m.group(1)) if m else default


def check_curl(t, model, url):
    """CURL_N GETs on one command line (curl reuses its connection), then a HEAD."""
    argv = ["curl", "-sS", "-w", "%{http_code} %{num_connects}\\n"]
    for _ in range(CURL_N):
        argv += ["-o", "/dev/null", url]
    rc, out = run(argv)
    codes = [ln.split() for ln in out.splitlines() if ln.strip()]
    good = sum(1 for c in codes if c[0].startswith("2"))
    conns = sum(int(c[1]) for c in codes if len(c) > 1 and c[1].isdigit())
    t.ok(rc == 0 and good == CURL_N, "%s: curl: %d GETs on one command line, all 2xx" % (model, CURL_N),
         "exit %s, output:\n%s" % (rc, out))
    t.diag("%s curl: %d of %d 2xx over %d connection(s)" % (model, good, CURL_N, conns))
    rc, out = run(["curl", "-sS", "-I", "-o", "/dev/null", "-w", "%{http_code}", url])
    t.ok(rc == 0 and out.strip() == "200", "%s: curl -I (HEAD) 200" % model, "exit %s: %r" % (rc, out))
    return CURL_N + 1


def defaults(model):
    """(workers or None, --keepalive-requests default, --keepalive-yield default) from the model's
    --help."""
    out = subprocess.run([os.path.join(BIN, "server-" + model), "--help"], stdout=subprocess.PIPE,
                         check=True).stdout.decode()
    workers = field(r"number of workers \(default (\d+)\)", out)
    limit = field(r"the close \(default for this model (\d+);", out)
    yields = field(r"freeing the worker \(default (\d+);", out, 0)
    return workers, limit, yields


def kept_alive_ok(keep, n, failed, limit, yields):
    """ab's Keep-Alive count: every answer but the ones that closed (each the limit-th on its
    connection, so at most n // limit of them) and the ones ab counted as failed. A server that
    yields closes whenever a client waits: then any count up to n."""
    if limit == 1:
        return keep == 0
    if yields:
        return 0 <= keep <= n
    return n - (n // limit if limit else 0) - failed <= keep <= n


def check_ab(t, model, url, conc, limit, yields=0, keepalive=True):
    """ab sends HTTP/1.0: with -k it asks for keep-alive, without it each request has its own
    connection, which the server must close after the answer. Returns the requests made."""
    n = N if keepalive else N_CLOSE
    flag = ["-k"] if keepalive else []
    rc, out = run(["ab"] + flag + ["-q", "-n", str(n), "-c", str(conc), url])
    done = field(r"^Complete requests:\s+(\d+)", out)
    failed = field(r"^Failed requests:\s+(\d+)", out)
    length = field(r"Length: (\d+)", out, 0)                  # the breakdown, when failed > 0
    non2xx = field(r"^Non-2xx responses:\s+(\d+)", out, 0)     # ab prints it only when non-zero
    keep = field(r"^Keep-Alive requests:\s+(\d+)", out, 0)  # printed only with -k
    name = "ab%s -n %d -c %d" % (" -k" if keepalive else "", n, conc)
    t.ok(rc == 0 and done == n and failed == 0 and non2xx == 0
         and (kept_alive_ok(keep, n, failed, limit, yields) if keepalive else keep == 0),
         "%s: %s: all complete, 0 failed, 0 non-2xx, %s" % (
             model, name, "kept alive up to the limit" if keepalive else "a connection each"),
         "exit %s, output:\n%s" % (rc, out))
    t.diag("%s %s: complete %s, failed %s (length %s), non-2xx %s, keep-alive %s"
           % (model, name, done, failed, length, non2xx, keep))
    return done or 0


def check_h2load(t, model, url, conc):
    rc, out = run(["h2load", "--h1", "-n", str(N), "-c", str(conc), "-t", "1", url])
    m = re.search(r"^requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, "
                  r"(\d+) errored, (\d+) timeout", out, re.M)
    s = re.search(r"^status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx", out, re.M)
    total, _, done, ok2, failed, errored, tmo = (int(x) for x in m.groups()) if m else (None,) * 7
    xx2 = int(s.group(1)) if s else None
    t.ok(rc == 0 and done == N and ok2 == N and xx2 == N and failed == 0 and errored == 0 and tmo == 0,
         "%s: h2load --h1 -n %d -c %d: all succeeded, 2xx, 0 failed/errored/timeout" % (model, N, conc),
         "exit %s, output:\n%s" % (rc, out))
    t.diag("%s h2load --h1: %s done, %s succeeded, %s 2xx, %s failed, %s errored, %s timeout"
           % (model, done, ok2, xx2, failed, errored, tmo))
    return done or 0


def main():
    t = Tap()
    tools = [x for x in ("curl", "ab", "h2load") if not shutil.which(x)]
    if tools:
        t.ok(False, "clients installed (make deps)", "missing: %s" % " ".join(tools))
        return t.done()
    for model in server_models():
        workers, limit, yields = defaults(model)
        pool = workers is not None and model != "reuseport"  # reuseport's workers are event loops
        conc = 2 if counterpart(model) == "iterative" else workers + CONC if pool else CONC
        srv = Server(model, "--proto", "http")
        try:
            url = "http://127.0.0.1:%d/" % srv.port
            sent = check_curl(t, model, url)
            sent += check_ab(t, model, url, conc, limit, yields)
            sent += check_ab(t, model, url, conc, limit, keepalive=False)
            sent += check_h2load(t, model, url, conc)
            t.ok(srv.alive(), "%s: alive after the three clients" % model)
            rc, _ = srv.stop()
            t.ok(rc == 0, "%s: SIGTERM, exit 0" % model, "exit %s; stderr:\n%s" % (rc, srv.stderr_text()))
            st = srv.stats()
            t.ok(st.get("requests") == sent and st.get("errors", 1) == 0,
                 "%s: --stats counts the %d requests the clients made, 0 errors" % (model, sent),
                 "stats: %s" % st)
            report = srv.sanitizer_report()
            t.ok(not report, "%s: no sanitizer report" % model, report)
        finally:
            srv.kill()
    return t.done()


if __name__ == "__main__":
    run_main(main)
