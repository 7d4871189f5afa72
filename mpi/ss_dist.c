/* ss_dist: MPI helpers (see ss_dist.h). */
#include "ss_dist.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

/* ---------- waiting with a deadline (--collective-timeout) ---------- */

static double g_timeout;  /* seconds; <= 0: wait forever (plain blocking calls) */
static int g_timed_out;   /* set once a collective timed out: no more collectives */
static int64_t g_step_no; /* collectives entered by this rank, for the message */

#define PING_TAG 7701
#define PONG_TAG 7702

void ss_dist_set_timeout(double seconds)
{
    g_timeout = seconds;
}

int ss_dist_timed_out(void)
{
    return g_timed_out;
}

/* Answers the "are you waiting too?" pings of ranks that timed out. */
static void answer_pings(MPI_Comm comm)
{
    int flag = 1;
    while (flag) {
        MPI_Status st;
        if (MPI_Iprobe(MPI_ANY_SOURCE, PING_TAG, comm, &flag, &st) != MPI_SUCCESS || !flag)
            return;
        int64_t dummy, mine = g_step_no;
        MPI_Recv(&dummy, 1, MPI_INT64_T, st.MPI_SOURCE, PING_TAG, comm, MPI_STATUS_IGNORE);
        MPI_Request r;
        MPI_Isend(&mine, 1, MPI_INT64_T, st.MPI_SOURCE, PONG_TAG, comm, &r);
        MPI_Request_free(&r);
    }
}

static void nap(double seconds)
{
    struct timespec ts = {0, (long)(seconds * 1e9)};
    nanosleep(&ts, NULL);
}

/* After a timeout: asks every other rank whether it is waiting too (a rank
 * that waits answers from its own polling loop within ~1 s; a stopped or
 * still-busy rank does not) and names the silent ones. The lowest rank that
 * is waiting prints the message, so the job prints it once. */
static void report_timeout(MPI_Comm comm, const char *step, ss_error_t *err)
{
    int rank, size;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);
    char *alive = calloc((size_t)size, 1);
    int64_t ping = g_step_no;
    for (int r = 0; r < size && alive; r++)
        if (r != rank) {
            MPI_Request q;
            MPI_Isend(&ping, 1, MPI_INT64_T, r, PING_TAG, comm, &q);
            MPI_Request_free(&q);
        }
    double end = MPI_Wtime() + 1.5;
    while (alive && MPI_Wtime() < end) {
        answer_pings(comm);
        int flag = 0;
        MPI_Status st;
        if (MPI_Iprobe(MPI_ANY_SOURCE, PONG_TAG, comm, &flag, &st) == MPI_SUCCESS && flag) {
            int64_t v;
            MPI_Recv(&v, 1, MPI_INT64_T, st.MPI_SOURCE, PONG_TAG, comm, MPI_STATUS_IGNORE);
            alive[st.MPI_SOURCE] = 1;
        } else {
            nap(0.001);
        }
    }
    char list[256] = "";
    size_t len = 0;
    int first_alive = rank, silent = 0;
    for (int r = 0; r < size && alive; r++) {
        if (r == rank || alive[r]) {
            first_alive = r < first_alive ? r : first_alive;
            continue;
        }
        silent++;
        if (len < sizeof list - 16)
            len +=
                (size_t)snprintf(list + len, sizeof list - len, "%s%d", silent > 1 ? ", " : "", r);
    }
    free(alive);
    ss_error_set(err, SS_EMPI,
                 "%s: no answer within --collective-timeout %g s; rank(s) that did not arrive: %s",
                 step, g_timeout, silent ? list : "unknown");
    if (rank == first_alive) /* ss_dist_fail cannot run its collective now */
        fprintf(stderr, "shardsched: rank %d: %s\n", rank, err->text);
    g_timed_out = 1;
}

/* Completes a started collective: MPI_Wait without a timeout; with one,
 * MPI_Test polling (spinning for the first millisecond, then napping, so a
 * waiting rank leaves the core to others) until the deadline. */
static int wait_req(MPI_Comm comm, MPI_Request *req, int mpi_rc, const char *step, ss_error_t *err)
{
    g_step_no++;
    if (mpi_rc != MPI_SUCCESS)
        return ss_dist_check(mpi_rc, step, err);
    if (g_timeout <= 0)
        return ss_dist_check(MPI_Wait(req, MPI_STATUS_IGNORE), step, err);
    double t0 = MPI_Wtime(), deadline = t0 + g_timeout;
    for (;;) {
        int done = 0;
        int rc = MPI_Test(req, &done, MPI_STATUS_IGNORE);
        if (rc != MPI_SUCCESS)
            return ss_dist_check(rc, step, err);
        if (done)
            return 0;
        double now = MPI_Wtime();
        if (now > deadline) {
            report_timeout(comm, step, err);
            return SS_EMPI; /* the request stays pending: main aborts */
        }
        if (now - t0 > 1e-3) {
            answer_pings(comm);
            nap(now - t0 > 0.1 ? 1e-3 : 1e-4);
        }
    }
}

int ss_dist_allreduce(MPI_Comm comm, const void *in, void *out, int n, MPI_Datatype type, MPI_Op op,
                      const char *step, ss_error_t *err)
{
    if (g_timed_out)
        return ss_error_set(err, SS_EMPI, "%s: skipped after a collective timeout", step);
    MPI_Request req = MPI_REQUEST_NULL;
    if (g_timeout <= 0) {
        g_step_no++;
        return ss_dist_check(MPI_Allreduce(in, out, n, type, op, comm), step, err);
    }
    return wait_req(comm, &req, MPI_Iallreduce(in, out, n, type, op, comm, &req), step, err);
}

static int allgather(MPI_Comm comm, const void *in, int n, void *out, MPI_Datatype type,
                     const char *step, ss_error_t *err)
{
    if (g_timed_out)
        return ss_error_set(err, SS_EMPI, "%s: skipped after a collective timeout", step);
    MPI_Request req = MPI_REQUEST_NULL;
    if (g_timeout <= 0) {
        g_step_no++;
        return ss_dist_check(MPI_Allgather(in, n, type, out, n, type, comm), step, err);
    }
    return wait_req(comm, &req, MPI_Iallgather(in, n, type, out, n, type, comm, &req), step, err);
}

static int allgatherv(MPI_Comm comm, const void *in, int n, void *out, const int *counts,
                      const int *displs, MPI_Datatype type, const char *step, ss_error_t *err)
{
    if (g_timed_out)
        return ss_error_set(err, SS_EMPI, "%s: skipped after a collective timeout", step);
    MPI_Request req = MPI_REQUEST_NULL;
    if (g_timeout <= 0) {
        g_step_no++;
        return ss_dist_check(MPI_Allgatherv(in, n, type, out, counts, displs, type, comm), step,
                             err);
    }
    return wait_req(comm, &req, MPI_Iallgatherv(in, n, type, out, counts, displs, type, comm, &req),
                    step, err);
}

int ss_dist_bcast(MPI_Comm comm, void *buf, int n, MPI_Datatype type, int root, const char *step,
                  ss_error_t *err)
{
    if (g_timed_out)
        return ss_error_set(err, SS_EMPI, "%s: skipped after a collective timeout", step);
    MPI_Request req = MPI_REQUEST_NULL;
    if (g_timeout <= 0) {
        g_step_no++;
        return ss_dist_check(MPI_Bcast(buf, n, type, root, comm), step, err);
    }
    return wait_req(comm, &req, MPI_Ibcast(buf, n, type, root, comm, &req), step, err);
}

int ss_dist_barrier(MPI_Comm comm, const char *step, ss_error_t *err)
{
    if (g_timed_out)
        return ss_error_set(err, SS_EMPI, "%s: skipped after a collective timeout", step);
    MPI_Request req = MPI_REQUEST_NULL;
    if (g_timeout <= 0) {
        g_step_no++;
        return ss_dist_check(MPI_Barrier(comm), step, err);
    }
    return wait_req(comm, &req, MPI_Ibarrier(comm, &req), step, err);
}

/* ---------- agreement ---------- */

int ss_dist_agree(MPI_Comm comm, int rc)
{
    int worst = rc;
    ss_error_t e;
    if (ss_dist_allreduce(comm, &rc, &worst, 1, MPI_INT, MPI_MIN, "status agreement", &e) < 0)
        return rc < 0 ? rc : SS_EMPI;
    return worst;
}

int ss_dist_agree_err(MPI_Comm comm, int rc, const char *what, ss_error_t *err)
{
    int worst = rc;
    ss_error_t e;
    if (ss_dist_allreduce(comm, &rc, &worst, 1, MPI_INT, MPI_MIN, what, &e) < 0) {
        if (rc < 0)
            return rc;
        *err = e;
        return SS_EMPI;
    }
    if (rc < 0)
        return rc;
    if (worst < 0)
        return ss_error_set(err, SS_EPEER, "%s: another rank failed", what);
    return 0;
}

int ss_dist_check(int mpi_rc, const char *what, ss_error_t *err)
{
    if (mpi_rc == MPI_SUCCESS)
        return 0;
    char text[MPI_MAX_ERROR_STRING];
    int len = 0;
    MPI_Error_string(mpi_rc, text, &len);
    return ss_error_set(err, SS_EMPI, "%s failed: %s", what, text);
}

void ss_dist_partition(MPI_Comm comm, const ss_layout_t *l, ss_dist_part_t *part)
{
    int rank, size;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);
    part->lay = *l;
    /* Contiguous blocks of partitions, so a rank's nodes are one range. */
    part->part_lo = (int32_t)((int64_t)l->n_parts * rank / size);
    part->part_hi = (int32_t)((int64_t)l->n_parts * (rank + 1) / size);
    part->node_lo = ss_layout_node_lo(l, part->part_lo);
    part->node_hi = ss_layout_node_lo(l, part->part_hi);
}

/* Gathers n records of `elem` bytes from every rank into x->buf, in rank
 * order: one MPI_Allgather of the counts, then one
 * MPI_Allgatherv. The buffer only grows when every rank sees the same total
 * exceed it; that growth is agreed on (one more collective, rare) before the
 * second call, so every rank enters every collective on every path. */
static int gather_any(ss_dist_ctx_t *x, const void *mine, int32_t n, size_t elem, void **all,
                      int32_t *n_all, const char *step, ss_error_t *err)
{
    int size;
    MPI_Comm_size(x->comm, &size);
    int me = n;
    *all = NULL;
    *n_all = 0;
    int rc = allgather(x->comm, &me, 1, x->counts, MPI_INT, step, err);
    if (rc < 0)
        return rc;
    int64_t total = 0;
    int any_failed = 0;
    for (int r = 0; r < size; r++) {
        any_failed |= x->counts[r] < 0;
        x->counts[size + r] = (int)total; /* displacement, in bytes */
        total += x->counts[r] > 0 ? (int64_t)x->counts[r] * (int64_t)elem : 0;
    }
    if (any_failed)
        return ss_error_set(err, SS_EPEER, "%s: another rank failed", step);
    if (total > INT32_MAX)
        return ss_error_set(err, SS_EINVAL, "%s: %lld bytes exceed one exchange", step,
                            (long long)total);
    if ((size_t)total > x->cap) { /* every rank sees the same total */
        void *b = realloc(x->buf, (size_t)total);
        int bad = b == NULL, any = 0;
        if (b) {
            x->buf = b;
            x->cap = (size_t)total;
        }
        rc = ss_dist_allreduce(x->comm, &bad, &any, 1, MPI_INT, MPI_MAX, step, err);
        if (rc == 0 && any)
            rc = bad ? ss_error_set(err, SS_ENOMEM, "%s: out of memory", step)
                     : ss_error_set(err, SS_EPEER, "%s: another rank failed", step);
        if (rc < 0)
            return rc;
    }
    for (int r = 0; r < size; r++)
        x->counts[r] *= (int)elem; /* in bytes */
    rc = allgatherv(x->comm, mine, n * (int)elem, x->buf, x->counts, x->counts + size, MPI_BYTE,
                    step, err);
    if (rc < 0)
        return rc;
    *all = x->buf;
    *n_all = (int32_t)(total / (int64_t)elem);
    return 0;
}

static int gather_msgs(void *vctx, const ss_sched_msg_t *mine, int32_t n, ss_sched_msg_t **all,
                       int32_t *n_all, ss_error_t *err)
{
    void *p;
    int rc = gather_any(vctx, mine, n, sizeof *mine, &p, n_all, "exchanging round results", err);
    *all = p;
    return rc;
}

static int gather_rows(void *vctx, const ss_sched_row_t *mine, int32_t n, ss_sched_row_t **all,
                       int32_t *n_all, ss_error_t *err)
{
    void *p;
    int rc = gather_any(vctx, mine, n, sizeof *mine, &p, n_all, "gathering placements", err);
    *all = p;
    return rc;
}

static int gather_i64(void *vctx, const int64_t *mine, int32_t n, int64_t **all, int32_t *n_all,
                      ss_error_t *err)
{
    void *p;
    int rc = gather_any(vctx, mine, n, sizeof *mine, &p, n_all, "exchanging verdicts", err);
    *all = p;
    return rc;
}

static int sum(void *vctx, int64_t *counts, int32_t n, ss_error_t *err)
{
    MPI_Comm comm = ((ss_dist_ctx_t *)vctx)->comm;
    return ss_dist_allreduce(comm, MPI_IN_PLACE, counts, n, MPI_INT64_T, MPI_SUM, "summing counts",
                             err);
}

int ss_dist_sched_comm(MPI_Comm comm, ss_dist_ctx_t *ctx, ss_sched_comm_t *ops)
{
    int size;
    MPI_Comm_size(comm, &size);
    ctx->comm = comm;
    ctx->cap = 1 << 16;
    const char *force = getenv("SS_EXCHANGE_BLOCK"); /* test hook: exercise the growth path */
    if (force && atoi(force) >= 1)
        ctx->cap = (size_t)atoi(force);
    ctx->buf = malloc(ctx->cap);
    ctx->counts = malloc((size_t)size * 2 * sizeof *ctx->counts);
    ops->ctx = ctx;
    ops->gather_msgs = gather_msgs;
    ops->gather_rows = gather_rows;
    ops->gather_i64 = gather_i64;
    MPI_Comm_rank(comm, &ops->rank);
    ops->size = size;
    ops->sum = sum;
    if (ctx->buf && ctx->counts)
        return 0;
    ss_dist_ctx_free(ctx);
    return SS_ENOMEM;
}

void ss_dist_ctx_free(ss_dist_ctx_t *ctx)
{
    free(ctx->buf);
    free(ctx->counts);
    ctx->buf = NULL;
    ctx->counts = NULL;
    ctx->cap = 0;
}

int ss_dist_fail(MPI_Comm comm, const char *cmd, int rc, const ss_error_t *err)
{
    /* One message: from the lowest rank that saw an error. */
    int rank, size, first;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);
    /* A rank that saw the cause (not just "another rank failed") speaks. */
    if (g_timed_out) /* the message is out; no collective can complete now */
        return rc < 0 ? rc : SS_EMPI;
    int mine[2] = {rc < 0 && rc != SS_EPEER ? rank : size, rc < 0 ? rank : size}, firsts[2];
    ss_error_t e;
    if (ss_dist_allreduce(comm, mine, firsts, 2, MPI_INT, MPI_MIN, "error report", &e) < 0) {
        if (g_timed_out)
            return rc < 0 ? rc : SS_EMPI;
        firsts[0] = firsts[1] = rank;
    }
    first = firsts[0] < size ? firsts[0] : firsts[1];
    if (rc < 0 && rank == first) {
        if (size > 1)
            fprintf(stderr, "shardsched %s: rank %d: %s\n", cmd, rank, err->text);
        else
            fprintf(stderr, "shardsched %s: %s\n", cmd, err->text);
    }
    return ss_dist_agree(comm, rc);
}

double ss_dist_peak_mib(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0)
        return 0;
    return (double)ru.ru_maxrss / 1024.0;
}
