/*
 * datacave/sql.h - the SQL kind: sessions that parse, plan and run
 * PostgreSQL-dialect SQL on the storage service.
 *
 * Results flow out through a dc_sql_sink the caller provides (the protocol
 * module turns its calls into RowDescription, DataRow, CommandComplete ...;
 * the local shell prints them).  COPY data flows through the same sink.
 *
 * Threads: a session belongs to one thread at a time, except cancel(),
 * which may be called from any thread while another runs the session.
 * Different sessions may run in parallel.
 */
#ifndef DATACAVE_SQL_H
#define DATACAVE_SQL_H

#include "abi.h"
#include "error.h"
#include "types.h"

#define DC_SQL_VTABLE_MAJOR 0
#define DC_SQL_VTABLE_MINOR 3

typedef struct dc_sql_session dc_sql_session;
typedef struct dc_sql_stmt dc_sql_stmt;
typedef struct dc_sql_portal dc_sql_portal;

/* Who the session runs as, and what it may do. */
typedef struct dc_sql_session_options {
    uint32_t size;
    const char *user;       /* authenticated user name                   */
    const char *database;   /* database to connect to                    */
    bool can_read;          /* SELECT                                    */
    bool can_write;         /* INSERT, UPDATE, DELETE, COPY FROM          */
    bool is_admin;          /* DDL and everything else                   */
    /* Minor 2.  The caller calls sync() at every Sync of the extended
     * protocol (needs a module with sync).  Outside a transaction block
     * the portals run between two sync() calls then form one implicit
     * transaction that sync() ends.  false (or a caller built before this
     * field): each portal run outside a block commits on its own. */
    bool sync_pipeline;
} dc_sql_session_options;

typedef enum dc_copy_direction {
    DC_COPY_IN = 1,         /* COPY ... FROM STDIN                       */
    DC_COPY_OUT = 2         /* COPY ... TO STDOUT                        */
} dc_copy_direction;

/*
 * The caller's side of a running statement.  Every callback may be NULL
 * except row and complete.  A non-zero return from a callback aborts the
 * statement with that status (the caller's own error, e.g. a closed
 * socket).  Pointers passed to callbacks are borrowed for the duration of
 * the call.
 */
typedef struct dc_sql_sink {
    uint32_t size;
    void *ud;
    /* Columns of the rows that follow (once per result set). */
    int (*describe)(void *ud, const dc_column *cols, uint32_t ncols);
    int (*row)(void *ud, const dc_row *row);
    /* The statement finished; tag is PostgreSQL's command tag
     * ("SELECT 3", "INSERT 0 1", "CREATE TABLE"). */
    int (*complete)(void *ud, const char *tag);
    /* A notice or warning (severity DC_SEV_NOTICE / DC_SEV_WARNING). */
    int (*notice)(void *ud, const dc_error *notice);
    /* A session setting changed (SET client_encoding ...). */
    int (*parameter)(void *ud, const char *name, const char *value);
    /* COPY: start of the data, in text (format 0) or CSV (format 1 here,
     * sent as text format to clients) for ncols columns. */
    int (*copy_begin)(void *ud, int direction, int format, uint32_t ncols);
    /* COPY IN: the next piece of client data, borrowed until the next
     * call; DC_ENOTFOUND at the end of the data.  Any other negative
     * status aborts the COPY (the client failed it). */
    int (*copy_read)(void *ud, const uint8_t **data, size_t *len);
    /* COPY OUT: a piece of data for the client. */
    int (*copy_write)(void *ud, const uint8_t *data, size_t len);
    /* Minor 3.  exec() calls it after each statement of the string has
     * run, successfully or not (after its complete(), or with its error),
     * with the statement's bytes in the text (off, len) and its error
     * (NULL on success): the protocol module audits statements one by
     * one.  Not called for a string that does not parse, nor by
     * portal_fetch(). */
    void (*statement_end)(void *ud, size_t off, size_t len,
                          const dc_error *err);
} dc_sql_sink;

typedef struct dc_sql_vtable {
    uint32_t size;

    /* Required.  Open a session.  Errors: 3D000 (no such database). */
    int (*session_open)(void *instance, const dc_sql_session_options *opts,
                        dc_sql_session **out, dc_error *err);
    /* Required.  Roll back what is open and free the session. */
    void (*session_close)(dc_sql_session *s);

    /* Required.  Run every statement of `sql` (the simple protocol).
     * Stops at the first failing statement and returns its error. */
    int (*exec)(dc_sql_session *s, const char *sql, size_t len,
                const dc_sql_sink *sink, dc_error *err);

    /* Required.  Transaction status for ReadyForQuery: 'I' (idle: no
     * transaction block; with sync_pipeline, an implicit transaction may
     * be open until sync()), 'T' (in a transaction block), 'E' (in a
     * failed block). */
    char (*txn_status)(const dc_sql_session *s);

    /* Optional (NULL: the extended protocol is unsupported).
     * Parse one statement with parameter types (0 = infer).  The
     * statement is valid until stmt_close or session_close.  In a failed
     * block only COMMIT, ROLLBACK, ROLLBACK TO SAVEPOINT and an empty
     * statement are accepted (25P02 otherwise), and so by portal_open. */
    int (*prepare)(dc_sql_session *s, const char *sql, size_t len,
                   const uint32_t *param_types, uint32_t nparams,
                   dc_sql_stmt **out, dc_error *err);
    /* Parameter types and result columns; borrowed until stmt_close.
     * *ncols is 0 for a statement that returns no rows. */
    int (*stmt_describe)(dc_sql_stmt *st, const uint32_t **param_types,
                         uint32_t *nparams, const dc_column **cols,
                         uint32_t *ncols);
    void (*stmt_close)(dc_sql_stmt *st);
    /* Bind parameter values to a statement.  Values are copied. */
    int (*portal_open)(dc_sql_stmt *st, const dc_value *params,
                       uint32_t nparams, dc_sql_portal **out, dc_error *err);
    /* Run or continue a portal, sending at most max_rows rows (0: all).
     * *suspended is set when rows remain (PortalSuspended).  Outside a
     * transaction block the run commits when the portal finishes, or, with
     * sync_pipeline, at the next sync(). */
    int (*portal_fetch)(dc_sql_portal *p, uint64_t max_rows,
                        const dc_sql_sink *sink, bool *suspended,
                        dc_error *err);
    void (*portal_close)(dc_sql_portal *p);

    /* Optional.  Make the statement running in `s` fail with 57014 soon.
     * Safe from any thread while the session is in use. */
    void (*cancel)(dc_sql_session *s);

    /* Optional.  Text form of a value (PostgreSQL's output function) into
     * out; *len gets the length.  DC_ERANGE when cap is too small (and *len
     * the size needed). */
    int (*format_text)(void *instance, const dc_value *v, char *out,
                       size_t cap, size_t *len);
    /* Optional.  Parse text into a value of `type`/`typmod`.  Variable-
     * length results point into `buf` (cap bytes).  Errors: 22P02 etc. */
    int (*parse_text)(void *instance, uint32_t type, int32_t typmod,
                      const char *text, size_t len, dc_value *out,
                      uint8_t *buf, size_t cap, dc_error *err);
    /* Optional.  The current value of a session setting (for
     * ParameterStatus after start-up); borrowed until the next call. */
    const char *(*setting)(dc_sql_session *s, const char *name);

    /* Optional, minor 2.  The extended protocol's Sync, for a session
     * opened with sync_pipeline.  Outside a transaction block it ends the
     * implicit transaction of the portals run since the last sync():
     * commits it, or rolls it back when `failed` (a message since the last
     * sync() failed, in the module or in the caller) or when one of its
     * statements failed.  Inside a block, `failed` fails the block (25P02
     * until ROLLBACK).  The caller closes its portals first when
     * txn_status() is 'I' (they belong to the implicit transaction).
     * Errors: those of the commit (the transaction is then rolled back). */
    int (*sync)(dc_sql_session *s, bool failed, const dc_sql_sink *sink,
                dc_error *err);
} dc_sql_vtable;

#endif
