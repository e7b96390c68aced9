/*
 * testmod.c - one source for every purpose-built test module.
 *
 * tests/modules/modules.mk compiles this file many times with different -D
 * macros, with the same flags as real modules (MOD_CFLAGS, MOD_LDFLAGS), into
 * $(TEST_MODULE_DIR)/<name>.so.  The macros:
 *
 *   TM_NAME="x"          the descriptor's name (required)
 *   TM_PROTOCOL, TM_SQL, TM_STORAGE, TM_AUTH, TM_ENCRYPTION, TM_METRICS
 *                        the kind (exactly one); dummy callbacks that answer
 *                        DC_EUNSUPPORTED, except encryption (a passthrough
 *                        seal/open), protocol (start/stop log a line) and
 *                        metrics (render() reports the counters below)
 *   TM_DEP_<KIND>=FLAGS  declare a dependency on <KIND> with FLAGS
 *                        (DC_DEP_REQUIRED or 0 for optional)
 *   TM_OPTIONS           declare the options greeting (string, default
 *                        "hello") and count (integer, default 3); init logs
 *                        "options greeting=G count=N" read with ".greeting"
 *   TM_THREAD            init starts a thread with api->thread_spawn;
 *                        shutdown() only tells it to stop and returns at
 *                        once; the thread lingers TM_LINGER_MS, then counts
 *                        itself as exited.  So the exit count is right just
 *                        after shutdown only when the host joined it.
 *   TM_INIT_FAIL         init logs "init <name>" and then fails with DC_EINVAL
 *
 * Defects, one per loader refusal (the unit test computes the expected
 * values from the same expressions):
 *   TM_BAD_MAGIC         magic DC_MODULE_MAGIC ^ 0x20202020 ("dcmd")
 *   TM_BAD_ABI_MAJOR     abi_major DC_ABI_MAJOR + 1
 *   TM_BAD_ABI_MINOR     abi_minor DC_ABI_MINOR + 1
 *   TM_BAD_SIZE          size offsetof(dc_module_desc, vtable)
 *   TM_BAD_KIND_MAJOR    kind_major <kind's major> + 1
 *   TM_BAD_PLATFORM      platform DC_PLATFORM_SIGNATURE ^ (1u << 24)
 *   TM_NULL_INIT         init NULL
 *   TM_NULL_GET          (storage) vtable get NULL
 *   TM_NO_ENTRY          the entry function is not named datacave_module_*,
 *                        so the version script hides it: nothing exported
 *   TM_TWO_ENTRIES       a second exported datacave_module_* function
 *
 * Every good module logs "init <name>" and "shutdown <name>" through
 * api->log, asks api->service() for each declared dependency (a required
 * one must answer DC_OK, an optional one DC_OK or DC_ENOTFOUND) and for one
 * undeclared kind (must answer DC_EPERM), logging
 * "service <kind> rc=<status>" and "undeclared <kind> rc=<status>", and
 * fails init when an answer is wrong.  With an encryption dependency it
 * seals and opens a message through the dependency's vtable.
 *
 * No constructors, no global state but the atomic counters, and the entry
 * function only returns the descriptor.
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <datacave/auth.h>
#include <datacave/encryption.h>
#include <datacave/metrics.h>
#include <datacave/module.h>
#include <datacave/protocol.h>
#include <datacave/sql.h>
#include <datacave/storage.h>

#ifndef TM_NAME
#error "define TM_NAME"
#endif

#ifndef TM_LINGER_MS
#define TM_LINGER_MS 100
#endif

/* ---- the kind ---------------------------------------------------------- */

#if defined(TM_PROTOCOL)
#define TM_KIND DC_KIND_PROTOCOL
#define TM_KMAJOR DC_PROTOCOL_VTABLE_MAJOR
#define TM_KMINOR DC_PROTOCOL_VTABLE_MINOR
#elif defined(TM_SQL)
#define TM_KIND DC_KIND_SQL
#define TM_KMAJOR DC_SQL_VTABLE_MAJOR
#define TM_KMINOR DC_SQL_VTABLE_MINOR
#elif defined(TM_STORAGE)
#define TM_KIND DC_KIND_STORAGE
#define TM_KMAJOR DC_STORAGE_VTABLE_MAJOR
#define TM_KMINOR DC_STORAGE_VTABLE_MINOR
#elif defined(TM_AUTH)
#define TM_KIND DC_KIND_AUTH
#define TM_KMAJOR DC_AUTH_VTABLE_MAJOR
#define TM_KMINOR DC_AUTH_VTABLE_MINOR
#elif defined(TM_ENCRYPTION)
#define TM_KIND DC_KIND_ENCRYPTION
#define TM_KMAJOR DC_ENCRYPTION_VTABLE_MAJOR
#define TM_KMINOR DC_ENCRYPTION_VTABLE_MINOR
#elif defined(TM_METRICS)
#define TM_KIND DC_KIND_METRICS
#define TM_KMAJOR DC_METRICS_VTABLE_MAJOR
#define TM_KMINOR DC_METRICS_VTABLE_MINOR
#else
#error "define one of TM_PROTOCOL TM_SQL TM_STORAGE TM_AUTH TM_ENCRYPTION TM_METRICS"
#endif

/* ---- counters (reported by the metrics kind's render) ----------------- */

__attribute__((unused)) static atomic_uint g_inits, g_shutdowns;
__attribute__((unused)) static atomic_uint g_threads_started, g_threads_exited;

/* ---- the instance ------------------------------------------------------ */

/* What the thread shares with shutdown(): owned by the thread, which frees
 * it when it ends, so shutdown() may free the instance right away. */
typedef struct tm_thread_ctl {
    atomic_bool stop;
} tm_thread_ctl;

typedef struct tm_inst {
    dc_host *host;
    const dc_host_api *api;
    tm_thread_ctl *ctl; /* NULL when no thread was started */
} tm_inst;

#ifdef TM_THREAD
static void tm_sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0)
        ;
}

static void *tm_thread_main(void *arg)
{
    tm_thread_ctl *ctl = arg;
    while (!atomic_load(&ctl->stop))
        tm_sleep_ms(1);
    /* Told to stop: linger, so that only a join makes the count visible
     * right after shutdown(). */
    tm_sleep_ms(TM_LINGER_MS);
    free(ctl);
    atomic_fetch_add(&g_threads_exited, 1);
    return NULL;
}
#endif

/* ---- dependencies and options ------------------------------------------ */

static const dc_dependency tm_deps[] = {
#ifdef TM_DEP_PROTOCOL
    {DC_KIND_PROTOCOL, TM_DEP_PROTOCOL},
#endif
#ifdef TM_DEP_SQL
    {DC_KIND_SQL, TM_DEP_SQL},
#endif
#ifdef TM_DEP_STORAGE
    {DC_KIND_STORAGE, TM_DEP_STORAGE},
#endif
#ifdef TM_DEP_AUTH
    {DC_KIND_AUTH, TM_DEP_AUTH},
#endif
#ifdef TM_DEP_ENCRYPTION
    {DC_KIND_ENCRYPTION, TM_DEP_ENCRYPTION},
#endif
#ifdef TM_DEP_METRICS
    {DC_KIND_METRICS, TM_DEP_METRICS},
#endif
    {DC_KIND_NONE, 0} /* not counted: keeps the array non-empty */
};
#define TM_NDEPS ((uint32_t)(sizeof tm_deps / sizeof tm_deps[0]) - 1)

#ifdef TM_OPTIONS
static const dc_config_key tm_options[] = {
    {.name = "greeting",
     .type = DC_CFG_STRING,
     .default_value = "\"hello\"",
     .description = "a word the module logs at init"},
    {.name = "count",
     .type = DC_CFG_INT,
     .default_value = "3",
     .description = "a number the module logs at init"},
};
#define TM_OPTS tm_options
#define TM_NOPTS 2u
#else
#define TM_OPTS NULL
#define TM_NOPTS 0u
#endif

static bool tm_declared(uint32_t kind)
{
    for (uint32_t i = 0; tm_deps[i].kind != DC_KIND_NONE; i++)
        if (tm_deps[i].kind == kind)
            return true;
    return false;
}

/* Seal and open a message through an encryption module's vtable. */
static int tm_roundtrip(const dc_encryption_vtable *ev, void *inst,
                        dc_error *err)
{
    static const uint8_t msg[] = "datacave test module";
    uint8_t sealed[128], opened[128];
    size_t sl = 0, ol = 0;
    if (!DC_HAS_FIELD(ev, dc_encryption_vtable, open))
        return dc_error_set(err, DC_EINVAL, DC_SQLSTATE_INTERNAL,
                            "%s: encryption vtable too small", TM_NAME);
    size_t over = ev->overhead(inst);
    if (sizeof msg + over > sizeof sealed)
        return dc_error_set(err, DC_EINVAL, DC_SQLSTATE_INTERNAL,
                            "%s: encryption overhead %zu too large", TM_NAME,
                            over);
    uint32_t key = ev->current_key_id(inst);
    int rc = ev->seal(inst, key, NULL, 0, msg, sizeof msg, sealed,
                      sizeof sealed, &sl, err);
    if (rc != DC_OK)
        return rc;
    rc = ev->open(inst, key, NULL, 0, sealed, sl, opened, sizeof opened, &ol,
                  err);
    if (rc != DC_OK)
        return rc;
    if (ol != sizeof msg || memcmp(opened, msg, ol) != 0)
        return dc_error_set(err, DC_ECORRUPT, DC_SQLSTATE_CORRUPT,
                            "%s: seal/open roundtrip changed the data", TM_NAME);
    return DC_OK;
}

/* Ask for every declared dependency and for one undeclared kind. */
static int tm_check_services(dc_host *h, const dc_host_api *api, dc_error *err)
{
    for (uint32_t i = 0; tm_deps[i].kind != DC_KIND_NONE; i++) {
        const void *vt = NULL;
        void *inst = NULL;
        uint32_t k = tm_deps[i].kind;
        int rc = api->service(h, (int)k, &vt, &inst);
        api->log(h, DC_LOG_INFO, "service %s rc=%d", dc_kind_name(k), rc);
        bool required = (tm_deps[i].flags & DC_DEP_REQUIRED) != 0;
        if (rc != DC_OK && (required || rc != DC_ENOTFOUND))
            return dc_error_set(err, DC_EINVAL, DC_SQLSTATE_INTERNAL,
                                "%s: service(%s) returned %d", TM_NAME,
                                dc_kind_name(k), rc);
        if (rc == DC_OK && vt == NULL)
            return dc_error_set(err, DC_EINVAL, DC_SQLSTATE_INTERNAL,
                                "%s: service(%s) gave no vtable", TM_NAME,
                                dc_kind_name(k));
        if (rc == DC_OK && k == DC_KIND_ENCRYPTION) {
            int r = tm_roundtrip(vt, inst, err);
            if (r != DC_OK)
                return r;
            api->log(h, DC_LOG_INFO, "roundtrip through %s ok",
                     dc_kind_name(k));
        }
    }
    for (uint32_t k = 1; k < DC_KIND__COUNT; k++) {
        if (k == TM_KIND || tm_declared(k))
            continue;
        const void *vt = NULL;
        void *inst = NULL;
        int rc = api->service(h, (int)k, &vt, &inst);
        api->log(h, DC_LOG_INFO, "undeclared %s rc=%d", dc_kind_name(k), rc);
        if (rc != DC_EPERM)
            return dc_error_set(err, DC_EINVAL, DC_SQLSTATE_INTERNAL,
                                "%s: service(%s), not declared, returned %d, "
                                "expected %d",
                                TM_NAME, dc_kind_name(k), rc, DC_EPERM);
        break; /* one undeclared kind is enough */
    }
    return DC_OK;
}

/* ---- init and shutdown -------------------------------------------------- */

static int tm_init(dc_host *h, const dc_host_api *api, void **instance,
                   dc_error *err)
{
    api->log(h, DC_LOG_INFO, "init %s", TM_NAME);
    int rc = tm_check_services(h, api, err);
    if (rc != DC_OK)
        return rc;
#ifdef TM_INIT_FAIL
    (void)instance;
    return dc_error_set(err, DC_EINVAL, DC_SQLSTATE_CONFIG,
                        "[module.%s] deliberate init failure", TM_NAME);
#else
#ifdef TM_OPTIONS
    const char *greeting = NULL;
    int64_t count = -1;
    int r1 = api->config_string(h, ".greeting", &greeting);
    int r2 = api->config_int(h, ".count", &count);
    if (r1 != DC_OK || r2 != DC_OK)
        return dc_error_set(err, DC_EINVAL, DC_SQLSTATE_CONFIG,
                            "%s: reading options: greeting rc=%d count rc=%d",
                            TM_NAME, r1, r2);
    api->log(h, DC_LOG_INFO, "options greeting=%s count=%lld", greeting,
             (long long)count);
#endif
    tm_inst *in = calloc(1, sizeof *in);
    if (in == NULL)
        return dc_error_set(err, DC_ENOMEM, DC_SQLSTATE_OOM, "out of memory");
    in->host = h;
    in->api = api;
#ifdef TM_THREAD
    in->ctl = calloc(1, sizeof *in->ctl);
    if (in->ctl == NULL) {
        free(in);
        return dc_error_set(err, DC_ENOMEM, DC_SQLSTATE_OOM, "out of memory");
    }
    atomic_init(&in->ctl->stop, false);
    dc_thread *t = NULL;
    rc = api->thread_spawn(h, "tm-tick", tm_thread_main, in->ctl, &t, err);
    if (rc != DC_OK) {
        free(in->ctl);
        free(in);
        return rc;
    }
    atomic_fetch_add(&g_threads_started, 1);
    api->log(h, DC_LOG_INFO, "thread started");
#endif
    atomic_fetch_add(&g_inits, 1);
    *instance = in;
    return DC_OK;
#endif
}

static void tm_shutdown(void *instance)
{
    tm_inst *in = instance;
    if (in == NULL)
        return;
    in->api->log(in->host, DC_LOG_INFO, "shutdown %s", TM_NAME);
    if (in->ctl)
        atomic_store(&in->ctl->stop, true); /* the thread frees ctl */
    atomic_fetch_add(&g_shutdowns, 1);
    free(in);
}

/* ---- the kind's vtable ---------------------------------------------------- */

#define TM_UNSUP(err) \
    dc_error_set((err), DC_EUNSUPPORTED, DC_SQLSTATE_FEATURE, \
                 "%s: not supported by a test module", TM_NAME)

#if defined(TM_PROTOCOL)
static int tm_start(void *instance, dc_error *err)
{
    (void)err;
    tm_inst *in = instance;
    in->api->log(in->host, DC_LOG_INFO, "start %s", TM_NAME);
    return DC_OK;
}
static void tm_stop(void *instance)
{
    tm_inst *in = instance;
    in->api->log(in->host, DC_LOG_INFO, "stop %s", TM_NAME);
}
static const dc_protocol_vtable tm_vtable = {
    .size = sizeof(dc_protocol_vtable), .start = tm_start, .stop = tm_stop};

#elif defined(TM_SQL)
static int tm_session_open(void *i, const dc_sql_session_options *o,
                           dc_sql_session **out, dc_error *err)
{
    (void)i, (void)o, (void)out;
    return TM_UNSUP(err);
}
static void tm_session_close(dc_sql_session *s) { (void)s; }
static int tm_exec(dc_sql_session *s, const char *sql, size_t len,
                   const dc_sql_sink *sink, dc_error *err)
{
    (void)s, (void)sql, (void)len, (void)sink;
    return TM_UNSUP(err);
}
static char tm_txn_status(const dc_sql_session *s)
{
    (void)s;
    return 'I';
}
static const dc_sql_vtable tm_vtable = {.size = sizeof(dc_sql_vtable),
                                        .session_open = tm_session_open,
                                        .session_close = tm_session_close,
                                        .exec = tm_exec,
                                        .txn_status = tm_txn_status};

#elif defined(TM_STORAGE)
static int tm_open(void *i, const dc_store_options *o, dc_store **out,
                   dc_error *err)
{
    (void)i, (void)o, (void)out;
    return TM_UNSUP(err);
}
static void tm_close(dc_store *s) { (void)s; }
#ifndef TM_NULL_GET
static int tm_get(dc_store *s, const dc_read_options *ro, const uint8_t *key,
                  size_t key_len, dc_value_fn fn, void *ud, dc_error *err)
{
    (void)s, (void)ro, (void)key, (void)key_len, (void)fn, (void)ud;
    return TM_UNSUP(err);
}
#endif
static int tm_write(dc_store *s, const dc_write_options *wo,
                    const dc_batch_op *ops, size_t nops, uint64_t *seq,
                    dc_error *err)
{
    (void)s, (void)wo, (void)ops, (void)nops, (void)seq;
    return TM_UNSUP(err);
}
static int tm_snap_acquire(dc_store *s, dc_snapshot **out, dc_error *err)
{
    (void)s, (void)out;
    return TM_UNSUP(err);
}
static uint64_t tm_snap_seq(const dc_snapshot *snap)
{
    (void)snap;
    return 0;
}
static void tm_snap_release(dc_store *s, dc_snapshot *snap) { (void)s, (void)snap; }
static int tm_iter_open(dc_store *s, const dc_read_options *ro, dc_iter **out,
                        dc_error *err)
{
    (void)s, (void)ro, (void)out;
    return TM_UNSUP(err);
}
static void tm_iter_seek(dc_iter *it, const uint8_t *k, size_t l)
{
    (void)it, (void)k, (void)l;
}
static void tm_iter_noop(dc_iter *it) { (void)it; }
static bool tm_iter_valid(const dc_iter *it)
{
    (void)it;
    return false;
}
static void tm_iter_kv(const dc_iter *it, const uint8_t **p, size_t *l)
{
    (void)it;
    *p = NULL;
    *l = 0;
}
static int tm_iter_status(const dc_iter *it, dc_error *err)
{
    (void)it, (void)err;
    return DC_OK;
}
static int tm_key_seq(dc_store *s, const uint8_t *k, size_t l, uint64_t *seq,
                      dc_error *err)
{
    (void)s, (void)k, (void)l, (void)seq;
    return TM_UNSUP(err);
}
static const dc_storage_vtable tm_vtable = {
    .size = sizeof(dc_storage_vtable),
    .open = tm_open,
    .close = tm_close,
#ifdef TM_NULL_GET
    .get = NULL,
#else
    .get = tm_get,
#endif
    .write = tm_write,
    .snapshot_acquire = tm_snap_acquire,
    .snapshot_seq = tm_snap_seq,
    .snapshot_release = tm_snap_release,
    .iter_open = tm_iter_open,
    .iter_seek = tm_iter_seek,
    .iter_seek_first = tm_iter_noop,
    .iter_next = tm_iter_noop,
    .iter_valid = tm_iter_valid,
    .iter_key = tm_iter_kv,
    .iter_value = tm_iter_kv,
    .iter_status = tm_iter_status,
    .iter_close = tm_iter_noop,
    .key_seq = tm_key_seq,
};

#elif defined(TM_AUTH)
static int tm_begin(void *i, const char *user, const char *addr, bool tls,
                    dc_auth_conv **out, dc_error *err)
{
    (void)i, (void)user, (void)addr, (void)tls, (void)out;
    return TM_UNSUP(err);
}
static int tm_step(dc_auth_conv *c, const uint8_t *in, size_t len,
                   dc_auth_step_out *out, dc_error *err)
{
    (void)c, (void)in, (void)len, (void)out;
    return TM_UNSUP(err);
}
static int tm_identity(dc_auth_conv *c, dc_auth_identity *out)
{
    (void)c, (void)out;
    return DC_EUNSUPPORTED;
}
static void tm_end(dc_auth_conv *c) { (void)c; }
static const dc_auth_vtable tm_vtable = {.size = sizeof(dc_auth_vtable),
                                         .begin = tm_begin,
                                         .step = tm_step,
                                         .identity = tm_identity,
                                         .end = tm_end};

#elif defined(TM_ENCRYPTION)
static size_t tm_overhead(void *i)
{
    (void)i;
    return 0;
}
static uint32_t tm_key_id(void *i)
{
    (void)i;
    return 0;
}
/* Passthrough: copies the bytes (no encryption, key id 0). */
static int tm_copy(void *i, uint32_t key_id, const uint8_t *aad, size_t aad_len,
                   const uint8_t *in, size_t len, uint8_t *out, size_t out_cap,
                   size_t *out_len, dc_error *err)
{
    (void)i, (void)aad, (void)aad_len;
    if (key_id != 0)
        return dc_error_set(err, DC_ENOTFOUND, DC_SQLSTATE_INTERNAL,
                            "%s: unknown key id %u", TM_NAME, key_id);
    if (out_cap < len)
        return dc_error_set(err, DC_EINVAL, DC_SQLSTATE_INTERNAL,
                            "%s: output of %zu bytes too small for %zu",
                            TM_NAME, out_cap, len);
    if (len)
        memcpy(out, in, len);
    *out_len = len;
    return DC_OK;
}
static const dc_encryption_vtable tm_vtable = {
    .size = sizeof(dc_encryption_vtable),
    .overhead = tm_overhead,
    .current_key_id = tm_key_id,
    .seal = tm_copy,
    .open = tm_copy};

#elif defined(TM_METRICS)
/* Reports the module's counters; works with any instance (also NULL, after
 * shutdown), since the counters are static and modules are never unloaded. */
static int tm_render(void *instance, dc_text_fn fn, void *ud, dc_error *err)
{
    (void)instance, (void)err;
    char buf[160];
    int n = snprintf(buf, sizeof buf,
                     "inits=%u shutdowns=%u threads_started=%u "
                     "threads_exited=%u",
                     atomic_load(&g_inits), atomic_load(&g_shutdowns),
                     atomic_load(&g_threads_started),
                     atomic_load(&g_threads_exited));
    return fn(ud, buf, (size_t)n);
}
static const dc_metrics_vtable tm_vtable = {.size = sizeof(dc_metrics_vtable),
                                            .render = tm_render};
#endif

/* ---- the descriptor --------------------------------------------------------- */

#ifdef TM_BAD_MAGIC
#define TM_MAGIC (DC_MODULE_MAGIC ^ 0x20202020u)
#else
#define TM_MAGIC DC_MODULE_MAGIC
#endif
#ifdef TM_BAD_SIZE
#define TM_SIZE ((uint32_t)offsetof(dc_module_desc, vtable))
#else
#define TM_SIZE ((uint32_t)sizeof(dc_module_desc))
#endif
#ifdef TM_BAD_ABI_MAJOR
#define TM_ABI_MAJOR (DC_ABI_MAJOR + 1)
#else
#define TM_ABI_MAJOR DC_ABI_MAJOR
#endif
#ifdef TM_BAD_ABI_MINOR
#define TM_ABI_MINOR (DC_ABI_MINOR + 1)
#else
#define TM_ABI_MINOR DC_ABI_MINOR
#endif
#ifdef TM_BAD_KIND_MAJOR
#define TM_KIND_MAJOR (TM_KMAJOR + 1)
#else
#define TM_KIND_MAJOR TM_KMAJOR
#endif
#ifdef TM_BAD_PLATFORM
#define TM_PLATFORM (DC_PLATFORM_SIGNATURE ^ (1u << 24))
#else
#define TM_PLATFORM DC_PLATFORM_SIGNATURE
#endif
#ifdef TM_NULL_INIT
#define TM_INIT_FN NULL
#else
#define TM_INIT_FN tm_init
#endif

#if defined(TM_BAD_MAGIC) || defined(TM_BAD_SIZE) || defined(TM_BAD_ABI_MAJOR) || \
    defined(TM_BAD_ABI_MINOR) || defined(TM_BAD_KIND_MAJOR) ||                     \
    defined(TM_BAD_PLATFORM)
/* The fixed fields written out, so that one of them can be wrong. */
#define TM_HEADER                                                              \
    .size = TM_SIZE, .magic = TM_MAGIC, .abi_major = TM_ABI_MAJOR,             \
    .abi_minor = TM_ABI_MINOR, .kind = TM_KIND, .kind_major = TM_KIND_MAJOR,   \
    .kind_minor = TM_KMINOR, .platform = TM_PLATFORM
#else
/* A well-formed header the way real modules make it. */
#define TM_HEADER DC_MODULE_HEADER(TM_KIND, TM_KMAJOR, TM_KMINOR)
#endif

#ifdef TM_NULL_INIT
/* Referenced so that -Wunused-function stays quiet. */
static int (*const tm_unused_init)(dc_host *, const dc_host_api *, void **,
                                   dc_error *) __attribute__((unused)) = tm_init;
#endif

static const dc_module_desc tm_desc = {
    TM_HEADER,
    .name = TM_NAME,
    .version = "0.1.0",
    .description = "Datacave test module " TM_NAME,
    .deps = TM_NDEPS ? tm_deps : NULL,
    .ndeps = TM_NDEPS,
    .config_keys = TM_OPTS,
    .nconfig_keys = TM_NOPTS,
    .init = TM_INIT_FN,
    .shutdown = tm_shutdown,
    .vtable = &tm_vtable,
};

/* ---- the entry symbol(s) ------------------------------------------------------ */

#ifdef TM_NO_ENTRY
/* Exported in the source, but not matched by the version script. */
DC_EXPORT const dc_module_desc *testmod_entry_v0(void) { return &tm_desc; }
#else
DC_EXPORT const dc_module_desc *datacave_module_testmod_v0(void)
{
    return &tm_desc;
}
#endif

#ifdef TM_TWO_ENTRIES
DC_EXPORT const dc_module_desc *datacave_module_testmod_extra_v0(void)
{
    return &tm_desc;
}
#endif
