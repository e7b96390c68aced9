/*
 * test_control.c - the control socket's request parsing (host/control.c):
 * frame lengths in and out of range, the backup request with an absolute
 * path, and every refusal with its reason.  The socket itself is exercised
 * against a running server by tests/scripts/test_backup.sh.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "control.h"

static int parse(const char *s, size_t n, dc_control_request *r, char *why)
{
    why[0] = '\0';
    return dc_control_parse((const uint8_t *)s, n, r, why, 256);
}

static void test_frame_len(void **state)
{
    (void)state;
    char why[256];
    uint32_t len = 7;
    const uint8_t zero[4] = {0, 0, 0, 0};
    assert_int_equal(dc_control_frame_len(zero, &len, why, sizeof why), -1);
    assert_non_null(strstr(why, "out of range"));
    assert_int_equal(len, 7); /* untouched on failure */
    const uint8_t one[4] = {0, 0, 0, 1};
    assert_int_equal(dc_control_frame_len(one, &len, why, sizeof why), 0);
    assert_int_equal(len, 1);
    const uint8_t max[4] = {0, 0, DC_CONTROL_MAX_PAYLOAD >> 8,
                            DC_CONTROL_MAX_PAYLOAD & 0xff};
    assert_int_equal(dc_control_frame_len(max, &len, why, sizeof why), 0);
    assert_int_equal(len, DC_CONTROL_MAX_PAYLOAD);
    const uint8_t over[4] = {0, 0, (DC_CONTROL_MAX_PAYLOAD + 1) >> 8,
                             (DC_CONTROL_MAX_PAYLOAD + 1) & 0xff};
    assert_int_equal(dc_control_frame_len(over, &len, why, sizeof why), -1);
    const uint8_t huge[4] = {0xff, 0xff, 0xff, 0xff};
    assert_int_equal(dc_control_frame_len(huge, &len, why, sizeof why), -1);
    assert_non_null(strstr(why, "4294967295"));
}

static void test_parse(void **state)
{
    (void)state;
    dc_control_request *r = malloc(sizeof *r);
    assert_non_null(r);
    char why[256];
    const char ok[] = "backup /var/backups/dc 1";
    assert_int_equal(parse(ok, strlen(ok), r, why), 0);
    assert_int_equal(r->op, DC_CONTROL_BACKUP);
    assert_string_equal(r->path, "/var/backups/dc 1");
    /* Only the given bytes count: no terminator needed, none read. */
    assert_int_equal(parse("backup /ab", 9, r, why), 0);
    assert_string_equal(r->path, "/a");

    assert_int_equal(parse("backup relative/dir", 19, r, why), -1);
    assert_non_null(strstr(why, "absolute"));
    assert_int_equal(parse("backup ", 7, r, why), -1);
    assert_non_null(strstr(why, "absolute"));
    assert_int_equal(parse("backup", 6, r, why), -1);
    assert_non_null(strstr(why, "unknown request"));
    assert_int_equal(parse("", 0, r, why), -1);
    assert_non_null(strstr(why, "unknown request"));
    assert_int_equal(parse("restore /x", 10, r, why), -1);
    assert_non_null(strstr(why, "\"restore\""));
    assert_int_equal(parse("BACKUP /x", 9, r, why), -1);
    assert_int_equal(parse("backup /a\0b", 11, r, why), -1);
    assert_non_null(strstr(why, "NUL"));

    /* The longest request is the payload limit. */
    size_t cap = DC_CONTROL_MAX_PAYLOAD + 8;
    char *big = malloc(cap);
    assert_non_null(big);
    memcpy(big, "backup /", 8);
    memset(big + 8, 'a', cap - 8);
    assert_int_equal(parse(big, DC_CONTROL_MAX_PAYLOAD, r, why), 0);
    assert_int_equal(strlen(r->path), DC_CONTROL_MAX_PAYLOAD - 7);
    assert_int_equal(parse(big, DC_CONTROL_MAX_PAYLOAD + 1, r, why), -1);
    assert_non_null(strstr(why, "too long"));
    free(big);
    free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_frame_len),
        cmocka_unit_test(test_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
