/*
 * datacave/auth.h - the auth kind: checks who a client is and what it may
 * do.
 *
 * An authentication is a conversation driven by the protocol module: it
 * calls begin(), then step() with each message the client sends, relaying
 * each request step() produces, until step() reports done or fails.  The
 * requests mirror PostgreSQL's authentication codes so that pgwire can send
 * them as they are.
 *
 * Threads: begin() and hash_password() may be called from any thread at
 * once; a conversation belongs to one thread at a time.
 */
#ifndef DATACAVE_AUTH_H
#define DATACAVE_AUTH_H

#include "abi.h"
#include "error.h"

#define DC_AUTH_VTABLE_MAJOR 0
#define DC_AUTH_VTABLE_MINOR 1

typedef struct dc_auth_conv dc_auth_conv;

/* What the protocol should send to the client next. */
typedef enum dc_auth_request {
    DC_AUTH_OK = 0,             /* done: the client is authenticated   */
    DC_AUTH_CLEARTEXT = 3,      /* ask for the password in clear text  */
    DC_AUTH_MD5 = 5,            /* ask for an MD5 hash; data: 4-byte salt */
    DC_AUTH_SASL = 10,          /* data: mechanism names, each NUL-ended,
                                   then one more NUL                    */
    DC_AUTH_SASL_CONTINUE = 11, /* data: server-first-message           */
    DC_AUTH_SASL_FINAL = 12     /* data: server-final-message; the next
                                   step() returns DC_AUTH_OK            */
} dc_auth_request;

typedef struct dc_auth_step_out {
    uint32_t size;
    uint32_t request;           /* dc_auth_request                     */
    const uint8_t *data;        /* borrowed until the next step()/end() */
    size_t len;
} dc_auth_step_out;

/* Who the client is once authenticated. */
typedef struct dc_auth_identity {
    uint32_t size;
    char user[64];
    bool can_read;
    bool can_write;
    bool is_admin;
} dc_auth_identity;

typedef struct dc_auth_vtable {
    uint32_t size;
    /* Required.  Start authenticating `user` connecting from `client_addr`
     * over TLS or not.  The first step() is made with no input. */
    int (*begin)(void *instance, const char *user, const char *client_addr,
                 bool tls, dc_auth_conv **out, dc_error *err);
    /* Required.  Feed the client's answer (NULL/0 on the first call) and
     * get the next request.  `in` is the body of the client's message as
     * sent: for a cleartext or MD5 password it includes the terminating
     * NUL; for SASL it is the SASLInitialResponse / SASLResponse body.
     * A failed login returns DC_EPERM with SQLSTATE 28P01, severity
     * DC_SEV_FATAL and the same message whether the user or the password
     * was wrong; a malformed answer returns DC_EINVAL with 08P01.  After a
     * failure the only call left is end(). */
    int (*step)(dc_auth_conv *c, const uint8_t *in, size_t len,
                dc_auth_step_out *out, dc_error *err);
    /* Required.  After DC_AUTH_OK: the identity and permissions.
     * DC_EINVAL when the conversation has not succeeded. */
    int (*identity)(dc_auth_conv *c, dc_auth_identity *out);
    /* Required.  Free the conversation (at any point). */
    void (*end)(dc_auth_conv *c);
    /* Optional.  Write the stored form of `password` (NUL-terminated) into
     * out, for `datacave gen-password-hash`.  DC_ERANGE when cap is too
     * small. */
    int (*hash_password)(void *instance, const char *password, char *out,
                         size_t cap, dc_error *err);
} dc_auth_vtable;

#endif
