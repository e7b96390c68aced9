# sdk/module.mk - build one Datacave module (a shared object) from C sources.
#
# A module's Makefile sets two variables and includes this file:
#
#     MODULE = allowlist-auth          # builds allowlist-auth.so
#     SRCS   = allowlist_auth.c        # C sources, relative to the Makefile
#     include ../../module.mk          # path to this file
#
# MODULE and SRCS must be set before the include line (rule targets are
# expanded when this file is read).  Add flags after it, e.g.
# `CFLAGS += -DNDEBUG` or `LDLIBS += -lcrypto` (system libraries only: a
# module never links against the host or another module).
#
# Targets:  all (default) builds $(MODULE).so;  clean removes what was built;
#           check-exports fails unless $(MODULE).so exports exactly one
#           symbol, and that symbol starts with datacave_module_.
#
# Variables (each may be overridden on the command line):
#   DATACAVE_INCLUDE  the directory holding datacave/*.h; default: the
#                     `include` directory beside this file's directory (so
#                     copying sdk/ and include/ together keeps builds working),
#                     or <prefix>/include for an SDK installed under
#                     <prefix>/share/datacave/sdk
#   CC                the C compiler (make's default: cc)
#   CFLAGS, LDFLAGS   see below; replacing them on the command line drops the
#                     flags a module needs, so prefer the EXTRA_ variables
#   EXTRA_CFLAGS      appended to CFLAGS when compiling and linking
#   EXTRA_LDFLAGS     appended to LDFLAGS when linking
#   CPPFLAGS, LDLIBS  as usual; empty by default
#
# Requires GNU make and a GCC-compatible compiler and linker (gcc, clang).

# This file's directory, computed before anything else is included.
DATACAVE_SDK_DIR := $(patsubst %/,%,$(dir $(abspath $(lastword $(MAKEFILE_LIST)))))
# The headers: include/ beside sdk/ (source tree, or a copy of both), else
# <prefix>/include when this file is installed as <prefix>/share/datacave/sdk.
ifndef DATACAVE_INCLUDE
DATACAVE_INCLUDE := $(firstword \
    $(patsubst %/datacave/module.h,%,$(wildcard \
        $(DATACAVE_SDK_DIR)/../include/datacave/module.h \
        $(DATACAVE_SDK_DIR)/../../../include/datacave/module.h)) \
    $(DATACAVE_SDK_DIR)/../include)
DATACAVE_INCLUDE := $(abspath $(DATACAVE_INCLUDE))
endif
ifeq ($(wildcard $(DATACAVE_INCLUDE)/datacave/module.h),)
$(error module.mk: no datacave/module.h in $(DATACAVE_INCLUDE); set DATACAVE_INCLUDE to the directory that holds datacave/*.h)
endif
DATACAVE_MODULE_MAP := $(DATACAVE_SDK_DIR)/datacave-module.map

ifeq ($(strip $(MODULE)),)
$(error module.mk: set MODULE (the module's file name, without .so) before including it)
endif
ifeq ($(strip $(SRCS)),)
$(error module.mk: set SRCS (the module's C sources) before including it)
endif

# -fPIC: code for a shared object.  -fvisibility=hidden: nothing is exported
# unless marked DC_EXPORT.  -Werror: a module ships without warnings.
CFLAGS = -std=c11 -O2 -g -fPIC -fvisibility=hidden -Wall -Wextra -Werror \
         -I$(DATACAVE_INCLUDE)
# -z defs: every undefined symbol must come from a library named on the link
# line, so a module cannot silently depend on symbols of the host.  The
# version script keeps only datacave_module_* in the dynamic symbol table.
LDFLAGS = -shared -Wl,-z,defs -Wl,--version-script=$(DATACAVE_MODULE_MAP)

DATACAVE_OBJS := $(patsubst %.c,%.o,$(SRCS))
DATACAVE_DEPS := $(DATACAVE_OBJS:.o=.d)

all: $(MODULE).so

$(MODULE).so: $(DATACAVE_OBJS) $(DATACAVE_MODULE_MAP)
	$(CC) $(CFLAGS) $(EXTRA_CFLAGS) $(LDFLAGS) $(EXTRA_LDFLAGS) \
	    -o $@ $(DATACAVE_OBJS) $(LDLIBS)

# -MMD -MP: record header dependencies in .d files, read back below.
%.o: %.c
	$(CC) $(CPPFLAGS) $(CFLAGS) $(EXTRA_CFLAGS) -MMD -MP -c -o $@ $<

check-exports: $(MODULE).so
	@syms=$$(nm -D --defined-only $(MODULE).so | awk '{ print $$NF }'); \
	if [ "$$(printf '%s\n' "$$syms" | grep -c .)" != 1 ] || \
	   ! printf '%s\n' "$$syms" | grep -q '^datacave_module_'; then \
	    echo "$(MODULE).so: expected exactly one exported symbol" \
	         "datacave_module_*, found: $$syms" >&2; exit 1; \
	fi; echo "$(MODULE).so exports $$syms"

clean:
	rm -f $(MODULE).so $(DATACAVE_OBJS) $(DATACAVE_DEPS)

.PHONY: all clean check-exports

-include $(DATACAVE_DEPS)
