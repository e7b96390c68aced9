/*
 * aesgcm.c - the `aes-gcm` encryption module: AES-256-GCM through
 * OpenSSL's EVP interface (aesgcm.h says how keys, key ids and nonces are
 * made; docs/security.md says how to configure and rotate keys).
 *
 * Configuration, read at init ([storage]):
 *   encryption_enabled = true            required with this module
 *   exactly one of encryption_key_base64, encryption_key_file,
 *     encryption_key_env                 the current key
 *   encryption_retired_keys = [{ key_file = "..." }, ...]
 *                                        older keys, read only; each with
 *                                        exactly one of key_base64,
 *                                        key_file, key_env
 *   encryption_allow_plaintext = false   accept files written in the clear
 * Anything missing, malformed or of the wrong length stops the server at
 * start with a message naming the option; the module never falls back to
 * storing data in the clear.
 */
#include "aes-gcm/aesgcm.h"

#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "datacave/encryption.h"
#include "datacave/module.h"

/* Cipher contexts kept per key and direction.  More threads than this at
 * once make (and free) a context of their own. */
#define AGC_POOL 16
/* EVP takes int lengths: longer inputs go through in pieces. */
#define AGC_CHUNK (1 << 30)

typedef struct agc_pool {
    pthread_mutex_t mu;
    EVP_CIPHER_CTX *ctx[AGC_POOL];
    int n;
} agc_pool;

typedef struct agc_keyent {
    uint32_t id;
    uint8_t aes[AGC_KEY_BYTES];
    char source[AGC_SOURCE_MAX];
    agc_pool seal, open;
} agc_keyent;

struct agc {
    EVP_CIPHER *cipher;
    agc_keyent *keys; /* [0]: the current key */
    size_t nkeys;
    bool allow_plaintext;
    uint8_t prefix[4];          /* nonce bytes 0..3, random per instance */
    _Atomic uint64_t counter;   /* nonce bytes 4..11, from a random start */
};

/* ---- contexts ----------------------------------------------------------- */

static void pool_init(agc_pool *p)
{
    pthread_mutex_init(&p->mu, NULL);
    p->n = 0;
}

static void pool_destroy(agc_pool *p)
{
    while (p->n > 0)
        EVP_CIPHER_CTX_free(p->ctx[--p->n]);
    pthread_mutex_destroy(&p->mu);
}

/* A context keyed with k for sealing (enc) or opening; NULL when OpenSSL
 * fails.  The key schedule is made once per context. */
static EVP_CIPHER_CTX *ctx_get(const agc *a, agc_keyent *k, bool enc)
{
    agc_pool *p = enc ? &k->seal : &k->open;
    EVP_CIPHER_CTX *c = NULL;
    pthread_mutex_lock(&p->mu);
    if (p->n > 0)
        c = p->ctx[--p->n];
    pthread_mutex_unlock(&p->mu);
    if (c != NULL)
        return c;
    c = EVP_CIPHER_CTX_new();
    if (c == NULL)
        return NULL;
    int ok = enc ? EVP_EncryptInit_ex2(c, a->cipher, k->aes, NULL, NULL)
                 : EVP_DecryptInit_ex2(c, a->cipher, k->aes, NULL, NULL);
    if (ok != 1) {
        EVP_CIPHER_CTX_free(c);
        return NULL;
    }
    return c;
}

/* Give a context back (or free it: after a failure its state is unknown). */
static void ctx_put(agc_keyent *k, bool enc, EVP_CIPHER_CTX *c, bool ok)
{
    agc_pool *p = enc ? &k->seal : &k->open;
    if (ok) {
        pthread_mutex_lock(&p->mu);
        if (p->n < AGC_POOL) {
            p->ctx[p->n++] = c;
            c = NULL;
        }
        pthread_mutex_unlock(&p->mu);
    }
    EVP_CIPHER_CTX_free(c);
}

/* ---- the instance ------------------------------------------------------- */

static agc_keyent *key_find(const agc *a, uint32_t id)
{
    for (size_t i = 0; i < a->nkeys; i++)
        if (a->keys[i].id == id)
            return &a->keys[i];
    return NULL;
}

static int openssl_error(dc_error *err, const char *what)
{
    return dc_error_set(err, DC_ERR, DC_SQLSTATE_INTERNAL,
                        "aes-gcm: OpenSSL failed to %s", what);
}

int agc_new(const agc_key_spec *keys, size_t n, bool allow_plaintext,
            agc **out, dc_error *err)
{
    if (n == 0)
        return dc_error_set(err, DC_EINVAL, DC_SQLSTATE_CONFIG,
                            "aes-gcm: no key");
    agc *a = calloc(1, sizeof *a);
    agc_keyent *ks = calloc(n, sizeof *ks);
    if (a == NULL || ks == NULL) {
        free(a);
        free(ks);
        return dc_error_set(err, DC_ENOMEM, DC_SQLSTATE_OOM,
                            "aes-gcm: out of memory");
    }
    a->keys = ks;
    a->allow_plaintext = allow_plaintext;
    int rc = DC_OK;
    for (size_t i = 0; i < n; i++) {
        pool_init(&ks[i].seal);
        pool_init(&ks[i].open);
        a->nkeys = i + 1;
        snprintf(ks[i].source, sizeof ks[i].source, "%s", keys[i].source);
        if (!agc_derive(keys[i].master, &ks[i].id, ks[i].aes)) {
            rc = openssl_error(err, "derive a key (HMAC-SHA-256)");
            goto fail;
        }
        for (size_t j = 0; j < i; j++) {
            if (ks[j].id == ks[i].id) {
                bool same = CRYPTO_memcmp(ks[j].aes, ks[i].aes,
                                          AGC_KEY_BYTES) == 0;
                rc = dc_error_set(err, DC_EINVAL, DC_SQLSTATE_CONFIG,
                                  same ? "%s and %s are the same key (key id "
                                         "%08x): give each key once"
                                       : "%s and %s are different keys with "
                                         "the same key id %08x: replace one",
                                  ks[j].source, ks[i].source, ks[i].id);
                goto fail;
            }
        }
    }
    a->cipher = EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL);
    if (a->cipher == NULL) {
        rc = openssl_error(err, "provide AES-256-GCM");
        goto fail;
    }
    uint64_t start = 0;
    if (RAND_bytes(a->prefix, sizeof a->prefix) != 1 ||
        RAND_bytes((uint8_t *)&start, sizeof start) != 1) {
        rc = openssl_error(err, "draw random bytes for nonces");
        goto fail;
    }
    atomic_init(&a->counter, start);
    /* Make one context per key and direction now: a failure shows at
     * start, not at the first write. */
    for (size_t i = 0; i < n; i++) {
        for (int enc = 0; enc < 2; enc++) {
            EVP_CIPHER_CTX *c = ctx_get(a, &ks[i], enc);
            if (c == NULL) {
                rc = openssl_error(err, "set up an AES-256-GCM context");
                goto fail;
            }
            ctx_put(&ks[i], enc, c, true);
        }
    }
    *out = a;
    return DC_OK;
fail:
    agc_free(a);
    return rc;
}

void agc_free(agc *a)
{
    if (a == NULL)
        return;
    for (size_t i = 0; i < a->nkeys; i++) {
        pool_destroy(&a->keys[i].seal);
        pool_destroy(&a->keys[i].open);
    }
    if (a->keys != NULL)
        OPENSSL_cleanse(a->keys, a->nkeys * sizeof *a->keys);
    free(a->keys);
    EVP_CIPHER_free(a->cipher);
    free(a);
}

uint32_t agc_current_key_id(const agc *a)
{
    return a->keys[0].id;
}

size_t agc_nkeys(const agc *a)
{
    return a->nkeys;
}

uint32_t agc_key_id_at(const agc *a, size_t i)
{
    return i < a->nkeys ? a->keys[i].id : 0;
}

const char *agc_source_at(const agc *a, size_t i)
{
    return i < a->nkeys ? a->keys[i].source : "";
}

/* "current key id 1a2b3c4d; retired key ids 5e6f7a8b, ..." into buf. */
static void describe_keys(const agc *a, char *buf, size_t cap)
{
    int w = snprintf(buf, cap, "the current key id is %08x; ", a->keys[0].id);
    size_t pos = w > 0 && (size_t)w < cap ? (size_t)w : cap - 1;
    if (a->nkeys == 1) {
        snprintf(buf + pos, cap - pos, "no retired key is configured");
        return;
    }
    w = snprintf(buf + pos, cap - pos, "retired key ids:");
    pos += w > 0 && (size_t)w < cap - pos ? (size_t)w : 0;
    for (size_t i = 1; i < a->nkeys && pos + 1 < cap; i++) {
        w = snprintf(buf + pos, cap - pos, "%s %08x", i > 1 ? "," : "",
                     a->keys[i].id);
        if (w < 0 || (size_t)w >= cap - pos)
            break;
        pos += (size_t)w;
    }
}

int agc_check_key(const agc *a, uint32_t key_id, dc_error *err)
{
    if (key_id == 0) {
        if (a->allow_plaintext)
            return DC_OK;
        dc_error_set(err, DC_EPERM, DC_SQLSTATE_CONFIG,
                     "stored in the clear, and [storage] "
                     "encryption_allow_plaintext is false");
        dc_error_hint(err, "to encrypt a store written without encryption, "
                           "start once with encryption_allow_plaintext = "
                           "true and let compaction rewrite its files "
                           "(docs/security.md)");
        return DC_EPERM;
    }
    if (key_find(a, key_id) != NULL)
        return DC_OK;
    char keys[256];
    describe_keys(a, keys, sizeof keys);
    dc_error_set(err, DC_ENOTFOUND, DC_SQLSTATE_CONFIG,
                 "sealed under key id %08x, which is not configured (%s)",
                 key_id, keys);
    dc_error_hint(err, "start with the key this data was encrypted with, as "
                       "the current key or in [storage] "
                       "encryption_retired_keys");
    return DC_ENOTFOUND;
}

static int unknown_key(dc_error *err, uint32_t key_id)
{
    return dc_error_set(err, DC_ENOTFOUND, DC_SQLSTATE_CONFIG,
                        "aes-gcm: key id %08x is not configured", key_id);
}

int agc_seal(agc *a, uint32_t key_id, const uint8_t *aad, size_t aad_len,
             const uint8_t *in, size_t len, uint8_t *out, size_t out_cap,
             size_t *out_len, dc_error *err)
{
    agc_keyent *k = key_find(a, key_id);
    if (k == NULL)
        return unknown_key(err, key_id);
    if (out_cap < AGC_OVERHEAD || out_cap - AGC_OVERHEAD < len)
        return dc_error_set(err, DC_EINVAL, DC_SQLSTATE_INTERNAL,
                            "aes-gcm: output buffer of %zu bytes, %zu needed",
                            out_cap, len + AGC_OVERHEAD);
    if (aad_len > INT_MAX)
        return dc_error_set(err, DC_EINVAL, DC_SQLSTATE_INTERNAL,
                            "aes-gcm: %zu bytes of additional data", aad_len);
    uint8_t *nonce = out, *ct = out + AGC_NONCE_BYTES, *tag = ct + len;
    uint64_t c = atomic_fetch_add_explicit(&a->counter, 1,
                                           memory_order_relaxed);
    memcpy(nonce, a->prefix, 4);
    for (int i = 0; i < 8; i++)
        nonce[4 + i] = (uint8_t)(c >> (8 * i));
    EVP_CIPHER_CTX *ctx = ctx_get(a, k, true);
    if (ctx == NULL)
        return openssl_error(err, "set up an AES-256-GCM context");
    int l = 0;
    bool ok = EVP_EncryptInit_ex2(ctx, NULL, NULL, nonce, NULL) == 1 &&
              (aad_len == 0 ||
               EVP_EncryptUpdate(ctx, NULL, &l, aad, (int)aad_len) == 1);
    for (size_t done = 0; ok && done < len;) {
        size_t n = len - done < AGC_CHUNK ? len - done : AGC_CHUNK;
        ok = EVP_EncryptUpdate(ctx, ct + done, &l, in + done, (int)n) == 1 &&
             (size_t)l == n;
        done += n;
    }
    ok = ok && EVP_EncryptFinal_ex(ctx, tag, &l) == 1 && l == 0 &&
         EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, AGC_TAG_BYTES, tag) ==
             1;
    ctx_put(k, true, ctx, ok);
    if (!ok) {
        OPENSSL_cleanse(out, len + AGC_OVERHEAD);
        return openssl_error(err, "seal with AES-256-GCM");
    }
    *out_len = len + AGC_OVERHEAD;
    return DC_OK;
}

int agc_open(agc *a, uint32_t key_id, const uint8_t *aad, size_t aad_len,
             const uint8_t *in, size_t len, uint8_t *out, size_t out_cap,
             size_t *out_len, dc_error *err)
{
    agc_keyent *k = key_find(a, key_id);
    if (k == NULL)
        return unknown_key(err, key_id);
    if (len < AGC_OVERHEAD)
        return dc_error_set(err, DC_ECORRUPT, DC_SQLSTATE_CORRUPT,
                            "aes-gcm: sealed data of %zu bytes is shorter "
                            "than its nonce and tag (%d bytes)",
                            len, AGC_OVERHEAD);
    size_t n = len - AGC_OVERHEAD;
    if (out_cap < n)
        return dc_error_set(err, DC_EINVAL, DC_SQLSTATE_INTERNAL,
                            "aes-gcm: output buffer of %zu bytes, %zu needed",
                            out_cap, n);
    if (aad_len > INT_MAX)
        return dc_error_set(err, DC_EINVAL, DC_SQLSTATE_INTERNAL,
                            "aes-gcm: %zu bytes of additional data", aad_len);
    const uint8_t *nonce = in, *ct = in + AGC_NONCE_BYTES;
    uint8_t tag[AGC_TAG_BYTES];
    memcpy(tag, ct + n, AGC_TAG_BYTES);
    EVP_CIPHER_CTX *ctx = ctx_get(a, k, false);
    if (ctx == NULL)
        return openssl_error(err, "set up an AES-256-GCM context");
    int l = 0;
    bool ok = EVP_DecryptInit_ex2(ctx, NULL, NULL, nonce, NULL) == 1 &&
              (aad_len == 0 ||
               EVP_DecryptUpdate(ctx, NULL, &l, aad, (int)aad_len) == 1);
    for (size_t done = 0; ok && done < n;) {
        size_t m = n - done < AGC_CHUNK ? n - done : AGC_CHUNK;
        ok = EVP_DecryptUpdate(ctx, out + done, &l, ct + done, (int)m) == 1 &&
             (size_t)l == m;
        done += m;
    }
    ok = ok && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, AGC_TAG_BYTES,
                                   tag) == 1;
    if (!ok) {
        ctx_put(k, false, ctx, false);
        OPENSSL_cleanse(out, n);
        return openssl_error(err, "open with AES-256-GCM");
    }
    /* The tag check: a failure is damage or tampering (or data sealed with
     * other additional data), never an OpenSSL malfunction. */
    uint8_t fin[16];
    bool auth = EVP_DecryptFinal_ex(ctx, fin, &l) == 1;
    ctx_put(k, false, ctx, true);
    if (!auth) {
        OPENSSL_cleanse(out, n);
        return dc_error_set(err, DC_ECORRUPT, DC_SQLSTATE_CORRUPT,
                            "aes-gcm: authentication failed under key id "
                            "%08x: the data was changed or moved",
                            key_id);
    }
    *out_len = n;
    return DC_OK;
}

/* ---- the module --------------------------------------------------------- */

typedef struct agc_module {
    dc_host *host;
    const dc_host_api *api;
    agc *a;
} agc_module;

static size_t m_overhead(void *instance)
{
    (void)instance;
    return AGC_OVERHEAD;
}

static uint32_t m_current_key_id(void *instance)
{
    return agc_current_key_id(((agc_module *)instance)->a);
}

static int m_seal(void *instance, uint32_t key_id, const uint8_t *aad,
                  size_t aad_len, const uint8_t *in, size_t len, uint8_t *out,
                  size_t out_cap, size_t *out_len, dc_error *err)
{
    return agc_seal(((agc_module *)instance)->a, key_id, aad, aad_len, in, len,
                    out, out_cap, out_len, err);
}

static int m_open(void *instance, uint32_t key_id, const uint8_t *aad,
                  size_t aad_len, const uint8_t *in, size_t len, uint8_t *out,
                  size_t out_cap, size_t *out_len, dc_error *err)
{
    return agc_open(((agc_module *)instance)->a, key_id, aad, aad_len, in, len,
                    out, out_cap, out_len, err);
}

static int m_check_key(void *instance, uint32_t key_id, dc_error *err)
{
    return agc_check_key(((agc_module *)instance)->a, key_id, err);
}

/* Read one key whose options are `path` + "_base64" / "_file" / "_env"
 * (shown as `shown` + the same suffixes; `where` names the table and
 * `name` the options' common prefix in the message when none is set) into
 * *spec.  Exactly one of the three must be set. */
static int read_key(agc_module *m, const char *path, const char *shown,
                    const char *where, const char *name, agc_key_spec *spec,
                    dc_error *err)
{
    static const char *const suffix[3] = {"_base64", "_file", "_env"};
    const char *val[3] = {NULL, NULL, NULL};
    int set = 0, which = -1;
    for (int i = 0; i < 3; i++) {
        char p[160];
        snprintf(p, sizeof p, "%s%s", path, suffix[i]);
        const char *v = NULL;
        int rc = m->api->config_string(m->host, p, &v);
        if (rc == DC_OK) {
            val[i] = v;
            if (set++ == 0)
                which = i;
        } else if (rc != DC_ENOTFOUND) {
            return dc_error_set(err, DC_EINVAL, DC_SQLSTATE_CONFIG,
                                "%s%s: cannot read the option (%s)", shown,
                                suffix[i], dc_status_name(rc));
        }
    }
    if (set == 0) {
        dc_error_set(err, DC_EINVAL, DC_SQLSTATE_CONFIG,
                     "%s: no key given: set one of %s_base64, %s_file or "
                     "%s_env",
                     where, name, name, name);
        dc_error_hint(err, "make a key with: openssl rand -base64 32 > "
                           "datacave.key; chmod 600 datacave.key");
        return DC_EINVAL;
    }
    if (set > 1) {
        int other = -1;
        for (int i = which + 1; i < 3 && other < 0; i++)
            if (val[i] != NULL)
                other = i;
        return dc_error_set(err, DC_EINVAL, DC_SQLSTATE_CONFIG,
                            "%s%s and %s%s are both set: give the key from "
                            "exactly one source",
                            shown, suffix[which], shown, suffix[other]);
    }
    char what[96];
    snprintf(what, sizeof what, "%.80s%s", shown, suffix[which]);
    int rc;
    if (which == 0) {
        rc = agc_key_from_text(val[0], strlen(val[0]), what, spec->master,
                               err);
        snprintf(spec->source, sizeof spec->source, "%s", what);
    } else if (which == 1) {
        const char *f = val[1];
        char full[4096];
        const char *dir = m->api->config_dir(m->host);
        if (f[0] != '/' && dir != NULL && f[0] != '\0') {
            snprintf(full, sizeof full, "%s/%s", dir, f);
            f = full;
        }
        if (f[0] == '\0')
            return dc_error_set(err, DC_EINVAL, DC_SQLSTATE_CONFIG,
                                "%s: the path is empty", what);
        rc = agc_key_from_file(f, what, spec->master, err);
        snprintf(spec->source, sizeof spec->source, "%s \"%.300s\"", what, f);
    } else {
        rc = agc_key_from_env(val[2], what, spec->master, err);
        snprintf(spec->source, sizeof spec->source, "%s %.300s", what, val[2]);
    }
    return rc;
}

static int m_init(dc_host *host, const dc_host_api *api, void **instance,
                  dc_error *err)
{
    agc_module *m = calloc(1, sizeof *m);
    if (m == NULL)
        return dc_error_set(err, DC_ENOMEM, DC_SQLSTATE_OOM,
                            "aes-gcm: out of memory");
    m->host = host;
    m->api = api;
    bool enabled = false;
    if (api->config_bool(host, "storage.encryption_enabled", &enabled) !=
            DC_OK ||
        !enabled) {
        free(m);
        dc_error_set(err, DC_EINVAL, DC_SQLSTATE_CONFIG,
                     "[modules] encryption is 'aes-gcm', but [storage] "
                     "encryption_enabled is not true");
        dc_error_hint(err, "set encryption_enabled = true and a key, or "
                           "[modules] encryption = \"none\"");
        return DC_EINVAL;
    }
    size_t nretired = 0;
    int rc = api->config_count(host, "storage.encryption_retired_keys",
                               &nretired);
    if (rc == DC_ENOTFOUND) {
        nretired = 0;
    } else if (rc != DC_OK) {
        free(m);
        return dc_error_set(err, DC_EINVAL, DC_SQLSTATE_CONFIG,
                            "[storage] encryption_retired_keys: cannot read "
                            "the option (%s)",
                            dc_status_name(rc));
    }
    if (nretired > 1000) {
        free(m);
        return dc_error_set(err, DC_EINVAL, DC_SQLSTATE_CONFIG,
                            "[storage] encryption_retired_keys: %zu keys, at "
                            "most 1000",
                            nretired);
    }
    agc_key_spec *specs = calloc(nretired + 1, sizeof *specs);
    if (specs == NULL) {
        free(m);
        return dc_error_set(err, DC_ENOMEM, DC_SQLSTATE_OOM,
                            "aes-gcm: out of memory");
    }
    rc = read_key(m, "storage.encryption_key", "[storage] encryption_key",
                  "[storage]", "encryption_key", &specs[0], err);
    for (size_t i = 0; rc == DC_OK && i < nretired; i++) {
        char path[96], shown[96], where[96];
        snprintf(path, sizeof path, "storage.encryption_retired_keys[%zu].key",
                 i);
        snprintf(shown, sizeof shown,
                 "[storage] encryption_retired_keys[%zu].key", i);
        snprintf(where, sizeof where, "[storage] encryption_retired_keys[%zu]",
                 i);
        rc = read_key(m, path, shown, where, "key", &specs[i + 1], err);
    }
    bool plain = false;
    if (rc == DC_OK &&
        api->config_bool(host, "storage.encryption_allow_plaintext", &plain) !=
            DC_OK)
        plain = false;
    if (rc == DC_OK)
        rc = agc_new(specs, nretired + 1, plain, &m->a, err);
    OPENSSL_cleanse(specs, (nretired + 1) * sizeof *specs);
    free(specs);
    if (rc != DC_OK) {
        free(m);
        return rc;
    }
    api->log(host, DC_LOG_INFO,
             "AES-256-GCM encryption at rest: current key id %08x (%s)",
             agc_key_id_at(m->a, 0), agc_source_at(m->a, 0));
    for (size_t i = 1; i < agc_nkeys(m->a); i++)
        api->log(host, DC_LOG_INFO, "retired key id %08x (%s): read only",
                 agc_key_id_at(m->a, i), agc_source_at(m->a, i));
    if (plain)
        api->log(host, DC_LOG_WARN,
                 "[storage] encryption_allow_plaintext is true: files "
                 "written in the clear are read (and rewritten sealed by "
                 "compaction); set it back to false once no file is in the "
                 "clear");
    *instance = m;
    return DC_OK;
}

static void m_shutdown(void *instance)
{
    agc_module *m = instance;
    if (m == NULL)
        return;
    agc_free(m->a);
    free(m);
}

static const dc_encryption_vtable agc_vtable = {
    .size = sizeof(dc_encryption_vtable),
    .overhead = m_overhead,
    .current_key_id = m_current_key_id,
    .seal = m_seal,
    .open = m_open,
    .check_key = m_check_key,
};

static const dc_module_desc agc_desc = {
    DC_MODULE_HEADER(DC_KIND_ENCRYPTION, DC_ENCRYPTION_VTABLE_MAJOR,
                     DC_ENCRYPTION_VTABLE_MINOR),
    .name = "aes-gcm",
    .version = "0.1.0",
    .description = "encryption at rest with AES-256-GCM (OpenSSL); keys "
                   "from [storage] encryption_key_*",
    .init = m_init,
    .shutdown = m_shutdown,
    .vtable = &agc_vtable,
};

DC_EXPORT const dc_module_desc *datacave_module_aes_gcm_v0(void)
{
    return &agc_desc;
}
