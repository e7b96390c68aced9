/*
 * sql/numeric.h - arbitrary-precision decimal arithmetic for NUMERIC.
 *
 * A sql_num is a decimal number value = coef * 10^-scale, with the
 * coefficient held as little-endian base-10 digits (digits[0] is the least
 * significant), or one of the special values NaN, +Infinity, -Infinity.
 * `scale` is also PostgreSQL's display scale (dscale): "1.50" has coef 150,
 * scale 2.  Zero has ndigits == 0.  The coefficient never has leading
 * (most-significant) zero digits.
 *
 * Ownership: a sql_num owns its digit array (malloc).  Initialise with
 * sql_num_init() (or any producing call), release with sql_num_free().
 * Every producing call takes an output sql_num that must be initialised;
 * its old content is released first, and on failure it is left valid (but
 * unspecified).  Inputs and output may not alias unless the comment says so.
 *
 * Rules follow PostgreSQL 15's numeric.c: add/sub keep max(dscale), mul
 * sums the dscales, division picks its scale with select_div_scale and
 * rounds half away from zero, mod has the sign of the dividend.
 *
 * Errors: calls return DC_OK or a negative dc_status and fill `err` with a
 * PostgreSQL SQLSTATE (22P02 bad syntax, 22003 overflow, 22012 division by
 * zero, 53200 out of memory).
 *
 * Threads: no shared state.
 */
#ifndef SQL_NUMERIC_H
#define SQL_NUMERIC_H

#include <stddef.h>
#include <stdint.h>

#include "datacave/error.h"

typedef enum sql_num_kind {
    SQL_NUM_FINITE = 0,
    SQL_NUM_NAN = 1,
    SQL_NUM_PINF = 2,
    SQL_NUM_NINF = 3
} sql_num_kind;

/* Largest display scale and precision PostgreSQL allows. */
#define SQL_NUM_MAX_SCALE     1000
#define SQL_NUM_MAX_PRECISION 1000

typedef struct sql_num {
    int kind;        /* sql_num_kind                                */
    int neg;         /* 1 when negative (never for zero)            */
    int scale;       /* display scale, >= 0                         */
    int ndigits;     /* number of coefficient digits                */
    int cap;         /* allocated size of digits                    */
    uint8_t *digits; /* little-endian decimal digits (0..9)         */
} sql_num;

void sql_num_init(sql_num *n);
void sql_num_free(sql_num *n);
/* Deep copy src into *dst. */
int sql_num_copy(sql_num *dst, const sql_num *src, dc_error *err);

/* Parse PostgreSQL numeric input text (surrounding whitespace allowed,
 * sign, digits, '.', exponent, NaN, Infinity, inf).  22P02 on bad text. */
int sql_num_parse(const char *s, size_t len, sql_num *out, dc_error *err);

/* Canonical text: "-12.340", "0", "NaN", "Infinity", "-Infinity".
 * Writes a NUL-terminated string into a malloc'd buffer (*out, length
 * *outlen without the NUL); the caller frees *out. */
int sql_num_format(const sql_num *n, char **out, size_t *outlen, dc_error *err);

int sql_num_from_int64(int64_t v, sql_num *out, dc_error *err);
/* Round half away from zero to an integer and store in *v.  22003 "<name>
 * out of range" when it does not fit in [min, max] (name: "smallint",
 * "integer", "bigint"); 0A000 for NaN and infinities. */
int sql_num_to_int(const sql_num *n, int64_t min, int64_t max, const char *name,
                   int64_t *v, dc_error *err);
/* From a double as PostgreSQL does: %.<digits>g (15 for float8, 6 for
 * float4), NaN and infinities kept. */
int sql_num_from_double(double d, int digits, sql_num *out, dc_error *err);
/* Nearest double (via strtod of the canonical text). */
double sql_num_to_double(const sql_num *n);

/* Enforce numeric(p,s) given PostgreSQL's typmod (-1: no-op): round to s,
 * 22003 "numeric field overflow" when more than p-s integer digits or an
 * infinity.  In place. */
int sql_num_apply_typmod(sql_num *n, int32_t typmod, dc_error *err);

/* Comparison with PostgreSQL's total order: -Infinity < finite < Infinity
 * < NaN, NaN == NaN.  Returns <0, 0, >0.  Scale does not matter. */
int sql_num_cmp(const sql_num *a, const sql_num *b);

int sql_num_add(const sql_num *a, const sql_num *b, sql_num *out,
                dc_error *err);
int sql_num_sub(const sql_num *a, const sql_num *b, sql_num *out,
                dc_error *err);
int sql_num_mul(const sql_num *a, const sql_num *b, sql_num *out,
                dc_error *err);
/* a / b with PostgreSQL's select_div_scale result scale. */
int sql_num_div(const sql_num *a, const sql_num *b, sql_num *out,
                dc_error *err);
/* a / b to exactly `rscale` digits, rounded (round != 0) half away from
 * zero or truncated. */
int sql_num_div_scale(const sql_num *a, const sql_num *b, int rscale, int round,
                      sql_num *out, dc_error *err);
int sql_num_mod(const sql_num *a, const sql_num *b, sql_num *out,
                dc_error *err);
/* In place: round half away from zero / truncate to `scale` digits after
 * the point (may be negative: round(1234,-2) = 1200); result dscale is
 * max(scale, 0). */
int sql_num_round(sql_num *n, int scale, dc_error *err);
int sql_num_trunc(sql_num *n, int scale, dc_error *err);
/* In place negation / absolute value (NaN unchanged). */
void sql_num_neg(sql_num *n);
void sql_num_abs(sql_num *n);

/* Decimal exponent of the leading digit of a finite non-zero number
 * (123.4 -> 2, 0.05 -> -2). */
int sql_num_exponent(const sql_num *n);

/* PostgreSQL binary wire format (ndigits, weight, sign, dscale, base-10000
 * digits, all big-endian int16).  sql_num_send returns a malloc'd buffer.
 * sql_num_recv validates (22P03 "invalid ... in external \"numeric\" value")
 * and truncates to the sent dscale as PostgreSQL does. */
int sql_num_send(const sql_num *n, uint8_t **out, size_t *outlen,
                 dc_error *err);
int sql_num_recv(const uint8_t *p, size_t len, sql_num *out, dc_error *err);

/* Hash consistent with sql_num_cmp equality; an integral value that fits
 * in int64 hashes like sql_hash_int64 of that value. */
uint64_t sql_num_hash(const sql_num *n);

/* Order-preserving key encoding (ascending, self-delimiting) appended to a
 * malloc-grown buffer (*buf, *len, *cap).  Equal numbers give equal bytes. */
int sql_num_key(const sql_num *n, uint8_t **buf, size_t *len, size_t *cap,
                dc_error *err);

/* 64-bit mix used for every hash in the sql types (splitmix64 finaliser). */
uint64_t sql_hash_int64(int64_t v);
uint64_t sql_hash_bytes(const void *p, size_t len);

#endif
