/*
 * metrics_registry.h - the host's process-wide metrics registry, behind the
 * metric_* calls of dc_host_api.  Families and series are created under a
 * lock and never freed before exit (handles stay valid); updates are atomic
 * and lock-free.
 */
#ifndef DATACAVE_HOST_METRICS_REGISTRY_H
#define DATACAVE_HOST_METRICS_REGISTRY_H

#include "datacave/host.h"

int dc_metrics_register(const dc_metric_desc *desc, dc_metric **out,
                        dc_error *err);
dc_series *dc_metrics_series(dc_metric *m, const char *const *label_values);
void dc_metrics_counter_add(dc_series *s, uint64_t delta);
void dc_metrics_gauge_set(dc_series *s, double v);
void dc_metrics_gauge_add(dc_series *s, double delta);
void dc_metrics_histogram_observe(dc_series *s, double v);
int dc_metrics_visit(const dc_metrics_visitor *v, void *ud);

/* The info metrics the host registers for the metrics module to export:
 * datacave_build_info{version,abi} 1 (once), and one
 * datacave_module_info{kind,name,version} 1 per loaded module.  Failures
 * (out of memory) only leave the series out. */
void dc_metrics_build_info(void);
void dc_metrics_module_info(const char *kind, const char *name,
                            const char *version);

/* Free every family and series (tests only: invalidates all handles). */
void dc_metrics_reset(void);

#endif
