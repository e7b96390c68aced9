/*
 * bench-storage.c - a storage module driven through its vtable with the
 * workloads and flags of RocksDB's db_bench, so that the two can be run with
 * the same parameters and their output parsed the same way
 * (bench/storage.sh, `make bench-storage`).
 *
 * usage: datacave-bench-storage [--flag=value ...]
 *   --benchmarks=LIST     fillseq,fillrandom,overwrite,readrandom,readseq,
 *                         seekrandom,fillsync (run in order on the same db)
 *   --num=N               keys in the key space (1000000)
 *   --reads=N             reads per thread, <0: num (-1)
 *   --writes=N            writes per thread, <0: num (-1)
 *   --key_size=N          (16)    --value_size=N (100)
 *   --compression_ratio=R values shrink to R when compressed (0.5)
 *   --threads=N           each thread does the full op count (as db_bench)
 *   --db=DIR              (/tmp/datacave-bench)
 *   --compression_type=   zstd|none (zstd); given to [module.lsm]
 *   --sync=0|1            DC_SYNC_ALWAYS on every write (0)
 *   --seek_nexts=N        next() calls after each seek in seekrandom (1)
 *   --seed=N              (301)
 *   --use_existing_db=0|1 do not wipe the db before fill* (0)
 *   --compact=0|1         at the end: compact everything and print the
 *                         on-disk size against the live data (0)
 *   --stats=0|1           print the module's stats() after each benchmark
 *   --module=PATH         (<bin>/../modules/lsm.so, else memory.so)
 *   --memtable_bytes=N    [storage] memtable_max_bytes (67108864)
 *   --sst_bytes=N         [storage] sstable_target_bytes (67108864)
 *   --encryption=none|aes-gcm
 *                         [modules] encryption (none); aes-gcm seals WAL
 *                         records, table blocks and the manifest under a
 *                         key derived from --seed (not a secret: a db can
 *                         be reopened with --use_existing_db)
 *
 * Semantics follow db_bench 7.x: keys are the key number in zero-padded
 * decimal (padded/truncated to key_size); values come from a 1 MiB buffer
 * of pieces that compress to compression_ratio; every write is a batch of
 * one put; fill* start from an empty db; fillsync is fillrandom with
 * sync=1 over a key space of num/1000 (db_bench divides num by 1000 and
 * keeps --writes ops per thread: pass --writes to keep it short); readseq is
 * one iterator scan per thread of up to `reads` entries; seekrandom opens an
 * iterator per op, seeks to a random key (found when it lands on it) and
 * calls next() seek_nexts times.  Output lines have db_bench's format:
 *   fillrandom   :       2.345 micros/op 426439 ops/sec 2.345 seconds
 *   1000000 operations;   47.2 MB/s
 * micros/op is the mean per-thread latency, ops/sec is total ops over the
 * wall time of the slowest thread.  Each result is followed by the CPU time
 * the process used meanwhile, every thread included:
 *   cpu          : fillrandom 2.401 seconds 2.401 micros/op
 */
#define _XOPEN_SOURCE 700 /* nftw */
#include <errno.h>
#include <ftw.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "datacave/module.h"
#include "datacave/storage.h"
#include "loader.h"
#include "util.h"

/* ---- flags ---------------------------------------------------------------- */

static const char *f_benchmarks = "fillseq,fillrandom,overwrite,readrandom,"
                                  "readseq,seekrandom";
static int64_t f_num = 1000000;
static int64_t f_reads = -1;
static int64_t f_writes = -1;
static int f_key_size = 16;
static int f_value_size = 100;
static double f_compression_ratio = 0.5;
static int f_threads = 1;
static const char *f_db = "/tmp/datacave-bench";
static const char *f_compression = "zstd";
static int f_sync;
static int f_seek_nexts = 1;
static uint64_t f_seed = 301;
static int f_use_existing;
static int f_compact;
static int f_stats;
static const char *f_module;
static int64_t f_memtable = 67108864;
static int64_t f_sst = 67108864;
static const char *f_encryption = "none";

static void usage_exit(const char *bad)
{
    fprintf(stderr, "datacave-bench-storage: bad flag %s (see the comment at "
                    "the top of bench/bench-storage.c)\n", bad);
    exit(2);
}

static int64_t parse_int(const char *arg, const char *v)
{
    char *end;
    errno = 0;
    long long x = strtoll(v, &end, 10);
    if (errno || end == v || *end)
        usage_exit(arg);
    return (int64_t)x;
}

static void parse_flags(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (a[0] != '-')
            usage_exit(a);
        while (*a == '-')
            a++;
        const char *eq = strchr(a, '=');
        if (eq == NULL)
            usage_exit(argv[i]);
        size_t n = (size_t)(eq - a);
        const char *v = eq + 1;
#define IS(name) (n == strlen(name) && strncmp(a, name, n) == 0)
        if (IS("benchmarks"))
            f_benchmarks = v;
        else if (IS("num"))
            f_num = parse_int(argv[i], v);
        else if (IS("reads"))
            f_reads = parse_int(argv[i], v);
        else if (IS("writes"))
            f_writes = parse_int(argv[i], v);
        else if (IS("key_size"))
            f_key_size = (int)parse_int(argv[i], v);
        else if (IS("value_size"))
            f_value_size = (int)parse_int(argv[i], v);
        else if (IS("compression_ratio"))
            f_compression_ratio = atof(v);
        else if (IS("threads"))
            f_threads = (int)parse_int(argv[i], v);
        else if (IS("db"))
            f_db = v;
        else if (IS("compression_type"))
            f_compression = v;
        else if (IS("sync"))
            f_sync = (int)parse_int(argv[i], v);
        else if (IS("seek_nexts"))
            f_seek_nexts = (int)parse_int(argv[i], v);
        else if (IS("seed"))
            f_seed = (uint64_t)parse_int(argv[i], v);
        else if (IS("use_existing_db"))
            f_use_existing = (int)parse_int(argv[i], v);
        else if (IS("compact"))
            f_compact = (int)parse_int(argv[i], v);
        else if (IS("stats"))
            f_stats = (int)parse_int(argv[i], v);
        else if (IS("module"))
            f_module = v;
        else if (IS("memtable_bytes"))
            f_memtable = parse_int(argv[i], v);
        else if (IS("sst_bytes"))
            f_sst = parse_int(argv[i], v);
        else if (IS("encryption"))
            f_encryption = v;
        else
            usage_exit(argv[i]);
#undef IS
    }
    if (f_num < 1 || f_key_size < 1 || f_key_size > 1024 || f_value_size < 0 ||
        f_value_size > (1 << 20) || f_threads < 1 || f_threads > 1024 ||
        f_seek_nexts < 0 || f_compression_ratio <= 0 ||
        f_compression_ratio > 1)
        usage_exit("(value out of range)");
    if (strcmp(f_compression, "zstd") != 0 && strcmp(f_compression, "none") != 0)
        usage_exit("--compression_type (zstd or none)");
    if (strcmp(f_encryption, "none") != 0 && strcmp(f_encryption, "aes-gcm") != 0)
        usage_exit("--encryption (none or aes-gcm)");
}

/* ---- helpers ---------------------------------------------------------------- */

/* CPU seconds (user + system) of the whole process, every thread. */
static double cpu_s(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0)
        return 0;
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t splitmix(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* db_bench's key for number k: here the decimal digits, zero-padded on the
 * left to key_size (the low digits kept when longer). */
static void make_key(uint8_t *out, uint64_t k)
{
    char digits[24];
    int n = snprintf(digits, sizeof digits, "%" PRIu64, k);
    int ks = f_key_size;
    if (n >= ks) {
        memcpy(out, digits + (n - ks), (size_t)ks);
    } else {
        memset(out, '0', (size_t)(ks - n));
        memcpy(out + (ks - n), digits, (size_t)n);
    }
}

/* db_bench's RandomGenerator: 1 MiB of 100-byte pieces, each made of
 * len*ratio random printable bytes repeated to fill it. */
static uint8_t *g_values;
static size_t g_values_len;

static void make_values(void)
{
    g_values_len = 1048576;
    if (g_values_len < (size_t)f_value_size)
        g_values_len = (size_t)f_value_size;
    g_values = malloc(g_values_len + 100);
    if (g_values == NULL) {
        perror("malloc");
        exit(1);
    }
    uint64_t s = 301;
    size_t pos = 0;
    while (pos < g_values_len) {
        size_t len = 100;
        size_t raw = (size_t)(len * f_compression_ratio);
        if (raw < 1)
            raw = 1;
        uint8_t piece[100];
        for (size_t i = 0; i < raw; i++)
            piece[i] = (uint8_t)(' ' + splitmix(&s) % 95);
        for (size_t i = raw; i < len; i++)
            piece[i] = piece[i % raw];
        memcpy(g_values + pos, piece, len);
        pos += len;
    }
}

static const uint8_t *next_value(size_t *pos)
{
    if (*pos + (size_t)f_value_size > g_values_len)
        *pos = 0;
    const uint8_t *v = g_values + *pos;
    *pos += (size_t)f_value_size;
    return v;
}

static int rm_cb(const char *p, const struct stat *sb, int flag,
                 struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    if (remove(p) != 0 && errno != ENOENT)
        fprintf(stderr, "remove %s: %s\n", p, strerror(errno));
    return 0;
}

static void wipe_dir(const char *dir)
{
    nftw(dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

static uint64_t g_du_blocks, g_du_bytes;

static int du_cb(const char *p, const struct stat *sb, int flag,
                 struct FTW *ftw)
{
    (void)p;
    (void)ftw;
    if (flag == FTW_F) {
        g_du_blocks += (uint64_t)sb->st_blocks * 512;
        g_du_bytes += (uint64_t)sb->st_size;
    }
    return 0;
}

/* Disk usage of dir: allocated bytes (du) and apparent bytes. */
static void du_dir(const char *dir, uint64_t *alloc, uint64_t *apparent)
{
    g_du_blocks = g_du_bytes = 0;
    nftw(dir, du_cb, 16, FTW_PHYS);
    *alloc = g_du_blocks;
    *apparent = g_du_bytes;
}

/* ---- the engine --------------------------------------------------------------- */

static dc_config *g_cfg;
static dc_runtime *g_rt;
static const dc_storage_vtable *g_vt;
static void *g_inst;
static const char *g_name;
static dc_store *g_store;

static void default_module(char *out, size_t len)
{
    char exe[PATH_MAX - 32];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0) {
        snprintf(out, len, "build/modules/lsm.so");
        return;
    }
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    if (slash)
        *slash = '\0';
    snprintf(out, len, "%s/../modules/lsm.so", exe);
    if (access(out, R_OK) != 0)
        snprintf(out, len, "%s/../modules/memory.so", exe);
}

static void print_errors(const char *what, dc_strlist *e)
{
    for (size_t i = 0; i < e->len; i++)
        fprintf(stderr, "datacave-bench-storage: %s: %s\n", what, e->items[i]);
}

static void load_engine(void)
{
    static char modpath[PATH_MAX + 64];
    if (f_module == NULL) {
        default_module(modpath, sizeof modpath);
        f_module = modpath;
    }
    char absmod[PATH_MAX];
    if (realpath(f_module, absmod) == NULL) {
        fprintf(stderr, "datacave-bench-storage: module %s: %s\n", f_module,
                strerror(errno));
        exit(1);
    }
    /* Look at the descriptor first: [module.lsm] compression is only set
     * for a module that declares it (the host refuses undeclared keys). */
    char err[512];
    dc_module *probe = dc_module_open(absmod, DC_KIND_STORAGE, err, sizeof err);
    if (probe == NULL) {
        fprintf(stderr, "datacave-bench-storage: %s\n", err);
        exit(1);
    }
    char section[256] = "";
    if (strcmp(probe->desc->name, "lsm") == 0) {
        bool declared = false;
        for (uint32_t i = 0; i < probe->desc->nconfig_keys; i++)
            if (strcmp(probe->desc->config_keys[i].name, "compression") == 0)
                declared = true;
        if (declared)
            snprintf(section, sizeof section,
                     "[module.lsm]\ncompression = \"%s\"\n", f_compression);
        else
            fprintf(stderr, "datacave-bench-storage: warning: lsm declares no "
                            "`compression` option; --compression_type=%s not "
                            "passed\n", f_compression);
    }
    dc_module_free(probe);

    char moddir[PATH_MAX];
    snprintf(moddir, sizeof moddir, "%s", absmod);
    char *slash = strrchr(moddir, '/');
    if (slash)
        *slash = '\0';
    /* Encryption: a key derived from the seed, given in the config text. */
    char enc_opts[160] = "";
    if (strcmp(f_encryption, "aes-gcm") == 0) {
        uint8_t key[32];
        uint64_t ks = f_seed ^ 0x656e6372797074ull;
        for (size_t i = 0; i < sizeof key; i += 8) {
            uint64_t x = splitmix(&ks);
            memcpy(key + i, &x, 8);
        }
        static const char b64[] =
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        char k64[48];
        size_t o = 0;
        for (size_t i = 0; i < sizeof key; i += 3) {
            uint32_t w = (uint32_t)key[i] << 16 |
                         (i + 1 < sizeof key ? (uint32_t)key[i + 1] << 8 : 0) |
                         (i + 2 < sizeof key ? key[i + 2] : 0);
            k64[o++] = b64[w >> 18 & 63];
            k64[o++] = b64[w >> 12 & 63];
            k64[o++] = i + 1 < sizeof key ? b64[w >> 6 & 63] : '=';
            k64[o++] = i + 2 < sizeof key ? b64[w & 63] : '=';
        }
        k64[o] = '\0';
        snprintf(enc_opts, sizeof enc_opts,
                 "encryption_enabled = true\nencryption_key_base64 = \"%s\"\n",
                 k64);
    }
    char text[4 * PATH_MAX];
    snprintf(text, sizeof text,
             "[server]\nmodule_dir = \"%s\"\n"
             "[log]\nlevel = \"warn\"\n"
             "[storage]\ndata_dir = \"%s\"\nmemtable_max_bytes = %" PRId64
             "\nsstable_target_bytes = %" PRId64 "\n%s"
             "[modules]\nprotocol = \"\"\nsql = \"\"\nstorage = \"\"\n"
             "auth = \"\"\nencryption = \"%s\"\nmetrics = \"\"\n%s",
             moddir, f_db, f_memtable, f_sst, enc_opts, f_encryption, section);
    dc_strlist errors = {0};
    g_cfg = dc_config_parse(text, strlen(text), "bench-config", NULL, &errors);
    if (g_cfg == NULL) {
        print_errors("config", &errors);
        exit(1);
    }
    g_rt = dc_runtime_new(g_cfg);
    if (dc_runtime_load_file(g_rt, DC_KIND_STORAGE, absmod, &errors) != 0) {
        print_errors("load", &errors);
        exit(1);
    }
    dc_module *m = dc_runtime_module(g_rt, DC_KIND_STORAGE);
    uint32_t mask = 0;
    for (uint32_t i = 0; i < m->desc->ndeps; i++)
        mask |= 1u << m->desc->deps[i].kind;
    if ((mask && dc_runtime_load(g_rt, mask, &errors) != 0) ||
        dc_runtime_resolve(g_rt, false, &errors) != 0) {
        print_errors("load", &errors);
        exit(1);
    }
    dc_strlist_free(&errors);
    dc_error e;
    dc_error_init(&e);
    if (dc_runtime_init(g_rt, &e) != 0) {
        fprintf(stderr, "datacave-bench-storage: init: %s\n", e.message);
        exit(1);
    }
    g_vt = m->desc->vtable;
    g_inst = m->instance;
    g_name = m->desc->name;
    f_module = strdup(absmod);
}

static void open_store(void)
{
    mkdir(f_db, 0755);
    dc_store_options o = {.size = sizeof o, .path = f_db,
                          .create_if_missing = true, .read_only = false};
    dc_error e;
    dc_error_init(&e);
    if (g_vt->open(g_inst, &o, &g_store, &e) != 0) {
        fprintf(stderr, "datacave-bench-storage: open %s: %s\n", f_db,
                e.message);
        exit(1);
    }
}

static void close_store(void)
{
    if (g_store) {
        g_vt->close(g_store);
        g_store = NULL;
    }
}

/* ---- the workloads --------------------------------------------------------------- */

enum bench_kind { B_FILLSEQ, B_FILLRANDOM, B_OVERWRITE, B_READRANDOM,
                  B_READSEQ, B_SEEKRANDOM, B_FILLSYNC };

typedef struct thread_arg {
    int id;
    int kind;
    int64_t ops;       /* ops this thread does                  */
    int64_t keyspace;  /* keys drawn from [0, keyspace)          */
    uint32_t sync;
    /* results */
    int64_t done;
    int64_t found;
    uint64_t bytes;
    double secs;
    int failed;
} thread_arg;

static pthread_barrier_t g_barrier;
static int g_thread_count;
static atomic_int g_fail_msgs;

static void fail(thread_arg *a, const char *what, const dc_error *e)
{
    if (atomic_fetch_add(&g_fail_msgs, 1) < 5)
        fprintf(stderr, "datacave-bench-storage: thread %d: %s: %s\n", a->id,
                what, e ? e->message : "");
    a->failed = 1;
}

static void *run_thread(void *p)
{
    thread_arg *a = p;
    /* As db_bench: every thread ever started gets its own seed, so that
     * overwrite and the reads do not replay fillrandom's keys. */
    uint64_t rng = f_seed * 1000003u + (uint64_t)a->id * 7919u + 1;
    uint8_t key[1024];
    size_t vpos = (size_t)(splitmix(&rng) % 10000) * 100;
    dc_error e;
    dc_error_init(&e);
    dc_write_options wo = {.size = sizeof wo, .sync = a->sync};
    dc_read_options ro = {.size = sizeof ro};
    size_t ks = (size_t)f_key_size;

    pthread_barrier_wait(&g_barrier);
    double t0 = now_s();
    switch (a->kind) {
    case B_FILLSEQ:
    case B_FILLRANDOM:
    case B_OVERWRITE:
    case B_FILLSYNC:
        for (int64_t i = 0; i < a->ops; i++) {
            uint64_t k = a->kind == B_FILLSEQ
                             ? (uint64_t)i
                             : splitmix(&rng) % (uint64_t)a->keyspace;
            make_key(key, k);
            dc_batch_op op = {.op = DC_OP_PUT, .key = key, .key_len = ks,
                              .value = next_value(&vpos),
                              .value_len = (size_t)f_value_size};
            if (g_vt->write(g_store, &wo, &op, 1, NULL, &e) != 0) {
                fail(a, "write", &e);
                break;
            }
            a->done++;
            a->bytes += ks + (size_t)f_value_size;
        }
        break;
    case B_READRANDOM:
        for (int64_t i = 0; i < a->ops; i++) {
            make_key(key, splitmix(&rng) % (uint64_t)a->keyspace);
            int rc = g_vt->get(g_store, &ro, key, ks, NULL, NULL, &e);
            if (rc == 0) {
                a->found++;
                a->bytes += ks + (size_t)f_value_size;
            } else if (rc != DC_ENOTFOUND) {
                fail(a, "get", &e);
                break;
            }
            a->done++;
        }
        break;
    case B_READSEQ: {
        dc_iter *it;
        if (g_vt->iter_open(g_store, &ro, &it, &e) != 0) {
            fail(a, "iter_open", &e);
            break;
        }
        g_vt->iter_seek_first(it);
        while (a->done < a->ops && g_vt->iter_valid(it)) {
            const uint8_t *k, *v;
            size_t kl, vl;
            g_vt->iter_key(it, &k, &kl);
            g_vt->iter_value(it, &v, &vl);
            a->bytes += kl + vl;
            a->done++;
            g_vt->iter_next(it);
        }
        if (g_vt->iter_status(it, &e) != 0)
            fail(a, "readseq iterator", &e);
        g_vt->iter_close(it);
        break;
    }
    case B_SEEKRANDOM:
        for (int64_t i = 0; i < a->ops; i++) {
            dc_iter *it;
            if (g_vt->iter_open(g_store, &ro, &it, &e) != 0) {
                fail(a, "iter_open", &e);
                break;
            }
            make_key(key, splitmix(&rng) % (uint64_t)a->keyspace);
            g_vt->iter_seek(it, key, ks);
            if (g_vt->iter_valid(it)) {
                const uint8_t *k;
                size_t kl;
                g_vt->iter_key(it, &k, &kl);
                if (kl == ks && memcmp(k, key, ks) == 0)
                    a->found++;
            }
            for (int j = 0; j < f_seek_nexts && g_vt->iter_valid(it); j++) {
                const uint8_t *k, *v;
                size_t kl, vl;
                g_vt->iter_key(it, &k, &kl);
                g_vt->iter_value(it, &v, &vl);
                a->bytes += kl + vl;
                g_vt->iter_next(it);
            }
            if (g_vt->iter_status(it, &e) != 0) {
                fail(a, "seek iterator", &e);
                g_vt->iter_close(it);
                break;
            }
            g_vt->iter_close(it);
            a->done++;
        }
        break;
    }
    a->secs = now_s() - t0;
    return NULL;
}

static void print_stats(void)
{
    if (g_vt->stats == NULL) {
        printf("stats        : (module has no stats())\n");
        return;
    }
    dc_store_stats st;
    memset(&st, 0, sizeof st);
    st.size = sizeof st;
    if (g_vt->stats(g_store, &st) != 0) {
        printf("stats        : stats() failed\n");
        return;
    }
    printf("stats        : last_seq %" PRIu64 ", live_bytes %" PRIu64
           ", memtable_bytes %" PRIu64 ", levels %u\n",
           st.last_seq, st.live_bytes, st.memtable_bytes, st.levels);
    for (uint32_t l = 0; l < st.levels && l < 16; l++)
        printf("stats        :   L%u: %" PRIu64 " files, %" PRIu64 " bytes\n",
               l, st.files_per_level[l], st.bytes_per_level[l]);
}

static int run_benchmark(const char *name)
{
    int kind;
    bool fresh = false;
    uint32_t sync = f_sync ? DC_SYNC_ALWAYS : DC_SYNC_NONE;
    int64_t keyspace = f_num;
    int64_t ops = f_writes < 0 ? f_num : f_writes;
    if (strcmp(name, "fillseq") == 0) {
        kind = B_FILLSEQ, fresh = true;
    } else if (strcmp(name, "fillrandom") == 0) {
        kind = B_FILLRANDOM, fresh = true;
    } else if (strcmp(name, "overwrite") == 0) {
        kind = B_OVERWRITE;
    } else if (strcmp(name, "fillsync") == 0) {
        kind = B_FILLSYNC, fresh = true, sync = DC_SYNC_ALWAYS;
        keyspace = f_num / 1000 > 0 ? f_num / 1000 : 1;
    } else if (strcmp(name, "readrandom") == 0) {
        kind = B_READRANDOM, ops = f_reads < 0 ? f_num : f_reads;
    } else if (strcmp(name, "readseq") == 0) {
        kind = B_READSEQ, ops = f_reads < 0 ? f_num : f_reads;
    } else if (strcmp(name, "seekrandom") == 0) {
        kind = B_SEEKRANDOM, ops = f_reads < 0 ? f_num : f_reads;
    } else {
        fprintf(stderr, "datacave-bench-storage: unknown benchmark %s\n", name);
        return -1;
    }
    if (fresh && !f_use_existing) {
        close_store();
        wipe_dir(f_db);
        open_store();
    }

    thread_arg *args = calloc((size_t)f_threads, sizeof *args);
    pthread_t *tids = calloc((size_t)f_threads, sizeof *tids);
    if (args == NULL || tids == NULL) {
        perror("calloc");
        exit(1);
    }
    pthread_barrier_init(&g_barrier, NULL, (unsigned)f_threads + 1);
    for (int i = 0; i < f_threads; i++) {
        args[i] = (thread_arg){.id = g_thread_count++, .kind = kind, .ops = ops,
                               .keyspace = keyspace, .sync = sync};
        if (pthread_create(&tids[i], NULL, run_thread, &args[i]) != 0) {
            perror("pthread_create");
            exit(1);
        }
    }
    pthread_barrier_wait(&g_barrier);
    double t0 = now_s(), c0 = cpu_s();
    for (int i = 0; i < f_threads; i++)
        pthread_join(tids[i], NULL);
    double wall = now_s() - t0, cpu = cpu_s() - c0;
    pthread_barrier_destroy(&g_barrier);

    int64_t done = 0, found = 0, planned = 0;
    uint64_t bytes = 0;
    double thread_secs = 0;
    int failed = 0;
    for (int i = 0; i < f_threads; i++) {
        done += args[i].done;
        found += args[i].found;
        bytes += args[i].bytes;
        thread_secs += args[i].secs;
        planned += args[i].ops;
        failed |= args[i].failed;
    }
    free(args);
    free(tids);
    if (done < 1)
        done = 1;
    if (wall <= 0)
        wall = 1e-9;
    char extra[128] = "";
    if (kind == B_READRANDOM || kind == B_SEEKRANDOM)
        snprintf(extra, sizeof extra, " (%" PRId64 " of %" PRId64 " found)",
                 found, planned);
    else if (kind == B_FILLSYNC)
        snprintf(extra, sizeof extra, " (%" PRId64 " keys)", keyspace);
    printf("%-12s : %11.3f micros/op %ld ops/sec %.3f seconds %" PRId64
           " operations; %6.1f MB/s%s%s\n",
           name, thread_secs * 1e6 / (double)done, (long)((double)done / wall),
           wall, done, (double)bytes / 1048576.0 / wall, extra,
           failed ? " FAILED" : "");
    /* CPU time of the process meanwhile (background flushes and
     * compactions included): less disturbed by other work on a shared
     * machine than the wall time. */
    printf("cpu          : %s %.3f seconds %.3f micros/op\n", name, cpu,
           cpu * 1e6 / (double)done);
    fflush(stdout);
    if (f_stats)
        print_stats();
    return failed ? -1 : 0;
}

/* Full compaction and the on-disk size against the live data. */
static int compact_and_measure(void)
{
    uint64_t a0, b0, a1, b1;
    du_dir(f_db, &a0, &b0);
    if (g_vt->compact == NULL) {
        printf("compact      : module %s has no compact()\n", g_name);
        return 0;
    }
    dc_error e;
    dc_error_init(&e);
    double t0 = now_s();
    if (g_vt->compact(g_store, NULL, 0, NULL, 0, &e) != 0) {
        fprintf(stderr, "datacave-bench-storage: compact: %s\n", e.message);
        return -1;
    }
    double secs = now_s() - t0;
    du_dir(f_db, &a1, &b1);
    /* The live data exactly: one scan. */
    dc_read_options ro = {.size = sizeof ro};
    dc_iter *it;
    uint64_t nkeys = 0, live = 0;
    if (g_vt->iter_open(g_store, &ro, &it, &e) == 0) {
        for (g_vt->iter_seek_first(it); g_vt->iter_valid(it);
             g_vt->iter_next(it)) {
            const uint8_t *k, *v;
            size_t kl, vl;
            g_vt->iter_key(it, &k, &kl);
            g_vt->iter_value(it, &v, &vl);
            nkeys++;
            live += kl + vl;
        }
        g_vt->iter_close(it);
    }
    uint64_t nominal = (uint64_t)f_num * (uint64_t)(f_key_size + f_value_size);
    printf("compact      : %.3f seconds; du before %" PRIu64 " bytes, after %"
           PRIu64 " bytes (apparent %" PRIu64 ")\n", secs, a0, a1, b1);
    printf("size         : on_disk=%" PRIu64 " live=%" PRIu64 " keys=%" PRIu64
           " ratio=%.3f nominal=%" PRIu64 " nominal_ratio=%.3f (bytes; live ="
           " keys + values of a full scan, nominal = num*(key+value))\n",
           a1, live, nkeys, live ? (double)a1 / (double)live : 0.0, nominal,
           (double)a1 / (double)nominal);
    fflush(stdout);
    return 0;
}

int main(int argc, char **argv)
{
    parse_flags(argc, argv);
    make_values();
    if (!f_use_existing)
        wipe_dir(f_db);
    load_engine();
    open_store();

    printf("Datacave storage bench: module %s (%s)\n", g_name, f_module);
    printf("Keys:       %d bytes each\n", f_key_size);
    printf("Values:     %d bytes each (%d bytes after compression)\n",
           f_value_size, (int)(f_value_size * f_compression_ratio + 0.5));
    printf("Entries:    %" PRId64 "\n", f_num);
    printf("Threads:    %d\n", f_threads);
    printf("Compression: %s, sync: %d\n", f_compression, f_sync);
    printf("Encryption: %s\n", f_encryption);
    printf("DB path: [%s]\n", f_db);
    fflush(stdout);

    int rc = 0;
    char *list = strdup(f_benchmarks);
    for (char *save = NULL, *b = strtok_r(list, ",", &save); b;
         b = strtok_r(NULL, ",", &save)) {
        if (*b == '\0')
            continue;
        if (run_benchmark(b) != 0) {
            rc = 1;
            break;
        }
    }
    free(list);
    if (rc == 0 && f_compact)
        rc = compact_and_measure() != 0;
    close_store();
    dc_runtime_shutdown(g_rt);
    dc_runtime_free(g_rt);
    dc_config_free(g_cfg);
    free(g_values);
    return rc;
}
