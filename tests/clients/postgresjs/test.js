'use strict';
// tests/clients/postgresjs/test.js - postgres.js (the npm package `postgres`,
// the version pinned in package.json and package-lock.json) against a
// server named by the PG* environment variables (PGHOST, PGPORT, PGUSER,
// PGPASSWORD, PGDATABASE; tests/clients/lib.sh sets them).  The expected
// answers are PostgreSQL 15's.  Run with TZ=UTC.
//
// postgres.js sends every query with parameters through the extended
// protocol: by default (prepare: true) as a named statement that it Parses
// once per connection and reuses, asking the server for the parameter
// types first (Parse + Describe), with prepare: false as an unnamed one.
// The client's socket is wrapped to count the messages it sends, so that
// the reuse is checked on the wire.
//
// Each case prints "ok: NAME" or "FAIL: NAME: why"; the last line is
// "N passed, N failed" and the exit status is 1 when a case failed.

const assert = require('node:assert/strict');
const net = require('node:net');
const { once } = require('node:events');
const postgres = require('postgres');

const cases = [];
function test(name, fn) { cases.push({ name, fn }); }

// The frontend messages written to a socket, decoded from the byte stream:
// [{ type, body }] (the start-up packet, which has no type byte, as '0').
function wireLog() {
  const log = [];
  let buf = Buffer.alloc(0);
  let started = false;
  log.feed = (chunk) => {
    buf = Buffer.concat([buf, Buffer.from(chunk)]);
    for (;;) {
      if (!started) {
        if (buf.length < 4) return;
        const len = buf.readInt32BE(0);
        if (buf.length < len) return;
        log.push({ type: '0', body: buf.subarray(4, len) });
        buf = buf.subarray(len);
        started = true;
        continue;
      }
      if (buf.length < 5) return;
      const len = buf.readInt32BE(1);
      if (buf.length < 1 + len) return;
      log.push({ type: String.fromCharCode(buf[0]), body: buf.subarray(5, 1 + len) });
      buf = buf.subarray(1 + len);
    }
  };
  // Parse messages: [{ name, query }].
  log.parses = () => log.filter((m) => m.type === 'P').map((m) => {
    const z = m.body.indexOf(0);
    const z2 = m.body.indexOf(0, z + 1);
    return { name: m.body.subarray(0, z).toString(), query: m.body.subarray(z + 1, z2).toString() };
  });
  // Bind messages: [{ portal, statement }].
  log.binds = () => log.filter((m) => m.type === 'B').map((m) => {
    const z = m.body.indexOf(0);
    const z2 = m.body.indexOf(0, z + 1);
    return { portal: m.body.subarray(0, z).toString(), statement: m.body.subarray(z + 1, z2).toString() };
  });
  return log;
}

// Options of a connection to the server under test; `log`, when given,
// records what the client sends.
function options(extra = {}, log = null) {
  const o = {
    host: process.env.PGHOST,
    port: Number(process.env.PGPORT),
    user: process.env.PGUSER,
    password: process.env.PGPASSWORD,
    database: process.env.PGDATABASE,
    ssl: false,
    max: 1,
    connect_timeout: 10,
    idle_timeout: 0,
    onnotice: () => {},
    ...extra,
  };
  if (log) {
    o.socket = async () => {
      const s = net.connect(o.port, o.host);
      await once(s, 'connect');
      const write = s.write.bind(s);
      s.write = (chunk, ...rest) => {
        log.feed(chunk);
        return write(chunk, ...rest);
      };
      return s;
    };
  }
  return o;
}

async function withSql(fn, extra = {}, log = null) {
  const sql = postgres(options(extra, log));
  try {
    return await fn(sql);
  } finally {
    await sql.end({ timeout: 5 });
  }
}

// Awaits the query promise q, which must fail with the SQLSTATE; returns
// the error.
async function expectError(q, code, what, severity = 'ERROR') {
  let err = null;
  try {
    await q;
  } catch (e) {
    err = e;
  }
  assert.ok(err, `${what}: no error, want ${code}`);
  assert.equal(err.code, code, `${what}: SQLSTATE (${err.message})`);
  assert.equal(err.name, 'PostgresError', `${what}: error class`);
  assert.equal(err.severity, severity, `${what}: severity`);
  return err;
}

// ---- the rows of the typed table --------------------------------------------

const allBytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
// Each row: the values written (JS values, as an application passes them)
// and the text PostgreSQL prints for each column (select col::text), which
// is how the stored values are checked exactly.
const ROWS = [
  { id: 1, i2: 1, i4: 42, i8: '1234567890123', n: '12345.678900', f4: 1.5, f8: 2.25, t: 'hello', vc: 'world',
    b: true, d: '2024-02-29', ts: '2024-02-29 13:45:56.123456', tstz: new Date(Date.UTC(2024, 1, 29, 13, 45, 56, 654)),
    by: Buffer.from([1, 2, 3, 0, 0xff]) },
  { id: 2, i2: -32768, i4: -2147483648, i8: '-9223372036854775808', n: '-999999999999999999999999.999999',
    f4: -3.25e10, f8: -1e-300, t: `it's a "quote" and a \\ backslash`, vc: '', b: false, d: '1900-03-04',
    ts: '1969-07-20 20:17:40.000001', tstz: new Date(Date.UTC(1999, 11, 31, 23, 59, 59, 999)), by: Buffer.alloc(0) },
  { id: 3, i2: 32767, i4: 2147483647, i8: 9223372036854775807n, n: '0.000001', f4: 0.5, f8: Math.PI,
    t: 'h\u00e9llo w\u00f6rld \u2713 \u65e5\u672c\u8a9e \u{1F600}', vc: '\u00fcn\u00efc\u00f6d\u00e9', b: true,
    d: '2000-01-01', ts: '2000-01-01 00:00:00', tstz: new Date(Date.UTC(2262, 3, 11, 23, 47, 16)), by: allBytes },
  { id: 4, i2: 0, i4: 0, i8: 0n, n: '0', f4: 0, f8: 0, t: 'line\n'.repeat(3000), vc: 'x', b: false,
    d: '1970-01-01', ts: '1970-01-01 00:00:00', tstz: new Date(0), by: Buffer.from('bytes \\x00 here') },
  { id: 5, i2: null, i4: null, i8: null, n: null, f4: null, f8: null, t: null, vc: null, b: null, d: null,
    ts: null, tstz: null, by: null },
];
const COLS = ['id', 'i2', 'i4', 'i8', 'n', 'f4', 'f8', 't', 'vc', 'b', 'd', 'ts', 'tstz', 'by'];

// What postgres.js returns for a column of a row: int2/int4/float4/float8
// as numbers, int8 and numeric as strings (BigInt with the bigint type),
// bool, date/timestamp/timestamptz as Date, bytea as Buffer, text as
// strings.
function expected(r, bigint) {
  const numericText = (x) => {
    // numeric(30,6) prints six decimals
    const [i, f = ''] = String(x).split('.');
    return `${i}.${(f + '000000').slice(0, 6)}`;
  };
  const ms = (s) => new Date(s.slice(0, 23).replace(' ', 'T') + 'Z');
  return {
    id: r.id,
    i2: r.i2,
    i4: r.i4,
    i8: r.i8 === null ? null : (bigint ? BigInt(r.i8) : String(r.i8)),
    n: r.n === null ? null : numericText(r.n),
    f4: r.f4,
    f8: r.f8,
    t: r.t,
    vc: r.vc,
    b: r.b,
    d: r.d === null ? null : new Date(r.d + 'T00:00:00Z'),
    ts: r.ts === null ? null : ms(r.ts),
    tstz: r.tstz,
    by: r.by,
  };
}

// The text of each column as the server prints it (for exact checks of
// what is stored: digits, fractions of seconds).  postgres.js sends a
// string for a timestamp parameter through a JS Date (the type the server
// reports for the parameter), so what is stored keeps milliseconds only.
function expectedText(r) {
  const e = expected(r, false);
  const iso = (d) => d.toISOString().replace('T', ' ').replace('Z', '').replace(/\.?0+$/, '');
  return {
    i8: e.i8,
    n: e.n,
    ts: r.ts === null ? null : iso(e.ts),
    tstz: r.tstz === null ? null : iso(r.tstz) + '+00',
    by: r.by === null ? null : '\\x' + r.by.toString('hex'),
  };
}

async function createTypes(sql, name = 'pj_types') {
  await sql.unsafe(`drop table if exists ${name}`);
  await sql.unsafe(`create table ${name} (id int4 primary key, i2 int2, i4 int4, i8 int8, n numeric(30,6),
    f4 float4, f8 float8, t text, vc varchar(20), b bool, d date, ts timestamp, tstz timestamptz, by bytea)`);
}

async function insertRows(sql, name = 'pj_types') {
  for (const r of ROWS) {
    const res = await sql`insert into ${sql(name)} (id, i2, i4, i8, n, f4, f8, t, vc, b, d, ts, tstz, by)
      values (${r.id}, ${r.i2}, ${r.i4}, ${r.i8}, ${r.n}, ${r.f4}, ${r.f8}, ${r.t}, ${r.vc}, ${r.b}, ${r.d},
              ${r.ts}, ${r.tstz}, ${r.by})`;
    assert.equal(res.count, 1, `insert ${r.id}: count`);
    assert.equal(res.command, 'INSERT', `insert ${r.id}: command`);
  }
}

async function checkRows(sql, name, bigint, how) {
  for (const r of ROWS) {
    const rows = await sql`select * from ${sql(name)} where id = ${r.id}`;
    assert.equal(rows.length, 1, `${how}: rows for id ${r.id}`);
    assert.deepEqual(Object.keys(rows[0]), COLS, `${how}: columns`);
    assert.deepEqual({ ...rows[0] }, expected(r, bigint), `${how}: row ${r.id}`);
    const [txt] = await sql`select i8::text as i8, n::text as n, ts::text as ts, tstz::text as tstz,
      by::text as by from ${sql(name)} where id = ${r.id}`;
    assert.deepEqual({ ...txt }, expectedText(r), `${how}: row ${r.id} as text`);
  }
}

// ---- connecting ----------------------------------------------------------------

test('connect with SCRAM-SHA-256', async () => {
  const log = wireLog();
  await withSql(async (sql) => {
    const [r] = await sql`select current_user as u, current_database() as d, version() as v`;
    assert.equal(r.u, process.env.PGUSER);
    assert.equal(r.d, process.env.PGDATABASE);
    assert.match(r.v, /^PostgreSQL 15/);
    const sasl = log.find((m) => m.type === 'p');
    assert.ok(sasl, 'no SASL message sent');
    assert.equal(sasl.body.subarray(0, sasl.body.indexOf(0)).toString(), 'SCRAM-SHA-256', 'mechanism');
    assert.match(sql.parameters.server_version, /^15\./, 'ParameterStatus server_version');
  }, {}, log);
});

test('wrong password is refused with 28P01', async () => {
  await withSql(async (sql) => {
    const err = await expectError(sql`select 1`, '28P01', 'connect', 'FATAL');
    assert.equal(err.message, `password authentication failed for user "${process.env.PGUSER}"`);
  }, { password: 'wrong password' });
});

// ---- types -------------------------------------------------------------------

test('insert every type with parameters and read it back (prepared)', () => withSql(async (sql) => {
  await createTypes(sql);
  await insertRows(sql);
  await checkRows(sql, 'pj_types', false, 'prepared');
}));

test('read every type back with BigInt for int8', () => withSql(async (sql) => {
  await checkRows(sql, 'pj_types', true, 'bigint');
}, { types: { bigint: postgres.BigInt } }));

test('prepare: false: insert and read back every type through unnamed statements', async () => {
  const log = wireLog();
  await withSql(async (sql) => {
    await createTypes(sql, 'pj_types_u');
    await insertRows(sql, 'pj_types_u');
    await checkRows(sql, 'pj_types_u', false, 'unnamed');
    await sql.unsafe('drop table pj_types_u');
  }, { prepare: false }, log);
  const parses = log.parses();
  assert.ok(parses.length >= ROWS.length * 3, `Parse messages: ${parses.length}`);
  assert.deepEqual(parses.filter((p) => p.name !== ''), [], 'named statements with prepare: false');
});

test('the same query many times: parsed once, bound every time', async () => {
  const log = wireLog();
  await withSql(async (sql) => {
    const names = new Set();
    for (let k = 0; k < 30; k++) {
      const r = ROWS[k % ROWS.length];
      const rows = await sql`select id, i8, n, f8, t, tstz, by from pj_types where id = ${r.id}`;
      const e = expected(r, false);
      assert.deepEqual({ ...rows[0] },
        { id: e.id, i8: e.i8, n: e.n, f8: e.f8, t: e.t, tstz: e.tstz, by: e.by }, `execution ${k}`);
      names.add(rows.statement.name);
    }
    assert.equal(names.size, 1, 'one statement for one query');
  }, {}, log);
  const mine = log.parses().filter((p) => p.query.includes('from pj_types where id'));
  assert.equal(mine.length, 1, 'Parse messages of the query');
  assert.notEqual(mine[0].name, '', 'the statement is named');
  assert.equal(log.binds().filter((b) => b.statement === mine[0].name).length, 30, 'Bind messages');
});

test('parameters of several types compared on the server', () => withSql(async (sql) => {
  for (let k = 0; k < 3; k++) {
    for (const r of ROWS.slice(0, 4)) {
      const rows = await sql`select id from pj_types where i2 = ${r.i2} and i8 = ${r.i8} and n = ${r.n}
        and f4 = ${r.f4} and f8 = ${r.f8} and t = ${r.t} and b = ${r.b} and d = ${r.d} and ts = ${r.ts}
        and tstz = ${r.tstz} and by = ${r.by}`;
      assert.deepEqual(rows.map((x) => x.id), [r.id], `row ${r.id} by its values (round ${k})`);
    }
  }
  const nulls = await sql`select id from pj_types where i4 is not distinct from ${null}`;
  assert.deepEqual(nulls.map((x) => x.id), [5], 'is not distinct from null');
}));

test('parameter types inferred from casts and expressions', () => withSql(async (sql) => {
  for (let k = 0; k < 3; k++) {
    const [r] = await sql`select ${41 + k}::int4 + 1 as a, ${'9000000000'}::int8 * 2 as b, ${'1.25'}::numeric + 1 as c,
      ${0.5}::float8 * 3 as d, ${'ab'}::text || ${'cd'} as e, ${true}::bool and ${false} as f,
      ${'2024-02-28'}::date + 1 as g, ${Buffer.from([1, 2])}::bytea as h, ${null}::int4 as i`;
    assert.deepEqual({ ...r }, {
      a: 42 + k, b: '18000000000', c: '2.25', d: 1.5, e: 'abcd', f: false,
      g: new Date(Date.UTC(2024, 1, 29)), h: Buffer.from([1, 2]), i: null,
    }, `round ${k}`);
  }
}));

test('multiple rows, columns and count', () => withSql(async (sql) => {
  const rows = await sql`select g as n, g * 2 as twice, 'r' || g as label from generate_series(1, ${2000}) as g`;
  assert.equal(rows.length, 2000);
  assert.equal(rows.count, 2000);
  assert.equal(rows.command, 'SELECT');
  assert.deepEqual(rows.columns.map((c) => c.name), ['n', 'twice', 'label']);
  assert.deepEqual(rows.columns.map((c) => c.type), [23, 23, 25]);
  rows.forEach((r, i) => assert.deepEqual({ ...r }, { n: i + 1, twice: 2 * (i + 1), label: `r${i + 1}` }));
  const all = await sql`select id from pj_types order by id desc`;
  assert.deepEqual(all.map((r) => r.id), ROWS.map((r) => r.id).reverse());
  const none = await sql`select id from pj_types where id < ${0}`;
  assert.equal(none.length, 0);
  assert.equal(none.count, 0);
}));

test('dynamic helpers: identifiers, insert of objects, in-list', () => withSql(async (sql) => {
  await sql`create table ${sql('pj_helpers')} (id int4 primary key, name text, score float8)`;
  const objs = [{ id: 1, name: 'a', score: 1.5 }, { id: 2, name: 'b', score: -2 }, { id: 3, name: null, score: null }];
  const ins = await sql`insert into pj_helpers ${sql(objs, 'id', 'name', 'score')}`;
  assert.equal(ins.count, 3);
  const rows = await sql`select * from pj_helpers where id in ${sql([1, 3])} order by id`;
  assert.deepEqual(rows.map((r) => ({ ...r })), [objs[0], objs[2]]);
  const upd = await sql`update pj_helpers set ${sql({ name: 'z', score: 9 }, 'name', 'score')} where id = ${2}
    returning id, name, score`;
  assert.deepEqual(upd.map((r) => ({ ...r })), [{ id: 2, name: 'z', score: 9 }]);
  await sql`drop table pj_helpers`;
}));

// ---- transactions ----------------------------------------------------------------

test('sql.begin commits', () => withSql(async (sql) => {
  await sql`create table pj_tx (id int4 primary key, v text)`;
  const out = await sql.begin(async (tx) => {
    await tx`insert into pj_tx values (${1}, ${'one'})`;
    await tx`insert into pj_tx values (${2}, ${'two'})`;
    const [{ n }] = await tx`select count(*)::int4 as n from pj_tx`;
    return n;
  });
  assert.equal(out, 2, 'value returned from the transaction');
  await withSql(async (other) => {
    assert.deepEqual((await other`select id, v from pj_tx order by id`).map((r) => ({ ...r })),
      [{ id: 1, v: 'one' }, { id: 2, v: 'two' }], 'committed rows seen by another connection');
  });
}, { max: 2 }));

test('sql.begin rolls back when the callback throws', () => withSql(async (sql) => {
  let err = null;
  try {
    await sql.begin(async (tx) => {
      await tx`insert into pj_tx values (${3}, ${'three'})`;
      const [{ n }] = await tx`select count(*)::int4 as n from pj_tx`;
      assert.equal(n, 3, 'own row inside the transaction');
      throw new Error('application error');
    });
  } catch (e) {
    err = e;
  }
  assert.ok(err && err.message === 'application error', `rethrown error: ${err}`);
  const [{ n }] = await sql`select count(*)::int4 as n from pj_tx`;
  assert.equal(n, 2, 'rows after the rollback');
}));

test('sql.begin rolls back on an SQL error', () => withSql(async (sql) => {
  const err = await expectError(sql.begin(async (tx) => {
    await tx`insert into pj_tx values (${4}, ${'four'})`;
    await tx`insert into pj_tx values (${1}, ${'dup'})`;
  }), '23505', 'duplicate in a transaction');
  assert.equal(err.message, 'duplicate key value violates unique constraint "pj_tx_pkey"');
  const [{ n }] = await sql`select count(*)::int4 as n from pj_tx`;
  assert.equal(n, 2, 'rows after the failed transaction');
}));

test('savepoints in sql.begin', () => withSql(async (sql) => {
  await sql.begin(async (tx) => {
    await tx`insert into pj_tx values (${5}, ${'five'})`;
    await tx.savepoint(async (sp) => {
      await sp`insert into pj_tx values (${6}, ${'six'})`;
    });
    await tx.savepoint(async (sp) => {
      await sp`insert into pj_tx values (${7}, ${'seven'})`;
      throw new Error('undo seven');
    }).catch((e) => assert.equal(e.message, 'undo seven'));
  });
  assert.deepEqual((await sql`select id from pj_tx order by id`).map((r) => r.id), [1, 2, 5, 6]);
  await sql`delete from pj_tx where id > ${2}`;
}));

// ---- errors --------------------------------------------------------------------

test('errors carry the SQLSTATE and fields', () => withSql(async (sql) => {
  for (let k = 0; k < 3; k++) {
    const e = await expectError(sql`insert into pj_tx values (${1}, ${'dup'})`, '23505', 'duplicate key');
    assert.equal(e.message, 'duplicate key value violates unique constraint "pj_tx_pkey"');
    assert.equal(e.detail, 'Key (id)=(1) already exists.');
  }
  await expectError(sql`select * from pj_no_such_table`, '42P01', 'undefined table');
  await expectError(sql`select ${1}::int4 / ${0}::int4`, '22012', 'division by zero');
  await expectError(sql`select ${'abc'}::int4`, '22P02', 'bad integer');
  await expectError(sql`select no_such_column from pj_tx`, '42703', 'undefined column');
  await expectError(sql.unsafe('selec 1'), '42601', 'syntax error');
  const [{ x }] = await sql`select ${7}::int4 as x`;
  assert.equal(x, 7, 'usable after the errors');
}));

// ---- sql.unsafe ----------------------------------------------------------------

test('sql.unsafe: simple query, parameters, several statements', () => withSql(async (sql) => {
  const a = await sql.unsafe("select 1::int4 as one, 'two'::text as two");
  assert.deepEqual({ ...a[0] }, { one: 1, two: 'two' });
  for (let k = 0; k < 3; k++) {
    const b = await sql.unsafe('select $1::int4 + $2::int4 as s, $3::text as t', [k, 10, 'p' + k]);
    assert.deepEqual({ ...b[0] }, { s: k + 10, t: 'p' + k });
  }
  const prep = await sql.unsafe('select id from pj_tx where id > $1 order by id', [1], { prepare: true });
  assert.deepEqual(prep.map((r) => r.id), [2]);
  const many = await sql.unsafe('create table pj_multi (a int4); insert into pj_multi values (1), (2); '
    + 'select count(*)::int4 as n from pj_multi; drop table pj_multi');
  // postgres.js starts a new result at each RowDescription and keeps the
  // last command tag of each: [CREATE TABLE + INSERT 0 2], [SELECT + DROP].
  assert.equal(many.length, 2, 'results of four statements');
  assert.deepEqual(many.map((r) => r.command), ['INSERT', 'DROP TABLE'], 'command tags');
  assert.equal(many[0].count, 2, 'rows inserted');
  assert.deepEqual(many[1].map((r) => ({ ...r })), [{ n: 2 }], 'rows of the select');
}));

test('clean up', () => withSql(async (sql) => {
  await sql`drop table pj_types`;
  await sql`drop table pj_tx`;
}));

async function main() {
  const only = process.argv.slice(2);
  let passed = 0;
  let failed = 0;
  for (const { name, fn } of cases) {
    if (only.length && !only.some((o) => name.includes(o))) continue;
    let timer;
    try {
      await Promise.race([fn(), new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error('timed out after 60 s')), 60000);
      })]);
      console.log(`ok: ${name}`);
      passed++;
    } catch (e) {
      console.log(`FAIL: ${name}: ${(e && e.message ? e.message : String(e)).replace(/\n/g, ' | ')}`);
      if (process.env.CLIENTS_VERBOSE) console.log(e);
      failed++;
    } finally {
      clearTimeout(timer);
    }
  }
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
}

main();
