/*
 * test_lsm_wal.c - the lsm engine's write-ahead log: round trips across
 * rotations, reopen, torn tails cut at every offset, corruption reported
 * with file and offset, header checks, group commit (threaded and
 * deterministic), sync modes, the encryption hook.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lsm/crc32c.h"
#include "lsm/format.h"
#include "lsm/wal.h"
#include "lsm_testutil.h"

/* ---- helpers ------------------------------------------------------------- */

static void seg_path(const char *dir, uint64_t seg, char *buf, size_t cap)
{
    char name[32];
    lsm_wal_file_name(seg, name, sizeof name);
    snprintf(buf, cap, "%s/%s", dir, name);
}

/* Deterministic record contents: byte i of record `id` of length len. */
static void fill(uint8_t *p, size_t len, uint32_t id)
{
    uint32_t x = id * 2654435761u + 12345u;
    for (size_t i = 0; i < len; i++) {
        x = x * 1103515245u + 12345u;
        p[i] = (uint8_t)(x >> 16);
    }
}

static void append_id(lsm_wal *w, uint32_t id, size_t len, bool sync)
{
    uint8_t *b = malloc(len + 4);
    assert_non_null(b);
    fill(b, len, id);
    if (len >= 4)
        lsm_put_fixed32(b, id);
    dc_error err;
    dc_error_init(&err);
    int rc = lsm_wal_append(w, b, len, sync, &err);
    if (rc != 0)
        fail_msg("append: %s", err.message);
    free(b);
}

/* Collects recovered records. */
typedef struct collected {
    size_t n;
    size_t cap;
    uint8_t **rec;
    size_t *len;
    uint64_t *seg;
} collected;

static int collect_fn(void *ud, uint64_t segment, const uint8_t *rec,
                      size_t len, dc_error *err)
{
    (void)err;
    collected *c = ud;
    if (c->n == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 64;
        c->rec = realloc(c->rec, c->cap * sizeof *c->rec);
        c->len = realloc(c->len, c->cap * sizeof *c->len);
        c->seg = realloc(c->seg, c->cap * sizeof *c->seg);
    }
    c->rec[c->n] = malloc(len + 1);
    if (len)
        memcpy(c->rec[c->n], rec, len);
    c->len[c->n] = len;
    c->seg[c->n] = segment;
    c->n++;
    return 0;
}

static void collected_free(collected *c)
{
    for (size_t i = 0; i < c->n; i++)
        free(c->rec[i]);
    free(c->rec);
    free(c->len);
    free(c->seg);
    memset(c, 0, sizeof *c);
}

static int recover_into(const lsm_wal_options *o, uint64_t first, collected *c,
                        uint64_t *last, dc_error *err)
{
    memset(c, 0, sizeof *c);
    dc_error_init(err);
    return lsm_wal_recover(o, first, collect_fn, c, last, err);
}

static void check_record(const collected *c, size_t i, uint32_t id, size_t len)
{
    assert_true(i < c->n);
    assert_int_equal(c->len[i], len);
    uint8_t *b = malloc(len + 4);
    fill(b, len, id);
    if (len >= 4)
        lsm_put_fixed32(b, id);
    assert_memory_equal(c->rec[i], b, len);
    free(b);
}

static lsm_wal *open_wal(const lsm_wal_options *o, uint64_t seg)
{
    lsm_wal *w = NULL;
    dc_error err;
    dc_error_init(&err);
    int rc = lsm_wal_open(o, seg, &w, &err);
    if (rc != 0)
        fail_msg("open: %s", err.message);
    return w;
}

/* ---- round trips --------------------------------------------------------- */

static void test_round_trip_rotations(void **state)
{
    (void)state;
    char *dir = make_dir();
    lsm_wal_options o = {.dir = dir, .sync_mode = LSM_WAL_SYNC_OFF};
    lsm_wal *w = open_wal(&o, 1);
    enum { N = 120 };
    size_t lens[N];
    uint64_t segs[N];
    uint32_t x = 7;
    for (uint32_t i = 0; i < N; i++) {
        x = x * 1664525u + 1013904223u;
        switch (i % 6) {
        case 0:
            lens[i] = 0;
            break;
        case 1:
            lens[i] = x % 16;
            break;
        case 2:
            lens[i] = x % 4096;
            break;
        case 3:
            lens[i] = (i % 24 == 3) ? (1u << 20) : x % 100000;
            break;
        case 4:
            lens[i] = x % (1u << 20) + 1;
            break;
        default:
            lens[i] = x % 300;
            break;
        }
        append_id(w, i, lens[i], i % 5 == 0);
        segs[i] = lsm_wal_segment(w);
        if (i % 25 == 24) {
            uint64_t ns = 0;
            dc_error err;
            dc_error_init(&err);
            assert_int_equal(lsm_wal_rotate(w, &ns, &err), 0);
            assert_int_equal(ns, segs[i] + 1);
        }
    }
    lsm_wal_stats st;
    lsm_wal_stats_get(w, &st);
    assert_int_equal(st.appends, N);
    assert_int_equal(st.segment, 5);
    lsm_wal_close(w);

    collected c;
    dc_error err;
    uint64_t last = 0;
    assert_int_equal(recover_into(&o, 0, &c, &last, &err), 0);
    assert_int_equal(last, 5);
    assert_int_equal(c.n, N);
    for (uint32_t i = 0; i < N; i++) {
        check_record(&c, i, i, lens[i]);
        assert_int_equal(c.seg[i], segs[i]);
    }
    collected_free(&c);

    /* Recovery from a later segment skips the earlier ones. */
    assert_int_equal(recover_into(&o, 3, &c, &last, &err), 0);
    assert_int_equal(c.n, N - 50);
    check_record(&c, 0, 50, lens[50]);
    collected_free(&c);

    /* Reopen: a new segment after the last; old and new records come
     * back, in order. */
    w = open_wal(&o, last + 1);
    append_id(w, 1000, 77, true);
    append_id(w, 1001, 0, true);
    /* Segments up to 3 are flushed: remove them. */
    dc_error_init(&err);
    assert_int_equal(lsm_wal_remove_up_to(w, 6, &err), DC_EINVAL);
    assert_int_equal(lsm_wal_remove_up_to(w, 3, &err), 0);
    lsm_wal_close(w);
    assert_int_equal(recover_into(&o, 0, &c, &last, &err), 0);
    assert_int_equal(last, 6);
    assert_int_equal(c.n, N - 75 + 2);
    check_record(&c, 0, 75, lens[75]);
    check_record(&c, N - 75, 1000, 77);
    check_record(&c, N - 75 + 1, 1001, 0);
    assert_int_equal(c.seg[N - 75 + 1], 6);
    collected_free(&c);

    /* Opening an existing segment is refused. */
    lsm_wal *w2 = NULL;
    dc_error_init(&err);
    assert_int_equal(lsm_wal_open(&o, 6, &w2, &err), DC_EEXIST);
    assert_null(w2);
    remove_dir(dir);
}

static void test_empty_dir_and_names(void **state)
{
    (void)state;
    char *dir = make_dir();
    lsm_wal_options o = {.dir = dir};
    collected c;
    dc_error err;
    uint64_t last = 99;
    assert_int_equal(recover_into(&o, 0, &c, &last, &err), 0);
    assert_int_equal(last, 0);
    assert_int_equal(c.n, 0);
    char name[32];
    lsm_wal_file_name(42, name, sizeof name);
    assert_string_equal(name, "wal-0000000000000042.log");
    /* Other files in the directory are ignored. */
    char p[PATH_MAX];
    snprintf(p, sizeof p, "%s/wal-12.log", dir);
    write_file(p, (const uint8_t *)"x", 1);
    assert_int_equal(recover_into(&o, 0, &c, &last, &err), 0);
    assert_int_equal(c.n, 0);
    remove_dir(dir);
}

/* A callback error stops recovery and comes back. */
static int failing_fn(void *ud, uint64_t segment, const uint8_t *rec,
                      size_t len, dc_error *err)
{
    (void)segment, (void)rec, (void)len;
    int *count = ud;
    if (++*count == 2)
        return dc_error_set(err, DC_EINVAL, "XX000", "bad batch");
    return 0;
}

static void test_callback_error(void **state)
{
    (void)state;
    char *dir = make_dir();
    lsm_wal_options o = {.dir = dir};
    lsm_wal *w = open_wal(&o, 1);
    for (uint32_t i = 0; i < 3; i++)
        append_id(w, i, 10, false);
    lsm_wal_close(w);
    int count = 0;
    dc_error err;
    dc_error_init(&err);
    assert_int_equal(lsm_wal_recover(&o, 0, failing_fn, &count, NULL, &err),
                     DC_EINVAL);
    assert_int_equal(count, 2);
    assert_string_equal(err.message, "bad batch");
    remove_dir(dir);
}

/* ---- torn tails ---------------------------------------------------------- */

static void test_torn_tail_every_offset(void **state)
{
    (void)state;
    char *dir = make_dir();
    lsm_wal_options o = {.dir = dir, .sync_mode = LSM_WAL_SYNC_OFF};
    lsm_wal *w = open_wal(&o, 1);
    size_t lens[5] = {10, 0, 200, 33, 300};
    for (uint32_t i = 0; i < 5; i++)
        append_id(w, i, lens[i], false);
    lsm_wal_close(w);
    char path[PATH_MAX];
    seg_path(dir, 1, path, sizeof path);
    size_t full_len;
    uint8_t *full = read_file(path, &full_len);
    size_t last_start = full_len - 8 - lens[4];

    for (size_t cut = last_start; cut < full_len; cut++) {
        write_file(path, full, cut);
        collected c;
        dc_error err;
        uint64_t last = 0;
        int rc = recover_into(&o, 0, &c, &last, &err);
        if (rc != 0)
            fail_msg("cut %zu: %s", cut, err.message);
        assert_int_equal(c.n, 4);
        for (uint32_t i = 0; i < 4; i++)
            check_record(&c, i, i, lens[i]);
        collected_free(&c);
        assert_int_equal(file_size(path), (off_t)last_start);
        if (cut % 9 == 0 || cut == full_len - 1) {
            /* Appending after the cut works and is recovered. */
            w = open_wal(&o, last + 1);
            append_id(w, 77, 50, true);
            lsm_wal_close(w);
            assert_int_equal(recover_into(&o, 0, &c, &last, &err), 0);
            assert_int_equal(c.n, 5);
            check_record(&c, 4, 77, 50);
            assert_int_equal(c.seg[4], 2);
            collected_free(&c);
            char p2[PATH_MAX];
            seg_path(dir, 2, p2, sizeof p2);
            assert_int_equal(unlink(p2), 0);
        }
    }

    /* A damaged last record that still fits the file (checksum fails
     * where the file ends) is a torn tail too. */
    uint8_t *copy = malloc(full_len);
    memcpy(copy, full, full_len);
    copy[full_len - 1] ^= 0x40;
    write_file(path, copy, full_len);
    collected c;
    dc_error err;
    assert_int_equal(recover_into(&o, 0, &c, NULL, &err), 0);
    assert_int_equal(c.n, 4);
    collected_free(&c);
    assert_int_equal(file_size(path), (off_t)last_start);

    /* A zero-filled tail (the file grew but the data never landed). */
    uint8_t *zeros = calloc(1, full_len + 4096);
    memcpy(zeros, full, full_len);
    write_file(path, zeros, full_len + 4096);
    assert_int_equal(recover_into(&o, 0, &c, NULL, &err), 0);
    assert_int_equal(c.n, 5);
    collected_free(&c);
    assert_int_equal(file_size(path), (off_t)full_len);

    /* A newest segment shorter than its header: deleted. */
    char p3[PATH_MAX];
    seg_path(dir, 3, p3, sizeof p3);
    write_file(p3, full, 10);
    uint64_t last = 0;
    assert_int_equal(recover_into(&o, 0, &c, &last, &err), 0);
    assert_int_equal(c.n, 5);
    assert_int_equal(last, 3);
    collected_free(&c);
    assert_int_equal(access(p3, F_OK), -1);

    free(zeros);
    free(copy);
    free(full);
    remove_dir(dir);
}

/* ---- corruption ---------------------------------------------------------- */

static void expect_corrupt(const lsm_wal_options *o, const char *path,
                           uint64_t off)
{
    collected c;
    dc_error err;
    int rc = recover_into(o, 0, &c, NULL, &err);
    collected_free(&c);
    assert_int_equal(rc, DC_ECORRUPT);
    assert_string_equal(err.sqlstate, "XX001");
    assert_non_null(strstr(err.message, path));
    char want[64];
    snprintf(want, sizeof want, "byte offset %" PRIu64 ":", off);
    if (strstr(err.message, want) == NULL)
        fail_msg("want \"%s\" in \"%s\"", want, err.message);
}

static void test_corruption_before_tail(void **state)
{
    (void)state;
    char *dir = make_dir();
    lsm_wal_options o = {.dir = dir, .sync_mode = LSM_WAL_SYNC_OFF};
    lsm_wal *w = open_wal(&o, 1);
    size_t lens[5] = {100, 50, 120, 60, 40};
    uint64_t offs[5];
    uint64_t off = LSM_WAL_HEADER_SIZE;
    for (uint32_t i = 0; i < 5; i++) {
        offs[i] = off;
        append_id(w, i, lens[i], false);
        off += 8 + lens[i];
    }
    lsm_wal_close(w);
    char path[PATH_MAX];
    seg_path(dir, 1, path, sizeof path);
    size_t full_len;
    uint8_t *full = read_file(path, &full_len);
    assert_int_equal(full_len, off);
    uint8_t *copy = malloc(full_len);

    /* A flipped byte in the payload, the CRC and each length byte of the
     * middle record: an error at its offset, the file left alone. */
    size_t where[] = {offs[2] + 8 + 17, offs[2] + 1, offs[2] + 4,
                      offs[2] + 5,      offs[2] + 6, offs[2] + 7};
    for (size_t k = 0; k < sizeof where / sizeof where[0]; k++) {
        memcpy(copy, full, full_len);
        copy[where[k]] ^= 0x10;
        if (where[k] == offs[2] + 7)
            copy[where[k]] = 0xff; /* impossible length */
        write_file(path, copy, full_len);
        expect_corrupt(&o, path, offs[2]);
        assert_int_equal(file_size(path), (off_t)full_len);
    }

    /* Damage in a segment that is not the newest: an error even at its
     * end. */
    memcpy(copy, full, full_len);
    write_file(path, copy, full_len - 3);
    w = open_wal(&o, 2);
    append_id(w, 9, 9, true);
    lsm_wal_close(w);
    expect_corrupt(&o, path, offs[4]);
    assert_int_equal(file_size(path), (off_t)full_len - 3);

    free(copy);
    free(full);
    remove_dir(dir);
}

static void rewrite_header(const char *path, uint32_t version,
                           const char *magic)
{
    size_t len;
    uint8_t *b = read_file(path, &len);
    memcpy(b, magic, 8);
    lsm_put_fixed32(b + 8, version);
    lsm_put_fixed32(b + 28, lsm_crc_mask(lsm_crc32c(b, 28)));
    write_file(path, b, len);
    free(b);
}

static void test_bad_header(void **state)
{
    (void)state;
    char *dir = make_dir();
    lsm_wal_options o = {.dir = dir};
    lsm_wal *w = open_wal(&o, 5);
    append_id(w, 1, 20, true);
    lsm_wal_close(w);
    char path[PATH_MAX];
    seg_path(dir, 5, path, sizeof path);

    rewrite_header(path, LSM_FORMAT_VERSION, "NOTAWAL!");
    expect_corrupt(&o, path, 0);
    collected c;
    dc_error err;
    assert_int_equal(recover_into(&o, 0, &c, NULL, &err), DC_ECORRUPT);
    assert_non_null(strstr(err.message, "magic"));

    rewrite_header(path, LSM_FORMAT_VERSION + 1, "DCWALSEG");
    assert_int_equal(recover_into(&o, 0, &c, NULL, &err), DC_EUNSUPPORTED);
    assert_non_null(strstr(err.message, path));
    char want[64];
    snprintf(want, sizeof want, "format version %u", LSM_FORMAT_VERSION + 1);
    assert_non_null(strstr(err.message, want));
    snprintf(want, sizeof want, "(%u)", LSM_FORMAT_VERSION);
    assert_non_null(strstr(err.message, want));

    /* Back to valid, then a header byte flipped: checksum error. */
    rewrite_header(path, LSM_FORMAT_VERSION, "DCWALSEG");
    assert_int_equal(recover_into(&o, 0, &c, NULL, &err), 0);
    assert_int_equal(c.n, 1);
    collected_free(&c);
    size_t len;
    uint8_t *b = read_file(path, &len);
    b[18] ^= 1;
    write_file(path, b, len);
    expect_corrupt(&o, path, 0);
    /* A renamed segment: the header's number does not match. */
    b[18] ^= 1;
    write_file(path, b, len);
    char other[PATH_MAX];
    seg_path(dir, 6, other, sizeof other);
    assert_int_equal(rename(path, other), 0);
    expect_corrupt(&o, other, 16);
    free(b);
    remove_dir(dir);
}

/* ---- sync modes and counters --------------------------------------------- */

static void test_sync_modes(void **state)
{
    (void)state;
    char *dir = make_dir();
    lsm_wal_options o = {.dir = dir, .sync_mode = LSM_WAL_SYNC_INTERVAL};
    lsm_wal *w = open_wal(&o, 1);
    assert_int_equal(lsm_wal_sync_mode(w), LSM_WAL_SYNC_INTERVAL);
    lsm_wal_stats st;
    append_id(w, 1, 10, false);
    append_id(w, 2, 10, false);
    lsm_wal_stats_get(w, &st);
    assert_int_equal(st.fsyncs, 0);
    assert_int_equal(st.appends, 2);
    assert_int_equal(st.append_bytes, 20);
    assert_int_equal(st.writes, 2);
    assert_int_equal(st.file_bytes, LSM_WAL_HEADER_SIZE + 2 * (8 + 10));
    dc_error err;
    dc_error_init(&err);
    assert_int_equal(lsm_wal_sync(w, &err), 0);
    lsm_wal_stats_get(w, &st);
    assert_int_equal(st.fsyncs, 1);
    assert_int_equal(lsm_wal_sync(w, &err), 0); /* clean: no fsync */
    lsm_wal_stats_get(w, &st);
    assert_int_equal(st.fsyncs, 1);
    append_id(w, 3, 10, true); /* an explicit sync in any mode */
    lsm_wal_stats_get(w, &st);
    assert_int_equal(st.fsyncs, 2);
    lsm_wal_close(w);

    o.sync_mode = LSM_WAL_SYNC_ALWAYS;
    w = open_wal(&o, 2);
    append_id(w, 4, 10, false);
    append_id(w, 5, 10, false);
    lsm_wal_stats_get(w, &st);
    assert_int_equal(st.fsyncs, 2);
    lsm_wal_close(w);

    o.sync_mode = 7;
    lsm_wal *bad = NULL;
    assert_int_equal(lsm_wal_open(&o, 3, &bad, &err), DC_EINVAL);
    remove_dir(dir);
}

/* ---- group commit -------------------------------------------------------- */

enum { GC_THREADS = 4, GC_PER_THREAD = 300 };

typedef struct gc_arg {
    lsm_wal *w;
    uint32_t t;
} gc_arg;

static void *gc_thread(void *p)
{
    gc_arg *a = p;
    for (uint32_t i = 0; i < GC_PER_THREAD; i++) {
        uint8_t rec[12];
        lsm_put_fixed32(rec, a->t);
        lsm_put_fixed32(rec + 4, i);
        lsm_put_fixed32(rec + 8, a->t * 1000003u + i);
        dc_error err;
        dc_error_init(&err);
        if (lsm_wal_append(a->w, rec, sizeof rec, true, &err) != 0)
            return (void *)1;
    }
    return NULL;
}

static void test_group_commit_threads(void **state)
{
    (void)state;
    char *dir = make_dir();
    lsm_wal_options o = {.dir = dir, .sync_mode = LSM_WAL_SYNC_ALWAYS};
    lsm_wal *w = open_wal(&o, 1);
    pthread_t th[GC_THREADS];
    gc_arg args[GC_THREADS];
    for (uint32_t t = 0; t < GC_THREADS; t++) {
        args[t] = (gc_arg){w, t};
        assert_int_equal(pthread_create(&th[t], NULL, gc_thread, &args[t]), 0);
    }
    /* Rotations queue among the appends. */
    for (int k = 0; k < 5; k++) {
        dc_error rerr;
        dc_error_init(&rerr);
        assert_int_equal(lsm_wal_rotate(w, NULL, &rerr), 0);
    }
    for (uint32_t t = 0; t < GC_THREADS; t++) {
        void *r;
        pthread_join(th[t], &r);
        assert_null(r);
    }
    lsm_wal_stats st;
    lsm_wal_stats_get(w, &st);
    assert_int_equal(st.appends, GC_THREADS * GC_PER_THREAD);
    assert_true(st.fsyncs <= st.appends);
    assert_true(st.writes <= st.appends);
    assert_int_equal(st.fsyncs, st.writes); /* one fsync per batch */
    assert_int_equal(st.queued, 0);
    assert_int_equal(st.segment, 6);
    lsm_wal_close(w);

    collected c;
    dc_error err;
    assert_int_equal(recover_into(&o, 0, &c, NULL, &err), 0);
    assert_int_equal(c.n, GC_THREADS * GC_PER_THREAD);
    uint32_t next[GC_THREADS] = {0};
    uint64_t seg[GC_THREADS] = {0};
    for (size_t k = 0; k < c.n; k++) {
        assert_int_equal(c.len[k], 12);
        uint32_t t = lsm_get_fixed32(c.rec[k]);
        uint32_t i = lsm_get_fixed32(c.rec[k] + 4);
        assert_true(t < GC_THREADS);
        assert_int_equal(i, next[t]); /* exactly once, in order */
        assert_int_equal(lsm_get_fixed32(c.rec[k] + 8), t * 1000003u + i);
        next[t]++;
        assert_true(c.seg[k] >= seg[t]); /* a thread never goes back */
        seg[t] = c.seg[k];
    }
    collected_free(&c);
    remove_dir(dir);
}

/* The first leader waits (in the test hook) until all four appenders are
 * queued, so it must write them in one batch with one fsync. */
typedef struct hook_state {
    lsm_wal *w;
    int calls;
    uint64_t want_queued;
} hook_state;

static void wait_queued(void *ud)
{
    hook_state *h = ud;
    if (h->calls++ > 0)
        return;
    for (;;) {
        lsm_wal_stats st;
        lsm_wal_stats_get(h->w, &st);
        if (st.queued >= h->want_queued)
            return;
        struct timespec ts = {0, 100000};
        nanosleep(&ts, NULL);
    }
}

typedef struct one_arg {
    lsm_wal *w;
    uint32_t id;
    bool sync;
    int rc;
} one_arg;

static void *append_one(void *p)
{
    one_arg *a = p;
    uint8_t rec[8];
    lsm_put_fixed32(rec, a->id);
    lsm_put_fixed32(rec + 4, ~a->id);
    dc_error err;
    dc_error_init(&err);
    a->rc = lsm_wal_append(a->w, rec, sizeof rec, a->sync, &err);
    return NULL;
}

static void test_group_commit_batching(void **state)
{
    (void)state;
    char *dir = make_dir();
    hook_state h = {.want_queued = 4};
    lsm_wal_options o = {.dir = dir,
                         .sync_mode = LSM_WAL_SYNC_OFF,
                         .leader_hook = wait_queued,
                         .leader_hook_ud = &h};
    lsm_wal *w = open_wal(&o, 1);
    h.w = w;
    pthread_t th[4];
    one_arg a[4];
    for (uint32_t t = 0; t < 4; t++) {
        /* Only one asks for sync: the whole batch becomes durable. */
        a[t] = (one_arg){w, t, t == 2, -1};
        assert_int_equal(pthread_create(&th[t], NULL, append_one, &a[t]), 0);
    }
    for (int t = 0; t < 4; t++) {
        pthread_join(th[t], NULL);
        assert_int_equal(a[t].rc, 0);
    }
    lsm_wal_stats st;
    lsm_wal_stats_get(w, &st);
    assert_int_equal(st.appends, 4);
    assert_int_equal(st.writes, 1);
    assert_int_equal(st.fsyncs, 1);
    assert_int_equal(h.calls, 1);
    lsm_wal_close(w);

    collected c;
    dc_error err;
    o.leader_hook = NULL;
    assert_int_equal(recover_into(&o, 0, &c, NULL, &err), 0);
    assert_int_equal(c.n, 4);
    int seen = 0;
    for (size_t k = 0; k < c.n; k++) {
        uint32_t id = lsm_get_fixed32(c.rec[k]);
        assert_int_equal(lsm_get_fixed32(c.rec[k] + 4), ~id);
        seen |= 1 << id;
    }
    assert_int_equal(seen, 0xf);
    collected_free(&c);
    remove_dir(dir);
}

/* A rotate queued behind records: the records land in the old segment,
 * appends after it in the new one. */
static void test_rotate_in_queue(void **state)
{
    (void)state;
    char *dir = make_dir();
    lsm_wal_options o = {.dir = dir, .sync_mode = LSM_WAL_SYNC_OFF};
    lsm_wal *w = open_wal(&o, 10);
    append_id(w, 1, 5, false);
    dc_error err;
    dc_error_init(&err);
    uint64_t ns = 0;
    assert_int_equal(lsm_wal_rotate(w, &ns, &err), 0);
    assert_int_equal(ns, 11);
    assert_int_equal(lsm_wal_rotate(w, &ns, &err), 0);
    assert_int_equal(ns, 12);
    append_id(w, 2, 5, false);
    lsm_wal_close(w);
    collected c;
    uint64_t last;
    assert_int_equal(recover_into(&o, 0, &c, &last, &err), 0);
    assert_int_equal(last, 12);
    assert_int_equal(c.n, 2);
    assert_int_equal(c.seg[0], 10);
    assert_int_equal(c.seg[1], 12);
    collected_free(&c);
    remove_dir(dir);
}

/* ---- encryption ---------------------------------------------------------- */

/* A toy module: XOR with a keystream from a 4-byte nonce and the key id,
 * plus a 4-byte tag (CRC of key, aad, nonce, ciphertext).  Overhead 8. */
typedef struct toy_enc {
    uint32_t key_id;
    uint32_t nonce;
    int opens;
    bool fail_seal;
} toy_enc;

static size_t toy_overhead(void *inst)
{
    (void)inst;
    return 8;
}

static uint32_t toy_key(void *inst)
{
    return ((toy_enc *)inst)->key_id;
}

static uint8_t toy_stream(uint32_t key, uint32_t nonce, size_t i)
{
    uint32_t x = key * 0x9e3779b9u ^ nonce * 0x85ebca6bu ^ (uint32_t)i;
    x ^= x >> 13;
    x *= 0xc2b2ae35u;
    x ^= x >> 16;
    return (uint8_t)x;
}

static uint32_t toy_tag(uint32_t key, const uint8_t *aad, size_t aad_len,
                        const uint8_t *nonce_ct, size_t n)
{
    uint8_t k[4];
    lsm_put_fixed32(k, key);
    uint32_t c = lsm_crc32c(k, 4);
    c = lsm_crc32c_extend(c, aad, aad_len);
    return lsm_crc32c_extend(c, nonce_ct, n);
}

static int toy_seal(void *inst, uint32_t key_id, const uint8_t *aad,
                    size_t aad_len, const uint8_t *in, size_t len, uint8_t *out,
                    size_t out_cap, size_t *out_len, dc_error *err)
{
    toy_enc *t = inst;
    if (t->fail_seal)
        return dc_error_set(err, DC_ENOTFOUND, "XX000", "no such key");
    if (out_cap < len + 8)
        return dc_error_set(err, DC_EINVAL, "XX000", "out too small");
    uint32_t nonce = __atomic_add_fetch(&t->nonce, 1, __ATOMIC_RELAXED);
    lsm_put_fixed32(out, nonce);
    for (size_t i = 0; i < len; i++)
        out[4 + i] = in[i] ^ toy_stream(key_id, nonce, i);
    lsm_put_fixed32(out + 4 + len, toy_tag(key_id, aad, aad_len, out, 4 + len));
    *out_len = len + 8;
    return 0;
}

static int toy_open(void *inst, uint32_t key_id, const uint8_t *aad,
                    size_t aad_len, const uint8_t *in, size_t len, uint8_t *out,
                    size_t out_cap, size_t *out_len, dc_error *err)
{
    toy_enc *t = inst;
    t->opens++;
    if (len < 8 || out_cap < len - 8)
        return dc_error_set(err, DC_EINVAL, "XX000", "bad sizes");
    if (key_id != 7 && key_id != 8)
        return dc_error_set(err, DC_ENOTFOUND, "XX000", "unknown key");
    size_t n = len - 8;
    if (lsm_get_fixed32(in + 4 + n) != toy_tag(key_id, aad, aad_len, in, 4 + n))
        return dc_error_set(err, DC_ECORRUPT, "XX001", "tag mismatch");
    uint32_t nonce = lsm_get_fixed32(in);
    for (size_t i = 0; i < n; i++)
        out[i] = in[4 + i] ^ toy_stream(key_id, nonce, i);
    *out_len = n;
    return 0;
}

static const dc_encryption_vtable toy_vt = {
    .size = sizeof(dc_encryption_vtable),
    .overhead = toy_overhead,
    .current_key_id = toy_key,
    .seal = toy_seal,
    .open = toy_open,
};

static const char secret[] = "SECRET-PLAINTEXT-0123456789-abcdefghij";

static bool contains(const uint8_t *hay, size_t n, const void *needle, size_t m)
{
    for (size_t i = 0; i + m <= n; i++)
        if (memcmp(hay + i, needle, m) == 0)
            return true;
    return false;
}

static void test_encryption(void **state)
{
    (void)state;
    char *dir = make_dir();
    toy_enc te = {.key_id = 7};
    lsm_wal_options o = {.dir = dir,
                         .sync_mode = LSM_WAL_SYNC_OFF,
                         .enc = &toy_vt,
                         .enc_instance = &te};
    lsm_wal *w = open_wal(&o, 1);
    dc_error err;
    dc_error_init(&err);
    for (int i = 0; i < 3; i++)
        assert_int_equal(lsm_wal_append(w, (const uint8_t *)secret,
                                        sizeof secret, false, &err),
                         0);
    assert_int_equal(lsm_wal_append(w, NULL, 0, false, &err), 0);
    /* A new key: the next segment is sealed under it. */
    te.key_id = 8;
    assert_int_equal(lsm_wal_rotate(w, NULL, &err), 0);
    append_id(w, 5, 1000, false);
    lsm_wal_close(w);

    char path[PATH_MAX];
    seg_path(dir, 1, path, sizeof path);
    size_t len;
    uint8_t *b = read_file(path, &len);
    assert_int_equal(lsm_get_fixed32(b + 12), 7);
    assert_int_equal(len, LSM_WAL_HEADER_SIZE + 3 * (8 + sizeof secret + 8) +
                              (8 + 8));
    assert_false(contains(b, len, secret, 8));
    char p2[PATH_MAX];
    seg_path(dir, 2, p2, sizeof p2);
    size_t len2;
    uint8_t *b2 = read_file(p2, &len2);
    assert_int_equal(lsm_get_fixed32(b2 + 12), 8);
    free(b2);

    collected c;
    assert_int_equal(recover_into(&o, 0, &c, NULL, &err), 0);
    assert_int_equal(c.n, 5);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(c.len[i], sizeof secret);
        assert_memory_equal(c.rec[i], secret, sizeof secret);
    }
    assert_int_equal(c.len[3], 0);
    check_record(&c, 4, 5, 1000);
    collected_free(&c);

    /* Tamper with the second record's ciphertext and fix its CRC: the CRC
     * passes, authentication fails, reported with file and offset. */
    uint64_t off2 = LSM_WAL_HEADER_SIZE + (8 + sizeof secret + 8);
    b[off2 + 8 + 6] ^= 0x01;
    uint32_t slen = lsm_get_fixed32(b + off2 + 4);
    lsm_put_fixed32(b + off2, lsm_crc_mask(lsm_crc32c(b + off2 + 4, 4 + slen)));
    write_file(path, b, len);
    expect_corrupt(&o, path, off2);
    assert_int_equal(recover_into(&o, 0, &c, NULL, &err), DC_ECORRUPT);
    collected_free(&c);
    assert_non_null(strstr(err.message, "authentication"));

    /* Swapping two whole records (each with a valid CRC) fails too: the
     * AAD binds the offset. */
    free(b);
    b = NULL;
    w = NULL;
    remove_dir(dir);
    dir = make_dir();
    o.dir = dir;
    te.key_id = 7;
    w = open_wal(&o, 1);
    append_id(w, 1, 40, false);
    append_id(w, 2, 40, false);
    lsm_wal_close(w);
    seg_path(dir, 1, path, sizeof path);
    b = read_file(path, &len);
    uint8_t tmp[56];
    memcpy(tmp, b + LSM_WAL_HEADER_SIZE, 56);
    memmove(b + LSM_WAL_HEADER_SIZE, b + LSM_WAL_HEADER_SIZE + 56, 56);
    memcpy(b + LSM_WAL_HEADER_SIZE + 56, tmp, 56);
    write_file(path, b, len);
    expect_corrupt(&o, path, LSM_WAL_HEADER_SIZE);

    /* Without the module, an encrypted segment cannot be read. */
    lsm_wal_options plain = {.dir = dir};
    assert_int_equal(recover_into(&plain, 0, &c, NULL, &err), DC_EINVAL);
    assert_non_null(strstr(err.message, path));
    collected_free(&c);
    free(b);
    remove_dir(dir);
}

/* ---- faults -------------------------------------------------------------- */

/* A sealing failure fails that append only; the log stays usable. */
static void test_seal_failure(void **state)
{
    (void)state;
    char *dir = make_dir();
    toy_enc te = {.key_id = 7};
    lsm_wal_options o = {.dir = dir, .enc = &toy_vt, .enc_instance = &te};
    lsm_wal *w = open_wal(&o, 1);
    append_id(w, 1, 30, true);
    te.fail_seal = true;
    dc_error err;
    dc_error_init(&err);
    uint8_t rec[4] = {1, 2, 3, 4};
    assert_int_equal(lsm_wal_append(w, rec, 4, true, &err), DC_ENOTFOUND);
    assert_string_equal(err.message, "no such key");
    te.fail_seal = false;
    append_id(w, 2, 30, true);
    lsm_wal_close(w);
    collected c;
    assert_int_equal(recover_into(&o, 0, &c, NULL, &err), 0);
    assert_int_equal(c.n, 2);
    check_record(&c, 0, 1, 30);
    check_record(&c, 1, 2, 30);
    collected_free(&c);
    remove_dir(dir);
}

/* A failed write (the file size limit, EFBIG) leaves a partial record and
 * makes the handle unusable; recovery cuts the partial record. */
static void test_write_failure(void **state)
{
    (void)state;
    char *dir = make_dir();
    lsm_wal_options o = {.dir = dir, .sync_mode = LSM_WAL_SYNC_ALWAYS};
    lsm_wal *w = open_wal(&o, 1);
    append_id(w, 1, 100, true);
    struct rlimit old, lim;
    assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
    void (*old_sig)(int) = signal(SIGXFSZ, SIG_IGN);
    lim = old;
    lim.rlim_cur = 4096;
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
    dc_error err;
    dc_error_init(&err);
    uint8_t *big = malloc(10000);
    memset(big, 0xab, 10000); /* not zeros: a cut-short copy must not pass
                                 for the record over the zeros ahead */
    int rc = lsm_wal_append(w, big, 10000, true, &err);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
    signal(SIGXFSZ, old_sig);
    assert_int_equal(rc, DC_EIO);
    assert_string_equal(err.sqlstate, "58030");
    char path[PATH_MAX];
    seg_path(dir, 1, path, sizeof path);
    assert_non_null(strstr(err.message, path));
    /* Unusable from now on, though the limit is gone. */
    dc_error_init(&err);
    assert_int_equal(lsm_wal_append(w, big, 10, true, &err), DC_EIO);
    assert_non_null(strstr(err.message, "unusable"));
    assert_int_equal(lsm_wal_sync(w, &err), DC_EIO);
    assert_int_equal(lsm_wal_rotate(w, NULL, &err), DC_EIO);
    lsm_wal_close(w);
    /* The record was cut short at the limit (the file may extend beyond
     * it: segments grow by zeros written ahead). */
    assert_true(file_size(path) >= 4096);
    collected c;
    assert_int_equal(recover_into(&o, 0, &c, NULL, &err), 0);
    assert_int_equal(c.n, 1);
    check_record(&c, 0, 1, 100);
    collected_free(&c);
    assert_int_equal(file_size(path), LSM_WAL_HEADER_SIZE + 8 + 100);
    free(big);
    remove_dir(dir);
}

/* Segments grow by zeros written ahead of the records (so that a commit's
 * fdatasync does not also write the inode): the newest segment is longer
 * than its records until it is closed or recovered; a rotated segment is
 * cut to its records; zeros at the end of any segment read as its end. */
static void test_zeros_ahead(void **state)
{
    (void)state;
    char *dir = make_dir();
    lsm_wal_options o = {.dir = dir, .sync_mode = LSM_WAL_SYNC_ALWAYS};
    lsm_wal *w = open_wal(&o, 1);
    const uint64_t rec_end = LSM_WAL_HEADER_SIZE + 3 * (8 + 50);
    for (uint32_t i = 0; i < 3; i++)
        append_id(w, i, 50, true);
    char p1[PATH_MAX], p2[PATH_MAX];
    seg_path(dir, 1, p1, sizeof p1);
    seg_path(dir, 2, p2, sizeof p2);
    assert_true(file_size(p1) > (long long)rec_end);
    dc_error err;
    dc_error_init(&err);
    assert_int_equal(lsm_wal_rotate(w, NULL, &err), 0);
    assert_int_equal(file_size(p1), rec_end);
    append_id(w, 3, 50, true);
    assert_true(file_size(p2) > (long long)(LSM_WAL_HEADER_SIZE + 58));
    /* A crash here: segment 2 ends in zeros.  Give segment 1 a zero tail
     * too (as a crash between writing zeros and cutting them leaves). */
    FILE *f = fopen(p1, "ab");
    assert_non_null(f);
    static const uint8_t z[5000];
    assert_int_equal(fwrite(z, 1, sizeof z, f), sizeof z);
    fclose(f);
    collected c;
    assert_int_equal(recover_into(&o, 0, &c, NULL, &err), 0);
    assert_int_equal(c.n, 4);
    for (uint32_t i = 0; i < 4; i++)
        check_record(&c, i, i, 50);
    collected_free(&c);
    assert_int_equal(file_size(p2), LSM_WAL_HEADER_SIZE + 58);
    lsm_wal_close(w);
    /* Closing cuts the zeros too. */
    assert_int_equal(file_size(p2), LSM_WAL_HEADER_SIZE + 58);
    remove_dir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip_rotations),
        cmocka_unit_test(test_empty_dir_and_names),
        cmocka_unit_test(test_callback_error),
        cmocka_unit_test(test_torn_tail_every_offset),
        cmocka_unit_test(test_corruption_before_tail),
        cmocka_unit_test(test_bad_header),
        cmocka_unit_test(test_sync_modes),
        cmocka_unit_test(test_group_commit_threads),
        cmocka_unit_test(test_group_commit_batching),
        cmocka_unit_test(test_rotate_in_queue),
        cmocka_unit_test(test_encryption),
        cmocka_unit_test(test_seal_failure),
        cmocka_unit_test(test_write_failure),
        cmocka_unit_test(test_zeros_ahead),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
