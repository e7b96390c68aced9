/*
 * sql_crash.c - the SQL half of the crash test (tests/scripts/
 * test_sql_crash.sh): transactions through the sql module, in-process over
 * a durable storage module, killed with SIGKILL at random moments.
 *
 *   sql_crash child --config CFG --seed N
 *       Two sessions in two threads loop over transfer transactions:
 *         BEGIN;
 *         UPDATE acct SET bal = bal + d WHERE id = a;
 *         UPDATE acct SET bal = bal - d WHERE id = b;
 *         INSERT INTO xfer VALUES (id, a, b, d);
 *         COMMIT;
 *       and print "ack <id>" (flushed) after each COMMIT returns.  A
 *       deadlock (40P01) or serialization error rolls back and retries.
 *   sql_crash verify --config CFG --acks FILE
 *       Checks, after any number of crashes: every acknowledged transfer
 *       is in xfer; every account's balance equals what the transfers in
 *       xfer add up to (so no transaction is there in part); the balances
 *       sum to zero.  Exit 0 when all hold, 1 with a message otherwise.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "datacave/sql.h"
#include "loader.h"
#include "log.h"

#define NACCT 50

static const dc_sql_vtable *VT;
static void *INST;
static pthread_mutex_t out_mu = PTHREAD_MUTEX_INITIALIZER;

static void usage(void)
{
    fprintf(stderr, "usage: sql_crash child --config CFG --seed N\n"
                    "       sql_crash verify --config CFG --acks FILE\n");
    exit(2);
}

static dc_runtime *open_rt(const char *cfgpath, dc_config **cfg_out)
{
    dc_strlist errors = {0};
    dc_config *cfg = dc_config_load(cfgpath, &errors);
    if (!cfg) {
        fprintf(stderr, "sql_crash: %s\n", errors.len ? errors.items[0] : cfgpath);
        exit(1);
    }
    dc_runtime *rt = dc_runtime_new(cfg);
    dc_log_set_level(DC_LOG_WARN);
    uint32_t mask = (1u << DC_KIND_SQL) | (1u << DC_KIND_STORAGE) |
                    (1u << DC_KIND_ENCRYPTION);
    if (dc_runtime_load(rt, mask, &errors) != 0 ||
        dc_runtime_resolve(rt, false, &errors) != 0) {
        fprintf(stderr, "sql_crash: %s\n", errors.len ? errors.items[0] : "load");
        exit(1);
    }
    dc_strlist_free(&errors);
    dc_error err;
    dc_error_init(&err);
    if (dc_runtime_init(rt, &err) != 0) {
        fprintf(stderr, "sql_crash: init: %s\n", err.message);
        exit(1);
    }
    dc_module *m = dc_runtime_module(rt, DC_KIND_SQL);
    VT = m->desc->vtable;
    INST = m->instance;
    *cfg_out = cfg;
    return rt;
}

static dc_sql_session *session(void)
{
    dc_sql_session_options o = {.size = sizeof o, .user = "crash",
                                .database = "default", .can_read = true,
                                .can_write = true, .is_admin = true};
    dc_sql_session *s;
    dc_error err;
    dc_error_init(&err);
    if (VT->session_open(INST, &o, &s, &err) != 0) {
        fprintf(stderr, "sql_crash: session: %s\n", err.message);
        exit(1);
    }
    return s;
}

/* Rows of a query as int64 values, at most cap values (row-major). */
typedef struct rows {
    int64_t *v;
    size_t n, cap;
} rows;

static int collect(void *ud, const dc_row *row)
{
    rows *r = ud;
    for (uint32_t i = 0; i < row->ncols; i++) {
        if (r->n == r->cap) {
            size_t nc = r->cap ? r->cap * 2 : 256;
            int64_t *nv = realloc(r->v, nc * sizeof *nv);
            if (!nv)
                return DC_ENOMEM;
            r->v = nv;
            r->cap = nc;
        }
        const dc_value *v = &row->values[i];
        r->v[r->n++] = v->is_null ? INT64_MIN : v->u.i;
    }
    return 0;
}

static int exec(dc_sql_session *s, const char *sql, rows *out, dc_error *err)
{
    dc_sql_sink sink = {.size = sizeof sink, .ud = out, .row = collect};
    dc_error_init(err);
    return VT->exec(s, sql, strlen(sql), &sink, err);
}

static void must(dc_sql_session *s, const char *sql, rows *out)
{
    dc_error err;
    if (exec(s, sql, out, &err) != 0) {
        fprintf(stderr, "sql_crash: %s: %s %s\n", sql, err.sqlstate, err.message);
        exit(1);
    }
}

static void schema(dc_sql_session *s)
{
    rows r = {0};
    must(s, "CREATE TABLE IF NOT EXISTS acct (id int PRIMARY KEY, "
            "bal bigint NOT NULL)", NULL);
    must(s, "CREATE TABLE IF NOT EXISTS xfer (id bigint PRIMARY KEY, "
            "a int, b int, d int)", NULL);
    must(s, "SELECT count(*) FROM acct", &r);
    if (r.n == 1 && r.v[0] == 0) {
        char sql[128];
        snprintf(sql, sizeof sql, "INSERT INTO acct SELECT i, 0 FROM "
                                  "generate_series(1, %d) i", NACCT);
        must(s, sql, NULL);
    }
    free(r.v);
}

typedef struct worker {
    int id;
    uint64_t seed;
} worker;

static void *child_thread(void *arg)
{
    worker *w = arg;
    dc_sql_session *s = session();
    uint64_t x = w->seed * 2654435761u + (uint64_t)w->id + 1;
    for (uint64_t n = 0;; n++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        int a = (int)(x % NACCT) + 1, b = (int)((x >> 20) % NACCT) + 1;
        int d = (int)((x >> 40) % 1000) + 1;
        /* Unique across rounds: seeds differ per round. */
        long long id = (long long)((w->seed % 1000000) * 100000000ull +
                                   (uint64_t)w->id * 10000000ull + n);
        char sql[512];
        snprintf(sql, sizeof sql,
                 "BEGIN; UPDATE acct SET bal = bal + %d WHERE id = %d; "
                 "UPDATE acct SET bal = bal - %d WHERE id = %d; "
                 "INSERT INTO xfer VALUES (%lld, %d, %d, %d)",
                 d, a, d, b, id, a, b, d);
        dc_error err;
        if (exec(s, sql, NULL, &err) != 0) {
            if (strcmp(err.sqlstate, "40P01") && strcmp(err.sqlstate, "40001")) {
                fprintf(stderr, "sql_crash: %s %s\n", err.sqlstate, err.message);
                exit(1);
            }
            exec(s, "ROLLBACK", NULL, &err);
            continue;
        }
        if (exec(s, "COMMIT", NULL, &err) != 0) {
            fprintf(stderr, "sql_crash: COMMIT: %s %s\n", err.sqlstate, err.message);
            exit(1);
        }
        pthread_mutex_lock(&out_mu);
        printf("ack %lld\n", id);
        fflush(stdout);
        pthread_mutex_unlock(&out_mu);
    }
    return NULL;
}

static int child(const char *cfg, uint64_t seed)
{
    dc_config *c;
    open_rt(cfg, &c);
    dc_sql_session *s = session();
    schema(s);
    VT->session_close(s);
    printf("ready\n");
    fflush(stdout);
    pthread_t th[2];
    worker w[2] = {{0, seed}, {1, seed}};
    for (int i = 0; i < 2; i++)
        pthread_create(&th[i], NULL, child_thread, &w[i]);
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    return 0;
}

static int cmp64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static int verify(const char *cfg, const char *acks)
{
    dc_config *c;
    dc_runtime *rt = open_rt(cfg, &c);
    dc_sql_session *s = session();
    schema(s);
    rows ids = {0}, bal = {0}, exp = {0};
    must(s, "SELECT id FROM xfer ORDER BY id", &ids);
    must(s, "SELECT id, bal FROM acct ORDER BY id", &bal);
    must(s, "SELECT id, coalesce((SELECT sum(d) FROM xfer WHERE a = acct.id), 0)"
            " - coalesce((SELECT sum(d) FROM xfer WHERE b = acct.id), 0) "
            "FROM acct ORDER BY id", &exp);
    int bad = 0;
    int64_t total = 0;
    if (bal.n != 2 * NACCT || exp.n != bal.n) {
        fprintf(stderr, "verify: %zu account values, expected %d\n", bal.n / 2,
                NACCT);
        bad = 1;
    }
    for (size_t i = 0; !bad && i < bal.n; i += 2) {
        total += bal.v[i + 1];
        if (bal.v[i + 1] != exp.v[i + 1]) {
            fprintf(stderr, "verify: account %" PRId64 " has balance %" PRId64
                    " but its transfers add up to %" PRId64
                    ": a transaction is there in part\n",
                    bal.v[i], bal.v[i + 1], exp.v[i + 1]);
            bad = 1;
        }
    }
    if (!bad && total != 0) {
        fprintf(stderr, "verify: balances sum to %" PRId64 ", not 0\n", total);
        bad = 1;
    }
    FILE *f = fopen(acks, "r");
    size_t nacks = 0, missing = 0;
    if (f) {
        char line[128];
        while (fgets(line, sizeof line, f)) {
            long long id;
            if (sscanf(line, "ack %lld", &id) != 1)
                continue;
            nacks++;
            int64_t key = id;
            if (!bsearch(&key, ids.v, ids.n, sizeof key, cmp64)) {
                if (missing++ < 5)
                    fprintf(stderr, "verify: acknowledged transfer %lld is "
                                    "missing\n", id);
                bad = 1;
            }
        }
        fclose(f);
    }
    printf("verify: %zu transfers, %zu acknowledged, %zu missing, %s\n",
           ids.n, nacks, missing, bad ? "FAILED" : "ok");
    free(ids.v);
    free(bal.v);
    free(exp.v);
    VT->session_close(s);
    dc_runtime_shutdown(rt);
    dc_runtime_free(rt);
    dc_config_free(c);
    return bad;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        usage();
    const char *cfg = NULL, *acks = NULL;
    uint64_t seed = 1;
    for (int i = 2; i < argc; i++) {
        if (i + 1 >= argc)
            usage();
        if (strcmp(argv[i], "--config") == 0)
            cfg = argv[++i];
        else if (strcmp(argv[i], "--acks") == 0)
            acks = argv[++i];
        else if (strcmp(argv[i], "--seed") == 0)
            seed = strtoull(argv[++i], NULL, 10);
        else
            usage();
    }
    if (!cfg)
        usage();
    if (strcmp(argv[1], "child") == 0)
        return child(cfg, seed);
    if (strcmp(argv[1], "verify") == 0 && acks)
        return verify(cfg, acks);
    usage();
    return 2;
}
