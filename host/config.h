/*
 * config.h - the Datacave configuration: a TOML file checked against the
 * host's schema (the [server], [storage], [security...], [modules] ...
 * sections) and against the options each module declares for its own
 * [module.<name>] section.
 *
 * Lookups take dotted paths with optional [index]:
 *   "server.listen_addr", "security.auth.users[1].roles[0]".
 * A key that is not in the file but has a default (in the host's schema or
 * declared by a module) resolves to the default.
 *
 * Threads: once loaded and validated, a config is read-only and may be read
 * from any thread.
 */
#ifndef DATACAVE_HOST_CONFIG_H
#define DATACAVE_HOST_CONFIG_H

#include "datacave/module.h"
#include "toml.h"
#include "util.h"

typedef struct dc_config dc_config;

/* Parse and validate `path`.  Returns NULL and appends one message per
 * problem ("FILE:LINE:COL: ...") to *errors when the file cannot be read,
 * is not valid TOML or breaks the schema. */
dc_config *dc_config_load(const char *path, dc_strlist *errors);
/* The same for text in memory; `name` is used in messages and `dir`
 * resolves relative paths (NULL: the current directory). */
dc_config *dc_config_parse(const char *text, size_t len, const char *name,
                           const char *dir, dc_strlist *errors);
/* A config with every default and nothing set (no file). */
dc_config *dc_config_empty(void);
void dc_config_free(dc_config *cfg);

/* The file name given at load ("<defaults>" for an empty config). */
const char *dc_config_name(const dc_config *cfg);
/* The directory relative paths in the config are relative to. */
const char *dc_config_dir(const dc_config *cfg);

/* Find the value at path, falling back to declared defaults.  Returns
 * DC_OK and sets *out, or DC_ENOTFOUND / DC_EINVAL (bad path syntax). */
int dc_config_lookup(const dc_config *cfg, const char *path,
                     const dc_toml_node **out);

/* Typed lookups: DC_OK, DC_ENOTFOUND, DC_ETYPE or DC_EINVAL.  Strings are
 * valid until dc_config_free.  A float lookup accepts an integer. */
int dc_config_string(const dc_config *cfg, const char *path, const char **out);
int dc_config_int(const dc_config *cfg, const char *path, int64_t *out);
int dc_config_float(const dc_config *cfg, const char *path, double *out);
int dc_config_bool(const dc_config *cfg, const char *path, bool *out);
int dc_config_count(const dc_config *cfg, const char *path, size_t *out);
int dc_config_type_of(const dc_config *cfg, const char *path, int *out);

/* The module named for `kind` in [modules] (its default when not set), or
 * NULL when the kind is switched off with "". */
const char *dc_config_module_for(const dc_config *cfg, uint32_t kind);

/* Check the section [module.<name>] against the options a module declares
 * and register their defaults.  Appends a message per problem.  Returns 0
 * when the section is valid. */
int dc_config_check_module(dc_config *cfg, const char *module_name,
                           const dc_config_key *keys, uint32_t nkeys,
                           dc_strlist *errors);

/* Append a message for every [module.<name>] section whose module is not
 * loaded: `loaded` holds the names of the loaded modules. */
int dc_config_check_orphan_sections(const dc_config *cfg,
                                    const char *const *loaded, size_t n,
                                    dc_strlist *errors);

/* The name of a dc_config_type ("string", "integer", ...). */
const char *dc_config_type_name(int type);

#endif
