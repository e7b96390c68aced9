/*
 * crc32c.h - CRC-32C (Castagnoli), the checksum of every WAL record, SST
 * block and manifest record.  Uses the CPU's crc32 instruction (SSE 4.2)
 * when present, a table otherwise; both give the same values.
 *
 * Threads: no state after the first call's one-time set-up (which is
 * itself thread-safe); callable from any thread.
 */
#ifndef DATACAVE_LSM_CRC32C_H
#define DATACAVE_LSM_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* Extend `crc` (0 to start) over n bytes of buf. */
uint32_t lsm_crc32c_extend(uint32_t crc, const void *buf, size_t n);

static inline uint32_t lsm_crc32c(const void *buf, size_t n)
{
    return lsm_crc32c_extend(0, buf, n);
}

/* Stored CRCs are masked, so that a CRC of data that itself holds CRCs
 * does not degenerate. */
static inline uint32_t lsm_crc_mask(uint32_t crc)
{
    return ((crc >> 15) | (crc << 17)) + 0xa282ead8u;
}

static inline uint32_t lsm_crc_unmask(uint32_t masked)
{
    uint32_t rot = masked - 0xa282ead8u;
    return (rot >> 17) | (rot << 15);
}

/* The table path alone, whatever the CPU (tests compare the two). */
uint32_t lsm_crc32c_extend_sw(uint32_t crc, const void *buf, size_t n);

/* True when the hardware path is in use (for the benchmark's report). */
int lsm_crc32c_hw(void);

#endif
