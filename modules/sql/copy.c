/*
 * sql/copy.c - COPY FROM STDIN / TO STDOUT (copy.h).
 *
 * COPY FROM keeps the client's unconsumed bytes in one buffer, cuts
 * complete records out of it (a record may span any number of pieces,
 * and in CSV any number of lines inside quotes), splits a record into
 * fields, decodes them straight into the row's values and inserts the row
 * with sql_table_insert.  Values of a row live in a small arena that is
 * dropped every few thousand rows, so memory stays flat however long the
 * input is (the transaction's write set holds the rows themselves).
 *
 * COPY TO walks the table (or runs the query), formats each value with
 * its output function, escapes or quotes it, and hands the client whole
 * lines in pieces of about 64 KiB.
 */
#include "sql/copy.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sql/binder.h"
#include "sql/catalog.h"
#include "sql/exec.h"
#include "sql/pipe.h"
#include "sql/session.h"
#include "sql/tableam.h"
#include "sql/txn.h"

#define COPY_OUT_CHUNK (64 * 1024)
#define ROWS_PER_ARENA 4096

static int oom(dc_error *err)
{
    return dc_error_set(err, DC_ENOMEM, DC_SQLSTATE_OOM, "out of memory");
}

static void *arena_alloc_fn(void *a, size_t n)
{
    return sql_arena_alloc((sql_arena *)a, n);
}

/* n bytes of the statement arena; 53200 when out of memory. */
static void *ctx_alloc(sql_ctx *ctx, size_t n, dc_error *err)
{
    void *p = sql_arena_alloc(ctx->arena, n ? n : 1);
    if (!p)
        oom(err);
    return p;
}

/* ==== options ============================================================= */

typedef struct copy_opts {
    bool csv;
    bool header;
    char delim, quote, escape;
    const char *null_str;
    size_t null_len;
    const char *force_not_null; /* column list text, or NULL            */
    const char *force_quote;    /* column list text, "*", or NULL       */
} copy_opts;

/* PostgreSQL's boolean option spelling; a missing value means true. */
static int opt_bool(const sql_defelem *d, bool *out, dc_error *err)
{
    const char *v = d->value;
    if (!v || !strcasecmp(v, "true") || !strcasecmp(v, "on") ||
        !strcmp(v, "1") || !strcasecmp(v, "match")) {
        *out = true;
        return DC_OK;
    }
    if (!strcasecmp(v, "false") || !strcasecmp(v, "off") || !strcmp(v, "0")) {
        *out = false;
        return DC_OK;
    }
    return dc_error_set(err, DC_EINVAL, "22023",
                        "%s requires a Boolean value", d->name);
}

static int opt_char(const sql_defelem *d, const char *what, char *out,
                    dc_error *err)
{
    if (!d->value || strlen(d->value) != 1 || (unsigned char)d->value[0] > 127)
        return dc_error_set(err, DC_EUNSUPPORTED, "0A000",
                            "COPY %s must be a single one-byte character",
                            what);
    *out = d->value[0];
    return DC_OK;
}

static int parse_opts(const sql_copy *c, copy_opts *o, dc_error *err)
{
    memset(o, 0, sizeof *o);
    const char *delim = NULL, *quote = NULL, *escape = NULL;
    int rc = DC_OK;
    for (size_t i = 0; i < SQL_LIST_LEN(c->options) && rc == DC_OK; i++) {
        const sql_defelem *d = c->options->items[i];
        if (!strcmp(d->name, "format")) {
            const char *v = d->value ? d->value : "";
            if (!strcasecmp(v, "csv"))
                o->csv = true;
            else if (!strcasecmp(v, "text"))
                o->csv = false;
            else if (!strcasecmp(v, "binary"))
                rc = dc_error_set(err, DC_EUNSUPPORTED, "0A000",
                                  "COPY BINARY is not supported");
            else
                rc = dc_error_set(err, DC_EINVAL, "22023",
                                  "COPY format \"%s\" not recognized", v);
        } else if (!strcmp(d->name, "header")) {
            rc = opt_bool(d, &o->header, err);
        } else if (!strcmp(d->name, "freeze")) {
            bool ignored;
            rc = opt_bool(d, &ignored, err);
        } else if (!strcmp(d->name, "delimiter")) {
            delim = d->value;
            rc = opt_char(d, "delimiter", &o->delim, err);
        } else if (!strcmp(d->name, "null")) {
            o->null_str = d->value ? d->value : "";
        } else if (!strcmp(d->name, "quote")) {
            quote = d->value;
            rc = opt_char(d, "quote", &o->quote, err);
        } else if (!strcmp(d->name, "escape")) {
            escape = d->value;
            rc = opt_char(d, "escape", &o->escape, err);
        } else if (!strcmp(d->name, "force_not_null")) {
            o->force_not_null = d->value ? d->value : "";
        } else if (!strcmp(d->name, "force_quote")) {
            o->force_quote = d->value ? d->value : "";
        } else if (!strcmp(d->name, "encoding")) {
            const char *v = d->value ? d->value : "";
            if (strcasecmp(v, "utf8") && strcasecmp(v, "utf-8") &&
                strcasecmp(v, "sql_ascii"))
                rc = dc_error_set(err, DC_EUNSUPPORTED, "0A000",
                                  "COPY encoding \"%s\" is not supported", v);
        } else {
            rc = dc_error_set(err, DC_EINVAL, "42601",
                              "option \"%s\" not recognized", d->name);
        }
    }
    if (rc != DC_OK)
        return rc;
    if (!o->csv && (quote || escape || o->force_not_null || o->force_quote))
        return dc_error_set(err, DC_EUNSUPPORTED, "0A000",
                            "COPY %s available only in CSV mode",
                            quote ? "quote" : escape ? "escape"
                            : o->force_not_null ? "force not null"
                                                : "force quote");
    if (!delim)
        o->delim = o->csv ? ',' : '\t';
    if (!quote)
        o->quote = '"';
    if (!escape)
        o->escape = o->quote;
    if (!o->null_str)
        o->null_str = o->csv ? "" : "\\N";
    o->null_len = strlen(o->null_str);
    if (o->delim == '\n' || o->delim == '\r' ||
        (!o->csv && (o->delim == '\\' ||
                     strchr("abcdefghijklmnopqrstuvwxyz0123456789.", o->delim))))
        return dc_error_set(err, DC_EINVAL, "22023",
                            "COPY delimiter cannot be \"%c\"", o->delim);
    if (o->csv && o->delim == o->quote)
        return dc_error_set(err, DC_EINVAL, "22023",
                            "COPY delimiter and quote must be different");
    if (strchr(o->null_str, o->delim))
        return dc_error_set(err, DC_EINVAL, "22023",
                            "COPY delimiter must not appear in the NULL "
                            "specification");
    return DC_OK;
}

/* ==== columns ============================================================= */

typedef struct copy_cols {
    int n;
    int16_t *atts;     /* attnums in COPY order                   */
    bool *flag;        /* per COPY column: FORCE_NOT_NULL / QUOTE */
} copy_cols;

static int resolve_cols(sql_ctx *ctx, const sql_table *t, const sql_list *names,
                        copy_cols *cc, dc_error *err)
{
    int cap = names ? (int)names->len : t->natts;
    cc->atts = ctx_alloc(ctx, sizeof(int16_t) * (size_t)(cap + 1), err);
    cc->flag = ctx_alloc(ctx, (size_t)cap + 1, err);
    if (!cc->atts || !cc->flag)
        return DC_ENOMEM;
    cc->n = 0;
    if (!names) {
        for (int i = 0; i < t->natts; i++)
            if (!t->cols[i].dropped)
                cc->atts[cc->n++] = t->cols[i].attnum;
        return DC_OK;
    }
    for (size_t i = 0; i < names->len; i++) {
        const char *nm = names->items[i];
        const sql_column *col = sql_table_column(t, nm);
        if (!col)
            return dc_error_set(err, DC_ENOTFOUND, "42703",
                                "column \"%s\" of relation \"%s\" does not "
                                "exist", nm, t->name);
        for (int k = 0; k < cc->n; k++)
            if (cc->atts[k] == col->attnum)
                return dc_error_set(err, DC_EINVAL, "42701",
                                    "column \"%s\" specified more than once",
                                    nm);
        cc->atts[cc->n++] = col->attnum;
    }
    return DC_OK;
}

/* Mark the COPY columns named in list text `list` ("a, \"B\"" or "*"). */
static int mark_cols(const sql_table *t, copy_cols *cc, const char *list,
                     const char *what, dc_error *err)
{
    if (!strcmp(list, "*")) {
        memset(cc->flag, 1, (size_t)cc->n);
        return DC_OK;
    }
    const char *p = list;
    while (*p) {
        while (*p == ' ' || *p == ',' || *p == '\t' || *p == '\n')
            p++;
        if (!*p)
            break;
        char name[128];
        size_t n = 0;
        if (*p == '"') {
            for (p++; *p && !(*p == '"' && p[1] != '"'); p++) {
                if (*p == '"')
                    p++;
                if (n < sizeof name - 1)
                    name[n++] = *p;
            }
            if (*p == '"')
                p++;
        } else {
            for (; *p && *p != ',' && *p != ' '; p++)
                if (n < sizeof name - 1)
                    name[n++] = (char)tolower((unsigned char)*p);
        }
        name[n] = '\0';
        const sql_column *col = sql_table_column(t, name);
        if (!col)
            return dc_error_set(err, DC_ENOTFOUND, "42703",
                                "column \"%s\" of relation \"%s\" does not "
                                "exist", name, t->name);
        int k = 0;
        while (k < cc->n && cc->atts[k] != col->attnum)
            k++;
        if (k == cc->n)
            return dc_error_set(err, DC_EINVAL, "42P10",
                                "%s column \"%s\" not referenced by COPY",
                                what, name);
        cc->flag[k] = 1;
    }
    return DC_OK;
}

/* ==== COPY FROM =========================================================== */

typedef struct copy_in {
    sql_ctx *ctx;
    const sql_table *t;
    const copy_opts *o;
    copy_cols cols;
    sql_bexpr **defaults;  /* per attnum: DEFAULT of an unlisted column */
    sql_bexpr **checks;
    /* Unconsumed client bytes: in.data[pos..in.len); scanning for the end
     * of the current record resumed at `scan` with quote state `inq`. */
    sql_buf in;
    size_t pos, scan;
    bool inq;
    /* Fields of the current record. */
    sql_buf field;         /* de-escaped bytes of fields that needed it  */
    const char **fptr;     /* into `in` (stable while the record lives)  */
    size_t *foff, *flen;   /* fptr NULL: offset into `field`             */
    bool *fnull;
    int fcap, nf;
    dc_value *vals;        /* natts                                      */
    dc_value *nulls;       /* natts: each column's typed NULL            */
    sql_arena *rowa;       /* values of recent rows                      */
    sql_ctx rctx;          /* ctx with rowa as its memory                */
    uint64_t line, rows;
    const char *rec;       /* the current record (for error context)     */
    size_t reclen;
    bool ended;            /* saw the \. end marker                      */
    struct copy_par *par;  /* decoding on a second thread, or NULL      */
    bool borrow;           /* the decoder's: values only to be encoded,
                              so sql_value_in_borrowed                  */
} copy_in;

static int ci_field_add(copy_in *ci, dc_error *err)
{
    if (ci->nf == ci->fcap) {
        int nc = ci->fcap ? ci->fcap * 2 : 16;
        const char **p = realloc(ci->fptr, sizeof *p * (size_t)nc);
        if (p)
            ci->fptr = p;
        size_t *o = p ? realloc(ci->foff, sizeof *o * (size_t)nc) : NULL;
        if (o)
            ci->foff = o;
        size_t *l = o ? realloc(ci->flen, sizeof *l * (size_t)nc) : NULL;
        if (l)
            ci->flen = l;
        bool *b = l ? realloc(ci->fnull, sizeof *b * (size_t)nc) : NULL;
        if (!b)
            return oom(err);
        ci->fnull = b;
        ci->fcap = nc;
    }
    ci->nf++;
    return DC_OK;
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = tolower(c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* De-escape a text-format field into ci->field; sets its slot. */
static int text_unescape(copy_in *ci, int f, const char *s, size_t n,
                         dc_error *err)
{
    size_t start = ci->field.len;
    size_t i = 0;
    while (i < n) {
        size_t j = i;
        while (j < n && s[j] != '\\')
            j++;
        if (j > i && sql_buf_append(&ci->field, s + i, j - i, err))
            return DC_ENOMEM;
        if (j >= n)
            break;
        i = j + 1;
        if (i >= n)
            break; /* a lone trailing backslash is dropped */
        char c = s[i++], out = c;
        switch (c) {
        case 'b': out = '\b'; break;
        case 'f': out = '\f'; break;
        case 'n': out = '\n'; break;
        case 'r': out = '\r'; break;
        case 't': out = '\t'; break;
        case 'v': out = '\v'; break;
        case 'x':
            if (i < n && hexval((unsigned char)s[i]) >= 0) {
                int v = hexval((unsigned char)s[i++]);
                if (i < n && hexval((unsigned char)s[i]) >= 0)
                    v = v * 16 + hexval((unsigned char)s[i++]);
                out = (char)v;
            }
            break;
        default:
            if (c >= '0' && c <= '7') {
                int v = c - '0';
                for (int k = 0; k < 2 && i < n && s[i] >= '0' && s[i] <= '7'; k++)
                    v = v * 8 + (s[i++] - '0');
                out = (char)(v & 0xFF);
            }
            break;
        }
        if (sql_buf_append(&ci->field, &out, 1, err))
            return DC_ENOMEM;
    }
    ci->fptr[f] = NULL;
    ci->foff[f] = start;
    ci->flen[f] = ci->field.len - start;
    return DC_OK;
}

/* Split a text-format record [s, s + n) into fields. */
static int split_text(copy_in *ci, const char *s, size_t n, dc_error *err)
{
    const copy_opts *o = ci->o;
    size_t i = 0;
    for (;;) {
        size_t st = i;
        bool esc = false;
        while (i < n && s[i] != o->delim) {
            if (s[i] == '\\') {
                esc = true;
                if (i + 1 < n)
                    i++;
            }
            i++;
        }
        if (i > n)
            i = n;
        int rc = ci_field_add(ci, err);
        if (rc)
            return rc;
        int f = ci->nf - 1;
        size_t len = i - st;
        ci->fnull[f] = len == o->null_len && !memcmp(s + st, o->null_str, len);
        if (esc && !ci->fnull[f]) {
            if ((rc = text_unescape(ci, f, s + st, len, err)))
                return rc;
        } else {
            ci->fptr[f] = s + st;
            ci->flen[f] = len;
        }
        if (i >= n)
            return DC_OK;
        i++; /* the delimiter */
    }
}

/* Split a CSV record [s, s + n) (quotes balanced) into fields. */
static int split_csv(copy_in *ci, const char *s, size_t n, dc_error *err)
{
    const copy_opts *o = ci->o;
    size_t i = 0;
    for (;;) {
        size_t st = i;
        bool quoted = false, inq = false, plain = true;
        size_t fstart = ci->field.len;
        while (i < n) {
            char c = s[i];
            if (inq) {
                if (c == o->escape && o->escape != o->quote && i + 1 < n &&
                    (s[i + 1] == o->quote || s[i + 1] == o->escape)) {
                    i++;
                    c = s[i];
                } else if (c == o->quote) {
                    if (o->escape == o->quote && i + 1 < n && s[i + 1] == o->quote) {
                        i++;
                    } else {
                        inq = false;
                        i++;
                        continue;
                    }
                }
            } else if (c == o->delim) {
                break;
            } else if (c == o->quote) {
                inq = quoted = true;
                plain = false;
                i++;
                continue;
            }
            if (sql_buf_append(&ci->field, &c, 1, err))
                return DC_ENOMEM;
            i++;
        }
        int rc = ci_field_add(ci, err);
        if (rc)
            return rc;
        int f = ci->nf - 1;
        size_t raw = i - st;
        ci->fnull[f] = !quoted && raw == o->null_len &&
                       !memcmp(s + st, o->null_str, raw);
        if (plain) {
            /* Unquoted: the raw bytes are the value. */
            ci->field.len = fstart;
            ci->fptr[f] = s + st;
            ci->flen[f] = raw;
        } else {
            ci->fptr[f] = NULL;
            ci->foff[f] = fstart;
            ci->flen[f] = ci->field.len - fstart;
        }
        if (i >= n)
            return DC_OK;
        i++;
    }
}

/* Context of an error about the whole record: 'COPY t, line 2: "2"'. */
static void add_line_context(copy_in *ci, dc_error *err)
{
    if (!err || err->context[0])
        return;
    dc_error_context(err, "COPY %s, line %llu: \"%.*s\"", ci->t->name,
                    (unsigned long long)ci->line,
                    (int)(ci->reclen > 100 ? 100 : ci->reclen),
                    ci->rec ? ci->rec : "");
}

/* Error context as PostgreSQL's CONTEXT line says it. */
static void add_context(copy_in *ci, const char *col, const char *val,
                        size_t vlen, dc_error *err)
{
    if (!err || err->context[0])
        return;
    if (col && val)
        dc_error_context(err, "COPY %s, line %llu, column %s: \"%.*s\"",
                        ci->t->name, (unsigned long long)ci->line, col,
                        (int)(vlen > 100 ? 100 : vlen), val);
    else if (col)
        dc_error_context(err, "COPY %s, line %llu, column %s: null input",
                        ci->t->name, (unsigned long long)ci->line, col);
    else
        dc_error_context(err, "COPY %s, line %llu", ci->t->name,
                        (unsigned long long)ci->line);
}

static int reset_row_arena(copy_in *ci, dc_error *err)
{
    sql_arena_free(ci->rowa);
    if (!(ci->rowa = sql_arena_new()))
        return oom(err);
    ci->rctx.arena = ci->rowa;
    ci->rctx.mem.alloc = arena_alloc_fn;
    ci->rctx.mem.ctx = ci->rowa;
    return DC_OK;
}

static int check_row(copy_in *ci, dc_error *err)
{
    const sql_table *t = ci->t;
    for (int i = 0; i < t->nchecks; i++) {
        dc_value v;
        int rc = sql_eval(&ci->rctx, ci->checks[i], ci->vals, NULL, &v, err);
        if (rc)
            return rc;
        if (!v.is_null && !v.u.b) {
            rc = dc_error_set(err, DC_ERR, "23514",
                              "new row for relation \"%s\" violates check "
                              "constraint \"%s\"", t->name, t->checks[i].name);
            add_context(ci, NULL, NULL, 0, err);
            return rc;
        }
    }
    return DC_OK;
}

/* Decode the fields of the current record (split already) into ci->vals,
 * with the DEFAULTs of unlisted columns. */
static int decode_fields(copy_in *ci, dc_error *err)
{
    const sql_table *t = ci->t;
    const copy_cols *cc = &ci->cols;
    int rc;
    if (ci->nf > cc->n) {
        rc = dc_error_set(err, DC_EINVAL, "22P04",
                          "extra data after last expected column");
        add_line_context(ci, err);
        return rc;
    }
    if (ci->nf < cc->n) {
        rc = dc_error_set(err, DC_EINVAL, "22P04",
                          "missing data for column \"%s\"",
                          t->cols[cc->atts[ci->nf] - 1].name);
        add_line_context(ci, err);
        return rc;
    }
    for (int a = 0; a < t->natts; a++) {
        if (ci->defaults[a]) {
            if ((rc = sql_eval(&ci->rctx, ci->defaults[a], ci->vals, NULL,
                               &ci->vals[a], err))) {
                add_context(ci, NULL, NULL, 0, err);
                return rc;
            }
        } else {
            ci->vals[a] = ci->nulls[a];
        }
    }
    for (int f = 0; f < ci->nf; f++) {
        const sql_column *col = &t->cols[cc->atts[f] - 1];
        dc_value *v = &ci->vals[cc->atts[f] - 1];
        const char *p = ci->fptr[f] ? ci->fptr[f]
                                    : (const char *)ci->field.data + ci->foff[f];
        size_t n = ci->flen[f];
        if (ci->fnull[f] && !cc->flag[f]) {
            *v = ci->nulls[cc->atts[f] - 1];
            continue;
        }
        if (ci->fnull[f])
            n = 0; /* FORCE_NOT_NULL: the NULL string reads as empty */
        rc = ci->borrow ? sql_value_in_borrowed(col->type, col->typmod,
                                                n ? p : "", n, ci->ctx->tz,
                                                &ci->rctx.mem, v, err)
                        : sql_value_in(col->type, col->typmod, n ? p : "", n,
                                       ci->ctx->tz, &ci->rctx.mem, v, err);
        if (rc) {
            add_context(ci, col->name, n ? p : "", n, err);
            return rc;
        }
    }
    return DC_OK;
}

/* The rows of recent records take ROWS_PER_ARENA rows of values; then the
 * arena is dropped (and the statement checked for a cancel). */
static int next_row(copy_in *ci, dc_error *err)
{
    int rc;
    ci->rows++;
    if (ci->rows % ROWS_PER_ARENA == 0) {
        if ((rc = reset_row_arena(ci, err)) ||
            (rc = sql_check_cancel(ci->ctx, err)))
            return rc;
    }
    return DC_OK;
}

/* Decode the fields of the current record and insert the row. */
static int insert_record(copy_in *ci, dc_error *err)
{
    const sql_table *t = ci->t;
    int rc = decode_fields(ci, err);
    if (rc)
        return rc;
    if (t->nchecks && (rc = check_row(ci, err)))
        return rc;
    if ((rc = sql_table_insert(ci->ctx->txn, t, ci->vals, NULL, err))) {
        add_context(ci, NULL, NULL, 0, err);
        return rc;
    }
    return next_row(ci, err);
}

/* ==== COPY FROM on two threads ============================================
 *
 * Into a table whose rows need nothing but their own values (no primary
 * key, no index, no CHECK, no DEFAULT to evaluate: what a bulk load
 * usually fills), records are decoded on a second thread.  The
 * connection's thread cuts records out of the client's data into batches
 * and reserves each batch's rowids as it hands the batch over; the decoder
 * splits the records, decodes the values, checks NOT NULL and encodes each
 * row and its key; the connection's thread then writes them, batch by
 * batch in input order, so the rows, their rowids (in one session) and
 * the first error reported are those of a serial COPY.  The
 * thread starts only once a first batch is full: a short COPY decodes its
 * one batch on the connection's thread. */

#define BATCH_RECS 1024
#define BATCH_TEXT (256 * 1024)
#define NBATCH 4

typedef struct copy_batch {
    sql_buf text;           /* the records' bytes, back to back          */
    size_t n;               /* records                                   */
    size_t off[BATCH_RECS]; /* record i: text[off[i], off[i] + len[i])   */
    size_t len[BATCH_RECS];
    uint64_t line0;         /* line of record 0                          */
    int64_t rowid0;         /* rowid of record 0 (reserved for them all) */
    sql_buf rows;           /* each row's key, then the row: back to back */
    size_t kend[BATCH_RECS];/* row i's key ends at rows[kend[i]],        */
    size_t end[BATCH_RECS]; /* the row at rows[end[i]]                   */
    size_t nok;             /* rows decoded before the error, if any     */
    int rc;
    dc_error err;
} copy_batch;

typedef struct copy_par {
    copy_batch b[NBATCH];
    sql_pipe *pipe;         /* NULL until a first batch is full          */
    bool serial;            /* no thread to be had: decode here          */
    copy_in dec;            /* the decoder's record state                */
    sql_buf row;            /* decoder: one encoded row                  */
    sql_buf key;            /* decoder: one row key                      */
} copy_par;

/* Free the per-record state of ci (fields and the row arena). */
static void record_state_free(copy_in *ci)
{
    sql_buf_free(&ci->field);
    free(ci->fptr);
    free(ci->foff);
    free(ci->flen);
    free(ci->fnull);
    sql_arena_free(ci->rowa);
}

static bool par_eligible(const copy_in *ci)
{
    const sql_table *t = ci->t;
    if (t->pkey != NULL || t->nindexes > 0 || t->nchecks > 0)
        return false;
    for (int a = 0; a < t->natts; a++)
        if (ci->defaults[a])
            return false;
    return true;
}

/* Decode batch b with the decoder's record state: b->rows gets the
 * encoded rows of its first b->nok records; b->rc the first error. */
static void decode_batch(void *ud, void *slot)
{
    copy_par *p = ud;
    copy_batch *b = slot;
    copy_in *d = &p->dec;
    b->rows.len = 0;
    b->nok = 0;
    b->rc = DC_OK;
    dc_error_init(&b->err);
    for (size_t i = 0; i < b->n; i++) {
        const char *s = (const char *)b->text.data + b->off[i];
        dc_error *err = &b->err;
        d->line = b->line0 + i;
        d->rec = s;
        d->reclen = b->len[i];
        d->nf = 0;
        d->field.len = 0;
        int rc = d->o->csv ? split_csv(d, s, b->len[i], err)
                           : split_text(d, s, b->len[i], err);
        if (rc == DC_OK)
            rc = decode_fields(d, err);
        if (rc == DC_OK &&
            (rc = sql_row_prepare(d->t, d->vals, &p->row, err)) != DC_OK)
            add_context(d, NULL, NULL, 0, err);
        if (rc == DC_OK)
            rc = sql_rowid_key(d->t, b->rowid0 + (int64_t)i, &p->key, err);
        if (rc == DC_OK)
            rc = sql_buf_append(&b->rows, p->key.data, p->key.len, err);
        b->kend[i] = b->rows.len;
        if (rc == DC_OK)
            rc = sql_buf_append(&b->rows, p->row.data, p->row.len, err);
        if (rc == DC_OK && ++d->rows % ROWS_PER_ARENA == 0)
            rc = reset_row_arena(d, err);
        if (rc != DC_OK) {
            b->rc = rc;
            return;
        }
        b->end[i] = b->rows.len;
        b->nok = i + 1;
    }
}

static int par_open(copy_in *ci, dc_error *err)
{
    copy_par *p = calloc(1, sizeof *p);
    if (!p)
        return oom(err);
    ci->par = p;
    copy_in *d = &p->dec;
    d->ctx = ci->ctx;
    d->t = ci->t;
    d->o = ci->o;
    d->cols = ci->cols;
    d->defaults = ci->defaults;
    d->nulls = ci->nulls;
    d->rctx = *ci->ctx;
    d->borrow = true;
    d->vals = calloc((size_t)ci->t->natts + 1, sizeof(dc_value));
    if (!d->vals)
        return oom(err);
    return reset_row_arena(d, err);
}

/* Stop the decoder (when it runs) and free everything. */
static void par_close(copy_in *ci)
{
    copy_par *p = ci->par;
    if (!p)
        return;
    sql_pipe_close(p->pipe);
    for (int i = 0; i < NBATCH; i++) {
        sql_buf_free(&p->b[i].text);
        sql_buf_free(&p->b[i].rows);
    }
    record_state_free(&p->dec);
    free(p->dec.vals);
    sql_buf_free(&p->row);
    sql_buf_free(&p->key);
    free(p);
    ci->par = NULL;
}

/* Write the decoded rows of b, then report its error if it had one. */
static int write_batch(copy_in *ci, copy_batch *b, dc_error *err)
{
    size_t start = 0;
    int rc = DC_OK;
    for (size_t i = 0; i < b->nok && rc == DC_OK; i++) {
        const uint8_t *r = b->rows.data;
        rc = sql_txn_put(ci->ctx->txn, r + start, b->kend[i] - start,
                         r + b->kend[i], b->end[i] - b->kend[i], err);
        if (rc == DC_OK) {
            ci->rows++;
            if (ci->rows % ROWS_PER_ARENA == 0)
                rc = sql_check_cancel(ci->ctx, err);
        } else {
            ci->line = b->line0 + i;
            ci->rec = (const char *)b->text.data + b->off[i];
            ci->reclen = b->len[i];
            add_context(ci, NULL, NULL, 0, err);
        }
        start = b->end[i];
    }
    if (rc == DC_OK && b->rc != DC_OK)
        rc = sql_pipe_report(err, b->rc, &b->err);
    b->n = 0;
    b->text.len = 0;
    return rc;
}

/* Write the decoded batches at the head: those done (all of them when
 * `all`), and at least the oldest when no batch is free to fill. */
static int par_drain(copy_in *ci, bool all, dc_error *err)
{
    sql_pipe *pipe = ci->par->pipe;
    for (;;) {
        bool wait = all ? sql_pipe_pending(pipe) > 0
                        : sql_pipe_free_slot(pipe) == NULL;
        copy_batch *b = sql_pipe_take(pipe, wait);
        if (b == NULL)
            return DC_OK;
        int rc = write_batch(ci, b, err);
        sql_pipe_release(pipe);
        if (rc != DC_OK)
            return rc;
    }
}

/* The batch being filled. */
static copy_batch *par_filling(copy_par *p)
{
    return p->pipe ? sql_pipe_free_slot(p->pipe) : &p->b[0];
}

/* Hand the batch being filled over: to the decoder, started with the
 * first full batch; decoded here when it is the last of a short COPY or
 * no thread can start. */
static int par_submit(copy_in *ci, bool last, dc_error *err)
{
    copy_par *p = ci->par;
    copy_batch *b = par_filling(p);
    if (b->n == 0)
        return DC_OK;
    int rc = sql_rowid_reserve(ci->ctx->txn, (int64_t)b->n, &b->rowid0, err);
    if (rc != DC_OK)
        return rc;
    if (!p->pipe && !last && !p->serial) {
        void *slots[NBATCH];
        for (int i = 0; i < NBATCH; i++)
            slots[i] = &p->b[i];
        p->serial = !sql_pipe_open(slots, NBATCH, decode_batch, p, &p->pipe);
    }
    if (!p->pipe) {
        decode_batch(p, b);
        return write_batch(ci, b, err);
    }
    sql_pipe_submit(p->pipe);
    return par_drain(ci, false, err);
}

/* Add the current record [s, s + n) to the batch being filled. */
static int par_add(copy_in *ci, const char *s, size_t n, dc_error *err)
{
    copy_batch *b = par_filling(ci->par);
    if (b->n == 0)
        b->line0 = ci->line;
    b->off[b->n] = b->text.len;
    b->len[b->n] = n;
    int rc = n ? sql_buf_append(&b->text, s, n, err) : DC_OK;
    if (rc)
        return rc;
    b->n++;
    if (b->n == BATCH_RECS || b->text.len >= BATCH_TEXT)
        return par_submit(ci, false, err);
    return DC_OK;
}

/* The input ended: decode and write what is left. */
static int par_finish(copy_in *ci, dc_error *err)
{
    copy_par *p = ci->par;
    int rc = par_submit(ci, true, err);
    if (rc == DC_OK && p->pipe)
        rc = par_drain(ci, true, err);
    return rc;
}

/* One complete record [s, s + n) (no line end). */
static int handle_record(copy_in *ci, const char *s, size_t n, dc_error *err)
{
    ci->line++;
    if (n == 2 && s[0] == '\\' && s[1] == '.') {
        ci->ended = true;
        return DC_OK;
    }
    if (ci->line == 1 && ci->o->header)
        return DC_OK;
    if (ci->par)
        return par_add(ci, s, n, err);
    ci->nf = 0;
    ci->field.len = 0;
    ci->rec = s;
    ci->reclen = n;
    int rc = ci->o->csv ? split_csv(ci, s, n, err) : split_text(ci, s, n, err);
    return rc ? rc : insert_record(ci, err);
}

/* Find the end of the record starting at ci->pos: *end is the index of
 * its '\n' (or of the data's end at EOF); false when more data is
 * needed. */
static bool find_record(copy_in *ci, bool eof, size_t *end)
{
    const char *b = (const char *)ci->in.data;
    size_t n = ci->in.len, i = ci->scan;
    const copy_opts *o = ci->o;
    if (!o->csv) {
        while (i < n) {
            const char *nl = memchr(b + i, '\n', n - i);
            const char *bs = memchr(b + i, '\\', (nl ? (size_t)(nl - b) : n) - i);
            if (!bs) {
                if (!nl) {
                    i = n;
                    break;
                }
                ci->scan = *end = (size_t)(nl - b);
                return true;
            }
            /* A backslash takes the next byte with it (even a newline). */
            i = (size_t)(bs - b);
            if (i + 1 >= n)
                break;
            i += 2;
        }
    } else {
        bool inq = ci->inq;
        for (; i < n; i++) {
            char c = b[i];
            if (inq) {
                if (c == o->escape && o->escape != o->quote) {
                    if (i + 1 >= n)
                        break;
                    i++;
                } else if (c == o->quote) {
                    inq = false;
                }
            } else if (c == o->quote) {
                inq = true;
            } else if (c == '\n') {
                ci->inq = false;
                ci->scan = *end = i;
                return true;
            }
        }
        ci->inq = inq;
    }
    ci->scan = i;
    if (eof && ci->pos < n) {
        *end = n;
        return true;
    }
    return false;
}

/* Consume every complete record in the buffer (all of it at EOF). */
static int drain_records(copy_in *ci, bool eof, dc_error *err)
{
    size_t end;
    int rc;
    while (!ci->ended && ci->pos < ci->in.len && find_record(ci, eof, &end)) {
        if (eof && end == ci->in.len && ci->o->csv && ci->inq) {
            rc = dc_error_set(err, DC_EINVAL, "22P04",
                              "unterminated CSV quoted field");
            ci->line++;
            ci->rec = (const char *)ci->in.data + ci->pos;
            ci->reclen = ci->in.len - ci->pos;
            add_line_context(ci, err);
            return rc;
        }
        size_t len = end - ci->pos;
        const char *s = (const char *)ci->in.data + ci->pos;
        if (len && s[len - 1] == '\r')
            len--;
        if ((rc = handle_record(ci, s, len, err)))
            return rc;
        ci->pos = ci->scan = end < ci->in.len ? end + 1 : end;
        ci->inq = false;
    }
    /* Keep only the unconsumed tail. */
    if (ci->pos > 0) {
        size_t rest = ci->in.len - ci->pos;
        if (rest)
            memmove(ci->in.data, ci->in.data + ci->pos, rest);
        ci->in.len = rest;
        ci->scan -= ci->pos;
        ci->pos = 0;
    }
    return DC_OK;
}

/* Bind the DEFAULTs of columns COPY does not list, and the CHECKs. */
static int bind_exprs(copy_in *ci, dc_error *err)
{
    sql_ctx *ctx = ci->ctx;
    const sql_table *t = ci->t;
    ci->defaults = ctx_alloc(ctx, sizeof(sql_bexpr *) * (size_t)(t->natts + 1), err);
    ci->checks = ctx_alloc(ctx, sizeof(sql_bexpr *) * (size_t)(t->nchecks + 1), err);
    ci->vals = ctx_alloc(ctx, sizeof(dc_value) * (size_t)(t->natts + 1), err);
    ci->nulls = ctx_alloc(ctx, sizeof(dc_value) * (size_t)(t->natts + 1), err);
    if (!ci->defaults || !ci->checks || !ci->vals || !ci->nulls)
        return DC_ENOMEM;
    for (int a = 0; a < t->natts; a++) {
        ci->nulls[a] = sql_value_null(t->cols[a].type);
        ci->nulls[a].typmod = t->cols[a].typmod;
    }
    int rc;
    for (int a = 0; a < t->natts; a++) {
        const sql_column *col = &t->cols[a];
        bool listed = false;
        for (int k = 0; k < ci->cols.n && !listed; k++)
            listed = ci->cols.atts[k] == col->attnum;
        if (listed || col->dropped || !col->default_expr)
            continue;
        if ((rc = sql_bind_expr_text(ctx, ctx->arena, t, col->default_expr,
                                     col->type, col->typmod, &ci->defaults[a],
                                     err)))
            return rc;
    }
    for (int i = 0; i < t->nchecks; i++)
        if ((rc = sql_bind_expr_text(ctx, ctx->arena, t, t->checks[i].expr,
                                     0, -1, &ci->checks[i], err)))
            return rc;
    return DC_OK;
}

/* The client ended the COPY with an error (CopyFail, a lost connection):
 * PostgreSQL's 57014.  The protocol module replaces the text with the
 * client's own message when it has one. */
static int client_failed(int rc, dc_error *err)
{
    return dc_error_set(err, rc, "57014", "COPY from stdin failed: %s",
                        dc_status_name(rc));
}

static int copy_from(sql_ctx *ctx, const sql_table *t, const sql_copy *c,
                     const copy_opts *o, const dc_sql_sink *sink,
                     uint64_t *rows, dc_error *err)
{
    if (sql_txn_read_only(ctx->txn))
        return dc_error_set(err, DC_EPERM, "25006",
                            "cannot execute COPY FROM in a read-only "
                            "transaction");
    if (!sink || !sink->copy_read)
        return dc_error_set(err, DC_EUNSUPPORTED, "0A000",
                            "COPY FROM STDIN is not supported by this client");
    copy_in ci;
    memset(&ci, 0, sizeof ci);
    ci.ctx = ctx;
    ci.t = t;
    ci.o = o;
    ci.rctx = *ctx;
    int rc = resolve_cols(ctx, t, c->cols, &ci.cols, err);
    if (rc == DC_OK && o->force_not_null)
        rc = mark_cols(t, &ci.cols, o->force_not_null, "FORCE_NOT_NULL", err);
    if (rc == DC_OK && o->force_quote)
        rc = dc_error_set(err, DC_EUNSUPPORTED, "0A000",
                          "COPY force quote only available using COPY TO");
    if (rc == DC_OK)
        rc = bind_exprs(&ci, err);
    if (rc == DC_OK)
        rc = reset_row_arena(&ci, err);
    if (rc == DC_OK && par_eligible(&ci))
        rc = par_open(&ci, err);
    if (rc == DC_OK && sink->copy_begin)
        rc = sink->copy_begin(sink->ud, DC_COPY_IN, o->csv ? 1 : 0,
                              (uint32_t)ci.cols.n);
    bool eof = false;
    while (rc == DC_OK && !eof) {
        const uint8_t *data = NULL;
        size_t len = 0;
        int r = sink->copy_read(sink->ud, &data, &len);
        if (r == DC_ENOTFOUND) {
            eof = true;
        } else if (r != DC_OK) {
            rc = client_failed(r, err);
            break;
        } else if (ci.ended) {
            continue; /* data after the end marker is read and ignored */
        } else if (len && (rc = sql_buf_append(&ci.in, data, len, err))) {
            break;
        }
        rc = drain_records(&ci, eof, err);
        if (rc == DC_OK)
            rc = sql_check_cancel(ctx, err);
    }
    if (rc == DC_OK && ci.par)
        rc = par_finish(&ci, err);
    par_close(&ci);
    if (rc == DC_OK)
        *rows = ci.rows;
    sql_buf_free(&ci.in);
    record_state_free(&ci);
    return rc;
}

/* ==== COPY TO ============================================================= */

typedef struct copy_out {
    sql_ctx *ctx;
    const copy_opts *o;
    const dc_sql_sink *sink;
    const bool *fq;        /* FORCE_QUOTE per output column, or NULL */
    bool fq_all;           /* FORCE_QUOTE *                          */
    sql_buf out, tmp;
    uint64_t rows;
} copy_out;

static int out_flush(copy_out *co, bool all, dc_error *err)
{
    (void)err;
    if (co->out.len == 0 || (!all && co->out.len < COPY_OUT_CHUNK))
        return DC_OK;
    int rc = co->sink->copy_write
                 ? co->sink->copy_write(co->sink->ud, co->out.data, co->out.len)
                 : DC_OK;
    co->out.len = 0;
    return rc;
}

static int put_text_escaped(copy_out *co, const uint8_t *s, size_t n,
                            dc_error *err)
{
    char delim = co->o->delim;
    size_t i = 0;
    while (i < n) {
        size_t j = i;
        while (j < n && s[j] != '\\' && s[j] != delim && s[j] >= 0x20 &&
               s[j] != 0x7F)
            j++;
        if (j > i && sql_buf_append(&co->out, s + i, j - i, err))
            return DC_ENOMEM;
        if (j >= n)
            break;
        char e[2] = {'\\', (char)s[j]};
        switch (s[j]) {
        case '\b': e[1] = 'b'; break;
        case '\f': e[1] = 'f'; break;
        case '\n': e[1] = 'n'; break;
        case '\r': e[1] = 'r'; break;
        case '\t': e[1] = 't'; break;
        case '\v': e[1] = 'v'; break;
        default:
            if (s[j] != '\\' && s[j] != (uint8_t)delim) {
                /* Other control bytes go out as they are. */
                if (sql_buf_append(&co->out, s + j, 1, err))
                    return DC_ENOMEM;
                i = j + 1;
                continue;
            }
            break;
        }
        if (sql_buf_append(&co->out, e, 2, err))
            return DC_ENOMEM;
        i = j + 1;
    }
    return DC_OK;
}

static int put_csv(copy_out *co, const uint8_t *s, size_t n, bool force,
                   dc_error *err)
{
    const copy_opts *o = co->o;
    bool q = force || (n == o->null_len && !memcmp(s, o->null_str, n)) ||
             (n == 2 && s[0] == '\\' && s[1] == '.');
    for (size_t i = 0; i < n && !q; i++)
        q = s[i] == (uint8_t)o->delim || s[i] == (uint8_t)o->quote ||
            s[i] == '\n' || s[i] == '\r';
    if (!q)
        return n ? sql_buf_append(&co->out, s, n, err) : DC_OK;
    if (sql_buf_append(&co->out, &o->quote, 1, err))
        return DC_ENOMEM;
    size_t i = 0;
    while (i < n) {
        size_t j = i;
        while (j < n && s[j] != (uint8_t)o->quote && s[j] != (uint8_t)o->escape)
            j++;
        if (j > i && sql_buf_append(&co->out, s + i, j - i, err))
            return DC_ENOMEM;
        if (j >= n)
            break;
        if (sql_buf_append(&co->out, &o->escape, 1, err) ||
            sql_buf_append(&co->out, s + j, 1, err))
            return DC_ENOMEM;
        i = j + 1;
    }
    return sql_buf_append(&co->out, &o->quote, 1, err);
}

static int put_field(copy_out *co, int i, const uint8_t *s, size_t n,
                     dc_error *err)
{
    if (i > 0 && sql_buf_append(&co->out, &co->o->delim, 1, err))
        return DC_ENOMEM;
    if (co->o->csv)
        return put_csv(co, s, n, co->fq_all || (co->fq && co->fq[i]), err);
    return put_text_escaped(co, s, n, err);
}

static int put_row(copy_out *co, const dc_value *const *vals, int n,
                   dc_error *err)
{
    int rc;
    for (int i = 0; i < n; i++) {
        const dc_value *v = vals[i];
        if (v->is_null) {
            if (i > 0 && sql_buf_append(&co->out, &co->o->delim, 1, err))
                return DC_ENOMEM;
            if (sql_buf_append(&co->out, co->o->null_str, co->o->null_len, err))
                return DC_ENOMEM;
            continue;
        }
        co->tmp.len = 0;
        if ((rc = sql_value_out(v, co->ctx->tz, &co->tmp, err)))
            return rc;
        if ((rc = put_field(co, i, co->tmp.data, co->tmp.len, err)))
            return rc;
    }
    if (sql_buf_append(&co->out, "\n", 1, err))
        return DC_ENOMEM;
    co->rows++;
    if (co->rows % 1024 == 0 && (rc = sql_check_cancel(co->ctx, err)))
        return rc;
    return out_flush(co, false, err);
}

/* Tell the client the data starts (ncols columns). */
static int begin_out(copy_out *co, int ncols)
{
    const dc_sql_sink *sink = co->sink;
    if (!sink || !sink->copy_begin)
        return DC_OK;
    return sink->copy_begin(sink->ud, DC_COPY_OUT, co->o->csv ? 1 : 0,
                            (uint32_t)ncols);
}

static int put_header(copy_out *co, const char *const *names, int n,
                      dc_error *err)
{
    for (int i = 0; i < n; i++) {
        int rc = put_field(co, i, (const uint8_t *)names[i], strlen(names[i]),
                           err);
        if (rc)
            return rc;
    }
    return sql_buf_append(&co->out, "\n", 1, err);
}

static int copy_to_table(copy_out *co, const sql_table *t, const copy_cols *cc,
                         dc_error *err)
{
    sql_ctx *ctx = co->ctx;
    const char **names = ctx_alloc(ctx, sizeof(char *) * (size_t)(cc->n + 1), err);
    const dc_value **row = ctx_alloc(ctx, sizeof(dc_value *) * (size_t)(cc->n + 1), err);
    dc_value *vals = ctx_alloc(ctx, sizeof(dc_value) * (size_t)(t->natts + 1), err);
    if (!names || !row || !vals)
        return DC_ENOMEM;
    for (int i = 0; i < cc->n; i++) {
        names[i] = t->cols[cc->atts[i] - 1].name;
        row[i] = &vals[cc->atts[i] - 1];
    }
    int rc = begin_out(co, cc->n);
    if (rc == DC_OK && co->o->header)
        rc = put_header(co, names, cc->n, err);
    if (rc)
        return rc;
    sql_scan *scan = NULL;
    if ((rc = sql_table_scan_open(ctx->txn, SQL_READ_SNAPSHOT, t, NULL, 0, NULL,
                                  0, &scan, err)))
        return rc;
    sql_arena *a = sql_arena_new();
    if (!a) {
        sql_scan_close(scan);
        return oom(err);
    }
    for (uint64_t n = 1;; n++) {
        sql_mem mem = {arena_alloc_fn, a};
        bool valid = false;
        if ((rc = sql_scan_next(scan, &mem, vals, NULL, NULL, &valid, err)) ||
            !valid)
            break;
        if ((rc = put_row(co, row, cc->n, err)))
            break;
        if (n % ROWS_PER_ARENA == 0) {
            sql_arena_free(a);
            if (!(a = sql_arena_new())) {
                rc = oom(err);
                break;
            }
        }
    }
    sql_arena_free(a);
    sql_scan_close(scan);
    return rc;
}

static int copy_to_query(copy_out *co, const sql_copy *c, const char *src,
                         dc_error *err)
{
    sql_ctx *ctx = co->ctx;
    sql_stmt_kind k = c->query->kind;
    if (k != STMT_SELECT && k != STMT_INSERT && k != STMT_UPDATE &&
        k != STMT_DELETE)
        return dc_error_set(err, DC_EUNSUPPORTED, "0A000",
                            "COPY (query) only supports SELECT, VALUES, "
                            "INSERT, UPDATE and DELETE");
    /* COPY TO needs the read permission only (sql.c); a query that writes
     * needs the write one too. */
    if (k != STMT_SELECT && ctx->sess && !ctx->sess->can_write)
        return dc_error_set(err, DC_EPERM, "42501",
                            "permission denied: role \"%s\" may not write",
                            ctx->sess->user);
    sql_plan *plan = NULL;
    int rc = sql_plan_stmt(ctx, ctx->arena, c->query, src, NULL, &plan, err);
    if (rc)
        return rc;
    if (plan->ncols == 0)
        return dc_error_set(err, DC_EUNSUPPORTED, "0A000",
                            "COPY query must have a RETURNING clause");
    const dc_value **row = ctx_alloc(ctx, sizeof(dc_value *) * (size_t)(plan->ncols + 1), err);
    const char **names = ctx_alloc(ctx, sizeof(char *) * (size_t)(plan->ncols + 1), err);
    if (!row || !names)
        return DC_ENOMEM;
    for (int i = 0; i < plan->ncols; i++)
        names[i] = plan->names && plan->names[i] ? plan->names[i] : "?column?";
    if ((rc = begin_out(co, plan->ncols)) ||
        (co->o->header && (rc = put_header(co, names, plan->ncols, err))))
        return rc;
    sql_cursor *cur = NULL;
    if ((rc = sql_exec_open(ctx, plan, &cur, err)))
        return rc;
    for (;;) {
        dc_row r;
        bool done = false;
        if ((rc = sql_exec_next(cur, &r, &done, err)) || done)
            break;
        for (int i = 0; i < plan->ncols; i++)
            row[i] = &r.values[i];
        if ((rc = put_row(co, row, plan->ncols, err)))
            break;
    }
    sql_exec_close(cur);
    return rc;
}

static int copy_to(sql_ctx *ctx, const sql_table *t, const sql_copy *c,
                   const char *src, const copy_opts *o,
                   const dc_sql_sink *sink, uint64_t *rows, dc_error *err)
{
    if (o->force_not_null)
        return dc_error_set(err, DC_EUNSUPPORTED, "0A000",
                            "COPY force not null only available using COPY "
                            "FROM");
    copy_out co;
    memset(&co, 0, sizeof co);
    co.ctx = ctx;
    co.o = o;
    co.sink = sink;
    copy_cols cc = {0};
    int rc = DC_OK;
    if (t) {
        rc = resolve_cols(ctx, t, c->cols, &cc, err);
        if (rc == DC_OK && o->force_quote &&
            (rc = mark_cols(t, &cc, o->force_quote, "FORCE_QUOTE", err)) == DC_OK)
            co.fq = cc.flag;
    } else if (o->force_quote) {
        if (strcmp(o->force_quote, "*"))
            return dc_error_set(err, DC_EUNSUPPORTED, "0A000",
                                "COPY (query) TO supports FORCE_QUOTE * only");
        co.fq_all = true;
    }
    if (rc)
        return rc;
    rc = t ? copy_to_table(&co, t, &cc, err) : copy_to_query(&co, c, src, err);
    if (rc == DC_OK)
        rc = out_flush(&co, true, err);
    if (rc == DC_OK)
        *rows = co.rows;
    sql_buf_free(&co.out);
    sql_buf_free(&co.tmp);
    return rc;
}

/* ==== entry =============================================================== */

static int find_table(sql_ctx *ctx, const sql_copy *c, const sql_table **out,
                      dc_error *err)
{
    const sql_qname *q = c->table;
    const char *name = q->parts[q->nparts - 1];
    const char *schema = q->nparts >= 2 ? q->parts[q->nparts - 2] : "public";
    int rc;
    if (q->nparts > 2)
        rc = dc_error_set(err, DC_EUNSUPPORTED, "0A000",
                          "cross-database references are not implemented");
    else if ((*out = sql_catalog_table(ctx->cat, schema, name)))
        return DC_OK;
    else if (sql_catalog_view(ctx->cat, schema, name) && c->is_from)
        rc = dc_error_set(err, DC_EINVAL, "42809",
                          "cannot copy to view \"%s\"", name);
    else if (sql_catalog_view(ctx->cat, schema, name)) {
        rc = dc_error_set(err, DC_EINVAL, "42809",
                          "cannot copy from view \"%s\"", name);
        dc_error_hint(err, "Try the COPY (SELECT ...) TO variant.");
    }
    else
        rc = dc_error_set(err, DC_ENOTFOUND, "42P01",
                          "relation \"%s\" does not exist", name);
    if (err && q->pos > 0)
        err->position = q->pos;
    return rc;
}

int sql_copy_exec(sql_ctx *ctx, const sql_copy *c, const char *src,
                  const dc_sql_sink *sink, uint64_t *rows, dc_error *err)
{
    *rows = 0;
    if (!c->stdio)
        return dc_error_set(err, DC_EPERM, "42501",
                            "must be superuser or have privileges of the "
                            "pg_%s_server_files role to COPY %s a file",
                            c->is_from ? "read" : "write",
                            c->is_from ? "from" : "to");
    copy_opts o;
    int rc = parse_opts(c, &o, err);
    if (rc)
        return rc;
    const sql_table *t = NULL;
    if (c->table && (rc = find_table(ctx, c, &t, err)))
        return rc;
    if (c->is_from)
        return copy_from(ctx, t, c, &o, sink, rows, err);
    return copy_to(ctx, t, c, src, &o, sink, rows, err);
}
