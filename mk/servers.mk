# servers.mk: bin/server-<model> for every C model (lang c) of servers/models.tsv, each linked with servers/common/.
# A model with extra libraries or flags sets LDLIBS_server-<model> / CFLAGS_<model> here.

# proto_lib.c is the engine's shared-library face for the Python models (mk/pyservers.mk), not theirs.
SRV_COMMON_SRCS := $(filter-out servers/common/proto_lib.c,$(wildcard servers/common/*.c))
SRV_COMMON_OBJS := $(SRV_COMMON_SRCS:%.c=$(OBJ)/%.o)
# The models are those of servers/models.tsv (the one list, which the runner and the report read
# too); a servers/<model>.c it does not list, or a listed model without its file, stops the build.
SRV_MODELS      := $(shell awk -F'\t' '!/^\#/ && NF && $$2 == "c" { print $$1 }' servers/models.tsv)
SRV_UNLISTED    := $(filter-out $(SRV_MODELS),$(basename $(notdir $(wildcard servers/*.c))))
SRV_MISSING     := $(filter-out $(basename $(notdir $(wildcard servers/*.c))),$(SRV_MODELS))
$(if $(SRV_UNLISTED),$(error $(SRV_UNLISTED:%=servers/%.c) not listed in servers/models.tsv: add a line for each model))
$(if $(SRV_MISSING),$(error servers/models.tsv lists $(SRV_MISSING), but $(SRV_MISSING:%=servers/%.c) does not exist))
SRV_BINS        := $(SRV_MODELS:%=$(BIN)/server-%)

all: $(SRV_BINS)

$(BIN)/server-%: $(OBJ)/servers/%.o $(SRV_COMMON_OBJS)
	$(call link)

# select: fortified, so that an FD_SET with an fd >= FD_SETSIZE aborts instead of corrupting memory
# (the server must never do one; this makes a missed check loud). -U first: a compiler default differs.
CFLAGS_select := -O2 -U_FORTIFY_SOURCE -D_FORTIFY_SOURCE=2

# libevent 2.1 (Debian libevent-dev): only the core (event loop, listener), no extras.
LDLIBS_server-libevent := $(shell pkg-config --libs libevent_core 2>/dev/null || echo -levent_core)

# coroutine: the context switch is chosen at build time (servers/common/coro.h): CORO=asm (the x86-64
# switch; other machines fall back to ucontext by themselves) or CORO=ucontext. obj/<variant>/coro.impl
# holds the choice and is rewritten only when it changes, so a change of CORO rebuilds coro.o.
# Every file that includes coro.h gets the same flag: the context's layout depends on it.
CORO ?= asm
CFLAGS_coro := $(if $(filter ucontext,$(CORO)),-DCORO_UCONTEXT)
CFLAGS_coroutine := $(CFLAGS_coro)
$(shell mkdir -p $(OBJ) && { [ "$$(cat $(OBJ)/coro.impl 2>/dev/null)" = "$(CORO)" ] || echo "$(CORO)" > $(OBJ)/coro.impl; })
$(OBJ)/servers/common/coro.o $(OBJ)/servers/coroutine.o: $(OBJ)/coro.impl

LDLIBS_server-uring := -luring
