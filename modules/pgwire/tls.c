/*
 * tls.c - TLS for client connections through OpenSSL: one server context
 * (TLS 1.2 or newer, the configured certificate chain and key), one SSL
 * object per connection on its blocking socket.
 */
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pgwire/pgwire.h"

struct pgw_tls {
    SSL_CTX *ctx;
};

static void last_ssl_error(char *out, size_t cap)
{
    unsigned long e = ERR_get_error();
    if (e == 0) {
        snprintf(out, cap, "unknown TLS error");
        return;
    }
    ERR_error_string_n(e, out, cap);
    ERR_clear_error();
}

/* Contract: on success srv->tls owns a context ready for handshakes; on
 * failure *err names the file and the reason, and nothing is left. */
int pgw_tls_init(pgw_server *srv, const char *cert, const char *key,
                 dc_error *err)
{
    char why[256];
    if (access(cert, R_OK) != 0)
        return dc_error_set(err, DC_EINVAL, DC_SQLSTATE_CONFIG,
                            "TLS is enabled but the certificate file \"%s\" "
                            "cannot be read", cert);
    if (access(key, R_OK) != 0)
        return dc_error_set(err, DC_EINVAL, DC_SQLSTATE_CONFIG,
                            "TLS is enabled but the private key file \"%s\" "
                            "cannot be read", key);
    pgw_tls *t = calloc(1, sizeof *t);
    if (!t)
        return dc_error_set(err, DC_ENOMEM, DC_SQLSTATE_OOM, "out of memory");
    t->ctx = SSL_CTX_new(TLS_server_method());
    if (!t->ctx) {
        last_ssl_error(why, sizeof why);
        free(t);
        return dc_error_set(err, DC_ERR, DC_SQLSTATE_CONFIG,
                            "could not create TLS context: %s", why);
    }
    SSL_CTX_set_min_proto_version(t->ctx, TLS1_2_VERSION);
    SSL_CTX_set_options(t->ctx, SSL_OP_NO_RENEGOTIATION);
    int rc = DC_OK;
    if (SSL_CTX_use_certificate_chain_file(t->ctx, cert) != 1) {
        last_ssl_error(why, sizeof why);
        rc = dc_error_set(err, DC_EINVAL, DC_SQLSTATE_CONFIG,
                          "could not load TLS certificate file \"%s\": %s",
                          cert, why);
    } else if (SSL_CTX_use_PrivateKey_file(t->ctx, key, SSL_FILETYPE_PEM) != 1) {
        last_ssl_error(why, sizeof why);
        rc = dc_error_set(err, DC_EINVAL, DC_SQLSTATE_CONFIG,
                          "could not load TLS private key file \"%s\": %s",
                          key, why);
    } else if (SSL_CTX_check_private_key(t->ctx) != 1) {
        last_ssl_error(why, sizeof why);
        rc = dc_error_set(err, DC_EINVAL, DC_SQLSTATE_CONFIG,
                          "TLS private key \"%s\" does not match the "
                          "certificate \"%s\": %s", key, cert, why);
    }
    if (rc) {
        SSL_CTX_free(t->ctx);
        free(t);
        return rc;
    }
    srv->tls = t;
    return DC_OK;
}

void pgw_tls_free(pgw_tls *t)
{
    if (!t)
        return;
    SSL_CTX_free(t->ctx);
    free(t);
}

int pgw_tls_accept(pgw_tls *t, int fd, void **out, char *msg, size_t cap)
{
    SSL *ssl = SSL_new(t->ctx);
    if (!ssl) {
        last_ssl_error(msg, cap);
        return DC_ENOMEM;
    }
    if (SSL_set_fd(ssl, fd) != 1 || SSL_accept(ssl) != 1) {
        last_ssl_error(msg, cap);
        SSL_free(ssl);
        return DC_EIO;
    }
    *out = ssl;
    return DC_OK;
}

long pgw_tls_read(void *ssl, void *buf, size_t n)
{
    size_t got = 0;
    int r = SSL_read_ex(ssl, buf, n, &got);
    if (r == 1)
        return (long)got;
    int e = SSL_get_error(ssl, r);
    ERR_clear_error();
    return e == SSL_ERROR_ZERO_RETURN ? 0 : -1;
}

long pgw_tls_write(void *ssl, const void *buf, size_t n)
{
    size_t put = 0;
    int r = SSL_write_ex(ssl, buf, n, &put);
    if (r == 1)
        return (long)put;
    ERR_clear_error();
    return -1;
}

bool pgw_tls_pending(void *ssl)
{
    return SSL_pending(ssl) > 0;
}

void pgw_tls_close(void *ssl)
{
    if (!ssl)
        return;
    SSL_shutdown(ssl);
    ERR_clear_error();
    SSL_free(ssl);
}
