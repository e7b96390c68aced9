/*
 * sql/catalog.h - tables, columns, constraints, indexes and views.
 *
 * A sql_catalog is an immutable, reference-counted snapshot of every
 * object.  The engine holds the newest committed one; a statement takes a
 * reference for its duration.  DDL works on a private copy owned by the
 * transaction (sql_catalog_clone), writes the changed objects into the
 * transaction's write set (so they commit atomically with the data), and
 * the copy replaces the engine's catalog when the transaction commits
 * (sql_catalog_publish).  One DDL transaction at a time: DDL first takes
 * the object lock SQL_LOCK_DDL (txn.h), which waits like a row lock.
 *
 * Persistence: each object is one key SQL_REL_CATALOG | oid (4 BE) whose
 * value is a JSON document (jansson).  sql_catalog_load() rebuilds the
 * catalog from those keys at open.
 *
 * Names are stored lower-case as PostgreSQL folds them (quoted names keep
 * their case).  Schemas: "public" (user objects), "pg_catalog" and
 * "information_schema" (generated relations, vcatalog.h).
 */
#ifndef SQL_CATALOG_H
#define SQL_CATALOG_H

#include "sql/engine.h"

typedef struct sql_column {
    char *name;
    int16_t attnum;          /* 1-based position, stable for the table's
                                life (dropped columns keep theirs)       */
    uint32_t type;           /* dc_type_oid                               */
    int32_t typmod;          /* -1 when none                              */
    bool not_null;
    bool dropped;            /* ALTER TABLE DROP COLUMN: kept as a hole   */
    char *default_expr;      /* canonical SQL text of DEFAULT, or NULL    */
    /* Value of the column in rows written before it was added (ADD COLUMN
     * with a constant DEFAULT); NULL otherwise.  Bytes owned by the
     * catalog. */
    dc_value missing;
} sql_column;

typedef struct sql_index {
    uint32_t oid;
    char *name;              /* also the constraint name for PK / UNIQUE  */
    uint32_t table_oid;
    bool unique;
    bool primary;
    bool is_constraint;      /* made by PRIMARY KEY / UNIQUE constraint   */
    int ncols;
    int16_t *attnums;        /* key columns (attnum of the table)         */
    uint8_t *flags;          /* SQL_KEY_DESC | SQL_KEY_NULLS_FIRST each   */
} sql_index;

typedef struct sql_check {
    char *name;              /* e.g. "t_a_check"                          */
    char *expr;              /* canonical SQL text                        */
} sql_check;

typedef struct sql_table {
    uint32_t oid;
    char *schema;            /* "public"                                  */
    char *name;
    int natts;               /* number of attnums, dropped ones included */
    sql_column *cols;        /* cols[attnum - 1]                          */
    sql_index *pkey;         /* NULL: rows are keyed by a hidden rowid    */
    int nindexes;
    sql_index **indexes;     /* every index, the primary key's included   */
    int nchecks;
    sql_check *checks;
    uint64_t est_rows;       /* rough row count for the planner (0: unknown) */
    uint32_t db_oid;         /* database the table belongs to (0 when not
                                yet placed: sql_catalog_put_table puts it
                                in the catalog's database)                */
} sql_table;

typedef struct sql_view {
    uint32_t oid;
    char *schema;
    char *name;
    char *query;             /* the SELECT's text as written              */
    int ncols;
    char **colnames;         /* output column names                       */
    uint32_t *coltypes;      /* output column types                       */
    uint32_t db_oid;         /* database (0: as for sql_table)            */
} sql_view;

/* Databases.  A database is a namespace in the one store: every table and
 * view (and so every index) belongs to exactly one, and names are looked
 * up in one database only.  "default" (oid SQL_DEFAULT_DB_OID) exists in
 * every data directory; objects stored without a database belong to it.
 *
 * A catalog object is scoped to one database (sql_catalog_db): lookups,
 * sql_catalog_table_by_oid and the iteration functions see only that
 * database's objects.  A clone keeps the scope of its source; the engine's
 * catalog is seen through sql_catalog_scope. */
#define SQL_DEFAULT_DB_OID 5u
#define SQL_DEFAULT_DB_NAME "default"

typedef struct sql_database {
    uint32_t oid;
    char *name;
} sql_database;

/* ---- lifetime ----------------------------------------------------------- */

/* Load the catalog of `eng->store` (an empty one for a new store) and
 * restore eng->next_oid.  Called once at open. */
int sql_catalog_load(sql_engine *eng, sql_catalog **out, dc_error *err);
sql_catalog *sql_catalog_ref(sql_catalog *c);    /* +1 reference         */
void sql_catalog_unref(sql_catalog *c);          /* -1; frees at zero    */
/* The engine's current catalog with a reference the caller drops. */
sql_catalog *sql_engine_catalog(sql_engine *eng);
/* A deep private copy for a DDL transaction (refcount 1). */
int sql_catalog_clone(const sql_catalog *c, sql_catalog **out, dc_error *err);
/* Make `c` the engine's current catalog (after its transaction's batch
 * is written); takes over the caller's reference. */
void sql_catalog_publish(sql_engine *eng, sql_catalog *c);
/* Version number: increases with every published DDL; plans cached with
 * an older version are re-planned.  Every catalog object of the process
 * (loaded or cloned) has a version of its own, so comparing versions for
 * equality also tells a transaction's private copies apart. */
uint64_t sql_catalog_version(const sql_catalog *c);

/* ---- databases ------------------------------------------------------------ */

/* The database c is scoped to (SQL_DEFAULT_DB_OID for a loaded catalog). */
uint32_t sql_catalog_db(const sql_catalog *c);
/* A reference to a catalog with the objects of c scoped to database `db`
 * (c itself, with a new reference, when it is scoped to db already; else
 * a light view sharing c's objects).  0 means the default database. */
int sql_catalog_scope(sql_catalog *c, uint32_t db, sql_catalog **out,
                      dc_error *err);
/* Rescope a private clone (see the DDL section) to database `db`. */
int sql_catalog_set_db(sql_catalog *c, uint32_t db, dc_error *err);
/* Every database, whatever the scope: by name (NULL when absent), by
 * position in oid order. */
const sql_database *sql_catalog_database(const sql_catalog *c,
                                         const char *name);
size_t sql_catalog_ndatabases(const sql_catalog *c);
const sql_database *sql_catalog_database_at(const sql_catalog *c, size_t i);
/* On a private clone: add database (name, oid) and persist it in txn. */
int sql_catalog_add_database(sql_catalog *c, sql_txn *txn, const char *name,
                             uint32_t oid, dc_error *err);
/* On a private clone: remove database `oid` with every table (rows and
 * index entries cleared through tableam) and view of it, in txn. */
int sql_catalog_drop_database(sql_catalog *c, sql_txn *txn, uint32_t oid,
                              dc_error *err);

/* ---- lookup (NULL when absent; schema NULL searches "public") ----------- */
const sql_table *sql_catalog_table(const sql_catalog *c, const char *schema,
                                   const char *name);
const sql_table *sql_catalog_table_by_oid(const sql_catalog *c, uint32_t oid);
const sql_view *sql_catalog_view(const sql_catalog *c, const char *schema,
                                 const char *name);
const sql_index *sql_catalog_index(const sql_catalog *c, const char *schema,
                                   const char *name);
/* Iteration for the generated pg_catalog relations: object i of n, in oid
 * order; NULL past the end. */
size_t sql_catalog_ntables(const sql_catalog *c);
const sql_table *sql_catalog_table_at(const sql_catalog *c, size_t i);
size_t sql_catalog_nviews(const sql_catalog *c);
const sql_view *sql_catalog_view_at(const sql_catalog *c, size_t i);

/* A column by name (not dropped), or NULL. */
const sql_column *sql_table_column(const sql_table *t, const char *name);

/* ---- DDL ----------------------------------------------------------------
 * Run one DDL statement (STMT_CREATE_TABLE, STMT_DROP of tables, indexes
 * and views, STMT_TRUNCATE, STMT_ALTER_TABLE, STMT_CREATE_INDEX,
 * STMT_CREATE_VIEW) in ctx->txn.  On the first DDL of a transaction this
 * takes SQL_LOCK_DDL and clones the catalog into the transaction
 * (sql_txn_catalog); ctx->cat is then set to the transaction's copy.
 * Data changes (TRUNCATE, DROP, index builds, ADD COLUMN defaults) go
 * through tableam.  On success *tag gets the command tag ("CREATE TABLE").
 * Errors: 42P07 exists, 42P01 no such table, 42703 no such column, 42704
 * no such index, 42809 wrong object type, 42P16 multiple primary keys,
 * 23505/23502 when an index or NOT NULL does not hold for existing rows,
 * 42601, 0A000 for what is not supported.  Notices (IF [NOT] EXISTS
 * skips) go to `notice` when not NULL.
 *
 * Expressions (DEFAULT, CHECK, ADD COLUMN DEFAULT evaluation, CREATE
 * VIEW's column types) use the binder and executor: see
 * sql_bind_expr_text / sql_eval_const_text in binder.h. */
int sql_ddl_exec(sql_ctx *ctx, const sql_stmt *stmt, const char *src,
                 char *tag, size_t tag_cap,
                 int (*notice)(void *ud, const dc_error *n), void *notice_ud,
                 dc_error *err);

/* ANALYZE: count the rows of table `name` (NULL: every table) and store
 * the count as its est_rows, like DDL (takes SQL_LOCK_DDL, changes the
 * transaction's catalog copy, sets ctx->cat).  42P01 for a missing
 * table. */
int sql_catalog_analyze(sql_ctx *ctx, const char *name, dc_error *err);

/* Allocate a new object oid (persisted in the transaction). */
int sql_catalog_new_oid(sql_ctx *ctx, uint32_t *oid, dc_error *err);

/* ---- changing a private copy (ddl.c) ------------------------------------
 * Only on a catalog made by sql_catalog_clone that nobody else has seen
 * yet.  Objects are malloc'd and owned by the catalog once added. */

/* The table with `oid` for changing in place, or NULL. */
sql_table *sql_catalog_table_mut(sql_catalog *c, uint32_t oid);
/* Add `t` or replace the table with the same oid (freed); takes `t`. */
int sql_catalog_put_table(sql_catalog *c, sql_table *t, dc_error *err);
/* Add `v` or replace the view with the same oid; takes `v`. */
int sql_catalog_put_view(sql_catalog *c, sql_view *v, dc_error *err);
/* Remove (and free) the table or view with `oid`; no-op when absent. */
void sql_catalog_remove(sql_catalog *c, uint32_t oid);
/* Rebuild the name lookup after objects were changed in place (renames,
 * indexes added or dropped). */
int sql_catalog_reindex(sql_catalog *c, dc_error *err);
/* Deep copies and frees of single objects. */
sql_table *sql_table_dup(const sql_table *t);
void sql_table_free(sql_table *t);
void sql_view_free(sql_view *v);
/* Persist an object in txn's write set (SQL_REL_CATALOG | oid -> JSON),
 * or delete its key. */
int sql_catalog_save_table(sql_txn *txn, const sql_table *t, dc_error *err);
int sql_catalog_save_view(sql_txn *txn, const sql_view *v, dc_error *err);
int sql_catalog_delete_object(sql_txn *txn, uint32_t oid, dc_error *err);
/* Call fn for every column name that stored expression text (a DEFAULT
 * or CHECK) refers to, in order of appearance (repeats included).
 * Returns DC_OK, or the parse error of a malformed text. */
int sql_expr_text_columns(const char *text,
                          void (*fn)(const char *col, void *ud), void *ud,
                          dc_error *err);
/* True when `name` is taken by a table, view or index in `schema`. */
bool sql_catalog_relname_taken(const sql_catalog *c, const char *schema,
                               const char *name);

#endif
