/*
 * test_metrics.c - the host's metrics registry: registration rules,
 * labelled series, counters, gauges, histograms, concurrent updates, and
 * what a visit (the metrics module's view) reports.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <pthread.h>
#include <string.h>
#include <cmocka.h>

#include "metrics_registry.h"

static int reset(void **state)
{
    (void)state;
    dc_metrics_reset();
    return 0;
}

static dc_metric *reg(uint32_t type, const char *name, const char *const *labels,
                      uint32_t nlabels, int expect)
{
    dc_metric_desc d = {.size = sizeof d, .type = type, .name = name,
                        .help = "help text", .label_names = labels,
                        .nlabels = nlabels};
    static const double buckets[] = {0.001, 0.01, 0.1, 1};
    if (type == DC_METRIC_HISTOGRAM) {
        d.buckets = buckets;
        d.nbuckets = 4;
    }
    dc_metric *m = NULL;
    dc_error err;
    dc_error_init(&err);
    assert_int_equal(dc_metrics_register(&d, &m, &err), expect);
    if (expect != DC_OK)
        assert_true(dc_error_isset(&err));
    return m;
}

static void test_registration_rules(void **state)
{
    (void)state;
    const char *lab[] = {"kind"};
    const char *bad_lab[] = {"9x"};
    const char *le[] = {"le"};
    reg(DC_METRIC_COUNTER, "datacave_things", NULL, 0, DC_EINVAL); /* no _total */
    reg(DC_METRIC_COUNTER, "9bad_total", NULL, 0, DC_EINVAL);
    reg(DC_METRIC_COUNTER, "datacave_x_total", bad_lab, 1, DC_EINVAL);
    reg(DC_METRIC_HISTOGRAM, "datacave_h_seconds", le, 1, DC_EINVAL);
    dc_metric *a = reg(DC_METRIC_COUNTER, "datacave_ops_total", lab, 1, DC_OK);
    /* Same name, same shape: the same family. */
    dc_metric *b = reg(DC_METRIC_COUNTER, "datacave_ops_total", lab, 1, DC_OK);
    assert_ptr_equal(a, b);
    /* Same name, other shape: refused. */
    reg(DC_METRIC_GAUGE, "datacave_ops_total", lab, 1, DC_EINVAL);
    reg(DC_METRIC_COUNTER, "datacave_ops_total", NULL, 0, DC_EINVAL);
}

/* Collects what a visit reports, as text lines "name{labels} value". */
typedef struct seen {
    char text[4096];
} seen;

static int on_family(void *ud, const dc_metric_desc *d)
{
    seen *s = ud;
    size_t l = strlen(s->text);
    snprintf(s->text + l, sizeof s->text - l, "# %s\n", d->name);
    return 0;
}

static int on_series(void *ud, const dc_metric_desc *d, const dc_series_value *v)
{
    seen *s = ud;
    size_t l = strlen(s->text);
    char labels[256] = "";
    for (uint32_t i = 0; i < d->nlabels; i++) {
        size_t ll = strlen(labels);
        snprintf(labels + ll, sizeof labels - ll, "%s%s=%s", i ? "," : "",
                 d->label_names[i], v->label_values[i]);
    }
    if (d->type == DC_METRIC_HISTOGRAM) {
        char b[256] = "";
        for (uint32_t i = 0; i <= d->nbuckets; i++) {
            size_t bl = strlen(b);
            snprintf(b + bl, sizeof b - bl, "%s%llu", i ? "," : "",
                     (unsigned long long)v->bucket_counts[i]);
        }
        snprintf(s->text + l, sizeof s->text - l, "%s{%s} count=%llu sum=%g buckets=%s\n",
                 d->name, labels, (unsigned long long)v->count, v->sum, b);
    } else {
        snprintf(s->text + l, sizeof s->text - l, "%s{%s} %g\n", d->name, labels,
                 v->value);
    }
    return 0;
}

static void test_series_and_visit(void **state)
{
    (void)state;
    const char *lab[] = {"kind"};
    dc_metric *c = reg(DC_METRIC_COUNTER, "datacave_ops_total", lab, 1, DC_OK);
    dc_metric *g = reg(DC_METRIC_GAUGE, "datacave_conns", NULL, 0, DC_OK);
    dc_metric *h = reg(DC_METRIC_HISTOGRAM, "datacave_lat_seconds", NULL, 0, DC_OK);
    const char *get[] = {"get"}, *put[] = {"put"};
    dc_series *sg = dc_metrics_series(c, get);
    dc_series *sp = dc_metrics_series(c, put);
    assert_ptr_equal(sg, dc_metrics_series(c, get)); /* looked up again */
    assert_ptr_not_equal(sg, sp);
    dc_metrics_counter_add(sg, 3);
    dc_metrics_counter_add(sg, 4);
    dc_metrics_counter_add(sp, 1);
    dc_series *gs = dc_metrics_series(g, NULL);
    dc_metrics_gauge_set(gs, 10);
    dc_metrics_gauge_add(gs, -2.5);
    dc_series *hs = dc_metrics_series(h, NULL);
    dc_metrics_histogram_observe(hs, 0.0005); /* bucket 0.001 */
    dc_metrics_histogram_observe(hs, 0.001);  /* le is inclusive: 0.001 */
    dc_metrics_histogram_observe(hs, 0.5);    /* 1 */
    dc_metrics_histogram_observe(hs, 7);      /* +Inf */
    /* A wrong-type update and a NULL series are ignored. */
    dc_metrics_gauge_set(sg, 99);
    dc_metrics_counter_add(NULL, 1);

    seen s = {""};
    dc_metrics_visitor v = {sizeof v, on_family, on_series};
    assert_int_equal(dc_metrics_visit(&v, &s), 0);
    assert_string_equal(s.text,
                        "# datacave_ops_total\n"
                        "datacave_ops_total{kind=get} 7\n"
                        "datacave_ops_total{kind=put} 1\n"
                        "# datacave_conns\n"
                        "datacave_conns{} 7.5\n"
                        "# datacave_lat_seconds\n"
                        "datacave_lat_seconds{} count=4 sum=7.5015 "
                        "buckets=2,2,2,3,4\n");
}

typedef struct adder {
    dc_series *s;
    dc_series *h;
} adder;

static void *add_many(void *p)
{
    adder *a = p;
    for (int i = 0; i < 100000; i++) {
        dc_metrics_counter_add(a->s, 1);
        dc_metrics_histogram_observe(a->h, 0.5);
    }
    return NULL;
}

static int sum_series(void *ud, const dc_metric_desc *d, const dc_series_value *v)
{
    double *out = ud;
    if (d->type == DC_METRIC_HISTOGRAM) {
        out[1] = (double)v->count;
        out[2] = v->sum;
    } else {
        out[0] = v->value;
    }
    return 0;
}

static void test_concurrent_updates_are_not_lost(void **state)
{
    (void)state;
    dc_metric *c = reg(DC_METRIC_COUNTER, "datacave_n_total", NULL, 0, DC_OK);
    dc_metric *h = reg(DC_METRIC_HISTOGRAM, "datacave_h_seconds", NULL, 0, DC_OK);
    adder a = {dc_metrics_series(c, NULL), dc_metrics_series(h, NULL)};
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&t[i], NULL, add_many, &a), 0);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    double out[3] = {0};
    dc_metrics_visitor v = {sizeof v, NULL, sum_series};
    dc_metrics_visit(&v, out);
    assert_true(out[0] == 400000.0);
    assert_true(out[1] == 400000.0);
    assert_true(out[2] == 200000.0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_registration_rules, reset),
        cmocka_unit_test_setup(test_series_and_visit, reset),
        cmocka_unit_test_setup(test_concurrent_updates_are_not_lost, reset),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    dc_metrics_reset();
    return rc;
}
