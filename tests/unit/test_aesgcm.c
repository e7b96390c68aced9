/*
 * test_aesgcm.c - unit test of the `aes-gcm` encryption module with cmocka
 * and a fake host (modules/aes-gcm/module.mk links the module's sources).
 *
 * The sealed format is checked against OpenSSL used directly here: the
 * data key and key id are recomputed with HMAC-SHA-256 from the labels the
 * format documents (docs/security.md), and a sealed blob is opened as plain
 * AES-256-GCM (nonce || ciphertext || tag).  Then round trips, tampering
 * with every part (nonce, ciphertext, tag, AAD, length), nonce uniqueness,
 * unknown key ids, key rotation, the key sources (base64 text, files and
 * their modes, environment variables) and the module's config checks.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "aes-gcm/aesgcm.h"
#include "datacave/encryption.h"
#include "datacave/module.h"

const dc_module_desc *datacave_module_aes_gcm_v0(void);

/* Two keys, in base64 (made with `openssl rand -base64 32`). */
static const char KEY_A[] = "tdVTUWXUX3zP7NuKHCIc1t1cGx4Ry1D7SAKpAAWMCmo=";
static const char KEY_B[] = "7heSfHRRbHZAdKHD4PGCcER7DJhZfgpUsfRH30XmsA0=";
/* 16 bytes: valid base64, wrong length for AES-256. */
static const char KEY_SHORT[] = "AAECAwQFBgcICQoLDA0ODw==";

static void master_of(const char *b64, uint8_t out[AGC_KEY_BYTES])
{
    dc_error err;
    dc_error_init(&err);
    if (agc_key_from_text(b64, strlen(b64), "test", out, &err) != DC_OK)
        fail_msg("%s", err.message);
}

static agc *make_agc(const char *const *b64, size_t n, bool plain)
{
    agc_key_spec specs[4];
    assert_true(n <= 4);
    memset(specs, 0, sizeof specs);
    for (size_t i = 0; i < n; i++) {
        master_of(b64[i], specs[i].master);
        snprintf(specs[i].source, sizeof specs[i].source, "key %zu", i);
    }
    agc *a = NULL;
    dc_error err;
    dc_error_init(&err);
    if (agc_new(specs, n, plain, &a, &err) != DC_OK)
        fail_msg("agc_new: %s", err.message);
    return a;
}

/* ---- base64 -------------------------------------------------------------- */

static void test_base64(void **state)
{
    (void)state;
    struct {
        const char *in, *out;
    } good[] = {{"", ""},         {"Zg==", "f"},     {"Zm8=", "fo"},
                {"Zm9v", "foo"},  {"Zm9vYg==", "foob"}, {"Zm9vYmE=", "fooba"},
                {"Zm9vYmFy", "foobar"}};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        uint8_t out[16];
        size_t n = 99;
        assert_true(agc_base64_decode(good[i].in, strlen(good[i].in), out,
                                      sizeof out, &n));
        assert_int_equal(n, strlen(good[i].out));
        assert_memory_equal(out, good[i].out, n);
    }
    const char *bad[] = {"Zg=",  "Z===", "Zm9v!", "Zg==Zg==", "Zh==",
                         "Zm9=", "Zm 9v", "=Zm9", "Zm9v\n"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint8_t out[16];
        size_t n = 0;
        if (agc_base64_decode(bad[i], strlen(bad[i]), out, sizeof out, &n))
            fail_msg("\"%s\" was accepted as base64", bad[i]);
    }
    /* Too small an output buffer is a refusal, not an overflow. */
    uint8_t tiny[2];
    size_t n = 0;
    assert_false(agc_base64_decode("Zm9v", 4, tiny, sizeof tiny, &n));
}

/* ---- key sources ------------------------------------------------------------ */

static char tmpdir[64];

static void write_file(const char *path, const char *text, mode_t mode)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    assert_int_equal(chmod(path, mode), 0);
}

static void test_key_text(void **state)
{
    (void)state;
    uint8_t k1[AGC_KEY_BYTES], k2[AGC_KEY_BYTES];
    dc_error err;
    dc_error_init(&err);
    /* Whitespace around the key is ignored (a key file's newline). */
    char padded[128];
    snprintf(padded, sizeof padded, "  %s\r\n", KEY_A);
    assert_int_equal(agc_key_from_text(KEY_A, strlen(KEY_A), "x", k1, &err), 0);
    assert_int_equal(agc_key_from_text(padded, strlen(padded), "x", k2, &err),
                     0);
    assert_memory_equal(k1, k2, AGC_KEY_BYTES);

    /* Malformed: refused, and the message does not quote the key. */
    char bad[] = "q0bn3cZ4zZ2m0o9xk6iH6h0zv0gM6uJ1Yx6V4CwXb0c*";
    dc_error_init(&err);
    assert_int_equal(agc_key_from_text(bad, strlen(bad), "[storage] k", k1,
                                       &err),
                     DC_EINVAL);
    assert_non_null(strstr(err.message, "[storage] k"));
    assert_non_null(strstr(err.message, "base64"));
    assert_null(strstr(err.message, "q0bn3c"));
    /* Wrong length. */
    dc_error_init(&err);
    assert_int_equal(agc_key_from_text(KEY_SHORT, strlen(KEY_SHORT), "k", k1,
                                       &err),
                     DC_EINVAL);
    assert_non_null(strstr(err.message, "16 bytes"));
    /* Empty. */
    dc_error_init(&err);
    assert_int_equal(agc_key_from_text(" \n", 2, "k", k1, &err), DC_EINVAL);
    assert_non_null(strstr(err.message, "empty"));
}

static void test_key_file(void **state)
{
    (void)state;
    char path[128];
    snprintf(path, sizeof path, "%s/key", tmpdir);
    uint8_t want[AGC_KEY_BYTES], got[AGC_KEY_BYTES];
    master_of(KEY_A, want);
    char text[80];
    snprintf(text, sizeof text, "%s\n", KEY_A);
    dc_error err;

    write_file(path, text, 0600);
    dc_error_init(&err);
    assert_int_equal(agc_key_from_file(path, "kf", got, &err), 0);
    assert_memory_equal(got, want, AGC_KEY_BYTES);
    write_file(path, text, 0400);
    assert_int_equal(agc_key_from_file(path, "kf", got, &err), 0);

    /* Readable (or writable) by group or others: refused, naming the
     * file and its mode. */
    const mode_t open_modes[] = {0644, 0640, 0604, 0620, 0602, 0610};
    for (size_t i = 0; i < sizeof open_modes / sizeof open_modes[0]; i++) {
        write_file(path, text, open_modes[i]);
        dc_error_init(&err);
        assert_int_equal(agc_key_from_file(path, "kf", got, &err), DC_EPERM);
        assert_non_null(strstr(err.message, path));
        char mode[16];
        snprintf(mode, sizeof mode, "%04o", (unsigned)open_modes[i]);
        assert_non_null(strstr(err.message, mode));
    }

    /* Missing file; a directory; a malformed and a short key. */
    char missing[160];
    snprintf(missing, sizeof missing, "%s/nope", tmpdir);
    dc_error_init(&err);
    assert_int_equal(agc_key_from_file(missing, "kf", got, &err), DC_ENOTFOUND);
    assert_non_null(strstr(err.message, missing));
    dc_error_init(&err);
    assert_int_equal(agc_key_from_file(tmpdir, "kf", got, &err), DC_EINVAL);
    write_file(path, "not a key\n", 0600);
    dc_error_init(&err);
    assert_int_equal(agc_key_from_file(path, "kf", got, &err), DC_EINVAL);
    assert_non_null(strstr(err.message, "base64"));
    write_file(path, KEY_SHORT, 0600);
    dc_error_init(&err);
    assert_int_equal(agc_key_from_file(path, "kf", got, &err), DC_EINVAL);
    assert_non_null(strstr(err.message, "16 bytes"));
    unlink(path);
}

static void test_key_env(void **state)
{
    (void)state;
    uint8_t want[AGC_KEY_BYTES], got[AGC_KEY_BYTES];
    master_of(KEY_B, want);
    dc_error err;
    unsetenv("DC_TEST_AESGCM_KEY");
    dc_error_init(&err);
    assert_int_equal(agc_key_from_env("DC_TEST_AESGCM_KEY", "ke", got, &err),
                     DC_ENOTFOUND);
    assert_non_null(strstr(err.message, "DC_TEST_AESGCM_KEY"));
    assert_non_null(strstr(err.message, "not set"));
    setenv("DC_TEST_AESGCM_KEY", "", 1);
    dc_error_init(&err);
    assert_int_equal(agc_key_from_env("DC_TEST_AESGCM_KEY", "ke", got, &err),
                     DC_ENOTFOUND);
    setenv("DC_TEST_AESGCM_KEY", "%%%", 1);
    dc_error_init(&err);
    assert_int_equal(agc_key_from_env("DC_TEST_AESGCM_KEY", "ke", got, &err),
                     DC_EINVAL);
    setenv("DC_TEST_AESGCM_KEY", KEY_B, 1);
    assert_int_equal(agc_key_from_env("DC_TEST_AESGCM_KEY", "ke", got, &err),
                     0);
    assert_memory_equal(got, want, AGC_KEY_BYTES);
    unsetenv("DC_TEST_AESGCM_KEY");
}

/* ---- the sealed format against OpenSSL used directly ------------------------- */

static void hmac_label(const uint8_t master[AGC_KEY_BYTES], const char *label,
                       uint8_t out[32])
{
    unsigned n = 0;
    assert_non_null(HMAC(EVP_sha256(), master, AGC_KEY_BYTES,
                         (const uint8_t *)label, strlen(label), out, &n));
    assert_int_equal(n, 32);
}

static void test_format_known_answer(void **state)
{
    (void)state;
    uint8_t master[AGC_KEY_BYTES], h[32];
    master_of(KEY_A, master);
    hmac_label(master, "datacave encryption key id v1", h);
    uint32_t want_id = (uint32_t)h[0] | (uint32_t)h[1] << 8 |
                       (uint32_t)h[2] << 16 | (uint32_t)h[3] << 24;
    uint8_t data_key[32];
    hmac_label(master, "datacave aes-256-gcm data key v1", data_key);

    const char *keys[] = {KEY_A};
    agc *a = make_agc(keys, 1, false);
    assert_int_equal(agc_current_key_id(a), want_id);
    assert_int_not_equal(want_id, 0);

    const char msg[] = "row: id=42 name='PLAINTEXT-ROW'";
    const uint8_t aad[] = "file 7 offset 32";
    uint8_t sealed[sizeof msg + AGC_OVERHEAD];
    size_t n = 0;
    dc_error err;
    dc_error_init(&err);
    assert_int_equal(agc_seal(a, want_id, aad, sizeof aad, (const uint8_t *)msg,
                              sizeof msg, sealed, sizeof sealed, &n, &err),
                     0);
    assert_int_equal(n, sizeof msg + AGC_OVERHEAD);
    /* Open it as plain AES-256-GCM: nonce || ciphertext || tag. */
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    assert_non_null(c);
    uint8_t plain[sizeof msg];
    int l = 0, l2 = 0;
    assert_int_equal(EVP_DecryptInit_ex(c, EVP_aes_256_gcm(), NULL, data_key,
                                        sealed),
                     1);
    assert_int_equal(EVP_DecryptUpdate(c, NULL, &l, aad, (int)sizeof aad), 1);
    assert_int_equal(EVP_DecryptUpdate(c, plain, &l, sealed + AGC_NONCE_BYTES,
                                       (int)sizeof msg),
                     1);
    assert_int_equal(EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_SET_TAG,
                                         AGC_TAG_BYTES,
                                         sealed + AGC_NONCE_BYTES + sizeof msg),
                     1);
    assert_int_equal(EVP_DecryptFinal_ex(c, plain + l, &l2), 1);
    EVP_CIPHER_CTX_free(c);
    assert_memory_equal(plain, msg, sizeof msg);
    agc_free(a);
}

/* ---- round trips, tampering, nonces ------------------------------------------ */

static void test_round_trip(void **state)
{
    (void)state;
    const char *keys[] = {KEY_A};
    agc *a = make_agc(keys, 1, false);
    uint32_t id = agc_current_key_id(a);
    const size_t sizes[] = {0, 1, 15, 16, 17, 4096, 100000};
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        size_t len = sizes[s];
        uint8_t *in = malloc(len + 1), *out = malloc(len + AGC_OVERHEAD),
                *back = malloc(len + 1);
        assert_true(in && out && back);
        for (size_t i = 0; i < len; i++)
            in[i] = (uint8_t)('a' + i % 26);
        uint8_t aad[24];
        memset(aad, (int)s, sizeof aad);
        size_t n = 0, m = 0;
        dc_error err;
        dc_error_init(&err);
        assert_int_equal(agc_seal(a, id, aad, sizeof aad, in, len, out,
                                  len + AGC_OVERHEAD, &n, &err),
                         0);
        assert_int_equal(n, len + AGC_OVERHEAD);
        if (len >= 16)
            assert_memory_not_equal(out + AGC_NONCE_BYTES, in, 16);
        assert_int_equal(agc_open(a, id, aad, sizeof aad, out, n, back, len,
                                  &m, &err),
                         0);
        assert_int_equal(m, len);
        if (len)
            assert_memory_equal(back, in, len);
        /* An output buffer one byte short is refused. */
        dc_error_init(&err);
        assert_int_equal(agc_seal(a, id, aad, sizeof aad, in, len, out,
                                  len + AGC_OVERHEAD - 1, &n, &err),
                         DC_EINVAL);
        free(in);
        free(out);
        free(back);
    }
    agc_free(a);
}

static void test_tamper(void **state)
{
    (void)state;
    const char *keys[] = {KEY_A};
    agc *a = make_agc(keys, 1, false);
    uint32_t id = agc_current_key_id(a);
    uint8_t in[200];
    for (size_t i = 0; i < sizeof in; i++)
        in[i] = (uint8_t)i;
    uint8_t aad[24] = "DCSSTDAT-file-7-off-32";
    uint8_t sealed[sizeof in + AGC_OVERHEAD];
    size_t n = 0;
    dc_error err;
    dc_error_init(&err);
    assert_int_equal(agc_seal(a, id, aad, sizeof aad, in, sizeof in, sealed,
                              sizeof sealed, &n, &err),
                     0);
    /* One flipped bit anywhere: in the nonce, the ciphertext, the tag. */
    const size_t where[] = {0, 11, 12, 12 + 100, 12 + 199, 12 + 200,
                            sizeof sealed - 1};
    for (size_t w = 0; w < sizeof where / sizeof where[0]; w++) {
        uint8_t t[sizeof sealed], out[sizeof in];
        memcpy(t, sealed, sizeof t);
        t[where[w]] ^= 0x01;
        memset(out, 0x77, sizeof out);
        size_t m = 0;
        dc_error_init(&err);
        assert_int_equal(agc_open(a, id, aad, sizeof aad, t, sizeof t, out,
                                  sizeof out, &m, &err),
                         DC_ECORRUPT);
        assert_string_equal(err.sqlstate, DC_SQLSTATE_CORRUPT);
        /* Nothing unauthenticated is handed out. */
        for (size_t i = 0; i < sizeof out; i++)
            assert_int_equal(out[i], 0);
    }
    /* Other additional data (another file, another offset). */
    uint8_t aad2[24];
    memcpy(aad2, aad, sizeof aad2);
    aad2[23] ^= 1;
    uint8_t out[sizeof in];
    size_t m = 0;
    dc_error_init(&err);
    assert_int_equal(agc_open(a, id, aad2, sizeof aad2, sealed, n, out,
                              sizeof out, &m, &err),
                     DC_ECORRUPT);
    dc_error_init(&err);
    assert_int_equal(agc_open(a, id, NULL, 0, sealed, n, out, sizeof out, &m,
                              &err),
                     DC_ECORRUPT);
    /* Cut short: one byte, and below the overhead. */
    dc_error_init(&err);
    assert_int_equal(agc_open(a, id, aad, sizeof aad, sealed, n - 1, out,
                              sizeof out, &m, &err),
                     DC_ECORRUPT);
    dc_error_init(&err);
    assert_int_equal(agc_open(a, id, aad, sizeof aad, sealed, AGC_OVERHEAD - 1,
                              out, sizeof out, &m, &err),
                     DC_ECORRUPT);
    /* The untouched blob still opens (the failures left no bad state in
     * the pooled contexts). */
    dc_error_init(&err);
    assert_int_equal(agc_open(a, id, aad, sizeof aad, sealed, n, out,
                              sizeof out, &m, &err),
                     0);
    assert_memory_equal(out, in, sizeof in);
    agc_free(a);
}

static int cmp_nonce(const void *x, const void *y)
{
    return memcmp(x, y, AGC_NONCE_BYTES);
}

static void test_unique_nonces(void **state)
{
    (void)state;
    enum { N = 2000 };
    const char *keys[] = {KEY_A};
    agc *a = make_agc(keys, 1, false);
    agc *b = make_agc(keys, 1, false); /* another process, same key */
    uint32_t id = agc_current_key_id(a);
    uint8_t(*nonces)[AGC_NONCE_BYTES] = malloc(2 * N * AGC_NONCE_BYTES);
    assert_non_null(nonces);
    const uint8_t in[32] = "the same plaintext every time...";
    uint8_t first_ct[32];
    for (int i = 0; i < 2 * N; i++) {
        uint8_t out[sizeof in + AGC_OVERHEAD];
        size_t n = 0;
        dc_error err;
        dc_error_init(&err);
        assert_int_equal(agc_seal(i < N ? a : b, id, NULL, 0, in, sizeof in,
                                  out, sizeof out, &n, &err),
                         0);
        memcpy(nonces[i], out, AGC_NONCE_BYTES);
        if (i == 0)
            memcpy(first_ct, out + AGC_NONCE_BYTES, sizeof first_ct);
        else
            assert_memory_not_equal(first_ct, out + AGC_NONCE_BYTES,
                                    sizeof first_ct);
    }
    qsort(nonces, 2 * N, AGC_NONCE_BYTES, cmp_nonce);
    for (int i = 1; i < 2 * N; i++)
        if (memcmp(nonces[i - 1], nonces[i], AGC_NONCE_BYTES) == 0)
            fail_msg("nonce used twice");
    free(nonces);
    agc_free(a);
    agc_free(b);
}

/* Many threads sealing and opening at once share the context pools. */
typedef struct thr_arg {
    agc *a;
    uint32_t id;
    int failures;
} thr_arg;

static void *thr_main(void *p)
{
    thr_arg *t = p;
    for (int i = 0; i < 500; i++) {
        uint8_t in[300], out[300 + AGC_OVERHEAD], back[300];
        for (size_t j = 0; j < sizeof in; j++)
            in[j] = (uint8_t)(i + j);
        size_t n = 0, m = 0;
        dc_error err;
        dc_error_init(&err);
        if (agc_seal(t->a, t->id, in, 8, in, sizeof in, out, sizeof out, &n,
                     &err) != 0 ||
            agc_open(t->a, t->id, in, 8, out, n, back, sizeof back, &m,
                     &err) != 0 ||
            m != sizeof in || memcmp(back, in, m) != 0)
            t->failures++;
    }
    return NULL;
}

static void test_threads(void **state)
{
    (void)state;
    const char *keys[] = {KEY_A};
    agc *a = make_agc(keys, 1, false);
    enum { T = 24 }; /* more threads than a pool keeps */
    pthread_t th[T];
    thr_arg args[T];
    for (int i = 0; i < T; i++) {
        args[i] = (thr_arg){a, agc_current_key_id(a), 0};
        assert_int_equal(pthread_create(&th[i], NULL, thr_main, &args[i]), 0);
    }
    for (int i = 0; i < T; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(args[i].failures, 0);
    }
    agc_free(a);
}

/* ---- key ids, rotation --------------------------------------------------------- */

static void test_key_ids_and_rotation(void **state)
{
    (void)state;
    const char *old_only[] = {KEY_A};
    agc *old = make_agc(old_only, 1, false);
    uint32_t id_a = agc_current_key_id(old);
    const char *rotated[] = {KEY_B, KEY_A};
    agc *cur = make_agc(rotated, 2, false);
    uint32_t id_b = agc_current_key_id(cur);
    assert_int_not_equal(id_a, id_b);
    assert_int_equal(agc_key_id_at(cur, 1), id_a);

    /* Sealed under the old key, opened with the old key retired. */
    const uint8_t in[] = "written before the rotation";
    uint8_t sealed[sizeof in + AGC_OVERHEAD], out[sizeof in];
    size_t n = 0, m = 0;
    dc_error err;
    dc_error_init(&err);
    assert_int_equal(agc_seal(old, id_a, NULL, 0, in, sizeof in, sealed,
                              sizeof sealed, &n, &err),
                     0);
    assert_int_equal(agc_open(cur, id_a, NULL, 0, sealed, n, out, sizeof out,
                              &m, &err),
                     0);
    assert_memory_equal(out, in, sizeof in);
    assert_int_equal(agc_check_key(cur, id_a, &err), 0);
    assert_int_equal(agc_check_key(cur, id_b, &err), 0);

    /* The old key alone does not know the new id: refused by id, naming
     * it and the configured ids, before anything is decrypted. */
    char hex[16];
    snprintf(hex, sizeof hex, "%08x", id_b);
    dc_error_init(&err);
    assert_int_equal(agc_check_key(old, id_b, &err), DC_ENOTFOUND);
    assert_non_null(strstr(err.message, hex));
    assert_non_null(strstr(err.message, "not configured"));
    char hex_a[16];
    snprintf(hex_a, sizeof hex_a, "%08x", id_a);
    assert_non_null(strstr(err.message, hex_a));
    dc_error_init(&err);
    assert_int_equal(agc_open(old, id_b, NULL, 0, sealed, n, out, sizeof out,
                              &m, &err),
                     DC_ENOTFOUND);
    dc_error_init(&err);
    assert_int_equal(agc_seal(old, id_b, NULL, 0, in, sizeof in, sealed,
                              sizeof sealed, &n, &err),
                     DC_ENOTFOUND);
    /* A blob sealed under A presented as sealed under B (a forged header):
     * B's key does not authenticate it. */
    dc_error_init(&err);
    assert_int_equal(agc_seal(old, id_a, NULL, 0, in, sizeof in, sealed,
                              sizeof sealed, &n, &err),
                     0);
    assert_int_equal(agc_open(cur, id_b, NULL, 0, sealed, n, out, sizeof out,
                              &m, &err),
                     DC_ECORRUPT);

    /* Key id 0 (data in the clear) only when plaintext is allowed. */
    dc_error_init(&err);
    assert_int_equal(agc_check_key(cur, 0, &err), DC_EPERM);
    assert_non_null(strstr(err.message, "encryption_allow_plaintext"));
    agc *plain = make_agc(old_only, 1, true);
    assert_int_equal(agc_check_key(plain, 0, &err), 0);

    /* The same key twice is a configuration error. */
    const char *twice[] = {KEY_A, KEY_B, KEY_A};
    agc_key_spec specs[3];
    memset(specs, 0, sizeof specs);
    for (int i = 0; i < 3; i++) {
        master_of(twice[i], specs[i].master);
        snprintf(specs[i].source, sizeof specs[i].source, "source-%d", i);
    }
    agc *dup = NULL;
    dc_error_init(&err);
    assert_int_equal(agc_new(specs, 3, false, &dup, &err), DC_EINVAL);
    assert_null(dup);
    assert_non_null(strstr(err.message, "source-0"));
    assert_non_null(strstr(err.message, "source-2"));
    agc_free(plain);
    agc_free(old);
    agc_free(cur);
}

/* ---- the module through a fake host ----------------------------------------------- */

#define MAX_KV 32
static struct {
    struct {
        char path[96];
        int type;
        char s[256];
        bool b;
        size_t count;
    } kv[MAX_KV];
    int n;
    char logs[16][512];
    int nlogs;
} fake;

static int host_token;
#define FAKE_HOST ((dc_host *)&host_token)

static void fake_reset(void)
{
    memset(&fake, 0, sizeof fake);
}

static void put(const char *path, int type, const char *s, bool b, size_t c)
{
    assert_true(fake.n < MAX_KV);
    snprintf(fake.kv[fake.n].path, sizeof fake.kv[0].path, "%s", path);
    fake.kv[fake.n].type = type;
    snprintf(fake.kv[fake.n].s, sizeof fake.kv[0].s, "%s", s ? s : "");
    fake.kv[fake.n].b = b;
    fake.kv[fake.n].count = c;
    fake.n++;
}

static int find(const char *path, int type)
{
    for (int i = 0; i < fake.n; i++)
        if (strcmp(fake.kv[i].path, path) == 0)
            return fake.kv[i].type == type ? i : -2;
    return -1;
}

static int f_string(dc_host *h, const char *path, const char **out)
{
    (void)h;
    int i = find(path, DC_CFG_STRING);
    if (i == -2)
        return DC_ETYPE;
    if (i < 0)
        return DC_ENOTFOUND;
    *out = fake.kv[i].s;
    return DC_OK;
}

static int f_bool(dc_host *h, const char *path, bool *out)
{
    (void)h;
    int i = find(path, DC_CFG_BOOL);
    if (i == -2)
        return DC_ETYPE;
    if (i < 0) {
        /* The schema's defaults. */
        if (strcmp(path, "storage.encryption_enabled") == 0 ||
            strcmp(path, "storage.encryption_allow_plaintext") == 0) {
            *out = false;
            return DC_OK;
        }
        return DC_ENOTFOUND;
    }
    *out = fake.kv[i].b;
    return DC_OK;
}

static int f_count(dc_host *h, const char *path, size_t *out)
{
    (void)h;
    int i = find(path, DC_CFG_ARRAY);
    if (i < 0)
        return DC_ENOTFOUND;
    *out = fake.kv[i].count;
    return DC_OK;
}

static const char *f_dir(dc_host *h)
{
    (void)h;
    return tmpdir;
}

static void f_log(dc_host *h, int level, const char *fmt, ...)
{
    (void)h;
    (void)level;
    if (fake.nlogs >= 16)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(fake.logs[fake.nlogs++], sizeof fake.logs[0], fmt, ap);
    va_end(ap);
}

static dc_host_api fake_api(void)
{
    dc_host_api api;
    memset(&api, 0, sizeof api);
    api.size = sizeof api;
    api.log = f_log;
    api.config_string = f_string;
    api.config_bool = f_bool;
    api.config_count = f_count;
    api.config_dir = f_dir;
    return api;
}

/* Run the module's init with the fake config; returns its status, fills
 * err, and on success the current key id (then shuts down). */
static int module_init(dc_error *err, uint32_t *key_id)
{
    const dc_module_desc *d = datacave_module_aes_gcm_v0();
    assert_string_equal(d->name, "aes-gcm");
    const dc_encryption_vtable *vt = d->vtable;
    dc_host_api api = fake_api();
    void *inst = NULL;
    dc_error_init(err);
    int rc = d->init(FAKE_HOST, &api, &inst, err);
    if (rc == DC_OK) {
        assert_int_equal(vt->overhead(inst), AGC_OVERHEAD);
        if (key_id)
            *key_id = vt->current_key_id(inst);
        d->shutdown(inst);
    }
    return rc;
}

static uint32_t id_of(const char *b64)
{
    uint8_t m[AGC_KEY_BYTES], aes[AGC_KEY_BYTES];
    uint32_t id = 0;
    master_of(b64, m);
    assert_true(agc_derive(m, &id, aes));
    return id;
}

static void test_module_config(void **state)
{
    (void)state;
    dc_error err;
    uint32_t id = 0;

    /* encryption_enabled must be true. */
    fake_reset();
    put("storage.encryption_key_base64", DC_CFG_STRING, KEY_A, 0, 0);
    assert_int_equal(module_init(&err, NULL), DC_EINVAL);
    assert_non_null(strstr(err.message, "encryption_enabled"));

    /* No key at all. */
    fake_reset();
    put("storage.encryption_enabled", DC_CFG_BOOL, NULL, true, 0);
    assert_int_equal(module_init(&err, NULL), DC_EINVAL);
    assert_non_null(strstr(err.message, "encryption_key_base64"));
    assert_non_null(strstr(err.message, "encryption_key_file"));
    assert_non_null(strstr(err.message, "encryption_key_env"));

    /* From the config text: works, and the log names the key id and its
     * source, never the key. */
    put("storage.encryption_key_base64", DC_CFG_STRING, KEY_A, 0, 0);
    assert_int_equal(module_init(&err, &id), DC_OK);
    assert_int_equal(id, id_of(KEY_A));
    char hex[16];
    snprintf(hex, sizeof hex, "%08x", id);
    bool named = false;
    for (int i = 0; i < fake.nlogs; i++) {
        assert_null(strstr(fake.logs[i], KEY_A));
        assert_null(strstr(fake.logs[i], "tdVTUWXU"));
        named = named || strstr(fake.logs[i], hex) != NULL;
    }
    assert_true(named);

    /* Two sources for the current key. */
    put("storage.encryption_key_env", DC_CFG_STRING, "DC_TEST_K", 0, 0);
    assert_int_equal(module_init(&err, NULL), DC_EINVAL);
    assert_non_null(strstr(err.message, "encryption_key_base64"));
    assert_non_null(strstr(err.message, "encryption_key_env"));
    assert_non_null(strstr(err.message, "both"));

    /* Malformed and short keys stop init: no fall back. */
    fake_reset();
    put("storage.encryption_enabled", DC_CFG_BOOL, NULL, true, 0);
    put("storage.encryption_key_base64", DC_CFG_STRING, "not-a-key", 0, 0);
    assert_int_equal(module_init(&err, NULL), DC_EINVAL);
    assert_non_null(strstr(err.message, "encryption_key_base64"));
    fake.kv[1].s[0] = '\0';
    snprintf(fake.kv[1].s, sizeof fake.kv[1].s, "%s", KEY_SHORT);
    assert_int_equal(module_init(&err, NULL), DC_EINVAL);
    assert_non_null(strstr(err.message, "16 bytes"));

    /* A key file relative to the config's directory: 0600 works, 0644 is
     * refused. */
    char path[128];
    snprintf(path, sizeof path, "%s/cur.key", tmpdir);
    write_file(path, KEY_B, 0600);
    fake_reset();
    put("storage.encryption_enabled", DC_CFG_BOOL, NULL, true, 0);
    put("storage.encryption_key_file", DC_CFG_STRING, "cur.key", 0, 0);
    assert_int_equal(module_init(&err, &id), DC_OK);
    assert_int_equal(id, id_of(KEY_B));
    assert_int_equal(chmod(path, 0644), 0);
    assert_int_equal(module_init(&err, NULL), DC_EPERM);
    assert_non_null(strstr(err.message, "encryption_key_file"));
    assert_non_null(strstr(err.message, "0644"));
    assert_int_equal(chmod(path, 0600), 0);

    /* An environment variable that is not set. */
    fake_reset();
    put("storage.encryption_enabled", DC_CFG_BOOL, NULL, true, 0);
    put("storage.encryption_key_env", DC_CFG_STRING, "DC_TEST_UNSET_KEY", 0, 0);
    unsetenv("DC_TEST_UNSET_KEY");
    assert_int_equal(module_init(&err, NULL), DC_ENOTFOUND);
    assert_non_null(strstr(err.message, "DC_TEST_UNSET_KEY"));

    /* Retired keys: each from one source; the current key stays current. */
    fake_reset();
    put("storage.encryption_enabled", DC_CFG_BOOL, NULL, true, 0);
    put("storage.encryption_key_file", DC_CFG_STRING, path, 0, 0);
    put("storage.encryption_retired_keys", DC_CFG_ARRAY, NULL, 0, 1);
    setenv("DC_TEST_OLD_KEY", KEY_A, 1);
    put("storage.encryption_retired_keys[0].key_env", DC_CFG_STRING,
        "DC_TEST_OLD_KEY", 0, 0);
    assert_int_equal(module_init(&err, &id), DC_OK);
    assert_int_equal(id, id_of(KEY_B));
    /* A retired entry naming no key, or the current key again. */
    fake.kv[2].count = 2;
    assert_int_equal(module_init(&err, NULL), DC_EINVAL);
    assert_non_null(strstr(err.message, "encryption_retired_keys[1]"));
    put("storage.encryption_retired_keys[1].key_base64", DC_CFG_STRING, KEY_B,
        0, 0);
    assert_int_equal(module_init(&err, NULL), DC_EINVAL);
    assert_non_null(strstr(err.message, "same key"));
    unsetenv("DC_TEST_OLD_KEY");
    unlink(path);
}

static int setup(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/datacave-aesgcm-XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_base64),
        cmocka_unit_test(test_key_text),
        cmocka_unit_test(test_key_file),
        cmocka_unit_test(test_key_env),
        cmocka_unit_test(test_format_known_answer),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_tamper),
        cmocka_unit_test(test_unique_nonces),
        cmocka_unit_test(test_threads),
        cmocka_unit_test(test_key_ids_and_rotation),
        cmocka_unit_test(test_module_config),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
