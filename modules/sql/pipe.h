/*
 * sql/pipe.h - batches handed between a statement's thread and a helper
 * thread, in order.
 *
 * A pipe owns one helper thread and cycles the caller's slots (batches of
 * any shape): the statement's thread takes a free slot, hands it over
 * (sql_pipe_submit), the helper runs fn on it, and the statement's thread
 * takes the slots back in the order it handed them over.  A COPY hands
 * over records and takes back encoded rows; a table rewrite hands over
 * empty slots that the helper fills with rows it scanned.  fn runs on one
 * slot at a time, in submission order, and must touch nothing the
 * statement's thread changes meanwhile.
 */
#ifndef SQL_PIPE_H
#define SQL_PIPE_H

#include <stdbool.h>
#include <stddef.h>

#include "datacave/error.h"

typedef struct sql_pipe sql_pipe;
typedef void (*sql_pipe_fn)(void *ud, void *slot);

/* Start the helper over slots[0, n) (n <= SQL_PIPE_MAX_SLOTS).  Returns
 * false when the thread (or its memory) cannot be had: the caller does the
 * work itself. */
#define SQL_PIPE_MAX_SLOTS 8
bool sql_pipe_open(void *const *slots, int n, sql_pipe_fn fn, void *ud,
                   sql_pipe **out);
/* The slot to fill next, or NULL when every slot is handed over or not
 * yet taken back. */
void *sql_pipe_free_slot(sql_pipe *p);
/* Hand the slot sql_pipe_free_slot gave to the helper. */
void sql_pipe_submit(sql_pipe *p);
/* The oldest slot handed over, once the helper is done with it (waiting
 * for that when `wait`); NULL when none is handed over or, without
 * `wait`, it is not done yet.  The caller gives it back with
 * sql_pipe_release. */
void *sql_pipe_take(sql_pipe *p, bool wait);
void sql_pipe_release(sql_pipe *p);
/* Slots handed over and not yet released. */
int sql_pipe_pending(const sql_pipe *p);
/* Stop the helper (after the slot it is on) and free the pipe; the slots
 * stay the caller's. */
void sql_pipe_close(sql_pipe *p);
/* Report in `to` (the caller's dc_error, which may be an older, smaller
 * one) the error `from` a helper left in its slot; returns rc. */
int sql_pipe_report(dc_error *to, int rc, const dc_error *from);

#endif
