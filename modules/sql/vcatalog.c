/*
 * sql/vcatalog.c - the generated pg_catalog and information_schema
 * relations (vcatalog.h), computed from ctx->cat on every read.
 *
 * Fixed identities:
 *   namespaces   pg_catalog 11, public 2200, information_schema 13000
 *   the role     oid 10 (the bootstrap superuser), named ctx->user
 *   the database oid 16384, named ctx->database ("datacave" when unset)
 *   access methods heap 2, btree 403, hash 405
 * Objects without an oid of their own in the catalog get derived ones:
 *   a CHECK constraint  0x80000000 | (table oid - 16384) << 8 | index
 *   a column default    0xC0000000 | (table oid - 16384) << 11 | attnum
 * PRIMARY KEY / UNIQUE constraints use their index's oid.
 *
 * Array-typed columns of PostgreSQL are text here in PostgreSQL's output
 * form (int2vector "1 2", int2[] "{1,2}"), pg_node_tree columns hold the
 * canonical expression text, "char" columns are one-character text.
 */
#include "sql/vcatalog.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sql/binder.h"
#include "sql/catalog.h"
#include "sql/parser.h"

#define NSP_CATALOG 11u
#define NSP_PUBLIC  2200u
#define NSP_INFO    13000u
#define ROLE_OID    10u
#define ROLE_DATABASE_OWNER 6171u /* pg_database_owner */
#define DB_OID      16384u
#define AM_HEAP     2u
#define AM_BTREE    403u
#define AM_HASH     405u
#define MAX_COLS    40

/* ==== rows ==================================================================
 */

/* A row under construction: text goes into one buffer and the value
 * pointers are fixed up when the row is emitted (the buffer may move). */
typedef struct rowb {
    int n;
    dc_value v[MAX_COLS];
    size_t off[MAX_COLS];
    bool text[MAX_COLS];
    sql_buf buf;
    bool oom;
} rowb;

static void rb_reset(rowb *r)
{
    r->n = 0;
    r->buf.len = 0;
}

static void rb_val(rowb *r, dc_value v)
{
    if (r->n < MAX_COLS) {
        r->text[r->n] = false;
        r->v[r->n++] = v;
    }
}

static void rb_null(rowb *r, uint32_t type)
{
    rb_val(r, sql_value_null(type));
}

static void rb_str(rowb *r, uint32_t type, const char *s)
{
    if (!s) {
        rb_null(r, type);
        return;
    }
    if (r->n >= MAX_COLS)
        return;
    size_t len = strlen(s);
    r->off[r->n] = r->buf.len;
    if (sql_buf_append(&r->buf, s, len, NULL) != DC_OK)
        r->oom = true;
    r->text[r->n] = true;
    dc_value v = sql_value_bytes(type, NULL, len);
    r->v[r->n++] = v;
}

static void rb_name(rowb *r, const char *s)
{
    rb_str(r, DC_TYPE_NAME, s);
}
static void rb_text(rowb *r, const char *s)
{
    rb_str(r, DC_TYPE_TEXT, s);
}
static void rb_vc(rowb *r, const char *s)
{
    rb_str(r, DC_TYPE_VARCHAR, s);
}
static void rb_oid(rowb *r, uint32_t o)
{
    rb_val(r, sql_value_int(DC_TYPE_OID, o));
}
static void rb_i2(rowb *r, int64_t i)
{
    rb_val(r, sql_value_int(DC_TYPE_INT2, i));
}
static void rb_i4(rowb *r, int64_t i)
{
    rb_val(r, sql_value_int(DC_TYPE_INT4, i));
}
static void rb_bool(rowb *r, bool b)
{
    rb_val(r, sql_value_bool(b));
}

static int rb_emit(rowb *r, const sql_vrel *rel, sql_vrow_fn emit, void *ud,
                   dc_error *err)
{
    if (r->oom)
        return dc_error_set(err, DC_ENOMEM, DC_SQLSTATE_OOM, "out of memory");
    if (r->n != rel->ncols)
        return dc_error_set(err, DC_EINVAL, DC_SQLSTATE_INTERNAL,
                            "generated relation %s has %d columns, row has %d",
                            rel->name, rel->ncols, r->n);
    for (int i = 0; i < r->n; i++) {
        if (r->text[i])
            r->v[i].u.bytes.ptr =
                r->buf.data ? r->buf.data + r->off[i] : (const uint8_t *)"";
        /* Columns are typed by the relation: varchar vs text vs name. */
        if (r->v[i].type != rel->coltypes[i] && !r->v[i].is_null)
            r->v[i].type = rel->coltypes[i];
        if (r->v[i].is_null)
            r->v[i].type = rel->coltypes[i];
    }
    int rc = emit(ud, r->v, err);
    rb_reset(r);
    return rc;
}

/* ==== helpers ================================================================
 */

static const char *cur_user(const sql_ctx *ctx)
{
    return ctx->user ? ctx->user : "datacave";
}

static const char *cur_db(const sql_ctx *ctx)
{
    return ctx->database ? ctx->database : "datacave";
}

static uint32_t check_oid(const sql_table *t, int i)
{
    return 0x80000000u | ((t->oid - SQL_FIRST_USER_OID) & 0x1FFFFFu) << 8 |
           (uint32_t)(i & 0xFF);
}

/* A DEFAULT that is just NULL: PostgreSQL stores no pg_attrdef row for
 * it (and atthasdef stays false). */
static bool default_is_null(const char *text)
{
    return text && (!strcasecmp(text, "NULL") ||
                    !strncasecmp(text, "NULL::", 6));
}

static uint32_t attrdef_oid(const sql_table *t, int attnum)
{
    return 0xC0000000u | ((t->oid - SQL_FIRST_USER_OID) & 0x7FFFFu) << 11 |
           (uint32_t)(attnum & 0x7FF);
}

typedef struct type_info {
    uint32_t oid;
    const char *name;
    int16_t len;
    bool byval;
    char category;
    bool preferred;
    uint32_t array;
    char align;
    char storage;
    uint32_t collation;
    const char *io; /* I/O function prefix: "int4" -> int4in   */
} type_info;

static const type_info TYPES[] = {
    {16, "bool", 1, true, 'B', true, 1000, 'c', 'p', 0, "bool"},
    {17, "bytea", -1, false, 'U', false, 1001, 'i', 'x', 0, "bytea"},
    {19, "name", 64, false, 'S', false, 1003, 'c', 'p', 950, "name"},
    {20, "int8", 8, true, 'N', false, 1016, 'd', 'p', 0, "int8"},
    {21, "int2", 2, true, 'N', false, 1005, 's', 'p', 0, "int2"},
    {23, "int4", 4, true, 'N', false, 1007, 'i', 'p', 0, "int4"},
    {25, "text", -1, false, 'S', true, 1009, 'i', 'x', 100, "text"},
    {26, "oid", 4, true, 'N', true, 1028, 'i', 'p', 0, "oid"},
    {700, "float4", 4, true, 'N', false, 1021, 'i', 'p', 0, "float4"},
    {701, "float8", 8, true, 'N', true, 1022, 'd', 'p', 0, "float8"},
    {1042, "bpchar", -1, false, 'S', false, 1014, 'i', 'x', 100, "bpchar"},
    {1043, "varchar", -1, false, 'S', false, 1015, 'i', 'x', 100, "varchar"},
    {1082, "date", 4, true, 'D', false, 1182, 'i', 'p', 0, "date_"},
    {1114, "timestamp", 8, true, 'D', false, 1115, 'd', 'p', 0, "timestamp_"},
    {1184, "timestamptz", 8, true, 'D', true, 1185, 'd', 'p', 0,
     "timestamptz_"},
    {1700, "numeric", -1, false, 'N', false, 1231, 'i', 'm', 0, "numeric_"},
};
#define NTYPES (sizeof TYPES / sizeof *TYPES)

static const type_info *type_find(uint32_t oid)
{
    for (size_t i = 0; i < NTYPES; i++)
        if (TYPES[i].oid == oid)
            return &TYPES[i];
    return NULL;
}

static int16_t type_len(uint32_t oid)
{
    const type_info *t = type_find(oid);
    return t ? t->len : -1;
}

static uint32_t type_collation(uint32_t oid)
{
    const type_info *t = type_find(oid);
    return t ? t->collation : 0;
}

static void char1(char out[2], char c)
{
    out[0] = c;
    out[1] = '\0';
}

/* Identifier as PostgreSQL quotes it (lower-case words stay bare). */
static void quote_ident(sql_buf *b, const char *s)
{
    bool plain = *s && !(s[0] >= '0' && s[0] <= '9');
    for (const char *p = s; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
              *p == '_'))
            plain = false;
    if (plain) {
        sql_buf_append(b, s, strlen(s), NULL);
        return;
    }
    sql_buf_append(b, "\"", 1, NULL);
    for (const char *p = s; *p; p++) {
        sql_buf_append(b, p, 1, NULL);
        if (*p == '"')
            sql_buf_append(b, "\"", 1, NULL);
    }
    sql_buf_append(b, "\"", 1, NULL);
}

static void buf_str(sql_buf *b, const char *s)
{
    sql_buf_append(b, s, strlen(s), NULL);
}

/* NUL-terminated malloc'd copy of a buffer (freed with it). */
static char *buf_take(sql_buf *b)
{
    if (sql_buf_append(b, "", 1, NULL) != DC_OK) {
        sql_buf_free(b);
        return NULL;
    }
    return (char *)b->data;
}

static void key_list(sql_buf *b, const sql_table *t, const sql_index *ix,
                     bool with_order)
{
    for (int k = 0; k < ix->ncols; k++) {
        if (k)
            buf_str(b, ", ");
        quote_ident(b, t->cols[ix->attnums[k] - 1].name);
        if (!with_order)
            continue;
        bool desc = ix->flags[k] & SQL_KEY_DESC;
        bool nf = ix->flags[k] & SQL_KEY_NULLS_FIRST;
        if (desc)
            buf_str(b, " DESC");
        if (desc && !nf)
            buf_str(b, " NULLS LAST");
        if (!desc && nf)
            buf_str(b, " NULLS FIRST");
    }
}

static char *index_def(const sql_table *t, const sql_index *ix)
{
    sql_buf b = {0};
    buf_str(&b, ix->unique ? "CREATE UNIQUE INDEX " : "CREATE INDEX ");
    quote_ident(&b, ix->name);
    buf_str(&b, " ON ");
    quote_ident(&b, t->schema);
    buf_str(&b, ".");
    quote_ident(&b, t->name);
    buf_str(&b, " USING btree (");
    key_list(&b, t, ix, true);
    buf_str(&b, ")");
    return buf_take(&b);
}

static char *index_constraint_def(const sql_table *t, const sql_index *ix)
{
    sql_buf b = {0};
    buf_str(&b, ix->primary ? "PRIMARY KEY (" : "UNIQUE (");
    key_list(&b, t, ix, false);
    buf_str(&b, ")");
    return buf_take(&b);
}

static char *check_def(const sql_check *ck)
{
    sql_buf b = {0};
    buf_str(&b, "CHECK (");
    buf_str(&b, ck->expr);
    buf_str(&b, ")");
    return buf_take(&b);
}

static const sql_index *find_index(const sql_catalog *c, uint32_t oid,
                                   const sql_table **owner)
{
    for (size_t i = 0; i < sql_catalog_ntables(c); i++) {
        const sql_table *t = sql_catalog_table_at(c, i);
        for (int j = 0; j < t->nindexes; j++)
            if (t->indexes[j]->oid == oid) {
                *owner = t;
                return t->indexes[j];
            }
    }
    return NULL;
}

char *sql_vcat_viewdef(const sql_catalog *c, uint32_t oid)
{
    for (size_t i = 0; i < sql_catalog_nviews(c); i++) {
        const sql_view *v = sql_catalog_view_at(c, i);
        if (v->oid == oid) {
            size_t n = strlen(v->query) + 1;
            char *s = malloc(n);
            if (s)
                memcpy(s, v->query, n);
            return s;
        }
    }
    return NULL;
}

char *sql_vcat_indexdef(const sql_catalog *c, uint32_t oid)
{
    const sql_table *t = NULL;
    const sql_index *ix = find_index(c, oid, &t);
    return ix ? index_def(t, ix) : NULL;
}

const sql_check *sql_vcat_check(const sql_catalog *c, uint32_t oid,
                                const sql_table **owner)
{
    if ((oid & 0xE0000000u) != 0x80000000u)
        return NULL;
    uint32_t toid = ((oid & 0x1FFFFFFFu) >> 8) + SQL_FIRST_USER_OID;
    const sql_table *t = sql_catalog_table_by_oid(c, toid);
    int i = (int)(oid & 0xFF);
    if (!t || i >= t->nchecks)
        return NULL;
    *owner = t;
    return &t->checks[i];
}

char *sql_vcat_constraintdef(const sql_catalog *c, uint32_t oid)
{
    if ((oid & 0xE0000000u) == 0x80000000u) {
        uint32_t toid = ((oid & 0x1FFFFFFFu) >> 8) + SQL_FIRST_USER_OID;
        const sql_table *t = sql_catalog_table_by_oid(c, toid);
        int i = (int)(oid & 0xFF);
        return t && i < t->nchecks ? check_def(&t->checks[i]) : NULL;
    }
    const sql_table *t = NULL;
    const sql_index *ix = find_index(c, oid, &t);
    return ix && ix->is_constraint ? index_constraint_def(t, ix) : NULL;
}

/* ==== column lists
 * ============================================================ */

/* clang-format off */
#define NAMEOF(n, t) n,
#define TYPEOF(n, t) DC_TYPE_##t,
#define REL(sym, COLS)                                                      \
    static const char *const sym##_names[] = {COLS(NAMEOF)};                \
    static const uint32_t sym##_types[] = {COLS(TYPEOF)};

#define PG_NAMESPACE(X) X("oid", OID) X("nspname", NAME) X("nspowner", OID) X("nspacl", TEXT)
REL(pg_namespace, PG_NAMESPACE)

#define PG_CLASS(X)                                                          \
    X("oid", OID) X("relname", NAME) X("relnamespace", OID) X("reltype", OID) \
    X("reloftype", OID) X("relowner", OID) X("relam", OID)                   \
    X("relfilenode", OID) X("reltablespace", OID) X("relpages", INT4)        \
    X("reltuples", FLOAT4) X("relallvisible", INT4) X("reltoastrelid", OID)  \
    X("relhasindex", BOOL) X("relisshared", BOOL) X("relpersistence", TEXT)  \
    X("relkind", TEXT) X("relnatts", INT2) X("relchecks", INT2)              \
    X("relhasrules", BOOL) X("relhastriggers", BOOL)                         \
    X("relhassubclass", BOOL) X("relrowsecurity", BOOL)                      \
    X("relforcerowsecurity", BOOL) X("relispopulated", BOOL)                 \
    X("relreplident", TEXT) X("relispartition", BOOL) X("relrewrite", OID)   \
    X("relfrozenxid", INT8) X("relminmxid", INT8) X("relacl", TEXT)          \
    X("reloptions", TEXT) X("relpartbound", TEXT)
REL(pg_class, PG_CLASS)

#define PG_ATTRIBUTE(X)                                                      \
    X("attrelid", OID) X("attname", NAME) X("atttypid", OID)                 \
    X("attstattarget", INT4) X("attlen", INT2) X("attnum", INT2)             \
    X("attndims", INT4) X("attcacheoff", INT4) X("atttypmod", INT4)          \
    X("attbyval", BOOL) X("attalign", TEXT) X("attstorage", TEXT)            \
    X("attcompression", TEXT) X("attnotnull", BOOL) X("atthasdef", BOOL)     \
    X("atthasmissing", BOOL) X("attidentity", TEXT) X("attgenerated", TEXT)  \
    X("attisdropped", BOOL) X("attislocal", BOOL) X("attinhcount", INT4)     \
    X("attcollation", OID) X("attacl", TEXT) X("attoptions", TEXT)           \
    X("attfdwoptions", TEXT) X("attmissingval", TEXT)
REL(pg_attribute, PG_ATTRIBUTE)

#define PG_TYPE(X)                                                           \
    X("oid", OID) X("typname", NAME) X("typnamespace", OID)                  \
    X("typowner", OID) X("typlen", INT2) X("typbyval", BOOL)                 \
    X("typtype", TEXT) X("typcategory", TEXT) X("typispreferred", BOOL)      \
    X("typisdefined", BOOL) X("typdelim", TEXT) X("typrelid", OID)           \
    X("typsubscript", TEXT) X("typelem", OID) X("typarray", OID)             \
    X("typinput", TEXT) X("typoutput", TEXT) X("typreceive", TEXT)           \
    X("typsend", TEXT) X("typmodin", TEXT) X("typmodout", TEXT)              \
    X("typanalyze", TEXT) X("typalign", TEXT) X("typstorage", TEXT)          \
    X("typnotnull", BOOL) X("typbasetype", OID) X("typtypmod", INT4)         \
    X("typndims", INT4) X("typcollation", OID) X("typdefaultbin", TEXT)      \
    X("typdefault", TEXT) X("typacl", TEXT)
REL(pg_type, PG_TYPE)

#define PG_INDEX(X)                                                          \
    X("indexrelid", OID) X("indrelid", OID) X("indnatts", INT2)              \
    X("indnkeyatts", INT2) X("indisunique", BOOL)                            \
    X("indnullsnotdistinct", BOOL) X("indisprimary", BOOL)                   \
    X("indisexclusion", BOOL) X("indimmediate", BOOL)                        \
    X("indisclustered", BOOL) X("indisvalid", BOOL) X("indcheckxmin", BOOL)  \
    X("indisready", BOOL) X("indislive", BOOL) X("indisreplident", BOOL)     \
    X("indkey", TEXT) X("indcollation", TEXT) X("indclass", TEXT)            \
    X("indoption", TEXT) X("indexprs", TEXT) X("indpred", TEXT)
REL(pg_index, PG_INDEX)

#define PG_CONSTRAINT(X)                                                     \
    X("oid", OID) X("conname", NAME) X("connamespace", OID)                  \
    X("contype", TEXT) X("condeferrable", BOOL) X("condeferred", BOOL)       \
    X("convalidated", BOOL) X("conrelid", OID) X("contypid", OID)            \
    X("conindid", OID) X("conparentid", OID) X("confrelid", OID)             \
    X("confupdtype", TEXT) X("confdeltype", TEXT) X("confmatchtype", TEXT)   \
    X("conislocal", BOOL) X("coninhcount", INT4) X("connoinherit", BOOL)     \
    X("conkey", TEXT) X("confkey", TEXT) X("conpfeqop", TEXT)                \
    X("conppeqop", TEXT) X("conffeqop", TEXT) X("confdelsetcols", TEXT)      \
    X("conexclop", TEXT) X("conbin", TEXT)
REL(pg_constraint, PG_CONSTRAINT)

#define PG_ATTRDEF(X) X("oid", OID) X("adrelid", OID) X("adnum", INT2) X("adbin", TEXT)
REL(pg_attrdef, PG_ATTRDEF)

#define PG_DATABASE(X)                                                       \
    X("oid", OID) X("datname", NAME) X("datdba", OID) X("encoding", INT4)    \
    X("datlocprovider", TEXT) X("datistemplate", BOOL)                       \
    X("datallowconn", BOOL) X("datconnlimit", INT4) X("datfrozenxid", INT8)  \
    X("datminmxid", INT8) X("dattablespace", OID) X("datcollate", TEXT)      \
    X("datctype", TEXT) X("daticulocale", TEXT) X("datcollversion", TEXT)    \
    X("datacl", TEXT)
REL(pg_database, PG_DATABASE)

#define PG_ROLES(X)                                                          \
    X("rolname", NAME) X("rolsuper", BOOL) X("rolinherit", BOOL)             \
    X("rolcreaterole", BOOL) X("rolcreatedb", BOOL) X("rolcanlogin", BOOL)   \
    X("rolreplication", BOOL) X("rolconnlimit", INT4) X("rolpassword", TEXT) \
    X("rolvaliduntil", TIMESTAMPTZ) X("rolbypassrls", BOOL)                  \
    X("rolconfig", TEXT) X("oid", OID)
REL(pg_roles, PG_ROLES)

#define PG_USER(X)                                                           \
    X("usename", NAME) X("usesysid", OID) X("usecreatedb", BOOL)             \
    X("usesuper", BOOL) X("userepl", BOOL) X("usebypassrls", BOOL)           \
    X("passwd", TEXT) X("valuntil", TIMESTAMPTZ) X("useconfig", TEXT)
REL(pg_user, PG_USER)

#define PG_SETTINGS(X)                                                       \
    X("name", TEXT) X("setting", TEXT) X("unit", TEXT) X("category", TEXT)   \
    X("short_desc", TEXT) X("extra_desc", TEXT) X("context", TEXT)           \
    X("vartype", TEXT) X("source", TEXT) X("min_val", TEXT)                  \
    X("max_val", TEXT) X("enumvals", TEXT) X("boot_val", TEXT)               \
    X("reset_val", TEXT) X("sourcefile", TEXT) X("sourceline", INT4)         \
    X("pending_restart", BOOL)
REL(pg_settings, PG_SETTINGS)

#define PG_TABLES(X)                                                         \
    X("schemaname", NAME) X("tablename", NAME) X("tableowner", NAME)         \
    X("tablespace", NAME) X("hasindexes", BOOL) X("hasrules", BOOL)          \
    X("hastriggers", BOOL) X("rowsecurity", BOOL)
REL(pg_tables, PG_TABLES)

#define PG_VIEWS(X)                                                          \
    X("schemaname", NAME) X("viewname", NAME) X("viewowner", NAME)           \
    X("definition", TEXT)
REL(pg_views, PG_VIEWS)

#define PG_INDEXES(X)                                                        \
    X("schemaname", NAME) X("tablename", NAME) X("indexname", NAME)          \
    X("tablespace", NAME) X("indexdef", TEXT)
REL(pg_indexes, PG_INDEXES)

#define PG_DESCRIPTION(X)                                                    \
    X("objoid", OID) X("classoid", OID) X("objsubid", INT4) X("description", TEXT)
REL(pg_description, PG_DESCRIPTION)

#define PG_AM(X) X("oid", OID) X("amname", NAME) X("amhandler", TEXT) X("amtype", TEXT)
REL(pg_am, PG_AM)

#define PG_PROC(X)                                                           \
    X("oid", OID) X("proname", NAME) X("pronamespace", OID)                  \
    X("proowner", OID) X("prolang", OID) X("prokind", TEXT)                  \
    X("proretset", BOOL) X("pronargs", INT2) X("prorettype", OID)            \
    X("proargtypes", TEXT) X("prosrc", TEXT)
REL(pg_proc, PG_PROC)

#define PG_INHERITS(X)                                                       \
    X("inhrelid", OID) X("inhparent", OID) X("inhseqno", INT4)               \
    X("inhdetachpending", BOOL)
REL(pg_inherits, PG_INHERITS)

#define PG_TABLESPACE(X)                                                     \
    X("oid", OID) X("spcname", NAME) X("spcowner", OID) X("spcacl", TEXT)    \
    X("spcoptions", TEXT)
REL(pg_tablespace, PG_TABLESPACE)

#define PG_COLLATION(X)                                                      \
    X("oid", OID) X("collname", NAME) X("collnamespace", OID)                \
    X("collowner", OID) X("collprovider", TEXT) X("collisdeterministic", BOOL) \
    X("collencoding", INT4) X("collcollate", TEXT) X("collctype", TEXT)
REL(pg_collation, PG_COLLATION)

#define PG_EXTENSION(X)                                                      \
    X("oid", OID) X("extname", NAME) X("extowner", OID)                      \
    X("extnamespace", OID) X("extrelocatable", BOOL) X("extversion", TEXT)
REL(pg_extension, PG_EXTENSION)

#define PG_TRIGGER(X)                                                        \
    X("oid", OID) X("tgrelid", OID) X("tgparentid", OID) X("tgname", NAME)   \
    X("tgfoid", OID) X("tgtype", INT2) X("tgenabled", TEXT)                  \
    X("tgisinternal", BOOL) X("tgconstrrelid", OID) X("tgconstrindid", OID)  \
    X("tgconstraint", OID) X("tgdeferrable", BOOL)                           \
    X("tginitdeferred", BOOL) X("tgnargs", INT2)
REL(pg_trigger, PG_TRIGGER)

#define PG_POLICY(X)                                                         \
    X("oid", OID) X("polname", NAME) X("polrelid", OID) X("polcmd", TEXT)    \
    X("polpermissive", BOOL) X("polroles", TEXT) X("polqual", TEXT)          \
    X("polwithcheck", TEXT)
REL(pg_policy, PG_POLICY)

#define PG_STATISTIC_EXT(X)                                                  \
    X("oid", OID) X("stxrelid", OID) X("stxname", NAME)                      \
    X("stxnamespace", OID) X("stxowner", OID) X("stxstattarget", INT4)       \
    X("stxkeys", TEXT) X("stxkind", TEXT) X("stxexprs", TEXT)
REL(pg_statistic_ext, PG_STATISTIC_EXT)

#define PG_REWRITE(X)                                                        \
    X("oid", OID) X("rulename", NAME) X("ev_class", OID) X("ev_type", TEXT)  \
    X("ev_enabled", TEXT) X("is_instead", BOOL) X("ev_qual", TEXT)           \
    X("ev_action", TEXT)
REL(pg_rewrite, PG_REWRITE)

#define PG_AUTH_MEMBERS(X)                                                   \
    X("oid", OID) X("roleid", OID) X("member", OID) X("grantor", OID)        \
    X("admin_option", BOOL)
REL(pg_auth_members, PG_AUTH_MEMBERS)

#define PG_PUBLICATION(X)                                                    \
    X("oid", OID) X("pubname", NAME) X("pubowner", OID)                      \
    X("puballtables", BOOL) X("pubinsert", BOOL) X("pubupdate", BOOL)        \
    X("pubdelete", BOOL) X("pubtruncate", BOOL) X("pubviaroot", BOOL)
REL(pg_publication, PG_PUBLICATION)

#define PG_PUBLICATION_NAMESPACE(X)                                          \
    X("oid", OID) X("pnpubid", OID) X("pnnspid", OID)
REL(pg_publication_namespace, PG_PUBLICATION_NAMESPACE)

#define PG_PUBLICATION_REL(X)                                                \
    X("oid", OID) X("prpubid", OID) X("prrelid", OID) X("prqual", TEXT)      \
    X("prattrs", TEXT)
REL(pg_publication_rel, PG_PUBLICATION_REL)

#define PG_PARTITIONED_TABLE(X)                                              \
    X("partrelid", OID) X("partstrat", TEXT) X("partnatts", INT2)            \
    X("partdefid", OID) X("partattrs", TEXT) X("partclass", TEXT)            \
    X("partcollation", TEXT) X("partexprs", TEXT)
REL(pg_partitioned_table, PG_PARTITIONED_TABLE)

#define IS_TABLES(X)                                                         \
    X("table_catalog", NAME) X("table_schema", NAME) X("table_name", NAME)   \
    X("table_type", VARCHAR) X("self_referencing_column_name", NAME)         \
    X("reference_generation", VARCHAR) X("user_defined_type_catalog", NAME)  \
    X("user_defined_type_schema", NAME) X("user_defined_type_name", NAME)    \
    X("is_insertable_into", VARCHAR) X("is_typed", VARCHAR)                  \
    X("commit_action", VARCHAR)
REL(is_tables, IS_TABLES)

#define IS_COLUMNS(X)                                                        \
    X("table_catalog", NAME) X("table_schema", NAME) X("table_name", NAME)   \
    X("column_name", NAME) X("ordinal_position", INT4)                       \
    X("column_default", VARCHAR) X("is_nullable", VARCHAR)                   \
    X("data_type", VARCHAR) X("character_maximum_length", INT4)              \
    X("character_octet_length", INT4) X("numeric_precision", INT4)           \
    X("numeric_precision_radix", INT4) X("numeric_scale", INT4)              \
    X("datetime_precision", INT4) X("udt_catalog", NAME)                     \
    X("udt_schema", NAME) X("udt_name", NAME) X("dtd_identifier", NAME)      \
    X("is_identity", VARCHAR) X("is_generated", VARCHAR)                     \
    X("is_updatable", VARCHAR)
REL(is_columns, IS_COLUMNS)

#define IS_SCHEMATA(X)                                                       \
    X("catalog_name", NAME) X("schema_name", NAME) X("schema_owner", NAME)   \
    X("default_character_set_catalog", NAME)                                 \
    X("default_character_set_schema", NAME)                                  \
    X("default_character_set_name", NAME) X("sql_path", VARCHAR)
REL(is_schemata, IS_SCHEMATA)

#define IS_TABLE_CONSTRAINTS(X)                                              \
    X("constraint_catalog", NAME) X("constraint_schema", NAME)               \
    X("constraint_name", NAME) X("table_catalog", NAME)                      \
    X("table_schema", NAME) X("table_name", NAME)                            \
    X("constraint_type", VARCHAR) X("is_deferrable", VARCHAR)                \
    X("initially_deferred", VARCHAR) X("enforced", VARCHAR)                  \
    X("nulls_distinct", VARCHAR)
REL(is_table_constraints, IS_TABLE_CONSTRAINTS)

#define IS_KEY_COLUMN_USAGE(X)                                               \
    X("constraint_catalog", NAME) X("constraint_schema", NAME)               \
    X("constraint_name", NAME) X("table_catalog", NAME)                      \
    X("table_schema", NAME) X("table_name", NAME) X("column_name", NAME)     \
    X("ordinal_position", INT4) X("position_in_unique_constraint", INT4)
REL(is_key_column_usage, IS_KEY_COLUMN_USAGE)

#define IS_VIEWS(X)                                                          \
    X("table_catalog", NAME) X("table_schema", NAME) X("table_name", NAME)   \
    X("view_definition", VARCHAR) X("check_option", VARCHAR)                 \
    X("is_updatable", VARCHAR) X("is_insertable_into", VARCHAR)              \
    X("is_trigger_updatable", VARCHAR) X("is_trigger_deletable", VARCHAR)    \
    X("is_trigger_insertable_into", VARCHAR)
REL(is_views, IS_VIEWS)

/* clang-format on */

/* ==== row functions
 * ============================================================ */

typedef int (*rows_fn)(sql_ctx *ctx, const sql_vrel *rel, sql_vrow_fn emit,
                       void *ud, dc_error *err);

static int no_rows(sql_ctx *ctx, const sql_vrel *rel, sql_vrow_fn emit,
                   void *ud, dc_error *err)
{
    (void)ctx;
    (void)rel;
    (void)emit;
    (void)ud;
    (void)err;
    return DC_OK;
}

/* The row builder lives for one rows() call. */
#define ROWS_BEGIN                                                             \
    rowb rb_store;                                                             \
    memset(&rb_store, 0, sizeof rb_store);                                     \
    rowb *r = &rb_store;                                                       \
    int rc = DC_OK;
#define EMIT()                                                                 \
    do {                                                                       \
        if ((rc = rb_emit(r, rel, emit, ud, err)) != DC_OK)                    \
            goto done;                                                         \
    } while (0)
#define ROWS_END                                                               \
    goto done;                                                                 \
    done:                                                                      \
    sql_buf_free(&r->buf);                                                     \
    return rc;

static int rows_pg_namespace(sql_ctx *ctx, const sql_vrel *rel,
                             sql_vrow_fn emit, void *ud, dc_error *err)
{
    (void)ctx;
    ROWS_BEGIN
    static const struct {
        uint32_t oid;
        const char *name;
    } ns[] = {{NSP_CATALOG, "pg_catalog"},
              {NSP_PUBLIC, "public"},
              {NSP_INFO, "information_schema"}};
    for (size_t i = 0; i < 3; i++) {
        rb_oid(r, ns[i].oid);
        rb_name(r, ns[i].name);
        /* public belongs to pg_database_owner, as in PostgreSQL 15 */
        rb_oid(r, ns[i].oid == NSP_PUBLIC ? ROLE_DATABASE_OWNER : ROLE_OID);
        if (ns[i].oid == NSP_PUBLIC)
            rb_text(r, "{pg_database_owner=UC/pg_database_owner,"
                       "=U/pg_database_owner}");
        else
            rb_null(r, DC_TYPE_TEXT);
        EMIT();
    }
    ROWS_END
}

/* Every generated relation, for pg_class and pg_attribute (defined at
 * the end of the file). */
static const sql_vrel *all_vrels(size_t *n);

static bool is_view_like(const sql_vrel *v)
{
    return strcmp(v->schema, "pg_catalog") != 0 ||
           !strcmp(v->name, "pg_roles") || !strcmp(v->name, "pg_user") ||
           !strcmp(v->name, "pg_settings") || !strcmp(v->name, "pg_tables") ||
           !strcmp(v->name, "pg_views") || !strcmp(v->name, "pg_indexes");
}

static void class_row(rowb *r, uint32_t oid, const char *name, uint32_t nsp,
                      uint32_t am, uint64_t tuples, bool hasindex, char kind,
                      int natts, int nchecks)
{
    char k[2];
    rb_oid(r, oid);
    rb_name(r, name);
    rb_oid(r, nsp);
    rb_oid(r, 0); /* reltype */
    rb_oid(r, 0); /* reloftype */
    rb_oid(r, ROLE_OID);
    rb_oid(r, am);
    rb_oid(r, oid); /* relfilenode */
    rb_oid(r, 0);   /* reltablespace */
    rb_i4(r, 0);
    rb_val(r, sql_value_float(DC_TYPE_FLOAT4, tuples ? (double)tuples : -1.0));
    rb_i4(r, 0);
    rb_oid(r, 0); /* reltoastrelid */
    rb_bool(r, hasindex);
    rb_bool(r, false); /* relisshared */
    rb_text(r, "p");
    char1(k, kind);
    rb_text(r, k);
    rb_i2(r, natts);
    rb_i2(r, nchecks);
    rb_bool(r, kind == 'v'); /* relhasrules: a view's _RETURN rule */
    rb_bool(r, false); /* relhastriggers */
    rb_bool(r, false); /* relhassubclass */
    rb_bool(r, false); /* relrowsecurity */
    rb_bool(r, false); /* relforcerowsecurity */
    rb_bool(r, true);  /* relispopulated */
    rb_text(r, kind == 'r' ? "d" : "n");
    rb_bool(r, false); /* relispartition */
    rb_oid(r, 0);      /* relrewrite */
    rb_val(r, sql_value_int(DC_TYPE_INT8, 0));
    rb_val(r, sql_value_int(DC_TYPE_INT8, 0));
    rb_null(r, DC_TYPE_TEXT); /* relacl */
    rb_null(r, DC_TYPE_TEXT); /* reloptions */
    rb_null(r, DC_TYPE_TEXT); /* relpartbound */
}

static int rows_pg_class(sql_ctx *ctx, const sql_vrel *rel, sql_vrow_fn emit,
                         void *ud, dc_error *err)
{
    const sql_catalog *c = ctx->cat;
    ROWS_BEGIN
    size_t nv;
    const sql_vrel *vr = all_vrels(&nv);
    for (size_t i = 0; i < nv; i++) {
        const sql_vrel *v = &vr[i];
        bool cat = !strcmp(v->schema, "pg_catalog");
        bool view = is_view_like(v);
        class_row(r, v->oid, v->name, cat ? NSP_CATALOG : NSP_INFO,
                  view ? 0 : AM_HEAP, 0, false, view ? 'v' : 'r', v->ncols, 0);
        EMIT();
    }
    for (size_t i = 0; i < sql_catalog_ntables(c); i++) {
        const sql_table *t = sql_catalog_table_at(c, i);
        class_row(r, t->oid, t->name, NSP_PUBLIC, AM_HEAP, t->est_rows,
                  t->nindexes > 0, 'r', t->natts, t->nchecks);
        EMIT();
        for (int j = 0; j < t->nindexes; j++) {
            const sql_index *ix = t->indexes[j];
            class_row(r, ix->oid, ix->name, NSP_PUBLIC, AM_BTREE, 0, false, 'i',
                      ix->ncols, 0);
            EMIT();
        }
    }
    for (size_t i = 0; i < sql_catalog_nviews(c); i++) {
        const sql_view *v = sql_catalog_view_at(c, i);
        class_row(r, v->oid, v->name, NSP_PUBLIC, 0, 0, false, 'v', v->ncols,
                  0);
        EMIT();
    }
    ROWS_END
}

static void attr_row(rowb *r, uint32_t relid, const char *name, uint32_t type,
                     int attnum, int32_t typmod, bool notnull, bool hasdef,
                     bool hasmissing, bool dropped)
{
    const type_info *ti = type_find(type);
    char align[2], storage[2];
    char1(align, ti ? ti->align : 'i');
    char1(storage, ti ? ti->storage : 'x');
    rb_oid(r, relid);
    rb_name(r, name);
    rb_oid(r, dropped ? 0 : type);
    rb_i4(r, -1);
    rb_i2(r, type_len(type));
    rb_i2(r, attnum);
    rb_i4(r, 0);
    rb_i4(r, -1);
    rb_i4(r, typmod);
    rb_bool(r, ti ? ti->byval : false);
    rb_text(r, align);
    rb_text(r, storage);
    rb_text(r, "");
    rb_bool(r, notnull);
    rb_bool(r, hasdef);
    rb_bool(r, hasmissing);
    rb_text(r, "");
    rb_text(r, "");
    rb_bool(r, dropped);
    rb_bool(r, true);
    rb_i4(r, 0);
    rb_oid(r, type_collation(type));
    rb_null(r, DC_TYPE_TEXT);
    rb_null(r, DC_TYPE_TEXT);
    rb_null(r, DC_TYPE_TEXT);
    rb_null(r, DC_TYPE_TEXT);
}

/* The typmods of a view's columns (varchar(40) ...) into mods[0..ncols):
 * the catalog keeps only the types, so the view's query is planned again
 * to learn them; -1 where that fails. */
static void view_typmods(sql_ctx *ctx, const sql_view *v, int32_t *mods)
{
    for (int k = 0; k < v->ncols; k++)
        mods[k] = -1;
    sql_arena *a = NULL;
    sql_list *stmts = NULL;
    dc_error e;
    memset(&e, 0, sizeof e);
    e.size = sizeof e;
    if (sql_parse(v->query, strlen(v->query), &a, &stmts, &e) != DC_OK)
        return;
    sql_plan *p = NULL;
    if (stmts && stmts->len == 1 &&
        sql_plan_stmt(ctx, a, stmts->items[0], v->query, NULL, &p, &e) ==
            DC_OK &&
        p && p->ncols == v->ncols)
        for (int k = 0; k < v->ncols; k++)
            if (p->types[k] == v->coltypes[k])
                mods[k] = p->typmods[k];
    sql_arena_free(a);
}

static int rows_pg_attribute(sql_ctx *ctx, const sql_vrel *rel,
                             sql_vrow_fn emit, void *ud, dc_error *err)
{
    const sql_catalog *c = ctx->cat;
    ROWS_BEGIN
    size_t nv;
    const sql_vrel *vr = all_vrels(&nv);
    for (size_t i = 0; i < nv; i++) {
        const sql_vrel *v = &vr[i];
        for (int k = 0; k < v->ncols; k++) {
            attr_row(r, v->oid, v->colnames[k], v->coltypes[k], k + 1, -1,
                     false, false, false, false);
            EMIT();
        }
    }
    for (size_t i = 0; i < sql_catalog_ntables(c); i++) {
        const sql_table *t = sql_catalog_table_at(c, i);
        for (int k = 0; k < t->natts; k++) {
            const sql_column *col = &t->cols[k];
            attr_row(r, t->oid, col->name, col->type, col->attnum, col->typmod,
                     col->not_null,
                     col->default_expr != NULL &&
                         !default_is_null(col->default_expr),
                     !col->missing.is_null, col->dropped);
            EMIT();
        }
        for (int j = 0; j < t->nindexes; j++) {
            const sql_index *ix = t->indexes[j];
            for (int k = 0; k < ix->ncols; k++) {
                const sql_column *col = &t->cols[ix->attnums[k] - 1];
                attr_row(r, ix->oid, col->name, col->type, k + 1, col->typmod,
                         false, false, false, false);
                EMIT();
            }
        }
    }
    for (size_t i = 0; i < sql_catalog_nviews(c); i++) {
        const sql_view *v = sql_catalog_view_at(c, i);
        int32_t *mods = malloc(sizeof(int32_t) * (size_t)(v->ncols + 1));
        if (!mods) {
            rc = dc_error_set(err, DC_ENOMEM, "53200", "out of memory");
            goto done;
        }
        view_typmods(ctx, v, mods);
        for (int k = 0; k < v->ncols; k++) {
            attr_row(r, v->oid, v->colnames[k], v->coltypes[k], k + 1,
                     mods[k], false, false, false, false);
            if ((rc = rb_emit(r, rel, emit, ud, err)) != DC_OK)
                break;
        }
        free(mods);
        if (rc != DC_OK)
            goto done;
    }
    ROWS_END
}

static void type_row(rowb *r, uint32_t oid, const char *name, int16_t len,
                     bool byval, char category, bool preferred, uint32_t elem,
                     uint32_t array, const char *io, char align, char storage,
                     uint32_t coll)
{
    char cat[2], al[2], st[2], fn[64];
    char1(cat, category);
    char1(al, align);
    char1(st, storage);
    rb_oid(r, oid);
    rb_name(r, name);
    rb_oid(r, NSP_CATALOG);
    rb_oid(r, ROLE_OID);
    rb_i2(r, len);
    rb_bool(r, byval);
    rb_text(r, "b");
    rb_text(r, cat);
    rb_bool(r, preferred);
    rb_bool(r, true);
    rb_text(r, ",");
    rb_oid(r, 0);
    rb_text(r, elem ? "array_subscript_handler" : "-");
    rb_oid(r, elem);
    rb_oid(r, array);
    snprintf(fn, sizeof fn, "%sin", io);
    rb_text(r, fn);
    snprintf(fn, sizeof fn, "%sout", io);
    rb_text(r, fn);
    snprintf(fn, sizeof fn, "%srecv", io);
    rb_text(r, fn);
    snprintf(fn, sizeof fn, "%ssend", io);
    rb_text(r, fn);
    rb_text(r, "-");
    rb_text(r, "-");
    rb_text(r, elem ? "array_typanalyze" : "-");
    rb_text(r, al);
    rb_text(r, st);
    rb_bool(r, false);
    rb_oid(r, 0);
    rb_i4(r, -1);
    rb_i4(r, 0);
    rb_oid(r, coll);
    rb_null(r, DC_TYPE_TEXT);
    rb_null(r, DC_TYPE_TEXT);
    rb_null(r, DC_TYPE_TEXT);
}

static int rows_pg_type(sql_ctx *ctx, const sql_vrel *rel, sql_vrow_fn emit,
                        void *ud, dc_error *err)
{
    (void)ctx;
    ROWS_BEGIN
    for (size_t i = 0; i < NTYPES; i++) {
        const type_info *t = &TYPES[i];
        type_row(r, t->oid, t->name, t->len, t->byval, t->category,
                 t->preferred, 0, t->array, t->io, t->align, t->storage,
                 t->collation);
        EMIT();
    }
    for (size_t i = 0; i < NTYPES; i++) {
        const type_info *t = &TYPES[i];
        char name[80];
        snprintf(name, sizeof name, "_%s", t->name);
        type_row(r, t->array, name, -1, false, 'A', false, t->oid, 0, "array_",
                 t->align == 'd' ? 'd' : 'i', 'x', t->collation);
        EMIT();
    }
    ROWS_END
}

static void int2vector(char *out, size_t cap, const sql_index *ix, bool options,
                       const char *sep, const char *open, const char *close)
{
    size_t len = (size_t)snprintf(out, cap, "%s", open);
    for (int k = 0; k < ix->ncols && len < cap; k++) {
        int v = options ? ix->flags[k] & (SQL_KEY_DESC | SQL_KEY_NULLS_FIRST)
                        : ix->attnums[k];
        len += (size_t)snprintf(out + len, cap - len, "%s%d", k ? sep : "", v);
    }
    if (len < cap)
        snprintf(out + len, cap - len, "%s", close);
}

static int rows_pg_index(sql_ctx *ctx, const sql_vrel *rel, sql_vrow_fn emit,
                         void *ud, dc_error *err)
{
    const sql_catalog *c = ctx->cat;
    ROWS_BEGIN
    for (size_t i = 0; i < sql_catalog_ntables(c); i++) {
        const sql_table *t = sql_catalog_table_at(c, i);
        for (int j = 0; j < t->nindexes; j++) {
            const sql_index *ix = t->indexes[j];
            char key[512], opt[512], coll[512], cls[512];
            int2vector(key, sizeof key, ix, false, " ", "", "");
            int2vector(opt, sizeof opt, ix, true, " ", "", "");
            size_t cl = 0, sl = 0;
            coll[0] = cls[0] = '\0';
            for (int k = 0; k < ix->ncols; k++) {
                uint32_t ty = t->cols[ix->attnums[k] - 1].type;
                cl += (size_t)snprintf(coll + cl, sizeof coll - cl, "%s%u",
                                       k ? " " : "", type_collation(ty));
                if (cl >= sizeof coll)
                    cl = sizeof coll - 1;
                sl += (size_t)snprintf(cls + sl, sizeof cls - sl, "%s%u",
                                       k ? " " : "", 0u);
                if (sl >= sizeof cls)
                    sl = sizeof cls - 1;
            }
            rb_oid(r, ix->oid);
            rb_oid(r, t->oid);
            rb_i2(r, ix->ncols);
            rb_i2(r, ix->ncols);
            rb_bool(r, ix->unique);
            rb_bool(r, false);
            rb_bool(r, ix->primary);
            rb_bool(r, false);
            rb_bool(r, true);
            rb_bool(r, false);
            rb_bool(r, true);
            rb_bool(r, false);
            rb_bool(r, true);
            rb_bool(r, true);
            rb_bool(r, false);
            rb_text(r, key);
            rb_text(r, coll);
            rb_text(r, cls);
            rb_text(r, opt);
            rb_null(r, DC_TYPE_TEXT);
            rb_null(r, DC_TYPE_TEXT);
            EMIT();
        }
    }
    ROWS_END
}

static void constraint_row(rowb *r, uint32_t oid, const char *name, char type,
                           uint32_t relid, uint32_t indid, const char *conkey,
                           const char *conbin)
{
    char ty[2];
    char1(ty, type);
    rb_oid(r, oid);
    rb_name(r, name);
    rb_oid(r, NSP_PUBLIC);
    rb_text(r, ty);
    rb_bool(r, false);
    rb_bool(r, false);
    rb_bool(r, true);
    rb_oid(r, relid);
    rb_oid(r, 0);
    rb_oid(r, indid);
    rb_oid(r, 0);
    rb_oid(r, 0);
    rb_text(r, " ");
    rb_text(r, " ");
    rb_text(r, " ");
    rb_bool(r, true);
    rb_i4(r, 0);
    rb_bool(r, false);
    rb_text(r, conkey);
    rb_null(r, DC_TYPE_TEXT);
    rb_null(r, DC_TYPE_TEXT);
    rb_null(r, DC_TYPE_TEXT);
    rb_null(r, DC_TYPE_TEXT);
    rb_null(r, DC_TYPE_TEXT);
    rb_null(r, DC_TYPE_TEXT);
    rb_text(r, conbin);
}

/* conkey of a CHECK: "{2,3}" for the columns its expression uses. */
typedef struct conkey_acc {
    const sql_table *t;
    int16_t att[64];
    int n;
} conkey_acc;

static void conkey_add(const char *col, void *ud)
{
    conkey_acc *a = ud;
    const sql_column *c = sql_table_column(a->t, col);
    if (!c || a->n == 64)
        return;
    for (int i = 0; i < a->n; i++)
        if (a->att[i] == c->attnum)
            return;
    a->att[a->n++] = c->attnum;
}

static void check_conkey(const sql_table *t, const sql_check *ck, char *out,
                         size_t cap)
{
    conkey_acc a = {.t = t};
    size_t len = (size_t)snprintf(out, cap, "{");
    if (sql_expr_text_columns(ck->expr, conkey_add, &a, NULL) != DC_OK ||
        a.n == 0) {
        out[0] = '\0';
        return;
    }
    for (int i = 0; i < a.n && len < cap; i++)
        len += (size_t)snprintf(out + len, cap - len, "%s%d", i ? "," : "",
                                a.att[i]);
    if (len < cap)
        snprintf(out + len, cap - len, "}");
}

static int rows_pg_constraint(sql_ctx *ctx, const sql_vrel *rel,
                              sql_vrow_fn emit, void *ud, dc_error *err)
{
    const sql_catalog *c = ctx->cat;
    ROWS_BEGIN
    for (size_t i = 0; i < sql_catalog_ntables(c); i++) {
        const sql_table *t = sql_catalog_table_at(c, i);
        for (int j = 0; j < t->nindexes; j++) {
            const sql_index *ix = t->indexes[j];
            if (!ix->is_constraint)
                continue;
            char key[512];
            int2vector(key, sizeof key, ix, false, ",", "{", "}");
            constraint_row(r, ix->oid, ix->name, ix->primary ? 'p' : 'u',
                           t->oid, ix->oid, key, NULL);
            EMIT();
        }
        for (int j = 0; j < t->nchecks; j++) {
            char key[512];
            check_conkey(t, &t->checks[j], key, sizeof key);
            constraint_row(r, check_oid(t, j), t->checks[j].name, 'c', t->oid,
                           0, key[0] ? key : NULL, t->checks[j].expr);
            EMIT();
        }
    }
    ROWS_END
}

static int rows_pg_attrdef(sql_ctx *ctx, const sql_vrel *rel, sql_vrow_fn emit,
                           void *ud, dc_error *err)
{
    const sql_catalog *c = ctx->cat;
    ROWS_BEGIN
    for (size_t i = 0; i < sql_catalog_ntables(c); i++) {
        const sql_table *t = sql_catalog_table_at(c, i);
        for (int k = 0; k < t->natts; k++) {
            const sql_column *col = &t->cols[k];
            if (col->dropped || !col->default_expr ||
                default_is_null(col->default_expr))
                continue;
            rb_oid(r, attrdef_oid(t, col->attnum));
            rb_oid(r, t->oid);
            rb_i2(r, col->attnum);
            rb_text(r, col->default_expr);
            EMIT();
        }
    }
    ROWS_END
}

static int rows_pg_database(sql_ctx *ctx, const sql_vrel *rel, sql_vrow_fn emit,
                            void *ud, dc_error *err)
{
    ROWS_BEGIN
    /* Every database of the store; a catalog without any (a bare test
     * catalog) shows the session's one. */
    size_t ndb = sql_catalog_ndatabases(ctx->cat);
    for (size_t i = 0; i < (ndb ? ndb : 1); i++) {
        const sql_database *db = sql_catalog_database_at(ctx->cat, i);
        rb_oid(r, db ? db->oid : DB_OID);
        rb_name(r, db ? db->name : cur_db(ctx));
        rb_oid(r, ROLE_OID);
        rb_i4(r, 6); /* UTF8 */
        rb_text(r, "c");
        rb_bool(r, false);
        rb_bool(r, true);
        rb_i4(r, -1);
        rb_val(r, sql_value_int(DC_TYPE_INT8, 0));
        rb_val(r, sql_value_int(DC_TYPE_INT8, 1));
        rb_oid(r, 1663);
        rb_text(r, "C");
        rb_text(r, "C");
        rb_null(r, DC_TYPE_TEXT);
        rb_null(r, DC_TYPE_TEXT);
        rb_null(r, DC_TYPE_TEXT);
        EMIT();
    }
    ROWS_END
}

static int rows_pg_roles(sql_ctx *ctx, const sql_vrel *rel, sql_vrow_fn emit,
                         void *ud, dc_error *err)
{
    ROWS_BEGIN
    rb_name(r, cur_user(ctx));
    for (int i = 0; i < 5; i++)
        rb_bool(r, true); /* super, inherit, createrole, createdb, canlogin */
    rb_bool(r, true);     /* replication */
    rb_i4(r, -1);
    rb_text(r, "********");
    rb_null(r, DC_TYPE_TIMESTAMPTZ);
    rb_bool(r, true);
    rb_null(r, DC_TYPE_TEXT);
    rb_oid(r, ROLE_OID);
    EMIT();
    ROWS_END
}

static int rows_pg_user(sql_ctx *ctx, const sql_vrel *rel, sql_vrow_fn emit,
                        void *ud, dc_error *err)
{
    ROWS_BEGIN
    rb_name(r, cur_user(ctx));
    rb_oid(r, ROLE_OID);
    rb_bool(r, true);
    rb_bool(r, true);
    rb_bool(r, true);
    rb_bool(r, true);
    rb_text(r, "********");
    rb_null(r, DC_TYPE_TIMESTAMPTZ);
    rb_null(r, DC_TYPE_TEXT);
    EMIT();
    ROWS_END
}

static int rows_pg_settings(sql_ctx *ctx, const sql_vrel *rel, sql_vrow_fn emit,
                            void *ud, dc_error *err)
{
    static const char *const names[] = {"application_name",
                                        "client_encoding",
                                        "DateStyle",
                                        "default_transaction_isolation",
                                        "default_transaction_read_only",
                                        "extra_float_digits",
                                        "IntervalStyle",
                                        "is_superuser",
                                        "lock_timeout",
                                        "max_connections",
                                        "search_path",
                                        "server_encoding",
                                        "server_version",
                                        "server_version_num",
                                        "standard_conforming_strings",
                                        "statement_timeout",
                                        "TimeZone",
                                        "transaction_isolation",
                                        "transaction_read_only",
                                        "work_mem",
                                        "integer_datetimes",
                                        "max_identifier_length",
                                        "block_size"};
    ROWS_BEGIN
    for (size_t i = 0; ctx->get_setting && i < sizeof names / sizeof *names;
         i++) {
        const char *v = ctx->get_setting(ctx->sess, names[i]);
        if (!v)
            continue;
        rb_text(r, names[i]);
        rb_text(r, v);
        rb_null(r, DC_TYPE_TEXT);
        rb_text(r, "Ungrouped");
        rb_text(r, "");
        rb_null(r, DC_TYPE_TEXT);
        rb_text(r, "user");
        rb_text(r, "string");
        rb_text(r, "default");
        rb_null(r, DC_TYPE_TEXT);
        rb_null(r, DC_TYPE_TEXT);
        rb_null(r, DC_TYPE_TEXT);
        rb_text(r, v);
        rb_text(r, v);
        rb_null(r, DC_TYPE_TEXT);
        rb_null(r, DC_TYPE_INT4);
        rb_bool(r, false);
        EMIT();
    }
    ROWS_END
}

static int rows_pg_tables(sql_ctx *ctx, const sql_vrel *rel, sql_vrow_fn emit,
                          void *ud, dc_error *err)
{
    const sql_catalog *c = ctx->cat;
    ROWS_BEGIN
    for (size_t i = 0; i < sql_catalog_ntables(c); i++) {
        const sql_table *t = sql_catalog_table_at(c, i);
        rb_name(r, t->schema);
        rb_name(r, t->name);
        rb_name(r, cur_user(ctx));
        rb_null(r, DC_TYPE_NAME);
        rb_bool(r, t->nindexes > 0);
        rb_bool(r, false);
        rb_bool(r, false);
        rb_bool(r, false);
        EMIT();
    }
    size_t nv;
    const sql_vrel *vr = all_vrels(&nv);
    for (size_t i = 0; i < nv; i++) {
        const sql_vrel *v = &vr[i];
        if (is_view_like(v))
            continue;
        rb_name(r, v->schema);
        rb_name(r, v->name);
        rb_name(r, cur_user(ctx));
        rb_null(r, DC_TYPE_NAME);
        rb_bool(r, false);
        rb_bool(r, false);
        rb_bool(r, false);
        rb_bool(r, false);
        EMIT();
    }
    ROWS_END
}

static int rows_pg_views(sql_ctx *ctx, const sql_vrel *rel, sql_vrow_fn emit,
                         void *ud, dc_error *err)
{
    const sql_catalog *c = ctx->cat;
    ROWS_BEGIN
    for (size_t i = 0; i < sql_catalog_nviews(c); i++) {
        const sql_view *v = sql_catalog_view_at(c, i);
        rb_name(r, v->schema);
        rb_name(r, v->name);
        rb_name(r, cur_user(ctx));
        rb_text(r, v->query);
        EMIT();
    }
    ROWS_END
}

static int rows_pg_indexes(sql_ctx *ctx, const sql_vrel *rel, sql_vrow_fn emit,
                           void *ud, dc_error *err)
{
    const sql_catalog *c = ctx->cat;
    ROWS_BEGIN
    for (size_t i = 0; i < sql_catalog_ntables(c); i++) {
        const sql_table *t = sql_catalog_table_at(c, i);
        for (int j = 0; j < t->nindexes; j++) {
            char *def = index_def(t, t->indexes[j]);
            rb_name(r, t->schema);
            rb_name(r, t->name);
            rb_name(r, t->indexes[j]->name);
            rb_null(r, DC_TYPE_NAME);
            rb_text(r, def ? def : "");
            if (!def)
                r->oom = true;
            free(def);
            EMIT();
        }
    }
    ROWS_END
}

static int rows_pg_am(sql_ctx *ctx, const sql_vrel *rel, sql_vrow_fn emit,
                      void *ud, dc_error *err)
{
    (void)ctx;
    ROWS_BEGIN
    static const struct {
        uint32_t oid;
        const char *name, *handler, *type;
    } am[] = {{AM_HEAP, "heap", "heap_tableam_handler", "t"},
              {AM_BTREE, "btree", "bthandler", "i"},
              {AM_HASH, "hash", "hashhandler", "i"}};
    for (size_t i = 0; i < 3; i++) {
        rb_oid(r, am[i].oid);
        rb_name(r, am[i].name);
        rb_text(r, am[i].handler);
        rb_text(r, am[i].type);
        EMIT();
    }
    ROWS_END
}

static int rows_pg_tablespace(sql_ctx *ctx, const sql_vrel *rel,
                              sql_vrow_fn emit, void *ud, dc_error *err)
{
    (void)ctx;
    ROWS_BEGIN
    rb_oid(r, 1663);
    rb_name(r, "pg_default");
    rb_oid(r, ROLE_OID);
    rb_null(r, DC_TYPE_TEXT);
    rb_null(r, DC_TYPE_TEXT);
    EMIT();
    ROWS_END
}

/* ---- information_schema ----------------------------------------------------
 */

static int rows_is_tables(sql_ctx *ctx, const sql_vrel *rel, sql_vrow_fn emit,
                          void *ud, dc_error *err)
{
    const sql_catalog *c = ctx->cat;
    ROWS_BEGIN
    size_t nt = sql_catalog_ntables(c), nv = sql_catalog_nviews(c);
    for (size_t i = 0; i < nt + nv; i++) {
        bool view = i >= nt;
        const char *schema = view ? sql_catalog_view_at(c, i - nt)->schema
                                  : sql_catalog_table_at(c, i)->schema;
        const char *name = view ? sql_catalog_view_at(c, i - nt)->name
                                : sql_catalog_table_at(c, i)->name;
        rb_name(r, cur_db(ctx));
        rb_name(r, schema);
        rb_name(r, name);
        rb_vc(r, view ? "VIEW" : "BASE TABLE");
        rb_null(r, DC_TYPE_NAME);
        rb_null(r, DC_TYPE_VARCHAR);
        rb_null(r, DC_TYPE_NAME);
        rb_null(r, DC_TYPE_NAME);
        rb_null(r, DC_TYPE_NAME);
        rb_vc(r, view ? "NO" : "YES");
        rb_vc(r, "NO");
        rb_null(r, DC_TYPE_VARCHAR);
        EMIT();
    }
    ROWS_END
}

/* information_schema.columns' data_type of a column type. */
static const char *is_data_type(uint32_t type)
{
    return sql_type_name(type);
}

static void is_column_row(rowb *r, const sql_ctx *ctx, const char *schema,
                          const char *table, const char *col, int pos,
                          const char *dflt, bool nullable, uint32_t type,
                          int32_t typmod, bool updatable)
{
    const type_info *ti = type_find(type);
    rb_name(r, cur_db(ctx));
    rb_name(r, schema);
    rb_name(r, table);
    rb_name(r, col);
    rb_i4(r, pos);
    rb_vc(r, dflt);
    rb_vc(r, nullable ? "YES" : "NO");
    rb_vc(r, is_data_type(type));
    bool chars = type == DC_TYPE_VARCHAR || type == DC_TYPE_BPCHAR;
    if (chars && typmod >= 4)
        rb_i4(r, typmod - 4);
    else
        rb_null(r, DC_TYPE_INT4);
    if (chars || type == DC_TYPE_TEXT)
        rb_i4(r, chars && typmod >= 4 ? (typmod - 4) * 4 : 1073741824);
    else
        rb_null(r, DC_TYPE_INT4);
    int prec = -1, radix = -1, scale = -1;
    switch (type) {
    case DC_TYPE_INT2:
        prec = 16;
        radix = 2;
        scale = 0;
        break;
    case DC_TYPE_INT4:
        prec = 32;
        radix = 2;
        scale = 0;
        break;
    case DC_TYPE_INT8:
        prec = 64;
        radix = 2;
        scale = 0;
        break;
    case DC_TYPE_FLOAT4:
        prec = 24;
        radix = 2;
        break;
    case DC_TYPE_FLOAT8:
        prec = 53;
        radix = 2;
        break;
    case DC_TYPE_NUMERIC:
        radix = 10;
        if (typmod >= 4) {
            prec = ((typmod - 4) >> 16) & 0xFFFF;
            scale = (typmod - 4) & 0xFFFF;
        }
        break;
    default:
        break;
    }
    if (prec >= 0)
        rb_i4(r, prec);
    else
        rb_null(r, DC_TYPE_INT4);
    if (radix >= 0)
        rb_i4(r, radix);
    else
        rb_null(r, DC_TYPE_INT4);
    if (scale >= 0)
        rb_i4(r, scale);
    else
        rb_null(r, DC_TYPE_INT4);
    if (type == DC_TYPE_DATE)
        rb_i4(r, 0);
    else if (type == DC_TYPE_TIMESTAMP || type == DC_TYPE_TIMESTAMPTZ)
        rb_i4(r, typmod >= 0 ? typmod : 6);
    else
        rb_null(r, DC_TYPE_INT4);
    rb_name(r, cur_db(ctx));
    rb_name(r, "pg_catalog");
    rb_name(r, ti ? ti->name : "unknown");
    char dtd[16];
    snprintf(dtd, sizeof dtd, "%d", pos);
    rb_name(r, dtd);
    rb_vc(r, "NO");
    rb_vc(r, "NEVER");
    rb_vc(r, updatable ? "YES" : "NO");
}

static int rows_is_columns(sql_ctx *ctx, const sql_vrel *rel, sql_vrow_fn emit,
                           void *ud, dc_error *err)
{
    const sql_catalog *c = ctx->cat;
    ROWS_BEGIN
    for (size_t i = 0; i < sql_catalog_ntables(c); i++) {
        const sql_table *t = sql_catalog_table_at(c, i);
        for (int k = 0; k < t->natts; k++) {
            const sql_column *col = &t->cols[k];
            if (col->dropped)
                continue;
            is_column_row(r, ctx, t->schema, t->name, col->name, col->attnum,
                          col->default_expr, !col->not_null, col->type,
                          col->typmod, true);
            EMIT();
        }
    }
    for (size_t i = 0; i < sql_catalog_nviews(c); i++) {
        const sql_view *v = sql_catalog_view_at(c, i);
        for (int k = 0; k < v->ncols; k++) {
            is_column_row(r, ctx, v->schema, v->name, v->colnames[k], k + 1,
                          NULL, true, v->coltypes[k], -1, false);
            EMIT();
        }
    }
    ROWS_END
}

static int rows_is_schemata(sql_ctx *ctx, const sql_vrel *rel, sql_vrow_fn emit,
                            void *ud, dc_error *err)
{
    ROWS_BEGIN
    static const char *const ns[] = {"information_schema", "pg_catalog",
                                     "public"};
    for (size_t i = 0; i < 3; i++) {
        rb_name(r, cur_db(ctx));
        rb_name(r, ns[i]);
        rb_name(r, cur_user(ctx));
        rb_null(r, DC_TYPE_NAME);
        rb_null(r, DC_TYPE_NAME);
        rb_null(r, DC_TYPE_NAME);
        rb_null(r, DC_TYPE_VARCHAR);
        EMIT();
    }
    ROWS_END
}

static int rows_is_table_constraints(sql_ctx *ctx, const sql_vrel *rel,
                                     sql_vrow_fn emit, void *ud, dc_error *err)
{
    const sql_catalog *c = ctx->cat;
    ROWS_BEGIN
    for (size_t i = 0; i < sql_catalog_ntables(c); i++) {
        const sql_table *t = sql_catalog_table_at(c, i);
        int n = t->nindexes + t->nchecks + t->natts;
        for (int j = 0; j < n; j++) {
            const char *name, *type = "CHECK";
            char nn[96];
            if (j < t->nindexes) {
                if (!t->indexes[j]->is_constraint)
                    continue;
                name = t->indexes[j]->name;
                type = t->indexes[j]->primary ? "PRIMARY KEY" : "UNIQUE";
            } else if (j < t->nindexes + t->nchecks) {
                name = t->checks[j - t->nindexes].name;
            } else {
                /* NOT NULL shows as a CHECK named as PostgreSQL names it. */
                const sql_column *col = &t->cols[j - t->nindexes - t->nchecks];
                if (!col->not_null || col->dropped)
                    continue;
                snprintf(nn, sizeof nn, "%u_%u_%d_not_null", NSP_PUBLIC, t->oid,
                         col->attnum);
                name = nn;
            }
            rb_name(r, cur_db(ctx));
            rb_name(r, t->schema);
            rb_name(r, name);
            rb_name(r, cur_db(ctx));
            rb_name(r, t->schema);
            rb_name(r, t->name);
            rb_vc(r, type);
            rb_vc(r, "NO");
            rb_vc(r, "NO");
            rb_vc(r, "YES");
            if (j < t->nindexes)
                rb_vc(r, "YES");
            else
                rb_null(r, DC_TYPE_VARCHAR);
            EMIT();
        }
    }
    ROWS_END
}

static int rows_is_key_column_usage(sql_ctx *ctx, const sql_vrel *rel,
                                    sql_vrow_fn emit, void *ud, dc_error *err)
{
    const sql_catalog *c = ctx->cat;
    ROWS_BEGIN
    for (size_t i = 0; i < sql_catalog_ntables(c); i++) {
        const sql_table *t = sql_catalog_table_at(c, i);
        for (int j = 0; j < t->nindexes; j++) {
            const sql_index *ix = t->indexes[j];
            if (!ix->is_constraint)
                continue;
            for (int k = 0; k < ix->ncols; k++) {
                rb_name(r, cur_db(ctx));
                rb_name(r, t->schema);
                rb_name(r, ix->name);
                rb_name(r, cur_db(ctx));
                rb_name(r, t->schema);
                rb_name(r, t->name);
                rb_name(r, t->cols[ix->attnums[k] - 1].name);
                rb_i4(r, k + 1);
                rb_null(r, DC_TYPE_INT4);
                EMIT();
            }
        }
    }
    ROWS_END
}

static int rows_is_views(sql_ctx *ctx, const sql_vrel *rel, sql_vrow_fn emit,
                         void *ud, dc_error *err)
{
    const sql_catalog *c = ctx->cat;
    ROWS_BEGIN
    for (size_t i = 0; i < sql_catalog_nviews(c); i++) {
        const sql_view *v = sql_catalog_view_at(c, i);
        rb_name(r, cur_db(ctx));
        rb_name(r, v->schema);
        rb_name(r, v->name);
        rb_vc(r, v->query);
        rb_vc(r, "NONE");
        for (int k = 0; k < 5; k++)
            rb_vc(r, "NO");
        EMIT();
    }
    ROWS_END
}

/* ==== the table of relations
 * ================================================== */

/* clang-format off */
#define VREL(schema, name, oid, sym, fn)                                    \
    {schema, name, oid, (int)(sizeof sym##_types / sizeof *sym##_types),    \
     sym##_names, sym##_types, fn}

static const sql_vrel VRELS[] = {
    VREL("pg_catalog", "pg_namespace", 2615, pg_namespace, rows_pg_namespace),
    VREL("pg_catalog", "pg_class", 1259, pg_class, rows_pg_class),
    VREL("pg_catalog", "pg_attribute", 1249, pg_attribute, rows_pg_attribute),
    VREL("pg_catalog", "pg_type", 1247, pg_type, rows_pg_type),
    VREL("pg_catalog", "pg_index", 2610, pg_index, rows_pg_index),
    VREL("pg_catalog", "pg_constraint", 2606, pg_constraint, rows_pg_constraint),
    VREL("pg_catalog", "pg_attrdef", 2604, pg_attrdef, rows_pg_attrdef),
    VREL("pg_catalog", "pg_database", 1262, pg_database, rows_pg_database),
    VREL("pg_catalog", "pg_roles", 12001, pg_roles, rows_pg_roles),
    VREL("pg_catalog", "pg_user", 12002, pg_user, rows_pg_user),
    VREL("pg_catalog", "pg_settings", 12003, pg_settings, rows_pg_settings),
    VREL("pg_catalog", "pg_tables", 12004, pg_tables, rows_pg_tables),
    VREL("pg_catalog", "pg_views", 12005, pg_views, rows_pg_views),
    VREL("pg_catalog", "pg_indexes", 12006, pg_indexes, rows_pg_indexes),
    VREL("pg_catalog", "pg_description", 2609, pg_description, no_rows),
    VREL("pg_catalog", "pg_am", 2601, pg_am, rows_pg_am),
    VREL("pg_catalog", "pg_proc", 1255, pg_proc, no_rows),
    VREL("pg_catalog", "pg_inherits", 2611, pg_inherits, no_rows),
    VREL("pg_catalog", "pg_tablespace", 1213, pg_tablespace, rows_pg_tablespace),
    VREL("pg_catalog", "pg_collation", 3456, pg_collation, no_rows),
    VREL("pg_catalog", "pg_extension", 3079, pg_extension, no_rows),
    VREL("pg_catalog", "pg_trigger", 2620, pg_trigger, no_rows),
    VREL("pg_catalog", "pg_policy", 3256, pg_policy, no_rows),
    VREL("pg_catalog", "pg_statistic_ext", 3381, pg_statistic_ext, no_rows),
    VREL("pg_catalog", "pg_auth_members", 1261, pg_auth_members, no_rows),
    VREL("pg_catalog", "pg_rewrite", 2618, pg_rewrite, no_rows),
    VREL("pg_catalog", "pg_publication", 6104, pg_publication, no_rows),
    VREL("pg_catalog", "pg_publication_namespace", 6237, pg_publication_namespace, no_rows),
    VREL("pg_catalog", "pg_publication_rel", 6106, pg_publication_rel, no_rows),
    VREL("pg_catalog", "pg_partitioned_table", 3350, pg_partitioned_table, no_rows),
    VREL("information_schema", "tables", 13101, is_tables, rows_is_tables),
    VREL("information_schema", "columns", 13102, is_columns, rows_is_columns),
    VREL("information_schema", "schemata", 13103, is_schemata, rows_is_schemata),
    VREL("information_schema", "table_constraints", 13104, is_table_constraints,
         rows_is_table_constraints),
    VREL("information_schema", "key_column_usage", 13105, is_key_column_usage,
         rows_is_key_column_usage),
    VREL("information_schema", "views", 13106, is_views, rows_is_views),
};
/* clang-format on */
static const size_t NVRELS = sizeof VRELS / sizeof *VRELS;

static const sql_vrel *all_vrels(size_t *n)
{
    *n = NVRELS;
    return VRELS;
}

const sql_vrel *sql_vrel_lookup(const char *schema, const char *name)
{
    if (!name)
        return NULL;
    if (!schema)
        schema = "pg_catalog";
    for (size_t i = 0; i < NVRELS; i++)
        if (!strcmp(VRELS[i].schema, schema) && !strcmp(VRELS[i].name, name))
            return &VRELS[i];
    return NULL;
}
