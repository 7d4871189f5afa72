/* ss_fuzz: helpers shared by the fuzz harnesses (see ss_fuzz.h). */
#include "ss_fuzz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char scratch[512];

static void remove_scratch(void)
{
    static const char *names[] = {"a",        "b",       "c",           "d",      "nodes.csv",
                                  "pods.csv", "journal", "snapshot.h5", "base.h5"};
    char p[600];
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        snprintf(p, sizeof p, "%s/%s", scratch, names[i]);
        unlink(p);
    }
    rmdir(scratch);
}

const char *ss_fuzz_dir(void)
{
    if (!scratch[0]) {
        const char *t = getenv("TMPDIR");
        snprintf(scratch, sizeof scratch, "%s/ss_fuzz.XXXXXX", t && *t ? t : "/tmp");
        if (!mkdtemp(scratch)) {
            perror("ss_fuzz: mkdtemp");
            abort();
        }
        atexit(remove_scratch);
    }
    return scratch;
}

const char *ss_fuzz_file(int slot, const char *name, const void *buf, size_t len)
{
    static char path[4][600];
    snprintf(path[slot & 3], sizeof path[0], "%s/%s", ss_fuzz_dir(), name);
    FILE *f = fopen(path[slot & 3], "wb");
    if (!f || (len && fwrite(buf, 1, len, f) != len) || fclose(f) != 0) {
        perror(path[slot & 3]);
        abort();
    }
    return path[slot & 3];
}

int ss_fuzz_split(const uint8_t *data, size_t size, char **parts, int max)
{
    int n = 0;
    size_t start = 0;
    for (size_t i = 0; i <= size; i++) {
        if (i < size && (data[i] != '\f' || n == max - 1))
            continue;
        size_t len = i - start;
        parts[n] = malloc(len + 1);
        if (!parts[n])
            abort();
        if (len)
            memcpy(parts[n], data + start, len);
        parts[n][len] = '\0';
        n++;
        start = i + 1;
        if (n == max)
            break;
    }
    return n;
}

void ss_fuzz_free_parts(char **parts, int n)
{
    for (int i = 0; i < n; i++)
        free(parts[i]);
}
