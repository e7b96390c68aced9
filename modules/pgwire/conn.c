/*
 * conn.c - one client connection: start-up (TLS, cancel, protocol
 * version), authentication through the auth module, then the simple and
 * extended query protocols and COPY, until the client leaves, breaks the
 * protocol or the server stops.
 *
 * Everything here runs on the connection's own thread; only the fields in
 * pgw_conn_pub are read by other threads (under srv->mu).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "pgwire/binary.h"
#include "pgwire/msg.h"
#include "pgwire/pgwire.h"
#include "common/alloc.h"

#define FLUSH_AT 65536          /* send buffered output beyond this      */
#define INBUF 16384

typedef struct stmt_ent {
    struct stmt_ent *next;
    char *name;
    dc_sql_stmt *st;
    int refs;                   /* the list's and each portal's          */
    char *text;                 /* its text, kept for the audit log      */
    size_t text_len;
} stmt_ent;

typedef struct portal_ent {
    struct portal_ent *next;
    char *name;
    dc_sql_portal *p;
    stmt_ent *se;
    int16_t *fmts;
    uint32_t nfmts;
    char done_tag[64];          /* verb of the tag once run to the end   */
} portal_ent;

struct pgw_conn {
    pgw_conn_pub pub;           /* first: the registry's view            */
    pgw_server *srv;
    const dc_sql_vtable *sql;
    char peer[128];
    void *ssl;
    uint8_t in[INBUF];
    size_t in_len, in_pos;
    int64_t rcvtimeo_ms;        /* the socket's SO_RCVTIMEO, 0: none     */
    pgw_buf out;
    uint8_t *msg;               /* the current message body              */
    size_t msg_cap;
    bool broken;                /* the socket failed: stop quietly       */
    bool fatal;                 /* a FATAL error is in fatal_err         */
    dc_error fatal_err;

    char user[64];
    bool sync_pipeline;         /* the session ends pipelines at sync()  */
    stmt_ent *stmts;
    portal_ent *portals;

    /* State of the statement running through the sink. */
    const int16_t *fmts;
    uint32_t nfmts;
    bool completed;
    bool in_execute;            /* tags count this Execute's rows        */
    uint64_t rows_sent;
    /* The statement duration histogram (lat_*; CLOCK_MONOTONIC ns). */
    int64_t lat_t0;             /* the running statement's start         */
    int64_t lat_done;           /* when the pending one completed        */
    bool lat_pending;           /* a completed statement not observed yet */
    char last_tag[64];
    bool copy_out;
    bool copy_failed;
    char copy_fail_msg[256];
    char *scratch;
    size_t scratch_cap;
    uint8_t *startup_pkt;       /* the StartupMessage, during start-up   */

    /* The audit log (srv->audit).  The login: its database, the
     * authentication method, when it began.  The Query running: its
     * text, when it began, and for its current statement when that began,
     * rows_sent then, and whether it completed (last_tag). */
    char db[64];
    const char *auth_method;
    bool login_tried;
    int64_t login_mono, login_wall;
    char *a_sql;                /* a copy: COPY reads into c->msg        */
    size_t a_len;
    int64_t a_mono0, a_wall0, a_t0;
    uint64_t a_rows0;
    bool a_done;
    int a_nstmts;               /* statements reported by statement_end  */
    bool a_err_told;            /* the Query's error was reported        */
};

pgw_conn_pub *pgw_conn_public(pgw_conn *c)
{
    return &c->pub;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* ==== socket I/O ========================================================= */

static int flush_out(pgw_conn *c)
{
    if (c->broken) {
        c->out.len = 0;
        return DC_EIO;
    }
    if (c->out.oom) {
        c->out.len = 0;
        c->out.oom = 0;
        c->broken = true;
        return DC_ENOMEM;
    }
    size_t off = 0;
    while (off < c->out.len) {
        long n;
        if (c->ssl)
            n = pgw_tls_write(c->ssl, c->out.data + off, c->out.len - off);
        else
            n = send(c->pub.fd, c->out.data + off, c->out.len - off,
                     MSG_NOSIGNAL);
        if (n < 0 && !c->ssl && errno == EINTR)
            continue;
        if (n <= 0) {
            c->broken = true;
            break;
        }
        off += (size_t)n;
    }
    c->out.len = 0;
    return c->broken ? DC_EIO : DC_OK;
}

/* Waiting for input.  A connection thread blocks in recv() itself: no
 * poll() per message.  The deadlines (start-up, idle) are the socket's
 * SO_RCVTIMEO, which bounds each recv() call; it is set only when it is off
 * from the time left by more than RCVTIMEO_SLACK_MS, so a session sets it
 * about twice (start-up, then the idle timeout or none), not per message.
 * At shutdown the server sets srv->stopping, then shuts the reading side
 * of every registered socket (pgwire.c): a blocked recv() returns 0, the
 * reader sees `stopping` and the session still sends its FATAL 57P01 on
 * the writing side. */
#define RCVTIMEO_SLACK_MS 20
#define RCVTIMEO_MAX_MS (24 * 3600 * 1000LL)

/* Set the receive timeout for a read due by deadline_ms (absolute,
 * monotonic; -1: none).  DC_ETIMEDOUT once the deadline has passed. */
static int arm_timeout(pgw_conn *c, int64_t deadline_ms)
{
    int64_t want = 0;
    if (deadline_ms >= 0) {
        want = deadline_ms - now_ms();
        if (want <= 0)
            return DC_ETIMEDOUT;
        if (want > RCVTIMEO_MAX_MS) /* recv() times out early; reads retry */
            want = RCVTIMEO_MAX_MS;
        if (c->rcvtimeo_ms && llabs(c->rcvtimeo_ms - want) <= RCVTIMEO_SLACK_MS)
            return DC_OK;
    } else if (c->rcvtimeo_ms == 0) {
        return DC_OK;
    }
    struct timeval tv = {.tv_sec = (time_t)(want / 1000),
                         .tv_usec = (suseconds_t)(want % 1000) * 1000};
    if (setsockopt(c->pub.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) != 0)
        return DC_EIO;
    c->rcvtimeo_ms = want;
    return DC_OK;
}

/* Read what the socket has, up to cap bytes (at least one), waiting until
 * deadline_ms.  DC_OK with *got > 0; DC_ETIMEDOUT; DC_ECLOSED when the
 * server is stopping; DC_EIO at end of input or on a failed socket (then
 * c->broken is set). */
static int recv_some(pgw_conn *c, void *buf, size_t cap, int64_t deadline_ms,
                     size_t *got)
{
    for (;;) {
        if (atomic_load(&c->srv->stopping))
            return DC_ECLOSED;
        int rc = arm_timeout(c, deadline_ms);
        if (rc == DC_EIO)
            c->broken = true;
        if (rc)
            return rc;
        long n;
        if (c->ssl) {
            n = 1;
            /* Wait for the next record without taking it: the wake-up at
             * shutdown (recv() returning 0) then leaves the TLS session
             * intact for sending the FATAL error. */
            if (!pgw_tls_pending(c->ssl)) {
                uint8_t b;
                n = recv(c->pub.fd, &b, 1, MSG_PEEK);
            }
            if (n > 0) {
                n = pgw_tls_read(c->ssl, buf, cap);
                if (n > 0) {
                    *got = (size_t)n;
                    return DC_OK;
                }
                c->broken = true;
                return DC_EIO;
            }
        } else {
            n = recv(c->pub.fd, buf, cap, 0);
            if (n > 0) {
                *got = (size_t)n;
                return DC_OK;
            }
        }
        if (n == 0) {
            if (atomic_load(&c->srv->stopping))
                return DC_ECLOSED;
            c->broken = true;
            return DC_EIO;
        }
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            /* The receive timeout ran out: the deadline, or a timeout set
             * a little short of it (or capped) that the next round
             * corrects. */
            if (deadline_ms >= 0 && now_ms() >= deadline_ms)
                return DC_ETIMEDOUT;
            continue;
        }
        c->broken = true;
        return DC_EIO;
    }
}

/* Read exactly n bytes.  Statuses of recv_some. */
static int read_exact(pgw_conn *c, void *dst, size_t n, int64_t deadline_ms)
{
    uint8_t *d = dst;
    while (n > 0) {
        if (c->in_pos < c->in_len) {
            size_t k = c->in_len - c->in_pos;
            if (k > n)
                k = n;
            memcpy(d, c->in + c->in_pos, k);
            c->in_pos += k;
            d += k;
            n -= k;
            continue;
        }
        /* Large bodies go straight to their buffer. */
        uint8_t *into = n >= INBUF ? d : c->in;
        size_t cap = n >= INBUF ? n : INBUF;
        size_t got = 0;
        int rc = recv_some(c, into, cap, deadline_ms, &got);
        if (rc)
            return rc;
        if (into == d) {
            d += got;
            n -= got;
        } else {
            c->in_len = got;
            c->in_pos = 0;
        }
    }
    return DC_OK;
}

static uint32_t be32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
           ((uint32_t)p[2] << 8) | p[3];
}

static int msg_room(pgw_conn *c, size_t n)
{
    if (n <= c->msg_cap && c->msg)
        return DC_OK;
    uint8_t *m = realloc(c->msg, n ? n : 1);
    if (!m)
        return DC_ENOMEM;
    c->msg = m;
    c->msg_cap = n ? n : 1;
    return DC_OK;
}

/* ==== errors ============================================================= */

static void send_error(pgw_conn *c, const dc_error *e)
{
    pgw_count_error(c->srv, e->sqlstate);
    pgw_put_error(&c->out, 'E', e);
}

/* Remember a FATAL error; the loop sends it and closes. */
static void set_fatal(pgw_conn *c, const dc_error *e)
{
    if (c->fatal)
        return;
    c->fatal = true;
    c->fatal_err = *e;
    c->fatal_err.severity = DC_SEV_FATAL;
}

static void fatalf(pgw_conn *c, const char *state, const char *msg)
{
    dc_error e;
    dc_error_init(&e);
    dc_error_set(&e, DC_ERR, state, "%s", msg);
    set_fatal(c, &e);
}

static void send_fatal(pgw_conn *c)
{
    if (!c->fatal || c->broken)
        return;
    send_error(c, &c->fatal_err);
    flush_out(c);
}

/* Read one message: type, then body into c->msg.  A protocol violation
 * sets the FATAL error.  deadline_first bounds the wait for the first byte,
 * deadline_rest the rest. */
static int read_message(pgw_conn *c, uint8_t *type, size_t *len,
                        int64_t deadline_first, int64_t deadline_rest)
{
    uint8_t hdr[5];
    int rc = read_exact(c, hdr, 1, deadline_first);
    if (rc)
        return rc;
    if ((rc = read_exact(c, hdr + 1, 4, deadline_rest)))
        return rc;
    uint32_t l = be32(hdr + 1);
    dc_error e;
    dc_error_init(&e);
    if ((rc = pgw_frame_check(hdr[0], l, c->srv->max_message, &e))) {
        set_fatal(c, &e);
        return rc;
    }
    if ((rc = msg_room(c, l - 4))) {
        fatalf(c, DC_SQLSTATE_OOM, "out of memory");
        return rc;
    }
    if ((rc = read_exact(c, c->msg, l - 4, deadline_rest)))
        return rc;
    *type = hdr[0];
    *len = l - 4;
    return DC_OK;
}

/* ==== the sink =========================================================== */

static int scratch_room(pgw_conn *c, size_t n)
{
    if (n <= c->scratch_cap)
        return DC_OK;
    size_t cap = c->scratch_cap ? c->scratch_cap : 256;
    while (cap < n)
        cap *= 2;
    char *s = realloc(c->scratch, cap);
    if (!s)
        return DC_ENOMEM;
    c->scratch = s;
    c->scratch_cap = cap;
    return DC_OK;
}

static int sink_describe(void *ud, const dc_column *cols, uint32_t ncols)
{
    pgw_conn *c = ud;
    pgw_put_row_desc(&c->out, cols, ncols, c->fmts, c->nfmts);
    return c->out.oom ? DC_ENOMEM : DC_OK;
}

static int put_text_value(pgw_conn *c, const dc_value *v)
{
    size_t len = 0;
    if (scratch_room(c, 256))
        return DC_ENOMEM;
    int rc = c->sql->format_text(c->srv->sql_inst, v, c->scratch,
                                 c->scratch_cap, &len);
    if (rc == DC_ERANGE) {
        if (scratch_room(c, len))
            return DC_ENOMEM;
        rc = c->sql->format_text(c->srv->sql_inst, v, c->scratch,
                                 c->scratch_cap, &len);
    }
    if (rc)
        return rc;
    pgw_put_i32(&c->out, (int32_t)len);
    pgw_put_bytes(&c->out, c->scratch, len);
    return DC_OK;
}

static int sink_row(void *ud, const dc_row *row)
{
    pgw_conn *c = ud;
    pgw_msg_begin(&c->out, 'D');
    pgw_put_i16(&c->out, (int16_t)row->ncols);
    for (uint32_t i = 0; i < row->ncols; i++) {
        const dc_value *v = &row->values[i];
        if (v->is_null) {
            pgw_put_i32(&c->out, -1);
            continue;
        }
        int f = 0;
        if (c->nfmts == 1)
            f = c->fmts[0];
        else if (c->nfmts > i)
            f = c->fmts[i];
        int rc;
        if (f == 1) {
            size_t at = c->out.len;
            pgw_put_i32(&c->out, 0);
            dc_error e;
            dc_error_init(&e);
            if ((rc = pgw_bin_send(v, &c->out, &e)))
                return rc;
            pgw_patch_i32(&c->out, at, (int32_t)(c->out.len - at - 4));
        } else if ((rc = put_text_value(c, v))) {
            return rc;
        }
    }
    pgw_msg_end(&c->out);
    c->rows_sent++;
    if (c->out.oom)
        return DC_ENOMEM;
    if (c->out.len >= FLUSH_AT)
        return flush_out(c);
    return DC_OK;
}

/* ==== statement durations =============================================== */

/* A statement's time runs from its start (the Query or Execute message, or
 * the completion of the previous statement of the same Query) until the
 * server is done with it: the completion of the next statement, else the
 * end of the Query's run or of the Sync after an Execute, so that the
 * commit of an implicit transaction counts in its last statement.  Two
 * clock reads and one histogram update per statement. */
static void lat_observe(pgw_conn *c, int64_t end)
{
    c->srv->api->histogram_observe(c->srv->m_latency,
                                   (double)(end - c->lat_t0) / 1e9);
    c->lat_pending = false;
}

static void lat_begin(pgw_conn *c)
{
    if (!c->srv->m_latency)
        return;
    if (c->lat_pending)
        lat_observe(c, c->lat_done);
    c->lat_t0 = now_ns();
}

static void lat_complete(pgw_conn *c)
{
    if (!c->srv->m_latency)
        return;
    int64_t t = now_ns();
    if (c->lat_pending) {
        lat_observe(c, c->lat_done);
        c->lat_t0 = c->lat_done;
    }
    c->lat_pending = true;
    c->lat_done = t;
}

static void lat_end(pgw_conn *c)
{
    if (c->srv->m_latency && c->lat_pending)
        lat_observe(c, now_ns());
}

static int sink_complete(void *ud, const char *tag)
{
    pgw_conn *c = ud;
    if (c->copy_out) {
        pgw_msg_begin(&c->out, 'c');
        pgw_msg_end(&c->out);
        c->copy_out = false;
    }
    /* An Execute's SELECT tag counts the rows of that Execute, as in
     * PostgreSQL, also when earlier Executes fetched part of the portal. */
    char buf[64];
    if (c->in_execute && strncmp(tag, "SELECT ", 7) == 0) {
        snprintf(buf, sizeof buf, "SELECT %llu",
                 (unsigned long long)c->rows_sent);
        tag = buf;
    }
    snprintf(c->last_tag, sizeof c->last_tag, "%s", tag);
    c->a_done = true;
    pgw_msg_begin(&c->out, 'C');
    pgw_put_str(&c->out, tag);
    pgw_msg_end(&c->out);
    c->completed = true;
    pgw_count_statement(c->srv, tag);
    lat_complete(c);
    return c->out.oom ? DC_ENOMEM : DC_OK;
}

static int sink_notice(void *ud, const dc_error *n)
{
    pgw_conn *c = ud;
    dc_error e = *n;
    if (e.severity != DC_SEV_WARNING)
        e.severity = DC_SEV_NOTICE;
    pgw_put_error(&c->out, 'N', &e);
    return DC_OK;
}

static int sink_parameter(void *ud, const char *name, const char *value)
{
    pgw_conn *c = ud;
    pgw_msg_begin(&c->out, 'S');
    pgw_put_str(&c->out, name);
    pgw_put_str(&c->out, value);
    pgw_msg_end(&c->out);
    return DC_OK;
}

static int sink_copy_begin(void *ud, int direction, int format,
                           uint32_t ncols)
{
    pgw_conn *c = ud;
    (void)format; /* CSV travels as text format too */
    pgw_msg_begin(&c->out, direction == DC_COPY_IN ? 'G' : 'H');
    pgw_put_u8(&c->out, 0);
    pgw_put_i16(&c->out, (int16_t)ncols);
    for (uint32_t i = 0; i < ncols; i++)
        pgw_put_i16(&c->out, 0);
    pgw_msg_end(&c->out);
    if (direction == DC_COPY_OUT) {
        c->copy_out = true;
        return c->out.oom ? DC_ENOMEM : DC_OK;
    }
    return flush_out(c);
}

static int sink_copy_read(void *ud, const uint8_t **data, size_t *len)
{
    pgw_conn *c = ud;
    for (;;) {
        uint8_t type;
        size_t n;
        if (flush_out(c))
            return DC_EIO;
        int64_t dl = c->srv->idle_timeout_ms
                         ? now_ms() + c->srv->idle_timeout_ms : -1;
        int rc = read_message(c, &type, &n, dl, dl);
        if (rc) {
            if (!c->fatal && rc != DC_ECLOSED)
                c->broken = true;
            return rc == DC_ECLOSED ? DC_ECANCELED : DC_EIO;
        }
        switch (type) {
        case 'd':
            *data = c->msg;
            *len = n;
            return DC_OK;
        case 'c':
            return DC_ENOTFOUND;
        case 'f': {
            const char *m = "";
            dc_error e;
            dc_error_init(&e);
            if (pgw_parse_cstring(c->msg, n, &m, &e)) {
                set_fatal(c, &e);
                return DC_EINVAL;
            }
            c->copy_failed = true;
            snprintf(c->copy_fail_msg, sizeof c->copy_fail_msg, "%s", m);
            return DC_ECANCELED;
        }
        case 'H': case 'S':
            continue; /* PostgreSQL ignores them during COPY IN */
        default: {
            dc_error e;
            dc_error_init(&e);
            dc_error_set(&e, DC_EINVAL, "08P01",
                         "unexpected message type 0x%02X during COPY from "
                         "stdin", type);
            set_fatal(c, &e);
            return DC_EINVAL;
        }
        }
    }
}

static int sink_copy_write(void *ud, const uint8_t *data, size_t len)
{
    pgw_conn *c = ud;
    pgw_msg_begin(&c->out, 'd');
    pgw_put_bytes(&c->out, data, len);
    pgw_msg_end(&c->out);
    if (c->out.oom)
        return DC_ENOMEM;
    return c->out.len >= FLUSH_AT ? flush_out(c) : DC_OK;
}

static dc_sql_sink make_sink(pgw_conn *c, bool describe)
{
    dc_sql_sink s = {
        .size = sizeof s, .ud = c,
        .describe = describe ? sink_describe : NULL,
        .row = sink_row, .complete = sink_complete, .notice = sink_notice,
        .parameter = sink_parameter, .copy_begin = sink_copy_begin,
        .copy_read = sink_copy_read, .copy_write = sink_copy_write,
    };
    return s;
}

static void reset_run(pgw_conn *c, const int16_t *fmts, uint32_t nfmts)
{
    c->fmts = fmts;
    c->nfmts = nfmts;
    c->completed = false;
    c->in_execute = false;
    c->rows_sent = 0;
    c->last_tag[0] = '\0';
    c->copy_out = false;
    c->copy_failed = false;
}

/* The error of a failed run as the client sees it. */
static void fix_error(pgw_conn *c, dc_error *e)
{
    if (c->copy_failed) {
        char m[300];
        snprintf(m, sizeof m, "%s", c->copy_fail_msg);
        dc_error_set(e, DC_ECANCELED, "57014", "COPY from stdin failed: %s", m);
    }
    if (!e->message[0])
        dc_error_set(e, DC_ERR, DC_SQLSTATE_INTERNAL, "statement failed");
}

/* Turn the error of a failed run into what the client should see. */
static void run_failed(pgw_conn *c, dc_error *e)
{
    fix_error(c, e);
    if (atomic_load(&c->srv->stopping) && strcmp(e->sqlstate, "57014") == 0)
        fatalf(c, "57P01", "terminating connection due to administrator "
                           "command");
    if (!c->fatal && !c->broken)
        send_error(c, e);
}

/* ==== the audit log ====================================================== */

static int64_t clock_now(pgw_conn *c, int which)
{
    return c->srv->api->clock_ns(c->srv->host, which);
}

/* The count that ends a command tag ("INSERT 0 3" -> 3), or -1. */
static int64_t tag_rows(const char *tag)
{
    const char *sp = strrchr(tag, ' ');
    if (!sp || !sp[1])
        return -1;
    int64_t n = 0;
    for (const char *p = sp + 1; *p; p++) {
        if (*p < '0' || *p > '9' || n > INT64_MAX / 10 - 10)
            return -1;
        n = n * 10 + (*p - '0');
    }
    return n;
}

/* One statement line: text (len bytes) began at wall (realtime ns) and
 * ran dur ns; tag is its command tag (NULL: it did not complete), sent
 * the rows it sent, err its error (NULL: success). */
static void audit_statement(pgw_conn *c, int64_t wall, int64_t dur,
                            const char *text, size_t len, const char *tag,
                            uint64_t sent, const dc_error *err)
{
    int64_t rows = tag ? tag_rows(tag) : -1;
    if (rows < 0)
        rows = (int64_t)sent;
    const char *state = "00000";
    if (err)
        state = err->sqlstate[0] ? err->sqlstate : DC_SQLSTATE_INTERNAL;
    dc_audit_event ev = {
        .size = sizeof ev, .kind = DC_AUDIT_STATEMENT, .time_ns = wall,
        .connection_id = c->pub.pid, .user = c->user, .database = c->db,
        .client_addr = c->peer, .statement = text, .statement_len = len,
        .command = tag, .sqlstate = state,
        .message = err ? err->message : NULL, .rows = rows,
        .duration_ns = dur,
    };
    c->srv->api->audit(c->srv->host, &ev);
}

/* The sql module reports each statement of a Query's text. */
static void sink_statement_end(void *ud, size_t off, size_t len,
                               const dc_error *err)
{
    pgw_conn *c = ud;
    int64_t now = clock_now(c, DC_CLOCK_MONOTONIC);
    if (off > c->a_len)
        off = c->a_len;
    if (len > c->a_len - off)
        len = c->a_len - off;
    dc_error fixed;
    if (err) {
        fixed = *err;
        fix_error(c, &fixed);
        c->a_err_told = true;
    }
    audit_statement(c, c->a_wall0 + (c->a_t0 - c->a_mono0), now - c->a_t0,
                    c->a_sql ? c->a_sql + off : NULL, len,
                    c->a_done ? c->last_tag : NULL,
                    c->rows_sent - c->a_rows0, err ? &fixed : NULL);
    c->a_t0 = now;
    c->a_rows0 = c->rows_sent;
    c->a_done = false;
    c->a_nstmts++;
}

static void audit_query_begin(pgw_conn *c, const char *sql, size_t len,
                              dc_sql_sink *sink)
{
    /* The text lives in c->msg, which a COPY FROM STDIN reuses for its
     * data: keep a copy. */
    free(c->a_sql);
    c->a_sql = malloc(len + 1);
    c->a_len = c->a_sql ? len : 0;
    if (c->a_sql) {
        memcpy(c->a_sql, sql, len);
        c->a_sql[len] = '\0';
    }
    c->a_wall0 = clock_now(c, DC_CLOCK_REALTIME);
    c->a_mono0 = c->a_t0 = clock_now(c, DC_CLOCK_MONOTONIC);
    c->a_rows0 = c->rows_sent;
    c->a_done = false;
    c->a_nstmts = 0;
    c->a_err_told = false;
    sink->statement_end = sink_statement_end;
}

/* After exec(): what no statement reported (a text that does not parse,
 * a failed commit of the statements' implicit transaction, an sql module
 * that does not report statements) is one line for the whole text.  An
 * empty Query gives none. */
static void audit_query_end(pgw_conn *c, const dc_error *err)
{
    if (!(err ? c->a_err_told : (c->a_nstmts > 0 || !c->a_done))) {
        int64_t now = clock_now(c, DC_CLOCK_MONOTONIC);
        audit_statement(c, c->a_wall0 + (c->a_t0 - c->a_mono0), now - c->a_t0,
                        c->a_sql, c->a_len, c->a_done ? c->last_tag : NULL,
                        c->rows_sent - c->a_rows0, err);
    }
    free(c->a_sql);
    c->a_sql = NULL;
    c->a_len = 0;
}

/* The login line, once start-up ended: a session is open (success) or a
 * FATAL error refused it.  A client that left before either (pg_isready,
 * psql closing to ask for a password) leaves no line, as in PostgreSQL,
 * which does not log such a probe as a failed login. */
static void audit_login(pgw_conn *c)
{
    bool ok = c->pub.session != NULL;
    if (!ok && !c->fatal)
        return;
    const char *state = "00000", *msg = NULL;
    if (!ok) {
        state = c->fatal_err.sqlstate;
        msg = c->fatal_err.message;
    }
    dc_audit_event ev = {
        .size = sizeof ev, .kind = DC_AUDIT_LOGIN, .time_ns = c->login_wall,
        .connection_id = c->pub.pid, .user = c->user, .database = c->db,
        .client_addr = c->peer, .method = c->auth_method, .sqlstate = state,
        .message = msg, .rows = -1,
        .duration_ns = clock_now(c, DC_CLOCK_MONOTONIC) - c->login_mono,
    };
    c->srv->api->audit(c->srv->host, &ev);
}

/* ==== prepared statements and portals ==================================== */

static stmt_ent *stmt_find(pgw_conn *c, const char *name)
{
    for (stmt_ent *s = c->stmts; s; s = s->next)
        if (strcmp(s->name, name) == 0)
            return s;
    return NULL;
}

static portal_ent *portal_find(pgw_conn *c, const char *name)
{
    for (portal_ent *p = c->portals; p; p = p->next)
        if (strcmp(p->name, name) == 0)
            return p;
    return NULL;
}

static void stmt_unref(pgw_conn *c, stmt_ent *s)
{
    if (--s->refs > 0)
        return;
    c->sql->stmt_close(s->st);
    free(s->text);
    free(s->name);
    free(s);
}

static void stmt_drop(pgw_conn *c, stmt_ent *s)
{
    for (stmt_ent **pp = &c->stmts; *pp; pp = &(*pp)->next)
        if (*pp == s) {
            *pp = s->next;
            break;
        }
    stmt_unref(c, s);
}

static void portal_drop(pgw_conn *c, portal_ent *p)
{
    for (portal_ent **pp = &c->portals; *pp; pp = &(*pp)->next)
        if (*pp == p) {
            *pp = p->next;
            break;
        }
    c->sql->portal_close(p->p);
    stmt_unref(c, p->se);
    free(p->fmts);
    free(p->name);
    free(p);
}

static void drop_portals(pgw_conn *c)
{
    while (c->portals)
        portal_drop(c, c->portals);
}

static void drop_all(pgw_conn *c)
{
    drop_portals(c);
    while (c->stmts)
        stmt_drop(c, c->stmts);
}

static int ext_error(dc_error *e, const char *state, const char *fmt,
                     const char *arg)
{
    return dc_error_set(e, DC_EINVAL, state, fmt, arg);
}

static int do_parse(pgw_conn *c, size_t n, dc_error *e)
{
    pgw_parse_msg m;
    int rc = pgw_parse_parse(c->msg, n, &m, e);
    if (rc) {
        set_fatal(c, e);
        return rc;
    }
    stmt_ent *old = stmt_find(c, m.name);
    if (old && m.name[0])
        return ext_error(e, "42P05", "prepared statement \"%s\" already exists",
                         m.name);
    uint32_t types[PGW_MAX_BIND];
    for (uint16_t i = 0; i < m.nparams; i++)
        types[i] = be32(m.param_types + 4 * i);
    dc_sql_stmt *st;
    int64_t t0 = 0, w0 = 0;
    if (c->srv->audit) {
        t0 = clock_now(c, DC_CLOCK_MONOTONIC);
        w0 = clock_now(c, DC_CLOCK_REALTIME);
    }
    if ((rc = c->sql->prepare(c->pub.session, m.query, m.query_len, types,
                              m.nparams, &st, e))) {
        /* A statement refused at Parse is audited (it never runs). */
        if (c->srv->audit)
            audit_statement(c, w0, clock_now(c, DC_CLOCK_MONOTONIC) - t0,
                            m.query, m.query_len, NULL, 0, e);
        return rc;
    }
    stmt_ent *s = dcm_calloc(1, sizeof *s);
    char *name = strdup(m.name);
    char *text = c->srv->audit ? malloc(m.query_len + 1) : NULL;
    if (!s || !name || (c->srv->audit && !text)) {
        free(s);
        free(name);
        free(text);
        c->sql->stmt_close(st);
        return dc_error_set(e, DC_ENOMEM, DC_SQLSTATE_OOM, "out of memory");
    }
    if (text) {
        memcpy(text, m.query, m.query_len);
        text[m.query_len] = '\0';
        s->text = text;
        s->text_len = m.query_len;
    }
    if (old)
        stmt_drop(c, old);
    s->name = name;
    s->st = st;
    s->refs = 1;
    s->next = c->stmts;
    c->stmts = s;
    pgw_msg_begin(&c->out, '1');
    pgw_msg_end(&c->out);
    return DC_OK;
}

/* Convert one Bind parameter into *v; *mem gets a buffer to free later. */
static int bind_value(pgw_conn *c, uint32_t type, int fmt, const uint8_t *d,
                      int32_t len, uint32_t idx, dc_value *v, char **mem,
                      dc_error *e)
{
    *mem = NULL;
    memset(v, 0, sizeof *v);
    v->type = type;
    v->typmod = -1;
    if (len < 0) {
        v->is_null = true;
        return DC_OK;
    }
    if (fmt == 1) {
        size_t cap = type == DC_TYPE_NUMERIC ? 5 * (size_t)len + 16448 : 1;
        if (!(*mem = malloc(cap)))
            return dc_error_set(e, DC_ENOMEM, DC_SQLSTATE_OOM, "out of memory");
        int rc = pgw_bin_recv(type, -1, d, (size_t)len, v, *mem, cap, e);
        if (rc && strcmp(e->sqlstate, "22P03") == 0)
            dc_error_set(e, rc, "22P03", "incorrect binary data format in "
                         "bind parameter %u", idx + 1);
        return rc;
    }
    if (type == DC_TYPE_UNKNOWN || !c->sql->parse_text) {
        if (!pgw_utf8_valid(d, (size_t)len))
            return dc_error_set(e, DC_EINVAL, "22021",
                                "invalid byte sequence for encoding \"UTF8\"");
        v->type = type == DC_TYPE_UNKNOWN ? DC_TYPE_UNKNOWN : DC_TYPE_TEXT;
        v->u.bytes.ptr = d;
        v->u.bytes.len = (size_t)len;
        return DC_OK;
    }
    /* parse_text writes variable-length results into a fixed buffer; grow
     * it when a value expands (numeric exponents).  The first try is small
     * (usually served from malloc's per-thread cache: this runs for every
     * parameter of every Bind), and grows 16-fold per retry. */
    size_t cap = 2 * (size_t)len + 64;
    for (int tries = 0; tries < 6; tries++, cap *= 16) {
        free(*mem);
        if (!(*mem = malloc(cap)))
            return dc_error_set(e, DC_ENOMEM, DC_SQLSTATE_OOM, "out of memory");
        int rc = c->sql->parse_text(c->srv->sql_inst, type, -1,
                                    (const char *)d, (size_t)len, v,
                                    (uint8_t *)*mem, cap, e);
        if (rc == DC_OK || strcmp(e->sqlstate, DC_SQLSTATE_OOM) != 0)
            return rc;
    }
    return dc_error_set(e, DC_ENOMEM, DC_SQLSTATE_OOM, "out of memory");
}

static int bind_params(pgw_conn *c, const pgw_bind_msg *m, size_t body,
                       const uint32_t *types, dc_value *vals, char **mems,
                       dc_error *e)
{
    pgw_rd r;
    pgw_rd_init(&r, m->params, (size_t)(c->msg + body - m->params));
    for (uint32_t i = 0; i < m->nparams; i++) {
        const uint8_t *d;
        int32_t len;
        pgw_bind_param(&r, &d, &len);
        int fmt = pgw_format_at(m->formats, m->nformats, i, m->nparams);
        if (fmt < 0)
            return dc_error_set(e, DC_EINVAL, "08P01",
                                "bind message has %u parameter formats but %u "
                                "parameters", m->nformats, m->nparams);
        int rc = bind_value(c, types[i], fmt, d, len, i, &vals[i], &mems[i], e);
        if (rc)
            return rc;
    }
    return DC_OK;
}

static int do_bind(pgw_conn *c, size_t n, dc_error *e)
{
    pgw_bind_msg m;
    int rc = pgw_parse_bind(c->msg, n, &m, e);
    if (rc) {
        set_fatal(c, e);
        return rc;
    }
    stmt_ent *s = stmt_find(c, m.stmt);
    if (!s)
        return ext_error(e, "26000", "prepared statement \"%s\" does not exist",
                         m.stmt);
    portal_ent *old = portal_find(c, m.portal);
    if (old && m.portal[0])
        return ext_error(e, "42P03", "cursor \"%s\" already exists", m.portal);
    const uint32_t *types;
    uint32_t np, ncols;
    const dc_column *cols;
    c->sql->stmt_describe(s->st, &types, &np, &cols, &ncols);
    if (np != m.nparams) {
        char tmp[200];
        snprintf(tmp, sizeof tmp, "bind message supplies %u parameters, but "
                 "prepared statement \"%s\" requires %u", m.nparams, m.stmt, np);
        return dc_error_set(e, DC_EINVAL, "08P01", "%s", tmp);
    }
    if (m.nformats > 1 && m.nformats != m.nparams)
        return dc_error_set(e, DC_EINVAL, "08P01",
                            "bind message has %u parameter formats but %u "
                            "parameters", m.nformats, m.nparams);
    if (m.nresult_formats > 1 && m.nresult_formats != ncols)
        return dc_error_set(e, DC_EINVAL, "08P01",
                            "bind message has %u result formats but query has "
                            "%u columns", m.nresult_formats, ncols);
    int16_t *fmts = dcm_calloc(m.nresult_formats + 1u, sizeof *fmts);
    if (!fmts)
        return dc_error_set(e, DC_ENOMEM, DC_SQLSTATE_OOM, "out of memory");
    for (uint16_t i = 0; i < m.nresult_formats; i++) {
        fmts[i] = (int16_t)((m.result_formats[2 * i] << 8) |
                            m.result_formats[2 * i + 1]);
        if (fmts[i] != 0 && fmts[i] != 1) {
            int bad = fmts[i];
            free(fmts);
            return dc_error_set(e, DC_EINVAL, "22023",
                                "unsupported format code: %d", bad);
        }
    }
    dc_value *vals = dcm_calloc(m.nparams + 1u, sizeof *vals);
    char **mems = dcm_calloc(m.nparams + 1u, sizeof *mems);
    portal_ent *p = dcm_calloc(1, sizeof *p);
    char *name = strdup(m.portal);
    if (!vals || !mems || !p || !name)
        rc = dc_error_set(e, DC_ENOMEM, DC_SQLSTATE_OOM, "out of memory");
    if (rc == DC_OK)
        rc = bind_params(c, &m, n, types, vals, mems, e);
    dc_sql_portal *dp = NULL;
    if (rc == DC_OK)
        rc = c->sql->portal_open(s->st, vals, m.nparams, &dp, e);
    /* A statement whose parameters are refused never runs: audited here
     * (without the values). */
    if (rc && c->srv->audit)
        audit_statement(c, clock_now(c, DC_CLOCK_REALTIME), 0, s->text,
                        s->text_len, NULL, 0, e);
    for (uint32_t i = 0; mems && i < m.nparams; i++)
        free(mems[i]);
    free(mems);
    free(vals);
    if (rc) {
        free(p);
        free(name);
        free(fmts);
        return rc;
    }
    if (old)
        portal_drop(c, old);
    p->name = name;
    p->p = dp;
    p->se = s;
    s->refs++;
    p->fmts = fmts;
    p->nfmts = m.nresult_formats;
    p->next = c->portals;
    c->portals = p;
    pgw_msg_begin(&c->out, '2');
    pgw_msg_end(&c->out);
    return DC_OK;
}

static int do_describe(pgw_conn *c, size_t n, dc_error *e)
{
    pgw_target_msg m;
    int rc = pgw_parse_target(c->msg, n, &m, e);
    if (rc) {
        set_fatal(c, e);
        return rc;
    }
    const uint32_t *types;
    uint32_t np, ncols;
    const dc_column *cols;
    if (m.what == 'S') {
        stmt_ent *s = stmt_find(c, m.name);
        if (!s)
            return ext_error(e, "26000", "prepared statement \"%s\" does not "
                             "exist", m.name);
        c->sql->stmt_describe(s->st, &types, &np, &cols, &ncols);
        pgw_msg_begin(&c->out, 't');
        pgw_put_i16(&c->out, (int16_t)np);
        for (uint32_t i = 0; i < np; i++)
            pgw_put_i32(&c->out, (int32_t)types[i]);
        pgw_msg_end(&c->out);
        if (ncols)
            pgw_put_row_desc(&c->out, cols, ncols, NULL, 0);
        else {
            pgw_msg_begin(&c->out, 'n');
            pgw_msg_end(&c->out);
        }
        return DC_OK;
    }
    portal_ent *p = portal_find(c, m.name);
    if (!p)
        return ext_error(e, "34000", "portal \"%s\" does not exist", m.name);
    c->sql->stmt_describe(p->se->st, &types, &np, &cols, &ncols);
    if (ncols)
        pgw_put_row_desc(&c->out, cols, ncols, p->fmts, p->nfmts);
    else {
        pgw_msg_begin(&c->out, 'n');
        pgw_msg_end(&c->out);
    }
    return DC_OK;
}

/* "SELECT 5" -> "SELECT 0", "INSERT 0 3" -> "INSERT 0 0"; a tag without
 * a count stays as it is. */
static void zero_tag(const char *tag, char *out, size_t cap)
{
    snprintf(out, cap, "%s", tag);
    size_t n = strlen(out);
    size_t i = n;
    while (i > 0 && out[i - 1] >= '0' && out[i - 1] <= '9')
        i--;
    if (i < n && i > 0 && out[i - 1] == ' ' && i + 1 < cap) {
        out[i] = '0';
        out[i + 1] = '\0';
    }
}

static int do_execute(pgw_conn *c, size_t n, dc_error *e)
{
    pgw_execute_msg m;
    int rc = pgw_parse_execute(c->msg, n, &m, e);
    if (rc) {
        set_fatal(c, e);
        return rc;
    }
    portal_ent *p = portal_find(c, m.portal);
    if (!p)
        return ext_error(e, "34000", "portal \"%s\" does not exist", m.portal);
    if (p->done_tag[0]) {
        /* Run to the end already: PostgreSQL answers the tag with no
         * rows. */
        pgw_msg_begin(&c->out, 'C');
        pgw_put_str(&c->out, p->done_tag);
        pgw_msg_end(&c->out);
        if (c->srv->audit)
            audit_statement(c, clock_now(c, DC_CLOCK_REALTIME), 0,
                            p->se->text, p->se->text_len, p->done_tag, 0,
                            NULL);
        return DC_OK;
    }
    reset_run(c, p->fmts, p->nfmts);
    lat_begin(c);
    c->in_execute = true;
    dc_sql_sink sink = make_sink(c, false);
    bool suspended = false;
    int64_t t0 = 0, w0 = 0;
    if (c->srv->audit) {
        t0 = clock_now(c, DC_CLOCK_MONOTONIC);
        w0 = clock_now(c, DC_CLOCK_REALTIME);
    }
    rc = c->sql->portal_fetch(p->p, m.max_rows, &sink, &suspended, e);
    c->in_execute = false;
    if (c->srv->audit) {
        /* One line per Execute: the rows of this Execute. */
        dc_error fixed;
        if (rc) {
            fixed = *e;
            fix_error(c, &fixed);
        }
        audit_statement(c, w0, clock_now(c, DC_CLOCK_MONOTONIC) - t0,
                        p->se->text, p->se->text_len,
                        c->completed ? c->last_tag : NULL, c->rows_sent,
                        rc ? &fixed : NULL);
    }
    if (rc)
        return rc;
    if (!suspended && c->completed)
        zero_tag(c->last_tag, p->done_tag, sizeof p->done_tag);
    if (suspended) {
        pgw_msg_begin(&c->out, 's');
        pgw_msg_end(&c->out);
    } else if (!c->completed) {
        pgw_msg_begin(&c->out, 'I');
        pgw_msg_end(&c->out);
    }
    return DC_OK;
}

static int do_close(pgw_conn *c, size_t n, dc_error *e)
{
    pgw_target_msg m;
    int rc = pgw_parse_target(c->msg, n, &m, e);
    if (rc) {
        set_fatal(c, e);
        return rc;
    }
    if (m.what == 'S') {
        stmt_ent *s = stmt_find(c, m.name);
        if (s)
            stmt_drop(c, s);
    } else {
        portal_ent *p = portal_find(c, m.name);
        if (p)
            portal_drop(c, p);
    }
    pgw_msg_begin(&c->out, '3');
    pgw_msg_end(&c->out);
    return DC_OK;
}

/* ==== the query loop ===================================================== */

static void ready_for_query(pgw_conn *c)
{
    char st = c->sql->txn_status(c->pub.session);
    if (st == 'I') /* portals live as long as their transaction */
        drop_portals(c);
    pgw_msg_begin(&c->out, 'Z');
    pgw_put_u8(&c->out, (uint8_t)st);
    pgw_msg_end(&c->out);
    flush_out(c);
}

/* Sync with a session opened with sync_pipeline: the sql module ends the
 * implicit transaction of the messages since the last Sync (commits it,
 * or rolls it back after an error).  Its portals go first: they run in
 * that transaction.  A failed commit is answered before ReadyForQuery. */
static void end_pipeline(pgw_conn *c, bool failed)
{
    if (c->portals && c->sql->txn_status(c->pub.session) == 'I')
        drop_portals(c);
    dc_error e;
    dc_error_init(&e);
    reset_run(c, NULL, 0);
    dc_sql_sink sink = make_sink(c, false);
    if (c->sql->sync(c->pub.session, failed, &sink, &e))
        run_failed(c, &e);
}

static void do_query(pgw_conn *c, size_t n)
{
    const char *sql;
    size_t len;
    dc_error e;
    dc_error_init(&e);
    if (pgw_parse_query(c->msg, n, &sql, &len, &e)) {
        set_fatal(c, &e);
        return;
    }
    /* Outside a block a Query ends the transaction that extended messages
     * before it opened, and with it their portals. */
    if (c->portals && c->sql->txn_status(c->pub.session) == 'I')
        drop_portals(c);
    reset_run(c, NULL, 0);
    lat_begin(c);
    dc_sql_sink sink = make_sink(c, true);
    if (c->srv->audit)
        audit_query_begin(c, sql, len, &sink);
    int rc = c->sql->exec(c->pub.session, sql, len, &sink, &e);
    lat_end(c);
    if (rc)
        run_failed(c, &e);
    else if (!c->completed) {
        pgw_msg_begin(&c->out, 'I');
        pgw_msg_end(&c->out);
    }
    if (c->srv->audit)
        audit_query_end(c, rc ? &e : NULL);
    if (!c->fatal && !c->broken)
        ready_for_query(c);
}

/* One extended-protocol message.  Errors skip messages until Sync. */
static void do_extended(pgw_conn *c, uint8_t type, size_t n, bool *skip)
{
    dc_error e;
    dc_error_init(&e);
    int rc = DC_OK;
    if (!c->sql->prepare) {
        rc = dc_error_set(&e, DC_EUNSUPPORTED, DC_SQLSTATE_FEATURE,
                          "the extended query protocol is not supported");
    } else {
        switch (type) {
        case 'P': rc = do_parse(c, n, &e); break;
        case 'B': rc = do_bind(c, n, &e); break;
        case 'D': rc = do_describe(c, n, &e); break;
        case 'E': rc = do_execute(c, n, &e); break;
        case 'C': rc = do_close(c, n, &e); break;
        default: break;
        }
    }
    if (rc && !c->fatal && !c->broken) {
        run_failed(c, &e);
        *skip = true;
    }
    if (c->out.len >= FLUSH_AT)
        flush_out(c);
}

static void idle_timeout(pgw_conn *c)
{
    if (c->sql->txn_status(c->pub.session) == 'I')
        fatalf(c, "57P05", "terminating connection due to idle-session "
                           "timeout");
    else
        fatalf(c, "25P03", "terminating connection due to "
                           "idle-in-transaction timeout");
}

static void query_loop(pgw_conn *c)
{
    bool skip = false;
    while (!c->fatal && !c->broken) {
        if (atomic_load(&c->srv->stopping)) {
            fatalf(c, "57P01", "terminating connection due to administrator "
                               "command");
            break;
        }
        uint8_t type;
        size_t n;
        int64_t idle = c->srv->idle_timeout_ms;
        int64_t dl = idle ? now_ms() + idle : -1;
        int rc = read_message(c, &type, &n, dl, dl);
        if (rc == DC_ETIMEDOUT) {
            idle_timeout(c);
            break;
        }
        if (rc == DC_ECLOSED) {
            fatalf(c, "57P01", "terminating connection due to administrator "
                               "command");
            break;
        }
        if (rc)
            break;
        dc_error e;
        dc_error_init(&e);
        if (type == 'X')
            break;
        if (type == 'S') {
            if (pgw_parse_empty(c->msg, n, &e)) {
                set_fatal(c, &e);
                break;
            }
            if (c->sync_pipeline)
                end_pipeline(c, skip);
            lat_end(c);
            skip = false;
            if (!c->fatal && !c->broken)
                ready_for_query(c);
            continue;
        }
        if (skip) {
            /* Skipping to Sync after an error, a Flush still sends what is
             * buffered (the ErrorResponse): clients that pipeline Execute +
             * Flush without Sync (cursors) wait for it. */
            if (type == 'H')
                flush_out(c);
            continue;
        }
        switch (type) {
        case 'Q':
            do_query(c, n);
            break;
        case 'P': case 'B': case 'D': case 'E': case 'C':
            do_extended(c, type, n, &skip);
            break;
        case 'H':
            if (pgw_parse_empty(c->msg, n, &e))
                set_fatal(c, &e);
            else
                flush_out(c);
            break;
        case 'd': case 'c': case 'f':
            break; /* left over from a failed COPY: ignored */
        case 'F':
            dc_error_set(&e, DC_EUNSUPPORTED, DC_SQLSTATE_FEATURE,
                         "function call messages are not supported");
            send_error(c, &e);
            skip = true;
            break;
        default: /* 'p' outside authentication */
            dc_error_set(&e, DC_EINVAL, "08P01",
                         "invalid frontend message type %d", (int)type);
            set_fatal(c, &e);
            break;
        }
        /* Drop the buffer of a huge message. */
        if (c->msg_cap > (1u << 20)) {
            free(c->msg);
            c->msg = NULL;
            c->msg_cap = 0;
        }
    }
}

/* ==== start-up =========================================================== */

static void put_auth(pgw_conn *c, uint32_t code, const uint8_t *data,
                     size_t len)
{
    pgw_msg_begin(&c->out, 'R');
    pgw_put_i32(&c->out, (int32_t)code);
    pgw_put_bytes(&c->out, data, len);
    pgw_msg_end(&c->out);
}

/* Read the start-up packet, answering SSL and GSS requests on the way.
 * Returns DC_OK with *su filled for a StartupMessage; anything else ends
 * the connection (after a FATAL error when one is set). */
static int read_startup(pgw_conn *c, pgw_startup *su, int64_t deadline)
{
    for (int round = 0; round < 4; round++) {
        uint8_t lb[4];
        dc_error e;
        dc_error_init(&e);
        int rc = read_exact(c, lb, 4, deadline);
        if (rc)
            return rc;
        uint32_t len = be32(lb);
        if ((rc = pgw_startup_len_check(len, &e))) {
            set_fatal(c, &e);
            return rc;
        }
        if ((rc = msg_room(c, len - 4)) ||
            (rc = read_exact(c, c->msg, len - 4, deadline)))
            return rc;
        if ((rc = pgw_startup_parse(c->msg, len - 4, su, &e))) {
            set_fatal(c, &e);
            return rc;
        }
        switch (su->kind) {
        case PGW_START_CANCEL:
            pgw_cancel(c->srv, su->cancel_pid, su->cancel_key);
            return DC_ECLOSED;
        case PGW_START_GSSENC:
            pgw_put_u8(&c->out, 'N');
            if ((rc = flush_out(c)))
                return rc;
            continue;
        case PGW_START_SSL: {
            bool offer = c->srv->tls && !c->ssl;
            pgw_put_u8(&c->out, offer ? 'S' : 'N');
            if ((rc = flush_out(c)))
                return rc;
            if (!offer)
                continue;
            if (c->in_pos != c->in_len) {
                fatalf(c, "08P01", "received unencrypted data after SSL "
                                   "request");
                return DC_EINVAL;
            }
            /* The handshake's reads are bounded by the start-up deadline
             * too (the receive timeout), and end at shutdown. */
            if ((rc = arm_timeout(c, deadline))) {
                if (rc == DC_EIO)
                    c->broken = true;
                return rc;
            }
            char why[256];
            if (pgw_tls_accept(c->srv->tls, c->pub.fd, &c->ssl, why,
                               sizeof why)) {
                c->srv->api->log(c->srv->host, DC_LOG_INFO,
                                 "TLS handshake with %s failed: %s", c->peer,
                                 why);
                return DC_EIO;
            }
            continue;
        }
        default:
            return DC_OK;
        }
    }
    fatalf(c, "08P01", "too many start-up requests");
    return DC_EINVAL;
}

/* Run the auth module's conversation.  On success *id is filled. */
static int authenticate(pgw_conn *c, const char *user, int64_t deadline,
                        dc_auth_identity *id)
{
    pgw_server *srv = c->srv;
    memset(id, 0, sizeof *id);
    id->size = sizeof *id;
    c->auth_method = "trust"; /* until a request says otherwise */
    if (!srv->auth) {
        snprintf(id->user, sizeof id->user, "%s", user);
        id->can_read = id->can_write = id->is_admin = true;
        return DC_OK;
    }
    dc_error e;
    dc_error_init(&e);
    dc_auth_conv *conv = NULL;
    int rc = srv->auth->begin(srv->auth_inst, user, c->peer, c->ssl != NULL,
                              &conv, &e);
    const uint8_t *in = NULL;
    size_t inlen = 0;
    while (rc == DC_OK) {
        dc_auth_step_out out = {.size = sizeof out};
        if ((rc = srv->auth->step(conv, in, inlen, &out, &e)))
            break;
        if (out.request == DC_AUTH_OK) {
            rc = srv->auth->identity(conv, id);
            if (rc)
                dc_error_set(&e, rc, "28000", "authentication failed");
            break;
        }
        if (out.request == DC_AUTH_SASL)
            c->auth_method = "scram-sha-256";
        else if (out.request == DC_AUTH_MD5)
            c->auth_method = "md5";
        else if (out.request == DC_AUTH_CLEARTEXT)
            c->auth_method = "password";
        put_auth(c, out.request, out.data, out.len);
        if ((rc = flush_out(c)))
            break;
        if (out.request == DC_AUTH_SASL_FINAL) {
            in = NULL;
            inlen = 0;
            continue;
        }
        uint8_t type;
        size_t n;
        if ((rc = read_message(c, &type, &n, deadline, deadline)))
            break;
        if (type != 'p') {
            char m[80];
            snprintf(m, sizeof m, "expected password response, got message "
                     "type %d", (int)type);
            fatalf(c, "08P01", m);
            rc = DC_EINVAL;
            break;
        }
        in = c->msg;
        inlen = n;
    }
    if (conv)
        srv->auth->end(conv);
    if (rc && e.message[0]) {
        srv->api->log(srv->host, DC_LOG_WARN,
                      "authentication failed for user \"%s\" from %s: %s",
                      user, c->peer, e.message);
        pgw_count_refused(srv, "auth");
        set_fatal(c, &e);
    } else if (rc) {
        srv->api->log(srv->host, DC_LOG_WARN,
                      "authentication of user \"%s\" from %s ended: %s", user,
                      c->peer, dc_status_name(rc));
    }
    return rc;
}

/* Send the client's start-up settings to the session as SET statements;
 * unknown names and values are ignored as the protocol asks. */
static int quiet_row(void *ud, const dc_row *r)
{
    (void)ud;
    (void)r;
    return 0;
}

static int quiet_complete(void *ud, const char *tag)
{
    (void)ud;
    (void)tag;
    return 0;
}

static void apply_startup_params(pgw_conn *c, const pgw_startup *su)
{
    dc_sql_sink quiet = {.size = sizeof quiet, .row = quiet_row,
                         .complete = quiet_complete};
    for (uint32_t i = 0; i < su->nparams; i++) {
        const char *k = su->names[i], *v = su->values[i];
        if (!strcmp(k, "user") || !strcmp(k, "database") ||
            !strcmp(k, "options") || !strcmp(k, "replication"))
            continue;
        bool ok = k[0] != '\0' && strlen(k) < 64;
        for (const char *p = k; *p && ok; p++)
            ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                 (*p >= '0' && *p <= '9') || *p == '_';
        if (!ok)
            continue;
        pgw_buf q = {0};
        pgw_put_bytes(&q, "SET ", 4);
        pgw_put_bytes(&q, k, strlen(k));
        pgw_put_bytes(&q, " TO '", 5);
        for (const char *p = v; *p; p++) {
            if (*p == '\'')
                pgw_put_bytes(&q, "''", 2);
            else
                pgw_put_bytes(&q, p, 1);
        }
        pgw_put_bytes(&q, "'", 1);
        if (!q.oom) {
            dc_error e;
            dc_error_init(&e);
            if (c->sql->exec(c->pub.session, (const char *)q.data, q.len,
                             &quiet, &e))
                c->srv->api->log(c->srv->host, DC_LOG_DEBUG,
                                 "start-up parameter %s ignored: %s", k,
                                 e.message);
        }
        pgw_buf_free(&q);
    }
}

static const char *const REPORTED[] = {
    "application_name", "client_encoding", "DateStyle",
    "default_transaction_read_only", "in_hot_standby", "integer_datetimes",
    "IntervalStyle", "is_superuser", "server_encoding", "server_version",
    "session_authorization", "standard_conforming_strings", "TimeZone",
};

static void send_parameters(pgw_conn *c)
{
    for (size_t i = 0; i < sizeof REPORTED / sizeof REPORTED[0]; i++) {
        const char *v = c->sql->setting
                            ? c->sql->setting(c->pub.session, REPORTED[i])
                            : NULL;
        if (v)
            sink_parameter(c, REPORTED[i], v);
    }
}

static void negotiate_version(pgw_conn *c, const pgw_startup *su)
{
    if ((su->version & 0xffff) == 0 && su->nunknown_pq == 0)
        return;
    pgw_msg_begin(&c->out, 'v');
    pgw_put_i32(&c->out, (int32_t)PGW_PROTO_30);
    pgw_put_i32(&c->out, (int32_t)su->nunknown_pq);
    for (uint32_t i = 0; i < su->nunknown_pq; i++)
        pgw_put_str(&c->out, su->unknown_pq[i]);
    pgw_msg_end(&c->out);
}

/* Everything from the first byte to ReadyForQuery.  On failure the FATAL
 * error (if any) is set and the connection closes. */
static int start_session(pgw_conn *c, bool *admitted)
{
    pgw_server *srv = c->srv;
    int64_t deadline = now_ms() + srv->startup_timeout_ms;
    pgw_startup su;
    int rc = read_startup(c, &su, deadline);
    if (rc == DC_ETIMEDOUT)
        srv->api->log(srv->host, DC_LOG_INFO,
                      "connection from %s dropped: start-up timeout", c->peer);
    if (rc)
        return rc;
    /* su points into the packet: keep it while later messages arrive. */
    c->startup_pkt = c->msg;
    c->msg = NULL;
    c->msg_cap = 0;
    const char *user = pgw_startup_param(&su, "user");
    const char *db0 = pgw_startup_param(&su, "database");
    if (srv->audit) {
        /* A login attempt from here on: audited once start-up ends. */
        c->login_tried = true;
        c->login_mono = clock_now(c, DC_CLOCK_MONOTONIC);
        c->login_wall = clock_now(c, DC_CLOCK_REALTIME);
        snprintf(c->user, sizeof c->user, "%s", user ? user : "");
        snprintf(c->db, sizeof c->db, "%s",
                 db0 && db0[0] ? db0 : user ? user : "");
    }
    if (!user || !user[0]) {
        fatalf(c, "28000", "no PostgreSQL user name specified in startup "
                           "packet");
        return DC_EINVAL;
    }
    const char *db = pgw_startup_param(&su, "database");
    if (!db || !db[0])
        db = user;
    if (srv->tls_require && !c->ssl) {
        char m[400];
        snprintf(m, sizeof m, "no pg_hba.conf entry for host \"%s\", user "
                 "\"%s\", database \"%.63s\", no encryption", c->peer, user, db);
        pgw_count_refused(srv, "no_encryption");
        fatalf(c, "28000", m);
        return DC_EPERM;
    }
    if (!pgw_session_admit(srv)) {
        pgw_count_refused(srv, "too_many");
        fatalf(c, "53300", "sorry, too many clients already");
        return DC_EBUSY;
    }
    *admitted = true;
    negotiate_version(c, &su);
    dc_auth_identity id;
    if ((rc = authenticate(c, user, deadline, &id)))
        return rc;
    put_auth(c, DC_AUTH_OK, NULL, 0);
    snprintf(c->user, sizeof c->user, "%s", id.user[0] ? id.user : user);
    dc_sql_session_options o = {.size = sizeof o, .user = c->user,
                                .database = db, .can_read = id.can_read,
                                .can_write = id.can_write,
                                .is_admin = id.is_admin,
                                .sync_pipeline = c->sync_pipeline};
    dc_error e;
    dc_error_init(&e);
    dc_sql_session *s = NULL;
    if ((rc = srv->sql->session_open(srv->sql_inst, &o, &s, &e))) {
        set_fatal(c, &e);
        return rc;
    }
    pthread_mutex_lock(&srv->mu);
    c->pub.session = s;
    pthread_mutex_unlock(&srv->mu);
    apply_startup_params(c, &su);
    send_parameters(c);
    pgw_msg_begin(&c->out, 'K');
    pgw_put_i32(&c->out, c->pub.pid);
    pgw_put_i32(&c->out, c->pub.key);
    pgw_msg_end(&c->out);
    ready_for_query(c);
    return c->broken ? DC_EIO : DC_OK;
}

void pgw_conn_serve(pgw_server *srv, int fd, const char *peer)
{
    pgw_conn *c = dcm_calloc(1, sizeof *c);
    if (!c) {
        close(fd);
        return;
    }
    c->srv = srv;
    c->sql = srv->sql;
    c->sync_pipeline = DC_HAS_FIELD(c->sql, dc_sql_vtable, sync) &&
                       c->sql->sync && c->sql->prepare;
    c->pub.fd = fd;
    snprintf(c->peer, sizeof c->peer, "%s", peer);
    uint32_t key = 0;
    if (getrandom(&key, sizeof key, 0) != (ssize_t)sizeof key)
        key = (uint32_t)now_ms() ^ (uint32_t)(uintptr_t)c;
    c->pub.key = (int32_t)key;
    pgw_register(srv, c);

    bool admitted = false;
    int rc = start_session(c, &admitted);
    free(c->startup_pkt);
    c->startup_pkt = NULL;
    if (c->login_tried)
        audit_login(c);
    if (rc == DC_OK)
        query_loop(c);
    send_fatal(c);

    drop_all(c);
    pthread_mutex_lock(&srv->mu);
    dc_sql_session *s = c->pub.session;
    c->pub.session = NULL;
    pthread_mutex_unlock(&srv->mu);
    if (s)
        srv->sql->session_close(s);
    if (admitted)
        pgw_session_leave(srv);
    if (c->ssl)
        pgw_tls_close(c->ssl);
    pgw_unregister(srv, c);
    close(fd);
    pgw_buf_free(&c->out);
    free(c->msg);
    free(c->scratch);
    free(c->a_sql);
    free(c);
}
