/*
 * datacave/error.h - the one error object that crosses module boundaries.
 *
 * A caller owns a dc_error (usually on its stack), initialises it with
 * dc_error_init() and passes its address to a call.  A call that fails
 * returns a negative dc_status and may fill the error; a call that succeeds
 * leaves it untouched.  All text lives inside the struct, so an error can be
 * copied with memcpy and never needs freeing.
 *
 * The helpers here are static inline: modules compile them in and never link
 * against the host for them.  They never write past e->size, so an error
 * object owned by code built with an older header stays intact.
 *
 * Threads: a dc_error belongs to the thread that owns it.
 */
#ifndef DATACAVE_ERROR_H
#define DATACAVE_ERROR_H

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "abi.h"

typedef enum dc_severity {
    DC_SEV_ERROR = 0,   /* the statement failed                        */
    DC_SEV_FATAL = 1,   /* the session must end                        */
    DC_SEV_PANIC = 2,   /* the server must stop                        */
    DC_SEV_WARNING = 3, /* a notice: the operation went on             */
    DC_SEV_NOTICE = 4
} dc_severity;

typedef struct dc_error {
    uint32_t size;         /* sizeof(dc_error) as the owner was built   */
    int32_t status;        /* the dc_status that went with it           */
    int32_t severity;      /* dc_severity                               */
    int32_t position;      /* 1-based character offset in the statement
                              text, 0 when not tied to a place           */
    char sqlstate[6];      /* five characters and a NUL, e.g. "42601"   */
    char message[512];     /* primary message, never empty when set     */
    char detail[512];      /* optional, "" when absent                  */
    char hint[256];        /* optional, "" when absent                  */
    char context[256];     /* optional: where it happened, PostgreSQL's
                              CONTEXT ("COPY t, line 3, column a: ..."),
                              "" when absent                            */
} dc_error;

/* Generic SQLSTATEs used by the host and by modules' internal failures. */
#define DC_SQLSTATE_INTERNAL "XX000"
#define DC_SQLSTATE_OOM "53200"
#define DC_SQLSTATE_IO "58030"
#define DC_SQLSTATE_CORRUPT "XX001"
#define DC_SQLSTATE_FEATURE "0A000"
#define DC_SQLSTATE_CONFIG "F0000"

/* Reset *e to "no error". */
static inline void dc_error_init(dc_error *e)
{
    memset(e, 0, sizeof(*e));
    e->size = (uint32_t)sizeof(*e);
}

/* True when *e holds an error. */
static inline bool dc_error_isset(const dc_error *e)
{
    return e != NULL && e->message[0] != '\0';
}

/* Fill *e (when not NULL) with status, SQLSTATE and a printf-style message
 * and return `status`, so that `return dc_error_set(err, ...)` reads well.
 * Detail, hint and context are cleared; set them after with
 * dc_error_detail/hint/context. */
static inline int dc_error_setv(dc_error *e, int status, const char *sqlstate,
                                const char *fmt, va_list ap)
{
    if (e == NULL)
        return status;
    /* The owner may have been built with a smaller (older) dc_error: clear
     * only what it has.  Every field written below exists since 0.1. */
    uint32_t size = e->size ? e->size : (uint32_t)sizeof(*e);
    memset(e, 0, size < sizeof(*e) ? size : sizeof(*e));
    e->size = size;
    e->status = status;
    e->severity = DC_SEV_ERROR;
    snprintf(e->sqlstate, sizeof e->sqlstate, "%s",
             sqlstate ? sqlstate : DC_SQLSTATE_INTERNAL);
    vsnprintf(e->message, sizeof e->message, fmt, ap);
    if (e->message[0] == '\0')
        snprintf(e->message, sizeof e->message, "unknown error");
    return status;
}

#if defined(__GNUC__)
__attribute__((format(printf, 4, 5)))
#endif
static inline int dc_error_set(dc_error *e, int status, const char *sqlstate,
                               const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = dc_error_setv(e, status, sqlstate, fmt, ap);
    va_end(ap);
    return rc;
}

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static inline void dc_error_detail(dc_error *e, const char *fmt, ...)
{
    if (e == NULL)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->detail, sizeof e->detail, fmt, ap);
    va_end(ap);
}

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static inline void dc_error_hint(dc_error *e, const char *fmt, ...)
{
    if (e == NULL)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->hint, sizeof e->hint, fmt, ap);
    va_end(ap);
}

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static inline void dc_error_context(dc_error *e, const char *fmt, ...)
{
    /* An owner built before the field existed has no room for it. */
    if (e == NULL || (e->size && e->size < offsetof(dc_error, context) +
                                               sizeof e->context))
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->context, sizeof e->context, fmt, ap);
    va_end(ap);
}

/* A short English name for a status code ("out of memory", ...). */
static inline const char *dc_status_name(int status)
{
    switch (status) {
    case DC_OK: return "ok";
    case DC_ERR: return "error";
    case DC_ENOMEM: return "out of memory";
    case DC_EINVAL: return "invalid argument";
    case DC_ENOTFOUND: return "not found";
    case DC_EEXIST: return "already exists";
    case DC_EIO: return "I/O error";
    case DC_ECORRUPT: return "corrupt data";
    case DC_EBUSY: return "busy";
    case DC_ECONFLICT: return "conflict";
    case DC_EUNSUPPORTED: return "unsupported";
    case DC_ETYPE: return "wrong type";
    case DC_ERANGE: return "out of range";
    case DC_EPERM: return "permission denied";
    case DC_ECANCELED: return "canceled";
    case DC_ETIMEDOUT: return "timed out";
    case DC_ECLOSED: return "closed";
    default: return "unknown status";
    }
}

#endif
