/*
 * datacave/types.h - the neutral data types that cross module boundaries:
 * SQL values, rows and column descriptions.
 *
 * Types are named by their PostgreSQL OIDs, so the protocol module can send
 * them to clients unchanged.  Variable-length values (text, bytea, numeric)
 * point into memory owned by whoever produced the value; each call that hands
 * out values says how long that memory stays valid (typically "until the
 * next call on the same cursor" or "until the statement ends").
 *
 * Threads: plain data, no locking; a value is safe to read from any thread
 * for as long as the memory it points to is valid.
 */
#ifndef DATACAVE_TYPES_H
#define DATACAVE_TYPES_H

#include "abi.h"

/* PostgreSQL type OIDs of the types Datacave supports. */
typedef enum dc_type_oid {
    DC_TYPE_UNKNOWN = 0,        /* parameter type to infer, or NULL literal */
    DC_TYPE_BOOL = 16,
    DC_TYPE_BYTEA = 17,
    DC_TYPE_NAME = 19,
    DC_TYPE_INT8 = 20,
    DC_TYPE_INT2 = 21,
    DC_TYPE_INT4 = 23,
    DC_TYPE_TEXT = 25,
    DC_TYPE_OID = 26,
    DC_TYPE_FLOAT4 = 700,
    DC_TYPE_FLOAT8 = 701,
    DC_TYPE_BPCHAR = 1042,      /* char(n) */
    DC_TYPE_VARCHAR = 1043,     /* varchar(n) */
    DC_TYPE_DATE = 1082,
    DC_TYPE_TIMESTAMP = 1114,
    DC_TYPE_TIMESTAMPTZ = 1184,
    DC_TYPE_NUMERIC = 1700
} dc_type_oid;

/*
 * One SQL value.  `type` is a dc_type_oid.  When `is_null` is true nothing
 * else is meaningful.  Representation by type:
 *   BOOL                 u.b
 *   INT2, INT4, INT8, OID  u.i (sign-extended)
 *   FLOAT4, FLOAT8       u.f
 *   TEXT, VARCHAR, BPCHAR, NAME  u.bytes: UTF-8, not NUL-terminated
 *   BYTEA                u.bytes: raw bytes
 *   NUMERIC              u.bytes: canonical decimal text ("-12.340",
 *                        "NaN", "Infinity", "-Infinity")
 *   DATE                 u.i: days since 2000-01-01 (PostgreSQL's epoch)
 *   TIMESTAMP(TZ)        u.i: microseconds since 2000-01-01 00:00:00 (UTC
 *                        for TIMESTAMPTZ)
 * `typmod` is PostgreSQL's type modifier (-1 when none): for varchar(n) and
 * char(n) it is n + 4, for numeric(p,s) ((p << 16) | s) + 4.
 */
typedef struct dc_value {
    uint32_t type;
    int32_t typmod;
    bool is_null;
    union {
        bool b;
        int64_t i;
        double f;
        struct {
            const uint8_t *ptr;
            size_t len;
        } bytes;
    } u;
} dc_value;

/* A row: `ncols` values.  The array and what its values point to are
 * borrowed; see the call that hands out the row for how long. */
typedef struct dc_row {
    uint32_t ncols;
    const dc_value *values;
} dc_row;

/* Description of one result or table column. */
typedef struct dc_column {
    uint32_t size;        /* sizeof(dc_column) as the producer was built  */
    const char *name;     /* column name, UTF-8, NUL-terminated           */
    uint32_t type;        /* dc_type_oid                                  */
    int32_t typmod;       /* -1 when none                                 */
    int16_t typlen;       /* PostgreSQL's typlen: 1,2,4,8 or -1 (varlena) */
    uint32_t table_oid;   /* source table, 0 when not a plain column      */
    int16_t attnum;       /* source column number, 0 when not a column    */
    bool not_null;        /* declared NOT NULL                            */
} dc_column;

#endif
