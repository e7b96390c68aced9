/*
 * test_pgwire_conn.c - one connection (modules/pgwire/conn.c) over a
 * socketpair, against a scripted sql module and auth module, so that
 * COPY, notices, authentication relays and protocol errors are checked
 * byte for byte without a server.  The registry functions of pgwire.c are
 * replaced by the small versions below.
 */
#define _GNU_SOURCE /* memmem */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "pgwire/msg.h"
#include "pgwire/pgwire.h"

/* ==== the registry, as pgwire.c would have it ============================ */

static int g_sessions;
void pgw_register(pgw_server *srv, pgw_conn *c) { (void)srv; pgw_conn_public(c)->pid = 7; }
void pgw_unregister(pgw_server *srv, pgw_conn *c) { (void)srv; (void)c; }
void pgw_cancel(pgw_server *srv, int32_t pid, int32_t key) { (void)srv; (void)pid; (void)key; }
bool pgw_session_admit(pgw_server *srv) { (void)srv; return ++g_sessions <= 1; }
void pgw_session_leave(pgw_server *srv) { (void)srv; g_sessions--; }
void pgw_count_refused(pgw_server *srv, const char *r) { (void)srv; (void)r; }
void pgw_count_statement(pgw_server *srv, const char *t) { (void)srv; (void)t; }
void pgw_count_error(pgw_server *srv, const char *s) { (void)srv; (void)s; }

static char g_log[1024];
static void fake_log(dc_host *h, int level, const char *fmt, ...)
{
    (void)h;
    va_list ap;
    va_start(ap, fmt);
    if (level >= DC_LOG_WARN)
        vsnprintf(g_log, sizeof g_log, fmt, ap);
    va_end(ap);
}

/* ==== a scripted sql module =============================================== */

static char g_copied[256];

static int f_open(void *inst, const dc_sql_session_options *o,
                  dc_sql_session **out, dc_error *err)
{
    (void)inst;
    if (strcmp(o->database, "nodb") == 0) {
        dc_error_set(err, DC_ENOTFOUND, "3D000",
                     "database \"nodb\" does not exist");
        err->severity = DC_SEV_FATAL;
        return DC_ENOTFOUND;
    }
    *out = (dc_sql_session *)(uintptr_t)1;
    return DC_OK;
}

static void f_close(dc_sql_session *s) { (void)s; }
static char f_status(const dc_sql_session *s) { (void)s; return 'I'; }

static int f_exec(dc_sql_session *s, const char *sql, size_t len,
                  const dc_sql_sink *k, dc_error *err)
{
    (void)s;
    (void)len;
    if (strncmp(sql, "SET ", 4) == 0)
        return k->complete(k->ud, "SET");
    if (strcmp(sql, "copyin") == 0) {
        int rc = k->copy_begin(k->ud, DC_COPY_IN, 0, 2);
        if (rc)
            return rc;
        g_copied[0] = '\0';
        for (;;) {
            const uint8_t *d;
            size_t n;
            rc = k->copy_read(k->ud, &d, &n);
            if (rc == DC_ENOTFOUND)
                break;
            if (rc)
                return dc_error_set(err, rc, "XX000", "copy aborted");
            strncat(g_copied, (const char *)d, n);
        }
        return k->complete(k->ud, "COPY 2");
    }
    if (strcmp(sql, "copyout") == 0) {
        int rc = k->copy_begin(k->ud, DC_COPY_OUT, 0, 1);
        if (!rc)
            rc = k->copy_write(k->ud, (const uint8_t *)"a\n", 2);
        if (!rc)
            rc = k->copy_write(k->ud, (const uint8_t *)"b\n", 2);
        return rc ? rc : k->complete(k->ud, "COPY 2");
    }
    if (strcmp(sql, "notice") == 0) {
        dc_error n;
        dc_error_init(&n);
        dc_error_set(&n, 0, "00000", "hello");
        n.severity = DC_SEV_NOTICE;
        k->notice(k->ud, &n);
        return k->complete(k->ud, "DO");
    }
    if (strcmp(sql, "A;B") == 0 && DC_HAS_FIELD(k, dc_sql_sink, statement_end) &&
        k->statement_end) {
        /* Two statements, the second failing: reported one by one. */
        int rc = k->complete(k->ud, "INSERT 0 4");
        k->statement_end(k->ud, 0, 1, NULL);
        dc_error_set(err, DC_EINVAL, "22012", "division by zero");
        k->statement_end(k->ud, 2, 1, err);
        return rc ? rc : DC_EINVAL;
    }
    if (strcmp(sql, "rows") == 0) {
        dc_column c = {.size = sizeof c, .name = "n", .type = DC_TYPE_INT4,
                       .typmod = -1, .typlen = 4};
        dc_value v[2] = {{.type = DC_TYPE_INT4, .u.i = 42},
                         {.type = DC_TYPE_INT4, .is_null = true}};
        dc_row r1 = {1, &v[0]}, r2 = {1, &v[1]};
        int rc = k->describe(k->ud, &c, 1);
        if (!rc)
            rc = k->row(k->ud, &r1);
        if (!rc)
            rc = k->row(k->ud, &r2);
        return rc ? rc : k->complete(k->ud, "SELECT 2");
    }
    return dc_error_set(err, DC_EINVAL, "42601", "syntax error");
}

static int f_format(void *inst, const dc_value *v, char *out, size_t cap,
                    size_t *len)
{
    (void)inst;
    char b[32];
    int n = snprintf(b, sizeof b, "%lld", (long long)v->u.i);
    *len = (size_t)n;
    if ((size_t)n > cap)
        return DC_ERANGE;
    memcpy(out, b, (size_t)n);
    return DC_OK;
}

static const char *f_setting(dc_sql_session *s, const char *name)
{
    (void)s;
    return strcmp(name, "client_encoding") == 0 ? "UTF8" : "x";
}

static const dc_sql_vtable FAKE_SQL = {
    .size = sizeof(dc_sql_vtable), .session_open = f_open,
    .session_close = f_close, .exec = f_exec, .txn_status = f_status,
    .format_text = f_format, .setting = f_setting,
};

/* ==== the audit log, as the host would take it ============================ */

typedef struct audit_rec {
    int kind;
    char user[16], db[16], addr[16], method[16], stmt[16], command[16];
    char state[6], msg[64];
    int64_t conn, rows, dur;
    bool has_stmt, has_command, has_method;
} audit_rec;

static audit_rec g_audit[16];
static int g_naudit;

static void fake_audit(dc_host *h, const dc_audit_event *ev)
{
    (void)h;
    if (g_naudit == 16)
        return;
    audit_rec *r = &g_audit[g_naudit++];
    memset(r, 0, sizeof *r);
    r->kind = (int)ev->kind;
    snprintf(r->user, sizeof r->user, "%s", ev->user ? ev->user : "");
    snprintf(r->db, sizeof r->db, "%s", ev->database ? ev->database : "");
    snprintf(r->addr, sizeof r->addr, "%s", ev->client_addr ? ev->client_addr : "");
    r->has_method = ev->method != NULL;
    snprintf(r->method, sizeof r->method, "%s", ev->method ? ev->method : "");
    r->has_stmt = ev->statement != NULL;
    snprintf(r->stmt, sizeof r->stmt, "%.*s", (int)ev->statement_len,
             ev->statement ? ev->statement : "");
    r->has_command = ev->command != NULL;
    snprintf(r->command, sizeof r->command, "%s", ev->command ? ev->command : "");
    snprintf(r->state, sizeof r->state, "%s", ev->sqlstate);
    snprintf(r->msg, sizeof r->msg, "%s", ev->message ? ev->message : "");
    r->conn = ev->connection_id;
    r->rows = ev->rows;
    r->dur = ev->duration_ns;
}

static int64_t g_clock;
static int64_t fake_clock(dc_host *h, int which)
{
    (void)h;
    (void)which;
    return g_clock += 1000; /* every read 1 us later */
}

/* ==== a scripted auth module: SASL in three steps ========================= */

typedef struct fconv { int step; } fconv;

static int a_begin(void *inst, const char *user, const char *addr, bool tls,
                   dc_auth_conv **out, dc_error *err)
{
    (void)inst; (void)user; (void)addr; (void)tls; (void)err;
    *out = calloc(1, sizeof(fconv));
    return *out ? DC_OK : DC_ENOMEM;
}

static int a_step(dc_auth_conv *cv, const uint8_t *in, size_t len,
                  dc_auth_step_out *out, dc_error *err)
{
    fconv *c = (fconv *)cv;
    switch (c->step++) {
    case 0:
        out->request = DC_AUTH_SASL;
        out->data = (const uint8_t *)"SCRAM-SHA-256\0";
        out->len = 15;
        return DC_OK;
    case 1:
        if (len != 5 || memcmp(in, "first", 5) != 0) {
            dc_error_set(err, DC_EPERM, "28P01",
                         "password authentication failed for user \"u\"");
            err->severity = DC_SEV_FATAL;
            return DC_EPERM;
        }
        out->request = DC_AUTH_SASL_CONTINUE;
        out->data = (const uint8_t *)"r=1";
        out->len = 3;
        return DC_OK;
    case 2:
        out->request = DC_AUTH_SASL_FINAL;
        out->data = (const uint8_t *)"v=1";
        out->len = 3;
        return DC_OK;
    default:
        out->request = DC_AUTH_OK;
        out->len = 0;
        return DC_OK;
    }
}

static int a_identity(dc_auth_conv *c, dc_auth_identity *id)
{
    (void)c;
    snprintf(id->user, sizeof id->user, "u");
    id->can_read = true;
    return DC_OK;
}

static void a_end(dc_auth_conv *c) { free(c); }

static const dc_auth_vtable FAKE_AUTH = {
    .size = sizeof(dc_auth_vtable), .begin = a_begin, .step = a_step,
    .identity = a_identity, .end = a_end,
};

/* ==== harness ============================================================= */

typedef struct harness {
    dc_host_api api;
    pgw_server srv;
    int fd;                 /* the client's end */
    pthread_t t;
    int server_fd;
} harness;

static void *serve(void *arg)
{
    harness *h = arg;
    pgw_conn_serve(&h->srv, h->server_fd, "10.0.0.1");
    return NULL;
}

static void h_start(harness *h, bool with_auth)
{
    memset(h, 0, sizeof *h);
    h->api.size = sizeof h->api;
    h->api.log = fake_log;
    h->srv.api = &h->api;
    h->srv.sql = &FAKE_SQL;
    h->srv.auth = with_auth ? &FAKE_AUTH : NULL;
    h->srv.max_message = 1 << 20;
    h->srv.startup_timeout_ms = 10000;
    pthread_mutex_init(&h->srv.mu, NULL);
    assert_int_equal(pipe(h->srv.stop_pipe), 0);
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    h->fd = sv[0];
    h->server_fd = sv[1];
    g_sessions = 0;
    assert_int_equal(pthread_create(&h->t, NULL, serve, h), 0);
}

static void h_stop(harness *h)
{
    close(h->fd);
    pthread_join(h->t, NULL);
    close(h->srv.stop_pipe[0]);
    close(h->srv.stop_pipe[1]);
    pthread_mutex_destroy(&h->srv.mu);
}

static void h_send(harness *h, char type, const void *body, size_t n)
{
    pgw_buf b = {0};
    pgw_msg_begin(&b, type);
    pgw_put_bytes(&b, body, n);
    pgw_msg_end(&b);
    assert_int_equal(write(h->fd, b.data, b.len), (ssize_t)b.len);
    pgw_buf_free(&b);
}

static void h_startup(harness *h, const char *db)
{
    pgw_buf b = {0};
    pgw_put_i32(&b, 0);
    pgw_put_i32(&b, (int32_t)PGW_PROTO_30);
    pgw_put_str(&b, "user");
    pgw_put_str(&b, "u");
    pgw_put_str(&b, "database");
    pgw_put_str(&b, db);
    pgw_put_u8(&b, 0);
    pgw_patch_i32(&b, 0, (int32_t)b.len);
    assert_int_equal(write(h->fd, b.data, b.len), (ssize_t)b.len);
    pgw_buf_free(&b);
}

/* Read one message; returns its type, body in *body (static). */
static char h_read(harness *h, uint8_t **body, uint32_t *len)
{
    static uint8_t buf[1 << 16];
    size_t have = 0, want = 5;
    while (have < want) {
        ssize_t k = read(h->fd, buf + have, want - have);
        if (k <= 0)
            return 0;
        have += (size_t)k;
        if (want == 5 && have == 5) {
            uint32_t l = ((uint32_t)buf[1] << 24) | ((uint32_t)buf[2] << 16) |
                         ((uint32_t)buf[3] << 8) | buf[4];
            assert_true(l >= 4 && l < sizeof buf - 1);
            want = 1 + l;
        }
    }
    *body = buf + 5;
    *len = (uint32_t)want - 5;
    return (char)buf[0];
}

/* Types of the messages up to and including `stop` (not 'S'). */
static void h_until(harness *h, char stop, char *seen, size_t cap)
{
    size_t n = 0;
    for (;;) {
        uint8_t *b;
        uint32_t l;
        char t = h_read(h, &b, &l);
        assert_true(t != 0);
        if (t != 'S' && n + 1 < cap)
            seen[n++] = t;
        seen[n] = '\0';
        if (t == stop)
            return;
    }
}

static void query(harness *h, const char *sql)
{
    h_send(h, 'Q', sql, strlen(sql) + 1);
}

/* ==== tests =============================================================== */

static void test_startup_and_rows(void **state)
{
    (void)state;
    harness h;
    h_start(&h, false);
    h_startup(&h, "db");
    char seen[64];
    h_until(&h, 'Z', seen, sizeof seen);
    assert_string_equal(seen, "RKZ");
    query(&h, "rows");
    uint8_t *b;
    uint32_t l;
    assert_int_equal(h_read(&h, &b, &l), 'T');
    assert_int_equal(h_read(&h, &b, &l), 'D');
    assert_int_equal(l, 2 + 4 + 2);
    assert_memory_equal(b, "\0\1\0\0\0\00242", 8);
    assert_int_equal(h_read(&h, &b, &l), 'D');
    assert_memory_equal(b, "\0\1\xff\xff\xff\xff", 6);
    assert_int_equal(h_read(&h, &b, &l), 'C');
    assert_string_equal((char *)b, "SELECT 2");
    assert_int_equal(h_read(&h, &b, &l), 'Z');
    query(&h, "notice");
    h_until(&h, 'Z', seen, sizeof seen);
    assert_string_equal(seen, "NCZ");
    query(&h, "bad");
    h_until(&h, 'Z', seen, sizeof seen);
    assert_string_equal(seen, "EZ");
    h_stop(&h);
}

static void test_copy_in(void **state)
{
    (void)state;
    harness h;
    h_start(&h, false);
    h_startup(&h, "db");
    char seen[64];
    h_until(&h, 'Z', seen, sizeof seen);
    query(&h, "copyin");
    uint8_t *b;
    uint32_t l;
    assert_int_equal(h_read(&h, &b, &l), 'G');
    assert_int_equal(l, 1 + 2 + 4);
    assert_memory_equal(b, "\0\0\2\0\0\0\0", 7);
    h_send(&h, 'd', "1\ta\n", 4);
    h_send(&h, 'H', NULL, 0);               /* ignored during COPY IN */
    h_send(&h, 'd', "2\tb\n", 4);
    h_send(&h, 'c', NULL, 0);
    h_until(&h, 'Z', seen, sizeof seen);
    assert_string_equal(seen, "CZ");
    assert_string_equal(g_copied, "1\ta\n2\tb\n");
    /* CopyFail: 57014 with the client's message. */
    query(&h, "copyin");
    assert_int_equal(h_read(&h, &b, &l), 'G');
    h_send(&h, 'f', "stop it", 8);
    assert_int_equal(h_read(&h, &b, &l), 'E');
    bool found_c = false, found_m = false;
    for (uint32_t i = 0; i < l && b[i];) {
        const char *f = (const char *)b + i;
        if (f[0] == 'C')
            found_c = strcmp(f + 1, "57014") == 0;
        if (f[0] == 'M')
            found_m = strcmp(f + 1, "COPY from stdin failed: stop it") == 0;
        i += (uint32_t)strlen(f) + 1;
    }
    assert_true(found_c);
    assert_true(found_m);
    assert_int_equal(h_read(&h, &b, &l), 'Z');
    /* Leftover CopyData after a failed COPY is ignored. */
    h_send(&h, 'd', "x", 1);
    query(&h, "notice");
    h_until(&h, 'Z', seen, sizeof seen);
    assert_string_equal(seen, "NCZ");
    /* Another message type during COPY IN: FATAL 08P01, closed. */
    query(&h, "copyin");
    assert_int_equal(h_read(&h, &b, &l), 'G');
    query(&h, "rows");
    assert_int_equal(h_read(&h, &b, &l), 'E');
    assert_non_null(strstr((const char *)b + 1, "FATAL"));
    assert_int_equal(h_read(&h, &b, &l), 0);
    h_stop(&h);
}

static void test_copy_out(void **state)
{
    (void)state;
    harness h;
    h_start(&h, false);
    h_startup(&h, "db");
    char seen[64];
    h_until(&h, 'Z', seen, sizeof seen);
    query(&h, "copyout");
    h_until(&h, 'Z', seen, sizeof seen);
    assert_string_equal(seen, "HddcCZ");
    h_stop(&h);
}

static void test_auth_relay(void **state)
{
    (void)state;
    harness h;
    h_start(&h, true);
    h_startup(&h, "db");
    uint8_t *b;
    uint32_t l;
    assert_int_equal(h_read(&h, &b, &l), 'R');
    assert_int_equal(l, 4 + 15);
    assert_memory_equal(b, "\0\0\0\12SCRAM-SHA-256\0\0", 19);
    h_send(&h, 'p', "first", 5);
    assert_int_equal(h_read(&h, &b, &l), 'R');
    assert_memory_equal(b, "\0\0\0\13r=1", 7);
    h_send(&h, 'p', "final", 5);
    assert_int_equal(h_read(&h, &b, &l), 'R');
    assert_memory_equal(b, "\0\0\0\14v=1", 7);
    assert_int_equal(h_read(&h, &b, &l), 'R');
    assert_int_equal(l, 4);
    assert_memory_equal(b, "\0\0\0\0", 4);
    char seen[64];
    h_until(&h, 'Z', seen, sizeof seen);
    assert_string_equal(seen, "KZ");
    h_stop(&h);
}

static void test_auth_failure(void **state)
{
    (void)state;
    harness h;
    h_start(&h, true);
    g_log[0] = '\0';
    h_startup(&h, "db");
    uint8_t *b;
    uint32_t l;
    assert_int_equal(h_read(&h, &b, &l), 'R');
    h_send(&h, 'p', "wrong", 5);
    assert_int_equal(h_read(&h, &b, &l), 'E');
    assert_non_null(memmem(b, l, "C28P01", 7));
    assert_non_null(memmem(b, l, "SFATAL", 7));
    assert_int_equal(h_read(&h, &b, &l), 0);
    assert_non_null(strstr(g_log, "authentication failed for user \"u\" from "
                                  "10.0.0.1"));
    h_stop(&h);
    /* Not a password message during authentication. */
    h_start(&h, true);
    h_startup(&h, "db");
    assert_int_equal(h_read(&h, &b, &l), 'R');
    query(&h, "rows");
    assert_int_equal(h_read(&h, &b, &l), 'E');
    assert_non_null(memmem(b, l, "C08P01", 7));
    h_stop(&h);
}

/* With the audit log on: a line per login attempt that ended in a session
 * or a FATAL error, and per statement; a Query whose statements the sql
 * module does not report is one line. */
static void h_start_audited(harness *h, bool with_auth)
{
    h_start(h, with_auth);
    h->api.audit = fake_audit;
    h->api.clock_ns = fake_clock;
    h->srv.audit = true;
}

static void test_audit(void **state)
{
    (void)state;
    harness h;
    g_naudit = 0;
    /* A failed login. */
    h_start_audited(&h, true);
    h_startup(&h, "db");
    uint8_t *b;
    uint32_t l;
    assert_int_equal(h_read(&h, &b, &l), 'R');
    h_send(&h, 'p', "wrong", 5);
    assert_int_equal(h_read(&h, &b, &l), 'E');
    h_stop(&h);
    assert_int_equal(g_naudit, 1);
    audit_rec *r = &g_audit[0];
    assert_int_equal(r->kind, DC_AUDIT_LOGIN);
    assert_string_equal(r->user, "u");
    assert_string_equal(r->db, "db");
    assert_string_equal(r->addr, "10.0.0.1");
    assert_string_equal(r->method, "scram-sha-256");
    assert_string_equal(r->state, "28P01");
    assert_non_null(strstr(r->msg, "password authentication failed"));
    assert_int_equal(r->conn, 7);
    assert_false(r->has_stmt);
    assert_int_equal(r->rows, -1);
    assert_true(r->dur > 0);

    /* A login without a password, then statements. */
    g_naudit = 0;
    h_start_audited(&h, false);
    h_startup(&h, "db");
    char seen[64];
    h_until(&h, 'Z', seen, sizeof seen);
    query(&h, "rows");
    h_until(&h, 'Z', seen, sizeof seen);
    query(&h, "bad");
    h_until(&h, 'Z', seen, sizeof seen);
    query(&h, "A;B");
    h_until(&h, 'Z', seen, sizeof seen);
    assert_string_equal(seen, "CEZ");
    query(&h, "copyin");
    assert_int_equal(h_read(&h, &b, &l), 'G');
    h_send(&h, 'f', "stop it", 8);
    h_until(&h, 'Z', seen, sizeof seen);
    h_stop(&h);
    assert_int_equal(g_naudit, 6);
    r = &g_audit[0];
    assert_int_equal(r->kind, DC_AUDIT_LOGIN);
    assert_string_equal(r->method, "trust");
    assert_string_equal(r->state, "00000");
    assert_string_equal(r->msg, "");
    r = &g_audit[1];
    assert_int_equal(r->kind, DC_AUDIT_STATEMENT);
    assert_string_equal(r->stmt, "rows");
    assert_string_equal(r->command, "SELECT 2");
    assert_int_equal(r->rows, 2);
    assert_string_equal(r->state, "00000");
    assert_false(r->has_method);
    assert_int_equal(r->conn, 7);
    assert_string_equal(r->user, "u");
    assert_true(r->dur > 0);
    r = &g_audit[2];
    assert_string_equal(r->stmt, "bad");
    assert_string_equal(r->state, "42601");
    assert_false(r->has_command);
    assert_int_equal(r->rows, 0);
    /* Reported statement by statement: their own text, tag, error. */
    r = &g_audit[3];
    assert_string_equal(r->stmt, "A");
    assert_string_equal(r->command, "INSERT 0 4");
    assert_int_equal(r->rows, 4);
    assert_string_equal(r->state, "00000");
    r = &g_audit[4];
    assert_string_equal(r->stmt, "B");
    assert_string_equal(r->state, "22012");
    assert_string_equal(r->msg, "division by zero");
    assert_false(r->has_command);
    /* The error as the client saw it. */
    r = &g_audit[5];
    assert_string_equal(r->stmt, "copyin");
    assert_string_equal(r->state, "57014");
    assert_string_equal(r->msg, "COPY from stdin failed: stop it");

    /* Refused logins: an unknown database, too many clients. */
    g_naudit = 0;
    h_start_audited(&h, false);
    h_startup(&h, "nodb");
    h_until(&h, 'E', seen, sizeof seen);
    h_stop(&h);
    h_start_audited(&h, false);
    g_sessions = 1;
    h_startup(&h, "db");
    assert_int_equal(h_read(&h, &b, &l), 'E');
    h_stop(&h);
    assert_int_equal(g_naudit, 2);
    assert_string_equal(g_audit[0].state, "3D000");
    assert_string_equal(g_audit[0].db, "nodb");
    assert_string_equal(g_audit[1].state, "53300");

    /* A client that leaves during start-up: no line. */
    g_naudit = 0;
    h_start_audited(&h, true);
    h_startup(&h, "db");
    assert_int_equal(h_read(&h, &b, &l), 'R');
    h_stop(&h);
    assert_int_equal(g_naudit, 0);
}

static void test_missing_db_and_limit(void **state)
{
    (void)state;
    harness h;
    h_start(&h, false);
    h_startup(&h, "nodb");
    uint8_t *b;
    uint32_t l;
    assert_int_equal(h_read(&h, &b, &l), 'R');
    assert_int_equal(h_read(&h, &b, &l), 'E');
    assert_non_null(memmem(b, l, "C3D000", 7));
    assert_int_equal(h_read(&h, &b, &l), 0);
    h_stop(&h);
    /* The session count: a second session over the limit of one. */
    h_start(&h, false);
    g_sessions = 1;
    h_startup(&h, "db");
    assert_int_equal(h_read(&h, &b, &l), 'E');
    assert_non_null(memmem(b, l, "C53300", 7));
    assert_non_null(memmem(b, l, "Msorry, too many clients already", 33));
    h_stop(&h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_startup_and_rows),
        cmocka_unit_test(test_copy_in),
        cmocka_unit_test(test_copy_out),
        cmocka_unit_test(test_auth_relay),
        cmocka_unit_test(test_auth_failure),
        cmocka_unit_test(test_missing_db_and_limit),
        cmocka_unit_test(test_audit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
