/*
 * xorenc.c - the `test-xor` encryption module, for tests of the storage
 * engine's encryption path only: NOT a cipher anyone should use.
 *
 * seal() writes a 4-byte nonce (a counter: unique per call), the input XORed
 * with a keystream derived from the key id and the nonce, and a 4-byte tag
 * over the key, the additional data, the nonce and the stored bytes; open()
 * checks the tag (DC_ECORRUPT when it does not match) before undoing the
 * XOR.  So it behaves like an AEAD for what the engine relies on: output
 * that differs from the plaintext, a fresh nonce per call, tamper and
 * misplacement detection, unknown key ids refused.  The key id is taken
 * from [module.test-xor] key_id (default 7); ids 1..key_id are readable, so
 * a test can move to a new key and still read files under old ones.
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "datacave/encryption.h"
#include "datacave/module.h"

typedef struct xor_inst {
    uint32_t key_id;
    _Atomic uint32_t counter;
} xor_inst;

static uint8_t stream(uint32_t key, uint32_t nonce, size_t i)
{
    uint32_t x = key * 2654435761u ^ nonce * 40503u ^ (uint32_t)i * 2246822519u;
    x ^= x >> 15;
    x *= 2246822519u;
    x ^= x >> 13;
    return (uint8_t)(x ^ (x >> 8) ^ 0x5a);
}

/* FNV-1a over the key, aad, nonce and stored bytes. */
static uint32_t tag(uint32_t key, const uint8_t *aad, size_t aad_len,
                    const uint8_t *nonce, const uint8_t *ct, size_t len)
{
    uint32_t h = 2166136261u ^ key;
    for (size_t i = 0; i < aad_len; i++)
        h = (h ^ aad[i]) * 16777619u;
    for (int i = 0; i < 4; i++)
        h = (h ^ nonce[i]) * 16777619u;
    for (size_t i = 0; i < len; i++)
        h = (h ^ ct[i]) * 16777619u;
    return h;
}

static size_t xor_overhead(void *instance)
{
    (void)instance;
    return 8;
}

static uint32_t xor_current_key_id(void *instance)
{
    return ((xor_inst *)instance)->key_id;
}

static int xor_seal(void *instance, uint32_t key_id, const uint8_t *aad,
                    size_t aad_len, const uint8_t *in, size_t len, uint8_t *out,
                    size_t out_cap, size_t *out_len, dc_error *err)
{
    xor_inst *x = instance;
    if (key_id == 0 || key_id > x->key_id)
        return dc_error_set(err, DC_ENOTFOUND, "XX000", "unknown key id %u",
                            key_id);
    if (out_cap < len + 8)
        return dc_error_set(err, DC_EINVAL, "XX000", "output too small");
    uint32_t nonce = atomic_fetch_add(&x->counter, 1);
    memcpy(out, &nonce, 4);
    for (size_t i = 0; i < len; i++)
        out[4 + i] = in[i] ^ stream(key_id, nonce, i);
    uint32_t t = tag(key_id, aad, aad_len, out, out + 4, len);
    memcpy(out + 4 + len, &t, 4);
    *out_len = len + 8;
    return DC_OK;
}

static int xor_open(void *instance, uint32_t key_id, const uint8_t *aad,
                    size_t aad_len, const uint8_t *in, size_t len, uint8_t *out,
                    size_t out_cap, size_t *out_len, dc_error *err)
{
    xor_inst *x = instance;
    if (key_id == 0 || key_id > x->key_id)
        return dc_error_set(err, DC_ENOTFOUND, "XX000", "unknown key id %u",
                            key_id);
    if (len < 8 || out_cap < len - 8)
        return dc_error_set(err, DC_ECORRUPT, "XX001", "sealed data too short");
    size_t n = len - 8;
    uint32_t want = tag(key_id, aad, aad_len, in, in + 4, n), got;
    memcpy(&got, in + 4 + n, 4);
    if (want != got)
        return dc_error_set(err, DC_ECORRUPT, "XX001",
                            "authentication failed");
    uint32_t nonce;
    memcpy(&nonce, in, 4);
    for (size_t i = 0; i < n; i++)
        out[i] = in[4 + i] ^ stream(key_id, nonce, i);
    *out_len = n;
    return DC_OK;
}

static int xor_init(dc_host *host, const dc_host_api *api, void **instance,
                    dc_error *err)
{
    int64_t key = 7;
    api->config_int(host, ".key_id", &key);
    if (key < 1 || key > 1000)
        return dc_error_set(err, DC_EINVAL, "F0000", "key_id out of range");
    xor_inst *x = calloc(1, sizeof *x);
    if (x == NULL)
        return dc_error_set(err, DC_ENOMEM, "53200", "out of memory");
    x->key_id = (uint32_t)key;
    *instance = x;
    return DC_OK;
}

static void xor_shutdown(void *instance)
{
    free(instance);
}

static const dc_encryption_vtable xor_vtable = {
    .size = sizeof(dc_encryption_vtable),
    .overhead = xor_overhead,
    .current_key_id = xor_current_key_id,
    .seal = xor_seal,
    .open = xor_open,
};

static const dc_config_key xor_keys[] = {
    {.name = "key_id", .type = DC_CFG_INT, .default_value = "7",
     .description = "key id new data is sealed under"},
};

static const dc_module_desc xor_desc = {
    DC_MODULE_HEADER(DC_KIND_ENCRYPTION, DC_ENCRYPTION_VTABLE_MAJOR,
                     DC_ENCRYPTION_VTABLE_MINOR),
    .name = "test-xor",
    .version = "0.1.0",
    .description = "test-only encryption stand-in (not secure)",
    .config_keys = xor_keys,
    .nconfig_keys = 1,
    .init = xor_init,
    .shutdown = xor_shutdown,
    .vtable = &xor_vtable,
};

DC_EXPORT const dc_module_desc *datacave_module_test_xor_v0(void)
{
    return &xor_desc;
}
