/*
 * msg.c - see msg.h.  Decoding of everything a client sends, encoding of
 * the common server messages.
 */
#include "pgwire/msg.h"

#include <stdlib.h>
#include <string.h>

static int proto_err(dc_error *err, const char *msg)
{
    dc_error_set(err, DC_EINVAL, "08P01", "%s", msg);
    if (err)
        err->severity = DC_SEV_FATAL;
    return DC_EINVAL;
}

/* ==== reading ============================================================ */

void pgw_rd_init(pgw_rd *r, const uint8_t *p, size_t len)
{
    r->p = p;
    r->len = len;
    r->pos = 0;
    r->bad = 0;
}

const uint8_t *pgw_rd_bytes(pgw_rd *r, size_t n)
{
    if (r->bad || n > r->len - r->pos) {
        r->bad = 1;
        return NULL;
    }
    const uint8_t *p = r->p + r->pos;
    r->pos += n;
    return p;
}

uint8_t pgw_rd_u8(pgw_rd *r)
{
    const uint8_t *p = pgw_rd_bytes(r, 1);
    return p ? p[0] : 0;
}

int16_t pgw_rd_i16(pgw_rd *r)
{
    const uint8_t *p = pgw_rd_bytes(r, 2);
    return p ? (int16_t)(uint16_t)((p[0] << 8) | p[1]) : 0;
}

int32_t pgw_rd_i32(pgw_rd *r)
{
    const uint8_t *p = pgw_rd_bytes(r, 4);
    if (!p)
        return 0;
    return (int32_t)(((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
                     ((uint32_t)p[2] << 8) | p[3]);
}

const char *pgw_rd_str(pgw_rd *r)
{
    if (r->bad)
        return NULL;
    const uint8_t *start = r->p + r->pos;
    const uint8_t *nul = memchr(start, 0, r->len - r->pos);
    if (!nul) {
        r->bad = 1;
        return NULL;
    }
    r->pos += (size_t)(nul - start) + 1;
    return (const char *)start;
}

/* ==== start-up =========================================================== */

int pgw_startup_len_check(uint32_t len, dc_error *err)
{
    if (len < 8 || len > PGW_MAX_STARTUP)
        return proto_err(err, "invalid length of startup packet");
    return DC_OK;
}

static int parse_params(pgw_rd *r, pgw_startup *out, dc_error *err)
{
    for (;;) {
        const char *name = pgw_rd_str(r);
        if (!name)
            return proto_err(err, "invalid startup packet layout: expected "
                                  "terminator as last byte");
        if (name[0] == '\0')
            break;
        const char *value = pgw_rd_str(r);
        if (!value)
            return proto_err(err, "invalid startup packet layout: expected "
                                  "terminator as last byte");
        if (strncmp(name, "_pq_.", 5) == 0) {
            if (out->nunknown_pq < PGW_MAX_PARAMS)
                out->unknown_pq[out->nunknown_pq++] = name;
            continue;
        }
        if (out->nparams < PGW_MAX_PARAMS) {
            out->names[out->nparams] = name;
            out->values[out->nparams++] = value;
        }
    }
    if (r->pos != r->len)
        return proto_err(err, "invalid startup packet layout: expected "
                              "terminator as last byte");
    return DC_OK;
}

int pgw_startup_parse(const uint8_t *body, size_t len, pgw_startup *out,
                      dc_error *err)
{
    memset(out, 0, sizeof *out);
    pgw_rd r;
    pgw_rd_init(&r, body, len);
    uint32_t code = (uint32_t)pgw_rd_i32(&r);
    if (r.bad)
        return proto_err(err, "invalid length of startup packet");
    if (code == PGW_SSL_REQUEST || code == PGW_GSSENC_REQUEST) {
        if (len != 4)
            return proto_err(err, "invalid length of startup packet");
        out->kind = code == PGW_SSL_REQUEST ? PGW_START_SSL : PGW_START_GSSENC;
        return DC_OK;
    }
    if (code == PGW_CANCEL_REQUEST) {
        if (len != 12)
            return proto_err(err, "invalid length of startup packet");
        out->kind = PGW_START_CANCEL;
        out->cancel_pid = pgw_rd_i32(&r);
        out->cancel_key = pgw_rd_i32(&r);
        return DC_OK;
    }
    out->kind = PGW_START_PROTOCOL;
    out->version = code;
    if ((code >> 16) != 3) {
        dc_error_set(err, DC_EUNSUPPORTED, "0A000",
                     "unsupported frontend protocol %u.%u: server supports "
                     "3.0 to 3.0", code >> 16, code & 0xffff);
        if (err)
            err->severity = DC_SEV_FATAL;
        return DC_EUNSUPPORTED;
    }
    return parse_params(&r, out, err);
}

const char *pgw_startup_param(const pgw_startup *s, const char *name)
{
    for (uint32_t i = 0; i < s->nparams; i++)
        if (strcmp(s->names[i], name) == 0)
            return s->values[i];
    return NULL;
}

/* ==== regular messages =================================================== */

int pgw_frame_check(uint8_t type, uint32_t len, size_t max_body,
                    dc_error *err)
{
    switch (type) {
    case 'Q': case 'P': case 'B': case 'D': case 'E': case 'C': case 'H':
    case 'S': case 'X': case 'F': case 'd': case 'c': case 'f': case 'p':
        break;
    default:
        dc_error_set(err, DC_EINVAL, "08P01",
                     "invalid frontend message type %d", (int)type);
        if (err)
            err->severity = DC_SEV_FATAL;
        return DC_EINVAL;
    }
    if (len < 4)
        return proto_err(err, "invalid message length");
    if ((size_t)len - 4 > max_body)
        return proto_err(err, "message too long");
    return DC_OK;
}

static int finish(const pgw_rd *r, dc_error *err)
{
    if (r->bad || r->pos != r->len)
        return proto_err(err, "invalid message format");
    return DC_OK;
}

int pgw_parse_query(const uint8_t *b, size_t n, const char **sql,
                    size_t *len, dc_error *err)
{
    pgw_rd r;
    pgw_rd_init(&r, b, n);
    const char *s = pgw_rd_str(&r);
    int rc = finish(&r, err);
    if (rc)
        return rc;
    *sql = s;
    *len = strlen(s);
    return DC_OK;
}

int pgw_parse_parse(const uint8_t *b, size_t n, pgw_parse_msg *out,
                    dc_error *err)
{
    pgw_rd r;
    pgw_rd_init(&r, b, n);
    pgw_parse_msg m = {0};
    m.name = pgw_rd_str(&r);
    m.query = pgw_rd_str(&r);
    int16_t np = pgw_rd_i16(&r);
    if (np < 0)
        return proto_err(err, "invalid message format");
    m.nparams = (uint16_t)np;
    m.param_types = pgw_rd_bytes(&r, (size_t)np * 4);
    int rc = finish(&r, err);
    if (rc)
        return rc;
    m.query_len = strlen(m.query);
    *out = m;
    return DC_OK;
}

int pgw_bind_param(pgw_rd *r, const uint8_t **data, int32_t *len)
{
    int32_t l = pgw_rd_i32(r);
    if (r->bad || l < -1)
        return DC_EINVAL;
    *len = l;
    *data = NULL;
    if (l > 0 && !(*data = pgw_rd_bytes(r, (size_t)l)))
        return DC_EINVAL;
    if (l == 0)
        *data = r->p + r->pos;
    return DC_OK;
}

int pgw_parse_bind(const uint8_t *b, size_t n, pgw_bind_msg *out,
                   dc_error *err)
{
    pgw_rd r;
    pgw_rd_init(&r, b, n);
    pgw_bind_msg m = {0};
    m.portal = pgw_rd_str(&r);
    m.stmt = pgw_rd_str(&r);
    int16_t nf = pgw_rd_i16(&r);
    if (nf < 0)
        return proto_err(err, "invalid message format");
    m.nformats = (uint16_t)nf;
    m.formats = pgw_rd_bytes(&r, (size_t)nf * 2);
    int16_t np = pgw_rd_i16(&r);
    if (np < 0)
        return proto_err(err, "invalid message format");
    m.nparams = (uint16_t)np;
    m.params = r.p + r.pos;
    for (int i = 0; i < np && !r.bad; i++) {
        const uint8_t *d;
        int32_t l;
        if (pgw_bind_param(&r, &d, &l))
            r.bad = 1;
    }
    int16_t nr = pgw_rd_i16(&r);
    if (nr < 0)
        return proto_err(err, "invalid message format");
    m.nresult_formats = (uint16_t)nr;
    m.result_formats = pgw_rd_bytes(&r, (size_t)nr * 2);
    int rc = finish(&r, err);
    if (rc)
        return rc;
    *out = m;
    return DC_OK;
}

int pgw_parse_target(const uint8_t *b, size_t n, pgw_target_msg *out,
                     dc_error *err)
{
    pgw_rd r;
    pgw_rd_init(&r, b, n);
    char what = (char)pgw_rd_u8(&r);
    const char *name = pgw_rd_str(&r);
    int rc = finish(&r, err);
    if (rc)
        return rc;
    if (what != 'S' && what != 'P') {
        dc_error_set(err, DC_EINVAL, "08P01",
                     "invalid DESCRIBE message subtype %d", (int)what);
        if (err)
            err->severity = DC_SEV_FATAL;
        return DC_EINVAL;
    }
    out->what = what;
    out->name = name;
    return DC_OK;
}

int pgw_parse_execute(const uint8_t *b, size_t n, pgw_execute_msg *out,
                      dc_error *err)
{
    pgw_rd r;
    pgw_rd_init(&r, b, n);
    const char *portal = pgw_rd_str(&r);
    int32_t max = pgw_rd_i32(&r);
    int rc = finish(&r, err);
    if (rc)
        return rc;
    out->portal = portal;
    out->max_rows = max <= 0 ? 0 : (uint32_t)max;
    return DC_OK;
}

int pgw_parse_cstring(const uint8_t *b, size_t n, const char **s,
                      dc_error *err)
{
    pgw_rd r;
    pgw_rd_init(&r, b, n);
    const char *v = pgw_rd_str(&r);
    int rc = finish(&r, err);
    if (rc == DC_OK)
        *s = v;
    return rc;
}

int pgw_parse_empty(const uint8_t *b, size_t n, dc_error *err)
{
    (void)b;
    if (n != 0)
        return proto_err(err, "invalid message format");
    return DC_OK;
}

int pgw_format_at(const uint8_t *formats, uint16_t nformats, uint32_t i,
                  uint32_t n)
{
    int16_t f;
    if (nformats == 0)
        return 0;
    if (nformats == 1)
        f = (int16_t)((formats[0] << 8) | formats[1]);
    else if (nformats == n && i < n)
        f = (int16_t)((formats[2 * i] << 8) | formats[2 * i + 1]);
    else
        return -1;
    return f == 0 || f == 1 ? f : -1;
}

/* ==== writing ============================================================ */

void pgw_buf_free(pgw_buf *b)
{
    free(b->data);
    memset(b, 0, sizeof *b);
}

int pgw_buf_reserve(pgw_buf *b, size_t extra)
{
    if (b->oom)
        return DC_ENOMEM;
    if (extra <= b->cap - b->len)
        return DC_OK;
    size_t cap = b->cap ? b->cap : 256;
    while (cap - b->len < extra) {
        if (cap > SIZE_MAX / 2) {
            b->oom = 1;
            return DC_ENOMEM;
        }
        cap *= 2;
    }
    uint8_t *d = realloc(b->data, cap);
    if (!d) {
        b->oom = 1;
        return DC_ENOMEM;
    }
    b->data = d;
    b->cap = cap;
    return DC_OK;
}

void pgw_put_bytes(pgw_buf *b, const void *p, size_t n)
{
    if (n == 0 || pgw_buf_reserve(b, n))
        return;
    memcpy(b->data + b->len, p, n);
    b->len += n;
}

void pgw_put_u8(pgw_buf *b, uint8_t v)
{
    pgw_put_bytes(b, &v, 1);
}

void pgw_put_i16(pgw_buf *b, int16_t v)
{
    uint16_t u = (uint16_t)v;
    uint8_t x[2] = {(uint8_t)(u >> 8), (uint8_t)u};
    pgw_put_bytes(b, x, 2);
}

void pgw_put_i32(pgw_buf *b, int32_t v)
{
    uint32_t u = (uint32_t)v;
    uint8_t x[4] = {(uint8_t)(u >> 24), (uint8_t)(u >> 16), (uint8_t)(u >> 8),
                    (uint8_t)u};
    pgw_put_bytes(b, x, 4);
}

void pgw_put_i64(pgw_buf *b, int64_t v)
{
    pgw_put_i32(b, (int32_t)(uint32_t)((uint64_t)v >> 32));
    pgw_put_i32(b, (int32_t)(uint32_t)(uint64_t)v);
}

void pgw_put_str(pgw_buf *b, const char *s)
{
    pgw_put_bytes(b, s, strlen(s) + 1);
}

void pgw_msg_begin(pgw_buf *b, char type)
{
    pgw_put_u8(b, (uint8_t)type);
    b->msg_start = b->len;
    pgw_put_i32(b, 0);
}

void pgw_patch_i32(pgw_buf *b, size_t off, int32_t v)
{
    if (b->oom || off + 4 > b->len)
        return;
    uint32_t u = (uint32_t)v;
    b->data[off] = (uint8_t)(u >> 24);
    b->data[off + 1] = (uint8_t)(u >> 16);
    b->data[off + 2] = (uint8_t)(u >> 8);
    b->data[off + 3] = (uint8_t)u;
}

void pgw_msg_end(pgw_buf *b)
{
    pgw_patch_i32(b, b->msg_start, (int32_t)(b->len - b->msg_start));
}

const char *pgw_severity_name(int severity)
{
    switch (severity) {
    case DC_SEV_FATAL: return "FATAL";
    case DC_SEV_PANIC: return "PANIC";
    case DC_SEV_WARNING: return "WARNING";
    case DC_SEV_NOTICE: return "NOTICE";
    default: return "ERROR";
    }
}

static void put_field(pgw_buf *b, char code, const char *v)
{
    pgw_put_u8(b, (uint8_t)code);
    pgw_put_str(b, v);
}

void pgw_put_error(pgw_buf *b, char type, const dc_error *e)
{
    const char *sev = pgw_severity_name(e->severity);
    pgw_msg_begin(b, type);
    put_field(b, 'S', sev);
    put_field(b, 'V', sev);
    put_field(b, 'C', e->sqlstate[0] ? e->sqlstate : DC_SQLSTATE_INTERNAL);
    put_field(b, 'M', e->message[0] ? e->message : "unknown error");
    if (e->detail[0])
        put_field(b, 'D', e->detail);
    if (e->hint[0])
        put_field(b, 'H', e->hint);
    if (e->position > 0) {
        char pos[16];
        snprintf(pos, sizeof pos, "%d", (int)e->position);
        put_field(b, 'P', pos);
    }
    if (e->context[0])
        put_field(b, 'W', e->context);
    pgw_put_u8(b, 0);
    pgw_msg_end(b);
}

void pgw_put_row_desc(pgw_buf *b, const dc_column *cols, uint32_t ncols,
                      const int16_t *formats, uint32_t nformats)
{
    pgw_msg_begin(b, 'T');
    pgw_put_i16(b, (int16_t)ncols);
    for (uint32_t i = 0; i < ncols; i++) {
        const dc_column *c = &cols[i];
        int16_t f = 0;
        if (nformats == 1)
            f = formats[0];
        else if (nformats > i)
            f = formats[i];
        pgw_put_str(b, c->name ? c->name : "?column?");
        pgw_put_i32(b, (int32_t)c->table_oid);
        pgw_put_i16(b, c->attnum);
        pgw_put_i32(b, (int32_t)c->type);
        pgw_put_i16(b, c->typlen);
        pgw_put_i32(b, c->typmod);
        pgw_put_i16(b, f);
    }
    pgw_msg_end(b);
}
