/*
 * sql/pipe.c - batches handed to a helper thread and back (pipe.h).
 *
 * Slot i cycles FREE -> QUEUED (submitted) -> DONE (helper finished) ->
 * FREE (released).  head, tail and work count slots ever released,
 * submitted and finished; slot k is slots[k % n].  One mutex and one
 * condition variable serve both directions: a batch is hundreds of rows,
 * so a wake-up per batch costs nothing that matters.
 */
#include "sql/pipe.h"

#include <pthread.h>
#include <stdlib.h>

enum { SLOT_FREE = 0, SLOT_QUEUED, SLOT_DONE };

struct sql_pipe {
    void *slots[SQL_PIPE_MAX_SLOTS];
    int state[SQL_PIPE_MAX_SLOTS];
    int n;
    unsigned head, tail, work;
    bool stop;
    sql_pipe_fn fn;
    void *ud;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_t th;
};

static void *helper_main(void *arg)
{
    sql_pipe *p = arg;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        int i = (int)(p->work % (unsigned)p->n);
        while (!p->stop && p->state[i] != SLOT_QUEUED)
            pthread_cond_wait(&p->cv, &p->mu);
        if (p->stop)
            break;
        pthread_mutex_unlock(&p->mu);
        p->fn(p->ud, p->slots[i]);
        pthread_mutex_lock(&p->mu);
        p->state[i] = SLOT_DONE;
        p->work++;
        pthread_cond_broadcast(&p->cv);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

bool sql_pipe_open(void *const *slots, int n, sql_pipe_fn fn, void *ud,
                   sql_pipe **out)
{
    *out = NULL;
    if (n < 1 || n > SQL_PIPE_MAX_SLOTS)
        return false;
    sql_pipe *p = calloc(1, sizeof *p);
    if (p == NULL)
        return false;
    for (int i = 0; i < n; i++)
        p->slots[i] = slots[i];
    p->n = n;
    p->fn = fn;
    p->ud = ud;
    if (pthread_mutex_init(&p->mu, NULL) != 0)
        goto fail;
    if (pthread_cond_init(&p->cv, NULL) != 0)
        goto fail_mu;
    if (pthread_create(&p->th, NULL, helper_main, p) != 0)
        goto fail_cv;
    *out = p;
    return true;
fail_cv:
    pthread_cond_destroy(&p->cv);
fail_mu:
    pthread_mutex_destroy(&p->mu);
fail:
    free(p);
    return false;
}

void *sql_pipe_free_slot(sql_pipe *p)
{
    /* tail - head only grows on this thread's submits. */
    if (p->tail - p->head >= (unsigned)p->n)
        return NULL;
    return p->slots[p->tail % (unsigned)p->n];
}

void sql_pipe_submit(sql_pipe *p)
{
    pthread_mutex_lock(&p->mu);
    p->state[p->tail % (unsigned)p->n] = SLOT_QUEUED;
    p->tail++;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
}

void *sql_pipe_take(sql_pipe *p, bool wait)
{
    void *slot = NULL;
    pthread_mutex_lock(&p->mu);
    if (p->head != p->tail) {
        int i = (int)(p->head % (unsigned)p->n);
        while (wait && p->state[i] != SLOT_DONE)
            pthread_cond_wait(&p->cv, &p->mu);
        if (p->state[i] == SLOT_DONE)
            slot = p->slots[i];
    }
    pthread_mutex_unlock(&p->mu);
    return slot;
}

void sql_pipe_release(sql_pipe *p)
{
    pthread_mutex_lock(&p->mu);
    p->state[p->head % (unsigned)p->n] = SLOT_FREE;
    p->head++;
    pthread_mutex_unlock(&p->mu);
}

int sql_pipe_pending(const sql_pipe *p)
{
    return (int)(p->tail - p->head);
}

void sql_pipe_close(sql_pipe *p)
{
    if (p == NULL)
        return;
    pthread_mutex_lock(&p->mu);
    p->stop = true;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    pthread_join(p->th, NULL);
    pthread_cond_destroy(&p->cv);
    pthread_mutex_destroy(&p->mu);
    free(p);
}

int sql_pipe_report(dc_error *to, int rc, const dc_error *from)
{
    /* Through the setters, which write only what the owner's struct has. */
    dc_error_set(to, rc, from->sqlstate, "%s", from->message);
    if (to != NULL && from->detail[0])
        dc_error_detail(to, "%s", from->detail);
    if (to != NULL && from->hint[0])
        dc_error_hint(to, "%s", from->hint);
    if (to != NULL && from->context[0])
        dc_error_context(to, "%s", from->context);
    return rc;
}
