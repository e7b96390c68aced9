/*
 * sql/types.h - the SQL value types of the sql module: text and binary
 * I/O, casts, arithmetic, comparison, hashing and order-preserving key
 * encoding for dc_value (datacave/types.h), following PostgreSQL 15.
 *
 * Supported types: bool, int2, int4, int8, oid, float4, float8,
 * numeric(p,s), text, varchar(n), bpchar / char(n), name, bytea, date,
 * timestamp, timestamptz; DC_TYPE_UNKNOWN is treated as text on input.
 * NULL is a dc_value with is_null set; every call below documents what it
 * does with NULL.
 *
 * Memory.  Calls that produce a variable-length value (text, bytea,
 * numeric) allocate its bytes through a sql_mem: `mem->alloc(mem->ctx, n)`
 * (an arena, typically) or, when `mem` is NULL, malloc (the caller then
 * frees `out->u.bytes.ptr` with free()).  Fixed-size values allocate
 * nothing.  Input values are only read and may point anywhere.  Text
 * output, binary send and key encoding append to a sql_buf, a malloc-grown
 * byte buffer owned by the caller.  An output parameter is written only
 * when the call succeeds.
 *
 * Errors.  Calls return DC_OK or a negative dc_status and fill `err` (may
 * be NULL) with PostgreSQL's SQLSTATE and message, e.g. 22P02 "invalid
 * input syntax for type integer: \"x\"", 22003 "integer out of range",
 * 22012 "division by zero", 22001 "value too long for type character
 * varying(3)", 22007/22008 for dates, 22P03 for bad binary data, 42846
 * "cannot cast type X to Y", 42883 for a missing operator.
 *
 * Session settings: the TimeZone is passed as a `const sql_tz *` (NULL
 * means UTC); DateStyle is ISO, MDY; extra_float_digits is 1 (shortest
 * exact float output); text comparison is bytewise (the "C" collation).
 *
 * Threads: no shared state; every call is reentrant.
 */
#ifndef SQL_TYPES_H
#define SQL_TYPES_H

#include <stddef.h>
#include <stdint.h>

#include "datacave/error.h"
#include "datacave/types.h"
#include "sql/datetime.h"
#include "sql/numeric.h"

/* ---- memory ------------------------------------------------------------- */

/* Allocator for produced values; see "Memory" above. */
typedef struct sql_mem {
    void *(*alloc)(void *ctx, size_t size); /* NULL on failure */
    void *ctx;
} sql_mem;

/* Growable byte buffer.  Zero-initialise or sql_buf_init(); release with
 * sql_buf_free().  `data` may move on every append. */
typedef struct sql_buf {
    uint8_t *data;
    size_t len;
    size_t cap;
} sql_buf;

void sql_buf_init(sql_buf *b);
void sql_buf_free(sql_buf *b);
/* Append bytes; DC_ENOMEM (53200) on allocation failure. */
int sql_buf_append(sql_buf *b, const void *p, size_t n, dc_error *err);

/* ---- type information ---------------------------------------------------- */

/* 1 when `type` is one of the supported dc_type_oid values. */
int sql_type_supported(uint32_t type);
/* PostgreSQL's name for a type ("integer", "character varying", "timestamp
 * with time zone", ...); "unknown" when not supported.  Static string. */
const char *sql_type_name(uint32_t type);
/* Type modifiers: varchar(n)/char(n) -> n + 4; numeric(p,s) ->
 * ((p << 16) | s) + 4.  -1 means none. */
int32_t sql_typmod_length(int n);
int32_t sql_typmod_numeric(int precision, int scale);
/* The NULL of a type. */
dc_value sql_value_null(uint32_t type);

/* UTF-8 helpers: characters in s[0..n); byte offset of character k. */
size_t sql_utf8_len(const uint8_t *s, size_t n);
size_t sql_utf8_off(const uint8_t *s, size_t n, size_t k);

/* Convenience constructors (no allocation; bytes are borrowed). */
dc_value sql_value_int(uint32_t type, int64_t v);
dc_value sql_value_float(uint32_t type, double v);
dc_value sql_value_bool(bool v);
dc_value sql_value_bytes(uint32_t type, const void *p, size_t len);

/* ---- text I/O --------------------------------------------------------------
 */

/*
 * Parse text `s[0..len)` (not NUL-terminated) as PostgreSQL's input
 * function for `type` with `typmod` (-1 for none) does, including typmod
 * enforcement (varchar/bpchar length with 22001, numeric precision with
 * 22003).  The result is never NULL: SQL NULL is not text.  Variable-length
 * results are allocated through `mem`.
 */
int sql_value_in(uint32_t type, int32_t typmod, const char *s, size_t len,
                 const sql_tz *tz, const sql_mem *mem, dc_value *out,
                 dc_error *err);
/* sql_value_in for a value that goes straight into a stored row
 * (sql_row_encode): text, varchar and char(n) values point into s (valid
 * while s is) instead of a copy, and char(n) comes without its pad,
 * which stored rows drop anyway.  The same checks and errors. */
int sql_value_in_borrowed(uint32_t type, int32_t typmod, const char *s,
                          size_t len, const sql_tz *tz, const sql_mem *mem,
                          dc_value *out, dc_error *err);

/*
 * Append PostgreSQL's text output of `v` to `out` (no NUL).  A NULL value
 * appends nothing and returns DC_OK (the protocol sends NULL separately).
 */
int sql_value_out(const dc_value *v, const sql_tz *tz, sql_buf *out,
                  dc_error *err);

/* Float text output into buf (at least 32 bytes): shortest text that reads
 * back exactly, formatted as PostgreSQL 12+ does.  Returns the length. */
size_t sql_float8_out(double d, char *buf);
size_t sql_float4_out(float f, char *buf);

/* ---- binary I/O
 * -------------------------------------------------------------- */

/* Append the PostgreSQL binary (wire) format of non-NULL `v` to `out`. */
int sql_value_send(const dc_value *v, sql_buf *out, dc_error *err);
/* Decode the binary format of `type` (typmod applied as on text input;
 * 22P03 "incorrect binary data format" on a wrong length). */
int sql_value_recv(uint32_t type, int32_t typmod, const uint8_t *p, size_t len,
                   const sql_mem *mem, dc_value *out, dc_error *err);

/* ---- casts
 * --------------------------------------------------------------------- */

/* Contexts, from most to least permissive use; a cast usable in a context
 * is usable in every later (more explicit) one. */
typedef enum sql_cast_ctx {
    SQL_CAST_NONE = 0,       /* no cast exists                        */
    SQL_CAST_IMPLICIT = 1,   /* allowed anywhere (expressions)        */
    SQL_CAST_ASSIGNMENT = 2, /* allowed in INSERT/UPDATE assignment   */
    SQL_CAST_EXPLICIT = 3    /* only with CAST(...) or ::             */
} sql_cast_ctx;

/* The least explicit context in which PostgreSQL casts `from` to `to`
 * (pg_cast plus the automatic I/O conversion casts); SQL_CAST_IMPLICIT
 * for the same type (length coercion) and from UNKNOWN; SQL_CAST_NONE
 * when no cast exists. */
sql_cast_ctx sql_cast_kind(uint32_t from, uint32_t to);

/*
 * Convert `v` to `to` with `typmod` as a cast in context `ctx` (which
 * matters for length coercion: an explicit cast to varchar(n)/char(n)
 * truncates silently, others raise 22001).  NULL casts to the NULL of
 * `to`.  42846 "cannot cast type X to Y" when sql_cast_kind() says none
 * (the context itself is not checked: the planner does that).
 */
int sql_value_cast(const dc_value *v, uint32_t to, int32_t typmod,
                   sql_cast_ctx ctx, const sql_tz *tz, const sql_mem *mem,
                   dc_value *out, dc_error *err);

/* ---- arithmetic
 * ------------------------------------------------------------------ */

typedef enum sql_arith_op {
    SQL_OP_ADD = 0,
    SQL_OP_SUB = 1,
    SQL_OP_MUL = 2,
    SQL_OP_DIV = 3,
    SQL_OP_MOD = 4
} sql_arith_op;

/* Result type of `a op b` with PostgreSQL's operator resolution over the
 * supported types (int2+int2 -> int2, int4+int8 -> int8, int+numeric ->
 * numeric, anything with a float -> float8 except float4 op float4,
 * date + int -> date, date - date -> int4, date - int -> date); 0 when no
 * such operator exists. */
uint32_t sql_arith_type(sql_arith_op op, uint32_t a, uint32_t b);

/* out = a op b.  A NULL operand gives the NULL of the result type.  Ints:
 * 22003 "<type> out of range", 22012 "division by zero", division
 * truncates, % has the dividend's sign.  Floats: 22003 "value out of
 * range: overflow/underflow", 22012.  Numeric: arbitrary precision with
 * PostgreSQL's scales.  42883 when sql_arith_type() is 0. */
int sql_value_arith(sql_arith_op op, const dc_value *a, const dc_value *b,
                    const sql_mem *mem, dc_value *out, dc_error *err);
/* Unary minus and abs on numeric types (22003 for INT_MIN). */
int sql_value_neg(const dc_value *a, const sql_mem *mem, dc_value *out,
                  dc_error *err);
int sql_value_abs(const dc_value *a, const sql_mem *mem, dc_value *out,
                  dc_error *err);

/* ---- numeric helpers
 * --------------------------------------------------------------- */

/* Parse a NUMERIC value's canonical text into *n (initialised). */
int sql_value_get_num(const dc_value *v, sql_num *n, dc_error *err);
/* Build a NUMERIC value (typmod -1) from *n, bytes through `mem`. */
int sql_value_put_num(const sql_num *n, const sql_mem *mem, dc_value *out,
                      dc_error *err);

/* ---- comparison and hashing
 * -------------------------------------------------------- */

/*
 * Compare two non-NULL values: *res < 0, 0, > 0.  Comparable: any two
 * numeric-category values (ints of any width, oid, floats, numeric), any
 * two string types (bytewise; bpchar ignores trailing spaces), bytea,
 * bool, and date/timestamp/timestamptz with each other (date as its
 * midnight; timestamp vs timestamptz compares as UTC wall times).  Float
 * and numeric NaN equal each other and sort above everything; -0 == 0.
 * 42883 for incomparable types.  NULLs: DC_EINVAL.
 */
int sql_value_cmp(const dc_value *a, const dc_value *b, int *res,
                  dc_error *err);

/* Hash consistent with sql_value_cmp equality within a type family:
 * equal integers of any width, and integral numerics that fit int64, hash
 * alike; float4/float8 alike (-0 == 0, one NaN); text/varchar/bpchar
 * alike (bpchar without trailing spaces).  NULL hashes to 0. */
uint64_t sql_value_hash(const dc_value *v);

/* ---- key encoding
 * --------------------------------------------------------------------- */

#define SQL_KEY_DESC        0x1 /* descending: bytes inverted          */
#define SQL_KEY_NULLS_FIRST 0x2 /* NULL sorts before every value       */

/*
 * Append a memcmp-comparable, self-delimiting encoding of `v` to `key`:
 * for values a, b of one type family (as sql_value_cmp), memcmp order of
 * the encodings (with the same flags) equals SQL order, equal values give
 * equal bytes, and encodings can be concatenated for multi-column keys.
 * A marker byte (NULL: 0x00 with SQL_KEY_NULLS_FIRST, else 0x02; value:
 * 0x01) precedes the payload; SQL_KEY_DESC inverts the payload only.
 * Payloads: ints and oid as 8-byte sign-flipped big-endian; floats as
 * order-transformed IEEE doubles (NaN last); bool 1 byte; date 4 and
 * timestamps 8 bytes sign-flipped; text/bytea bytes with 0x00 escaped as
 * 0x00 0xFF and a 0x00 0x00 terminator (bpchar without trailing spaces);
 * numeric as in sql_num_key().
 */
int sql_key_append(sql_buf *key, const dc_value *v, unsigned flags,
                   dc_error *err);

#endif
