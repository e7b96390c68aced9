# The sqllogictest runner: tests/slt/*.c linked with the host's objects (so
# it can load the storage and sql modules in-process, host/embed.c) and
# libpq (its --pg backend).  tests/scripts/test_sql_slt.sh drives it.
SLT_SRCS := $(wildcard tests/slt/*.c)
SLT_RUNNER := $(BUILD)/tests/slt/slt_runner
SLT_PQ_CFLAGS := $(shell pkg-config --cflags libpq 2>/dev/null || echo -I/usr/include/postgresql)
SLT_PQ_LIBS := $(shell pkg-config --libs libpq 2>/dev/null || echo -lpq)

$(SLT_RUNNER): $(SLT_SRCS) tests/slt/slt.h $(HOST_LIB_OBJS) $(wildcard host/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -Ihost $(SLT_PQ_CFLAGS) -o $@ $(SLT_SRCS) $(HOST_LIB_OBJS) $(HOST_LIBS) $(SLT_PQ_LIBS) -lm

# `make test` builds it (the test scripts need it).
test: $(SLT_RUNNER)
