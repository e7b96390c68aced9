/*
 * sql/tableam.c - rows and index entries of tables (formats: tableam.h).
 *
 * The primary key has no entries of its own: a table's rows are keyed by
 * it, so the row key is the primary key's index key.  Every other index
 * keeps one entry per row.  Unique checks lock the unique key first and
 * then look at the newest committed state plus the transaction's own
 * writes, so two sessions inserting one key serialise on the lock.
 */
#include "sql/tableam.h"

#include <stdlib.h>
#include <string.h>
#include "common/alloc.h"

/* ==== small helpers ========================================================
 */

static int oom(dc_error *err)
{
    return dc_error_set(err, DC_ENOMEM, DC_SQLSTATE_OOM, "out of memory");
}

void sql_rel_prefix(uint32_t oid, uint8_t out[4])
{
    out[0] = (uint8_t)(oid >> 24);
    out[1] = (uint8_t)(oid >> 16);
    out[2] = (uint8_t)(oid >> 8);
    out[3] = (uint8_t)oid;
}

/* key = prefix of oid (cleared first). */
static int key_start(sql_buf *key, uint32_t oid, dc_error *err)
{
    uint8_t p[4];
    sql_rel_prefix(oid, p);
    key->len = 0;
    return sql_buf_append(key, p, 4, err);
}

/* [prefix(oid), prefix(oid + 1)) as the default bounds of a relation. */
static void rel_bounds(uint32_t oid, uint8_t lo[4], uint8_t hi[4])
{
    sql_rel_prefix(oid, lo);
    sql_rel_prefix(oid + 1, hi);
}

/* Bytes of a fixed-size type; 0 for variable-length ones. */
static size_t fixed_size(uint32_t type)
{
    switch (type) {
    case DC_TYPE_BOOL:
        return 1;
    case DC_TYPE_INT2:
        return 2;
    case DC_TYPE_INT4:
    case DC_TYPE_OID:
    case DC_TYPE_FLOAT4:
    case DC_TYPE_DATE:
        return 4;
    case DC_TYPE_INT8:
    case DC_TYPE_FLOAT8:
    case DC_TYPE_TIMESTAMP:
    case DC_TYPE_TIMESTAMPTZ:
        return 8;
    default:
        return 0;
    }
}

static void put_le(uint8_t *p, uint64_t v, size_t n)
{
    for (size_t i = 0; i < n; i++, v >>= 8)
        p[i] = (uint8_t)v;
}

static uint64_t get_le(const uint8_t *p, size_t n)
{
    uint64_t v = 0;
    for (size_t i = n; i-- > 0;)
        v = v << 8 | p[i];
    return v;
}

/* char(n) is stored without its trailing pad: the spaces carry no meaning
 * (comparisons, keys and casts to text ignore them) and a decoded value
 * gets them back, so a wide char(n) column of short values (pgbench's
 * filler) costs a few bytes per row instead of n.  Rows written padded
 * decode the same.  0 when the column is not a char(n) with a length. */
static size_t bpchar_width(const sql_column *c)
{
    return c->type == DC_TYPE_BPCHAR && c->typmod > 4 ? (size_t)c->typmod - 4
                                                      : 0;
}

/* Spaces a stored char(n) value of `len` bytes lacks (0: none). */
static size_t bpchar_missing(const sql_column *c, const uint8_t *s, size_t len)
{
    size_t w = bpchar_width(c);
    if (w == 0 || len >= w * 4)
        return 0;
    size_t nc = sql_utf8_len(s, len);
    return nc < w ? w - nc : 0;
}

/* Copy v's bytes to q followed by `pad` spaces, and point v at q. */
static void move_padded(dc_value *v, uint8_t *q, size_t pad)
{
    if (v->u.bytes.len)
        memcpy(q, v->u.bytes.ptr, v->u.bytes.len);
    memset(q + v->u.bytes.len, ' ', pad);
    v->u.bytes.ptr = q;
    v->u.bytes.len += pad;
}

/* Give a decoded char(n) value its pad, in memory from mem (NULL: malloc). */
static int bpchar_pad(const sql_column *c, const sql_mem *mem, dc_value *v,
                      bool *padded, dc_error *err)
{
    *padded = false;
    size_t pad = bpchar_missing(c, v->u.bytes.ptr, v->u.bytes.len);
    if (pad == 0)
        return DC_OK;
    size_t n = v->u.bytes.len + pad;
    uint8_t *q = mem ? mem->alloc(mem->ctx, n) : malloc(n);
    if (q == NULL)
        return oom(err);
    move_padded(v, q, pad);
    *padded = true;
    return DC_OK;
}

/* The non-NULL fixed-size value as its stored bits. */
static uint64_t fixed_bits(const dc_value *v, size_t sz)
{
    switch (v->type) {
    case DC_TYPE_BOOL:
        return v->u.b ? 1 : 0;
    case DC_TYPE_FLOAT4: {
        float f = (float)v->u.f;
        uint32_t b;
        memcpy(&b, &f, 4);
        return b;
    }
    case DC_TYPE_FLOAT8: {
        uint64_t b;
        memcpy(&b, &v->u.f, 8);
        return b;
    }
    default:
        return (uint64_t)v->u.i & (sz == 8 ? ~0ull : ((1ull << (sz * 8)) - 1));
    }
}

static void fixed_value(uint32_t type, uint64_t bits, size_t sz, dc_value *v)
{
    switch (type) {
    case DC_TYPE_BOOL:
        v->u.b = bits != 0;
        break;
    case DC_TYPE_FLOAT4: {
        float f;
        uint32_t b = (uint32_t)bits;
        memcpy(&f, &b, 4);
        v->u.f = f;
        break;
    }
    case DC_TYPE_FLOAT8:
        memcpy(&v->u.f, &bits, 8);
        break;
    default: /* sign-extend, except the unsigned oid */
        if (type != DC_TYPE_OID && sz < 8 && (bits >> (sz * 8 - 1)) & 1)
            bits |= ~0ull << (sz * 8);
        v->u.i = (int64_t)bits;
        break;
    }
}

/* ==== row encoding =========================================================
 */

int sql_row_encode(const sql_table *t, const dc_value *vals, sql_buf *out,
                   dc_error *err)
{
    size_t natts = (size_t)t->natts;
    if (natts > UINT16_MAX)
        return dc_error_set(err, DC_EINVAL, "54011",
                            "tables can have at most 1600 columns");
    size_t nb = (natts + 7) / 8;
    size_t need = 3 + nb;
    for (size_t i = 0; i < natts; i++) {
        const dc_value *v = &vals[i];
        if (v->is_null || t->cols[i].dropped)
            continue;
        size_t fs = fixed_size(t->cols[i].type);
        /* The executor casts to the column type first; a value of the
         * other layout would be misread, so refuse it. */
        if ((fs == 0) != (fixed_size(v->type) == 0))
            return dc_error_set(err, DC_ETYPE, "42804",
                                "column \"%s\" is of type %s but expression "
                                "is of type %s",
                                t->cols[i].name, sql_type_name(t->cols[i].type),
                                sql_type_name(v->type));
        need += fs ? fs : 10 + v->u.bytes.len;
    }
    out->len = 0;
    if (out->cap < need) {
        uint8_t *d = realloc(out->data, need);
        if (d == NULL)
            return oom(err);
        out->data = d;
        out->cap = need;
    }
    uint8_t *p = out->data;
    p[0] = 1;
    p[1] = (uint8_t)natts;
    p[2] = (uint8_t)(natts >> 8);
    uint8_t *bm = p + 3;
    memset(bm, 0, nb);
    size_t o = 3 + nb;
    for (size_t i = 0; i < natts; i++) {
        const dc_value *v = &vals[i];
        if (v->is_null || t->cols[i].dropped) {
            bm[i / 8] |= (uint8_t)(1u << (i % 8));
            continue;
        }
        /* The column's type decides the layout; the value must match. */
        size_t fs = fixed_size(t->cols[i].type);
        if (fs) {
            dc_value tmp = *v;
            tmp.type = t->cols[i].type;
            put_le(p + o, fixed_bits(&tmp, fs), fs);
            o += fs;
        } else {
            uint64_t len = v->u.bytes.len;
            if (bpchar_width(&t->cols[i]))
                while (len && v->u.bytes.ptr[len - 1] == ' ')
                    len--;
            size_t stored = (size_t)len;
            do {
                uint8_t b = len & 0x7f;
                len >>= 7;
                p[o++] = (uint8_t)(b | (len ? 0x80 : 0));
            } while (len);
            if (stored)
                memcpy(p + o, v->u.bytes.ptr, stored);
            o += stored;
        }
    }
    out->len = o;
    return DC_OK;
}

static int corrupt(const sql_table *t, dc_error *err)
{
    return dc_error_set(err, DC_ECORRUPT, DC_SQLSTATE_CORRUPT,
                        "corrupt row in relation \"%s\"", t->name);
}

/* Decode; variable-length values point into p (or, for columns added
 * later, into the catalog's `missing` value).  With `cols` (a bitmap by
 * attnum - 1), only those columns are decoded; the others read as NULL.
 * char(n) values get their pad in memory from `mem`; with no mem they
 * stay as stored (the caller pads them, or needs only their key). */
static int row_decode_cols(const sql_table *t, const uint8_t *p, size_t n,
                           const uint8_t *cols, const sql_mem *mem,
                           dc_value *vals, dc_error *err)
{
    if (n < 3 || p[0] != 1)
        return corrupt(t, err);
    size_t count = (size_t)p[1] | (size_t)p[2] << 8;
    size_t nb = (count + 7) / 8;
    if (3 + nb > n)
        return corrupt(t, err);
    const uint8_t *bm = p + 3;
    size_t o = 3 + nb;
    for (size_t i = 0; i < (size_t)t->natts; i++) {
        const sql_column *c = &t->cols[i];
        dc_value *v = &vals[i];
        v->type = c->type;
        v->typmod = c->typmod;
        v->is_null = true;
        bool want = !c->dropped && (!cols || (cols[i / 8] & (1u << (i % 8))));
        if (i >= count) {
            if (want && !c->missing.is_null && c->missing.type != 0) {
                *v = c->missing;
                v->typmod = c->typmod;
            }
            continue;
        }
        if (bm[i / 8] & (1u << (i % 8)))
            continue;
        size_t fs = fixed_size(c->type);
        if (fs) {
            if (o + fs > n)
                return corrupt(t, err);
            if (want) {
                v->is_null = false;
                fixed_value(c->type, get_le(p + o, fs), fs, v);
            }
            o += fs;
            continue;
        }
        uint64_t len = 0;
        int shift = 0;
        for (;;) {
            if (o >= n || shift > 56)
                return corrupt(t, err);
            uint8_t b = p[o++];
            len |= (uint64_t)(b & 0x7f) << shift;
            shift += 7;
            if (!(b & 0x80))
                break;
        }
        if (len > n - o)
            return corrupt(t, err);
        if (want) {
            v->is_null = false;
            v->u.bytes.len = (size_t)len;
            v->u.bytes.ptr = p + o;
            bool padded;
            int rc;
            if (mem && (rc = bpchar_pad(c, mem, v, &padded, err)) != DC_OK)
                return rc;
        }
        o += len;
    }
    return DC_OK;
}

static int row_decode(const sql_table *t, const uint8_t *p, size_t n,
                      const sql_mem *mem, dc_value *vals, dc_error *err)
{
    return row_decode_cols(t, p, n, NULL, mem, vals, err);
}

/* Give every variable-length value its own malloc'd copy (decoding
 * without a sql_mem: the caller frees them, as types.h describes). */
static int row_copy_malloc(const sql_table *t, dc_value *vals, dc_error *err)
{
    for (int i = 0; i < t->natts; i++) {
        dc_value *v = &vals[i];
        if (v->is_null || fixed_size(v->type))
            continue;
        size_t pad = bpchar_missing(&t->cols[i], v->u.bytes.ptr,
                                    v->u.bytes.len);
        size_t len = v->u.bytes.len + pad;
        uint8_t *q = malloc(len ? len : 1);
        if (q == NULL) {
            for (int j = 0; j < i; j++)
                if (!vals[j].is_null && !fixed_size(vals[j].type))
                    free((void *)vals[j].u.bytes.ptr);
            return oom(err);
        }
        move_padded(v, q, pad);
    }
    return DC_OK;
}

int sql_row_decode(const sql_table *t, const uint8_t *p, size_t n,
                   const sql_mem *mem, dc_value *vals, dc_error *err)
{
    if (mem == NULL) {
        int rc = row_decode(t, p, n, NULL, vals, err);
        return rc ? rc : row_copy_malloc(t, vals, err);
    }
    /* One copy of the whole row; values point into it. */
    uint8_t *q = mem->alloc(mem->ctx, n ? n : 1);
    if (q == NULL)
        return oom(err);
    if (n)
        memcpy(q, p, n);
    return row_decode(t, q, n, mem, vals, err);
}

/* ==== keys =================================================================
 */

static int append_pk(const sql_table *t, const dc_value *vals, int n,
                     bool by_attnum, sql_buf *key, dc_error *err)
{
    const sql_index *pk = t->pkey;
    for (int i = 0; i < n; i++) {
        const dc_value *v = by_attnum ? &vals[pk->attnums[i] - 1] : &vals[i];
        int rc = sql_key_append(key, v, pk->flags ? pk->flags[i] : 0, err);
        if (rc != DC_OK)
            return rc;
    }
    return DC_OK;
}

int sql_row_key(const sql_table *t, const dc_value *vals, sql_buf *key,
                dc_error *err)
{
    if (t->pkey == NULL)
        return dc_error_set(err, DC_EINVAL, DC_SQLSTATE_INTERNAL,
                            "relation \"%s\" has no primary key", t->name);
    int rc = key_start(key, t->oid, err);
    return rc ? rc : append_pk(t, vals, t->pkey->ncols, true, key, err);
}

int sql_row_key_prefix(const sql_table *t, const dc_value *pkvals, int n,
                       sql_buf *key, dc_error *err)
{
    int rc = key_start(key, t->oid, err);
    if (rc != DC_OK || n == 0)
        return rc;
    if (t->pkey == NULL) {
        /* Rowid tables: the one key column is the rowid. */
        return n > 1 ? dc_error_set(err, DC_EINVAL, DC_SQLSTATE_INTERNAL,
                                    "rowid key has one column")
                     : sql_key_append(key, &pkvals[0], 0, err);
    }
    if (n > t->pkey->ncols)
        n = t->pkey->ncols;
    return append_pk(t, pkvals, n, false, key, err);
}

int sql_index_key_prefix(const sql_index *ix, const dc_value *vals, int n,
                         sql_buf *key, dc_error *err)
{
    /* The primary key's entries are the rows themselves. */
    int rc = key_start(key, ix->primary ? ix->table_oid : ix->oid, err);
    if (n > ix->ncols)
        n = ix->ncols;
    for (int i = 0; rc == DC_OK && i < n; i++)
        rc = sql_key_append(key, &vals[i], ix->flags ? ix->flags[i] : 0, err);
    return rc;
}

int sql_key_successor(sql_buf *key, dc_error *err)
{
    while (key->len > 0 && key->data[key->len - 1] == 0xff)
        key->len--;
    if (key->len == 0)
        return dc_error_set(err, DC_EINVAL, DC_SQLSTATE_INTERNAL,
                            "key has no successor");
    key->data[key->len - 1]++;
    return DC_OK;
}

/* Entry of a secondary index for the row (row key `rk` with prefix):
 * key into `key`; the value is rk + 4.  *unique_key tells whether the key
 * is subject to a unique check (unique index, no NULL key column). */
static int index_entry(const sql_index *ix, const dc_value *vals,
                       const uint8_t *rk, size_t rkn, sql_buf *key,
                       bool *unique_key, dc_error *err)
{
    int rc = key_start(key, ix->oid, err);
    bool has_null = false;
    for (int i = 0; rc == DC_OK && i < ix->ncols; i++) {
        const dc_value *v = &vals[ix->attnums[i] - 1];
        has_null |= v->is_null;
        rc = sql_key_append(key, v, ix->flags ? ix->flags[i] : 0, err);
    }
    if (rc != DC_OK)
        return rc;
    *unique_key = ix->unique && !has_null;
    if (!*unique_key)
        rc = sql_buf_append(key, rk + 4, rkn - 4, err);
    return rc;
}

/* ==== constraint errors ====================================================
 */

/* Append "v1, v2" of the given attnums ("null" for NULL). */
static int append_values(const sql_table *t, const dc_value *vals,
                         const int16_t *attnums, int n, sql_buf *out,
                         dc_error *err)
{
    bool first = true;
    int rc = DC_OK;
    for (int i = 0; rc == DC_OK && i < n; i++) {
        int a = attnums ? attnums[i] - 1 : i;
        if (!attnums && t->cols[a].dropped)
            continue;
        if (!first)
            rc = sql_buf_append(out, ", ", 2, err);
        first = false;
        if (rc == DC_OK)
            rc = vals[a].is_null ? sql_buf_append(out, "null", 4, err)
                                 : sql_value_out(&vals[a], NULL, out, err);
    }
    return rc;
}

static int unique_error(const sql_table *t, const sql_index *ix,
                        const dc_value *vals, dc_error *err)
{
    dc_error_set(err, DC_EEXIST, "23505",
                 "duplicate key value violates unique constraint \"%s\"",
                 ix->name);
    if (err == NULL)
        return DC_EEXIST;
    sql_buf names = {0}, values = {0};
    int rc = DC_OK;
    for (int i = 0; rc == DC_OK && i < ix->ncols; i++) {
        const char *nm = t->cols[ix->attnums[i] - 1].name;
        if (i)
            rc = sql_buf_append(&names, ", ", 2, err);
        if (rc == DC_OK)
            rc = sql_buf_append(&names, nm, strlen(nm), err);
    }
    dc_error keep = *err;
    if (rc == DC_OK)
        rc = append_values(t, vals, ix->attnums, ix->ncols, &values, err);
    *err = keep;
    if (rc == DC_OK)
        dc_error_detail(err, "Key (%.*s)=(%.*s) already exists.",
                        (int)names.len, names.data ? (char *)names.data : "",
                        (int)values.len,
                        values.data ? (char *)values.data : "");
    sql_buf_free(&names);
    sql_buf_free(&values);
    return DC_EEXIST;
}

static int check_not_null(const sql_table *t, const dc_value *vals,
                          dc_error *err)
{
    for (int i = 0; i < t->natts; i++) {
        const sql_column *c = &t->cols[i];
        if (!c->not_null || c->dropped || !vals[i].is_null)
            continue;
        dc_error_set(err, DC_EINVAL, "23502",
                     "null value in column \"%s\" of relation \"%s\" violates "
                     "not-null constraint",
                     c->name, t->name);
        if (err != NULL) {
            sql_buf row = {0};
            dc_error keep = *err;
            int rc = append_values(t, vals, NULL, t->natts, &row, err);
            *err = keep;
            if (rc == DC_OK)
                dc_error_detail(err, "Failing row contains (%.*s).",
                                (int)row.len, row.data ? (char *)row.data : "");
            sql_buf_free(&row);
        }
        return DC_EINVAL;
    }
    return DC_OK;
}

/* Lock `key` and tell whether it exists in the newest state (own writes
 * included); the value, when wanted, goes to val. */
static int lock_and_probe(sql_txn *txn, const sql_buf *key, sql_buf *val,
                          bool *exists, dc_error *err)
{
    int rc = sql_txn_lock_key(txn, key->data, key->len, err);
    if (rc != DC_OK)
        return rc;
    return sql_txn_get(txn, SQL_READ_LATEST, key->data, key->len, val, exists,
                       err);
}

/* ==== modifications ========================================================
 */

/* a > b in key order (bytewise, a prefix first). */
static bool sql_buf_cmp_gt(const sql_buf *a, const sql_buf *b)
{
    size_t n = a->len < b->len ? a->len : b->len;
    int c = memcmp(a->data, b->data, n);
    return c > 0 || (c == 0 && a->len > b->len);
}

/* Per-call scratch buffers, released together. */
typedef struct scratch {
    sql_buf key, row, ix, val;
} scratch;

static void scratch_free(scratch *s)
{
    sql_buf_free(&s->key);
    sql_buf_free(&s->row);
    sql_buf_free(&s->ix);
    sql_buf_free(&s->val);
}

/* Unique checks of every unique secondary index for a new row: done before
 * any write, so a failed insert leaves nothing behind. */
static int index_check_all(sql_txn *txn, const sql_table *t,
                           const dc_value *vals, scratch *s, dc_error *err)
{
    static const uint8_t nokey[4] = {0};
    for (int i = 0; i < t->nindexes; i++) {
        const sql_index *ix = t->indexes[i];
        if (ix->primary || !ix->unique)
            continue;
        bool uk = false, exists = false;
        int rc = index_entry(ix, vals, nokey, 4, &s->ix, &uk, err);
        if (rc == DC_OK && uk)
            rc = lock_and_probe(txn, &s->ix, NULL, &exists, err);
        if (rc == DC_OK && exists)
            rc = unique_error(t, ix, vals, err);
        if (rc != DC_OK)
            return rc;
    }
    return DC_OK;
}

/* Add the entries of every secondary index for a new row at rk. */
static int index_insert_all(sql_txn *txn, const sql_table *t,
                            const dc_value *vals, const uint8_t *rk, size_t rkn,
                            scratch *s, dc_error *err)
{
    for (int i = 0; i < t->nindexes; i++) {
        const sql_index *ix = t->indexes[i];
        if (ix->primary)
            continue;
        bool uk = false;
        int rc = index_entry(ix, vals, rk, rkn, &s->ix, &uk, err);
        if (rc == DC_OK)
            rc = sql_txn_put(txn, s->ix.data, s->ix.len, rk + 4, rkn - 4, err);
        if (rc != DC_OK)
            return rc;
    }
    return DC_OK;
}

int sql_table_insert(sql_txn *txn, const sql_table *t, const dc_value *vals,
                     sql_buf *key_out, dc_error *err)
{
    if (sql_txn_read_only(txn))
        return dc_error_set(err, DC_EPERM, "25006",
                            "cannot execute INSERT in a read-only "
                            "transaction");
    int rc = check_not_null(t, vals, err);
    if (rc != DC_OK)
        return rc;
    scratch s = {0};
    if (t->pkey != NULL) {
        rc = sql_row_key(t, vals, &s.key, err);
        bool exists = false;
        if (rc == DC_OK)
            rc = lock_and_probe(txn, &s.key, NULL, &exists, err);
        if (rc == DC_OK && exists)
            rc = unique_error(t, t->pkey, vals, err);
    } else {
        int64_t rowid = 0;
        rc = sql_rowid_next(txn, &rowid, err);
        if (rc == DC_OK)
            rc = sql_rowid_key(t, rowid, &s.key, err);
    }
    if (rc == DC_OK)
        rc = index_check_all(txn, t, vals, &s, err);
    if (rc == DC_OK)
        rc = sql_row_encode(t, vals, &s.row, err);
    if (rc == DC_OK)
        rc = index_insert_all(txn, t, vals, s.key.data, s.key.len, &s, err);
    if (rc == DC_OK)
        rc =
            sql_txn_put(txn, s.key.data, s.key.len, s.row.data, s.row.len, err);
    if (rc == DC_OK && key_out != NULL) {
        key_out->len = 0;
        rc = sql_buf_append(key_out, s.key.data, s.key.len, err);
    }
    scratch_free(&s);
    return rc;
}

int sql_row_prepare(const sql_table *t, const dc_value *vals, sql_buf *out,
                    dc_error *err)
{
    int rc = check_not_null(t, vals, err);
    return rc ? rc : sql_row_encode(t, vals, out, err);
}

int sql_rowid_key(const sql_table *t, int64_t rowid, sql_buf *key,
                  dc_error *err)
{
    int rc = key_start(key, t->oid, err);
    if (rc == DC_OK) {
        dc_value v = sql_value_int(DC_TYPE_INT8, rowid);
        rc = sql_key_append(key, &v, 0, err);
    }
    return rc;
}

bool sql_table_same_layout(const sql_table *a, const sql_table *b)
{
    if (a->natts != b->natts)
        return false;
    for (int i = 0; i < a->natts; i++) {
        const sql_column *x = &a->cols[i], *y = &b->cols[i];
        if (x->type != y->type || x->typmod != y->typmod ||
            x->dropped != y->dropped ||
            x->missing.is_null != y->missing.is_null)
            return false;
        if (x->missing.is_null)
            continue;
        const dc_value *m = &x->missing, *n = &y->missing;
        size_t fs = fixed_size(m->type);
        if (m->type != n->type ||
            (fs ? fixed_bits(m, fs) != fixed_bits(n, fs)
                : m->u.bytes.len != n->u.bytes.len ||
                      (m->u.bytes.len &&
                       memcmp(m->u.bytes.ptr, n->u.bytes.ptr, m->u.bytes.len))))
            return false;
    }
    return true;
}

int sql_table_load(sql_txn *txn, const sql_table *t, sql_loader *ld,
                   const dc_value *vals, dc_error *err)
{
    return sql_table_load_raw(txn, t, ld, vals, NULL, 0, err);
}

int sql_table_load_raw(sql_txn *txn, const sql_table *t, sql_loader *ld,
                       const dc_value *vals, const uint8_t *row, size_t rowlen,
                       dc_error *err)
{
    if (t->pkey == NULL)
        return sql_table_insert(txn, t, vals, NULL, err);
    int rc = check_not_null(t, vals, err);
    if (rc != DC_OK)
        return rc;
    scratch s = {ld->key, ld->row, ld->ix, ld->val};
    rc = sql_row_key(t, vals, &s.key, err);
    bool ascending = rc == DC_OK &&
                     (!ld->has_last || sql_buf_cmp_gt(&s.key, &ld->last));
    if (rc == DC_OK) {
        if (!ascending) {
            /* Out of order: look for it among the rows loaded so far. */
            bool exists = false;
            rc = sql_txn_get(txn, SQL_READ_LATEST, s.key.data, s.key.len, NULL,
                             &exists, err);
            if (rc == DC_OK && exists)
                rc = unique_error(t, t->pkey, vals, err);
        }
    }
    if (rc == DC_OK)
        rc = index_check_all(txn, t, vals, &s, err);
    if (rc == DC_OK && row == NULL) {
        rc = sql_row_encode(t, vals, &s.row, err);
        row = s.row.data;
        rowlen = s.row.len;
    }
    if (rc == DC_OK)
        rc = index_insert_all(txn, t, vals, s.key.data, s.key.len, &s, err);
    if (rc == DC_OK)
        rc = sql_txn_put(txn, s.key.data, s.key.len, row, rowlen, err);
    if (rc == DC_OK && ascending) {
        ld->last.len = 0;
        rc = sql_buf_append(&ld->last, s.key.data, s.key.len, err);
        ld->has_last = rc == DC_OK;
    }
    ld->key = s.key, ld->row = s.row, ld->ix = s.ix, ld->val = s.val;
    return rc;
}

static void *keyed_arena_alloc(void *a, size_t n)
{
    return sql_arena_alloc((sql_arena *)a, n);
}

int sql_table_check_not_null(const sql_table *t, const dc_value *vals,
                             dc_error *err)
{
    return check_not_null(t, vals, err);
}

int sql_table_load_keyed(sql_txn *txn, const sql_table *t, sql_loader *ld,
                         const uint8_t *key, size_t klen, const uint8_t *row,
                         size_t rowlen, dc_error *err)
{
    int rc = DC_OK;
    sql_buf *k = &ld->key;
    k->len = 0;
    if ((rc = sql_buf_append(k, key, klen, err)) != DC_OK)
        return rc;
    bool ascending = !ld->has_last || sql_buf_cmp_gt(k, &ld->last);
    if (!ascending) {
        bool exists = false;
        rc = sql_txn_get(txn, SQL_READ_LATEST, key, klen, NULL, &exists, err);
        if (rc == DC_OK && exists) {
            /* The message names the key's values: decode them. */
            sql_arena *a = sql_arena_new();
            dc_value *vals = calloc((size_t)t->natts + 1, sizeof *vals);
            sql_mem mem = {keyed_arena_alloc, a};
            rc = a && vals ? sql_row_decode(t, row, rowlen, &mem, vals, err)
                           : oom(err);
            if (rc == DC_OK)
                rc = unique_error(t, t->pkey, vals, err);
            free(vals);
            sql_arena_free(a);
        }
    }
    if (rc == DC_OK)
        rc = sql_txn_put(txn, key, klen, row, rowlen, err);
    if (rc == DC_OK && ascending) {
        sql_buf tmp = ld->last;
        ld->last = *k;
        *k = tmp;
        ld->has_last = true;
    }
    return rc;
}

void sql_loader_free(sql_loader *ld)
{
    sql_buf_free(&ld->key);
    sql_buf_free(&ld->row);
    sql_buf_free(&ld->ix);
    sql_buf_free(&ld->val);
    sql_buf_free(&ld->last);
    memset(ld, 0, sizeof *ld);
}

/* Conflict on one unique index (the primary key or a secondary one). */
static int conflict_on(sql_txn *txn, const sql_table *t, const sql_index *ix,
                       const dc_value *vals, sql_buf *conflict_key, bool *found,
                       scratch *s, dc_error *err)
{
    int rc;
    *found = false;
    if (ix->primary) {
        rc = sql_row_key(t, vals, &s->key, err);
        if (rc == DC_OK)
            rc = lock_and_probe(txn, &s->key, NULL, found, err);
        if (rc == DC_OK && *found && conflict_key != NULL) {
            conflict_key->len = 0;
            rc = sql_buf_append(conflict_key, s->key.data, s->key.len, err);
        }
        return rc;
    }
    bool uk = false;
    static const uint8_t nokey[4] = {0};
    rc = index_entry(ix, vals, nokey, 4, &s->ix, &uk, err);
    if (rc != DC_OK || !uk)
        return rc;
    rc = lock_and_probe(txn, &s->ix, &s->val, found, err);
    if (rc == DC_OK && *found && conflict_key != NULL) {
        rc = key_start(conflict_key, t->oid, err);
        if (rc == DC_OK)
            rc = sql_buf_append(conflict_key, s->val.data, s->val.len, err);
    }
    return rc;
}

int sql_table_find_conflict(sql_txn *txn, const sql_table *t,
                            const sql_index *ix, const dc_value *vals,
                            sql_buf *conflict_key, bool *found, dc_error *err)
{
    scratch s = {0};
    int rc = DC_OK;
    *found = false;
    if (ix != NULL) {
        rc = ix->unique
                 ? conflict_on(txn, t, ix, vals, conflict_key, found, &s, err)
                 : DC_OK;
    } else {
        if (t->pkey != NULL)
            rc = conflict_on(txn, t, t->pkey, vals, conflict_key, found, &s,
                             err);
        for (int i = 0; rc == DC_OK && !*found && i < t->nindexes; i++) {
            const sql_index *x = t->indexes[i];
            if (x->unique && !x->primary)
                rc = conflict_on(txn, t, x, vals, conflict_key, found, &s, err);
        }
    }
    scratch_free(&s);
    return rc;
}

/* Same SQL value representation (NULL-ness and bits). */
static bool same_value(const dc_value *a, const dc_value *b)
{
    if (a->is_null || b->is_null)
        return a->is_null == b->is_null;
    if (fixed_size(a->type) && a->type == b->type) {
        size_t fs = fixed_size(a->type);
        return fixed_bits(a, fs) == fixed_bits(b, fs);
    }
    if (fixed_size(a->type) || fixed_size(b->type))
        return false;
    return a->u.bytes.len == b->u.bytes.len &&
           (a->u.bytes.len == 0 ||
            memcmp(a->u.bytes.ptr, b->u.bytes.ptr, a->u.bytes.len) == 0);
}

static bool index_cols_same(const sql_index *ix, const dc_value *a,
                            const dc_value *b)
{
    for (int i = 0; i < ix->ncols; i++) {
        int at = ix->attnums[i] - 1;
        if (!same_value(&a[at], &b[at]))
            return false;
    }
    return true;
}

static bool buf_eq(const sql_buf *a, const sql_buf *b)
{
    return a->len == b->len &&
           (a->len == 0 || memcmp(a->data, b->data, a->len) == 0);
}

/* Does index ix need new entries for the update (oldv -> newv)? */
static bool index_changes(const sql_index *ix, const dc_value *oldv,
                          const dc_value *newv, bool moved)
{
    return !ix->primary && (moved || !index_cols_same(ix, oldv, newv));
}

/* Unique checks for the new entries of an update, before any write. */
static int index_check_update(sql_txn *txn, const sql_table *t,
                              const dc_value *oldv, const dc_value *newv,
                              bool moved, scratch *s, dc_error *err)
{
    static const uint8_t nokey[4] = {0};
    for (int i = 0; i < t->nindexes; i++) {
        const sql_index *ix = t->indexes[i];
        if (!ix->unique || !index_changes(ix, oldv, newv, moved) ||
            index_cols_same(ix, oldv, newv))
            continue;
        bool uk = false, exists = false;
        int rc = index_entry(ix, newv, nokey, 4, &s->ix, &uk, err);
        if (rc == DC_OK && uk)
            rc = lock_and_probe(txn, &s->ix, NULL, &exists, err);
        if (rc == DC_OK && exists)
            rc = unique_error(t, ix, newv, err);
        if (rc != DC_OK)
            return rc;
    }
    return DC_OK;
}

/* Move secondary index entries from (oldv at ok) to (newv at nk). */
static int index_update_all(sql_txn *txn, const sql_table *t,
                            const dc_value *oldv, const uint8_t *ok, size_t okn,
                            const dc_value *newv, const uint8_t *nk, size_t nkn,
                            bool moved, scratch *s, dc_error *err)
{
    for (int i = 0; i < t->nindexes; i++) {
        const sql_index *ix = t->indexes[i];
        if (!index_changes(ix, oldv, newv, moved))
            continue;
        bool ouk = false, nuk = false;
        int rc = index_entry(ix, oldv, ok, okn, &s->val, &ouk, err);
        if (rc == DC_OK)
            rc = index_entry(ix, newv, nk, nkn, &s->ix, &nuk, err);
        if (rc == DC_OK && !buf_eq(&s->val, &s->ix))
            rc = sql_txn_delete(txn, s->val.data, s->val.len, err);
        if (rc == DC_OK)
            rc = sql_txn_put(txn, s->ix.data, s->ix.len, nk + 4, nkn - 4, err);
        if (rc != DC_OK)
            return rc;
    }
    return DC_OK;
}

int sql_table_update(sql_txn *txn, const sql_table *t, const uint8_t *key,
                     size_t klen, const dc_value *oldv, const dc_value *newv,
                     dc_error *err)
{
    if (sql_txn_read_only(txn))
        return dc_error_set(err, DC_EPERM, "25006",
                            "cannot execute UPDATE in a read-only "
                            "transaction");
    int rc = check_not_null(t, newv, err);
    if (rc != DC_OK)
        return rc;
    scratch s = {0};
    bool moved = false;
    rc = sql_buf_append(&s.key, key, klen, err);
    if (rc == DC_OK && t->pkey != NULL &&
        !index_cols_same(t->pkey, oldv, newv)) {
        rc = sql_row_key(t, newv, &s.key, err);
        moved = rc == DC_OK &&
                (s.key.len != klen || memcmp(s.key.data, key, klen) != 0);
        bool exists = false;
        if (moved)
            rc = lock_and_probe(txn, &s.key, NULL, &exists, err);
        if (rc == DC_OK && exists)
            rc = unique_error(t, t->pkey, newv, err);
    }
    if (rc == DC_OK)
        rc = index_check_update(txn, t, oldv, newv, moved, &s, err);
    if (rc == DC_OK)
        rc = sql_row_encode(t, newv, &s.row, err);
    if (rc == DC_OK && moved)
        rc = sql_txn_delete(txn, key, klen, err);
    if (rc == DC_OK)
        rc = index_update_all(txn, t, oldv, key, klen, newv, s.key.data,
                              s.key.len, moved, &s, err);
    if (rc == DC_OK)
        rc =
            sql_txn_put(txn, s.key.data, s.key.len, s.row.data, s.row.len, err);
    scratch_free(&s);
    return rc;
}

int sql_table_delete(sql_txn *txn, const sql_table *t, const uint8_t *key,
                     size_t klen, const dc_value *oldv, dc_error *err)
{
    if (sql_txn_read_only(txn))
        return dc_error_set(err, DC_EPERM, "25006",
                            "cannot execute DELETE in a read-only "
                            "transaction");
    scratch s = {0};
    int rc = sql_txn_delete(txn, key, klen, err);
    for (int i = 0; rc == DC_OK && i < t->nindexes; i++) {
        const sql_index *ix = t->indexes[i];
        if (ix->primary)
            continue;
        bool uk;
        rc = index_entry(ix, oldv, key, klen, &s.ix, &uk, err);
        if (rc == DC_OK)
            rc = sql_txn_delete(txn, s.ix.data, s.ix.len, err);
    }
    scratch_free(&s);
    return rc;
}

int sql_table_fetch(sql_txn *txn, int mode, const sql_table *t,
                    const uint8_t *key, size_t klen, const sql_mem *mem,
                    dc_value *vals, bool *found, dc_error *err)
{
    if (mem == NULL) {
        sql_buf b = {0};
        int rc = sql_txn_get(txn, mode, key, klen, &b, found, err);
        if (rc == DC_OK && *found)
            rc = sql_row_decode(t, b.data, b.len, NULL, vals, err);
        sql_buf_free(&b);
        return rc;
    }
    const uint8_t *v = NULL;
    size_t vn = 0;
    int rc = sql_txn_get_ref(txn, mode, key, klen, mem, &v, &vn, found, err);
    if (rc != DC_OK || !*found)
        return rc;
    /* v lives in `mem` or in the write set: no further copy needed. */
    return row_decode(t, v, vn, mem, vals, err);
}

int sql_table_drop_storage(sql_txn *txn, const sql_table *t, dc_error *err)
{
    uint8_t lo[4], hi[4];
    rel_bounds(t->oid, lo, hi);
    int rc = sql_txn_drop_range(txn, lo, 4, hi, 4, err);
    for (int i = 0; rc == DC_OK && i < t->nindexes; i++)
        if (!t->indexes[i]->primary)
            rc = sql_index_drop_storage(txn, t->indexes[i], err);
    return rc;
}

int sql_index_drop_storage(sql_txn *txn, const sql_index *ix, dc_error *err)
{
    if (ix->primary)
        return DC_OK;
    uint8_t lo[4], hi[4];
    rel_bounds(ix->oid, lo, hi);
    return sql_txn_drop_range(txn, lo, 4, hi, 4, err);
}

int sql_table_approx_rows(sql_txn *txn, const sql_engine *eng,
                          const sql_table *t, uint64_t *n, dc_error *err)
{
    uint8_t lo[4], hi[4];
    rel_bounds(t->oid, lo, hi);
    if (!DC_HAS_FIELD(eng->sv, dc_storage_vtable, approx_count) ||
        eng->sv->approx_count == NULL || sql_txn_wrote_range(txn, lo, 4, hi, 4))
        return DC_EUNSUPPORTED;
    return eng->sv->approx_count(eng->store, lo, 4, hi, 4, n, err);
}

static int compact_rel(const sql_engine *eng, uint32_t oid, dc_error *err)
{
    uint8_t lo[4], hi[4];
    rel_bounds(oid, lo, hi);
    return eng->sv->compact(eng->store, lo, 4, hi, 4, err);
}

int sql_table_compact(const sql_engine *eng, const sql_table *t,
                      dc_error *err)
{
    if (eng->sv->compact == NULL)
        return DC_OK;
    int rc = compact_rel(eng, t->oid, err);
    for (int i = 0; rc == DC_OK && i < t->nindexes; i++)
        if (!t->indexes[i]->primary)
            rc = compact_rel(eng, t->indexes[i]->oid, err);
    return rc;
}

int sql_table_clear(sql_txn *txn, const sql_table *t, dc_error *err)
{
    uint8_t lo[4], hi[4];
    rel_bounds(t->oid, lo, hi);
    int rc = sql_txn_delete_range(txn, lo, 4, hi, 4, err);
    for (int i = 0; rc == DC_OK && i < t->nindexes; i++)
        if (!t->indexes[i]->primary)
            rc = sql_index_clear(txn, t->indexes[i], err);
    return rc;
}

int sql_index_clear(sql_txn *txn, const sql_index *ix, dc_error *err)
{
    if (ix->primary)
        return DC_OK;
    uint8_t lo[4], hi[4];
    rel_bounds(ix->oid, lo, hi);
    return sql_txn_delete_range(txn, lo, 4, hi, 4, err);
}

int sql_index_build(sql_txn *txn, const sql_table *t, const sql_index *ix,
                    dc_error *err)
{
    if (ix->primary)
        return DC_OK; /* the rows are keyed by it already */
    uint8_t lo[4], hi[4];
    rel_bounds(t->oid, lo, hi);
    sql_txn_iter *it = NULL;
    int rc = sql_txn_iter_open(txn, SQL_READ_LATEST | SQL_READ_NOCACHE, lo, 4,
                               hi, 4, &it, err);
    if (rc != DC_OK)
        return rc;
    dc_value *vals = dcm_calloc((size_t)(t->natts ? t->natts : 1), sizeof *vals);
    scratch s = {0};
    if (vals == NULL)
        rc = oom(err);
    bool valid = true;
    while (rc == DC_OK) {
        rc = sql_txn_iter_next(it, &valid, err);
        if (rc != DC_OK || !valid)
            break;
        const uint8_t *k, *v;
        size_t kn, vn;
        sql_txn_iter_key(it, &k, &kn);
        sql_txn_iter_value(it, &v, &vn);
        /* Copy the row key: the unique probe below may not move the
         * iterator, but the write set insert must not alias it. */
        s.key.len = 0;
        rc = sql_buf_append(&s.key, k, kn, err);
        if (rc == DC_OK)
            rc = row_decode(t, v, vn, NULL, vals, err); /* keys: no pad */
        bool uk = false;
        if (rc == DC_OK)
            rc = index_entry(ix, vals, s.key.data, s.key.len, &s.ix, &uk, err);
        if (rc == DC_OK && uk) {
            bool exists = false;
            rc = lock_and_probe(txn, &s.ix, NULL, &exists, err);
            if (rc == DC_OK && exists) {
                /* The message shows the values as a query would. */
                rc = sql_row_decode(t, v, vn, NULL, vals, err);
                if (rc == DC_OK) {
                    rc = unique_error(t, ix, vals, err);
                    for (int i = 0; i < t->natts; i++)
                        if (!vals[i].is_null && !fixed_size(vals[i].type))
                            free((void *)vals[i].u.bytes.ptr);
                }
            }
        }
        if (rc == DC_OK)
            rc = sql_txn_put(txn, s.ix.data, s.ix.len, s.key.data + 4,
                             s.key.len - 4, err);
    }
    free(vals);
    scratch_free(&s);
    sql_txn_iter_close(it);
    return rc;
}

/* ==== scans ================================================================
 */

struct sql_scan {
    sql_txn *txn;
    int mode;
    const sql_table *t;
    bool via_index; /* entries -> row keys -> fetch            */
    sql_txn_iter *it;
    sql_buf rk;     /* row key of an index scan's current row  */
    uint8_t *cols;  /* columns to decode (sql_scan_set_columns) */
    bool fixed_only; /* cols has only fixed-size columns: decoded
                        values hold no pointers, so the stored row
                        needs no copy                            */
};

int sql_scan_set_columns(sql_scan *s, const uint8_t *cols, dc_error *err)
{
    free(s->cols);
    s->cols = NULL;
    s->fixed_only = false;
    if (cols == NULL)
        return DC_OK;
    size_t nb = ((size_t)s->t->natts + 7) / 8;
    s->cols = malloc(nb ? nb : 1);
    if (s->cols == NULL)
        return oom(err);
    if (nb)
        memcpy(s->cols, cols, nb);
    s->fixed_only = true;
    for (int i = 0; i < s->t->natts; i++) {
        const sql_column *c = &s->t->cols[i];
        if ((cols[i / 8] & (1u << (i % 8))) && !c->dropped &&
            !fixed_size(c->type))
            s->fixed_only = false;
    }
    return DC_OK;
}

/* Decode the current stored row of a table scan into vals. */
static int scan_decode(sql_scan *s, const sql_mem *mem, const uint8_t *v,
                       size_t vn, dc_value *vals, dc_error *err)
{
    if (s->cols == NULL || mem == NULL)
        return sql_row_decode(s->t, v, vn, mem, vals, err);
    if (!s->fixed_only) {
        uint8_t *q = mem->alloc(mem->ctx, vn ? vn : 1);
        if (q == NULL)
            return oom(err);
        if (vn)
            memcpy(q, v, vn);
        v = q;
    }
    return row_decode_cols(s->t, v, vn, s->cols, mem, vals, err);
}

static int scan_open(sql_txn *txn, int mode, const sql_table *t, uint32_t oid,
                     bool via_index, const uint8_t *lo, size_t lolen,
                     const uint8_t *hi, size_t hilen, sql_scan **out,
                     dc_error *err)
{
    uint8_t dlo[4], dhi[4];
    rel_bounds(oid, dlo, dhi);
    if (lo == NULL) {
        lo = dlo;
        lolen = 4;
    }
    if (hi == NULL) {
        hi = dhi;
        hilen = 4;
    }
    sql_scan *s = dcm_calloc(1, sizeof *s);
    if (s == NULL)
        return oom(err);
    s->txn = txn;
    s->mode = mode & ~SQL_READ_NOCACHE;
    s->t = t;
    s->via_index = via_index;
    int rc = sql_txn_iter_open(txn, mode, lo, lolen, hi, hilen, &s->it, err);
    if (rc != DC_OK) {
        free(s);
        return rc;
    }
    *out = s;
    return DC_OK;
}

int sql_table_scan_open(sql_txn *txn, int mode, const sql_table *t,
                        const uint8_t *lo, size_t lolen, const uint8_t *hi,
                        size_t hilen, sql_scan **out, dc_error *err)
{
    return scan_open(txn, mode, t, t->oid, false, lo, lolen, hi, hilen, out,
                     err);
}

int sql_index_scan_open(sql_txn *txn, int mode, const sql_table *t,
                        const sql_index *ix, const uint8_t *lo, size_t lolen,
                        const uint8_t *hi, size_t hilen, sql_scan **out,
                        dc_error *err)
{
    if (ix->primary)
        return scan_open(txn, mode, t, t->oid, false, lo, lolen, hi, hilen, out,
                         err);
    return scan_open(txn, mode, t, ix->oid, true, lo, lolen, hi, hilen, out,
                     err);
}

bool sql_scan_storage_only(const sql_scan *s)
{
    return !s->via_index && sql_txn_iter_storage_only(s->it);
}

void sql_scan_row(const sql_scan *s, const uint8_t **row, size_t *len)
{
    sql_txn_iter_value(s->it, row, len);
}

int sql_scan_next(sql_scan *s, const sql_mem *mem, dc_value *vals,
                  const uint8_t **key, size_t *klen, bool *valid, dc_error *err)
{
    for (;;) {
        int rc = sql_txn_iter_next(s->it, valid, err);
        if (rc != DC_OK || !*valid)
            return rc;
        const uint8_t *k, *v;
        size_t kn, vn;
        sql_txn_iter_value(s->it, &v, &vn);
        if (!s->via_index) {
            sql_txn_iter_key(s->it, &k, &kn);
            rc = scan_decode(s, mem, v, vn, vals, err);
            if (rc == DC_OK && key != NULL) {
                *key = k;
                *klen = kn;
            }
            return rc;
        }
        rc = key_start(&s->rk, s->t->oid, err);
        if (rc == DC_OK)
            rc = sql_buf_append(&s->rk, v, vn, err);
        bool found = false;
        if (rc == DC_OK)
            rc = sql_table_fetch(s->txn, s->mode, s->t, s->rk.data, s->rk.len,
                                 mem, vals, &found, err);
        if (rc != DC_OK)
            return rc;
        if (!found)
            continue; /* an entry whose row this view does not see */
        if (key != NULL) {
            *key = s->rk.data;
            *klen = s->rk.len;
        }
        return DC_OK;
    }
}

void sql_scan_close(sql_scan *s)
{
    if (s == NULL)
        return;
    sql_txn_iter_close(s->it);
    sql_buf_free(&s->rk);
    free(s->cols);
    free(s);
}
