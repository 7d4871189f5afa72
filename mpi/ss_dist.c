/* ss_dist: MPI helpers (see ss_dist.h). */
#include "ss_dist.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

int ss_dist_agree(MPI_Comm comm, int rc)
{
    int worst = rc;
    if (MPI_Allreduce(&rc, &worst, 1, MPI_INT, MPI_MIN, comm) != MPI_SUCCESS)
        return SS_EMPI;
    return worst;
}

int ss_dist_agree_err(MPI_Comm comm, int rc, const char *what, ss_error_t *err)
{
    int worst = rc;
    if (MPI_Allreduce(&rc, &worst, 1, MPI_INT, MPI_MIN, comm) != MPI_SUCCESS)
        return rc < 0 ? rc : ss_error_set(err, SS_EMPI, "%s: MPI_Allreduce failed", what);
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
 * number of proposals) and the first cap-1 of them. Ranks with more send the
 * rest in a second, rare MPI_Allgatherv. The result keeps each rank's
 * entries together, in rank order. */
static int gather(void *vctx, const ss_cand_t *mine, int32_t n, ss_cand_t **all, int32_t *n_all,
                  ss_error_t *err)
{
    ss_dist_ctx_t *x = vctx;
    int size, cap = x->cap;
    MPI_Comm_size(x->comm, &size);
    int32_t head = n < cap - 1 ? n : cap - 1;
    x->send[0] = (ss_cand_t){n, -9, -1, 0};
    memcpy(x->send + 1, mine, (size_t)head * sizeof *mine);
    int bytes = cap * (int)sizeof(ss_cand_t);
    int rc =
        ss_dist_check(MPI_Allgather(x->send, bytes, MPI_BYTE, x->recv, bytes, MPI_BYTE, x->comm),
                      "MPI_Allgather", err);
    if (rc < 0)
        return rc;
    int64_t total = 0, over = 0;
    for (int r = 0; r < size; r++) {
        int64_t nr = x->recv[(size_t)r * cap].score;
        total += nr;
        over += nr > cap - 1 ? nr - (cap - 1) : 0;
    }
    *all = malloc(total > 0 ? (size_t)total * sizeof **all : 1);
    int *counts = malloc((size_t)size * 2 * sizeof(int));
    if (!*all || !counts) {
        free(counts);
        return ss_error_set(err, SS_ENOMEM, "out of memory gathering proposals");
    }
    int *displs = counts + size;
    if (over > 0) { /* collective on every rank: all know `over` from the headers */
        if (over > x->over_cap) {
            ss_cand_t *o = realloc(x->over, (size_t)over * sizeof *o);
            if (!o) {
                free(counts);
                return ss_error_set(err, SS_ENOMEM, "out of memory gathering proposals");
            }
            x->over = o;
            x->over_cap = (int)over;
        }
        int d = 0;
        for (int r = 0; r < size; r++) {
            int64_t nr = x->recv[(size_t)r * cap].score;
            counts[r] = (int)((nr > cap - 1 ? nr - (cap - 1) : 0) * (int64_t)sizeof(ss_cand_t));
            displs[r] = d;
            d += counts[r];
        }
        int mine_over = (int)((n - head) * (int32_t)sizeof(ss_cand_t));
        rc = ss_dist_check(MPI_Allgatherv(mine + head, mine_over, MPI_BYTE, x->over, counts, displs,
                                          MPI_BYTE, x->comm),
                           "MPI_Allgatherv", err);
    }
    int64_t pos = 0;
    for (int r = 0; r < size && rc == 0; r++) {
        int64_t nr = x->recv[(size_t)r * cap].score, h = nr < cap - 1 ? nr : cap - 1;
        memcpy(*all + pos, x->recv + (size_t)r * cap + 1, (size_t)h * sizeof **all);
        pos += h;
        if (nr > h) {
            memcpy(*all + pos, (char *)x->over + displs[r], (size_t)(nr - h) * sizeof **all);
            pos += nr - h;
        }
    }
    free(counts);
    *n_all = (int32_t)total;
    return rc;
}

static int sum(void *vctx, int64_t *counts, int32_t n, ss_error_t *err)
{
    MPI_Comm comm = ((ss_dist_ctx_t *)vctx)->comm;
    return ss_dist_check(MPI_Allreduce(MPI_IN_PLACE, counts, n, MPI_INT64_T, MPI_SUM, comm),
                         "MPI_Allreduce", err);
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
    ctx->over = NULL;
    ctx->over_cap = 0;
    ops->ctx = ctx;
    ops->gather = gather;
    ops->sum = sum;
    if (!ctx->send || !ctx->recv) {
        ss_dist_ctx_free(ctx);
        return SS_ENOMEM;
    }
    return 0;
}

void ss_dist_ctx_free(ss_dist_ctx_t *ctx)
{
    free(ctx->send);
    free(ctx->recv);
    free(ctx->over);
    ctx->send = ctx->recv = ctx->over = NULL;
}

int ss_dist_fail(MPI_Comm comm, const char *cmd, int rc, const ss_error_t *err)
{
    /* One message: from the lowest rank that saw an error. */
    int rank, size, first;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);
    /* A rank that saw the cause (not just "another rank failed") speaks. */
    int mine[2] = {rc < 0 && rc != SS_EPEER ? rank : size, rc < 0 ? rank : size}, firsts[2];
    if (MPI_Allreduce(mine, firsts, 2, MPI_INT, MPI_MIN, comm) != MPI_SUCCESS)
        firsts[0] = firsts[1] = rank;
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
