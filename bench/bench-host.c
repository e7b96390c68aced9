/*
 * bench-host.c - the costs of the host's hot paths that modules hit on every
 * operation (metric updates) and of reading the config.
 *
 * There is no outside reference for these numbers; they are tracked across
 * releases.  For scale, one line per benchmark also shows an uncontended
 * relaxed atomic add measured in the same run, the floor a counter can reach.
 *
 * usage: datacave-bench-host [iterations]   (default 20,000,000)
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "metrics_registry.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long iters = 20000000;
static dc_series *g_counter, *g_hist;
static _Atomic uint64_t g_plain;

static void *count_loop(void *p)
{
    (void)p;
    for (long i = 0; i < iters; i++)
        dc_metrics_counter_add(g_counter, 1);
    return NULL;
}

static void *plain_loop(void *p)
{
    (void)p;
    for (long i = 0; i < iters; i++)
        atomic_fetch_add_explicit(&g_plain, 1, memory_order_relaxed);
    return NULL;
}

static void *hist_loop(void *p)
{
    (void)p;
    for (long i = 0; i < iters / 4; i++)
        dc_metrics_histogram_observe(g_hist, (double)(i & 1023) * 1e-5);
    return NULL;
}

/* Run fn on `threads` threads; returns ns per operation per thread. */
static double run(void *(*fn)(void *), int threads, long ops)
{
    pthread_t t[8];
    double t0 = now_s();
    for (int i = 0; i < threads; i++)
        pthread_create(&t[i], NULL, fn, NULL);
    for (int i = 0; i < threads; i++)
        pthread_join(t[i], NULL);
    return (now_s() - t0) * 1e9 / (double)ops;
}

int main(int argc, char **argv)
{
    if (argc > 1)
        iters = atol(argv[1]);
    dc_metric *c, *h;
    dc_error err;
    dc_error_init(&err);
    dc_metric_desc cd = {.size = sizeof cd, .type = DC_METRIC_COUNTER,
                         .name = "bench_ops_total", .help = "ops"};
    static const double b[] = {1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1};
    dc_metric_desc hd = {.size = sizeof hd, .type = DC_METRIC_HISTOGRAM,
                         .name = "bench_seconds", .help = "lat", .buckets = b,
                         .nbuckets = 6};
    if (dc_metrics_register(&cd, &c, &err) || dc_metrics_register(&hd, &h, &err)) {
        fprintf(stderr, "register: %s\n", err.message);
        return 1;
    }
    g_counter = dc_metrics_series(c, NULL);
    g_hist = dc_metrics_series(h, NULL);

    double plain1 = run(plain_loop, 1, iters);
    double cnt1 = run(count_loop, 1, iters);
    printf("counter_add, 1 thread      : %6.2f ns/op (atomic add floor %.2f ns/op, ratio %.2f)\n",
           cnt1, plain1, cnt1 / plain1);
    double plain2 = run(plain_loop, 2, iters);
    double cnt2 = run(count_loop, 2, iters);
    printf("counter_add, 2 threads     : %6.2f ns/op (atomic add floor %.2f ns/op, ratio %.2f)\n",
           cnt2, plain2, cnt2 / plain2);
    double hist = run(hist_loop, 1, iters / 4);
    printf("histogram_observe, 1 thread: %6.2f ns/op\n", hist);

    /* Config: parse and validate config.example.toml. */
    FILE *f = fopen("config.example.toml", "rb");
    if (f == NULL) {
        perror("config.example.toml");
        return 1;
    }
    static char text[65536];
    size_t len = fread(text, 1, sizeof text, f);
    fclose(f);
    int rounds = 2000;
    double t0 = now_s();
    for (int i = 0; i < rounds; i++) {
        dc_strlist errors = {0};
        dc_config *cfg = dc_config_parse(text, len, "config.example.toml", ".", &errors);
        if (cfg == NULL) {
            fprintf(stderr, "config.example.toml does not validate\n");
            return 1;
        }
        dc_config_free(cfg);
    }
    double per = (now_s() - t0) / rounds;
    printf("config parse + validate    : %6.1f us per file (%zu bytes, %.1f MB/s)\n",
           per * 1e6, len, (double)len / per / 1e6);
    return 0;
}
