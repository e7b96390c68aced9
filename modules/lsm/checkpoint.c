/*
 * checkpoint.c - writing a consistent copy of a store into a new directory
 * (checkpoint.h).
 */
#include "checkpoint.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "format.h"

#define CKPT_SQLSTATE_EXISTS  "58P02" /* duplicate_file */
#define CKPT_SQLSTATE_NO_FILE "58P01" /* undefined_file */
#define CKPT_SQLSTATE_BAD_ARG "22023" /* invalid_parameter_value */

/* Distinguishes the build directories of checkpoints of one process. */
static atomic_uint ckpt_serial;

static int oom(dc_error *err)
{
    return dc_error_set(err, DC_ENOMEM, DC_SQLSTATE_OOM,
                        "out of memory in the lsm storage engine (checkpoint)");
}

static int sys_error(dc_error *err, const char *what, const char *path)
{
    return dc_error_set(err, DC_EIO, DC_SQLSTATE_IO,
                        "checkpoint: cannot %s \"%s\": %s", what, path,
                        strerror(errno));
}

/* a + "/" + b, malloc'd; NULL when out of memory. */
static char *pjoin(const char *a, const char *b)
{
    size_t al = strlen(a), bl = strlen(b);
    char *p = malloc(al + bl + 2);
    if (p == NULL)
        return NULL;
    memcpy(p, a, al);
    p[al] = '/';
    memcpy(p + al + 1, b, bl + 1);
    return p;
}

static int fsync_path(const char *path, bool dir, dc_error *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | (dir ? O_DIRECTORY : 0));
    if (fd < 0)
        return sys_error(err, "open", path);
    if (fsync(fd) != 0) {
        int rc = sys_error(err, "fsync", path);
        close(fd);
        return rc;
    }
    close(fd);
    return DC_OK;
}

/* Remove the directory being built and everything in it (it holds only
 * what this file made: plain files and directories). */
static void remove_tree(const char *dir)
{
    DIR *d = opendir(dir);
    if (d != NULL) {
        struct dirent *de;
        while ((de = readdir(d)) != NULL) {
            if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                continue;
            char *p = pjoin(dir, de->d_name);
            if (p == NULL)
                continue;
            struct stat st;
            if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode))
                remove_tree(p);
            else
                unlink(p);
            free(p);
        }
        closedir(d);
    }
    rmdir(dir);
}

/* The sum of the sizes of the files below dir. */
static uint64_t tree_bytes(const char *dir)
{
    uint64_t total = 0;
    DIR *d = opendir(dir);
    if (d == NULL)
        return 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        char *p = pjoin(dir, de->d_name);
        if (p == NULL)
            continue;
        struct stat st;
        if (lstat(p, &st) == 0) {
            if (S_ISDIR(st.st_mode))
                total += tree_bytes(p);
            else if (S_ISREG(st.st_mode))
                total += (uint64_t)st.st_size;
        }
        free(p);
    }
    closedir(d);
    return total;
}

/* 0: dest does not exist; 1: it is an empty directory; otherwise an error
 * (DC_EEXIST when it is anything else). */
static int dest_state(const char *dest, dc_error *err)
{
    struct stat st;
    if (lstat(dest, &st) != 0) {
        if (errno == ENOENT)
            return 0;
        return sys_error(err, "stat", dest);
    }
    if (!S_ISDIR(st.st_mode))
        return dc_error_set(err, DC_EEXIST, CKPT_SQLSTATE_EXISTS,
                            "checkpoint destination \"%s\" exists and is not "
                            "a directory",
                            dest);
    DIR *d = opendir(dest);
    if (d == NULL)
        return sys_error(err, "open directory", dest);
    bool empty = true;
    struct dirent *de;
    while (empty && (de = readdir(d)) != NULL)
        if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
            empty = false;
    closedir(d);
    if (!empty)
        return dc_error_set(err, DC_EEXIST, CKPT_SQLSTATE_EXISTS,
                            "checkpoint destination \"%s\" is not empty",
                            dest);
    return 1;
}

/* Copy the file src to the new file dst and fsync it. */
static int copy_file(const char *src, const char *dst, dc_error *err)
{
    int in = open(src, O_RDONLY | O_CLOEXEC);
    if (in < 0)
        return sys_error(err, "open", src);
    int out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (out < 0) {
        int rc = sys_error(err, "create", dst);
        close(in);
        return rc;
    }
    size_t cap = 1u << 20;
    uint8_t *buf = malloc(cap);
    int rc = buf == NULL ? oom(err) : DC_OK;
    while (rc == DC_OK) {
        ssize_t n = read(in, buf, cap);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = sys_error(err, "read", src);
            break;
        }
        if (n == 0)
            break;
        for (ssize_t off = 0; off < n;) {
            ssize_t w = write(out, buf + off, (size_t)(n - off));
            if (w < 0 && errno == EINTR)
                continue;
            if (w < 0) {
                rc = sys_error(err, "write", dst);
                break;
            }
            off += w;
        }
    }
    free(buf);
    if (rc == DC_OK && fsync(out) != 0)
        rc = sys_error(err, "fsync", dst);
    if (close(out) != 0 && rc == DC_OK)
        rc = sys_error(err, "close", dst);
    close(in);
    return rc;
}

/* Hard-link (or, when linking is impossible, copy) table `number` from
 * the store into dst_dir. */
static int take_table(const char *src_dir, const char *dst_dir,
                      uint64_t number, lsm_ckpt_result *res, dc_error *err)
{
    char name[32];
    snprintf(name, sizeof name, "%016" PRIu64 ".sst", number);
    char *src = pjoin(src_dir, name), *dst = pjoin(dst_dir, name);
    int rc = DC_OK;
    if (src == NULL || dst == NULL) {
        rc = oom(err);
    } else if (link(src, dst) == 0) {
        res->linked++;
    } else if (errno == EXDEV || errno == EPERM || errno == EMLINK ||
               errno == EOPNOTSUPP) {
        rc = copy_file(src, dst, err);
        if (rc == DC_OK)
            res->copied++;
    } else {
        rc = sys_error(err, "link", src);
    }
    free(src);
    free(dst);
    return rc;
}

int lsm_memtable_write_l0(lsm_memtable *mem, uint64_t max_seq,
                          const char *dir, uint64_t number,
                          const lsm_sst_write_options *wo, lsm_edit *e,
                          bool *wrote, dc_error *err)
{
    *wrote = false;
    lsm_sst_writer *w = NULL;
    int rc = DC_OK;
    lsm_memtable_iter it;
    lsm_memtable_iter_init(&it, mem);
    for (lsm_memtable_iter_seek_first(&it); lsm_memtable_iter_valid(&it);
         lsm_memtable_iter_next(&it)) {
        const uint8_t *k, *v;
        size_t kn, vn;
        lsm_memtable_iter_key(&it, &k, &kn);
        if (kn < LSM_TRAILER_SIZE ||
            (lsm_get_fixed64(k + kn - LSM_TRAILER_SIZE) >> 8) > max_seq)
            continue;
        lsm_memtable_iter_value(&it, &v, &vn);
        if (w == NULL) {
            rc = lsm_sst_writer_open(dir, number, wo, &w, err);
            if (rc != DC_OK)
                return rc;
        }
        rc = lsm_sst_writer_add(w, k, kn, v, vn, err);
        if (rc != DC_OK) {
            lsm_sst_writer_abandon(w);
            return rc;
        }
    }
    if (w == NULL)
        return DC_OK;
    lsm_sst_meta meta;
    memset(&meta, 0, sizeof meta);
    rc = lsm_sst_writer_finish(w, &meta, err);
    if (rc != DC_OK)
        return rc;
    rc = lsm_edit_add_file_key(e, 0, meta.file_number, meta.file_size,
                               meta.entries, meta.key_id, meta.smallest,
                               meta.smallest_len, meta.largest,
                               meta.largest_len);
    lsm_sst_meta_clear(&meta);
    if (rc != DC_OK)
        return oom(err);
    *wrote = true;
    return DC_OK;
}

/* Write a manifest in dir that holds exactly the files of `e`, with last
 * seq `seq` and next file `next_file`. */
static int write_manifest(const lsm_ckpt_source *src, const char *dir,
                          lsm_edit *e, uint64_t next_file, dc_error *err)
{
    lsm_vset_options vo;
    memset(&vo, 0, sizeof vo);
    vo.dir = dir;
    vo.create_if_missing = true;
    vo.enc = src->enc;
    vo.enc_instance = src->enc_instance;
    lsm_vset *vs = NULL;
    int rc = lsm_vset_open(&vo, &vs, err);
    if (rc != DC_OK)
        return rc;
    e->has_next_file = true;
    e->next_file = next_file;
    e->has_last_seq = true;
    e->last_seq = src->seq;
    rc = lsm_vset_apply(vs, e, err);
    lsm_vset_close(vs);
    return rc;
}

/* Build the copy in `tmp` (which exists and is empty). */
static int build(const lsm_ckpt_source *src, const char *tmp,
                 lsm_ckpt_result *res, dc_error *err)
{
    char *sst = pjoin(tmp, "sst"), *wal = pjoin(tmp, "wal");
    lsm_edit e;
    lsm_edit_init(&e);
    int rc = DC_OK;
    if (sst == NULL || wal == NULL)
        rc = oom(err);
    else if (mkdir(sst, 0755) != 0)
        rc = sys_error(err, "create directory", sst);
    else if (mkdir(wal, 0755) != 0)
        rc = sys_error(err, "create directory", wal);

    /* The tables of the version, at their levels. */
    const lsm_version *v = src->version;
    uint64_t max_number = 0;
    for (int l = 0; rc == DC_OK && l < LSM_LEVELS; l++)
        for (size_t i = 0; rc == DC_OK && i < v->nfiles[l]; i++) {
            const lsm_file *f = v->files[l][i];
            rc = take_table(src->sst_dir, sst, f->number, res, err);
            if (rc == DC_OK &&
                lsm_edit_add_file_key(&e, l, f->number, f->size, f->entries,
                                      f->key_id, f->smallest, f->smallest_len,
                                      f->largest, f->largest_len) != DC_OK)
                rc = oom(err);
            if (f->number > max_number)
                max_number = f->number;
        }

    /* The memtables, older first: each new table is numbered above every
     * other, so L0's newest-first order puts the newer data first. */
    uint64_t next = max_number + 1;
    for (int m = 0; rc == DC_OK && m < 2; m++) {
        if (src->mem[m] == NULL)
            continue;
        bool wrote = false;
        rc = lsm_memtable_write_l0(src->mem[m], src->seq, sst, next,
                                   src->sst_opts, &e, &wrote, err);
        if (rc == DC_OK && wrote) {
            res->written++;
            next++;
        }
    }

    if (rc == DC_OK)
        rc = write_manifest(src, tmp, &e, next, err);
    if (rc == DC_OK)
        rc = fsync_path(sst, true, err);
    if (rc == DC_OK)
        rc = fsync_path(wal, true, err);
    if (rc == DC_OK)
        rc = fsync_path(tmp, true, err);
    lsm_edit_free(&e);
    free(sst);
    free(wal);
    return rc;
}

int lsm_checkpoint_write(const lsm_ckpt_source *src, const char *dest,
                         lsm_ckpt_result *res, dc_error *err)
{
    if (dest == NULL || dest[0] == '\0')
        return dc_error_set(err, DC_EINVAL, CKPT_SQLSTATE_BAD_ARG,
                            "checkpoint: no destination directory");
    /* The destination without trailing slashes, its parent and name. */
    size_t dl = strlen(dest);
    while (dl > 1 && dest[dl - 1] == '/')
        dl--;
    char *d = strndup(dest, dl);
    if (d == NULL)
        return oom(err);
    if (strcmp(d, "/") == 0) {
        free(d);
        return dc_error_set(err, DC_EEXIST, CKPT_SQLSTATE_EXISTS,
                            "checkpoint destination \"/\" is not empty");
    }
    char *slash = strrchr(d, '/');
    char *parent = slash == NULL ? strdup(".")
                   : slash == d  ? strdup("/")
                                 : strndup(d, (size_t)(slash - d));
    const char *base = slash == NULL ? d : slash + 1;
    if (parent == NULL) {
        free(d);
        return oom(err);
    }
    int rc = DC_OK;
    char *tmp = NULL;
    struct stat st;
    int state = dest_state(d, err);
    if (state < 0) {
        rc = state;
        goto out;
    }
    if (stat(parent, &st) != 0 || !S_ISDIR(st.st_mode)) {
        rc = dc_error_set(err, DC_ENOTFOUND, CKPT_SQLSTATE_NO_FILE,
                          "checkpoint: the directory \"%s\" (parent of the "
                          "destination) does not exist",
                          parent);
        goto out;
    }
    size_t tl = strlen(parent) + strlen(base) + 64;
    tmp = malloc(tl);
    if (tmp == NULL) {
        rc = oom(err);
        goto out;
    }
    snprintf(tmp, tl, "%s/.%s.tmp-%ld-%u", strcmp(parent, "/") ? parent : "",
             base, (long)getpid(), atomic_fetch_add(&ckpt_serial, 1));
    if (mkdir(tmp, 0700) != 0) {
        rc = sys_error(err, "create directory", tmp);
        free(tmp);
        tmp = NULL;
        goto out;
    }
    lsm_ckpt_result r;
    memset(&r, 0, sizeof r);
    rc = build(src, tmp, &r, err);
    if (rc == DC_OK) {
        r.bytes = tree_bytes(tmp);
        /* rename() replaces an empty directory, never a non-empty one. */
        if (rename(tmp, d) != 0) {
            if (errno == ENOTEMPTY || errno == EEXIST || errno == ENOTDIR ||
                errno == EISDIR)
                rc = dc_error_set(err, DC_EEXIST, CKPT_SQLSTATE_EXISTS,
                                  "checkpoint destination \"%s\" was changed "
                                  "while the checkpoint was written",
                                  d);
            else
                rc = sys_error(err, "rename the finished copy to", d);
        }
    }
    if (rc != DC_OK) {
        remove_tree(tmp);
        goto out;
    }
    rc = fsync_path(parent, true, err);
    if (rc == DC_OK && res != NULL)
        *res = r;
out:
    free(tmp);
    free(parent);
    free(d);
    return rc;
}
