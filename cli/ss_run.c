/* ss_run: the distributed schedule shared by `schedule` and `bench` (see
 * ss_run.h). The only place that sets up the engine over MPI. */
#include "ss_run.h"

#include <omp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ss_queue.h"
#include "ss_exhaustive.h"
#include "ss_sched.h"
#include "ss_snapshot_mpi.h"

int ss_run_injected(MPI_Comm comm, const char *phase, ss_error_t *err)
{
    const char *spec = getenv("SS_FAULT_INJECT");
    size_t n = strlen(phase);
    int rank;
    MPI_Comm_rank(comm, &rank);
    if (!spec || strncmp(spec, phase, n) || spec[n] != ':' || atoi(spec + n + 1) != rank)
        return 0;
    if (!strcmp(phase, "stop")) { /* a rank that stops (tests --collective-timeout) */
        raise(SIGSTOP);
        return 0;
    }
    return ss_error_set(err, SS_EIO, "injected fault in phase %s", phase);
}

int ss_run_read(MPI_Comm comm, const char *path, const ss_run_opts_t *o, ss_cluster_t **c,
                ss_dist_part_t *part, ss_error_t *err)
{
    *c = NULL;
    memset(part, 0, sizeof *part);
    int rc;
    if (o->exhaustive) {
        /* The reference needs every node's capacity on every rank. */
        rc = ss_snapshot_read(path, c, err);
        if (rc == 0) { /* one partition on every rank */
            ss_layout_t l;
            ss_layout_build(*c, INT32_MAX, o->shard_nodes, &l);
            part->lay = l;
            part->part_lo = 0;
            part->part_hi = l.n_parts;
            part->node_lo = 0;
            part->node_hi = (*c)->n_nodes;
        }
    } else if (o->full_read) { /* every node's capacity, the usual partition */
        rc = ss_snapshot_read(path, c, err);
        if (rc == 0) {
            ss_layout_t l;
            ss_layout_build(*c, o->part_nodes, o->shard_nodes, &l);
            ss_dist_partition(comm, &l, part);
        }
    } else {
        ss_snapshot_mpi_reader_t *r = NULL;
        rc = ss_snapshot_read_mpi_begin(path, comm, &r, c, err);
        if (rc == 0) { /* the topology is read: the partition can be computed */
            ss_layout_t l;
            ss_layout_build(*c, o->part_nodes, o->shard_nodes, &l);
            ss_dist_partition(comm, &l, part);
            rc = ss_snapshot_read_mpi_end(r, *c, part->node_lo, part->node_hi, err);
        }
    }
    if (rc == 0)
        rc = ss_run_injected(comm, "read", err);
    rc = ss_dist_agree_err(comm, rc, path, err);
    if (rc < 0) {
        ss_cluster_destroy(*c);
        *c = NULL;
    }
    return rc;
}

const char *const ss_rule_spreading_names[] = {"snapshot", "system", "none", NULL};
const char *const ss_rule_locality_names[] = {"snapshot", "zone", "off", NULL};
const char *const ss_rule_onoff_names[] = {"on", "off", NULL};
const char *const ss_rule_preempt_names[] = {"delete", "evict", NULL};

void ss_rule_cli_init(ss_rule_cli_t *r)
{
    *r = (ss_rule_cli_t){0, 0, 0, 0, 10, 100, 0, 0};
}

void ss_rule_cli_get(const ss_rule_cli_t *r, ss_sched_opts_t *o)
{
    *o = ss_sched_opts_default();
    o->default_spreading = r->spreading == 0   ? -1
                           : r->spreading == 1 ? SS_SPREAD_DEFAULT_SYSTEM
                                               : SS_SPREAD_DEFAULT_NONE;
    o->locality = r->locality == 0 ? -1 : r->locality == 1 ? SS_LOCALITY_ZONE : SS_LOCALITY_OFF;
    o->preemption = r->preemption == 0;
    o->pdb_hard = r->preempt_with == 1;
    o->min_candidate_pct = (int32_t)r->cand_pct;
    o->min_candidate_abs = (int32_t)r->cand_abs;
    o->seed = (int64_t)r->seed;
    o->pct_to_score = (int32_t)r->pct_score;
}

/* The engine over this rank's shards, exchanging through mpi/ss_dist. Every
 * collective step is entered by every rank: setup failures are agreed first. */
static int run_engine(MPI_Comm comm, const ss_run_opts_t *o, const ss_cluster_t *c,
                      const ss_dist_part_t *part, const ss_queue_t *q, ss_placements_t *pl,
                      ss_error_t *err)
{
    int size;
    MPI_Comm_size(comm, &size);
    double t0 = MPI_Wtime();
    ss_sched_t *s = ss_sched_create(c, o->policy, &part->lay, part->part_lo, part->part_hi, err);
    double t_create = MPI_Wtime() - t0;
    if (s)
        ss_sched_set_progress(s, o->progress);
    if (s && o->sched)
        ss_sched_set_opts(s, o->sched);
    int rc = ss_dist_agree_err(comm, s ? 0 : SS_ENOMEM, "scheduler setup", err);
    ss_dist_ctx_t ctx = {0};
    ss_sched_comm_t ops;
    if (rc == 0) {
        rc = ss_dist_sched_comm(comm, &ctx, &ops);
        if (rc < 0)
            ss_error_set(err, rc, "out of memory setting up the exchange");
        rc = ss_dist_agree_err(comm, rc, "exchange setup", err);
    }
    if (rc == 0 && ss_run_injected(comm, "engine", NULL) < 0)
        ss_sched_inject_fault(s, 10); /* fail inside the collective rounds */
    if (rc == 0)
        rc = ss_sched_run(s, q->order, q->units, q->n_units, size > 1 ? &ops : NULL, pl, err);
    if (s && o->stats)
        ss_sched_stats(s, o->stats);
    if (s && getenv("SS_SCHED_PROFILE")) { /* per-rank figures, for profiling */
        ss_sched_stats_t st;
        ss_sched_stats(s, &st);
        int rank;
        MPI_Comm_rank(comm, &rank);
        fprintf(stderr,
                "rank %d: partitions [%d, %d) nodes [%d, %d): create %.3f s, setup %.3f s, "
                "place %.3f s, exchange %.3f s, across %.3f s, gather %.3f s; rules: deferred "
                "%lld pods %.3f s, preemption %lld preemptors %.3f s\n",
                rank, part->part_lo, part->part_hi, part->node_lo, part->node_hi, t_create,
                st.setup_s, st.place_s, st.exchange_s, st.across_s, st.finish_s,
                (long long)st.deferred, st.deferred_s, (long long)st.preemptors, st.preempt_s);
    }
    ss_dist_ctx_free(&ctx);
    ss_sched_destroy(s);
    return rc;
}

/* The naive reference with the same rule options as the engine. */
static int run_exhaustive(const ss_run_opts_t *o, const ss_cluster_t *c, const ss_queue_t *q,
                          ss_placements_t *pl, ss_error_t *err)
{
    ss_exh_opts_t x;
    ss_exh_opts_default(&x);
    x.preempt_last = 1; /* as the engine orders it: one partition gives this answer */
    if (o->sched) {
        x.preemption = o->sched->preemption;
        x.pdb_hard = o->sched->pdb_hard;
        x.min_candidate_pct = o->sched->min_candidate_pct;
        x.min_candidate_abs = o->sched->min_candidate_abs;
        x.seed_offset = o->sched->seed;
        x.default_spreading = o->sched->default_spreading;
        x.locality = o->sched->locality;
    }
    return ss_exhaustive_run_opts(c, o->policy, q->order, q->units, q->n_units, &x, pl, err);
}

static int32_t count_pending(const ss_cluster_t *c)
{
    int32_t n = 0;
    for (int32_t p = 0; p < c->n_pods; p++)
        n += c->pod_node[p] < 0;
    return n;
}

int ss_run_schedule(MPI_Comm comm, const ss_run_opts_t *o, const ss_cluster_t *c,
                    const ss_dist_part_t *part, ss_placements_t **out, ss_error_t *err)
{
    *out = NULL;
    int size;
    MPI_Comm_size(comm, &size);
    double t0 = MPI_Wtime();
    ss_queue_t *q = NULL;
    ss_placements_t *pl = ss_placements_create(count_pending(c));
    int rc = pl ? 0 : ss_error_set(err, SS_ENOMEM, "out of memory for placements");
    if (rc == 0 && !(q = ss_queue_build(c, err)))
        rc = SS_ENOMEM;
    if (rc == 0)
        rc = ss_run_injected(comm, "schedule", err);
    ss_run_injected(comm, "stop", NULL);
    rc = ss_dist_agree_err(comm, rc, "schedule setup", err);
    if (rc == 0) {
        snprintf(pl->policy, sizeof pl->policy, "%s", o->policy->name);
        pl->exhaustive = o->exhaustive;
        /* The reference is sequential: every rank computes it whole. */
        rc = o->exhaustive ? run_exhaustive(o, c, q, pl, err)
                           : run_engine(comm, o, c, part, q, pl, err);
        rc = ss_dist_agree_err(comm, rc, "schedule", err);
    }
    ss_queue_destroy(q);
    if (rc < 0) {
        ss_placements_destroy(pl);
        return rc;
    }
    pl->seconds = MPI_Wtime() - t0;
    pl->ranks = size;
    pl->threads = omp_get_max_threads();
    *out = pl;
    return 0;
}
