/*
 * test_audit.c - the host's audit log: the line of an event (every key,
 * null for what does not apply, the time, the duration, text that needs
 * escaping or is not valid UTF-8, the statement cut at max_statement),
 * the UTF-8 repair, and the file: where [security.audit] puts it, its
 * mode, whole lines from concurrent writers, reopening after a rename,
 * nothing at all when the log is off.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <jansson.h>
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audit.h"
#include "config.h"

/* ==== helpers ============================================================= */

static json_t *parse_line(const char *line, size_t len)
{
    /* One line: ends in "\n", no other newline. */
    assert_true(len > 1);
    assert_int_equal(line[len - 1], '\n');
    assert_null(memchr(line, '\n', len - 1));
    json_error_t je;
    json_t *o = json_loadb(line, len, JSON_ALLOW_NUL, &je);
    if (o == NULL)
        fail_msg("not JSON (%s): %s", je.text, line);
    assert_true(json_is_object(o));
    return o;
}

static const char *const KEYS[] = {
    "time", "kind", "connection_id", "user", "database", "client_addr",
    "method", "statement", "statement_truncated", "command", "sqlstate",
    "message", "rows", "duration_ms", NULL};

static void has_every_key(json_t *o)
{
    size_t n = 0;
    for (const char *const *k = KEYS; *k; k++, n++)
        if (json_object_get(o, *k) == NULL)
            fail_msg("key %s missing", *k);
    assert_int_equal(json_object_size(o), n);
}

static const char *str(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    assert_true(json_is_string(v));
    return json_string_value(v);
}

static dc_audit_event statement_event(const char *text)
{
    dc_audit_event ev = {
        .size = sizeof ev, .kind = DC_AUDIT_STATEMENT,
        .time_ns = 1609459200LL * 1000000000 + 123456789, /* 2021-01-01 */
        .connection_id = 7, .user = "alice", .database = "shop",
        .client_addr = "127.0.0.1", .statement = text,
        .statement_len = text ? strlen(text) : 0, .command = "INSERT 0 3",
        .sqlstate = "00000", .rows = 3, .duration_ns = 1234567,
    };
    return ev;
}

/* ==== the line ============================================================ */

static void test_statement_line(void **state)
{
    (void)state;
    dc_audit_event ev = statement_event("INSERT INTO t VALUES (1), (2), (3)");
    size_t len = 0;
    char *line = dc_audit_format(&ev, 0, 0, &len);
    assert_non_null(line);
    assert_int_equal(strlen(line), len);
    json_t *o = parse_line(line, len);
    has_every_key(o);
    assert_string_equal(str(o, "time"), "2021-01-01T00:00:00.123Z");
    assert_string_equal(str(o, "kind"), "statement");
    assert_int_equal(json_integer_value(json_object_get(o, "connection_id")), 7);
    assert_string_equal(str(o, "user"), "alice");
    assert_string_equal(str(o, "database"), "shop");
    assert_string_equal(str(o, "client_addr"), "127.0.0.1");
    assert_true(json_is_null(json_object_get(o, "method")));
    assert_string_equal(str(o, "statement"), ev.statement);
    assert_true(json_is_false(json_object_get(o, "statement_truncated")));
    assert_string_equal(str(o, "command"), "INSERT 0 3");
    assert_string_equal(str(o, "sqlstate"), "00000");
    assert_true(json_is_null(json_object_get(o, "message")));
    assert_int_equal(json_integer_value(json_object_get(o, "rows")), 3);
    /* Microseconds of 1234567 ns, in milliseconds. */
    json_t *d = json_object_get(o, "duration_ms");
    assert_true(json_is_real(d));
    assert_true(json_real_value(d) == (double)(1234567 / 1000) / 1000.0);
    json_decref(o);
    free(line);
}

static void test_login_line_nulls(void **state)
{
    (void)state;
    dc_audit_event ev = {
        .size = sizeof ev, .kind = DC_AUDIT_LOGIN, .time_ns = 0,
        .user = "mallory", .database = "shop", .client_addr = "10.1.2.3",
        .method = "scram-sha-256", .sqlstate = "28P01",
        .message = "password authentication failed for user \"mallory\"",
        .rows = -1, .duration_ns = -1,
    };
    size_t len = 0;
    /* time_ns 0: the time given as now. */
    char *line = dc_audit_format(&ev, 86400LL * 1000000000 + 5000000, 0, &len);
    json_t *o = parse_line(line, len);
    has_every_key(o);
    assert_string_equal(str(o, "time"), "1970-01-02T00:00:00.005Z");
    assert_string_equal(str(o, "kind"), "login");
    assert_string_equal(str(o, "method"), "scram-sha-256");
    assert_string_equal(str(o, "sqlstate"), "28P01");
    assert_string_equal(str(o, "message"), ev.message);
    assert_true(json_is_null(json_object_get(o, "connection_id")));
    assert_true(json_is_null(json_object_get(o, "statement")));
    assert_true(json_is_null(json_object_get(o, "command")));
    assert_true(json_is_null(json_object_get(o, "rows")));
    assert_true(json_is_null(json_object_get(o, "duration_ms")));
    json_decref(o);
    free(line);
}

/* Quotes, backslashes, newlines, tabs and other control characters come
 * back unchanged from the JSON; a NUL inside the text too. */
static void test_escaping(void **state)
{
    (void)state;
    static const char text[] = "SELECT 'a\"b\\\\c',\n\t'x\r\x01\x1f\x7f' -- \xe2\x82\xac\0tail";
    dc_audit_event ev = statement_event(NULL);
    ev.statement = text;
    ev.statement_len = sizeof text - 1;
    ev.user = "we\"ird\nuser";
    size_t len = 0;
    char *line = dc_audit_format(&ev, 0, 0, &len);
    json_t *o = parse_line(line, len);
    json_t *st = json_object_get(o, "statement");
    assert_int_equal(json_string_length(st), sizeof text - 1);
    assert_memory_equal(json_string_value(st), text, sizeof text - 1);
    assert_string_equal(str(o, "user"), "we\"ird\nuser");
    json_decref(o);
    free(line);
}

/* Bytes that are not UTF-8 become U+FFFD, one per bad byte; the line is
 * still valid JSON. */
static void test_not_utf8(void **state)
{
    (void)state;
    static const char text[] = "SELECT '\xff\xfe' || '\xc3' || 'ok'";
    dc_audit_event ev = statement_event(text);
    ev.database = "d\x80";
    size_t len = 0;
    char *line = dc_audit_format(&ev, 0, 0, &len);
    json_t *o = parse_line(line, len);
    assert_string_equal(str(o, "statement"),
                        "SELECT '\xef\xbf\xbd\xef\xbf\xbd' || '\xef\xbf\xbd' || 'ok'");
    assert_string_equal(str(o, "database"), "d\xef\xbf\xbd");
    json_decref(o);
    free(line);
}

static void clean_is(const char *in, size_t n, const char *want)
{
    char out[64];
    assert_true(3 * n + 1 <= sizeof out);
    size_t len = dc_audit_utf8_clean(in, n, out);
    assert_int_equal(len, strlen(want));
    assert_memory_equal(out, want, len);
    assert_int_equal(out[len], '\0');
}

#define R "\xef\xbf\xbd" /* U+FFFD */

static void test_utf8_clean(void **state)
{
    (void)state;
    /* Well-formed: every length, the edges of each range. */
    clean_is("a\xc2\x80\xdf\xbf", 5, "a\xc2\x80\xdf\xbf");
    clean_is("\xe0\xa0\x80\xed\x9f\xbf\xef\xbf\xbf", 9,
             "\xe0\xa0\x80\xed\x9f\xbf\xef\xbf\xbf");
    clean_is("\xf0\x90\x80\x80\xf4\x8f\xbf\xbf", 8,
             "\xf0\x90\x80\x80\xf4\x8f\xbf\xbf");
    /* Overlong forms, surrogates, above U+10FFFF, bytes never used. */
    clean_is("\xc0\x80", 2, R R);
    clean_is("\xe0\x80\x80", 3, R R R);
    clean_is("\xed\xa0\x80", 3, R R R);
    clean_is("\xf4\x90\x80\x80", 4, R R R R);
    clean_is("\xf5\xff", 2, R R);
    /* A stray continuation byte; a sequence cut short by the end or by
     * another character. */
    clean_is("\x80" "a", 2, R "a");
    clean_is("a\xe2\x82", 3, "a" R R);
    clean_is("\xe2" "a\xe2\x82\xac", 5, R "a\xe2\x82\xac");
}

/* A long statement is cut at max_statement bytes, before a character it
 * would split, and says so. */
static void test_truncated(void **state)
{
    (void)state;
    static const char text[] = "SELECT '\xc3\xa9\xc3\xa9\xc3\xa9'";
    dc_audit_event ev = statement_event(text);
    size_t len = 0;
    /* 8 bytes: "SELECT '", then the 9th would split the first é. */
    char *line = dc_audit_format(&ev, 0, 9, &len);
    json_t *o = parse_line(line, len);
    assert_string_equal(str(o, "statement"), "SELECT '");
    assert_true(json_is_true(json_object_get(o, "statement_truncated")));
    json_decref(o);
    free(line);
    line = dc_audit_format(&ev, 0, 10, &len);
    o = parse_line(line, len);
    assert_string_equal(str(o, "statement"), "SELECT '\xc3\xa9");
    json_decref(o);
    free(line);
    /* At or under the limit: whole. */
    line = dc_audit_format(&ev, 0, strlen(text), &len);
    o = parse_line(line, len);
    assert_string_equal(str(o, "statement"), text);
    assert_true(json_is_false(json_object_get(o, "statement_truncated")));
    json_decref(o);
    free(line);
}

/* ==== the file ============================================================ */

static char g_dir[256];

static int make_dir(void **state)
{
    (void)state;
    snprintf(g_dir, sizeof g_dir, "/tmp/dc_test_audit_XXXXXX");
    assert_non_null(mkdtemp(g_dir));
    return 0;
}

static int remove_dir(void **state)
{
    (void)state;
    dc_audit_close();
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
    assert_int_equal(system(cmd), 0);
    return 0;
}

static dc_config *config_of(const char *text)
{
    dc_strlist errors = {0};
    dc_config *cfg = dc_config_parse(text, strlen(text), "test.toml", g_dir,
                                     &errors);
    if (cfg == NULL)
        fail_msg("config refused: %s", errors.len ? errors.items[0] : "?");
    dc_strlist_free(&errors);
    return cfg;
}

static char *path_in(const char *rel)
{
    char *p = malloc(strlen(g_dir) + strlen(rel) + 2);
    sprintf(p, "%s/%s", g_dir, rel);
    return p;
}

/* The lines of a file, each parsed; *n their number. */
static json_t **read_lines(const char *path, size_t *n)
{
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    json_t **v = NULL;
    size_t cnt = 0;
    char *line = NULL;
    size_t cap = 0;
    ssize_t got;
    while ((got = getline(&line, &cap, f)) > 0) {
        v = realloc(v, (cnt + 1) * sizeof *v);
        v[cnt++] = parse_line(line, (size_t)got);
    }
    free(line);
    fclose(f);
    *n = cnt;
    return v;
}

static void free_lines(json_t **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        json_decref(v[i]);
    free(v);
}

static void write_statement(const char *text)
{
    dc_audit_event ev = statement_event(text);
    dc_audit_write(&ev);
}

static void test_off_writes_nothing(void **state)
{
    (void)state;
    dc_config *cfg = config_of("[storage]\ndata_dir = \"off\"\n");
    char err[256] = "";
    assert_int_equal(dc_audit_open(cfg, err, sizeof err), 0);
    assert_false(dc_audit_enabled());
    assert_null(dc_audit_path());
    write_statement("SELECT 1");
    char *dd = path_in("off");
    struct stat st;
    assert_int_not_equal(stat(dd, &st), 0); /* not even the directory */
    free(dd);
    dc_config_free(cfg);
}

/* Default: audit.log in the data directory (relative to the config's
 * directory), created with mode 0600. */
static void test_default_path_and_mode(void **state)
{
    (void)state;
    dc_config *cfg = config_of("[storage]\ndata_dir = \"data1\"\n"
                               "[security.audit]\nenabled = true\n");
    char err[256] = "";
    assert_int_equal(dc_audit_open(cfg, err, sizeof err), 0);
    assert_true(dc_audit_enabled());
    char *want = path_in("data1/audit.log");
    assert_string_equal(dc_audit_path(), want);
    write_statement("SELECT 1");
    struct stat st;
    assert_int_equal(stat(want, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    size_t n;
    json_t **v = read_lines(want, &n);
    assert_int_equal(n, 1);
    assert_string_equal(str(v[0], "statement"), "SELECT 1");
    free_lines(v, n);
    dc_audit_close();
    assert_false(dc_audit_enabled());
    free(want);
    dc_config_free(cfg);
}

/* path: relative to the data directory; a cap on the statement's bytes. */
static void test_path_option(void **state)
{
    (void)state;
    dc_config *cfg = config_of("[storage]\ndata_dir = \"data2\"\n"
                               "[security.audit]\nenabled = true\n"
                               "path = \"logs/a.jsonl\"\n"
                               "max_statement_bytes = 4\n");
    char err[256] = "";
    assert_int_equal(dc_audit_open(cfg, err, sizeof err), 0);
    char *want = path_in("data2/logs/a.jsonl");
    assert_string_equal(dc_audit_path(), want);
    write_statement("SELECT 1");
    size_t n;
    json_t **v = read_lines(want, &n);
    assert_int_equal(n, 1);
    assert_string_equal(str(v[0], "statement"), "SELE");
    assert_true(json_is_true(json_object_get(v[0], "statement_truncated")));
    free_lines(v, n);
    dc_audit_close();
    free(want);
    dc_config_free(cfg);
}

static void test_open_fails(void **state)
{
    (void)state;
    /* The audit path is a directory: the server cannot start. */
    char *d = path_in("adir");
    assert_int_equal(mkdir(d, 0700), 0);
    char text[600];
    snprintf(text, sizeof text, "[security.audit]\nenabled = true\n"
             "path = \"%s\"\n", d);
    dc_config *cfg = config_of(text);
    char err[256] = "";
    assert_int_equal(dc_audit_open(cfg, err, sizeof err), -1);
    assert_non_null(strstr(err, d));
    assert_false(dc_audit_enabled());
    free(d);
    dc_config_free(cfg);
}

#define NTHREADS 4
#define PER_THREAD 300
#define BIG 5000

static void *writer(void *arg)
{
    int id = (int)(intptr_t)arg;
    char *text = malloc(BIG + 64);
    for (int i = 0; i < PER_THREAD; i++) {
        int n = snprintf(text, 64, "-- %d %d\n", id, i);
        memset(text + n, 'a' + id, BIG);
        text[n + BIG] = '\0';
        write_statement(text);
    }
    free(text);
    return NULL;
}

/* Lines of concurrent writers never interleave; a rename and reopen (what
 * logrotate does with SIGHUP) moves writing to a new file. */
static void test_concurrent_and_reopen(void **state)
{
    (void)state;
    dc_config *cfg = config_of("[storage]\ndata_dir = \"data3\"\n"
                               "[security.audit]\nenabled = true\n"
                               "max_statement_bytes = 0\n");
    char err[256] = "";
    assert_int_equal(dc_audit_open(cfg, err, sizeof err), 0);
    pthread_t t[NTHREADS];
    for (int i = 0; i < NTHREADS; i++)
        assert_int_equal(pthread_create(&t[i], NULL, writer, (void *)(intptr_t)i), 0);
    for (int i = 0; i < NTHREADS; i++)
        pthread_join(t[i], NULL);
    char *path = path_in("data3/audit.log");
    size_t n;
    json_t **v = read_lines(path, &n);
    assert_int_equal(n, NTHREADS * PER_THREAD);
    int seen[NTHREADS][PER_THREAD] = {{0}};
    for (size_t k = 0; k < n; k++) {
        const char *s = str(v[k], "statement");
        int id, i;
        assert_int_equal(sscanf(s, "-- %d %d", &id, &i), 2);
        assert_true(id >= 0 && id < NTHREADS && i >= 0 && i < PER_THREAD);
        const char *body = strchr(s, '\n') + 1;
        assert_int_equal(strlen(body), BIG);
        assert_int_equal(strspn(body, (char[]){(char)('a' + id), 0}), BIG);
        seen[id][i]++;
    }
    for (int id = 0; id < NTHREADS; id++)
        for (int i = 0; i < PER_THREAD; i++)
            assert_int_equal(seen[id][i], 1);
    free_lines(v, n);

    char *old = path_in("data3/audit.log.1");
    assert_int_equal(rename(path, old), 0);
    write_statement("SELECT 'before reopen'");
    assert_int_equal(dc_audit_reopen(), 0);
    write_statement("SELECT 'after reopen'");
    v = read_lines(old, &n);
    assert_int_equal(n, NTHREADS * PER_THREAD + 1);
    assert_string_equal(str(v[n - 1], "statement"), "SELECT 'before reopen'");
    free_lines(v, n);
    v = read_lines(path, &n);
    assert_int_equal(n, 1);
    assert_string_equal(str(v[0], "statement"), "SELECT 'after reopen'");
    free_lines(v, n);
    dc_audit_close();
    free(old);
    free(path);
    dc_config_free(cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_statement_line),
        cmocka_unit_test(test_login_line_nulls),
        cmocka_unit_test(test_escaping),
        cmocka_unit_test(test_not_utf8),
        cmocka_unit_test(test_utf8_clean),
        cmocka_unit_test(test_truncated),
        cmocka_unit_test(test_off_writes_nothing),
        cmocka_unit_test(test_default_path_and_mode),
        cmocka_unit_test(test_path_option),
        cmocka_unit_test(test_open_fails),
        cmocka_unit_test(test_concurrent_and_reopen),
    };
    return cmocka_run_group_tests(tests, make_dir, remove_dir);
}
