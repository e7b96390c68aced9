/*
 * embed.h - the SQL engine in-process: the storage and sql modules (and the
 * encryption module the storage uses) of a config file, loaded and
 * initialised through the loader like the server does, without the
 * protocol, auth and metrics modules.  The `datacave sql` shell and the
 * sqllogictest runner use it.
 *
 * Only one process may have a data directory open: when a running server
 * (or another shell) holds it, dc_embed_open fails with DC_EBUSY and the
 * message "the data directory DIR is in use by a running server; stop it
 * or connect with psql".
 *
 * Threads: an embed is opened and closed by one thread; sessions follow
 * the rules of datacave/sql.h.
 */
#ifndef DATACAVE_HOST_EMBED_H
#define DATACAVE_HOST_EMBED_H

#include "datacave/error.h"
#include "datacave/sql.h"
#include "util.h"

typedef struct dc_embed dc_embed;

/*
 * Load `config_path`, with [storage] data_dir replaced by `data_dir` when
 * it is not NULL (a relative data_dir is relative to the current
 * directory), load and initialise the storage, encryption and sql modules.
 * Returns DC_OK and *out, or a negative status with one message per
 * problem appended to *errors (DC_EBUSY: the data directory is in use).
 */
int dc_embed_open(const char *config_path, const char *data_dir, dc_embed **out,
                  dc_strlist *errors);

/* Shut the modules down (in reverse order) and free everything.  Every
 * session must be closed first.  NULL is allowed. */
void dc_embed_close(dc_embed *e);

/* The sql module's vtable and instance (valid until dc_embed_close). */
const dc_sql_vtable *dc_embed_sql(const dc_embed *e);
void *dc_embed_instance(const dc_embed *e);

/* The data directory in use (absolute when the config names one). */
const char *dc_embed_data_dir(const dc_embed *e);

/* Open a session for `user` on `database` with every right (the local
 * shell is the data directory's owner).  Errors as session_open. */
int dc_embed_session(dc_embed *e, const char *user, const char *database,
                     dc_sql_session **out, dc_error *err);

/* The config text of `text` with the [storage] data_dir key set to `dir`
 * (added to the [storage] table, or a new table, when absent).  Returns a
 * malloc'd string, or NULL when the file sets the key in a form this
 * cannot rewrite (a dotted key or an inline table). */
char *dc_embed_override_data_dir(const char *text, const char *dir);

#endif
