/*
 * control.c - the server's control socket and `datacave backup`
 * (control.h).
 */
#define _GNU_SOURCE
#include "control.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "datacave/storage.h"
#include "log.h"
#include "util.h"

#define EXIT_USAGE 2
/* How long the server waits for a request's bytes, and for its reply to
 * be taken. */
#define CONTROL_IO_TIMEOUT_SECS 10

/* ---- the protocol --------------------------------------------------------- */

int dc_control_frame_len(const uint8_t hdr[4], uint32_t *len, char *why,
                         size_t whylen)
{
    uint32_t n = (uint32_t)hdr[0] << 24 | (uint32_t)hdr[1] << 16 |
                 (uint32_t)hdr[2] << 8 | (uint32_t)hdr[3];
    if (n == 0 || n > DC_CONTROL_MAX_PAYLOAD) {
        snprintf(why, whylen,
                 "request length %" PRIu32 " is out of range (1 to %u)", n,
                 DC_CONTROL_MAX_PAYLOAD);
        return -1;
    }
    *len = n;
    return 0;
}

int dc_control_parse(const uint8_t *p, size_t n, dc_control_request *out,
                     char *why, size_t whylen)
{
    static const char backup[] = "backup ";
    const size_t bl = sizeof backup - 1;
    if (n > DC_CONTROL_MAX_PAYLOAD) {
        snprintf(why, whylen, "request too long");
        return -1;
    }
    if (n < bl || memcmp(p, backup, bl) != 0) {
        size_t w = 0;
        while (w < n && w < 16 && p[w] > ' ' && p[w] < 0x7f)
            w++;
        snprintf(why, whylen, "unknown request \"%.*s\"", (int)w,
                 (const char *)p);
        return -1;
    }
    const uint8_t *path = p + bl;
    size_t pl = n - bl;
    if (pl == 0 || path[0] != '/') {
        snprintf(why, whylen, "the backup directory must be an absolute path");
        return -1;
    }
    if (memchr(path, '\0', pl) != NULL) {
        snprintf(why, whylen, "the backup directory holds a NUL byte");
        return -1;
    }
    if (pl >= PATH_MAX || pl >= sizeof out->path) {
        snprintf(why, whylen, "the backup directory path is too long");
        return -1;
    }
    out->op = DC_CONTROL_BACKUP;
    memcpy(out->path, path, pl);
    out->path[pl] = '\0';
    return 0;
}

/* ---- shared helpers ------------------------------------------------------- */

static char *absolute(const char *path)
{
    if (path[0] == '/')
        return dc_xstrdup(path);
    char cwd[PATH_MAX];
    if (getcwd(cwd, sizeof cwd) == NULL)
        return dc_xstrdup(path);
    return dc_path_join(cwd, path);
}

char *dc_control_data_dir(const dc_config *cfg)
{
    const char *dd;
    if (dc_config_string(cfg, "storage.data_dir", &dd) != DC_OK || dd[0] == 0)
        return NULL;
    if (dd[0] == '/')
        return dc_xstrdup(dd);
    const char *cd = dc_config_dir(cfg);
    char *rel = dc_path_join(cd ? cd : ".", dd);
    char *abs = absolute(rel);
    free(rel);
    return abs;
}

/* The address of <dir>/datacave.sock.  A path longer than sun_path is
 * reached through /proc/self/fd/<fd of dir>/; *dirfd gets that fd (close
 * it after bind or connect) or -1.  0, or -1 with errno set. */
static int socket_addr(const char *dir, struct sockaddr_un *a,
                       socklen_t *alen, int *dirfd)
{
    *dirfd = -1;
    memset(a, 0, sizeof *a);
    a->sun_family = AF_UNIX;
    int n = snprintf(a->sun_path, sizeof a->sun_path, "%s/%s", dir,
                     DC_CONTROL_SOCKET);
    if (n < 0 || (size_t)n >= sizeof a->sun_path) {
        int fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
            return -1;
        n = snprintf(a->sun_path, sizeof a->sun_path, "/proc/self/fd/%d/%s",
                     fd, DC_CONTROL_SOCKET);
        *dirfd = fd;
    }
    *alen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + (size_t)n + 1);
    return 0;
}

/* Read exactly n bytes; 0, or -1 (error, timeout or end of stream). */
static int read_full(int fd, uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t r = recv(fd, p, n, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        p += r;
        n -= (size_t)r;
    }
    return 0;
}

/* Send one frame holding `msg`; 0 or -1. */
static int send_frame(int fd, const char *msg)
{
    size_t n = strlen(msg);
    if (n == 0 || n > DC_CONTROL_MAX_PAYLOAD)
        return -1;
    uint8_t buf[4 + DC_CONTROL_MAX_PAYLOAD];
    buf[0] = (uint8_t)(n >> 24);
    buf[1] = (uint8_t)(n >> 16);
    buf[2] = (uint8_t)(n >> 8);
    buf[3] = (uint8_t)n;
    memcpy(buf + 4, msg, n);
    size_t off = 0, total = n + 4;
    while (off < total) {
        ssize_t w = send(fd, buf + off, total - off, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        off += (size_t)w;
    }
    return 0;
}

/* The storage module's checkpoint call, or NULL. */
static const dc_storage_vtable *checkpoint_vtable(const dc_module *m)
{
    if (m == NULL)
        return NULL;
    const dc_storage_vtable *sv = m->desc->vtable;
    if (!DC_HAS_FIELD(sv, dc_storage_vtable, checkpoint) ||
        sv->checkpoint == NULL)
        return NULL;
    return sv;
}

/* What a finished checkpoint did, in one line. */
static void describe(char *buf, size_t cap, const char *dest,
                     const dc_checkpoint_info *in)
{
    snprintf(buf, cap,
             "backup written to %s: sequence %" PRIu64 ", %" PRIu64
             " table files linked, %" PRIu64 " copied, %" PRIu64
             " written from memory, %" PRIu64 " bytes",
             dest, in->seq, in->files_linked, in->files_copied,
             in->files_written, in->bytes);
}

/* ---- the server side ------------------------------------------------------ */

struct dc_control {
    dc_runtime *rt;
    char *dir;
    char *path; /* <dir>/datacave.sock */
    int lfd;
    int wake[2];
    pthread_t thread;
};

/* Read exactly n bytes from a peer within CONTROL_IO_TIMEOUT_SECS, giving
 * up at once when the server stops.  0, or -1. */
static int server_read(dc_control *c, int fd, uint8_t *p, size_t n)
{
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    while (n > 0) {
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        long long left = CONTROL_IO_TIMEOUT_SECS * 1000LL -
                         ((now.tv_sec - start.tv_sec) * 1000LL +
                          (now.tv_nsec - start.tv_nsec) / 1000000);
        if (left <= 0)
            return -1;
        struct pollfd pf[2] = {{.fd = fd, .events = POLLIN},
                               {.fd = c->wake[0], .events = POLLIN}};
        int r = poll(pf, 2, (int)left);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0 || pf[1].revents != 0)
            return -1;
        ssize_t got = recv(fd, p, n, MSG_DONTWAIT);
        if (got < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (got <= 0)
            return -1;
        p += got;
        n -= (size_t)got;
    }
    return 0;
}

static int reply(int fd, bool ok, const char *msg)
{
    char buf[DC_CONTROL_MAX_PAYLOAD + 1];
    snprintf(buf, sizeof buf, "%s %.3000s", ok ? "ok" : "error", msg);
    return send_frame(fd, buf);
}

static void serve_backup(dc_control *c, int fd, const char *dest)
{
    dc_module *sm = dc_runtime_module(c->rt, DC_KIND_STORAGE);
    const dc_storage_vtable *sv = checkpoint_vtable(sm);
    if (sv == NULL) {
        reply(fd, false, "the storage module cannot make backups");
        return;
    }
    dc_log_info("backup to %s requested", dest);
    dc_checkpoint_info info;
    memset(&info, 0, sizeof info);
    info.size = sizeof info;
    dc_error err;
    dc_error_init(&err);
    char msg[DC_CONTROL_MAX_PAYLOAD];
    int rc = sv->checkpoint(sm->instance, NULL, dest, &info, &err);
    if (rc != DC_OK) {
        dc_log_warn("backup to %s failed: %s", dest, err.message);
        reply(fd, false, err.message);
        return;
    }
    describe(msg, sizeof msg, dest, &info);
    dc_log_info("%s", msg);
    reply(fd, true, msg);
}

static void serve_one(dc_control *c, int fd)
{
    struct ucred cr;
    socklen_t crl = sizeof cr;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &crl) != 0 ||
        (cr.uid != geteuid() && cr.uid != 0)) {
        reply(fd, false, "permission denied: not the server's user");
        return;
    }
    struct timeval tv = {.tv_sec = CONTROL_IO_TIMEOUT_SECS, .tv_usec = 0};
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    uint8_t hdr[4];
    if (server_read(c, fd, hdr, sizeof hdr) != 0)
        return; /* nothing (in time): nobody to answer */
    char why[256];
    uint32_t len;
    if (dc_control_frame_len(hdr, &len, why, sizeof why) != 0) {
        reply(fd, false, why);
        return;
    }
    uint8_t *payload = malloc(len);
    if (payload == NULL) {
        reply(fd, false, "out of memory");
        return;
    }
    if (server_read(c, fd, payload, len) != 0) {
        free(payload);
        return;
    }
    dc_control_request *req = malloc(sizeof *req);
    if (req == NULL) {
        free(payload);
        reply(fd, false, "out of memory");
        return;
    }
    if (dc_control_parse(payload, len, req, why, sizeof why) != 0) {
        dc_log_warn("control socket: refused a request: %s", why);
        reply(fd, false, why);
    } else {
        serve_backup(c, fd, req->path);
    }
    free(req);
    free(payload);
}

static void *control_main(void *arg)
{
    dc_control *c = arg;
    for (;;) {
        struct pollfd p[2] = {{.fd = c->lfd, .events = POLLIN},
                              {.fd = c->wake[0], .events = POLLIN}};
        int n = poll(p, 2, -1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 || p[1].revents != 0)
            break;
        if (p[0].revents & POLLIN) {
            int fd = accept4(c->lfd, NULL, NULL, SOCK_CLOEXEC);
            if (fd < 0)
                continue;
            serve_one(c, fd);
            close(fd);
        }
    }
    return NULL;
}

static void control_free(dc_control *c)
{
    if (c->lfd >= 0)
        close(c->lfd);
    if (c->wake[0] >= 0)
        close(c->wake[0]);
    if (c->wake[1] >= 0)
        close(c->wake[1]);
    free(c->dir);
    free(c->path);
    free(c);
}

dc_control *dc_control_start(dc_runtime *rt, const dc_config *cfg)
{
    dc_module *sm = dc_runtime_module(rt, DC_KIND_STORAGE);
    if (checkpoint_vtable(sm) == NULL)
        return NULL; /* nothing to serve: the storage cannot make backups */
    char *dir = dc_control_data_dir(cfg);
    if (dir == NULL)
        return NULL;
    dc_control *c = dc_xcalloc(1, sizeof *c);
    c->rt = rt;
    c->dir = dir;
    c->path = dc_path_join(dir, DC_CONTROL_SOCKET);
    c->lfd = c->wake[0] = c->wake[1] = -1;

    /* A socket left by a server that crashed: this process holds the data
     * directory now (the storage module locked it), so it is stale. */
    struct stat st;
    if (lstat(c->path, &st) == 0) {
        if (!S_ISSOCK(st.st_mode)) {
            dc_log_warn("control socket: %s exists and is not a socket; "
                        "`datacave backup` cannot reach this server",
                        c->path);
            control_free(c);
            return NULL;
        }
        unlink(c->path);
    }
    struct sockaddr_un a;
    socklen_t alen;
    int dirfd = -1;
    bool bound = false;
    const char *what = "socket";
    c->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (c->lfd < 0)
        goto fail;
    what = "bind";
    if (socket_addr(dir, &a, &alen, &dirfd) != 0 ||
        bind(c->lfd, (struct sockaddr *)&a, alen) != 0)
        goto fail;
    bound = true;
    if (dirfd >= 0)
        close(dirfd);
    dirfd = -1;
    what = "chmod";
    if (chmod(c->path, 0600) != 0)
        goto fail;
    what = "listen";
    if (listen(c->lfd, 8) != 0)
        goto fail;
    what = "pipe";
    if (pipe2(c->wake, O_CLOEXEC) != 0)
        goto fail;
    what = "thread";
    int e = pthread_create(&c->thread, NULL, control_main, c);
    if (e != 0) {
        errno = e;
        goto fail;
    }
    dc_log_info("control socket: %s", c->path);
    return c;
fail:
    dc_log_warn("control socket: %s %s: %s; `datacave backup` cannot reach "
                "this server",
                what, c->path, strerror(errno));
    if (dirfd >= 0)
        close(dirfd);
    if (bound)
        unlink(c->path);
    control_free(c);
    return NULL;
}

void dc_control_stop(dc_control *c)
{
    if (c == NULL)
        return;
    char b = 1;
    ssize_t w;
    do
        w = write(c->wake[1], &b, 1);
    while (w < 0 && errno == EINTR);
    pthread_join(c->thread, NULL);
    unlink(c->path);
    control_free(c);
}

/* ---- the client: datacave backup ----------------------------------------- */

static const char HELP_BACKUP[] =
    "usage: datacave backup --config FILE --to DIR\n"
    "\n"
    "Writes a consistent copy of the store in the data directory of FILE's\n"
    "[storage] to DIR, which must not exist or be empty (its parent must\n"
    "exist).  The copy holds exactly the transactions committed before the\n"
    "backup began; start a server with [storage] data_dir = DIR to use it.\n"
    "Table files are hard-linked when DIR is on the same file system.\n"
    "\n"
    "With the server running, the server makes the copy (asked through\n"
    "<data_dir>/datacave.sock) while it keeps serving.  With no server\n"
    "running, this command opens the store itself, which keeps a server\n"
    "from starting on it until the copy is done.\n"
    "\n"
    "Exit status: 0 when the copy was written, 1 otherwise, 2 for usage.\n";

typedef enum { ASK_DONE, ASK_NO_SERVER } ask_result;

/* Ask the server listening on the control socket of `dir`.  *rc gets the
 * exit status when ASK_DONE. */
static ask_result ask_server(const char *dir, const char *dest, int *rc)
{
    struct sockaddr_un a;
    socklen_t alen;
    int dirfd = -1;
    char *sock = dc_path_join(dir, DC_CONTROL_SOCKET);
    *rc = 1;
    if (socket_addr(dir, &a, &alen, &dirfd) != 0) {
        free(sock);
        /* No data directory at all: nothing runs there. */
        return ASK_NO_SERVER;
    }
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        fprintf(stderr, "datacave: socket: %s\n", strerror(errno));
        if (dirfd >= 0)
            close(dirfd);
        free(sock);
        return ASK_DONE;
    }
    int c = connect(fd, (struct sockaddr *)&a, alen);
    int cerr = errno;
    if (dirfd >= 0)
        close(dirfd);
    if (c != 0) {
        close(fd);
        if (cerr == ENOENT || cerr == ECONNREFUSED) {
            free(sock);
            return ASK_NO_SERVER;
        }
        fprintf(stderr, "datacave: cannot connect to the server's control "
                        "socket %s: %s\n",
                sock, strerror(cerr));
        free(sock);
        return ASK_DONE;
    }
    char req[DC_CONTROL_MAX_PAYLOAD + 1];
    int n = snprintf(req, sizeof req, "backup %s", dest);
    if (n < 0 || (size_t)n > DC_CONTROL_MAX_PAYLOAD) {
        fprintf(stderr, "datacave: the backup directory path is too long\n");
        close(fd);
        free(sock);
        return ASK_DONE;
    }
    if (send_frame(fd, req) != 0) {
        fprintf(stderr, "datacave: cannot send the request to %s: %s\n", sock,
                strerror(errno));
        close(fd);
        free(sock);
        return ASK_DONE;
    }
    /* The server answers when the copy is written, however long that
     * takes; it closes the connection if it stops meanwhile. */
    uint8_t hdr[4];
    uint32_t len = 0;
    char why[256];
    uint8_t *msg = NULL;
    if (read_full(fd, hdr, sizeof hdr) != 0) {
        fprintf(stderr, "datacave: the server closed the connection without "
                        "an answer (see its log)\n");
    } else if (dc_control_frame_len(hdr, &len, why, sizeof why) != 0 ||
               (msg = malloc(len + 1)) == NULL ||
               read_full(fd, msg, len) != 0) {
        fprintf(stderr, "datacave: malformed answer from the server\n");
    } else {
        msg[len] = '\0';
        const char *m = (const char *)msg;
        if (strncmp(m, "ok ", 3) == 0) {
            printf("%s\n", m + 3);
            *rc = 0;
        } else if (strncmp(m, "error ", 6) == 0) {
            fprintf(stderr, "datacave: backup failed: %s\n", m + 6);
        } else {
            fprintf(stderr, "datacave: malformed answer from the server\n");
        }
    }
    free(msg);
    close(fd);
    free(sock);
    return ASK_DONE;
}

/* No server: load the storage module (and the encryption module it uses)
 * and let it open the store and copy it. */
static int backup_offline(dc_config *cfg, const char *dir, const char *dest)
{
    dc_runtime *rt = dc_runtime_new(cfg);
    dc_strlist errors = {0};
    int rc = 1;
    if (dc_runtime_load(rt, 1u << DC_KIND_STORAGE, &errors) == 0)
        dc_runtime_resolve(rt, false, &errors);
    if (errors.len) {
        for (size_t i = 0; i < errors.len; i++)
            fprintf(stderr, "datacave: %s\n", errors.items[i]);
        dc_strlist_free(&errors);
        dc_runtime_free(rt);
        return 1;
    }
    dc_module *sm = dc_runtime_module(rt, DC_KIND_STORAGE);
    const dc_storage_vtable *sv = checkpoint_vtable(sm);
    if (sm == NULL) {
        fprintf(stderr, "datacave: no storage module configured "
                        "([modules] storage)\n");
        dc_runtime_free(rt);
        return 1;
    }
    if (sv == NULL) {
        fprintf(stderr, "datacave: storage module %s cannot make backups\n",
                sm->desc->name);
        dc_runtime_free(rt);
        return 1;
    }
    dc_error err;
    dc_error_init(&err);
    if (dc_runtime_init(rt, &err) != DC_OK) {
        fprintf(stderr, "datacave: %s\n", err.message);
        dc_runtime_free(rt);
        return 1;
    }
    dc_checkpoint_info info;
    memset(&info, 0, sizeof info);
    info.size = sizeof info;
    int r = sv->checkpoint(sm->instance, NULL, dest, &info, &err);
    if (r == DC_OK) {
        char msg[DC_CONTROL_MAX_PAYLOAD];
        describe(msg, sizeof msg, dest, &info);
        printf("%s (no server was running: the store was opened by this "
               "command)\n",
               msg);
        rc = 0;
    } else if (r == DC_EBUSY) {
        fprintf(stderr,
                "datacave: the data directory %s is in use by a running "
                "server, but its control socket %s/%s does not answer (see "
                "the server's log)\n",
                dir, dir, DC_CONTROL_SOCKET);
    } else {
        fprintf(stderr, "datacave: backup failed: %s\n", err.message);
    }
    dc_runtime_shutdown(rt);
    dc_runtime_free(rt);
    return rc;
}

/* 0: dest is absent or an empty directory; otherwise prints why not. */
static int check_dest(const char *dest)
{
    struct stat st;
    if (lstat(dest, &st) != 0)
        return 0;
    if (!S_ISDIR(st.st_mode)) {
        fprintf(stderr, "datacave: %s exists and is not a directory\n", dest);
        return 1;
    }
    DIR *d = opendir(dest);
    if (d == NULL) {
        fprintf(stderr, "datacave: cannot read %s: %s\n", dest,
                strerror(errno));
        return 1;
    }
    struct dirent *de;
    bool empty = true;
    while (empty && (de = readdir(d)) != NULL)
        if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
            empty = false;
    closedir(d);
    if (!empty) {
        fprintf(stderr, "datacave: the backup directory %s exists and is "
                        "not empty\n",
                dest);
        return 1;
    }
    return 0;
}

int dc_backup_main(int argc, char **argv, int from)
{
    const char *config = NULL, *to = NULL;
    for (int i = from; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            fputs(HELP_BACKUP, stdout);
            return 0;
        } else if (strcmp(a, "--config") == 0 || strcmp(a, "-c") == 0 ||
                   strcmp(a, "--to") == 0) {
            if (i + 1 >= argc) {
                fprintf(stderr, "datacave: %s needs a value\n", a);
                return EXIT_USAGE;
            }
            if (strcmp(a, "--to") == 0)
                to = argv[++i];
            else
                config = argv[++i];
        } else if (strncmp(a, "--config=", 9) == 0) {
            config = a + 9;
        } else if (strncmp(a, "--to=", 5) == 0) {
            to = a + 5;
        } else {
            fprintf(stderr, "datacave: unexpected argument %s\n", a);
            fputs(HELP_BACKUP, stderr);
            return EXIT_USAGE;
        }
    }
    if (config == NULL || to == NULL || to[0] == '\0') {
        fprintf(stderr, "datacave: backup needs --config FILE and --to DIR\n");
        fputs(HELP_BACKUP, stderr);
        return EXIT_USAGE;
    }
    dc_strlist errors = {0};
    dc_config *cfg = dc_config_load(config, &errors);
    if (cfg == NULL) {
        for (size_t i = 0; i < errors.len; i++)
            fprintf(stderr, "datacave: %s\n", errors.items[i]);
        dc_strlist_free(&errors);
        return 1;
    }
    /* The modules' informational lines (offline) would drown the result. */
    const char *lv;
    int level = DC_LOG_WARN;
    if (dc_config_string(cfg, "log.level", &lv) == DC_OK &&
        dc_log_level_parse(lv) > level)
        level = dc_log_level_parse(lv);
    dc_log_set_level(level);

    int rc = 1;
    char *dir = dc_control_data_dir(cfg);
    char *dest = absolute(to);
    /* Without trailing slashes (the server names the copy after it). */
    size_t dl = strlen(dest);
    while (dl > 1 && dest[dl - 1] == '/')
        dest[--dl] = '\0';
    if (dir == NULL) {
        fprintf(stderr, "datacave: %s sets no [storage] data_dir\n", config);
    } else if (check_dest(dest) == 0) {
        if (ask_server(dir, dest, &rc) == ASK_NO_SERVER)
            rc = backup_offline(cfg, dir, dest);
    }
    free(dest);
    free(dir);
    dc_config_free(cfg);
    return rc;
}
