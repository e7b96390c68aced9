/*
 * test_password.c - unit test of the `password` auth module with cmocka and
 * a fake host.
 *
 * The module's sources are linked in (modules/password/module.mk), so the
 * test calls what the host would: the entry function, init(), the auth
 * vtable and shutdown().  The fake dc_host_api serves a small key/value
 * config (the [security.auth] paths and [module.password] options) and
 * records log lines; every other entry is NULL.
 *
 * The client side of each login is computed here, independently of the
 * module: SCRAM-SHA-256 from the password with OpenSSL's PBKDF2/HMAC and
 * EVP_EncodeBlock, MD5 answers with EVP_md5.  RFC 7677's example exchange
 * checks the SCRAM arithmetic byte for byte.  Finally libpq itself logs in:
 * a small server thread here speaks the authentication part of the
 * PostgreSQL protocol over a Unix socket and relays libpq's messages to the
 * module, as the protocol module does.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>
#include <cmocka.h>

#include <libpq-fe.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <datacave/auth.h>
#include <datacave/module.h>

#include "password/scram.h"

const dc_module_desc *datacave_module_password_v0(void);

/* ------------------------------------------------------------------------
 * The fake host
 * ---------------------------------------------------------------------- */

#define FAKE_MAX_KV  160
#define FAKE_MAX_LOG 16
#define FAKE_MAX_STR 64

typedef struct fake_kv {
    char path[96];
    int type; /* DC_CFG_STRING, _BOOL, _INT, _ARRAY */
    const char *s;
    bool b;
    int64_t i; /* INT value or ARRAY count */
} fake_kv;

static struct {
    fake_kv kv[FAKE_MAX_KV];
    size_t nkv;
    size_t nusers, nroles;
    char strs[FAKE_MAX_STR][256]; /* strings the config points at */
    size_t nstrs;
    uint64_t counts[2]; /* attempts: [0] result="ok", [1] "fail" */
    int metric_registrations;
    int nlog;
    int log_level[FAKE_MAX_LOG];
    char log_line[FAKE_MAX_LOG][512];
} fake;

static int host_token;
#define FAKE_HOST ((dc_host *)&host_token)

static fake_kv *kv_find(const char *path)
{
    for (size_t i = 0; i < fake.nkv; i++)
        if (strcmp(fake.kv[i].path, path) == 0)
            return &fake.kv[i];
    return NULL;
}

static fake_kv *kv_put(const char *path, int type)
{
    fake_kv *kv = kv_find(path);
    if (kv == NULL) {
        assert_true(fake.nkv < FAKE_MAX_KV);
        kv = &fake.kv[fake.nkv++];
        snprintf(kv->path, sizeof kv->path, "%s", path);
    }
    kv->type = type;
    return kv;
}

static const char *keep(const char *s)
{
    assert_true(fake.nstrs < FAKE_MAX_STR);
    assert_true(strlen(s) < sizeof fake.strs[0]);
    strcpy(fake.strs[fake.nstrs], s);
    return fake.strs[fake.nstrs++];
}

static void cfg_str(const char *path, const char *s)
{
    kv_put(path, DC_CFG_STRING)->s = keep(s);
}

static void cfg_bool(const char *path, bool b)
{
    kv_put(path, DC_CFG_BOOL)->b = b;
}

static void cfg_int(const char *path, int64_t i)
{
    kv_put(path, DC_CFG_INT)->i = i;
}

static void cfg_count(const char *path, size_t n)
{
    kv_put(path, DC_CFG_ARRAY)->i = (int64_t)n;
}

static void add_role(const char *name, bool r, bool w, bool a)
{
    char p[96];
    size_t i = fake.nroles++;
    snprintf(p, sizeof p, "security.auth.roles[%zu].name", i);
    cfg_str(p, name);
    snprintf(p, sizeof p, "security.auth.roles[%zu].can_read", i);
    cfg_bool(p, r);
    snprintf(p, sizeof p, "security.auth.roles[%zu].can_write", i);
    cfg_bool(p, w);
    snprintf(p, sizeof p, "security.auth.roles[%zu].is_admin", i);
    cfg_bool(p, a);
    cfg_count("security.auth.roles", fake.nroles);
}

/* roles: NULL (no roles key) or a NULL-terminated list. */
static void add_user(const char *name, const char *hash, const char *plain,
                     const char *const *roles)
{
    char p[96];
    size_t i = fake.nusers++;
    snprintf(p, sizeof p, "security.auth.users[%zu].username", i);
    cfg_str(p, name);
    if (hash != NULL) {
        snprintf(p, sizeof p, "security.auth.users[%zu].password_hash", i);
        cfg_str(p, hash);
    }
    if (plain != NULL) {
        snprintf(p, sizeof p, "security.auth.users[%zu].password_plain", i);
        cfg_str(p, plain);
    }
    if (roles != NULL) {
        size_t n = 0;
        for (; roles[n] != NULL; n++) {
            snprintf(p, sizeof p, "security.auth.users[%zu].roles[%zu]", i, n);
            cfg_str(p, roles[n]);
        }
        snprintf(p, sizeof p, "security.auth.users[%zu].roles", i);
        cfg_count(p, n);
    }
    cfg_count("security.auth.users", fake.nusers);
}

static void fake_reset(void)
{
    memset(&fake, 0, sizeof fake);
    /* Declared options always resolve, to their defaults when unset. */
    cfg_str(".method", "scram-sha-256");
    cfg_int(".scram_iterations", 4096);
}

static void fake_log(dc_host *h, int level, const char *fmt, ...)
{
    assert_ptr_equal(h, FAKE_HOST);
    assert_true(fake.nlog < FAKE_MAX_LOG);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(fake.log_line[fake.nlog], sizeof fake.log_line[0], fmt, ap);
    va_end(ap);
    fake.log_level[fake.nlog++] = level;
}

static int fake_get(dc_host *h, const char *path, int type, fake_kv **out)
{
    assert_ptr_equal(h, FAKE_HOST);
    fake_kv *kv = kv_find(path);
    if (kv == NULL)
        return DC_ENOTFOUND;
    if (kv->type != type)
        return DC_ETYPE;
    *out = kv;
    return DC_OK;
}

static int fake_config_string(dc_host *h, const char *path, const char **out)
{
    fake_kv *kv;
    int rc = fake_get(h, path, DC_CFG_STRING, &kv);
    if (rc == DC_OK)
        *out = kv->s;
    return rc;
}

static int fake_config_bool(dc_host *h, const char *path, bool *out)
{
    fake_kv *kv;
    int rc = fake_get(h, path, DC_CFG_BOOL, &kv);
    if (rc == DC_OK)
        *out = kv->b;
    return rc;
}

static int fake_config_int(dc_host *h, const char *path, int64_t *out)
{
    fake_kv *kv;
    int rc = fake_get(h, path, DC_CFG_INT, &kv);
    if (rc == DC_OK)
        *out = kv->i;
    return rc;
}

static int fake_config_count(dc_host *h, const char *path, size_t *out)
{
    fake_kv *kv;
    int rc = fake_get(h, path, DC_CFG_ARRAY, &kv);
    if (rc == DC_OK)
        *out = (size_t)kv->i;
    return rc;
}

static int metric_token;
#define FAKE_METRIC ((dc_metric *)&metric_token)

static int fake_metric_register(dc_host *h, const dc_metric_desc *d,
                                dc_metric **out, dc_error *err)
{
    (void)err;
    assert_ptr_equal(h, FAKE_HOST);
    assert_int_equal(d->type, DC_METRIC_COUNTER);
    assert_string_equal(d->name, "datacave_auth_attempts_total");
    assert_int_equal(d->nlabels, 1);
    assert_string_equal(d->label_names[0], "result");
    fake.metric_registrations++;
    *out = FAKE_METRIC;
    return DC_OK;
}

static dc_series *fake_metric_series(dc_metric *m, const char *const *labels)
{
    assert_ptr_equal(m, FAKE_METRIC);
    if (strcmp(labels[0], "ok") == 0)
        return (dc_series *)&fake.counts[0];
    assert_string_equal(labels[0], "fail");
    return (dc_series *)&fake.counts[1];
}

/* Called from conversation threads too: atomic, no cmocka asserts. */
static void fake_counter_add(dc_series *s, uint64_t delta)
{
    if (s != NULL)
        __atomic_fetch_add((uint64_t *)s, delta, __ATOMIC_RELAXED);
}

static const dc_host_api fake_api = {
    .size = (uint32_t)sizeof(dc_host_api),
    .abi_major = DC_ABI_MAJOR,
    .abi_minor = DC_ABI_MINOR,
    .host_version = "test",
    .log = fake_log,
    .config_string = fake_config_string,
    .config_int = fake_config_int,
    .config_bool = fake_config_bool,
    .config_count = fake_config_count,
    .metric_register = fake_metric_register,
    .metric_series = fake_metric_series,
    .counter_add = fake_counter_add,
};

/* ------------------------------------------------------------------------
 * Module helpers
 * ---------------------------------------------------------------------- */

static const dc_module_desc *desc(void)
{
    return datacave_module_password_v0();
}

static const dc_auth_vtable *vt(void)
{
    return desc()->vtable;
}

static void *init_ok(void)
{
    void *inst = NULL;
    dc_error err;
    dc_error_init(&err);
    int rc = desc()->init(FAKE_HOST, &fake_api, &inst, &err);
    if (rc != DC_OK)
        fail_msg("init failed: %s %s", err.sqlstate, err.message);
    assert_non_null(inst);
    return inst;
}

/* init() must fail with F0000 and a message containing `want`. */
static void init_fails(int status, const char *want)
{
    void *inst = (void *)&host_token;
    dc_error err;
    dc_error_init(&err);
    int rc = desc()->init(FAKE_HOST, &fake_api, &inst, &err);
    assert_int_equal(rc, status);
    assert_ptr_equal(inst, (void *)&host_token);
    assert_string_equal(err.sqlstate, "F0000");
    if (strstr(err.message, want) == NULL)
        fail_msg("message \"%s\" lacks \"%s\"", err.message, want);
}

static dc_auth_conv *begin(void *inst, const char *user)
{
    dc_auth_conv *c = NULL;
    dc_error err;
    dc_error_init(&err);
    assert_int_equal(vt()->begin(inst, user, "127.0.0.1", false, &c, &err),
                     DC_OK);
    assert_non_null(c);
    return c;
}

static int step(dc_auth_conv *c, const void *in, size_t len,
                dc_auth_step_out *out, dc_error *err)
{
    memset(out, 0, sizeof *out);
    out->size = (uint32_t)sizeof *out;
    out->request = 999;
    dc_error_init(err);
    return vt()->step(c, (const uint8_t *)in, len, out, err);
}

/* Begin for `user` and take the first step, which must make `request`. */
static dc_auth_conv *begin_expect(void *inst, const char *user,
                                  dc_auth_request request,
                                  dc_auth_step_out *out)
{
    dc_auth_conv *c = begin(inst, user);
    dc_error err;
    assert_int_equal(step(c, NULL, 0, out, &err), DC_OK);
    assert_int_equal(out->request, request);
    return c;
}

static void assert_login_failed(int rc, const dc_error *err, const char *user)
{
    char want[128];
    snprintf(want, sizeof want,
             "password authentication failed for user \"%s\"", user);
    assert_int_equal(rc, DC_EPERM);
    assert_int_equal(err->status, DC_EPERM);
    assert_string_equal(err->sqlstate, "28P01");
    assert_string_equal(err->message, want);
    assert_int_equal(err->severity, DC_SEV_FATAL);
    assert_string_equal(err->detail, "");
}

static void assert_identity(dc_auth_conv *c, const char *user, bool r, bool w,
                            bool a)
{
    dc_auth_identity id;
    memset(&id, 0x55, sizeof id);
    id.size = (uint32_t)sizeof id;
    assert_int_equal(vt()->identity(c, &id), DC_OK);
    assert_string_equal(id.user, user);
    assert_int_equal(id.can_read, r);
    assert_int_equal(id.can_write, w);
    assert_int_equal(id.is_admin, a);
}

/* ------------------------------------------------------------------------
 * An independent SCRAM-SHA-256 client
 * ---------------------------------------------------------------------- */

static size_t b64enc(const uint8_t *in, size_t n, char *out)
{
    return (size_t)EVP_EncodeBlock((unsigned char *)out, in, (int)n);
}

/* Decode standard padded base64; returns the byte count or -1. */
static int b64dec(const char *in, size_t n, uint8_t *out)
{
    if (n % 4 != 0)
        return -1;
    int len = EVP_DecodeBlock(out, (const unsigned char *)in, (int)n);
    if (len < 0)
        return -1;
    if (n >= 1 && in[n - 1] == '=')
        len--;
    if (n >= 2 && in[n - 2] == '=')
        len--;
    return len;
}

static void hmac(const uint8_t *key, size_t klen, const void *d, size_t n,
                 uint8_t out[32])
{
    unsigned int l = 0;
    HMAC(EVP_sha256(), key, (int)klen, d, n, out, &l);
}

static void sha(const void *d, size_t n, uint8_t out[32])
{
    unsigned int l = 0;
    EVP_Digest(d, n, out, &l, EVP_sha256(), NULL);
}

/* Keys of a password with this salt and count. */
static void client_keys(const char *pw, const uint8_t *salt, size_t slen,
                        int iter, uint8_t client_key[32], uint8_t stored[32],
                        uint8_t server_key[32])
{
    uint8_t salted[32];
    PKCS5_PBKDF2_HMAC(pw, (int)strlen(pw), salt, (int)slen, iter, EVP_sha256(),
                      32, salted);
    hmac(salted, 32, "Client Key", 10, client_key);
    sha(client_key, 32, stored);
    hmac(salted, 32, "Server Key", 10, server_key);
}

/* SASLInitialResponse body for `data` (NULL: no initial response). */
static size_t sasl_initial(const char *mech, const char *data, uint8_t *buf)
{
    size_t m = strlen(mech) + 1;
    memcpy(buf, mech, m);
    uint32_t n = data ? (uint32_t)strlen(data) : UINT32_MAX;
    buf[m] = (uint8_t)(n >> 24);
    buf[m + 1] = (uint8_t)(n >> 16);
    buf[m + 2] = (uint8_t)(n >> 8);
    buf[m + 3] = (uint8_t)n;
    if (data != NULL)
        memcpy(buf + m + 4, data, strlen(data));
    return m + 4 + (data ? strlen(data) : 0);
}

/* What a client saw of a SCRAM login. */
typedef struct scram_seen {
    char server_first[256];
    uint8_t salt[64];
    int salt_len;
    int iterations;
    bool signature_ok; /* server-final carried the right signature */
} scram_seen;

#define CLIENT_CONFUSED (-1000) /* the server said something unexpected */

/* Parse "r=...,s=...,i=..." into *seen; the nonce must start with cnonce. */
static bool parse_server_first(const char *sf, const char *cnonce, char *nonce,
                               scram_seen *seen)
{
    const char *s = strstr(sf, ",s=");
    const char *i = strstr(sf, ",i=");
    if (strncmp(sf, "r=", 2) != 0 || s == NULL || i == NULL || i < s ||
        strncmp(sf + 2, cnonce, strlen(cnonce)) != 0)
        return false;
    size_t nlen = (size_t)(s - sf - 2);
    memcpy(nonce, sf + 2, nlen);
    nonce[nlen] = '\0';
    seen->salt_len = b64dec(s + 3, (size_t)(i - s - 3), seen->salt);
    seen->iterations = atoi(i + 3);
    return seen->salt_len > 0 && seen->iterations > 0;
}

/* One whole SCRAM login as libpq does it: gs2 header `gs2` ("n,," or
 * "y,,"), empty user name in the message.  Returns the status of the
 * failing step (its error in *err) or DC_OK after the final DC_AUTH_OK,
 * or CLIENT_CONFUSED.  No cmocka assertions: usable from threads.  When
 * `c_out` is not NULL the conversation is left open there. */
static int scram_login_ex(void *inst, const char *user, const char *pw,
                          const char *gs2, dc_error *err, scram_seen *seen,
                          dc_auth_conv **c_out)
{
    const dc_auth_vtable *v = vt();
    dc_auth_conv *c = NULL;
    dc_auth_step_out out = {.size = (uint32_t)sizeof out};
    uint8_t buf[1024];
    char cnonce[32], nonce[128], bare[128], final[512], am[1024];
    int rc;

    memset(seen, 0, sizeof *seen);
    dc_error_init(err);
    rc = v->begin(inst, user, "10.0.0.1", false, &c, err);
    if (rc != DC_OK)
        return rc;
    rc = v->step(c, NULL, 0, &out, err);
    if (rc != DC_OK)
        goto done;
    if (out.request != DC_AUTH_SASL || out.len != 15 ||
        memcmp(out.data, "SCRAM-SHA-256\0\0", 15) != 0) {
        rc = CLIENT_CONFUSED;
        goto done;
    }
    uint8_t raw[18];
    if (RAND_bytes(raw, sizeof raw) != 1)
        return CLIENT_CONFUSED;
    b64enc(raw, sizeof raw, cnonce);
    snprintf(bare, sizeof bare, "n=,r=%s", cnonce);
    char first[160];
    snprintf(first, sizeof first, "%s%s", gs2, bare);
    rc = v->step(c, buf, sasl_initial("SCRAM-SHA-256", first, buf), &out, err);
    if (rc != DC_OK)
        goto done;
    if (out.request != DC_AUTH_SASL_CONTINUE ||
        out.len >= sizeof seen->server_first) {
        rc = CLIENT_CONFUSED;
        goto done;
    }
    memcpy(seen->server_first, out.data, out.len);
    seen->server_first[out.len] = '\0';
    if (!parse_server_first(seen->server_first, cnonce, nonce, seen)) {
        rc = CLIENT_CONFUSED;
        goto done;
    }
    uint8_t ck[32], sk[32], svk[32], sig[32], proof[32], ssig[32];
    client_keys(pw, seen->salt, (size_t)seen->salt_len, seen->iterations, ck,
                sk, svk);
    char cb[16];
    b64enc((const uint8_t *)gs2, strlen(gs2), cb);
    int flen = snprintf(final, sizeof final, "c=%s,r=%s", cb, nonce);
    int amlen =
        snprintf(am, sizeof am, "%s,%s,%s", bare, seen->server_first, final);
    hmac(sk, 32, am, (size_t)amlen, sig);
    for (int i = 0; i < 32; i++)
        proof[i] = ck[i] ^ sig[i];
    char p64[64];
    b64enc(proof, 32, p64);
    flen += snprintf(final + flen, sizeof final - (size_t)flen, ",p=%s", p64);
    rc = v->step(c, (const uint8_t *) final, (size_t)flen, &out, err);
    if (rc != DC_OK)
        goto done;
    hmac(svk, 32, am, (size_t)amlen, ssig);
    char v64[64] = "v=";
    b64enc(ssig, 32, v64 + 2);
    seen->signature_ok = out.request == DC_AUTH_SASL_FINAL &&
                         out.len == strlen(v64) &&
                         memcmp(out.data, v64, out.len) == 0;
    rc = v->step(c, NULL, 0, &out, err);
    if (rc == DC_OK && out.request != DC_AUTH_OK)
        rc = CLIENT_CONFUSED;
done:
    if (c_out != NULL)
        *c_out = c;
    else
        v->end(c);
    return rc;
}

static int scram_login(void *inst, const char *user, const char *pw,
                       dc_error *err, scram_seen *seen)
{
    return scram_login_ex(inst, user, pw, "n,,", err, seen, NULL);
}

/* Cleartext login; returns the password step's status. */
static int cleartext_login(void *inst, const char *user, const char *pw,
                           dc_error *err)
{
    dc_auth_step_out out;
    dc_auth_conv *c = begin_expect(inst, user, DC_AUTH_CLEARTEXT, &out);
    int rc = step(c, pw, strlen(pw) + 1, &out, err);
    if (rc == DC_OK)
        assert_int_equal(out.request, DC_AUTH_OK);
    vt()->end(c);
    return rc;
}

/* "md5" + hex(md5(a || b)) */
static void md5hex(const char *a, size_t alen, const void *b, size_t blen,
                   char out[36])
{
    uint8_t md[16];
    unsigned int l = 0;
    EVP_MD_CTX *x = EVP_MD_CTX_new();
    EVP_DigestInit_ex(x, EVP_md5(), NULL);
    EVP_DigestUpdate(x, a, alen);
    EVP_DigestUpdate(x, b, blen);
    EVP_DigestFinal_ex(x, md, &l);
    EVP_MD_CTX_free(x);
    strcpy(out, "md5");
    for (int i = 0; i < 16; i++)
        sprintf(out + 3 + 2 * i, "%02x", md[i]);
}

/* MD5 login as libpq answers it; the salt must be 4 bytes. */
static int md5_login(void *inst, const char *user, const char *pw,
                     dc_error *err, uint8_t salt_seen[4])
{
    dc_auth_step_out out;
    dc_auth_conv *c = begin_expect(inst, user, DC_AUTH_MD5, &out);
    assert_int_equal(out.len, 4);
    memcpy(salt_seen, out.data, 4);
    char inner[36], outer[36];
    md5hex(pw, strlen(pw), user, strlen(user), inner);
    md5hex(inner + 3, 32, salt_seen, 4, outer);
    int rc = step(c, outer, strlen(outer) + 1, &out, err);
    if (rc == DC_OK)
        assert_int_equal(out.request, DC_AUTH_OK);
    vt()->end(c);
    return rc;
}

/* A SCRAM secret for `pw`, made here (not by the module). */
static void make_verifier(const char *pw, char *out, size_t cap)
{
    uint8_t salt[16], ck[32], sk[32], svk[32];
    for (int i = 0; i < 16; i++)
        salt[i] = (uint8_t)(i * 7 + 3);
    client_keys(pw, salt, 16, 4096, ck, sk, svk);
    char s64[32], k1[64], k2[64];
    b64enc(salt, 16, s64);
    b64enc(sk, 32, k1);
    b64enc(svk, 32, k2);
    snprintf(out, cap, "SCRAM-SHA-256$4096:%s$%s:%s", s64, k1, k2);
}

/* The standard config: roles reader, writer, admin; users
 *   alice (SCRAM secret of "wonderland", reader+writer)
 *   bob   (password_plain "builder", admin)
 *   carol (MD5 hash of "carolpw", reader)   -- only for md5/password
 *   dave  (SCRAM secret of "dave", no roles)
 *   eve   (SCRAM secret of "eve", admin then reader) */
static void standard_config(const char *method, bool with_carol)
{
    fake_reset();
    cfg_str(".method", method);
    add_role("reader", true, false, false);
    add_role("writer", false, true, false);
    add_role("admin", true, true, true);
    char v[256];
    make_verifier("wonderland", v, sizeof v);
    static const char *const aw[] = {"reader", "writer", NULL};
    static const char *const ad[] = {"admin", NULL};
    static const char *const rd[] = {"reader", NULL};
    if (strcmp(method, "md5") != 0)
        add_user("alice", v, NULL, aw);
    add_user("bob", NULL, "builder", ad);
    if (with_carol) {
        char h[36];
        md5hex("carolpw", 7, "carol", 5, h);
        add_user("carol", h, NULL, rd);
    }
    if (strcmp(method, "md5") != 0) {
        make_verifier("dave", v, sizeof v);
        add_user("dave", v, NULL, NULL);
        /* Union in any order: a later role without a right keeps it. */
        static const char *const ar[] = {"admin", "reader", NULL};
        make_verifier("eve", v, sizeof v);
        add_user("eve", v, NULL, ar);
    }
}

static int teardown(void **state)
{
    desc()->shutdown(*state);
    return 0;
}

static int setup_scram(void **state)
{
    standard_config("scram-sha-256", false);
    *state = init_ok();
    return 0;
}

/* ------------------------------------------------------------------------
 * Tests: descriptor and SCRAM arithmetic
 * ---------------------------------------------------------------------- */

static void test_descriptor(void **state)
{
    (void)state;
    const dc_module_desc *d = desc();
    assert_int_equal(d->size, sizeof(dc_module_desc));
    assert_int_equal(d->magic, DC_MODULE_MAGIC);
    assert_int_equal(d->kind, DC_KIND_AUTH);
    assert_int_equal(d->kind_major, DC_AUTH_VTABLE_MAJOR);
    assert_int_equal(d->kind_minor, DC_AUTH_VTABLE_MINOR);
    assert_string_equal(d->name, "password");
    assert_int_equal(d->nconfig_keys, 2);
    assert_string_equal(d->config_keys[0].name, "method");
    assert_int_equal(d->config_keys[0].type, DC_CFG_STRING);
    assert_string_equal(d->config_keys[0].default_value, "\"scram-sha-256\"");
    assert_string_equal(d->config_keys[1].name, "scram_iterations");
    assert_int_equal(d->config_keys[1].type, DC_CFG_INT);
    assert_string_equal(d->config_keys[1].default_value, "4096");
    const dc_auth_vtable *v = d->vtable;
    assert_int_equal(v->size, sizeof(dc_auth_vtable));
    assert_non_null(v->begin);
    assert_non_null(v->step);
    assert_non_null(v->identity);
    assert_non_null(v->end);
    assert_non_null(v->hash_password);
}

/* RFC 7677 section 3: user "user", password "pencil". */
static void test_rfc7677_vector(void **state)
{
    (void)state;
    static const char salt64[] = "W22ZaJ0SNY7soEsUEjb6gQ==";
    static const char cfirst[] = "n,,n=user,r=rOprNGfwEbeRWgbNEkqO";
    static const char sfirst[] =
        "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
        "s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
    static const char cfinal[] =
        "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
        "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";
    static const char sfinal[] =
        "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=";

    uint8_t salt[32];
    size_t slen = 0;
    assert_true(
        scram_b64_decode(salt64, strlen(salt64), salt, sizeof salt, &slen));
    assert_int_equal(slen, 16);
    scram_secret s;
    dc_error err;
    dc_error_init(&err);
    assert_int_equal(scram_secret_make("pencil", 6, salt, slen, 4096, &s, &err),
                     DC_OK);

    /* The secret round-trips through its stored form. */
    char text[SCRAM_SECRET_TEXT_MAX];
    assert_int_equal(scram_secret_format(&s, text, sizeof text), DC_OK);
    assert_memory_equal(text, "SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$",
                        44);
    scram_secret back;
    assert_true(scram_secret_parse(text, &back));
    assert_memory_equal(&back, &s, sizeof s);

    scram_exchange x;
    scram_exchange_init(&x, &s, false);
    const char *reply = NULL;
    size_t rlen = 0;
    assert_int_equal(scram_client_first(&x, cfirst, strlen(cfirst),
                                        "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0",
                                        &reply, &rlen, &err),
                     DC_OK);
    assert_int_equal(rlen, strlen(sfirst));
    assert_memory_equal(reply, sfirst, rlen);
    assert_int_equal(
        scram_client_final(&x, cfinal, strlen(cfinal), &reply, &rlen, &err),
        DC_OK);
    assert_int_equal(rlen, strlen(sfinal));
    assert_memory_equal(reply, sfinal, rlen);
    assert_int_equal(x.state, SCRAM_DONE);
    scram_exchange_free(&x);

    /* One bit off in the proof: refused, error left for the caller. */
    char bad[sizeof cfinal];
    memcpy(bad, cfinal, sizeof cfinal);
    bad[strlen(bad) - 3] = bad[strlen(bad) - 3] == 'Q' ? 'R' : 'Q';
    scram_exchange_init(&x, &s, false);
    assert_int_equal(scram_client_first(&x, cfirst, strlen(cfirst),
                                        "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0",
                                        &reply, &rlen, &err),
                     DC_OK);
    dc_error_init(&err);
    assert_int_equal(
        scram_client_final(&x, bad, strlen(bad), &reply, &rlen, &err),
        DC_EPERM);
    assert_false(dc_error_isset(&err));
    scram_exchange_free(&x);

    /* A doomed exchange refuses even the right proof. */
    scram_exchange_init(&x, &s, true);
    assert_int_equal(scram_client_first(&x, cfirst, strlen(cfirst),
                                        "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0",
                                        &reply, &rlen, &err),
                     DC_OK);
    assert_int_equal(
        scram_client_final(&x, cfinal, strlen(cfinal), &reply, &rlen, &err),
        DC_EPERM);
    scram_exchange_free(&x);
}

static void test_b64_and_secret_parse(void **state)
{
    (void)state;
    uint8_t out[16];
    size_t n = 0;
    char text[32];
    /* Round trips of every length 0..10. */
    for (size_t len = 0; len <= 10; len++) {
        uint8_t in[10];
        for (size_t i = 0; i < len; i++)
            in[i] = (uint8_t)(0xf0 + i * 37);
        size_t tl = scram_b64_encode(in, len, text);
        assert_int_equal(tl, scram_b64_len(len));
        char ref[32];
        assert_int_equal(b64enc(in, len, ref), tl);
        assert_string_equal(text, ref);
        assert_true(scram_b64_decode(text, tl, out, sizeof out, &n));
        assert_int_equal(n, len);
        assert_memory_equal(out, in, len);
    }
    static const char *const bad[] = {"abc",  "ab=c",     "a===",    "=abc",
                                      "ab!d", "ab==abcd", "abc=abcd"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_false(
            scram_b64_decode(bad[i], strlen(bad[i]), out, sizeof out, &n));
    assert_false(scram_b64_decode("AAAAAAAA", 8, out, 5, &n)); /* too long */

    scram_secret s;
    char good[256];
    make_verifier("x", good, sizeof good);
    assert_true(scram_secret_parse(good, &s));
    assert_int_equal(s.iterations, 4096);
    assert_int_equal(s.salt_len, 16);
    static const char *const bads[] = {
        "",
        "md5abc",
        "SCRAM-SHA-256$",
        "SCRAM-SHA-256$0:AAAA$AAAA:AAAA",
        "SCRAM-SHA-256$-1:AAAA$x:y",
        "SCRAM-SHA-256$4096:$AAAA:AAAA",
        "SCRAM-SHA-256$4096:AAAA$AAAA:AAAA",        /* keys too short */
        "SCRAM-SHA-256$99999999999:AAAA$AAAA:AAAA", /* count too big */
        "SCRAM-SHA-1$4096:AAAA$AAAA:AAAA"};
    for (size_t i = 0; i < sizeof bads / sizeof bads[0]; i++)
        assert_false(scram_secret_parse(bads[i], &s));
    /* The good one with a key cut short or extended. */
    char cut[300];
    snprintf(cut, sizeof cut, "%.*s", (int)strlen(good) - 4, good);
    assert_false(scram_secret_parse(cut, &s));
    snprintf(cut, sizeof cut, "%sAAAA", good);
    assert_false(scram_secret_parse(cut, &s));
}

/* ------------------------------------------------------------------------
 * Tests: init
 * ---------------------------------------------------------------------- */

static void test_init_empty_and_plain_warning(void **state)
{
    (void)state;
    fake_reset();
    void *inst = init_ok();
    assert_int_equal(fake.nlog, 1);
    assert_int_equal(fake.log_level[0], DC_LOG_INFO);
    assert_string_equal(fake.log_line[0], "0 users, method scram-sha-256");
    desc()->shutdown(inst);

    standard_config("scram-sha-256", false);
    inst = init_ok();
    /* One warning, for bob's password_plain, at warn level. */
    int warns = 0;
    for (int i = 0; i < fake.nlog; i++)
        if (fake.log_level[i] == DC_LOG_WARN) {
            warns++;
            assert_non_null(strstr(fake.log_line[i], "user \"bob\""));
            assert_non_null(strstr(fake.log_line[i], "password_plain"));
        }
    assert_int_equal(warns, 1);
    desc()->shutdown(inst);

    /* enabled = false is told in the log line. */
    fake_reset();
    cfg_bool("security.auth.enabled", false);
    inst = init_ok();
    assert_non_null(strstr(fake.log_line[0], "disabled"));
    desc()->shutdown(inst);
}

static void test_init_refusals(void **state)
{
    (void)state;
    char v[256];
    make_verifier("pw", v, sizeof v);

    fake_reset();
    cfg_str(".method", "sha1");
    init_fails(DC_EINVAL, "method \"sha1\" is not one of");

    fake_reset();
    cfg_int(".scram_iterations", 0);
    init_fails(DC_ERANGE, "scram_iterations");

    /* md5 with only a SCRAM secret: names the user. */
    fake_reset();
    cfg_str(".method", "md5");
    add_user("erin", v, NULL, NULL);
    init_fails(DC_EINVAL, "user \"erin\": the md5 method needs");

    /* scram with only an MD5 hash. */
    fake_reset();
    add_user("frank",
             "md5"
             "0123456789abcdef0123456789abcdef",
             NULL, NULL);
    init_fails(DC_EINVAL, "user \"frank\": the scram-sha-256 method needs");

    fake_reset();
    add_user("gina", v, "plain", NULL);
    init_fails(DC_EINVAL, "sets both password_hash and password_plain");

    fake_reset();
    add_user("hank", NULL, NULL, NULL);
    init_fails(DC_EINVAL, "user \"hank\" has no password_hash");

    fake_reset();
    add_user("ivan", "SCRAM-SHA-256$4096:nope", NULL, NULL);
    init_fails(DC_EINVAL, "password_hash of user \"ivan\" is neither");

    fake_reset();
    add_user("jack", "md5XYZ", NULL, NULL);
    init_fails(DC_EINVAL, "password_hash of user \"jack\" is neither");

    fake_reset();
    static const char *const ghost[] = {"ghost", NULL};
    add_user("kate", v, NULL, ghost);
    init_fails(DC_EINVAL, "role \"ghost\" of user \"kate\" is not defined");

    fake_reset();
    add_user("lee", v, NULL, NULL);
    add_user("lee", v, NULL, NULL);
    init_fails(DC_EINVAL, "user \"lee\" is defined twice");

    fake_reset();
    add_role("r", true, false, false);
    add_role("r", true, false, false);
    init_fails(DC_EINVAL, "role \"r\" is defined twice");

    fake_reset();
    add_user("", v, NULL, NULL);
    init_fails(DC_EINVAL, "users[0].username is not set");

    char longname[80];
    memset(longname, 'n', 64);
    longname[64] = '\0';
    fake_reset();
    add_user(longname, v, NULL, NULL);
    init_fails(DC_EINVAL, "longer than 63 bytes");

    /* Trust needs no password at all. */
    fake_reset();
    cfg_str(".method", "trust");
    add_user("mia", NULL, NULL, NULL);
    desc()->shutdown(init_ok());
}

/* ------------------------------------------------------------------------
 * Tests: SCRAM logins
 * ---------------------------------------------------------------------- */

static void test_scram_login_and_roles(void **state)
{
    void *inst = *state;
    dc_error err;
    scram_seen seen;
    dc_auth_conv *c = NULL;

    /* alice: SCRAM secret, reader + writer. */
    assert_int_equal(
        scram_login_ex(inst, "alice", "wonderland", "n,,", &err, &seen, &c),
        DC_OK);
    assert_true(seen.signature_ok);
    assert_int_equal(seen.iterations, 4096);
    assert_int_equal(seen.salt_len, 16);
    assert_identity(c, "alice", true, true, false);
    vt()->end(c);

    /* bob: password_plain, admin; "y,," header works too. */
    assert_int_equal(
        scram_login_ex(inst, "bob", "builder", "y,,", &err, &seen, &c), DC_OK);
    assert_true(seen.signature_ok);
    assert_identity(c, "bob", true, true, true);
    vt()->end(c);

    /* dave: no roles, no rights. */
    assert_int_equal(
        scram_login_ex(inst, "dave", "dave", "n,,", &err, &seen, &c), DC_OK);
    assert_identity(c, "dave", false, false, false);
    vt()->end(c);

    /* eve: admin + reader, in that order: everything. */
    assert_int_equal(scram_login_ex(inst, "eve", "eve", "n,,", &err, &seen, &c),
                     DC_OK);
    assert_identity(c, "eve", true, true, true);
    /* Finished: one more step is out of order. */
    dc_auth_step_out out;
    assert_int_equal(step(c, NULL, 0, &out, &err), DC_EINVAL);
    assert_string_equal(err.sqlstate, "08P01");
    assert_identity(c, "eve", true, true, true); /* still good */
    vt()->end(c);
}

/* Each finished attempt is counted once, as ok or fail; abandoned
 * conversations and steps after the end count nothing. */
static void test_attempt_metric(void **state)
{
    void *inst = *state;
    dc_error err;
    scram_seen seen;
    assert_int_equal(fake.metric_registrations, 1);
    assert_int_equal(scram_login(inst, "alice", "wonderland", &err, &seen),
                     DC_OK);
    assert_int_equal(scram_login(inst, "alice", "no", &err, &seen), DC_EPERM);
    assert_int_equal(scram_login(inst, "nemo", "no", &err, &seen), DC_EPERM);
    assert_int_equal(fake.counts[0], 1);
    assert_int_equal(fake.counts[1], 2);

    dc_auth_step_out out;
    dc_auth_conv *c = begin_expect(inst, "alice", DC_AUTH_SASL, &out);
    vt()->end(c); /* abandoned */
    c = begin_expect(inst, "alice", DC_AUTH_SASL, &out);
    assert_int_equal(step(c, "junk", 4, &out, &err), DC_EINVAL);
    assert_int_equal(step(c, "junk", 4, &out, &err), DC_EINVAL);
    vt()->end(c);
    assert_int_equal(fake.counts[0], 1);
    assert_int_equal(fake.counts[1], 3);
}

/* A wrong password and an unknown user look alike: same status, SQLSTATE,
 * severity and message; an unknown user even gets a stable salt. */
static void test_scram_failures_look_alike(void **state)
{
    void *inst = *state;
    dc_error e1, e2;
    scram_seen s1, s2, s3;
    dc_auth_conv *c = NULL;

    int r1 = scram_login_ex(inst, "alice", "wrong", "n,,", &e1, &s1, &c);
    assert_login_failed(r1, &e1, "alice");
    dc_auth_identity id = {.size = (uint32_t)sizeof id};
    assert_int_equal(vt()->identity(c, &id), DC_EINVAL);
    dc_auth_step_out out;
    assert_int_equal(step(c, NULL, 0, &out, &e2), DC_EINVAL);
    vt()->end(c);

    /* Unknown user, with the password of a real one. */
    int r2 = scram_login(inst, "alicf", "wonderland", &e2, &s2);
    assert_login_failed(r2, &e2, "alicf");
    assert_int_equal(s2.iterations, s1.iterations);
    assert_int_equal(s2.salt_len, s1.salt_len);

    /* Same unknown user again: same salt; another: another salt. */
    assert_login_failed(scram_login(inst, "alicf", "x", &e2, &s3), &e2,
                        "alicf");
    assert_int_equal(s3.salt_len, s2.salt_len);
    assert_memory_equal(s3.salt, s2.salt, (size_t)s2.salt_len);
    assert_login_failed(scram_login(inst, "zed", "x", &e2, &s3), &e2, "zed");
    assert_memory_not_equal(s3.salt, s2.salt, (size_t)s2.salt_len);

    /* A real user's salt is stable too (what the stored secret says). */
    assert_login_failed(scram_login(inst, "alice", "wrong2", &e2, &s3), &e2,
                        "alice");
    assert_memory_equal(s3.salt, s1.salt, (size_t)s1.salt_len);

    /* Error objects identical apart from the name. */
    assert_int_equal(scram_login(inst, "nobody", "wonderland", &e1, &s1),
                     DC_EPERM);
    standard_config("scram-sha-256", false);
    add_user("nobody",
             "SCRAM-SHA-256$4096:AAAAAAAAAAAAAAAAAAAAAA==$"
             "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=:"
             "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
             NULL, NULL);
    void *inst2 = init_ok();
    assert_int_equal(scram_login(inst2, "nobody", "wonderland", &e2, &s2),
                     DC_EPERM);
    desc()->shutdown(inst2);
    assert_memory_equal(&e1, &e2, sizeof e1);

    /* A name too long for a role name is just unknown. */
    char longname[200];
    memset(longname, 'q', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    char cut[64];
    memcpy(cut, longname, 63);
    cut[63] = '\0';
    assert_login_failed(scram_login(inst, longname, "x", &e1, &s1), &e1, cut);
}

/* Feed `first` (a client-first-message) then, when it passes, `final`
 * built by fmt with the combined nonce; expect `status` and `sqlstate`
 * from the step that fails. */
static void scram_expect(void *inst, const char *first, const char *final_fmt,
                         int status, const char *sqlstate)
{
    dc_auth_step_out out;
    dc_error err;
    uint8_t buf[4096];
    dc_auth_conv *c = begin_expect(inst, "alice", DC_AUTH_SASL, &out);
    int rc =
        step(c, buf, sasl_initial("SCRAM-SHA-256", first, buf), &out, &err);
    if (final_fmt != NULL) {
        assert_int_equal(rc, DC_OK);
        assert_int_equal(out.request, DC_AUTH_SASL_CONTINUE);
        char sf[256], nonce[256], msg[1024];
        memcpy(sf, out.data, out.len);
        sf[out.len] = '\0';
        *strstr(sf, ",s=") = '\0';
        snprintf(nonce, sizeof nonce, "%s", sf + 2);
        snprintf(msg, sizeof msg, final_fmt, nonce);
        rc = step(c, msg, strlen(msg), &out, &err);
    }
    if (rc != status)
        fail_msg("first \"%s\" final \"%s\": rc %d, want %d (%s)", first,
                 final_fmt ? final_fmt : "", rc, status, err.message);
    assert_string_equal(err.sqlstate, sqlstate);
    assert_int_equal(err.severity, DC_SEV_FATAL);
    assert_int_equal(out.request, 999); /* untouched on failure */
    dc_auth_identity id = {.size = (uint32_t)sizeof id};
    assert_int_equal(vt()->identity(c, &id), DC_EINVAL);
    assert_int_equal(step(c, "x", 1, &out, &err), DC_EINVAL);
    vt()->end(c);
}

static void test_scram_malformed(void **state)
{
    void *inst = *state;
    static const char P[] = "p=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
    char fmt[256];

    /* client-first-message */
    scram_expect(inst, "p=tls-server-end-point,,n=,r=abc", NULL, DC_EINVAL,
                 "08P01");
    scram_expect(inst, "x,,n=,r=abc", NULL, DC_EINVAL, "08P01");
    scram_expect(inst, "n,a=bob,n=,r=abc", NULL, DC_EUNSUPPORTED, "0A000");
    scram_expect(inst, "n,,m=ext,n=,r=abc", NULL, DC_EUNSUPPORTED, "0A000");
    scram_expect(inst, "n,,r=abc", NULL, DC_EINVAL, "08P01");
    scram_expect(inst, "n,,n=", NULL, DC_EINVAL, "08P01");
    scram_expect(inst, "n,,n=,r=", NULL, DC_EINVAL, "08P01");
    scram_expect(inst, "n,,n=,r=a b", NULL, DC_EINVAL, "08P01");
    scram_expect(inst, "n,,n=,r=abc,", NULL, DC_EINVAL, "08P01");
    scram_expect(inst, "n,,n=,r=abc,1=x", NULL, DC_EINVAL, "08P01");
    scram_expect(inst, "n", NULL, DC_EINVAL, "08P01");
    scram_expect(inst, "n,", NULL, DC_EINVAL, "08P01");
    scram_expect(inst, "", NULL, DC_EINVAL, "08P01");

    /* client-final-message */
    scram_expect(inst, "n,,n=,r=abc", "c=biws,r=%s", DC_EINVAL, "08P01");
    snprintf(fmt, sizeof fmt, "c=eSws,r=%%s,%s", P); /* "y,," for "n,," */
    scram_expect(inst, "n,,n=,r=abc", fmt, DC_EINVAL, "08P01");
    snprintf(fmt, sizeof fmt, "c=biws,r=%%sX,%s", P); /* nonce differs */
    scram_expect(inst, "n,,n=,r=abc", fmt, DC_EINVAL, "08P01");
    snprintf(fmt, sizeof fmt, "c=bi,r=%%s,%s", P);
    scram_expect(inst, "n,,n=,r=abc", fmt, DC_EINVAL, "08P01");
    scram_expect(inst, "n,,n=,r=abc", "c=biws,r=%s,p=AAAA", DC_EINVAL, "08P01");
    scram_expect(inst, "n,,n=,r=abc", "c=biws,r=%s,p=!!!!", DC_EINVAL, "08P01");
    snprintf(fmt, sizeof fmt, "c=biws,r=%%s,%s,x=1", P); /* p not last */
    scram_expect(inst, "n,,n=,r=abc", fmt, DC_EINVAL, "08P01");
    snprintf(fmt, sizeof fmt, "r=%%s,c=biws,%s", P);
    scram_expect(inst, "n,,n=,r=abc", fmt, DC_EINVAL, "08P01");
    /* An extension before p is ignored: the wrong proof then fails. */
    snprintf(fmt, sizeof fmt, "c=biws,r=%%s,x=1,%s", P);
    scram_expect(inst, "n,,n=,r=abc", fmt, DC_EPERM, "28P01");

    /* Framing of SASLInitialResponse. */
    dc_auth_step_out out;
    dc_error err;
    static const struct {
        const char *body;
        size_t len;
    } frames[] = {
        {"SCRAM-SHA-256-PLUS\0\0\0\0\0", 23}, /* mechanism not offered */
        {"SCRAM-SHA-1\0\0\0\0\0", 16},
        {"SCRAM-SHA-256", 13},                /* no NUL */
        {"SCRAM-SHA-256\0\0\0", 16},          /* length cut */
        {"SCRAM-SHA-256\0\0\0\0\x05n,,", 21}, /* length > data */
        {"SCRAM-SHA-256\0\0\0\0\x01n,,", 21}, /* length < data */
        {"SCRAM-SHA-256\0\xff\xff\xff\xff"
         "ab",
         20}, /* -1 with data */
        {NULL, 0},
    };
    for (size_t i = 0; i < sizeof frames / sizeof frames[0]; i++) {
        dc_auth_conv *c = begin_expect(inst, "alice", DC_AUTH_SASL, &out);
        assert_int_equal(step(c, frames[i].body, frames[i].len, &out, &err),
                         DC_EINVAL);
        assert_string_equal(err.sqlstate, "08P01");
        assert_int_equal(err.severity, DC_SEV_FATAL);
        vt()->end(c);
    }

    /* NUL inside the client-first-message. */
    uint8_t buf[64];
    dc_auth_conv *c = begin_expect(inst, "alice", DC_AUTH_SASL, &out);
    size_t n = sasl_initial("SCRAM-SHA-256", "n,,n=,r=abcd", buf);
    buf[n - 2] = '\0';
    assert_int_equal(step(c, buf, n, &out, &err), DC_EINVAL);
    assert_string_equal(err.sqlstate, "08P01");
    vt()->end(c);
}

/* A SASLInitialResponse without data (length -1) gets an empty
 * SASLContinue; the client-first-message comes in the next message. */
static void test_scram_split_initial(void **state)
{
    void *inst = *state;
    dc_auth_step_out out;
    dc_error err;
    uint8_t buf[256];
    dc_auth_conv *c = begin_expect(inst, "alice", DC_AUTH_SASL, &out);
    assert_int_equal(
        step(c, buf, sasl_initial("SCRAM-SHA-256", NULL, buf), &out, &err),
        DC_OK);
    assert_int_equal(out.request, DC_AUTH_SASL_CONTINUE);
    assert_int_equal(out.len, 0);
    static const char first[] = "n,,n=alice,r=fyko+d2lbbFgONRv9qkxdawL";
    assert_int_equal(step(c, first, strlen(first), &out, &err), DC_OK);
    assert_int_equal(out.request, DC_AUTH_SASL_CONTINUE);
    assert_memory_equal(out.data, "r=fyko+d2lbbFgONRv9qkxdawL", 26);
    vt()->end(c); /* abandoned midway: nothing leaks */
}

/* ------------------------------------------------------------------------
 * Tests: MD5, cleartext, trust
 * ---------------------------------------------------------------------- */

static void test_md5(void **state)
{
    (void)state;
    standard_config("md5", true);
    void *inst = init_ok();
    dc_error err;
    uint8_t s1[4], s2[4];

    assert_int_equal(md5_login(inst, "bob", "builder", &err, s1), DC_OK);
    assert_int_equal(md5_login(inst, "carol", "carolpw", &err, s2), DC_OK);
    /* Salts are random per login (equal by chance once in 2^32). */
    assert_memory_not_equal(s1, s2, 4);

    dc_auth_step_out out;
    dc_auth_conv *c = begin_expect(inst, "carol", DC_AUTH_MD5, &out);
    char inner[36], outer[36];
    md5hex("carolpw", 7, "carol", 5, inner);
    md5hex(inner + 3, 32, out.data, 4, outer);
    assert_int_equal(step(c, outer, 36, &out, &err), DC_OK);
    assert_identity(c, "carol", true, false, false);
    vt()->end(c);

    dc_error e1, e2;
    assert_login_failed(md5_login(inst, "carol", "wrong", &e1, s1), &e1,
                        "carol");
    assert_login_failed(md5_login(inst, "nemo", "carolpw", &e2, s1), &e2,
                        "nemo");

    /* Malformed answers. */
    static const struct {
        const char *m;
        size_t len;
    } bad[] = {{"md5abc", 6}, {"md5\0abc", 8}, {"", 0}, {NULL, 0}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        c = begin_expect(inst, "bob", DC_AUTH_MD5, &out);
        assert_int_equal(step(c, bad[i].m, bad[i].len, &out, &err), DC_EINVAL);
        assert_string_equal(err.sqlstate, "08P01");
        assert_string_equal(err.message, "invalid password packet size");
        vt()->end(c);
    }
    /* Well-formed but not an MD5 answer: a failed login. */
    c = begin_expect(inst, "bob", DC_AUTH_MD5, &out);
    assert_login_failed(step(c, "builder", 8, &out, &err), &err, "bob");
    vt()->end(c);
    desc()->shutdown(inst);
}

static void test_cleartext(void **state)
{
    (void)state;
    standard_config("password", true);
    void *inst = init_ok();
    dc_error err;
    assert_int_equal(cleartext_login(inst, "alice", "wonderland", &err), DC_OK);
    assert_int_equal(cleartext_login(inst, "bob", "builder", &err), DC_OK);
    assert_int_equal(cleartext_login(inst, "carol", "carolpw", &err), DC_OK);
    assert_int_equal(cleartext_login(inst, "dave", "dave", &err), DC_OK);

    static const struct {
        const char *user, *pw;
    } fails[] = {{"alice", "wonderlan"}, {"alice", "wonderland!"},
                 {"alice", ""},          {"bob", "Builder"},
                 {"carol", "carolpw "},  {"nemo", "wonderland"},
                 {"", "builder"}};
    for (size_t i = 0; i < sizeof fails / sizeof fails[0]; i++)
        assert_login_failed(
            cleartext_login(inst, fails[i].user, fails[i].pw, &err), &err,
            fails[i].user);

    dc_auth_step_out out;
    dc_auth_conv *c = begin_expect(inst, "bob", DC_AUTH_CLEARTEXT, &out);
    assert_int_equal(step(c, "builder", 7, &out, &err), DC_EINVAL);
    assert_string_equal(err.sqlstate, "08P01");
    assert_int_equal(err.severity, DC_SEV_FATAL);
    vt()->end(c);

    c = begin_expect(inst, "bob", DC_AUTH_CLEARTEXT, &out);
    assert_int_equal(step(c, "builder", 8, &out, &err), DC_OK);
    assert_identity(c, "bob", true, true, true);
    vt()->end(c);
    desc()->shutdown(inst);
}

static void test_trust(void **state)
{
    (void)state;
    standard_config("trust", true);
    void *inst = init_ok();
    dc_auth_step_out out;
    dc_error err;
    dc_auth_conv *c = begin_expect(inst, "carol", DC_AUTH_OK, &out);
    assert_identity(c, "carol", true, false, false);
    vt()->end(c);

    c = begin(inst, "nemo");
    assert_int_equal(step(c, NULL, 0, &out, &err), DC_EPERM);
    assert_string_equal(err.sqlstate, "28000");
    assert_string_equal(err.message, "role \"nemo\" does not exist");
    assert_int_equal(err.severity, DC_SEV_FATAL);
    vt()->end(c);
    desc()->shutdown(inst);
}

/* ------------------------------------------------------------------------
 * Tests: hash_password, misuse, threads
 * ---------------------------------------------------------------------- */

static void test_hash_password(void **state)
{
    void *inst = *state;
    dc_error err;
    char h1[256], h2[256];
    dc_error_init(&err);
    assert_int_equal(
        vt()->hash_password(inst, "s3cret pw", h1, sizeof h1, &err), DC_OK);
    assert_int_equal(
        vt()->hash_password(inst, "s3cret pw", h2, sizeof h2, &err), DC_OK);
    assert_string_not_equal(h1, h2); /* random salts */

    /* Parsed back here, independently: the keys derive from the password. */
    unsigned iter = 0;
    char salt64[64], stored64[64], server64[64];
    assert_int_equal(sscanf(h1, "SCRAM-SHA-256$%u:%63[^$]$%63[^:]:%63s", &iter,
                            salt64, stored64, server64),
                     4);
    assert_int_equal(iter, 4096);
    uint8_t salt[64], stored[64], server[64], ck[32], sk[32], svk[32];
    assert_int_equal(b64dec(salt64, strlen(salt64), salt), 16);
    assert_int_equal(b64dec(stored64, strlen(stored64), stored), 32);
    assert_int_equal(b64dec(server64, strlen(server64), server), 32);
    client_keys("s3cret pw", salt, 16, 4096, ck, sk, svk);
    assert_memory_equal(sk, stored, 32);
    assert_memory_equal(svk, server, 32);

    /* And through the module's own parser and checker. */
    scram_secret s;
    bool match = false;
    assert_true(scram_secret_parse(h1, &s));
    assert_int_equal(scram_password_check(&s, "s3cret pw", 9, &match, &err),
                     DC_OK);
    assert_true(match);
    assert_int_equal(scram_password_check(&s, "s3cret pW", 9, &match, &err),
                     DC_OK);
    assert_false(match);

    /* Too small a buffer; an empty password. */
    char small[40];
    assert_int_equal(vt()->hash_password(inst, "x", small, sizeof small, &err),
                     DC_ERANGE);
    assert_int_equal(vt()->hash_password(inst, "", h1, sizeof h1, &err),
                     DC_EINVAL);

    /* A user configured with the output logs in. */
    standard_config("scram-sha-256", false);
    add_user("hugo", h2, NULL, NULL);
    void *inst2 = init_ok();
    scram_seen seen;
    assert_int_equal(scram_login(inst2, "hugo", "s3cret pw", &err, &seen),
                     DC_OK);
    assert_true(seen.signature_ok);
    desc()->shutdown(inst2);

    /* A secret made by PostgreSQL 15 (CREATE ROLE ... PASSWORD 'pg-made
     * secret', then pg_authid.rolpassword) works as is. */
    standard_config("scram-sha-256", false);
    add_user("pguser",
             "SCRAM-SHA-256$4096:sR5L0K9W9uTfh5QkKs/zIw==$J1ax8Hj+z8n0aWJiS8wi"
             "7zNzXG3sn6H9ExfddwIq7ho=:UGohHtogfFkgNTVKUC45cPpfcFWDdNufaCX3Wek"
             "F4Lk=",
             NULL, NULL);
    inst2 = init_ok();
    assert_int_equal(
        scram_login(inst2, "pguser", "pg-made secret", &err, &seen), DC_OK);
    assert_true(seen.signature_ok);
    assert_login_failed(
        scram_login(inst2, "pguser", "pg-made secreT", &err, &seen), &err,
        "pguser");
    desc()->shutdown(inst2);

    /* scram_iterations applies to new secrets. */
    fake_reset();
    cfg_int(".scram_iterations", 1000);
    inst2 = init_ok();
    assert_int_equal(vt()->hash_password(inst2, "p", h1, sizeof h1, &err),
                     DC_OK);
    assert_memory_equal(h1, "SCRAM-SHA-256$1000:", 19);
    desc()->shutdown(inst2);
}

static void test_misuse(void **state)
{
    void *inst = *state;
    dc_error err;
    dc_auth_conv *c = NULL;
    dc_error_init(&err);
    assert_int_equal(vt()->begin(inst, NULL, "", false, &c, &err), DC_EINVAL);
    assert_null(c);

    /* Input on the first step. */
    dc_auth_step_out out;
    c = begin(inst, "alice");
    assert_int_equal(step(c, "x", 1, &out, &err), DC_EINVAL);
    assert_string_equal(err.sqlstate, "08P01");
    vt()->end(c);

    /* An output struct too small. */
    c = begin(inst, "alice");
    dc_auth_step_out small = {.size = 4};
    assert_int_equal(vt()->step(c, NULL, 0, &small, &err), DC_EINVAL);
    dc_auth_identity id = {.size = (uint32_t)sizeof id};
    assert_int_equal(vt()->identity(c, &id), DC_EINVAL);
    vt()->end(c);
    vt()->end(NULL);
}

#define NTHREADS 8
#define NLOGINS  6

typedef struct thread_arg {
    void *inst;
    int index;
    int ok, failed, other;
} thread_arg;

static void *login_thread(void *p)
{
    thread_arg *a = p;
    for (int i = 0; i < NLOGINS; i++) {
        dc_error err;
        scram_seen seen;
        bool good = (a->index + i) % 2 == 0;
        int rc = scram_login(a->inst, good ? "alice" : "bob",
                             good ? "wonderland" : "wrong", &err, &seen);
        if (rc == DC_OK && good && seen.signature_ok)
            a->ok++;
        else if (rc == DC_EPERM && !good && strcmp(err.sqlstate, "28P01") == 0)
            a->failed++;
        else
            a->other++;
    }
    return NULL;
}

/* Conversations on many threads at once against one instance. */
static void test_threads(void **state)
{
    pthread_t t[NTHREADS];
    thread_arg a[NTHREADS];
    for (int i = 0; i < NTHREADS; i++) {
        a[i] = (thread_arg){.inst = *state, .index = i};
        assert_int_equal(pthread_create(&t[i], NULL, login_thread, &a[i]), 0);
    }
    int ok = 0, failed = 0;
    for (int i = 0; i < NTHREADS; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(a[i].other, 0);
        ok += a[i].ok;
        failed += a[i].failed;
    }
    assert_int_equal(ok, NTHREADS * NLOGINS / 2);
    assert_int_equal(failed, NTHREADS * NLOGINS / 2);
    assert_int_equal(fake.counts[0], NTHREADS * NLOGINS / 2);
    assert_int_equal(fake.counts[1], NTHREADS * NLOGINS / 2);
}

/* ------------------------------------------------------------------------
 * libpq as the client
 * ---------------------------------------------------------------------- */

typedef struct pg_server {
    void *inst;
    int listen_fd;
    char dir[64];
    int port;
    /* Results, read by the test after join. */
    int rc; /* status of the conversation's last call */
    dc_error err;
    dc_auth_identity id;
} pg_server;

static bool read_full(int fd, void *buf, size_t n)
{
    uint8_t *p = buf;
    while (n > 0) {
        ssize_t r = read(fd, p, n);
        if (r <= 0)
            return false;
        p += r;
        n -= (size_t)r;
    }
    return true;
}

static bool write_full(int fd, const void *buf, size_t n)
{
    const uint8_t *p = buf;
    while (n > 0) {
        ssize_t r = write(fd, p, n);
        if (r <= 0)
            return false;
        p += r;
        n -= (size_t)r;
    }
    return true;
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
           p[3];
}

/* Send one message: type byte, length, body. */
static bool send_msg(int fd, char type, const void *body, size_t len)
{
    uint8_t hdr[5];
    hdr[0] = (uint8_t)type;
    put32(hdr + 1, (uint32_t)(len + 4));
    return write_full(fd, hdr, 5) && (len == 0 || write_full(fd, body, len));
}

static bool send_auth(int fd, const dc_auth_step_out *out)
{
    uint8_t body[1024];
    if (out->len + 4 > sizeof body)
        return false;
    put32(body, out->request);
    if (out->len > 0)
        memcpy(body + 4, out->data, out->len);
    return send_msg(fd, 'R', body, 4 + out->len);
}

static void send_error(int fd, const dc_error *err)
{
    char body[1200];
    int n = snprintf(body, sizeof body, "SFATAL%cVFATAL%cC%s%cM%s%c", 0, 0,
                     err->sqlstate, 0, err->message, 0);
    body[n++] = '\0';
    send_msg(fd, 'E', body, (size_t)n);
}

/* Serve one connection: startup packet, then the conversation. */
static void serve_one(pg_server *s, int fd)
{
    uint8_t buf[4096];
    s->rc = CLIENT_CONFUSED;
    if (!read_full(fd, buf, 4))
        return;
    uint32_t len = get32(buf);
    if (len < 8 || len > sizeof buf || !read_full(fd, buf + 4, len - 4) ||
        get32(buf + 4) != 196608u)
        return;
    buf[len - 1] = '\0';
    const char *user = NULL;
    for (const char *k = (const char *)buf + 8; *k != '\0';) {
        const char *v = k + strlen(k) + 1;
        if (strcmp(k, "user") == 0)
            user = v;
        k = v + strlen(v) + 1;
    }
    if (user == NULL)
        return;
    dc_auth_conv *c = NULL;
    dc_error_init(&s->err);
    s->rc = vt()->begin(s->inst, user, "local", false, &c, &s->err);
    if (s->rc != DC_OK)
        return;
    dc_auth_step_out out = {.size = (uint32_t)sizeof out};
    const uint8_t *in = NULL;
    size_t inlen = 0;
    for (;;) {
        s->rc = vt()->step(c, in, inlen, &out, &s->err);
        if (s->rc != DC_OK) {
            send_error(fd, &s->err);
            break;
        }
        if (!send_auth(fd, &out)) {
            s->rc = CLIENT_CONFUSED;
            break;
        }
        if (out.request == DC_AUTH_OK) {
            s->id.size = (uint32_t)sizeof s->id;
            s->rc = vt()->identity(c, &s->id);
            send_msg(fd, 'Z', "I", 1);
            while (read(fd, buf, sizeof buf) > 0) /* until Terminate/EOF */
                ;
            break;
        }
        if (out.request == DC_AUTH_SASL_FINAL) {
            in = NULL;
            inlen = 0;
            continue;
        }
        uint8_t hdr[5];
        if (!read_full(fd, hdr, 5) || hdr[0] != 'p' || get32(hdr + 1) < 4 ||
            get32(hdr + 1) - 4 > sizeof buf ||
            !read_full(fd, buf, get32(hdr + 1) - 4)) {
            s->rc = CLIENT_CONFUSED;
            break;
        }
        in = buf;
        inlen = get32(hdr + 1) - 4;
    }
    vt()->end(c);
}

static void *server_thread(void *p)
{
    pg_server *s = p;
    int fd = accept(s->listen_fd, NULL, NULL);
    if (fd < 0) {
        s->rc = CLIENT_CONFUSED;
        return NULL;
    }
    struct timeval tv = {.tv_sec = 10};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    serve_one(s, fd);
    close(fd);
    return NULL;
}

/* Connect with libpq as user/password to a one-connection server running
 * the module instance.  Returns whether libpq reached CONNECTION_OK;
 * *srv gets the server side's view, `msg` libpq's error message. */
static bool libpq_login(void *inst, const char *user, const char *password,
                        pg_server *srv, char *msg, size_t msgcap)
{
    memset(srv, 0, sizeof *srv);
    srv->inst = inst;
    srv->port = 5000 + (int)(getpid() % 1000);
    snprintf(srv->dir, sizeof srv->dir, "/tmp/dcpw.XXXXXX");
    assert_non_null(mkdtemp(srv->dir));
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s/.s.PGSQL.%d", srv->dir,
             srv->port);
    srv->listen_fd = socket(AF_UNIX, SOCK_STREAM, 0);
    assert_true(srv->listen_fd >= 0);
    assert_int_equal(bind(srv->listen_fd, (struct sockaddr *)&sa, sizeof sa),
                     0);
    assert_int_equal(listen(srv->listen_fd, 1), 0);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, server_thread, srv), 0);

    char conninfo[512];
    snprintf(conninfo, sizeof conninfo,
             "host=%s port=%d user=%s password=%s dbname=db "
             "connect_timeout=10 gssencmode=disable sslmode=disable",
             srv->dir, srv->port, user, password);
    PGconn *conn = PQconnectdb(conninfo);
    bool ok = PQstatus(conn) == CONNECTION_OK;
    snprintf(msg, msgcap, "%s", PQerrorMessage(conn));
    PQfinish(conn);
    pthread_join(t, NULL);
    close(srv->listen_fd);
    unlink(sa.sun_path);
    rmdir(srv->dir);
    return ok;
}

static void test_libpq_scram(void **state)
{
    void *inst = *state;
    pg_server srv;
    char msg[512];
    assert_true(
        libpq_login(inst, "alice", "wonderland", &srv, msg, sizeof msg));
    assert_int_equal(srv.rc, DC_OK);
    assert_string_equal(srv.id.user, "alice");
    assert_true(srv.id.can_read);
    assert_true(srv.id.can_write);
    assert_false(srv.id.is_admin);

    assert_true(libpq_login(inst, "bob", "builder", &srv, msg, sizeof msg));
    assert_true(srv.id.is_admin);

    /* Wrong password and unknown user: libpq sees the same FATAL. */
    assert_false(libpq_login(inst, "alice", "nope", &srv, msg, sizeof msg));
    assert_login_failed(srv.rc, &srv.err, "alice");
    assert_non_null(strstr(msg, "password authentication failed for user "
                                "\"alice\""));
    assert_false(
        libpq_login(inst, "nemo", "wonderland", &srv, msg, sizeof msg));
    assert_login_failed(srv.rc, &srv.err, "nemo");
    assert_non_null(strstr(msg, "password authentication failed for user "
                                "\"nemo\""));
}

static void test_libpq_md5_and_cleartext(void **state)
{
    (void)state;
    pg_server srv;
    char msg[512];
    standard_config("md5", true);
    void *inst = init_ok();
    assert_true(libpq_login(inst, "carol", "carolpw", &srv, msg, sizeof msg));
    assert_int_equal(srv.rc, DC_OK);
    assert_false(libpq_login(inst, "carol", "x", &srv, msg, sizeof msg));
    assert_login_failed(srv.rc, &srv.err, "carol");
    desc()->shutdown(inst);

    standard_config("password", true);
    inst = init_ok();
    assert_true(
        libpq_login(inst, "alice", "wonderland", &srv, msg, sizeof msg));
    assert_true(libpq_login(inst, "carol", "carolpw", &srv, msg, sizeof msg));
    assert_false(libpq_login(inst, "alice", "x", &srv, msg, sizeof msg));
    assert_login_failed(srv.rc, &srv.err, "alice");
    desc()->shutdown(inst);
}

/* Mutated client messages (bytes flipped, cut, extended) at every step:
 * each answer is a success or one of the documented errors, never a crash
 * (the sanitizer build checks memory). */
static void test_mutated_messages(void **state)
{
    void *inst = *state;
    uint32_t seed = 12345;
    static const char first[] = "n,,n=,r=QWERTYUIOPasdfghjkl123";
    for (int round = 0; round < 3000; round++) {
        dc_auth_step_out out;
        dc_error err;
        uint8_t buf[512];
        dc_auth_conv *c = begin_expect(inst, round % 3 ? "alice" : "nemo",
                                       DC_AUTH_SASL, &out);
        size_t n = sasl_initial("SCRAM-SHA-256", first, buf);
        bool mutate_first = round % 2 == 0;
        uint8_t *msg = buf;
        if (!mutate_first) {
            int rc = step(c, buf, n, &out, &err);
            assert_int_equal(rc, DC_OK);
            char sf[256];
            memcpy(sf, out.data, out.len);
            sf[out.len] = '\0';
            *strstr(sf, ",s=") = '\0';
            n = (size_t)snprintf((char *)buf, sizeof buf,
                                 "c=biws,r=%s,p=dHzbZapWIk4jUhN+Ute9ytag9zjfM"
                                 "Hgsqmmiz7AndVQ=",
                                 sf + 2);
        }
        /* 1..4 mutations: flip a byte, cut, or append. */
        int muts = 1 + (int)((seed = seed * 1103515245u + 12345u) >> 16) % 4;
        for (int m = 0; m < muts; m++) {
            seed = seed * 1103515245u + 12345u;
            uint32_t r = seed >> 8;
            switch (r % 3) {
            case 0:
                if (n > 0)
                    msg[(r >> 2) % n] ^= (uint8_t)(1u << ((r >> 12) % 8));
                break;
            case 1:
                if (n > 0)
                    n = (r >> 2) % n;
                break;
            default:
                if (n + 1 < sizeof buf)
                    msg[n++] = (uint8_t)(r >> 4);
                break;
            }
        }
        int rc = step(c, msg, n, &out, &err);
        if (rc == DC_OK && out.request == DC_AUTH_SASL_CONTINUE && n > 0 &&
            mutate_first) {
            /* The mutated first message still parsed: finish with junk. */
            rc = step(c, "c=biws,r=x,p=AAAA", 17, &out, &err);
        }
        if (rc != DC_OK) {
            assert_true(rc == DC_EINVAL || rc == DC_EPERM ||
                        rc == DC_EUNSUPPORTED);
            assert_int_equal(err.severity, DC_SEV_FATAL);
            assert_true(strcmp(err.sqlstate, "08P01") == 0 ||
                        strcmp(err.sqlstate, "28P01") == 0 ||
                        strcmp(err.sqlstate, "0A000") == 0);
        }
        vt()->end(c);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_descriptor),
        cmocka_unit_test(test_rfc7677_vector),
        cmocka_unit_test(test_b64_and_secret_parse),
        cmocka_unit_test(test_init_empty_and_plain_warning),
        cmocka_unit_test(test_init_refusals),
        cmocka_unit_test_setup_teardown(test_scram_login_and_roles, setup_scram,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_scram_failures_look_alike,
                                        setup_scram, teardown),
        cmocka_unit_test_setup_teardown(test_attempt_metric, setup_scram,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_scram_malformed, setup_scram,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_scram_split_initial, setup_scram,
                                        teardown),
        cmocka_unit_test(test_md5),
        cmocka_unit_test(test_cleartext),
        cmocka_unit_test(test_trust),
        cmocka_unit_test_setup_teardown(test_hash_password, setup_scram,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_misuse, setup_scram, teardown),
        cmocka_unit_test_setup_teardown(test_threads, setup_scram, teardown),
        cmocka_unit_test_setup_teardown(test_libpq_scram, setup_scram,
                                        teardown),
        cmocka_unit_test(test_libpq_md5_and_cleartext),
        cmocka_unit_test_setup_teardown(test_mutated_messages, setup_scram,
                                        teardown),
    };
    return cmocka_run_group_tests_name("password", tests, NULL, NULL);
}
