/* Helpers shared by the tests that write files into a scratch directory:
 * paths under it, existence, and leftover temporaries ("*.tmp.*") that an
 * atomic writer must never leave. Header-only; each test program sets
 * `workdir` (a mkdtemp'd directory) in its setup. */
#ifndef SS_TEST_FILES_H
#define SS_TEST_FILES_H

#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

static char workdir[256];

static const char *wpath(const char *name)
{
    static char buf[4][512];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s/%s", workdir, name);
    return buf[k];
}

static bool exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/* True when the work directory holds a leftover "*.tmp.*" file. */
static bool tmp_left(void)
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

#endif
