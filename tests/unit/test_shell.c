/*
 * test_shell.c - the `datacave sql` shell's pieces that need no engine:
 * statement splitting (psql's rules) and the aligned table format, checked
 * against the output of psql 15 for the same results.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config.h"
#include "embed.h"
#include "shell.h"

/* ---- splitting --------------------------------------------------------------
 */

/* The statements of text, joined with '|', and the final state. */
static void split_all(const char *text, char *out, size_t cap, char *state)
{
    size_t len = strlen(text), at = 0;
    out[0] = '\0';
    for (;;) {
        size_t end = dc_shell_split(text + at, len - at, state);
        if (end == 0)
            break;
        size_t l = strlen(out);
        snprintf(out + l, cap - l, "%s%.*s", l ? "|" : "", (int)end, text + at);
        at += end;
    }
}

static void test_split_plain(void **st)
{
    (void)st;
    char out[512], state;
    split_all("select 1; select 2;", out, sizeof out, &state);
    assert_string_equal(out, "select 1;| select 2;");
    assert_int_equal(state, '=');
    split_all("select 1; select", out, sizeof out, &state);
    assert_string_equal(out, "select 1;");
    assert_int_equal(state, '-');
    split_all("", out, sizeof out, &state);
    assert_string_equal(out, "");
    assert_int_equal(state, '=');
}

static void test_split_quotes(void **st)
{
    (void)st;
    char out[512], state;
    split_all("select ';', 'it''s;';x", out, sizeof out, &state);
    assert_string_equal(out, "select ';', 'it''s;';");
    split_all("select E'a\\';b';", out, sizeof out, &state);
    assert_string_equal(out, "select E'a\\';b';");
    /* Without E a backslash is an ordinary character. */
    split_all("select 'a\\';b';", out, sizeof out, &state);
    assert_string_equal(out, "select 'a\\';");
    assert_int_equal(state, '\'');
    split_all("select \"a;b\" from t;", out, sizeof out, &state);
    assert_string_equal(out, "select \"a;b\" from t;");
    split_all("select 'open;", out, sizeof out, &state);
    assert_string_equal(out, "");
    assert_int_equal(state, '\'');
    split_all("select \"open;", out, sizeof out, &state);
    assert_int_equal(state, '"');
}

static void test_split_dollar_comments_parens(void **st)
{
    (void)st;
    char out[512], state;
    split_all("select $$a;b$$; select $f$ $$; $f$;", out, sizeof out, &state);
    assert_string_equal(out, "select $$a;b$$;| select $f$ $$; $f$;");
    split_all("select $1; select a$b;", out, sizeof out, &state);
    assert_string_equal(out, "select $1;| select a$b;");
    split_all("select $x$ open;", out, sizeof out, &state);
    assert_int_equal(state, '$');
    split_all("select 1 -- a; comment\n; x", out, sizeof out, &state);
    assert_string_equal(out, "select 1 -- a; comment\n;");
    split_all("select /* a; /* nested; */ still; */ 1;", out, sizeof out,
              &state);
    assert_string_equal(out, "select /* a; /* nested; */ still; */ 1;");
    split_all("select /* open;", out, sizeof out, &state);
    assert_int_equal(state, '*');
    split_all("create rule r as on insert to t do (insert into a values (1); "
              "insert into b values (2));",
              out, sizeof out, &state);
    assert_string_equal(out,
                        "create rule r as on insert to t do (insert into a "
                        "values (1); insert into b values (2));");
    split_all("select (1;", out, sizeof out, &state);
    assert_int_equal(state, '(');
    split_all("-- only a comment\n", out, sizeof out, &state);
    assert_int_equal(state, '=');
}

/* ---- aligned output -------------------------------------------------------
 */

static char *print(const dc_shell_table *t)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    dc_shell_print_table(f, t);
    fclose(f);
    return buf;
}

static void check(size_t ncols, const char **names, const uint32_t *types,
                  size_t nrows, const char **cells, const char *want)
{
    dc_shell_table t = {ncols, (char **)names, (uint32_t *)types, nrows,
                        (char **)cells};
    char *got = print(&t);
    assert_string_equal(got, want);
    free(got);
}

/* Expected texts are psql 15's output ("psql -X") for the same results. */
static void test_print_basic(void **st)
{
    (void)st;
    /* select 1 as a, 2.5 as b, null::text as c, 'hello'::text as longname */
    const char *n1[] = {"a", "b", "c", "longname"};
    uint32_t t1[] = {DC_TYPE_INT4, DC_TYPE_NUMERIC, DC_TYPE_TEXT, DC_TYPE_TEXT};
    const char *c1[] = {"1", "2.5", NULL, "hello"};
    check(4, n1, t1, 1, c1,
          " a |  b  | c | longname \n"
          "---+-----+---+----------\n"
          " 1 | 2.5 |   | hello\n"
          "(1 row)\n\n");
    /* select 'x' as c, 1 as longnum_column */
    const char *n2[] = {"c", "longnum_column"};
    uint32_t t2[] = {DC_TYPE_TEXT, DC_TYPE_INT4};
    const char *c2[] = {"x", "1"};
    check(2, n2, t2, 1, c2,
          " c | longnum_column \n"
          "---+----------------\n"
          " x |              1\n"
          "(1 row)\n\n");
    /* select 12345 as a, 'ab' as bb where false */
    const char *n3[] = {"a", "bb"};
    uint32_t t3[] = {DC_TYPE_INT4, DC_TYPE_TEXT};
    check(2, n3, t3, 0, NULL,
          " a | bb \n"
          "---+----\n"
          "(0 rows)\n\n");
    /* select 1 as a union all select 22 union all select null */
    const char *n4[] = {"a"};
    uint32_t t4[] = {DC_TYPE_INT4};
    const char *c4[] = {"1", "22", NULL};
    check(1, n4, t4, 3, c4,
          " a  \n"
          "----\n"
          "  1\n"
          " 22\n"
          "   \n"
          "(3 rows)\n\n");
    /* select; */
    check(0, NULL, NULL, 1, NULL, "--\n(1 row)\n\n");
}

static void test_print_multiline_and_utf8(void **st)
{
    (void)st;
    /* select E'line1\nline22' as m, 5 as n, E'a\nb\nc' as z */
    const char *n1[] = {"m", "n", "z"};
    uint32_t t1[] = {DC_TYPE_TEXT, DC_TYPE_INT4, DC_TYPE_TEXT};
    const char *c1[] = {"line1\nline22", "5", "a\nb\nc"};
    check(3, n1, t1, 1, c1,
          "   m    | n | z \n"
          "--------+---+---\n"
          " line1 +| 5 | a+\n"
          " line22 |   | b+\n"
          "        |   | c\n"
          "(1 row)\n\n");
    /* select 'x' as t, E'a\nb' as m, 1 as n */
    const char *n2[] = {"t", "m", "n"};
    uint32_t t2[] = {DC_TYPE_TEXT, DC_TYPE_TEXT, DC_TYPE_INT4};
    const char *c2[] = {"x", "a\nb", "1"};
    check(3, n2, t2, 1, c2,
          " t | m | n \n"
          "---+---+---\n"
          " x | a+| 1\n"
          "   | b | \n"
          "(1 row)\n\n");
    /* select 'h\u00e9llo' as "\u00fc", 1.5::float8 as f */
    const char *n3[] = {"\xc3\xbc", "f"};
    uint32_t t3[] = {DC_TYPE_TEXT, DC_TYPE_FLOAT8};
    const char *c3[] = {"h\xc3\xa9llo", "1.5"};
    check(2, n3, t3, 1, c3,
          "   \xc3\xbc   |  f  \n"
          "-------+-----\n"
          " h\xc3\xa9llo | 1.5\n"
          "(1 row)\n\n");
    /* values (1,'a'),(2,'bbbbbb') */
    const char *n4[] = {"column1", "column2"};
    uint32_t t4[] = {DC_TYPE_INT4, DC_TYPE_TEXT};
    const char *c4[] = {"1", "a", "2", "bbbbbb"};
    check(2, n4, t4, 2, c4,
          " column1 | column2 \n"
          "---------+---------\n"
          "       1 | a\n"
          "       2 | bbbbbb\n"
          "(2 rows)\n\n");
}

/* ---- --data-dir ------------------------------------------------------------
 */

/* storage.data_dir of text after the override, or NULL when it does not
 * parse. */
static void check_override(const char *text, const char *dir, bool ok)
{
    char *changed = dc_embed_override_data_dir(text, dir);
    assert_non_null(changed);
    dc_strlist errors = {0};
    dc_config *cfg =
        dc_config_parse(changed, strlen(changed), "t.toml", "/", &errors);
    const char *got = NULL;
    bool same = cfg && dc_config_string(cfg, "storage.data_dir", &got) == 0 &&
                strcmp(got, dir) == 0;
    assert_int_equal(same, ok);
    if (cfg) {
        /* The rest of the file is kept. */
        int64_t n = 0;
        if (strstr(text, "shard_count"))
            assert_true(dc_config_int(cfg, "sharding.shard_count", &n) == 0 &&
                        n == 3);
    }
    dc_config_free(cfg);
    dc_strlist_free(&errors);
    free(changed);
}

static void test_data_dir_override(void **st)
{
    (void)st;
    check_override("[sharding]\nshard_count = 3\n", "/x/y", true);
    check_override("[storage]\ndata_dir = \"old\"\nwal_enabled = true\n"
                   "[sharding]\nshard_count = 3\n",
                   "/x/\"q\"\\z", true);
    check_override("[ storage ]   # the store\n  data_dir=\"old\"\n", "/new",
                   true);
    check_override("[storage]\nwal_enabled = false\n", "/new", true);
    /* A dotted key cannot be rewritten: the result does not parse or does
     * not take, and the shell says so. */
    check_override("storage.data_dir = \"old\"\n", "/new", false);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_split_plain),
        cmocka_unit_test(test_split_quotes),
        cmocka_unit_test(test_split_dollar_comments_parens),
        cmocka_unit_test(test_print_basic),
        cmocka_unit_test(test_print_multiline_and_utf8),
        cmocka_unit_test(test_data_dir_override),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
