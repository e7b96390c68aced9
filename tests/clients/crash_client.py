#!/usr/bin/python3
"""tests/clients/crash_client.py - the client side of
tests/scripts/test_server_crash.sh (psycopg2, Debian's python3-psycopg2),
connecting as the PG* environment variables say.

  crash_client.py setup --clients N
      creates the tables (once, on a new store): crash_a and crash_b (the
      rows of each transaction, keyed by (txid, k)) and crash_counter (one
      row per client: transactions and rows it committed, its last txid).

  crash_client.py run --client C --round R --seed S --acks FILE
      commits transactions until the connection is lost.  Transaction number
      q (1, 2, ...) of client C in round R has txid (R * 100 + C) * 10**6 + q
      and, in one transaction block, inserts na rows (k = 1..na, each holding
      na) into crash_a in one statement, nb rows into crash_b one statement
      each (na and nb random in 1..4 from the seed), and adds 1 and na + nb
      to the client's counter row.  Only once COMMIT has returned is the
      txid written to FILE (a line, flushed).  Exits 3 when the connection
      is lost (the expected end: the server was killed), 1 on any other
      error.

  crash_client.py verify --acks-dir DIR
      after a restart: every txid in DIR/ack.* files is present in full; no
      txid is present in part (crash_a rows k = 1..n each holding n, some
      crash_b rows likewise, the same n in all); each client's counter row
      equals the sums over its complete transactions; the txids of each
      (round, client) present are 1..m with no hole, where m is the last
      acknowledged one or the one after it (the one in flight at the kill);
      sum(abalance) of pgbench_accounts, sum(tbalance) of pgbench_tellers,
      sum(bbalance) of pgbench_branches and sum(delta) of pgbench_history
      are equal.  Prints every failure and a closing "ok: ..." line; exits 1
      on a failure.
"""

import argparse
import glob
import os
import random
import sys

import psycopg2

SEQ_SPAN = 10**6
LOST = 3


def connect():
    return psycopg2.connect("", connect_timeout=10)


def txid_of(rnd, client, seq):
    return (rnd * 100 + client) * SEQ_SPAN + seq


def split_txid(txid):
    group, seq = divmod(txid, SEQ_SPAN)
    return group // 100, group % 100, seq


def cmd_setup(args):
    conn = connect()
    cur = conn.cursor()
    cur.execute("create table crash_a (txid bigint not null, k int not null, "
                "n int not null, primary key (txid, k))")
    cur.execute("create table crash_b (txid bigint not null, k int not null, "
                "n int not null, primary key (txid, k))")
    cur.execute("create table crash_counter (client int primary key, "
                "txns bigint not null, nrows bigint not null, last_txid bigint)")
    for c in range(args.clients):
        cur.execute("insert into crash_counter values (%s, 0, 0, null)", (c,))
    conn.commit()
    conn.close()
    print("setup: tables and %d counter rows made" % args.clients)
    return 0


def connection_lost(exc, conn):
    # A lost connection has no SQLSTATE (libpq saw the socket close); a
    # server error always carries one.
    return exc.pgcode is None and (conn is None or conn.closed != 0)


def cmd_run(args):
    if not 0 <= args.client < 100 or args.round < 1:
        print("run: --client must be 0..99 and --round >= 1", file=sys.stderr)
        return 1
    rng = random.Random(args.seed)
    conn = None
    acks = open(args.acks, "a", buffering=1)
    seq = 0
    retries = 0
    try:
        conn = connect()
        cur = conn.cursor()
        while seq + 1 < SEQ_SPAN:
            seq += 1
            txid = txid_of(args.round, args.client, seq)
            na = rng.randint(1, 4)
            nb = rng.randint(1, 4)
            while True:
                try:
                    cur.execute("insert into crash_a values " +
                                ", ".join(["(%s, %s, %s)"] * na),
                                [v for k in range(1, na + 1) for v in (txid, k, na)])
                    for k in range(1, nb + 1):
                        cur.execute("insert into crash_b values (%s, %s, %s)", (txid, k, nb))
                    cur.execute("update crash_counter set txns = txns + 1, "
                                "nrows = nrows + %s, last_txid = %s where client = %s",
                                (na + nb, txid, args.client))
                    if cur.rowcount != 1:
                        print("run: client %d: counter update changed %d rows"
                              % (args.client, cur.rowcount), file=sys.stderr)
                        return 1
                    conn.commit()
                    break
                except psycopg2.Error as e:
                    # A serialization failure or deadlock rolled the
                    # transaction back: the same txid again (bounded).
                    if e.pgcode in ("40001", "40P01") and retries < 1000:
                        retries += 1
                        conn.rollback()
                        continue
                    raise
            acks.write("%d\n" % txid)
            acks.flush()
    except psycopg2.Error as e:
        if connection_lost(e, conn):
            print("run: client %d: connection lost after %d commits (%s)"
                  % (args.client, seq - 1, str(e).strip().splitlines()[0] if str(e).strip() else "no message"),
                  file=sys.stderr)
            return LOST
        print("run: client %d: error %s: %s" % (args.client, e.pgcode, str(e).strip()),
              file=sys.stderr)
        return 1
    finally:
        acks.close()
    return 0


def read_acks(acks_dir):
    acked = set()
    for path in sorted(glob.glob(os.path.join(acks_dir, "ack.*"))):
        with open(path) as f:
            for line in f:
                line = line.strip()
                if not line:
                    continue
                # A line is written whole and flushed after COMMIT; a client
                # killed while writing could leave a partial last line, but
                # the clients are never killed before they exit.
                acked.add(int(line))
    return acked


def cmd_verify(args):
    failures = []

    def fail(msg):
        failures.append(msg)
        if len(failures) <= 30:
            print("FAIL: " + msg)

    acked = read_acks(args.acks_dir)
    conn = connect()
    conn.set_session(readonly=True)
    cur = conn.cursor()

    tables = {}
    for t in ("crash_a", "crash_b"):
        cur.execute("select txid, count(*), min(k), max(k), min(n), max(n) "
                    "from %s group by txid" % t)
        tables[t] = {r[0]: r[1:] for r in cur.fetchall()}
    present = set(tables["crash_a"]) | set(tables["crash_b"])

    complete = {}
    for txid in sorted(present):
        sizes = []
        ok = True
        for t in ("crash_a", "crash_b"):
            got = tables[t].get(txid)
            if got is None:
                fail("txid %d: no rows in %s but rows in the other table (in part)" % (txid, t))
                ok = False
                continue
            cnt, mink, maxk, minn, maxn = got
            if not (minn == maxn and cnt == minn and mink == 1 and maxk == minn):
                fail("txid %d: %s holds %d rows, k %d..%d, n %d..%d (in part)"
                     % (txid, t, cnt, mink, maxk, minn, maxn))
                ok = False
            sizes.append(cnt)
        if ok:
            complete[txid] = sum(sizes)

    for txid in sorted(acked - present):
        fail("txid %d (round %d, client %d, #%d) was acknowledged but is missing"
             % ((txid,) + split_txid(txid)))

    # Per (round, client): txids 1..m without a hole; m is the last
    # acknowledged one or the next (in flight at the kill).
    groups = {}
    for txid in present:
        rnd, client, seq = split_txid(txid)
        groups.setdefault((rnd, client), []).append(seq)
    last_ack = {}
    for txid in acked:
        rnd, client, seq = split_txid(txid)
        last_ack[(rnd, client)] = max(last_ack.get((rnd, client), 0), seq)
    for key, seqs in sorted(groups.items()):
        seqs.sort()
        m = seqs[-1]
        if seqs != list(range(1, m + 1)):
            missing = sorted(set(range(1, m + 1)) - set(seqs))
            fail("round %d client %d: transactions up to #%d present but #%s missing"
                 % (key + (m, ",".join(map(str, missing[:10])))))
        la = last_ack.get(key, 0)
        if m > la + 1:
            fail("round %d client %d: #%d present but the last acknowledged is #%d "
                 "(a client runs one transaction at a time)" % (key + (m, la)))

    # Counter rows against the complete transactions.
    want = {}
    for txid, nrows in complete.items():
        _, client, _ = split_txid(txid)
        t, r, last = want.get(client, (0, 0, None))
        want[client] = (t + 1, r + nrows, txid if last is None or txid > last else last)
    cur.execute("select client, txns, nrows, last_txid from crash_counter order by client")
    counters = cur.fetchall()
    seen = set()
    for client, txns, nrows, last in counters:
        seen.add(client)
        w = want.get(client, (0, 0, None))
        if (txns, nrows, last) != w:
            fail("client %d: counter row says %d transactions, %d rows, last txid %s; "
                 "the complete transactions present are %d, %d rows, last %s"
                 % (client, txns, nrows, last, w[0], w[1], w[2]))
    for client in sorted(set(want) - seen):
        fail("client %d: transactions present but no counter row" % client)

    cur.execute("select (select sum(abalance) from pgbench_accounts), "
                "(select sum(tbalance) from pgbench_tellers), "
                "(select sum(bbalance) from pgbench_branches), "
                "(select coalesce(sum(delta), 0) from pgbench_history), "
                "(select count(*) from pgbench_history), "
                "(select count(*) from pgbench_accounts)")
    sa, st, sb, sh, nh, na = cur.fetchone()
    if not (sa == st == sb == sh):
        fail("pgbench sums disagree: accounts %s, tellers %s, branches %s, history %s "
             "(%d history rows)" % (sa, st, sb, sh, nh))
    if na != args.accounts:
        fail("pgbench_accounts holds %d rows, not %d" % (na, args.accounts))
    conn.close()

    if failures:
        print("verify: %d failures" % len(failures))
        return 1
    print("ok: %d transactions present (%d acknowledged), %d pgbench history rows, "
          "balance sums %s" % (len(present), len(acked), nh, sa))
    return 0


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("setup")
    s.add_argument("--clients", type=int, required=True)
    r = sub.add_parser("run")
    r.add_argument("--client", type=int, required=True)
    r.add_argument("--round", type=int, required=True)
    r.add_argument("--seed", type=int, required=True)
    r.add_argument("--acks", required=True)
    v = sub.add_parser("verify")
    v.add_argument("--acks-dir", required=True)
    v.add_argument("--accounts", type=int, default=100000)
    args = p.parse_args()
    return {"setup": cmd_setup, "run": cmd_run, "verify": cmd_verify}[args.cmd](args)


if __name__ == "__main__":
    sys.exit(main())
