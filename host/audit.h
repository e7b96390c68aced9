/*
 * audit.h - the audit log: one JSON object per line for every login
 * attempt and every statement, written by the host for the modules that
 * report them (dc_host_api.audit).
 *
 * The file is [security.audit] path (default audit.log in the data
 * directory; a relative path is relative to the data directory), opened
 * with O_APPEND and created with mode 0600.  dc_audit_reopen (SIGHUP)
 * opens the path again, so that a log rotated away (renamed) is replaced
 * by a new file.  Each line is written with one write(), so lines of
 * concurrent sessions never interleave.
 *
 * Threads: dc_audit_write and dc_audit_enabled may be called from any
 * thread at any time; open, reopen and close come from the main thread.
 */
#ifndef DATACAVE_HOST_AUDIT_H
#define DATACAVE_HOST_AUDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "datacave/host.h"

/* Open the audit log when [security.audit] enabled is true (nothing to do
 * otherwise).  Returns 0, or -1 with the reason in errbuf. */
int dc_audit_open(const dc_config *cfg, char *errbuf, size_t cap);
/* Open the path again and switch to the new file (SIGHUP).  On failure the
 * old file stays in use and the reason is logged.  Returns 0 or -1. */
int dc_audit_reopen(void);
/* Close the file; the log is off afterwards. */
void dc_audit_close(void);

bool dc_audit_enabled(void);
/* The file being written, or NULL when the log is off. */
const char *dc_audit_path(void);
/* Write one event (nothing when the log is off). */
void dc_audit_write(const dc_audit_event *ev);

/* The line for one event: a JSON object and "\n", malloc'd (the caller
 * frees it), *len its length; NULL when out of memory.  Every key is
 * present in every line (null when it does not apply).  Text that is not
 * valid UTF-8 has each bad byte replaced by U+FFFD.  A statement longer
 * than max_statement bytes (0: no limit) is cut at a character boundary
 * and statement_truncated is true.  now_ns stands for a time_ns of 0. */
char *dc_audit_format(const dc_audit_event *ev, int64_t now_ns,
                      size_t max_statement, size_t *len);

/* Copy s (n bytes) into out as valid UTF-8: each byte that does not
 * start a well-formed sequence (overlong forms, surrogates and code
 * points above U+10FFFF are not well-formed) becomes U+FFFD.  out needs
 * 3 * n + 1 bytes; returns the length written (a NUL follows). */
size_t dc_audit_utf8_clean(const char *s, size_t n, char *out);

#endif
