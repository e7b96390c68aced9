/*
 * runtime.h - the runtime's private structures, shared by loader.c (which
 * drives modules) and services.c (which serves them).  Nothing outside
 * those two files includes this.
 */
#ifndef DATACAVE_HOST_RUNTIME_H
#define DATACAVE_HOST_RUNTIME_H

#include <pthread.h>
#include <stdatomic.h>

#include "loader.h"

struct dc_thread {
    pthread_t tid;
    char name[16];
    void *(*fn)(void *);
    void *arg;
    struct dc_host *owner;
    struct dc_thread *next;
};

/* The per-module service handle (dc_host in the public headers). */
struct dc_host {
    dc_runtime *rt;
    dc_module *mod;
    atomic_bool ready;
    pthread_mutex_t lock;       /* guards threads                       */
    struct dc_thread *threads;  /* spawned and not yet joined           */
};

struct dc_runtime {
    dc_config *cfg;
    dc_module *by_kind[DC_KIND__COUNT];
    dc_module *order[DC_KIND__COUNT];
    size_t norder;
    atomic_int state;
};

/* Join every thread of `h` not joined yet. */
void dc_host_join_all(struct dc_host *h);

#endif
