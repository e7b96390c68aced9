/*
 * sql/gc.h - background removal of dropped relations' keys (gc.c).
 */
#ifndef DATACAVE_SQL_GC_H
#define DATACAVE_SQL_GC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sql/engine.h"

/* Longest key of a queued record (META "gc" + a range's first key) and of
 * its value (the range's end key). */
#define SQL_GC_KEY_MAX 64

/* META key of the record for a range starting at lo into out; 0 when it
 * does not fit in cap. */
size_t sql_gc_key(const uint8_t *lo, size_t lolen, uint8_t *out, size_t cap);

/* Start the thread (it first finishes what an earlier run left queued);
 * stop it (waits for the current batch).  Without a thread (tests) the
 * records stay until sql_gc_run. */
int sql_gc_start(sql_engine *eng, dc_error *err);
void sql_gc_stop(sql_engine *eng);
/* A commit queued records: wake the thread. */
void sql_gc_kick(sql_engine *eng);
/* Until the queue is empty (VACUUM waits for it). */
void sql_gc_wait(sql_engine *eng);
/* Process every queued record now, in the calling thread. */
int sql_gc_run(sql_engine *eng, dc_error *err);

#endif
