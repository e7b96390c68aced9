/*
 * sql/vcatalog.h - the generated relations of pg_catalog and
 * information_schema, built from the catalog (catalog.h) on every read.
 *
 * Relations: pg_catalog.pg_namespace, pg_class, pg_attribute, pg_type,
 * pg_index, pg_constraint, pg_attrdef, pg_database, pg_roles, pg_user,
 * pg_settings, pg_tables, pg_views, pg_indexes, pg_description, pg_am,
 * pg_proc (empty), pg_inherits (empty), pg_tablespace, pg_collation
 * (empty), pg_extension (empty), pg_trigger (empty), pg_policy (empty),
 * pg_statistic_ext (empty), pg_auth_members (empty), pg_rewrite (empty),
 * pg_publication,
 * pg_publication_namespace,
 * pg_publication_rel, pg_partitioned_table (all empty); information_schema
 * tables, columns, schemata, table_constraints, key_column_usage, views.
 * Column names and types follow PostgreSQL 15 for the columns the psql
 * \d family and the drivers read (../shared/guide/PG-COMPAT.md).
 */
#ifndef SQL_VCATALOG_H
#define SQL_VCATALOG_H

#include "sql/catalog.h"
#include "sql/engine.h"

typedef struct sql_vrel sql_vrel;
/* Called once per row; vals has rel->ncols values, borrowed. */
typedef int (*sql_vrow_fn)(void *ud, const dc_value *vals, dc_error *err);

struct sql_vrel {
    const char *schema;          /* "pg_catalog" or "information_schema" */
    const char *name;
    uint32_t oid;                /* a fixed oid below SQL_FIRST_USER_OID */
    int ncols;
    const char *const *colnames;
    const uint32_t *coltypes;
    int (*rows)(sql_ctx *ctx, const sql_vrel *rel, sql_vrow_fn emit,
                void *ud, dc_error *err);
};

/* The relation `name` in `schema` (NULL: pg_catalog), or NULL. */
const sql_vrel *sql_vrel_lookup(const char *schema, const char *name);

/* Definition texts for pg_get_constraintdef / pg_get_indexdef: constraint
 * or index `oid` of catalog c (oids as pg_constraint / pg_index show them)
 * as PostgreSQL prints them ("PRIMARY KEY (a, b)", "CHECK ((a > 0))",
 * "CREATE UNIQUE INDEX t_pkey ON public.t USING btree (a)").  A malloc'd
 * string the caller frees, or NULL when there is no such object (or out
 * of memory). */
char *sql_vcat_constraintdef(const sql_catalog *c, uint32_t oid);
char *sql_vcat_indexdef(const sql_catalog *c, uint32_t oid);
/* The CHECK constraint whose pg_constraint oid is `oid` and its table, or
 * NULL when `oid` is no CHECK constraint. */
const sql_check *sql_vcat_check(const sql_catalog *c, uint32_t oid,
                                const sql_table **owner);
/* The query text of view `oid` (pg_get_viewdef), malloc'd, or NULL. */
char *sql_vcat_viewdef(const sql_catalog *c, uint32_t oid);

#endif
