/*
 * sqlvt_harness.h - the harness of the tests that drive the sql module
 * through its vtable (datacave/sql.h), loaded with the host's loader over
 * a storage module (memory or lsm) the way the server and the local shell
 * use it: start / stop / restart of the module on a temporary data
 * directory, sessions, and result collection as text (one line per row,
 * values separated by '|', NULL as "NULL"; the command tag and the
 * error's SQLSTATE kept).
 *
 * Include once, from the test's .c file; main() sets build_dir and
 * storage_name.
 */
#ifndef SQLVT_HARNESS_H
#define SQLVT_HARNESS_H

#define _XOPEN_SOURCE 700 /* nftw */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "datacave/sql.h"
#include "loader.h"
#include "log.h"
#include "util.h"

/* ==== the module under test ============================================== */

static char build_dir[PATH_MAX];

static inline int rm_entry(const char *path, const struct stat *st, int flag,
                    struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

/* Remove a directory tree (depth first). */
static inline void rm_tree(const char *dir)
{
    nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}
static const char *storage_name = "memory";

typedef struct env {
    char dir[PATH_MAX];
    dc_config *cfg;
    dc_runtime *rt;
    const dc_sql_vtable *vt;
    void *inst;
} env;

static env E;

static inline int env_start(void)
{
    char text[3 * PATH_MAX + 1024];
    snprintf(text, sizeof text,
             "[server]\nmodule_dir = \"%s/modules\"\n"
             "[log]\nlevel = \"warn\"\n"
             "[storage]\ndata_dir = \"%s/data\"\n"
             "[modules]\nprotocol = \"\"\nsql = \"sql\"\nstorage = \"%s\"\n"
             "auth = \"\"\nencryption = \"none\"\nmetrics = \"\"\n"
             "[module.sql]\nwork_mem_kb = 1024\n"
             "databases = \"preset, other_preset\"\n",
             build_dir, E.dir, storage_name);
    dc_strlist errors = {0};
    E.cfg = dc_config_parse(text, strlen(text), "test-config", E.dir, &errors);
    if (!E.cfg)
        goto bad;
    E.rt = dc_runtime_new(E.cfg);
    dc_log_set_level(DC_LOG_WARN);
    uint32_t mask = (1u << DC_KIND_SQL) | (1u << DC_KIND_STORAGE) |
                    (1u << DC_KIND_ENCRYPTION);
    if (dc_runtime_load(E.rt, mask, &errors) != 0 ||
        dc_runtime_resolve(E.rt, false, &errors) != 0)
        goto bad;
    dc_strlist_free(&errors);
    dc_error err;
    dc_error_init(&err);
    if (dc_runtime_init(E.rt, &err) != 0) {
        print_error("init: %s\n", err.message);
        return -1;
    }
    dc_module *m = dc_runtime_module(E.rt, DC_KIND_SQL);
    E.vt = m->desc->vtable;
    E.inst = m->instance;
    return 0;
bad:
    for (size_t i = 0; i < errors.len; i++)
        print_error("%s\n", errors.items[i]);
    dc_strlist_free(&errors);
    return -1;
}

static inline void env_stop(void)
{
    if (E.rt) {
        dc_runtime_shutdown(E.rt);
        dc_runtime_free(E.rt);
    }
    dc_config_free(E.cfg);
    E.rt = NULL;
    E.cfg = NULL;
}

static inline int setup(void **state)
{
    (void)state;
    snprintf(E.dir, sizeof E.dir, "/tmp/datacave-sqlvt-XXXXXX");
    if (!mkdtemp(E.dir))
        return -1;
    return env_start();
}

static inline int teardown(void **state)
{
    (void)state;
    env_stop();
    rm_tree(E.dir);
    return 0;
}

/* Restart: shut the module down and start it again on the same data. */
static inline void restart(void)
{
    env_stop();
    assert_int_equal(env_start(), 0);
}

/* ==== sessions and result collection ===================================== */

typedef struct result {
    char text[65536];
    size_t len;
    char tag[64];
    char cols[512];
    int nnotices;
    char notice_state[6];
} result;

static inline int r_describe(void *ud, const dc_column *cols, uint32_t n)
{
    result *r = ud;
    size_t o = 0;
    for (uint32_t i = 0; i < n && o < sizeof r->cols - 1; i++)
        o += (size_t)snprintf(r->cols + o, sizeof r->cols - o, "%s%s",
                              i ? "|" : "", cols[i].name);
    return 0;
}

static inline int r_row(void *ud, const dc_row *row)
{
    result *r = ud;
    for (uint32_t i = 0; i < row->ncols; i++) {
        if (i && r->len < sizeof r->text - 1)
            r->text[r->len++] = '|';
        char buf[4096];
        size_t n = 0;
        if (row->values[i].is_null) {
            n = 4;
            memcpy(buf, "NULL", 4);
        } else if (E.vt->format_text(E.inst, &row->values[i], buf,
                                     sizeof buf, &n) != 0) {
            n = 3;
            memcpy(buf, "ERR", 3);
        }
        if (r->len + n < sizeof r->text - 2) {
            memcpy(r->text + r->len, buf, n);
            r->len += n;
        }
    }
    if (r->len < sizeof r->text - 1)
        r->text[r->len++] = '\n';
    r->text[r->len] = '\0';
    return 0;
}

static inline int r_complete(void *ud, const char *tag)
{
    result *r = ud;
    snprintf(r->tag, sizeof r->tag, "%s", tag);
    return 0;
}

static inline int r_notice(void *ud, const dc_error *n)
{
    result *r = ud;
    r->nnotices++;
    memcpy(r->notice_state, n->sqlstate, sizeof r->notice_state);
    return 0;
}

static inline dc_sql_session *open_session(void)
{
    dc_sql_session_options o = {.size = sizeof o, .user = "tester",
                                .database = "default", .can_read = true,
                                .can_write = true, .is_admin = true};
    dc_sql_session *s = NULL;
    dc_error err;
    dc_error_init(&err);
    assert_int_equal(E.vt->session_open(E.inst, &o, &s, &err), 0);
    return s;
}

/* Run sql; returns the SQLSTATE ("" on success) in state. */
static inline int run(dc_sql_session *s, const char *sql, result *r, dc_error *err)
{
    memset(r, 0, sizeof *r);
    dc_sql_sink sink = {.size = sizeof sink, .ud = r, .describe = r_describe,
                        .row = r_row, .complete = r_complete,
                        .notice = r_notice};
    dc_error_init(err);
    return E.vt->exec(s, sql, strlen(sql), &sink, err);
}

/* Run and expect success; returns the rows as text. */
static inline const char *q(dc_sql_session *s, const char *sql)
{
    static result r;
    dc_error err;
    int rc = run(s, sql, &r, &err);
    if (rc != 0)
        fail_msg("%s\n  failed: %s %s", sql, err.sqlstate, err.message);
    return r.text;
}

/* Run and expect an error with this SQLSTATE; returns the error. */
static inline dc_error qerr(dc_sql_session *s, const char *sql,
                            const char *state)
{
    result r;
    dc_error err;
    int rc = run(s, sql, &r, &err);
    if (rc == 0)
        fail_msg("%s\n  succeeded, expected %s", sql, state);
    if (strcmp(err.sqlstate, state) != 0)
        fail_msg("%s\n  failed with %s (%s), expected %s", sql, err.sqlstate,
                 err.message, state);
    return err;
}

static inline const char *tag_of(dc_sql_session *s, const char *sql)
{
    static result r;
    dc_error err;
    if (run(s, sql, &r, &err) != 0)
        fail_msg("%s\n  failed: %s %s", sql, err.sqlstate, err.message);
    return r.tag;
}

#define Q(s, sql, expect) assert_string_equal(q(s, sql), expect)

#endif
