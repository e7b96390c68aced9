/*
 * test_sqlx_gc.c - dropped relations (sql/gc.c) over the memory and lsm
 * storage engines: a dropped range reads as empty inside the dropping
 * transaction at once; its commit writes only a queued record, and the
 * keys leave storage when the queue runs (in the calling thread, after a
 * restart, or in the background thread, waited for as VACUUM does);
 * neighbouring relations and older snapshots are untouched; a drop rolled
 * back to a savepoint or with its transaction queues nothing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "sql/gc.h"
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
    sql_gc_stop(&E.eng);
    sqlt_close(&E);
    return 0;
}

#define NROWS 3000 /* more than one delete batch */

static void rel_key(uint32_t oid, uint32_t i, uint8_t k[8])
{
    k[0] = (uint8_t)(oid >> 24), k[1] = (uint8_t)(oid >> 16);
    k[2] = (uint8_t)(oid >> 8), k[3] = (uint8_t)oid;
    k[4] = (uint8_t)(i >> 24), k[5] = (uint8_t)(i >> 16);
    k[6] = (uint8_t)(i >> 8), k[7] = (uint8_t)i;
}

static sql_txn *begin(void)
{
    dc_error err;
    dc_error_init(&err);
    sql_txn *t = NULL;
    assert_int_equal(sql_txn_begin(&E.eng, SQL_ISO_READ_COMMITTED, false, 0,
                                   NULL, &t, &err),
                     DC_OK);
    assert_int_equal(sql_txn_stmt_begin(t, &err), DC_OK);
    return t;
}

static void commit(sql_txn *t)
{
    dc_error err;
    dc_error_init(&err);
    int rc = sql_txn_commit(t, &err);
    if (rc != DC_OK)
        fail_msg("commit: %s", err.message);
}

/* Rows 0..NROWS-1 of relation oid. */
static void fill(uint32_t oid)
{
    sql_txn *t = begin();
    dc_error err;
    dc_error_init(&err);
    for (uint32_t i = 0; i < NROWS; i++) {
        uint8_t k[8];
        rel_key(oid, i, k);
        assert_int_equal(sql_txn_put(t, k, 8, (const uint8_t *)"row", 3, &err),
                         DC_OK);
    }
    commit(t);
}

static void drop(sql_txn *t, uint32_t oid)
{
    uint8_t lo[4], hi[4];
    lo[0] = (uint8_t)(oid >> 24), lo[1] = (uint8_t)(oid >> 16);
    lo[2] = (uint8_t)(oid >> 8), lo[3] = (uint8_t)oid;
    uint32_t o2 = oid + 1;
    hi[0] = (uint8_t)(o2 >> 24), hi[1] = (uint8_t)(o2 >> 16);
    hi[2] = (uint8_t)(o2 >> 8), hi[3] = (uint8_t)o2;
    dc_error err;
    dc_error_init(&err);
    assert_int_equal(sql_txn_drop_range(t, lo, 4, hi, 4, &err), DC_OK);
}

/* Keys of relation oid in storage (latest state, or at snap). */
static size_t stored(uint32_t oid, const dc_snapshot *snap)
{
    size_t n = 0;
    for (uint32_t i = 0; i < NROWS; i++) {
        uint8_t k[8];
        rel_key(oid, i, k);
        dc_read_options ro = {.size = sizeof ro, .snapshot = snap};
        dc_error err;
        dc_error_init(&err);
        int rc = E.eng.sv->get(E.eng.store, &ro, k, 8, NULL, NULL, &err);
        if (rc == DC_OK)
            n++;
        else
            assert_int_equal(rc, DC_ENOTFOUND);
    }
    return n;
}

/* Records in the queue. */
static size_t queued(void)
{
    uint8_t lo[6] = {0, 0, 0, SQL_REL_META, 'g', 'c'};
    uint8_t hi[6] = {0, 0, 0, SQL_REL_META, 'g', 'd'};
    dc_read_options ro = {.size = sizeof ro,
                          .lower = lo,
                          .lower_len = 6,
                          .upper = hi,
                          .upper_len = 6};
    dc_iter *it = NULL;
    dc_error err;
    dc_error_init(&err);
    assert_int_equal(E.eng.sv->iter_open(E.eng.store, &ro, &it, &err), DC_OK);
    size_t n = 0;
    for (E.eng.sv->iter_seek(it, lo, 6); E.eng.sv->iter_valid(it);
         E.eng.sv->iter_next(it))
        n++;
    E.eng.sv->iter_close(it);
    return n;
}

static void run_queue(void)
{
    dc_error err;
    dc_error_init(&err);
    int rc = sql_gc_run(&E.eng, &err);
    if (rc != DC_OK)
        fail_msg("sql_gc_run: %s", err.message);
}

static void test_drop_then_run(void **state)
{
    (void)state;
    fill(20000);
    fill(20001);
    dc_snapshot *before = NULL;
    dc_error err;
    dc_error_init(&err);
    assert_int_equal(E.eng.sv->snapshot_acquire(E.eng.store, &before, &err),
                     DC_OK);
    sql_txn *t = begin();
    drop(t, 20000);
    /* Gone for the dropping transaction at once. */
    uint8_t k[8];
    rel_key(20000, 7, k);
    bool found = true;
    assert_int_equal(sql_txn_get(t, SQL_READ_LATEST, k, 8, NULL, &found, &err),
                     DC_OK);
    assert_false(found);
    commit(t);
    /* The commit queued the range; the keys are still stored. */
    assert_int_equal(queued(), 1);
    assert_int_equal(stored(20000, NULL), NROWS);
    run_queue();
    assert_int_equal(stored(20000, NULL), 0);
    assert_int_equal(queued(), 0);
    /* The neighbour is untouched; the older snapshot still sees both. */
    assert_int_equal(stored(20001, NULL), NROWS);
    assert_int_equal(stored(20000, before), NROWS);
    E.eng.sv->snapshot_release(E.eng.store, before);
    run_queue(); /* an empty queue is fine */
    assert_int_equal(stored(20001, NULL), NROWS);
}

static void test_rolled_back(void **state)
{
    (void)state;
    fill(20000);
    sql_txn *t = begin();
    drop(t, 20000);
    sql_txn_abort(t);
    t = begin();
    dc_error err;
    dc_error_init(&err);
    sql_savepoint *sp = NULL;
    assert_int_equal(sql_txn_savepoint(t, &sp, &err), DC_OK);
    drop(t, 20000);
    assert_int_equal(sql_txn_rollback_to(t, sp, &err), DC_OK);
    sql_txn_savepoint_free(t, sp);
    uint8_t k[8];
    rel_key(20000, 7, k);
    assert_int_equal(sql_txn_put(t, k, 8, (const uint8_t *)"new", 3, &err),
                     DC_OK);
    commit(t);
    assert_int_equal(queued(), 0);
    run_queue();
    assert_int_equal(stored(20000, NULL), NROWS);
}

/* A restart between the commit and the removal: the record survives and
 * the queue finishes the job afterwards. */
static void test_resumed_after_restart(void **state)
{
    (void)state;
    if (!sqlt_durable(&E))
        skip();
    fill(20000);
    sql_txn *t = begin();
    drop(t, 20000);
    commit(t);
    assert_int_equal(sqlt_reopen(&E), 0);
    assert_int_equal(queued(), 1);
    assert_int_equal(stored(20000, NULL), NROWS);
    run_queue();
    assert_int_equal(stored(20000, NULL), 0);
    assert_int_equal(queued(), 0);
}

/* The background thread: woken by the commit, waited for like VACUUM. */
static void test_background_thread(void **state)
{
    (void)state;
    dc_error err;
    dc_error_init(&err);
    assert_int_equal(sql_gc_start(&E.eng, &err), DC_OK);
    for (uint32_t oid = 20000; oid < 20003; oid++)
        fill(oid);
    sql_txn *t = begin();
    drop(t, 20000);
    drop(t, 20002);
    commit(t);
    sql_gc_wait(&E.eng);
    assert_int_equal(queued(), 0);
    assert_int_equal(stored(20000, NULL), 0);
    assert_int_equal(stored(20001, NULL), NROWS);
    assert_int_equal(stored(20002, NULL), 0);
    sql_gc_stop(&E.eng);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_drop_then_run, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rolled_back, setup, teardown),
        cmocka_unit_test_setup_teardown(test_resumed_after_restart, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_background_thread, setup,
                                        teardown),
    };
    int fails = 0;
    const char *mods[] = {"memory", "lsm"};
    for (size_t i = 0; i < 2; i++) {
        g_module = mods[i];
        fprintf(stderr, "-- storage module: %s\n", g_module);
        fails += cmocka_run_group_tests(tests, NULL, NULL);
    }
    return fails ? 1 : 0;
}
