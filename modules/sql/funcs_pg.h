/*
 * sql/funcs_pg.h - PostgreSQL catalog functions and array support
 * (funcs_pg.c): what psql's backslash commands and the drivers' catalog
 * queries call.
 *
 * Arrays.  Datacave has no array types: an array value is a TEXT value
 * holding PostgreSQL's text form of the array ("{a,b,\"c d\",NULL}", or
 * "1 2 3" for int2vector / oidvector, as pg_index.indkey shows it).  The
 * pg_catalog relations expose their array columns that way, and
 * ARRAY(subquery), array_agg and X::T[] produce such texts.  The functions
 * that read arrays (array_to_string, array_upper, array_lower,
 * array_length, cardinality, unnest, x op ANY/ALL (array), arr[i]) parse
 * the text; an element is compared as a value of the other operand's type.
 */
#ifndef SQL_FUNCS_PG_H
#define SQL_FUNCS_PG_H

#include "sql/funcs_int.h"

/* The candidate table of funcs_pg.c's functions (searched first). */
extern const sql_fcand sql_pg_func_table[];

/* x op ANY/ALL (array text): a non-strict function of (x, array text,
 * op code, all) where the op code is one of
 * SQL_PG_QOP_EQ..SQL_PG_QOP_GE; x has type `elemtype`. */
enum {
    SQL_PG_QOP_EQ,
    SQL_PG_QOP_NE,
    SQL_PG_QOP_LT,
    SQL_PG_QOP_LE,
    SQL_PG_QOP_GT,
    SQL_PG_QOP_GE
};
/* The op code of comparison operator `op`, or -1. */
int sql_pg_quant_op(const char *op);
void sql_pg_quant_resolve(uint32_t elemtype, sql_func_resolved *out);

/* ARRAY[...] of nargs (<= SQL_MAX_FN_ARGS) elements of type elemtype: a
 * non-strict function returning the array text. */
void sql_pg_array_build_resolve(int nargs, uint32_t elemtype,
                                sql_func_resolved *out);

/* The element type of array type t (1007 -> int4), 0 when t is not the
 * array type of a supported type. */
uint32_t sql_pg_array_elem(uint32_t t);

/* The aggregate behind ARRAY(subquery): the text array of its argument's
 * values in input order, "{}" over no rows. */
void sql_pg_array_sublink_agg(uint32_t argtype, sql_agg_resolved *out);
/* array_agg(x): as above but NULL over no rows.  DC_OK, or 1 when `name`
 * is not array_agg. */
int sql_pg_agg_resolve(const char *name, int nargs, const uint32_t *argtypes,
                       sql_agg_resolved *out);

/* unnest(array text) in FROM: one text row per element.  DC_OK, or 1 when
 * `name` is not unnest. */
int sql_pg_srf_resolve(const char *name, int nargs, const uint32_t *argtypes,
                       sql_srf_resolved *out);

#endif
