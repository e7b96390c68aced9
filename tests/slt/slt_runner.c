/*
 * slt_runner.c - runs sqllogictest files against the SQL engine in-process
 * or against PostgreSQL.
 *
 *   slt_runner (--config FILE | --pg CONNINFO) [options] FILE.test...
 *
 * options:
 *   --work-dir DIR         where in-process data directories are made
 *                          (default $TMPDIR or /tmp)
 *   --only LIST            run only the records whose line numbers LIST
 *                          holds (one test file)
 *   --only-dir DIR         the same with DIR/<name>.pass for each file
 *                          <name>.test
 *   --list-passing FILE    write the line numbers of the records that
 *                          passed (one test file)
 *   --show N               print the first N failures of each file
 *                          (default 10)
 *
 * The format (see the corpus README): records separated by blank lines;
 * "statement ok", "statement error", "query <types> [<sort>] [<label>]"
 * with the SQL, then "----" and the expected values one per line or
 * "N values hashing to MD5"; "hash-threshold N"; "halt"; "skipif ENGINE"
 * and "onlyif ENGINE" before a record (this runner is "postgresql").
 * Values: NULL prints as "NULL"; I: integer (true/false as 1/0, reals
 * truncated), R: "%.3f", T: text with "(empty)" for '' and characters
 * outside ' '..'~' as '@'.  rowsort sorts rows, valuesort every value.
 * A record's id is the line number of its statement/query line.
 *
 * Each file runs in a fresh database.  Prints per file the records
 * passed, failed and skipped; exit status 1 when any record that ran
 * failed, 2 for usage or setup errors.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "slt.h"

#define ENGINE "postgresql"

/* ---- results ----------------------------------------------------------------
 */

void slt_result_init(slt_result *r, size_t ncols, const uint32_t *types)
{
    memset(r, 0, sizeof *r);
    r->ncols = ncols;
    r->types = calloc(ncols ? ncols : 1, sizeof *r->types);
    if (r->types && types)
        memcpy(r->types, types, ncols * sizeof *types);
}

void slt_result_add(slt_result *r, char *const *cells, const size_t *lens)
{
    if (r->nrows == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 16;
        char **n =
            realloc(r->cells, cap * (r->ncols ? r->ncols : 1) * sizeof *n);
        if (n == NULL) {
            fprintf(stderr, "slt: out of memory\n");
            exit(2);
        }
        r->cells = n;
        r->cap = cap;
    }
    for (size_t c = 0; c < r->ncols; c++) {
        char *s = NULL;
        if (cells[c] != NULL) {
            s = malloc(lens[c] + 1);
            if (s == NULL) {
                fprintf(stderr, "slt: out of memory\n");
                exit(2);
            }
            memcpy(s, cells[c], lens[c]);
            s[lens[c]] = '\0';
        }
        r->cells[r->nrows * r->ncols + c] = s;
    }
    r->nrows++;
}

void slt_result_free(slt_result *r)
{
    for (size_t i = 0; i < r->nrows * r->ncols; i++)
        free(r->cells[i]);
    free(r->cells);
    free(r->types);
    memset(r, 0, sizeof *r);
}

/* ---- a growable list of strings -------------------------------------------
 */

typedef struct strv {
    char **v;
    size_t n, cap;
} strv;

static void strv_push(strv *s, char *str)
{
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 16;
        s->v = realloc(s->v, s->cap * sizeof *s->v);
        if (s->v == NULL) {
            fprintf(stderr, "slt: out of memory\n");
            exit(2);
        }
    }
    s->v[s->n++] = str;
}

static void strv_free(strv *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->v[i]);
    free(s->v);
    memset(s, 0, sizeof *s);
}

static char *xstrdup(const char *s)
{
    char *d = strdup(s);
    if (d == NULL) {
        fprintf(stderr, "slt: out of memory\n");
        exit(2);
    }
    return d;
}

/* ---- value formatting ------------------------------------------------------
 */

enum { OID_BOOL = 16 };

static char *format_value(const char *v, uint32_t type, char kind)
{
    if (v == NULL)
        return xstrdup("NULL");
    char buf[64];
    bool is_bool = type == OID_BOOL;
    switch (kind) {
    case 'I': {
        if (is_bool)
            return xstrdup(v[0] == 't' ? "1" : "0");
        char *end;
        errno = 0;
        long long i = strtoll(v, &end, 10);
        if (*end == '.' || *end == 'e' || *end == 'E') {
            double d = strtod(v, NULL);
            i = isfinite(d) ? (long long)d : 0;
        }
        snprintf(buf, sizeof buf, "%lld", i);
        return xstrdup(buf);
    }
    case 'R': {
        double d = is_bool ? (v[0] == 't') : strtod(v, NULL);
        snprintf(buf, sizeof buf, "%.3f", d);
        return xstrdup(buf);
    }
    default: {
        if (v[0] == '\0')
            return xstrdup("(empty)");
        char *s = xstrdup(v);
        for (char *p = s; *p; p++)
            if ((unsigned char)*p < ' ' || (unsigned char)*p > '~')
                *p = '@';
        return s;
    }
    }
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static size_t sort_ncols; /* row width for cmp_row */

static int cmp_row(const void *a, const void *b)
{
    char *const *x = *(char **const *)a, *const *y = *(char **const *)b;
    for (size_t i = 0; i < sort_ncols; i++) {
        int c = strcmp(x[i], y[i]);
        if (c)
            return c;
    }
    return 0;
}

/* The values of res as the record's types say, sorted as asked. */
static void result_values(const slt_result *res, const char *types,
                          const char *sort, strv *out)
{
    size_t nc = res->ncols;
    char **vals = calloc(res->nrows * nc + 1, sizeof *vals);
    if (vals == NULL) {
        fprintf(stderr, "slt: out of memory\n");
        exit(2);
    }
    for (size_t r = 0; r < res->nrows; r++)
        for (size_t c = 0; c < nc; c++)
            vals[r * nc + c] =
                format_value(res->cells[r * nc + c], res->types[c],
                             c < strlen(types) ? types[c] : 'T');
    if (strcmp(sort, "rowsort") == 0 && nc > 0) {
        char ***rows = calloc(res->nrows + 1, sizeof *rows);
        for (size_t r = 0; r < res->nrows; r++)
            rows[r] = vals + r * nc;
        sort_ncols = nc;
        qsort(rows, res->nrows, sizeof *rows, cmp_row);
        for (size_t r = 0; r < res->nrows; r++)
            for (size_t c = 0; c < nc; c++)
                strv_push(out, rows[r][c]);
        free(rows);
    } else {
        if (strcmp(sort, "valuesort") == 0)
            qsort(vals, res->nrows * nc, sizeof *vals, cmp_str);
        for (size_t i = 0; i < res->nrows * nc; i++)
            strv_push(out, vals[i]);
    }
    free(vals);
}

static void hash_values(const strv *v, char out[33])
{
    slt_md5 m;
    slt_md5_init(&m);
    for (size_t i = 0; i < v->n; i++) {
        slt_md5_update(&m, v->v[i], strlen(v->v[i]));
        slt_md5_update(&m, "\n", 1);
    }
    slt_md5_hex(&m, out);
}

/* ---- the test file ----------------------------------------------------------
 */

typedef struct lines {
    char **v;
    size_t n;
    char *text;
} lines;

static int read_lines(const char *path, lines *out)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return -1;
    size_t cap = 1 << 16, n = 0;
    char *text = malloc(cap);
    size_t got;
    while (text && (got = fread(text + n, 1, cap - n - 1, f)) > 0) {
        n += got;
        if (n + 1 == cap)
            text = realloc(text, cap *= 2);
    }
    fclose(f);
    if (text == NULL)
        return -1;
    text[n] = '\0';
    size_t nl = 1;
    for (size_t i = 0; i < n; i++)
        nl += text[i] == '\n';
    out->v = calloc(nl + 1, sizeof *out->v);
    out->n = 0;
    out->text = text;
    char *p = text;
    while (p < text + n) {
        char *e = strchr(p, '\n');
        if (e)
            *e = '\0';
        size_t l = strlen(p);
        while (l > 0 &&
               (p[l - 1] == '\r' || p[l - 1] == ' ' || p[l - 1] == '\t'))
            p[--l] = '\0';
        out->v[out->n++] = p;
        if (e == NULL)
            break;
        p = e + 1;
    }
    return 0;
}

/* The set of record ids to run (--only). */
typedef struct idset {
    long *v;
    size_t n;
} idset;

static int cmp_long(const void *a, const void *b)
{
    long x = *(const long *)a, y = *(const long *)b;
    return (x > y) - (x < y);
}

static int read_ids(const char *path, idset *s)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return -1;
    size_t cap = 256;
    s->v = malloc(cap * sizeof *s->v);
    s->n = 0;
    long id;
    while (fscanf(f, "%ld", &id) == 1) {
        if (s->n == cap)
            s->v = realloc(s->v, (cap *= 2) * sizeof *s->v);
        s->v[s->n++] = id;
    }
    fclose(f);
    qsort(s->v, s->n, sizeof *s->v, cmp_long);
    return 0;
}

static bool idset_has(const idset *s, long id)
{
    return bsearch(&id, s->v, s->n, sizeof *s->v, cmp_long) != NULL;
}

/* ---- running a file
 * ---------------------------------------------------------- */

typedef struct labels {
    char **name;
    char **hash;
    size_t n;
} labels;

typedef struct run_opts {
    const idset *only;
    FILE *passing;
    int show;
} run_opts;

typedef struct counts {
    long passed, failed, skipped;
} counts;

typedef struct file_run {
    const char *path;
    lines ln;
    size_t at; /* next line                             */
    slt_backend *be;
    const run_opts *o;
    counts n;
    long hash_threshold;
    labels lab;
    int shown;
} file_run;

/* The first token of s after skipping `skip` tokens, into out. */
static void token(const char *s, int skip, char *out, size_t cap)
{
    for (int i = 0; i <= skip; i++) {
        while (*s == ' ' || *s == '\t')
            s++;
        size_t n = strcspn(s, " \t");
        if (i == skip) {
            snprintf(out, cap, "%.*s", (int)n, s);
            return;
        }
        s += n;
    }
}

/* Lines [from, to) joined with newlines. */
static char *join(const lines *ln, size_t from, size_t to)
{
    size_t total = 1;
    for (size_t i = from; i < to; i++)
        total += strlen(ln->v[i]) + 1;
    char *s = malloc(total);
    if (s == NULL) {
        fprintf(stderr, "slt: out of memory\n");
        exit(2);
    }
    size_t at = 0;
    for (size_t i = from; i < to; i++) {
        size_t l = strlen(ln->v[i]);
        memcpy(s + at, ln->v[i], l);
        at += l;
        if (i + 1 < to)
            s[at++] = '\n';
    }
    s[at] = '\0';
    return s;
}

static void print_lines(const char *head, char **v, size_t n)
{
    printf("  %s", head);
    if (n == 0)
        printf(" (nothing)");
    printf("\n");
    for (size_t i = 0; i < n && i < 20; i++)
        for (const char *p = v[i];;) {
            size_t l = strcspn(p, "\n");
            printf("    %.*s\n", (int)l, p);
            if (p[l] == '\0')
                break;
            p += l + 1;
        }
    if (n > 20)
        printf("    ... (%zu values)\n", n);
}

/* Report a failure (the first o->show of a file). */
static void report(file_run *fr, long id, const char *sql, const char *why,
                   char **want, size_t nwant, char **got, size_t ngot)
{
    fr->n.failed++;
    if (fr->shown >= fr->o->show)
        return;
    fr->shown++;
    printf("FAIL %s:%ld: %s\n", fr->path, id, why);
    printf("  sql:\n");
    for (const char *p = sql; *p;) {
        size_t l = strcspn(p, "\n");
        printf("    %.*s\n", (int)l, p);
        p += l + (p[l] == '\n');
    }
    if (want)
        print_lines("expected:", want, nwant);
    if (got)
        print_lines("got:", got, ngot);
}

static void pass(file_run *fr, long id)
{
    fr->n.passed++;
    if (fr->o->passing)
        fprintf(fr->o->passing, "%ld\n", id);
}

/* The end of the record body starting at line i (first blank line). */
static size_t body_end(const lines *ln, size_t i)
{
    while (i < ln->n && ln->v[i][0] != '\0')
        i++;
    return i;
}

static void run_statement(file_run *fr, long id, bool want_ok, const char *sql)
{
    char err[2048] = "";
    int rc = fr->be->run(fr->be->ud, sql, NULL, err, sizeof err);
    if ((rc == 0) == want_ok) {
        pass(fr, id);
        return;
    }
    char *got[1] = {err};
    if (want_ok)
        report(fr, id, sql, "statement failed", NULL, 0, got, 1);
    else
        report(fr, id, sql, "statement succeeded, expected an error", NULL, 0,
               NULL, 0);
}

/* The label's stored hash, or NULL (storing `hash` when new). */
static const char *label_hash(labels *l, const char *name, const char *hash)
{
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->name[i], name) == 0)
            return l->hash[i];
    l->name = realloc(l->name, (l->n + 1) * sizeof *l->name);
    l->hash = realloc(l->hash, (l->n + 1) * sizeof *l->hash);
    l->name[l->n] = xstrdup(name);
    l->hash[l->n] = xstrdup(hash);
    l->n++;
    return NULL;
}

/* Compare got with the expected lines; why gets the reason on mismatch. */
static bool matches(const strv *got, char **want, size_t nwant,
                    const char **why)
{
    long n;
    char hash[64];
    if (nwant == 1 &&
        sscanf(want[0], "%ld values hashing to %63s", &n, hash) == 2) {
        char h[33];
        hash_values(got, h);
        if ((size_t)n != got->n) {
            *why = "wrong number of values";
            return false;
        }
        if (strcmp(h, hash) != 0) {
            *why = "wrong values (hash mismatch)";
            return false;
        }
        return true;
    }
    if (nwant != got->n) {
        *why = "wrong number of values";
        return false;
    }
    for (size_t i = 0; i < nwant; i++)
        if (strcmp(want[i], got->v[i]) != 0) {
            *why = "wrong values";
            return false;
        }
    return true;
}

static void run_query(file_run *fr, long id, const char *header,
                      const char *sql, char **want, size_t nwant,
                      bool has_results)
{
    char types[256], sort[64], label[128];
    token(header, 1, types, sizeof types);
    token(header, 2, sort, sizeof sort);
    token(header, 3, label, sizeof label);
    if (sort[0] == '\0')
        snprintf(sort, sizeof sort, "nosort");
    slt_result res;
    char err[2048] = "";
    if (fr->be->run(fr->be->ud, sql, &res, err, sizeof err) != 0) {
        char *got[1] = {err};
        report(fr, id, sql, "query failed", want, nwant, got, 1);
        return;
    }
    strv got = {0};
    const char *why = NULL;
    char gothash[33];
    if (res.ncols != strlen(types)) {
        char msg[128];
        snprintf(msg, sizeof msg, "%zu columns, the record expects %zu",
                 res.ncols, strlen(types));
        result_values(&res, types, sort, &got);
        report(fr, id, sql, msg, want, nwant, got.v, got.n);
        goto out;
    }
    result_values(&res, types, sort, &got);
    hash_values(&got, gothash);
    if (has_results && !matches(&got, want, nwant, &why)) {
        report(fr, id, sql, why, want, nwant, got.v, got.n);
        goto out;
    }
    if (label[0]) {
        const char *h = label_hash(&fr->lab, label, gothash);
        if (h != NULL && strcmp(h, gothash) != 0) {
            report(fr, id, sql,
                   "result differs from an earlier query with the same label",
                   NULL, 0, got.v, got.n);
            goto out;
        }
    }
    pass(fr, id);
out:
    strv_free(&got);
    slt_result_free(&res);
}

/* skipif/onlyif lines gathered before a record: true when it must be
 * skipped here. */
static bool condition_skips(const char *line, bool skip)
{
    char kw[32], engine[64];
    token(line, 0, kw, sizeof kw);
    token(line, 1, engine, sizeof engine);
    if (strcmp(kw, "skipif") == 0 && strcmp(engine, ENGINE) == 0)
        return true;
    if (strcmp(kw, "onlyif") == 0 && strcmp(engine, ENGINE) != 0)
        return true;
    return skip;
}

/* Run one record starting at fr->at; false at "halt". */
static bool run_record(file_run *fr)
{
    const lines *ln = &fr->ln;
    bool skip = false;
    while (fr->at < ln->n && (strncmp(ln->v[fr->at], "skipif ", 7) == 0 ||
                              strncmp(ln->v[fr->at], "onlyif ", 7) == 0))
        skip = condition_skips(ln->v[fr->at++], skip);
    if (fr->at >= ln->n)
        return false;
    const char *head = ln->v[fr->at];
    long id = (long)fr->at + 1;
    char kw[32];
    token(head, 0, kw, sizeof kw);
    if (strcmp(kw, "halt") == 0) {
        fr->at++;
        return skip;
    }
    if (strcmp(kw, "hash-threshold") == 0) {
        fr->hash_threshold = strtol(head + 14, NULL, 10);
        fr->at++;
        return true;
    }
    size_t end = body_end(ln, fr->at + 1);
    bool is_stmt = strcmp(kw, "statement") == 0,
         is_query = strcmp(kw, "query") == 0;
    if (!is_stmt && !is_query) {
        printf("%s:%ld: unknown record \"%s\", skipped\n", fr->path, id, head);
        fr->n.skipped++;
        fr->at = end;
        return true;
    }
    size_t sep = fr->at + 1;
    while (sep < end && strcmp(ln->v[sep], "----") != 0)
        sep++;
    if (skip || (fr->o->only && !idset_has(fr->o->only, id))) {
        fr->n.skipped++;
        fr->at = end;
        return true;
    }
    char *sql = join(ln, fr->at + 1, sep);
    if (is_stmt) {
        char what[32];
        token(head, 1, what, sizeof what);
        run_statement(fr, id, strcmp(what, "ok") == 0, sql);
    } else {
        size_t nwant = sep < end ? end - sep - 1 : 0;
        run_query(fr, id, head, sql, ln->v + sep + 1, nwant, sep < end);
    }
    free(sql);
    fr->at = end;
    return true;
}

static int run_file(slt_backend *be, const char *path, const run_opts *o,
                    counts *total)
{
    file_run fr;
    memset(&fr, 0, sizeof fr);
    fr.path = path;
    fr.be = be;
    fr.o = o;
    if (read_lines(path, &fr.ln) != 0) {
        fprintf(stderr, "slt: %s: %s\n", path, strerror(errno));
        return 2;
    }
    char err[2048] = "";
    if (be->begin_file(be->ud, err, sizeof err) != 0) {
        fprintf(stderr, "slt: %s: cannot make a fresh database: %s\n", path,
                err);
        free(fr.ln.v);
        free(fr.ln.text);
        return 2;
    }
    for (;;) {
        while (fr.at < fr.ln.n &&
               (fr.ln.v[fr.at][0] == '\0' || fr.ln.v[fr.at][0] == '#'))
            fr.at++;
        if (fr.at >= fr.ln.n || !run_record(&fr))
            break;
    }
    /* Records after a "halt" count as skipped. */
    for (; fr.at < fr.ln.n; fr.at++)
        if (strncmp(fr.ln.v[fr.at], "statement ", 10) == 0 ||
            strncmp(fr.ln.v[fr.at], "query ", 6) == 0)
            fr.n.skipped++;
    be->end_file(be->ud);
    printf("%s: %ld passed, %ld failed, %ld skipped\n", path, fr.n.passed,
           fr.n.failed, fr.n.skipped);
    fflush(stdout);
    total->passed += fr.n.passed;
    total->failed += fr.n.failed;
    total->skipped += fr.n.skipped;
    for (size_t i = 0; i < fr.lab.n; i++) {
        free(fr.lab.name[i]);
        free(fr.lab.hash[i]);
    }
    free(fr.lab.name);
    free(fr.lab.hash);
    free(fr.ln.v);
    free(fr.ln.text);
    return fr.n.failed ? 1 : 0;
}

/* ---- command line
 * -------------------------------------------------------------- */

static const char USAGE[] =
    "usage: slt_runner (--config FILE | --pg CONNINFO) [--work-dir DIR]\n"
    "                  [--only LIST | --only-dir DIR] [--list-passing FILE]\n"
    "                  [--show N] FILE.test...\n";

/* DIR/<name>.pass for test file path (name without ".test"). */
static char *pass_file(const char *dir, const char *path)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    size_t n = strlen(base);
    if (n > 5 && strcmp(base + n - 5, ".test") == 0)
        n -= 5;
    char *s = malloc(strlen(dir) + n + 8);
    if (s == NULL)
        exit(2);
    sprintf(s, "%s/%.*s.pass", dir, (int)n, base);
    return s;
}

int main(int argc, char **argv)
{
    const char *config = NULL, *pg = NULL, *only = NULL, *only_dir = NULL;
    const char *passing = NULL, *work = getenv("TMPDIR");
    int show = 10;
    strv files = {0};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        bool has_val = i + 1 < argc;
        if (strcmp(a, "--config") == 0 && has_val)
            config = argv[++i];
        else if (strcmp(a, "--pg") == 0 && has_val)
            pg = argv[++i];
        else if (strcmp(a, "--work-dir") == 0 && has_val)
            work = argv[++i];
        else if (strcmp(a, "--only") == 0 && has_val)
            only = argv[++i];
        else if (strcmp(a, "--only-dir") == 0 && has_val)
            only_dir = argv[++i];
        else if (strcmp(a, "--list-passing") == 0 && has_val)
            passing = argv[++i];
        else if (strcmp(a, "--show") == 0 && has_val)
            show = atoi(argv[++i]);
        else if (a[0] == '-') {
            fprintf(stderr, "slt: bad option %s\n%s", a, USAGE);
            return 2;
        } else
            strv_push(&files, xstrdup(a));
    }
    if ((config == NULL) == (pg == NULL) || files.n == 0 ||
        ((only || passing) && files.n != 1) || (only && only_dir)) {
        fputs(USAGE, stderr);
        strv_free(&files);
        return 2;
    }
    slt_backend be;
    char err[2048] = "";
    int rc = config ? slt_embed_backend(config, work && work[0] ? work : "/tmp",
                                        &be, err, sizeof err)
                    : slt_pg_backend(pg, &be, err, sizeof err);
    if (rc != 0) {
        fprintf(stderr, "slt: %s\n", err);
        strv_free(&files);
        return 2;
    }
    run_opts o = {.show = show};
    FILE *pf = NULL;
    if (passing && (pf = fopen(passing, "w")) == NULL) {
        fprintf(stderr, "slt: %s: %s\n", passing, strerror(errno));
        be.free(be.ud);
        strv_free(&files);
        return 2;
    }
    o.passing = pf;
    counts total = {0};
    int status = 0;
    for (size_t i = 0; i < files.n; i++) {
        idset ids = {0};
        const char *list = only;
        char *lf = only_dir ? pass_file(only_dir, files.v[i]) : NULL;
        if (lf)
            list = lf;
        if (list && read_ids(list, &ids) != 0) {
            fprintf(stderr, "slt: %s: %s\n", list, strerror(errno));
            status = 2;
            free(lf);
            continue;
        }
        o.only = list ? &ids : NULL;
        int r = run_file(&be, files.v[i], &o, &total);
        if (r > status)
            status = r;
        free(ids.v);
        free(lf);
    }
    if (files.n > 1)
        printf("total: %ld passed, %ld failed, %ld skipped\n", total.passed,
               total.failed, total.skipped);
    if (pf)
        fclose(pf);
    be.free(be.ud);
    strv_free(&files);
    return status;
}
