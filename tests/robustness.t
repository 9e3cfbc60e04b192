#!/bin/sh
# The quick subset of the robustness suite (tests/robustness/): the cases marked quick -- malformed
# requests, framing, oversize, static-file escapes, splitting, disconnects, the open-file limit --
# against every bin/server-*. `make test-robustness` runs all of it, slow clients and limits included.
cd "$(dirname "$0")/.." && exec "${PYTHON:-/usr/bin/python3}" tests/robustness/run --quick
