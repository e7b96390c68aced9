/*
 * sql/datetime.h - DATE, TIMESTAMP and TIMESTAMPTZ text conversion and
 * calendar arithmetic, following PostgreSQL 15 with DateStyle ISO, MDY.
 *
 * Representations (as in datacave/types.h):
 *   date         int32 days since 2000-01-01; INT32_MIN / INT32_MAX are
 *                -infinity / infinity.
 *   timestamp    int64 microseconds since 2000-01-01 00:00:00 (UTC for
 *                timestamptz); INT64_MIN / INT64_MAX are -infinity /
 *                infinity.
 * Calendar: proleptic Gregorian; astronomical year y <= 0 is year 1-y BC.
 *
 * Time zones: only fixed offsets.  A sql_tz holds the session TimeZone as
 * seconds EAST of UTC (ISO sign: +05:30 is 19800).  sql_tz_parse() reads a
 * TimeZone setting the way PostgreSQL does for the forms supported: "UTC",
 * "GMT", "Z", "Etc/UTC", and POSIX-style offsets ("UTC+3", "+02:30", "-5")
 * where a positive number means WEST of Greenwich.
 *
 * Errors: 22007 invalid syntax ("invalid input syntax for type date: \"x\""),
 * 22008 field out of range ("date/time field value out of range: \"x\""),
 * "date out of range", "timestamp out of range".
 *
 * Threads: no shared state.
 */
#ifndef SQL_DATETIME_H
#define SQL_DATETIME_H

#include <stddef.h>
#include <stdint.h>

#include "datacave/error.h"

#define SQL_DATE_NOBEGIN  INT32_MIN
#define SQL_DATE_NOEND    INT32_MAX
#define SQL_TS_NOBEGIN    INT64_MIN
#define SQL_TS_NOEND      INT64_MAX
#define SQL_USECS_PER_DAY INT64_C(86400000000)

typedef struct sql_tz {
    int32_t offset; /* seconds east of UTC */
} sql_tz;

/* Parse a TimeZone setting.  DC_EINVAL (22023 "invalid value for
 * parameter \"TimeZone\": \"x\"") when unsupported. */
int sql_tz_parse(const char *name, sql_tz *out, dc_error *err);

/* Days since 2000-01-01 of the astronomical civil date y-m-d (no range
 * checking of y; m 1..12, d 1..31), and back. */
int64_t sql_date_from_ymd(int64_t y, int m, int d);
void sql_date_to_ymd(int64_t days, int64_t *y, int *m, int *d);
/* 1 when y-m-d is a real calendar date (y astronomical). */
int sql_ymd_valid(int64_t y, int m, int d);

/* Text input.  `s` need not be NUL-terminated.  `tz` is the session zone
 * (used for 'today'/'now' and for timestamptz without an explicit offset;
 * may be NULL = UTC). */
int sql_date_in(const char *s, size_t len, const sql_tz *tz, int32_t *out,
                dc_error *err);
int sql_timestamp_in(const char *s, size_t len, const sql_tz *tz, int64_t *out,
                     dc_error *err);
int sql_timestamptz_in(const char *s, size_t len, const sql_tz *tz,
                       int64_t *out, dc_error *err);

/* Text output, NUL-terminated into buf (at least SQL_DT_OUTLEN bytes);
 * returns the length. */
#define SQL_DT_OUTLEN 64
size_t sql_date_out(int32_t d, char *buf);
size_t sql_timestamp_out(int64_t ts, char *buf);
size_t sql_timestamptz_out(int64_t ts, const sql_tz *tz, char *buf);

/* Conversions with PostgreSQL's range checks (22008 "date out of range" /
 * "timestamp out of range"); infinities map to infinities. */
int sql_date_to_timestamp(int32_t d, int64_t *out, dc_error *err);
int sql_timestamp_to_date(int64_t ts, int32_t *out, dc_error *err);
/* timestamp (local wall time in tz) <-> timestamptz (UTC). */
int sql_timestamp_to_tz(int64_t ts, const sql_tz *tz, int64_t *out,
                        dc_error *err);
int sql_timestamptz_to_local(int64_t ts, const sql_tz *tz, int64_t *out,
                             dc_error *err);

/* date + days (date - days: pass -days).  22008 "date out of range". */
int sql_date_add_days(int32_t d, int64_t days, int32_t *out, dc_error *err);
/* date - date in days; 22008 "cannot subtract infinite dates". */
int sql_date_diff(int32_t a, int32_t b, int32_t *out, dc_error *err);

/* 1 when a date / timestamp value lies in PostgreSQL's valid range. */
int sql_date_ok(int64_t d);
int sql_timestamp_ok(int64_t ts);

#endif
