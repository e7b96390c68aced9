/*
 * sql/plan.h - bound expressions and plan trees: what the binder/planner
 * (binder.h) produces and the executor (exec.h) runs.
 *
 * Everything here is allocated in one sql_arena (the statement's, or a
 * prepared statement's) and is read-only once built: the executor keeps
 * its run-time state elsewhere, so one plan may be run many times (a
 * prepared statement) and a subplan may be rescanned.
 *
 * Rows.  Every plan node produces rows of `ncols` values with the types
 * in `types`.  Expressions of a node read the node's INPUT row with
 * SX_COL (index into that row):
 *   PL_SCAN / PL_INDEXSCAN   their quals read the table row: t->natts
 *                            values in attnum order (dropped columns are
 *                            NULL), followed, when emit_key is set, by
 *                            the row key as a BYTEA value.  That is also
 *                            their output row.
 *   PL_FILTER, PL_PROJECT,
 *   PL_SORT, PL_LIMIT,
 *   PL_DISTINCT, PL_AGG     the child's row.
 *   PL_NESTLOOP,
 *   PL_HASHJOIN             the left row followed by the right row (the
 *                            output row too); the NULL-extended side of an
 *                            outer join is all NULL.
 *   PL_MODIFY               see below.
 * PL_AGG's output is its group key values followed by its aggregate
 * results; expressions above it (HAVING in a PL_FILTER, the select list
 * in a PL_PROJECT) read those with SX_COL.
 *
 * Correlation.  A subquery that refers to columns of an enclosing query
 * is an SX_SUBPLAN whose `args` are evaluated in the enclosing row; inside
 * the subplan those values are read with SX_OUTER (index into args).  A
 * subplan nested two deep passes an outer value on by listing an SX_OUTER
 * of its own level among its args.  Scan bounds may use SX_OUTER and
 * SX_PARAM too, so a correlated lookup by key stays a point lookup.
 */
#ifndef SQL_PLAN_H
#define SQL_PLAN_H

#include "sql/catalog.h"
#include "sql/funcs.h"

typedef struct sql_plan sql_plan;
typedef struct sql_bexpr sql_bexpr;

typedef enum sql_bexpr_kind {
    SX_CONST,       /* value                                              */
    SX_PARAM,       /* $n: index = n - 1, value from ctx->params          */
    SX_COL,         /* index into the input row                           */
    SX_OUTER,       /* index into the subplan's correlation args          */
    SX_FUNC,        /* fn over args (operators too)                       */
    SX_AND,         /* args, three-valued                                 */
    SX_OR,
    SX_NOT,         /* args[0]                                            */
    SX_CASE,        /* args: [operand if has_operand] then when1, then1,
                       when2, then2 ...; else in args[nargs-1] when
                       has_else.  With an operand, each when is already a
                       comparison expression built by the binder with
                       SX_CASE_TEST standing for the operand value.       */
    SX_CASE_TEST,   /* the current CASE operand value                     */
    SX_CAST,        /* args[0] to type/typmod, cast_ctx                   */
    SX_NULLTEST,    /* args[0] IS [NOT] NULL (negated)                    */
    SX_BOOLTEST,    /* args[0] IS [NOT] TRUE/FALSE/UNKNOWN: booltest      */
    SX_DISTINCT,    /* args[0] IS [NOT] DISTINCT FROM args[1]; fn is the
                       resolved "=" for the pair                           */
    SX_IN_LIST,     /* args[0] [NOT] IN (args[1..]); fn is "=" for each
                       (all items cast to one type by the binder)          */
    SX_SUBPLAN      /* a subquery, see `sub`                              */
} sql_bexpr_kind;

typedef enum sql_sublink {
    SUB_EXISTS,     /* EXISTS (q)                                          */
    SUB_SCALAR,     /* (q): at most one row (21000 "more than one row
                       returned by a subquery used as an expression"),
                       NULL when none                                      */
    SUB_ANY,        /* lhs op ANY (q) / lhs IN (q): fn compares lhs with
                       the subquery's single column                       */
    SUB_ALL         /* lhs op ALL (q)                                      */
} sql_sublink;

struct sql_bexpr {
    sql_bexpr_kind kind;
    uint32_t type;                  /* result type                         */
    int32_t typmod;
    dc_value value;                 /* SX_CONST                            */
    int index;                      /* SX_PARAM, SX_COL, SX_OUTER          */
    int nargs;
    sql_bexpr **args;
    const sql_func_resolved *fn;    /* SX_FUNC, SX_DISTINCT, SX_IN_LIST    */
    bool negated;                   /* NOT IN, IS NOT NULL, IS NOT DISTINCT */
    int booltest;                   /* SX_BOOLTEST: 0 TRUE 1 FALSE 2 UNKNOWN */
    bool has_operand, has_else;     /* SX_CASE                             */
    int cast_ctx;                   /* SX_CAST: sql_cast_ctx               */
    struct {                        /* SX_SUBPLAN                          */
        sql_sublink link;
        sql_plan *plan;
        sql_bexpr *lhs;             /* ANY / ALL: the left operand         */
        bool correlated;            /* false: run once, keep the result    */
    } sub;                          /* args: correlation values            */
};

typedef enum sql_plan_kind {
    PL_PROJECT,     /* exprs over the child row; child NULL: one row over
                       an empty input (SELECT 1)                          */
    PL_VALUES,      /* rows[i][0..ncols) expressions (no input row)       */
    PL_SCAN,        /* table rows in row-key order                        */
    PL_INDEXSCAN,   /* table rows in index order                          */
    PL_FUNCSCAN,    /* set-returning function in FROM                      */
    PL_VIRTUAL,     /* a generated pg_catalog / information_schema relation */
    PL_FILTER,      /* child rows where qual is true                       */
    PL_NESTLOOP,    /* join: every left row against the (rescanned or
                       materialised) right child                          */
    PL_HASHJOIN,    /* equi-join: hash table on the right child            */
    PL_SORT,        /* sort by keys; with limit: top-N                     */
    PL_AGG,         /* grouping and aggregates                             */
    PL_DISTINCT,    /* drop duplicate rows (all columns, or the first
                       ndistinct_on after a sort on them: DISTINCT ON)     */
    PL_LIMIT,       /* OFFSET / LIMIT                                      */
    PL_SETOP,       /* UNION / INTERSECT / EXCEPT [ALL] of two children    */
    PL_MODIFY       /* INSERT / UPDATE / DELETE                            */
} sql_plan_kind;

typedef enum sql_jointype {
    SQL_JOIN_INNER, SQL_JOIN_LEFT, SQL_JOIN_RIGHT, SQL_JOIN_FULL,
    SQL_JOIN_SEMI,  /* left rows with a match (EXISTS / IN pulled up)     */
    SQL_JOIN_ANTI   /* left rows without one                              */
} sql_jointype;
/* SEMI and ANTI joins output only the left row. */

typedef struct sql_sortkey {
    sql_bexpr *expr;                /* over the child row                  */
    bool desc;
    bool nulls_first;               /* resolved: default is NULLS LAST for
                                       ASC and NULLS FIRST for DESC         */
} sql_sortkey;

typedef struct sql_aggcall {
    sql_agg_resolved agg;
    int nargs;
    sql_bexpr **args;               /* over the child row                  */
    bool distinct;                  /* count(DISTINCT x)                   */
    sql_bexpr *filter;              /* FILTER (WHERE ...), or NULL         */
    int norder;                     /* string_agg(x, ',' ORDER BY y)       */
    sql_sortkey *order;
} sql_aggcall;

typedef enum sql_setop_kind { SETOP_UNION, SETOP_INTERSECT, SETOP_EXCEPT } sql_setop_kind;
typedef enum sql_modify_op { MOD_INSERT, MOD_UPDATE, MOD_DELETE } sql_modify_op;

/* Key range of a scan: equality on the first neq key columns, then an
 * optional range on the next one.  Values are cast to the key column's
 * type by the binder.  A NULL bound value makes the scan empty. */
typedef struct sql_keyrange {
    int neq;
    sql_bexpr **eq;
    sql_bexpr *lo, *hi;             /* on key column neq, or NULL          */
    bool lo_incl, hi_incl;
} sql_keyrange;

struct sql_plan {
    sql_plan_kind kind;
    int ncols;
    uint32_t *types;
    int32_t *typmods;
    char **names;                   /* output column names                 */
    double est_rows;                /* planner's estimate                  */
    sql_plan *left, *right;         /* children (left is the only child of
                                       single-input nodes)                 */
    const char *explain;            /* extra EXPLAIN lines of this node,
                                       "Index Cond: (id = 1)\nFilter: ..."
                                       or NULL                             */
    union {
        struct {                    /* PL_PROJECT                          */
            sql_bexpr **exprs;      /* ncols of them                       */
        } project;
        struct {                    /* PL_VALUES                           */
            int nrows;
            sql_bexpr ***rows;
        } values;
        struct {                    /* PL_SCAN, PL_INDEXSCAN               */
            const sql_table *table;
            const sql_index *index; /* PL_INDEXSCAN; PL_SCAN uses the
                                       primary key order                  */
            const char *alias;
            sql_keyrange range;     /* neq 0 and no lo/hi: everything     */
            sql_bexpr *qual;        /* pushed-down filter, or NULL        */
            bool emit_key;          /* append the row key column          */
            bool latest;            /* read SQL_READ_LATEST               */
            int64_t limit;          /* stop after this many rows passing
                                       qual (-1: none)                    */
        } scan;
        struct {                    /* PL_FUNCSCAN                         */
            sql_srf_resolved srf;
            int nargs;
            sql_bexpr **args;
        } func;
        struct {                    /* PL_VIRTUAL                          */
            const struct sql_vrel *rel;
            sql_bexpr *qual;
        } virt;
        struct {                    /* PL_FILTER                           */
            sql_bexpr *qual;
        } filter;
        struct {                    /* PL_NESTLOOP, PL_HASHJOIN            */
            sql_jointype type;
            int nkeys;              /* hash join: left_keys[i] (over the
                                       left row) = right_keys[i] (over the
                                       right row), same types             */
            sql_bexpr **left_keys;
            sql_bexpr **right_keys;
            sql_bexpr *qual;        /* other join conditions, over the
                                       joined row; NULL: none              */
        } join;
        struct {                    /* PL_SORT                             */
            int nkeys;
            sql_sortkey *keys;
            sql_bexpr *limit;       /* top-N: keep limit+offset rows, or
                                       NULL                               */
            sql_bexpr *offset;
        } sort;
        struct {                    /* PL_AGG                              */
            bool hashed;            /* false: one group (no GROUP BY)      */
            int ngroup;
            sql_bexpr **group;      /* over the child row                  */
            int naggs;
            sql_aggcall *aggs;
        } agg;
        struct {                    /* PL_DISTINCT                         */
            int ndistinct_on;       /* 0: all columns (hashed)             */
        } distinct;
        struct {                    /* PL_LIMIT                            */
            sql_bexpr *limit;       /* NULL: none                          */
            sql_bexpr *offset;      /* NULL: 0                             */
        } limit;
        struct {                    /* PL_SETOP                            */
            sql_setop_kind op;
            bool all;
        } setop;
        struct {                    /* PL_MODIFY                           */
            sql_modify_op op;
            const sql_table *table;
            /* INSERT: the child produces full table rows (natts values,
             *   defaults filled, cast to the column types, dropped
             *   columns NULL).
             * UPDATE / DELETE: the child produces the table row (natts),
             *   then the row key (BYTEA) at key_col, then anything else
             *   (joined tables of UPDATE ... FROM). */
            int key_col;
            /* UPDATE: newvals[attnum-1] over the child row, NULL: keep. */
            sql_bexpr **newvals;
            /* READ COMMITTED: when the locked row changed since the
             * snapshot, it is re-read, the first natts values of the
             * child row are replaced by it, and recheck (over that row,
             * NULL: none) decides whether it is still affected. */
            sql_bexpr *recheck;
            /* CHECK constraints over the new table row. */
            int nchecks;
            sql_bexpr **checks;
            const char **check_names;
            /* INSERT ... ON CONFLICT: 0 none, 1 DO NOTHING, 2 DO UPDATE.
             * conflict_set[attnum-1] and conflict_where read the row
             * existing row (natts) followed by EXCLUDED (natts). */
            int on_conflict;
            const sql_index *conflict_index; /* NULL: any unique index   */
            sql_bexpr **conflict_set;
            sql_bexpr *conflict_where;
            /* RETURNING over the new row (INSERT, UPDATE) or the old row
             * (DELETE); output columns are these. 0: no rows out. */
            int nreturning;
            sql_bexpr **returning;
        } modify;
    } u;
};

#endif
