/* version.h - the Datacave release (independent of the module ABI). */
#ifndef DATACAVE_HOST_VERSION_H
#define DATACAVE_HOST_VERSION_H
#define DATACAVE_VERSION "0.1.0"
#endif
