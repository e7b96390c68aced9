/*
 * sql/funcs.h - operators, scalar functions and aggregates, with
 * PostgreSQL's type resolution for the supported types.
 *
 * The binder resolves every operator application and function call here
 * (by name and argument types) once; the executor then calls the resolved
 * C function per row.  Comparison, arithmetic, ||, LIKE (~~, ~~*, !~~,
 * !~~*), regex match (~, ~*, !~, !~*) and the unary operators are
 * operators; COALESCE, NULLIF, GREATEST and LEAST are functions that are
 * not strict.
 *
 * Resolution follows PostgreSQL's rules in spirit: an exact match first;
 * then an unknown-typed argument (a string literal or untyped $n) takes
 * the type of the other side or the function's declared type; then
 * implicit casts (sql_cast_kind) to the candidate with the most exact
 * matches and the preferred type of each category (float8 for numbers,
 * text for strings, timestamptz for date/time).  No match is 42883
 * 'operator does not exist: integer + boolean' / 'function foo(integer)
 * does not exist' with the hint PostgreSQL gives; several equally good
 * ones 42725.
 */
#ifndef SQL_FUNCS_H
#define SQL_FUNCS_H

#include "sql/engine.h"

/* A scalar function.  `args` has nargs values already cast to the
 * resolved argument types.  For a strict function the executor never
 * calls it with a NULL argument (the result is NULL).  Results of
 * variable-length types are allocated through ctx->mem, or borrow the
 * bytes of an argument (substring, btrim, coalesce ... return a slice of
 * or one of their arguments): a result lives as long as its arguments. */
typedef int (*sql_scalar_fn)(sql_ctx *ctx, int nargs, const dc_value *args,
                             dc_value *out, dc_error *err);

#define SQL_FN_STRICT    0x1  /* NULL in any argument -> NULL result      */
#define SQL_FN_VOLATILE  0x2  /* not to be folded at bind time (now(),
                                 random(), current_setting, nextval ...) */
#define SQL_FN_SETOF     0x4  /* set-returning (generate_series)          */

#define SQL_MAX_FN_ARGS 100

typedef struct sql_func_resolved {
    sql_scalar_fn fn;
    unsigned flags;
    uint32_t rettype;
    int32_t rettypmod;                 /* usually -1                       */
    int nargs;
    uint32_t argtypes[SQL_MAX_FN_ARGS];/* cast each argument to this type  */
    const char *name;                  /* canonical name (for EXPLAIN)     */
} sql_func_resolved;

/* Resolve operator `op` ("+", "=", "<>", "||", "~~", "-" ...) with one
 * (prefix: left is DC_TYPE_UNKNOWN and unary true) or two operands.
 * "!=" is "<>".  Besides comparison and arithmetic: prefix - + @ |/ ~,
 * ^ (float8), integer & | # << >>, ^@ (starts with).
 * Pattern matching, as PostgreSQL rewrites it:
 *   x LIKE p            x ~~ p        (NOT LIKE: !~~, ILIKE: ~~*, !~~*)
 *   x LIKE p ESCAPE e   x ~~ like_escape(p, e)
 *   x SIMILAR TO p [ESCAPE e]   x ~ similar_to_escape(p [, e])
 * Regular expressions are POSIX extended ones plus \d \D (funcs_rx.c);
 * a bad pattern is 2201B. */
int sql_oper_resolve(const char *op, bool unary, uint32_t left,
                     uint32_t right, sql_func_resolved *out, dc_error *err);
/* Resolve function `name` (lower case, without "pg_catalog.") applied to
 * nargs arguments of the given types (DC_TYPE_UNKNOWN for literals and
 * NULL).  Covers abs, round, trunc, ceil/ceiling, floor, mod, sign,
 * sqrt, power, exp, ln, log, pi, random, length/char_length/
 * character_length/octet_length, lower, upper, substring/substr, position/
 * strpos, trim/btrim/ltrim/rtrim, replace, concat, concat_ws, left, right,
 * lpad, rpad, repeat, reverse, initcap, split_part, starts_with, md5,
 * to_char (common patterns), now, current_timestamp, statement_timestamp,
 * transaction_timestamp, clock_timestamp, current_date, date_part/extract,
 * date_trunc, age, coalesce, nullif, greatest, least, version,
 * current_setting, set_config, current_schema, current_database,
 * current_user, session_user, user, pg_backend_pid, format_type,
 * pg_table_is_visible, pg_get_userbyid, obj_description,
 * pg_get_expr, pg_get_indexdef, pg_get_constraintdef, pg_encoding_to_char,
 * has_table_privilege, pg_postmaster_start_time, txid_current.
 * Also: strpos, translate, ascii, chr, to_hex, quote_ident, quote_literal,
 * overlay, regexp_replace, like_escape, similar_to_escape, div, the float8
 * trigonometry, localtimestamp, current_role, current_catalog,
 * col_description, has_schema/database_privilege, pg_typeof (text),
 * encode/decode (hex, base64, escape), format (%s %I %L), num_nulls,
 * num_nonnulls, to_timestamp(float8), to_date / to_timestamp(text, text)
 * and to_number with the to_char template subset, make_date, make_timestamp,
 * isfinite, pg_sleep (returns a NULL text), and function-style casts
 * int4(x), text(x), numeric(x) ... for every type.
 * Names the parser produces for special syntax: extract(field, x) with the
 * field as a string, position(string, substring), substring(x, from
 * [, for]) and substring(x, pattern), btrim/ltrim/rtrim(x [, chars]),
 * overlay(x, placing, from [, for]); CURRENT_DATE, CURRENT_TIMESTAMP,
 * LOCALTIMESTAMP, CURRENT_USER, SESSION_USER, USER, CURRENT_ROLE,
 * CURRENT_CATALOG, CURRENT_SCHEMA resolve as functions of those names.
 * Not available: age() and the time/interval types, set_config() (0A000:
 * use SET), txid_current() (0A000), numeric exp/ln/log (computed in
 * float8; numeric sqrt and power are exact); obj_description returns
 * NULL.  pg_get_expr, pg_get_indexdef, pg_get_constraintdef,
 * pg_get_viewdef and the array functions are funcs_pg.h's.
 * Case mapping (upper, lower, initcap, ILIKE) covers ASCII, Latin-1,
 * Latin Extended-A, Greek and Cyrillic; ~* folds ASCII only. */
int sql_func_resolve(const char *name, int nargs, const uint32_t *argtypes,
                     sql_func_resolved *out, dc_error *err);

/* The common type of n expressions for UNION, CASE, COALESCE, IN, VALUES
 * (PostgreSQL's select_common_type): all unknown -> text; otherwise one
 * category, the preferred or widest type.  42804 'UNION types integer and
 * text cannot be matched' (`context` names the construct: "UNION",
 * "CASE", "COALESCE", "VALUES", "IN"). */
int sql_common_type(const char *context, int n, const uint32_t *types,
                    uint32_t *out, dc_error *err);

/* ---- set-returning functions in FROM ------------------------------------ */
/* generate_series(int, int [, int]), generate_series(bigint ...),
 * generate_series(numeric ...), generate_series(timestamp[tz], ..., text)
 * where the text is the interval step ('1 day', '15 minutes', '1:30',
 * '1 month'; months and days step in the session's local time): rettype
 * is the element type.  open() allocates the state (malloc); close()
 * frees it. */
typedef struct sql_srf_state sql_srf_state;
typedef struct sql_srf_resolved {
    uint32_t rettype;
    int nargs;
    uint32_t argtypes[4];
    int (*open)(sql_ctx *ctx, int nargs, const dc_value *args,
                sql_srf_state **out, dc_error *err);
    /* Next value; *done at the end. */
    int (*next)(sql_ctx *ctx, sql_srf_state *st, dc_value *out, bool *done,
                dc_error *err);
    void (*close)(sql_srf_state *st);
} sql_srf_resolved;
int sql_srf_resolve(const char *name, int nargs, const uint32_t *argtypes,
                    sql_srf_resolved *out, dc_error *err);

/* ---- aggregates --------------------------------------------------------- */
/* count(*) (nargs 0, star), count, sum, avg, min, max, string_agg,
 * bool_and, bool_or, every, array_agg (funcs_pg.h).  The state is
 * state_size bytes the executor zeroes and passes back; for a strict
 * aggregate the executor skips rows with a NULL argument.  final() may be
 * called once; results of variable-length types go through ctx->mem.
 * free() (may be NULL) releases memory the state holds. */
typedef struct sql_agg_resolved {
    const char *name;
    unsigned flags;                    /* SQL_FN_STRICT                    */
    uint32_t rettype;
    int32_t rettypmod;
    int nargs;
    uint32_t argtypes[2];
    size_t state_size;
    int (*step)(sql_ctx *ctx, void *state, int nargs, const dc_value *args,
                dc_error *err);
    int (*final)(sql_ctx *ctx, void *state, dc_value *out, dc_error *err);
    void (*free)(void *state);
    /* Approximate heap bytes held by the state beyond state_size (for
     * work_mem accounting); NULL means none. */
    size_t (*mem)(const void *state);
} sql_agg_resolved;
/* true when `name` is an aggregate. */
bool sql_is_aggregate(const char *name);
int sql_agg_resolve(const char *name, bool star, int nargs,
                    const uint32_t *argtypes, sql_agg_resolved *out,
                    dc_error *err);

/* ---- pattern matching (also used by the pg_catalog filters) ------------- */
/* LIKE with PostgreSQL's rules (%, _, ESCAPE, default escape '\'); icase
 * for ILIKE (both sides lower-cased as lower() does).  A negative
 * `escape` means none.  22025 for a pattern ending in the escape
 * character (when reached). */
int sql_like_match(const uint8_t *s, size_t slen, const uint8_t *pat,
                   size_t plen, int escape, bool icase, bool *match,
                   dc_error *err);

/* The version() string: "PostgreSQL 15.x (Datacave 0.1.0) on ...". */
const char *sql_version_string(void);

#endif
