/*
 * datacave/module.h - the module descriptor and the entry symbol.
 *
 * A module is a shared object that exports exactly one symbol, a function
 * whose name starts with "datacave_module_" (by convention
 * datacave_module_<name>_v<ABI major>) and that returns a pointer to a
 * constant dc_module_desc.  Calling it must have no side effects: the host
 * calls it to check the module before deciding to load it.  A module must
 * have no constructors (__attribute__((constructor)) or C++ static
 * initialisers with effects): the host may open a file only to inspect it.
 *
 * The lifecycle, all on the host's main thread:
 *   1. the host reads the descriptor and checks it (docs/abi.md lists the
 *      checks); nothing of the module has run but the entry function;
 *   2. init(host, api, &instance, err) in dependency order: a module's
 *      dependencies are initialised before it;
 *   3. the module serves (its kind's vtable, from any thread the kind's
 *      header allows);
 *   4. shutdown(instance) in reverse order; afterwards the host joins the
 *      module's remaining threads.  Modules are never unloaded.
 */
#ifndef DATACAVE_MODULE_H
#define DATACAVE_MODULE_H

#include "abi.h"
#include "error.h"
#include "host.h"

#define DC_MODULE_ENTRY_PREFIX "datacave_module_"

/* A dependency on another kind of module. */
typedef struct dc_dependency {
    uint32_t kind;      /* dc_kind                                     */
    uint32_t flags;     /* DC_DEP_* bits                               */
} dc_dependency;

#define DC_DEP_REQUIRED 1u  /* refuse to load without it; without this bit
                               the dependency is optional: it is
                               initialised first when present */

/* An option the module reads from its section [module.<name>].  The host
 * refuses a config that sets an undeclared key in that section, gives a
 * declared key a value of another type or leaves out a required one, and
 * `modules inspect` lists them.  The array has no size field: entries keep
 * this layout for the life of an ABI major. */
typedef struct dc_config_key {
    const char *name;          /* key inside the section              */
    uint32_t type;             /* dc_config_type (scalar types only)  */
    const char *default_value; /* TOML text of the default ("4096",
                                  "\"fast\"", "true"), NULL for none  */
    const char *description;   /* one line                            */
    uint32_t flags;            /* DC_OPT_* bits                       */
} dc_config_key;

#define DC_OPT_REQUIRED 1u  /* the config must set it: checked before init
                               (by check-config too)                  */
#define DC_OPT_SECRET 2u    /* never shown in logs or inspect output  */

typedef struct dc_module_desc {
    uint32_t size;            /* sizeof(dc_module_desc) as built         */
    uint32_t magic;           /* DC_MODULE_MAGIC                         */
    uint16_t abi_major;       /* DC_ABI_MAJOR as built                   */
    uint16_t abi_minor;       /* DC_ABI_MINOR as built                   */
    uint32_t kind;            /* dc_kind                                 */
    uint16_t kind_major;      /* the kind vtable's major as built        */
    uint16_t kind_minor;      /* the kind vtable's minor as built        */
    uint32_t platform;        /* DC_PLATFORM_SIGNATURE as built          */
    const char *name;         /* unique, [a-z0-9][a-z0-9_-]*, <= 63 bytes */
    const char *version;      /* the module's own release, e.g. "1.2.0"  */
    const char *description;  /* one line, may be NULL                   */
    const dc_dependency *deps;/* ndeps entries                           */
    uint32_t ndeps;
    const dc_config_key *config_keys; /* nconfig_keys entries            */
    uint32_t nconfig_keys;
    /* Required.  Create the module's instance.  `host` and `api` stay valid
     * until shutdown() returns.  On failure return a negative dc_status
     * and fill *err; the host then stops (shutting down the modules
     * already initialised) and shutdown() is NOT called for this one. */
    int (*init)(dc_host *host, const dc_host_api *api, void **instance,
                dc_error *err);
    /* Required.  Release everything init() made and make every thread the
     * module started end.  Never fails. */
    void (*shutdown)(void *instance);
    /* Required.  The kind's vtable (datacave/<kind>.h), which starts with
     * its own size. */
    const void *vtable;
} dc_module_desc;

/* The size of the smallest descriptor this host accepts. */
#define DC_MODULE_DESC_MIN_SIZE                                                \
    (offsetof(dc_module_desc, vtable) + sizeof(const void *))

typedef const dc_module_desc *(*dc_module_entry_fn)(void);

/* Fills the fixed header fields of a descriptor:
 *   static const dc_module_desc desc = {
 *       DC_MODULE_HEADER(DC_KIND_STORAGE, DC_STORAGE_VTABLE_MAJOR,
 *                        DC_STORAGE_VTABLE_MINOR),
 *       .name = "lsm", ... };
 */
#define DC_MODULE_HEADER(KIND, KMAJOR, KMINOR)                                 \
    .size = (uint32_t)sizeof(dc_module_desc), .magic = DC_MODULE_MAGIC,        \
    .abi_major = DC_ABI_MAJOR, .abi_minor = DC_ABI_MINOR, .kind = (KIND),     \
    .kind_major = (KMAJOR), .kind_minor = (KMINOR),                            \
    .platform = DC_PLATFORM_SIGNATURE

/* Name of a kind as used in the config and in messages: "protocol", "sql",
 * "storage", "auth", "encryption", "metrics"; NULL for an unknown kind. */
static inline const char *dc_kind_name(uint32_t kind)
{
    static const char *const names[DC_KIND__COUNT] = {
        NULL, "protocol", "sql", "storage", "auth", "encryption", "metrics"};
    return kind < DC_KIND__COUNT ? names[kind] : NULL;
}

#endif
