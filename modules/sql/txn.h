/*
 * sql/txn.h - transactions over the storage vtable.
 *
 * Model.  A transaction buffers its writes in a private write set (an
 * ordered map key -> value or tombstone, plus range tombstones) and applies
 * them at COMMIT as one atomic storage batch, so a crash never leaves part
 * of one.  Reads see the storage state at the transaction's snapshot with
 * the write set laid over it.
 *
 * Isolation.  READ COMMITTED (the default): every statement takes a new
 * snapshot (sql_txn_stmt_begin).  REPEATABLE READ (SERIALIZABLE maps to
 * it): the snapshot of the first statement is kept to the end.
 *
 * Locks.  Before changing an existing row or inserting a key, the executor
 * locks the key (sql_txn_lock_row).  Locks are exclusive, held until the
 * transaction ends (a ROLLBACK TO keeps them, as PostgreSQL does), and a
 * waiter blocks until the holder ends.  Waiting is bounded by lock_timeout
 * (55P03 "canceling statement due to lock timeout"; 0 waits for ever) and
 * a wait that would close a cycle fails at once with 40P01 "deadlock
 * detected".  Cancel (57014) also ends a wait.
 *
 * After the lock is granted, sql_txn_lock_row tells whether the key was
 * written by a transaction that committed after the statement's snapshot.
 * In READ COMMITTED the caller then re-reads the newest version
 * (SQL_READ_LATEST) and re-checks its WHERE clause, so no update is lost;
 * in REPEATABLE READ the call itself fails with 40001 "could not serialize
 * access due to concurrent update".
 *
 * Threads: a sql_txn belongs to one session thread; the lock manager is
 * shared and internally synchronised.
 */
#ifndef SQL_TXN_H
#define SQL_TXN_H

#include "sql/engine.h"

typedef enum sql_isolation {
    SQL_ISO_READ_COMMITTED = 0,
    SQL_ISO_REPEATABLE_READ = 1,
    SQL_ISO_SERIALIZABLE = 2        /* runs as REPEATABLE READ            */
} sql_isolation;

/* Read modes. */
#define SQL_READ_SNAPSHOT 0  /* statement snapshot + own writes            */
#define SQL_READ_LATEST   1  /* newest committed state + own writes        */
/* OR'ed into a mode by iterators: a bulk pass over many rows (DDL rewrites,
 * ANALYZE) whose blocks should not displace the block cache. */
#define SQL_READ_NOCACHE  0x100

/* Object lock keys (locked with sql_txn_lock_row like any key). */
#define SQL_LOCK_DDL ((const uint8_t *)"\0\0\0\2ddl")
#define SQL_LOCK_DDL_LEN 7

/* Lock manager, one per engine.  Free it only after every transaction of
 * the engine has ended. */
int sql_lockmgr_new(sql_lockmgr **out, dc_error *err);
void sql_lockmgr_free(sql_lockmgr *lm);
/* Number of transactions blocked waiting for a lock right now (tests and
 * monitoring use it to know a session is blocked). */
size_t sql_lockmgr_waiters(sql_lockmgr *lm);

/* Begin.  `lock_timeout_ms` 0 means no timeout; `cancel` (may be NULL)
 * ends lock waits with 57014 when it becomes non-zero. */
int sql_txn_begin(sql_engine *eng, sql_isolation iso, bool read_only,
                  uint32_t lock_timeout_ms, _Atomic int *cancel,
                  sql_txn **out, dc_error *err);
/* Start of each statement: READ COMMITTED takes a new snapshot; REPEATABLE
 * READ takes one on its first statement only. */
int sql_txn_stmt_begin(sql_txn *t, dc_error *err);
sql_isolation sql_txn_isolation(const sql_txn *t);
bool sql_txn_read_only(const sql_txn *t);
/* True once the transaction has written anything. */
bool sql_txn_has_writes(const sql_txn *t);
/* True when the transaction has written a key in [lo, hi) or deleted a
 * range that meets it. */
bool sql_txn_wrote_range(sql_txn *t, const uint8_t *lo, size_t lolen,
                         const uint8_t *hi, size_t hilen);
void sql_txn_set_lock_timeout(sql_txn *t, uint32_t ms);

/* Commit: write the write set as one batch with the engine's sync mode
 * (nothing when empty), publish the transaction's catalog copy if any,
 * release locks, free.  On failure nothing is applied, the transaction is
 * freed all the same, and the error says why. */
int sql_txn_commit(sql_txn *t, dc_error *err);
/* Roll back: drop the write set, release locks, free. */
void sql_txn_abort(sql_txn *t);

/* Savepoints: a mark of the write set (and the catalog copy); rolling back
 * to it undoes later writes and catalog changes but keeps locks. */
typedef struct sql_savepoint sql_savepoint;
int sql_txn_savepoint(sql_txn *t, sql_savepoint **out, dc_error *err);
int sql_txn_rollback_to(sql_txn *t, sql_savepoint *sp, dc_error *err);
/* Forget a savepoint (RELEASE, or after rollback_to when it is dropped). */
void sql_txn_savepoint_free(sql_txn *t, sql_savepoint *sp);

/* The transaction's private catalog (after DDL), or NULL when it made
 * none; sql_txn_set_catalog hands one over (the txn owns the reference). */
sql_catalog *sql_txn_catalog(sql_txn *t);
void sql_txn_set_catalog(sql_txn *t, sql_catalog *c);

/* ---- key/value access --------------------------------------------------- */

/* Look up key; *found says whether it exists.  The value is copied into
 * `val` (cleared first). */
int sql_txn_get(sql_txn *t, int mode, const uint8_t *key, size_t klen,
                sql_buf *val, bool *found, dc_error *err);
/* Like sql_txn_get, without a copy into a sql_buf: *val points into memory
 * allocated through `mem` (a value read from storage) or into the
 * transaction's write set (valid until the transaction ends). */
int sql_txn_get_ref(sql_txn *t, int mode, const uint8_t *key, size_t klen,
                    const sql_mem *mem, const uint8_t **val, size_t *vlen,
                    bool *found, dc_error *err);
/* Write set changes (25006 in a read-only transaction). */
int sql_txn_put(sql_txn *t, const uint8_t *key, size_t klen,
                const uint8_t *val, size_t vlen, dc_error *err);
int sql_txn_delete(sql_txn *t, const uint8_t *key, size_t klen,
                   dc_error *err);
/* Delete every key in [lo, hi). */
int sql_txn_delete_range(sql_txn *t, const uint8_t *lo, size_t lolen,
                         const uint8_t *hi, size_t hilen, dc_error *err);
/* The same for the keys of a relation that is dropped by this transaction
 * (its oid is never used again): inside the transaction the range reads
 * as empty; the commit queues it for removal in the background (sql/gc.c)
 * instead of deleting every key in its batch. */
int sql_txn_drop_range(sql_txn *t, const uint8_t *lo, size_t lolen,
                       const uint8_t *hi, size_t hilen, dc_error *err);

/* Lock `key` (see above).  *changed (may be NULL) is set when the key was
 * written by another transaction that committed after this statement's
 * snapshot (READ COMMITTED only; REPEATABLE READ fails with 40001). */
int sql_txn_lock_row(sql_txn *t, const uint8_t *key, size_t klen,
                     bool *changed, dc_error *err);

/* Lock `key` like sql_txn_lock_row, without the check for concurrent
 * changes (inserts: a unique check follows and looks at the newest state). */
int sql_txn_lock_key(sql_txn *t, const uint8_t *key, size_t klen,
                     dc_error *err);

/* Ordered iteration over [lo, hi) of the merged view (mode as above).
 * lo/hi may be NULL for unbounded.  Keys and values are valid until the
 * next call on the iterator.  Writes made by the same transaction after
 * the iterator was opened may or may not be seen. */
typedef struct sql_txn_iter sql_txn_iter;
int sql_txn_iter_open(sql_txn *t, int mode, const uint8_t *lo, size_t lolen,
                      const uint8_t *hi, size_t hilen, sql_txn_iter **out,
                      dc_error *err);
/* Position at the first key >= key (within the bounds). */
int sql_txn_iter_seek(sql_txn_iter *it, const uint8_t *key, size_t klen,
                      dc_error *err);
/* Advance; *valid false at the end.  First call after open or seek gives
 * the first key. */
int sql_txn_iter_next(sql_txn_iter *it, bool *valid, dc_error *err);
void sql_txn_iter_key(const sql_txn_iter *it, const uint8_t **k, size_t *n);
void sql_txn_iter_value(const sql_txn_iter *it, const uint8_t **v, size_t *n);
/* True when the iterator, just opened, will read storage alone (see
 * sql_scan_storage_only). */
bool sql_txn_iter_storage_only(const sql_txn_iter *it);
void sql_txn_iter_close(sql_txn_iter *it);

/* ---- engine counters (SQL_REL_META) -------------------------------------
 * Read (latest committed + own writes) and write an 8-byte counter. */
int sql_txn_meta_get(sql_txn *t, const char *name, uint64_t *v, bool *found,
                     dc_error *err);
int sql_txn_meta_put(sql_txn *t, const char *name, uint64_t v, dc_error *err);

/* ---- rowids --------------------------------------------------------------
 * The next rowid for a table without a primary key: one engine-wide,
 * increasing counter, reserved in blocks in storage (META "rowid_next")
 * outside the transaction, so no rowid is handed out twice, across
 * restarts too. */
int sql_rowid_next(sql_txn *t, int64_t *out, dc_error *err);
/* n (>= 1) consecutive rowids, the first in *first: a COPY takes a batch's
 * at once. */
int sql_rowid_reserve(sql_txn *t, int64_t n, int64_t *first, dc_error *err);

#endif
