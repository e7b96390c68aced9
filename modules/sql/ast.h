/*
 * sql/ast.h - the parse tree of the PostgreSQL-dialect SQL parser.
 *
 * Every node of one parse lives in one sql_arena and is freed at once by
 * sql_arena_free(); nodes are never freed one by one.  Strings in nodes are
 * NUL-terminated arena copies.  Every expression and statement records the
 * 1-based character position of its first token (`pos`) for error reports.
 *
 * Lists are sql_list: an arena array of pointers; a NULL sql_list pointer
 * means "absent", an empty list is never produced.
 *
 * Threads: an arena and its tree belong to one thread at a time.
 */
#ifndef SQL_AST_H
#define SQL_AST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- arena -------------------------------------------------------------- */
typedef struct sql_arena sql_arena;

/* A new empty arena, or NULL when out of memory. */
sql_arena *sql_arena_new(void);
/* Zeroed memory valid until sql_arena_free; NULL when out of memory. */
void *sql_arena_alloc(sql_arena *a, size_t size);
/* Copy of n bytes of s plus a NUL; NULL when out of memory. */
char *sql_arena_strndup(sql_arena *a, const char *s, size_t n);
/* Free the arena and everything allocated in it (NULL is fine). */
void sql_arena_free(sql_arena *a);

/* ---- lists -------------------------------------------------------------- */
typedef struct sql_list {
    size_t len, cap;
    void **items;
} sql_list;

/* Append p to *l (creating the list when *l is NULL); false on OOM. */
bool sql_list_push(sql_arena *a, sql_list **l, void *p);
#define SQL_LIST_LEN(l) ((l) ? (l)->len : 0)

/* ---- names and types ---------------------------------------------------- */
/* A possibly qualified name: parts[0].parts[1]...; e.g. pg_catalog.int4. */
typedef struct sql_qname {
    int nparts;
    char **parts;
    int pos;
} sql_qname;

typedef struct sql_typename {
    char *name;        /* canonical: "int4", "varchar", "timestamptz", ...
                          or the lower-cased name as written for others  */
    sql_qname *qual;   /* as written when schema-qualified, else NULL     */
    uint32_t oid;      /* dc_type_oid, or 0 when not a built-in we know    */
    int32_t typmod;    /* PostgreSQL typmod, -1 when none                  */
    int nmods;         /* modifiers as written: numeric(10,2) -> 2        */
    int32_t mods[2];
    int array_dims;    /* int[] -> 1                                      */
    int pos;
} sql_typename;

/* ---- expressions -------------------------------------------------------- */
typedef enum sql_expr_kind {
    EXPR_CONST,     /* c.*                                                 */
    EXPR_PARAM,     /* $n: param                                           */
    EXPR_COLUMN,    /* col: a, t.a, s.t.a, t.*, * (star)                   */
    EXPR_OP,        /* op: binary or prefix (left NULL) operator          */
    EXPR_AND,       /* args: two or more                                   */
    EXPR_OR,        /* args                                                */
    EXPR_NOT,       /* arg                                                 */
    EXPR_NULLTEST,  /* arg IS [NOT] NULL: arg, negated                     */
    EXPR_BOOLTEST,  /* arg IS [NOT] TRUE/FALSE/UNKNOWN: arg, negated, test */
    EXPR_DISTINCT,  /* left IS [NOT] DISTINCT FROM right: negated          */
    EXPR_BETWEEN,   /* arg [NOT] BETWEEN [SYMMETRIC] lo AND hi             */
    EXPR_IN,        /* arg [NOT] IN (list) | (subquery)                    */
    EXPR_LIKE,      /* arg [NOT] LIKE/ILIKE/SIMILAR TO pattern [ESCAPE e]  */
    EXPR_QUANT,     /* left op ANY/ALL (subquery | array expr)             */
    EXPR_SUBLINK,   /* EXISTS (q), (q) scalar, ARRAY(q)                    */
    EXPR_FUNC,      /* func                                                */
    EXPR_CASE,      /* kase                                                */
    EXPR_CAST,      /* cast: CAST(x AS t), x::t, t 'lit'                   */
    EXPR_COLLATE,   /* arg COLLATE collation                               */
    EXPR_ARRAY,     /* ARRAY[...]: list                                    */
    EXPR_ROW,       /* ROW(...) or (a, b): list                            */
    EXPR_SUBSCRIPT, /* arg[lo] or arg[lo:hi]                               */
    EXPR_SQLVALUE,  /* CURRENT_TIMESTAMP etc.: sqlvalue                     */
    EXPR_DEFAULT,   /* DEFAULT in VALUES and SET                           */
    EXPR_AT_TIME_ZONE /* arg AT TIME ZONE zone (in left/right of op)      */
} sql_expr_kind;

typedef enum sql_const_kind {
    CONST_NULL, CONST_BOOL, CONST_INT, CONST_NUMERIC, CONST_STRING, CONST_BITSTR
} sql_const_kind;

typedef enum sql_booltest { BT_TRUE, BT_FALSE, BT_UNKNOWN } sql_booltest;
typedef enum sql_like_kind { LIKE_LIKE, LIKE_ILIKE, LIKE_SIMILAR } sql_like_kind;
typedef enum sql_sublink_kind { SUBLINK_EXISTS, SUBLINK_EXPR, SUBLINK_ARRAY } sql_sublink_kind;

typedef enum sql_sqlvalue {
    SV_CURRENT_DATE, SV_CURRENT_TIME, SV_CURRENT_TIMESTAMP, SV_LOCALTIME,
    SV_LOCALTIMESTAMP, SV_CURRENT_USER, SV_CURRENT_ROLE, SV_SESSION_USER,
    SV_USER, SV_CURRENT_CATALOG, SV_CURRENT_SCHEMA
} sql_sqlvalue;

typedef struct sql_select sql_select;
typedef struct sql_expr sql_expr;

typedef struct sql_when {
    sql_expr *when, *then;
} sql_when;

/* Sort key of ORDER BY / CREATE INDEX. */
typedef enum sql_sort_dir { SORT_DEFAULT, SORT_ASC, SORT_DESC } sql_sort_dir;
typedef enum sql_nulls { NULLS_DEFAULT, NULLS_FIRST, NULLS_LAST } sql_nulls;
typedef struct sql_sortby {
    sql_expr *expr;
    sql_sort_dir dir;
    sql_nulls nulls;
} sql_sortby;

/* Window of a window-function call: OVER (...) */
typedef enum sql_frame_kind {
    FRAME_NONE, FRAME_UNBOUNDED_PRECEDING, FRAME_PRECEDING, FRAME_CURRENT_ROW,
    FRAME_FOLLOWING, FRAME_UNBOUNDED_FOLLOWING
} sql_frame_kind;
typedef struct sql_frame_bound {
    sql_frame_kind kind;
    sql_expr *offset;           /* n PRECEDING / n FOLLOWING          */
} sql_frame_bound;
typedef enum sql_frame_mode { FRAMEMODE_NONE, FRAMEMODE_ROWS, FRAMEMODE_RANGE, FRAMEMODE_GROUPS } sql_frame_mode;
typedef struct sql_window {
    char *refname;              /* OVER w, or NULL                    */
    sql_list *partition_by;     /* sql_expr                           */
    sql_list *order_by;         /* sql_sortby                         */
    sql_frame_mode mode;
    sql_frame_bound start, end; /* end.kind FRAME_NONE without BETWEEN */
} sql_window;

struct sql_expr {
    sql_expr_kind kind;
    int pos;
    union {
        struct {
            sql_const_kind kind;
            bool b;         /* CONST_BOOL                              */
            int64_t i;      /* CONST_INT                               */
            char *s;        /* NUMERIC digits, STRING value, BITSTR    */
        } c;
        int param;          /* EXPR_PARAM: n of $n                     */
        struct {
            int nnames;     /* 0 for a bare *                          */
            char **names;
            bool star;      /* t.* or *                                */
        } col;
        struct {
            char *name;     /* "+", "<>", "~", "||", ...               */
            sql_qname *schema; /* OPERATOR(pg_catalog.~): "pg_catalog"*/
            sql_expr *left, *right;
        } op;
        sql_list *args;     /* EXPR_AND, EXPR_OR                       */
        struct {
            sql_expr *arg;  /* NOT, NULLTEST, BOOLTEST, COLLATE, SUBSCRIPT,
                               AT_TIME_ZONE (zone in other)            */
            bool negated;
            sql_booltest test;
            sql_expr *other;
        } un;
        struct {
            sql_expr *left, *right;
            bool negated;
        } distinct;
        struct {
            sql_expr *arg, *lo, *hi;
            bool negated, symmetric;
        } between;
        struct {
            sql_expr *arg;
            sql_list *list;     /* of sql_expr, or NULL with subquery */
            sql_select *subquery;
            bool negated;
        } in;
        struct {
            sql_like_kind kind;
            sql_expr *arg, *pattern, *escape;
            bool negated;
        } like;
        struct {
            char *op;
            sql_qname *schema;
            sql_expr *left;
            bool all;            /* ALL, else ANY/SOME                */
            sql_expr *array;     /* ANY (array expr), or NULL        */
            sql_select *subquery;/* ANY (subquery), or NULL           */
        } quant;
        struct {
            sql_sublink_kind kind;
            sql_select *subquery;
        } sublink;
        struct {
            sql_qname *name;     /* lower case; coalesce, nullif, greatest,
                                    least, extract, substring, position,
                                    btrim/ltrim/rtrim, overlay are
                                    ordinary names here                */
            sql_list *args;
            bool distinct, star;
            sql_list *order_by;  /* aggregate ORDER BY (sql_sortby)    */
            sql_expr *filter;
            sql_window *over;    /* window function, or NULL           */
        } func;
        struct {
            sql_expr *arg;       /* CASE arg WHEN ..., or NULL         */
            sql_list *whens;     /* sql_when                           */
            sql_expr *els;
        } kase;
        struct {
            sql_expr *arg;
            sql_typename *type;
        } cast;
        struct {
            sql_expr *arg;
            sql_qname *name;     /* "C", pg_catalog.default            */
        } collate;
        sql_list *list;          /* EXPR_ARRAY, EXPR_ROW               */
        struct {
            sql_expr *arg, *lo, *hi;
            bool slice;
        } sub;
        struct {
            sql_sqlvalue what;
            int32_t precision;   /* CURRENT_TIMESTAMP(3), else -1      */
        } sv;
    } u;
};

/* ---- FROM items and SELECT ----------------------------------------------- */
typedef struct sql_alias {
    char *name;
    sql_list *cols;             /* char* column aliases, or NULL     */
} sql_alias;

typedef enum sql_from_kind { FROM_TABLE, FROM_SUBQUERY, FROM_FUNCTION, FROM_JOIN } sql_from_kind;
typedef enum sql_join_kind { JOIN_INNER, JOIN_LEFT, JOIN_RIGHT, JOIN_FULL, JOIN_CROSS } sql_join_kind;

typedef struct sql_from sql_from;
struct sql_from {
    sql_from_kind kind;
    int pos;
    sql_alias *alias;           /* or NULL                           */
    bool lateral;
    bool only;                  /* FROM ONLY t                       */
    sql_qname *table;           /* FROM_TABLE                        */
    sql_select *subquery;       /* FROM_SUBQUERY                     */
    sql_expr *func;             /* FROM_FUNCTION: an EXPR_FUNC       */
    struct {                    /* FROM_JOIN                         */
        sql_join_kind kind;
        bool natural;
        sql_from *left, *right;
        sql_expr *on;
        sql_list *using_cols;   /* char*                             */
    } join;
};

typedef struct sql_target {
    sql_expr *expr;
    char *alias;                /* or NULL                           */
    int pos;
} sql_target;

typedef struct sql_cte {
    char *name;
    sql_list *cols;             /* char*                             */
    struct sql_stmt *stmt;      /* the query                          */
    int materialized;           /* -1 default, 0 NOT MATERIALIZED, 1 */
} sql_cte;

typedef enum sql_select_op { SELECT_SIMPLE, SELECT_VALUES, SELECT_UNION, SELECT_INTERSECT, SELECT_EXCEPT } sql_select_op;

struct sql_select {
    sql_select_op op;
    int pos;
    /* set operations */
    bool all;
    sql_select *larg, *rarg;
    /* SELECT_SIMPLE */
    bool distinct;
    sql_list *distinct_on;      /* sql_expr, only with distinct      */
    sql_list *targets;          /* sql_target                        */
    sql_list *from;             /* sql_from; a comma list of items   */
    sql_expr *where;
    sql_list *group_by;         /* sql_expr                          */
    sql_expr *having;
    /* SELECT_VALUES: list of sql_list of sql_expr */
    sql_list *values;
    /* any kind */
    sql_list *with;             /* sql_cte                           */
    bool recursive;
    sql_list *order_by;         /* sql_sortby                        */
    sql_expr *limit;            /* NULL; LIMIT ALL also NULL         */
    sql_expr *offset;
    int locking;                /* 0, or 1 for FOR UPDATE/SHARE etc. */
};

/* ---- statements ---------------------------------------------------------- */
typedef enum sql_stmt_kind {
    STMT_SELECT, STMT_INSERT, STMT_UPDATE, STMT_DELETE,
    STMT_CREATE_TABLE, STMT_DROP, STMT_TRUNCATE, STMT_ALTER_TABLE,
    STMT_CREATE_INDEX, STMT_CREATE_VIEW, STMT_TRANSACTION, STMT_SET,
    STMT_SHOW, STMT_RESET, STMT_EXPLAIN, STMT_COPY, STMT_VACUUM,
    STMT_CREATE_DATABASE, STMT_CREATE_SCHEMA
} sql_stmt_kind;

/* name = value option: WITH (fillfactor=100), COPY options, EXPLAIN. */
typedef struct sql_defelem {
    char *name;                 /* lower case                        */
    char *value;                /* as text, or NULL when absent      */
} sql_defelem;

typedef struct sql_set_clause {
    sql_list *cols;             /* char*: one, or several for (a,b)= */
    sql_expr *expr;             /* for several: an EXPR_ROW or a
                                   scalar subquery                   */
} sql_set_clause;

typedef struct sql_insert {
    sql_qname *table;
    char *alias;
    sql_list *cols;             /* char*, or NULL                    */
    sql_select *source;         /* VALUES or query; NULL = DEFAULT VALUES */
    struct {
        bool present;
        sql_list *cols;         /* conflict target, or NULL          */
        char *constraint;       /* ON CONSTRAINT name                */
        bool do_update;
        sql_list *set;          /* sql_set_clause                    */
        sql_expr *where;
    } conflict;
    sql_list *returning;        /* sql_target                        */
    sql_list *with;
} sql_insert;

typedef struct sql_update {
    sql_qname *table;
    char *alias;
    sql_list *set;              /* sql_set_clause                    */
    sql_list *from;
    sql_expr *where;
    sql_list *returning;
    sql_list *with;
} sql_update;

typedef struct sql_delete {
    sql_qname *table;
    char *alias;
    sql_list *using_;
    sql_expr *where;
    sql_list *returning;
    sql_list *with;
} sql_delete;

typedef enum sql_cons_kind {
    CONS_NOT_NULL, CONS_NULL, CONS_DEFAULT, CONS_PRIMARY, CONS_UNIQUE,
    CONS_CHECK, CONS_FOREIGN
} sql_cons_kind;

typedef struct sql_constraint {
    sql_cons_kind kind;
    char *name;                 /* CONSTRAINT name, or NULL          */
    sql_list *cols;             /* char*: table constraint columns;
                                   FOREIGN: the referencing columns  */
    sql_expr *expr;             /* CHECK, DEFAULT                    */
    sql_qname *ref_table;       /* FOREIGN                           */
    sql_list *ref_cols;         /* char*                             */
    char *on_delete, *on_update;/* "cascade", "set null", ...        */
    int pos;
} sql_constraint;

typedef struct sql_coldef {
    char *name;
    sql_typename *type;
    sql_list *constraints;      /* sql_constraint                    */
    sql_qname *collate;
    int pos;
} sql_coldef;

typedef struct sql_create_table {
    sql_qname *name;
    bool if_not_exists, temporary;
    sql_list *columns;          /* sql_coldef                        */
    sql_list *constraints;      /* sql_constraint                    */
    sql_list *options;          /* sql_defelem                       */
    struct sql_stmt *as_query;  /* CREATE TABLE ... AS query         */
} sql_create_table;

typedef enum sql_object_kind { OBJ_TABLE, OBJ_INDEX, OBJ_VIEW, OBJ_DATABASE, OBJ_SCHEMA } sql_object_kind;

typedef struct sql_drop {
    sql_object_kind what;
    bool if_exists, cascade;
    sql_list *names;            /* sql_qname                         */
} sql_drop;

typedef struct sql_truncate {
    sql_list *tables;           /* sql_qname                         */
    bool restart_identity, cascade;
} sql_truncate;

typedef enum sql_alter_kind {
    ALTER_ADD_COLUMN, ALTER_DROP_COLUMN, ALTER_RENAME_COLUMN,
    ALTER_RENAME_TABLE, ALTER_ADD_CONSTRAINT, ALTER_DROP_CONSTRAINT,
    ALTER_SET_NOT_NULL, ALTER_DROP_NOT_NULL, ALTER_SET_DEFAULT,
    ALTER_DROP_DEFAULT, ALTER_COLUMN_TYPE
} sql_alter_kind;

typedef struct sql_alter_cmd {
    sql_alter_kind kind;
    sql_coldef *column;         /* ADD COLUMN                        */
    sql_constraint *constraint; /* ADD CONSTRAINT                    */
    char *name;                 /* column/constraint acted on        */
    char *newname;              /* RENAME                            */
    sql_expr *expr;             /* SET DEFAULT                       */
    sql_typename *type;         /* ALTER COLUMN TYPE                 */
    bool if_exists, if_not_exists, cascade;
} sql_alter_cmd;

typedef struct sql_alter_table {
    sql_qname *name;
    bool if_exists;
    sql_list *cmds;             /* sql_alter_cmd                     */
} sql_alter_table;

typedef struct sql_create_index {
    char *name;                 /* or NULL                           */
    sql_qname *table;
    bool unique, if_not_exists, concurrently;
    char *method;               /* USING btree, or NULL              */
    sql_list *items;            /* sql_sortby: expr is EXPR_COLUMN or any */
    sql_expr *where;
} sql_create_index;

typedef struct sql_create_view {
    sql_qname *name;
    bool or_replace, temporary;
    sql_list *cols;             /* char*                             */
    struct sql_stmt *query;
} sql_create_view;

typedef enum sql_tx_kind {
    TX_BEGIN, TX_COMMIT, TX_ROLLBACK, TX_SAVEPOINT, TX_RELEASE, TX_ROLLBACK_TO
} sql_tx_kind;

typedef struct sql_transaction {
    sql_tx_kind kind;
    char *savepoint;
    char *isolation;            /* "serializable", "read committed"..*/
    int read_only;              /* -1 unset, 0 READ WRITE, 1 READ ONLY */
    int deferrable;             /* -1 unset, 0, 1                    */
    bool chain;                 /* AND CHAIN                         */
} sql_transaction;

typedef struct sql_set {
    char *name;                 /* lower case; SET TIME ZONE: "timezone";
                                   SET TRANSACTION modes: "transaction",
                                   SET SESSION CHARACTERISTICS AS
                                   TRANSACTION: "session_characteristics";
                                   then values are strings such as
                                   'isolation level serializable', 'read only' */
    bool local;                 /* SET LOCAL                         */
    bool is_default;            /* TO DEFAULT                        */
    sql_list *values;           /* sql_expr: constants; identifiers
                                   come as string constants          */
} sql_set;

typedef struct sql_show {       /* SHOW and RESET                    */
    char *name;                 /* "all" for SHOW ALL / RESET ALL    */
} sql_show;

typedef struct sql_explain {
    bool analyze, verbose;
    sql_list *options;          /* sql_defelem                       */
    struct sql_stmt *stmt;
} sql_explain;

typedef struct sql_copy {
    sql_qname *table;           /* or NULL with query                */
    sql_list *cols;             /* char*                             */
    struct sql_stmt *query;     /* COPY (query) TO                   */
    bool is_from;
    bool stdio;                 /* STDIN/STDOUT, else filename       */
    char *filename;
    sql_list *options;          /* sql_defelem, new and old syntax
                                   normalised: format csv, header, ... */
} sql_copy;

typedef struct sql_vacuum {
    bool is_analyze;            /* the ANALYZE statement             */
    bool full, freeze, verbose, analyze;
    sql_list *options;          /* sql_defelem of VACUUM (...)       */
    sql_list *tables;           /* sql_qname                         */
} sql_vacuum;

typedef struct sql_create_db {  /* CREATE DATABASE / CREATE SCHEMA   */
    char *name;
    bool if_not_exists;
    sql_list *options;          /* sql_defelem                       */
} sql_create_db;

typedef struct sql_stmt {
    sql_stmt_kind kind;
    int pos;                    /* 1-based char offset of the first token */
    size_t off, len;            /* the statement's bytes in the source  */
    union {
        sql_select *select;
        sql_insert *insert;
        sql_update *update;
        sql_delete *del;
        sql_create_table *create_table;
        sql_drop *drop;
        sql_truncate *truncate;
        sql_alter_table *alter;
        sql_create_index *create_index;
        sql_create_view *create_view;
        sql_transaction *tx;
        sql_set *set;
        sql_show *show;
        sql_explain *explain;
        sql_copy *copy;
        sql_vacuum *vacuum;
        sql_create_db *create_db;
    } u;
} sql_stmt;

/* ---- printing ------------------------------------------------------------ */
/*
 * Canonical text of a statement / expression: keywords upper case,
 * every operator application parenthesized, identifiers lower case
 * (quoted when they need it), casts as CAST(x AS type).  Returns a
 * malloc'd string the caller frees, or NULL when out of memory.
 */
char *sql_stmt_to_string(const sql_stmt *s);
char *sql_expr_to_string(const sql_expr *e);

#endif
