# sql: the PostgreSQL-dialect SQL engine.  sql.c will hold the module's entry
# point; until it exists only the components and their unit tests build.
SQL_PARTS := $(filter-out modules/sql/sql.c,$(wildcard modules/sql/*.c))
MODULES += $(if $(wildcard modules/sql/sql.c),sql)
LIBS_sql := -lpthread -lm

SQL_TESTS := $(patsubst tests/unit/%.c,%,$(wildcard tests/unit/test_sql_*.c))
UNIT_TESTS += $(SQL_TESTS)
$(foreach t,$(SQL_TESTS),$(eval UNIT_SRCS_$(t) := $(SQL_PARTS))$(eval UNIT_LIBS_$(t) := -lm))
FUZZ_SRCS_fuzz_sql_parser := $(SQL_PARTS)
