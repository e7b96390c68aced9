# pgwire: the PostgreSQL wire protocol.  pgwire.c is the module's entry
# point; msg.c (message decoding and encoding) and binary.c (binary value
# formats) work without sockets and are what the unit tests and the fuzz
# target link.
MODULES += $(if $(wildcard modules/pgwire/pgwire.c),pgwire)
LIBS_pgwire := -lssl -lcrypto -lpthread

PGWIRE_PURE := modules/pgwire/msg.c modules/pgwire/binary.c
PGWIRE_TESTS := $(patsubst tests/unit/%.c,%,$(wildcard tests/unit/test_pgwire_*.c))
UNIT_TESTS += $(PGWIRE_TESTS)
$(foreach t,$(PGWIRE_TESTS),$(eval UNIT_SRCS_$(t) := $(PGWIRE_PURE)))
# test_pgwire_conn runs conn.c over a socketpair with scripted sql and auth
# modules (it provides the registry functions of pgwire.c itself).
UNIT_SRCS_test_pgwire_conn := $(PGWIRE_PURE) modules/pgwire/conn.c modules/pgwire/tls.c
UNIT_LIBS_test_pgwire_conn := -lssl -lcrypto
FUZZ_SRCS_fuzz_pgwire := $(PGWIRE_PURE)

# The libpq client suite run by tests/scripts/test_pgwire.sh.
PGWIRE_CLIENT := $(BUILD)/tests/clients/libpq_test
$(PGWIRE_CLIENT): tests/clients/libpq_test.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -I/usr/include/postgresql -o $@ $< -lpq -lpthread
# `make test` builds it (the Makefile sets TEST_MODULES after including
# this file, so name it as a prerequisite directly).
test: $(PGWIRE_CLIENT)
