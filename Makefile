# Concurrency-model benchmark harness: one plain Makefile.
#
#   make                 build every binary into bin/ (objects in obj/)
#   make test            build, then run every test (TAP, under prove)
#   make bench [CONFIG=configs/quick.yaml]   run a benchmark matrix
#   make SAN=address,undefined | SAN=thread  sanitizer builds, in their own obj/ and bin/ subfolders
#
# Each part adds its own targets in mk/<part>.mk; this file holds what they share.

CC       ?= cc
OPT      ?= -O2
SAN      ?=
WERROR   ?= -Werror
PYTHON   := /usr/bin/python3

# Debian packages the build, the tests and the benchmarks need; `make deps` installs the missing ones.
DEB_PKGS := build-essential pkg-config libevent-dev liburing-dev libyaml-dev python3-matplotlib python3-yaml python3-gevent python3-uvloop \
            wrk nginx nghttp2-client apache2-utils curl valgrind strace clang libclang-rt-14-dev \
            iproute2 util-linux procps chromium openssh-server

# zlib for the interval logs (loadgen/hlog.c); the Java HdrHistogram library and a JDK to compile
# tests/loadgen/HlogInterop.java, the interop test.
DEB_PKGS += zlib1g-dev libhdrhistogram-java default-jdk-headless

# A sanitizer build lives beside the normal one, so switching SAN never mixes objects.
comma    := ,
ifeq ($(SAN),)
VARIANT  := default
BIN      := bin
else
VARIANT  := san-$(subst $(comma),-,$(SAN))
BIN      := bin/$(VARIANT)
endif
OBJ      := obj/$(VARIANT)

WARN     := -Wall -Wextra -Wstrict-prototypes -Wmissing-prototypes -Wvla -Wshadow -Wformat=2 \
            -Wno-unused-parameter $(WERROR)
CFLAGS   := -std=c11 -D_GNU_SOURCE -g $(OPT) -pthread $(WARN) -MMD -MP $(EXTRA_CFLAGS)
LDFLAGS  := -pthread $(EXTRA_LDFLAGS)
ifneq ($(SAN),)
CFLAGS   += -fsanitize=$(SAN) -fno-omit-frame-pointer -fno-sanitize-recover=all
LDFLAGS  += -fsanitize=$(SAN)
endif

Q := @
ifeq ($(V),1)
Q :=
endif

.PHONY: all deps test bench clean
.SECONDARY:
all: deps

# Link recipe for every binary: $(call link) with per-binary libraries in LDLIBS_<binary name>.
define link
	@mkdir -p $(@D)
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS_$(notdir $@))
endef

# Tests: every tests/*.t is an executable printing TAP; compiled test programs go in TEST_BINS (built
# before prove runs) and are started by a small .t wrapper through $BIN. A part adds its own in its mk/.
TEST_BINS :=
TESTS      = $(sort $(wildcard tests/*.t))
PROVE     ?= prove

# Compile rule shared by every part: obj/<variant>/<path>.o from <path>.c.
$(OBJ)/%.o: %.c | deps
	@mkdir -p $(@D)
	@echo "  CC      $<"
	$(Q)$(CC) $(CFLAGS) $(CFLAGS_$(notdir $(basename $<))) -c -o $@ $<

# deps: install what is missing, once per package set (apt-get update runs only when something is missing).
deps:
	@missing=$$(for p in $(DEB_PKGS); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q ' installed$$' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "  DEPS    installing:" $$missing; \
	  if [ "$$(id -u)" != 0 ]; then echo "deps: need root to install: $$missing" >&2; exit 1; fi; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  apt-get update -q && apt-get install -y -q --no-install-recommends $$missing || exit 1; \
	fi

# The protocol engine alone: the unit tests and the fuzz harness link it without the servers' rest.
PROTO_SRCS := $(addprefix servers/common/,proto.c static.c chunked.c authority.c)
PROTO_OBJS := $(PROTO_SRCS:%.c=$(OBJ)/%.o)

-include mk/*.mk

test: all $(TEST_BINS)
	@BIN=$(BIN) SAN=$(SAN) PYTHON=$(PYTHON) $(PROVE) $(PROVE_FLAGS) $(TESTS)

clean:
	rm -rf obj bin

-include $(shell find obj -name '*.d' 2>/dev/null)
