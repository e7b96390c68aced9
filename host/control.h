/*
 * control.h - the server's control socket, and `datacave backup`, its
 * client.
 *
 * A running server listens on a Unix domain socket in its data directory,
 * <data_dir>/datacave.sock (mode 0600, removed at shutdown; a stale one
 * left by a crash is replaced at start), served by one host thread.  It is
 * started only when the storage module can make checkpoints (the storage
 * vtable's checkpoint()).  Only a peer with the server's user id (or root)
 * is served.
 *
 * Protocol: one request per connection, one reply, then the server closes
 * it.  Both are frames: a 4-byte big-endian payload length (1 to
 * DC_CONTROL_MAX_PAYLOAD), then the payload.
 *
 *   request  "backup " + an absolute directory path (no NUL byte, shorter
 *            than PATH_MAX): write a checkpoint of the store there
 *   reply    "ok " + a message, or "error " + a message
 *
 * A malformed request (length out of range, unknown command, a relative or
 * empty path) gets an error reply; a peer whose request is not complete
 * within 10 seconds (or when the server stops) is dropped.  Requests are
 * served one at a time: a backup being written holds the next request,
 * and the server's shutdown, until it is done.
 *
 * Threads: dc_control_start/stop on the main thread; the parsing functions
 * are pure and may run anywhere.
 */
#ifndef DATACAVE_HOST_CONTROL_H
#define DATACAVE_HOST_CONTROL_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "loader.h"

#define DC_CONTROL_SOCKET      "datacave.sock"
#define DC_CONTROL_MAX_PAYLOAD 4096u

enum { DC_CONTROL_BACKUP = 1 };

typedef struct dc_control_request {
    int op;                             /* DC_CONTROL_*              */
    char path[DC_CONTROL_MAX_PAYLOAD];  /* backup: the destination   */
} dc_control_request;

/* The payload length of a frame from its 4-byte header.  Returns 0 and
 * *len, or -1 with the reason in why. */
int dc_control_frame_len(const uint8_t hdr[4], uint32_t *len, char *why,
                         size_t whylen);

/* Parse a request payload of n bytes.  Returns 0 and fills *out, or -1
 * with the reason in why (never reads outside p[0..n)). */
int dc_control_parse(const uint8_t *p, size_t n, dc_control_request *out,
                     char *why, size_t whylen);

/* The data directory of cfg ([storage] data_dir, relative to the config
 * file's directory), absolute.  Caller frees; NULL when unset. */
char *dc_control_data_dir(const dc_config *cfg);

typedef struct dc_control dc_control;

/* Start the control socket of the server running `rt` (initialised).
 * Returns NULL (with the reason logged) when the storage module cannot
 * make checkpoints or the socket cannot be made; the server runs on
 * without it. */
dc_control *dc_control_start(dc_runtime *rt, const dc_config *cfg);

/* Stop serving (waits for a request being served), close and remove the
 * socket.  NULL is allowed. */
void dc_control_stop(dc_control *c);

/* `datacave backup --config FILE --to DIR`: argv[from..] are its options.
 * Returns the exit status. */
int dc_backup_main(int argc, char **argv, int from);

#endif
