/*
 * sql/lexer.h - the PostgreSQL-dialect SQL lexer.
 *
 * sql_lex() turns a whole statement text into an array of tokens allocated
 * in an arena (sql/ast.h); every token's text is NUL-terminated and owned by
 * that arena, valid until sql_arena_free().  Identifiers are folded to lower
 * case unless double-quoted; string literals arrive with their escapes
 * already processed; adjacent string literals separated by whitespace that
 * holds a newline are joined, as PostgreSQL does.
 *
 * Threads: no shared state; one arena per thread at a time.
 */
#ifndef SQL_LEXER_H
#define SQL_LEXER_H

#include <stddef.h>
#include <stdint.h>

#include "datacave/error.h"

struct sql_arena;

typedef enum sql_tok_kind {
    TK_EOF = 0,
    TK_IDENT,   /* identifier or keyword; text folded; quoted says "..." */
    TK_STRING,  /* '...', E'...', $$...$$: text is the value             */
    TK_BITSTR,  /* B'...' or X'...': text starts with 'b' or 'x'         */
    TK_INTEGER, /* fits int64: ival; text keeps the digits               */
    TK_NUMERIC, /* decimal, exponent or too big for int64: text          */
    TK_PARAM,   /* $n: ival = n                                          */
    TK_OP,      /* operator: text (e.g. "+", "<>", "||", "~")           */
    TK_TYPECAST,/* ::                                                    */
    TK_PUNCT    /* one of ( ) [ ] , ; . : text is that character         */
} sql_tok_kind;

typedef struct sql_token {
    sql_tok_kind kind;
    int pos;        /* 1-based character offset of the token's start     */
    size_t off;     /* byte offset of the token's start                  */
    size_t len;     /* bytes of source the token spans                   */
    bool quoted;    /* TK_IDENT written in double quotes                 */
    int64_t ival;   /* TK_INTEGER, TK_PARAM                              */
    char *text;     /* NUL-terminated, in the arena                      */
    size_t textlen; /* bytes of text (strings may hold NUL via \x00? no: refused) */
} sql_token;

/*
 * Lex `src` (`len` bytes, need not be NUL-terminated).  On success stores
 * an array of *ntok tokens ending with a TK_EOF token in *toks (arena
 * memory) and returns DC_OK.  On a lexical error (unterminated literal or
 * comment, bad escape) fills *err with SQLSTATE 42601 (or 22025 for a bad
 * escape) and the position, and returns DC_EINVAL.
 */
int sql_lex(struct sql_arena *a, const char *src, size_t len, sql_token **toks,
            size_t *ntok, dc_error *err);

/* Keyword classes that matter to the parser and the printer. */
enum { SQL_KW_NONE = 0, SQL_KW_RESERVED = 1, SQL_KW_TYPE_FUNC = 2 };
/* Class of a lower-case word: reserved (never a name unless quoted),
 * type/function-name keyword (e.g. left, join), or none. */
int sql_keyword_category(const char *word);

/* 1-based character (UTF-8 code point) offset of byte `off` in src. */
int sql_char_pos(const char *src, size_t off);

#endif
