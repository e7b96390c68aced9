/*
 * scram.h - SCRAM-SHA-256 (RFC 5802, RFC 7677) as PostgreSQL speaks it, for
 * the password module: the stored secret ("verifier"), base64, and the
 * server side of one exchange.
 *
 * Stored form, the same text PostgreSQL keeps in pg_authid.rolpassword:
 *
 *     SCRAM-SHA-256$<iterations>:<base64 salt>$<base64 StoredKey>:<base64
 * ServerKey>
 *
 * with SaltedPassword = PBKDF2-HMAC-SHA-256(password, salt, iterations),
 * ClientKey = HMAC(SaltedPassword, "Client Key"), StoredKey = SHA-256(
 * ClientKey) and ServerKey = HMAC(SaltedPassword, "Server Key").  The
 * password is used as its bytes (no SASLprep normalisation): for ASCII
 * passwords that is what SASLprep gives as well.
 *
 * Threads: every function is reentrant; an exchange belongs to one thread
 * at a time.
 */
#ifndef DATACAVE_PASSWORD_SCRAM_H
#define DATACAVE_PASSWORD_SCRAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <datacave/error.h>

#define SCRAM_KEY_LEN            32 /* SHA-256 output                     */
#define SCRAM_SALT_LEN           16 /* salt of secrets made here          */
#define SCRAM_SALT_MAX           64 /* longest salt accepted when parsing */
#define SCRAM_DEFAULT_ITERATIONS 4096
#define SCRAM_NONCE_RAW_LEN      18   /* random bytes of a server nonce     */
#define SCRAM_MSG_MAX            2048 /* longest client message accepted    */
#define SCRAM_MECHANISM          "SCRAM-SHA-256"
/* Longest stored form: prefix, 10-digit count, base64 of the longest salt
 * and of two keys, separators and NUL. */
#define SCRAM_SECRET_TEXT_MAX 256

/* A user's stored SCRAM secret. */
typedef struct scram_secret {
    uint32_t iterations; /* >= 1                               */
    size_t salt_len;     /* 1..SCRAM_SALT_MAX                  */
    uint8_t salt[SCRAM_SALT_MAX];
    uint8_t stored_key[SCRAM_KEY_LEN];
    uint8_t server_key[SCRAM_KEY_LEN];
} scram_secret;

/* ---- base64 (RFC 4648, with padding) ------------------------------- */

/* Length of the base64 text of n bytes, without a NUL. */
size_t scram_b64_len(size_t n);

/* Write the base64 text of in[0..n) and a NUL to out, which must hold
 * scram_b64_len(n) + 1 bytes.  Returns the text's length. */
size_t scram_b64_encode(const uint8_t *in, size_t n, char *out);

/* Decode the base64 text in[0..n) (padded, no whitespace) into out, at most
 * cap bytes.  Returns false for malformed text or when it would not fit;
 * *outlen gets the decoded length on success. */
bool scram_b64_decode(const char *in, size_t n, uint8_t *out, size_t cap,
                      size_t *outlen);

/* ---- secrets -------------------------------------------------------- */

/* Compute the secret of password[0..len) with this salt and iteration
 * count into *out.  Returns DC_OK, or DC_ERR when OpenSSL fails (err
 * filled, XX000). */
int scram_secret_make(const char *password, size_t len, const uint8_t *salt,
                      size_t salt_len, uint32_t iterations, scram_secret *out,
                      dc_error *err);

/* Parse the stored form `text` into *out.  Returns false when it is not a
 * well-formed SCRAM-SHA-256 secret (*out is then unspecified). */
bool scram_secret_parse(const char *text, scram_secret *out);

/* Write the stored form of *s and a NUL into out.  Returns DC_OK, or
 * DC_ERANGE when cap is too small (out then holds "" when cap > 0). */
int scram_secret_format(const scram_secret *s, char *out, size_t cap);

/* Check a cleartext password against *s: *match gets whether the password
 * derives the same StoredKey and ServerKey (compared in constant time).
 * The work (one PBKDF2 run) is the same whether it matches or not.
 * Returns DC_OK, or DC_ERR when OpenSSL fails (err filled). */
int scram_password_check(const scram_secret *s, const char *password,
                         size_t len, bool *match, dc_error *err);

/* ---- one exchange, server side -------------------------------------- */

typedef enum scram_state {
    SCRAM_WAIT_CLIENT_FIRST = 0,
    SCRAM_WAIT_CLIENT_FINAL,
    SCRAM_DONE,  /* the client proved the password     */
    SCRAM_FAILED /* only scram_exchange_free() is left */
} scram_state;

typedef struct scram_exchange {
    scram_state state;
    bool doomed;             /* always fail at the proof (unknown user)    */
    scram_secret secret;     /* copy of the user's (or a mock) secret      */
    char gs2_header[4];      /* "n,," or "y,," as the client sent it       */
    char *client_first_bare; /* owned, NUL-terminated                      */
    char *server_first;      /* owned, NUL-terminated                      */
    size_t server_first_len;
    char *nonce;           /* client nonce + server nonce, owned         */
    char server_final[64]; /* "v=" + base64 ServerSignature              */
    size_t server_final_len;
} scram_exchange;

/* Start an exchange against `secret` (copied).  A doomed exchange runs
 * every step the same way but its proof never verifies: it stands in for
 * an unknown user. */
void scram_exchange_init(scram_exchange *x, const scram_secret *secret,
                         bool doomed);

/* Free what the exchange owns and wipe its secret.  *x may then be
 * initialised again. */
void scram_exchange_free(scram_exchange *x);

/* Make a fresh server nonce: SCRAM_NONCE_RAW_LEN random bytes in base64,
 * NUL-terminated, into out (cap >= scram_b64_len(SCRAM_NONCE_RAW_LEN)+1).
 * Returns DC_OK or DC_ERR (err filled, XX000). */
int scram_server_nonce(char *out, size_t cap, dc_error *err);

/* Take the client-first-message msg[0..len) (gs2 header and bare message)
 * and answer the server-first-message "r=<client nonce><server_nonce>,
 * s=<salt>,i=<iterations>".  server_nonce is printable ASCII without ','.
 * On success *reply and *reply_len point into *x until scram_exchange_free().
 * Errors (state becomes SCRAM_FAILED, err filled): DC_EINVAL / 08P01 for
 * a malformed message or channel binding requested ("p="); DC_EUNSUPPORTED
 * / 0A000 for an authorization identity or a mandatory extension ("m=");
 * DC_ENOMEM / 53200. */
int scram_client_first(scram_exchange *x, const char *msg, size_t len,
                       const char *server_nonce, const char **reply,
                       size_t *reply_len, dc_error *err);

/* Take the client-final-message msg[0..len), check the channel binding,
 * nonce and proof, and answer the server-final-message "v=<signature>"
 * (*reply as above).  Errors (state becomes SCRAM_FAILED): DC_EPERM when
 * the proof is wrong or the exchange is doomed -- err is NOT filled, the
 * caller words the failed-login error; DC_EINVAL / 08P01 for a malformed
 * message, a wrong nonce or channel binding data (err filled); DC_ERR /
 * XX000 when OpenSSL fails. */
int scram_client_final(scram_exchange *x, const char *msg, size_t len,
                       const char **reply, size_t *reply_len, dc_error *err);

#endif
