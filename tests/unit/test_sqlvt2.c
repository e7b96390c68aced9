/*
 * test_sqlvt2.c - COPY, databases and the plans prepared statements keep
 * in the sql module, through its vtable
 * (datacave/sql.h) loaded with the host's loader over each storage engine
 * (memory and lsm); the harness is sqlvt_harness.h.
 *
 * COPY data flows through a sink with copy callbacks: input is handed out
 * in pieces of a chosen size (1 byte splits every line and escape), output
 * pieces are checked to hold whole lines.  Expected texts and errors were
 * checked against PostgreSQL 15.
 */
#include "sqlvt_harness.h"

/* ==== a sink that speaks COPY ============================================== */

typedef struct copy_io {
    result r;               /* first: the harness callbacks take it     */
    const char *in;         /* COPY FROM data                           */
    size_t inlen, pos, piece;
    int fail_after;         /* >= 0: copy_read fails after that many    */
    int nreads;
    char out[1 << 20];      /* COPY TO data                             */
    size_t outlen;
    int nwrites;
    bool partial_line;      /* a written piece did not end with '\n'    */
    size_t max_piece;
    int dir, fmt;
    uint32_t ncols;
} copy_io;

static int c_begin(void *ud, int direction, int format, uint32_t ncols)
{
    copy_io *io = ud;
    io->dir = direction;
    io->fmt = format;
    io->ncols = ncols;
    return 0;
}

static int c_read(void *ud, const uint8_t **data, size_t *len)
{
    copy_io *io = ud;
    if (io->fail_after >= 0 && io->nreads >= io->fail_after)
        return DC_EIO;
    io->nreads++;
    if (io->pos >= io->inlen)
        return DC_ENOTFOUND;
    size_t n = io->inlen - io->pos;
    if (io->piece && n > io->piece)
        n = io->piece;
    *data = (const uint8_t *)io->in + io->pos;
    *len = n;
    io->pos += n;
    return 0;
}

static int c_write(void *ud, const uint8_t *data, size_t len)
{
    copy_io *io = ud;
    io->nwrites++;
    if (len > io->max_piece)
        io->max_piece = len;
    if (len == 0 || data[len - 1] != '\n')
        io->partial_line = true;
    if (io->outlen + len < sizeof io->out) {
        memcpy(io->out + io->outlen, data, len);
        io->outlen += len;
        io->out[io->outlen] = '\0';
    }
    return 0;
}

static copy_io IO;

/* Run sql with `in` as COPY input cut in pieces of `piece` bytes (0: one
 * piece).  Returns the status; IO holds the outcome. */
static int run_copy(dc_sql_session *s, const char *sql, const char *in,
                    size_t piece, dc_error *err)
{
    memset(&IO, 0, sizeof IO);
    IO.in = in ? in : "";
    IO.inlen = strlen(IO.in);
    IO.piece = piece;
    IO.fail_after = -1;
    dc_sql_sink sink = {.size = sizeof sink, .ud = &IO,
                        .describe = r_describe, .row = r_row,
                        .complete = r_complete, .notice = r_notice,
                        .copy_begin = c_begin, .copy_read = c_read,
                        .copy_write = c_write};
    dc_error_init(err);
    return E.vt->exec(s, sql, strlen(sql), &sink, err);
}

/* COPY that must succeed; returns its tag. */
static const char *copy_ok(dc_sql_session *s, const char *sql, const char *in,
                           size_t piece)
{
    dc_error err;
    if (run_copy(s, sql, in, piece, &err) != 0)
        fail_msg("%s\n  failed: %s %s (%s)", sql, err.sqlstate, err.message,
                 err.detail);
    return IO.r.tag;
}

/* COPY that must fail with `state`; returns the error for more checks. */
static dc_error copy_err(dc_sql_session *s, const char *sql, const char *in,
                         size_t piece, const char *state)
{
    dc_error err;
    if (run_copy(s, sql, in, piece, &err) == 0)
        fail_msg("%s\n  succeeded, expected %s", sql, state);
    if (strcmp(err.sqlstate, state) != 0)
        fail_msg("%s\n  failed with %s (%s), expected %s", sql, err.sqlstate,
                 err.message, state);
    return err;
}

static dc_sql_session *open_db(const char *db, dc_error *err)
{
    dc_sql_session_options o = {.size = sizeof o, .user = "tester",
                                .database = db, .can_read = true,
                                .can_write = true, .is_admin = true};
    dc_sql_session *s = NULL;
    dc_error_init(err);
    if (E.vt->session_open(E.inst, &o, &s, err) != 0)
        return NULL;
    return s;
}

/* ==== COPY text ============================================================ */

static const char TEXT_IN[] =
    "1\tplain\t2.5\t1\n"
    "2\t\\N\t\\N\t2\n"
    "3\ttab\\there\\nnew\\\\back\t0\t3\n"
    "4\t\\x41\\102\\.\\z\t1\t4\r\n"
    "5\t\t7\t5"; /* no line end at the very end */

static void test_copy_text(void **state)
{
    (void)state;
    dc_sql_session *s = open_session();
    q(s, "CREATE TABLE t (a int PRIMARY KEY, b text, c numeric, "
         "d int CHECK (d > 0))");
    /* Pieces of one byte split every escape and line end. */
    assert_string_equal(copy_ok(s, "COPY t FROM STDIN", TEXT_IN, 1), "COPY 5");
    assert_int_equal(IO.dir, DC_COPY_IN);
    assert_int_equal(IO.fmt, 0);
    assert_int_equal(IO.ncols, 4);
    Q(s, "SELECT a, b IS NULL, c, length(b) FROM t ORDER BY a",
      "1|f|2.5|5\n2|t|NULL|NULL\n3|f|0|17\n4|f|1|4\n5|f|7|0\n");
    Q(s, "SELECT b FROM t WHERE a = 4", "AB.z\n");
    Q(s, "SELECT b = E'tab\\there\\nnew\\\\back' FROM t WHERE a = 3", "t\n");
    /* Out: escapes and NULLs as they came in; whole lines. */
    assert_string_equal(copy_ok(s, "COPY t TO STDOUT", NULL, 0), "COPY 5");
    assert_int_equal(IO.dir, DC_COPY_OUT);
    assert_string_equal(IO.out,
                        "1\tplain\t2.5\t1\n"
                        "2\t\\N\t\\N\t2\n"
                        "3\ttab\\there\\nnew\\\\back\t0\t3\n"
                        "4\tAB.z\t1\t4\n"
                        "5\t\t7\t5\n");
    assert_false(IO.partial_line);
    /* Round trip through another table, with the old end marker. */
    static char back[sizeof IO.out + 64];
    snprintf(back, sizeof back, "%s\\.\nignored after the end marker\n",
             IO.out);
    q(s, "CREATE TABLE t2 (a int PRIMARY KEY, b text, c numeric, d int)");
    assert_string_equal(copy_ok(s, "COPY t2 FROM STDIN", back, 3), "COPY 5");
    Q(s, "SELECT count(*) FROM t JOIN t2 USING (a) WHERE "
         "t.b IS NOT DISTINCT FROM t2.b AND t.c IS NOT DISTINCT FROM t2.c",
      "5\n");
    /* Column lists: the others get their DEFAULT (or NULL). */
    q(s, "CREATE TABLE d (id int, v text DEFAULT 'dflt', n int DEFAULT 40 + 2)");
    assert_string_equal(copy_ok(s, "COPY d (id) FROM STDIN", "1\n2\n", 0),
                        "COPY 2");
    assert_string_equal(copy_ok(s, "COPY d (n, id) FROM STDIN", "7\t3\n", 0),
                        "COPY 1");
    Q(s, "SELECT id, v, n FROM d ORDER BY id",
      "1|dflt|42\n2|dflt|42\n3|dflt|7\n");
    copy_ok(s, "COPY d (n, id) TO STDOUT", NULL, 0);
    assert_string_equal(IO.out, "42\t1\n42\t2\n7\t3\n");
    /* DELIMITER and NULL options, old and new spelling. */
    copy_ok(s, "COPY d TO STDOUT WITH DELIMITER '|' NULL 'nil'", NULL, 0);
    assert_string_equal(IO.out, "1|dflt|42\n2|dflt|42\n3|dflt|7\n");
    assert_string_equal(copy_ok(s, "COPY d FROM STDIN (DELIMITER ',', "
                                   "NULL 'nil', FREEZE true)",
                                "9,nil,nil\n", 0),
                        "COPY 1");
    Q(s, "SELECT v IS NULL, n IS NULL FROM d WHERE id = 9", "t|t\n");
    E.vt->session_close(s);
}

/* ==== COPY CSV ============================================================= */

static void test_copy_csv(void **state)
{
    (void)state;
    dc_sql_session *s = open_session();
    q(s, "CREATE TABLE c (a int PRIMARY KEY, b text, c text)");
    static const char in[] =
        "a,b,c\n"                         /* header, skipped        */
        "1,\"x,y\",plain\n"
        "2,,\"\"\n"                       /* NULL, empty string     */
        "3,\"two\nlines\",\"say \"\"hi\"\"\"\n"
        "4,\\N,last";
    assert_string_equal(copy_ok(s, "COPY c FROM STDIN WITH (FORMAT csv, "
                                   "HEADER true)", in, 1),
                        "COPY 4");
    assert_int_equal(IO.fmt, 1);
    Q(s, "SELECT a, b IS NULL, c IS NULL, length(c) FROM c ORDER BY a",
      "1|f|f|5\n2|t|f|0\n3|f|f|8\n4|f|f|4\n");
    Q(s, "SELECT b FROM c WHERE a = 3", "two\nlines\n");
    Q(s, "SELECT c FROM c WHERE a = 3", "say \"hi\"\n");
    Q(s, "SELECT b FROM c WHERE a = 4", "\\N\n");
    copy_ok(s, "COPY c TO STDOUT WITH (FORMAT csv, HEADER)", NULL, 0);
    assert_string_equal(IO.out,
                        "a,b,c\n"
                        "1,\"x,y\",plain\n"
                        "2,,\"\"\n"
                        "3,\"two\nlines\",\"say \"\"hi\"\"\"\n"
                        "4,\\N,last\n");
    /* Old syntax, other delimiter and quote, FORCE_NOT_NULL, FORCE_QUOTE. */
    q(s, "CREATE TABLE c2 (a int, b text)");
    assert_string_equal(copy_ok(s, "COPY c2 FROM STDIN CSV DELIMITER ';' "
                                   "QUOTE '''' FORCE NOT NULL b",
                                "1;'a;b'\n2;\n", 2),
                        "COPY 2");
    Q(s, "SELECT a, b IS NULL, b FROM c2 ORDER BY a", "1|f|a;b\n2|f|\n");
    copy_ok(s, "COPY c2 TO STDOUT (FORMAT csv, FORCE_QUOTE (b))", NULL, 0);
    assert_string_equal(IO.out, "1,\"a;b\"\n2,\"\"\n");
    /* CSV ESCAPE differing from QUOTE. */
    assert_string_equal(copy_ok(s, "COPY c2 FROM STDIN (FORMAT csv, "
                                   "ESCAPE '\\')", "3,\"q\\\"x\"\n", 0),
                        "COPY 1");
    Q(s, "SELECT b FROM c2 WHERE a = 3", "q\"x\n");
    E.vt->session_close(s);
}

/* ==== COPY errors ========================================================== */

static void test_copy_errors(void **state)
{
    (void)state;
    dc_sql_session *s = open_session();
    q(s, "CREATE TABLE t (a int PRIMARY KEY, b int NOT NULL CHECK (b < 100))");
    q(s, "INSERT INTO t VALUES (100, 1)");
    /* A bad value on line 3: its place in the detail, nothing copied. */
    dc_error e = copy_err(s, "COPY t FROM STDIN", "1\t1\n2\t2\nx\t3\n", 1,
                          "22P02");
    assert_string_equal(e.message,
                        "invalid input syntax for type integer: \"x\"");
    assert_string_equal(e.context, "COPY t, line 3, column a: \"x\"");
    Q(s, "SELECT count(*) FROM t", "1\n");
    e = copy_err(s, "COPY t FROM STDIN", "1\t1\n2\n", 0, "22P04");
    assert_string_equal(e.message, "missing data for column \"b\"");
    assert_string_equal(e.context, "COPY t, line 2: \"2\"");
    e = copy_err(s, "COPY t FROM STDIN", "1\t1\t1\n", 0, "22P04");
    assert_string_equal(e.message, "extra data after last expected column");
    e = copy_err(s, "COPY t FROM STDIN (FORMAT csv)", "1,\"open\n", 0, "22P04");
    assert_string_equal(e.message, "unterminated CSV quoted field");
    copy_err(s, "COPY t FROM STDIN", "1\t\\N\n", 0, "23502");
    copy_err(s, "COPY t FROM STDIN", "1\t1\n100\t2\n", 0, "23505");
    e = copy_err(s, "COPY t FROM STDIN", "1\t1\n2\t200\n", 0, "23514");
    Q(s, "SELECT count(*) FROM t", "1\n");
    /* The client fails the COPY: 57014, nothing copied. */
    memset(&IO, 0, sizeof IO);
    {
        dc_error err;
        IO.in = "5\t5\n6\t6\n";
        IO.inlen = strlen(IO.in);
        IO.piece = 4;
        IO.fail_after = 1;
        dc_sql_sink sink = {.size = sizeof sink, .ud = &IO, .row = r_row,
                            .complete = r_complete, .copy_begin = c_begin,
                            .copy_read = c_read, .copy_write = c_write};
        dc_error_init(&err);
        const char *sql = "COPY t FROM STDIN";
        assert_int_not_equal(E.vt->exec(s, sql, strlen(sql), &sink, &err), 0);
        assert_string_equal(err.sqlstate, "57014");
        assert_non_null(strstr(err.message, "COPY from stdin failed"));
    }
    Q(s, "SELECT count(*) FROM t", "1\n");
    /* In a block the failed COPY fails the block; ROLLBACK undoes it all. */
    q(s, "BEGIN");
    q(s, "INSERT INTO t VALUES (7, 7)");
    copy_err(s, "COPY t FROM STDIN", "8\t8\nbad\t9\n", 0, "22P02");
    assert_int_equal(E.vt->txn_status(s), 'E');
    q(s, "ROLLBACK");
    Q(s, "SELECT count(*) FROM t", "1\n");
    /* Names, options, files. */
    copy_err(s, "COPY nope FROM STDIN", "", 0, "42P01");
    copy_err(s, "COPY t (zz) FROM STDIN", "", 0, "42703");
    copy_err(s, "COPY t (a, a) FROM STDIN", "", 0, "42701");
    copy_err(s, "COPY t FROM '/etc/passwd'", "", 0, "42501");
    copy_err(s, "COPY t TO '/tmp/x'", "", 0, "42501");
    copy_err(s, "COPY t FROM STDIN (FORMAT binary)", "", 0, "0A000");
    copy_err(s, "COPY t FROM STDIN (QUOTE '\"')", "", 0, "0A000");
    copy_err(s, "COPY t FROM STDIN (BOGUS 1)", "", 0, "42601");
    copy_err(s, "COPY t TO STDOUT (DELIMITER 'ab')", "", 0, "0A000");
    q(s, "CREATE VIEW v AS SELECT a FROM t");
    copy_err(s, "COPY v FROM STDIN", "", 0, "42809");
    /* Errors leave the session usable. */
    assert_int_equal(E.vt->txn_status(s), 'I');
    Q(s, "SELECT a, b FROM t", "100|1\n");
    /* A role that may only read: COPY TO, not COPY FROM nor a writing
     * query. */
    dc_sql_session_options ro = {.size = sizeof ro, .user = "reader",
                                 .database = "default", .can_read = true};
    dc_sql_session *r = NULL;
    dc_error oerr;
    dc_error_init(&oerr);
    assert_int_equal(E.vt->session_open(E.inst, &ro, &r, &oerr), 0);
    assert_string_equal(copy_ok(r, "COPY t TO STDOUT", NULL, 0), "COPY 1");
    copy_err(r, "COPY t FROM STDIN", "1\t1\n", 0, "42501");
    copy_err(r, "COPY (INSERT INTO t VALUES (1, 1) RETURNING a) TO STDOUT",
             NULL, 0, "42501");
    E.vt->session_close(r);
    Q(s, "SELECT count(*) FROM t", "1\n");
    E.vt->session_close(s);
}

/* ==== COPY (query) TO, and many rows ======================================= */

static void test_copy_query_and_volume(void **state)
{
    (void)state;
    dc_sql_session *s = open_session();
    q(s, "CREATE TABLE big (id int PRIMARY KEY, filler char(20), n bigint)");
    /* 20000 rows in pieces of 1000 bytes (lines cross pieces). */
    size_t cap = 20000 * 48 + 1, len = 0;
    char *in = malloc(cap);
    assert_non_null(in);
    for (int i = 1; i <= 20000; i++)
        len += (size_t)snprintf(in + len, cap - len, "%d\tf%d\t%d\n", i, i % 7,
                                i * 3);
    assert_string_equal(copy_ok(s, "COPY big FROM STDIN", in, 1000),
                        "COPY 20000");
    free(in);
    Q(s, "SELECT count(*), sum(n), max(filler) FROM big",
      "20000|600030000|f6                  \n");
    /* Out: more than 64 KiB goes in several whole-line pieces. */
    assert_string_equal(copy_ok(s, "COPY big TO STDOUT", NULL, 0), "COPY 20000");
    assert_true(IO.nwrites > 1);
    assert_false(IO.partial_line);
    assert_true(IO.max_piece <= 64 * 1024 + 64);
    assert_non_null(strstr(IO.out, "\n19999\tf0                  \t59997\n"));
    /* A query. */
    assert_string_equal(copy_ok(s, "COPY (SELECT id, n * 2 AS twice FROM big "
                                   "WHERE id <= 3 ORDER BY id DESC) TO STDOUT "
                                   "WITH (FORMAT csv, HEADER)", NULL, 0),
                        "COPY 3");
    assert_string_equal(IO.out, "id,twice\n3,18\n2,12\n1,6\n");
    assert_int_equal(IO.ncols, 2);
    copy_ok(s, "COPY (VALUES (1, NULL::text), (2, 'a\tb')) TO STDOUT", NULL, 0);
    assert_string_equal(IO.out, "1\t\\N\n2\ta\\tb\n");
    E.vt->session_close(s);
}

/* ==== COPY decoded on a second thread ====================================== */

/* Text rows "i\tv\tn\n" for i in [1, n]: v is \N every 7th row and holds
 * an escaped tab every 5th; bad_line (0: none) gets `bad` in its place. */
static char *gen_rows(int n, int bad_line, const char *bad, size_t *lenp)
{
    size_t cap = (size_t)n * 48 + 64, len = 0;
    char *in = malloc(cap);
    assert_non_null(in);
    for (int i = 1; i <= n; i++) {
        if (i == bad_line)
            len += (size_t)snprintf(in + len, cap - len, "%s\n", bad);
        else if (i % 7 == 0)
            len += (size_t)snprintf(in + len, cap - len, "%d\t\\N\t%d.5\n", i,
                                    i % 100);
        else if (i % 5 == 0)
            len += (size_t)snprintf(in + len, cap - len, "%d\tx\\ty%d\t%d.5\n",
                                    i, i, i % 100);
        else
            len += (size_t)snprintf(in + len, cap - len, "%d\tv%d\t%d.5\n", i,
                                    i, i % 100);
    }
    if (lenp)
        *lenp = len;
    return in;
}

static void test_copy_two_threads(void **state)
{
    (void)state;
    dc_sql_session *s = open_session();
    /* No key, index, check or default: decoded on a second thread once a
     * batch of 1024 records is full. */
    q(s, "CREATE TABLE h (a int NOT NULL, b text, c numeric)");
    size_t len;
    char *in = gen_rows(10000, 0, NULL, &len);
    assert_string_equal(copy_ok(s, "COPY h FROM STDIN", in, 777), "COPY 10000");
    Q(s, "SELECT count(*), sum(a), count(b), sum(c) FROM h",
      "10000|50005000|8572|500000.0\n");
    /* Rows come back in input order, byte for byte. */
    assert_string_equal(copy_ok(s, "COPY h TO STDOUT", NULL, 0), "COPY 10000");
    assert_int_equal(IO.outlen, len);
    assert_memory_equal(IO.out, in, len);
    free(in);

    /* The first bad record fails the COPY with its own line, whichever
     * batch it is in, and nothing of the COPY stays. */
    static const struct {
        int line;
        const char *rec, *state, *context;
    } bad[] = {
        {3500, "zz\tv\t1", "22P02", "COPY h, line 3500, column a: \"zz\""},
        {4100, "\\N\tv\t1", "23502", "COPY h, line 4100"},
        {2049, "7\tv", "22P04", "COPY h, line 2049: \"7\tv\""},
        {1024, "7\tv\t1\t1", "22P04", "COPY h, line 1024: \"7\tv\t1\t1\""},
        {9000, "7\tv\tx", "22P02", "COPY h, line 9000, column c: \"x\""},
    };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        in = gen_rows(9500, bad[k].line, bad[k].rec, NULL);
        dc_error e = copy_err(s, "COPY h FROM STDIN", in, 1000, bad[k].state);
        assert_string_equal(e.context, bad[k].context);
        free(in);
    }
    Q(s, "SELECT count(*) FROM h", "10000\n");

    /* In a block: the rows are the transaction's until it ends. */
    in = gen_rows(3000, 0, NULL, NULL);
    q(s, "BEGIN");
    assert_string_equal(copy_ok(s, "COPY h FROM STDIN", in, 0), "COPY 3000");
    Q(s, "SELECT count(*) FROM h", "13000\n");
    q(s, "ROLLBACK");
    Q(s, "SELECT count(*) FROM h", "10000\n");
    free(in);

    /* The end marker stops the input in the middle of a batch. */
    in = gen_rows(6000, 2500, "\\.", NULL);
    assert_string_equal(copy_ok(s, "COPY h FROM STDIN", in, 4096), "COPY 2499");
    Q(s, "SELECT count(*) FROM h", "12499\n");
    free(in);

    /* char(n) and varchar(n) decoded for the stored row: the pad is
     * dropped, the length limits hold, values read back padded. */
    q(s, "CREATE TABLE hp (a int, f char(6), v varchar(3))");
    size_t pcap = 3000 * 24 + 64, plen = 0;
    char *pin = malloc(pcap);
    assert_non_null(pin);
    for (int i = 1; i <= 3000; i++)
        plen += (size_t)snprintf(pin + plen, pcap - plen, "%d\tc%d%s\tv%d\n",
                                 i, i % 100, i % 3 ? "" : "  ", i % 10);
    assert_string_equal(copy_ok(s, "COPY hp FROM STDIN", pin, 500),
                        "COPY 3000");
    Q(s, "SELECT '[' || f || ']', octet_length(f), v, length(v) FROM hp "
         "WHERE a IN (1, 3, 2999) ORDER BY a",
      "[c1]|6|v1|2\n[c3]|6|v3|2\n[c99]|6|v9|2\n");
    Q(s, "SELECT count(*) FROM hp WHERE f = 'c42'", "30\n");
    plen = 0;
    for (int i = 1; i <= 3000; i++)
        plen += (size_t)snprintf(pin + plen, pcap - plen, "%d\tc\tv%s\n", i,
                                 i == 2500 ? "xyz" : "");
    dc_error e = copy_err(s, "COPY hp FROM STDIN", pin, 500, "22001");
    assert_string_equal(e.message,
                        "value too long for type character varying(3)");
    assert_string_equal(e.context, "COPY hp, line 2500, column v: \"vxyz\"");
    free(pin);
    Q(s, "SELECT count(*) FROM hp", "3000\n");

    /* CSV with a header and quoted line ends, some records spanning
     * lines: the lines counted are records, as for a serial COPY. */
    q(s, "CREATE TABLE hc (a int, b text)");
    size_t cap = 5000 * 40 + 64;
    char *csv = malloc(cap);
    assert_non_null(csv);
    len = (size_t)snprintf(csv, cap, "a,b\n");
    for (int i = 1; i <= 5000; i++)
        len += (size_t)snprintf(csv + len, cap - len,
                                i % 10 ? "%d,w%d\n" : "%d,\"l1\nl%d\"\n", i, i);
    assert_string_equal(copy_ok(s, "COPY hc FROM STDIN (FORMAT csv, HEADER)",
                                csv, 999),
                        "COPY 5000");
    assert_string_equal(copy_ok(s, "COPY hc TO STDOUT (FORMAT csv, HEADER)",
                                NULL, 0),
                        "COPY 5000");
    assert_int_equal(IO.outlen, len);
    assert_memory_equal(IO.out, csv, len);
    memcpy(strstr(csv, "\n3001,") + 1, "x", 1);
    e = copy_err(s, "COPY hc FROM STDIN (FORMAT csv, HEADER)", csv,
                          999, "22P02");
    assert_string_equal(e.context, "COPY hc, line 3002, column a: \"x001\"");
    free(csv);
    Q(s, "SELECT count(*) FROM hc", "5000\n");
    E.vt->session_close(s);
}

/* ==== databases ============================================================ */

/* pg_class.reltuples of relation `name`, as an integer. */
static long reltuples(dc_sql_session *s, const char *name)
{
    char sql[128];
    snprintf(sql, sizeof sql,
             "SELECT reltuples::int8 FROM pg_class WHERE relname = '%s'", name);
    return strtol(q(s, sql), NULL, 10);
}

static void assert_near(long got, long want, long slack, const char *what)
{
    if (got < want - slack || got > want + slack)
        fail_msg("%s: reltuples %ld, rows %ld", what, got, want);
}

/* ANALYZE: a table of 100,000 rows or more keeps the storage engine's
 * estimate (the lsm engine's approx_count) when there is one, within 10%
 * of the true count here; a smaller table, or one the transaction has
 * written, is counted. */
static void test_analyze_estimate(void **state)
{
    (void)state;
    dc_sql_session *s = open_session();
    q(s, "CREATE TABLE big (a int PRIMARY KEY, b text)");
    q(s, "CREATE INDEX big_b ON big (b)");
    q(s, "INSERT INTO big SELECT g, 'row ' || g FROM generate_series(1, 150000) g");
    q(s, "CREATE TABLE small (a int)");
    q(s, "INSERT INTO small VALUES (1), (2), (3), (4), (5), (6), (7)");
    q(s, "ANALYZE");
    assert_near(reltuples(s, "big"), 150000, 15000, "big");
    assert_int_equal(reltuples(s, "small"), 7);
    /* Deleted rows go once compacted away. */
    q(s, "DELETE FROM big WHERE a > 50000");
    q(s, "VACUUM FULL big");
    q(s, "ANALYZE big");
    assert_int_equal(reltuples(s, "big"), 50000);
    /* The transaction's own writes are counted. */
    q(s, "INSERT INTO big SELECT g, 'x' FROM generate_series(50001, 200000) g");
    q(s, "BEGIN");
    q(s, "INSERT INTO big VALUES (0, 'mine')");
    q(s, "ANALYZE big");
    assert_int_equal(reltuples(s, "big"), 200001);
    q(s, "ROLLBACK");
    q(s, "ANALYZE big");
    assert_near(reltuples(s, "big"), 200000, 20000, "big");
    E.vt->session_close(s);
}

static void test_databases(void **state)
{
    (void)state;
    dc_error err;
    dc_sql_session *s = open_session();
    q(s, "CREATE TABLE t (a int)");
    q(s, "INSERT INTO t VALUES (1)");
    assert_string_equal(tag_of(s, "CREATE DATABASE other"), "CREATE DATABASE");
    qerr(s, "CREATE DATABASE other", "42P04");
    Q(s, "SELECT datname, datdba, encoding, datallowconn, datistemplate, "
         "datconnlimit, datcollate FROM pg_database ORDER BY oid",
      "default|10|6|t|f|-1|C\npreset|10|6|t|f|-1|C\n"
      "other_preset|10|6|t|f|-1|C\nother|10|6|t|f|-1|C\n");
    /* [module.sql] databases made "preset" at start. */
    dc_sql_session *p = open_db("preset", &err);
    assert_non_null(p);
    Q(p, "SELECT current_database()", "preset\n");
    E.vt->session_close(p);
    /* The same table name in two databases holds different rows. */
    dc_sql_session *o = open_db("other", &err);
    assert_non_null(o);
    qerr(o, "SELECT * FROM t", "42P01");
    q(o, "CREATE TABLE t (a int, b text)");
    q(o, "INSERT INTO t VALUES (2, 'x'), (3, 'y')");
    q(o, "CREATE INDEX t_a ON t (a)");
    Q(o, "SELECT a, b FROM t ORDER BY a", "2|x\n3|y\n");
    Q(o, "SELECT current_database()", "other\n");
    Q(s, "SELECT a FROM t", "1\n");
    Q(s, "SELECT count(*) FROM pg_class WHERE relname = 't'", "1\n");
    q(s, "CREATE INDEX t_a ON t (a)"); /* index names are per database too */
    /* Missing database. */
    assert_null(open_db("nope", &err));
    assert_string_equal(err.sqlstate, "3D000");
    assert_string_equal(err.message, "database \"nope\" does not exist");
    /* Not in a transaction block, nor in a multi-statement string. */
    q(s, "BEGIN");
    qerr(s, "DROP DATABASE other", "25001");
    q(s, "ROLLBACK");
    qerr(s, "CREATE DATABASE x; SELECT 1", "25001");
    /* In use. */
    qerr(o, "DROP DATABASE other", "55006");
    result r;
    assert_int_not_equal(run(s, "DROP DATABASE other", &r, &err), 0);
    assert_string_equal(err.sqlstate, "55006");
    assert_string_equal(err.message,
                        "database \"other\" is being accessed by other users");
    assert_string_equal(err.detail,
                        "There is 1 other session using the database.");
    E.vt->session_close(o);
    assert_string_equal(tag_of(s, "DROP DATABASE other"), "DROP DATABASE");
    assert_null(open_db("other", &err));
    assert_string_equal(err.sqlstate, "3D000");
    qerr(s, "DROP DATABASE other", "3D000");
    assert_int_equal(run(s, "DROP DATABASE IF EXISTS other", &r, &err), 0);
    assert_int_equal(r.nnotices, 1);
    /* Recreated, it starts empty; default kept its rows. */
    q(s, "CREATE DATABASE other");
    o = open_db("other", &err);
    assert_non_null(o);
    qerr(o, "SELECT * FROM t", "42P01");
    E.vt->session_close(o);
    Q(s, "SELECT a FROM t", "1\n");
    E.vt->session_close(s);
}

static void test_databases_restart(void **state)
{
    (void)state;
    dc_error err;
    dc_sql_session *s = open_session();
    q(s, "CREATE DATABASE d2");
    q(s, "CREATE TABLE t (a int)");
    q(s, "INSERT INTO t VALUES (1)");
    dc_sql_session *o = open_db("d2", &err);
    assert_non_null(o);
    q(o, "CREATE TABLE t (a int PRIMARY KEY)");
    assert_string_equal(copy_ok(o, "COPY t FROM STDIN", "5\n6\n", 0), "COPY 2");
    E.vt->session_close(o);
    E.vt->session_close(s);
    restart();
    s = open_session(); /* "default" exists after every start */
    if (strcmp(storage_name, "lsm") == 0) {
        Q(s, "SELECT a FROM t", "1\n");
        Q(s, "SELECT datname FROM pg_database ORDER BY oid",
          "default\npreset\nother_preset\nd2\n");
        o = open_db("d2", &err);
        assert_non_null(o);
        Q(o, "SELECT a FROM t ORDER BY a", "5\n6\n");
        q(o, "CREATE TABLE u (x int)"); /* oids keep counting after restart */
        Q(o, "SELECT count(DISTINCT oid) FROM pg_class WHERE relname IN "
             "('t', 'u', 't_pkey')", "3\n");
        E.vt->session_close(o);
    } else {
        Q(s, "SELECT datname FROM pg_database ORDER BY oid",
          "default\npreset\nother_preset\n");
    }
    E.vt->session_close(s);
}

/* ==== prepared statements' cached plans ==================================== */

/* Plans built for executions of prepared statements in session s (the
 * sql module's diagnostic counter). */
static uint64_t plans_built(dc_sql_session *s)
{
    const char *v = E.vt->setting(s, "datacave.plans_built");
    assert_non_null(v);
    return strtoull(v, NULL, 10);
}

static dc_sql_stmt *prep(dc_sql_session *s, const char *sql)
{
    dc_sql_stmt *st = NULL;
    dc_error err;
    dc_error_init(&err);
    if (E.vt->prepare(s, sql, strlen(sql), NULL, 0, &st, &err) != 0)
        fail_msg("prepare %s failed: %s %s", sql, err.sqlstate, err.message);
    return st;
}

/* Bind st with int4 parameters and run it to the end. */
static int exec_st(dc_sql_stmt *st, const int *params, uint32_t n, result *r,
                   dc_error *err)
{
    memset(r, 0, sizeof *r);
    dc_error_init(err);
    dc_value v[4];
    for (uint32_t i = 0; i < n && i < 4; i++)
        v[i] = (dc_value){.type = DC_TYPE_INT4, .typmod = -1,
                          .u.i = params[i]};
    dc_sql_portal *po;
    int rc = E.vt->portal_open(st, n ? v : NULL, n, &po, err);
    if (rc)
        return rc;
    dc_sql_sink sink = {.size = sizeof sink, .ud = r, .row = r_row,
                        .complete = r_complete, .notice = r_notice};
    bool susp;
    rc = E.vt->portal_fetch(po, 0, &sink, &susp, err);
    E.vt->portal_close(po);
    return rc;
}

/* Run st with up to one int4 parameter (NULL: none); its rows as text. */
static const char *xq(dc_sql_stmt *st, const int *param)
{
    static result r;
    dc_error err;
    if (exec_st(st, param, param ? 1 : 0, &r, &err) != 0)
        fail_msg("execute failed: %s %s", err.sqlstate, err.message);
    return r.text;
}

/* Copy a result out of a reused buffer. */
static const char *keep(char *buf, size_t cap, const char *text)
{
    size_t n = strlen(text);
    if (n >= cap) {
        fail_msg("result too long: %s", text);
        n = cap - 1;
    }
    memcpy(buf, text, n);
    buf[n] = '\0';
    return buf;
}

/* The result of a simple query, kept (q's buffer is reused). */
static const char *qk(dc_sql_session *s, const char *sql, char *buf,
                      size_t cap)
{
    return keep(buf, cap, q(s, sql));
}

/* A prepared statement run many times is planned once, and answers as
 * the same query sent as text; in a database other than "default" too. */
static void test_plan_cache_reuse(void **state)
{
    (void)state;
    static const char *const dbs[] = {"default", "preset"};
    for (size_t d = 0; d < 2; d++) {
        dc_error err;
        dc_sql_session *s = open_db(dbs[d], &err);
        assert_non_null(s);
        q(s, "CREATE TABLE acc (aid int PRIMARY KEY, bal int, note text)");
        q(s, "INSERT INTO acc SELECT i, i * 10, 'n' || i "
             "FROM generate_series(1, 60) i");
        q(s, "CREATE TABLE hist (aid int, delta int, at timestamptz)");
        dc_sql_stmt *sel = prep(s, "SELECT bal, note FROM acc WHERE aid = $1");
        dc_sql_stmt *upd =
            prep(s, "UPDATE acc SET bal = bal + $1 WHERE aid = $2");
        dc_sql_stmt *ins = prep(s, "INSERT INTO hist (aid, delta, at) "
                                   "VALUES ($1, $2, CURRENT_TIMESTAMP)");
        uint64_t b0 = plans_built(s);
        char want[256], sql[128];
        result r;
        for (int i = 1; i <= 50; i++) {
            int up[2] = {i, i}, hp[2] = {i, i};
            if (exec_st(upd, up, 2, &r, &err) != 0)
                fail_msg("update: %s %s", err.sqlstate, err.message);
            assert_string_equal(r.tag, "UPDATE 1");
            if (exec_st(ins, hp, 2, &r, &err) != 0)
                fail_msg("insert: %s %s", err.sqlstate, err.message);
            assert_string_equal(r.tag, "INSERT 0 1");
            snprintf(sql, sizeof sql,
                     "SELECT bal, note FROM acc WHERE aid = %d", i);
            qk(s, sql, want, sizeof want);
            snprintf(sql, sizeof sql, "%d|n%d\n", i * 11, i);
            assert_string_equal(want, sql); /* the update landed */
            assert_string_equal(xq(sel, &i), want);
        }
        int none = 1000;
        assert_string_equal(xq(sel, &none), "");
        /* One plan per statement for 151 executions. */
        assert_int_equal(plans_built(s) - b0, 3);
        Q(s, "SELECT count(*), sum(delta), count(at) FROM hist",
          "50|1275|50\n");
        E.vt->stmt_close(sel);
        E.vt->stmt_close(upd);
        E.vt->stmt_close(ins);
        E.vt->session_close(s);
    }
}

/* DDL gives the statement a new plan: new columns and indexes, a table
 * dropped and created again with other columns, DDL inside the
 * transaction that runs the statement (and its rollback). */
static void test_plan_cache_ddl(void **state)
{
    (void)state;
    dc_sql_session *s = open_session();
    q(s, "CREATE TABLE t (id int, v text)");
    q(s, "INSERT INTO t VALUES (1, 'one'), (2, 'two'), (3, 'three')");
    dc_sql_stmt *byid = prep(s, "SELECT v FROM t WHERE id = $1");
    dc_sql_stmt *star = prep(s, "SELECT * FROM t ORDER BY id");
    int two = 2;
    uint64_t b0 = plans_built(s);
    assert_string_equal(xq(byid, &two), "two\n");
    assert_string_equal(xq(byid, &two), "two\n");
    assert_string_equal(xq(star, NULL), "1|one\n2|two\n3|three\n");
    assert_int_equal(plans_built(s) - b0, 2);

    /* ADD COLUMN: the same result shape for byid, a new one for star. */
    q(s, "ALTER TABLE t ADD COLUMN w int DEFAULT 7");
    assert_string_equal(xq(byid, &two), "two\n");
    assert_int_equal(plans_built(s) - b0, 3);
    result r;
    dc_error err;
    int rc = exec_st(star, NULL, 0, &r, &err);
    if (rc == 0)
        assert_string_equal(r.text, "1|one|7\n2|two|7\n3|three|7\n");
    else
        assert_string_equal(err.sqlstate, "0A000");

    /* CREATE INDEX: re-planned, and the index answers the same. */
    q(s, "CREATE INDEX t_id ON t (id)");
    assert_string_equal(xq(byid, &two), "two\n");
    assert_string_equal(xq(byid, &two), "two\n");
    assert_int_equal(plans_built(s) - b0, 5); /* star's failure counted */

    /* DROP and CREATE: other columns in other places. */
    q(s, "DROP TABLE t");
    q(s, "CREATE TABLE t (x int8, v text, id int PRIMARY KEY)");
    q(s, "INSERT INTO t VALUES (9, 'deux', 2), (8, 'trois', 3)");
    assert_string_equal(xq(byid, &two), "deux\n");
    rc = exec_st(star, NULL, 0, &r, &err);
    if (rc == 0)
        assert_string_equal(r.text, "9|deux|2\n8|trois|3\n");
    else
        assert_string_equal(err.sqlstate, "0A000");

    /* DDL in the transaction that runs the statement. */
    uint64_t b1 = plans_built(s);
    q(s, "BEGIN");
    assert_string_equal(xq(byid, &two), "deux\n");
    q(s, "DROP TABLE t");
    q(s, "CREATE TABLE t (id int, v text)");
    q(s, "INSERT INTO t VALUES (2, 'zwei')");
    assert_string_equal(xq(byid, &two), "zwei\n");
    q(s, "ALTER TABLE t RENAME COLUMN v TO old_v");
    q(s, "ALTER TABLE t ADD COLUMN v text DEFAULT 'dos'");
    assert_string_equal(xq(byid, &two), "dos\n");
    assert_string_equal(xq(byid, &two), "dos\n");
    q(s, "ROLLBACK");
    assert_string_equal(xq(byid, &two), "deux\n");
    /* A new plan at each catalog: the published one (cached before the
     * BEGIN), the two private ones and the published one again. */
    assert_int_equal(plans_built(s) - b1, 3);
    /* A dropped table is an error, not a stale plan. */
    q(s, "DROP TABLE t");
    rc = exec_st(byid, &two, 1, &r, &err);
    assert_int_not_equal(rc, 0);
    assert_string_equal(err.sqlstate, "42P01");
    E.vt->stmt_close(byid);
    E.vt->stmt_close(star);
    E.vt->session_close(s);
}

/* Settings the binder reads, and any SET, RESET or undo of one, give a
 * new plan; a literal converted with the TimeZone follows it. */
static void test_plan_cache_settings(void **state)
{
    (void)state;
    dc_sql_session *s = open_session();
    q(s, "CREATE TABLE t (id int, v text)");
    q(s, "INSERT INTO t VALUES (1, 'one')");
    const char *lit = "SELECT '2020-01-01 00:00:00'::timestamptz";
    dc_sql_stmt *ts = prep(s, lit);
    dc_sql_stmt *byid = prep(s, "SELECT v FROM t WHERE id = $1");
    char utc[128], east[128];
    q(s, "SET TimeZone = 'UTC'");
    qk(s, lit, utc, sizeof utc);
    assert_string_equal(xq(ts, NULL), utc);
    q(s, "SET TimeZone = 'Etc/GMT-5'");
    qk(s, lit, east, sizeof east);
    assert_string_not_equal(utc, east);
    assert_string_equal(xq(ts, NULL), east);
    /* RESET, SET LOCAL and their undo at the end of a transaction. */
    q(s, "SET TimeZone = 'UTC'");
    assert_string_equal(xq(ts, NULL), utc);
    q(s, "BEGIN");
    q(s, "SET LOCAL TimeZone = 'Etc/GMT-5'");
    assert_string_equal(xq(ts, NULL), east);
    q(s, "COMMIT");
    assert_string_equal(xq(ts, NULL), utc);
    q(s, "BEGIN");
    q(s, "SET TimeZone = 'Etc/GMT-5'");
    q(s, "SAVEPOINT a");
    q(s, "SET TimeZone = 'UTC'");
    assert_string_equal(xq(ts, NULL), utc);
    q(s, "ROLLBACK TO SAVEPOINT a");
    assert_string_equal(xq(ts, NULL), east);
    q(s, "ROLLBACK");
    assert_string_equal(xq(ts, NULL), utc);

    /* Any setting change re-plans: search_path (names resolve in
     * "public", the only schema that holds tables). */
    int one = 1;
    assert_string_equal(xq(byid, &one), "one\n");
    uint64_t b0 = plans_built(s);
    assert_string_equal(xq(byid, &one), "one\n");
    assert_int_equal(plans_built(s) - b0, 0);
    q(s, "SET search_path = pg_catalog, public");
    assert_string_equal(xq(byid, &one), "one\n");
    assert_int_equal(plans_built(s) - b0, 1);
    q(s, "RESET search_path");
    assert_string_equal(xq(byid, &one), "one\n");
    assert_string_equal(xq(byid, &one), "one\n");
    assert_int_equal(plans_built(s) - b0, 2);
    E.vt->stmt_close(ts);
    E.vt->stmt_close(byid);
    E.vt->session_close(s);
}

/* CURRENT_TIMESTAMP and now() run from a cached plan take each
 * transaction's time; a literal 'now' is converted at planning, so its
 * statement is planned at every execution. */
static void test_plan_cache_time(void **state)
{
    (void)state;
    dc_sql_session *s = open_session();
    static const char *const sqls[] = {
        "SELECT CURRENT_TIMESTAMP", "SELECT now()",
        "SELECT 'now'::timestamptz"};
    for (size_t k = 0; k < 3; k++) {
        dc_sql_stmt *st = prep(s, sqls[k]);
        char first[128];
        keep(first, sizeof first, xq(st, NULL));
        uint64_t b0 = plans_built(s);
        int n = 0;
        const char *v = first;
        while (strcmp(v, first) == 0 && n < 1000000) {
            v = xq(st, NULL);
            n++;
        }
        assert_string_not_equal(v, first);
        if (k < 2)
            assert_int_equal(plans_built(s) - b0, 0);
        else
            assert_int_equal(plans_built(s) - b0, (uint64_t)n);
        /* One transaction: one time. */
        q(s, "BEGIN");
        keep(first, sizeof first, xq(st, NULL));
        if (k < 2)
            for (int i = 0; i < 3; i++)
                assert_string_equal(xq(st, NULL), first);
        q(s, "COMMIT");
        E.vt->stmt_close(st);
    }
    E.vt->session_close(s);
}

/* A portal keeps running its plan when another portal of the statement
 * re-plans it (the first plan stays alive until the portal ends). */
static void test_plan_cache_portals(void **state)
{
    (void)state;
    dc_sql_session *s = open_session();
    q(s, "CREATE TABLE t (id int, v text)");
    q(s, "INSERT INTO t SELECT i, 'v' || i FROM generate_series(1, 5) i");
    dc_sql_stmt *st = prep(s, "SELECT id, v FROM t WHERE id >= $1 ORDER BY id");
    int from = 2;
    assert_string_equal(xq(st, &from), "2|v2\n3|v3\n4|v4\n5|v5\n");
    q(s, "BEGIN");
    dc_error err;
    dc_error_init(&err);
    dc_value p = {.type = DC_TYPE_INT4, .typmod = -1, .u.i = 2};
    dc_sql_portal *a;
    assert_int_equal(E.vt->portal_open(st, &p, 1, &a, &err), 0);
    result ra;
    memset(&ra, 0, sizeof ra);
    dc_sql_sink sink = {.size = sizeof sink, .ud = &ra, .row = r_row,
                        .complete = r_complete};
    bool susp;
    assert_int_equal(E.vt->portal_fetch(a, 1, &sink, &susp, &err), 0);
    assert_true(susp);
    uint64_t b0 = plans_built(s);
    q(s, "CREATE INDEX t_id ON t (id)");
    q(s, "CREATE INDEX t_v ON t (v)");
    int three = 3;
    assert_string_equal(xq(st, &three), "3|v3\n4|v4\n5|v5\n");
    assert_string_equal(xq(st, &three), "3|v3\n4|v4\n5|v5\n");
    assert_int_equal(plans_built(s) - b0, 1);
    assert_int_equal(E.vt->portal_fetch(a, 0, &sink, &susp, &err), 0);
    assert_false(susp);
    assert_string_equal(ra.text, "2|v2\n3|v3\n4|v4\n5|v5\n");
    E.vt->portal_close(a);
    q(s, "COMMIT");
    E.vt->stmt_close(st);
    E.vt->session_close(s);
}

int main(void)
{
    const char *bd = getenv("DATACAVE_BUILD");
    if (!realpath(bd && *bd ? bd : "build", build_dir)) {
        fprintf(stderr, "test_sqlvt2: no build directory: %s\n",
                strerror(errno));
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_copy_text, setup, teardown),
        cmocka_unit_test_setup_teardown(test_copy_csv, setup, teardown),
        cmocka_unit_test_setup_teardown(test_copy_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_copy_query_and_volume, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_copy_two_threads, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_analyze_estimate, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_databases, setup, teardown),
        cmocka_unit_test_setup_teardown(test_databases_restart, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_plan_cache_reuse, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_plan_cache_ddl, setup, teardown),
        cmocka_unit_test_setup_teardown(test_plan_cache_settings, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_plan_cache_time, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_plan_cache_portals, setup,
                                        teardown),
    };
    int failed = 0;
    static const char *const engines[] = {"memory", "lsm"};
    for (size_t i = 0; i < 2; i++) {
        storage_name = engines[i];
        print_message("sql module over storage module %s\n", storage_name);
        failed += cmocka_run_group_tests_name(engines[i], tests, NULL, NULL);
    }
    return failed ? 1 : 0;
}
