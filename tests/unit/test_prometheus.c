/*
 * test_prometheus.c - the prometheus module's exposition renderer
 * (modules/prometheus/expo.c) over the host's own metrics registry:
 * escaping of help text and label values, histogram lines (cumulative
 * buckets, +Inf, _sum, _count), family order and grouping, empty
 * families left out, the process families (and no name twice), value
 * formatting, and the process figures read from /proc.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "metrics_registry.h"
#include "prometheus/expo.h"
#include "prometheus/proc.h"

static int reset(void **state)
{
    (void)state;
    dc_metrics_reset();
    return 0;
}

static int visit_registry(void *ctx, const dc_metrics_visitor *v, void *ud)
{
    (void)ctx;
    return dc_metrics_visit(v, ud);
}

static dc_metric *reg(uint32_t type, const char *name, const char *help,
                      const char *const *labels, uint32_t nlabels,
                      const double *buckets, uint32_t nbuckets)
{
    dc_metric_desc d = {.size = sizeof d, .type = type, .name = name,
                        .help = help, .label_names = labels,
                        .nlabels = nlabels, .buckets = buckets,
                        .nbuckets = nbuckets};
    dc_metric *m = NULL;
    dc_error err;
    dc_error_init(&err);
    assert_int_equal(dc_metrics_register(&d, &m, &err), DC_OK);
    return m;
}

/* Render the registry (and proc when not NULL); caller frees. */
static char *render(const prom_process *proc)
{
    prom_buf b = {0};
    assert_int_equal(prom_render(visit_registry, NULL, proc, &b), DC_OK);
    assert_false(b.oom);
    char *s = strdup(b.data ? b.data : "");
    prom_buf_free(&b);
    assert_non_null(s);
    return s;
}

/* True when `line` is one whole line of text. */
static bool has_line(const char *text, const char *line)
{
    size_t n = strlen(line);
    for (const char *p = text; (p = strstr(p, line)) != NULL; p++)
        if ((p == text || p[-1] == '\n') && p[n] == '\n')
            return true;
    return false;
}

/* Offset of the line, which must be there. */
static size_t line_at(const char *text, const char *line)
{
    size_t n = strlen(line);
    for (const char *p = text; (p = strstr(p, line)) != NULL; p++)
        if ((p == text || p[-1] == '\n') && p[n] == '\n')
            return (size_t)(p - text);
    fail_msg("line not found: %s\n--- in:\n%s", line, text);
    return 0;
}

static int count_substr(const char *text, const char *s)
{
    int n = 0;
    for (const char *p = text; (p = strstr(p, s)) != NULL; p += strlen(s))
        n++;
    return n;
}

static void test_escaping(void **state)
{
    (void)state;
    const char *lab[] = {"path", "mode"};
    dc_metric *m = reg(DC_METRIC_COUNTER, "t_escapes_total",
                       "help with \\ backslash\nand a second line", lab, 2,
                       NULL, 0);
    const char *v[] = {"C:\\dir \"quoted\"\nnext", "plain"};
    dc_metrics_counter_add(dc_metrics_series(m, v), 3);
    char *out = render(NULL);
    assert_true(has_line(out, "# HELP t_escapes_total help with \\\\ "
                              "backslash\\nand a second line"));
    assert_true(has_line(out, "# TYPE t_escapes_total counter"));
    assert_true(has_line(out, "t_escapes_total{path=\"C:\\\\dir "
                              "\\\"quoted\\\"\\nnext\",mode=\"plain\"} 3"));
    /* Nothing raw got through: the output has exactly its three lines. */
    assert_int_equal(count_substr(out, "\n"), 3);
    free(out);
}

static void test_histogram_lines(void **state)
{
    (void)state;
    static const double b[] = {0.001, 0.25, 1};
    const char *lab[] = {"op"};
    dc_metric *m = reg(DC_METRIC_HISTOGRAM, "t_latency_seconds",
                       "how long", lab, 1, b, 3);
    const char *v[] = {"get"};
    dc_series *s = dc_metrics_series(m, v);
    /* 2^-10 -> le 0.001; 0.25 (on the bound) -> le 0.25; 0.5 -> le 1;
     * 3 -> only +Inf.  Each is exact in binary, and so is their sum. */
    dc_metrics_histogram_observe(s, 0.0009765625);
    dc_metrics_histogram_observe(s, 0.25);
    dc_metrics_histogram_observe(s, 0.5);
    dc_metrics_histogram_observe(s, 3);
    char *out = render(NULL);
    assert_true(has_line(out, "# TYPE t_latency_seconds histogram"));
    assert_true(has_line(out, "t_latency_seconds_bucket{op=\"get\",le=\"0.001\"} 1"));
    assert_true(has_line(out, "t_latency_seconds_bucket{op=\"get\",le=\"0.25\"} 2"));
    assert_true(has_line(out, "t_latency_seconds_bucket{op=\"get\",le=\"1\"} 3"));
    assert_true(has_line(out, "t_latency_seconds_bucket{op=\"get\",le=\"+Inf\"} 4"));
    assert_true(has_line(out, "t_latency_seconds_sum{op=\"get\"} 3.7509765625"));
    assert_true(has_line(out, "t_latency_seconds_count{op=\"get\"} 4"));
    /* Buckets ascend in the output, then _sum, then _count. */
    assert_true(line_at(out, "t_latency_seconds_bucket{op=\"get\",le=\"0.001\"} 1") <
                line_at(out, "t_latency_seconds_bucket{op=\"get\",le=\"0.25\"} 2"));
    assert_true(line_at(out, "t_latency_seconds_bucket{op=\"get\",le=\"1\"} 3") <
                line_at(out, "t_latency_seconds_bucket{op=\"get\",le=\"+Inf\"} 4"));
    assert_true(line_at(out, "t_latency_seconds_bucket{op=\"get\",le=\"+Inf\"} 4") <
                line_at(out, "t_latency_seconds_sum{op=\"get\"} 3.7509765625"));
    assert_true(line_at(out, "t_latency_seconds_sum{op=\"get\"} 3.7509765625") <
                line_at(out, "t_latency_seconds_count{op=\"get\"} 4"));
    free(out);

    /* Without labels, le is the only label. */
    dc_metric *u = reg(DC_METRIC_HISTOGRAM, "t_plain_seconds", "plain", NULL,
                       0, b, 3);
    dc_metrics_histogram_observe(dc_metrics_series(u, NULL), 0.1);
    out = render(NULL);
    assert_true(has_line(out, "t_plain_seconds_bucket{le=\"0.001\"} 0"));
    assert_true(has_line(out, "t_plain_seconds_bucket{le=\"0.25\"} 1"));
    assert_true(has_line(out, "t_plain_seconds_bucket{le=\"+Inf\"} 1"));
    assert_true(has_line(out, "t_plain_seconds_sum 0.1"));
    assert_true(has_line(out, "t_plain_seconds_count 1"));
    free(out);
}

/* Every sample line of family `name` lies between its TYPE line and the
 * next comment line of another family. */
static void assert_grouped(const char *out, const char *name)
{
    char type[128];
    snprintf(type, sizeof type, "# TYPE %s ", name);
    const char *t = strstr(out, type);
    assert_non_null(t);
    /* Find where the family's block ends: the next "# HELP" after t. */
    const char *end = strstr(t, "\n# HELP ");
    size_t lo = (size_t)(t - out), hi = end ? (size_t)(end - out) : strlen(out);
    size_t n = strlen(name);
    for (const char *p = out; *p;) {
        const char *eol = strchr(p, '\n');
        assert_non_null(eol);
        if (p[0] != '#' && strncmp(p, name, n) == 0 &&
            (p[n] == '{' || p[n] == ' ' || p[n] == '_')) {
            size_t at = (size_t)(p - out);
            assert_true(at > lo && at < hi);
        }
        p = eol + 1;
    }
}

static void test_family_order_and_grouping(void **state)
{
    (void)state;
    const char *lab[] = {"k"};
    dc_metric *a = reg(DC_METRIC_COUNTER, "t_first_total", "first", lab, 1,
                       NULL, 0);
    dc_metric *e = reg(DC_METRIC_GAUGE, "t_empty", "no series", NULL, 0,
                       NULL, 0);
    dc_metric *g = reg(DC_METRIC_GAUGE, "t_second", "second", NULL, 0, NULL,
                       0);
    (void)e;
    const char *x[] = {"x"}, *y[] = {"y"};
    dc_series *sx = dc_metrics_series(a, x);
    dc_metrics_gauge_set(dc_metrics_series(g, NULL), -2.5);
    dc_series *sy = dc_metrics_series(a, y);
    dc_metrics_counter_add(sx, 1);
    dc_metrics_counter_add(sy, 2);
    char *out = render(NULL);
    /* Registration order; HELP before TYPE before the samples. */
    size_t h1 = line_at(out, "# HELP t_first_total first");
    size_t t1 = line_at(out, "# TYPE t_first_total counter");
    size_t s1x = line_at(out, "t_first_total{k=\"x\"} 1");
    size_t s1y = line_at(out, "t_first_total{k=\"y\"} 2");
    size_t h2 = line_at(out, "# HELP t_second second");
    size_t t2 = line_at(out, "# TYPE t_second gauge");
    size_t s2 = line_at(out, "t_second -2.5");
    assert_true(h1 < t1 && t1 < s1x && s1x < s1y && s1y < h2);
    assert_true(h2 < t2 && t2 < s2);
    assert_grouped(out, "t_first_total");
    assert_grouped(out, "t_second");
    /* A family without series says nothing. */
    assert_null(strstr(out, "t_empty"));
    /* One HELP and one TYPE per family. */
    assert_int_equal(count_substr(out, "# TYPE t_first_total "), 1);
    assert_int_equal(count_substr(out, "# HELP t_first_total "), 1);
    free(out);
}

static void test_process_families(void **state)
{
    (void)state;
    prom_process p;
    memset(&p, 0, sizeof p);
    p.have_cpu = p.have_rss = p.have_fds = true;
    p.cpu_seconds = 1.5;
    p.resident_bytes = 4096;
    p.open_fds = 7;
    /* have_vms, have_max_fds, have_start false: left out. */
    char *out = render(&p);
    assert_true(has_line(out, "# TYPE process_cpu_seconds_total counter"));
    assert_true(has_line(out, "process_cpu_seconds_total 1.5"));
    assert_true(has_line(out, "# TYPE process_resident_memory_bytes gauge"));
    assert_true(has_line(out, "process_resident_memory_bytes 4096"));
    assert_true(has_line(out, "process_open_fds 7"));
    assert_null(strstr(out, "process_virtual_memory_bytes"));
    assert_null(strstr(out, "process_max_fds"));
    assert_null(strstr(out, "process_start_time_seconds"));
    free(out);

    /* A registry family of the same name wins: the name appears once. */
    dc_metric *m = reg(DC_METRIC_GAUGE, "process_open_fds", "from a module",
                       NULL, 0, NULL, 0);
    dc_metrics_gauge_set(dc_metrics_series(m, NULL), 99);
    out = render(&p);
    assert_int_equal(count_substr(out, "# TYPE process_open_fds "), 1);
    assert_true(has_line(out, "process_open_fds 99"));
    assert_false(has_line(out, "process_open_fds 7"));
    assert_true(has_line(out, "process_cpu_seconds_total 1.5"));
    free(out);
}

static void test_value_format(void **state)
{
    (void)state;
    char b[64];
    prom_format_value(NAN, b, sizeof b);
    assert_string_equal(b, "NaN");
    prom_format_value(INFINITY, b, sizeof b);
    assert_string_equal(b, "+Inf");
    prom_format_value(-INFINITY, b, sizeof b);
    assert_string_equal(b, "-Inf");
    prom_format_value(0, b, sizeof b);
    assert_string_equal(b, "0");
    prom_format_value(12345678901234.0, b, sizeof b);
    assert_string_equal(b, "12345678901234");
    prom_format_value(-3, b, sizeof b);
    assert_string_equal(b, "-3");
    prom_format_value(0.0001, b, sizeof b);
    assert_string_equal(b, "0.0001");
    prom_format_value(2.5, b, sizeof b);
    assert_string_equal(b, "2.5");
    /* Whatever is written reads back as the same double. */
    const double vals[] = {0.1 + 0.2, 1.0 / 3.0, 1e300, 123456.789e-12,
                           9007199254740993.0 * 4};
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
        prom_format_value(vals[i], b, sizeof b);
        assert_true(strtod(b, NULL) == vals[i]);
    }
}

static void test_process_read(void **state)
{
    (void)state;
    double start = 0;
    assert_true(prom_process_start_time(&start));
    double now = (double)time(NULL);
    /* This process started before now, and not before the test run. */
    assert_true(start <= now + 1 && start > now - 3600);
    prom_process p;
    prom_process_read(&p, true, start);
    assert_true(p.have_cpu && p.have_rss && p.have_vms && p.have_fds);
    assert_true(p.resident_bytes > 0 && p.virtual_bytes >= p.resident_bytes);
    assert_true(p.open_fds >= 3); /* stdin, stdout, stderr at least */
    /* One more open descriptor is seen. */
    FILE *f = fopen("/dev/null", "r");
    assert_non_null(f);
    prom_process q;
    prom_process_read(&q, false, 0);
    assert_true(q.open_fds == p.open_fds + 1);
    assert_false(q.have_start);
    fclose(f);
    assert_true(p.start_time_seconds == start && p.have_start);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_escaping, reset),
        cmocka_unit_test_setup(test_histogram_lines, reset),
        cmocka_unit_test_setup(test_family_order_and_grouping, reset),
        cmocka_unit_test_setup(test_process_families, reset),
        cmocka_unit_test_setup(test_value_format, reset),
        cmocka_unit_test_setup(test_process_read, reset),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
