/*
 * test_storage_encryption.c - the lsm engine with an encryption module:
 * what it writes (WAL, tables, manifest) holds none of the plaintext keys
 * and values, everything reads back after a reopen, the store refuses to
 * open without its encryption module, and a tampered table is reported
 * naming the file.  The encryption module is tests/modules/xorenc.c, a
 * stand-in with the properties the engine relies on (not a real cipher).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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

/* Load lsm with the encryption module in enc_so; 0 or -1. */
static int eng_load(eng *e, const char *dir, const char *enc_so)
{
    char text[PATH_MAX + 512];
    snprintf(text, sizeof text,
             "[log]\nlevel = \"error\"\n[storage]\ndata_dir = \"%s\"\n"
             "memtable_max_bytes = 65536\n"
             "[modules]\nprotocol = \"\"\nsql = \"\"\nstorage = \"\"\n"
             "auth = \"\"\nencryption = \"\"\nmetrics = \"\"\n",
             dir);
    dc_strlist errors = {0};
    e->cfg = dc_config_parse(text, strlen(text), "t.toml", dir, &errors);
    assert_non_null(e->cfg);
    e->rt = dc_runtime_new(e->cfg);
    char lsm[PATH_MAX + 32];
    snprintf(lsm, sizeof lsm, "%s/modules/lsm.so", build_dir);
    if (dc_runtime_load_file(e->rt, DC_KIND_ENCRYPTION, enc_so, &errors) != 0 ||
        dc_runtime_load_file(e->rt, DC_KIND_STORAGE, lsm, &errors) != 0 ||
        dc_runtime_resolve(e->rt, false, &errors) != 0) {
        for (size_t i = 0; i < errors.len; i++)
            print_error("%s\n", errors.items[i]);
        dc_strlist_free(&errors);
        return -1;
    }
    dc_error err;
    dc_error_init(&err);
    if (dc_runtime_init(e->rt, &err) != DC_OK) {
        print_error("init: %s\n", err.message);
        return -1;
    }
    dc_module *m = dc_runtime_module(e->rt, DC_KIND_STORAGE);
    e->vt = m->desc->vtable;
    e->inst = m->instance;
    return 0;
}

static void eng_unload(eng *e)
{
    dc_runtime_shutdown(e->rt);
    dc_runtime_free(e->rt);
    dc_config_free(e->cfg);
}

static dc_store *open_store(eng *e, const char *dir, dc_error *err)
{
    dc_store_options o = {.size = sizeof o, .path = dir, .create_if_missing = true};
    dc_store *s = NULL;
    return e->vt->open(e->inst, &o, &s, err) == DC_OK ? s : NULL;
}

static int check_value(void *ud, const uint8_t *v, size_t n)
{
    const char *want = ud;
    return n == strlen(want) && memcmp(v, want, n) == 0 ? 0 : DC_ERANGE;
}

/* Search every file below dir for `needle`; returns the first file holding
 * it (static buffer) or NULL. */
static const char *grep_dir(const char *dir, const char *needle)
{
    static char hit[PATH_MAX];
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *de;
    const char *found = NULL;
    while (!found && (de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        char p[PATH_MAX];
        snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
        struct stat st;
        assert_int_equal(stat(p, &st), 0);
        if (S_ISDIR(st.st_mode)) {
            found = grep_dir(p, needle);
            continue;
        }
        FILE *f = fopen(p, "rb");
        assert_non_null(f);
        uint8_t *buf = malloc((size_t)st.st_size + 1);
        assert_non_null(buf);
        size_t n = fread(buf, 1, (size_t)st.st_size, f);
        fclose(f);
        size_t nl = strlen(needle);
        for (size_t i = 0; i + nl <= n && !found; i++)
            if (memcmp(buf + i, needle, nl) == 0) {
                snprintf(hit, sizeof hit, "%s", p);
                found = hit;
            }
        free(buf);
    }
    closedir(d);
    return found;
}

/* The first .sst file below dir/sst, into out. */
static bool first_sst(const char *dir, char *out, size_t cap)
{
    char sd[PATH_MAX + 8];
    snprintf(sd, sizeof sd, "%s/sst", dir);
    DIR *d = opendir(sd);
    if (d == NULL)
        return false;
    struct dirent *de;
    bool ok = false;
    while (!ok && (de = readdir(d)) != NULL) {
        size_t l = strlen(de->d_name);
        if (l > 4 && strcmp(de->d_name + l - 4, ".sst") == 0) {
            int n = snprintf(out, cap, "%s/%s", sd, de->d_name);
            ok = n > 0 && (size_t)n < cap;
        }
    }
    closedir(d);
    return ok;
}

#define NKEYS 3000

static void test_encrypted_store(void **state)
{
    (void)state;
    char dir[] = "/tmp/datacave-enc-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char xor_so[PATH_MAX + 64], none_so[PATH_MAX + 64];
    snprintf(xor_so, sizeof xor_so, "%s/test-xor.so", tmods_dir);
    snprintf(none_so, sizeof none_so, "%s/modules/none.so", build_dir);

    /* Write: enough to flush tables (64 KiB memtables), the last part
     * only in the WAL. */
    eng e;
    assert_int_equal(eng_load(&e, dir, xor_so), 0);
    dc_error err;
    dc_error_init(&err);
    dc_store *s = open_store(&e, dir, &err);
    if (s == NULL)
        fail_msg("open: %s", err.message);
    dc_write_options wo = {.size = sizeof wo, .sync = DC_SYNC_ALWAYS};
    for (int i = 0; i < NKEYS; i++) {
        char k[32], v[64];
        snprintf(k, sizeof k, "secretkey-%05d", i);
        snprintf(v, sizeof v, "SECRET-PLAINTEXT-%05d-abcdefghij", i);
        dc_batch_op op = {DC_OP_PUT, (const uint8_t *)k, strlen(k),
                          (const uint8_t *)v, strlen(v)};
        if (e.vt->write(s, &wo, &op, 1, NULL, &err) != DC_OK)
            fail_msg("write: %s", err.message);
    }
    e.vt->close(s);
    eng_unload(&e);

    char sst[PATH_MAX + 64];
    assert_true(first_sst(dir, sst, sizeof sst)); /* tables were written */
    const char *leak = grep_dir(dir, "SECRET-PLAINTEXT");
    if (leak)
        fail_msg("plaintext value found in %s", leak);
    leak = grep_dir(dir, "secretkey-");
    if (leak)
        fail_msg("plaintext key found in %s", leak);

    /* Reopen: everything reads back. */
    assert_int_equal(eng_load(&e, dir, xor_so), 0);
    s = open_store(&e, dir, &err);
    if (s == NULL)
        fail_msg("reopen: %s", err.message);
    dc_read_options ro = {.size = sizeof ro};
    for (int i = 0; i < NKEYS; i++) {
        char k[32], v[64];
        snprintf(k, sizeof k, "secretkey-%05d", i);
        snprintf(v, sizeof v, "SECRET-PLAINTEXT-%05d-abcdefghij", i);
        int rc = e.vt->get(s, &ro, (const uint8_t *)k, strlen(k), check_value,
                           v, &err);
        if (rc != DC_OK)
            fail_msg("get %s: %d %s", k, rc, err.message);
    }
    e.vt->close(s);
    eng_unload(&e);

    /* Without the encryption module the store does not open. */
    assert_int_equal(eng_load(&e, dir, none_so), 0);
    dc_error_init(&err);
    s = open_store(&e, dir, &err);
    if (s != NULL)
        fail_msg("an encrypted store opened with encryption 'none'");
    print_message("refused as it should be: %s\n", err.message);
    assert_true(dc_error_isset(&err));
    eng_unload(&e);

    /* A tampered table: the read that reaches it fails, naming the file. */
    FILE *f = fopen(sst, "r+b");
    assert_non_null(f);
    assert_int_equal(fseek(f, 100, SEEK_SET), 0);
    int c = fgetc(f);
    assert_int_equal(fseek(f, 100, SEEK_SET), 0);
    fputc(c ^ 0x10, f);
    fclose(f);
    assert_int_equal(eng_load(&e, dir, xor_so), 0);
    dc_error_init(&err);
    s = open_store(&e, dir, &err);
    bool reported = false;
    if (s == NULL) {
        reported = strstr(err.message, strrchr(sst, '/') + 1) != NULL;
    } else {
        dc_iter *it = NULL;
        assert_int_equal(e.vt->iter_open(s, &ro, &it, &err), DC_OK);
        for (e.vt->iter_seek_first(it); e.vt->iter_valid(it); e.vt->iter_next(it))
            ;
        if (e.vt->iter_status(it, &err) != 0)
            reported = strstr(err.message, strrchr(sst, '/') + 1) != NULL;
        e.vt->iter_close(it);
        e.vt->close(s);
    }
    if (!reported)
        fail_msg("tampering with %s was not reported naming it (%s)", sst,
                 err.message);
    eng_unload(&e);
    char cmd[PATH_MAX + 16];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const char *bd = getenv("DATACAVE_BUILD");
    if (realpath(bd && *bd ? bd : "build", build_dir) == NULL)
        snprintf(build_dir, sizeof build_dir, "%s", bd && *bd ? bd : "build");
    const char *tm = getenv("DATACAVE_TEST_MODULES");
    if (tm && *tm)
        snprintf(tmods_dir, sizeof tmods_dir, "%s", tm);
    else
        if (snprintf(tmods_dir, sizeof tmods_dir, "%s/tests/modules",
                     build_dir) >= (int)sizeof tmods_dir)
            return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_encrypted_store),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
