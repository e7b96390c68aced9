// tests/clients/jdbc/JdbcTest.java - pgJDBC (Debian's libpostgresql-jdbc-java,
// /usr/share/java/postgresql.jar) against a server named by the PG*
// environment variables (PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE;
// tests/clients/lib.sh sets them).  The expected answers are PostgreSQL 15's.
// Run with -Duser.timezone=UTC.
//
// Each case prints "ok: NAME" or "FAIL: NAME: why"; the last line is
// "N passed, N failed" and the exit status is 1 when a case failed.

import java.math.BigDecimal;
import java.sql.BatchUpdateException;
import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.Date;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Savepoint;
import java.sql.Statement;
import java.sql.Timestamp;
import java.sql.Types;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Properties;
import java.util.Set;

import org.postgresql.PGResultSetMetaData;
import org.postgresql.PGStatement;
import org.postgresql.util.PSQLException;

public final class JdbcTest {
  interface Body { void run() throws Exception; }

  private static final List<String> names = new ArrayList<>();
  private static final List<Body> bodies = new ArrayList<>();

  private static void test(String name, Body b) { names.add(name); bodies.add(b); }

  private static String env(String k) {
    String v = System.getenv(k);
    if (v == null || v.isEmpty()) throw new IllegalStateException("environment variable " + k + " is not set");
    return v;
  }

  private static String url() {
    return "jdbc:postgresql://" + env("PGHOST") + ":" + env("PGPORT") + "/" + env("PGDATABASE");
  }

  // A connection with the test user; extra are "key=value" driver properties.
  private static Connection connect(String... extra) throws SQLException {
    Properties p = new Properties();
    p.setProperty("user", env("PGUSER"));
    p.setProperty("password", env("PGPASSWORD"));
    p.setProperty("sslmode", "disable");
    p.setProperty("connectTimeout", "10");
    p.setProperty("socketTimeout", "120");
    for (String kv : extra) {
      int i = kv.indexOf('=');
      p.setProperty(kv.substring(0, i), kv.substring(i + 1));
    }
    return DriverManager.getConnection(url(), p);
  }

  private static void check(boolean cond, String what) {
    if (!cond) throw new AssertionError(what);
  }

  private static void eq(Object got, Object want, String what) {
    boolean same = (got instanceof byte[] && want instanceof byte[])
        ? Arrays.equals((byte[]) got, (byte[]) want) : Objects.equals(got, want);
    if (!same) {
      throw new AssertionError(what + ": got " + show(got) + ", want " + show(want));
    }
  }

  private static String show(Object o) {
    if (o == null) return "null";
    if (o instanceof byte[]) {
      byte[] b = (byte[]) o;
      return "byte[" + b.length + "]" + Arrays.toString(Arrays.copyOf(b, Math.min(b.length, 16)));
    }
    String s = o.toString();
    if (s.length() > 80) s = s.substring(0, 80) + "...(" + s.length() + " chars)";
    return s + " (" + o.getClass().getSimpleName() + ")";
  }

  // Runs sql with a Statement; it must fail with the SQLSTATE.  Returns the
  // exception for more checks.
  private static SQLException expectError(Connection c, String sql, String sqlstate) throws Exception {
    try (Statement st = c.createStatement()) {
      st.execute(sql);
    } catch (SQLException e) {
      eq(e.getSQLState(), sqlstate, sql + ": SQLSTATE (" + e.getMessage() + ")");
      return e;
    }
    throw new AssertionError(sql + ": no error, want " + sqlstate);
  }

  private static long count(Connection c, String table) throws SQLException {
    try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("select count(*) from " + table)) {
      check(rs.next(), "count(*) returned no row");
      return rs.getLong(1);
    }
  }

  private static void exec(Connection c, String sql) throws SQLException {
    try (Statement st = c.createStatement()) {
      st.execute(sql);
    }
  }

  // ---- the rows of the typed table --------------------------------------------

  static final class Row {
    final int id;
    final Short i2; final Integer i4; final Long i8; final BigDecimal n;
    final Float f4; final Double f8; final String t; final String vc; final Boolean b;
    final LocalDate d; final LocalDateTime ts; final OffsetDateTime tstz; final byte[] by;

    Row(int id, Short i2, Integer i4, Long i8, BigDecimal n, Float f4, Double f8, String t, String vc,
        Boolean b, LocalDate d, LocalDateTime ts, OffsetDateTime tstz, byte[] by) {
      this.id = id; this.i2 = i2; this.i4 = i4; this.i8 = i8; this.n = n; this.f4 = f4; this.f8 = f8;
      this.t = t; this.vc = vc; this.b = b; this.d = d; this.ts = ts; this.tstz = tstz; this.by = by;
    }
  }

  static final String COLS = "id, i2, i4, i8, n, f4, f8, t, vc, b, d, ts, tstz, by";
  static final String CREATE_TYPES =
      "create table jt_types (id int4 primary key, i2 int2, i4 int4, i8 int8, n numeric(30,6), "
      + "f4 float4, f8 float8, t text, vc varchar(20), b bool, d date, ts timestamp, "
      + "tstz timestamptz, by bytea)";

  static List<Row> rows() {
    byte[] all = new byte[256];
    for (int i = 0; i < 256; i++) all[i] = (byte) i;
    StringBuilder longText = new StringBuilder();
    for (int i = 0; i < 2000; i++) longText.append("line ").append(i).append(';');
    List<Row> r = new ArrayList<>();
    r.add(new Row(1, (short) 1, 42, 1234567890123L, new BigDecimal("12345.678900"), 1.5f, 2.25,
        "hello", "world", true, LocalDate.of(2024, 2, 29), LocalDateTime.of(2024, 2, 29, 13, 45, 56, 123456000),
        OffsetDateTime.of(2024, 2, 29, 13, 45, 56, 654321000, ZoneOffset.UTC), new byte[] {1, 2, 3, 0, (byte) 0xff}));
    r.add(new Row(2, Short.MIN_VALUE, Integer.MIN_VALUE, Long.MIN_VALUE,
        new BigDecimal("-999999999999999999999999.999999"), -3.25e10f, -1.0e-300,
        "it's a \"quote\" and a \\ backslash", "", false, LocalDate.of(1900, 3, 4),
        LocalDateTime.of(1969, 7, 20, 20, 17, 40, 1000), OffsetDateTime.of(1999, 12, 31, 23, 59, 59, 999999000, ZoneOffset.UTC),
        new byte[0]));
    r.add(new Row(3, Short.MAX_VALUE, Integer.MAX_VALUE, Long.MAX_VALUE, new BigDecimal("0.000001"),
        0.1f, Math.PI, "héllo wörld ✓ 日本語 \u00e9", "ünïcödé", true, LocalDate.of(2000, 1, 1),
        LocalDateTime.of(2000, 1, 1, 0, 0, 0), OffsetDateTime.of(2262, 4, 11, 23, 47, 16, 0, ZoneOffset.UTC), all));
    r.add(new Row(4, (short) 0, 0, 0L, new BigDecimal("0.000000"), 0.0f, 0.0, longText.toString(), "x",
        false, LocalDate.of(1970, 1, 1), LocalDateTime.of(1970, 1, 1, 0, 0, 0),
        OffsetDateTime.of(1970, 1, 1, 0, 0, 0, 0, ZoneOffset.UTC), "bytes \\x00 here".getBytes()));
    r.add(new Row(5, (short) -2, -7, -10000000000L, new BigDecimal("-1.500000"), Float.MAX_VALUE, Double.MIN_VALUE,
        "tab\tnewline\nend", "v", true, LocalDate.of(1999, 12, 31), LocalDateTime.of(1999, 12, 31, 23, 59, 59, 999999000),
        OffsetDateTime.of(2000, 1, 1, 0, 0, 0, 1000, ZoneOffset.UTC), new byte[] {0}));
    r.add(new Row(6, null, null, null, null, null, null, null, null, null, null, null, null, null));
    return r;
  }

  static void insertRow(PreparedStatement ps, Row r) throws SQLException {
    ps.setInt(1, r.id);
    if (r.i2 == null) ps.setNull(2, Types.SMALLINT); else ps.setShort(2, r.i2);
    if (r.i4 == null) ps.setNull(3, Types.INTEGER); else ps.setInt(3, r.i4);
    if (r.i8 == null) ps.setNull(4, Types.BIGINT); else ps.setLong(4, r.i8);
    if (r.n == null) ps.setNull(5, Types.NUMERIC); else ps.setBigDecimal(5, r.n);
    if (r.f4 == null) ps.setNull(6, Types.REAL); else ps.setFloat(6, r.f4);
    if (r.f8 == null) ps.setNull(7, Types.DOUBLE); else ps.setDouble(7, r.f8);
    ps.setString(8, r.t);
    ps.setString(9, r.vc);
    if (r.b == null) ps.setNull(10, Types.BOOLEAN); else ps.setBoolean(10, r.b);
    ps.setDate(11, r.d == null ? null : Date.valueOf(r.d));
    ps.setTimestamp(12, r.ts == null ? null : Timestamp.valueOf(r.ts));
    if (r.tstz == null) ps.setNull(13, Types.TIMESTAMP_WITH_TIMEZONE); else ps.setObject(13, r.tstz);
    ps.setBytes(14, r.by);
  }

  // Every column of the current row of rs (columns in COLS order) equals r,
  // read through each getter that fits.
  static void checkRow(ResultSet rs, Row r, String how) throws SQLException {
    String w = how + " row " + r.id;
    eq(rs.getInt(1), r.id, w + " id");
    if (r.i2 == null) {
      eq(rs.getShort(2), (short) 0, w + " i2 null"); check(rs.wasNull(), w + " i2 wasNull");
      eq(rs.getObject(2), null, w + " i2 getObject");
    } else {
      eq(rs.getShort(2), r.i2, w + " i2 getShort"); check(!rs.wasNull(), w + " i2 !wasNull");
      eq(rs.getInt(2), (int) r.i2, w + " i2 getInt");
      eq(rs.getString(2), r.i2.toString(), w + " i2 getString");
    }
    if (r.i4 == null) {
      eq(rs.getInt(3), 0, w + " i4 null"); check(rs.wasNull(), w + " i4 wasNull");
    } else {
      eq(rs.getInt(3), r.i4, w + " i4 getInt");
      eq(rs.getLong(3), (long) r.i4, w + " i4 getLong");
      eq(rs.getObject(3), r.i4, w + " i4 getObject");
      eq(rs.getString(3), r.i4.toString(), w + " i4 getString");
    }
    if (r.i8 == null) {
      eq(rs.getLong(4), 0L, w + " i8 null"); check(rs.wasNull(), w + " i8 wasNull");
    } else {
      eq(rs.getLong(4), r.i8, w + " i8 getLong");
      eq(rs.getObject(4), r.i8, w + " i8 getObject");
      eq(rs.getBigDecimal(4), new BigDecimal(r.i8), w + " i8 getBigDecimal");
      eq(rs.getString(4), r.i8.toString(), w + " i8 getString");
    }
    if (r.n == null) {
      eq(rs.getBigDecimal(5), null, w + " n null"); check(rs.wasNull(), w + " n wasNull");
    } else {
      eq(rs.getBigDecimal(5), r.n, w + " n getBigDecimal");
      eq(rs.getString(5), r.n.toPlainString(), w + " n getString");
      eq(rs.getDouble(5), r.n.doubleValue(), w + " n getDouble");
    }
    if (r.f4 == null) {
      eq(rs.getFloat(6), 0.0f, w + " f4 null"); check(rs.wasNull(), w + " f4 wasNull");
    } else {
      eq(rs.getFloat(6), r.f4, w + " f4 getFloat");
      // A float4 in text is its shortest exact decimal, which read as a
      // double need not be the float widened: compare as float.
      eq((float) rs.getDouble(6), r.f4, w + " f4 getDouble");
      eq(rs.getObject(6), r.f4, w + " f4 getObject");
    }
    if (r.f8 == null) {
      eq(rs.getDouble(7), 0.0, w + " f8 null"); check(rs.wasNull(), w + " f8 wasNull");
    } else {
      eq(rs.getDouble(7), r.f8, w + " f8 getDouble");
      eq(rs.getObject(7), r.f8, w + " f8 getObject");
    }
    eq(rs.getString(8), r.t, w + " t getString");
    eq(rs.getString(9), r.vc, w + " vc getString");
    if (r.b == null) {
      eq(rs.getBoolean(10), false, w + " b null"); check(rs.wasNull(), w + " b wasNull");
    } else {
      eq(rs.getBoolean(10), r.b, w + " b getBoolean");
      eq(rs.getObject(10), r.b, w + " b getObject");
    }
    eq(rs.getDate(11), r.d == null ? null : Date.valueOf(r.d), w + " d getDate");
    eq(rs.getObject(11, LocalDate.class), r.d, w + " d getObject(LocalDate)");
    eq(rs.getTimestamp(12), r.ts == null ? null : Timestamp.valueOf(r.ts), w + " ts getTimestamp");
    eq(rs.getObject(12, LocalDateTime.class), r.ts, w + " ts getObject(LocalDateTime)");
    eq(rs.getTimestamp(13), r.tstz == null ? null : Timestamp.from(r.tstz.toInstant()), w + " tstz getTimestamp");
    eq(rs.getObject(13, OffsetDateTime.class), r.tstz, w + " tstz getObject(OffsetDateTime)");
    eq(rs.getBytes(14), r.by, w + " by getBytes");
  }

  // The result columns of rs named in binCols (1-based) arrived in binary
  // format (1), every other column in text (0).
  static void checkFormats(ResultSet rs, Set<Integer> binCols, String what) throws SQLException {
    PGResultSetMetaData md = rs.getMetaData().unwrap(PGResultSetMetaData.class);
    int n = rs.getMetaData().getColumnCount();
    for (int i = 1; i <= n; i++) {
      eq(md.getFormat(i), binCols.contains(i) ? 1 : 0,
          what + ": format of column " + i + " (" + rs.getMetaData().getColumnName(i) + ")");
    }
  }

  // The columns pgJDBC 42.5 asks for in binary once a statement is prepared
  // on the server: int2/int4/int8, numeric, float4/8, date, timestamp,
  // timestamptz, bytea (not bool, text, varchar).
  static final Set<Integer> BINARY_COLS = new HashSet<>(Arrays.asList(1, 2, 3, 4, 5, 6, 7, 11, 12, 13, 14));

  // Reads every row back with one PreparedStatement executed `times` times
  // per row through conn; checks the values each time, that the driver
  // used a named server-side statement from execution `threshold` on, and
  // that the results then came in binary.
  static void readBack(Connection conn, int times, int threshold, String how) throws Exception {
    List<Row> rows = rows();
    try (PreparedStatement ps = conn.prepareStatement("select " + COLS + " from jt_types where id = ?")) {
      PGStatement pgs = ps.unwrap(PGStatement.class);
      eq(pgs.getPrepareThreshold(), threshold, how + ": prepareThreshold");
      for (int k = 1; k <= times; k++) {
        for (Row r : rows) {
          ps.setInt(1, r.id);
          try (ResultSet rs = ps.executeQuery()) {
            check(rs.next(), how + ": no row for id " + r.id + " on execution " + k);
            checkRow(rs, r, how + " execution " + k);
            check(!rs.next(), how + ": a second row for id " + r.id);
            if (k > threshold) {
              checkFormats(rs, BINARY_COLS, how + " execution " + k);
            }
          }
        }
        if (k >= threshold) check(pgs.isUseServerPrepare(), how + ": not server-prepared after " + k + " executions");
      }
    }
  }

  static void setUpTypes() throws Exception {
    try (Connection c = connect()) {
      exec(c, "drop table if exists jt_types");
      exec(c, CREATE_TYPES);
      try (PreparedStatement ps = c.prepareStatement("insert into jt_types (" + COLS + ") values (?,?,?,?,?,?,?,?,?,?,?,?,?,?)")) {
        for (Row r : rows()) {
          insertRow(ps, r);
          eq(ps.executeUpdate(), 1, "insert row " + r.id);
        }
      }
    }
  }

  public static void main(String[] args) throws Exception {
    Class.forName("org.postgresql.Driver");

    // ---- connecting ------------------------------------------------------------
    test("connect with SCRAM-SHA-256 and read the session", () -> {
      try (Connection c = connect(); Statement st = c.createStatement();
           ResultSet rs = st.executeQuery("select current_user, current_database(), version()")) {
        check(rs.next(), "no row");
        eq(rs.getString(1), env("PGUSER"), "current_user");
        eq(rs.getString(2), env("PGDATABASE"), "current_database()");
        check(rs.getString(3).startsWith("PostgreSQL 15"), "version(): " + rs.getString(3));
        DatabaseMetaData md = c.getMetaData();
        eq(md.getDatabaseProductName(), "PostgreSQL", "getDatabaseProductName");
        eq(md.getDatabaseMajorVersion(), 15, "getDatabaseMajorVersion");
        check(c.isValid(5), "isValid");
      }
    });

    test("wrong password is refused with 28P01", () -> {
      Properties p = new Properties();
      p.setProperty("user", env("PGUSER"));
      p.setProperty("password", "wrong password");
      p.setProperty("sslmode", "disable");
      try (Connection c = DriverManager.getConnection(url(), p)) {
        throw new AssertionError("connected with a wrong password (" + c + ")");
      } catch (SQLException e) {
        eq(e.getSQLState(), "28P01", "SQLSTATE (" + e.getMessage() + ")");
        check(e.getMessage().contains("password authentication failed for user \"" + env("PGUSER") + "\""),
            "message: " + e.getMessage());
      }
    });

    // ---- types through simple and prepared statements ---------------------------
    test("insert every type with PreparedStatement setters", JdbcTest::setUpTypes);

    test("read every type back with a Statement (text)", () -> {
      List<Row> rows = rows();
      try (Connection c = connect(); Statement st = c.createStatement();
           ResultSet rs = st.executeQuery("select " + COLS + " from jt_types order by id")) {
        for (Row r : rows) {
          check(rs.next(), "missing row " + r.id);
          checkRow(rs, r, "statement");
          checkFormats(rs, new HashSet<>(), "statement");
        }
        check(!rs.next(), "an extra row");
      }
    });

    test("PreparedStatement past the default prepareThreshold: named statement, binary results", () -> {
      try (Connection c = connect()) {
        readBack(c, 12, 5, "threshold 5");
      }
    });

    test("prepareThreshold=1: binary results from the second execution", () -> {
      try (Connection c = connect("prepareThreshold=1")) {
        readBack(c, 4, 1, "threshold 1");
      }
    });

    test("prepareThreshold=0: never server-prepared, text results", () -> {
      List<Row> rows = rows();
      try (Connection c = connect("prepareThreshold=0");
           PreparedStatement ps = c.prepareStatement("select " + COLS + " from jt_types where id = ?")) {
        for (int k = 1; k <= 8; k++) {
          for (Row r : rows) {
            ps.setInt(1, r.id);
            try (ResultSet rs = ps.executeQuery()) {
              check(rs.next(), "no row for id " + r.id);
              checkRow(rs, r, "unprepared execution " + k);
              checkFormats(rs, new HashSet<>(), "unprepared execution " + k);
            }
          }
        }
        check(!ps.unwrap(PGStatement.class).isUseServerPrepare(), "server-prepared with prepareThreshold=0");
      }
    });

    test("server-prepared INSERT with binary parameters, read back", () -> {
      List<Row> rows = rows();
      try (Connection c = connect("prepareThreshold=1")) {
        exec(c, "drop table if exists jt_types2");
        exec(c, CREATE_TYPES.replace("jt_types", "jt_types2"));
        try (PreparedStatement ins = c.prepareStatement("insert into jt_types2 (" + COLS + ") values (?,?,?,?,?,?,?,?,?,?,?,?,?,?)")) {
          // Each row three times under a different id: the statement is
          // reused with every parameter type bound, NULL or not.
          for (int k = 0; k < 3; k++) {
            for (Row r : rows) {
              insertRow(ins, r);
              ins.setInt(1, r.id + 100 * k);
              eq(ins.executeUpdate(), 1, "insert " + (r.id + 100 * k));
            }
          }
          check(ins.unwrap(PGStatement.class).isUseServerPrepare(), "insert not server-prepared");
        }
        try (PreparedStatement sel = c.prepareStatement("select " + COLS + " from jt_types2 where id % 100 = ? order by id")) {
          for (Row r : rows) {
            sel.setInt(1, r.id);
            try (ResultSet rs = sel.executeQuery()) {
              for (int k = 0; k < 3; k++) {
                check(rs.next(), "missing copy " + k + " of row " + r.id);
                eq(rs.getInt(1), r.id + 100 * k, "id of copy " + k);
                Row want = new Row(r.id + 100 * k, r.i2, r.i4, r.i8, r.n, r.f4, r.f8, r.t, r.vc, r.b, r.d, r.ts, r.tstz, r.by);
                checkRow(rs, want, "copy " + k);
              }
              check(!rs.next(), "extra rows for " + r.id);
            }
          }
        }
        exec(c, "drop table jt_types2");
      }
    });

    test("parameters compared on the server: int8, numeric, float8, text, bytea, timestamptz", () -> {
      try (Connection c = connect("prepareThreshold=1");
           PreparedStatement ps = c.prepareStatement(
               "select id from jt_types where i8 = ? and n = ? and f8 = ? and t = ? and by = ? and tstz = ? and d = ?")) {
        for (Row r : rows()) {
          if (r.i8 == null) continue;
          for (int k = 0; k < 3; k++) {
            ps.setLong(1, r.i8);
            ps.setBigDecimal(2, r.n);
            ps.setDouble(3, r.f8);
            ps.setString(4, r.t);
            ps.setBytes(5, r.by);
            ps.setObject(6, r.tstz);
            ps.setObject(7, r.d);
            try (ResultSet rs = ps.executeQuery()) {
              check(rs.next(), "row " + r.id + " not found by its own values (execution " + k + ")");
              eq(rs.getInt(1), r.id, "id");
              check(!rs.next(), "more than one row");
            }
          }
        }
      }
    });

    test("expressions in binary: sums, casts, NULL, many rows", () -> {
      try (Connection c = connect("prepareThreshold=1");
           PreparedStatement ps = c.prepareStatement(
               "select ?::int8 + 1, ?::numeric * 2, cast(? as float8) / 4, ?::text || '!', null::int4, ?::date + 1")) {
        for (int k = 0; k < 6; k++) {
          ps.setLong(1, 9000000000L + k);
          ps.setBigDecimal(2, new BigDecimal("1.25").add(BigDecimal.valueOf(k)));
          ps.setDouble(3, 10.0 + k);
          ps.setString(4, "s" + k);
          ps.setDate(5, Date.valueOf(LocalDate.of(2024, 2, 28)));
          try (ResultSet rs = ps.executeQuery()) {
            check(rs.next(), "no row");
            eq(rs.getLong(1), 9000000001L + k, "int8 + 1");
            eq(rs.getBigDecimal(2), new BigDecimal("2.50").add(BigDecimal.valueOf(2L * k)), "numeric * 2");
            eq(rs.getDouble(3), (10.0 + k) / 4, "float8 / 4");
            eq(rs.getString(4), "s" + k + "!", "text ||");
            eq(rs.getObject(5), null, "null::int4");
            eq(rs.getDate(6), Date.valueOf(LocalDate.of(2024, 2, 29)), "date + 1");
            if (k > 0) checkFormats(rs, new HashSet<>(Arrays.asList(1, 2, 3, 5, 6)), "execution " + k);
          }
        }
      }
      try (Connection c = connect("prepareThreshold=1");
           PreparedStatement ps = c.prepareStatement("select g, g * 1000000000000, g::numeric / 8 from generate_series(1, ?) as g")) {
        for (int k = 0; k < 3; k++) {
          ps.setInt(1, 500);
          try (ResultSet rs = ps.executeQuery()) {
            long n = 0;
            while (rs.next()) {
              n++;
              eq(rs.getInt(1), (int) n, "g");
              eq(rs.getLong(2), n * 1000000000000L, "g * 10^12");
              eq(rs.getBigDecimal(3).compareTo(BigDecimal.valueOf(n).divide(BigDecimal.valueOf(8))), 0, "g / 8 of " + n);
            }
            eq(n, 500L, "rows");
          }
        }
      }
    });

    test("numeric edge values and float specials, text and binary", () -> {
      String[] nums = {"0", "1", "-1", "0.1", "-0.000000000000000000001", "10000", "99990000", "100000000.00000001",
                       "123456789012345678901234567890.123456789012345678901234567890", "9999.9999", "0.00010000",
                       "-31415926535897932384626433832795028841971.693993751", "1.0000000000000000000000000000000000001",
                       "100000000000000000000000000000000000000000000000000"};
      for (String th : new String[] {"0", "1"}) {
        try (Connection c = connect("prepareThreshold=" + th);
             PreparedStatement ps = c.prepareStatement("select ?::numeric, ?::numeric * 1, ?::numeric::text")) {
          for (int k = 0; k < 3; k++) {
            for (String n : nums) {
              ps.setBigDecimal(1, new BigDecimal(n));
              ps.setString(2, n);
              ps.setString(3, n);
              try (ResultSet rs = ps.executeQuery()) {
                check(rs.next(), "no row");
                String w = "threshold " + th + " execution " + k + " " + n;
                eq(rs.getBigDecimal(1), new BigDecimal(n), w + " getBigDecimal");
                eq(rs.getBigDecimal(2), new BigDecimal(n), w + " (param as varchar) * 1");
                // pgJDBC prints a binary numeric with BigDecimal.toString().
                boolean bin = rs.getMetaData().unwrap(PGResultSetMetaData.class).getFormat(1) == 1;
                eq(rs.getString(1), bin ? new BigDecimal(n).toString() : n, w + " getString");
                eq(rs.getString(3), n, w + " ::text");
                if (k > 0 && th.equals("1")) checkFormats(rs, new HashSet<>(Arrays.asList(1, 2)), w);
              }
            }
          }
        }
        try (Connection c = connect("prepareThreshold=" + th);
             PreparedStatement ps = c.prepareStatement(
                 "select ?::float8, ?::float4, 'NaN'::float8, 'Infinity'::float4, '-Infinity'::float8, 'NaN'::numeric, -0.0::float8")) {
          for (int k = 0; k < 3; k++) {
            ps.setDouble(1, Double.NEGATIVE_INFINITY);
            ps.setFloat(2, Float.NaN);
            try (ResultSet rs = ps.executeQuery()) {
              check(rs.next(), "no row");
              String w = "threshold " + th + " execution " + k;
              eq(rs.getDouble(1), Double.NEGATIVE_INFINITY, w + " -Infinity parameter");
              check(Float.isNaN(rs.getFloat(2)), w + " NaN parameter: " + rs.getFloat(2));
              check(Double.isNaN(rs.getDouble(3)), w + " NaN::float8: " + rs.getDouble(3));
              eq(rs.getFloat(4), Float.POSITIVE_INFINITY, w + " Infinity::float4");
              eq(rs.getDouble(5), Double.NEGATIVE_INFINITY, w + " -Infinity::float8");
              check(Double.isNaN(rs.getDouble(6)), w + " NaN::numeric getDouble: " + rs.getDouble(6));
              eq(rs.getString(6), "NaN", w + " NaN::numeric getString");
              eq(Double.doubleToRawLongBits(rs.getDouble(7)), Double.doubleToRawLongBits(-0.0), w + " -0.0::float8");
            }
          }
        }
      }
    });

    test("setFetchSize in a transaction: rows in batches through a portal", () -> {
      try (Connection c = connect()) {
        c.setAutoCommit(false);
        try (PreparedStatement ps = c.prepareStatement("select g, 'row ' || g from generate_series(1, ?) as g")) {
          ps.setFetchSize(64);
          for (int k = 0; k < 7; k++) {
            ps.setInt(1, 1000);
            try (ResultSet rs = ps.executeQuery()) {
              int n = 0;
              while (rs.next()) {
                n++;
                eq(rs.getInt(1), n, "g");
                eq(rs.getString(2), "row " + n, "text");
              }
              eq(n, 1000, "rows (execution " + k + ")");
            }
          }
        }
        c.commit();
      }
    });

    // ---- batches ---------------------------------------------------------------
    test("batch inserts with addBatch/executeBatch", () -> {
      try (Connection c = connect()) {
        exec(c, "drop table if exists jt_batch");
        exec(c, "create table jt_batch (id int8 primary key, v text, n numeric)");
        try (PreparedStatement ps = c.prepareStatement("insert into jt_batch values (?, ?, ?)")) {
          for (int round = 0; round < 4; round++) {
            for (int i = 0; i < 250; i++) {
              long id = round * 1000L + i;
              ps.setLong(1, id);
              ps.setString(2, "v" + id);
              ps.setBigDecimal(3, BigDecimal.valueOf(id, 2));
              ps.addBatch();
            }
            int[] counts = ps.executeBatch();
            eq(counts.length, 250, "counts of round " + round);
            for (int x : counts) eq(x, 1, "update count in round " + round);
          }
        }
        eq(count(c, "jt_batch"), 1000L, "rows after 4 batches");
        try (Statement st = c.createStatement()) {
          st.addBatch("insert into jt_batch values (5000, 'a', 1)");
          st.addBatch("update jt_batch set v = 'changed' where id < 10");
          st.addBatch("delete from jt_batch where id >= 3000 and id < 3100");
          int[] counts = st.executeBatch();
          eq(Arrays.toString(counts), "[1, 10, 100]", "Statement batch counts");
        }
        eq(count(c, "jt_batch"), 901L, "rows after the statement batch");
        try (Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("select sum(id), sum(n), count(*) filter (where v = 'changed') from jt_batch")) {
          check(rs.next(), "no row");
          long sum = 5000;
          BigDecimal nsum = BigDecimal.ONE;
          for (int round = 0; round < 4; round++) {
            for (int i = 0; i < 250; i++) {
              long id = round * 1000L + i;
              if (id >= 3000 && id < 3100) continue;
              sum += id;
              nsum = nsum.add(BigDecimal.valueOf(id, 2));
            }
          }
          eq(rs.getLong(1), sum, "sum(id)");
          eq(rs.getBigDecimal(2).compareTo(nsum), 0, "sum(n) " + rs.getBigDecimal(2) + " vs " + nsum);
          eq(rs.getLong(3), 10L, "changed rows");
        }
      }
    });

    test("a batch with a duplicate key fails with 23505 and inserts nothing", () -> {
      try (Connection c = connect()) {
        long before = count(c, "jt_batch");
        try (PreparedStatement ps = c.prepareStatement("insert into jt_batch values (?, ?, ?)")) {
          for (long id : new long[] {7001, 7002, 1, 7003}) {
            ps.setLong(1, id);
            ps.setString(2, "dup");
            ps.setBigDecimal(3, BigDecimal.ONE);
            ps.addBatch();
          }
          try {
            ps.executeBatch();
            throw new AssertionError("the batch with a duplicate key succeeded");
          } catch (BatchUpdateException e) {
            eq(e.getSQLState(), "23505", "SQLSTATE (" + e.getMessage() + ")");
          }
        }
        eq(count(c, "jt_batch"), before, "rows after the failed batch");
        check(c.isValid(5), "connection usable after the failed batch");
      }
    });

    // ---- transactions ----------------------------------------------------------
    test("setAutoCommit(false): commit, rollback, savepoint", () -> {
      try (Connection c = connect(); Connection other = connect()) {
        exec(c, "drop table if exists jt_txn");
        exec(c, "create table jt_txn (id int4 primary key, v text)");
        c.setAutoCommit(false);
        try (PreparedStatement ps = c.prepareStatement("insert into jt_txn values (?, ?)")) {
          for (int i = 1; i <= 10; i++) {
            ps.setInt(1, i);
            ps.setString(2, "r" + i);
            ps.executeUpdate();
          }
          eq(count(c, "jt_txn"), 10L, "own uncommitted rows");
          eq(count(other, "jt_txn"), 0L, "another session sees uncommitted rows");
          c.rollback();
          eq(count(c, "jt_txn"), 0L, "rows after rollback");
          for (int i = 1; i <= 10; i++) {
            ps.setInt(1, i);
            ps.setString(2, "r" + i);
            ps.executeUpdate();
          }
          c.commit();
          eq(count(other, "jt_txn"), 10L, "another session after commit");
          ps.setInt(1, 11);
          ps.setString(2, "kept");
          ps.executeUpdate();
          Savepoint sp = c.setSavepoint("sp1");
          ps.setInt(1, 12);
          ps.setString(2, "undone");
          ps.executeUpdate();
          c.rollback(sp);
          ps.setInt(1, 13);
          ps.setString(2, "after savepoint");
          ps.executeUpdate();
          c.commit();
        }
        try (Statement st = other.createStatement(); ResultSet rs = st.executeQuery("select id from jt_txn where id > 10 order by id")) {
          List<Integer> ids = new ArrayList<>();
          while (rs.next()) ids.add(rs.getInt(1));
          eq(ids.toString(), "[11, 13]", "rows after the savepoint rollback");
        }
        c.setAutoCommit(true);
      }
    });

    test("an error aborts the transaction (25P02) until rollback", () -> {
      try (Connection c = connect()) {
        c.setAutoCommit(false);
        exec(c, "insert into jt_txn values (20, 'x')");
        expectError(c, "insert into jt_txn values (1, 'dup')", "23505");
        expectError(c, "select 1", "25P02");
        c.rollback();
        eq(count(c, "jt_txn"), 12L, "rows after rollback");
        c.setAutoCommit(true);
      }
    });

    // ---- errors ----------------------------------------------------------------
    test("SQLException carries the SQLSTATE", () -> {
      try (Connection c = connect()) {
        SQLException e = expectError(c, "insert into jt_txn values (1, 'dup')", "23505");
        check(e instanceof PSQLException, "not a PSQLException: " + e.getClass());
        PSQLException pe = (PSQLException) e;
        check(pe.getServerErrorMessage() != null, "no server error message");
        eq(pe.getServerErrorMessage().getSeverity(), "ERROR", "severity");
        check(pe.getServerErrorMessage().getMessage().startsWith("duplicate key value violates unique constraint"),
            "message: " + pe.getServerErrorMessage().getMessage());
        expectError(c, "select * from jt_no_such_table", "42P01");
        expectError(c, "select 1 / 0", "22012");
        expectError(c, "selec 1", "42601");
        expectError(c, "select no_such_column from jt_txn", "42703");
        // The same through a server-prepared statement with a bad parameter.
        try (PreparedStatement ps = c.prepareStatement("insert into jt_txn values (?, ?)")) {
          ps.unwrap(PGStatement.class).setPrepareThreshold(1);
          for (int k = 0; k < 3; k++) {
            ps.setInt(1, 1);
            ps.setString(2, "dup");
            try {
              ps.executeUpdate();
              throw new AssertionError("duplicate insert succeeded");
            } catch (SQLException x) {
              eq(x.getSQLState(), "23505", "prepared duplicate, execution " + k);
            }
          }
          ps.setString(1, "not a number");
          ps.setString(2, "x");
          try {
            ps.executeUpdate();
            throw new AssertionError("a text id was accepted");
          } catch (SQLException x) {
            // pgJDBC sends setString as varchar: a varchar parameter for an
            // int4 column is a datatype mismatch.
            eq(x.getSQLState(), "42804", "SQLSTATE of a varchar id (" + x.getMessage() + ")");
          }
        }
        check(c.isValid(5), "connection usable after the errors");
        eq(count(c, "jt_txn"), 12L, "rows after the errors");
      }
    });

    // ---- metadata --------------------------------------------------------------
    test("ResultSetMetaData of a query", () -> {
      try (Connection c = connect(); PreparedStatement ps = c.prepareStatement("select " + COLS + " from jt_types where id = ?")) {
        ps.setInt(1, 1);
        try (ResultSet rs = ps.executeQuery()) {
          ResultSetMetaData md = rs.getMetaData();
          eq(md.getColumnCount(), 14, "column count");
          String[] want = {"int4", "int2", "int4", "int8", "numeric", "float4", "float8", "text", "varchar",
                           "bool", "date", "timestamp", "timestamptz", "bytea"};
          int[] jdbc = {Types.INTEGER, Types.SMALLINT, Types.INTEGER, Types.BIGINT, Types.NUMERIC, Types.REAL,
                        Types.DOUBLE, Types.VARCHAR, Types.VARCHAR, Types.BIT, Types.DATE, Types.TIMESTAMP,
                        Types.TIMESTAMP, Types.BINARY};
          String[] cols = COLS.split(", ");
          for (int i = 1; i <= 14; i++) {
            eq(md.getColumnLabel(i), cols[i - 1], "label " + i);
            eq(md.getColumnTypeName(i), want[i - 1], "type name of " + cols[i - 1]);
            eq(md.getColumnType(i), jdbc[i - 1], "JDBC type of " + cols[i - 1]);
          }
        }
      }
    });

    test("DatabaseMetaData.getTables", () -> {
      try (Connection c = connect()) {
        DatabaseMetaData md = c.getMetaData();
        try (ResultSet rs = md.getTables(null, null, "jt_types", new String[] {"TABLE"})) {
          check(rs.next(), "getTables found no jt_types");
          eq(rs.getString("TABLE_NAME"), "jt_types", "TABLE_NAME");
          eq(rs.getString("TABLE_TYPE"), "TABLE", "TABLE_TYPE");
          check(!rs.next(), "getTables found two jt_types");
        }
        try (ResultSet rs = md.getTables(null, null, "jt_%", new String[] {"TABLE"})) {
          List<String> names = new ArrayList<>();
          while (rs.next()) names.add(rs.getString("TABLE_NAME"));
          eq(names.toString(), "[jt_batch, jt_txn, jt_types]", "getTables of jt_%");
        }
      }
    });

    test("clean up", () -> {
      try (Connection c = connect()) {
        exec(c, "drop table jt_types");
        exec(c, "drop table jt_batch");
        exec(c, "drop table jt_txn");
      }
    });

    int passed = 0, failed = 0;
    String only = args.length > 0 ? args[0] : null;
    for (int i = 0; i < names.size(); i++) {
      if (only != null && !names.get(i).contains(only)) continue;
      try {
        bodies.get(i).run();
        System.out.println("ok: " + names.get(i));
        passed++;
      } catch (Throwable t) {
        String why = t.getMessage() != null ? t.getMessage() : t.toString();
        if (t instanceof SQLException) why = "SQLSTATE " + ((SQLException) t).getSQLState() + ": " + why;
        if (!(t instanceof AssertionError)) why = t.getClass().getSimpleName() + ": " + why;
        System.out.println("FAIL: " + names.get(i) + ": " + why);
        if (!(t instanceof AssertionError)) {
          for (StackTraceElement el : t.getStackTrace()) {
            if (el.getClassName().startsWith("JdbcTest")) {
              System.out.println("  at " + el);
              break;
            }
          }
        }
        failed++;
      }
      System.out.flush();
    }
    System.out.println(passed + " passed, " + failed + " failed");
    System.exit(failed == 0 ? 0 : 1);
  }
}
