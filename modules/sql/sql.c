/*
 * sql.c - the sql module: the dc_sql_vtable of datacave/sql.h on top of
 * the engine's layers (engine.h lists them).
 *
 * A session runs statements one at a time.  Outside a transaction block
 * each statement is its own transaction (autocommit); several statements
 * sent in one exec() call share one implicit transaction, as PostgreSQL's
 * simple query protocol does, so "INSERT ...; SELECT 1/0" commits
 * nothing.  BEGIN opens a block; an error inside it marks the block
 * failed until ROLLBACK (or ROLLBACK TO a savepoint).
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "datacave/module.h"
#include "datacave/sql.h"
#include "sql/gc.h"
#include "sql/binder.h"
#include "sql/catalog.h"
#include "sql/copy.h"
#include "sql/exec.h"
#include "sql/funcs.h"
#include "sql/parser.h"
#include "sql/session.h"
#include "sql/tableam.h"
#include "sql/txn.h"
#include "common/alloc.h"

/* ==== small helpers ======================================================= */

static void *arena_alloc_fn(void *ctx, size_t n)
{
    return sql_arena_alloc((sql_arena *)ctx, n);
}

void *sql_ctx_alloc(sql_ctx *ctx, size_t n, dc_error *err)
{
    void *p = sql_arena_alloc(ctx->arena, n ? n : 1);
    if (!p)
        dc_error_set(err, DC_ENOMEM, DC_SQLSTATE_OOM, "out of memory");
    return p;
}

static int oom(dc_error *err)
{
    return dc_error_set(err, DC_ENOMEM, DC_SQLSTATE_OOM, "out of memory");
}

/* Microseconds since 2000-01-01 UTC (PostgreSQL's timestamp epoch). */
static int64_t now_pg_usecs(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t us = (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
    return us - INT64_C(946684800) * 1000000;
}

/* ==== settings ============================================================= */

typedef struct setting_def {
    const char *name;       /* canonical spelling */
    const char *dflt;       /* NULL: filled at session start */
    bool report;            /* ParameterStatus */
} setting_def;

static const setting_def SETTING_DEFS[] = {
    {"application_name", "", true},
    {"client_encoding", "UTF8", true},
    {"DateStyle", "ISO, MDY", true},
    {"default_transaction_isolation", "read committed", false},
    {"default_transaction_read_only", "off", true},
    {"in_hot_standby", "off", true},
    {"integer_datetimes", "on", true},
    {"IntervalStyle", "postgres", true},
    {"is_superuser", NULL, true},
    {"server_encoding", "UTF8", true},
    {"server_version", "15.0", true},
    {"server_version_num", "150000", false},
    {"session_authorization", NULL, true},
    {"standard_conforming_strings", "on", true},
    {"TimeZone", "UTC", true},
    {"extra_float_digits", "1", false},
    {"search_path", "\"$user\", public", false},
    {"statement_timeout", "0", false},
    {"lock_timeout", "0", false},
    {"idle_in_transaction_session_timeout", "0", false},
    {"work_mem", NULL, false},
    {"transaction_isolation", "read committed", false},
    {"transaction_read_only", "off", false},
    {"synchronous_commit", "on", false},
    {"client_min_messages", "notice", false},
    {"bytea_output", "hex", false},
    {"max_identifier_length", "63", false},
    {"lc_collate", "C", false},
    {"lc_ctype", "C", false},
    {"lc_messages", "C", false},
    {"lc_monetary", "C", false},
    {"lc_numeric", "C", false},
    {"lc_time", "C", false},
    {"row_security", "on", false},
    {"jit", "off", false},
    {"max_connections", "100", false},
    {"block_size", "8192", false},
    {"escape_string_warning", "on", false},
    {"datestyle", NULL, false}, /* alias placeholder, never stored */
};

static int setting_find(const sql_session *s, const char *name)
{
    for (int i = 0; i < s->nsettings; i++)
        if (strcasecmp(s->settings[i].name, name) == 0)
            return i;
    return -1;
}

static void settings_init(sql_session *s)
{
    s->nsettings = 0;
    for (size_t i = 0; i < sizeof SETTING_DEFS / sizeof SETTING_DEFS[0]; i++) {
        const setting_def *d = &SETTING_DEFS[i];
        if (strcmp(d->name, "datestyle") == 0)
            continue;
        sql_setting *st = &s->settings[s->nsettings++];
        snprintf(st->name, sizeof st->name, "%s", d->name);
        const char *v = d->dflt;
        char buf[64];
        if (strcmp(d->name, "is_superuser") == 0)
            v = s->is_admin ? "on" : "off";
        else if (strcmp(d->name, "session_authorization") == 0)
            v = s->user;
        else if (strcmp(d->name, "work_mem") == 0) {
            snprintf(buf, sizeof buf, "%zukB", s->eng->work_mem / 1024);
            v = buf;
        }
        snprintf(st->value, sizeof st->value, "%s", v ? v : "");
        memcpy(st->reset_value, st->value, sizeof st->reset_value);
        st->report = d->report;
    }
    s->ix_default_iso = setting_find(s, "default_transaction_isolation");
    s->ix_default_ro = setting_find(s, "default_transaction_read_only");
    s->ix_txn_iso = setting_find(s, "transaction_isolation");
    s->ix_txn_ro = setting_find(s, "transaction_read_only");
}

static const char *session_get_setting(sql_session *s, const char *name)
{
    int i = setting_find(s, name);
    return i < 0 ? NULL : s->settings[i].value;
}

/* "64MB", "4096" (kB), "1GB" -> bytes; false when malformed. */
static bool parse_memory(const char *v, size_t *out)
{
    char *end;
    errno = 0;
    unsigned long long n = strtoull(v, &end, 10);
    if (errno || end == v)
        return false;
    while (*end == ' ')
        end++;
    unsigned long long mul = 1024;
    if (*end == '\0' || strcasecmp(end, "kB") == 0)
        mul = 1024;
    else if (strcasecmp(end, "MB") == 0)
        mul = 1024ull * 1024;
    else if (strcasecmp(end, "GB") == 0)
        mul = 1024ull * 1024 * 1024;
    else if (strcasecmp(end, "B") == 0)
        mul = 1;
    else
        return false;
    if (n == 0 || n > (1ull << 44) / mul)
        return false;
    *out = (size_t)(n * mul);
    return true;
}

/* A duration setting's value -> milliseconds, as PostgreSQL reads its
 * time settings: a number (fractions allowed, rounded to the nearest
 * millisecond) with an optional unit "ms" (the default), "s", "min", "h"
 * or "d"; at most INT32_MAX ms.  false when malformed or out of range. */
static bool parse_duration_ms(const char *v, uint64_t *out)
{
    while (*v == ' ')
        v++;
    if (!((*v >= '0' && *v <= '9') || *v == '.'))
        return false;
    char *end;
    errno = 0;
    double n = strtod(v, &end);
    if (errno || end == v)
        return false;
    for (const char *c = v; c < end; c++)
        if (!((*c >= '0' && *c <= '9') || *c == '.' || *c == 'e' ||
              *c == 'E' || *c == '+' || *c == '-'))
            return false;   /* no hexadecimal, inf or nan */
    while (*end == ' ')
        end++;
    size_t ul = 0;
    while (end[ul] && end[ul] != ' ')
        ul++;
    double mul;
    if (ul == 0 || (ul == 2 && strncmp(end, "ms", 2) == 0))
        mul = 1;
    else if (ul == 1 && *end == 's')
        mul = 1000;
    else if (ul == 3 && strncmp(end, "min", 3) == 0)
        mul = 60000;
    else if (ul == 1 && *end == 'h')
        mul = 3600000;
    else if (ul == 1 && *end == 'd')
        mul = 86400000;
    else
        return false;
    for (const char *c = end + ul; *c; c++)
        if (*c != ' ')
            return false;
    double ms = n * mul + 0.5;
    if (!(ms >= 0) || ms >= (double)INT32_MAX + 1)
        return false;
    *out = (uint64_t)ms;
    return true;
}

/* Milliseconds in the form PostgreSQL shows them: "0", or in the largest
 * unit that divides them ("300ms", "2s", "1min", "1h", "1d"). */
static void format_duration_ms(uint64_t ms, char *out, size_t cap)
{
    static const struct {
        const char *unit;
        uint64_t ms;
    } units[] = {{"d", 86400000}, {"h", 3600000}, {"min", 60000},
                 {"s", 1000}};
    if (ms == 0) {
        snprintf(out, cap, "0");
        return;
    }
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
        if (ms % units[i].ms == 0) {
            snprintf(out, cap, "%llu%s",
                     (unsigned long long)(ms / units[i].ms), units[i].unit);
            return;
        }
    snprintf(out, cap, "%llums", (unsigned long long)ms);
}

static int parse_isolation(const char *v, sql_isolation *iso, dc_error *err)
{
    if (strcasecmp(v, "read committed") == 0 ||
        strcasecmp(v, "read uncommitted") == 0)
        *iso = SQL_ISO_READ_COMMITTED;
    else if (strcasecmp(v, "repeatable read") == 0)
        *iso = SQL_ISO_REPEATABLE_READ;
    else if (strcasecmp(v, "serializable") == 0)
        *iso = SQL_ISO_SERIALIZABLE;
    else
        return dc_error_set(err, DC_EINVAL, "22023",
                            "invalid value for parameter "
                            "\"transaction_isolation\": \"%s\"", v);
    return DC_OK;
}

static const char *isolation_name(sql_isolation iso)
{
    switch (iso) {
    case SQL_ISO_REPEATABLE_READ: return "repeatable read";
    case SQL_ISO_SERIALIZABLE: return "serializable";
    default: return "read committed";
    }
}

/* Check and normalise a new value of setting i into out. */
static int setting_check(sql_session *s, int i, const char *v, char *out,
                         size_t cap, dc_error *err)
{
    const char *name = s->settings[i].name;
    snprintf(out, cap, "%s", v);
    if (strcmp(name, "TimeZone") == 0) {
        sql_tz tz;
        return sql_tz_parse(v, &tz, err);
    }
    if (strcmp(name, "DateStyle") == 0) {
        /* Output is always ISO; accept what keeps ISO, MDY order. */
        if (strncasecmp(v, "ISO", 3) != 0 && strcasecmp(v, "MDY") != 0 &&
            strcasecmp(v, "ISO, MDY") != 0)
            return dc_error_set(err, DC_EINVAL, "22023",
                                "invalid value for parameter \"DateStyle\": "
                                "\"%s\"", v);
        snprintf(out, cap, "ISO, MDY");
        return DC_OK;
    }
    if (strcmp(name, "client_encoding") == 0) {
        if (strcasecmp(v, "UTF8") != 0 && strcasecmp(v, "UTF-8") != 0 &&
            strcasecmp(v, "unicode") != 0)
            return dc_error_set(err, DC_EINVAL, "22023",
                                "invalid value for parameter "
                                "\"client_encoding\": \"%s\"", v);
        snprintf(out, cap, "UTF8");
        return DC_OK;
    }
    if (strcmp(name, "work_mem") == 0) {
        size_t b;
        if (!parse_memory(v, &b) || b < 64 * 1024)
            return dc_error_set(err, DC_EINVAL, "22023",
                                "invalid value for parameter \"work_mem\": "
                                "\"%s\"", v);
        return DC_OK;
    }
    if (strcmp(name, "lock_timeout") == 0 ||
        strcmp(name, "statement_timeout") == 0 ||
        strcmp(name, "idle_in_transaction_session_timeout") == 0) {
        uint64_t ms;
        if (!parse_duration_ms(v, &ms))
            return dc_error_set(err, DC_EINVAL, "22023",
                                "invalid value for parameter \"%s\": \"%s\"",
                                name, v);
        format_duration_ms(ms, out, cap);
        return DC_OK;
    }
    if (strcmp(name, "extra_float_digits") == 0) {
        char *end;
        long n = strtol(v, &end, 10);
        if (*end || end == v || n < -15 || n > 3)
            return dc_error_set(err, DC_EINVAL, "22023",
                                "invalid value for parameter "
                                "\"extra_float_digits\": \"%s\"", v);
        return DC_OK;
    }
    if (strcmp(name, "default_transaction_isolation") == 0 ||
        strcmp(name, "transaction_isolation") == 0) {
        sql_isolation iso;
        int rc = parse_isolation(v, &iso, err);
        if (rc)
            return rc;
        snprintf(out, cap, "%s", isolation_name(iso));
        return DC_OK;
    }
    if (strcmp(name, "server_version") == 0 ||
        strcmp(name, "server_version_num") == 0 ||
        strcmp(name, "server_encoding") == 0 ||
        strcmp(name, "integer_datetimes") == 0 ||
        strcmp(name, "in_hot_standby") == 0 ||
        strcmp(name, "is_superuser") == 0 ||
        strcmp(name, "max_identifier_length") == 0 ||
        strcmp(name, "block_size") == 0 ||
        strcmp(name, "max_connections") == 0 ||
        strcmp(name, "lc_collate") == 0 || strcmp(name, "lc_ctype") == 0)
        return dc_error_set(err, DC_EPERM, "55P02",
                            "parameter \"%s\" cannot be changed", name);
    if (strcmp(name, "standard_conforming_strings") == 0 &&
        strcasecmp(v, "on") != 0 && strcasecmp(v, "true") != 0)
        return dc_error_set(err, DC_EUNSUPPORTED, DC_SQLSTATE_FEATURE,
                            "standard_conforming_strings cannot be turned "
                            "off");
    if (strcmp(name, "default_transaction_read_only") == 0 ||
        strcmp(name, "transaction_read_only") == 0) {
        if (strcasecmp(v, "on") == 0 || strcasecmp(v, "true") == 0 ||
            strcmp(v, "1") == 0)
            snprintf(out, cap, "on");
        else if (strcasecmp(v, "off") == 0 || strcasecmp(v, "false") == 0 ||
                 strcmp(v, "0") == 0)
            snprintf(out, cap, "off");
        else
            return dc_error_set(err, DC_EINVAL, "22023",
                                "parameter \"%s\" requires a Boolean value",
                                name);
    }
    return DC_OK;
}

/* Apply the cached forms of settings the engine reads often. */
static void setting_applied(sql_session *s, int i)
{
    s->settings_gen++;
    const char *name = s->settings[i].name, *v = s->settings[i].value;
    if (strcmp(name, "TimeZone") == 0) {
        sql_tz tz;
        if (sql_tz_parse(v, &tz, NULL) == DC_OK)
            s->tz = tz;
    } else if (strcmp(name, "work_mem") == 0) {
        size_t b;
        if (parse_memory(v, &b))
            s->work_mem = b;
    } else if (strcmp(name, "lock_timeout") == 0) {
        uint64_t ms;
        if (parse_duration_ms(v, &ms)) {
            s->lock_timeout_ms = (uint32_t)ms;
            if (s->txn)
                sql_txn_set_lock_timeout(s->txn, s->lock_timeout_ms);
        }
    } else if (strcmp(name, "statement_timeout") == 0) {
        uint64_t ms;
        if (parse_duration_ms(v, &ms))
            s->statement_timeout_ms = (uint32_t)ms;
    }
}

/* Set setting i to v (already checked); remembers an undo record inside
 * a block; reports through the sink. */
static int setting_store(sql_session *s, int i, const char *v, bool local,
                         const dc_sql_sink *sink, dc_error *err)
{
    sql_setting *st = &s->settings[i];
    if (s->in_block) {
        if (s->nundo == s->capundo) {
            size_t nc = s->capundo ? s->capundo * 2 : 8;
            sql_set_undo *nu = realloc(s->undo, nc * sizeof *nu);
            if (!nu)
                return oom(err);
            s->undo = nu;
            s->capundo = nc;
        }
        sql_set_undo *u = &s->undo[s->nundo++];
        u->index = i;
        u->local = local;
        snprintf(u->old, sizeof u->old, "%s", st->value);
    }
    bool changed = strcmp(st->value, v) != 0;
    snprintf(st->value, sizeof st->value, "%s", v);
    setting_applied(s, i);
    if (changed && st->report && sink && sink->parameter) {
        int rc = sink->parameter(sink->ud, st->name, st->value);
        if (rc)
            return rc;
    }
    return DC_OK;
}

/* Undo SETs made since undo mark `to`: all of them (rollback), or only the
 * LOCAL ones (commit, to == 0). */
static void settings_undo(sql_session *s, size_t to, bool only_local,
                          const dc_sql_sink *sink)
{
    while (s->nundo > to) {
        sql_set_undo *u = &s->undo[--s->nundo];
        if (only_local && !u->local)
            continue;
        sql_setting *st = &s->settings[u->index];
        bool changed = strcmp(st->value, u->old) != 0;
        snprintf(st->value, sizeof st->value, "%s", u->old);
        setting_applied(s, u->index);
        if (changed && st->report && sink && sink->parameter)
            sink->parameter(sink->ud, st->name, st->value);
    }
}

/* ==== statement_timeout ==================================================== */

/* One thread per engine, started by the first statement that runs with a
 * statement_timeout, ends statements at their deadline: it sets the
 * session's cancel flag to SQL_CANCEL_TIMEOUT, which the loops over rows
 * (sql_check_cancel) and lock waits (txn.c) notice.  A statement without a
 * timeout never touches it; one with a timeout links its session into the
 * list at start and out at the end (stimer_arm / stimer_disarm). */
typedef struct sql_stimer {
    pthread_mutex_t mu;
    pthread_cond_t cv;          /* on CLOCK_MONOTONIC                    */
    pthread_t th;
    bool started, stop;
    int64_t wake;               /* when the thread wakes up next         */
    sql_session *armed;         /* sessions with a deadline              */
} sql_stimer;

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* ---- the slow statement log ------------------------------------------- */

/* With [log] slow_query_ms set (engine slow_ns >= 0), a statement that
 * runs for at least that long is logged (warn) with its duration, its
 * text and the plan it ran.  A statement costs two clock reads; the plan
 * is rendered only for a run that has reached the threshold by the end of
 * its execution (a statement that gets there only in its commit is logged
 * without its plan). */
#define SLOW_TEXT_MAX 1024  /* bytes of the statement's text shown */

static void slow_begin(sql_session *s)
{
    s->slow_t0 = mono_ns();
}

static void slow_keep_plan(sql_session *s, const sql_plan *plan)
{
    if (s->eng->slow_ns < 0 || s->slow_plan || !plan ||
        mono_ns() - s->slow_t0 < s->eng->slow_ns)
        return;
    sql_buf b;
    sql_buf_init(&b);
    dc_error e;
    dc_error_init(&e);
    /* One line: the plan's lines joined by " | ". */
    char *t = NULL;
    if (sql_plan_explain(plan, &b, &e) == DC_OK && (t = malloc(3 * b.len + 1))) {
        size_t n = 0, end = b.len;
        while (end > 0 && b.data[end - 1] == '\n')
            end--;
        for (size_t i = 0; i < end; i++) {
            if (b.data[i] == '\n') {
                memcpy(t + n, " | ", 3);
                n += 3;
            } else {
                t[n++] = (char)b.data[i];
            }
        }
        t[n] = '\0';
    }
    sql_buf_free(&b);
    s->slow_plan = t;
}

static void slow_end(sql_session *s, const char *text, size_t len, int rc,
                     const dc_error *err)
{
    int64_t d = mono_ns() - s->slow_t0;
    const dc_host_api *api = s->eng->host;
    if (d >= s->eng->slow_ns && api && api->log) {
        while (len > 0 && (text[len - 1] == ';' ||
                           isspace((unsigned char)text[len - 1])))
            len--;
        int shown = len > SLOW_TEXT_MAX ? SLOW_TEXT_MAX : (int)len;
        api->log((dc_host *)s->eng->host_ctx, DC_LOG_WARN,
                 "slow statement: duration %.3f ms; user %s; database %s; "
                 "sqlstate %s; statement: %.*s%s; plan: %s",
                 (double)d / 1e6, s->user, s->database,
                 rc && err && err->sqlstate[0] ? err->sqlstate : "00000",
                 shown, text, (size_t)shown < len ? "..." : "",
                 s->slow_plan ? s->slow_plan : "none");
    }
    free(s->slow_plan);
    s->slow_plan = NULL;
}

static void stimer_unlink(sql_stimer *t, sql_session *s)
{
    if (s->st_prev)
        s->st_prev->st_next = s->st_next;
    else
        t->armed = s->st_next;
    if (s->st_next)
        s->st_next->st_prev = s->st_prev;
    s->st_next = s->st_prev = NULL;
    s->st_linked = false;
}

static void *stimer_main(void *arg)
{
    sql_stimer *t = arg;
    pthread_mutex_lock(&t->mu);
    while (!t->stop) {
        int64_t now = mono_ns(), next = INT64_MAX;
        for (sql_session *s = t->armed, *nx; s; s = nx) {
            nx = s->st_next;
            if (s->st_deadline <= now) {
                /* A cancel request that came first keeps its reason. */
                int zero = 0;
                atomic_compare_exchange_strong(&s->cancel, &zero,
                                               SQL_CANCEL_TIMEOUT);
                stimer_unlink(t, s);
            } else if (s->st_deadline < next) {
                next = s->st_deadline;
            }
        }
        t->wake = next;
        if (next == INT64_MAX) {
            pthread_cond_wait(&t->cv, &t->mu);
        } else {
            struct timespec ts = {(time_t)(next / 1000000000),
                                  (long)(next % 1000000000)};
            pthread_cond_timedwait(&t->cv, &t->mu, &ts);
        }
    }
    pthread_mutex_unlock(&t->mu);
    return NULL;
}

static int stimer_new(sql_stimer **out, dc_error *err)
{
    sql_stimer *t = dcm_calloc(1, sizeof *t);
    if (!t)
        return oom(err);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&t->cv, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&t->mu, NULL);
    t->wake = INT64_MAX;
    *out = t;
    return DC_OK;
}

static void stimer_free(sql_stimer *t)
{
    if (!t)
        return;
    pthread_mutex_lock(&t->mu);
    t->stop = true;
    pthread_cond_signal(&t->cv);
    pthread_mutex_unlock(&t->mu);
    if (t->started)
        pthread_join(t->th, NULL);
    pthread_cond_destroy(&t->cv);
    pthread_mutex_destroy(&t->mu);
    free(t);
}

/* A statement starts: its deadline is statement_timeout from now (none
 * when it is 0).  Should the thread fail to start, statements run
 * without a deadline. */
static void stimer_arm(sql_session *s)
{
    sql_stimer *t = s->eng->stimer;
    if (!s->statement_timeout_ms || !t)
        return;
    pthread_mutex_lock(&t->mu);
    if (!t->started) {
        if (pthread_create(&t->th, NULL, stimer_main, t) != 0) {
            pthread_mutex_unlock(&t->mu);
            return;
        }
        t->started = true;
    }
    s->st_deadline = mono_ns() + (int64_t)s->statement_timeout_ms * 1000000;
    s->st_prev = NULL;
    s->st_next = t->armed;
    if (t->armed)
        t->armed->st_prev = s;
    t->armed = s;
    s->st_linked = true;
    s->st_armed = true;
    if (s->st_deadline < t->wake)
        pthread_cond_signal(&t->cv);
    pthread_mutex_unlock(&t->mu);
}

/* The statement ended with rc (error in *err).  A timeout that fired is
 * cleared so that it does not stop the next statement; a 57014 it caused
 * says so (lock waits report every cancel as a user request). */
static void stimer_disarm(sql_session *s, int rc, dc_error *err)
{
    if (!s->st_armed)
        return;
    sql_stimer *t = s->eng->stimer;
    pthread_mutex_lock(&t->mu);
    if (s->st_linked)
        stimer_unlink(t, s);
    pthread_mutex_unlock(&t->mu);
    s->st_armed = false;
    int timeout = SQL_CANCEL_TIMEOUT;
    if (atomic_compare_exchange_strong(&s->cancel, &timeout, 0) && rc &&
        err && strcmp(err->sqlstate, "57014") == 0)
        dc_error_set(err, DC_ECANCELED, "57014",
                     "canceling statement due to statement timeout");
}

/* ==== transactions ========================================================= */

static void sps_clear(sql_session *s)
{
    for (size_t i = 0; i < s->nsps; i++) {
        if (s->txn)
            sql_txn_savepoint_free(s->txn, s->sps[i].sp);
        free(s->sps[i].name);
    }
    s->nsps = 0;
}

static void portals_txn_end(sql_session *s);

/* Add n to a metrics counter of the engine (nothing without metrics). */
static void metric_count(const sql_engine *eng, dc_series *series, uint64_t n)
{
    if (series && n)
        eng->host->counter_add(series, n);
}

/* Open the session's transaction when none is open. */
static int ensure_txn(sql_session *s, dc_error *err)
{
    if (s->txn)
        return DC_OK;
    sql_isolation iso = s->next_iso;
    if ((int)iso < 0) {
        const char *d = s->settings[s->ix_default_iso].value;
        /* The setting holds a normalised name (setting_check). */
        iso = strcmp(d, "repeatable read") == 0 ? SQL_ISO_REPEATABLE_READ
              : strcmp(d, "serializable") == 0  ? SQL_ISO_SERIALIZABLE
                                                : SQL_ISO_READ_COMMITTED;
    }
    bool ro;
    if (s->next_read_only >= 0)
        ro = s->next_read_only != 0;
    else
        ro = strcmp(s->settings[s->ix_default_ro].value, "on") == 0;
    int rc = sql_txn_begin(s->eng, iso, ro, s->lock_timeout_ms, &s->cancel,
                           &s->txn, err);
    if (rc)
        return rc;
    s->txn_ts = now_pg_usecs();
    sql_setting *ti = &s->settings[s->ix_txn_iso];
    sql_setting *tr = &s->settings[s->ix_txn_ro];
    const char *in = isolation_name(iso);
    if (strcmp(ti->value, in) != 0 || strcmp(tr->value, ro ? "on" : "off")) {
        s->settings_gen++;
        memcpy(ti->value, in, strlen(in) + 1);
        memcpy(tr->value, ro ? "on" : "off", ro ? 3 : 4);
    }
    return DC_OK;
}

/* End the transaction: commit (when ok) or roll back.  Settings made in
 * the block are undone on rollback; SET LOCAL ones always. */
static int end_txn(sql_session *s, bool commit, const dc_sql_sink *sink,
                   dc_error *err)
{
    int rc = DC_OK;
    /* Portals end with their transaction; their cursors close first. */
    portals_txn_end(s);
    sps_clear(s);
    /* A transaction counts when it was opened: an implicit one (a
     * statement outside a block) or a block (BEGIN), even an empty one. */
    bool counted = s->txn || s->in_block;
    if (s->txn) {
        if (commit)
            rc = sql_txn_commit(s->txn, err);
        else
            sql_txn_abort(s->txn);
        s->txn = NULL;
    }
    if (counted)
        metric_count(s->eng, commit && rc == DC_OK ? s->eng->m_txn_commit
                                            : s->eng->m_txn_rollback, 1);
    settings_undo(s, 0, commit && rc == DC_OK, sink);
    s->nundo = 0;
    s->in_block = false;
    s->failed = false;
    s->next_iso = (sql_isolation)-1;
    s->next_read_only = -1;
    s->txn_gen++;
    return rc;
}

static int notice(const dc_sql_sink *sink, int sev, const char *state,
                  const char *fmt, ...)
{
    if (!sink || !sink->notice)
        return DC_OK;
    dc_error n;
    dc_error_init(&n);
    va_list ap;
    va_start(ap, fmt);
    dc_error_setv(&n, DC_OK, state, fmt, ap);
    va_end(ap);
    n.severity = sev;
    return sink->notice(sink->ud, &n);
}

static int complete(const dc_sql_sink *sink, const char *tag)
{
    return sink && sink->complete ? sink->complete(sink->ud, tag) : DC_OK;
}

static int tx_modes(sql_session *s, const sql_transaction *tx, dc_error *err)
{
    if (tx->isolation) {
        sql_isolation iso;
        int rc = parse_isolation(tx->isolation, &iso, err);
        if (rc)
            return rc;
        s->next_iso = iso;
    }
    if (tx->read_only >= 0)
        s->next_read_only = tx->read_only;
    return DC_OK;
}

static sql_sp_entry *sp_find(sql_session *s, const char *name, size_t *idx)
{
    for (size_t i = s->nsps; i-- > 0;)
        if (strcmp(s->sps[i].name, name) == 0) {
            *idx = i;
            return &s->sps[i];
        }
    return NULL;
}

static int run_tx(sql_session *s, const sql_transaction *tx,
                  const dc_sql_sink *sink, dc_error *err)
{
    int rc;
    switch (tx->kind) {
    case TX_BEGIN:
        if (s->in_block) {
            rc = notice(sink, DC_SEV_WARNING, "25001",
                        "there is already a transaction in progress");
            if (rc)
                return rc;
            return complete(sink, "BEGIN");
        }
        if ((rc = tx_modes(s, tx, err)))
            return rc;
        s->in_block = true;
        return complete(sink, "BEGIN");
    case TX_COMMIT: {
        /* Outside a block, an implicit transaction (a multi-statement
         * query, or a pipeline before Sync) may be open: PostgreSQL warns
         * and ends it all the same. */
        if (!s->in_block) {
            rc = notice(sink, DC_SEV_WARNING, "25P01",
                        "there is no transaction in progress");
            if (rc)
                return rc;
            if (!s->txn)
                return complete(sink, "COMMIT");
        }
        bool failed = s->failed;
        rc = end_txn(s, !failed, sink, err);
        if (rc)
            return rc;
        return complete(sink, failed ? "ROLLBACK" : "COMMIT");
    }
    case TX_ROLLBACK:
        if (!s->in_block) {
            rc = notice(sink, DC_SEV_WARNING, "25P01",
                        "there is no transaction in progress");
            if (rc)
                return rc;
            if (!s->txn)
                return complete(sink, "ROLLBACK");
        }
        end_txn(s, false, sink, NULL);
        return complete(sink, "ROLLBACK");
    case TX_SAVEPOINT: {
        if (!s->in_block)
            return dc_error_set(err, DC_EINVAL, "25P01",
                                "SAVEPOINT can only be used in transaction "
                                "blocks");
        if ((rc = ensure_txn(s, err)))
            return rc;
        if (s->nsps == s->capsps) {
            size_t nc = s->capsps ? s->capsps * 2 : 4;
            sql_sp_entry *n = realloc(s->sps, nc * sizeof *n);
            if (!n)
                return oom(err);
            s->sps = n;
            s->capsps = nc;
        }
        sql_sp_entry *e = &s->sps[s->nsps];
        if (!(e->name = strdup(tx->savepoint)))
            return oom(err);
        if ((rc = sql_txn_savepoint(s->txn, &e->sp, err))) {
            free(e->name);
            return rc;
        }
        e->nundo = s->nundo;
        s->nsps++;
        return complete(sink, "SAVEPOINT");
    }
    case TX_RELEASE:
    case TX_ROLLBACK_TO: {
        bool rel = tx->kind == TX_RELEASE;
        if (!s->in_block)
            return dc_error_set(err, DC_EINVAL, "25P01",
                                "%s can only be used in transaction blocks",
                                rel ? "RELEASE SAVEPOINT"
                                    : "ROLLBACK TO SAVEPOINT");
        size_t idx;
        sql_sp_entry *e = sp_find(s, tx->savepoint, &idx);
        if (!e)
            return dc_error_set(err, DC_ENOTFOUND, "3B001",
                                "savepoint \"%s\" does not exist",
                                tx->savepoint);
        /* Savepoints made after the one named go away in both cases;
         * RELEASE drops the named one too, ROLLBACK TO keeps it. */
        size_t keep = rel ? idx : idx + 1;
        if (!rel) {
            rc = sql_txn_rollback_to(s->txn, e->sp, err);
            if (rc)
                return rc;
            settings_undo(s, e->nundo, false, sink);
            s->failed = false;
        }
        for (size_t i = s->nsps; i-- > keep;) {
            sql_txn_savepoint_free(s->txn, s->sps[i].sp);
            free(s->sps[i].name);
        }
        s->nsps = keep;
        return complete(sink, rel ? "RELEASE" : "ROLLBACK");
    }
    }
    return dc_error_set(err, DC_EINVAL, "XX000", "unknown transaction command");
}

/* ==== SET / SHOW / RESET ================================================== */

static int set_value_text(const sql_set *st, char *out, size_t cap,
                          dc_error *err)
{
    size_t o = 0;
    out[0] = '\0';
    for (size_t i = 0; i < SQL_LIST_LEN(st->values); i++) {
        const sql_expr *e = st->values->items[i];
        char buf[SQL_SETTING_LEN];
        if (e->kind == EXPR_CONST && e->u.c.kind == CONST_INT)
            snprintf(buf, sizeof buf, "%lld", (long long)e->u.c.i);
        else if (e->kind == EXPR_CONST && e->u.c.kind == CONST_BOOL)
            snprintf(buf, sizeof buf, "%s", e->u.c.b ? "on" : "off");
        else if (e->kind == EXPR_CONST && e->u.c.s)
            snprintf(buf, sizeof buf, "%s", e->u.c.s);
        else if (e->kind == EXPR_OP && e->u.op.left == NULL &&
                 strcmp(e->u.op.name, "-") == 0 && e->u.op.right &&
                 e->u.op.right->kind == EXPR_CONST &&
                 e->u.op.right->u.c.kind == CONST_INT)
            snprintf(buf, sizeof buf, "-%lld", (long long)e->u.op.right->u.c.i);
        else
            return dc_error_set(err, DC_EINVAL, "42601",
                                "syntax error in SET value");
        int n = snprintf(out + o, cap - o, "%s%s", i ? ", " : "", buf);
        if (n < 0 || (size_t)n >= cap - o)
            return dc_error_set(err, DC_EINVAL, "22023",
                                "value of parameter \"%s\" is too long",
                                st->name);
        o += (size_t)n;
    }
    return DC_OK;
}

static int run_set(sql_session *s, const sql_set *st, const dc_sql_sink *sink,
                   dc_error *err)
{
    char val[SQL_SETTING_LEN];
    int rc;
    if (strcmp(st->name, "transaction") == 0 ||
        strcmp(st->name, "session_characteristics") == 0) {
        bool chars = st->name[0] == 's';
        for (size_t i = 0; i < SQL_LIST_LEN(st->values); i++) {
            const sql_expr *e = st->values->items[i];
            const char *m = e->u.c.s ? e->u.c.s : "";
            if (strncmp(m, "isolation level ", 16) == 0) {
                sql_isolation iso;
                if ((rc = parse_isolation(m + 16, &iso, err)))
                    return rc;
                if (chars) {
                    int k = setting_find(s, "default_transaction_isolation");
                    if ((rc = setting_store(s, k, isolation_name(iso), false,
                                            sink, err)))
                        return rc;
                } else {
                    if (s->txn && sql_txn_has_writes(s->txn))
                        return dc_error_set(err, DC_EINVAL, "25001",
                                            "SET TRANSACTION ISOLATION LEVEL "
                                            "must be called before any query");
                    if (!s->in_block)
                        rc = notice(sink, DC_SEV_WARNING, "25P01",
                                    "SET TRANSACTION can only be used in "
                                    "transaction blocks");
                    s->next_iso = iso;
                }
            } else if (strcmp(m, "read only") == 0 ||
                       strcmp(m, "read write") == 0) {
                bool ro = m[5] == 'o';
                if (chars) {
                    int k = setting_find(s, "default_transaction_read_only");
                    if ((rc = setting_store(s, k, ro ? "on" : "off", false,
                                            sink, err)))
                        return rc;
                } else {
                    s->next_read_only = ro;
                }
            }
        }
        return complete(sink, "SET");
    }
    const char *name = st->name;
    if (strcmp(name, "timezone") == 0)
        name = "TimeZone";
    int i = setting_find(s, name);
    if (i < 0) {
        /* Dotted names are custom placeholders, as in PostgreSQL. */
        if (!strchr(name, '.'))
            return dc_error_set(err, DC_ENOTFOUND, "42704",
                                "unrecognized configuration parameter "
                                "\"%s\"", name);
        if (s->nsettings == SQL_MAX_SETTINGS)
            return dc_error_set(err, DC_ENOMEM, "53200",
                                "too many custom settings");
        i = s->nsettings++;
        memset(&s->settings[i], 0, sizeof s->settings[i]);
        snprintf(s->settings[i].name, sizeof s->settings[i].name, "%s", name);
    }
    if (st->is_default) {
        snprintf(val, sizeof val, "%s", s->settings[i].reset_value);
    } else {
        char raw[SQL_SETTING_LEN];
        if ((rc = set_value_text(st, raw, sizeof raw, err)))
            return rc;
        if ((rc = setting_check(s, i, raw, val, sizeof val, err)))
            return rc;
    }
    if (strcmp(s->settings[i].name, "transaction_isolation") == 0) {
        sql_isolation iso;
        parse_isolation(val, &iso, NULL);
        s->next_iso = iso;
    }
    if (st->local && !s->in_block) {
        /* PostgreSQL: SET LOCAL outside a block has no effect. */
        if ((rc = notice(sink, DC_SEV_WARNING, "25P01",
                         "SET LOCAL can only be used in transaction blocks")))
            return rc;
        return complete(sink, "SET");
    }
    if ((rc = setting_store(s, i, val, st->local, sink, err)))
        return rc;
    return complete(sink, "SET");
}

static int emit_text_rows(const dc_sql_sink *sink, const char *const *names,
                          int ncols, const char *const *vals, int nrows)
{
    dc_column cols[4];
    memset(cols, 0, sizeof cols);
    for (int c = 0; c < ncols; c++) {
        cols[c].size = sizeof cols[c];
        cols[c].name = names[c];
        cols[c].type = DC_TYPE_TEXT;
        cols[c].typmod = -1;
        cols[c].typlen = -1;
    }
    int rc;
    if (sink->describe && (rc = sink->describe(sink->ud, cols, (uint32_t)ncols)))
        return rc;
    for (int r = 0; r < nrows; r++) {
        dc_value v[4];
        for (int c = 0; c < ncols; c++)
            v[c] = sql_value_bytes(DC_TYPE_TEXT, vals[r * ncols + c],
                                   strlen(vals[r * ncols + c]));
        dc_row row = {(uint32_t)ncols, v};
        if ((rc = sink->row(sink->ud, &row)))
            return rc;
    }
    return DC_OK;
}

static int run_show(sql_session *s, const sql_show *sh, const dc_sql_sink *sink,
                    dc_error *err)
{
    int rc;
    if (strcmp(sh->name, "all") == 0) {
        const char **vals = dcm_calloc((size_t)s->nsettings * 3, sizeof *vals);
        if (!vals)
            return oom(err);
        for (int i = 0; i < s->nsettings; i++) {
            vals[i * 3] = s->settings[i].name;
            vals[i * 3 + 1] = s->settings[i].value;
            vals[i * 3 + 2] = "";
        }
        static const char *const names[] = {"name", "setting", "description"};
        rc = emit_text_rows(sink, names, 3, vals, s->nsettings);
        free(vals);
        if (rc)
            return rc;
        char tag[32];
        snprintf(tag, sizeof tag, "SHOW");
        return complete(sink, tag);
    }
    const char *name = strcmp(sh->name, "timezone") == 0 ? "TimeZone" : sh->name;
    int i = setting_find(s, name);
    if (i < 0)
        return dc_error_set(err, DC_ENOTFOUND, "42704",
                            "unrecognized configuration parameter \"%s\"",
                            sh->name);
    const char *nm[1] = {s->settings[i].name};
    const char *v[1] = {s->settings[i].value};
    if ((rc = emit_text_rows(sink, nm, 1, v, 1)))
        return rc;
    return complete(sink, "SHOW");
}

static int run_reset(sql_session *s, const sql_show *sh, const dc_sql_sink *sink,
                     dc_error *err)
{
    int rc;
    if (strcmp(sh->name, "all") == 0) {
        for (int i = 0; i < s->nsettings; i++) {
            if (strcmp(s->settings[i].value, s->settings[i].reset_value) == 0)
                continue;
            char v[SQL_SETTING_LEN];
            snprintf(v, sizeof v, "%s", s->settings[i].reset_value);
            if ((rc = setting_store(s, i, v, false, sink, err)))
                return rc;
        }
        return complete(sink, "RESET");
    }
    const char *name = strcmp(sh->name, "timezone") == 0 ? "TimeZone" : sh->name;
    int i = setting_find(s, name);
    if (i < 0)
        return dc_error_set(err, DC_ENOTFOUND, "42704",
                            "unrecognized configuration parameter \"%s\"",
                            sh->name);
    char v[SQL_SETTING_LEN];
    snprintf(v, sizeof v, "%s", s->settings[i].reset_value);
    if ((rc = setting_store(s, i, v, false, sink, err)))
        return rc;
    return complete(sink, "RESET");
}

/* ==== statements that run in a transaction ================================= */

/* Everything a statement needs while it runs; see stmt_ctx_open. */
typedef struct stmt_run {
    sql_ctx ctx;
    sql_catalog *catref;   /* the engine catalog reference held, or NULL */
} stmt_run;

static int stmt_ctx_open(sql_session *s, stmt_run *r, const dc_value *params,
                         uint32_t nparams, dc_error *err)
{
    memset(r, 0, sizeof *r);
    sql_ctx *ctx = &r->ctx;
    ctx->eng = s->eng;
    ctx->sess = s;
    ctx->txn = s->txn;
    if (!(ctx->arena = sql_arena_new()))
        return oom(err);
    ctx->mem.alloc = arena_alloc_fn;
    ctx->mem.ctx = ctx->arena;
    ctx->tz = &s->tz;
    ctx->params = params;
    ctx->nparams = nparams;
    ctx->stmt_ts = now_pg_usecs();
    ctx->txn_ts = s->txn_ts;
    ctx->work_mem = s->work_mem;
    ctx->cancel = &s->cancel;
    ctx->user = s->user;
    ctx->database = s->database;
    ctx->db_oid = s->db_oid;
    ctx->get_setting = session_get_setting;
    /* The transaction's own catalog (after DDL) is scoped to the session's
     * database already; the engine's is seen through a scope. */
    sql_catalog *own = s->txn ? sql_txn_catalog(s->txn) : NULL;
    if (own) {
        ctx->cat = own;
    } else {
        /* The scoped view is made once per engine catalog: statements
         * between two DDLs see one catalog object (cached plans compare
         * it). */
        sql_catalog *ec = sql_engine_catalog(s->eng);
        if (ec && ec == s->scope_src) {
            sql_catalog_unref(ec);
            r->catref = sql_catalog_ref(s->scope_cat);
        } else {
            int rc = sql_catalog_scope(ec, s->db_oid, &r->catref, err);
            if (rc) {
                sql_catalog_unref(ec);
                sql_arena_free(ctx->arena);
                ctx->arena = NULL;
                return rc;
            }
            sql_catalog_unref(s->scope_src);
            sql_catalog_unref(s->scope_cat);
            s->scope_src = ec;
            s->scope_cat = sql_catalog_ref(r->catref);
        }
        ctx->cat = r->catref;
    }
    return DC_OK;
}

static void stmt_ctx_close(stmt_run *r)
{
    /* The statement's rows, once per statement. */
    const sql_engine *eng = r->ctx.eng;
    if (eng) {
        metric_count(eng, eng->m_rows_read, r->ctx.rows_read);
        for (int i = 0; i < 3; i++)
            metric_count(eng, eng->m_rows_written[i], r->ctx.rows_written[i]);
        r->ctx.rows_read = 0;
        memset(r->ctx.rows_written, 0, sizeof r->ctx.rows_written);
    }
    if (r->catref)
        sql_catalog_unref(r->catref);
    sql_arena_free(r->ctx.arena);
    r->catref = NULL;
    r->ctx.arena = NULL;
}

static int16_t type_len(uint32_t t)
{
    switch (t) {
    case DC_TYPE_BOOL: return 1;
    case DC_TYPE_INT2: return 2;
    case DC_TYPE_INT4: case DC_TYPE_OID: case DC_TYPE_FLOAT4:
    case DC_TYPE_DATE: return 4;
    case DC_TYPE_INT8: case DC_TYPE_FLOAT8: case DC_TYPE_TIMESTAMP:
    case DC_TYPE_TIMESTAMPTZ: return 8;
    case DC_TYPE_NAME: return 64;
    default: return -1;
    }
}

/* Column descriptions of a plan's output into cols (ncols entries). */
static void plan_columns(const sql_plan *p, dc_column *cols)
{
    for (int i = 0; i < p->ncols; i++) {
        memset(&cols[i], 0, sizeof cols[i]);
        cols[i].size = sizeof cols[i];
        cols[i].name = p->names && p->names[i] ? p->names[i] : "?column?";
        cols[i].type = p->types[i];
        cols[i].typmod = p->typmods ? p->typmods[i] : -1;
        cols[i].typlen = type_len(p->types[i]);
    }
}

static bool plan_returns_rows(const sql_stmt *st, const sql_plan *p)
{
    if (st->kind == STMT_SELECT)
        return true;
    return p->ncols > 0;
}

static void stmt_tag(const sql_stmt *st, uint64_t n, char *tag, size_t cap)
{
    switch (st->kind) {
    case STMT_INSERT: snprintf(tag, cap, "INSERT 0 %llu", (unsigned long long)n); break;
    case STMT_UPDATE: snprintf(tag, cap, "UPDATE %llu", (unsigned long long)n); break;
    case STMT_DELETE: snprintf(tag, cap, "DELETE %llu", (unsigned long long)n); break;
    default: snprintf(tag, cap, "SELECT %llu", (unsigned long long)n); break;
    }
}

/* The first table a FROM list reads, for permission messages. */
static const char *from_table(const sql_list *from)
{
    for (size_t i = 0; i < SQL_LIST_LEN(from); i++) {
        const sql_from *f = from->items[i];
        while (f && f->kind == FROM_JOIN)
            f = f->join.left;
        if (f && f->kind == FROM_TABLE && f->table)
            return f->table->parts[f->table->nparts - 1];
        if (f && f->kind == FROM_SUBQUERY && f->subquery &&
            f->subquery->op == SELECT_SIMPLE) {
            const char *t = from_table(f->subquery->from);
            if (t)
                return t;
        }
    }
    return NULL;
}

/* The table a statement is about, or NULL. */
static const char *stmt_table(const sql_stmt *st)
{
    const sql_qname *q = NULL;
    switch (st->kind) {
    case STMT_INSERT: q = st->u.insert->table; break;
    case STMT_UPDATE: q = st->u.update->table; break;
    case STMT_DELETE: q = st->u.del->table; break;
    case STMT_COPY: q = st->u.copy->table; break;
    case STMT_SELECT:
        return st->u.select->op == SELECT_SIMPLE
                   ? from_table(st->u.select->from) : NULL;
    case STMT_EXPLAIN: return stmt_table(st->u.explain->stmt);
    default: break;
    }
    return q ? q->parts[q->nparts - 1] : NULL;
}

static int check_permission(const sql_session *s, const sql_stmt *st,
                            dc_error *err)
{
    const char *what = NULL;
    switch (st->kind) {
    case STMT_SELECT:
        if (!s->can_read)
            what = "read";
        break;
    case STMT_INSERT: case STMT_UPDATE: case STMT_DELETE:
        if (!s->can_write)
            what = "write";
        else if (!s->can_read && (st->kind != STMT_INSERT))
            what = "read";
        break;
    case STMT_COPY:
        if (st->u.copy->is_from ? !s->can_write : !s->can_read)
            what = st->u.copy->is_from ? "write" : "read";
        break;
    case STMT_EXPLAIN:
        if (!s->can_read)
            what = "read";
        break;
    case STMT_TRANSACTION: case STMT_SET: case STMT_SHOW: case STMT_RESET:
        break;
    default:
        if (!s->is_admin)
            what = "change the schema";
        break;
    }
    if (!what)
        return DC_OK;
    const char *t = stmt_table(st);
    if (t && strcmp(what, "change the schema") != 0)
        dc_error_set(err, DC_EPERM, "42501", "permission denied for table %s",
                     t);
    else
        dc_error_set(err, DC_EPERM, "42501",
                     "permission denied: role \"%s\" may not %s", s->user,
                     what);
    dc_error_detail(err, "Role \"%s\" may not %s.", s->user, what);
    return DC_EPERM;
}

/* Run a planned statement to the end, sending rows. */
static int run_plan(stmt_run *r, const sql_stmt *st, const sql_plan *plan,
                    const dc_sql_sink *sink, dc_error *err)
{
    sql_cursor *cur = NULL;
    int rc = sql_exec_open(&r->ctx, plan, &cur, err);
    if (rc)
        return rc;
    bool rows = plan_returns_rows(st, plan);
    if (rows && sink->describe) {
        dc_column *cols = sql_ctx_alloc(&r->ctx, sizeof(dc_column) * (size_t)(plan->ncols + 1), err);
        if (!cols) {
            sql_exec_close(cur);
            return DC_ENOMEM;
        }
        plan_columns(plan, cols);
        if ((rc = sink->describe(sink->ud, cols, (uint32_t)plan->ncols))) {
            sql_exec_close(cur);
            return rc;
        }
    }
    uint64_t n = 0;
    for (;;) {
        dc_row row;
        bool done = false;
        if ((rc = sql_exec_next(cur, &row, &done, err)))
            break;
        if (done)
            break;
        n++;
        if (rows && (rc = sink->row(sink->ud, &row)))
            break;
    }
    if (rc == DC_OK && st->kind != STMT_SELECT)
        n = sql_exec_processed(cur);
    sql_exec_close(cur);
    if (rc)
        return rc;
    char tag[64];
    stmt_tag(st, n, tag, sizeof tag);
    return complete(sink, tag);
}

static int run_explain(stmt_run *r, const sql_explain *ex, const char *src,
                       const dc_sql_sink *sink, dc_error *err)
{
    const sql_stmt *inner = ex->stmt;
    if (inner->kind != STMT_SELECT && inner->kind != STMT_INSERT &&
        inner->kind != STMT_UPDATE && inner->kind != STMT_DELETE)
        return dc_error_set(err, DC_EUNSUPPORTED, DC_SQLSTATE_FEATURE,
                            "EXPLAIN of this statement is not supported");
    sql_plan *plan;
    int rc = sql_plan_stmt(&r->ctx, r->ctx.arena, inner, src, NULL, &plan, err);
    if (rc)
        return rc;
    if (ex->analyze) {
        sql_cursor *cur;
        if ((rc = sql_exec_open(&r->ctx, plan, &cur, err)))
            return rc;
        for (;;) {
            dc_row row;
            bool done;
            if ((rc = sql_exec_next(cur, &row, &done, err)) || done)
                break;
        }
        sql_exec_close(cur);
        if (rc)
            return rc;
    }
    sql_buf out;
    sql_buf_init(&out);
    if ((rc = sql_plan_explain(plan, &out, err))) {
        sql_buf_free(&out);
        return rc;
    }
    dc_column col = {.size = sizeof col, .name = "QUERY PLAN",
                     .type = DC_TYPE_TEXT, .typmod = -1, .typlen = -1};
    if (sink->describe && (rc = sink->describe(sink->ud, &col, 1))) {
        sql_buf_free(&out);
        return rc;
    }
    size_t i = 0;
    while (i < out.len) {
        size_t j = i;
        while (j < out.len && out.data[j] != '\n')
            j++;
        dc_value v = sql_value_bytes(DC_TYPE_TEXT, out.data + i, j - i);
        dc_row row = {1, &v};
        if ((rc = sink->row(sink->ud, &row)))
            break;
        i = j + 1;
    }
    sql_buf_free(&out);
    if (rc)
        return rc;
    return complete(sink, "EXPLAIN");
}

static int notice_fwd(void *ud, const dc_error *n)
{
    const dc_sql_sink *sink = ud;
    return sink && sink->notice ? sink->notice(sink->ud, n) : DC_OK;
}

/* A statement that needs the transaction: queries, DML, DDL, EXPLAIN. */
/* VACUUM FULL: compact the storage of the named tables (all of them when
 * none is named: the whole store). */
static int vacuum_full(sql_ctx *ctx, const sql_list *tables, dc_error *err)
{
    const sql_engine *eng = ctx->eng;
    size_t n = SQL_LIST_LEN(tables);
    if (n == 0)
        return eng->sv->compact == NULL
                   ? DC_OK
                   : eng->sv->compact(eng->store, NULL, 0, NULL, 0, err);
    for (size_t i = 0; i < n; i++) {
        const sql_qname *qn = tables->items[i];
        const char *name = qn->parts[qn->nparts - 1];
        const sql_table *t = sql_catalog_table(ctx->cat, NULL, name);
        if (t == NULL)
            return dc_error_set(err, DC_ENOTFOUND, "42P01",
                                "relation \"%s\" does not exist", name);
        int rc = sql_table_compact(eng, t, err);
        if (rc != DC_OK)
            return rc;
    }
    return DC_OK;
}

static int run_in_txn(sql_session *s, const sql_stmt *st, const char *src,
                      const dc_sql_sink *sink, dc_error *err)
{
    int rc = ensure_txn(s, err);
    if (rc)
        return rc;
    if ((rc = sql_txn_stmt_begin(s->txn, err)))
        return rc;
    stmt_run r;
    if ((rc = stmt_ctx_open(s, &r, NULL, 0, err)))
        return rc;
    switch (st->kind) {
    case STMT_SELECT: case STMT_INSERT: case STMT_UPDATE: case STMT_DELETE: {
        sql_plan *plan;
        rc = sql_plan_stmt(&r.ctx, r.ctx.arena, st, src, NULL, &plan, err);
        if (rc == DC_OK) {
            rc = run_plan(&r, st, plan, sink, err);
            if (s->eng->slow_ns >= 0)
                slow_keep_plan(s, plan);
        }
        break;
    }
    case STMT_EXPLAIN:
        rc = run_explain(&r, st->u.explain, src, sink, err);
        break;
    case STMT_COPY: {
        uint64_t n = 0;
        rc = sql_copy_exec(&r.ctx, st->u.copy, src, sink, &n, err);
        if (st->u.copy->is_from)
            r.ctx.rows_written[MOD_INSERT] += n;
        if (rc == DC_OK) {
            char tag[32];
            snprintf(tag, sizeof tag, "COPY %llu", (unsigned long long)n);
            rc = complete(sink, tag);
        }
        break;
    }
    case STMT_VACUUM: {
        /* Space is reclaimed by compaction; VACUUM waits until the keys
         * of dropped relations are deleted (sql/gc.c), and VACUUM FULL
         * compacts the tables' storage at once.  ANALYZE (alone or with
         * VACUUM) gives the planner row counts (ddl.c, analyze_table). */
        const sql_vacuum *v = st->u.vacuum;
        if (!v->is_analyze)
            sql_gc_wait(r.ctx.eng);
        if (!v->is_analyze && v->full)
            rc = vacuum_full(&r.ctx, v->tables, err);
        if (rc == DC_OK && (v->is_analyze || v->analyze)) {
            size_t n = SQL_LIST_LEN(v->tables);
            if (n == 0)
                rc = sql_catalog_analyze(&r.ctx, NULL, err);
            for (size_t i = 0; i < n && rc == DC_OK; i++) {
                const sql_qname *qn = v->tables->items[i];
                rc = sql_catalog_analyze(&r.ctx, qn->parts[qn->nparts - 1],
                                         err);
            }
        }
        if (rc == DC_OK)
            rc = complete(sink, v->is_analyze ? "ANALYZE" : "VACUUM");
        break;
    }
    case STMT_CREATE_TABLE: case STMT_DROP: case STMT_TRUNCATE:
    case STMT_ALTER_TABLE: case STMT_CREATE_INDEX: case STMT_CREATE_VIEW:
    case STMT_CREATE_DATABASE: {
        char tag[64] = "";
        rc = sql_ddl_exec(&r.ctx, st, src, tag, sizeof tag, notice_fwd,
                          (void *)sink, err);
        if (rc == DC_OK)
            rc = complete(sink, tag);
        break;
    }
    default:
        rc = dc_error_set(err, DC_EUNSUPPORTED, DC_SQLSTATE_FEATURE,
                          "this statement is not supported yet");
        break;
    }
    stmt_ctx_close(&r);
    return rc;
}

/* The statements that a failed block still runs: those that end it or
 * roll it back (PostgreSQL's transaction exit statements). */
static bool is_block_end(const sql_stmt *st)
{
    if (st->kind != STMT_TRANSACTION)
        return false;
    int k = st->u.tx->kind;
    return k == TX_COMMIT || k == TX_ROLLBACK || k == TX_ROLLBACK_TO;
}

static int failed_error(dc_error *err)
{
    return dc_error_set(err, DC_EINVAL, "25P02",
                        "current transaction is aborted, commands ignored "
                        "until end of transaction block");
}

/* ==== databases in use ====================================================== */

/* The use record of database `name` (created when `add`), under db_mu. */
static sql_db_use *db_use_find(sql_engine *eng, const char *name, bool add)
{
    for (size_t i = 0; i < eng->ndb_use; i++)
        if (strcmp(eng->db_use[i].name, name) == 0)
            return &eng->db_use[i];
    if (!add)
        return NULL;
    if (eng->ndb_use == eng->capdb_use) {
        size_t nc = eng->capdb_use ? eng->capdb_use * 2 : 8;
        sql_db_use *n = realloc(eng->db_use, nc * sizeof *n);
        if (!n)
            return NULL;
        eng->db_use = n;
        eng->capdb_use = nc;
    }
    sql_db_use *u = &eng->db_use[eng->ndb_use++];
    memset(u, 0, sizeof *u);
    snprintf(u->name, sizeof u->name, "%s", name);
    return u;
}

/* Count a session in database `name`; 3D000 when it does not exist or is
 * being dropped.  *oid gets its oid. */
static int db_enter(sql_engine *eng, const char *name, uint32_t *oid,
                    dc_error *err)
{
    int rc = DC_OK;
    /* Look the database up under db_mu: a DROP DATABASE either is still
     * marked as running or has published a catalog without it. */
    pthread_mutex_lock(&eng->db_mu);
    sql_catalog *c = sql_engine_catalog(eng);
    const sql_database *db = sql_catalog_database(c, name);
    uint32_t o = db ? db->oid : 0;
    sql_catalog_unref(c);
    sql_db_use *u = o ? db_use_find(eng, name, true) : NULL;
    if (!o || (u && u->dropping))
        rc = dc_error_set(err, DC_ENOTFOUND, "3D000",
                          "database \"%s\" does not exist", name);
    else if (!u)
        rc = oom(err);
    else
        u->sessions++;
    pthread_mutex_unlock(&eng->db_mu);
    if (rc == DC_OK)
        *oid = o;
    return rc;
}

static void db_leave(sql_engine *eng, const char *name)
{
    pthread_mutex_lock(&eng->db_mu);
    sql_db_use *u = db_use_find(eng, name, false);
    if (u && u->sessions > 0)
        u->sessions--;
    pthread_mutex_unlock(&eng->db_mu);
}

/* DROP DATABASE: refused while sessions use the database; new sessions
 * are refused while it is being dropped.  Runs as its own transaction. */
static int run_drop_database(sql_session *s, const sql_stmt *st,
                             const char *src, const dc_sql_sink *sink,
                             dc_error *err)
{
    const sql_qname *q = st->u.drop->names->items[0];
    const char *name = q->parts[q->nparts - 1];
    if (strcmp(name, s->database) == 0)
        return dc_error_set(err, DC_EBUSY, "55006",
                            "cannot drop the currently open database");
    sql_engine *eng = s->eng;
    int rc = DC_OK;
    pthread_mutex_lock(&eng->db_mu);
    sql_db_use *u = db_use_find(eng, name, true);
    if (!u) {
        rc = oom(err);
    } else if (u->sessions > 0 || u->dropping) {
        int n = u->sessions;
        rc = dc_error_set(err, DC_EBUSY, "55006",
                          "database \"%s\" is being accessed by other users",
                          name);
        dc_error_detail(err, "There %s %d other session%s using the database.",
                        n == 1 ? "is" : "are", n, n == 1 ? "" : "s");
    } else {
        u->dropping = true;
    }
    pthread_mutex_unlock(&eng->db_mu);
    if (rc)
        return rc;
    rc = run_in_txn(s, st, src, sink, err);
    if (rc)
        end_txn(s, false, sink, NULL);
    else
        rc = end_txn(s, true, sink, err);
    pthread_mutex_lock(&eng->db_mu);
    if ((u = db_use_find(eng, name, false)))
        u->dropping = false;
    pthread_mutex_unlock(&eng->db_mu);
    return rc;
}

/* How a statement run outside a transaction block ends. */
typedef enum run_mode {
    RUN_AUTOCOMMIT,     /* commits (or rolls back) on its own             */
    RUN_GROUP,          /* one of several statements of one exec(): the
                         * caller commits the group                       */
    RUN_PIPELINE        /* a portal of a sync_pipeline session: the
                         * implicit transaction stays open until sync(),
                         * an error marks it failed                       */
} run_mode;

/* Run one statement; `mode` applies outside a transaction block. */
static int run_stmt(sql_session *s, const sql_stmt *st, const char *src,
                    run_mode mode, const dc_sql_sink *sink, dc_error *err)
{
    if (s->failed && !is_block_end(st))
        return failed_error(err);
    int rc = check_permission(s, st, err);
    if (rc)
        return rc;
    switch (st->kind) {
    case STMT_TRANSACTION:
    case STMT_SET:
    case STMT_SHOW:
    case STMT_RESET:
        if (st->kind == STMT_TRANSACTION)
            rc = run_tx(s, st->u.tx, sink, err);
        else if (st->kind == STMT_SET)
            rc = run_set(s, st->u.set, sink, err);
        else if (st->kind == STMT_SHOW)
            rc = run_show(s, st->u.show, sink, err);
        else
            rc = run_reset(s, st->u.show, sink, err);
        /* Any error inside a block fails the block, as in PostgreSQL
         * (COMMIT's own failure has ended the transaction already); in a
         * pipeline it fails the implicit transaction. */
        if (rc && (s->in_block || mode == RUN_PIPELINE))
            s->failed = true;
        return rc;
    default:
        break;
    }
    bool drop_db = st->kind == STMT_DROP && st->u.drop->what == OBJ_DATABASE;
    if (st->kind == STMT_CREATE_DATABASE || drop_db) {
        /* As in PostgreSQL, the first statement of a pipeline may be one
         * of these (it commits at once); a later one is refused. */
        const char *what = drop_db ? "DROP DATABASE" : "CREATE DATABASE";
        if (s->in_block || mode == RUN_GROUP || s->txn) {
            if (!s->in_block && mode == RUN_PIPELINE)
                rc = dc_error_set(err, DC_EINVAL, "25001",
                                  "%s cannot be executed within a pipeline",
                                  what);
            else
                rc = dc_error_set(err, DC_EINVAL, "25001",
                                  "%s cannot run inside a transaction block",
                                  what);
            if (s->in_block || mode == RUN_PIPELINE)
                s->failed = true;
            return rc;
        }
        if (drop_db)
            return run_drop_database(s, st, src, sink, err);
        mode = RUN_AUTOCOMMIT;
    }
    rc = run_in_txn(s, st, src, sink, err);
    if (s->in_block) {
        if (rc)
            s->failed = true;
        return rc;
    }
    if (mode == RUN_GROUP) {
        if (rc)
            end_txn(s, false, sink, NULL);
        return rc;
    }
    if (mode == RUN_PIPELINE) {
        /* sync() rolls the failed transaction back: the portals of the
         * pipeline may still hold cursors on it. */
        if (rc)
            s->failed = true;
        return rc;
    }
    /* Autocommit. */
    if (rc) {
        end_txn(s, false, sink, NULL);
        return rc;
    }
    return end_txn(s, true, sink, err);
}

/* ==== the vtable =========================================================== */

static int sql_session_open(void *instance, const dc_sql_session_options *o,
                            dc_sql_session **out, dc_error *err)
{
    sql_engine *eng = instance;
    sql_session *s = dcm_calloc(1, sizeof *s);
    if (!s)
        return oom(err);
    s->eng = eng;
    snprintf(s->user, sizeof s->user, "%s", o && o->user ? o->user : "datacave");
    snprintf(s->database, sizeof s->database, "%s",
             o && o->database && o->database[0] ? o->database
                                                 : SQL_DEFAULT_DB_NAME);
    int drc = db_enter(eng, s->database, &s->db_oid, err);
    if (drc) {
        free(s);
        return drc;
    }
    s->can_read = o ? o->can_read : true;
    s->can_write = o ? o->can_write : true;
    s->is_admin = o ? o->is_admin : true;
    s->sync_pipeline = o && DC_HAS_FIELD(o, dc_sql_session_options,
                                         sync_pipeline) && o->sync_pipeline;
    s->work_mem = eng->work_mem;
    s->next_iso = (sql_isolation)-1;
    s->next_read_only = -1;
    settings_init(s);
    int k = setting_find(s, "lock_timeout");
    if (k >= 0) {
        format_duration_ms(eng->lock_timeout_ms, s->settings[k].value,
                           sizeof s->settings[k].value);
        memcpy(s->settings[k].reset_value, s->settings[k].value,
               sizeof s->settings[k].reset_value);
        s->lock_timeout_ms = eng->lock_timeout_ms;
    }
    atomic_init(&s->cancel, 0);
    *out = (dc_sql_session *)s;
    return DC_OK;
}

static void sql_session_close(dc_sql_session *ds)
{
    sql_session *s = (sql_session *)ds;
    if (!s)
        return;
    stimer_disarm(s, DC_OK, NULL);
    end_txn(s, false, NULL, NULL);
    db_leave(s->eng, s->database);
    sql_catalog_unref(s->scope_src);
    sql_catalog_unref(s->scope_cat);
    free(s->sps);
    free(s->undo);
    free(s->slow_plan);
    free(s);
}

static int sql_exec(dc_sql_session *ds, const char *sql, size_t len,
                    const dc_sql_sink *sink, dc_error *err)
{
    sql_session *s = (sql_session *)ds;
    atomic_store(&s->cancel, 0);
    sql_arena *arena = NULL;
    sql_list *stmts = NULL;
    int rc = sql_parse(sql, len, &arena, &stmts, err);
    if (rc) {
        if (s->in_block)
            s->failed = true;
        return rc;
    }
    /* The layers below may treat the statement text as a C string (view
     * definitions are cut out of it): give them a NUL-terminated copy,
     * since a client's text comes with a length only. */
    const char *src = sql_arena_strndup(arena, sql, len);
    if (!src) {
        sql_arena_free(arena);
        return oom(err);
    }
    size_t n = SQL_LIST_LEN(stmts);
    bool implicit = !s->in_block && n > 1;
    bool report = DC_HAS_FIELD(sink, dc_sql_sink, statement_end) &&
                  sink->statement_end;
    bool slow = s->eng->slow_ns >= 0;
    for (size_t i = 0; i < n && rc == DC_OK; i++) {
        const sql_stmt *st = stmts->items[i];
        if (slow)
            slow_begin(s);
        /* statement_timeout covers each statement of the string. */
        stimer_arm(s);
        rc = run_stmt(s, st, src,
                      implicit && !s->in_block ? RUN_GROUP : RUN_AUTOCOMMIT,
                      sink, err);
        stimer_disarm(s, rc, err);
        /* src, not sql: the caller's buffer may hold COPY data by now. */
        if (slow)
            slow_end(s, src + st->off, st->len, rc, err);
        if (report)
            sink->statement_end(sink->ud, st->off, st->len, rc ? err : NULL);
    }
    /* An implicit group that is still open commits (or was rolled back by
     * the failing statement). */
    if (implicit && !s->in_block && s->txn) {
        if (rc == DC_OK)
            rc = end_txn(s, true, sink, err);
        else
            end_txn(s, false, sink, NULL);
    }
    sql_arena_free(arena);
    return rc;
}

static char sql_txn_status(const dc_sql_session *ds)
{
    const sql_session *s = (const sql_session *)ds;
    if (!s->in_block)
        return 'I';
    return s->failed ? 'E' : 'T';
}

/* ---- prepared statements and portals ---------------------------------- */

/* A plan kept by a prepared statement for its later executions: valid
 * while the execution sees the same catalog object (`cat`, referenced so
 * that its address names it), the session's settings are those of
 * `settings_gen` and the parameter types are unchanged.  Plans are
 * read-only; the executor's state lives in each run's arena.  A portal
 * running the plan holds a reference, so a re-plan by another portal of
 * the statement does not free it under the running one. */
typedef struct stmt_plan {
    int refs;
    sql_arena *arena;
    const sql_plan *plan;
    sql_catalog *cat;
    uint64_t settings_gen;
    uint32_t nparams;
    uint32_t *ptypes;
} stmt_plan;

static void stmt_plan_unref(stmt_plan *sp)
{
    if (!sp || --sp->refs > 0)
        return;
    sql_catalog_unref(sp->cat);
    sql_arena_free(sp->arena);
    free(sp);
}

struct dc_sql_stmt {
    sql_session *sess;
    sql_arena *arena;
    const sql_stmt *stmt;       /* NULL for an empty statement */
    char *src;
    uint32_t nparams;
    uint32_t *ptypes;
    uint32_t ncols;
    dc_column *cols;
    bool cacheable;             /* its plan may be kept (stmt_cacheable) */
    stmt_plan *cached;          /* the kept plan, or NULL                */
};

struct dc_sql_portal {
    dc_sql_stmt *st;
    sql_arena *arena;           /* parameter copies */
    dc_value *params;
    uint32_t nparams;
    bool started, finished;
    bool own_txn;               /* autocommit transaction of this portal */
    stmt_run run;
    bool run_open;
    const sql_plan *plan;
    stmt_plan *held;            /* the statement's cached plan, when run */
    sql_cursor *cur;
    /* The portal belongs to the transaction open (or, in a pipeline or a
     * block, about to open) when it was bound: txn_gen of the session
     * then.  Without sync_pipeline, a portal bound outside any
     * transaction joins the one it starts in (gen_set false until then).
     * gone: its transaction ended; fetching it is 34000. */
    uint64_t gen;
    bool gen_set, gone;
    dc_sql_portal *lnext, *lprev;  /* the session's live list          */
    bool linked;
};

static void live_link(sql_session *s, dc_sql_portal *p)
{
    p->lprev = NULL;
    p->lnext = s->live;
    if (s->live)
        s->live->lprev = p;
    s->live = p;
    p->linked = true;
}

static void live_unlink(sql_session *s, dc_sql_portal *p)
{
    if (!p->linked)
        return;
    if (p->lprev)
        p->lprev->lnext = p->lnext;
    else
        s->live = p->lnext;
    if (p->lnext)
        p->lnext->lprev = p->lprev;
    p->lnext = p->lprev = NULL;
    p->linked = false;
}

/* The session's transaction ends: close the cursors of its portals while
 * it still exists, and mark them gone. */
static void portals_txn_end(sql_session *s)
{
    while (s->live) {
        dc_sql_portal *p = s->live;
        live_unlink(s, p);
        if (p->cur) {
            sql_exec_close(p->cur);
            p->cur = NULL;
        }
        if (p->run_open) {
            stmt_ctx_close(&p->run);
            p->run_open = false;
        }
        stmt_plan_unref(p->held);
        p->held = NULL;
        p->finished = true;
        p->own_txn = false;
        p->gone = true;
    }
}

static bool plannable(const sql_stmt *st)
{
    return st->kind == STMT_SELECT || st->kind == STMT_INSERT ||
           st->kind == STMT_UPDATE || st->kind == STMT_DELETE;
}

static bool stmt_cacheable(const char *src);

/* The largest n of a "$n" in the text (an upper bound of the parameters
 * it refers to: one in a string or comment counts too), at most
 * SQL_MAX_PARAMS. */
static uint32_t max_param_ref(const char *sql, size_t len)
{
    uint32_t max = 0;
    for (size_t i = 0; i + 1 < len; i++) {
        if (sql[i] != '$' || sql[i + 1] < '0' || sql[i + 1] > '9')
            continue;
        uint64_t n = 0;
        size_t j = i + 1;
        while (j < len && sql[j] >= '0' && sql[j] <= '9') {
            if (n <= SQL_MAX_PARAMS)
                n = n * 10 + (uint64_t)(sql[j] - '0');
            j++;
        }
        if (n > SQL_MAX_PARAMS)
            n = SQL_MAX_PARAMS;
        if (n > max)
            max = (uint32_t)n;
        i = j - 1;
    }
    return max;
}

static int sql_prepare(dc_sql_session *ds, const char *sql, size_t len,
                       const uint32_t *param_types, uint32_t nparams,
                       dc_sql_stmt **out, dc_error *err)
{
    sql_session *s = (sql_session *)ds;
    dc_sql_stmt *p = dcm_calloc(1, sizeof *p);
    if (!p)
        return oom(err);
    p->sess = s;
    sql_list *stmts = NULL;
    int rc = sql_parse(sql, len, &p->arena, &stmts, err);
    if (rc) {
        free(p);
        return rc;
    }
    if (SQL_LIST_LEN(stmts) > 1) {
        sql_arena_free(p->arena);
        free(p);
        return dc_error_set(err, DC_EINVAL, "42601",
                            "cannot insert multiple commands into a prepared "
                            "statement");
    }
    p->stmt = SQL_LIST_LEN(stmts) ? stmts->items[0] : NULL;
    /* In a failed block only what ends it may be prepared (and an empty
     * statement), as in PostgreSQL. */
    if (s->failed && p->stmt && !is_block_end(p->stmt)) {
        sql_arena_free(p->arena);
        free(p);
        return failed_error(err);
    }
    if (!(p->src = sql_arena_strndup(p->arena, sql, len)))
        goto nomem;
    /* Room for every parameter the text may name (the binder records the
     * type of each $n it meets): not SQL_MAX_PARAMS of them, 256 KiB per
     * statement. */
    uint32_t cap = max_param_ref(sql, len);
    if (cap < nparams)
        cap = nparams;
    if (cap == 0)
        cap = 1;
    p->ptypes = sql_arena_alloc(p->arena, sizeof(uint32_t) * cap);
    if (!p->ptypes)
        goto nomem;
    memset(p->ptypes, 0, sizeof(uint32_t) * cap);
    for (uint32_t i = 0; i < nparams && i < SQL_MAX_PARAMS; i++)
        p->ptypes[i] = param_types ? param_types[i] : 0;
    p->nparams = nparams;
    p->cacheable = p->stmt && plannable(p->stmt) && stmt_cacheable(p->src);
    if (p->stmt && plannable(p->stmt)) {
        /* Bind once to learn parameter types and result columns. */
        stmt_run r;
        if ((rc = stmt_ctx_open(s, &r, NULL, 0, err)))
            goto fail;
        sql_param_types pt = {nparams, p->ptypes};
        sql_plan *plan;
        rc = sql_plan_stmt(&r.ctx, r.ctx.arena, p->stmt, p->src, &pt, &plan,
                           err);
        if (rc == DC_OK) {
            p->nparams = pt.n;
            if (plan_returns_rows(p->stmt, plan)) {
                p->ncols = (uint32_t)plan->ncols;
                p->cols = sql_arena_alloc(p->arena, sizeof(dc_column) * (p->ncols + 1));
                if (!p->cols) {
                    rc = oom(err);
                } else {
                    plan_columns(plan, p->cols);
                    for (uint32_t i = 0; i < p->ncols; i++) {
                        const char *nm = p->cols[i].name;
                        p->cols[i].name = sql_arena_strndup(p->arena, nm, strlen(nm));
                        if (!p->cols[i].name)
                            rc = oom(err);
                    }
                }
            }
        }
        stmt_ctx_close(&r);
        if (rc)
            goto fail;
    } else if (p->stmt && p->stmt->kind == STMT_SHOW) {
        p->ncols = 1;
        p->cols = sql_arena_alloc(p->arena, sizeof(dc_column));
        if (!p->cols)
            goto nomem;
        p->cols[0] = (dc_column){.size = sizeof(dc_column),
                                 .type = DC_TYPE_TEXT, .typmod = -1,
                                 .typlen = -1};
        const char *nm = p->stmt->u.show->name;
        int k = setting_find(s, strcmp(nm, "timezone") == 0 ? "TimeZone" : nm);
        p->cols[0].name = k >= 0 ? sql_arena_strndup(p->arena, s->settings[k].name,
                                                     strlen(s->settings[k].name))
                                 : nm;
    }
    *out = p;
    return DC_OK;
nomem:
    rc = oom(err);
fail:
    sql_arena_free(p->arena);
    free(p);
    return rc;
}

static int sql_stmt_describe(dc_sql_stmt *st, const uint32_t **param_types,
                             uint32_t *nparams, const dc_column **cols,
                             uint32_t *ncols)
{
    if (param_types)
        *param_types = st->ptypes;
    if (nparams)
        *nparams = st->nparams;
    if (cols)
        *cols = st->cols;
    if (ncols)
        *ncols = st->ncols;
    return DC_OK;
}

static void sql_stmt_close(dc_sql_stmt *st)
{
    if (!st)
        return;
    stmt_plan_unref(st->cached);
    sql_arena_free(st->arena);
    free(st);
}

static int sql_portal_open(dc_sql_stmt *st, const dc_value *params,
                           uint32_t nparams, dc_sql_portal **out,
                           dc_error *err)
{
    if (st->sess->failed && st->stmt && !is_block_end(st->stmt))
        return failed_error(err);
    if (nparams != st->nparams)
        return dc_error_set(err, DC_EINVAL, "08P01",
                            "bind message supplies %u parameters, but "
                            "prepared statement requires %u",
                            nparams, st->nparams);
    dc_sql_portal *p = dcm_calloc(1, sizeof *p);
    if (!p)
        return oom(err);
    p->st = st;
    sql_session *s = st->sess;
    p->gen = s->txn_gen;
    p->gen_set = s->txn || s->in_block || s->sync_pipeline;
    if (!(p->arena = sql_arena_new())) {
        free(p);
        return oom(err);
    }
    if (nparams) {
        p->params = sql_arena_alloc(p->arena, sizeof(dc_value) * nparams);
        if (!p->params)
            goto nomem;
        for (uint32_t i = 0; i < nparams; i++) {
            p->params[i] = params[i];
            if (params[i].is_null)
                continue;
            switch (params[i].type) {
            case DC_TYPE_TEXT: case DC_TYPE_VARCHAR: case DC_TYPE_BPCHAR:
            case DC_TYPE_NAME: case DC_TYPE_BYTEA: case DC_TYPE_NUMERIC:
            case DC_TYPE_UNKNOWN: {
                size_t n = params[i].u.bytes.len;
                uint8_t *c = sql_arena_alloc(p->arena, n + 1);
                if (!c)
                    goto nomem;
                if (n)
                    memcpy(c, params[i].u.bytes.ptr, n);
                p->params[i].u.bytes.ptr = c;
                break;
            }
            default:
                break;
            }
        }
    }
    p->nparams = nparams;
    *out = p;
    return DC_OK;
nomem:
    sql_arena_free(p->arena);
    free(p);
    return oom(err);
}

/* Finish a portal's run: close the cursor and statement context, and end
 * the autocommit transaction it opened (commit when ok). */
static int portal_finish(dc_sql_portal *p, bool ok, const dc_sql_sink *sink,
                         dc_error *err)
{
    sql_session *s = p->st->sess;
    int rc = DC_OK;
    live_unlink(s, p);
    if (p->cur) {
        sql_exec_close(p->cur);
        p->cur = NULL;
    }
    if (p->run_open) {
        stmt_ctx_close(&p->run);
        p->run_open = false;
    }
    stmt_plan_unref(p->held);
    p->held = NULL;
    p->finished = true;
    if (p->own_txn) {
        p->own_txn = false;
        if (!s->in_block) {
            rc = end_txn(s, ok, sink, err);
            p->gen = s->txn_gen; /* its own transaction ended */
        }
    } else if (!ok && (s->in_block || s->sync_pipeline)) {
        /* A failed block; or a failed implicit transaction of a pipeline,
         * rolled back by sync(). */
        s->failed = true;
    }
    return rc;
}

/* Whether a statement's plan may be kept for later executions.  Binding
 * converts literals to their types then, and a date/time literal such as
 * 'now' or 'today' would keep the time of planning: statements whose text
 * may hold one (the words, or any backslash escape that could spell them)
 * are planned at every execution, as before.  now() and CURRENT_TIMESTAMP
 * are function calls evaluated when run. */
static bool stmt_cacheable(const char *src)
{
    static const char *const words[] = {"now", "today", "tomorrow",
                                        "yesterday"};
    for (const char *c = src; *c; c++) {
        if (*c == '\\')
            return false;
        if (c > src && (isalnum((unsigned char)c[-1]) || c[-1] == '_'))
            continue;
        for (size_t w = 0; w < sizeof words / sizeof words[0]; w++) {
            size_t n = strlen(words[w]);
            if (strncasecmp(c, words[w], n) != 0 ||
                isalnum((unsigned char)c[n]) || c[n] == '_')
                continue;
            if (w == 0) {
                /* now(): a function call */
                const char *e = c + n;
                while (isspace((unsigned char)*e))
                    e++;
                if (*e == '(')
                    continue;
            }
            return false;
        }
    }
    return true;
}

/* A plan with the same result columns as those described at prepare
 * (the client was told them); else 0A000, as PostgreSQL. */
static int plan_shape_check(const dc_sql_stmt *ps, const sql_plan *plan,
                            dc_error *err)
{
    bool rows = plan_returns_rows(ps->stmt, plan);
    bool same = rows ? plan->ncols >= 0 && (uint32_t)plan->ncols == ps->ncols
                     : ps->ncols == 0;
    for (uint32_t i = 0; same && rows && i < ps->ncols; i++)
        same = plan->types[i] == ps->cols[i].type;
    if (same)
        return DC_OK;
    return dc_error_set(err, DC_EUNSUPPORTED, "0A000",
                        "cached plan must not change result type");
}

/* The plan of a portal's run: the statement's cached one when still
 * valid for what this run sees, else a new one (kept when the statement
 * is cacheable, replacing the old). */
static int portal_plan(dc_sql_portal *p, const sql_plan **out, dc_error *err)
{
    dc_sql_stmt *ps = p->st;
    sql_session *s = ps->sess;
    const sql_ctx *ctx = &p->run.ctx;
    stmt_plan *c = ps->cached;
    if (c && c->cat == ctx->cat && c->settings_gen == s->settings_gen &&
        c->nparams == ps->nparams &&
        (!ps->nparams ||
         memcmp(c->ptypes, ps->ptypes, sizeof(uint32_t) * ps->nparams) == 0)) {
        c->refs++;
        p->held = c;
        *out = c->plan;
        return DC_OK;
    }
    s->plans_built++;
    sql_param_types pt = {ps->nparams, ps->ptypes};
    sql_plan *plan = NULL;
    int rc;
    if (!ps->cacheable) {
        rc = sql_plan_stmt(&p->run.ctx, p->run.ctx.arena, ps->stmt, ps->src,
                           &pt, &plan, err);
        if (rc == DC_OK && (rc = plan_shape_check(ps, plan, err)) == DC_OK)
            *out = plan;
        return rc;
    }
    stmt_plan *n = dcm_calloc(1, sizeof *n);
    if (!n || !(n->arena = sql_arena_new())) {
        free(n);
        return oom(err);
    }
    n->refs = 1;
    rc = sql_plan_stmt(&p->run.ctx, n->arena, ps->stmt, ps->src, &pt, &plan,
                       err);
    if (rc == DC_OK)
        rc = plan_shape_check(ps, plan, err);
    if (rc == DC_OK && ps->nparams &&
        !(n->ptypes = sql_arena_alloc(n->arena,
                                      sizeof(uint32_t) * ps->nparams)))
        rc = oom(err);
    if (rc) {
        stmt_plan_unref(n);
        return rc;
    }
    if (ps->nparams)
        memcpy(n->ptypes, ps->ptypes, sizeof(uint32_t) * ps->nparams);
    n->nparams = ps->nparams;
    n->plan = plan;
    n->cat = sql_catalog_ref((sql_catalog *)ctx->cat);
    n->settings_gen = s->settings_gen;
    stmt_plan_unref(ps->cached);
    ps->cached = n;
    n->refs++;
    p->held = n;
    *out = plan;
    return DC_OK;
}

static int portal_fetch_run(dc_sql_portal *p, uint64_t max_rows,
                            const dc_sql_sink *sink, bool *suspended,
                            dc_error *err)
{
    sql_session *s = p->st->sess;
    const sql_stmt *st = p->st->stmt;
    *suspended = false;
    int rc;
    if (p->gen_set && p->gen != s->txn_gen)
        p->gone = true;
    if (p->gone) {
        /* As PostgreSQL's portals, which end with their transaction (the
         * caller knows the portal's name; this module does not). */
        rc = dc_error_set(err, DC_ENOTFOUND, "34000",
                          "portal does not exist");
        dc_error_detail(err, "The transaction of the portal has ended.");
        return rc;
    }
    if (!st)
        return DC_OK; /* empty query: the caller answers EmptyQueryResponse */
    if (p->finished) {
        /* As PostgreSQL: running a finished portal again returns no rows
         * and the tag with a count of 0. */
        if (!plannable(st))
            return DC_OK;
        char tag0[64];
        stmt_tag(st, 0, tag0, sizeof tag0);
        return complete(sink, tag0);
    }
    if (!p->started) {
        /* A cancel request left from before does not stop this statement
         * (a statement_timeout just armed may). */
        int user = SQL_CANCEL_USER;
        atomic_compare_exchange_strong(&s->cancel, &user, 0);
        p->started = true;
        if (!plannable(st)) {
            /* Utility statements run whole, through the simple path. */
            p->finished = true;
            dc_sql_sink quiet = *sink;
            quiet.describe = NULL;
            rc = run_stmt(s, st, p->st->src,
                          s->sync_pipeline ? RUN_PIPELINE : RUN_AUTOCOMMIT,
                          &quiet, err);
            /* The transaction it may have ended (COMMIT, autocommit) was
             * its own: running it again stays a no-op. */
            p->gen = s->txn_gen;
            p->gen_set = true;
            return rc;
        }
        if (s->failed)
            return failed_error(err);
        if ((rc = check_permission(s, st, err)))
            return rc;
        if (!s->txn) {
            if ((rc = ensure_txn(s, err)))
                return rc;
            /* In a pipeline the transaction is the pipeline's: sync()
             * ends it. */
            p->own_txn = !s->in_block && !s->sync_pipeline;
        }
        if (!p->gen_set) {
            p->gen = s->txn_gen;
            p->gen_set = true;
        }
        if ((rc = sql_txn_stmt_begin(s->txn, err)) ||
            (rc = stmt_ctx_open(s, &p->run, p->params, p->nparams, err))) {
            portal_finish(p, false, sink, NULL);
            return rc;
        }
        p->run_open = true;
        live_link(s, p);
        const sql_plan *plan = NULL;
        rc = portal_plan(p, &plan, err);
        if (rc == DC_OK)
            rc = sql_exec_open(&p->run.ctx, plan, &p->cur, err);
        if (rc) {
            portal_finish(p, false, sink, NULL);
            return rc;
        }
        p->plan = plan;
    }
    bool rows = plan_returns_rows(st, p->plan);
    uint64_t sent = 0;
    rc = DC_OK;
    for (;;) {
        if (max_rows && sent == max_rows) {
            /* More may remain: find out without consuming it later. */
            *suspended = true;
            if (s->eng->slow_ns >= 0)
                slow_keep_plan(s, p->plan);
            return DC_OK;
        }
        dc_row row;
        bool done = false;
        if ((rc = sql_exec_next(p->cur, &row, &done, err)) || done)
            break;
        sent++;
        if (rows && (rc = sink->row(sink->ud, &row)))
            break;
    }
    if (s->eng->slow_ns >= 0)
        slow_keep_plan(s, p->plan); /* before finish frees it */
    if (rc) {
        portal_finish(p, false, sink, NULL);
        return rc;
    }
    /* The tag counts the rows of this fetch, as PostgreSQL's does. */
    uint64_t n = st->kind == STMT_SELECT ? sent : sql_exec_processed(p->cur);
    char tag[64];
    stmt_tag(st, n, tag, sizeof tag);
    if ((rc = portal_finish(p, true, sink, err)))
        return rc;
    return complete(sink, tag);
}

/* Run or continue a portal; statement_timeout covers each call. */
static int sql_portal_fetch(dc_sql_portal *p, uint64_t max_rows,
                            const dc_sql_sink *sink, bool *suspended,
                            dc_error *err)
{
    sql_session *s = p->st->sess;
    bool slow = s->eng->slow_ns >= 0;
    if (slow)
        slow_begin(s);
    stimer_arm(s);
    int rc = portal_fetch_run(p, max_rows, sink, suspended, err);
    stimer_disarm(s, rc, err);
    if (slow && p->st->stmt)
        slow_end(s, p->st->src, strlen(p->st->src), rc, err);
    return rc;
}

static void sql_portal_close(dc_sql_portal *p)
{
    if (!p)
        return;
    if (p->started && !p->finished)
        portal_finish(p, true, NULL, NULL);
    sql_arena_free(p->arena);
    free(p);
}

/* Sync: end the implicit transaction of a pipeline (sql.h). */
static int sql_sync(dc_sql_session *ds, bool failed, const dc_sql_sink *sink,
                    dc_error *err)
{
    sql_session *s = (sql_session *)ds;
    if (s->in_block) {
        if (failed)
            s->failed = true;
        return DC_OK;
    }
    if (!s->txn && !s->failed)
        return DC_OK;
    if (failed || s->failed) {
        end_txn(s, false, sink, NULL);
        return DC_OK;
    }
    return end_txn(s, true, sink, err);
}

static void sql_cancel(dc_sql_session *ds)
{
    sql_session *s = (sql_session *)ds;
    atomic_store(&s->cancel, SQL_CANCEL_USER);
}

static int sql_format_text(void *instance, const dc_value *v, char *out,
                           size_t cap, size_t *len)
{
    (void)instance;
    sql_buf b;
    sql_buf_init(&b);
    dc_error err;
    dc_error_init(&err);
    int rc = sql_value_out(v, NULL, &b, &err);
    if (rc) {
        sql_buf_free(&b);
        return rc;
    }
    *len = b.len;
    if (b.len > cap) {
        sql_buf_free(&b);
        return DC_ERANGE;
    }
    if (b.len)
        memcpy(out, b.data, b.len);
    sql_buf_free(&b);
    return DC_OK;
}

typedef struct fixed_mem {
    uint8_t *buf;
    size_t cap, used;
} fixed_mem;

static void *fixed_alloc(void *ctx, size_t n)
{
    fixed_mem *m = ctx;
    size_t a = (m->used + 7) & ~(size_t)7;
    if (a > m->cap || n > m->cap - a)
        return NULL;
    m->used = a + n;
    return m->buf + a;
}

static int sql_parse_text(void *instance, uint32_t type, int32_t typmod,
                          const char *text, size_t len, dc_value *out,
                          uint8_t *buf, size_t cap, dc_error *err)
{
    (void)instance;
    fixed_mem fm = {buf, cap, 0};
    sql_mem mem = {fixed_alloc, &fm};
    return sql_value_in(type, typmod, text, len, NULL, &mem, out, err);
}

static const char *vt_setting(dc_sql_session *ds, const char *name)
{
    sql_session *s = (sql_session *)ds;
    if (name && strcmp(name, "datacave.plans_built") == 0) {
        snprintf(s->plans_built_text, sizeof s->plans_built_text, "%llu",
                 (unsigned long long)s->plans_built);
        return s->plans_built_text;
    }
    return session_get_setting(s, name);
}

static const dc_sql_vtable sql_vtable = {
    .size = sizeof(dc_sql_vtable),
    .session_open = sql_session_open,
    .session_close = sql_session_close,
    .exec = sql_exec,
    .txn_status = sql_txn_status,
    .prepare = sql_prepare,
    .stmt_describe = sql_stmt_describe,
    .stmt_close = sql_stmt_close,
    .portal_open = sql_portal_open,
    .portal_fetch = sql_portal_fetch,
    .portal_close = sql_portal_close,
    .cancel = sql_cancel,
    .format_text = sql_format_text,
    .parse_text = sql_parse_text,
    .setting = vt_setting,
    .sync = sql_sync,
};

/* ==== module lifecycle ===================================================== */

static const dc_config_key sql_options[] = {
    {"work_mem_kb", DC_CFG_INT, "65536",
     "memory a sort or hash table may use before spilling or failing (kB)",
     0},
    {"lock_timeout_ms", DC_CFG_INT, "0",
     "default lock_timeout of sessions in milliseconds; 0 waits for ever", 0},
    {"temp_dir", DC_CFG_STRING, "\"\"",
     "directory for sort spill files; empty: $TMPDIR or /tmp", 0},
    {"databases", DC_CFG_STRING, "\"\"",
     "databases to create at start when missing (comma-separated names; "
     "\"default\" always exists)", 0},
};

/* Create database `name` (at start, before any session) unless it exists. */
static int ensure_database(sql_engine *eng, const char *name, dc_error *err)
{
    sql_catalog *cur = sql_engine_catalog(eng);
    bool have = sql_catalog_database(cur, name) != NULL;
    sql_catalog *copy = NULL;
    int rc = have ? DC_OK : sql_catalog_clone(cur, &copy, err);
    sql_catalog_unref(cur);
    if (have || rc)
        return rc;
    sql_txn *txn = NULL;
    if ((rc = sql_txn_begin(eng, SQL_ISO_READ_COMMITTED, false, 0, NULL, &txn,
                            err))) {
        sql_catalog_unref(copy);
        return rc;
    }
    sql_ctx ctx;
    memset(&ctx, 0, sizeof ctx);
    ctx.eng = eng;
    ctx.txn = txn;
    uint32_t oid = 0;
    if ((rc = sql_catalog_new_oid(&ctx, &oid, err)) ||
        (rc = sql_catalog_add_database(copy, txn, name, oid, err))) {
        sql_catalog_unref(copy);
        sql_txn_abort(txn);
        return rc;
    }
    sql_txn_set_catalog(txn, copy);
    return sql_txn_commit(txn, err);
}

/* The `databases` option: every name in the list exists afterwards. */
static int ensure_databases(sql_engine *eng, const char *list, dc_error *err)
{
    const char *p = list ? list : "";
    while (*p) {
        while (*p == ',' || *p == ' ')
            p++;
        size_t n = strcspn(p, ", ");
        if (n == 0)
            break;
        char name[64];
        if (n >= sizeof name)
            return dc_error_set(err, DC_EINVAL, DC_SQLSTATE_CONFIG,
                                "database name too long in [module.sql] "
                                "databases: %.*s", (int)n, p);
        memcpy(name, p, n);
        name[n] = '\0';
        int rc = ensure_database(eng, name, err);
        if (rc)
            return rc;
        p += n;
    }
    return DC_OK;
}

/* The engine's metrics; a failed registration leaves its series NULL
 * (not counted): counting is never worth refusing to start. */
static void register_metrics(sql_engine *eng, dc_host *host,
                             const dc_host_api *api)
{
    static const char *const result[] = {"result"};
    static const char *const op[] = {"op"};
    dc_metric_desc d = {.size = sizeof d, .type = DC_METRIC_COUNTER,
                        .name = "datacave_sql_transactions_total",
                        .help = "transactions ended, implicit ones (a "
                                "statement outside a block) included, by "
                                "result",
                        .label_names = result, .nlabels = 1};
    dc_metric *m = NULL;
    dc_error e;
    dc_error_init(&e);
    if (api->metric_register(host, &d, &m, &e) == DC_OK) {
        const char *c[1] = {"commit"}, *r[1] = {"rollback"};
        eng->m_txn_commit = api->metric_series(m, c);
        eng->m_txn_rollback = api->metric_series(m, r);
    }
    d.name = "datacave_sql_rows_read_total";
    d.help = "rows read by the table and index scans of statements";
    d.label_names = NULL;
    d.nlabels = 0;
    if (api->metric_register(host, &d, &m, &e) == DC_OK)
        eng->m_rows_read = api->metric_series(m, NULL);
    d.name = "datacave_sql_rows_written_total";
    d.help = "rows inserted (COPY FROM included), updated and deleted by "
             "statements, by operation";
    d.label_names = op;
    d.nlabels = 1;
    if (api->metric_register(host, &d, &m, &e) == DC_OK) {
        static const char *const ops[3] = {"insert", "update", "delete"};
        for (int i = 0; i < 3; i++) {
            const char *l[1] = {ops[i]};
            eng->m_rows_written[i] = api->metric_series(m, l);
        }
    }
    if (dc_error_isset(&e))
        api->log(host, DC_LOG_WARN, "some metrics are not available: %s",
                 e.message);
}

static int sql_init(dc_host *host, const dc_host_api *api, void **instance,
                    dc_error *err)
{
    sql_engine *eng = dcm_calloc(1, sizeof *eng);
    if (!eng)
        return oom(err);
    eng->host = api;
    eng->host_ctx = host;
    const void *vt = NULL;
    void *sinst = NULL;
    int rc = api->service(host, DC_KIND_STORAGE, &vt, &sinst);
    if (rc) {
        free(eng);
        return dc_error_set(err, rc, DC_SQLSTATE_CONFIG,
                            "the sql module needs a storage module");
    }
    eng->sv = vt;
    dc_store_options so = {.size = sizeof so, .path = NULL,
                           .create_if_missing = true, .read_only = false};
    if ((rc = eng->sv->open(sinst, &so, &eng->store, err))) {
        free(eng);
        return rc;
    }
    eng->commit_sync = DC_SYNC_DEFAULT;
    register_metrics(eng, host, api);
    int64_t kb = 65536, lt = 0;
    api->config_int(host, ".work_mem_kb", &kb);
    if (kb < 64)
        kb = 64;
    eng->work_mem = (size_t)kb * 1024;
    api->config_int(host, ".lock_timeout_ms", &lt);
    /* [log] slow_query_ms: -1 (or unset) off, 0 every statement. */
    int64_t slow_ms = -1;
    if (api->config_int(host, "log.slow_query_ms", &slow_ms) != DC_OK ||
        slow_ms < 0)
        slow_ms = -1;
    eng->slow_ns = slow_ms < 0 ? -1 : slow_ms * 1000000;
    eng->lock_timeout_ms = lt < 0 ? 0 : lt > UINT32_MAX ? UINT32_MAX : (uint32_t)lt;
    const char *td = "";
    api->config_string(host, ".temp_dir", &td);
    if (!td || !td[0])
        td = getenv("TMPDIR");
    snprintf(eng->tmp_dir, sizeof eng->tmp_dir, "%s", td && td[0] ? td : "/tmp");
    pthread_mutex_init(&eng->cat_mu, NULL);
    pthread_mutex_init(&eng->db_mu, NULL);
    atomic_init(&eng->next_oid, SQL_FIRST_USER_OID);
    if ((rc = sql_lockmgr_new(&eng->locks, err)))
        goto fail;
    if ((rc = sql_catalog_load(eng, &eng->catalog, err)))
        goto fail;
    const char *dbs = "";
    api->config_string(host, ".databases", &dbs);
    if ((rc = ensure_databases(eng, dbs, err)))
        goto fail;
    if ((rc = stimer_new(&eng->stimer, err)))
        goto fail;
    if ((rc = sql_gc_start(eng, err)))
        goto fail;
    *instance = eng;
    return DC_OK;
fail:
    stimer_free(eng->stimer);
    if (eng->catalog)
        sql_catalog_unref(eng->catalog);
    if (eng->locks)
        sql_lockmgr_free(eng->locks);
    eng->sv->close(eng->store);
    pthread_mutex_destroy(&eng->cat_mu);
    pthread_mutex_destroy(&eng->db_mu);
    free(eng);
    return rc;
}

static void sql_shutdown(void *instance)
{
    sql_engine *eng = instance;
    if (!eng)
        return;
    sql_gc_stop(eng);
    stimer_free(eng->stimer);
    if (eng->catalog)
        sql_catalog_unref(eng->catalog);
    eng->sv->close(eng->store);
    sql_lockmgr_free(eng->locks);
    pthread_mutex_destroy(&eng->cat_mu);
    pthread_mutex_destroy(&eng->db_mu);
    free(eng->db_use);
    free(eng);
}

static const dc_dependency sql_deps[] = {
    {.kind = DC_KIND_STORAGE, .flags = DC_DEP_REQUIRED},
};

static const dc_module_desc sql_desc = {
    DC_MODULE_HEADER(DC_KIND_SQL, DC_SQL_VTABLE_MAJOR, DC_SQL_VTABLE_MINOR),
    .name = "sql",
    .version = "0.1.0",
    .description = "PostgreSQL-dialect SQL engine: parser, planner, "
                   "executor, catalog and transactions",
    .deps = sql_deps,
    .ndeps = sizeof sql_deps / sizeof sql_deps[0],
    .config_keys = sql_options,
    .nconfig_keys = sizeof sql_options / sizeof sql_options[0],
    .init = sql_init,
    .shutdown = sql_shutdown,
    .vtable = &sql_vtable,
};

DC_EXPORT const dc_module_desc *datacave_module_sql_v0(void)
{
    return &sql_desc;
}
