/*
 * log.c - see log.h.
 */
#include "log.h"

#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static _Atomic int g_level = DC_LOG_INFO;
static dc_log_format g_format = DC_LOGFMT_TEXT;
static FILE *g_stream;
static dc_log_hook g_hook;
static void *g_hook_ud;
static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;

static const char *const level_names[] = {"debug", "info", "warn", "error"};

void dc_log_set_level(int level) { atomic_store(&g_level, level); }
void dc_log_set_format(dc_log_format fmt) { g_format = fmt; }
void dc_log_set_stream(FILE *f) { g_stream = f; }

void dc_log_set_hook(dc_log_hook hook, void *ud)
{
    pthread_mutex_lock(&g_lock);
    g_hook = hook;
    g_hook_ud = ud;
    pthread_mutex_unlock(&g_lock);
}

bool dc_log_enabled(int level) { return level >= atomic_load(&g_level); }

int dc_log_level_parse(const char *s)
{
    for (int i = 0; i < 4; i++)
        if (strcmp(s, level_names[i]) == 0)
            return i;
    return -1;
}

int dc_log_format_parse(const char *s)
{
    if (strcmp(s, "text") == 0)
        return DC_LOGFMT_TEXT;
    if (strcmp(s, "json") == 0)
        return DC_LOGFMT_JSON;
    return -1;
}

/* Format the current UTC time as 2026-01-02T03:04:05.678Z into buf. */
static void format_now(char *buf, size_t cap)
{
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    snprintf(buf, cap, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ",
             tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
             tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000L);
}

void dc_log_writev(int level, const char *module, const char *fmt, va_list ap)
{
    if (!dc_log_enabled(level))
        return;
    if (level < DC_LOG_DEBUG)
        level = DC_LOG_DEBUG;
    if (level > DC_LOG_ERROR)
        level = DC_LOG_ERROR;
    char msg[4096];
    vsnprintf(msg, sizeof msg, fmt, ap);
    /* One line per message: fold embedded newlines. */
    for (char *p = msg; *p; p++)
        if (*p == '\n' || *p == '\r')
            *p = ' ';
    char when[96];
    format_now(when, sizeof when);

    pthread_mutex_lock(&g_lock);
    FILE *out = g_stream ? g_stream : stderr;
    if (g_format == DC_LOGFMT_JSON) {
        json_t *o = json_pack("{s:s, s:s, s:s, s:s}", "time", when, "level",
                              level_names[level], "module", module, "msg", msg);
        if (o == NULL) {
            /* Not valid UTF-8: keep the line, replacing non-ASCII bytes. */
            for (unsigned char *p = (unsigned char *)msg; *p; p++)
                if (*p >= 0x80)
                    *p = '?';
            o = json_pack("{s:s, s:s, s:s, s:s}", "time", when, "level",
                          level_names[level], "module", "?", "msg", msg);
        }
        char *line = o ? json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII) : NULL;
        if (line) {
            fprintf(out, "%s\n", line);
            free(line);
        }
        json_decref(o);
    } else {
        fprintf(out, "%s %-5s [%s] %s\n", when, level_names[level], module, msg);
    }
    fflush(out);
    if (g_hook)
        g_hook(g_hook_ud, level, module, msg);
    pthread_mutex_unlock(&g_lock);
}

void dc_log_write(int level, const char *module, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    dc_log_writev(level, module, fmt, ap);
    va_end(ap);
}
