/*
 * test_log.c - the host's logger: level filtering, the text and JSON line
 * formats (time, level, module, message), one line per message.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <jansson.h>

#include "log.h"

/* Run `fn` with the log going to a memory stream; returns what it wrote. */
static char *capture(void (*fn)(void))
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    dc_log_set_stream(f);
    fn();
    dc_log_set_stream(NULL);
    fclose(f);
    return buf;
}

static void write_some(void)
{
    dc_log_write(DC_LOG_DEBUG, "lsm", "hidden %d", 1);
    dc_log_write(DC_LOG_INFO, "lsm", "flushed %d tables", 3);
    dc_log_write(DC_LOG_ERROR, "pgwire", "two\nlines");
}

static void test_text_format_and_level(void **state)
{
    (void)state;
    dc_log_set_level(DC_LOG_INFO);
    dc_log_set_format(DC_LOGFMT_TEXT);
    char *out = capture(write_some);
    assert_null(strstr(out, "hidden"));
    assert_non_null(strstr(out, "info  [lsm] flushed 3 tables\n"));
    assert_non_null(strstr(out, "error [pgwire] two lines\n"));
    /* Two lines, each starting with an ISO 8601 UTC time. */
    int lines = 0;
    for (char *p = out; *p; p++)
        lines += *p == '\n';
    assert_int_equal(lines, 2);
    assert_true(out[4] == '-' && out[10] == 'T' && out[23] == 'Z');
    free(out);
}

static void test_json_format(void **state)
{
    (void)state;
    dc_log_set_level(DC_LOG_DEBUG);
    dc_log_set_format(DC_LOGFMT_JSON);
    char *out = capture(write_some);
    char *save = NULL;
    int n = 0;
    for (char *line = strtok_r(out, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save), n++) {
        json_error_t e;
        json_t *o = json_loads(line, 0, &e);
        assert_non_null(o);
        assert_non_null(json_string_value(json_object_get(o, "time")));
        const char *level = json_string_value(json_object_get(o, "level"));
        const char *module = json_string_value(json_object_get(o, "module"));
        const char *msg = json_string_value(json_object_get(o, "msg"));
        if (n == 0) {
            assert_string_equal(level, "debug");
            assert_string_equal(module, "lsm");
            assert_string_equal(msg, "hidden 1");
        } else if (n == 2) {
            assert_string_equal(level, "error");
            assert_string_equal(module, "pgwire");
            assert_string_equal(msg, "two lines");
        }
        json_decref(o);
    }
    assert_int_equal(n, 3);
    free(out);
    dc_log_set_format(DC_LOGFMT_TEXT);
    dc_log_set_level(DC_LOG_INFO);
}

static void test_parse_names(void **state)
{
    (void)state;
    assert_int_equal(dc_log_level_parse("warn"), DC_LOG_WARN);
    assert_int_equal(dc_log_level_parse("loud"), -1);
    assert_int_equal(dc_log_format_parse("json"), DC_LOGFMT_JSON);
    assert_int_equal(dc_log_format_parse("xml"), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_text_format_and_level),
        cmocka_unit_test(test_json_format),
        cmocka_unit_test(test_parse_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
