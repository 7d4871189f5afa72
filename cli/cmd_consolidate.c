/* shardsched consolidate: a plan that empties as many nodes as possible (or
 * the nodes of a pool, or the named nodes) by moving their running pods onto
 * free room, in waves that respect the PodDisruptionBudgets (issue 14,
 * docs/consolidate.md). The snapshot is read with the serial reader and the
 * plan is computed by rank 0 (engine/ss_consolidate.h); the other ranks wait
 * for its status (ss_dist_on_rank0). Exit 0 on success (even when no node
 * could be freed), 2 on bad usage or unreadable input. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ss_cli.h"
#include "ss_consolidate.h"
#include "ss_match.h"
#include "ss_opt.h"
#include "ss_plan_io.h"
#include "ss_rank0.h"
#include "ss_snapshot.h"

typedef struct {
    const char *in, *out, *emit, *emit_log, *pool, *drain, *pool_label, *allow;
    int64_t max_waves;
    double wave_wait;
    int quiet, targets;
    uint32_t allow_bits;
} opts_t;

static const char *const pool_labels[] = {"karpenter.sh/nodepool", "cloud.google.com/gke-nodepool",
                                          "eks.amazonaws.com/nodegroup",
                                          "kubernetes.azure.com/agentpool", "pool"};

static const char *const target_words[] = {"tightest", "least-allocated", NULL};

static void usage(FILE *f)
{
    fprintf(
        f, "usage: shardsched consolidate -i cluster.h5 -o plan.h5 [--emit plan.json]\n"
           "                              [--emit-log plan.jsonl [--wave-wait S]]\n"
           "                              [--nodes-from POOL | --drain NODE,...]\n"
           "                              [--max-waves N] [--pool-label KEY]\n"
           "                              [--allow WORD,...] [--targets tightest|least-allocated]\n"
           "                              [-q]\n"
           "\n"
           "Plans which nodes to empty and where their running pods go, using only free\n"
           "room (no pod is displaced), in waves: within one wave no PodDisruptionBudget\n"
           "loses more pods than its disruptionsAllowed. A node is freed only if every pod\n"
           "on it may move and finds a target; a gang moves whole or not at all. Pods that\n"
           "never move: no controller, DaemonSet, mirror (static) pods, local storage\n"
           "(emptyDir not in memory, hostPath) unless annotated safe-to-evict \"true\",\n"
           "kube-system pods without a PDB, persistentVolumeClaims, safe-to-evict \"false\",\n"
           "karpenter.sh/do-not-disrupt \"true\", and (not checked here yet) pods with\n"
           "DoNotSchedule spread, required pod affinity or non-hostname anti-affinity.\n"
           "\n"
           "  -i, --input FILE       cluster snapshot\n"
           "  -o, --output FILE      the plan (HDF5, kind \"plan\"; docs/consolidate.md)\n"
           "      --emit FILE        also the plan as JSON, with the policy/v1 Evictions\n"
           "      --emit-log FILE    also the waves as an ordered request log for\n"
           "                         bind --replay FILE --server URL: per wave, cordon its\n"
           "                         nodes, evict its pods, wait for the replacements and\n"
           "                         the budgets (docs/consolidate.md, \"Executing a plan\")\n"
           "      --wave-wait S      how long bind waits after a wave (default 600)\n"
           "      --nodes-from POOL  drain the nodes of this pool (value of the pool label)\n"
           "      --drain NODE,...   drain these nodes, in this order\n"
           "                         (default: every node, fewest pods first)\n"
           "      --max-waves N      at most N waves (default: no limit)\n"
           "      --pool-label KEY   the node label naming a pool (default: the first\n"
           "                         present of karpenter.sh/nodepool,\n"
           "                         cloud.google.com/gke-nodepool, eks.amazonaws.com/nodegroup,\n"
           "                         kubernetes.azure.com/agentpool, pool)\n"
           "      --allow WORDS      relax conventions: local-storage, kube-system, pvc, bare,\n"
           "                         not-safe-to-evict, do-not-disrupt\n"
           "      --targets POLICY   tightest (default: bin packing) or least-allocated (the\n"
           "                         node-by-node greedy baseline: kube-scheduler's default\n"
           "                         spreading places each pod, as descheduler-style drains do)\n"
           "  -q, --quiet            no summary\n"
           "  -h, --help             this text\n"
           "\n"
           "Check a plan with: shardsched verify -i cluster.h5 --plan plan.h5\n"
           "\n"
           "Examples:\n"
           "  shardsched consolidate -i cluster.h5 -o plan.h5 --emit plan.json\n"
           "  shardsched consolidate -i cluster.h5 -o plan.h5 --nodes-from spot --max-waves 3\n"
           "  shardsched consolidate -i cluster.h5 -o plan.h5 --drain node-7,node-9\n"
           "  shardsched consolidate -i cluster.h5 -o plan.h5 --emit-log waves.jsonl &&\n"
           "      shardsched bind --replay waves.jsonl --server http://127.0.0.1:8001 \\\n"
           "      --journal waves.journal\n");
}

static int parse(int argc, char **argv, opts_t *o, bool loud)
{
    memset(o, 0, sizeof *o);
    o->wave_wait = 600;
    const ss_opt_t opts[] = {
        SS_O_STR('i', "input", &o->in),
        SS_O_STR('o', "output", &o->out),
        SS_O_STR(0, "emit", &o->emit),
        SS_O_STR(0, "emit-log", &o->emit_log),
        SS_O_DOUBLE(0, "wave-wait", &o->wave_wait, 0, 86400),
        SS_O_STR(0, "nodes-from", &o->pool),
        SS_O_STR(0, "drain", &o->drain),
        SS_O_INT(0, "max-waves", &o->max_waves, 1, 1000000),
        SS_O_STR(0, "pool-label", &o->pool_label),
        SS_O_STR(0, "allow", &o->allow),
        SS_O_CHOICE(0, "targets", &o->targets, target_words),
        SS_O_FLAG('q', "quiet", &o->quiet),
        SS_O_END,
    };
    const ss_opt_spec_t spec = {"consolidate", opts, usage, NULL};
    int st = ss_opt_parse(&spec, argc, argv, loud);
    if (st != SS_OPT_RUN)
        return st;
    if (!o->in || !o->out)
        return ss_opt_fail("consolidate", loud, "%s is required",
                           !o->in ? "-i cluster.h5" : "-o plan.h5");
    if (o->pool && o->drain)
        return ss_opt_fail("consolidate", loud, "--nodes-from and --drain exclude each other");
    ss_error_t err = {{0}};
    if (o->allow && ss_allow_parse(o->allow, &o->allow_bits, &err) < 0)
        return ss_opt_fail("consolidate", loud, "%s", err.text);
    const char *in[3] = {o->in, o->emit, o->emit_log};
    if ((st = ss_opt_distinct_files("consolidate", loud, o->out, in, 3)) != SS_OPT_RUN)
        return st;
    const char *in2[2] = {o->in, o->emit_log};
    if ((st = ss_opt_distinct_files("consolidate", loud, o->emit, in2, 2)) != SS_OPT_RUN)
        return st;
    const char *in3[1] = {o->in};
    return ss_opt_distinct_files("consolidate", loud, o->emit_log, in3, 1);
}

static int32_t node_row(const ss_cluster_t *c, const char *name)
{
    int32_t id = ss_strtab_find(c->strings, name);
    for (int32_t n = 0; id >= 0 && n < c->n_nodes; n++)
        if (c->node_name[n] == id)
            return n;
    return -1;
}

/* The pool label: the one given, or the first of pool_labels any node has. */
static int32_t pool_key(const ss_cluster_t *c, const char *given)
{
    if (given)
        return ss_strtab_find(c->strings, given);
    for (size_t i = 0; i < sizeof pool_labels / sizeof pool_labels[0]; i++) {
        int32_t k = ss_strtab_find(c->strings, pool_labels[i]);
        for (int32_t l = 0; k >= 0 && l < c->n_labels; l++)
            if (c->labels[l].key == k)
                return k;
    }
    return -1;
}

/* The node rows of --drain or --nodes-from into *rows (*n). Returns 0 or 2. */
static int selected(const opts_t *o, const ss_cluster_t *c, int32_t **rows, int32_t *n)
{
    *n = 0;
    *rows = malloc((c->n_nodes ? (size_t)c->n_nodes : 1) * sizeof **rows);
    if (!*rows)
        return 2;
    if (o->drain) {
        char *s = strdup(o->drain), *save = NULL;
        for (char *t = strtok_r(s, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
            int32_t r = node_row(c, t);
            if (r < 0) {
                fprintf(stderr, "shardsched consolidate: --drain: %s: no node %s\n", o->in, t);
                free(s);
                return 2;
            }
            if (*n < c->n_nodes)
                (*rows)[(*n)++] = r;
        }
        free(s);
        return 0;
    }
    ss_match_ctx_t x;
    ss_match_ctx_init(&x, c);
    int32_t key = pool_key(c, o->pool_label), want = ss_strtab_find(c->strings, o->pool), v;
    for (int32_t r = 0; key >= 0 && want >= 0 && r < c->n_nodes; r++)
        if (ss_node_label(&x, c, r, key, &v) && v == want)
            (*rows)[(*n)++] = r;
    if (*n == 0) {
        fprintf(stderr, "shardsched consolidate: --nodes-from %s: %s has no node with %s=%s\n",
                o->pool, o->in, key >= 0 ? ss_cluster_strget(c, key) : "(no pool label)", o->pool);
        return 2;
    }
    return 0;
}

static void summary(const opts_t *o, const ss_cluster_t *c, const ss_cplan_t *p)
{
    int64_t fixed = 0;
    printf("consolidate: %s -> %s: %d nodes freed of %d tried (%d nodes), %d pods moved, %d "
           "waves\n",
           o->in, o->out, (int)p->n_drain, (int)p->candidates, (int)c->n_nodes, (int)p->n_moves,
           (int)p->n_waves);
    for (int r = 1; r < SS_MOVE_COUNT; r++)
        fixed += p->unmovable[r];
    printf("running pods that may not move: %lld\n", (long long)fixed);
    for (int r = 1; r < SS_MOVE_COUNT; r++)
        if (p->unmovable[r])
            printf("  %-44s %lld\n", ss_move_reason_name(r), (long long)p->unmovable[r]);
    if (p->facts_unknown)
        printf("note: %lld running pods have no eviction facts (a format version 4 snapshot): "
               "taken as without local storage, PVCs or eviction annotations\n",
               (long long)p->facts_unknown);
    printf("lower bound: %d nodes hold the running pods\n", (int)ss_consolidate_lower_bound(c));
}

/* --emit-log: the waves as bind's ordered request log, written by its one
 * writer (a plan without waves writes an empty file). */
static int emit_log(const opts_t *o, const ss_cluster_t *c, const ss_cplan_t *p, ss_error_t *err)
{
    ss_bind_log_t l;
    int rc = ss_plan_wave_log(c, p, o->wave_wait, &l, err);
    if (rc == 0)
        rc = ss_bind_log_write(&l, o->emit_log, err);
    if (rc == 0 && !o->quiet)
        printf("consolidate: wrote %d requests for %d waves to %s: run them with shardsched bind "
               "--replay %s --server URL --journal FILE\n",
               (int)l.n, (int)p->n_waves, o->emit_log, o->emit_log);
    ss_bind_log_free(&l);
    return rc;
}

static int run(void *arg)
{
    opts_t *o = arg;
    ss_error_t err = {{0}};
    ss_cluster_t *c = NULL;
    ss_cplan_t plan;
    int32_t *rows = NULL, n = 0;
    int status = 2;
    memset(&plan, 0, sizeof plan);
    if (ss_snapshot_read(o->in, &c, &err) < 0) {
        fprintf(stderr, "shardsched consolidate: %s\n", err.text);
        goto out;
    }
    if ((o->drain || o->pool) && selected(o, c, &rows, &n) != 0)
        goto out;
    ss_consolidate_opts_t co = {o->allow_bits, (int32_t)o->max_waves, rows, n, o->targets};
    if (ss_consolidate(c, &co, &plan, &err) < 0 || ss_plan_write(o->out, c, &plan, &err) < 0 ||
        (o->emit && ss_plan_emit_json(o->emit, c, &plan, &err) < 0) ||
        (o->emit_log && emit_log(o, c, &plan, &err) < 0)) {
        fprintf(stderr, "shardsched consolidate: %s\n", err.text);
        goto out;
    }
    if (!o->quiet)
        summary(o, c, &plan);
    status = 0;
out:
    fflush(stdout);
    free(rows);
    ss_cplan_free(&plan);
    ss_cluster_destroy(c);
    return status;
}

int ss_cmd_consolidate(int argc, char **argv, MPI_Comm comm)
{
    int rank = 0;
    MPI_Comm_rank(comm, &rank);
    opts_t o;
    int st = parse(argc, argv, &o, rank == 0);
    if (st != SS_OPT_RUN)
        return st;
    return ss_dist_on_rank0(comm, "consolidate", run, &o);
}
