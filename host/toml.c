/*
 * toml.c - Datacave's TOML 1.0.0 parser.  See toml.h for the API contract.
 *
 * Design
 * ------
 * A hand-written recursive-descent parser that works directly on the input
 * bytes (which need not be NUL-terminated).  There is no separate lexer: each
 * production consumes bytes from parser.pos and either succeeds or records the
 * first error (with its byte offset, later turned into line/column) and
 * returns failure all the way up.  All state lives in a `parser` on the
 * caller's stack, so the code is reentrant.
 *
 * Every node is a `tnode`: the public dc_toml_node followed by bookkeeping
 * needed only while parsing (definition flags, nesting depth, a hash index
 * for large tables).  The public struct is the first member, so a
 * dc_toml_node pointer handed to users converts back to its tnode.
 *
 * Table (re)definition rules follow the TOML 1.0 specification:
 *   - F_EXPLICIT marks a table defined by a [header] (or an [[array]]
 *     element); defining it again with a header is an error, and dotted keys
 *     may not add to it.
 *   - F_FROZEN marks inline tables; nothing may add to them afterwards.
 *   - F_AOT marks arrays created by [[header]]; other arrays are static and
 *     cannot be appended to by [[header]] or descended into by [a.b].
 *   - dotted_section records the [header] section in which dotted keys
 *     created or walked through a table.  Such a table cannot later be
 *     defined by a [header], and dotted keys in a later section may not
 *     extend it.  Tables created implicitly by a header path ([a.b] creates
 *     a) carry none of these marks and may be defined later.
 *
 * UTF-8 is validated where non-ASCII bytes are allowed (strings, comments);
 * anywhere else a non-ASCII byte is a syntax error anyway.
 *
 * Nesting depth is bounded (DC_TOML_MAX_DEPTH) for every route to depth, so
 * the recursive parser, node_free() and any recursive walk by a user stay
 * shallow.
 */
#include "toml.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH DC_TOML_MAX_DEPTH
#define HASH_THRESHOLD 8 /* tables with more keys get a hash index */

#if defined(__GNUC__) || defined(__clang__)
#define PRINTF_LIKE(f, a) __attribute__((format(printf, f, a)))
#else
#define PRINTF_LIKE(f, a)
#endif

enum {
    F_EXPLICIT = 1u, /* table defined by [header] or [[header]] element */
    F_FROZEN = 2u,   /* inline table: immutable once closed */
    F_AOT = 4u       /* array created by [[header]] */
};

/* A tree node: the public part plus parser bookkeeping. */
typedef struct tnode {
    dc_toml_node pub;        /* must stay the first member */
    unsigned flags;          /* F_* */
    unsigned dotted_section; /* section in which dotted keys opened it, or 0 */
    int depth;               /* levels below the root (root = 0) */
    size_t cap;              /* capacity of the items / keys+values arrays */
    size_t *key_lens;        /* TABLE: byte length of each key */
    size_t *slots;           /* TABLE: hash index, entry index + 1, 0 = free */
    size_t nslots;           /* TABLE: size of slots (power of two) or 0 */
} tnode;

struct dc_toml_doc {
    tnode *root;
};

/* A growable byte buffer. */
typedef struct sbuf {
    char *p;
    size_t len, cap;
} sbuf;

/* One component of a (possibly dotted) key, with where it was written. */
typedef struct keypart {
    char *s;    /* NUL-terminated copy; may contain NUL bytes */
    size_t len; /* length without the terminator */
    size_t off; /* byte offset of the key component */
    int line, col;
} keypart;

/* A dotted key: its components in order. */
typedef struct keypath {
    keypart *v;
    size_t n, cap;
} keypath;

/* All parser state; lives on the stack of dc_toml_parse(). */
typedef struct parser {
    const unsigned char *s; /* input */
    size_t len;             /* input length */
    size_t pos;             /* current byte offset */
    size_t base;            /* offset after a leading BOM */
    dc_toml_error *err;     /* where the first error goes */
    bool failed;            /* an error has been recorded */
    unsigned section;       /* current [header] section number, from 1 */
    /* position cache for offset -> line/column (columns count characters) */
    size_t loc_off;
    int loc_line, loc_col;
    /* the current locale's decimal point, for strtod() */
    char dp[8];
    bool dp_known;
    sbuf buf; /* scratch buffer for strings, keys and numbers */
} parser;

static tnode *parse_value(parser *p, int depth, int line, int col);
static bool parse_keyval(parser *p, tnode *table);

/* ------------------------------------------------------------------------
 * Errors and positions
 * ------------------------------------------------------------------------ */

/* Compute the 1-based line and column (in characters) of byte offset `off`.
 * Uses a forward-moving cache so increasing offsets cost O(distance). */
static void locate(parser *p, size_t off, int *line, int *col)
{
    if (off > p->len)
        off = p->len;
    if (off < p->loc_off) {
        p->loc_off = p->base;
        p->loc_line = 1;
        p->loc_col = 0;
    }
    for (size_t i = p->loc_off; i < off; i++) {
        unsigned char c = p->s[i];
        if (c == '\n') {
            if (p->loc_line < INT_MAX)
                p->loc_line++;
            p->loc_col = 0;
        } else if ((c & 0xC0) != 0x80 && p->loc_col < INT_MAX - 1) {
            p->loc_col++;
        }
    }
    p->loc_off = off;
    *line = p->loc_line;
    *col = p->loc_col + 1;
}

/* Record an error at byte offset `off` (only the first error is kept).
 * Always returns false so callers can `return fail(...)`. */
PRINTF_LIKE(3, 4)
static bool fail(parser *p, size_t off, const char *fmt, ...)
{
    if (p->failed)
        return false;
    p->failed = true;
    locate(p, off, &p->err->line, &p->err->col);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->err->message, sizeof p->err->message, fmt, ap);
    va_end(ap);
    return false;
}

/* Record an out-of-memory error (not tied to a place).  Returns false. */
static bool oom(parser *p)
{
    if (p->failed)
        return false;
    p->failed = true;
    p->err->line = 0;
    p->err->col = 0;
    snprintf(p->err->message, sizeof p->err->message, "out of memory");
    return false;
}

/* The byte at offset `off`, or -1 past the end of the input. */
static int peek_at(const parser *p, size_t off)
{
    return off < p->len ? p->s[off] : -1;
}

/* The byte at the current position, or -1 at the end of the input. */
static int peek(const parser *p)
{
    return peek_at(p, p->pos);
}

/* Decode one UTF-8 character from s[0..n).  Returns its length (1-4) and
 * stores the code point, or returns 0 for invalid UTF-8: truncated or bad
 * continuation bytes, overlong forms, surrogates, values above U+10FFFF. */
static size_t utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
    if (n == 0)
        return 0;
    unsigned char c = s[0];
    size_t need;
    uint32_t v, min;
    if (c < 0x80) {
        *cp = c;
        return 1;
    } else if (c >= 0xC2 && c <= 0xDF) {
        need = 1, v = c & 0x1F, min = 0x80;
    } else if (c >= 0xE0 && c <= 0xEF) {
        need = 2, v = c & 0x0F, min = 0x800;
    } else if (c >= 0xF0 && c <= 0xF4) {
        need = 3, v = c & 0x07, min = 0x10000;
    } else {
        return 0;
    }
    if (n < need + 1)
        return 0;
    for (size_t i = 1; i <= need; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        v = (v << 6) | (s[i] & 0x3F);
    }
    if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
        return 0;
    *cp = v;
    return need + 1;
}

/* Describe the character at `off` for an error message ("'x'", "newline",
 * "end of input", "character U+3000", ...) into buf[0..n). */
static const char *describe_at(const parser *p, size_t off, char *buf, size_t n)
{
    if (off >= p->len)
        return "end of input";
    unsigned char c = p->s[off];
    uint32_t cp;
    if (c == '\n')
        return "newline";
    if (c == '\r')
        return "carriage return";
    if (c == '\t')
        return "tab";
    if (c < 0x20 || c == 0x7F)
        snprintf(buf, n, "control character U+%04X", (unsigned)c);
    else if (c < 0x80)
        snprintf(buf, n, "'%c'", c);
    else if (utf8_decode(p->s + off, p->len - off, &cp) > 0)
        snprintf(buf, n, "character U+%04X", (unsigned)cp);
    else
        snprintf(buf, n, "invalid UTF-8 byte 0x%02X", (unsigned)c);
    return buf;
}

/* Fail at the current position with "<what>, found <current character>". */
static bool fail_found(parser *p, const char *what)
{
    char d[48];
    return fail(p, p->pos, "%s, found %s", what,
                describe_at(p, p->pos, d, sizeof d));
}

/* "a string", "an integer", ...: the type name with its article. */
static const char *type_with_article(dc_toml_type t)
{
    switch (t) {
    case DC_TOML_STRING: return "a string";
    case DC_TOML_INTEGER: return "an integer";
    case DC_TOML_FLOAT: return "a float";
    case DC_TOML_BOOL: return "a boolean";
    case DC_TOML_DATETIME: return "an offset date-time";
    case DC_TOML_DATETIME_LOCAL: return "a local date-time";
    case DC_TOML_DATE_LOCAL: return "a local date";
    case DC_TOML_TIME_LOCAL: return "a local time";
    case DC_TOML_ARRAY: return "an array";
    case DC_TOML_TABLE: return "a table";
    }
    return "a value";
}

/* Write the first `upto` components of `kp` as a readable dotted key into
 * out[0..n) (quoting components that are not bare, truncating long ones). */
static const char *fmt_key(const keypath *kp, size_t upto, char *out, size_t n)
{
    size_t o = 0;
    out[0] = '\0';
    for (size_t i = 0; i < upto && i < kp->n; i++) {
        const keypart *k = &kp->v[i];
        bool bare = k->len > 0;
        for (size_t j = 0; j < k->len; j++) {
            unsigned char c = (unsigned char)k->s[j];
            if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                  (c >= '0' && c <= '9') || c == '_' || c == '-'))
                bare = false;
        }
        if (i > 0 && o + 1 < n)
            out[o++] = '.';
        if (!bare && o + 1 < n)
            out[o++] = '"';
        for (size_t j = 0; j < k->len && o + 4 < n; j++) {
            unsigned char c = (unsigned char)k->s[j];
            if (c == '"' || c == '\\') {
                out[o++] = '\\';
                out[o++] = (char)c;
            } else {
                out[o++] = (c < 0x20 || c == 0x7F) ? '?' : (char)c;
            }
        }
        if (!bare && o + 1 < n)
            out[o++] = '"';
        if (o + 4 >= n) {
            if (n > 4)
                memcpy(out + n - 4, "...", 4);
            return out;
        }
    }
    out[o] = '\0';
    return out;
}

/* ------------------------------------------------------------------------
 * Buffers and nodes
 * ------------------------------------------------------------------------ */

/* Append n bytes to b, growing it; false (with an OOM error) on failure. */
static bool sb_put(parser *p, sbuf *b, const void *data, size_t n)
{
    if (n > SIZE_MAX - b->len - 1)
        return oom(p);
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->len + n + 1)
            cap = cap > SIZE_MAX / 2 ? b->len + n + 1 : cap * 2;
        char *q = realloc(b->p, cap);
        if (!q)
            return oom(p);
        b->p = q;
        b->cap = cap;
    }
    memcpy(b->p + b->len, data, n);
    b->len += n;
    b->p[b->len] = '\0';
    return true;
}

/* Append one byte to b. */
static bool sb_putc(parser *p, sbuf *b, char c)
{
    return sb_put(p, b, &c, 1);
}

/* Append the UTF-8 encoding of scalar value cp (< 0x110000, not a
 * surrogate) to b. */
static bool sb_put_utf8(parser *p, sbuf *b, uint32_t cp)
{
    char u[4];
    size_t n;
    if (cp < 0x80) {
        u[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        u[0] = (char)(0xC0 | (cp >> 6));
        u[1] = (char)(0x80 | (cp & 0x3F));
        n = 2;
    } else if (cp < 0x10000) {
        u[0] = (char)(0xE0 | (cp >> 12));
        u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[2] = (char)(0x80 | (cp & 0x3F));
        n = 3;
    } else {
        u[0] = (char)(0xF0 | (cp >> 18));
        u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        u[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[3] = (char)(0x80 | (cp & 0x3F));
        n = 4;
    }
    return sb_put(p, b, u, n);
}

/* A fresh NUL-terminated heap copy of data[0..n), or NULL (OOM recorded). */
static char *dup_bytes(parser *p, const char *data, size_t n)
{
    if (n == SIZE_MAX) {
        oom(p);
        return NULL;
    }
    char *s = malloc(n + 1);
    if (!s) {
        oom(p);
        return NULL;
    }
    if (n)
        memcpy(s, data, n);
    s[n] = '\0';
    return s;
}

/* A new empty node of the given type and position, or NULL (OOM recorded). */
static tnode *node_new(parser *p, dc_toml_type type, int line, int col)
{
    tnode *n = calloc(1, sizeof *n);
    if (!n) {
        oom(p);
        return NULL;
    }
    n->pub.type = type;
    n->pub.line = line;
    n->pub.col = col;
    return n;
}

/* Free a node and everything below it.  NULL is accepted.  Recursion depth
 * is bounded by DC_TOML_MAX_DEPTH + 1. */
static void node_free(tnode *n)
{
    if (!n)
        return;
    switch (n->pub.type) {
    case DC_TOML_STRING:
        free(n->pub.u.str.ptr);
        break;
    case DC_TOML_DATETIME:
    case DC_TOML_DATETIME_LOCAL:
    case DC_TOML_DATE_LOCAL:
    case DC_TOML_TIME_LOCAL:
        free(n->pub.u.datetime);
        break;
    case DC_TOML_ARRAY:
        for (size_t i = 0; i < n->pub.u.array.len; i++)
            node_free((tnode *)n->pub.u.array.items[i]);
        free(n->pub.u.array.items);
        break;
    case DC_TOML_TABLE:
        for (size_t i = 0; i < n->pub.u.table.len; i++) {
            free(n->pub.u.table.keys[i]);
            node_free((tnode *)n->pub.u.table.values[i]);
        }
        free(n->pub.u.table.keys);
        free(n->pub.u.table.values);
        free(n->key_lens);
        free(n->slots);
        break;
    default:
        break;
    }
    free(n);
}

/* FNV-1a hash of a key. */
static size_t hash_key(const char *k, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)k[i];
        h *= 1099511628211ull;
    }
    return (size_t)(h ^ (h >> 32));
}

/* Rebuild table t's hash index with `nslots` slots (a power of two larger
 * than twice the key count).  Returns false on allocation failure, leaving
 * the old index in place. */
static bool table_reindex(tnode *t, size_t nslots)
{
    size_t *slots = calloc(nslots, sizeof *slots);
    if (!slots)
        return false;
    for (size_t i = 0; i < t->pub.u.table.len; i++) {
        size_t h = hash_key(t->pub.u.table.keys[i], t->key_lens[i]) & (nslots - 1);
        while (slots[h])
            h = (h + 1) & (nslots - 1);
        slots[h] = i + 1;
    }
    free(t->slots);
    t->slots = slots;
    t->nslots = nslots;
    return true;
}

/* Index of key k[0..n) in table t, or SIZE_MAX when absent.  Read-only. */
static size_t table_find(const tnode *t, const char *k, size_t n)
{
    const char *const *keys = (const char *const *)t->pub.u.table.keys;
    if (t->nslots) {
        size_t h = hash_key(k, n) & (t->nslots - 1);
        while (t->slots[h]) {
            size_t i = t->slots[h] - 1;
            if (t->key_lens[i] == n && memcmp(keys[i], k, n) == 0)
                return i;
            h = (h + 1) & (t->nslots - 1);
        }
        return SIZE_MAX;
    }
    for (size_t i = 0; i < t->pub.u.table.len; i++)
        if (t->key_lens[i] == n && memcmp(keys[i], k, n) == 0)
            return i;
    return SIZE_MAX;
}

/* Append key (klen bytes, heap-allocated) -> val to table t.  The key must
 * not be present.  Takes ownership of key and val in all cases (frees them
 * on failure).  Returns false on OOM. */
static bool table_insert(parser *p, tnode *t, char *key, size_t klen, tnode *val)
{
    size_t len = t->pub.u.table.len;
    if (len == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 4;
        if (cap > SIZE_MAX / sizeof(char *) / 2)
            goto nomem;
        char **keys = realloc(t->pub.u.table.keys, cap * sizeof *keys);
        if (!keys)
            goto nomem;
        t->pub.u.table.keys = keys;
        dc_toml_node **vals = realloc(t->pub.u.table.values, cap * sizeof *vals);
        if (!vals)
            goto nomem;
        t->pub.u.table.values = vals;
        size_t *lens = realloc(t->key_lens, cap * sizeof *lens);
        if (!lens)
            goto nomem;
        t->key_lens = lens;
        t->cap = cap;
    }
    if (len + 1 > HASH_THRESHOLD && (len + 1) * 2 > t->nslots) {
        size_t ns = t->nslots ? t->nslots : 16;
        while (ns < (len + 1) * 2)
            ns *= 2;
        /* build the index for the entries present, then add this one */
        if (!table_reindex(t, ns))
            goto nomem;
    }
    t->pub.u.table.keys[len] = key;
    t->pub.u.table.values[len] = &val->pub;
    t->key_lens[len] = klen;
    t->pub.u.table.len = len + 1;
    if (t->nslots) {
        size_t h = hash_key(key, klen) & (t->nslots - 1);
        while (t->slots[h])
            h = (h + 1) & (t->nslots - 1);
        t->slots[h] = len + 1;
    }
    return true;
nomem:
    free(key);
    node_free(val);
    return oom(p);
}

/* Append v to array a.  Takes ownership of v (frees it on failure).
 * Returns false on OOM. */
static bool array_push(parser *p, tnode *a, tnode *v)
{
    size_t len = a->pub.u.array.len;
    if (len == a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 4;
        dc_toml_node **items;
        if (cap > SIZE_MAX / sizeof *items / 2 ||
            !(items = realloc(a->pub.u.array.items, cap * sizeof *items))) {
            node_free(v);
            return oom(p);
        }
        a->pub.u.array.items = items;
        a->cap = cap;
    }
    a->pub.u.array.items[len] = &v->pub;
    a->pub.u.array.len = len + 1;
    return true;
}

/* ------------------------------------------------------------------------
 * Whitespace, comments, newlines
 * ------------------------------------------------------------------------ */

/* Skip spaces and tabs. */
static void skip_ws(parser *p)
{
    while (p->pos < p->len && (p->s[p->pos] == ' ' || p->s[p->pos] == '\t'))
        p->pos++;
}

/* Validate and append to `out` (when not NULL) one ordinary character at the
 * current position of a string or comment: a tab, printable ASCII or valid
 * UTF-8.  `ctx` names the construct for the error message. */
static bool take_char(parser *p, sbuf *out, const char *ctx)
{
    unsigned char c = p->s[p->pos];
    if (c >= 0x80) {
        uint32_t cp;
        size_t n = utf8_decode(p->s + p->pos, p->len - p->pos, &cp);
        if (n == 0)
            return fail(p, p->pos, "invalid UTF-8 in %s", ctx);
        if (out && !sb_put(p, out, p->s + p->pos, n))
            return false;
        p->pos += n;
        return true;
    }
    if (c == '\t' || (c >= 0x20 && c != 0x7F)) {
        if (out && !sb_putc(p, out, (char)c))
            return false;
        p->pos++;
        return true;
    }
    return fail(p, p->pos, "control character U+%04X is not allowed in %s",
                (unsigned)c, ctx);
}

/* At a '#': skip the comment up to (not including) the end of the line,
 * rejecting control characters and invalid UTF-8 in it. */
static bool skip_comment(parser *p)
{
    p->pos++;
    while (p->pos < p->len) {
        unsigned char c = p->s[p->pos];
        if (c == '\n' || (c == '\r' && peek_at(p, p->pos + 1) == '\n'))
            return true;
        if (!take_char(p, NULL, "a comment"))
            return false;
    }
    return true;
}

/* At '\n' or '\r': consume a newline (LF or CRLF); a lone CR is an error. */
static bool eat_newline(parser *p)
{
    if (p->s[p->pos] == '\n') {
        p->pos++;
        return true;
    }
    if (peek_at(p, p->pos + 1) == '\n') {
        p->pos += 2;
        return true;
    }
    return fail(p, p->pos, "carriage return must be followed by a line feed");
}

/* Skip whitespace, comments and newlines (inside arrays). */
static bool skip_ws_comments_nl(parser *p)
{
    for (;;) {
        skip_ws(p);
        int c = peek(p);
        if (c == '#') {
            if (!skip_comment(p))
                return false;
        } else if (c == '\n' || c == '\r') {
            if (!eat_newline(p))
                return false;
        } else {
            return true;
        }
    }
}

/* After a key/value pair or table header: allow whitespace and a comment,
 * then require a newline (consumed) or the end of the input. */
static bool end_of_line(parser *p, const char *after)
{
    skip_ws(p);
    if (peek(p) == '#' && !skip_comment(p))
        return false;
    int c = peek(p);
    if (c == -1)
        return true;
    if (c == '\n' || c == '\r')
        return eat_newline(p);
    char what[64];
    snprintf(what, sizeof what, "expected end of line after %s", after);
    return fail_found(p, what);
}

/* True when c may end a scalar value (numbers, booleans, dates). */
static bool is_value_end(int c)
{
    return c == -1 || c == ' ' || c == '\t' || c == '\n' || c == '\r' ||
           c == '#' || c == ',' || c == ']' || c == '}';
}

/* Require that the scalar just parsed (`what`) ends here. */
static bool check_value_end(parser *p, const char *what)
{
    if (is_value_end(peek(p)))
        return true;
    char d[48];
    return fail(p, p->pos, "unexpected %s in %s",
                describe_at(p, p->pos, d, sizeof d), what);
}

/* ------------------------------------------------------------------------
 * Strings
 * ------------------------------------------------------------------------ */

/* Value of hex digit c, or -1. */
static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* At a backslash in a basic string: decode one escape sequence into out. */
static bool parse_escape(parser *p, sbuf *out)
{
    size_t st = p->pos;
    int e = peek_at(p, st + 1);
    char c;
    switch (e) {
    case 'b': c = '\b'; break;
    case 't': c = '\t'; break;
    case 'n': c = '\n'; break;
    case 'f': c = '\f'; break;
    case 'r': c = '\r'; break;
    case '"': c = '"'; break;
    case '\\': c = '\\'; break;
    case 'u':
    case 'U': {
        int nd = e == 'u' ? 4 : 8;
        uint32_t v = 0;
        for (int i = 0; i < nd; i++) {
            int h = hexval(peek_at(p, st + 2 + (size_t)i));
            if (h < 0)
                return fail(p, st, "invalid \\%c escape: expected %d hexadecimal digits",
                            e, nd);
            v = (v << 4) | (uint32_t)h;
        }
        if (v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
            return fail(p, st, "escape \\%c%0*X is not a Unicode scalar value",
                        e, nd, (unsigned)v);
        p->pos = st + 2 + (size_t)nd;
        return sb_put_utf8(p, out, v);
    }
    case -1:
        return fail(p, st + 1, "unterminated string");
    default: {
        char d[48];
        if (e >= 0x21 && e < 0x7F)
            return fail(p, st, "invalid escape sequence '\\%c'", e);
        return fail(p, st, "invalid escape sequence: backslash followed by %s",
                    describe_at(p, st + 1, d, sizeof d));
    }
    }
    p->pos = st + 2;
    return sb_putc(p, out, c);
}

/* Parse a basic ("...") or multi-line basic ("""...""") string at the
 * current position into out (reset first).  Multi-line newlines become LF. */
static bool parse_basic_string(parser *p, sbuf *out)
{
    size_t st = p->pos;
    out->len = 0;
    bool multi = peek_at(p, st + 1) == '"' && peek_at(p, st + 2) == '"';
    if (!multi) {
        p->pos++;
        for (;;) {
            int c = peek(p);
            if (c == '"') {
                p->pos++;
                return true;
            }
            if (c == -1)
                return fail(p, p->pos, "unterminated string");
            if (c == '\n' || c == '\r')
                return fail(p, p->pos, "unterminated string: newlines are not "
                                       "allowed in single-line strings");
            if (c == '\\') {
                if (!parse_escape(p, out))
                    return false;
            } else if (!take_char(p, out, "a string")) {
                return false;
            }
        }
    }
    p->pos += 3;
    if (peek(p) == '\n')
        p->pos++;
    else if (peek(p) == '\r' && peek_at(p, p->pos + 1) == '\n')
        p->pos += 2;
    for (;;) {
        int c = peek(p);
        if (c == -1)
            return fail(p, p->pos, "unterminated multi-line string");
        if (c == '"') {
            size_t q = 0;
            while (q < 6 && peek_at(p, p->pos + q) == '"')
                q++;
            if (q < 3) {
                if (!sb_put(p, out, "\"\"", q))
                    return false;
                p->pos += q;
                continue;
            }
            if (q == 6)
                return fail(p, p->pos, "too many quotation marks in a row in "
                                       "multi-line string (escape one)");
            if (!sb_put(p, out, "\"\"", q - 3))
                return false;
            p->pos += q;
            return true;
        }
        if (c == '\\') {
            size_t i = p->pos + 1;
            int n = peek_at(p, i);
            if (n == ' ' || n == '\t' || n == '\n' || n == '\r') {
                /* line-ending backslash: must be followed by a newline */
                while (peek_at(p, i) == ' ' || peek_at(p, i) == '\t')
                    i++;
                n = peek_at(p, i);
                if (n != '\n' && !(n == '\r' && peek_at(p, i + 1) == '\n'))
                    return fail(p, p->pos, "a backslash followed by whitespace "
                                           "must be at the end of the line");
                p->pos = i;
                for (;;) {
                    n = peek(p);
                    if (n == ' ' || n == '\t')
                        p->pos++;
                    else if (n == '\n' || n == '\r') {
                        if (!eat_newline(p))
                            return false;
                    } else
                        break;
                }
                continue;
            }
            if (!parse_escape(p, out))
                return false;
            continue;
        }
        if (c == '\n' || c == '\r') {
            if (!eat_newline(p) || !sb_putc(p, out, '\n'))
                return false;
            continue;
        }
        if (!take_char(p, out, "a string"))
            return false;
    }
}

/* Parse a literal ('...') or multi-line literal ('''...''') string at the
 * current position into out (reset first).  Multi-line newlines become LF. */
static bool parse_literal_string(parser *p, sbuf *out)
{
    size_t st = p->pos;
    out->len = 0;
    bool multi = peek_at(p, st + 1) == '\'' && peek_at(p, st + 2) == '\'';
    if (!multi) {
        p->pos++;
        for (;;) {
            int c = peek(p);
            if (c == '\'') {
                p->pos++;
                return true;
            }
            if (c == -1)
                return fail(p, p->pos, "unterminated literal string");
            if (c == '\n' || c == '\r')
                return fail(p, p->pos, "unterminated literal string: newlines "
                                       "are not allowed in single-line strings");
            if (!take_char(p, out, "a literal string"))
                return false;
        }
    }
    p->pos += 3;
    if (peek(p) == '\n')
        p->pos++;
    else if (peek(p) == '\r' && peek_at(p, p->pos + 1) == '\n')
        p->pos += 2;
    for (;;) {
        int c = peek(p);
        if (c == -1)
            return fail(p, p->pos, "unterminated multi-line literal string");
        if (c == '\'') {
            size_t q = 0;
            while (q < 6 && peek_at(p, p->pos + q) == '\'')
                q++;
            if (q < 3) {
                if (!sb_put(p, out, "''", q))
                    return false;
                p->pos += q;
                continue;
            }
            if (q == 6)
                return fail(p, p->pos, "too many apostrophes in a row in "
                                       "multi-line literal string");
            if (!sb_put(p, out, "''", q - 3))
                return false;
            p->pos += q;
            return true;
        }
        if (c == '\n' || c == '\r') {
            if (!eat_newline(p) || !sb_putc(p, out, '\n'))
                return false;
            continue;
        }
        if (!take_char(p, out, "a literal string"))
            return false;
    }
}

/* ------------------------------------------------------------------------
 * Keys
 * ------------------------------------------------------------------------ */

/* True for characters allowed in bare keys: A-Za-z0-9_- */
static bool is_bare(int c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
           (c >= '0' && c <= '9') || c == '_' || c == '-';
}

/* Free the components of a key path and reset it. */
static void keypath_free(keypath *kp)
{
    for (size_t i = 0; i < kp->n; i++)
        free(kp->v[i].s);
    free(kp->v);
    kp->v = NULL;
    kp->n = kp->cap = 0;
}

/* Parse one key component (bare, "basic" or 'literal') into *out. */
static bool parse_simple_key(parser *p, keypart *out)
{
    size_t st = p->pos;
    int c = peek(p);
    out->off = st;
    locate(p, st, &out->line, &out->col);
    if (c == '"' || c == '\'') {
        if (peek_at(p, st + 1) == c && peek_at(p, st + 2) == c)
            return fail(p, st, "multi-line strings cannot be used as keys");
        if (!(c == '"' ? parse_basic_string(p, &p->buf)
                       : parse_literal_string(p, &p->buf)))
            return false;
        out->s = dup_bytes(p, p->buf.p ? p->buf.p : "", p->buf.len);
        out->len = p->buf.len;
        return out->s != NULL;
    }
    if (!is_bare(c))
        return fail_found(p, "expected a key");
    while (is_bare(peek(p)))
        p->pos++;
    out->len = p->pos - st;
    out->s = dup_bytes(p, (const char *)p->s + st, out->len);
    return out->s != NULL;
}

/* Parse a (dotted) key at the current position into kp (which must be
 * empty); trailing whitespace is consumed.  On failure kp may hold parts,
 * which the caller frees with keypath_free(). */
static bool parse_key(parser *p, keypath *kp)
{
    for (;;) {
        if (kp->n == kp->cap) {
            size_t cap = kp->cap ? kp->cap * 2 : 4;
            keypart *v = realloc(kp->v, cap * sizeof *v);
            if (!v)
                return oom(p);
            kp->v = v;
            kp->cap = cap;
        }
        if (kp->n >= MAX_DEPTH)
            return fail(p, p->pos, "dotted key has too many components "
                                   "(at most %d)", MAX_DEPTH);
        keypart *k = &kp->v[kp->n];
        k->s = NULL;
        kp->n++;
        if (!parse_simple_key(p, k))
            return false;
        skip_ws(p);
        if (peek(p) != '.')
            return true;
        p->pos++;
        skip_ws(p);
    }
}

/* ------------------------------------------------------------------------
 * Numbers and dates
 * ------------------------------------------------------------------------ */

/* True when c is a digit of the given base (2, 8, 10 or 16). */
static bool is_base_digit(int c, int base)
{
    if (base == 16)
        return hexval(c) >= 0;
    return c >= '0' && c < '0' + base;
}

/* Scan a run of digits of `base` with single underscores between digits,
 * appending the digits (without underscores) to p->buf.  At least one digit
 * is required.  `what` names the digits for error messages. */
static bool scan_digits(parser *p, int base, const char *what)
{
    if (!is_base_digit(peek(p), base))
        return fail_found(p, what);
    for (;;) {
        int c = peek(p);
        if (is_base_digit(c, base)) {
            if (!sb_putc(p, &p->buf, (char)c))
                return false;
            p->pos++;
        } else if (c == '_') {
            if (!is_base_digit(peek_at(p, p->pos + 1), base))
                return fail(p, p->pos, "'_' in a number must be between two digits");
            p->pos++;
        } else {
            return true;
        }
    }
}

/* The current locale's decimal point, so strtod() reads our '.' correctly
 * whatever LC_NUMERIC is (found by formatting 1.5 once per parse). */
static const char *decimal_point(parser *p)
{
    if (!p->dp_known) {
        char tmp[32];
        int n = snprintf(tmp, sizeof tmp, "%.1f", 1.5);
        strcpy(p->dp, ".");
        if (n >= 3 && n - 2 < (int)sizeof p->dp && tmp[0] == '1' && tmp[n - 1] == '5') {
            memcpy(p->dp, tmp + 1, (size_t)n - 2);
            p->dp[n - 2] = '\0';
        }
        p->dp_known = true;
    }
    return p->dp;
}

/* Parse an integer or float (including inf/nan) at the current position. */
static tnode *parse_number(parser *p, int line, int col)
{
    size_t st = p->pos;
    bool neg = false, sign = false;
    tnode *n;
    int c = peek(p);
    if (c == '+' || c == '-') {
        sign = true;
        neg = c == '-';
        p->pos++;
        c = peek(p);
    }
    if (c == 'i' || c == 'n') {
        const char *word = c == 'i' ? "inf" : "nan";
        if (p->len - p->pos < 3 || memcmp(p->s + p->pos, word, 3) != 0) {
            fail(p, st, "invalid value (expected a number, 'inf' or 'nan')");
            return NULL;
        }
        p->pos += 3;
        if (!check_value_end(p, "float"))
            return NULL;
        if (!(n = node_new(p, DC_TOML_FLOAT, line, col)))
            return NULL;
        n->pub.u.flt = c == 'i' ? (double)INFINITY : (double)NAN;
        if (neg)
            n->pub.u.flt = -n->pub.u.flt;
        return n;
    }
    if (!(c >= '0' && c <= '9')) {
        fail_found(p, "expected a digit");
        return NULL;
    }
    p->buf.len = 0;
    int x = peek_at(p, p->pos + 1);
    if (c == '0' && (x == 'x' || x == 'o' || x == 'b')) {
        int base = x == 'x' ? 16 : x == 'o' ? 8 : 2;
        const char *what = x == 'x' ? "expected a hexadecimal digit"
                           : x == 'o' ? "expected an octal digit"
                                      : "expected a binary digit";
        if (sign) {
            fail(p, st, "a sign is not allowed on hexadecimal, octal or binary integers");
            return NULL;
        }
        p->pos += 2;
        if (!scan_digits(p, base, what) || !check_value_end(p, "integer"))
            return NULL;
        uint64_t v = 0;
        for (size_t i = 0; i < p->buf.len; i++) {
            unsigned d = (unsigned)hexval((unsigned char)p->buf.p[i]);
            if (v > ((uint64_t)INT64_MAX - d) / (uint64_t)base) {
                fail(p, st, "integer does not fit in 64 bits");
                return NULL;
            }
            v = v * (uint64_t)base + d;
        }
        if (!(n = node_new(p, DC_TOML_INTEGER, line, col)))
            return NULL;
        n->pub.u.integer = (int64_t)v;
        return n;
    }
    if (c == '0' && (x == '_' || (x >= '0' && x <= '9'))) {
        fail(p, p->pos, "leading zeros are not allowed in numbers");
        return NULL;
    }
    if (!scan_digits(p, 10, "expected a digit"))
        return NULL;
    size_t intlen = p->buf.len;
    bool is_float = false;
    if (peek(p) == '.') {
        is_float = true;
        p->pos++;
        if (!sb_put(p, &p->buf, decimal_point(p), strlen(decimal_point(p))) ||
            !scan_digits(p, 10, "expected a digit after the decimal point"))
            return NULL;
    }
    if (peek(p) == 'e' || peek(p) == 'E') {
        is_float = true;
        p->pos++;
        if (!sb_putc(p, &p->buf, 'e'))
            return NULL;
        if (peek(p) == '+' || peek(p) == '-') {
            if (!sb_putc(p, &p->buf, (char)peek(p)))
                return NULL;
            p->pos++;
        }
        if (!scan_digits(p, 10, "expected a digit in the exponent"))
            return NULL;
    }
    if (!check_value_end(p, is_float ? "float" : "integer"))
        return NULL;
    if (!is_float) {
        uint64_t mag = 0, limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
        for (size_t i = 0; i < intlen; i++) {
            unsigned d = (unsigned)(p->buf.p[i] - '0');
            if (mag > (limit - d) / 10) {
                fail(p, st, "integer does not fit in 64 bits");
                return NULL;
            }
            mag = mag * 10 + d;
        }
        if (!(n = node_new(p, DC_TOML_INTEGER, line, col)))
            return NULL;
        if (!neg)
            n->pub.u.integer = (int64_t)mag;
        else if (mag == (uint64_t)INT64_MAX + 1)
            n->pub.u.integer = INT64_MIN;
        else
            n->pub.u.integer = -(int64_t)mag;
        return n;
    }
    char *end;
    errno = 0;
    double d = strtod(p->buf.p, &end);
    if (end != p->buf.p + p->buf.len) {
        fail(p, st, "invalid float");
        return NULL;
    }
    if (errno == ERANGE && isinf(d)) {
        fail(p, st, "float is out of range");
        return NULL;
    }
    if (!(n = node_new(p, DC_TOML_FLOAT, line, col)))
        return NULL;
    n->pub.u.flt = neg ? -d : d;
    return n;
}

/* Read exactly `nd` ASCII digits at offset off into *v; false if any is
 * not a digit. */
static bool fixed_digits(const parser *p, size_t off, int nd, int *v)
{
    int r = 0;
    for (int i = 0; i < nd; i++) {
        int c = peek_at(p, off + (size_t)i);
        if (c < '0' || c > '9')
            return false;
        r = r * 10 + (c - '0');
    }
    *v = r;
    return true;
}

/* Number of days in month m (1-12) of year y (proleptic Gregorian). */
static int days_in_month(int y, int m)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        return 29;
    return days[m - 1];
}

/* Parse a time HH:MM:SS[.frac] at offset off; sets p->pos after it. */
static bool parse_time_part(parser *p, size_t off)
{
    int h, m, s;
    if (!fixed_digits(p, off, 2, &h) || peek_at(p, off + 2) != ':' ||
        !fixed_digits(p, off + 3, 2, &m) || peek_at(p, off + 5) != ':' ||
        !fixed_digits(p, off + 6, 2, &s))
        return fail(p, off, "invalid time: expected HH:MM:SS");
    if (h > 23)
        return fail(p, off, "invalid time: hour must be between 00 and 23");
    if (m > 59)
        return fail(p, off + 3, "invalid time: minute must be between 00 and 59");
    if (s > 60)
        return fail(p, off + 6, "invalid time: second must be between 00 and 60");
    p->pos = off + 8;
    if (peek(p) == '.') {
        p->pos++;
        int c = peek(p);
        if (c < '0' || c > '9')
            return fail_found(p, "expected a digit after '.' in time");
        while ((c = peek(p)) >= '0' && c <= '9')
            p->pos++;
    }
    return true;
}

/* Parse a date, date-time or time at the current position (the caller has
 * seen "DDDD-" or "DD:") into the matching node type. */
static tnode *parse_datetime(parser *p, int line, int col)
{
    size_t st = p->pos;
    bool has_date = false, has_time = false, has_off = false;
    if (peek_at(p, st + 4) == '-') {
        int y, m, d;
        if (!fixed_digits(p, st, 4, &y) || !fixed_digits(p, st + 5, 2, &m) ||
            peek_at(p, st + 7) != '-' || !fixed_digits(p, st + 8, 2, &d)) {
            fail(p, st, "invalid date: expected YYYY-MM-DD");
            return NULL;
        }
        if (m < 1 || m > 12) {
            fail(p, st + 5, "invalid date: month must be between 01 and 12");
            return NULL;
        }
        if (d < 1 || d > days_in_month(y, m)) {
            fail(p, st + 8, "invalid date: day %02d does not exist in %04d-%02d",
                 d, y, m);
            return NULL;
        }
        has_date = true;
        p->pos = st + 10;
        int c = peek(p);
        if (c == 'T' || c == 't' ||
            (c == ' ' && (unsigned)(peek_at(p, p->pos + 1) - '0') <= 9 &&
             (unsigned)(peek_at(p, p->pos + 2) - '0') <= 9 &&
             peek_at(p, p->pos + 3) == ':')) {
            if (!parse_time_part(p, p->pos + 1))
                return NULL;
            has_time = true;
        }
    } else {
        if (!parse_time_part(p, st))
            return NULL;
        has_time = true;
    }
    if (has_date && has_time) {
        int c = peek(p);
        if (c == 'Z' || c == 'z') {
            p->pos++;
            has_off = true;
        } else if (c == '+' || c == '-') {
            size_t o = p->pos + 1;
            int h, m;
            if (!fixed_digits(p, o, 2, &h) || peek_at(p, o + 2) != ':' ||
                !fixed_digits(p, o + 3, 2, &m)) {
                fail(p, p->pos, "invalid time offset: expected +HH:MM or -HH:MM");
                return NULL;
            }
            if (h > 23 || m > 59) {
                fail(p, p->pos, "invalid time offset: hours must be 00-23 and "
                                "minutes 00-59");
                return NULL;
            }
            p->pos = o + 5;
            has_off = true;
        }
    }
    if (!check_value_end(p, has_date ? (has_time ? "date-time" : "date") : "time"))
        return NULL;
    dc_toml_type t = !has_date  ? DC_TOML_TIME_LOCAL
                     : !has_time ? DC_TOML_DATE_LOCAL
                     : has_off   ? DC_TOML_DATETIME
                                 : DC_TOML_DATETIME_LOCAL;
    size_t n = p->pos - st;
    char *text = dup_bytes(p, (const char *)p->s + st, n);
    if (!text)
        return NULL;
    if (has_date && has_time)
        text[10] = 'T';
    if (has_off && text[n - 1] == 'z')
        text[n - 1] = 'Z';
    tnode *node = node_new(p, t, line, col);
    if (!node) {
        free(text);
        return NULL;
    }
    node->pub.u.datetime = text;
    return node;
}

/* ------------------------------------------------------------------------
 * Values, arrays, inline tables
 * ------------------------------------------------------------------------ */

/* Fail unless a container at `depth` is within the nesting limit. */
static bool check_depth(parser *p, size_t off, int depth)
{
    if (depth <= MAX_DEPTH)
        return true;
    return fail(p, off, "nesting is too deep (at most %d levels of arrays and "
                        "tables)", MAX_DEPTH);
}

/* Parse an array value at '[' whose node will sit at `depth`. */
static tnode *parse_array(parser *p, int depth, int line, int col)
{
    if (!check_depth(p, p->pos, depth))
        return NULL;
    tnode *a = node_new(p, DC_TOML_ARRAY, line, col);
    if (!a)
        return NULL;
    a->depth = depth;
    p->pos++;
    for (;;) {
        if (!skip_ws_comments_nl(p))
            goto err;
        if (peek(p) == ']') {
            p->pos++;
            return a;
        }
        if (peek(p) == -1) {
            fail(p, p->pos, "unterminated array: expected a value or ']'");
            goto err;
        }
        int el, ec;
        locate(p, p->pos, &el, &ec);
        tnode *v = parse_value(p, depth + 1, el, ec);
        if (!v || !array_push(p, a, v))
            goto err;
        if (!skip_ws_comments_nl(p))
            goto err;
        int c = peek(p);
        if (c == ',') {
            p->pos++;
        } else if (c == ']') {
            p->pos++;
            return a;
        } else if (c == -1) {
            fail(p, p->pos, "unterminated array: expected ',' or ']'");
            goto err;
        } else {
            fail_found(p, "expected ',' or ']' after array element");
            goto err;
        }
    }
err:
    node_free(a);
    return NULL;
}

/* Parse an inline table at '{' whose node will sit at `depth`.  The table
 * is frozen (immutable) once closed. */
static tnode *parse_inline_table(parser *p, int depth, int line, int col)
{
    if (!check_depth(p, p->pos, depth))
        return NULL;
    tnode *t = node_new(p, DC_TOML_TABLE, line, col);
    if (!t)
        return NULL;
    t->depth = depth;
    p->pos++;
    skip_ws(p);
    if (peek(p) == '}') {
        p->pos++;
        t->flags |= F_FROZEN;
        return t;
    }
    for (;;) {
        skip_ws(p);
        int c = peek(p);
        if (c == '\n' || c == '\r' || c == '#') {
            fail(p, p->pos, "inline tables must be on one line (no newlines or "
                            "comments inside)");
            goto err;
        }
        if (!parse_keyval(p, t))
            goto err;
        skip_ws(p);
        c = peek(p);
        if (c == ',') {
            p->pos++;
            skip_ws(p);
            if (peek(p) == '}') {
                fail(p, p->pos, "trailing comma is not allowed in an inline table");
                goto err;
            }
        } else if (c == '}') {
            p->pos++;
            t->flags |= F_FROZEN;
            return t;
        } else if (c == '\n' || c == '\r' || c == '#') {
            fail(p, p->pos, "inline tables must be on one line (no newlines or "
                            "comments inside)");
            goto err;
        } else {
            fail_found(p, "expected ',' or '}' in inline table");
            goto err;
        }
    }
err:
    node_free(t);
    return NULL;
}

/* Parse any value at the current position.  `depth` is the level the value
 * will occupy; line/col is the position recorded in the node. */
static tnode *parse_value(parser *p, int depth, int line, int col)
{
    int c = peek(p);
    switch (c) {
    case '"':
    case '\'': {
        if (!(c == '"' ? parse_basic_string(p, &p->buf)
                       : parse_literal_string(p, &p->buf)))
            return NULL;
        char *s = dup_bytes(p, p->buf.p ? p->buf.p : "", p->buf.len);
        if (!s)
            return NULL;
        tnode *n = node_new(p, DC_TOML_STRING, line, col);
        if (!n) {
            free(s);
            return NULL;
        }
        n->pub.u.str.ptr = s;
        n->pub.u.str.len = p->buf.len;
        return n;
    }
    case '[':
        return parse_array(p, depth, line, col);
    case '{':
        return parse_inline_table(p, depth, line, col);
    case 't':
    case 'f': {
        const char *word = c == 't' ? "true" : "false";
        size_t wl = strlen(word);
        if (p->len - p->pos < wl || memcmp(p->s + p->pos, word, wl) != 0 ||
            !is_value_end(peek_at(p, p->pos + wl))) {
            fail(p, p->pos, "invalid value (booleans are 'true' and 'false'; "
                            "strings must be quoted)");
            return NULL;
        }
        p->pos += wl;
        tnode *n = node_new(p, DC_TOML_BOOL, line, col);
        if (n)
            n->pub.u.boolean = c == 't';
        return n;
    }
    default:
        break;
    }
    if (c >= '0' && c <= '9') {
        size_t i = p->pos;
        while (i < p->len && p->s[i] >= '0' && p->s[i] <= '9')
            i++;
        size_t nd = i - p->pos;
        if ((nd == 4 && peek_at(p, i) == '-') || (nd == 2 && peek_at(p, i) == ':'))
            return parse_datetime(p, line, col);
        return parse_number(p, line, col);
    }
    if (c == '+' || c == '-' || c == 'i' || c == 'n')
        return parse_number(p, line, col);
    if (c == -1 || c == '\n' || c == '\r' || c == '#')
        fail_found(p, "expected a value");
    else if (is_bare(c))
        fail(p, p->pos, "invalid value (strings must be quoted)");
    else
        fail_found(p, "expected a value");
    return NULL;
}

/* ------------------------------------------------------------------------
 * Key/value pairs and table headers
 * ------------------------------------------------------------------------ */

/* For a dotted key, step from table `cur` into component i of kp, creating
 * the table when missing.  Fails when the component is a non-table, an
 * inline table, a table defined by a header, or a dotted table of an
 * earlier section. */
static tnode *dotted_descend(parser *p, tnode *cur, const keypath *kp, size_t i)
{
    const keypart *k = &kp->v[i];
    char name[160];
    size_t idx = table_find(cur, k->s, k->len);
    if (idx == SIZE_MAX) {
        if (!check_depth(p, k->off, cur->depth + 1))
            return NULL;
        tnode *t = node_new(p, DC_TOML_TABLE, k->line, k->col);
        if (!t)
            return NULL;
        t->depth = cur->depth + 1;
        t->dotted_section = p->section;
        char *key = dup_bytes(p, k->s, k->len);
        if (!key) {
            node_free(t);
            return NULL;
        }
        return table_insert(p, cur, key, k->len, t) ? t : NULL;
    }
    tnode *v = (tnode *)cur->pub.u.table.values[idx];
    if (v->pub.type != DC_TOML_TABLE) {
        fail(p, k->off, "cannot use '%s' as a table: it is already defined as %s",
             fmt_key(kp, i + 1, name, sizeof name), type_with_article(v->pub.type));
        return NULL;
    }
    if (v->flags & F_FROZEN) {
        fail(p, k->off, "cannot add keys to inline table '%s'",
             fmt_key(kp, i + 1, name, sizeof name));
        return NULL;
    }
    if (v->flags & F_EXPLICIT) {
        fail(p, k->off, "cannot add keys to table '%s' with dotted keys: it is "
                        "defined by a [table] header",
             fmt_key(kp, i + 1, name, sizeof name));
        return NULL;
    }
    if (v->dotted_section != 0 && v->dotted_section != p->section) {
        fail(p, k->off, "cannot add keys to table '%s': it was defined by dotted "
                        "keys in an earlier section",
             fmt_key(kp, i + 1, name, sizeof name));
        return NULL;
    }
    v->dotted_section = p->section;
    return v;
}

/* Parse `key = value` at the current position and add it to `table`
 * (whose own nesting level is table->depth). */
static bool parse_keyval(parser *p, tnode *table)
{
    keypath kp = {0};
    char name[160];
    tnode *cur = table;
    if (!parse_key(p, &kp))
        goto err;
    if (peek(p) != '=') {
        fail_found(p, "expected '=' after key");
        goto err;
    }
    p->pos++;
    skip_ws(p);
    for (size_t i = 0; i + 1 < kp.n; i++)
        if (!(cur = dotted_descend(p, cur, &kp, i)))
            goto err;
    keypart *last = &kp.v[kp.n - 1];
    if (table_find(cur, last->s, last->len) != SIZE_MAX) {
        fail(p, last->off, "duplicate key '%s'", fmt_key(&kp, kp.n, name, sizeof name));
        goto err;
    }
    tnode *v = parse_value(p, cur->depth + 1, kp.v[0].line, kp.v[0].col);
    if (!v)
        goto err;
    bool ok = table_insert(p, cur, last->s, last->len, v);
    last->s = NULL; /* owned by the table now (or freed) */
    keypath_free(&kp);
    return ok;
err:
    keypath_free(&kp);
    return false;
}

/* For a [header] path, step from `cur` into component i of kp: create an
 * implicit table when missing, enter the last element of an array of
 * tables, fail on inline tables, static arrays and other values. */
static tnode *header_descend(parser *p, tnode *cur, const keypath *kp, size_t i)
{
    const keypart *k = &kp->v[i];
    char name[160];
    size_t idx = table_find(cur, k->s, k->len);
    if (idx == SIZE_MAX) {
        if (!check_depth(p, k->off, cur->depth + 1))
            return NULL;
        tnode *t = node_new(p, DC_TOML_TABLE, k->line, k->col);
        if (!t)
            return NULL;
        t->depth = cur->depth + 1;
        char *key = dup_bytes(p, k->s, k->len);
        if (!key) {
            node_free(t);
            return NULL;
        }
        return table_insert(p, cur, key, k->len, t) ? t : NULL;
    }
    tnode *v = (tnode *)cur->pub.u.table.values[idx];
    if (v->pub.type == DC_TOML_TABLE) {
        if (v->flags & F_FROZEN) {
            fail(p, k->off, "cannot extend inline table '%s'",
                 fmt_key(kp, i + 1, name, sizeof name));
            return NULL;
        }
        return v;
    }
    if (v->pub.type == DC_TOML_ARRAY && (v->flags & F_AOT))
        return (tnode *)v->pub.u.array.items[v->pub.u.array.len - 1];
    if (v->pub.type == DC_TOML_ARRAY)
        fail(p, k->off, "cannot extend static array '%s' with a table header",
             fmt_key(kp, i + 1, name, sizeof name));
    else
        fail(p, k->off, "cannot use '%s' as a table: it is already defined as %s",
             fmt_key(kp, i + 1, name, sizeof name), type_with_article(v->pub.type));
    return NULL;
}

/* Parse a [table] or [[array of tables]] header at '[' and return the table
 * that following key/value pairs go into. */
static tnode *parse_header(parser *p, tnode *root)
{
    keypath kp = {0};
    char name[160];
    bool aot = peek_at(p, p->pos + 1) == '[';
    tnode *cur = root, *res = NULL;
    p->pos += aot ? 2 : 1;
    skip_ws(p);
    if (!parse_key(p, &kp))
        goto out;
    if (peek(p) != ']') {
        fail_found(p, aot ? "expected ']]' to close array of tables header"
                          : "expected ']' to close table header");
        goto out;
    }
    p->pos++;
    if (aot) {
        if (peek(p) != ']') {
            fail_found(p, "expected ']]' to close array of tables header");
            goto out;
        }
        p->pos++;
    }
    p->section++;
    for (size_t i = 0; i + 1 < kp.n; i++)
        if (!(cur = header_descend(p, cur, &kp, i)))
            goto out;
    keypart *k = &kp.v[kp.n - 1];
    size_t idx = table_find(cur, k->s, k->len);
    tnode *v = idx == SIZE_MAX ? NULL : (tnode *)cur->pub.u.table.values[idx];
    if (!aot) {
        if (!v) {
            if (!check_depth(p, k->off, cur->depth + 1))
                goto out;
            if (!(v = node_new(p, DC_TOML_TABLE, kp.v[0].line, kp.v[0].col)))
                goto out;
            v->depth = cur->depth + 1;
            v->flags = F_EXPLICIT;
            if (!table_insert(p, cur, k->s, k->len, v)) {
                k->s = NULL;
                goto out;
            }
            k->s = NULL;
            res = v;
        } else if (v->pub.type == DC_TOML_TABLE) {
            if (v->flags & F_FROZEN)
                fail(p, k->off, "cannot redefine inline table '%s'",
                     fmt_key(&kp, kp.n, name, sizeof name));
            else if ((v->flags & F_EXPLICIT) || v->dotted_section != 0)
                fail(p, k->off, "table '%s' is already defined",
                     fmt_key(&kp, kp.n, name, sizeof name));
            else {
                v->flags |= F_EXPLICIT;
                v->pub.line = kp.v[0].line;
                v->pub.col = kp.v[0].col;
                res = v;
            }
        } else if (v->pub.type == DC_TOML_ARRAY && (v->flags & F_AOT)) {
            fail(p, k->off, "cannot define table '%s': it is already an array of tables",
                 fmt_key(&kp, kp.n, name, sizeof name));
        } else {
            fail(p, k->off, "cannot define table '%s': it is already defined as %s",
                 fmt_key(&kp, kp.n, name, sizeof name), type_with_article(v->pub.type));
        }
        goto out;
    }
    /* [[array of tables]] */
    if (!v) {
        if (!check_depth(p, k->off, cur->depth + 2))
            goto out;
        if (!(v = node_new(p, DC_TOML_ARRAY, kp.v[0].line, kp.v[0].col)))
            goto out;
        v->depth = cur->depth + 1;
        v->flags = F_AOT;
        if (!table_insert(p, cur, k->s, k->len, v)) {
            k->s = NULL;
            goto out;
        }
        k->s = NULL;
    } else if (v->pub.type != DC_TOML_ARRAY || !(v->flags & F_AOT)) {
        if (v->pub.type == DC_TOML_ARRAY)
            fail(p, k->off, "cannot append to static array '%s' with [[%s]]",
                 fmt_key(&kp, kp.n, name, sizeof name), name);
        else
            fail(p, k->off, "cannot define array of tables '%s': it is already "
                            "defined as %s",
                 fmt_key(&kp, kp.n, name, sizeof name), type_with_article(v->pub.type));
        goto out;
    }
    tnode *t = node_new(p, DC_TOML_TABLE, kp.v[0].line, kp.v[0].col);
    if (!t)
        goto out;
    t->depth = v->depth + 1;
    t->flags = F_EXPLICIT;
    if (array_push(p, v, t))
        res = t;
out:
    keypath_free(&kp);
    return res;
}

/* Parse the whole document into root. */
static bool parse_document(parser *p, tnode *root)
{
    tnode *cur = root;
    for (;;) {
        skip_ws(p);
        int c = peek(p);
        if (c == -1)
            return true;
        if (c == '#') {
            if (!skip_comment(p))
                return false;
        } else if (c == '\n' || c == '\r') {
            if (!eat_newline(p))
                return false;
            continue;
        } else if (c == '[') {
            if (!(cur = parse_header(p, root)) || !end_of_line(p, "table header"))
                return false;
            continue;
        } else {
            if (!parse_keyval(p, cur) || !end_of_line(p, "value"))
                return false;
            continue;
        }
        if (!end_of_line(p, "comment"))
            return false;
    }
}

/* ------------------------------------------------------------------------
 * Public API
 * ------------------------------------------------------------------------ */

dc_toml_doc *dc_toml_parse(const char *text, size_t len, dc_toml_error *err)
{
    dc_toml_error dummy;
    if (!err)
        err = &dummy;
    memset(err, 0, sizeof *err);
    parser p;
    memset(&p, 0, sizeof p);
    p.s = (const unsigned char *)(text ? text : "");
    p.len = text ? len : 0;
    p.err = err;
    p.section = 1;
    p.loc_line = 1;
    if (!text && len > 0) {
        snprintf(err->message, sizeof err->message, "no input text");
        return NULL;
    }
    if (p.len >= 3 && memcmp(p.s, "\xEF\xBB\xBF", 3) == 0)
        p.base = p.pos = p.loc_off = 3;

    dc_toml_doc *doc = malloc(sizeof *doc);
    if (!doc) {
        oom(&p);
        return NULL;
    }
    doc->root = node_new(&p, DC_TOML_TABLE, 1, 1);
    if (!doc->root) {
        free(doc);
        return NULL;
    }
    bool ok = parse_document(&p, doc->root);
    free(p.buf.p);
    if (!ok) {
        dc_toml_free(doc);
        return NULL;
    }
    return doc;
}

/* Turn strerror_r()'s result into a message, for both the XSI variant
 * (returns int) and the GNU one (returns char *). */
static const char *strerror_pick_int(int r, const char *buf)
{
    return r == 0 ? buf : "unknown error";
}

/* GNU strerror_r() variant: the returned pointer is the message. */
static const char *strerror_pick_ptr(const char *r, const char *buf)
{
    (void)buf;
    return r ? r : "unknown error";
}

#define STRERROR_PICK(r, buf) \
    _Generic((r), int: strerror_pick_int, default: strerror_pick_ptr)((r), (buf))

/* Fill err with "cannot read '<path>': <system error>" at line 0. */
static void file_error(dc_toml_error *err, const char *path, int e)
{
    char buf[128];
    buf[0] = '\0';
    const char *msg = STRERROR_PICK(strerror_r(e, buf, sizeof buf), buf);
    memset(err, 0, sizeof *err);
    snprintf(err->message, sizeof err->message, "cannot read '%.120s': %.100s", path, msg);
}

dc_toml_doc *dc_toml_parse_file(const char *path, dc_toml_error *err)
{
    dc_toml_error dummy;
    if (!err)
        err = &dummy;
    if (!path) {
        memset(err, 0, sizeof *err);
        snprintf(err->message, sizeof err->message, "no file name given");
        return NULL;
    }
    FILE *f = fopen(path, "rb");
    if (!f) {
        file_error(err, path, errno);
        return NULL;
    }
    char *data = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len == cap) {
            size_t ncap = cap ? cap * 2 : 65536;
            char *q = ncap > cap ? realloc(data, ncap) : NULL;
            if (!q) {
                free(data);
                fclose(f);
                file_error(err, path, ENOMEM);
                return NULL;
            }
            data = q;
            cap = ncap;
        }
        size_t n = fread(data + len, 1, cap - len, f);
        len += n;
        if (n == 0) {
            if (ferror(f)) {
                int e = errno ? errno : EIO;
                free(data);
                fclose(f);
                file_error(err, path, e);
                return NULL;
            }
            break;
        }
    }
    fclose(f);
    dc_toml_doc *doc = dc_toml_parse(data, len, err);
    free(data);
    return doc;
}

const dc_toml_node *dc_toml_root(const dc_toml_doc *doc)
{
    return doc ? &doc->root->pub : NULL;
}

void dc_toml_free(dc_toml_doc *doc)
{
    if (!doc)
        return;
    node_free(doc->root);
    free(doc);
}

const dc_toml_node *dc_toml_get(const dc_toml_node *table, const char *key)
{
    if (!table || !key || table->type != DC_TOML_TABLE)
        return NULL;
    size_t idx = table_find((const tnode *)table, key, strlen(key));
    return idx == SIZE_MAX ? NULL : table->u.table.values[idx];
}

size_t dc_toml_key_len(const dc_toml_node *table, size_t i)
{
    if (!table || table->type != DC_TOML_TABLE || i >= table->u.table.len)
        return 0;
    return ((const tnode *)table)->key_lens[i];
}

const char *dc_toml_type_name(dc_toml_type type)
{
    switch (type) {
    case DC_TOML_STRING: return "string";
    case DC_TOML_INTEGER: return "integer";
    case DC_TOML_FLOAT: return "float";
    case DC_TOML_BOOL: return "boolean";
    case DC_TOML_DATETIME: return "offset date-time";
    case DC_TOML_DATETIME_LOCAL: return "local date-time";
    case DC_TOML_DATE_LOCAL: return "local date";
    case DC_TOML_TIME_LOCAL: return "local time";
    case DC_TOML_ARRAY: return "array";
    case DC_TOML_TABLE: return "table";
    }
    return "unknown";
}
