/*
 * elfread.c - see elfread.h.  Only the parts of ELF needed to list the dynamic
 * symbol table: the file header, the section headers, .dynsym and the
 * string table it links to.
 */
#include "elfread.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#if defined(__x86_64__)
#define HOST_MACHINE EM_X86_64
#elif defined(__aarch64__)
#define HOST_MACHINE EM_AARCH64
#elif defined(__i386__)
#define HOST_MACHINE EM_386
#elif defined(__arm__)
#define HOST_MACHINE EM_ARM
#elif defined(__riscv)
#define HOST_MACHINE EM_RISCV
#else
#define HOST_MACHINE EM_NONE /* not checked */
#endif

#if UINTPTR_MAX > 0xffffffffu
#define HOST_CLASS ELFCLASS64
typedef Elf64_Ehdr Ehdr;
typedef Elf64_Shdr Shdr;
typedef Elf64_Sym Sym;
#define SYM_BIND ELF64_ST_BIND
#define SYM_TYPE ELF64_ST_TYPE
#define SYM_VIS ELF64_ST_VISIBILITY
#else
#define HOST_CLASS ELFCLASS32
typedef Elf32_Ehdr Ehdr;
typedef Elf32_Shdr Shdr;
typedef Elf32_Sym Sym;
#define SYM_BIND ELF32_ST_BIND
#define SYM_TYPE ELF32_ST_TYPE
#define SYM_VIS ELF32_ST_VISIBILITY
#endif

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define HOST_DATA ELFDATA2MSB
#else
#define HOST_DATA ELFDATA2LSB
#endif

/* True when [off, off + size) lies inside a buffer of len bytes. */
static int in_bounds(uint64_t off, uint64_t size, size_t len)
{
    return off <= len && size <= len - off;
}

int dc_elf_exports_mem(const uint8_t *buf, size_t len, dc_strlist *exports,
                       char *err, size_t errlen)
{
    if (len < EI_NIDENT || memcmp(buf, ELFMAG, SELFMAG) != 0) {
        snprintf(err, errlen, "not an ELF file (no ELF magic)");
        return -1;
    }
    if (buf[EI_CLASS] != HOST_CLASS) {
        snprintf(err, errlen, "ELF class %s, host is %s",
                 buf[EI_CLASS] == ELFCLASS32 ? "32-bit"
                 : buf[EI_CLASS] == ELFCLASS64 ? "64-bit" : "unknown",
                 HOST_CLASS == ELFCLASS64 ? "64-bit" : "32-bit");
        return -1;
    }
    if (buf[EI_DATA] != HOST_DATA) {
        snprintf(err, errlen, "ELF byte order %s, host is %s",
                 buf[EI_DATA] == ELFDATA2MSB ? "big-endian" : "little-endian",
                 HOST_DATA == ELFDATA2MSB ? "big-endian" : "little-endian");
        return -1;
    }
    if (len < sizeof(Ehdr)) {
        snprintf(err, errlen, "truncated ELF header");
        return -1;
    }
    Ehdr eh;
    memcpy(&eh, buf, sizeof eh);
    if (eh.e_type != ET_DYN) {
        snprintf(err, errlen, "ELF type %u, expected a shared object (%u)",
                 (unsigned)eh.e_type, (unsigned)ET_DYN);
        return -1;
    }
    if (HOST_MACHINE != EM_NONE && eh.e_machine != HOST_MACHINE) {
        snprintf(err, errlen, "ELF machine %u, host is %u",
                 (unsigned)eh.e_machine, (unsigned)HOST_MACHINE);
        return -1;
    }
    if (eh.e_shentsize != sizeof(Shdr) || eh.e_shnum == 0 ||
        !in_bounds(eh.e_shoff, (uint64_t)eh.e_shnum * sizeof(Shdr), len)) {
        snprintf(err, errlen, "malformed ELF section header table");
        return -1;
    }
    int found = 0;
    for (unsigned i = 0; i < eh.e_shnum; i++) {
        Shdr sh;
        memcpy(&sh, buf + eh.e_shoff + (uint64_t)i * sizeof(Shdr), sizeof sh);
        if (sh.sh_type != SHT_DYNSYM)
            continue;
        found = 1;
        if (sh.sh_entsize != sizeof(Sym) || !in_bounds(sh.sh_offset, sh.sh_size, len) ||
            sh.sh_link >= eh.e_shnum) {
            snprintf(err, errlen, "malformed ELF dynamic symbol table");
            return -1;
        }
        Shdr strh;
        memcpy(&strh, buf + eh.e_shoff + (uint64_t)sh.sh_link * sizeof(Shdr),
               sizeof strh);
        if (strh.sh_type != SHT_STRTAB || !in_bounds(strh.sh_offset, strh.sh_size, len)) {
            snprintf(err, errlen, "malformed ELF dynamic string table");
            return -1;
        }
        const char *strtab = (const char *)buf + strh.sh_offset;
        size_t nsyms = sh.sh_size / sizeof(Sym);
        for (size_t s = 1; s < nsyms; s++) {
            Sym sym;
            memcpy(&sym, buf + sh.sh_offset + s * sizeof(Sym), sizeof sym);
            if (sym.st_shndx == SHN_UNDEF)
                continue;
            int bind = SYM_BIND(sym.st_info), type = SYM_TYPE(sym.st_info);
            if (bind != STB_GLOBAL && bind != STB_WEAK && bind != STB_GNU_UNIQUE)
                continue;
            if (type != STT_FUNC && type != STT_OBJECT && type != STT_GNU_IFUNC &&
                type != STT_TLS && type != STT_NOTYPE)
                continue;
            if (SYM_VIS(sym.st_other) != STV_DEFAULT &&
                SYM_VIS(sym.st_other) != STV_PROTECTED)
                continue;
            if (sym.st_name >= strh.sh_size ||
                memchr(strtab + sym.st_name, '\0', strh.sh_size - sym.st_name) == NULL) {
                snprintf(err, errlen, "malformed ELF symbol name");
                return -1;
            }
            const char *name = strtab + sym.st_name;
            if (name[0] == '\0')
                continue;
            if (dc_strlist_addf(exports, "%s", name) != 0) {
                snprintf(err, errlen, "out of memory");
                return -1;
            }
        }
    }
    if (!found) {
        snprintf(err, errlen, "ELF file has no dynamic symbol table");
        return -1;
    }
    return 0;
}

int dc_elf_exports(const char *path, dc_strlist *exports, char *err,
                   size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "cannot open: %s", strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        snprintf(err, errlen, "cannot stat: %s", strerror(errno));
        close(fd);
        return -1;
    }
    if (!S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "not a regular file");
        close(fd);
        return -1;
    }
    if (st.st_size == 0) {
        snprintf(err, errlen, "not an ELF file (empty)");
        close(fd);
        return -1;
    }
    void *map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (map == MAP_FAILED) {
        snprintf(err, errlen, "cannot map: %s", strerror(errno));
        return -1;
    }
    int rc = dc_elf_exports_mem(map, (size_t)st.st_size, exports, err, errlen);
    munmap(map, (size_t)st.st_size);
    return rc;
}
