# aes-gcm: the encryption module (AES-256-GCM with OpenSSL's libcrypto).
# aesgcm.c holds the entry point, the cipher and the config; keys.c reads
# and derives keys.
MODULES += aes-gcm
LIBS_aes-gcm := -lcrypto -lpthread

# tests/unit/test_aesgcm.c links the module's sources and brings a fake
# host.
UNIT_TESTS += test_aesgcm
UNIT_SRCS_test_aesgcm := $(wildcard modules/aes-gcm/*.c)
UNIT_LIBS_test_aesgcm := -lcrypto
