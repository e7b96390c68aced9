/*
 * pgwire/binary.h - PostgreSQL's binary formats (the typsend/typrecv
 * functions) for Datacave's types.
 *
 * Threads: plain functions on caller-owned data.
 */
#ifndef PGWIRE_BINARY_H
#define PGWIRE_BINARY_H

#include "datacave/error.h"
#include "datacave/types.h"
#include "pgwire/msg.h"

/* True when the type has a binary format here. */
bool pgw_bin_supported(uint32_t type);

/* Decode `len` bytes of binary `type` into *out.  Text and bytea values
 * point into `data`; numeric text is written into buf (cap bytes; at
 * least 8 * len + 64 is always enough).  Errors: 22P03 (wrong length,
 * bad numeric), 22021 (text not UTF-8), 0A000 (no binary format). */
int pgw_bin_recv(uint32_t type, int32_t typmod, const uint8_t *data,
                 size_t len, dc_value *out, char *buf, size_t cap,
                 dc_error *err);

/* Append the binary form of non-NULL *v (without its length word).
 * Errors: 0A000 (no binary format), 22P02 (malformed numeric text). */
int pgw_bin_send(const dc_value *v, pgw_buf *out, dc_error *err);

/* Numeric text ("-12.340", "NaN", "Infinity") to PostgreSQL's binary
 * numeric and back; used by the functions above. */
int pgw_numeric_to_bin(const char *txt, size_t len, pgw_buf *out);
int pgw_numeric_from_bin(const uint8_t *d, size_t len, char *out, size_t cap,
                         size_t *outlen);

/* True when the bytes are valid UTF-8. */
bool pgw_utf8_valid(const uint8_t *p, size_t n);

#endif
