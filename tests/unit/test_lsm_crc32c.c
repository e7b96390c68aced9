/*
 * test_lsm_crc32c.c - CRC-32C against published check values, the
 * hardware and table paths against each other, extension, masking.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "lsm/crc32c.h"

static void test_known_values(void **state)
{
    (void)state;
    /* The CRC catalogue's check value and RFC 3720 (iSCSI) B.4 vectors. */
    assert_int_equal(lsm_crc32c("123456789", 9), 0xe3069283u);
    uint8_t buf[32];
    memset(buf, 0, sizeof buf);
    assert_int_equal(lsm_crc32c(buf, 32), 0x8a9136aau);
    memset(buf, 0xff, sizeof buf);
    assert_int_equal(lsm_crc32c(buf, 32), 0x62a8ab43u);
    for (int i = 0; i < 32; i++)
        buf[i] = (uint8_t)i;
    assert_int_equal(lsm_crc32c(buf, 32), 0x46dd794eu);
    assert_int_equal(lsm_crc32c("", 0), 0u);
}

static void test_extend_equals_whole(void **state)
{
    (void)state;
    uint8_t data[1000];
    for (int i = 0; i < 1000; i++)
        data[i] = (uint8_t)(i * 31 + 7);
    uint32_t whole = lsm_crc32c(data, sizeof data);
    for (size_t cut = 0; cut <= sizeof data; cut += 37) {
        uint32_t part = lsm_crc32c_extend(lsm_crc32c(data, cut), data + cut,
                                          sizeof data - cut);
        assert_int_equal(part, whole);
    }
    /* Unaligned starts give the same values. */
    assert_int_equal(lsm_crc32c(data + 1, 999),
                     lsm_crc32c_extend(0, data + 1, 999));
}

static void test_table_path_matches(void **state)
{
    (void)state;
    assert_int_equal(lsm_crc32c_extend_sw(0, "123456789", 9), 0xe3069283u);
    uint8_t data[4096];
    uint32_t x = 12345;
    for (size_t i = 0; i < sizeof data; i++) {
        x = x * 1103515245u + 12345u;
        data[i] = (uint8_t)(x >> 16);
    }
    for (size_t off = 0; off < 9; off++)
        for (size_t n = 0; n + off <= sizeof data; n += 511)
            assert_int_equal(lsm_crc32c_extend_sw(7, data + off, n),
                             lsm_crc32c_extend(7, data + off, n));
}

static void test_mask(void **state)
{
    (void)state;
    uint32_t c = lsm_crc32c("datacave", 8);
    assert_int_not_equal(lsm_crc_mask(c), c);
    assert_int_equal(lsm_crc_unmask(lsm_crc_mask(c)), c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_values),
        cmocka_unit_test(test_extend_equals_whole),
        cmocka_unit_test(test_table_path_matches),
        cmocka_unit_test(test_mask),
    };
    print_message("crc32c: %s path\n", lsm_crc32c_hw() ? "SSE 4.2" : "table");
    return cmocka_run_group_tests(tests, NULL, NULL);
}
