/*
 * services.c - the dc_host_api table: what the host does for modules.
 * Every function here is thread-safe unless it says otherwise.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include "audit.h"
#include "log.h"
#include "metrics_registry.h"
#include "runtime.h"
#include "version.h"

static void svc_log(dc_host *h, int level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    dc_log_writev(level, h->mod->desc->name, fmt, ap);
    va_end(ap);
}

static void svc_logv(dc_host *h, int level, const char *fmt, va_list ap)
{
    dc_log_writev(level, h->mod->desc->name, fmt, ap);
}

static bool svc_log_enabled(dc_host *h, int level)
{
    (void)h;
    return dc_log_enabled(level);
}

/* Turn a module-relative path (".key") into "module.<name>.key" in buf.
 * Returns NULL when it does not fit. */
static const char *full_path(dc_host *h, const char *path, char *buf, size_t cap)
{
    if (path == NULL)
        return NULL;
    if (path[0] != '.')
        return path;
    int n = snprintf(buf, cap, "module.%s%s", h->mod->desc->name, path);
    return (n < 0 || (size_t)n >= cap) ? NULL : buf;
}

#define WITH_PATH(call)                                                        \
    char buf[512];                                                             \
    const char *p = full_path(h, path, buf, sizeof buf);                       \
    if (p == NULL)                                                             \
        return DC_EINVAL;                                                      \
    return call

static int svc_config_string(dc_host *h, const char *path, const char **out)
{
    WITH_PATH(dc_config_string(h->rt->cfg, p, out));
}
static int svc_config_int(dc_host *h, const char *path, int64_t *out)
{
    WITH_PATH(dc_config_int(h->rt->cfg, p, out));
}
static int svc_config_float(dc_host *h, const char *path, double *out)
{
    WITH_PATH(dc_config_float(h->rt->cfg, p, out));
}
static int svc_config_bool(dc_host *h, const char *path, bool *out)
{
    WITH_PATH(dc_config_bool(h->rt->cfg, p, out));
}
static int svc_config_count(dc_host *h, const char *path, size_t *out)
{
    WITH_PATH(dc_config_count(h->rt->cfg, p, out));
}
static int svc_config_type(dc_host *h, const char *path, int *out)
{
    WITH_PATH(dc_config_type_of(h->rt->cfg, p, out));
}
static const char *svc_config_dir(dc_host *h) { return dc_config_dir(h->rt->cfg); }

static int svc_metric_register(dc_host *h, const dc_metric_desc *desc,
                               dc_metric **out, dc_error *err)
{
    (void)h;
    return dc_metrics_register(desc, out, err);
}

static int svc_metrics_visit(dc_host *h, const dc_metrics_visitor *v, void *ud)
{
    (void)h;
    return dc_metrics_visit(v, ud);
}

/* Thread trampoline: name the thread, run the module's function. */
static void *thread_main(void *p)
{
    struct dc_thread *t = p;
    prctl(PR_SET_NAME, t->name, 0, 0, 0);
    return t->fn(t->arg);
}

static int svc_thread_spawn(dc_host *h, const char *name, void *(*fn)(void *),
                            void *arg, dc_thread **out, dc_error *err)
{
    struct dc_thread *t = calloc(1, sizeof *t);
    if (t == NULL)
        return dc_error_set(err, DC_ENOMEM, DC_SQLSTATE_OOM, "out of memory");
    snprintf(t->name, sizeof t->name, "%s", name ? name : h->mod->desc->name);
    t->fn = fn;
    t->arg = arg;
    t->owner = h;
    /* Signals stay blocked in module threads: the main thread waits for
     * them with sigwait (see main.c). */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    int rc = pthread_create(&t->tid, NULL, thread_main, t);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        free(t);
        return dc_error_set(err, DC_ERR, DC_SQLSTATE_INTERNAL,
                            "cannot start thread %s: %s", name ? name : "",
                            strerror(rc));
    }
    pthread_mutex_lock(&h->lock);
    t->next = h->threads;
    h->threads = t;
    pthread_mutex_unlock(&h->lock);
    *out = t;
    return DC_OK;
}

static int svc_thread_join(dc_host *h, dc_thread *t, void **ret)
{
    pthread_mutex_lock(&h->lock);
    struct dc_thread **pp = &h->threads;
    while (*pp && *pp != t)
        pp = &(*pp)->next;
    if (*pp == NULL) {
        pthread_mutex_unlock(&h->lock);
        return DC_ENOTFOUND;
    }
    *pp = t->next;
    pthread_mutex_unlock(&h->lock);
    void *r = NULL;
    pthread_join(t->tid, &r);
    if (ret)
        *ret = r;
    free(t);
    return DC_OK;
}

void dc_host_join_all(struct dc_host *h)
{
    for (;;) {
        pthread_mutex_lock(&h->lock);
        struct dc_thread *t = h->threads;
        pthread_mutex_unlock(&h->lock);
        if (t == NULL)
            return;
        dc_log_write(DC_LOG_DEBUG, "host", "joining thread %s of module %s",
                     t->name, h->mod->desc->name);
        svc_thread_join(h, t, NULL);
    }
}

static int64_t svc_clock_ns(dc_host *h, int which)
{
    (void)h;
    struct timespec ts;
    clock_gettime(which == DC_CLOCK_MONOTONIC ? CLOCK_MONOTONIC : CLOCK_REALTIME,
                  &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int svc_service(dc_host *h, int kind, const void **vtable,
                       void **instance)
{
    if (kind <= DC_KIND_NONE || kind >= DC_KIND__COUNT)
        return DC_EINVAL;
    const dc_module_desc *d = h->mod->desc;
    bool declared = false;
    for (uint32_t i = 0; i < d->ndeps; i++)
        if (d->deps[i].kind == (uint32_t)kind)
            declared = true;
    if (!declared)
        return DC_EPERM;
    dc_module *m = h->rt->by_kind[kind];
    if (m == NULL || !m->initialized)
        return DC_ENOTFOUND;
    *vtable = m->desc->vtable;
    *instance = m->instance;
    return DC_OK;
}

static void svc_set_ready(dc_host *h, bool ready)
{
    atomic_store(&h->ready, ready);
}

static int svc_server_state(dc_host *h)
{
    return dc_runtime_state(h->rt);
}

static void svc_request_shutdown(dc_host *h)
{
    dc_log_write(DC_LOG_INFO, "host", "module %s requested shutdown",
                 h->mod->desc->name);
    kill(getpid(), SIGTERM);
}

static bool svc_audit_enabled(dc_host *h)
{
    (void)h;
    return dc_audit_enabled();
}

static void svc_audit(dc_host *h, const dc_audit_event *ev)
{
    (void)h;
    dc_audit_write(ev);
}

static const dc_host_api API = {
    .size = sizeof(dc_host_api),
    .abi_major = DC_ABI_MAJOR,
    .abi_minor = DC_ABI_MINOR,
    .host_version = DATACAVE_VERSION,
    .log = svc_log,
    .log_enabled = svc_log_enabled,
    .logv = svc_logv,
    .config_string = svc_config_string,
    .config_int = svc_config_int,
    .config_float = svc_config_float,
    .config_bool = svc_config_bool,
    .config_count = svc_config_count,
    .config_type = svc_config_type,
    .config_dir = svc_config_dir,
    .metric_register = svc_metric_register,
    .metric_series = dc_metrics_series,
    .counter_add = dc_metrics_counter_add,
    .gauge_set = dc_metrics_gauge_set,
    .gauge_add = dc_metrics_gauge_add,
    .histogram_observe = dc_metrics_histogram_observe,
    .metrics_visit = svc_metrics_visit,
    .thread_spawn = svc_thread_spawn,
    .thread_join = svc_thread_join,
    .clock_ns = svc_clock_ns,
    .service = svc_service,
    .set_ready = svc_set_ready,
    .server_state = svc_server_state,
    .request_shutdown = svc_request_shutdown,
    .audit_enabled = svc_audit_enabled,
    .audit = svc_audit,
};

const dc_host_api *dc_host_api_table(void) { return &API; }
