/*
 * datacave/host.h - the services the host hands to every module.
 *
 * A module never links against the host.  Its init() receives a dc_host
 * handle (one per module: the host knows which module is calling) and a
 * pointer to the dc_host_api table.  Both stay valid until the module's
 * shutdown() has returned.  Every function in the table may be called from
 * any thread unless its comment says otherwise.
 *
 * The table only grows.  Once the ABI is 1.x a host of a newer minor may
 * load a module of an older one; a module that can also run on older hosts
 * checks DC_HAS_FIELD(api, dc_host_api, field) before calling a field added
 * after its oldest supported minor.
 */
#ifndef DATACAVE_HOST_H
#define DATACAVE_HOST_H

#include <stdarg.h>

#include "abi.h"
#include "error.h"

typedef struct dc_host dc_host;       /* opaque, one per loaded module */
typedef struct dc_thread dc_thread;   /* opaque thread handle          */
typedef struct dc_metric dc_metric;   /* a metric family               */
typedef struct dc_series dc_series;   /* one labelled series of it     */

typedef enum dc_log_level {
    DC_LOG_DEBUG = 0,
    DC_LOG_INFO = 1,
    DC_LOG_WARN = 2,
    DC_LOG_ERROR = 3
} dc_log_level;

typedef enum dc_clock {
    DC_CLOCK_REALTIME = 0,  /* nanoseconds since 1970-01-01 UTC           */
    DC_CLOCK_MONOTONIC = 1  /* nanoseconds since an arbitrary fixed point */
} dc_clock;

/* Types of configuration values (and of a module's declared options). */
typedef enum dc_config_type {
    DC_CFG_STRING = 1,
    DC_CFG_INT = 2,
    DC_CFG_FLOAT = 3,   /* an integer in the file is accepted for a float */
    DC_CFG_BOOL = 4,
    DC_CFG_DATETIME = 5,/* any TOML date/time, read as its text           */
    DC_CFG_ARRAY = 6,
    DC_CFG_TABLE = 7
} dc_config_type;

typedef enum dc_metric_type {
    DC_METRIC_COUNTER = 1,   /* only goes up; name ends in _total         */
    DC_METRIC_GAUGE = 2,     /* goes up and down                          */
    DC_METRIC_HISTOGRAM = 3  /* observations counted into buckets         */
} dc_metric_type;

/* Describes a metric family for metric_register.  Strings are copied. */
typedef struct dc_metric_desc {
    uint32_t size;                  /* sizeof(dc_metric_desc)            */
    uint32_t type;                  /* dc_metric_type                    */
    const char *name;               /* [a-zA-Z_:][a-zA-Z0-9_:]*          */
    const char *help;               /* one line of text                  */
    const char *const *label_names; /* nlabels names, [a-zA-Z_][a-zA-Z0-9_]* */
    uint32_t nlabels;               /* at most DC_METRIC_MAX_LABELS      */
    const double *buckets;          /* HISTOGRAM: upper bounds, ascending,
                                       without +Inf (added by the host)  */
    uint32_t nbuckets;              /* at most DC_METRIC_MAX_BUCKETS     */
} dc_metric_desc;

#define DC_METRIC_MAX_LABELS 8
#define DC_METRIC_MAX_BUCKETS 32

/* What metrics_visit hands to its callbacks for one series.  Borrowed:
 * valid only during the callback. */
typedef struct dc_series_value {
    const char *const *label_values;  /* desc->nlabels strings           */
    double value;                     /* COUNTER and GAUGE               */
    const uint64_t *bucket_counts;    /* HISTOGRAM: cumulative counts, one
                                         per bucket, then one for +Inf   */
    double sum;                       /* HISTOGRAM: sum of observations  */
    uint64_t count;                   /* HISTOGRAM: number of observations */
} dc_series_value;

typedef struct dc_metrics_visitor {
    uint32_t size;
    /* Called once per family, in registration order, before its series. */
    int (*family)(void *ud, const dc_metric_desc *desc);
    /* Called once per series of the family last announced. */
    int (*series)(void *ud, const dc_metric_desc *desc,
                  const dc_series_value *value);
} dc_metrics_visitor;

/* States of the server as a whole, for health checks. */
typedef enum dc_server_state {
    DC_STATE_STARTING = 0,  /* modules are being initialised (recovery) */
    DC_STATE_READY = 1,     /* every module is ready                    */
    DC_STATE_STOPPING = 2   /* shutdown has begun                       */
} dc_server_state;

/* Kinds of audit events (dc_audit_event.kind). */
typedef enum dc_audit_kind {
    DC_AUDIT_LOGIN = 1,     /* a login attempt, successful or not       */
    DC_AUDIT_STATEMENT = 2  /* a statement run, successfully or not     */
} dc_audit_kind;

/* One event for the audit log (audit(), ABI 0.2).  Strings are borrowed
 * for the call and need not be valid UTF-8 (the host replaces what is
 * not); NULL means "does not apply" and is written as null. */
typedef struct dc_audit_event {
    uint32_t size;              /* sizeof(dc_audit_event)                */
    uint32_t kind;              /* dc_audit_kind                         */
    int64_t time_ns;            /* when it began (DC_CLOCK_REALTIME ns);
                                   0: now                                */
    int64_t connection_id;      /* the session's number, to correlate
                                   lines (pgwire: the process id of its
                                   BackendKeyData); 0: none              */
    const char *user;           /* the user name (asked for, at login)   */
    const char *database;
    const char *client_addr;    /* the client's address                  */
    const char *method;         /* login: "scram-sha-256", "md5",
                                   "password" or "trust"                 */
    const char *statement;      /* statement: its text, statement_len
                                   bytes (no NUL needed)                 */
    size_t statement_len;
    const char *command;        /* statement: the command tag ("INSERT 0
                                   3"), NULL when it did not complete    */
    const char *sqlstate;       /* "00000" on success, else the error's  */
    const char *message;        /* the error's message, NULL on success  */
    int64_t rows;               /* statement: rows returned or affected;
                                   -1: does not apply                    */
    int64_t duration_ns;        /* how long it took; -1: unknown         */
} dc_audit_event;

typedef struct dc_host_api {
    uint32_t size;          /* sizeof(dc_host_api) as the host was built */
    uint16_t abi_major;     /* the host's DC_ABI_MAJOR                   */
    uint16_t abi_minor;     /* the host's DC_ABI_MINOR                   */
    const char *host_version; /* the Datacave release, e.g. "0.1.0"     */

    /* ---- logging -------------------------------------------------- */

    /* Write one log line at `level`, tagged with the calling module's
     * name.  printf-style.  Lines below the configured level are dropped
     * cheaply.  Never fails; never blocks for long. */
    void (*log)(dc_host *h, int level, const char *fmt, ...)
#if defined(__GNUC__)
        __attribute__((format(printf, 3, 4)))
#endif
        ;
    /* True when a line at `level` would be written. */
    bool (*log_enabled)(dc_host *h, int level);
    /* log() with a va_list, for a module's own printf-style wrappers. */
    void (*logv)(dc_host *h, int level, const char *fmt, va_list ap);

    /* ---- configuration -------------------------------------------- */
    /*
     * Paths are dotted keys with optional [index] for arrays:
     *   "storage.data_dir", "security.auth.users[0].username".
     * A path starting with '.' is relative to the module's own section
     * [module.<name>]: ".block_size".  Options a module declared in its
     * descriptor always resolve (to their default when not set).
     * Returned strings are borrowed and valid until shutdown() returns.
     * Errors: DC_ENOTFOUND (no such key), DC_ETYPE (other type),
     * DC_EINVAL (malformed path).  Output is written only on success.
     */
    int (*config_string)(dc_host *h, const char *path, const char **out);
    int (*config_int)(dc_host *h, const char *path, int64_t *out);
    int (*config_float)(dc_host *h, const char *path, double *out);
    int (*config_bool)(dc_host *h, const char *path, bool *out);
    /* Number of elements of an array, or of keys of a table. */
    int (*config_count)(dc_host *h, const char *path, size_t *out);
    /* The type (dc_config_type) of the value at path. */
    int (*config_type)(dc_host *h, const char *path, int *out);
    /* Directory of the config file, for resolving relative paths in it;
     * borrowed, valid until shutdown() returns. */
    const char *(*config_dir)(dc_host *h);

    /* ---- metrics -------------------------------------------------- */

    /* Register a metric family (or return the one already registered
     * under that name with the same type and labels).  The handle is
     * valid until the process exits.  Errors: DC_EINVAL (bad name or
     * shape, or same name with another shape), DC_ENOMEM. */
    int (*metric_register)(dc_host *h, const dc_metric_desc *desc,
                           dc_metric **out, dc_error *err);
    /* The series of `m` for these label values (nlabels strings; NULL when
     * the family has no labels), created on first use.  The handle is
     * valid until the process exits: look it up once, update it often.
     * Returns NULL only when out of memory. */
    dc_series *(*metric_series)(dc_metric *m, const char *const *label_values);
    /* Updates: lock-free, safe from any thread.  A NULL series is
     * ignored, so a failed lookup never crashes a hot path. */
    void (*counter_add)(dc_series *s, uint64_t delta);
    void (*gauge_set)(dc_series *s, double value);
    void (*gauge_add)(dc_series *s, double delta);
    void (*histogram_observe)(dc_series *s, double value);
    /* Walk every family and series (for the metrics module).  Values are
     * read atomically per field; a visit sees no torn numbers.  Stops at
     * and returns the first non-zero callback result. */
    int (*metrics_visit)(dc_host *h, const dc_metrics_visitor *v, void *ud);

    /* ---- threads -------------------------------------------------- */

    /* Start a thread running fn(arg).  `name` (at most 15 bytes are kept)
     * shows in ps and in logs.  The thread belongs to the calling module:
     * after the module's shutdown() returns, the host joins every thread
     * of it not joined yet, so shutdown() must make them end.  Signals
     * are blocked in every thread but the host's main thread. */
    int (*thread_spawn)(dc_host *h, const char *name, void *(*fn)(void *),
                        void *arg, dc_thread **out, dc_error *err);
    /* Wait for a thread of this module to end; *ret (when not NULL) gets
     * fn's return value.  The handle is freed. */
    int (*thread_join)(dc_host *h, dc_thread *t, void **ret);

    /* ---- clock ---------------------------------------------------- */

    int64_t (*clock_ns)(dc_host *h, int which);

    /* ---- services ------------------------------------------------- */

    /* The loaded module of `kind`: its kind vtable and the instance its
     * init() produced.  A module may only look up kinds it declared as
     * dependencies (those are initialised before it).  Errors:
     * DC_ENOTFOUND (no module of that kind loaded, e.g. an optional
     * dependency the config does not name), DC_EPERM (not declared). */
    int (*service)(dc_host *h, int kind, const void **vtable, void **instance);

    /* ---- lifecycle ------------------------------------------------ */

    /* Tell the host whether this module is ready to serve (a storage
     * engine in recovery is not).  A module that never calls it counts as
     * ready once its init() returned. */
    void (*set_ready)(dc_host *h, bool ready);
    /* The server's state as a whole (dc_server_state). */
    int (*server_state)(dc_host *h);
    /* Ask the host to shut down (as SIGTERM would).  Returns at once. */
    void (*request_shutdown)(dc_host *h);

    /* ---- audit log (ABI 0.2) ---------------------------------------- */

    /* True when the audit log is on ([security.audit] enabled).  Cheap:
     * a caller builds events only when it is. */
    bool (*audit_enabled)(dc_host *h);
    /* Write one event to the audit log as one JSON line (nothing when the
     * log is off).  Never fails for the caller: a failed write is
     * reported in the server log.  Lines of concurrent calls never
     * interleave. */
    void (*audit)(dc_host *h, const dc_audit_event *ev);
} dc_host_api;

#endif
