#!/usr/bin/python3
"""readme.py TABLE README: put the robustness results table (a file written by
`tests/robustness/run --table`) into README between the robustness-table markers."""

import sys

BEGIN, END = "<!-- robustness-table: begin -->", "<!-- robustness-table: end -->"


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    with open(sys.argv[1]) as f:
        table = f.read().strip()
    with open(sys.argv[2]) as f:
        text = f.read()
    if BEGIN not in text or END not in text:
        sys.exit("readme.py: %s has no %s ... %s markers" % (sys.argv[2], BEGIN, END))
    head, rest = text.split(BEGIN, 1)
    tail = rest.split(END, 1)[1]
    with open(sys.argv[2], "w") as f:
        f.write(head + BEGIN + "\n" + table + "\n" + END + tail)


if __name__ == "__main__":
    main()
