/*
 * sql/datetime.c - date and timestamp input, output and arithmetic (see
 * datetime.h).  The parser handles the common PostgreSQL forms, not all of
 * ParseDateTime/DecodeDateTime.
 */
#include "sql/datetime.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Valid ranges (PostgreSQL's datatype/timestamp.h, relative to 2000). */
#define DATE_MIN (-2451545)                   /* 4714-11-24 BC */
#define DATE_END (2147483494 - 2451545)       /* 5874898-01-01, exclusive */
#define TS_MIN   INT64_C(-211813488000000000) /* 4714-11-24 BC 00:00 */
#define TS_END   INT64_C(9223371331200000000) /* 294277-01-01, exclusive */

/* ---- calendar --------------------------------------------------------------
 */

static int64_t floordiv(int64_t a, int64_t b)
{
    int64_t q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0)))
        q--;
    return q;
}

/* Howard Hinnant's days_from_civil, shifted to the 2000-01-01 epoch. */
int64_t sql_date_from_ymd(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = floordiv(y, 400);
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468 - 10957;
}

void sql_date_to_ymd(int64_t days, int64_t *y, int *m, int *d)
{
    int64_t z = days + 10957 + 719468;
    int64_t era = floordiv(z, 146097);
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

static int is_leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int sql_ymd_valid(int64_t y, int m, int d)
{
    static const int mdays[12] = {31, 28, 31, 30, 31, 30,
                                  31, 31, 30, 31, 30, 31};
    if (m < 1 || m > 12 || d < 1)
        return 0;
    int md = mdays[m - 1] + (m == 2 && is_leap(y));
    return d <= md;
}

int sql_date_ok(int64_t d)
{
    return d == SQL_DATE_NOBEGIN || d == SQL_DATE_NOEND ||
           (d >= DATE_MIN && d < DATE_END);
}

int sql_timestamp_ok(int64_t ts)
{
    return ts == SQL_TS_NOBEGIN || ts == SQL_TS_NOEND ||
           (ts >= TS_MIN && ts < TS_END);
}

/* ---- time zones -----------------------------------------------------------
 */

static int ci_prefix(const char *s, size_t len, const char *word)
{
    size_t n = strlen(word);
    if (len < n)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (tolower((unsigned char)s[i]) != word[i])
            return 0;
    return 1;
}

/* Parse [+-]H[H][:MM[:SS]] or [+-]HHMM at s; returns seconds (sign as
 * written) and the characters consumed, or 0 consumed on failure. */
static size_t parse_offset(const char *s, size_t len, int need_sign,
                           int32_t *secs)
{
    size_t i = 0;
    int neg = 0;
    if (i < len && (s[i] == '+' || s[i] == '-')) {
        neg = s[i] == '-';
        i++;
    } else if (need_sign) {
        return 0;
    }
    size_t st = i;
    while (i < len && isdigit((unsigned char)s[i]))
        i++;
    size_t nd = i - st;
    if (nd == 0 || nd > 4 || nd == 3)
        return 0;
    int h, m = 0, sec = 0;
    if (nd == 4) {
        h = (s[st] - '0') * 10 + (s[st + 1] - '0');
        m = (s[st + 2] - '0') * 10 + (s[st + 3] - '0');
    } else {
        if (nd == 2)
            h = (s[st] - '0') * 10 + (s[st + 1] - '0');
        else
            h = s[st] - '0';
        if (i + 2 < len && s[i] == ':' && isdigit((unsigned char)s[i + 1]) &&
            isdigit((unsigned char)s[i + 2])) {
            m = (s[i + 1] - '0') * 10 + (s[i + 2] - '0');
            i += 3;
            if (i + 2 < len && s[i] == ':' &&
                isdigit((unsigned char)s[i + 1]) &&
                isdigit((unsigned char)s[i + 2])) {
                sec = (s[i + 1] - '0') * 10 + (s[i + 2] - '0');
                i += 3;
            }
        } else if (i + 2 == len && s[i] == ':') {
            return 0;
        }
    }
    if (h > 15)
        return 0; /* PostgreSQL limits zone offsets to 15 hours */
    if (m > 59 || sec > 59)
        return 0;
    int32_t v = h * 3600 + m * 60 + sec;
    *secs = neg ? -v : v;
    return i;
}

int sql_tz_parse(const char *name, sql_tz *out, dc_error *err)
{
    size_t len = strlen(name);
    const char *p = name;
    size_t n = len;
    if (ci_prefix(p, n, "etc/"))
        p += 4, n -= 4;
    if ((n == 3 && (ci_prefix(p, n, "utc") || ci_prefix(p, n, "gmt"))) ||
        (n == 1 && (p[0] == 'z' || p[0] == 'Z')) ||
        (n == 4 && (ci_prefix(p, n, "zulu")))) {
        out->offset = 0;
        return DC_OK;
    }
    if (n > 3 && (ci_prefix(p, n, "utc") || ci_prefix(p, n, "gmt")))
        p += 3, n -= 3;
    int32_t secs;
    size_t used = parse_offset(p, n, 0, &secs);
    if (used == 0 || used != n)
        return dc_error_set(err, DC_EINVAL, "22023",
                            "invalid value for parameter \"TimeZone\": \"%s\"",
                            name);
    out->offset = -secs; /* POSIX: positive is west */
    return DC_OK;
}

/* ---- parsing ---------------------------------------------------------------
 */

typedef struct dt_fields {
    int64_t year; /* as written (positive); bc applies */
    int month, day;
    int hour, min, sec;
    int64_t usec;
    int has_time;
    int has_tz;
    int32_t tz; /* seconds east */
    int bc;
    int ylen; /* digits written for the year */
} dt_fields;

enum { DT_OK = 0, DT_BAD = 1, DT_FIELD = 2, DT_RANGE = 3 };

static const char *const month_names[12] = {
    "january", "february", "march",     "april",   "may",      "june",
    "july",    "august",   "september", "october", "november", "december"};

/* Month from an alphabetic word (full name or 3+ letter prefix). */
static int month_word(const char *s, size_t n)
{
    if (n < 3)
        return 0;
    char w[16];
    if (n >= sizeof w)
        return 0;
    for (size_t i = 0; i < n; i++)
        w[i] = (char)tolower((unsigned char)s[i]);
    w[n] = '\0';
    if (n == 4 && strcmp(w, "sept") == 0)
        return 9;
    for (int m = 0; m < 12; m++)
        if (strncmp(month_names[m], w, n) == 0 &&
            (n == 3 || n == strlen(month_names[m])))
            return m + 1;
    return 0;
}

static size_t read_num(const char *s, size_t len, size_t i, int64_t *v,
                       size_t *ndig)
{
    size_t st = i;
    int64_t x = 0;
    while (i < len && isdigit((unsigned char)s[i])) {
        if (x < INT64_C(100000000000))
            x = x * 10 + (s[i] - '0');
        i++;
    }
    *v = x;
    *ndig = i - st;
    return i;
}

static size_t skip_ws(const char *s, size_t len, size_t i)
{
    while (i < len && isspace((unsigned char)s[i]))
        i++;
    return i;
}

static int64_t fix_2digit_year(int64_t y, size_t ylen)
{
    if (ylen <= 2)
        return y < 70 ? y + 2000 : y + 1900;
    return y;
}

/* Parse the date part. */
static int parse_date_part(const char *s, size_t len, size_t *pi, dt_fields *f)
{
    size_t i = *pi, nd;
    int64_t a, b, c;
    if (i < len && isalpha((unsigned char)s[i])) {
        /* Month D[,] Y */
        size_t st = i;
        while (i < len && isalpha((unsigned char)s[i]))
            i++;
        int m = month_word(s + st, i - st);
        if (!m)
            return DT_BAD;
        i = skip_ws(s, len, i);
        i = read_num(s, len, i, &b, &nd);
        if (nd == 0 || nd > 2)
            return DT_BAD;
        if (i < len && s[i] == ',')
            i++;
        i = skip_ws(s, len, i);
        i = read_num(s, len, i, &c, &nd);
        if (nd == 0)
            return DT_BAD;
        f->year = fix_2digit_year(c, nd);
        f->ylen = (int)nd;
        f->month = m;
        f->day = (int)b;
        *pi = i;
        return DT_OK;
    }
    i = read_num(s, len, i, &a, &nd);
    if (nd == 0)
        return DT_BAD;
    size_t alen = nd;
    if (i < len && (s[i] == '-' || s[i] == '/' || s[i] == '.')) {
        char sep = s[i];
        i++;
        if (sep == '-' && i < len && isalpha((unsigned char)s[i])) {
            /* YYYY-Mon-DD */
            size_t st = i;
            while (i < len && isalpha((unsigned char)s[i]))
                i++;
            int m = month_word(s + st, i - st);
            if (!m || i >= len || s[i] != '-')
                return DT_BAD;
            i++;
            i = read_num(s, len, i, &c, &nd);
            if (nd == 0)
                return DT_BAD;
            f->year = a;
            f->ylen = (int)alen;
            f->month = m;
            f->day = (int)c;
            *pi = i;
            return DT_OK;
        }
        i = read_num(s, len, i, &b, &nd);
        if (nd == 0 || nd > 2 || i >= len || s[i] != sep)
            return DT_BAD;
        i++;
        size_t clen;
        i = read_num(s, len, i, &c, &clen);
        if (clen == 0)
            return DT_BAD;
        if (alen >= 3 || sep == '-') {
            /* Y-M-D */
            if (alen > 2 || sep != '-') {
                f->year = a;
                f->ylen = (int)alen;
            } else {
                f->year = fix_2digit_year(a, alen);
                f->ylen = 4;
            }
            f->month = (int)b;
            f->day = (int)c;
            if (clen > 2)
                return DT_BAD;
        } else {
            /* MDY */
            f->month = (int)a;
            f->day = (int)b;
            f->year = fix_2digit_year(c, clen);
            f->ylen = (int)clen;
        }
        *pi = i;
        return DT_OK;
    }
    if (alen == 8 || alen == 6) {
        /* YYYYMMDD or YYMMDD */
        int64_t v = a;
        f->day = (int)(v % 100);
        f->month = (int)(v / 100 % 100);
        f->year = v / 10000;
        if (alen == 6)
            f->year = fix_2digit_year(f->year, 2);
        f->ylen = 4;
        *pi = i;
        return DT_OK;
    }
    if (alen <= 2) {
        /* D Month Y */
        size_t j = skip_ws(s, len, i);
        size_t st = j;
        while (j < len && isalpha((unsigned char)s[j]))
            j++;
        int m = month_word(s + st, j - st);
        if (!m)
            return DT_BAD;
        j = skip_ws(s, len, j);
        if (j < len && s[j] == ',')
            j = skip_ws(s, len, j + 1);
        j = read_num(s, len, j, &c, &nd);
        if (nd == 0)
            return DT_BAD;
        f->day = (int)a;
        f->month = m;
        f->year = fix_2digit_year(c, nd);
        f->ylen = (int)nd;
        *pi = j;
        return DT_OK;
    }
    return DT_BAD;
}

static int parse_time_part(const char *s, size_t len, size_t *pi, dt_fields *f)
{
    size_t i = *pi, nd;
    int64_t h, m, sec = 0;
    i = read_num(s, len, i, &h, &nd);
    if (nd == 0 || nd > 2 || i >= len || s[i] != ':')
        return DT_BAD;
    i++;
    i = read_num(s, len, i, &m, &nd);
    if (nd != 2)
        return DT_BAD;
    double frac = 0;
    if (i < len && s[i] == ':') {
        i++;
        i = read_num(s, len, i, &sec, &nd);
        if (nd != 2)
            return DT_BAD;
        if (i < len && s[i] == '.') {
            size_t st = i;
            i++;
            while (i < len && isdigit((unsigned char)s[i]))
                i++;
            char buf[64];
            size_t fl = i - st;
            if (fl >= sizeof buf)
                fl = sizeof buf - 1;
            memcpy(buf, s + st, fl);
            buf[fl] = '\0';
            frac = strtod(buf, NULL);
        }
    }
    f->hour = (int)h;
    f->min = (int)m;
    f->sec = (int)sec;
    f->usec = (int64_t)rint(frac * 1000000.0);
    f->has_time = 1;
    if (h > 24 || m > 59 || sec > 60 ||
        (h == 24 && (m != 0 || sec != 0 || f->usec != 0)))
        return DT_FIELD;
    *pi = i;
    return DT_OK;
}

/* Parse a whole date/timestamp string into fields. */
static int parse_datetime(const char *s, size_t len, dt_fields *f)
{
    memset(f, 0, sizeof(*f));
    size_t i = skip_ws(s, len, 0);
    int rc = parse_date_part(s, len, &i, f);
    if (rc)
        return rc;
    for (;;) {
        size_t j = skip_ws(s, len, i);
        if (j >= len)
            break;
        if (!f->has_time && (s[j] == 'T' || s[j] == 't') && j + 1 < len &&
            isdigit((unsigned char)s[j + 1])) {
            j++;
            i = j;
            rc = parse_time_part(s, len, &i, f);
            if (rc)
                return rc;
            continue;
        }
        if (!f->has_time && !f->has_tz && isdigit((unsigned char)s[j])) {
            i = j;
            rc = parse_time_part(s, len, &i, f);
            if (rc)
                return rc;
            continue;
        }
        if (!f->has_tz && (s[j] == '+' || s[j] == '-')) {
            int32_t secs;
            size_t used = parse_offset(s + j, len - j, 1, &secs);
            if (used == 0)
                return DT_BAD;
            f->has_tz = 1;
            f->tz = secs;
            i = j + used;
            continue;
        }
        if (isalpha((unsigned char)s[j])) {
            size_t st = j;
            while (j < len && (isalpha((unsigned char)s[j]) || s[j] == '/'))
                j++;
            size_t n = j - st;
            if (n == 2 && ci_prefix(s + st, n, "bc")) {
                f->bc = 1;
            } else if (n == 2 && ci_prefix(s + st, n, "ad")) {
                /* nothing */
            } else if (!f->has_tz &&
                       ((n == 1 && ci_prefix(s + st, n, "z")) ||
                        (n == 3 && (ci_prefix(s + st, n, "utc") ||
                                    ci_prefix(s + st, n, "gmt"))) ||
                        (n == 4 && ci_prefix(s + st, n, "zulu")))) {
                f->has_tz = 1;
                f->tz = 0;
            } else {
                return DT_BAD;
            }
            i = j;
            continue;
        }
        return DT_BAD;
    }
    if (f->year == 0 || f->year > INT64_C(100000000))
        return f->year == 0 ? DT_FIELD : DT_RANGE;
    int64_t y = f->bc ? 1 - f->year : f->year;
    if (!sql_ymd_valid(y, f->month, f->day))
        return DT_FIELD;
    return DT_OK;
}

static int64_t now_usec(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return ((int64_t)ts.tv_sec - INT64_C(946684800)) * 1000000 +
           ts.tv_nsec / 1000;
}

/* Special words.  Returns 1 and sets *ts (timestamp in UTC) or the
 * infinity sign in *inf. */
static int special_word(const char *s, size_t len, const sql_tz *tz,
                        int64_t *ts, int *inf, int *is_date_only)
{
    size_t b = 0, e = len;
    while (b < e && isspace((unsigned char)s[b]))
        b++;
    while (e > b && isspace((unsigned char)s[e - 1]))
        e--;
    const char *p = s + b;
    size_t n = e - b;
    int32_t off = tz ? tz->offset : 0;
    *inf = 0;
    *is_date_only = 0;
#define W(word) (n == strlen(word) && ci_prefix(p, n, word))
    if (W("infinity") || W("+infinity")) {
        *inf = 1;
        return 1;
    }
    if (W("-infinity")) {
        *inf = -1;
        return 1;
    }
    if (W("epoch")) {
        *ts = -INT64_C(946684800) * 1000000;
        *is_date_only = 2; /* a UTC instant, local midnight for dates */
        return 1;
    }
    int64_t now = now_usec();
    if (W("now")) {
        *ts = now;
        return 1;
    }
    int64_t local_day =
        floordiv(now + (int64_t)off * 1000000, SQL_USECS_PER_DAY);
    int delta;
    if (W("today"))
        delta = 0;
    else if (W("tomorrow"))
        delta = 1;
    else if (W("yesterday"))
        delta = -1;
    else
        return 0;
#undef W
    /* local midnight, expressed in UTC */
    *ts = (local_day + delta) * SQL_USECS_PER_DAY - (int64_t)off * 1000000;
    *is_date_only = 1;
    return 1;
}

static int dt_error(int rc, const char *type, const char *s, size_t len,
                    dc_error *err)
{
    if (rc == DT_FIELD)
        return dc_error_set(err, DC_ERANGE, "22008",
                            "date/time field value out of range: \"%.*s\"",
                            (int)len, s);
    if (rc == DT_RANGE)
        return dc_error_set(
            err, DC_ERANGE, "22008", "%s out of range: \"%.*s\"",
            strcmp(type, "date") == 0 ? "date" : "timestamp", (int)len, s);
    return dc_error_set(err, DC_EINVAL, "22007",
                        "invalid input syntax for type %s: \"%.*s\"", type,
                        (int)len, s);
}

int sql_date_in(const char *s, size_t len, const sql_tz *tz, int32_t *out,
                dc_error *err)
{
    int64_t ts;
    int inf, donly;
    if (special_word(s, len, tz, &ts, &inf, &donly)) {
        if (inf) {
            *out = inf > 0 ? SQL_DATE_NOEND : SQL_DATE_NOBEGIN;
            return DC_OK;
        }
        int32_t off = donly == 2 ? 0 : (tz ? tz->offset : 0);
        *out =
            (int32_t)floordiv(ts + (int64_t)off * 1000000, SQL_USECS_PER_DAY);
        return DC_OK;
    }
    dt_fields f;
    int rc = parse_datetime(s, len, &f);
    if (rc)
        return dt_error(rc, "date", s, len, err);
    int64_t d = sql_date_from_ymd(f.bc ? 1 - f.year : f.year, f.month, f.day);
    if (d < DATE_MIN || d >= DATE_END)
        return dt_error(DT_RANGE, "date", s, len, err);
    *out = (int32_t)d;
    return DC_OK;
}

static int ts_in(const char *s, size_t len, const sql_tz *tz, int withtz,
                 int64_t *out, dc_error *err)
{
    /* PostgreSQL says "timestamp" (not "... without time zone") here. */
    const char *type = withtz ? "timestamp with time zone" : "timestamp";
    int64_t ts;
    int inf, donly;
    int32_t off = tz ? tz->offset : 0;
    if (special_word(s, len, tz, &ts, &inf, &donly)) {
        if (inf) {
            *out = inf > 0 ? SQL_TS_NOEND : SQL_TS_NOBEGIN;
            return DC_OK;
        }
        if (withtz || donly == 2)
            *out = ts;
        else
            *out = ts + (int64_t)off * 1000000; /* local wall time */
        return DC_OK;
    }
    dt_fields f;
    int rc = parse_datetime(s, len, &f);
    if (rc)
        return dt_error(rc, type, s, len, err);
    int64_t d = sql_date_from_ymd(f.bc ? 1 - f.year : f.year, f.month, f.day);
    /* Check in days first: the product below must not overflow. */
    if (d < TS_MIN / SQL_USECS_PER_DAY - 1 ||
        d > TS_END / SQL_USECS_PER_DAY + 1)
        return dt_error(DT_RANGE, type, s, len, err);
    int64_t v = d * SQL_USECS_PER_DAY +
                ((int64_t)f.hour * 3600 + f.min * 60 + f.sec) * 1000000 +
                f.usec;
    if (withtz)
        v -= (int64_t)(f.has_tz ? f.tz : off) * 1000000;
    if (v < TS_MIN || v >= TS_END)
        return dt_error(DT_RANGE, type, s, len, err);
    *out = v;
    return DC_OK;
}

int sql_timestamp_in(const char *s, size_t len, const sql_tz *tz, int64_t *out,
                     dc_error *err)
{
    return ts_in(s, len, tz, 0, out, err);
}

int sql_timestamptz_in(const char *s, size_t len, const sql_tz *tz,
                       int64_t *out, dc_error *err)
{
    return ts_in(s, len, tz, 1, out, err);
}

/* ---- output
 * ------------------------------------------------------------------ */

static size_t put_ymd(int64_t days, char *buf, int *bc)
{
    int64_t y;
    int m, d;
    sql_date_to_ymd(days, &y, &m, &d);
    *bc = y <= 0;
    if (*bc)
        y = 1 - y;
    return (size_t)sprintf(buf, "%04lld-%02d-%02d", (long long)y, m, d);
}

size_t sql_date_out(int32_t d, char *buf)
{
    if (d == SQL_DATE_NOBEGIN)
        return (size_t)sprintf(buf, "-infinity");
    if (d == SQL_DATE_NOEND)
        return (size_t)sprintf(buf, "infinity");
    int bc;
    size_t n = put_ymd(d, buf, &bc);
    if (bc)
        n += (size_t)sprintf(buf + n, " BC");
    return n;
}

/* Date and time of a local timestamp; *bc set for BC years. */
static size_t put_ts(int64_t ts, char *buf, int *bc)
{
    int64_t days = floordiv(ts, SQL_USECS_PER_DAY);
    int64_t t = ts - days * SQL_USECS_PER_DAY;
    size_t n = put_ymd(days, buf, bc);
    int64_t secs = t / 1000000, us = t % 1000000;
    n += (size_t)sprintf(buf + n, " %02d:%02d:%02d", (int)(secs / 3600),
                         (int)(secs / 60 % 60), (int)(secs % 60));
    if (us) {
        n += (size_t)sprintf(buf + n, ".%06d", (int)us);
        while (buf[n - 1] == '0')
            buf[--n] = '\0';
    }
    return n;
}

size_t sql_timestamp_out(int64_t ts, char *buf)
{
    if (ts == SQL_TS_NOBEGIN)
        return (size_t)sprintf(buf, "-infinity");
    if (ts == SQL_TS_NOEND)
        return (size_t)sprintf(buf, "infinity");
    int bc;
    size_t n = put_ts(ts, buf, &bc);
    if (bc)
        n += (size_t)sprintf(buf + n, " BC");
    return n;
}

size_t sql_timestamptz_out(int64_t ts, const sql_tz *tz, char *buf)
{
    if (ts == SQL_TS_NOBEGIN)
        return (size_t)sprintf(buf, "-infinity");
    if (ts == SQL_TS_NOEND)
        return (size_t)sprintf(buf, "infinity");
    int32_t off = tz ? tz->offset : 0;
    int bc;
    size_t n = put_ts(ts + (int64_t)off * 1000000, buf, &bc);
    int32_t a = off < 0 ? -off : off;
    n += (size_t)sprintf(buf + n, "%c%02d", off < 0 ? '-' : '+', a / 3600);
    if (a % 3600) {
        n += (size_t)sprintf(buf + n, ":%02d", a / 60 % 60);
        if (a % 60)
            n += (size_t)sprintf(buf + n, ":%02d", a % 60);
    }
    if (bc)
        n += (size_t)sprintf(buf + n, " BC");
    return n;
}

/* ---- conversions and arithmetic -------------------------------------------
 */

int sql_date_to_timestamp(int32_t d, int64_t *out, dc_error *err)
{
    if (d == SQL_DATE_NOBEGIN || d == SQL_DATE_NOEND) {
        *out = d == SQL_DATE_NOBEGIN ? SQL_TS_NOBEGIN : SQL_TS_NOEND;
        return DC_OK;
    }
    if (d < TS_MIN / SQL_USECS_PER_DAY || d >= TS_END / SQL_USECS_PER_DAY)
        return dc_error_set(err, DC_ERANGE, "22008",
                            "date out of range for timestamp");
    int64_t v = (int64_t)d * SQL_USECS_PER_DAY;
    if (v < TS_MIN || v >= TS_END)
        return dc_error_set(err, DC_ERANGE, "22008",
                            "date out of range for timestamp");
    *out = v;
    return DC_OK;
}

int sql_timestamp_to_date(int64_t ts, int32_t *out, dc_error *err)
{
    (void)err;
    if (ts == SQL_TS_NOBEGIN || ts == SQL_TS_NOEND) {
        *out = ts == SQL_TS_NOBEGIN ? SQL_DATE_NOBEGIN : SQL_DATE_NOEND;
        return DC_OK;
    }
    *out = (int32_t)floordiv(ts, SQL_USECS_PER_DAY);
    return DC_OK;
}

int sql_timestamp_to_tz(int64_t ts, const sql_tz *tz, int64_t *out,
                        dc_error *err)
{
    if (ts == SQL_TS_NOBEGIN || ts == SQL_TS_NOEND) {
        *out = ts;
        return DC_OK;
    }
    int64_t v = ts - (int64_t)(tz ? tz->offset : 0) * 1000000;
    if (v < TS_MIN || v >= TS_END)
        return dc_error_set(err, DC_ERANGE, "22008", "timestamp out of range");
    *out = v;
    return DC_OK;
}

int sql_timestamptz_to_local(int64_t ts, const sql_tz *tz, int64_t *out,
                             dc_error *err)
{
    if (ts == SQL_TS_NOBEGIN || ts == SQL_TS_NOEND) {
        *out = ts;
        return DC_OK;
    }
    int64_t v = ts + (int64_t)(tz ? tz->offset : 0) * 1000000;
    if (v < TS_MIN || v >= TS_END)
        return dc_error_set(err, DC_ERANGE, "22008", "timestamp out of range");
    *out = v;
    return DC_OK;
}

int sql_date_add_days(int32_t d, int64_t days, int32_t *out, dc_error *err)
{
    if (d == SQL_DATE_NOBEGIN || d == SQL_DATE_NOEND) {
        *out = d;
        return DC_OK;
    }
    int64_t v = (int64_t)d + days;
    if (v < DATE_MIN || v >= DATE_END)
        return dc_error_set(err, DC_ERANGE, "22008", "date out of range");
    *out = (int32_t)v;
    return DC_OK;
}

int sql_date_diff(int32_t a, int32_t b, int32_t *out, dc_error *err)
{
    if (a == SQL_DATE_NOBEGIN || a == SQL_DATE_NOEND || b == SQL_DATE_NOBEGIN ||
        b == SQL_DATE_NOEND)
        return dc_error_set(err, DC_EINVAL, "22008",
                            "cannot subtract infinite dates");
    *out = a - b;
    return DC_OK;
}
