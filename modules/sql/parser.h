/*
 * sql/parser.h - the PostgreSQL-dialect SQL parser.
 *
 * sql_parse() parses a query string holding zero or more statements
 * separated by ';' into a list of sql_stmt (sql/ast.h), all allocated in
 * one arena that the caller frees with sql_arena_free().
 *
 * Errors: a syntax error is SQLSTATE 42601 with PostgreSQL's message
 * (`syntax error at or near "x"`, `syntax error at end of input`) and
 * err->position the 1-based character offset of the offending token;
 * nesting deeper than SQL_MAX_DEPTH is 54001 "stack depth limit exceeded";
 * out of memory is 53200.
 *
 * Threads: no shared state.
 */
#ifndef SQL_PARSER_H
#define SQL_PARSER_H

#include <stddef.h>

#include "datacave/error.h"
#include "sql/ast.h"
#include "sql/lexer.h"

#define SQL_MAX_DEPTH 1000

/*
 * Parse `len` bytes of `src`.  On success returns DC_OK, *arena_out holds
 * a new arena and *stmts a list (NULL when the text has no statement) of
 * sql_stmt in it.  On failure returns a negative dc_status, fills *err,
 * and leaves *arena_out and *stmts untouched (nothing to free).
 */
int sql_parse(const char *src, size_t len, sql_arena **arena_out,
              sql_list **stmts, dc_error *err);

#endif
