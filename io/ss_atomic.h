/* ss_atomic: the one tmp-then-rename used by every file writer, so a failed
 * or interrupted write never leaves a half-written file at the target path.
 * A writer asks for a temporary name beside the target ("<path>.tmp.<pid>",
 * in the same directory, so rename is atomic), writes it, and commits:
 * fsync, rename over path; on any failure the temporary is removed.
 *
 * Interrupts: from ss_atomic_tmpname until ss_atomic_commit the temporary is
 * registered, and a SIGINT/SIGTERM handler (installed only while one is,
 * over the default disposition) removes it and re-raises the signal, so
 * Ctrl-C during a write leaves nothing behind and still ends the process
 * with the signal's status. */
#ifndef SS_ATOMIC_H
#define SS_ATOMIC_H

#include <stddef.h>
#include <stdio.h>

#include "ss_error.h"

/* Fills tmp (n bytes) with "<path>.tmp.<pid>" after checking that path's
 * directory exists, and registers it for removal on SIGINT/SIGTERM. Returns
 * 0, SS_EIO (no such directory) or SS_EINVAL (path too long); tmp is "" on
 * failure. */
int ss_atomic_tmpname(const char *path, char *tmp, size_t n, ss_error_t *err);

/* Finishes a write to tmp (already closed): when rc == 0, flushes it to disk
 * and renames it to path; otherwise, or if that fails, removes tmp; then
 * unregisters it. Returns rc, or the new error ("PATH: cannot rename TMP:
 * why"). */
int ss_atomic_commit(const char *tmp, const char *path, int rc, ss_error_t *err);

/* stdio writers: ss_atomic_tmpname + fopen(tmp, "w"). NULL with err set. */
FILE *ss_atomic_fopen(const char *path, char *tmp, size_t n, ss_error_t *err);

/* Flushes and closes f, then ss_atomic_commit (rc: the writer's status). */
int ss_atomic_fclose(FILE *f, const char *tmp, const char *path, int rc, ss_error_t *err);

#endif
