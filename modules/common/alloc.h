/*
 * common/alloc.h - zeroed allocation for hot paths.  glibc's calloc (up to
 * at least 2.36, Debian 12's) never uses the per-thread cache and takes an
 * arena lock on every call, so with many connection threads the zeroed
 * allocations of each statement (portals, executor nodes, arenas) became
 * a tenth of the server's CPU under pgbench and a source of lock
 * contention.  malloc serves small sizes from the thread cache; zeroing
 * them costs far less.  Header-only, as modules never link each other.
 */
#ifndef DATACAVE_MODULES_COMMON_ALLOC_H
#define DATACAVE_MODULES_COMMON_ALLOC_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* calloc's contract: n * size zeroed bytes, NULL on overflow or failure. */
static inline void *dcm_calloc(size_t n, size_t size)
{
    if (size != 0 && n > SIZE_MAX / size)
        return NULL;
    size_t bytes = n * size;
    void *p = malloc(bytes ? bytes : 1);
    /* Read back through a volatile, or the compiler folds malloc and a
     * memset of its whole size into the very calloc this avoids. */
    volatile size_t zero_bytes = bytes;
    if (p != NULL)
        memset(p, 0, zero_bytes);
    return p;
}

#endif
