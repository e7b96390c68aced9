/*
 * prometheus/expo.c - see expo.h.
 */
#include "prometheus/expo.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ==== buffer ============================================================= */

void prom_buf_append(prom_buf *b, const char *s, size_t n)
{
    if (b->oom)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t nc = b->cap ? b->cap : 4096;
        while (nc < b->len + n + 1)
            nc *= 2;
        char *d = realloc(b->data, nc);
        if (d == NULL) {
            b->oom = true;
            return;
        }
        b->data = d;
        b->cap = nc;
    }
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void prom_buf_puts(prom_buf *b, const char *s)
{
    prom_buf_append(b, s, strlen(s));
}

void prom_buf_free(prom_buf *b)
{
    free(b->data);
    memset(b, 0, sizeof *b);
}

/* ==== values and escaping ================================================ */

void prom_format_value(double v, char *buf, size_t cap)
{
    if (isnan(v)) {
        snprintf(buf, cap, "NaN");
    } else if (isinf(v)) {
        snprintf(buf, cap, v > 0 ? "+Inf" : "-Inf");
    } else if (v > -9007199254740992.0 && v < 9007199254740992.0 &&
               v == (double)(int64_t)v) {
        snprintf(buf, cap, "%lld", (long long)(int64_t)v);
    } else {
        snprintf(buf, cap, "%.15g", v);
        if (strtod(buf, NULL) != v)
            snprintf(buf, cap, "%.17g", v);
    }
}

/* HELP text: backslash and line feed escaped. */
static void put_help(prom_buf *b, const char *s)
{
    const char *run = s;
    for (const char *p = s; *p; p++) {
        const char *esc = *p == '\\' ? "\\\\" : *p == '\n' ? "\\n" : NULL;
        if (esc) {
            prom_buf_append(b, run, (size_t)(p - run));
            prom_buf_puts(b, esc);
            run = p + 1;
        }
    }
    prom_buf_puts(b, run);
}

/* A label value: backslash, double quote and line feed escaped. */
static void put_label_value(prom_buf *b, const char *s)
{
    const char *run = s;
    for (const char *p = s; *p; p++) {
        const char *esc = *p == '\\' ? "\\\\"
                          : *p == '"' ? "\\\""
                          : *p == '\n' ? "\\n" : NULL;
        if (esc) {
            prom_buf_append(b, run, (size_t)(p - run));
            prom_buf_puts(b, esc);
            run = p + 1;
        }
    }
    prom_buf_puts(b, run);
}

static void put_value(prom_buf *b, double v)
{
    char num[64];
    prom_format_value(v, num, sizeof num);
    prom_buf_puts(b, num);
}

static void put_header(prom_buf *b, const char *name, const char *help,
                       const char *type)
{
    prom_buf_puts(b, "# HELP ");
    prom_buf_puts(b, name);
    prom_buf_puts(b, " ");
    put_help(b, help ? help : "");
    prom_buf_puts(b, "\n# TYPE ");
    prom_buf_puts(b, name);
    prom_buf_puts(b, " ");
    prom_buf_puts(b, type);
    prom_buf_puts(b, "\n");
}

/* name[suffix]{labels[,le="bound"]} value */
static void put_sample(prom_buf *b, const dc_metric_desc *d,
                       const char *suffix, const char *const *values,
                       const char *le, double v)
{
    prom_buf_puts(b, d->name);
    prom_buf_puts(b, suffix);
    if (d->nlabels > 0 || le) {
        prom_buf_puts(b, "{");
        for (uint32_t i = 0; i < d->nlabels; i++) {
            if (i)
                prom_buf_puts(b, ",");
            prom_buf_puts(b, d->label_names[i]);
            prom_buf_puts(b, "=\"");
            put_label_value(b, values && values[i] ? values[i] : "");
            prom_buf_puts(b, "\"");
        }
        if (le) {
            if (d->nlabels > 0)
                prom_buf_puts(b, ",");
            prom_buf_puts(b, "le=\"");
            prom_buf_puts(b, le);
            prom_buf_puts(b, "\"");
        }
        prom_buf_puts(b, "}");
    }
    prom_buf_puts(b, " ");
    put_value(b, v);
    prom_buf_puts(b, "\n");
}

/* ==== the registry ======================================================= */

/* The process families, in the order they are written. */
enum { P_CPU, P_RSS, P_VMS, P_FDS, P_MAX_FDS, P_START, P__COUNT };
static const char *const PROC_NAMES[P__COUNT] = {
    "process_cpu_seconds_total",     "process_resident_memory_bytes",
    "process_virtual_memory_bytes",  "process_open_fds",
    "process_max_fds",               "process_start_time_seconds"};

typedef struct render_state {
    prom_buf *out;
    bool header_due;          /* the family announced last has no lines yet */
    bool proc_taken[P__COUNT];/* the registry holds a family of this name  */
} render_state;

static const char *type_name(uint32_t t)
{
    return t == DC_METRIC_COUNTER ? "counter"
           : t == DC_METRIC_HISTOGRAM ? "histogram" : "gauge";
}

static int on_family(void *ud, const dc_metric_desc *d)
{
    render_state *st = ud;
    st->header_due = true;
    for (int i = 0; i < P__COUNT; i++)
        if (strcmp(d->name, PROC_NAMES[i]) == 0)
            st->proc_taken[i] = true;
    return 0;
}

static int on_series(void *ud, const dc_metric_desc *d,
                     const dc_series_value *v)
{
    render_state *st = ud;
    prom_buf *b = st->out;
    if (st->header_due) {
        put_header(b, d->name, d->help, type_name(d->type));
        st->header_due = false;
    }
    if (d->type != DC_METRIC_HISTOGRAM) {
        put_sample(b, d, "", v->label_values, NULL, v->value);
    } else {
        char le[64];
        for (uint32_t i = 0; i < d->nbuckets; i++) {
            prom_format_value(d->buckets[i], le, sizeof le);
            put_sample(b, d, "_bucket", v->label_values, le,
                       v->bucket_counts ? (double)v->bucket_counts[i] : 0.0);
        }
        put_sample(b, d, "_bucket", v->label_values, "+Inf", (double)v->count);
        put_sample(b, d, "_sum", v->label_values, NULL, v->sum);
        put_sample(b, d, "_count", v->label_values, NULL, (double)v->count);
    }
    return b->oom ? DC_ENOMEM : 0;
}

static void put_process(prom_buf *b, const bool *taken, int which,
                        bool have, const char *help, const char *type,
                        double v)
{
    if (!have || taken[which])
        return;
    static const dc_metric_desc none = {0};
    dc_metric_desc d = none;
    d.name = PROC_NAMES[which];
    put_header(b, d.name, help, type);
    put_sample(b, &d, "", NULL, NULL, v);
}

int prom_render(prom_visit_fn visit, void *vctx, const prom_process *proc,
                prom_buf *out)
{
    render_state st;
    memset(&st, 0, sizeof st);
    st.out = out;
    if (visit) {
        dc_metrics_visitor v = {.size = sizeof v, .family = on_family,
                                .series = on_series};
        int rc = visit(vctx, &v, &st);
        if (rc != 0 && !out->oom)
            return rc;
    }
    if (proc) {
        const bool *t = st.proc_taken;
        put_process(out, t, P_CPU, proc->have_cpu,
                    "Total user and system CPU time spent in seconds.",
                    "counter", proc->cpu_seconds);
        put_process(out, t, P_RSS, proc->have_rss,
                    "Resident memory size in bytes.", "gauge",
                    proc->resident_bytes);
        put_process(out, t, P_VMS, proc->have_vms,
                    "Virtual memory size in bytes.", "gauge",
                    proc->virtual_bytes);
        put_process(out, t, P_FDS, proc->have_fds,
                    "Number of open file descriptors.", "gauge",
                    proc->open_fds);
        put_process(out, t, P_MAX_FDS, proc->have_max_fds,
                    "Maximum number of open file descriptors.", "gauge",
                    proc->max_fds);
        put_process(out, t, P_START, proc->have_start,
                    "Start time of the process since unix epoch in seconds.",
                    "gauge", proc->start_time_seconds);
    }
    return out->oom ? DC_ENOMEM : DC_OK;
}
