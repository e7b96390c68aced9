/*
 * sql/funcs_fmt.c - to_char() for date/time and numbers with the commonly
 * used template patterns of PostgreSQL 15 (C locale):
 *   date/time: YYYY YYY YY Y MM DD DDD D HH HH12 HH24 MI SS MS US SSSS
 *              AM PM am pm A.M. P.M. Month MONTH month Mon MON mon
 *              Day DAY day Dy DY dy Q WW IW J CC TZ tz OF, the FM prefix
 *              (no padding), the TH/th suffix and "quoted text".
 *   numbers:   9 0 . D , G S FM (sign in front or at the end);
 *              a value too wide for the template prints as #.
 * and their inverses to_date / to_timestamp(text, template) (the numeric
 * and month-name fields, AM/PM, separators) and to_number.
 * Other characters are copied.
 */
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sql/funcs_int.h"

#define P(v) ((v).u.bytes.ptr)
#define N(v) ((v).u.bytes.len)

static const char *const month_names[] = {
    "January", "February", "March",     "April",   "May",      "June",
    "July",    "August",   "September", "October", "November", "December"};
static const char *const day_names[] = {"Sunday",    "Monday",   "Tuesday",
                                        "Wednesday", "Thursday", "Friday",
                                        "Saturday"};

static int64_t fdiv(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* ---- date / time -----------------------------------------------------------
 */

typedef struct tm_parts {
    int64_t year; /* astronomical */
    int mon, mday, hour, min, sec;
    int usec;
    int64_t days;
    int dow; /* 0 = Sunday */
    int doy;
    bool has_tz;
    int32_t tzoff;
} tm_parts;

static void split_ts(int64_t ts, tm_parts *t)
{
    int64_t days = fdiv(ts, SQL_USECS_PER_DAY);
    int64_t us = ts - days * SQL_USECS_PER_DAY;
    t->days = days;
    sql_date_to_ymd(days, &t->year, &t->mon, &t->mday);
    t->hour = (int)(us / INT64_C(3600000000));
    t->min = (int)(us / 60000000 % 60);
    t->sec = (int)(us / 1000000 % 60);
    t->usec = (int)(us % 1000000);
    t->dow = (int)(((days % 7) + 7 + 6) % 7);
    t->doy = (int)(days - sql_date_from_ymd(t->year, 1, 1) + 1);
}

static int iso_week(int64_t days)
{
    int dow = (int)(((days % 7) + 7 + 6) % 7);
    int isodow = dow == 0 ? 7 : dow;
    int64_t thu = days - isodow + 4;
    int64_t y;
    int m, d;
    sql_date_to_ymd(thu, &y, &m, &d);
    return (int)((thu - sql_date_from_ymd(y, 1, 1)) / 7 + 1);
}

/* Append a name in the case style of the pattern: "Xx" capitalised,
 * "XX" upper, "xx" lower; padded to `pad` unless fm. */
static int put_name(sql_buf *b, const char *name, size_t maxlen, int style,
                    int pad, bool fm, dc_error *err)
{
    char tmp[16];
    size_t n = strlen(name);
    if (n > maxlen)
        n = maxlen;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        tmp[i] = style == 2   ? (char)toupper((unsigned char)c)
                 : style == 0 ? (char)tolower((unsigned char)c)
                              : c;
    }
    int rc = sql_buf_append(b, tmp, n, err);
    for (int i = (int)n; rc == DC_OK && !fm && i < pad; i++)
        rc = sql_buf_append(b, " ", 1, err);
    return rc;
}

static int put_num(sql_buf *b, int64_t v, int width, bool fm, dc_error *err)
{
    char tmp[32];
    int n = fm ? snprintf(tmp, sizeof tmp, "%lld", (long long)v)
               : snprintf(tmp, sizeof tmp, "%0*lld", width, (long long)v);
    return sql_buf_append(b, tmp, (size_t)n, err);
}

/* Style of a name pattern from its first two letters: 0 lower, 1
 * capitalised, 2 upper. */
static int style_of(const uint8_t *p)
{
    if (islower(p[0]))
        return 0;
    return isupper(p[1]) ? 2 : 1;
}

static bool match_ci(const uint8_t *p, size_t n, const char *kw)
{
    size_t k = strlen(kw);
    if (n < k)
        return false;
    for (size_t i = 0; i < k; i++)
        if (toupper(p[i]) != kw[i])
            return false;
    return true;
}

static int fmt_tz(sql_buf *b, const tm_parts *t, bool abbrev, dc_error *err)
{
    if (!t->has_tz)
        return DC_OK;
    if (abbrev && t->tzoff == 0)
        return sql_buf_append(b, "UTC", 3, err);
    char tmp[16];
    int a = t->tzoff < 0 ? -t->tzoff : t->tzoff;
    int n = a % 3600 ? snprintf(tmp, sizeof tmp, "%c%02d:%02d",
                                t->tzoff < 0 ? '-' : '+', a / 3600, a / 60 % 60)
                     : snprintf(tmp, sizeof tmp, "%c%02d",
                                t->tzoff < 0 ? '-' : '+', a / 3600);
    return sql_buf_append(b, tmp, (size_t)n, err);
}

/* One template element at p; *used its length (0: copy one byte). */
static int fmt_dt_one(sql_buf *b, const uint8_t *p, size_t n, const tm_parts *t,
                      bool fm, size_t *used, dc_error *err)
{
    int64_t y = t->year > 0 ? t->year : 1 - t->year;
    int h12 = t->hour % 12 == 0 ? 12 : t->hour % 12;
    *used = 0;
#define KW(s) (match_ci(p, n, s) ? (*used = strlen(s), 1) : 0)
    if (KW("HH24"))
        return put_num(b, t->hour, 2, fm, err);
    if (KW("HH12") || KW("HH"))
        return put_num(b, h12, 2, fm, err);
    if (KW("MI"))
        return put_num(b, t->min, 2, fm, err);
    if (KW("SSSS"))
        return put_num(b, t->hour * 3600 + t->min * 60 + t->sec, 1, fm, err);
    if (KW("SS"))
        return put_num(b, t->sec, 2, fm, err);
    if (KW("MS"))
        return put_num(b, t->usec / 1000, 3, fm, err);
    if (KW("US"))
        return put_num(b, t->usec, 6, fm, err);
    if (KW("A.M.") || KW("P.M.")) {
        const char *s = t->hour < 12 ? "A.M." : "P.M.";
        return put_name(b, s, 4, islower(p[0]) ? 0 : 2, 0, true, err);
    }
    if (KW("AM") || KW("PM")) {
        const char *s = t->hour < 12 ? "AM" : "PM";
        return put_name(b, s, 2, islower(p[0]) ? 0 : 2, 0, true, err);
    }
    if (KW("YYYY"))
        return put_num(b, y, 4, fm, err);
    if (KW("YYY"))
        return put_num(b, y % 1000, 3, fm, err);
    if (KW("YY"))
        return put_num(b, y % 100, 2, fm, err);
    if (KW("Y"))
        return put_num(b, y % 10, 1, fm, err);
    if (KW("MONTH"))
        return put_name(b, month_names[t->mon - 1], 9, style_of(p), 9, fm, err);
    if (KW("MON"))
        return put_name(b, month_names[t->mon - 1], 3, style_of(p), 3, fm, err);
    if (KW("MM"))
        return put_num(b, t->mon, 2, fm, err);
    if (KW("DAY"))
        return put_name(b, day_names[t->dow], 9, style_of(p), 9, fm, err);
    if (KW("DY"))
        return put_name(b, day_names[t->dow], 3, style_of(p), 3, fm, err);
    if (KW("DDD"))
        return put_num(b, t->doy, 3, fm, err);
    if (KW("DD"))
        return put_num(b, t->mday, 2, fm, err);
    if (KW("D"))
        return put_num(b, t->dow + 1, 1, fm, err);
    if (KW("IW"))
        return put_num(b, iso_week(t->days), 2, fm, err);
    if (KW("WW"))
        return put_num(b, (t->doy - 1) / 7 + 1, 2, fm, err);
    if (KW("Q"))
        return put_num(b, (t->mon - 1) / 3 + 1, 1, fm, err);
    if (KW("J"))
        return put_num(b, t->days + 2451545, 1, fm, err);
    if (KW("CC"))
        return put_num(b,
                       t->year > 0 ? (t->year + 99) / 100
                                   : -((99 - (t->year - 1)) / 100),
                       2, fm, err);
    if (KW("TZ"))
        return fmt_tz(b, t, true, err);
    if (KW("OF"))
        return fmt_tz(b, t, false, err);
#undef KW
    return DC_OK;
}

/* The ordinal suffix (st, nd, rd, th) of the number just written. */
static int put_ordinal(sql_buf *b, bool lower, dc_error *err)
{
    size_t k = b->len;
    int last = 0, tens = 0;
    if (k > 0 && isdigit(b->data[k - 1]))
        last = b->data[k - 1] - '0';
    if (k > 1 && isdigit(b->data[k - 2]))
        tens = b->data[k - 2] - '0';
    const char *suf = tens == 1   ? "th"
                      : last == 1 ? "st"
                      : last == 2 ? "nd"
                      : last == 3 ? "rd"
                                  : "th";
    char up[3] = {(char)toupper((unsigned char)suf[0]),
                  (char)toupper((unsigned char)suf[1]), 0};
    return sql_buf_append(b, lower ? suf : up, 2, err);
}

static int fmt_datetime(sql_ctx *ctx, const dc_value *v, const dc_value *f,
                        sql_buf *b, dc_error *err)
{
    tm_parts t;
    memset(&t, 0, sizeof t);
    int64_t ts = v->u.i;
    int rc = DC_OK;
    if (v->type == DC_TYPE_DATE)
        rc = sql_date_to_timestamp((int32_t)v->u.i, &ts, err);
    else if (v->type == DC_TYPE_TIMESTAMPTZ) {
        rc = sql_timestamptz_to_local(v->u.i, ctx->tz, &ts, err);
        t.has_tz = true;
        t.tzoff = ctx->tz ? ctx->tz->offset : 0;
    }
    if (rc)
        return rc;
    split_ts(ts, &t);
    const uint8_t *p = P(*f);
    size_t n = N(*f);
    for (size_t i = 0; i < n && rc == DC_OK;) {
        if (p[i] == '"') {
            size_t j = i + 1;
            while (j < n && p[j] != '"') {
                if (p[j] == '\\' && j + 1 < n)
                    j++;
                rc = sql_buf_append(b, p + j, 1, err);
                j++;
            }
            i = j + 1;
            continue;
        }
        bool fm = false;
        size_t k = i;
        if (match_ci(p + k, n - k, "FM")) {
            fm = true;
            k += 2;
        }
        size_t used;
        rc = fmt_dt_one(b, p + k, n - k, &t, fm, &used, err);
        if (rc)
            break;
        if (used) {
            i = k + used;
            if (match_ci(p + i, n - i, "TH")) {
                rc = put_ordinal(b, islower(p[i]), err);
                i += 2;
            }
            continue;
        }
        rc = sql_buf_append(b, p + i, 1, err);
        i++;
    }
    return rc;
}

/* ---- numbers
 * ------------------------------------------------------------------- */

typedef struct num_tmpl {
    bool fm;
    int sign_pos; /* 0 none (implicit slot), 1 leading S, 2 trailing S */
    int n_int, n_frac;
    bool has_point;
} num_tmpl;

static void scan_num_tmpl(const uint8_t *p, size_t n, num_tmpl *t)
{
    memset(t, 0, sizeof *t);
    bool after = false;
    for (size_t i = 0; i < n; i++) {
        uint8_t c = (uint8_t)toupper(p[i]);
        if (c == 'F' && i + 1 < n && toupper(p[i + 1]) == 'M') {
            t->fm = true;
            i++;
        } else if (c == 'S') {
            t->sign_pos = (t->n_int || after) ? 2 : 1;
        } else if (c == '9' || c == '0') {
            if (after)
                t->n_frac++;
            else
                t->n_int++;
        } else if ((c == '.' || c == 'D') && !after) {
            after = true;
            t->has_point = true;
        }
    }
}

/* Digits of |v| rounded to n_frac decimals: integer part without leading
 * zeros into ip, exactly n_frac fraction digits into fp. */
static int num_digits(const dc_value *v, int n_frac, bool *neg, char *ip,
                      size_t icap, char *fp, size_t fcap, dc_error *err)
{
    char *txt = NULL;
    size_t len;
    char tmp[400];
    int rc = DC_OK;
    if (v->type == DC_TYPE_FLOAT4 || v->type == DC_TYPE_FLOAT8) {
        if (!isfinite(v->u.f))
            return dc_error_set(err, DC_EINVAL, "22023",
                                "cannot format infinite or NaN values");
        snprintf(tmp, sizeof tmp, "%.*f", n_frac > 300 ? 300 : n_frac, v->u.f);
    } else if (v->type == DC_TYPE_NUMERIC) {
        sql_num x;
        sql_num_init(&x);
        rc = sql_value_get_num(v, &x, err);
        if (rc == DC_OK && x.kind != SQL_NUM_FINITE)
            rc = dc_error_set(err, DC_EINVAL, "22023",
                              "cannot format infinite or NaN values");
        if (rc == DC_OK)
            rc = sql_num_round(&x, n_frac, err);
        if (rc == DC_OK)
            rc = sql_num_format(&x, &txt, &len, err);
        sql_num_free(&x);
        if (rc)
            return rc;
        snprintf(tmp, sizeof tmp, "%s", txt);
        free(txt);
    } else {
        snprintf(tmp, sizeof tmp, "%lld", (long long)v->u.i);
    }
    const char *s = tmp;
    *neg = *s == '-';
    if (*neg)
        s++;
    const char *dot = strchr(s, '.');
    size_t il = dot ? (size_t)(dot - s) : strlen(s);
    while (il > 0 && *s == '0') {
        s++;
        il--;
    }
    if (il >= icap)
        il = icap - 1;
    memcpy(ip, s, il);
    ip[il] = 0;
    size_t k = 0;
    if (dot)
        for (const char *q = dot + 1; *q && k + 1 < fcap && k < (size_t)n_frac;
             q++)
            fp[k++] = *q;
    while (k + 1 < fcap && k < (size_t)n_frac)
        fp[k++] = '0';
    fp[k] = 0;
    /* -0.00 prints without a sign */
    if (*neg && il == 0 && strspn(fp, "0") == k)
        *neg = false;
    return DC_OK;
}

static int fmt_number(const dc_value *v, const dc_value *f, sql_buf *out,
                      dc_error *err)
{
    num_tmpl t;
    const uint8_t *p = P(*f);
    size_t n = N(*f);
    scan_num_tmpl(p, n, &t);
    bool neg = false;
    char ip[400], fp[400];
    int rc = num_digits(v, t.n_frac, &neg, ip, sizeof ip, fp, sizeof fp, err);
    if (rc)
        return rc;
    size_t il = strlen(ip);
    if (il == 0 && (!t.has_point || (t.fm && strspn(fp, "0") == strlen(fp))))
        ip[0] = '0', ip[1] = 0, il = 1;
    bool overflow = il > (size_t)t.n_int;
    /* under FM, trailing zeros at 9 positions of the fraction go */
    int frac_keep = t.n_frac;
    if (t.fm) {
        char kinds[400];
        int nk = 0;
        bool in_frac = false;
        for (size_t i = 0; i < n && nk < (int)sizeof kinds; i++) {
            uint8_t c = (uint8_t)toupper(p[i]);
            if (c == '.' || c == 'D')
                in_frac = true;
            else if (in_frac && (c == '9' || c == '0'))
                kinds[nk++] = (char)c;
        }
        while (frac_keep > 0 && frac_keep <= nk &&
               kinds[frac_keep - 1] == '9' && fp[frac_keep - 1] == '0')
            frac_keep--;
    }
    sql_buf b;
    sql_buf_init(&b);
    int ipos = 0, fpos = 0;
    bool after = false, printed = false, zero_forced = false;
    for (size_t i = 0; i < n && rc == DC_OK; i++) {
        uint8_t c = (uint8_t)toupper(p[i]);
        if (c == 'F' && i + 1 < n && toupper(p[i + 1]) == 'M') {
            i++;
            continue;
        }
        if (c == 'S')
            continue;
        if ((c == '9' || c == '0') && !after) {
            int k = ipos - (t.n_int - (int)il);
            ipos++;
            if (c == '0')
                zero_forced = true;
            char ch;
            if (overflow)
                ch = '#';
            else if (k >= 0)
                ch = ip[k];
            else if (zero_forced)
                ch = '0';
            else
                ch = ' ';
            if (ch != ' ')
                printed = true;
            if (ch != ' ' || !t.fm)
                rc = sql_buf_append(&b, &ch, 1, err);
        } else if ((c == '9' || c == '0') && after) {
            char ch = overflow ? '#' : fp[fpos];
            if (fpos < frac_keep || c == '0')
                rc = sql_buf_append(&b, &ch, 1, err);
            fpos++;
        } else if ((c == '.' || c == 'D') && !after) {
            after = true;
            if (!(t.fm && t.n_frac == 0))
                rc = sql_buf_append(&b, ".", 1, err);
        } else if (c == ',' || c == 'G') {
            if (printed || overflow)
                rc = sql_buf_append(&b, ",", 1, err);
            else if (!t.fm)
                rc = sql_buf_append(&b, " ", 1, err);
        } else {
            rc = sql_buf_append(&b, p + i, 1, err);
        }
    }
    if (rc) {
        sql_buf_free(&b);
        return rc;
    }
    /* the sign goes right before the first non-blank character */
    const char *sign = neg ? "-" : t.sign_pos ? "+" : (t.fm ? "" : " ");
    size_t lead = 0;
    while (lead < b.len && b.data[lead] == ' ')
        lead++;
    if (t.sign_pos != 2) {
        rc = sql_buf_append(out, b.data, lead, err);
        if (rc == DC_OK)
            rc = sql_buf_append(out, sign, strlen(sign), err);
        if (rc == DC_OK)
            rc = sql_buf_append(out, b.data + lead, b.len - lead, err);
    } else {
        rc = sql_buf_append(out, b.data, b.len, err);
        if (rc == DC_OK)
            rc = sql_buf_append(out, sign, strlen(sign), err);
    }
    sql_buf_free(&b);
    return rc;
}

static int f_to_char(sql_ctx *ctx, int nargs, const dc_value *a, dc_value *out,
                     dc_error *err)
{
    (void)nargs;
    sql_buf b;
    sql_buf_init(&b);
    int rc;
    uint32_t t = a[0].type;
    if (t == DC_TYPE_DATE || t == DC_TYPE_TIMESTAMP ||
        t == DC_TYPE_TIMESTAMPTZ) {
        int64_t v = a[0].u.i;
        bool inf = t == DC_TYPE_DATE
                       ? (v == SQL_DATE_NOBEGIN || v == SQL_DATE_NOEND)
                       : (v == SQL_TS_NOBEGIN || v == SQL_TS_NOEND);
        if (inf) {
            *out = sql_value_null(DC_TYPE_TEXT);
            return DC_OK;
        }
        rc = fmt_datetime(ctx, &a[0], &a[1], &b, err);
    } else {
        rc = fmt_number(&a[0], &a[1], &b, err);
    }
    if (rc) {
        sql_buf_free(&b);
        return rc;
    }
    return sql_fx_text_buf(ctx, DC_TYPE_TEXT, &b, out, err);
}

/* ---- to_date / to_timestamp / to_number ------------------------------------
 */

typedef struct dt_in {
    int64_t year; /* astronomical; 0 (1 BC) when not given */
    int mon, mday, hour, min, sec, usec;
    int ampm; /* 0 none, 1 AM, 2 PM */
    bool h12;
} dt_in;

static int bad_value(const char *val, size_t n, const char *field,
                     const char *detail, dc_error *err)
{
    dc_error_set(err, DC_EINVAL, "22007", "invalid value \"%.*s\" for \"%s\"",
                 (int)(n > 60 ? 60 : n), val, field);
    dc_error_detail(err, "%s", detail);
    return DC_EINVAL;
}

/* Read a number of at most `width` digits (up to 9 when `greedy`). */
static int read_num(const uint8_t *in, size_t n, size_t *j, int width,
                    bool greedy, const char *field, int64_t *v, int *ndig,
                    dc_error *err)
{
    while (*j < n && in[*j] == ' ')
        (*j)++;
    size_t k = *j;
    bool neg = false;
    if (k < n && in[k] == '-' && !strcmp(field, "YYYY")) {
        neg = true;
        k++;
    }
    int64_t x = 0;
    int d = 0;
    while (k < n && isdigit(in[k]) && (greedy ? d < 9 : d < width)) {
        x = x * 10 + (in[k] - '0');
        k++;
        d++;
    }
    if (d == 0) {
        size_t w = n - *j < (size_t)width ? n - *j : (size_t)width;
        return bad_value((const char *)in + *j, w, field,
                         "Value must be an integer.", err);
    }
    *j = k;
    *v = neg ? -x : x;
    *ndig = d;
    return DC_OK;
}

static bool is_num_kw(const uint8_t *p, size_t n)
{
    static const char *const kws[] = {"YYYY", "YYY", "YY", "Y",  "MM", "DD",
                                      "HH",   "MI",  "SS", "MS", "US"};
    for (size_t k = 0; k < sizeof kws / sizeof kws[0]; k++)
        if (match_ci(p, n, kws[k]))
            return true;
    return false;
}

static int no_match(const uint8_t *in, size_t n, size_t j, const char *field,
                    dc_error *err)
{
    return bad_value((const char *)in + j, n - j, field,
                     "The given value did not match any of the allowed "
                     "values for this field.",
                     err);
}

static int read_month(const uint8_t *in, size_t n, size_t *j, bool full,
                      const char *field, int *mon, dc_error *err)
{
    while (*j < n && in[*j] == ' ')
        (*j)++;
    for (int m = 0; m < 12; m++) {
        size_t len = full ? strlen(month_names[m]) : 3;
        if (n - *j >= len &&
            !strncasecmp((const char *)in + *j, month_names[m], len)) {
            *mon = m + 1;
            *j += len;
            return DC_OK;
        }
    }
    return no_match(in, n, *j, field, err);
}

static int read_ampm(const uint8_t *in, size_t n, size_t *j, bool dots,
                     int *ampm, dc_error *err)
{
    while (*j < n && in[*j] == ' ')
        (*j)++;
    size_t len = dots ? 4 : 2;
    if (n - *j >= len) {
        int c0 = toupper(in[*j]);
        bool ok = (c0 == 'A' || c0 == 'P') &&
                  (dots ? in[*j + 1] == '.' && toupper(in[*j + 2]) == 'M' &&
                              in[*j + 3] == '.'
                        : toupper(in[*j + 1]) == 'M');
        if (ok) {
            *ampm = c0 == 'A' ? 1 : 2;
            *j += len;
            return DC_OK;
        }
    }
    return no_match(in, n, *j, dots ? "A.M." : "AM", err);
}

static void set_field(dt_in *t, const char *kw, int64_t v, int nd)
{
    if (!strcmp(kw, "YYYY") || !strcmp(kw, "YYY"))
        t->year = v;
    else if (!strcmp(kw, "YY"))
        t->year = v + (v < 70 ? 2000 : 1900);
    else if (!strcmp(kw, "Y"))
        t->year = v + 2000;
    else if (!strcmp(kw, "MM"))
        t->mon = (int)v;
    else if (!strcmp(kw, "DD"))
        t->mday = (int)v;
    else if (!strcmp(kw, "HH24"))
        t->hour = (int)v;
    else if (kw[0] == 'H') {
        t->hour = (int)v;
        t->h12 = true;
    } else if (!strcmp(kw, "MI"))
        t->min = (int)v;
    else if (!strcmp(kw, "SS"))
        t->sec = (int)v;
    else if (!strcmp(kw, "MS") || !strcmp(kw, "US")) {
        /* digits after the decimal point: '.3' is 300 ms */
        int w = kw[0] == 'M' ? 3 : 6;
        for (int d = nd; d < w; d++)
            v *= 10;
        t->usec = (int)(kw[0] == 'M' ? v * 1000 : v);
    }
}

/* One template element at p against the input at *j; *used its length
 * in the template (0: not a field). */
static int parse_field(const uint8_t *p, size_t pn, const uint8_t *in, size_t n,
                       size_t *j, dt_in *t, size_t *used, dc_error *err)
{
    static const struct {
        const char *kw;
        int width;
    } nums[] = {{"YYYY", 4}, {"YYY", 3}, {"YY", 2}, {"Y", 1},  {"HH24", 2},
                {"HH12", 2}, {"HH", 2},  {"MI", 2}, {"SS", 2}, {"MS", 3},
                {"US", 6},   {"MM", 2},  {"DD", 2}};
    *used = 0;
    if (match_ci(p, pn, "MONTH") || match_ci(p, pn, "MON")) {
        bool full = match_ci(p, pn, "MONTH");
        char field[6];
        *used = full ? 5 : 3;
        memcpy(field, p, *used);
        field[*used] = 0;
        return read_month(in, n, j, full, field, &t->mon, err);
    }
    if (match_ci(p, pn, "A.M.") || match_ci(p, pn, "P.M.")) {
        *used = 4;
        return read_ampm(in, n, j, true, &t->ampm, err);
    }
    if (match_ci(p, pn, "AM") || match_ci(p, pn, "PM")) {
        *used = 2;
        return read_ampm(in, n, j, false, &t->ampm, err);
    }
    for (size_t k = 0; k < sizeof nums / sizeof nums[0]; k++) {
        if (!match_ci(p, pn, nums[k].kw))
            continue;
        size_t len = strlen(nums[k].kw);
        *used = len;
        /* a field followed by another number field takes its width only */
        bool greedy = !(len < pn && is_num_kw(p + len, pn - len));
        int64_t v;
        int nd;
        int rc =
            read_num(in, n, j, nums[k].width, greedy, nums[k].kw, &v, &nd, err);
        if (rc == DC_OK)
            set_field(t, nums[k].kw, v, nd);
        return rc;
    }
    return DC_OK;
}

static int dt_finish(dt_in *t, const dc_value *v, int64_t *ts, dc_error *err)
{
    if (t->h12) {
        if (t->hour < 1 || t->hour > 12) {
            dc_error_set(err, DC_EINVAL, "22007",
                         "hour \"%d\" is invalid for the 12-hour clock",
                         t->hour);
            dc_error_hint(err, "Use the 24-hour clock, or give an hour "
                               "between 1 and 12.");
            return DC_EINVAL;
        }
        if (t->hour == 12)
            t->hour = 0;
        if (t->ampm == 2)
            t->hour += 12;
    } else if (t->ampm == 2 && t->hour < 12) {
        t->hour += 12;
    }
    int64_t ay = t->year < 0 ? t->year + 1 : t->year;
    if (t->mon < 1 || t->mon > 12 || t->mday < 1 || t->mday > 31 ||
        !sql_ymd_valid(ay, t->mon, t->mday) || t->hour > 24 || t->min > 59 ||
        t->sec > 60 || (t->hour == 24 && (t->min || t->sec || t->usec)))
        return dc_error_set(err, DC_ERANGE, "22008",
                            "date/time field value out of range: \"%.*s\"",
                            (int)(N(*v) > 200 ? 200 : N(*v)),
                            (const char *)P(*v));
    int64_t days = sql_date_from_ymd(ay, t->mon, t->mday);
    *ts = days * SQL_USECS_PER_DAY +
          ((int64_t)t->hour * 3600 + t->min * 60 + t->sec) * 1000000 + t->usec;
    if (!sql_timestamp_ok(*ts))
        return dc_error_set(err, DC_ERANGE, "22008", "timestamp out of range");
    return DC_OK;
}

/* Parse input `v` with template `f` into a local timestamp. */
static int parse_datetime(const dc_value *v, const dc_value *f, int64_t *ts,
                          dc_error *err)
{
    dt_in t = {0, 1, 1, 0, 0, 0, 0, 0, false};
    const uint8_t *p = P(*f), *in = P(*v);
    size_t pn = N(*f), n = N(*v), j = 0;
    int rc = DC_OK;
    for (size_t i = 0; i < pn && rc == DC_OK;) {
        if (p[i] == '"') {
            size_t k = i + 1;
            for (; k < pn && p[k] != '"'; k++)
                if (j < n)
                    j++;
            i = k + 1;
            continue;
        }
        if (match_ci(p + i, pn - i, "FM")) {
            i += 2;
            continue;
        }
        size_t used;
        rc = parse_field(p + i, pn - i, in, n, &j, &t, &used, err);
        if (rc || used) {
            i += used;
            continue;
        }
        /* a separator matches one separator of the input, or nothing */
        if (p[i] == ' ') {
            while (j < n && in[j] == ' ')
                j++;
        } else if (j < n && (!isalnum(in[j]) || isalpha(p[i]))) {
            j++;
        }
        i++;
    }
    if (rc)
        return rc;
    return dt_finish(&t, v, ts, err);
}

static int f_to_date(sql_ctx *ctx, int nargs, const dc_value *a, dc_value *out,
                     dc_error *err)
{
    (void)ctx, (void)nargs;
    int64_t ts;
    int32_t d;
    int rc = parse_datetime(&a[0], &a[1], &ts, err);
    if (rc == DC_OK)
        rc = sql_timestamp_to_date(ts, &d, err);
    if (rc == DC_OK)
        *out = sql_value_int(DC_TYPE_DATE, d);
    return rc;
}

/* to_timestamp(text, template): the local time read in the session zone */
static int f_to_timestamp_fmt(sql_ctx *ctx, int nargs, const dc_value *a,
                              dc_value *out, dc_error *err)
{
    (void)nargs;
    int64_t ts;
    int rc = parse_datetime(&a[0], &a[1], &ts, err);
    if (rc == DC_OK)
        rc = sql_timestamp_to_tz(ts, ctx->tz, &ts, err);
    if (rc == DC_OK)
        *out = sql_value_int(DC_TYPE_TIMESTAMPTZ, ts);
    return rc;
}

/* to_number(text, template): the digits the template has room for, a
 * decimal point where it has one, and a minus sign (or <...>) anywhere. */
static int f_to_number(sql_ctx *ctx, int nargs, const dc_value *a,
                       dc_value *out, dc_error *err)
{
    (void)nargs;
    num_tmpl t;
    scan_num_tmpl(P(a[1]), N(a[1]), &t);
    char buf[256];
    size_t k = 0;
    bool neg = false, after = false;
    int ni = 0, nf = 0;
    for (size_t i = 0; i < N(a[0]) && k + 2 < sizeof buf; i++) {
        uint8_t c = P(a[0])[i];
        if (c == '-' || c == '<') {
            neg = true;
        } else if (c == '.' && t.has_point && !after) {
            after = true;
            buf[k++] = '.';
        } else if (isdigit(c)) {
            if (!after && (t.n_int == 0 || ni < t.n_int)) {
                buf[k++] = (char)c;
                ni++;
            } else if (after && nf < t.n_frac) {
                buf[k++] = (char)c;
                nf++;
            }
        }
    }
    if (ni + nf == 0)
        return dc_error_set(err, DC_EINVAL, "22P02",
                            "invalid input syntax for type numeric: \" \"");
    buf[k] = 0;
    sql_num x;
    sql_num_init(&x);
    int rc = sql_num_parse(buf, k, &x, err);
    if (rc == DC_OK && neg)
        sql_num_neg(&x);
    if (rc == DC_OK)
        rc = sql_fx_num(ctx, &x, out, err);
    sql_num_free(&x);
    return rc;
}

#define S  SQL_FN_STRICT
#define TX DC_TYPE_TEXT

const sql_fcand sql_fmt_func_table[] = {
    {"to_char", 2, {DC_TYPE_TIMESTAMP, TX}, TX, f_to_char, S},
    {"to_char", 2, {DC_TYPE_TIMESTAMPTZ, TX}, TX, f_to_char, S},
    {"to_char", 2, {DC_TYPE_INT4, TX}, TX, f_to_char, S},
    {"to_char", 2, {DC_TYPE_INT8, TX}, TX, f_to_char, S},
    {"to_char", 2, {DC_TYPE_FLOAT4, TX}, TX, f_to_char, S},
    {"to_char", 2, {DC_TYPE_FLOAT8, TX}, TX, f_to_char, S},
    {"to_char", 2, {DC_TYPE_NUMERIC, TX}, TX, f_to_char, S},
    {"to_date", 2, {TX, TX}, DC_TYPE_DATE, f_to_date, S},
    {"to_timestamp", 2, {TX, TX}, DC_TYPE_TIMESTAMPTZ, f_to_timestamp_fmt, S},
    {"to_number", 2, {TX, TX}, DC_TYPE_NUMERIC, f_to_number, S},
    {NULL, 0, {0}, 0, NULL, 0},
};
