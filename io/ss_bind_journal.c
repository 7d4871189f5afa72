/* ss_bind_journal: bind's record of confirmed bindings, so that a rerun after
 * a crash, a Ctrl-C or an outage posts exactly what is not known to be bound.
 *
 * A text file: a header line naming the run it belongs to (the server URL,
 * a fingerprint of the bindings, the placements file's name), then one line
 * per confirmed binding, "bound|already|elsewhere TAB ns TAB name TAB node
 * [TAB other node]", every field percent-escaped, appended and fsync'ed one
 * by one. Only confirmations are written: a failed, gone or unknown pod is
 * posted again by the next run. The request log (ss_bind_replay.c) keys its
 * records by line ("done TAB line TAB N TAB hash", and "abandoned" for the
 * lines of a unit given up because its victims stayed). A torn last line (a crash mid-write) is not
 * believed. The file is flock'ed for the whole run, so that two binds never
 * share it. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ss_bind_int.h"
#include "ss_strtab.h"

#define MAGIC "# shardsched bind journal v2"

typedef struct {
    ss_strtab_t *t; /* "ns\tname" keys and other nodes, escaped */
    uint8_t *verdict;
    int32_t *other; /* string id of the other node, for elsewhere */
    int32_t cap;
} seen_t;

static int seen_put(seen_t *S, const char *key, uint8_t v, const char *other)
{
    int32_t id = ss_strtab_intern(S->t, key), oid = ss_strtab_intern(S->t, other);
    if (id < 0 || oid < 0)
        return SS_ENOMEM;
    int32_t need = (id > oid ? id : oid) + 1;
    if (need > S->cap) {
        int32_t cap = need * 2;
        uint8_t *v2 = realloc(S->verdict, (size_t)cap);
        if (v2)
            S->verdict = v2;
        int32_t *o2 = v2 ? realloc(S->other, (size_t)cap * sizeof *o2) : NULL;
        if (!o2)
            return SS_ENOMEM;
        S->other = o2;
        memset(S->verdict + S->cap, 0, (size_t)(cap - S->cap));
        S->cap = cap;
    }
    S->verdict[id] = v;
    S->other[id] = oid;
    return 0;
}

/* One complete record line (without its '\n') into S; others are ignored. */
static int parse_line(seen_t *S, char *line)
{
    char *f[5] = {line, NULL, NULL, NULL, ""};
    for (int k = 1; k < 5; k++) {
        char *tab = strchr(f[k - 1], '\t');
        if (!tab) {
            if (k < 4)
                return 0;
            break;
        }
        *tab = '\0';
        f[k] = tab + 1;
    }
    uint8_t v = !strcmp(f[0], "bound")       ? SS_BIND_JOURNALED
                : !strcmp(f[0], "already")   ? SS_BIND_JOURNALED
                : !strcmp(f[0], "done")      ? SS_BIND_JOURNALED
                : !strcmp(f[0], "elsewhere") ? SS_BIND_ELSEWHERE
                : !strcmp(f[0], "abandoned") ? SS_BIND_ABANDONED
                                             : 0;
    if (!v)
        return 0;
    f[2][-1] = '\t'; /* the key is "ns\tname" */
    return seen_put(S, f[1], v, f[4]);
}

static int check_header(const ss_bind_journal_t *j, const char *line, const char *want,
                        ss_error_t *err)
{
    if (strncmp(line, MAGIC "\t", strlen(MAGIC) + 1))
        return ss_error_set(err, SS_EFORMAT,
                            "%s: not a bind journal of this version (its first line is not '%s "
                            "...'); use another --journal",
                            j->path, MAGIC);
    /* compare the server and bindings fields; the placements name is a hint */
    const char *p = strstr(line, "\tplacements="), *q = strstr(want, "\tplacements=");
    size_t lp = p ? (size_t)(p - line) : strlen(line), lq = (size_t)(q - want);
    if (lp == lq && !strncmp(line, want, lp))
        return 0;
    char was[2048], is[2048];
    snprintf(was, sizeof was, "%s", line + strlen(MAGIC) + 1);
    snprintf(is, sizeof is, "%s", want + strlen(MAGIC) + 1);
    for (char *c = was; *c; c++)
        *c = *c == '\t' ? ' ' : *c;
    for (char *c = is; *c; c++)
        *c = *c == '\t' ? ' ' : *c;
    return ss_error_set(err, SS_EINVAL,
                        "%s: journal of another run: it belongs to [%s], this run is [%s]; use "
                        "another --journal (or delete this one if that run is over)",
                        j->path, was, is);
}

/* Reads the whole journal from fd; writes the header when it is empty. */
static int load(ss_bind_journal_t *j, seen_t *S, const char *header, ss_error_t *err)
{
    int fd2 = dup(j->fd);
    FILE *f = fd2 >= 0 ? fdopen(fd2, "r") : NULL;
    if (!f) {
        if (fd2 >= 0)
            close(fd2);
        return ss_error_set(err, SS_EIO, "%s: cannot read the journal: %s", j->path,
                            strerror(errno));
    }
    rewind(f);
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    int rc = 0, lines = 0;
    bool torn = false;
    while (rc == 0 && (len = getline(&line, &cap, f)) > 0) {
        torn = line[len - 1] != '\n';
        if (torn && lines == 0 && strncmp(line, header, (size_t)len))
            rc = check_header(j, line, header, err); /* not ours: never truncated */
        if (torn)
            break; /* not known to be complete */
        line[len - 1] = '\0';
        rc = lines++ == 0 ? check_header(j, line, header, err) : parse_line(S, line);
        if (rc == SS_ENOMEM)
            ss_error_set(err, rc, "out of memory reading %s", j->path);
    }
    if (rc == 0 && ferror(f))
        rc = ss_error_set(err, SS_EIO, "%s: error reading the journal", j->path);
    free(line);
    fclose(f);
    if (rc < 0)
        return rc;
    if (lines == 0) { /* new, or a header torn by a crash */
        if (ftruncate(j->fd, 0) != 0)
            return ss_error_set(err, SS_EIO, "%s: cannot truncate: %s", j->path, strerror(errno));
        size_t n = strlen(header);
        if (write(j->fd, header, n) != (ssize_t)n || write(j->fd, "\n", 1) != 1 ||
            fsync(j->fd) != 0)
            return ss_error_set(err, SS_EIO, "%s: cannot write the journal: %s", j->path,
                                strerror(errno));
    } else if (torn && (write(j->fd, "\n", 1) != 1 || fsync(j->fd) != 0)) {
        return ss_error_set(err, SS_EIO, "%s: cannot write the journal: %s", j->path,
                            strerror(errno));
    }
    return 0;
}

static void mark(const seen_t *S, const ss_binding_t *b, int32_t n, uint8_t *outcome,
                 ss_bind_summary_t *s, FILE *log)
{
    char ns[SS_BIND_FIELD_MAX], name[SS_BIND_FIELD_MAX], key[2 * SS_BIND_FIELD_MAX + 2];
    for (int32_t i = 0; i < n; i++) {
        if (outcome[i] != SS_BIND_PENDING || ss_bind_escape(b[i].ns, ns, sizeof ns, true) < 0 ||
            ss_bind_escape(b[i].name, name, sizeof name, true) < 0)
            continue;
        snprintf(key, sizeof key, "%s\t%s", ns, name);
        int32_t id = ss_strtab_find(S->t, key);
        if (id <= 0 || id >= S->cap || !S->verdict[id])
            continue;
        outcome[i] = S->verdict[id];
        if (outcome[i] == SS_BIND_JOURNALED) {
            s->journaled++;
            continue;
        }
        if (outcome[i] == SS_BIND_ABANDONED)
            continue; /* the request log counts and reports it */
        s->elsewhere++;
        s->failed++;
        if (log)
            fprintf(log, "bind: %s/%s -> %s: bound elsewhere: the journal says it is on node %s\n",
                    ns, name, b[i].node, ss_strtab_get(S->t, S->other[id]));
    }
}

int ss_bind_journal_open(ss_bind_journal_t *j, const char *path, const char *server, uint64_t fp,
                         const char *placements, const ss_binding_t *b, int32_t n, uint8_t *outcome,
                         ss_bind_summary_t *s, FILE *log, ss_error_t *err)
{
    j->fd = -1;
    j->path = path;
    if (!path)
        return 0;
    char srv[2048], pl[2048], header[4300];
    if (ss_bind_escape(server, srv, sizeof srv, false) < 0 ||
        ss_bind_escape(placements ? placements : "-", pl, sizeof pl, false) < 0)
        return ss_error_set(err, SS_EINVAL, "%s: server URL or placements name too long", path);
    snprintf(header, sizeof header, "%s\tserver=%s\tbindings=%d:%016" PRIx64 "\tplacements=%s",
             MAGIC, srv, n, fp, pl);
    j->fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (j->fd < 0)
        return ss_error_set(err, SS_EIO, "%s: cannot open the journal: %s", path, strerror(errno));
    struct stat st;
    if (fstat(j->fd, &st) != 0 || !S_ISREG(st.st_mode))
        return ss_error_set(err, SS_EINVAL, "%s: a journal must be a regular file", path);
    if (flock(j->fd, LOCK_EX | LOCK_NB) != 0)
        return ss_error_set(err, SS_EIO,
                            "%s: journal in use by another shardsched bind (%s); wait for it, "
                            "or use another --journal",
                            path, errno == EWOULDBLOCK ? "it holds the lock" : strerror(errno));
    seen_t S = {ss_strtab_create(), NULL, NULL, 0};
    int rc = S.t ? load(j, &S, header, err) : ss_error_set(err, SS_ENOMEM, "out of memory");
    if (rc == 0)
        mark(&S, b, n, outcome, s, log);
    ss_strtab_destroy(S.t);
    free(S.verdict);
    free(S.other);
    return rc;
}

int ss_bind_journal_append(ss_bind_journal_t *j, const char *what, const ss_binding_t *b,
                           const char *other, ss_error_t *err)
{
    if (j->fd < 0)
        return 0;
    char ns[SS_BIND_FIELD_MAX], name[SS_BIND_FIELD_MAX], node[SS_BIND_FIELD_MAX],
        oth[SS_BIND_FIELD_MAX], line[4 * SS_BIND_FIELD_MAX + 32];
    if (ss_bind_escape(b->ns, ns, sizeof ns, true) < 0 ||
        ss_bind_escape(b->name, name, sizeof name, true) < 0 ||
        ss_bind_escape(b->node, node, sizeof node, true) < 0 ||
        ss_bind_escape(other ? other : "", oth, sizeof oth, true) < 0)
        return ss_error_set(err, SS_EINVAL, "%s: a name of %s/%s is too long to journal", j->path,
                            b->ns, b->name);
    int len = snprintf(line, sizeof line, "%s\t%s\t%s\t%s%s%s\n", what, ns, name, node,
                       other ? "\t" : "", oth);
    ssize_t w = write(j->fd, line, (size_t)len);
    if (w != len || fsync(j->fd) != 0)
        return ss_error_set(err, SS_EIO,
                            "%s: journal write failed (%s): stopped, since what is bound could no "
                            "longer be recorded; free the space and rerun",
                            j->path, w < 0 || w == len ? strerror(errno) : "short write");
    return 0;
}

void ss_bind_journal_close(ss_bind_journal_t *j)
{
    if (j->fd >= 0)
        close(j->fd); /* releases the lock */
    j->fd = -1;
}
