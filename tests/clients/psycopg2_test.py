#!/usr/bin/python3
"""tests/clients/psycopg2_test.py - psycopg2 (Debian's python3-psycopg2,
over libpq) against a server named by the PG* environment variables
(PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE; tests/clients/lib.sh sets
them).  The expected answers are PostgreSQL 15's.

Each case prints "ok: NAME" or "FAIL: NAME: why"; the last line is
"N passed, N failed" and the exit status is 1 when a case failed.
"""

import datetime
import decimal
import io
import os
import sys
import traceback

import psycopg2
import psycopg2.errors
import psycopg2.extensions
import psycopg2.extras

CASES = []


def case(fn):
    CASES.append(fn)
    return fn


def connect(**kw):
    return psycopg2.connect("", **kw)


def check(cond, what):
    if not cond:
        raise AssertionError(what)


def eq(got, want, what):
    if got != want or type(got) is not type(want):
        raise AssertionError("%s: got %r (%s), want %r (%s)"
                             % (what, got, type(got).__name__, want, type(want).__name__))


def expect_error(conn, sql, cls, sqlstate, message, args=None):
    """Runs sql, which must fail with cls / sqlstate / message; returns the
    exception for more checks."""
    cur = conn.cursor()
    try:
        cur.execute(sql, args)
    except psycopg2.Error as e:
        check(isinstance(e, cls), "%s: raised %s, want %s (%s)"
              % (sql, type(e).__name__, cls.__name__, e))
        eq(e.pgcode, sqlstate, sql + ": SQLSTATE")
        eq(e.diag.message_primary, message, sql + ": message")
        eq(e.diag.severity, "ERROR", sql + ": severity")
        return e
    raise AssertionError("%s: no error, want %s" % (sql, sqlstate))


# ---- connecting --------------------------------------------------------------


@case
def connect_scram():
    conn = connect()
    try:
        check(conn.server_version >= 150000 and conn.server_version < 160000,
              "server_version %d is not 15.x" % conn.server_version)
        eq(conn.encoding, "UTF8", "client encoding")
        eq(conn.get_parameter_status("server_encoding"), "UTF8", "server_encoding")
        eq(conn.get_parameter_status("integer_datetimes"), "on", "integer_datetimes")
        eq(conn.get_parameter_status("standard_conforming_strings"), "on",
           "standard_conforming_strings")
        check(conn.get_parameter_status("DateStyle").startswith("ISO"), "DateStyle ISO")
        check(conn.info.backend_pid > 0, "backend pid")
        cur = conn.cursor()
        cur.execute("select current_user, current_database()")
        eq(cur.fetchone(), (os.environ["PGUSER"], os.environ["PGDATABASE"]), "user and database")
        cur.execute("select version()")
        check("PostgreSQL 15" in cur.fetchone()[0], "version() names PostgreSQL 15")
    finally:
        conn.close()


@case
def connect_wrong_password():
    try:
        connect(password="not the password").close()
    except psycopg2.OperationalError as e:
        msg = str(e)
        check('password authentication failed for user "%s"' % os.environ["PGUSER"] in msg,
              "message: %r" % msg)
        return
    raise AssertionError("a wrong password connected")


@case
def reader_role_reads_and_cannot_write():
    owner = connect()
    owner.autocommit = True
    try:
        owner.cursor().execute("create table rt (id int primary key)")
        owner.cursor().execute("insert into rt values (1), (2)")
        reader = connect(user=os.environ["READER_USER"], password=os.environ["READER_PASSWORD"])
        reader.autocommit = True
        try:
            cur = reader.cursor()
            cur.execute("select count(*) from rt")
            eq(cur.fetchone()[0], 2, "the reader reads")
            expect_error(reader, "insert into rt values (3)", psycopg2.errors.InsufficientPrivilege,
                         "42501", "permission denied for table rt")
            expect_error(reader, "delete from rt", psycopg2.errors.InsufficientPrivilege,
                         "42501", "permission denied for table rt")
            cur.execute("select count(*) from rt")
            eq(cur.fetchone()[0], 2, "nothing written")
        finally:
            reader.close()
    finally:
        owner.cursor().execute("drop table if exists rt")
        owner.close()


@case
def connect_application_name():
    conn = connect(application_name="psycopg2 test")
    try:
        eq(conn.get_parameter_status("application_name"), "psycopg2 test", "ParameterStatus")
        cur = conn.cursor()
        cur.execute("show application_name")
        eq(cur.fetchone()[0], "psycopg2 test", "SHOW application_name")
    finally:
        conn.close()


# ---- parameters of every type --------------------------------------------------

UTC = datetime.timezone.utc

# (name, SQL type, Python value, expected value back)
PARAMS = [
    ("none", "text", None, None),
    ("bool true", "boolean", True, True),
    ("bool false", "boolean", False, False),
    ("int small", "integer", -42, -42),
    ("int big", "bigint", 2 ** 62 + 7, 2 ** 62 + 7),
    ("int smallint", "smallint", 32767, 32767),
    ("float", "double precision", 0.1, 0.1),
    ("float neg exp", "double precision", -1.5e-300, -1.5e-300),
    ("float inf", "double precision", float("inf"), float("inf")),
    ("real", "real", 0.5, 0.5),
    ("decimal", "numeric", decimal.Decimal("12345678901234567890.000123"),
     decimal.Decimal("12345678901234567890.000123")),
    ("decimal neg", "numeric(10,2)", decimal.Decimal("-3.14159"), decimal.Decimal("-3.14")),
    ("str", "text", "plain", "plain"),
    ("str quotes", "text", "it's a \"quote\" \\ back", "it's a \"quote\" \\ back"),
    ("str unicode", "text", "h\u00e9llo \u4e16\u754c \U0001F600", "h\u00e9llo \u4e16\u754c \U0001F600"),
    ("str empty", "text", "", ""),
    ("str newline", "text", "line1\nline2\ttab", "line1\nline2\ttab"),
    ("varchar", "varchar(10)", "abc", "abc"),
    ("bytes", "bytea", b"\x00\x01\xfe\xff'\\", b"\x00\x01\xfe\xff'\\"),
    ("date", "date", datetime.date(2024, 2, 29), datetime.date(2024, 2, 29)),
    ("datetime", "timestamp", datetime.datetime(2024, 2, 29, 13, 14, 15, 123456),
     datetime.datetime(2024, 2, 29, 13, 14, 15, 123456)),
    ("datetime tz", "timestamptz",
     datetime.datetime(2024, 2, 29, 13, 14, 15, tzinfo=UTC),
     datetime.datetime(2024, 2, 29, 13, 14, 15, tzinfo=UTC)),
    # time, interval, uuid, json, jsonb and arrays are not Datacave types
    # yet (docs/sql.md, "Not supported yet").
]


def _param_case(name, sqltype, value, want):
    def run():
        conn = connect()
        psycopg2.extras.register_uuid(conn_or_curs=conn)
        try:
            cur = conn.cursor()
            # The value as a parameter, cast to the column type as an
            # application would write it.
            cur.execute("select %%s::%s" % sqltype, (value,))
            got = cur.fetchone()[0]
            if isinstance(got, memoryview):
                got = got.tobytes()
            eq(got, want, "select %%s::%s" % sqltype)
            # ... and through a table column, with a parameter in WHERE.
            cur.execute("create table p (k int primary key, v %s)" % sqltype)
            cur.execute("insert into p values (%s, %s)", (1, value))
            eq(cur.rowcount, 1, "insert rowcount")
            cur.execute("select v from p where k = %s", (1,))
            got = cur.fetchone()[0]
            if isinstance(got, memoryview):
                got = got.tobytes()
            eq(got, want, "stored and read back")
        finally:
            conn.rollback()
            conn.close()
    run.__name__ = "param " + name
    return run


for _p in PARAMS:
    case(_param_case(*_p))


@case
def params_many_in_one_statement():
    conn = connect()
    try:
        cur = conn.cursor()
        cur.execute("select %(a)s + %(b)s, %(s)s || %(s)s, %(a)s = any(%(l)s)",
                    {"a": 40, "b": 2, "s": "ab", "l": [1, 40]})
        eq(cur.fetchone(), (42, "abab", True), "named parameters")
        cur.execute("select count(*) from (values (1), (2), (3)) v(x) where x in %s", ((1, 3),))
        eq(cur.fetchone()[0], 2, "IN tuple")
    finally:
        conn.close()


@case
def result_description():
    conn = connect()
    try:
        cur = conn.cursor()
        cur.execute("select 1::int4 as a, 'x'::text as b, 1.5::numeric as c, true as d, "
                    "null::bytea as e, now() as f")
        names = [d.name for d in cur.description]
        oids = [d.type_code for d in cur.description]
        eq(names, ["a", "b", "c", "d", "e", "f"], "column names")
        eq(oids, [23, 25, 1700, 16, 17, 1184], "type oids")
        eq(cur.rowcount, 1, "rowcount of a SELECT")
    finally:
        conn.close()


# ---- rows and tags ------------------------------------------------------------


@case
def rowcounts_and_executemany():
    conn = connect()
    try:
        cur = conn.cursor()
        cur.execute("create table r (id int primary key, v text)")
        cur.executemany("insert into r values (%s, %s)", [(i, "v%d" % i) for i in range(1, 11)])
        eq(cur.rowcount, 10, "executemany rowcount")
        cur.execute("update r set v = v || '!' where id > %s", (6,))
        eq(cur.rowcount, 4, "update rowcount")
        cur.execute("delete from r where id <= %s", (2,))
        eq(cur.rowcount, 2, "delete rowcount")
        cur.execute("insert into r values (%s, %s) returning id, v", (99, "r"))
        eq(cur.fetchall(), [(99, "r")], "RETURNING")
        cur.execute("select id from r order by id")
        eq([r[0] for r in cur.fetchmany(3)], [3, 4, 5], "fetchmany")
        eq(len(cur.fetchall()), 6, "fetchall of the rest")
        cur.execute("select repeat('x', 100000)")
        eq(len(cur.fetchone()[0]), 100000, "a 100000-character value")
    finally:
        conn.rollback()
        conn.close()


@case
def transactions_commit_rollback_isolation():
    a = connect()
    b = connect()
    try:
        ca, cb = a.cursor(), b.cursor()
        ca.execute("create table tx (id int primary key)")
        a.commit()
        ca.execute("insert into tx values (1)")
        eq(a.info.transaction_status, psycopg2.extensions.TRANSACTION_STATUS_INTRANS,
           "in a transaction after the insert")
        cb.execute("select count(*) from tx")
        eq(cb.fetchone()[0], 0, "uncommitted row invisible to another session")
        b.rollback()
        a.rollback()
        eq(a.info.transaction_status, psycopg2.extensions.TRANSACTION_STATUS_IDLE, "idle after rollback")
        ca.execute("select count(*) from tx")
        eq(ca.fetchone()[0], 0, "rolled back")
        with a:
            ca.execute("insert into tx values (2)")
        cb.execute("select id from tx order by id")
        eq(cb.fetchall(), [(2,)], "committed by the with block, visible to the other session")
        b.rollback()
        try:
            with a:
                ca.execute("insert into tx values (3)")
                ca.execute("insert into tx values (2)")
        except psycopg2.errors.UniqueViolation:
            pass
        else:
            raise AssertionError("duplicate key accepted")
        ca.execute("select count(*) from tx")
        eq(ca.fetchone()[0], 1, "the failed block was rolled back")
        a.rollback()
        a.autocommit = True
        ca.execute("insert into tx values (4)")
        eq(a.info.transaction_status, psycopg2.extensions.TRANSACTION_STATUS_IDLE, "autocommit: idle")
        cb.execute("select count(*) from tx")
        eq(cb.fetchone()[0], 2, "autocommit insert visible at once")
        b.rollback()
        ca.execute("begin")
        ca.execute("insert into tx values (5)")
        ca.execute("savepoint s")
        ca.execute("insert into tx values (6)")
        ca.execute("rollback to savepoint s")
        ca.execute("commit")
        cb.execute("select id from tx order by id")
        eq(cb.fetchall(), [(2,), (4,), (5,)], "savepoint rolled back one insert")
        b.rollback()
        a.autocommit = False
        a.set_session(isolation_level="REPEATABLE READ")
        ca.execute("select count(*) from tx")
        eq(ca.fetchone()[0], 3, "repeatable read: first read")
        b.autocommit = True
        cb.execute("insert into tx values (7)")
        ca.execute("select count(*) from tx")
        eq(ca.fetchone()[0], 3, "repeatable read: the snapshot is kept")
        ca.execute("show transaction_isolation")
        eq(ca.fetchone()[0], "repeatable read", "transaction_isolation")
        a.rollback()
        ca.execute("select count(*) from tx")
        eq(ca.fetchone()[0], 4, "a new transaction sees the insert")
        a.rollback()
        a.set_session(isolation_level="READ COMMITTED", readonly=True)
        expect_error(a, "insert into tx values (8)", psycopg2.errors.ReadOnlySqlTransaction,
                     "25006", "cannot execute INSERT in a read-only transaction")
        a.rollback()
    finally:
        a.rollback()
        a.set_session(readonly=False)
        a.autocommit = True
        a.cursor().execute("drop table if exists tx")
        a.close()
        b.close()


# ---- errors ------------------------------------------------------------------------


@case
def errors_sqlstate_and_fields():
    conn = connect()
    conn.autocommit = True
    try:
        cur = conn.cursor()
        expect_error(conn, "select 1/0", psycopg2.errors.DivisionByZero, "22012", "division by zero")
        e = expect_error(conn, "select * from no_such_table", psycopg2.errors.UndefinedTable,
                         "42P01", 'relation "no_such_table" does not exist')
        eq(e.diag.statement_position, "15", "position of the table name")
        e = expect_error(conn, "selec 1", psycopg2.errors.SyntaxError, "42601",
                         'syntax error at or near "selec"')
        eq(e.diag.statement_position, "1", "position of the syntax error")
        expect_error(conn, "select %s::int", psycopg2.errors.InvalidTextRepresentation, "22P02",
                     'invalid input syntax for type integer: "abc"', ("abc",))
        expect_error(conn, "select nosuchcol from (select 1) x", psycopg2.errors.UndefinedColumn,
                     "42703", 'column "nosuchcol" does not exist')
        cur.execute("create table e (id int primary key, v text not null)")
        cur.execute("insert into e values (1, 'a')")
        e = expect_error(conn, "insert into e values (1, 'b')", psycopg2.errors.UniqueViolation,
                         "23505", 'duplicate key value violates unique constraint "e_pkey"')
        eq(e.diag.message_detail, "Key (id)=(1) already exists.", "detail")
        e = expect_error(conn, "insert into e values (2, null)", psycopg2.errors.NotNullViolation,
                         "23502", 'null value in column "v" of relation "e" violates not-null constraint')
        eq(e.diag.message_detail, "Failing row contains (2, null).", "detail")
        # the session is still usable after each error
        cur.execute("select count(*) from e")
        eq(cur.fetchone()[0], 1, "usable after errors")
        # inside a transaction: 25P02 until rollback
        conn.autocommit = False
        cur.execute("insert into e values (3, 'c')")
        try:
            cur.execute("select 1/0")
        except psycopg2.errors.DivisionByZero:
            pass
        eq(conn.info.transaction_status, psycopg2.extensions.TRANSACTION_STATUS_INERROR, "in a failed block")
        expect_error(conn, "select 1", psycopg2.errors.InFailedSqlTransaction, "25P02",
                     "current transaction is aborted, commands ignored until end of transaction block")
        conn.rollback()
        cur.execute("select count(*) from e")
        eq(cur.fetchone()[0], 1, "the failed block's insert was undone")
        conn.rollback()
        conn.autocommit = True
        cur.execute("drop table e")
    finally:
        conn.close()


@case
def notices():
    conn = connect()
    conn.autocommit = True
    try:
        cur = conn.cursor()
        cur.execute("drop table if exists surely_not_there")
        check(any('table "surely_not_there" does not exist, skipping' in n for n in conn.notices),
              "NOTICE received: %r" % conn.notices)
    finally:
        conn.close()


# ---- COPY ------------------------------------------------------------------------------


@case
def copy_in_and_out():
    conn = connect()
    try:
        cur = conn.cursor()
        cur.execute("create table c (id int primary key, name text, amount numeric, d date)")
        data = io.StringIO("1\tone\t1.5\t2024-01-01\n2\t\\N\t-2\t\\N\n3\ttab\\there\t0\t2024-12-31\n")
        cur.copy_from(data, "c")
        eq(cur.rowcount, 3, "copy_from rowcount")
        csv_in = io.StringIO('id,name,amount,d\n4,"comma, quoted",10,2020-02-02\n5,,,\n')
        cur.copy_expert("copy c from stdin with (format csv, header true)", csv_in)
        eq(cur.rowcount, 2, "copy_expert FROM STDIN rowcount")
        cur.execute("select id, name, amount, d from c order by id")
        rows = cur.fetchall()
        eq(rows[2], (3, "tab\there", decimal.Decimal("0"), datetime.date(2024, 12, 31)), "row 3")
        eq(rows[3], (4, "comma, quoted", decimal.Decimal("10"), datetime.date(2020, 2, 2)), "row 4")
        eq(rows[4], (5, None, None, None), "row 5 (CSV empty = NULL)")
        out = io.StringIO()
        cur.copy_expert("copy (select id, name from c where id in (1, 2, 3) order by id) to stdout", out)
        eq(out.getvalue(), "1\tone\n2\t\\N\n3\ttab\\there\n", "COPY TO STDOUT text")
        out = io.StringIO()
        cur.copy_expert("copy (select id, name from c where id >= 4 order by id) to stdout "
                        "with (format csv, header true)", out)
        eq(out.getvalue(), 'id,name\n4,"comma, quoted"\n5,\n', "COPY TO STDOUT csv")
        out = io.StringIO()
        cur.copy_to(out, "c", columns=("id",))
        eq(sorted(out.getvalue().split()), ["1", "2", "3", "4", "5"], "copy_to a column")
        try:
            cur.copy_from(io.StringIO("9\tnine\tnot a number\t\\N\n"), "c")
        except psycopg2.errors.InvalidTextRepresentation as e:
            eq(e.diag.message_primary, 'invalid input syntax for type numeric: "not a number"', "bad row")
        else:
            raise AssertionError("a bad COPY row was accepted")
        conn.rollback()
    finally:
        conn.rollback()
        conn.close()


@case
def copy_many_rows():
    conn = connect()
    try:
        cur = conn.cursor()
        cur.execute("create table cm (id int primary key, t text)")
        n = 20000
        data = io.StringIO("".join("%d\trow %d %s\n" % (i, i, "x" * (i % 50)) for i in range(1, n + 1)))
        cur.copy_expert("copy cm from stdin", data, size=65536)
        eq(cur.rowcount, n, "rows copied in")
        cur.execute("select count(*), sum(id), sum(length(t)) from cm")
        want_len = sum(len("row %d %s" % (i, "x" * (i % 50))) for i in range(1, n + 1))
        eq(cur.fetchone(), (n, n * (n + 1) // 2, want_len), "count, sum, lengths")
        out = io.StringIO()
        cur.copy_expert("copy cm to stdout", out)
        eq(len(out.getvalue().splitlines()), n, "rows copied out")
    finally:
        conn.rollback()
        conn.close()


def main():
    passed = failed = 0
    only = sys.argv[1:]
    for fn in CASES:
        name = fn.__name__.replace("_", " ")
        if only and not any(o in name for o in only):
            continue
        try:
            fn()
            print("ok: %s" % name)
            passed += 1
        except Exception as e:  # every failure is reported, the others still run
            failed += 1
            print("FAIL: %s: %s: %s" % (name, type(e).__name__, str(e).strip().replace("\n", " | ")))
            if os.environ.get("CLIENTS_VERBOSE"):
                traceback.print_exc()
        sys.stdout.flush()
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
