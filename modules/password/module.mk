# password: the auth module.  password.c holds the entry point and the
# conversations, users.c the configuration, scram.c the SCRAM-SHA-256
# exchange and secrets.  OpenSSL's libcrypto hashes and draws randomness.
MODULES += password
LIBS_password := -lcrypto

# tests/unit/test_password.c links the module's sources and brings a fake
# host.
UNIT_TESTS += test_password
UNIT_SRCS_test_password := $(wildcard modules/password/*.c)
UNIT_LIBS_test_password := -I/usr/include/postgresql -lcrypto -lpq
