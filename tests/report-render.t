#!/usr/bin/python3
"""report-render.t: the report a person opens, opened as a person would: headless Chromium loads
report/report.py's index.html of the fixture (tests/report/fixture/) and the page must render --
a title and a body with headings -- with every image loaded (complete, with a width) and no console
message (the page has no script of its own, so anything it logs is an error). A small page beside
the report frames it and reads it; Chromium runs with file access between local files for that,
no network, no sandbox (it runs as root here), a fresh profile in a temporary folder."""

import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "report"))
from reporttest import FIXTURE, Tap, script

# The checking page: when the framed report has loaded, its verdict goes into the title, which
# --dump-dom prints.
CHECK = """<!doctype html><title>pending</title>
<iframe id="f" src="index.html" width="1280" height="900"></iframe>
<script>
document.getElementById("f").addEventListener("load", function () {
  var d = this.contentDocument;
  if (!d) { document.title = "no access to the report"; return; }
  var imgs = Array.prototype.slice.call(d.images);
  var bad = imgs.filter(function (i) { return !(i.complete && i.naturalWidth > 0); });
  document.title = "title=" + JSON.stringify(d.title) + " headings=" + d.querySelectorAll("h1, h2").length +
    " text=" + d.body.innerText.length + " images=" + imgs.length + " broken=" + bad.length +
    bad.map(function (i) { return " " + i.getAttribute("src"); }).join("");
});
</script>
"""


def chromium():
    for name in ("chromium", "chromium-browser"):
        if shutil.which(name):
            return shutil.which(name)
    return None


def render(browser, page, profile):
    """(the checking page's title, the console lines Chromium logged)."""
    argv = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
            "--user-data-dir=" + profile, "--allow-file-access-from-files", "--enable-logging=stderr",
            "--v=0", "--virtual-time-budget=20000", "--dump-dom", "file://" + page]
    try:
        p = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    except subprocess.TimeoutExpired:
        return None, ["chromium did not finish in 120 s"]
    m = re.search(r"<title>([^<]*)</title>", p.stdout)
    console = [ln for ln in p.stderr.splitlines() if ":CONSOLE" in ln]
    return (m.group(1) if m else None), console


def main():
    t = Tap()
    browser = chromium()
    if not browser:
        t.ok(False, "chromium installed (make deps)")
        return t.done()
    tmp = tempfile.mkdtemp(prefix="report-render-")
    try:
        out = os.path.join(tmp, "report")
        r = script("report", FIXTURE, "--out", out)
        t.ok(r.returncode == 0, "report.py builds the fixture's report", r.stderr)
        page = os.path.join(out, "_check.html")
        with open(page, "w") as f:
            f.write(CHECK)
        title, console = render(browser, page, os.path.join(tmp, "profile"))
        got = dict(re.findall(r"(\w+)=(\"[^\"]*\"|\d+)", title or ""))
        pngs = len([n for n in os.listdir(out) if n.endswith(".png")])
        t.ok(title is not None and got.get("title", '""') != '""' and int(got.get("headings", 0)) > 0
             and int(got.get("text", 0)) > 1000, "Chromium renders the page: a title, headings, text", title)
        t.ok(int(got.get("images", -1)) >= pngs > 0 and got.get("broken") == "0",
             "every image loads (%s of the %d plots written)" % (got.get("images"), pngs), title)
        t.ok(not console, "no console message", "\n".join(console))

        # The check itself must be able to fail: a missing plot and a script error are seen.
        victim = sorted(n for n in os.listdir(out) if n.endswith(".png"))[0]
        os.remove(os.path.join(out, victim))
        with open(os.path.join(out, "index.html"), "a") as f:
            f.write("<script>notDefinedAnywhere();</script>\n")
        title, console = render(browser, page, os.path.join(tmp, "profile2"))
        t.ok(title is not None and "broken=1 " + victim in title and console,
             "a deleted plot and a script error are both caught", "%s\n%s" % (title, console))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return t.done()


if __name__ == "__main__":
    sys.exit(main())
