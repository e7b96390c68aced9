/*
 * shell.h - `datacave sql`: a psql-like shell over the SQL engine running
 * in-process on a data directory (embed.h).
 *
 *   datacave sql --config FILE [-c SQL]... [-f FILE]... [--data-dir DIR]
 *                [-d DATABASE] [-U USER] [-v ON_ERROR_STOP=1]
 *
 * -c and -f run in the order given; without either, statements are read
 * from standard input (with prompts when it is a terminal).  Results are
 * printed in psql's default aligned format, command tags as psql prints
 * them, errors and notices on standard error.  Exit status as psql's: 0,
 * 1 when the last -c failed (or a -c failed under ON_ERROR_STOP) or the
 * engine could not start (for one, a server holds the data directory), 3
 * when a script stopped on an error under ON_ERROR_STOP, 2 for usage
 * errors.  Ctrl-C (SIGINT) cancels the running statement (SQLSTATE 57014);
 * between statements it ends a non-interactive run (status 130).
 *
 * The pieces below are exposed for tests.
 */
#ifndef DATACAVE_HOST_SHELL_H
#define DATACAVE_HOST_SHELL_H

#include <stddef.h>
#include <stdio.h>

#include "datacave/types.h"

/* Run `datacave sql` with argv[from..]; returns the exit status. */
int dc_shell_main(int argc, char **argv, int from);

/*
 * Statement splitting the way psql does it: a ';' ends a statement unless
 * it is inside a quoted string ('...', E'...', "..."), a dollar-quoted
 * string, a comment (-- or nested slash-star) or parentheses.
 * dc_shell_split returns the offset just past the first statement-ending
 * ';' in text[0..len), or 0 when there is none; *state then says what the
 * text ends inside: '=' nothing (at a statement start or only blanks),
 * '-' an unfinished statement, '\'' '"' '$' '(' '*' a string, identifier,
 * dollar quote, parenthesis or comment.
 */
size_t dc_shell_split(const char *text, size_t len, char *state);

/* One result set as text: ncols column names and types, nrows rows of
 * ncols cells (NULL for SQL NULL). */
typedef struct dc_shell_table {
    size_t ncols;
    char **names;
    uint32_t *types;
    size_t nrows;
    char **cells; /* nrows * ncols, row-major */
} dc_shell_table;

/* Print `t` the way psql's default aligned format does, with the
 * "(N rows)" footer and the blank line after it. */
void dc_shell_print_table(FILE *out, const dc_shell_table *t);

#endif
