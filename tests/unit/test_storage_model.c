/*
 * test_storage_model.c - a storage module checked through its vtable
 * against a simple model.
 *
 * Which modules: the .so files named in DATACAVE_STORAGE_MODULES (space
 * separated), else every one of $DATACAVE_BUILD/modules/memory.so and
 * $DATACAVE_BUILD/modules/lsm.so that exists (DATACAVE_BUILD defaults to
 * "build").  No module at all is a failure.  Each module is loaded through
 * the host's loader as the server would (config, load, resolve, init) and
 * gets the whole suite.  A module named "memory" is not durable: its store
 * starts empty on every open; every other module must keep its data across
 * close and open.
 *
 * What is checked:
 *   - a randomized run (thousands of ops, seed printed, DATACAVE_SEED to
 *     replay; DATACAVE_MODEL_OPS to change the count) of puts, deletes,
 *     range deletes, multi-op batches, gets, full and bounded scans both
 *     ways, random seek/next/prev walks, snapshots (reads at them, compared
 *     with a copy of the model taken when they were acquired), iterators
 *     that must keep the state they were opened at while writes go on,
 *     flush/compact, and close + reopen; every read is compared with the
 *     model (a value per key of a fixed key pool);
 *   - key_seq (exact for memory; for other engines exact for live keys),
 *     DC_ENOTFOUND, batch seqs (last + 1), stats.last_seq;
 *   - bounds: lower inclusive, upper exclusive, on keys that are prefixes
 *     of each other and on bytes 0x00 and 0xff;
 *   - concurrency: writer threads on disjoint key ranges, each batch
 *     writing one tagged value to all its keys (with range deletes and
 *     shadowed same-batch puts), while reader threads check that every
 *     snapshot and every iterator sees whole batches only;
 *   - memory only: versions no snapshot can see are freed (memtable_bytes
 *     stays flat under overwrites, and falls back after snapshots go).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "datacave/storage.h"
#include "loader.h"
#include "util.h"

/* ==== the engine under test =============================================== */

typedef struct engine {
    const char *so;     /* the module file */
    char dir[PATH_MAX]; /* temp dir: data_dir and store paths */
    dc_config *cfg;
    dc_runtime *rt;
    const dc_storage_vtable *vt;
    void *inst;
    const char *name; /* the module's descriptor name */
    bool durable;     /* data survives close + open */
    bool strict;      /* memory: exact rules of its header */
    bool reverse;     /* seek_last, seek_for_prev, prev */
    const char *storage_extra; /* more [storage] keys, or NULL */
    const char *module_extra;  /* a [module.<name>] section, or NULL */
} engine;

static engine E;
static uint64_t base_seed = 20240601;
static unsigned long model_ops = 40000;
static const char *cur_test = "";
static unsigned long cur_op;

/* ---- failure reporting (main thread only) -------------------------------- */

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static void
report(int line, const char *cond, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fail_msg("module %s (%s), seed %" PRIu64 ", %s, op %lu, line %d: %s: %s",
             E.name ? E.name : "?", E.so ? E.so : "?", base_seed, cur_test,
             cur_op, line, cond, msg);
}

#define CHECK(cond, ...)                                                       \
    do {                                                                       \
        if (!(cond))                                                           \
            report(__LINE__, #cond, __VA_ARGS__);                              \
    } while (0)

/* Printable hex of a key, for messages: a static buffer per call slot. */
static const char *hex(const uint8_t *p, size_t n)
{
    static char bufs[4][96];
    static int slot;
    char *b = bufs[slot++ & 3];
    size_t o = 0;
    if (p == NULL && n == 0)
        return "(null)";
    b[o++] = '\'';
    for (size_t i = 0; i < n && o + 4 < sizeof bufs[0]; i++)
        o += (size_t)snprintf(b + o, sizeof bufs[0] - o, "%02x", p[i]);
    if (o + 2 < sizeof bufs[0])
        b[o++] = '\'';
    b[o] = '\0';
    return b;
}

/* ---- random numbers ------------------------------------------------------ */

static uint64_t rng;

/* splitmix64: fine statistics, trivially reproducible. */
static uint64_t rnd(void)
{
    uint64_t z = (rng += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint64_t rnd_below(uint64_t n)
{
    return n ? rnd() % n : 0;
}

static bool chance(unsigned pct)
{
    return rnd_below(100) < pct;
}

/* ---- keys ---------------------------------------------------------------- */

typedef struct bytes {
    uint8_t *p;
    size_t n;
} bytes;

static int key_cmp(const uint8_t *a, size_t an, const uint8_t *b, size_t bn)
{
    size_t n = an < bn ? an : bn;
    int c = n ? memcmp(a, b, n) : 0;
    if (c != 0)
        return c;
    return an < bn ? -1 : an > bn ? 1 : 0;
}

static bool bytes_eq(const uint8_t *a, size_t an, const uint8_t *b, size_t bn)
{
    return an == bn && (an == 0 || memcmp(a, b, an) == 0);
}

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (p == NULL)
        abort();
    return p;
}

static bytes bytes_dup(const uint8_t *p, size_t n)
{
    bytes b = {xmalloc(n), n};
    if (n)
        memcpy(b.p, p, n);
    return b;
}

#define MAX_KEY 10
/* Bytes keys are made of: the extremes, and neighbours, to catch signed
 * comparisons and prefix mistakes. */
static const uint8_t ALPHABET[] = {0x00, 0x01, 'a', 'b', 0x7f, 0x80, 0xff};

static void rand_key(uint8_t *buf, size_t *n)
{
    *n = rnd_below(MAX_KEY + 1);
    for (size_t i = 0; i < *n; i++)
        buf[i] = ALPHABET[rnd_below(sizeof ALPHABET)];
}

/* The key pool: every key the random run writes, sorted, distinct. */
static bytes *pool;
static size_t npool;

static int pool_sort_cmp(const void *a, const void *b)
{
    const bytes *x = a, *y = b;
    return key_cmp(x->p, x->n, y->p, y->n);
}

static void pool_free(void)
{
    for (size_t i = 0; i < npool; i++)
        free(pool[i].p);
    free(pool);
    pool = NULL;
    npool = 0;
}

/* A pool of `n` distinct random keys, the empty key among them. */
static void pool_make(size_t n)
{
    pool_free();
    pool = xmalloc(n * sizeof *pool);
    pool[npool++] = bytes_dup(NULL, 0);
    while (npool < n) {
        uint8_t k[MAX_KEY];
        size_t kn;
        rand_key(k, &kn);
        bool dup = false;
        for (size_t i = 0; i < npool && !dup; i++)
            dup = bytes_eq(pool[i].p, pool[i].n, k, kn);
        if (!dup)
            pool[npool++] = bytes_dup(k, kn);
    }
    qsort(pool, npool, sizeof *pool, pool_sort_cmp);
}

/* Index of `key` in the pool, or -1. */
static long pool_find(const uint8_t *key, size_t n)
{
    size_t lo = 0, hi = npool;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = key_cmp(pool[mid].p, pool[mid].n, key, n);
        if (c == 0)
            return (long)mid;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

/* An optional key: an iterator bound, a seek target, a range end. */
typedef struct bound {
    bool set;
    uint8_t buf[MAX_KEY + 4];
    size_t n;
} bound;

/* A random bound: none with probability pct_none, else a pool key or a
 * random key (often not in the pool). */
static void rand_bound(bound *b, unsigned pct_none)
{
    b->set = !chance(pct_none);
    b->n = 0;
    if (!b->set)
        return;
    if (chance(50)) {
        const bytes *k = &pool[rnd_below(npool)];
        memcpy(b->buf, k->p, k->n);
        b->n = k->n;
    } else {
        rand_key(b->buf, &b->n);
    }
}

static const uint8_t *bp(const bound *b)
{
    return b->set ? b->buf : NULL;
}

/* True when key is inside [lo, hi) (unset bounds are open). */
static bool in_bounds(const uint8_t *k, size_t n, const bound *lo,
                      const bound *hi)
{
    if (lo->set && key_cmp(k, n, lo->buf, lo->n) < 0)
        return false;
    if (hi->set && key_cmp(k, n, hi->buf, hi->n) >= 0)
        return false;
    return true;
}

static const bound NO_BOUND = {.set = false};

/* ==== the model =========================================================== */

typedef struct model {
    bool *live;     /* per pool key */
    bytes *val;     /* value of a live key */
    uint64_t *kseq; /* what key_seq must say (memory's rules: the
                       last put/delete, or the range delete that
                       removed it while live) */
    uint64_t seq;   /* the last batch */
} model;

static void model_init(model *m)
{
    m->live = calloc(npool, sizeof *m->live);
    m->val = calloc(npool, sizeof *m->val);
    m->kseq = calloc(npool, sizeof *m->kseq);
    if (!m->live || !m->val || !m->kseq)
        abort();
    m->seq = 0;
}

static void model_free(model *m)
{
    if (m->val)
        for (size_t i = 0; i < npool; i++)
            free(m->val[i].p);
    free(m->live);
    free(m->val);
    free(m->kseq);
    memset(m, 0, sizeof *m);
}

static void model_copy(model *dst, const model *src)
{
    model_init(dst);
    for (size_t i = 0; i < npool; i++) {
        dst->live[i] = src->live[i];
        dst->kseq[i] = src->kseq[i];
        if (src->live[i])
            dst->val[i] = bytes_dup(src->val[i].p, src->val[i].n);
    }
    dst->seq = src->seq;
}

/* Everything gone: what a non-durable engine looks like after reopen. */
static void model_reset(model *m)
{
    model_free(m);
    model_init(m);
}

static void model_kill(model *m, size_t i)
{
    m->live[i] = false;
    free(m->val[i].p);
    m->val[i].p = NULL;
    m->val[i].n = 0;
}

/* Apply a committed batch at `seq`, as the engine must have. */
static void model_apply(model *m, const dc_batch_op *ops, size_t nops,
                        uint64_t seq)
{
    for (size_t o = 0; o < nops; o++) {
        const dc_batch_op *op = &ops[o];
        if (op->op == DC_OP_DELETE_RANGE) {
            for (size_t i = 0; i < npool; i++) {
                if (m->live[i] &&
                    key_cmp(pool[i].p, pool[i].n, op->key, op->key_len) >= 0 &&
                    key_cmp(pool[i].p, pool[i].n, op->value, op->value_len) <
                        0) {
                    model_kill(m, i);
                    m->kseq[i] = seq;
                }
            }
            continue;
        }
        long i = pool_find(op->key, op->key_len);
        assert_true(i >= 0);
        if (op->op == DC_OP_PUT) {
            free(m->val[i].p);
            m->val[i] = bytes_dup(op->value, op->value_len);
            m->live[i] = true;
        } else {
            model_kill(m, (size_t)i);
        }
        m->kseq[i] = seq;
    }
    m->seq = seq;
}

/* Indexes of the live keys inside [lo, hi), in key order. */
static size_t model_expected(const model *m, const bound *lo, const bound *hi,
                             size_t *out)
{
    size_t n = 0;
    for (size_t i = 0; i < npool; i++)
        if (m->live[i] && in_bounds(pool[i].p, pool[i].n, lo, hi))
            out[n++] = i;
    return n;
}

/* ==== store helpers ======================================================= */

static void store_path(char *buf, size_t n, const char *name)
{
    snprintf(buf, n, "%s/%s", E.dir, name);
}

static dc_store *store_open(const char *name)
{
    char path[PATH_MAX + 64];
    store_path(path, sizeof path, name);
    dc_store_options o = {
        .size = sizeof o, .path = path, .create_if_missing = true};
    dc_store *s = NULL;
    dc_error err;
    dc_error_init(&err);
    int rc = E.vt->open(E.inst, &o, &s, &err);
    CHECK(rc == DC_OK && s != NULL, "open %s: %d %s", path, rc, err.message);
    return s;
}

static dc_read_options mk_ro(const dc_snapshot *snap, const bound *lo,
                             const bound *hi)
{
    dc_read_options ro = {.size = sizeof ro, .snapshot = snap};
    if (lo->set) {
        ro.lower = lo->buf;
        ro.lower_len = lo->n;
    }
    if (hi->set) {
        ro.upper = hi->buf;
        ro.upper_len = hi->n;
    }
    return ro;
}

/* Collects what get() hands to its callback. */
typedef struct got {
    int calls;
    uint8_t *p;
    size_t n;
} got;

static int collect(void *ud, const uint8_t *v, size_t len)
{
    got *g = ud;
    g->calls++;
    free(g->p);
    g->p = xmalloc(len);
    if (len)
        memcpy(g->p, v, len);
    g->n = len;
    return 0;
}

static uint64_t last_seq_stat(dc_store *s)
{
    dc_store_stats st = {.size = sizeof st};
    CHECK(E.vt->stats(s, &st) == DC_OK, "stats failed");
    return st.last_seq;
}

static bool has_stats(void)
{
    return DC_HAS_FIELD(E.vt, dc_storage_vtable, stats) && E.vt->stats;
}

/* One write through the vtable; the batch must commit as m->seq + 1. */
static uint64_t write_ok(dc_store *s, model *m, const dc_batch_op *ops,
                         size_t nops)
{
    static const uint32_t modes[] = {DC_SYNC_DEFAULT, DC_SYNC_NONE,
                                     DC_SYNC_DEFAULT, DC_SYNC_ALWAYS};
    dc_write_options wo = {.size = sizeof wo,
                           .sync = modes[rnd_below(chance(10) ? 4 : 3)]};
    uint64_t seq = 0;
    dc_error err;
    dc_error_init(&err);
    int rc = E.vt->write(s, &wo, ops, nops, &seq, &err);
    CHECK(rc == DC_OK, "write of %zu ops: %d %s", nops, rc, err.message);
    CHECK(seq == m->seq + 1, "batch seq %" PRIu64 ", expected %" PRIu64, seq,
          m->seq + 1);
    model_apply(m, ops, nops, seq);
    return seq;
}

/* ==== checks ============================================================== */

static void check_get(dc_store *s, const dc_snapshot *snap, const model *m,
                      size_t i)
{
    dc_read_options ro = mk_ro(snap, &NO_BOUND, &NO_BOUND);
    got g = {0};
    dc_error err;
    dc_error_init(&err);
    int rc = E.vt->get(s, &ro, pool[i].p, pool[i].n, collect, &g, &err);
    if (m->live[i]) {
        CHECK(rc == DC_OK, "get %s%s: %d %s", hex(pool[i].p, pool[i].n),
              snap ? " at snapshot" : "", rc, err.message);
        CHECK(g.calls == 1, "callback called %d times", g.calls);
        CHECK(bytes_eq(g.p, g.n, m->val[i].p, m->val[i].n),
              "get %s%s: value %s (%zu bytes), expected %s (%zu bytes)",
              hex(pool[i].p, pool[i].n), snap ? " at snapshot" : "",
              hex(g.p, g.n), g.n, hex(m->val[i].p, m->val[i].n), m->val[i].n);
    } else {
        CHECK(rc == DC_ENOTFOUND,
              "get %s%s: %d, expected DC_ENOTFOUND (value %s)",
              hex(pool[i].p, pool[i].n), snap ? " at snapshot" : "", rc,
              hex(g.p, g.n));
        CHECK(g.calls == 0, "callback called for a missing key");
    }
    free(g.p);
}

static void check_key_seq(dc_store *s, const model *m, size_t i)
{
    uint64_t ks = UINT64_MAX;
    dc_error err;
    dc_error_init(&err);
    int rc = E.vt->key_seq(s, pool[i].p, pool[i].n, &ks, &err);
    CHECK(rc == DC_OK, "key_seq: %d %s", rc, err.message);
    if (E.strict || m->live[i])
        CHECK(ks == m->kseq[i],
              "key_seq %s = %" PRIu64 ", expected %" PRIu64 " (%s)",
              hex(pool[i].p, pool[i].n), ks, m->kseq[i],
              m->live[i] ? "live" : "deleted or never written");
    else
        CHECK(ks == 0 || (ks >= m->kseq[i] && ks <= m->seq),
              "key_seq %s = %" PRIu64 " of a deleted key, expected 0 or "
              "%" PRIu64 "..%" PRIu64,
              hex(pool[i].p, pool[i].n), ks, m->kseq[i], m->seq);
}

/* The iterator must be at exp[pos] (or invalid when pos is outside). */
static void check_pos(const dc_iter *it, const model *m, const size_t *exp,
                      size_t nexp, long pos, const char *what)
{
    bool valid = E.vt->iter_valid(it);
    const uint8_t *k = NULL, *v = NULL;
    size_t kn = 0, vn = 0;
    if (valid) {
        E.vt->iter_key(it, &k, &kn);
        E.vt->iter_value(it, &v, &vn);
    }
    if (pos < 0 || (size_t)pos >= nexp) {
        CHECK(!valid, "%s: iterator on %s, expected the end", what, hex(k, kn));
        return;
    }
    size_t i = exp[pos];
    CHECK(valid, "%s: iterator invalid, expected %s", what,
          hex(pool[i].p, pool[i].n));
    CHECK(bytes_eq(k, kn, pool[i].p, pool[i].n), "%s: key %s, expected %s",
          what, hex(k, kn), hex(pool[i].p, pool[i].n));
    CHECK(bytes_eq(v, vn, m->val[i].p, m->val[i].n),
          "%s: value of %s is %s (%zu bytes), expected %s (%zu bytes)", what,
          hex(k, kn), hex(v, vn), vn, hex(m->val[i].p, m->val[i].n),
          m->val[i].n);
}

static dc_iter *iter_open_ok(dc_store *s, const dc_snapshot *snap,
                             const bound *lo, const bound *hi)
{
    dc_read_options ro = mk_ro(snap, lo, hi);
    dc_iter *it = NULL;
    dc_error err;
    dc_error_init(&err);
    int rc = E.vt->iter_open(s, &ro, &it, &err);
    CHECK(rc == DC_OK && it != NULL, "iter_open: %d %s", rc, err.message);
    return it;
}

static void iter_close_ok(dc_iter *it)
{
    dc_error err;
    dc_error_init(&err);
    int rc = E.vt->iter_status(it, &err);
    CHECK(rc == DC_OK, "iter_status: %d %s", rc, err.message);
    E.vt->iter_close(it);
}

/* A whole scan of [lo, hi) one way, compared with the model. */
static void check_scan(dc_store *s, const dc_snapshot *snap, const model *m,
                       const bound *lo, const bound *hi, bool backward)
{
    if (backward && !E.reverse)
        backward = false;
    size_t *exp = xmalloc(npool * sizeof *exp);
    size_t n = model_expected(m, lo, hi, exp);
    char what[160];
    snprintf(what, sizeof what, "%s scan [%s, %s)%s",
             backward ? "backward" : "forward", hex(bp(lo), lo->n),
             hex(bp(hi), hi->n), snap ? " at snapshot" : "");
    dc_iter *it = iter_open_ok(s, snap, lo, hi);
    CHECK(!E.vt->iter_valid(it), "a new iterator must be unpositioned");
    if (!backward) {
        E.vt->iter_seek_first(it);
        for (size_t j = 0; j < n; j++) {
            check_pos(it, m, exp, n, (long)j, what);
            E.vt->iter_next(it);
        }
        check_pos(it, m, exp, n, (long)n, what);
    } else {
        E.vt->iter_seek_last(it);
        for (size_t j = n; j-- > 0;) {
            check_pos(it, m, exp, n, (long)j, what);
            E.vt->iter_prev(it);
        }
        check_pos(it, m, exp, n, -1, what);
    }
    iter_close_ok(it);
    free(exp);
}

/* First index in exp whose key is >= t (inclusive) or > t. */
static long exp_lower(const size_t *exp, size_t n, const bound *t, bool after)
{
    long j = 0;
    while ((size_t)j < n) {
        int c = key_cmp(pool[exp[j]].p, pool[exp[j]].n, t->buf, t->n);
        if (after ? c > 0 : c >= 0)
            break;
        j++;
    }
    return j;
}

/* A random walk of seeks and steps inside [lo, hi). */
static void check_walk(dc_store *s, const dc_snapshot *snap, const model *m,
                       const bound *lo, const bound *hi)
{
    size_t *exp = xmalloc(npool * sizeof *exp);
    size_t n = model_expected(m, lo, hi, exp);
    dc_iter *it = iter_open_ok(s, snap, lo, hi);
    long pos = -1;
    bool positioned = false;
    int steps = 1 + (int)rnd_below(24);
    for (int st = 0; st < steps; st++) {
        char what[200];
        bool on = positioned && pos >= 0 && (size_t)pos < n;
        unsigned r = (unsigned)rnd_below(100);
        bound t;
        rand_bound(&t, 0);
        if (on && r < 35) {
            E.vt->iter_next(it);
            pos++;
            snprintf(what, sizeof what, "next");
        } else if (on && r < 55 && E.reverse) {
            E.vt->iter_prev(it);
            pos--;
            snprintf(what, sizeof what, "prev");
        } else if (r < 70 || !E.reverse) {
            if (chance(15)) {
                E.vt->iter_seek_first(it);
                pos = 0;
                snprintf(what, sizeof what, "seek_first");
            } else {
                E.vt->iter_seek(it, t.buf, t.n);
                pos = exp_lower(exp, n, &t, false);
                snprintf(what, sizeof what, "seek %s", hex(t.buf, t.n));
            }
        } else {
            if (chance(20)) {
                E.vt->iter_seek_last(it);
                pos = (long)n - 1;
                snprintf(what, sizeof what, "seek_last");
            } else {
                E.vt->iter_seek_for_prev(it, t.buf, t.n);
                pos = exp_lower(exp, n, &t, true) - 1;
                snprintf(what, sizeof what, "seek_for_prev %s",
                         hex(t.buf, t.n));
            }
        }
        positioned = true;
        char full[400];
        snprintf(full, sizeof full, "walk in [%s, %s)%s, step %d: %s",
                 hex(bp(lo), lo->n), hex(bp(hi), hi->n),
                 snap ? " at snapshot" : "", st, what);
        check_pos(it, m, exp, n, pos, full);
    }
    iter_close_ok(it);
    free(exp);
}

/* Everything: each pool key's get and key_seq, and full scans. */
static void check_all(dc_store *s, const model *m)
{
    for (size_t i = 0; i < npool; i++) {
        check_get(s, NULL, m, i);
        check_key_seq(s, m, i);
    }
    check_scan(s, NULL, m, &NO_BOUND, &NO_BOUND, false);
    check_scan(s, NULL, m, &NO_BOUND, &NO_BOUND, true);
    if (has_stats()) {
        uint64_t ls = last_seq_stat(s);
        CHECK(ls == m->seq, "stats last_seq %" PRIu64 ", expected %" PRIu64, ls,
              m->seq);
    }
}

/* ==== the randomized run ================================================== */

#define MAX_OPS   12
#define MAX_SNAPS 5

typedef struct snap_slot {
    dc_snapshot *h;
    model m;
} snap_slot;

/* Values: mostly small, sometimes a few KB. */
static bytes rand_value(void)
{
    size_t n = chance(70)   ? rnd_below(33)
               : chance(85) ? 33 + rnd_below(300)
                            : 300 + rnd_below(5000);
    bytes b = {xmalloc(n), n};
    for (size_t i = 0; i < n; i++)
        b.p[i] = (uint8_t)rnd();
    return b;
}

/* Build and commit a random batch of 1..max_ops ops. */
static void random_batch(dc_store *s, model *m, size_t max_ops)
{
    dc_batch_op ops[MAX_OPS];
    bytes vals[MAX_OPS];
    bound rb[MAX_OPS], re[MAX_OPS];
    size_t n = 1 + rnd_below(max_ops);
    for (size_t o = 0; o < n; o++) {
        unsigned r = (unsigned)rnd_below(100);
        vals[o].p = NULL;
        const bytes *k = &pool[rnd_below(npool)];
        if (r < 60) {
            vals[o] = rand_value();
            ops[o] = (dc_batch_op){DC_OP_PUT, k->p, k->n, vals[o].p, vals[o].n};
        } else if (r < 85) {
            ops[o] = (dc_batch_op){DC_OP_DELETE, k->p, k->n, NULL, 0};
        } else {
            rand_bound(&rb[o], 0);
            if (chance(15)) {
                /* to the end: above every pool key */
                re[o].set = true;
                re[o].n = MAX_KEY + 1;
                memset(re[o].buf, 0xff, re[o].n);
            } else {
                rand_bound(&re[o], 0);
            }
            if (key_cmp(rb[o].buf, rb[o].n, re[o].buf, re[o].n) > 0) {
                bound t = rb[o];
                rb[o] = re[o];
                re[o] = t;
            }
            ops[o] = (dc_batch_op){DC_OP_DELETE_RANGE, rb[o].buf, rb[o].n,
                                   re[o].buf, re[o].n};
        }
    }
    write_ok(s, m, ops, n);
    for (size_t o = 0; o < n; o++)
        free(vals[o].p);
}

static void release_snaps(dc_store *s, snap_slot *snaps)
{
    for (int i = 0; i < MAX_SNAPS; i++) {
        if (snaps[i].h != NULL) {
            E.vt->snapshot_release(s, snaps[i].h);
            snaps[i].h = NULL;
            model_free(&snaps[i].m);
        }
    }
}

/* An iterator keeps the state it was opened at, and the key and value it
 * handed out stay valid while writes (to that very key) go on. */
static void check_iter_isolation(dc_store *s, model *m)
{
    model before;
    model_copy(&before, m);
    bound lo, hi;
    rand_bound(&lo, 60);
    rand_bound(&hi, 60);
    size_t *exp = xmalloc(npool * sizeof *exp);
    size_t n = model_expected(&before, &lo, &hi, exp);
    dc_iter *it = iter_open_ok(s, NULL, &lo, &hi);
    /* Writes between open and the first seek must not show either. */
    if (chance(50))
        random_batch(s, m, 4);
    E.vt->iter_seek_first(it);
    check_pos(it, &before, exp, n, 0, "isolated iterator, first");
    if (n > 0) {
        const uint8_t *k, *v;
        size_t kn, vn;
        E.vt->iter_key(it, &k, &kn);
        E.vt->iter_value(it, &v, &vn);
        bytes kc = bytes_dup(k, kn), vc = bytes_dup(v, vn);
        /* Overwrite and delete the very key the iterator is on. */
        bytes nv = rand_value();
        dc_batch_op ov = {DC_OP_PUT, pool[exp[0]].p, pool[exp[0]].n, nv.p,
                          nv.n};
        write_ok(s, m, &ov, 1);
        dc_batch_op del = {DC_OP_DELETE, pool[exp[0]].p, pool[exp[0]].n, NULL,
                           0};
        if (chance(50))
            write_ok(s, m, &del, 1);
        free(nv.p);
        CHECK(bytes_eq(k, kn, kc.p, kc.n),
              "iterator key changed under a write: %s, was %s", hex(k, kn),
              hex(kc.p, kc.n));
        CHECK(bytes_eq(v, vn, vc.p, vc.n),
              "iterator value changed under a write");
        free(kc.p);
        free(vc.p);
    }
    int more = (int)rnd_below(3);
    for (int w = 0; w < more; w++)
        random_batch(s, m, 6);
    for (size_t j = 1; j <= n; j++) {
        E.vt->iter_next(it);
        check_pos(it, &before, exp, n, (long)j, "isolated iterator");
    }
    if (E.reverse && n > 0) {
        E.vt->iter_seek_last(it);
        check_pos(it, &before, exp, n, (long)n - 1,
                  "isolated iterator, seek_last");
    }
    iter_close_ok(it);
    free(exp);
    model_free(&before);
}

static void run_model(const char *store_name, size_t pool_n, unsigned long nops,
                      uint64_t mix)
{
    rng = base_seed ^ mix;
    pool_make(pool_n);
    dc_store *s = store_open(store_name);
    model m;
    model_init(&m);
    snap_slot snaps[MAX_SNAPS];
    memset(snaps, 0, sizeof snaps);
    dc_error err;

    /* How often each kind of step ran, printed at the end. */
    enum {
        C_BATCH,
        C_MULTI,
        C_GET,
        C_KSEQ,
        C_SCAN,
        C_BSCAN,
        C_WALK,
        C_SNAP,
        C_SNAPREAD,
        C_ISOL,
        C_MAINT,
        C_REOPEN,
        C_ALL,
        C__N
    };
    unsigned long cnt[C__N] = {0};
    for (cur_op = 0; cur_op < nops; cur_op++) {
        unsigned r = (unsigned)rnd_below(1000);
        static const unsigned edges[C__N] = {250, 340, 440, 500, 560, 680, 790,
                                             860, 950, 975, 990, 991, 1000};
        for (int c = 0; c < C__N; c++)
            if (r < edges[c]) {
                cnt[c]++;
                break;
            }
        bound lo, hi;
        if (r < 250) {
            random_batch(s, &m, 1);
        } else if (r < 340) {
            random_batch(s, &m, MAX_OPS);
        } else if (r < 440) {
            for (int k = 0; k < 3; k++)
                check_get(s, NULL, &m, rnd_below(npool));
            uint8_t k[MAX_KEY + 4];
            size_t kn;
            rand_key(k, &kn);
            if (pool_find(k, kn) < 0) {
                dc_error_init(&err);
                dc_read_options ro = {.size = sizeof ro};
                got g = {0};
                int rc = E.vt->get(s, &ro, k, kn, collect, &g, &err);
                free(g.p);
                CHECK(rc == DC_ENOTFOUND, "get of never-written %s: %d",
                      hex(k, kn), rc);
            }
        } else if (r < 500) {
            check_key_seq(s, &m, rnd_below(npool));
        } else if (r < 560) {
            check_scan(s, NULL, &m, &NO_BOUND, &NO_BOUND, chance(40));
        } else if (r < 680) {
            rand_bound(&lo, 25);
            rand_bound(&hi, 25);
            check_scan(s, NULL, &m, &lo, &hi, chance(40));
        } else if (r < 790) {
            rand_bound(&lo, 40);
            rand_bound(&hi, 40);
            check_walk(s, NULL, &m, &lo, &hi);
        } else if (r < 830) {
            int slot = (int)rnd_below(MAX_SNAPS);
            if (snaps[slot].h == NULL) {
                dc_error_init(&err);
                int rc = E.vt->snapshot_acquire(s, &snaps[slot].h, &err);
                CHECK(rc == DC_OK, "snapshot_acquire: %d %s", rc, err.message);
                CHECK(E.vt->snapshot_seq(snaps[slot].h) == m.seq,
                      "snapshot_seq %" PRIu64 ", expected %" PRIu64,
                      E.vt->snapshot_seq(snaps[slot].h), m.seq);
                model_copy(&snaps[slot].m, &m);
            }
        } else if (r < 860) {
            int slot = (int)rnd_below(MAX_SNAPS);
            if (snaps[slot].h != NULL) {
                E.vt->snapshot_release(s, snaps[slot].h);
                snaps[slot].h = NULL;
                model_free(&snaps[slot].m);
            }
        } else if (r < 950) {
            int slot = (int)rnd_below(MAX_SNAPS);
            snap_slot *sl = &snaps[slot];
            if (sl->h != NULL) {
                CHECK(E.vt->snapshot_seq(sl->h) == sl->m.seq,
                      "snapshot_seq changed");
                for (int k = 0; k < 3; k++)
                    check_get(s, sl->h, &sl->m, rnd_below(npool));
                rand_bound(&lo, 40);
                rand_bound(&hi, 40);
                if (chance(50))
                    check_scan(s, sl->h, &sl->m, &lo, &hi, chance(40));
                else
                    check_walk(s, sl->h, &sl->m, &lo, &hi);
            }
        } else if (r < 975) {
            check_iter_isolation(s, &m);
        } else if (r < 990) {
            dc_error_init(&err);
            if (DC_HAS_FIELD(E.vt, dc_storage_vtable, flush) && E.vt->flush &&
                chance(50)) {
                int rc = E.vt->flush(s, &err);
                CHECK(rc == DC_OK, "flush: %d %s", rc, err.message);
            } else if (DC_HAS_FIELD(E.vt, dc_storage_vtable, compact) &&
                       E.vt->compact) {
                rand_bound(&lo, 50);
                rand_bound(&hi, 50);
                int rc = E.vt->compact(s, bp(&lo), lo.n, bp(&hi), hi.n, &err);
                CHECK(rc == DC_OK, "compact: %d %s", rc, err.message);
            }
        } else if (r < 991) {
            /* close requires every snapshot released */
            release_snaps(s, snaps);
            E.vt->close(s);
            s = store_open(store_name);
            if (!E.durable)
                model_reset(&m);
            check_all(s, &m);
        } else {
            check_all(s, &m);
        }
    }
    check_all(s, &m);
    release_snaps(s, snaps);
    E.vt->close(s);
    print_message(
        "%s: %lu single-op and %lu multi-op batches (last seq %" PRIu64
        "), %lu get rounds, %lu key_seq, %lu full and %lu bounded "
        "scans, %lu walks, %lu snapshot ops, %lu snapshot reads, "
        "%lu isolation checks, %lu flush/compact, %lu reopens, %lu "
        "full checks\n",
        cur_test, cnt[C_BATCH], cnt[C_MULTI], m.seq, cnt[C_GET], cnt[C_KSEQ],
        cnt[C_SCAN], cnt[C_BSCAN], cnt[C_WALK], cnt[C_SNAP], cnt[C_SNAPREAD],
        cnt[C_ISOL], cnt[C_MAINT], cnt[C_REOPEN], cnt[C_ALL]);
    model_free(&m);
    pool_free();
}

static void test_model_small_keyspace(void **state)
{
    (void)state;
    cur_test = "model, 24 keys";
    run_model("model-small", 24, model_ops, 0x5111);
}

static void test_model_large_keyspace(void **state)
{
    (void)state;
    cur_test = "model, 300 keys";
    run_model("model-large", 300, model_ops, 0x1a26e);
}

/* ==== deterministic checks ================================================ */

static int put1(dc_store *s, const char *k, const char *v, uint64_t *seq)
{
    dc_batch_op op = {DC_OP_PUT, (const uint8_t *)k, strlen(k),
                      (const uint8_t *)v, strlen(v)};
    dc_write_options wo = {.size = sizeof wo};
    dc_error err;
    dc_error_init(&err);
    return E.vt->write(s, &wo, &op, 1, seq, &err);
}

static int get_str(dc_store *s, const dc_snapshot *snap, const char *k,
                   char *out, size_t cap)
{
    dc_read_options ro = {.size = sizeof ro, .snapshot = snap};
    got g = {0};
    dc_error err;
    dc_error_init(&err);
    int rc =
        E.vt->get(s, &ro, (const uint8_t *)k, strlen(k), collect, &g, &err);
    if (rc == DC_OK) {
        size_t n = g.n < cap - 1 ? g.n : cap - 1;
        memcpy(out, g.p, n);
        out[n] = '\0';
    }
    free(g.p);
    return rc;
}

static uint64_t kseq(dc_store *s, const char *k)
{
    uint64_t v = UINT64_MAX;
    dc_error err;
    dc_error_init(&err);
    CHECK(E.vt->key_seq(s, (const uint8_t *)k, strlen(k), &v, &err) == DC_OK,
          "key_seq %s", k);
    return v;
}

static int stop_seven(void *ud, const uint8_t *v, size_t n)
{
    (void)ud;
    (void)v;
    (void)n;
    return 7;
}

static void test_empty_store(void **state)
{
    (void)state;
    cur_test = "empty store";
    cur_op = 0;
    pool_make(1);
    dc_store *s = store_open("empty");
    model m;
    model_init(&m);
    check_all(s, &m);
    dc_snapshot *snap = NULL;
    dc_error err;
    dc_error_init(&err);
    CHECK(E.vt->snapshot_acquire(s, &snap, &err) == DC_OK, "snapshot");
    CHECK(E.vt->snapshot_seq(snap) == 0,
          "snapshot of an empty store at %" PRIu64, E.vt->snapshot_seq(snap));
    E.vt->snapshot_release(s, snap);
    /* An unknown op kind is refused and nothing of its batch applies. */
    dc_batch_op bad[2] = {
        {DC_OP_PUT, (const uint8_t *)"x", 1, (const uint8_t *)"1", 1},
        {99, (const uint8_t *)"y", 1, NULL, 0}};
    dc_write_options wo = {.size = sizeof wo};
    uint64_t seq = 12345;
    int rc = E.vt->write(s, &wo, bad, 2, &seq, &err);
    CHECK(rc < 0, "a batch with op kind 99 was accepted");
    CHECK(seq == 12345, "seq written by a failed write");
    char buf[16];
    CHECK(get_str(s, NULL, "x", buf, sizeof buf) == DC_ENOTFOUND,
          "half of a refused batch was applied");
    if (has_stats())
        CHECK(last_seq_stat(s) == 0, "a refused batch took a seq");
    E.vt->close(s);
    model_free(&m);
    pool_free();
}

static void test_key_seq_and_notfound(void **state)
{
    (void)state;
    cur_test = "key_seq";
    cur_op = 0;
    dc_store *s = store_open("keyseq");
    char buf[64];
    uint64_t s1 = 0, s2 = 0, s3 = 0;
    CHECK(kseq(s, "a") == 0, "never written");
    CHECK(get_str(s, NULL, "a", buf, sizeof buf) == DC_ENOTFOUND, "get a");

    CHECK(put1(s, "a", "A1", &s1) == DC_OK && s1 == 1, "first seq %" PRIu64,
          s1);
    CHECK(kseq(s, "a") == s1, "after put");
    CHECK(put1(s, "b", "B1", &s2) == DC_OK && s2 == s1 + 1, "second seq");
    CHECK(kseq(s, "a") == s1, "a unchanged by a write of b");
    CHECK(kseq(s, "b") == s2, "b");

    dc_snapshot *snap = NULL;
    dc_error err;
    dc_error_init(&err);
    CHECK(E.vt->snapshot_acquire(s, &snap, &err) == DC_OK, "snapshot");
    CHECK(E.vt->snapshot_seq(snap) == s2, "snapshot seq");

    dc_batch_op del = {DC_OP_DELETE, (const uint8_t *)"a", 1, NULL, 0};
    dc_write_options wo = {.size = sizeof wo};
    CHECK(E.vt->write(s, &wo, &del, 1, &s3, &err) == DC_OK && s3 == s2 + 1,
          "delete");
    CHECK(kseq(s, "a") == s3, "key_seq of a deleted key is the delete's");
    CHECK(get_str(s, NULL, "a", buf, sizeof buf) == DC_ENOTFOUND,
          "deleted key found");
    CHECK(get_str(s, snap, "a", buf, sizeof buf) == DC_OK &&
              strcmp(buf, "A1") == 0,
          "the snapshot lost a");

    /* Same key twice in one batch: the later op wins. */
    uint64_t s4 = 0;
    dc_batch_op b[4] = {
        {DC_OP_PUT, (const uint8_t *)"c", 1, (const uint8_t *)"C0", 2},
        {DC_OP_PUT, (const uint8_t *)"a", 1, (const uint8_t *)"A2", 2},
        {DC_OP_DELETE, (const uint8_t *)"c", 1, NULL, 0},
        {DC_OP_PUT, (const uint8_t *)"d", 1, (const uint8_t *)"D0", 2},
    };
    CHECK(E.vt->write(s, &wo, b, 4, &s4, &err) == DC_OK && s4 == s3 + 1,
          "batch");
    CHECK(kseq(s, "a") == s4 && kseq(s, "c") == s4 && kseq(s, "d") == s4,
          "every key of a batch has the batch's seq");
    CHECK(get_str(s, NULL, "c", buf, sizeof buf) == DC_ENOTFOUND,
          "put then delete in one batch left c");
    CHECK(get_str(s, NULL, "a", buf, sizeof buf) == DC_OK &&
              strcmp(buf, "A2") == 0,
          "a");

    /* Range delete [a, c): a and b go, d stays. */
    uint64_t s5 = 0;
    dc_batch_op rd = {DC_OP_DELETE_RANGE, (const uint8_t *)"a", 1,
                      (const uint8_t *)"c", 1};
    CHECK(E.vt->write(s, &wo, &rd, 1, &s5, &err) == DC_OK && s5 == s4 + 1,
          "range delete");
    CHECK(get_str(s, NULL, "a", buf, sizeof buf) == DC_ENOTFOUND, "a");
    CHECK(get_str(s, NULL, "b", buf, sizeof buf) == DC_ENOTFOUND, "b");
    CHECK(get_str(s, NULL, "d", buf, sizeof buf) == DC_OK, "d");
    CHECK(get_str(s, snap, "b", buf, sizeof buf) == DC_OK &&
              strcmp(buf, "B1") == 0,
          "snapshot sees b");
    if (E.strict) {
        CHECK(kseq(s, "a") == s5 && kseq(s, "b") == s5,
              "a range delete is a new version of the live keys it removes");
        CHECK(kseq(s, "c") == s4, "c was already deleted");
        CHECK(kseq(s, "bb") == 0, "never written inside a range delete");
    } else {
        CHECK(kseq(s, "b") >= s2 && kseq(s, "b") <= s5, "b");
    }
    CHECK(kseq(s, "d") == s4, "d is outside the range");

    /* A callback's non-zero result comes back from get(). */
    dc_read_options ro = {.size = sizeof ro};
    CHECK(E.vt->get(s, &ro, (const uint8_t *)"d", 1, stop_seven, NULL, &err) ==
              7,
          "callback result not passed back");
    E.vt->snapshot_release(s, snap);
    E.vt->close(s);
}

static void test_bounds(void **state)
{
    (void)state;
    cur_test = "bounds";
    cur_op = 0;
    static const char *const keys[] = {"",   "a", "a\0",   "a\0\0",
                                       "ab", "b", "b\xff", "c"};
    static const size_t lens[] = {0, 1, 2, 3, 2, 1, 2, 1};
    size_t nk = sizeof keys / sizeof keys[0];
    pool_free();
    pool = xmalloc(nk * sizeof *pool);
    for (size_t i = 0; i < nk; i++)
        pool[npool++] = bytes_dup((const uint8_t *)keys[i], lens[i]);
    dc_store *s = store_open("bounds");
    model m;
    model_init(&m);
    dc_batch_op ops[8];
    for (size_t i = 0; i < nk; i++)
        ops[i] = (dc_batch_op){DC_OP_PUT, pool[i].p, pool[i].n, pool[i].p,
                               pool[i].n};
    write_ok(s, &m, ops, nk);

    /* Every pair of bounds drawn from the keys and a few in between. */
    static const char *const bk[] = {"",          "\0", "a", "a\0",
                                     "a\0\0\0",   "aa", "b", "b\xff",
                                     "b\xff\xff", "c",  "d"};
    static const size_t bl[] = {0, 1, 1, 2, 4, 2, 1, 2, 3, 1, 1};
    size_t nb = sizeof bk / sizeof bk[0];
    for (size_t i = 0; i <= nb; i++) {
        for (size_t j = 0; j <= nb; j++) {
            bound lo = {.set = i < nb}, hi = {.set = j < nb};
            if (lo.set) {
                memcpy(lo.buf, bk[i], bl[i]);
                lo.n = bl[i];
            }
            if (hi.set) {
                memcpy(hi.buf, bk[j], bl[j]);
                hi.n = bl[j];
            }
            if (lo.set && hi.set && key_cmp(lo.buf, lo.n, hi.buf, hi.n) > 0)
                continue;
            cur_op = i * 100 + j;
            check_scan(s, NULL, &m, &lo, &hi, false);
            check_scan(s, NULL, &m, &lo, &hi, true);
            /* Seeks to every target, in bounds or not. */
            size_t exp[8];
            size_t n = model_expected(&m, &lo, &hi, exp);
            dc_iter *it = iter_open_ok(s, NULL, &lo, &hi);
            for (size_t t = 0; t < nb; t++) {
                bound tb = {.set = true, .n = bl[t]};
                memcpy(tb.buf, bk[t], bl[t]);
                E.vt->iter_seek(it, tb.buf, tb.n);
                check_pos(it, &m, exp, n, exp_lower(exp, n, &tb, false),
                          "seek");
                if (E.reverse) {
                    E.vt->iter_seek_for_prev(it, tb.buf, tb.n);
                    check_pos(it, &m, exp, n, exp_lower(exp, n, &tb, true) - 1,
                              "seek_for_prev");
                }
            }
            iter_close_ok(it);
        }
    }
    E.vt->close(s);
    model_free(&m);
    pool_free();
}

/* open() with explicit options; returns the status, *out only on success. */
static int open_opts(const char *path, bool create, bool read_only,
                     dc_store **out, dc_error *err)
{
    dc_store_options o = {.size = sizeof o,
                          .path = path,
                          .create_if_missing = create,
                          .read_only = read_only};
    dc_error_init(err);
    return E.vt->open(E.inst, &o, out, err);
}

/* The store directory's files, sorted, as "path size mtime" lines, into
 * out (recursively; "" when the directory cannot be read). */
static int sig_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void dir_sig_rec(const char *dir, char ***lines, size_t *n)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        char p[PATH_MAX + 256];
        snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
        struct stat st;
        if (lstat(p, &st) != 0)
            continue;
        if (S_ISDIR(st.st_mode)) {
            dir_sig_rec(p, lines, n);
            continue;
        }
        char *line = malloc(strlen(p) + 64);
        assert_non_null(line);
        sprintf(line, "%s %lld %lld.%09ld", p, (long long)st.st_size,
                (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
        *lines = realloc(*lines, (*n + 1) * sizeof **lines);
        assert_non_null(*lines);
        (*lines)[(*n)++] = line;
    }
    closedir(d);
}

static char *dir_sig(const char *dir)
{
    char **lines = NULL;
    size_t n = 0, len = 1;
    dir_sig_rec(dir, &lines, &n);
    if (n)
        qsort(lines, n, sizeof *lines, sig_cmp);
    for (size_t i = 0; i < n; i++)
        len += strlen(lines[i]) + 1;
    char *out = malloc(len);
    assert_non_null(out);
    out[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        strcat(out, lines[i]);
        strcat(out, "\n");
        free(lines[i]);
    }
    free(lines);
    return out;
}

/* The newest file of dir (by name: segments are numbered), or "". */
static void newest_file(const char *dir, char *out, size_t n)
{
    out[0] = '\0';
    DIR *d = opendir(dir);
    if (d == NULL)
        return;
    char best[256] = "";
    struct dirent *de;
    while ((de = readdir(d)) != NULL)
        if (de->d_name[0] != '.' && strcmp(de->d_name, best) > 0)
            snprintf(best, sizeof best, "%s", de->d_name);
    closedir(d);
    if (best[0])
        snprintf(out, n, "%s/%s", dir, best);
}

/* One store per path per process (DC_EBUSY), NULL path = [storage]
 * data_dir, create_if_missing, read_only. */
static void test_open_rules(void **state)
{
    (void)state;
    cur_test = "open rules";
    cur_op = 0;
    char path[PATH_MAX + 64], data_dir[PATH_MAX + 64];
    store_path(path, sizeof path, "busy");
    store_path(data_dir, sizeof data_dir, "data");
    dc_error err;
    dc_store *a = store_open("busy"), *b = NULL;
    int rc = open_opts(path, true, false, &b, &err);
    CHECK(rc == DC_EBUSY, "second open of %s: %d, expected DC_EBUSY", path, rc);
    CHECK(b == NULL, "output written by a failed open");
    CHECK(dc_error_isset(&err), "no error message");
    E.vt->close(a);
    a = store_open("busy");
    E.vt->close(a);

    /* NULL path: [storage] data_dir, the same store as its explicit path. */
    rc = open_opts(NULL, true, false, &a, &err);
    CHECK(rc == DC_OK, "open with a NULL path: %d %s", rc, err.message);
    rc = open_opts(data_dir, true, false, &b, &err);
    CHECK(rc == DC_EBUSY, "open of %s while open as the default data_dir: %d",
          data_dir, rc);
    E.vt->close(a);

    /* Without create_if_missing, a store that does not exist is an error. */
    char missing[PATH_MAX + 64];
    store_path(missing, sizeof missing, "never-created");
    b = NULL;
    rc = open_opts(missing, false, false, &b, &err);
    CHECK(rc < 0 && b == NULL,
          "open of a missing store without "
          "create_if_missing: %d",
          rc);
    if (E.strict)
        CHECK(rc == DC_ENOTFOUND, "memory: %d, expected DC_ENOTFOUND", rc);

    /* Read-only: reads work, writes are refused and change nothing. */
    a = store_open("ro");
    CHECK(put1(a, "k", "v1", NULL) == DC_OK, "put");
    E.vt->close(a);
    store_path(path, sizeof path, "ro");
    rc = open_opts(path, false, false, &a, &err);
    if (E.durable) {
        CHECK(rc == DC_OK, "reopen without create_if_missing: %d %s", rc,
              err.message);
        E.vt->close(a);
    } else {
        CHECK(rc == DC_ENOTFOUND, "memory keeps nothing between opens: %d", rc);
    }
    /* A read-only open writes nothing, not even the repair of a torn WAL
     * tail (here: bytes appended to the newest segment). */
    char *sig0 = NULL, walseg[PATH_MAX + 512];
    if (E.durable) {
        char waldir[PATH_MAX + 128];
        snprintf(waldir, sizeof waldir, "%s/wal", path);
        newest_file(waldir, walseg, sizeof walseg);
        if (walseg[0] != '\0') { /* none when the WAL is off */
            FILE *f = fopen(walseg, "ab");
            CHECK(f != NULL && fwrite("torn", 1, 4, f) == 4 && fclose(f) == 0,
                  "append to %s", walseg);
        }
        sig0 = dir_sig(path);
    }
    rc = open_opts(path, !E.durable, true, &a, &err);
    CHECK(rc == DC_OK, "read-only open: %d %s", rc, err.message);
    char buf[16];
    rc = get_str(a, NULL, "k", buf, sizeof buf);
    if (E.durable)
        CHECK(rc == DC_OK && strcmp(buf, "v1") == 0, "read-only get: %d", rc);
    else
        CHECK(rc == DC_ENOTFOUND, "memory keeps nothing between opens");
    rc = put1(a, "k", "v2", NULL);
    CHECK(rc < 0, "a write to a read-only store returned %d", rc);
    if (E.strict)
        CHECK(rc == DC_EPERM, "memory: %d, expected DC_EPERM", rc);
    rc = get_str(a, NULL, "k", buf, sizeof buf);
    CHECK(E.durable ? rc == DC_OK && strcmp(buf, "v1") == 0
                    : rc == DC_ENOTFOUND,
          "a refused write changed the store");
    E.vt->close(a);
    if (E.durable) {
        char *sig1 = dir_sig(path);
        CHECK(strcmp(sig0, sig1) == 0,
              "a read-only open changed the store's files:\nbefore:\n%s"
              "after:\n%s",
              sig0, sig1);
        free(sig1);
        free(sig0);
        /* The next writable open repairs the tail and keeps the data. */
        struct stat st0 = {0}, st1;
        CHECK(!walseg[0] || stat(walseg, &st0) == 0, "stat %s", walseg);
        rc = open_opts(path, false, false, &a, &err);
        CHECK(rc == DC_OK, "reopen after read-only: %d %s", rc, err.message);
        rc = get_str(a, NULL, "k", buf, sizeof buf);
        CHECK(rc == DC_OK && strcmp(buf, "v1") == 0, "get after reopen: %d",
              rc);
        E.vt->close(a);
        CHECK(!walseg[0] || stat(walseg, &st1) != 0 ||
                  st1.st_size < st0.st_size,
              "the torn tail of %s was not cut by a writable open", walseg);
    }
}

/* ---- memory only: garbage collection ------------------------------------- */

static uint64_t mem_bytes(dc_store *s)
{
    dc_store_stats st = {.size = sizeof st};
    CHECK(E.vt->stats(s, &st) == DC_OK, "stats");
    return st.memtable_bytes;
}

static void test_version_gc(void **state)
{
    (void)state;
    cur_test = "version gc";
    cur_op = 0;
    if (!E.strict || !has_stats())
        skip();
    dc_store *s = store_open("gc");
    char val[128];
    memset(val, 'v', sizeof val - 1);
    val[sizeof val - 1] = '\0';
    for (int i = 0; i < 10; i++)
        put1(s, "k", val, NULL);
    uint64_t b0 = mem_bytes(s);
    for (cur_op = 0; cur_op < 20000; cur_op++) {
        snprintf(val, sizeof val, "%08lu", cur_op);
        if (cur_op % 3 == 2) {
            dc_batch_op d = {DC_OP_DELETE, (const uint8_t *)"k", 1, NULL, 0};
            dc_write_options wo = {.size = sizeof wo};
            dc_error err;
            dc_error_init(&err);
            CHECK(E.vt->write(s, &wo, &d, 1, NULL, &err) == DC_OK, "delete");
        } else {
            put1(s, "k", val, NULL);
        }
    }
    uint64_t b1 = mem_bytes(s);
    CHECK(b1 <= b0 + 1024,
          "memory grew from %" PRIu64 " to %" PRIu64 " under overwrites", b0,
          b1);

    /* Snapshots keep exactly what they see. */
    dc_snapshot *snaps[50];
    char seen[50][16];
    dc_error err;
    dc_error_init(&err);
    for (int i = 0; i < 50; i++) {
        snprintf(seen[i], sizeof seen[i], "s%02d", i);
        put1(s, "k", seen[i], NULL);
        CHECK(E.vt->snapshot_acquire(s, &snaps[i], &err) == DC_OK, "snap");
        for (int j = 0; j < 100; j++)
            put1(s, "k", "filler", NULL);
    }
    uint64_t b2 = mem_bytes(s);
    CHECK(b2 > b1, "snapshots kept nothing");
    CHECK(b2 < b1 + 60 * 256,
          "versions no snapshot sees were kept: %" PRIu64 " bytes", b2 - b1);
    for (int i = 0; i < 50; i++) {
        char buf[16];
        CHECK(get_str(s, snaps[i], "k", buf, sizeof buf) == DC_OK &&
                  strcmp(buf, seen[i]) == 0,
              "snapshot %d sees %s", i, buf);
    }
    for (int i = 0; i < 50; i++)
        E.vt->snapshot_release(s, snaps[i]);
    CHECK(E.vt->compact(s, NULL, 0, NULL, 0, &err) == DC_OK, "compact");
    uint64_t b3 = mem_bytes(s);
    CHECK(b3 <= b0 + 1024,
          "compact after releasing snapshots left %" PRIu64 " bytes (%" PRIu64
          " at start)",
          b3, b0);
    E.vt->close(s);
}

/* ==== concurrency ========================================================= */

#define CW_THREADS 3
#define CW_KEYS    6
#define CW_VAL_MIN 6

typedef struct conc {
    dc_store *s;
    int batches; /* per writer */
    atomic_int writers_left;
    atomic_int failed;
    char msg[512];
    pthread_mutex_t msg_lock;
    uint64_t *seqs[CW_THREADS]; /* each writer's batch seqs */
    atomic_long reads;          /* whole-store reads checked */
} conc;

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static void
conc_fail(conc *c, const char *fmt, ...)
{
    pthread_mutex_lock(&c->msg_lock);
    if (!atomic_load(&c->failed)) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(c->msg, sizeof c->msg, fmt, ap);
        va_end(ap);
        atomic_store(&c->failed, 1);
    }
    pthread_mutex_unlock(&c->msg_lock);
}

static void cw_key(uint8_t *k, int t, int i)
{
    k[0] = 'c';
    k[1] = (uint8_t)t;
    k[2] = (uint8_t)i;
}

/* Value of writer t's batch b: t, b (big endian), a 'V' tag, then filler;
 * its length depends on b. */
static size_t cw_value(uint8_t *v, int t, uint32_t b, uint8_t tag)
{
    size_t n = CW_VAL_MIN + b % 40;
    v[0] = (uint8_t)t;
    v[1] = (uint8_t)(b >> 24);
    v[2] = (uint8_t)(b >> 16);
    v[3] = (uint8_t)(b >> 8);
    v[4] = (uint8_t)b;
    v[5] = tag;
    for (size_t i = CW_VAL_MIN; i < n; i++)
        v[i] = (uint8_t)(b * 31 + i);
    return n;
}

typedef struct writer_arg {
    conc *c;
    int t;
} writer_arg;

static void *writer_main(void *arg)
{
    writer_arg *wa = arg;
    conc *c = wa->c;
    int t = wa->t;
    uint8_t keys[CW_KEYS][3], val[64], stale[64];
    for (int i = 0; i < CW_KEYS; i++)
        cw_key(keys[i], t, i);
    uint8_t lo[2] = {'c', (uint8_t)t}, hi[2] = {'c', (uint8_t)(t + 1)};
    for (int b = 1; b <= c->batches && !atomic_load(&c->failed); b++) {
        dc_batch_op ops[2 * CW_KEYS + 2];
        size_t n = 0;
        size_t vn = cw_value(val, t, (uint32_t)b, 'V');
        size_t sn = cw_value(stale, t, (uint32_t)b, 'S');
        int kind = b % 5;
        if (kind == 4) {
            /* delete the whole range, one key at a time */
            for (int i = 0; i < CW_KEYS; i++)
                ops[n++] = (dc_batch_op){DC_OP_DELETE, keys[i], 3, NULL, 0};
        } else {
            if (kind == 1)
                ops[n++] = (dc_batch_op){DC_OP_DELETE_RANGE, lo, 2, hi, 2};
            if (kind == 2) /* shadowed in the same batch */
                ops[n++] = (dc_batch_op){DC_OP_PUT, keys[0], 3, stale, sn};
            for (int i = 0; i < CW_KEYS; i++)
                ops[n++] = (dc_batch_op){DC_OP_PUT, keys[i], 3, val, vn};
            if (kind == 3) /* a put, then a range delete, then puts */
                ops[n++] = (dc_batch_op){DC_OP_PUT, keys[1], 3, stale, sn};
            if (kind == 3) {
                ops[n++] =
                    (dc_batch_op){DC_OP_DELETE_RANGE, keys[1], 3, keys[2], 3};
                ops[n++] = (dc_batch_op){DC_OP_PUT, keys[1], 3, val, vn};
            }
        }
        dc_write_options wo = {.size = sizeof wo};
        dc_error err;
        dc_error_init(&err);
        uint64_t seq = 0;
        int rc = E.vt->write(c->s, &wo, ops, n, &seq, &err);
        if (rc != DC_OK) {
            conc_fail(c, "writer %d batch %d: %d %s", t, b, rc, err.message);
            break;
        }
        c->seqs[t][b - 1] = seq;
        if (b > 1 && seq <= c->seqs[t][b - 2])
            conc_fail(c, "writer %d: batch seq %" PRIu64 " after %" PRIu64, t,
                      seq, c->seqs[t][b - 2]);
    }
    atomic_fetch_sub(&c->writers_left, 1);
    return NULL;
}

/* Checks one whole-store read: per writer, either none of its keys or all
 * of them, with one batch's value.  last[t] is the batch last seen. */
typedef struct view {
    int count[CW_THREADS];
    uint32_t batch[CW_THREADS];
    bool mixed;
    char why[200];
} view;

static void view_add(view *v, const uint8_t *k, size_t kn, const uint8_t *val,
                     size_t vn)
{
    if (kn != 3 || k[0] != 'c' || k[1] >= CW_THREADS || k[2] >= CW_KEYS) {
        v->mixed = true;
        snprintf(v->why, sizeof v->why, "unexpected key %s", hex(k, kn));
        return;
    }
    int t = k[1];
    if (vn < CW_VAL_MIN || val[0] != t || val[5] != 'V') {
        v->mixed = true;
        snprintf(v->why, sizeof v->why, "bad or shadowed value %s for %s",
                 hex(val, vn < 8 ? vn : 8), hex(k, kn));
        return;
    }
    uint32_t b = (uint32_t)val[1] << 24 | (uint32_t)val[2] << 16 |
                 (uint32_t)val[3] << 8 | val[4];
    if (vn != CW_VAL_MIN + b % 40) {
        v->mixed = true;
        snprintf(v->why, sizeof v->why, "value of %s has a bad length",
                 hex(k, kn));
        return;
    }
    if (v->count[t] > 0 && v->batch[t] != b) {
        v->mixed = true;
        snprintf(v->why, sizeof v->why,
                 "writer %d: batches %u and %u seen together", t, v->batch[t],
                 b);
    }
    v->batch[t] = b;
    v->count[t]++;
}

/* Returns false (with c failed) when the view shows part of a batch. */
static bool view_check(conc *c, const view *v, uint32_t *last, const char *who)
{
    if (v->mixed) {
        conc_fail(c, "%s: %s", who, v->why);
        return false;
    }
    for (int t = 0; t < CW_THREADS; t++) {
        if (v->count[t] != 0 && v->count[t] != CW_KEYS) {
            conc_fail(c, "%s: writer %d has %d of %d keys (batch %u)", who, t,
                      v->count[t], CW_KEYS, v->batch[t]);
            return false;
        }
        if (v->count[t] > 0 && last != NULL) {
            if (v->batch[t] < last[t]) {
                conc_fail(c, "%s: writer %d went back from batch %u to %u", who,
                          t, last[t], v->batch[t]);
                return false;
            }
            last[t] = v->batch[t];
        }
    }
    return true;
}

/* Snapshot reader: each snapshot scanned, then every key got at it. */
static void *snap_reader_main(void *arg)
{
    conc *c = arg;
    uint32_t last[CW_THREADS] = {0};
    uint64_t last_seq = 0;
    long rounds = 0;
    while (!atomic_load(&c->failed) &&
           (atomic_load(&c->writers_left) > 0 || rounds < 3)) {
        rounds++;
        dc_snapshot *snap = NULL;
        dc_error err;
        dc_error_init(&err);
        if (E.vt->snapshot_acquire(c->s, &snap, &err) != DC_OK) {
            conc_fail(c, "snapshot_acquire: %s", err.message);
            break;
        }
        uint64_t sq = E.vt->snapshot_seq(snap);
        if (sq < last_seq)
            conc_fail(c, "snapshot seq went back from %" PRIu64 " to %" PRIu64,
                      last_seq, sq);
        last_seq = sq;
        dc_read_options ro = {.size = sizeof ro, .snapshot = snap};
        dc_iter *it = NULL;
        if (E.vt->iter_open(c->s, &ro, &it, &err) != DC_OK) {
            conc_fail(c, "iter_open: %s", err.message);
            E.vt->snapshot_release(c->s, snap);
            break;
        }
        view v;
        memset(&v, 0, sizeof v);
        for (E.vt->iter_seek_first(it); E.vt->iter_valid(it);
             E.vt->iter_next(it)) {
            const uint8_t *k, *val;
            size_t kn, vn;
            E.vt->iter_key(it, &k, &kn);
            E.vt->iter_value(it, &val, &vn);
            view_add(&v, k, kn, val, vn);
        }
        E.vt->iter_close(it);
        bool ok = view_check(c, &v, last, "snapshot scan");
        /* Point reads at the same snapshot agree with the scan. */
        for (int t = 0; ok && t < CW_THREADS; t++) {
            for (int i = 0; i < CW_KEYS; i++) {
                uint8_t k[3];
                cw_key(k, t, i);
                got g = {0};
                int rc = E.vt->get(c->s, &ro, k, 3, collect, &g, &err);
                uint32_t b = g.n >= CW_VAL_MIN
                                 ? (uint32_t)g.p[1] << 24 |
                                       (uint32_t)g.p[2] << 16 |
                                       (uint32_t)g.p[3] << 8 | g.p[4]
                                 : 0;
                if (v.count[t] == 0 ? rc != DC_ENOTFOUND
                                    : rc != DC_OK || b != v.batch[t]) {
                    conc_fail(c,
                              "get %s at snapshot %" PRIu64 ": rc %d batch "
                              "%u, scan saw %d keys of batch %u",
                              hex(k, 3), sq, rc, b, v.count[t], v.batch[t]);
                    ok = false;
                }
                free(g.p);
            }
        }
        E.vt->snapshot_release(c->s, snap);
        atomic_fetch_add(&c->reads, 1);
    }
    return NULL;
}

/* Iterator reader: no snapshot, the state when opened; scans both ways. */
static void *iter_reader_main(void *arg)
{
    conc *c = arg;
    uint32_t last[CW_THREADS] = {0};
    uint64_t ks_last = 0;
    long rounds = 0;
    while (!atomic_load(&c->failed) &&
           (atomic_load(&c->writers_left) > 0 || rounds < 3)) {
        rounds++;
        dc_read_options ro = {.size = sizeof ro};
        bool back = E.reverse && (rounds & 1);
        if (rounds % 3 == 0) {
            /* bounded to one writer's range */
            static uint8_t lo[2] = {'c', 1}, hi[2] = {'c', 2};
            ro.lower = lo;
            ro.lower_len = 2;
            ro.upper = hi;
            ro.upper_len = 2;
        }
        dc_iter *it = NULL;
        dc_error err;
        dc_error_init(&err);
        if (E.vt->iter_open(c->s, &ro, &it, &err) != DC_OK) {
            conc_fail(c, "iter_open: %s", err.message);
            break;
        }
        view v;
        memset(&v, 0, sizeof v);
        if (back)
            E.vt->iter_seek_last(it);
        else
            E.vt->iter_seek_first(it);
        while (E.vt->iter_valid(it)) {
            const uint8_t *k, *val;
            size_t kn, vn;
            E.vt->iter_key(it, &k, &kn);
            E.vt->iter_value(it, &val, &vn);
            view_add(&v, k, kn, val, vn);
            if (back)
                E.vt->iter_prev(it);
            else
                E.vt->iter_next(it);
        }
        E.vt->iter_close(it);
        view_check(c, &v, last,
                   back ? "backward iterator scan" : "iterator scan");
        /* key_seq only grows */
        uint64_t ks = 0;
        uint8_t k0[3];
        cw_key(k0, 0, 0);
        if (E.vt->key_seq(c->s, k0, 3, &ks, &err) != DC_OK)
            conc_fail(c, "key_seq: %s", err.message);
        /* key_seq only grows, except that an engine may drop a tombstone
         * no snapshot needs and then answer 0 (storage.h). */
        else if (ks < ks_last && !(ks == 0 && !E.strict))
            conc_fail(c, "key_seq went back from %" PRIu64 " to %" PRIu64,
                      ks_last, ks);
        ks_last = ks;
        atomic_fetch_add(&c->reads, 1);
    }
    return NULL;
}

static int u64_cmp(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static void test_concurrency(void **state)
{
    (void)state;
    cur_test = "concurrency";
    cur_op = 0;
    conc c;
    memset(&c, 0, sizeof c);
    pthread_mutex_init(&c.msg_lock, NULL);
    c.s = store_open("concurrency");
    c.batches = 3000;
    atomic_store(&c.writers_left, CW_THREADS);
    for (int t = 0; t < CW_THREADS; t++)
        c.seqs[t] = calloc((size_t)c.batches, sizeof(uint64_t));
    pthread_t w[CW_THREADS], r[2];
    writer_arg wa[CW_THREADS];
    CHECK(pthread_create(&r[0], NULL, snap_reader_main, &c) == 0, "thread");
    CHECK(pthread_create(&r[1], NULL, iter_reader_main, &c) == 0, "thread");
    for (int t = 0; t < CW_THREADS; t++) {
        wa[t] = (writer_arg){&c, t};
        CHECK(pthread_create(&w[t], NULL, writer_main, &wa[t]) == 0, "thread");
    }
    for (int t = 0; t < CW_THREADS; t++)
        pthread_join(w[t], NULL);
    pthread_join(r[0], NULL);
    pthread_join(r[1], NULL);
    print_message("concurrency: %d writers x %d batches, %ld whole-store "
                  "reads checked\n",
                  CW_THREADS, c.batches, atomic_load(&c.reads));
    CHECK(!atomic_load(&c.failed), "%s", c.msg);

    /* Batch seqs: distinct, and with no other writer exactly 1..total. */
    size_t total = (size_t)CW_THREADS * (size_t)c.batches;
    uint64_t *all = xmalloc(total * sizeof *all);
    for (int t = 0; t < CW_THREADS; t++)
        memcpy(all + (size_t)t * (size_t)c.batches, c.seqs[t],
               (size_t)c.batches * sizeof(uint64_t));
    qsort(all, total, sizeof *all, u64_cmp);
    for (size_t i = 0; i < total; i++)
        CHECK(all[i] == i + 1, "the %zu-th batch seq is %" PRIu64, i + 1,
              all[i]);
    if (has_stats())
        CHECK(last_seq_stat(c.s) == total, "last_seq after the run");
    free(all);

    /* The end state: each writer's last batch. */
    view v;
    memset(&v, 0, sizeof v);
    dc_iter *it = iter_open_ok(c.s, NULL, &NO_BOUND, &NO_BOUND);
    for (E.vt->iter_seek_first(it); E.vt->iter_valid(it); E.vt->iter_next(it)) {
        const uint8_t *k, *val;
        size_t kn, vn;
        E.vt->iter_key(it, &k, &kn);
        E.vt->iter_value(it, &val, &vn);
        view_add(&v, k, kn, val, vn);
    }
    iter_close_ok(it);
    CHECK(view_check(&c, &v, NULL, "final scan"), "%s", c.msg);
    for (int t = 0; t < CW_THREADS; t++) {
        int lastb = c.batches;
        bool deleted = lastb % 5 == 4;
        CHECK(deleted ? v.count[t] == 0
                      : v.count[t] == CW_KEYS && v.batch[t] == (uint32_t)lastb,
              "writer %d ends with %d keys of batch %u", t, v.count[t],
              v.batch[t]);
    }
    for (int t = 0; t < CW_THREADS; t++)
        free(c.seqs[t]);
    E.vt->close(c.s);
    pthread_mutex_destroy(&c.msg_lock);
}

/* ==== setup: load the module as the server would ========================== */

static void rm_rf(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return;
    if (S_ISDIR(st.st_mode)) {
        DIR *d = opendir(path);
        if (d != NULL) {
            struct dirent *e;
            while ((e = readdir(d)) != NULL) {
                if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                    continue;
                char sub[PATH_MAX];
                snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
                rm_rf(sub);
            }
            closedir(d);
        }
        rmdir(path);
    } else {
        unlink(path);
    }
}

static char build_dir[PATH_MAX];

static void print_errors(const char *what, dc_strlist *errors)
{
    for (size_t i = 0; i < errors->len; i++)
        print_error("%s: %s\n", what, errors->items[i]);
}

static int engine_setup(void **state)
{
    (void)state;
    E.cfg = NULL;
    E.rt = NULL;
    E.name = NULL;
    snprintf(E.dir, sizeof E.dir, "/tmp/datacave-storage-model-XXXXXX");
    if (mkdtemp(E.dir) == NULL) {
        print_error("mkdtemp: %s\n", strerror(errno));
        return -1;
    }
    char text[3 * PATH_MAX + 1024];
    snprintf(text, sizeof text,
             "[server]\nmodule_dir = \"%s/modules\"\n"
             "[log]\nlevel = \"warn\"\n"
             "[storage]\ndata_dir = \"%s/data\"\n%s"
             "[modules]\nprotocol = \"\"\nsql = \"\"\nstorage = \"\"\n"
             "auth = \"\"\nencryption = \"none\"\nmetrics = \"\"\n%s",
             build_dir, E.dir, E.storage_extra ? E.storage_extra : "",
             E.module_extra ? E.module_extra : "");
    dc_strlist errors = {0};
    E.cfg = dc_config_parse(text, strlen(text), "test-config", E.dir, &errors);
    if (E.cfg == NULL) {
        print_errors("config", &errors);
        dc_strlist_free(&errors);
        return -1;
    }
    E.rt = dc_runtime_new(E.cfg);
    if (dc_runtime_load_file(E.rt, DC_KIND_STORAGE, E.so, &errors) != 0) {
        print_errors("load", &errors);
        dc_strlist_free(&errors);
        return -1;
    }
    /* The kinds the engine depends on (encryption: "none") come from the
     * config, as in the server. */
    dc_module *m = dc_runtime_module(E.rt, DC_KIND_STORAGE);
    uint32_t mask = 0;
    for (uint32_t i = 0; i < m->desc->ndeps; i++)
        mask |= 1u << m->desc->deps[i].kind;
    if ((mask && dc_runtime_load(E.rt, mask, &errors) != 0) ||
        dc_runtime_resolve(E.rt, false, &errors) != 0) {
        print_errors("load", &errors);
        dc_strlist_free(&errors);
        return -1;
    }
    dc_strlist_free(&errors);
    dc_error err;
    dc_error_init(&err);
    if (dc_runtime_init(E.rt, &err) != 0) {
        print_error("init: %s\n", err.message);
        return -1;
    }
    E.vt = m->desc->vtable;
    E.inst = m->instance;
    E.name = m->desc->name;
    E.durable = strcmp(E.name, "memory") != 0;
    E.strict = !E.durable;
    E.reverse = DC_HAS_FIELD(E.vt, dc_storage_vtable, iter_prev) &&
                E.vt->iter_seek_last && E.vt->iter_seek_for_prev &&
                E.vt->iter_prev;
    print_message("storage module %s (%s): %s, %s iteration\n", E.name, E.so,
                  E.durable ? "durable" : "not durable",
                  E.reverse ? "forward and backward" : "forward-only");
    return 0;
}

static int engine_teardown(void **state)
{
    (void)state;
    if (E.rt != NULL) {
        dc_runtime_shutdown(E.rt);
        dc_runtime_free(E.rt);
    }
    dc_config_free(E.cfg);
    rm_rf(E.dir);
    pool_free();
    E.rt = NULL;
    E.cfg = NULL;
    return 0;
}

static void test_no_module(void **state)
{
    (void)state;
    fail_msg("no storage module to test: set DATACAVE_STORAGE_MODULES, or "
             "build %s/modules/memory.so (make)",
             build_dir);
}

int main(void)
{
    const char *env = getenv("DATACAVE_SEED");
    if (env != NULL && *env)
        base_seed = strtoull(env, NULL, 0);
    env = getenv("DATACAVE_MODEL_OPS");
    if (env != NULL && *env)
        model_ops = strtoul(env, NULL, 0);
    const char *bd = getenv("DATACAVE_BUILD");
    if (bd == NULL || !*bd)
        bd = "build";
    if (realpath(bd, build_dir) == NULL)
        snprintf(build_dir, sizeof build_dir, "%s", bd);
    printf("storage model test: seed %" PRIu64 " (DATACAVE_SEED=%" PRIu64
           " replays it), %lu ops per model run\n",
           base_seed, base_seed, model_ops);
    fflush(stdout);

    char *mods[16];
    int nmods = 0;
    char *list = NULL;
    env = getenv("DATACAVE_STORAGE_MODULES");
    if (env != NULL && *env) {
        list = strdup(env);
        for (char *tok = strtok(list, " \t"); tok && nmods < 16;
             tok = strtok(NULL, " \t"))
            mods[nmods++] = tok;
    } else {
        static char cand[2][PATH_MAX + 32];
        snprintf(cand[0], sizeof cand[0], "%s/modules/memory.so", build_dir);
        snprintf(cand[1], sizeof cand[1], "%s/modules/lsm.so", build_dir);
        for (int i = 0; i < 2; i++)
            if (access(cand[i], R_OK) == 0)
                mods[nmods++] = cand[i];
    }

    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty_store),
        cmocka_unit_test(test_key_seq_and_notfound),
        cmocka_unit_test(test_bounds),
        cmocka_unit_test(test_open_rules),
        cmocka_unit_test(test_version_gc),
        cmocka_unit_test(test_model_small_keyspace),
        cmocka_unit_test(test_model_large_keyspace),
        cmocka_unit_test(test_concurrency),
    };
    int failed = 0;
    if (nmods == 0) {
        const struct CMUnitTest none[] = {cmocka_unit_test(test_no_module)};
        failed = cmocka_run_group_tests_name("storage model", none, NULL, NULL);
    }
    for (int i = 0; i < nmods; i++) {
        char name[PATH_MAX + 32];
        snprintf(name, sizeof name, "storage model: %s", mods[i]);
        memset(&E, 0, sizeof E);
        E.so = mods[i];
        failed += cmocka_run_group_tests_name(name, tests, engine_setup,
                                              engine_teardown);
        /* The lsm engine again with tiny memtables, files and levels, so
         * the same checks run across flushes, compactions and reopens of
         * multi-level stores. */
        size_t l = strlen(mods[i]);
        if (l >= 6 && strcmp(mods[i] + l - 6, "lsm.so") == 0) {
            snprintf(name, sizeof name, "storage model: %s, small sizes",
                     mods[i]);
            memset(&E, 0, sizeof E);
            E.so = mods[i];
            E.storage_extra = "memtable_max_bytes = 4096\n"
                              "sstable_target_bytes = 4096\n"
                              "compaction_interval_secs = 1\n";
            E.module_extra = "[module.lsm]\nl0_compaction_trigger = 2\n"
                             "l0_stop_writes = 6\nl1_max_bytes = 65536\n"
                             "block_size = 512\n";
            failed += cmocka_run_group_tests_name(name, tests, engine_setup,
                                                  engine_teardown);
            /* And with a bulk-write threshold small enough that most
             * multi-op batches become table files of their own (written
             * past the WAL and the memtable), among small ones. */
            snprintf(name, sizeof name, "storage model: %s, bulk writes",
                     mods[i]);
            memset(&E, 0, sizeof E);
            E.so = mods[i];
            E.storage_extra = "memtable_max_bytes = 16384\n"
                              "compaction_interval_secs = 1\n";
            E.module_extra = "[module.lsm]\nbulk_write_bytes = 256\n"
                             "l0_compaction_trigger = 3\nl1_max_bytes = 65536\n"
                             "block_size = 512\n";
            /* Each bulk write fsyncs a file and the manifest: fewer ops. */
            unsigned long saved_ops = model_ops;
            model_ops = model_ops / 10 ? model_ops / 10 : 1;
            failed += cmocka_run_group_tests_name(name, tests, engine_setup,
                                                  engine_teardown);
            model_ops = saved_ops;
        }
    }
    free(list);
    return failed != 0;
}
