/*
 * test_allowlist_auth.c - unit test of the allowlist-auth example module,
 * with cmocka and a fake host.
 *
 * The module's object code is linked into this program (see the Makefile's
 * `test` target), so the test calls exactly what the host would: the entry
 * function, then init(), the auth vtable (begin, step, identity, end) and
 * shutdown().  The fake dc_host_api below implements only the services the
 * module uses -- log, config_string, config_bool, metric_register,
 * metric_series and counter_add -- and leaves every other entry NULL, so a
 * call to anything else crashes the test.
 *
 *     make test       # from this directory; needs libcmocka
 *
 * Build with sanitizers to catch leaks and overflows as well:
 *     make clean && make test EXTRA_CFLAGS=-fsanitize=address,undefined \
 *                             EXTRA_LDFLAGS=-fsanitize=address,undefined
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <datacave/auth.h>
#include <datacave/module.h>

/* The entry symbol, defined in allowlist_auth.c. */
const dc_module_desc *datacave_module_allowlist_auth_v0(void);

/* ------------------------------------------------------------------------
 * The fake host
 * ---------------------------------------------------------------------- */

#define FAKE_MAX_LOG 16

/* What the fake host serves and what it saw.  Reset before every test. */
static struct {
    /* Config of [module.allowlist-auth].  NULL string: the option is not
     * set (DC_ENOTFOUND).  `user` and `read_only` have defaults in the
     * descriptor, so, as in the real host, they always resolve. */
    const char *user;
    const char *password;
    bool read_only;
    /* metric_register: the status to return (DC_OK: succeed). */
    int metric_register_rc;
    /* What the module did. */
    int metric_registrations;
    uint64_t counts[2];                 /* [0] result="ok", [1] "fail" */
    int nlog;
    int log_level[FAKE_MAX_LOG];
    char log_line[FAKE_MAX_LOG][256];
} fake;

static int host_token;                  /* the module's opaque dc_host  */
static int metric_token;                /* the one metric family        */
#define FAKE_HOST ((dc_host *)&host_token)
#define FAKE_METRIC ((dc_metric *)&metric_token)

static void fake_reset(void)
{
    memset(&fake, 0, sizeof fake);
    fake.user = "demo";
    fake.password = "s3cret";
    fake.read_only = false;
    fake.metric_register_rc = DC_OK;
}

static void fake_log(dc_host *h, int level, const char *fmt, ...)
{
    assert_ptr_equal(h, FAKE_HOST);
    assert_true(fake.nlog < FAKE_MAX_LOG);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(fake.log_line[fake.nlog], sizeof fake.log_line[0], fmt, ap);
    va_end(ap);
    fake.log_level[fake.nlog] = level;
    fake.nlog++;
}

static int fake_config_string(dc_host *h, const char *path, const char **out)
{
    assert_ptr_equal(h, FAKE_HOST);
    const char *v = NULL;
    if (strcmp(path, ".user") == 0)
        v = fake.user;
    else if (strcmp(path, ".password") == 0)
        v = fake.password;
    else
        fail_msg("config_string: unexpected path %s", path);
    if (v == NULL)
        return DC_ENOTFOUND;
    *out = v;
    return DC_OK;
}

static int fake_config_bool(dc_host *h, const char *path, bool *out)
{
    assert_ptr_equal(h, FAKE_HOST);
    if (strcmp(path, ".read_only") != 0) {
        fail_msg("config_bool: unexpected path %s", path);
        return DC_ENOTFOUND;
    }
    *out = fake.read_only;
    return DC_OK;
}

static int fake_metric_register(dc_host *h, const dc_metric_desc *d,
                                dc_metric **out, dc_error *err)
{
    assert_ptr_equal(h, FAKE_HOST);
    assert_non_null(d);
    assert_int_equal(d->size, sizeof(dc_metric_desc));
    assert_int_equal(d->type, DC_METRIC_COUNTER);
    assert_string_equal(d->name, "datacave_example_auth_attempts_total");
    assert_int_equal(d->nlabels, 1);
    assert_string_equal(d->label_names[0], "result");
    fake.metric_registrations++;
    if (fake.metric_register_rc != DC_OK)
        return dc_error_set(err, fake.metric_register_rc, DC_SQLSTATE_OOM,
                            "out of memory");
    *out = FAKE_METRIC;
    return DC_OK;
}

static dc_series *fake_metric_series(dc_metric *m, const char *const *labels)
{
    assert_ptr_equal(m, FAKE_METRIC);
    assert_non_null(labels);
    if (strcmp(labels[0], "ok") == 0)
        return (dc_series *)&fake.counts[0];
    if (strcmp(labels[0], "fail") == 0)
        return (dc_series *)&fake.counts[1];
    fail_msg("metric_series: unexpected label value %s", labels[0]);
    return NULL;
}

static void fake_counter_add(dc_series *s, uint64_t delta)
{
    if (s != NULL)
        *(uint64_t *)s += delta;
}

static const dc_host_api fake_api = {
    .size = (uint32_t)sizeof(dc_host_api),
    .abi_major = DC_ABI_MAJOR,
    .abi_minor = DC_ABI_MINOR,
    .host_version = "test",
    .log = fake_log,
    .config_string = fake_config_string,
    .config_bool = fake_config_bool,
    .metric_register = fake_metric_register,
    .metric_series = fake_metric_series,
    .counter_add = fake_counter_add,
};

/* ------------------------------------------------------------------------
 * Helpers
 * ---------------------------------------------------------------------- */

static const dc_module_desc *desc(void)
{
    return datacave_module_allowlist_auth_v0();
}

static const dc_auth_vtable *vt(void)
{
    return desc()->vtable;
}

/* cmocka fixtures: a fresh fake host and an initialised instance in
 * *state; teardown shuts it down. */
static int setup_instance(void **state)
{
    dc_error err;
    void *inst = NULL;
    dc_error_init(&err);
    if (desc()->init(FAKE_HOST, &fake_api, &inst, &err) != DC_OK) {
        print_error("init failed: %s %s\n", err.sqlstate, err.message);
        return -1;
    }
    *state = inst;
    return 0;
}

static int setup(void **state)
{
    fake_reset();
    return setup_instance(state);
}

static int setup_read_only(void **state)
{
    fake_reset();
    fake.read_only = true;
    return setup_instance(state);
}

static int teardown(void **state)
{
    desc()->shutdown(*state);
    return 0;
}

static int setup_fake_only(void **state)
{
    (void)state;
    fake_reset();
    return 0;
}

/* Begin a conversation for `user` and take the first step, which must ask
 * for a cleartext password. */
static dc_auth_conv *begin_cleartext(void *inst, const char *user)
{
    dc_auth_conv *c = NULL;
    dc_auth_step_out out = {.size = (uint32_t)sizeof out};
    dc_error err;
    dc_error_init(&err);
    assert_int_equal(vt()->begin(inst, user, "127.0.0.1", false, &c, &err),
                     DC_OK);
    assert_non_null(c);
    assert_int_equal(vt()->step(c, NULL, 0, &out, &err), DC_OK);
    assert_int_equal(out.request, DC_AUTH_CLEARTEXT);
    assert_null(out.data);
    assert_int_equal(out.len, 0);
    assert_false(dc_error_isset(&err));
    return c;
}

/* Answer with `len` bytes of `msg` as the PasswordMessage body.  Returns
 * step()'s status; *err gets the error. */
static int send_password(dc_auth_conv *c, const void *msg, size_t len,
                         dc_auth_step_out *out, dc_error *err)
{
    dc_error_init(err);
    return vt()->step(c, (const uint8_t *)msg, len, out, err);
}

/* One whole login with a well-formed PasswordMessage (password and NUL).
 * Returns the status of the password step; *err gets the error. */
static int login(void *inst, const char *user, const char *password,
                 dc_error *err)
{
    dc_auth_conv *c = begin_cleartext(inst, user);
    dc_auth_step_out out = {.size = (uint32_t)sizeof out};
    int rc = send_password(c, password, strlen(password) + 1, &out, err);
    if (rc == DC_OK)
        assert_int_equal(out.request, DC_AUTH_OK);
    vt()->end(c);
    return rc;
}

/* Check that *err is the failed-login error for `user`. */
static void assert_login_failed(int rc, const dc_error *err, const char *user)
{
    char want[128];
    snprintf(want, sizeof want,
             "password authentication failed for user \"%s\"", user);
    assert_int_equal(rc, DC_EPERM);
    assert_int_equal(err->status, DC_EPERM);
    assert_string_equal(err->sqlstate, "28P01");
    assert_string_equal(err->message, want);
    assert_int_equal(err->severity, DC_SEV_FATAL);
    assert_string_equal(err->detail, "");
    assert_string_equal(err->hint, "");
}

/* ------------------------------------------------------------------------
 * Tests: the descriptor
 * ---------------------------------------------------------------------- */

static void test_descriptor(void **state)
{
    (void)state;
    const dc_module_desc *d = desc();
    assert_non_null(d);
    assert_ptr_equal(datacave_module_allowlist_auth_v0(), d);  /* no state */
    assert_int_equal(d->size, sizeof(dc_module_desc));
    assert_int_equal(d->magic, DC_MODULE_MAGIC);
    assert_int_equal(d->abi_major, DC_ABI_MAJOR);
    assert_int_equal(d->abi_minor, DC_ABI_MINOR);
    assert_int_equal(d->kind, DC_KIND_AUTH);
    assert_int_equal(d->kind_major, DC_AUTH_VTABLE_MAJOR);
    assert_int_equal(d->kind_minor, DC_AUTH_VTABLE_MINOR);
    assert_int_equal(d->platform, DC_PLATFORM_SIGNATURE);
    assert_string_equal(d->name, "allowlist-auth");
    assert_int_equal(d->ndeps, 0);
    assert_non_null(d->init);
    assert_non_null(d->shutdown);

    const dc_auth_vtable *v = d->vtable;
    assert_non_null(v);
    assert_int_equal(v->size, sizeof(dc_auth_vtable));
    assert_non_null(v->begin);
    assert_non_null(v->step);
    assert_non_null(v->identity);
    assert_non_null(v->end);
    assert_null(v->hash_password);

    /* password: required and secret, without a default. */
    int found = 0;
    for (uint32_t i = 0; i < d->nconfig_keys; i++) {
        const dc_config_key *k = &d->config_keys[i];
        if (strcmp(k->name, "password") == 0) {
            found++;
            assert_int_equal(k->type, DC_CFG_STRING);
            assert_null(k->default_value);
            assert_int_equal(k->flags, DC_OPT_REQUIRED | DC_OPT_SECRET);
        } else if (strcmp(k->name, "user") == 0) {
            found++;
            assert_int_equal(k->type, DC_CFG_STRING);
            assert_string_equal(k->default_value, "\"demo\"");
        } else if (strcmp(k->name, "read_only") == 0) {
            found++;
            assert_int_equal(k->type, DC_CFG_BOOL);
            assert_string_equal(k->default_value, "false");
        }
    }
    assert_int_equal(found, 3);
    assert_int_equal(d->nconfig_keys, 3);
}

/* ------------------------------------------------------------------------
 * Tests: init and shutdown
 * ---------------------------------------------------------------------- */

/* Call init with the fake host as configured; the instance pointer must
 * stay untouched on failure. */
static int init_expect_failure(dc_error *err)
{
    void *sentinel = (void *)&host_token;
    void *inst = sentinel;
    dc_error_init(err);
    int rc = desc()->init(FAKE_HOST, &fake_api, &inst, err);
    assert_int_not_equal(rc, DC_OK);
    assert_true(rc < 0);
    assert_ptr_equal(inst, sentinel);
    assert_int_equal(err->status, rc);
    return rc;
}

/* The host refuses a config without the required password before init, but
 * the module must still refuse on its own. */
static void test_init_refused_without_password(void **state)
{
    (void)state;
    dc_error err;
    fake.password = NULL;
    assert_int_equal(init_expect_failure(&err), DC_ENOTFOUND);
    assert_string_equal(err.sqlstate, "F0000");
    assert_string_equal(err.message,
                        "[module.allowlist-auth] password is not set");
    /* Nothing registered, nothing logged: no "ready" line. */
    assert_int_equal(fake.metric_registrations, 0);
    assert_int_equal(fake.nlog, 0);
}

static void test_init_refused_empty_password(void **state)
{
    (void)state;
    dc_error err;
    fake.password = "";
    assert_int_equal(init_expect_failure(&err), DC_EINVAL);
    assert_string_equal(err.sqlstate, "F0000");
    assert_string_equal(err.message,
                        "[module.allowlist-auth] password is empty");
    assert_int_equal(fake.nlog, 0);
}

static void test_init_refused_bad_user(void **state)
{
    (void)state;
    dc_error err;
    fake.user = "";
    assert_int_equal(init_expect_failure(&err), DC_EINVAL);
    assert_string_equal(err.sqlstate, "F0000");
    assert_string_equal(err.message, "[module.allowlist-auth] user is empty");

    char longname[65];
    memset(longname, 'u', 64);
    longname[64] = '\0';
    fake.user = longname;
    assert_int_equal(init_expect_failure(&err), DC_EINVAL);
    assert_string_equal(err.sqlstate, "F0000");
    assert_string_equal(err.message,
                        "[module.allowlist-auth] user is longer than 63 bytes");
    assert_int_equal(fake.nlog, 0);
}

/* init failing halfway (after reading the config) returns the host's
 * error and leaves nothing behind (leaks show under ASan). */
static void test_init_metric_register_fails(void **state)
{
    (void)state;
    dc_error err;
    fake.metric_register_rc = DC_ENOMEM;
    assert_int_equal(init_expect_failure(&err), DC_ENOMEM);
    assert_string_equal(err.sqlstate, DC_SQLSTATE_OOM);
    assert_int_equal(fake.metric_registrations, 1);
    assert_int_equal(fake.nlog, 0);
}

static void test_init_and_shutdown_log(void **state)
{
    (void)state;
    void *inst = NULL;
    dc_error err;
    dc_error_init(&err);
    assert_int_equal(desc()->init(FAKE_HOST, &fake_api, &inst, &err), DC_OK);
    assert_non_null(inst);
    assert_false(dc_error_isset(&err));    /* untouched on success */
    assert_int_equal(fake.metric_registrations, 1);
    assert_int_equal(fake.nlog, 1);
    assert_int_equal(fake.log_level[0], DC_LOG_INFO);
    assert_string_equal(fake.log_line[0], "ready, 1 user");

    desc()->shutdown(inst);
    assert_int_equal(fake.nlog, 2);
    assert_int_equal(fake.log_level[1], DC_LOG_INFO);
    assert_string_equal(fake.log_line[1], "shut down");
    /* No attempt was made, none was counted. */
    assert_int_equal(fake.counts[0], 0);
    assert_int_equal(fake.counts[1], 0);
}

/* ------------------------------------------------------------------------
 * Tests: logins
 * ---------------------------------------------------------------------- */

static void test_login_ok(void **state)
{
    void *inst = *state;
    dc_auth_conv *c = begin_cleartext(inst, "demo");
    dc_auth_step_out out = {.size = (uint32_t)sizeof out};
    dc_error err;
    assert_int_equal(send_password(c, "s3cret", 7, &out, &err), DC_OK);
    assert_int_equal(out.request, DC_AUTH_OK);
    assert_null(out.data);
    assert_int_equal(out.len, 0);
    assert_false(dc_error_isset(&err));

    dc_auth_identity id;
    memset(&id, 0xff, sizeof id);
    id.size = (uint32_t)sizeof id;
    assert_int_equal(vt()->identity(c, &id), DC_OK);
    assert_string_equal(id.user, "demo");
    assert_true(id.can_read);
    assert_true(id.can_write);
    assert_true(id.is_admin);

    /* The conversation is over: another step is out of order. */
    assert_int_equal(send_password(c, "s3cret", 7, &out, &err), DC_EINVAL);
    assert_string_equal(err.sqlstate, "08P01");
    vt()->end(c);

    assert_int_equal(fake.counts[0], 1);
    assert_int_equal(fake.counts[1], 0);
}

static void test_login_ok_read_only(void **state)
{
    void *inst = *state;
    dc_auth_conv *c = begin_cleartext(inst, "demo");
    dc_auth_step_out out = {.size = (uint32_t)sizeof out};
    dc_error err;
    assert_int_equal(send_password(c, "s3cret", 7, &out, &err), DC_OK);
    assert_int_equal(out.request, DC_AUTH_OK);

    dc_auth_identity id = {.size = (uint32_t)sizeof id};
    assert_int_equal(vt()->identity(c, &id), DC_OK);
    assert_string_equal(id.user, "demo");
    assert_true(id.can_read);
    assert_false(id.can_write);
    assert_false(id.is_admin);
    vt()->end(c);

    assert_int_equal(fake.counts[0], 1);
    assert_int_equal(fake.counts[1], 0);
}

/* A wrong, longer, shorter or empty password, and an unknown user (even
 * with the right password) all fail alike: DC_EPERM, 28P01, FATAL, and the
 * same message apart from the user name. */
static void test_login_failures_look_alike(void **state)
{
    void *inst = *state;
    static const struct {
        const char *user, *password;
    } cases[] = {
        {"demo", "wrong!"},      /* same length, other bytes */
        {"demo", "s3cret!"},     /* the password plus one byte */
        {"demo", "s3cret s3cret"},
        {"demo", "s3cre"},       /* a prefix of the password */
        {"demo", "S3CRET"},
        {"demo", ""},            /* empty: just the NUL */
        {"mallory", "s3cret"},   /* unknown user, right password */
        {"mallory", "wrong"},
        {"demo2", "s3cret"},     /* the user plus one byte */
        {"dem", "s3cret"},       /* a prefix of the user */
        {"DEMO", "s3cret"},
        {"", "s3cret"},
    };
    const size_t n = sizeof cases / sizeof cases[0];
    for (size_t i = 0; i < n; i++) {
        dc_auth_conv *c = begin_cleartext(inst, cases[i].user);
        dc_auth_step_out out = {.size = (uint32_t)sizeof out};
        out.request = 12345;
        dc_error err;
        int rc = send_password(c, cases[i].password,
                               strlen(cases[i].password) + 1, &out, &err);
        assert_login_failed(rc, &err, cases[i].user);
        assert_int_equal(out.request, 12345);   /* untouched on failure */

        /* After a failure: no identity, no further step. */
        dc_auth_identity id = {.size = (uint32_t)sizeof id};
        assert_int_equal(vt()->identity(c, &id), DC_EINVAL);
        assert_int_equal(send_password(c, "s3cret", 7, &out, &err),
                         DC_EINVAL);
        assert_string_equal(err.sqlstate, "08P01");
        vt()->end(c);
    }
    assert_int_equal(fake.counts[0], 0);
    assert_int_equal(fake.counts[1], n);

    /* The wrong-password and the unknown-user messages differ only in the
     * user named, so the same user name gives the very same error. */
    dc_error e1, e2;
    int r1 = login(inst, "demo", "nope", &e1);
    int r2 = login(inst, "demo", "s3cret-but-longer", &e2);
    assert_int_equal(r1, r2);
    assert_string_equal(e1.sqlstate, e2.sqlstate);
    assert_string_equal(e1.message, e2.message);
    assert_int_equal(e1.severity, e2.severity);
}

/* A user name longer than 63 bytes is cut in the message and never
 * matches. */
static void test_login_long_user(void **state)
{
    void *inst = *state;
    char user[200], cut[64];
    memset(user, 'x', sizeof user - 1);
    user[sizeof user - 1] = '\0';
    memcpy(cut, user, 63);
    cut[63] = '\0';
    dc_error err;
    assert_login_failed(login(inst, user, "s3cret", &err), &err, cut);
    assert_int_equal(fake.counts[1], 1);
}

/* A PasswordMessage must be the password and exactly one NUL, at the end:
 * anything else is a protocol violation, 08P01, and a failed attempt. */
static void test_password_message_malformed(void **state)
{
    void *inst = *state;
    static const struct {
        const char *msg;
        size_t len;
    } cases[] = {
        {"s3cret", 6},          /* no terminating NUL */
        {"s3cret\0s3cret", 13}, /* NUL inside, none at the end */
        {"s3\0cret", 8},        /* NUL inside and at the end */
        {"s3cret\0", 8},        /* two NULs at the end */
        {"", 0},                /* empty body */
        {NULL, 0},              /* no body */
    };
    const size_t n = sizeof cases / sizeof cases[0];
    for (size_t i = 0; i < n; i++) {
        dc_auth_conv *c = begin_cleartext(inst, "demo");
        dc_auth_step_out out = {.size = (uint32_t)sizeof out};
        dc_error err;
        int rc = send_password(c, cases[i].msg, cases[i].len, &out, &err);
        assert_int_equal(rc, DC_EINVAL);
        assert_int_equal(err.status, DC_EINVAL);
        assert_string_equal(err.sqlstate, "08P01");
        assert_string_equal(err.message, "invalid password packet size");
        assert_int_equal(err.severity, DC_SEV_FATAL);
        dc_auth_identity id = {.size = (uint32_t)sizeof id};
        assert_int_equal(vt()->identity(c, &id), DC_EINVAL);
        vt()->end(c);
    }
    assert_int_equal(fake.counts[0], 0);
    assert_int_equal(fake.counts[1], n);
}

/* Calls out of order or with bad arguments. */
static void test_misuse(void **state)
{
    void *inst = *state;
    dc_error err;
    dc_auth_conv *c = NULL;

    /* No user name. */
    dc_error_init(&err);
    assert_int_equal(vt()->begin(inst, NULL, "127.0.0.1", false, &c, &err),
                     DC_EINVAL);
    assert_null(c);
    assert_string_equal(err.sqlstate, "08P01");

    /* identity() before the login succeeded. */
    c = begin_cleartext(inst, "demo");
    dc_auth_identity id = {.size = (uint32_t)sizeof id};
    assert_int_equal(vt()->identity(c, &id), DC_EINVAL);

    /* An output struct too small for the fields step() writes. */
    dc_auth_step_out small = {.size = 4};
    dc_error_init(&err);
    assert_int_equal(vt()->step(c, (const uint8_t *)"s3cret", 7, &small, &err),
                     DC_EINVAL);
    assert_string_equal(err.sqlstate, DC_SQLSTATE_INTERNAL);
    vt()->end(c);

    /* end() at any point, and end(NULL). */
    dc_error_init(&err);
    assert_int_equal(vt()->begin(inst, "demo", "", true, &c, &err), DC_OK);
    vt()->end(c);
    vt()->end(NULL);

    /* Abandoned conversations count as no attempt. */
    assert_int_equal(fake.counts[0], 0);
    assert_int_equal(fake.counts[1], 0);
}

/* Each finished attempt is counted once, as ok or fail; several
 * conversations may be open at once. */
static void test_metric_counts(void **state)
{
    void *inst = *state;
    dc_error err;

    assert_int_equal(login(inst, "demo", "s3cret", &err), DC_OK);
    assert_int_equal(fake.counts[0], 1);
    assert_int_equal(fake.counts[1], 0);

    assert_int_equal(login(inst, "demo", "nope", &err), DC_EPERM);
    assert_int_equal(fake.counts[0], 1);
    assert_int_equal(fake.counts[1], 1);

    assert_int_equal(login(inst, "nobody", "s3cret", &err), DC_EPERM);
    assert_int_equal(fake.counts[1], 2);

    /* Two conversations interleaved. */
    dc_auth_conv *a = begin_cleartext(inst, "demo");
    dc_auth_conv *b = begin_cleartext(inst, "demo");
    dc_auth_step_out out = {.size = (uint32_t)sizeof out};
    assert_int_equal(send_password(b, "s3cret", 7, &out, &err), DC_OK);
    assert_int_equal(send_password(a, "s3cret", 6, &out, &err), DC_EINVAL);
    vt()->end(a);
    vt()->end(b);
    assert_int_equal(fake.counts[0], 2);
    assert_int_equal(fake.counts[1], 3);

    /* A step out of order after a finished attempt counts nothing more. */
    dc_auth_conv *c = begin_cleartext(inst, "demo");
    assert_int_equal(send_password(c, "s3cret", 7, &out, &err), DC_OK);
    assert_int_equal(send_password(c, "s3cret", 7, &out, &err), DC_EINVAL);
    vt()->end(c);
    assert_int_equal(fake.counts[0], 3);
    assert_int_equal(fake.counts[1], 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_descriptor),
        cmocka_unit_test_setup(test_init_refused_without_password,
                               setup_fake_only),
        cmocka_unit_test_setup(test_init_refused_empty_password,
                               setup_fake_only),
        cmocka_unit_test_setup(test_init_refused_bad_user, setup_fake_only),
        cmocka_unit_test_setup(test_init_metric_register_fails,
                               setup_fake_only),
        cmocka_unit_test_setup(test_init_and_shutdown_log, setup_fake_only),
        cmocka_unit_test_setup_teardown(test_login_ok, setup, teardown),
        cmocka_unit_test_setup_teardown(test_login_ok_read_only,
                                        setup_read_only, teardown),
        cmocka_unit_test_setup_teardown(test_login_failures_look_alike, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_login_long_user, setup, teardown),
        cmocka_unit_test_setup_teardown(test_password_message_malformed, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_misuse, setup, teardown),
        cmocka_unit_test_setup_teardown(test_metric_counts, setup, teardown),
    };
    return cmocka_run_group_tests_name("allowlist-auth", tests, NULL, NULL);
}
