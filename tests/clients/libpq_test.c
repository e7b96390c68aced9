/*
 * libpq_test.c - drives a running Datacave server (the pgwire module)
 * with libpq, PostgreSQL's own client library, and with a raw socket for
 * what libpq cannot send (row limits, Describe Portal, malformed
 * messages).
 *
 *   libpq_test HOST PORT TEST [ARG]
 *
 * TEST is one of: basic, extended, pipeline (with the implicit
 * transaction of the messages up to Sync, and Parse of ROLLBACK in a failed
 * block), binary, cancel (and statement_timeout), copy, errors,
 * idle N (hold N idle connections and use each), maxconn N (expect the
 * N+1-th to get 53300), malformed, rowlimit, waitfatal (connect, print
 * "ready", then expect a FATAL: 57P01 when the server stops, or the code in
 * $PGW_EXPECT), tls (expects
 * an encrypted session), notls (expects the 28000 no-encryption refusal),
 * startup (unknown parameters, NegotiateProtocolVersion, GSSENC).
 * Extra connection options come from $PGW_EXTRA (e.g. "sslmode=require").
 * Prints "ok - ..." per check and "not ok - ..." per failure (or
 * "skip - ..." when the server lacks a feature); exits 1 on any failure.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <libpq-fe.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static const char *g_host, *g_port;
static int g_failures;

static void check(int cond, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    printf(cond ? "ok - " : "not ok - ");
    vprintf(fmt, ap);
    printf("\n");
    va_end(ap);
    fflush(stdout);
    if (!cond)
        g_failures++;
}

static PGconn *connect_db(const char *user)
{
    char ci[512];
    const char *extra = getenv("PGW_EXTRA");
    snprintf(ci, sizeof ci,
             "host=%s port=%s user=%s dbname=default connect_timeout=10 "
             "application_name=libpq_test %s",
             g_host, g_port, user, extra ? extra : "sslmode=disable");
    return PQconnectdb(ci);
}

static PGconn *must_connect(void)
{
    PGconn *c = connect_db("tester");
    if (PQstatus(c) != CONNECTION_OK) {
        printf("not ok - connect: %s\n", PQerrorMessage(c));
        exit(1);
    }
    return c;
}

static const char *state_of(const PGresult *r)
{
    const char *s = PQresultErrorField(r, PG_DIAG_SQLSTATE);
    return s ? s : "";
}

/* Run a statement expecting `st`; returns the result (caller clears). */
static PGresult *run(PGconn *c, const char *sql, ExecStatusType st)
{
    PGresult *r = PQexec(c, sql);
    check(PQresultStatus(r) == st, "%s -> %s (got %s %s)", sql,
          PQresStatus(st), PQresStatus(PQresultStatus(r)),
          PQresultErrorMessage(r));
    return r;
}

static void run_ok(PGconn *c, const char *sql)
{
    PGresult *r = PQexec(c, sql);
    ExecStatusType s = PQresultStatus(r);
    check(s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK, "%s (%s)", sql,
          PQresultErrorMessage(r));
    PQclear(r);
}

/* ==== raw protocol ======================================================== */

typedef struct raw {
    int fd;
    uint8_t buf[1 << 16];
    size_t len;
} raw;

static int raw_connect(raw *r)
{
    struct addrinfo h = {.ai_socktype = SOCK_STREAM}, *res;
    if (getaddrinfo(g_host, g_port, &h, &res) != 0)
        return -1;
    r->fd = socket(res->ai_family, SOCK_STREAM, 0);
    int rc = connect(r->fd, res->ai_addr, res->ai_addrlen);
    freeaddrinfo(res);
    r->len = 0;
    return rc;
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static uint32_t get32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
           ((uint32_t)p[2] << 8) | p[3];
}

static void raw_send(raw *r, const void *p, size_t n)
{
    if (send(r->fd, p, n, MSG_NOSIGNAL) != (ssize_t)n)
        printf("# send failed: %s\n", strerror(errno));
}

/* Send one typed message. */
static void raw_msg(raw *r, char type, const void *body, size_t n)
{
    uint8_t h[5];
    h[0] = (uint8_t)type;
    put32(h + 1, (uint32_t)(n + 4));
    raw_send(r, h, 5);
    if (n)
        raw_send(r, body, n);
}

/* Read one server message into *type / body (static buffer); -1 at EOF. */
static int raw_read(raw *r, char *type, uint8_t **body, uint32_t *n)
{
    static uint8_t b[1 << 20];
    size_t have = 0, want = 5;
    while (have < want) {
        struct pollfd p = {r->fd, POLLIN, 0};
        if (poll(&p, 1, 30000) <= 0)
            return -1;
        ssize_t k = recv(r->fd, b + have, want - have, 0);
        if (k <= 0)
            return -1;
        have += (size_t)k;
        if (have == 5 && want == 5) {
            uint32_t l = get32(b + 1);
            if (l < 4 || l > sizeof b - 1)
                return -1;
            want = 1 + l;
        }
    }
    *type = (char)b[0];
    *body = b + 5;
    *n = (uint32_t)want - 5;
    return 0;
}

/* Start-up with user tester; returns 0 once ReadyForQuery arrived. */
static int raw_startup(raw *r, uint32_t version, const char *extra_k,
                       const char *extra_v, char *seen, size_t seen_cap)
{
    uint8_t p[512];
    size_t n = 8;
    const char *kv[] = {"user", "tester", "database", "default", extra_k,
                        extra_v};
    for (int i = 0; i < 6 && kv[i]; i++) {
        size_t l = strlen(kv[i]) + 1;
        memcpy(p + n, kv[i], l);
        n += l;
    }
    p[n++] = 0;
    put32(p, (uint32_t)n);
    put32(p + 4, version);
    raw_send(r, p, n);
    size_t s = 0;
    for (;;) {
        char t;
        uint8_t *b;
        uint32_t l;
        if (raw_read(r, &t, &b, &l))
            return -1;
        if (seen && s + 1 < seen_cap)
            seen[s++] = t, seen[s] = 0;
        if (t == 'Z')
            return 0;
        if (t == 'E')
            return -1;
    }
}

/* Read messages until ReadyForQuery; the types seen go to seen[]. */
static int raw_until(raw *r, char stop, char *seen, size_t cap,
                     char *field_c, size_t fcap)
{
    size_t s = 0;
    for (;;) {
        char t;
        uint8_t *b;
        uint32_t l;
        if (raw_read(r, &t, &b, &l))
            return -1;
        if (s + 1 < cap)
            seen[s++] = t, seen[s] = 0;
        if ((t == 'E' || t == 'N') && field_c) {
            for (uint32_t i = 0; i < l && b[i];) {
                if (b[i] == 'C')
                    snprintf(field_c, fcap, "%s", (char *)b + i + 1);
                i += 1 + (uint32_t)strlen((char *)b + i + 1) + 1;
            }
        }
        if (t == stop)
            return 0;
    }
}

static size_t cstr(uint8_t *p, const char *s)
{
    size_t l = strlen(s) + 1;
    memcpy(p, s, l);
    return l;
}

/* Parse stmt, Bind portal to it (no parameters, text results), Execute
 * it with a row limit (0: all). */
static void raw_pbe(raw *r, const char *portal, const char *sql,
                    uint32_t max_rows)
{
    uint8_t m[512];
    size_t n = 0;
    n += cstr(m + n, "");
    n += cstr(m + n, sql);
    m[n++] = 0, m[n++] = 0;
    raw_msg(r, 'P', m, n);
    n = 0;
    n += cstr(m + n, portal);
    n += cstr(m + n, "");
    memset(m + n, 0, 6), n += 6;
    raw_msg(r, 'B', m, n);
    n = cstr(m, portal);
    put32(m + n, max_rows);
    raw_msg(r, 'E', m, n + 4);
}

static void raw_execute(raw *r, const char *portal, uint32_t max_rows)
{
    uint8_t m[128];
    size_t n = cstr(m, portal);
    put32(m + n, max_rows);
    raw_msg(r, 'E', m, n + 4);
}

/* ==== tests =============================================================== */

static void t_basic(void)
{
    PGconn *c = must_connect();
    check(strcmp(PQparameterStatus(c, "client_encoding"), "UTF8") == 0,
          "client_encoding UTF8");
    check(strncmp(PQparameterStatus(c, "DateStyle"), "ISO", 3) == 0,
          "DateStyle starts with ISO");
    check(strncmp(PQparameterStatus(c, "server_version"), "15", 2) == 0,
          "server_version 15.x");
    const char *an = PQparameterStatus(c, "application_name");
    check(an && strcmp(an, "libpq_test") == 0,
          "application_name from the start-up packet (%s)", an ? an : "null");
    const char *names[] = {"in_hot_standby", "integer_datetimes",
                           "IntervalStyle", "is_superuser", "server_encoding",
                           "session_authorization",
                           "standard_conforming_strings", "TimeZone",
                           "default_transaction_read_only"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        check(PQparameterStatus(c, names[i]) != NULL, "ParameterStatus %s",
              names[i]);
    check(PQbackendPID(c) > 0, "BackendKeyData pid");
    PQclear(run(c, "DROP TABLE IF EXISTS b1", PGRES_COMMAND_OK));
    PQclear(run(c, "CREATE TABLE b1 (a int, b text)", PGRES_COMMAND_OK));
    PGresult *r = run(c, "INSERT INTO b1 VALUES (1, 'x'), (2, NULL)",
                      PGRES_COMMAND_OK);
    check(strcmp(PQcmdStatus(r), "INSERT 0 2") == 0 &&
              strcmp(PQcmdTuples(r), "2") == 0,
          "INSERT tag (%s)", PQcmdStatus(r));
    PQclear(r);
    r = run(c, "SELECT a, b FROM b1 ORDER BY a", PGRES_TUPLES_OK);
    check(PQntuples(r) == 2 && PQnfields(r) == 2 &&
              strcmp(PQfname(r, 1), "b") == 0 && PQftype(r, 0) == 23 &&
              strcmp(PQgetvalue(r, 0, 1), "x") == 0 && PQgetisnull(r, 1, 1),
          "SELECT rows, names, types, NULL");
    check(strcmp(PQcmdStatus(r), "SELECT 2") == 0, "SELECT tag");
    PQclear(r);
    /* Several statements: libpq keeps the last result. */
    r = run(c, "UPDATE b1 SET a = a + 10; SELECT count(*) FROM b1; "
               "DELETE FROM b1 WHERE a = 11",
            PGRES_COMMAND_OK);
    check(strcmp(PQcmdStatus(r), "DELETE 1") == 0, "multi-statement last tag "
          "(%s)", PQcmdStatus(r));
    PQclear(r);
    /* Each statement's result, in order. */
    PQsendQuery(c, "SELECT 1; SELECT 2, 3; SET application_name = 'z'");
    int i = 0;
    const char *tags[] = {"SELECT 1", "SELECT 1", "SET"};
    while ((r = PQgetResult(c))) {
        if (i < 3)
            check(strcmp(PQcmdStatus(r), tags[i]) == 0, "statement %d tag %s",
                  i + 1, PQcmdStatus(r));
        i++;
        PQclear(r);
    }
    check(i == 3, "three results (%d)", i);
    check(strcmp(PQparameterStatus(c, "application_name"), "z") == 0,
          "ParameterStatus after SET application_name");
    PQclear(run(c, "", PGRES_EMPTY_QUERY));
    PQclear(run(c, ";", PGRES_EMPTY_QUERY));
    PQfinish(c);
}

static void t_extended(void)
{
    PGconn *c = must_connect();
    run_ok(c, "DROP TABLE IF EXISTS e1");
    run_ok(c, "CREATE TABLE e1 (id int, name text)");
    Oid types[2] = {23, 25};
    PGresult *r = PQprepare(c, "ins", "INSERT INTO e1 VALUES ($1, $2)", 2,
                            types);
    check(PQresultStatus(r) == PGRES_COMMAND_OK, "Parse named (%s)",
          PQresultErrorMessage(r));
    PQclear(r);
    for (int i = 1; i <= 5; i++) {
        char id[16], nm[32];
        snprintf(id, sizeof id, "%d", i);
        snprintf(nm, sizeof nm, "n%d", i);
        const char *v[2] = {id, nm};
        r = PQexecPrepared(c, "ins", 2, v, NULL, NULL, 0);
        check(PQresultStatus(r) == PGRES_COMMAND_OK &&
                  strcmp(PQcmdStatus(r), "INSERT 0 1") == 0,
              "Bind/Execute named %d (%s)", i, PQresultErrorMessage(r));
        PQclear(r);
    }
    /* Parameter types inferred (0). */
    r = PQprepare(c, "sel", "SELECT name, id FROM e1 WHERE id > $1 ORDER BY id",
                  0, NULL);
    check(PQresultStatus(r) == PGRES_COMMAND_OK, "Parse with inferred types");
    PQclear(r);
    r = PQdescribePrepared(c, "sel");
    check(PQresultStatus(r) == PGRES_COMMAND_OK && PQnparams(r) == 1 &&
              PQparamtype(r, 0) == 23 && PQnfields(r) == 2 &&
              PQftype(r, 0) == 25 && strcmp(PQfname(r, 1), "id") == 0,
          "Describe statement: ParameterDescription + RowDescription");
    PQclear(r);
    r = PQdescribePrepared(c, "ins");
    check(PQresultStatus(r) == PGRES_COMMAND_OK && PQnparams(r) == 2 &&
              PQnfields(r) == 0,
          "Describe statement without rows: NoData");
    PQclear(r);
    const char *v[1] = {"3"};
    r = PQexecPrepared(c, "sel", 1, v, NULL, NULL, 0);
    check(PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 2 &&
              strcmp(PQgetvalue(r, 0, 0), "n4") == 0,
          "Execute named SELECT");
    PQclear(r);
    /* Text parameters whose parsed value is far longer than their text
     * (the server parses into a buffer it grows on demand). */
    {
        const char *big[2] = {"1e1000", "-9.5e-999"};
        r = PQexecParams(c,
                         "SELECT length($1::numeric::text), "
                         "length($2::numeric::text), length($3::text)",
                         3, NULL,
                         (const char *[3]){big[0], big[1], "abcdefghij"},
                         NULL, NULL, 0);
        check(PQresultStatus(r) == PGRES_TUPLES_OK &&
                  strcmp(PQgetvalue(r, 0, 0), "1001") == 0 &&
                  strcmp(PQgetvalue(r, 0, 1), "1003") == 0 &&
                  strcmp(PQgetvalue(r, 0, 2), "10") == 0,
              "numeric parameters that expand (%s %s)",
              PQgetvalue(r, 0, 0), PQgetvalue(r, 0, 1));
        PQclear(r);
    }
    /* Unnamed statement through PQexecParams, twice (replaced). */
    for (int k = 0; k < 2; k++) {
        r = PQexecParams(c, "SELECT $1::int + 1", 1, NULL, v, NULL, NULL, 0);
        check(PQresultStatus(r) == PGRES_TUPLES_OK &&
                  strcmp(PQgetvalue(r, 0, 0), "4") == 0,
              "unnamed statement %d", k);
        PQclear(r);
    }
    r = PQprepare(c, "ins", "SELECT 1", 0, NULL);
    check(strcmp(state_of(r), "42P05") == 0, "duplicate name 42P05");
    PQclear(r);
    r = PQexecPrepared(c, "nosuch", 0, NULL, NULL, NULL, 0);
    check(strcmp(state_of(r), "26000") == 0, "missing statement 26000");
    PQclear(r);
    /* Wrong number of parameters. */
    r = PQexecPrepared(c, "sel", 0, NULL, NULL, NULL, 0);
    check(strcmp(state_of(r), "08P01") == 0, "Bind parameter count 08P01");
    PQclear(r);
    /* Bad text parameter. */
    const char *bad[1] = {"abc"};
    r = PQexecPrepared(c, "sel", 1, bad, NULL, NULL, 0);
    check(strcmp(state_of(r), "22P02") == 0, "bad integer text 22P02 (%s)",
          state_of(r));
    PQclear(r);
    /* The session is still usable. */
    r = PQexec(c, "SELECT count(*) FROM e1");
    check(PQresultStatus(r) == PGRES_TUPLES_OK &&
              strcmp(PQgetvalue(r, 0, 0), "5") == 0,
          "session usable after extended errors");
    PQclear(r);
    /* Single-row mode over the extended protocol. */
    PQsendQueryPrepared(c, "sel", 1, (const char *[]){"0"}, NULL, NULL, 0);
    PQsetSingleRowMode(c);
    int rows = 0;
    while ((r = PQgetResult(c))) {
        if (PQresultStatus(r) == PGRES_SINGLE_TUPLE)
            rows++;
        PQclear(r);
    }
    check(rows == 5, "single-row mode: 5 rows (%d)", rows);
    PQfinish(c);
}

/* Read a pipeline's results up to its Sync: the status and SQLSTATE of
 * each query, in order.  Returns how many, or -1 when the Sync never came
 * (or more than cap results did). */
static int pipe_collect(PGconn *c, ExecStatusType *st, char (*state)[6],
                        int cap)
{
    int n = 0, nulls = 0;
    while (n <= cap) {
        PGresult *r = PQgetResult(c);
        if (!r) {
            /* One NULL ends each query's results; two in a row: nothing
             * more is coming. */
            if (++nulls > 1)
                return -1;
            continue;
        }
        nulls = 0;
        ExecStatusType s = PQresultStatus(r);
        if (s == PGRES_PIPELINE_SYNC) {
            PQclear(r);
            return n;
        }
        if (n < cap) {
            st[n] = s;
            snprintf(state[n], 6, "%s", state_of(r));
        }
        n++;
        PQclear(r);
    }
    return -1;
}

/* Send each statement of a NULL-terminated list with PQsendQueryParams
 * (Parse/Bind/Describe/Execute), then one Sync. */
static void pipe_send(PGconn *c, const char *const *sqls)
{
    for (int i = 0; sqls[i]; i++)
        PQsendQueryParams(c, sqls[i], 0, NULL, NULL, NULL, NULL, 0);
    PQpipelineSync(c);
}

/* The single value of a one-row query as a number, -1 on failure. */
static long value_of(PGconn *c, const char *sql)
{
    PGresult *r = PQexec(c, sql);
    long v = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1
                 ? atol(PQgetvalue(r, 0, 0)) : -1;
    if (v < 0)
        printf("# %s: %s\n", sql, PQresultErrorMessage(r));
    PQclear(r);
    return v;
}

/* The messages between two Syncs form one implicit transaction (outside a
 * block): committed at Sync, rolled back entirely by an error; BEGIN turns
 * it into a block, COMMIT ends it; CREATE DATABASE only alone. */
static void t_pipeline_txn(void)
{
    PGconn *c = must_connect(), *c2 = must_connect();
    run_ok(c, "DROP TABLE IF EXISTS pt");
    run_ok(c, "CREATE TABLE pt (id int PRIMARY KEY)");
    ExecStatusType st[8];
    char ss[8][6];
    check(PQenterPipelineMode(c) == 1, "enter pipeline mode");

    static const char *const dup[] = {
        "INSERT INTO pt VALUES (1)", "INSERT INTO pt VALUES (2)",
        "INSERT INTO pt VALUES (1)", "INSERT INTO pt VALUES (3)", NULL};
    pipe_send(c, dup);
    int n = pipe_collect(c, st, ss, 8);
    check(n == 4 && st[0] == PGRES_COMMAND_OK && st[1] == PGRES_COMMAND_OK &&
              st[2] == PGRES_FATAL_ERROR && !strcmp(ss[2], "23505") &&
              st[3] == PGRES_PIPELINE_ABORTED,
          "pipeline with a duplicate key: 2 inserts, 23505, aborted (%d)", n);
    check(value_of(c2, "SELECT count(*) FROM pt") == 0,
          "an error before Sync rolls back the inserts before it");

    /* Committed at Sync, and not before. */
    PQsendQueryParams(c, "INSERT INTO pt VALUES (20)", 0, NULL, NULL, NULL,
                      NULL, 0);
    PQsendFlushRequest(c);
    PQflush(c);
    PGresult *r = PQgetResult(c);
    check(r && PQresultStatus(r) == PGRES_COMMAND_OK,
          "INSERT before Sync: CommandComplete (%s)",
          r ? PQresultErrorMessage(r) : "no result");
    PQclear(r);
    PQclear(PQgetResult(c));
    check(value_of(c2, "SELECT count(*) FROM pt WHERE id = 20") == 0,
          "an Execute before Sync is not committed yet");
    PQpipelineSync(c);
    n = pipe_collect(c, st, ss, 8);
    check(n == 0, "Sync after the INSERT (%d)", n);
    check(value_of(c2, "SELECT count(*) FROM pt WHERE id = 20") == 1,
          "Sync commits the INSERT");

    /* A BEGIN inside takes the statements before it into its block. */
    static const char *const begin[] = {
        "INSERT INTO pt VALUES (30)", "BEGIN", "INSERT INTO pt VALUES (31)",
        NULL};
    pipe_send(c, begin);
    n = pipe_collect(c, st, ss, 8);
    check(n == 3 && st[0] == PGRES_COMMAND_OK && st[1] == PGRES_COMMAND_OK &&
              st[2] == PGRES_COMMAND_OK,
          "pipeline INSERT, BEGIN, INSERT (%d)", n);
    check(PQtransactionStatus(c) == PQTRANS_INTRANS,
          "after BEGIN in a pipeline: in a transaction block");
    static const char *const rollback[] = {"ROLLBACK", NULL};
    pipe_send(c, rollback);
    n = pipe_collect(c, st, ss, 8);
    check(n == 1 && st[0] == PGRES_COMMAND_OK, "ROLLBACK (%d)", n);
    check(value_of(c2, "SELECT count(*) FROM pt WHERE id IN (30, 31)") == 0,
          "ROLLBACK undoes the INSERT before BEGIN too");

    /* COMMIT inside ends the implicit transaction: a later error does not
     * undo what came before it. */
    static const char *const commit[] = {
        "INSERT INTO pt VALUES (40)", "COMMIT", "INSERT INTO pt VALUES (40)",
        NULL};
    pipe_send(c, commit);
    n = pipe_collect(c, st, ss, 8);
    check(n == 3 && st[0] == PGRES_COMMAND_OK && st[1] == PGRES_COMMAND_OK &&
              st[2] == PGRES_FATAL_ERROR && !strcmp(ss[2], "23505"),
          "pipeline INSERT, COMMIT, duplicate INSERT (%d)", n);
    check(value_of(c2, "SELECT count(*) FROM pt WHERE id = 40") == 1,
          "COMMIT in a pipeline commits what came before it");

    /* An error outside the sql statements (Bind of a missing statement)
     * rolls the pipeline back as well. */
    PQsendQueryParams(c, "INSERT INTO pt VALUES (50)", 0, NULL, NULL, NULL,
                      NULL, 0);
    PQsendQueryPrepared(c, "no_such_stmt", 0, NULL, NULL, NULL, 0);
    PQpipelineSync(c);
    n = pipe_collect(c, st, ss, 8);
    check(n == 2 && st[0] == PGRES_COMMAND_OK && st[1] == PGRES_FATAL_ERROR &&
              !strcmp(ss[1], "26000"),
          "pipeline INSERT, Bind of a missing statement: 26000 (%d)", n);
    check(value_of(c2, "SELECT count(*) FROM pt WHERE id = 50") == 0,
          "a Bind error before Sync rolls back the INSERT");

    /* CREATE DATABASE may only be the first statement of a pipeline. */
    static const char *const cdb2[] = {"SELECT 1", "CREATE DATABASE pipe_db",
                                       NULL};
    pipe_send(c, cdb2);
    n = pipe_collect(c, st, ss, 8);
    check(n == 2 && st[0] == PGRES_TUPLES_OK && st[1] == PGRES_FATAL_ERROR &&
              !strcmp(ss[1], "25001"),
          "CREATE DATABASE after another statement of a pipeline: 25001 "
          "(%d %s)", n, n == 2 ? ss[1] : "");
    static const char *const cdb[] = {"CREATE DATABASE pipe_db", NULL};
    pipe_send(c, cdb);
    n = pipe_collect(c, st, ss, 8);
    check(n == 1 && st[0] == PGRES_COMMAND_OK,
          "CREATE DATABASE alone in a pipeline (%d %s)", n,
          n == 1 ? ss[0] : "");
    static const char *const ddb[] = {"DROP DATABASE pipe_db", NULL};
    pipe_send(c, ddb);
    n = pipe_collect(c, st, ss, 8);
    check(n == 1 && st[0] == PGRES_COMMAND_OK,
          "DROP DATABASE alone in a pipeline (%d %s)", n, n == 1 ? ss[0] : "");
    check(PQexitPipelineMode(c) == 1, "exit pipeline mode");

    /* A failed block accepts Parse/Bind/Execute of what ends it, and only
     * that; an error outside the sql statements fails a block too. */
    run_ok(c, "BEGIN");
    r = PQexec(c, "SELECT 1/0");
    PQclear(r);
    check(PQtransactionStatus(c) == PQTRANS_INERROR, "failed block");
    r = PQprepare(c, "fb_sel", "SELECT 1", 0, NULL);
    check(!strcmp(state_of(r), "25P02"), "Parse of SELECT in a failed block: "
          "25P02 (%s)", state_of(r));
    PQclear(r);
    r = PQprepare(c, "fb_rb", "ROLLBACK", 0, NULL);
    check(PQresultStatus(r) == PGRES_COMMAND_OK,
          "Parse of ROLLBACK in a failed block (%s)", PQresultErrorMessage(r));
    PQclear(r);
    r = PQexecPrepared(c, "fb_rb", 0, NULL, NULL, NULL, 0);
    check(PQresultStatus(r) == PGRES_COMMAND_OK &&
              !strcmp(PQcmdStatus(r), "ROLLBACK") &&
              PQtransactionStatus(c) == PQTRANS_IDLE,
          "Bind/Execute of the prepared ROLLBACK ends the block (%s)",
          PQresultErrorMessage(r));
    PQclear(r);
    run_ok(c, "BEGIN");
    run_ok(c, "INSERT INTO pt VALUES (60)");
    r = PQexecPrepared(c, "no_such_stmt", 0, NULL, NULL, NULL, 0);
    check(!strcmp(state_of(r), "26000") &&
              PQtransactionStatus(c) == PQTRANS_INERROR,
          "Bind of a missing statement fails the block");
    PQclear(r);
    r = PQexecPrepared(c, "fb_rb", 0, NULL, NULL, NULL, 0);
    check(PQresultStatus(r) == PGRES_COMMAND_OK &&
              PQtransactionStatus(c) == PQTRANS_IDLE,
          "the prepared ROLLBACK again (%s)", PQresultErrorMessage(r));
    PQclear(r);
    run_ok(c, "BEGIN");
    PQclear(PQexec(c, "SELECT 1/0"));
    r = PQexecParams(c, "COMMIT", 0, NULL, NULL, NULL, NULL, 0);
    check(PQresultStatus(r) == PGRES_COMMAND_OK &&
              !strcmp(PQcmdStatus(r), "ROLLBACK") &&
              PQtransactionStatus(c) == PQTRANS_IDLE,
          "unnamed COMMIT in a failed block rolls back (%s %s)",
          PQcmdStatus(r), PQresultErrorMessage(r));
    PQclear(r);
    check(value_of(c2, "SELECT count(*) FROM pt WHERE id = 60") == 0,
          "the failed block was rolled back");
    run_ok(c, "DROP TABLE pt");
    PQfinish(c2);
    PQfinish(c);
}

static void t_pipeline(void)
{
    PGconn *c = must_connect();
    check(PQenterPipelineMode(c) == 1, "enter pipeline mode");
    PQsendQueryParams(c, "SELECT 1", 0, NULL, NULL, NULL, NULL, 0);
    PQsendQueryParams(c, "SELECT 1/0", 0, NULL, NULL, NULL, NULL, 0);
    PQsendQueryParams(c, "SELECT 3", 0, NULL, NULL, NULL, NULL, 0);
    PQpipelineSync(c);
    PQsendQueryParams(c, "SELECT 4", 0, NULL, NULL, NULL, NULL, 0);
    PQpipelineSync(c);
    ExecStatusType want[] = {PGRES_TUPLES_OK, PGRES_FATAL_ERROR,
                             PGRES_PIPELINE_ABORTED, PGRES_PIPELINE_SYNC,
                             PGRES_TUPLES_OK, PGRES_PIPELINE_SYNC};
    for (int i = 0; i < 6; i++) {
        PGresult *r = PQgetResult(c);
        check(r && PQresultStatus(r) == want[i], "pipeline result %d: %s", i,
              r ? PQresStatus(PQresultStatus(r)) : "none");
        if (i == 1)
            check(strcmp(state_of(r), "22012") == 0, "pipeline error 22012");
        if (i == 4)
            check(strcmp(PQgetvalue(r, 0, 0), "4") == 0, "after Sync: 4");
        PQclear(r);
        if (PQresultStatus(r) != PGRES_PIPELINE_SYNC && i != 5) {
            PGresult *z = PQgetResult(c); /* the NULL after each query */
            PQclear(z);
        }
    }
    check(PQexitPipelineMode(c) == 1, "exit pipeline mode");
    PQfinish(c);
    t_pipeline_txn();
}

typedef struct bin_case {
    const char *sql_type;
    Oid oid;
    const char *text;       /* expected text output                 */
    uint8_t bin[24];        /* PostgreSQL's binary form             */
    int binlen;
} bin_case;

static void t_binary(void)
{
    PGconn *c = must_connect();
    static const bin_case cases[] = {
        {"bool", 16, "t", {1}, 1},
        {"int2", 21, "-2", {0xff, 0xfe}, 2},
        {"int4", 23, "305419896", {0x12, 0x34, 0x56, 0x78}, 4},
        {"int8", 20, "-1", {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, 8},
        {"oid", 26, "4294967295", {0xff, 0xff, 0xff, 0xff}, 4},
        {"float4", 700, "1.5", {0x3f, 0xc0, 0, 0}, 4},
        {"float8", 701, "-2.25", {0xc0, 0x02, 0, 0, 0, 0, 0, 0}, 8},
        {"numeric", 1700, "-12.340",
         {0, 2, 0, 0, 0x40, 0, 0, 3, 0, 12, 0x0d, 0x48}, 12},
        {"numeric", 1700, "123456.789",
         {0, 3, 0, 1, 0, 0, 0, 3, 0, 12, 0x0d, 0x80, 0x1e, 0xd2}, 14},
        {"numeric", 1700, "0.0001", {0, 1, 0xff, 0xff, 0, 0, 0, 4, 0, 1}, 10},
        {"numeric", 1700, "NaN", {0, 0, 0, 0, 0xc0, 0, 0, 0}, 8},
        {"text", 25, "h\xc3\xa9", {'h', 0xc3, 0xa9}, 3},
        {"varchar", 1043, "abc", {'a', 'b', 'c'}, 3},
        {"bpchar", 1042, "ab", {'a', 'b'}, 2},
        {"name", 19, "nm", {'n', 'm'}, 2},
        {"bytea", 17, "\\x00ff", {0, 0xff}, 2},
        {"date", 1082, "2000-01-02", {0, 0, 0, 1}, 4},
        {"timestamp", 1114, "2000-01-01 00:00:01",
         {0, 0, 0, 0, 0, 0x0f, 0x42, 0x40}, 8},
        {"timestamptz", 1184, "2000-01-01 00:00:00.5+00",
         {0, 0, 0, 0, 0, 0x07, 0xa1, 0x20}, 8},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const bin_case *k = &cases[i];
        char sql[64];
        snprintf(sql, sizeof sql, "SELECT $1::%s", k->sql_type);
        const char *vals[1] = {(const char *)k->bin};
        int lens[1] = {k->binlen}, fmts[1] = {1};
        PGresult *r = PQexecParams(c, sql, 1, &k->oid, vals, lens, fmts, 1);
        int ok = PQresultStatus(r) == PGRES_TUPLES_OK && PQftype(r, 0) == k->oid &&
                 PQfformat(r, 0) == 1 && PQgetlength(r, 0, 0) == k->binlen &&
                 memcmp(PQgetvalue(r, 0, 0), k->bin, (size_t)k->binlen) == 0;
        check(ok, "binary %s round trip (%s)", k->sql_type,
              PQresultErrorMessage(r));
        PQclear(r);
        r = PQexecParams(c, sql, 1, &k->oid, vals, lens, fmts, 0);
        ok = PQresultStatus(r) == PGRES_TUPLES_OK &&
             strcmp(PQgetvalue(r, 0, 0), k->text) == 0;
        check(ok, "binary %s in, text out: %s (%s)", k->sql_type,
              PQresultStatus(r) == PGRES_TUPLES_OK ? PQgetvalue(r, 0, 0) : "",
              PQresultErrorMessage(r));
        PQclear(r);
        /* Text in, binary out. */
        const char *tv[1] = {k->text};
        r = PQexecParams(c, sql, 1, &k->oid, tv, NULL, NULL, 1);
        ok = PQresultStatus(r) == PGRES_TUPLES_OK &&
             PQgetlength(r, 0, 0) == k->binlen &&
             memcmp(PQgetvalue(r, 0, 0), k->bin, (size_t)k->binlen) == 0;
        check(ok, "text %s in, binary out (%s)", k->sql_type,
              PQresultErrorMessage(r));
        PQclear(r);
    }
    /* A NULL in binary, and a malformed binary int4. */
    Oid t4 = 23;
    const char *nv[1] = {NULL};
    int one = 1;
    PGresult *r = PQexecParams(c, "SELECT $1::int4", 1, &t4, nv, NULL, &one, 1);
    check(PQresultStatus(r) == PGRES_TUPLES_OK && PQgetisnull(r, 0, 0),
          "binary NULL");
    PQclear(r);
    int three = 3;
    const char *sv[1] = {"abc"};
    r = PQexecParams(c, "SELECT $1::int4", 1, &t4, sv, &three, &one, 1);
    check(strcmp(state_of(r), "22P03") == 0, "3-byte int4: 22P03 (%s)",
          state_of(r));
    PQclear(r);
    PQfinish(c);
}

static void t_cancel(void)
{
    PGconn *c = must_connect();
    PGcancel *cc = PQgetCancel(c);
    PQsendQuery(c, "SELECT count(*) FROM generate_series(1, 100000000)");
    /* A cancel that arrives before the statement starts is void; repeat
     * until the statement ends. */
    int sock = PQsocket(c);
    char eb[256];
    for (int i = 0; i < 600; i++) {
        PQcancel(cc, eb, sizeof eb);
        struct pollfd p = {sock, POLLIN, 0};
        if (poll(&p, 1, 100) > 0)
            break;
    }
    PGresult *r, *last = NULL;
    while ((r = PQgetResult(c))) {
        PQclear(last);
        last = r;
    }
    const char *msg =
        last ? PQresultErrorField(last, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    check(last && strcmp(state_of(last), "57014") == 0 && msg &&
              strcmp(msg, "canceling statement due to user request") == 0,
          "cancelled: 57014 (%s)", last ? PQresultErrorMessage(last) : "");
    PQclear(last);
    r = PQexec(c, "SELECT 42");
    check(PQresultStatus(r) == PGRES_TUPLES_OK &&
              strcmp(PQgetvalue(r, 0, 0), "42") == 0,
          "session usable after cancel");
    PQclear(r);
    PQfreeCancel(cc);
    PQfinish(c);
}

/* The last result of what was sent on c, waiting at most `secs` seconds
 * (then the statement is cancelled and NULL returned: a statement that
 * should have ended on its own did not). */
static PGresult *last_result_within(PGconn *c, int secs)
{
    int sock = PQsocket(c);
    for (int i = 0; i < secs * 10 && PQisBusy(c); i++) {
        struct pollfd p = {sock, POLLIN, 0};
        if (poll(&p, 1, 100) > 0 && !PQconsumeInput(c))
            break;
    }
    int gave_up = PQisBusy(c);
    if (gave_up) {
        PGcancel *cc = PQgetCancel(c);
        char eb[256];
        PQcancel(cc, eb, sizeof eb);
        PQfreeCancel(cc);
    }
    PGresult *r, *last = NULL;
    while ((r = PQgetResult(c))) {
        PQclear(last);
        last = r;
    }
    if (gave_up) {
        PQclear(last);
        return NULL;
    }
    return last;
}

/* A statement that runs longer than statement_timeout fails with 57014
 * "canceling statement due to statement timeout". */
static void expect_timeout(PGconn *c, const char *sql, const char *what)
{
    PQsendQuery(c, sql);
    PGresult *r = last_result_within(c, 60);
    const char *m = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    check(r && strcmp(state_of(r), "57014") == 0 && m &&
              strcmp(m, "canceling statement due to statement timeout") == 0,
          "%s: 57014 statement timeout (%s)", what,
          r ? PQresultErrorMessage(r) : "still running after 60 s");
    PQclear(r);
}

/* statement_timeout: per statement, in both protocols, over lock waits;
 * 0 turns it off. */
static void t_statement_timeout(void)
{
    PGconn *c = must_connect();
    run_ok(c, "SET statement_timeout = 300");
    PGresult *r = run(c, "SHOW statement_timeout", PGRES_TUPLES_OK);
    check(strcmp(PQgetvalue(r, 0, 0), "300ms") == 0, "SHOW: %s",
          PQgetvalue(r, 0, 0));
    PQclear(r);
    /* A long scan (without the timeout: minutes). */
    expect_timeout(c, "SELECT count(*) FROM generate_series(1, 100000) a, "
                      "generate_series(1, 100000) b",
                   "cross join");
    r = run(c, "SELECT 42", PGRES_TUPLES_OK);
    check(strcmp(PQgetvalue(r, 0, 0), "42") == 0, "session usable after it");
    PQclear(r);
    expect_timeout(c, "SELECT pg_sleep(60)", "pg_sleep");
    /* The extended protocol: the Execute. */
    const char *v[] = {"60"};
    PQsendQueryParams(c, "SELECT pg_sleep($1::float8)", 1, NULL, v, NULL,
                      NULL, 0);
    r = last_result_within(c, 60);
    check(r && strcmp(state_of(r), "57014") == 0 &&
              strstr(PQresultErrorMessage(r), "statement timeout"),
          "extended protocol: 57014 (%s)",
          r ? PQresultErrorMessage(r) : "still running after 60 s");
    PQclear(r);
    /* Each statement of a query string has its own timeout: three
     * statements of 0.3 s under a 1 s timeout all finish, and a SET
     * earlier in the string applies to the statements after it. */
    run_ok(c, "SET statement_timeout = '1s'");
    PQsendQuery(c, "SELECT pg_sleep(0.3); SELECT pg_sleep(0.3); "
                   "SELECT pg_sleep(0.3); SELECT 7");
    r = last_result_within(c, 60);
    check(r && PQresultStatus(r) == PGRES_TUPLES_OK &&
              strcmp(PQgetvalue(r, 0, 0), "7") == 0,
          "per statement in a query string (%s)",
          r ? PQresultErrorMessage(r) : "still running after 60 s");
    PQclear(r);
    expect_timeout(c, "SET statement_timeout = 200; SELECT pg_sleep(60)",
                   "SET in the same query string");
    /* Units as PostgreSQL takes and shows them. */
    const char *in[] = {"'1min'", "'90000'", "'1.5s'", "'2h'", "'500 ms'"};
    const char *out[] = {"1min", "90s", "1500ms", "2h", "500ms"};
    for (int i = 0; i < 5; i++) {
        char q[128];
        snprintf(q, sizeof q, "SET statement_timeout = %s", in[i]);
        run_ok(c, q);
        r = run(c, "SHOW statement_timeout", PGRES_TUPLES_OK);
        check(strcmp(PQgetvalue(r, 0, 0), out[i]) == 0, "SET %s: SHOW %s",
              in[i], PQgetvalue(r, 0, 0));
        PQclear(r);
    }
    r = PQexec(c, "SET statement_timeout = '5 parsecs'");
    check(strcmp(state_of(r), "22023") == 0, "bad unit: 22023 (%s)",
          state_of(r));
    PQclear(r);
    /* 0: off. */
    run_ok(c, "SET statement_timeout = 200");
    expect_timeout(c, "SELECT pg_sleep(0.6)", "before SET 0");
    run_ok(c, "SET statement_timeout = 0");
    PQsendQuery(c, "SELECT pg_sleep(0.6), 5");
    r = last_result_within(c, 60);
    check(r && PQresultStatus(r) == PGRES_TUPLES_OK &&
              strcmp(PQgetvalue(r, 0, 1), "5") == 0,
          "statement_timeout = 0 is off (%s)",
          r ? PQresultErrorMessage(r) : "still running after 60 s");
    PQclear(r);
    /* A lock wait. */
    PGconn *h = must_connect();
    run_ok(h, "DROP TABLE IF EXISTS stl");
    run_ok(h, "CREATE TABLE stl (id int PRIMARY KEY, v int)");
    run_ok(h, "INSERT INTO stl VALUES (1, 0)");
    run_ok(h, "BEGIN");
    run_ok(h, "UPDATE stl SET v = 1 WHERE id = 1");
    run_ok(c, "SET statement_timeout = 300");
    expect_timeout(c, "UPDATE stl SET v = 2 WHERE id = 1", "lock wait");
    run_ok(h, "COMMIT");
    r = run(c, "UPDATE stl SET v = v + 10 WHERE id = 1 RETURNING v",
            PGRES_TUPLES_OK);
    check(PQntuples(r) == 1 && strcmp(PQgetvalue(r, 0, 0), "11") == 0,
          "the row after the holder committed: %s",
          PQntuples(r) ? PQgetvalue(r, 0, 0) : "none");
    PQclear(r);
    run_ok(c, "DROP TABLE stl");
    PQfinish(h);
    PQfinish(c);
}

static void t_copy(void)
{
    PGconn *c = must_connect();
    run_ok(c, "DROP TABLE IF EXISTS c1");
    run_ok(c, "CREATE TABLE c1 (a int, b text)");
    PGresult *r = PQexec(c, "COPY c1 FROM STDIN");
    if (PQresultStatus(r) != PGRES_COPY_IN) {
        printf("skip - COPY FROM STDIN not supported by the sql module: %s",
               PQresultErrorMessage(r));
        PQclear(r);
        PQfinish(c);
        return;
    }
    PQclear(r);
    const char *data = "1\tone\n2\ttwo\n3\t\\N\n";
    check(PQputCopyData(c, data, (int)strlen(data)) == 1, "CopyData");
    check(PQputCopyEnd(c, NULL) == 1, "CopyDone");
    r = PQgetResult(c);
    check(PQresultStatus(r) == PGRES_COMMAND_OK &&
              strcmp(PQcmdStatus(r), "COPY 3") == 0,
          "COPY 3 (%s %s)", PQcmdStatus(r), PQresultErrorMessage(r));
    PQclear(r);
    while ((r = PQgetResult(c)))
        PQclear(r);
    /* CopyFail. */
    r = PQexec(c, "COPY c1 FROM STDIN");
    PQclear(r);
    PQputCopyData(c, "9\tx\n", 4);
    PQputCopyEnd(c, "client gave up");
    r = PQgetResult(c);
    check(strcmp(state_of(r), "57014") == 0 &&
              strstr(PQresultErrorMessage(r), "client gave up"),
          "CopyFail: 57014 with the client's message (%s)",
          PQresultErrorMessage(r));
    PQclear(r);
    while ((r = PQgetResult(c)))
        PQclear(r);
    r = PQexec(c, "COPY c1 TO STDOUT");
    check(PQresultStatus(r) == PGRES_COPY_OUT, "CopyOutResponse");
    PQclear(r);
    char *buf, all[256] = "";
    int n;
    while ((n = PQgetCopyData(c, &buf, 0)) > 0) {
        strncat(all, buf, sizeof all - strlen(all) - 1);
        PQfreemem(buf);
    }
    check(strcmp(all, data) == 0, "COPY TO STDOUT data: %s", all);
    r = PQgetResult(c);
    check(strcmp(PQcmdStatus(r), "COPY 3") == 0, "COPY OUT tag");
    PQclear(r);
    while ((r = PQgetResult(c)))
        PQclear(r);
    PQfinish(c);
}

static void t_errors(void)
{
    PGconn *c = must_connect();
    PGresult *r = PQexec(c, "SELECT 1 FROM nosuchtable");
    check(strcmp(state_of(r), "42P01") == 0, "undefined table 42P01");
    const char *m = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
    check(m && strstr(m, "nosuchtable"), "M field (%s)", m ? m : "");
    const char *p = PQresultErrorField(r, PG_DIAG_STATEMENT_POSITION);
    check(p && strcmp(p, "15") == 0, "P field 15 (%s)", p ? p : "none");
    const char *sev = PQresultErrorField(r, PG_DIAG_SEVERITY_NONLOCALIZED);
    check(sev && strcmp(sev, "ERROR") == 0, "V field ERROR");
    PQclear(r);
    r = PQexec(c, "SELEC 1");
    check(strcmp(state_of(r), "42601") == 0, "syntax error 42601");
    PQclear(r);
    check(PQtransactionStatus(c) == PQTRANS_IDLE, "idle after an error");
    PQclear(PQexec(c, "BEGIN"));
    check(PQtransactionStatus(c) == PQTRANS_INTRANS, "T after BEGIN");
    PQclear(PQexec(c, "SELECT 1/0"));
    check(PQtransactionStatus(c) == PQTRANS_INERROR, "E after an error");
    r = PQexec(c, "SELECT 1");
    check(strcmp(state_of(r), "25P02") == 0, "25P02 in a failed block");
    PQclear(r);
    PQclear(PQexec(c, "ROLLBACK"));
    check(PQtransactionStatus(c) == PQTRANS_IDLE, "I after ROLLBACK");
    PQfinish(c);
    /* A missing database. */
    char ci[256];
    snprintf(ci, sizeof ci, "host=%s port=%s user=tester dbname=nosuchdb "
             "sslmode=disable", g_host, g_port);
    PGconn *d = PQconnectdb(ci);
    if (PQstatus(d) == CONNECTION_OK)
        printf("skip - the sql module accepts every database name\n");
    else
        check(strstr(PQerrorMessage(d), "does not exist") != NULL,
              "missing database: %s", PQerrorMessage(d));
    PQfinish(d);
}

static void t_idle(int n)
{
    PGconn **cs = calloc((size_t)n, sizeof *cs);
    int ok = 0;
    for (int i = 0; i < n; i++) {
        cs[i] = connect_db("tester");
        if (PQstatus(cs[i]) == CONNECTION_OK)
            ok++;
        else if (ok == i)
            printf("# connection %d: %s", i, PQerrorMessage(cs[i]));
    }
    check(ok == n, "%d of %d connections open at once", ok, n);
    int used = 0;
    for (int i = 0; i < n; i++) {
        PGresult *r = PQexec(cs[i], "SELECT 1");
        if (PQresultStatus(r) == PGRES_TUPLES_OK)
            used++;
        PQclear(r);
    }
    check(used == n, "each of the %d connections answers (%d)", n, used);
    for (int i = 0; i < n; i++)
        PQfinish(cs[i]);
    free(cs);
}

static void t_maxconn(int n)
{
    PGconn **cs = calloc((size_t)n, sizeof *cs);
    int ok = 0;
    for (int i = 0; i < n; i++) {
        cs[i] = connect_db("tester");
        ok += PQstatus(cs[i]) == CONNECTION_OK;
    }
    check(ok == n, "max_connections (%d) sessions accepted", n);
    PGconn *x = connect_db("tester");
    check(PQstatus(x) != CONNECTION_OK &&
              strstr(PQerrorMessage(x), "sorry, too many clients already"),
          "one more: 53300 (%s)", PQerrorMessage(x));
    PQfinish(x);
    PQfinish(cs[0]);
    /* The slot frees once the server has closed the session; retry until
     * it has (a bounded number of attempts, each a full round trip). */
    int back = 0;
    for (int i = 0; i < 200 && !back; i++) {
        x = connect_db("tester");
        back = PQstatus(x) == CONNECTION_OK;
        if (!back)
            PQfinish(x);
    }
    check(back, "a freed slot can be used again");
    if (back)
        PQfinish(x);
    for (int i = 1; i < n; i++)
        PQfinish(cs[i]);
    free(cs);
}

static void expect_fatal(raw *r, const char *state, const char *what)
{
    char seen[64], code[16] = "";
    int rc = raw_until(r, 'E', seen, sizeof seen, code, sizeof code);
    check(rc == 0 && strcmp(code, state) == 0, "%s: %s (got %s)", what, state,
          code);
    char t;
    uint8_t *b;
    uint32_t l;
    check(raw_read(r, &t, &b, &l) != 0, "%s: connection closed", what);
    close(r->fd);
}

static void t_malformed(void)
{
    PGconn *good = must_connect();
    raw r;
    /* 1: an unknown message type. */
    raw_connect(&r);
    check(raw_startup(&r, 196608, NULL, NULL, NULL, 0) == 0, "raw start-up");
    raw_msg(&r, 'y', "abc", 3);
    expect_fatal(&r, "08P01", "unknown message type");
    /* 2: a length word below 4. */
    raw_connect(&r);
    raw_startup(&r, 196608, NULL, NULL, NULL, 0);
    raw_send(&r, "Q\0\0\0\2", 5);
    expect_fatal(&r, "08P01", "length below 4");
    /* 3: an oversized message (beyond max_message_bytes). */
    raw_connect(&r);
    raw_startup(&r, 196608, NULL, NULL, NULL, 0);
    raw_send(&r, "Q\x7f\xff\xff\xff", 5);
    expect_fatal(&r, "08P01", "oversized message");
    /* 4: a Query without its NUL. */
    raw_connect(&r);
    raw_startup(&r, 196608, NULL, NULL, NULL, 0);
    raw_msg(&r, 'Q', "SELECT 1", 8);
    expect_fatal(&r, "08P01", "Query without terminator");
    /* 5: a Bind whose parameter length runs past the message. */
    raw_connect(&r);
    raw_startup(&r, 196608, NULL, NULL, NULL, 0);
    uint8_t b[64];
    size_t n = 0;
    n += cstr(b + n, "");
    n += cstr(b + n, "");
    b[n++] = 0, b[n++] = 0;          /* no formats          */
    b[n++] = 0, b[n++] = 1;          /* one parameter       */
    put32(b + n, 1000), n += 4;      /* 1000 bytes, absent  */
    raw_msg(&r, 'B', b, n);
    expect_fatal(&r, "08P01", "truncated Bind");
    /* 6: a bad start-up packet: missing final terminator. */
    raw_connect(&r);
    uint8_t sp[32];
    put32(sp, 17);
    put32(sp + 4, 196608);
    memcpy(sp + 8, "user\0bob", 9);
    raw_send(&r, sp, 17);
    expect_fatal(&r, "08P01", "start-up packet without terminator");
    /* 7: a password message outside authentication. */
    raw_connect(&r);
    raw_startup(&r, 196608, NULL, NULL, NULL, 0);
    raw_msg(&r, 'p', "x", 2);
    expect_fatal(&r, "08P01", "out-of-order PasswordMessage");
    /* 8: start-up packet length too large. */
    raw_connect(&r);
    put32(sp, 1000000);
    raw_send(&r, sp, 4);
    expect_fatal(&r, "08P01", "start-up length too large");
    /* The other session went on all along. */
    PGresult *res = PQexec(good, "SELECT 7");
    check(PQresultStatus(res) == PGRES_TUPLES_OK &&
              strcmp(PQgetvalue(res, 0, 0), "7") == 0,
          "another session keeps working");
    PQclear(res);
    PQfinish(good);
}

/* Execute with a row limit and Describe Portal, which libpq never sends. */
static void t_rowlimit(void)
{
    raw r;
    raw_connect(&r);
    check(raw_startup(&r, 196608, NULL, NULL, NULL, 0) == 0, "raw start-up");
    uint8_t m[256];
    size_t n = 0;
    n += cstr(m + n, "s1");
    n += cstr(m + n, "SELECT g FROM generate_series(1, 5) AS g");
    m[n++] = 0, m[n++] = 0;
    raw_msg(&r, 'P', m, n);
    n = 0;                           /* Bind p1 to s1, binary results */
    n += cstr(m + n, "p1");
    n += cstr(m + n, "s1");
    m[n++] = 0, m[n++] = 0;
    m[n++] = 0, m[n++] = 0;
    m[n++] = 0, m[n++] = 1, m[n++] = 0, m[n++] = 1;
    raw_msg(&r, 'B', m, n);
    n = 0;
    m[n++] = 'P';
    n += cstr(m + n, "p1");
    raw_msg(&r, 'D', m, n);
    n = cstr(m, "p1");
    put32(m + n, 2);
    raw_msg(&r, 'E', m, n + 4);
    raw_msg(&r, 'E', m, n + 4);
    raw_msg(&r, 'E', m, n + 4);
    raw_msg(&r, 'S', NULL, 0);
    char seen[64] = "";
    raw_until(&r, 'Z', seen, sizeof seen, NULL, 0);
    check(strcmp(seen, "12TDDsDDsDCZ") == 0,
          "Parse, Bind, Describe portal, Execute 2/2/2: %s", seen);
    /* Describe statement of a statement with no rows, Close, Flush. */
    n = 0;
    n += cstr(m + n, "");
    n += cstr(m + n, "SET application_name = 'raw'");
    m[n++] = 0, m[n++] = 0;
    raw_msg(&r, 'P', m, n);
    n = 0;
    m[n++] = 'S';
    n += cstr(m + n, "");
    raw_msg(&r, 'D', m, n);
    n = 0;
    m[n++] = 'S';
    n += cstr(m + n, "s1");
    raw_msg(&r, 'C', m, n);
    raw_msg(&r, 'H', NULL, 0);
    seen[0] = 0;
    raw_until(&r, '3', seen, sizeof seen, NULL, 0);
    check(strcmp(seen, "1tn3") == 0, "Parse, Describe S (NoData), Close, "
          "Flush: %s", seen);
    n = 0;                           /* s1 is gone after Close */
    n += cstr(m + n, "");
    n += cstr(m + n, "s1");
    memset(m + n, 0, 6), n += 6;
    raw_msg(&r, 'B', m, n);
    raw_msg(&r, 'S', NULL, 0);
    seen[0] = 0;
    char gone[16] = "";
    raw_until(&r, 'Z', seen, sizeof seen, gone, sizeof gone);
    check(strcmp(seen, "EZ") == 0 && strcmp(gone, "26000") == 0,
          "closed statement is gone: %s %s", seen, gone);
    /* An error skips to Sync. */
    n = 0;
    n += cstr(m + n, "");
    n += cstr(m + n, "SELECT 1/0");
    m[n++] = 0, m[n++] = 0;
    raw_msg(&r, 'P', m, n);
    n = 0;
    n += cstr(m + n, "");
    n += cstr(m + n, "");
    memset(m + n, 0, 6), n += 6;
    raw_msg(&r, 'B', m, n);
    n = cstr(m, "");
    put32(m + n, 0);
    raw_msg(&r, 'E', m, n + 4);
    n = 0;
    n += cstr(m + n, "x");
    n += cstr(m + n, "SELECT 1");
    m[n++] = 0, m[n++] = 0;
    raw_msg(&r, 'P', m, n);          /* skipped */
    raw_msg(&r, 'S', NULL, 0);
    seen[0] = 0;
    char code[16] = "";
    raw_until(&r, 'Z', seen, sizeof seen, code, sizeof code);
    check(strcmp(seen, "12EZ") == 0 && strcmp(code, "22012") == 0,
          "error then skip until Sync: %s %s", seen, code);
    /* Empty query through the extended protocol. */
    n = 0;
    n += cstr(m + n, "");
    n += cstr(m + n, "");
    m[n++] = 0, m[n++] = 0;
    raw_msg(&r, 'P', m, n);
    n = 0;
    n += cstr(m + n, "");
    n += cstr(m + n, "");
    memset(m + n, 0, 6), n += 6;
    raw_msg(&r, 'B', m, n);
    n = cstr(m, "");
    put32(m + n, 0);
    raw_msg(&r, 'E', m, n + 4);
    raw_msg(&r, 'S', NULL, 0);
    seen[0] = 0;
    raw_until(&r, 'Z', seen, sizeof seen, NULL, 0);
    check(strcmp(seen, "12IZ") == 0, "empty query: EmptyQueryResponse (%s)",
          seen);
    /* A suspended portal ends with its transaction: COMMIT or ROLLBACK of
     * a block, COMMIT of the implicit transaction, Sync. */
    const char *sel = "SELECT g FROM generate_series(1, 100) AS g";
    const char *ends[] = {"COMMIT", "ROLLBACK"};
    for (int i = 0; i < 2; i++) {
        const char *portal = i ? "" : "c1";
        n = cstr(m, "BEGIN");
        raw_msg(&r, 'Q', m, n);
        seen[0] = 0;
        raw_until(&r, 'Z', seen, sizeof seen, NULL, 0);
        raw_pbe(&r, portal, sel, 10);
        raw_pbe(&r, "e", ends[i], 0);
        raw_execute(&r, portal, 10);
        raw_msg(&r, 'S', NULL, 0);
        seen[0] = 0;
        code[0] = 0;
        raw_until(&r, 'Z', seen, sizeof seen, code, sizeof code);
        check(strcmp(seen, "12DDDDDDDDDDs12CEZ") == 0 &&
                  strcmp(code, "34000") == 0,
              "portal \"%s\" after %s: 34000 (%s %s)", portal, ends[i], seen,
              code);
    }
    raw_pbe(&r, "c2", sel, 3);
    raw_pbe(&r, "", "COMMIT", 0);    /* WARNING 25P01, then commits */
    raw_execute(&r, "c2", 3);
    raw_msg(&r, 'S', NULL, 0);
    seen[0] = 0;
    code[0] = 0;
    raw_until(&r, 'Z', seen, sizeof seen, code, sizeof code);
    check(strcmp(seen, "12DDDs12NCEZ") == 0 && strcmp(code, "34000") == 0,
          "portal after COMMIT of the implicit transaction: 34000 (%s %s)",
          seen, code);
    raw_pbe(&r, "c3", sel, 3);
    raw_msg(&r, 'S', NULL, 0);
    raw_execute(&r, "c3", 3);
    raw_msg(&r, 'S', NULL, 0);
    seen[0] = 0;
    code[0] = 0;
    raw_until(&r, 'Z', seen, sizeof seen, NULL, 0);
    raw_until(&r, 'Z', seen + strlen(seen), sizeof seen - strlen(seen), code,
              sizeof code);
    check(strcmp(seen, "12DDDsZEZ") == 0 && strcmp(code, "34000") == 0,
          "portal after Sync: 34000 (%s %s)", seen, code);
    /* Within the block the portal goes on. */
    n = cstr(m, "BEGIN");
    raw_msg(&r, 'Q', m, n);
    raw_until(&r, 'Z', seen, sizeof seen, NULL, 0);
    raw_pbe(&r, "c4", sel, 3);
    raw_pbe(&r, "", "SELECT 1", 0);
    raw_execute(&r, "c4", 0);
    raw_pbe(&r, "", "COMMIT", 0);
    raw_msg(&r, 'S', NULL, 0);
    char all[256] = "", want[256] = "12DDDs12DC";
    raw_until(&r, 'Z', all, sizeof all, NULL, 0);
    for (int i = 0; i < 97; i++)
        strcat(want, "D");
    strcat(want, "C12CZ");
    check(strcmp(all, want) == 0, "portal in its block: the rest of its rows "
          "(%s)", all);
    raw_msg(&r, 'X', NULL, 0);
    close(r.fd);
}

static void t_startup(void)
{
    raw r;
    char seen[128];
    /* 3.0 with unknown parameters: accepted, no NegotiateProtocolVersion. */
    raw_connect(&r);
    check(raw_startup(&r, 196608, "some_unknown_option", "1", seen,
                      sizeof seen) == 0 && !strchr(seen, 'v'),
          "unknown start-up parameter accepted (%s)", seen);
    close(r.fd);
    /* 3.5: NegotiateProtocolVersion first, then the session. */
    raw_connect(&r);
    check(raw_startup(&r, 196608 + 5, "_pq_.x", "1", seen, sizeof seen) == 0 &&
              strchr(seen, 'v') && strchr(seen, 'K'),
          "newer minor gets NegotiateProtocolVersion (%s)", seen);
    close(r.fd);
    /* GSSENCRequest: 'N', then a normal start-up. */
    raw_connect(&r);
    uint8_t g[8];
    put32(g, 8);
    put32(g + 4, 80877104);
    raw_send(&r, g, 8);
    char ch = 0;
    check(recv(r.fd, &ch, 1, 0) == 1 && ch == 'N', "GSSENCRequest: N");
    check(raw_startup(&r, 196608, NULL, NULL, NULL, 0) == 0,
          "start-up after GSSENCRequest");
    close(r.fd);
    /* Protocol 2.0: refused. */
    raw_connect(&r);
    raw_startup(&r, 2 << 16, NULL, NULL, NULL, 0);
    close(r.fd);
    /* Without a user. */
    raw_connect(&r);
    uint8_t p[16];
    put32(p, 9);
    put32(p + 4, 196608);
    p[8] = 0;
    raw_send(&r, p, 9);
    expect_fatal(&r, "28000", "no user name");
}

static void t_waitfatal(void)
{
    raw r;
    raw_connect(&r);
    check(raw_startup(&r, 196608, NULL, NULL, NULL, 0) == 0, "raw start-up");
    printf("ready\n");
    fflush(stdout);
    const char *want = getenv("PGW_EXPECT") ? getenv("PGW_EXPECT") : "57P01";
    char seen[64], code[16] = "";
    int rc = raw_until(&r, 'E', seen, sizeof seen, code, sizeof code);
    check(rc == 0 && strcmp(code, want) == 0, "FATAL %s (%s)", want, code);
    close(r.fd);
}

static void t_tls(int want)
{
    PGconn *c = connect_db("tester");
    if (want) {
        check(PQstatus(c) == CONNECTION_OK && PQsslInUse(c),
              "TLS session (%s)", PQerrorMessage(c));
        const char *ver = PQsslAttribute(c, "protocol");
        check(ver && (strcmp(ver, "TLSv1.2") == 0 || strcmp(ver, "TLSv1.3") == 0),
              "TLS 1.2+ (%s)", ver ? ver : "none");
        PGresult *r = PQexec(c, "SELECT 5");
        check(PQresultStatus(r) == PGRES_TUPLES_OK, "query over TLS");
        PQclear(r);
    } else {
        check(PQstatus(c) != CONNECTION_OK &&
                  strstr(PQerrorMessage(c), "no encryption"),
              "plain text refused: %s", PQerrorMessage(c));
    }
    PQfinish(c);
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: libpq_test HOST PORT TEST [N]\n");
        return 2;
    }
    g_host = argv[1];
    g_port = argv[2];
    const char *t = argv[3];
    int n = argc > 4 ? atoi(argv[4]) : 0;
    if (!strcmp(t, "basic")) t_basic();
    else if (!strcmp(t, "extended")) t_extended();
    else if (!strcmp(t, "pipeline")) t_pipeline();
    else if (!strcmp(t, "binary")) t_binary();
    else if (!strcmp(t, "cancel")) {
        t_cancel();
        t_statement_timeout();
    }
    else if (!strcmp(t, "copy")) t_copy();
    else if (!strcmp(t, "errors")) t_errors();
    else if (!strcmp(t, "idle")) t_idle(n);
    else if (!strcmp(t, "maxconn")) t_maxconn(n);
    else if (!strcmp(t, "malformed")) t_malformed();
    else if (!strcmp(t, "rowlimit")) t_rowlimit();
    else if (!strcmp(t, "startup")) t_startup();
    else if (!strcmp(t, "waitfatal")) t_waitfatal();
    else if (!strcmp(t, "tls")) t_tls(1);
    else if (!strcmp(t, "notls")) t_tls(0);
    else {
        fprintf(stderr, "unknown test %s\n", t);
        return 2;
    }
    return g_failures ? 1 : 0;
}
