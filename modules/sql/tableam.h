/*
 * sql/tableam.h - rows and index entries of tables, on top of txn.h.
 *
 * Row key:   table oid (4 BE) | for each primary key column in order,
 *            sql_key_append(value, index flags) -- or, without a primary
 *            key, | sql_key_append(int8 rowid) with rowids from one
 *            engine-wide counter that never reuses a value (sql_rowid_next
 *            in txn.h).
 * Row value: the row encoding below.
 * Index key: index oid (4 BE) | sql_key_append of each key column with
 *            its flags | (for a non-unique index, or a unique one where a
 *            key column is NULL) the row key without its 4-byte prefix.
 * Index val: the row key without its 4-byte prefix.
 * The primary key has no entries of its own (the rows are keyed by it):
 * sql_index_key_prefix of a primary index gives a row key prefix, and
 * sql_index_scan_open over it walks the rows like a table scan.
 *
 * Row encoding: a version byte (1), a uint16 count of stored attnums
 * (rows written before ADD COLUMN have fewer: the rest read as the
 * column's `missing` value), a NULL bitmap, then each non-NULL value:
 * fixed-size types as 1/2/4/8 little-endian bytes, variable-length ones as
 * a varint length and the bytes.  Dropped columns read as NULL.
 *
 * Constraints enforced here: NOT NULL (23502 'null value in column "a" of
 * relation "t" violates not-null constraint'), primary key and unique
 * indexes (23505 'duplicate key value violates unique constraint
 * "t_pkey"' with detail 'Key (a)=(1) already exists.').  CHECK constraints
 * need expressions and are enforced by the executor.  Unique checks lock
 * the unique key (sql_txn_lock_row) and look at the newest committed state
 * (SQL_READ_LATEST), so two concurrent inserts of one key cannot both
 * succeed: the second waits for the first to end.
 *
 * Values handed out point into memory allocated through `mem` (the
 * statement arena) unless a call says otherwise.
 */
#ifndef SQL_TABLEAM_H
#define SQL_TABLEAM_H

#include "sql/catalog.h"
#include "sql/txn.h"

/* Encode / decode a full row (vals has t->natts entries, attnum order). */
int sql_row_encode(const sql_table *t, const dc_value *vals, sql_buf *out,
                   dc_error *err);
int sql_row_decode(const sql_table *t, const uint8_t *p, size_t n,
                   const sql_mem *mem, dc_value *vals, dc_error *err);

/* The 4-byte relation prefix of a table or index (for scan bounds). */
void sql_rel_prefix(uint32_t oid, uint8_t out[4]);
/* Row key of `vals` (primary key tables only) into key (cleared first). */
int sql_row_key(const sql_table *t, const dc_value *vals, sql_buf *key,
                dc_error *err);

/* Insert a row: checks NOT NULL and every unique index, writes the row and
 * its index entries.  key_out (may be NULL) gets the row key. */
int sql_table_insert(sql_txn *txn, const sql_table *t, const dc_value *vals,
                     sql_buf *key_out, dc_error *err);
/* The parts of sql_table_insert for a table without a primary key or any
 * index, so that they can run off the connection's thread (COPY FROM
 * decodes on a second thread, sql/copy.c): check NOT NULL and encode the
 * row into out (cleared first); the row key of a rowid (from
 * sql_rowid_reserve) into key (cleared first).  The row is then written
 * with sql_txn_put. */
int sql_row_prepare(const sql_table *t, const dc_value *vals, sql_buf *out,
                    dc_error *err);
int sql_rowid_key(const sql_table *t, int64_t rowid, sql_buf *key,
                  dc_error *err);
/* Bulk insert into a table that the transaction itself created (the copy
 * a table rewrite fills): nothing of it is in storage and no other
 * transaction can see it, so its rows take no locks, and while the primary
 * keys arrive in ascending order no probe for a duplicate is needed.
 * Otherwise the same checks as sql_table_insert.  Zero-initialise the
 * loader; free it with sql_loader_free. */
typedef struct sql_loader {
    sql_buf key, row, ix, val; /* scratch */
    sql_buf last;              /* the last primary key loaded */
    bool has_last;
} sql_loader;
int sql_table_load(sql_txn *txn, const sql_table *t, sql_loader *ld,
                   const dc_value *vals, dc_error *err);
/* sql_table_load with the row already encoded for t (row, rowlen: the
 * stored bytes of a table with the same layout, sql_table_same_layout),
 * which are then stored as they are. */
int sql_table_load_raw(sql_txn *txn, const sql_table *t, sql_loader *ld,
                       const dc_value *vals, const uint8_t *row, size_t rowlen,
                       dc_error *err);
/* The same for a table whose one index is its primary key, with the row
 * key built and NOT NULL checked already (sql_row_key,
 * sql_table_check_not_null): a rewrite builds them on a helper thread. */
int sql_table_load_keyed(sql_txn *txn, const sql_table *t, sql_loader *ld,
                         const uint8_t *key, size_t klen, const uint8_t *row,
                         size_t rowlen, dc_error *err);
/* 23502 when vals has a NULL in a NOT NULL column. */
int sql_table_check_not_null(const sql_table *t, const dc_value *vals,
                             dc_error *err);
/* True when a row stored for a reads the same as one stored for b: the
 * same columns, types, lengths, dropped columns and missing values. */
bool sql_table_same_layout(const sql_table *a, const sql_table *b);
void sql_loader_free(sql_loader *ld);
/* Find a row that conflicts with `vals` on unique index `ix` (NULL: any
 * unique index, the primary key first), after locking the conflicting
 * key; *found tells, conflict_key gets its row key.  For ON CONFLICT. */
int sql_table_find_conflict(sql_txn *txn, const sql_table *t,
                            const sql_index *ix, const dc_value *vals,
                            sql_buf *conflict_key, bool *found,
                            dc_error *err);
/* Replace the row at `key` (old values `oldv`) by `newv`; a changed
 * primary key moves the row.  Index entries follow.  The caller has
 * locked `key`. */
int sql_table_update(sql_txn *txn, const sql_table *t, const uint8_t *key,
                     size_t klen, const dc_value *oldv, const dc_value *newv,
                     dc_error *err);
/* Delete the row at `key` and its index entries (old values `oldv`). */
int sql_table_delete(sql_txn *txn, const sql_table *t, const uint8_t *key,
                     size_t klen, const dc_value *oldv, dc_error *err);
/* Read one row by key; *found false when absent. */
int sql_table_fetch(sql_txn *txn, int mode, const sql_table *t,
                    const uint8_t *key, size_t klen, const sql_mem *mem,
                    dc_value *vals, bool *found, dc_error *err);
/* Remove every row and index entry of the table (TRUNCATE: the table
 * stays, under the same oid). */
int sql_table_clear(sql_txn *txn, const sql_table *t, dc_error *err);
/* The same for a table (index) whose oid is gone after this transaction
 * (DROP, the old copy of a rewrite): removed in the background after the
 * commit (sql_txn_drop_range). */
int sql_table_drop_storage(sql_txn *txn, const sql_table *t, dc_error *err);
int sql_index_drop_storage(sql_txn *txn, const sql_index *ix, dc_error *err);
/* An estimate of the table's rows from the storage engine's approx_count
 * over its key range, in *n.  DC_EUNSUPPORTED (and *n untouched) when the
 * engine has none or when the transaction has written the table: the
 * estimate sees committed data only. */
int sql_table_approx_rows(sql_txn *txn, const sql_engine *eng,
                          const sql_table *t, uint64_t *n, dc_error *err);

/* VACUUM FULL of a table: compact the storage of its rows and of its
 * secondary indexes, so that versions no snapshot needs and deleted keys
 * are gone from disk.  Nothing to do (DC_OK) for a storage engine without
 * compact(). */
int sql_table_compact(const sql_engine *eng, const sql_table *t,
                      dc_error *err);
/* Fill a new index from the table's rows (CREATE INDEX; 23505 for a
 * unique index over duplicates). */
int sql_index_build(sql_txn *txn, const sql_table *t, const sql_index *ix,
                    dc_error *err);
/* Remove an index's entries (DROP INDEX). */
int sql_index_clear(sql_txn *txn, const sql_index *ix, dc_error *err);

/* ---- scans ---------------------------------------------------------------
 * A table scan walks row keys in [lo, hi) -- full keys with the 4-byte
 * prefix, NULL for the table's whole range.  An index scan walks index
 * keys in [lo, hi) and fetches each row.  next() fills vals (t->natts
 * values) and, when key is not NULL, the row key (valid until the next
 * call). */
typedef struct sql_scan sql_scan;
int sql_table_scan_open(sql_txn *txn, int mode, const sql_table *t,
                        const uint8_t *lo, size_t lolen, const uint8_t *hi,
                        size_t hilen, sql_scan **out, dc_error *err);
int sql_index_scan_open(sql_txn *txn, int mode, const sql_table *t,
                        const sql_index *ix, const uint8_t *lo, size_t lolen,
                        const uint8_t *hi, size_t hilen, sql_scan **out,
                        dc_error *err);
/* The stored bytes of the row a table scan (not an index scan) returned
 * last; valid until the next call on the scan. */
void sql_scan_row(const sql_scan *s, const uint8_t **row, size_t *len);
/* True when the scan reads storage alone: a table scan that found nothing
 * of the transaction's own writes in its range when it opened (so it
 * never looks at them).  Only such a scan may go on on another thread
 * while its transaction writes elsewhere. */
bool sql_scan_storage_only(const sql_scan *s);
int sql_scan_next(sql_scan *s, const sql_mem *mem, dc_value *vals,
                  const uint8_t **key, size_t *klen, bool *valid,
                  dc_error *err);
void sql_scan_close(sql_scan *s);
/* Optional, after open: decode only the columns whose bit is set in
 * `cols` (bit attnum - 1; (natts + 7) / 8 bytes, copied); the others
 * read as NULL of their type.  NULL restores every column.  With
 * `mem`, values still point into memory allocated through it (or into
 * the catalog); when only fixed-size columns are asked for, the stored
 * row is not copied at all. */
int sql_scan_set_columns(sql_scan *s, const uint8_t *cols, dc_error *err);

/* Index key prefix of the first n key columns' values (with flags), with
 * the 4-byte index prefix, into key (cleared first): for scan bounds.
 * sql_key_successor turns a prefix into the smallest key greater than
 * every key that starts with it (for an exclusive upper bound). */
int sql_index_key_prefix(const sql_index *ix, const dc_value *vals, int n,
                         sql_buf *key, dc_error *err);
int sql_key_successor(sql_buf *key, dc_error *err);
/* Row key prefix from the first n primary key columns' values (pkvals[i]
 * is the value of key column i, not of attnum i), with the table prefix:
 * for point lookups (n = all key columns) and ranges on the primary key. */
int sql_row_key_prefix(const sql_table *t, const dc_value *pkvals, int n,
                       sql_buf *key, dc_error *err);

#endif
