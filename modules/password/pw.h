/*
 * pw.h - what the files of the password module share: the method, the
 * users read from [security.auth], the instance, and the helpers over them.
 * password.c holds the entry point and the conversations; users.c reads
 * the configuration; scram.c does SCRAM-SHA-256.
 *
 * Threads: the instance is written by init() only and read by any number
 * of conversations afterwards.
 */
#ifndef DATACAVE_PASSWORD_PW_H
#define DATACAVE_PASSWORD_PW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <datacave/auth.h>
#include <datacave/module.h>

#include "scram.h"

#define PW_NAME     "password"
#define PW_NAME_MAX 64 /* dc_auth_identity.user        */
#define PW_MD5_LEN  35 /* "md5" + 32 hex digits        */

typedef enum pw_method {
    PW_TRUST = 0,
    PW_PASSWORD, /* cleartext (PostgreSQL's "password")         */
    PW_MD5,
    PW_SCRAM
} pw_method;

/* Names of the methods as [module.password] method spells them, indexed
 * by pw_method. */
extern const char *const pw_method_names[4];

/* One configured user and what it may do. */
typedef struct pw_user {
    char name[PW_NAME_MAX];
    bool can_read, can_write, is_admin;
    bool has_scram;
    scram_secret scram;
    bool has_md5;
    char md5[PW_MD5_LEN + 1]; /* "md5" + md5(password + name) */
    /* Borrowed from the config during init() only. */
    const char *hash_text, *plain_text;
} pw_user;

/* The module's instance; immutable after init(). */
typedef struct pw_instance {
    dc_host *host;
    const dc_host_api *api;
    pw_method method;
    uint32_t iterations;             /* for new and mock secrets     */
    uint8_t mock_key[SCRAM_KEY_LEN]; /* keys mock secrets            */
    size_t nusers;
    pw_user *users;
    dc_series *attempts_ok;   /* datacave_auth_attempts_total{result="ok"}; */
    dc_series *attempts_fail; /* NULL when not registered (ignored)        */
} pw_instance;

/* Read [module.password] (method, scram_iterations) and [security.auth]
 * (roles, users) into inst, whose host and api are set: fills method,
 * iterations, mock_key, users and nusers (inst->users is malloc'd, also on
 * failure, for the caller to free).  Logs a warning per password_plain.
 * Errors: F0000 naming the key or the user, DC_ENOMEM, DC_ERR (OpenSSL). */
int pw_config_read(pw_instance *inst, dc_error *err);

/* The configured user called `name`, or NULL. */
const pw_user *pw_find_user(const pw_instance *inst, const char *name);

/* The mock SCRAM secret of `name`: salt and keys derived from the name and
 * inst->mock_key, so one name always shows the same salt.  Returns false
 * when OpenSSL fails. */
bool pw_mock_secret(const pw_instance *inst, const char *name,
                    scram_secret *out);

/* out = "md5" + hex(MD5(a || b)), NUL-terminated.  Returns false when
 * OpenSSL fails. */
bool pw_md5_hex(const void *a, size_t alen, const void *b, size_t blen,
                char out[PW_MD5_LEN + 1]);

/* Copy src into dst, cut to PW_NAME_MAX - 1 bytes. */
void pw_copy_name(char dst[PW_NAME_MAX], const char *src);

#endif
