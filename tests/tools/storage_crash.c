/*
 * storage_crash.c - crash and corruption driver for durable storage modules.
 *
 * Loads one storage module through the host's loader (as the server does)
 * and runs one of these modes:
 *
 *   child  --module SO --dir DIR --seed N [--threads T] [--id-base B]
 *          [--batches N] [--self-verify]
 *       Commits batches with DC_SYNC_ALWAYS forever (or N batches per
 *       thread).  Batch `id` puts/deletes 1..8 keys of a 2000-key space
 *       ("k/%04u"), sometimes starts with a range delete, and always puts
 *       the marker "batch/<id>" whose value lists the batch's operations.
 *       After write() returns 0 it prints "ack <id> <seq>" (one write(2)
 *       per line): the acknowledgement.  T writer threads (default 2) use
 *       disjoint ids (base + t + T*n) to exercise group commit.  With
 *       --batches and --self-verify it verifies the open store itself at the
 *       end (a check of the verifier on non-durable engines).
 *
 *   verify --module SO --dir DIR --acked FILE
 *       Opens the store and checks it against the markers it holds and the
 *       acknowledgements in FILE (lines "ack <id> <seq>", a torn last line
 *       is ignored):
 *         - every acked batch's marker is present with the acked seq
 *           (key_seq of the marker key);
 *         - marker seqs are distinct and contiguous, and the newest is
 *           stats.last_seq (no batch lost while a later one survived);
 *         - every key holds exactly what the newest (by seq) present batch
 *           that touched it left (its exact value, or absent after a
 *           delete / range delete), or is absent when no present batch
 *           touched it: so no batch is ever half present; get, a full scan
 *           and key_seq agree;
 *         - nothing else is in the store.
 *       Exit 0 when all holds; otherwise prints the first violation, exit 1.
 *
 *   populate --module SO --dir DIR [--keys N]
 *       Corruption tests: writes N keys "c/%06u" in three flushed parts
 *       (SST files, manifest edits), then 30 synced single-key batches
 *       "w/%04u" left in the WAL, then _exit(0) without closing.
 *
 *   check --module SO --dir DIR [--keys N]
 *       Opens the populated store and reads everything (scan + gets).
 *       Exit 0: every value right; 10: an error (printed as
 *       "ERROR: <status>: <message> | <detail>"); 11: a wrong answer
 *       returned without an error (printed).
 *
 *   corrupt --file F --what sst|record|header [--seed N]
 *       Flips one byte (xor 0xff) of F: sst: somewhere in the data blocks
 *       (offset 32 up to the filter or index block); record: in the payload
 *       of a record of a WAL-framed file (docs/storage-wal.md) that is not
 *       its last (needs >= 2 records; the middle one with >= 3); header:
 *       byte 20 (segment number, covered by the header CRC).  Prints
 *       "flipped F at OFFSET".  Exit 2 when the file does not allow it.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "datacave/storage.h"
#include "loader.h"
#include "util.h"

#define NKEYS 2000u
#define MAX_OPS 12

/* ==== loading the module ================================================== */

typedef struct eng {
    dc_config *cfg;
    dc_runtime *rt;
    const dc_storage_vtable *vt;
    void *inst;
    const char *name;
    dc_store *st;
} eng;

static void print_errors(const char *what, dc_strlist *l)
{
    for (size_t i = 0; i < l->len; i++)
        fprintf(stderr, "%s: %s\n", what, l->items[i]);
}

/* Load `so`, open the store in `dir`.  Returns 0, or 10 with the error
 * printed as "ERROR: ..." (open failures), or 2 for setup failures. */
static void eng_close(eng *e);

/* Load the module and open the store in dir.  0 on success; on failure
 * everything made so far is released (2: set-up failed, 10: open failed). */
static int eng_open_inner(eng *e, const char *so, const char *dir,
                          long long memtable, bool create)
{
    memset(e, 0, sizeof *e);
    char sopath[PATH_MAX], moddir[PATH_MAX], absdir[PATH_MAX];
    if (realpath(so, sopath) == NULL) {
        fprintf(stderr, "module %s: %s\n", so, strerror(errno));
        return 2;
    }
    snprintf(moddir, sizeof moddir, "%s", sopath);
    char *slash = strrchr(moddir, '/');
    if (slash)
        *slash = '\0';
    if (create)
        mkdir(dir, 0755);
    if (realpath(dir, absdir) == NULL)
        snprintf(absdir, sizeof absdir, "%s", dir);
    char text[3 * PATH_MAX + 1024];
    /* CRASH_BULK_BYTES: the lsm engine's bulk_write_bytes, so that batches
     * become table files of their own (written past the WAL). */
    const char *bulk = getenv("CRASH_BULK_BYTES");
    char bulk_opt[96] = "";
    if (bulk != NULL && *bulk != '\0' &&
        strstr(sopath, "lsm") != NULL)
        snprintf(bulk_opt, sizeof bulk_opt,
                 "[module.lsm]\nbulk_write_bytes = %lld\n", atoll(bulk));
    /* CRASH_ENCRYPTION_KEY (base64): encryption at rest with the aes-gcm
     * module and that key (lsm only). */
    const char *key = getenv("CRASH_ENCRYPTION_KEY");
    char enc_opt[160] = "";
    const char *enc_mod = "none";
    if (key != NULL && *key != '\0' && strlen(key) < 100 &&
        strstr(sopath, "lsm") != NULL) {
        snprintf(enc_opt, sizeof enc_opt,
                 "encryption_enabled = true\nencryption_key_base64 = \"%s\"\n",
                 key);
        enc_mod = "aes-gcm";
    }
    snprintf(text, sizeof text,
             "[server]\nmodule_dir = \"%s\"\n"
             "[log]\nlevel = \"warn\"\n"
             "[storage]\ndata_dir = \"%s\"\n"
             "memtable_max_bytes = %lld\n"
             "sstable_target_bytes = %lld\n"
             "compaction_interval_secs = 1\n%s"
             "[modules]\nprotocol = \"\"\nsql = \"\"\nstorage = \"\"\n"
             "auth = \"\"\nencryption = \"%s\"\nmetrics = \"\"\n%s",
             moddir, absdir, memtable, memtable, enc_opt, enc_mod, bulk_opt);
    dc_strlist errors = {0};
    e->cfg = dc_config_parse(text, strlen(text), "storage-crash-config",
                             absdir, &errors);
    if (e->cfg == NULL) {
        print_errors("config", &errors);
        dc_strlist_free(&errors);
        return 2;
    }
    e->rt = dc_runtime_new(e->cfg);
    if (dc_runtime_load_file(e->rt, DC_KIND_STORAGE, sopath, &errors) != 0) {
        print_errors("load", &errors);
        dc_strlist_free(&errors);
        return 2;
    }
    dc_module *m = dc_runtime_module(e->rt, DC_KIND_STORAGE);
    uint32_t mask = 0;
    for (uint32_t i = 0; i < m->desc->ndeps; i++)
        mask |= 1u << m->desc->deps[i].kind;
    if ((mask && dc_runtime_load(e->rt, mask, &errors) != 0) ||
        dc_runtime_resolve(e->rt, false, &errors) != 0) {
        print_errors("load", &errors);
        dc_strlist_free(&errors);
        return 2;
    }
    dc_strlist_free(&errors);
    dc_error err;
    dc_error_init(&err);
    if (dc_runtime_init(e->rt, &err) != 0) {
        fprintf(stderr, "init: %s\n", err.message);
        return 2;
    }
    e->vt = m->desc->vtable;
    e->inst = m->instance;
    e->name = m->desc->name;
    dc_store_options o = {.size = sizeof o,
                          .path = absdir,
                          .create_if_missing = create,
                          .read_only = false};
    dc_error_init(&err);
    int rc = e->vt->open(e->inst, &o, &e->st, &err);
    if (rc != 0) {
        printf("ERROR: open: %s (%d): %s | %s\n", dc_status_name(rc), rc,
               err.message, err.detail);
        fflush(stdout);
        e->st = NULL;
        return 10;
    }
    return 0;
}

static int eng_open(eng *e, const char *so, const char *dir,
                    long long memtable, bool create)
{
    int rc = eng_open_inner(e, so, dir, memtable, create);
    if (rc != 0)
        eng_close(e);
    return rc;
}

static void eng_close(eng *e)
{
    if (e->st)
        e->vt->close(e->st);
    e->st = NULL;
    if (e->rt) {
        dc_runtime_shutdown(e->rt);
        dc_runtime_free(e->rt);
    }
    dc_config_free(e->cfg);
    e->rt = NULL;
    e->cfg = NULL;
}

/* ==== helpers ============================================================== */

static uint64_t mix64(uint64_t z)
{
    z += 0x9e3779b97f4a7c15ull;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint64_t rnd(uint64_t *s)
{
    *s += 0x9e3779b97f4a7c15ull;
    return mix64(*s);
}

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (p == NULL) {
        fprintf(stderr, "out of memory\n");
        exit(2);
    }
    return p;
}

static void *xrealloc(void *p, size_t n)
{
    p = realloc(p, n ? n : 1);
    if (p == NULL) {
        fprintf(stderr, "out of memory\n");
        exit(2);
    }
    return p;
}

/* The value batch `id` puts into key `k`: exact, reproducible. */
static size_t make_value(char *buf, size_t cap, uint64_t id, unsigned k)
{
    int n = snprintf(buf, cap, "b%" PRIu64 "/k%u/", id, k);
    size_t len = (size_t)n;
    size_t pad = (size_t)(mix64(id * 7919u + k) % 120u);
    for (size_t i = 0; i < pad && len + 1 < cap; i++)
        buf[len++] = (char)('a' + (id + k + i) % 26u);
    buf[len] = '\0';
    return len;
}

static size_t key_name(char *buf, size_t cap, unsigned k)
{
    return (size_t)snprintf(buf, cap, "k/%04u", k);
}

static size_t marker_name(char *buf, size_t cap, uint64_t id)
{
    return (size_t)snprintf(buf, cap, "batch/%" PRIu64, id);
}

/* ==== child ================================================================ */

typedef struct ack {
    uint64_t id, seq;
} ack;

typedef struct child_ctx {
    eng *e;
    uint64_t seed, id_base;
    unsigned t, nthreads;
    unsigned long batches; /* 0: forever */
    int status;
} child_ctx;

static pthread_mutex_t out_mu = PTHREAD_MUTEX_INITIALIZER;
static ack *self_acks;
static size_t self_nacks, self_cap;
static bool self_verify;

static void *child_thread(void *arg)
{
    child_ctx *c = arg;
    uint64_t rs = mix64(c->seed ^ (0x1234567ull * (c->t + 1)));
    char keys[MAX_OPS][32];
    char vals[MAX_OPS][256];
    char marker[64];
    char mval[512];
    dc_batch_op ops[MAX_OPS];
    for (unsigned long n = 0; c->batches == 0 || n < c->batches; n++) {
        uint64_t id = c->id_base + c->t + (uint64_t)c->nthreads * n;
        size_t nops = 0, mlen = 0;
        mval[0] = '\0';
        if (rnd(&rs) % 10 == 0) { /* range delete first */
            unsigned a = (unsigned)(rnd(&rs) % NKEYS);
            unsigned b = a + 1 + (unsigned)(rnd(&rs) % 20);
            if (b > NKEYS)
                b = NKEYS;
            key_name(keys[nops], sizeof keys[nops], a);
            key_name(vals[nops], sizeof vals[nops], b);
            ops[nops] = (dc_batch_op){DC_OP_DELETE_RANGE,
                                      (const uint8_t *)keys[nops],
                                      strlen(keys[nops]),
                                      (const uint8_t *)vals[nops],
                                      strlen(vals[nops])};
            nops++;
            mlen += (size_t)snprintf(mval + mlen, sizeof mval - mlen,
                                     "r%u-%u ", a, b);
        }
        unsigned nk = 1 + (unsigned)(rnd(&rs) % 8);
        for (unsigned i = 0; i < nk; i++) {
            unsigned k = (unsigned)(rnd(&rs) % NKEYS);
            bool del = rnd(&rs) % 100 < 15;
            key_name(keys[nops], sizeof keys[nops], k);
            if (del) {
                ops[nops] = (dc_batch_op){DC_OP_DELETE,
                                          (const uint8_t *)keys[nops],
                                          strlen(keys[nops]), NULL, 0};
            } else {
                size_t vl = make_value(vals[nops], sizeof vals[nops], id, k);
                ops[nops] = (dc_batch_op){DC_OP_PUT,
                                          (const uint8_t *)keys[nops],
                                          strlen(keys[nops]),
                                          (const uint8_t *)vals[nops], vl};
            }
            nops++;
            mlen += (size_t)snprintf(mval + mlen, sizeof mval - mlen,
                                     "%c%u ", del ? 'd' : 'p', k);
        }
        size_t ml = marker_name(marker, sizeof marker, id);
        ops[nops++] = (dc_batch_op){DC_OP_PUT, (const uint8_t *)marker, ml,
                                    (const uint8_t *)mval, mlen};
        dc_write_options wo = {.size = sizeof wo, .sync = DC_SYNC_ALWAYS};
        dc_error err;
        dc_error_init(&err);
        uint64_t seq = 0;
        int rc = c->e->vt->write(c->e->st, &wo, ops, nops, &seq, &err);
        if (rc != 0) {
            fprintf(stderr, "child: write of batch %" PRIu64 " failed: %s "
                    "(%d): %s\n", id, dc_status_name(rc), rc, err.message);
            c->status = 1;
            return NULL;
        }
        pthread_mutex_lock(&out_mu);
        char line[80];
        int ll = snprintf(line, sizeof line, "ack %" PRIu64 " %" PRIu64 "\n",
                          id, seq);
        /* One write(2) per line: a SIGKILL leaves whole lines only (and at
         * worst a torn last one, which verify ignores). */
        ssize_t off = 0;
        while (off < ll) {
            ssize_t w = write(1, line + off, (size_t)(ll - off));
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0) {
                pthread_mutex_unlock(&out_mu);
                fprintf(stderr, "child: stdout: %s\n", strerror(errno));
                c->status = 1;
                return NULL;
            }
            off += w;
        }
        if (self_verify) {
            if (self_nacks == self_cap) {
                self_cap = self_cap ? 2 * self_cap : 256;
                self_acks = xrealloc(self_acks, self_cap * sizeof *self_acks);
            }
            self_acks[self_nacks++] = (ack){id, seq};
        }
        pthread_mutex_unlock(&out_mu);
    }
    return NULL;
}

/* ==== verify =============================================================== */

typedef struct marker {
    uint64_t id, seq;
    char *ops; /* the marker's value, NUL-terminated */
} marker;

typedef struct vstate {
    marker *m;
    size_t nm, capm;
    /* scan results for the k/ keys */
    char *scan_val[NKEYS];
    size_t scan_len[NKEYS];
    bool scan_has[NKEYS];
} vstate;

static int cmp_marker_id(const void *a, const void *b)
{
    const marker *x = a, *y = b;
    return x->id < y->id ? -1 : x->id > y->id;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

typedef struct getbuf {
    char *p;
    size_t n;
} getbuf;

static int get_cb(void *ud, const uint8_t *v, size_t n)
{
    getbuf *g = ud;
    g->p = xmalloc(n + 1);
    if (n)
        memcpy(g->p, v, n);
    g->p[n] = '\0';
    g->n = n;
    return 0;
}

#define VIOL(...)                                                              \
    do {                                                                       \
        printf("VIOLATION: " __VA_ARGS__);                                     \
        printf("\n");                                                          \
        fflush(stdout);                                                        \
        rc = 1;                                                                \
        goto out;                                                              \
    } while (0)

static const char *show(const char *p, size_t n)
{
    static char b[200];
    size_t o = 0;
    for (size_t i = 0; i < n && o + 5 < sizeof b; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c >= 0x20 && c < 0x7f)
            b[o++] = (char)c;
        else
            o += (size_t)snprintf(b + o, sizeof b - o, "\\x%02x", c);
    }
    if (o + 4 < sizeof b && n > 0 && o < n)
        memcpy(b + o, "...", 4), o += 3;
    b[o] = '\0';
    return b;
}

/* Check the open store against its markers and the acknowledged batches. */
static int verify_store(eng *e, const ack *acks, size_t nacks)
{
    int rc = 0;
    vstate *vs = calloc(1, sizeof *vs);
    uint64_t *seqs = NULL;
    uint64_t best_seq[NKEYS];
    uint64_t best_id[NKEYS];
    bool best_put[NKEYS];
    memset(best_seq, 0, sizeof best_seq);
    memset(best_id, 0, sizeof best_id);
    memset(best_put, 0, sizeof best_put);
    if (vs == NULL)
        return 2;
    dc_error err;

    /* 1. full scan */
    dc_read_options ro = {.size = sizeof ro};
    dc_iter *it = NULL;
    dc_error_init(&err);
    int r = e->vt->iter_open(e->st, &ro, &it, &err);
    if (r != 0)
        VIOL("iter_open failed: %s (%d): %s", dc_status_name(r), r,
             err.message);
    e->vt->iter_seek_first(it);
    const char *prevk = NULL;
    size_t prevn = 0;
    char prevbuf[128];
    for (; e->vt->iter_valid(it); e->vt->iter_next(it)) {
        const uint8_t *k, *v;
        size_t kn, vn;
        e->vt->iter_key(it, &k, &kn);
        e->vt->iter_value(it, &v, &vn);
        if (prevk) {
            size_t mn = kn < prevn ? kn : prevn;
            int c = memcmp(prevk, k, mn);
            if (c > 0 || (c == 0 && prevn >= kn)) {
                e->vt->iter_close(it);
                VIOL("scan out of order: '%s' after '%s'",
                     show((const char *)k, kn), prevbuf);
            }
        }
        if (kn < sizeof prevbuf) {
            memcpy(prevbuf, k, kn);
            prevbuf[kn] = '\0';
            prevk = prevbuf;
            prevn = kn;
        }
        char kb[64];
        if (kn >= sizeof kb) {
            e->vt->iter_close(it);
            VIOL("unexpected key in scan: '%s'", show((const char *)k, kn));
        }
        memcpy(kb, k, kn);
        kb[kn] = '\0';
        char *end;
        if (strncmp(kb, "batch/", 6) == 0) {
            errno = 0;
            unsigned long long id = strtoull(kb + 6, &end, 10);
            if (*end || errno || kb[6] == '\0') {
                e->vt->iter_close(it);
                VIOL("unexpected key in scan: '%s'", kb);
            }
            if (vs->nm == vs->capm) {
                vs->capm = vs->capm ? 2 * vs->capm : 1024;
                vs->m = xrealloc(vs->m, vs->capm * sizeof *vs->m);
            }
            marker *m = &vs->m[vs->nm++];
            m->id = id;
            m->seq = 0;
            m->ops = xmalloc(vn + 1);
            if (vn)
                memcpy(m->ops, v, vn);
            m->ops[vn] = '\0';
        } else if (strncmp(kb, "k/", 2) == 0 && kn == 6) {
            unsigned long kk = strtoul(kb + 2, &end, 10);
            if (*end || kk >= NKEYS) {
                e->vt->iter_close(it);
                VIOL("unexpected key in scan: '%s'", kb);
            }
            vs->scan_has[kk] = true;
            vs->scan_val[kk] = xmalloc(vn + 1);
            if (vn)
                memcpy(vs->scan_val[kk], v, vn);
            vs->scan_len[kk] = vn;
        } else {
            e->vt->iter_close(it);
            VIOL("unexpected key in scan: '%s'", show(kb, kn));
        }
    }
    dc_error_init(&err);
    r = e->vt->iter_status(it, &err);
    e->vt->iter_close(it);
    if (r != 0)
        VIOL("scan failed: %s (%d): %s", dc_status_name(r), r, err.message);

    /* 2. marker seqs, by key_seq of the marker key */
    for (size_t i = 0; i < vs->nm; i++) {
        char mk[64];
        size_t ml = marker_name(mk, sizeof mk, vs->m[i].id);
        uint64_t s = 0;
        dc_error_init(&err);
        r = e->vt->key_seq(e->st, (const uint8_t *)mk, ml, &s, &err);
        if (r != 0)
            VIOL("key_seq(%s) failed: %s (%d): %s", mk, dc_status_name(r), r,
                 err.message);
        if (s == 0)
            VIOL("key_seq(%s) = 0 for a present marker", mk);
        vs->m[i].seq = s;
    }
    qsort(vs->m, vs->nm, sizeof *vs->m, cmp_marker_id);
    for (size_t i = 1; i < vs->nm; i++)
        if (vs->m[i].id == vs->m[i - 1].id)
            VIOL("marker batch/%" PRIu64 " appears twice in the scan",
                 vs->m[i].id);

    /* 3. seqs distinct and contiguous, newest = stats.last_seq */
    seqs = xmalloc((vs->nm + 1) * sizeof *seqs);
    for (size_t i = 0; i < vs->nm; i++)
        seqs[i] = vs->m[i].seq;
    qsort(seqs, vs->nm, sizeof *seqs, cmp_u64);
    for (size_t i = 1; i < vs->nm; i++) {
        if (seqs[i] == seqs[i - 1])
            VIOL("two present batches have seq %" PRIu64, seqs[i]);
        if (seqs[i] != seqs[i - 1] + 1)
            VIOL("seq gap: batches with seqs %" PRIu64 " and %" PRIu64
                 " are present but none with the seqs between (a batch was "
                 "lost while a later one survived)",
                 seqs[i - 1], seqs[i]);
    }
    if (e->vt->stats && vs->nm > 0) {
        dc_store_stats st;
        memset(&st, 0, sizeof st);
        st.size = sizeof st;
        if (e->vt->stats(e->st, &st) == 0 && st.last_seq < seqs[vs->nm - 1])
            VIOL("stats.last_seq %" PRIu64 " is below the newest batch's "
                 "seq %" PRIu64, st.last_seq, seqs[vs->nm - 1]);
    }

    /* 4. acknowledged batches are present, with their seq */
    for (size_t i = 0; i < nacks; i++) {
        marker key = {.id = acks[i].id};
        marker *m = bsearch(&key, vs->m, vs->nm, sizeof *vs->m,
                            cmp_marker_id);
        if (m == NULL)
            VIOL("acknowledged batch %" PRIu64 " (seq %" PRIu64
                 ") is missing: its marker batch/%" PRIu64 " is absent",
                 acks[i].id, acks[i].seq, acks[i].id);
        if (m->seq != acks[i].seq)
            VIOL("acknowledged batch %" PRIu64 " had seq %" PRIu64
                 " but its marker's key_seq is %" PRIu64,
                 acks[i].id, acks[i].seq, m->seq);
    }

    /* 5. the model: per key, the newest present batch that touched it */
    for (size_t i = 0; i < vs->nm; i++) {
        marker *m = &vs->m[i];
        /* the batch's effect on each key, ops in order */
        signed char eff[NKEYS];
        memset(eff, 0, sizeof eff); /* 0 untouched, 1 put, -1 deleted */
        char *p = m->ops;
        while (*p) {
            char kind = *p++;
            char *end;
            unsigned long a = strtoul(p, &end, 10);
            if (end == p || a >= NKEYS)
                VIOL("marker batch/%" PRIu64 " has a bad value '%s'", m->id,
                     show(m->ops, strlen(m->ops)));
            p = end;
            if (kind == 'r') {
                if (*p != '-')
                    VIOL("marker batch/%" PRIu64 " has a bad value '%s'",
                         m->id, show(m->ops, strlen(m->ops)));
                unsigned long b = strtoul(p + 1, &end, 10);
                if (b > NKEYS)
                    VIOL("marker batch/%" PRIu64 " has a bad value", m->id);
                p = end;
                for (unsigned long k = a; k < b; k++)
                    eff[k] = -1;
            } else if (kind == 'p') {
                eff[a] = 1;
            } else if (kind == 'd') {
                eff[a] = -1;
            } else {
                VIOL("marker batch/%" PRIu64 " has a bad value '%s'", m->id,
                     show(m->ops, strlen(m->ops)));
            }
            if (*p != ' ')
                VIOL("marker batch/%" PRIu64 " has a bad value '%s'", m->id,
                     show(m->ops, strlen(m->ops)));
            p++;
        }
        for (unsigned k = 0; k < NKEYS; k++) {
            if (eff[k] != 0 && m->seq > best_seq[k]) {
                best_seq[k] = m->seq;
                best_id[k] = m->id;
                best_put[k] = eff[k] > 0;
            }
        }
    }
    for (unsigned k = 0; k < NKEYS; k++) {
        char kb[32], want[256];
        size_t kl = key_name(kb, sizeof kb, k);
        size_t wl = 0;
        bool want_has = best_seq[k] != 0 && best_put[k];
        if (want_has)
            wl = make_value(want, sizeof want, best_id[k], k);
        getbuf g = {NULL, 0};
        dc_error_init(&err);
        r = e->vt->get(e->st, NULL, (const uint8_t *)kb, kl, get_cb, &g,
                       &err);
        if (r != 0 && r != DC_ENOTFOUND)
            VIOL("get(%s) failed: %s (%d): %s", kb, dc_status_name(r), r,
                 err.message);
        bool got = r == 0;
        char gshow[210];
        snprintf(gshow, sizeof gshow, "%s", got ? show(g.p, g.n) : "");
        bool same = got && want_has && g.n == wl &&
                    (wl == 0 || memcmp(g.p, want, wl) == 0);
        free(g.p);
        if (want_has && !got)
            VIOL("key %s is absent; batch %" PRIu64 " (seq %" PRIu64
                 ", present) put it last", kb, best_id[k], best_seq[k]);
        if (!want_has && got) {
            if (best_seq[k])
                VIOL("key %s holds '%s'; batch %" PRIu64 " (seq %" PRIu64
                     ", present) deleted it last", kb, gshow, best_id[k],
                     best_seq[k]);
            VIOL("key %s holds '%s' but no present batch wrote it (half "
                 "of a lost batch?)", kb, gshow);
        }
        if (want_has && !same)
            VIOL("key %s holds '%s'; batch %" PRIu64 " (seq %" PRIu64
                 ", present) put '%s' last (the value is from another batch "
                 "or damaged: half a batch?)", kb, gshow, best_id[k],
                 best_seq[k], show(want, wl));
        if (vs->scan_has[k] != want_has)
            VIOL("key %s: the scan %s it but get %s it", kb,
                 vs->scan_has[k] ? "returns" : "does not return",
                 want_has ? "finds" : "does not find");
        if (want_has && (vs->scan_len[k] != wl ||
                         memcmp(vs->scan_val[k], want, wl) != 0))
            VIOL("key %s: the scan returns '%s', expected '%s'", kb,
                 show(vs->scan_val[k], vs->scan_len[k]), show(want, wl));
        if (want_has) {
            uint64_t s = 0;
            dc_error_init(&err);
            r = e->vt->key_seq(e->st, (const uint8_t *)kb, kl, &s, &err);
            if (r != 0)
                VIOL("key_seq(%s) failed: %s (%d): %s", kb,
                     dc_status_name(r), r, err.message);
            if (s != best_seq[k])
                VIOL("key_seq(%s) = %" PRIu64 ", but the newest present batch "
                     "that wrote it has seq %" PRIu64, kb, s, best_seq[k]);
        }
    }
    printf("verify: ok: %zu batches present (seqs %" PRIu64 "..%" PRIu64
           "), %zu acknowledged\n", vs->nm, vs->nm ? seqs[0] : 0,
           vs->nm ? seqs[vs->nm - 1] : 0, nacks);
out:
    free(seqs);
    for (size_t i = 0; i < vs->nm; i++)
        free(vs->m[i].ops);
    free(vs->m);
    for (unsigned k = 0; k < NKEYS; k++)
        free(vs->scan_val[k]);
    free(vs);
    return rc;
}

static ack *read_acks(const char *path, size_t *n)
{
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        fprintf(stderr, "verify: %s: %s\n", path, strerror(errno));
        exit(2);
    }
    ack *a = NULL;
    size_t cap = 0;
    *n = 0;
    char line[256];
    while (fgets(line, sizeof line, f)) {
        size_t l = strlen(line);
        if (l == 0 || line[l - 1] != '\n')
            continue; /* torn last line */
        unsigned long long id, seq;
        char extra;
        if (sscanf(line, "ack %llu %llu %c", &id, &seq, &extra) != 2)
            continue;
        if (*n == cap) {
            cap = cap ? 2 * cap : 1024;
            a = xrealloc(a, cap * sizeof *a);
        }
        a[(*n)++] = (ack){id, seq};
    }
    fclose(f);
    return a;
}

/* ==== corruption: populate, check, corrupt ================================= */

#define WAL_BATCHES 30u

static size_t cval(char *buf, size_t cap, unsigned i)
{
    int n = snprintf(buf, cap, "value-%06u-", i);
    size_t len = (size_t)n;
    size_t pad = 20 + (size_t)(mix64(i) % 60);
    for (size_t j = 0; j < pad && len + 1 < cap; j++)
        buf[len++] = (char)('A' + (i * 7 + j) % 26);
    buf[len] = '\0';
    return len;
}

static int do_populate(eng *e, unsigned nkeys)
{
    dc_write_options wo = {.size = sizeof wo, .sync = DC_SYNC_NONE};
    dc_error err;
    char kb[100][32], vb[100][128];
    dc_batch_op ops[100];
    if (e->vt->flush == NULL) {
        fprintf(stderr, "populate: module %s has no flush\n", e->name);
        return 2;
    }
    for (unsigned part = 0; part < 3; part++) {
        unsigned lo = nkeys * part / 3, hi = nkeys * (part + 1) / 3;
        for (unsigned i = lo; i < hi;) {
            size_t n = 0;
            for (; n < 100 && i < hi; n++, i++) {
                size_t kl = (size_t)snprintf(kb[n], sizeof kb[n], "c/%06u", i);
                size_t vl = cval(vb[n], sizeof vb[n], i);
                ops[n] = (dc_batch_op){DC_OP_PUT, (const uint8_t *)kb[n], kl,
                                       (const uint8_t *)vb[n], vl};
            }
            dc_error_init(&err);
            int rc = e->vt->write(e->st, &wo, ops, n, NULL, &err);
            if (rc != 0) {
                fprintf(stderr, "populate: write: %s\n", err.message);
                return 2;
            }
        }
        dc_error_init(&err);
        int rc = e->vt->flush(e->st, &err);
        if (rc != 0) {
            fprintf(stderr, "populate: flush: %s\n", err.message);
            return 2;
        }
    }
    wo.sync = DC_SYNC_ALWAYS;
    for (unsigned i = 0; i < WAL_BATCHES; i++) {
        size_t kl = (size_t)snprintf(kb[0], sizeof kb[0], "w/%04u", i);
        size_t vl = cval(vb[0], sizeof vb[0], 1000000u + i);
        ops[0] = (dc_batch_op){DC_OP_PUT, (const uint8_t *)kb[0], kl,
                               (const uint8_t *)vb[0], vl};
        dc_error_init(&err);
        int rc = e->vt->write(e->st, &wo, ops, 1, NULL, &err);
        if (rc != 0) {
            fprintf(stderr, "populate: write: %s\n", err.message);
            return 2;
        }
    }
    printf("populated: %u keys in 3 flushes, %u batches in the WAL\n", nkeys,
           WAL_BATCHES);
    fflush(stdout);
    fflush(stderr);
    _exit(0); /* a crash: the WAL batches stay unflushed */
}

static int check_err(const char *what, int rc, const dc_error *err)
{
    printf("ERROR: %s: %s (%d): %s | %s\n", what, dc_status_name(rc), rc,
           err->message, err->detail);
    fflush(stdout);
    return 10;
}

/* The expected key of index i among the nkeys + WAL_BATCHES keys, sorted. */
static size_t expected_kv(unsigned nkeys, unsigned i, char *kb, size_t kc,
                          char *vb, size_t vc, size_t *vl)
{
    if (i < nkeys) {
        *vl = cval(vb, vc, i);
        return (size_t)snprintf(kb, kc, "c/%06u", i);
    }
    unsigned w = i - nkeys;
    *vl = cval(vb, vc, 1000000u + w);
    return (size_t)snprintf(kb, kc, "w/%04u", w);
}

static int do_check(eng *e, unsigned nkeys)
{
    unsigned total = nkeys + WAL_BATCHES;
    dc_error err;
    dc_read_options ro = {.size = sizeof ro};
    dc_iter *it = NULL;
    dc_error_init(&err);
    int rc = e->vt->iter_open(e->st, &ro, &it, &err);
    if (rc != 0)
        return check_err("iter_open", rc, &err);
    e->vt->iter_seek_first(it);
    unsigned i = 0;
    char kb[32], vb[128];
    size_t vl;
    for (; e->vt->iter_valid(it); e->vt->iter_next(it), i++) {
        const uint8_t *k, *v;
        size_t kn, vn;
        e->vt->iter_key(it, &k, &kn);
        e->vt->iter_value(it, &v, &vn);
        if (i >= total) {
            printf("WRONG: scan returns extra key '%s'\n",
                   show((const char *)k, kn));
            e->vt->iter_close(it);
            return 11;
        }
        size_t kl = expected_kv(nkeys, i, kb, sizeof kb, vb, sizeof vb, &vl);
        if (kn != kl || memcmp(k, kb, kl) != 0) {
            printf("WRONG: scan entry %u is key '%s', expected '%s'\n", i,
                   show((const char *)k, kn), kb);
            e->vt->iter_close(it);
            return 11;
        }
        if (vn != vl || memcmp(v, vb, vl) != 0) {
            printf("WRONG: scan: key '%s' has value '%s', expected '%s'\n",
                   kb, show((const char *)v, vn), vb);
            e->vt->iter_close(it);
            return 11;
        }
    }
    dc_error_init(&err);
    rc = e->vt->iter_status(it, &err);
    e->vt->iter_close(it);
    if (rc != 0)
        return check_err("scan", rc, &err);
    if (i != total) {
        printf("WRONG: scan returned %u keys without an error, expected %u\n",
               i, total);
        return 11;
    }
    for (i = 0; i < total; i++) {
        size_t kl = expected_kv(nkeys, i, kb, sizeof kb, vb, sizeof vb, &vl);
        getbuf g = {NULL, 0};
        dc_error_init(&err);
        rc = e->vt->get(e->st, NULL, (const uint8_t *)kb, kl, get_cb, &g,
                        &err);
        if (rc == DC_ENOTFOUND) {
            printf("WRONG: get(%s): not found without an error\n", kb);
            return 11;
        }
        if (rc != 0)
            return check_err("get", rc, &err);
        bool ok = g.n == vl && memcmp(g.p, vb, vl) == 0;
        if (!ok) {
            printf("WRONG: get(%s) = '%s', expected '%s'\n", kb,
                   show(g.p, g.n), vb);
            free(g.p);
            return 11;
        }
        free(g.p);
    }
    printf("check: all %u keys read back right\n", total);
    return 0;
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

static uint64_t get64(const uint8_t *p)
{
    return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

static int do_corrupt(const char *file, const char *what, uint64_t seed)
{
    int fd = open(file, O_RDWR);
    if (fd < 0) {
        fprintf(stderr, "corrupt: %s: %s\n", file, strerror(errno));
        return 2;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || st.st_size < 0) {
        fprintf(stderr, "corrupt: %s: %s\n", file, strerror(errno));
        close(fd);
        return 2;
    }
    size_t size = (size_t)st.st_size;
    uint8_t *buf = xmalloc(size);
    if (pread(fd, buf, size, 0) != (ssize_t)size) {
        fprintf(stderr, "corrupt: %s: short read\n", file);
        close(fd);
        free(buf);
        return 2;
    }
    uint64_t rs = seed;
    size_t off = 0;
    int rc = 0;
    if (strcmp(what, "sst") == 0) {
        if (size < 32 + 56 + 6) {
            fprintf(stderr, "corrupt: %s: too small for an sst\n", file);
            rc = 2;
            goto out;
        }
        const uint8_t *ft = buf + size - 56;
        uint64_t index_off = get64(ft), filter_off = get64(ft + 16),
                 filter_size = get64(ft + 24);
        uint64_t end = filter_size ? filter_off : index_off;
        if (end <= 32 || end > size - 56) {
            fprintf(stderr, "corrupt: %s: footer gives no data region "
                    "(index %" PRIu64 ", filter %" PRIu64 ")\n", file,
                    index_off, filter_off);
            rc = 2;
            goto out;
        }
        off = 32 + (size_t)(rnd(&rs) % (end - 32));
    } else if (strcmp(what, "record") == 0) {
        size_t offs[4096], lens[4096], n = 0;
        for (size_t o = 32; o + 8 <= size && n < 4096;) {
            size_t len = get32(buf + o + 4);
            if (len > size - o - 8)
                break;
            if (len == 0 && get32(buf + o) == 0)
                break; /* the zeros a segment is extended by: its end */
            offs[n] = o;
            lens[n] = len;
            n++;
            o += 8 + len;
        }
        if (n < 2) {
            fprintf(stderr, "corrupt: %s: %zu records, need 2\n", file, n);
            rc = 2;
            goto out;
        }
        size_t r = n >= 3 ? n / 2 : 0;
        off = lens[r] ? offs[r] + 8 + (size_t)(rnd(&rs) % lens[r])
                      : offs[r] + 4;
        printf("record %zu of %zu at offset %zu\n", r, n, offs[r]);
    } else if (strcmp(what, "header") == 0) {
        if (size < 32) {
            fprintf(stderr, "corrupt: %s: shorter than a header\n", file);
            rc = 2;
            goto out;
        }
        off = 20;
    } else {
        fprintf(stderr, "corrupt: unknown --what %s\n", what);
        rc = 2;
        goto out;
    }
    buf[off] ^= 0xff;
    if (pwrite(fd, buf + off, 1, (off_t)off) != 1) {
        fprintf(stderr, "corrupt: %s: write: %s\n", file, strerror(errno));
        rc = 2;
        goto out;
    }
    printf("flipped %s at %zu\n", file, off);
out:
    close(fd);
    free(buf);
    return rc;
}

/* Self-test of the verifier (--inject K with --self-verify): damage the
 * store the way a broken engine could, so verify must report it.
 * 1: drop an acked batch's marker; 2: a key with a value of a batch that is
 * not present (half a lost batch); 3: half a batch (its key k/ reverted). */
static void inject_fault(eng *e, int kind)
{
    dc_write_options wo = {.size = sizeof wo, .sync = DC_SYNC_ALWAYS};
    dc_error err;
    dc_error_init(&err);
    char kb[64], vb[256];
    dc_batch_op op;
    if (kind == 1) {
        size_t kl = marker_name(kb, sizeof kb, self_acks[self_nacks / 2].id);
        op = (dc_batch_op){DC_OP_DELETE, (const uint8_t *)kb, kl, NULL, 0};
    } else {
        unsigned k = kind == 2 ? 1999 : 5;
        size_t kl = key_name(kb, sizeof kb, k);
        size_t vl = make_value(vb, sizeof vb, 999999999, k);
        op = (dc_batch_op){DC_OP_PUT, (const uint8_t *)kb, kl,
                           (const uint8_t *)vb, vl};
    }
    if (e->vt->write(e->st, &wo, &op, 1, NULL, &err) != 0)
        fprintf(stderr, "inject: %s\n", err.message);
}

/* ==== main ================================================================= */

static void usage(void)
{
    fprintf(stderr,
            "usage: storage_crash child --module SO --dir DIR --seed N "
            "[--threads T] [--id-base B] [--batches N] [--self-verify]\n"
            "       storage_crash verify --module SO --dir DIR --acked FILE\n"
            "       storage_crash populate|check --module SO --dir DIR "
            "[--keys N]\n"
            "       storage_crash corrupt --file F --what sst|record|header "
            "[--seed N]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    if (argc < 2)
        usage();
    const char *mode = argv[1];
    const char *so = NULL, *dir = NULL, *acked = NULL, *file = NULL,
               *what = NULL;
    uint64_t seed = 1, id_base = 0;
    unsigned threads = 2, nkeys = 6000;
    unsigned long batches = 0;
    int inject = 0;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--self-verify") == 0) {
            self_verify = true;
            continue;
        }
        if (i + 1 >= argc)
            usage();
        const char *v = argv[++i];
        if (strcmp(a, "--module") == 0)
            so = v;
        else if (strcmp(a, "--dir") == 0)
            dir = v;
        else if (strcmp(a, "--acked") == 0)
            acked = v;
        else if (strcmp(a, "--file") == 0)
            file = v;
        else if (strcmp(a, "--what") == 0)
            what = v;
        else if (strcmp(a, "--seed") == 0)
            seed = strtoull(v, NULL, 10);
        else if (strcmp(a, "--id-base") == 0)
            id_base = strtoull(v, NULL, 10);
        else if (strcmp(a, "--threads") == 0)
            threads = (unsigned)strtoul(v, NULL, 10);
        else if (strcmp(a, "--batches") == 0)
            batches = strtoul(v, NULL, 10);
        else if (strcmp(a, "--inject") == 0)
            inject = atoi(v);
        else if (strcmp(a, "--keys") == 0)
            nkeys = (unsigned)strtoul(v, NULL, 10);
        else
            usage();
    }
    if (strcmp(mode, "corrupt") == 0) {
        if (!file || !what)
            usage();
        return do_corrupt(file, what, seed);
    }
    if (!so || !dir)
        usage();
    eng e;
    if (strcmp(mode, "child") == 0) {
        if (threads < 1 || threads > 64)
            usage();
        if (self_verify && batches == 0)
            usage();
        int rc = eng_open(&e, so, dir, 65536, true);
        if (rc != 0)
            return rc == 10 ? 1 : rc;
        child_ctx ctx[64];
        pthread_t th[64];
        for (unsigned t = 0; t < threads; t++) {
            ctx[t] = (child_ctx){&e, seed, id_base, t, threads, batches, 0};
            if (pthread_create(&th[t], NULL, child_thread, &ctx[t]) != 0) {
                fprintf(stderr, "child: pthread_create failed\n");
                _exit(2);
            }
        }
        int status = 0;
        for (unsigned t = 0; t < threads; t++) {
            pthread_join(th[t], NULL);
            if (ctx[t].status)
                status = ctx[t].status;
        }
        if (status == 0 && self_verify) {
            if (inject)
                inject_fault(&e, inject);
            status = verify_store(&e, self_acks, self_nacks);
            free(self_acks);
        }
        eng_close(&e);
        return status;
    }
    if (strcmp(mode, "verify") == 0) {
        if (!acked)
            usage();
        size_t nacks;
        ack *acks = read_acks(acked, &nacks);
        int rc = eng_open(&e, so, dir, 65536, false);
        if (rc != 0) {
            free(acks);
            if (rc == 10)
                printf("VIOLATION: the store does not open after the "
                       "crash\n");
            return rc == 10 ? 1 : rc;
        }
        rc = verify_store(&e, acks, nacks);
        free(acks);
        eng_close(&e);
        return rc;
    }
    if (strcmp(mode, "populate") == 0) {
        int rc = eng_open(&e, so, dir, 4 << 20, true);
        if (rc != 0)
            return 2;
        return do_populate(&e, nkeys);
    }
    if (strcmp(mode, "check") == 0) {
        int rc = eng_open(&e, so, dir, 4 << 20, false);
        if (rc != 0)
            return rc;
        rc = do_check(&e, nkeys);
        eng_close(&e);
        return rc;
    }
    usage();
    return 2;
}
