/*
 * datacave/abi.h - versions, status codes, module kinds and the platform
 * signature shared by the host and every module.
 *
 * This header is part of the Datacave module ABI.  Everything in it is plain
 * data: no function here needs linking against the host.
 *
 * Compatibility (see docs/abi.md): the host loads a module when the module's
 * ABI major equals the host's and the module's ABI minor is not above the
 * host's.  While the major is 0 the ABI is still being shaped: a minor bump
 * may change anything, so a 0.x host loads only modules of exactly its own
 * minor, and modules are rebuilt with each release.
 */
#ifndef DATACAVE_ABI_H
#define DATACAVE_ABI_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#define DC_ABI_MAJOR 0
#define DC_ABI_MINOR 2

/* "DCMD" read as a little-endian 32-bit number. */
#define DC_MODULE_MAGIC 0x444d4344u

/* ------------------------------------------------------------------------
 * Status codes.  Every call across the boundary returns int: 0 for success,
 * a negative dc_status otherwise.  Details (SQLSTATE, message) go into a
 * dc_error the caller passes in.
 * ---------------------------------------------------------------------- */
typedef enum dc_status {
    DC_OK = 0,
    DC_ERR = -1,          /* generic failure; the dc_error says what      */
    DC_ENOMEM = -2,       /* out of memory                                */
    DC_EINVAL = -3,       /* invalid argument or input                    */
    DC_ENOTFOUND = -4,    /* no such key, setting, service, object        */
    DC_EEXIST = -5,       /* already exists                               */
    DC_EIO = -6,          /* I/O error                                    */
    DC_ECORRUPT = -7,     /* data failed a checksum or format check       */
    DC_EBUSY = -8,        /* resource busy or locked                      */
    DC_ECONFLICT = -9,    /* write-write conflict, serialization failure  */
    DC_EUNSUPPORTED = -10,/* the callee does not implement this call     */
    DC_ETYPE = -11,       /* a value has another type than asked for      */
    DC_ERANGE = -12,      /* a value is out of range                      */
    DC_EPERM = -13,       /* permission denied                            */
    DC_ECANCELED = -14,   /* the operation was cancelled                  */
    DC_ETIMEDOUT = -15,   /* the operation timed out                      */
    DC_ECLOSED = -16      /* the object was closed or is shutting down   */
} dc_status;

/* ------------------------------------------------------------------------
 * Module kinds.  One module of each kind is loaded at most.
 * ---------------------------------------------------------------------- */
typedef enum dc_kind {
    DC_KIND_NONE = 0,
    DC_KIND_PROTOCOL = 1,   /* datacave/protocol.h   */
    DC_KIND_SQL = 2,        /* datacave/sql.h        */
    DC_KIND_STORAGE = 3,    /* datacave/storage.h    */
    DC_KIND_AUTH = 4,       /* datacave/auth.h       */
    DC_KIND_ENCRYPTION = 5, /* datacave/encryption.h */
    DC_KIND_METRICS = 6,    /* datacave/metrics.h    */
    DC_KIND__COUNT = 7      /* not a kind: one past the last */
} dc_kind;

/* ------------------------------------------------------------------------
 * Platform signature: a module built for another pointer size, byte order
 * or integer layout is refused.  Bits 0-7: sizeof(void *); 8-15:
 * sizeof(long); 16-23: sizeof(size_t); 24: big endian; 25-31: zero.
 * ---------------------------------------------------------------------- */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define DC__BIG_ENDIAN_BIT (1u << 24)
#else
#define DC__BIG_ENDIAN_BIT 0u
#endif
#define DC_PLATFORM_SIGNATURE                                                  \
    ((uint32_t)sizeof(void *) | ((uint32_t)sizeof(long) << 8) |                 \
     ((uint32_t)sizeof(size_t) << 16) | DC__BIG_ENDIAN_BIT)

/* Marks the one symbol a module exports.  Modules are built with
 * -fvisibility=hidden; this makes the entry point visible. */
#if defined(__GNUC__)
#define DC_EXPORT __attribute__((visibility("default")))
#else
#define DC_EXPORT
#endif

/* Checks, at run time, that a struct member lies within the size its
 * producer recorded in the struct's leading `size` field, i.e. that the
 * producer was built with a header that has the field:
 * DC_HAS_FIELD(ptr, type, field). */
#define DC_HAS_FIELD(ptr, type, field)                                         \
    ((ptr) != NULL && (size_t)(ptr)->size >=                                   \
                          offsetof(type, field) + sizeof(((type *)0)->field))

#endif
