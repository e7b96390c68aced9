/*
 * pgwire/msg.h - PostgreSQL v3 message decoding and encoding, without
 * sockets.
 *
 * Decoders take one message body (the bytes after the type byte and the
 * length word) and fill a struct whose pointers borrow from that body.
 * Every length is checked against the bytes present; a malformed body
 * fails with SQLSTATE 08P01 in the dc_error.  Encoders append to a growing
 * pgw_buf; an allocation failure is remembered in the buffer (oom) and
 * reported once by the caller.
 *
 * Threads: plain functions on caller-owned data.
 */
#ifndef PGWIRE_MSG_H
#define PGWIRE_MSG_H

#include <stddef.h>
#include <stdint.h>

#include "datacave/error.h"
#include "datacave/types.h"

/* Start-up packet codes (the first word after the length). */
#define PGW_PROTO_30 196608u        /* 3.0                                */
#define PGW_SSL_REQUEST 80877103u
#define PGW_GSSENC_REQUEST 80877104u
#define PGW_CANCEL_REQUEST 80877102u
#define PGW_MAX_STARTUP 10000u      /* PostgreSQL's limit on the packet   */
#define PGW_MAX_PARAMS 64           /* start-up parameters kept           */
#define PGW_MAX_BIND 32767          /* parameters / formats in one Bind   */

/* ---- reading --------------------------------------------------------- */

typedef struct pgw_rd {
    const uint8_t *p;
    size_t len, pos;
    int bad;                        /* set once a read went past the end  */
} pgw_rd;

void pgw_rd_init(pgw_rd *r, const uint8_t *p, size_t len);
uint8_t pgw_rd_u8(pgw_rd *r);
int16_t pgw_rd_i16(pgw_rd *r);
int32_t pgw_rd_i32(pgw_rd *r);
/* A NUL-terminated string inside the body; NULL (and bad) when none. */
const char *pgw_rd_str(pgw_rd *r);
const uint8_t *pgw_rd_bytes(pgw_rd *r, size_t n);

/* ---- start-up -------------------------------------------------------- */

typedef enum pgw_startup_kind {
    PGW_START_PROTOCOL = 1,         /* StartupMessage                     */
    PGW_START_SSL,                  /* SSLRequest                         */
    PGW_START_GSSENC,               /* GSSENCRequest                      */
    PGW_START_CANCEL                /* CancelRequest                      */
} pgw_startup_kind;

typedef struct pgw_startup {
    int kind;                       /* pgw_startup_kind                   */
    uint32_t version;               /* PROTOCOL: major << 16 | minor      */
    int32_t cancel_pid, cancel_key; /* CANCEL                             */
    uint32_t nparams;               /* PROTOCOL: name/value pairs kept    */
    const char *names[PGW_MAX_PARAMS];
    const char *values[PGW_MAX_PARAMS];
    uint32_t nunknown_pq;           /* "_pq_." options (protocol options) */
    const char *unknown_pq[PGW_MAX_PARAMS];
} pgw_startup;

/* Check a start-up packet's length word (the whole packet, length
 * included). */
int pgw_startup_len_check(uint32_t len, dc_error *err);
/* Decode the start-up packet body (after the length word). */
int pgw_startup_parse(const uint8_t *body, size_t len, pgw_startup *out,
                      dc_error *err);
/* The value of a start-up parameter, NULL when absent. */
const char *pgw_startup_param(const pgw_startup *s, const char *name);

/* ---- regular messages ------------------------------------------------ */

/* Check a message header: a known frontend type and a length word within
 * [4, 4 + max_body].  `type` is the type byte. */
int pgw_frame_check(uint8_t type, uint32_t len, size_t max_body,
                    dc_error *err);

typedef struct pgw_parse_msg {
    const char *name;
    const char *query;
    size_t query_len;
    uint16_t nparams;
    const uint8_t *param_types;     /* nparams big-endian int32 OIDs      */
} pgw_parse_msg;

typedef struct pgw_bind_msg {
    const char *portal;
    const char *stmt;
    uint16_t nformats;
    const uint8_t *formats;         /* nformats big-endian int16          */
    uint16_t nparams;
    const uint8_t *params;          /* (int32 len, bytes) * nparams       */
    uint16_t nresult_formats;
    const uint8_t *result_formats;
} pgw_bind_msg;

typedef struct pgw_target_msg {     /* Describe and Close                 */
    char what;                      /* 'S' or 'P'                         */
    const char *name;
} pgw_target_msg;

typedef struct pgw_execute_msg {
    const char *portal;
    uint32_t max_rows;              /* 0: all                             */
} pgw_execute_msg;

int pgw_parse_query(const uint8_t *b, size_t n, const char **sql,
                    size_t *len, dc_error *err);
int pgw_parse_parse(const uint8_t *b, size_t n, pgw_parse_msg *out,
                    dc_error *err);
int pgw_parse_bind(const uint8_t *b, size_t n, pgw_bind_msg *out,
                   dc_error *err);
int pgw_parse_target(const uint8_t *b, size_t n, pgw_target_msg *out,
                     dc_error *err);
int pgw_parse_execute(const uint8_t *b, size_t n, pgw_execute_msg *out,
                      dc_error *err);
/* CopyFail: the client's message. */
int pgw_parse_cstring(const uint8_t *b, size_t n, const char **s,
                      dc_error *err);
/* Sync, Flush, Terminate, CopyDone: an empty body. */
int pgw_parse_empty(const uint8_t *b, size_t n, dc_error *err);

/* Element i of a Bind's parameter-format array, following the protocol's
 * rule (none: all text; one: for all; else one each).  -1 when the
 * formats are not 0 or 1 or the count does not fit. */
int pgw_format_at(const uint8_t *formats, uint16_t nformats, uint32_t i,
                  uint32_t n);
/* Step over the i-th parameter of a Bind: *data and *len (-1: NULL). */
int pgw_bind_param(pgw_rd *r, const uint8_t **data, int32_t *len);

/* ---- writing --------------------------------------------------------- */

typedef struct pgw_buf {
    uint8_t *data;
    size_t len, cap;
    size_t msg_start;               /* offset of the open message         */
    int oom;
} pgw_buf;

void pgw_buf_free(pgw_buf *b);
int pgw_buf_reserve(pgw_buf *b, size_t extra);
void pgw_put_u8(pgw_buf *b, uint8_t v);
void pgw_put_i16(pgw_buf *b, int16_t v);
void pgw_put_i32(pgw_buf *b, int32_t v);
void pgw_put_i64(pgw_buf *b, int64_t v);
void pgw_put_bytes(pgw_buf *b, const void *p, size_t n);
void pgw_put_str(pgw_buf *b, const char *s);  /* with its NUL */
/* Open a message of `type` (a length placeholder follows); close it. */
void pgw_msg_begin(pgw_buf *b, char type);
void pgw_msg_end(pgw_buf *b);
/* Patch a big-endian int32 at `off`. */
void pgw_patch_i32(pgw_buf *b, size_t off, int32_t v);

/* ErrorResponse ('E') or NoticeResponse ('N') from a dc_error. */
void pgw_put_error(pgw_buf *b, char type, const dc_error *e);
/* RowDescription; formats as in pgw_format_at (nformats 0: all text). */
void pgw_put_row_desc(pgw_buf *b, const dc_column *cols, uint32_t ncols,
                      const int16_t *formats, uint32_t nformats);

/* Severity words as PostgreSQL sends them. */
const char *pgw_severity_name(int severity);

#endif
