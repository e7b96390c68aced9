# lsm: the durable LSM storage engine.  Being built: its components and their
# unit tests are here; the module joins MODULES when its entry point exists.
UNIT_TESTS += $(if $(wildcard tests/unit/test_lsm_crc32c.c),test_lsm_crc32c)
UNIT_SRCS_test_lsm_crc32c := modules/lsm/crc32c.c
UNIT_TESTS += $(if $(wildcard tests/unit/test_lsm_wal.c modules/lsm/wal.c),test_lsm_wal)
UNIT_SRCS_test_lsm_wal := modules/lsm/crc32c.c modules/lsm/wal.c
UNIT_TESTS += $(if $(wildcard tests/unit/test_lsm_sstable.c modules/lsm/sstable.c),test_lsm_sstable)
UNIT_SRCS_test_lsm_sstable = $(filter-out modules/lsm/wal.c modules/lsm/lsm.c,$(wildcard modules/lsm/*.c))
UNIT_LIBS_test_lsm_sstable := -lzstd
