/*
 * scram.c - SCRAM-SHA-256 for the password module; see scram.h.
 *
 * The exchange follows RFC 5802 section 5 and PostgreSQL's reading of it:
 * the user name inside the SCRAM messages is ignored (the startup packet's
 * user counts), channel binding is never offered, and an authorization
 * identity or a mandatory extension is refused.  Client messages are
 * parsed strictly; every deviation is a protocol violation (08P01).
 */
#include "scram.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#define SCRAM_PREFIX "SCRAM-SHA-256$"

/* ------------------------------------------------------------------------
 * base64
 * ---------------------------------------------------------------------- */

static const char b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t scram_b64_len(size_t n)
{
    return (n + 2) / 3 * 4;
}

size_t scram_b64_encode(const uint8_t *in, size_t n, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16;
        if (i + 1 < n)
            v |= (uint32_t)in[i + 1] << 8;
        if (i + 2 < n)
            v |= in[i + 2];
        out[o++] = b64_alphabet[(v >> 18) & 63];
        out[o++] = b64_alphabet[(v >> 12) & 63];
        out[o++] = i + 1 < n ? b64_alphabet[(v >> 6) & 63] : '=';
        out[o++] = i + 2 < n ? b64_alphabet[v & 63] : '=';
    }
    out[o] = '\0';
    return o;
}

/* Value of one base64 digit, or -1. */
static int b64_digit(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

bool scram_b64_decode(const char *in, size_t n, uint8_t *out, size_t cap,
                      size_t *outlen)
{
    if (n % 4 != 0)
        return false;
    size_t o = 0;
    for (size_t i = 0; i < n; i += 4) {
        bool last = i + 4 == n;
        int pad = 0;
        uint32_t v = 0;
        for (size_t k = 0; k < 4; k++) {
            char c = in[i + k];
            int d;
            /* '=' only at the end of the last group: "xx==" or "xxx=". */
            if (c == '=' && last && k >= 2 && (k == 3 || in[i + 3] == '=')) {
                pad++;
                d = 0;
            } else if (pad > 0 || (d = b64_digit(c)) < 0) {
                return false;
            }
            v = v << 6 | (uint32_t)d;
        }
        size_t nbytes = 3 - (size_t)pad;
        if (o + nbytes > cap)
            return false;
        out[o++] = (uint8_t)(v >> 16);
        if (nbytes > 1)
            out[o++] = (uint8_t)(v >> 8);
        if (nbytes > 2)
            out[o++] = (uint8_t)v;
    }
    *outlen = o;
    return true;
}

/* ------------------------------------------------------------------------
 * Primitives
 * ---------------------------------------------------------------------- */

/* out = HMAC-SHA-256(key, data).  Returns false when OpenSSL fails. */
static bool hmac256(const uint8_t *key, size_t keylen, const void *data,
                    size_t len, uint8_t out[SCRAM_KEY_LEN])
{
    unsigned int outlen = 0;
    if (keylen > INT_MAX)
        return false;
    return HMAC(EVP_sha256(), key, (int)keylen, data, len, out, &outlen) !=
               NULL &&
           outlen == SCRAM_KEY_LEN;
}

/* out = SHA-256(data).  Returns false when OpenSSL fails. */
static bool sha256(const void *data, size_t len, uint8_t out[SCRAM_KEY_LEN])
{
    unsigned int outlen = 0;
    return EVP_Digest(data, len, out, &outlen, EVP_sha256(), NULL) == 1 &&
           outlen == SCRAM_KEY_LEN;
}

static int openssl_failed(dc_error *err, const char *what)
{
    return dc_error_set(err, DC_ERR, DC_SQLSTATE_INTERNAL, "could not %s",
                        what);
}

/* Derive StoredKey and ServerKey of the password into *out (whose salt and
 * iterations are set). */
static int derive_keys(const char *password, size_t len, scram_secret *out,
                       dc_error *err)
{
    uint8_t salted[SCRAM_KEY_LEN], client_key[SCRAM_KEY_LEN];
    bool ok = len <= INT_MAX && out->iterations <= INT_MAX &&
              PKCS5_PBKDF2_HMAC(password, (int)len, out->salt,
                                (int)out->salt_len, (int)out->iterations,
                                EVP_sha256(), SCRAM_KEY_LEN, salted) == 1 &&
              hmac256(salted, sizeof salted, "Client Key", 10, client_key) &&
              sha256(client_key, sizeof client_key, out->stored_key) &&
              hmac256(salted, sizeof salted, "Server Key", 10, out->server_key);
    OPENSSL_cleanse(salted, sizeof salted);
    OPENSSL_cleanse(client_key, sizeof client_key);
    return ok ? DC_OK : openssl_failed(err, "compute the SCRAM secret");
}

int scram_secret_make(const char *password, size_t len, const uint8_t *salt,
                      size_t salt_len, uint32_t iterations, scram_secret *out,
                      dc_error *err)
{
    if (salt_len == 0 || salt_len > SCRAM_SALT_MAX || iterations == 0)
        return dc_error_set(err, DC_EINVAL, DC_SQLSTATE_INTERNAL,
                            "invalid SCRAM salt or iteration count");
    memset(out, 0, sizeof *out);
    out->iterations = iterations;
    out->salt_len = salt_len;
    memcpy(out->salt, salt, salt_len);
    return derive_keys(password, len, out, err);
}

/* Decode the base64 field text[0..n) into exactly `want` bytes (any length
 * from 1 to `want` when exact is false).  Returns the length or 0. */
static size_t decode_field(const char *text, size_t n, uint8_t *out,
                           size_t want, bool exact)
{
    size_t got = 0;
    if (!scram_b64_decode(text, n, out, want, &got) || got == 0)
        return 0;
    return (exact && got != want) ? 0 : got;
}

bool scram_secret_parse(const char *text, scram_secret *out)
{
    size_t plen = strlen(SCRAM_PREFIX);
    if (text == NULL || strncmp(text, SCRAM_PREFIX, plen) != 0)
        return false;
    memset(out, 0, sizeof *out);
    const char *p = text + plen;

    /* <iterations>: decimal digits, no sign, 1..INT_MAX. */
    uint64_t iter = 0;
    const char *digits = p;
    while (*p >= '0' && *p <= '9' && iter <= INT_MAX)
        iter = iter * 10 + (uint64_t)(*p++ - '0');
    if (p == digits || *p != ':' || iter == 0 || iter > INT_MAX)
        return false;
    out->iterations = (uint32_t)iter;

    const char *salt = ++p;
    const char *dollar = strchr(salt, '$');
    if (dollar == NULL)
        return false;
    out->salt_len = decode_field(salt, (size_t)(dollar - salt), out->salt,
                                 SCRAM_SALT_MAX, false);
    if (out->salt_len == 0)
        return false;

    const char *stored = dollar + 1;
    const char *colon = strchr(stored, ':');
    if (colon == NULL)
        return false;
    const char *server = colon + 1;
    return decode_field(stored, (size_t)(colon - stored), out->stored_key,
                        SCRAM_KEY_LEN, true) == SCRAM_KEY_LEN &&
           decode_field(server, strlen(server), out->server_key, SCRAM_KEY_LEN,
                        true) == SCRAM_KEY_LEN;
}

int scram_secret_format(const scram_secret *s, char *out, size_t cap)
{
    char salt[scram_b64_len(SCRAM_SALT_MAX) + 1];
    char stored[scram_b64_len(SCRAM_KEY_LEN) + 1];
    char server[scram_b64_len(SCRAM_KEY_LEN) + 1];
    scram_b64_encode(s->salt, s->salt_len, salt);
    scram_b64_encode(s->stored_key, SCRAM_KEY_LEN, stored);
    scram_b64_encode(s->server_key, SCRAM_KEY_LEN, server);
    int n = snprintf(out, cap, SCRAM_PREFIX "%u:%s$%s:%s",
                     (unsigned)s->iterations, salt, stored, server);
    if (n < 0 || (size_t)n >= cap) {
        if (cap > 0)
            out[0] = '\0';
        return DC_ERANGE;
    }
    return DC_OK;
}

int scram_password_check(const scram_secret *s, const char *password,
                         size_t len, bool *match, dc_error *err)
{
    scram_secret given = *s;
    int rc = derive_keys(password, len, &given, err);
    if (rc == DC_OK) {
        /* Both keys, so that a forged StoredKey alone never matches. */
        int diff =
            CRYPTO_memcmp(given.stored_key, s->stored_key, SCRAM_KEY_LEN) |
            CRYPTO_memcmp(given.server_key, s->server_key, SCRAM_KEY_LEN);
        *match = diff == 0;
    }
    OPENSSL_cleanse(&given, sizeof given);
    return rc;
}

/* ------------------------------------------------------------------------
 * Message parsing
 * ---------------------------------------------------------------------- */

/* A read position in a client message. */
typedef struct scram_cursor {
    const char *p;
    const char *end;
} scram_cursor;

/* Fail the exchange with a protocol violation and a detail line. */
#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static int
malformed(scram_exchange *x, dc_error *err, const char *fmt, ...)
{
    x->state = SCRAM_FAILED;
    dc_error_set(err, DC_EINVAL, "08P01", "malformed SCRAM message");
    if (err != NULL) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->detail, sizeof err->detail, fmt, ap);
        va_end(ap);
    }
    return DC_EINVAL;
}

/* Read "<attr>=<value>" up to the next ',' or the end; *val and *vlen get the
 * value.  When attr is 0 any letter is accepted and *got gets it.  Returns
 * false (cursor unspecified) when the text is not an attribute. */
static bool read_attr(scram_cursor *c, char attr, char *got, const char **val,
                      size_t *vlen)
{
    if (c->end - c->p < 2 || c->p[1] != '=')
        return false;
    char a = c->p[0];
    if (attr != 0 ? a != attr
                  : !((a >= 'a' && a <= 'z') || (a >= 'A' && a <= 'Z')))
        return false;
    if (got != NULL)
        *got = a;
    c->p += 2;
    const char *comma = memchr(c->p, ',', (size_t)(c->end - c->p));
    const char *stop = comma != NULL ? comma : c->end;
    *val = c->p;
    *vlen = (size_t)(stop - c->p);
    c->p = stop;
    return true;
}

/* The character found where an attribute was expected, for messages. */
static char found_char(const scram_cursor *c)
{
    return c->p < c->end ? c->p[0] : ' ';
}

/* Consume a ',' when there is one. */
static bool read_comma(scram_cursor *c)
{
    if (c->p < c->end && *c->p == ',') {
        c->p++;
        return true;
    }
    return false;
}

/* A nonce is non-empty printable ASCII other than ',' (RFC 5802). */
static bool nonce_ok(const char *s, size_t n)
{
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] < 0x21 || s[i] > 0x7e || s[i] == ',')
            return false;
    return true;
}

/* Common checks on a client message: size and no NUL inside. */
static int check_message(scram_exchange *x, const char *msg, size_t len,
                         dc_error *err)
{
    if (msg == NULL || len == 0)
        return malformed(x, err, "The message is empty.");
    if (len > SCRAM_MSG_MAX)
        return malformed(x, err, "The message is too long.");
    if (memchr(msg, '\0', len) != NULL)
        return malformed(x, err, "The message contains a NUL byte.");
    return DC_OK;
}

static char *dup_range(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (d != NULL) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

static int out_of_memory(scram_exchange *x, dc_error *err)
{
    x->state = SCRAM_FAILED;
    return dc_error_set(err, DC_ENOMEM, DC_SQLSTATE_OOM, "out of memory");
}

/* ------------------------------------------------------------------------
 * The exchange
 * ---------------------------------------------------------------------- */

void scram_exchange_init(scram_exchange *x, const scram_secret *secret,
                         bool doomed)
{
    memset(x, 0, sizeof *x);
    x->state = SCRAM_WAIT_CLIENT_FIRST;
    x->doomed = doomed;
    x->secret = *secret;
}

void scram_exchange_free(scram_exchange *x)
{
    free(x->client_first_bare);
    free(x->server_first);
    free(x->nonce);
    OPENSSL_cleanse(x, sizeof *x);
    x->state = SCRAM_FAILED;
}

int scram_server_nonce(char *out, size_t cap, dc_error *err)
{
    uint8_t raw[SCRAM_NONCE_RAW_LEN];
    if (cap < scram_b64_len(sizeof raw) + 1)
        return dc_error_set(err, DC_ERANGE, DC_SQLSTATE_INTERNAL,
                            "nonce buffer too small");
    if (RAND_bytes(raw, sizeof raw) != 1)
        return openssl_failed(err, "generate random nonce");
    scram_b64_encode(raw, sizeof raw, out);
    return DC_OK;
}

/* Parse the gs2 header of a client-first-message: "n,," or "y,,".  On
 * success the cursor is past it and x->gs2_header holds it. */
static int parse_gs2_header(scram_exchange *x, scram_cursor *c, dc_error *err)
{
    char flag = found_char(c);
    if (flag == 'p')
        /* Channel binding is never offered, so asking for it is a
         * violation, as in PostgreSQL. */
        return malformed(x, err,
                         "The client selected SCRAM-SHA-256 without channel "
                         "binding, but the SCRAM message includes channel "
                         "binding data.");
    if (flag != 'n' && flag != 'y')
        return malformed(x, err, "Unexpected channel-binding flag \"%c\".",
                         flag);
    c->p++;
    if (!read_comma(c))
        return malformed(x, err, "Comma expected, but found character \"%c\".",
                         found_char(c));
    if (c->end - c->p >= 2 && c->p[0] == 'a' && c->p[1] == '=') {
        x->state = SCRAM_FAILED;
        return dc_error_set(err, DC_EUNSUPPORTED, DC_SQLSTATE_FEATURE,
                            "client uses authorization identity, but it is "
                            "not supported");
    }
    if (!read_comma(c))
        return malformed(x, err,
                         "Unexpected attribute \"%c\" in client-first-message.",
                         found_char(c));
    x->gs2_header[0] = flag;
    x->gs2_header[1] = ',';
    x->gs2_header[2] = ',';
    x->gs2_header[3] = '\0';
    return DC_OK;
}

/* Parse client-first-message-bare: "n=<user>,r=<nonce>[,<ext>...]".  The
 * user name is ignored.  *nonce and *nlen get the client nonce. */
static int parse_first_bare(scram_exchange *x, scram_cursor *c,
                            const char **nonce, size_t *nlen, dc_error *err)
{
    const char *v;
    size_t vlen;
    if (c->end - c->p >= 2 && c->p[0] == 'm' && c->p[1] == '=') {
        x->state = SCRAM_FAILED;
        return dc_error_set(err, DC_EUNSUPPORTED, DC_SQLSTATE_FEATURE,
                            "client requires an unsupported SCRAM extension");
    }
    if (!read_attr(c, 'n', NULL, &v, &vlen))
        return malformed(x, err, "Expected attribute \"n\" but found \"%c\".",
                         found_char(c));
    if (!read_comma(c) || !read_attr(c, 'r', NULL, nonce, nlen))
        return malformed(x, err, "Expected attribute \"r\" but found \"%c\".",
                         found_char(c));
    if (!nonce_ok(*nonce, *nlen))
        return malformed(x, err,
                         "The client nonce is empty or contains "
                         "invalid characters.");
    /* Optional extensions, ignored. */
    while (c->p < c->end) {
        if (!read_comma(c) || !read_attr(c, 0, NULL, &v, &vlen))
            return malformed(x, err, "Attribute expected, but found \"%c\".",
                             found_char(c));
    }
    return DC_OK;
}

int scram_client_first(scram_exchange *x, const char *msg, size_t len,
                       const char *server_nonce, const char **reply,
                       size_t *reply_len, dc_error *err)
{
    if (x->state != SCRAM_WAIT_CLIENT_FIRST)
        return malformed(x, err, "Unexpected client-first-message.");
    int rc = check_message(x, msg, len, err);
    if (rc != DC_OK)
        return rc;
    scram_cursor c = {msg, msg + len};
    rc = parse_gs2_header(x, &c, err);
    const char *bare = c.p;
    const char *cnonce = NULL;
    size_t cnlen = 0;
    if (rc == DC_OK)
        rc = parse_first_bare(x, &c, &cnonce, &cnlen, err);
    if (rc != DC_OK)
        return rc;

    size_t snlen = strlen(server_nonce);
    x->client_first_bare = dup_range(bare, (size_t)(msg + len - bare));
    x->nonce = malloc(cnlen + snlen + 1);
    char salt[scram_b64_len(SCRAM_SALT_MAX) + 1];
    scram_b64_encode(x->secret.salt, x->secret.salt_len, salt);
    /* "r=" nonce ",s=" salt ",i=" count: 10 digits at most. */
    size_t cap = 2 + cnlen + snlen + 3 + strlen(salt) + 3 + 10 + 1;
    x->server_first = malloc(cap);
    if (x->client_first_bare == NULL || x->nonce == NULL ||
        x->server_first == NULL)
        return out_of_memory(x, err);
    memcpy(x->nonce, cnonce, cnlen);
    memcpy(x->nonce + cnlen, server_nonce, snlen + 1);
    int n = snprintf(x->server_first, cap, "r=%s,s=%s,i=%u", x->nonce, salt,
                     (unsigned)x->secret.iterations);
    if (n < 0 || (size_t)n >= cap) {
        x->state = SCRAM_FAILED;
        return openssl_failed(err, "format the SCRAM answer");
    }
    x->server_first_len = (size_t)n;
    x->state = SCRAM_WAIT_CLIENT_FINAL;
    *reply = x->server_first;
    *reply_len = x->server_first_len;
    return DC_OK;
}

/* Parse client-final-message: "c=<b64 gs2 header>,r=<nonce>[,<ext>...],
 * p=<b64 proof>".  Checks the channel binding and the nonce; *proof gets
 * the proof and *without_proof_len the length of the message before
 * ",p=". */
static int parse_final(scram_exchange *x, const char *msg, size_t len,
                       uint8_t proof[SCRAM_KEY_LEN], size_t *without_proof_len,
                       dc_error *err)
{
    scram_cursor c = {msg, msg + len};
    const char *v;
    size_t vlen;
    uint8_t cbind[SCRAM_MSG_MAX];
    size_t cblen = 0;

    if (!read_attr(&c, 'c', NULL, &v, &vlen))
        return malformed(x, err, "Expected attribute \"c\" but found \"%c\".",
                         found_char(&c));
    if (!scram_b64_decode(v, vlen, cbind, sizeof cbind, &cblen))
        return malformed(x, err, "Malformed channel binding data.");
    /* Without channel binding the data is the gs2 header itself. */
    if (cblen != 3 || memcmp(cbind, x->gs2_header, 3) != 0) {
        x->state = SCRAM_FAILED;
        return dc_error_set(err, DC_EINVAL, "08P01",
                            "SCRAM channel binding check failed");
    }
    if (!read_comma(&c) || !read_attr(&c, 'r', NULL, &v, &vlen))
        return malformed(x, err, "Expected attribute \"r\" but found \"%c\".",
                         found_char(&c));
    if (vlen != strlen(x->nonce) || memcmp(v, x->nonce, vlen) != 0)
        return malformed(x, err, "Nonce does not match.");
    for (;;) {
        const char *comma = c.p;
        char attr = 0;
        if (c.p == c.end)
            return malformed(x, err,
                             "Could not find proof in client-final-message.");
        if (!read_comma(&c) || !read_attr(&c, 0, &attr, &v, &vlen))
            return malformed(x, err, "Attribute expected, but found \"%c\".",
                             found_char(&c));
        if (attr != 'p')
            continue; /* an extension: ignored */
        size_t plen = 0;
        if (!scram_b64_decode(v, vlen, proof, SCRAM_KEY_LEN, &plen) ||
            plen != SCRAM_KEY_LEN)
            return malformed(x, err,
                             "Malformed proof in client-final-message.");
        if (c.p != c.end)
            return malformed(x, err,
                             "Garbage found at the end of "
                             "client-final-message.");
        *without_proof_len = (size_t)(comma - msg);
        return DC_OK;
    }
}

/* Build AuthMessage = client-first-bare "," server-first ","
 * client-final-without-proof.  Returns a malloc'd buffer or NULL. */
static char *auth_message(const scram_exchange *x, const char *final,
                          size_t final_len, size_t *len)
{
    size_t a = strlen(x->client_first_bare), b = x->server_first_len;
    char *m = malloc(a + 1 + b + 1 + final_len);
    if (m == NULL)
        return NULL;
    memcpy(m, x->client_first_bare, a);
    m[a] = ',';
    memcpy(m + a + 1, x->server_first, b);
    m[a + 1 + b] = ',';
    memcpy(m + a + 1 + b + 1, final, final_len);
    *len = a + 1 + b + 1 + final_len;
    return m;
}

/* Verify the proof over AuthMessage; *ok gets the verdict and, when the
 * proof is right, x->server_final the answer.  Returns false when OpenSSL
 * fails. */
static bool verify_proof(scram_exchange *x, const char *am, size_t amlen,
                         const uint8_t proof[SCRAM_KEY_LEN], bool *ok)
{
    uint8_t sig[SCRAM_KEY_LEN], client_key[SCRAM_KEY_LEN];
    uint8_t stored[SCRAM_KEY_LEN], server_sig[SCRAM_KEY_LEN];
    bool done = hmac256(x->secret.stored_key, SCRAM_KEY_LEN, am, amlen, sig);
    if (done) {
        for (size_t i = 0; i < SCRAM_KEY_LEN; i++)
            client_key[i] = proof[i] ^ sig[i];
        done =
            sha256(client_key, sizeof client_key, stored) &&
            hmac256(x->secret.server_key, SCRAM_KEY_LEN, am, amlen, server_sig);
    }
    if (done) {
        /* The comparison runs for doomed exchanges too: same work. */
        bool same =
            CRYPTO_memcmp(stored, x->secret.stored_key, SCRAM_KEY_LEN) == 0;
        *ok = same && !x->doomed;
        memcpy(x->server_final, "v=", 2);
        x->server_final_len =
            2 + scram_b64_encode(server_sig, sizeof server_sig,
                                 x->server_final + 2);
    }
    OPENSSL_cleanse(client_key, sizeof client_key);
    OPENSSL_cleanse(sig, sizeof sig);
    return done;
}

int scram_client_final(scram_exchange *x, const char *msg, size_t len,
                       const char **reply, size_t *reply_len, dc_error *err)
{
    if (x->state != SCRAM_WAIT_CLIENT_FINAL)
        return malformed(x, err, "Unexpected client-final-message.");
    int rc = check_message(x, msg, len, err);
    uint8_t proof[SCRAM_KEY_LEN];
    size_t without_proof = 0;
    if (rc == DC_OK)
        rc = parse_final(x, msg, len, proof, &without_proof, err);
    if (rc != DC_OK)
        return rc;

    size_t amlen = 0;
    char *am = auth_message(x, msg, without_proof, &amlen);
    if (am == NULL)
        return out_of_memory(x, err);
    bool ok = false;
    bool done = verify_proof(x, am, amlen, proof, &ok);
    free(am);
    if (!done) {
        x->state = SCRAM_FAILED;
        return openssl_failed(err, "verify the SCRAM proof");
    }
    if (!ok) {
        x->state = SCRAM_FAILED;
        return DC_EPERM;
    }
    x->state = SCRAM_DONE;
    *reply = x->server_final;
    *reply_len = x->server_final_len;
    return DC_OK;
}
