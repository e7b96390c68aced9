/*
 * log.h - the host's logger: one line per message, as text or JSON, with
 * time, level and the module (or "host") that wrote it.
 *
 * Threads: dc_log_write may be called from any thread; lines never
 * interleave.  The configuration calls (dc_log_set_*) are for the main
 * thread before modules start.
 */
#ifndef DATACAVE_HOST_LOG_H
#define DATACAVE_HOST_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>

#include "datacave/host.h"

typedef enum dc_log_format { DC_LOGFMT_TEXT = 0, DC_LOGFMT_JSON = 1 } dc_log_format;

/* A hook that receives every line written (after filtering), for tests. */
typedef void (*dc_log_hook)(void *ud, int level, const char *module,
                            const char *msg);

void dc_log_set_level(int level);
void dc_log_set_format(dc_log_format fmt);
/* Where lines go; default stderr.  The stream is not closed by the log. */
void dc_log_set_stream(FILE *f);
void dc_log_set_hook(dc_log_hook hook, void *ud);
bool dc_log_enabled(int level);

/* Parse "debug" / "info" / "warn" / "error"; -1 when unknown. */
int dc_log_level_parse(const char *s);
/* Parse "text" / "json"; -1 when unknown. */
int dc_log_format_parse(const char *s);

void dc_log_writev(int level, const char *module, const char *fmt, va_list ap);
#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
void dc_log_write(int level, const char *module, const char *fmt, ...);

#define dc_log_info(...) dc_log_write(DC_LOG_INFO, "host", __VA_ARGS__)
#define dc_log_warn(...) dc_log_write(DC_LOG_WARN, "host", __VA_ARGS__)
#define dc_log_error(...) dc_log_write(DC_LOG_ERROR, "host", __VA_ARGS__)
#define dc_log_debug(...) dc_log_write(DC_LOG_DEBUG, "host", __VA_ARGS__)

#endif
