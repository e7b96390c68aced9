/*
 * audit.c - see audit.h.
 *
 * Writers hold the read side of `g_lock` across their write(), so that
 * many sessions write at once; a reopen takes the write side only to swap
 * the descriptor.  A write to a file opened with O_APPEND puts the whole
 * buffer at the end of the file in one go, so one write() per line keeps
 * lines whole.
 */
#include "audit.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

#define DEFAULT_NAME "audit.log"

static pthread_rwlock_t g_lock = PTHREAD_RWLOCK_INITIALIZER;
static int g_fd = -1;                 /* guarded by g_lock              */
static char *g_path;                  /* set by open, main thread only  */
static size_t g_max_statement;
static atomic_bool g_enabled;
static atomic_bool g_failing;         /* the last write failed          */

/* ==== the line =========================================================== */

size_t dc_audit_utf8_clean(const char *s, size_t n, char *out)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t o = 0, i = 0;
    while (i < n) {
        unsigned char b = p[i];
        size_t need = 0;
        unsigned char lo = 0x80, hi = 0xBF; /* range of the 2nd byte */
        if (b < 0x80) {
            out[o++] = (char)b;
            i++;
            continue;
        } else if (b >= 0xC2 && b <= 0xDF) {
            need = 1;
        } else if (b >= 0xE0 && b <= 0xEF) {
            need = 2;
            if (b == 0xE0)
                lo = 0xA0;          /* no overlong forms */
            else if (b == 0xED)
                hi = 0x9F;          /* no surrogates     */
        } else if (b >= 0xF0 && b <= 0xF4) {
            need = 3;
            if (b == 0xF0)
                lo = 0x90;          /* no overlong forms */
            else if (b == 0xF4)
                hi = 0x8F;          /* nothing above U+10FFFF */
        }
        bool ok = need > 0 && i + need < n; /* the whole sequence is there */
        if (ok && !(p[i + 1] >= lo && p[i + 1] <= hi))
            ok = false;
        for (size_t k = 2; ok && k <= need; k++)
            if ((p[i + k] & 0xC0) != 0x80)
                ok = false;
        if (ok) {
            memcpy(out + o, p + i, need + 1);
            o += need + 1;
            i += need + 1;
        } else {
            memcpy(out + o, "\xEF\xBF\xBD", 3);
            o += 3;
            i++;
        }
    }
    out[o] = '\0';
    return o;
}

/* A JSON string of s (n bytes) made valid UTF-8; NULL s gives null. */
static json_t *jstr(const char *s, size_t n)
{
    if (s == NULL)
        return json_null();
    char *buf = malloc(3 * n + 1);
    if (buf == NULL)
        return NULL;
    size_t len = dc_audit_utf8_clean(s, n, buf);
    json_t *j = json_stringn(buf, len);
    free(buf);
    return j;
}

static json_t *jcstr(const char *s)
{
    return jstr(s, s ? strlen(s) : 0);
}

/* 2026-01-02T03:04:05.678Z */
static void format_time(int64_t ns, char *buf, size_t cap)
{
    time_t secs = (time_t)(ns / 1000000000);
    long ms = (long)((ns % 1000000000) / 1000000);
    if (ms < 0) {
        secs--;
        ms += 1000;
    }
    struct tm tm;
    gmtime_r(&secs, &tm);
    snprintf(buf, cap, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ",
             tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
             tm.tm_min, tm.tm_sec, ms);
}

static const char *kind_name(uint32_t kind)
{
    switch (kind) {
    case DC_AUDIT_LOGIN: return "login";
    case DC_AUDIT_STATEMENT: return "statement";
    default: return "unknown";
    }
}

char *dc_audit_format(const dc_audit_event *ev, int64_t now_ns,
                      size_t max_statement, size_t *len)
{
    json_t *o = json_object();
    if (o == NULL)
        return NULL;
    char when[64];
    format_time(ev->time_ns ? ev->time_ns : now_ns, when, sizeof when);
    size_t slen = ev->statement ? ev->statement_len : 0;
    bool cut = false;
    if (max_statement && slen > max_statement) {
        /* Cut before a character that would be split. */
        slen = max_statement;
        for (int k = 0; k < 3 && slen > 0 &&
                        ((unsigned char)ev->statement[slen] & 0xC0) == 0x80;
             k++)
            slen--;
        cut = true;
    }
    int bad = 0;
#define PUT(key, val) bad |= json_object_set_new(o, key, val)
    PUT("time", json_string(when));
    PUT("kind", json_string(kind_name(ev->kind)));
    PUT("connection_id", ev->connection_id ? json_integer(ev->connection_id)
                                           : json_null());
    PUT("user", jcstr(ev->user));
    PUT("database", jcstr(ev->database));
    PUT("client_addr", jcstr(ev->client_addr));
    PUT("method", jcstr(ev->method));
    PUT("statement", jstr(ev->statement, slen));
    PUT("statement_truncated", json_boolean(cut));
    PUT("command", jcstr(ev->command));
    PUT("sqlstate", jcstr(ev->sqlstate ? ev->sqlstate : "00000"));
    PUT("message", jcstr(ev->message));
    PUT("rows", ev->rows >= 0 ? json_integer(ev->rows) : json_null());
    PUT("duration_ms", ev->duration_ns >= 0
                           ? json_real((double)(ev->duration_ns / 1000) / 1000.0)
                           : json_null());
#undef PUT
    char *s = bad ? NULL
                  : json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER |
                                      JSON_REAL_PRECISION(15));
    json_decref(o);
    if (s == NULL)
        return NULL;
    size_t n = strlen(s);
    char *line = realloc(s, n + 2);
    if (line == NULL) {
        free(s);
        return NULL;
    }
    line[n] = '\n';
    line[n + 1] = '\0';
    *len = n + 1;
    return line;
}

/* ==== the file =========================================================== */

/* mkdir -p of the directory part of path. */
static void make_parent(const char *path)
{
    char *dir = dc_path_dirname(path);
    for (char *p = dir + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        mkdir(dir, 0700);
        *p = '/';
    }
    mkdir(dir, 0700);
    free(dir);
}

static int open_file(const char *path, char *errbuf, size_t cap)
{
    make_parent(path);
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        snprintf(errbuf, cap, "cannot open audit log %s: %s", path,
                 strerror(errno));
    return fd;
}

int dc_audit_open(const dc_config *cfg, char *errbuf, size_t cap)
{
    bool on = false;
    if (dc_config_bool(cfg, "security.audit.enabled", &on) != DC_OK || !on)
        return 0;
    const char *dd = "data";
    dc_config_string(cfg, "storage.data_dir", &dd);
    char *data_dir = dc_path_join(dc_config_dir(cfg), dd);
    const char *p = NULL;
    if (dc_config_string(cfg, "security.audit.path", &p) != DC_OK || !p[0])
        p = DEFAULT_NAME;
    char *path = dc_path_join(data_dir, p);
    free(data_dir);
    int64_t max = 0;
    if (dc_config_int(cfg, "security.audit.max_statement_bytes", &max) == DC_OK &&
        max > 0)
        g_max_statement = (size_t)max;
    int fd = open_file(path, errbuf, cap);
    if (fd < 0) {
        free(path);
        return -1;
    }
    pthread_rwlock_wrlock(&g_lock);
    if (g_fd >= 0)
        close(g_fd);
    g_fd = fd;
    pthread_rwlock_unlock(&g_lock);
    free(g_path);
    g_path = path;
    atomic_store(&g_failing, false);
    atomic_store(&g_enabled, true);
    return 0;
}

int dc_audit_reopen(void)
{
    if (!atomic_load(&g_enabled) || g_path == NULL)
        return 0;
    char err[512];
    int fd = open_file(g_path, err, sizeof err);
    if (fd < 0) {
        dc_log_error("%s (still writing to the old file)", err);
        return -1;
    }
    pthread_rwlock_wrlock(&g_lock);
    int old = g_fd;
    g_fd = fd;
    pthread_rwlock_unlock(&g_lock);
    if (old >= 0)
        close(old);
    atomic_store(&g_failing, false);
    dc_log_info("audit log %s reopened", g_path);
    return 0;
}

void dc_audit_close(void)
{
    atomic_store(&g_enabled, false);
    pthread_rwlock_wrlock(&g_lock);
    if (g_fd >= 0)
        close(g_fd);
    g_fd = -1;
    pthread_rwlock_unlock(&g_lock);
    free(g_path);
    g_path = NULL;
}

bool dc_audit_enabled(void) { return atomic_load(&g_enabled); }

const char *dc_audit_path(void)
{
    return atomic_load(&g_enabled) ? g_path : NULL;
}

void dc_audit_write(const dc_audit_event *ev)
{
    if (!atomic_load(&g_enabled) || ev == NULL ||
        !DC_HAS_FIELD(ev, dc_audit_event, duration_ns))
        return;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t now = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
    size_t len = 0;
    char *line = dc_audit_format(ev, now, g_max_statement, &len);
    int saved = ENOMEM;
    ssize_t n = -1;
    if (line != NULL) {
        pthread_rwlock_rdlock(&g_lock);
        do {
            n = g_fd >= 0 ? write(g_fd, line, len) : -1;
        } while (n < 0 && errno == EINTR);
        saved = n < 0 ? errno : ENOSPC;
        pthread_rwlock_unlock(&g_lock);
        free(line);
    }
    if (n == (ssize_t)len && line != NULL) {
        if (atomic_exchange(&g_failing, false))
            dc_log_info("audit log: writing again");
        return;
    }
    /* Report the first failure of a run of them, not every line. */
    if (!atomic_exchange(&g_failing, true))
        dc_log_error("audit log: cannot write a line: %s (lines are lost "
                     "until writing works again)", strerror(saved));
}
