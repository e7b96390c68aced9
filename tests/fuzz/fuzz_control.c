/*
 * fuzz_control.c - libFuzzer target for the control socket's request
 * parser (host/control.c): any bytes, taken as a frame (4-byte length,
 * payload), must be accepted or refused with a reason, and an accepted
 * request must hold an absolute, NUL-terminated path that came from the
 * input.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "control.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char why[256];
    dc_control_request *req = malloc(sizeof *req);
    if (req == NULL)
        return 0;
    /* The payload parser on the whole input. */
    why[0] = '\0';
    if (dc_control_parse(data, size, req, why, sizeof why) == 0) {
        size_t n = strlen(req->path);
        if (req->op != DC_CONTROL_BACKUP || req->path[0] != '/' ||
            n + 7 != size || memcmp(req->path, data + 7, n) != 0)
            abort();
    } else if (why[0] == '\0') {
        abort(); /* a refusal always says why */
    }
    /* As a frame: header, then the payload it announces. */
    if (size >= 4) {
        uint32_t len = 0;
        why[0] = '\0';
        if (dc_control_frame_len(data, &len, why, sizeof why) == 0) {
            if (len == 0 || len > DC_CONTROL_MAX_PAYLOAD)
                abort();
            if (len <= size - 4 &&
                dc_control_parse(data + 4, len, req, why, sizeof why) == 0 &&
                req->path[0] != '/')
                abort();
        } else if (why[0] == '\0') {
            abort();
        }
    }
    free(req);
    return 0;
}
