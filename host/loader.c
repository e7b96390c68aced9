/*
 * loader.c - see loader.h.  The checks follow docs/abi.md, in the order
 * listed there; the first failing one is reported.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "datacave/auth.h"
#include "datacave/encryption.h"
#include "datacave/metrics.h"
#include "datacave/protocol.h"
#include "datacave/sql.h"
#include "datacave/storage.h"
#include "elfread.h"
#include "log.h"
#include "metrics_registry.h"
#include "runtime.h"

/* ---- what the host knows of each kind --------------------------------- */

typedef struct req_fn {
    const char *name;
    size_t offset;
} req_fn;

typedef struct kind_info {
    uint16_t major, minor;
    const req_fn *req;
    size_t nreq;
} kind_info;

#define REQ(T, f) {#f, offsetof(T, f)}
static const req_fn REQ_PROTOCOL[] = {REQ(dc_protocol_vtable, start),
                                      REQ(dc_protocol_vtable, stop)};
static const req_fn REQ_SQL[] = {
    REQ(dc_sql_vtable, session_open), REQ(dc_sql_vtable, session_close),
    REQ(dc_sql_vtable, exec), REQ(dc_sql_vtable, txn_status)};
static const req_fn REQ_STORAGE[] = {
    REQ(dc_storage_vtable, open),          REQ(dc_storage_vtable, close),
    REQ(dc_storage_vtable, get),           REQ(dc_storage_vtable, write),
    REQ(dc_storage_vtable, snapshot_acquire),
    REQ(dc_storage_vtable, snapshot_seq),  REQ(dc_storage_vtable, snapshot_release),
    REQ(dc_storage_vtable, iter_open),     REQ(dc_storage_vtable, iter_seek),
    REQ(dc_storage_vtable, iter_seek_first), REQ(dc_storage_vtable, iter_next),
    REQ(dc_storage_vtable, iter_valid),    REQ(dc_storage_vtable, iter_key),
    REQ(dc_storage_vtable, iter_value),    REQ(dc_storage_vtable, iter_status),
    REQ(dc_storage_vtable, iter_close),    REQ(dc_storage_vtable, key_seq)};
static const req_fn REQ_AUTH[] = {REQ(dc_auth_vtable, begin), REQ(dc_auth_vtable, step),
                                  REQ(dc_auth_vtable, identity),
                                  REQ(dc_auth_vtable, end)};
static const req_fn REQ_ENCRYPTION[] = {
    REQ(dc_encryption_vtable, overhead), REQ(dc_encryption_vtable, current_key_id),
    REQ(dc_encryption_vtable, seal), REQ(dc_encryption_vtable, open)};
#undef REQ

#define N(a) (sizeof(a) / sizeof((a)[0]))
static const kind_info KINDS[DC_KIND__COUNT] = {
    [DC_KIND_PROTOCOL] = {DC_PROTOCOL_VTABLE_MAJOR, DC_PROTOCOL_VTABLE_MINOR,
                          REQ_PROTOCOL, N(REQ_PROTOCOL)},
    [DC_KIND_SQL] = {DC_SQL_VTABLE_MAJOR, DC_SQL_VTABLE_MINOR, REQ_SQL, N(REQ_SQL)},
    [DC_KIND_STORAGE] = {DC_STORAGE_VTABLE_MAJOR, DC_STORAGE_VTABLE_MINOR,
                         REQ_STORAGE, N(REQ_STORAGE)},
    [DC_KIND_AUTH] = {DC_AUTH_VTABLE_MAJOR, DC_AUTH_VTABLE_MINOR, REQ_AUTH,
                      N(REQ_AUTH)},
    [DC_KIND_ENCRYPTION] = {DC_ENCRYPTION_VTABLE_MAJOR, DC_ENCRYPTION_VTABLE_MINOR,
                            REQ_ENCRYPTION, N(REQ_ENCRYPTION)},
    [DC_KIND_METRICS] = {DC_METRICS_VTABLE_MAJOR, DC_METRICS_VTABLE_MINOR, NULL, 0},
};

/* The smallest vtable size of a kind: past its last required callback. */
static size_t kind_min_size(const kind_info *k)
{
    size_t min = sizeof(uint32_t);
    for (size_t i = 0; i < k->nreq; i++)
        if (k->req[i].offset + sizeof(void (*)(void)) > min)
            min = k->req[i].offset + sizeof(void (*)(void));
    return min;
}

/* Init order among modules that do not depend on each other: metrics first
 * (so health checks answer during recovery), protocol last. */
static const uint32_t KIND_ORDER[] = {DC_KIND_METRICS, DC_KIND_ENCRYPTION,
                                      DC_KIND_STORAGE, DC_KIND_SQL,
                                      DC_KIND_AUTH,    DC_KIND_PROTOCOL};

/* ---- opening one module ---------------------------------------------- */

/* True for [a-z0-9][a-z0-9_-]{0,62}. */
static bool valid_module_name(const char *s)
{
    if (s == NULL || *s == '\0' || strlen(s) > 63)
        return false;
    for (const char *p = s; *p; p++) {
        bool ok = (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
                  (p != s && (*p == '_' || *p == '-'));
        if (!ok)
            return false;
    }
    return true;
}

/* Check the descriptor's own fields; returns 0 or -1 with err set. */
static int check_desc(const char *path, const dc_module_desc *d,
                      uint32_t expect_kind, char *err, size_t errlen)
{
    if (d->magic != DC_MODULE_MAGIC) {
        snprintf(err, errlen, "module %s: magic 0x%08x, host expects 0x%08x",
                 path, d->magic, DC_MODULE_MAGIC);
        return -1;
    }
    if (d->size < DC_MODULE_DESC_MIN_SIZE) {
        snprintf(err, errlen,
                 "module %s: descriptor size %u, host expects at least %zu",
                 path, d->size, (size_t)DC_MODULE_DESC_MIN_SIZE);
        return -1;
    }
    if (d->abi_major != DC_ABI_MAJOR) {
        snprintf(err, errlen, "module %s: ABI major %u, host supports %u", path,
                 d->abi_major, DC_ABI_MAJOR);
        return -1;
    }
    /* While the ABI is 0.x any minor may break: only the host's own minor
     * is accepted.  From 1.0 on, older minors are accepted too. */
    if (DC_ABI_MAJOR == 0 && d->abi_minor != DC_ABI_MINOR) {
        snprintf(err, errlen,
                 "module %s: ABI minor %u, host supports exactly %u (ABI 0.x)",
                 path, d->abi_minor, DC_ABI_MINOR);
        return -1;
    }
    if (d->abi_minor > DC_ABI_MINOR) {
        snprintf(err, errlen, "module %s: ABI minor %u, host supports up to %u",
                 path, d->abi_minor, DC_ABI_MINOR);
        return -1;
    }
    if (d->platform != DC_PLATFORM_SIGNATURE) {
        snprintf(err, errlen,
                 "module %s: platform signature 0x%08x, host is 0x%08x", path,
                 d->platform, DC_PLATFORM_SIGNATURE);
        return -1;
    }
    if (d->kind == DC_KIND_NONE || d->kind >= DC_KIND__COUNT) {
        snprintf(err, errlen, "module %s: kind %u, host knows kinds 1 to %d",
                 path, d->kind, DC_KIND__COUNT - 1);
        return -1;
    }
    if (expect_kind != DC_KIND_NONE && d->kind != expect_kind) {
        snprintf(err, errlen,
                 "module %s: kind %s, [modules] %s expects a %s module", path,
                 dc_kind_name(d->kind), dc_kind_name(expect_kind),
                 dc_kind_name(expect_kind));
        return -1;
    }
    const kind_info *k = &KINDS[d->kind];
    const char *kn = dc_kind_name(d->kind);
    if (d->kind_major != k->major) {
        snprintf(err, errlen, "module %s: %s vtable major %u, host supports %u",
                 path, kn, d->kind_major, k->major);
        return -1;
    }
    if (d->kind_minor > k->minor) {
        snprintf(err, errlen,
                 "module %s: %s vtable minor %u, host supports up to %u", path,
                 kn, d->kind_minor, k->minor);
        return -1;
    }
    if (!valid_module_name(d->name)) {
        snprintf(err, errlen,
                 "module %s: name \"%.80s\", host expects [a-z0-9][a-z0-9_-]* "
                 "of at most 63 bytes",
                 path, d->name ? d->name : "(null)");
        return -1;
    }
    if (d->version == NULL || d->version[0] == '\0') {
        snprintf(err, errlen, "module %s: version missing, host expects a "
                 "version string", path);
        return -1;
    }
    if (d->init == NULL || d->shutdown == NULL || d->vtable == NULL) {
        snprintf(err, errlen, "module %s: required callback %s is NULL", path,
                 d->init == NULL ? "init"
                 : d->shutdown == NULL ? "shutdown" : "vtable");
        return -1;
    }
    uint32_t vsize = *(const uint32_t *)d->vtable;
    size_t min = kind_min_size(k);
    if (vsize < min) {
        snprintf(err, errlen,
                 "module %s: %s vtable size %u, host expects at least %zu",
                 path, kn, vsize, min);
        return -1;
    }
    for (size_t i = 0; i < k->nreq; i++) {
        void (*fn)(void);
        memcpy(&fn, (const char *)d->vtable + k->req[i].offset, sizeof fn);
        if (fn == NULL) {
            snprintf(err, errlen, "module %s: required callback %s.%s is NULL",
                     path, kn, k->req[i].name);
            return -1;
        }
    }
    if (d->ndeps > 0 && d->deps == NULL) {
        snprintf(err, errlen, "module %s: %u dependencies declared, list is "
                 "NULL", path, d->ndeps);
        return -1;
    }
    for (uint32_t i = 0; i < d->ndeps; i++) {
        uint32_t dk = d->deps[i].kind;
        if (dk == DC_KIND_NONE || dk >= DC_KIND__COUNT || dk == d->kind) {
            snprintf(err, errlen,
                     "module %s: dependency %u is kind %u, host expects another "
                     "kind from 1 to %d",
                     path, i, dk, DC_KIND__COUNT - 1);
            return -1;
        }
    }
    if (d->nconfig_keys > 0 && d->config_keys == NULL) {
        snprintf(err, errlen, "module %s: %u options declared, list is NULL",
                 path, d->nconfig_keys);
        return -1;
    }
    return 0;
}

dc_module *dc_module_open(const char *path, uint32_t expect_kind, char *err,
                          size_t errlen)
{
    char why[256];
    dc_strlist exports = {0};
    if (dc_elf_exports(path, &exports, why, sizeof why) != 0) {
        snprintf(err, errlen, "module %s: %s", path, why);
        dc_strlist_free(&exports);
        return NULL;
    }
    const char *entry = NULL;
    size_t nentries = 0;
    char names[256] = "";
    for (size_t i = 0; i < exports.len; i++) {
        if (strncmp(exports.items[i], DC_MODULE_ENTRY_PREFIX,
                    strlen(DC_MODULE_ENTRY_PREFIX)) == 0) {
            entry = exports.items[i];
            size_t l = strlen(names);
            snprintf(names + l, sizeof names - l, "%s%s", nentries ? ", " : "",
                     exports.items[i]);
            nentries++;
        }
    }
    if (nentries != 1) {
        if (nentries == 0)
            snprintf(err, errlen,
                     "module %s: entry symbols 0, host expects exactly one "
                     "named %s*",
                     path, DC_MODULE_ENTRY_PREFIX);
        else
            snprintf(err, errlen,
                     "module %s: entry symbols %zu (%s), host expects exactly one",
                     path, nentries, names);
        dc_strlist_free(&exports);
        return NULL;
    }
    char *entry_name = dc_xstrdup(entry);
    dc_strlist_free(&exports);

    /* dlopen searches the library path for a name without '/'. */
    char *dlpath = strchr(path, '/') ? dc_xstrdup(path) : dc_xasprintf("./%s", path);
    void *handle = dlopen(dlpath, RTLD_NOW | RTLD_LOCAL);
    free(dlpath);
    if (handle == NULL) {
        const char *e = dlerror();
        snprintf(err, errlen, "module %s: cannot load: %s", path,
                 e ? e : "unknown dlopen error");
        free(entry_name);
        return NULL;
    }
    void *sym = dlsym(handle, entry_name);
    if (sym == NULL) {
        snprintf(err, errlen, "module %s: entry symbol %s not found by dlsym",
                 path, entry_name);
        free(entry_name);
        return NULL; /* modules are never dlclose()d */
    }
    dc_module_entry_fn fn;
    memcpy(&fn, &sym, sizeof fn);
    const dc_module_desc *d = fn();
    if (d == NULL) {
        snprintf(err, errlen, "module %s: descriptor NULL, host expects the "
                 "entry function to return one", path);
        free(entry_name);
        return NULL;
    }
    if (check_desc(path, d, expect_kind, err, errlen) != 0) {
        free(entry_name);
        return NULL;
    }
    dc_module *m = dc_xcalloc(1, sizeof *m);
    m->path = dc_xstrdup(path);
    m->entry = entry_name;
    m->handle = handle;
    m->desc = d;
    return m;
}

void dc_module_free(dc_module *m)
{
    if (m == NULL)
        return;
    if (m->host) {
        pthread_mutex_destroy(&m->host->lock);
        free(m->host);
    }
    free(m->path);
    free(m->entry);
    free(m);
}

char *dc_module_dir(const dc_config *cfg)
{
    const char *dir;
    if (cfg && dc_config_string(cfg, "server.module_dir", &dir) == DC_OK)
        return dc_path_join(dc_config_dir(cfg), dir);
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
        return dc_xstrdup("modules");
    exe[n] = '\0';
    /* build/bin/datacave -> build/modules; an installed
     * PREFIX/bin/datacave -> PREFIX/lib/datacave/modules. */
    char *bindir = dc_path_dirname(exe);
    char *top = dc_path_dirname(bindir);
    char *md = dc_path_join(top, "modules");
    if (access(md, F_OK) != 0) {
        char *inst = dc_path_join(top, "lib/datacave/modules");
        if (access(inst, F_OK) == 0) {
            free(md);
            md = inst;
        } else {
            free(inst);
        }
    }
    free(bindir);
    free(top);
    return md;
}

char *dc_module_path(const dc_config *cfg, const char *value)
{
    if (strchr(value, '/'))
        return dc_path_join(dc_config_dir(cfg), value);
    char *dir = dc_module_dir(cfg);
    char *file = dc_xasprintf("%s.so", value);
    char *p = dc_path_join(dir, file);
    free(dir);
    free(file);
    return p;
}

/* ---- the runtime ------------------------------------------------------ */

dc_runtime *dc_runtime_new(dc_config *cfg)
{
    dc_runtime *rt = dc_xcalloc(1, sizeof *rt);
    rt->cfg = cfg;
    atomic_store(&rt->state, DC_STATE_STARTING);
    return rt;
}

int dc_runtime_load_file(dc_runtime *rt, uint32_t kind, const char *path,
                         dc_strlist *errors)
{
    char err[1024];
    if (kind == DC_KIND_NONE || kind >= DC_KIND__COUNT) {
        dc_strlist_addf(errors, "module %s: no such kind slot %u", path, kind);
        return -1;
    }
    if (rt->by_kind[kind]) {
        dc_strlist_addf(errors, "module %s: a %s module is already loaded (%s)",
                        path, dc_kind_name(kind), rt->by_kind[kind]->path);
        return -1;
    }
    dc_module *m = dc_module_open(path, kind, err, sizeof err);
    if (m == NULL) {
        dc_strlist_addf(errors, "%s", err);
        return -1;
    }
    for (uint32_t k = 1; k < DC_KIND__COUNT; k++) {
        dc_module *o = rt->by_kind[k];
        if (o && strcmp(o->desc->name, m->desc->name) == 0) {
            dc_strlist_addf(errors,
                            "module %s: name \"%s\", already used by %s",
                            path, m->desc->name, o->path);
            dc_module_free(m);
            return -1;
        }
    }
    rt->by_kind[kind] = m;
    return 0;
}

/* Load the configured module of `kind` unless done or tried already. */
static int load_kind(dc_runtime *rt, uint32_t kind, uint32_t *tried,
                     dc_strlist *errors)
{
    if (*tried & (1u << kind))
        return 0;
    *tried |= 1u << kind;
    const char *name = dc_config_module_for(rt->cfg, kind);
    if (name == NULL || rt->by_kind[kind])
        return 0;
    char *path = dc_module_path(rt->cfg, name);
    int rc = dc_runtime_load_file(rt, kind, path, errors);
    free(path);
    return rc;
}

int dc_runtime_load(dc_runtime *rt, uint32_t kind_mask, dc_strlist *errors)
{
    uint32_t tried = 0;
    int rc = 0;
    for (uint32_t k = 1; k < DC_KIND__COUNT; k++)
        if ((kind_mask & (1u << k)) && load_kind(rt, k, &tried, errors) != 0)
            rc = -1;
    /* Then the kinds they depend on, until nothing new comes in. */
    bool grew = true;
    while (grew) {
        grew = false;
        for (uint32_t k = 1; k < DC_KIND__COUNT; k++) {
            dc_module *m = rt->by_kind[k];
            if (m == NULL)
                continue;
            for (uint32_t i = 0; i < m->desc->ndeps; i++) {
                uint32_t dk = m->desc->deps[i].kind;
                if (tried & (1u << dk))
                    continue;
                if (load_kind(rt, dk, &tried, errors) != 0)
                    rc = -1;
                grew = true;
            }
        }
    }
    return rc;
}

/* Depth-first visit for the topological order; appends to rt->order.
 * `stack` holds the kinds on the current path for cycle messages. */
static int visit(dc_runtime *rt, uint32_t kind, int *color, uint32_t *stack,
                 size_t depth, dc_strlist *errors)
{
    dc_module *m = rt->by_kind[kind];
    color[kind] = 1;
    stack[depth] = kind;
    for (uint32_t i = 0; i < m->desc->ndeps; i++) {
        uint32_t dk = m->desc->deps[i].kind;
        if (rt->by_kind[dk] == NULL)
            continue;
        if (color[dk] == 1) {
            char msg[1024] = "dependency cycle: ";
            size_t start = 0;
            while (stack[start] != dk)
                start++;
            for (size_t j = start; j <= depth; j++) {
                dc_module *c = rt->by_kind[stack[j]];
                size_t l = strlen(msg);
                snprintf(msg + l, sizeof msg - l, "%s (%s) -> ", c->desc->name,
                         dc_kind_name(c->desc->kind));
            }
            size_t l = strlen(msg);
            snprintf(msg + l, sizeof msg - l, "%s (%s)",
                     rt->by_kind[dk]->desc->name, dc_kind_name(dk));
            dc_strlist_addf(errors, "%s", msg);
            return -1;
        }
        if (color[dk] == 0 && visit(rt, dk, color, stack, depth + 1, errors) != 0)
            return -1;
    }
    color[kind] = 2;
    rt->order[rt->norder++] = m;
    return 0;
}

int dc_runtime_resolve(dc_runtime *rt, bool strict_sections, dc_strlist *errors)
{
    size_t before = errors->len;
    for (uint32_t k = 1; k < DC_KIND__COUNT; k++) {
        dc_module *m = rt->by_kind[k];
        if (m == NULL)
            continue;
        for (uint32_t i = 0; i < m->desc->ndeps; i++) {
            const dc_dependency *dep = &m->desc->deps[i];
            if ((dep->flags & DC_DEP_REQUIRED) && rt->by_kind[dep->kind] == NULL)
                dc_strlist_addf(errors,
                                "module %s: dependency %s missing, host expects "
                                "a %s module named in [modules] %s",
                                m->path, dc_kind_name(dep->kind),
                                dc_kind_name(dep->kind), dc_kind_name(dep->kind));
        }
    }
    if (errors->len != before)
        return -1;
    int color[DC_KIND__COUNT] = {0};
    uint32_t stack[DC_KIND__COUNT];
    rt->norder = 0;
    for (size_t i = 0; i < N(KIND_ORDER); i++) {
        uint32_t k = KIND_ORDER[i];
        if (rt->by_kind[k] && color[k] == 0 &&
            visit(rt, k, color, stack, 0, errors) != 0)
            return -1;
    }
    const char *names[DC_KIND__COUNT];
    size_t nnames = 0;
    for (size_t i = 0; i < rt->norder; i++) {
        dc_module *m = rt->order[i];
        names[nnames++] = m->desc->name;
        dc_config_check_module(rt->cfg, m->desc->name, m->desc->config_keys,
                               m->desc->nconfig_keys, errors);
    }
    if (strict_sections)
        dc_config_check_orphan_sections(rt->cfg, names, nnames, errors);
    return errors->len == before ? 0 : -1;
}

int dc_runtime_init(dc_runtime *rt, dc_error *err)
{
    const dc_host_api *api = dc_host_api_table();
    /* The build and module info metrics, before the metrics module (first
     * in the order) starts exporting. */
    dc_metrics_build_info();
    for (size_t i = 0; i < rt->norder; i++)
        dc_metrics_module_info(dc_kind_name(rt->order[i]->desc->kind),
                               rt->order[i]->desc->name,
                               rt->order[i]->desc->version);
    for (size_t i = 0; i < rt->norder; i++) {
        dc_module *m = rt->order[i];
        struct dc_host *h = dc_xcalloc(1, sizeof *h);
        h->rt = rt;
        h->mod = m;
        atomic_store(&h->ready, true);
        pthread_mutex_init(&h->lock, NULL);
        m->host = h;
        dc_error e;
        dc_error_init(&e);
        void *instance = NULL;
        dc_log_write(DC_LOG_DEBUG, "host", "initialising module %s (%s) from %s",
                     m->desc->name, dc_kind_name(m->desc->kind), m->path);
        int rc = m->desc->init(h, api, &instance, &e);
        if (rc != DC_OK) {
            if (rc > 0)
                rc = DC_ERR;
            /* Threads a failed init left behind are still joined. */
            dc_host_join_all(h);
            dc_error_set(err, rc, e.sqlstate[0] ? e.sqlstate : DC_SQLSTATE_INTERNAL,
                         "module %s (%s): init failed: %s", m->desc->name,
                         m->path, dc_error_isset(&e) ? e.message : dc_status_name(rc));
            if (e.detail[0])
                dc_error_detail(err, "%s", e.detail);
            if (e.hint[0])
                dc_error_hint(err, "%s", e.hint);
            dc_runtime_shutdown(rt);
            return rc;
        }
        m->instance = instance;
        m->initialized = true;
        dc_log_write(DC_LOG_INFO, "host", "module %s %s (%s) ready",
                     m->desc->name, m->desc->version, dc_kind_name(m->desc->kind));
    }
    return DC_OK;
}

void dc_runtime_shutdown(dc_runtime *rt)
{
    atomic_store(&rt->state, DC_STATE_STOPPING);
    for (size_t i = rt->norder; i-- > 0;) {
        dc_module *m = rt->order[i];
        if (!m->initialized)
            continue;
        dc_log_write(DC_LOG_DEBUG, "host", "shutting down module %s",
                     m->desc->name);
        m->desc->shutdown(m->instance);
        dc_host_join_all(m->host);
        m->initialized = false;
        m->instance = NULL;
        dc_log_write(DC_LOG_INFO, "host", "module %s shut down", m->desc->name);
    }
}

void dc_runtime_free(dc_runtime *rt)
{
    if (rt == NULL)
        return;
    for (uint32_t k = 1; k < DC_KIND__COUNT; k++)
        dc_module_free(rt->by_kind[k]);
    free(rt);
}

dc_module *dc_runtime_module(dc_runtime *rt, uint32_t kind)
{
    return kind < DC_KIND__COUNT ? rt->by_kind[kind] : NULL;
}

dc_module *const *dc_runtime_order(dc_runtime *rt, size_t *n)
{
    *n = rt->norder;
    return rt->order;
}

void dc_runtime_set_state(dc_runtime *rt, int state)
{
    atomic_store(&rt->state, state);
}

int dc_runtime_state(dc_runtime *rt)
{
    int s = atomic_load(&rt->state);
    if (s != DC_STATE_READY)
        return s;
    for (size_t i = 0; i < rt->norder; i++) {
        dc_module *m = rt->order[i];
        if (m->host && !atomic_load(&m->host->ready))
            return DC_STATE_STARTING;
    }
    return DC_STATE_READY;
}
