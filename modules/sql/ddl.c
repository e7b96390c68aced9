/*
 * sql/ddl.c - DDL statements (catalog.h: sql_ddl_exec).
 *
 * Every statement takes the DDL lock, clones the catalog the transaction
 * sees (its own copy after earlier DDL, else the engine's newest) and
 * changes the clone.  Only when the whole statement succeeded does the
 * clone become the transaction's catalog, so a failed statement leaves the
 * catalog as it was, and a savepoint taken earlier still holds the copy
 * it marked.  Changed objects are written to the transaction's write set,
 * so they commit or roll back together with the data changes.
 *
 * Table rewrites.  A change of the primary key changes every row key, so
 * the table is copied: the new definition gets a new oid (and new index
 * oids), every row is inserted under it, and the old rows and index
 * entries are cleared.  Reading and writing disjoint key ranges keeps the
 * scan from meeting its own writes.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sql/binder.h"
#include "sql/catalog.h"
#include "sql/exec.h"
#include "sql/parser.h"
#include "sql/pipe.h"
#include "sql/tableam.h"
#include "sql/txn.h"

#define NAME_MAX_LEN 63 /* PostgreSQL's NAMEDATALEN - 1 */

typedef struct ddl {
    sql_ctx *ctx;
    const sql_stmt *stmt;
    const char *src;
    sql_catalog *cat;            /* the private clone being changed          */
    const sql_catalog *orig_cat; /* ctx->cat before the statement     */
    int (*notice)(void *ud, const dc_error *n);
    void *notice_ud;
} ddl;

static int oom(dc_error *err)
{
    return dc_error_set(err, DC_ENOMEM, DC_SQLSTATE_OOM, "out of memory");
}

static char *xstrdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = malloc(n);
    if (p)
        memcpy(p, s, n);
    return p;
}

/* Send a notice (severity NOTICE) when a receiver is set. */
#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static int
ddl_notice(ddl *d, const char *sqlstate, const char *fmt, ...)
{
    if (!d->notice)
        return DC_OK;
    dc_error n;
    dc_error_init(&n);
    va_list ap;
    va_start(ap, fmt);
    dc_error_setv(&n, DC_OK, sqlstate, fmt, ap);
    va_end(ap);
    n.severity = DC_SEV_NOTICE;
    return d->notice(d->notice_ud, &n);
}

static int set_pos(dc_error *err, int pos, int rc)
{
    if (err && pos > 0)
        err->position = pos;
    return rc;
}

/* ==== names ================================================================
 */

/* Schema and name of a qualified name.  Only "public" holds user objects;
 * `for_create` reports other schemas as missing (3F000), lookups simply
 * find nothing there (*schema is set all the same). */
static int split_qname(const sql_qname *q, bool for_create, const char **schema,
                       const char **name, dc_error *err)
{
    if (q->nparts > 3 || q->nparts < 1)
        return set_pos(
            err, q->pos,
            dc_error_set(err, DC_EINVAL, "42601",
                         "improper qualified name (too many dotted names)"));
    if (q->nparts == 3)
        return set_pos(
            err, q->pos,
            dc_error_set(
                err, DC_EUNSUPPORTED, "0A000",
                "cross-database references are not implemented: %s.%s.%s",
                q->parts[0], q->parts[1], q->parts[2]));
    *name = q->parts[q->nparts - 1];
    *schema = q->nparts == 2 ? q->parts[0] : "public";
    if (for_create && strcmp(*schema, "public") != 0) {
        if (!strcmp(*schema, "pg_catalog") ||
            !strcmp(*schema, "information_schema"))
            return set_pos(err, q->pos,
                           dc_error_set(err, DC_EPERM, "42501",
                                        "permission denied to create \"%s.%s\"",
                                        *schema, *name));
        return set_pos(err, q->pos,
                       dc_error_set(err, DC_ENOTFOUND, "3F000",
                                    "schema \"%s\" does not exist", *schema));
    }
    return DC_OK;
}

/* True when `name` is used by a relation or by one of t's constraints. */
static bool name_taken(const sql_catalog *cat, const sql_table *t,
                       const char *name)
{
    if (sql_catalog_relname_taken(cat, "public", name))
        return true;
    if (!t)
        return false;
    if (!strcmp(t->name, name))
        return true;
    for (int i = 0; i < t->nindexes; i++)
        if (!strcmp(t->indexes[i]->name, name))
            return true;
    for (int i = 0; i < t->nchecks; i++)
        if (!strcmp(t->checks[i].name, name))
            return true;
    return false;
}

/* True when one of t's constraints is called `name`. */
static bool constraint_taken(const sql_table *t, const char *name)
{
    for (int i = 0; i < t->nindexes; i++)
        if (t->indexes[i]->is_constraint && !strcmp(t->indexes[i]->name, name))
            return true;
    for (int i = 0; i < t->nchecks; i++)
        if (!strcmp(t->checks[i].name, name))
            return true;
    return false;
}

/* PostgreSQL's derived names: name1_name2_label cut to 63 bytes (the
 * longer part shortened first), then label1, label2 ... until free. */
static int choose_name(const sql_catalog *cat, const sql_table *t,
                       const char *name1, const char *name2, const char *label,
                       char *out, size_t cap, dc_error *err)
{
    for (int pass = 0; pass < 100000; pass++) {
        char lab[64];
        if (pass == 0)
            snprintf(lab, sizeof lab, "%s", label);
        else
            snprintf(lab, sizeof lab, "%s%d", label, pass);
        size_t l1 = strlen(name1), l2 = name2 ? strlen(name2) : 0;
        size_t extra = strlen(lab) + 1 + (name2 ? 1 : 0);
        while (l1 + l2 + extra > NAME_MAX_LEN && l1 + l2 > 0) {
            if (l1 > l2)
                l1--;
            else
                l2--;
        }
        if (name2)
            snprintf(out, cap, "%.*s_%.*s_%s", (int)l1, name1, (int)l2, name2,
                     lab);
        else
            snprintf(out, cap, "%.*s_%s", (int)l1, name1, lab);
        if (!name_taken(cat, t, out))
            return DC_OK;
    }
    return dc_error_set(err, DC_EEXIST, "42P07",
                        "could not choose a name for \"%s\"", name1);
}

/* Column names of a key joined with '_' (PostgreSQL's index naming). */
static void key_colnames(const sql_table *t, const int16_t *attnums, int n,
                         char *out, size_t cap)
{
    size_t len = 0;
    out[0] = '\0';
    for (int i = 0; i < n && len + 1 < cap; i++) {
        int w = snprintf(out + len, cap - len, "%s%s", i ? "_" : "",
                         t->cols[attnums[i] - 1].name);
        if (w < 0)
            break;
        len += (size_t)w;
        if (len >= cap)
            len = cap - 1;
    }
}

/* ==== expression text helpers ============================================ */

typedef void (*col_fn)(sql_expr *col, void *ud);

static void walk_list(sql_list *l, col_fn fn, void *ud);

/* Visit every column reference of an expression (subqueries excluded:
 * DEFAULT and CHECK cannot have them). */
static void walk_expr(sql_expr *e, col_fn fn, void *ud)
{
    if (!e)
        return;
    switch (e->kind) {
    case EXPR_COLUMN:
        if (!e->u.col.star && e->u.col.nnames > 0)
            fn(e, ud);
        break;
    case EXPR_OP:
    case EXPR_AT_TIME_ZONE:
        walk_expr(e->u.op.left, fn, ud);
        walk_expr(e->u.op.right, fn, ud);
        break;
    case EXPR_AND:
    case EXPR_OR:
        walk_list(e->u.args, fn, ud);
        break;
    case EXPR_NOT:
    case EXPR_NULLTEST:
    case EXPR_BOOLTEST:
        walk_expr(e->u.un.arg, fn, ud);
        walk_expr(e->u.un.other, fn, ud);
        break;
    case EXPR_COLLATE:
        walk_expr(e->u.collate.arg, fn, ud);
        break;
    case EXPR_SUBSCRIPT:
        walk_expr(e->u.sub.arg, fn, ud);
        walk_expr(e->u.sub.lo, fn, ud);
        walk_expr(e->u.sub.hi, fn, ud);
        break;
    case EXPR_DISTINCT:
        walk_expr(e->u.distinct.left, fn, ud);
        walk_expr(e->u.distinct.right, fn, ud);
        break;
    case EXPR_BETWEEN:
        walk_expr(e->u.between.arg, fn, ud);
        walk_expr(e->u.between.lo, fn, ud);
        walk_expr(e->u.between.hi, fn, ud);
        break;
    case EXPR_IN:
        walk_expr(e->u.in.arg, fn, ud);
        walk_list(e->u.in.list, fn, ud);
        break;
    case EXPR_LIKE:
        walk_expr(e->u.like.arg, fn, ud);
        walk_expr(e->u.like.pattern, fn, ud);
        walk_expr(e->u.like.escape, fn, ud);
        break;
    case EXPR_QUANT:
        walk_expr(e->u.quant.left, fn, ud);
        walk_expr(e->u.quant.array, fn, ud);
        break;
    case EXPR_FUNC:
        walk_list(e->u.func.args, fn, ud);
        walk_expr(e->u.func.filter, fn, ud);
        break;
    case EXPR_CASE:
        walk_expr(e->u.kase.arg, fn, ud);
        for (size_t i = 0; i < SQL_LIST_LEN(e->u.kase.whens); i++) {
            sql_when *w = e->u.kase.whens->items[i];
            walk_expr(w->when, fn, ud);
            walk_expr(w->then, fn, ud);
        }
        walk_expr(e->u.kase.els, fn, ud);
        break;
    case EXPR_CAST:
        walk_expr(e->u.cast.arg, fn, ud);
        break;
    case EXPR_ARRAY:
    case EXPR_ROW:
        walk_list(e->u.list, fn, ud);
        break;
    default:
        break;
    }
}

static void walk_list(sql_list *l, col_fn fn, void *ud)
{
    for (size_t i = 0; i < SQL_LIST_LEN(l); i++)
        walk_expr(l->items[i], fn, ud);
}

/* Parse expression text (as stored) into *e in a new arena. */
static int parse_expr_text(const char *text, sql_arena **arena, sql_expr **e,
                           dc_error *err)
{
    size_t n = strlen(text);
    char *q = malloc(n + 8);
    if (!q)
        return oom(err);
    memcpy(q, "SELECT ", 7);
    memcpy(q + 7, text, n + 1);
    sql_list *stmts = NULL;
    int rc = sql_parse(q, n + 7, arena, &stmts, err);
    free(q);
    if (rc != DC_OK)
        return rc;
    sql_stmt *s = SQL_LIST_LEN(stmts) == 1 ? stmts->items[0] : NULL;
    if (!s || s->kind != STMT_SELECT ||
        SQL_LIST_LEN(s->u.select->targets) != 1) {
        sql_arena_free(*arena);
        return dc_error_set(err, DC_ECORRUPT, DC_SQLSTATE_INTERNAL,
                            "bad stored expression: %s", text);
    }
    *e = ((sql_target *)s->u.select->targets->items[0])->expr;
    return DC_OK;
}

typedef struct col_collect {
    const char *first; /* first distinct column named              */
    int ndistinct;
    const char *want; /* mention test                             */
    bool found;
    const char *rename_to; /* rename: new name                         */
} col_collect;

static void collect_col(sql_expr *e, void *ud)
{
    col_collect *c = ud;
    const char *name = e->u.col.names[e->u.col.nnames - 1];
    if (c->want && !strcmp(name, c->want)) {
        c->found = true;
        if (c->rename_to)
            e->u.col.names[e->u.col.nnames - 1] = (char *)c->rename_to;
    }
    if (!c->first) {
        c->first = name;
        c->ndistinct = 1;
    } else if (strcmp(c->first, name) != 0) {
        c->ndistinct = 2;
    }
}

typedef struct name_cb {
    void (*fn)(const char *col, void *ud);
    void *ud;
} name_cb;

static void call_name_cb(sql_expr *e, void *ud)
{
    name_cb *c = ud;
    c->fn(e->u.col.names[e->u.col.nnames - 1], c->ud);
}

int sql_expr_text_columns(const char *text,
                          void (*fn)(const char *col, void *ud), void *ud,
                          dc_error *err)
{
    sql_arena *a = NULL;
    sql_expr *e = NULL;
    int rc = parse_expr_text(text, &a, &e, err);
    if (rc != DC_OK)
        return rc;
    name_cb c = {fn, ud};
    walk_expr(e, call_name_cb, &c);
    sql_arena_free(a);
    return DC_OK;
}

/* Does stored expression `text` mention column `col`? */
static bool expr_mentions(const char *text, const char *col)
{
    sql_arena *a = NULL;
    sql_expr *e = NULL;
    if (parse_expr_text(text, &a, &e, NULL) != DC_OK)
        return false;
    col_collect c = {.want = col};
    walk_expr(e, collect_col, &c);
    sql_arena_free(a);
    return c.found;
}

/* Replace *text by its form with column `from` renamed `to`. */
static int expr_rename(char **text, const char *from, const char *to,
                       dc_error *err)
{
    sql_arena *a = NULL;
    sql_expr *e = NULL;
    int rc = parse_expr_text(*text, &a, &e, err);
    if (rc != DC_OK)
        return rc;
    col_collect c = {.want = from, .rename_to = to};
    walk_expr(e, collect_col, &c);
    if (c.found) {
        char *s = sql_expr_to_string(e);
        if (!s) {
            sql_arena_free(a);
            return oom(err);
        }
        free(*text);
        *text = s;
    }
    sql_arena_free(a);
    return DC_OK;
}

/* ==== scans with bounded memory ========================================== */

static void *arena_alloc_fn(void *a, size_t n)
{
    return sql_arena_alloc(a, n);
}

/* Row loop over a table: per-row memory comes from a scratch arena that is
 * renewed every few hundred rows. */
typedef struct row_loop {
    sql_scan *scan;
    sql_arena *scratch;
    sql_mem mem;
    dc_value *vals;
    const uint8_t *key;
    size_t klen;
    unsigned rows;
    sql_mem saved_mem; /* ctx->mem while the loop runs             */
    sql_ctx *ctx;
} row_loop;

static int loop_open(sql_ctx *ctx, const sql_table *t, row_loop *l,
                     dc_error *err)
{
    memset(l, 0, sizeof *l);
    l->ctx = ctx;
    l->vals = calloc((size_t)t->natts + 1, sizeof *l->vals);
    l->scratch = sql_arena_new();
    if (!l->vals || !l->scratch) {
        free(l->vals);
        sql_arena_free(l->scratch);
        return oom(err);
    }
    l->mem = (sql_mem){arena_alloc_fn, l->scratch};
    /* Every row once: keep the block cache for the workload. */
    int rc = sql_table_scan_open(ctx->txn, SQL_READ_SNAPSHOT | SQL_READ_NOCACHE,
                                 t, NULL, 0, NULL, 0, &l->scan, err);
    if (rc != DC_OK) {
        free(l->vals);
        sql_arena_free(l->scratch);
        return rc;
    }
    /* Expressions evaluated per row allocate from the scratch arena too. */
    l->saved_mem = ctx->mem;
    ctx->mem = l->mem;
    return DC_OK;
}

static int loop_next(row_loop *l, bool *valid, dc_error *err)
{
    if (++l->rows % 256 == 0) {
        sql_arena *n = sql_arena_new();
        if (!n)
            return oom(err);
        sql_arena_free(l->scratch);
        l->scratch = n;
        l->mem.ctx = n;
        l->ctx->mem = l->mem;
    }
    int rc = sql_check_cancel(l->ctx, err);
    if (rc != DC_OK)
        return rc;
    return sql_scan_next(l->scan, &l->mem, l->vals, &l->key, &l->klen, valid,
                         err);
}

static void loop_close(row_loop *l)
{
    if (l->scan)
        sql_scan_close(l->scan);
    l->ctx->mem = l->saved_mem;
    sql_arena_free(l->scratch);
    free(l->vals);
}

/* 23502 when a row of t has NULL in attnum. */
static int check_no_nulls(sql_ctx *ctx, const sql_table *t, int attnum,
                          dc_error *err)
{
    row_loop l;
    int rc = loop_open(ctx, t, &l, err);
    if (rc != DC_OK)
        return rc;
    for (;;) {
        bool valid = false;
        if ((rc = loop_next(&l, &valid, err)) != DC_OK || !valid)
            break;
        if (l.vals[attnum - 1].is_null) {
            rc = dc_error_set(
                err, DC_ECONFLICT, "23502",
                "column \"%s\" of relation \"%s\" contains null values",
                t->cols[attnum - 1].name, t->name);
            break;
        }
    }
    loop_close(&l);
    return rc;
}

/* Does the table have any row? */
static int table_nonempty(sql_ctx *ctx, const sql_table *t, bool *any,
                          dc_error *err)
{
    row_loop l;
    int rc = loop_open(ctx, t, &l, err);
    if (rc != DC_OK)
        return rc;
    rc = loop_next(&l, any, err);
    loop_close(&l);
    return rc;
}

/* 23514 when a row of t violates CHECK `ck`. */
static int check_rows(sql_ctx *ctx, const sql_table *t, const sql_check *ck,
                      dc_error *err)
{
    sql_bexpr *bx = NULL;
    int rc = sql_bind_expr_text(ctx, ctx->arena, t, ck->expr, DC_TYPE_BOOL, -1,
                                &bx, err);
    if (rc != DC_OK)
        return rc;
    row_loop l;
    if ((rc = loop_open(ctx, t, &l, err)) != DC_OK)
        return rc;
    for (;;) {
        bool valid = false;
        if ((rc = loop_next(&l, &valid, err)) != DC_OK || !valid)
            break;
        dc_value v;
        if ((rc = sql_eval(ctx, bx, l.vals, NULL, &v, err)) != DC_OK)
            break;
        if (!v.is_null && !v.u.b) {
            rc = dc_error_set(err, DC_ECONFLICT, "23514",
                              "check constraint \"%s\" of relation \"%s\" is "
                              "violated by some row",
                              ck->name, t->name);
            break;
        }
    }
    loop_close(&l);
    return rc;
}

/* Give `next` a fresh oid (and its indexes fresh ones). */
static int renumber(sql_ctx *ctx, sql_table *next, dc_error *err)
{
    int rc = sql_catalog_new_oid(ctx, &next->oid, err);
    for (int i = 0; rc == DC_OK && i < next->nindexes; i++) {
        rc = sql_catalog_new_oid(ctx, &next->indexes[i]->oid, err);
        next->indexes[i]->table_oid = next->oid;
    }
    return rc;
}

/* Turn "duplicate key ..." of a rewrite into CREATE INDEX's wording. */
static void dup_error_for_index(dc_error *err, const char *index_name)
{
    if (!err || strcmp(err->sqlstate, "23505") != 0)
        return;
    char detail[sizeof err->detail];
    snprintf(detail, sizeof detail, "%s", err->detail);
    char *p = strstr(detail, " already exists.");
    dc_error_set(err, DC_ECONFLICT, "23505",
                 "could not create unique index \"%s\"", index_name);
    if (p) {
        *p = '\0';
        dc_error_detail(err, "%s is duplicated.", detail);
    }
}

/*
 * Copy every row of `cur` (a table of d->cat) into `next` (a new
 * definition, not in the catalog, owned by this call) under new oids,
 * clear the old rows, and swap the definitions in the catalog.  *out gets
 * the table now in the catalog.
 */
/* Per-row change made while rewriting (vals has the old table's natts
 * values, changed in place). */
typedef int (*row_xform)(sql_ctx *ctx, dc_value *vals, void *ud, dc_error *err);

static int rewrite_table_x(ddl *d, sql_table *cur, sql_table *next,
                           row_xform xf, void *xf_ud, sql_table **out,
                           dc_error *err);

static int rewrite_table(ddl *d, sql_table *cur, sql_table *next,
                         sql_table **out, dc_error *err)
{
    return rewrite_table_x(d, cur, next, NULL, NULL, out, err);
}

/* ---- the key-only rewrite on two threads
 *
 * When the new table's one index is its primary key and the rows keep
 * their stored bytes, a helper thread scans the old table, checks NOT
 * NULL and builds each row's new key, in batches; the statement's thread
 * loads them in scan order (sql_table_load_keyed), so rows, errors and
 * their order are those of the serial loop.  The scan must read storage
 * alone (sql_scan_storage_only): the statement's thread writes the
 * transaction's write set meanwhile. */

#define RW_ROWS 1024
#define RW_BYTES (256 * 1024)
#define RW_SLOTS 4

typedef struct rw_batch {
    sql_buf data;             /* each row's key, then its stored bytes   */
    size_t n;
    size_t off[RW_ROWS];      /* row i's key starts at data[off[i]]      */
    size_t klen[RW_ROWS], rlen[RW_ROWS];
    bool end;                 /* the scan ended (or failed) here         */
    int rc;
    dc_error err;
} rw_batch;

typedef struct rw_scan {
    rw_batch b[RW_SLOTS];
    sql_scan *scan;
    const sql_table *next;
    const sql_ctx *ctx;
    dc_value *vals;
    sql_arena *a;             /* values of the batch being filled        */
    sql_buf key;
    bool ended;
} rw_scan;

/* The helper: fill batch `slot` with the next rows of the scan. */
static void rw_fill(void *ud, void *slot)
{
    rw_scan *r = ud;
    rw_batch *b = slot;
    b->data.len = 0;
    b->n = 0;
    b->rc = DC_OK;
    dc_error_init(&b->err);
    int rc = DC_OK;
    sql_arena *na = r->ended ? NULL : sql_arena_new();
    if (!r->ended && na == NULL)
        rc = oom(&b->err);
    if (na != NULL) {
        sql_arena_free(r->a);
        r->a = na;
        rc = sql_check_cancel(r->ctx, &b->err);
    }
    sql_mem mem = {arena_alloc_fn, r->a};
    while (rc == DC_OK && !r->ended && b->n < RW_ROWS &&
           b->data.len < RW_BYTES) {
        bool valid = false;
        rc = sql_scan_next(r->scan, &mem, r->vals, NULL, NULL, &valid,
                           &b->err);
        if (rc != DC_OK)
            break;
        if (!valid) {
            r->ended = true;
            break;
        }
        const uint8_t *row = NULL;
        size_t rowlen = 0;
        sql_scan_row(r->scan, &row, &rowlen);
        rc = sql_table_check_not_null(r->next, r->vals, &b->err);
        if (rc == DC_OK)
            rc = sql_row_key(r->next, r->vals, &r->key, &b->err);
        if (rc == DC_OK) {
            b->off[b->n] = b->data.len;
            b->klen[b->n] = r->key.len;
            b->rlen[b->n] = rowlen;
            rc = sql_buf_append(&b->data, r->key.data, r->key.len, &b->err);
        }
        if (rc == DC_OK && rowlen)
            rc = sql_buf_append(&b->data, row, rowlen, &b->err);
        if (rc == DC_OK)
            b->n++;
    }
    if (rc != DC_OK) {
        b->rc = rc;
        r->ended = true;
    }
    b->end = r->ended;
}

/* Load every row of l's scan into `next` with a helper scanning.  *ran is
 * false (and nothing done) when no helper thread can start. */
static int rewrite_par(sql_ctx *ctx, row_loop *l, sql_table *next,
                       sql_loader *ld, bool *ran, dc_error *err)
{
    *ran = false;
    rw_scan *r = calloc(1, sizeof *r);
    if (r == NULL)
        return DC_OK;
    r->scan = l->scan;
    r->next = next;
    r->ctx = ctx;
    r->vals = l->vals;
    void *slots[RW_SLOTS];
    for (int i = 0; i < RW_SLOTS; i++)
        slots[i] = &r->b[i];
    sql_pipe *p = NULL;
    int rc = DC_OK;
    if (sql_pipe_open(slots, RW_SLOTS, rw_fill, r, &p)) {
        *ran = true;
        while (sql_pipe_free_slot(p) != NULL)
            sql_pipe_submit(p);
        for (;;) {
            rw_batch *b = sql_pipe_take(p, true);
            for (size_t i = 0; i < b->n && rc == DC_OK; i++) {
                const uint8_t *k = b->data.data + b->off[i];
                rc = sql_table_load_keyed(ctx->txn, next, ld, k, b->klen[i],
                                          k + b->klen[i], b->rlen[i], err);
            }
            if (rc == DC_OK && b->rc != DC_OK)
                rc = sql_pipe_report(err, b->rc, &b->err);
            bool end = b->end;
            sql_pipe_release(p);
            if (rc != DC_OK || end)
                break;
            sql_pipe_submit(p); /* the slot just released */
        }
        sql_pipe_close(p);
    }
    for (int i = 0; i < RW_SLOTS; i++)
        sql_buf_free(&r->b[i].data);
    sql_buf_free(&r->key);
    sql_arena_free(r->a);
    free(r);
    return rc;
}

static int rewrite_table_x(ddl *d, sql_table *cur, sql_table *next,
                           row_xform xf, void *xf_ud, sql_table **out,
                           dc_error *err)
{
    sql_ctx *ctx = d->ctx;
    int rc = renumber(ctx, next, err);
    if (rc != DC_OK) {
        sql_table_free(next);
        return rc;
    }
    row_loop l;
    if ((rc = loop_open(ctx, cur, &l, err)) != DC_OK) {
        sql_table_free(next);
        return rc;
    }
    /* `next` has a new oid: only this transaction can see its rows.
     * When only the key changes, each row keeps its stored bytes. */
    bool raw = xf == NULL && sql_table_same_layout(cur, next);
    if (raw && next->pkey != NULL) {
        /* Decode only what the load reads: the key and index columns and
         * the NOT NULL ones it checks.  (A table without a primary key
         * takes its rows through sql_table_insert, which encodes them.) */
        uint8_t *cols = calloc(((size_t)next->natts + 7) / 8 + 1, 1);
        if (cols == NULL)
            rc = oom(err);
        for (int i = 0; cols && i < next->natts; i++)
            if (next->cols[i].not_null)
                cols[i / 8] |= (uint8_t)(1u << (i % 8));
        for (int x = 0; cols && x < next->nindexes; x++)
            for (int k = 0; k < next->indexes[x]->ncols; k++) {
                int a = next->indexes[x]->attnums[k] - 1;
                cols[a / 8] |= (uint8_t)(1u << (a % 8));
            }
        if (rc == DC_OK)
            rc = sql_scan_set_columns(l.scan, cols, err);
        free(cols);
        if (rc != DC_OK) {
            loop_close(&l);
            sql_table_free(next);
            return rc;
        }
    }
    sql_loader ld = {0};
    bool ran = false;
    if (raw && next->pkey != NULL && next->nindexes == 1 &&
        sql_scan_storage_only(l.scan))
        rc = rewrite_par(ctx, &l, next, &ld, &ran, err);
    while (!ran) {
        bool valid = false;
        if ((rc = loop_next(&l, &valid, err)) != DC_OK || !valid)
            break;
        if (xf && (rc = xf(ctx, l.vals, xf_ud, err)) != DC_OK)
            break;
        const uint8_t *row = NULL;
        size_t rowlen = 0;
        if (raw)
            sql_scan_row(l.scan, &row, &rowlen);
        if ((rc = sql_table_load_raw(ctx->txn, next, &ld, l.vals, row, rowlen,
                                     err)) != DC_OK)
            break;
    }
    sql_loader_free(&ld);
    loop_close(&l);
    if (rc == DC_OK)
        rc = sql_table_drop_storage(ctx->txn, cur, err);
    if (rc == DC_OK)
        rc = sql_catalog_delete_object(ctx->txn, cur->oid, err);
    if (rc != DC_OK) {
        if (next->pkey)
            dup_error_for_index(err, next->pkey->name);
        sql_table_free(next);
        return rc;
    }
    uint32_t old = cur->oid;
    sql_catalog_remove(d->cat, old);
    uint32_t oid = next->oid;
    if ((rc = sql_catalog_put_table(d->cat, next, err)) != DC_OK)
        return rc;
    *out = sql_catalog_table_mut(d->cat, oid);
    return DC_OK;
}

/* ==== types and columns ================================================== */

static int resolve_type(const sql_typename *tn, uint32_t *type, int32_t *typmod,
                        dc_error *err)
{
    if (tn->array_dims > 0)
        return set_pos(err, tn->pos,
                       dc_error_set(err, DC_EUNSUPPORTED, "0A000",
                                    "array types are not supported"));
    if (tn->oid != 0 && sql_type_supported(tn->oid)) {
        *type = tn->oid;
        *typmod = tn->typmod;
        return DC_OK;
    }
    if (!tn->qual &&
        (!strcmp(tn->name, "serial") || !strcmp(tn->name, "bigserial") ||
         !strcmp(tn->name, "smallserial") || !strcmp(tn->name, "serial4") ||
         !strcmp(tn->name, "serial8") || !strcmp(tn->name, "serial2")))
        return set_pos(err, tn->pos,
                       dc_error_set(err, DC_EUNSUPPORTED, "0A000",
                                    "type \"%s\" is not supported", tn->name));
    return set_pos(err, tn->pos,
                   dc_error_set(err, DC_ENOTFOUND, "42704",
                                "type \"%s\" does not exist", tn->name));
}

/* Append a column to t (capacity grows by one). */
static int add_column(sql_table *t, const char *name, uint32_t type,
                      int32_t typmod, sql_column **out, dc_error *err)
{
    sql_column *cols = realloc(t->cols, ((size_t)t->natts + 1) * sizeof *cols);
    if (!cols)
        return oom(err);
    t->cols = cols;
    sql_column *c = &cols[t->natts];
    memset(c, 0, sizeof *c);
    if (!(c->name = xstrdup(name)))
        return oom(err);
    c->attnum = (int16_t)(t->natts + 1);
    c->type = type;
    c->typmod = typmod;
    c->missing = sql_value_null(type);
    t->natts++;
    *out = c;
    return DC_OK;
}

static int add_index(sql_table *t, sql_index *ix, dc_error *err)
{
    sql_index **a = realloc(t->indexes, ((size_t)t->nindexes + 1) * sizeof *a);
    if (!a)
        return oom(err);
    t->indexes = a;
    t->indexes[t->nindexes++] = ix;
    if (ix->primary)
        t->pkey = ix;
    return DC_OK;
}

static void index_free(sql_index *ix)
{
    if (!ix)
        return;
    free(ix->name);
    free(ix->attnums);
    free(ix->flags);
    free(ix);
}

/* Detach index i from t (the caller frees it). */
static sql_index *remove_index(sql_table *t, int i)
{
    sql_index *ix = t->indexes[i];
    memmove(&t->indexes[i], &t->indexes[i + 1],
            (size_t)(t->nindexes - i - 1) * sizeof *t->indexes);
    t->nindexes--;
    if (t->pkey == ix)
        t->pkey = NULL;
    return ix;
}

static int add_check(sql_table *t, const char *name, const char *expr,
                     dc_error *err)
{
    sql_check *a = realloc(t->checks, ((size_t)t->nchecks + 1) * sizeof *a);
    if (!a)
        return oom(err);
    t->checks = a;
    char *n = xstrdup(name), *e = xstrdup(expr);
    if (!n || !e) {
        free(n);
        free(e);
        return oom(err);
    }
    t->checks[t->nchecks++] = (sql_check){n, e};
    return DC_OK;
}

static int col_attnum(const sql_table *t, const char *name)
{
    const sql_column *c = sql_table_column(t, name);
    return c ? c->attnum : 0;
}

/* A new key constraint index over named columns (flags 0: ASC NULLS
 * LAST), named `name` or by PostgreSQL's rule.  `alter` words an unknown
 * primary key column as ALTER TABLE does. */
static int make_key_index(ddl *d, sql_table *t, sql_list *cols, bool primary,
                          const char *name, int pos, bool alter,
                          sql_index **out, dc_error *err)
{
    sql_index *ix = calloc(1, sizeof *ix);
    size_t n = SQL_LIST_LEN(cols);
    if (!ix)
        return oom(err);
    ix->attnums = calloc(n + 1, sizeof *ix->attnums);
    ix->flags = calloc(n + 1, 1);
    if (!ix->attnums || !ix->flags) {
        index_free(ix);
        return oom(err);
    }
    ix->ncols = (int)n;
    for (size_t i = 0; i < n; i++) {
        const char *cn = cols->items[i];
        int a = col_attnum(t, cn);
        if (!a) {
            index_free(ix);
            if (alter && primary)
                return dc_error_set(
                    err, DC_ENOTFOUND, "42703",
                    "column \"%s\" of relation \"%s\" does not exist", cn,
                    t->name);
            return set_pos(
                err, pos,
                dc_error_set(err, DC_ENOTFOUND, "42703",
                             "column \"%s\" named in key does not exist", cn));
        }
        for (size_t k = 0; k < i; k++)
            if (ix->attnums[k] == a) {
                index_free(ix);
                return set_pos(
                    err, pos,
                    dc_error_set(err, DC_EINVAL, "42701",
                                 "column \"%s\" appears twice in %s constraint",
                                 cn, primary ? "primary key" : "unique"));
            }
        ix->attnums[i] = (int16_t)a;
    }
    ix->table_oid = t->oid;
    ix->unique = true;
    ix->primary = primary;
    ix->is_constraint = true;
    char buf[256];
    int rc;
    if (name) {
        if (name_taken(d->cat, t, name)) {
            index_free(ix);
            return dc_error_set(err, DC_EEXIST, "42P07",
                                "relation \"%s\" already exists", name);
        }
        snprintf(buf, sizeof buf, "%s", name);
    } else if (primary) {
        rc =
            choose_name(d->cat, t, t->name, NULL, "pkey", buf, sizeof buf, err);
        if (rc != DC_OK) {
            index_free(ix);
            return rc;
        }
    } else {
        char cn[256];
        key_colnames(t, ix->attnums, ix->ncols, cn, sizeof cn);
        rc = choose_name(d->cat, t, t->name, cn, "key", buf, sizeof buf, err);
        if (rc != DC_OK) {
            index_free(ix);
            return rc;
        }
    }
    if (!(ix->name = xstrdup(buf))) {
        index_free(ix);
        return oom(err);
    }
    *out = ix;
    return DC_OK;
}

/* A CHECK constraint for t: canonical text, derived name, validated by
 * binding it.  `colname` is the column of a column constraint. */
static int make_check(ddl *d, sql_table *t, const sql_constraint *c,
                      const char *colname, dc_error *err)
{
    char *text = sql_expr_to_string(c->expr);
    if (!text)
        return oom(err);
    char buf[256];
    int rc = DC_OK;
    if (c->name) {
        if (constraint_taken(t, c->name)) {
            rc = dc_error_set(
                err, DC_EEXIST, "42710",
                "constraint \"%s\" for relation \"%s\" already exists", c->name,
                t->name);
            goto out;
        }
        snprintf(buf, sizeof buf, "%s", c->name);
    } else {
        col_collect cc = {0};
        walk_expr(c->expr, collect_col, &cc);
        const char *n2 =
            colname ? colname : (cc.ndistinct == 1 ? cc.first : NULL);
        if ((rc = choose_name(d->cat, t, t->name, n2, "check", buf, sizeof buf,
                              err)) != DC_OK)
            goto out;
    }
    sql_bexpr *bx = NULL;
    rc = sql_bind_expr_text(d->ctx, d->ctx->arena, t, text, DC_TYPE_BOOL, -1,
                            &bx, err);
    if (rc == DC_OK)
        rc = add_check(t, buf, text, err);
    else
        set_pos(err, c->pos, rc);
out:
    free(text);
    return rc;
}

static bool bexpr_volatile(const sql_bexpr *e, bool *has_col)
{
    if (!e)
        return false;
    if (e->kind == SX_COL)
        *has_col = true;
    if (e->kind == SX_SUBPLAN)
        return true;
    if (e->kind == SX_FUNC && e->fn && (e->fn->flags & SQL_FN_VOLATILE))
        return true;
    bool v = false;
    for (int i = 0; i < e->nargs; i++)
        v |= bexpr_volatile(e->args[i], has_col);
    return v;
}

/* Bind a column DEFAULT over t; *volatile_out tells whether it must be
 * evaluated per row. */
static int bind_default(ddl *d, const sql_table *t, const sql_column *col,
                        const char *text, int pos, sql_bexpr **out,
                        bool *volatile_out, dc_error *err)
{
    int rc = sql_bind_expr_text(d->ctx, d->ctx->arena, t, text, col->type,
                                col->typmod, out, err);
    if (rc != DC_OK)
        return set_pos(err, pos, rc);
    bool has_col = false;
    bool vol = bexpr_volatile(*out, &has_col);
    if (has_col)
        return set_pos(
            err, pos,
            dc_error_set(err, DC_EUNSUPPORTED, "0A000",
                         "cannot use column reference in DEFAULT expression"));
    if (volatile_out)
        *volatile_out = vol;
    return DC_OK;
}

/* Key and check constraints of a statement are collected first and made
 * after every column exists (a table constraint may name a later column):
 * one queued constraint. */
typedef struct pending {
    sql_list *cols; /* char*: key columns                      */
    const sql_constraint *c;
    const char *colname; /* column constraint: its column            */
} pending;

typedef struct pend_list {
    size_t n, cap;
    pending *items;
} pend_list;

static int pend_push(pend_list *l, pending p, dc_error *err)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 8;
        pending *a = realloc(l->items, cap * sizeof *a);
        if (!a)
            return oom(err);
        l->items = a;
        l->cap = cap;
    }
    l->items[l->n++] = p;
    return DC_OK;
}

typedef struct constraint_set {
    pend_list keys; /* PRIMARY KEY and UNIQUE in order          */
    pend_list checks;
    int npk;
} constraint_set;

static void cset_free(constraint_set *s)
{
    free(s->keys.items);
    free(s->checks.items);
}

/* A one-column list for a column constraint, in the statement arena. */
static sql_list *one_col_list(sql_ctx *ctx, const char *name)
{
    sql_list *l = NULL;
    if (!sql_list_push(ctx->arena, &l, (void *)name))
        return NULL;
    return l;
}

/* Apply a column definition's NOT NULL / NULL / DEFAULT to `col` and queue
 * its key and check constraints into cs. */
static int column_constraints(ddl *d, sql_table *t, sql_column *col,
                              const sql_coldef *def, constraint_set *cs,
                              dc_error *err)
{
    bool saw_null = false, saw_notnull = false, saw_default = false;
    for (size_t i = 0; i < SQL_LIST_LEN(def->constraints); i++) {
        const sql_constraint *c = def->constraints->items[i];
        int rc = DC_OK;
        switch (c->kind) {
        case CONS_NOT_NULL:
        case CONS_NULL:
            if ((c->kind == CONS_NULL && saw_notnull) ||
                (c->kind == CONS_NOT_NULL && saw_null))
                return set_pos(
                    err, c->pos,
                    dc_error_set(err, DC_EINVAL, "42601",
                                 "conflicting NULL/NOT NULL declarations for "
                                 "column \"%s\" of table \"%s\"",
                                 col->name, t->name));
            if (c->kind == CONS_NULL)
                saw_null = true;
            else
                saw_notnull = col->not_null = true;
            break;
        case CONS_DEFAULT: {
            if (saw_default)
                return set_pos(err, c->pos,
                               dc_error_set(err, DC_EINVAL, "42601",
                                            "multiple default values specified "
                                            "for column \"%s\" of table \"%s\"",
                                            col->name, t->name));
            saw_default = true;
            char *text = sql_expr_to_string(c->expr);
            if (!text)
                return oom(err);
            free(col->default_expr);
            col->default_expr = text;
            break;
        }
        case CONS_PRIMARY:
        case CONS_UNIQUE: {
            sql_list *l = one_col_list(d->ctx, col->name);
            if (!l)
                return oom(err);
            if (c->kind == CONS_PRIMARY && ++cs->npk > 1)
                return set_pos(err, c->pos,
                               dc_error_set(err, DC_EINVAL, "42P16",
                                            "multiple primary keys for table "
                                            "\"%s\" are not allowed",
                                            t->name));
            rc = pend_push(&cs->keys, (pending){l, c, col->name}, err);
            break;
        }
        case CONS_CHECK:
            rc = pend_push(&cs->checks, (pending){NULL, c, col->name}, err);
            break;
        case CONS_FOREIGN:
            return set_pos(
                err, c->pos,
                dc_error_set(err, DC_EUNSUPPORTED, "0A000",
                             "foreign key constraints are not supported"));
        }
        if (rc != DC_OK)
            return rc;
    }
    return DC_OK;
}

static int table_constraint(ddl *d, sql_table *t, const sql_constraint *c,
                            constraint_set *cs, dc_error *err)
{
    (void)d;
    switch (c->kind) {
    case CONS_PRIMARY:
        if (++cs->npk > 1)
            return set_pos(
                err, c->pos,
                dc_error_set(
                    err, DC_EINVAL, "42P16",
                    "multiple primary keys for table \"%s\" are not allowed",
                    t->name));
        /* fall through */
    case CONS_UNIQUE:
        return pend_push(&cs->keys, (pending){c->cols, c, NULL}, err);
    case CONS_CHECK:
        return pend_push(&cs->checks, (pending){NULL, c, NULL}, err);
    case CONS_FOREIGN:
        return set_pos(
            err, c->pos,
            dc_error_set(err, DC_EUNSUPPORTED, "0A000",
                         "foreign key constraints are not supported"));
    default:
        return dc_error_set(err, DC_EINVAL, "42601",
                            "syntax error in table constraint");
    }
}

/* Turn queued key constraints into indexes of t (primary key first, as
 * PostgreSQL creates it), with new oids; PK columns become NOT NULL. */
static int apply_keys(ddl *d, sql_table *t, constraint_set *cs, bool alter,
                      sql_list **built, dc_error *err)
{
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < cs->keys.n; i++) {
            pending *p = &cs->keys.items[i];
            bool primary = p->c->kind == CONS_PRIMARY;
            if (primary != (pass == 0))
                continue;
            if (primary && t->pkey)
                return set_pos(err, p->c->pos,
                               dc_error_set(err, DC_EINVAL, "42P16",
                                            "multiple primary keys for table "
                                            "\"%s\" are not allowed",
                                            t->name));
            sql_index *ix = NULL;
            int rc = make_key_index(d, t, p->cols, primary, p->c->name,
                                    p->c->pos, alter, &ix, err);
            if (rc == DC_OK)
                rc = sql_catalog_new_oid(d->ctx, &ix->oid, err);
            if (rc == DC_OK)
                rc = add_index(t, ix, err);
            if (rc != DC_OK) {
                if (ix &&
                    (t->nindexes == 0 || t->indexes[t->nindexes - 1] != ix))
                    index_free(ix);
                return rc;
            }
            if (built && !sql_list_push(d->ctx->arena, built, ix))
                return oom(err);
            if (primary)
                for (int k = 0; k < ix->ncols; k++)
                    t->cols[ix->attnums[k] - 1].not_null = true;
        }
    }
    return DC_OK;
}

static int apply_checks(ddl *d, sql_table *t, constraint_set *cs, dc_error *err)
{
    for (size_t i = 0; i < cs->checks.n; i++) {
        int rc = make_check(d, t, cs->checks.items[i].c,
                            cs->checks.items[i].colname, err);
        if (rc != DC_OK)
            return rc;
    }
    return DC_OK;
}

/* Bind every column default (validation at CREATE / ADD COLUMN). */
static int validate_defaults(ddl *d, const sql_table *t, int from_attnum,
                             dc_error *err)
{
    for (int i = from_attnum - 1; i < t->natts; i++) {
        const sql_column *c = &t->cols[i];
        if (c->dropped || !c->default_expr)
            continue;
        sql_bexpr *bx = NULL;
        int rc = bind_default(d, t, c, c->default_expr, 0, &bx, NULL, err);
        if (rc != DC_OK)
            return rc;
    }
    return DC_OK;
}

/* ==== the DDL frame ========================================================
 */

/* Lock, and clone the catalog the transaction sees into d->cat. */
static int ddl_begin(ddl *d, dc_error *err)
{
    sql_ctx *ctx = d->ctx;
    int rc =
        sql_txn_lock_row(ctx->txn, SQL_LOCK_DDL, SQL_LOCK_DDL_LEN, NULL, err);
    if (rc != DC_OK)
        return rc;
    sql_catalog *base = sql_txn_catalog(ctx->txn);
    sql_catalog *eng = NULL;
    if (!base)
        base = eng = sql_engine_catalog(ctx->eng);
    rc = sql_catalog_clone(base, &d->cat, err);
    sql_catalog_unref(eng);
    /* The clone sees the session's database whatever its source saw. */
    if (rc == DC_OK && sql_catalog_db(d->cat) !=
                           (ctx->db_oid ? ctx->db_oid : SQL_DEFAULT_DB_OID))
        rc = sql_catalog_set_db(d->cat, ctx->db_oid, err);
    return rc;
}

/* Hand the changed catalog to the transaction (success) or drop it. */
static int ddl_end(ddl *d, int rc, dc_error *err)
{
    if (rc == DC_OK)
        rc = sql_catalog_reindex(d->cat, err);
    if (rc != DC_OK) {
        /* Planning (views, CREATE TABLE AS) pointed ctx->cat at the
         * clone: point it back before the clone goes. */
        d->ctx->cat = d->orig_cat;
        sql_catalog_unref(d->cat);
        d->cat = NULL;
        return rc;
    }
    sql_txn_set_catalog(d->ctx->txn, d->cat);
    d->ctx->cat = d->cat;
    return DC_OK;
}

/* What a name denotes in the clone. */
typedef enum found_kind {
    FOUND_NONE,
    FOUND_TABLE,
    FOUND_VIEW,
    FOUND_INDEX
} found_kind;

static found_kind lookup(const ddl *d, const char *schema, const char *name)
{
    if (sql_catalog_table(d->cat, schema, name))
        return FOUND_TABLE;
    if (sql_catalog_view(d->cat, schema, name))
        return FOUND_VIEW;
    if (sql_catalog_index(d->cat, schema, name))
        return FOUND_INDEX;
    return FOUND_NONE;
}

/* ==== CREATE TABLE =========================================================
 */

/* CREATE TABLE name AS query: columns from the query's output, then its
 * rows.  *rows gets the row count (the command tag is "SELECT n"). */
static int create_table_as(ddl *d, const sql_create_table *ct, const char *name,
                           uint64_t *rows, dc_error *err)
{
    sql_ctx *ctx = d->ctx;
    ctx->cat = d->cat;
    sql_plan *plan = NULL;
    int rc =
        sql_plan_stmt(ctx, ctx->arena, ct->as_query, d->src, NULL, &plan, err);
    if (rc != DC_OK)
        return rc;
    size_t ncl = SQL_LIST_LEN(ct->columns);
    if ((int)ncl > plan->ncols)
        return dc_error_set(err, DC_EINVAL, "42601",
                            "too many column names were specified");
    sql_table *t = calloc(1, sizeof *t);
    if (!t || !(t->schema = xstrdup("public")) || !(t->name = xstrdup(name))) {
        sql_table_free(t);
        return oom(err);
    }
    t->db_oid = sql_catalog_db(d->cat);
    if ((rc = sql_catalog_new_oid(ctx, &t->oid, err)) != DC_OK)
        goto fail;
    for (int i = 0; i < plan->ncols; i++) {
        const char *cn = (size_t)i < ncl
                             ? ((sql_coldef *)ct->columns->items[i])->name
                         : plan->names && plan->names[i] ? plan->names[i]
                                                         : "?column?";
        uint32_t type = plan->types[i];
        int32_t typmod = plan->typmods ? plan->typmods[i] : -1;
        if (type == DC_TYPE_UNKNOWN || !sql_type_supported(type)) {
            type = DC_TYPE_TEXT;
            typmod = -1;
        }
        if (sql_table_column(t, cn)) {
            rc = dc_error_set(err, DC_EINVAL, "42701",
                              "column \"%s\" specified more than once", cn);
            goto fail;
        }
        sql_column *col;
        if ((rc = add_column(t, cn, type, typmod, &col, err)) != DC_OK)
            goto fail;
    }
    if ((rc = sql_catalog_save_table(ctx->txn, t, err)) != DC_OK)
        goto fail;
    uint32_t oid = t->oid;
    if ((rc = sql_catalog_put_table(d->cat, t, err)) != DC_OK)
        return rc;
    t = sql_catalog_table_mut(d->cat, oid);
    sql_cursor *cur = NULL;
    if ((rc = sql_exec_open(ctx, plan, &cur, err)) != DC_OK)
        return rc;
    uint64_t n = 0;
    for (;;) {
        dc_row row;
        bool done = false;
        if ((rc = sql_exec_next(cur, &row, &done, err)) != DC_OK || done)
            break;
        if ((rc = sql_table_insert(ctx->txn, t, row.values, NULL, err)) !=
            DC_OK)
            break;
        n++;
    }
    sql_exec_close(cur);
    if (rc == DC_OK)
        *rows = n;
    return rc;
fail:
    sql_table_free(t);
    return rc;
}

static int create_table(ddl *d, const sql_create_table *ct, char *tag,
                        size_t cap, dc_error *err)
{
    const char *schema, *name;
    int rc = split_qname(ct->name, true, &schema, &name, err);
    if (rc != DC_OK)
        return rc;
    if (lookup(d, schema, name) != FOUND_NONE) {
        if (ct->if_not_exists) {
            if (ct->as_query)
                snprintf(tag, cap, "CREATE TABLE AS");
            return ddl_notice(d, "42P07",
                              "relation \"%s\" already exists, skipping", name);
        }
        return dc_error_set(err, DC_EEXIST, "42P07",
                            "relation \"%s\" already exists", name);
    }
    if (strlen(name) > NAME_MAX_LEN)
        return dc_error_set(err, DC_EINVAL, "42622",
                            "identifier too long: \"%s\"", name);
    if (ct->as_query) {
        uint64_t rows = 0;
        if ((rc = create_table_as(d, ct, name, &rows, err)) == DC_OK)
            snprintf(tag, cap, "SELECT %llu", (unsigned long long)rows);
        return rc;
    }
    sql_table *t = calloc(1, sizeof *t);
    constraint_set cs = {0};
    if (!t || !(t->schema = xstrdup("public")) || !(t->name = xstrdup(name))) {
        sql_table_free(t);
        return oom(err);
    }
    t->db_oid = sql_catalog_db(d->cat);
    if ((rc = sql_catalog_new_oid(d->ctx, &t->oid, err)) != DC_OK)
        goto fail;
    for (size_t i = 0; i < SQL_LIST_LEN(ct->columns); i++) {
        const sql_coldef *def = ct->columns->items[i];
        uint32_t type;
        int32_t typmod;
        if (sql_table_column(t, def->name)) {
            rc = set_pos(err, def->pos,
                         dc_error_set(err, DC_EINVAL, "42701",
                                      "column \"%s\" specified more than once",
                                      def->name));
            goto fail;
        }
        if ((rc = resolve_type(def->type, &type, &typmod, err)) != DC_OK)
            goto fail;
        sql_column *col;
        if ((rc = add_column(t, def->name, type, typmod, &col, err)) != DC_OK)
            goto fail;
        if ((rc = column_constraints(d, t, col, def, &cs, err)) != DC_OK)
            goto fail;
    }
    for (size_t i = 0; i < SQL_LIST_LEN(ct->constraints); i++)
        if ((rc = table_constraint(d, t, ct->constraints->items[i], &cs,
                                   err)) != DC_OK)
            goto fail;
    if ((rc = apply_keys(d, t, &cs, false, NULL, err)) != DC_OK ||
        (rc = apply_checks(d, t, &cs, err)) != DC_OK ||
        (rc = validate_defaults(d, t, 1, err)) != DC_OK)
        goto fail;
    cset_free(&cs);
    if ((rc = sql_catalog_save_table(d->ctx->txn, t, err)) != DC_OK) {
        sql_table_free(t);
        return rc;
    }
    return sql_catalog_put_table(d->cat, t, err);
fail:
    cset_free(&cs);
    sql_table_free(t);
    return rc;
}

/* ==== DROP =================================================================
 */

static int drop_table_obj(ddl *d, sql_table *t, dc_error *err)
{
    int rc = sql_table_drop_storage(d->ctx->txn, t, err);
    if (rc == DC_OK)
        rc = sql_catalog_delete_object(d->ctx->txn, t->oid, err);
    if (rc == DC_OK)
        sql_catalog_remove(d->cat, t->oid);
    return rc;
}

/* Drop index ix of table t (which is in d->cat) and save t. */
static int drop_index_obj(ddl *d, sql_table *t, const sql_index *ix,
                          dc_error *err)
{
    int rc = sql_index_drop_storage(d->ctx->txn, ix, err);
    if (rc != DC_OK)
        return rc;
    for (int i = 0; i < t->nindexes; i++)
        if (t->indexes[i] == ix) {
            index_free(remove_index(t, i));
            break;
        }
    if ((rc = sql_catalog_reindex(d->cat, err)) != DC_OK)
        return rc;
    return sql_catalog_save_table(d->ctx->txn, t, err);
}

static sql_table *index_owner(const ddl *d, const sql_index *ix)
{
    return sql_catalog_table_mut(d->cat, ix->table_oid);
}

static int drop_one(ddl *d, sql_object_kind what, bool if_exists,
                    const sql_qname *q, dc_error *err)
{
    const char *schema, *name;
    int rc = split_qname(q, false, &schema, &name, err);
    if (rc != DC_OK)
        return rc;
    static const char *const what_name[] = {"table", "index", "view"};
    found_kind f = lookup(d, schema, name);
    found_kind want = what == OBJ_TABLE   ? FOUND_TABLE
                      : what == OBJ_INDEX ? FOUND_INDEX
                                          : FOUND_VIEW;
    if (f == FOUND_NONE) {
        if (if_exists)
            return ddl_notice(d, "00000", "%s \"%s\" does not exist, skipping",
                              what_name[what], name);
        return dc_error_set(err, DC_ENOTFOUND,
                            what == OBJ_INDEX ? "42704" : "42P01",
                            "%s \"%s\" does not exist", what_name[what], name);
    }
    if (f != want) {
        rc = dc_error_set(err, DC_ETYPE, "42809", "\"%s\" is not a%s %s", name,
                          what == OBJ_INDEX ? "n" : "", what_name[what]);
        const char *use = f == FOUND_TABLE  ? "DROP TABLE to remove a table"
                          : f == FOUND_VIEW ? "DROP VIEW to remove a view"
                                            : "DROP INDEX to remove an index";
        dc_error_hint(err, "Use %s.", use);
        return rc;
    }
    if (f == FOUND_TABLE)
        return drop_table_obj(
            d, (sql_table *)sql_catalog_table(d->cat, schema, name), err);
    if (f == FOUND_VIEW) {
        const sql_view *v = sql_catalog_view(d->cat, schema, name);
        rc = sql_catalog_delete_object(d->ctx->txn, v->oid, err);
        if (rc == DC_OK)
            sql_catalog_remove(d->cat, v->oid);
        return rc;
    }
    const sql_index *ix = sql_catalog_index(d->cat, schema, name);
    sql_table *t = index_owner(d, ix);
    if (!t)
        return dc_error_set(err, DC_ECORRUPT, DC_SQLSTATE_INTERNAL,
                            "index \"%s\" has no table", name);
    if (ix->is_constraint) {
        rc = dc_error_set(err, DC_EPERM, "2BP01",
                          "cannot drop index %s because constraint %s on table "
                          "%s requires it",
                          ix->name, ix->name, t->name);
        dc_error_hint(err, "You can drop constraint %s on table %s instead.",
                      ix->name, t->name);
        return rc;
    }
    return drop_index_obj(d, t, ix, err);
}

/* ==== databases ============================================================
 * The caller (sql.c) makes sure neither runs in a transaction block and
 * that the database dropped is not in use. */

static int create_database(ddl *d, const sql_create_db *cd, dc_error *err)
{
    if (sql_catalog_database(d->cat, cd->name))
        return dc_error_set(err, DC_EEXIST, "42P04",
                            "database \"%s\" already exists", cd->name);
    if (strlen(cd->name) > NAME_MAX_LEN)
        return dc_error_set(err, DC_EINVAL, "42622",
                            "identifier too long: \"%s\"", cd->name);
    uint32_t oid;
    int rc = sql_catalog_new_oid(d->ctx, &oid, err);
    if (rc != DC_OK)
        return rc;
    return sql_catalog_add_database(d->cat, d->ctx->txn, cd->name, oid, err);
}

static int drop_database(ddl *d, const sql_drop *dr, dc_error *err)
{
    const sql_qname *q = dr->names->items[0];
    const char *name = q->parts[q->nparts - 1];
    const sql_database *db = sql_catalog_database(d->cat, name);
    if (!db) {
        if (dr->if_exists)
            return ddl_notice(d, "00000",
                              "database \"%s\" does not exist, skipping",
                              name);
        return dc_error_set(err, DC_ENOTFOUND, "3D000",
                            "database \"%s\" does not exist", name);
    }
    if (db->oid == sql_catalog_db(d->cat))
        return dc_error_set(err, DC_EBUSY, "55006",
                            "cannot drop the currently open database");
    return sql_catalog_drop_database(d->cat, d->ctx->txn, db->oid, err);
}

static int drop_stmt(ddl *d, const sql_drop *dr, char *tag, size_t cap,
                     dc_error *err)
{
    if (dr->what == OBJ_DATABASE && SQL_LIST_LEN(dr->names) == 1)
        return drop_database(d, dr, err);
    if (dr->what != OBJ_TABLE && dr->what != OBJ_INDEX && dr->what != OBJ_VIEW)
        return dc_error_set(err, DC_EUNSUPPORTED, "0A000",
                            "DROP %s is not supported",
                            dr->what == OBJ_DATABASE ? "DATABASE" : "SCHEMA");
    snprintf(tag, cap, "DROP %s",
             dr->what == OBJ_TABLE   ? "TABLE"
             : dr->what == OBJ_INDEX ? "INDEX"
                                     : "VIEW");
    for (size_t i = 0; i < SQL_LIST_LEN(dr->names); i++) {
        int rc = drop_one(d, dr->what, dr->if_exists, dr->names->items[i], err);
        if (rc != DC_OK)
            return rc;
    }
    return DC_OK;
}

/* ==== TRUNCATE =============================================================
 */

static int truncate_stmt(ddl *d, const sql_truncate *tr, dc_error *err)
{
    /* Resolve every name first: nothing is emptied when one is wrong. */
    size_t n = SQL_LIST_LEN(tr->tables);
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < n; i++) {
            const char *schema, *name;
            int rc =
                split_qname(tr->tables->items[i], false, &schema, &name, err);
            if (rc != DC_OK)
                return rc;
            found_kind f = lookup(d, schema, name);
            if (f == FOUND_NONE)
                return dc_error_set(err, DC_ENOTFOUND, "42P01",
                                    "relation \"%s\" does not exist", name);
            if (f != FOUND_TABLE)
                return dc_error_set(err, DC_ETYPE, "42809",
                                    "\"%s\" is not a table", name);
            if (pass == 1 &&
                (rc = sql_table_clear(d->ctx->txn,
                                      sql_catalog_table(d->cat, schema, name),
                                      err)) != DC_OK)
                return rc;
        }
    }
    return DC_OK;
}

/* ==== CREATE INDEX ==========================================================
 */

/* The key columns of CREATE INDEX into ix (plain columns only). */
static int index_columns(const sql_table *t, const sql_create_index *ci,
                         sql_index *ix, dc_error *err)
{
    size_t n = SQL_LIST_LEN(ci->items);
    ix->attnums = calloc(n + 1, sizeof *ix->attnums);
    ix->flags = calloc(n + 1, 1);
    if (!ix->attnums || !ix->flags)
        return oom(err);
    ix->ncols = (int)n;
    for (size_t i = 0; i < n; i++) {
        const sql_sortby *s = ci->items->items[i];
        const sql_expr *e = s->expr;
        if (e->kind != EXPR_COLUMN || e->u.col.star || e->u.col.nnames != 1)
            return set_pos(
                err, e->pos,
                dc_error_set(err, DC_EUNSUPPORTED, "0A000",
                             "expression indexes are not supported"));
        int a = col_attnum(t, e->u.col.names[0]);
        if (!a)
            return set_pos(err, e->pos,
                           dc_error_set(err, DC_ENOTFOUND, "42703",
                                        "column \"%s\" does not exist",
                                        e->u.col.names[0]));
        ix->attnums[i] = (int16_t)a;
        bool desc = s->dir == SORT_DESC;
        bool nulls_first =
            s->nulls == NULLS_DEFAULT ? desc : s->nulls == NULLS_FIRST;
        ix->flags[i] = (uint8_t)((desc ? SQL_KEY_DESC : 0) |
                                 (nulls_first ? SQL_KEY_NULLS_FIRST : 0));
    }
    return DC_OK;
}

/* 0A000 / 42704 for what CREATE INDEX cannot do. */
static int index_supported(const sql_create_index *ci, dc_error *err)
{
    if (ci->method && strcmp(ci->method, "btree") != 0 &&
        strcmp(ci->method, "hash") != 0) {
        if (!strcmp(ci->method, "gin") || !strcmp(ci->method, "gist") ||
            !strcmp(ci->method, "brin") || !strcmp(ci->method, "spgist"))
            return dc_error_set(err, DC_EUNSUPPORTED, "0A000",
                                "access method \"%s\" is not supported",
                                ci->method);
        return dc_error_set(err, DC_ENOTFOUND, "42704",
                            "access method \"%s\" does not exist", ci->method);
    }
    if (ci->where)
        return set_pos(err, ci->where->pos,
                       dc_error_set(err, DC_EUNSUPPORTED, "0A000",
                                    "partial indexes are not supported"));
    if (SQL_LIST_LEN(ci->items) > 32)
        return dc_error_set(err, DC_EINVAL, "54011",
                            "cannot use more than 32 columns in an index");
    return DC_OK;
}

static int create_index(ddl *d, const sql_create_index *ci, dc_error *err)
{
    const char *schema, *tname;
    int rc = split_qname(ci->table, false, &schema, &tname, err);
    if (rc != DC_OK)
        return rc;
    found_kind f = lookup(d, schema, tname);
    if (f == FOUND_NONE)
        return dc_error_set(err, DC_ENOTFOUND, "42P01",
                            "relation \"%s\" does not exist", tname);
    if (f != FOUND_TABLE) {
        rc = dc_error_set(err, DC_ETYPE, "42809",
                          "cannot create index on relation \"%s\"", tname);
        dc_error_detail(err, "This operation is not supported for %s.",
                        f == FOUND_VIEW ? "views" : "indexes");
        return rc;
    }
    if ((rc = index_supported(ci, err)) != DC_OK)
        return rc;
    sql_table *t = (sql_table *)sql_catalog_table(d->cat, schema, tname);
    if (ci->name && name_taken(d->cat, NULL, ci->name)) {
        if (ci->if_not_exists)
            return ddl_notice(d, "42P07",
                              "relation \"%s\" already exists, skipping",
                              ci->name);
        return dc_error_set(err, DC_EEXIST, "42P07",
                            "relation \"%s\" already exists", ci->name);
    }
    sql_index *ix = calloc(1, sizeof *ix);
    if (!ix)
        return oom(err);
    ix->unique = ci->unique;
    ix->table_oid = t->oid;
    char buf[256];
    if ((rc = index_columns(t, ci, ix, err)) != DC_OK) {
        index_free(ix);
        return rc;
    }
    if (ci->name) {
        snprintf(buf, sizeof buf, "%s", ci->name);
    } else {
        char cn[256];
        key_colnames(t, ix->attnums, ix->ncols, cn, sizeof cn);
        rc = choose_name(d->cat, t, t->name, cn, "idx", buf, sizeof buf, err);
    }
    if (rc == DC_OK && !(ix->name = xstrdup(buf)))
        rc = oom(err);
    if (rc == DC_OK)
        rc = sql_catalog_new_oid(d->ctx, &ix->oid, err);
    if (rc == DC_OK)
        rc = add_index(t, ix, err);
    if (rc != DC_OK) {
        index_free(ix);
        return rc;
    }
    if ((rc = sql_catalog_reindex(d->cat, err)) != DC_OK)
        return rc;
    if ((rc = sql_index_build(d->ctx->txn, t, ix, err)) != DC_OK) {
        dup_error_for_index(err, ix->name);
        return rc;
    }
    return sql_catalog_save_table(d->ctx->txn, t, err);
}

/* ==== CREATE VIEW ==========================================================
 */

/* Byte offset of 1-based character position `pos` in src. */
static size_t char_to_byte(const char *src, size_t len, int pos)
{
    size_t off = 0;
    int ch = 1;
    while (off < len && ch < pos) {
        off++;
        while (off < len && ((uint8_t)src[off] & 0xC0) == 0x80)
            off++;
        ch++;
    }
    return off;
}

/* The query text of a view as written, or the canonical text when the
 * source is not at hand. */
static char *view_query_text(const ddl *d, const sql_stmt *q)
{
    const char *src = d->src;
    if (src) {
        size_t len = strlen(src);
        size_t end = d->stmt->len ? d->stmt->off + d->stmt->len : len;
        if (q->len)
            end = q->off + q->len;
        size_t start = q->len ? q->off : char_to_byte(src, len, q->pos);
        if (end > len)
            end = len;
        while (end > start && (src[end - 1] == ';' || src[end - 1] == ' ' ||
                               src[end - 1] == '\n' || src[end - 1] == '\t' ||
                               src[end - 1] == '\r'))
            end--;
        static const char *const starts[] = {"select", "values", "with", "(",
                                             "table"};
        for (size_t i = 0; start < end && i < sizeof starts / sizeof *starts;
             i++) {
            size_t n = strlen(starts[i]);
            if (end - start >= n && !strncasecmp(src + start, starts[i], n)) {
                char *s = malloc(end - start + 1);
                if (s) {
                    memcpy(s, src + start, end - start);
                    s[end - start] = '\0';
                }
                return s;
            }
        }
    }
    return sql_stmt_to_string(q);
}

/* CREATE OR REPLACE VIEW keeps the old columns (names and types) and may
 * only add new ones at the end. */
static int view_replaceable(const sql_view *old, const sql_view *v,
                            dc_error *err)
{
    if (v->ncols < old->ncols)
        return dc_error_set(err, DC_EINVAL, "42P16",
                            "cannot drop columns from view");
    for (int i = 0; i < old->ncols; i++) {
        if (strcmp(old->colnames[i], v->colnames[i]) != 0) {
            int rc = dc_error_set(
                err, DC_EINVAL, "42P16",
                "cannot change name of view column \"%s\" to \"%s\"",
                old->colnames[i], v->colnames[i]);
            dc_error_hint(
                err, "Use ALTER VIEW ... RENAME COLUMN ... to change name of "
                     "view column instead.");
            return rc;
        }
        if (old->coltypes[i] != v->coltypes[i])
            return dc_error_set(
                err, DC_EINVAL, "42P16",
                "cannot change data type of view column \"%s\" from %s to %s",
                old->colnames[i], sql_type_name(old->coltypes[i]),
                sql_type_name(v->coltypes[i]));
    }
    return DC_OK;
}

static int create_view(ddl *d, const sql_create_view *cv, dc_error *err)
{
    const char *schema, *name;
    int rc = split_qname(cv->name, true, &schema, &name, err);
    if (rc != DC_OK)
        return rc;
    found_kind f = lookup(d, schema, name);
    if (f != FOUND_NONE && !(cv->or_replace && f == FOUND_VIEW)) {
        if (cv->or_replace)
            return dc_error_set(err, DC_ETYPE, "42809", "\"%s\" is not a view",
                                name);
        return dc_error_set(err, DC_EEXIST, "42P07",
                            "relation \"%s\" already exists", name);
    }
    /* Plan the query against the catalog as the statement sees it. */
    d->ctx->cat = d->cat;
    sql_plan *plan = NULL;
    if ((rc = sql_plan_stmt(d->ctx, d->ctx->arena, cv->query, d->src, NULL,
                            &plan, err)) != DC_OK)
        return rc;
    int ncols = plan->ncols;
    if ((int)SQL_LIST_LEN(cv->cols) > ncols)
        return dc_error_set(
            err, DC_EINVAL, "42601",
            "CREATE VIEW specifies more column names than columns");
    sql_view *v = calloc(1, sizeof *v);
    if (!v)
        return oom(err);
    v->colnames = calloc((size_t)ncols + 1, sizeof *v->colnames);
    v->coltypes = calloc((size_t)ncols + 1, sizeof *v->coltypes);
    v->schema = xstrdup("public");
    v->name = xstrdup(name);
    v->query = view_query_text(d, cv->query);
    if (!v->colnames || !v->coltypes || !v->schema || !v->name || !v->query) {
        sql_view_free(v);
        return oom(err);
    }
    for (int i = 0; i < ncols; i++, v->ncols++) {
        const char *cn = (size_t)i < SQL_LIST_LEN(cv->cols) ? cv->cols->items[i]
                         : plan->names && plan->names[i]    ? plan->names[i]
                                                            : "?column?";
        for (int k = 0; k < i; k++)
            if (!strcmp(v->colnames[k], cn)) {
                sql_view_free(v);
                return dc_error_set(err, DC_EINVAL, "42701",
                                    "column \"%s\" specified more than once",
                                    cn);
            }
        v->coltypes[i] = plan->types[i];
        if (!(v->colnames[i] = xstrdup(cn))) {
            sql_view_free(v);
            return oom(err);
        }
    }
    const sql_view *old =
        f == FOUND_VIEW ? sql_catalog_view(d->cat, schema, name) : NULL;
    if (old) {
        if ((rc = view_replaceable(old, v, err)) != DC_OK) {
            sql_view_free(v);
            return rc;
        }
        v->oid = old->oid;
    } else if ((rc = sql_catalog_new_oid(d->ctx, &v->oid, err)) != DC_OK) {
        sql_view_free(v);
        return rc;
    }
    v->db_oid = sql_catalog_db(d->cat);
    if ((rc = sql_catalog_save_view(d->ctx->txn, v, err)) != DC_OK) {
        sql_view_free(v);
        return rc;
    }
    return sql_catalog_put_view(d->cat, v, err);
}

/* ==== ALTER TABLE ===========================================================
 */

static int column_missing(const sql_table *t, const char *name, dc_error *err)
{
    return dc_error_set(err, DC_ENOTFOUND, "42703",
                        "column \"%s\" of relation \"%s\" does not exist", name,
                        t->name);
}

/* Evaluate a default for the rows existing when a column is added: a
 * stable default becomes the column's `missing` value, a volatile one is
 * computed and stored row by row. */
static int fill_new_column(ddl *d, sql_table **tp, sql_column *col,
                           bool *filled, dc_error *err)
{
    sql_table *t = *tp;
    sql_ctx *ctx = d->ctx;
    *filled = false;
    if (!col->default_expr)
        return DC_OK;
    sql_bexpr *bx = NULL;
    bool vol = false;
    int rc = bind_default(d, t, col, col->default_expr, 0, &bx, &vol, err);
    if (rc != DC_OK)
        return rc;
    int attnum = col->attnum;
    if (!vol) {
        dc_value *row = calloc((size_t)t->natts, sizeof *row);
        if (!row)
            return oom(err);
        for (int i = 0; i < t->natts; i++)
            row[i] = sql_value_null(t->cols[i].type);
        dc_value v;
        rc = sql_eval(ctx, bx, row, NULL, &v, err);
        free(row);
        if (rc != DC_OK)
            return rc;
        if (v.is_null)
            return DC_OK;
        sql_column *c = &t->cols[attnum - 1];
        dc_value m = v;
        m.typmod = c->typmod;
        if (v.type == DC_TYPE_TEXT || v.type == DC_TYPE_VARCHAR ||
            v.type == DC_TYPE_BPCHAR || v.type == DC_TYPE_NAME ||
            v.type == DC_TYPE_BYTEA || v.type == DC_TYPE_NUMERIC) {
            uint8_t *p = malloc(v.u.bytes.len ? v.u.bytes.len : 1);
            if (!p)
                return oom(err);
            if (v.u.bytes.len)
                memcpy(p, v.u.bytes.ptr, v.u.bytes.len);
            m.u.bytes.ptr = p;
        }
        c->missing = m;
        *filled = true;
        return DC_OK;
    }
    /* Per row: update each existing row with its own value. */
    row_loop l;
    if ((rc = loop_open(ctx, t, &l, err)) != DC_OK)
        return rc;
    dc_value *nv = calloc((size_t)t->natts, sizeof *nv);
    if (!nv) {
        loop_close(&l);
        return oom(err);
    }
    for (;;) {
        bool valid = false;
        if ((rc = loop_next(&l, &valid, err)) != DC_OK || !valid)
            break;
        memcpy(nv, l.vals, (size_t)t->natts * sizeof *nv);
        if ((rc = sql_eval(ctx, bx, l.vals, NULL, &nv[attnum - 1], err)) !=
            DC_OK)
            break;
        if (nv[attnum - 1].is_null)
            continue;
        *filled = true;
        if ((rc = sql_table_update(ctx->txn, t, l.key, l.klen, l.vals, nv,
                                   err)) != DC_OK)
            break;
    }
    free(nv);
    loop_close(&l);
    return rc;
}

static int alter_add_column(ddl *d, sql_table **tp, const sql_alter_cmd *cmd,
                            dc_error *err)
{
    sql_table *t = *tp;
    const sql_coldef *def = cmd->column;
    if (sql_table_column(t, def->name)) {
        if (cmd->if_not_exists)
            return ddl_notice(
                d, "42701",
                "column \"%s\" of relation \"%s\" already exists, skipping",
                def->name, t->name);
        return dc_error_set(err, DC_EEXIST, "42701",
                            "column \"%s\" of relation \"%s\" already exists",
                            def->name, t->name);
    }
    if (t->natts >= 1600)
        return dc_error_set(err, DC_EINVAL, "54011",
                            "tables can have at most 1600 columns");
    uint32_t type;
    int32_t typmod;
    int rc = resolve_type(def->type, &type, &typmod, err);
    if (rc != DC_OK)
        return rc;
    sql_column *col;
    if ((rc = add_column(t, def->name, type, typmod, &col, err)) != DC_OK)
        return rc;
    constraint_set cs = {0};
    int attnum = col->attnum;
    rc = column_constraints(d, t, col, def, &cs, err);
    bool filled = false;
    if (rc == DC_OK)
        rc = fill_new_column(d, tp, &t->cols[attnum - 1], &filled, err);
    if (rc == DC_OK && t->cols[attnum - 1].not_null && !filled) {
        bool any = false;
        rc = table_nonempty(d->ctx, t, &any, err);
        if (rc == DC_OK && any)
            rc = dc_error_set(
                err, DC_ECONFLICT, "23502",
                "column \"%s\" of relation \"%s\" contains null values",
                def->name, t->name);
    }
    if (rc == DC_OK && cs.npk && t->pkey)
        rc = dc_error_set(
            err, DC_EINVAL, "42P16",
            "multiple primary keys for table \"%s\" are not allowed", t->name);
    if (rc == DC_OK && (cs.keys.n || cs.checks.n)) {
        /* New key constraints: a new primary key rewrites the table, a
         * unique one builds its index; checks are verified on every row. */
        sql_table *next = cs.npk ? sql_table_dup(t) : NULL;
        sql_table *target = cs.npk ? next : t;
        sql_list *built = NULL;
        if (cs.npk && !next)
            rc = oom(err);
        if (rc == DC_OK)
            rc = apply_keys(d, target, &cs, true, &built, err);
        if (rc == DC_OK)
            rc = apply_checks(d, target, &cs, err);
        if (rc == DC_OK && cs.npk) {
            rc = rewrite_table(d, t, next, tp, err);
            next = NULL;
            t = *tp;
        } else if (rc == DC_OK) {
            for (size_t i = 0; rc == DC_OK && i < SQL_LIST_LEN(built); i++)
                if ((rc = sql_index_build(d->ctx->txn, t, built->items[i],
                                          err)) != DC_OK)
                    dup_error_for_index(err,
                                        ((sql_index *)built->items[i])->name);
        }
        sql_table_free(next);
        for (int i = t->nchecks - (int)cs.checks.n;
             rc == DC_OK && i < t->nchecks; i++)
            rc = check_rows(d->ctx, t, &t->checks[i], err);
    }
    cset_free(&cs);
    return rc;
}

static int alter_drop_column(ddl *d, sql_table **tp, const sql_alter_cmd *cmd,
                             dc_error *err)
{
    sql_table *t = *tp;
    sql_column *col = (sql_column *)sql_table_column(t, cmd->name);
    if (!col) {
        if (cmd->if_exists)
            return ddl_notice(
                d, "00000",
                "column \"%s\" of relation \"%s\" does not exist, skipping",
                cmd->name, t->name);
        return column_missing(t, cmd->name, err);
    }
    int attnum = col->attnum, rc = DC_OK;
    /* Checks that use the column go with it. */
    for (int i = 0; i < t->nchecks;) {
        if (expr_mentions(t->checks[i].expr, cmd->name)) {
            free(t->checks[i].name);
            free(t->checks[i].expr);
            memmove(&t->checks[i], &t->checks[i + 1],
                    (size_t)(t->nchecks - i - 1) * sizeof *t->checks);
            t->nchecks--;
        } else {
            i++;
        }
    }
    /* So do the indexes over it; losing the primary key rekeys the rows. */
    bool pk_goes = false;
    for (int i = 0; i < t->nindexes; i++)
        for (int k = 0; k < t->indexes[i]->ncols; k++)
            if (t->indexes[i]->attnums[k] == attnum && t->indexes[i]->primary)
                pk_goes = true;
    if (pk_goes) {
        sql_table *next = sql_table_dup(t);
        if (!next)
            return oom(err);
        for (int i = 0; i < next->nindexes; i++)
            if (next->indexes[i]->primary) {
                index_free(remove_index(next, i));
                break;
            }
        if ((rc = rewrite_table(d, t, next, tp, err)) != DC_OK)
            return rc;
        t = *tp;
    }
    for (int i = 0; i < t->nindexes;) {
        bool uses = false;
        for (int k = 0; k < t->indexes[i]->ncols; k++)
            uses |= t->indexes[i]->attnums[k] == attnum;
        if (!uses) {
            i++;
            continue;
        }
        if ((rc = sql_index_drop_storage(d->ctx->txn, t->indexes[i], err)) != DC_OK)
            return rc;
        index_free(remove_index(t, i));
    }
    col = &t->cols[attnum - 1];
    char buf[64];
    snprintf(buf, sizeof buf, "........pg.dropped.%d........", attnum);
    char *nn = xstrdup(buf);
    if (!nn)
        return oom(err);
    free(col->name);
    col->name = nn;
    free(col->default_expr);
    col->default_expr = NULL;
    col->dropped = true;
    col->not_null = false;
    return DC_OK;
}

static int alter_rename_column(ddl *d, sql_table *t, const sql_alter_cmd *cmd,
                               dc_error *err)
{
    (void)d;
    sql_column *col = (sql_column *)sql_table_column(t, cmd->name);
    if (!col)
        return dc_error_set(err, DC_ENOTFOUND, "42703",
                            "column \"%s\" does not exist", cmd->name);
    if (sql_table_column(t, cmd->newname))
        return dc_error_set(err, DC_EEXIST, "42701",
                            "column \"%s\" of relation \"%s\" already exists",
                            cmd->newname, t->name);
    char *nn = xstrdup(cmd->newname);
    if (!nn)
        return oom(err);
    /* Stored expressions name columns: follow the rename. */
    for (int i = 0; i < t->nchecks; i++) {
        int rc = expr_rename(&t->checks[i].expr, cmd->name, cmd->newname, err);
        if (rc != DC_OK) {
            free(nn);
            return rc;
        }
    }
    for (int i = 0; i < t->natts; i++) {
        if (!t->cols[i].default_expr)
            continue;
        int rc =
            expr_rename(&t->cols[i].default_expr, cmd->name, cmd->newname, err);
        if (rc != DC_OK) {
            free(nn);
            return rc;
        }
    }
    free(col->name);
    col->name = nn;
    return DC_OK;
}

static int alter_rename_table(ddl *d, sql_table *t, const sql_alter_cmd *cmd,
                              dc_error *err)
{
    if (lookup(d, "public", cmd->newname) != FOUND_NONE)
        return dc_error_set(err, DC_EEXIST, "42P07",
                            "relation \"%s\" already exists", cmd->newname);
    char *nn = xstrdup(cmd->newname);
    if (!nn)
        return oom(err);
    free(t->name);
    t->name = nn;
    return sql_catalog_reindex(d->cat, err);
}

static int alter_add_constraint(ddl *d, sql_table **tp,
                                const sql_alter_cmd *cmd, dc_error *err)
{
    sql_table *t = *tp;
    const sql_constraint *c = cmd->constraint;
    constraint_set cs = {0};
    int rc = table_constraint(d, t, c, &cs, err);
    if (rc != DC_OK) {
        cset_free(&cs);
        return rc;
    }
    if (c->kind == CONS_CHECK) {
        rc = apply_checks(d, t, &cs, err);
        if (rc == DC_OK)
            rc = check_rows(d->ctx, t, &t->checks[t->nchecks - 1], err);
    } else if (c->kind == CONS_PRIMARY) {
        if (t->pkey) {
            cset_free(&cs);
            return dc_error_set(
                err, DC_EINVAL, "42P16",
                "multiple primary keys for table \"%s\" are not allowed",
                t->name);
        }
        sql_table *next = sql_table_dup(t);
        if (!next) {
            cset_free(&cs);
            return oom(err);
        }
        rc = apply_keys(d, next, &cs, true, NULL, err);
        if (rc != DC_OK) {
            sql_table_free(next);
        } else {
            int16_t keycols[32];
            int nkey = 0;
            for (int k = 0; k < next->pkey->ncols && k < 32; k++)
                keycols[nkey++] = next->pkey->attnums[k];
            rc = rewrite_table(d, t, next, tp, err);
            /* A NULL in a key column: say so by column as PostgreSQL
             * does.  (The copy reports a duplicate or a NULL, whichever
             * row it meets first.)  The old table is still in the catalog
             * after a failed rewrite. */
            if (rc != DC_OK && err && !strcmp(err->sqlstate, "23502"))
                for (int k = 0; k < nkey; k++) {
                    dc_error tmp;
                    dc_error_init(&tmp);
                    if (check_no_nulls(d->ctx, t, keycols[k], &tmp) != DC_OK) {
                        *err = tmp;
                        break;
                    }
                }
        }
    } else {
        sql_list *built = NULL;
        rc = apply_keys(d, t, &cs, true, &built, err);
        if (rc == DC_OK && (rc = sql_catalog_reindex(d->cat, err)) == DC_OK)
            for (size_t i = 0; rc == DC_OK && i < SQL_LIST_LEN(built); i++)
                if ((rc = sql_index_build(d->ctx->txn, t, built->items[i],
                                          err)) != DC_OK)
                    dup_error_for_index(err,
                                        ((sql_index *)built->items[i])->name);
    }
    cset_free(&cs);
    return rc;
}

static int alter_drop_constraint(ddl *d, sql_table **tp,
                                 const sql_alter_cmd *cmd, dc_error *err)
{
    sql_table *t = *tp;
    for (int i = 0; i < t->nchecks; i++) {
        if (strcmp(t->checks[i].name, cmd->name) != 0)
            continue;
        free(t->checks[i].name);
        free(t->checks[i].expr);
        memmove(&t->checks[i], &t->checks[i + 1],
                (size_t)(t->nchecks - i - 1) * sizeof *t->checks);
        t->nchecks--;
        return DC_OK;
    }
    for (int i = 0; i < t->nindexes; i++) {
        sql_index *ix = t->indexes[i];
        if (!ix->is_constraint || strcmp(ix->name, cmd->name) != 0)
            continue;
        if (!ix->primary) {
            int rc = sql_index_drop_storage(d->ctx->txn, ix, err);
            if (rc == DC_OK)
                index_free(remove_index(t, i));
            return rc;
        }
        sql_table *next = sql_table_dup(t);
        if (!next)
            return oom(err);
        index_free(remove_index(next, i));
        return rewrite_table(d, t, next, tp, err);
    }
    if (cmd->if_exists)
        return ddl_notice(
            d, "00000",
            "constraint \"%s\" of relation \"%s\" does not exist, skipping",
            cmd->name, t->name);
    return dc_error_set(err, DC_ENOTFOUND, "42704",
                        "constraint \"%s\" of relation \"%s\" does not exist",
                        cmd->name, t->name);
}

static int alter_column_attr(ddl *d, sql_table *t, const sql_alter_cmd *cmd,
                             dc_error *err)
{
    sql_column *col = (sql_column *)sql_table_column(t, cmd->name);
    if (!col)
        return column_missing(t, cmd->name, err);
    int rc = DC_OK;
    switch (cmd->kind) {
    case ALTER_SET_NOT_NULL:
        if (!col->not_null &&
            (rc = check_no_nulls(d->ctx, t, col->attnum, err)) == DC_OK)
            col->not_null = true;
        return rc;
    case ALTER_DROP_NOT_NULL:
        if (t->pkey)
            for (int k = 0; k < t->pkey->ncols; k++)
                if (t->pkey->attnums[k] == col->attnum)
                    return dc_error_set(err, DC_EINVAL, "42P16",
                                        "column \"%s\" is in a primary key",
                                        col->name);
        col->not_null = false;
        return DC_OK;
    case ALTER_SET_DEFAULT: {
        char *text = sql_expr_to_string(cmd->expr);
        if (!text)
            return oom(err);
        sql_bexpr *bx = NULL;
        if ((rc = bind_default(d, t, col, text, cmd->expr->pos, &bx, NULL,
                               err)) != DC_OK) {
            free(text);
            return rc;
        }
        free(col->default_expr);
        col->default_expr = text;
        return DC_OK;
    }
    case ALTER_DROP_DEFAULT:
        free(col->default_expr);
        col->default_expr = NULL;
        return DC_OK;
    default:
        return dc_error_set(err, DC_EUNSUPPORTED, "0A000",
                            "ALTER TABLE command not supported");
    }
}

/* ALTER COLUMN TYPE: every row's value converted, by assignment cast or
 * by the USING expression. */
typedef struct type_change {
    int attnum;
    uint32_t type;
    int32_t typmod;
    sql_bexpr *using_; /* over the old row, or NULL: cast          */
} type_change;

static int convert_value(sql_ctx *ctx, dc_value *vals, void *ud, dc_error *err)
{
    type_change *tc = ud;
    dc_value out;
    int rc;
    if (tc->using_)
        rc = sql_eval(ctx, tc->using_, vals, NULL, &out, err);
    else
        rc = sql_value_cast(&vals[tc->attnum - 1], tc->type, tc->typmod,
                            SQL_CAST_ASSIGNMENT, ctx->tz, &ctx->mem, &out, err);
    if (rc == DC_OK)
        vals[tc->attnum - 1] = out;
    return rc;
}

static bool assignable(uint32_t from, uint32_t to)
{
    sql_cast_ctx k = sql_cast_kind(from, to);
    return k != SQL_CAST_NONE && k <= SQL_CAST_ASSIGNMENT;
}

static int alter_column_type(ddl *d, sql_table **tp, const sql_alter_cmd *cmd,
                             dc_error *err)
{
    sql_table *t = *tp;
    const sql_column *col = sql_table_column(t, cmd->name);
    if (!col)
        return column_missing(t, cmd->name, err);
    type_change tc = {.attnum = col->attnum};
    int rc = resolve_type(cmd->type, &tc.type, &tc.typmod, err);
    if (rc != DC_OK)
        return rc;
    if (cmd->expr) {
        char *text = sql_expr_to_string(cmd->expr);
        if (!text)
            return oom(err);
        rc = sql_bind_expr_text(d->ctx, d->ctx->arena, t, text, tc.type,
                                tc.typmod, &tc.using_, err);
        free(text);
        if (rc != DC_OK)
            return set_pos(err, cmd->expr->pos, rc);
    } else if (!assignable(col->type, tc.type)) {
        const char *tn = sql_type_name(tc.type);
        rc = dc_error_set(
            err, DC_ETYPE, "42804",
            "column \"%s\" cannot be cast automatically to type %s", col->name,
            tn);
        dc_error_hint(err, "You might need to specify \"USING %s::%s\".",
                      col->name, tn);
        return rc;
    }
    sql_table *next = sql_table_dup(t);
    if (!next)
        return oom(err);
    sql_column *nc = &next->cols[tc.attnum - 1];
    if (nc->default_expr && !assignable(nc->type, tc.type)) {
        rc = dc_error_set(
            err, DC_ETYPE, "42804",
            "default for column \"%s\" cannot be cast automatically to type %s",
            nc->name, sql_type_name(tc.type));
        sql_table_free(next);
        return rc;
    }
    nc->type = tc.type;
    nc->typmod = tc.typmod;
    if (!nc->missing.is_null && (nc->missing.type == DC_TYPE_TEXT ||
                                 nc->missing.type == DC_TYPE_VARCHAR ||
                                 nc->missing.type == DC_TYPE_BPCHAR ||
                                 nc->missing.type == DC_TYPE_NAME ||
                                 nc->missing.type == DC_TYPE_BYTEA ||
                                 nc->missing.type == DC_TYPE_NUMERIC))
        free((void *)nc->missing.u.bytes.ptr);
    nc->missing = sql_value_null(tc.type); /* every row is rewritten */
    if ((rc = rewrite_table_x(d, t, next, convert_value, &tc, tp, err)) !=
        DC_OK)
        return rc;
    t = *tp;
    for (int i = 0; rc == DC_OK && i < t->nchecks; i++)
        rc = check_rows(d->ctx, t, &t->checks[i], err);
    return rc;
}

static int alter_cmd(ddl *d, sql_table **tp, const sql_alter_cmd *cmd,
                     dc_error *err)
{
    switch (cmd->kind) {
    case ALTER_ADD_COLUMN:
        return alter_add_column(d, tp, cmd, err);
    case ALTER_DROP_COLUMN:
        return alter_drop_column(d, tp, cmd, err);
    case ALTER_RENAME_COLUMN:
        return alter_rename_column(d, *tp, cmd, err);
    case ALTER_RENAME_TABLE:
        return alter_rename_table(d, *tp, cmd, err);
    case ALTER_ADD_CONSTRAINT:
        return alter_add_constraint(d, tp, cmd, err);
    case ALTER_DROP_CONSTRAINT:
        return alter_drop_constraint(d, tp, cmd, err);
    case ALTER_SET_NOT_NULL:
    case ALTER_DROP_NOT_NULL:
    case ALTER_SET_DEFAULT:
    case ALTER_DROP_DEFAULT:
        return alter_column_attr(d, *tp, cmd, err);
    case ALTER_COLUMN_TYPE:
        return alter_column_type(d, tp, cmd, err);
    }
    return dc_error_set(err, DC_EUNSUPPORTED, "0A000",
                        "ALTER TABLE command not supported");
}

static int alter_table(ddl *d, const sql_alter_table *at, dc_error *err)
{
    const char *schema, *name;
    int rc = split_qname(at->name, false, &schema, &name, err);
    if (rc != DC_OK)
        return rc;
    found_kind f = lookup(d, schema, name);
    if (f == FOUND_NONE) {
        if (at->if_exists)
            return ddl_notice(d, "00000",
                              "relation \"%s\" does not exist, skipping", name);
        return dc_error_set(err, DC_ENOTFOUND, "42P01",
                            "relation \"%s\" does not exist", name);
    }
    if (f != FOUND_TABLE)
        return dc_error_set(err, DC_ETYPE, "42809", "\"%s\" is not a table",
                            name);
    sql_table *t = (sql_table *)sql_catalog_table(d->cat, schema, name);
    for (size_t i = 0; i < SQL_LIST_LEN(at->cmds); i++) {
        if ((rc = alter_cmd(d, &t, at->cmds->items[i], err)) != DC_OK)
            return rc;
        if ((rc = sql_catalog_reindex(d->cat, err)) != DC_OK)
            return rc;
    }
    return sql_catalog_save_table(d->ctx->txn, t, err);
}

/* ==== ANALYZE ==============================================================
 */

static int count_rows(sql_ctx *ctx, const sql_table *t, uint64_t *n,
                      dc_error *err)
{
    row_loop l;
    int rc = loop_open(ctx, t, &l, err);
    if (rc != DC_OK)
        return rc;
    /* Counting needs no column: rows are not decoded or copied. */
    uint8_t none[1600 / 8 + 1] = {0}; /* at most 1600 columns */
    if ((rc = sql_scan_set_columns(l.scan, none, err)) != DC_OK) {
        loop_close(&l);
        return rc;
    }
    uint64_t count = 0;
    for (;;) {
        bool valid = false;
        if ((rc = loop_next(&l, &valid, err)) != DC_OK || !valid)
            break;
        count++;
    }
    loop_close(&l);
    if (rc == DC_OK)
        *n = count;
    return rc;
}

/* ANALYZE counts the rows of a table whose storage estimate is below this;
 * above it, the estimate stands (docs/sql.md). */
#define ANALYZE_COUNT_BELOW 100000

static int analyze_table(ddl *d, sql_table *t, dc_error *err)
{
    uint64_t n = 0;
    int rc = sql_table_approx_rows(d->ctx->txn, d->ctx->eng, t, &n, err);
    if (rc == DC_EUNSUPPORTED || (rc == DC_OK && n < ANALYZE_COUNT_BELOW))
        rc = count_rows(d->ctx, t, &n, err);
    if (rc != DC_OK || n == t->est_rows)
        return rc;
    t->est_rows = n;
    return sql_catalog_save_table(d->ctx->txn, t, err);
}

int sql_catalog_analyze(sql_ctx *ctx, const char *name, dc_error *err)
{
    if (!ctx->txn)
        return dc_error_set(err, DC_EINVAL, DC_SQLSTATE_INTERNAL,
                            "ANALYZE outside a transaction");
    ddl d = {.ctx = ctx, .orig_cat = ctx->cat};
    int rc = ddl_begin(&d, err);
    if (rc != DC_OK)
        return rc;
    if (name) {
        sql_table *t = (sql_table *)sql_catalog_table(d.cat, NULL, name);
        if (t)
            rc = analyze_table(&d, t, err);
        else
            rc = dc_error_set(err, DC_ENOTFOUND, "42P01",
                              "relation \"%s\" does not exist", name);
    } else {
        for (size_t i = 0; rc == DC_OK && i < sql_catalog_ntables(d.cat); i++)
            rc = analyze_table(&d,
                               sql_catalog_table_mut(
                                   d.cat, sql_catalog_table_at(d.cat, i)->oid),
                               err);
    }
    return ddl_end(&d, rc, err);
}

/* ==== entry ================================================================
 */

static const char *stmt_tag(const sql_stmt *s)
{
    switch (s->kind) {
    case STMT_CREATE_TABLE:
        return "CREATE TABLE";
    case STMT_TRUNCATE:
        return "TRUNCATE TABLE";
    case STMT_ALTER_TABLE:
        return "ALTER TABLE";
    case STMT_CREATE_INDEX:
        return "CREATE INDEX";
    case STMT_CREATE_VIEW:
        return "CREATE VIEW";
    case STMT_CREATE_DATABASE:
        return "CREATE DATABASE";
    case STMT_DROP:
        switch (s->u.drop->what) {
        case OBJ_TABLE:
            return "DROP TABLE";
        case OBJ_INDEX:
            return "DROP INDEX";
        case OBJ_VIEW:
            return "DROP VIEW";
        case OBJ_DATABASE:
            return "DROP DATABASE";
        case OBJ_SCHEMA:
            return "DROP SCHEMA";
        }
        return "DROP";
    default:
        return NULL;
    }
}

int sql_ddl_exec(sql_ctx *ctx, const sql_stmt *stmt, const char *src, char *tag,
                 size_t tag_cap, int (*notice)(void *ud, const dc_error *n),
                 void *notice_ud, dc_error *err)
{
    const char *what = stmt_tag(stmt);
    if (!what)
        return dc_error_set(err, DC_EINVAL, DC_SQLSTATE_INTERNAL,
                            "statement is not DDL");
    if (!ctx->txn)
        return dc_error_set(err, DC_EINVAL, DC_SQLSTATE_INTERNAL,
                            "DDL outside a transaction");
    if (sql_txn_read_only(ctx->txn))
        return dc_error_set(err, DC_EPERM, "25006",
                            "cannot execute %s in a read-only transaction",
                            what);
    ddl d = {.ctx = ctx,
             .orig_cat = ctx->cat,
             .stmt = stmt,
             .src = src,
             .notice = notice,
             .notice_ud = notice_ud};
    char tagbuf[32];
    snprintf(tagbuf, sizeof tagbuf, "%s", what);
    int rc = ddl_begin(&d, err);
    if (rc != DC_OK)
        return rc;
    switch (stmt->kind) {
    case STMT_CREATE_TABLE:
        rc = create_table(&d, stmt->u.create_table, tagbuf, sizeof tagbuf, err);
        break;
    case STMT_DROP:
        rc = drop_stmt(&d, stmt->u.drop, tagbuf, sizeof tagbuf, err);
        break;
    case STMT_TRUNCATE:
        rc = truncate_stmt(&d, stmt->u.truncate, err);
        break;
    case STMT_ALTER_TABLE:
        rc = alter_table(&d, stmt->u.alter, err);
        break;
    case STMT_CREATE_INDEX:
        rc = create_index(&d, stmt->u.create_index, err);
        break;
    case STMT_CREATE_VIEW:
        rc = create_view(&d, stmt->u.create_view, err);
        break;
    case STMT_CREATE_DATABASE:
        rc = create_database(&d, stmt->u.create_db, err);
        break;
    default:
        rc = dc_error_set(err, DC_EINVAL, DC_SQLSTATE_INTERNAL,
                          "statement is not DDL");
    }
    if ((rc = ddl_end(&d, rc, err)) != DC_OK)
        return rc;
    if (tag && tag_cap)
        snprintf(tag, tag_cap, "%s", tagbuf);
    return DC_OK;
}
