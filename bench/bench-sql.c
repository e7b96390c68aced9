/*
 * bench-sql.c - the sql module in-process against PostgreSQL 15, same
 * statements, same data, same run (`make bench-sql`, bench/sql.sh).
 *
 * Datacave runs in this process (the host's loader, the sql module over
 * the storage module of the config given).  PostgreSQL runs its side of
 * each loop inside the server too -- in a DO block, or a single statement
 * -- so neither side pays a client round trip per operation:
 *   point select   prepared SELECT by primary key, N_POINT random keys
 *                  (Datacave: prepare once, bind + execute per key;
 *                   PostgreSQL: PL/pgSQL loop of the same SELECT, which
 *                   PL/pgSQL prepares once)
 *   insert 1       N_INS single-row INSERTs in one transaction
 *   insert 100     N_INS rows as INSERTs of 100 rows each, one transaction
 *   scan agg       count, sum, avg over N_SCAN rows (full scan)
 *   range scan     N_RANGE primary-key range scans of 100 rows each
 *   join           equi-join of N_JOIN x N_JOIN rows, count(*)
 * Times are wall-clock; each workload runs twice and the faster run is
 * kept.  The table prints per-operation rates (or seconds) and the
 * Datacave/PostgreSQL speed ratio (> 1: Datacave is faster).
 *
 * Usage: datacave-bench-sql --config FILE [--pg CONNINFO] [--scale F]
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>

#include "config.h"
#include "datacave/sql.h"
#include "loader.h"
#include "log.h"

static const dc_sql_vtable *VT;
static void *INST;
static dc_sql_session *S;
static PGconn *PG;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *fmt, const char *a, const char *b)
{
    fprintf(stderr, "bench-sql: ");
    fprintf(stderr, fmt, a, b);
    fputc('\n', stderr);
    exit(1);
}

/* ---- Datacave ------------------------------------------------------------ */

static int count_row(void *ud, const dc_row *row)
{
    (void)row;
    (*(uint64_t *)ud)++;
    return 0;
}

static uint64_t dc_exec(const char *sql)
{
    uint64_t rows = 0;
    dc_sql_sink sink = {.size = sizeof sink, .ud = &rows, .row = count_row};
    dc_error err;
    dc_error_init(&err);
    if (VT->exec(S, sql, strlen(sql), &sink, &err) != 0)
        die("datacave: %s: %s", sql, err.message);
    return rows;
}

static void dc_open(const char *cfgpath, dc_runtime **rt_out, dc_config **cfg_out)
{
    dc_strlist errors = {0};
    dc_config *cfg = dc_config_load(cfgpath, &errors);
    if (!cfg)
        die("config %s: %s", cfgpath, errors.len ? errors.items[0] : "?");
    dc_runtime *rt = dc_runtime_new(cfg);
    dc_log_set_level(DC_LOG_WARN);
    uint32_t mask = (1u << DC_KIND_SQL) | (1u << DC_KIND_STORAGE) |
                    (1u << DC_KIND_ENCRYPTION);
    if (dc_runtime_load(rt, mask, &errors) != 0 ||
        dc_runtime_resolve(rt, false, &errors) != 0)
        die("load: %s%s", errors.len ? errors.items[0] : "?", "");
    dc_strlist_free(&errors);
    dc_error err;
    dc_error_init(&err);
    if (dc_runtime_init(rt, &err) != 0)
        die("init: %s%s", err.message, "");
    dc_module *m = dc_runtime_module(rt, DC_KIND_SQL);
    VT = m->desc->vtable;
    INST = m->instance;
    dc_sql_session_options o = {.size = sizeof o, .user = "bench",
                                .database = "default", .can_read = true,
                                .can_write = true, .is_admin = true};
    if (VT->session_open(INST, &o, &S, &err) != 0)
        die("session: %s%s", err.message, "");
    *rt_out = rt;
    *cfg_out = cfg;
}

/* ---- PostgreSQL ----------------------------------------------------------- */

static void pg_exec(const char *sql)
{
    if (!PG)
        return;
    PGresult *r = PQexec(PG, sql);
    ExecStatusType st = PQresultStatus(r);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
        die("postgresql: %s: %s", sql, PQresultErrorMessage(r));
    PQclear(r);
}

/* ---- workloads -------------------------------------------------------------- */

static long N_POINT = 100000, N_INS = 50000, N_SCAN = 1000000,
            N_RANGE = 2000, N_JOIN = 100000;

typedef struct result {
    const char *name;
    const char *unit;       /* "ops/s" or "s" */
    double dc, pg;          /* ops/s, or seconds */
} result;

static uint64_t rng = 88172645463325252ull;
static uint64_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static void setup_data(void)
{
    char sql[512];
    const char *ddl[] = {
        "DROP TABLE IF EXISTS kv, ins, j1, j2",
        "CREATE TABLE kv (id int PRIMARY KEY, v int, pad text)",
        "CREATE TABLE ins (id int PRIMARY KEY, v int)",
        "CREATE TABLE j1 (id int PRIMARY KEY, x int)",
        "CREATE TABLE j2 (id int PRIMARY KEY, y int)",
    };
    for (size_t i = 0; i < sizeof ddl / sizeof ddl[0]; i++) {
        dc_exec(ddl[i]);
        pg_exec(ddl[i]);
    }
    snprintf(sql, sizeof sql,
             "INSERT INTO kv SELECT i, i %% 1000, 'pad-' || i FROM "
             "generate_series(1, %ld) i", N_SCAN);
    double t0 = now_s();
    dc_exec(sql);
    double t1 = now_s();
    pg_exec(sql);
    double t2 = now_s();
    printf("load %ld rows: datacave %.2f s, postgresql %.2f s\n", N_SCAN,
           t1 - t0, PG ? t2 - t1 : 0.0);
    snprintf(sql, sizeof sql,
             "INSERT INTO j1 SELECT i, (i * 7) %% %ld FROM generate_series(1, %ld) i",
             N_JOIN, N_JOIN);
    dc_exec(sql);
    pg_exec(sql);
    snprintf(sql, sizeof sql,
             "INSERT INTO j2 SELECT i, i - 1 FROM generate_series(1, %ld) i", N_JOIN);
    dc_exec(sql);
    pg_exec(sql);
    pg_exec("VACUUM ANALYZE");
}

static double best(double a, double b) { return a < b ? a : b; }

static void bench_point(result *r)
{
    const char *sql = "SELECT v FROM kv WHERE id = $1";
    dc_sql_stmt *st;
    dc_error err;
    dc_error_init(&err);
    if (VT->prepare(S, sql, strlen(sql), NULL, 0, &st, &err) != 0)
        die("prepare: %s%s", err.message, "");
    double bestt = 1e9;
    for (int run = 0; run < 2; run++) {
        double t0 = now_s();
        uint64_t rows = 0;
        dc_sql_sink sink = {.size = sizeof sink, .ud = &rows, .row = count_row};
        for (long i = 0; i < N_POINT; i++) {
            dc_value p = {.type = DC_TYPE_INT4, .typmod = -1,
                          .u.i = (int64_t)(rnd() % (uint64_t)N_SCAN) + 1};
            dc_sql_portal *po;
            bool susp;
            if (VT->portal_open(st, &p, 1, &po, &err) != 0 ||
                VT->portal_fetch(po, 0, &sink, &susp, &err) != 0)
                die("point: %s%s", err.message, "");
            VT->portal_close(po);
        }
        if (rows != (uint64_t)N_POINT)
            die("point select found %s of %s rows", "fewer", "all");
        bestt = best(bestt, now_s() - t0);
    }
    VT->stmt_close(st);
    r->dc = (double)N_POINT / bestt;
    if (PG) {
        char q[512];
        snprintf(q, sizeof q,
                 "DO $$ DECLARE x int; BEGIN FOR i IN 1..%ld LOOP "
                 "SELECT v INTO x FROM kv WHERE id = 1 + (i * 7919) %% %ld; "
                 "END LOOP; END $$", N_POINT, N_SCAN);
        double pt = 1e9;
        for (int run = 0; run < 2; run++) {
            double t0 = now_s();
            pg_exec(q);
            pt = best(pt, now_s() - t0);
        }
        r->pg = (double)N_POINT / pt;
    }
}

static void bench_insert(result *r, int per_stmt)
{
    double bestt = 1e9, pt = 1e9;
    size_t cap = (size_t)per_stmt * 32 + 64;
    char *sql = malloc(cap);
    if (!sql)
        die("out of memory%s%s", "", "");
    for (int run = 0; run < 2; run++) {
        dc_exec("TRUNCATE ins");
        double t0 = now_s();
        dc_exec("BEGIN");
        for (long i = 0; i < N_INS; i += per_stmt) {
            size_t o = (size_t)snprintf(sql, cap, "INSERT INTO ins VALUES ");
            for (int k = 0; k < per_stmt; k++)
                o += (size_t)snprintf(sql + o, cap - o, "%s(%ld, %ld)",
                                      k ? ", " : "", i + k, (i + k) * 3);
            dc_exec(sql);
        }
        dc_exec("COMMIT");
        bestt = best(bestt, now_s() - t0);
        if (PG) {
            pg_exec("TRUNCATE ins");
            char q[1024];
            if (per_stmt == 1)
                snprintf(q, sizeof q,
                         "DO $$ BEGIN FOR i IN 0..%ld LOOP "
                         "INSERT INTO ins VALUES (i, i * 3); END LOOP; END $$",
                         N_INS - 1);
            else
                snprintf(q, sizeof q,
                         "DO $$ BEGIN FOR i IN 0..%ld BY 100 LOOP "
                         "EXECUTE 'INSERT INTO ins SELECT g, g * 3 FROM "
                         "(VALUES ' || (SELECT string_agg('(' || (i + k) || ')', ',') "
                         "FROM generate_series(0, 99) k) || ') v(g)'; END LOOP; END $$",
                         N_INS - 1);
            double t1 = now_s();
            pg_exec(q);
            pt = best(pt, now_s() - t1);
        }
    }
    free(sql);
    r->dc = (double)N_INS / bestt;
    if (PG)
        r->pg = (double)N_INS / pt;
}

static void bench_query(result *r, const char *dc_sql, const char *pg_sql,
                        int reps)
{
    double bestt = 1e9, pt = 1e9;
    for (int run = 0; run < 2; run++) {
        double t0 = now_s();
        for (int i = 0; i < reps; i++)
            dc_exec(dc_sql);
        bestt = best(bestt, now_s() - t0);
        if (PG) {
            double t1 = now_s();
            pg_exec(pg_sql);
            pt = best(pt, now_s() - t1);
        }
    }
    r->dc = bestt;
    r->pg = PG ? pt : 0;
}

int main(int argc, char **argv)
{
    const char *cfg = NULL, *conninfo = NULL;
    double scale = 1.0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
            cfg = argv[++i];
        else if (strcmp(argv[i], "--pg") == 0 && i + 1 < argc)
            conninfo = argv[++i];
        else if (strcmp(argv[i], "--scale") == 0 && i + 1 < argc)
            scale = atof(argv[++i]);
        else {
            fprintf(stderr, "usage: datacave-bench-sql --config FILE "
                            "[--pg CONNINFO] [--scale F]\n");
            return 2;
        }
    }
    if (!cfg) {
        fprintf(stderr, "datacave-bench-sql: --config is required\n");
        return 2;
    }
    if (scale > 0 && scale != 1.0) {
        N_POINT = (long)(N_POINT * scale);
        N_INS = (long)(N_INS * scale) / 100 * 100;
        N_SCAN = (long)(N_SCAN * scale);
        N_RANGE = (long)(N_RANGE * scale);
        N_JOIN = (long)(N_JOIN * scale);
        if (N_INS < 100)
            N_INS = 100;
    }
    if (conninfo) {
        PG = PQconnectdb(conninfo);
        if (PQstatus(PG) != CONNECTION_OK)
            die("postgresql: %s%s", PQerrorMessage(PG), "");
    }
    dc_runtime *rt;
    dc_config *c;
    dc_open(cfg, &rt, &c);
    setup_data();

    result res[6] = {
        {"point select (pk)", "ops/s", 0, 0},
        {"insert, 1 row/stmt", "rows/s", 0, 0},
        {"insert, 100 rows/stmt", "rows/s", 0, 0},
        {"full scan + aggregate", "s", 0, 0},
        {"pk range scan, 100 rows", "s", 0, 0},
        {"equi-join", "s", 0, 0},
    };
    bench_point(&res[0]);
    bench_insert(&res[1], 1);
    bench_insert(&res[2], 100);
    bench_query(&res[3], "SELECT count(*), sum(v), avg(v) FROM kv",
                "SELECT count(*), sum(v), avg(v) FROM kv", 1);
    {
        /* N_RANGE scans of 100 rows at spread-out starts. */
        char dq[256], pq[512];
        snprintf(dq, sizeof dq, "SELECT sum(v) FROM kv WHERE id BETWEEN 5000 AND 5099");
        snprintf(pq, sizeof pq,
                 "DO $$ DECLARE x bigint; BEGIN FOR i IN 1..%ld LOOP "
                 "SELECT sum(v) INTO x FROM kv WHERE id BETWEEN 5000 AND 5099; "
                 "END LOOP; END $$", N_RANGE);
        bench_query(&res[4], dq, pq, (int)N_RANGE);
    }
    bench_query(&res[5], "SELECT count(*) FROM j1 JOIN j2 ON j1.x = j2.y",
                "SELECT count(*) FROM j1 JOIN j2 ON j1.x = j2.y", 1);

    printf("\n%-26s %14s %14s %8s\n", "workload", "datacave", "postgresql",
           "ratio");
    for (int i = 0; i < 6; i++) {
        double ratio = 0;
        if (res[i].pg > 0)
            ratio = strcmp(res[i].unit, "s") == 0 ? res[i].pg / res[i].dc
                                                  : res[i].dc / res[i].pg;
        char a[32], b[32];
        if (strcmp(res[i].unit, "s") == 0) {
            snprintf(a, sizeof a, "%.3f s", res[i].dc);
            snprintf(b, sizeof b, "%.3f s", res[i].pg);
        } else {
            snprintf(a, sizeof a, "%.0f/s", res[i].dc);
            snprintf(b, sizeof b, "%.0f/s", res[i].pg);
        }
        printf("%-26s %14s %14s %7.2fx\n", res[i].name, a, PG ? b : "-",
               ratio);
    }
    printf("(rows: point %ld, insert %ld, scan %ld, range scans %ld, "
           "join %ld x %ld; ratio > 1: Datacave faster)\n",
           N_POINT, N_INS, N_SCAN, N_RANGE, N_JOIN, N_JOIN);
    VT->session_close(S);
    dc_runtime_shutdown(rt);
    dc_runtime_free(rt);
    dc_config_free(c);
    if (PG)
        PQfinish(PG);
    return 0;
}
