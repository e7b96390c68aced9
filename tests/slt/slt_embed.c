/*
 * slt_embed.c - the in-process backend of the sqllogictest runner: the
 * storage and sql modules of a config file (host/embed.c), on a fresh data
 * directory per test file.
 */
#define _GNU_SOURCE
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "embed.h"
#include "slt.h"

typedef struct embed_backend {
    char *config;
    char *work_dir;
    char dir[4096]; /* this file's scratch directory              */
    dc_embed *e;
    dc_sql_session *sess;
    const dc_sql_vtable *vt;
    void *inst;
    /* The query being run. */
    slt_result *res;
    bool described;
    char *fmt;
    size_t fmt_cap;
} embed_backend;

static int rm_entry(const char *path, const struct stat *st, int flag,
                    struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void end_file(void *ud)
{
    embed_backend *b = ud;
    if (b->sess)
        b->vt->session_close(b->sess);
    b->sess = NULL;
    dc_embed_close(b->e);
    b->e = NULL;
    if (b->dir[0])
        nftw(b->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    b->dir[0] = '\0';
}

static int begin_file(void *ud, char *err, size_t errlen)
{
    embed_backend *b = ud;
    snprintf(b->dir, sizeof b->dir, "%s/slt-XXXXXX", b->work_dir);
    if (mkdtemp(b->dir) == NULL) {
        snprintf(err, errlen, "mkdtemp %s: failed", b->dir);
        b->dir[0] = '\0';
        return -1;
    }
    char data[4200];
    snprintf(data, sizeof data, "%s/data", b->dir);
    dc_strlist errors = {0};
    if (dc_embed_open(b->config, data, &b->e, &errors) != DC_OK) {
        snprintf(err, errlen, "%s",
                 errors.len ? errors.items[0] : "cannot open");
        dc_strlist_free(&errors);
        end_file(b);
        return -1;
    }
    b->vt = dc_embed_sql(b->e);
    b->inst = dc_embed_instance(b->e);
    if (!DC_HAS_FIELD(b->vt, dc_sql_vtable, format_text) ||
        !b->vt->format_text) {
        snprintf(
            err, errlen,
            "the sql module has no format_text: values cannot be compared");
        end_file(b);
        return -1;
    }
    dc_error e;
    dc_error_init(&e);
    if (dc_embed_session(b->e, "slt", "default", &b->sess, &e) != DC_OK) {
        snprintf(err, errlen, "session: %s", e.message);
        end_file(b);
        return -1;
    }
    return 0;
}

static int sink_describe(void *ud, const dc_column *cols, uint32_t ncols)
{
    embed_backend *b = ud;
    if (b->res == NULL)
        return 0;
    uint32_t *types = calloc(ncols ? ncols : 1, sizeof *types);
    if (types == NULL)
        return DC_ENOMEM;
    for (uint32_t i = 0; i < ncols; i++)
        types[i] = cols[i].type;
    if (b->described)
        slt_result_free(b->res);
    slt_result_init(b->res, ncols, types);
    free(types);
    b->described = true;
    return 0;
}

/* Text of v into b->fmt; its length into *len. */
static int format(embed_backend *b, const dc_value *v, size_t *len)
{
    for (;;) {
        int rc = b->vt->format_text(b->inst, v, b->fmt, b->fmt_cap, len);
        if (rc == DC_ERANGE || (rc == DC_OK && *len >= b->fmt_cap)) {
            size_t cap = (*len > b->fmt_cap ? *len : b->fmt_cap) * 2 + 64;
            char *n = realloc(b->fmt, cap);
            if (n == NULL)
                return DC_ENOMEM;
            b->fmt = n;
            b->fmt_cap = cap;
            continue;
        }
        return rc;
    }
}

static int sink_row(void *ud, const dc_row *row)
{
    embed_backend *b = ud;
    if (b->res == NULL)
        return 0;
    if (!b->described || row->ncols != b->res->ncols)
        return DC_EINVAL;
    char **cells = calloc(row->ncols ? row->ncols : 1, sizeof *cells);
    size_t *lens = calloc(row->ncols ? row->ncols : 1, sizeof *lens);
    int rc = cells && lens ? DC_OK : DC_ENOMEM;
    for (uint32_t i = 0; rc == DC_OK && i < row->ncols; i++) {
        if (row->values[i].is_null)
            continue;
        size_t len = 0;
        rc = format(b, &row->values[i], &len);
        if (rc == DC_OK && (cells[i] = malloc(len + 1)) == NULL)
            rc = DC_ENOMEM;
        if (rc == DC_OK) {
            memcpy(cells[i], b->fmt, len);
            cells[i][len] = '\0';
            lens[i] = len;
        }
    }
    if (rc == DC_OK)
        slt_result_add(b->res, cells, lens);
    for (uint32_t i = 0; cells && i < row->ncols; i++)
        free(cells[i]);
    free(cells);
    free(lens);
    return rc;
}

static int sink_complete(void *ud, const char *tag)
{
    (void)ud;
    (void)tag;
    return 0;
}

static int run(void *ud, const char *sql, slt_result *res, char *err,
               size_t errlen)
{
    embed_backend *b = ud;
    dc_sql_sink sink;
    memset(&sink, 0, sizeof sink);
    sink.size = (uint32_t)sizeof sink;
    sink.ud = b;
    sink.describe = sink_describe;
    sink.row = sink_row;
    sink.complete = sink_complete;
    b->res = res;
    b->described = false;
    dc_error e;
    dc_error_init(&e);
    int rc = b->vt->exec(b->sess, sql, strlen(sql), &sink, &e);
    if (res != NULL && !b->described)
        slt_result_init(res, 0, NULL);
    b->res = NULL;
    if (rc == DC_OK)
        return 0;
    if (res != NULL)
        slt_result_free(res);
    snprintf(err, errlen, "ERROR:  %s",
             dc_error_isset(&e) ? e.message : dc_status_name(rc));
    return -1;
}

static void backend_free(void *ud)
{
    embed_backend *b = ud;
    end_file(b);
    free(b->fmt);
    free(b->config);
    free(b->work_dir);
    free(b);
}

int slt_embed_backend(const char *config, const char *work_dir,
                      slt_backend *out, char *err, size_t errlen)
{
    embed_backend *b = calloc(1, sizeof *b);
    if (b == NULL || (b->config = strdup(config)) == NULL ||
        (b->work_dir = strdup(work_dir)) == NULL) {
        if (b)
            free(b->config);
        free(b);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    out->ud = b;
    out->begin_file = begin_file;
    out->end_file = end_file;
    out->run = run;
    out->free = backend_free;
    return 0;
}
