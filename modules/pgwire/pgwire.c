/*
 * pgwire.c - the pgwire protocol module: its descriptor and options, the
 * listening socket, the accept thread, the registry of connections (for
 * CancelRequest, max_connections and shutdown) and the metrics.
 *
 * Threading (docs/protocol.md): the accept thread is a host thread; each
 * connection runs on its own detached pthread with a small stack
 * (thread_stack_kb), counted in srv->nthreads so that stop() can wait for
 * every one of them to end.  Connection threads block in recv() on their
 * socket; stop() wakes them by shutting the reading side of each
 * registered socket (wake_readers), the accept thread through stop_pipe.
 */
#define _GNU_SOURCE /* accept4, pipe2 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/listen.h"
#include "datacave/module.h"
#include "datacave/protocol.h"
#include "pgwire/pgwire.h"

#define OVERLOAD_SLACK 64   /* threads beyond max_connections still let in
                               to read a start-up packet (cancels, the
                               53300 answer)                            */

/* ==== registry =========================================================== */

void pgw_register(pgw_server *srv, pgw_conn *c)
{
    pgw_conn_pub *p = pgw_conn_public(c);
    pthread_mutex_lock(&srv->mu);
    p->pid = ++srv->next_pid;
    if (srv->next_pid >= INT32_MAX - 1)
        srv->next_pid = 0;
    p->next = srv->conns;
    srv->conns = c;
    /* Registered after stop() woke the others: its first read ends at
     * once (see wake_readers). */
    if (atomic_load(&srv->stopping))
        shutdown(p->fd, SHUT_RD);
    pthread_mutex_unlock(&srv->mu);
}

void pgw_unregister(pgw_server *srv, pgw_conn *c)
{
    pthread_mutex_lock(&srv->mu);
    for (pgw_conn **pp = &srv->conns; *pp; pp = &pgw_conn_public(*pp)->next)
        if (*pp == c) {
            *pp = pgw_conn_public(c)->next;
            break;
        }
    pthread_mutex_unlock(&srv->mu);
}

void pgw_cancel(pgw_server *srv, int32_t pid, int32_t key)
{
    pthread_mutex_lock(&srv->mu);
    for (pgw_conn *c = srv->conns; c; c = pgw_conn_public(c)->next) {
        pgw_conn_pub *p = pgw_conn_public(c);
        if (p->pid == pid && p->key == key && p->session && srv->sql->cancel)
            srv->sql->cancel(p->session);
    }
    pthread_mutex_unlock(&srv->mu);
}

bool pgw_session_admit(pgw_server *srv)
{
    pthread_mutex_lock(&srv->mu);
    bool ok = srv->nsessions < srv->max_connections;
    if (ok)
        srv->nsessions++;
    pthread_mutex_unlock(&srv->mu);
    if (ok)
        srv->api->gauge_add(srv->m_current, 1);
    return ok;
}

void pgw_session_leave(pgw_server *srv)
{
    pthread_mutex_lock(&srv->mu);
    srv->nsessions--;
    pthread_mutex_unlock(&srv->mu);
    srv->api->gauge_add(srv->m_current, -1);
}

/* ==== metrics ============================================================ */

void pgw_count_refused(pgw_server *srv, const char *reason)
{
    const char *l[1] = {reason};
    if (srv->m_refused)
        srv->api->counter_add(srv->api->metric_series(srv->m_refused, l), 1);
}

/* Statement kinds: the first word of a command tag, lower case; other
 * words go to "other" (the last) so the label set stays small. */
static const char *const KINDS[] = {
    "select", "insert", "update", "delete", "copy", "create", "drop",
    "alter", "begin", "commit", "rollback", "set", "show", "truncate",
    "explain", "prepare", "savepoint", "release", "vacuum", "analyze",
    "reset", "start", "other", NULL};
#define NKINDS ((int)(sizeof KINDS / sizeof KINDS[0]) - 1)
_Static_assert(sizeof KINDS / sizeof KINDS[0] - 1 <=
                   sizeof ((pgw_server *)0)->m_kind / sizeof(dc_series *),
               "pgw_server.m_kind holds a series per kind");

/* Counted with the series looked up at init: one relaxed atomic add. */
void pgw_count_statement(pgw_server *srv, const char *tag)
{
    char w[16];
    size_t n = 0;
    while (tag[n] && tag[n] != ' ' && n < sizeof w - 1) {
        char ch = tag[n];
        w[n++] = (char)(ch >= 'A' && ch <= 'Z' ? ch - 'A' + 'a' : ch);
    }
    w[n] = '\0';
    int k = NKINDS - 1;
    for (int i = 0; i < NKINDS - 1; i++)
        if (w[0] == KINDS[i][0] && strcmp(KINDS[i], w) == 0) {
            k = i;
            break;
        }
    if (srv->m_kind[k])
        srv->api->counter_add(srv->m_kind[k], 1);
}

/* 0-9, A-Z -> 0..35; -1 for anything else. */
static int class_char(char c)
{
    return c >= '0' && c <= '9' ? c - '0'
           : c >= 'A' && c <= 'Z' ? c - 'A' + 10 : -1;
}

void pgw_count_error(pgw_server *srv, const char *sqlstate)
{
    char cls[3] = {'X', 'X', 0};
    if (sqlstate && strlen(sqlstate) >= 2) {
        cls[0] = sqlstate[0];
        cls[1] = sqlstate[1];
    }
    if (!srv->m_errors)
        return;
    int a = class_char(cls[0]), b = class_char(cls[1]);
    if (a < 0 || b < 0) {
        a = b = class_char('X');
        cls[0] = cls[1] = 'X';
    }
    /* The series of a class is looked up the first time it is met. */
    _Atomic(dc_series *) *slot = &srv->m_class[a * 36 + b];
    dc_series *s = atomic_load_explicit(slot, memory_order_acquire);
    if (s == NULL) {
        const char *l[1] = {cls};
        s = srv->api->metric_series(srv->m_errors, l);
        atomic_store_explicit(slot, s, memory_order_release);
    }
    srv->api->counter_add(s, 1);
}

static void metrics_init(pgw_server *srv)
{
    const dc_host_api *a = srv->api;
    static const char *const reason[] = {"reason"};
    static const char *const kind[] = {"kind"};
    static const char *const cls[] = {"class"};
    dc_metric *m = NULL;
    dc_error e;
    dc_error_init(&e);
    dc_metric_desc d = {.size = sizeof d, .type = DC_METRIC_GAUGE,
                        .name = "datacave_pgwire_connections",
                        .help = "client sessions open now"};
    if (a->metric_register(srv->host, &d, &m, &e) == DC_OK)
        srv->m_current = a->metric_series(m, NULL);
    d.type = DC_METRIC_COUNTER;
    d.name = "datacave_pgwire_connections_accepted_total";
    d.help = "TCP connections accepted";
    if (a->metric_register(srv->host, &d, &m, &e) == DC_OK)
        srv->m_accepted = a->metric_series(m, NULL);
    d.name = "datacave_pgwire_connections_refused_total";
    d.help = "connections refused, by reason";
    d.label_names = reason;
    d.nlabels = 1;
    if (a->metric_register(srv->host, &d, &m, &e) == DC_OK)
        srv->m_refused = m;
    d.name = "datacave_pgwire_statements_total";
    d.help = "statements completed, by kind of command";
    d.label_names = kind;
    if (a->metric_register(srv->host, &d, &m, &e) == DC_OK) {
        srv->m_statements = m;
        for (int i = 0; i < NKINDS; i++) {
            const char *l[1] = {KINDS[i]};
            srv->m_kind[i] = a->metric_series(m, l);
        }
    }
    d.name = "datacave_pgwire_errors_total";
    d.help = "errors sent to clients, by SQLSTATE class";
    d.label_names = cls;
    if (a->metric_register(srv->host, &d, &m, &e) == DC_OK)
        srv->m_errors = m;
    /* From the Query or Execute message (or the end of the previous
     * statement of the same Query) to the statement's CommandComplete. */
    static const double bounds[] = {0.0001, 0.00025, 0.0005, 0.001, 0.0025,
                                    0.005,  0.01,    0.025,  0.05,  0.1,
                                    0.25,   0.5,     1,      2.5,   5,
                                    10};
    d.type = DC_METRIC_HISTOGRAM;
    d.name = "datacave_pgwire_statement_duration_seconds";
    d.help = "time from a statement's start to its completion";
    d.label_names = NULL;
    d.nlabels = 0;
    d.buckets = bounds;
    d.nbuckets = sizeof bounds / sizeof bounds[0];
    if (a->metric_register(srv->host, &d, &m, &e) == DC_OK)
        srv->m_latency = a->metric_series(m, NULL);
}

/* ==== accepting ========================================================== */

typedef struct conn_arg {
    pgw_server *srv;
    int fd;
    char peer[128];
} conn_arg;

static void *conn_main(void *arg)
{
    conn_arg *a = arg;
    pgw_server *srv = a->srv;
    pgw_conn_serve(srv, a->fd, a->peer);
    free(a);
    pthread_mutex_lock(&srv->mu);
    srv->nthreads--;
    pthread_cond_broadcast(&srv->cv);
    pthread_mutex_unlock(&srv->mu);
    return NULL;
}

static void peer_name(const struct sockaddr_storage *ss, socklen_t len,
                      char *out, size_t cap)
{
    if (getnameinfo((const struct sockaddr *)ss, len, out, (socklen_t)cap,
                    NULL, 0, NI_NUMERICHOST) != 0)
        snprintf(out, cap, "unknown");
}

static void spawn_conn(pgw_server *srv, int fd, const char *peer)
{
    pthread_mutex_lock(&srv->mu);
    bool room = srv->nthreads < srv->max_connections + OVERLOAD_SLACK;
    if (room)
        srv->nthreads++;
    pthread_mutex_unlock(&srv->mu);
    conn_arg *a = room ? malloc(sizeof *a) : NULL;
    if (a) {
        a->srv = srv;
        a->fd = fd;
        snprintf(a->peer, sizeof a->peer, "%s", peer);
        pthread_attr_t at;
        pthread_attr_init(&at);
        pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
        pthread_attr_setstacksize(&at, srv->stack_size);
        pthread_t t;
        int rc = pthread_create(&t, &at, conn_main, a);
        pthread_attr_destroy(&at);
        if (rc == 0)
            return;
        free(a);
    }
    if (room) {
        pthread_mutex_lock(&srv->mu);
        srv->nthreads--;
        pthread_cond_broadcast(&srv->cv);
        pthread_mutex_unlock(&srv->mu);
    }
    srv->api->log(srv->host, DC_LOG_WARN,
                  "connection from %s closed: no thread for it", peer);
    pgw_count_refused(srv, "overload");
    close(fd);
}

static void *accept_main(void *arg)
{
    pgw_server *srv = arg;
    while (!atomic_load(&srv->stopping)) {
        struct pollfd p[2] = {{srv->listen_fd, POLLIN, 0},
                              {srv->stop_pipe[0], POLLIN, 0}};
        int n = poll(p, 2, -1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 || p[1].revents)
            break;
        struct sockaddr_storage ss;
        socklen_t sl = sizeof ss;
        int fd = accept4(srv->listen_fd, (struct sockaddr *)&ss, &sl,
                         SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EMFILE || errno == ENFILE) {
                srv->api->log(srv->host, DC_LOG_WARN,
                              "accept: %s", strerror(errno));
                poll(NULL, 0, 100); /* let connections end */
            }
            continue;
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one);
        srv->api->counter_add(srv->m_accepted, 1);
        char peer[128];
        peer_name(&ss, sl, peer, sizeof peer);
        spawn_conn(srv, fd, peer);
    }
    return NULL;
}

/* [server] listen_addr -> a listening socket in srv->listen_fd. */
static int listen_on(pgw_server *srv, dc_error *err)
{
    int fd = -1;
    int rc = dcm_listen_tcp(srv->listen_addr, "server.listen_addr", 1024, &fd,
                            err);
    if (rc != DC_OK)
        return rc;
    srv->listen_fd = fd;
    return DC_OK;
}

/* ==== configuration ====================================================== */

static int64_t cfg_int(pgw_server *srv, const char *path, int64_t dflt)
{
    int64_t v = dflt;
    if (srv->api->config_int(srv->host, path, &v) != DC_OK)
        v = dflt;
    return v;
}

static bool cfg_bool(pgw_server *srv, const char *path, bool dflt)
{
    bool v = dflt;
    if (srv->api->config_bool(srv->host, path, &v) != DC_OK)
        v = dflt;
    return v;
}

/* A path from the config, relative to the config file's folder. */
static int cfg_path(pgw_server *srv, const char *key, char *out, size_t cap,
                    dc_error *err)
{
    const char *v = NULL;
    if (srv->api->config_string(srv->host, key, &v) != DC_OK || !v || !v[0])
        return dc_error_set(err, DC_EINVAL, DC_SQLSTATE_CONFIG,
                            "security.tls.enabled is true but %s is not set",
                            key);
    const char *dir = srv->api->config_dir(srv->host);
    if (v[0] == '/' || !dir || !dir[0])
        snprintf(out, cap, "%s", v);
    else
        snprintf(out, cap, "%s/%s", dir, v);
    return DC_OK;
}

static int read_options(pgw_server *srv, dc_error *err)
{
    const char *la = "127.0.0.1:5433";
    srv->api->config_string(srv->host, "server.listen_addr", &la);
    snprintf(srv->listen_addr, sizeof srv->listen_addr, "%s", la);
    srv->max_connections = cfg_int(srv, "server.max_connections", 100);
    if (srv->max_connections < 1)
        srv->max_connections = 1;
    int64_t idle = cfg_int(srv, "server.idle_timeout_secs", 0);
    srv->idle_timeout_ms = idle > 0 ? idle * 1000 : 0;
    int64_t st = cfg_int(srv, ".startup_timeout_secs", 60);
    srv->startup_timeout_ms = (st > 0 ? st : 60) * 1000;
    int64_t mm = cfg_int(srv, ".max_message_bytes", 64 << 20);
    if (mm < 8192)
        mm = 8192;
    if (mm > (1 << 30))
        mm = 1 << 30;
    srv->max_message = (size_t)mm;
    int64_t kb = cfg_int(srv, ".thread_stack_kb", 1024);
    if (kb < 128)
        kb = 128;
    srv->stack_size = (size_t)kb * 1024;
    srv->shutdown_grace_ms = cfg_int(srv, ".shutdown_grace_secs", 5) * 1000;
    if (srv->shutdown_grace_ms < 0)
        srv->shutdown_grace_ms = 0;
    srv->tls_require = cfg_bool(srv, "security.tls.require", false);
    if (cfg_bool(srv, "security.tls.enabled", false)) {
        char cert[1024], key[1024];
        int rc;
        if ((rc = cfg_path(srv, "security.tls.cert_path", cert, sizeof cert, err)) ||
            (rc = cfg_path(srv, "security.tls.key_path", key, sizeof key, err)) ||
            (rc = pgw_tls_init(srv, cert, key, err)))
            return rc;
    } else if (srv->tls_require) {
        return dc_error_set(err, DC_EINVAL, DC_SQLSTATE_CONFIG,
                            "security.tls.require is true but "
                            "security.tls.enabled is false: no client could "
                            "connect");
    }
    return DC_OK;
}

static int find_services(pgw_server *srv, dc_error *err)
{
    const void *vt = NULL;
    void *inst = NULL;
    if (srv->api->service(srv->host, DC_KIND_SQL, &vt, &inst) != DC_OK)
        return dc_error_set(err, DC_ENOTFOUND, DC_SQLSTATE_CONFIG,
                            "the pgwire module needs an sql module");
    srv->sql = vt;
    srv->sql_inst = inst;
    if (!DC_HAS_FIELD(srv->sql, dc_sql_vtable, format_text) ||
        !srv->sql->format_text)
        return dc_error_set(err, DC_EUNSUPPORTED, DC_SQLSTATE_CONFIG,
                            "the sql module has no format_text: pgwire needs "
                            "it to send rows");
    if (!cfg_bool(srv, "security.auth.enabled", true)) {
        srv->api->log(srv->host, DC_LOG_WARN,
                      "security.auth.enabled is false: every user is let in "
                      "with full rights");
        return DC_OK;
    }
    if (srv->api->service(srv->host, DC_KIND_AUTH, &vt, &inst) == DC_OK) {
        srv->auth = vt;
        srv->auth_inst = inst;
    } else {
        srv->api->log(srv->host, DC_LOG_WARN,
                      "no auth module configured: every user is let in with "
                      "full rights");
    }
    return DC_OK;
}

/* ==== lifecycle ========================================================== */

static void server_free(pgw_server *srv)
{
    if (srv->listen_fd >= 0)
        close(srv->listen_fd);
    if (srv->stop_pipe[0] >= 0) {
        close(srv->stop_pipe[0]);
        close(srv->stop_pipe[1]);
    }
    pgw_tls_free(srv->tls);
    pthread_mutex_destroy(&srv->mu);
    pthread_cond_destroy(&srv->cv);
    free(srv);
}

static int pgw_init(dc_host *host, const dc_host_api *api, void **instance,
                    dc_error *err)
{
    pgw_server *srv = calloc(1, sizeof *srv);
    if (!srv)
        return dc_error_set(err, DC_ENOMEM, DC_SQLSTATE_OOM, "out of memory");
    srv->host = host;
    srv->api = api;
    srv->listen_fd = -1;
    srv->stop_pipe[0] = srv->stop_pipe[1] = -1;
    atomic_init(&srv->stopping, false);
    pthread_mutex_init(&srv->mu, NULL);
    pthread_cond_init(&srv->cv, NULL);
    int rc;
    if (pipe2(srv->stop_pipe, O_CLOEXEC) != 0) {
        srv->stop_pipe[0] = srv->stop_pipe[1] = -1;
        rc = dc_error_set(err, DC_EIO, DC_SQLSTATE_IO, "pipe: %s",
                          strerror(errno));
    } else if ((rc = find_services(srv, err)) == DC_OK &&
               (rc = read_options(srv, err)) == DC_OK) {
        rc = listen_on(srv, err);
    }
    if (rc) {
        server_free(srv);
        return rc;
    }
    metrics_init(srv);
    /* Logins and statements go to the host's audit log when it is on. */
    srv->audit = DC_HAS_FIELD(api, dc_host_api, audit) && api->audit &&
                 api->audit_enabled && api->audit_enabled(host);
    api->log(host, DC_LOG_INFO, "listening on %s%s", srv->listen_addr,
             srv->tls ? (srv->tls_require ? " (TLS required)" : " (TLS offered)")
                      : "");
    *instance = srv;
    return DC_OK;
}

static int pgw_start(void *instance, dc_error *err)
{
    pgw_server *srv = instance;
    return srv->api->thread_spawn(srv->host, "pgwire-accept", accept_main,
                                  srv, &srv->acceptor, err);
}

/* Cancel every running statement; with `hard`, also cut the sockets so
 * that a thread blocked sending to a client that does not read ends. */
static void interrupt_all(pgw_server *srv, bool hard)
{
    pthread_mutex_lock(&srv->mu);
    for (pgw_conn *c = srv->conns; c; c = pgw_conn_public(c)->next) {
        pgw_conn_pub *p = pgw_conn_public(c);
        if (p->session && srv->sql->cancel)
            srv->sql->cancel(p->session);
        if (hard)
            shutdown(p->fd, SHUT_RDWR);
    }
    pthread_mutex_unlock(&srv->mu);
}

/* Wake every connection thread blocked reading its socket: shutting the
 * reading side makes recv() return 0 (after any data already received),
 * and the reader, seeing srv->stopping (set before), ends the session with
 * FATAL 57P01 on the writing side, which stays open.  Connections
 * registered later shut their own (pgw_register). */
static void wake_readers(pgw_server *srv)
{
    pthread_mutex_lock(&srv->mu);
    for (pgw_conn *c = srv->conns; c; c = pgw_conn_public(c)->next)
        shutdown(pgw_conn_public(c)->fd, SHUT_RD);
    pthread_mutex_unlock(&srv->mu);
}

static void pgw_stop(void *instance)
{
    pgw_server *srv = instance;
    if (atomic_exchange(&srv->stopping, true))
        return;
    ssize_t w = write(srv->stop_pipe[1], "x", 1);
    (void)w;
    wake_readers(srv);
    if (srv->acceptor) {
        srv->api->thread_join(srv->host, srv->acceptor, NULL);
        srv->acceptor = NULL;
    }
    if (srv->listen_fd >= 0) {
        close(srv->listen_fd);
        srv->listen_fd = -1;
    }
    int64_t start = srv->api->clock_ns(srv->host, DC_CLOCK_MONOTONIC);
    pthread_mutex_lock(&srv->mu);
    while (srv->nthreads > 0) {
        int64_t waited = (srv->api->clock_ns(srv->host, DC_CLOCK_MONOTONIC) -
                          start) / 1000000;
        bool hard = waited >= srv->shutdown_grace_ms;
        pthread_mutex_unlock(&srv->mu);
        /* Statements that began after the last round are cancelled by the
         * next one. */
        interrupt_all(srv, hard);
        pthread_mutex_lock(&srv->mu);
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 100 * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        if (srv->nthreads > 0)
            pthread_cond_timedwait(&srv->cv, &srv->mu, &ts);
    }
    pthread_mutex_unlock(&srv->mu);
}

static void pgw_shutdown(void *instance)
{
    pgw_server *srv = instance;
    if (!srv)
        return;
    pgw_stop(srv);
    server_free(srv);
}

/* ==== descriptor ========================================================= */

static const dc_config_key pgw_options[] = {
    {"startup_timeout_secs", DC_CFG_INT, "60",
     "seconds a client has from connecting to finishing authentication", 0},
    {"max_message_bytes", DC_CFG_INT, "67108864",
     "largest message accepted from a client (8192 to 1073741824)", 0},
    {"thread_stack_kb", DC_CFG_INT, "1024",
     "stack size of each connection's thread in KiB (>= 128)", 0},
    {"shutdown_grace_secs", DC_CFG_INT, "5",
     "at shutdown, seconds before the sockets of sessions still busy are "
     "cut", 0},
};

static const dc_dependency pgw_deps[] = {
    {.kind = DC_KIND_SQL, .flags = DC_DEP_REQUIRED},
    {.kind = DC_KIND_AUTH, .flags = 0},
};

static const dc_protocol_vtable pgw_vtable = {
    .size = sizeof(dc_protocol_vtable),
    .start = pgw_start,
    .stop = pgw_stop,
};

static const dc_module_desc pgw_desc = {
    DC_MODULE_HEADER(DC_KIND_PROTOCOL, DC_PROTOCOL_VTABLE_MAJOR,
                     DC_PROTOCOL_VTABLE_MINOR),
    .name = "pgwire",
    .version = "0.1.0",
    .description = "PostgreSQL wire protocol v3 (TLS, SCRAM/MD5/cleartext "
                   "through the auth module, simple and extended queries, "
                   "COPY)",
    .deps = pgw_deps,
    .ndeps = sizeof pgw_deps / sizeof pgw_deps[0],
    .config_keys = pgw_options,
    .nconfig_keys = sizeof pgw_options / sizeof pgw_options[0],
    .init = pgw_init,
    .shutdown = pgw_shutdown,
    .vtable = &pgw_vtable,
};

/* The module's one exported symbol: returns the descriptor, nothing else. */
DC_EXPORT const dc_module_desc *datacave_module_pgwire_v0(void)
{
    return &pgw_desc;
}
