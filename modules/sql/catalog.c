/*
 * sql/catalog.c - the immutable, reference-counted catalog snapshot
 * (catalog.h): objects, name lookup, JSON persistence, load at open,
 * clone and publish.
 *
 * Layout.  Tables and views live in arrays sorted by oid (lookup by oid is
 * a binary search, iteration is in oid order).  Every relation name of a
 * schema -- tables, views and indexes share one namespace, as in
 * PostgreSQL -- is in an open-addressing hash table built by
 * sql_catalog_reindex().  A published catalog is never changed again, so
 * readers need no lock; only the engine's pointer to the newest one is
 * guarded (eng->cat_mu).
 *
 * Persistence.  One key per table (its columns, checks and indexes
 * included) and per view: SQL_REL_CATALOG | oid (4 BE) -> JSON.
 */
#include "sql/catalog.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "sql/tableam.h"
#include "sql/txn.h"

/* ==== structure ========================================================== */

typedef enum rel_kind { REL_TABLE = 1, REL_VIEW, REL_INDEX } rel_kind;

typedef struct name_slot {
    uint32_t db;
    const char *schema; /* NULL: empty slot                          */
    const char *name;
    rel_kind kind;
    void *obj;
} name_slot;

struct sql_catalog {
    _Atomic int refs;
    uint64_t version;
    /* A scoped view (sql_catalog_scope) owns no objects: they belong to
     * `base`, of which it holds a reference. */
    sql_catalog *base;
    uint32_t db;        /* the database lookups and iteration see    */
    size_t ndbs, dcap;
    sql_database **dbs; /* sorted by oid                             */
    /* Objects of `db`, in oid order (pointers into the owner's arrays). */
    size_t nst, nsv;
    sql_table **st;
    sql_view **sv;
    size_t ntables, tcap;
    sql_table **tables; /* sorted by oid                             */
    size_t nviews, vcap;
    sql_view **views; /* sorted by oid                             */
    size_t nslots;    /* power of two, > 2 * relations             */
    name_slot *slots;
};

static int oom(dc_error *err)
{
    return dc_error_set(err, DC_ENOMEM, DC_SQLSTATE_OOM, "out of memory");
}

static char *xstrdup(const char *s)
{
    if (!s)
        return NULL;
    size_t n = strlen(s) + 1;
    char *p = malloc(n);
    if (p)
        memcpy(p, s, n);
    return p;
}

static const char *schema_or_public(const char *schema)
{
    return schema ? schema : "public";
}

/* ==== object copies and frees ============================================ */

static void index_free(sql_index *ix)
{
    if (!ix)
        return;
    free(ix->name);
    free(ix->attnums);
    free(ix->flags);
    free(ix);
}

static sql_index *index_dup(const sql_index *ix)
{
    sql_index *n = calloc(1, sizeof *n);
    if (!n)
        return NULL;
    *n = *ix;
    n->name = xstrdup(ix->name);
    n->attnums =
        calloc((size_t)(ix->ncols > 0 ? ix->ncols : 1), sizeof *n->attnums);
    n->flags = calloc((size_t)(ix->ncols > 0 ? ix->ncols : 1), 1);
    if (!n->name || !n->attnums || !n->flags) {
        index_free(n);
        return NULL;
    }
    if (ix->ncols > 0) {
        memcpy(n->attnums, ix->attnums, (size_t)ix->ncols * sizeof *n->attnums);
        memcpy(n->flags, ix->flags, (size_t)ix->ncols);
    }
    return n;
}

static bool value_has_bytes(const dc_value *v)
{
    if (v->is_null)
        return false;
    switch (v->type) {
    case DC_TYPE_TEXT:
    case DC_TYPE_VARCHAR:
    case DC_TYPE_BPCHAR:
    case DC_TYPE_NAME:
    case DC_TYPE_BYTEA:
    case DC_TYPE_NUMERIC:
        return true;
    default:
        return false;
    }
}

/* Copy v into *out with malloc'd bytes (the catalog owns them). */
static bool value_copy(const dc_value *v, dc_value *out)
{
    *out = *v;
    if (!value_has_bytes(v))
        return true;
    uint8_t *p = malloc(v->u.bytes.len ? v->u.bytes.len : 1);
    if (!p)
        return false;
    if (v->u.bytes.len)
        memcpy(p, v->u.bytes.ptr, v->u.bytes.len);
    out->u.bytes.ptr = p;
    return true;
}

static void column_clear(sql_column *c)
{
    free(c->name);
    free(c->default_expr);
    if (value_has_bytes(&c->missing))
        free((void *)c->missing.u.bytes.ptr);
    memset(c, 0, sizeof *c);
}

void sql_table_free(sql_table *t)
{
    if (!t)
        return;
    for (int i = 0; i < t->natts; i++)
        column_clear(&t->cols[i]);
    free(t->cols);
    for (int i = 0; i < t->nindexes; i++)
        index_free(t->indexes[i]);
    free(t->indexes);
    for (int i = 0; i < t->nchecks; i++) {
        free(t->checks[i].name);
        free(t->checks[i].expr);
    }
    free(t->checks);
    free(t->schema);
    free(t->name);
    free(t);
}

sql_table *sql_table_dup(const sql_table *t)
{
    sql_table *n = calloc(1, sizeof *n);
    if (!n)
        return NULL;
    n->oid = t->oid;
    n->est_rows = t->est_rows;
    n->db_oid = t->db_oid;
    n->schema = xstrdup(t->schema);
    n->name = xstrdup(t->name);
    if (!n->schema || !n->name)
        goto fail;
    n->cols = calloc((size_t)t->natts + 1, sizeof *n->cols);
    if (!n->cols)
        goto fail;
    for (int i = 0; i < t->natts; i++, n->natts++) {
        const sql_column *c = &t->cols[i];
        sql_column *d = &n->cols[i];
        *d = *c;
        d->name = xstrdup(c->name);
        d->default_expr = xstrdup(c->default_expr);
        d->missing.is_null = true;
        if (!d->name || (c->default_expr && !d->default_expr) ||
            !value_copy(&c->missing, &d->missing)) {
            n->natts++;
            goto fail;
        }
    }
    n->indexes = calloc((size_t)t->nindexes + 1, sizeof *n->indexes);
    if (!n->indexes)
        goto fail;
    for (int i = 0; i < t->nindexes; i++, n->nindexes++) {
        if (!(n->indexes[i] = index_dup(t->indexes[i])))
            goto fail;
        if (t->indexes[i] == t->pkey)
            n->pkey = n->indexes[i];
    }
    n->checks = calloc((size_t)t->nchecks + 1, sizeof *n->checks);
    if (!n->checks)
        goto fail;
    for (int i = 0; i < t->nchecks; i++, n->nchecks++) {
        n->checks[i].name = xstrdup(t->checks[i].name);
        n->checks[i].expr = xstrdup(t->checks[i].expr);
        if (!n->checks[i].name || !n->checks[i].expr) {
            n->nchecks++;
            goto fail;
        }
    }
    return n;
fail:
    sql_table_free(n);
    return NULL;
}

void sql_view_free(sql_view *v)
{
    if (!v)
        return;
    for (int i = 0; i < v->ncols; i++)
        free(v->colnames[i]);
    free(v->colnames);
    free(v->coltypes);
    free(v->schema);
    free(v->name);
    free(v->query);
    free(v);
}

static sql_view *view_dup(const sql_view *v)
{
    sql_view *n = calloc(1, sizeof *n);
    if (!n)
        return NULL;
    n->oid = v->oid;
    n->db_oid = v->db_oid;
    n->schema = xstrdup(v->schema);
    n->name = xstrdup(v->name);
    n->query = xstrdup(v->query);
    n->colnames = calloc((size_t)v->ncols + 1, sizeof *n->colnames);
    n->coltypes = calloc((size_t)v->ncols + 1, sizeof *n->coltypes);
    if (!n->schema || !n->name || !n->query || !n->colnames || !n->coltypes)
        goto fail;
    for (int i = 0; i < v->ncols; i++, n->ncols++) {
        n->coltypes[i] = v->coltypes[i];
        if (!(n->colnames[i] = xstrdup(v->colnames[i])))
            goto fail;
    }
    return n;
fail:
    sql_view_free(n);
    return NULL;
}

/* ==== the catalog object ================================================= */

static int scope_rebuild(sql_catalog *c, dc_error *err);

/* Versions are unique per process: every catalog made (load, clone) takes
 * the next one, so a version names one catalog object and a plan made
 * against a copy that was later dropped never matches another copy. */
static _Atomic uint64_t last_version;

static uint64_t next_version(void)
{
    return atomic_fetch_add(&last_version, 1) + 1;
}

static sql_catalog *catalog_new(void)
{
    sql_catalog *c = calloc(1, sizeof *c);
    if (c) {
        atomic_init(&c->refs, 1);
        c->db = SQL_DEFAULT_DB_OID;
    }
    return c;
}

static void database_free(sql_database *d)
{
    if (d) {
        free(d->name);
        free(d);
    }
}

/* The catalog that owns the objects c sees. */
static const sql_catalog *owner(const sql_catalog *c)
{
    return c->base ? c->base : c;
}

static void catalog_free(sql_catalog *c)
{
    free(c->st);
    free(c->sv);
    if (c->base) {
        sql_catalog_unref(c->base);
        free(c);
        return;
    }
    for (size_t i = 0; i < c->ndbs; i++)
        database_free(c->dbs[i]);
    free(c->dbs);
    for (size_t i = 0; i < c->ntables; i++)
        sql_table_free(c->tables[i]);
    for (size_t i = 0; i < c->nviews; i++)
        sql_view_free(c->views[i]);
    free(c->tables);
    free(c->views);
    free(c->slots);
    free(c);
}

sql_catalog *sql_catalog_ref(sql_catalog *c)
{
    if (c)
        atomic_fetch_add(&c->refs, 1);
    return c;
}

void sql_catalog_unref(sql_catalog *c)
{
    if (c && atomic_fetch_sub(&c->refs, 1) == 1)
        catalog_free(c);
}

uint64_t sql_catalog_version(const sql_catalog *c)
{
    return c ? c->version : 0;
}

sql_catalog *sql_engine_catalog(sql_engine *eng)
{
    pthread_mutex_lock(&eng->cat_mu);
    sql_catalog *c = sql_catalog_ref(eng->catalog);
    pthread_mutex_unlock(&eng->cat_mu);
    return c;
}

void sql_catalog_publish(sql_engine *eng, sql_catalog *c)
{
    pthread_mutex_lock(&eng->cat_mu);
    sql_catalog *old = eng->catalog;
    /* Published versions only grow (clones are made under the DDL lock,
     * so this holds already; stay safe if it did not). */
    if (old && c && c->version <= old->version)
        c->version = next_version();
    /* Most sessions use the default database: publish the catalog scoped
     * to it so that they need no scoped view (sql_catalog_scope). */
    if (c && !c->base && c->db != SQL_DEFAULT_DB_OID) {
        uint32_t was = c->db;
        c->db = SQL_DEFAULT_DB_OID;
        if (scope_rebuild(c, NULL) != DC_OK)
            c->db = was;
    }
    eng->catalog = c;
    pthread_mutex_unlock(&eng->cat_mu);
    sql_catalog_unref(old);
}

/* ---- sorted arrays ------------------------------------------------------- */

static size_t table_pos(const sql_catalog *c, uint32_t oid)
{
    size_t lo = 0, hi = c->ntables;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (c->tables[mid]->oid < oid)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static size_t view_pos(const sql_catalog *c, uint32_t oid)
{
    size_t lo = 0, hi = c->nviews;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (c->views[mid]->oid < oid)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static bool grow(void ***arr, size_t *cap, size_t need)
{
    if (need <= *cap)
        return true;
    size_t n = *cap ? *cap * 2 : 16;
    while (n < need)
        n *= 2;
    void **p = realloc(*arr, n * sizeof *p);
    if (!p)
        return false;
    *arr = p;
    *cap = n;
    return true;
}

/* Insert without rebuilding the name table (callers reindex). */
static int add_table_raw(sql_catalog *c, sql_table *t, dc_error *err)
{
    size_t i = table_pos(c, t->oid);
    if (i < c->ntables && c->tables[i]->oid == t->oid) {
        sql_table_free(c->tables[i]);
        c->tables[i] = t;
        return DC_OK;
    }
    if (!grow((void ***)&c->tables, &c->tcap, c->ntables + 1))
        return oom(err);
    memmove(&c->tables[i + 1], &c->tables[i],
            (c->ntables - i) * sizeof *c->tables);
    c->tables[i] = t;
    c->ntables++;
    return DC_OK;
}

static int add_view_raw(sql_catalog *c, sql_view *v, dc_error *err)
{
    size_t i = view_pos(c, v->oid);
    if (i < c->nviews && c->views[i]->oid == v->oid) {
        sql_view_free(c->views[i]);
        c->views[i] = v;
        return DC_OK;
    }
    if (!grow((void ***)&c->views, &c->vcap, c->nviews + 1))
        return oom(err);
    memmove(&c->views[i + 1], &c->views[i], (c->nviews - i) * sizeof *c->views);
    c->views[i] = v;
    c->nviews++;
    return DC_OK;
}

/* ---- name table ---------------------------------------------------------- */

static uint64_t name_hash(uint32_t db, const char *schema, const char *name)
{
    uint64_t h = 1469598103934665603ull ^ db;
    for (const char *p = schema; *p; p++)
        h = (h ^ (uint8_t)*p) * 1099511628211ull;
    h = (h ^ '.') * 1099511628211ull;
    for (const char *p = name; *p; p++)
        h = (h ^ (uint8_t)*p) * 1099511628211ull;
    return h;
}

static void slot_put(name_slot *slots, size_t n, uint32_t db,
                     const char *schema, const char *name, rel_kind kind,
                     void *obj)
{
    size_t i = (size_t)name_hash(db, schema, name) & (n - 1);
    while (slots[i].schema) {
        if (slots[i].db == db && !strcmp(slots[i].schema, schema) &&
            !strcmp(slots[i].name, name))
            return; /* first one wins; DDL prevents duplicates */
        i = (i + 1) & (n - 1);
    }
    slots[i] = (name_slot){db, schema, name, kind, obj};
}

/* Rebuild the arrays of the objects of c->db. */
static int scope_rebuild(sql_catalog *c, dc_error *err)
{
    const sql_catalog *o = owner(c);
    sql_table **st = malloc((o->ntables + 1) * sizeof *st);
    sql_view **sv = malloc((o->nviews + 1) * sizeof *sv);
    if (!st || !sv) {
        free(st);
        free(sv);
        return oom(err);
    }
    size_t nt = 0, nv = 0;
    for (size_t i = 0; i < o->ntables; i++)
        if (o->tables[i]->db_oid == c->db)
            st[nt++] = o->tables[i];
    for (size_t i = 0; i < o->nviews; i++)
        if (o->views[i]->db_oid == c->db)
            sv[nv++] = o->views[i];
    free(c->st);
    free(c->sv);
    c->st = st;
    c->sv = sv;
    c->nst = nt;
    c->nsv = nv;
    return DC_OK;
}

int sql_catalog_reindex(sql_catalog *c, dc_error *err)
{
    size_t nrel = c->nviews;
    for (size_t i = 0; i < c->ntables; i++)
        nrel += 1 + (size_t)c->tables[i]->nindexes;
    size_t n = 16;
    while (n < nrel * 2 + 1)
        n *= 2;
    name_slot *slots = calloc(n, sizeof *slots);
    if (!slots)
        return oom(err);
    for (size_t i = 0; i < c->ntables; i++) {
        sql_table *t = c->tables[i];
        slot_put(slots, n, t->db_oid, t->schema, t->name, REL_TABLE, t);
        for (int j = 0; j < t->nindexes; j++)
            slot_put(slots, n, t->db_oid, t->schema, t->indexes[j]->name,
                     REL_INDEX, t->indexes[j]);
    }
    for (size_t i = 0; i < c->nviews; i++)
        slot_put(slots, n, c->views[i]->db_oid, c->views[i]->schema,
                 c->views[i]->name, REL_VIEW, c->views[i]);
    free(c->slots);
    c->slots = slots;
    c->nslots = n;
    return scope_rebuild(c, err);
}

static const name_slot *slot_find(const sql_catalog *sc, const char *schema,
                                  const char *name)
{
    if (!sc || !name)
        return NULL;
    const sql_catalog *c = owner(sc);
    uint32_t db = sc->db;
    if (!c->slots)
        return NULL;
    schema = schema_or_public(schema);
    size_t i = (size_t)name_hash(db, schema, name) & (c->nslots - 1);
    while (c->slots[i].schema) {
        if (c->slots[i].db == db && !strcmp(c->slots[i].schema, schema) &&
            !strcmp(c->slots[i].name, name))
            return &c->slots[i];
        i = (i + 1) & (c->nslots - 1);
    }
    return NULL;
}

/* ==== lookups ============================================================= */

const sql_table *sql_catalog_table(const sql_catalog *c, const char *schema,
                                   const char *name)
{
    const name_slot *s = slot_find(c, schema, name);
    return s && s->kind == REL_TABLE ? s->obj : NULL;
}

const sql_view *sql_catalog_view(const sql_catalog *c, const char *schema,
                                 const char *name)
{
    const name_slot *s = slot_find(c, schema, name);
    return s && s->kind == REL_VIEW ? s->obj : NULL;
}

const sql_index *sql_catalog_index(const sql_catalog *c, const char *schema,
                                   const char *name)
{
    const name_slot *s = slot_find(c, schema, name);
    return s && s->kind == REL_INDEX ? s->obj : NULL;
}

bool sql_catalog_relname_taken(const sql_catalog *c, const char *schema,
                               const char *name)
{
    return slot_find(c, schema, name) != NULL;
}

const sql_table *sql_catalog_table_by_oid(const sql_catalog *sc, uint32_t oid)
{
    if (!sc)
        return NULL;
    const sql_catalog *c = owner(sc);
    size_t i = table_pos(c, oid);
    return i < c->ntables && c->tables[i]->oid == oid &&
                   c->tables[i]->db_oid == sc->db
               ? c->tables[i]
               : NULL;
}

sql_table *sql_catalog_table_mut(sql_catalog *c, uint32_t oid)
{
    return (sql_table *)sql_catalog_table_by_oid(c, oid);
}

size_t sql_catalog_ntables(const sql_catalog *c)
{
    return c ? c->nst : 0;
}

const sql_table *sql_catalog_table_at(const sql_catalog *c, size_t i)
{
    return c && i < c->nst ? c->st[i] : NULL;
}

size_t sql_catalog_nviews(const sql_catalog *c)
{
    return c ? c->nsv : 0;
}

const sql_view *sql_catalog_view_at(const sql_catalog *c, size_t i)
{
    return c && i < c->nsv ? c->sv[i] : NULL;
}

const sql_column *sql_table_column(const sql_table *t, const char *name)
{
    if (!t || !name)
        return NULL;
    for (int i = 0; i < t->natts; i++)
        if (!t->cols[i].dropped && !strcmp(t->cols[i].name, name))
            return &t->cols[i];
    return NULL;
}

/* ==== changes to a private copy ========================================== */

int sql_catalog_put_table(sql_catalog *c, sql_table *t, dc_error *err)
{
    if (!t->db_oid)
        t->db_oid = c->db;
    int rc = add_table_raw(c, t, err);
    if (rc != DC_OK) {
        sql_table_free(t);
        return rc;
    }
    return sql_catalog_reindex(c, err);
}

int sql_catalog_put_view(sql_catalog *c, sql_view *v, dc_error *err)
{
    if (!v->db_oid)
        v->db_oid = c->db;
    int rc = add_view_raw(c, v, err);
    if (rc != DC_OK) {
        sql_view_free(v);
        return rc;
    }
    return sql_catalog_reindex(c, err);
}

void sql_catalog_remove(sql_catalog *c, uint32_t oid)
{
    size_t i = table_pos(c, oid);
    if (i < c->ntables && c->tables[i]->oid == oid) {
        sql_table_free(c->tables[i]);
        memmove(&c->tables[i], &c->tables[i + 1],
                (c->ntables - i - 1) * sizeof *c->tables);
        c->ntables--;
    }
    i = view_pos(c, oid);
    if (i < c->nviews && c->views[i]->oid == oid) {
        sql_view_free(c->views[i]);
        memmove(&c->views[i], &c->views[i + 1],
                (c->nviews - i - 1) * sizeof *c->views);
        c->nviews--;
    }
    /* Removing only shrinks: the old name table may point at freed
     * objects, so rebuild it; failure to allocate leaves lookups empty
     * rather than dangling. */
    if (sql_catalog_reindex(c, NULL) != DC_OK) {
        free(c->slots);
        c->slots = NULL;
        c->nslots = 0;
    }
}

int sql_catalog_clone(const sql_catalog *c, sql_catalog **out, dc_error *err)
{
    sql_catalog *n = catalog_new();
    if (!n)
        return oom(err);
    n->version = next_version();
    if (c) {
        n->db = c->db;
        c = owner(c);
        n->dbs = calloc(c->ndbs + 1, sizeof *n->dbs);
        if (!n->dbs)
            goto fail;
        n->dcap = c->ndbs + 1;
        for (size_t i = 0; i < c->ndbs; i++) {
            sql_database *d = calloc(1, sizeof *d);
            if (!d)
                goto fail;
            n->dbs[n->ndbs++] = d;
            d->oid = c->dbs[i]->oid;
            if (!(d->name = xstrdup(c->dbs[i]->name)))
                goto fail;
        }
        n->tables = calloc(c->ntables + 1, sizeof *n->tables);
        n->views = calloc(c->nviews + 1, sizeof *n->views);
        if (!n->tables || !n->views)
            goto fail;
        n->tcap = c->ntables + 1;
        n->vcap = c->nviews + 1;
        for (size_t i = 0; i < c->ntables; i++, n->ntables++)
            if (!(n->tables[i] = sql_table_dup(c->tables[i])))
                goto fail;
        for (size_t i = 0; i < c->nviews; i++, n->nviews++)
            if (!(n->views[i] = view_dup(c->views[i])))
                goto fail;
    }
    if (sql_catalog_reindex(n, err) != DC_OK) {
        catalog_free(n);
        return DC_ENOMEM;
    }
    *out = n;
    return DC_OK;
fail:
    catalog_free(n);
    return oom(err);
}

/* ==== JSON =================================================================
 */

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static void catalog_key(uint32_t oid, uint8_t key[8])
{
    put_be32(key, SQL_REL_CATALOG);
    put_be32(key + 4, oid);
}

/* Text of a `missing` value, NULL when it is NULL (a new reference or
 * json_null()). */
static json_t *missing_to_json(const dc_value *v)
{
    if (v->is_null)
        return json_null();
    sql_buf b = {0};
    json_t *j = NULL;
    if (sql_value_out(v, NULL, &b, NULL) == DC_OK)
        j = json_stringn(b.data ? (const char *)b.data : "", b.len);
    sql_buf_free(&b);
    return j;
}

static json_t *table_to_json(const sql_table *t)
{
    json_t *cols = json_array(), *idx = json_array(), *chk = json_array();
    json_t *o = json_object();
    if (!cols || !idx || !chk || !o)
        goto fail;
    for (int i = 0; i < t->natts; i++) {
        const sql_column *c = &t->cols[i];
        json_t *m = missing_to_json(&c->missing);
        json_t *jc = json_pack(
            "{s:s, s:i, s:I, s:i, s:b, s:b, s:o, s:o, s:I}", "name", c->name,
            "attnum", (int)c->attnum, "type", (json_int_t)c->type, "typmod",
            (int)c->typmod, "not_null", c->not_null, "dropped", c->dropped,
            "default",
            c->default_expr ? json_string(c->default_expr) : json_null(),
            "missing", m ? m : json_null(), "missing_typmod",
            (json_int_t)c->missing.typmod);
        if (!jc || json_array_append_new(cols, jc))
            goto fail;
    }
    for (int i = 0; i < t->nindexes; i++) {
        const sql_index *ix = t->indexes[i];
        json_t *att = json_array(), *fl = json_array();
        if (!att || !fl) {
            json_decref(att);
            json_decref(fl);
            goto fail;
        }
        for (int k = 0; k < ix->ncols; k++) {
            json_array_append_new(att, json_integer(ix->attnums[k]));
            json_array_append_new(fl, json_integer(ix->flags[k]));
        }
        json_t *ji = json_pack("{s:I, s:s, s:b, s:b, s:b, s:o, s:o}", "oid",
                               (json_int_t)ix->oid, "name", ix->name, "unique",
                               ix->unique, "primary", ix->primary, "constraint",
                               ix->is_constraint, "attnums", att, "flags", fl);
        if (!ji || json_array_append_new(idx, ji))
            goto fail;
    }
    for (int i = 0; i < t->nchecks; i++) {
        json_t *jk = json_pack("{s:s, s:s}", "name", t->checks[i].name, "expr",
                               t->checks[i].expr);
        if (!jk || json_array_append_new(chk, jk))
            goto fail;
    }
    if (json_object_set_new(o, "kind", json_string("table")) ||
        json_object_set_new(o, "oid", json_integer(t->oid)) ||
        json_object_set_new(o, "schema", json_string(t->schema)) ||
        json_object_set_new(o, "name", json_string(t->name)) ||
        json_object_set_new(o, "est_rows",
                            json_integer((json_int_t)t->est_rows)) ||
        json_object_set_new(o, "db", json_integer(t->db_oid ? t->db_oid
                                                  : SQL_DEFAULT_DB_OID)))
        goto fail;
    json_object_set_new(o, "cols", cols);
    json_object_set_new(o, "indexes", idx);
    json_object_set_new(o, "checks", chk);
    return o;
fail:
    json_decref(cols);
    json_decref(idx);
    json_decref(chk);
    json_decref(o);
    return NULL;
}

static json_t *view_to_json(const sql_view *v)
{
    json_t *cols = json_array();
    if (!cols)
        return NULL;
    for (int i = 0; i < v->ncols; i++) {
        json_t *jc = json_pack("{s:s, s:I}", "name", v->colnames[i], "type",
                               (json_int_t)v->coltypes[i]);
        if (!jc || json_array_append_new(cols, jc)) {
            json_decref(cols);
            return NULL;
        }
    }
    return json_pack("{s:s, s:I, s:s, s:s, s:s, s:o, s:I}", "kind", "view",
                     "oid", (json_int_t)v->oid, "schema", v->schema, "name",
                     v->name, "query", v->query, "cols", cols, "db",
                     (json_int_t)(v->db_oid ? v->db_oid : SQL_DEFAULT_DB_OID));
}

static int save_json(sql_txn *txn, uint32_t oid, json_t *j, dc_error *err)
{
    if (!j)
        return oom(err);
    char *text = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    if (!text)
        return oom(err);
    uint8_t key[8];
    catalog_key(oid, key);
    int rc = sql_txn_put(txn, key, sizeof key, (const uint8_t *)text,
                         strlen(text), err);
    free(text);
    return rc;
}

int sql_catalog_save_table(sql_txn *txn, const sql_table *t, dc_error *err)
{
    return save_json(txn, t->oid, table_to_json(t), err);
}

int sql_catalog_save_view(sql_txn *txn, const sql_view *v, dc_error *err)
{
    return save_json(txn, v->oid, view_to_json(v), err);
}

int sql_catalog_delete_object(sql_txn *txn, uint32_t oid, dc_error *err)
{
    uint8_t key[8];
    catalog_key(oid, key);
    return sql_txn_delete(txn, key, sizeof key, err);
}

static json_t *database_to_json(const sql_database *d)
{
    return json_pack("{s:s, s:I, s:s}", "kind", "database", "oid",
                     (json_int_t)d->oid, "name", d->name);
}

/* ---- databases ------------------------------------------------------------ */

static size_t db_pos(const sql_catalog *c, uint32_t oid)
{
    size_t i = 0;
    while (i < c->ndbs && c->dbs[i]->oid < oid)
        i++;
    return i;
}

static int add_database_raw(sql_catalog *c, const char *name, uint32_t oid,
                            dc_error *err)
{
    sql_database *d = calloc(1, sizeof *d);
    if (!d || !(d->name = xstrdup(name)) ||
        !grow((void ***)&c->dbs, &c->dcap, c->ndbs + 1)) {
        database_free(d);
        return oom(err);
    }
    d->oid = oid;
    size_t i = db_pos(c, oid);
    memmove(&c->dbs[i + 1], &c->dbs[i], (c->ndbs - i) * sizeof *c->dbs);
    c->dbs[i] = d;
    c->ndbs++;
    return DC_OK;
}

uint32_t sql_catalog_db(const sql_catalog *c)
{
    return c ? c->db : SQL_DEFAULT_DB_OID;
}

int sql_catalog_scope(sql_catalog *c, uint32_t db, sql_catalog **out,
                      dc_error *err)
{
    if (!db)
        db = SQL_DEFAULT_DB_OID;
    if (!c || c->db == db) {
        *out = sql_catalog_ref(c);
        return DC_OK;
    }
    sql_catalog *v = catalog_new();
    if (!v)
        return oom(err);
    v->base = sql_catalog_ref((sql_catalog *)owner(c));
    v->version = c->version;
    v->db = db;
    int rc = scope_rebuild(v, err);
    if (rc != DC_OK) {
        catalog_free(v);
        return rc;
    }
    *out = v;
    return DC_OK;
}

int sql_catalog_set_db(sql_catalog *c, uint32_t db, dc_error *err)
{
    c->db = db ? db : SQL_DEFAULT_DB_OID;
    return scope_rebuild(c, err);
}

const sql_database *sql_catalog_database(const sql_catalog *sc,
                                         const char *name)
{
    if (!sc || !name)
        return NULL;
    const sql_catalog *c = owner(sc);
    for (size_t i = 0; i < c->ndbs; i++)
        if (!strcmp(c->dbs[i]->name, name))
            return c->dbs[i];
    return NULL;
}

size_t sql_catalog_ndatabases(const sql_catalog *c)
{
    return c ? owner(c)->ndbs : 0;
}

const sql_database *sql_catalog_database_at(const sql_catalog *c, size_t i)
{
    return c && i < owner(c)->ndbs ? owner(c)->dbs[i] : NULL;
}

int sql_catalog_add_database(sql_catalog *c, sql_txn *txn, const char *name,
                             uint32_t oid, dc_error *err)
{
    int rc = add_database_raw(c, name, oid, err);
    if (rc != DC_OK)
        return rc;
    return save_json(txn, oid, database_to_json(c->dbs[db_pos(c, oid)]), err);
}

int sql_catalog_drop_database(sql_catalog *c, sql_txn *txn, uint32_t oid,
                              dc_error *err)
{
    int rc = DC_OK;
    /* Tables and views of the database, newest first so removal by index
     * stays valid. */
    for (size_t i = c->ntables; rc == DC_OK && i-- > 0;) {
        sql_table *t = c->tables[i];
        if (t->db_oid != oid)
            continue;
        if ((rc = sql_table_drop_storage(txn, t, err)) == DC_OK &&
            (rc = sql_catalog_delete_object(txn, t->oid, err)) == DC_OK) {
            sql_table_free(t);
            memmove(&c->tables[i], &c->tables[i + 1],
                    (c->ntables - i - 1) * sizeof *c->tables);
            c->ntables--;
        }
    }
    for (size_t i = c->nviews; rc == DC_OK && i-- > 0;) {
        sql_view *v = c->views[i];
        if (v->db_oid != oid)
            continue;
        if ((rc = sql_catalog_delete_object(txn, v->oid, err)) == DC_OK) {
            sql_view_free(v);
            memmove(&c->views[i], &c->views[i + 1],
                    (c->nviews - i - 1) * sizeof *c->views);
            c->nviews--;
        }
    }
    size_t i = db_pos(c, oid);
    if (rc == DC_OK && i < c->ndbs && c->dbs[i]->oid == oid &&
        (rc = sql_catalog_delete_object(txn, oid, err)) == DC_OK) {
        database_free(c->dbs[i]);
        memmove(&c->dbs[i], &c->dbs[i + 1], (c->ndbs - i - 1) * sizeof *c->dbs);
        c->ndbs--;
    }
    int rc2 = sql_catalog_reindex(c, rc == DC_OK ? err : NULL);
    return rc != DC_OK ? rc : rc2;
}

/* A store without databases (new, or written before databases existed)
 * gets "default", persisted at once so that its oid is stable. */
static int create_default_db(sql_engine *eng, sql_catalog *c, dc_error *err)
{
    int rc = add_database_raw(c, SQL_DEFAULT_DB_NAME, SQL_DEFAULT_DB_OID, err);
    if (rc != DC_OK)
        return rc;
    json_t *j = database_to_json(c->dbs[0]);
    char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    if (!text)
        return oom(err);
    uint8_t key[8];
    catalog_key(SQL_DEFAULT_DB_OID, key);
    dc_batch_op op = {.op = DC_OP_PUT, .key = key, .key_len = sizeof key,
                      .value = (const uint8_t *)text, .value_len = strlen(text)};
    dc_write_options wo = {.size = sizeof wo, .sync = DC_SYNC_DEFAULT};
    rc = eng->sv->write(eng->store, &wo, &op, 1, NULL, err);
    free(text);
    return rc;
}

/* ---- parsing back ---------------------------------------------------------
 */

static int corrupt(dc_error *err, uint32_t oid, const char *what)
{
    return dc_error_set(err, DC_ECORRUPT, DC_SQLSTATE_CORRUPT,
                        "corrupt catalog entry for object %u: %s", oid, what);
}

static char *jstrdup(json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? xstrdup(s) : NULL;
}

static int64_t jint(json_t *o, const char *k, int64_t dflt)
{
    json_t *v = json_object_get(o, k);
    return json_is_integer(v) ? (int64_t)json_integer_value(v) : dflt;
}

static bool jbool(json_t *o, const char *k)
{
    return json_is_true(json_object_get(o, k));
}

static int column_from_json(json_t *jc, uint32_t oid, sql_column *c,
                            dc_error *err)
{
    c->missing.is_null = true;
    c->name = jstrdup(jc, "name");
    if (!c->name)
        return corrupt(err, oid, "column name");
    c->attnum = (int16_t)jint(jc, "attnum", 0);
    c->type = (uint32_t)jint(jc, "type", DC_TYPE_TEXT);
    c->typmod = (int32_t)jint(jc, "typmod", -1);
    c->not_null = jbool(jc, "not_null");
    c->dropped = jbool(jc, "dropped");
    json_t *d = json_object_get(jc, "default");
    if (json_is_string(d) && !(c->default_expr = xstrdup(json_string_value(d))))
        return oom(err);
    c->missing = sql_value_null(c->type);
    json_t *m = json_object_get(jc, "missing");
    if (json_is_string(m)) {
        dc_value v;
        int32_t tm = (int32_t)jint(jc, "missing_typmod", -1);
        int rc = sql_value_in(c->type, tm, json_string_value(m),
                              json_string_length(m), NULL, NULL, &v, err);
        if (rc != DC_OK)
            return rc;
        v.typmod = tm;
        c->missing = v; /* bytes malloc'd by sql_value_in (mem NULL) */
    }
    return DC_OK;
}

static int index_from_json(json_t *ji, sql_table *t, sql_index **out,
                           dc_error *err)
{
    sql_index *ix = calloc(1, sizeof *ix);
    if (!ix)
        return oom(err);
    json_t *att = json_object_get(ji, "attnums");
    json_t *fl = json_object_get(ji, "flags");
    size_t n = json_array_size(att);
    ix->oid = (uint32_t)jint(ji, "oid", 0);
    ix->name = jstrdup(ji, "name");
    ix->table_oid = t->oid;
    ix->unique = jbool(ji, "unique");
    ix->primary = jbool(ji, "primary");
    ix->is_constraint = jbool(ji, "constraint");
    ix->ncols = (int)n;
    ix->attnums = calloc(n + 1, sizeof *ix->attnums);
    ix->flags = calloc(n + 1, 1);
    if (!ix->name || !ix->attnums || !ix->flags || n == 0) {
        index_free(ix);
        return corrupt(err, t->oid, "index");
    }
    for (size_t i = 0; i < n; i++) {
        ix->attnums[i] = (int16_t)json_integer_value(json_array_get(att, i));
        ix->flags[i] = (uint8_t)json_integer_value(json_array_get(fl, i));
        if (ix->attnums[i] < 1 || ix->attnums[i] > t->natts) {
            index_free(ix);
            return corrupt(err, t->oid, "index column");
        }
    }
    *out = ix;
    return DC_OK;
}

static int table_from_json(json_t *o, uint32_t oid, sql_table **out,
                           dc_error *err)
{
    sql_table *t = calloc(1, sizeof *t);
    if (!t)
        return oom(err);
    int rc = DC_OK;
    json_t *cols = json_object_get(o, "cols");
    json_t *idx = json_object_get(o, "indexes");
    json_t *chk = json_object_get(o, "checks");
    t->oid = oid;
    t->schema = jstrdup(o, "schema");
    t->name = jstrdup(o, "name");
    t->est_rows = (uint64_t)jint(o, "est_rows", 0);
    t->db_oid = (uint32_t)jint(o, "db", SQL_DEFAULT_DB_OID);
    t->cols = calloc(json_array_size(cols) + 1, sizeof *t->cols);
    t->indexes = calloc(json_array_size(idx) + 1, sizeof *t->indexes);
    t->checks = calloc(json_array_size(chk) + 1, sizeof *t->checks);
    if (!t->schema || !t->name || !t->cols || !t->indexes || !t->checks) {
        rc = corrupt(err, oid, "table");
        goto fail;
    }
    for (size_t i = 0; i < json_array_size(cols); i++) {
        t->natts++;
        rc = column_from_json(json_array_get(cols, i), oid, &t->cols[i], err);
        if (rc != DC_OK)
            goto fail;
        if (t->cols[i].attnum != (int16_t)(i + 1)) {
            rc = corrupt(err, oid, "column number");
            goto fail;
        }
    }
    for (size_t i = 0; i < json_array_size(idx); i++) {
        rc = index_from_json(json_array_get(idx, i), t, &t->indexes[i], err);
        if (rc != DC_OK)
            goto fail;
        if (t->indexes[i]->primary)
            t->pkey = t->indexes[i];
        t->nindexes++;
    }
    for (size_t i = 0; i < json_array_size(chk); i++) {
        json_t *jk = json_array_get(chk, i);
        t->nchecks++;
        t->checks[i].name = jstrdup(jk, "name");
        t->checks[i].expr = jstrdup(jk, "expr");
        if (!t->checks[i].name || !t->checks[i].expr) {
            rc = corrupt(err, oid, "check");
            goto fail;
        }
    }
    *out = t;
    return DC_OK;
fail:
    sql_table_free(t);
    return rc;
}

static int view_from_json(json_t *o, uint32_t oid, sql_view **out,
                          dc_error *err)
{
    sql_view *v = calloc(1, sizeof *v);
    if (!v)
        return oom(err);
    json_t *cols = json_object_get(o, "cols");
    size_t n = json_array_size(cols);
    v->oid = oid;
    v->schema = jstrdup(o, "schema");
    v->name = jstrdup(o, "name");
    v->query = jstrdup(o, "query");
    v->db_oid = (uint32_t)jint(o, "db", SQL_DEFAULT_DB_OID);
    v->colnames = calloc(n + 1, sizeof *v->colnames);
    v->coltypes = calloc(n + 1, sizeof *v->coltypes);
    if (!v->schema || !v->name || !v->query || !v->colnames || !v->coltypes) {
        sql_view_free(v);
        return corrupt(err, oid, "view");
    }
    for (size_t i = 0; i < n; i++) {
        json_t *jc = json_array_get(cols, i);
        v->coltypes[i] = (uint32_t)jint(jc, "type", DC_TYPE_TEXT);
        if (!(v->colnames[i] = jstrdup(jc, "name"))) {
            sql_view_free(v);
            return corrupt(err, oid, "view column");
        }
        v->ncols++;
    }
    *out = v;
    return DC_OK;
}

/* Parse one stored object into c. */
static int load_object(sql_catalog *c, uint32_t oid, const uint8_t *val,
                       size_t n, dc_error *err)
{
    json_error_t jerr;
    json_t *o = json_loadb((const char *)val, n, 0, &jerr);
    if (!o)
        return corrupt(err, oid, jerr.text);
    const char *kind = json_string_value(json_object_get(o, "kind"));
    int rc;
    if (kind && !strcmp(kind, "table")) {
        sql_table *t = NULL;
        rc = table_from_json(o, oid, &t, err);
        if (rc == DC_OK && (rc = add_table_raw(c, t, err)) != DC_OK)
            sql_table_free(t);
    } else if (kind && !strcmp(kind, "database")) {
        const char *nm = json_string_value(json_object_get(o, "name"));
        rc = nm ? add_database_raw(c, nm, oid, err)
                : corrupt(err, oid, "database");
    } else if (kind && !strcmp(kind, "view")) {
        sql_view *v = NULL;
        rc = view_from_json(o, oid, &v, err);
        if (rc == DC_OK && (rc = add_view_raw(c, v, err)) != DC_OK)
            sql_view_free(v);
    } else {
        rc = corrupt(err, oid, "unknown kind");
    }
    json_decref(o);
    return rc;
}

/* ==== load at open ======================================================== */

typedef struct meta_read {
    uint64_t v;
    bool ok;
} meta_read;

static int meta_cb(void *ud, const uint8_t *value, size_t len)
{
    meta_read *m = ud;
    if (len == 8) {
        uint64_t v = 0;
        for (int i = 0; i < 8; i++)
            v = (v << 8) | value[i];
        m->v = v;
        m->ok = true;
    }
    return 0;
}

/* The highest oid in use + 1 (indexes included). */
static uint32_t next_free_oid(const sql_catalog *c)
{
    uint32_t next = SQL_FIRST_USER_OID;
    for (size_t i = 0; i < c->ntables; i++) {
        const sql_table *t = c->tables[i];
        if (t->oid >= next)
            next = t->oid + 1;
        for (int j = 0; j < t->nindexes; j++)
            if (t->indexes[j]->oid >= next)
                next = t->indexes[j]->oid + 1;
    }
    for (size_t i = 0; i < c->nviews; i++)
        if (c->views[i]->oid >= next)
            next = c->views[i]->oid + 1;
    for (size_t i = 0; i < c->ndbs; i++)
        if (c->dbs[i]->oid >= next)
            next = c->dbs[i]->oid + 1;
    return next;
}

static int load_objects(sql_engine *eng, sql_catalog *c, dc_error *err)
{
    uint8_t lo[4], hi[4];
    put_be32(lo, SQL_REL_CATALOG);
    put_be32(hi, SQL_REL_CATALOG + 1);
    dc_read_options ro = {.size = sizeof ro,
                          .lower = lo,
                          .lower_len = 4,
                          .upper = hi,
                          .upper_len = 4};
    dc_iter *it = NULL;
    int rc = eng->sv->iter_open(eng->store, &ro, &it, err);
    if (rc != DC_OK)
        return rc;
    for (eng->sv->iter_seek_first(it); eng->sv->iter_valid(it);
         eng->sv->iter_next(it)) {
        const uint8_t *k, *v;
        size_t kn, vn;
        eng->sv->iter_key(it, &k, &kn);
        eng->sv->iter_value(it, &v, &vn);
        if (kn != 8)
            continue;
        uint32_t oid = (uint32_t)k[4] << 24 | (uint32_t)k[5] << 16 |
                       (uint32_t)k[6] << 8 | k[7];
        if ((rc = load_object(c, oid, v, vn, err)) != DC_OK)
            break;
    }
    if (rc == DC_OK)
        rc = eng->sv->iter_status(it, err);
    eng->sv->iter_close(it);
    return rc;
}

int sql_catalog_load(sql_engine *eng, sql_catalog **out, dc_error *err)
{
    sql_catalog *c = catalog_new();
    if (!c)
        return oom(err);
    c->version = next_version();
    int rc = load_objects(eng, c, err);
    if (rc == DC_OK && !c->ndbs)
        rc = create_default_db(eng, c, err);
    if (rc == DC_OK)
        rc = sql_catalog_reindex(c, err);
    if (rc != DC_OK) {
        catalog_free(c);
        return rc;
    }
    /* The persisted counter may run ahead of the objects (oids of rolled
     * back DDL are not reused); objects never run ahead of it unless the
     * counter is missing. */
    uint32_t next = next_free_oid(c);
    uint8_t key[4 + 8];
    put_be32(key, SQL_REL_META);
    memcpy(key + 4, "next_oid", 8);
    meta_read m = {0};
    dc_read_options ro = {.size = sizeof ro};
    dc_error gerr;
    dc_error_init(&gerr);
    rc = eng->sv->get(eng->store, &ro, key, sizeof key, meta_cb, &m, &gerr);
    if (rc != DC_OK && rc != DC_ENOTFOUND) {
        if (err)
            *err = gerr;
        catalog_free(c);
        return rc;
    }
    if (m.ok && m.v > next && m.v <= UINT32_MAX)
        next = (uint32_t)m.v;
    atomic_store(&eng->next_oid, next);
    *out = c;
    return DC_OK;
}

int sql_catalog_new_oid(sql_ctx *ctx, uint32_t *oid, dc_error *err)
{
    sql_engine *eng = ctx->eng;
    uint32_t seen = atomic_load(&eng->next_oid), cur;
    for (;;) {
        cur = seen < SQL_FIRST_USER_OID ? SQL_FIRST_USER_OID : seen;
        /* Oids with the top bit set are reserved for derived ones
         * (vcatalog.c). */
        if (cur >= 0x80000000u)
            return dc_error_set(err, DC_ERANGE, "54000",
                                "out of object identifiers");
        if (atomic_compare_exchange_weak(&eng->next_oid, &seen, cur + 1))
            break;
    }
    int rc = sql_txn_meta_put(ctx->txn, "next_oid", (uint64_t)cur + 1, err);
    if (rc != DC_OK)
        return rc;
    *oid = cur;
    return DC_OK;
}
