/*
 * test_lsm_version.c - versions, edits and the manifest of the lsm engine:
 * edit encoding (round trip, every truncation, random damage), recovery
 * after reopen, torn tails, corruption naming the manifest, rotation,
 * live files of pinned versions, and compaction picking.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <dirent.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lsm/format.h"
#include "lsm/version.h"
#include "lsm/wal.h"
#include "lsm_testutil.h"

/* The test hook of version.c (not part of version.h). */
void lsm_vset_test_set_manifest_limit(lsm_vset *vs, uint64_t bytes);

/* ---- helpers ------------------------------------------------------------- */

/* Internal key for user key `k` (a C string) at seq. */
static size_t ikey(uint8_t *buf, const char *k, uint64_t seq)
{
    size_t n = strlen(k);
    memcpy(buf, k, n);
    lsm_put_fixed64(buf + n, lsm_pack_trailer(seq, LSM_TYPE_PUT));
    return n + LSM_TRAILER_SIZE;
}

static void add(lsm_edit *e, int level, uint64_t number, uint64_t size,
                const char *lo, const char *hi)
{
    uint8_t *s = malloc(strlen(lo) + LSM_TRAILER_SIZE);
    uint8_t *l = malloc(strlen(hi) + LSM_TRAILER_SIZE);
    assert_true(s != NULL && l != NULL);
    size_t sl = ikey(s, lo, 100), ll = ikey(l, hi, 1);
    assert_int_equal(lsm_edit_add_file(e, level, number, size, number * 10,
                                       s, sl, l, ll),
                     0);
    free(s);
    free(l);
}

static void rm_rf(const char *path)
{
    DIR *d = opendir(path);
    if (d == NULL) {
        unlink(path);
        return;
    }
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        char p[PATH_MAX];
        snprintf(p, sizeof p, "%s/%s", path, de->d_name);
        rm_rf(p);
    }
    closedir(d);
    rmdir(path);
}

static lsm_vset *open_vs(const char *dir, bool create)
{
    lsm_vset_options o = {.dir = dir, .create_if_missing = create};
    dc_error err;
    dc_error_init(&err);
    lsm_vset *vs = NULL;
    int rc = lsm_vset_open(&o, &vs, &err);
    if (rc != 0)
        fail_msg("lsm_vset_open: %d %s", rc, err.message);
    return vs;
}

static int open_vs_rc(const char *dir, bool create, dc_error *err)
{
    lsm_vset_options o = {.dir = dir, .create_if_missing = create};
    dc_error_init(err);
    lsm_vset *vs = NULL;
    int rc = lsm_vset_open(&o, &vs, err);
    if (rc == 0)
        lsm_vset_close(vs);
    return rc;
}

static void apply(lsm_vset *vs, lsm_edit *e)
{
    dc_error err;
    dc_error_init(&err);
    int rc = lsm_vset_apply(vs, e, &err);
    if (rc != 0)
        fail_msg("lsm_vset_apply: %d %s", rc, err.message);
    lsm_edit_free(e);
}

/* Segment numbers of the manifest directory, ascending; returns count. */
static size_t manifest_segments(const char *dir, uint64_t *segs, size_t cap)
{
    char md[PATH_MAX];
    snprintf(md, sizeof md, "%s/manifest", dir);
    DIR *d = opendir(md);
    assert_non_null(d);
    size_t n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        unsigned long long s;
        if (sscanf(de->d_name, "wal-%16llu.log", &s) == 1 && n < cap)
            segs[n++] = s;
    }
    closedir(d);
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && segs[j - 1] > segs[j]; j--) {
            uint64_t t = segs[j];
            segs[j] = segs[j - 1];
            segs[j - 1] = t;
        }
    return n;
}

static void newest_segment_path(const char *dir, char *buf, size_t cap)
{
    uint64_t segs[64];
    size_t n = manifest_segments(dir, segs, 64);
    assert_true(n >= 1);
    char name[40];
    lsm_wal_file_name(segs[n - 1], name, sizeof name);
    int w = snprintf(buf, cap, "%s/manifest/%s", dir, name);
    assert_true(w > 0 && (size_t)w < cap);
}

static void assert_files_equal(const lsm_file *a, const lsm_file *b)
{
    assert_int_equal(a->number, b->number);
    assert_int_equal(a->size, b->size);
    assert_int_equal(a->entries, b->entries);
    assert_int_equal(a->smallest_len, b->smallest_len);
    assert_int_equal(a->largest_len, b->largest_len);
    assert_memory_equal(a->smallest, b->smallest, a->smallest_len);
    assert_memory_equal(a->largest, b->largest, a->largest_len);
}

static void assert_versions_equal(const lsm_version *a, const lsm_version *b)
{
    for (int l = 0; l < LSM_LEVELS; l++) {
        assert_int_equal(a->nfiles[l], b->nfiles[l]);
        assert_int_equal(a->level_bytes[l], b->level_bytes[l]);
        for (size_t i = 0; i < a->nfiles[l]; i++)
            assert_files_equal(a->files[l][i], b->files[l][i]);
    }
}

/* "n1,n2,..." of a level, for compact assertions. */
static const char *level_str(const lsm_version *v, int l)
{
    static char buf[1024];
    size_t o = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < v->nfiles[l]; i++)
        o += (size_t)snprintf(buf + o, sizeof buf - o, "%s%" PRIu64,
                              i ? "," : "", v->files[l][i]->number);
    return buf;
}

static const char *inputs_str(const lsm_compaction *c, int w)
{
    static char buf[2][1024];
    size_t o = 0;
    buf[w][0] = '\0';
    for (size_t i = 0; i < c->ninputs[w]; i++)
        o += (size_t)snprintf(buf[w] + o, sizeof buf[w] - o, "%s%" PRIu64,
                              i ? "," : "", c->inputs[w][i]->number);
    return buf[w];
}

/* ---- edits --------------------------------------------------------------- */

static void sample_edit(lsm_edit *e)
{
    lsm_edit_init(e);
    e->has_log_number = true;
    e->log_number = 77;
    e->has_next_file = true;
    e->next_file = 1234567;
    e->has_last_seq = true;
    e->last_seq = UINT64_C(1) << 50;
    add(e, 0, 10, 4096, "apple", "banana");
    add(e, 3, 11, 1 << 20, "cherry", "date");
    add(e, 6, 300, 0, "", "zzzzzz");
    assert_int_equal(lsm_edit_delete_file(e, 1, 5), 0);
    assert_int_equal(lsm_edit_delete_file(e, 6, UINT64_MAX), 0);
}

static void assert_edits_equal(const lsm_edit *a, const lsm_edit *b)
{
    assert_int_equal(a->has_log_number, b->has_log_number);
    assert_int_equal(a->has_next_file, b->has_next_file);
    assert_int_equal(a->has_last_seq, b->has_last_seq);
    if (a->has_log_number)
        assert_int_equal(a->log_number, b->log_number);
    if (a->has_next_file)
        assert_int_equal(a->next_file, b->next_file);
    if (a->has_last_seq)
        assert_int_equal(a->last_seq, b->last_seq);
    assert_int_equal(a->nadded, b->nadded);
    assert_int_equal(a->ndeleted, b->ndeleted);
    for (size_t i = 0; i < a->nadded; i++) {
        const lsm_edit_file *x = &a->added[i], *y = &b->added[i];
        assert_int_equal(x->level, y->level);
        assert_int_equal(x->number, y->number);
        assert_int_equal(x->size, y->size);
        assert_int_equal(x->entries, y->entries);
        assert_int_equal(x->smallest_len, y->smallest_len);
        assert_int_equal(x->largest_len, y->largest_len);
        assert_memory_equal(x->smallest, y->smallest, x->smallest_len);
        assert_memory_equal(x->largest, y->largest, x->largest_len);
    }
    for (size_t i = 0; i < a->ndeleted; i++) {
        assert_int_equal(a->deleted[i].level, b->deleted[i].level);
        assert_int_equal(a->deleted[i].number, b->deleted[i].number);
    }
}

static void test_edit_round_trip(void **state)
{
    (void)state;
    lsm_edit e, d;
    sample_edit(&e);
    uint8_t *buf;
    size_t len;
    assert_int_equal(lsm_edit_encode(&e, &buf, &len), 0);
    dc_error err;
    dc_error_init(&err);
    assert_int_equal(lsm_edit_decode(buf, len, &d, &err), 0);
    assert_edits_equal(&e, &d);
    uint8_t *buf2;
    size_t len2;
    assert_int_equal(lsm_edit_encode(&d, &buf2, &len2), 0);
    assert_int_equal(len, len2);
    assert_memory_equal(buf, buf2, len);
    free(buf2);
    lsm_edit_free(&d);

    /* The empty edit encodes to nothing and decodes back. */
    lsm_edit empty;
    lsm_edit_init(&empty);
    assert_int_equal(lsm_edit_encode(&empty, &buf2, &len2), 0);
    assert_int_equal(len2, 0);
    assert_int_equal(lsm_edit_decode(buf2, 0, &d, &err), 0);
    assert_int_equal(d.nadded + d.ndeleted, 0);
    assert_false(d.has_log_number || d.has_next_file || d.has_last_seq);
    free(buf2);

    /* Every truncation either stops at a field boundary (and then decodes
     * to exactly the prefix) or is corruption; the last byte always
     * matters. */
    size_t rejected = 0;
    for (size_t n = 0; n < len; n++) {
        uint8_t *p = malloc(n ? n : 1); /* exact size for ASan */
        memcpy(p, buf, n);
        dc_error_init(&err);
        int rc = lsm_edit_decode(p, n, &d, &err);
        if (rc == 0) {
            assert_int_equal(lsm_edit_encode(&d, &buf2, &len2), 0);
            assert_int_equal(len2, n);
            assert_memory_equal(buf2, buf, n);
            free(buf2);
            lsm_edit_free(&d);
        } else {
            assert_int_equal(rc, DC_ECORRUPT);
            assert_string_equal(err.sqlstate, "XX001");
            assert_int_equal(d.nadded + d.ndeleted, 0);
            rejected++;
        }
        free(p);
    }
    assert_true(rejected > len / 2);
    dc_error_init(&err);
    assert_int_equal(lsm_edit_decode(buf, len - 1, &d, &err), DC_ECORRUPT);

    /* Random damage never crashes and never yields invalid files. */
    srand(42);
    for (int it = 0; it < 20000; it++) {
        uint8_t *p = malloc(len);
        memcpy(p, buf, len);
        int flips = 1 + rand() % 4;
        for (int f = 0; f < flips; f++)
            p[rand() % len] ^= (uint8_t)(1 + rand() % 255);
        size_t n = (it % 3 == 0) ? (size_t)rand() % (len + 1) : len;
        dc_error_init(&err);
        int rc = lsm_edit_decode(p, n, &d, &err);
        assert_true(rc == 0 || rc == DC_ECORRUPT);
        if (rc == 0) {
            for (size_t i = 0; i < d.nadded; i++) {
                assert_true(d.added[i].level >= 0 &&
                            d.added[i].level < LSM_LEVELS);
                assert_true(d.added[i].smallest_len >= LSM_TRAILER_SIZE);
            }
            lsm_edit_free(&d);
        }
        free(p);
    }
    free(buf);
    lsm_edit_free(&e);
}

static void test_edit_invalid(void **state)
{
    (void)state;
    lsm_edit e;
    lsm_edit_init(&e);
    uint8_t k[16], k2[16];
    size_t kl = ikey(k, "b", 1), kl2 = ikey(k2, "a", 1);
    assert_int_equal(lsm_edit_add_file(&e, LSM_LEVELS, 1, 1, 1, k, kl, k, kl),
                     DC_EINVAL);
    assert_int_equal(lsm_edit_add_file(&e, -1, 1, 1, 1, k, kl, k, kl),
                     DC_EINVAL);
    assert_int_equal(lsm_edit_add_file(&e, 0, 1, 1, 1, k, 7, k, kl),
                     DC_EINVAL);
    /* smallest > largest */
    assert_int_equal(lsm_edit_add_file(&e, 0, 1, 1, 1, k, kl, k2, kl2),
                     DC_EINVAL);
    assert_int_equal(lsm_edit_delete_file(&e, LSM_LEVELS, 1), DC_EINVAL);
    assert_int_equal(e.nadded + e.ndeleted, 0);

    dc_error err;
    lsm_edit d;
    struct {
        const char *name;
        uint8_t b[32];
        size_t n;
    } cases[] = {
        {"unknown tag", {99, 1}, 2},
        {"deleted level out of range", {4, 7, 1}, 3},
        {"added level out of range", {5, 9, 1, 1, 1, 8, 0, 0, 0, 0, 0, 0, 0, 0,
                                      8, 0, 0, 0, 0, 0, 0, 0, 0},
         23},
        {"key length past the end", {5, 0, 1, 1, 1, 100, 0}, 7},
        {"huge key length", {5, 0, 1, 1, 1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                             0xff, 0xff, 0xff, 0x01},
         15},
        {"key shorter than a trailer", {5, 0, 1, 1, 1, 1, 'a', 1, 'a'}, 9},
        {"overlong varint", {1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                             0xff, 0xff, 0x01},
         12},
        {"truncated varint", {2, 0x80}, 2},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        dc_error_init(&err);
        int rc = lsm_edit_decode(cases[i].b, cases[i].n, &d, &err);
        if (rc != DC_ECORRUPT)
            fail_msg("%s: rc %d", cases[i].name, rc);
        assert_string_equal(err.sqlstate, "XX001");
        assert_non_null(strstr(err.message, "corrupt"));
    }
}

/* ---- the version set ----------------------------------------------------- */

static void test_vset_create_reopen(void **state)
{
    (void)state;
    char *dir = make_dir();
    dc_error err;
    assert_int_equal(open_vs_rc(dir, false, &err), DC_ENOTFOUND);

    lsm_vset *vs = open_vs(dir, true);
    lsm_version *v = lsm_vset_current(vs);
    for (int l = 0; l < LSM_LEVELS; l++)
        assert_int_equal(v->nfiles[l], 0);
    lsm_version_unref(v);
    assert_int_equal(lsm_vset_last_seq(vs), 0);
    assert_int_equal(lsm_vset_log_number(vs), 0);
    uint64_t f1 = lsm_vset_new_file_number(vs);
    assert_int_equal(lsm_vset_new_file_number(vs), f1 + 1);

    lsm_edit e;
    lsm_edit_init(&e);
    add(&e, 0, 10, 100, "a", "m");
    add(&e, 0, 12, 100, "c", "z");
    add(&e, 0, 11, 100, "b", "d");
    add(&e, 1, 20, 1000, "m", "p");
    add(&e, 1, 21, 1000, "a", "c");
    add(&e, 2, 30, 5000, "a", "z");
    e.has_log_number = true;
    e.log_number = 5;
    lsm_vset_set_last_seq(vs, 1000);
    apply(vs, &e);
    v = lsm_vset_current(vs);
    assert_string_equal(level_str(v, 0), "12,11,10");
    assert_string_equal(level_str(v, 1), "21,20");
    assert_int_equal(v->level_bytes[1], 2000);
    lsm_version_unref(v);

    /* Compaction-like: L0 10,11 into L1 with 21 removed. */
    lsm_edit_init(&e);
    assert_int_equal(lsm_edit_delete_file(&e, 0, 10), 0);
    assert_int_equal(lsm_edit_delete_file(&e, 0, 11), 0);
    assert_int_equal(lsm_edit_delete_file(&e, 1, 21), 0);
    add(&e, 1, 40, 700, "a", "b");
    add(&e, 1, 41, 700, "ba", "l");
    add(&e, 4, 42, 9, "q", "r");
    lsm_vset_set_last_seq(vs, 2000);
    apply(vs, &e);

    /* An invalid edit changes nothing. */
    lsm_edit_init(&e);
    assert_int_equal(lsm_edit_delete_file(&e, 0, 999), 0);
    add(&e, 5, 50, 1, "a", "b");
    dc_error_init(&err);
    assert_int_equal(lsm_vset_apply(vs, &e, &err), DC_EINVAL);
    assert_non_null(strstr(err.message, "999"));
    assert_false(e.has_next_file);
    lsm_edit_free(&e);
    lsm_edit_init(&e);
    add(&e, 3, 12, 1, "a", "b"); /* 12 is already in L0 */
    assert_int_equal(lsm_vset_apply(vs, &e, &err), DC_EINVAL);
    lsm_edit_free(&e);
    lsm_edit_init(&e);
    add(&e, 1, 60, 1, "o", "o"); /* overlaps 20 (m..p) in L1 */
    assert_int_equal(lsm_vset_apply(vs, &e, &err), DC_EINVAL);
    lsm_edit_free(&e);

    lsm_version *before = lsm_vset_current(vs);
    assert_string_equal(level_str(before, 0), "12");
    assert_string_equal(level_str(before, 1), "40,41,20");
    assert_string_equal(level_str(before, 4), "42");
    uint64_t next = lsm_vset_new_file_number(vs) + 1;
    /* The reopen must not hand out a number at or below one in use. */
    lsm_vset_close(vs);

    vs = open_vs(dir, false);
    v = lsm_vset_current(vs);
    assert_versions_equal(before, v);
    lsm_version_unref(v);
    lsm_version_unref(before);
    assert_int_equal(lsm_vset_last_seq(vs), 2000);
    assert_int_equal(lsm_vset_log_number(vs), 5);
    assert_true(lsm_vset_new_file_number(vs) >= next - 1);
    lsm_vset_close(vs);

    /* Reopen leaves one manifest segment. */
    uint64_t segs[8];
    assert_int_equal(manifest_segments(dir, segs, 8), 1);
    rm_rf(dir);
    free(dir);
}

/* Three edits; returns the version after the first two (caller unrefs). */
static lsm_version *three_edits(const char *dir, lsm_version **after3)
{
    lsm_vset *vs = open_vs(dir, true);
    lsm_edit e;
    lsm_edit_init(&e);
    add(&e, 0, 1, 10, "a", "b");
    apply(vs, &e);
    lsm_edit_init(&e);
    add(&e, 1, 2, 10, "c", "d");
    apply(vs, &e);
    lsm_version *v2 = lsm_vset_current(vs);
    lsm_edit_init(&e);
    add(&e, 2, 3, 10, "e", "f");
    assert_int_equal(lsm_edit_delete_file(&e, 0, 1), 0);
    apply(vs, &e);
    *after3 = lsm_vset_current(vs);
    lsm_vset_close(vs);
    return v2;
}

static void test_vset_torn_tail(void **state)
{
    (void)state;
    char *dir = make_dir();
    lsm_version *v3;
    lsm_version *v2 = three_edits(dir, &v3);
    char path[PATH_MAX];
    newest_segment_path(dir, path, sizeof path);
    off_t size = file_size(path);
    /* Cut anywhere inside the last record (it is at least 8 + 2 bytes). */
    for (off_t cut = 1; cut <= 9; cut++) {
        size_t len;
        uint8_t *b = read_file(path, &len);
        char copy[PATH_MAX];
        snprintf(copy, sizeof copy, "%s.orig", dir);
        write_file(copy, b, len);
        assert_int_equal(truncate(path, size - cut), 0);
        lsm_vset *vs = open_vs(dir, false);
        lsm_version *v = lsm_vset_current(vs);
        assert_versions_equal(v2, v);
        lsm_version_unref(v);
        lsm_vset_close(vs);
        /* Reopen moved to a new segment: put the original back alone. */
        rm_rf(dir);
        assert_int_equal(mkdir(dir, 0777), 0);
        char md[PATH_MAX];
        snprintf(md, sizeof md, "%s/manifest", dir);
        assert_int_equal(mkdir(md, 0777), 0);
        write_file(path, b, len);
        unlink(copy);
        free(b);
    }
    /* Untouched: all three edits. */
    lsm_vset *vs = open_vs(dir, false);
    lsm_version *v = lsm_vset_current(vs);
    assert_versions_equal(v3, v);
    lsm_version_unref(v);
    lsm_vset_close(vs);
    lsm_version_unref(v2);
    lsm_version_unref(v3);
    rm_rf(dir);
    free(dir);
}

static void test_vset_corrupt_middle(void **state)
{
    (void)state;
    char *dir = make_dir();
    lsm_version *v3;
    lsm_version *v2 = three_edits(dir, &v3);
    lsm_version_unref(v2);
    lsm_version_unref(v3);
    char path[PATH_MAX];
    newest_segment_path(dir, path, sizeof path);
    size_t len;
    uint8_t *b = read_file(path, &len);
    /* The first record (the snapshot) starts after the 32-byte header;
     * damage its payload. */
    b[LSM_WAL_HEADER_SIZE + LSM_WAL_RECORD_HEADER_SIZE] ^= 0x5a;
    write_file(path, b, len);
    free(b);
    dc_error err;
    assert_int_equal(open_vs_rc(dir, false, &err), DC_ECORRUPT);
    assert_string_equal(err.sqlstate, "XX001");
    assert_non_null(strstr(err.message, "manifest"));
    assert_non_null(strstr(err.message, strrchr(path, '/') + 1));
    rm_rf(dir);
    free(dir);
}

/* A whole, CRC-valid record that is inconsistent with the version. */
static void test_vset_inconsistent_edit(void **state)
{
    (void)state;
    char *dir = make_dir();
    lsm_version *v3;
    lsm_version *v2 = three_edits(dir, &v3);
    lsm_version_unref(v2);
    lsm_version_unref(v3);
    uint64_t segs[8];
    assert_int_equal(manifest_segments(dir, segs, 8), 1);
    char md[PATH_MAX];
    snprintf(md, sizeof md, "%s/manifest", dir);
    lsm_wal_options wo = {.dir = md};
    dc_error err;
    dc_error_init(&err);

    struct {
        int level;
        uint64_t number;
        bool add;
        const char *want;
    } cases[] = {{0, 1, false, "deletes file 1"},
                 {1, 3, false, "deletes file 3"},
                 {3, 2, true, "adds file 2"}};
    for (size_t i = 0; i < 3; i++) {
        lsm_wal *w;
        assert_int_equal(lsm_wal_open(&wo, segs[0] + 1 + i, &w, &err), 0);
        lsm_edit e;
        lsm_edit_init(&e);
        if (cases[i].add)
            add(&e, cases[i].level, cases[i].number, 1, "x", "y");
        else
            assert_int_equal(
                lsm_edit_delete_file(&e, cases[i].level, cases[i].number), 0);
        uint8_t *buf;
        size_t len;
        assert_int_equal(lsm_edit_encode(&e, &buf, &len), 0);
        assert_int_equal(lsm_wal_append(w, buf, len, true, &err), 0);
        lsm_wal_close(w);
        free(buf);
        lsm_edit_free(&e);
        assert_int_equal(open_vs_rc(dir, false, &err), DC_ECORRUPT);
        assert_string_equal(err.sqlstate, "XX001");
        assert_non_null(strstr(err.message, "manifest"));
        char name[40];
        lsm_wal_file_name(segs[0] + 1 + i, name, sizeof name);
        assert_non_null(strstr(err.message, name));
        if (strstr(err.message, cases[i].want) == NULL)
            fail_msg("message: %s", err.message);
        char p[PATH_MAX + 64];
        snprintf(p, sizeof p, "%s/%s", md, name);
        unlink(p);
    }
    /* Without the bad segments it opens again. */
    assert_int_equal(open_vs_rc(dir, false, &err), 0);
    rm_rf(dir);
    free(dir);
}

static void rotation_run(bool hook)
{
    char *dir = make_dir();
    lsm_vset *vs = open_vs(dir, true);
    if (hook)
        lsm_vset_test_set_manifest_limit(vs, 4096);
    uint64_t first[8];
    assert_int_equal(manifest_segments(dir, first, 8), 1);
    /* Keys of 2 KiB without the hook: 4 MiB of manifest in ~1000 edits. */
    size_t klen = hook ? 20 : 2000;
    char *lo = malloc(klen + 16), *hi = malloc(klen + 16);
    int nedits = hook ? 300 : 1200;
    uint64_t num = 100;
    for (int i = 0; i < nedits; i++) {
        lsm_edit e;
        lsm_edit_init(&e);
        memset(lo, 'k', klen);
        memset(hi, 'k', klen);
        snprintf(lo + klen, 16, "%08d0", i);
        snprintf(hi + klen, 16, "%08d1", i);
        add(&e, 1 + i % 5, num++, 10, lo, hi);
        if (i >= 20) /* keep the version small: drop an old file */
            assert_int_equal(lsm_edit_delete_file(&e, 1 + (i - 20) % 5,
                                                  num - 21),
                             0);
        lsm_vset_set_last_seq(vs, (uint64_t)i);
        apply(vs, &e);
    }
    lsm_version *before = lsm_vset_current(vs);
    uint64_t segs[8];
    size_t n = manifest_segments(dir, segs, 8);
    assert_int_equal(n, 1);
    assert_true(segs[0] > first[0]); /* rotated at least once */
    lsm_vset_close(vs);

    vs = open_vs(dir, false);
    lsm_version *v = lsm_vset_current(vs);
    assert_versions_equal(before, v);
    assert_int_equal(lsm_vset_last_seq(vs), (uint64_t)nedits - 1);
    lsm_version_unref(v);
    lsm_version_unref(before);
    lsm_vset_close(vs);
    free(lo);
    free(hi);
    rm_rf(dir);
    free(dir);
}

static void test_vset_rotation(void **state)
{
    (void)state;
    rotation_run(true);
    rotation_run(false);
}

/* A crash after a rotation wrote its snapshot but before it removed the
 * older segments: recovery reads both and the snapshot resets the state. */
static void test_vset_snapshot_with_old_segments(void **state)
{
    (void)state;
    char *dir = make_dir();
    lsm_version *v3;
    lsm_version *v2 = three_edits(dir, &v3);
    char path[PATH_MAX];
    newest_segment_path(dir, path, sizeof path);
    size_t len;
    uint8_t *old = read_file(path, &len);
    /* Reopen: writes a new segment with a snapshot, removes the old one. */
    lsm_vset *vs = open_vs(dir, false);
    lsm_vset_close(vs);
    assert_int_equal(access(path, F_OK), -1);
    write_file(path, old, len); /* the old segment is back */
    free(old);
    uint64_t segs[8];
    assert_int_equal(manifest_segments(dir, segs, 8), 2);
    vs = open_vs(dir, false);
    lsm_version *v = lsm_vset_current(vs);
    assert_versions_equal(v3, v);
    lsm_version_unref(v);
    lsm_vset_close(vs);
    assert_int_equal(manifest_segments(dir, segs, 8), 1);
    lsm_version_unref(v2);
    lsm_version_unref(v3);
    rm_rf(dir);
    free(dir);
}

/* ---- live files ---------------------------------------------------------- */

typedef struct numset {
    uint64_t n[64];
    size_t count;
} numset;

static void collect(void *ud, uint64_t number)
{
    numset *s = ud;
    assert_true(s->count < 64);
    s->n[s->count++] = number;
}

static const char *live_str(lsm_vset *vs)
{
    static char buf[512];
    numset s = {.count = 0};
    lsm_vset_live_files(vs, collect, &s);
    size_t o = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < s.count; i++)
        o += (size_t)snprintf(buf + o, sizeof buf - o, "%s%" PRIu64,
                              i ? "," : "", s.n[i]);
    return buf;
}

static void test_vset_live_files(void **state)
{
    (void)state;
    char *dir = make_dir();
    lsm_vset *vs = open_vs(dir, true);
    assert_string_equal(live_str(vs), "");
    lsm_edit e;
    lsm_edit_init(&e);
    add(&e, 0, 1, 10, "a", "b");
    add(&e, 0, 2, 10, "a", "b");
    apply(vs, &e);
    lsm_version *pinned = lsm_vset_current(vs);
    lsm_edit_init(&e);
    assert_int_equal(lsm_edit_delete_file(&e, 0, 1), 0);
    add(&e, 1, 3, 10, "a", "b");
    apply(vs, &e);
    lsm_version *pinned2 = lsm_vset_current(vs);
    lsm_edit_init(&e);
    assert_int_equal(lsm_edit_delete_file(&e, 0, 2), 0);
    apply(vs, &e);
    assert_string_equal(live_str(vs), "1,2,3");
    /* The pinned version still lists file 1, still readable. */
    assert_int_equal(pinned->nfiles[0], 2);
    assert_int_equal(pinned->files[0][1]->number, 1);
    assert_int_equal(atomic_load(&pinned->files[0][1]->refs), 1);
    assert_int_equal(atomic_load(&pinned->files[0][0]->refs), 2);
    lsm_version_unref(pinned);
    assert_string_equal(live_str(vs), "2,3");
    lsm_version_unref(pinned2);
    assert_string_equal(live_str(vs), "3");
    lsm_vset_close(vs);
    rm_rf(dir);
    free(dir);
}

/* ---- compaction picking -------------------------------------------------- */

static void test_pick_l0(void **state)
{
    (void)state;
    char *dir = make_dir();
    lsm_vset *vs = open_vs(dir, true);
    lsm_compaction_policy p = {.l0_trigger = 4, .l1_max_bytes = 1000,
                               .target_file_bytes = 64};
    assert_null(lsm_vset_pick_compaction(vs, &p));
    lsm_edit e;
    lsm_edit_init(&e);
    add(&e, 0, 1, 10, "a", "c");
    add(&e, 0, 2, 10, "b", "d");
    add(&e, 0, 3, 10, "x", "y");
    add(&e, 1, 10, 100, "a", "b");
    add(&e, 1, 11, 100, "c", "e");
    add(&e, 1, 12, 100, "f", "g");
    add(&e, 1, 13, 100, "z", "zz");
    apply(vs, &e);
    double s[LSM_LEVELS];
    lsm_vset_scores(vs, &p, s);
    assert_true(s[0] > 0.74 && s[0] < 0.76);
    assert_true(s[1] > 0.39 && s[1] < 0.41);
    assert_null(lsm_vset_pick_compaction(vs, &p));

    lsm_edit_init(&e);
    add(&e, 0, 4, 10, "d", "e");
    apply(vs, &e);
    lsm_compaction *c = lsm_vset_pick_compaction(vs, &p);
    assert_non_null(c);
    assert_int_equal(c->level, 0);
    assert_string_equal(inputs_str(c, 0), "4,3,2,1");
    /* L0 spans a..y: every L1 file but z..zz */
    assert_string_equal(inputs_str(c, 1), "10,11,12");
    assert_false(c->trivial_move);
    assert_int_equal(c->target_file_bytes, 64);
    lsm_edit d;
    lsm_edit_init(&d);
    assert_int_equal(lsm_compaction_add_deletions(c, &d), 0);
    assert_int_equal(d.ndeleted, 7);
    assert_int_equal(d.deleted[0].level, 0);
    assert_int_equal(d.deleted[6].level, 1);
    assert_int_equal(d.deleted[6].number, 12);
    add(&d, 1, 20, 300, "a", "y");
    apply(vs, &d);
    /* The compaction still pins the old version and its files. */
    assert_int_equal(c->version->nfiles[0], 4);
    assert_string_equal(live_str(vs), "1,2,3,4,10,11,12,13,20");
    lsm_compaction_free(c);
    assert_string_equal(live_str(vs), "13,20");

    /* A single L0 file that overlaps nothing in L1 moves. */
    p.l0_trigger = 1;
    lsm_edit_init(&e);
    add(&e, 0, 30, 10, "zzz", "zzzz");
    apply(vs, &e);
    c = lsm_vset_pick_compaction(vs, &p);
    assert_non_null(c);
    assert_int_equal(c->level, 0);
    assert_string_equal(inputs_str(c, 0), "30");
    assert_int_equal(c->ninputs[1], 0);
    assert_true(c->trivial_move);
    lsm_compaction_free(c);
    /* ... but not when it overlaps L1. */
    lsm_edit_init(&e);
    assert_int_equal(lsm_edit_delete_file(&e, 0, 30), 0);
    add(&e, 0, 31, 10, "b", "c");
    apply(vs, &e);
    c = lsm_vset_pick_compaction(vs, &p);
    assert_non_null(c);
    assert_string_equal(inputs_str(c, 1), "20");
    assert_false(c->trivial_move);
    lsm_compaction_free(c);
    lsm_vset_close(vs);
    rm_rf(dir);
    free(dir);
}

static void test_pick_levels_round_robin(void **state)
{
    (void)state;
    char *dir = make_dir();
    lsm_vset *vs = open_vs(dir, true);
    lsm_compaction_policy p = {.l0_trigger = 4, .l1_max_bytes = 1000,
                               .target_file_bytes = 64};
    lsm_edit e;
    lsm_edit_init(&e);
    add(&e, 1, 1, 400, "a", "b");
    add(&e, 1, 2, 400, "c", "d");
    add(&e, 1, 3, 400, "e", "f");
    add(&e, 2, 10, 100, "cc", "cd");
    add(&e, 2, 11, 100, "ee", "g");
    add(&e, 2, 12, 100, "h", "i");
    add(&e, 4, 40, 10, "p", "r");
    apply(vs, &e);
    double s[LSM_LEVELS];
    lsm_vset_scores(vs, &p, s);
    assert_true(s[1] > 1.19 && s[1] < 1.21);
    assert_true(s[2] > 0.029 && s[2] < 0.031);

    const char *want0[] = {"1", "2", "3", "1", "2"};
    const char *want1[] = {"", "10", "11", "", "10"};
    for (int i = 0; i < 5; i++) {
        lsm_compaction *c = lsm_vset_pick_compaction(vs, &p);
        assert_non_null(c);
        assert_int_equal(c->level, 1);
        assert_string_equal(inputs_str(c, 0), want0[i]);
        assert_string_equal(inputs_str(c, 1), want1[i]);
        assert_int_equal(c->trivial_move, want1[i][0] == '\0');
        lsm_compaction_free(c);
    }

    /* The trivial move of file 1 as an edit. */
    lsm_compaction *c = lsm_vset_pick_compaction(vs, &p); /* file 3 */
    lsm_compaction_free(c);
    c = lsm_vset_pick_compaction(vs, &p);
    assert_string_equal(inputs_str(c, 0), "1");
    assert_true(c->trivial_move);
    lsm_edit_init(&e);
    assert_int_equal(lsm_compaction_add_deletions(c, &e), 0);
    const lsm_file *f = c->inputs[0][0];
    assert_int_equal(lsm_edit_add_file(&e, 2, f->number, f->size, f->entries,
                                       f->smallest, f->smallest_len,
                                       f->largest, f->largest_len),
                     0);
    apply(vs, &e);
    lsm_compaction_free(c);
    lsm_version *v = lsm_vset_current(vs);
    assert_string_equal(level_str(v, 1), "2,3");
    assert_string_equal(level_str(v, 2), "1,10,11,12");
    lsm_version_unref(v);
    assert_null(lsm_vset_pick_compaction(vs, &p)); /* L1 at 800 < 1000 */

    /* The last level never compacts down. */
    lsm_edit_init(&e);
    add(&e, LSM_LEVELS - 1, 99, UINT64_C(1) << 60, "a", "z");
    apply(vs, &e);
    assert_null(lsm_vset_pick_compaction(vs, &p));
    lsm_vset_scores(vs, &p, s);
    assert_true(s[LSM_LEVELS - 1] > 1.0);

    /* L2 over its target (10 * 1000) wins when its score is highest. */
    lsm_edit_init(&e);
    add(&e, 2, 13, 30000, "j", "k");
    apply(vs, &e);
    c = lsm_vset_pick_compaction(vs, &p);
    assert_non_null(c);
    assert_int_equal(c->level, 2);
    lsm_compaction_free(c);
    lsm_vset_close(vs);
    rm_rf(dir);
    free(dir);
}

/* Files of one level that share a boundary user key are taken together. */
static void test_pick_boundary_expansion(void **state)
{
    (void)state;
    char *dir = make_dir();
    lsm_vset *vs = open_vs(dir, true);
    lsm_compaction_policy p = {.l0_trigger = 4, .l1_max_bytes = 100,
                               .target_file_bytes = 64};
    uint8_t a[32], k5[32], k3[32], m[32], n[32], z[32];
    size_t al = ikey(a, "a", 9), k5l = ikey(k5, "k", 5), k3l = ikey(k3, "k", 3),
           ml = ikey(m, "m", 9), nl = ikey(n, "n", 9), zl = ikey(z, "z", 9);
    lsm_edit e;
    lsm_edit_init(&e);
    assert_int_equal(lsm_edit_add_file(&e, 1, 1, 100, 1, a, al, k5, k5l), 0);
    assert_int_equal(lsm_edit_add_file(&e, 1, 2, 100, 1, k3, k3l, m, ml), 0);
    assert_int_equal(lsm_edit_add_file(&e, 1, 3, 100, 1, n, nl, z, zl), 0);
    apply(vs, &e);
    lsm_compaction *c = lsm_vset_pick_compaction(vs, &p);
    assert_non_null(c);
    assert_string_equal(inputs_str(c, 0), "1,2");
    assert_false(c->trivial_move);
    lsm_compaction_free(c);
    c = lsm_vset_pick_compaction(vs, &p);
    assert_string_equal(inputs_str(c, 0), "3");
    lsm_compaction_free(c);
    lsm_vset_close(vs);
    rm_rf(dir);
    free(dir);
}

static void test_is_bottom_and_compact_range(void **state)
{
    (void)state;
    char *dir = make_dir();
    lsm_vset *vs = open_vs(dir, true);
    lsm_compaction_policy p = {.l0_trigger = 4, .l1_max_bytes = 1000,
                               .target_file_bytes = 64};
    lsm_edit e;
    lsm_edit_init(&e);
    add(&e, 0, 1, 10, "a", "c");
    add(&e, 0, 2, 10, "m", "n");
    add(&e, 1, 10, 10, "a", "b");
    add(&e, 1, 11, 10, "c", "d");
    add(&e, 1, 12, 10, "x", "y");
    add(&e, 2, 20, 10, "c", "q");
    add(&e, 3, 30, 10, "p", "r");
    add(&e, 3, 31, 10, "t", "u");
    add(&e, 6, 60, 10, "w", "w");
    apply(vs, &e);

    assert_null(lsm_vset_compact_range(vs, &p, 1, (const uint8_t *)"e", 1,
                                       (const uint8_t *)"w", 1));
    assert_null(lsm_vset_compact_range(vs, &p, 4, NULL, 0, NULL, 0));
    lsm_compaction *c = lsm_vset_compact_range(vs, &p, 1, (const uint8_t *)"c",
                                               1, (const uint8_t *)"e", 1);
    assert_non_null(c);
    assert_int_equal(c->level, 1);
    assert_string_equal(inputs_str(c, 0), "11");
    assert_string_equal(inputs_str(c, 1), "20");
    assert_false(c->trivial_move);
    /* Levels >= 3 hold p..r, t..u, w; level 2 (level + 1) does not count. */
    assert_false(lsm_compaction_is_bottom_for(c, (const uint8_t *)"q", 1));
    assert_false(lsm_compaction_is_bottom_for(c, (const uint8_t *)"p", 1));
    assert_false(lsm_compaction_is_bottom_for(c, (const uint8_t *)"r", 1));
    assert_false(lsm_compaction_is_bottom_for(c, (const uint8_t *)"t", 1));
    assert_false(lsm_compaction_is_bottom_for(c, (const uint8_t *)"w", 1));
    assert_true(lsm_compaction_is_bottom_for(c, (const uint8_t *)"s", 1));
    assert_true(lsm_compaction_is_bottom_for(c, (const uint8_t *)"d", 1));
    assert_true(lsm_compaction_is_bottom_for(c, (const uint8_t *)"ra", 2));
    assert_true(lsm_compaction_is_bottom_for(c, (const uint8_t *)"z", 1));
    assert_true(lsm_compaction_is_bottom_for(c, (const uint8_t *)"", 0));
    lsm_compaction_free(c);

    /* Unbounded on one side. */
    c = lsm_vset_compact_range(vs, &p, 1, NULL, 0, (const uint8_t *)"c", 1);
    assert_string_equal(inputs_str(c, 0), "10,11");
    lsm_compaction_free(c);
    c = lsm_vset_compact_range(vs, &p, 1, (const uint8_t *)"e", 1, NULL, 0);
    assert_string_equal(inputs_str(c, 0), "12");
    assert_string_equal(inputs_str(c, 1), "");
    assert_true(c->trivial_move);
    lsm_compaction_free(c);
    /* L0: a range touching file 1 (a..c); file 2 does not overlap it. */
    c = lsm_vset_compact_range(vs, &p, 0, (const uint8_t *)"b", 1,
                               (const uint8_t *)"b", 1);
    assert_string_equal(inputs_str(c, 0), "1");
    assert_string_equal(inputs_str(c, 1), "10,11");
    /* is_bottom_for an L0 compaction looks at levels >= 2. */
    assert_false(lsm_compaction_is_bottom_for(c, (const uint8_t *)"d", 1));
    lsm_compaction_free(c);
    c = lsm_vset_compact_range(vs, &p, 0, NULL, 0, NULL, 0);
    assert_string_equal(inputs_str(c, 0), "2,1");
    lsm_compaction_free(c);
    /* The last level compacts within itself: no inputs[1], always bottom. */
    c = lsm_vset_compact_range(vs, &p, LSM_LEVELS - 1, NULL, 0, NULL, 0);
    assert_string_equal(inputs_str(c, 0), "60");
    assert_int_equal(c->ninputs[1], 0);
    assert_false(c->trivial_move);
    assert_true(lsm_compaction_is_bottom_for(c, (const uint8_t *)"w", 1));
    lsm_compaction_free(c);
    lsm_vset_close(vs);
    rm_rf(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_edit_round_trip),
        cmocka_unit_test(test_edit_invalid),
        cmocka_unit_test(test_vset_create_reopen),
        cmocka_unit_test(test_vset_torn_tail),
        cmocka_unit_test(test_vset_corrupt_middle),
        cmocka_unit_test(test_vset_inconsistent_edit),
        cmocka_unit_test(test_vset_rotation),
        cmocka_unit_test(test_vset_snapshot_with_old_segments),
        cmocka_unit_test(test_vset_live_files),
        cmocka_unit_test(test_pick_l0),
        cmocka_unit_test(test_pick_levels_round_robin),
        cmocka_unit_test(test_pick_boundary_expansion),
        cmocka_unit_test(test_is_bottom_and_compact_range),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
