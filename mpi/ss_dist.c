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

void ss_dist_owned(MPI_Comm comm, int32_t n_shards, int32_t *lo, int32_t *hi)
{
    int rank, size;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);
    *lo = (int32_t)((int64_t)n_shards * rank / size);
    *hi = (int32_t)((int64_t)n_shards * (rank + 1) / size);
}

void ss_dist_partition(MPI_Comm comm, const ss_cluster_t *c, int32_t shard_nodes,
                       ss_dist_part_t *part)
{
    int32_t bounds[SS_SCHED_MAX_SHARDS + 1];
    part->n_shards = ss_sched_shards(c, shard_nodes, bounds);
    ss_dist_owned(comm, part->n_shards, &part->shard_lo, &part->shard_hi);
    part->node_lo = bounds[part->shard_lo];
    part->node_hi = bounds[part->shard_hi];
}

/* Every rank sends one block of ctx->cap entries: a header (score = its
 * number of proposals, shard = 1 when it failed) and the first cap-1 of them.
 * Ranks with more send the rest in a second, rare MPI_Allgatherv straight
 * into their place in the result. The result keeps each rank's entries
 * together, in rank order.
 *
 * Every rank enters every collective on every path: the buffer for the
 * common case is allocated before the first collective and a failure travels
 * in the header; the one allocation between two collectives (the rare
 * overflow) is agreed on before the second one. */
static int gather(void *vctx, const ss_cand_t *mine, int32_t n, ss_cand_t **all, int32_t *n_all,
                  ss_error_t *err)
{
    ss_dist_ctx_t *x = vctx;
    int size, cap = x->cap;
    MPI_Comm_size(x->comm, &size);
    *all = NULL;
    *n_all = 0;
    ss_cand_t *buf = malloc((size_t)size * (size_t)(cap - 1) * sizeof *buf);
    int failed = buf == NULL;
    int32_t head = n < cap - 1 ? n : cap - 1;
    x->send[0] = (ss_cand_t){n, -9, failed, 0};
    memcpy(x->send + 1, mine, (size_t)head * sizeof *mine);
    int rc = allgather(x->comm, x->send, cap, x->recv, x->cand_type, "exchanging proposals", err);
    int64_t total = 0, over = 0;
    int any_failed = 0;
    for (int r = 0; r < size && rc == 0; r++) {
        int64_t nr = x->recv[(size_t)r * cap].score;
        total += nr;
        over += nr > cap - 1 ? nr - (cap - 1) : 0;
        any_failed |= x->recv[(size_t)r * cap].shard != 0;
    }
    if (rc == 0 && !any_failed && over > 0) { /* all know `over` from the headers */
        ss_cand_t *b = realloc(buf, (size_t)total * sizeof *b);
        if (b)
            buf = b;
        failed = b == NULL;
        rc = ss_dist_allreduce(x->comm, &failed, &any_failed, 1, MPI_INT, MPI_MAX,
                               "exchanging proposals", err);
        int64_t pos = 0;
        for (int r = 0; r < size && rc == 0; r++) {
            int64_t nr = x->recv[(size_t)r * cap].score, h = nr < cap - 1 ? nr : cap - 1;
            x->counts[r] = (int)(nr - h);
            x->counts[size + r] = (int)(pos + h); /* displacement, in entries */
            pos += nr;
        }
        if (rc == 0 && !any_failed)
            rc = allgatherv(x->comm, mine + head, n - head, buf, x->counts, x->counts + size,
                            x->cand_type, "exchanging proposals", err);
    }
    if (rc == 0 && any_failed)
        rc = failed ? ss_error_set(err, SS_ENOMEM, "out of memory gathering proposals")
                    : ss_error_set(err, SS_EPEER, "another rank failed exchanging proposals");
    if (rc < 0) {
        free(buf);
        return rc;
    }
    int64_t pos = 0;
    for (int r = 0; r < size; r++) {
        int64_t nr = x->recv[(size_t)r * cap].score, h = nr < cap - 1 ? nr : cap - 1;
        memcpy(buf + pos, x->recv + (size_t)r * cap + 1, (size_t)h * sizeof *buf);
        pos += nr; /* the rest of rank r's entries arrived in place */
    }
    *all = buf;
    *n_all = (int32_t)total;
    return 0;
}

static int sum(void *vctx, int64_t *counts, int32_t n, ss_error_t *err)
{
    MPI_Comm comm = ((ss_dist_ctx_t *)vctx)->comm;
    return ss_dist_allreduce(comm, MPI_IN_PLACE, counts, n, MPI_INT64_T, MPI_SUM, "summing counts",
                             err);
}

int ss_dist_sched_comm(MPI_Comm comm, int32_t n_shards, ss_dist_ctx_t *ctx, ss_sched_comm_t *ops)
{
    int size;
    MPI_Comm_size(comm, &size);
    /* A round usually carries one or two entries and a marker per shard. */
    ctx->comm = comm;
    ctx->cap = 3 * ((n_shards + size - 1) / size) + 16;
    const char *force = getenv("SS_EXCHANGE_BLOCK"); /* test hook: exercise the overflow path */
    if (force && atoi(force) >= 2)
        ctx->cap = atoi(force);
    ctx->send = malloc((size_t)ctx->cap * sizeof *ctx->send);
    ctx->recv = malloc((size_t)ctx->cap * (size_t)size * sizeof *ctx->recv);
    ctx->counts = malloc((size_t)size * 2 * sizeof *ctx->counts);
    ctx->have_type = 0;
    ops->ctx = ctx;
    ops->gather = gather;
    ops->sum = sum;
    if (ctx->send && ctx->recv && ctx->counts &&
        MPI_Type_contiguous((int)sizeof(ss_cand_t), MPI_BYTE, &ctx->cand_type) == MPI_SUCCESS) {
        ctx->have_type = 1;
        if (MPI_Type_commit(&ctx->cand_type) == MPI_SUCCESS)
            return 0;
    }
    ss_dist_ctx_free(ctx);
    return SS_ENOMEM;
}

void ss_dist_ctx_free(ss_dist_ctx_t *ctx)
{
    free(ctx->send);
    free(ctx->recv);
    free(ctx->counts);
    if (ctx->have_type)
        MPI_Type_free(&ctx->cand_type);
    ctx->have_type = 0;
    ctx->send = ctx->recv = NULL;
    ctx->counts = NULL;
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
