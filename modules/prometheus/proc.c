/*
 * prometheus/proc.c - the process figures of expo.h's prom_process, read
 * from /proc and the C library at scrape time (Linux).
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "prometheus/proc.h"

/* Field `index` of /proc/self/stat counted from the state field (index 0
 * is field 3): the command name before it may hold spaces and parens, so
 * the fields start after its last ')'. */
static bool stat_field(int index, unsigned long long *out)
{
    char buf[1024];
    FILE *f = fopen("/proc/self/stat", "re");
    if (f == NULL)
        return false;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *p = strrchr(buf, ')');
    if (p == NULL)
        return false;
    p++;
    for (int i = 0; i <= index; i++) {
        while (*p == ' ')
            p++;
        if (*p == '\0')
            return false;
        if (i == index) {
            char *end;
            *out = strtoull(p, &end, 10);
            return end != p;
        }
        while (*p && *p != ' ')
            p++;
    }
    return false;
}

bool prom_process_start_time(double *out)
{
    unsigned long long ticks = 0, btime = 0;
    if (!stat_field(19, &ticks)) /* field 22: starttime, in clock ticks */
        return false;
    FILE *f = fopen("/proc/stat", "re");
    if (f == NULL)
        return false;
    char line[256];
    bool found = false;
    while (!found && fgets(line, sizeof line, f))
        found = sscanf(line, "btime %llu", &btime) == 1;
    fclose(f);
    long hz = sysconf(_SC_CLK_TCK);
    if (!found || hz <= 0)
        return false;
    *out = (double)btime + (double)ticks / (double)hz;
    return true;
}

void prom_process_read(prom_process *p, bool have_start, double start)
{
    memset(p, 0, sizeof *p);
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) == 0) {
        p->have_cpu = true;
        p->cpu_seconds = (double)ru.ru_utime.tv_sec + (double)ru.ru_stime.tv_sec +
                         ((double)ru.ru_utime.tv_usec +
                          (double)ru.ru_stime.tv_usec) / 1e6;
    }
    long page = sysconf(_SC_PAGESIZE);
    FILE *f = fopen("/proc/self/statm", "re");
    if (f != NULL) {
        unsigned long long size = 0, resident = 0;
        if (page > 0 && fscanf(f, "%llu %llu", &size, &resident) == 2) {
            p->have_vms = p->have_rss = true;
            p->virtual_bytes = (double)size * (double)page;
            p->resident_bytes = (double)resident * (double)page;
        }
        fclose(f);
    }
    DIR *d = opendir("/proc/self/fd");
    if (d != NULL) {
        long n = 0;
        struct dirent *e;
        while ((e = readdir(d)) != NULL)
            if (e->d_name[0] != '.')
                n++;
        closedir(d);
        /* Less the descriptor the listing itself had open. */
        p->have_fds = n > 0;
        p->open_fds = (double)(n - 1);
    }
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) {
        p->have_max_fds = true;
        p->max_fds = (double)rl.rlim_cur;
    }
    p->have_start = have_start;
    p->start_time_seconds = start;
}
