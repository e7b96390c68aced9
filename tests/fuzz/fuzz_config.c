/*
 * fuzz_config.c - libFuzzer target for config validation: any document
 * must be accepted or refused with messages, and every lookup of the
 * accepted ones must stay in bounds.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    dc_strlist errors = {0};
    dc_config *cfg = dc_config_parse((const char *)data, size, "fuzz.toml", NULL,
                                     &errors);
    if (cfg == NULL) {
        if (errors.len == 0)
            abort(); /* a refusal always says why */
    } else {
        const char *s;
        int64_t i;
        size_t n;
        dc_config_string(cfg, "server.listen_addr", &s);
        dc_config_int(cfg, "server.max_connections", &i);
        dc_config_count(cfg, "security.auth.users", &n);
        dc_config_string(cfg, "security.auth.users[0].roles[0]", &s);
        for (uint32_t k = 1; k < DC_KIND__COUNT; k++)
            dc_config_module_for(cfg, k);
        static const dc_config_key keys[] = {
            {"a", DC_CFG_INT, "1", NULL, 0},
            {"b", DC_CFG_STRING, NULL, NULL, DC_OPT_REQUIRED}};
        dc_config_check_module(cfg, "m", keys, 2, &errors);
        dc_config_free(cfg);
    }
    dc_strlist_free(&errors);
    return 0;
}
