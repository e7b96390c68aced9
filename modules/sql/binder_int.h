/*
 * sql/binder_int.h - private structures of the binder and planner
 * (binder_expr.c, binder_bind.c, binder_from.c, binder_select.c,
 * binder_dml.c, planner.c).
 *
 * Binding works per query level (a SELECT, a subquery).  Every column a
 * level's FROM clause provides gets a "global id": FROM items are numbered
 * left to right and each contributes its columns in order.  Expressions of
 * the level are first bound over that virtual global row (SX_COL = global
 * id); once the planner has chosen the join tree, each expression is
 * copied with its SX_COL indices remapped to positions in the row of the
 * plan node that evaluates it.
 *
 * Every sql_bexpr the binder allocates is the first member of a bx, which
 * carries binder-only annotations (the comparison an operator node came
 * from, aggregate placeholders, names for error messages).
 */
#ifndef SQL_BINDER_INT_H
#define SQL_BINDER_INT_H

#include "sql/binder.h"

/* Comparison codes for key-range detection. */
enum { CMP_NONE, CMP_EQ, CMP_LT, CMP_LE, CMP_GT, CMP_GE };

typedef struct bx {
    sql_bexpr e;
    int cmpop;              /* CMP_* when e is a comparison operator      */
    int aggref;             /* 1 + index of the level's aggregate, or 0   */
    const char *colname;    /* "t.a" of a column reference (42803 text)   */
    int pos;                /* AST position (errors)                      */
} bx;
#define BX(e) ((bx *)(e))

typedef struct bstate bstate;
typedef struct blevel blevel;

/* A named column visible in a scope: expr is over the global row. */
typedef struct nscol {
    const char *name;
    sql_bexpr *expr;
} nscol;

/* A range table entry: alias.col and alias.* lookups. */
typedef struct rte {
    const char *alias;
    int ncols;
    nscol *cols;
} rte;

/* ---- planning units --------------------------------------------------- */
typedef struct conj {
    sql_bexpr *e;           /* over the global row                         */
    const sql_expr *ast;    /* for EXPLAIN                                 */
    uint64_t refs;          /* leaves of the join set it reads             */
    bool used;
} conj;

typedef struct joinset joinset;

enum { LF_PLAN, LF_TABLE, LF_OUTERJOIN };

typedef struct leaf {
    int kind;
    int gbase, ncols;       /* global ids gbase .. gbase + ncols - 1       */
    sql_plan *plan;         /* LF_PLAN: produces exactly those columns     */
    const sql_table *table; /* LF_TABLE                                    */
    const char *alias;
    bool emit_key;
    bool latest;
    sql_jointype jt;        /* LF_OUTERJOIN                                */
    joinset *l, *r;
    conj *on;
    int non;
    double est;
} leaf;

struct joinset {
    int nleaves;
    leaf **leaves;
    int nconj, capconj;
    conj *conj;
};

/* A FROM item while binding: a leaf or a join of two items. */
typedef struct fnode {
    bool is_join;
    leaf *lf;
    sql_join_kind jk;
    struct fnode *l, *r;
    int non;
    conj *on;
    int nvis;               /* columns for unqualified names and *         */
    nscol *vis;
} fnode;

/* A planned subtree: plan and the global id of each output column. */
typedef struct pplan {
    sql_plan *p;
    int *map;
} pplan;

/* ---- query levels ------------------------------------------------------- */
typedef struct cte_def {
    const char *name;
    const sql_cte *cte;
    struct cte_def *next;
} cte_def;

struct blevel {
    blevel *parent;         /* name lookup continues here                  */
    blevel *owner;          /* level whose subplan args hold outer refs    */
    int nrtes, caprtes;
    rte **rtes;
    int nfrom;
    fnode **from;           /* top-level FROM items                        */
    int nglobal;
    /* outer references (owner levels only): expressions over the parent */
    int nargs, capargs;
    sql_bexpr **args;
    /* aggregates */
    const char *agg_forbidden;  /* "WHERE" ...: error context, or NULL  */
    bool in_agg;
    int naggs, capaggs;
    sql_aggcall *aggs;
    cte_def *ctes;
    bool keep_unknown;      /* leave unknown-typed outputs for the caller
                               (set-operation arms, INSERT ... SELECT)    */
};

struct bstate {
    sql_ctx *ctx;
    sql_arena *arena;
    const char *src;
    sql_param_types *params;
    dc_error *err;
    int depth;
    int nparamnodes, capparamnodes;
    sql_bexpr **paramnodes;
    /* while binding an aggregate's arguments at agg_lv: the fewest levels
     * up at which one of their columns was found (an aggregate over outer
     * columns only belongs to that outer query, as in PostgreSQL) */
    blevel *agg_lv;
    int agg_min_up;
    /* an expression bound at inj_level that an EXPR_PARAM with number 0
     * in a binder-made parse tree stands for (reg* casts) */
    sql_bexpr *inj_expr;
    blevel *inj_level;
};

/* ---- binder_expr.c / binder_bind.c ------------------------------------- */
void *b_alloc(bstate *b, size_t n);
char *b_strdup(bstate *b, const char *s);
int b_oom(bstate *b);
int b_error_at(bstate *b, int pos, int status, const char *state,
               const char *fmt, ...) __attribute__((format(printf, 5, 6)));
bool b_grow(bstate *b, void **arr, int *cap, int need, size_t elem);
sql_bexpr *bx_new(bstate *b, sql_bexpr_kind kind, uint32_t type);
sql_bexpr *bx_const(bstate *b, dc_value v);
sql_bexpr *bx_col(bstate *b, int index, uint32_t type, int32_t typmod);
sql_bexpr *bx_bool_op(bstate *b, sql_bexpr_kind k, sql_bexpr *x,
                      sql_bexpr *y);
sql_bexpr *bind_expr(bstate *b, blevel *lv, const sql_expr *e);
/* Coerce to type/typmod in cast context cctx (SQL_CAST_IMPLICIT,
 * ASSIGNMENT, EXPLICIT): unknown literals are converted now, untyped
 * parameters take the type, others get an SX_CAST (42846 / 42804 when
 * the cast is not allowed there).  coerce_assign words its 42804 as
 * PostgreSQL does for a target column. */
sql_bexpr *coerce(bstate *b, sql_bexpr *e, uint32_t type, int32_t typmod,
                  int cctx, int pos);
sql_bexpr *coerce_assign(bstate *b, sql_bexpr *e, uint32_t type,
                         int32_t typmod, const char *colname, int pos);
sql_bexpr *coerce_bool(bstate *b, sql_bexpr *e, const char *what, int pos);
sql_bexpr *finalize_unknown(bstate *b, sql_bexpr *e);
int resolve_common(bstate *b, const char *context, int n, sql_bexpr **es,
                   uint32_t *out, int pos);
sql_bexpr *make_oper(bstate *b, const char *op, sql_bexpr *l, sql_bexpr *r,
                     int pos);
bool bx_equal(const sql_bexpr *a, const sql_bexpr *c);
const char *expr_colname(const sql_expr *e);
bool bx_has_aggref(const sql_bexpr *e);
sql_bexpr *bind_sublink(bstate *b, blevel *lv, const sql_select *q,
                        sql_sublink link, sql_bexpr *lhs, const char *op,
                        int pos);
/* Walk global SX_COL references (not into subplans' plans). */
void bx_refs(const sql_bexpr *e, void (*fn)(void *ud, int g), void *ud);
/* Copy e with SX_COL g replaced by inv[g]; -1 there is an internal error. */
sql_bexpr *bx_remap(bstate *b, const sql_bexpr *e, const int *inv, int ninv);
sql_bexpr *bx_copy(bstate *b, const sql_bexpr *e);
/* Resolve an unqualified or qualified column in lv and its parents. */
sql_bexpr *lookup_column(bstate *b, blevel *lv, const sql_expr *e);
sql_bexpr *lift(bstate *b, blevel *from, blevel *at, sql_bexpr *e);

/* ---- binder_from.c / binder_select.c ---------------------------------- */
blevel *level_new(bstate *b, blevel *parent, blevel *owner);
/* Plan a query (any sql_select) as level lv. */
sql_plan *bind_query(bstate *b, blevel *lv, const sql_select *q);
sql_plan *bind_query_stmt(bstate *b, blevel *lv, const sql_stmt *s);
int bind_select_list(bstate *b, blevel *lv, sql_list *targets, int *n,
                     sql_bexpr ***exprs, char ***names);
int bind_where_conj(bstate *b, blevel *lv, const sql_expr *w, conj **cj,
                    int *n);
int bind_from_list(bstate *b, blevel *lv, sql_list *from);
leaf *add_table_leaf(bstate *b, blevel *lv, const sql_table *t,
                     const char *alias, bool emit_key, int pos);
int rte_add(bstate *b, blevel *lv, rte *r);
sql_plan *plan_project(bstate *b, sql_plan *child, int n, sql_bexpr **exprs,
                       char **names);
sql_plan *plan_new(bstate *b, sql_plan_kind kind, int ncols);
/* Make output column i of p have type `type` (coercing unknown literals
 * in place, or projecting with a cast); returns the plan to use. */
sql_plan *coerce_plan_col(bstate *b, sql_plan *p, int i, uint32_t type,
                          int32_t typmod, int cctx, const char *colname,
                          int pos);
char *explain_add(bstate *b, const char *prev, const char *label,
                  const sql_expr *ast);
/* "label: x, y" of expressions as written. */
char *explain_list(bstate *b, const char *label, const sql_expr **asts,
                   int n);

/* ---- planner.c ---------------------------------------------------------- */
/* Plan the level's FROM + WHERE conjuncts (global terms). */
int plan_level_from(bstate *b, blevel *lv, int nconj, conj *cj, pplan *out);
int split_conj(bstate *b, sql_bexpr *e, const sql_expr *ast, conj **arr,
               int *n, int *cap);
/* Inverse map of a pplan over nglobal ids. */
int *pplan_inverse(bstate *b, const pplan *pp, int nglobal);
double table_est(const sql_table *t);

#endif
