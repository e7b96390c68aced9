/*
 * sql/copy.h - COPY ... FROM STDIN and COPY ... TO STDOUT.
 *
 * Formats: PostgreSQL's text format (delimiter tab, NULL as \N, backslash
 * escapes) and CSV (delimiter ',', quote '"', NULL as an unquoted empty
 * field), with the options DELIMITER, NULL, HEADER, QUOTE, ESCAPE,
 * FORCE_NOT_NULL (CSV input), FORCE_QUOTE (CSV output) and FREEZE
 * (accepted, no effect).  BINARY and server-side files are refused.
 *
 * Data flows through the caller's dc_sql_sink: copy_begin once, then
 * copy_read (COPY FROM; pieces of any size, split anywhere) or copy_write
 * (COPY TO; whole lines in pieces of about 64 KiB).
 *
 * COPY FROM decodes each field with the column type's input function and
 * inserts the row through tableam (NOT NULL and unique checks there);
 * columns not listed get their DEFAULT, and CHECK constraints are
 * evaluated here.  A bad row fails the whole statement (the caller rolls
 * back the statement's writes); the error's detail names the place as
 * PostgreSQL's CONTEXT line does: 'COPY t, line 3, column a: "x"'.
 */
#ifndef SQL_COPY_H
#define SQL_COPY_H

#include "datacave/sql.h"
#include "sql/engine.h"

/* Run COPY statement `c` (from statement text `src`) in ctx->txn.  On
 * success *rows gets the number of rows copied (the tag is "COPY n").
 * Errors: 42P01 / 42703 / 42701 names, 42809 views, 0A000 BINARY and
 * unsupported options, 42601 bad options, 42501 files, 22P02 / 22P04 and
 * the types' input errors for bad data, 23502 / 23505 / 23514 constraints,
 * 25006 read-only transaction, 57014 cancel or a failed client COPY. */
int sql_copy_exec(sql_ctx *ctx, const sql_copy *c, const char *src,
                  const dc_sql_sink *sink, uint64_t *rows, dc_error *err);

#endif
