/*
 * fuzz_elf.c - libFuzzer target for the ELF reader the loader uses to find
 * a module's entry symbol: any bytes must give a list or an error, never a
 * crash or an out-of-bounds read.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "elfread.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* A private copy, so reads past the end are caught by ASan. */
    uint8_t *buf = malloc(size ? size : 1);
    if (buf == NULL)
        return 0;
    memcpy(buf, data, size);
    dc_strlist exports = {0};
    char err[256];
    if (dc_elf_exports_mem(buf, size, &exports, err, sizeof err) == 0) {
        for (size_t i = 0; i < exports.len; i++)
            if (strlen(exports.items[i]) == 0)
                abort(); /* empty names are never listed */
    } else if (err[0] == '\0') {
        abort(); /* every failure says why */
    }
    dc_strlist_free(&exports);
    free(buf);
    return 0;
}
