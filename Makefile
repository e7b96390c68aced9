# Datacave build.  `make help` lists the targets.
#
# Layout of the output (BUILD, default build/):
#   build/bin/datacave          the host
#   build/modules/<name>.so     one per folder in modules/
#   build/tests/...             test programs and test modules
# `make sanitize` does the same in build-san/ with ASan and UBSan.

BUILD    ?= build
CC       ?= cc
CLANG    ?= clang
OPT      ?= -O2
PREFIX   ?= /usr/local
SHARED   ?= $(abspath ../shared)
FUZZ_SECONDS ?= 60

ifeq ($(SAN),1)
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
OPT      := -O1
endif

CSTD     := -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE
WARN     := -Wall -Wextra -Werror
CFLAGS_ALL := $(CSTD) $(WARN) -g $(OPT) $(SANFLAGS) -Iinclude $(EXTRA_CFLAGS)

PUB_HEADERS := $(wildcard include/datacave/*.h)
MODULE_MAP  := sdk/datacave-module.map

# ---- the host ---------------------------------------------------------------
HOST_SRCS := $(wildcard host/*.c)
HOST_OBJS := $(patsubst host/%.c,$(BUILD)/obj/host/%.o,$(HOST_SRCS))
HOST_LIB_OBJS := $(filter-out $(BUILD)/obj/host/main.o,$(HOST_OBJS))
HOST_LIBS := -ldl -ljansson -lpthread

# ---- modules ------------------------------------------------------------------
# Each modules/<name>/module.mk says what its folder builds:
#   MODULES += <name>               build/modules/<name>.so, from SRCS_<name>
#                                   (default: every .c in the folder), linked
#                                   with LIBS_<name> (e.g. -lzstd)
#   UNIT_TESTS += <test>            builds tests/unit/<test>.c ...
#   UNIT_SRCS_<test> := <files>     ... with these module sources
#   UNIT_LIBS_<test> := <libs>      ... and libraries
MODULES     :=
UNIT_TESTS  :=
.DEFAULT_GOAL := all
include $(wildcard modules/*/module.mk)
MODULE_SOS  := $(patsubst %,$(BUILD)/modules/%.so,$(MODULES))
MOD_CFLAGS  := $(CFLAGS_ALL) -Imodules -fPIC -fvisibility=hidden
MOD_LDFLAGS := -shared -Wl,-z,defs -Wl,--version-script=$(MODULE_MAP) $(SANFLAGS)
SRCS_OF = $(or $(SRCS_$(1)),$(wildcard modules/$(1)/*.c))

.PHONY: all deps run test check sanitize bench bench-storage bench-sql bench-server crash-test soak fuzz install clean help
all: deps $(BUILD)/bin/datacave $(MODULE_SOS)

deps:
	@scripts/deps.sh check 2>/dev/null || scripts/deps.sh install

$(BUILD)/obj/host/%.o: host/%.c $(wildcard host/*.h) $(PUB_HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -Ihost -c $< -o $@

$(BUILD)/bin/datacave: $(HOST_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(SANFLAGS) -o $@ $^ $(HOST_LIBS)

.SECONDEXPANSION:
$(BUILD)/modules/%.so: $$(call SRCS_OF,$$*) $$(wildcard modules/%/*.h) $(wildcard modules/common/*.h) $(PUB_HEADERS) $(MODULE_MAP)
	@test -n "$(filter %.c,$^)" || { echo "module $*: no sources (SRCS_$* in modules/$*/module.mk)" >&2; exit 1; }
	@mkdir -p $(dir $@)
	$(CC) $(MOD_CFLAGS) -o $@ $(filter %.c,$^) $(MOD_LDFLAGS) $(LIBS_$*)

# ---- tests --------------------------------------------------------------------
# Host unit tests link the host's objects; a module's internal unit tests
# (UNIT_TESTS in its module.mk) link the module sources it names instead.
UNIT_SRCS := $(filter-out $(patsubst %,tests/unit/%.c,$(UNIT_TESTS)),$(wildcard tests/unit/test_*.c))
UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILD)/tests/unit/%,$(UNIT_SRCS)) \
             $(patsubst %,$(BUILD)/tests/unit/%,$(UNIT_TESTS))

$(foreach t,$(UNIT_TESTS),$(eval $(BUILD)/tests/unit/$(t): tests/unit/$(t).c $$(UNIT_SRCS_$(t)) $$(wildcard modules/*/*.h tests/unit/*.h) $(PUB_HEADERS) ; \
	@mkdir -p $$(dir $$@) ; \
	$$(CC) $$(CFLAGS_ALL) -Imodules -Itests/unit -o $$@ $$(filter %.c,$$^) -lcmocka -lpthread $$(UNIT_LIBS_$(t))))

$(BUILD)/tests/unit/%: tests/unit/%.c $(HOST_LIB_OBJS) $(wildcard tests/unit/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -Ihost -Itests/unit -o $@ $< $(HOST_LIB_OBJS) -lcmocka $(HOST_LIBS)

# Test modules: purpose-built good and bad modules (tests/modules/modules.mk).
TEST_MODULE_DIR := $(BUILD)/tests/modules
TEST_MODULES :=
-include tests/modules/modules.mk
-include tests/slt/slt.mk

TEST_ENV := DATACAVE_BUILD=$(abspath $(BUILD)) DATACAVE_SHARED=$(SHARED) \
            DATACAVE_TEST_MODULES=$(abspath $(TEST_MODULE_DIR)) CC=$(CC)

# Test tools: programs the test scripts drive (crash tests), linked with the
# host's objects so they can load modules like the server does.
TOOL_SRCS := $(wildcard tests/tools/*.c)
TOOL_BINS := $(patsubst tests/tools/%.c,$(BUILD)/tests/tools/%,$(TOOL_SRCS))

test: all $(UNIT_BINS) $(TEST_MODULES) $(TOOL_BINS)
	@$(TEST_ENV) tests/run.sh $(UNIT_BINS)

check: test

sanitize: deps
	$(MAKE) BUILD=build-san SAN=1 test

$(BUILD)/tests/tools/%: tests/tools/%.c $(HOST_LIB_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -Ihost -o $@ $< $(HOST_LIB_OBJS) $(HOST_LIBS)

# The long crash test: many more SIGKILL rounds than `make test` runs.
crash-test: all $(TOOL_BINS)
	@$(TEST_ENV) CRASH_ROUNDS=$${CRASH_ROUNDS:-200} CRASH_ENC_ROUNDS=$${CRASH_ENC_ROUNDS:-50} bash tests/scripts/test_storage_crash.sh
	@$(TEST_ENV) CRASH_ROUNDS=$${CRASH_ROUNDS:-50} bash tests/scripts/test_sql_crash.sh
	@$(TEST_ENV) CRASH_ROUNDS=$${CRASH_ROUNDS:-30} bash tests/scripts/test_server_crash.sh

# The soak test: SOAK_SECONDS (default 600) of mixed clients against the
# sanitizer build's server (scripts/soak.sh; not part of `make test`).
soak: deps
	$(MAKE) BUILD=build-san SAN=1 all
	@BUILD=$(abspath build-san) SOAK_SECONDS=$(or $(SOAK_SECONDS),600) bash scripts/soak.sh

# ---- benchmarks ------------------------------------------------------------------
BENCH_SRCS := $(wildcard bench/*.c)
BENCH_BINS := $(patsubst bench/%.c,$(BUILD)/bin/datacave-%,$(BENCH_SRCS))

BENCH_CFLAGS_bench-sql := -I/usr/include/postgresql
BENCH_LIBS_bench-sql := -lpq

$(BUILD)/bin/datacave-%: bench/%.c $(HOST_LIB_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -Ihost $(BENCH_CFLAGS_$*) -o $@ $< $(HOST_LIB_OBJS) $(HOST_LIBS) $(BENCH_LIBS_$*)

bench: all $(BENCH_BINS)
	@$(BUILD)/bin/datacave-bench-host
	@$(MAKE) --no-print-directory bench-storage
	@$(MAKE) --no-print-directory bench-sql
	@$(MAKE) --no-print-directory bench-server

# The sql module in-process against PostgreSQL 15 (a throwaway cluster).
bench-sql: all $(BENCH_BINS)
	@BUILD=$(abspath $(BUILD)) bash bench/sql.sh

# The server under pgbench against PostgreSQL 15 (bench/server.sh says how;
# SCALE, DURATION, CLIENTS, WORKLOADS, EXTRA_SCALE in the environment).
bench-server: all
	@BUILD=$(abspath $(BUILD)) bash bench/server.sh

# The storage engine against RocksDB's db_bench, same parameters, same run.
bench-storage: all $(BENCH_BINS)
	@BUILD=$(abspath $(BUILD)) bash bench/storage.sh

# ---- fuzzing ---------------------------------------------------------------------
FUZZ_SRCS := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS := $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz/%,$(FUZZ_SRCS))
FUZZ_HOST := $(filter-out host/main.c,$(HOST_SRCS))

# A target may link module sources too: FUZZ_SRCS_<target> in a module.mk.
.SECONDEXPANSION:
$(BUILD)/fuzz/%: tests/fuzz/%.c $(FUZZ_HOST) $(wildcard host/*.h) $$(FUZZ_SRCS_$$*)
	@mkdir -p $(dir $@)
	$(CLANG) $(CSTD) $(WARN) -g -O1 -fsanitize=fuzzer,address,undefined -Iinclude -Ihost -Imodules \
	    -o $@ $< $(FUZZ_HOST) $(FUZZ_SRCS_$*) $(HOST_LIBS) -lm

fuzz: deps $(FUZZ_BINS)
	@FUZZ_SECONDS=$(FUZZ_SECONDS) DATACAVE_SHARED=$(SHARED) tests/fuzz/run.sh $(FUZZ_BINS)

# ---- running and installing -----------------------------------------------------
run: all
	$(BUILD)/bin/datacave serve --config config.example.toml

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/datacave/modules \
	    $(DESTDIR)$(PREFIX)/include/datacave $(DESTDIR)$(PREFIX)/share/datacave
	install -m 755 $(BUILD)/bin/datacave $(DESTDIR)$(PREFIX)/bin/
	$(if $(MODULE_SOS),install -m 644 $(MODULE_SOS) $(DESTDIR)$(PREFIX)/lib/datacave/modules/)
	install -m 644 $(PUB_HEADERS) $(DESTDIR)$(PREFIX)/include/datacave/
	cp -r sdk $(DESTDIR)$(PREFIX)/share/datacave/
	install -m 644 config.example.toml $(DESTDIR)$(PREFIX)/share/datacave/

clean:
	rm -rf build build-san

help:
	@echo "make            build the host and every module (installs missing packages)"
	@echo "make run        build and serve with config.example.toml (data in ./data)"
	@echo "make test       build and run every test"
	@echo "make sanitize   the same with ASan and UBSan, in build-san/"
	@echo "make bench      build and run the benchmarks (bench-storage: lsm vs RocksDB,"
	@echo "                and the cost of encryption at rest;"
	@echo "                bench-sql: the sql module vs PostgreSQL 15;"
	@echo "                bench-server: the server vs PostgreSQL 15 under pgbench)"
	@echo "make crash-test the long SIGKILL crash test of the storage engine"
	@echo "make soak       SOAK_SECONDS (default 600) of mixed clients against the"
	@echo "                sanitizer build: no leak, no error, no memory growth"
	@echo "make fuzz       run every fuzz target for FUZZ_SECONDS (default 60) each"
	@echo "make install    install under PREFIX (default /usr/local)"
	@echo "make clean      remove build outputs"
