/*
 * sql/binder.h - name resolution, type checking and planning: a parsed
 * statement (ast.h) becomes a plan tree (plan.h).
 *
 * The binder resolves names against ctx->cat (tables, views -- whose
 * query text is parsed and bound in place -- and the generated relations
 * of vcatalog.h), resolves operators and functions through funcs.h,
 * inserts casts, infers the types of untyped parameters, and then plans:
 * predicates are pushed down to scans; equality and range predicates on
 * a primary key or index prefix become key ranges (a point lookup never
 * scans); equi-joins become hash joins; the join order is chosen greedily
 * by estimated sizes so that many-table queries stay fast; ORDER BY with
 * LIMIT becomes a top-N sort; GROUP BY becomes hash aggregation.
 *
 * Errors as PostgreSQL words them, with err->position set from the AST:
 * 42P01 relation "x" does not exist, 42703 column "x" does not exist,
 * 42702 column reference "x" is ambiguous, 42803 for grouping errors,
 * 42804 datatype mismatch, 42883 undefined function/operator, 42601,
 * 42P10 for bad ORDER BY / GROUP BY positions, 0A000 for what is not
 * supported.
 */
#ifndef SQL_BINDER_H
#define SQL_BINDER_H

#include "sql/plan.h"

#define SQL_MAX_PARAMS 65535

/* Parameter types of a statement: on input the declared ones (0 =
 * infer), on output every one resolved (unresolved ones become text).
 * `n` grows to the highest $n referenced. */
typedef struct sql_param_types {
    uint32_t n;
    uint32_t *types;            /* room for the largest $n of the text   */
} sql_param_types;

/*
 * Plan a SELECT (or VALUES), INSERT, UPDATE or DELETE.  The plan and
 * everything it points to are allocated in `arena` (which may outlive
 * ctx->arena, for prepared statements); `src` is the statement text (for
 * views' and errors' sake).  `params` may be NULL when the statement has
 * no parameters.
 */
int sql_plan_stmt(sql_ctx *ctx, sql_arena *arena, const sql_stmt *stmt,
                  const char *src, sql_param_types *params, sql_plan **out,
                  dc_error *err);

/* Bind expression text (a DEFAULT or CHECK of table t) over the table
 * row (natts values, SX_COL = attnum - 1), cast (assignment) to `type`
 * when type is not 0. */
int sql_bind_expr_text(sql_ctx *ctx, sql_arena *arena, const sql_table *t,
                       const char *text, uint32_t type, int32_t typmod,
                       sql_bexpr **out, dc_error *err);

#endif
