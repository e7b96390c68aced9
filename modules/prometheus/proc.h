/*
 * prometheus/proc.h - the figures of the standard Prometheus process
 * collector (process_cpu_seconds_total, process_resident_memory_bytes,
 * process_virtual_memory_bytes, process_open_fds, process_max_fds,
 * process_start_time_seconds), read from /proc at scrape time.
 */
#ifndef PROMETHEUS_PROC_H
#define PROMETHEUS_PROC_H

#include <stdbool.h>

#include "prometheus/expo.h"

/* When the process started, in seconds since the Unix epoch (the boot
 * time of /proc/stat plus the start of /proc/self/stat).  false when
 * /proc cannot say. */
bool prom_process_start_time(double *out);

/* Read the figures now into *p; the start time is the one given (read
 * once with prom_process_start_time). */
void prom_process_read(prom_process *p, bool have_start, double start);

#endif
