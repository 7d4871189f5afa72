/* ss_atomic: tmp-then-rename for every writer (see ss_atomic.h). */
#include "ss_atomic.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- temporaries removed on SIGINT/SIGTERM ---- */

#define MAX_LIVE 4 /* writes in progress at once (one in practice) */
static char live[MAX_LIVE][4200];
static volatile sig_atomic_t live_used[MAX_LIVE];
static int n_live;
static struct sigaction old_int, old_term;

static void on_signal(int sig)
{
    for (int i = 0; i < MAX_LIVE; i++)
        if (live_used[i])
            unlink(live[i]); /* async-signal-safe */
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    sigemptyset(&dfl.sa_mask);
    sigaction(sig, &dfl, NULL);
    raise(sig); /* the default action: the process ends with the signal */
}

/* The handler goes over the default disposition only: a command with its own
 * handler (bind) keeps it. */
static void install(int sig, struct sigaction *old)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaddset(&sa.sa_mask, SIGINT);
    sigaddset(&sa.sa_mask, SIGTERM);
    if (sigaction(sig, NULL, old) == 0 && old->sa_handler == SIG_DFL)
        sigaction(sig, &sa, NULL);
}

static void restore(int sig, const struct sigaction *old)
{
    struct sigaction cur;
    if (sigaction(sig, NULL, &cur) == 0 && cur.sa_handler == on_signal)
        sigaction(sig, old, NULL);
}

/* Signals are blocked while the table changes, so the handler never sees a
 * half-written name. */
static void track(const char *tmp, bool add)
{
    sigset_t block, prev;
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    sigprocmask(SIG_BLOCK, &block, &prev);
    for (int i = 0; i < MAX_LIVE; i++) {
        if (add && !live_used[i]) {
            snprintf(live[i], sizeof live[i], "%s", tmp);
            live_used[i] = 1;
            if (n_live++ == 0) {
                install(SIGINT, &old_int);
                install(SIGTERM, &old_term);
            }
            break;
        }
        if (!add && live_used[i] && strcmp(live[i], tmp) == 0) {
            live_used[i] = 0;
            if (--n_live == 0) {
                restore(SIGINT, &old_int);
                restore(SIGTERM, &old_term);
            }
            break;
        }
    }
    sigprocmask(SIG_SETMASK, &prev, NULL);
}

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
    if ((size_t)snprintf(tmp, n, "%s.tmp.%ld", path, (long)getpid()) >= n ||
        strlen(tmp) >= sizeof live[0]) {
        tmp[0] = '\0';
        return ss_error_set(err, SS_EINVAL, "%s: path too long", path);
    }
    track(tmp, true);
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
    if (tmp[0])
        track(tmp, false);
    return rc;
}

FILE *ss_atomic_fopen(const char *path, char *tmp, size_t n, ss_error_t *err)
{
    if (ss_atomic_tmpname(path, tmp, n, err) < 0)
        return NULL;
    FILE *f = fopen(tmp, "w");
    if (!f)
        ss_atomic_commit(
            tmp, path,
            ss_error_set(err, SS_EIO, "%s: cannot create %s: %s", path, tmp, strerror(errno)),
            err); /* removes and unregisters tmp */
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
