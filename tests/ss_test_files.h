/* Helpers shared by the tests that write files into a scratch directory:
 * paths under it, existence, and leftover temporaries ("*.tmp.*") that an
 * atomic writer must never leave. Header-only; each test program sets
 * `workdir` (a mkdtemp'd directory) in its setup. */
#ifndef SS_TEST_FILES_H
#define SS_TEST_FILES_H

#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char workdir[256];

static inline const char *wpath(const char *name)
{
    static char buf[4][512];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s/%s", workdir, name);
    return buf[k];
}

static inline bool exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/* True when the work directory holds a leftover "*.tmp.*" file. */
static inline bool tmp_left(void)
{
    DIR *d = opendir(workdir);
    struct dirent *e;
    bool found = false;
    while (d && (e = readdir(d)))
        if (strstr(e->d_name, ".tmp."))
            found = true;
    if (d)
        closedir(d);
    return found;
}

/* Makes workdir a new directory "/tmp/<prefix>_XXXXXX"; 0 or -1. */
static inline int ss_test_workdir_make(const char *prefix)
{
    snprintf(workdir, sizeof workdir, "/tmp/%s_XXXXXX", prefix);
    return mkdtemp(workdir) ? 0 : -1;
}

/* Removes the files of workdir (not subdirectories) and workdir itself. */
static inline int ss_test_workdir_remove(void)
{
    DIR *d = opendir(workdir);
    struct dirent *e;
    while (d && (e = readdir(d)))
        if (e->d_name[0] != '.')
            remove(wpath(e->d_name));
    if (d)
        closedir(d);
    rmdir(workdir);
    return 0;
}

#endif
