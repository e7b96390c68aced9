/*
 * test_storage_metrics.c - the lsm engine reports its work through the
 * host's metrics registry: after a known number of puts, deletes, gets and
 * a flush, the counters and level gauges read back through metrics_visit
 * (what the metrics module exports) say exactly that.  And what it reports
 * is what is on disk: after a full compaction the table directory holds
 * exactly the files the engine lists, its inputs gone.  And a compaction
 * in progress stalls no writer: flushes and bulk writes complete while one
 * is held in the middle of its merge.  A bulk write led by range deletes
 * (TRUNCATE, then a load) reads back exactly, and a full compaction
 * leaves no dead version on disk.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "datacave/storage.h"
#include "loader.h"
#include "metrics_registry.h"

/* The value of series `name` (with label value `lv`, or the unlabelled
 * series when NULL), summed if several match. */
typedef struct probe {
    const char *name;
    const char *lv;
    double sum;
    int found;
} probe;

static int on_series(void *ud, const dc_metric_desc *d, const dc_series_value *v)
{
    probe *p = ud;
    if (strcmp(d->name, p->name) != 0)
        return 0;
    if (p->lv && (d->nlabels == 0 || strcmp(v->label_values[0], p->lv) != 0))
        return 0;
    p->sum += d->type == DC_METRIC_HISTOGRAM ? (double)v->count : v->value;
    p->found++;
    return 0;
}

static double metric(const char *name, const char *lv)
{
    probe p = {name, lv, 0, 0};
    dc_metrics_visitor vis = {sizeof vis, NULL, on_series};
    dc_metrics_visit(&vis, &p);
    if (p.found == 0)
        fail_msg("metric %s%s%s not registered", name, lv ? " " : "",
                 lv ? lv : "");
    return p.sum;
}

static int ignore_value(void *ud, const uint8_t *v, size_t n)
{
    (void)ud;
    (void)v;
    (void)n;
    return 0;
}

/* The lsm module loaded through the host into a fresh runtime, over a new
 * data directory made from `tmpl` (mkdtemp), with `module_extra` (NULL:
 * none) appended to the configuration; lsm_env_close undoes it all. */
typedef struct lsm_env {
    char dir[64];
    dc_config *cfg;
    dc_runtime *rt;
    dc_module *m;
    const dc_storage_vtable *vt;
} lsm_env;

static void lsm_env_open(lsm_env *e, const char *tmpl, const char *module_extra)
{
    const char *bd = getenv("DATACAVE_BUILD");
    char so[PATH_MAX];
    snprintf(so, sizeof so, "%s/modules/lsm.so", bd && *bd ? bd : "build");
    if (access(so, R_OK) != 0)
        fail_msg("%s is not built", so);
    snprintf(e->dir, sizeof e->dir, "%s", tmpl);
    assert_non_null(mkdtemp(e->dir));
    char text[PATH_MAX + 512];
    snprintf(text, sizeof text,
             "[log]\nlevel = \"warn\"\n[storage]\ndata_dir = \"%s\"\n"
             "[modules]\nprotocol = \"\"\nsql = \"\"\nstorage = \"\"\n"
             "auth = \"\"\nencryption = \"\"\nmetrics = \"\"\n%s",
             e->dir, module_extra ? module_extra : "");
    dc_strlist errors = {0};
    e->cfg = dc_config_parse(text, strlen(text), "t.toml", e->dir, &errors);
    assert_non_null(e->cfg);
    e->rt = dc_runtime_new(e->cfg);
    assert_int_equal(dc_runtime_load_file(e->rt, DC_KIND_STORAGE, so, &errors),
                     0);
    assert_int_equal(dc_runtime_resolve(e->rt, false, &errors), 0);
    dc_error err;
    dc_error_init(&err);
    assert_int_equal(dc_runtime_init(e->rt, &err), DC_OK);
    e->m = dc_runtime_module(e->rt, DC_KIND_STORAGE);
    e->vt = e->m->desc->vtable;
}

/* Open (creating it if missing) the store over e->dir: first, and again
 * after a close. */
static dc_store *lsm_env_store(lsm_env *e)
{
    dc_store_options o = {.size = sizeof o, .path = e->dir,
                          .create_if_missing = true};
    dc_store *s = NULL;
    dc_error err;
    dc_error_init(&err);
    if (e->vt->open(e->m->instance, &o, &s, &err) != DC_OK)
        fail_msg("open %s: %s", e->dir, err.message);
    return s;
}

static void lsm_env_close(lsm_env *e)
{
    dc_runtime_shutdown(e->rt);
    dc_runtime_free(e->rt);
    dc_config_free(e->cfg);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", e->dir);
    assert_int_equal(system(cmd), 0);
}

static void test_lsm_reports_its_work(void **state)
{
    (void)state;
    lsm_env E;
    lsm_env_open(&E, "/tmp/datacave-metrics-XXXXXX", NULL);
    const dc_storage_vtable *vt = E.vt;
    dc_error err;
    dc_error_init(&err);

    /* Counters are process-wide: measure differences. */
    double puts0 = metric("datacave_storage_puts_total", NULL);
    double dels0 = metric("datacave_storage_deletes_total", NULL);
    double gets0 = metric("datacave_storage_gets_total", NULL);
    double flushes0 = metric("datacave_storage_flushes_total", NULL);
    double fsyncs0 = metric("datacave_storage_wal_fsyncs_total", NULL);
    double fsync_obs0 = metric("datacave_storage_wal_fsync_seconds", NULL);

    dc_store *s = lsm_env_store(&E);
    dc_write_options wo = {.size = sizeof wo, .sync = DC_SYNC_ALWAYS};
    for (int i = 0; i < 100; i++) {
        char k[16];
        snprintf(k, sizeof k, "key%03d", i);
        dc_batch_op op = {DC_OP_PUT, (const uint8_t *)k, strlen(k),
                          (const uint8_t *)"value", 5};
        assert_int_equal(vt->write(s, &wo, &op, 1, NULL, &err), DC_OK);
    }
    for (int i = 0; i < 10; i++) {
        char k[16];
        snprintf(k, sizeof k, "key%03d", i);
        dc_batch_op op = {DC_OP_DELETE, (const uint8_t *)k, strlen(k), NULL, 0};
        assert_int_equal(vt->write(s, &wo, &op, 1, NULL, &err), DC_OK);
    }
    dc_read_options ro = {.size = sizeof ro};
    for (int i = 0; i < 20; i++) {
        char k[16];
        snprintf(k, sizeof k, "key%03d", i);
        int rc = vt->get(s, &ro, (const uint8_t *)k, strlen(k), ignore_value,
                         NULL, &err);
        assert_int_equal(rc, i < 10 ? DC_ENOTFOUND : DC_OK);
    }
    assert_non_null(vt->flush);
    assert_int_equal(vt->flush(s, &err), DC_OK);

    assert_true(metric("datacave_storage_puts_total", NULL) - puts0 == 100);
    assert_true(metric("datacave_storage_deletes_total", NULL) - dels0 == 10);
    assert_true(metric("datacave_storage_gets_total", NULL) - gets0 == 20);
    assert_true(metric("datacave_storage_flushes_total", NULL) - flushes0 >= 1);
    double fsyncs = metric("datacave_storage_wal_fsyncs_total", NULL) - fsyncs0;
    assert_true(fsyncs >= 1 && fsyncs <= 110);
    /* Each fsync is also observed in the latency histogram. */
    assert_true(metric("datacave_storage_wal_fsync_seconds", NULL) - fsync_obs0 ==
                fsyncs);
    /* The level gauges agree with the engine's own statistics. */
    dc_store_stats st = {.size = sizeof st};
    assert_int_equal(vt->stats(s, &st), DC_OK);
    double files = 0;
    for (int l = 0; l < 7; l++) {
        char lv[16];
        snprintf(lv, sizeof lv, "%d", l);
        files += metric("datacave_storage_level_files", lv);
    }
    uint64_t want = 0;
    for (uint32_t l = 0; l < st.levels && l < 16; l++)
        want += st.files_per_level[l];
    assert_true(want >= 1);
    if (files != (double)want)
        fail_msg("level_files gauges sum to %g, stats say %llu", files,
                 (unsigned long long)want);
    metric("datacave_storage_stalls_total", "memtable");
    metric("datacave_storage_stalls_total", "l0");
    metric("datacave_storage_block_cache_hits_total", NULL);

    vt->close(s);
    lsm_env_close(&E);
}

/* Number of *.sst files in dir/sst. */
static uint64_t count_sst(const char *dir)
{
    char p[PATH_MAX + 8];
    snprintf(p, sizeof p, "%s/sst", dir);
    DIR *d = opendir(p);
    assert_non_null(d);
    uint64_t n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        size_t l = strlen(de->d_name);
        if (l > 4 && strcmp(de->d_name + l - 4, ".sst") == 0)
            n++;
    }
    closedir(d);
    return n;
}

static void test_full_compaction_leaves_only_live_files(void **state)
{
    (void)state;
    lsm_env E;
    lsm_env_open(&E, "/tmp/datacave-compact-XXXXXX", NULL);
    const char *dir = E.dir;
    const dc_storage_vtable *vt = E.vt;
    dc_error err;
    dc_error_init(&err);
    dc_store *s = lsm_env_store(&E);
    dc_write_options wo = {.size = sizeof wo, .sync = DC_SYNC_NONE};
    /* Three overlapping tables: each round rewrites every key. */
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < 2000; i++) {
            char k[16], v[32];
            snprintf(k, sizeof k, "key%05d", i);
            snprintf(v, sizeof v, "round%d-%05d", round, i);
            dc_batch_op op = {DC_OP_PUT, (const uint8_t *)k, strlen(k),
                              (const uint8_t *)v, strlen(v)};
            assert_int_equal(vt->write(s, &wo, &op, 1, NULL, &err), DC_OK);
        }
        assert_int_equal(vt->flush(s, &err), DC_OK);
    }
    assert_non_null(vt->compact);
    if (vt->compact(s, NULL, 0, NULL, 0, &err) != DC_OK)
        fail_msg("compact: %s", err.message);
    dc_store_stats st = {.size = sizeof st};
    assert_int_equal(vt->stats(s, &st), DC_OK);
    uint64_t listed = 0;
    for (uint32_t l = 0; l < st.levels && l < 16; l++)
        listed += st.files_per_level[l];
    assert_true(listed >= 1);
    uint64_t on_disk = count_sst(dir);
    if (on_disk != listed)
        fail_msg("after a full compaction %llu table files are on disk, the "
                 "engine lists %llu",
                 (unsigned long long)on_disk, (unsigned long long)listed);
    vt->close(s);
    lsm_env_close(&E);
}

/* The value a get returned. */
typedef struct got {
    char v[64];
} got;

static int keep_value(void *ud, const uint8_t *v, size_t n)
{
    got *g = ud;
    if (n >= sizeof g->v)
        n = sizeof g->v - 1;
    memcpy(g->v, v, n);
    g->v[n] = '\0';
    return 0;
}

static void put_round(const dc_storage_vtable *vt, dc_store *s,
                      const char *prefix, int round, int n, bool one_batch)
{
    dc_error err;
    dc_error_init(&err);
    dc_write_options wo = {.size = sizeof wo, .sync = DC_SYNC_NONE};
    static char keys[4000][16], vals[4000][32];
    static dc_batch_op ops[4000];
    assert_true(n <= 4000);
    for (int i = 0; i < n; i++) {
        snprintf(keys[i], sizeof keys[i], "%s%05d", prefix, i);
        snprintf(vals[i], sizeof vals[i], "round%d-%05d", round, i);
        ops[i] = (dc_batch_op){DC_OP_PUT, (const uint8_t *)keys[i],
                               strlen(keys[i]), (const uint8_t *)vals[i],
                               strlen(vals[i])};
        if (!one_batch &&
            vt->write(s, &wo, &ops[i], 1, NULL, &err) != DC_OK)
            fail_msg("write: %s", err.message);
    }
    if (one_batch && vt->write(s, &wo, ops, (size_t)n, NULL, &err) != DC_OK)
        fail_msg("bulk write: %s", err.message);
}

static uint64_t level_files(const dc_storage_vtable *vt, dc_store *s, int l)
{
    dc_store_stats st = {.size = sizeof st};
    assert_int_equal(vt->stats(s, &st), DC_OK);
    return (uint32_t)l < st.levels ? st.files_per_level[l] : 0;
}

/* A compaction does not stall writers: while one is in the middle of its
 * merge (held there by the DATACAVE_TEST_HOLD_COMPACTION hook), a flush
 * completes and bulk writes (written as table files of their own) land,
 * one overlapping the keys being compacted and one beside them; once the
 * compaction ends every key reads its newest value and the table
 * directory holds exactly the files the engine lists. */
static void test_writes_go_on_during_compaction(void **state)
{
    (void)state;
    lsm_env E;
    lsm_env_open(&E, "/tmp/datacave-cmpwrite-XXXXXX",
                 "[module.lsm]\nl0_compaction_trigger = 2\n"
                 "bulk_write_bytes = 16384\n");
    const char *dir = E.dir;
    const dc_storage_vtable *vt = E.vt;
    dc_error err;
    dc_error_init(&err);
    char hold[PATH_MAX], held[PATH_MAX + 8];
    snprintf(hold, sizeof hold, "%s.hold", dir);
    snprintf(held, sizeof held, "%s.held", hold);
    FILE *hf = fopen(hold, "w");
    assert_non_null(hf);
    fclose(hf);
    assert_int_equal(setenv("DATACAVE_TEST_HOLD_COMPACTION", hold, 1), 0);
    dc_store *s = lsm_env_store(&E);
    assert_int_equal(unsetenv("DATACAVE_TEST_HOLD_COMPACTION"), 0);

    /* Two L0 tables over the same keys: a compaction starts, and holds. */
    for (int round = 0; round < 2; round++) {
        put_round(vt, s, "key", round, 2000, false);
        assert_int_equal(vt->flush(s, &err), DC_OK);
    }
    int waited = 0;
    while (access(held, F_OK) != 0 && waited++ < 6000) {
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    if (access(held, F_OK) != 0)
        fail_msg("no compaction started within 60 s");
    uint64_t l0 = level_files(vt, s, 0);

    /* A flush while the compaction is held. */
    put_round(vt, s, "key", 2, 2000, false);
    assert_int_equal(vt->flush(s, &err), DC_OK);
    if (access(held, F_OK) != 0)
        fail_msg("the flush waited for the compaction to end");
    assert_true(level_files(vt, s, 0) == l0 + 1);
    /* Bulk writes: over the keys being compacted (the file must stay
     * above them, in L0) and beside them. */
    put_round(vt, s, "key", 3, 1500, true);
    put_round(vt, s, "zzz", 3, 1500, true);
    if (access(held, F_OK) != 0)
        fail_msg("the bulk writes waited for the compaction to end");
    assert_true(level_files(vt, s, 0) == l0 + 2);

    assert_int_equal(unlink(hold), 0);
    /* compact() waits for the held compaction, then compacts everything. */
    if (vt->compact(s, NULL, 0, NULL, 0, &err) != DC_OK)
        fail_msg("compact: %s", err.message);
    assert_int_equal(access(held, F_OK), -1);
    dc_read_options ro = {.size = sizeof ro};
    for (int i = 0; i < 2000; i++) {
        char k[16], want[32];
        got g;
        snprintf(k, sizeof k, "key%05d", i);
        snprintf(want, sizeof want, "round%d-%05d", i < 1500 ? 3 : 2, i);
        assert_int_equal(vt->get(s, &ro, (const uint8_t *)k, strlen(k),
                                 keep_value, &g, &err),
                         DC_OK);
        assert_string_equal(g.v, want);
        if (i < 1500) {
            snprintf(k, sizeof k, "zzz%05d", i);
            snprintf(want, sizeof want, "round3-%05d", i);
            assert_int_equal(vt->get(s, &ro, (const uint8_t *)k, strlen(k),
                                     keep_value, &g, &err),
                             DC_OK);
            assert_string_equal(g.v, want);
        }
    }
    dc_store_stats st = {.size = sizeof st};
    assert_int_equal(vt->stats(s, &st), DC_OK);
    uint64_t listed = 0;
    for (uint32_t l = 0; l < st.levels && l < 16; l++)
        listed += st.files_per_level[l];
    assert_true(count_sst(dir) == listed);
    vt->close(s);

    /* And all of it after a reopen. */
    s = lsm_env_store(&E);
    for (int i = 0; i < 2000; i += 7) {
        char k[16], want[32];
        got g;
        snprintf(k, sizeof k, "key%05d", i);
        snprintf(want, sizeof want, "round%d-%05d", i < 1500 ? 3 : 2, i);
        assert_int_equal(vt->get(s, &ro, (const uint8_t *)k, strlen(k),
                                 keep_value, &g, &err),
                         DC_OK);
        assert_string_equal(g.v, want);
    }
    vt->close(s);
    lsm_env_close(&E);
}

/* A bulk write (a batch large enough to become a table file of its own)
 * that starts with range deletes and goes on with ascending puts and
 * deletes, as a transaction doing TRUNCATE then a load commits it: the
 * range deletes remove what the store held in their ranges, the later
 * puts in those ranges survive them, and a put or delete of a key the
 * store holds outside them replaces it. */
static void test_bulk_write_after_range_delete(void **state)
{
    (void)state;
    lsm_env E;
    lsm_env_open(&E, "/tmp/datacave-bulkrange-XXXXXX",
                 "[module.lsm]\nbulk_write_bytes = 64\n");
    const dc_storage_vtable *vt = E.vt;
    dc_error err;
    dc_error_init(&err);
    dc_store *s = lsm_env_store(&E);
    dc_write_options wo = {.size = sizeof wo, .sync = DC_SYNC_NONE};
    /* k00..k29 "old": the first half in a table file, the rest in the
     * memtable. */
    for (int i = 0; i < 30; i++) {
        char k[16];
        snprintf(k, sizeof k, "k%02d", i);
        dc_batch_op op = {DC_OP_PUT, (const uint8_t *)k, 3,
                          (const uint8_t *)"old", 3};
        assert_int_equal(vt->write(s, &wo, &op, 1, NULL, &err), DC_OK);
        if (i == 14)
            assert_int_equal(vt->flush(s, &err), DC_OK);
    }
    /* Delete [k05, k10) and [k12, k20); then, ascending: put k02, put k06,
     * delete k07 (already in a deleted range), put k13, delete k25, put
     * k40.  Long values make the batch a bulk write. */
    static const char nv[] = "new-value-long-enough-for-a-bulk-write";
    dc_batch_op ops[] = {
        {DC_OP_DELETE_RANGE, (const uint8_t *)"k05", 3, (const uint8_t *)"k10", 3},
        {DC_OP_DELETE_RANGE, (const uint8_t *)"k12", 3, (const uint8_t *)"k20", 3},
        {DC_OP_PUT, (const uint8_t *)"k02", 3, (const uint8_t *)nv, sizeof nv - 1},
        {DC_OP_PUT, (const uint8_t *)"k06", 3, (const uint8_t *)nv, sizeof nv - 1},
        {DC_OP_DELETE, (const uint8_t *)"k07", 3, NULL, 0},
        {DC_OP_PUT, (const uint8_t *)"k13", 3, (const uint8_t *)nv, sizeof nv - 1},
        {DC_OP_DELETE, (const uint8_t *)"k25", 3, NULL, 0},
        {DC_OP_PUT, (const uint8_t *)"k40", 3, (const uint8_t *)nv, sizeof nv - 1},
    };
    assert_int_equal(vt->write(s, &wo, ops, sizeof ops / sizeof ops[0], NULL,
                               &err),
                     DC_OK);
    dc_read_options ro = {.size = sizeof ro};
    for (int pass = 0; pass < 2; pass++) {
        for (int i = 0; i <= 40; i++) {
            char k[16];
            snprintf(k, sizeof k, "k%02d", i);
            const char *want;
            if (i == 2 || i == 6 || i == 13 || i == 40)
                want = nv;
            else if ((i >= 5 && i < 10) || (i >= 12 && i < 20) || i == 25 ||
                     i >= 30)
                want = NULL;
            else
                want = "old";
            got g;
            int rc = vt->get(s, &ro, (const uint8_t *)k, 3, keep_value, &g,
                             &err);
            if (want == NULL) {
                if (rc != DC_ENOTFOUND)
                    fail_msg("%s: found, should be gone (pass %d)", k, pass);
            } else {
                if (rc != DC_OK)
                    fail_msg("%s: missing (pass %d)", k, pass);
                assert_string_equal(g.v, want);
            }
        }
        /* And the same after a reopen. */
        vt->close(s);
        s = lsm_env_store(&E);
    }
    vt->close(s);
    lsm_env_close(&E);
}

/* Files in the store, over every level. */
static uint64_t store_files(const dc_storage_vtable *vt, dc_store *s)
{
    dc_store_stats st = {.size = sizeof st};
    assert_int_equal(vt->stats(s, &st), DC_OK);
    uint64_t n = 0;
    for (uint32_t l = 0; l < st.levels && l < 16; l++)
        n += st.files_per_level[l];
    return n;
}

/* A large ascending bulk write is built as two files at once, split at
 * its middle op's key; range deletes leading the batch are split with
 * it.  Every key must read as one file built from the whole batch would
 * give it, before and after a reopen. */
static void test_bulk_write_in_two_files(void **state)
{
    (void)state;
    lsm_env E;
    lsm_env_open(&E, "/tmp/datacave-bulksplit-XXXXXX",
                 "[module.lsm]\nbulk_write_bytes = 65536\n");
    const dc_storage_vtable *vt = E.vt;
    dc_error err;
    dc_error_init(&err);
    dc_store *s = lsm_env_store(&E);
    dc_write_options wo = {.size = sizeof wo, .sync = DC_SYNC_NONE};
    enum { N = 300000 };
    char (*keys)[16] = malloc(sizeof(*keys) * 2 * N);
    dc_batch_op *ops = malloc(sizeof *ops * (N + 1));
    assert_non_null(keys);
    assert_non_null(ops);
    for (int i = 0; i < 2 * N; i++)
        snprintf(keys[i], sizeof keys[i], "k%07d", i);
    /* Batch 1: the odd keys, value "old". */
    for (int i = 0; i < N; i++)
        ops[i] = (dc_batch_op){DC_OP_PUT, (const uint8_t *)keys[2 * i + 1], 8,
                               (const uint8_t *)"old", 3};
    uint64_t f0 = store_files(vt, s);
    assert_int_equal(vt->write(s, &wo, ops, N, NULL, &err), DC_OK);
    assert_int_equal(store_files(vt, s), f0 + 2);
    /* Batch 2: delete [k0000000, k0400000) -- 200,000 odd keys, on both
     * sides of the split key k0300000 -- then put every even key. */
    ops[0] = (dc_batch_op){DC_OP_DELETE_RANGE, (const uint8_t *)"k0000000", 8,
                           (const uint8_t *)"k0400000", 8};
    for (int i = 0; i < N; i++)
        ops[i + 1] = (dc_batch_op){DC_OP_PUT, (const uint8_t *)keys[2 * i], 8,
                                   (const uint8_t *)"new", 3};
    assert_int_equal(vt->write(s, &wo, ops, N + 1, NULL, &err), DC_OK);
    assert_int_equal(store_files(vt, s), f0 + 4);
    dc_read_options ro = {.size = sizeof ro};
    for (int pass = 0; pass < 2; pass++) {
        /* Every key through get ... */
        for (int i = 0; i < 2 * N; i++) {
            const char *want = i % 2 == 0 ? "new" : i >= 400000 ? "old" : NULL;
            got g;
            int rc = vt->get(s, &ro, (const uint8_t *)keys[i], 8, keep_value,
                             &g, &err);
            if (want == NULL && rc != DC_ENOTFOUND)
                fail_msg("%s: found, should be gone (pass %d)", keys[i], pass);
            if (want != NULL) {
                if (rc != DC_OK)
                    fail_msg("%s: missing (pass %d)", keys[i], pass);
                assert_string_equal(g.v, want);
            }
        }
        /* ... and in order through an iterator. */
        dc_iter *it = NULL;
        assert_int_equal(vt->iter_open(s, &ro, &it, &err), DC_OK);
        int n = 0, last = -1;
        for (vt->iter_seek_first(it); vt->iter_valid(it); vt->iter_next(it)) {
            const uint8_t *k;
            size_t kn;
            vt->iter_key(it, &k, &kn);
            assert_int_equal(kn, 8);
            int i = atoi((const char *)k + 1);
            assert_true(i > last);
            assert_true(i % 2 == 0 || i >= 400000);
            last = i;
            n++;
        }
        assert_int_equal(vt->iter_status(it, &err), DC_OK);
        vt->iter_close(it);
        assert_int_equal(n, N + 100000);
        vt->close(s);
        s = lsm_env_store(&E);
    }
    vt->close(s);
    free(ops);
    free(keys);
    lsm_env_close(&E);
}

/* The exact count of keys in [lo, hi) through an iterator. */
static uint64_t iter_count(const dc_storage_vtable *vt, dc_store *s,
                           const char *lo, const char *hi)
{
    dc_error err;
    dc_error_init(&err);
    dc_read_options ro = {.size = sizeof ro};
    dc_iter *it = NULL;
    assert_int_equal(vt->iter_open(s, &ro, &it, &err), DC_OK);
    uint64_t n = 0;
    for (vt->iter_seek(it, (const uint8_t *)lo, strlen(lo)); vt->iter_valid(it);
         vt->iter_next(it)) {
        const uint8_t *k;
        size_t kn;
        vt->iter_key(it, &k, &kn);
        if (hi != NULL) {
            size_t hn = strlen(hi);
            int c = memcmp(k, hi, kn < hn ? kn : hn);
            if (c > 0 || (c == 0 && kn >= hn))
                break;
        }
        n++;
    }
    assert_int_equal(vt->iter_status(it, &err), DC_OK);
    vt->iter_close(it);
    return n;
}

static uint64_t approx(const dc_storage_vtable *vt, dc_store *s,
                       const char *lo, const char *hi)
{
    dc_error err;
    dc_error_init(&err);
    uint64_t n = UINT64_MAX;
    assert_int_equal(vt->approx_count(s, (const uint8_t *)lo, strlen(lo),
                                      (const uint8_t *)hi, hi ? strlen(hi) : 0,
                                      &n, &err),
                     DC_OK);
    return n;
}

/* approx_count() against the exact count of each range: relations "a",
 * "b" and "c" of different sizes written in one batch (so that table
 * files hold several of them and the index must split a file), more rows
 * of "b" left in the memtable, and ranges that are empty, reversed or
 * beyond every key.  Within 2% plus two blocks' worth of entries. */
static void test_approx_count(void **state)
{
    (void)state;
    lsm_env E;
    lsm_env_open(&E, "/tmp/datacave-approx-XXXXXX",
                 "[module.lsm]\nbulk_write_bytes = 65536\n");
    const dc_storage_vtable *vt = E.vt;
    assert_true(DC_HAS_FIELD(vt, dc_storage_vtable, approx_count));
    assert_non_null(vt->approx_count);
    dc_error err;
    dc_error_init(&err);
    dc_store *s = lsm_env_store(&E);
    dc_write_options wo = {.size = sizeof wo, .sync = DC_SYNC_NONE};
    static const struct { const char *p; int n; } rel[] = {
        {"a", 5000}, {"b", 120000}, {"c", 40000}};
    size_t total = 0;
    for (int r = 0; r < 3; r++)
        total += (size_t)rel[r].n;
    char (*keys)[16] = malloc(sizeof(*keys) * total);
    dc_batch_op *ops = malloc(sizeof *ops * total);
    assert_non_null(keys);
    assert_non_null(ops);
    char val[40];
    memset(val, 'v', sizeof val);
    size_t n = 0;
    for (int r = 0; r < 3; r++)
        for (int i = 0; i < rel[r].n; i++, n++) {
            snprintf(keys[n], sizeof keys[n], "%s%07d", rel[r].p, 2 * i);
            ops[n] = (dc_batch_op){DC_OP_PUT, (const uint8_t *)keys[n], 8,
                                   (const uint8_t *)val, sizeof val};
        }
    assert_int_equal(vt->write(s, &wo, ops, n, NULL, &err), DC_OK);
    /* Odd keys of "b" through the memtable. */
    for (int i = 0; i < 3000; i++) {
        char k[16];
        snprintf(k, sizeof k, "b%07d", 2 * i + 1);
        dc_batch_op op = {DC_OP_PUT, (const uint8_t *)k, 8,
                          (const uint8_t *)val, sizeof val};
        assert_int_equal(vt->write(s, &wo, &op, 1, NULL, &err), DC_OK);
    }
    static const char *ranges[][2] = {
        {"a", "b"}, {"b", "c"}, {"c", "d"}, {"", NULL}, {"b", NULL},
        {"a0001000", "a0003000"}, {"b0100000", "c0010000"}};
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < sizeof ranges / sizeof ranges[0]; i++) {
            uint64_t want = iter_count(vt, s, ranges[i][0], ranges[i][1]);
            uint64_t got = approx(vt, s, ranges[i][0], ranges[i][1]);
            /* A 4 KiB block holds about 80 of these entries. */
            double slack = (double)want * 0.02 + 2 * 100;
            if ((double)got < (double)want - slack ||
                (double)got > (double)want + slack)
                fail_msg("[%s, %s): approx %llu, exact %llu (pass %d)",
                         ranges[i][0], ranges[i][1] ? ranges[i][1] : "end",
                         (unsigned long long)got, (unsigned long long)want,
                         pass);
        }
        assert_int_equal(approx(vt, s, "d", NULL), 0);
        assert_int_equal(approx(vt, s, "c", "b"), 0);
        assert_int_equal(approx(vt, s, "b", "b"), 0);
        assert_int_equal(approx(vt, s, "a00000001", "a00000002"), 0);
        /* The second pass reads from table files only. */
        assert_int_equal(vt->flush(s, &err), DC_OK);
    }
    uint64_t dummy;
    assert_int_equal(vt->approx_count(s, NULL, 3, NULL, 0, &dummy, &err),
                     DC_EINVAL);
    vt->close(s);
    free(ops);
    free(keys);
    lsm_env_close(&E);
}

/* compact() of everything leaves nothing a read cannot see: with every
 * version written to the memtable (two versions of each key, most keys
 * then deleted), the flushed table moves down unmerged, and only the
 * rewrite of the last level in place drops the old versions and the
 * tombstones (SQL's VACUUM FULL relies on it). */
static void test_compact_drops_dead_versions(void **state)
{
    (void)state;
    lsm_env E;
    lsm_env_open(&E, "/tmp/datacave-compactdead-XXXXXX", NULL);
    const dc_storage_vtable *vt = E.vt;
    dc_error err;
    dc_error_init(&err);
    dc_store *s = lsm_env_store(&E);
    dc_write_options wo = {.size = sizeof wo, .sync = DC_SYNC_NONE};
    uint64_t x = 88172645463325252u; /* xorshift: values that do not compress */
    for (int version = 0; version < 2; version++)
        for (int i = 0; i < 2000; i++) {
            char k[16], v[201];
            snprintf(k, sizeof k, "key%05d", i);
            for (int j = 0; j < 200; j++) {
                x ^= x << 13, x ^= x >> 7, x ^= x << 17;
                v[j] = (char)('a' + x % 26);
            }
            v[0] = (char)('0' + version);
            dc_batch_op op = {DC_OP_PUT, (const uint8_t *)k, strlen(k),
                              (const uint8_t *)v, 200};
            assert_int_equal(vt->write(s, &wo, &op, 1, NULL, &err), DC_OK);
        }
    for (int i = 100; i < 2000; i++) {
        char k[16];
        snprintf(k, sizeof k, "key%05d", i);
        dc_batch_op op = {DC_OP_DELETE, (const uint8_t *)k, strlen(k), NULL, 0};
        assert_int_equal(vt->write(s, &wo, &op, 1, NULL, &err), DC_OK);
    }
    if (vt->compact(s, NULL, 0, NULL, 0, &err) != DC_OK)
        fail_msg("compact: %s", err.message);
    dc_store_stats st = {.size = sizeof st};
    assert_int_equal(vt->stats(s, &st), DC_OK);
    /* 100 live keys of 200 bytes (20 KB); every version: 800 KB. */
    if (st.live_bytes > 100 * 1024)
        fail_msg("after compact() the files hold %llu bytes for 20 KB of "
                 "live data",
                 (unsigned long long)st.live_bytes);
    dc_read_options ro = {.size = sizeof ro};
    for (int i = 0; i < 2000; i += 3) {
        char k[16];
        got g;
        snprintf(k, sizeof k, "key%05d", i);
        int rc = vt->get(s, &ro, (const uint8_t *)k, strlen(k), keep_value, &g,
                         &err);
        if (i < 100) {
            assert_int_equal(rc, DC_OK);
            assert_int_equal(g.v[0], '1');
        } else {
            assert_int_equal(rc, DC_ENOTFOUND);
        }
    }
    vt->close(s);
    lsm_env_close(&E);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lsm_reports_its_work),
        cmocka_unit_test(test_full_compaction_leaves_only_live_files),
        cmocka_unit_test(test_writes_go_on_during_compaction),
        cmocka_unit_test(test_bulk_write_after_range_delete),
        cmocka_unit_test(test_bulk_write_in_two_files),
        cmocka_unit_test(test_compact_drops_dead_versions),
        cmocka_unit_test(test_approx_count),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    dc_metrics_reset();
    return rc;
}
