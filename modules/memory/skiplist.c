/*
 * skiplist.c - the memory engine's ordered list of key versions (see
 * skiplist.h for the ordering and the rules on threads).
 *
 * A classic skiplist (Pugh 1990) with p = 1/4 and at most MSL_MAX_HEIGHT
 * levels, enough for hundreds of millions of versions.  Each node is one
 * allocation: the header, its next[] array, then the key and value bytes.
 */
#include <stdlib.h>
#include <string.h>

#include "skiplist.h"

/* ---- comparisons --------------------------------------------------------- */

int msl_key_cmp(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
    size_t n = alen < blen ? alen : blen;
    if (n > 0) {
        int c = memcmp(a, b, n);
        if (c != 0)
            return c;
    }
    return alen < blen ? -1 : alen > blen ? 1 : 0;
}

/* Where node `n` stands relative to the position (key, seq, sub): <0 when
 * it comes before it in list order, 0 when it is that position, >0 after. */
static int node_cmp(const msl_node *n, const uint8_t *key, size_t key_len,
                    uint64_t seq, uint32_t sub)
{
    int c = msl_key_cmp(n->key, n->key_len, key, key_len);
    if (c != 0)
        return c;
    /* Newer versions first. */
    if (n->seq != seq)
        return n->seq > seq ? -1 : 1;
    if (n->sub != sub)
        return n->sub > sub ? -1 : 1;
    return 0;
}

/* ---- the list ------------------------------------------------------------ */

int msl_init(msl_list *l)
{
    size_t sz = sizeof(msl_node) + MSL_MAX_HEIGHT * sizeof(msl_node *);
    msl_node *h = calloc(1, sz);
    if (h == NULL)
        return -1;
    h->height = MSL_MAX_HEIGHT;
    h->alloc_bytes = sz;
    l->head = h;
    l->height = 1;
    l->rng = 0x9e3779b97f4a7c15ull;
    l->bytes = sz;
    l->nodes = 0;
    return 0;
}

void msl_free(msl_list *l)
{
    if (l->head == NULL)
        return;
    msl_node *n = l->head->next[0];
    while (n != NULL) {
        msl_node *next = n->next[0];
        free(n);
        n = next;
    }
    free(l->head);
    l->head = NULL;
    l->bytes = 0;
    l->nodes = 0;
}

/* A height for a new node: 1 with probability 3/4, 2 with 3/16, ... */
static int random_height(msl_list *l)
{
    /* xorshift64 */
    uint64_t x = l->rng;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    l->rng = x;
    int h = 1;
    while (h < MSL_MAX_HEIGHT && (x & 3) == 0) {
        h++;
        x >>= 2;
    }
    return h;
}

msl_node *msl_node_new(msl_list *l, const uint8_t *key, size_t key_len,
                       const uint8_t *val, size_t val_len, uint64_t seq,
                       uint32_t sub, msl_kind kind)
{
    if (kind != MSL_PUT)
        val_len = 0;
    int height = random_height(l);
    size_t head = sizeof(msl_node) + (size_t)height * sizeof(msl_node *);
    if (key_len > SIZE_MAX - head || val_len > SIZE_MAX - head - key_len)
        return NULL;
    size_t sz = head + key_len + val_len;
    msl_node *n = malloc(sz);
    if (n == NULL)
        return NULL;
    memset(n, 0, head);
    uint8_t *data = (uint8_t *)n + head;
    n->seq = seq;
    n->sub = sub;
    n->kind = (uint8_t)kind;
    n->height = (uint8_t)height;
    n->key_len = key_len;
    n->val_len = val_len;
    n->key = data;
    if (key_len > 0)
        memcpy(data, key, key_len);
    n->val = val_len > 0 ? data + key_len : NULL;
    if (val_len > 0)
        memcpy(data + key_len, val, val_len);
    n->alloc_bytes = sz;
    l->bytes += sz;
    l->nodes++;
    return n;
}

void msl_node_free(msl_list *l, msl_node *n)
{
    l->bytes -= n->alloc_bytes;
    l->nodes--;
    free(n);
}

/* Fill prev[i] (for every level) with the last node before the position
 * (key, seq, sub) on level i, and return the first node at or after it. */
static msl_node *find(const msl_list *l, const uint8_t *key, size_t key_len,
                      uint64_t seq, uint32_t sub, msl_node **prev)
{
    msl_node *x = l->head;
    for (int i = MSL_MAX_HEIGHT - 1; i >= 0; i--) {
        if (i < l->height) {
            msl_node *nx;
            while ((nx = x->next[i]) != NULL &&
                   node_cmp(nx, key, key_len, seq, sub) < 0)
                x = nx;
        }
        if (prev != NULL)
            prev[i] = x;
    }
    return x->next[0];
}

void msl_insert(msl_list *l, msl_node *n)
{
    msl_node *prev[MSL_MAX_HEIGHT];
    find(l, n->key, n->key_len, n->seq, n->sub, prev);
    if (n->height > l->height)
        l->height = n->height;
    for (int i = 0; i < n->height; i++) {
        n->next[i] = prev[i]->next[i];
        prev[i]->next[i] = n;
    }
}

void msl_unlink(msl_list *l, msl_node *n)
{
    msl_node *prev[MSL_MAX_HEIGHT];
    find(l, n->key, n->key_len, n->seq, n->sub, prev);
    for (int i = 0; i < n->height; i++) {
        if (prev[i]->next[i] == n)
            prev[i]->next[i] = n->next[i];
    }
    while (l->height > 1 && l->head->next[l->height - 1] == NULL)
        l->height--;
}

msl_node *msl_seek(const msl_list *l, const uint8_t *key, size_t key_len,
                   uint64_t seq, uint32_t sub)
{
    return find(l, key, key_len, seq, sub, NULL);
}

msl_node *msl_first(const msl_list *l)
{
    return l->head->next[0];
}

msl_node *msl_last_before(const msl_list *l, const uint8_t *key, size_t key_len)
{
    msl_node *x = l->head;
    for (int i = l->height - 1; i >= 0; i--) {
        msl_node *nx;
        while ((nx = x->next[i]) != NULL &&
               msl_key_cmp(nx->key, nx->key_len, key, key_len) < 0)
            x = nx;
    }
    return x == l->head ? NULL : x;
}

msl_node *msl_last(const msl_list *l)
{
    msl_node *x = l->head;
    for (int i = l->height - 1; i >= 0; i--)
        while (x->next[i] != NULL)
            x = x->next[i];
    return x == l->head ? NULL : x;
}

size_t msl_prune_key(msl_list *l, const uint8_t *key, size_t key_len,
                     msl_pins_fn pins, void *ud)
{
    msl_node *prev[MSL_MAX_HEIGHT];
    msl_node *newest = find(l, key, key_len, UINT64_MAX, UINT32_MAX, prev);
    if (newest == NULL ||
        msl_key_cmp(newest->key, newest->key_len, key, key_len) != 0)
        return 0;
    /* prev[] always holds, per level, the last linked node before the
     * current one; kept nodes take over as predecessors. */
    for (int i = 0; i < newest->height; i++)
        prev[i] = newest;
    uint64_t pin = pins(ud);
    uint64_t newer_seq = newest->seq;
    size_t dropped = 0;
    msl_node *n = newest->next[0];
    while (n != NULL && msl_key_cmp(n->key, n->key_len, key, key_len) == 0) {
        msl_node *next = n->next[0];
        /* Pins at or above newer_seq see a newer version. */
        while (pin != 0 && pin >= newer_seq)
            pin = pins(ud);
        bool keep = pin != 0 && pin >= n->seq;
        newer_seq = n->seq;
        if (keep) {
            for (int i = 0; i < n->height; i++)
                prev[i] = n;
        } else {
            for (int i = 0; i < n->height; i++)
                prev[i]->next[i] = n->next[i];
            if (n->in_batch)
                n->dead = true;
            else
                msl_node_free(l, n);
            dropped++;
        }
        n = next;
    }
    while (l->height > 1 && l->head->next[l->height - 1] == NULL)
        l->height--;
    return dropped;
}
