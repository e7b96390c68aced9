/*
 * sql/parser.c - hand-written recursive-descent parser for the PostgreSQL
 * dialect (see parser.h).
 *
 * Expression precedence follows PostgreSQL 15's gram.y, lowest first:
 *   OR < AND < NOT < IS, ISNULL, NOTNULL < comparison (< > = <= >= <>)
 *   < BETWEEN, IN, LIKE, ILIKE, SIMILAR < ESCAPE < other operators
 *   < + - < * / % < ^ < AT TIME ZONE < COLLATE < unary minus < [] < ::
 * Each level is one function below (parse_or ... parse_postfix).  Nodes go
 * to the parse's arena; every function returns NULL after an error, which
 * is recorded once in p->err (the first error wins).
 */
#include "sql/parser.h"

#include <stdlib.h>
#include <string.h>

typedef struct parser {
    sql_arena *a;
    const char *src;
    sql_token *t;
    size_t nt, i;
    dc_error *err;
    bool failed;
    int depth;
} parser;

/* ---- keywords ------------------------------------------------------------ */

static sql_token *cur(parser *p) { return &p->t[p->i]; }
static sql_token *peek(parser *p, size_t k)
{
    size_t j = p->i + k;
    return j < p->nt ? &p->t[j] : &p->t[p->nt - 1];
}

static bool tok_kw(const sql_token *t, const char *kw)
{
    return t->kind == TK_IDENT && !t->quoted && strcmp(t->text, kw) == 0;
}
static bool is_kw(parser *p, const char *kw) { return tok_kw(cur(p), kw); }
static bool is_punct(parser *p, char c)
{
    return cur(p)->kind == TK_PUNCT && cur(p)->text[0] == c && cur(p)->text[1] == 0;
}
static bool tok_punct(const sql_token *t, char c)
{
    return t->kind == TK_PUNCT && t->text[0] == c && t->text[1] == 0;
}
static bool is_op(parser *p, const char *op)
{
    return cur(p)->kind == TK_OP && strcmp(cur(p)->text, op) == 0;
}
static bool tok_reserved(const sql_token *t)
{
    return t->kind == TK_IDENT && !t->quoted && sql_keyword_category(t->text) == SQL_KW_RESERVED;
}
static bool tok_typefunc(const sql_token *t)
{
    return t->kind == TK_IDENT && !t->quoted && sql_keyword_category(t->text) == SQL_KW_TYPE_FUNC;
}

/* ---- errors -------------------------------------------------------------- */
static void *syntax_error_at(parser *p, const sql_token *t)
{
    if (p->failed)
        return NULL;
    p->failed = true;
    if (t->kind == TK_EOF) {
        dc_error_set(p->err, DC_EINVAL, "42601", "syntax error at end of input");
    } else {
        int n = t->len > 400 ? 400 : (int)t->len;
        dc_error_set(p->err, DC_EINVAL, "42601", "syntax error at or near \"%.*s\"", n,
                     p->src + t->off);
    }
    if (p->err)
        p->err->position = t->pos;
    return NULL;
}
static void *syntax_error(parser *p) { return syntax_error_at(p, cur(p)); }

static void *nomem(parser *p)
{
    if (!p->failed) {
        p->failed = true;
        dc_error_set(p->err, DC_ENOMEM, DC_SQLSTATE_OOM, "out of memory");
    }
    return NULL;
}

static bool enter(parser *p)
{
    if (++p->depth > SQL_MAX_DEPTH) {
        if (!p->failed) {
            p->failed = true;
            dc_error_set(p->err, DC_EINVAL, "54001", "stack depth limit exceeded");
            dc_error_hint(p->err, "The statement nests expressions or queries too deeply.");
        }
        return false;
    }
    return true;
}
static void leave(parser *p) { p->depth--; }

static void *alloc(parser *p, size_t n)
{
    void *r = sql_arena_alloc(p->a, n);
    if (!r)
        nomem(p);
    return r;
}
static char *pstrdup(parser *p, const char *s)
{
    char *r = sql_arena_strndup(p->a, s, strlen(s));
    if (!r)
        nomem(p);
    return r;
}
static bool push(parser *p, sql_list **l, void *x)
{
    if (!x)
        return false;
    if (!sql_list_push(p->a, l, x)) {
        nomem(p);
        return false;
    }
    return true;
}

static bool accept_kw(parser *p, const char *kw)
{
    if (is_kw(p, kw)) {
        p->i++;
        return true;
    }
    return false;
}
static bool accept_punct(parser *p, char c)
{
    if (is_punct(p, c)) {
        p->i++;
        return true;
    }
    return false;
}
static bool expect_kw(parser *p, const char *kw)
{
    if (accept_kw(p, kw))
        return true;
    syntax_error(p);
    return false;
}
static bool expect_punct(parser *p, char c)
{
    if (accept_punct(p, c))
        return true;
    syntax_error(p);
    return false;
}

/* ColId: an identifier that is not a reserved or type/function keyword. */
static bool is_colid(const sql_token *t)
{
    return t->kind == TK_IDENT && !tok_reserved(t) && !tok_typefunc(t);
}
static char *parse_colid(parser *p)
{
    if (!is_colid(cur(p)))
        return syntax_error(p);
    return p->t[p->i++].text;
}
/* ColLabel: any identifier or keyword. */
static char *parse_collabel(parser *p)
{
    if (cur(p)->kind != TK_IDENT)
        return syntax_error(p);
    return p->t[p->i++].text;
}

/* qualified name: ColId ('.' ColLabel)* */
static sql_qname *parse_qname(parser *p)
{
    sql_qname *q = alloc(p, sizeof *q);
    if (!q)
        return NULL;
    q->pos = cur(p)->pos;
    char *parts[8];
    int n = 0;
    if (!(parts[n++] = parse_colid(p)))
        return NULL;
    while (is_punct(p, '.') && peek(p, 1)->kind == TK_IDENT) {
        if (n == 8)
            return syntax_error(p);
        p->i++;
        parts[n++] = p->t[p->i++].text;
    }
    q->parts = alloc(p, sizeof(char *) * (size_t)n);
    if (!q->parts)
        return NULL;
    memcpy(q->parts, parts, sizeof(char *) * (size_t)n);
    q->nparts = n;
    return q;
}

static sql_qname *qname1(parser *p, const char *s, int pos)
{
    sql_qname *q = alloc(p, sizeof *q);
    if (!q)
        return NULL;
    q->parts = alloc(p, sizeof(char *));
    if (!q->parts)
        return NULL;
    q->parts[0] = pstrdup(p, s);
    q->nparts = 1;
    q->pos = pos;
    return q->parts[0] ? q : NULL;
}

/* '(' ColId, ... ')' */
static sql_list *parse_name_list_parens(parser *p)
{
    sql_list *l = NULL;
    if (!expect_punct(p, '('))
        return NULL;
    do {
        if (!push(p, &l, parse_colid(p)))
            return NULL;
    } while (accept_punct(p, ','));
    if (!expect_punct(p, ')'))
        return NULL;
    return l;
}

/* ---- types --------------------------------------------------------------- */
static int32_t int_const(parser *p)
{
    if (cur(p)->kind != TK_INTEGER || cur(p)->ival < 0 || cur(p)->ival > 0x7fffffff) {
        syntax_error(p);
        return -1;
    }
    return (int32_t)p->t[p->i++].ival;
}

static bool parse_type_mods(parser *p, sql_typename *t, int max)
{
    if (!is_punct(p, '('))
        return true;
    p->i++;
    do {
        if (t->nmods == max) {
            syntax_error(p);
            return false;
        }
        int32_t v = int_const(p);
        if (v < 0)
            return false;
        t->mods[t->nmods++] = v;
    } while (accept_punct(p, ','));
    return expect_punct(p, ')');
}

static void set_type(sql_typename *t, const char *name, uint32_t oid)
{
    t->name = (char *)name;
    t->oid = oid;
}

/* Parse a type name (see the list in ast.h) with modifiers and [] . */
static sql_typename *parse_typename(parser *p)
{
    sql_typename *t = alloc(p, sizeof *t);
    if (!t)
        return NULL;
    t->pos = cur(p)->pos;
    t->typmod = -1;
    sql_token *k = cur(p);
    if (k->kind != TK_IDENT)
        return syntax_error(p);
    bool setof = false;
    (void)setof;
    const char *w = k->quoted ? "" : k->text;
    bool zone_ok = false;
    if (!strcmp(w, "int") || !strcmp(w, "integer") || !strcmp(w, "int4")) {
        p->i++;
        set_type(t, "int4", 23);
    } else if (!strcmp(w, "smallint") || !strcmp(w, "int2")) {
        p->i++;
        set_type(t, "int2", 21);
    } else if (!strcmp(w, "bigint") || !strcmp(w, "int8")) {
        p->i++;
        set_type(t, "int8", 20);
    } else if (!strcmp(w, "real") || !strcmp(w, "float4")) {
        p->i++;
        set_type(t, "float4", 700);
    } else if (!strcmp(w, "double") && tok_kw(peek(p, 1), "precision")) {
        p->i += 2;
        set_type(t, "float8", 701);
    } else if (!strcmp(w, "float8")) {
        p->i++;
        set_type(t, "float8", 701);
    } else if (!strcmp(w, "float")) {
        p->i++;
        set_type(t, "float8", 701);
        if (accept_punct(p, '(')) {
            int32_t v = int_const(p);
            if (v < 0 || !expect_punct(p, ')'))
                return NULL;
            if (v < 1 || v > 53) {
                p->failed = true;
                dc_error_set(p->err, DC_EINVAL, "22023", "precision for type float must be %s",
                             v < 1 ? "at least 1 bit" : "less than 54 bits");
                return NULL;
            }
            if (v <= 24)
                set_type(t, "float4", 700);
        }
    } else if (!strcmp(w, "numeric") || !strcmp(w, "decimal") || !strcmp(w, "dec")) {
        p->i++;
        set_type(t, "numeric", 1700);
        if (!parse_type_mods(p, t, 2))
            return NULL;
        if (t->nmods >= 1)
            t->typmod = ((t->mods[0] << 16) | (t->nmods == 2 ? t->mods[1] : 0)) + 4;
    } else if (!strcmp(w, "boolean") || !strcmp(w, "bool")) {
        p->i++;
        set_type(t, "bool", 16);
    } else if (!strcmp(w, "varchar") ||
               ((!strcmp(w, "character") || !strcmp(w, "char")) && tok_kw(peek(p, 1), "varying"))) {
        p->i += strcmp(w, "varchar") ? 2 : 1;
        set_type(t, "varchar", 1043);
        if (!parse_type_mods(p, t, 1))
            return NULL;
        if (t->nmods)
            t->typmod = t->mods[0] + 4;
    } else if (!strcmp(w, "character") || !strcmp(w, "char")) {
        p->i++;
        set_type(t, "bpchar", 1042);
        if (!parse_type_mods(p, t, 1))
            return NULL;
        if (!t->nmods)
            t->mods[t->nmods++] = 1;
        t->typmod = t->mods[0] + 4;
    } else if (!strcmp(w, "bpchar")) {
        p->i++;
        set_type(t, "bpchar", 1042);
        if (!parse_type_mods(p, t, 1))
            return NULL;
        if (t->nmods)
            t->typmod = t->mods[0] + 4;
    } else if (!strcmp(w, "timestamp") || !strcmp(w, "time")) {
        bool ts = w[4] == 's';
        p->i++;
        set_type(t, ts ? "timestamp" : "time", ts ? 1114 : 1083);
        if (!parse_type_mods(p, t, 1))
            return NULL;
        if (t->nmods)
            t->typmod = t->mods[0];
        zone_ok = true;
    } else if (!strcmp(w, "timestamptz")) {
        p->i++;
        set_type(t, "timestamptz", 1184);
        if (!parse_type_mods(p, t, 1))
            return NULL;
        if (t->nmods)
            t->typmod = t->mods[0];
    } else {
        static const struct { const char *n; uint32_t oid; } simple[] = {
            {"text", 25}, {"bytea", 17}, {"date", 1082}, {"name", 19},
            {"oid", 26}, {"regclass", 2205}, {"regtype", 2206},
            {"regproc", 24}, {"interval", 1186}, {"json", 114},
            {"jsonb", 3802}, {"uuid", 2950}, {"timetz", 1266}, {NULL, 0}};
        sql_qname *q = parse_qname(p);
        if (!q)
            return NULL;
        const char *last = q->parts[q->nparts - 1];
        if (q->nparts == 1 || (q->nparts == 2 && !strcmp(q->parts[0], "pg_catalog"))) {
            for (int j = 0; simple[j].n; j++)
                if (!strcmp(last, simple[j].n))
                    set_type(t, simple[j].n, simple[j].oid);
            if (!t->name && q->nparts == 2) {
                /* pg_catalog.int4 and friends: canonical names again */
                static const struct { const char *n; uint32_t oid; } more[] = {
                    {"int2", 21}, {"int4", 23}, {"int8", 20}, {"float4", 700},
                    {"float8", 701}, {"numeric", 1700}, {"bool", 16},
                    {"varchar", 1043}, {"bpchar", 1042}, {"timestamp", 1114},
                    {"timestamptz", 1184}, {NULL, 0}};
                for (int j = 0; more[j].n; j++)
                    if (!strcmp(last, more[j].n))
                        set_type(t, more[j].n, more[j].oid);
            }
        }
        if (!t->name) {
            t->name = (char *)last;
            if (q->nparts > 1)
                t->qual = q;
        }
        if (!parse_type_mods(p, t, 2))
            return NULL;
        if (t->oid == 1043 || t->oid == 1042) {
            if (t->nmods)
                t->typmod = t->mods[0] + 4;
        } else if (t->oid == 1700 && t->nmods) {
            t->typmod = ((t->mods[0] << 16) | (t->nmods == 2 ? t->mods[1] : 0)) + 4;
        }
    }
    if (zone_ok) {
        if (is_kw(p, "with") && tok_kw(peek(p, 1), "time") && tok_kw(peek(p, 2), "zone")) {
            p->i += 3;
            if (t->oid == 1114)
                set_type(t, "timestamptz", 1184);
            else
                set_type(t, "timetz", 1266);
        } else if (is_kw(p, "without") && tok_kw(peek(p, 1), "time") &&
                   tok_kw(peek(p, 2), "zone")) {
            p->i += 3;
        }
    }
    for (;;) {
        if (is_punct(p, '[')) {
            p->i++;
            if (cur(p)->kind == TK_INTEGER)
                p->i++;
            if (!expect_punct(p, ']'))
                return NULL;
            t->array_dims++;
        } else if (is_kw(p, "array")) {
            p->i++;
            if (accept_punct(p, '[')) {
                if (int_const(p) < 0 || !expect_punct(p, ']'))
                    return NULL;
            }
            t->array_dims++;
        } else {
            break;
        }
    }
    return t;
}

/* ---- expressions --------------------------------------------------------- */
static sql_expr *parse_expr(parser *p);
static sql_expr *parse_other(parser *p);
static sql_expr *parse_addsub(parser *p);
static sql_expr *parse_cmp(parser *p);
static sql_expr *parse_unary(parser *p);
static sql_select *parse_select(parser *p);
static sql_select *parse_select_after(parser *p, sql_select *left);
static sql_list *parse_sort_list(parser *p);

static sql_expr *mk(parser *p, sql_expr_kind k, int pos)
{
    sql_expr *e = alloc(p, sizeof *e);
    if (e) {
        e->kind = k;
        e->pos = pos;
    }
    return e;
}

static sql_expr *mk_op(parser *p, const char *name, sql_qname *schema, sql_expr *l,
                       sql_expr *r, int pos)
{
    if (!r || p->failed)
        return NULL;
    sql_expr *e = mk(p, EXPR_OP, pos);
    if (!e)
        return NULL;
    e->u.op.name = (char *)name;
    e->u.op.schema = schema;
    e->u.op.left = l;
    e->u.op.right = r;
    return e;
}

static sql_expr *mk_string(parser *p, const char *s, int pos)
{
    sql_expr *e = mk(p, EXPR_CONST, pos);
    if (!e)
        return NULL;
    e->u.c.kind = CONST_STRING;
    e->u.c.s = (char *)s;
    return e;
}

static sql_expr *mk_func(parser *p, const char *name, int pos)
{
    sql_expr *e = mk(p, EXPR_FUNC, pos);
    if (!e)
        return NULL;
    e->u.func.name = qname1(p, name, pos);
    return e->u.func.name ? e : NULL;
}

/* Does a query start at the current token (after any number of '(')? */
static bool select_starts_at(parser *p, size_t k)
{
    while (tok_punct(peek(p, k), '('))
        k++;
    const sql_token *t = peek(p, k);
    return tok_kw(t, "select") || tok_kw(t, "values") || tok_kw(t, "with") ||
           tok_kw(t, "table");
}

/* '(' query ')' -- the opening parenthesis is the current token. */
static sql_select *parse_subquery_parens(parser *p)
{
    if (!expect_punct(p, '('))
        return NULL;
    sql_select *s = parse_select(p);
    if (!s || !expect_punct(p, ')'))
        return NULL;
    return s;
}

static sql_list *parse_expr_list(parser *p)
{
    sql_list *l = NULL;
    do {
        if (!push(p, &l, parse_expr(p)))
            return NULL;
    } while (accept_punct(p, ','));
    return l;
}

/* Operator classes by precedence level. */
typedef enum { OPC_NONE, OPC_CMP, OPC_ADD, OPC_MUL, OPC_POW, OPC_OTHER } opclass;
static opclass op_class(const sql_token *t)
{
    if (t->kind == TK_IDENT && tok_kw(t, "operator"))
        return OPC_OTHER;
    if (t->kind != TK_OP)
        return OPC_NONE;
    const char *s = t->text;
    if (!strcmp(s, "<") || !strcmp(s, ">") || !strcmp(s, "=") || !strcmp(s, "<=") ||
        !strcmp(s, ">=") || !strcmp(s, "<>"))
        return OPC_CMP;
    if (!strcmp(s, "+") || !strcmp(s, "-"))
        return OPC_ADD;
    if (!strcmp(s, "*") || !strcmp(s, "/") || !strcmp(s, "%"))
        return OPC_MUL;
    if (!strcmp(s, "^"))
        return OPC_POW;
    return OPC_OTHER;
}

/* Consume an operator token (or OPERATOR(schema.op)) */
static bool parse_operator(parser *p, char **name, sql_qname **schema)
{
    *schema = NULL;
    if (is_kw(p, "operator") && tok_punct(peek(p, 1), '(')) {
        p->i += 2;
        sql_qname *q = alloc(p, sizeof *q);
        if (!q)
            return false;
        q->pos = cur(p)->pos;
        char *parts[4];
        int n = 0;
        while (cur(p)->kind == TK_IDENT && tok_punct(peek(p, 1), '.') && n < 4) {
            parts[n++] = cur(p)->text;
            p->i += 2;
        }
        if (cur(p)->kind != TK_OP) {
            syntax_error(p);
            return false;
        }
        *name = p->t[p->i++].text;
        if (!expect_punct(p, ')'))
            return false;
        if (n) {
            q->parts = alloc(p, sizeof(char *) * (size_t)n);
            if (!q->parts)
                return false;
            memcpy(q->parts, parts, sizeof(char *) * (size_t)n);
            q->nparts = n;
            *schema = q;
        }
        return true;
    }
    if (cur(p)->kind != TK_OP) {
        syntax_error(p);
        return false;
    }
    *name = p->t[p->i++].text;
    return true;
}

/* Right operand of a binary operator: ANY/ALL/SOME (...) or `next`. */
static sql_expr *parse_rhs(parser *p, sql_expr *left, char *op, sql_qname *schema, int pos,
                           sql_expr *(*next)(parser *))
{
    if (!left)
        return NULL;
    if ((is_kw(p, "any") || is_kw(p, "some") || is_kw(p, "all")) && tok_punct(peek(p, 1), '(')) {
        sql_expr *e = mk(p, EXPR_QUANT, pos);
        if (!e)
            return NULL;
        e->u.quant.all = is_kw(p, "all");
        e->u.quant.op = op;
        e->u.quant.schema = schema;
        e->u.quant.left = left;
        p->i++;
        if (select_starts_at(p, 1)) {
            /* may still be an expression like ((select x) + 1) */
            size_t save = p->i;
            p->i++;
            if (tok_kw(cur(p), "select") || tok_kw(cur(p), "values") || tok_kw(cur(p), "with") ||
                tok_kw(cur(p), "table")) {
                p->i = save;
                if (!(e->u.quant.subquery = parse_subquery_parens(p)))
                    return NULL;
                return e;
            }
            p->i = save;
        }
        if (!expect_punct(p, '('))
            return NULL;
        if (!(e->u.quant.array = parse_expr(p)) || !expect_punct(p, ')'))
            return NULL;
        return e;
    }
    sql_expr *r = next(p);
    return mk_op(p, op, schema, left, r, pos);
}

static sql_expr *parse_or(parser *p);

static sql_expr *parse_expr(parser *p)
{
    if (!enter(p))
        return NULL;
    sql_expr *e = parse_or(p);
    leave(p);
    return p->failed ? NULL : e;
}

static sql_expr *parse_and(parser *p);
static sql_expr *parse_not(parser *p);

static sql_expr *parse_bool_chain(parser *p, const char *kw, sql_expr_kind kind,
                                  sql_expr *(*next)(parser *))
{
    int pos = cur(p)->pos;
    sql_expr *l = next(p);
    if (!l || !is_kw(p, kw))
        return l;
    sql_expr *e = mk(p, kind, pos);
    if (!e || !push(p, &e->u.args, l))
        return NULL;
    while (accept_kw(p, kw))
        if (!push(p, &e->u.args, next(p)))
            return NULL;
    return e;
}
static sql_expr *parse_or(parser *p) { return parse_bool_chain(p, "or", EXPR_OR, parse_and); }
static sql_expr *parse_and(parser *p) { return parse_bool_chain(p, "and", EXPR_AND, parse_not); }

static sql_expr *parse_is(parser *p);
static sql_expr *parse_not(parser *p)
{
    if (is_kw(p, "not")) {
        int pos = cur(p)->pos;
        p->i++;
        if (!enter(p))
            return NULL;
        sql_expr *a = parse_not(p);
        leave(p);
        if (!a)
            return NULL;
        sql_expr *e = mk(p, EXPR_NOT, pos);
        if (e)
            e->u.un.arg = a;
        return e;
    }
    return parse_is(p);
}

static sql_expr *parse_is(parser *p)
{
    sql_expr *l = parse_cmp(p);
    while (l) {
        int pos = cur(p)->pos;
        if (is_kw(p, "isnull") || is_kw(p, "notnull")) {
            sql_expr *e = mk(p, EXPR_NULLTEST, pos);
            if (!e)
                return NULL;
            e->u.un.arg = l;
            e->u.un.negated = is_kw(p, "notnull");
            p->i++;
            l = e;
            continue;
        }
        if (!is_kw(p, "is"))
            break;
        p->i++;
        bool neg = accept_kw(p, "not");
        sql_expr *e;
        if (accept_kw(p, "null")) {
            e = mk(p, EXPR_NULLTEST, pos);
        } else if (is_kw(p, "true") || is_kw(p, "false") || is_kw(p, "unknown")) {
            e = mk(p, EXPR_BOOLTEST, pos);
            if (e)
                e->u.un.test = is_kw(p, "true") ? BT_TRUE : is_kw(p, "false") ? BT_FALSE : BT_UNKNOWN;
            p->i++;
        } else if (is_kw(p, "distinct") && tok_kw(peek(p, 1), "from")) {
            p->i += 2;
            sql_expr *r = parse_cmp(p);
            if (!r)
                return NULL;
            e = mk(p, EXPR_DISTINCT, pos);
            if (!e)
                return NULL;
            e->u.distinct.left = l;
            e->u.distinct.right = r;
            e->u.distinct.negated = neg;
            l = e;
            continue;
        } else {
            return syntax_error(p);
        }
        if (!e)
            return NULL;
        e->u.un.arg = l;
        e->u.un.negated = neg;
        l = e;
    }
    return l;
}

static sql_expr *parse_pattern(parser *p);
static sql_expr *parse_cmp(parser *p)
{
    sql_expr *l = parse_pattern(p);
    if (!l || op_class(cur(p)) != OPC_CMP)
        return l;
    int pos = cur(p)->pos;
    char *op;
    sql_qname *schema;
    if (!parse_operator(p, &op, &schema))
        return NULL;
    l = parse_rhs(p, l, op, schema, pos, parse_pattern);
    if (l && op_class(cur(p)) == OPC_CMP) /* non-associative */
        return syntax_error(p);
    return l;
}

static bool pattern_next(parser *p)
{
    size_t k = is_kw(p, "not") ? 1 : 0;
    const sql_token *t = peek(p, k);
    return tok_kw(t, "between") || tok_kw(t, "in") || tok_kw(t, "like") || tok_kw(t, "ilike") ||
           (tok_kw(t, "similar") && tok_kw(peek(p, k + 1), "to"));
}

static sql_expr *parse_pattern_one(parser *p, sql_expr *l);
static sql_expr *parse_pattern(parser *p)
{
    sql_expr *l = parse_other(p);
    while (l && pattern_next(p)) {
        l = parse_pattern_one(p, l);
        /* only IN chains (a IN (..) IN (..)); the others are non-associative */
        if (l && l->kind != EXPR_IN && pattern_next(p))
            return syntax_error(p);
    }
    return l;
}

static sql_expr *parse_pattern_one(parser *p, sql_expr *l)
{
    int pos = cur(p)->pos;
    bool neg = accept_kw(p, "not");
    sql_expr *e;
    if (accept_kw(p, "between")) {
        e = mk(p, EXPR_BETWEEN, pos);
        if (!e)
            return NULL;
        if (accept_kw(p, "symmetric"))
            e->u.between.symmetric = true;
        else
            accept_kw(p, "asymmetric");
        e->u.between.arg = l;
        e->u.between.negated = neg;
        if (!(e->u.between.lo = parse_other(p)) || !expect_kw(p, "and") ||
            !(e->u.between.hi = parse_other(p)))
            return NULL;
    } else if (accept_kw(p, "in")) {
        e = mk(p, EXPR_IN, pos);
        if (!e)
            return NULL;
        e->u.in.arg = l;
        e->u.in.negated = neg;
        if (!is_punct(p, '('))
            return syntax_error(p);
        const sql_token *t1 = peek(p, 1);
        if (tok_kw(t1, "select") || tok_kw(t1, "values") || tok_kw(t1, "with") ||
            tok_kw(t1, "table")) {
            if (!(e->u.in.subquery = parse_subquery_parens(p)))
                return NULL;
        } else {
            p->i++;
            if (!(e->u.in.list = parse_expr_list(p)) || !expect_punct(p, ')'))
                return NULL;
            /* IN ((select ...)) is a subquery too */
            sql_expr *only = e->u.in.list->items[0];
            if (e->u.in.list->len == 1 && only->kind == EXPR_SUBLINK &&
                only->u.sublink.kind == SUBLINK_EXPR) {
                e->u.in.subquery = only->u.sublink.subquery;
                e->u.in.list = NULL;
            }
        }
    } else {
        e = mk(p, EXPR_LIKE, pos);
        if (!e)
            return NULL;
        if (accept_kw(p, "like"))
            e->u.like.kind = LIKE_LIKE;
        else if (accept_kw(p, "ilike"))
            e->u.like.kind = LIKE_ILIKE;
        else {
            p->i += 2;
            e->u.like.kind = LIKE_SIMILAR;
        }
        e->u.like.arg = l;
        e->u.like.negated = neg;
        if (!(e->u.like.pattern = parse_other(p)))
            return NULL;
        if (accept_kw(p, "escape") && !(e->u.like.escape = parse_other(p)))
            return NULL;
    }
    return e;
}

static sql_expr *parse_other(parser *p)
{
    sql_expr *l = parse_addsub(p);
    while (l && op_class(cur(p)) == OPC_OTHER) {
        int pos = cur(p)->pos;
        char *op;
        sql_qname *schema;
        if (!parse_operator(p, &op, &schema))
            return NULL;
        l = parse_rhs(p, l, op, schema, pos, parse_addsub);
    }
    return l;
}

static sql_expr *parse_mul(parser *p);
static sql_expr *parse_pow(parser *p);
static sql_expr *parse_at(parser *p);

static sql_expr *parse_binary_level(parser *p, opclass oc, sql_expr *(*next)(parser *))
{
    sql_expr *l = next(p);
    while (l && op_class(cur(p)) == oc) {
        int pos = cur(p)->pos;
        char *op = p->t[p->i++].text;
        l = parse_rhs(p, l, op, NULL, pos, next);
    }
    return l;
}
static sql_expr *parse_addsub(parser *p) { return parse_binary_level(p, OPC_ADD, parse_mul); }
static sql_expr *parse_mul(parser *p) { return parse_binary_level(p, OPC_MUL, parse_pow); }
static sql_expr *parse_pow(parser *p) { return parse_binary_level(p, OPC_POW, parse_at); }

static sql_expr *parse_collate(parser *p)
{
    sql_expr *l = parse_unary(p);
    while (l && is_kw(p, "collate")) {
        int pos = cur(p)->pos;
        p->i++;
        sql_expr *e = mk(p, EXPR_COLLATE, pos);
        if (!e)
            return NULL;
        e->u.collate.arg = l;
        /* any name, "quoted" or pg_catalog.default */
        sql_qname *q = alloc(p, sizeof *q);
        if (!q)
            return NULL;
        q->pos = cur(p)->pos;
        char *parts[4];
        int n = 0;
        do {
            if (cur(p)->kind != TK_IDENT || n == 4)
                return syntax_error(p);
            parts[n++] = p->t[p->i++].text;
        } while (accept_punct(p, '.'));
        q->parts = alloc(p, sizeof(char *) * (size_t)n);
        if (!q->parts)
            return NULL;
        memcpy(q->parts, parts, sizeof(char *) * (size_t)n);
        q->nparts = n;
        e->u.collate.name = q;
        l = e;
    }
    return l;
}

static sql_expr *parse_at(parser *p)
{
    sql_expr *l = parse_collate(p);
    while (l && is_kw(p, "at") && tok_kw(peek(p, 1), "time") && tok_kw(peek(p, 2), "zone")) {
        int pos = cur(p)->pos;
        p->i += 3;
        sql_expr *e = mk(p, EXPR_AT_TIME_ZONE, pos);
        if (!e)
            return NULL;
        e->u.un.arg = l;
        if (!(e->u.un.other = parse_collate(p)))
            return NULL;
        l = e;
    }
    return l;
}

static sql_expr *parse_postfix(parser *p);
static sql_expr *parse_unary(parser *p)
{
    int pos = cur(p)->pos;
    opclass oc = op_class(cur(p));
    if (oc == OPC_ADD || oc == OPC_OTHER || oc == OPC_CMP || oc == OPC_MUL || oc == OPC_POW) {
        bool minus = is_op(p, "-"), plus = is_op(p, "+");
        if (oc != OPC_ADD && oc != OPC_OTHER)
            return syntax_error(p);
        char *op;
        sql_qname *schema;
        if (!parse_operator(p, &op, &schema))
            return NULL;
        if (!enter(p))
            return NULL;
        sql_expr *a = (minus || plus) ? parse_unary(p) : parse_addsub(p);
        leave(p);
        if (!a)
            return NULL;
        if (minus && a->kind == EXPR_CONST &&
            (a->u.c.kind == CONST_INT || a->u.c.kind == CONST_NUMERIC)) {
            /* fold -constant as PostgreSQL's doNegate does */
            a->pos = pos;
            if (a->u.c.kind == CONST_INT) {
                a->u.c.i = -a->u.c.i;
                return a;
            }
            if (!strcmp(a->u.c.s, "9223372036854775808")) {
                a->u.c.kind = CONST_INT;
                a->u.c.i = INT64_MIN;
                return a;
            }
            size_t n = strlen(a->u.c.s);
            char *s = alloc(p, n + 2);
            if (!s)
                return NULL;
            if (a->u.c.s[0] == '-') {
                memcpy(s, a->u.c.s + 1, n);
            } else {
                s[0] = '-';
                memcpy(s + 1, a->u.c.s, n + 1);
            }
            a->u.c.s = s;
            return a;
        }
        return mk_op(p, op, schema, NULL, a, pos);
    }
    return parse_postfix(p);
}

static sql_expr *parse_primary(parser *p);
static sql_expr *parse_postfix(parser *p)
{
    sql_expr *e = parse_primary(p);
    while (e) {
        int pos = cur(p)->pos;
        if (cur(p)->kind == TK_TYPECAST) {
            p->i++;
            sql_expr *c = mk(p, EXPR_CAST, pos);
            if (!c || !(c->u.cast.type = parse_typename(p)))
                return NULL;
            c->u.cast.arg = e;
            e = c;
        } else if (is_punct(p, '[')) {
            p->i++;
            sql_expr *s = mk(p, EXPR_SUBSCRIPT, pos);
            if (!s)
                return NULL;
            s->u.sub.arg = e;
            if (!is_punct(p, ':') && !(s->u.sub.lo = parse_expr(p)))
                return NULL;
            if (accept_punct(p, ':')) {
                s->u.sub.slice = true;
                if (!is_punct(p, ']') && !(s->u.sub.hi = parse_expr(p)))
                    return NULL;
            } else if (!s->u.sub.lo) {
                return syntax_error(p);
            }
            if (!expect_punct(p, ']'))
                return NULL;
            e = s;
        } else {
            break;
        }
    }
    return e;
}

/* UNBOUNDED PRECEDING | CURRENT ROW | expr PRECEDING | ... */
static bool parse_frame_bound(parser *p, sql_frame_bound *b)
{
    if (is_kw(p, "unbounded")) {
        p->i++;
        if (accept_kw(p, "preceding"))
            b->kind = FRAME_UNBOUNDED_PRECEDING;
        else if (expect_kw(p, "following"))
            b->kind = FRAME_UNBOUNDED_FOLLOWING;
        else
            return false;
        return true;
    }
    if (is_kw(p, "current") && tok_kw(peek(p, 1), "row")) {
        p->i += 2;
        b->kind = FRAME_CURRENT_ROW;
        return true;
    }
    if (!(b->offset = parse_other(p)))
        return false;
    if (accept_kw(p, "preceding"))
        b->kind = FRAME_PRECEDING;
    else if (expect_kw(p, "following"))
        b->kind = FRAME_FOLLOWING;
    else
        return false;
    return true;
}

/* After name '(': arguments of a function call up to and with ')'. */
static sql_expr *parse_func_args(parser *p, sql_expr *f)
{
    if (accept_punct(p, ')'))
        goto after;
    if (is_op(p, "*") && tok_punct(peek(p, 1), ')')) {
        p->i += 2;
        f->u.func.star = true;
        goto after;
    }
    if (accept_kw(p, "distinct"))
        f->u.func.distinct = true;
    else
        accept_kw(p, "all");
    accept_kw(p, "variadic");
    if (!(f->u.func.args = parse_expr_list(p)))
        return NULL;
    if (is_kw(p, "order") && tok_kw(peek(p, 1), "by")) {
        p->i += 2;
        if (!(f->u.func.order_by = parse_sort_list(p)))
            return NULL;
    }
    if (!expect_punct(p, ')'))
        return NULL;
after:
    if (is_kw(p, "filter") && tok_punct(peek(p, 1), '(')) {
        p->i += 2;
        if (!expect_kw(p, "where") || !(f->u.func.filter = parse_expr(p)) || !expect_punct(p, ')'))
            return NULL;
    }
    if (is_kw(p, "within"))
        return syntax_error(p); /* WITHIN GROUP: not supported */
    if (accept_kw(p, "over")) {
        sql_window *w = alloc(p, sizeof *w);
        if (!w)
            return NULL;
        f->u.func.over = w;
        if (!is_punct(p, '(')) {
            if (!(w->refname = parse_colid(p)))
                return NULL;
            return f;
        }
        p->i++;
        if (is_colid(cur(p)) && !is_kw(p, "partition") && !is_kw(p, "rows") &&
            !is_kw(p, "range") && !is_kw(p, "groups"))
            w->refname = p->t[p->i++].text;
        if (is_kw(p, "partition") && tok_kw(peek(p, 1), "by")) {
            p->i += 2;
            if (!(w->partition_by = parse_expr_list(p)))
                return NULL;
        }
        if (is_kw(p, "order") && tok_kw(peek(p, 1), "by")) {
            p->i += 2;
            if (!(w->order_by = parse_sort_list(p)))
                return NULL;
        }
        if (is_kw(p, "rows") || is_kw(p, "range") || is_kw(p, "groups")) {
            w->mode = is_kw(p, "rows") ? FRAMEMODE_ROWS : is_kw(p, "range") ? FRAMEMODE_RANGE
                                                                          : FRAMEMODE_GROUPS;
            p->i++;
            bool between = accept_kw(p, "between");
            if (!parse_frame_bound(p, &w->start))
                return NULL;
            if (between && (!expect_kw(p, "and") || !parse_frame_bound(p, &w->end)))
                return NULL;
            if (is_kw(p, "exclude"))
                return syntax_error(p);
        }
        if (!expect_punct(p, ')'))
            return NULL;
    }
    return f;
}

static sql_expr *parse_special_func(parser *p, const char *w, int pos)
{
    /* the current token is '(' after the keyword w */
    p->i++;
    if (!strcmp(w, "cast")) {
        sql_expr *e = mk(p, EXPR_CAST, pos);
        if (!e || !(e->u.cast.arg = parse_expr(p)) || !expect_kw(p, "as") ||
            !(e->u.cast.type = parse_typename(p)) || !expect_punct(p, ')'))
            return NULL;
        return e;
    }
    if (!strcmp(w, "coalesce") || !strcmp(w, "greatest") || !strcmp(w, "least") ||
        !strcmp(w, "nullif")) {
        sql_expr *f = mk_func(p, w, pos);
        if (!f || !(f->u.func.args = parse_expr_list(p)) || !expect_punct(p, ')'))
            return NULL;
        if (!strcmp(w, "nullif") && f->u.func.args->len != 2)
            return syntax_error_at(p, &p->t[p->i - 1]);
        return f;
    }
    if (!strcmp(w, "extract")) {
        sql_expr *f = mk_func(p, "extract", pos);
        if (!f)
            return NULL;
        sql_expr *field;
        if (cur(p)->kind == TK_IDENT)
            field = mk_string(p, cur(p)->text, cur(p)->pos);
        else if (cur(p)->kind == TK_STRING)
            field = mk_string(p, cur(p)->text, cur(p)->pos);
        else
            return syntax_error(p);
        p->i++;
        if (!push(p, &f->u.func.args, field) || !expect_kw(p, "from") ||
            !push(p, &f->u.func.args, parse_expr(p)) || !expect_punct(p, ')'))
            return NULL;
        return f;
    }
    if (!strcmp(w, "position")) {
        sql_expr *f = mk_func(p, "position", pos);
        if (!f)
            return NULL;
        sql_expr *needle = parse_other(p);
        if (!needle || !expect_kw(p, "in"))
            return NULL;
        sql_expr *hay = parse_other(p);
        if (!push(p, &f->u.func.args, hay) || !push(p, &f->u.func.args, needle) ||
            !expect_punct(p, ')'))
            return NULL;
        return f;
    }
    if (!strcmp(w, "substring")) {
        sql_expr *f = mk_func(p, "substring", pos);
        if (!f || !push(p, &f->u.func.args, parse_expr(p)))
            return NULL;
        if (accept_punct(p, ',')) {
            sql_list *rest = parse_expr_list(p);
            if (!rest)
                return NULL;
            for (size_t k = 0; k < rest->len; k++)
                if (!push(p, &f->u.func.args, rest->items[k]))
                    return NULL;
        } else {
            sql_expr *from = NULL, *for_ = NULL;
            for (int k = 0; k < 2; k++) {
                if (!from && accept_kw(p, "from")) {
                    if (!(from = parse_expr(p)))
                        return NULL;
                } else if (!for_ && accept_kw(p, "for")) {
                    if (!(for_ = parse_expr(p)))
                        return NULL;
                }
            }
            if (!from && for_) {
                from = mk(p, EXPR_CONST, pos);
                if (!from)
                    return NULL;
                from->u.c.kind = CONST_INT;
                from->u.c.i = 1;
            }
            if (from && !push(p, &f->u.func.args, from))
                return NULL;
            if (for_ && !push(p, &f->u.func.args, for_))
                return NULL;
        }
        if (!expect_punct(p, ')'))
            return NULL;
        return f;
    }
    if (!strcmp(w, "trim")) {
        const char *fn = "btrim";
        if (accept_kw(p, "leading"))
            fn = "ltrim";
        else if (accept_kw(p, "trailing"))
            fn = "rtrim";
        else
            accept_kw(p, "both");
        sql_expr *f = mk_func(p, fn, pos);
        if (!f)
            return NULL;
        if (accept_kw(p, "from")) {
            if (!(f->u.func.args = parse_expr_list(p)))
                return NULL;
        } else {
            sql_expr *first = parse_expr(p);
            if (!first)
                return NULL;
            if (accept_kw(p, "from")) {
                if (!(f->u.func.args = parse_expr_list(p)) || !push(p, &f->u.func.args, first))
                    return NULL;
            } else {
                if (!push(p, &f->u.func.args, first))
                    return NULL;
                while (accept_punct(p, ','))
                    if (!push(p, &f->u.func.args, parse_expr(p)))
                        return NULL;
            }
        }
        if (!expect_punct(p, ')'))
            return NULL;
        return f;
    }
    if (!strcmp(w, "overlay")) {
        sql_expr *f = mk_func(p, "overlay", pos);
        if (!f || !push(p, &f->u.func.args, parse_expr(p)))
            return NULL;
        if (accept_punct(p, ',')) {
            sql_list *rest = parse_expr_list(p);
            if (!rest)
                return NULL;
            for (size_t k = 0; k < rest->len; k++)
                if (!push(p, &f->u.func.args, rest->items[k]))
                    return NULL;
        } else {
            if (!expect_kw(p, "placing") || !push(p, &f->u.func.args, parse_expr(p)) ||
                !expect_kw(p, "from") || !push(p, &f->u.func.args, parse_expr(p)))
                return NULL;
            if (accept_kw(p, "for") && !push(p, &f->u.func.args, parse_expr(p)))
                return NULL;
        }
        if (!expect_punct(p, ')'))
            return NULL;
        return f;
    }
    return syntax_error(p);
}

static const struct {
    const char *kw;
    sql_sqlvalue v;
    bool precision;
} sqlvalues[] = {
    {"current_date", SV_CURRENT_DATE, false},
    {"current_time", SV_CURRENT_TIME, true},
    {"current_timestamp", SV_CURRENT_TIMESTAMP, true},
    {"localtime", SV_LOCALTIME, true},
    {"localtimestamp", SV_LOCALTIMESTAMP, true},
    {"current_user", SV_CURRENT_USER, false},
    {"current_role", SV_CURRENT_ROLE, false},
    {"session_user", SV_SESSION_USER, false},
    {"user", SV_USER, false},
    {"current_catalog", SV_CURRENT_CATALOG, false},
    {"current_schema", SV_CURRENT_SCHEMA, false},
};

static sql_expr *parse_case(parser *p, int pos)
{
    sql_expr *e = mk(p, EXPR_CASE, pos);
    if (!e)
        return NULL;
    if (!is_kw(p, "when") && !(e->u.kase.arg = parse_expr(p)))
        return NULL;
    if (!is_kw(p, "when"))
        return syntax_error(p);
    while (accept_kw(p, "when")) {
        sql_when *w = alloc(p, sizeof *w);
        if (!w || !(w->when = parse_expr(p)) || !expect_kw(p, "then") ||
            !(w->then = parse_expr(p)) || !push(p, &e->u.kase.whens, w))
            return NULL;
    }
    if (accept_kw(p, "else") && !(e->u.kase.els = parse_expr(p)))
        return NULL;
    if (!expect_kw(p, "end"))
        return NULL;
    return e;
}

/* ARRAY[...] element list, nested [..] allowed; '[' is current. */
static sql_expr *parse_array_brackets(parser *p, int pos)
{
    if (!enter(p))
        return NULL;
    p->i++;
    sql_expr *e = mk(p, EXPR_ARRAY, pos);
    if (!e)
        return NULL;
    if (!is_punct(p, ']')) {
        do {
            sql_expr *x = is_punct(p, '[') ? parse_array_brackets(p, cur(p)->pos) : parse_expr(p);
            if (!push(p, &e->u.list, x))
                return NULL;
        } while (accept_punct(p, ','));
    }
    leave(p);
    if (!expect_punct(p, ']'))
        return NULL;
    return e;
}

/* Is the current ident a type name that may start a typed literal? */
static sql_expr *try_typed_literal(parser *p)
{
    sql_token *t = cur(p);
    if (t->kind != TK_IDENT || t->quoted)
        return NULL;
    size_t save = p->i;
    bool multi = (tok_kw(t, "double") && tok_kw(peek(p, 1), "precision")) ||
                 ((tok_kw(t, "character") || tok_kw(t, "char")) && tok_kw(peek(p, 1), "varying")) ||
                 ((tok_kw(t, "timestamp") || tok_kw(t, "time")) &&
                  (tok_kw(peek(p, 1), "with") || tok_kw(peek(p, 1), "without")));
    bool simple = peek(p, 1)->kind == TK_STRING && !tok_reserved(t);
    bool modded = (tok_kw(t, "timestamp") || tok_kw(t, "time") || tok_kw(t, "varchar") ||
                   tok_kw(t, "numeric")) && tok_punct(peek(p, 1), '(');
    if (!multi && !simple && !modded)
        return NULL;
    if (modded) {
        /* timestamp(3) '...': only when a string follows the ')' */
        size_t k = 1;
        while (!tok_punct(peek(p, k), ')') && peek(p, k)->kind != TK_EOF && k < 8)
            k++;
        if (peek(p, k + 1)->kind != TK_STRING)
            return NULL;
    }
    sql_typename *ty = parse_typename(p);
    if (!ty)
        return NULL;
    if (cur(p)->kind != TK_STRING) {
        if (multi)
            return syntax_error(p);
        p->i = save;
        return NULL;
    }
    sql_expr *e = mk(p, EXPR_CAST, t->pos);
    if (!e)
        return NULL;
    e->u.cast.type = ty;
    e->u.cast.arg = mk_string(p, cur(p)->text, cur(p)->pos);
    p->i++;
    /* interval '1' day and similar qualifiers are not supported */
    return e->u.cast.arg ? e : NULL;
}

static sql_expr *parse_primary(parser *p)
{
    sql_token *t = cur(p);
    int pos = t->pos;
    sql_expr *e;
    switch (t->kind) {
    case TK_INTEGER:
        if (!(e = mk(p, EXPR_CONST, pos)))
            return NULL;
        e->u.c.kind = CONST_INT;
        e->u.c.i = t->ival;
        p->i++;
        return e;
    case TK_NUMERIC:
        if (!(e = mk(p, EXPR_CONST, pos)))
            return NULL;
        e->u.c.kind = CONST_NUMERIC;
        e->u.c.s = t->text;
        p->i++;
        return e;
    case TK_STRING:
        p->i++;
        return mk_string(p, t->text, pos);
    case TK_BITSTR:
        if (!(e = mk(p, EXPR_CONST, pos)))
            return NULL;
        e->u.c.kind = CONST_BITSTR;
        e->u.c.s = t->text;
        p->i++;
        return e;
    case TK_PARAM:
        if (!(e = mk(p, EXPR_PARAM, pos)))
            return NULL;
        e->u.param = (int)t->ival;
        p->i++;
        return e;
    case TK_PUNCT:
        if (t->text[0] == '(' && t->text[1] == 0) {
            if (!enter(p))
                return NULL;
            const sql_token *t1 = peek(p, 1);
            if (tok_kw(t1, "select") || tok_kw(t1, "values") || tok_kw(t1, "with") ||
                tok_kw(t1, "table")) {
                sql_select *s = parse_subquery_parens(p);
                leave(p);
                if (!s || !(e = mk(p, EXPR_SUBLINK, pos)))
                    return NULL;
                e->u.sublink.kind = SUBLINK_EXPR;
                e->u.sublink.subquery = s;
                return e;
            }
            p->i++;
            e = parse_expr(p);
            if (!e)
                return NULL;
            if (e->kind == EXPR_SUBLINK && e->u.sublink.kind == SUBLINK_EXPR &&
                (is_kw(p, "union") || is_kw(p, "intersect") || is_kw(p, "except") ||
                 is_kw(p, "order") || is_kw(p, "limit") || is_kw(p, "offset") ||
                 is_kw(p, "fetch"))) {
                /* ((select 1) union (select 2)) */
                sql_select *s = parse_select_after(p, e->u.sublink.subquery);
                if (!s)
                    return NULL;
                e->u.sublink.subquery = s;
            } else if (is_punct(p, ',')) {
                sql_expr *r = mk(p, EXPR_ROW, pos);
                if (!r || !push(p, &r->u.list, e))
                    return NULL;
                while (accept_punct(p, ','))
                    if (!push(p, &r->u.list, parse_expr(p)))
                        return NULL;
                e = r;
            }
            leave(p);
            if (!expect_punct(p, ')'))
                return NULL;
            return e;
        }
        return syntax_error(p);
    case TK_IDENT:
        break;
    default:
        return syntax_error(p);
    }
    /* identifiers and keywords */
    const char *w = t->quoted ? "" : t->text;
    if (!strcmp(w, "null") || !strcmp(w, "true") || !strcmp(w, "false")) {
        if (!(e = mk(p, EXPR_CONST, pos)))
            return NULL;
        e->u.c.kind = w[0] == 'n' ? CONST_NULL : CONST_BOOL;
        e->u.c.b = w[0] == 't';
        p->i++;
        return e;
    }
    if (!strcmp(w, "default")) {
        p->i++;
        return mk(p, EXPR_DEFAULT, pos);
    }
    if (!strcmp(w, "case")) {
        p->i++;
        return parse_case(p, pos);
    }
    if (!strcmp(w, "exists") && tok_punct(peek(p, 1), '(')) {
        p->i++;
        sql_select *s = parse_subquery_parens(p);
        if (!s || !(e = mk(p, EXPR_SUBLINK, pos)))
            return NULL;
        e->u.sublink.kind = SUBLINK_EXISTS;
        e->u.sublink.subquery = s;
        return e;
    }
    if (!strcmp(w, "array")) {
        p->i++;
        if (is_punct(p, '['))
            return parse_array_brackets(p, pos);
        if (is_punct(p, '(')) {
            sql_select *s = parse_subquery_parens(p);
            if (!s || !(e = mk(p, EXPR_SUBLINK, pos)))
                return NULL;
            e->u.sublink.kind = SUBLINK_ARRAY;
            e->u.sublink.subquery = s;
            return e;
        }
        return syntax_error(p);
    }
    if (!strcmp(w, "row") && tok_punct(peek(p, 1), '(')) {
        p->i += 2;
        if (!(e = mk(p, EXPR_ROW, pos)))
            return NULL;
        if (!accept_punct(p, ')')) {
            if (!(e->u.list = parse_expr_list(p)) || !expect_punct(p, ')'))
                return NULL;
        }
        return e;
    }
    if (tok_punct(peek(p, 1), '(') &&
        (!strcmp(w, "cast") || !strcmp(w, "coalesce") || !strcmp(w, "greatest") ||
         !strcmp(w, "least") || !strcmp(w, "nullif") || !strcmp(w, "extract") ||
         !strcmp(w, "position") || !strcmp(w, "substring") || !strcmp(w, "trim") ||
         !strcmp(w, "overlay"))) {
        p->i++;
        return parse_special_func(p, w, pos);
    }
    for (size_t k = 0; k < sizeof sqlvalues / sizeof sqlvalues[0]; k++) {
        if (strcmp(w, sqlvalues[k].kw))
            continue;
        p->i++;
        if (!(e = mk(p, EXPR_SQLVALUE, pos)))
            return NULL;
        e->u.sv.what = sqlvalues[k].v;
        e->u.sv.precision = -1;
        if (sqlvalues[k].v == SV_CURRENT_SCHEMA && is_punct(p, '(') &&
            tok_punct(peek(p, 1), ')')) {
            p->i += 2; /* current_schema() */
        } else if (sqlvalues[k].precision && accept_punct(p, '(')) {
            if ((e->u.sv.precision = int_const(p)) < 0 || !expect_punct(p, ')'))
                return NULL;
        }
        return e;
    }
    sql_expr *lit = try_typed_literal(p);
    if (lit || p->failed)
        return lit;
    if (tok_reserved(t))
        return syntax_error(p);
    /* column reference or function call */
    char *names[8];
    int n = 0;
    bool star = false;
    names[n++] = t->text;
    p->i++;
    while (is_punct(p, '.')) {
        sql_token *nx = peek(p, 1);
        if (nx->kind == TK_OP && !strcmp(nx->text, "*")) {
            p->i += 2;
            star = true;
            break;
        }
        if (nx->kind != TK_IDENT || n == 8)
            return syntax_error_at(p, nx);
        names[n++] = nx->text;
        p->i += 2;
    }
    if (!star && is_punct(p, '(')) {
        p->i++;
        if (!(e = mk(p, EXPR_FUNC, pos)))
            return NULL;
        sql_qname *q = alloc(p, sizeof *q);
        if (!q || !(q->parts = alloc(p, sizeof(char *) * (size_t)n)))
            return NULL;
        memcpy(q->parts, names, sizeof(char *) * (size_t)n);
        q->nparts = n;
        q->pos = pos;
        e->u.func.name = q;
        if (!enter(p))
            return NULL;
        e = parse_func_args(p, e);
        leave(p);
        return e;
    }
    if (tok_typefunc(t) && n == 1)
        return syntax_error_at(p, t);
    if (!(e = mk(p, EXPR_COLUMN, pos)))
        return NULL;
    e->u.col.names = alloc(p, sizeof(char *) * (size_t)n);
    if (!e->u.col.names)
        return NULL;
    memcpy(e->u.col.names, names, sizeof(char *) * (size_t)n);
    e->u.col.nnames = n;
    e->u.col.star = star;
    return e;
}

/* ---- SELECT -------------------------------------------------------------- */
static sql_list *parse_sort_list(parser *p)
{
    sql_list *l = NULL;
    do {
        sql_sortby *s = alloc(p, sizeof *s);
        if (!s || !(s->expr = parse_expr(p)))
            return NULL;
        if (accept_kw(p, "asc"))
            s->dir = SORT_ASC;
        else if (accept_kw(p, "desc"))
            s->dir = SORT_DESC;
        else if (is_kw(p, "using"))
            return syntax_error(p);
        if (accept_kw(p, "nulls")) {
            if (accept_kw(p, "first"))
                s->nulls = NULLS_FIRST;
            else if (accept_kw(p, "last"))
                s->nulls = NULLS_LAST;
            else
                return syntax_error(p);
        }
        if (!push(p, &l, s))
            return NULL;
    } while (accept_punct(p, ','));
    return l;
}

static sql_alias *parse_opt_alias(parser *p, bool allow_cols)
{
    bool as = accept_kw(p, "as");
    if (!as && !is_colid(cur(p)))
        return NULL;
    if (as && cur(p)->kind != TK_IDENT)
        return syntax_error(p);
    sql_alias *a = alloc(p, sizeof *a);
    if (!a)
        return NULL;
    a->name = as ? parse_collabel(p) : parse_colid(p);
    if (!a->name)
        return NULL;
    if (allow_cols && is_punct(p, '(') && !(a->cols = parse_name_list_parens(p)))
        return NULL;
    return a;
}

static sql_from *parse_table_ref(parser *p);

static sql_from *parse_from_primary(parser *p)
{
    int pos = cur(p)->pos;
    sql_from *f = alloc(p, sizeof *f);
    if (!f)
        return NULL;
    f->pos = pos;
    if (accept_kw(p, "lateral"))
        f->lateral = true;
    if (is_punct(p, '(')) {
        if (!enter(p))
            return NULL;
        if (select_starts_at(p, 1)) {
            f->kind = FROM_SUBQUERY;
            if (!(f->subquery = parse_subquery_parens(p)))
                return NULL;
        } else {
            p->i++;
            sql_from *j = parse_table_ref(p);
            if (!j || !expect_punct(p, ')'))
                return NULL;
            leave(p);
            if (is_kw(p, "as") || is_colid(cur(p))) {
                if (!(j->alias = parse_opt_alias(p, true)) && p->failed)
                    return NULL;
            }
            return j;
        }
        leave(p);
    } else {
        if (accept_kw(p, "only"))
            f->only = true;
        sql_qname *q = parse_qname(p);
        if (!q)
            return NULL;
        if (is_punct(p, '(')) {
            p->i++;
            f->kind = FROM_FUNCTION;
            sql_expr *fn = mk(p, EXPR_FUNC, pos);
            if (!fn)
                return NULL;
            fn->u.func.name = q;
            if (!(f->func = parse_func_args(p, fn)))
                return NULL;
        } else {
            f->kind = FROM_TABLE;
            f->table = q;
        }
    }
    f->alias = parse_opt_alias(p, true);
    if (p->failed)
        return NULL;
    if (f->kind == FROM_SUBQUERY && !f->alias) {
        /* PostgreSQL 15 requires an alias for a subquery in FROM */
        p->failed = true;
        dc_error_set(p->err, DC_EINVAL, "42601", "subquery in FROM must have an alias");
        dc_error_hint(p->err, "For example, FROM (SELECT ...) [AS] foo.");
        if (p->err)
            p->err->position = pos;
        return NULL;
    }
    return f;
}

static sql_from *parse_table_ref(parser *p)
{
    sql_from *l = parse_from_primary(p);
    while (l) {
        int pos = cur(p)->pos;
        bool natural = false;
        sql_join_kind k;
        if (is_kw(p, "cross") && tok_kw(peek(p, 1), "join")) {
            p->i += 2;
            k = JOIN_CROSS;
        } else {
            size_t save = p->i;
            natural = accept_kw(p, "natural");
            if (accept_kw(p, "join") || (accept_kw(p, "inner") && expect_kw(p, "join"))) {
                k = JOIN_INNER;
            } else if (is_kw(p, "left") || is_kw(p, "right") || is_kw(p, "full")) {
                k = is_kw(p, "left") ? JOIN_LEFT : is_kw(p, "right") ? JOIN_RIGHT : JOIN_FULL;
                p->i++;
                accept_kw(p, "outer");
                if (!expect_kw(p, "join"))
                    return NULL;
            } else {
                if (p->failed)
                    return NULL;
                if (natural)
                    return syntax_error(p);
                p->i = save;
                break;
            }
        }
        sql_from *j = alloc(p, sizeof *j);
        if (!j)
            return NULL;
        j->kind = FROM_JOIN;
        j->pos = pos;
        j->join.kind = k;
        j->join.natural = natural;
        j->join.left = l;
        if (!enter(p))
            return NULL;
        j->join.right = parse_from_primary(p);
        leave(p);
        if (!j->join.right)
            return NULL;
        if (k != JOIN_CROSS && !natural) {
            if (accept_kw(p, "on")) {
                if (!(j->join.on = parse_expr(p)))
                    return NULL;
            } else if (accept_kw(p, "using")) {
                if (!(j->join.using_cols = parse_name_list_parens(p)))
                    return NULL;
            } else {
                return syntax_error(p);
            }
        }
        l = j;
    }
    return l;
}

static sql_list *parse_from_list(parser *p)
{
    sql_list *l = NULL;
    do {
        if (!push(p, &l, parse_table_ref(p)))
            return NULL;
    } while (accept_punct(p, ','));
    return l;
}

static sql_list *parse_target_list(parser *p)
{
    sql_list *l = NULL;
    do {
        sql_target *t = alloc(p, sizeof *t);
        if (!t)
            return NULL;
        t->pos = cur(p)->pos;
        if (is_op(p, "*")) {
            if (!(t->expr = mk(p, EXPR_COLUMN, t->pos)))
                return NULL;
            t->expr->u.col.star = true;
            p->i++;
        } else {
            if (!(t->expr = parse_expr(p)))
                return NULL;
            if (accept_kw(p, "as")) {
                if (!(t->alias = parse_collabel(p)))
                    return NULL;
            } else if (cur(p)->kind == TK_IDENT && !tok_reserved(cur(p)) &&
                       !tok_typefunc(cur(p))) {
                t->alias = p->t[p->i++].text;
            }
        }
        if (!push(p, &l, t))
            return NULL;
    } while (accept_punct(p, ','));
    return l;
}

static sql_select *new_select(parser *p, sql_select_op op, int pos)
{
    sql_select *s = alloc(p, sizeof *s);
    if (s) {
        s->op = op;
        s->pos = pos;
    }
    return s;
}

static sql_select *parse_simple_select(parser *p)
{
    int pos = cur(p)->pos;
    if (is_punct(p, '(')) {
        if (!enter(p))
            return NULL;
        p->i++;
        sql_select *s = parse_select(p);
        leave(p);
        if (!s || !expect_punct(p, ')'))
            return NULL;
        return s;
    }
    if (accept_kw(p, "values")) {
        sql_select *s = new_select(p, SELECT_VALUES, pos);
        if (!s)
            return NULL;
        do {
            sql_list *row;
            if (!expect_punct(p, '(') || !(row = parse_expr_list(p)) || !expect_punct(p, ')') ||
                !push(p, &s->values, row))
                return NULL;
        } while (accept_punct(p, ','));
        return s;
    }
    if (accept_kw(p, "table")) {
        sql_select *s = new_select(p, SELECT_SIMPLE, pos);
        sql_target *t = alloc(p, sizeof *t);
        sql_from *f = alloc(p, sizeof *f);
        if (!s || !t || !f || !(t->expr = mk(p, EXPR_COLUMN, pos)))
            return NULL;
        t->expr->u.col.star = true;
        f->kind = FROM_TABLE;
        f->pos = cur(p)->pos;
        if (!(f->table = parse_qname(p)) || !push(p, &s->targets, t) || !push(p, &s->from, f))
            return NULL;
        return s;
    }
    if (!expect_kw(p, "select"))
        return NULL;
    sql_select *s = new_select(p, SELECT_SIMPLE, pos);
    if (!s)
        return NULL;
    if (accept_kw(p, "distinct")) {
        s->distinct = true;
        if (accept_kw(p, "on")) {
            if (!expect_punct(p, '(') || !(s->distinct_on = parse_expr_list(p)) ||
                !expect_punct(p, ')'))
                return NULL;
        }
    } else {
        accept_kw(p, "all");
    }
    /* an empty target list is allowed: SELECT FROM t */
    if (!is_kw(p, "from") && !is_kw(p, "where") && !is_punct(p, ';') && !is_punct(p, ')') &&
        cur(p)->kind != TK_EOF && !is_kw(p, "union") && !is_kw(p, "intersect") &&
        !is_kw(p, "except") && !is_kw(p, "order") && !is_kw(p, "limit") && !is_kw(p, "group")) {
        if (!(s->targets = parse_target_list(p)))
            return NULL;
    }
    if (is_kw(p, "into"))
        return syntax_error(p); /* SELECT INTO: not supported */
    if (accept_kw(p, "from") && !(s->from = parse_from_list(p)))
        return NULL;
    if (accept_kw(p, "where") && !(s->where = parse_expr(p)))
        return NULL;
    if (is_kw(p, "group")) {
        p->i++;
        if (!expect_kw(p, "by"))
            return NULL;
        accept_kw(p, "all");
        if (!(s->group_by = parse_expr_list(p)))
            return NULL;
    }
    if (accept_kw(p, "having") && !(s->having = parse_expr(p)))
        return NULL;
    if (is_kw(p, "window"))
        return syntax_error(p);
    return s;
}

static sql_select *parse_intersect(parser *p)
{
    sql_select *l = parse_simple_select(p);
    while (l && is_kw(p, "intersect")) {
        int pos = cur(p)->pos;
        p->i++;
        sql_select *s = new_select(p, SELECT_INTERSECT, pos);
        if (!s)
            return NULL;
        if (accept_kw(p, "all"))
            s->all = true;
        else
            accept_kw(p, "distinct");
        s->larg = l;
        if (!(s->rarg = parse_simple_select(p)))
            return NULL;
        l = s;
    }
    return l;
}

/* Set operations and the ORDER BY / LIMIT tail, given the first operand. */
static sql_select *parse_setops_from(parser *p, sql_select *l)
{
    while (l && (is_kw(p, "intersect") || is_kw(p, "union") || is_kw(p, "except"))) {
        int pos = cur(p)->pos;
        bool inter = is_kw(p, "intersect");
        sql_select_op op = inter ? SELECT_INTERSECT : is_kw(p, "union") ? SELECT_UNION : SELECT_EXCEPT;
        p->i++;
        sql_select *s = new_select(p, op, pos);
        if (!s)
            return NULL;
        if (accept_kw(p, "all"))
            s->all = true;
        else
            accept_kw(p, "distinct");
        s->larg = l;
        if (!(s->rarg = inter ? parse_simple_select(p) : parse_intersect(p)))
            return NULL;
        l = s;
    }
    return l;
}

static sql_select *parse_select_tail(parser *p, sql_select *s)
{
    if (!s)
        return NULL;
    if (is_kw(p, "order") && tok_kw(peek(p, 1), "by")) {
        if (s->order_by)
            return syntax_error(p);
        p->i += 2;
        if (!(s->order_by = parse_sort_list(p)))
            return NULL;
    }
    for (int k = 0; k < 3; k++) {
        if (accept_kw(p, "limit")) {
            if (s->limit)
                return syntax_error_at(p, &p->t[p->i - 1]);
            if (accept_kw(p, "all"))
                continue;
            if (!(s->limit = parse_expr(p)))
                return NULL;
        } else if (accept_kw(p, "offset")) {
            if (s->offset)
                return syntax_error_at(p, &p->t[p->i - 1]);
            if (!(s->offset = parse_expr(p)))
                return NULL;
            if (!accept_kw(p, "rows"))
                accept_kw(p, "row");
        } else if (accept_kw(p, "fetch")) {
            if (!accept_kw(p, "first") && !expect_kw(p, "next"))
                return NULL;
            if (!is_kw(p, "row") && !is_kw(p, "rows")) {
                if (!(s->limit = parse_unary(p)))
                    return NULL;
            } else {
                if (!(s->limit = mk(p, EXPR_CONST, cur(p)->pos)))
                    return NULL;
                s->limit->u.c.kind = CONST_INT;
                s->limit->u.c.i = 1;
            }
            if (!accept_kw(p, "rows") && !expect_kw(p, "row"))
                return NULL;
            if (!expect_kw(p, "only"))
                return NULL;
        }
    }
    if (is_kw(p, "for") &&
        (tok_kw(peek(p, 1), "update") || tok_kw(peek(p, 1), "share") ||
         tok_kw(peek(p, 1), "no") || tok_kw(peek(p, 1), "key"))) {
        p->i++;
        s->locking = 1;
        while (cur(p)->kind == TK_IDENT && !is_kw(p, "for") && !tok_reserved(cur(p)))
            p->i++;
        if (accept_kw(p, "of")) {
            while (cur(p)->kind == TK_IDENT || is_punct(p, ',') || is_punct(p, '.'))
                p->i++;
        }
    }
    return s;
}

static sql_select *parse_select_after(parser *p, sql_select *left)
{
    return parse_select_tail(p, parse_setops_from(p, left));
}

static struct sql_stmt *parse_stmt(parser *p);

static sql_list *parse_with(parser *p, bool *recursive)
{
    sql_list *l = NULL;
    *recursive = accept_kw(p, "recursive");
    do {
        sql_cte *c = alloc(p, sizeof *c);
        if (!c || !(c->name = parse_colid(p)))
            return NULL;
        c->materialized = -1;
        if (is_punct(p, '(') && !(c->cols = parse_name_list_parens(p)))
            return NULL;
        if (!expect_kw(p, "as"))
            return NULL;
        if (accept_kw(p, "materialized"))
            c->materialized = 1;
        else if (is_kw(p, "not") && tok_kw(peek(p, 1), "materialized")) {
            p->i += 2;
            c->materialized = 0;
        }
        if (!expect_punct(p, '('))
            return NULL;
        if (!enter(p) || !(c->stmt = parse_stmt(p)))
            return NULL;
        leave(p);
        if (!expect_punct(p, ')') || !push(p, &l, c))
            return NULL;
    } while (accept_punct(p, ','));
    return l;
}

static sql_select *parse_select(parser *p)
{
    if (!enter(p))
        return NULL;
    sql_list *with = NULL;
    bool rec = false;
    if (accept_kw(p, "with") && !(with = parse_with(p, &rec)))
        return NULL;
    sql_select *s = parse_select_after(p, parse_intersect(p));
    leave(p);
    if (!s)
        return NULL;
    if (with) {
        if (s->with) {
            p->failed = true;
            dc_error_set(p->err, DC_EINVAL, "42601", "multiple WITH clauses not allowed");
            return NULL;
        }
        s->with = with;
        s->recursive = rec;
    }
    return s;
}

/* ---- DML ----------------------------------------------------------------- */
static sql_list *parse_returning(parser *p)
{
    if (!accept_kw(p, "returning"))
        return NULL;
    return parse_target_list(p);
}

static sql_list *parse_set_list(parser *p)
{
    sql_list *l = NULL;
    do {
        sql_set_clause *c = alloc(p, sizeof *c);
        if (!c)
            return NULL;
        if (is_punct(p, '(')) {
            if (!(c->cols = parse_name_list_parens(p)))
                return NULL;
        } else {
            char *n = parse_colid(p);
            if (!push(p, &c->cols, n))
                return NULL;
            /* SET a.b = / a[1] = are not supported */
        }
        if (!is_op(p, "="))
            return syntax_error(p);
        p->i++;
        if (!(c->expr = parse_expr(p)) || !push(p, &l, c))
            return NULL;
    } while (accept_punct(p, ','));
    return l;
}

/* relation_expr_opt_alias: name [[AS] alias] */
static sql_qname *parse_target_table(parser *p, char **alias)
{
    accept_kw(p, "only");
    sql_qname *q = parse_qname(p);
    if (!q)
        return NULL;
    if (accept_kw(p, "as")) {
        if (!(*alias = parse_colid(p)))
            return NULL;
    } else if (is_colid(cur(p)) && !is_kw(p, "set")) {
        *alias = p->t[p->i++].text;
    }
    return q;
}

static struct sql_stmt *new_stmt(parser *p, sql_stmt_kind k, int pos)
{
    struct sql_stmt *s = alloc(p, sizeof *s);
    if (s) {
        s->kind = k;
        s->pos = pos;
    }
    return s;
}

static sql_stmt *parse_insert(parser *p, int pos, sql_list *with)
{
    sql_stmt *st = new_stmt(p, STMT_INSERT, pos);
    sql_insert *in = alloc(p, sizeof *in);
    if (!st || !in)
        return NULL;
    st->u.insert = in;
    in->with = with;
    if (!expect_kw(p, "into"))
        return NULL;
    if (!(in->table = parse_qname(p)))
        return NULL;
    if (accept_kw(p, "as") && !(in->alias = parse_colid(p)))
        return NULL;
    if (is_punct(p, '(') && !select_starts_at(p, 1)) {
        if (!(in->cols = parse_name_list_parens(p)))
            return NULL;
    }
    if (is_kw(p, "default") && tok_kw(peek(p, 1), "values")) {
        p->i += 2;
    } else if (!(in->source = parse_select(p))) {
        return NULL;
    }
    if (is_kw(p, "on") && tok_kw(peek(p, 1), "conflict")) {
        p->i += 2;
        in->conflict.present = true;
        if (is_punct(p, '(')) {
            p->i++;
            do {
                sql_expr *x = parse_expr(p);
                if (!x)
                    return NULL;
                if (x->kind != EXPR_COLUMN || x->u.col.nnames != 1)
                    return syntax_error(p);
                if (!push(p, &in->conflict.cols, x->u.col.names[0]))
                    return NULL;
            } while (accept_punct(p, ','));
            if (!expect_punct(p, ')'))
                return NULL;
        } else if (is_kw(p, "on") && tok_kw(peek(p, 1), "constraint")) {
            p->i += 2;
            if (!(in->conflict.constraint = parse_colid(p)))
                return NULL;
        }
        if (!expect_kw(p, "do"))
            return NULL;
        if (accept_kw(p, "nothing")) {
        } else if (accept_kw(p, "update")) {
            in->conflict.do_update = true;
            if (!expect_kw(p, "set") || !(in->conflict.set = parse_set_list(p)))
                return NULL;
            if (accept_kw(p, "where") && !(in->conflict.where = parse_expr(p)))
                return NULL;
        } else {
            return syntax_error(p);
        }
    }
    in->returning = parse_returning(p);
    return p->failed ? NULL : st;
}

static sql_stmt *parse_update(parser *p, int pos, sql_list *with)
{
    sql_stmt *st = new_stmt(p, STMT_UPDATE, pos);
    sql_update *u = alloc(p, sizeof *u);
    if (!st || !u)
        return NULL;
    st->u.update = u;
    u->with = with;
    if (!(u->table = parse_target_table(p, &u->alias)) || !expect_kw(p, "set") ||
        !(u->set = parse_set_list(p)))
        return NULL;
    if (accept_kw(p, "from") && !(u->from = parse_from_list(p)))
        return NULL;
    if (accept_kw(p, "where") && !(u->where = parse_expr(p)))
        return NULL;
    u->returning = parse_returning(p);
    return p->failed ? NULL : st;
}

static sql_stmt *parse_delete(parser *p, int pos, sql_list *with)
{
    sql_stmt *st = new_stmt(p, STMT_DELETE, pos);
    sql_delete *d = alloc(p, sizeof *d);
    if (!st || !d)
        return NULL;
    st->u.del = d;
    d->with = with;
    if (!expect_kw(p, "from") || !(d->table = parse_target_table(p, &d->alias)))
        return NULL;
    if (accept_kw(p, "using") && !(d->using_ = parse_from_list(p)))
        return NULL;
    if (accept_kw(p, "where") && !(d->where = parse_expr(p)))
        return NULL;
    d->returning = parse_returning(p);
    return p->failed ? NULL : st;
}

/* ---- DDL ----------------------------------------------------------------- */
static bool parse_if_not_exists(parser *p)
{
    if (is_kw(p, "if") && tok_kw(peek(p, 1), "not") && tok_kw(peek(p, 2), "exists")) {
        p->i += 3;
        return true;
    }
    return false;
}
static bool parse_if_exists(parser *p)
{
    if (is_kw(p, "if") && tok_kw(peek(p, 1), "exists")) {
        p->i += 2;
        return true;
    }
    return false;
}

/* A value in an option list: returns its text or NULL (absent). */
static char *parse_def_value(parser *p)
{
    sql_token *t = cur(p);
    if (t->kind == TK_STRING || t->kind == TK_INTEGER || t->kind == TK_NUMERIC ||
        (t->kind == TK_IDENT && !tok_reserved(t)) || tok_kw(t, "true") || tok_kw(t, "false") ||
        tok_kw(t, "on") || tok_kw(t, "default")) {
        p->i++;
        return t->text;
    }
    if (t->kind == TK_OP && (!strcmp(t->text, "-") || !strcmp(t->text, "+")) &&
        (peek(p, 1)->kind == TK_INTEGER || peek(p, 1)->kind == TK_NUMERIC)) {
        size_t n = strlen(peek(p, 1)->text);
        char *s = alloc(p, n + 2);
        if (!s)
            return NULL;
        s[0] = t->text[0];
        memcpy(s + 1, peek(p, 1)->text, n + 1);
        p->i += 2;
        return s;
    }
    return NULL;
}

/* '(' name [=] [value], ... ')' */
static sql_list *parse_def_list(parser *p, bool eq)
{
    sql_list *l = NULL;
    if (!expect_punct(p, '('))
        return NULL;
    do {
        sql_defelem *d = alloc(p, sizeof *d);
        if (!d || !(d->name = parse_collabel(p)))
            return NULL;
        while (accept_punct(p, '.')) { /* toast.autovacuum_enabled */
            char *n2 = parse_collabel(p);
            if (!n2)
                return NULL;
            size_t a = strlen(d->name), b = strlen(n2);
            char *s = alloc(p, a + b + 2);
            if (!s)
                return NULL;
            memcpy(s, d->name, a);
            s[a] = '.';
            memcpy(s + a + 1, n2, b + 1);
            d->name = s;
        }
        if (eq && is_op(p, "="))
            p->i++;
        if (is_punct(p, '(')) { /* force_quote (a, b) */
            p->i++;
            size_t start = cur(p)->off;
            while (!is_punct(p, ')') && cur(p)->kind != TK_EOF)
                p->i++;
            size_t end = cur(p)->off;
            if (!expect_punct(p, ')'))
                return NULL;
            d->value = sql_arena_strndup(p->a, p->src + start, end - start);
            if (!d->value)
                return nomem(p);
        } else if (is_op(p, "*")) {
            p->i++;
            d->value = pstrdup(p, "*");
        } else {
            d->value = parse_def_value(p);
        }
        if (p->failed || !push(p, &l, d))
            return NULL;
    } while (accept_punct(p, ','));
    if (!expect_punct(p, ')'))
        return NULL;
    return l;
}

static char *parse_ref_action(parser *p)
{
    if (accept_kw(p, "cascade"))
        return pstrdup(p, "cascade");
    if (accept_kw(p, "restrict"))
        return pstrdup(p, "restrict");
    if (is_kw(p, "no") && tok_kw(peek(p, 1), "action")) {
        p->i += 2;
        return pstrdup(p, "no action");
    }
    if (accept_kw(p, "set")) {
        if (accept_kw(p, "null"))
            return pstrdup(p, "set null");
        if (accept_kw(p, "default"))
            return pstrdup(p, "set default");
    }
    return syntax_error(p);
}

static bool parse_references(parser *p, sql_constraint *c)
{
    if (!(c->ref_table = parse_qname(p)))
        return false;
    if (is_punct(p, '(') && !(c->ref_cols = parse_name_list_parens(p)))
        return false;
    for (;;) {
        if (is_kw(p, "match")) {
            p->i++;
            if (!accept_kw(p, "full") && !accept_kw(p, "partial") && !expect_kw(p, "simple"))
                return false;
        } else if (is_kw(p, "on") && tok_kw(peek(p, 1), "delete")) {
            p->i += 2;
            if (!(c->on_delete = parse_ref_action(p)))
                return false;
        } else if (is_kw(p, "on") && tok_kw(peek(p, 1), "update")) {
            p->i += 2;
            if (!(c->on_update = parse_ref_action(p)))
                return false;
        } else {
            return true;
        }
    }
}

static void skip_constraint_attrs(parser *p)
{
    for (;;) {
        if (accept_kw(p, "deferrable") || (is_kw(p, "not") && tok_kw(peek(p, 1), "deferrable") &&
                                          (p->i += 2)))
            continue;
        if (is_kw(p, "initially") &&
            (tok_kw(peek(p, 1), "deferred") || tok_kw(peek(p, 1), "immediate"))) {
            p->i += 2;
            continue;
        }
        return;
    }
}

/* A table constraint (with optional CONSTRAINT name), or NULL + error. */
static sql_constraint *parse_table_constraint(parser *p)
{
    sql_constraint *c = alloc(p, sizeof *c);
    if (!c)
        return NULL;
    c->pos = cur(p)->pos;
    if (accept_kw(p, "constraint") && !(c->name = parse_colid(p)))
        return NULL;
    if (accept_kw(p, "primary")) {
        c->kind = CONS_PRIMARY;
        if (!expect_kw(p, "key") || !(c->cols = parse_name_list_parens(p)))
            return NULL;
    } else if (accept_kw(p, "unique")) {
        c->kind = CONS_UNIQUE;
        if (!(c->cols = parse_name_list_parens(p)))
            return NULL;
    } else if (accept_kw(p, "check")) {
        c->kind = CONS_CHECK;
        if (!expect_punct(p, '(') || !(c->expr = parse_expr(p)) || !expect_punct(p, ')'))
            return NULL;
    } else if (accept_kw(p, "foreign")) {
        c->kind = CONS_FOREIGN;
        if (!expect_kw(p, "key") || !(c->cols = parse_name_list_parens(p)) ||
            !expect_kw(p, "references") || !parse_references(p, c))
            return NULL;
    } else {
        return syntax_error(p);
    }
    skip_constraint_attrs(p);
    return c;
}

static sql_coldef *parse_coldef(parser *p)
{
    sql_coldef *d = alloc(p, sizeof *d);
    if (!d)
        return NULL;
    d->pos = cur(p)->pos;
    if (!(d->name = parse_colid(p)) || !(d->type = parse_typename(p)))
        return NULL;
    for (;;) {
        sql_constraint *c = alloc(p, sizeof *c);
        if (!c)
            return NULL;
        c->pos = cur(p)->pos;
        if (is_kw(p, "collate")) {
            p->i++;
            if (!(d->collate = parse_qname(p)))
                return NULL;
            continue;
        }
        if (accept_kw(p, "constraint") && !(c->name = parse_colid(p)))
            return NULL;
        if (is_kw(p, "not") && tok_kw(peek(p, 1), "null")) {
            p->i += 2;
            c->kind = CONS_NOT_NULL;
        } else if (accept_kw(p, "null")) {
            c->kind = CONS_NULL;
        } else if (accept_kw(p, "default")) {
            c->kind = CONS_DEFAULT;
            if (!(c->expr = parse_other(p)))
                return NULL;
        } else if (accept_kw(p, "primary")) {
            c->kind = CONS_PRIMARY;
            if (!expect_kw(p, "key"))
                return NULL;
        } else if (accept_kw(p, "unique")) {
            c->kind = CONS_UNIQUE;
        } else if (accept_kw(p, "check")) {
            c->kind = CONS_CHECK;
            if (!expect_punct(p, '(') || !(c->expr = parse_expr(p)) || !expect_punct(p, ')'))
                return NULL;
        } else if (accept_kw(p, "references")) {
            c->kind = CONS_FOREIGN;
            if (!parse_references(p, c))
                return NULL;
        } else if (c->name) {
            return syntax_error(p);
        } else {
            break;
        }
        skip_constraint_attrs(p);
        if (!push(p, &d->constraints, c))
            return NULL;
    }
    return d;
}

static bool starts_table_constraint(parser *p)
{
    return is_kw(p, "constraint") || is_kw(p, "primary") || is_kw(p, "unique") ||
           is_kw(p, "check") || is_kw(p, "foreign");
}

static sql_stmt *parse_create_table(parser *p, int pos, bool temp)
{
    sql_stmt *st = new_stmt(p, STMT_CREATE_TABLE, pos);
    sql_create_table *c = alloc(p, sizeof *c);
    if (!st || !c)
        return NULL;
    st->u.create_table = c;
    c->temporary = temp;
    c->if_not_exists = parse_if_not_exists(p);
    if (!(c->name = parse_qname(p)))
        return NULL;
    if (is_punct(p, '(') && !select_starts_at(p, 1)) {
        p->i++;
        if (!is_punct(p, ')')) {
            do {
                if (starts_table_constraint(p)) {
                    if (!push(p, &c->constraints, parse_table_constraint(p)))
                        return NULL;
                } else if (!push(p, &c->columns, parse_coldef(p))) {
                    return NULL;
                }
            } while (accept_punct(p, ','));
        }
        if (!expect_punct(p, ')'))
            return NULL;
        if (accept_kw(p, "with") && !(c->options = parse_def_list(p, true)))
            return NULL;
        if (is_kw(p, "as"))
            return syntax_error(p);
        return p->failed ? NULL : st;
    }
    if (accept_kw(p, "with") && !(c->options = parse_def_list(p, true)))
        return NULL;
    if (!expect_kw(p, "as"))
        return NULL;
    if (!(c->as_query = new_stmt(p, STMT_SELECT, cur(p)->pos)) ||
        !(c->as_query->u.select = parse_select(p)))
        return NULL;
    return st;
}

static sql_stmt *parse_create_index(parser *p, int pos, bool unique)
{
    sql_stmt *st = new_stmt(p, STMT_CREATE_INDEX, pos);
    sql_create_index *c = alloc(p, sizeof *c);
    if (!st || !c)
        return NULL;
    st->u.create_index = c;
    c->unique = unique;
    c->concurrently = accept_kw(p, "concurrently");
    c->if_not_exists = parse_if_not_exists(p);
    if (!is_kw(p, "on") && !(c->name = parse_colid(p)))
        return NULL;
    if (!expect_kw(p, "on"))
        return NULL;
    accept_kw(p, "only");
    if (!(c->table = parse_qname(p)))
        return NULL;
    if (accept_kw(p, "using") && !(c->method = parse_colid(p)))
        return NULL;
    if (!expect_punct(p, '('))
        return NULL;
    do {
        sql_sortby *s = alloc(p, sizeof *s);
        if (!s || !(s->expr = parse_expr(p)))
            return NULL;
        if (accept_kw(p, "asc"))
            s->dir = SORT_ASC;
        else if (accept_kw(p, "desc"))
            s->dir = SORT_DESC;
        if (accept_kw(p, "nulls")) {
            if (accept_kw(p, "first"))
                s->nulls = NULLS_FIRST;
            else if (expect_kw(p, "last"))
                s->nulls = NULLS_LAST;
            else
                return NULL;
        }
        if (!push(p, &c->items, s))
            return NULL;
    } while (accept_punct(p, ','));
    if (!expect_punct(p, ')'))
        return NULL;
    if (accept_kw(p, "where") && !(c->where = parse_expr(p)))
        return NULL;
    return st;
}

static sql_stmt *parse_create(parser *p, int pos)
{
    if (accept_kw(p, "table"))
        return parse_create_table(p, pos, false);
    if ((is_kw(p, "temp") || is_kw(p, "temporary") || is_kw(p, "unlogged")) &&
        tok_kw(peek(p, 1), "table")) {
        bool temp = !is_kw(p, "unlogged");
        p->i += 2;
        return parse_create_table(p, pos, temp);
    }
    if (accept_kw(p, "unique")) {
        if (!expect_kw(p, "index"))
            return NULL;
        return parse_create_index(p, pos, true);
    }
    if (accept_kw(p, "index"))
        return parse_create_index(p, pos, false);
    bool or_replace = false;
    if (is_kw(p, "or") && tok_kw(peek(p, 1), "replace")) {
        p->i += 2;
        or_replace = true;
        if (!is_kw(p, "view") && !is_kw(p, "temp") && !is_kw(p, "temporary"))
            return syntax_error(p);
    }
    bool temp_view = false;
    if (accept_kw(p, "temp") || accept_kw(p, "temporary")) {
        if (!is_kw(p, "view"))
            return syntax_error(p);
        temp_view = true;
    }
    if (accept_kw(p, "view")) {
        sql_stmt *st = new_stmt(p, STMT_CREATE_VIEW, pos);
        sql_create_view *v = alloc(p, sizeof *v);
        if (!st || !v)
            return NULL;
        st->u.create_view = v;
        v->or_replace = or_replace;
        v->temporary = temp_view;
        if (!(v->name = parse_qname(p)))
            return NULL;
        if (is_punct(p, '(') && !(v->cols = parse_name_list_parens(p)))
            return NULL;
        if (!expect_kw(p, "as"))
            return NULL;
        if (!(v->query = new_stmt(p, STMT_SELECT, cur(p)->pos)) ||
            !(v->query->u.select = parse_select(p)))
            return NULL;
        return st;
    }
    if (accept_kw(p, "database") || accept_kw(p, "schema")) {
        bool db = tok_kw(&p->t[p->i - 1], "database");
        sql_stmt *st = new_stmt(p, db ? STMT_CREATE_DATABASE : STMT_CREATE_SCHEMA, pos);
        sql_create_db *d = alloc(p, sizeof *d);
        if (!st || !d)
            return NULL;
        st->u.create_db = d;
        if (!db)
            d->if_not_exists = parse_if_not_exists(p);
        if (!(d->name = parse_colid(p)))
            return NULL;
        if (db) {
            accept_kw(p, "with");
            while (cur(p)->kind == TK_IDENT && !tok_reserved(cur(p))) {
                sql_defelem *e = alloc(p, sizeof *e);
                if (!e)
                    return NULL;
                e->name = p->t[p->i++].text;
                if (is_op(p, "="))
                    p->i++;
                if (!(e->value = parse_def_value(p)))
                    return syntax_error(p);
                if (!push(p, &d->options, e))
                    return NULL;
            }
        } else if (accept_kw(p, "authorization")) {
            if (!parse_colid(p))
                return NULL;
        }
        return st;
    }
    return syntax_error(p);
}

static sql_stmt *parse_drop(parser *p, int pos)
{
    sql_stmt *st = new_stmt(p, STMT_DROP, pos);
    sql_drop *d = alloc(p, sizeof *d);
    if (!st || !d)
        return NULL;
    st->u.drop = d;
    if (accept_kw(p, "table"))
        d->what = OBJ_TABLE;
    else if (accept_kw(p, "index")) {
        d->what = OBJ_INDEX;
        accept_kw(p, "concurrently");
    } else if (accept_kw(p, "view"))
        d->what = OBJ_VIEW;
    else if (accept_kw(p, "database"))
        d->what = OBJ_DATABASE;
    else if (accept_kw(p, "schema"))
        d->what = OBJ_SCHEMA;
    else
        return syntax_error(p);
    d->if_exists = parse_if_exists(p);
    do {
        if (!push(p, &d->names, parse_qname(p)))
            return NULL;
    } while (d->what != OBJ_DATABASE && accept_punct(p, ','));
    if (d->what == OBJ_DATABASE) {
        if (accept_kw(p, "with") || is_punct(p, '(')) {
            if (!parse_def_list(p, false))
                return NULL;
        }
    } else if (accept_kw(p, "cascade")) {
        d->cascade = true;
    } else {
        accept_kw(p, "restrict");
    }
    return st;
}

static sql_stmt *parse_truncate(parser *p, int pos)
{
    sql_stmt *st = new_stmt(p, STMT_TRUNCATE, pos);
    sql_truncate *t = alloc(p, sizeof *t);
    if (!st || !t)
        return NULL;
    st->u.truncate = t;
    accept_kw(p, "table");
    do {
        accept_kw(p, "only");
        if (!push(p, &t->tables, parse_qname(p)))
            return NULL;
    } while (accept_punct(p, ','));
    if (is_kw(p, "restart") || is_kw(p, "continue")) {
        t->restart_identity = is_kw(p, "restart");
        p->i++;
        if (!expect_kw(p, "identity"))
            return NULL;
    }
    if (accept_kw(p, "cascade"))
        t->cascade = true;
    else
        accept_kw(p, "restrict");
    return st;
}

static sql_alter_cmd *parse_alter_cmd(parser *p)
{
    sql_alter_cmd *c = alloc(p, sizeof *c);
    if (!c)
        return NULL;
    if (accept_kw(p, "add")) {
        if (starts_table_constraint(p)) {
            c->kind = ALTER_ADD_CONSTRAINT;
            if (!(c->constraint = parse_table_constraint(p)))
                return NULL;
            return c;
        }
        accept_kw(p, "column");
        c->kind = ALTER_ADD_COLUMN;
        c->if_not_exists = parse_if_not_exists(p);
        if (!(c->column = parse_coldef(p)))
            return NULL;
        return c;
    }
    if (accept_kw(p, "drop")) {
        if (accept_kw(p, "constraint")) {
            c->kind = ALTER_DROP_CONSTRAINT;
        } else {
            accept_kw(p, "column");
            c->kind = ALTER_DROP_COLUMN;
        }
        c->if_exists = parse_if_exists(p);
        if (!(c->name = parse_colid(p)))
            return NULL;
        if (accept_kw(p, "cascade"))
            c->cascade = true;
        else
            accept_kw(p, "restrict");
        return c;
    }
    if (accept_kw(p, "rename")) {
        if (accept_kw(p, "to")) {
            c->kind = ALTER_RENAME_TABLE;
            if (!(c->newname = parse_colid(p)))
                return NULL;
            return c;
        }
        if (accept_kw(p, "constraint"))
            return syntax_error(p);
        accept_kw(p, "column");
        c->kind = ALTER_RENAME_COLUMN;
        if (!(c->name = parse_colid(p)) || !expect_kw(p, "to") || !(c->newname = parse_colid(p)))
            return NULL;
        return c;
    }
    if (accept_kw(p, "alter")) {
        accept_kw(p, "column");
        if (!(c->name = parse_colid(p)))
            return NULL;
        if (is_kw(p, "set") && tok_kw(peek(p, 1), "not") && tok_kw(peek(p, 2), "null")) {
            p->i += 3;
            c->kind = ALTER_SET_NOT_NULL;
        } else if (is_kw(p, "drop") && tok_kw(peek(p, 1), "not") && tok_kw(peek(p, 2), "null")) {
            p->i += 3;
            c->kind = ALTER_DROP_NOT_NULL;
        } else if (is_kw(p, "set") && tok_kw(peek(p, 1), "default")) {
            p->i += 2;
            c->kind = ALTER_SET_DEFAULT;
            if (!(c->expr = parse_other(p)))
                return NULL;
        } else if (is_kw(p, "drop") && tok_kw(peek(p, 1), "default")) {
            p->i += 2;
            c->kind = ALTER_DROP_DEFAULT;
        } else {
            if (is_kw(p, "set") && tok_kw(peek(p, 1), "data"))
                p->i += 2;
            if (!expect_kw(p, "type"))
                return NULL;
            c->kind = ALTER_COLUMN_TYPE;
            if (!(c->type = parse_typename(p)))
                return NULL;
            if (accept_kw(p, "using") && !(c->expr = parse_expr(p)))
                return NULL;
        }
        return c;
    }
    return syntax_error(p);
}

static sql_stmt *parse_alter(parser *p, int pos)
{
    if (!expect_kw(p, "table"))
        return NULL;
    sql_stmt *st = new_stmt(p, STMT_ALTER_TABLE, pos);
    sql_alter_table *a = alloc(p, sizeof *a);
    if (!st || !a)
        return NULL;
    st->u.alter = a;
    a->if_exists = parse_if_exists(p);
    accept_kw(p, "only");
    if (!(a->name = parse_qname(p)))
        return NULL;
    do {
        if (!push(p, &a->cmds, parse_alter_cmd(p)))
            return NULL;
    } while (accept_punct(p, ','));
    return st;
}

/* ---- utility statements -------------------------------------------------- */
static bool parse_tx_modes(parser *p, sql_transaction *t)
{
    for (;;) {
        if (is_kw(p, "isolation") && tok_kw(peek(p, 1), "level")) {
            p->i += 2;
            const char *lv;
            if (accept_kw(p, "serializable"))
                lv = "serializable";
            else if (is_kw(p, "repeatable") && tok_kw(peek(p, 1), "read")) {
                p->i += 2;
                lv = "repeatable read";
            } else if (is_kw(p, "read") && tok_kw(peek(p, 1), "committed")) {
                p->i += 2;
                lv = "read committed";
            } else if (is_kw(p, "read") && tok_kw(peek(p, 1), "uncommitted")) {
                p->i += 2;
                lv = "read uncommitted";
            } else {
                syntax_error(p);
                return false;
            }
            if (!(t->isolation = pstrdup(p, lv)))
                return false;
        } else if (is_kw(p, "read") && tok_kw(peek(p, 1), "only")) {
            p->i += 2;
            t->read_only = 1;
        } else if (is_kw(p, "read") && tok_kw(peek(p, 1), "write")) {
            p->i += 2;
            t->read_only = 0;
        } else if (accept_kw(p, "deferrable")) {
            t->deferrable = 1;
        } else if (is_kw(p, "not") && tok_kw(peek(p, 1), "deferrable")) {
            p->i += 2;
            t->deferrable = 0;
        } else {
            return true;
        }
        accept_punct(p, ',');
    }
}

static sql_stmt *parse_transaction(parser *p, int pos, sql_tx_kind k)
{
    sql_stmt *st = new_stmt(p, STMT_TRANSACTION, pos);
    sql_transaction *t = alloc(p, sizeof *t);
    if (!st || !t)
        return NULL;
    st->u.tx = t;
    t->kind = k;
    t->read_only = -1;
    t->deferrable = -1;
    if (k == TX_SAVEPOINT) {
        if (!(t->savepoint = parse_colid(p)))
            return NULL;
        return st;
    }
    if (k == TX_RELEASE) {
        accept_kw(p, "savepoint");
        if (!(t->savepoint = parse_colid(p)))
            return NULL;
        return st;
    }
    if (!accept_kw(p, "work"))
        accept_kw(p, "transaction");
    if (k == TX_BEGIN) {
        if (!parse_tx_modes(p, t))
            return NULL;
        return st;
    }
    if (k == TX_ROLLBACK && accept_kw(p, "to")) {
        t->kind = TX_ROLLBACK_TO;
        accept_kw(p, "savepoint");
        if (!(t->savepoint = parse_colid(p)))
            return NULL;
        return st;
    }
    if (accept_kw(p, "and")) {
        t->chain = !accept_kw(p, "no");
        if (!expect_kw(p, "chain"))
            return NULL;
    }
    return st;
}

/* var_name: ColId ('.' ColId)* joined with dots */
static char *parse_var_name(parser *p)
{
    char *n = parse_colid(p);
    while (n && is_punct(p, '.')) {
        p->i++;
        char *m = parse_collabel(p);
        if (!m)
            return NULL;
        size_t a = strlen(n), b = strlen(m);
        char *s = alloc(p, a + b + 2);
        if (!s)
            return NULL;
        memcpy(s, n, a);
        s[a] = '.';
        memcpy(s + a + 1, m, b + 1);
        n = s;
    }
    return n;
}

static sql_expr *parse_set_value(parser *p)
{
    sql_token *t = cur(p);
    if (t->kind == TK_IDENT && !t->quoted &&
        (tok_kw(t, "true") || tok_kw(t, "false") || tok_kw(t, "on"))) {
        p->i++;
        return mk_string(p, t->text, t->pos);
    }
    if (t->kind == TK_IDENT && !tok_reserved(t)) {
        p->i++;
        return mk_string(p, t->text, t->pos);
    }
    if (t->kind == TK_STRING || t->kind == TK_INTEGER || t->kind == TK_NUMERIC ||
        (t->kind == TK_OP && (!strcmp(t->text, "-") || !strcmp(t->text, "+"))))
        return parse_unary(p);
    return syntax_error(p);
}

static sql_stmt *parse_set(parser *p, int pos)
{
    sql_stmt *st = new_stmt(p, STMT_SET, pos);
    sql_set *s = alloc(p, sizeof *s);
    if (!st || !s)
        return NULL;
    st->u.set = s;
    if (accept_kw(p, "local"))
        s->local = true;
    else
        accept_kw(p, "session");
    if (is_kw(p, "time") && tok_kw(peek(p, 1), "zone")) {
        p->i += 2;
        s->name = pstrdup(p, "timezone");
        if (accept_kw(p, "local") || accept_kw(p, "default")) {
            s->is_default = true;
            return st;
        }
        if (!push(p, &s->values, parse_set_value(p)))
            return NULL;
        return st;
    }
    if (accept_kw(p, "names")) {
        s->name = pstrdup(p, "client_encoding");
        if (!push(p, &s->values, parse_set_value(p)))
            return NULL;
        return st;
    }
    if (is_kw(p, "transaction") || (is_kw(p, "characteristics") && tok_kw(peek(p, 1), "as"))) {
        bool chars = is_kw(p, "characteristics");
        if (chars) {
            if (s->local)
                return syntax_error(p);
            p->i += 2;
            if (!is_kw(p, "transaction"))
                return syntax_error(p);
        }
        p->i++;
        s->name = pstrdup(p, chars ? "session_characteristics" : "transaction");
        sql_transaction t = {.read_only = -1, .deferrable = -1};
        if (!parse_tx_modes(p, &t))
            return NULL;
        char buf[64];
        if (t.isolation) {
            snprintf(buf, sizeof buf, "isolation level %s", t.isolation);
            if (!push(p, &s->values, mk_string(p, pstrdup(p, buf), pos)))
                return NULL;
        }
        if (t.read_only >= 0 &&
            !push(p, &s->values, mk_string(p, t.read_only ? "read only" : "read write", pos)))
            return NULL;
        if (t.deferrable >= 0 &&
            !push(p, &s->values, mk_string(p, t.deferrable ? "deferrable" : "not deferrable", pos)))
            return NULL;
        if (!s->values)
            return syntax_error(p);
        return st;
    }
    if (!(s->name = parse_var_name(p)))
        return NULL;
    if (!accept_kw(p, "to") && !(is_op(p, "=") && ++p->i))
        return syntax_error(p);
    if (accept_kw(p, "default")) {
        s->is_default = true;
        return st;
    }
    do {
        if (!push(p, &s->values, parse_set_value(p)))
            return NULL;
    } while (accept_punct(p, ','));
    return st;
}

static sql_stmt *parse_show_reset(parser *p, int pos, sql_stmt_kind k)
{
    sql_stmt *st = new_stmt(p, k, pos);
    sql_show *s = alloc(p, sizeof *s);
    if (!st || !s)
        return NULL;
    st->u.show = s;
    if (accept_kw(p, "all")) {
        s->name = pstrdup(p, "all");
    } else if (is_kw(p, "time") && tok_kw(peek(p, 1), "zone")) {
        p->i += 2;
        s->name = pstrdup(p, "timezone");
    } else if (is_kw(p, "transaction") && tok_kw(peek(p, 1), "isolation") &&
               tok_kw(peek(p, 2), "level")) {
        p->i += 3;
        s->name = pstrdup(p, "transaction_isolation");
    } else if (is_kw(p, "session") && tok_kw(peek(p, 1), "authorization")) {
        p->i += 2;
        s->name = pstrdup(p, "session_authorization");
    } else {
        s->name = parse_var_name(p);
    }
    return s->name ? st : NULL;
}

static sql_stmt *parse_explain(parser *p, int pos)
{
    sql_stmt *st = new_stmt(p, STMT_EXPLAIN, pos);
    sql_explain *e = alloc(p, sizeof *e);
    if (!st || !e)
        return NULL;
    st->u.explain = e;
    if (is_punct(p, '(')) {
        if (!(e->options = parse_def_list(p, false)))
            return NULL;
        for (size_t k = 0; k < e->options->len; k++) {
            sql_defelem *d = e->options->items[k];
            bool on = !d->value || strcmp(d->value, "false") || strcmp(d->value, "off") ||
                      strcmp(d->value, "0");
            if (d->value && (!strcmp(d->value, "false") || !strcmp(d->value, "off") ||
                             !strcmp(d->value, "0")))
                on = false;
            if (!strcmp(d->name, "analyze") || !strcmp(d->name, "analyse"))
                e->analyze = on;
            if (!strcmp(d->name, "verbose"))
                e->verbose = on;
        }
    } else {
        if (accept_kw(p, "analyze") || accept_kw(p, "analyse"))
            e->analyze = true;
        if (accept_kw(p, "verbose"))
            e->verbose = true;
    }
    if (!enter(p))
        return NULL;
    e->stmt = parse_stmt(p);
    leave(p);
    if (!e->stmt)
        return NULL;
    sql_stmt_kind k = e->stmt->kind;
    if (k != STMT_SELECT && k != STMT_INSERT && k != STMT_UPDATE && k != STMT_DELETE &&
        k != STMT_CREATE_TABLE && k != STMT_CREATE_VIEW)
        return syntax_error_at(p, &p->t[p->i > 0 ? p->i - 1 : 0]);
    return st;
}

static bool add_def(parser *p, sql_list **l, const char *name, char *value)
{
    sql_defelem *d = alloc(p, sizeof *d);
    if (!d || !(d->name = pstrdup(p, name)))
        return false;
    d->value = value;
    return push(p, l, d);
}

static sql_stmt *parse_copy(parser *p, int pos)
{
    sql_stmt *st = new_stmt(p, STMT_COPY, pos);
    sql_copy *c = alloc(p, sizeof *c);
    if (!st || !c)
        return NULL;
    st->u.copy = c;
    if (accept_kw(p, "binary") && !add_def(p, &c->options, "format", pstrdup(p, "binary")))
        return NULL;
    if (is_punct(p, '(')) {
        p->i++;
        if (!enter(p))
            return NULL;
        c->query = parse_stmt(p);
        leave(p);
        if (!c->query || !expect_punct(p, ')'))
            return NULL;
    } else {
        if (!(c->table = parse_qname(p)))
            return NULL;
        if (is_punct(p, '(') && !(c->cols = parse_name_list_parens(p)))
            return NULL;
    }
    if (accept_kw(p, "from"))
        c->is_from = true;
    else if (!expect_kw(p, "to"))
        return NULL;
    if (c->query && c->is_from)
        return syntax_error_at(p, &p->t[p->i - 1]);
    if (accept_kw(p, "stdin") || accept_kw(p, "stdout")) {
        c->stdio = true;
    } else if (cur(p)->kind == TK_STRING) {
        c->filename = p->t[p->i++].text;
    } else {
        return syntax_error(p);
    }
    bool with = accept_kw(p, "with");
    if (is_punct(p, '(')) {
        sql_list *opts = parse_def_list(p, false);
        if (!opts)
            return NULL;
        for (size_t k = 0; k < opts->len; k++)
            if (!push(p, &c->options, opts->items[k]))
                return NULL;
    } else {
        (void)with;
        for (;;) { /* old-style options */
            if (accept_kw(p, "binary")) {
                if (!add_def(p, &c->options, "format", pstrdup(p, "binary")))
                    return NULL;
            } else if (accept_kw(p, "csv")) {
                if (!add_def(p, &c->options, "format", pstrdup(p, "csv")))
                    return NULL;
            } else if (accept_kw(p, "freeze") || accept_kw(p, "header")) {
                if (!add_def(p, &c->options, p->t[p->i - 1].text, NULL))
                    return NULL;
            } else if (is_kw(p, "delimiter") || is_kw(p, "null") || is_kw(p, "quote") ||
                       is_kw(p, "escape") || is_kw(p, "encoding")) {
                char *name = p->t[p->i++].text;
                accept_kw(p, "as");
                if (cur(p)->kind != TK_STRING)
                    return syntax_error(p);
                if (!add_def(p, &c->options, name, p->t[p->i++].text))
                    return NULL;
            } else if (accept_kw(p, "force")) {
                const char *name;
                if (accept_kw(p, "quote"))
                    name = "force_quote";
                else if (is_kw(p, "not") && tok_kw(peek(p, 1), "null") && (p->i += 2))
                    name = "force_not_null";
                else
                    return syntax_error(p);
                size_t start = cur(p)->off;
                if (is_op(p, "*"))
                    p->i++;
                else
                    do {
                        if (!parse_colid(p))
                            return NULL;
                    } while (accept_punct(p, ','));
                size_t end = p->t[p->i - 1].off + p->t[p->i - 1].len;
                char *v = sql_arena_strndup(p->a, p->src + start, end - start);
                if (!v || !add_def(p, &c->options, name, v))
                    return nomem(p);
            } else {
                break;
            }
        }
    }
    if (accept_kw(p, "where") && c->is_from)
        return syntax_error_at(p, &p->t[p->i - 1]);
    return st;
}

static sql_stmt *parse_vacuum(parser *p, int pos, bool is_analyze)
{
    sql_stmt *st = new_stmt(p, STMT_VACUUM, pos);
    sql_vacuum *v = alloc(p, sizeof *v);
    if (!st || !v)
        return NULL;
    st->u.vacuum = v;
    v->is_analyze = is_analyze;
    v->analyze = is_analyze;
    if (is_punct(p, '(')) {
        if (!(v->options = parse_def_list(p, false)))
            return NULL;
    } else {
        for (;;) {
            if (!is_analyze && accept_kw(p, "full"))
                v->full = true;
            else if (!is_analyze && accept_kw(p, "freeze"))
                v->freeze = true;
            else if (accept_kw(p, "verbose"))
                v->verbose = true;
            else if (!is_analyze && (accept_kw(p, "analyze") || accept_kw(p, "analyse")))
                v->analyze = true;
            else
                break;
        }
    }
    if (cur(p)->kind == TK_IDENT && is_colid(cur(p))) {
        do {
            if (!push(p, &v->tables, parse_qname(p)))
                return NULL;
            if (is_punct(p, '(') && !parse_name_list_parens(p))
                return NULL;
        } while (accept_punct(p, ','));
    }
    return st;
}

/* ---- statements ---------------------------------------------------------- */
static sql_stmt *parse_stmt(parser *p)
{
    int pos = cur(p)->pos;
    sql_token *t = cur(p);
    if (t->kind == TK_PUNCT && t->text[0] == '(' && t->text[1] == 0) {
        sql_stmt *st = new_stmt(p, STMT_SELECT, pos);
        if (!st || !(st->u.select = parse_select(p)))
            return NULL;
        return st;
    }
    if (t->kind != TK_IDENT || t->quoted)
        return syntax_error(p);
    const char *w = t->text;
    if (!strcmp(w, "select") || !strcmp(w, "values") || !strcmp(w, "table")) {
        sql_stmt *st = new_stmt(p, STMT_SELECT, pos);
        if (!st || !(st->u.select = parse_select(p)))
            return NULL;
        return st;
    }
    if (!strcmp(w, "with")) {
        /* WITH ... SELECT | INSERT | UPDATE | DELETE */
        p->i++;
        bool rec;
        sql_list *with = parse_with(p, &rec);
        if (!with)
            return NULL;
        int spos = cur(p)->pos;
        if (accept_kw(p, "insert"))
            return parse_insert(p, pos, with);
        if (accept_kw(p, "update"))
            return parse_update(p, pos, with);
        if (accept_kw(p, "delete"))
            return parse_delete(p, pos, with);
        sql_stmt *st = new_stmt(p, STMT_SELECT, pos);
        if (!st)
            return NULL;
        (void)spos;
        if (!(st->u.select = parse_select_after(p, parse_intersect(p))))
            return NULL;
        if (st->u.select->with) {
            p->failed = true;
            dc_error_set(p->err, DC_EINVAL, "42601", "multiple WITH clauses not allowed");
            return NULL;
        }
        st->u.select->with = with;
        st->u.select->recursive = rec;
        return st;
    }
    p->i++;
    if (!strcmp(w, "insert"))
        return parse_insert(p, pos, NULL);
    if (!strcmp(w, "update"))
        return parse_update(p, pos, NULL);
    if (!strcmp(w, "delete"))
        return parse_delete(p, pos, NULL);
    if (!strcmp(w, "create"))
        return parse_create(p, pos);
    if (!strcmp(w, "drop"))
        return parse_drop(p, pos);
    if (!strcmp(w, "truncate"))
        return parse_truncate(p, pos);
    if (!strcmp(w, "alter"))
        return parse_alter(p, pos);
    if (!strcmp(w, "begin"))
        return parse_transaction(p, pos, TX_BEGIN);
    if (!strcmp(w, "start")) {
        if (!expect_kw(p, "transaction"))
            return NULL;
        p->i--;
        return parse_transaction(p, pos, TX_BEGIN);
    }
    if (!strcmp(w, "commit") || !strcmp(w, "end"))
        return parse_transaction(p, pos, TX_COMMIT);
    if (!strcmp(w, "rollback") || !strcmp(w, "abort"))
        return parse_transaction(p, pos, TX_ROLLBACK);
    if (!strcmp(w, "savepoint"))
        return parse_transaction(p, pos, TX_SAVEPOINT);
    if (!strcmp(w, "release"))
        return parse_transaction(p, pos, TX_RELEASE);
    if (!strcmp(w, "set"))
        return parse_set(p, pos);
    if (!strcmp(w, "show"))
        return parse_show_reset(p, pos, STMT_SHOW);
    if (!strcmp(w, "reset"))
        return parse_show_reset(p, pos, STMT_RESET);
    if (!strcmp(w, "explain"))
        return parse_explain(p, pos);
    if (!strcmp(w, "copy"))
        return parse_copy(p, pos);
    if (!strcmp(w, "vacuum"))
        return parse_vacuum(p, pos, false);
    if (!strcmp(w, "analyze") || !strcmp(w, "analyse"))
        return parse_vacuum(p, pos, true);
    p->i--;
    return syntax_error(p);
}

int sql_parse(const char *src, size_t len, sql_arena **arena_out, sql_list **stmts,
              dc_error *err)
{
    sql_arena *a = sql_arena_new();
    if (!a)
        return dc_error_set(err, DC_ENOMEM, DC_SQLSTATE_OOM, "out of memory");
    parser p = {.a = a, .src = src, .err = err};
    int rc = sql_lex(a, src, len, &p.t, &p.nt, err);
    if (rc != DC_OK) {
        sql_arena_free(a);
        return rc;
    }
    sql_list *list = NULL;
    for (;;) {
        while (accept_punct(&p, ';'))
            ;
        if (cur(&p)->kind == TK_EOF)
            break;
        size_t first = p.i;
        sql_stmt *s = parse_stmt(&p);
        if (s && !is_punct(&p, ';') && cur(&p)->kind != TK_EOF)
            syntax_error(&p);
        if (p.failed || !s) {
            if (!p.failed)
                syntax_error(&p);
            sql_arena_free(a);
            return err && err->status ? err->status : DC_EINVAL;
        }
        s->off = p.t[first].off;
        s->len = p.t[p.i].off - s->off;
        if (!push(&p, &list, s)) {
            sql_arena_free(a);
            return DC_ENOMEM;
        }
    }
    *arena_out = a;
    *stmts = list;
    return DC_OK;
}
