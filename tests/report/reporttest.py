"""reporttest.py - what the report tests share: paths, running a report script, and checks that a
written page holds together (valid PNGs, every referenced file present)."""

import html.parser
import os
import re
import struct
import subprocess
import sys
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))
from cmbtest import Tap  # noqa: E402,F401  (re-exported for the .t files)

PYTHON = os.environ.get("PYTHON", "/usr/bin/python3")
FIXTURE = os.path.join(HERE, "fixture")
REPORT_DIR = os.path.join(ROOT, "report")


def script(name, *args, timeout=300):
    """Run report/<name>.py with args; returns the CompletedProcess (text mode)."""
    return subprocess.run([PYTHON, os.path.join(REPORT_DIR, name + ".py")] + list(args),
                          capture_output=True, text=True, timeout=timeout)


def png_problem(path):
    """None for a well-formed PNG (signature, IHDR with a size, every chunk's CRC, IEND last),
    else what is wrong with it."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        return str(e)
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        return "no PNG signature"
    pos, first, last = 8, None, None
    while pos + 12 <= len(data):  # bounded: every step moves pos forward by >= 12 bytes
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        crc = struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])[0]
        if len(body) != length or zlib.crc32(kind + body) != crc:
            return "chunk %r damaged" % kind
        if first is None:
            first = (kind, body)
        last = kind
        pos += 12 + length
        if kind == b"IEND":
            break
    if first is None or first[0] != b"IHDR":
        return "first chunk is not IHDR"
    width, height = struct.unpack(">II", first[1][:8])
    if width == 0 or height == 0:
        return "empty image %dx%d" % (width, height)
    if last != b"IEND" or pos != len(data):
        return "no IEND at the end"
    return None


class Refs(html.parser.HTMLParser):
    """Collects every src= and href= of a page."""

    def __init__(self):
        super().__init__()
        self.refs = []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name in ("src", "href") and value:
                self.refs.append(value)


def html_refs(path):
    parser = Refs()
    with open(path) as f:
        parser.feed(f.read())
    return parser.refs


def md_refs(path):
    """Targets of Markdown images and links."""
    with open(path) as f:
        return re.findall(r"\]\(([^)\s]+)\)", f.read())


def missing_refs(page_path, refs):
    """The local references of a page that name no file beside it (URLs with a scheme are not local)."""
    base = os.path.dirname(page_path)
    return [r for r in refs if not re.match(r"^[a-z]+:", r) and not r.startswith("#")
            and not os.path.exists(os.path.join(base, r))]
