/*
 * sql/explain.c - EXPLAIN text of a plan tree in PostgreSQL's layout
 * (exec.h): the top node at the margin, each child on a line starting
 * with "->  " indented 6 more spaces per level, a node's detail lines
 * (plan->explain) under it.  PL_FILTER and PL_PROJECT over a child are
 * not nodes in PostgreSQL's plans: their detail lines ("Filter: ...") go
 * under the node below them.  Costs are not printed (as with COSTS OFF).
 */
#include <stdio.h>
#include <string.h>

#include "sql/exec_int.h"

#define MAX_PENDING 8

typedef struct xline {
    sql_buf *out;
    dc_error *err;
    int rc;
} xline;

static void put(xline *x, const char *s, size_t n)
{
    if (x->rc == DC_OK)
        x->rc = sql_buf_append(x->out, s, n, x->err);
}

static void puts_(xline *x, const char *s)
{
    put(x, s, strlen(s));
}

static void spaces(xline *x, int n)
{
    for (int i = 0; i < n; i++)
        put(x, " ", 1);
}

static void newline(xline *x)
{
    if (x->out->len > 0)
        put(x, "\n", 1);
}

static const char *join_suffix(sql_jointype t)
{
    switch (t) {
    case SQL_JOIN_LEFT:
        return " Left Join";
    case SQL_JOIN_RIGHT:
        return " Right Join";
    case SQL_JOIN_FULL:
        return " Full Join";
    case SQL_JOIN_SEMI:
        return " Semi Join";
    case SQL_JOIN_ANTI:
        return " Anti Join";
    default:
        return "";
    }
}

static void scan_name(const sql_plan *p, char *buf, size_t cap)
{
    const sql_table *t = p->u.scan.table;
    const sql_keyrange *r = &p->u.scan.range;
    const char *alias = p->u.scan.alias;
    bool ranged = r->neq > 0 || r->lo || r->hi;
    char on[300];
    if (alias && strcmp(alias, t->name) != 0)
        snprintf(on, sizeof on, "%s %s", t->name, alias);
    else
        snprintf(on, sizeof on, "%s", t->name);
    if (p->kind == PL_INDEXSCAN)
        snprintf(buf, cap, "Index Scan using %s on %s", p->u.scan.index->name,
                 on);
    else if (ranged && t->pkey)
        snprintf(buf, cap, "Index Scan using %s on %s", t->pkey->name, on);
    else
        snprintf(buf, cap, "Seq Scan on %s", on);
}

static void node_name(const sql_plan *p, char *buf, size_t cap)
{
    switch (p->kind) {
    case PL_PROJECT:
        snprintf(buf, cap, "Result");
        break;
    case PL_VALUES:
        snprintf(buf, cap, "Values Scan on \"*VALUES*\"");
        break;
    case PL_SCAN:
    case PL_INDEXSCAN:
        scan_name(p, buf, cap);
        break;
    case PL_FUNCSCAN:
        snprintf(buf, cap, "Function Scan on generate_series");
        break;
    case PL_VIRTUAL:
        snprintf(buf, cap, "Seq Scan on %s", p->u.virt.rel->name);
        break;
    case PL_FILTER:
        snprintf(buf, cap, "Result");
        break;
    case PL_NESTLOOP:
        snprintf(buf, cap, "Nested Loop%s", join_suffix(p->u.join.type));
        break;
    case PL_HASHJOIN:
        snprintf(buf, cap, "Hash %s",
                 p->u.join.type == SQL_JOIN_INNER
                     ? "Join"
                     : join_suffix(p->u.join.type) + 1);
        break;
    case PL_SORT:
        snprintf(buf, cap, "Sort");
        break;
    case PL_AGG:
        snprintf(buf, cap, "%s",
                 p->u.agg.hashed || p->u.agg.ngroup > 0 ? "HashAggregate"
                                                        : "Aggregate");
        break;
    case PL_DISTINCT:
        snprintf(buf, cap, "%s",
                 p->u.distinct.ndistinct_on > 0 ? "Unique" : "HashAggregate");
        break;
    case PL_LIMIT:
        snprintf(buf, cap, "Limit");
        break;
    case PL_SETOP:
        if (p->u.setop.op == SETOP_UNION)
            snprintf(buf, cap, "%s",
                     p->u.setop.all ? "Append" : "HashAggregate");
        else
            snprintf(buf, cap, "HashSetOp %s%s",
                     p->u.setop.op == SETOP_INTERSECT ? "Intersect" : "Except",
                     p->u.setop.all ? " All" : "");
        break;
    case PL_MODIFY:
        snprintf(buf, cap, "%s on %s",
                 p->u.modify.op == MOD_INSERT   ? "Insert"
                 : p->u.modify.op == MOD_UPDATE ? "Update"
                                                : "Delete",
                 p->u.modify.table->name);
        break;
    }
}

/* The node line: "->  " after 6 * (depth - 1) + 2 spaces below the top. */
static void head(xline *x, int depth, const char *name)
{
    newline(x);
    if (depth > 0) {
        spaces(x, 6 * (depth - 1) + 2);
        puts_(x, "->  ");
    }
    puts_(x, name);
}

/* Detail lines of text (separated by '\n') under a node of `depth`. */
static void details(xline *x, int depth, const char *text)
{
    while (text && *text) {
        const char *nl = strchr(text, '\n');
        size_t n = nl ? (size_t)(nl - text) : strlen(text);
        if (n > 0) {
            newline(x);
            spaces(x, 6 * depth + 2);
            put(x, text, n);
        }
        text = nl ? nl + 1 : NULL;
    }
}

static void emit(xline *x, const sql_plan *p, int depth, const char **pending,
                 int npending)
{
    if (!p || x->rc)
        return;
    if ((p->kind == PL_FILTER || p->kind == PL_PROJECT) && p->left) {
        const char *pend[MAX_PENDING];
        int np = 0;
        if (p->explain)
            pend[np++] = p->explain;
        for (int i = 0; i < npending && np < MAX_PENDING; i++)
            pend[np++] = pending[i];
        emit(x, p->left, depth, pend, np);
        return;
    }
    char name[700];
    node_name(p, name, sizeof name);
    head(x, depth, name);
    details(x, depth, p->explain);
    for (int i = 0; i < npending; i++)
        details(x, depth, pending[i]);
    if (p->kind == PL_HASHJOIN) {
        emit(x, p->left, depth + 1, NULL, 0);
        head(x, depth + 1, "Hash");
        emit(x, p->right, depth + 2, NULL, 0);
        return;
    }
    if (p->kind == PL_SETOP &&
        !(p->u.setop.op == SETOP_UNION && p->u.setop.all)) {
        head(x, depth + 1, "Append");
        if (p->u.setop.op == SETOP_UNION) {
            emit(x, p->left, depth + 2, NULL, 0);
            emit(x, p->right, depth + 2, NULL, 0);
            return;
        }
        /* INTERSECT / EXCEPT read their inputs as numbered subqueries */
        head(x, depth + 2, "Subquery Scan on \"*SELECT* 1\"");
        emit(x, p->left, depth + 3, NULL, 0);
        head(x, depth + 2, "Subquery Scan on \"*SELECT* 2\"");
        emit(x, p->right, depth + 3, NULL, 0);
        return;
    }
    emit(x, p->left, depth + 1, NULL, 0);
    emit(x, p->right, depth + 1, NULL, 0);
}

int sql_plan_explain(const sql_plan *plan, sql_buf *out, dc_error *err)
{
    xline x = {out, err, DC_OK};
    emit(&x, plan, 0, NULL, 0);
    return x.rc;
}
