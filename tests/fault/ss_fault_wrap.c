/* ss_fault_wrap: allocation fault injection for the shardsched_fault test
 * binary (tests/CMakeLists.txt, scripts/fault-inject.sh, docs/RELIABILITY.md).
 *
 * The binary is linked with -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,
 * --wrap=strdup: every call that shardsched's own objects make to these goes
 * through the wrappers below (libhdf5, libmpi and libc keep the real
 * allocator). A call site is named by its return address as an offset from
 * the start of the executable (__executable_start), stable across runs of one
 * build; `addr2line -f -e shardsched_fault 0xSITE` turns it into a line.
 *
 * Environment (the rank is OMPI_COMM_WORLD_RANK, 0 without mpirun):
 *   SS_FAIL_LIST=PREFIX  list mode: at exit, write each site reached (hex,
 *                        one a line) to PREFIX.RANK
 *   SS_FAIL_SITE=0xK     fail the first call at site K ...
 *   SS_FAIL_NTH=N        ... or the N-th wrapped call (from 1) ...
 *   SS_FAIL_RANK=R       ... on rank R only (default 0); once. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t n);
char *__real_strdup(const char *s);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t n);
char *__wrap_strdup(const char *s);

extern const char __executable_start;

#define MAX_SITES 4096

static pthread_once_t once = PTHREAD_ONCE_INIT;
static int mode;         /* 0 off, 1 list, 2 site, 3 nth */
static uintptr_t target; /* site offset or N */
static const char *list_prefix;
static int fired;
static long calls;
static uintptr_t sites[MAX_SITES];
static int n_sites;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static void write_list(void)
{
    char path[4096];
    const char *r = getenv("OMPI_COMM_WORLD_RANK");
    snprintf(path, sizeof path, "%s.%s", list_prefix, r ? r : "0");
    FILE *f = fopen(path, "w");
    if (!f)
        return;
    for (int i = 0; i < n_sites; i++)
        fprintf(f, "0x%lx\n", (unsigned long)sites[i]);
    fclose(f);
}

static void setup(void)
{
    const char *r = getenv("OMPI_COMM_WORLD_RANK"), *want = getenv("SS_FAIL_RANK");
    int on_rank = atoi(r ? r : "0") == atoi(want ? want : "0");
    if ((list_prefix = getenv("SS_FAIL_LIST")) != NULL) {
        mode = 1;
        atexit(write_list);
    } else if (getenv("SS_FAIL_SITE") && on_rank) {
        mode = 2;
        target = (uintptr_t)strtoull(getenv("SS_FAIL_SITE"), NULL, 0);
    } else if (getenv("SS_FAIL_NTH") && on_rank) {
        mode = 3;
        target = (uintptr_t)strtoull(getenv("SS_FAIL_NTH"), NULL, 0);
    }
}

/* 1 when the call from return address ra must fail. */
static int should_fail(void *ra)
{
    pthread_once(&once, setup);
    if (mode == 0)
        return 0;
    uintptr_t site = (uintptr_t)ra - (uintptr_t)&__executable_start;
    int fail = 0;
    pthread_mutex_lock(&lock);
    if (mode == 1) {
        int i = 0;
        while (i < n_sites && sites[i] != site)
            i++;
        if (i == n_sites && n_sites < MAX_SITES)
            sites[n_sites++] = site;
    } else if (!fired) {
        calls++;
        fail = mode == 2 ? site == target : (uintptr_t)calls == target;
        fired = fail;
    }
    pthread_mutex_unlock(&lock);
    if (fail)
        fprintf(stderr, "[fault] failing the allocation at site 0x%lx\n", (unsigned long)site);
    return fail;
}

void *__wrap_malloc(size_t n)
{
    return should_fail(__builtin_return_address(0)) ? NULL : __real_malloc(n);
}

void *__wrap_calloc(size_t n, size_t size)
{
    return should_fail(__builtin_return_address(0)) ? NULL : __real_calloc(n, size);
}

void *__wrap_realloc(void *p, size_t n)
{
    return should_fail(__builtin_return_address(0)) ? NULL : __real_realloc(p, n);
}

char *__wrap_strdup(const char *s)
{
    return should_fail(__builtin_return_address(0)) ? NULL : __real_strdup(s);
}
