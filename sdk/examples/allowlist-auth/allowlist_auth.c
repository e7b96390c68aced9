/*
 * allowlist_auth.c - an example Datacave module of kind auth.
 *
 * It knows one user, declared in its config section:
 *
 *     [module.allowlist-auth]
 *     user = "demo"           # default "demo"
 *     password = "s3cret"     # required
 *     read_only = false       # default false
 *
 * and authenticates clients with a cleartext password, as PostgreSQL's
 * "password" method does: step() asks for the password (request
 * DC_AUTH_CLEARTEXT), then compares the client's answer with the configured
 * password in constant time.  A wrong password and an unknown user fail with
 * the same 28P01 error.  Each finished attempt is counted in the metric
 * datacave_example_auth_attempts_total{result="ok"|"fail"}.
 *
 * State: one instance (made by init(), read-only afterwards) and one
 * conversation per authentication.  There is no global mutable state, so any
 * number of conversations may run at once on different threads.
 *
 * This file is meant to be read.  Cleartext passwords are only acceptable
 * over TLS or on a trusted network; a real module would store a hash.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <datacave/auth.h>
#include <datacave/module.h>

#define AA_NAME "allowlist-auth"
#define AA_METRIC "datacave_example_auth_attempts_total"

/* The module's instance: what init() read from the config, and the metric
 * series it updates.  Immutable after init(); freed by shutdown(). */
typedef struct aa_instance {
    dc_host *host;              /* valid until shutdown() returns        */
    const dc_host_api *api;     /* idem                                  */
    const char *user;           /* borrowed from the config, idem        */
    const char *password;       /* idem; never empty                     */
    size_t password_len;
    bool read_only;
    dc_series *attempts_ok;     /* NULL when out of memory: updates on a */
    dc_series *attempts_fail;   /* NULL series are ignored by the host   */
} aa_instance;

/* Where a conversation stands. */
typedef enum aa_state {
    AA_START = 0,       /* begin() done; next step() asks for the password */
    AA_WAIT_PASSWORD,   /* waiting for the client's PasswordMessage        */
    AA_DONE,            /* authenticated; identity() may be called         */
    AA_FAILED           /* authentication failed; only end() remains       */
} aa_state;

/* One authentication.  Belongs to one thread at a time (auth.h). */
struct dc_auth_conv {
    const aa_instance *inst;
    aa_state state;
    bool user_known;    /* the requested user is the configured one     */
    char user[64];      /* requested user name, cut to 63 bytes, for
                           messages and identity()                       */
};

/* ------------------------------------------------------------------------
 * Helpers
 * ---------------------------------------------------------------------- */

/* Compare the `len` bytes of `given` with `secret` (secret_len > 0 bytes)
 * in time that depends on `len` only, never on the secret's content or
 * length.  Returns true when they are equal. */
static bool aa_equal_const_time(const uint8_t *given, size_t len,
                                const char *secret, size_t secret_len)
{
    volatile uint8_t diff = (uint8_t)(len != secret_len);
    for (size_t i = 0; i < len; i++)
        diff |= (uint8_t)(given[i] ^ (uint8_t)secret[i % secret_len]);
    return diff == 0;
}

/* Read the string option `key` (a path relative to the module's section,
 * e.g. ".user") into *out.  Returns 0, or a negative dc_status with *err
 * filled with a config error (SQLSTATE F0000) naming the key. */
static int aa_config_string(const aa_instance *inst, const char *key,
                            const char **out, dc_error *err)
{
    int rc = inst->api->config_string(inst->host, key, out);
    if (rc == DC_ENOTFOUND)
        return dc_error_set(err, rc, DC_SQLSTATE_CONFIG,
                            "[module." AA_NAME "] %s is not set", key + 1);
    if (rc != DC_OK)
        return dc_error_set(err, rc, DC_SQLSTATE_CONFIG,
                            "[module." AA_NAME "] %s: %s", key + 1,
                            dc_status_name(rc));
    return DC_OK;
}

/* Count one finished attempt as ok or fail. */
static void aa_count(const aa_instance *inst, bool ok)
{
    inst->api->counter_add(ok ? inst->attempts_ok : inst->attempts_fail, 1);
}

/* Fail conversation `c`: count the attempt as failed, move to AA_FAILED
 * and fill *err (when not NULL) with `status`, `sqlstate` and the
 * printf-style message, at severity FATAL since the session must end.
 * Returns `status`. */
#if defined(__GNUC__)
__attribute__((format(printf, 5, 6)))
#endif
static int aa_fail(dc_auth_conv *c, dc_error *err, int status,
                   const char *sqlstate, const char *fmt, ...)
{
    aa_count(c->inst, false);
    c->state = AA_FAILED;
    va_list ap;
    va_start(ap, fmt);
    dc_error_setv(err, status, sqlstate, fmt, ap);
    va_end(ap);
    if (err != NULL)
        err->severity = DC_SEV_FATAL;
    return status;
}

/* ------------------------------------------------------------------------
 * The auth vtable (datacave/auth.h)
 * ---------------------------------------------------------------------- */

/* Start authenticating `user`.  `client_addr` and `tls` are not used by
 * this module.  On success *out owns a new conversation, to be freed with
 * aa_end().  Errors: DC_EINVAL (NULL user), DC_ENOMEM. */
static int aa_begin(void *instance, const char *user, const char *client_addr,
                    bool tls, dc_auth_conv **out, dc_error *err)
{
    const aa_instance *inst = instance;
    (void)client_addr;
    (void)tls;

    if (user == NULL || out == NULL)
        return dc_error_set(err, DC_EINVAL, "08P01", "no user name given");
    dc_auth_conv *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return dc_error_set(err, DC_ENOMEM, DC_SQLSTATE_OOM, "out of memory");
    c->inst = inst;
    c->state = AA_START;
    c->user_known = strcmp(user, inst->user) == 0;
    size_t n = strlen(user);
    if (n >= sizeof(c->user))
        n = sizeof(c->user) - 1;
    memcpy(c->user, user, n);
    c->user[n] = '\0';
    *out = c;
    return DC_OK;
}

/* Advance conversation `c`.  The first call (no input) asks for a cleartext
 * password.  The second takes the client's PasswordMessage body: the
 * password and its terminating NUL, `len` counting the NUL.  It answers
 * DC_AUTH_OK when the user is known and the password matches.
 * Errors: DC_EPERM / 28P01 for a failed login (same message for an unknown
 * user and a wrong password); DC_EINVAL / 08P01 for a malformed message or
 * a call out of order.  *out is written only on success; its data is always
 * NULL here. */
static int aa_step(dc_auth_conv *c, const uint8_t *in, size_t len,
                   dc_auth_step_out *out, dc_error *err)
{
    if (!DC_HAS_FIELD(out, dc_auth_step_out, len))
        return dc_error_set(err, DC_EINVAL, DC_SQLSTATE_INTERNAL,
                            "auth step output too small");

    switch (c->state) {
    case AA_START:
        c->state = AA_WAIT_PASSWORD;
        out->request = DC_AUTH_CLEARTEXT;
        out->data = NULL;
        out->len = 0;
        return DC_OK;

    case AA_WAIT_PASSWORD: {
        /* Exactly one NUL, at the end, as PostgreSQL requires. */
        if (in == NULL || len == 0 || in[len - 1] != '\0' ||
            memchr(in, '\0', len - 1) != NULL)
            return aa_fail(c, err, DC_EINVAL, "08P01",
                           "invalid password packet size");
        /* Compare even for an unknown user, so that the time taken does
         * not tell whether the user exists. */
        bool match = aa_equal_const_time(in, len - 1, c->inst->password,
                                         c->inst->password_len);
        if (!match || !c->user_known)
            return aa_fail(c, err, DC_EPERM, "28P01",
                           "password authentication failed for user \"%s\"",
                           c->user);
        aa_count(c->inst, true);
        c->state = AA_DONE;
        out->request = DC_AUTH_OK;
        out->data = NULL;
        out->len = 0;
        return DC_OK;
    }

    case AA_DONE:
    case AA_FAILED:
    default:
        return dc_error_set(err, DC_EINVAL, "08P01",
                            "authentication step out of order");
    }
}

/* After step() answered DC_AUTH_OK: the user's name and rights.  A
 * read_only user may read; any other may also write and run DDL.
 * Fields beyond out->size are left alone.  Errors: DC_EINVAL when the
 * conversation has not succeeded. */
static int aa_identity(dc_auth_conv *c, dc_auth_identity *out)
{
    if (c->state != AA_DONE || !DC_HAS_FIELD(out, dc_auth_identity, is_admin))
        return DC_EINVAL;
    memcpy(out->user, c->user, sizeof(out->user));
    out->can_read = true;
    out->can_write = !c->inst->read_only;
    out->is_admin = !c->inst->read_only;
    return DC_OK;
}

/* Free conversation `c` (NULL is allowed), at any point of it. */
static void aa_end(dc_auth_conv *c)
{
    free(c);
}

static const dc_auth_vtable aa_vtable = {
    .size = (uint32_t)sizeof(dc_auth_vtable),
    .begin = aa_begin,
    .step = aa_step,
    .identity = aa_identity,
    .end = aa_end,
    .hash_password = NULL, /* optional: `gen-password-hash` is unsupported */
};

/* ------------------------------------------------------------------------
 * Lifecycle
 * ---------------------------------------------------------------------- */

/* Read the config, register the metric and make the instance (*instance,
 * freed by aa_shutdown).  Errors: F0000 when `password` is missing or
 * empty or `user` is unusable; DC_ENOMEM.  On failure nothing is left
 * allocated (the metric family stays registered: the host keeps it). */
static int aa_init(dc_host *host, const dc_host_api *api, void **instance,
                   dc_error *err)
{
    aa_instance *inst = calloc(1, sizeof(*inst));
    if (inst == NULL)
        return dc_error_set(err, DC_ENOMEM, DC_SQLSTATE_OOM, "out of memory");
    inst->host = host;
    inst->api = api;

    int rc = aa_config_string(inst, ".user", &inst->user, err);
    if (rc == DC_OK)
        rc = aa_config_string(inst, ".password", &inst->password, err);
    if (rc == DC_OK) {
        rc = api->config_bool(host, ".read_only", &inst->read_only);
        if (rc != DC_OK)
            dc_error_set(err, rc, DC_SQLSTATE_CONFIG,
                         "[module." AA_NAME "] read_only: %s",
                         dc_status_name(rc));
    }
    if (rc == DC_OK && inst->user[0] == '\0')
        rc = dc_error_set(err, DC_EINVAL, DC_SQLSTATE_CONFIG,
                          "[module." AA_NAME "] user is empty");
    if (rc == DC_OK && strlen(inst->user) >= sizeof(((dc_auth_conv *)0)->user))
        rc = dc_error_set(err, DC_EINVAL, DC_SQLSTATE_CONFIG,
                          "[module." AA_NAME "] user is longer than 63 bytes");
    if (rc == DC_OK && inst->password[0] == '\0')
        rc = dc_error_set(err, DC_EINVAL, DC_SQLSTATE_CONFIG,
                          "[module." AA_NAME "] password is empty");
    if (rc != DC_OK) {
        free(inst);
        return rc;
    }
    inst->password_len = strlen(inst->password);

    static const char *const labels[] = {"result"};
    const dc_metric_desc md = {
        .size = (uint32_t)sizeof(dc_metric_desc),
        .type = DC_METRIC_COUNTER,
        .name = AA_METRIC,
        .help = "Authentication attempts by the allowlist-auth example.",
        .label_names = labels,
        .nlabels = 1,
    };
    dc_metric *m = NULL;
    rc = api->metric_register(host, &md, &m, err);
    if (rc != DC_OK) {
        free(inst);
        return rc;
    }
    static const char *const ok[] = {"ok"};
    static const char *const fail[] = {"fail"};
    inst->attempts_ok = api->metric_series(m, ok);
    inst->attempts_fail = api->metric_series(m, fail);

    api->log(host, DC_LOG_INFO, "ready, 1 user");
    *instance = inst;
    return DC_OK;
}

/* Free the instance.  The module has no threads and holds no other
 * resources; open conversations must have been ended by the caller. */
static void aa_shutdown(void *instance)
{
    aa_instance *inst = instance;
    inst->api->log(inst->host, DC_LOG_INFO, "shut down");
    free(inst);
}

/* ------------------------------------------------------------------------
 * Descriptor and entry symbol
 * ---------------------------------------------------------------------- */

static const dc_config_key aa_config_keys[] = {
    {.name = "user", .type = DC_CFG_STRING, .default_value = "\"demo\"",
     .description = "the one user allowed to log in"},
    {.name = "password", .type = DC_CFG_STRING, .default_value = NULL,
     .description = "that user's password, in clear text",
     .flags = DC_OPT_REQUIRED | DC_OPT_SECRET},
    {.name = "read_only", .type = DC_CFG_BOOL, .default_value = "false",
     .description = "when true the user may only read"},
};

static const dc_module_desc aa_desc = {
    DC_MODULE_HEADER(DC_KIND_AUTH, DC_AUTH_VTABLE_MAJOR, DC_AUTH_VTABLE_MINOR),
    .name = AA_NAME,
    .version = "0.1.0",
    .description = "example: one user with a cleartext password from the "
                   "config",
    .deps = NULL,
    .ndeps = 0,
    .config_keys = aa_config_keys,
    .nconfig_keys = sizeof(aa_config_keys) / sizeof(aa_config_keys[0]),
    .init = aa_init,
    .shutdown = aa_shutdown,
    .vtable = &aa_vtable,
};

DC_EXPORT const dc_module_desc *datacave_module_allowlist_auth_v0(void);

/* The entry symbol: returns the module's constant descriptor.  No side
 * effects; the host may call it any number of times. */
DC_EXPORT const dc_module_desc *datacave_module_allowlist_auth_v0(void)
{
    return &aa_desc;
}
