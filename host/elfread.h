/*
 * elfread.h - reads the exported symbols of a shared object without loading it.
 *
 * The loader uses it to find a module's one entry symbol and to refuse a
 * file that is not a shared object for this machine before dlopen() runs any
 * of the file's code.  Every offset and size in the file is checked against
 * the bytes present: a malformed file gets an error, never a crash.
 *
 * Threads: no shared state; callable from any thread.
 */
#ifndef DATACAVE_HOST_ELFREAD_H
#define DATACAVE_HOST_ELFREAD_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"

/* Append to *exports the names of the defined, globally visible function and
 * object symbols of the ELF image in buf[0..len).  Returns 0, or -1 with a
 * one-line reason in err ("not an ELF file", "ELF class 32-bit, host is
 * 64-bit", ...). */
int dc_elf_exports_mem(const uint8_t *buf, size_t len, dc_strlist *exports,
                       char *err, size_t errlen);

/* The same for a file. */
int dc_elf_exports(const char *path, dc_strlist *exports, char *err,
                   size_t errlen);

#endif
