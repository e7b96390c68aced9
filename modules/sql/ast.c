/*
 * sql/ast.c - the parse-tree arena, lists and the canonical printer
 * (see ast.h).
 */
#include "sql/ast.h"
#include "sql/lexer.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "common/alloc.h"

/* ---- arena --------------------------------------------------------------- */
typedef struct arena_block {
    struct arena_block *next;
    size_t used, size;
    max_align_t data[];
} arena_block;

struct sql_arena {
    arena_block *head;
};

sql_arena *sql_arena_new(void)
{
    return dcm_calloc(1, sizeof(sql_arena));
}

void *sql_arena_alloc(sql_arena *a, size_t size)
{
    size = (size + sizeof(max_align_t) - 1) & ~(sizeof(max_align_t) - 1);
    if (size == 0)
        size = sizeof(max_align_t);
    arena_block *b = a->head;
    if (!b || b->size - b->used < size) {
        size_t bs = 16384;
        if (bs < size)
            bs = size;
        b = malloc(sizeof(arena_block) + bs);
        if (!b)
            return NULL;
        b->size = bs;
        b->used = 0;
        b->next = a->head;
        a->head = b;
    }
    void *r = (char *)b->data + b->used;
    b->used += size;
    memset(r, 0, size);
    return r;
}

char *sql_arena_strndup(sql_arena *a, const char *s, size_t n)
{
    char *r = sql_arena_alloc(a, n + 1);
    if (r) {
        memcpy(r, s, n);
        r[n] = 0;
    }
    return r;
}

void sql_arena_free(sql_arena *a)
{
    if (!a)
        return;
    arena_block *b = a->head;
    while (b) {
        arena_block *n = b->next;
        free(b);
        b = n;
    }
    free(a);
}

bool sql_list_push(sql_arena *a, sql_list **l, void *p)
{
    if (!*l) {
        *l = sql_arena_alloc(a, sizeof(sql_list));
        if (!*l)
            return false;
    }
    sql_list *x = *l;
    if (x->len == x->cap) {
        size_t c = x->cap ? x->cap * 2 : 4;
        void **it = sql_arena_alloc(a, c * sizeof(void *));
        if (!it)
            return false;
        if (x->len)
            memcpy(it, x->items, x->len * sizeof(void *));
        x->items = it;
        x->cap = c;
    }
    x->items[x->len++] = p;
    return true;
}

/* ---- printer ------------------------------------------------------------- */
typedef struct pbuf {
    char *p;
    size_t len, cap;
    bool oom;
    int depth;
} pbuf;

static void put(pbuf *b, const char *s, size_t n)
{
    if (b->oom)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t c = b->cap ? b->cap * 2 : 256;
        while (c < b->len + n + 1)
            c *= 2;
        char *q = realloc(b->p, c);
        if (!q) {
            b->oom = true;
            return;
        }
        b->p = q;
        b->cap = c;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = 0;
}
static void puts_(pbuf *b, const char *s) { put(b, s, strlen(s)); }
static void pf(pbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void pf(pbuf *b, const char *fmt, ...)
{
    char tmp[128];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n > 0)
        put(b, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

/* An identifier, quoted when it is not plain lower-case. */
static void ident_ex(pbuf *b, const char *s, bool funcname)
{
    bool plain = s[0] && (islower((unsigned char)s[0]) || s[0] == '_');
    for (const char *c = s; *c && plain; c++)
        if (!(islower((unsigned char)*c) || isdigit((unsigned char)*c) || *c == '_' || *c == '$'))
            plain = false;
    int kw = plain ? sql_keyword_category(s) : SQL_KW_NONE;
    if (kw == SQL_KW_RESERVED || (kw == SQL_KW_TYPE_FUNC && !funcname))
        plain = false;
    if (plain) {
        puts_(b, s);
        return;
    }
    put(b, "\"", 1);
    for (const char *c = s; *c; c++) {
        if (*c == '"')
            put(b, "\"", 1);
        put(b, c, 1);
    }
    put(b, "\"", 1);
}

static void ident(pbuf *b, const char *s) { ident_ex(b, s, false); }

static void strlit(pbuf *b, const char *s)
{
    put(b, "'", 1);
    for (const char *c = s; *c; c++) {
        if (*c == '\'')
            put(b, "'", 1);
        put(b, c, 1);
    }
    put(b, "'", 1);
}

static void qname(pbuf *b, const sql_qname *q)
{
    for (int i = 0; i < q->nparts; i++) {
        if (i)
            put(b, ".", 1);
        ident(b, q->parts[i]);
    }
}

static void names(pbuf *b, const sql_list *l)
{
    for (size_t i = 0; i < SQL_LIST_LEN(l); i++) {
        if (i)
            puts_(b, ", ");
        ident(b, l->items[i]);
    }
}

static void typename_(pbuf *b, const sql_typename *t)
{
    if (t->qual)
        qname(b, t->qual);
    else
        ident(b, t->name);
    if (t->nmods) {
        put(b, "(", 1);
        for (int i = 0; i < t->nmods; i++)
            pf(b, i ? ",%d" : "%d", (int)t->mods[i]);
        put(b, ")", 1);
    }
    for (int i = 0; i < t->array_dims; i++)
        puts_(b, "[]");
}

static void expr(pbuf *b, const sql_expr *e);
static void select_(pbuf *b, const sql_select *s);
static void stmt(pbuf *b, const sql_stmt *s);

static void exprs(pbuf *b, const sql_list *l)
{
    for (size_t i = 0; i < SQL_LIST_LEN(l); i++) {
        if (i)
            puts_(b, ", ");
        expr(b, l->items[i]);
    }
}

static void sortlist(pbuf *b, const sql_list *l)
{
    for (size_t i = 0; i < SQL_LIST_LEN(l); i++) {
        const sql_sortby *s = l->items[i];
        if (i)
            puts_(b, ", ");
        expr(b, s->expr);
        if (s->dir == SORT_ASC)
            puts_(b, " ASC");
        else if (s->dir == SORT_DESC)
            puts_(b, " DESC");
        if (s->nulls == NULLS_FIRST)
            puts_(b, " NULLS FIRST");
        else if (s->nulls == NULLS_LAST)
            puts_(b, " NULLS LAST");
    }
}

static void frame_bound(pbuf *b, const sql_frame_bound *f)
{
    static const char *const k[] = {"", "UNBOUNDED PRECEDING", " PRECEDING", "CURRENT ROW",
                                    " FOLLOWING", "UNBOUNDED FOLLOWING"};
    if (f->offset)
        expr(b, f->offset);
    puts_(b, k[f->kind]);
}

static void window(pbuf *b, const sql_window *w)
{
    puts_(b, " OVER (");
    bool sp = false;
    if (w->refname) {
        ident(b, w->refname);
        sp = true;
    }
    if (w->partition_by) {
        puts_(b, sp ? " PARTITION BY " : "PARTITION BY ");
        exprs(b, w->partition_by);
        sp = true;
    }
    if (w->order_by) {
        puts_(b, sp ? " ORDER BY " : "ORDER BY ");
        sortlist(b, w->order_by);
        sp = true;
    }
    if (w->mode != FRAMEMODE_NONE) {
        if (sp)
            put(b, " ", 1);
        puts_(b, w->mode == FRAMEMODE_ROWS ? "ROWS " : w->mode == FRAMEMODE_RANGE ? "RANGE " : "GROUPS ");
        if (w->end.kind != FRAME_NONE) {
            puts_(b, "BETWEEN ");
            frame_bound(b, &w->start);
            puts_(b, " AND ");
            frame_bound(b, &w->end);
        } else {
            frame_bound(b, &w->start);
        }
    }
    put(b, ")", 1);
}

static const char *const sqlvalue_names[] = {
    "CURRENT_DATE", "CURRENT_TIME", "CURRENT_TIMESTAMP", "LOCALTIME",
    "LOCALTIMESTAMP", "CURRENT_USER", "CURRENT_ROLE", "SESSION_USER",
    "USER", "CURRENT_CATALOG", "CURRENT_SCHEMA"};

static void opname(pbuf *b, const char *name, const sql_qname *schema)
{
    if (schema) {
        puts_(b, "OPERATOR(");
        qname(b, schema);
        put(b, ".", 1);
        puts_(b, name);
        put(b, ")", 1);
    } else {
        puts_(b, name);
    }
}

static void expr(pbuf *b, const sql_expr *e)
{
    if (!e) {
        puts_(b, "<null>");
        return;
    }
    if (++b->depth > 5000) { /* the parser bounds depth; stay safe anyway */
        puts_(b, "...");
        b->depth--;
        return;
    }
    switch (e->kind) {
    case EXPR_CONST:
        switch (e->u.c.kind) {
        case CONST_NULL: puts_(b, "NULL"); break;
        case CONST_BOOL: puts_(b, e->u.c.b ? "TRUE" : "FALSE"); break;
        case CONST_INT: pf(b, "%" PRId64, e->u.c.i); break;
        case CONST_NUMERIC: puts_(b, e->u.c.s); break;
        case CONST_STRING: strlit(b, e->u.c.s); break;
        case CONST_BITSTR:
            put(b, e->u.c.s[0] == 'b' ? "B" : "X", 1);
            strlit(b, e->u.c.s + 1);
            break;
        }
        break;
    case EXPR_PARAM: pf(b, "$%d", e->u.param); break;
    case EXPR_COLUMN:
        for (int i = 0; i < e->u.col.nnames; i++) {
            if (i)
                put(b, ".", 1);
            ident(b, e->u.col.names[i]);
        }
        if (e->u.col.star)
            puts_(b, e->u.col.nnames ? ".*" : "*");
        break;
    case EXPR_OP:
        put(b, "(", 1);
        if (e->u.op.left) {
            expr(b, e->u.op.left);
            put(b, " ", 1);
        }
        opname(b, e->u.op.name, e->u.op.schema);
        put(b, " ", 1);
        expr(b, e->u.op.right);
        put(b, ")", 1);
        break;
    case EXPR_AND:
    case EXPR_OR:
        put(b, "(", 1);
        for (size_t i = 0; i < e->u.args->len; i++) {
            if (i)
                puts_(b, e->kind == EXPR_AND ? " AND " : " OR ");
            expr(b, e->u.args->items[i]);
        }
        put(b, ")", 1);
        break;
    case EXPR_NOT:
        puts_(b, "(NOT ");
        expr(b, e->u.un.arg);
        put(b, ")", 1);
        break;
    case EXPR_NULLTEST:
        put(b, "(", 1);
        expr(b, e->u.un.arg);
        puts_(b, e->u.un.negated ? " IS NOT NULL)" : " IS NULL)");
        break;
    case EXPR_BOOLTEST:
        put(b, "(", 1);
        expr(b, e->u.un.arg);
        puts_(b, e->u.un.negated ? " IS NOT " : " IS ");
        puts_(b, e->u.un.test == BT_TRUE ? "TRUE)" : e->u.un.test == BT_FALSE ? "FALSE)" : "UNKNOWN)");
        break;
    case EXPR_DISTINCT:
        put(b, "(", 1);
        expr(b, e->u.distinct.left);
        puts_(b, e->u.distinct.negated ? " IS NOT DISTINCT FROM " : " IS DISTINCT FROM ");
        expr(b, e->u.distinct.right);
        put(b, ")", 1);
        break;
    case EXPR_BETWEEN:
        put(b, "(", 1);
        expr(b, e->u.between.arg);
        puts_(b, e->u.between.negated ? " NOT BETWEEN " : " BETWEEN ");
        if (e->u.between.symmetric)
            puts_(b, "SYMMETRIC ");
        expr(b, e->u.between.lo);
        puts_(b, " AND ");
        expr(b, e->u.between.hi);
        put(b, ")", 1);
        break;
    case EXPR_IN:
        put(b, "(", 1);
        expr(b, e->u.in.arg);
        puts_(b, e->u.in.negated ? " NOT IN (" : " IN (");
        if (e->u.in.subquery)
            select_(b, e->u.in.subquery);
        else
            exprs(b, e->u.in.list);
        puts_(b, "))");
        break;
    case EXPR_LIKE:
        put(b, "(", 1);
        expr(b, e->u.like.arg);
        if (e->u.like.negated)
            puts_(b, " NOT");
        puts_(b, e->u.like.kind == LIKE_LIKE ? " LIKE " : e->u.like.kind == LIKE_ILIKE ? " ILIKE " : " SIMILAR TO ");
        expr(b, e->u.like.pattern);
        if (e->u.like.escape) {
            puts_(b, " ESCAPE ");
            expr(b, e->u.like.escape);
        }
        put(b, ")", 1);
        break;
    case EXPR_QUANT:
        put(b, "(", 1);
        expr(b, e->u.quant.left);
        put(b, " ", 1);
        opname(b, e->u.quant.op, e->u.quant.schema);
        puts_(b, e->u.quant.all ? " ALL (" : " ANY (");
        if (e->u.quant.subquery)
            select_(b, e->u.quant.subquery);
        else
            expr(b, e->u.quant.array);
        puts_(b, "))");
        break;
    case EXPR_SUBLINK:
        puts_(b, e->u.sublink.kind == SUBLINK_EXISTS ? "EXISTS (" : e->u.sublink.kind == SUBLINK_ARRAY ? "ARRAY(" : "(");
        select_(b, e->u.sublink.subquery);
        put(b, ")", 1);
        break;
    case EXPR_FUNC:
        for (int i = 0; i < e->u.func.name->nparts; i++) {
            if (i)
                put(b, ".", 1);
            ident_ex(b, e->u.func.name->parts[i], true);
        }
        put(b, "(", 1);
        if (e->u.func.star)
            put(b, "*", 1);
        if (e->u.func.distinct)
            puts_(b, "DISTINCT ");
        exprs(b, e->u.func.args);
        if (e->u.func.order_by) {
            puts_(b, " ORDER BY ");
            sortlist(b, e->u.func.order_by);
        }
        put(b, ")", 1);
        if (e->u.func.filter) {
            puts_(b, " FILTER (WHERE ");
            expr(b, e->u.func.filter);
            put(b, ")", 1);
        }
        if (e->u.func.over)
            window(b, e->u.func.over);
        break;
    case EXPR_CASE:
        puts_(b, "CASE");
        if (e->u.kase.arg) {
            put(b, " ", 1);
            expr(b, e->u.kase.arg);
        }
        for (size_t i = 0; i < SQL_LIST_LEN(e->u.kase.whens); i++) {
            const sql_when *w = e->u.kase.whens->items[i];
            puts_(b, " WHEN ");
            expr(b, w->when);
            puts_(b, " THEN ");
            expr(b, w->then);
        }
        if (e->u.kase.els) {
            puts_(b, " ELSE ");
            expr(b, e->u.kase.els);
        }
        puts_(b, " END");
        break;
    case EXPR_CAST:
        puts_(b, "CAST(");
        expr(b, e->u.cast.arg);
        puts_(b, " AS ");
        typename_(b, e->u.cast.type);
        put(b, ")", 1);
        break;
    case EXPR_COLLATE:
        put(b, "(", 1);
        expr(b, e->u.collate.arg);
        puts_(b, " COLLATE ");
        qname(b, e->u.collate.name);
        put(b, ")", 1);
        break;
    case EXPR_ARRAY:
        puts_(b, "ARRAY[");
        exprs(b, e->u.list);
        put(b, "]", 1);
        break;
    case EXPR_ROW:
        puts_(b, "ROW(");
        exprs(b, e->u.list);
        put(b, ")", 1);
        break;
    case EXPR_SUBSCRIPT:
        expr(b, e->u.sub.arg);
        put(b, "[", 1);
        if (e->u.sub.lo)
            expr(b, e->u.sub.lo);
        if (e->u.sub.slice)
            put(b, ":", 1);
        if (e->u.sub.hi)
            expr(b, e->u.sub.hi);
        put(b, "]", 1);
        break;
    case EXPR_SQLVALUE:
        puts_(b, sqlvalue_names[e->u.sv.what]);
        if (e->u.sv.precision >= 0)
            pf(b, "(%d)", (int)e->u.sv.precision);
        break;
    case EXPR_DEFAULT:
        puts_(b, "DEFAULT");
        break;
    case EXPR_AT_TIME_ZONE:
        put(b, "(", 1);
        expr(b, e->u.un.arg);
        puts_(b, " AT TIME ZONE ");
        expr(b, e->u.un.other);
        put(b, ")", 1);
        break;
    }
    b->depth--;
}

static void alias(pbuf *b, const sql_alias *a)
{
    if (!a)
        return;
    puts_(b, " AS ");
    ident(b, a->name);
    if (a->cols) {
        put(b, "(", 1);
        names(b, a->cols);
        put(b, ")", 1);
    }
}

static void from_(pbuf *b, const sql_from *f)
{
    static const char *const jn[] = {"JOIN", "LEFT JOIN", "RIGHT JOIN", "FULL JOIN", "CROSS JOIN"};
    switch (f->kind) {
    case FROM_TABLE:
        if (f->only)
            puts_(b, "ONLY ");
        qname(b, f->table);
        break;
    case FROM_SUBQUERY:
        if (f->lateral)
            puts_(b, "LATERAL ");
        put(b, "(", 1);
        select_(b, f->subquery);
        put(b, ")", 1);
        break;
    case FROM_FUNCTION:
        if (f->lateral)
            puts_(b, "LATERAL ");
        expr(b, f->func);
        break;
    case FROM_JOIN:
        put(b, "(", 1);
        from_(b, f->join.left);
        put(b, " ", 1);
        if (f->join.natural)
            puts_(b, "NATURAL ");
        puts_(b, jn[f->join.kind]);
        put(b, " ", 1);
        from_(b, f->join.right);
        if (f->join.on) {
            puts_(b, " ON ");
            expr(b, f->join.on);
        }
        if (f->join.using_cols) {
            puts_(b, " USING (");
            names(b, f->join.using_cols);
            put(b, ")", 1);
        }
        put(b, ")", 1);
        break;
    }
    alias(b, f->alias);
}

static void fromlist(pbuf *b, const sql_list *l)
{
    for (size_t i = 0; i < SQL_LIST_LEN(l); i++) {
        if (i)
            puts_(b, ", ");
        from_(b, l->items[i]);
    }
}

static void targets(pbuf *b, const sql_list *l)
{
    for (size_t i = 0; i < SQL_LIST_LEN(l); i++) {
        const sql_target *t = l->items[i];
        if (i)
            puts_(b, ", ");
        expr(b, t->expr);
        if (t->alias) {
            puts_(b, " AS ");
            ident(b, t->alias);
        }
    }
}

static void with_(pbuf *b, const sql_list *with, bool rec)
{
    if (!with)
        return;
    puts_(b, rec ? "WITH RECURSIVE " : "WITH ");
    for (size_t i = 0; i < with->len; i++) {
        const sql_cte *c = with->items[i];
        if (i)
            puts_(b, ", ");
        ident(b, c->name);
        if (c->cols) {
            put(b, "(", 1);
            names(b, c->cols);
            put(b, ")", 1);
        }
        puts_(b, " AS (");
        stmt(b, c->stmt);
        put(b, ")", 1);
    }
    put(b, " ", 1);
}

static void select_(pbuf *b, const sql_select *s)
{
    if (++b->depth > 5000) {
        puts_(b, "...");
        b->depth--;
        return;
    }
    with_(b, s->with, s->recursive);
    switch (s->op) {
    case SELECT_SIMPLE:
        puts_(b, "SELECT");
        if (s->distinct) {
            puts_(b, " DISTINCT");
            if (s->distinct_on) {
                puts_(b, " ON (");
                exprs(b, s->distinct_on);
                put(b, ")", 1);
            }
        }
        if (s->targets) {
            put(b, " ", 1);
            targets(b, s->targets);
        }
        if (s->from) {
            puts_(b, " FROM ");
            fromlist(b, s->from);
        }
        if (s->where) {
            puts_(b, " WHERE ");
            expr(b, s->where);
        }
        if (s->group_by) {
            puts_(b, " GROUP BY ");
            exprs(b, s->group_by);
        }
        if (s->having) {
            puts_(b, " HAVING ");
            expr(b, s->having);
        }
        break;
    case SELECT_VALUES:
        puts_(b, "VALUES ");
        for (size_t i = 0; i < s->values->len; i++) {
            puts_(b, i ? ", (" : "(");
            exprs(b, s->values->items[i]);
            put(b, ")", 1);
        }
        break;
    default:
        put(b, "(", 1);
        select_(b, s->larg);
        puts_(b, s->op == SELECT_UNION ? ") UNION " : s->op == SELECT_INTERSECT ? ") INTERSECT " : ") EXCEPT ");
        if (s->all)
            puts_(b, "ALL ");
        put(b, "(", 1);
        select_(b, s->rarg);
        put(b, ")", 1);
        break;
    }
    if (s->order_by) {
        puts_(b, " ORDER BY ");
        sortlist(b, s->order_by);
    }
    if (s->limit) {
        puts_(b, " LIMIT ");
        expr(b, s->limit);
    }
    if (s->offset) {
        puts_(b, " OFFSET ");
        expr(b, s->offset);
    }
    if (s->locking)
        puts_(b, " FOR UPDATE");
    b->depth--;
}

static void returning(pbuf *b, const sql_list *l)
{
    if (l) {
        puts_(b, " RETURNING ");
        targets(b, l);
    }
}

static void setlist(pbuf *b, const sql_list *l)
{
    for (size_t i = 0; i < SQL_LIST_LEN(l); i++) {
        const sql_set_clause *c = l->items[i];
        if (i)
            puts_(b, ", ");
        if (c->cols->len > 1) {
            put(b, "(", 1);
            names(b, c->cols);
            put(b, ")", 1);
        } else {
            ident(b, c->cols->items[0]);
        }
        puts_(b, " = ");
        expr(b, c->expr);
    }
}

static void defs(pbuf *b, const sql_list *l)
{
    put(b, "(", 1);
    for (size_t i = 0; i < SQL_LIST_LEN(l); i++) {
        const sql_defelem *d = l->items[i];
        if (i)
            puts_(b, ", ");
        puts_(b, d->name);
        if (d->value) {
            put(b, " ", 1);
            strlit(b, d->value);
        }
    }
    put(b, ")", 1);
}

static void constraint(pbuf *b, const sql_constraint *c)
{
    if (c->name) {
        puts_(b, "CONSTRAINT ");
        ident(b, c->name);
        put(b, " ", 1);
    }
    switch (c->kind) {
    case CONS_NOT_NULL: puts_(b, "NOT NULL"); break;
    case CONS_NULL: puts_(b, "NULL"); break;
    case CONS_DEFAULT:
        puts_(b, "DEFAULT ");
        expr(b, c->expr);
        break;
    case CONS_PRIMARY: puts_(b, "PRIMARY KEY"); break;
    case CONS_UNIQUE: puts_(b, "UNIQUE"); break;
    case CONS_CHECK:
        puts_(b, "CHECK (");
        expr(b, c->expr);
        put(b, ")", 1);
        break;
    case CONS_FOREIGN:
        if (c->cols)
            puts_(b, "FOREIGN KEY");
        break;
    }
    if (c->cols) {
        puts_(b, " (");
        names(b, c->cols);
        put(b, ")", 1);
    }
    if (c->kind == CONS_FOREIGN) {
        puts_(b, c->cols ? " REFERENCES " : "REFERENCES ");
        qname(b, c->ref_table);
        if (c->ref_cols) {
            put(b, "(", 1);
            names(b, c->ref_cols);
            put(b, ")", 1);
        }
        if (c->on_delete) {
            puts_(b, " ON DELETE ");
            puts_(b, c->on_delete);
        }
        if (c->on_update) {
            puts_(b, " ON UPDATE ");
            puts_(b, c->on_update);
        }
    }
}

static void coldef(pbuf *b, const sql_coldef *d)
{
    ident(b, d->name);
    put(b, " ", 1);
    typename_(b, d->type);
    if (d->collate) {
        puts_(b, " COLLATE ");
        qname(b, d->collate);
    }
    for (size_t i = 0; i < SQL_LIST_LEN(d->constraints); i++) {
        put(b, " ", 1);
        constraint(b, d->constraints->items[i]);
    }
}

static void qnames(pbuf *b, const sql_list *l)
{
    for (size_t i = 0; i < SQL_LIST_LEN(l); i++) {
        if (i)
            puts_(b, ", ");
        qname(b, l->items[i]);
    }
}

static void stmt(pbuf *b, const sql_stmt *s)
{
    static const char *const objs[] = {"TABLE", "INDEX", "VIEW", "DATABASE", "SCHEMA"};
    switch (s->kind) {
    case STMT_SELECT:
        select_(b, s->u.select);
        break;
    case STMT_INSERT: {
        const sql_insert *in = s->u.insert;
        with_(b, in->with, false);
        puts_(b, "INSERT INTO ");
        qname(b, in->table);
        if (in->alias) {
            puts_(b, " AS ");
            ident(b, in->alias);
        }
        if (in->cols) {
            puts_(b, " (");
            names(b, in->cols);
            put(b, ")", 1);
        }
        if (in->source) {
            put(b, " ", 1);
            select_(b, in->source);
        } else {
            puts_(b, " DEFAULT VALUES");
        }
        if (in->conflict.present) {
            puts_(b, " ON CONFLICT");
            if (in->conflict.cols) {
                puts_(b, " (");
                names(b, in->conflict.cols);
                put(b, ")", 1);
            }
            if (in->conflict.constraint) {
                puts_(b, " ON CONSTRAINT ");
                ident(b, in->conflict.constraint);
            }
            if (in->conflict.do_update) {
                puts_(b, " DO UPDATE SET ");
                setlist(b, in->conflict.set);
                if (in->conflict.where) {
                    puts_(b, " WHERE ");
                    expr(b, in->conflict.where);
                }
            } else {
                puts_(b, " DO NOTHING");
            }
        }
        returning(b, in->returning);
        break;
    }
    case STMT_UPDATE: {
        const sql_update *u = s->u.update;
        with_(b, u->with, false);
        puts_(b, "UPDATE ");
        qname(b, u->table);
        if (u->alias) {
            puts_(b, " AS ");
            ident(b, u->alias);
        }
        puts_(b, " SET ");
        setlist(b, u->set);
        if (u->from) {
            puts_(b, " FROM ");
            fromlist(b, u->from);
        }
        if (u->where) {
            puts_(b, " WHERE ");
            expr(b, u->where);
        }
        returning(b, u->returning);
        break;
    }
    case STMT_DELETE: {
        const sql_delete *d = s->u.del;
        with_(b, d->with, false);
        puts_(b, "DELETE FROM ");
        qname(b, d->table);
        if (d->alias) {
            puts_(b, " AS ");
            ident(b, d->alias);
        }
        if (d->using_) {
            puts_(b, " USING ");
            fromlist(b, d->using_);
        }
        if (d->where) {
            puts_(b, " WHERE ");
            expr(b, d->where);
        }
        returning(b, d->returning);
        break;
    }
    case STMT_CREATE_TABLE: {
        const sql_create_table *c = s->u.create_table;
        puts_(b, c->temporary ? "CREATE TEMPORARY TABLE " : "CREATE TABLE ");
        if (c->if_not_exists)
            puts_(b, "IF NOT EXISTS ");
        qname(b, c->name);
        if (c->as_query) {
            puts_(b, " AS ");
            stmt(b, c->as_query);
            break;
        }
        puts_(b, " (");
        size_t n = 0;
        for (size_t i = 0; i < SQL_LIST_LEN(c->columns); i++, n++) {
            if (n)
                puts_(b, ", ");
            coldef(b, c->columns->items[i]);
        }
        for (size_t i = 0; i < SQL_LIST_LEN(c->constraints); i++, n++) {
            if (n)
                puts_(b, ", ");
            constraint(b, c->constraints->items[i]);
        }
        put(b, ")", 1);
        if (c->options) {
            puts_(b, " WITH ");
            defs(b, c->options);
        }
        break;
    }
    case STMT_DROP:
        puts_(b, "DROP ");
        puts_(b, objs[s->u.drop->what]);
        if (s->u.drop->if_exists)
            puts_(b, " IF EXISTS");
        put(b, " ", 1);
        qnames(b, s->u.drop->names);
        if (s->u.drop->cascade)
            puts_(b, " CASCADE");
        break;
    case STMT_TRUNCATE:
        puts_(b, "TRUNCATE ");
        qnames(b, s->u.truncate->tables);
        if (s->u.truncate->restart_identity)
            puts_(b, " RESTART IDENTITY");
        if (s->u.truncate->cascade)
            puts_(b, " CASCADE");
        break;
    case STMT_ALTER_TABLE: {
        const sql_alter_table *a = s->u.alter;
        puts_(b, "ALTER TABLE ");
        if (a->if_exists)
            puts_(b, "IF EXISTS ");
        qname(b, a->name);
        for (size_t i = 0; i < a->cmds->len; i++) {
            const sql_alter_cmd *c = a->cmds->items[i];
            puts_(b, i ? ", " : " ");
            switch (c->kind) {
            case ALTER_ADD_COLUMN:
                puts_(b, c->if_not_exists ? "ADD COLUMN IF NOT EXISTS " : "ADD COLUMN ");
                coldef(b, c->column);
                break;
            case ALTER_ADD_CONSTRAINT:
                puts_(b, "ADD ");
                constraint(b, c->constraint);
                break;
            case ALTER_DROP_COLUMN:
            case ALTER_DROP_CONSTRAINT:
                puts_(b, c->kind == ALTER_DROP_COLUMN ? "DROP COLUMN " : "DROP CONSTRAINT ");
                if (c->if_exists)
                    puts_(b, "IF EXISTS ");
                ident(b, c->name);
                if (c->cascade)
                    puts_(b, " CASCADE");
                break;
            case ALTER_RENAME_COLUMN:
                puts_(b, "RENAME COLUMN ");
                ident(b, c->name);
                puts_(b, " TO ");
                ident(b, c->newname);
                break;
            case ALTER_RENAME_TABLE:
                puts_(b, "RENAME TO ");
                ident(b, c->newname);
                break;
            default:
                puts_(b, "ALTER COLUMN ");
                ident(b, c->name);
                if (c->kind == ALTER_SET_NOT_NULL)
                    puts_(b, " SET NOT NULL");
                else if (c->kind == ALTER_DROP_NOT_NULL)
                    puts_(b, " DROP NOT NULL");
                else if (c->kind == ALTER_DROP_DEFAULT)
                    puts_(b, " DROP DEFAULT");
                else if (c->kind == ALTER_SET_DEFAULT) {
                    puts_(b, " SET DEFAULT ");
                    expr(b, c->expr);
                } else {
                    puts_(b, " TYPE ");
                    typename_(b, c->type);
                }
                break;
            }
        }
        break;
    }
    case STMT_CREATE_INDEX: {
        const sql_create_index *c = s->u.create_index;
        puts_(b, c->unique ? "CREATE UNIQUE INDEX " : "CREATE INDEX ");
        if (c->if_not_exists)
            puts_(b, "IF NOT EXISTS ");
        if (c->name) {
            ident(b, c->name);
            put(b, " ", 1);
        }
        puts_(b, "ON ");
        qname(b, c->table);
        if (c->method) {
            puts_(b, " USING ");
            ident(b, c->method);
        }
        puts_(b, " (");
        sortlist(b, c->items);
        put(b, ")", 1);
        if (c->where) {
            puts_(b, " WHERE ");
            expr(b, c->where);
        }
        break;
    }
    case STMT_CREATE_VIEW:
        puts_(b, s->u.create_view->or_replace ? "CREATE OR REPLACE " : "CREATE ");
        puts_(b, s->u.create_view->temporary ? "TEMPORARY VIEW " : "VIEW ");
        qname(b, s->u.create_view->name);
        if (s->u.create_view->cols) {
            puts_(b, " (");
            names(b, s->u.create_view->cols);
            put(b, ")", 1);
        }
        puts_(b, " AS ");
        stmt(b, s->u.create_view->query);
        break;
    case STMT_TRANSACTION: {
        const sql_transaction *t = s->u.tx;
        static const char *const k[] = {"BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT"};
        puts_(b, k[t->kind]);
        if (t->savepoint) {
            put(b, " ", 1);
            ident(b, t->savepoint);
        }
        if (t->isolation) {
            puts_(b, " ISOLATION LEVEL ");
            for (const char *c = t->isolation; *c; c++)
                put(b, &(char){(char)toupper((unsigned char)*c)}, 1);
        }
        if (t->read_only >= 0)
            puts_(b, t->read_only ? " READ ONLY" : " READ WRITE");
        if (t->deferrable >= 0)
            puts_(b, t->deferrable ? " DEFERRABLE" : " NOT DEFERRABLE");
        if (t->chain)
            puts_(b, " AND CHAIN");
        break;
    }
    case STMT_SET:
        puts_(b, s->u.set->local ? "SET LOCAL " : "SET ");
        puts_(b, s->u.set->name);
        puts_(b, " TO ");
        if (s->u.set->is_default)
            puts_(b, "DEFAULT");
        else
            exprs(b, s->u.set->values);
        break;
    case STMT_SHOW:
    case STMT_RESET:
        puts_(b, s->kind == STMT_SHOW ? "SHOW " : "RESET ");
        puts_(b, s->u.show->name);
        break;
    case STMT_EXPLAIN:
        puts_(b, "EXPLAIN ");
        if (s->u.explain->options) {
            defs(b, s->u.explain->options);
            put(b, " ", 1);
        } else {
            if (s->u.explain->analyze)
                puts_(b, "ANALYZE ");
            if (s->u.explain->verbose)
                puts_(b, "VERBOSE ");
        }
        stmt(b, s->u.explain->stmt);
        break;
    case STMT_COPY: {
        const sql_copy *c = s->u.copy;
        puts_(b, "COPY ");
        if (c->query) {
            put(b, "(", 1);
            stmt(b, c->query);
            put(b, ")", 1);
        } else {
            qname(b, c->table);
        }
        if (c->cols) {
            puts_(b, " (");
            names(b, c->cols);
            put(b, ")", 1);
        }
        puts_(b, c->is_from ? " FROM " : " TO ");
        if (c->stdio)
            puts_(b, c->is_from ? "STDIN" : "STDOUT");
        else
            strlit(b, c->filename);
        if (c->options) {
            puts_(b, " WITH ");
            defs(b, c->options);
        }
        break;
    }
    case STMT_VACUUM: {
        const sql_vacuum *v = s->u.vacuum;
        puts_(b, v->is_analyze ? "ANALYZE" : "VACUUM");
        if (v->options) {
            put(b, " ", 1);
            defs(b, v->options);
        }
        if (v->full)
            puts_(b, " FULL");
        if (v->freeze)
            puts_(b, " FREEZE");
        if (v->verbose)
            puts_(b, " VERBOSE");
        if (v->analyze && !v->is_analyze)
            puts_(b, " ANALYZE");
        if (v->tables) {
            put(b, " ", 1);
            qnames(b, v->tables);
        }
        break;
    }
    case STMT_CREATE_DATABASE:
    case STMT_CREATE_SCHEMA:
        puts_(b, s->kind == STMT_CREATE_DATABASE ? "CREATE DATABASE " : "CREATE SCHEMA ");
        if (s->u.create_db->if_not_exists)
            puts_(b, "IF NOT EXISTS ");
        ident(b, s->u.create_db->name);
        if (s->u.create_db->options) {
            puts_(b, " WITH ");
            defs(b, s->u.create_db->options);
        }
        break;
    }
}

static char *finish(pbuf *b)
{
    if (b->oom) {
        free(b->p);
        return NULL;
    }
    if (!b->p)
        return dcm_calloc(1, 1);
    return b->p;
}

char *sql_stmt_to_string(const sql_stmt *s)
{
    pbuf b = {0};
    stmt(&b, s);
    return finish(&b);
}

char *sql_expr_to_string(const sql_expr *e)
{
    pbuf b = {0};
    expr(&b, e);
    return finish(&b);
}
