/*
 * test_storage_checkpoint.c - the storage vtable's checkpoint() on the lsm
 * engine (loaded from $DATACAVE_BUILD/modules/lsm.so through the host's
 * loader, as the server loads it).
 *
 * What is checked:
 *   - contents: a store with tables on two levels, deletes, a range delete
 *     and an unflushed memtable is copied; the copy opens (as another store
 *     of the same instance) with exactly the state at the checkpoint's seq
 *     (compared key by key with a model), its last seq is that seq, writes
 *     made to the store afterwards are not in it, and the copy and the store
 *     then take writes independently (also across a reopen of the copy);
 *   - files: every table of the store is hard-linked (same inode), the
 *     memtable is one new table, nothing else is in the copy's table
 *     directory, and no build directory is left behind;
 *   - refusals: a destination that is a non-empty directory or a file
 *     (DC_EEXIST), a missing parent (DC_ENOTFOUND), an existing empty
 *     directory is fine;
 *   - a store not open in the process: the call opens it itself (and says
 *     so), DC_EBUSY while another holder has its lock, DC_ENOTFOUND where
 *     there is no store;
 *   - under writes: writer threads commit self-describing batches (and
 *     record each batch's seq) while checkpoints are taken; each copy holds
 *     exactly the batches with seq <= its checkpoint's seq, and the base
 *     data unchanged;
 *   - another file system (when /dev/shm is one): tables are copied, not
 *     linked, with the same result;
 *   - encryption (tests/modules/xorenc.c): the copy holds no plaintext and
 *     reads back with the same encryption module.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "datacave/storage.h"
#include "loader.h"

static char build_dir[PATH_MAX];
static char tmods_dir[PATH_MAX + 32];

typedef struct eng {
    dc_config *cfg;
    dc_runtime *rt;
    const dc_storage_vtable *vt;
    void *inst;
} eng;

/* Load lsm (with the encryption module enc_so, or none).  Small tables,
 * so that a few thousand keys make several files; memtables of 4 MiB
 * (tests flush explicitly) unless `memtable` says otherwise. */
static void eng_load_mem(eng *e, const char *dir, const char *enc_so,
                         long memtable)
{
    char text[PATH_MAX + 512];
    snprintf(text, sizeof text,
             "[log]\nlevel = \"error\"\n[storage]\ndata_dir = \"%s\"\n"
             "memtable_max_bytes = %ld\nsstable_target_bytes = 32768\n"
             "compaction_interval_secs = 0\n"
             "[modules]\nprotocol = \"\"\nsql = \"\"\nstorage = \"\"\n"
             "auth = \"\"\nencryption = \"\"\nmetrics = \"\"\n"
             "[module.lsm]\nsync = \"off\"\n",
             dir, memtable);
    dc_strlist errors = {0};
    e->cfg = dc_config_parse(text, strlen(text), "t.toml", dir, &errors);
    assert_non_null(e->cfg);
    e->rt = dc_runtime_new(e->cfg);
    char lsm[PATH_MAX + 32];
    snprintf(lsm, sizeof lsm, "%s/modules/lsm.so", build_dir);
    if ((enc_so != NULL && dc_runtime_load_file(e->rt, DC_KIND_ENCRYPTION,
                                                enc_so, &errors) != 0) ||
        dc_runtime_load_file(e->rt, DC_KIND_STORAGE, lsm, &errors) != 0 ||
        dc_runtime_resolve(e->rt, false, &errors) != 0) {
        for (size_t i = 0; i < errors.len; i++)
            print_error("%s\n", errors.items[i]);
        fail_msg("cannot load %s", lsm);
    }
    dc_error err;
    dc_error_init(&err);
    if (dc_runtime_init(e->rt, &err) != DC_OK)
        fail_msg("init: %s", err.message);
    dc_module *m = dc_runtime_module(e->rt, DC_KIND_STORAGE);
    e->vt = m->desc->vtable;
    e->inst = m->instance;
    assert_true(DC_HAS_FIELD(e->vt, dc_storage_vtable, checkpoint));
    assert_non_null(e->vt->checkpoint);
}

static void eng_load(eng *e, const char *dir, const char *enc_so)
{
    eng_load_mem(e, dir, enc_so, 4L << 20);
}

static void eng_unload(eng *e)
{
    dc_runtime_shutdown(e->rt);
    dc_runtime_free(e->rt);
    dc_config_free(e->cfg);
}

static dc_store *open_store(eng *e, const char *dir, bool create)
{
    dc_store_options o = {.size = sizeof o, .path = dir,
                          .create_if_missing = create};
    dc_store *s = NULL;
    dc_error err;
    dc_error_init(&err);
    if (e->vt->open(e->inst, &o, &s, &err) != DC_OK)
        fail_msg("open %s: %s", dir, err.message);
    return s;
}

static void put(eng *e, dc_store *s, const char *k, const char *v)
{
    dc_write_options wo = {.size = sizeof wo};
    dc_batch_op op = {DC_OP_PUT, (const uint8_t *)k, strlen(k),
                      (const uint8_t *)v, strlen(v)};
    dc_error err;
    dc_error_init(&err);
    if (e->vt->write(s, &wo, &op, 1, NULL, &err) != DC_OK)
        fail_msg("put %s: %s", k, err.message);
}

static void del(eng *e, dc_store *s, const char *k, const char *end)
{
    dc_write_options wo = {.size = sizeof wo};
    dc_batch_op op = {end ? DC_OP_DELETE_RANGE : DC_OP_DELETE,
                      (const uint8_t *)k, strlen(k), (const uint8_t *)end,
                      end ? strlen(end) : 0};
    dc_error err;
    dc_error_init(&err);
    if (e->vt->write(s, &wo, &op, 1, NULL, &err) != DC_OK)
        fail_msg("delete %s: %s", k, err.message);
}

static uint64_t last_seq(eng *e, dc_store *s)
{
    dc_store_stats st;
    memset(&st, 0, sizeof st);
    st.size = sizeof st;
    assert_int_equal(e->vt->stats(s, &st), DC_OK);
    return st.last_seq;
}

static int checkpoint(eng *e, const char *path, const char *dest,
                      dc_checkpoint_info *info, dc_error *err)
{
    memset(info, 0, sizeof *info);
    info->size = sizeof *info;
    dc_error_init(err);
    return e->vt->checkpoint(e->inst, path, dest, info, err);
}

static void rm_rf(const char *dir)
{
    char cmd[PATH_MAX + 16];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

/* ---- the model of the base keys ----------------------------------------- */

#define NBASE 3000

typedef struct model {
    char *v[NBASE]; /* NULL: absent */
} model;

static void model_set(model *m, int i, const char *v)
{
    free(m->v[i]);
    m->v[i] = v ? strdup(v) : NULL;
}

static void model_free(model *m)
{
    for (int i = 0; i < NBASE; i++)
        free(m->v[i]);
}

static void base_key(int i, char *k, size_t cap)
{
    snprintf(k, cap, "b%05d", i);
}

static void flush(eng *e, dc_store *s)
{
    dc_error err;
    dc_error_init(&err);
    if (e->vt->flush(s, &err) != DC_OK)
        fail_msg("flush: %s", err.message);
}

/* Puts of every base key, then overwrites, deletes and a range delete, in
 * the store and the model; a flush after each part. */
static void base_phase(eng *e, dc_store *s, model *m, int round)
{
    char k[32], v[64];
    for (int i = 0; i < NBASE; i++) {
        base_key(i, k, sizeof k);
        snprintf(v, sizeof v, "r%d-value-%05d-%s", round, i,
                 "padding-padding-padding-padding");
        put(e, s, k, v);
        model_set(m, i, v);
    }
    flush(e, s);
    for (int i = 0; i < NBASE; i += 3) {
        base_key(i, k, sizeof k);
        snprintf(v, sizeof v, "r%d-over-%05d", round, i);
        put(e, s, k, v);
        model_set(m, i, v);
    }
    flush(e, s);
    for (int i = 1; i < NBASE; i += 7) {
        base_key(i, k, sizeof k);
        del(e, s, k, NULL);
        model_set(m, i, NULL);
    }
    del(e, s, "b01000", "b01100");
    for (int i = 1000; i < 1100; i++)
        model_set(m, i, NULL);
    flush(e, s);
}

/* Check a full scan of s: base keys equal the model; other keys are
 * handed to `other` (which returns false for an unexpected one). */
static void check_scan(eng *e, dc_store *s, const model *m,
                       bool (*other)(void *ud, const char *k, size_t kn,
                                     const char *v, size_t vn),
                       void *ud, const char *what)
{
    dc_read_options ro = {.size = sizeof ro};
    dc_iter *it = NULL;
    dc_error err;
    dc_error_init(&err);
    assert_int_equal(e->vt->iter_open(s, &ro, &it, &err), DC_OK);
    static bool seen[NBASE];
    memset(seen, 0, sizeof seen);
    for (e->vt->iter_seek_first(it); e->vt->iter_valid(it);
         e->vt->iter_next(it)) {
        const uint8_t *k, *v;
        size_t kn, vn;
        e->vt->iter_key(it, &k, &kn);
        e->vt->iter_value(it, &v, &vn);
        if (kn == 6 && k[0] == 'b') {
            char digits[6];
            memcpy(digits, k + 1, 5);
            digits[5] = '\0';
            int i = atoi(digits);
            char key[32];
            base_key(i, key, sizeof key);
            assert_memory_equal(key, k, 6);
            if (m->v[i] == NULL)
                fail_msg("%s: base key %s present, deleted in the model",
                         what, key);
            if (vn != strlen(m->v[i]) || memcmp(v, m->v[i], vn) != 0)
                fail_msg("%s: base key %s is '%.*s', model '%s'", what, key,
                         (int)vn, (const char *)v, m->v[i]);
            seen[i] = true;
        } else if (other == NULL ||
                   !other(ud, (const char *)k, kn, (const char *)v, vn)) {
            fail_msg("%s: unexpected key '%.*s'", what, (int)kn,
                     (const char *)k);
        }
    }
    assert_int_equal(e->vt->iter_status(it, &err), DC_OK);
    e->vt->iter_close(it);
    for (int i = 0; i < NBASE; i++)
        if (m->v[i] != NULL && !seen[i])
            fail_msg("%s: base key b%05d missing", what, i);
}

/* ---- files -------------------------------------------------------------- */

typedef struct sst_count {
    int total, linked, new_files;
} sst_count;

/* Classify the tables of copy/sst against src/sst: the same inode as the
 * store's file of that name (linked), or a name the store does not have. */
static sst_count count_tables(const char *src, const char *copy, bool same_fs)
{
    sst_count c = {0, 0, 0};
    char d[PATH_MAX];
    snprintf(d, sizeof d, "%s/sst", copy);
    DIR *dir = opendir(d);
    assert_non_null(dir);
    struct dirent *de;
    while ((de = readdir(dir)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        size_t l = strlen(de->d_name);
        if (l < 4 || strcmp(de->d_name + l - 4, ".sst") != 0)
            fail_msg("unexpected file %s/%s in the copy", d, de->d_name);
        char a[PATH_MAX + 300], b[PATH_MAX + 300];
        snprintf(a, sizeof a, "%s/%s", d, de->d_name);
        snprintf(b, sizeof b, "%s/sst/%s", src, de->d_name);
        struct stat sa, sb;
        assert_int_equal(stat(a, &sa), 0);
        c.total++;
        if (stat(b, &sb) != 0) {
            c.new_files++;
        } else if (same_fs) {
            if (sa.st_ino != sb.st_ino || sa.st_dev != sb.st_dev)
                fail_msg("%s is a copy, not a link of %s", a, b);
            assert_true(sa.st_nlink >= 2);
            c.linked++;
        } else {
            if (sa.st_dev == sb.st_dev)
                fail_msg("%s is on the store's file system", a);
            if (sa.st_size != sb.st_size)
                fail_msg("%s differs in size from %s", a, b);
            c.linked++; /* counted as taken from the store */
        }
    }
    closedir(dir);
    return c;
}

/* No hidden build directory left in dir. */
static void no_leftovers(const char *dir)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *de;
    while ((de = readdir(d)) != NULL)
        if (de->d_name[0] == '.' && strcmp(de->d_name, ".") != 0 &&
            strcmp(de->d_name, "..") != 0)
            fail_msg("left behind: %s/%s", dir, de->d_name);
    closedir(d);
}

static uint64_t store_tables(eng *e, dc_store *s)
{
    dc_store_stats st;
    memset(&st, 0, sizeof st);
    st.size = sizeof st;
    assert_int_equal(e->vt->stats(s, &st), DC_OK);
    uint64_t n = 0;
    for (uint32_t l = 0; l < st.levels && l < 16; l++)
        n += st.files_per_level[l];
    return n;
}

/* Set up src with tables on two levels and an unflushed memtable; returns
 * the number of tables (stable: no compaction is due afterwards). */
static uint64_t prepare_store(eng *e, dc_store *s, model *m)
{
    dc_error err;
    dc_error_init(&err);
    base_phase(e, s, m, 1);
    assert_int_equal(e->vt->compact(s, NULL, 0, NULL, 0, &err), DC_OK);
    /* An L0 table over the compacted level... */
    char k[32], v[64];
    for (int i = 0; i < NBASE; i += 5) {
        base_key(i, k, sizeof k);
        snprintf(v, sizeof v, "l0-%05d", i);
        put(e, s, k, v);
        model_set(m, i, v);
    }
    flush(e, s);
    /* ...and a memtable: puts and deletes of keys in both. */
    for (int i = 2; i < NBASE; i += 11) {
        base_key(i, k, sizeof k);
        snprintf(v, sizeof v, "mem-%05d", i);
        put(e, s, k, v);
        model_set(m, i, v);
    }
    for (int i = 0; i < NBASE; i += 50) {
        base_key(i, k, sizeof k);
        del(e, s, k, NULL);
        model_set(m, i, NULL);
    }
    return store_tables(e, s);
}

/* ---- tests -------------------------------------------------------------- */

static bool after_key(void *ud, const char *k, size_t kn, const char *v,
                      size_t vn)
{
    (void)v;
    (void)vn;
    int *n = ud;
    if (kn > 6 && memcmp(k, "after-", 6) == 0) {
        (*n)++;
        return true;
    }
    return false;
}

static bool copy_key(void *ud, const char *k, size_t kn, const char *v,
                     size_t vn)
{
    (void)ud;
    return kn == 7 && memcmp(k, "in-copy", 7) == 0 && vn == 3 &&
           memcmp(v, "yes", 3) == 0;
}

static void test_contents_and_files(void **state)
{
    (void)state;
    char top[] = "/tmp/datacave-ckpt-XXXXXX";
    assert_non_null(mkdtemp(top));
    char src[PATH_MAX], copy[PATH_MAX], copy2[PATH_MAX], bad[PATH_MAX];
    snprintf(src, sizeof src, "%s/src", top);
    snprintf(copy, sizeof copy, "%s/copy", top);
    eng e;
    eng_load(&e, src, NULL);
    dc_store *s = open_store(&e, src, true);
    model m = {{0}};
    uint64_t ntables = prepare_store(&e, s, &m);
    assert_true(ntables >= 3); /* L0 plus a level split in several files */
    uint64_t seq = last_seq(&e, s);

    dc_checkpoint_info info;
    dc_error err;
    int rc = checkpoint(&e, NULL, copy, &info, &err);
    if (rc != DC_OK)
        fail_msg("checkpoint: %s", err.message);
    assert_int_equal(info.seq, seq);
    assert_true(info.store_was_open);
    assert_int_equal(info.files_linked, ntables);
    assert_int_equal(info.files_copied, 0);
    assert_int_equal(info.files_written, 1); /* the memtable */
    assert_true(info.bytes > 0);
    sst_count c = count_tables(src, copy, true);
    assert_int_equal(c.linked, ntables);
    assert_int_equal(c.new_files, 1);
    no_leftovers(top);

    /* Writes after the checkpoint stay out of the copy. */
    char k[32];
    for (int i = 0; i < 200; i++) {
        snprintf(k, sizeof k, "after-%04d", i);
        put(&e, s, k, "later");
    }
    del(&e, s, "b00003", NULL);

    dc_store *cp = open_store(&e, copy, false);
    assert_int_equal(last_seq(&e, cp), seq);
    check_scan(&e, cp, &m, NULL, NULL, "copy");
    /* The copy takes writes of its own, kept across a reopen. */
    put(&e, cp, "in-copy", "yes");
    assert_int_equal(last_seq(&e, cp), seq + 1);
    e.vt->close(cp);
    cp = open_store(&e, copy, false);
    check_scan(&e, cp, &m, copy_key, NULL, "reopened copy");
    e.vt->close(cp);

    /* The store has its own later writes and not the copy's. */
    model_set(&m, 3, NULL);
    int nafter = 0;
    check_scan(&e, s, &m, after_key, &nafter, "store");
    assert_int_equal(nafter, 200);

    /* Refusals, and nothing left behind by them. */
    rc = checkpoint(&e, NULL, copy, &info, &err);
    assert_int_equal(rc, DC_EEXIST);
    assert_non_null(strstr(err.message, "not empty"));
    snprintf(bad, sizeof bad, "%s/file", top);
    FILE *f = fopen(bad, "w");
    assert_non_null(f);
    fclose(f);
    assert_int_equal(checkpoint(&e, NULL, bad, &info, &err), DC_EEXIST);
    snprintf(bad, sizeof bad, "%s/no/such/dir", top);
    assert_int_equal(checkpoint(&e, NULL, bad, &info, &err), DC_ENOTFOUND);
    no_leftovers(top);

    /* An existing empty directory is a fine destination (trailing slash
     * too); the copy has the later writes. */
    snprintf(copy2, sizeof copy2, "%s/copy2", top);
    assert_int_equal(mkdir(copy2, 0755), 0);
    char copy2s[PATH_MAX + 2];
    snprintf(copy2s, sizeof copy2s, "%s/", copy2);
    rc = checkpoint(&e, src, copy2s, &info, &err);
    if (rc != DC_OK)
        fail_msg("checkpoint into an empty directory: %s", err.message);
    assert_int_equal(info.seq, last_seq(&e, s));
    cp = open_store(&e, copy2, false);
    nafter = 0;
    check_scan(&e, cp, &m, after_key, &nafter, "second copy");
    assert_int_equal(nafter, 200);
    e.vt->close(cp);
    no_leftovers(top);

    e.vt->close(s);
    eng_unload(&e);
    model_free(&m);
    rm_rf(top);
}

static void test_store_not_open(void **state)
{
    (void)state;
    char top[] = "/tmp/datacave-ckpt-XXXXXX";
    assert_non_null(mkdtemp(top));
    char src[PATH_MAX], copy[PATH_MAX], lock[PATH_MAX + 8], none[PATH_MAX];
    snprintf(src, sizeof src, "%s/src", top);
    snprintf(copy, sizeof copy, "%s/copy", top);
    eng e;
    eng_load(&e, src, NULL);
    dc_store *s = open_store(&e, src, true);
    model m = {{0}};
    prepare_store(&e, s, &m);
    uint64_t seq = last_seq(&e, s);
    e.vt->close(s);

    /* Someone else holds the store: busy. */
    snprintf(lock, sizeof lock, "%s/LOCK", src);
    int fd = open(lock, O_RDWR);
    assert_true(fd >= 0);
    assert_int_equal(flock(fd, LOCK_EX | LOCK_NB), 0);
    dc_checkpoint_info info;
    dc_error err;
    assert_int_equal(checkpoint(&e, src, copy, &info, &err), DC_EBUSY);
    flock(fd, LOCK_UN);
    close(fd);
    no_leftovers(top);
    struct stat st;
    assert_int_not_equal(stat(copy, &st), 0);

    /* Free: the call opens it itself. */
    int rc = checkpoint(&e, src, copy, &info, &err);
    if (rc != DC_OK)
        fail_msg("checkpoint of a closed store: %s", err.message);
    assert_false(info.store_was_open);
    assert_int_equal(info.seq, seq);
    s = open_store(&e, copy, false);
    assert_int_equal(last_seq(&e, s), seq);
    check_scan(&e, s, &m, NULL, NULL, "copy of a closed store");
    e.vt->close(s);

    /* No store there. */
    snprintf(none, sizeof none, "%s/nothing", top);
    assert_int_equal(mkdir(none, 0755), 0);
    snprintf(copy, sizeof copy, "%s/copy3", top);
    assert_int_equal(checkpoint(&e, none, copy, &info, &err), DC_ENOTFOUND);
    snprintf(none, sizeof none, "%s/absent", top);
    assert_int_equal(checkpoint(&e, none, copy, &info, &err), DC_ENOTFOUND);
    assert_int_not_equal(stat(copy, &st), 0);

    eng_unload(&e);
    model_free(&m);
    rm_rf(top);
}

/* ---- under writes --------------------------------------------------------- */

#define NWRITERS 4
#define MAXBATCH 200000

#define VALUE_LEN 1024

/* The value of batch i of writer t: "x<t>-<i>-" and filler to VALUE_LEN. */
static void value_of(int t, int i, char *v)
{
    int n = snprintf(v, VALUE_LEN + 1, "x%d-%d-", t, i);
    memset(v + n, 'a' + (i % 26), (size_t)(VALUE_LEN - n));
    v[VALUE_LEN] = '\0';
}

typedef struct writer {
    eng *e;
    dc_store *s;
    int id;
    uint64_t *seqs; /* seqs[i]: seq of batch i (1-based) */
    atomic_int done; /* batches acknowledged */
    atomic_bool *stop;
    char error[600];
} writer;

static void *writer_main(void *arg)
{
    writer *w = arg;
    dc_write_options wo = {.size = sizeof wo};
    for (int i = 1; i < MAXBATCH && !atomic_load(w->stop); i++) {
        char k[32], v[VALUE_LEN + 1], ck[8], cv[16];
        snprintf(k, sizeof k, "w%d-%08d", w->id, i);
        value_of(w->id, i, v);
        snprintf(ck, sizeof ck, "c%d", w->id);
        snprintf(cv, sizeof cv, "%d", i);
        dc_batch_op ops[2] = {
            {DC_OP_PUT, (const uint8_t *)k, strlen(k), (const uint8_t *)v,
             strlen(v)},
            {DC_OP_PUT, (const uint8_t *)ck, strlen(ck), (const uint8_t *)cv,
             strlen(cv)}};
        dc_error err;
        dc_error_init(&err);
        uint64_t seq = 0;
        if (w->e->vt->write(w->s, &wo, ops, 2, &seq, &err) != DC_OK) {
            snprintf(w->error, sizeof w->error, "%s", err.message);
            break;
        }
        w->seqs[i] = seq;
        atomic_store(&w->done, i);
    }
    return NULL;
}

typedef struct batch_check {
    writer *w;
    uint64_t seq;
    int present[NWRITERS]; /* w keys seen per writer */
    int counter[NWRITERS]; /* c values, -1: absent */
} batch_check;

static bool batch_key(void *ud, const char *k, size_t kn, const char *v,
                      size_t vn)
{
    batch_check *bc = ud;
    char key[40], val[VALUE_LEN + 1];
    if (kn >= sizeof key || vn >= sizeof val)
        return false;
    memcpy(key, k, kn);
    key[kn] = '\0';
    memcpy(val, v, vn);
    val[vn] = '\0';
    int t, i;
    char tail;
    if (sscanf(key, "w%d-%d%c", &t, &i, &tail) == 2 && t >= 0 &&
        t < NWRITERS && i >= 1 && i < MAXBATCH) {
        char want[VALUE_LEN + 1];
        value_of(t, i, want);
        const writer *w = &bc->w[t];
        if (strcmp(val, want) != 0 || i > atomic_load(&w->done) ||
            w->seqs[i] > bc->seq)
            return false; /* wrong value, or a batch after the cut */
        bc->present[t]++;
        return true;
    }
    if (sscanf(key, "c%d%c", &t, &tail) == 1 && t >= 0 && t < NWRITERS) {
        bc->counter[t] = atoi(val);
        return true;
    }
    return strcmp(key, "filler") == 0;
}

static void test_under_writes(void **state)
{
    (void)state;
    char top[] = "/tmp/datacave-ckpt-XXXXXX";
    assert_non_null(mkdtemp(top));
    char src[PATH_MAX];
    snprintf(src, sizeof src, "%s/src", top);
    /* Memtables of a little over one arena block: with the writers' 1 KiB
     * values they switch (and flush, and compact) while checkpoints run. */
    eng e;
    eng_load_mem(&e, src, NULL, 1200000);
    dc_store *s = open_store(&e, src, true);
    model m = {{0}};
    base_phase(&e, s, &m, 1);

    atomic_bool stop = false;
    writer w[NWRITERS];
    pthread_t th[NWRITERS];
    for (int t = 0; t < NWRITERS; t++) {
        memset(&w[t], 0, sizeof w[t]);
        w[t].e = &e;
        w[t].s = s;
        w[t].id = t;
        w[t].stop = &stop;
        w[t].seqs = calloc(MAXBATCH, sizeof *w[t].seqs);
        assert_non_null(w[t].seqs);
        assert_int_equal(pthread_create(&th[t], NULL, writer_main, &w[t]), 0);
    }

    enum { ROUNDS = 3 };
    uint64_t seqs[ROUNDS];
    int acked_before[ROUNDS][NWRITERS];
    char copies[ROUNDS][PATH_MAX];
    for (int r = 0; r < ROUNDS; r++) {
        /* Until every writer has committed 300 more batches (bounded). */
        int want[NWRITERS];
        for (int t = 0; t < NWRITERS; t++)
            want[t] = atomic_load(&w[t].done) + 300;
        for (int spin = 0;; spin++) {
            bool ok = true;
            for (int t = 0; t < NWRITERS; t++) {
                if (w[t].error[0])
                    fail_msg("writer %d: %s", t, w[t].error);
                if (atomic_load(&w[t].done) < want[t])
                    ok = false;
            }
            if (ok)
                break;
            if (spin > 60 * 1000)
                fail_msg("writers made no progress in 60 s");
            usleep(1000);
        }
        for (int t = 0; t < NWRITERS; t++)
            acked_before[r][t] = atomic_load(&w[t].done);
        snprintf(copies[r], sizeof copies[r], "%s/copy%d", top, r);
        dc_checkpoint_info info;
        dc_error err;
        int rc = checkpoint(&e, src, copies[r], &info, &err);
        if (rc != DC_OK)
            fail_msg("checkpoint %d: %s", r, err.message);
        seqs[r] = info.seq;
    }
    atomic_store(&stop, true);
    for (int t = 0; t < NWRITERS; t++) {
        pthread_join(th[t], NULL);
        if (w[t].error[0])
            fail_msg("writer %d: %s", t, w[t].error);
    }

    for (int r = 0; r < ROUNDS; r++) {
        dc_store *cp = open_store(&e, copies[r], false);
        assert_int_equal(last_seq(&e, cp), seqs[r]);
        batch_check bc;
        memset(&bc, 0, sizeof bc);
        bc.w = w;
        bc.seq = seqs[r];
        for (int t = 0; t < NWRITERS; t++)
            bc.counter[t] = -1;
        char what[32];
        snprintf(what, sizeof what, "copy %d", r);
        check_scan(&e, cp, &m, batch_key, &bc, what);
        /* Advance the copy's seq past the store's: a version with a seq
         * above S that slipped into the copy (invisible at S) would show
         * now. */
        uint64_t target = last_seq(&e, s);
        while (last_seq(&e, cp) <= target)
            put(&e, cp, "filler", "f");
        memset(&bc.present, 0, sizeof bc.present);
        for (int t = 0; t < NWRITERS; t++)
            bc.counter[t] = -1;
        check_scan(&e, cp, &m, batch_key, &bc, what);
        /* Exactly the batches with seq <= S: a prefix of each writer's
         * batches (they commit one after another), recorded by the
         * counter key of the last one, and at least every batch that was
         * acknowledged before the call. */
        for (int t = 0; t < NWRITERS; t++) {
            int n = 0;
            for (int i = 1; i <= atomic_load(&w[t].done); i++)
                if (w[t].seqs[i] <= seqs[r])
                    n++;
            if (bc.present[t] != n)
                fail_msg("copy %d writer %d: %d batches, %d with seq <= %" PRIu64,
                         r, t, bc.present[t], n, seqs[r]);
            assert_int_equal(bc.counter[t], n);
            assert_true(n >= acked_before[r][t]);
        }
        e.vt->close(cp);
    }
    e.vt->close(s);
    eng_unload(&e);
    for (int t = 0; t < NWRITERS; t++)
        free(w[t].seqs);
    model_free(&m);
    rm_rf(top);
}

static void test_other_file_system(void **state)
{
    (void)state;
    char top[] = "/tmp/datacave-ckpt-XXXXXX";
    assert_non_null(mkdtemp(top));
    char other[] = "/dev/shm/datacave-ckpt-XXXXXX";
    struct stat a, b;
    if (mkdtemp(other) == NULL) {
        rm_rf(top);
        skip(); /* no /dev/shm: nothing to check here */
    }
    assert_int_equal(stat(top, &a), 0);
    assert_int_equal(stat(other, &b), 0);
    if (a.st_dev == b.st_dev) {
        rm_rf(top);
        rm_rf(other);
        skip(); /* one file system: links always work */
    }
    char src[PATH_MAX], copy[PATH_MAX];
    snprintf(src, sizeof src, "%s/src", top);
    snprintf(copy, sizeof copy, "%s/copy", other);
    eng e;
    eng_load(&e, src, NULL);
    dc_store *s = open_store(&e, src, true);
    model m = {{0}};
    uint64_t ntables = prepare_store(&e, s, &m);
    dc_checkpoint_info info;
    dc_error err;
    int rc = checkpoint(&e, NULL, copy, &info, &err);
    if (rc != DC_OK)
        fail_msg("checkpoint to %s: %s", copy, err.message);
    assert_int_equal(info.files_linked, 0);
    assert_int_equal(info.files_copied, ntables);
    sst_count c = count_tables(src, copy, false);
    assert_int_equal(c.linked, ntables);
    assert_int_equal(c.new_files, 1);
    dc_store *cp = open_store(&e, copy, false);
    assert_int_equal(last_seq(&e, cp), info.seq);
    check_scan(&e, cp, &m, NULL, NULL, "copy on another file system");
    e.vt->close(cp);
    e.vt->close(s);
    eng_unload(&e);
    model_free(&m);
    no_leftovers(other);
    rm_rf(top);
    rm_rf(other);
}

/* True when some file below dir holds `needle`. */
static bool dir_holds(const char *dir, const char *needle)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *de;
    bool found = false;
    while (!found && (de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        char p[PATH_MAX];
        snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
        struct stat st;
        assert_int_equal(stat(p, &st), 0);
        if (S_ISDIR(st.st_mode)) {
            found = dir_holds(p, needle);
            continue;
        }
        FILE *f = fopen(p, "rb");
        assert_non_null(f);
        char *buf = malloc((size_t)st.st_size + 1);
        assert_non_null(buf);
        size_t n = fread(buf, 1, (size_t)st.st_size, f);
        fclose(f);
        size_t nl = strlen(needle);
        for (size_t i = 0; i + nl <= n && !found; i++)
            found = memcmp(buf + i, needle, nl) == 0;
        free(buf);
    }
    closedir(d);
    return found;
}

static void test_encrypted(void **state)
{
    (void)state;
    char xor_so[PATH_MAX + 64];
    snprintf(xor_so, sizeof xor_so, "%s/test-xor.so", tmods_dir);
    if (access(xor_so, R_OK) != 0)
        fail_msg("%s is not built (make test builds it)", xor_so);
    char top[] = "/tmp/datacave-ckpt-XXXXXX";
    assert_non_null(mkdtemp(top));
    char src[PATH_MAX], copy[PATH_MAX];
    snprintf(src, sizeof src, "%s/src", top);
    snprintf(copy, sizeof copy, "%s/copy", top);
    eng e;
    eng_load(&e, src, xor_so);
    dc_store *s = open_store(&e, src, true);
    model m = {{0}};
    prepare_store(&e, s, &m);
    put(&e, s, "b00001", "PLAINTEXT-IN-MEMTABLE");
    model_set(&m, 1, "PLAINTEXT-IN-MEMTABLE");
    dc_checkpoint_info info;
    dc_error err;
    int rc = checkpoint(&e, NULL, copy, &info, &err);
    if (rc != DC_OK)
        fail_msg("checkpoint: %s", err.message);
    assert_int_equal(info.files_written, 1);
    e.vt->close(s);
    assert_false(dir_holds(copy, "PLAINTEXT-IN-MEMTABLE"));
    assert_false(dir_holds(copy, "padding-padding"));
    dc_store *cp = open_store(&e, copy, false);
    check_scan(&e, cp, &m, NULL, NULL, "encrypted copy");
    e.vt->close(cp);
    eng_unload(&e);
    model_free(&m);
    rm_rf(top);
}

int main(void)
{
    const char *bd = getenv("DATACAVE_BUILD");
    if (realpath(bd && *bd ? bd : "build", build_dir) == NULL)
        snprintf(build_dir, sizeof build_dir, "%s", bd && *bd ? bd : "build");
    const char *tm = getenv("DATACAVE_TEST_MODULES");
    if (tm && *tm)
        snprintf(tmods_dir, sizeof tmods_dir, "%s", tm);
    else if (snprintf(tmods_dir, sizeof tmods_dir, "%s/tests/modules",
                      build_dir) >= (int)sizeof tmods_dir)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_contents_and_files),
        cmocka_unit_test(test_store_not_open),
        cmocka_unit_test(test_under_writes),
        cmocka_unit_test(test_other_file_system),
        cmocka_unit_test(test_encrypted),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
