/*
 * metrics_registry.c - see metrics_registry.h.
 *
 * Doubles are kept as their bit patterns in _Atomic uint64_t and updated
 * with compare-and-swap, so gauges and histogram sums need no lock.
 */
#include "metrics_registry.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "version.h"

struct dc_series {
    dc_metric *family;
    char **label_values;
    _Atomic uint64_t value;      /* counter: count; gauge: double bits  */
    _Atomic uint64_t *buckets;   /* histogram: per-bucket counts, +Inf last;
                                    the count is their sum */
    _Atomic uint64_t sum_bits;   /* histogram: double bits              */
    dc_series *next;
};

struct dc_metric {
    dc_metric_desc desc;         /* strings and arrays owned here       */
    pthread_mutex_t lock;        /* guards the series list              */
    dc_series *first, *last;
    dc_metric *next;
};

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static dc_metric *g_first, *g_last;

static double bits_to_double(uint64_t b)
{
    double d;
    memcpy(&d, &b, sizeof d);
    return d;
}

static uint64_t double_to_bits(double d)
{
    uint64_t b;
    memcpy(&b, &d, sizeof b);
    return b;
}

/* [a-zA-Z_:][a-zA-Z0-9_:]* (colons allowed only when allow_colon). */
static bool valid_name(const char *s, bool allow_colon)
{
    if (s == NULL || *s == '\0')
        return false;
    for (const char *p = s; *p; p++) {
        bool alpha = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                     *p == '_' || (allow_colon && *p == ':');
        bool digit = *p >= '0' && *p <= '9';
        if (!alpha && !(digit && p != s))
            return false;
    }
    return true;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

/* Same type, labels and buckets. */
static bool same_shape(const dc_metric_desc *a, const dc_metric_desc *b)
{
    if (a->type != b->type || a->nlabels != b->nlabels ||
        a->nbuckets != b->nbuckets)
        return false;
    for (uint32_t i = 0; i < a->nlabels; i++)
        if (strcmp(a->label_names[i], b->label_names[i]) != 0)
            return false;
    for (uint32_t i = 0; i < a->nbuckets; i++)
        if (a->buckets[i] != b->buckets[i])
            return false;
    return true;
}

static char *dupstr(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

static void free_family(dc_metric *m)
{
    dc_series *s = m->first;
    while (s) {
        dc_series *next = s->next;
        for (uint32_t i = 0; i < m->desc.nlabels; i++)
            free(s->label_values[i]);
        free(s->label_values);
        free((void *)s->buckets);
        free(s);
        s = next;
    }
    for (uint32_t i = 0; i < m->desc.nlabels; i++)
        free((char *)m->desc.label_names[i]);
    free((void *)m->desc.label_names);
    free((void *)m->desc.buckets);
    free((char *)m->desc.name);
    free((char *)m->desc.help);
    pthread_mutex_destroy(&m->lock);
    free(m);
}

int dc_metrics_register(const dc_metric_desc *desc, dc_metric **out,
                        dc_error *err)
{
    if (desc == NULL || desc->size < sizeof(dc_metric_desc))
        return dc_error_set(err, DC_EINVAL, DC_SQLSTATE_INTERNAL,
                            "metric descriptor is missing or too short");
    if (!valid_name(desc->name, true))
        return dc_error_set(err, DC_EINVAL, DC_SQLSTATE_INTERNAL,
                            "invalid metric name '%s'",
                            desc->name ? desc->name : "(null)");
    if (desc->type < DC_METRIC_COUNTER || desc->type > DC_METRIC_HISTOGRAM)
        return dc_error_set(err, DC_EINVAL, DC_SQLSTATE_INTERNAL,
                            "metric %s: unknown type %u", desc->name, desc->type);
    if (desc->type == DC_METRIC_COUNTER && !ends_with(desc->name, "_total"))
        return dc_error_set(err, DC_EINVAL, DC_SQLSTATE_INTERNAL,
                            "counter %s: a counter's name must end in _total",
                            desc->name);
    if (desc->nlabels > DC_METRIC_MAX_LABELS ||
        (desc->nlabels > 0 && desc->label_names == NULL))
        return dc_error_set(err, DC_EINVAL, DC_SQLSTATE_INTERNAL,
                            "metric %s: at most %d labels, all named",
                            desc->name, DC_METRIC_MAX_LABELS);
    for (uint32_t i = 0; i < desc->nlabels; i++) {
        const char *l = desc->label_names[i];
        if (!valid_name(l, false) || strncmp(l, "__", 2) == 0 ||
            (desc->type == DC_METRIC_HISTOGRAM && strcmp(l, "le") == 0))
            return dc_error_set(err, DC_EINVAL, DC_SQLSTATE_INTERNAL,
                                "metric %s: invalid label name '%s'", desc->name,
                                l ? l : "(null)");
    }
    if (desc->type == DC_METRIC_HISTOGRAM) {
        if (desc->nbuckets == 0 || desc->nbuckets > DC_METRIC_MAX_BUCKETS ||
            desc->buckets == NULL)
            return dc_error_set(err, DC_EINVAL, DC_SQLSTATE_INTERNAL,
                                "histogram %s: 1 to %d buckets needed",
                                desc->name, DC_METRIC_MAX_BUCKETS);
        for (uint32_t i = 1; i < desc->nbuckets; i++)
            if (!(desc->buckets[i] > desc->buckets[i - 1]))
                return dc_error_set(err, DC_EINVAL, DC_SQLSTATE_INTERNAL,
                                    "histogram %s: buckets must ascend",
                                    desc->name);
    }

    pthread_mutex_lock(&g_lock);
    for (dc_metric *m = g_first; m; m = m->next) {
        if (strcmp(m->desc.name, desc->name) == 0) {
            bool same = same_shape(&m->desc, desc);
            pthread_mutex_unlock(&g_lock);
            if (!same)
                return dc_error_set(err, DC_EINVAL, DC_SQLSTATE_INTERNAL,
                                    "metric %s is already registered with "
                                    "another type, labels or buckets",
                                    desc->name);
            *out = m;
            return DC_OK;
        }
    }
    dc_metric *m = calloc(1, sizeof *m);
    if (m == NULL)
        goto oom;
    pthread_mutex_init(&m->lock, NULL);
    m->desc.size = sizeof m->desc;
    m->desc.type = desc->type;
    m->desc.nlabels = desc->nlabels;
    m->desc.nbuckets = desc->type == DC_METRIC_HISTOGRAM ? desc->nbuckets : 0;
    m->desc.name = dupstr(desc->name);
    m->desc.help = dupstr(desc->help ? desc->help : "");
    char **labels = calloc(desc->nlabels ? desc->nlabels : 1, sizeof *labels);
    m->desc.label_names = (const char *const *)labels;
    double *buckets = calloc(m->desc.nbuckets ? m->desc.nbuckets : 1, sizeof *buckets);
    m->desc.buckets = buckets;
    if (!m->desc.name || !m->desc.help || !labels || !buckets) {
        free_family(m);
        goto oom;
    }
    for (uint32_t i = 0; i < desc->nlabels; i++) {
        labels[i] = dupstr(desc->label_names[i]);
        if (labels[i] == NULL) {
            free_family(m);
            goto oom;
        }
    }
    for (uint32_t i = 0; i < m->desc.nbuckets; i++)
        buckets[i] = desc->buckets[i];
    if (g_last)
        g_last->next = m;
    else
        g_first = m;
    g_last = m;
    pthread_mutex_unlock(&g_lock);
    *out = m;
    return DC_OK;
oom:
    pthread_mutex_unlock(&g_lock);
    return dc_error_set(err, DC_ENOMEM, DC_SQLSTATE_OOM, "out of memory");
}

dc_series *dc_metrics_series(dc_metric *m, const char *const *label_values)
{
    if (m == NULL)
        return NULL;
    uint32_t nl = m->desc.nlabels;
    pthread_mutex_lock(&m->lock);
    for (dc_series *s = m->first; s; s = s->next) {
        bool eq = true;
        for (uint32_t i = 0; i < nl && eq; i++)
            eq = strcmp(s->label_values[i],
                        label_values[i] ? label_values[i] : "") == 0;
        if (eq) {
            pthread_mutex_unlock(&m->lock);
            return s;
        }
    }
    dc_series *s = calloc(1, sizeof *s);
    if (s == NULL)
        goto oom;
    s->family = m;
    s->label_values = calloc(nl ? nl : 1, sizeof *s->label_values);
    if (s->label_values == NULL) {
        free(s);
        goto oom;
    }
    for (uint32_t i = 0; i < nl; i++) {
        s->label_values[i] = dupstr(label_values[i] ? label_values[i] : "");
        if (s->label_values[i] == NULL) {
            for (uint32_t j = 0; j < i; j++)
                free(s->label_values[j]);
            free(s->label_values);
            free(s);
            goto oom;
        }
    }
    if (m->desc.type == DC_METRIC_HISTOGRAM) {
        s->buckets = calloc(m->desc.nbuckets + 1, sizeof *s->buckets);
        if (s->buckets == NULL) {
            for (uint32_t j = 0; j < nl; j++)
                free(s->label_values[j]);
            free(s->label_values);
            free(s);
            goto oom;
        }
    } else if (m->desc.type == DC_METRIC_GAUGE) {
        atomic_store(&s->value, double_to_bits(0.0));
    }
    if (m->last)
        m->last->next = s;
    else
        m->first = s;
    m->last = s;
    pthread_mutex_unlock(&m->lock);
    return s;
oom:
    pthread_mutex_unlock(&m->lock);
    return NULL;
}

void dc_metrics_counter_add(dc_series *s, uint64_t delta)
{
    if (s && s->family->desc.type == DC_METRIC_COUNTER)
        atomic_fetch_add_explicit(&s->value, delta, memory_order_relaxed);
}

/* Add `delta` to the double stored as bits in *a. */
static void atomic_add_double(_Atomic uint64_t *a, double delta)
{
    uint64_t old = atomic_load_explicit(a, memory_order_relaxed);
    for (;;) {
        uint64_t nv = double_to_bits(bits_to_double(old) + delta);
        if (atomic_compare_exchange_weak_explicit(a, &old, nv,
                                                  memory_order_relaxed,
                                                  memory_order_relaxed))
            return;
    }
}

void dc_metrics_gauge_set(dc_series *s, double v)
{
    if (s && s->family->desc.type == DC_METRIC_GAUGE)
        atomic_store_explicit(&s->value, double_to_bits(v), memory_order_relaxed);
}

void dc_metrics_gauge_add(dc_series *s, double delta)
{
    if (s && s->family->desc.type == DC_METRIC_GAUGE)
        atomic_add_double(&s->value, delta);
}

void dc_metrics_histogram_observe(dc_series *s, double v)
{
    if (s == NULL || s->family->desc.type != DC_METRIC_HISTOGRAM)
        return;
    const dc_metric_desc *d = &s->family->desc;
    uint32_t i = 0;
    while (i < d->nbuckets && v > d->buckets[i])
        i++;
    atomic_fetch_add_explicit(&s->buckets[i], 1, memory_order_relaxed);
    atomic_add_double(&s->sum_bits, v);
}

int dc_metrics_visit(const dc_metrics_visitor *v, void *ud)
{
    int rc = 0;
    pthread_mutex_lock(&g_lock);
    for (dc_metric *m = g_first; m && rc == 0; m = m->next) {
        if (v->family)
            rc = v->family(ud, &m->desc);
        pthread_mutex_lock(&m->lock);
        uint64_t cum[DC_METRIC_MAX_BUCKETS + 1];
        for (dc_series *s = m->first; s && rc == 0; s = s->next) {
            dc_series_value sv;
            memset(&sv, 0, sizeof sv);
            sv.label_values = (const char *const *)s->label_values;
            uint64_t raw = atomic_load_explicit(&s->value, memory_order_relaxed);
            if (m->desc.type == DC_METRIC_COUNTER) {
                sv.value = (double)raw;
            } else if (m->desc.type == DC_METRIC_GAUGE) {
                sv.value = bits_to_double(raw);
            } else {
                uint64_t total = 0;
                for (uint32_t i = 0; i <= m->desc.nbuckets; i++) {
                    total += atomic_load_explicit(&s->buckets[i],
                                                  memory_order_relaxed);
                    cum[i] = total;
                }
                sv.bucket_counts = cum;
                sv.count = total;
                sv.sum = bits_to_double(
                    atomic_load_explicit(&s->sum_bits, memory_order_relaxed));
            }
            if (v->series)
                rc = v->series(ud, &m->desc, &sv);
        }
        pthread_mutex_unlock(&m->lock);
    }
    pthread_mutex_unlock(&g_lock);
    return rc;
}

/* Register a gauge family `name` with these labels and set the series of
 * `values` to 1. */
static void info_gauge(const char *name, const char *help,
                       const char *const *labels, uint32_t nlabels,
                       const char *const *values)
{
    dc_metric_desc d = {.size = sizeof d, .type = DC_METRIC_GAUGE,
                        .name = name, .help = help, .label_names = labels,
                        .nlabels = nlabels};
    dc_metric *m = NULL;
    dc_error err;
    dc_error_init(&err);
    if (dc_metrics_register(&d, &m, &err) == DC_OK)
        dc_metrics_gauge_set(dc_metrics_series(m, values), 1.0);
}

void dc_metrics_build_info(void)
{
    static const char *const labels[] = {"version", "abi"};
    char abi[32];
    snprintf(abi, sizeof abi, "%d.%d", DC_ABI_MAJOR, DC_ABI_MINOR);
    const char *values[] = {DATACAVE_VERSION, abi};
    info_gauge("datacave_build_info",
               "always 1: the Datacave release and module ABI of the host",
               labels, 2, values);
}

void dc_metrics_module_info(const char *kind, const char *name,
                            const char *version)
{
    static const char *const labels[] = {"kind", "name", "version"};
    const char *values[] = {kind ? kind : "", name ? name : "",
                            version ? version : ""};
    info_gauge("datacave_module_info",
               "always 1: a loaded module, its kind and its version", labels,
               3, values);
}

void dc_metrics_reset(void)
{
    pthread_mutex_lock(&g_lock);
    dc_metric *m = g_first;
    while (m) {
        dc_metric *next = m->next;
        free_family(m);
        m = next;
    }
    g_first = g_last = NULL;
    pthread_mutex_unlock(&g_lock);
}
