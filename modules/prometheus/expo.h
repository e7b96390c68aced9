/*
 * prometheus/expo.h - the Prometheus text exposition format (version
 * 0.0.4) of the host's metrics registry and of the process figures.
 *
 * Pure: no sockets, no host.  The registry is read through a visit
 * function (the host's metrics_visit in the module, the registry itself in
 * the unit test), the process figures come in a struct (proc.c reads them
 * from /proc).  The output is built in memory, so the registry's lock is
 * never held while a client is being written to.
 *
 * What is written, family by family in registration order, then the
 * process families:
 *   # HELP <name> <help, with \ and newline escaped>
 *   # TYPE <name> counter|gauge|histogram
 *   <name>{<label>="<value, with \ " and newline escaped>",...} <value>
 * A histogram writes <name>_bucket{...,le="<bound>"} (cumulative, the last
 * one le="+Inf"), <name>_sum and <name>_count per series.  A family without
 * series is left out (it has nothing to say yet).  A process family whose
 * name the registry already holds is left out: no name appears twice.
 */
#ifndef PROMETHEUS_EXPO_H
#define PROMETHEUS_EXPO_H

#include <stdbool.h>
#include <stddef.h>

#include "datacave/host.h"

/* A growing text buffer; `oom` sticks once an append failed. */
typedef struct prom_buf {
    char *data;     /* malloc'd, NUL-terminated when len > 0 */
    size_t len, cap;
    bool oom;
} prom_buf;

void prom_buf_append(prom_buf *b, const char *s, size_t n);
void prom_buf_puts(prom_buf *b, const char *s);
void prom_buf_free(prom_buf *b);

/* The figures of the standard Prometheus process collector.  A figure
 * whose `have_` flag is false could not be read and is left out. */
typedef struct prom_process {
    bool have_cpu, have_rss, have_vms, have_fds, have_max_fds, have_start;
    double cpu_seconds;          /* process_cpu_seconds_total          */
    double resident_bytes;       /* process_resident_memory_bytes      */
    double virtual_bytes;        /* process_virtual_memory_bytes       */
    double open_fds;             /* process_open_fds                   */
    double max_fds;              /* process_max_fds                    */
    double start_time_seconds;   /* process_start_time_seconds         */
} prom_process;

/* Walks the registry: host.h's metrics_visit without the dc_host. */
typedef int (*prom_visit_fn)(void *ctx, const dc_metrics_visitor *v, void *ud);

/* The Content-Type of what prom_render writes. */
#define PROM_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* Append the exposition of every family `visit` reports, then of `proc`
 * (when not NULL), to `out`.  Returns DC_OK, or DC_ENOMEM (out->oom). */
int prom_render(prom_visit_fn visit, void *vctx, const prom_process *proc,
                prom_buf *out);

/* A sample value as the format writes it: "NaN", "+Inf", "-Inf", an
 * integer without a fraction, otherwise the shortest of %.15g / %.17g
 * that reads back as the same double.  `cap` >= 32. */
void prom_format_value(double v, char *buf, size_t cap);

#endif
