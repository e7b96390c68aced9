/*
 * none.c - the `none` encryption module: stores data as it is.
 *
 * It implements the encryption vtable so that the storage engine has one
 * code path whether or not data is encrypted: seal() and open() copy their
 * input, overhead() is 0 and the key id is 0, which the storage engine
 * records in its files as "not encrypted"; check_key() accepts only key
 * id 0, so a store written by an encrypting module is refused by name.  It refuses to start when the
 * config asks for encryption ([storage] encryption_enabled = true), so an
 * operator never believes data is encrypted when it is not.
 *
 * Threads: every call is safe from any number of threads; there is no state.
 */
#include <string.h>

#include "datacave/encryption.h"
#include "datacave/module.h"

/* The instance: nothing to keep, but init must hand out something. */
static int none_marker;

/* Copy `in` to `out`; the work of both seal and open. */
static int copy_through(uint32_t key_id, const uint8_t *in, size_t len,
                        uint8_t *out, size_t out_cap, size_t *out_len,
                        dc_error *err)
{
    if (key_id != 0)
        return dc_error_set(err, DC_ENOTFOUND, DC_SQLSTATE_CORRUPT,
                            "data was encrypted under key id %u, but the "
                            "encryption module is 'none'",
                            key_id);
    if (out_cap < len)
        return dc_error_set(err, DC_EINVAL, DC_SQLSTATE_INTERNAL,
                            "output buffer of %zu bytes, %zu needed", out_cap,
                            len);
    if (len)
        memmove(out, in, len);
    *out_len = len;
    return DC_OK;
}

static size_t none_overhead(void *instance)
{
    (void)instance;
    return 0;
}

static uint32_t none_current_key_id(void *instance)
{
    (void)instance;
    return 0;
}

static int none_seal(void *instance, uint32_t key_id, const uint8_t *aad,
                     size_t aad_len, const uint8_t *in, size_t len, uint8_t *out,
                     size_t out_cap, size_t *out_len, dc_error *err)
{
    (void)instance;
    (void)aad;
    (void)aad_len;
    return copy_through(key_id, in, len, out, out_cap, out_len, err);
}

static int none_open(void *instance, uint32_t key_id, const uint8_t *aad,
                     size_t aad_len, const uint8_t *in, size_t len, uint8_t *out,
                     size_t out_cap, size_t *out_len, dc_error *err)
{
    (void)instance;
    (void)aad;
    (void)aad_len;
    return copy_through(key_id, in, len, out, out_cap, out_len, err);
}

/* Only data stored in the clear (key id 0) can be read without a cipher. */
static int none_check_key(void *instance, uint32_t key_id, dc_error *err)
{
    (void)instance;
    if (key_id == 0)
        return DC_OK;
    dc_error_set(err, DC_ENOTFOUND, DC_SQLSTATE_CONFIG,
                 "sealed under key id %08x, but the encryption module is "
                 "'none'",
                 key_id);
    dc_error_hint(err, "set [modules] encryption = \"aes-gcm\" with the key "
                       "the data was encrypted with");
    return DC_ENOTFOUND;
}

static int none_init(dc_host *host, const dc_host_api *api, void **instance,
                     dc_error *err)
{
    bool enabled = false;
    if (api->config_bool(host, "storage.encryption_enabled", &enabled) == DC_OK &&
        enabled) {
        dc_error_set(err, DC_EINVAL, DC_SQLSTATE_CONFIG,
                     "[storage] encryption_enabled is true, but [modules] "
                     "encryption is 'none'");
        dc_error_hint(err, "set [modules] encryption = \"aes-gcm\", or "
                           "encryption_enabled = false");
        return DC_EINVAL;
    }
    *instance = &none_marker;
    return DC_OK;
}

static void none_shutdown(void *instance)
{
    (void)instance;
}

static const dc_encryption_vtable none_vtable = {
    .size = sizeof(dc_encryption_vtable),
    .overhead = none_overhead,
    .current_key_id = none_current_key_id,
    .seal = none_seal,
    .open = none_open,
    .check_key = none_check_key,
};

static const dc_module_desc none_desc = {
    DC_MODULE_HEADER(DC_KIND_ENCRYPTION, DC_ENCRYPTION_VTABLE_MAJOR,
                     DC_ENCRYPTION_VTABLE_MINOR),
    .name = "none",
    .version = "0.1.0",
    .description = "no encryption at rest: data is stored as written",
    .init = none_init,
    .shutdown = none_shutdown,
    .vtable = &none_vtable,
};

DC_EXPORT const dc_module_desc *datacave_module_none_v0(void)
{
    return &none_desc;
}
