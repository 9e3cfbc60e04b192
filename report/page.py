"""page.py - the same content as HTML (index.html) and Markdown (summary.md).

A document is a list of blocks: ("h", level, text), ("p", text), ("table", header, rows),
("img", file, caption), ("pre", text), ("toc",) - links to every level-2 heading (HTML only).
Both writers take the same list, so the two files never disagree. Images are referenced by file
name only: the HTML opens from disk with its PNGs beside it.
"""

import html
import os

CSS = """
body { font-family: sans-serif; max-width: 1250px; margin: 1em auto; padding: 0 1em; color: #222; }
table { border-collapse: collapse; font-size: 13px; margin: 0.5em 0 1.2em; }
th, td { border: 1px solid #ccc; padding: 2px 6px; text-align: right; }
th { background: #f0f0f0; position: sticky; top: 0; }
td.t, th.t { text-align: left; }
tr.failed td { background: #fde0e0; } tr.refused td { background: #fff0d8; }
tr.errors td { background: #fff8d0; } tr.reproduced td { background: #e2f5e2; }
tr.not td { background: #fde0e0; } tr.inconclusive td { background: #f0f0f0; }
figure { margin: 1em 0 2em; } figcaption { font-size: 14px; color: #444; max-width: 950px; }
img { max-width: 100%; border: 1px solid #eee; }
pre { background: #f7f7f7; padding: 0.5em; overflow-x: auto; font-size: 12px; }
"""


def cell_text(value):
    """A table cell as text: numbers without needless decimals, None as an empty cell."""
    if value is None:
        return ""
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        if abs(value) >= 100:
            return "%.0f" % value
        if abs(value) >= 1:
            return "%.2f" % value
        return "%.3g" % value
    return str(value)


def is_text(value):
    return not isinstance(value, (int, float)) and value is not None


def to_html(title, blocks):
    out = ["<!DOCTYPE html>", "<html><head><meta charset=\"utf-8\">",
           "<title>%s</title><style>%s</style></head><body>" % (html.escape(title), CSS)]
    heads = [b[2] for b in blocks if b[0] == "h" and b[1] == 2]
    for block in blocks:
        kind = block[0]
        if kind == "h":
            anchor = " id=\"%s\"" % anchor_of(block[2]) if block[1] == 2 else ""
            out.append("<h%d%s>%s</h%d>" % (block[1], anchor, html.escape(block[2]), block[1]))
        elif kind == "toc":
            out.append("<p>" + " &middot; ".join("<a href=\"#%s\">%s</a>" % (anchor_of(h), html.escape(h))
                                                  for h in heads) + "</p>")
        elif kind == "p":
            out.append("<p>%s</p>" % html.escape(block[1]))
        elif kind == "pre":
            out.append("<pre>%s</pre>" % html.escape(block[1]))
        elif kind == "img":
            out.append("<figure><a href=\"%s\"><img src=\"%s\" alt=\"%s\"></a><figcaption>%s</figcaption></figure>"
                       % (html.escape(block[1]), html.escape(block[1]), html.escape(block[2]),
                          html.escape(block[2])))
        elif kind == "table":
            out.append(html_table(block[1], block[2], block[3] if len(block) > 3 else None))
    out.append("</body></html>")
    return "\n".join(out) + "\n"


def anchor_of(text):
    """An HTML id from a heading: 'Slice: idle=500' -> 'slice-idle-500'."""
    return "-".join("".join(c if c.isalnum() else " " for c in text.lower()).split())


def html_table(header, rows, row_classes=None):
    """A table; text columns align left; row_classes (one per row) colour rows by status."""
    text_cols = [any(is_text(r[i]) for r in rows) for i in range(len(header))]
    out = ["<table><tr>" + "".join("<th class=\"t\">%s</th>" % html.escape(h) if text_cols[i] else
                                   "<th>%s</th>" % html.escape(h) for i, h in enumerate(header)) + "</tr>"]
    for n, row in enumerate(rows):
        cls = " class=\"%s\"" % row_classes[n] if row_classes and row_classes[n] else ""
        cells = "".join("<td class=\"t\">%s</td>" % html.escape(cell_text(v)) if text_cols[i] else
                        "<td>%s</td>" % html.escape(cell_text(v)) for i, v in enumerate(row))
        out.append("<tr%s>%s</tr>" % (cls, cells))
    out.append("</table>")
    return "\n".join(out)


def md_escape(text):
    return text.replace("|", "\\|").replace("\n", " ")


def to_markdown(title, blocks):
    out = ["# %s" % title, ""]
    for block in blocks:
        kind = block[0]
        if kind == "h":
            out += ["#" * block[1] + " " + block[2], ""]
        elif kind == "p":
            out += [block[1], ""]
        elif kind == "pre":
            out += ["```", block[1], "```", ""]
        elif kind == "img":
            out += ["![%s](%s)" % (os.path.splitext(block[1])[0], block[1]), "", "*%s*" % block[2], ""]
        elif kind == "table":
            header, rows = block[1], block[2]
            out.append("| " + " | ".join(md_escape(h) for h in header) + " |")
            out.append("|" + "|".join("---" if any(is_text(r[i]) for r in rows) else "---:"
                                      for i in range(len(header))) + "|")
            for row in rows:
                out.append("| " + " | ".join(md_escape(cell_text(v)) for v in row) + " |")
            out.append("")
    return "\n".join(out) + "\n"


def write(path, text):
    """Write through a temporary file and a rename, so a reader never sees half a page."""
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)
