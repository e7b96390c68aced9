/*
 * sql/gc.c - removal of the rows and index entries of dropped relations.
 *
 * DROP TABLE, DROP INDEX, DROP DATABASE and the table rewrites of ALTER
 * TABLE leave relations that no catalog refers to any more.  Relation oids
 * are never reused, so nothing reads those keys again; deleting them one by
 * one inside the dropping transaction would make its COMMIT as slow as the
 * relation is large.  Instead the commit records the relation's key range
 * under META "gc" + <first key> (value: the end key) in the same atomic
 * batch, and a background thread deletes the keys in small batches
 * afterwards, then the record.  A crash in between leaves the record, and
 * the next start resumes it: deleting a key twice is harmless.  Reads at
 * an older snapshot see the relation as of that snapshot, since the
 * deletes are ordinary newer versions.
 */
#include <stdlib.h>
#include <string.h>

#include "sql/gc.h"

#define GC_CHUNK 4096 /* keys per delete batch */

typedef struct sql_gc sql_gc;
struct sql_gc {
    sql_engine *eng;
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stop;
    bool pending; /* a commit queued work since the thread last looked */
    bool busy;    /* the thread is working on the queue */
};

static const uint8_t gc_prefix[6] = {0, 0, 0, SQL_REL_META, 'g', 'c'};

size_t sql_gc_key(const uint8_t *lo, size_t lolen, uint8_t *out, size_t cap)
{
    if (sizeof gc_prefix + lolen > cap)
        return 0;
    memcpy(out, gc_prefix, sizeof gc_prefix);
    memcpy(out + sizeof gc_prefix, lo, lolen);
    return sizeof gc_prefix + lolen;
}

static bool gc_stopping(sql_gc *g)
{
    if (g == NULL)
        return false;
    pthread_mutex_lock(&g->mu);
    bool s = g->stop;
    pthread_mutex_unlock(&g->mu);
    return s;
}

/* Delete every key in [lo, hi), GC_CHUNK keys per batch. */
static int gc_range(sql_engine *eng, sql_gc *g, const uint8_t *lo, size_t lolen,
                    const uint8_t *hi, size_t hilen, bool *stopped,
                    dc_error *err)
{
    uint8_t *keys = NULL;
    size_t cap = 0;
    dc_batch_op *ops = calloc(GC_CHUNK, sizeof *ops);
    size_t *offs = calloc(GC_CHUNK, sizeof *offs);
    int rc = ops && offs ? DC_OK
                         : dc_error_set(err, DC_ENOMEM, DC_SQLSTATE_OOM,
                                        "out of memory");
    /* Each batch starts after the last key of the one before: seeking from
     * lo again would step over every tombstone written so far, making
     * the whole removal quadratic in the relation's size. */
    uint8_t *from = malloc(lolen ? lolen : 1);
    size_t fromlen = lolen, fromcap = lolen ? lolen : 1;
    if (from == NULL)
        rc = dc_error_set(err, DC_ENOMEM, DC_SQLSTATE_OOM, "out of memory");
    else
        memcpy(from, lo, lolen);
    while (rc == DC_OK) {
        if (gc_stopping(g)) {
            *stopped = true;
            break;
        }
        dc_read_options ro = {.size = sizeof ro,
                              .lower = lo,
                              .lower_len = lolen,
                              .upper = hi,
                              .upper_len = hilen,
                              .skip_cache = true};
        dc_iter *it = NULL;
        if ((rc = eng->sv->iter_open(eng->store, &ro, &it, err)) != DC_OK)
            break;
        size_t n = 0, used = 0;
        for (eng->sv->iter_seek(it, from, fromlen);
             n < GC_CHUNK && eng->sv->iter_valid(it);
             eng->sv->iter_next(it)) {
            const uint8_t *k;
            size_t kn;
            eng->sv->iter_key(it, &k, &kn);
            if (used + kn > cap) {
                size_t nc = cap ? cap * 2 : 65536;
                while (nc < used + kn)
                    nc *= 2;
                uint8_t *p = realloc(keys, nc);
                if (p == NULL) {
                    rc = dc_error_set(err, DC_ENOMEM, DC_SQLSTATE_OOM,
                                      "out of memory");
                    break;
                }
                keys = p;
                cap = nc;
            }
            memcpy(keys + used, k, kn);
            offs[n] = used;
            ops[n] = (dc_batch_op){.op = DC_OP_DELETE, .key_len = kn};
            used += kn;
            n++;
        }
        if (rc == DC_OK)
            rc = eng->sv->iter_status(it, err);
        eng->sv->iter_close(it);
        if (rc != DC_OK || n == 0)
            break;
        for (size_t i = 0; i < n; i++)
            ops[i].key = keys + offs[i];
        size_t lastlen = ops[n - 1].key_len;
        if (lastlen > fromcap) {
            uint8_t *p = realloc(from, lastlen);
            if (p == NULL) {
                rc = dc_error_set(err, DC_ENOMEM, DC_SQLSTATE_OOM,
                                  "out of memory");
                break;
            }
            from = p;
            fromcap = lastlen;
        }
        memcpy(from, ops[n - 1].key, lastlen);
        fromlen = lastlen;
        dc_write_options wo = {.size = sizeof wo, .sync = DC_SYNC_NONE};
        rc = eng->sv->write(eng->store, &wo, ops, n, NULL, err);
    }
    free(from);
    free(keys);
    free(ops);
    free(offs);
    return rc;
}

/* The first queued record at or after `from` (key copied into k), or
 * nothing (*found false). */
static int gc_next_record(sql_engine *eng, uint8_t *k, size_t *kn, uint8_t *v,
                          size_t *vn, bool *found, dc_error *err)
{
    uint8_t upper[sizeof gc_prefix];
    memcpy(upper, gc_prefix, sizeof gc_prefix);
    upper[sizeof gc_prefix - 1]++;
    dc_read_options ro = {.size = sizeof ro,
                          .lower = gc_prefix,
                          .lower_len = sizeof gc_prefix,
                          .upper = upper,
                          .upper_len = sizeof upper};
    dc_iter *it = NULL;
    int rc = eng->sv->iter_open(eng->store, &ro, &it, err);
    if (rc != DC_OK)
        return rc;
    *found = false;
    eng->sv->iter_seek(it, gc_prefix, sizeof gc_prefix);
    if (eng->sv->iter_valid(it)) {
        const uint8_t *p, *q;
        size_t pn, qn;
        eng->sv->iter_key(it, &p, &pn);
        eng->sv->iter_value(it, &q, &qn);
        if (pn <= SQL_GC_KEY_MAX && qn <= SQL_GC_KEY_MAX) {
            memcpy(k, p, pn);
            memcpy(v, q, qn);
            *kn = pn;
            *vn = qn;
            *found = true;
        }
    }
    rc = eng->sv->iter_status(it, err);
    eng->sv->iter_close(it);
    return rc;
}

int sql_gc_run(sql_engine *eng, dc_error *err)
{
    sql_gc *g = eng->gc;
    for (;;) {
        uint8_t k[SQL_GC_KEY_MAX], v[SQL_GC_KEY_MAX];
        size_t kn = 0, vn = 0;
        bool found = false, stopped = false;
        int rc = gc_next_record(eng, k, &kn, v, &vn, &found, err);
        if (rc != DC_OK || !found)
            return rc;
        rc = gc_range(eng, g, k + sizeof gc_prefix, kn - sizeof gc_prefix, v,
                      vn, &stopped, err);
        if (rc != DC_OK || stopped)
            return rc;
        dc_batch_op op = {.op = DC_OP_DELETE, .key = k, .key_len = kn};
        dc_write_options wo = {.size = sizeof wo, .sync = DC_SYNC_NONE};
        if ((rc = eng->sv->write(eng->store, &wo, &op, 1, NULL, err)) != DC_OK)
            return rc;
    }
}

static void *gc_main(void *arg)
{
    sql_gc *g = arg;
    pthread_mutex_lock(&g->mu);
    for (;;) {
        while (!g->stop && !g->pending)
            pthread_cond_wait(&g->cv, &g->mu);
        if (g->stop)
            break;
        g->pending = false;
        g->busy = true;
        pthread_mutex_unlock(&g->mu);
        dc_error err;
        dc_error_init(&err);
        if (sql_gc_run(g->eng, &err) != DC_OK && g->eng->host != NULL)
            g->eng->host->log((dc_host *)g->eng->host_ctx, DC_LOG_WARN,
                              "removing the rows of dropped relations: %s "
                              "(retried at the next drop or start)",
                              err.message);
        pthread_mutex_lock(&g->mu);
        g->busy = false;
        pthread_cond_broadcast(&g->cv);
    }
    pthread_mutex_unlock(&g->mu);
    return NULL;
}

int sql_gc_start(sql_engine *eng, dc_error *err)
{
    sql_gc *g = calloc(1, sizeof *g);
    if (g == NULL)
        return dc_error_set(err, DC_ENOMEM, DC_SQLSTATE_OOM, "out of memory");
    g->eng = eng;
    g->pending = true; /* records left by an earlier run */
    pthread_mutex_init(&g->mu, NULL);
    pthread_cond_init(&g->cv, NULL);
    if (pthread_create(&g->th, NULL, gc_main, g) != 0) {
        pthread_mutex_destroy(&g->mu);
        pthread_cond_destroy(&g->cv);
        free(g);
        return dc_error_set(err, DC_ERR, DC_SQLSTATE_INTERNAL,
                            "cannot start the thread that removes dropped "
                            "relations");
    }
    eng->gc = g;
    return DC_OK;
}

void sql_gc_stop(sql_engine *eng)
{
    sql_gc *g = eng->gc;
    if (g == NULL)
        return;
    pthread_mutex_lock(&g->mu);
    g->stop = true;
    pthread_cond_broadcast(&g->cv);
    pthread_mutex_unlock(&g->mu);
    pthread_join(g->th, NULL);
    pthread_mutex_destroy(&g->mu);
    pthread_cond_destroy(&g->cv);
    free(g);
    eng->gc = NULL;
}

void sql_gc_kick(sql_engine *eng)
{
    sql_gc *g = eng->gc;
    if (g == NULL)
        return;
    pthread_mutex_lock(&g->mu);
    g->pending = true;
    pthread_cond_broadcast(&g->cv);
    pthread_mutex_unlock(&g->mu);
}

void sql_gc_wait(sql_engine *eng)
{
    sql_gc *g = eng->gc;
    if (g == NULL)
        return;
    pthread_mutex_lock(&g->mu);
    while (!g->stop && (g->pending || g->busy))
        pthread_cond_wait(&g->cv, &g->mu);
    pthread_mutex_unlock(&g->mu);
}
