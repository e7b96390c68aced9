/*
 * prometheus.c - the metrics module "prometheus": an HTTP server
 * (libmicrohttpd) on [metrics] listen_addr with
 *
 *   GET /metrics  the host's metrics registry and the process figures in
 *                 the Prometheus text format 0.0.4 (expo.h)
 *   GET /health   200 while the process runs
 *   GET /ready    200 when the server is ready (every module initialised,
 *                 the storage open, the protocol listener accepting), 503
 *                 while it starts (recovery) and once shutdown has begun;
 *                 the body says which
 *
 * HEAD is answered like GET without the body; any other method gets 405,
 * any other path 404.
 *
 * The server starts in init(), and the loader initialises the metrics
 * module before every other one, so /health and /ready answer while the
 * storage recovers; it stops in shutdown(), the last one.  The listening
 * socket is made here (not by libmicrohttpd) so that a bind failure says
 * why, and init fails with the address: the server then stops at start.
 *
 * Threads: libmicrohttpd runs one internal thread (epoll) that serves
 * every connection; rendering happens on it, into memory, so the registry
 * lock is never held while a client is slow.  Connections are limited in
 * number, in memory (which bounds a request's headers) and in idle time.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/listen.h"
#include "datacave/metrics.h"
#include "datacave/module.h"
#include "prometheus/expo.h"
#include "prometheus/proc.h"

#define DEFAULT_LISTEN "127.0.0.1:9898"
#define MEMORY_LIMIT (32 * 1024)     /* per connection: request line and
                                        headers must fit in about half   */
#define THREAD_STACK (256 * 1024)

typedef struct prom_instance {
    dc_host *host;
    const dc_host_api *api;
    char listen_addr[256];
    int listen_fd;
    struct MHD_Daemon *daemon;
    bool have_start;
    double start_time;
} prom_instance;

/* ==== rendering ========================================================== */

static int visit_host(void *ctx, const dc_metrics_visitor *v, void *ud)
{
    prom_instance *pi = ctx;
    return pi->api->metrics_visit(pi->host, v, ud);
}

static int render_all(prom_instance *pi, prom_buf *b)
{
    prom_process proc;
    prom_process_read(&proc, pi->have_start, pi->start_time);
    return prom_render(visit_host, pi, &proc, b);
}

static int prom_render_cb(void *instance, dc_text_fn fn, void *ud,
                          dc_error *err)
{
    prom_instance *pi = instance;
    prom_buf b = {0};
    int rc = render_all(pi, &b);
    if (rc != DC_OK) {
        prom_buf_free(&b);
        return dc_error_set(err, rc, DC_SQLSTATE_OOM,
                            "out of memory rendering the metrics");
    }
    rc = fn(ud, b.data ? b.data : "", b.len);
    prom_buf_free(&b);
    return rc;
}

/* ==== HTTP =============================================================== */

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned int status,
                             const char *type, char *body, size_t len,
                             bool owned, const char *allow)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(
        len, body, owned ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
    if (r == NULL) {
        if (owned)
            free(body);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    if (allow)
        MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, allow);
    enum MHD_Result res = MHD_queue_response(conn, status, r);
    MHD_destroy_response(r);
    return res;
}

static enum MHD_Result reply_text(struct MHD_Connection *conn,
                                  unsigned int status, const char *text,
                                  const char *allow)
{
    return reply(conn, status, "text/plain; charset=utf-8", (char *)text,
                 strlen(text), false, allow);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn,
                                  const char *url, const char *method,
                                  const char *version, const char *upload,
                                  size_t *upload_size, void **req_cls)
{
    prom_instance *pi = cls;
    (void)version;
    (void)upload;
    /* The first call comes with the headers.  Another method is answered
     * at once (its body is never read; the connection closes after). */
    if (*req_cls == NULL) {
        if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 &&
            strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
            return reply_text(conn, MHD_HTTP_METHOD_NOT_ALLOWED,
                              "method not allowed: only GET and HEAD\n",
                              "GET, HEAD");
        *req_cls = pi;
        return MHD_YES;
    }
    /* The answer is given once the request is complete, so that the
     * connection may stay open for the next scrape.  A GET with a body is
     * not served: the connection is closed. */
    if (*upload_size != 0)
        return MHD_NO;
    if (strcmp(url, "/metrics") == 0) {
        prom_buf b = {0};
        if (render_all(pi, &b) != DC_OK) {
            prom_buf_free(&b);
            return reply_text(conn, MHD_HTTP_INTERNAL_SERVER_ERROR,
                              "out of memory\n", NULL);
        }
        char *body = b.data;
        size_t len = b.len;
        if (body == NULL) {
            body = malloc(1);
            if (body == NULL)
                return MHD_NO;
        }
        return reply(conn, MHD_HTTP_OK, PROM_CONTENT_TYPE, body, len, true,
                     NULL);
    }
    if (strcmp(url, "/health") == 0)
        return reply_text(conn, MHD_HTTP_OK, "ok\n", NULL);
    if (strcmp(url, "/ready") == 0) {
        int st = pi->api->server_state(pi->host);
        if (st == DC_STATE_READY)
            return reply_text(conn, MHD_HTTP_OK, "ready\n", NULL);
        return reply_text(conn, MHD_HTTP_SERVICE_UNAVAILABLE,
                          st == DC_STATE_STOPPING
                              ? "not ready: shutting down\n"
                              : "not ready: starting (modules initialising, "
                                "storage recovering)\n",
                          NULL);
    }
    return reply_text(conn, MHD_HTTP_NOT_FOUND,
                      "not found: try /metrics, /health or /ready\n", NULL);
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    prom_instance *pi = cls;
    pi->api->logv(pi->host, DC_LOG_DEBUG, fmt, ap);
}

/* ==== listening ========================================================== */

/* [metrics] listen_addr -> a listening socket in pi->listen_fd. */
static int listen_on(prom_instance *pi, dc_error *err)
{
    int fd = -1;
    int rc = dcm_listen_tcp(pi->listen_addr, "metrics.listen_addr", 64, &fd,
                            err);
    if (rc != DC_OK)
        return rc;
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0)
        fcntl(fd, F_SETFL, fl | O_NONBLOCK);
    pi->listen_fd = fd;
    return DC_OK;
}

/* ==== lifecycle ========================================================== */

static int64_t cfg_int(prom_instance *pi, const char *path, int64_t dflt,
                       int64_t lo, int64_t hi)
{
    int64_t v = dflt;
    if (pi->api->config_int(pi->host, path, &v) != DC_OK)
        v = dflt;
    return v < lo ? lo : v > hi ? hi : v;
}

static int prom_init(dc_host *host, const dc_host_api *api, void **instance,
                     dc_error *err)
{
    prom_instance *pi = calloc(1, sizeof *pi);
    if (pi == NULL)
        return dc_error_set(err, DC_ENOMEM, DC_SQLSTATE_OOM, "out of memory");
    pi->host = host;
    pi->api = api;
    pi->listen_fd = -1;
    const char *la = DEFAULT_LISTEN;
    if (api->config_string(host, "metrics.listen_addr", &la) != DC_OK || !la)
        la = DEFAULT_LISTEN;
    snprintf(pi->listen_addr, sizeof pi->listen_addr, "%s", la);
    unsigned int max_conns =
        (unsigned int)cfg_int(pi, ".max_connections", 32, 1, 1024);
    unsigned int timeout =
        (unsigned int)cfg_int(pi, ".connection_timeout_secs", 10, 1, 3600);
    int rc = listen_on(pi, err);
    if (rc != DC_OK) {
        free(pi);
        return rc;
    }
    pi->have_start = prom_process_start_time(&pi->start_time);

    /* libmicrohttpd's thread starts here: it must not take the signals
     * the host's main thread waits for. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    pi->daemon = MHD_start_daemon(
        MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ERROR_LOG, 0, NULL, NULL,
        on_request, pi,
        MHD_OPTION_EXTERNAL_LOGGER, mhd_log, pi,
        MHD_OPTION_LISTEN_SOCKET, (MHD_socket)pi->listen_fd,
        MHD_OPTION_CONNECTION_LIMIT, max_conns,
        MHD_OPTION_CONNECTION_TIMEOUT, timeout,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)MEMORY_LIMIT,
        MHD_OPTION_THREAD_STACK_SIZE, (size_t)THREAD_STACK,
        MHD_OPTION_END);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (pi->daemon == NULL) {
        close(pi->listen_fd);
        rc = dc_error_set(err, DC_EIO, DC_SQLSTATE_IO,
                          "could not start the HTTP server on "
                          "metrics.listen_addr \"%s\"",
                          pi->listen_addr);
        free(pi);
        return rc;
    }
    api->log(host, DC_LOG_INFO,
             "serving /metrics, /health and /ready on http://%s",
             pi->listen_addr);
    *instance = pi;
    return DC_OK;
}

static void prom_shutdown(void *instance)
{
    prom_instance *pi = instance;
    if (pi == NULL)
        return;
    /* Joins the server's thread and closes the listening socket. */
    MHD_stop_daemon(pi->daemon);
    free(pi);
}

/* ==== descriptor ========================================================= */

static const dc_config_key prom_options[] = {
    {"max_connections", DC_CFG_INT, "32",
     "HTTP connections open at once (1 to 1024)", 0},
    {"connection_timeout_secs", DC_CFG_INT, "10",
     "an HTTP connection idle this long is closed (1 to 3600)", 0},
};

static const dc_metrics_vtable prom_vtable = {
    .size = sizeof(dc_metrics_vtable),
    .render = prom_render_cb,
};

static const dc_module_desc prom_desc = {
    DC_MODULE_HEADER(DC_KIND_METRICS, DC_METRICS_VTABLE_MAJOR,
                     DC_METRICS_VTABLE_MINOR),
    .name = "prometheus",
    .version = "0.1.0",
    .description = "Prometheus exporter: /metrics, /health and /ready over "
                   "HTTP on [metrics] listen_addr",
    .deps = NULL,
    .ndeps = 0,
    .config_keys = prom_options,
    .nconfig_keys = sizeof prom_options / sizeof prom_options[0],
    .init = prom_init,
    .shutdown = prom_shutdown,
    .vtable = &prom_vtable,
};

DC_EXPORT const dc_module_desc *datacave_module_prometheus_v0(void)
{
    return &prom_desc;
}
