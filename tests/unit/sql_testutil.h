/*
 * sql_testutil.h - shared helpers for the sql module's tests that run over
 * a real storage engine (test_sqlx_*.c).  Header-only: every function is
 * static.
 *
 * Storage: the module `memory` or `lsm` is loaded from
 * $DATACAVE_BUILD/modules (DATACAVE_BUILD defaults to "build", relative to
 * the working directory, the repository root) through the host's loader,
 * as the server loads it.  A module is loaded once per test process and
 * shut down at exit.
 *
 *   sqlt_env env;
 *   if (sqlt_open(&env, "lsm") != 0) fail();   fresh temp dir + store
 *   ... env.eng is a filled sql_engine (catalog NULL: call
 *       sql_catalog_load yourself when you need one) ...
 *   sqlt_reopen(&env);    close the store and open the same directory
 *                         again, with a new lock manager, as a restart
 *                         would (the memory engine comes back empty)
 *   sqlt_close(&env);     close the store, remove the directory
 *
 * Tables without a catalog: sqlt_table holds a hand-made sql_table with
 * its columns and indexes inline (no allocation), for tableam tests.
 *
 * Arena memory for values: sqlt_mem(arena) makes a sql_mem over a
 * sql_arena (ast.h).
 */
#ifndef SQL_TESTUTIL_H
#define SQL_TESTUTIL_H

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "datacave/storage.h"
#include "loader.h"
#include "sql/ast.h"
#include "sql/catalog.h"
#include "sql/engine.h"
#include "sql/txn.h"
#include "util.h"

/* ==== loaded storage modules ============================================== */

typedef struct sqlt_module {
    char name[32];
    char dir[PATH_MAX]; /* temp dir of the runtime's config       */
    dc_config *cfg;
    dc_runtime *rt;
    const dc_storage_vtable *vt;
    void *inst;
} sqlt_module;

static sqlt_module sqlt_modules_[4];
static int sqlt_nmodules_;

static inline void sqlt_rm_rf(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return;
    if (S_ISDIR(st.st_mode)) {
        DIR *d = opendir(path);
        if (d != NULL) {
            struct dirent *e;
            while ((e = readdir(d)) != NULL) {
                if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                    continue;
                char sub[PATH_MAX];
                size_t pl = strlen(path), nl = strlen(e->d_name);
                if (pl + nl + 2 > sizeof sub)
                    continue;
                memcpy(sub, path, pl);
                sub[pl] = '/';
                memcpy(sub + pl + 1, e->d_name, nl + 1);
                sqlt_rm_rf(sub);
            }
            closedir(d);
        }
        rmdir(path);
    } else {
        unlink(path);
    }
}

static inline void sqlt_unload_all(void)
{
    for (int i = 0; i < sqlt_nmodules_; i++) {
        sqlt_module *m = &sqlt_modules_[i];
        if (m->rt != NULL) {
            dc_runtime_shutdown(m->rt);
            dc_runtime_free(m->rt);
        }
        dc_config_free(m->cfg);
        sqlt_rm_rf(m->dir);
        memset(m, 0, sizeof *m);
    }
    sqlt_nmodules_ = 0;
}

static inline void sqlt_print_errors(const char *what, dc_strlist *errors)
{
    for (size_t i = 0; i < errors->len; i++)
        fprintf(stderr, "sqlt: %s: %s\n", what, errors->items[i]);
}

/* The loaded module `name` ("memory", "lsm"), loading it on first use;
 * NULL (with a message on stderr) when it cannot be loaded. */
static inline sqlt_module *sqlt_module_get(const char *name)
{
    for (int i = 0; i < sqlt_nmodules_; i++)
        if (strcmp(sqlt_modules_[i].name, name) == 0)
            return &sqlt_modules_[i];
    if (sqlt_nmodules_ == (int)(sizeof sqlt_modules_ / sizeof *sqlt_modules_))
        return NULL;
    const char *build = getenv("DATACAVE_BUILD");
    if (build == NULL || *build == '\0')
        build = "build";
    char moddir[PATH_MAX + 16], so[PATH_MAX + 64], abs[PATH_MAX];
    snprintf(moddir, sizeof moddir, "%s/modules", build);
    if (realpath(moddir, abs) == NULL) {
        fprintf(stderr, "sqlt: %s: %s\n", moddir, strerror(errno));
        return NULL;
    }
    snprintf(so, sizeof so, "%s/%s.so", abs, name);

    sqlt_module *m = &sqlt_modules_[sqlt_nmodules_];
    memset(m, 0, sizeof *m);
    snprintf(m->name, sizeof m->name, "%s", name);
    snprintf(m->dir, sizeof m->dir, "/tmp/datacave-sqlt-XXXXXX");
    if (mkdtemp(m->dir) == NULL) {
        fprintf(stderr, "sqlt: mkdtemp: %s\n", strerror(errno));
        return NULL;
    }
    char text[3 * PATH_MAX + 512];
    snprintf(text, sizeof text,
             "[server]\nmodule_dir = \"%s\"\n"
             "[log]\nlevel = \"warn\"\n"
             "[storage]\ndata_dir = \"%s/data\"\n"
             "[modules]\nprotocol = \"\"\nsql = \"\"\nstorage = \"\"\n"
             "auth = \"\"\nencryption = \"none\"\nmetrics = \"\"\n",
             abs, m->dir);
    dc_strlist errors = {0};
    m->cfg =
        dc_config_parse(text, strlen(text), "sqlt-config", m->dir, &errors);
    int ok = m->cfg != NULL;
    if (ok) {
        m->rt = dc_runtime_new(m->cfg);
        ok = dc_runtime_load_file(m->rt, DC_KIND_STORAGE, so, &errors) == 0;
    }
    dc_module *mod = ok ? dc_runtime_module(m->rt, DC_KIND_STORAGE) : NULL;
    if (mod != NULL) {
        uint32_t mask = 0;
        for (uint32_t i = 0; i < mod->desc->ndeps; i++)
            mask |= 1u << mod->desc->deps[i].kind;
        ok = !(mask && dc_runtime_load(m->rt, mask, &errors) != 0) &&
             dc_runtime_resolve(m->rt, false, &errors) == 0;
    }
    if (!ok || mod == NULL) {
        sqlt_print_errors("load", &errors);
        dc_strlist_free(&errors);
        if (m->rt != NULL)
            dc_runtime_free(m->rt);
        dc_config_free(m->cfg);
        sqlt_rm_rf(m->dir);
        memset(m, 0, sizeof *m);
        return NULL;
    }
    dc_strlist_free(&errors);
    dc_error err;
    dc_error_init(&err);
    if (dc_runtime_init(m->rt, &err) != 0) {
        fprintf(stderr, "sqlt: init %s: %s\n", so, err.message);
        dc_runtime_free(m->rt);
        dc_config_free(m->cfg);
        sqlt_rm_rf(m->dir);
        memset(m, 0, sizeof *m);
        return NULL;
    }
    m->vt = mod->desc->vtable;
    m->inst = mod->instance;
    if (sqlt_nmodules_++ == 0)
        atexit(sqlt_unload_all);
    return m;
}

/* ==== an engine over a fresh store =========================================
 */

typedef struct sqlt_env {
    sqlt_module *mod;
    char dir[256];  /* the store's directory (temp)          */
    sql_engine eng; /* filled by sqlt_open                   */
} sqlt_env;

static inline int sqlt_store_open_(sqlt_env *e)
{
    dc_store_options o = {
        .size = sizeof o, .path = e->dir, .create_if_missing = true};
    dc_error err;
    dc_error_init(&err);
    dc_store *s = NULL;
    if (e->mod->vt->open(e->mod->inst, &o, &s, &err) != DC_OK) {
        fprintf(stderr, "sqlt: open %s: %s\n", e->dir, err.message);
        return -1;
    }
    if (sql_lockmgr_new(&e->eng.locks, &err) != DC_OK) {
        e->mod->vt->close(s);
        return -1;
    }
    e->eng.store = s;
    return 0;
}

/* Open `module` ("memory" or "lsm") over a new temp directory and fill
 * e->eng.  0 on success, -1 with a message on stderr. */
static inline int sqlt_open(sqlt_env *e, const char *module)
{
    memset(e, 0, sizeof *e);
    e->mod = sqlt_module_get(module);
    if (e->mod == NULL)
        return -1;
    snprintf(e->dir, sizeof e->dir, "/tmp/datacave-sqlt-store-XXXXXX");
    if (mkdtemp(e->dir) == NULL) {
        fprintf(stderr, "sqlt: mkdtemp: %s\n", strerror(errno));
        return -1;
    }
    sql_engine *g = &e->eng;
    g->host = NULL;
    g->host_ctx = NULL;
    g->sv = e->mod->vt;
    g->commit_sync = DC_SYNC_DEFAULT;
    pthread_mutex_init(&g->cat_mu, NULL);
    g->catalog = NULL;
    atomic_init(&g->next_oid, SQL_FIRST_USER_OID);
    g->work_mem = 64u << 20;
    snprintf(g->tmp_dir, sizeof g->tmp_dir, "%s", e->dir);
    if (sqlt_store_open_(e) != 0) {
        sqlt_rm_rf(e->dir);
        return -1;
    }
    return 0;
}

/* True when the module keeps data across close and open. */
static inline bool sqlt_durable(const sqlt_env *e)
{
    return strcmp(e->mod->name, "memory") != 0;
}

/* Close the store and open the same directory again with a new lock
 * manager; next_oid is reset to SQL_FIRST_USER_OID.  The caller drops
 * e->eng.catalog first (and reloads it after) when it uses one. */
static inline int sqlt_reopen(sqlt_env *e)
{
    e->mod->vt->close(e->eng.store);
    sql_lockmgr_free(e->eng.locks);
    e->eng.store = NULL;
    e->eng.locks = NULL;
    atomic_store(&e->eng.next_oid, SQL_FIRST_USER_OID);
    return sqlt_store_open_(e);
}

/* Close the store and remove its directory.  The caller drops
 * e->eng.catalog first when it loaded one. */
static inline void sqlt_close(sqlt_env *e)
{
    if (e->eng.store != NULL)
        e->mod->vt->close(e->eng.store);
    sql_lockmgr_free(e->eng.locks);
    pthread_mutex_destroy(&e->eng.cat_mu);
    sqlt_rm_rf(e->dir);
    memset(e, 0, sizeof *e);
}

/* ==== arena allocator =======================================================
 */

static inline void *sqlt_arena_alloc_(void *ctx, size_t n)
{
    return sql_arena_alloc((sql_arena *)ctx, n);
}

static inline sql_mem sqlt_mem(sql_arena *a)
{
    sql_mem m = {.alloc = sqlt_arena_alloc_, .ctx = a};
    return m;
}

/* ==== hand-made tables ======================================================
 */

#define SQLT_MAXCOLS 16
#define SQLT_MAXIX   8

typedef struct sqlt_table {
    sql_table t;
    sql_column cols[SQLT_MAXCOLS];
    char colnames[SQLT_MAXCOLS][64];
    sql_index ix[SQLT_MAXIX];
    sql_index *ixp[SQLT_MAXIX];
    char ixnames[SQLT_MAXIX][64];
    int16_t attnums[SQLT_MAXIX][SQLT_MAXCOLS];
    uint8_t flags[SQLT_MAXIX][SQLT_MAXCOLS];
    char name[64];
    char schema[16];
} sqlt_table;

/* An empty table `name` with oid `oid`.  The struct must not move after
 * (it points into itself). */
static inline void sqlt_table_init(sqlt_table *st, uint32_t oid,
                                   const char *name)
{
    memset(st, 0, sizeof *st);
    snprintf(st->name, sizeof st->name, "%s", name);
    snprintf(st->schema, sizeof st->schema, "public");
    st->t.oid = oid;
    st->t.name = st->name;
    st->t.schema = st->schema;
    st->t.cols = st->cols;
    st->t.indexes = st->ixp;
}

/* Add a column; returns its attnum. */
static inline int sqlt_add_col(sqlt_table *st, const char *name, uint32_t type,
                               int32_t typmod, bool not_null)
{
    int i = st->t.natts++;
    snprintf(st->colnames[i], sizeof st->colnames[i], "%s", name);
    sql_column *c = &st->cols[i];
    c->name = st->colnames[i];
    c->attnum = (int16_t)(i + 1);
    c->type = type;
    c->typmod = typmod;
    c->not_null = not_null;
    c->missing = sql_value_null(type);
    return i + 1;
}

/* Add an index over `ncols` attnums (flags may be NULL: all ascending).  A
 * primary index becomes t.pkey and makes its columns NOT NULL. */
static inline sql_index *sqlt_add_index(sqlt_table *st, uint32_t oid,
                                        const char *name, bool unique,
                                        bool primary, int ncols,
                                        const int16_t *attnums,
                                        const uint8_t *flags)
{
    int i = st->t.nindexes++;
    sql_index *ix = &st->ix[i];
    snprintf(st->ixnames[i], sizeof st->ixnames[i], "%s", name);
    ix->oid = oid;
    ix->name = st->ixnames[i];
    ix->table_oid = st->t.oid;
    ix->unique = unique || primary;
    ix->primary = primary;
    ix->is_constraint = primary;
    ix->ncols = ncols;
    ix->attnums = st->attnums[i];
    ix->flags = st->flags[i];
    for (int k = 0; k < ncols; k++) {
        st->attnums[i][k] = attnums[k];
        st->flags[i][k] = flags ? flags[k] : 0;
        if (primary)
            st->cols[attnums[k] - 1].not_null = true;
    }
    st->ixp[i] = ix;
    if (primary)
        st->t.pkey = ix;
    return ix;
}

#endif
