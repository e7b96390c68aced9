# tests/modules/modules.mk - the purpose-built test modules, included by the
# top Makefile.  Every one is tests/modules/testmod.c compiled with its own -D
# macros (described at the top of testmod.c) and the same flags as real
# modules (MOD_CFLAGS, MOD_LDFLAGS: hidden visibility, the SDK's version
# script, -z defs), into $(TEST_MODULE_DIR)/<file>.so.  TM_FLAGS_<file> holds
# a module's macros; its descriptor name is <file> unless TM_NAME_<file> says
# otherwise.

TM_SRC := tests/modules/testmod.c
TM_PREREQS := $(TM_SRC) $(PUB_HEADERS) $(MODULE_MAP) tests/modules/modules.mk

# ---- good modules -------------------------------------------------------------
# Dependencies: tm-enc -> tm-auth, tm-storage -> tm-enc, tm-metrics -> tm-storage
# (optional), tm-proto -> tm-storage (optional), tm-fail -> tm-storage.  So
# the init order auth, encryption, storage, metrics is the reverse of the
# host's default kind order: only a real dependency sort gets it right.
TM_FLAGS_tm-auth    := -DTM_AUTH
TM_FLAGS_tm-enc     := -DTM_ENCRYPTION -DTM_DEP_AUTH=DC_DEP_REQUIRED
TM_FLAGS_tm-storage := -DTM_STORAGE -DTM_DEP_ENCRYPTION=DC_DEP_REQUIRED
TM_FLAGS_tm-metrics := -DTM_METRICS -DTM_DEP_STORAGE=0 -DTM_OPTIONS -DTM_THREAD
TM_FLAGS_tm-proto   := -DTM_PROTOCOL -DTM_DEP_STORAGE=0
# Its init fails (after the modules it depends on are up).
TM_FLAGS_tm-fail    := -DTM_SQL -DTM_DEP_STORAGE=DC_DEP_REQUIRED -DTM_INIT_FAIL
# Each fine on its own; together they hold the same descriptor name.
TM_FLAGS_tm-dup-a   := -DTM_METRICS
TM_NAME_tm-dup-a    := tm-dup
TM_FLAGS_tm-dup-b   := -DTM_ENCRYPTION
TM_NAME_tm-dup-b    := tm-dup
# Fine on their own; together a dependency cycle (sql <-> protocol).
TM_FLAGS_tm-cycle-sql   := -DTM_SQL -DTM_DEP_PROTOCOL=DC_DEP_REQUIRED
TM_FLAGS_tm-cycle-proto := -DTM_PROTOCOL -DTM_DEP_SQL=DC_DEP_REQUIRED
# Needs an sql module, which the tests never provide.
TM_FLAGS_tm-bad-missing-dep := -DTM_METRICS -DTM_DEP_SQL=DC_DEP_REQUIRED

# ---- modules the loader refuses on their own -----------------------------------
TM_FLAGS_tm-bad-magic        := -DTM_METRICS -DTM_BAD_MAGIC
TM_FLAGS_tm-bad-abi-major    := -DTM_METRICS -DTM_BAD_ABI_MAJOR
TM_FLAGS_tm-bad-abi-minor    := -DTM_METRICS -DTM_BAD_ABI_MINOR
TM_FLAGS_tm-bad-size         := -DTM_METRICS -DTM_BAD_SIZE
TM_FLAGS_tm-bad-kind-major   := -DTM_METRICS -DTM_BAD_KIND_MAJOR
TM_FLAGS_tm-bad-platform     := -DTM_METRICS -DTM_BAD_PLATFORM
TM_FLAGS_tm-bad-null-init    := -DTM_METRICS -DTM_NULL_INIT
TM_FLAGS_tm-bad-null-get     := -DTM_STORAGE -DTM_NULL_GET
TM_FLAGS_tm-bad-no-entry     := -DTM_METRICS -DTM_NO_ENTRY
TM_FLAGS_tm-bad-two-entries  := -DTM_METRICS -DTM_TWO_ENTRIES

TM_BUILT := tm-auth tm-enc tm-storage tm-metrics tm-proto tm-fail \
            tm-dup-a tm-dup-b tm-cycle-sql tm-cycle-proto tm-bad-missing-dep \
            tm-bad-magic tm-bad-abi-major tm-bad-abi-minor tm-bad-size \
            tm-bad-kind-major tm-bad-platform tm-bad-null-init tm-bad-null-get \
            tm-bad-no-entry tm-bad-two-entries
# Not shared objects: a text file, and a relocatable object (ET_REL).
TM_OTHER := tm-bad-text tm-bad-object

TEST_MODULES += $(patsubst %,$(TEST_MODULE_DIR)/%.so,$(TM_BUILT) $(TM_OTHER))

$(TEST_MODULE_DIR)/%.so: $(TM_PREREQS)
	@mkdir -p $(dir $@)
	$(CC) $(MOD_CFLAGS) $(TM_FLAGS_$*) -DTM_NAME='"$(or $(TM_NAME_$*),$*)"' \
	    -o $@ $(TM_SRC) $(MOD_LDFLAGS)

$(TEST_MODULE_DIR)/tm-bad-text.so: tests/modules/modules.mk
	@mkdir -p $(dir $@)
	printf 'this is a text file, not a shared object\n' > $@

$(TEST_MODULE_DIR)/tm-bad-object.so: $(TM_PREREQS)
	@mkdir -p $(dir $@)
	$(CC) $(MOD_CFLAGS) -DTM_METRICS -DTM_NAME='"tm-bad-object"' -c -o $@ $(TM_SRC)

# ---- an encrypting stand-in, for the storage engine's encryption path ------
$(TEST_MODULE_DIR)/test-xor.so: tests/modules/xorenc.c $(PUB_HEADERS) $(MODULE_MAP)
	@mkdir -p $(dir $@)
	$(CC) $(MOD_CFLAGS) -o $@ $< $(MOD_LDFLAGS)
TEST_MODULES += $(TEST_MODULE_DIR)/test-xor.so
