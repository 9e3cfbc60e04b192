# servers.mk: bin/server-<model> for every servers/<model>.c, each linked with servers/common/.
# A model with extra libraries or flags sets LDLIBS_server-<model> / CFLAGS_<model> here.

SRV_COMMON_SRCS := $(wildcard servers/common/*.c)
SRV_COMMON_OBJS := $(SRV_COMMON_SRCS:%.c=$(OBJ)/%.o)
SRV_MODELS      := $(basename $(notdir $(wildcard servers/*.c)))
SRV_BINS        := $(SRV_MODELS:%=$(BIN)/server-%)

all: $(SRV_BINS)

$(BIN)/server-%: $(OBJ)/servers/%.o $(SRV_COMMON_OBJS)
	$(call link)
