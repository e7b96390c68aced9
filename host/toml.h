/*
 * toml.h - Datacave's TOML 1.0 parser.
 *
 * The parser turns a complete document held in memory into a tree of
 * dc_toml_node.  The tree is owned by one dc_toml_doc and freed as a whole by
 * dc_toml_free(); every pointer handed out by the accessors below is valid
 * until then.  Nothing here is shared between threads: a document may be read
 * from several threads at once once parsing has finished, because reading
 * never modifies it.
 *
 * Errors: dc_toml_parse() returns NULL for a document that is not valid TOML
 * 1.0 and fills *err with the 1-based line and column of the offending
 * character and a message such as "expected '=' after key".
 */
#ifndef DATACAVE_HOST_TOML_H
#define DATACAVE_HOST_TOML_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

typedef enum dc_toml_type {
    DC_TOML_STRING = 1,
    DC_TOML_INTEGER,
    DC_TOML_FLOAT,
    DC_TOML_BOOL,
    DC_TOML_DATETIME,       /* offset date-time: 1979-05-27T07:32:00Z       */
    DC_TOML_DATETIME_LOCAL, /* local date-time: 1979-05-27T07:32:00          */
    DC_TOML_DATE_LOCAL,     /* local date: 1979-05-27                        */
    DC_TOML_TIME_LOCAL,     /* local time: 07:32:00                          */
    DC_TOML_ARRAY,
    DC_TOML_TABLE
} dc_toml_type;

typedef struct dc_toml_node dc_toml_node;

/* One node of the tree.  Fields are read-only for users of the parser. */
struct dc_toml_node {
    dc_toml_type type;
    int line;   /* 1-based line of the key that defined this value (for array
                   elements, of the element itself) */
    int col;    /* 1-based column, same rules */
    union {
        struct { char *ptr; size_t len; } str;     /* STRING: UTF-8, NUL-terminated,
                                                      may contain NUL bytes
                                                      (len excludes the terminator) */
        int64_t integer;                           /* INTEGER */
        double flt;                                /* FLOAT (inf/nan included) */
        bool boolean;                              /* BOOL */
        char *datetime;  /* DATETIME*, DATE_LOCAL, TIME_LOCAL: the text in a
                            normalised form: 'T' as the separator, upper-case
                            'Z', as written otherwise (fractional seconds kept) */
        struct { dc_toml_node **items; size_t len; } array;        /* ARRAY */
        struct { char **keys; dc_toml_node **values; size_t len; } table; /* TABLE,
                            keys in document order */
    } u;
};

typedef struct dc_toml_error {
    int line;           /* 1-based; 0 when the error is not tied to a place */
    int col;            /* 1-based */
    char message[256];
} dc_toml_error;

typedef struct dc_toml_doc dc_toml_doc;

/* Parse `len` bytes of `text` (need not be NUL-terminated).  Returns a new
 * document, or NULL with *err filled in.  Invalid UTF-8 and control
 * characters where TOML forbids them are errors. */
dc_toml_doc *dc_toml_parse(const char *text, size_t len, dc_toml_error *err);

/* Read a whole file and parse it.  A file that cannot be read is an error
 * with line 0 and the system error in the message. */
dc_toml_doc *dc_toml_parse_file(const char *path, dc_toml_error *err);

/* The root table of the document; never NULL for a parsed document. */
const dc_toml_node *dc_toml_root(const dc_toml_doc *doc);

/* Free the document and every node in it.  NULL is accepted. */
void dc_toml_free(dc_toml_doc *doc);

/* The value stored under `key` in `table`, or NULL when absent or when
 * `table` is not a table. */
const dc_toml_node *dc_toml_get(const dc_toml_node *table, const char *key);

/* Added: length in bytes of the i-th key of `table` (keys may contain NUL
 * bytes written as "\u0000" in a quoted key, so strlen() can be too short).
 * Returns 0 when `table` is not a table or i is out of range. */
size_t dc_toml_key_len(const dc_toml_node *table, size_t i);

/* Added: the deepest nesting the parser accepts.  No array or table in a
 * parsed tree lies more than DC_TOML_MAX_DEPTH levels below the root (the
 * root is level 0), whether the nesting comes from [a.b.c] headers, dotted
 * keys, arrays or inline tables; deeper documents are rejected with an error.
 * So a recursive walk of a tree never goes more than DC_TOML_MAX_DEPTH + 1
 * calls deep. */
#define DC_TOML_MAX_DEPTH 128

/* Name of a type as used in messages: "string", "integer", "float",
 * "boolean", "offset date-time", "local date-time", "local date",
 * "local time", "array", "table". */
const char *dc_toml_type_name(dc_toml_type type);

#endif
