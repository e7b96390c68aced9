/*
 * test_lsm_rekey.c - the lsm engine's side of encryption keys:
 *   - the manifest records each table's key id (edit tag 7; tag 5 for a
 *     table in the clear, as before) and keeps it across reopen;
 *   - compaction picks tables under another key id than the current one
 *     for a rewrite when nothing else is due: never a trivial move, and in
 *     place in the last level;
 *   - the encryption module's check_key is asked before a WAL segment, a
 *     manifest segment or a table is read, and a refusal names the file;
 *   - a sealed record of one kind of log does not pass for the other, and
 *     a table's footer cannot point the filter at another block (the AAD
 *     binds the kind and the block's role).
 * The cipher is a toy with the properties the engine relies on (a tag over
 * key id, AAD and bytes), not a real one: tests/unit/test_aesgcm.c covers
 * AES-GCM.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lsm/crc32c.h"
#include "lsm/format.h"
#include "lsm/sstable.h"
#include "lsm/version.h"
#include "lsm/wal.h"

#include "lsm_testutil.h"

/* ---- the toy cipher -------------------------------------------------------- */

typedef struct toy {
    uint32_t current;  /* key id new data is sealed under */
    uint32_t known[4]; /* key ids it can open (0 ends the list) */
    bool clear_ok;     /* check_key accepts key id 0 */
    uint32_t nonce;
} toy;

static bool toy_knows(const toy *t, uint32_t id)
{
    for (int i = 0; i < 4 && t->known[i] != 0; i++)
        if (t->known[i] == id)
            return true;
    return false;
}

static uint32_t toy_tag(uint32_t id, const uint8_t *aad, size_t an,
                        const uint8_t *p, size_t n)
{
    uint8_t k[4];
    lsm_put_fixed32(k, id);
    uint32_t c = lsm_crc32c(k, 4);
    c = lsm_crc32c_extend(c, aad, an);
    return lsm_crc32c_extend(c, p, n);
}

static size_t toy_overhead(void *inst)
{
    (void)inst;
    return 8;
}

static uint32_t toy_current(void *inst)
{
    return ((toy *)inst)->current;
}

static int toy_seal(void *inst, uint32_t id, const uint8_t *aad, size_t an,
                    const uint8_t *in, size_t len, uint8_t *out, size_t cap,
                    size_t *out_len, dc_error *err)
{
    toy *t = inst;
    if (!toy_knows(t, id))
        return dc_error_set(err, DC_ENOTFOUND, "XX000", "unknown key");
    if (cap < len + 8)
        return dc_error_set(err, DC_EINVAL, "XX000", "out too small");
    lsm_put_fixed32(out, ++t->nonce);
    for (size_t i = 0; i < len; i++)
        out[4 + i] = in[i] ^ (uint8_t)(0xa5 + t->nonce + i);
    lsm_put_fixed32(out + 4 + len, toy_tag(id, aad, an, out, 4 + len));
    *out_len = len + 8;
    return 0;
}

static int toy_open(void *inst, uint32_t id, const uint8_t *aad, size_t an,
                    const uint8_t *in, size_t len, uint8_t *out, size_t cap,
                    size_t *out_len, dc_error *err)
{
    toy *t = inst;
    if (!toy_knows(t, id))
        return dc_error_set(err, DC_ENOTFOUND, "XX000", "unknown key");
    if (len < 8 || cap < len - 8)
        return dc_error_set(err, DC_ECORRUPT, "XX001", "too short");
    size_t n = len - 8;
    if (lsm_get_fixed32(in + 4 + n) != toy_tag(id, aad, an, in, 4 + n))
        return dc_error_set(err, DC_ECORRUPT, "XX001", "tag mismatch");
    uint32_t nonce = lsm_get_fixed32(in);
    for (size_t i = 0; i < n; i++)
        out[i] = in[4 + i] ^ (uint8_t)(0xa5 + nonce + i);
    *out_len = n;
    return 0;
}

static int toy_check(void *inst, uint32_t id, dc_error *err)
{
    toy *t = inst;
    if (id == 0)
        return t->clear_ok ? 0
                           : dc_error_set(err, DC_EPERM, "F0000",
                                          "stored in the clear, refused");
    return toy_knows(t, id) ? 0
                            : dc_error_set(err, DC_ENOTFOUND, "F0000",
                                           "sealed under key id %08x, which "
                                           "is not configured",
                                           id);
}

static const dc_encryption_vtable toy_vt = {
    .size = sizeof(dc_encryption_vtable),
    .overhead = toy_overhead,
    .current_key_id = toy_current,
    .seal = toy_seal,
    .open = toy_open,
    .check_key = toy_check,
};

/* ---- helpers ------------------------------------------------------------------ */

static size_t ikey(uint8_t *buf, const char *k, uint64_t seq)
{
    size_t n = strlen(k);
    memcpy(buf, k, n);
    lsm_put_fixed64(buf + n, lsm_pack_trailer(seq, LSM_TYPE_PUT));
    return n + LSM_TRAILER_SIZE;
}

static void add(lsm_edit *e, int level, uint64_t number, uint32_t key_id,
                const char *lo, const char *hi)
{
    uint8_t s[64], l[64];
    size_t sl = ikey(s, lo, 100), ll = ikey(l, hi, 1);
    assert_int_equal(lsm_edit_add_file_key(e, level, number, 1000, 10, key_id,
                                           s, sl, l, ll),
                     0);
}

static void rm_rf(const char *path)
{
    char cmd[PATH_MAX + 16];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", path);
    assert_int_equal(system(cmd), 0);
}

static lsm_vset *open_vs(const char *dir)
{
    lsm_vset_options o = {.dir = dir, .create_if_missing = true};
    dc_error err;
    dc_error_init(&err);
    lsm_vset *vs = NULL;
    if (lsm_vset_open(&o, &vs, &err) != 0)
        fail_msg("lsm_vset_open: %s", err.message);
    return vs;
}

static void apply(lsm_vset *vs, lsm_edit *e)
{
    dc_error err;
    dc_error_init(&err);
    if (lsm_vset_apply(vs, e, &err) != 0)
        fail_msg("lsm_vset_apply: %s", err.message);
    lsm_edit_free(e);
}

static uint32_t key_of(const lsm_version *v, uint64_t number)
{
    for (int l = 0; l < LSM_LEVELS; l++)
        for (size_t i = 0; i < v->nfiles[l]; i++)
            if (v->files[l][i]->number == number)
                return v->files[l][i]->key_id;
    fail_msg("file %llu is in no level", (unsigned long long)number);
    return 0;
}

/* ---- the manifest records key ids ------------------------------------------------ */

static void test_edit_key_ids(void **state)
{
    (void)state;
    lsm_edit e;
    lsm_edit_init(&e);
    add(&e, 0, 7, 0, "a", "b");
    add(&e, 1, 8, 0x1234abcd, "c", "d");
    uint8_t *buf;
    size_t len;
    assert_int_equal(lsm_edit_encode(&e, &buf, &len), 0);
    /* File 7 (clear) keeps tag 5, file 8 carries tag 7. */
    assert_int_equal(buf[0], 5);
    size_t second = 0;
    for (size_t i = 1; i < len; i++)
        if (buf[i] == 7 && buf[i + 1] == 1 && buf[i + 2] == 8) {
            second = i;
            break;
        }
    assert_true(second > 0);
    lsm_edit d;
    dc_error err;
    dc_error_init(&err);
    assert_int_equal(lsm_edit_decode(buf, len, &d, &err), 0);
    assert_int_equal(d.nadded, 2);
    assert_int_equal(d.added[0].key_id, 0);
    assert_int_equal(d.added[1].key_id, 0x1234abcd);
    lsm_edit_free(&d);
    /* Tag 7 with key id 0 is not a valid record.  After the tag: level,
     * number, size 1000 (e8 07), entries 10, then the key id. */
    assert_int_equal(buf[second + 3], 0xe8);
    assert_int_equal(buf[second + 5], 10);
    size_t kid_at = second + 6;
    uint8_t *bad = malloc(len);
    assert_non_null(bad);
    memcpy(bad, buf, len);
    /* The key id varint 0x1234abcd takes 5 bytes: make it 0 by shifting. */
    bad[kid_at] = 0;
    memmove(bad + kid_at + 1, buf + kid_at + 5, len - kid_at - 5);
    dc_error_init(&err);
    assert_int_equal(lsm_edit_decode(bad, len - 4, &d, &err), DC_ECORRUPT);
    assert_non_null(strstr(err.message, "key id"));
    free(bad);
    free(buf);
    lsm_edit_free(&e);
}

static void test_key_ids_survive_reopen(void **state)
{
    (void)state;
    char *dir = make_dir();
    lsm_vset *vs = open_vs(dir);
    lsm_edit e;
    lsm_edit_init(&e);
    add(&e, 0, 3, 0xaaaa0001, "a", "c");
    add(&e, 2, 4, 0, "d", "f");
    add(&e, 6, 5, 0xbbbb0002, "g", "k");
    apply(vs, &e);
    lsm_vset_close(vs);
    vs = open_vs(dir); /* replays the edit, then writes a snapshot */
    lsm_vset_close(vs);
    vs = open_vs(dir); /* reads the snapshot */
    lsm_version *v = lsm_vset_current(vs);
    assert_int_equal(key_of(v, 3), 0xaaaa0001);
    assert_int_equal(key_of(v, 4), 0);
    assert_int_equal(key_of(v, 5), 0xbbbb0002);
    lsm_version_unref(v);
    lsm_vset_close(vs);
    rm_rf(dir);
    free(dir);
}

/* ---- compaction rewrites tables under other keys --------------------------------- */

/* The edit a rewrite compaction c would make: its inputs out, one output
 * (number `out`) under key_id at c->output_level over the inputs' range. */
static void finish_rewrite(lsm_vset *vs, lsm_compaction *c, uint64_t out,
                           uint32_t key_id)
{
    lsm_edit e;
    lsm_edit_init(&e);
    assert_int_equal(lsm_compaction_add_deletions(c, &e), 0);
    const lsm_file *lo = NULL, *hi = NULL;
    for (int w = 0; w < 2; w++)
        for (size_t i = 0; i < c->ninputs[w]; i++) {
            const lsm_file *f = c->inputs[w][i];
            if (lo == NULL || lsm_ikey_cmp(f->smallest, f->smallest_len,
                                           lo->smallest, lo->smallest_len) < 0)
                lo = f;
            if (hi == NULL || lsm_ikey_cmp(f->largest, f->largest_len,
                                           hi->largest, hi->largest_len) > 0)
                hi = f;
        }
    assert_int_equal(lsm_edit_add_file_key(&e, c->output_level, out, 1000, 10,
                                           key_id, lo->smallest,
                                           lo->smallest_len, hi->largest,
                                           hi->largest_len),
                     0);
    lsm_compaction_free(c);
    apply(vs, &e);
}

static void test_pick_rewrite(void **state)
{
    (void)state;
    const uint32_t OLD = 0x0badc0de, CUR = 0x600d600d;
    char *dir = make_dir();
    lsm_vset *vs = open_vs(dir);
    lsm_edit e;
    lsm_edit_init(&e);
    add(&e, 0, 10, OLD, "m", "p");  /* L0, old key */
    add(&e, 1, 11, CUR, "a", "f");  /* L1, current */
    add(&e, 1, 12, CUR, "n", "q");  /* L1, current, overlaps file 10 */
    add(&e, 3, 13, 0, "x", "y");    /* L3, in the clear, nothing below */
    add(&e, 6, 14, OLD, "b", "c");  /* the last level, old key */
    add(&e, 6, 15, CUR, "d", "e");
    apply(vs, &e);
    lsm_compaction_policy p = {.l0_trigger = 4, .l1_max_bytes = 1 << 30,
                               .target_file_bytes = 1 << 20};

    /* Without rewrite_keys nothing is due. */
    assert_null(lsm_vset_pick_compaction(vs, &p));
    p.rewrite_keys = true;
    p.key_id = CUR;

    /* 1: the L0 file, merged with the L1 file it overlaps. */
    lsm_compaction *c = lsm_vset_pick_compaction(vs, &p);
    assert_non_null(c);
    assert_true(c->rewrite);
    assert_false(c->trivial_move);
    assert_int_equal(c->level, 0);
    assert_int_equal(c->output_level, 1);
    assert_int_equal(c->ninputs[0], 1);
    assert_int_equal(c->inputs[0][0]->number, 10);
    assert_int_equal(c->ninputs[1], 1);
    assert_int_equal(c->inputs[1][0]->number, 12);
    finish_rewrite(vs, c, 20, CUR);

    /* 2: the clear L3 file: alone, with nothing to merge, yet rewritten,
     * not moved. */
    c = lsm_vset_pick_compaction(vs, &p);
    assert_non_null(c);
    assert_int_equal(c->level, 3);
    assert_int_equal(c->output_level, 4);
    assert_int_equal(c->ninputs[0], 1);
    assert_int_equal(c->ninputs[1], 0);
    assert_false(c->trivial_move);
    assert_true(c->rewrite);
    finish_rewrite(vs, c, 21, CUR);

    /* 3: the last level's old file: rewritten in place in L6. */
    c = lsm_vset_pick_compaction(vs, &p);
    assert_non_null(c);
    assert_int_equal(c->level, LSM_LEVELS - 1);
    assert_int_equal(c->output_level, LSM_LEVELS - 1);
    assert_int_equal(c->ninputs[0], 1);
    assert_int_equal(c->inputs[0][0]->number, 14);
    assert_int_equal(c->ninputs[1], 0);
    /* Nothing is below the last level: its tombstones may go. */
    assert_true(lsm_compaction_is_bottom_for(c, (const uint8_t *)"b", 1));
    finish_rewrite(vs, c, 22, CUR);

    /* Every file under the current key: nothing more, and the version
     * says so file by file. */
    assert_null(lsm_vset_pick_compaction(vs, &p));
    assert_null(lsm_vset_pick_rewrite(vs, &p));
    lsm_version *v = lsm_vset_current(vs);
    for (int l = 0; l < LSM_LEVELS; l++)
        for (size_t i = 0; i < v->nfiles[l]; i++)
            assert_int_equal(v->files[l][i]->key_id, CUR);
    assert_int_equal(v->nfiles[6], 2);
    lsm_version_unref(v);

    /* A level over its target still comes first. */
    p.key_id = OLD;
    p.l1_max_bytes = 65536;
    lsm_edit_init(&e);
    for (int i = 0; i < 80; i++) {
        char lo[16], hi[16];
        snprintf(lo, sizeof lo, "g%02d", i);
        snprintf(hi, sizeof hi, "g%02da", i);
        add(&e, 1, 100 + (uint64_t)i, CUR, lo, hi);
    }
    apply(vs, &e);
    c = lsm_vset_pick_compaction(vs, &p);
    assert_non_null(c);
    assert_false(c->rewrite);
    assert_int_equal(c->level, 1);
    lsm_compaction_free(c);
    lsm_vset_close(vs);
    rm_rf(dir);
    free(dir);
}

/* ---- check_key before reading, and AAD binding ------------------------------------ */

static int count_record(void *ud, uint64_t seg, const uint8_t *r, size_t n,
                        dc_error *err)
{
    (void)seg;
    (void)r;
    (void)n;
    (void)err;
    (*(int *)ud)++;
    return 0;
}

static void test_wal_key_checks(void **state)
{
    (void)state;
    char *dir = make_dir();
    toy t = {.current = 7, .known = {7}};
    lsm_wal_options o = {.dir = dir, .sync_mode = LSM_WAL_SYNC_OFF,
                         .enc = &toy_vt, .enc_instance = &t};
    lsm_wal *w = NULL;
    dc_error err;
    dc_error_init(&err);
    assert_int_equal(lsm_wal_open(&o, 1, &w, &err), 0);
    assert_int_equal(lsm_wal_append(w, (const uint8_t *)"record-1", 8, false,
                                    &err),
                     0);
    assert_int_equal(lsm_wal_append(w, (const uint8_t *)"record-2", 8, false,
                                    &err),
                     0);
    lsm_wal_close(w);
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/wal-0000000000000001.log", dir);

    int n = 0;
    assert_int_equal(lsm_wal_recover(&o, 0, count_record, &n, NULL, &err), 0);
    assert_int_equal(n, 2);

    /* The same records read as a manifest: the AAD differs. */
    lsm_wal_options m = o;
    m.kind = LSM_WAL_KIND_MANIFEST;
    n = 0;
    dc_error_init(&err);
    assert_int_equal(lsm_wal_recover(&m, 0, count_record, &n, NULL, &err),
                     DC_ECORRUPT);
    assert_int_equal(n, 0);
    assert_non_null(strstr(err.message, "authentication"));
    assert_non_null(strstr(err.message, "manifest segment"));
    assert_non_null(strstr(err.message, path));

    /* Key 7 not configured any more: refused before any record, naming
     * the file, with the module's status. */
    t.known[0] = 9;
    n = 0;
    dc_error_init(&err);
    assert_int_equal(lsm_wal_recover(&o, 0, count_record, &n, NULL, &err),
                     DC_ENOTFOUND);
    assert_int_equal(n, 0);
    assert_non_null(strstr(err.message, path));
    assert_non_null(strstr(err.message, "00000007"));

    /* A segment in the clear, where the module does not accept that. */
    t.known[0] = 7;
    char dir2[PATH_MAX];
    snprintf(dir2, sizeof dir2, "%s/clear", dir);
    assert_int_equal(mkdir(dir2, 0755), 0);
    lsm_wal_options c = {.dir = dir2, .sync_mode = LSM_WAL_SYNC_OFF};
    assert_int_equal(lsm_wal_open(&c, 1, &w, &err), 0);
    assert_int_equal(lsm_wal_append(w, (const uint8_t *)"plain", 5, false,
                                    &err),
                     0);
    lsm_wal_close(w);
    c.enc = &toy_vt;
    c.enc_instance = &t;
    dc_error_init(&err);
    assert_int_equal(lsm_wal_recover(&c, 0, count_record, &n, NULL, &err),
                     DC_EPERM);
    assert_non_null(strstr(err.message, dir2));
    t.clear_ok = true;
    n = 0;
    assert_int_equal(lsm_wal_recover(&c, 0, count_record, &n, NULL, &err), 0);
    assert_int_equal(n, 1);
    rm_rf(dir);
    free(dir);
}

static void test_sst_key_checks_and_roles(void **state)
{
    (void)state;
    char *dir = make_dir();
    toy t = {.current = 7, .known = {7}};
    lsm_sst_write_options wo = {.enc = &toy_vt, .enc_instance = &t,
                                .compression = LSM_COMPRESS_NONE,
                                .block_size = 256};
    lsm_sst_writer *w = NULL;
    dc_error err;
    dc_error_init(&err);
    assert_int_equal(lsm_sst_writer_open(dir, 5, &wo, &w, &err), 0);
    for (int i = 0; i < 200; i++) {
        char k[32];
        uint8_t ik[48];
        snprintf(k, sizeof k, "key%05d", i);
        size_t kl = ikey(ik, k, 1);
        assert_int_equal(lsm_sst_writer_add(w, ik, kl, (const uint8_t *)"value",
                                            5, &err),
                         0);
    }
    lsm_sst_meta meta;
    assert_int_equal(lsm_sst_writer_finish(w, &meta, &err), 0);
    assert_int_equal(meta.key_id, 7);
    lsm_sst_meta_clear(&meta);
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/0000000000000005.sst", dir);

    /* The header's key id, read without opening the table. */
    uint32_t hk = 0;
    assert_int_equal(lsm_sst_read_key_id(dir, 5, &hk, &err), 0);
    assert_int_equal(hk, 7);
    dc_error_init(&err);
    assert_int_equal(lsm_sst_read_key_id(dir, 6, &hk, &err), DC_EIO);

    lsm_sst_read_options ro = {.enc = &toy_vt, .enc_instance = &t};
    lsm_sst *s = NULL;
    assert_int_equal(lsm_sst_open(dir, 5, &ro, &s, &err), 0);
    assert_int_equal(lsm_sst_key_id(s), 7);
    lsm_sst_close(s);

    /* The key is not configured: refused at open, naming the file. */
    t.known[0] = 8;
    dc_error_init(&err);
    assert_int_equal(lsm_sst_open(dir, 5, &ro, &s, &err), DC_ENOTFOUND);
    assert_non_null(strstr(err.message, path));
    assert_non_null(strstr(err.message, "not configured"));
    t.known[0] = 7;

    /* The footer pointing the filter at the index block (both valid
     * sealed blocks of this file, the CRC of the footer fixed): the
     * block's role is part of its AAD, so it fails authentication. */
    size_t len;
    uint8_t *f = read_file(path, &len);
    uint8_t *ft = f + len - LSM_SST_FOOTER_SIZE;
    uint64_t filter_off = lsm_get_fixed64(ft + 16);
    assert_true(filter_off != 0);
    memcpy(ft + 16, ft, 16); /* filter handle := index handle */
    lsm_put_fixed32(ft + 44, lsm_crc_mask(lsm_crc32c(ft, 44)));
    write_file(path, f, len);
    dc_error_init(&err);
    assert_int_equal(lsm_sst_open(dir, 5, &ro, &s, &err), DC_ECORRUPT);
    assert_non_null(strstr(err.message, path));
    assert_non_null(strstr(err.message, "authentication"));
    free(f);
    rm_rf(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_edit_key_ids),
        cmocka_unit_test(test_key_ids_survive_reopen),
        cmocka_unit_test(test_pick_rewrite),
        cmocka_unit_test(test_wal_key_checks),
        cmocka_unit_test(test_sst_key_checks_and_roles),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
