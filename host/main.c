/*
 * main.c - the `datacave` command line.
 *
 *   datacave serve --config FILE
 *   datacave check-config --config FILE
 *   datacave modules list [--config FILE] [--json]
 *   datacave modules inspect FILE... [--json]
 *   datacave gen-password-hash --password P [--config FILE]
 *   datacave sql --config FILE [-c SQL]... [-f FILE]... [--data-dir DIR]
 *   datacave backup --config FILE --to DIR
 *   datacave --version | --help
 *
 * Exit status: 0 success, 1 failure (with messages on stderr), 2 usage.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit.h"
#include "config.h"
#include "control.h"
#include "datacave/auth.h"
#include "datacave/protocol.h"
#include "loader.h"
#include "log.h"
#include "shell.h"
#include "version.h"

#define EXIT_USAGE 2

static const char USAGE[] =
    "usage: datacave <command> [options]\n"
    "\n"
    "commands:\n"
    "  serve --config FILE            load the modules and serve until SIGINT/SIGTERM\n"
    "  check-config --config FILE     check the config and every module it names\n"
    "  modules list [--json]          list the modules in the module directory\n"
    "  modules inspect FILE... [--json]  describe module files, or why they are refused\n"
    "  gen-password-hash --password P print the stored form of a password\n"
    "  sql --config FILE [-c SQL] [-f FILE]  run SQL in-process on the data\n"
    "                                 directory, like psql (server stopped)\n"
    "  backup --config FILE --to DIR  write a consistent copy of the data\n"
    "                                 directory to DIR (server running or not)\n"
    "  --version                      print the version\n"
    "  --help                         print this help\n"
    "\n"
    "`datacave COMMAND --help` describes one command.\n";

static const char HELP_SERVE[] =
    "usage: datacave serve --config FILE\n"
    "\n"
    "Reads FILE, loads and checks the module named for each kind in [modules],\n"
    "initialises them in dependency order and serves until SIGINT or SIGTERM,\n"
    "then shuts them down in reverse order.  A refused module or a bad config\n"
    "stops the server before it listens, with exit status 1.\n";

static const char HELP_CHECK[] =
    "usage: datacave check-config --config FILE\n"
    "\n"
    "Parses and validates FILE, loads and checks every module it names (without\n"
    "initialising any, so nothing listens and no data is touched).  Prints every\n"
    "problem found; exit status 0 when the config is good, 1 otherwise.\n";

static const char HELP_MODULES[] =
    "usage: datacave modules list [--config FILE] [--json]\n"
    "       datacave modules inspect FILE... [--json]\n"
    "\n"
    "list: every *.so in the module directory ([server] module_dir of FILE, or\n"
    "      the modules/ directory beside the binary's bin/), with name, kind and\n"
    "      versions, or why the host would refuse it.\n"
    "inspect: the same for the named files, with dependencies and options.\n"
    "Exit status 1 when any file would be refused.\n";

static const char HELP_GENPW[] =
    "usage: datacave gen-password-hash --password P [--config FILE]\n"
    "\n"
    "Prints the stored form of password P for [[security.auth.users]]\n"
    "password_hash, computed by the auth module ([modules] auth of FILE, by\n"
    "default the 'password' module).\n";

/* Options shared by the subcommands. */
typedef struct cli {
    const char *config;
    const char *password;
    bool json;
    bool help;
    char **files;
    int nfiles;
} cli;

/* Parse argv[from..] into *c.  Returns 0, or EXIT_USAGE after printing why. */
static int parse_opts(int argc, char **argv, int from, cli *c, bool want_files)
{
    memset(c, 0, sizeof *c);
    c->files = calloc((size_t)argc + 1, sizeof *c->files);
    if (c->files == NULL)
        return 1;
    for (int i = from; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            c->help = true;
        } else if (strcmp(a, "--json") == 0) {
            c->json = true;
        } else if (strcmp(a, "--config") == 0 || strcmp(a, "-c") == 0) {
            if (++i >= argc) {
                fprintf(stderr, "datacave: %s needs a file name\n", a);
                return EXIT_USAGE;
            }
            c->config = argv[i];
        } else if (strncmp(a, "--config=", 9) == 0) {
            c->config = a + 9;
        } else if (strcmp(a, "--password") == 0) {
            if (++i >= argc) {
                fprintf(stderr, "datacave: --password needs a value\n");
                return EXIT_USAGE;
            }
            c->password = argv[i];
        } else if (strncmp(a, "--password=", 11) == 0) {
            c->password = a + 11;
        } else if (a[0] == '-' && a[1] != '\0') {
            fprintf(stderr, "datacave: unknown option %s\n", a);
            return EXIT_USAGE;
        } else if (want_files) {
            c->files[c->nfiles++] = argv[i];
        } else {
            fprintf(stderr, "datacave: unexpected argument %s\n", a);
            return EXIT_USAGE;
        }
    }
    return 0;
}

static void print_errors(const dc_strlist *errors)
{
    for (size_t i = 0; i < errors->len; i++)
        fprintf(stderr, "datacave: %s\n", errors->items[i]);
}

/* Load and validate the config named on the command line; apply its log
 * settings.  Prints the problems and returns NULL on failure. */
static dc_config *load_config(const cli *c)
{
    if (c->config == NULL) {
        fprintf(stderr, "datacave: --config FILE is required\n");
        return NULL;
    }
    dc_strlist errors = {0};
    dc_config *cfg = dc_config_load(c->config, &errors);
    if (cfg == NULL) {
        print_errors(&errors);
        dc_strlist_free(&errors);
        return NULL;
    }
    const char *s;
    if (dc_config_string(cfg, "log.level", &s) == DC_OK)
        dc_log_set_level(dc_log_level_parse(s));
    if (dc_config_string(cfg, "log.format", &s) == DC_OK)
        dc_log_set_format((dc_log_format)dc_log_format_parse(s));
    return cfg;
}

/* Load every configured module and resolve.  Prints problems; NULL on
 * failure. */
static dc_runtime *load_runtime(dc_config *cfg, uint32_t mask, bool strict)
{
    dc_runtime *rt = dc_runtime_new(cfg);
    dc_strlist errors = {0};
    if (dc_runtime_load(rt, mask, &errors) == 0)
        dc_runtime_resolve(rt, strict, &errors);
    if (errors.len) {
        print_errors(&errors);
        dc_strlist_free(&errors);
        dc_runtime_free(rt);
        return NULL;
    }
    return rt;
}

#define ALL_KINDS 0x7eu /* bits 1..6 */

/* The allocator of a server with a thread per connection.  glibc gives
 * threads their own malloc arenas (up to 8 per core) and raises its mmap
 * threshold after a large block is freed, so memory a connection freed
 * stays in its arena, and a long run under many connections holds ever
 * more free memory (RSS growing while the live heap stays flat).  A fixed
 * 128 KiB threshold (large buffers go back to the kernel when freed) and
 * four arenas keep what the process holds close to what it uses.  The
 * MALLOC_ARENA_MAX and MALLOC_MMAP_THRESHOLD_ environment variables, when
 * set, win. */
static void tune_allocator(void)
{
#ifdef __GLIBC__
    if (getenv("MALLOC_MMAP_THRESHOLD_") == NULL)
        (void)mallopt(M_MMAP_THRESHOLD, 128 * 1024);
    if (getenv("MALLOC_ARENA_MAX") == NULL)
        (void)mallopt(M_ARENA_MAX, 4);
#endif
}

static int cmd_serve(const cli *c)
{
    tune_allocator();
    dc_config *cfg = load_config(c);
    if (cfg == NULL)
        return 1;
    dc_runtime *rt = load_runtime(cfg, ALL_KINDS, true);
    if (rt == NULL) {
        dc_config_free(cfg);
        return 1;
    }
    /* Signals: the main thread waits for them; every other thread (module
     * threads start after this) has them blocked. */
    signal(SIGPIPE, SIG_IGN);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGQUIT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);

    dc_log_info("datacave %s starting (pid %d, config %s)", DATACAVE_VERSION,
                (int)getpid(), dc_config_name(cfg));
    /* The audit log is open before any module runs: modules ask whether
     * it is on when they start. */
    char aerr[512];
    if (dc_audit_open(cfg, aerr, sizeof aerr) != 0) {
        dc_log_error("%s", aerr);
        dc_runtime_free(rt);
        dc_config_free(cfg);
        return 1;
    }
    if (dc_audit_path())
        dc_log_info("audit log: %s", dc_audit_path());
    dc_error err;
    dc_error_init(&err);
    if (dc_runtime_init(rt, &err) != DC_OK) {
        dc_log_error("%s", err.message);
        if (err.detail[0])
            dc_log_error("detail: %s", err.detail);
        if (err.hint[0])
            dc_log_error("hint: %s", err.hint);
        dc_audit_close();
        dc_runtime_free(rt);
        dc_config_free(cfg);
        return 1;
    }
    /* `datacave backup` asks through it (control.h). */
    dc_control *ctl = dc_control_start(rt, cfg);
    dc_module *proto = dc_runtime_module(rt, DC_KIND_PROTOCOL);
    if (proto) {
        const dc_protocol_vtable *pv = proto->desc->vtable;
        if (pv->start(proto->instance, &err) != DC_OK) {
            dc_log_error("module %s: start failed: %s", proto->desc->name,
                         err.message);
            dc_control_stop(ctl);
            dc_runtime_shutdown(rt);
            dc_audit_close();
            dc_runtime_free(rt);
            dc_config_free(cfg);
            return 1;
        }
    } else {
        dc_log_warn("no protocol module configured: no client can connect");
    }
    dc_runtime_set_state(rt, DC_STATE_READY);
    dc_log_info("datacave ready");

    int sig = 0;
    for (;;) {
        if (sigwait(&set, &sig) != 0)
            continue;
        if (sig == SIGHUP) {
            dc_log_info("SIGHUP received");
            /* A normal thread here (sigwait), not a signal handler. */
            dc_audit_reopen();
            continue;
        }
        break;
    }
    dc_log_info("%s received, shutting down", strsignal(sig));
    dc_runtime_set_state(rt, DC_STATE_STOPPING);
    dc_control_stop(ctl);
    if (proto) {
        const dc_protocol_vtable *pv = proto->desc->vtable;
        pv->stop(proto->instance);
    }
    dc_runtime_shutdown(rt);
    dc_audit_close();
    dc_log_info("datacave stopped");
    dc_runtime_free(rt);
    dc_config_free(cfg);
    return 0;
}

static int cmd_check_config(const cli *c)
{
    dc_config *cfg = load_config(c);
    if (cfg == NULL)
        return 1;
    dc_runtime *rt = load_runtime(cfg, ALL_KINDS, true);
    if (rt == NULL) {
        dc_config_free(cfg);
        return 1;
    }
    size_t n;
    dc_module *const *order = dc_runtime_order(rt, &n);
    printf("%s: configuration OK, %zu module%s\n", dc_config_name(cfg), n,
           n == 1 ? "" : "s");
    for (size_t i = 0; i < n; i++)
        printf("  %-10s %-16s %s  %s\n", dc_kind_name(order[i]->desc->kind),
               order[i]->desc->name, order[i]->desc->version, order[i]->path);
    dc_runtime_free(rt);
    dc_config_free(cfg);
    return 0;
}

/* Describe a module (or a refusal) as JSON. */
static json_t *module_json(const char *file, const dc_module *m, const char *err)
{
    json_t *o = json_object();
    json_object_set_new(o, "file", json_string(file));
    if (m == NULL) {
        json_object_set_new(o, "ok", json_false());
        json_object_set_new(o, "error", json_string(err));
        return o;
    }
    const dc_module_desc *d = m->desc;
    char buf[32];
    json_object_set_new(o, "ok", json_true());
    json_object_set_new(o, "name", json_string(d->name));
    json_object_set_new(o, "kind", json_string(dc_kind_name(d->kind)));
    json_object_set_new(o, "version", json_string(d->version));
    if (d->description)
        json_object_set_new(o, "description", json_string(d->description));
    snprintf(buf, sizeof buf, "%u.%u", d->abi_major, d->abi_minor);
    json_object_set_new(o, "abi", json_string(buf));
    snprintf(buf, sizeof buf, "%u.%u", d->kind_major, d->kind_minor);
    json_object_set_new(o, "kind_version", json_string(buf));
    json_object_set_new(o, "entry", json_string(m->entry));
    json_t *deps = json_array();
    for (uint32_t i = 0; i < d->ndeps; i++)
        json_array_append_new(deps, json_pack("{s:s, s:b}", "kind",
                                              dc_kind_name(d->deps[i].kind),
                                              "required",
                                              (d->deps[i].flags & DC_DEP_REQUIRED) != 0));
    json_object_set_new(o, "dependencies", deps);
    json_t *opts = json_array();
    for (uint32_t i = 0; i < d->nconfig_keys; i++) {
        const dc_config_key *k = &d->config_keys[i];
        json_t *ko = json_pack("{s:s, s:s}", "name", k->name ? k->name : "",
                               "type", dc_config_type_name((int)k->type));
        if (k->default_value && !(k->flags & DC_OPT_SECRET))
            json_object_set_new(ko, "default", json_string(k->default_value));
        json_object_set_new(ko, "required", json_boolean(k->flags & DC_OPT_REQUIRED));
        json_object_set_new(ko, "secret", json_boolean(k->flags & DC_OPT_SECRET));
        if (k->description)
            json_object_set_new(ko, "description", json_string(k->description));
        json_array_append_new(opts, ko);
    }
    json_object_set_new(o, "options", opts);
    return o;
}

static void module_text(const char *file, const dc_module *m, const char *err,
                        bool verbose)
{
    if (m == NULL) {
        printf("%s: refused: %s\n", file, err);
        return;
    }
    const dc_module_desc *d = m->desc;
    printf("%s: %s %s (%s module, ABI %u.%u, %s vtable %u.%u)\n", file, d->name,
           d->version, dc_kind_name(d->kind), d->abi_major, d->abi_minor,
           dc_kind_name(d->kind), d->kind_major, d->kind_minor);
    if (!verbose)
        return;
    if (d->description)
        printf("  description: %s\n", d->description);
    printf("  entry: %s\n", m->entry);
    printf("  depends on:");
    if (d->ndeps == 0)
        printf(" nothing");
    for (uint32_t i = 0; i < d->ndeps; i++)
        printf(" %s (%s)", dc_kind_name(d->deps[i].kind),
               d->deps[i].flags & DC_DEP_REQUIRED ? "required" : "optional");
    printf("\n");
    for (uint32_t i = 0; i < d->nconfig_keys; i++) {
        const dc_config_key *k = &d->config_keys[i];
        const char *def = (k->flags & DC_OPT_REQUIRED) ? "required"
                          : (k->flags & DC_OPT_SECRET) ? "hidden"
                          : k->default_value ? k->default_value : "none";
        printf("  option [module.%s] %s: %s, %s%s%s%s\n", d->name,
               k->name ? k->name : "?", dc_config_type_name((int)k->type),
               (k->flags & DC_OPT_REQUIRED) ? "" : "default ", def,
               k->description ? " - " : "", k->description ? k->description : "");
    }
}

/* Inspect each file; print text or one JSON array.  1 if any is refused. */
static int inspect_files(char **files, int n, bool json, bool verbose)
{
    int rc = 0;
    json_t *arr = json ? json_array() : NULL;
    for (int i = 0; i < n; i++) {
        char err[1024] = "";
        dc_module *m = dc_module_open(files[i], DC_KIND_NONE, err, sizeof err);
        if (m == NULL)
            rc = 1;
        if (json)
            json_array_append_new(arr, module_json(files[i], m, err));
        else
            module_text(files[i], m, err, verbose);
        dc_module_free(m);
    }
    if (json) {
        char *s = json_dumps(arr, JSON_INDENT(2));
        if (s)
            printf("%s\n", s);
        free(s);
        json_decref(arr);
    }
    return rc;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int cmd_modules(int argc, char **argv)
{
    if (argc < 3 || strcmp(argv[2], "--help") == 0 || strcmp(argv[2], "-h") == 0) {
        fputs(HELP_MODULES, argc < 3 ? stderr : stdout);
        return argc < 3 ? EXIT_USAGE : 0;
    }
    cli c;
    bool inspect = strcmp(argv[2], "inspect") == 0;
    if (!inspect && strcmp(argv[2], "list") != 0) {
        fprintf(stderr, "datacave: unknown modules command %s\n", argv[2]);
        fputs(HELP_MODULES, stderr);
        return EXIT_USAGE;
    }
    int rc = parse_opts(argc, argv, 3, &c, inspect);
    if (rc || c.help) {
        if (c.help)
            fputs(HELP_MODULES, stdout);
        free(c.files);
        return c.help ? 0 : rc;
    }
    if (inspect) {
        if (c.nfiles == 0) {
            fprintf(stderr, "datacave: modules inspect needs at least one file\n");
            free(c.files);
            return EXIT_USAGE;
        }
        rc = inspect_files(c.files, c.nfiles, c.json, true);
        free(c.files);
        return rc;
    }
    dc_config *cfg = c.config ? load_config(&c) : dc_config_empty();
    if (cfg == NULL) {
        free(c.files);
        return 1;
    }
    char *dir = dc_module_dir(cfg);
    DIR *d = opendir(dir);
    if (d == NULL) {
        fprintf(stderr, "datacave: cannot open module directory %s: %s\n", dir,
                strerror(errno));
        free(dir);
        dc_config_free(cfg);
        free(c.files);
        return 1;
    }
    dc_strlist paths = {0};
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        size_t l = strlen(de->d_name);
        if (l > 3 && strcmp(de->d_name + l - 3, ".so") == 0)
            dc_strlist_addf(&paths, "%s/%s", dir, de->d_name);
    }
    closedir(d);
    qsort(paths.items, paths.len, sizeof *paths.items, cmp_str);
    if (!c.json && paths.len == 0)
        printf("no modules in %s\n", dir);
    rc = inspect_files(paths.items, (int)paths.len, c.json, false);
    dc_strlist_free(&paths);
    free(dir);
    dc_config_free(cfg);
    free(c.files);
    return rc;
}

static int cmd_gen_password_hash(const cli *c)
{
    if (c->password == NULL) {
        fprintf(stderr, "datacave: --password P is required\n");
        return EXIT_USAGE;
    }
    dc_config *cfg = c->config ? load_config(c) : dc_config_empty();
    if (cfg == NULL)
        return 1;
    dc_runtime *rt = load_runtime(cfg, 1u << DC_KIND_AUTH, false);
    if (rt == NULL) {
        dc_config_free(cfg);
        return 1;
    }
    dc_module *auth = dc_runtime_module(rt, DC_KIND_AUTH);
    int rc = 1;
    if (auth == NULL) {
        fprintf(stderr, "datacave: no auth module configured ([modules] auth)\n");
        goto out;
    }
    const dc_auth_vtable *av = auth->desc->vtable;
    if (!DC_HAS_FIELD(av, dc_auth_vtable, hash_password) || av->hash_password == NULL) {
        fprintf(stderr, "datacave: auth module %s cannot hash passwords\n",
                auth->desc->name);
        goto out;
    }
    dc_error err;
    dc_error_init(&err);
    if (dc_runtime_init(rt, &err) != DC_OK) {
        fprintf(stderr, "datacave: %s\n", err.message);
        goto out;
    }
    char out[1024];
    if (av->hash_password(auth->instance, c->password, out, sizeof out, &err) == DC_OK) {
        printf("%s\n", out);
        rc = 0;
    } else {
        fprintf(stderr, "datacave: %s\n", err.message);
    }
    dc_runtime_shutdown(rt);
out:
    dc_runtime_free(rt);
    dc_config_free(cfg);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fputs(USAGE, stderr);
        return EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 ||
        strcmp(cmd, "help") == 0) {
        fputs(USAGE, stdout);
        return 0;
    }
    if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "version") == 0) {
        printf("datacave %s (module ABI %d.%d)\n", DATACAVE_VERSION, DC_ABI_MAJOR,
               DC_ABI_MINOR);
        return 0;
    }
    if (strcmp(cmd, "modules") == 0)
        return cmd_modules(argc, argv);
    if (strcmp(cmd, "sql") == 0)
        return dc_shell_main(argc, argv, 2);
    if (strcmp(cmd, "backup") == 0)
        return dc_backup_main(argc, argv, 2);

    const char *help = NULL;
    int (*fn)(const cli *) = NULL;
    if (strcmp(cmd, "serve") == 0) {
        help = HELP_SERVE;
        fn = cmd_serve;
    } else if (strcmp(cmd, "check-config") == 0) {
        help = HELP_CHECK;
        fn = cmd_check_config;
    } else if (strcmp(cmd, "gen-password-hash") == 0) {
        help = HELP_GENPW;
        fn = cmd_gen_password_hash;
    } else {
        fprintf(stderr, "datacave: unknown command %s\n", cmd);
        fputs(USAGE, stderr);
        return EXIT_USAGE;
    }
    cli c;
    int rc = parse_opts(argc, argv, 2, &c, false);
    if (rc == 0 && c.help) {
        fputs(help, stdout);
    } else if (rc == 0) {
        rc = fn(&c);
    }
    free(c.files);
    return rc;
}
