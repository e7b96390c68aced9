# memory: the in-memory storage engine (not durable; tests and throwaway
# servers).  Sources: every .c in modules/memory/.  pthread rwlocks and
# mutexes are in libc on glibc 2.34 and later, in libpthread before.
MODULES += memory
LIBS_memory := -lpthread
