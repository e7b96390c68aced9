/*
 * test_sqlx_txn.c - transactions (sql/txn.h) over the memory and lsm
 * storage engines: write set visibility and merge order, range
 * tombstones, savepoints (data and catalog), commit atomicity and
 * durability, snapshots per isolation level, row locks (waits, READ
 * COMMITTED re-checks, 40001, deadlocks, lock_timeout, cancel), read-only
 * transactions and engine counters.
 *
 * Blocked threads are detected with sql_lockmgr_waiters(), never with
 * sleeps.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "sql_testutil.h"

static const char *g_module = "memory";
static sqlt_env E;

static int setup(void **state)
{
    (void)state;
    return sqlt_open(&E, g_module);
}

static int teardown(void **state)
{
    (void)state;
    if (E.eng.catalog != NULL) {
        sql_catalog_unref(E.eng.catalog);
        E.eng.catalog = NULL;
    }
    sqlt_close(&E);
    return 0;
}

/* ---- helpers ------------------------------------------------------------- */

#define K(s) (const uint8_t *)(s), strlen(s)

static sql_txn *begin(sql_isolation iso)
{
    dc_error err;
    dc_error_init(&err);
    sql_txn *t = NULL;
    assert_int_equal(sql_txn_begin(&E.eng, iso, false, 0, NULL, &t, &err),
                     DC_OK);
    assert_int_equal(sql_txn_stmt_begin(t, &err), DC_OK);
    return t;
}

static void put(sql_txn *t, const char *k, const char *v)
{
    dc_error err;
    dc_error_init(&err);
    assert_int_equal(sql_txn_put(t, K(k), (const uint8_t *)v, strlen(v), &err),
                     DC_OK);
}

static void del(sql_txn *t, const char *k)
{
    dc_error err;
    dc_error_init(&err);
    assert_int_equal(sql_txn_delete(t, K(k), &err), DC_OK);
}

static void del_range(sql_txn *t, const char *lo, const char *hi)
{
    dc_error err;
    dc_error_init(&err);
    assert_int_equal(sql_txn_delete_range(t, K(lo), K(hi), &err), DC_OK);
}

static void commit(sql_txn *t)
{
    dc_error err;
    dc_error_init(&err);
    int rc = sql_txn_commit(t, &err);
    if (rc != DC_OK)
        fail_msg("commit: %s", err.message);
}

/* Value of k as a string ("-" when absent). */
static const char *get(sql_txn *t, int mode, const char *k)
{
    static char out[4][128];
    static int slot;
    char *o = out[slot++ & 3];
    dc_error err;
    dc_error_init(&err);
    sql_buf b = {0};
    bool found = false;
    assert_int_equal(sql_txn_get(t, mode, K(k), &b, &found, &err), DC_OK);
    if (!found)
        snprintf(o, 128, "-");
    else
        snprintf(o, 128, "%.*s", (int)b.len, b.data ? (char *)b.data : "");
    sql_buf_free(&b);
    return o;
}

/* The merged view over [lo, hi) as "k=v,k=v" (NULL bounds: unbounded);
 * `seek` (may be NULL) positions first. */
static const char *scan(sql_txn *t, int mode, const char *lo, const char *hi,
                        const char *seek)
{
    static char out[2][4096];
    static int slot;
    char *o = out[slot++ & 1];
    size_t n = 0;
    o[0] = '\0';
    dc_error err;
    dc_error_init(&err);
    sql_txn_iter *it = NULL;
    assert_int_equal(sql_txn_iter_open(t, mode, (const uint8_t *)lo,
                                       lo ? strlen(lo) : 0, (const uint8_t *)hi,
                                       hi ? strlen(hi) : 0, &it, &err),
                     DC_OK);
    if (seek != NULL)
        assert_int_equal(sql_txn_iter_seek(it, K(seek), &err), DC_OK);
    for (;;) {
        bool valid = false;
        assert_int_equal(sql_txn_iter_next(it, &valid, &err), DC_OK);
        if (!valid)
            break;
        const uint8_t *k, *v;
        size_t kn, vn;
        sql_txn_iter_key(it, &k, &kn);
        sql_txn_iter_value(it, &v, &vn);
        /* Skip the engine's META keys (rowid counter etc.). */
        if (kn >= 1 && k[0] == 0)
            continue;
        n += (size_t)snprintf(o + n, 4096 - n, "%s%.*s=%.*s", n ? "," : "",
                              (int)kn, (const char *)k, (int)vn,
                              (const char *)v);
    }
    sql_txn_iter_close(it);
    return o;
}

/* Wait until `n` transactions are blocked on locks. */
static void wait_waiters(size_t n)
{
    while (sql_lockmgr_waiters(E.eng.locks) < n)
        sched_yield();
}

/* ---- write set ------------------------------------------------------------
 */

static void test_write_set_visibility(void **state)
{
    (void)state;
    sql_txn *t0 = begin(SQL_ISO_READ_COMMITTED);
    put(t0, "b", "B0");
    put(t0, "d", "D0");
    put(t0, "f", "F0");
    commit(t0);

    sql_txn *t = begin(SQL_ISO_READ_COMMITTED);
    sql_txn *o = begin(SQL_ISO_READ_COMMITTED);
    assert_false(sql_txn_has_writes(t));
    put(t, "a", "A1");
    put(t, "d", "D1");
    del(t, "f");
    put(t, "g", "G1");
    put(t, "g", "G2"); /* the last write wins */
    assert_true(sql_txn_has_writes(t));
    assert_string_equal(get(t, SQL_READ_SNAPSHOT, "a"), "A1");
    assert_string_equal(get(t, SQL_READ_SNAPSHOT, "b"), "B0");
    assert_string_equal(get(t, SQL_READ_LATEST, "d"), "D1");
    assert_string_equal(get(t, SQL_READ_SNAPSHOT, "f"), "-");
    assert_string_equal(scan(t, SQL_READ_SNAPSHOT, NULL, NULL, NULL),
                        "a=A1,b=B0,d=D1,g=G2");
    assert_string_equal(scan(t, SQL_READ_LATEST, "b", "g", NULL), "b=B0,d=D1");
    assert_string_equal(scan(t, SQL_READ_SNAPSHOT, "a", "z", "c"), "d=D1,g=G2");
    /* Another transaction sees none of it. */
    assert_string_equal(scan(o, SQL_READ_LATEST, NULL, NULL, NULL),
                        "b=B0,d=D0,f=F0");
    commit(t);
    /* READ COMMITTED: the next statement sees the commit. */
    assert_string_equal(scan(o, SQL_READ_SNAPSHOT, NULL, NULL, NULL),
                        "b=B0,d=D0,f=F0");
    dc_error err;
    dc_error_init(&err);
    assert_int_equal(sql_txn_stmt_begin(o, &err), DC_OK);
    assert_string_equal(scan(o, SQL_READ_SNAPSHOT, NULL, NULL, NULL),
                        "a=A1,b=B0,d=D1,g=G2");
    sql_txn_abort(o);
}

static void test_repeatable_read_snapshot(void **state)
{
    (void)state;
    sql_txn *rr = begin(SQL_ISO_REPEATABLE_READ);
    sql_txn *rc = begin(SQL_ISO_READ_COMMITTED);
    sql_txn *w = begin(SQL_ISO_READ_COMMITTED);
    put(w, "k", "v");
    commit(w);
    dc_error err;
    dc_error_init(&err);
    assert_int_equal(sql_txn_stmt_begin(rr, &err), DC_OK);
    assert_int_equal(sql_txn_stmt_begin(rc, &err), DC_OK);
    assert_string_equal(get(rr, SQL_READ_SNAPSHOT, "k"), "-");
    assert_string_equal(get(rr, SQL_READ_LATEST, "k"), "v");
    assert_string_equal(get(rc, SQL_READ_SNAPSHOT, "k"), "v");
    sql_txn_abort(rr);
    sql_txn_abort(rc);
}

static void test_range_tombstones(void **state)
{
    (void)state;
    sql_txn *t0 = begin(SQL_ISO_READ_COMMITTED);
    const char *keys[] = {"a", "b", "c", "ca", "d", "e", "f", "g"};
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++)
        put(t0, keys[i], "0");
    commit(t0);

    sql_txn *t = begin(SQL_ISO_READ_COMMITTED);
    put(t, "cb", "1"); /* earlier write in the range: removed by it */
    put(t, "h", "1");
    del_range(t, "c", "f");
    assert_string_equal(get(t, SQL_READ_SNAPSHOT, "cb"), "-");
    assert_string_equal(get(t, SQL_READ_SNAPSHOT, "ca"), "-");
    put(t, "d", "2"); /* later write in the range wins */
    assert_string_equal(scan(t, SQL_READ_SNAPSHOT, NULL, NULL, NULL),
                        "a=0,b=0,d=2,f=0,g=0,h=1");
    assert_string_equal(scan(t, SQL_READ_LATEST, "b", "e", NULL), "b=0,d=2");
    assert_string_equal(scan(t, SQL_READ_SNAPSHOT, "ca", "cz", NULL), "");
    assert_string_equal(scan(t, SQL_READ_SNAPSHOT, NULL, NULL, "c"),
                        "d=2,f=0,g=0,h=1");
    del_range(t, "a", "b0");
    assert_string_equal(scan(t, SQL_READ_SNAPSHOT, NULL, NULL, NULL),
                        "d=2,f=0,g=0,h=1");
    commit(t);
    sql_txn *r = begin(SQL_ISO_READ_COMMITTED);
    assert_string_equal(scan(r, SQL_READ_SNAPSHOT, NULL, NULL, NULL),
                        "d=2,f=0,g=0,h=1");
    sql_txn_abort(r);
}

static void test_savepoints(void **state)
{
    (void)state;
    dc_error err;
    dc_error_init(&err);
    sql_txn *t0 = begin(SQL_ISO_READ_COMMITTED);
    put(t0, "s1", "0");
    put(t0, "s2", "0");
    commit(t0);

    sql_txn *t = begin(SQL_ISO_READ_COMMITTED);
    sql_savepoint *sp0 = NULL, *sp1 = NULL, *sp2 = NULL;
    assert_int_equal(sql_txn_savepoint(t, &sp0, &err), DC_OK);
    put(t, "x", "1");
    assert_int_equal(sql_txn_savepoint(t, &sp1, &err), DC_OK);
    put(t, "x", "2");
    put(t, "y", "1");
    del(t, "s1");
    assert_int_equal(sql_txn_savepoint(t, &sp2, &err), DC_OK);
    del_range(t, "a", "z");
    put(t, "s2", "9");
    assert_string_equal(scan(t, SQL_READ_SNAPSHOT, NULL, NULL, NULL), "s2=9");
    assert_int_equal(sql_txn_rollback_to(t, sp2, &err), DC_OK);
    assert_string_equal(scan(t, SQL_READ_SNAPSHOT, NULL, NULL, NULL),
                        "s2=0,x=2,y=1");
    assert_int_equal(sql_txn_rollback_to(t, sp1, &err), DC_OK);
    sql_txn_savepoint_free(t, sp2);
    assert_string_equal(scan(t, SQL_READ_SNAPSHOT, NULL, NULL, NULL),
                        "s1=0,s2=0,x=1");
    put(t, "z", "1");
    assert_int_equal(sql_txn_rollback_to(t, sp1, &err), DC_OK);
    assert_string_equal(scan(t, SQL_READ_SNAPSHOT, NULL, NULL, NULL),
                        "s1=0,s2=0,x=1");
    sql_txn_savepoint_free(t, sp1);
    assert_true(sql_txn_has_writes(t));
    assert_int_equal(sql_txn_rollback_to(t, sp0, &err), DC_OK);
    assert_false(sql_txn_has_writes(t));
    sql_txn_savepoint_free(t, sp0);
    put(t, "w", "1");
    commit(t);
    sql_txn *r = begin(SQL_ISO_READ_COMMITTED);
    assert_string_equal(scan(r, SQL_READ_SNAPSHOT, NULL, NULL, NULL),
                        "s1=0,s2=0,w=1");
    sql_txn_abort(r);
}

static void test_savepoint_catalog(void **state)
{
    (void)state;
    dc_error err;
    dc_error_init(&err);
    sql_catalog *c0 = NULL;
    assert_int_equal(sql_catalog_load(&E.eng, &c0, &err), DC_OK);
    E.eng.catalog = c0;

    sql_txn *t = begin(SQL_ISO_READ_COMMITTED);
    assert_null(sql_txn_catalog(t));
    sql_catalog *c1 = NULL, *c2 = NULL, *c3 = NULL;
    assert_int_equal(sql_catalog_clone(c0, &c1, &err), DC_OK);
    sql_txn_set_catalog(t, c1);
    assert_ptr_equal(sql_txn_catalog(t), c1);
    sql_savepoint *sp = NULL;
    assert_int_equal(sql_txn_savepoint(t, &sp, &err), DC_OK);
    assert_int_equal(sql_catalog_clone(c1, &c2, &err), DC_OK);
    sql_txn_set_catalog(t, c2);
    assert_int_equal(sql_catalog_clone(c2, &c3, &err), DC_OK);
    sql_txn_set_catalog(t, c3);
    assert_ptr_equal(sql_txn_catalog(t), c3);
    /* c2 and c3 are dropped (ASan's leak check tells otherwise). */
    assert_int_equal(sql_txn_rollback_to(t, sp, &err), DC_OK);
    assert_ptr_equal(sql_txn_catalog(t), c1);
    sql_txn_savepoint_free(t, sp);
    commit(t);
    sql_catalog *now = sql_engine_catalog(&E.eng);
    assert_ptr_equal(now, c1);
    sql_catalog_unref(now);

    /* An aborted transaction's catalog is dropped, the engine's stays. */
    t = begin(SQL_ISO_READ_COMMITTED);
    sql_catalog *c4 = NULL;
    assert_int_equal(sql_catalog_clone(c1, &c4, &err), DC_OK);
    sql_txn_set_catalog(t, c4);
    sql_txn_abort(t);
    now = sql_engine_catalog(&E.eng);
    assert_ptr_equal(now, c1);
    sql_catalog_unref(now);
}

/* ---- commit -----------------------------------------------------------------
 */

static void test_commit_atomic_durable(void **state)
{
    (void)state;
    sql_txn *t = begin(SQL_ISO_READ_COMMITTED);
    char k[32], v[32];
    for (int i = 0; i < 500; i++) {
        snprintf(k, sizeof k, "key%04d", i);
        snprintf(v, sizeof v, "val%d", i);
        put(t, k, v);
    }
    del_range(t, "key0100", "key0200");
    /* A reader's snapshot taken before the commit sees none of it, one
     * taken after sees all of it. */
    sql_txn *before = begin(SQL_ISO_REPEATABLE_READ);
    assert_string_equal(get(before, SQL_READ_SNAPSHOT, "key0000"), "-");
    commit(t);
    assert_string_equal(get(before, SQL_READ_SNAPSHOT, "key0499"), "-");
    sql_txn_abort(before);
    sql_txn *aborted = begin(SQL_ISO_READ_COMMITTED);
    put(aborted, "key9999", "x");
    del(aborted, "key0000");
    sql_txn_abort(aborted);

    sql_txn *r = begin(SQL_ISO_READ_COMMITTED);
    assert_string_equal(get(r, SQL_READ_SNAPSHOT, "key0000"), "val0");
    assert_string_equal(get(r, SQL_READ_SNAPSHOT, "key0150"), "-");
    assert_string_equal(get(r, SQL_READ_SNAPSHOT, "key0200"), "val200");
    assert_string_equal(get(r, SQL_READ_SNAPSHOT, "key9999"), "-");
    sql_txn_abort(r);
    if (!sqlt_durable(&E))
        return;
    assert_int_equal(sqlt_reopen(&E), 0);
    r = begin(SQL_ISO_READ_COMMITTED);
    assert_string_equal(get(r, SQL_READ_SNAPSHOT, "key0000"), "val0");
    assert_string_equal(get(r, SQL_READ_SNAPSHOT, "key0099"), "val99");
    assert_string_equal(get(r, SQL_READ_SNAPSHOT, "key0150"), "-");
    assert_string_equal(get(r, SQL_READ_SNAPSHOT, "key0499"), "val499");
    assert_string_equal(get(r, SQL_READ_SNAPSHOT, "key9999"), "-");
    sql_txn_abort(r);
}

static void test_big_write_set(void **state)
{
    (void)state;
    sql_txn *t = begin(SQL_ISO_READ_COMMITTED);
    dc_error err;
    dc_error_init(&err);
    char k[32];
    const int n = 200000;
    for (int i = 0; i < n; i++) {
        int len = snprintf(k, sizeof k, "big%08d", (i * 7919) % n);
        assert_int_equal(sql_txn_put(t, (const uint8_t *)k, (size_t)len,
                                     (const uint8_t *)k, (size_t)len, &err),
                         DC_OK);
    }
    commit(t);
    sql_txn *r = begin(SQL_ISO_READ_COMMITTED);
    sql_txn_iter *it = NULL;
    assert_int_equal(
        sql_txn_iter_open(r, SQL_READ_SNAPSHOT, K("big"), K("bih"), &it, &err),
        DC_OK);
    int count = 0;
    for (;;) {
        bool valid;
        assert_int_equal(sql_txn_iter_next(it, &valid, &err), DC_OK);
        if (!valid)
            break;
        const uint8_t *kp;
        size_t kn;
        sql_txn_iter_key(it, &kp, &kn);
        snprintf(k, sizeof k, "big%08d", count);
        assert_int_equal(kn, strlen(k));
        assert_memory_equal(kp, k, kn);
        count++;
    }
    sql_txn_iter_close(it);
    assert_int_equal(count, n);
    sql_txn_abort(r);
}

/* Ascending runs below keys written earlier (a COPY into a table of a lower
 * oid than one written before in the same transaction), mixed with
 * rewrites, inserts into the gaps and lookups: the merged view stays in
 * key order with the last value of each key. */
static uint64_t rng_state;
static unsigned rnd(unsigned n);

static void test_runs_below_earlier_keys(void **state)
{
    (void)state;
    sql_txn *t = begin(SQL_ISO_READ_COMMITTED);
    dc_error err;
    dc_error_init(&err);
    enum { N = 3000 };
    static int last[N]; /* value of run%05d: 0 absent */
    memset(last, 0, sizeof last);
    char k[32], v[32];
    put(t, "run~high", "h");
    put(t, "run~higher", "hh");
    rng_state = 777;
    int stamp = 1;
    /* Even keys ascend; every few steps an odd key goes into a gap below,
     * or an earlier key is rewritten, or one is looked up. */
    for (int i = 0; i < N; i += 2) {
        snprintf(k, sizeof k, "run%05d", i);
        snprintf(v, sizeof v, "%d", stamp);
        put(t, k, v);
        last[i] = stamp++;
        unsigned op = rnd(8);
        int j = (int)rnd((unsigned)i + 1);
        if (op == 0) {
            j |= 1;
            if (j >= N)
                continue;
        }
        if (op <= 1) {
            snprintf(k, sizeof k, "run%05d", j);
            snprintf(v, sizeof v, "%d", stamp);
            put(t, k, v);
            last[j] = stamp++;
        } else if (op == 2) {
            snprintf(k, sizeof k, "run%05d", j);
            if (last[j])
                snprintf(v, sizeof v, "%d", last[j]);
            else
                snprintf(v, sizeof v, "-");
            assert_string_equal(get(t, SQL_READ_LATEST, k), v);
        }
    }
    commit(t);
    sql_txn *r = begin(SQL_ISO_READ_COMMITTED);
    sql_txn_iter *it = NULL;
    assert_int_equal(
        sql_txn_iter_open(r, SQL_READ_SNAPSHOT, K("run"), K("ruo"), &it, &err),
        DC_OK);
    int next = 0;
    for (;;) {
        bool valid;
        assert_int_equal(sql_txn_iter_next(it, &valid, &err), DC_OK);
        if (!valid)
            break;
        const uint8_t *kp, *vp;
        size_t kn, vn;
        sql_txn_iter_key(it, &kp, &kn);
        sql_txn_iter_value(it, &vp, &vn);
        while (next < N && last[next] == 0)
            next++;
        if (next == N) {
            /* Past the runs: the two keys written first, in order. */
            assert_true(kn >= 4 && memcmp(kp, "run~", 4) == 0);
            continue;
        }
        snprintf(k, sizeof k, "run%05d", next);
        snprintf(v, sizeof v, "%d", last[next]);
        assert_int_equal(kn, strlen(k));
        assert_memory_equal(kp, k, kn);
        assert_int_equal(vn, strlen(v));
        assert_memory_equal(vp, v, vn);
        next++;
    }
    sql_txn_iter_close(it);
    while (next < N && last[next] == 0)
        next++;
    assert_int_equal(next, N);
    assert_string_equal(scan(r, SQL_READ_SNAPSHOT, "run~", "ruo", NULL),
                        "run~high=h,run~higher=hh");
    sql_txn_abort(r);
}

/* ---- locks ------------------------------------------------------------------
 */

typedef struct locker {
    sql_txn *t;
    const char *key;
    int rc;
    bool changed;
    dc_error err;
} locker;

static void *lock_thread(void *arg)
{
    locker *l = arg;
    dc_error_init(&l->err);
    l->rc = sql_txn_lock_row(l->t, K(l->key), &l->changed, &l->err);
    return NULL;
}

static void test_rc_wait_then_changed(void **state)
{
    (void)state;
    dc_error err;
    dc_error_init(&err);
    sql_txn *t0 = begin(SQL_ISO_READ_COMMITTED);
    put(t0, "row", "1");
    commit(t0);

    sql_txn *t1 = begin(SQL_ISO_READ_COMMITTED);
    sql_txn *t2 = begin(SQL_ISO_READ_COMMITTED);
    bool changed = true;
    assert_int_equal(sql_txn_lock_row(t1, K("row"), &changed, &err), DC_OK);
    assert_false(changed);
    /* Locking again is free. */
    assert_int_equal(sql_txn_lock_row(t1, K("row"), &changed, &err), DC_OK);
    put(t1, "row", "2");
    locker l = {.t = t2, .key = "row"};
    pthread_t th;
    pthread_create(&th, NULL, lock_thread, &l);
    wait_waiters(1);
    commit(t1);
    pthread_join(th, NULL);
    assert_int_equal(l.rc, DC_OK);
    assert_true(l.changed);
    assert_string_equal(get(t2, SQL_READ_SNAPSHOT, "row"), "1");
    assert_string_equal(get(t2, SQL_READ_LATEST, "row"), "2");
    put(t2, "row", "3");
    commit(t2);
    /* A key nobody changed since the snapshot: not changed. */
    sql_txn *t3 = begin(SQL_ISO_READ_COMMITTED);
    assert_int_equal(sql_txn_lock_row(t3, K("row"), &changed, &err), DC_OK);
    assert_false(changed);
    assert_string_equal(get(t3, SQL_READ_SNAPSHOT, "row"), "3");
    sql_txn_abort(t3);
}

static void test_rr_serialization_failure(void **state)
{
    (void)state;
    sql_txn *t0 = begin(SQL_ISO_READ_COMMITTED);
    put(t0, "row", "1");
    commit(t0);
    sql_txn *t1 = begin(SQL_ISO_REPEATABLE_READ);
    sql_txn *t2 = begin(SQL_ISO_SERIALIZABLE);
    assert_int_equal(sql_txn_isolation(t2), SQL_ISO_REPEATABLE_READ);
    dc_error err;
    dc_error_init(&err);
    assert_int_equal(sql_txn_lock_row(t1, K("row"), NULL, &err), DC_OK);
    put(t1, "row", "2");
    locker l = {.t = t2, .key = "row"};
    pthread_t th;
    pthread_create(&th, NULL, lock_thread, &l);
    wait_waiters(1);
    commit(t1);
    pthread_join(th, NULL);
    assert_int_equal(l.rc, DC_ECONFLICT);
    assert_string_equal(l.err.sqlstate, "40001");
    assert_string_equal(l.err.message,
                        "could not serialize access due to concurrent update");
    sql_txn_abort(t2);
}

static void test_deadlock(void **state)
{
    (void)state;
    dc_error err;
    dc_error_init(&err);
    sql_txn *t1 = begin(SQL_ISO_READ_COMMITTED);
    sql_txn *t2 = begin(SQL_ISO_READ_COMMITTED);
    assert_int_equal(sql_txn_lock_row(t1, K("A"), NULL, &err), DC_OK);
    assert_int_equal(sql_txn_lock_row(t2, K("B"), NULL, &err), DC_OK);
    locker l = {.t = t2, .key = "A"};
    pthread_t th;
    pthread_create(&th, NULL, lock_thread, &l);
    wait_waiters(1);
    /* t1 closes the cycle: it fails at once, t2 keeps waiting. */
    int rc = sql_txn_lock_row(t1, K("B"), NULL, &err);
    assert_int_equal(rc, DC_ECONFLICT);
    assert_string_equal(err.sqlstate, "40P01");
    assert_string_equal(err.message, "deadlock detected");
    assert_non_null(strstr(err.detail, "blocked by process"));
    assert_int_equal(sql_lockmgr_waiters(E.eng.locks), 1);
    sql_txn_abort(t1);
    pthread_join(th, NULL);
    assert_int_equal(l.rc, DC_OK);
    sql_txn_abort(t2);
}

static void test_deadlock_three(void **state)
{
    (void)state;
    dc_error err;
    dc_error_init(&err);
    sql_txn *t[3];
    const char *keys[3] = {"A", "B", "C"};
    for (int i = 0; i < 3; i++) {
        t[i] = begin(SQL_ISO_READ_COMMITTED);
        assert_int_equal(sql_txn_lock_row(t[i], K(keys[i]), NULL, &err), DC_OK);
    }
    locker l0 = {.t = t[0], .key = "B"}, l1 = {.t = t[1], .key = "C"};
    pthread_t th0, th1;
    pthread_create(&th0, NULL, lock_thread, &l0);
    wait_waiters(1);
    pthread_create(&th1, NULL, lock_thread, &l1);
    wait_waiters(2);
    int rc = sql_txn_lock_row(t[2], K("A"), NULL, &err);
    assert_string_equal(err.sqlstate, "40P01");
    assert_int_equal(rc, DC_ECONFLICT);
    sql_txn_abort(t[2]);
    pthread_join(th1, NULL);
    assert_int_equal(l1.rc, DC_OK);
    sql_txn_abort(t[1]);
    pthread_join(th0, NULL);
    assert_int_equal(l0.rc, DC_OK);
    sql_txn_abort(t[0]);
}

static void test_lock_timeout(void **state)
{
    (void)state;
    dc_error err;
    dc_error_init(&err);
    sql_txn *t1 = begin(SQL_ISO_READ_COMMITTED);
    sql_txn *t2 = NULL;
    assert_int_equal(sql_txn_begin(&E.eng, SQL_ISO_READ_COMMITTED, false, 0,
                                   NULL, &t2, &err),
                     DC_OK);
    sql_txn_set_lock_timeout(t2, 30);
    assert_int_equal(sql_txn_lock_row(t1, K("L"), NULL, &err), DC_OK);
    int rc = sql_txn_lock_row(t2, K("L"), NULL, &err);
    assert_int_equal(rc, DC_ETIMEDOUT);
    assert_string_equal(err.sqlstate, "55P03");
    assert_string_equal(err.message, "canceling statement due to lock timeout");
    assert_int_equal(sql_lockmgr_waiters(E.eng.locks), 0);
    /* The lock is still free for t2 after t1 ends. */
    sql_txn_abort(t1);
    assert_int_equal(sql_txn_lock_row(t2, K("L"), NULL, &err), DC_OK);
    sql_txn_abort(t2);
}

static void test_cancel_wait(void **state)
{
    (void)state;
    dc_error err;
    dc_error_init(&err);
    _Atomic int cancel = 0;
    sql_txn *t1 = begin(SQL_ISO_READ_COMMITTED);
    sql_txn *t2 = NULL;
    assert_int_equal(sql_txn_begin(&E.eng, SQL_ISO_READ_COMMITTED, false, 0,
                                   &cancel, &t2, &err),
                     DC_OK);
    assert_int_equal(sql_txn_lock_row(t1, K("C"), NULL, &err), DC_OK);
    locker l = {.t = t2, .key = "C"};
    pthread_t th;
    pthread_create(&th, NULL, lock_thread, &l);
    wait_waiters(1);
    atomic_store(&cancel, 1);
    pthread_join(th, NULL);
    assert_int_equal(l.rc, DC_ECANCELED);
    assert_string_equal(l.err.sqlstate, "57014");
    assert_string_equal(l.err.message,
                        "canceling statement due to user request");
    sql_txn_abort(t2);
    sql_txn_abort(t1);
}

static void test_read_only(void **state)
{
    (void)state;
    dc_error err;
    dc_error_init(&err);
    sql_txn *t = NULL;
    assert_int_equal(
        sql_txn_begin(&E.eng, SQL_ISO_READ_COMMITTED, true, 0, NULL, &t, &err),
        DC_OK);
    assert_true(sql_txn_read_only(t));
    assert_int_equal(sql_txn_put(t, K("k"), K("v"), &err), DC_EPERM);
    assert_string_equal(err.sqlstate, "25006");
    dc_error_init(&err);
    assert_int_equal(sql_txn_delete(t, K("k"), &err), DC_EPERM);
    assert_string_equal(err.sqlstate, "25006");
    dc_error_init(&err);
    assert_int_equal(sql_txn_delete_range(t, K("a"), K("b"), &err), DC_EPERM);
    assert_string_equal(err.sqlstate, "25006");
    assert_false(sql_txn_has_writes(t));
    assert_string_equal(get(t, SQL_READ_SNAPSHOT, "k"), "-");
    assert_int_equal(sql_txn_commit(t, &err), DC_OK);
}

static void test_meta_counters(void **state)
{
    (void)state;
    dc_error err;
    dc_error_init(&err);
    sql_txn *t = begin(SQL_ISO_READ_COMMITTED);
    uint64_t v = 1;
    bool found = true;
    assert_int_equal(sql_txn_meta_get(t, "next_oid", &v, &found, &err), DC_OK);
    assert_false(found);
    assert_int_equal(
        sql_txn_meta_put(t, "next_oid", 0x0102030405060708ull, &err), DC_OK);
    assert_int_equal(sql_txn_meta_get(t, "next_oid", &v, &found, &err), DC_OK);
    assert_true(found);
    assert_true(v == 0x0102030405060708ull);
    commit(t);
    t = begin(SQL_ISO_READ_COMMITTED);
    sql_buf b = {0};
    const uint8_t key[] = {0, 0, 0, 2, 'n', 'e', 'x', 't', '_', 'o', 'i', 'd'};
    assert_int_equal(
        sql_txn_get(t, SQL_READ_LATEST, key, sizeof key, &b, &found, &err),
        DC_OK);
    assert_true(found);
    const uint8_t be[] = {1, 2, 3, 4, 5, 6, 7, 8};
    assert_int_equal(b.len, 8);
    assert_memory_equal(b.data, be, 8);
    sql_buf_free(&b);
    sql_txn_abort(t);
}

static void test_iterator_ignores_later_inserts(void **state)
{
    (void)state;
    dc_error err;
    dc_error_init(&err);
    sql_txn *t = begin(SQL_ISO_READ_COMMITTED);
    put(t, "r1", "x");
    put(t, "r3", "x");
    sql_txn_iter *it = NULL;
    assert_int_equal(
        sql_txn_iter_open(t, SQL_READ_SNAPSHOT, K("r"), K("s"), &it, &err),
        DC_OK);
    int n = 0;
    for (;;) {
        bool valid;
        assert_int_equal(sql_txn_iter_next(it, &valid, &err), DC_OK);
        if (!valid)
            break;
        /* Each row seen makes a new one ahead of the cursor. */
        char k[16];
        snprintf(k, sizeof k, "r%d", 10 + n);
        put(t, k, "y");
        assert_true(++n < 10);
    }
    sql_txn_iter_close(it);
    assert_int_equal(n, 2);
    sql_txn_abort(t);
}

/* ---- randomized check against a model --------------------------------------
 * A pool of keys; committed state and a transaction's random puts,
 * deletes, range deletes, savepoints and rollbacks; after every step every
 * get and bounded scan of the merged view is compared with the model. */

#define NKEYS 24

typedef struct model {
    int val[NKEYS]; /* -1: absent */
} model;

static uint64_t rng_state;

static unsigned rnd(unsigned n)
{
    rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
    return (unsigned)((rng_state >> 33) % n);
}

static void pool_key(int i, char *k)
{
    /* Keys of different lengths that are prefixes of each other. */
    snprintf(k, 8, "k%c%s", 'a' + i / 3,
             i % 3 == 0   ? ""
             : i % 3 == 1 ? "0"
                          : "00");
}

static void model_expect(const model *m, int lo, int hi, char *out, size_t cap)
{
    size_t n = 0;
    out[0] = '\0';
    for (int i = lo; i < hi; i++) {
        if (m->val[i] < 0)
            continue;
        char k[8];
        pool_key(i, k);
        n += (size_t)snprintf(out + n, cap - n, "%s%s=%d", n ? "," : "", k,
                              m->val[i]);
    }
}

static void check_model(sql_txn *t, const model *m)
{
    char exp[1024], k[8], lo[8], hi[8];
    for (int i = 0; i < NKEYS; i++) {
        pool_key(i, k);
        char v[16];
        snprintf(v, sizeof v, "%d", m->val[i]);
        assert_string_equal(get(t, SQL_READ_SNAPSHOT, k),
                            m->val[i] < 0 ? "-" : v);
    }
    model_expect(m, 0, NKEYS, exp, sizeof exp);
    assert_string_equal(scan(t, SQL_READ_SNAPSHOT, NULL, NULL, NULL), exp);
    for (int r = 0; r < 4; r++) {
        int a = (int)rnd(NKEYS + 1), b = (int)rnd(NKEYS + 1);
        if (a > b) {
            int x = a;
            a = b;
            b = x;
        }
        model_expect(m, a, b, exp, sizeof exp);
        pool_key(a < NKEYS ? a : NKEYS - 1, lo);
        pool_key(b < NKEYS ? b : NKEYS - 1, hi);
        if (a == NKEYS) {
            assert_string_equal(scan(t, SQL_READ_LATEST, "l", NULL, NULL), "");
            continue;
        }
        assert_string_equal(
            scan(t, SQL_READ_LATEST, lo, b == NKEYS ? NULL : hi, NULL), exp);
        /* Seek inside the bounds. */
        int s = a + (int)rnd((unsigned)(b - a + 1));
        char sk[8];
        pool_key(s < NKEYS ? s : NKEYS - 1, sk);
        model_expect(m, s, b, exp, sizeof exp);
        if (s == NKEYS)
            continue;
        assert_string_equal(
            scan(t, SQL_READ_SNAPSHOT, lo, b == NKEYS ? NULL : hi, sk), exp);
    }
}

static void test_random_model(void **state)
{
    (void)state;
    dc_error err;
    dc_error_init(&err);
    rng_state = 12345;
    for (int round = 0; round < 12; round++) {
        model m;
        for (int i = 0; i < NKEYS; i++)
            m.val[i] = -1;
        sql_txn *c = begin(SQL_ISO_READ_COMMITTED);
        del_range(c, "k", "l");
        for (int i = 0; i < NKEYS; i++) {
            if (rnd(2)) {
                char k[8], v[16];
                pool_key(i, k);
                m.val[i] = 1000 + round * 100 + i;
                snprintf(v, sizeof v, "%d", m.val[i]);
                put(c, k, v);
            }
        }
        commit(c);
        sql_txn *t = begin(SQL_ISO_READ_COMMITTED);
        model saved[4];
        sql_savepoint *sps[4];
        int nsp = 0;
        for (int step = 0; step < 60; step++) {
            unsigned op = rnd(10);
            char k[8], k2[8], v[16];
            int i = (int)rnd(NKEYS), j = (int)rnd(NKEYS);
            pool_key(i, k);
            if (op < 4) {
                m.val[i] = step;
                snprintf(v, sizeof v, "%d", step);
                put(t, k, v);
            } else if (op < 6) {
                m.val[i] = -1;
                del(t, k);
            } else if (op < 7) {
                if (i > j) {
                    int x = i;
                    i = j;
                    j = x;
                }
                pool_key(i, k);
                pool_key(j, k2);
                for (int x = i; x < j; x++)
                    m.val[x] = -1;
                del_range(t, k, k2);
            } else if (op < 8 && nsp < 4) {
                saved[nsp] = m;
                assert_int_equal(sql_txn_savepoint(t, &sps[nsp], &err), DC_OK);
                nsp++;
            } else if (op < 9 && nsp > 0) {
                int to = (int)rnd((unsigned)nsp);
                assert_int_equal(sql_txn_rollback_to(t, sps[to], &err), DC_OK);
                m = saved[to];
                while (nsp > to + 1)
                    sql_txn_savepoint_free(t, sps[--nsp]);
            } else if (nsp > 0) {
                sql_txn_savepoint_free(t, sps[--nsp]); /* RELEASE */
            }
            check_model(t, &m);
        }
        while (nsp > 0)
            sql_txn_savepoint_free(t, sps[--nsp]);
        commit(t);
        sql_txn *r = begin(SQL_ISO_READ_COMMITTED);
        check_model(r, &m);
        sql_txn_abort(r);
    }
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_write_set_visibility),
        T(test_repeatable_read_snapshot),
        T(test_range_tombstones),
        T(test_savepoints),
        T(test_savepoint_catalog),
        T(test_commit_atomic_durable),
        T(test_big_write_set),
        T(test_runs_below_earlier_keys),
        T(test_rc_wait_then_changed),
        T(test_rr_serialization_failure),
        T(test_deadlock),
        T(test_deadlock_three),
        T(test_lock_timeout),
        T(test_cancel_wait),
        T(test_read_only),
        T(test_meta_counters),
        T(test_iterator_ignores_later_inserts),
        T(test_random_model),
    };
    int failed = 0;
    const char *mods[] = {"memory", "lsm"};
    for (size_t i = 0; i < 2; i++) {
        g_module = mods[i];
        char name[64];
        snprintf(name, sizeof name, "sqlx_txn on %s", g_module);
        failed += _cmocka_run_group_tests(
            name, tests, sizeof tests / sizeof *tests, NULL, NULL);
    }
    return failed;
}
