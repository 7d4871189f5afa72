/* ss_atomic: tmp-then-rename for every writer (see ss_atomic.h). */
#include "ss_atomic.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int ss_atomic_tmpname(const char *path, char *tmp, size_t n, ss_error_t *err)
{
    char dir[4096];
    struct stat st;
    if (n > 0)
        tmp[0] = '\0';
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash)
        *(slash == dir ? slash + 1 : slash) = '\0';
    else
        snprintf(dir, sizeof dir, ".");
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
        return ss_error_set(err, SS_EIO, "%s: cannot create: directory %s does not exist", path,
                            dir);
    if ((size_t)snprintf(tmp, n, "%s.tmp.%ld", path, (long)getpid()) >= n) {
        tmp[0] = '\0';
        return ss_error_set(err, SS_EINVAL, "%s: path too long", path);
    }
    return 0;
}

/* fsync of a closed file: opens it again read-only. */
static int sync_file(const char *tmp)
{
    int fd = open(tmp, O_RDONLY);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    return close(fd) != 0 ? -1 : rc;
}

int ss_atomic_commit(const char *tmp, const char *path, int rc, ss_error_t *err)
{
    if (rc == 0 && sync_file(tmp) != 0)
        rc = ss_error_set(err, SS_EIO, "%s: cannot flush %s to disk: %s", path, tmp,
                          strerror(errno));
    if (rc == 0 && rename(tmp, path) != 0)
        rc = ss_error_set(err, SS_EIO, "%s: cannot rename %s: %s", path, tmp, strerror(errno));
    if (rc != 0 && tmp[0])
        remove(tmp);
    return rc;
}

FILE *ss_atomic_fopen(const char *path, char *tmp, size_t n, ss_error_t *err)
{
    if (ss_atomic_tmpname(path, tmp, n, err) < 0)
        return NULL;
    FILE *f = fopen(tmp, "w");
    if (!f)
        ss_error_set(err, SS_EIO, "%s: cannot create %s: %s", path, tmp, strerror(errno));
    return f;
}

int ss_atomic_fclose(FILE *f, const char *tmp, const char *path, int rc, ss_error_t *err)
{
    int bad = fflush(f) != 0;
    bad |= fclose(f) != 0;
    if (bad && rc == 0)
        rc = ss_error_set(err, SS_EIO, "%s: cannot write %s: %s", path, tmp, strerror(errno));
    return ss_atomic_commit(tmp, path, rc, err);
}
