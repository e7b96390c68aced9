/*
 * embed.c - the storage, encryption and sql modules of a config, in-process
 * (embed.h).
 */
#define _GNU_SOURCE
#include "embed.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "config.h"
#include "loader.h"
#include "log.h"

struct dc_embed {
    dc_config *cfg;
    dc_runtime *rt;
    dc_module *sql;
    char *data_dir;
};

/* SQLSTATE object_in_use, which the storage engines give a held store. */
#define SQLSTATE_IN_USE "55006"

/* ---- the --data-dir override ------------------------------------------ */

/* s without leading blanks. */
static const char *skip_blank(const char *s, const char *end)
{
    while (s < end && (*s == ' ' || *s == '\t'))
        s++;
    return s;
}

/* The table a header line [name] opens, into out; false when the line is
 * not a table header. */
static bool header_name(const char *line, const char *end, char *out,
                        size_t cap)
{
    const char *p = skip_blank(line, end);
    if (p >= end || *p != '[')
        return false;
    p++;
    bool array = p < end && *p == '[';
    if (array)
        p++;
    p = skip_blank(p, end);
    const char *q = p;
    while (q < end && *q != ']')
        q++;
    if (q >= end)
        return false;
    const char *e = q;
    while (e > p && (e[-1] == ' ' || e[-1] == '\t'))
        e--;
    size_t n = (size_t)(e - p);
    if (array) {
        /* An array of tables is never [storage]. */
        snprintf(out, cap, "[[%.*s]]", (int)n, p);
        return true;
    }
    snprintf(out, cap, "%.*s", (int)n, p);
    return true;
}

/* True when the line assigns the bare key data_dir. */
static bool is_data_dir_line(const char *line, const char *end)
{
    const char *p = skip_blank(line, end);
    if ((size_t)(end - p) < 8 || strncmp(p, "data_dir", 8) != 0)
        return false;
    p = skip_blank(p + 8, end);
    return p < end && *p == '=';
}

/* TOML basic string for s. */
static void append_toml_string(dc_strlist *parts, const char *s)
{
    size_t n = strlen(s);
    char *q = dc_xmalloc(2 * n + 3);
    size_t j = 0;
    q[j++] = '"';
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '"' || s[i] == '\\')
            q[j++] = '\\';
        q[j++] = s[i];
    }
    q[j++] = '"';
    q[j] = '\0';
    dc_strlist_addf(parts, "data_dir = %s\n", q);
    free(q);
}

static char *join_parts(const dc_strlist *parts)
{
    size_t total = 1;
    for (size_t i = 0; i < parts->len; i++)
        total += strlen(parts->items[i]);
    char *out = dc_xmalloc(total);
    size_t at = 0;
    for (size_t i = 0; i < parts->len; i++) {
        size_t l = strlen(parts->items[i]);
        memcpy(out + at, parts->items[i], l);
        at += l;
    }
    out[at] = '\0';
    return out;
}

char *dc_embed_override_data_dir(const char *text, const char *dir)
{
    dc_strlist parts = {0};
    char table[256] = "";
    bool seen_storage = false, done = false;
    const char *p = text;
    while (*p) {
        const char *nl = strchr(p, '\n');
        const char *end = nl ? nl : p + strlen(p);
        char name[256];
        if (header_name(p, end, name, sizeof name)) {
            snprintf(table, sizeof table, "%s", name);
            dc_strlist_addf(&parts, "%.*s\n", (int)(end - p), p);
            if (strcmp(name, "storage") == 0 && !done) {
                /* The key goes first in the table; an existing line for
                 * it is dropped below. */
                seen_storage = true;
                append_toml_string(&parts, dir);
                done = true;
            }
        } else if (strcmp(table, "storage") == 0 && seen_storage &&
                   is_data_dir_line(p, end)) {
            /* replaced by the line written after the header */
        } else {
            dc_strlist_addf(&parts, "%.*s\n", (int)(end - p), p);
        }
        p = nl ? nl + 1 : end;
    }
    if (!done) {
        dc_strlist_addf(&parts, "\n[storage]\n");
        append_toml_string(&parts, dir);
    }
    char *out = join_parts(&parts);
    dc_strlist_free(&parts);
    return out;
}

static char *read_file(const char *path, size_t *len, dc_strlist *errors)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        dc_strlist_addf(errors, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    size_t cap = 4096, n = 0;
    char *buf = dc_xmalloc(cap);
    size_t got;
    while ((got = fread(buf + n, 1, cap - n - 1, f)) > 0) {
        n += got;
        if (cap - n - 1 == 0) {
            cap *= 2;
            buf = dc_xrealloc(buf, cap);
        }
    }
    bool bad = ferror(f) != 0;
    fclose(f);
    if (bad) {
        dc_strlist_addf(errors, "%s: cannot read", path);
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

/* An absolute form of a path relative to the current directory. */
static char *absolute(const char *path)
{
    if (path[0] == '/')
        return dc_xstrdup(path);
    char cwd[4096];
    if (getcwd(cwd, sizeof cwd) == NULL)
        return dc_xstrdup(path);
    return dc_path_join(cwd, path);
}

/* Load the config, with the data directory replaced when asked. */
static dc_config *load_config(const char *path, const char *data_dir,
                              dc_strlist *errors)
{
    if (data_dir == NULL)
        return dc_config_load(path, errors);
    size_t len;
    char *text = read_file(path, &len, errors);
    if (text == NULL)
        return NULL;
    char *dir = absolute(data_dir);
    char *changed = dc_embed_override_data_dir(text, dir);
    char *cfgdir = dc_path_dirname(path);
    dc_config *cfg =
        dc_config_parse(changed, strlen(changed), path, cfgdir, errors);
    const char *got = NULL;
    if (cfg != NULL &&
        (dc_config_string(cfg, "storage.data_dir", &got) != DC_OK ||
         strcmp(got, dir) != 0)) {
        dc_strlist_addf(errors,
                        "%s: cannot apply --data-dir: set [storage] data_dir "
                        "as a plain key of a [storage] table",
                        path);
        dc_config_free(cfg);
        cfg = NULL;
    }
    free(cfgdir);
    free(changed);
    free(dir);
    free(text);
    return cfg;
}

/* The data directory as the storage engines resolve it. */
static char *resolve_data_dir(const dc_config *cfg)
{
    const char *dd;
    if (dc_config_string(cfg, "storage.data_dir", &dd) != DC_OK)
        return NULL;
    if (dd[0] == '/')
        return dc_xstrdup(dd);
    char *rel = dc_path_join(dc_config_dir(cfg), dd);
    char *abs = absolute(rel);
    free(rel);
    return abs;
}

/* ---- loading ------------------------------------------------------------ */

/* Load the configured module of each kind we run, nothing else (not the
 * optional dependencies such as metrics). */
static int load_modules(dc_embed *e, dc_strlist *errors)
{
    static const uint32_t kinds[] = {DC_KIND_STORAGE, DC_KIND_ENCRYPTION,
                                     DC_KIND_SQL};
    int rc = 0;
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        const char *name = dc_config_module_for(e->cfg, kinds[i]);
        if (name == NULL) {
            if (kinds[i] != DC_KIND_ENCRYPTION) {
                dc_strlist_addf(errors,
                                "%s: no %s module configured ([modules] %s)",
                                dc_config_name(e->cfg), dc_kind_name(kinds[i]),
                                dc_kind_name(kinds[i]));
                rc = -1;
            }
            continue;
        }
        char *path = dc_module_path(e->cfg, name);
        if (dc_runtime_load_file(e->rt, kinds[i], path, errors) != 0)
            rc = -1;
        free(path);
    }
    if (rc == 0 && dc_runtime_resolve(e->rt, false, errors) != 0)
        rc = -1;
    return rc;
}

/* True when another process holds the store's lock file. */
static bool lock_held(const char *data_dir)
{
    if (data_dir == NULL)
        return false;
    char *lock = dc_path_join(data_dir, "LOCK");
    int fd = open(lock, O_RDONLY | O_CLOEXEC);
    free(lock);
    if (fd < 0)
        return false;
    bool held = flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK;
    if (!held)
        flock(fd, LOCK_UN);
    close(fd);
    return held;
}

static bool sql_vtable_ok(const dc_module *m)
{
    const dc_sql_vtable *v = m->desc->vtable;
    return DC_HAS_FIELD(v, dc_sql_vtable, txn_status) && v->session_open &&
           v->session_close && v->exec && v->txn_status;
}

static int init_modules(dc_embed *e, dc_strlist *errors)
{
    dc_error err;
    dc_error_init(&err);
    int rc = dc_runtime_init(e->rt, &err);
    if (rc == DC_OK)
        return DC_OK;
    if (rc == DC_EBUSY || strcmp(err.sqlstate, SQLSTATE_IN_USE) == 0 ||
        lock_held(e->data_dir)) {
        dc_strlist_addf(errors,
                        "the data directory %s is in use by a running server; "
                        "stop it or connect with psql",
                        e->data_dir ? e->data_dir : "(unknown)");
        return DC_EBUSY;
    }
    dc_strlist_addf(errors, "%s", err.message);
    if (err.detail[0])
        dc_strlist_addf(errors, "detail: %s", err.detail);
    if (err.hint[0])
        dc_strlist_addf(errors, "hint: %s", err.hint);
    return rc < 0 ? rc : DC_ERR;
}

int dc_embed_open(const char *config_path, const char *data_dir, dc_embed **out,
                  dc_strlist *errors)
{
    *out = NULL;
    dc_embed *e = dc_xcalloc(1, sizeof *e);
    e->cfg = load_config(config_path, data_dir, errors);
    if (e->cfg == NULL) {
        free(e);
        return DC_EINVAL;
    }
    /* The modules' informational lines would drown the shell's output. */
    const char *lv;
    int level = DC_LOG_WARN;
    if (dc_config_string(e->cfg, "log.level", &lv) == DC_OK &&
        dc_log_level_parse(lv) > level)
        level = dc_log_level_parse(lv);
    dc_log_set_level(level);

    e->data_dir = resolve_data_dir(e->cfg);
    e->rt = dc_runtime_new(e->cfg);
    int rc = DC_EINVAL;
    if (load_modules(e, errors) != 0)
        goto fail;
    e->sql = dc_runtime_module(e->rt, DC_KIND_SQL);
    if (!sql_vtable_ok(e->sql)) {
        dc_strlist_addf(errors,
                        "module %s: the sql vtable lacks a required call",
                        e->sql->path);
        goto fail;
    }
    rc = init_modules(e, errors);
    if (rc != DC_OK)
        goto fail;
    *out = e;
    return DC_OK;
fail:
    dc_runtime_free(e->rt);
    dc_config_free(e->cfg);
    free(e->data_dir);
    free(e);
    return rc;
}

void dc_embed_close(dc_embed *e)
{
    if (e == NULL)
        return;
    dc_runtime_shutdown(e->rt);
    dc_runtime_free(e->rt);
    dc_config_free(e->cfg);
    free(e->data_dir);
    free(e);
}

const dc_sql_vtable *dc_embed_sql(const dc_embed *e)
{
    return e->sql->desc->vtable;
}

void *dc_embed_instance(const dc_embed *e)
{
    return e->sql->instance;
}

const char *dc_embed_data_dir(const dc_embed *e)
{
    return e->data_dir;
}

int dc_embed_session(dc_embed *e, const char *user, const char *database,
                     dc_sql_session **out, dc_error *err)
{
    dc_sql_session_options o;
    memset(&o, 0, sizeof o);
    o.size = (uint32_t)sizeof o;
    o.user = user;
    o.database = database;
    o.can_read = o.can_write = o.is_admin = true;
    return dc_embed_sql(e)->session_open(dc_embed_instance(e), &o, out, err);
}
