/*
 * shell.c - `datacave sql`, a psql-like shell on the in-process engine
 * (shell.h).
 *
 * Input is read a line at a time (from -f files, standard input or the
 * terminal), split into statements with the same rules as psql and run one
 * statement at a time; each -c string runs as one piece, as psql sends it.
 * Result sets are collected as text, then printed in psql's aligned format.
 */
#define _GNU_SOURCE
#include "shell.h"

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "datacave/sql.h"
#include "embed.h"
#include "util.h"

#define EXIT_USAGE       2
#define EXIT_SCRIPT_STOP 3 /* psql's status for ON_ERROR_STOP in a script */

static const char HELP_SQL[] =
    "usage: datacave sql --config FILE [-c SQL]... [-f FILE]... [options]\n"
    "\n"
    "Runs SQL in-process on the data directory of FILE's [storage] (no server\n"
    "needed; the server must not be running on the same directory).  Each -c\n"
    "string and -f file runs in the order given; without them, statements are\n"
    "read from standard input, with a prompt when it is a terminal.  Output\n"
    "is psql's aligned format.\n"
    "\n"
    "options:\n"
    "  -c, --command SQL      run SQL (several statements allowed)\n"
    "  -f, --file FILE        run the statements of FILE ('-': standard "
    "input)\n"
    "  --data-dir DIR         use DIR instead of [storage] data_dir\n"
    "  -d, --dbname NAME      database to connect to (default \"default\")\n"
    "  -U, --username NAME    user name (default: $USER, or the login name)\n"
    "  -v, --set NAME=VALUE   set a variable; ON_ERROR_STOP=1 stops at the\n"
    "                         first error\n"
    "\n"
    "Exit status: 0; 1 when the last -c failed or the engine could not\n"
    "start; 3 when ON_ERROR_STOP stopped a script; 2 for usage errors.\n";

static const char HELP_META[] =
    "General\n"
    "  \\q                     quit\n"
    "  \\?                     this help\n"
    "\n"
    "Statements end with ';' (outside quotes, dollar quotes, comments and\n"
    "parentheses).\n";

/* ---- statement splitting ---------------------------------------------- */

static bool ident_char(unsigned char c)
{
    return isalnum(c) || c == '_' || c == '$' || c >= 0x80;
}

/* Length of the dollar-quote tag ($tag$) starting at text[i], or 0. */
static size_t dollar_tag(const char *text, size_t len, size_t i)
{
    if (i > 0 && ident_char((unsigned char)text[i - 1]))
        return 0;
    size_t j = i + 1;
    if (j < len && isdigit((unsigned char)text[j]))
        return 0;
    while (j < len && (isalnum((unsigned char)text[j]) || text[j] == '_' ||
                       (unsigned char)text[j] >= 0x80))
        j++;
    if (j < len && text[j] == '$')
        return j + 1 - i;
    return 0;
}

size_t dc_shell_split(const char *text, size_t len, char *state)
{
    int depth = 0, comment = 0;
    bool content = false;
    size_t i = 0;
    while (i < len) {
        char c = text[i];
        if (c == '-' && i + 1 < len && text[i + 1] == '-') {
            while (i < len && text[i] != '\n')
                i++;
            continue;
        }
        if (c == '/' && i + 1 < len && text[i + 1] == '*') {
            comment = 1;
            i += 2;
            while (i < len && comment > 0) {
                if (text[i] == '/' && i + 1 < len && text[i + 1] == '*') {
                    comment++;
                    i += 2;
                } else if (text[i] == '*' && i + 1 < len &&
                           text[i + 1] == '/') {
                    comment--;
                    i += 2;
                } else {
                    i++;
                }
            }
            if (comment > 0) {
                *state = '*';
                return 0;
            }
            continue;
        }
        if (!isspace((unsigned char)c))
            content = true;
        if (c == '\'') {
            bool esc = i > 0 && (text[i - 1] == 'E' || text[i - 1] == 'e') &&
                       (i < 2 || !ident_char((unsigned char)text[i - 2]));
            i++;
            for (;;) {
                if (i >= len) {
                    *state = '\'';
                    return 0;
                }
                if (esc && text[i] == '\\') {
                    i += 2;
                    continue;
                }
                if (text[i] == '\'') {
                    if (i + 1 < len && text[i + 1] == '\'') {
                        i += 2;
                        continue;
                    }
                    break;
                }
                i++;
            }
            i++;
            continue;
        }
        if (c == '"') {
            i++;
            while (i < len && text[i] != '"')
                i++;
            if (i >= len) {
                *state = '"';
                return 0;
            }
            i++;
            continue;
        }
        if (c == '$') {
            size_t tl = dollar_tag(text, len, i);
            if (tl > 0) {
                const char *end =
                    memmem(text + i + tl, len - i - tl, text + i, tl);
                if (end == NULL) {
                    *state = '$';
                    return 0;
                }
                i = (size_t)(end - text) + tl;
                continue;
            }
        }
        if (c == '(')
            depth++;
        else if (c == ')' && depth > 0)
            depth--;
        else if (c == ';' && depth == 0)
            return i + 1;
        i++;
    }
    *state = depth > 0 ? '(' : content ? '-' : '=';
    return 0;
}

/* ---- aligned output ------------------------------------------------------ */

/* Display width of s[0..n): one column per UTF-8 character. */
static size_t width_of(const char *s, size_t n)
{
    size_t w = 0;
    for (size_t i = 0; i < n; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80)
            w++;
    return w;
}

static bool right_aligned(uint32_t type)
{
    switch (type) {
    case DC_TYPE_INT2:
    case DC_TYPE_INT4:
    case DC_TYPE_INT8:
    case DC_TYPE_OID:
    case DC_TYPE_FLOAT4:
    case DC_TYPE_FLOAT8:
    case DC_TYPE_NUMERIC:
        return true;
    default:
        return false;
    }
}

static void pad(FILE *out, size_t n)
{
    for (size_t i = 0; i < n; i++)
        fputc(' ', out);
}

/* Line `k` of cell s (lines split at '\n'): start and length; false when
 * the cell has fewer lines. */
static bool cell_line(const char *s, size_t k, const char **start, size_t *n)
{
    if (s == NULL)
        s = "";
    for (size_t i = 0; i < k; i++) {
        s = strchr(s, '\n');
        if (s == NULL)
            return false;
        s++;
    }
    const char *nl = strchr(s, '\n');
    *start = s;
    *n = nl ? (size_t)(nl - s) : strlen(s);
    return true;
}

static size_t cell_lines(const char *s)
{
    size_t n = 1;
    for (; s && *s; s++)
        n += *s == '\n';
    return n;
}

static size_t *column_widths(const dc_shell_table *t)
{
    size_t *w = dc_xcalloc(t->ncols ? t->ncols : 1, sizeof *w);
    for (size_t c = 0; c < t->ncols; c++) {
        w[c] = width_of(t->names[c], strlen(t->names[c]));
        for (size_t r = 0; r < t->nrows; r++) {
            const char *s = t->cells[r * t->ncols + c];
            const char *ls;
            size_t n;
            for (size_t k = 0; cell_line(s, k, &ls, &n); k++)
                if (width_of(ls, n) > w[c])
                    w[c] = width_of(ls, n);
        }
    }
    return w;
}

static void print_header(FILE *out, const dc_shell_table *t, const size_t *w)
{
    for (size_t c = 0; c < t->ncols; c++) {
        size_t nw = width_of(t->names[c], strlen(t->names[c]));
        size_t left = (w[c] - nw) / 2;
        if (c > 0)
            fputc('|', out);
        pad(out, 1 + left);
        fputs(t->names[c], out);
        pad(out, w[c] - nw - left + 1);
    }
    fputc('\n', out);
    for (size_t c = 0; c < t->ncols; c++) {
        if (c > 0)
            fputc('+', out);
        for (size_t i = 0; i < w[c] + 2; i++)
            fputc('-', out);
    }
    fputc('\n', out);
}

/* One row, which spans as many output lines as its tallest cell. */
static void print_row(FILE *out, const dc_shell_table *t, const size_t *w,
                      size_t r)
{
    char *const *row = t->cells + r * t->ncols;
    size_t lines = 1;
    for (size_t c = 0; c < t->ncols; c++)
        if (cell_lines(row[c]) > lines)
            lines = cell_lines(row[c]);
    for (size_t k = 0; k < lines; k++) {
        for (size_t c = 0; c < t->ncols; c++) {
            bool last = c + 1 == t->ncols;
            const char *s;
            size_t n;
            if (c > 0)
                fputc('|', out);
            fputc(' ', out);
            if (!cell_line(row[c], k, &s, &n)) {
                if (!last)
                    pad(out, w[c] + 1);
                continue;
            }
            size_t sw = width_of(s, n);
            bool more = k + 1 < cell_lines(row[c]);
            if (right_aligned(t->types[c]))
                pad(out, w[c] - sw);
            fwrite(s, 1, n, out);
            if (!right_aligned(t->types[c]) && (!last || more))
                pad(out, w[c] - sw);
            if (more)
                fputc('+', out);
            else if (!last)
                fputc(' ', out);
        }
        fputc('\n', out);
    }
}

void dc_shell_print_table(FILE *out, const dc_shell_table *t)
{
    if (t->ncols == 0) {
        fputs("--\n", out);
    } else {
        size_t *w = column_widths(t);
        print_header(out, t, w);
        for (size_t r = 0; r < t->nrows; r++)
            print_row(out, t, w, r);
        free(w);
    }
    fprintf(out, "(%zu row%s)\n\n", t->nrows, t->nrows == 1 ? "" : "s");
}

/* ---- the shell ------------------------------------------------------------
 */

typedef struct shell {
    const dc_sql_vtable *vt;
    void *inst;
    dc_sql_session *sess;
    bool on_error_stop;
    bool interactive;
    const char *database;

    /* Where messages come from: "<name>:<line>: " in scripts. */
    const char *src_name;
    long src_line;
    FILE *copy_in; /* where COPY FROM STDIN data is read        */

    dc_shell_table t; /* the result set being collected            */
    bool described;
    size_t cap_rows;
    char *fmt; /* format_text buffer                        */
    size_t fmt_cap;
    char *copy_buf; /* COPY FROM STDIN line                      */
    size_t copy_cap;

    /* Ctrl-C: a thread waits for SIGINT and cancels the running
     * statement (guarded by mu: running, quitting). */
    pthread_mutex_t mu;
    bool running;
    bool quitting;
} shell;

static void table_reset(shell *sh)
{
    dc_shell_table *t = &sh->t;
    for (size_t i = 0; i < t->ncols; i++)
        free(t->names[i]);
    for (size_t i = 0; i < t->nrows * t->ncols; i++)
        free(t->cells[i]);
    free(t->names);
    free(t->types);
    free(t->cells);
    memset(t, 0, sizeof *t);
    sh->described = false;
    sh->cap_rows = 0;
}

/* The text as psql displays it: a tab becomes spaces up to the next
 * multiple of 8 columns of its line, a carriage return "\r", another
 * control character "\xNN"; newlines stay (they split the cell). */
static char *display_form(const char *s, size_t n)
{
    size_t cap = n + 1;
    for (size_t i = 0; i < n; i++)
        cap += s[i] == '\t' ? 8 : 4;
    char *out = dc_xmalloc(cap);
    size_t j = 0, col = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '\n') {
            out[j++] = '\n';
            col = 0;
        } else if (c == '\t') {
            do
                out[j++] = ' ';
            while (++col % 8 != 0);
        } else if (c == '\r') {
            out[j++] = '\\';
            out[j++] = 'r';
            col += 2;
        } else if (c < 0x20 || c == 0x7f) {
            j += (size_t)snprintf(out + j, cap - j, "\\x%02X", c);
            col += 4;
        } else {
            out[j++] = (char)c;
            if ((c & 0xC0) != 0x80)
                col++;
        }
    }
    out[j] = '\0';
    return out;
}

static void msg_prefix(const shell *sh)
{
    if (sh->src_name != NULL)
        fprintf(stderr, "datacave:%s:%ld: ", sh->src_name, sh->src_line);
}

static int sink_describe(void *ud, const dc_column *cols, uint32_t ncols)
{
    shell *sh = ud;
    table_reset(sh);
    sh->t.ncols = ncols;
    sh->t.names = dc_xcalloc(ncols ? ncols : 1, sizeof *sh->t.names);
    sh->t.types = dc_xcalloc(ncols ? ncols : 1, sizeof *sh->t.types);
    for (uint32_t i = 0; i < ncols; i++) {
        const char *name = cols[i].name ? cols[i].name : "?column?";
        sh->t.names[i] = display_form(name, strlen(name));
        sh->t.types[i] = cols[i].type;
    }
    sh->described = true;
    return 0;
}

/* Text of a value when the module has no format_text. */
static void fallback_text(const dc_value *v, char *out, size_t cap)
{
    switch (v->type) {
    case DC_TYPE_BOOL:
        snprintf(out, cap, "%s", v->u.b ? "t" : "f");
        break;
    case DC_TYPE_INT2:
    case DC_TYPE_INT4:
    case DC_TYPE_INT8:
    case DC_TYPE_OID:
        snprintf(out, cap, "%lld", (long long)v->u.i);
        break;
    case DC_TYPE_FLOAT4:
    case DC_TYPE_FLOAT8:
        snprintf(out, cap, "%.17g", v->u.f);
        break;
    case DC_TYPE_TEXT:
    case DC_TYPE_VARCHAR:
    case DC_TYPE_BPCHAR:
    case DC_TYPE_NAME:
    case DC_TYPE_NUMERIC:
        snprintf(out, cap, "%.*s", (int)v->u.bytes.len,
                 (const char *)v->u.bytes.ptr);
        break;
    default:
        snprintf(out, cap, "(type %u)", v->type);
    }
}

/* A malloc'd text form of v. */
static char *value_text(shell *sh, const dc_value *v)
{
    if (sh->vt->format_text == NULL ||
        !DC_HAS_FIELD(sh->vt, dc_sql_vtable, format_text)) {
        char buf[512];
        fallback_text(v, buf, sizeof buf);
        return display_form(buf, strlen(buf));
    }
    for (;;) {
        size_t len = 0;
        int rc = sh->vt->format_text(sh->inst, v, sh->fmt, sh->fmt_cap, &len);
        if (rc == DC_ERANGE || (rc == DC_OK && len >= sh->fmt_cap)) {
            sh->fmt_cap = (len > sh->fmt_cap ? len : sh->fmt_cap) * 2 + 64;
            sh->fmt = dc_xrealloc(sh->fmt, sh->fmt_cap);
            continue;
        }
        if (rc != DC_OK)
            return dc_xstrdup("?");
        return display_form(sh->fmt, len);
    }
}

static int sink_row(void *ud, const dc_row *row)
{
    shell *sh = ud;
    dc_shell_table *t = &sh->t;
    if (!sh->described || row->ncols != t->ncols)
        return DC_EINVAL;
    if (t->nrows == sh->cap_rows) {
        sh->cap_rows = sh->cap_rows ? sh->cap_rows * 2 : 16;
        t->cells =
            dc_xrealloc(t->cells, sh->cap_rows * (t->ncols ? t->ncols : 1) *
                                      sizeof *t->cells);
    }
    for (uint32_t i = 0; i < row->ncols; i++)
        t->cells[t->nrows * t->ncols + i] =
            row->values[i].is_null ? NULL : value_text(sh, &row->values[i]);
    t->nrows++;
    return 0;
}

static bool tag_is(const char *tag, const char *word)
{
    size_t n = strlen(word);
    return strncmp(tag, word, n) == 0 && (tag[n] == ' ' || tag[n] == '\0');
}

static int sink_complete(void *ud, const char *tag)
{
    shell *sh = ud;
    if (sh->described) {
        dc_shell_print_table(stdout, &sh->t);
        table_reset(sh);
        /* psql shows the tag of data-changing commands with RETURNING. */
        if (tag && (tag_is(tag, "INSERT") || tag_is(tag, "UPDATE") ||
                    tag_is(tag, "DELETE") || tag_is(tag, "MERGE")))
            printf("%s\n", tag);
    } else if (tag && tag[0]) {
        printf("%s\n", tag);
    }
    fflush(stdout);
    return 0;
}

static void print_report(const shell *sh, const char *severity,
                         const dc_error *e)
{
    fflush(stdout);
    msg_prefix(sh);
    fprintf(stderr, "%s:  %s\n", severity, e->message);
    if (e->detail[0])
        fprintf(stderr, "DETAIL:  %s\n", e->detail);
    if (e->hint[0])
        fprintf(stderr, "HINT:  %s\n", e->hint);
    if (e->context[0])
        fprintf(stderr, "CONTEXT:  %s\n", e->context);
}

static int sink_notice(void *ud, const dc_error *n)
{
    const shell *sh = ud;
    print_report(sh, n->severity == DC_SEV_WARNING ? "WARNING" : "NOTICE", n);
    return 0;
}

static int sink_copy_begin(void *ud, int direction, int format, uint32_t ncols)
{
    (void)format;
    (void)ncols;
    const shell *sh = ud;
    if (direction == DC_COPY_IN && sh->interactive && sh->copy_in == stdin) {
        printf("Enter data to be copied followed by a newline.\n"
               "End with a backslash and a period on a line by itself, "
               "or an EOF signal.\n");
        fflush(stdout);
    }
    return 0;
}

static int sink_copy_read(void *ud, const uint8_t **data, size_t *len)
{
    shell *sh = ud;
    if (sh->interactive && sh->copy_in == stdin) {
        fputs(">> ", stdout);
        fflush(stdout);
    }
    ssize_t n = getline(&sh->copy_buf, &sh->copy_cap, sh->copy_in);
    if (n < 0)
        return DC_ENOTFOUND;
    sh->src_line++;
    if (strcmp(sh->copy_buf, "\\.\n") == 0 || strcmp(sh->copy_buf, "\\.") == 0)
        return DC_ENOTFOUND;
    *data = (const uint8_t *)sh->copy_buf;
    *len = (size_t)n;
    return 0;
}

static int sink_copy_write(void *ud, const uint8_t *data, size_t len)
{
    (void)ud;
    fwrite(data, 1, len, stdout);
    return 0;
}

/* ---- error positions (psql's "LINE n:" and caret) ----------------------- */

#define DISPLAY_SIZE  60 /* widest quoted line before it is cut         */
#define MIN_RIGHT_CUT 10 /* characters kept right of the caret when cut */

/* Byte offset of the (1-based) character position pos in sql. */
static size_t char_to_byte(const char *sql, size_t len, int pos)
{
    size_t i = 0;
    int ch = 0;
    while (i < len) {
        if (((unsigned char)sql[i] & 0xC0) != 0x80) {
            if (++ch == pos)
                return i;
        }
        i++;
    }
    return len;
}

static void print_position(const char *sql, size_t len, int pos)
{
    size_t at = char_to_byte(sql, len, pos);
    size_t beg = at, end = at;
    while (beg > 0 && sql[beg - 1] != '\n')
        beg--;
    while (end < len && sql[end] != '\n' && sql[end] != '\r')
        end++;
    int line = 1;
    for (size_t i = 0; i < beg; i++)
        line += sql[i] == '\n';
    /* Cut lines too long to show, keeping the caret in view. */
    bool cut_left = false, cut_right = false;
    size_t ib = beg, ie = end;
    if (width_of(sql + beg, end - beg) > DISPLAY_SIZE) {
        if (width_of(sql + beg, at - beg) + MIN_RIGHT_CUT < DISPLAY_SIZE) {
            while (width_of(sql + ib, ie - ib) > DISPLAY_SIZE) {
                ie--;
                cut_right = true;
            }
        } else {
            while (width_of(sql + at, ie - at) > MIN_RIGHT_CUT) {
                ie--;
                cut_right = true;
            }
            while (width_of(sql + ib, ie - ib) > DISPLAY_SIZE) {
                ib++;
                cut_left = true;
            }
        }
        while (ie > ib && ie < end && ((unsigned char)sql[ie] & 0xC0) == 0x80)
            ie--;
        while (ib < at && ((unsigned char)sql[ib] & 0xC0) == 0x80)
            ib++;
    }
    char prefix[32];
    int pl = snprintf(prefix, sizeof prefix, "LINE %d: ", line);
    fprintf(stderr, "%s%s%.*s%s\n", prefix, cut_left ? "..." : "",
            (int)(ie - ib), sql + ib, cut_right ? "..." : "");
    size_t col = (size_t)pl + (cut_left ? 3 : 0) + width_of(sql + ib, at - ib);
    for (size_t i = 0; i < col; i++)
        fputc(' ', stderr);
    fputs("^\n", stderr);
}

/* Run `sql` (one or more statements) and print what comes back.  Returns
 * true when it succeeded. */
static bool run_sql(shell *sh, const char *sql, size_t len)
{
    dc_sql_sink sink;
    memset(&sink, 0, sizeof sink);
    sink.size = (uint32_t)sizeof sink;
    sink.ud = sh;
    sink.describe = sink_describe;
    sink.row = sink_row;
    sink.complete = sink_complete;
    sink.notice = sink_notice;
    sink.copy_begin = sink_copy_begin;
    sink.copy_read = sink_copy_read;
    sink.copy_write = sink_copy_write;
    dc_error err;
    dc_error_init(&err);
    pthread_mutex_lock(&sh->mu);
    sh->running = true;
    pthread_mutex_unlock(&sh->mu);
    int rc = sh->vt->exec(sh->sess, sql, len, &sink, &err);
    pthread_mutex_lock(&sh->mu);
    sh->running = false;
    pthread_mutex_unlock(&sh->mu);
    table_reset(sh); /* rows of a statement that failed half-way */
    fflush(stdout);
    if (rc == DC_OK)
        return true;
    if (!dc_error_isset(&err))
        dc_error_set(&err, rc, DC_SQLSTATE_INTERNAL, "%s", dc_status_name(rc));
    print_report(sh,
                 err.severity == DC_SEV_FATAL   ? "FATAL"
                 : err.severity == DC_SEV_PANIC ? "PANIC"
                                                : "ERROR",
                 &err);
    if (err.position > 0)
        print_position(sql, len, err.position);
    return false;
}

/* ---- reading statements ------------------------------------------------- */

static void prompt(const shell *sh, char state)
{
    char txn = sh->vt->txn_status(sh->sess);
    printf("%s%c%s> ", sh->database, state,
           txn == 'T'   ? "*"
           : txn == 'E' ? "!"
                        : "");
    fflush(stdout);
}

/* A backslash command; returns false for \q. */
static bool meta_command(const char *line)
{
    const char *p = line + 1;
    size_t n = strcspn(p, " \t\r\n");
    if (n == 1 && p[0] == 'q')
        return false;
    if (n == 1 && p[0] == '?') {
        fputs(HELP_META, stdout);
        fflush(stdout);
        return true;
    }
    fprintf(stderr, "invalid command \\%.*s\nTry \\? for help.\n", (int)n, p);
    return true;
}

static bool blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isspace((unsigned char)s[i]) && s[i] != ';')
            return false;
    return true;
}

/* Where a statement starts: psql drops blanks and "--" comments before
 * the first token (block comments are kept). */
static size_t skip_space_comments(const char *s, size_t n)
{
    size_t i = 0;
    for (;;) {
        while (i < n && isspace((unsigned char)s[i]))
            i++;
        if (i + 1 < n && s[i] == '-' && s[i + 1] == '-') {
            while (i < n && s[i] != '\n')
                i++;
            continue;
        }
        return i;
    }
}

/* Run every complete statement at the start of buf (*len bytes) and keep
 * the rest.  Returns false when ON_ERROR_STOP says to stop. */
static bool run_complete(shell *sh, char *buf, size_t *len)
{
    char state;
    size_t end;
    while ((end = dc_shell_split(buf, *len, &state)) > 0) {
        size_t start = skip_space_comments(buf, end);
        bool ok = blank(buf + start, end - start) ||
                  run_sql(sh, buf + start, end - start);
        memmove(buf, buf + end, *len - end);
        *len -= end;
        if (!ok && sh->on_error_stop)
            return false;
    }
    return true;
}

/* Read statements from `in` to its end (or \q).  Returns the exit status
 * of the script: 0, or 3 when ON_ERROR_STOP stopped it. */
static int run_stream(shell *sh, FILE *in, const char *name)
{
    char *line = NULL, *buf = NULL;
    size_t line_cap = 0, len = 0, cap = 0;
    bool stop = false, quit = false;
    char state = '=';
    sh->src_name = sh->interactive ? NULL : name;
    sh->src_line = 0;
    sh->copy_in = in;
    for (;;) {
        if (sh->interactive)
            prompt(sh, state);
        ssize_t n = getline(&line, &line_cap, in);
        if (n < 0)
            break;
        sh->src_line++;
        const char *p = line;
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p == '\\' && strchr("'\"$*", state) == NULL) {
            if (!meta_command(p)) {
                quit = true;
                break;
            }
            continue;
        }
        if (len + (size_t)n + 1 > cap) {
            cap = (len + (size_t)n + 1) * 2;
            buf = dc_xrealloc(buf, cap);
        }
        memcpy(buf + len, line, (size_t)n);
        len += (size_t)n;
        if (!run_complete(sh, buf, &len)) {
            stop = true;
            break;
        }
        dc_shell_split(buf, len, &state);
        if (blank(buf, len)) {
            len = 0;
            state = '=';
        }
    }
    /* What is left at the end of input runs as psql runs it (not after
     * \q, which drops it). */
    size_t start = buf ? skip_space_comments(buf, len) : 0;
    if (!stop && !quit && !blank(buf ? buf + start : "", len - start) &&
        !run_sql(sh, buf + start, len - start) && sh->on_error_stop)
        stop = true;
    if (sh->interactive && !stop && !quit)
        putchar('\n'); /* end the prompt line at end of input */
    free(line);
    free(buf);
    sh->src_name = NULL;
    return stop ? EXIT_SCRIPT_STOP : 0;
}

static int run_file(shell *sh, const char *path)
{
    if (strcmp(path, "-") == 0)
        return run_stream(sh, stdin, "<stdin>");
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        fprintf(stderr, "datacave: %s: %s\n", path, strerror(errno));
        return 1;
    }
    int rc = run_stream(sh, f, path);
    fclose(f);
    return rc;
}

/* ---- command line ----------------------------------------------------------
 */

typedef struct action {
    char kind; /* 'c' or 'f' */
    const char *arg;
} action;

typedef struct sql_opts {
    const char *config;
    const char *data_dir;
    const char *database;
    const char *user;
    bool on_error_stop;
    bool help;
    action *actions;
    size_t nactions;
} sql_opts;

static bool truthy(const char *v)
{
    return strcasecmp(v, "1") == 0 || strcasecmp(v, "on") == 0 ||
           strcasecmp(v, "true") == 0 || strcasecmp(v, "yes") == 0;
}

/* Value of option argv[*i] given as "--opt VALUE", "--opt=VALUE" or
 * "-xVALUE"; NULL (with a message) when missing. */
static const char *opt_value(int argc, char **argv, int *i, const char *name)
{
    const char *a = argv[*i];
    size_t n = strlen(name);
    if (strncmp(a, name, n) == 0 && a[n] == '=')
        return a + n + 1;
    if (name[1] != '-' && a[2] != '\0')
        return a + 2;
    if (*i + 1 >= argc) {
        fprintf(stderr, "datacave: %s needs a value\n", name);
        return NULL;
    }
    return argv[++*i];
}

/* Does argv[i] name option `name` (alone, with =VALUE, or -xVALUE)? */
static bool is_opt(const char *a, const char *name)
{
    size_t n = strlen(name);
    if (strncmp(a, name, n) != 0)
        return false;
    if (a[n] == '\0' || a[n] == '=')
        return true;
    return name[1] != '-';
}

static int parse_sql_opts(int argc, char **argv, int from, sql_opts *o)
{
    memset(o, 0, sizeof *o);
    o->actions = dc_xcalloc((size_t)argc + 1, sizeof *o->actions);
    for (int i = from; i < argc; i++) {
        const char *a = argv[i], *v = NULL;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0 ||
            strcmp(a, "-?") == 0) {
            o->help = true;
        } else if (is_opt(a, "--config")) {
            if ((o->config = opt_value(argc, argv, &i, "--config")) == NULL)
                return EXIT_USAGE;
        } else if (is_opt(a, "--data-dir")) {
            if ((o->data_dir = opt_value(argc, argv, &i, "--data-dir")) == NULL)
                return EXIT_USAGE;
        } else if (is_opt(a, "-c") || is_opt(a, "--command") ||
                   is_opt(a, "-f") || is_opt(a, "--file")) {
            bool file = a[1] == 'f' || strncmp(a, "--file", 6) == 0;
            const char *name = a[1] == '-' ? (file ? "--file" : "--command")
                                           : (file ? "-f" : "-c");
            if ((v = opt_value(argc, argv, &i, name)) == NULL)
                return EXIT_USAGE;
            o->actions[o->nactions++] = (action){file ? 'f' : 'c', v};
        } else if (is_opt(a, "-d") || is_opt(a, "--dbname")) {
            if ((o->database = opt_value(
                     argc, argv, &i, a[1] == '-' ? "--dbname" : "-d")) == NULL)
                return EXIT_USAGE;
        } else if (is_opt(a, "-U") || is_opt(a, "--username")) {
            if ((o->user = opt_value(argc, argv, &i,
                                     a[1] == '-' ? "--username" : "-U")) ==
                NULL)
                return EXIT_USAGE;
        } else if (is_opt(a, "-v") || is_opt(a, "--set")) {
            if ((v = opt_value(argc, argv, &i, a[1] == '-' ? "--set" : "-v")) ==
                NULL)
                return EXIT_USAGE;
            const char *eq = strchr(v, '=');
            if (eq == NULL) {
                fprintf(stderr, "datacave: -v needs NAME=VALUE\n");
                return EXIT_USAGE;
            }
            if ((size_t)(eq - v) == 13 && strncmp(v, "ON_ERROR_STOP", 13) == 0)
                o->on_error_stop = truthy(eq + 1);
        } else if (strcmp(a, "-X") == 0 || strcmp(a, "--no-psqlrc") == 0 ||
                   strcmp(a, "-q") == 0) {
            /* psql options with nothing to do here */
        } else {
            fprintf(stderr, "datacave: %s %s\n",
                    a[0] == '-' ? "unknown option" : "unexpected argument", a);
            return EXIT_USAGE;
        }
    }
    return 0;
}

/* Run the -c and -f actions in order (or standard input). */
static int run_actions(shell *sh, const sql_opts *o)
{
    if (o->nactions == 0)
        return run_stream(sh, stdin, "<stdin>");
    int rc = 0;
    for (size_t i = 0; i < o->nactions; i++) {
        const action *a = &o->actions[i];
        if (a->kind == 'c') {
            sh->copy_in = stdin;
            rc = run_sql(sh, a->arg, strlen(a->arg)) ? 0 : 1;
            if (rc != 0 && sh->on_error_stop)
                return rc;
        } else {
            rc = run_file(sh, a->arg);
            if (rc != 0 && sh->on_error_stop)
                return rc;
        }
    }
    return rc;
}

/* SIGINT while a statement runs cancels it (57014), as in psql; between
 * statements it ends a script run, and is ignored at an interactive
 * prompt (\q or end of input leave). */
static void *sigint_thread(void *arg)
{
    shell *sh = arg;
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    for (;;) {
        int sig;
        if (sigwait(&set, &sig) != 0)
            continue;
        pthread_mutex_lock(&sh->mu);
        bool quitting = sh->quitting, running = sh->running;
        if (running && sh->vt->cancel &&
            DC_HAS_FIELD(sh->vt, dc_sql_vtable, cancel))
            sh->vt->cancel(sh->sess);
        pthread_mutex_unlock(&sh->mu);
        if (quitting)
            return NULL;
        if (!running && !sh->interactive)
            _exit(130);
    }
}

/* Open a session and run the actions, with Ctrl-C handled. */
static int run_session(shell *sh, dc_embed *e, const sql_opts *o)
{
    /* psql's default: the operating system's user name. */
    const char *user = o->user ? o->user : getenv("USER");
    struct passwd *pw = (user && user[0]) ? NULL : getpwuid(getuid());
    if (pw != NULL)
        user = pw->pw_name;
    dc_error err;
    dc_error_init(&err);
    if (dc_embed_session(e, user && user[0] ? user : "datacave", sh->database,
                         &sh->sess, &err) != DC_OK) {
        fprintf(stderr, "datacave: %s\n", err.message);
        return 1;
    }
    pthread_t th;
    bool have_thread = pthread_create(&th, NULL, sigint_thread, sh) == 0;
    int rc = run_actions(sh, o);
    if (have_thread) {
        pthread_mutex_lock(&sh->mu);
        sh->quitting = true;
        pthread_mutex_unlock(&sh->mu);
        pthread_kill(th, SIGINT);
        pthread_join(th, NULL);
    }
    sh->vt->session_close(sh->sess);
    return rc;
}

int dc_shell_main(int argc, char **argv, int from)
{
    sql_opts o;
    int rc = parse_sql_opts(argc, argv, from, &o);
    if (rc != 0 || o.help) {
        if (o.help && rc == 0)
            fputs(HELP_SQL, stdout);
        free(o.actions);
        return rc;
    }
    if (o.config == NULL) {
        fprintf(stderr, "datacave: --config FILE is required\n");
        free(o.actions);
        return EXIT_USAGE;
    }
    /* SIGINT is taken by sigint_thread; every thread started from here on
     * (the modules' too) has it blocked. */
    sigset_t set, old;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, &old);
    dc_strlist errors = {0};
    dc_embed *e = NULL;
    if (dc_embed_open(o.config, o.data_dir, &e, &errors) != DC_OK) {
        for (size_t i = 0; i < errors.len; i++)
            fprintf(stderr, "datacave: %s\n", errors.items[i]);
        dc_strlist_free(&errors);
        free(o.actions);
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        return 1;
    }
    shell sh;
    memset(&sh, 0, sizeof sh);
    sh.vt = dc_embed_sql(e);
    sh.inst = dc_embed_instance(e);
    sh.on_error_stop = o.on_error_stop;
    sh.database = o.database ? o.database : "default";
    sh.interactive =
        o.nactions == 0 && isatty(STDIN_FILENO) && isatty(STDOUT_FILENO);
    pthread_mutex_init(&sh.mu, NULL);
    rc = run_session(&sh, e, &o);
    pthread_mutex_destroy(&sh.mu);
    table_reset(&sh);
    free(sh.fmt);
    free(sh.copy_buf);
    dc_embed_close(e);
    free(o.actions);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return rc;
}
