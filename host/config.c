/*
 * config.c - see config.h.
 *
 * The host's schema is a flat table of dotted paths.  Elements of an array
 * of tables are checked against the entries below the array's path
 * ("security.auth.users" then "security.auth.users.username").  Defaults
 * are TOML text, parsed once at load into small documents of their own, so
 * that a default and a value from the file are read the same way.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Schema entry types beyond the scalar dc_config_type values. */
enum { S_TABLE = 100, S_TABLE_ARRAY, S_STRING_ARRAY };

typedef struct schema_entry {
    const char *path;
    int type;
    const char *def;          /* TOML text of the default, NULL for none */
    int64_t min, max;         /* integers: allowed range (min > max: any) */
    const char *const *choices; /* strings: allowed values (NULL: any)    */
} schema_entry;

static const char *const log_levels[] = {"debug", "info", "warn", "error", NULL};
static const char *const log_formats[] = {"text", "json", NULL};

#define ANY 1, 0
static const schema_entry SCHEMA[] = {
    {"server", S_TABLE, NULL, ANY, NULL},
    {"server.listen_addr", DC_CFG_STRING, "\"127.0.0.1:5433\"", ANY, NULL},
    {"server.max_connections", DC_CFG_INT, "100", 1, 1000000, NULL},
    {"server.idle_timeout_secs", DC_CFG_INT, "0", 0, INT32_MAX, NULL},
    {"server.module_dir", DC_CFG_STRING, NULL, ANY, NULL},
    {"log", S_TABLE, NULL, ANY, NULL},
    {"log.level", DC_CFG_STRING, "\"info\"", ANY, log_levels},
    {"log.format", DC_CFG_STRING, "\"text\"", ANY, log_formats},
    {"log.slow_query_ms", DC_CFG_INT, "-1", -1, INT32_MAX, NULL},
    {"storage", S_TABLE, NULL, ANY, NULL},
    {"storage.data_dir", DC_CFG_STRING, "\"data\"", ANY, NULL},
    {"storage.wal_enabled", DC_CFG_BOOL, "true", ANY, NULL},
    {"storage.memtable_max_bytes", DC_CFG_INT, "67108864", 4096, INT64_MAX, NULL},
    {"storage.sstable_target_bytes", DC_CFG_INT, "67108864", 4096, INT64_MAX, NULL},
    {"storage.encryption_enabled", DC_CFG_BOOL, "false", ANY, NULL},
    {"storage.encryption_key_base64", DC_CFG_STRING, NULL, ANY, NULL},
    {"storage.encryption_key_file", DC_CFG_STRING, NULL, ANY, NULL},
    {"storage.encryption_key_env", DC_CFG_STRING, NULL, ANY, NULL},
    {"storage.encryption_retired_keys", S_TABLE_ARRAY, NULL, ANY, NULL},
    {"storage.encryption_retired_keys.key_base64", DC_CFG_STRING, NULL, ANY, NULL},
    {"storage.encryption_retired_keys.key_file", DC_CFG_STRING, NULL, ANY, NULL},
    {"storage.encryption_retired_keys.key_env", DC_CFG_STRING, NULL, ANY, NULL},
    {"storage.encryption_allow_plaintext", DC_CFG_BOOL, "false", ANY, NULL},
    {"storage.compaction_interval_secs", DC_CFG_INT, "60", 0, INT32_MAX, NULL},
    {"sharding", S_TABLE, NULL, ANY, NULL},
    {"sharding.shard_count", DC_CFG_INT, "1", 1, 65536, NULL},
    {"cluster", S_TABLE, NULL, ANY, NULL},
    {"cluster.replication_factor", DC_CFG_INT, "1", 1, 16, NULL},
    {"metrics", S_TABLE, NULL, ANY, NULL},
    {"metrics.listen_addr", DC_CFG_STRING, "\"127.0.0.1:9898\"", ANY, NULL},
    {"security", S_TABLE, NULL, ANY, NULL},
    {"security.tls", S_TABLE, NULL, ANY, NULL},
    {"security.tls.enabled", DC_CFG_BOOL, "false", ANY, NULL},
    {"security.tls.cert_path", DC_CFG_STRING, NULL, ANY, NULL},
    {"security.tls.key_path", DC_CFG_STRING, NULL, ANY, NULL},
    {"security.tls.require", DC_CFG_BOOL, "false", ANY, NULL},
    {"security.auth", S_TABLE, NULL, ANY, NULL},
    {"security.auth.enabled", DC_CFG_BOOL, "true", ANY, NULL},
    {"security.auth.roles", S_TABLE_ARRAY, NULL, ANY, NULL},
    {"security.auth.roles.name", DC_CFG_STRING, NULL, ANY, NULL},
    {"security.auth.roles.can_read", DC_CFG_BOOL, NULL, ANY, NULL},
    {"security.auth.roles.can_write", DC_CFG_BOOL, NULL, ANY, NULL},
    {"security.auth.roles.is_admin", DC_CFG_BOOL, NULL, ANY, NULL},
    {"security.auth.users", S_TABLE_ARRAY, NULL, ANY, NULL},
    {"security.auth.users.username", DC_CFG_STRING, NULL, ANY, NULL},
    {"security.auth.users.password_hash", DC_CFG_STRING, NULL, ANY, NULL},
    {"security.auth.users.password_plain", DC_CFG_STRING, NULL, ANY, NULL},
    {"security.auth.users.roles", S_STRING_ARRAY, NULL, ANY, NULL},
    {"security.audit", S_TABLE, NULL, ANY, NULL},
    {"security.audit.enabled", DC_CFG_BOOL, "false", ANY, NULL},
    {"security.audit.path", DC_CFG_STRING, "\"\"", ANY, NULL},
    {"security.audit.max_statement_bytes", DC_CFG_INT, "65536", 0, INT32_MAX, NULL},
    {"modules", S_TABLE, NULL, ANY, NULL},
    {"modules.protocol", DC_CFG_STRING, "\"pgwire\"", ANY, NULL},
    {"modules.sql", DC_CFG_STRING, "\"sql\"", ANY, NULL},
    {"modules.storage", DC_CFG_STRING, "\"lsm\"", ANY, NULL},
    {"modules.auth", DC_CFG_STRING, "\"password\"", ANY, NULL},
    {"modules.encryption", DC_CFG_STRING, "\"none\"", ANY, NULL},
    {"modules.metrics", DC_CFG_STRING, "\"prometheus\"", ANY, NULL},
    {"module", S_TABLE, NULL, ANY, NULL},
};
#undef ANY
#define NSCHEMA (sizeof SCHEMA / sizeof SCHEMA[0])

typedef struct default_entry {
    char *path;
    dc_toml_doc *doc;
    const dc_toml_node *node;
} default_entry;

struct dc_config {
    char *name;
    char *dir;
    dc_toml_doc *doc;
    default_entry *defaults;
    size_t ndefaults;
    size_t capdefaults;
};

const char *dc_config_type_name(int type)
{
    switch (type) {
    case DC_CFG_STRING: return "string";
    case DC_CFG_INT: return "integer";
    case DC_CFG_FLOAT: return "float";
    case DC_CFG_BOOL: return "boolean";
    case DC_CFG_DATETIME: return "date-time";
    case DC_CFG_ARRAY: return "array";
    case DC_CFG_TABLE: return "table";
    case S_TABLE: return "table";
    case S_TABLE_ARRAY: return "array of tables";
    case S_STRING_ARRAY: return "array of strings";
    default: return "unknown";
    }
}

/* The dc_config_type of a TOML node. */
static int node_cfg_type(const dc_toml_node *n)
{
    switch (n->type) {
    case DC_TOML_STRING: return DC_CFG_STRING;
    case DC_TOML_INTEGER: return DC_CFG_INT;
    case DC_TOML_FLOAT: return DC_CFG_FLOAT;
    case DC_TOML_BOOL: return DC_CFG_BOOL;
    case DC_TOML_ARRAY: return DC_CFG_ARRAY;
    case DC_TOML_TABLE: return DC_CFG_TABLE;
    default: return DC_CFG_DATETIME;
    }
}

/* Parse a TOML default such as "4096" into a document of its own; the node
 * is the value of its only key.  Returns NULL when `text` is not a value. */
static dc_toml_doc *parse_default(const char *text, const dc_toml_node **node)
{
    char *src = dc_xasprintf("v = %s\n", text);
    dc_toml_error err;
    dc_toml_doc *doc = dc_toml_parse(src, strlen(src), &err);
    free(src);
    if (doc == NULL)
        return NULL;
    const dc_toml_node *root = dc_toml_root(doc);
    if (root->u.table.len != 1) {
        dc_toml_free(doc);
        return NULL;
    }
    *node = dc_toml_get(root, "v");
    return doc;
}

/* Register `text` as the default of `path`; replaces an earlier one.
 * Returns 0, or -1 when text is not a TOML value. */
static int add_default(dc_config *cfg, const char *path, const char *text)
{
    const dc_toml_node *node;
    dc_toml_doc *doc = parse_default(text, &node);
    if (doc == NULL)
        return -1;
    for (size_t i = 0; i < cfg->ndefaults; i++) {
        if (strcmp(cfg->defaults[i].path, path) == 0) {
            dc_toml_free(cfg->defaults[i].doc);
            cfg->defaults[i].doc = doc;
            cfg->defaults[i].node = node;
            return 0;
        }
    }
    if (cfg->ndefaults == cfg->capdefaults) {
        cfg->capdefaults = cfg->capdefaults ? cfg->capdefaults * 2 : 64;
        cfg->defaults = dc_xrealloc(cfg->defaults,
                                    cfg->capdefaults * sizeof *cfg->defaults);
    }
    default_entry *d = &cfg->defaults[cfg->ndefaults++];
    d->path = dc_xstrdup(path);
    d->doc = doc;
    d->node = node;
    return 0;
}

static const schema_entry *schema_find(const char *path)
{
    for (size_t i = 0; i < NSCHEMA; i++)
        if (strcmp(SCHEMA[i].path, path) == 0)
            return &SCHEMA[i];
    return NULL;
}

/* Check one value against its schema entry; append messages. */
static void check_value(const dc_config *cfg, const schema_entry *se,
                        const char *path, const dc_toml_node *v,
                        dc_strlist *errors);

/* Check every key of table `t`, whose schema path is `prefix` ("" for the
 * root) and whose path in messages is `shown` (with array indices). */
static void check_table(const dc_config *cfg, const dc_toml_node *t,
                        const char *prefix, const char *shown,
                        dc_strlist *errors)
{
    for (size_t i = 0; i < t->u.table.len; i++) {
        const char *key = t->u.table.keys[i];
        const dc_toml_node *v = t->u.table.values[i];
        char *path = prefix[0] ? dc_xasprintf("%s.%s", prefix, key)
                               : dc_xstrdup(key);
        char *spath = shown[0] ? dc_xasprintf("%s.%s", shown, key)
                               : dc_xstrdup(key);
        const schema_entry *se = schema_find(path);
        if (strcmp(prefix, "module") == 0) {
            /* [module.<name>]: checked against the module's declared
             * options once it is loaded. */
            if (v->type != DC_TOML_TABLE)
                dc_strlist_addf(errors,
                                "%s:%d:%d: module.%s must be a table (the "
                                "options of module '%s'), found %s",
                                cfg->name, v->line, v->col, key, key,
                                dc_toml_type_name(v->type));
        } else if (se == NULL) {
            if (prefix[0])
                dc_strlist_addf(errors, "%s:%d:%d: unknown key '%s' in [%s]",
                                cfg->name, v->line, v->col, key, shown);
            else
                dc_strlist_addf(errors, "%s:%d:%d: unknown section or key '%s'",
                                cfg->name, v->line, v->col, key);
        } else {
            check_value(cfg, se, spath, v, errors);
        }
        free(path);
        free(spath);
    }
}

static void type_error(const dc_config *cfg, const char *path, int want,
                       const dc_toml_node *v, dc_strlist *errors)
{
    const char *w = dc_config_type_name(want);
    const char *art = (w[0] == 'a' || w[0] == 'i') ? "an" : "a";
    dc_strlist_addf(errors, "%s:%d:%d: %s must be %s %s, found %s", cfg->name,
                    v->line, v->col, path, art, w, dc_toml_type_name(v->type));
}

static void check_value(const dc_config *cfg, const schema_entry *se,
                        const char *path, const dc_toml_node *v,
                        dc_strlist *errors)
{
    switch (se->type) {
    case S_TABLE:
        if (v->type != DC_TOML_TABLE) {
            type_error(cfg, path, S_TABLE, v, errors);
            return;
        }
        check_table(cfg, v, se->path, path, errors);
        return;
    case S_TABLE_ARRAY:
        if (v->type != DC_TOML_ARRAY) {
            type_error(cfg, path, S_TABLE_ARRAY, v, errors);
            return;
        }
        for (size_t i = 0; i < v->u.array.len; i++) {
            const dc_toml_node *e = v->u.array.items[i];
            if (e->type != DC_TOML_TABLE) {
                type_error(cfg, path, S_TABLE_ARRAY, e, errors);
                continue;
            }
            char *shown = dc_xasprintf("%s[%zu]", path, i);
            check_table(cfg, e, se->path, shown, errors);
            free(shown);
        }
        return;
    case S_STRING_ARRAY:
        if (v->type != DC_TOML_ARRAY) {
            type_error(cfg, path, S_STRING_ARRAY, v, errors);
            return;
        }
        for (size_t i = 0; i < v->u.array.len; i++)
            if (v->u.array.items[i]->type != DC_TOML_STRING)
                type_error(cfg, path, S_STRING_ARRAY, v->u.array.items[i],
                           errors);
        return;
    case DC_CFG_FLOAT:
        if (v->type != DC_TOML_FLOAT && v->type != DC_TOML_INTEGER)
            type_error(cfg, path, se->type, v, errors);
        return;
    default:
        break;
    }
    if (node_cfg_type(v) != se->type) {
        type_error(cfg, path, se->type, v, errors);
        return;
    }
    if (se->type == DC_CFG_INT && se->min <= se->max &&
        (v->u.integer < se->min || v->u.integer > se->max)) {
        dc_strlist_addf(errors,
                        "%s:%d:%d: %s must be between %" PRId64 " and %" PRId64
                        ", found %" PRId64,
                        cfg->name, v->line, v->col, path, se->min, se->max,
                        v->u.integer);
    }
    if (se->type == DC_CFG_STRING && se->choices) {
        bool ok = false;
        char allowed[256] = "";
        for (const char *const *c = se->choices; *c; c++) {
            if (strcmp(*c, v->u.str.ptr) == 0)
                ok = true;
            size_t l = strlen(allowed);
            snprintf(allowed + l, sizeof allowed - l, "%s\"%s\"",
                     l ? ", " : "", *c);
        }
        if (!ok)
            dc_strlist_addf(errors, "%s:%d:%d: %s must be one of %s, found \"%s\"",
                            cfg->name, v->line, v->col, path, allowed,
                            v->u.str.ptr);
    }
}

/* Make a config around `doc` (may be NULL for defaults only). */
static dc_config *config_new(dc_toml_doc *doc, const char *name, const char *dir)
{
    dc_config *cfg = dc_xcalloc(1, sizeof *cfg);
    cfg->doc = doc;
    cfg->name = dc_xstrdup(name);
    cfg->dir = dc_xstrdup(dir ? dir : ".");
    for (size_t i = 0; i < NSCHEMA; i++)
        if (SCHEMA[i].def && add_default(cfg, SCHEMA[i].path, SCHEMA[i].def) != 0) {
            fprintf(stderr, "datacave: bad built-in default for %s\n",
                    SCHEMA[i].path);
            abort();
        }
    return cfg;
}

dc_config *dc_config_parse(const char *text, size_t len, const char *name,
                           const char *dir, dc_strlist *errors)
{
    dc_toml_error terr;
    dc_toml_doc *doc = dc_toml_parse(text, len, &terr);
    if (doc == NULL) {
        dc_strlist_addf(errors, "%s:%d:%d: %s", name, terr.line, terr.col,
                        terr.message);
        return NULL;
    }
    dc_config *cfg = config_new(doc, name, dir);
    size_t before = errors->len;
    check_table(cfg, dc_toml_root(doc), "", "", errors);
    if (errors->len != before) {
        dc_config_free(cfg);
        return NULL;
    }
    return cfg;
}

dc_config *dc_config_load(const char *path, dc_strlist *errors)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        dc_strlist_addf(errors, "%s: cannot open config file: %s", path,
                        strerror(errno));
        return NULL;
    }
    size_t cap = 8192, len = 0;
    char *buf = dc_xmalloc(cap);
    size_t n;
    while ((n = fread(buf + len, 1, cap - len, f)) > 0) {
        len += n;
        if (len == cap)
            buf = dc_xrealloc(buf, cap *= 2);
    }
    bool failed = ferror(f);
    fclose(f);
    if (failed) {
        dc_strlist_addf(errors, "%s: cannot read config file", path);
        free(buf);
        return NULL;
    }
    char *dir = dc_path_dirname(path);
    dc_config *cfg = dc_config_parse(buf, len, path, dir, errors);
    free(dir);
    free(buf);
    return cfg;
}

dc_config *dc_config_empty(void)
{
    return config_new(NULL, "<defaults>", ".");
}

void dc_config_free(dc_config *cfg)
{
    if (cfg == NULL)
        return;
    for (size_t i = 0; i < cfg->ndefaults; i++) {
        free(cfg->defaults[i].path);
        dc_toml_free(cfg->defaults[i].doc);
    }
    free(cfg->defaults);
    dc_toml_free(cfg->doc);
    free(cfg->name);
    free(cfg->dir);
    free(cfg);
}

const char *dc_config_name(const dc_config *cfg) { return cfg->name; }
const char *dc_config_dir(const dc_config *cfg) { return cfg->dir; }

/* Walk `path` from the root of the file.  DC_ENOTFOUND when some part is
 * missing, DC_EINVAL for bad syntax. */
static int walk(const dc_config *cfg, const char *path, const dc_toml_node **out)
{
    if (cfg->doc == NULL)
        return DC_ENOTFOUND;
    const dc_toml_node *n = dc_toml_root(cfg->doc);
    const char *p = path;
    char key[256];
    for (;;) {
        size_t k = 0;
        while (*p && *p != '.' && *p != '[') {
            if (k + 1 >= sizeof key)
                return DC_EINVAL;
            key[k++] = *p++;
        }
        key[k] = '\0';
        if (k == 0)
            return DC_EINVAL;
        if (n->type != DC_TOML_TABLE)
            return DC_ENOTFOUND;
        n = dc_toml_get(n, key);
        if (n == NULL)
            return DC_ENOTFOUND;
        while (*p == '[') {
            char *end;
            errno = 0;
            unsigned long long idx = strtoull(p + 1, &end, 10);
            if (end == p + 1 || *end != ']' || errno)
                return DC_EINVAL;
            if (n->type != DC_TOML_ARRAY)
                return DC_ENOTFOUND;
            if (idx >= n->u.array.len)
                return DC_ENOTFOUND;
            n = n->u.array.items[idx];
            p = end + 1;
        }
        if (*p == '\0')
            break;
        if (*p != '.')
            return DC_EINVAL;
        p++;
    }
    *out = n;
    return DC_OK;
}

int dc_config_lookup(const dc_config *cfg, const char *path,
                     const dc_toml_node **out)
{
    const dc_toml_node *n;
    int rc = walk(cfg, path, &n);
    if (rc == DC_ENOTFOUND) {
        for (size_t i = 0; i < cfg->ndefaults; i++) {
            if (strcmp(cfg->defaults[i].path, path) == 0) {
                *out = cfg->defaults[i].node;
                return DC_OK;
            }
        }
    }
    if (rc == DC_OK)
        *out = n;
    return rc;
}

int dc_config_string(const dc_config *cfg, const char *path, const char **out)
{
    const dc_toml_node *n;
    int rc = dc_config_lookup(cfg, path, &n);
    if (rc != DC_OK)
        return rc;
    if (n->type != DC_TOML_STRING)
        return DC_ETYPE;
    *out = n->u.str.ptr;
    return DC_OK;
}

int dc_config_int(const dc_config *cfg, const char *path, int64_t *out)
{
    const dc_toml_node *n;
    int rc = dc_config_lookup(cfg, path, &n);
    if (rc != DC_OK)
        return rc;
    if (n->type != DC_TOML_INTEGER)
        return DC_ETYPE;
    *out = n->u.integer;
    return DC_OK;
}

int dc_config_float(const dc_config *cfg, const char *path, double *out)
{
    const dc_toml_node *n;
    int rc = dc_config_lookup(cfg, path, &n);
    if (rc != DC_OK)
        return rc;
    if (n->type == DC_TOML_INTEGER)
        *out = (double)n->u.integer;
    else if (n->type == DC_TOML_FLOAT)
        *out = n->u.flt;
    else
        return DC_ETYPE;
    return DC_OK;
}

int dc_config_bool(const dc_config *cfg, const char *path, bool *out)
{
    const dc_toml_node *n;
    int rc = dc_config_lookup(cfg, path, &n);
    if (rc != DC_OK)
        return rc;
    if (n->type != DC_TOML_BOOL)
        return DC_ETYPE;
    *out = n->u.boolean;
    return DC_OK;
}

int dc_config_count(const dc_config *cfg, const char *path, size_t *out)
{
    const dc_toml_node *n;
    int rc = dc_config_lookup(cfg, path, &n);
    if (rc != DC_OK)
        return rc;
    if (n->type == DC_TOML_ARRAY)
        *out = n->u.array.len;
    else if (n->type == DC_TOML_TABLE)
        *out = n->u.table.len;
    else
        return DC_ETYPE;
    return DC_OK;
}

int dc_config_type_of(const dc_config *cfg, const char *path, int *out)
{
    const dc_toml_node *n;
    int rc = dc_config_lookup(cfg, path, &n);
    if (rc != DC_OK)
        return rc;
    *out = node_cfg_type(n);
    return DC_OK;
}

const char *dc_config_module_for(const dc_config *cfg, uint32_t kind)
{
    const char *kname = dc_kind_name(kind);
    if (kname == NULL)
        return NULL;
    char path[64];
    snprintf(path, sizeof path, "modules.%s", kname);
    const char *v;
    if (dc_config_string(cfg, path, &v) != DC_OK || v[0] == '\0')
        return NULL;
    return v;
}

/* True when s is a TOML bare key: [A-Za-z0-9_-]+. */
static bool is_bare_key(const char *s)
{
    if (s == NULL || *s == '\0')
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
              (*s >= '0' && *s <= '9') || *s == '_' || *s == '-'))
            return false;
    return true;
}

int dc_config_check_module(dc_config *cfg, const char *module_name,
                           const dc_config_key *keys, uint32_t nkeys,
                           dc_strlist *errors)
{
    size_t before = errors->len;
    /* The module's own declarations first: names and defaults. */
    for (uint32_t i = 0; i < nkeys; i++) {
        const dc_config_key *k = &keys[i];
        if (!is_bare_key(k->name)) {
            dc_strlist_addf(errors, "module %s: option %u has an invalid name",
                            module_name, i);
            continue;
        }
        if (k->type < DC_CFG_STRING || k->type > DC_CFG_DATETIME) {
            dc_strlist_addf(errors, "module %s: option '%s' has type %u, "
                            "expected a scalar type (1-5)",
                            module_name, k->name, k->type);
            continue;
        }
        if (k->default_value) {
            const dc_toml_node *dn;
            dc_toml_doc *dd = parse_default(k->default_value, &dn);
            int dt = dd ? node_cfg_type(dn) : 0;
            bool ok = dd && (dt == (int)k->type ||
                             (k->type == DC_CFG_FLOAT && dt == DC_CFG_INT));
            dc_toml_free(dd);
            if (!ok) {
                dc_strlist_addf(errors,
                                "module %s: default of option '%s' (%s) is "
                                "not a TOML %s",
                                module_name, k->name, k->default_value,
                                dc_config_type_name((int)k->type));
                continue;
            }
            char *path = dc_xasprintf("module.%s.%s", module_name, k->name);
            add_default(cfg, path, k->default_value);
            free(path);
        }
    }
    /* Then what the file sets in [module.<name>]. */
    char *spath = dc_xasprintf("module.%s", module_name);
    const dc_toml_node *sec;
    bool have_sec = walk(cfg, spath, &sec) == DC_OK && sec->type == DC_TOML_TABLE;
    for (uint32_t i = 0; i < nkeys; i++) {
        if (!(keys[i].flags & DC_OPT_REQUIRED) || !is_bare_key(keys[i].name))
            continue;
        if (!have_sec || dc_toml_get(sec, keys[i].name) == NULL)
            dc_strlist_addf(errors, "%s: [%s] %s is required by module %s%s%s",
                            cfg->name, spath, keys[i].name, module_name,
                            keys[i].description ? " - " : "",
                            keys[i].description ? keys[i].description : "");
    }
    if (have_sec) {
        for (size_t i = 0; i < sec->u.table.len; i++) {
            const char *key = sec->u.table.keys[i];
            const dc_toml_node *v = sec->u.table.values[i];
            const dc_config_key *k = NULL;
            for (uint32_t j = 0; j < nkeys; j++)
                if (keys[j].name && strcmp(keys[j].name, key) == 0)
                    k = &keys[j];
            if (k == NULL) {
                char *list = dc_xstrdup("");
                for (uint32_t j = 0; j < nkeys; j++) {
                    char *nl = dc_xasprintf("%s%s%s", list, j ? ", " : "",
                                            keys[j].name ? keys[j].name : "?");
                    free(list);
                    list = nl;
                }
                dc_strlist_addf(errors, "%s:%d:%d: unknown key '%s' in [%s] "
                                "(module %s has %s%s)",
                                cfg->name, v->line, v->col, key, spath,
                                module_name, nkeys ? "options: " : "no options",
                                list);
                free(list);
                continue;
            }
            int vt = node_cfg_type(v);
            bool ok = vt == (int)k->type ||
                      (k->type == DC_CFG_FLOAT && vt == DC_CFG_INT);
            if (!ok) {
                char *path = dc_xasprintf("%s.%s", spath, key);
                type_error(cfg, path, (int)k->type, v, errors);
                free(path);
            }
        }
    }
    free(spath);
    return errors->len == before ? 0 : -1;
}

int dc_config_check_orphan_sections(const dc_config *cfg,
                                    const char *const *loaded, size_t n,
                                    dc_strlist *errors)
{
    const dc_toml_node *sec;
    if (walk(cfg, "module", &sec) != DC_OK || sec->type != DC_TOML_TABLE)
        return 0;
    int bad = 0;
    for (size_t i = 0; i < sec->u.table.len; i++) {
        bool found = false;
        for (size_t j = 0; j < n; j++)
            if (strcmp(sec->u.table.keys[i], loaded[j]) == 0)
                found = true;
        if (!found) {
            const dc_toml_node *v = sec->u.table.values[i];
            dc_strlist_addf(errors, "%s:%d:%d: [module.%s] configures a module "
                            "that is not loaded",
                            cfg->name, v->line, v->col, sec->u.table.keys[i]);
            bad = -1;
        }
    }
    return bad;
}
