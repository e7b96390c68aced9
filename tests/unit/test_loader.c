/*
 * test_loader.c - tests of host/loader.c and host/services.c with the
 * purpose-built modules of tests/modules (testmod.c, modules.mk), found in
 * $DATACAVE_TEST_MODULES (default build/tests/modules).
 *
 * 1. Every refusal of a single file (dc_module_open): the message names the
 *    file, the field and both values, computed from the ABI macros.
 * 2. Refusals of modules together (dc_runtime_load_file, dc_runtime_resolve):
 *    kind slot, duplicate name, missing required dependency, cycle.
 * 3. Init in dependency order, shutdown in exact reverse, the module's
 *    thread joined before the next module shuts down (captured through
 *    dc_log_set_hook and tm-metrics' render(), which reports its counters).
 * 4. A failing init: the modules already initialised are shut down in
 *    reverse and the error names the failing module.
 * 5. [module.<name>] sections: defaults, set values, unknown key, wrong
 *    type, stray sections.
 * 6. The service() lookup: declared, undeclared (DC_EPERM), absent optional
 *    (DC_ENOTFOUND), and loading by config with dc_runtime_load.
 *
 * Modules are never dlclose()d; everything else the tests make is freed
 * (dc_runtime_free, dc_config_free, dc_strlist_free) so that LeakSanitizer
 * has nothing to report.  Run from the repository root.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <elf.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "datacave/encryption.h"
#include "datacave/metrics.h"
#include "datacave/module.h"
#include "loader.h"
#include "log.h"

/* ------------------------------------------------------------------------
 * Helpers
 * ------------------------------------------------------------------------ */

static char g_dir[PATH_MAX];

/* "<dir>/<name>.so" in one of a few rotating buffers. */
static const char *mpath(const char *name)
{
    static char bufs[8][PATH_MAX + 64];
    static unsigned next;
    char *b = bufs[next++ % 8];
    snprintf(b, sizeof bufs[0], "%s/%s.so", g_dir, name);
    return b;
}

#define assert_contains(hay, needle)                                           \
    do {                                                                       \
        const char *h_ = (hay), *n_ = (needle);                                \
        if (h_ == NULL || strstr(h_, n_) == NULL)                              \
            fail_msg("expected \"%s\" in \"%s\"", n_, h_ ? h_ : "(null)");     \
    } while (0)

#define assert_not_contains(hay, needle)                                       \
    do {                                                                       \
        const char *h_ = (hay), *n_ = (needle);                                \
        if (h_ != NULL && strstr(h_, n_) != NULL)                              \
            fail_msg("did not expect \"%s\" in \"%s\"", n_, h_);               \
    } while (0)

/* printf into a static buffer, for expected substrings. */
static const char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
static const char *fmt(const char *f, ...)
{
    static char bufs[8][512];
    static unsigned next;
    char *b = bufs[next++ % 8];
    va_list ap;
    va_start(ap, f);
    vsnprintf(b, sizeof bufs[0], f, ap);
    va_end(ap);
    return b;
}

/* Every error in the list, joined with " | ", for messages. */
static const char *joined(const dc_strlist *l)
{
    static char buf[8192];
    buf[0] = '\0';
    for (size_t i = 0; i < l->len; i++) {
        size_t n = strlen(buf);
        snprintf(buf + n, sizeof buf - n, "%s%s", i ? " | " : "", l->items[i]);
    }
    return buf;
}

/* ---- log capture --------------------------------------------------------- */

#define MAX_LINES 1024
static char g_lines[MAX_LINES][320];
static size_t g_nlines;

/* tm-metrics' vtable while a test watches its thread, and the number of
 * exited threads it reported when "shutdown tm-storage" was logged. */
static const dc_metrics_vtable *g_watch_metrics;
static int g_exited_at_storage_shutdown = -1;

typedef struct tm_counts {
    unsigned inits, shutdowns, started, exited;
} tm_counts;

static int collect_text(void *ud, const char *data, size_t len)
{
    char *buf = ud;
    size_t n = strlen(buf);
    if (n + len >= 256)
        return DC_ERANGE;
    memcpy(buf + n, data, len);
    buf[n + len] = '\0';
    return 0;
}

/* tm-metrics' counters, through its render() (works after shutdown). */
static tm_counts metrics_counts(const dc_metrics_vtable *vt)
{
    char buf[256] = "";
    dc_error err;
    dc_error_init(&err);
    tm_counts c = {0, 0, 0, 0};
    if (vt->render(NULL, collect_text, buf, &err) != DC_OK ||
        sscanf(buf, "inits=%u shutdowns=%u threads_started=%u threads_exited=%u",
               &c.inits, &c.shutdowns, &c.started, &c.exited) != 4)
        fail_msg("tm-metrics render gave \"%s\"", buf);
    return c;
}

/* Called under the log's lock for every line written. */
static void log_hook(void *ud, int level, const char *module, const char *msg)
{
    (void)ud, (void)level;
    if (g_nlines < MAX_LINES)
        snprintf(g_lines[g_nlines++], sizeof g_lines[0], "[%s] %s", module, msg);
    if (g_watch_metrics && strcmp(msg, "shutdown tm-storage") == 0) {
        char buf[256] = "";
        unsigned a, b, c, d;
        if (g_watch_metrics->render(NULL, collect_text, buf, NULL) == DC_OK &&
            sscanf(buf, "inits=%u shutdowns=%u threads_started=%u "
                        "threads_exited=%u", &a, &b, &c, &d) == 4)
            g_exited_at_storage_shutdown = (int)d;
    }
}

static void log_reset(void) { g_nlines = 0; }

/* Index of the first captured line equal to "[module] msg", or -1. */
static int log_find(const char *module, const char *msg)
{
    char want[320];
    snprintf(want, sizeof want, "[%s] %s", module, msg);
    for (size_t i = 0; i < g_nlines; i++)
        if (strcmp(g_lines[i], want) == 0)
            return (int)i;
    return -1;
}

/* Index of the first captured line containing `s`, or -1. */
static int log_find_sub(const char *s)
{
    for (size_t i = 0; i < g_nlines; i++)
        if (strstr(g_lines[i], s))
            return (int)i;
    return -1;
}

static void log_dump(void)
{
    for (size_t i = 0; i < g_nlines; i++)
        print_message("  log %zu: %s\n", i, g_lines[i]);
}

/* The module names of captured lines "[name] <verb> name", in order. */
static size_t log_verbs(const char *verb, const char **names, size_t max)
{
    size_t n = 0;
    size_t vl = strlen(verb);
    for (size_t i = 0; i < g_nlines && n < max; i++) {
        const char *l = g_lines[i];
        const char *close = strchr(l, ']');
        if (l[0] != '[' || close == NULL || close[1] != ' ')
            continue;
        size_t ml = (size_t)(close - l - 1);
        const char *msg = close + 2;
        if (strncmp(msg, verb, vl) == 0 && msg[vl] == ' ' &&
            strlen(msg + vl + 1) == ml && strncmp(msg + vl + 1, l + 1, ml) == 0)
            names[n++] = msg + vl + 1;
    }
    return n;
}

/* ---- config and runtime ---------------------------------------------------- */

static dc_config *parse_cfg(const char *text)
{
    dc_strlist errs = {0};
    dc_config *cfg = dc_config_parse(text, strlen(text), "test.toml", NULL, &errs);
    if (cfg == NULL)
        fail_msg("config did not parse: %s", joined(&errs));
    dc_strlist_free(&errs);
    return cfg;
}

/* Load test module `name` into the slot of `kind`; must succeed. */
static void load_ok(dc_runtime *rt, uint32_t kind, const char *name)
{
    dc_strlist errs = {0};
    int rc = dc_runtime_load_file(rt, kind, mpath(name), &errs);
    if (rc != 0)
        fail_msg("loading %s failed: %s", name, joined(&errs));
    assert_int_equal(errs.len, 0);
    dc_strlist_free(&errs);
}

/* Load test module `name` into `kind`; must fail with one message, which
 * is copied to out. */
static void load_fails(dc_runtime *rt, uint32_t kind, const char *name,
                       char *out, size_t cap)
{
    dc_strlist errs = {0};
    int rc = dc_runtime_load_file(rt, kind, mpath(name), &errs);
    if (rc == 0)
        fail_msg("loading %s succeeded, expected a refusal", name);
    assert_int_equal(errs.len, 1);
    snprintf(out, cap, "%s", errs.items[0]);
    dc_strlist_free(&errs);
}

static void resolve_ok(dc_runtime *rt, bool strict)
{
    dc_strlist errs = {0};
    if (dc_runtime_resolve(rt, strict, &errs) != 0)
        fail_msg("resolve failed: %s", joined(&errs));
    dc_strlist_free(&errs);
}

/* Resolve must fail; the messages, joined, go to out. */
static void resolve_fails(dc_runtime *rt, bool strict, char *out, size_t cap)
{
    dc_strlist errs = {0};
    if (dc_runtime_resolve(rt, strict, &errs) == 0)
        fail_msg("resolve succeeded, expected a refusal");
    assert_true(errs.len > 0);
    snprintf(out, cap, "%s", joined(&errs));
    dc_strlist_free(&errs);
}

static void init_ok(dc_runtime *rt)
{
    dc_error err;
    dc_error_init(&err);
    int rc = dc_runtime_init(rt, &err);
    if (rc != DC_OK) {
        log_dump();
        fail_msg("init failed (%d): %s", rc, err.message);
    }
}

/* dc_module_open must refuse `name`; returns the message. */
static const char *open_refused(const char *name, uint32_t expect_kind)
{
    static char err[1024];
    err[0] = '\0';
    dc_module *m = dc_module_open(mpath(name), expect_kind, err, sizeof err);
    if (m != NULL) {
        dc_module_free(m);
        fail_msg("%s was accepted, expected a refusal", name);
    }
    assert_true(err[0] != '\0');
    /* One line, naming the file. */
    assert_null(strchr(err, '\n'));
    assert_contains(err, fmt("module %s: ", mpath(name)));
    return err;
}

/* ------------------------------------------------------------------------
 * 1. Refusals of one file
 * ------------------------------------------------------------------------ */

static void test_good_modules_open(void **state)
{
    (void)state;
    static const struct {
        const char *file, *name;
        uint32_t kind;
    } good[] = {
        {"tm-auth", "tm-auth", DC_KIND_AUTH},
        {"tm-enc", "tm-enc", DC_KIND_ENCRYPTION},
        {"tm-storage", "tm-storage", DC_KIND_STORAGE},
        {"tm-metrics", "tm-metrics", DC_KIND_METRICS},
        {"tm-proto", "tm-proto", DC_KIND_PROTOCOL},
        {"tm-fail", "tm-fail", DC_KIND_SQL},
        {"tm-dup-a", "tm-dup", DC_KIND_METRICS},
        {"tm-dup-b", "tm-dup", DC_KIND_ENCRYPTION},
        {"tm-cycle-sql", "tm-cycle-sql", DC_KIND_SQL},
        {"tm-cycle-proto", "tm-cycle-proto", DC_KIND_PROTOCOL},
        {"tm-bad-missing-dep", "tm-bad-missing-dep", DC_KIND_METRICS},
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        char err[1024] = "";
        dc_module *m = dc_module_open(mpath(good[i].file), good[i].kind, err,
                                      sizeof err);
        if (m == NULL)
            fail_msg("%s refused: %s", good[i].file, err);
        assert_string_equal(m->desc->name, good[i].name);
        assert_int_equal(m->desc->kind, good[i].kind);
        assert_string_equal(m->path, mpath(good[i].file));
        assert_string_equal(m->entry, "datacave_module_testmod_v0");
        assert_false(m->initialized);
        dc_module_free(m);
    }
}

static void test_refuse_bad_magic(void **state)
{
    (void)state;
    const char *e = open_refused("tm-bad-magic", DC_KIND_NONE);
    assert_contains(e, fmt("magic 0x%08x", DC_MODULE_MAGIC ^ 0x20202020u));
    assert_contains(e, fmt("host expects 0x%08x", DC_MODULE_MAGIC));
}

static void test_refuse_abi_major(void **state)
{
    (void)state;
    const char *e = open_refused("tm-bad-abi-major", DC_KIND_NONE);
    assert_contains(e, fmt("ABI major %u", DC_ABI_MAJOR + 1));
    assert_contains(e, fmt("host supports %u", DC_ABI_MAJOR));
}

static void test_refuse_abi_minor(void **state)
{
    (void)state;
    const char *e = open_refused("tm-bad-abi-minor", DC_KIND_NONE);
    assert_contains(e, fmt("ABI minor %u", DC_ABI_MINOR + 1));
    /* 0.x accepts its own minor only; later majors accept older minors. */
    if (DC_ABI_MAJOR == 0)
        assert_contains(e, fmt("host supports exactly %u", DC_ABI_MINOR));
    else
        assert_contains(e, fmt("host supports up to %u", DC_ABI_MINOR));
}

static void test_refuse_short_descriptor(void **state)
{
    (void)state;
    const char *e = open_refused("tm-bad-size", DC_KIND_NONE);
    assert_contains(e, fmt("descriptor size %zu", offsetof(dc_module_desc, vtable)));
    assert_contains(e, fmt("at least %zu", (size_t)DC_MODULE_DESC_MIN_SIZE));
}

static void test_refuse_null_init(void **state)
{
    (void)state;
    const char *e = open_refused("tm-bad-null-init", DC_KIND_NONE);
    assert_contains(e, "required callback init is NULL");
}

static void test_refuse_null_vtable_callback(void **state)
{
    (void)state;
    const char *e = open_refused("tm-bad-null-get", DC_KIND_NONE);
    assert_contains(e, "required callback storage.get is NULL");
    /* The same with the kind expected, as [modules] storage would. */
    e = open_refused("tm-bad-null-get", DC_KIND_STORAGE);
    assert_contains(e, "storage.get");
}

static void test_refuse_kind_major(void **state)
{
    (void)state;
    const char *e = open_refused("tm-bad-kind-major", DC_KIND_NONE);
    assert_contains(e, fmt("metrics vtable major %u", DC_METRICS_VTABLE_MAJOR + 1));
    assert_contains(e, fmt("host supports %u", DC_METRICS_VTABLE_MAJOR));
}

static void test_refuse_platform(void **state)
{
    (void)state;
    const char *e = open_refused("tm-bad-platform", DC_KIND_NONE);
    assert_contains(e, fmt("platform signature 0x%08x",
                           DC_PLATFORM_SIGNATURE ^ (1u << 24)));
    assert_contains(e, fmt("host is 0x%08x", DC_PLATFORM_SIGNATURE));
}

static void test_refuse_no_entry(void **state)
{
    (void)state;
    const char *e = open_refused("tm-bad-no-entry", DC_KIND_NONE);
    assert_contains(e, "entry symbols 0");
    assert_contains(e, DC_MODULE_ENTRY_PREFIX);
}

static void test_refuse_two_entries(void **state)
{
    (void)state;
    const char *e = open_refused("tm-bad-two-entries", DC_KIND_NONE);
    assert_contains(e, "entry symbols 2");
    assert_contains(e, "datacave_module_testmod_v0");
    assert_contains(e, "datacave_module_testmod_extra_v0");
    assert_contains(e, "exactly one");
}

static void test_refuse_missing_file(void **state)
{
    (void)state;
    const char *e = open_refused("tm-no-such-module", DC_KIND_NONE);
    assert_contains(e, strerror(ENOENT));
}

static void test_refuse_not_shared_object(void **state)
{
    (void)state;
    const char *e = open_refused("tm-bad-text", DC_KIND_NONE);
    assert_contains(e, "not an ELF file");
    e = open_refused("tm-bad-object", DC_KIND_NONE);
    assert_contains(e, fmt("ELF type %u", (unsigned)ET_REL));
    assert_contains(e, fmt("shared object (%u)", (unsigned)ET_DYN));
    /* A directory is not a module either. */
    char err[1024] = "";
    dc_module *m = dc_module_open(g_dir, DC_KIND_NONE, err, sizeof err);
    assert_null(m);
    assert_contains(err, g_dir);
}

static void test_refuse_wrong_kind(void **state)
{
    (void)state;
    const char *e = open_refused("tm-metrics", DC_KIND_STORAGE);
    assert_contains(e, "kind metrics");
    assert_contains(e, "[modules] storage expects a storage module");
}

/* ------------------------------------------------------------------------
 * 2. Refusals of modules together
 * ------------------------------------------------------------------------ */

static void test_refuse_occupied_slot(void **state)
{
    (void)state;
    dc_config *cfg = parse_cfg("");
    dc_runtime *rt = dc_runtime_new(cfg);
    char msg[1024];
    load_ok(rt, DC_KIND_AUTH, "tm-auth");
    load_fails(rt, DC_KIND_AUTH, "tm-auth", msg, sizeof msg);
    assert_contains(msg, "auth module is already loaded");
    /* Kinds outside 1..DC_KIND__COUNT-1 have no slot. */
    dc_strlist errs = {0};
    assert_int_not_equal(dc_runtime_load_file(rt, DC_KIND__COUNT,
                                              mpath("tm-auth"), &errs), 0);
    assert_int_equal(errs.len, 1);
    dc_strlist_free(&errs);
    /* A refused file leaves its slot empty. */
    load_fails(rt, DC_KIND_METRICS, "tm-bad-abi-major", msg, sizeof msg);
    assert_contains(msg, fmt("ABI major %u, host supports %u", DC_ABI_MAJOR + 1,
                             DC_ABI_MAJOR));
    assert_null(dc_runtime_module(rt, DC_KIND_METRICS));
    dc_runtime_free(rt);
    dc_config_free(cfg);
}

static void test_refuse_duplicate_name(void **state)
{
    (void)state;
    dc_config *cfg = parse_cfg("");
    dc_runtime *rt = dc_runtime_new(cfg);
    char msg[1024];
    load_ok(rt, DC_KIND_METRICS, "tm-dup-a");
    load_fails(rt, DC_KIND_ENCRYPTION, "tm-dup-b", msg, sizeof msg);
    assert_contains(msg, fmt("module %s: ", mpath("tm-dup-b")));
    assert_contains(msg, "name \"tm-dup\"");
    assert_contains(msg, fmt("already used by %s", mpath("tm-dup-a")));
    assert_null(dc_runtime_module(rt, DC_KIND_ENCRYPTION));
    dc_runtime_free(rt);
    dc_config_free(cfg);
}

static void test_refuse_missing_dependency(void **state)
{
    (void)state;
    dc_config *cfg = parse_cfg("");
    char msg[4096];

    dc_runtime *rt = dc_runtime_new(cfg);
    load_ok(rt, DC_KIND_METRICS, "tm-bad-missing-dep");
    resolve_fails(rt, false, msg, sizeof msg);
    assert_contains(msg, fmt("module %s: ", mpath("tm-bad-missing-dep")));
    assert_contains(msg, "dependency sql missing");
    assert_contains(msg, "[modules] sql");
    dc_runtime_free(rt);

    /* A required dependency further down a chain. */
    rt = dc_runtime_new(cfg);
    load_ok(rt, DC_KIND_STORAGE, "tm-storage");
    load_ok(rt, DC_KIND_ENCRYPTION, "tm-enc");
    resolve_fails(rt, false, msg, sizeof msg);
    assert_contains(msg, fmt("module %s: dependency auth missing", mpath("tm-enc")));
    assert_not_contains(msg, "tm-storage");
    dc_runtime_free(rt);

    /* An optional one may be absent. */
    rt = dc_runtime_new(cfg);
    load_ok(rt, DC_KIND_METRICS, "tm-metrics");
    resolve_ok(rt, false);
    dc_runtime_free(rt);
    dc_config_free(cfg);
}

static void test_refuse_cycle(void **state)
{
    (void)state;
    dc_config *cfg = parse_cfg("");
    dc_runtime *rt = dc_runtime_new(cfg);
    char msg[4096];
    load_ok(rt, DC_KIND_SQL, "tm-cycle-sql");
    load_ok(rt, DC_KIND_PROTOCOL, "tm-cycle-proto");
    resolve_fails(rt, false, msg, sizeof msg);
    assert_contains(msg, "dependency cycle");
    assert_contains(msg, "tm-cycle-sql (sql)");
    assert_contains(msg, "tm-cycle-proto (protocol)");
    dc_runtime_free(rt);
    dc_config_free(cfg);
}

/* ------------------------------------------------------------------------
 * 3. Init and shutdown order
 * ------------------------------------------------------------------------ */

/* Every module's loaded dependencies come before it in the init order. */
static void assert_dependency_order(dc_runtime *rt)
{
    size_t n;
    dc_module *const *order = dc_runtime_order(rt, &n);
    for (size_t i = 0; i < n; i++) {
        const dc_module_desc *d = order[i]->desc;
        for (uint32_t j = 0; j < d->ndeps; j++) {
            dc_module *dep = dc_runtime_module(rt, d->deps[j].kind);
            if (dep == NULL)
                continue;
            size_t pos = n;
            for (size_t k = 0; k < n; k++)
                if (order[k] == dep)
                    pos = k;
            if (pos >= i)
                fail_msg("%s is initialised before its dependency %s",
                         d->name, dep->desc->name);
        }
    }
}

static void test_init_shutdown_order(void **state)
{
    (void)state;
    dc_config *cfg = parse_cfg("[server]\nmax_connections = 10\n");
    dc_runtime *rt = dc_runtime_new(cfg);
    /* Loaded in the host's default kind order: the dependencies reverse it. */
    load_ok(rt, DC_KIND_METRICS, "tm-metrics");
    load_ok(rt, DC_KIND_ENCRYPTION, "tm-enc");
    load_ok(rt, DC_KIND_STORAGE, "tm-storage");
    load_ok(rt, DC_KIND_AUTH, "tm-auth");
    load_ok(rt, DC_KIND_PROTOCOL, "tm-proto");
    resolve_ok(rt, true);

    static const char *const expect[] = {"tm-auth", "tm-enc", "tm-storage",
                                         "tm-metrics", "tm-proto"};
    const size_t nexp = sizeof expect / sizeof expect[0];
    size_t n;
    dc_module *const *order = dc_runtime_order(rt, &n);
    assert_int_equal(n, nexp);
    for (size_t i = 0; i < n; i++)
        assert_string_equal(order[i]->desc->name, expect[i]);
    assert_dependency_order(rt);

    const dc_metrics_vtable *mv =
        dc_runtime_module(rt, DC_KIND_METRICS)->desc->vtable;
    tm_counts before = metrics_counts(mv);

    log_reset();
    init_ok(rt);
    assert_int_equal(dc_runtime_state(rt), DC_STATE_STARTING);
    dc_runtime_set_state(rt, DC_STATE_READY);
    assert_int_equal(dc_runtime_state(rt), DC_STATE_READY);
    for (size_t i = 0; i < n; i++) {
        assert_true(order[i]->initialized);
        assert_non_null(order[i]->instance);
    }
    const char *inits[16];
    size_t ni = log_verbs("init", inits, 16);
    if (ni != nexp)
        log_dump();
    assert_int_equal(ni, nexp);
    for (size_t i = 0; i < ni; i++)
        assert_string_equal(inits[i], expect[i]);
    tm_counts running = metrics_counts(mv);
    assert_int_equal(running.inits, before.inits + 1);
    assert_int_equal(running.started, before.started + 1);
    assert_int_equal(running.exited, before.exited);

    log_reset();
    g_watch_metrics = mv;
    g_exited_at_storage_shutdown = -1;
    dc_runtime_shutdown(rt);
    g_watch_metrics = NULL;
    assert_int_equal(dc_runtime_state(rt), DC_STATE_STOPPING);

    const char *downs[16];
    size_t nd = log_verbs("shutdown", downs, 16);
    if (nd != nexp)
        log_dump();
    assert_int_equal(nd, nexp);
    for (size_t i = 0; i < nd; i++)
        assert_string_equal(downs[i], expect[nexp - 1 - i]);
    for (size_t i = 0; i < n; i++) {
        assert_false(order[i]->initialized);
        assert_null(order[i]->instance);
    }
    /* tm-metrics' shutdown() only tells its thread to stop; the thread
     * lingers before it counts itself exited.  The host joined it after
     * shutdown() returned and before the next module (tm-storage) was shut
     * down. */
    tm_counts after = metrics_counts(mv);
    assert_int_equal(after.shutdowns, before.shutdowns + 1);
    assert_int_equal(after.exited, before.exited + 1);
    assert_int_equal(g_exited_at_storage_shutdown, (int)before.exited + 1);

    /* A second shutdown does nothing. */
    log_reset();
    dc_runtime_shutdown(rt);
    assert_int_equal(log_verbs("shutdown", downs, 16), 0);

    dc_runtime_free(rt);
    dc_config_free(cfg);
}

/* ------------------------------------------------------------------------
 * 4. A failing init
 * ------------------------------------------------------------------------ */

static void test_init_failure(void **state)
{
    (void)state;
    dc_config *cfg = parse_cfg("");
    dc_runtime *rt = dc_runtime_new(cfg);
    load_ok(rt, DC_KIND_AUTH, "tm-auth");
    load_ok(rt, DC_KIND_ENCRYPTION, "tm-enc");
    load_ok(rt, DC_KIND_STORAGE, "tm-storage");
    load_ok(rt, DC_KIND_METRICS, "tm-metrics");
    load_ok(rt, DC_KIND_SQL, "tm-fail");
    resolve_ok(rt, true);
    size_t n;
    dc_module *const *order = dc_runtime_order(rt, &n);
    assert_int_equal(n, 5);
    assert_string_equal(order[n - 1]->desc->name, "tm-fail");
    assert_dependency_order(rt);

    const dc_metrics_vtable *mv =
        dc_runtime_module(rt, DC_KIND_METRICS)->desc->vtable;
    tm_counts before = metrics_counts(mv);

    log_reset();
    dc_error err;
    dc_error_init(&err);
    int rc = dc_runtime_init(rt, &err);
    assert_int_equal(rc, DC_EINVAL);
    assert_int_equal(err.status, DC_EINVAL);
    assert_string_equal(err.sqlstate, DC_SQLSTATE_CONFIG);
    assert_contains(err.message, "tm-fail");
    assert_contains(err.message, mpath("tm-fail"));
    assert_contains(err.message, "deliberate init failure");

    const char *inits[16], *downs[16];
    size_t ni = log_verbs("init", inits, 16);
    size_t nd = log_verbs("shutdown", downs, 16);
    if (ni != n || nd != n - 1)
        log_dump();
    assert_int_equal(ni, n);
    for (size_t i = 0; i < n; i++)
        assert_string_equal(inits[i], order[i]->desc->name);
    /* Every module but the failing one, in exact reverse. */
    assert_int_equal(nd, n - 1);
    for (size_t i = 0; i < nd; i++)
        assert_string_equal(downs[i], order[n - 2 - i]->desc->name);
    assert_int_equal(log_find("tm-fail", "shutdown tm-fail"), -1);
    /* The shutdowns come after the failure. */
    assert_true(log_find("tm-metrics", "shutdown tm-metrics") >
                log_find("tm-fail", "init tm-fail"));
    for (size_t i = 0; i < n; i++)
        assert_false(order[i]->initialized);

    tm_counts after = metrics_counts(mv);
    assert_int_equal(after.shutdowns, before.shutdowns + 1);
    assert_int_equal(after.exited, after.started);

    dc_runtime_free(rt);
    dc_config_free(cfg);
}

/* ------------------------------------------------------------------------
 * 5. Module config sections
 * ------------------------------------------------------------------------ */

/* Load tm-metrics alone under a config, resolve, init, shut down; the
 * "options ..." line it logged goes to out. */
static void metrics_options(const char *text, char *out, size_t cap)
{
    dc_config *cfg = parse_cfg(text);
    dc_runtime *rt = dc_runtime_new(cfg);
    load_ok(rt, DC_KIND_METRICS, "tm-metrics");
    resolve_ok(rt, true);
    log_reset();
    init_ok(rt);
    int i = log_find_sub("[tm-metrics] options ");
    if (i < 0) {
        log_dump();
        fail_msg("tm-metrics logged no options");
    }
    snprintf(out, cap, "%s", g_lines[i]);
    dc_runtime_shutdown(rt);
    dc_runtime_free(rt);
    dc_config_free(cfg);
}

static void test_config_defaults_and_values(void **state)
{
    (void)state;
    char line[512];
    metrics_options("", line, sizeof line);
    assert_string_equal(line, "[tm-metrics] options greeting=hello count=3");
    metrics_options("[module.tm-metrics]\ngreeting = \"hi\"\n", line, sizeof line);
    assert_string_equal(line, "[tm-metrics] options greeting=hi count=3");
    metrics_options("[module.tm-metrics]\ncount = 42\ngreeting = \"hey\"\n", line,
                    sizeof line);
    assert_string_equal(line, "[tm-metrics] options greeting=hey count=42");
    /* Dotted keys reach the same section. */
    metrics_options("module.tm-metrics.count = 7\n", line, sizeof line);
    assert_string_equal(line, "[tm-metrics] options greeting=hello count=7");
}

/* Resolve tm-metrics under `text`; must fail; messages to out. */
static void metrics_config_refused(const char *text, bool strict, char *out,
                                   size_t cap)
{
    dc_config *cfg = parse_cfg(text);
    dc_runtime *rt = dc_runtime_new(cfg);
    load_ok(rt, DC_KIND_METRICS, "tm-metrics");
    resolve_fails(rt, strict, out, cap);
    dc_runtime_free(rt);
    dc_config_free(cfg);
}

static void test_config_refused(void **state)
{
    (void)state;
    char msg[4096];
    /* An undeclared key: named with its line. */
    metrics_config_refused("[server]\nmax_connections = 5\n\n[module.tm-metrics]\n"
                           "greeting = \"hi\"\ncolour = \"red\"\n",
                           true, msg, sizeof msg);
    assert_contains(msg, "test.toml:6:");
    assert_contains(msg, "unknown key 'colour'");
    assert_contains(msg, "[module.tm-metrics]");
    assert_contains(msg, "greeting, count"); /* what it does have */

    /* A declared key of another type. */
    metrics_config_refused("[module.tm-metrics]\ngreeting = \"hi\"\ncount = \"three\"\n",
                           true, msg, sizeof msg);
    assert_contains(msg, "test.toml:3:");
    assert_contains(msg, "module.tm-metrics.count");
    assert_contains(msg, "integer");
    assert_contains(msg, "string");
    assert_not_contains(msg, "greeting");

    metrics_config_refused("[module.tm-metrics]\ngreeting = 12\n", true, msg,
                           sizeof msg);
    assert_contains(msg, "test.toml:2:");
    assert_contains(msg, "module.tm-metrics.greeting must be a string");

    /* Both problems at once are both reported. */
    metrics_config_refused("[module.tm-metrics]\nbogus = 1\ncount = true\n", true,
                           msg, sizeof msg);
    assert_contains(msg, "test.toml:2:");
    assert_contains(msg, "'bogus'");
    assert_contains(msg, "test.toml:3:");
    assert_contains(msg, "module.tm-metrics.count");

    /* A section for a module that is not loaded: refused when strict. */
    metrics_config_refused("\n[module.tm-nosuch]\nx = 1\n", true, msg, sizeof msg);
    assert_contains(msg, "test.toml:2:");
    assert_contains(msg, "[module.tm-nosuch]");
    dc_config *cfg = parse_cfg("[module.tm-nosuch]\nx = 1\n");
    dc_runtime *rt = dc_runtime_new(cfg);
    load_ok(rt, DC_KIND_METRICS, "tm-metrics");
    resolve_ok(rt, false);
    dc_runtime_free(rt);
    dc_config_free(cfg);
}

/* ------------------------------------------------------------------------
 * 6. Services and loading by config
 * ------------------------------------------------------------------------ */

static void test_service_lookup(void **state)
{
    (void)state;
    dc_config *cfg = parse_cfg("");
    dc_runtime *rt = dc_runtime_new(cfg);
    load_ok(rt, DC_KIND_AUTH, "tm-auth");
    load_ok(rt, DC_KIND_ENCRYPTION, "tm-enc");
    load_ok(rt, DC_KIND_STORAGE, "tm-storage");
    resolve_ok(rt, true);
    log_reset();
    init_ok(rt);

    /* What the modules saw in their init (they fail init otherwise). */
    assert_true(log_find("tm-enc", "service auth rc=0") >= 0);
    assert_true(log_find("tm-storage", "service encryption rc=0") >= 0);
    assert_true(log_find("tm-storage", "roundtrip through encryption ok") >= 0);
    assert_true(log_find("tm-storage", fmt("undeclared protocol rc=%d", DC_EPERM)) >= 0);
    assert_true(log_find("tm-auth", fmt("undeclared protocol rc=%d", DC_EPERM)) >= 0);

    /* The same from here, with the storage module's handle. */
    const dc_host_api *api = dc_host_api_table();
    assert_true(api->size == sizeof(dc_host_api));
    assert_int_equal(api->abi_major, DC_ABI_MAJOR);
    assert_int_equal(api->abi_minor, DC_ABI_MINOR);
    dc_module *st = dc_runtime_module(rt, DC_KIND_STORAGE);
    dc_module *en = dc_runtime_module(rt, DC_KIND_ENCRYPTION);
    const void *vt = NULL;
    void *inst = NULL;
    assert_int_equal(api->service(st->host, DC_KIND_ENCRYPTION, &vt, &inst), DC_OK);
    assert_ptr_equal(vt, en->desc->vtable);
    assert_ptr_equal(inst, en->instance);

    /* Undeclared: DC_EPERM, even for a kind that is loaded; outputs kept. */
    const void *keep_vt = (const void *)&vt;
    void *keep_inst = (void *)&inst;
    vt = keep_vt;
    inst = keep_inst;
    assert_int_equal(api->service(st->host, DC_KIND_AUTH, &vt, &inst), DC_EPERM);
    assert_int_equal(api->service(st->host, DC_KIND_PROTOCOL, &vt, &inst), DC_EPERM);
    assert_int_equal(api->service(st->host, DC_KIND_NONE, &vt, &inst), DC_EINVAL);
    assert_int_equal(api->service(st->host, DC_KIND__COUNT, &vt, &inst), DC_EINVAL);
    assert_ptr_equal(vt, keep_vt);
    assert_ptr_equal(inst, keep_inst);

    /* Module-relative config paths resolve under [module.<name>]. */
    int64_t iv = 0;
    assert_int_equal(api->config_int(st->host, ".nothing", &iv), DC_ENOTFOUND);
    assert_int_equal(api->config_int(st->host, "server.max_connections", &iv), DC_OK);
    assert_int_equal(iv, 100);

    dc_runtime_shutdown(rt);
    dc_runtime_free(rt);
    dc_config_free(cfg);

    /* An optional dependency that is not loaded: DC_ENOTFOUND. */
    cfg = parse_cfg("");
    rt = dc_runtime_new(cfg);
    load_ok(rt, DC_KIND_METRICS, "tm-metrics");
    resolve_ok(rt, true);
    log_reset();
    init_ok(rt);
    assert_true(log_find("tm-metrics", fmt("service storage rc=%d", DC_ENOTFOUND)) >= 0);
    dc_module *me = dc_runtime_module(rt, DC_KIND_METRICS);
    assert_int_equal(api->service(me->host, DC_KIND_STORAGE, &vt, &inst), DC_ENOTFOUND);
    dc_runtime_shutdown(rt);
    dc_runtime_free(rt);
    dc_config_free(cfg);
}

static void test_load_by_config(void **state)
{
    (void)state;
    char text[PATH_MAX + 512];
    snprintf(text, sizeof text,
             "[server]\nmodule_dir = \"%s\"\n\n[modules]\nprotocol = \"\"\n"
             "sql = \"\"\nstorage = \"tm-storage\"\nauth = \"tm-auth\"\n"
             "encryption = \"tm-enc\"\nmetrics = \"tm-metrics\"\n",
             g_dir);
    dc_config *cfg = parse_cfg(text);
    char *p = dc_module_path(cfg, "tm-enc");
    assert_string_equal(p, mpath("tm-enc"));
    free(p);

    /* Asking for metrics brings in what it depends on, transitively. */
    dc_runtime *rt = dc_runtime_new(cfg);
    dc_strlist errs = {0};
    if (dc_runtime_load(rt, 1u << DC_KIND_METRICS, &errs) != 0)
        fail_msg("load failed: %s", joined(&errs));
    dc_strlist_free(&errs);
    assert_non_null(dc_runtime_module(rt, DC_KIND_METRICS));
    assert_non_null(dc_runtime_module(rt, DC_KIND_STORAGE));
    assert_non_null(dc_runtime_module(rt, DC_KIND_ENCRYPTION));
    assert_non_null(dc_runtime_module(rt, DC_KIND_AUTH));
    assert_null(dc_runtime_module(rt, DC_KIND_SQL));
    assert_null(dc_runtime_module(rt, DC_KIND_PROTOCOL));
    assert_string_equal(dc_runtime_module(rt, DC_KIND_AUTH)->path, mpath("tm-auth"));
    resolve_ok(rt, true);
    log_reset();
    init_ok(rt);
    dc_runtime_shutdown(rt);
    const char *downs[16];
    assert_int_equal(log_verbs("shutdown", downs, 16), 4);
    dc_runtime_free(rt);
    dc_config_free(cfg);

    /* Refusals through the config name the resolved file. */
    snprintf(text, sizeof text,
             "[server]\nmodule_dir = \"%s\"\n\n[modules]\nprotocol = \"\"\n"
             "sql = \"\"\nstorage = \"tm-metrics\"\nauth = \"\"\n"
             "encryption = \"\"\nmetrics = \"tm-no-such-module\"\n",
             g_dir);
    cfg = parse_cfg(text);
    rt = dc_runtime_new(cfg);
    assert_int_not_equal(dc_runtime_load(rt, 0x7eu, &errs), 0);
    assert_int_equal(errs.len, 2);
    const char *all = joined(&errs);
    assert_contains(all, fmt("module %s: kind metrics, [modules] storage expects "
                             "a storage module", mpath("tm-metrics")));
    assert_contains(all, fmt("module %s: ", mpath("tm-no-such-module")));
    assert_contains(all, strerror(ENOENT));
    dc_strlist_free(&errs);
    dc_runtime_free(rt);
    dc_config_free(cfg);

    /* A value with '/' is a path relative to the config's directory. */
    const char *cfgtext = "[modules]\nauth = \"./tm-auth.so\"\n";
    errs = (dc_strlist){0};
    cfg = dc_config_parse(cfgtext, strlen(cfgtext), "rel.toml", g_dir, &errs);
    assert_non_null(cfg);
    dc_strlist_free(&errs);
    p = dc_module_path(cfg, "./tm-auth.so");
    assert_contains(p, g_dir);
    free(p);
    rt = dc_runtime_new(cfg);
    assert_int_equal(dc_runtime_load(rt, 1u << DC_KIND_AUTH, &errs), 0);
    assert_int_equal(errs.len, 0);
    assert_string_equal(dc_runtime_module(rt, DC_KIND_AUTH)->desc->name, "tm-auth");
    dc_strlist_free(&errs);
    dc_runtime_free(rt);
    dc_config_free(cfg);
}

/* ------------------------------------------------------------------------ */

static int setup(void **state)
{
    (void)state;
    const char *d = getenv("DATACAVE_TEST_MODULES");
    snprintf(g_dir, sizeof g_dir, "%s", d && *d ? d : "build/tests/modules");
    char probe[PATH_MAX + 32];
    snprintf(probe, sizeof probe, "%s/tm-auth.so", g_dir);
    FILE *f = fopen(probe, "rb");
    if (f == NULL) {
        fprintf(stderr, "test_loader: no test modules in %s (set "
                        "DATACAVE_TEST_MODULES; `make test` builds them)\n",
                g_dir);
        return -1;
    }
    fclose(f);
    dc_log_set_level(DC_LOG_DEBUG);
    dc_log_set_hook(log_hook, NULL);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    dc_log_set_hook(NULL, NULL);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_modules_open),
        cmocka_unit_test(test_refuse_bad_magic),
        cmocka_unit_test(test_refuse_abi_major),
        cmocka_unit_test(test_refuse_abi_minor),
        cmocka_unit_test(test_refuse_short_descriptor),
        cmocka_unit_test(test_refuse_null_init),
        cmocka_unit_test(test_refuse_null_vtable_callback),
        cmocka_unit_test(test_refuse_kind_major),
        cmocka_unit_test(test_refuse_platform),
        cmocka_unit_test(test_refuse_no_entry),
        cmocka_unit_test(test_refuse_two_entries),
        cmocka_unit_test(test_refuse_missing_file),
        cmocka_unit_test(test_refuse_not_shared_object),
        cmocka_unit_test(test_refuse_wrong_kind),
        cmocka_unit_test(test_refuse_occupied_slot),
        cmocka_unit_test(test_refuse_duplicate_name),
        cmocka_unit_test(test_refuse_missing_dependency),
        cmocka_unit_test(test_refuse_cycle),
        cmocka_unit_test(test_init_shutdown_order),
        cmocka_unit_test(test_init_failure),
        cmocka_unit_test(test_config_defaults_and_values),
        cmocka_unit_test(test_config_refused),
        cmocka_unit_test(test_service_lookup),
        cmocka_unit_test(test_load_by_config),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
