/*
 * sql/funcs_rx.c - POSIX regular expressions for the ~ operators,
 * substring(x FROM pattern), regexp_replace and SIMILAR TO, with a small
 * per-thread cache of compiled patterns (see funcs_rx.h).
 */
#include <pthread.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include "sql/funcs_rx.h"
#include "sql/types.h"

#define RX_CACHE_SIZE 16

typedef struct rx_entry {
    uint8_t *pat; /* pattern as given (malloc), NULL: empty slot */
    size_t len;
    bool icase;
    regex_t re;
} rx_entry;

typedef struct rx_cache {
    rx_entry e[RX_CACHE_SIZE];
    unsigned next; /* slot to replace next (round robin)        */
} rx_cache;

static pthread_key_t rx_key;
static pthread_once_t rx_once = PTHREAD_ONCE_INIT;
static int rx_key_ok;

static void rx_cache_free(void *p)
{
    rx_cache *c = p;
    for (int i = 0; i < RX_CACHE_SIZE; i++)
        if (c->e[i].pat) {
            regfree(&c->e[i].re);
            free(c->e[i].pat);
        }
    free(c);
}

static void rx_key_init(void)
{
    rx_key_ok = pthread_key_create(&rx_key, rx_cache_free) == 0;
}

/* When the module is unloaded, the key goes so that no thread exiting
 * later calls a destructor that is no longer mapped; the unloading
 * thread's own cache is freed here. */
__attribute__((destructor)) static void rx_unload(void)
{
    if (!rx_key_ok)
        return;
    rx_cache *c = pthread_getspecific(rx_key);
    if (c) {
        pthread_setspecific(rx_key, NULL);
        rx_cache_free(c);
    }
    pthread_key_delete(rx_key);
    rx_key_ok = 0;
}

static rx_cache *rx_cache_get(void)
{
    pthread_once(&rx_once, rx_key_init);
    if (!rx_key_ok)
        return NULL;
    rx_cache *c = pthread_getspecific(rx_key);
    if (!c) {
        c = calloc(1, sizeof *c);
        if (c && pthread_setspecific(rx_key, c) != 0) {
            free(c);
            c = NULL;
        }
    }
    return c;
}

/* PostgreSQL's wording for the regcomp errors. */
static const char *rx_message(int code)
{
    switch (code) {
    case REG_EPAREN:
        return "parentheses () not balanced";
    case REG_EBRACK:
        return "brackets [] not balanced";
    case REG_EBRACE:
        return "braces {} not balanced";
    case REG_BADRPT:
        return "quantifier operand invalid";
    case REG_EESCAPE:
        return "invalid escape \\ sequence";
    case REG_ECTYPE:
        return "invalid character class";
    case REG_ERANGE:
        return "invalid character range";
    case REG_BADBR:
        return "invalid repetition count(s)";
    case REG_ESUBREG:
        return "invalid backreference number";
    case REG_ECOLLATE:
        return "invalid collating element";
    case REG_ESPACE:
        return "out of memory";
    default:
        return "invalid regular expression";
    }
}

static int put(sql_buf *b, const char *s, dc_error *err)
{
    return sql_buf_append(b, s, strlen(s), err);
}

/* Rewrite PostgreSQL shorthands the C library lacks into POSIX ERE;
 * NUL-terminated into b. */
static int rx_translate(const uint8_t *p, size_t n, sql_buf *b, dc_error *err)
{
    int rc = DC_OK;
    bool in_br = false;
    for (size_t i = 0; i < n && rc == DC_OK; i++) {
        uint8_t c = p[i];
        if (!in_br && c == '[') {
            /* "[", "[^", "[]" and "[^]" open a bracket expression; a ']'
             * right after the opening is a member, not its end */
            size_t k = i + 1;
            if (k < n && p[k] == '^')
                k++;
            if (k < n && p[k] == ']')
                k++;
            in_br = true;
            rc = sql_buf_append(b, p + i, k - i, err);
            i = k - 1;
            continue;
        }
        if (in_br) {
            if (c == '[' && i + 1 < n && p[i + 1] == ':') {
                const uint8_t *e = NULL;
                for (size_t k = i + 2; k + 1 < n; k++)
                    if (p[k] == ':' && p[k + 1] == ']') {
                        e = p + k + 2;
                        break;
                    }
                if (e) {
                    rc = sql_buf_append(b, p + i, (size_t)(e - (p + i)), err);
                    i = (size_t)(e - p) - 1;
                    continue;
                }
            }
            if (c == ']') {
                in_br = false;
            } else if (c == '\\' && i + 1 < n) {
                uint8_t d = p[++i];
                const char *r = d == 'd'   ? "0-9"
                                : d == 's' ? "[:space:]"
                                : d == 'w' ? "[:alnum:]_"
                                           : NULL;
                rc = r ? put(b, r, err) : sql_buf_append(b, &d, 1, err);
                continue;
            }
            rc = sql_buf_append(b, &c, 1, err);
            continue;
        }
        if (c == '(' && i + 2 < n && p[i + 1] == '?' && p[i + 2] == ':') {
            /* non-capturing group: POSIX has only the capturing kind */
            rc = put(b, "(", err);
            i += 2;
            continue;
        }
        if (c == '\\' && i + 1 < n && (p[i + 1] == 'd' || p[i + 1] == 'D')) {
            rc = put(b, p[i + 1] == 'd' ? "[0-9]" : "[^0-9]", err);
            i++;
            continue;
        }
        if (c == '\\' && i + 1 < n) {
            rc = sql_buf_append(b, p + i, 2, err);
            i++;
            continue;
        }
        rc = sql_buf_append(b, &c, 1, err);
    }
    if (rc == DC_OK)
        rc = sql_buf_append(b, "", 1, err);
    return rc;
}

/* The compiled pattern (cached), or NULL with err set.  When the
 * per-thread cache is unavailable the pattern is compiled into *tmp
 * and *own set; the caller regfree()s it. */
static regex_t *rx_get(const uint8_t *p, size_t n, bool icase, regex_t *tmp,
                       bool *own, dc_error *err)
{
    *own = false;
    rx_cache *c = rx_cache_get();
    if (c)
        for (int i = 0; i < RX_CACHE_SIZE; i++) {
            rx_entry *e = &c->e[i];
            if (e->pat && e->len == n && e->icase == icase &&
                (n == 0 || !memcmp(e->pat, p, n)))
                return &e->re;
        }
    sql_buf b;
    sql_buf_init(&b);
    if (rx_translate(p, n, &b, err) != DC_OK) {
        sql_buf_free(&b);
        return NULL;
    }
    regex_t re;
    int code = regcomp(&re, (const char *)b.data,
                       REG_EXTENDED | (icase ? REG_ICASE : 0));
    sql_buf_free(&b);
    if (code != 0) {
        dc_error_set(err, DC_EINVAL, "2201B", "invalid regular expression: %s",
                     rx_message(code));
        return NULL;
    }
    uint8_t *copy = c ? malloc(n ? n : 1) : NULL;
    if (!copy) {
        *tmp = re;
        *own = true;
        return tmp;
    }
    if (n)
        memcpy(copy, p, n);
    rx_entry *e = &c->e[c->next];
    c->next = (c->next + 1) % RX_CACHE_SIZE;
    if (e->pat) {
        regfree(&e->re);
        free(e->pat);
    }
    e->pat = copy;
    e->len = n;
    e->icase = icase;
    e->re = re;
    return &e->re;
}

int sql_rx_find(const uint8_t *s, size_t slen, const uint8_t *p, size_t plen,
                bool icase, size_t start, bool *found, size_t *so, size_t *eo,
                long *sub_so, long *sub_eo, int *nsub, dc_error *err)
{
    regex_t tmp;
    bool own;
    regex_t *re = rx_get(p, plen, icase, &tmp, &own, err);
    if (!re)
        return DC_EINVAL;
    regmatch_t m[2];
    int eflags = start > 0 ? REG_NOTBOL : 0;
    int rc;
#ifdef REG_STARTEND
    m[0].rm_so = (regoff_t)start;
    m[0].rm_eo = (regoff_t)slen;
    rc = regexec(re, (const char *)s, 2, m, eflags | REG_STARTEND);
#else
    char *z = malloc(slen - start + 1);
    if (!z) {
        if (own)
            regfree(re);
        return dc_error_set(err, DC_ENOMEM, DC_SQLSTATE_OOM, "out of memory");
    }
    memcpy(z, s + start, slen - start);
    z[slen - start] = 0;
    rc = regexec(re, z, 2, m, eflags);
    free(z);
    if (rc == 0)
        for (int i = 0; i < 2; i++)
            if (m[i].rm_so >= 0) {
                m[i].rm_so += (regoff_t)start;
                m[i].rm_eo += (regoff_t)start;
            }
#endif
    if (nsub)
        *nsub = (int)re->re_nsub;
    if (own)
        regfree(re);
    *found = rc == 0;
    if (rc == 0) {
        *so = (size_t)m[0].rm_so;
        *eo = (size_t)m[0].rm_eo;
        if (sub_so) {
            bool has = nsub ? *nsub > 0 : true;
            *sub_so = has && m[1].rm_so >= 0 ? (long)m[1].rm_so : -1;
            *sub_eo = has && m[1].rm_so >= 0 ? (long)m[1].rm_eo : -1;
        }
    }
    return DC_OK;
}

int sql_rx_match(const uint8_t *s, size_t slen, const uint8_t *p, size_t plen,
                 bool icase, bool *match, dc_error *err)
{
    size_t so, eo;
    return sql_rx_find(s, slen, p, plen, icase, 0, match, &so, &eo, NULL, NULL,
                       NULL, err);
}
