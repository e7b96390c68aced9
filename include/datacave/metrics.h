/*
 * datacave/metrics.h - the metrics kind: exports the host's metrics
 * registry (host.h: metric_register, metrics_visit) and the server's
 * health, for example over HTTP for Prometheus.
 *
 * The module starts serving in init() (so that health checks answer while
 * other modules recover) and stops in shutdown().
 *
 * Threads: render() may be called from any thread.
 */
#ifndef DATACAVE_METRICS_H
#define DATACAVE_METRICS_H

#include "abi.h"
#include "error.h"

#define DC_METRICS_VTABLE_MAJOR 0
#define DC_METRICS_VTABLE_MINOR 1

/* Receives text; `data` is borrowed for the duration of the call. */
typedef int (*dc_text_fn)(void *ud, const char *data, size_t len);

typedef struct dc_metrics_vtable {
    uint32_t size;
    /* Optional.  Write the current metrics in the module's exposition
     * format, in pieces, to fn.  Used by the command line and tests. */
    int (*render)(void *instance, dc_text_fn fn, void *ud, dc_error *err);
} dc_metrics_vtable;

#endif
