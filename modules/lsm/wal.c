/*
 * wal.c - the lsm engine's write-ahead log: segment files, record framing,
 * group commit, recovery.  Interface and contracts in wal.h; byte layouts
 * in docs/storage-wal.md.
 */
#include "lsm/wal.h"

#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lsm/crc32c.h"
#include "lsm/format.h"

static const uint8_t wal_magic[8] = {'D', 'C', 'W', 'A', 'L', 'S', 'E', 'G'};

/* AAD of a sealed record: an 8-byte label naming the kind of log, the
 * segment number and the record's offset (docs/storage-wal.md). */
#define WAL_AAD_SIZE 24
static const uint8_t wal_aad_label[2][8] = {
    {'D', 'C', 'W', 'A', 'L', 'R', 'E', 'C'},
    {'D', 'C', 'M', 'A', 'N', 'R', 'E', 'C'}};

/* ---- the handle ---------------------------------------------------------- */

enum wal_op { WAL_OP_RECORD, WAL_OP_SYNC, WAL_OP_ROTATE };

/* One caller waiting in the group-commit queue; lives on its stack. */
typedef struct wal_waiter {
    int ww_op;             /* wal_op */
    const uint8_t *ww_rec; /* WAL_OP_RECORD: the payload (borrowed) */
    size_t ww_len;
    bool ww_sync; /* must be durable before return */
    bool ww_done; /* set by a leader with ww_rc/ww_err */
    int ww_rc;
    dc_error *ww_err;    /* the caller's, may be NULL */
    uint64_t ww_segment; /* WAL_OP_ROTATE: the new segment */
    pthread_cond_t ww_cv;
    struct wal_waiter *ww_next;
} wal_waiter;

struct lsm_wal {
    char *w_dir;
    int w_sync_mode;
    const dc_encryption_vtable *w_enc;
    void *w_enc_inst;
    int w_kind; /* LSM_WAL_KIND_* */
    void (*w_hook)(void *);
    void *w_hook_ud;
    void (*w_fsync_hook)(void *, uint64_t);
    void *w_fsync_hook_ud;

    pthread_mutex_t w_mu; /* guards everything below */
    wal_waiter *w_head;   /* queue; the head is the leader */
    wal_waiter *w_tail;
    /* The fields from here to w_buf_cap belong to the current leader,
     * which uses them without w_mu: there is one leader at a time and
     * leadership passes under w_mu, which orders the accesses.  The leader
     * changes w_segment and w_off only under w_mu, so other threads may
     * read them holding it. */
    int w_fd;
    uint64_t w_segment;
    uint32_t w_key_id; /* of the current segment */
    size_t w_overhead; /* sealing overhead of the current seg */
    uint64_t w_off;    /* end of the last whole record */
    uint64_t w_alloc;  /* bytes of the file written (records + zeros) */
    bool w_dirty;      /* written since the last fsync */
    int w_broken;      /* 0, or the status of the failure */
    char w_broken_msg[sizeof(((dc_error *)0)->message)];
    uint8_t *w_buf; /* the leader's framing buffer */
    size_t w_buf_cap;
    lsm_wal_stats w_stats;
};

/* ---- small helpers ------------------------------------------------------- */

void lsm_wal_file_name(uint64_t segment, char *buf, size_t cap)
{
    snprintf(buf, cap, "wal-%016llu.log", (unsigned long long)segment);
}

/* Parse a segment file name; true when `name` is one. */
static bool wal_parse_name(const char *name, uint64_t *segment)
{
    if (strlen(name) != 24 || strncmp(name, "wal-", 4) != 0 ||
        strcmp(name + 20, ".log") != 0)
        return false;
    uint64_t v = 0;
    for (int i = 4; i < 20; i++) {
        if (name[i] < '0' || name[i] > '9')
            return false;
        uint64_t d = (uint64_t)(name[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return false;
        v = v * 10 + d;
    }
    *segment = v;
    return true;
}

static void wal_path(const char *dir, uint64_t segment, char *buf, size_t cap)
{
    char name[32];
    lsm_wal_file_name(segment, name, sizeof name);
    snprintf(buf, cap, "%s/%s", dir, name);
}

static int wal_io_error(dc_error *err, const char *what, const char *path)
{
    int e = errno;
    return dc_error_set(err, DC_EIO, DC_SQLSTATE_IO, "WAL: %s \"%s\": %s", what,
                        path, strerror(e));
}

/* How messages name a segment of this kind of log. */
static const char *wal_what(int kind)
{
    return kind == LSM_WAL_KIND_MANIFEST ? "manifest segment" : "WAL segment";
}

static int wal_corrupt(dc_error *err, int kind, const char *path, uint64_t off,
                       const char *why)
{
    return dc_error_set(err, DC_ECORRUPT, DC_SQLSTATE_CORRUPT,
                        "%s \"%s\" is corrupt at byte offset %" PRIu64 ": %s",
                        wal_what(kind), path, off, why);
}

static uint64_t wal_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int wal_fsync_dir(const char *dir, dc_error *err)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return wal_io_error(err, "cannot open directory", dir);
    int rc = 0;
    if (fsync(fd) != 0)
        rc = wal_io_error(err, "cannot fsync directory", dir);
    close(fd);
    return rc;
}

/* Write all n bytes at off, retrying short writes and EINTR. */
static int wal_pwrite_all(int fd, const uint8_t *p, size_t n, uint64_t off)
{
    while (n > 0) {
        ssize_t k = pwrite(fd, p, n, (off_t)off);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += k;
        n -= (size_t)k;
        off += (uint64_t)k;
    }
    return 0;
}

/* Segments grow by zeros written ahead of the records: as many bytes as
 * the segment holds already, at least 4 KiB and at most WAL_PREALLOC.  An
 * fdatasync after a write that stays inside the file's size only has to
 * write the data (the inode changes once per step), which halves its cost
 * on file systems that write the inode separately; a segment rotated soon
 * after it was opened costs only a page of zeros.  Recovery reads a run of
 * zeros up to the end of a segment as its end. */
#define WAL_PREALLOC (UINT64_C(1) << 20)

/* Make the file at least `need` bytes long with zeros after the records:
 * write zeros from max(need, *alloc) up to the next step. */
static int wal_prealloc(int fd, uint64_t need, uint64_t *alloc)
{
    static const uint8_t zeros[65536];
    if (need <= *alloc)
        return 0;
    uint64_t step = need < WAL_PREALLOC ? need : WAL_PREALLOC;
    if (step < 4096)
        step = 4096;
    uint64_t end = (need + step + 4095) & ~UINT64_C(4095);
    for (uint64_t off = need; off < end;) {
        size_t k = end - off > sizeof zeros ? sizeof zeros : (size_t)(end - off);
        if (wal_pwrite_all(fd, zeros, k, off) != 0)
            return -1;
        off += k;
    }
    *alloc = end;
    return 0;
}

/* Cut the zeros after the last record (before a segment is closed for
 * good, so that only the newest segment may end in zeros). */
static int wal_trim(int fd, uint64_t off, uint64_t *alloc)
{
    if (*alloc <= off)
        return 0;
    if (ftruncate(fd, (off_t)off) != 0)
        return -1;
    *alloc = off;
    return 0;
}

static void wal_aad(uint8_t aad[WAL_AAD_SIZE], int kind, uint64_t segment,
                    uint64_t off)
{
    memcpy(aad, wal_aad_label[kind == LSM_WAL_KIND_MANIFEST], 8);
    lsm_put_fixed64(aad + 8, segment);
    lsm_put_fixed64(aad + 16, off);
}

static void wal_encode_header(uint8_t h[LSM_WAL_HEADER_SIZE], uint32_t key_id,
                              uint64_t segment)
{
    memcpy(h, wal_magic, 8);
    lsm_put_fixed32(h + 8, LSM_FORMAT_VERSION);
    lsm_put_fixed32(h + 12, key_id);
    lsm_put_fixed64(h + 16, segment);
    lsm_put_fixed32(h + 24, 0);
    lsm_put_fixed32(h + 28, lsm_crc_mask(lsm_crc32c(h, 28)));
}

/* Create segment file `segment` in dir with its header, fsync it and the
 * directory.  On success *fd_out is the open file (read-write). */
static int wal_create_segment(const char *dir, uint64_t segment,
                              uint32_t key_id, int *fd_out, dc_error *err)
{
    char path[PATH_MAX];
    wal_path(dir, segment, path, sizeof path);
    int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        if (errno == EEXIST)
            return dc_error_set(err, DC_EEXIST, DC_SQLSTATE_INTERNAL,
                                "WAL: segment \"%s\" already exists", path);
        return wal_io_error(err, "cannot create segment", path);
    }
    uint8_t h[LSM_WAL_HEADER_SIZE];
    wal_encode_header(h, key_id, segment);
    int rc = 0;
    if (wal_pwrite_all(fd, h, sizeof h, 0) != 0)
        rc = wal_io_error(err, "cannot write header of", path);
    else if (fsync(fd) != 0)
        rc = wal_io_error(err, "cannot fsync", path);
    if (rc == 0)
        rc = wal_fsync_dir(dir, err);
    if (rc != 0) {
        close(fd);
        unlink(path);
        return rc;
    }
    *fd_out = fd;
    return 0;
}

static uint32_t wal_current_key(const dc_encryption_vtable *enc, void *inst)
{
    return enc ? enc->current_key_id(inst) : 0;
}

/* ---- open, close, stats -------------------------------------------------- */

int lsm_wal_open(const lsm_wal_options *o, uint64_t segment, lsm_wal **out,
                 dc_error *err)
{
    if (o == NULL || o->dir == NULL || out == NULL ||
        o->sync_mode < LSM_WAL_SYNC_ALWAYS || o->sync_mode > LSM_WAL_SYNC_OFF ||
        (o->kind != LSM_WAL_KIND_LOG && o->kind != LSM_WAL_KIND_MANIFEST))
        return dc_error_set(err, DC_EINVAL, DC_SQLSTATE_INTERNAL,
                            "WAL: invalid options");
    lsm_wal *w = calloc(1, sizeof *w);
    if (w == NULL || (w->w_dir = strdup(o->dir)) == NULL) {
        free(w);
        return dc_error_set(err, DC_ENOMEM, DC_SQLSTATE_OOM,
                            "WAL: out of memory");
    }
    w->w_sync_mode = o->sync_mode;
    w->w_enc = o->enc;
    w->w_enc_inst = o->enc_instance;
    w->w_kind = o->kind;
    w->w_hook = o->leader_hook;
    w->w_hook_ud = o->leader_hook_ud;
    w->w_fsync_hook = o->fsync_hook;
    w->w_fsync_hook_ud = o->fsync_hook_ud;
    w->w_key_id = wal_current_key(w->w_enc, w->w_enc_inst);
    w->w_overhead = w->w_key_id ? w->w_enc->overhead(w->w_enc_inst) : 0;
    int rc = wal_create_segment(w->w_dir, segment, w->w_key_id, &w->w_fd, err);
    if (rc != 0) {
        free(w->w_dir);
        free(w);
        return rc;
    }
    pthread_mutex_init(&w->w_mu, NULL);
    w->w_segment = segment;
    w->w_off = LSM_WAL_HEADER_SIZE;
    w->w_alloc = LSM_WAL_HEADER_SIZE;
    w->w_stats.file_bytes = LSM_WAL_HEADER_SIZE;
    *out = w;
    return 0;
}

void lsm_wal_close(lsm_wal *w)
{
    if (w == NULL)
        return;
    assert(w->w_head == NULL);
    if (!w->w_broken) {
        if (w->w_alloc > w->w_off)
            (void)wal_trim(w->w_fd, w->w_off, &w->w_alloc);
        if (w->w_dirty)
            (void)fdatasync(w->w_fd);
    }
    close(w->w_fd);
    pthread_mutex_destroy(&w->w_mu);
    free(w->w_buf);
    free(w->w_dir);
    free(w);
}

uint64_t lsm_wal_segment(lsm_wal *w)
{
    pthread_mutex_lock(&w->w_mu);
    uint64_t s = w->w_segment;
    pthread_mutex_unlock(&w->w_mu);
    return s;
}

int lsm_wal_sync_mode(const lsm_wal *w)
{
    return w->w_sync_mode;
}

void lsm_wal_stats_get(lsm_wal *w, lsm_wal_stats *out)
{
    pthread_mutex_lock(&w->w_mu);
    *out = w->w_stats;
    out->segment = w->w_segment;
    pthread_mutex_unlock(&w->w_mu);
}

/* ---- the leader's work --------------------------------------------------- */

/* fdatasync the current segment when dirty.  Leader only, no lock held. */
static int wal_leader_fsync(lsm_wal *w, uint64_t *fsyncs, uint64_t *ns,
                            dc_error *err)
{
    if (!w->w_dirty)
        return 0;
    uint64_t t0 = wal_now_ns();
    if (fdatasync(w->w_fd) != 0) {
        char path[PATH_MAX];
        wal_path(w->w_dir, w->w_segment, path, sizeof path);
        return wal_io_error(err, "cannot fsync", path);
    }
    uint64_t took = wal_now_ns() - t0;
    *ns += took;
    *fsyncs += 1;
    w->w_dirty = false;
    if (w->w_fsync_hook)
        w->w_fsync_hook(w->w_fsync_hook_ud, took);
    return 0;
}

/* Frame the n records from `first` on into w->w_buf starting at file offset
 * w_off, write them with one write and fsync when any asks for it.  Leader
 * only, no lock held.  *written gets the bytes written. */
static int wal_leader_write(lsm_wal *w, wal_waiter *first, size_t n,
                            uint64_t *written, uint64_t *fsyncs, uint64_t *ns,
                            dc_error *err)
{
    size_t total = 0;
    bool sync = w->w_sync_mode == LSM_WAL_SYNC_ALWAYS;
    /* The last member's ww_next may be written by an arrival right now
     * (under w_mu): never read it here. */
    wal_waiter *p = first;
    for (size_t i = 0; i < n; p = ++i < n ? p->ww_next : NULL) {
        if (p->ww_len + w->w_overhead > LSM_WAL_MAX_RECORD)
            return dc_error_set(err, DC_EINVAL, DC_SQLSTATE_INTERNAL,
                                "WAL: a record of %zu bytes is too large "
                                "once sealed",
                                p->ww_len);
        total += LSM_WAL_RECORD_HEADER_SIZE + p->ww_len + w->w_overhead;
        sync = sync || p->ww_sync;
    }
    if (total > w->w_buf_cap) {
        size_t cap = w->w_buf_cap ? w->w_buf_cap : 4096;
        while (cap < total)
            cap *= 2;
        uint8_t *b = realloc(w->w_buf, cap);
        if (b == NULL)
            return dc_error_set(err, DC_ENOMEM, DC_SQLSTATE_OOM,
                                "WAL: out of memory for a %zu-byte write",
                                total);
        w->w_buf = b;
        w->w_buf_cap = cap;
    }
    size_t pos = 0;
    p = first;
    for (size_t i = 0; i < n; p = ++i < n ? p->ww_next : NULL) {
        uint8_t *h = w->w_buf + pos;
        uint8_t *body = h + LSM_WAL_RECORD_HEADER_SIZE;
        size_t stored = p->ww_len;
        if (w->w_key_id != 0) {
            uint8_t aad[WAL_AAD_SIZE];
            wal_aad(aad, w->w_kind, w->w_segment, w->w_off + pos);
            size_t out_len = 0;
            int rc = w->w_enc->seal(w->w_enc_inst, w->w_key_id, aad, sizeof aad,
                                    p->ww_rec, p->ww_len, body,
                                    p->ww_len + w->w_overhead, &out_len, err);
            if (rc != 0)
                return rc;
            if (out_len != p->ww_len + w->w_overhead)
                return dc_error_set(err, DC_ERR, DC_SQLSTATE_INTERNAL,
                                    "WAL: the encryption module sealed %zu "
                                    "bytes into %zu, expected %zu",
                                    p->ww_len, out_len,
                                    p->ww_len + w->w_overhead);
            stored = out_len;
        } else if (p->ww_len > 0) {
            memcpy(body, p->ww_rec, p->ww_len);
        }
        lsm_put_fixed32(h + 4, (uint32_t)stored);
        lsm_put_fixed32(h, lsm_crc_mask(lsm_crc32c(h + 4, 4 + stored)));
        pos += LSM_WAL_RECORD_HEADER_SIZE + stored;
    }
    if (wal_pwrite_all(w->w_fd, w->w_buf, pos, w->w_off) != 0 ||
        wal_prealloc(w->w_fd, w->w_off + pos, &w->w_alloc) != 0) {
        char path[PATH_MAX];
        wal_path(w->w_dir, w->w_segment, path, sizeof path);
        return wal_io_error(err, "cannot write to", path);
    }
    w->w_dirty = true;
    *written = pos;
    if (sync)
        return wal_leader_fsync(w, fsyncs, ns, err);
    return 0;
}

/* Make the current segment durable and switch to segment + 1.  Leader
 * only, no lock held; the new fd/segment are installed by the caller under
 * the lock. */
static int wal_leader_rotate(lsm_wal *w, int *fd, uint32_t *key_id,
                             uint64_t *fsyncs, uint64_t *ns, dc_error *err)
{
    /* Cut the zeros ahead (not synced for its own sake: should the cut be
     * lost in a crash, recovery reads the zeros as the end all the same). */
    if (w->w_alloc > w->w_off && wal_trim(w->w_fd, w->w_off, &w->w_alloc) != 0) {
        char path[PATH_MAX];
        wal_path(w->w_dir, w->w_segment, path, sizeof path);
        return wal_io_error(err, "cannot truncate", path);
    }
    int rc = wal_leader_fsync(w, fsyncs, ns, err);
    if (rc != 0)
        return rc;
    *key_id = wal_current_key(w->w_enc, w->w_enc_inst);
    return wal_create_segment(w->w_dir, w->w_segment + 1, *key_id, fd, err);
}

/* Queue `me`, wait until a leader did its work or it becomes the leader,
 * and in the latter case do the work of the head of the queue. */
static int wal_submit(lsm_wal *w, wal_waiter *me)
{
    pthread_cond_init(&me->ww_cv, NULL);
    me->ww_next = NULL;
    me->ww_done = false;
    pthread_mutex_lock(&w->w_mu);
    if (w->w_tail)
        w->w_tail->ww_next = me;
    else
        w->w_head = me;
    w->w_tail = me;
    w->w_stats.queued++;
    while (!me->ww_done && w->w_head != me)
        pthread_cond_wait(&me->ww_cv, &w->w_mu);
    if (me->ww_done) {
        pthread_mutex_unlock(&w->w_mu);
        pthread_cond_destroy(&me->ww_cv);
        return me->ww_rc;
    }

    /* The leader. */
    dc_error lerr;
    dc_error_init(&lerr);
    int rc = 0;
    if (w->w_broken) {
        rc = dc_error_set(&lerr, DC_EIO, DC_SQLSTATE_IO,
                          "WAL is unusable after an earlier failure: %s",
                          w->w_broken_msg);
    }
    if (rc == 0 && w->w_hook) {
        pthread_mutex_unlock(&w->w_mu);
        w->w_hook(w->w_hook_ud);
        pthread_mutex_lock(&w->w_mu);
    }
    /* Collect the batch: consecutive records, or one other op.  Counted,
     * not ended by a pointer: arrivals link themselves behind the batch
     * while the leader works. */
    size_t n = 1;
    if (me->ww_op == WAL_OP_RECORD) {
        for (wal_waiter *p = me->ww_next; p && p->ww_op == WAL_OP_RECORD;
             p = p->ww_next)
            n++;
    }
    pthread_mutex_unlock(&w->w_mu);

    uint64_t written = 0, fsyncs = 0, ns = 0, appends = 0, bytes = 0;
    int new_fd = -1;
    uint32_t new_key = 0;
    if (rc == 0) {
        switch (me->ww_op) {
        case WAL_OP_RECORD: {
            rc = wal_leader_write(w, me, n, &written, &fsyncs, &ns, &lerr);
            wal_waiter *p = me;
            for (size_t i = 0; i < n; p = ++i < n ? p->ww_next : NULL) {
                appends++;
                bytes += p->ww_len;
            }
            break;
        }
        case WAL_OP_SYNC:
            rc = wal_leader_fsync(w, &fsyncs, &ns, &lerr);
            break;
        case WAL_OP_ROTATE:
            rc = wal_leader_rotate(w, &new_fd, &new_key, &fsyncs, &ns, &lerr);
            break;
        }
    }

    pthread_mutex_lock(&w->w_mu);
    w->w_stats.fsyncs += fsyncs;
    w->w_stats.fsync_ns += ns;
    if (rc == 0) {
        if (me->ww_op == WAL_OP_RECORD) {
            w->w_off += written;
            w->w_stats.writes++;
            w->w_stats.file_bytes += written;
            w->w_stats.appends += appends;
            w->w_stats.append_bytes += bytes;
        } else if (me->ww_op == WAL_OP_ROTATE) {
            close(w->w_fd);
            w->w_fd = new_fd;
            w->w_segment++;
            w->w_key_id = new_key;
            w->w_overhead = new_key ? w->w_enc->overhead(w->w_enc_inst) : 0;
            w->w_off = LSM_WAL_HEADER_SIZE;
            w->w_alloc = LSM_WAL_HEADER_SIZE;
            w->w_dirty = false;
            w->w_stats.file_bytes += LSM_WAL_HEADER_SIZE;
            me->ww_segment = w->w_segment;
        }
    } else if (!w->w_broken && rc == DC_EIO) {
        /* A failed write or fsync leaves the file in an unknown state (a
         * partial record, pages the kernel may have dropped): nothing may
         * be appended after it.  A failure before anything was written
         * (sealing, memory) fails this batch only. */
        w->w_broken = rc;
        memcpy(w->w_broken_msg, lerr.message, sizeof w->w_broken_msg);
    }
    wal_waiter *p = me;
    for (size_t i = 0; i < n; i++) {
        wal_waiter *next = p->ww_next;
        p->ww_rc = rc;
        if (rc != 0 && p->ww_err)
            dc_error_set(p->ww_err, rc, lerr.sqlstate, "%s", lerr.message);
        p->ww_done = true;
        w->w_stats.queued--;
        if (p != me)
            pthread_cond_signal(&p->ww_cv);
        p = next;
    }
    w->w_head = p;
    if (p == NULL)
        w->w_tail = NULL;
    else
        pthread_cond_signal(&p->ww_cv);
    pthread_mutex_unlock(&w->w_mu);
    pthread_cond_destroy(&me->ww_cv);
    return rc;
}

/* ---- appending ----------------------------------------------------------- */

int lsm_wal_append(lsm_wal *w, const uint8_t *rec, size_t len, bool sync,
                   dc_error *err)
{
    if (rec == NULL && len > 0)
        return dc_error_set(err, DC_EINVAL, DC_SQLSTATE_INTERNAL,
                            "WAL: a record of %zu bytes without data", len);
    if (len > LSM_WAL_MAX_RECORD - 64)
        return dc_error_set(err, DC_EINVAL, DC_SQLSTATE_INTERNAL,
                            "WAL: a record of %zu bytes is too large "
                            "(limit %u)",
                            len, (unsigned)(LSM_WAL_MAX_RECORD - 64));
    wal_waiter me;
    memset(&me, 0, sizeof me);
    me.ww_op = WAL_OP_RECORD;
    me.ww_rec = rec;
    me.ww_len = len;
    me.ww_sync = sync;
    me.ww_err = err;
    return wal_submit(w, &me);
}

int lsm_wal_sync(lsm_wal *w, dc_error *err)
{
    wal_waiter me;
    memset(&me, 0, sizeof me);
    me.ww_op = WAL_OP_SYNC;
    me.ww_err = err;
    return wal_submit(w, &me);
}

int lsm_wal_rotate(lsm_wal *w, uint64_t *new_segment, dc_error *err)
{
    wal_waiter me;
    memset(&me, 0, sizeof me);
    me.ww_op = WAL_OP_ROTATE;
    me.ww_err = err;
    int rc = wal_submit(w, &me);
    if (rc == 0 && new_segment)
        *new_segment = me.ww_segment;
    return rc;
}

/* ---- listing and removing segments --------------------------------------- */

typedef struct wal_list {
    uint64_t *wl_seg;
    size_t wl_n;
    size_t wl_cap;
} wal_list;

static int wal_cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y ? 1 : 0;
}

/* The segment numbers in dir, ascending.  Free l->wl_seg after. */
static int wal_list_segments(const char *dir, wal_list *l, dc_error *err)
{
    memset(l, 0, sizeof *l);
    DIR *d = opendir(dir);
    if (d == NULL)
        return wal_io_error(err, "cannot open directory", dir);
    struct dirent *de;
    int rc = 0;
    errno = 0;
    while ((de = readdir(d)) != NULL) {
        uint64_t seg;
        if (!wal_parse_name(de->d_name, &seg))
            continue;
        if (l->wl_n == l->wl_cap) {
            size_t cap = l->wl_cap ? l->wl_cap * 2 : 16;
            uint64_t *p = realloc(l->wl_seg, cap * sizeof *p);
            if (p == NULL) {
                rc = dc_error_set(err, DC_ENOMEM, DC_SQLSTATE_OOM,
                                  "WAL: out of memory");
                break;
            }
            l->wl_seg = p;
            l->wl_cap = cap;
        }
        l->wl_seg[l->wl_n++] = seg;
        errno = 0;
    }
    if (rc == 0 && errno != 0)
        rc = wal_io_error(err, "cannot read directory", dir);
    closedir(d);
    if (rc != 0) {
        free(l->wl_seg);
        l->wl_seg = NULL;
        return rc;
    }
    if (l->wl_n > 1)
        qsort(l->wl_seg, l->wl_n, sizeof *l->wl_seg, wal_cmp_u64);
    return 0;
}

int lsm_wal_remove_up_to(lsm_wal *w, uint64_t segment, dc_error *err)
{
    uint64_t cur = lsm_wal_segment(w);
    if (segment >= cur)
        return dc_error_set(err, DC_EINVAL, DC_SQLSTATE_INTERNAL,
                            "WAL: cannot remove segments up to %" PRIu64
                            ": segment %" PRIu64 " is in use",
                            segment, cur);
    wal_list l;
    int rc = wal_list_segments(w->w_dir, &l, err);
    if (rc != 0)
        return rc;
    bool removed = false;
    for (size_t i = 0; i < l.wl_n && l.wl_seg[i] <= segment; i++) {
        char path[PATH_MAX];
        wal_path(w->w_dir, l.wl_seg[i], path, sizeof path);
        if (unlink(path) != 0 && errno != ENOENT) {
            rc = wal_io_error(err, "cannot remove", path);
            break;
        }
        removed = true;
    }
    free(l.wl_seg);
    if (removed) {
        int rc2 = wal_fsync_dir(w->w_dir, rc == 0 ? err : NULL);
        if (rc == 0)
            rc = rc2;
    }
    return rc;
}

/* ---- recovery ------------------------------------------------------------ */

/* True when a whole record with a matching CRC starts at off. */
static bool wal_valid_at(const uint8_t *m, uint64_t size, uint64_t off)
{
    if (size - off < LSM_WAL_RECORD_HEADER_SIZE)
        return false;
    uint32_t len = lsm_get_fixed32(m + off + 4);
    if (len > LSM_WAL_MAX_RECORD ||
        size - off - LSM_WAL_RECORD_HEADER_SIZE < len)
        return false;
    return lsm_crc_unmask(lsm_get_fixed32(m + off)) ==
           lsm_crc32c(m + off + 4, 4 + (size_t)len);
}

/* True when every byte from off to the end is zero. */
static bool wal_zero_tail(const uint8_t *m, uint64_t size, uint64_t off)
{
    for (uint64_t p = off; p < size; p++)
        if (m[p] != 0)
            return false;
    return true;
}

/* Read one segment file.  `last` says whether it is the newest one (whose
 * torn tail is cut).  Calls fn per record. */
static int wal_recover_file(const lsm_wal_options *o, uint64_t segment,
                            bool last, lsm_wal_record_fn fn, void *ud,
                            dc_error *err)
{
    char path[PATH_MAX];
    wal_path(o->dir, segment, path, sizeof path);
    int fd = open(path, (o->read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC);
    if (fd < 0)
        return wal_io_error(err, "cannot open segment", path);
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int rc = wal_io_error(err, "cannot stat", path);
        close(fd);
        return rc;
    }
    uint64_t size = (uint64_t)st.st_size;
    if (size < LSM_WAL_HEADER_SIZE) {
        close(fd);
        if (!last)
            return wal_corrupt(err, o->kind, path, size,
                               "the file is shorter than its header");
        /* Crashed while being created: it never held a record. */
        if (o->read_only)
            return DC_OK;
        if (unlink(path) != 0)
            return wal_io_error(err, "cannot remove", path);
        return wal_fsync_dir(o->dir, err);
    }
    const uint8_t *m = mmap(NULL, (size_t)size, PROT_READ, MAP_SHARED, fd, 0);
    if (m == MAP_FAILED) {
        int rc = wal_io_error(err, "cannot map", path);
        close(fd);
        return rc;
    }

    int rc = 0;
    uint8_t *plain = NULL;
    size_t plain_cap = 0;
    uint32_t version = lsm_get_fixed32(m + 8);
    uint32_t key_id = lsm_get_fixed32(m + 12);
    size_t overhead = 0;
    uint64_t off = LSM_WAL_HEADER_SIZE;
    if (memcmp(m, wal_magic, 8) != 0) {
        rc = wal_corrupt(err, o->kind, path, 0, "bad magic: not a WAL segment");
        goto out;
    }
    if (lsm_crc_unmask(lsm_get_fixed32(m + 28)) != lsm_crc32c(m, 28)) {
        rc = wal_corrupt(err, o->kind, path, 0, "header checksum mismatch");
        goto out;
    }
    if (version > LSM_FORMAT_VERSION) {
        rc = dc_error_set(err, DC_EUNSUPPORTED, DC_SQLSTATE_FEATURE,
                          "%s \"%s\" has format version %" PRIu32
                          ", newer than the newest this build reads "
                          "(%u)",
                          wal_what(o->kind), path, version,
                          LSM_FORMAT_VERSION);
        dc_error_hint(err, "Run a newer Datacave on this data directory.");
        goto out;
    }
    if (lsm_get_fixed64(m + 16) != segment) {
        rc = wal_corrupt(err, o->kind, path, 16,
                         "the header's segment number does not match the "
                         "file name");
        goto out;
    }
    if (key_id != 0 && o->enc == NULL) {
        rc = dc_error_set(err, DC_EINVAL, DC_SQLSTATE_CONFIG,
                          "%s \"%s\" is encrypted (key id %08" PRIx32
                          ") but no encryption module is configured",
                          wal_what(o->kind), path, key_id);
        goto out;
    }
    if (o->enc != NULL &&
        DC_HAS_FIELD(o->enc, dc_encryption_vtable, check_key) &&
        o->enc->check_key != NULL) {
        /* Refused before any record is read: the wrong key, a retired key
         * left out, or a segment in the clear where none is accepted. */
        dc_error kerr;
        dc_error_init(&kerr);
        int krc = o->enc->check_key(o->enc_instance, key_id, &kerr);
        if (krc != 0) {
            rc = dc_error_set(err, krc, kerr.sqlstate, "%s \"%s\": %s",
                              wal_what(o->kind), path, kerr.message);
            if (kerr.hint[0] != '\0')
                dc_error_hint(err, "%s", kerr.hint);
            goto out;
        }
    }
    if (key_id != 0)
        overhead = o->enc->overhead(o->enc_instance);

    while (off < size) {
        if (!wal_valid_at(m, size, off) && wal_zero_tail(m, size, off)) {
            /* The zeros written ahead of the records: the end.  Cut them
             * from the newest segment (appends go to a new one). */
            if (!last || o->read_only)
                goto out;
            munmap((void *)m, (size_t)size);
            m = NULL;
            if (ftruncate(fd, (off_t)off) != 0)
                rc = wal_io_error(err, "cannot truncate", path);
            else if (fsync(fd) != 0)
                rc = wal_io_error(err, "cannot fsync", path);
            goto out;
        }
        if (!wal_valid_at(m, size, off)) {
            /* Damage: a torn tail when nothing valid follows it. */
            bool more = false;
            for (uint64_t p = off + 1; p + LSM_WAL_RECORD_HEADER_SIZE <= size;
                 p++) {
                if (wal_valid_at(m, size, p)) {
                    more = true;
                    break;
                }
            }
            char why[128];
            uint64_t rem = size - off;
            if (rem < LSM_WAL_RECORD_HEADER_SIZE)
                snprintf(why, sizeof why, "partial record header");
            else if (lsm_get_fixed32(m + off + 4) > LSM_WAL_MAX_RECORD)
                snprintf(why, sizeof why, "impossible record length %" PRIu32,
                         lsm_get_fixed32(m + off + 4));
            else if (lsm_get_fixed32(m + off + 4) > rem - 8)
                snprintf(why, sizeof why,
                         "record length %" PRIu32 " runs past the end",
                         lsm_get_fixed32(m + off + 4));
            else
                snprintf(why, sizeof why, "record checksum mismatch");
            if (more || !last) {
                rc = wal_corrupt(err, o->kind, path, off, why);
                if (!last && !more)
                    dc_error_detail(err, "Only the newest segment may end "
                                         "in a torn record.");
                goto out;
            }
            if (o->read_only)
                goto out;
            munmap((void *)m, (size_t)size);
            m = NULL;
            if (ftruncate(fd, (off_t)off) != 0)
                rc = wal_io_error(err, "cannot truncate", path);
            else if (fsync(fd) != 0)
                rc = wal_io_error(err, "cannot fsync", path);
            goto out;
        }
        uint32_t len = lsm_get_fixed32(m + off + 4);
        const uint8_t *body = m + off + LSM_WAL_RECORD_HEADER_SIZE;
        const uint8_t *rec = body;
        size_t rec_len = len;
        if (key_id != 0) {
            if (len < overhead) {
                rc = wal_corrupt(err, o->kind, path, off,
                                 "sealed record shorter than the "
                                 "encryption overhead");
                goto out;
            }
            if (len > plain_cap) {
                uint8_t *p = realloc(plain, len ? len : 1);
                if (p == NULL) {
                    rc = dc_error_set(err, DC_ENOMEM, DC_SQLSTATE_OOM,
                                      "WAL: out of memory");
                    goto out;
                }
                plain = p;
                plain_cap = len;
            }
            uint8_t aad[WAL_AAD_SIZE];
            wal_aad(aad, o->kind, segment, off);
            dc_error eerr;
            dc_error_init(&eerr);
            int erc = o->enc->open(o->enc_instance, key_id, aad, sizeof aad,
                                   body, len, plain, len, &rec_len, &eerr);
            if (erc == DC_ECORRUPT) {
                rc =
                    wal_corrupt(err, o->kind, path, off, "record failed authentication");
                dc_error_detail(err, "%s", eerr.message);
                goto out;
            }
            if (erc != 0) {
                rc = dc_error_set(err, erc, eerr.sqlstate,
                                  "%s \"%s\", record at byte offset "
                                  "%" PRIu64 ": %s",
                                  wal_what(o->kind), path, off, eerr.message);
                goto out;
            }
            rec = plain;
        }
        rc = fn(ud, segment, rec, rec_len, err);
        if (rc != 0)
            goto out;
        off += LSM_WAL_RECORD_HEADER_SIZE + (uint64_t)len;
    }
out:
    if (m != NULL)
        munmap((void *)m, (size_t)size);
    free(plain);
    close(fd);
    return rc;
}

int lsm_wal_recover(const lsm_wal_options *o, uint64_t first_segment,
                    lsm_wal_record_fn fn, void *ud, uint64_t *last_segment,
                    dc_error *err)
{
    if (o == NULL || o->dir == NULL || fn == NULL)
        return dc_error_set(err, DC_EINVAL, DC_SQLSTATE_INTERNAL,
                            "WAL: invalid arguments to recovery");
    wal_list l;
    int rc = wal_list_segments(o->dir, &l, err);
    if (rc != 0)
        return rc;
    uint64_t highest = 0;
    for (size_t i = 0; i < l.wl_n && rc == 0; i++) {
        if (l.wl_seg[i] < first_segment)
            continue;
        rc = wal_recover_file(o, l.wl_seg[i], i + 1 == l.wl_n, fn, ud, err);
        highest = l.wl_seg[i];
    }
    free(l.wl_seg);
    if (rc == 0 && last_segment)
        *last_segment = highest;
    return rc;
}
