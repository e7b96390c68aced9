/*
 * fuzz_sql_parser.c - libFuzzer target for the SQL lexer and parser: any
 * bytes must either parse (and then print) or fail with a SQLSTATE and a
 * message; nothing may crash, leak or read out of bounds.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sql/parser.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* the parser must never read past `size`: hand it an exact copy */
    char *src = malloc(size ? size : 1);
    if (!src)
        return 0;
    memcpy(src, data, size);

    dc_error err;
    dc_error_init(&err);
    sql_arena *a = NULL;
    sql_list *stmts = NULL;
    int rc = sql_parse(src, size, &a, &stmts, &err);
    if (rc == DC_OK) {
        for (size_t i = 0; i < SQL_LIST_LEN(stmts); i++) {
            char *s = sql_stmt_to_string(stmts->items[i]);
            free(s);
        }
        sql_arena_free(a);
    } else {
        if (!dc_error_isset(&err) || strlen(err.sqlstate) != 5)
            abort(); /* a refusal always says why */
        if (err.position < 0 || (size_t)err.position > size + 1)
            abort();
    }

    /* the lexer alone */
    sql_arena *la = sql_arena_new();
    if (la) {
        sql_token *toks;
        size_t n;
        dc_error_init(&err);
        if (sql_lex(la, src, size, &toks, &n, &err) == DC_OK && toks[n - 1].kind != TK_EOF)
            abort();
        sql_arena_free(la);
    }
    free(src);
    return 0;
}
