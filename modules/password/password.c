/*
 * password.c - the `password` auth module: users and roles from
 * [security.auth], checked with one of PostgreSQL's password methods.
 *
 *     [module.password]
 *     method = "scram-sha-256"   # or "md5", "password" (cleartext), "trust"
 *     scram_iterations = 4096    # for secrets made by gen-password-hash
 *
 * Users ([[security.auth.users]]) have a username, one of password_hash
 * (a SCRAM-SHA-256 secret in PostgreSQL's stored form, or an MD5 hash
 * "md5" + md5(password + username)) and password_plain (development only:
 * a warning is logged at start), and a list of roles.  A user's rights are
 * the union of its roles' can_read, can_write and is_admin; a user without
 * roles may log in but holds no right.
 *
 * Every configuration problem is found by init() (users.c), so a server that
 * starts can authenticate every configured user with the chosen method: md5
 * needs password_plain or an MD5 hash, scram-sha-256 needs password_plain or a
 * SCRAM secret.
 *
 * An unknown user goes through the same conversation as a known one, with
 * a mock SCRAM secret derived from the user name and a key only the server
 * knows, and fails with the same error as a wrong password.
 *
 * State: the instance is made by init() and read-only afterwards; each
 * conversation is owned by one thread, so any number run at once.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "pw.h"

#define PW_MD5_SALT_LEN 4
#define PW_PASSWORD_MAX 65535 /* longest password, as PostgreSQL */

typedef enum pw_state {
    PW_START = 0,         /* next step() makes the first request      */
    PW_WAIT_PASSWORD,     /* cleartext PasswordMessage                */
    PW_WAIT_MD5,          /* MD5 PasswordMessage                      */
    PW_WAIT_SASL_INITIAL, /* SASLInitialResponse                      */
    PW_WAIT_SASL_FIRST,   /* SASLResponse with the client-first msg   */
    PW_WAIT_SASL_FINAL,   /* SASLResponse with the client-final msg   */
    PW_SASL_FINAL_SENT,   /* next step() answers DC_AUTH_OK           */
    PW_DONE,
    PW_FAILED
} pw_state;

/* One authentication. */
struct dc_auth_conv {
    const pw_instance *inst;
    const pw_user *user;    /* NULL: unknown user           */
    char name[PW_NAME_MAX]; /* as asked, cut to 63 bytes    */
    pw_state state;
    uint8_t md5_salt[PW_MD5_SALT_LEN];
    /* The mock secret of the name, computed for known users too so that
     * a known and an unknown name cost the same work. */
    scram_secret mock;
    scram_exchange scram;
};

/* SASL mechanisms offered: never SCRAM-SHA-256-PLUS (no channel
 * binding), so libpq never aborts on a plain connection. */
static const uint8_t pw_sasl_mechanisms[] = SCRAM_MECHANISM "\0";

/* ------------------------------------------------------------------------
 * Conversation outcomes
 * ---------------------------------------------------------------------- */

/* Count one finished attempt in datacave_auth_attempts_total. */
static void count_attempt(const dc_auth_conv *c, bool ok)
{
    const pw_instance *inst = c->inst;
    if (inst->api->counter_add != NULL)
        inst->api->counter_add(ok ? inst->attempts_ok : inst->attempts_fail, 1);
}

/* The login succeeded: count it and answer DC_AUTH_OK. */
static int conv_done(dc_auth_conv *c, dc_auth_step_out *out)
{
    count_attempt(c, true);
    c->state = PW_DONE;
    out->request = DC_AUTH_OK;
    out->data = NULL;
    out->len = 0;
    return DC_OK;
}

/* Move c to PW_FAILED and make *err (already filled by the callee) FATAL:
 * a failed authentication ends the session. */
static int conv_failed(dc_auth_conv *c, int rc, dc_error *err)
{
    if (c->state != PW_FAILED)
        count_attempt(c, false);
    c->state = PW_FAILED;
    if (err != NULL)
        err->severity = DC_SEV_FATAL;
    return rc;
}

#if defined(__GNUC__)
__attribute__((format(printf, 5, 6)))
#endif
static int
conv_fail(dc_auth_conv *c, dc_error *err, int status, const char *sqlstate,
          const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    dc_error_setv(err, status, sqlstate, fmt, ap);
    va_end(ap);
    return conv_failed(c, status, err);
}

/* The one failed-login error, whatever was wrong. */
static int login_failed(dc_auth_conv *c, dc_error *err)
{
    return conv_fail(c, err, DC_EPERM, "28P01",
                     "password authentication failed for user \"%s\"", c->name);
}

static int out_of_order(dc_auth_conv *c, dc_error *err)
{
    return conv_fail(c, err, DC_EINVAL, "08P01",
                     "authentication step out of order");
}

static void set_out(dc_auth_step_out *out, dc_auth_request req,
                    const uint8_t *data, size_t len)
{
    out->request = req;
    out->data = data;
    out->len = len;
}

/* ------------------------------------------------------------------------
 * Steps
 * ---------------------------------------------------------------------- */

/* First step: the request the method starts with. */
static int step_start(dc_auth_conv *c, dc_auth_step_out *out, dc_error *err)
{
    switch (c->inst->method) {
    case PW_TRUST:
        if (c->user == NULL)
            return conv_fail(c, err, DC_EPERM, "28000",
                             "role \"%s\" does not exist", c->name);
        return conv_done(c, out);
    case PW_PASSWORD:
        c->state = PW_WAIT_PASSWORD;
        set_out(out, DC_AUTH_CLEARTEXT, NULL, 0);
        return DC_OK;
    case PW_MD5:
        if (RAND_bytes(c->md5_salt, sizeof c->md5_salt) != 1)
            return conv_fail(c, err, DC_ERR, DC_SQLSTATE_INTERNAL,
                             "could not generate random salt");
        c->state = PW_WAIT_MD5;
        set_out(out, DC_AUTH_MD5, c->md5_salt, sizeof c->md5_salt);
        return DC_OK;
    case PW_SCRAM:
    default:
        c->state = PW_WAIT_SASL_INITIAL;
        set_out(out, DC_AUTH_SASL, pw_sasl_mechanisms,
                sizeof pw_sasl_mechanisms);
        return DC_OK;
    }
}

/* A PasswordMessage body is the password and one NUL, at the end. */
static int check_password_message(dc_auth_conv *c, const uint8_t *in,
                                  size_t len, dc_error *err)
{
    if (in == NULL || len == 0 || len > PW_PASSWORD_MAX + 1 ||
        in[len - 1] != '\0' || memchr(in, '\0', len - 1) != NULL)
        return conv_fail(c, err, DC_EINVAL, "08P01",
                         "invalid password packet size");
    return DC_OK;
}

/* Cleartext: check the password against the user's secret (or, for an
 * unknown user, a mock one, so the work is the same). */
static int step_password(dc_auth_conv *c, const uint8_t *in, size_t len,
                         dc_auth_step_out *out, dc_error *err)
{
    int rc = check_password_message(c, in, len, err);
    if (rc != DC_OK)
        return rc;
    const char *pw = (const char *)in;
    const pw_user *u = c->user;
    bool match = false;
    if (u != NULL && !u->has_scram) {
        char given[PW_MD5_LEN + 1];
        if (!pw_md5_hex(pw, len - 1, u->name, strlen(u->name), given))
            return conv_fail(c, err, DC_ERR, DC_SQLSTATE_INTERNAL,
                             "could not compute MD5 hash");
        match = CRYPTO_memcmp(given, u->md5, PW_MD5_LEN) == 0;
    } else {
        rc = scram_password_check(u != NULL ? &u->scram : &c->mock, pw, len - 1,
                                  &match, err);
        if (rc != DC_OK)
            return conv_failed(c, rc, err);
    }
    if (!match || u == NULL)
        return login_failed(c, err);
    return conv_done(c, out);
}

/* MD5: the client sends "md5" + md5hex(md5hex(password + user) + salt). */
static int step_md5(dc_auth_conv *c, const uint8_t *in, size_t len,
                    dc_auth_step_out *out, dc_error *err)
{
    int rc = check_password_message(c, in, len, err);
    if (rc != DC_OK)
        return rc;
    char stored[PW_MD5_LEN + 1], expect[PW_MD5_LEN + 1];
    if (c->user != NULL) {
        memcpy(stored, c->user->md5, sizeof stored);
    } else {
        /* An unknown user's stand-in hash: hex of mock key bytes. */
        static const char hex[] = "0123456789abcdef";
        memcpy(stored, "md5", 3);
        for (size_t i = 0; i < 16; i++) {
            stored[3 + 2 * i] = hex[c->mock.stored_key[i] >> 4];
            stored[4 + 2 * i] = hex[c->mock.stored_key[i] & 15];
        }
        stored[PW_MD5_LEN] = '\0';
    }
    if (!pw_md5_hex(stored + 3, PW_MD5_LEN - 3, c->md5_salt, sizeof c->md5_salt,
                    expect))
        return conv_fail(c, err, DC_ERR, DC_SQLSTATE_INTERNAL,
                         "could not compute MD5 hash");
    bool match =
        len - 1 == PW_MD5_LEN && CRYPTO_memcmp(in, expect, PW_MD5_LEN) == 0;
    if (!match || c->user == NULL)
        return login_failed(c, err);
    return conv_done(c, out);
}

/* Take a client-first-message: start the SCRAM exchange against the
 * user's secret (or a doomed one against a mock secret). */
static int sasl_first(dc_auth_conv *c, const uint8_t *msg, size_t len,
                      dc_auth_step_out *out, dc_error *err)
{
    char nonce[scram_b64_len(SCRAM_NONCE_RAW_LEN) + 1];
    int rc = scram_server_nonce(nonce, sizeof nonce, err);
    if (rc != DC_OK)
        return conv_failed(c, rc, err);
    const char *reply = NULL;
    size_t rlen = 0;
    rc = scram_client_first(&c->scram, (const char *)msg, len, nonce, &reply,
                            &rlen, err);
    if (rc != DC_OK)
        return conv_failed(c, rc, err);
    c->state = PW_WAIT_SASL_FINAL;
    set_out(out, DC_AUTH_SASL_CONTINUE, (const uint8_t *)reply, rlen);
    return DC_OK;
}

/* SASLInitialResponse body: mechanism name and NUL, Int32 length of the
 * initial response (-1: none), the response. */
static int step_sasl_initial(dc_auth_conv *c, const uint8_t *in, size_t len,
                             dc_auth_step_out *out, dc_error *err)
{
    const uint8_t *nul = in != NULL ? memchr(in, '\0', len) : NULL;
    size_t mlen = nul != NULL ? (size_t)(nul - in) : 0;
    if (nul == NULL || len - mlen - 1 < 4)
        return conv_fail(c, err, DC_EINVAL, "08P01",
                         "invalid SASL initial response");
    if (mlen != strlen(SCRAM_MECHANISM) ||
        memcmp(in, SCRAM_MECHANISM, mlen) != 0)
        return conv_fail(c, err, DC_EINVAL, "08P01",
                         "client selected an invalid SASL authentication "
                         "mechanism");
    const uint8_t *p = nul + 1;
    uint32_t n = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
                 (uint32_t)p[2] << 8 | p[3];
    size_t rest = len - mlen - 1 - 4;
    if (n == UINT32_MAX && rest == 0) {
        /* No initial response: ask for it with an empty challenge. */
        c->state = PW_WAIT_SASL_FIRST;
        set_out(out, DC_AUTH_SASL_CONTINUE, NULL, 0);
        return DC_OK;
    }
    if ((size_t)n != rest)
        return conv_fail(c, err, DC_EINVAL, "08P01",
                         "invalid SASL initial response");
    return sasl_first(c, p + 4, rest, out, err);
}

static int step_sasl_final(dc_auth_conv *c, const uint8_t *in, size_t len,
                           dc_auth_step_out *out, dc_error *err)
{
    const char *reply = NULL;
    size_t rlen = 0;
    int rc = scram_client_final(&c->scram, (const char *)in, len, &reply, &rlen,
                                err);
    if (rc == DC_EPERM)
        return login_failed(c, err);
    if (rc != DC_OK)
        return conv_failed(c, rc, err);
    c->state = PW_SASL_FINAL_SENT;
    set_out(out, DC_AUTH_SASL_FINAL, (const uint8_t *)reply, rlen);
    return DC_OK;
}

/* ------------------------------------------------------------------------
 * The auth vtable (datacave/auth.h)
 * ---------------------------------------------------------------------- */

/* Start authenticating `user`; client_addr and tls do not change the
 * method.  Errors: DC_EINVAL / 08P01 (no user name), DC_ENOMEM, DC_ERR
 * (OpenSSL failed making a mock secret). */
static int pw_begin(void *instance, const char *user, const char *client_addr,
                    bool tls, dc_auth_conv **out, dc_error *err)
{
    const pw_instance *inst = instance;
    (void)client_addr;
    (void)tls;
    if (user == NULL || out == NULL)
        return dc_error_set(err, DC_EINVAL, "08P01", "no user name given");
    dc_auth_conv *c = calloc(1, sizeof *c);
    if (c == NULL)
        return dc_error_set(err, DC_ENOMEM, DC_SQLSTATE_OOM, "out of memory");
    c->inst = inst;
    c->state = PW_START;
    pw_copy_name(c->name, user);
    /* A name too long to fit is never a configured one. */
    c->user = strlen(user) < PW_NAME_MAX ? pw_find_user(inst, user) : NULL;
    if (!pw_mock_secret(inst, c->name, &c->mock)) {
        free(c);
        return dc_error_set(err, DC_ERR, DC_SQLSTATE_INTERNAL,
                            "could not compute mock secret");
    }
    if (inst->method == PW_SCRAM)
        scram_exchange_init(&c->scram, c->user ? &c->user->scram : &c->mock,
                            c->user == NULL);
    *out = c;
    return DC_OK;
}

/* Advance the conversation; see auth.h.  The first call takes no input.
 * Errors: DC_EPERM / 28P01 (FATAL) for a wrong password or an unknown
 * user, alike; DC_EPERM / 28000 for an unknown user under trust;
 * DC_EINVAL / 08P01 for a malformed answer or a call out of order;
 * DC_EUNSUPPORTED / 0A000 for SCRAM features not supported.  *out is
 * written only on success. */
static int pw_step(dc_auth_conv *c, const uint8_t *in, size_t len,
                   dc_auth_step_out *out, dc_error *err)
{
    if (!DC_HAS_FIELD(out, dc_auth_step_out, len))
        return dc_error_set(err, DC_EINVAL, DC_SQLSTATE_INTERNAL,
                            "auth step output too small");
    switch (c->state) {
    case PW_START:
        if (in != NULL && len > 0)
            return out_of_order(c, err);
        return step_start(c, out, err);
    case PW_WAIT_PASSWORD:
        return step_password(c, in, len, out, err);
    case PW_WAIT_MD5:
        return step_md5(c, in, len, out, err);
    case PW_WAIT_SASL_INITIAL:
        return step_sasl_initial(c, in, len, out, err);
    case PW_WAIT_SASL_FIRST:
        return sasl_first(c, in, len, out, err);
    case PW_WAIT_SASL_FINAL:
        return step_sasl_final(c, in, len, out, err);
    case PW_SASL_FINAL_SENT:
        /* The client sends nothing after SASLFinal: any input is ignored. */
        return conv_done(c, out);
    case PW_DONE:
        /* Refused, but the login stands: identity() still answers. */
        dc_error_set(err, DC_EINVAL, "08P01",
                     "authentication step out of order");
        if (err != NULL)
            err->severity = DC_SEV_FATAL;
        return DC_EINVAL;
    case PW_FAILED:
    default:
        return out_of_order(c, err);
    }
}

/* The authenticated user's name and the union of its roles' rights.
 * DC_EINVAL until the conversation has succeeded. */
static int pw_identity(dc_auth_conv *c, dc_auth_identity *out)
{
    if (c == NULL || c->state != PW_DONE || c->user == NULL ||
        !DC_HAS_FIELD(out, dc_auth_identity, is_admin))
        return DC_EINVAL;
    memcpy(out->user, c->user->name, sizeof out->user);
    out->can_read = c->user->can_read;
    out->can_write = c->user->can_write;
    out->is_admin = c->user->is_admin;
    return DC_OK;
}

static void pw_end(dc_auth_conv *c)
{
    if (c == NULL)
        return;
    scram_exchange_free(&c->scram);
    OPENSSL_cleanse(c, sizeof *c);
    free(c);
}

/* The stored form of `password`: a SCRAM-SHA-256 secret with a random
 * 16-byte salt and [module.password] scram_iterations.  Errors: DC_EINVAL
 * (empty password), DC_ERANGE (cap too small), DC_ERR (OpenSSL). */
static int pw_hash_password(void *instance, const char *password, char *out,
                            size_t cap, dc_error *err)
{
    const pw_instance *inst = instance;
    if (password == NULL || password[0] == '\0')
        return dc_error_set(err, DC_EINVAL, "22023",
                            "empty string is not a valid password");
    uint8_t salt[SCRAM_SALT_LEN];
    if (RAND_bytes(salt, sizeof salt) != 1)
        return dc_error_set(err, DC_ERR, DC_SQLSTATE_INTERNAL,
                            "could not generate random salt");
    scram_secret s;
    int rc = scram_secret_make(password, strlen(password), salt, sizeof salt,
                               inst->iterations, &s, err);
    if (rc == DC_OK) {
        rc = scram_secret_format(&s, out, cap);
        if (rc != DC_OK)
            dc_error_set(err, rc, DC_SQLSTATE_INTERNAL,
                         "output buffer too small for the password hash");
    }
    OPENSSL_cleanse(&s, sizeof s);
    return rc;
}

static const dc_auth_vtable pw_vtable = {
    .size = (uint32_t)sizeof(dc_auth_vtable),
    .begin = pw_begin,
    .step = pw_step,
    .identity = pw_identity,
    .end = pw_end,
    .hash_password = pw_hash_password,
};

/* ------------------------------------------------------------------------
 * Lifecycle
 * ---------------------------------------------------------------------- */

static void pw_free(pw_instance *inst)
{
    if (inst == NULL)
        return;
    if (inst->users != NULL)
        OPENSSL_cleanse(inst->users, inst->nusers * sizeof *inst->users);
    free(inst->users);
    OPENSSL_cleanse(inst, sizeof *inst);
    free(inst);
}

/* Register datacave_auth_attempts_total{result="ok"|"fail"}.  A host
 * without metrics, or a failed registration (logged), leaves the series
 * NULL, which counter_add ignores: counting is never worth refusing to
 * start. */
static void register_metrics(pw_instance *inst)
{
    const dc_host_api *api = inst->api;
    if (!DC_HAS_FIELD(api, dc_host_api, counter_add) ||
        api->metric_register == NULL || api->metric_series == NULL ||
        api->counter_add == NULL)
        return;
    static const char *const labels[] = {"result"};
    const dc_metric_desc md = {
        .size = (uint32_t)sizeof(dc_metric_desc),
        .type = DC_METRIC_COUNTER,
        .name = "datacave_auth_attempts_total",
        .help = "Finished authentication attempts, by result.",
        .label_names = labels,
        .nlabels = 1,
    };
    dc_metric *m = NULL;
    dc_error err;
    dc_error_init(&err);
    if (api->metric_register(inst->host, &md, &m, &err) != DC_OK) {
        api->log(inst->host, DC_LOG_WARN, "cannot register %s: %s", md.name,
                 err.message);
        return;
    }
    static const char *const ok[] = {"ok"};
    static const char *const fail[] = {"fail"};
    inst->attempts_ok = api->metric_series(m, ok);
    inst->attempts_fail = api->metric_series(m, fail);
}

/* Read the options, roles and users and make the instance.  Errors: F0000
 * for a config problem (message names the key or the user), DC_ENOMEM,
 * DC_ERR when OpenSSL fails.  Nothing is left allocated on failure. */
static int pw_init(dc_host *host, const dc_host_api *api, void **instance,
                   dc_error *err)
{
    pw_instance *inst = calloc(1, sizeof *inst);
    if (inst == NULL)
        return dc_error_set(err, DC_ENOMEM, DC_SQLSTATE_OOM, "out of memory");
    inst->host = host;
    inst->api = api;
    int rc = pw_config_read(inst, err);
    bool enabled = true;
    if (rc == DC_OK &&
        api->config_bool(host, "security.auth.enabled", &enabled) != DC_OK)
        enabled = true;
    if (rc != DC_OK) {
        pw_free(inst);
        return rc;
    }
    register_metrics(inst);
    api->log(host, DC_LOG_INFO, "%zu user%s, method %s%s", inst->nusers,
             inst->nusers == 1 ? "" : "s", pw_method_names[inst->method],
             enabled ? ""
                     : " (authentication disabled by [security.auth] "
                       "enabled = false)");
    *instance = inst;
    return DC_OK;
}

static void pw_shutdown(void *instance)
{
    pw_free(instance);
}

/* ------------------------------------------------------------------------
 * Descriptor and entry symbol
 * ---------------------------------------------------------------------- */

static const dc_config_key pw_config_keys[] = {
    {.name = "method",
     .type = DC_CFG_STRING,
     .default_value = "\"scram-sha-256\"",
     .description = "scram-sha-256, md5, password (cleartext) or trust"},
    {.name = "scram_iterations",
     .type = DC_CFG_INT,
     .default_value = "4096",
     .description = "PBKDF2 iterations of SCRAM secrets this module makes"},
};

static const dc_module_desc pw_desc = {
    DC_MODULE_HEADER(DC_KIND_AUTH, DC_AUTH_VTABLE_MAJOR, DC_AUTH_VTABLE_MINOR),
    .name = PW_NAME,
    .version = "0.1.0",
    .description = "users and roles from [security.auth]; SCRAM-SHA-256, "
                   "MD5, cleartext or trust",
    .deps = NULL,
    .ndeps = 0,
    .config_keys = pw_config_keys,
    .nconfig_keys = sizeof pw_config_keys / sizeof pw_config_keys[0],
    .init = pw_init,
    .shutdown = pw_shutdown,
    .vtable = &pw_vtable,
};

DC_EXPORT const dc_module_desc *datacave_module_password_v0(void);

/* The entry symbol: returns the constant descriptor, nothing else. */
DC_EXPORT const dc_module_desc *datacave_module_password_v0(void)
{
    return &pw_desc;
}
