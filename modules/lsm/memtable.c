/*
 * memtable.c - the lsm engine's in-memory table: a skiplist of internal
 * keys in an arena (see memtable.h for the contract).
 *
 * Layout: every node is one arena allocation
 *     [mt_node header][next[height] (atomic pointers)][key bytes][value]
 * where the key is the internal key (user key + 8-byte trailer).  Nodes are
 * never freed or changed once published; the arena goes with the table.
 *
 * Concurrency: one writer, lock-free readers.  The writer fills a node
 * completely (header, key, value, its own next pointers) and then links it
 * in level by level from the bottom up with release stores; readers follow
 * next pointers with acquire loads, so a reader that reaches a node sees it
 * whole.  The current height of the list is read relaxed: a reader that
 * sees a new height before the head's pointer at that level just finds NULL
 * there and drops down a level.
 */
#include "memtable.h"

#include <stdalign.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "datacave/error.h"
#include "format.h"
#include "sstable.h"

#define MT_MAX_HEIGHT 12
#define MT_BLOCK_SIZE ((size_t)1 << 20)   /* arena block                      */
#define MT_BIG_ALLOC  (MT_BLOCK_SIZE / 4) /* above: its own block          */
#define MT_ALIGN      (alignof(mt_node))

typedef struct mt_node {
    uint32_t mn_key_len; /* internal key length (user key + 8)             */
    uint32_t mn_val_len;
    uint32_t mn_height;
    _Atomic(struct mt_node *) mn_next[]; /* mn_height pointers, then data */
} mt_node;

/* An arena block: header followed by the bytes handed out. */
typedef struct mt_block {
    struct mt_block *mb_next;
    size_t mb_size; /* bytes malloc'd for this block, header included  */
} mt_block;

struct lsm_memtable {
    atomic_int mt_refs;
    atomic_int mt_height;   /* levels in use, 1..MT_MAX_HEIGHT             */
    atomic_size_t mt_bytes; /* bytes of arena blocks malloc'd              */
    atomic_uint_fast64_t mt_count;
    uint64_t mt_rng;     /* xorshift state, writer only                */
    mt_block *mt_blocks; /* every block, newest first (writer only)    */
    uint8_t *mt_cur;     /* free space of the current block            */
    size_t mt_left;
    mt_node *mt_head; /* sentinel of height MT_MAX_HEIGHT, no key   */
    /* Writer only: the node added last and, per level, the last node
     * before it.  An add that sorts after the last one (a batch's keys
     * ascend) starts each level's walk from there when that is ahead. */
    mt_node *mt_last;
    mt_node *mt_finger[MT_MAX_HEIGHT];
};

/* ---- arena ----------------------------------------------------------------
 */

static size_t round_up(size_t n)
{
    return (n + MT_ALIGN - 1) & ~(MT_ALIGN - 1);
}

/* A new block with `payload` usable bytes, linked into the table.  NULL when
 * out of memory. */
static uint8_t *arena_new_block(lsm_memtable *m, size_t payload)
{
    size_t hdr = round_up(sizeof(mt_block));
    if (payload > SIZE_MAX - hdr)
        return NULL;
    mt_block *b = malloc(hdr + payload);
    if (b == NULL)
        return NULL;
    b->mb_size = hdr + payload;
    b->mb_next = m->mt_blocks;
    m->mt_blocks = b;
    atomic_fetch_add_explicit(&m->mt_bytes, b->mb_size, memory_order_relaxed);
    return (uint8_t *)b + hdr;
}

/* n bytes aligned to MT_ALIGN from the arena; NULL when out of memory.  A
 * large request gets a block of its own so the current block's free space
 * is not wasted. */
static void *arena_alloc(lsm_memtable *m, size_t n)
{
    if (n > SIZE_MAX - MT_ALIGN)
        return NULL;
    n = round_up(n);
    if (n <= m->mt_left) {
        void *p = m->mt_cur;
        m->mt_cur += n;
        m->mt_left -= n;
        return p;
    }
    if (n > MT_BIG_ALLOC)
        return arena_new_block(m, n);
    uint8_t *p = arena_new_block(m, MT_BLOCK_SIZE);
    if (p == NULL)
        return NULL;
    m->mt_cur = p + n;
    m->mt_left = MT_BLOCK_SIZE - n;
    return p;
}

/* ---- nodes ----------------------------------------------------------------
 */

static inline uint8_t *node_key(const mt_node *n)
{
    return (uint8_t *)&n->mn_next[n->mn_height];
}

static inline uint8_t *node_val(const mt_node *n)
{
    return node_key(n) + n->mn_key_len;
}

static inline mt_node *node_next(const mt_node *n, int level)
{
    /* The cast drops const only to satisfy atomic_load's signature on
     * older compilers; nothing is written. */
    return atomic_load_explicit(&((mt_node *)n)->mn_next[level],
                                memory_order_acquire);
}

/* Compare node n's internal key with the target (user key + trailer).
 * The head node (no key) sorts before everything and is never compared. */
static inline int node_cmp(const mt_node *n, const uint8_t *ukey, size_t ulen,
                           uint64_t trailer)
{
    const uint8_t *k = node_key(n);
    size_t nl = n->mn_key_len - LSM_TRAILER_SIZE;
    int c = lsm_user_cmp(k, nl, ukey, ulen);
    if (c != 0)
        return c;
    uint64_t t = lsm_get_fixed64(k + nl);
    return t > trailer ? -1 : t < trailer ? 1 : 0;
}

/* The first node >= target, or NULL.  When prev is not NULL it gets, for
 * every level, the last node < target at that level (the head when none). */
static mt_node *seek_ge(lsm_memtable *m, const uint8_t *ukey, size_t ulen,
                        uint64_t trailer, mt_node **prev)
{
    mt_node *x = m->mt_head;
    int level = atomic_load_explicit(&m->mt_height, memory_order_relaxed) - 1;
    for (;;) {
        mt_node *next = node_next(x, level);
        if (next != NULL && node_cmp(next, ukey, ulen, trailer) < 0) {
            x = next;
            continue;
        }
        if (prev != NULL)
            prev[level] = x;
        if (level == 0)
            return next;
        level--;
    }
}

/* seek_ge's prev[] for a target that sorts after m->mt_last: at every
 * level the walk starts from the finger (a node before the target) when it
 * is ahead of where the level above left off. */
static void seek_from_finger(lsm_memtable *m, const uint8_t *ukey, size_t ulen,
                             uint64_t trailer, mt_node **prev)
{
    mt_node *x = m->mt_head;
    int level = atomic_load_explicit(&m->mt_height, memory_order_relaxed) - 1;
    for (; level >= 0; level--) {
        mt_node *f = m->mt_finger[level];
        if (f != NULL && f != m->mt_head &&
            (x == m->mt_head || node_cmp(x, node_key(f),
                                         f->mn_key_len - LSM_TRAILER_SIZE,
                                         lsm_get_fixed64(node_key(f) +
                                                         f->mn_key_len -
                                                         LSM_TRAILER_SIZE)) < 0))
            x = f;
        for (;;) {
            mt_node *next = node_next(x, level);
            if (next == NULL || node_cmp(next, ukey, ulen, trailer) >= 0)
                break;
            x = next;
        }
        prev[level] = x;
    }
}

/* Height of a new node: 1 + geometric(1/4), at most MT_MAX_HEIGHT. */
static int random_height(lsm_memtable *m)
{
    int h = 1;
    for (;;) {
        uint64_t x = m->mt_rng;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        m->mt_rng = x;
        if (h >= MT_MAX_HEIGHT || (x & 3) != 0)
            return h;
        h++;
    }
}

/* ---- table ----------------------------------------------------------------
 */

lsm_memtable *lsm_memtable_new(void)
{
    lsm_memtable *m = calloc(1, sizeof(*m));
    if (m == NULL)
        return NULL;
    atomic_init(&m->mt_refs, 1);
    atomic_init(&m->mt_height, 1);
    atomic_init(&m->mt_bytes, 0);
    atomic_init(&m->mt_count, 0);
    /* seed from the table's address: heights need not be reproducible */
    m->mt_rng = 0x9e3779b97f4a7c15ULL ^ (uint64_t)(uintptr_t)m;
    if (m->mt_rng == 0)
        m->mt_rng = 1;
    size_t hsz = sizeof(mt_node) + MT_MAX_HEIGHT * sizeof(_Atomic(mt_node *));
    mt_node *h = arena_alloc(m, hsz);
    if (h == NULL) {
        free(m);
        return NULL;
    }
    h->mn_key_len = 0;
    h->mn_val_len = 0;
    h->mn_height = MT_MAX_HEIGHT;
    for (int i = 0; i < MT_MAX_HEIGHT; i++)
        atomic_init(&h->mn_next[i], NULL);
    m->mt_head = h;
    return m;
}

void lsm_memtable_ref(lsm_memtable *m)
{
    atomic_fetch_add_explicit(&m->mt_refs, 1, memory_order_relaxed);
}

void lsm_memtable_unref(lsm_memtable *m)
{
    if (m == NULL)
        return;
    if (atomic_fetch_sub_explicit(&m->mt_refs, 1, memory_order_acq_rel) != 1)
        return;
    mt_block *b = m->mt_blocks;
    while (b != NULL) {
        mt_block *next = b->mb_next;
        free(b);
        b = next;
    }
    free(m);
}

int lsm_memtable_add(lsm_memtable *m, uint64_t seq, unsigned type,
                     const uint8_t *key, size_t key_len, const uint8_t *val,
                     size_t val_len)
{
    if (type == LSM_TYPE_DELETE)
        val_len = 0;
    if (key_len > UINT32_MAX - LSM_TRAILER_SIZE || val_len > UINT32_MAX)
        return DC_ENOMEM;
    uint64_t trailer = lsm_pack_trailer(seq, type);
    mt_node *prev[MT_MAX_HEIGHT];
    if (m->mt_last != NULL && node_cmp(m->mt_last, key, key_len, trailer) < 0)
        seek_from_finger(m, key, key_len, trailer, prev);
    else
        seek_ge(m, key, key_len, trailer, prev);

    int h = random_height(m);
    size_t sz = sizeof(mt_node) + (size_t)h * sizeof(_Atomic(mt_node *)) +
                key_len + LSM_TRAILER_SIZE + val_len;
    mt_node *n = arena_alloc(m, sz);
    if (n == NULL)
        return DC_ENOMEM;
    n->mn_key_len = (uint32_t)(key_len + LSM_TRAILER_SIZE);
    n->mn_val_len = (uint32_t)val_len;
    n->mn_height = (uint32_t)h;
    uint8_t *k = node_key(n);
    if (key_len > 0)
        memcpy(k, key, key_len);
    lsm_put_fixed64(k + key_len, trailer);
    if (val_len > 0)
        memcpy(k + key_len + LSM_TRAILER_SIZE, val, val_len);

    int cur = atomic_load_explicit(&m->mt_height, memory_order_relaxed);
    if (h > cur) {
        for (int i = cur; i < h; i++)
            prev[i] = m->mt_head;
        atomic_store_explicit(&m->mt_height, h, memory_order_relaxed);
    }
    /* Publish bottom-up: once reachable at level 0 the node is complete. */
    for (int i = 0; i < h; i++) {
        mt_node *next =
            atomic_load_explicit(&prev[i]->mn_next[i], memory_order_relaxed);
        atomic_store_explicit(&n->mn_next[i], next, memory_order_relaxed);
        atomic_store_explicit(&prev[i]->mn_next[i], n, memory_order_release);
    }
    atomic_fetch_add_explicit(&m->mt_count, 1, memory_order_relaxed);
    int top = atomic_load_explicit(&m->mt_height, memory_order_relaxed);
    for (int i = 0; i < top; i++)
        m->mt_finger[i] = i < h ? n : prev[i];
    m->mt_last = n;
    return 0;
}

int lsm_memtable_get(lsm_memtable *m, const uint8_t *key, size_t key_len,
                     uint64_t snapshot, const uint8_t **val, size_t *val_len,
                     uint64_t *seq)
{
    if (snapshot > LSM_MAX_SEQ)
        snapshot = LSM_MAX_SEQ;
    mt_node *n =
        seek_ge(m, key, key_len, lsm_pack_trailer(snapshot, 0xff), NULL);
    /* Range deletes are not point versions (as in lsm_sst_get): skip them. */
    for (; n != NULL; n = node_next(n, 0)) {
        const uint8_t *k = node_key(n);
        size_t ul = n->mn_key_len - LSM_TRAILER_SIZE;
        if (lsm_user_cmp(k, ul, key, key_len) != 0)
            return LSM_GET_NOTFOUND;
        uint64_t t = lsm_get_fixed64(k + ul);
        unsigned type = (unsigned)(t & 0xff);
        if (type == LSM_TYPE_RANGE_DELETE)
            continue;
        if (seq != NULL)
            *seq = t >> 8;
        if (type == LSM_TYPE_DELETE)
            return LSM_GET_DELETED;
        *val = node_val(n);
        *val_len = n->mn_val_len;
        return LSM_GET_FOUND;
    }
    return LSM_GET_NOTFOUND;
}

size_t lsm_memtable_bytes(const lsm_memtable *m)
{
    return atomic_load_explicit(&((lsm_memtable *)m)->mt_bytes,
                                memory_order_relaxed);
}

uint64_t lsm_memtable_count(const lsm_memtable *m)
{
    return atomic_load_explicit(&((lsm_memtable *)m)->mt_count,
                                memory_order_relaxed);
}

/* ---- iterator -------------------------------------------------------------
 */

void lsm_memtable_iter_init(lsm_memtable_iter *it, lsm_memtable *m)
{
    it->m = m;
    it->node = NULL;
}

void lsm_memtable_iter_seek(lsm_memtable_iter *it, const uint8_t *ikey,
                            size_t len)
{
    if (len < LSM_TRAILER_SIZE) {
        /* not an internal key: treat as the user key with the newest
         * possible trailer */
        it->node = seek_ge(it->m, ikey, len, UINT64_MAX, NULL);
        return;
    }
    size_t ul = len - LSM_TRAILER_SIZE;
    it->node = seek_ge(it->m, ikey, ul, lsm_get_fixed64(ikey + ul), NULL);
}

void lsm_memtable_iter_seek_first(lsm_memtable_iter *it)
{
    it->node = node_next(it->m->mt_head, 0);
}

void lsm_memtable_iter_next(lsm_memtable_iter *it)
{
    if (it->node != NULL)
        it->node = node_next(it->node, 0);
}

bool lsm_memtable_iter_valid(const lsm_memtable_iter *it)
{
    return it->node != NULL;
}

void lsm_memtable_iter_key(const lsm_memtable_iter *it, const uint8_t **ikey,
                           size_t *len)
{
    const mt_node *n = it->node;
    *ikey = node_key(n);
    *len = n->mn_key_len;
}

void lsm_memtable_iter_value(const lsm_memtable_iter *it, const uint8_t **val,
                             size_t *len)
{
    const mt_node *n = it->node;
    *val = node_val(n);
    *len = n->mn_val_len;
}
