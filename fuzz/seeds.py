#!/usr/bin/python3
"""seeds.py: writes the seed corpus fuzz/corpus/ for fuzz_proto.c (run it again after changing it;
the files are committed). Each seed is the harness header -- mode byte, two seed bytes -- and a
client byte stream: the requests of the unit tests and the robustness suite, good and bad."""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
H = b"GET / HTTP/1.1\r\nHost: a\r\n"

STREAMS = {
    "get": H + b"\r\n",
    "head": b"HEAD / HTTP/1.1\r\nHost: a\r\n\r\n",
    "http10": b"GET / HTTP/1.0\r\n\r\n",
    "http10-keepalive": b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET / HTTP/1.0\r\n\r\n",
    "close": H + b"Connection: close\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n",
    "bytes": b"GET /bytes/100000 HTTP/1.1\r\nHost: a\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n",
    "bytes-head": b"HEAD /bytes/5000 HTTP/1.1\r\nHost: a\r\n\r\nGET /bytes/3 HTTP/1.1\r\nHost: a\r\n\r\n",
    "pipelined": H + b"\r\n" + b"GET /bytes/9 HTTP/1.1\r\nHost: a\r\n\r\nHEAD / HTTP/1.1\r\nHost: a\r\n\r\n",
    "body-pipelined": H + b"Content-Length: 35\r\n\r\nGET /bytes/9 HTTP/1.1\r\nHost: a\r\n\r\n" + H + b"\r\n",
    "body-short": H + b"Content-Length: 100\r\n\r\n0123456789",
    "expect": H + b"Expect: 100-continue\r\nContent-Length: 2\r\n\r\nhiGET / HTTP/1.1\r\nHost: a\r\n\r\n",
    "leading-crlf": b"\r\n\r\n" + H + b"\r\n",
    "query": b"GET /?a=b HTTP/1.1\r\nHost: a\r\n\r\n",
    "junk": b"\x16\x03\x01\x02\x00\x01GET / HTTP/1.1\r\nHost: a\r\n\r\n",
    "no-version": b"GET /\r\nHost: a\r\n\r\n",
    "http99": b"GET / HTTP/9.9\r\nHost: a\r\n\r\n",
    "bare-cr": H + b"X-A: b\rX-B: c\r\n\r\n",
    "bare-cr-line": b"GET / HTTP/1.1\rXHost: a\r\n\r\n",
    "bare-lf": b"GET / HTTP/1.1\nHost: a\n\n",
    "ctl": H + b"X-A: b\x01c\r\n\r\n",
    "nul": H + b"X-A: b\x00c\r\n\r\n",
    "space-colon": b"GET / HTTP/1.1\r\nHost : a\r\n\r\n",
    "obs-fold": H + b"X-A: b\r\n c\r\n\r\n",
    "no-host": b"GET / HTTP/1.1\r\nX: y\r\n\r\n",
    "two-host": H + b"Host: b\r\n\r\n",
    "post": b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc",
    "te-cl": H + b"Transfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\nabc",
    "te": H + b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    "cl-negative": H + b"Content-Length: -1\r\n\r\n",
    "cl-alpha": H + b"Content-Length: 3x\r\n\r\nabc",
    "cl-30": H + b"Content-Length: " + b"9" * 30 + b"\r\n\r\n",
    "cl-dup": H + b"Content-Length: 3\r\nContent-Length: 3\r\n\r\nabc",
    "cl-cap": H + b"Content-Length: 2000000\r\n\r\n",
    "target-9k": b"GET /" + b"a" * 9216 + b" HTTP/1.1\r\nHost: a\r\n\r\n",
    "header-9k": H + b"X-Big: " + b"b" * 9216 + b"\r\n\r\n",
    "fields-200": H + b"".join(b"X-%d: v\r\n" % i for i in range(200)) + b"\r\n",
    "no-eol-16k": b"GET /" + b"a" * 16400,
    "connection-list": H + b"Connection: foo, close\r\n\r\n",
    "absolute-form": b"GET http://a/ HTTP/1.1\r\nHost: a\r\n\r\n",
    "file": b"GET /a.txt HTTP/1.1\r\nHost: a\r\n\r\nGET /sub/b.css HTTP/1.1\r\nHost: a\r\n\r\n"
            b"GET /in HTTP/1.1\r\nHost: a\r\n\r\nHEAD /index.html HTTP/1.1\r\nHost: a\r\n\r\n",
    "traversal": b"GET /../secret.txt HTTP/1.1\r\nHost: a\r\n\r\n",
    "traversal-pct": b"GET /%2e%2e/secret.txt HTTP/1.1\r\nHost: a\r\n\r\n",
    "traversal-slash": b"GET /..%2fsecret.txt HTTP/1.1\r\nHost: a\r\n\r\n",
    "traversal-double": b"GET /%252e%252e/secret.txt HTTP/1.1\r\nHost: a\r\n\r\n",
    "traversal-relative": b"GET ../secret.txt HTTP/1.1\r\nHost: a\r\n\r\n",
    "pct00": b"GET /a.txt%00.html HTTP/1.1\r\nHost: a\r\n\r\n",
    "symlink-out": b"GET /out HTTP/1.1\r\nHost: a\r\n\r\nGET /sib HTTP/1.1\r\nHost: a\r\n\r\n",
    "sibling": b"GET /../www-private/secret.txt HTTP/1.1\r\nHost: a\r\n\r\n",
    "fifo-dir": b"GET /fifo HTTP/1.1\r\nHost: a\r\n\r\nGET /sub HTTP/1.1\r\nHost: a\r\n\r\n",
    "dir-slash": b"GET /sub/ HTTP/1.1\r\nHost: a\r\n\r\n",
    "echo-bytes": bytes(range(256)) * 4,
    "host-userinfo": b"GET / HTTP/1.1\r\nHost: u@a\r\n\r\n",
    "host-forms": b"GET / HTTP/1.1\r\nHost: [::1]:80\r\n\r\nGET / HTTP/1.1\r\nHost: a:\r\n\r\n"
                  b"GET / HTTP/1.1\r\nHost: a,b\r\n\r\n",
    "host-empty": b"GET / HTTP/1.1\r\nHost:\r\n\r\n",
    "absolute": b"GET http://b:80/bytes/3?q HTTP/1.1\r\nHost: a\r\n\r\nGET http://u@a/ HTTP/1.1\r\nHost: a\r\n\r\n",
    "options": b"OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\nOPTIONS /echo HTTP/1.1\r\nHost: a\r\n\r\n"
               b"OPTIONS / HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nhiDELETE / HTTP/1.1\r\nHost: a\r\n\r\n",
    "post-echo": b"POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello"
                 b"POST /echo HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 9\r\n\r\nHTTP/1.1 "
                 b"HEAD / HTTP/1.1\r\nHost: a\r\n\r\nPOST / HTTP/1.1\r\nHost: a\r\n\r\n",
    "chunked": H + b"Transfer-Encoding: chunked\r\n\r\n5;a=\"b\\\"c\"\r\nhello\r\n0 ;x\r\nX-T: v\r\n\r\n" + H + b"\r\n",
    "chunked-echo": b"POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                    b"3\r\nabc\r\n00A\r\n0123456789\r\n0\r\n\r\n" + H + b"\r\n",
    "chunked-bad-size": H + b"Transfer-Encoding: chunked\r\n\r\n0x5\r\nhello\r\n0\r\n\r\n",
    "chunked-long": H + b"Transfer-Encoding: chunked\r\n\r\n3\r\nhello\r\n0\r\n\r\n",
    "chunked-no-last": H + b"Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n" + H + b"\r\n",
    "te-gzip-chunked": H + b"Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
    "te-chunked-gzip": H + b"Transfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n",
    "te-http10": b"GET / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    "method-long": b"A" * 9000 + b" / HTTP/1.1\r\nHost: a\r\n\r\n",
}

# POST /echo bodies for the harness's own encoder (mode 3): the seed bytes pick chunked or
# Content-Length (bit 0 of the low byte) and Expect: 100-continue (bit 1)
ORACLE = {
    "oracle-small": b"hello world",
    "oracle-http": b"HTTP/1.1 200 OK\r\n\r\nHEAD / HTTP/1.1\r\n\r\n",
    "oracle-16k": bytes(range(256)) * 64,
}

# (name suffix, mode byte): protocol, docroot, output buffer, split
MODES = [("pieces", 0x30), ("bytewise", 0x10 | 0x08)]


def main():
    out = os.path.join(HERE, "corpus")
    os.makedirs(out, exist_ok=True)
    n = 0
    for name, stream in STREAMS.items():
        files = name.startswith(("file", "traversal", "pct", "symlink", "sibling", "fifo", "dir"))
        echo = name.startswith("echo")
        for i, (mname, mode) in enumerate(MODES):
            mode |= 2 if files else 0
            mode |= 1 if echo else 0
            with open(os.path.join(out, "%s-%s" % (name, mname)), "wb") as f:
                f.write(bytes([mode, i * 37 & 0xFF, (n * 11) & 0xFF]) + stream)
            n += 1
    for name, body in ORACLE.items():
        for mname, mode, seed in (("chunked", 0x33, 0x1234), ("cl-expect", 0x13 | 0x04, 0x0043),
                                  ("chunked-expect", 0x23, 0x8a02)):
            with open(os.path.join(out, "%s-%s" % (name, mname)), "wb") as f:
                f.write(bytes([mode, seed >> 8, seed & 0xFF]) + body)
            n += 1
    print("%d seeds in %s" % (n, out), file=sys.stderr)


if __name__ == "__main__":
    main()
