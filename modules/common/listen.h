/*
 * common/listen.h - the listening TCP socket of modules that serve on an
 * address from the config (pgwire's [server] listen_addr, prometheus's
 * [metrics] listen_addr).  Header-only: modules never link against each
 * other, so shared code lives in static inline functions.
 */
#ifndef DATACAVE_MODULES_COMMON_LISTEN_H
#define DATACAVE_MODULES_COMMON_LISTEN_H

#include <errno.h>
#include <netdb.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "datacave/error.h"

/*
 * Listen on "host:port", "[v6addr]:port", ":port" or "*:port" (every
 * address) with SO_REUSEADDR and the given backlog; *out gets the socket
 * (close-on-exec, blocking).  `key` names the option in messages
 * ("server.listen_addr").  Errors: DC_EINVAL (not host:port, unknown
 * host), DC_EIO (no address could be bound: "could not listen on <key>
 * \"<addr>\": <reason>").
 */
static inline int dcm_listen_tcp(const char *addr, const char *key,
                                 int backlog, int *out, dc_error *err)
{
    char host[256], port[16];
    const char *a = addr;
    const char *colon = strrchr(a, ':');
    if (!colon || !colon[1] || strlen(colon + 1) >= sizeof port)
        return dc_error_set(err, DC_EINVAL, DC_SQLSTATE_CONFIG,
                            "%s \"%s\" is not host:port", key, addr);
    snprintf(port, sizeof port, "%s", colon + 1);
    size_t hl = (size_t)(colon - a);
    if (hl >= 2 && a[0] == '[' && a[hl - 1] == ']') {
        a++;
        hl -= 2;
    }
    if (hl >= sizeof host)
        return dc_error_set(err, DC_EINVAL, DC_SQLSTATE_CONFIG,
                            "%s \"%s\": the host name is too long", key, addr);
    snprintf(host, sizeof host, "%.*s", (int)hl, a);
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE};
    struct addrinfo *res = NULL;
    bool any = host[0] == '\0' || strcmp(host, "*") == 0;
    int g = getaddrinfo(any ? NULL : host, port, &hints, &res);
    if (g != 0)
        return dc_error_set(err, DC_EINVAL, DC_SQLSTATE_CONFIG,
                            "%s \"%s\": %s", key, addr, gai_strerror(g));
    int fd = -1, saved = 0;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
                    ai->ai_protocol);
        if (fd < 0) {
            saved = errno;
            continue;
        }
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 &&
            listen(fd, backlog) == 0)
            break;
        saved = errno;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0)
        return dc_error_set(err, DC_EIO, DC_SQLSTATE_IO,
                            "could not listen on %s \"%s\": %s", key, addr,
                            strerror(saved));
    *out = fd;
    return DC_OK;
}

#endif
