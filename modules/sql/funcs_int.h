/*
 * sql/funcs_int.h - private to funcs*.c: the candidate tables that
 * sql_oper_resolve / sql_func_resolve search, and helpers shared by the
 * implementations (result allocation, text results, type categories).
 *
 * The candidate tables list one row per operator or function signature,
 * as pg_operator / pg_proc do; funcs.c resolves a call against them with
 * PostgreSQL's rules (exact match, unknown literals, implicit casts, most
 * exact matches, preferred types).  Polymorphic and variadic functions
 * (coalesce, greatest, concat ...) and function-style casts are resolved
 * by code in funcs.c before the tables are searched.
 */
#ifndef SQL_FUNCS_INT_H
#define SQL_FUNCS_INT_H

#include "sql/funcs.h"

/* One operator or function signature. */
typedef struct sql_fcand {
    const char *name; /* function name, or operator symbol        */
    int nargs;        /* operators: 1 prefix, 2 binary            */
    uint32_t args[6];
    uint32_t ret;
    sql_scalar_fn fn;
    unsigned flags; /* SQL_FN_*                                  */
} sql_fcand;

/* The tables (funcs_ops.c: operators; funcs_str.c, funcs_misc.c:
 * functions).  Each ends with a row whose name is NULL. */
extern const sql_fcand sql_oper_table[];
extern const sql_fcand sql_str_func_table[];
extern const sql_fcand sql_misc_func_table[];
extern const sql_fcand sql_fmt_func_table[];

/* Scalar functions that funcs.c resolves by code. */
int sql_fn_coalesce(sql_ctx *ctx, int nargs, const dc_value *args,
                    dc_value *out, dc_error *err);
int sql_fn_greatest(sql_ctx *ctx, int nargs, const dc_value *args,
                    dc_value *out, dc_error *err);
int sql_fn_least(sql_ctx *ctx, int nargs, const dc_value *args, dc_value *out,
                 dc_error *err);
int sql_fn_nullif(sql_ctx *ctx, int nargs, const dc_value *args, dc_value *out,
                  dc_error *err);
int sql_fn_concat(sql_ctx *ctx, int nargs, const dc_value *args, dc_value *out,
                  dc_error *err);
int sql_fn_concat_ws(sql_ctx *ctx, int nargs, const dc_value *args,
                     dc_value *out, dc_error *err);
/* text || any and any || text: the non-text side in its text form. */
int sql_fn_anytextcat(sql_ctx *ctx, int nargs, const dc_value *args,
                      dc_value *out, dc_error *err);
int sql_fn_power_num(sql_ctx *ctx, int nargs, const dc_value *args,
                     dc_value *out, dc_error *err);
int sql_fn_textcat(sql_ctx *ctx, int nargs, const dc_value *args, dc_value *out,
                   dc_error *err);

/* ---- resolution ---------------------------------------------------------- */

/* Result of a table search. */
enum { SQL_FIND_OK = 0, SQL_FIND_NONE = 1, SQL_FIND_AMBIGUOUS = 2 };

/* Search `table` for `name` with nargs (<= 4) arguments of types `in`
 * with PostgreSQL's rules; when `exact_unknown` (binary operators) one
 * unknown input is first tried as the other input's type
 * (binary_oper_exact).  SQL_FIND_OK sets *out. */
int sql_fx_find(const sql_fcand *table, const char *name, int nargs,
                const uint32_t *in, bool exact_unknown, const sql_fcand **out);
/* 42883 / 42725 for a function call that found no / several candidates
 * (`found` from sql_fx_find); returns DC_ETYPE. */
int sql_fx_func_error(int found, const char *name, int nargs,
                      const uint32_t *types, dc_error *err);

/* ---- helpers ------------------------------------------------------------ */

/* n bytes from the statement's allocator (ctx->mem); 53200 on failure. */
void *sql_fx_alloc(sql_ctx *ctx, size_t n, dc_error *err);
/* A text value over a copy of p[0..n) in ctx->mem. */
int sql_fx_text(sql_ctx *ctx, uint32_t type, const void *p, size_t n,
                dc_value *out, dc_error *err);
/* Wrap a malloc'd sql_buf's bytes as a text value (copied; buf freed). */
int sql_fx_text_buf(sql_ctx *ctx, uint32_t type, sql_buf *b, dc_value *out,
                    dc_error *err);
/* Numeric result from *n (copied into ctx->mem). */
int sql_fx_num(sql_ctx *ctx, const sql_num *n, dc_value *out, dc_error *err);
/* Compare two non-NULL values: like sql_value_cmp but timestamp against
 * timestamptz uses the session time zone, as PostgreSQL does. */
int sql_fx_cmp(sql_ctx *ctx, const dc_value *a, const dc_value *b, int *res,
               dc_error *err);

/* Compare two non-NULL NUMERIC values by their canonical text ("-12.340",
 * "NaN", "Infinity", "-Infinity") without allocating; false when a text
 * is not in canonical form (the caller then parses). */
bool sql_fx_num_cmp(const dc_value *a, const dc_value *b, int *res);

/* PostgreSQL's type category ('N', 'S', 'B', 'D', 'U'; 'X' unknown). */
char sql_type_category(uint32_t t);
bool sql_type_preferred(uint32_t t);

/* lower() of s[0..n) into d (n bytes: the mapping keeps lengths). */
void sql_fx_lower_bytes(const uint8_t *s, size_t n, uint8_t *d);

#endif
