# lsm: the durable LSM storage engine.  lsm.c holds the module's entry point
# and engine core; the other files are its components.  Every unit test of a
# component links all of them but lsm.c.
LSM_PARTS := $(filter-out modules/lsm/lsm.c,$(wildcard modules/lsm/*.c))
MODULES += $(if $(wildcard modules/lsm/lsm.c),lsm)
LIBS_lsm := -lzstd -lpthread

LSM_TESTS := $(patsubst tests/unit/%.c,%,$(wildcard tests/unit/test_lsm_*.c))
UNIT_TESTS += $(LSM_TESTS)
$(foreach t,$(LSM_TESTS),$(eval UNIT_SRCS_$(t) := $(LSM_PARTS))$(eval UNIT_LIBS_$(t) := -lzstd))
