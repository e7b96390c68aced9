/*
 * pgwire/pgwire.h - the pgwire module's shared state: the server (one per
 * module instance), its TLS context and its connections.
 *
 * Threads: the accept thread (spawned through the host) starts one thread
 * per connection (pthread with a small stack, see docs/protocol.md).  The
 * server struct is shared: its counters are atomics, its connection list
 * is guarded by `mu` (stop() shuts the reading side of each listed socket
 * to wake its thread, so a socket stays listed until just before it is
 * closed).
 */
#ifndef PGWIRE_PGWIRE_H
#define PGWIRE_PGWIRE_H

#include <pthread.h>
#include <stdatomic.h>

#include "datacave/auth.h"
#include "datacave/host.h"
#include "datacave/sql.h"

typedef struct pgw_conn pgw_conn;
typedef struct pgw_tls pgw_tls;      /* tls.c: an SSL_CTX */

typedef struct pgw_server {
    dc_host *host;
    const dc_host_api *api;
    const dc_sql_vtable *sql;
    void *sql_inst;
    const dc_auth_vtable *auth;     /* NULL: trust                       */
    void *auth_inst;
    pgw_tls *tls;                   /* NULL: TLS off                     */
    bool tls_require;

    /* Options. */
    char listen_addr[256];
    int64_t max_connections;
    int64_t idle_timeout_ms;        /* 0: none                           */
    int64_t startup_timeout_ms;
    size_t max_message;
    size_t stack_size;
    int64_t shutdown_grace_ms;
    bool audit;                     /* report to the host's audit log    */

    int listen_fd;
    int stop_pipe[2];               /* readable once stop() began (wakes
                                       the accept thread)                */
    dc_thread *acceptor;
    atomic_bool stopping;

    pthread_mutex_t mu;
    pthread_cond_t cv;              /* signalled when nthreads drops     */
    pgw_conn *conns;                /* every live connection             */
    int nthreads;                   /* connection threads still running  */
    int nsessions;                  /* past start-up, counted for max    */
    int32_t next_pid;

    /* Metrics (NULL series are ignored by the host). */
    dc_series *m_current;
    dc_series *m_accepted;
    dc_metric *m_refused;
    dc_metric *m_statements;
    dc_metric *m_errors;
    /* Series looked up once (no lock on the statement path): one per
     * statement kind (pgwire.c), one per SQLSTATE class as first met. */
    dc_series *m_kind[24];
    dc_series *_Atomic m_class[36 * 36];
    dc_series *m_latency;           /* statement duration histogram      */
} pgw_server;

/* conn.c: serve one accepted socket until it closes; frees everything. */
void pgw_conn_serve(pgw_server *srv, int fd, const char *peer);

/* pgwire.c: registry used by conn.c. */
void pgw_register(pgw_server *srv, pgw_conn *c);
void pgw_unregister(pgw_server *srv, pgw_conn *c);
/* Cancel the running statement of the session with this key. */
void pgw_cancel(pgw_server *srv, int32_t pid, int32_t key);
/* Count a session against max_connections; false when over it. */
bool pgw_session_admit(pgw_server *srv);
void pgw_session_leave(pgw_server *srv);
void pgw_count_refused(pgw_server *srv, const char *reason);
void pgw_count_statement(pgw_server *srv, const char *tag);
void pgw_count_error(pgw_server *srv, const char *sqlstate);

/* The connection fields the registry reads (under srv->mu). */
typedef struct pgw_conn_pub {
    pgw_conn *next;
    int fd;
    int32_t pid, key;
    dc_sql_session *session;        /* NULL before start-up ends         */
} pgw_conn_pub;
pgw_conn_pub *pgw_conn_public(pgw_conn *c);

/* tls.c */
int pgw_tls_init(pgw_server *srv, const char *cert, const char *key,
                 dc_error *err);
void pgw_tls_free(pgw_tls *t);
/* Handshake on fd; *out is an SSL * on success. */
int pgw_tls_accept(pgw_tls *t, int fd, void **out, char *msg, size_t cap);
long pgw_tls_read(void *ssl, void *buf, size_t n);    /* <0: error, 0: EOF */
long pgw_tls_write(void *ssl, const void *buf, size_t n);
bool pgw_tls_pending(void *ssl);
void pgw_tls_close(void *ssl);

#endif
