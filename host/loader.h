/*
 * loader.h - finds, checks, orders, initialises and shuts down modules.
 *
 * A dc_runtime holds the modules of one process run: at most one per kind.
 * Loading a module checks everything the ABI promises (docs/abi.md) before
 * any module code with side effects runs; a refusal is one line naming the
 * file, the field and both values.  Modules are never dlclose()d.
 *
 * Threads: the runtime is driven from the main thread only; the dc_host
 * services it hands to modules are thread-safe (see datacave/host.h).
 */
#ifndef DATACAVE_HOST_LOADER_H
#define DATACAVE_HOST_LOADER_H

#include <stdatomic.h>

#include "config.h"
#include "datacave/module.h"
#include "util.h"

typedef struct dc_runtime dc_runtime;

/* One opened and checked module. */
typedef struct dc_module {
    char *path;                 /* file it was loaded from                */
    char *entry;                /* its entry symbol                       */
    void *handle;               /* dlopen handle (never closed)           */
    const dc_module_desc *desc; /* the module's own descriptor            */
    struct dc_host *host;       /* the per-module service handle          */
    void *instance;             /* what init() produced                   */
    bool initialized;
} dc_module;

/* Open `path` and check it as a module: the file, the ELF image, exactly
 * one entry symbol, and every descriptor field that does not depend on
 * other modules.  When `expect_kind` is not DC_KIND_NONE the kind must
 * match.  Returns a new dc_module (free with dc_module_free), or NULL with
 * the reason in err ("module FILE: FIELD VALUE, host expects VALUE"). */
dc_module *dc_module_open(const char *path, uint32_t expect_kind, char *err,
                          size_t errlen);
/* Free the bookkeeping of a module that was not initialised. */
void dc_module_free(dc_module *m);

/* The module directory: [server] module_dir (relative to the config file)
 * or the "modules" directory beside the executable's "bin" directory.
 * Caller frees. */
char *dc_module_dir(const dc_config *cfg);
/* The file for a [modules] value: a value with '/' is a path relative to
 * the config file's directory; otherwise <module_dir>/<value>.so.  Caller
 * frees. */
char *dc_module_path(const dc_config *cfg, const char *value);

/* A runtime over `cfg` (borrowed: it must outlive the runtime). */
dc_runtime *dc_runtime_new(dc_config *cfg);

/* Load the configured module of each kind whose bit (1u << kind) is in
 * kind_mask, then the configured modules of every kind they depend on.
 * Appends one message per refusal.  Returns 0 when all loaded. */
int dc_runtime_load(dc_runtime *rt, uint32_t kind_mask, dc_strlist *errors);

/* Load the module in `path` into the slot of `kind` (tests, tools). */
int dc_runtime_load_file(dc_runtime *rt, uint32_t kind, const char *path,
                         dc_strlist *errors);

/* Check what needs every module: names unique, required dependencies
 * present, no dependency cycle; each module's [module.<name>] section
 * against its declared options (and, when strict_sections, no section for
 * a module that is not loaded).  Fixes the init order.  Returns 0 when all
 * is well. */
int dc_runtime_resolve(dc_runtime *rt, bool strict_sections,
                       dc_strlist *errors);

/* Initialise every module in dependency order.  On a failure, the modules
 * already initialised are shut down in reverse order, and the error names
 * the module.  Returns 0 or the failing init's status. */
int dc_runtime_init(dc_runtime *rt, dc_error *err);

/* Shut down every initialised module in reverse order, joining each
 * module's remaining threads after its shutdown() returns. */
void dc_runtime_shutdown(dc_runtime *rt);

/* Free the runtime (modules stay mapped).  Shut down first. */
void dc_runtime_free(dc_runtime *rt);

/* The loaded module of `kind`, or NULL. */
dc_module *dc_runtime_module(dc_runtime *rt, uint32_t kind);
/* Modules in init order (valid after resolve); *n gets the count. */
dc_module *const *dc_runtime_order(dc_runtime *rt, size_t *n);

/* Server state (dc_server_state), as the host services report it. */
void dc_runtime_set_state(dc_runtime *rt, int state);
int dc_runtime_state(dc_runtime *rt);

/* The host services table handed to modules. */
const dc_host_api *dc_host_api_table(void);

#endif
