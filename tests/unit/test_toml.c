/*
 * test_toml.c - tests of host/toml.c.
 *
 * 1. The toml-test conformance suite (cases listed in
 *    $DATACAVE_SHARED/toml-test/files-toml-1.0.0, default ../shared): every
 *    valid case must parse and decode to the expected JSON (compared
 *    semantically, as the upstream toml-test harness does), every invalid
 *    case must be rejected.  Failing cases are printed by name.
 * 2. Exact line/column of errors for hand-written bad inputs.
 * 3. Deep nesting is refused without crashing.
 * 4. dc_toml_get, dc_toml_key_len, dc_toml_type_name, node positions,
 *    dc_toml_parse_file, input that is not NUL-terminated.
 *
 * Run from the repository root.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "toml.h"

/* ------------------------------------------------------------------------
 * Helpers
 * ------------------------------------------------------------------------ */

/* The shared data directory: $DATACAVE_SHARED or "../shared". */
static const char *shared_dir(void)
{
    const char *d = getenv("DATACAVE_SHARED");
    return d && *d ? d : "../shared";
}

/* Read a whole file into a malloc'd buffer (*len set); NULL on error. */
static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        if (n == cap) {
            char *q = realloc(buf, cap * 2);
            if (!q) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = q;
            cap *= 2;
        }
        size_t r = fread(buf + n, 1, cap - n, f);
        n += r;
        if (r == 0) {
            if (ferror(f)) {
                free(buf);
                buf = NULL;
            }
            break;
        }
    }
    fclose(f);
    *len = n;
    return buf;
}

/* Parse a NUL-terminated string; convenience for the hand-written tests. */
static dc_toml_doc *parse_str(const char *s, dc_toml_error *err)
{
    return dc_toml_parse(s, strlen(s), err);
}

/* ------------------------------------------------------------------------
 * TOML tree -> toml-test JSON
 * ------------------------------------------------------------------------ */

/* {"type": type, "value": value(len)} */
static json_t *tagged(const char *type, const char *value, size_t len)
{
    json_t *o = json_object();
    json_object_set_new(o, "type", json_string(type));
    json_object_set_new(o, "value", json_stringn(value, len));
    return o;
}

/* Jansson can hold object keys that contain NUL bytes (json_object_setn)
 * but its loader refuses them, and one conformance case has the key
 * "\u0000".  So a NUL in a key is represented on both sides by the
 * noncharacter U+FDD0, which no case uses: load_expected() rewrites \u0000
 * escapes inside JSON object keys, and set_key() maps NUL bytes in ours. */
#define NUL_STANDIN "\xEF\xB7\x90" /* U+FDD0 in UTF-8 */

/* Set o[key] = v (taking the reference) for a TOML key of klen bytes. */
static void set_key(json_t *o, const char *key, size_t klen, json_t *v)
{
    if (!memchr(key, '\0', klen)) {
        json_object_setn_new(o, key, klen, v);
        return;
    }
    char *k = malloc(klen * 3 + 1);
    assert_non_null(k);
    size_t n = 0;
    for (size_t i = 0; i < klen; i++) {
        if (key[i] == '\0') {
            memcpy(k + n, NUL_STANDIN, 3);
            n += 3;
        } else {
            k[n++] = key[i];
        }
    }
    json_object_setn_new(o, k, n, v);
    free(k);
}

/* Load an expected-output JSON file, rewriting \u0000 escapes inside object
 * keys to \uFDD0 (see NUL_STANDIN).  NULL on error (message in jerr). */
static json_t *load_expected(const char *path, json_error_t *jerr)
{
    size_t len;
    char *text = read_file(path, &len);
    if (!text) {
        snprintf(jerr->text, sizeof jerr->text, "cannot read the file");
        return NULL;
    }
    for (size_t i = 0; i < len; i++) {
        if (text[i] != '"')
            continue;
        size_t st = i++; /* opening quote */
        while (i < len && text[i] != '"')
            i += text[i] == '\\' ? 2 : 1;
        size_t e = i < len ? i : len; /* closing quote */
        size_t j = e + 1;
        while (j < len && (text[j] == ' ' || text[j] == '\t' || text[j] == '\n' ||
                           text[j] == '\r'))
            j++;
        if (j >= len || text[j] != ':')
            continue; /* not an object key */
        for (size_t k = st + 1; k + 6 <= e; k++) {
            if (text[k] != '\\')
                continue;
            if (memcmp(text + k, "\\u0000", 6) == 0)
                memcpy(text + k, "\\uFDD0", 6);
            k++; /* skip the escaped character */
        }
    }
    json_t *j = json_loadb(text, len, JSON_ALLOW_NUL, jerr);
    free(text);
    return j;
}

/* Convert a node to the toml-test JSON encoding. */
static json_t *to_json(const dc_toml_node *n)
{
    char buf[64];
    switch (n->type) {
    case DC_TOML_STRING:
        return tagged("string", n->u.str.ptr, n->u.str.len);
    case DC_TOML_INTEGER:
        snprintf(buf, sizeof buf, "%" PRId64, n->u.integer);
        return tagged("integer", buf, strlen(buf));
    case DC_TOML_FLOAT:
        if (isnan(n->u.flt))
            snprintf(buf, sizeof buf, "nan");
        else if (isinf(n->u.flt))
            snprintf(buf, sizeof buf, "%sinf", n->u.flt < 0 ? "-" : "");
        else
            snprintf(buf, sizeof buf, "%.17g", n->u.flt);
        return tagged("float", buf, strlen(buf));
    case DC_TOML_BOOL:
        return tagged("bool", n->u.boolean ? "true" : "false", n->u.boolean ? 4 : 5);
    case DC_TOML_DATETIME:
        return tagged("datetime", n->u.datetime, strlen(n->u.datetime));
    case DC_TOML_DATETIME_LOCAL:
        return tagged("datetime-local", n->u.datetime, strlen(n->u.datetime));
    case DC_TOML_DATE_LOCAL:
        return tagged("date-local", n->u.datetime, strlen(n->u.datetime));
    case DC_TOML_TIME_LOCAL:
        return tagged("time-local", n->u.datetime, strlen(n->u.datetime));
    case DC_TOML_ARRAY: {
        json_t *a = json_array();
        for (size_t i = 0; i < n->u.array.len; i++)
            json_array_append_new(a, to_json(n->u.array.items[i]));
        return a;
    }
    case DC_TOML_TABLE: {
        json_t *o = json_object();
        for (size_t i = 0; i < n->u.table.len; i++)
            set_key(o, n->u.table.keys[i], dc_toml_key_len(n, i),
                    to_json(n->u.table.values[i]));
        return o;
    }
    }
    return json_null();
}

/* ------------------------------------------------------------------------
 * Semantic comparison of toml-test JSON documents
 * ------------------------------------------------------------------------ */

/* True when j is a tagged scalar {"type": "...", "value": "..."}. */
static bool is_tagged(const json_t *j)
{
    return json_is_object(j) && json_object_size(j) == 2 &&
           json_is_string(json_object_get(j, "type")) &&
           json_is_string(json_object_get(j, "value"));
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian). */
static int64_t days_from_civil(int64_t y, int64_t m, int64_t d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* Normalise a date/time text: 'T' separator, upper-case 'Z'. */
static void norm_dt(const char *in, char *out, size_t n)
{
    snprintf(out, n, "%s", in);
    for (char *c = out; *c; c++) {
        if (*c == 'z')
            *c = 'Z';
        if (*c == 't' || (*c == ' ' && c - out == 10))
            *c = 'T';
    }
}

/* Split a normalised date/time into its part before the fraction (prefix),
 * the fraction digits with trailing zeros removed, and the offset. */
static void split_dt(const char *s, char *prefix, char *frac, char *off, size_t n)
{
    const char *dot = strchr(s, '.');
    const char *end = s + strlen(s);
    const char *o = end;
    /* offset: 'Z' or +HH:MM / -HH:MM at the end, after the time part */
    if (end > s && end[-1] == 'Z')
        o = end - 1;
    else if (end - s >= 6 && (end[-6] == '+' || end[-6] == '-') && strchr(s, ':') &&
             end - 6 > strchr(s, ':'))
        o = end - 6;
    const char *pend = dot ? dot : o;
    snprintf(prefix, n, "%.*s", (int)(pend - s), s);
    if (dot) {
        const char *fe = dot + 1;
        while (fe < o && *fe >= '0' && *fe <= '9')
            fe++;
        while (fe > dot + 1 && fe[-1] == '0')
            fe--;
        snprintf(frac, n, "%.*s", (int)(fe - (dot + 1)), dot + 1);
    } else {
        frac[0] = '\0';
    }
    snprintf(off, n, "%s", o);
}

/* Compare two date/time values of toml-test type `type` as the upstream
 * harness does: same instant for offset date-times, same fields otherwise,
 * with 'T'/'t'/' ', 'z'/'Z' and trailing fractional zeros immaterial. */
static bool dt_equal(const char *type, const char *a, const char *b)
{
    char na[128], nb[128], pa[128], pb[128], fa[128], fb[128], oa[128], ob[128];
    norm_dt(a, na, sizeof na);
    norm_dt(b, nb, sizeof nb);
    split_dt(na, pa, fa, oa, sizeof pa);
    split_dt(nb, pb, fb, ob, sizeof pb);
    if (strcmp(fa, fb) != 0)
        return false;
    if (strcmp(type, "datetime") != 0)
        return strcmp(pa, pb) == 0 && strcmp(oa, ob) == 0;
    int y1, m1, d1, H1, M1, S1, y2, m2, d2, H2, M2, S2;
    if (sscanf(pa, "%4d-%2d-%2dT%2d:%2d:%2d", &y1, &m1, &d1, &H1, &M1, &S1) != 6 ||
        sscanf(pb, "%4d-%2d-%2dT%2d:%2d:%2d", &y2, &m2, &d2, &H2, &M2, &S2) != 6)
        return false;
    int64_t t1 = days_from_civil(y1, m1, d1) * 86400 + H1 * 3600 + M1 * 60 + S1;
    int64_t t2 = days_from_civil(y2, m2, d2) * 86400 + H2 * 3600 + M2 * 60 + S2;
    int oh, om;
    if (oa[0] != 'Z') {
        if (sscanf(oa + 1, "%2d:%2d", &oh, &om) != 2)
            return false;
        t1 -= (oa[0] == '-' ? -1 : 1) * (oh * 3600 + om * 60);
    }
    if (ob[0] != 'Z') {
        if (sscanf(ob + 1, "%2d:%2d", &oh, &om) != 2)
            return false;
        t2 -= (ob[0] == '-' ? -1 : 1) * (oh * 3600 + om * 60);
    }
    return t1 == t2;
}

/* Parse a whole string as a double (accepting "inf", "-inf", "nan"). */
static bool parse_double(const char *s, double *d)
{
    char *end;
    if (strcmp(s, "+inf") == 0 || strcmp(s, "inf") == 0) {
        *d = INFINITY;
        return true;
    }
    if (strcmp(s, "-inf") == 0) {
        *d = -INFINITY;
        return true;
    }
    if (strcmp(s, "nan") == 0 || strcmp(s, "+nan") == 0 || strcmp(s, "-nan") == 0) {
        *d = NAN;
        return true;
    }
    errno = 0;
    *d = strtod(s, &end);
    return *s && *end == '\0';
}

/* Compare two tagged scalars; on mismatch describe it in why. */
static bool scalar_equal(const json_t *want, const json_t *have, char *why, size_t n)
{
    const char *wt = json_string_value(json_object_get(want, "type"));
    const char *ht = json_string_value(json_object_get(have, "type"));
    const json_t *wvj = json_object_get(want, "value");
    const json_t *hvj = json_object_get(have, "value");
    const char *wv = json_string_value(wvj), *hv = json_string_value(hvj);
    if (strcmp(wt, ht) != 0) {
        snprintf(why, n, "type %s, expected %s", ht, wt);
        return false;
    }
    bool eq;
    if (strcmp(wt, "string") == 0) {
        eq = json_string_length(wvj) == json_string_length(hvj) &&
             memcmp(wv, hv, json_string_length(wvj)) == 0;
    } else if (strcmp(wt, "integer") == 0) {
        char *e1, *e2;
        errno = 0;
        long long a = strtoll(wv, &e1, 10);
        int er1 = errno;
        errno = 0;
        long long b = strtoll(hv, &e2, 10);
        eq = !er1 && !errno && *wv && *hv && !*e1 && !*e2 && a == b;
    } else if (strcmp(wt, "float") == 0) {
        double a, b;
        if (!parse_double(wv, &a) || !parse_double(hv, &b))
            eq = false;
        else if (isnan(a) || isnan(b))
            eq = isnan(a) && isnan(b);
        else
            eq = a == b && (a != 0 || signbit(a) == signbit(b));
    } else if (strcmp(wt, "bool") == 0) {
        eq = strcmp(wv, hv) == 0;
    } else if (strcmp(wt, "datetime") == 0 || strcmp(wt, "datetime-local") == 0 ||
               strcmp(wt, "date-local") == 0 || strcmp(wt, "time-local") == 0) {
        eq = dt_equal(wt, wv, hv);
    } else {
        snprintf(why, n, "unknown type %s", wt);
        return false;
    }
    if (!eq)
        snprintf(why, n, "%s value '%s', expected '%s'", wt, hv, wv);
    return eq;
}

/* Semantic comparison of an expected and an actual toml-test JSON value.
 * On mismatch, why describes the first difference (path in `path`). */
static bool json_semantic_equal(const json_t *want, const json_t *have,
                                const char *path, char *why, size_t n)
{
    char sub[512];
    if (is_tagged(want) || is_tagged(have)) {
        if (!is_tagged(want) || !is_tagged(have)) {
            snprintf(why, n, "%s: scalar vs container mismatch", path);
            return false;
        }
        char w[300];
        if (!scalar_equal(want, have, w, sizeof w)) {
            snprintf(why, n, "%s: %s", path, w);
            return false;
        }
        return true;
    }
    if (json_is_object(want) && json_is_object(have)) {
        if (json_object_size(want) != json_object_size(have)) {
            snprintf(why, n, "%s: table has %zu keys, expected %zu", path,
                     json_object_size(have), json_object_size(want));
            return false;
        }
        const char *key;
        size_t klen;
        json_t *v;
        json_object_keylen_foreach((json_t *)want, key, klen, v) {
            const json_t *hv = json_object_getn(have, key, klen);
            snprintf(sub, sizeof sub, "%.200s.%.*s", path, (int)(klen > 100 ? 100 : klen), key);
            if (!hv) {
                snprintf(why, n, "%s: missing", sub);
                return false;
            }
            if (!json_semantic_equal(v, hv, sub, why, n))
                return false;
        }
        return true;
    }
    if (json_is_array(want) && json_is_array(have)) {
        if (json_array_size(want) != json_array_size(have)) {
            snprintf(why, n, "%s: array has %zu elements, expected %zu", path,
                     json_array_size(have), json_array_size(want));
            return false;
        }
        for (size_t i = 0; i < json_array_size(want); i++) {
            snprintf(sub, sizeof sub, "%.200s[%zu]", path, i);
            if (!json_semantic_equal(json_array_get(want, i), json_array_get(have, i),
                                     sub, why, n))
                return false;
        }
        return true;
    }
    snprintf(why, n, "%s: kind mismatch (table/array)", path);
    return false;
}

/* ------------------------------------------------------------------------
 * Conformance suite
 * ------------------------------------------------------------------------ */

/* Run one valid case; true when it parses and matches the expected JSON. */
static bool run_valid(const char *dir, const char *name)
{
    char path[1024], jpath[1024], why[600];
    if (snprintf(path, sizeof path, "%s/toml-test/%s", dir, name) >= (int)sizeof path ||
        snprintf(jpath, sizeof jpath, "%.*s.json", (int)(strlen(path) - 5), path) >=
            (int)sizeof jpath) {
        printf("FAIL %s: path too long\n", name);
        return false;
    }
    size_t len;
    char *text = read_file(path, &len);
    if (!text) {
        printf("FAIL %s: cannot read %s\n", name, path);
        return false;
    }
    dc_toml_error err;
    dc_toml_doc *doc = dc_toml_parse(text, len, &err);
    free(text);
    if (!doc) {
        printf("FAIL %s: rejected: line %d, column %d: %s\n", name, err.line, err.col,
               err.message);
        return false;
    }
    json_error_t jerr;
    json_t *want = load_expected(jpath, &jerr);
    if (!want) {
        printf("FAIL %s: cannot load %s: %s\n", name, jpath, jerr.text);
        dc_toml_free(doc);
        return false;
    }
    json_t *have = to_json(dc_toml_root(doc));
    bool ok = json_semantic_equal(want, have, "$", why, sizeof why);
    if (!ok) {
        char *dump = json_dumps(have, JSON_COMPACT | JSON_SORT_KEYS);
        printf("FAIL %s: %s\n     got: %.400s\n", name, why, dump ? dump : "?");
        free(dump);
    }
    json_decref(want);
    json_decref(have);
    dc_toml_free(doc);
    return ok;
}

/* Run one invalid case; true when the parser rejects it. */
static bool run_invalid(const char *dir, const char *name)
{
    char path[1024];
    if (snprintf(path, sizeof path, "%s/toml-test/%s", dir, name) >= (int)sizeof path) {
        printf("FAIL %s: path too long\n", name);
        return false;
    }
    size_t len;
    char *text = read_file(path, &len);
    if (!text) {
        printf("FAIL %s: cannot read %s\n", name, path);
        return false;
    }
    dc_toml_error err;
    dc_toml_doc *doc = dc_toml_parse(text, len, &err);
    free(text);
    if (doc) {
        printf("FAIL %s: accepted an invalid document\n", name);
        dc_toml_free(doc);
        return false;
    }
    if (err.message[0] == '\0') {
        printf("FAIL %s: rejected without an error message\n", name);
        return false;
    }
    return true;
}

static void test_conformance(void **state)
{
    (void)state;
    const char *dir = shared_dir();
    char list[1024];
    if (snprintf(list, sizeof list, "%s/toml-test/files-toml-1.0.0", dir) >= (int)sizeof list)
        fail_msg("DATACAVE_SHARED is too long");
    FILE *f = fopen(list, "r");
    if (!f)
        fail_msg("cannot open %s: %s (set DATACAVE_SHARED)", list, strerror(errno));
    char line[1024];
    int lines = 0, nvalid = 0, okvalid = 0, ninvalid = 0, okinvalid = 0, njson = 0;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = '\0';
        if (!line[0])
            continue;
        lines++;
        size_t l = strlen(line);
        if (l > 5 && strcmp(line + l - 5, ".json") == 0) {
            njson++; /* expected output of a valid case, used by run_valid */
            continue;
        }
        if (l <= 5 || strcmp(line + l - 5, ".toml") != 0) {
            printf("FAIL %s: unexpected entry in the case list\n", line);
            ninvalid++;
            continue;
        }
        if (strncmp(line, "valid/", 6) == 0) {
            nvalid++;
            okvalid += run_valid(dir, line);
        } else {
            ninvalid++;
            okinvalid += run_invalid(dir, line);
        }
    }
    fclose(f);
    int failed = (nvalid - okvalid) + (ninvalid - okinvalid);
    printf("toml-test 1.0.0: %d list entries (%d expected-output .json files); "
           "valid %d/%d decoded correctly, invalid %d/%d rejected; %d failed\n",
           lines, njson, okvalid, nvalid, okinvalid, ninvalid, failed);
    assert_true(nvalid > 0 && ninvalid > 0);
    assert_int_equal(failed, 0);
}

/* ------------------------------------------------------------------------
 * Error positions
 * ------------------------------------------------------------------------ */

/* Assert that `text` fails at line/col with a message containing `frag`. */
static void expect_error_n(const char *text, size_t len, int line, int col, const char *frag)
{
    dc_toml_error err;
    memset(&err, 0x55, sizeof err);
    dc_toml_doc *doc = dc_toml_parse(text, len, &err);
    if (doc) {
        dc_toml_free(doc);
        fail_msg("accepted: %s", text);
    }
    if (err.line != line || err.col != col || !strstr(err.message, frag))
        fail_msg("input %s: got line %d, column %d: %s; expected line %d, column %d: *%s*",
                 text, err.line, err.col, err.message, line, col, frag);
    assert_non_null(memchr(err.message, '\0', sizeof err.message));
}

/* Same as expect_error_n for a NUL-terminated input. */
static void expect_error(const char *text, int line, int col, const char *frag)
{
    expect_error_n(text, strlen(text), line, col, frag);
}

static void test_error_positions(void **state)
{
    (void)state;
    expect_error("[server]\nport = 5432\nhost \"x\"\n", 3, 6, "expected '=' after key");
    expect_error("a = 1\nb = 2\na = 3\n", 3, 1, "duplicate key 'a'");
    expect_error("x = \"ab\\qc\"\n", 1, 8, "invalid escape sequence '\\q'");
    /* columns count characters, not bytes: 'é' is two bytes */
    expect_error("s = \"h\xC3\xA9llo\" bad\n", 1, 13, "expected end of line after value");
    expect_error("# ok\n# bad\x01\n", 2, 6, "control character U+0001");
    expect_error("a = \"\xFF\"\n", 1, 6, "invalid UTF-8");
    expect_error("a = \"\xED\xA0\x80\"\n", 1, 6, "invalid UTF-8");     /* surrogate */
    expect_error("a = \"\xC0\xAF\"\n", 1, 6, "invalid UTF-8");         /* overlong */
    expect_error("[a]\nx = 1\n[a]\n", 3, 2, "table 'a' is already defined");
    expect_error("d = 2024-13-01\n", 1, 10, "month");
    expect_error("d = 2023-02-29\n", 1, 13, "day 29");
    expect_error("t = 24:00:00\n", 1, 5, "hour");
    expect_error("n = 9223372036854775808\n", 1, 5, "64 bits");
    expect_error("n = -9223372036854775809\n", 1, 5, "64 bits");
    expect_error("n = 0x8000000000000000\n", 1, 5, "64 bits");
    expect_error("a = 1\r\nb = @\r\n", 2, 5, "expected a value");
    expect_error("a = 1\rb = 2\n", 1, 6, "carriage return");
    expect_error("\xEF\xBB\xBF" "a = 1\nb = 01\n", 2, 5, "leading zeros");
    expect_error("a = { b = 1,\n c = 2 }\n", 1, 13, "one line");
    expect_error("a = {b = 1,}\n", 1, 12, "trailing comma");
    expect_error("a = [1, 2\n", 2, 1, "unterminated array");
    expect_error("s = \"abc\n", 1, 9, "unterminated string");
    expect_error("s = '''abc\n\n", 3, 1, "unterminated multi-line literal");
    expect_error("a = {x = 1}\n[a.b]\n", 2, 2, "inline table 'a'");
    expect_error("a = [1]\n[[a]]\n", 2, 3, "static array");
    expect_error("[a.b.c]\nz = 9\n[a]\nb.c.t = 1\n", 4, 3, "defined by a [table] header");
    expect_error("x = 1_\n", 1, 6, "'_'");
    expect_error("x = truee\n", 1, 5, "invalid value");
    expect_error("x = \"\\uD800\"\n", 1, 6, "not a Unicode scalar value");
    expect_error("x = 1979-05-27T07:32:00+24:00\n", 1, 24, "offset");
    expect_error("= 1\n", 1, 1, "expected a key");
    expect_error("key\n", 1, 4, "expected '=' after key, found newline");
    expect_error_n("a = \"x\0y\"", 9, 1, 7, "control character U+0000");
}

/* ------------------------------------------------------------------------
 * Nesting limits
 * ------------------------------------------------------------------------ */

/* "a = " + n times open + mid + n times close + newline. */
static char *nested(size_t n, const char *open, const char *mid, const char *close)
{
    size_t lo = strlen(open), lm = strlen(mid), lc = strlen(close);
    char *s = malloc(4 + n * (lo + lc) + lm + 2);
    assert_non_null(s);
    char *q = s;
    memcpy(q, "a = ", 4);
    q += 4;
    for (size_t i = 0; i < n; i++, q += lo)
        memcpy(q, open, lo);
    memcpy(q, mid, lm);
    q += lm;
    for (size_t i = 0; i < n; i++, q += lc)
        memcpy(q, close, lc);
    *q++ = '\n';
    *q = '\0';
    return s;
}

/* Depth of the deepest container below n (n itself counts as 1). */
static int max_depth(const dc_toml_node *n)
{
    int best = 0;
    if (n->type == DC_TOML_ARRAY)
        for (size_t i = 0; i < n->u.array.len; i++) {
            int d = max_depth(n->u.array.items[i]);
            best = d > best ? d : best;
        }
    else if (n->type == DC_TOML_TABLE)
        for (size_t i = 0; i < n->u.table.len; i++) {
            int d = max_depth(n->u.table.values[i]);
            best = d > best ? d : best;
        }
    else
        return 0;
    return best + 1;
}

static void test_deep_nesting(void **state)
{
    (void)state;
    dc_toml_error err;
    dc_toml_doc *doc;
    char *s;

    /* exactly the limit is fine, one more is refused */
    s = nested(DC_TOML_MAX_DEPTH, "[", "", "]");
    doc = parse_str(s, &err);
    assert_non_null(doc);
    assert_int_equal(max_depth(dc_toml_root(doc)), DC_TOML_MAX_DEPTH + 1);
    dc_toml_free(doc);
    free(s);
    s = nested(DC_TOML_MAX_DEPTH + 1, "[", "", "]");
    assert_null(parse_str(s, &err));
    assert_non_null(strstr(err.message, "nesting is too deep"));
    assert_int_equal(err.line, 1);
    assert_int_equal(err.col, 5 + DC_TOML_MAX_DEPTH);
    free(s);

    /* very deep input must not overflow the stack */
    s = nested(1000000, "[", "", "]");
    assert_null(parse_str(s, &err));
    free(s);
    s = nested(1000000, "{b=", "1", "}");
    assert_null(parse_str(s, &err));
    assert_non_null(strstr(err.message, "nesting is too deep"));
    free(s);
    s = nested(200000, "[{b=", "1", "}]");
    assert_null(parse_str(s, &err));
    free(s);
    s = nested(DC_TOML_MAX_DEPTH, "{b=", "1", "}");
    doc = parse_str(s, &err);
    assert_non_null(doc);
    dc_toml_free(doc);
    free(s);

    /* dotted keys and table headers count towards the same limit */
    size_t n = 100000;
    s = malloc(2 * n + 16);
    assert_non_null(s);
    for (size_t i = 0; i < n; i++)
        memcpy(s + 2 * i, "a.", 2);
    strcpy(s + 2 * n - 1, " = 1\n");
    assert_null(parse_str(s, &err));
    s[0] = '[';
    strcpy(s + 2 * n - 1, "]\n");
    assert_null(parse_str(s, &err));
    free(s);

    /* [h.h...] 100 deep, then a key of 29 components puts its last table at
       level 128 (fine); a 30th component or an array value exceeds it */
    char buf[2048];
    size_t o = 0;
    buf[o++] = '[';
    for (int i = 0; i < 100; i++)
        o += (size_t)sprintf(buf + o, "%sh", i ? "." : "");
    o += (size_t)sprintf(buf + o, "]\n");
    for (int i = 0; i < 29; i++)
        o += (size_t)sprintf(buf + o, "%sk", i ? "." : "");
    strcpy(buf + o, " = 1\n");
    doc = parse_str(buf, &err);
    assert_non_null(doc);
    assert_int_equal(max_depth(dc_toml_root(doc)), DC_TOML_MAX_DEPTH + 1);
    dc_toml_free(doc);
    strcpy(buf + o, ".k = 1\n");
    assert_null(parse_str(buf, &err));
    strcpy(buf + o, " = [1]\n");
    assert_null(parse_str(buf, &err));
}

/* ------------------------------------------------------------------------
 * Accessors
 * ------------------------------------------------------------------------ */

static void test_get_and_types(void **state)
{
    (void)state;
    const char *text =
        "title = \"Datacave\"\n"
        "port = 5432\n"
        "ratio = -0.5e-3\n"
        "on = true\n"
        "[server]\n"
        "  host.name = 'db1'\n"
        "  when = 1979-05-27 07:32:00.5z\n"
        "  local = 1979-05-27t07:32:00\n"
        "  day = 1979-05-27\n"
        "  at = 07:32:00\n"
        "[[replica]]\n"
        "name = \"r1\"\n"
        "[[replica]]\n"
        "name = \"r2\"\n"
        "\"nul\\u0000key\" = 1\n";
    dc_toml_error err;
    dc_toml_doc *doc = parse_str(text, &err);
    if (!doc)
        fail_msg("line %d, column %d: %s", err.line, err.col, err.message);
    const dc_toml_node *root = dc_toml_root(doc);
    assert_non_null(root);
    assert_int_equal(root->type, DC_TOML_TABLE);
    assert_int_equal(root->u.table.len, 6);

    const dc_toml_node *n = dc_toml_get(root, "title");
    assert_non_null(n);
    assert_int_equal(n->type, DC_TOML_STRING);
    assert_string_equal(n->u.str.ptr, "Datacave");
    assert_int_equal(n->u.str.len, 8);
    assert_int_equal(n->line, 1);
    assert_int_equal(n->col, 1);

    n = dc_toml_get(root, "port");
    assert_non_null(n);
    assert_int_equal(n->type, DC_TOML_INTEGER);
    assert_int_equal(n->u.integer, 5432);
    assert_int_equal(n->line, 2);

    n = dc_toml_get(root, "ratio");
    assert_non_null(n);
    assert_int_equal(n->type, DC_TOML_FLOAT);
    assert_true(n->u.flt == -0.5e-3);
    n = dc_toml_get(root, "on");
    assert_non_null(n);
    assert_int_equal(n->type, DC_TOML_BOOL);
    assert_true(n->u.boolean);

    const dc_toml_node *server = dc_toml_get(root, "server");
    assert_non_null(server);
    assert_int_equal(server->type, DC_TOML_TABLE);
    assert_int_equal(server->line, 5);
    assert_int_equal(server->col, 2);
    const dc_toml_node *host = dc_toml_get(server, "host");
    assert_non_null(host);
    assert_int_equal(host->type, DC_TOML_TABLE);
    n = dc_toml_get(host, "name");
    assert_non_null(n);
    assert_string_equal(n->u.str.ptr, "db1");
    assert_int_equal(n->line, 6);
    assert_int_equal(n->col, 3);

    n = dc_toml_get(server, "when");
    assert_non_null(n);
    assert_int_equal(n->type, DC_TOML_DATETIME);
    assert_string_equal(n->u.datetime, "1979-05-27T07:32:00.5Z");
    n = dc_toml_get(server, "local");
    assert_non_null(n);
    assert_int_equal(n->type, DC_TOML_DATETIME_LOCAL);
    assert_string_equal(n->u.datetime, "1979-05-27T07:32:00");
    n = dc_toml_get(server, "day");
    assert_non_null(n);
    assert_int_equal(n->type, DC_TOML_DATE_LOCAL);
    assert_string_equal(n->u.datetime, "1979-05-27");
    n = dc_toml_get(server, "at");
    assert_non_null(n);
    assert_int_equal(n->type, DC_TOML_TIME_LOCAL);
    assert_string_equal(n->u.datetime, "07:32:00");

    const dc_toml_node *rep = dc_toml_get(root, "replica");
    assert_non_null(rep);
    assert_int_equal(rep->type, DC_TOML_ARRAY);
    assert_int_equal(rep->u.array.len, 2);
    n = dc_toml_get(rep->u.array.items[1], "name");
    assert_non_null(n);
    assert_string_equal(n->u.str.ptr, "r2");
    assert_int_equal(n->line, 14);

    /* a key with a NUL byte: found by position, length via dc_toml_key_len */
    const dc_toml_node *r2 = rep->u.array.items[1];
    assert_int_equal(r2->u.table.len, 2);
    assert_int_equal(dc_toml_key_len(r2, 1), 7);
    assert_memory_equal(r2->u.table.keys[1], "nul\0key", 8);
    assert_null(dc_toml_get(r2, "nul"));
    assert_int_equal(dc_toml_key_len(r2, 2), 0);
    assert_int_equal(dc_toml_key_len(rep, 0), 0);

    /* absent keys, non-tables, NULL */
    assert_null(dc_toml_get(root, "missing"));
    assert_null(dc_toml_get(root, ""));
    assert_null(dc_toml_get(rep, "name"));
    assert_null(dc_toml_get(dc_toml_get(root, "port"), "x"));
    assert_null(dc_toml_get(NULL, "x"));
    assert_null(dc_toml_get(root, NULL));
    dc_toml_free(doc);
    dc_toml_free(NULL);

    assert_string_equal(dc_toml_type_name(DC_TOML_STRING), "string");
    assert_string_equal(dc_toml_type_name(DC_TOML_INTEGER), "integer");
    assert_string_equal(dc_toml_type_name(DC_TOML_FLOAT), "float");
    assert_string_equal(dc_toml_type_name(DC_TOML_BOOL), "boolean");
    assert_string_equal(dc_toml_type_name(DC_TOML_DATETIME), "offset date-time");
    assert_string_equal(dc_toml_type_name(DC_TOML_DATETIME_LOCAL), "local date-time");
    assert_string_equal(dc_toml_type_name(DC_TOML_DATE_LOCAL), "local date");
    assert_string_equal(dc_toml_type_name(DC_TOML_TIME_LOCAL), "local time");
    assert_string_equal(dc_toml_type_name(DC_TOML_ARRAY), "array");
    assert_string_equal(dc_toml_type_name(DC_TOML_TABLE), "table");
}

static void test_large_table(void **state)
{
    (void)state;
    /* enough keys to exercise the hash index, plus a duplicate at the end */
    size_t nkeys = 5000;
    char *s = malloc(nkeys * 24 + 64);
    assert_non_null(s);
    size_t o = 0;
    for (size_t i = 0; i < nkeys; i++)
        o += (size_t)sprintf(s + o, "k%zu = %zu\n", i, i);
    dc_toml_error err;
    dc_toml_doc *doc = dc_toml_parse(s, o, &err);
    assert_non_null(doc);
    const dc_toml_node *root = dc_toml_root(doc);
    assert_int_equal(root->u.table.len, nkeys);
    for (size_t i = 0; i < nkeys; i += 97) {
        char k[32];
        sprintf(k, "k%zu", i);
        const dc_toml_node *n = dc_toml_get(root, k);
        assert_non_null(n);
        assert_int_equal(n->u.integer, (int64_t)i);
    }
    assert_null(dc_toml_get(root, "k5000"));
    dc_toml_free(doc);
    o += (size_t)sprintf(s + o, "k4321 = 0\n");
    assert_null(dc_toml_parse(s, o, &err));
    assert_int_equal(err.line, (int)nkeys + 1);
    assert_int_equal(err.col, 1);
    assert_non_null(strstr(err.message, "duplicate key 'k4321'"));
    free(s);
}

static void test_not_nul_terminated(void **state)
{
    (void)state;
    /* exact-size heap copies: ASan catches any read past the end */
    /* the first five are valid, the rest stop in the middle of a token */
    const char *cases[] = {"a = 1", "# c", "a = 1979-05-27", "a = 07:32:00", "[a]",
                           "a = tru", "a = 1979-05-27T07:32", "a = \"x", "a = '''x''",
                           "a = 0x", "a = 1e", "[a", "a = [1,", "a = \"\\u12",
                           "a = 1979-05-27 07:3", "a = 07:32:0", "a=\"\xE2\x82", "a",
                           "a = +in", "a = {b=1", "a = '''x\\", "a = \"\"\"x\\ "};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t len = strlen(cases[i]);
        char *buf = malloc(len);
        assert_non_null(buf);
        memcpy(buf, cases[i], len);
        dc_toml_error err;
        dc_toml_doc *doc = dc_toml_parse(buf, len, &err);
        free(buf);
        if (i < 5) {
            if (!doc)
                fail_msg("rejected '%s': %s", cases[i], err.message);
            if (i == 0)
                assert_int_equal(dc_toml_get(dc_toml_root(doc), "a")->u.integer, 1);
            dc_toml_free(doc);
        } else {
            if (doc) {
                dc_toml_free(doc);
                fail_msg("accepted '%s'", cases[i]);
            }
            assert_int_equal(err.line, 1);
        }
    }
    dc_toml_error err;
    dc_toml_doc *doc = dc_toml_parse(NULL, 0, &err);
    assert_non_null(doc);
    assert_int_equal(dc_toml_root(doc)->u.table.len, 0);
    dc_toml_free(doc);
}

static void test_parse_file(void **state)
{
    (void)state;
    dc_toml_error err;
    assert_null(dc_toml_parse_file("/nonexistent/datacave.toml", &err));
    assert_int_equal(err.line, 0);
    assert_non_null(strstr(err.message, "/nonexistent/datacave.toml"));
    assert_non_null(strstr(err.message, strerror(ENOENT)));

    char path[1024];
    if (snprintf(path, sizeof path, "%s/toml-test/valid/example.toml", shared_dir()) >=
        (int)sizeof path)
        fail_msg("DATACAVE_SHARED is too long");
    dc_toml_doc *doc = dc_toml_parse_file(path, &err);
    if (!doc)
        fail_msg("%s: line %d, column %d: %s", path, err.line, err.col, err.message);
    assert_non_null(dc_toml_get(dc_toml_root(doc), "best-day-ever"));
    dc_toml_free(doc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conformance),
        cmocka_unit_test(test_error_positions),
        cmocka_unit_test(test_deep_nesting),
        cmocka_unit_test(test_get_and_types),
        cmocka_unit_test(test_large_table),
        cmocka_unit_test(test_not_nul_terminated),
        cmocka_unit_test(test_parse_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
