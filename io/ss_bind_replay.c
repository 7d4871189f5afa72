/* ss_bind_replay: executes an ordered request log (ss_bind_log.c) against an
 * API server: the lines of one unit in order, each only after the one before
 * was confirmed and its wait holds (every victim GET answers 404 within the
 * wait, else the rest of the unit is abandoned: nothing is bound onto a node
 * whose victims are still there); units are independent, so a unit that
 * waits does not hold up the others. One request is in flight at a time.
 * Retries (429 with Retry-After, 5xx, 409, dropped connections, timeouts)
 * use bind's bounded exponential backoff with seeded jitter; every confirmed
 * line is journaled (ss_bind_journal.c, keyed by line) before the unit's
 * next line is sent, so a rerun after a crash resumes each unit where it
 * stopped and sends no confirmed request again. A mig-config line (MIG
 * re-layout, ss_bind_mig.c) first GETs its node: already labelled, in state
 * success with the expected allocatable, it is confirmed without a PATCH;
 * else the label is PATCHed and the unit waits, polling the node (the
 * interval grows to MIG_POLL_MAX), for the MIG manager's success and the
 * new allocatable; state failed or --mig-wait passing leaves the unit's
 * Bindings unsent, journaled as "failed" with the reason (a rerun tries
 * again). */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ss_bind_int.h"
#include "ss_rng.h"

enum { U_RUN = 0, U_WAIT, U_DONE };

/* Replies in a row that are not Kubernetes objects before the run stops. */
#define ALIEN_LIMIT 8
/* Longest interval between two GETs of a node whose MIG layout is awaited. */
#define MIG_POLL_MAX 5.0
/* After our PATCH, a "failed" state not preceded by "pending" may be the old
 * configuration's: believed only after this long. */
#define MIG_FAIL_GRACE 5.0

typedef struct {
    const ss_bind_log_t *l;
    const ss_bind_opts_t *o;
    ss_bind_summary_t *s;
    ss_bind_conn_t *conn;
    ss_bind_journal_t journal;
    ss_binding_t *pb; /* the journal's key of each line: ("line", "N", hash) */
    char *pbuf;
    uint8_t *outcome;        /* per line */
    int32_t *ustart, *ulist; /* lines of unit u: ulist[ustart[u] .. ustart[u + 1]) */
    int32_t *pos;            /* per unit: the next line's position */
    uint8_t *ustate;
    double *deadline, *next_poll;
    int32_t *wait_line;
    double *interval, *patched_at; /* mig-config waits: poll interval, PATCH time (0: none) */
    uint8_t *seen_pending;         /* mig-config waits: state pending seen since the PATCH */
    uint8_t *held;                 /* per wave (consolidate's waves): its wait held this run */
    int32_t *cursor;               /* per unit: a wave wait's first check not seen to hold */
    int32_t aliens, decided;
    ss_rng_t rng;
    int fatal;
    ss_error_t fatal_err;
} replay_t;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void sleep_s(double s)
{
    while (s > 0 && !ss_bind_stopped()) {
        double d = s < 0.05 ? s : 0.05;
        struct timespec ts = {0, (long)(d * 1e9)};
        nanosleep(&ts, NULL);
        s -= d;
    }
}

static uint64_t fnv(uint64_t h, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++)
        h = (h ^ *p) * 0x100000001b3ULL;
    return (h ^ 0xff) * 0x100000001b3ULL;
}

/* Journal keys: ("line", "N", hash of everything the line says). */
static int make_keys(replay_t *R)
{
    const ss_bind_log_t *l = R->l;
    R->pb = calloc((size_t)l->n + 1, sizeof *R->pb);
    R->pbuf = malloc(((size_t)l->n + 1) * 32);
    if (!R->pb || !R->pbuf)
        return SS_ENOMEM;
    for (int32_t i = 0; i < l->n; i++) {
        const ss_bind_line_t *x = &l->line[i];
        char num[32];
        snprintf(num, sizeof num, "%d:%d", x->unit, x->op);
        uint64_t h = fnv(
            fnv(fnv(fnv(fnv(0xcbf29ce484222325ULL, num), x->method), x->path), x->ctype), x->body);
        for (int32_t k = 0; k < x->n_gone; k++)
            h = fnv(h, x->gone[k]);
        snprintf(num, sizeof num, "%.3f", x->wait_s);
        h = fnv(h, num);
        if (x->wave > 0) { /* only in logs of waves: older logs keep their keys */
            snprintf(num, sizeof num, "wave %d", x->wave);
            h = fnv(h, num);
        }
        for (int32_t k = 0; k < x->n_running; k++) {
            snprintf(num, sizeof num, "%d", x->running_min[k]);
            h = fnv(fnv(h, x->running[k]), num);
        }
        for (int32_t k = 0; k < x->n_budgets; k++) {
            snprintf(num, sizeof num, "%d", x->budget_min[k]);
            h = fnv(fnv(h, x->budget[k]), num);
        }
        char *idx = R->pbuf + (size_t)i * 32;
        snprintf(idx, 12, "%d", i);
        snprintf(idx + 12, 20, "%016llx", (unsigned long long)h);
        R->pb[i] = (ss_binding_t){"line", idx, idx + 12, -1, "", 0};
    }
    return 0;
}

static int index_units(replay_t *R)
{
    const ss_bind_log_t *l = R->l;
    size_t nu = (size_t)l->n_units + 1;
    R->ustart = calloc(nu + 1, sizeof *R->ustart);
    R->ulist = malloc(((size_t)l->n + 1) * sizeof *R->ulist);
    R->pos = calloc(nu, sizeof *R->pos);
    R->ustate = calloc(nu, 1);
    R->deadline = calloc(nu, sizeof *R->deadline);
    R->next_poll = calloc(nu, sizeof *R->next_poll);
    R->wait_line = calloc(nu, sizeof *R->wait_line);
    R->outcome = calloc((size_t)l->n + 1, 1);
    R->interval = calloc(nu, sizeof *R->interval);
    R->patched_at = calloc(nu, sizeof *R->patched_at);
    R->seen_pending = calloc(nu, 1);
    int32_t waves = 0;
    for (int32_t i = 0; i < l->n; i++)
        waves = l->line[i].wave > waves ? l->line[i].wave : waves;
    R->s->waves = waves;
    R->held = calloc((size_t)waves + 1, 1);
    R->cursor = calloc(nu, sizeof *R->cursor);
    if (!R->held || !R->cursor || !R->ustart || !R->ulist || !R->pos || !R->ustate ||
        !R->deadline || !R->next_poll || !R->wait_line || !R->outcome || !R->interval ||
        !R->patched_at || !R->seen_pending)
        return SS_ENOMEM;
    for (int32_t i = 0; i < l->n; i++)
        R->ustart[l->line[i].unit + 1]++;
    for (int32_t u = 0; u < l->n_units; u++)
        R->ustart[u + 1] += R->ustart[u];
    for (int32_t i = 0; i < l->n; i++) { /* stable: file order within a unit */
        int32_t u = l->line[i].unit;
        R->ulist[R->ustart[u] + R->pos[u]++] = i;
    }
    memset(R->pos, 0, nu * sizeof *R->pos);
    return 0;
}

static void set_fatal(replay_t *R, int rc, const ss_error_t *e)
{
    if (!R->fatal) {
        R->fatal = rc;
        R->fatal_err = *e;
    }
}

static void journal(replay_t *R, int32_t i, const char *what, const char *other)
{
    ss_error_t e = {{0}};
    int rc = ss_bind_journal_append(&R->journal, what, &R->pb[i], other, &e);
    if (rc < 0)
        set_fatal(R, rc, &e);
    R->s->requests_done++;
    ss_progress_tick(R->o->progress, ++R->decided, R->l->n);
}

static void say(replay_t *R, int32_t i, const char *what, const char *why)
{
    if (!R->o->log)
        return;
    const ss_bind_line_t *x = &R->l->line[i];
    char ns[SS_BIND_FIELD_MAX], name[SS_BIND_FIELD_MAX], wave[32] = "";
    bool node = x->op == SS_REQ_MIGCONFIG || x->op == SS_REQ_CORDON;
    if (ss_bind_escape(node ? "node" : x->ns, ns, sizeof ns, false) < 0)
        snprintf(ns, sizeof ns, "(too long)");
    if (ss_bind_escape(x->name, name, sizeof name, false) < 0)
        snprintf(name, sizeof name, "(too long)");
    if (x->wave > 0)
        snprintf(wave, sizeof wave, "wave %d: ", x->wave);
    fprintf(R->o->log, "bind: %s%s%s%s: %s: %s (%s)\n", wave, ns, node ? " " : "/", name,
            ss_bind_op_name(x->op), what, why);
}

/* Sends line i, retrying; the last verdict (RETRY = gave up). */
static enum ss_bind_verdict send_line(replay_t *R, int32_t i, char *why, size_t cap, char *other,
                                      bool *no_reply)
{
    const ss_bind_line_t *x = &R->l->line[i];
    double backoff = 0.1;
    for (int a = 1;; a++) {
        ss_bind_http_reply_t r;
        if (ss_bind_conn_request(R->conn, x->method, x->path, x->ctype, x->body, &r) < 0) {
            snprintf(why, cap, "out of memory");
            *no_reply = false;
            return SS_VERDICT_REFUSED;
        }
        enum ss_bind_verdict v;
        *no_reply = r.transport != 0 && r.maybe_sent;
        if (r.transport) {
            snprintf(why, cap, "%s", r.err);
            v = r.transport == 1 ? SS_VERDICT_RETRY : SS_VERDICT_REFUSED;
        } else if (x->op == SS_REQ_BIND) {
            v = ss_bind_classify(r.code, r.ctype, r.body, r.len, x->node, why, cap, other,
                                 SS_BIND_FIELD_MAX);
        } else {
            v = ss_bind_classify_step(x->op, r.code, r.ctype, r.body, r.len, why, cap);
        }
        R->aliens = v == SS_VERDICT_ALIEN ? R->aliens + 1 : 0;
        if (R->aliens >= ALIEN_LIMIT) {
            ss_error_t e = {{0}};
            ss_error_set(&e, SS_ENET,
                         "%s: %d replies in a row were not Kubernetes objects (last: %s): "
                         "stopped; is --server the API server?",
                         ss_bind_conn_base(R->conn), R->aliens, why);
            set_fatal(R, SS_ENET, &e);
        }
        if (v != SS_VERDICT_RETRY || a >= R->o->max_attempts || ss_bind_stopped())
            return v;
        R->s->retries++;
        double delay = backoff / 2 + ss_rng_uniform(&R->rng) * backoff / 2;
        if (!r.transport && r.code == 429 && r.retry_after > delay)
            delay = r.retry_after;
        sleep_s(delay);
        backoff = backoff * 2 > R->o->max_backoff_s ? R->o->max_backoff_s : backoff * 2;
    }
}

/* The rest of unit u from its position on is not sent: its Bindings are
 * counted failed (or abandoned: journaled as such, so that no rerun binds
 * them onto a node whose victims stayed). */
static void stop_unit_as(replay_t *R, int32_t u, bool abandon, const char *what, const char *why)
{
    for (int32_t k = R->ustart[u] + R->pos[u]; k < R->ustart[u + 1]; k++) {
        int32_t i = R->ulist[k];
        if (R->outcome[i] != SS_BIND_PENDING)
            continue;
        if (abandon) {
            R->outcome[i] = SS_BIND_ABANDONED;
            journal(R, i, "abandoned", NULL);
        }
        if (!ss_bind_op_binds(R->l->line[i].op))
            continue;
        R->s->failed++;
        R->s->stuck += abandon;
        say(R, i, what ? what : abandon ? "NOT BOUND: abandoned" : "not bound: not sent", why);
    }
    R->ustate[u] = U_DONE;
}

static void stop_unit(replay_t *R, int32_t u, bool abandon, const char *why)
{
    stop_unit_as(R, u, abandon, NULL, why);
}

/* Whether line x waits before its unit goes on. */
static bool has_wait(const ss_bind_line_t *x)
{
    return x->n_gone > 0 || x->n_running > 0 || x->n_budgets > 0 || x->op == SS_REQ_MIGCONFIG;
}

/* A plan of waves stops at line i's wave: nothing after it is sent (a rerun
 * with the same journal resumes here: the confirmed lines are skipped). */
static void stop_plan(replay_t *R, int32_t u, int32_t i, const char *why)
{
    const ss_bind_line_t *x = &R->l->line[i];
    int32_t left = 0;
    for (int32_t k = R->ustart[u]; k < R->ustart[u + 1]; k++)
        left += R->outcome[R->ulist[k]] == SS_BIND_PENDING;
    R->s->wave_stopped = x->wave;
    if (R->o->log)
        fprintf(R->o->log,
                "bind: *** PLAN STOPPED at wave %d of %d: %s; %d requests not sent (the rest of "
                "wave %d and every later wave); rerun with the same --journal to resume here\n",
                x->wave, R->s->waves, why, left, x->wave);
    stop_unit(R, u, false, why);
}

/* Check k of a wave's wait (its gone pods, then its lists, then its
 * PodDisruptionBudgets): whether it holds; why says what was seen if not. */
static bool wave_check(replay_t *R, const ss_bind_line_t *x, int32_t k, char *why, size_t cap)
{
    ss_bind_http_reply_t r;
    char *big = NULL, w[600] = "";
    int64_t have = 0;
    enum ss_bind_verdict v = SS_VERDICT_RETRY;
    if (k < x->n_gone) {
        if (ss_bind_conn_request(R->conn, "GET", x->gone[k], NULL, NULL, &r) == 0 && !r.transport)
            v = ss_bind_classify_step(-1, r.code, r.ctype, r.body, r.len, w, sizeof w);
        if (v == SS_VERDICT_GONE)
            return true;
        snprintf(why, cap, "%s still there: %s", x->gone[k],
                 r.transport               ? r.err
                 : v == SS_VERDICT_PRESENT ? "GET answers the Pod"
                                           : w);
        return false;
    }
    k -= x->n_gone;
    bool run = k < x->n_running;
    const char *path = run ? x->running[k] : x->budget[k - x->n_running];
    int32_t want = run ? x->running_min[k] : x->budget_min[k - x->n_running];
    int rc = run ? ss_bind_conn_get_big(R->conn, path, &r, &big)
                 : ss_bind_conn_request(R->conn, "GET", path, NULL, NULL, &r);
    if (rc == 0 && !r.transport)
        v = run ? ss_bind_count_running(r.code, r.ctype, big, r.len, &have, w, sizeof w)
                : ss_bind_pdb_allowed(r.code, r.ctype, r.body, r.len, &have, w, sizeof w);
    free(big);
    if ((!run && v == SS_VERDICT_GONE) || (v == SS_VERDICT_PRESENT && have >= want))
        return true; /* a PDB that is gone no longer limits anything */
    snprintf(why, cap, "%s: %s (want %s%d)", path,
             rc < 0        ? "out of memory"
             : r.transport ? r.err
                           : w,
             run ? "Running pods >= " : "disruptionsAllowed >= ", want);
    return false;
}

/* One poll of a wave's wait: its checks in order from the first that did
 * not hold yet (a pod seen gone is not asked again), so that a wave of
 * thousands of pods costs a GET per pod, not one per pod and poll. */
static void poll_wave(replay_t *R, int32_t u)
{
    double now = now_s();
    if (now < R->next_poll[u])
        return;
    int32_t i = R->wait_line[u];
    const ss_bind_line_t *x = &R->l->line[i];
    int32_t total = x->n_gone + x->n_running + x->n_budgets;
    char why[700] = "";
    while (R->cursor[u] < total && !ss_bind_stopped() &&
           wave_check(R, x, R->cursor[u], why, sizeof why))
        R->cursor[u]++;
    if (R->cursor[u] == total) {
        R->ustate[u] = U_RUN;
        R->pos[u]++; /* past the eviction that waited */
        R->held[x->wave] = 1;
    } else if (now >= R->deadline[u] && !ss_bind_stopped()) {
        char msg[1000];
        snprintf(msg, sizeof msg,
                 "the wave's pods not gone, replaced and budgets recovered within %g s "
                 "(consolidate --wave-wait): %d of %d checks not yet: %s",
                 x->wait_s, total - R->cursor[u], total, why);
        stop_plan(R, u, i, msg);
    } else {
        R->next_poll[u] = now + R->o->poll_s;
    }
}

static void start_wait(replay_t *R, int32_t u, int32_t i)
{
    if (!has_wait(&R->l->line[i]))
        return;
    R->interval[u] = R->o->poll_s > 0 ? R->o->poll_s : 0.5;
    R->ustate[u] = U_WAIT;
    R->wait_line[u] = i;
    R->deadline[u] = now_s() + R->l->line[i].wait_s;
    R->next_poll[u] = 0;
    R->cursor[u] = 0;
}

/* ---- mig-config lines ---- */

/* GET of line x's node, retried like a request; the verdict, seen = what
 * the node shows. */
static enum ss_bind_mig_seen get_node(replay_t *R, const ss_bind_line_t *x, int tries, char *seen,
                                      size_t cap)
{
    double backoff = 0.1;
    for (int a = 1;; a++) {
        ss_bind_http_reply_t r;
        enum ss_bind_mig_seen v = SS_MIG_RETRY;
        if (ss_bind_conn_request(R->conn, "GET", x->path, NULL, NULL, &r) < 0)
            return snprintf(seen, cap, "out of memory"), SS_MIG_REFUSED;
        if (r.transport)
            snprintf(seen, cap, "GET %s: %s", x->path, r.err);
        else
            v = ss_bind_mig_check(x, r.code, r.ctype, r.body, r.len, seen, cap);
        if (v != SS_MIG_RETRY || a >= tries || ss_bind_stopped())
            return v;
        R->s->retries++;
        sleep_s(backoff / 2 + ss_rng_uniform(&R->rng) * backoff / 2);
        backoff = backoff * 2 > R->o->max_backoff_s ? R->o->max_backoff_s : backoff * 2;
    }
}

/* Node line i's layout will not be ready: journal why, and leave the
 * unit's Bindings unsent (a rerun tries again). */
static void mig_fail(replay_t *R, int32_t u, int32_t i, const char *why)
{
    const ss_bind_line_t *x = &R->l->line[i];
    char msg[1500];
    snprintf(msg, sizeof msg, "node %s: nvidia.com/mig.config=%s: %s", x->node, x->entry, why);
    ss_error_t e = {{0}};
    int rc = ss_bind_journal_append(&R->journal, "failed", &R->pb[i], msg, &e);
    if (rc < 0)
        set_fatal(R, rc, &e);
    R->s->mig_failed++;
    say(R, i, "*** MIG RE-LAYOUT NOT READY: the node's pods are not bound", msg);
    stop_unit_as(R, u, false, "NOT BOUND: its node's MIG layout is not ready", msg);
}

/* One poll of a mig-config wait: the node's state and allocatable. */
static void poll_mig(replay_t *R, int32_t u)
{
    double now = now_s();
    if (now < R->next_poll[u])
        return;
    int32_t i = R->wait_line[u];
    const ss_bind_line_t *x = &R->l->line[i];
    char seen[1000] = "", why[1200];
    enum ss_bind_mig_seen v = get_node(R, x, 1, seen, sizeof seen);
    R->seen_pending[u] |= v == SS_MIG_WAITING && strstr(seen, "state=pending") != NULL;
    bool believe =
        v == SS_MIG_FAILED && (R->patched_at[u] == 0 || R->seen_pending[u] ||
                               now >= R->patched_at[u] + MIG_FAIL_GRACE || now >= R->deadline[u]);
    if (v == SS_MIG_READY) {
        R->s->mig_ready++;
        R->ustate[u] = U_RUN;
        R->pos[u]++;
    } else if (believe) {
        snprintf(why, sizeof why, "the MIG manager reports state failed (%s)", seen);
        mig_fail(R, u, i, why);
    } else if (v == SS_MIG_GONE || v == SS_MIG_REFUSED || v == SS_MIG_ALIEN) {
        snprintf(why, sizeof why, "GET of the node: %s", seen);
        mig_fail(R, u, i, why);
    } else if (now >= R->deadline[u]) {
        snprintf(why, sizeof why, "not ready within --mig-wait %g s: last seen %s", x->wait_s,
                 seen);
        mig_fail(R, u, i, why);
    } else {
        R->next_poll[u] = now + R->interval[u];
        if (R->next_poll[u] > R->deadline[u])
            R->next_poll[u] = R->deadline[u];
        R->interval[u] = R->interval[u] * 1.5 > MIG_POLL_MAX ? MIG_POLL_MAX : R->interval[u] * 1.5;
    }
}

/* Unit u's mig-config line i: confirmed without a PATCH when the node
 * already shows the entry, success and the allocatable; else PATCH the
 * label and wait. */
static void step_mig(replay_t *R, int32_t u, int32_t i)
{
    const ss_bind_line_t *x = &R->l->line[i];
    char seen[1000] = "", why[1200];
    enum ss_bind_mig_seen v = get_node(R, x, R->o->max_attempts, seen, sizeof seen);
    if (ss_bind_stopped() && v == SS_MIG_RETRY)
        return;
    if (v == SS_MIG_READY) {
        R->outcome[i] = SS_BIND_BOUND;
        journal(R, i, "done", NULL);
        R->s->mig_ready++;
        R->s->mig_already++;
        R->pos[u]++;
        return;
    }
    if (v != SS_MIG_WAITING) {
        snprintf(why, sizeof why, "%s%s",
                 v == SS_MIG_FAILED ? "the label is already set and the MIG manager reports "
                                      "state failed; fix the node, then rerun: "
                                    : "GET of the node: ",
                 seen);
        mig_fail(R, u, i, why);
        return;
    }
    char other[SS_BIND_FIELD_MAX] = "";
    bool no_reply = false;
    enum ss_bind_verdict pv = send_line(R, i, why, sizeof why, other, &no_reply);
    if (ss_bind_stopped() && pv == SS_VERDICT_RETRY)
        return;
    if (pv != SS_VERDICT_BOUND) {
        char msg[1300];
        snprintf(msg, sizeof msg, "PATCH of the label %s: %s",
                 pv == SS_VERDICT_RETRY && no_reply ? "got no reply (a rerun sends it again)"
                                                    : "failed",
                 why);
        mig_fail(R, u, i, msg);
        return;
    }
    R->outcome[i] = SS_BIND_BOUND;
    journal(R, i, "done", NULL);
    start_wait(R, u, i);
    R->patched_at[u] = now_s();
    R->seen_pending[u] = 0;
}

/* One poll of unit u's wait: every victim GET must answer 404 NotFound. */
static void poll_wait(replay_t *R, int32_t u)
{
    if (R->l->line[R->wait_line[u]].op == SS_REQ_MIGCONFIG) {
        poll_mig(R, u);
        return;
    }
    if (R->l->line[R->wait_line[u]].wave > 0) {
        poll_wave(R, u);
        return;
    }
    double now = now_s();
    if (now < R->next_poll[u])
        return;
    const ss_bind_line_t *x = &R->l->line[R->wait_line[u]];
    char why[600] = "";
    int32_t left = 0;
    for (int32_t k = 0; k < x->n_gone && !ss_bind_stopped(); k++) {
        ss_bind_http_reply_t r;
        char w[600] = "";
        enum ss_bind_verdict v = SS_VERDICT_RETRY;
        if (ss_bind_conn_request(R->conn, "GET", x->gone[k], NULL, NULL, &r) == 0)
            v = r.transport
                    ? SS_VERDICT_RETRY
                    : ss_bind_classify_step(-1, r.code, r.ctype, r.body, r.len, w, sizeof w);
        if (v != SS_VERDICT_GONE && left++ == 0)
            snprintf(why, sizeof why, "%s still there after %.0f s: %s", x->gone[k],
                     x->wait_s - (R->deadline[u] - now),
                     r.transport               ? r.err
                     : v == SS_VERDICT_PRESENT ? "GET answers the Pod"
                                               : w);
    }
    if (left == 0) {
        R->ustate[u] = U_RUN;
        R->pos[u]++; /* past the removal that waited */
    } else if (now >= R->deadline[u]) {
        R->pos[u]++;
        char msg[800];
        snprintf(msg, sizeof msg, "%d victim(s) not gone within --evict-wait %g s: %s", left,
                 x->wait_s, why);
        stop_unit(R, u, true, msg);
    } else {
        R->next_poll[u] = now + R->o->poll_s;
    }
}

/* A Binding's verdict, counted as ss_bind_post counts it. */
static void bind_done(replay_t *R, int32_t i, enum ss_bind_verdict v, const char *why,
                      const char *other, bool no_reply)
{
    ss_bind_summary_t *s = R->s;
    if (v == SS_VERDICT_BOUND || v == SS_VERDICT_ALREADY) {
        (*(v == SS_VERDICT_BOUND ? &s->bound : &s->already))++;
        R->outcome[i] = SS_BIND_BOUND;
        journal(R, i, "done", NULL);
        return;
    }
    if (v == SS_VERDICT_ELSEWHERE) {
        s->elsewhere++;
        s->failed++;
        R->outcome[i] = SS_BIND_ELSEWHERE;
        journal(R, i, "elsewhere", other);
        char msg[1400];
        snprintf(msg, sizeof msg, "already on node %s; %s", other, why);
        say(R, i, "bound elsewhere", msg);
        return;
    }
    R->outcome[i] = v == SS_VERDICT_GONE ? SS_BIND_GONE : SS_BIND_FAILED;
    if (v == SS_VERDICT_GONE)
        s->gone++;
    else
        s->failed++;
    if (v == SS_VERDICT_RETRY && no_reply)
        s->unknown++;
    say(R, i,
        v == SS_VERDICT_GONE ? "gone"
        : v == SS_VERDICT_RETRY && no_reply
            ? "unknown: no reply, it may have been applied; a rerun confirms it"
            : "failed",
        why);
}

/* Sends unit u's next line and acts on the verdict. */
static void step(replay_t *R, int32_t u)
{
    int32_t i = R->ulist[R->ustart[u] + R->pos[u]];
    const ss_bind_line_t *x = &R->l->line[i];
    char why[600] = "", other[SS_BIND_FIELD_MAX] = "";
    bool no_reply = false;
    if (x->op == SS_REQ_MIGCONFIG) {
        step_mig(R, u, i);
        return;
    }
    enum ss_bind_verdict v = send_line(R, i, why, sizeof why, other, &no_reply);
    if (ss_bind_stopped() && v == SS_VERDICT_RETRY)
        return; /* interrupted: undecided */
    if (ss_bind_op_binds(x->op)) {
        bind_done(R, i, v, why, other, no_reply);
        R->pos[u]++;
        return;
    }
    bool removal = x->op == SS_REQ_DELETE || x->op == SS_REQ_EVICT;
    if (v == SS_VERDICT_BOUND || (v == SS_VERDICT_GONE && x->op != SS_REQ_NOMINATE)) {
        R->outcome[i] = SS_BIND_BOUND;
        journal(R, i, "done", NULL);
        R->s->removed += removal;
        R->s->cordoned += x->op == SS_REQ_CORDON;
        if (x->op == SS_REQ_CORDON && v == SS_VERDICT_GONE)
            say(R, i, "node gone: nothing to cordon", why);
        if (x->op == SS_REQ_PGSTATUS) { /* a gang that is not an upstream PodGroup: 404 */
            R->s->pg_written++;
            R->s->pg_missing += v == SS_VERDICT_GONE;
            if (v == SS_VERDICT_GONE)
                say(R, i, "no such PodGroup (not an upstream PodGroup?): status not written", why);
        }
        if (has_wait(x))
            start_wait(R, u, i); /* pos moves on when the wait holds */
        else
            R->pos[u]++;
        return;
    }
    char msg[800];
    if (v == SS_VERDICT_GONE) { /* the preemptor is gone: nothing to make room for */
        say(R, i, "preemptor gone: its victims are left alone", why);
        for (int32_t k = R->ustart[u] + R->pos[u]; k < R->ustart[u + 1]; k++)
            if (R->l->line[R->ulist[k]].op == SS_REQ_BIND) { /* its own Binding */
                R->outcome[R->ulist[k]] = SS_BIND_GONE;
                R->s->gone++;
                break;
            }
        snprintf(msg, sizeof msg, "preemptor %s/%s is gone", x->ns, x->name);
    } else if (v == SS_VERDICT_BUDGET) {
        R->s->pdb_refused++;
        say(R, i, "*** EVICTION REFUSED by a PodDisruptionBudget (final)", why);
        snprintf(msg, sizeof msg, "eviction of %s/%s refused by a disruption budget", x->ns,
                 x->name);
    } else {
        R->s->pg_failed += x->op == SS_REQ_PGSTATUS;
        say(R, i,
            v == SS_VERDICT_RETRY && no_reply ? "unknown: no reply (a rerun sends it again)"
                                              : "failed",
            why);
        snprintf(msg, sizeof msg, "%s of %s%s%s failed", ss_bind_op_name(x->op),
                 x->op == SS_REQ_CORDON ? "node " : x->ns, x->op == SS_REQ_CORDON ? "" : "/",
                 x->name);
    }
    if (x->wave > 0)
        stop_plan(R, u, i, msg);
    else
        stop_unit(R, u, false, msg);
}

/* Counts what the log holds and what the journal says is done. */
static void count_lines(replay_t *R)
{
    ss_bind_summary_t *s = R->s;
    s->requests_total = R->l->n;
    for (int32_t i = 0; i < R->l->n; i++) {
        int op = R->l->line[i].op, out = R->outcome[i];
        s->total += ss_bind_op_binds(op);
        s->pg_status += op == SS_REQ_PGSTATUS;
        s->pg_written += op == SS_REQ_PGSTATUS && out == SS_BIND_JOURNALED;
        s->preemptors += op == SS_REQ_NOMINATE;
        s->victims += op == SS_REQ_DELETE || op == SS_REQ_EVICT;
        s->mig_nodes += op == SS_REQ_MIGCONFIG;
        s->cordons += op == SS_REQ_CORDON;
        s->cordoned += op == SS_REQ_CORDON && out == SS_BIND_JOURNALED;
        s->removed += (op == SS_REQ_DELETE || op == SS_REQ_EVICT) && out == SS_BIND_JOURNALED;
        if (!ss_bind_op_binds(op))
            continue;
        s->journaled += out == SS_BIND_JOURNALED;
        s->elsewhere += out == SS_BIND_ELSEWHERE;
        s->failed += out == SS_BIND_ELSEWHERE || out == SS_BIND_ABANDONED;
        s->stuck += out == SS_BIND_ABANDONED;
        if (out == SS_BIND_ABANDONED)
            say(R, i, "NOT BOUND: abandoned by an earlier run (its victims were not gone in time)",
                "schedule again");
    }
}

/* Whether unit u's line after its current one is still to be sent. */
static bool next_pending(const replay_t *R, int32_t u)
{
    int32_t k = R->ustart[u] + R->pos[u] + 1;
    return k < R->ustart[u + 1] && R->outcome[R->ulist[k]] == SS_BIND_PENDING;
}

/* One pass per round over the units still going; sleeps when all wait. */
static void run_loop(replay_t *R)
{
    int32_t nu = R->l->n_units, na = 0;
    int32_t *act = malloc(((size_t)nu + 1) * sizeof *act);
    if (!act) {
        ss_error_t e = {{0}};
        set_fatal(R, ss_error_set(&e, SS_ENOMEM, "out of memory"), &e);
        return;
    }
    for (int32_t u = 0; u < nu; u++)
        if (R->ustart[u + 1] > R->ustart[u])
            act[na++] = u;
    while (na > 0 && !ss_bind_stopped() && !R->fatal) {
        bool progressed = false;
        double wake = now_s() + 0.1;
        int32_t keep = 0, k = 0;
        for (; k < na && !ss_bind_stopped() && !R->fatal; k++) {
            int32_t u = act[k];
            if (R->ustate[u] == U_WAIT) {
                poll_wait(R, u);
                progressed |= R->ustate[u] != U_WAIT;
            } else if (R->pos[u] >= R->ustart[u + 1] - R->ustart[u]) {
                R->ustate[u] = U_DONE;
            } else {
                int32_t i = R->ulist[R->ustart[u] + R->pos[u]];
                if (R->outcome[i] == SS_BIND_ABANDONED) {
                    R->ustate[u] = U_DONE;                     /* counted by count_lines */
                } else if (R->outcome[i] != SS_BIND_PENDING) { /* journaled */
                    const ss_bind_line_t *x = &R->l->line[i];
                    bool last = R->pos[u] + 1 == R->ustart[u + 1] - R->ustart[u];
                    if (has_wait(x) && (next_pending(R, u) || (x->wave > 0 && last))) {
                        start_wait(R, u, i); /* checked again before what follows */
                    } else {
                        /* a unit past its mig-config wait in an earlier run */
                        R->s->mig_ready += R->l->line[i].op == SS_REQ_MIGCONFIG;
                        R->pos[u]++;
                    }
                } else {
                    step(R, u);
                }
                progressed = true;
            }
            if (R->ustate[u] == U_WAIT && R->next_poll[u] < wake)
                wake = R->next_poll[u];
            if (R->ustate[u] != U_DONE)
                act[keep++] = u;
        }
        for (; k < na; k++) /* left unvisited by a stop */
            act[keep++] = act[k];
        na = keep;
        if (!progressed && na > 0)
            sleep_s(wake - now_s());
    }
    free(act);
}

static void replay_free(replay_t *R)
{
    ss_bind_journal_close(&R->journal);
    ss_bind_conn_close(R->conn);
    free(R->pb);
    free(R->pbuf);
    free(R->outcome);
    free(R->ustart);
    free(R->ulist);
    free(R->pos);
    free(R->ustate);
    free(R->deadline);
    free(R->next_poll);
    free(R->wait_line);
    free(R->interval);
    free(R->patched_at);
    free(R->seen_pending);
    free(R->held);
    free(R->cursor);
}

/* Waves whose lines are all confirmed and whose wait held (this run, or in
 * an earlier one: a later wave has a confirmed line). */
static void count_waves(replay_t *R)
{
    const ss_bind_log_t *l = R->l;
    int32_t done = 0;
    for (int32_t w = 1; w <= R->s->waves; w++) {
        bool all = true, waits = false, later = false;
        for (int32_t i = 0; i < l->n; i++) {
            if (l->line[i].wave == w) {
                all &= R->outcome[i] != SS_BIND_PENDING;
                waits |= has_wait(&l->line[i]);
            }
            later |= l->line[i].wave > w && R->outcome[i] != SS_BIND_PENDING;
        }
        done += all && (!waits || R->held[w] || later);
    }
    R->s->waves_done = done;
}

int ss_bind_log_run(const ss_bind_log_t *l, const ss_bind_opts_t *o, ss_bind_summary_t *s,
                    ss_error_t *err)
{
    replay_t R;
    memset(&R, 0, sizeof R);
    R.l = l;
    R.o = o;
    R.s = s;
    R.journal.fd = -1;
    ss_rng_seed(&R.rng, o->seed);
    int rc = make_keys(&R) < 0 || index_units(&R) < 0
                 ? ss_error_set(err, SS_ENOMEM, "out of memory")
                 : 0;
    if (rc == 0) /* the server first: a journal is never tied to a server that is not one */
        rc = ss_bind_conn_open(o, &R.conn, err);
    ss_bind_summary_t scratch; /* the journal's own counts are for Bindings */
    memset(&scratch, 0, sizeof scratch);
    if (rc == 0)
        rc = ss_bind_journal_open(&R.journal, o->journal, ss_bind_conn_base(R.conn),
                                  ss_bind_fingerprint(R.pb, l->n), o->placements, R.pb, l->n,
                                  R.outcome, &scratch, NULL, err);
    if (rc == 0) {
        count_lines(&R);
        ss_bind_signals(true);
        run_loop(&R);
        ss_bind_signals(false);
        count_waves(&R);
        s->interrupted = ss_bind_stopped();
        if (R.fatal) {
            *err = R.fatal_err;
            rc = R.fatal;
            ss_bind_summary_print(s, o->log);
        }
    }
    replay_free(&R);
    return rc;
}
