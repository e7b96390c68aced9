/*
 * version.c - versions, edits, the manifest and compaction picking.
 * Interface and contracts in version.h; the edit encoding and the
 * manifest's files in docs/storage-manifest.md.
 *
 * Design notes:
 * - A version is built from its base and an edit by copying the base's file
 *   pointers minus the deleted ones plus new lsm_file structs for the added
 *   ones, then sorting the levels that received files.  Every file's refs
 *   counts the versions listing it; a version frees a file when it drops
 *   the last reference.
 * - Every live version (refs > 0) of a set is on a doubly linked list under
 *   vs_mu, so that lsm_vset_live_files sees the files of pinned old
 *   versions.  The set's own reference keeps the current version alive.
 * - The manifest is a WAL directory (<dir>/manifest, files
 *   wal-%016llu.log).  Each record is one encoded edit.  The first record
 *   of a segment written by lsm_vset_open or by a rotation is a snapshot
 *   (tag 6): an edit that lists every file of the version.  Recovery resets
 *   its state when it meets a snapshot, so a crash between writing a
 *   snapshot and removing the older segments is harmless.
 * - lsm_vset_open always starts a fresh segment with a snapshot and removes
 *   the recovered ones: the manifest never grows across restarts.
 */
#include "lsm/version.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lsm/format.h"
#include "lsm/wal.h"

/* Edit field tags (docs/storage-manifest.md). */
enum {
    EDIT_TAG_LOG_NUMBER = 1,
    EDIT_TAG_NEXT_FILE = 2,
    EDIT_TAG_LAST_SEQ = 3,
    EDIT_TAG_DELETED_FILE = 4,
    EDIT_TAG_ADDED_FILE = 5,
    EDIT_TAG_SNAPSHOT = 6,
    EDIT_TAG_ADDED_FILE_KEY = 7 /* tag 5 with the file's key id */
};

/* A manifest segment larger than this is rotated by lsm_vset_apply. */
#define VSET_MANIFEST_LIMIT (UINT64_C(4) << 20)

/* ---- versions ------------------------------------------------------------ */

typedef struct vs_version {
    lsm_version vv_v; /* first: a lsm_version * is a vs_version * */
    struct vs_version *vv_prev, *vv_next; /* the set's live list */
    lsm_vset *vv_set; /* NULL while not on a list (being built) */
} vs_version;

struct lsm_vset {
    char *vs_dir;  /* the store's directory */
    char *vs_mdir; /* <dir>/manifest */
    lsm_wal_options vs_wopts;
    lsm_wal *vs_wal;
    uint64_t vs_seg_base;  /* wal stats file_bytes when the segment began */
    uint64_t vs_limit;     /* rotation threshold */
    pthread_mutex_t vs_mu; /* vs_current and the live list */
    vs_version *vs_current;
    vs_version vs_live; /* list sentinel */
    _Atomic uint64_t vs_next_file;
    _Atomic uint64_t vs_log_number;
    _Atomic uint64_t vs_last_seq;
    /* Per level: the largest internal key of the last compaction picked
     * there (round-robin); NULL: start at the first file. */
    uint8_t *vs_cptr[LSM_LEVELS];
    size_t vs_cptr_len[LSM_LEVELS];
};

/* *a = max(*a, v), atomically. */
static void atomic_max(_Atomic uint64_t *a, uint64_t v)
{
    uint64_t cur = atomic_load(a);
    while (cur < v && !atomic_compare_exchange_weak(a, &cur, v))
        ;
}

static void file_free(lsm_file *f)
{
    free(f->smallest);
    free(f->largest);
    free(f);
}

/* Free a version's arrays and drop its file references. */
static void version_destroy(vs_version *vv)
{
    lsm_version *v = &vv->vv_v;
    for (int l = 0; l < LSM_LEVELS; l++) {
        for (size_t i = 0; i < v->nfiles[l]; i++) {
            lsm_file *f = v->files[l][i];
            if (atomic_fetch_sub(&f->refs, 1) == 1)
                file_free(f);
        }
        free(v->files[l]);
    }
    free(vv);
}

void lsm_version_ref(lsm_version *v)
{
    atomic_fetch_add(&v->refs, 1);
}

void lsm_version_unref(lsm_version *v)
{
    if (v == NULL)
        return;
    int old = atomic_fetch_sub(&v->refs, 1);
    if (old != 1)
        return;
    vs_version *vv = (vs_version *)v;
    lsm_vset *vs = vv->vv_set;
    if (vs != NULL) {
        pthread_mutex_lock(&vs->vs_mu);
        vv->vv_prev->vv_next = vv->vv_next;
        vv->vv_next->vv_prev = vv->vv_prev;
        pthread_mutex_unlock(&vs->vs_mu);
    }
    version_destroy(vv);
}

static const uint8_t *ukey(const uint8_t *ikey, size_t len, size_t *ulen)
{
    *ulen = len - LSM_TRAILER_SIZE;
    return ikey;
}

static int cmp_l0(const void *a, const void *b)
{
    const lsm_file *x = *(lsm_file *const *)a, *y = *(lsm_file *const *)b;
    return x->number > y->number ? -1 : x->number < y->number ? 1 : 0;
}

static int cmp_smallest(const void *a, const void *b)
{
    const lsm_file *x = *(lsm_file *const *)a, *y = *(lsm_file *const *)b;
    int c = lsm_ikey_cmp(x->smallest, x->smallest_len, y->smallest,
                         y->smallest_len);
    if (c != 0)
        return c;
    return x->number < y->number ? -1 : x->number > y->number ? 1 : 0;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y ? 1 : 0;
}

static lsm_file *file_new(const lsm_edit_file *ef)
{
    lsm_file *f = calloc(1, sizeof *f);
    if (f == NULL)
        return NULL;
    f->smallest = malloc(ef->smallest_len);
    f->largest = malloc(ef->largest_len);
    if (f->smallest == NULL || f->largest == NULL) {
        file_free(f);
        return NULL;
    }
    memcpy(f->smallest, ef->smallest, ef->smallest_len);
    memcpy(f->largest, ef->largest, ef->largest_len);
    f->smallest_len = ef->smallest_len;
    f->largest_len = ef->largest_len;
    f->number = ef->number;
    f->size = ef->size;
    f->entries = ef->entries;
    f->key_id = ef->key_id;
    atomic_init(&f->refs, 0);
    return f;
}

/*
 * Build the version base + e (base NULL or `reset`: start empty) into *out
 * with one reference, not on any list.  Checks that every deleted file is
 * in the named level, that no file number appears twice and that files of
 * L1 and below do not overlap.  Returns 0, DC_ENOMEM, or DC_EINVAL with the
 * reason in why.  Nothing changes on failure.
 */
static int version_build(const lsm_version *base, bool reset, const lsm_edit *e,
                         vs_version **out, char *why, size_t whylen)
{
    if (reset)
        base = NULL;
    vs_version *vv = calloc(1, sizeof *vv);
    bool *matched = e->ndeleted ? calloc(e->ndeleted, sizeof *matched) : NULL;
    lsm_file **fresh = e->nadded ? calloc(e->nadded, sizeof *fresh) : NULL;
    uint64_t *numbers = NULL;
    int rc = 0;
    if (vv == NULL || (e->ndeleted && matched == NULL) ||
        (e->nadded && fresh == NULL)) {
        rc = DC_ENOMEM;
        goto fail;
    }
    for (size_t i = 0; i < e->nadded; i++) {
        fresh[i] = file_new(&e->added[i]);
        if (fresh[i] == NULL) {
            rc = DC_ENOMEM;
            goto fail;
        }
    }
    lsm_version *v = &vv->vv_v;
    size_t total = 0;
    for (int l = 0; l < LSM_LEVELS; l++) {
        size_t cap = (base ? base->nfiles[l] : 0);
        size_t nadd = 0;
        for (size_t i = 0; i < e->nadded; i++)
            if (e->added[i].level == l)
                nadd++;
        cap += nadd;
        if (cap == 0)
            continue;
        v->files[l] = malloc(cap * sizeof *v->files[l]);
        if (v->files[l] == NULL) {
            rc = DC_ENOMEM;
            goto fail;
        }
        size_t n = 0;
        for (size_t i = 0; base && i < base->nfiles[l]; i++) {
            lsm_file *f = base->files[l][i];
            bool gone = false;
            for (size_t d = 0; d < e->ndeleted; d++) {
                if (!matched[d] && e->deleted[d].level == l &&
                    e->deleted[d].number == f->number) {
                    matched[d] = true;
                    gone = true;
                    break;
                }
            }
            if (!gone)
                v->files[l][n++] = f;
        }
        for (size_t i = 0; i < e->nadded; i++)
            if (e->added[i].level == l)
                v->files[l][n++] = fresh[i];
        if (nadd > 0)
            qsort(v->files[l], n, sizeof *v->files[l],
                  l == 0 ? cmp_l0 : cmp_smallest);
        v->nfiles[l] = n;
        total += n;
    }
    for (size_t d = 0; d < e->ndeleted; d++) {
        if (!matched[d]) {
            snprintf(why, whylen,
                     "the edit deletes file %" PRIu64
                     " from level %d, which does not hold it",
                     e->deleted[d].number, e->deleted[d].level);
            rc = DC_EINVAL;
            goto fail;
        }
    }
    if (total > 0) {
        numbers = malloc(total * sizeof *numbers);
        if (numbers == NULL) {
            rc = DC_ENOMEM;
            goto fail;
        }
        size_t k = 0;
        for (int l = 0; l < LSM_LEVELS; l++)
            for (size_t i = 0; i < v->nfiles[l]; i++)
                numbers[k++] = v->files[l][i]->number;
        qsort(numbers, total, sizeof *numbers, cmp_u64);
        for (size_t i = 1; i < total; i++) {
            if (numbers[i] == numbers[i - 1]) {
                snprintf(why, whylen,
                         "the edit adds file %" PRIu64
                         ", which the version already holds",
                         numbers[i]);
                rc = DC_EINVAL;
                goto fail;
            }
        }
    }
    for (int l = 1; l < LSM_LEVELS; l++) {
        for (size_t i = 1; i < v->nfiles[l]; i++) {
            const lsm_file *a = v->files[l][i - 1], *b = v->files[l][i];
            if (lsm_ikey_cmp(a->largest, a->largest_len, b->smallest,
                             b->smallest_len) >= 0) {
                snprintf(why, whylen,
                         "files %" PRIu64 " and %" PRIu64
                         " overlap in level %d",
                         a->number, b->number, l);
                rc = DC_EINVAL;
                goto fail;
            }
        }
    }
    /* Success: take the references. */
    for (int l = 0; l < LSM_LEVELS; l++) {
        for (size_t i = 0; i < v->nfiles[l]; i++) {
            atomic_fetch_add(&v->files[l][i]->refs, 1);
            v->level_bytes[l] += v->files[l][i]->size;
        }
    }
    atomic_init(&v->refs, 1);
    free(numbers);
    free(matched);
    free(fresh);
    *out = vv;
    return 0;

fail:
    if (rc == DC_ENOMEM)
        snprintf(why, whylen, "out of memory");
    if (vv != NULL)
        for (int l = 0; l < LSM_LEVELS; l++)
            free(vv->vv_v.files[l]);
    free(vv);
    for (size_t i = 0; fresh && i < e->nadded; i++)
        if (fresh[i] != NULL)
            file_free(fresh[i]);
    free(numbers);
    free(matched);
    free(fresh);
    return rc;
}

/* ---- edits --------------------------------------------------------------- */

void lsm_edit_init(lsm_edit *e)
{
    memset(e, 0, sizeof *e);
}

void lsm_edit_free(lsm_edit *e)
{
    if (e == NULL)
        return;
    for (size_t i = 0; i < e->nadded; i++) {
        free(e->added[i].smallest);
        free(e->added[i].largest);
    }
    free(e->added);
    free(e->deleted);
    lsm_edit_init(e);
}

/* True when the keys can describe a file: internal keys (with a trailer),
 * smallest <= largest. */
static bool keys_valid(const uint8_t *s, size_t sl, const uint8_t *l, size_t ll)
{
    return sl >= LSM_TRAILER_SIZE && ll >= LSM_TRAILER_SIZE &&
           lsm_ikey_cmp(s, sl, l, ll) <= 0;
}

int lsm_edit_add_file(lsm_edit *e, int level, uint64_t number, uint64_t size,
                      uint64_t entries, const uint8_t *smallest,
                      size_t smallest_len, const uint8_t *largest,
                      size_t largest_len)
{
    return lsm_edit_add_file_key(e, level, number, size, entries, 0, smallest,
                                 smallest_len, largest, largest_len);
}

int lsm_edit_add_file_key(lsm_edit *e, int level, uint64_t number,
                          uint64_t size, uint64_t entries, uint32_t key_id,
                          const uint8_t *smallest, size_t smallest_len,
                          const uint8_t *largest, size_t largest_len)
{
    if (level < 0 || level >= LSM_LEVELS ||
        !keys_valid(smallest, smallest_len, largest, largest_len))
        return DC_EINVAL;
    if (e->nadded == e->capadded) {
        size_t cap = e->capadded ? e->capadded * 2 : 4;
        lsm_edit_file *p = realloc(e->added, cap * sizeof *p);
        if (p == NULL)
            return DC_ENOMEM;
        e->added = p;
        e->capadded = cap;
    }
    lsm_edit_file *f = &e->added[e->nadded];
    f->smallest = malloc(smallest_len);
    f->largest = malloc(largest_len);
    if (f->smallest == NULL || f->largest == NULL) {
        free(f->smallest);
        free(f->largest);
        return DC_ENOMEM;
    }
    memcpy(f->smallest, smallest, smallest_len);
    memcpy(f->largest, largest, largest_len);
    f->smallest_len = smallest_len;
    f->largest_len = largest_len;
    f->level = level;
    f->number = number;
    f->size = size;
    f->entries = entries;
    f->key_id = key_id;
    e->nadded++;
    return 0;
}

int lsm_edit_delete_file(lsm_edit *e, int level, uint64_t number)
{
    if (level < 0 || level >= LSM_LEVELS)
        return DC_EINVAL;
    if (e->ndeleted == e->capdeleted) {
        size_t cap = e->capdeleted ? e->capdeleted * 2 : 4;
        lsm_edit_delete *p = realloc(e->deleted, cap * sizeof *p);
        if (p == NULL)
            return DC_ENOMEM;
        e->deleted = p;
        e->capdeleted = cap;
    }
    e->deleted[e->ndeleted].level = level;
    e->deleted[e->ndeleted].number = number;
    e->ndeleted++;
    return 0;
}

/* A growable output buffer; eb_oom sticks. */
typedef struct ebuf {
    uint8_t *eb_p;
    size_t eb_len, eb_cap;
    bool eb_oom;
} ebuf;

static bool eb_reserve(ebuf *b, size_t n)
{
    if (b->eb_oom)
        return false;
    if (b->eb_cap - b->eb_len >= n)
        return true;
    size_t cap = b->eb_cap ? b->eb_cap : 64;
    while (cap - b->eb_len < n)
        cap *= 2;
    uint8_t *p = realloc(b->eb_p, cap);
    if (p == NULL) {
        b->eb_oom = true;
        return false;
    }
    b->eb_p = p;
    b->eb_cap = cap;
    return true;
}

static void eb_varint(ebuf *b, uint64_t v)
{
    if (eb_reserve(b, 10))
        b->eb_len += lsm_put_varint64(b->eb_p + b->eb_len, v);
}

static void eb_bytes(ebuf *b, const uint8_t *p, size_t n)
{
    eb_varint(b, n);
    if (n > 0 && eb_reserve(b, n)) {
        memcpy(b->eb_p + b->eb_len, p, n);
        b->eb_len += n;
    }
}

/* Tag 5, or tag 7 for a file under an encryption key: a store in the
 * clear keeps the encoding older builds read. */
static void eb_file(ebuf *b, int level, uint64_t number, uint64_t size,
                    uint64_t entries, uint32_t key_id, const uint8_t *s,
                    size_t sl, const uint8_t *l, size_t ll)
{
    eb_varint(b, key_id != 0 ? EDIT_TAG_ADDED_FILE_KEY : EDIT_TAG_ADDED_FILE);
    eb_varint(b, (uint64_t)level);
    eb_varint(b, number);
    eb_varint(b, size);
    eb_varint(b, entries);
    if (key_id != 0)
        eb_varint(b, key_id);
    eb_bytes(b, s, sl);
    eb_bytes(b, l, ll);
}

static void eb_header(ebuf *b, const lsm_edit *e, bool snapshot)
{
    if (snapshot)
        eb_varint(b, EDIT_TAG_SNAPSHOT);
    if (e->has_log_number) {
        eb_varint(b, EDIT_TAG_LOG_NUMBER);
        eb_varint(b, e->log_number);
    }
    if (e->has_next_file) {
        eb_varint(b, EDIT_TAG_NEXT_FILE);
        eb_varint(b, e->next_file);
    }
    if (e->has_last_seq) {
        eb_varint(b, EDIT_TAG_LAST_SEQ);
        eb_varint(b, e->last_seq);
    }
}

static int eb_finish(ebuf *b, uint8_t **out, size_t *len)
{
    if (!eb_reserve(b, 1)) { /* never malloc(0): out is non-NULL */
        free(b->eb_p);
        return DC_ENOMEM;
    }
    *out = b->eb_p;
    *len = b->eb_len;
    return 0;
}

int lsm_edit_encode(const lsm_edit *e, uint8_t **out, size_t *len)
{
    ebuf b = {0};
    eb_header(&b, e, false);
    for (size_t i = 0; i < e->ndeleted; i++) {
        eb_varint(&b, EDIT_TAG_DELETED_FILE);
        eb_varint(&b, (uint64_t)e->deleted[i].level);
        eb_varint(&b, e->deleted[i].number);
    }
    for (size_t i = 0; i < e->nadded; i++) {
        const lsm_edit_file *f = &e->added[i];
        eb_file(&b, f->level, f->number, f->size, f->entries, f->key_id,
                f->smallest, f->smallest_len, f->largest, f->largest_len);
    }
    return eb_finish(&b, out, len);
}

/* The snapshot edit of version v with the set's counters. */
static int snapshot_encode(const lsm_version *v, const lsm_edit *hdr,
                           uint8_t **out, size_t *len)
{
    ebuf b = {0};
    eb_header(&b, hdr, true);
    for (int l = 0; l < LSM_LEVELS; l++)
        for (size_t i = 0; i < v->nfiles[l]; i++) {
            const lsm_file *f = v->files[l][i];
            eb_file(&b, l, f->number, f->size, f->entries, f->key_id,
                    f->smallest, f->smallest_len, f->largest, f->largest_len);
        }
    return eb_finish(&b, out, len);
}

/* Decode; *snapshot (when not NULL) tells whether the edit carried the
 * snapshot tag.  On failure e is left empty and why says what was wrong. */
static int edit_decode(const uint8_t *p, size_t len, lsm_edit *e,
                       bool *snapshot, char *why, size_t whylen)
{
    lsm_edit_init(e);
    const uint8_t *start = p, *end = p + len;
    bool snap = false;
    int rc = 0;
#define GETV(var, what)                                                       \
    do {                                                                      \
        size_t n_ = lsm_get_varint64(p, end, &(var));                         \
        if (n_ == 0) {                                                        \
            snprintf(why, whylen, "bad or truncated %s at byte %zu", what,    \
                     (size_t)(p - start));                                    \
            rc = DC_ECORRUPT;                                                 \
            goto fail;                                                        \
        }                                                                     \
        p += n_;                                                              \
    } while (0)
    while (p < end) {
        uint64_t tag, a, b, c, d, sl, ll;
        size_t at = (size_t)(p - start);
        GETV(tag, "tag");
        switch (tag) {
        case EDIT_TAG_LOG_NUMBER:
            GETV(e->log_number, "log number");
            e->has_log_number = true;
            break;
        case EDIT_TAG_NEXT_FILE:
            GETV(e->next_file, "next file number");
            e->has_next_file = true;
            break;
        case EDIT_TAG_LAST_SEQ:
            GETV(e->last_seq, "last sequence number");
            e->has_last_seq = true;
            break;
        case EDIT_TAG_SNAPSHOT:
            snap = true;
            break;
        case EDIT_TAG_DELETED_FILE:
            GETV(a, "level");
            GETV(b, "file number");
            if (a >= LSM_LEVELS) {
                snprintf(why, whylen, "level %" PRIu64 " out of range at byte %zu",
                         a, at);
                rc = DC_ECORRUPT;
                goto fail;
            }
            if (lsm_edit_delete_file(e, (int)a, b) != 0) {
                rc = DC_ENOMEM;
                goto fail;
            }
            break;
        case EDIT_TAG_ADDED_FILE:
        case EDIT_TAG_ADDED_FILE_KEY: {
            uint64_t kid = 0;
            GETV(a, "level");
            GETV(b, "file number");
            GETV(c, "file size");
            GETV(d, "entry count");
            if (tag == EDIT_TAG_ADDED_FILE_KEY) {
                GETV(kid, "key id");
                if (kid == 0 || kid > UINT32_MAX) {
                    snprintf(why, whylen,
                             "file %" PRIu64 " at byte %zu has key id %" PRIu64,
                             b, at, kid);
                    rc = DC_ECORRUPT;
                    goto fail;
                }
            }
            GETV(sl, "smallest key length");
            if (sl > (uint64_t)(end - p)) {
                snprintf(why, whylen,
                         "smallest key length %" PRIu64
                         " runs past the end at byte %zu",
                         sl, (size_t)(p - start));
                rc = DC_ECORRUPT;
                goto fail;
            }
            const uint8_t *s = p;
            p += sl;
            GETV(ll, "largest key length");
            if (ll > (uint64_t)(end - p)) {
                snprintf(why, whylen,
                         "largest key length %" PRIu64
                         " runs past the end at byte %zu",
                         ll, (size_t)(p - start));
                rc = DC_ECORRUPT;
                goto fail;
            }
            const uint8_t *l = p;
            p += ll;
            if (a >= LSM_LEVELS) {
                snprintf(why, whylen, "level %" PRIu64 " out of range at byte %zu",
                         a, at);
                rc = DC_ECORRUPT;
                goto fail;
            }
            if (!keys_valid(s, (size_t)sl, l, (size_t)ll)) {
                snprintf(why, whylen,
                         "file %" PRIu64 " at byte %zu has invalid key bounds",
                         b, at);
                rc = DC_ECORRUPT;
                goto fail;
            }
            rc = lsm_edit_add_file_key(e, (int)a, b, c, d, (uint32_t)kid, s,
                                       (size_t)sl, l, (size_t)ll);
            if (rc != 0)
                goto fail;
            break;
        }
        default:
            snprintf(why, whylen, "unknown tag %" PRIu64 " at byte %zu", tag, at);
            rc = DC_ECORRUPT;
            goto fail;
        }
    }
#undef GETV
    if (snapshot)
        *snapshot = snap;
    return 0;
fail:
    if (rc == DC_ENOMEM)
        snprintf(why, whylen, "out of memory");
    lsm_edit_free(e);
    return rc;
}

int lsm_edit_decode(const uint8_t *p, size_t len, lsm_edit *e, dc_error *err)
{
    char why[160];
    int rc = edit_decode(p, len, e, NULL, why, sizeof why);
    if (rc == DC_ECORRUPT)
        return dc_error_set(err, rc, DC_SQLSTATE_CORRUPT,
                            "version edit is corrupt: %s", why);
    if (rc != 0)
        return dc_error_set(err, rc, DC_SQLSTATE_OOM,
                            "version edit: out of memory");
    return 0;
}

/* ---- the version set ----------------------------------------------------- */

/* Test hook (not in version.h): the manifest segment size that triggers a
 * rotation; 0 restores the default. */
void lsm_vset_test_set_manifest_limit(lsm_vset *vs, uint64_t bytes);
void lsm_vset_test_set_manifest_limit(lsm_vset *vs, uint64_t bytes)
{
    vs->vs_limit = bytes ? bytes : VSET_MANIFEST_LIMIT;
}

/* Recovery state: the version built so far. */
typedef struct vs_recovery {
    lsm_vset *rc_vs;
    vs_version *rc_v;
    uint64_t rc_records;
    uint64_t rc_seg;     /* the segment of the last record */
    uint64_t rc_seg_rec; /* its index within that segment */
} vs_recovery;

static int oom(dc_error *err, const char *what)
{
    return dc_error_set(err, DC_ENOMEM, DC_SQLSTATE_OOM,
                        "manifest: out of memory %s", what);
}

static int recover_record(void *ud, uint64_t segment, const uint8_t *rec,
                          size_t len, dc_error *err)
{
    vs_recovery *r = ud;
    lsm_vset *vs = r->rc_vs;
    if (segment != r->rc_seg) {
        r->rc_seg = segment;
        r->rc_seg_rec = 0;
    }
    uint64_t idx = r->rc_seg_rec++;
    char name[40], why[200];
    lsm_wal_file_name(segment, name, sizeof name);
    lsm_edit e;
    bool snap = false;
    int rc = edit_decode(rec, len, &e, &snap, why, sizeof why);
    if (rc == DC_ENOMEM)
        return oom(err, "while reading an edit");
    if (rc == 0) {
        vs_version *nv;
        rc = version_build(r->rc_v ? &r->rc_v->vv_v : NULL, snap, &e, &nv, why,
                           sizeof why);
        if (rc == DC_ENOMEM) {
            lsm_edit_free(&e);
            return oom(err, "while replaying an edit");
        }
        if (rc == 0) {
            if (r->rc_v)
                version_destroy(r->rc_v);
            r->rc_v = nv;
            if (e.has_log_number)
                atomic_store(&vs->vs_log_number, e.log_number);
            if (e.has_next_file)
                atomic_store(&vs->vs_next_file, e.next_file);
            if (e.has_last_seq)
                atomic_store(&vs->vs_last_seq, e.last_seq);
            r->rc_records++;
        }
    }
    lsm_edit_free(&e);
    if (rc != 0)
        return dc_error_set(err, DC_ECORRUPT, DC_SQLSTATE_CORRUPT,
                            "manifest file \"%s/%s\" is corrupt: record %" PRIu64
                            ": %s",
                            vs->vs_mdir, name, idx, why);
    return 0;
}

static void vset_free(lsm_vset *vs)
{
    if (vs == NULL)
        return;
    lsm_wal_close(vs->vs_wal);
    if (vs->vs_current)
        lsm_version_unref(&vs->vs_current->vv_v);
    /* Versions still pinned outlive the set: detach them, so that their
     * last unref just frees them. */
    for (vs_version *v = vs->vs_live.vv_next, *next; v != &vs->vs_live;
         v = next) {
        next = v->vv_next;
        v->vv_set = NULL;
        v->vv_prev = v->vv_next = v;
    }
    for (int l = 0; l < LSM_LEVELS; l++)
        free(vs->vs_cptr[l]);
    pthread_mutex_destroy(&vs->vs_mu);
    free(vs->vs_dir);
    free(vs->vs_mdir);
    free(vs);
}

/* Put vv (one reference, off-list) on the live list and make it current;
 * drops the set's reference to the previous current version. */
static void vset_install(lsm_vset *vs, vs_version *vv)
{
    vv->vv_set = vs;
    pthread_mutex_lock(&vs->vs_mu);
    vv->vv_next = vs->vs_live.vv_next;
    vv->vv_prev = &vs->vs_live;
    vs->vs_live.vv_next->vv_prev = vv;
    vs->vs_live.vv_next = vv;
    vs_version *old = vs->vs_current;
    vs->vs_current = vv;
    pthread_mutex_unlock(&vs->vs_mu);
    if (old)
        lsm_version_unref(&old->vv_v);
}

/* Write a snapshot of the current version as the first record of a new
 * segment and remove every older segment.  `fresh_segment`: the segment to
 * create when there is no open WAL yet. */
static int vset_write_snapshot(lsm_vset *vs, uint64_t fresh_segment,
                               dc_error *err)
{
    int rc;
    uint64_t seg;
    if (vs->vs_wal == NULL) {
        rc = lsm_wal_open(&vs->vs_wopts, fresh_segment, &vs->vs_wal, err);
        if (rc != 0)
            return rc;
        seg = fresh_segment;
    } else {
        rc = lsm_wal_rotate(vs->vs_wal, &seg, err);
        if (rc != 0)
            return rc;
    }
    lsm_wal_stats st;
    lsm_wal_stats_get(vs->vs_wal, &st);
    vs->vs_seg_base = st.file_bytes;

    lsm_edit hdr;
    lsm_edit_init(&hdr);
    hdr.has_log_number = hdr.has_next_file = hdr.has_last_seq = true;
    hdr.log_number = atomic_load(&vs->vs_log_number);
    hdr.next_file = atomic_load(&vs->vs_next_file);
    hdr.last_seq = atomic_load(&vs->vs_last_seq);
    uint8_t *buf;
    size_t len;
    if (snapshot_encode(&vs->vs_current->vv_v, &hdr, &buf, &len) != 0)
        return oom(err, "for a manifest snapshot");
    rc = lsm_wal_append(vs->vs_wal, buf, len, true, err);
    free(buf);
    if (rc != 0)
        return rc;
    if (seg > 1)
        rc = lsm_wal_remove_up_to(vs->vs_wal, seg - 1, err);
    return rc;
}

int lsm_vset_open(const lsm_vset_options *o, lsm_vset **out, dc_error *err)
{
    if (o == NULL || o->dir == NULL || out == NULL)
        return dc_error_set(err, DC_EINVAL, DC_SQLSTATE_INTERNAL,
                            "manifest: invalid arguments");
    lsm_vset *vs = calloc(1, sizeof *vs);
    if (vs == NULL)
        return oom(err, "opening the version set");
    pthread_mutex_init(&vs->vs_mu, NULL);
    vs->vs_live.vv_next = vs->vs_live.vv_prev = &vs->vs_live;
    vs->vs_limit = VSET_MANIFEST_LIMIT;
    size_t dl = strlen(o->dir);
    vs->vs_dir = strdup(o->dir);
    vs->vs_mdir = malloc(dl + sizeof "/manifest");
    if (vs->vs_dir == NULL || vs->vs_mdir == NULL) {
        vset_free(vs);
        return oom(err, "opening the version set");
    }
    memcpy(vs->vs_mdir, o->dir, dl);
    memcpy(vs->vs_mdir + dl, "/manifest", sizeof "/manifest");
    vs->vs_wopts.dir = vs->vs_mdir;
    vs->vs_wopts.sync_mode = LSM_WAL_SYNC_ALWAYS;
    vs->vs_wopts.kind = LSM_WAL_KIND_MANIFEST;
    vs->vs_wopts.enc = o->enc;
    vs->vs_wopts.enc_instance = o->enc_instance;
    vs->vs_wopts.read_only = o->read_only;

    int rc = 0;
    struct stat st;
    if (stat(vs->vs_mdir, &st) != 0) {
        if (errno != ENOENT) {
            rc = dc_error_set(err, DC_EIO, DC_SQLSTATE_IO,
                              "manifest: cannot stat \"%s\": %s", vs->vs_mdir,
                              strerror(errno));
            goto fail;
        }
        if (!o->create_if_missing) {
            rc = dc_error_set(err, DC_ENOTFOUND, "58P01",
                              "no store in \"%s\": the manifest directory "
                              "does not exist",
                              o->dir);
            goto fail;
        }
        if ((mkdir(o->dir, 0777) != 0 && errno != EEXIST) ||
            mkdir(vs->vs_mdir, 0777) != 0) {
            rc = dc_error_set(err, DC_EIO, DC_SQLSTATE_IO,
                              "manifest: cannot create \"%s\": %s",
                              vs->vs_mdir, strerror(errno));
            goto fail;
        }
    }

    vs_recovery r = {.rc_vs = vs, .rc_seg = UINT64_MAX};
    uint64_t last = 0;
    rc = lsm_wal_recover(&vs->vs_wopts, 0, recover_record, &r, &last, err);
    if (rc != 0) {
        if (r.rc_v)
            version_destroy(r.rc_v);
        if (err && strncmp(err->message, "manifest", 8) != 0) {
            char msg[sizeof err->message];
            snprintf(msg, sizeof msg, "%s", err->message);
            snprintf(err->message, sizeof err->message, "manifest: %.500s", msg);
        }
        goto fail;
    }
    if (r.rc_records == 0) {
        if (!o->create_if_missing) {
            rc = dc_error_set(err, DC_ENOTFOUND, "58P01",
                              "no store in \"%s\": the manifest holds no "
                              "edit",
                              o->dir);
            goto fail;
        }
        /* A brand-new store. */
        lsm_edit empty;
        lsm_edit_init(&empty);
        char why[64];
        rc = version_build(NULL, true, &empty, &r.rc_v, why, sizeof why);
        if (rc != 0) {
            rc = oom(err, "creating the version set");
            goto fail;
        }
        atomic_store(&vs->vs_next_file, 1);
        atomic_store(&vs->vs_log_number, 0);
        atomic_store(&vs->vs_last_seq, 0);
    }
    /* next_file must be above every file number in use. */
    for (int l = 0; l < LSM_LEVELS; l++)
        for (size_t i = 0; i < r.rc_v->vv_v.nfiles[l]; i++) {
            uint64_t n = r.rc_v->vv_v.files[l][i]->number;
            if (n >= atomic_load(&vs->vs_next_file))
                atomic_store(&vs->vs_next_file, n + 1);
        }
    vset_install(vs, r.rc_v);
    if (!o->read_only) {
        rc = vset_write_snapshot(vs, last + 1, err);
        if (rc != 0)
            goto fail;
    }
    *out = vs;
    return 0;
fail:
    vset_free(vs);
    return rc;
}

void lsm_vset_close(lsm_vset *vs)
{
    vset_free(vs);
}

lsm_version *lsm_vset_current(lsm_vset *vs)
{
    pthread_mutex_lock(&vs->vs_mu);
    lsm_version *v = &vs->vs_current->vv_v;
    lsm_version_ref(v);
    pthread_mutex_unlock(&vs->vs_mu);
    return v;
}

int lsm_vset_apply(lsm_vset *vs, lsm_edit *e, dc_error *err)
{
    if (vs->vs_wal == NULL)
        return dc_error_set(err, DC_EPERM, "25006",
                            "manifest: the store was opened read-only");
    bool had_next = e->has_next_file, had_seq = e->has_last_seq;
    if (!had_next) {
        e->has_next_file = true;
        e->next_file = atomic_load(&vs->vs_next_file);
    }
    if (!had_seq) {
        e->has_last_seq = true;
        e->last_seq = atomic_load(&vs->vs_last_seq);
    }
    char why[200];
    vs_version *nv = NULL;
    uint8_t *buf = NULL;
    size_t len = 0;
    int rc = version_build(&vs->vs_current->vv_v, false, e, &nv, why,
                           sizeof why);
    if (rc == DC_ENOMEM) {
        rc = oom(err, "applying an edit");
        goto fail;
    }
    if (rc != 0) {
        rc = dc_error_set(err, DC_EINVAL, DC_SQLSTATE_INTERNAL,
                          "manifest: invalid version edit: %s", why);
        goto fail;
    }
    if (lsm_edit_encode(e, &buf, &len) != 0) {
        rc = oom(err, "encoding an edit");
        goto fail;
    }
    rc = lsm_wal_append(vs->vs_wal, buf, len, true, err);
    free(buf);
    if (rc != 0)
        goto fail;

    /* Durable: install. */
    if (e->has_log_number)
        atomic_store(&vs->vs_log_number, e->log_number);
    atomic_max(&vs->vs_next_file, e->next_file);
    atomic_max(&vs->vs_last_seq, e->last_seq);
    vset_install(vs, nv);

    lsm_wal_stats st;
    lsm_wal_stats_get(vs->vs_wal, &st);
    if (st.file_bytes - vs->vs_seg_base > vs->vs_limit) {
        /* The edit is durable and installed whatever happens here.  A failed
         * rotation leaves the old segments, which recovery still reads (a
         * failed write makes the manifest unusable: the next apply fails). */
        dc_error ignored;
        dc_error_init(&ignored);
        (void)vset_write_snapshot(vs, 0, &ignored);
    }
    return 0;
fail:
    if (nv)
        version_destroy(nv);
    e->has_next_file = had_next;
    e->has_last_seq = had_seq;
    return rc;
}

uint64_t lsm_vset_new_file_number(lsm_vset *vs)
{
    return atomic_fetch_add(&vs->vs_next_file, 1);
}

uint64_t lsm_vset_next_file_number(lsm_vset *vs)
{
    return atomic_load(&vs->vs_next_file);
}

uint64_t lsm_vset_log_number(lsm_vset *vs)
{
    return atomic_load(&vs->vs_log_number);
}

uint64_t lsm_vset_last_seq(lsm_vset *vs)
{
    return atomic_load(&vs->vs_last_seq);
}

void lsm_vset_set_last_seq(lsm_vset *vs, uint64_t seq)
{
    atomic_store(&vs->vs_last_seq, seq);
}

void lsm_vset_live_files(lsm_vset *vs, void (*fn)(void *ud, uint64_t number),
                         void *ud)
{
    pthread_mutex_lock(&vs->vs_mu);
    size_t total = 0;
    for (vs_version *v = vs->vs_live.vv_next; v != &vs->vs_live; v = v->vv_next)
        for (int l = 0; l < LSM_LEVELS; l++)
            total += v->vv_v.nfiles[l];
    uint64_t *nums = malloc((total ? total : 1) * sizeof *nums);
    if (nums == NULL) {
        /* No memory to deduplicate: report every listing under the lock. */
        for (vs_version *v = vs->vs_live.vv_next; v != &vs->vs_live;
             v = v->vv_next)
            for (int l = 0; l < LSM_LEVELS; l++)
                for (size_t i = 0; i < v->vv_v.nfiles[l]; i++)
                    fn(ud, v->vv_v.files[l][i]->number);
        pthread_mutex_unlock(&vs->vs_mu);
        return;
    }
    size_t k = 0;
    for (vs_version *v = vs->vs_live.vv_next; v != &vs->vs_live; v = v->vv_next)
        for (int l = 0; l < LSM_LEVELS; l++)
            for (size_t i = 0; i < v->vv_v.nfiles[l]; i++)
                nums[k++] = v->vv_v.files[l][i]->number;
    pthread_mutex_unlock(&vs->vs_mu);
    qsort(nums, k, sizeof *nums, cmp_u64);
    for (size_t i = 0; i < k; i++)
        if (i == 0 || nums[i] != nums[i - 1])
            fn(ud, nums[i]);
    free(nums);
}

/* ---- compaction choice --------------------------------------------------- */

/* A list of files being collected. */
typedef struct flist {
    lsm_file **fl_f;
    size_t fl_n;
} flist;

/* Whether f's user-key range meets [b, e] (NULL bound: unbounded). */
static bool file_overlaps(const lsm_file *f, const uint8_t *b, size_t bl,
                          const uint8_t *e, size_t el)
{
    size_t sl, ll;
    const uint8_t *s = ukey(f->smallest, f->smallest_len, &sl);
    const uint8_t *l = ukey(f->largest, f->largest_len, &ll);
    if (e != NULL && lsm_user_cmp(s, sl, e, el) > 0)
        return false;
    if (b != NULL && lsm_user_cmp(l, ll, b, bl) < 0)
        return false;
    return true;
}

/*
 * The files of `level` whose user-key range meets [b, e], with the range
 * widened to the collected files' bounds until nothing more joins: in L0
 * that is the transitive closure of overlaps, in L1+ it takes neighbours
 * that share a boundary user key, so no version of a user key is left
 * behind in the level.  Files keep the level's order.  0 or DC_ENOMEM.
 */
static int collect_overlapping(const lsm_version *v, int level,
                               const uint8_t *b, size_t bl, const uint8_t *e,
                               size_t el, flist *out)
{
    out->fl_f = NULL;
    out->fl_n = 0;
    size_t n = v->nfiles[level];
    if (n == 0)
        return 0;
    lsm_file **sel = malloc(n * sizeof *sel);
    if (sel == NULL)
        return DC_ENOMEM;
    size_t k;
    for (;;) {
        k = 0;
        bool grew = false;
        const uint8_t *nb = b, *ne = e;
        size_t nbl = bl, nel = el;
        for (size_t i = 0; i < n; i++) {
            lsm_file *f = v->files[level][i];
            if (!file_overlaps(f, b, bl, e, el))
                continue;
            sel[k++] = f;
            size_t sl, ll;
            const uint8_t *s = ukey(f->smallest, f->smallest_len, &sl);
            const uint8_t *l = ukey(f->largest, f->largest_len, &ll);
            if (nb != NULL && lsm_user_cmp(s, sl, nb, nbl) < 0) {
                nb = s;
                nbl = sl;
                grew = true;
            }
            if (ne != NULL && lsm_user_cmp(l, ll, ne, nel) > 0) {
                ne = l;
                nel = ll;
                grew = true;
            }
        }
        if (!grew)
            break;
        b = nb;
        bl = nbl;
        e = ne;
        el = nel;
    }
    if (k == 0) {
        free(sel);
        return 0;
    }
    out->fl_f = sel;
    out->fl_n = k;
    return 0;
}

/* The user-key range covered by files[0..n) (n > 0). */
static void files_range(lsm_file *const *files, size_t n, const uint8_t **b,
                        size_t *bl, const uint8_t **e, size_t *el)
{
    *b = ukey(files[0]->smallest, files[0]->smallest_len, bl);
    *e = ukey(files[0]->largest, files[0]->largest_len, el);
    for (size_t i = 1; i < n; i++) {
        size_t sl, ll;
        const uint8_t *s = ukey(files[i]->smallest, files[i]->smallest_len, &sl);
        const uint8_t *l = ukey(files[i]->largest, files[i]->largest_len, &ll);
        if (lsm_user_cmp(s, sl, *b, *bl) < 0) {
            *b = s;
            *bl = sl;
        }
        if (lsm_user_cmp(l, ll, *e, *el) > 0) {
            *e = l;
            *el = ll;
        }
    }
}

/* A compaction of inputs0 (taken over) from `level` of v, with the
 * overlapping files of level+1; v gets a reference.  NULL on no memory. */
static lsm_compaction *compaction_new(lsm_version *v, int level, flist in0,
                                      const lsm_compaction_policy *p)
{
    lsm_compaction *c = calloc(1, sizeof *c);
    if (c == NULL) {
        free(in0.fl_f);
        return NULL;
    }
    c->level = level;
    c->output_level = level + 1;
    c->inputs[0] = in0.fl_f;
    c->ninputs[0] = in0.fl_n;
    c->target_file_bytes = p ? p->target_file_bytes : 0;
    if (level + 1 < LSM_LEVELS) {
        const uint8_t *b, *e;
        size_t bl, el;
        files_range(in0.fl_f, in0.fl_n, &b, &bl, &e, &el);
        flist in1;
        if (collect_overlapping(v, level + 1, b, bl, e, el, &in1) != 0) {
            free(c->inputs[0]);
            free(c);
            return NULL;
        }
        c->inputs[1] = in1.fl_f;
        c->ninputs[1] = in1.fl_n;
        /* A single file with nothing below to merge: move it.  In L0 only
         * when it is the level's only file that overlaps it, which
         * collect_overlapping guarantees for inputs[0]. */
        c->trivial_move = c->ninputs[0] == 1 && c->ninputs[1] == 0;
    }
    lsm_version_ref(v);
    c->version = v;
    return c;
}

static double level_score(const lsm_version *v, const lsm_compaction_policy *p,
                          int level)
{
    if (level == 0) {
        int t = p->l0_trigger > 0 ? p->l0_trigger : 1;
        return (double)v->nfiles[0] / (double)t;
    }
    double target = (double)(p->l1_max_bytes ? p->l1_max_bytes : 1);
    for (int i = 1; i < level; i++)
        target *= 10.0;
    return (double)v->level_bytes[level] / target;
}

void lsm_vset_scores(lsm_vset *vs, const lsm_compaction_policy *p,
                     double score[LSM_LEVELS])
{
    lsm_version *v = lsm_vset_current(vs);
    for (int l = 0; l < LSM_LEVELS; l++)
        score[l] = level_score(v, p, l);
    lsm_version_unref(v);
}

lsm_compaction *lsm_vset_pick_compaction(lsm_vset *vs,
                                         const lsm_compaction_policy *p)
{
    lsm_version *v = lsm_vset_current(vs);
    int best = -1;
    double best_score = 1.0;
    for (int l = 0; l < LSM_LEVELS - 1; l++) {
        double s = level_score(v, p, l);
        if (s >= best_score && (best < 0 || s > best_score)) {
            best = l;
            best_score = s;
        }
    }
    lsm_compaction *c = NULL;
    if (best < 0 && p->rewrite_keys) {
        lsm_version_unref(v);
        return lsm_vset_pick_rewrite(vs, p);
    }
    if (best < 0 || v->nfiles[best] == 0)
        goto out;
    flist in0;
    if (best == 0) {
        /* Every L0 file: they may all overlap one another. */
        in0.fl_n = v->nfiles[0];
        in0.fl_f = malloc(in0.fl_n * sizeof *in0.fl_f);
        if (in0.fl_f == NULL)
            goto out;
        memcpy(in0.fl_f, v->files[0], in0.fl_n * sizeof *in0.fl_f);
    } else {
        /* Round robin: the first file past the last compaction's largest
         * key, wrapping to the level's first file. */
        size_t pick = 0;
        if (vs->vs_cptr[best] != NULL) {
            for (size_t i = 0; i < v->nfiles[best]; i++) {
                const lsm_file *f = v->files[best][i];
                if (lsm_ikey_cmp(f->largest, f->largest_len, vs->vs_cptr[best],
                                 vs->vs_cptr_len[best]) > 0) {
                    pick = i;
                    break;
                }
            }
        }
        const lsm_file *f = v->files[best][pick];
        size_t sl, ll;
        const uint8_t *s = ukey(f->smallest, f->smallest_len, &sl);
        const uint8_t *l = ukey(f->largest, f->largest_len, &ll);
        if (collect_overlapping(v, best, s, sl, l, ll, &in0) != 0)
            goto out;
    }
    c = compaction_new(v, best, in0, p);
    if (c != NULL && best > 0) {
        /* Advance the round-robin pointer to the inputs' largest key. */
        const lsm_file *last = c->inputs[0][c->ninputs[0] - 1];
        uint8_t *k = malloc(last->largest_len);
        if (k != NULL) {
            memcpy(k, last->largest, last->largest_len);
            free(vs->vs_cptr[best]);
            vs->vs_cptr[best] = k;
            vs->vs_cptr_len[best] = last->largest_len;
        }
    }
out:
    lsm_version_unref(v);
    return c;
}

/* A compaction rewriting the files in0 of `level` into the same level
 * (it takes in0's array), or NULL when out of memory. */
static lsm_compaction *compaction_in_place(lsm_version *v, int level,
                                           flist in0,
                                           const lsm_compaction_policy *p)
{
    lsm_compaction *c = calloc(1, sizeof *c);
    if (c == NULL) {
        free(in0.fl_f);
        return NULL;
    }
    c->level = level;
    c->output_level = level;
    c->inputs[0] = in0.fl_f;
    c->ninputs[0] = in0.fl_n;
    c->target_file_bytes = p->target_file_bytes;
    lsm_version_ref(v);
    c->version = v;
    return c;
}

lsm_compaction *lsm_vset_pick_rewrite(lsm_vset *vs,
                                      const lsm_compaction_policy *p)
{
    lsm_version *v = lsm_vset_current(vs);
    const lsm_file *f = NULL;
    int level = 0;
    for (int l = 0; l < LSM_LEVELS && f == NULL; l++)
        for (size_t i = 0; i < v->nfiles[l] && f == NULL; i++)
            if (v->files[l][i]->key_id != p->key_id) {
                f = v->files[l][i];
                level = l;
            }
    lsm_compaction *c = NULL;
    if (f == NULL)
        goto out;
    /* The file with every file of its level it must go with (in L0 the
     * ones overlapping it, elsewhere neighbours sharing a boundary key). */
    size_t sl, ll;
    const uint8_t *s = ukey(f->smallest, f->smallest_len, &sl);
    const uint8_t *l = ukey(f->largest, f->largest_len, &ll);
    flist in0;
    if (collect_overlapping(v, level, s, sl, l, ll, &in0) != 0 || in0.fl_n == 0)
        goto out;
    /* The last level: rewritten in place, nothing below to merge. */
    c = level + 1 < LSM_LEVELS ? compaction_new(v, level, in0, p)
                               : compaction_in_place(v, level, in0, p);
    if (c != NULL) {
        c->trivial_move = false;
        c->rewrite = true;
    }
out:
    lsm_version_unref(v);
    return c;
}

/* The files of `level` overlapping [begin, end], merged into the next
 * level or (in_place) rewritten in their own. */
static lsm_compaction *range_compaction(lsm_vset *vs,
                                        const lsm_compaction_policy *p,
                                        int level, const uint8_t *begin,
                                        size_t begin_len, const uint8_t *end,
                                        size_t end_len, bool in_place)
{
    if (level < (in_place ? 1 : 0) || level >= LSM_LEVELS)
        return NULL;
    lsm_version *v = lsm_vset_current(vs);
    lsm_compaction *c = NULL;
    flist in0;
    if (collect_overlapping(v, level, begin, begin_len, end, end_len, &in0) ==
            0 &&
        in0.fl_n > 0)
        c = in_place ? compaction_in_place(v, level, in0, p)
                     : compaction_new(v, level, in0, p);
    lsm_version_unref(v);
    return c;
}

lsm_compaction *lsm_vset_compact_range(lsm_vset *vs,
                                       const lsm_compaction_policy *p,
                                       int level, const uint8_t *begin,
                                       size_t begin_len, const uint8_t *end,
                                       size_t end_len)
{
    return range_compaction(vs, p, level, begin, begin_len, end, end_len,
                            false);
}

lsm_compaction *lsm_vset_rewrite_range(lsm_vset *vs,
                                       const lsm_compaction_policy *p,
                                       int level, const uint8_t *begin,
                                       size_t begin_len, const uint8_t *end,
                                       size_t end_len)
{
    return range_compaction(vs, p, level, begin, begin_len, end, end_len,
                            true);
}

bool lsm_compaction_is_bottom_for(const lsm_compaction *c,
                                  const uint8_t *user_key, size_t len)
{
    const lsm_version *v = c->version;
    for (int l = c->output_level + 1; l < LSM_LEVELS; l++) {
        /* Sorted, non-overlapping: the first file whose largest user key
         * is >= user_key is the only candidate. */
        size_t lo = 0, hi = v->nfiles[l];
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            const lsm_file *f = v->files[l][mid];
            size_t ll;
            const uint8_t *lk = ukey(f->largest, f->largest_len, &ll);
            if (lsm_user_cmp(lk, ll, user_key, len) < 0)
                lo = mid + 1;
            else
                hi = mid;
        }
        if (lo < v->nfiles[l]) {
            const lsm_file *f = v->files[l][lo];
            size_t sl;
            const uint8_t *s = ukey(f->smallest, f->smallest_len, &sl);
            if (lsm_user_cmp(s, sl, user_key, len) <= 0)
                return false;
        }
    }
    return true;
}

int lsm_compaction_add_deletions(const lsm_compaction *c, lsm_edit *e)
{
    for (int w = 0; w < 2; w++)
        for (size_t i = 0; i < c->ninputs[w]; i++) {
            int rc = lsm_edit_delete_file(e, c->level + w, c->inputs[w][i]->number);
            if (rc != 0)
                return rc;
        }
    return 0;
}

void lsm_compaction_free(lsm_compaction *c)
{
    if (c == NULL)
        return;
    free(c->inputs[0]);
    free(c->inputs[1]);
    lsm_version_unref(c->version);
    free(c);
}
