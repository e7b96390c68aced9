/*
 * sql/lexer.c - PostgreSQL-dialect lexer (see lexer.h).
 *
 * Follows src/backend/parser/scan.l of PostgreSQL 15 for the forms the
 * server needs: identifiers, the literal forms, operators (with the rule
 * that trims a trailing + or - from a multi-character operator), comments
 * and parameters.
 */
#include "sql/lexer.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sql/ast.h"

/* PostgreSQL's reserved keywords: never a column name, alias or function. */
static const char *const reserved_kw[] = {
    "all", "analyse", "analyze", "and", "any", "array", "as", "asc",
    "asymmetric", "both", "case", "cast", "check", "collate", "column",
    "constraint", "create", "current_catalog", "current_date", "current_role",
    "current_time", "current_timestamp", "current_user", "default",
    "deferrable", "desc", "distinct", "do", "else", "end", "except", "false",
    "fetch", "for", "foreign", "from", "grant", "group", "having", "in",
    "initially", "intersect", "into", "lateral", "leading", "limit",
    "localtime", "localtimestamp", "not", "null", "offset", "on", "only", "or",
    "order", "placing", "primary", "references", "returning", "select",
    "session_user", "some", "symmetric", "table", "then", "to", "trailing",
    "true", "union", "unique", "user", "using", "variadic", "when", "where",
    "window", "with", NULL};
/* type_func_name keywords: function or type names, not column names. */
static const char *const typefunc_kw[] = {
    "authorization", "binary", "collation", "concurrently", "cross",
    "current_schema", "freeze", "full", "ilike", "inner", "is", "isnull",
    "join", "left", "like", "natural", "notnull", "outer", "overlaps", "right",
    "similar", "tablesample", "verbose", NULL};

/* Binary search of a sorted, NULL-terminated keyword list (every
 * identifier the parser meets is looked up here, several times). */
static bool kw_in(const char *const *list, size_t n, const char *word)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(list[mid], word);
        if (c == 0)
            return true;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return false;
}

#define KW_COUNT(list) (sizeof(list) / sizeof((list)[0]) - 1)

int sql_keyword_category(const char *word)
{
    /* Keywords are lower-case ASCII letters and '_': anything else is
     * no keyword. */
    if (word[0] < 'a' || word[0] > 'z')
        return SQL_KW_NONE;
    if (kw_in(reserved_kw, KW_COUNT(reserved_kw), word))
        return SQL_KW_RESERVED;
    if (kw_in(typefunc_kw, KW_COUNT(typefunc_kw), word))
        return SQL_KW_TYPE_FUNC;
    return SQL_KW_NONE;
}

int sql_char_pos(const char *src, size_t off)
{
    int n = 1;
    for (size_t i = 0; i < off; i++)
        if (((unsigned char)src[i] & 0xC0) != 0x80)
            n++;
    return n;
}

/* A growing byte buffer in malloc memory, moved to the arena at the end. */
typedef struct lbuf {
    char *p;
    size_t len, cap;
} lbuf;

static bool lb_put(lbuf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t c = b->cap ? b->cap * 2 : 64;
        while (c < b->len + n + 1)
            c *= 2;
        char *q = realloc(b->p, c);
        if (!q)
            return false;
        b->p = q;
        b->cap = c;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = 0;
    return true;
}

static bool lb_utf8(lbuf *b, uint32_t cp)
{
    char t[4];
    size_t n;
    if (cp < 0x80) {
        t[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        t[0] = (char)(0xC0 | (cp >> 6));
        t[1] = (char)(0x80 | (cp & 0x3F));
        n = 2;
    } else if (cp < 0x10000) {
        t[0] = (char)(0xE0 | (cp >> 12));
        t[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        t[2] = (char)(0x80 | (cp & 0x3F));
        n = 3;
    } else {
        t[0] = (char)(0xF0 | (cp >> 18));
        t[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        t[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
        t[3] = (char)(0x80 | (cp & 0x3F));
        n = 4;
    }
    return lb_put(b, t, n);
}

typedef struct lexer {
    sql_arena *a;
    const char *s;
    size_t n, i;
    dc_error *err;
    sql_token *toks;
    size_t ntok, cap;
} lexer;

static bool is_ident_start(unsigned char c)
{
    return isalpha(c) || c == '_' || c >= 0x80;
}
static bool is_ident_cont(unsigned char c)
{
    return isalnum(c) || c == '_' || c == '$' || c >= 0x80;
}
static bool is_op_char(char c)
{
    return c && strchr("+-*/<>=~!@#%^&|`?", c) != NULL;
}

static int lex_error(lexer *lx, size_t off, const char *sqlstate, const char *msg)
{
    dc_error_set(lx->err, DC_EINVAL, sqlstate, "%s", msg);
    if (lx->err && !strncmp(msg, "unterminated", 12) && !strstr(msg, " at or near ")) {
        /* PostgreSQL quotes the rest of the input */
        size_t n = lx->n - off;
        if (n > 200)
            n = 200;
        size_t m = strlen(lx->err->message);
        snprintf(lx->err->message + m, sizeof lx->err->message - m, " at or near \"%.*s\"",
                 (int)n, lx->s + off);
    }
    if (lx->err)
        lx->err->position = sql_char_pos(lx->s, off);
    return DC_EINVAL;
}

static int lex_nomem(lexer *lx)
{
    return dc_error_set(lx->err, DC_ENOMEM, DC_SQLSTATE_OOM, "out of memory");
}

static sql_token *push(lexer *lx, sql_tok_kind k, size_t off, size_t end)
{
    if (lx->ntok == lx->cap) {
        size_t c = lx->cap ? lx->cap * 2 : 64;
        sql_token *t = sql_arena_alloc(lx->a, c * sizeof *t);
        if (!t)
            return NULL;
        if (lx->ntok)
            memcpy(t, lx->toks, lx->ntok * sizeof *t);
        lx->toks = t;
        lx->cap = c;
    }
    sql_token *t = &lx->toks[lx->ntok++];
    memset(t, 0, sizeof *t);
    t->kind = k;
    t->off = off;
    t->len = end - off;
    return t;
}

static bool set_text(lexer *lx, sql_token *t, const char *p, size_t n)
{
    t->text = sql_arena_strndup(lx->a, p, n);
    t->textlen = n;
    return t->text != NULL;
}

/* Skip whitespace and comments from lx->i; *newline set when a newline
 * was crossed.  Returns DC_OK or an error for an unterminated comment. */
static int skip_space(lexer *lx, bool *newline)
{
    *newline = false;
    while (lx->i < lx->n) {
        char c = lx->s[lx->i];
        if (c == ' ' || c == '\t' || c == '\f' || c == '\r' || c == '\v') {
            lx->i++;
        } else if (c == '\n') {
            *newline = true;
            lx->i++;
        } else if (c == '-' && lx->i + 1 < lx->n && lx->s[lx->i + 1] == '-') {
            while (lx->i < lx->n && lx->s[lx->i] != '\n' && lx->s[lx->i] != '\r')
                lx->i++;
        } else if (c == '/' && lx->i + 1 < lx->n && lx->s[lx->i + 1] == '*') {
            size_t start = lx->i;
            int depth = 0;
            while (lx->i < lx->n) {
                if (lx->s[lx->i] == '/' && lx->i + 1 < lx->n && lx->s[lx->i + 1] == '*') {
                    depth++;
                    lx->i += 2;
                } else if (lx->s[lx->i] == '*' && lx->i + 1 < lx->n && lx->s[lx->i + 1] == '/') {
                    depth--;
                    lx->i += 2;
                    if (depth == 0)
                        break;
                } else {
                    lx->i++;
                }
            }
            if (depth != 0)
                return lex_error(lx, start, "42601", "unterminated /* comment");
        } else {
            break;
        }
    }
    return DC_OK;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Lex the body of a quoted string starting at the opening quote lx->i,
 * appending its value to b.  `esc` enables backslash escapes. */
static int lex_quoted(lexer *lx, lbuf *b, bool esc, size_t tokstart)
{
    lx->i++; /* opening ' */
    for (;;) {
        if (lx->i >= lx->n)
            return lex_error(lx, tokstart, "42601", "unterminated quoted string");
        char c = lx->s[lx->i];
        if (c == '\'') {
            if (lx->i + 1 < lx->n && lx->s[lx->i + 1] == '\'') {
                if (!lb_put(b, "'", 1))
                    return lex_nomem(lx);
                lx->i += 2;
                continue;
            }
            lx->i++;
            return DC_OK;
        }
        if (esc && c == '\\' && lx->i + 1 < lx->n) {
            char d = lx->s[lx->i + 1];
            lx->i += 2;
            char out;
            switch (d) {
            case 'b': out = '\b'; break;
            case 'f': out = '\f'; break;
            case 'n': out = '\n'; break;
            case 'r': out = '\r'; break;
            case 't': out = '\t'; break;
            case 'x': {
                int v = 0, k = 0, h;
                while (k < 2 && lx->i < lx->n && (h = hexval(lx->s[lx->i])) >= 0) {
                    v = v * 16 + h;
                    lx->i++;
                    k++;
                }
                if (k == 0) {
                    out = 'x';
                    break;
                }
                if (v == 0)
                    return lex_error(lx, tokstart, "22021", "invalid byte sequence for encoding \"UTF8\": 0x00");
                out = (char)v;
                break;
            }
            case 'u':
            case 'U': {
                int need = d == 'u' ? 4 : 8;
                uint32_t v = 0;
                for (int k = 0; k < need; k++) {
                    int h = lx->i < lx->n ? hexval(lx->s[lx->i]) : -1;
                    if (h < 0)
                        return lex_error(lx, lx->i, "22025", "invalid Unicode escape");
                    v = v * 16 + (uint32_t)h;
                    lx->i++;
                }
                if (v == 0 || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
                    return lex_error(lx, tokstart, "22025", "invalid Unicode escape value");
                if (!lb_utf8(b, v))
                    return lex_nomem(lx);
                continue;
            }
            default:
                if (d >= '0' && d <= '7') {
                    int v = d - '0', k = 1;
                    while (k < 3 && lx->i < lx->n && lx->s[lx->i] >= '0' && lx->s[lx->i] <= '7') {
                        v = v * 8 + (lx->s[lx->i] - '0');
                        lx->i++;
                        k++;
                    }
                    if ((v & 0xFF) == 0)
                        return lex_error(lx, tokstart, "22021", "invalid byte sequence for encoding \"UTF8\": 0x00");
                    out = (char)v;
                } else {
                    out = d;
                }
            }
            if (!lb_put(b, &out, 1))
                return lex_nomem(lx);
            continue;
        }
        if (!lb_put(b, &c, 1))
            return lex_nomem(lx);
        lx->i++;
    }
}

/* After a quoted string: when whitespace with a newline and another ' follow,
 * PostgreSQL continues the same literal. */
static int lex_string(lexer *lx, bool esc, size_t tokstart, sql_tok_kind kind, char prefix)
{
    lbuf b = {0};
    int rc;
    if (prefix && !lb_put(&b, &prefix, 1))
        return lex_nomem(lx);
    if ((rc = lex_quoted(lx, &b, esc, tokstart)) != DC_OK)
        goto out;
    size_t end = lx->i;
    for (;;) {
        size_t save = lx->i;
        bool nl = false;
        /* only whitespace (no comments) with a newline joins literals */
        while (lx->i < lx->n && strchr(" \t\f\r\v\n", lx->s[lx->i]) && lx->s[lx->i]) {
            if (lx->s[lx->i] == '\n' || lx->s[lx->i] == '\r')
                nl = true;
            lx->i++;
        }
        if (nl && lx->i < lx->n && lx->s[lx->i] == '\'') {
            if ((rc = lex_quoted(lx, &b, esc, tokstart)) != DC_OK)
                goto out;
            end = lx->i;
            continue;
        }
        lx->i = save;
        break;
    }
    sql_token *t = push(lx, kind, tokstart, end);
    if (!t || !set_text(lx, t, b.p ? b.p : "", b.len)) {
        rc = lex_nomem(lx);
        goto out;
    }
    rc = DC_OK;
out:
    free(b.p);
    return rc;
}

/* $tag$ at lx->i?  Returns the length of the delimiter, 0 when not one. */
static size_t dollar_tag(lexer *lx, size_t at)
{
    if (at >= lx->n || lx->s[at] != '$')
        return 0;
    size_t j = at + 1;
    if (j < lx->n && lx->s[j] == '$')
        return 2;
    if (j >= lx->n || !is_ident_start((unsigned char)lx->s[j]))
        return 0;
    while (j < lx->n && is_ident_cont((unsigned char)lx->s[j]) && lx->s[j] != '$')
        j++;
    if (j < lx->n && lx->s[j] == '$')
        return j - at + 1;
    return 0;
}

static int lex_one(lexer *lx)
{
    size_t st = lx->i;
    const char *s = lx->s;
    unsigned char c = (unsigned char)s[st];
    char c1 = st + 1 < lx->n ? s[st + 1] : 0;
    sql_token *t;

    /* prefixed strings */
    if ((c == 'e' || c == 'E') && c1 == '\'') {
        lx->i++;
        return lex_string(lx, true, st, TK_STRING, 0);
    }
    if ((c == 'b' || c == 'B' || c == 'x' || c == 'X') && c1 == '\'') {
        lx->i++;
        return lex_string(lx, false, st, TK_BITSTR, (char)tolower(c));
    }
    if ((c == 'n' || c == 'N') && c1 == '\'') {
        lx->i++;
        return lex_string(lx, false, st, TK_STRING, 0);
    }
    if (c == '\'')
        return lex_string(lx, false, st, TK_STRING, 0);
    if (is_ident_start(c)) {
        size_t j = st;
        while (j < lx->n && is_ident_cont((unsigned char)s[j]))
            j++;
        t = push(lx, TK_IDENT, st, j);
        if (!t || !set_text(lx, t, s + st, j - st))
            return lex_nomem(lx);
        for (char *p = t->text; *p; p++)
            if (*p >= 'A' && *p <= 'Z')
                *p = (char)(*p - 'A' + 'a');
        if (t->textlen > 63) /* NAMEDATALEN - 1, like PostgreSQL */
            t->text[t->textlen = 63] = 0;
        lx->i = j;
        return DC_OK;
    }
    if (c == '"') {
        lbuf b = {0};
        size_t j = st + 1;
        for (;;) {
            if (j >= lx->n) {
                free(b.p);
                return lex_error(lx, st, "42601", "unterminated quoted identifier");
            }
            if (s[j] == '"') {
                if (j + 1 < lx->n && s[j + 1] == '"') {
                    if (!lb_put(&b, "\"", 1)) {
                        free(b.p);
                        return lex_nomem(lx);
                    }
                    j += 2;
                    continue;
                }
                j++;
                break;
            }
            if (!lb_put(&b, s + j, 1)) {
                free(b.p);
                return lex_nomem(lx);
            }
            j++;
        }
        if (b.len == 0) {
            free(b.p);
            return lex_error(lx, st, "42601", "zero-length delimited identifier at or near \"\"\"\"");
        }
        t = push(lx, TK_IDENT, st, j);
        bool ok = t && set_text(lx, t, b.p, b.len > 63 ? 63 : b.len);
        free(b.p);
        if (!ok)
            return lex_nomem(lx);
        t->quoted = true;
        lx->i = j;
        return DC_OK;
    }
    if (isdigit(c) || (c == '.' && isdigit((unsigned char)c1))) {
        size_t j = st;
        bool isint = true;
        while (j < lx->n && isdigit((unsigned char)s[j]))
            j++;
        if (j < lx->n && s[j] == '.' && !(j + 1 < lx->n && s[j + 1] == '.')) {
            isint = false;
            j++;
            while (j < lx->n && isdigit((unsigned char)s[j]))
                j++;
        }
        if (j < lx->n && (s[j] == 'e' || s[j] == 'E')) {
            size_t k = j + 1;
            if (k < lx->n && (s[k] == '+' || s[k] == '-'))
                k++;
            if (k < lx->n && isdigit((unsigned char)s[k])) {
                isint = false;
                j = k;
                while (j < lx->n && isdigit((unsigned char)s[j]))
                    j++;
            }
        }
        t = push(lx, TK_NUMERIC, st, j);
        if (!t || !set_text(lx, t, s + st, j - st))
            return lex_nomem(lx);
        if (isint) {
            errno = 0;
            char *end;
            long long v = strtoll(t->text, &end, 10);
            if (errno == 0 && *end == 0) {
                t->kind = TK_INTEGER;
                t->ival = v;
            }
        }
        lx->i = j;
        return DC_OK;
    }
    if (c == '$') {
        if (isdigit((unsigned char)c1)) {
            size_t j = st + 1;
            int64_t v = 0;
            while (j < lx->n && isdigit((unsigned char)s[j])) {
                if (v < 100000000)
                    v = v * 10 + (s[j] - '0');
                else
                    v = INT32_MAX;
                j++;
            }
            t = push(lx, TK_PARAM, st, j);
            if (!t || !set_text(lx, t, s + st, j - st))
                return lex_nomem(lx);
            t->ival = v;
            lx->i = j;
            return DC_OK;
        }
        size_t dl = dollar_tag(lx, st);
        if (dl) {
            size_t j = st + dl;
            for (;;) {
                if (j >= lx->n)
                    return lex_error(lx, st, "42601", "unterminated dollar-quoted string");
                if (s[j] == '$' && j + dl <= lx->n && memcmp(s + j, s + st, dl) == 0)
                    break;
                j++;
            }
            t = push(lx, TK_STRING, st, j + dl);
            if (!t || !set_text(lx, t, s + st + dl, j - st - dl))
                return lex_nomem(lx);
            lx->i = j + dl;
            return DC_OK;
        }
    }
    if (c == ':' && c1 == ':') {
        t = push(lx, TK_TYPECAST, st, st + 2);
        if (!t || !set_text(lx, t, "::", 2))
            return lex_nomem(lx);
        lx->i = st + 2;
        return DC_OK;
    }
    if (strchr("()[],;.:", c) && c) {
        t = push(lx, TK_PUNCT, st, st + 1);
        if (!t || !set_text(lx, t, s + st, 1))
            return lex_nomem(lx);
        lx->i = st + 1;
        return DC_OK;
    }
    if (is_op_char((char)c)) {
        size_t j = st;
        while (j < lx->n && is_op_char(s[j])) {
            if (j > st && ((s[j] == '-' && j + 1 < lx->n && s[j + 1] == '-') ||
                           (s[j] == '/' && j + 1 < lx->n && s[j + 1] == '*')))
                break;
            if (j == st && ((s[j] == '-' && c1 == '-') || (s[j] == '/' && c1 == '*')))
                break;
            j++;
        }
        size_t n = j - st;
        if (n > 1 && (s[j - 1] == '+' || s[j - 1] == '-')) {
            bool special = false;
            for (size_t k = st; k < j; k++)
                if (strchr("~!@#^&|`?%", s[k]))
                    special = true;
            if (!special) {
                while (n > 1 && (s[st + n - 1] == '+' || s[st + n - 1] == '-'))
                    n--;
            }
        }
        t = push(lx, TK_OP, st, st + n);
        if (!t)
            return lex_nomem(lx);
        if (n == 2 && s[st] == '!' && s[st + 1] == '=') {
            if (!set_text(lx, t, "<>", 2))
                return lex_nomem(lx);
        } else if (!set_text(lx, t, s + st, n)) {
            return lex_nomem(lx);
        }
        lx->i = st + n;
        return DC_OK;
    }
    /* anything else: a one-byte token the parser will refuse */
    size_t j = st + 1;
    while (j < lx->n && ((unsigned char)s[j] & 0xC0) == 0x80)
        j++;
    t = push(lx, TK_PUNCT, st, j);
    if (!t || !set_text(lx, t, s + st, j - st))
        return lex_nomem(lx);
    lx->i = j;
    return DC_OK;
}

int sql_lex(sql_arena *a, const char *src, size_t len, sql_token **toks,
            size_t *ntok, dc_error *err)
{
    lexer lx = {.a = a, .s = src, .n = len, .err = err};
    int rc;
    for (;;) {
        bool nl;
        if ((rc = skip_space(&lx, &nl)) != DC_OK)
            return rc;
        if (lx.i >= lx.n || src[lx.i] == '\0')
            break;
        if ((rc = lex_one(&lx)) != DC_OK)
            return rc;
    }
    sql_token *t = push(&lx, TK_EOF, lx.i, lx.i);
    if (!t || !set_text(&lx, t, "", 0))
        return lex_nomem(&lx);
    /* positions: one pass, counting characters incrementally */
    int pos = 1;
    size_t at = 0;
    for (size_t k = 0; k < lx.ntok; k++) {
        while (at < lx.toks[k].off) {
            if (((unsigned char)src[at] & 0xC0) != 0x80)
                pos++;
            at++;
        }
        lx.toks[k].pos = pos;
    }
    *toks = lx.toks;
    *ntok = lx.ntok;
    return DC_OK;
}
