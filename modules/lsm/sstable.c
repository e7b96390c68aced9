/*
 * sstable.c - SST writer, reader, point lookup and iterator; see sstable.h
 * and docs/storage-sstable.md for the byte layout.
 */
#include "sstable.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include "block.h"
#include "bloom.h"
#include "format.h"
#include "crc32c.h"
#include "common/alloc.h"

static const uint8_t HEADER_MAGIC[8] = {'D', 'C', 'L', 'S', 'M', 'S', 'S', 'T'};
static const uint8_t FOOTER_MAGIC[8] = {'D', 'C', 'S', 'S', 'T', 'E', 'N', 'D'};

#define BLOCK_TYPE_RAW  0
#define BLOCK_TYPE_ZSTD 1
/* A decompressed block may not claim more than this. */
#define MAX_BLOCK_SIZE ((uint64_t)256 << 20)

typedef struct handle {
    uint64_t off;
    uint64_t size; /* payload bytes, without the 5-byte trailer */
} handle;

static int ikey_cmp(const uint8_t *a, size_t an, const uint8_t *b, size_t bn)
{
    return lsm_ikey_cmp(a, an, b, bn);
}

static int sys_error(dc_error *err, const char *what, const char *path)
{
    int e = errno;
    return dc_error_set(err, DC_EIO, DC_SQLSTATE_IO, "could not %s \"%s\": %s",
                        what, path, strerror(e));
}

static int oom(dc_error *err)
{
    return dc_error_set(err, DC_ENOMEM, DC_SQLSTATE_OOM, "out of memory");
}

static void make_path(char *buf, size_t cap, const char *dir, uint64_t num,
                      const char *suffix)
{
    snprintf(buf, cap, "%s/%016llu.sst%s", dir, (unsigned long long)num,
             suffix);
}

/* What a block holds; bound into its AAD, so that a footer pointing the
 * index or the filter at another block fails authentication. */
enum block_role { ROLE_DATA = 0, ROLE_FILTER = 1, ROLE_INDEX = 2 };

#define AAD_SIZE 24
static const uint8_t aad_label[3][8] = {
    {'D', 'C', 'S', 'S', 'T', 'D', 'A', 'T'},
    {'D', 'C', 'S', 'S', 'T', 'F', 'L', 'T'},
    {'D', 'C', 'S', 'S', 'T', 'I', 'D', 'X'}};

/* The AAD of a sealed block: role label, file number, block offset. */
static void make_aad(uint8_t aad[AAD_SIZE], int role, uint64_t file_number,
                     uint64_t off)
{
    memcpy(aad, aad_label[role], 8);
    lsm_put_fixed64(aad + 8, file_number);
    lsm_put_fixed64(aad + 16, off);
}

/* ============================================================================
 * Writer
 * ========================================================================= */

struct lsm_sst_writer {
    lsm_sst_write_options w_opts;
    char w_dir[4096];
    char w_tmp[4200];
    char w_final[4200];
    uint64_t w_num;
    int w_fd;
    uint64_t w_off;    /* bytes written so far                   */
    uint32_t w_key_id; /* 0: not encrypted                       */
    lsm_block_builder w_data;
    lsm_block_builder w_index;
    lsm_bloom_builder w_bloom;
    bool w_pending; /* an index entry awaits the next key     */
    handle w_pending_h;
    uint8_t *w_last; /* last internal key added                */
    size_t w_last_len;
    size_t w_last_cap;
    uint8_t *w_first;
    size_t w_first_len;
    uint64_t w_entries;
    uint8_t *w_scratch; /* compression output                     */
    size_t w_scratch_cap;
    uint8_t *w_sealed; /* encryption output                      */
    size_t w_sealed_cap;
    ZSTD_CCtx *w_zc;
    atomic_bool w_failed;
    /* Pipeline (w_opts.pipeline): data blocks go through PIPE_SLOTS slots
     * to w_th, which writes them in order; index entries wait in w_seps
     * (separators) until finish, when w_handles has every block's place. */
    bool w_th_running;
    pthread_t w_th;
    pthread_mutex_t w_mu;
    pthread_cond_t w_cv_work, w_cv_done;
    struct pipe_slot *w_slots;
    uint64_t w_blocks;   /* data blocks handed to the thread          */
    bool w_stop;         /* w_mu: no more blocks                      */
    bool w_th_idle;      /* w_mu: the thread waits for a block        */
    bool w_main_waits;   /* w_mu: the writer waits for a free slot    */
    int w_th_rc;         /* w_mu: the thread's first failure          */
    dc_error w_th_err;
    handle *w_handles;   /* by block number (collected from slots)    */
    size_t w_handles_cap;
    uint8_t *w_seps;     /* separators, each a varint length + bytes  */
    size_t w_seps_len, w_seps_cap;
};

#define PIPE_SLOTS 16

enum { SLOT_FREE, SLOT_QUEUED, SLOT_DONE };

struct pipe_slot {
    uint8_t *raw;
    size_t len, cap;
    uint64_t block;
    handle h;
    int state; /* w_mu */
};

static int write_all(lsm_sst_writer *w, const uint8_t *p, size_t n,
                     dc_error *err)
{
    while (n > 0) {
        ssize_t r = write(w->w_fd, p, n);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            w->w_failed = true;
            return sys_error(err, "write to", w->w_tmp);
        }
        p += r;
        n -= (size_t)r;
        w->w_off += (uint64_t)r;
    }
    return DC_OK;
}

static int ensure(uint8_t **buf, size_t *cap, size_t need)
{
    if (need <= *cap)
        return DC_OK;
    uint8_t *nb = realloc(*buf, need);
    if (nb == NULL)
        return DC_ENOMEM;
    *buf = nb;
    *cap = need;
    return DC_OK;
}

/* Compress (maybe), seal (maybe), checksum and append one block. */
static int write_block(lsm_sst_writer *w, int role, const uint8_t *raw,
                       size_t len, handle *h, dc_error *err)
{
    const uint8_t *payload = raw;
    size_t plen = len;
    uint8_t type = BLOCK_TYPE_RAW;
    if (w->w_opts.compression == LSM_COMPRESS_ZSTD && len > 0) {
        size_t bound = ZSTD_compressBound(len);
        if (ensure(&w->w_scratch, &w->w_scratch_cap, bound))
            return oom(err);
        size_t c = ZSTD_compress2(w->w_zc, w->w_scratch, bound, raw, len);
        if (ZSTD_isError(c))
            return dc_error_set(err, DC_ERR, DC_SQLSTATE_INTERNAL,
                                "zstd compression failed for \"%s\": %s",
                                w->w_tmp, ZSTD_getErrorName(c));
        /* Keep it only when it saves at least 1/8. */
        if (c <= len - len / 8) {
            payload = w->w_scratch;
            plen = c;
            type = BLOCK_TYPE_ZSTD;
        }
    }
    if (w->w_key_id != 0) {
        size_t cap = plen + w->w_opts.enc->overhead(w->w_opts.enc_instance);
        if (ensure(&w->w_sealed, &w->w_sealed_cap, cap ? cap : 1))
            return oom(err);
        uint8_t aad[AAD_SIZE];
        make_aad(aad, role, w->w_num, w->w_off);
        size_t out_len = 0;
        int rc = w->w_opts.enc->seal(w->w_opts.enc_instance, w->w_key_id, aad,
                                     sizeof aad, payload, plen, w->w_sealed,
                                     cap, &out_len, err);
        if (rc != 0) {
            w->w_failed = true;
            return rc;
        }
        payload = w->w_sealed;
        plen = out_len;
    }
    uint8_t trailer[LSM_SST_TRAILER_SIZE];
    trailer[0] = type;
    uint32_t crc = lsm_crc32c_extend(lsm_crc32c(payload, plen), &type, 1);
    lsm_put_fixed32(trailer + 1, lsm_crc_mask(crc));
    h->off = w->w_off;
    h->size = plen;
    int rc = write_all(w, payload, plen, err);
    if (rc == 0)
        rc = write_all(w, trailer, sizeof trailer, err);
    return rc;
}

static int add_index_entry(lsm_sst_writer *w, const uint8_t *sep, size_t n,
                           const handle *h, dc_error *err)
{
    uint8_t v[20];
    size_t vl = lsm_put_varint64(v, h->off);
    vl += lsm_put_varint64(v + vl, h->size);
    if (lsm_block_add(&w->w_index, sep, n, v, vl))
        return oom(err);
    return DC_OK;
}

/* The pipeline's thread: writes queued data blocks in block order. */
static void *pipe_main(void *arg)
{
    lsm_sst_writer *w = arg;
    for (uint64_t b = 0;; b++) {
        struct pipe_slot *sl = &w->w_slots[b % PIPE_SLOTS];
        pthread_mutex_lock(&w->w_mu);
        while (sl->state != SLOT_QUEUED && !w->w_stop) {
            w->w_th_idle = true;
            pthread_cond_wait(&w->w_cv_work, &w->w_mu);
        }
        w->w_th_idle = false;
        bool have = sl->state == SLOT_QUEUED && w->w_th_rc == DC_OK;
        pthread_mutex_unlock(&w->w_mu);
        if (!have)
            break;
        dc_error e;
        dc_error_init(&e);
        int rc = write_block(w, ROLE_DATA, sl->raw, sl->len, &sl->h, &e);
        pthread_mutex_lock(&w->w_mu);
        sl->state = SLOT_DONE;
        if (rc != DC_OK && w->w_th_rc == DC_OK) {
            w->w_th_rc = rc;
            w->w_th_err = e;
        }
        /* Wake the writer only when it waits: a wakeup per block would
         * cost more than the compression it overlaps. */
        if (w->w_main_waits || rc != DC_OK)
            pthread_cond_signal(&w->w_cv_done);
        pthread_mutex_unlock(&w->w_mu);
        if (rc != DC_OK)
            break;
    }
    return NULL;
}

/* Move a written slot's handle to w_handles.  Caller holds w_mu. */
static int pipe_collect(lsm_sst_writer *w, struct pipe_slot *sl)
{
    if (sl->state != SLOT_DONE)
        return DC_OK;
    if (sl->block >= w->w_handles_cap) {
        size_t cap = w->w_handles_cap ? w->w_handles_cap * 2 : 256;
        while (cap <= sl->block)
            cap *= 2;
        handle *h = realloc(w->w_handles, cap * sizeof *h);
        if (h == NULL)
            return DC_ENOMEM;
        w->w_handles = h;
        w->w_handles_cap = cap;
    }
    w->w_handles[sl->block] = sl->h;
    sl->state = SLOT_FREE;
    return DC_OK;
}

/* Stop the thread and collect every handle; the thread's failure, if
 * any, in err. */
static int pipe_drain(lsm_sst_writer *w, dc_error *err)
{
    if (!w->w_th_running)
        return DC_OK;
    pthread_mutex_lock(&w->w_mu);
    w->w_stop = true;
    pthread_cond_signal(&w->w_cv_work);
    pthread_mutex_unlock(&w->w_mu);
    pthread_join(w->w_th, NULL);
    w->w_th_running = false;
    int rc = w->w_th_rc;
    if (rc != DC_OK) {
        if (err)
            *err = w->w_th_err;
        return rc;
    }
    for (int i = 0; i < PIPE_SLOTS; i++)
        if (pipe_collect(w, &w->w_slots[i]) != DC_OK)
            return oom(err);
    return DC_OK;
}

/* Hand the finished data block to the pipeline's thread. */
static int pipe_submit(lsm_sst_writer *w, const uint8_t *data, size_t len,
                       dc_error *err)
{
    struct pipe_slot *sl = &w->w_slots[w->w_blocks % PIPE_SLOTS];
    pthread_mutex_lock(&w->w_mu);
    while (sl->state == SLOT_QUEUED && w->w_th_rc == DC_OK) {
        w->w_main_waits = true;
        pthread_cond_wait(&w->w_cv_done, &w->w_mu);
    }
    w->w_main_waits = false;
    int rc = w->w_th_rc;
    if (rc != DC_OK) {
        if (err)
            *err = w->w_th_err;
    } else if (pipe_collect(w, sl) != DC_OK) {
        rc = oom(err);
    }
    pthread_mutex_unlock(&w->w_mu);
    if (rc != DC_OK)
        return rc;
    if (ensure(&sl->raw, &sl->cap, len ? len : 1))
        return oom(err);
    memcpy(sl->raw, data, len);
    sl->len = len;
    sl->block = w->w_blocks++;
    pthread_mutex_lock(&w->w_mu);
    sl->state = SLOT_QUEUED;
    if (w->w_th_idle)
        pthread_cond_signal(&w->w_cv_work);
    pthread_mutex_unlock(&w->w_mu);
    return DC_OK;
}

/* Keep a separator for the index, built at finish. */
static int pipe_add_sep(lsm_sst_writer *w, const uint8_t *sep, size_t n,
                        dc_error *err)
{
    if (ensure(&w->w_seps, &w->w_seps_cap, w->w_seps_len + n + 10))
        return oom(err);
    w->w_seps_len += lsm_put_varint64(w->w_seps + w->w_seps_len, n);
    memcpy(w->w_seps + w->w_seps_len, sep, n);
    w->w_seps_len += n;
    return DC_OK;
}

static int flush_data_block(lsm_sst_writer *w, dc_error *err)
{
    if (lsm_block_empty(&w->w_data))
        return DC_OK;
    const uint8_t *data;
    size_t len;
    if (lsm_block_finish(&w->w_data, &data, &len)) {
        w->w_failed = true;
        return oom(err);
    }
    int rc = w->w_th_running
                 ? pipe_submit(w, data, len, err)
                 : write_block(w, ROLE_DATA, data, len, &w->w_pending_h, err);
    if (rc) {
        w->w_failed = true;
        return rc;
    }
    lsm_block_builder_reset(&w->w_data);
    w->w_pending = true;
    return DC_OK;
}

/* A key s with a <= s < b (internal keys, a < b), as short as the user
 * keys allow; written to buf (capacity >= a_len). */
static size_t separator(const uint8_t *a, size_t an, const uint8_t *b,
                        size_t bn, uint8_t *buf)
{
    size_t ua = an - LSM_TRAILER_SIZE, ub = bn - LSM_TRAILER_SIZE;
    size_t m = ua < ub ? ua : ub, i = 0;
    while (i < m && a[i] == b[i])
        i++;
    if (i < m && a[i] != 0xff && (unsigned)a[i] + 1 < b[i] &&
        i + 1 + LSM_TRAILER_SIZE < an) {
        memcpy(buf, a, i + 1);
        buf[i]++;
        /* The largest trailer sorts first among versions of a user key;
         * any trailer works since the user key is strictly between. */
        lsm_put_fixed64(buf + i + 1, lsm_pack_trailer(LSM_MAX_SEQ, 0xff));
        return i + 1 + LSM_TRAILER_SIZE;
    }
    memcpy(buf, a, an);
    return an;
}

int lsm_sst_writer_open(const char *dir, uint64_t file_number,
                        const lsm_sst_write_options *opts, lsm_sst_writer **out,
                        dc_error *err)
{
    lsm_sst_writer *w = dcm_calloc(1, sizeof(*w));
    if (w == NULL)
        return oom(err);
    if (opts)
        w->w_opts = *opts;
    if (w->w_opts.block_size == 0)
        w->w_opts.block_size = 4096;
    if (w->w_opts.zstd_level == 0)
        w->w_opts.zstd_level = 3;
    if (w->w_opts.bloom_bits_per_key == 0)
        w->w_opts.bloom_bits_per_key = 10;
    w->w_fd = -1;
    w->w_num = file_number;
    snprintf(w->w_dir, sizeof w->w_dir, "%s", dir);
    make_path(w->w_tmp, sizeof w->w_tmp, dir, file_number, ".tmp");
    make_path(w->w_final, sizeof w->w_final, dir, file_number, "");
    lsm_block_builder_init(&w->w_data, w->w_opts.restart_interval);
    lsm_block_builder_init(&w->w_index, 1);
    lsm_bloom_builder_init(&w->w_bloom, w->w_opts.bloom_bits_per_key);
    if (w->w_opts.enc)
        w->w_key_id = w->w_opts.enc->current_key_id(w->w_opts.enc_instance);
    if (w->w_opts.compression == LSM_COMPRESS_ZSTD &&
        (w->w_zc = ZSTD_createCCtx()) == NULL) {
        free(w);
        return oom(err);
    }
    if (w->w_zc) {
        /* The frame carries a content checksum (4 bytes): a decompressed
         * block is verified even if the frame was crafted to pass the CRC. */
        size_t r1 = ZSTD_CCtx_setParameter(w->w_zc, ZSTD_c_compressionLevel,
                                           w->w_opts.zstd_level);
        size_t r2 = ZSTD_CCtx_setParameter(w->w_zc, ZSTD_c_checksumFlag, 1);
        if (ZSTD_isError(r1) || ZSTD_isError(r2)) {
            int level = w->w_opts.zstd_level;
            ZSTD_freeCCtx(w->w_zc);
            free(w);
            return dc_error_set(err, DC_EINVAL, DC_SQLSTATE_CONFIG,
                                "invalid zstd level %d", level);
        }
    }
    w->w_fd = open(w->w_tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (w->w_fd < 0) {
        int rc = sys_error(err, "create", w->w_tmp);
        ZSTD_freeCCtx(w->w_zc);
        free(w);
        return rc;
    }
    uint8_t hdr[LSM_SST_HEADER_SIZE] = {0};
    memcpy(hdr, HEADER_MAGIC, 8);
    lsm_put_fixed32(hdr + 8, LSM_FORMAT_VERSION);
    lsm_put_fixed32(hdr + 12, w->w_key_id);
    lsm_put_fixed64(hdr + 16, file_number);
    lsm_put_fixed32(hdr + 28, lsm_crc_mask(lsm_crc32c(hdr, 28)));
    int rc = write_all(w, hdr, sizeof hdr, err);
    if (rc) {
        lsm_sst_writer_abandon(w);
        return rc;
    }
    /* The pipeline pays off when there is work to overlap: compression or
     * sealing.  Without a thread the writer works as it would anyway. */
    if (w->w_opts.pipeline && (w->w_zc != NULL || w->w_key_id != 0)) {
        w->w_slots = dcm_calloc(PIPE_SLOTS, sizeof *w->w_slots);
        if (w->w_slots == NULL) {
            lsm_sst_writer_abandon(w);
            return oom(err);
        }
        pthread_mutex_init(&w->w_mu, NULL);
        pthread_cond_init(&w->w_cv_work, NULL);
        pthread_cond_init(&w->w_cv_done, NULL);
        w->w_th_running = pthread_create(&w->w_th, NULL, pipe_main, w) == 0;
    }
    *out = w;
    return DC_OK;
}

int lsm_sst_writer_add(lsm_sst_writer *w, const uint8_t *ikey, size_t ikey_len,
                       const uint8_t *val, size_t val_len, dc_error *err)
{
    if (w->w_failed)
        return dc_error_set(err, DC_EINVAL, DC_SQLSTATE_INTERNAL,
                            "sstable writer for \"%s\" failed earlier",
                            w->w_tmp);
    if (ikey_len < LSM_TRAILER_SIZE)
        return dc_error_set(err, DC_EINVAL, DC_SQLSTATE_INTERNAL,
                            "sstable \"%s\": internal key shorter than 8 bytes",
                            w->w_tmp);
    if (w->w_entries > 0 &&
        lsm_ikey_cmp(w->w_last, w->w_last_len, ikey, ikey_len) >= 0)
        return dc_error_set(err, DC_EINVAL, DC_SQLSTATE_INTERNAL,
                            "sstable \"%s\": keys added out of order (entry "
                            "%" PRIu64 " is not greater than the previous)",
                            w->w_tmp, w->w_entries);
    int rc;
    if (w->w_pending) {
        uint8_t *sep = malloc(w->w_last_len);
        if (sep == NULL)
            return oom(err);
        size_t sl = separator(w->w_last, w->w_last_len, ikey, ikey_len, sep);
        rc = w->w_th_running ? pipe_add_sep(w, sep, sl, err)
                             : add_index_entry(w, sep, sl, &w->w_pending_h, err);
        free(sep);
        if (rc)
            goto failed;
        w->w_pending = false;
    }
    size_t uk = ikey_len - LSM_TRAILER_SIZE;
    if (w->w_opts.bloom_bits_per_key > 0 &&
        (w->w_entries == 0 ||
         lsm_user_cmp(w->w_last, w->w_last_len - LSM_TRAILER_SIZE, ikey, uk) !=
             0) &&
        lsm_bloom_add(&w->w_bloom, ikey, uk)) {
        rc = oom(err);
        goto failed;
    }
    if (lsm_block_add(&w->w_data, ikey, ikey_len, val, val_len)) {
        rc = oom(err);
        goto failed;
    }
    if (w->w_entries == 0) {
        w->w_first = malloc(ikey_len);
        if (w->w_first == NULL) {
            rc = oom(err);
            goto failed;
        }
        memcpy(w->w_first, ikey, ikey_len);
        w->w_first_len = ikey_len;
    }
    if (ensure(&w->w_last, &w->w_last_cap, ikey_len)) {
        rc = oom(err);
        goto failed;
    }
    memcpy(w->w_last, ikey, ikey_len);
    w->w_last_len = ikey_len;
    w->w_entries++;
    if (lsm_block_size_estimate(&w->w_data) >= w->w_opts.block_size)
        return flush_data_block(w, err);
    return DC_OK;
failed:
    w->w_failed = true;
    return rc;
}

static int fsync_dir(const char *dir, dc_error *err)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return sys_error(err, "open directory", dir);
    if (fsync(fd) != 0) {
        int rc = sys_error(err, "fsync directory", dir);
        close(fd);
        return rc;
    }
    close(fd);
    return DC_OK;
}

static void writer_free(lsm_sst_writer *w)
{
    if (w->w_th_running)
        pipe_drain(w, NULL);
    if (w->w_slots != NULL) {
        for (int i = 0; i < PIPE_SLOTS; i++)
            free(w->w_slots[i].raw);
        free(w->w_slots);
        pthread_mutex_destroy(&w->w_mu);
        pthread_cond_destroy(&w->w_cv_work);
        pthread_cond_destroy(&w->w_cv_done);
    }
    free(w->w_handles);
    free(w->w_seps);
    if (w->w_fd >= 0)
        close(w->w_fd);
    lsm_block_builder_free(&w->w_data);
    lsm_block_builder_free(&w->w_index);
    lsm_bloom_builder_free(&w->w_bloom);
    free(w->w_last);
    free(w->w_first);
    free(w->w_scratch);
    free(w->w_sealed);
    ZSTD_freeCCtx(w->w_zc);
    free(w);
}

void lsm_sst_writer_abandon(lsm_sst_writer *w)
{
    if (w == NULL)
        return;
    unlink(w->w_tmp);
    writer_free(w);
}

int lsm_sst_writer_finish(lsm_sst_writer *w, lsm_sst_meta *meta, dc_error *err)
{
    int rc = DC_OK;
    handle fh = {0, 0}, ih;
    if (w->w_failed) {
        rc = dc_error_set(err, DC_EINVAL, DC_SQLSTATE_INTERNAL,
                          "sstable writer for \"%s\" failed earlier", w->w_tmp);
        goto fail;
    }
    if ((rc = flush_data_block(w, err)) != 0)
        goto fail;
    if (w->w_th_running) {
        bool pending = w->w_pending;
        if (pending &&
            (rc = pipe_add_sep(w, w->w_last, w->w_last_len, err)) != 0)
            goto fail;
        if ((rc = pipe_drain(w, err)) != 0)
            goto fail;
        size_t o = 0;
        for (uint64_t b = 0; b < w->w_blocks; b++) {
            uint64_t n = 0;
            size_t k = lsm_get_varint64(w->w_seps + o,
                                        w->w_seps + w->w_seps_len, &n);
            if (k == 0 || n > w->w_seps_len - o - k) {
                rc = dc_error_set(err, DC_ERR, DC_SQLSTATE_INTERNAL,
                                  "sstable \"%s\": index entries lost",
                                  w->w_tmp);
                goto fail;
            }
            o += k;
            if ((rc = add_index_entry(w, w->w_seps + o, (size_t)n,
                                      &w->w_handles[b], err)) != 0)
                goto fail;
            o += (size_t)n;
        }
        w->w_pending = false;
    }
    if (w->w_pending) {
        if ((rc = add_index_entry(w, w->w_last, w->w_last_len, &w->w_pending_h,
                                  err)) != 0)
            goto fail;
        w->w_pending = false;
    }
    if (w->w_opts.bloom_bits_per_key > 0) {
        uint8_t *f;
        size_t fl;
        if (lsm_bloom_finish(&w->w_bloom, &f, &fl)) {
            rc = oom(err);
            goto fail;
        }
        rc = write_block(w, ROLE_FILTER, f, fl, &fh, err);
        free(f);
        if (rc)
            goto fail;
    }
    const uint8_t *idx;
    size_t il;
    if (lsm_block_finish(&w->w_index, &idx, &il)) {
        rc = oom(err);
        goto fail;
    }
    if ((rc = write_block(w, ROLE_INDEX, idx, il, &ih, err)) != 0)
        goto fail;
    uint8_t ft[LSM_SST_FOOTER_SIZE];
    lsm_put_fixed64(ft, ih.off);
    lsm_put_fixed64(ft + 8, ih.size);
    lsm_put_fixed64(ft + 16, fh.off);
    lsm_put_fixed64(ft + 24, fh.size);
    lsm_put_fixed64(ft + 32, w->w_entries);
    lsm_put_fixed32(ft + 40, LSM_FORMAT_VERSION);
    lsm_put_fixed32(ft + 44, lsm_crc_mask(lsm_crc32c(ft, 44)));
    memcpy(ft + 48, FOOTER_MAGIC, 8);
    if ((rc = write_all(w, ft, sizeof ft, err)) != 0)
        goto fail;
    if (fsync(w->w_fd) != 0) {
        rc = sys_error(err, "fsync", w->w_tmp);
        goto fail;
    }
    if (close(w->w_fd) != 0) {
        w->w_fd = -1;
        rc = sys_error(err, "close", w->w_tmp);
        goto fail;
    }
    w->w_fd = -1;
    if (rename(w->w_tmp, w->w_final) != 0) {
        rc = sys_error(err, "rename to final name", w->w_tmp);
        goto fail;
    }
    if ((rc = fsync_dir(w->w_dir, err)) != 0) {
        unlink(w->w_final);
        writer_free(w);
        return rc;
    }
    if (meta) {
        memset(meta, 0, sizeof(*meta));
        meta->file_number = w->w_num;
        meta->file_size = w->w_off;
        meta->key_id = w->w_key_id;
        meta->entries = w->w_entries;
        if (w->w_entries > 0) {
            meta->smallest = w->w_first;
            meta->smallest_len = w->w_first_len;
            w->w_first = NULL;
            meta->largest = malloc(w->w_last_len);
            if (meta->largest == NULL) {
                /* The file is durable; report the failure anyway. */
                lsm_sst_meta_clear(meta);
                writer_free(w);
                return oom(err);
            }
            memcpy(meta->largest, w->w_last, w->w_last_len);
            meta->largest_len = w->w_last_len;
        }
    }
    writer_free(w);
    return DC_OK;
fail:
    lsm_sst_writer_abandon(w);
    return rc;
}

void lsm_sst_meta_clear(lsm_sst_meta *m)
{
    free(m->smallest);
    free(m->largest);
    memset(m, 0, sizeof(*m));
}

/* ============================================================================
 * Reader
 * ========================================================================= */

struct lsm_sst {
    lsm_sst_read_options t_opts;
    char t_path[4200];
    uint64_t t_num;
    int t_fd;
    uint64_t t_size;
    uint64_t t_entries;
    uint32_t t_key_id;
    uint64_t t_data_end; /* first byte of the footer              */
    uint8_t *t_index_data;
    lsm_block t_index;
    uint64_t t_index_off;
    uint64_t t_blocks_end; /* the end of the data blocks            */
    uint8_t *t_filter; /* NULL: no filter                       */
    size_t t_filter_len;
    _Atomic uint64_t t_bloom_checked;
    _Atomic uint64_t t_bloom_useful;
};

/* A block's contents: cache-pinned or owned. */
typedef struct block_ref {
    const uint8_t *data;
    size_t len;
    void *cache_handle;
    uint8_t *owned;
} block_ref;

static void block_ref_release(lsm_sst *t, block_ref *r)
{
    if (r->cache_handle)
        t->t_opts.cache->release(t->t_opts.cache->ctx, r->cache_handle);
    free(r->owned);
    memset(r, 0, sizeof(*r));
}

static int corrupt(dc_error *err, const lsm_sst *t, uint64_t off,
                   const char *what)
{
    return dc_error_set(err, DC_ECORRUPT, DC_SQLSTATE_CORRUPT,
                        "sstable \"%s\": corrupt block at offset %" PRIu64
                        ": %s",
                        t->t_path, off, what);
}

static int corrupt_file(dc_error *err, const lsm_sst *t, const char *what)
{
    return dc_error_set(err, DC_ECORRUPT, DC_SQLSTATE_CORRUPT,
                        "sstable \"%s\": %s", t->t_path, what);
}

static int read_at(const lsm_sst *t, uint8_t *buf, size_t n, uint64_t off,
                   dc_error *err)
{
    size_t done = 0;
    while (done < n) {
        ssize_t r = pread(t->t_fd, buf + done, n - done, (off_t)(off + done));
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return sys_error(err, "read", t->t_path);
        }
        if (r == 0)
            return corrupt(err, t, off, "file ends inside the block");
        done += (size_t)r;
    }
    return DC_OK;
}


/* Decompression contexts for reuse: making one per block (as
 * ZSTD_decompress does) costs more than decompressing a 4 KiB block. */
#define DCTX_POOL 8
static pthread_mutex_t dctx_mu = PTHREAD_MUTEX_INITIALIZER;
static ZSTD_DCtx *dctx_pool[DCTX_POOL];
static int dctx_n;

static ZSTD_DCtx *dctx_get(void)
{
    ZSTD_DCtx *c = NULL;
    pthread_mutex_lock(&dctx_mu);
    if (dctx_n > 0)
        c = dctx_pool[--dctx_n];
    pthread_mutex_unlock(&dctx_mu);
    return c ? c : ZSTD_createDCtx();
}

static void dctx_put(ZSTD_DCtx *c)
{
    pthread_mutex_lock(&dctx_mu);
    if (dctx_n < DCTX_POOL) {
        dctx_pool[dctx_n++] = c;
        c = NULL;
    }
    pthread_mutex_unlock(&dctx_mu);
    ZSTD_freeDCtx(c);
}

/* When the module is unloaded. */
__attribute__((destructor)) static void dctx_pool_free(void)
{
    while (dctx_n > 0)
        ZSTD_freeDCtx(dctx_pool[--dctx_n]);
}

/* Read, verify, open and decompress the block at h; the result is a
 * malloc'd buffer in *out and *out_len. */
static int load_block(const lsm_sst *t, int role, handle h, uint8_t **out,
                      size_t *out_len, dc_error *err)
{
    if (h.off < LSM_SST_HEADER_SIZE || h.off > t->t_data_end ||
        h.size > t->t_data_end - h.off ||
        t->t_data_end - h.off - h.size < LSM_SST_TRAILER_SIZE)
        return corrupt(err, t, h.off, "block handle out of the file's range");
    size_t n = (size_t)h.size + LSM_SST_TRAILER_SIZE;
    uint8_t *buf = malloc(n);
    if (buf == NULL)
        return oom(err);
    int rc = read_at(t, buf, n, h.off, err);
    if (rc) {
        free(buf);
        return rc;
    }
    uint8_t type = buf[h.size];
    uint32_t crc = lsm_crc32c_extend(lsm_crc32c(buf, (size_t)h.size), &type, 1);
    if (lsm_crc_unmask(lsm_get_fixed32(buf + h.size + 1)) != crc) {
        free(buf);
        return corrupt(err, t, h.off, "checksum mismatch");
    }
    uint8_t *payload = buf;
    size_t plen = (size_t)h.size;
    if (t->t_key_id != 0) {
        size_t over = t->t_opts.enc->overhead(t->t_opts.enc_instance);
        if (plen < over) {
            free(buf);
            return corrupt(err, t, h.off, "sealed block shorter than overhead");
        }
        uint8_t *plain = malloc(plen - over + 1);
        if (plain == NULL) {
            free(buf);
            return oom(err);
        }
        uint8_t aad[AAD_SIZE];
        make_aad(aad, role, t->t_num, h.off);
        size_t pl = 0;
        dc_error e2;
        dc_error_init(&e2);
        rc = t->t_opts.enc->open(t->t_opts.enc_instance, t->t_key_id, aad,
                                 sizeof aad, buf, plen, plain, plen - over + 1,
                                 &pl, &e2);
        free(buf);
        if (rc != 0) {
            free(plain);
            if (rc == DC_ECORRUPT)
                return corrupt(err, t, h.off, "authentication failed");
            return dc_error_set(err, rc, e2.sqlstate, "sstable \"%s\": %s",
                                t->t_path, e2.message);
        }
        payload = buf = plain;
        plen = pl;
    }
    if (type == BLOCK_TYPE_RAW) {
        *out = payload;
        *out_len = plen;
        return DC_OK;
    }
    if (type != BLOCK_TYPE_ZSTD) {
        free(buf);
        return corrupt(err, t, h.off, "unknown compression type");
    }
    unsigned long long cs = ZSTD_getFrameContentSize(payload, plen);
    if (cs == ZSTD_CONTENTSIZE_ERROR || cs == ZSTD_CONTENTSIZE_UNKNOWN ||
        cs > MAX_BLOCK_SIZE) {
        free(buf);
        return corrupt(err, t, h.off, "bad zstd frame");
    }
    uint8_t *raw = malloc(cs ? (size_t)cs : 1);
    if (raw == NULL) {
        free(buf);
        return oom(err);
    }
    ZSTD_DCtx *dc = dctx_get();
    size_t d = dc ? ZSTD_decompressDCtx(dc, raw, (size_t)cs, payload, plen)
                  : ZSTD_decompress(raw, (size_t)cs, payload, plen);
    if (dc)
        dctx_put(dc);
    free(buf);
    if (ZSTD_isError(d) || d != cs) {
        free(raw);
        return corrupt(err, t, h.off, "bad zstd frame");
    }
    *out = raw;
    *out_len = (size_t)cs;
    return DC_OK;
}

/* Get the block at h through the cache. */
static int read_block(const lsm_sst *t, handle h, bool fill_cache,
                      block_ref *ref, dc_error *err)
{
    const lsm_block_cache *c = t->t_opts.cache;
    memset(ref, 0, sizeof(*ref));
    if (c) {
        void *hd = c->lookup(c->ctx, t->t_num, h.off, &ref->data, &ref->len);
        if (hd) {
            ref->cache_handle = hd;
            return DC_OK;
        }
    }
    uint8_t *data;
    size_t len;
    int rc = load_block(t, ROLE_DATA, h, &data, &len, err);
    if (rc)
        return rc;
    if (c && fill_cache) {
        void *hd = c->insert(c->ctx, t->t_num, h.off, data, len);
        if (hd) {
            ref->cache_handle = hd;
            ref->data = data;
            ref->len = len;
            return DC_OK;
        }
    }
    ref->owned = data;
    ref->data = data;
    ref->len = len;
    return DC_OK;
}

static int decode_handle(const uint8_t *v, size_t n, handle *h)
{
    size_t a = lsm_get_varint64(v, v + n, &h->off);
    if (a == 0)
        return DC_ECORRUPT;
    size_t b = lsm_get_varint64(v + a, v + n, &h->size);
    if (b == 0 || a + b != n)
        return DC_ECORRUPT;
    return DC_OK;
}

int lsm_sst_open(const char *dir, uint64_t file_number,
                 const lsm_sst_read_options *opts, lsm_sst **out, dc_error *err)
{
    lsm_sst *t = dcm_calloc(1, sizeof(*t));
    if (t == NULL)
        return oom(err);
    if (opts)
        t->t_opts = *opts;
    t->t_num = file_number;
    make_path(t->t_path, sizeof t->t_path, dir, file_number, "");
    atomic_init(&t->t_bloom_checked, 0);
    atomic_init(&t->t_bloom_useful, 0);
    int rc;
    t->t_fd = open(t->t_path, O_RDONLY | O_CLOEXEC);
    if (t->t_fd < 0) {
        rc = sys_error(err, "open", t->t_path);
        free(t);
        return rc;
    }
    struct stat st;
    if (fstat(t->t_fd, &st) != 0) {
        rc = sys_error(err, "stat", t->t_path);
        goto fail;
    }
    t->t_size = (uint64_t)st.st_size;
    if (t->t_size < LSM_SST_HEADER_SIZE + LSM_SST_FOOTER_SIZE) {
        rc = corrupt_file(err, t, "file too short (truncated)");
        goto fail;
    }
    t->t_data_end = t->t_size - LSM_SST_FOOTER_SIZE;
    uint8_t hdr[LSM_SST_HEADER_SIZE], ft[LSM_SST_FOOTER_SIZE];
    if ((rc = read_at(t, hdr, sizeof hdr, 0, err)) != 0 ||
        (rc = read_at(t, ft, sizeof ft, t->t_data_end, err)) != 0)
        goto fail;
    if (memcmp(hdr, HEADER_MAGIC, 8) != 0) {
        rc = corrupt_file(err, t, "bad header magic (not an sstable)");
        goto fail;
    }
    if (lsm_crc_unmask(lsm_get_fixed32(hdr + 28)) != lsm_crc32c(hdr, 28)) {
        rc = corrupt_file(err, t, "header checksum mismatch");
        goto fail;
    }
    if (memcmp(ft + 48, FOOTER_MAGIC, 8) != 0) {
        rc = corrupt_file(err, t, "bad footer magic (truncated or damaged)");
        goto fail;
    }
    if (lsm_crc_unmask(lsm_get_fixed32(ft + 44)) != lsm_crc32c(ft, 44)) {
        rc = corrupt_file(err, t, "footer checksum mismatch");
        goto fail;
    }
    uint32_t hv = lsm_get_fixed32(hdr + 8), fv = lsm_get_fixed32(ft + 40);
    uint32_t v = hv > fv ? hv : fv;
    if (v > LSM_FORMAT_VERSION) {
        rc = dc_error_set(err, DC_EUNSUPPORTED, DC_SQLSTATE_FEATURE,
                          "sstable \"%s\" has format version %u, newer than "
                          "version %u that this server reads",
                          t->t_path, v, LSM_FORMAT_VERSION);
        goto fail;
    }
    if (hv == 0 || fv != hv) {
        rc = corrupt_file(err, t, "header and footer format versions differ");
        goto fail;
    }
    if (lsm_get_fixed64(hdr + 16) != file_number) {
        rc = corrupt_file(err, t, "header names another file number");
        goto fail;
    }
    t->t_key_id = lsm_get_fixed32(hdr + 12);
    if (t->t_key_id != 0 && t->t_opts.enc == NULL) {
        rc = dc_error_set(err, DC_EINVAL, DC_SQLSTATE_CONFIG,
                          "sstable \"%s\" is encrypted (key id %08x) but no "
                          "encryption module is configured",
                          t->t_path, t->t_key_id);
        goto fail;
    }
    if (t->t_opts.enc != NULL &&
        DC_HAS_FIELD(t->t_opts.enc, dc_encryption_vtable, check_key) &&
        t->t_opts.enc->check_key != NULL) {
        /* Before any block is opened: the wrong key, a retired key left
         * out of the config, or a table in the clear where none is
         * accepted, each refused naming the file. */
        dc_error kerr;
        dc_error_init(&kerr);
        rc = t->t_opts.enc->check_key(t->t_opts.enc_instance, t->t_key_id,
                                      &kerr);
        if (rc != 0) {
            dc_error_set(err, rc, kerr.sqlstate, "sstable \"%s\": %s",
                         t->t_path, kerr.message);
            if (kerr.hint[0] != '\0')
                dc_error_hint(err, "%s", kerr.hint);
            goto fail;
        }
    }
    t->t_entries = lsm_get_fixed64(ft + 32);
    handle ih = {lsm_get_fixed64(ft), lsm_get_fixed64(ft + 8)};
    handle fh = {lsm_get_fixed64(ft + 16), lsm_get_fixed64(ft + 24)};
    size_t len;
    t->t_index_off = ih.off;
    /* The filter and the index follow the data blocks. */
    t->t_blocks_end = ih.off;
    if ((fh.size != 0 || fh.off != 0) && fh.off < t->t_blocks_end)
        t->t_blocks_end = fh.off;
    if ((rc = load_block(t, ROLE_INDEX, ih, &t->t_index_data, &len, err)) !=
        0)
        goto fail;
    if (lsm_block_parse(t->t_index_data, len, &t->t_index) != 0) {
        rc = corrupt(err, t, ih.off, "bad index block restart array");
        goto fail;
    }
    if (fh.size != 0 || fh.off != 0) {
        if ((rc = load_block(t, ROLE_FILTER, fh, &t->t_filter,
                             &t->t_filter_len, err)) != 0)
            goto fail;
        if (!lsm_bloom_valid(t->t_filter, t->t_filter_len)) {
            rc = corrupt(err, t, fh.off, "bad bloom filter");
            goto fail;
        }
    }
    *out = t;
    return DC_OK;
fail:
    lsm_sst_close(t);
    return rc;
}

int lsm_sst_read_key_id(const char *dir, uint64_t file_number,
                        uint32_t *key_id, dc_error *err)
{
    lsm_sst t;
    memset(&t, 0, sizeof t);
    t.t_num = file_number;
    make_path(t.t_path, sizeof t.t_path, dir, file_number, "");
    t.t_fd = open(t.t_path, O_RDONLY | O_CLOEXEC);
    if (t.t_fd < 0)
        return sys_error(err, "open", t.t_path);
    uint8_t hdr[LSM_SST_HEADER_SIZE];
    int rc = read_at(&t, hdr, sizeof hdr, 0, err);
    close(t.t_fd);
    if (rc != DC_OK)
        return rc;
    if (memcmp(hdr, HEADER_MAGIC, 8) != 0)
        return corrupt_file(err, &t, "bad header magic (not an sstable)");
    if (lsm_crc_unmask(lsm_get_fixed32(hdr + 28)) != lsm_crc32c(hdr, 28))
        return corrupt_file(err, &t, "header checksum mismatch");
    if (lsm_get_fixed64(hdr + 16) != file_number)
        return corrupt_file(err, &t, "header names another file number");
    *key_id = lsm_get_fixed32(hdr + 12);
    return DC_OK;
}

void lsm_sst_close(lsm_sst *t)
{
    if (t == NULL)
        return;
    if (t->t_fd >= 0)
        close(t->t_fd);
    free(t->t_index_data);
    free(t->t_filter);
    free(t);
}

uint64_t lsm_sst_file_number(const lsm_sst *t)
{
    return t->t_num;
}
uint64_t lsm_sst_file_size(const lsm_sst *t)
{
    return t->t_size;
}
uint64_t lsm_sst_entries(const lsm_sst *t)
{
    return t->t_entries;
}
/* The data offset of the block the index iterator is on; the end of the
 * data blocks when it is past them all. */
static int index_offset(lsm_sst *t, const lsm_block_iter *ix, uint64_t *off,
                        dc_error *err)
{
    if (ix->bi_status)
        return corrupt(err, t, t->t_index_off, "bad entry in the index block");
    *off = t->t_blocks_end;
    if (!lsm_block_iter_valid(ix))
        return DC_OK;
    handle h;
    if (decode_handle(ix->bi_val, ix->bi_val_len, &h) != DC_OK)
        return corrupt(err, t, t->t_index_off, "bad block handle in the index");
    if (h.off < *off)
        *off = h.off;
    return DC_OK;
}

int lsm_sst_approx_entries(lsm_sst *t, const uint8_t *lo, size_t lo_len,
                           const uint8_t *hi, size_t hi_len, uint64_t *n,
                           dc_error *err)
{
    *n = 0;
    if (t->t_entries == 0)
        return DC_OK;
    lsm_block_iter ix;
    lsm_block_iter_init(&ix, &t->t_index, ikey_cmp);
    uint64_t first = 0, a = 0, b = t->t_blocks_end;
    lsm_block_iter_seek_first(&ix);
    int rc = index_offset(t, &ix, &first, err);
    if (rc == DC_OK) {
        lsm_block_iter_seek(&ix, lo, lo_len);
        rc = index_offset(t, &ix, &a, err);
    }
    if (rc == DC_OK && hi != NULL) {
        lsm_block_iter_seek(&ix, hi, hi_len);
        rc = index_offset(t, &ix, &b, err);
    }
    lsm_block_iter_free(&ix);
    if (rc == DC_OK && b > a && t->t_blocks_end > first)
        *n = (uint64_t)((double)t->t_entries * (double)(b - a) /
                            (double)(t->t_blocks_end - first) +
                        0.5);
    if (*n > t->t_entries)
        *n = t->t_entries;
    return rc;
}

uint32_t lsm_sst_key_id(const lsm_sst *t)
{
    return t->t_key_id;
}
const char *lsm_sst_path(const lsm_sst *t)
{
    return t->t_path;
}

void lsm_sst_bloom_stats(const lsm_sst *t, uint64_t *checked, uint64_t *useful)
{
    if (checked)
        *checked = atomic_load(&t->t_bloom_checked);
    if (useful)
        *useful = atomic_load(&t->t_bloom_useful);
}

/* ============================================================================
 * Iterator
 * ========================================================================= */

struct lsm_sst_iter {
    lsm_sst *i_t;
    lsm_block_iter i_index;
    lsm_block i_block;
    lsm_block_iter i_data;
    block_ref i_ref;
    bool i_loaded;
    bool i_skip_cache;
    uint64_t i_block_off;
    int i_status;
    dc_error i_err;
};

static void iter_fail_block(lsm_sst_iter *it, int status, uint64_t off,
                            const char *what)
{
    if (status == DC_ENOMEM)
        oom(&it->i_err);
    else
        corrupt(&it->i_err, it->i_t, off, what);
    it->i_status = status == DC_ENOMEM ? DC_ENOMEM : DC_ECORRUPT;
}

static void unload(lsm_sst_iter *it)
{
    if (it->i_loaded) {
        lsm_block_iter_free(&it->i_data);
        block_ref_release(it->i_t, &it->i_ref);
        it->i_loaded = false;
    }
}

/* Load the data block the index iterator is on. */
static bool load_current(lsm_sst_iter *it)
{
    unload(it);
    handle h;
    if (decode_handle(it->i_index.bi_val, it->i_index.bi_val_len, &h) != 0) {
        iter_fail_block(it, DC_ECORRUPT, it->i_t->t_index_off,
                        "bad block handle in the index");
        return false;
    }
    int rc = read_block(it->i_t, h, !it->i_skip_cache, &it->i_ref, &it->i_err);
    if (rc) {
        it->i_status = rc;
        return false;
    }
    if (lsm_block_parse(it->i_ref.data, it->i_ref.len, &it->i_block) != 0) {
        block_ref_release(it->i_t, &it->i_ref);
        iter_fail_block(it, DC_ECORRUPT, h.off, "bad restart array");
        return false;
    }
    lsm_block_iter_init(&it->i_data, &it->i_block, ikey_cmp);
    it->i_block_off = h.off;
    it->i_loaded = true;
    return true;
}

/* Check both block iterators for errors; true when fine. */
static bool check(lsm_sst_iter *it)
{
    if (it->i_status)
        return false;
    if (it->i_index.bi_status) {
        iter_fail_block(it, it->i_index.bi_status, it->i_t->t_index_off,
                        "bad entry in the index block");
        return false;
    }
    if (it->i_loaded && it->i_data.bi_status) {
        iter_fail_block(it, it->i_data.bi_status, it->i_block_off,
                        "bad entry in the data block");
        return false;
    }
    return true;
}

/* Move forward over exhausted (or empty) data blocks. */
static void skip_forward(lsm_sst_iter *it)
{
    while (check(it) && it->i_loaded && !lsm_block_iter_valid(&it->i_data)) {
        lsm_block_iter_next(&it->i_index);
        if (!check(it) || !lsm_block_iter_valid(&it->i_index)) {
            unload(it);
            return;
        }
        if (!load_current(it))
            return;
        lsm_block_iter_seek_first(&it->i_data);
    }
}

int lsm_sst_iter_open(lsm_sst *t, lsm_sst_iter **out, dc_error *err)
{
    lsm_sst_iter *it = dcm_calloc(1, sizeof(*it));
    if (it == NULL)
        return oom(err);
    it->i_t = t;
    dc_error_init(&it->i_err);
    lsm_block_iter_init(&it->i_index, &t->t_index, ikey_cmp);
    *out = it;
    return DC_OK;
}

void lsm_sst_iter_skip_cache(lsm_sst_iter *it)
{
    it->i_skip_cache = true;
}

void lsm_sst_iter_seek_first(lsm_sst_iter *it)
{
    unload(it);
    if (it->i_status)
        return;
    lsm_block_iter_seek_first(&it->i_index);
    if (!check(it) || !lsm_block_iter_valid(&it->i_index) || !load_current(it))
        return;
    lsm_block_iter_seek_first(&it->i_data);
    skip_forward(it);
}

void lsm_sst_iter_seek(lsm_sst_iter *it, const uint8_t *ikey, size_t len)
{
    unload(it);
    if (it->i_status)
        return;
    lsm_block_iter_seek(&it->i_index, ikey, len);
    if (!check(it) || !lsm_block_iter_valid(&it->i_index) || !load_current(it))
        return;
    lsm_block_iter_seek(&it->i_data, ikey, len);
    skip_forward(it);
}

void lsm_sst_iter_next(lsm_sst_iter *it)
{
    if (!lsm_sst_iter_valid(it))
        return;
    lsm_block_iter_next(&it->i_data);
    skip_forward(it);
}

bool lsm_sst_iter_valid(const lsm_sst_iter *it)
{
    return it->i_status == 0 && it->i_loaded &&
           lsm_block_iter_valid(&it->i_data);
}

void lsm_sst_iter_key(const lsm_sst_iter *it, const uint8_t **key, size_t *len)
{
    *key = it->i_data.bi_key;
    *len = it->i_data.bi_key_len;
}

void lsm_sst_iter_value(const lsm_sst_iter *it, const uint8_t **val,
                        size_t *len)
{
    *val = it->i_data.bi_val;
    *len = it->i_data.bi_val_len;
}

int lsm_sst_iter_status(const lsm_sst_iter *it, dc_error *err)
{
    if (it->i_status && err)
        memcpy(err, &it->i_err,
               err->size && err->size < sizeof it->i_err ? err->size
                                                         : sizeof it->i_err);
    return it->i_status;
}

void lsm_sst_iter_close(lsm_sst_iter *it)
{
    if (it == NULL)
        return;
    unload(it);
    lsm_block_iter_free(&it->i_index);
    free(it);
}

/* ============================================================================
 * Point lookup
 * ========================================================================= */

int lsm_sst_get(lsm_sst *t, const uint8_t *key, size_t key_len,
                uint64_t snapshot, dc_value_fn fn, void *ud, int *result,
                uint64_t *seq, dc_error *err)
{
    if (t->t_filter) {
        atomic_fetch_add(&t->t_bloom_checked, 1);
        if (!lsm_bloom_may_contain(t->t_filter, t->t_filter_len, key,
                                   key_len)) {
            atomic_fetch_add(&t->t_bloom_useful, 1);
            *result = LSM_GET_NOTFOUND;
            return DC_OK;
        }
    }
    if (snapshot > LSM_MAX_SEQ)
        snapshot = LSM_MAX_SEQ;
    uint8_t small[256];
    uint8_t *target = key_len + LSM_TRAILER_SIZE <= sizeof small
                          ? small
                          : malloc(key_len + LSM_TRAILER_SIZE);
    if (target == NULL)
        return oom(err);
    if (key_len)
        memcpy(target, key, key_len);
    lsm_put_fixed64(target + key_len, lsm_pack_trailer(snapshot, 0xff));
    lsm_sst_iter it;
    memset(&it, 0, sizeof it);
    it.i_t = t;
    dc_error_init(&it.i_err);
    lsm_block_iter_init(&it.i_index, &t->t_index, ikey_cmp);
    /* Point reads always fill the cache. */
    lsm_sst_iter_seek(&it, target, key_len + LSM_TRAILER_SIZE);
    if (target != small)
        free(target);
    int rc = DC_OK, res = LSM_GET_NOTFOUND;
    uint64_t found_seq = 0;
    while (lsm_sst_iter_valid(&it)) {
        const uint8_t *k = it.i_data.bi_key;
        size_t kl = it.i_data.bi_key_len;
        if (lsm_user_cmp(k, kl - LSM_TRAILER_SIZE, key, key_len) != 0)
            break;
        uint64_t tr = lsm_get_fixed64(k + kl - LSM_TRAILER_SIZE);
        unsigned type = (unsigned)(tr & 0xff);
        if (type == LSM_TYPE_PUT || type == LSM_TYPE_DELETE) {
            found_seq = tr >> 8;
            if (type == LSM_TYPE_PUT) {
                res = LSM_GET_FOUND;
                if (fn)
                    rc = fn(ud, it.i_data.bi_val, it.i_data.bi_val_len);
            } else {
                res = LSM_GET_DELETED;
            }
            break;
        }
        lsm_sst_iter_next(&it);
    }
    if (it.i_status) {
        rc = it.i_status;
        if (err)
            memcpy(err, &it.i_err,
                   err->size && err->size < sizeof it.i_err ? err->size
                                                            : sizeof it.i_err);
    } else {
        *result = res;
        if (seq && res != LSM_GET_NOTFOUND)
            *seq = found_seq;
    }
    unload(&it);
    lsm_block_iter_free(&it.i_index);
    return rc;
}
