/*
 * sql/exec.h - running plan trees (plan.h).
 *
 * Pull model: sql_exec_next hands out one row at a time.  Memory is
 * bounded: per-row work uses scratch memory that is reset between rows;
 * a sort beyond ctx->work_mem spills sorted runs to temporary files in
 * eng->tmp_dir and merges them; a hash join or hash aggregate beyond
 * work_mem fails with 53200 'out of memory' and the detail 'work_mem
 * (N kB) exceeded by hash table', never the process.  Long loops check
 * sql_check_cancel (57014).
 *
 * While an expression is evaluated ctx->mem allocates from memory that
 * lives until the row is handed out and the next row is asked for.
 */
#ifndef SQL_EXEC_H
#define SQL_EXEC_H

#include "sql/plan.h"

typedef struct sql_cursor sql_cursor;

/* Open a cursor on a top-level plan. */
int sql_exec_open(sql_ctx *ctx, const sql_plan *plan, sql_cursor **out,
                  dc_error *err);
/* Next row into *row (borrowed until the next call or close); *done at
 * the end. */
int sql_exec_next(sql_cursor *c, dc_row *row, bool *done, dc_error *err);
/* Rows inserted, updated or deleted so far by a PL_MODIFY plan (also
 * when it has no RETURNING and thus hands out no rows). */
uint64_t sql_exec_processed(const sql_cursor *c);
void sql_exec_close(sql_cursor *c);

/* Evaluate an expression over `row` (SX_COL) with correlation values
 * `outer` (SX_OUTER; may be NULL). */
int sql_eval(sql_ctx *ctx, const sql_bexpr *e, const dc_value *row,
             const dc_value *outer, dc_value *out, dc_error *err);
/* Evaluate a qualification: true only when the value is TRUE (NULL and
 * FALSE are false). */
int sql_eval_qual(sql_ctx *ctx, const sql_bexpr *e, const dc_value *row,
                  const dc_value *outer, bool *ok, dc_error *err);

/* EXPLAIN text of a plan, PostgreSQL's layout ("Seq Scan on t",
 * "  ->  Hash Join", "        Hash Cond: ..."), one line per row of
 * the result, lines separated by '\n'. */
int sql_plan_explain(const sql_plan *plan, sql_buf *out, dc_error *err);

#endif
