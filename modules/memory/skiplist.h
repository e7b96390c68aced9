/*
 * skiplist.h - the memory engine's ordered list of key versions.
 *
 * Every write of a key adds a version node: (key, seq, sub) with a kind
 * (a put carrying a value, or a tombstone).  Nodes are ordered by key
 * (memcmp, shorter first on a common prefix), then by seq descending, then
 * by sub (the op's position in its batch) descending, so the first node of
 * a key is its newest version and "the version visible at seq S" is the
 * first node at or after (key, S, UINT32_MAX).
 *
 * A node is immutable once inserted: key, value, seq and kind never change
 * until it is freed, so a pointer to a node stays usable for as long as the
 * caller can prove the node is not pruned (see memory.c: pins).
 *
 * Threads: no locking here.  The caller serialises modifications (insert,
 * unlink, prune) against every other call; lookups may run concurrently
 * with each other.
 */
#ifndef DATACAVE_MEMORY_SKIPLIST_H
#define DATACAVE_MEMORY_SKIPLIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MSL_MAX_HEIGHT 16

typedef enum msl_kind {
    MSL_PUT = 1,      /* a value */
    MSL_TOMBSTONE = 2 /* the key is deleted as of this version */
} msl_kind;

typedef struct msl_node {
    uint64_t seq;   /* the batch that wrote it */
    uint32_t sub;   /* op index inside that batch */
    uint8_t kind;   /* msl_kind */
    uint8_t height; /* levels in next[], 1..MSL_MAX_HEIGHT */
    bool in_batch;  /* owned by the batch being written:
                       prune unlinks it but leaves the free
                       to the batch (see msl_prune_key) */
    bool dead;      /* unlinked by prune while in_batch */
    size_t key_len;
    size_t val_len;
    const uint8_t *key;          /* inside this allocation */
    const uint8_t *val;          /* inside this allocation; NULL for a
                                    tombstone or an empty value */
    size_t alloc_bytes;          /* size of this allocation */
    struct msl_node *batch_next; /* the writer's list of its batch */
    struct msl_node *next[];     /* height entries */
} msl_node;

typedef struct msl_list {
    msl_node *head; /* sentinel of height MSL_MAX_HEIGHT, no key */
    int height;     /* levels in use, 1..MSL_MAX_HEIGHT */
    uint64_t rng;   /* xorshift state for node heights */
    size_t bytes;   /* bytes of every node allocated (head too) */
    size_t nodes;   /* version nodes linked or awaiting free */
} msl_list;

/* The read points that may still look at old versions, newest first, as
 * msl_prune_key walks them: next(ud) returns the next lower pinned seq on
 * each call, or 0 when there is none.  The first call returns the highest
 * pinned seq. */
typedef uint64_t (*msl_pins_fn)(void *ud);

/* Compare two keys as the store orders them: memcmp on the common prefix,
 * then the shorter first.  Either pointer may be NULL when its length is 0.
 * Returns <0, 0 or >0. */
int msl_key_cmp(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen);

/* Make an empty list.  Returns 0, or -1 when out of memory (then *l is
 * unusable and needs no msl_free). */
int msl_init(msl_list *l);

/* Free every node and the sentinel.  No other call may be running. */
void msl_free(msl_list *l);

/* Allocate a node holding copies of key and value (value ignored for a
 * tombstone), not yet linked.  Returns NULL when out of memory.  The caller
 * links it with msl_insert or frees it with msl_node_free. */
msl_node *msl_node_new(msl_list *l, const uint8_t *key, size_t key_len,
                       const uint8_t *val, size_t val_len, uint64_t seq,
                       uint32_t sub, msl_kind kind);

/* Free a node that is not linked (never inserted, or unlinked). */
void msl_node_free(msl_list *l, msl_node *n);

/* Link `n` at its place.  Never fails.  (key, seq, sub) must not already be
 * in the list. */
void msl_insert(msl_list *l, msl_node *n);

/* Unlink `n`, which must be linked; the node is not freed. */
void msl_unlink(msl_list *l, msl_node *n);

/* The first node at or after (key, seq, sub) in list order, or NULL. */
msl_node *msl_seek(const msl_list *l, const uint8_t *key, size_t key_len,
                   uint64_t seq, uint32_t sub);

/* The first node of the list, or NULL when empty. */
msl_node *msl_first(const msl_list *l);

/* The last node whose key is below `key` (any version of that key: the
 * last one in list order, i.e. its oldest), or NULL.  key may be NULL when
 * key_len is 0 (the empty key, below which nothing sorts). */
msl_node *msl_last_before(const msl_list *l, const uint8_t *key,
                          size_t key_len);

/* The last node of the list, or NULL when empty. */
msl_node *msl_last(const msl_list *l);

/* Drop the versions of `key` that no reader can see.  The newest version is
 * always kept (key_seq needs it, and new readers see it); an older version
 * is kept only when some pinned seq P (from pins/ud, walked newest first)
 * has it as its visible version: v.seq <= P < seq of the next newer version.
 * Dropped nodes are freed, except those marked in_batch, which are only
 * unlinked and marked dead.  Returns the number of nodes dropped. */
size_t msl_prune_key(msl_list *l, const uint8_t *key, size_t key_len,
                     msl_pins_fn pins, void *ud);

#endif
