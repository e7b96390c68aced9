/*
 * keys.c - master keys of the `aes-gcm` module: base64 text, key files,
 * environment variables, and what is derived from a key (aesgcm.h).
 *
 * Every buffer that held key material is wiped (OPENSSL_cleanse) before it
 * is released, and no message quotes key text.
 */
#include "aes-gcm/aesgcm.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

/* Labels of the two HMAC-SHA-256 derivations.  Changing either changes
 * every key id or every data key: they are part of the file format. */
static const char LABEL_DATA_KEY[] = "datacave aes-256-gcm data key v1";
static const char LABEL_KEY_ID[] = "datacave encryption key id v1";

/* A key file larger than this is not a base64 key. */
#define KEY_FILE_MAX 4096

static int b64_value(char c)
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

bool agc_base64_decode(const char *s, size_t n, uint8_t *out, size_t cap,
                       size_t *out_len)
{
    if (n % 4 != 0)
        return false;
    size_t o = 0;
    for (size_t i = 0; i < n; i += 4) {
        bool last = i + 4 == n;
        int v[4];
        int pad = 0;
        for (int j = 0; j < 4; j++) {
            char c = s[i + (size_t)j];
            if (c == '=' && last && j >= 2) {
                v[j] = 0;
                pad++;
                continue;
            }
            if (pad > 0) /* data after padding */
                return false;
            v[j] = b64_value(c);
            if (v[j] < 0)
                return false;
        }
        uint32_t w = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 |
                     (uint32_t)v[2] << 6 | (uint32_t)v[3];
        size_t k = (size_t)(3 - pad);
        /* The bits the padding drops must be zero (canonical encoding). */
        if ((pad == 1 && (w & 0xff)) || (pad == 2 && (w & 0xffff)))
            return false;
        if (cap - o < k)
            return false;
        out[o++] = (uint8_t)(w >> 16);
        if (k > 1)
            out[o++] = (uint8_t)(w >> 8);
        if (k > 2)
            out[o++] = (uint8_t)w;
    }
    *out_len = o;
    return true;
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

int agc_key_from_text(const char *text, size_t len, const char *what,
                      uint8_t key[AGC_KEY_BYTES], dc_error *err)
{
    while (len > 0 && is_space(text[0])) {
        text++;
        len--;
    }
    while (len > 0 && is_space(text[len - 1]))
        len--;
    if (len == 0)
        return dc_error_set(err, DC_EINVAL, DC_SQLSTATE_CONFIG,
                            "%s: the key is empty", what);
    if (len > KEY_FILE_MAX)
        return dc_error_set(err, DC_EINVAL, DC_SQLSTATE_CONFIG,
                            "%s: the key is %zu characters long, not a "
                            "base64 key of %d bytes",
                            what, len, AGC_KEY_BYTES);
    uint8_t buf[3 * (KEY_FILE_MAX / 4) + 3];
    size_t n = 0;
    bool ok = agc_base64_decode(text, len, buf, sizeof buf, &n);
    int rc = DC_OK;
    if (!ok) {
        rc = dc_error_set(err, DC_EINVAL, DC_SQLSTATE_CONFIG,
                          "%s: the key is not valid base64 (%zu characters)",
                          what, len);
        dc_error_hint(err, "make a key with: openssl rand -base64 32");
    } else if (n != AGC_KEY_BYTES) {
        rc = dc_error_set(err, DC_EINVAL, DC_SQLSTATE_CONFIG,
                          "%s: the key is %zu bytes long, AES-256 needs %d",
                          what, n, AGC_KEY_BYTES);
        dc_error_hint(err, "make a key with: openssl rand -base64 32");
    } else {
        memcpy(key, buf, AGC_KEY_BYTES);
    }
    OPENSSL_cleanse(buf, sizeof buf);
    return rc;
}

int agc_key_from_file(const char *path, const char *what,
                      uint8_t key[AGC_KEY_BYTES], dc_error *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        int e = errno;
        return dc_error_set(err, e == ENOENT ? DC_ENOTFOUND : DC_EIO,
                            DC_SQLSTATE_CONFIG,
                            "%s: cannot open the key file \"%s\": %s", what,
                            path, strerror(e));
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return dc_error_set(err, DC_EIO, DC_SQLSTATE_CONFIG,
                            "%s: cannot stat the key file \"%s\": %s", what,
                            path, strerror(e));
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return dc_error_set(err, DC_EINVAL, DC_SQLSTATE_CONFIG,
                            "%s: the key file \"%s\" is not a regular file",
                            what, path);
    }
    if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
        close(fd);
        dc_error_set(err, DC_EPERM, DC_SQLSTATE_CONFIG,
                     "%s: the key file \"%s\" has mode %04o: group or others "
                     "may access it",
                     what, path, (unsigned)(st.st_mode & 07777));
        dc_error_hint(err, "chmod 600 \"%s\" (or 400); only the server's "
                           "user may read a key file",
                      path);
        return DC_EPERM;
    }
    if (st.st_size > KEY_FILE_MAX) {
        close(fd);
        return dc_error_set(err, DC_EINVAL, DC_SQLSTATE_CONFIG,
                            "%s: the key file \"%s\" is %lld bytes long, not "
                            "a base64 key",
                            what, path, (long long)st.st_size);
    }
    char buf[KEY_FILE_MAX + 1];
    size_t n = 0;
    int rc = DC_OK;
    for (;;) {
        ssize_t r = read(fd, buf + n, sizeof buf - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            int e = errno;
            rc = dc_error_set(err, DC_EIO, DC_SQLSTATE_CONFIG,
                              "%s: cannot read the key file \"%s\": %s", what,
                              path, strerror(e));
            break;
        }
        if (r == 0)
            break;
        n += (size_t)r;
        if (n == sizeof buf) {
            rc = dc_error_set(err, DC_EINVAL, DC_SQLSTATE_CONFIG,
                              "%s: the key file \"%s\" is too long to be a "
                              "base64 key",
                              what, path);
            break;
        }
    }
    close(fd);
    if (rc == DC_OK) {
        char src[AGC_SOURCE_MAX + 64];
        snprintf(src, sizeof src, "%s (file \"%s\")", what, path);
        rc = agc_key_from_text(buf, n, src, key, err);
    }
    OPENSSL_cleanse(buf, sizeof buf);
    return rc;
}

int agc_key_from_env(const char *name, const char *what,
                     uint8_t key[AGC_KEY_BYTES], dc_error *err)
{
    if (name[0] == '\0' || strchr(name, '=') != NULL)
        return dc_error_set(err, DC_EINVAL, DC_SQLSTATE_CONFIG,
                            "%s: \"%s\" is not an environment variable name",
                            what, name);
    const char *v = getenv(name);
    if (v == NULL || v[0] == '\0')
        return dc_error_set(err, DC_ENOTFOUND, DC_SQLSTATE_CONFIG,
                            "%s: the environment variable %s is %s", what,
                            name, v == NULL ? "not set" : "empty");
    char src[AGC_SOURCE_MAX + 64];
    snprintf(src, sizeof src, "%s (environment variable %s)", what, name);
    return agc_key_from_text(v, strlen(v), src, key, err);
}

bool agc_derive(const uint8_t master[AGC_KEY_BYTES], uint32_t *key_id,
                uint8_t aes_key[AGC_KEY_BYTES])
{
    uint8_t h[EVP_MAX_MD_SIZE];
    unsigned hl = 0;
    if (HMAC(EVP_sha256(), master, AGC_KEY_BYTES,
             (const uint8_t *)LABEL_DATA_KEY, sizeof LABEL_DATA_KEY - 1, h,
             &hl) == NULL ||
        hl < AGC_KEY_BYTES)
        return false;
    memcpy(aes_key, h, AGC_KEY_BYTES);
    if (HMAC(EVP_sha256(), master, AGC_KEY_BYTES,
             (const uint8_t *)LABEL_KEY_ID, sizeof LABEL_KEY_ID - 1, h,
             &hl) == NULL ||
        hl < 4) {
        OPENSSL_cleanse(aes_key, AGC_KEY_BYTES);
        OPENSSL_cleanse(h, sizeof h);
        return false;
    }
    uint32_t id = (uint32_t)h[0] | (uint32_t)h[1] << 8 | (uint32_t)h[2] << 16 |
                  (uint32_t)h[3] << 24;
    *key_id = id != 0 ? id : 1;
    OPENSSL_cleanse(h, sizeof h);
    return true;
}
