/*
 * fuzz_toml.c - libFuzzer target for host/toml.c.
 *
 * Parses the input (not NUL-terminated), and when it parses walks the whole
 * tree touching every node, checking the invariants the API promises; when
 * it does not, checks the error report.  A broken invariant aborts.
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -Ihost host/toml.c \
 *         tests/fuzz/fuzz_toml.c -o fuzz_toml
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "toml.h"

/* Abort (so the fuzzer reports it) unless cond holds. */
static void check(int cond)
{
    if (!cond)
        abort();
}

/* True when s[0..n) is valid UTF-8 (the parser promises this for strings). */
static int valid_utf8(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned char c = s[i];
        size_t k;
        uint32_t v, min;
        if (c < 0x80) {
            i++;
            continue;
        } else if (c >= 0xC2 && c <= 0xDF) {
            k = 1, v = c & 0x1F, min = 0x80;
        } else if (c >= 0xE0 && c <= 0xEF) {
            k = 2, v = c & 0x0F, min = 0x800;
        } else if (c >= 0xF0 && c <= 0xF4) {
            k = 3, v = c & 0x07, min = 0x10000;
        } else {
            return 0;
        }
        if (n - i <= k)
            return 0;
        for (size_t j = 1; j <= k; j++) {
            if ((s[i + j] & 0xC0) != 0x80)
                return 0;
            v = (v << 6) | (s[i + j] & 0x3F);
        }
        if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
            return 0;
        i += k + 1;
    }
    return 1;
}

/* Visit n and everything below it; `level` is n's nesting level (root 0).
 * Returns a checksum so the reads cannot be optimised away. */
static uint64_t walk(const dc_toml_node *n, int level)
{
    uint64_t sum = (uint64_t)n->type;
    check(n->line >= 1 && n->col >= 1);
    check(dc_toml_type_name(n->type)[0] != '\0');
    switch (n->type) {
    case DC_TOML_STRING:
        check(n->u.str.ptr != NULL && n->u.str.ptr[n->u.str.len] == '\0');
        check(valid_utf8((const unsigned char *)n->u.str.ptr, n->u.str.len));
        for (size_t i = 0; i < n->u.str.len; i++)
            sum += (unsigned char)n->u.str.ptr[i];
        break;
    case DC_TOML_INTEGER:
        sum += (uint64_t)n->u.integer;
        break;
    case DC_TOML_FLOAT:
        sum += isnan(n->u.flt) ? 1u : (uint64_t)(n->u.flt != 0);
        break;
    case DC_TOML_BOOL:
        sum += n->u.boolean;
        break;
    case DC_TOML_DATETIME:
    case DC_TOML_DATETIME_LOCAL:
    case DC_TOML_DATE_LOCAL:
    case DC_TOML_TIME_LOCAL: {
        size_t len = strlen(n->u.datetime);
        check(len >= 8);
        if (n->type != DC_TOML_TIME_LOCAL)
            check(n->u.datetime[4] == '-' && n->u.datetime[7] == '-');
        if (n->type == DC_TOML_DATETIME || n->type == DC_TOML_DATETIME_LOCAL)
            check(n->u.datetime[10] == 'T');
        if (n->type == DC_TOML_DATETIME)
            check(n->u.datetime[len - 1] == 'Z' || n->u.datetime[len - 6] == '+' ||
                  n->u.datetime[len - 6] == '-');
        sum += len;
        break;
    }
    case DC_TOML_ARRAY:
        check(level <= DC_TOML_MAX_DEPTH);
        for (size_t i = 0; i < n->u.array.len; i++)
            sum += walk(n->u.array.items[i], level + 1);
        break;
    case DC_TOML_TABLE:
        check(level <= DC_TOML_MAX_DEPTH);
        for (size_t i = 0; i < n->u.table.len; i++) {
            const char *key = n->u.table.keys[i];
            size_t klen = dc_toml_key_len(n, i);
            check(key != NULL && key[klen] == '\0');
            check(valid_utf8((const unsigned char *)key, klen));
            /* keys are unique, so lookup finds this very entry */
            if (strlen(key) == klen)
                check(dc_toml_get(n, key) == n->u.table.values[i]);
            sum += klen + walk(n->u.table.values[i], level + 1);
        }
        break;
    default:
        check(0);
    }
    return sum;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    dc_toml_error err;
    dc_toml_doc *doc = dc_toml_parse((const char *)data, size, &err);
    if (!doc) {
        check(memchr(err.message, '\0', sizeof err.message) != NULL);
        check(err.message[0] != '\0');
        /* every error has a place, except running out of memory */
        check((err.line >= 1 && err.col >= 1) ||
              (err.line == 0 && strcmp(err.message, "out of memory") == 0));
        return 0;
    }
    const dc_toml_node *root = dc_toml_root(doc);
    check(root != NULL && root->type == DC_TOML_TABLE);
    volatile uint64_t sink = walk(root, 0);
    (void)sink;
    dc_toml_free(doc);
    return 0;
}
