/*
 * users.c - the password module's configuration: [module.password] and
 * the roles and users of [security.auth]; see pw.h.
 *
 * Every problem is found here, at init(), so that a server that starts can
 * check every configured user's password with the chosen method.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "pw.h"

const char *const pw_method_names[4] = {"trust", "password", "md5",
                                        "scram-sha-256"};

/* ------------------------------------------------------------------------
 * Helpers
 * ---------------------------------------------------------------------- */

void pw_copy_name(char dst[PW_NAME_MAX], const char *src)
{
    size_t n = strlen(src);
    if (n >= PW_NAME_MAX)
        n = PW_NAME_MAX - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

bool pw_md5_hex(const void *a, size_t alen, const void *b, size_t blen,
                char out[PW_MD5_LEN + 1])
{
    static const char hex[] = "0123456789abcdef";
    uint8_t md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    bool ok = ctx != NULL && EVP_DigestInit_ex(ctx, EVP_md5(), NULL) == 1 &&
              EVP_DigestUpdate(ctx, a, alen) == 1 &&
              EVP_DigestUpdate(ctx, b, blen) == 1 &&
              EVP_DigestFinal_ex(ctx, md, &mdlen) == 1 && mdlen == 16;
    EVP_MD_CTX_free(ctx);
    if (!ok)
        return false;
    memcpy(out, "md5", 3);
    for (unsigned int i = 0; i < 16; i++) {
        out[3 + 2 * i] = hex[md[i] >> 4];
        out[4 + 2 * i] = hex[md[i] & 15];
    }
    out[PW_MD5_LEN] = '\0';
    return true;
}

/* True when s is "md5" followed by 32 lowercase hex digits. */
static bool is_md5_hash(const char *s)
{
    if (strlen(s) != PW_MD5_LEN || strncmp(s, "md5", 3) != 0)
        return false;
    for (size_t i = 3; i < PW_MD5_LEN; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return true;
}

/* out = HMAC-SHA-256(inst->mock_key, label || NUL || name), cut to len
 * bytes (len <= 32).  Returns false when OpenSSL fails. */
static bool mock_bytes(const pw_instance *inst, const char *label,
                       const char *name, uint8_t *out, size_t len)
{
    char msg[16 + PW_NAME_MAX];
    size_t l = strlen(label);
    size_t n = strlen(name);
    if (n >= PW_NAME_MAX)
        n = PW_NAME_MAX - 1;
    memcpy(msg, label, l + 1);
    memcpy(msg + l + 1, name, n);
    uint8_t md[SCRAM_KEY_LEN];
    unsigned int mdlen = 0;
    if (HMAC(EVP_sha256(), inst->mock_key, SCRAM_KEY_LEN, (uint8_t *)msg,
             l + 1 + n, md, &mdlen) == NULL)
        return false;
    memcpy(out, md, len);
    return true;
}

/* The mock SCRAM secret of an unknown user: salt and keys derived from the
 * name, so the same name always sees the same salt, like a real user. */
bool pw_mock_secret(const pw_instance *inst, const char *name,
                    scram_secret *out)
{
    memset(out, 0, sizeof *out);
    out->iterations = inst->iterations;
    out->salt_len = SCRAM_SALT_LEN;
    return mock_bytes(inst, "salt", name, out->salt, SCRAM_SALT_LEN) &&
           mock_bytes(inst, "stored", name, out->stored_key, SCRAM_KEY_LEN) &&
           mock_bytes(inst, "server", name, out->server_key, SCRAM_KEY_LEN);
}

const pw_user *pw_find_user(const pw_instance *inst, const char *name)
{
    for (size_t i = 0; i < inst->nusers; i++)
        if (strcmp(inst->users[i].name, name) == 0)
            return &inst->users[i];
    return NULL;
}

/* ------------------------------------------------------------------------
 * Configuration
 * ---------------------------------------------------------------------- */

/* A role as read from [[security.auth.roles]]; names borrowed. */
typedef struct pw_role {
    const char *name;
    bool can_read, can_write, is_admin;
} pw_role;

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static int
config_error(dc_error *err, int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    dc_error_setv(err, status, DC_SQLSTATE_CONFIG, fmt, ap);
    va_end(ap);
    return status;
}

/* Number of elements of the array at path; 0 when it is not set. */
static int config_len(const pw_instance *inst, const char *path, size_t *n,
                      dc_error *err)
{
    int rc = inst->api->config_count(inst->host, path, n);
    if (rc == DC_ENOTFOUND) {
        *n = 0;
        return DC_OK;
    }
    if (rc != DC_OK)
        return config_error(err, rc, "%s: %s", path, dc_status_name(rc));
    return DC_OK;
}

/* Optional string; *out = NULL when not set. */
static int config_opt_string(const pw_instance *inst, const char *path,
                             const char **out, dc_error *err)
{
    *out = NULL;
    int rc = inst->api->config_string(inst->host, path, out);
    if (rc == DC_ENOTFOUND)
        return DC_OK;
    if (rc != DC_OK)
        return config_error(err, rc, "%s: %s", path, dc_status_name(rc));
    return DC_OK;
}

/* Optional boolean; false when not set. */
static int config_opt_bool(const pw_instance *inst, const char *path, bool *out,
                           dc_error *err)
{
    bool v = false;
    int rc = inst->api->config_bool(inst->host, path, &v);
    if (rc != DC_OK && rc != DC_ENOTFOUND)
        return config_error(err, rc, "%s: %s", path, dc_status_name(rc));
    *out = rc == DC_OK && v;
    return DC_OK;
}

/* Read [[security.auth.roles]] into *roles (malloc'd, *nroles entries). */
static int read_roles(const pw_instance *inst, pw_role **roles, size_t *nroles,
                      dc_error *err)
{
    size_t n = 0;
    int rc = config_len(inst, "security.auth.roles", &n, err);
    if (rc != DC_OK)
        return rc;
    pw_role *r = calloc(n ? n : 1, sizeof *r);
    if (r == NULL)
        return dc_error_set(err, DC_ENOMEM, DC_SQLSTATE_OOM, "out of memory");
    char path[128];
    for (size_t i = 0; i < n && rc == DC_OK; i++) {
        snprintf(path, sizeof path, "security.auth.roles[%zu].name", i);
        rc = config_opt_string(inst, path, &r[i].name, err);
        if (rc == DC_OK && (r[i].name == NULL || r[i].name[0] == '\0'))
            rc = config_error(err, DC_EINVAL, "%s is not set", path);
        for (size_t j = 0; rc == DC_OK && j < i; j++)
            if (strcmp(r[j].name, r[i].name) == 0)
                rc = config_error(err, DC_EINVAL,
                                  "security.auth.roles: role \"%s\" is "
                                  "defined twice",
                                  r[i].name);
        static const char *const fields[] = {"can_read", "can_write",
                                             "is_admin"};
        bool *dst[] = {&r[i].can_read, &r[i].can_write, &r[i].is_admin};
        for (size_t f = 0; rc == DC_OK && f < 3; f++) {
            snprintf(path, sizeof path, "security.auth.roles[%zu].%s", i,
                     fields[f]);
            rc = config_opt_bool(inst, path, dst[f], err);
        }
    }
    if (rc != DC_OK) {
        free(r);
        return rc;
    }
    *roles = r;
    *nroles = n;
    return DC_OK;
}

/* Give user u (config element i) the union of its roles' rights. */
static int read_user_roles(const pw_instance *inst, size_t i, pw_user *u,
                           const pw_role *roles, size_t nroles, dc_error *err)
{
    char path[128];
    size_t n = 0;
    snprintf(path, sizeof path, "security.auth.users[%zu].roles", i);
    int rc = config_len(inst, path, &n, err);
    for (size_t j = 0; rc == DC_OK && j < n; j++) {
        const char *name = NULL;
        snprintf(path, sizeof path, "security.auth.users[%zu].roles[%zu]", i,
                 j);
        rc = config_opt_string(inst, path, &name, err);
        if (rc != DC_OK)
            break;
        const pw_role *r = NULL;
        for (size_t k = 0; name != NULL && k < nroles; k++)
            if (strcmp(roles[k].name, name) == 0)
                r = &roles[k];
        if (r == NULL)
            return config_error(err, DC_EINVAL,
                                "%s: role \"%s\" of user \"%s\" is not "
                                "defined in [[security.auth.roles]]",
                                path, name ? name : "", u->name);
        u->can_read |= r->can_read;
        u->can_write |= r->can_write;
        u->is_admin |= r->is_admin;
    }
    return rc;
}

/* Read user i's name, credential texts and rights into *u. */
static int read_user(const pw_instance *inst, size_t i, pw_user *u,
                     const pw_role *roles, size_t nroles, dc_error *err)
{
    char path[128];
    const char *name = NULL;
    snprintf(path, sizeof path, "security.auth.users[%zu].username", i);
    int rc = config_opt_string(inst, path, &name, err);
    if (rc != DC_OK)
        return rc;
    if (name == NULL || name[0] == '\0')
        return config_error(err, DC_EINVAL, "%s is not set", path);
    if (strlen(name) >= PW_NAME_MAX)
        return config_error(err, DC_EINVAL,
                            "%s: user name \"%s\" is longer than 63 bytes",
                            path, name);
    pw_copy_name(u->name, name);
    snprintf(path, sizeof path, "security.auth.users[%zu].password_hash", i);
    rc = config_opt_string(inst, path, &u->hash_text, err);
    snprintf(path, sizeof path, "security.auth.users[%zu].password_plain", i);
    if (rc == DC_OK)
        rc = config_opt_string(inst, path, &u->plain_text, err);
    if (rc != DC_OK)
        return rc;
    if (u->hash_text != NULL && u->plain_text != NULL)
        return config_error(err, DC_EINVAL,
                            "security.auth.users[%zu]: user \"%s\" sets both "
                            "password_hash and password_plain; keep one",
                            i, u->name);
    if (u->hash_text == NULL && u->plain_text == NULL &&
        inst->method != PW_TRUST)
        return config_error(err, DC_EINVAL,
                            "security.auth.users[%zu]: user \"%s\" has no "
                            "password_hash (or password_plain), which the %s "
                            "method needs",
                            i, u->name, pw_method_names[inst->method]);
    return read_user_roles(inst, i, u, roles, nroles, err);
}

/* The mock key: a digest of every user's name and credential, so that it
 * is secret whenever a credential is, and stable across restarts so an
 * unknown user sees the same salt every time. */
static int make_mock_key(pw_instance *inst, dc_error *err)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    static const char label[] = "datacave password module mock key";
    bool ok = ctx != NULL && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1 &&
              EVP_DigestUpdate(ctx, label, sizeof label) == 1;
    for (size_t i = 0; ok && i < inst->nusers; i++) {
        const pw_user *u = &inst->users[i];
        const char *cred = u->hash_text    ? u->hash_text
                           : u->plain_text ? u->plain_text
                                           : "";
        ok = EVP_DigestUpdate(ctx, u->name, strlen(u->name) + 1) == 1 &&
             EVP_DigestUpdate(ctx, cred, strlen(cred) + 1) == 1;
    }
    unsigned int len = 0;
    ok = ok && EVP_DigestFinal_ex(ctx, inst->mock_key, &len) == 1 &&
         len == SCRAM_KEY_LEN;
    EVP_MD_CTX_free(ctx);
    return ok ? DC_OK
              : dc_error_set(err, DC_ERR, DC_SQLSTATE_INTERNAL,
                             "could not compute the mock key");
}

/* Turn user u's credential text into the secret the method needs. */
static int make_credential(pw_instance *inst, size_t i, pw_user *u,
                           dc_error *err)
{
    const char *where = "security.auth.users";
    if (u->hash_text != NULL) {
        if (scram_secret_parse(u->hash_text, &u->scram))
            u->has_scram = true;
        else if (is_md5_hash(u->hash_text)) {
            u->has_md5 = true;
            memcpy(u->md5, u->hash_text, PW_MD5_LEN + 1);
        } else
            return config_error(err, DC_EINVAL,
                                "%s[%zu].password_hash of user \"%s\" is "
                                "neither a SCRAM-SHA-256 secret (datacave "
                                "gen-password-hash) nor an MD5 hash (\"md5\" "
                                "and 32 hex digits)",
                                where, i, u->name);
    } else if (u->plain_text != NULL) {
        inst->api->log(inst->host, DC_LOG_WARN,
                       "user \"%s\" has password_plain: for development "
                       "only; store password_hash (datacave "
                       "gen-password-hash) instead",
                       u->name);
        size_t plen = strlen(u->plain_text);
        if (inst->method == PW_MD5) {
            u->has_md5 = pw_md5_hex(u->plain_text, plen, u->name,
                                    strlen(u->name), u->md5);
            if (!u->has_md5)
                return dc_error_set(err, DC_ERR, DC_SQLSTATE_INTERNAL,
                                    "could not compute MD5 hash");
        } else if (inst->method != PW_TRUST) {
            uint8_t salt[SCRAM_SALT_LEN];
            if (!mock_bytes(inst, "salt", u->name, salt, sizeof salt))
                return dc_error_set(err, DC_ERR, DC_SQLSTATE_INTERNAL,
                                    "could not compute salt");
            int rc = scram_secret_make(u->plain_text, plen, salt, sizeof salt,
                                       inst->iterations, &u->scram, err);
            if (rc != DC_OK)
                return rc;
            u->has_scram = true;
        }
    }
    if (inst->method == PW_MD5 && !u->has_md5)
        return config_error(err, DC_EINVAL,
                            "user \"%s\": the md5 method needs password_plain "
                            "or an MD5 password_hash (\"md5\" + md5(password "
                            "+ user name)); a SCRAM-SHA-256 secret cannot be "
                            "used with it",
                            u->name);
    if (inst->method == PW_SCRAM && !u->has_scram)
        return config_error(err, DC_EINVAL,
                            "user \"%s\": the scram-sha-256 method needs "
                            "password_plain or a SCRAM-SHA-256 password_hash "
                            "(datacave gen-password-hash); an MD5 hash cannot "
                            "be used with it",
                            u->name);
    return DC_OK;
}

/* Read every user: names, rights, then the credentials (which need the
 * mock key, which needs every user's credential text). */
static int read_users(pw_instance *inst, dc_error *err)
{
    pw_role *roles = NULL;
    size_t nroles = 0, n = 0;
    int rc = read_roles(inst, &roles, &nroles, err);
    if (rc == DC_OK)
        rc = config_len(inst, "security.auth.users", &n, err);
    if (rc == DC_OK) {
        inst->users = calloc(n ? n : 1, sizeof *inst->users);
        if (inst->users == NULL)
            rc = dc_error_set(err, DC_ENOMEM, DC_SQLSTATE_OOM, "out of memory");
    }
    for (size_t i = 0; rc == DC_OK && i < n; i++) {
        rc = read_user(inst, i, &inst->users[i], roles, nroles, err);
        for (size_t j = 0; rc == DC_OK && j < i; j++)
            if (strcmp(inst->users[j].name, inst->users[i].name) == 0)
                rc = config_error(err, DC_EINVAL,
                                  "security.auth.users: user \"%s\" is "
                                  "defined twice",
                                  inst->users[i].name);
        inst->nusers = i + 1;
    }
    free(roles);
    if (rc == DC_OK)
        rc = make_mock_key(inst, err);
    for (size_t i = 0; rc == DC_OK && i < n; i++)
        rc = make_credential(inst, i, &inst->users[i], err);
    for (size_t i = 0; i < inst->nusers; i++)
        inst->users[i].hash_text = inst->users[i].plain_text = NULL;
    return rc;
}

/* Read [module.password]: method and scram_iterations. */
static int read_options(pw_instance *inst, dc_error *err)
{
    const char *method = NULL;
    int rc = config_opt_string(inst, ".method", &method, err);
    if (rc != DC_OK)
        return rc;
    inst->method = PW_SCRAM;
    if (method != NULL) {
        size_t m = 0;
        while (m < 4 && strcmp(method, pw_method_names[m]) != 0)
            m++;
        if (m == 4)
            return config_error(err, DC_EINVAL,
                                "[module." PW_NAME "] method \"%s\" is not "
                                "one of scram-sha-256, md5, password, trust",
                                method);
        inst->method = (pw_method)m;
    }
    int64_t iter = SCRAM_DEFAULT_ITERATIONS;
    rc = inst->api->config_int(inst->host, ".scram_iterations", &iter);
    if (rc != DC_OK && rc != DC_ENOTFOUND)
        return config_error(err, rc,
                            "[module." PW_NAME "] scram_iterations: "
                            "%s",
                            dc_status_name(rc));
    if (iter < 1 || iter > INT32_MAX)
        return config_error(err, DC_ERANGE,
                            "[module." PW_NAME "] scram_iterations must be "
                            "between 1 and %d",
                            (int)INT32_MAX);
    inst->iterations = (uint32_t)iter;
    return DC_OK;
}

int pw_config_read(pw_instance *inst, dc_error *err)
{
    int rc = read_options(inst, err);
    return rc == DC_OK ? read_users(inst, err) : rc;
}
