'use strict';
// tests/clients/node/test.js - node-postgres (pg), pg-cursor and
// pg-copy-streams against a server named by the PG* environment variables
// (PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE; tests/clients/lib.sh sets
// them).  The expected answers are PostgreSQL 15's.  Run with TZ=UTC.
//
// Each case prints "ok: NAME" or "FAIL: NAME: why"; the last line is
// "N passed, N failed" and the exit status is 1 when a case failed.

const assert = require('node:assert/strict');
const { pipeline } = require('node:stream/promises');
const { Readable, Writable } = require('node:stream');
const pg = require('pg');
const Cursor = require('pg-cursor');
const copyStreams = require('pg-copy-streams');

const cases = [];
function test(name, fn) { cases.push({ name, fn }); }

async function withClient(fn, config) {
  const c = new pg.Client(config);
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

// Runs q, which must fail with the SQLSTATE and message; returns the error.
async function expectError(c, q, values, code, message) {
  let err = null;
  try {
    await c.query(q, values);
  } catch (e) {
    err = e;
  }
  assert.ok(err, `${q}: no error, want ${code}`);
  assert.equal(err.code, code, `${q}: SQLSTATE (${err.message})`);
  assert.equal(err.message, message, `${q}: message`);
  assert.equal(err.severity, 'ERROR', `${q}: severity`);
  return err;
}

// ---- connecting ----------------------------------------------------------------

test('connect with SCRAM-SHA-256', async () => {
  const c = new pg.Client();
  let sawSasl = false;
  c.connection.on('authenticationSASL', (m) => {
    sawSasl = m.mechanisms.includes('SCRAM-SHA-256');
  });
  await c.connect();
  try {
    assert.ok(sawSasl, 'the server asked for SCRAM-SHA-256');
    assert.ok(c.processID > 0, 'BackendKeyData');
    const r = await c.query('select current_user as u, current_database() as d, version() as v');
    assert.equal(r.rows[0].u, process.env.PGUSER);
    assert.equal(r.rows[0].d, process.env.PGDATABASE);
    assert.match(r.rows[0].v, /^PostgreSQL 15/);
    const s = await c.query('show server_version');
    assert.match(s.rows[0].server_version, /^15\./);
  } finally {
    await c.end();
  }
});

test('wrong password is refused with 28P01', async () => {
  const c = new pg.Client({ password: 'wrong password' });
  let err = null;
  try {
    await c.connect();
  } catch (e) {
    err = e;
  }
  assert.ok(err, 'connected with a wrong password');
  assert.equal(err.code, '28P01');
  assert.equal(err.message, `password authentication failed for user "${process.env.PGUSER}"`);
});

// ---- parameters of every type --------------------------------------------------

// [name, SQL type, JS value, expected value read back]
const params = [
  ['null', 'text', null, null],
  ['boolean true', 'boolean', true, true],
  ['boolean false', 'boolean', false, false],
  ['integer', 'integer', -2147483648, -2147483648],
  ['smallint', 'smallint', 32767, 32767],
  ['bigint (string)', 'bigint', '9223372036854775807', '9223372036854775807'],
  ['bigint (BigInt)', 'bigint', 9007199254740993n, '9007199254740993'],
  ['double', 'double precision', 0.1, 0.1],
  ['double tiny', 'double precision', -1.5e-300, -1.5e-300],
  ['double Infinity', 'double precision', Infinity, Infinity],
  ['real', 'real', 0.5, 0.5],
  ['numeric', 'numeric', '12345678901234567890.000123', '12345678901234567890.000123'],
  ['numeric(10,2)', 'numeric(10,2)', 3.14159, '3.14'],
  ['text', 'text', 'plain', 'plain'],
  ['text quotes', 'text', `it's "q" \\ $1`, `it's "q" \\ $1`],
  ['text unicode', 'text', 'h\u00e9llo \u4e16\u754c \u{1F600}', 'h\u00e9llo \u4e16\u754c \u{1F600}'],
  ['text empty', 'text', '', ''],
  ['varchar', 'varchar(10)', 'abc', 'abc'],
  ['char', 'char(4)', 'ab', 'ab  '],
  ['bytea', 'bytea', Buffer.from([0, 1, 0xfe, 0xff, 0x27, 0x5c]), Buffer.from([0, 1, 0xfe, 0xff, 0x27, 0x5c])],
  ['date', 'date', '2024-02-29', new Date(Date.UTC(2024, 1, 29))],
  ['timestamp', 'timestamp', '2024-02-29 13:14:15.123', new Date(Date.UTC(2024, 1, 29, 13, 14, 15, 123))],
  ['timestamptz (Date)', 'timestamptz', new Date(Date.UTC(2024, 1, 29, 13, 14, 15, 123)),
    new Date(Date.UTC(2024, 1, 29, 13, 14, 15, 123))],
  // json, jsonb, uuid and arrays are not Datacave types yet (docs/sql.md).
];

for (const [name, type, value, want] of params) {
  test(`parameter ${name}`, () => withClient(async (c) => {
    const r = await c.query(`select $1::${type} as v`, [value]);
    assert.deepEqual(r.rows[0].v, want, `select $1::${type}`);
    await c.query('begin');
    try {
      await c.query(`create table p (k int primary key, v ${type})`);
      const ins = await c.query('insert into p values ($1, $2)', [1, value]);
      assert.equal(ins.rowCount, 1);
      assert.equal(ins.command, 'INSERT');
      // the type of $1 is inferred from the column
      const back = await c.query('select v from p where k = $1', [1]);
      assert.deepEqual(back.rows[0].v, want, 'stored and read back');
    } finally {
      await c.query('rollback');
    }
  }));
}

test('parameter types inferred without casts', () => withClient(async (c) => {
  const r = await c.query('select $1 || $2 as s, $3 + 1 as n, $4 = any(array[1, 2]) as b',
    ['ab', 'cd', 41, 2]);
  assert.deepEqual(r.rows[0], { s: 'abcd', n: 42, b: true });
  assert.deepEqual(r.fields.map((f) => f.dataTypeID), [25, 23, 16]);
}));

test('named prepared statements', () => withClient(async (c) => {
  const q = { name: 'square', text: 'select $1::int * $1::int as sq', values: [7] };
  assert.equal((await c.query(q)).rows[0].sq, 49);
  assert.equal((await c.query({ ...q, values: [12] })).rows[0].sq, 144);
  assert.equal((await c.query({ ...q, values: [-3] })).rows[0].sq, 9);
}));

test('result fields, row modes, several statements in one query', () => withClient(async (c) => {
  const r = await c.query({ text: "select 1::int2 as a, 'x'::text as b, 2.5::numeric as c, now() as d",
    rowMode: 'array' });
  assert.deepEqual(r.fields.map((f) => f.name), ['a', 'b', 'c', 'd']);
  assert.deepEqual(r.fields.map((f) => f.dataTypeID), [21, 25, 1700, 1184]);
  assert.deepEqual(r.rows[0].slice(0, 3), [1, 'x', '2.5']);
  assert.ok(r.rows[0][3] instanceof Date);
  const many = await c.query('create table m (a int); insert into m values (1), (2); select count(*) from m; drop table m');
  assert.deepEqual(many.map((x) => x.command), ['CREATE', 'INSERT', 'SELECT', 'DROP']);
  assert.equal(many[1].rowCount, 2);
  assert.equal(many[2].rows[0].count, '2');
  const big = await c.query("select repeat('x', 200000) as s");
  assert.equal(big.rows[0].s.length, 200000);
}));

test('a pool runs queries concurrently', async () => {
  const pool = new pg.Pool({ max: 4 });
  try {
    const rs = await Promise.all(Array.from({ length: 12 }, (_, i) => pool.query('select $1::int + 1 as n', [i])));
    assert.deepEqual(rs.map((r) => r.rows[0].n), Array.from({ length: 12 }, (_, i) => i + 1));
  } finally {
    await pool.end();
  }
});

// ---- transactions --------------------------------------------------------------

test('transactions: commit, rollback, savepoint, isolation', async () => {
  const a = new pg.Client();
  const b = new pg.Client();
  await a.connect();
  await b.connect();
  try {
    await a.query('create table tx (id int primary key, v text)');
    await a.query('begin');
    await a.query('insert into tx values ($1, $2)', [1, 'one']);
    assert.equal((await b.query('select count(*)::int as n from tx')).rows[0].n, 0, 'uncommitted row invisible');
    await a.query('rollback');
    assert.equal((await a.query('select count(*)::int as n from tx')).rows[0].n, 0, 'rolled back');
    await a.query('begin');
    await a.query('insert into tx values ($1, $2)', [2, 'two']);
    await a.query('savepoint s1');
    await a.query('insert into tx values ($1, $2)', [3, 'three']);
    await a.query('rollback to savepoint s1');
    await a.query('commit');
    assert.deepEqual((await b.query('select id from tx order by id')).rows, [{ id: 2 }], 'commit and savepoint');
    // an error inside a block: 25P02 until ROLLBACK, for the extended protocol too
    await a.query('begin');
    await expectError(a, 'insert into tx values ($1, $2)', [2, 'dup'], '23505',
      'duplicate key value violates unique constraint "tx_pkey"');
    await expectError(a, 'select $1::int as x', [1], '25P02',
      'current transaction is aborted, commands ignored until end of transaction block');
    await a.query('rollback');
    assert.equal((await a.query('select 1 as x')).rows[0].x, 1, 'usable after rollback');
    // repeatable read keeps its snapshot
    await a.query('begin isolation level repeatable read');
    assert.equal((await a.query('select count(*)::int as n from tx')).rows[0].n, 1);
    await b.query('insert into tx values (4, $1)', ['four']);
    assert.equal((await a.query('select count(*)::int as n from tx')).rows[0].n, 1, 'snapshot kept');
    await a.query('commit');
    assert.equal((await a.query('select count(*)::int as n from tx')).rows[0].n, 2, 'new snapshot');
  } finally {
    await a.query('rollback').catch(() => {});
    await a.query('drop table if exists tx');
    await a.end();
    await b.end();
  }
});

// ---- errors ----------------------------------------------------------------------

test('errors: SQLSTATE, message, position, detail, fields', () => withClient(async (c) => {
  await expectError(c, 'select 1/0', undefined, '22012', 'division by zero');
  await expectError(c, 'select $1::int / 0', [1], '22012', 'division by zero');
  let e = await expectError(c, 'select * from no_such_table', undefined, '42P01',
    'relation "no_such_table" does not exist');
  assert.equal(e.position, '15');
  e = await expectError(c, 'selec $1', [1], '42601', 'syntax error at or near "selec"');
  assert.equal(e.position, '1');
  await expectError(c, 'select $1::int', ['abc'], '22P02', 'invalid input syntax for type integer: "abc"');
  await expectError(c, 'select nosuchcol from (select 1) x', undefined, '42703', 'column "nosuchcol" does not exist');
  await c.query('create table e (id int primary key, v text not null)');
  try {
    await c.query('insert into e values (1, $1)', ['a']);
    e = await expectError(c, 'insert into e values (1, $1)', ['b'], '23505',
      'duplicate key value violates unique constraint "e_pkey"');
    assert.equal(e.detail, 'Key (id)=(1) already exists.');
    e = await expectError(c, 'insert into e values (2, $1)', [null], '23502',
      'null value in column "v" of relation "e" violates not-null constraint');
    assert.equal(e.detail, 'Failing row contains (2, null).');
    assert.equal((await c.query('select count(*)::int as n from e')).rows[0].n, 1, 'usable after errors');
  } finally {
    await c.query('drop table e');
  }
}));

test('notices arrive as events', () => withClient(async (c) => {
  const notices = [];
  c.on('notice', (n) => notices.push(n.message));
  await c.query('drop table if exists surely_not_there');
  assert.deepEqual(notices, ['table "surely_not_there" does not exist, skipping']);
}));

// ---- COPY ------------------------------------------------------------------------

test('COPY FROM STDIN and TO STDOUT (pg-copy-streams)', () => withClient(async (c) => {
  await c.query('create table cp (id int primary key, name text, amount numeric)');
  try {
    const into = c.query(copyStreams.from('copy cp from stdin'));
    await pipeline(Readable.from(['1\tone\t1.5\n2\t\\N\t-2\n', '3\ttab\\there\t0\n']), into);
    assert.equal(into.rowCount, 3, 'rows copied in (text)');
    const csv = c.query(copyStreams.from('copy cp from stdin with (format csv, header true)'));
    await pipeline(Readable.from(['id,name,amount\n4,"comma, quoted",10\n5,,\n']), csv);
    assert.equal(csv.rowCount, 2, 'rows copied in (csv)');
    const r = await c.query('select id, name, amount from cp order by id');
    assert.deepEqual(r.rows[2], { id: 3, name: 'tab\there', amount: '0' });
    assert.deepEqual(r.rows[4], { id: 5, name: null, amount: null });
    let text = '';
    const sink = new Writable({ write(chunk, _enc, cb) { text += chunk.toString(); cb(); } });
    await pipeline(c.query(copyStreams.to('copy (select id, name from cp order by id) to stdout with (format csv)')), sink);
    assert.equal(text, '1,one\n2,\n3,tab\there\n4,"comma, quoted"\n5,\n');
    const bad = c.query(copyStreams.from('copy cp from stdin'));
    let err = null;
    try {
      await pipeline(Readable.from(['9\tnine\tnot a number\n']), bad);
    } catch (e) {
      err = e;
    }
    assert.ok(err, 'a bad row was accepted');
    assert.equal(err.code, '22P02');
    assert.equal((await c.query('select count(*)::int as n from cp')).rows[0].n, 5, 'nothing of the bad COPY');
  } finally {
    await c.query('drop table cp');
  }
}));

// ---- cursors (Execute with a row limit) --------------------------------------------

test('pg-cursor reads in batches with a row limit', () => withClient(async (c) => {
  const cursor = c.query(new Cursor('select g, g * $1::int as t from generate_series(1, 95) g order by g', [2]));
  const sizes = [];
  let total = 0;
  let last = 0;
  for (;;) {
    const rows = await cursor.read(10);
    if (rows.length === 0) break;
    sizes.push(rows.length);
    for (const row of rows) {
      assert.equal(row.g, last + 1, 'rows in order, none lost or repeated');
      assert.equal(row.t, row.g * 2);
      last = row.g;
      total += row.t;
    }
  }
  await cursor.close();
  assert.deepEqual(sizes, [10, 10, 10, 10, 10, 10, 10, 10, 10, 5]);
  assert.equal(total, 95 * 96);
  // a cursor closed early, inside a transaction, then the session goes on
  await c.query('begin');
  const early = c.query(new Cursor('select g from generate_series(1, 1000) g'));
  assert.deepEqual((await early.read(3)).map((r) => r.g), [1, 2, 3]);
  assert.deepEqual((await early.read(2)).map((r) => r.g), [4, 5]);
  await early.close();
  await c.query('commit');
  assert.equal((await c.query('select 7 as x')).rows[0].x, 7, 'usable after closing a cursor early');
}));

// pg-cursor sends Execute and Flush without Sync: the ErrorResponse must
// arrive on the Flush, or the client waits forever.
test('pg-cursor: an error while reading arrives without a Sync', () => withClient(async (c) => {
  const failing = c.query(new Cursor('select 10 / (5 - g) as q from generate_series(1, 8) g'));
  let err = null;
  try {
    await failing.read(2);
    await failing.read(10);
  } catch (e) {
    err = e;
  }
  assert.ok(err, 'division by zero not raised');
  assert.equal(err.code, '22012');
  await failing.close().catch(() => {});
  assert.equal((await c.query('select 8 as x')).rows[0].x, 8, 'usable after a failing cursor');
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
        timer = setTimeout(() => reject(new Error('timed out after 30 s')), 30000);
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
