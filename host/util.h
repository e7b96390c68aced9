/*
 * util.h - small helpers shared by the host's files: growable string lists
 * and buffers, path joining.
 */
#ifndef DATACAVE_HOST_UTIL_H
#define DATACAVE_HOST_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

/* A list of owned strings (messages, names). */
typedef struct dc_strlist {
    char **items;
    size_t len;
    size_t cap;
} dc_strlist;

/* Append a printf-formatted string.  Returns 0, or -1 when out of memory
 * (the list is unchanged then). */
#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
int dc_strlist_addf(dc_strlist *l, const char *fmt, ...);
void dc_strlist_free(dc_strlist *l);

/* malloc that never returns NULL: aborts the process with a message.  Only
 * for the host's start-up paths where no recovery is possible. */
void *dc_xmalloc(size_t n);
void *dc_xcalloc(size_t n, size_t size);
void *dc_xrealloc(void *p, size_t n);
char *dc_xstrdup(const char *s);
#if defined(__GNUC__)
__attribute__((format(printf, 1, 2)))
#endif
char *dc_xasprintf(const char *fmt, ...);

/* dir + "/" + name (name returned as is when absolute). Caller frees. */
char *dc_path_join(const char *dir, const char *name);
/* The directory part of path ("." when none). Caller frees. */
char *dc_path_dirname(const char *path);
/* Pointer to the last component of path (inside path). */
const char *dc_path_basename(const char *path);

#endif
