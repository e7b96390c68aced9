/*
 * test_config.c - the config schema: validation messages (key, line,
 * column, expected type), defaults, path lookups, module sections.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "config.h"

/* Parse `text`; returns the config (NULL on errors, kept in *errors). */
static dc_config *parse(const char *text, dc_strlist *errors)
{
    return dc_config_parse(text, strlen(text), "t.toml", "/cfgdir", errors);
}

/* Assert that parsing fails and one message contains `needle`. */
static void expect_error(const char *text, const char *needle)
{
    dc_strlist errors = {0};
    dc_config *cfg = parse(text, &errors);
    assert_null(cfg);
    bool found = false;
    for (size_t i = 0; i < errors.len; i++)
        if (strstr(errors.items[i], needle))
            found = true;
    if (!found) {
        for (size_t i = 0; i < errors.len; i++)
            print_message("got: %s\n", errors.items[i]);
        fail_msg("no message contains \"%s\"", needle);
    }
    dc_strlist_free(&errors);
}

static void test_example_config_is_valid(void **state)
{
    (void)state;
    dc_strlist errors = {0};
    dc_config *cfg = dc_config_load("config.example.toml", &errors);
    for (size_t i = 0; i < errors.len; i++)
        print_message("%s\n", errors.items[i]);
    assert_non_null(cfg);
    const char *s;
    assert_int_equal(dc_config_string(cfg, "server.listen_addr", &s), DC_OK);
    assert_string_equal(s, "127.0.0.1:5433");
    assert_int_equal(dc_config_string(cfg, "security.auth.users[0].username", &s),
                     DC_OK);
    assert_string_equal(s, "admin");
    assert_string_equal(dc_config_dir(cfg), ".");
    dc_config_free(cfg);
}

static void test_unknown_key_names_key_and_line(void **state)
{
    (void)state;
    expect_error("[server]\nlisten_addr = \"x:1\"\nbogus = 1\n",
                 "t.toml:3:1: unknown key 'bogus' in [server]");
    expect_error("\n\nnot_a_section = true\n",
                 "t.toml:3:1: unknown section or key 'not_a_section'");
    expect_error("[security.auth]\n[[security.auth.users]]\nusername = \"a\"\n"
                 "  pasword_plain = \"x\"\n",
                 "t.toml:4:3: unknown key 'pasword_plain' in "
                 "[security.auth.users[0]]");
}

static void test_wrong_type_names_key_and_expected_type(void **state)
{
    (void)state;
    expect_error("[server]\nmax_connections = \"many\"\n",
                 "t.toml:2:1: server.max_connections must be an integer, "
                 "found string");
    expect_error("[storage]\nwal_enabled = 1\n",
                 "storage.wal_enabled must be a boolean, found integer");
    expect_error("server = 5\n", "server must be a table, found integer");
    expect_error("[[security.auth.users]]\nusername = \"a\"\nroles = [1]\n",
                 "t.toml:3:10: security.auth.users[0].roles must be an array of "
                 "strings, found integer");
    expect_error("[security.auth]\nusers = 3\n",
                 "security.auth.users must be an array of tables, found integer");
}

static void test_ranges_and_choices(void **state)
{
    (void)state;
    expect_error("[server]\nmax_connections = 0\n",
                 "server.max_connections must be between 1 and 1000000, found 0");
    expect_error("[log]\nlevel = \"loud\"\n",
                 "log.level must be one of \"debug\", \"info\", \"warn\", "
                 "\"error\", found \"loud\"");
}

static void test_invalid_toml_gives_line_and_column(void **state)
{
    (void)state;
    dc_strlist errors = {0};
    assert_null(parse("[server]\nlisten_addr = \n", &errors));
    assert_int_equal(errors.len, 1);
    assert_non_null(strstr(errors.items[0], "t.toml:2:"));
    dc_strlist_free(&errors);
}

static void test_missing_file(void **state)
{
    (void)state;
    dc_strlist errors = {0};
    assert_null(dc_config_load("/nonexistent/datacave.toml", &errors));
    assert_int_equal(errors.len, 1);
    assert_non_null(strstr(errors.items[0], "cannot open config file"));
    dc_strlist_free(&errors);
}

static void test_defaults_and_lookups(void **state)
{
    (void)state;
    dc_strlist errors = {0};
    dc_config *cfg = parse("[server]\nmax_connections = 7\n"
                           "[[security.auth.roles]]\nname = \"r0\"\n"
                           "[[security.auth.roles]]\nname = \"r1\"\n"
                           "[[security.auth.users]]\nusername = \"u\"\n"
                           "roles = [\"r0\", \"r1\"]\n"
                           "[modules]\nmetrics = \"\"\nstorage = \"memory\"\n",
                           &errors);
    assert_non_null(cfg);
    int64_t i;
    const char *s;
    bool b;
    double d;
    size_t n;
    assert_int_equal(dc_config_int(cfg, "server.max_connections", &i), DC_OK);
    assert_int_equal(i, 7);
    /* Unset keys take the schema's defaults. */
    assert_int_equal(dc_config_string(cfg, "metrics.listen_addr", &s), DC_OK);
    assert_string_equal(s, "127.0.0.1:9898");
    assert_int_equal(dc_config_bool(cfg, "storage.wal_enabled", &b), DC_OK);
    assert_true(b);
    assert_int_equal(dc_config_int(cfg, "storage.memtable_max_bytes", &i), DC_OK);
    assert_int_equal(i, 67108864);
    /* A float lookup accepts an integer. */
    assert_int_equal(dc_config_float(cfg, "server.max_connections", &d), DC_OK);
    assert_true(d == 7.0);
    /* Indexed paths. */
    assert_int_equal(dc_config_string(cfg, "security.auth.roles[1].name", &s), DC_OK);
    assert_string_equal(s, "r1");
    assert_int_equal(dc_config_string(cfg, "security.auth.users[0].roles[1]", &s),
                     DC_OK);
    assert_string_equal(s, "r1");
    assert_int_equal(dc_config_count(cfg, "security.auth.roles", &n), DC_OK);
    assert_int_equal(n, 2);
    /* Errors. */
    assert_int_equal(dc_config_string(cfg, "server.max_connections", &s), DC_ETYPE);
    assert_int_equal(dc_config_string(cfg, "server.nothing", &s), DC_ENOTFOUND);
    assert_int_equal(dc_config_string(cfg, "security.auth.roles[5].name", &s),
                     DC_ENOTFOUND);
    assert_int_equal(dc_config_string(cfg, "server..x", &s), DC_EINVAL);
    assert_int_equal(dc_config_string(cfg, "security.auth.roles[x]", &s), DC_EINVAL);
    /* [modules]: set, default, switched off. */
    assert_string_equal(dc_config_module_for(cfg, DC_KIND_STORAGE), "memory");
    assert_string_equal(dc_config_module_for(cfg, DC_KIND_PROTOCOL), "pgwire");
    assert_null(dc_config_module_for(cfg, DC_KIND_METRICS));
    dc_config_free(cfg);
}

static const dc_config_key KEYS[] = {
    {"block_size", DC_CFG_INT, "4096", "bytes per block", 0},
    {"mode", DC_CFG_STRING, "\"fast\"", NULL, 0},
    {"ratio", DC_CFG_FLOAT, "0.5", NULL, 0},
    {"secret", DC_CFG_STRING, NULL, NULL, 0},
};

static void test_module_sections(void **state)
{
    (void)state;
    dc_strlist errors = {0};
    dc_config *cfg = parse("[module.m1]\nblock_size = 8192\nratio = 2\n", &errors);
    assert_non_null(cfg);
    assert_int_equal(dc_config_check_module(cfg, "m1", KEYS, 4, &errors), 0);
    int64_t i;
    const char *s;
    double d;
    assert_int_equal(dc_config_int(cfg, "module.m1.block_size", &i), DC_OK);
    assert_int_equal(i, 8192);
    assert_int_equal(dc_config_string(cfg, "module.m1.mode", &s), DC_OK);
    assert_string_equal(s, "fast");
    assert_int_equal(dc_config_float(cfg, "module.m1.ratio", &d), DC_OK);
    assert_true(d == 2.0);
    assert_int_equal(dc_config_string(cfg, "module.m1.secret", &s), DC_ENOTFOUND);
    /* A section for a module that is not loaded. */
    const char *loaded[] = {"m1"};
    assert_int_equal(dc_config_check_orphan_sections(cfg, loaded, 1, &errors), 0);
    assert_int_equal(dc_config_check_orphan_sections(cfg, NULL, 0, &errors), -1);
    assert_non_null(strstr(errors.items[0], "[module.m1] configures a module that "
                                            "is not loaded"));
    dc_strlist_free(&errors);
    dc_config_free(cfg);

    cfg = parse("[module.m2]\nblok_size = 1\nmode = 3\n", &errors);
    assert_non_null(cfg);
    assert_int_equal(dc_config_check_module(cfg, "m2", KEYS, 4, &errors), -1);
    assert_int_equal(errors.len, 2);
    assert_non_null(strstr(errors.items[0], "t.toml:2:1: unknown key 'blok_size' in "
                                            "[module.m2] (module m2 has options: "
                                            "block_size, mode, ratio, secret)"));
    assert_non_null(strstr(errors.items[1], "t.toml:3:1: module.m2.mode must be a "
                                            "string, found integer"));
    dc_strlist_free(&errors);
    dc_config_free(cfg);

    /* A module whose declared default does not match its type. */
    static const dc_config_key BAD[] = {{"n", DC_CFG_INT, "\"x\"", NULL, 0}};
    cfg = parse("", &errors);
    assert_int_equal(dc_config_check_module(cfg, "m3", BAD, 1, &errors), -1);
    assert_non_null(strstr(errors.items[0], "default of option 'n'"));
    dc_strlist_free(&errors);
    dc_config_free(cfg);

    /* A required option left out. */
    static const dc_config_key REQ[] = {
        {"password", DC_CFG_STRING, NULL, "the password", DC_OPT_REQUIRED}};
    cfg = parse("[module.m4]\n", &errors);
    assert_int_equal(dc_config_check_module(cfg, "m4", REQ, 1, &errors), -1);
    assert_non_null(strstr(errors.items[0], "t.toml: [module.m4] password is "
                                            "required by module m4"));
    dc_strlist_free(&errors);
    dc_config_free(cfg);
    cfg = parse("[module.m4]\npassword = \"x\"\n", &errors);
    assert_int_equal(dc_config_check_module(cfg, "m4", REQ, 1, &errors), 0);
    dc_config_free(cfg);

    /* [module.x] must be a table. */
    expect_error("[module]\nx = 1\n", "module.x must be a table");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_example_config_is_valid),
        cmocka_unit_test(test_unknown_key_names_key_and_line),
        cmocka_unit_test(test_wrong_type_names_key_and_expected_type),
        cmocka_unit_test(test_ranges_and_choices),
        cmocka_unit_test(test_invalid_toml_gives_line_and_column),
        cmocka_unit_test(test_missing_file),
        cmocka_unit_test(test_defaults_and_lookups),
        cmocka_unit_test(test_module_sections),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
