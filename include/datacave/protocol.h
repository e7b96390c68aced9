/*
 * datacave/protocol.h - the protocol kind: accepts client connections and
 * speaks a wire protocol, using the sql and auth services.
 *
 * init() binds the listening socket (so that a busy port fails the start,
 * before anything is served); start() begins accepting; stop() stops
 * accepting and tells connected clients the server is shutting down; then
 * the host calls the module's shutdown().
 *
 * Threads: start() and stop() are called from the host's main thread.
 */
#ifndef DATACAVE_PROTOCOL_H
#define DATACAVE_PROTOCOL_H

#include "abi.h"
#include "error.h"

#define DC_PROTOCOL_VTABLE_MAJOR 0
#define DC_PROTOCOL_VTABLE_MINOR 1

typedef struct dc_protocol_vtable {
    uint32_t size;
    /* Required.  Begin accepting connections. */
    int (*start)(void *instance, dc_error *err);
    /* Required.  Stop accepting; finish or roll back the sessions and
     * close them.  Returns when every session has ended. */
    void (*stop)(void *instance);
} dc_protocol_vtable;

#endif
