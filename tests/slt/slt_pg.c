/*
 * slt_pg.c - the PostgreSQL backend of the sqllogictest runner (libpq).
 *
 * The connection given on the command line is the maintenance connection:
 * each test file gets a scratch database created over it, a connection to
 * that database for the records, and the database is dropped at the end.
 */
#define _GNU_SOURCE
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "slt.h"

typedef struct pg_backend {
    char *conninfo;
    PGconn *admin;
    PGconn *conn;
    char dbname[64];
    unsigned seq;
} pg_backend;

static void quiet(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

static int pg_error(PGconn *c, const char *what, char *err, size_t errlen)
{
    const char *m = PQerrorMessage(c);
    size_t n = strlen(m);
    while (n > 0 && m[n - 1] == '\n')
        n--;
    snprintf(err, errlen, "%s%.*s", what, (int)n, m);
    return -1;
}

static int admin_exec(pg_backend *b, const char *sql, char *err, size_t errlen)
{
    PGresult *r = PQexec(b->admin, sql);
    int rc = PQresultStatus(r) == PGRES_COMMAND_OK ? 0 : -1;
    if (rc != 0)
        pg_error(b->admin, "", err, errlen);
    PQclear(r);
    return rc;
}

static void drop_db(pg_backend *b)
{
    if (b->dbname[0] == '\0')
        return;
    char sql[128], err[256];
    snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %s", b->dbname);
    if (admin_exec(b, sql, err, sizeof err) != 0)
        fprintf(stderr, "slt: %s: %s\n", sql, err);
    b->dbname[0] = '\0';
}

static int pg_begin_file(void *ud, char *err, size_t errlen)
{
    pg_backend *b = ud;
    snprintf(b->dbname, sizeof b->dbname, "slt_%ld_%u", (long)getpid(),
             b->seq++);
    char sql[128];
    snprintf(sql, sizeof sql, "CREATE DATABASE %s", b->dbname);
    if (admin_exec(b, sql, err, errlen) != 0) {
        b->dbname[0] = '\0';
        return -1;
    }
    /* The given conninfo, with the database replaced (later keywords win). */
    const char *keys[] = {"dbname", "dbname", NULL};
    const char *vals[] = {b->conninfo, b->dbname, NULL};
    b->conn = PQconnectdbParams(keys, vals, 1);
    if (PQstatus(b->conn) != CONNECTION_OK) {
        pg_error(b->conn, "connect: ", err, errlen);
        PQfinish(b->conn);
        b->conn = NULL;
        drop_db(b);
        return -1;
    }
    PQsetNoticeProcessor(b->conn, quiet, NULL);
    return 0;
}

static void pg_end_file(void *ud)
{
    pg_backend *b = ud;
    if (b->conn)
        PQfinish(b->conn);
    b->conn = NULL;
    drop_db(b);
}

static int pg_run(void *ud, const char *sql, slt_result *res, char *err,
                  size_t errlen)
{
    pg_backend *b = ud;
    PGresult *r = PQexec(b->conn, sql);
    ExecStatusType st = PQresultStatus(r);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK &&
        st != PGRES_EMPTY_QUERY) {
        const char *m = PQresultErrorMessage(r);
        size_t n = strlen(m);
        while (n > 0 && m[n - 1] == '\n')
            n--;
        snprintf(err, errlen, "%.*s", (int)n, m);
        PQclear(r);
        return -1;
    }
    if (res != NULL) {
        size_t ncols = st == PGRES_TUPLES_OK ? (size_t)PQnfields(r) : 0;
        uint32_t *types = calloc(ncols ? ncols : 1, sizeof *types);
        char **cells = calloc(ncols ? ncols : 1, sizeof *cells);
        size_t *lens = calloc(ncols ? ncols : 1, sizeof *lens);
        if (!types || !cells || !lens) {
            free(types);
            free(cells);
            free(lens);
            PQclear(r);
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        for (size_t c = 0; c < ncols; c++)
            types[c] = (uint32_t)PQftype(r, (int)c);
        slt_result_init(res, ncols, types);
        int nrows = st == PGRES_TUPLES_OK ? PQntuples(r) : 0;
        for (int i = 0; i < nrows; i++) {
            for (size_t c = 0; c < ncols; c++) {
                cells[c] =
                    PQgetisnull(r, i, (int)c) ? NULL : PQgetvalue(r, i, (int)c);
                lens[c] = (size_t)PQgetlength(r, i, (int)c);
            }
            slt_result_add(res, cells, lens);
        }
        free(types);
        free(cells);
        free(lens);
    }
    PQclear(r);
    return 0;
}

static void pg_free(void *ud)
{
    pg_backend *b = ud;
    pg_end_file(b);
    PQfinish(b->admin);
    free(b->conninfo);
    free(b);
}

int slt_pg_backend(const char *conninfo, slt_backend *out, char *err,
                   size_t errlen)
{
    pg_backend *b = calloc(1, sizeof *b);
    if (b == NULL || (b->conninfo = strdup(conninfo)) == NULL) {
        free(b);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    b->admin = PQconnectdb(conninfo);
    if (PQstatus(b->admin) != CONNECTION_OK) {
        pg_error(b->admin, "connect: ", err, errlen);
        PQfinish(b->admin);
        free(b->conninfo);
        free(b);
        return -1;
    }
    PQsetNoticeProcessor(b->admin, quiet, NULL);
    out->ud = b;
    out->begin_file = pg_begin_file;
    out->end_file = pg_end_file;
    out->run = pg_run;
    out->free = pg_free;
    return 0;
}
