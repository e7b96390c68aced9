# sql: the PostgreSQL-dialect SQL engine.  sql.c holds the module's entry
# point; the other files are its components (engine.h lists the layers).
SQL_PARTS := $(filter-out modules/sql/sql.c,$(wildcard modules/sql/*.c))
MODULES += $(if $(wildcard modules/sql/sql.c),sql)
LIBS_sql := -lpthread -lm -ljansson

# test_sql_*: components alone (types, parser, funcs ...).
SQL_TESTS := $(patsubst tests/unit/%.c,%,$(wildcard tests/unit/test_sql_*.c))
UNIT_TESTS += $(SQL_TESTS)
$(foreach t,$(SQL_TESTS),$(eval UNIT_SRCS_$(t) := $(SQL_PARTS))$(eval UNIT_LIBS_$(t) := -lm -ljansson))
FUZZ_SRCS_fuzz_sql_parser := $(SQL_PARTS)

# test_sqlx_*: components over a real storage engine, loaded from
# $(BUILD)/modules through the host's loader (tests/unit/sql_testutil.h).
SQLX_TESTS := $(patsubst tests/unit/%.c,%,$(wildcard tests/unit/test_sqlx_*.c))
UNIT_TESTS += $(SQLX_TESTS)
$(foreach t,$(SQLX_TESTS),$(eval UNIT_SRCS_$(t) := $(SQL_PARTS) $(filter-out host/main.c,$(wildcard host/*.c)))$(eval UNIT_LIBS_$(t) := -Ihost -lm -ljansson -ldl))
