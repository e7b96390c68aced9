/*
 * sql/engine.h - the shared state of the sql module (one sql_engine per
 * module instance) and the per-statement execution context (sql_ctx) that
 * every layer of the engine receives.
 *
 * Layers, bottom up:
 *   types/numeric/datetime  values (types.h)
 *   txn                     transactions over the storage vtable: snapshots,
 *                           write sets, row locks, deadlock detection (txn.h)
 *   tableam                 rows and index entries of catalog tables (tableam.h)
 *   catalog                 tables, columns, indexes, views; DDL (catalog.h)
 *   funcs                   operators, functions, aggregates (funcs.h)
 *   plan / binder           AST -> plan tree (plan.h, binder.h)
 *   exec                    plan tree -> rows (exec.h)
 *   sql.c                   the module: sessions, statements, settings
 *
 * Threads: a sql_engine is shared by every session; what it holds is
 * either immutable or guarded by its own mutex.  A sql_ctx belongs to the
 * one thread running the statement.
 */
#ifndef SQL_ENGINE_H
#define SQL_ENGINE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "datacave/error.h"
#include "datacave/host.h"
#include "datacave/storage.h"
#include "datacave/types.h"
#include "sql/ast.h"
#include "sql/types.h"

typedef struct sql_engine sql_engine;
typedef struct sql_catalog sql_catalog;
typedef struct sql_txn sql_txn;
typedef struct sql_lockmgr sql_lockmgr;
typedef struct sql_session sql_session;

/* Storage key layout.  Every key starts with a 4-byte big-endian relation
 * id.  Relation ids below SQL_FIRST_USER_OID are reserved:
 *   SQL_REL_CATALOG  catalog objects: relid | object oid (4 BE) -> object
 *   SQL_REL_META     engine counters: relid | name bytes -> value
 * A table's rows: table oid | primary key encoding (sql_key_append of each
 * key column) or, for a table without a primary key, | int8 rowid key.
 * An index's entries: index oid | key column encodings [| row key suffix];
 * see tableam.h. */
#define SQL_REL_CATALOG     1u
#define SQL_REL_META        2u
#define SQL_FIRST_USER_OID  16384u

/* The module instance.  Created by sql.c at init. */
struct sql_engine {
    const dc_host_api *host;
    void *host_ctx;                  /* host handle for host API calls    */
    const dc_storage_vtable *sv;     /* the storage service               */
    dc_store *store;
    dc_sync_mode commit_sync;        /* sync mode of COMMIT batches       */
    sql_lockmgr *locks;              /* row / object locks (txn.c)        */

    pthread_mutex_t cat_mu;          /* guards `catalog` (the pointer)    */
    sql_catalog *catalog;            /* newest committed catalog; readers
                                        take a reference (catalog.h)      */
    _Atomic uint32_t next_oid;       /* oid allocator (persisted in META) */
    size_t work_mem;                 /* default work_mem in bytes         */
    char tmp_dir[512];               /* where sorts spill                 */
    uint32_t lock_timeout_ms;        /* default lock_timeout of sessions  */
    int64_t slow_ns;                 /* [log] slow_query_ms in ns; -1: the
                                        slow statement log is off         */

    /* Open sessions per database (DROP DATABASE refuses a database in
     * use; a database being dropped accepts no new session). */
    pthread_mutex_t db_mu;
    struct sql_db_use *db_use;
    size_t ndb_use, capdb_use;

    struct sql_gc *gc;               /* removes dropped relations' keys
                                        in the background (gc.c)          */
    struct sql_stimer *stimer;       /* ends statements at their
                                        statement_timeout (sql.c)         */

    /* Metrics (sql.c; NULL series when the host gave none: skipped). */
    dc_series *m_txn_commit, *m_txn_rollback;
    dc_series *m_rows_read, *m_rows_written[3];
};

/* One database's use count (sql.c). */
typedef struct sql_db_use {
    char name[64];
    int sessions;
    bool dropping;
} sql_db_use;

/* Per-statement context, built by sql.c for every statement it runs. */
typedef struct sql_ctx {
    sql_engine *eng;
    sql_session *sess;               /* settings, user; may be NULL in tests */
    sql_txn *txn;                    /* the transaction the statement runs in */
    const sql_catalog *cat;          /* the catalog the statement sees    */
    sql_arena *arena;                /* freed when the statement ends     */
    sql_mem mem;                     /* allocates from `arena`            */
    const sql_tz *tz;                /* session TimeZone (NULL: UTC)      */
    const dc_value *params;          /* $1..$n                            */
    uint32_t nparams;
    int64_t stmt_ts;                 /* statement_timestamp()             */
    int64_t txn_ts;                  /* now() / transaction_timestamp()   */
    size_t work_mem;                 /* bytes a sort or hash may use      */
    _Atomic int *cancel;             /* non-zero: stop with 57014         */
    const char *user;                /* current_user                      */
    const char *database;            /* current_database()                */
    uint32_t db_oid;                 /* its oid (0: the default database) */
    /* Session setting by name (current_setting, SHOW); NULL when unknown.
     * Borrowed until the next call. */
    const char *(*get_setting)(sql_session *sess, const char *name);
    /* Work of the statement for the metrics, added to the engine's
     * counters once, when sql.c closes the statement's context. */
    uint64_t rows_read;              /* rows table and index scans read   */
    uint64_t rows_written[3];        /* by sql_modify_op (plan.h): rows
                                        inserted, updated, deleted        */
} sql_ctx;

/* Values of the cancel flag: why the statement is to stop. */
#define SQL_CANCEL_USER    1         /* a cancel request                  */
#define SQL_CANCEL_TIMEOUT 2         /* statement_timeout ran out         */

/* 57014 when the statement was cancelled; checked by long loops. */
static inline int sql_check_cancel(const sql_ctx *ctx, dc_error *err)
{
    int c = ctx->cancel ? atomic_load(ctx->cancel) : 0;
    if (c)
        return dc_error_set(err, DC_ECANCELED, "57014",
                            c == SQL_CANCEL_TIMEOUT
                                ? "canceling statement due to statement "
                                  "timeout"
                                : "canceling statement due to user request");
    return DC_OK;
}

/* Allocate n bytes in the statement arena; 53200 on failure. */
void *sql_ctx_alloc(sql_ctx *ctx, size_t n, dc_error *err);

#endif
