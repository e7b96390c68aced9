# prometheus: the metrics module.  prometheus.c is the entry point and the
# HTTP server (libmicrohttpd); expo.c writes the Prometheus text format
# without sockets or a host, proc.c reads the process figures.
MODULES += prometheus
LIBS_prometheus := -lmicrohttpd -lpthread

# tests/unit/test_prometheus.c: the renderer over the host's own registry.
UNIT_TESTS += test_prometheus
UNIT_SRCS_test_prometheus := modules/prometheus/expo.c modules/prometheus/proc.c \
                             host/metrics_registry.c
UNIT_LIBS_test_prometheus := -Ihost
