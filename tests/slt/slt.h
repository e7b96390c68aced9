/*
 * slt.h - the sqllogictest runner: its backends and helpers.
 *
 * A backend runs SQL on one database system: the SQL engine in-process
 * (slt_embed.c, through host/embed.c) or a PostgreSQL server through libpq
 * (slt_pg.c).  Each test file runs in a fresh database: begin_file makes
 * one, end_file throws it away.
 */
#ifndef SLT_H
#define SLT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The rows of a query as text: cells[r * ncols + c], NULL for SQL NULL;
 * types[c] is the column's PostgreSQL type OID. */
typedef struct slt_result {
    size_t ncols;
    size_t nrows;
    size_t cap; /* rows allocated                           */
    uint32_t *types;
    char **cells;
} slt_result;

void slt_result_init(slt_result *r, size_t ncols, const uint32_t *types);
/* Append a row of ncols cells (copied; NULL stays NULL). */
void slt_result_add(slt_result *r, char *const *cells, const size_t *lens);
void slt_result_free(slt_result *r);

typedef struct slt_backend {
    void *ud;
    /* A fresh, empty database for one test file.  0 or -1 (err set). */
    int (*begin_file)(void *ud, char *err, size_t errlen);
    void (*end_file)(void *ud);
    /* Run sql.  A query fills *res (when res is not NULL) with the rows of
     * its (last) result set.  0, or -1 with the error message in err. */
    int (*run)(void *ud, const char *sql, slt_result *res, char *err,
               size_t errlen);
    void (*free)(void *ud);
} slt_backend;

/* In-process engine from a config file; data directories are made under
 * work_dir.  0 or -1 (err set). */
int slt_embed_backend(const char *config, const char *work_dir,
                      slt_backend *out, char *err, size_t errlen);
/* PostgreSQL at conninfo; each file gets a scratch database created and
 * dropped over that connection. */
int slt_pg_backend(const char *conninfo, slt_backend *out, char *err,
                   size_t errlen);

/* MD5 of data as 32 lowercase hex digits and a NUL. */
typedef struct slt_md5 {
    uint32_t h[4];
    uint64_t len;
    uint8_t buf[64];
    size_t nbuf;
} slt_md5;

void slt_md5_init(slt_md5 *m);
void slt_md5_update(slt_md5 *m, const void *data, size_t len);
void slt_md5_hex(slt_md5 *m, char out[33]);

#endif
