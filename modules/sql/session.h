/*
 * sql/session.h - a session of the sql module: who it runs as, its
 * settings, its transaction and its prepared statements (sql.c).
 *
 * Settings follow PostgreSQL's GUC rules for the ones Datacave knows:
 * names are case-insensitive, SET inside a transaction block is undone by
 * ROLLBACK, SET LOCAL lasts until the end of the transaction, RESET goes
 * back to the session's start value.  Settings marked "report" are sent to
 * the client (ParameterStatus) when they change.
 *
 * Threads: a session belongs to one thread at a time; `cancel` may be set
 * from any thread.
 */
#ifndef SQL_SESSION_H
#define SQL_SESSION_H

#include "datacave/sql.h"
#include "sql/engine.h"
#include "sql/txn.h"

#define SQL_MAX_SETTINGS 64
#define SQL_SETTING_LEN 256

typedef struct sql_setting {
    char name[64];                  /* canonical spelling ("TimeZone")   */
    char value[SQL_SETTING_LEN];
    char reset_value[SQL_SETTING_LEN];
    bool report;                    /* sent as ParameterStatus           */
} sql_setting;

/* One savepoint of the open transaction block. */
typedef struct sql_sp_entry {
    char *name;
    sql_savepoint *sp;
    size_t nundo;                   /* settings undo entries at the mark  */
} sql_sp_entry;

/* Undo record of a SET made inside a transaction block. */
typedef struct sql_set_undo {
    int index;                      /* into settings                      */
    char old[SQL_SETTING_LEN];
    bool local;                     /* SET LOCAL: undone at commit too    */
} sql_set_undo;

struct sql_session {
    sql_engine *eng;
    char user[64];
    char database[64];
    uint32_t db_oid;                /* the database's oid                */
    bool can_read, can_write, is_admin;
    /* The caller calls sync() at every Sync (dc_sql_session_options). */
    bool sync_pipeline;

    sql_setting settings[SQL_MAX_SETTINGS];
    int nsettings;
    /* Indexes into settings of those read at every transaction start
     * (found once: settings never move, custom ones are appended). */
    int ix_default_iso, ix_default_ro, ix_txn_iso, ix_txn_ro;
    sql_tz tz;
    size_t work_mem;
    uint32_t lock_timeout_ms;
    uint32_t statement_timeout_ms;  /* 0: off                            */
    /* Bumped at every write of a setting's value (SET, SET LOCAL, RESET,
     * the undo at ROLLBACK / ROLLBACK TO / end of transaction, the
     * per-transaction ones): plans cached by prepared statements were
     * bound under one generation and are re-planned under another. */
    uint64_t settings_gen;
    /* Plans built for executions of prepared statements (a diagnostic:
     * the vtable's setting "datacave.plans_built"), and its text. */
    uint64_t plans_built;
    char plans_built_text[24];
    /* The engine catalog last seen (scope_src) and the view of it scoped
     * to this session's database (scope_cat), both referenced: the same
     * catalog gives the same scoped object, so plans cached against it
     * stay valid (sql.c stmt_ctx_open). */
    sql_catalog *scope_src, *scope_cat;

    /* Transaction state.  txn is NULL when no transaction is open.
     * in_block: an explicit BEGIN; failed: an error happened in the block
     * (every statement but ROLLBACK / COMMIT / ROLLBACK TO gets 25P02).
     * With sync_pipeline, txn may stay open outside a block: the implicit
     * transaction of a pipeline, ended by sync(); failed then means one of
     * its statements failed (sync() rolls it back). */
    sql_txn *txn;
    bool in_block;
    bool failed;
    int64_t txn_ts;
    sql_isolation next_iso;         /* BEGIN ISOLATION LEVEL / SET TRANSACTION */
    int next_read_only;             /* -1 unset                           */
    sql_sp_entry *sps;
    size_t nsps, capsps;
    sql_set_undo *undo;
    size_t nundo, capundo;

    /* SQL_CANCEL_USER / SQL_CANCEL_TIMEOUT (engine.h) stop the running
     * statement; 0 lets it run. */
    _Atomic int cancel;

    /* statement_timeout: while a statement runs with a timeout the
     * session sits in the engine's timer list (sql.c).  st_next, st_prev,
     * st_linked and st_deadline are guarded by the timer's mutex;
     * st_armed belongs to the session's thread. */
    sql_session *st_next, *st_prev;
    bool st_linked, st_armed;
    int64_t st_deadline;            /* CLOCK_MONOTONIC nanoseconds       */

    /* Portals: txn_gen counts ended transactions (a portal of an ended
     * transaction is gone, 34000); live lists the portals holding an open
     * cursor, closed when their transaction ends. */
    uint64_t txn_gen;
    struct dc_sql_portal *live;

    /* The slow statement log (engine slow_ns >= 0): when the statement
     * running began (CLOCK_MONOTONIC ns), and the text of its plan, kept
     * (malloc'd) when the run had taken the threshold by the end of its
     * execution. */
    int64_t slow_t0;
    char *slow_plan;
};

#endif
