/*
 * util.c - see util.h.
 */
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int dc_strlist_addf(dc_strlist *l, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return -1;
    char *s = malloc((size_t)n + 1);
    if (s == NULL)
        return -1;
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    if (l->len == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 8;
        char **items = realloc(l->items, cap * sizeof *items);
        if (items == NULL) {
            free(s);
            return -1;
        }
        l->items = items;
        l->cap = cap;
    }
    l->items[l->len++] = s;
    return 0;
}

void dc_strlist_free(dc_strlist *l)
{
    for (size_t i = 0; i < l->len; i++)
        free(l->items[i]);
    free(l->items);
    l->items = NULL;
    l->len = l->cap = 0;
}

static void oom(void)
{
    fputs("datacave: out of memory\n", stderr);
    abort();
}

void *dc_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (p == NULL)
        oom();
    return p;
}

void *dc_xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (p == NULL)
        oom();
    return p;
}

void *dc_xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (q == NULL)
        oom();
    return q;
}

char *dc_xstrdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = dc_xmalloc(n);
    memcpy(d, s, n);
    return d;
}

char *dc_xasprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        oom();
    char *s = dc_xmalloc((size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return s;
}

char *dc_path_join(const char *dir, const char *name)
{
    if (name[0] == '/' || dir == NULL || dir[0] == '\0' || strcmp(dir, ".") == 0)
        return dc_xstrdup(name);
    size_t dl = strlen(dir);
    if (dir[dl - 1] == '/')
        return dc_xasprintf("%s%s", dir, name);
    return dc_xasprintf("%s/%s", dir, name);
}

char *dc_path_dirname(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (slash == NULL)
        return dc_xstrdup(".");
    if (slash == path)
        return dc_xstrdup("/");
    size_t n = (size_t)(slash - path);
    char *d = dc_xmalloc(n + 1);
    memcpy(d, path, n);
    d[n] = '\0';
    return d;
}

const char *dc_path_basename(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}
