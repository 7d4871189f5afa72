/* shardsched whatif (issue 14): what the pending pods would do with more
 * nodes. This file: the options, the pools they name, the priority
 * expander's file, and the run (read, the first schedule, --add's copies,
 * the outputs). --min-nodes' search is cmd_whatif_search.c, the summary and
 * the JSON cmd_whatif_report.c (cli/cmd_whatif.h). An MPI program like
 * schedule: every rank reads the whole snapshot and builds the same copies,
 * so every rank ends with the same answer. docs/whatif.md. */
#include <jansson.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd_whatif.h"
#include "ss_cli.h"
#include "ss_dist.h"
#include "ss_json_out.h"
#include "ss_opt.h"
#include "ss_reason.h"
#include "ss_run.h"
#include "ss_snapshot.h"
#include "ss_snapshot_mpi.h"
#include "ss_whatif.h"
#include "ss_yaml.h"

#define CMD SS_WI_CMD

static void usage(FILE *f)
{
    fprintf(f,
            "usage: shardsched whatif -i cluster.h5 [--add POOL=COUNT[,POOL=COUNT...]]\n"
            "                         [--min-nodes POOL[,POOL...]] [--group NAME]\n"
            "                         [--pool-size POOL=N[,...]] [--pool-label KEY]\n"
            "                         [--expander least-waste|most-pods|priority]\n"
            "                         [--expander-priorities FILE] [--json] [-o placements.h5]\n"
            "                         [--cluster-out copy.h5] [--policy NAME] [-q]\n\n"
            "What the pending pods would do with more nodes. A node's pool is the value of\n"
            "its pool label (--pool-label KEY; default the first present of\n"
            "karpenter.sh/nodepool, cloud.google.com/gke-nodepool, eks.amazonaws.com/nodegroup,\n"
            "kubernetes.azure.com/agentpool, pool). New nodes are copies of the pool's first\n"
            "node (capacity, labels, taints, GPUs and MIG layout), named POOL-whatif-K.\n\n"
            "  -i, --input FILE     cluster snapshot\n"
            "  --add POOL=COUNT,... schedule as if COUNT more nodes of each pool were there\n"
            "  --min-nodes POOL,... a small number of new nodes from these pools that places\n"
            "                       every pending pod (or --group's pods): first-fit\n"
            "                       decreasing, verified by a schedule; prints the volume\n"
            "                       lower bound beside it. Exit 1 when no answer fits\n"
            "  --group NAME         the pod group (gang) to answer for: does it fit now, on\n"
            "                       which nodes and domain; if not, what it lacks (the pools of\n"
            "                       --min-nodes, or every pool)\n"
            "  --pool-size POOL=N   at most N new nodes of POOL (a pre-warmed pool's size)\n"
            "  --pool-label KEY     the node label that names a node's pool\n"
            "  --expander NAME      how --min-nodes chooses among pools (Cluster Autoscaler's):\n"
            "                       least-waste (default), most-pods, priority\n"
            "  --expander-priorities FILE  the priority expander's ConfigMap (data.priorities:\n"
            "                       priority -> list of regexes of pool names)\n"
            "  --json               one JSON object on stdout instead of the summary\n"
            "  -o, --output FILE    the placements of the cluster copy (with the new nodes)\n"
            "  --cluster-out FILE   the cluster copy itself, so that `verify -i FILE -p OUT`\n"
            "                       checks the placements\n"
            "  --policy NAME        placement policy (default least-allocated)\n"
            "  -q, --quiet          no summary (errors still go to stderr)\n"
            "  --partition-nodes N, --shard-nodes N  as schedule\n" SS_RULE_HELP
            "  -h, --help           this text\n\n"
            "Without --add and --min-nodes it reports the cluster as it is.\n"
            "Exit status: 0 done, 1 failed (or no answer fits), 2 bad usage.\n\n"
            "Examples:\n"
            "  shardsched whatif -i cluster.h5\n"
            "  shardsched whatif -i cluster.h5 --add general=20,gpu=4 -o p.h5 --cluster-out c2.h5\n"
            "  shardsched whatif -i cluster.h5 --min-nodes general --json\n"
            "  mpirun -n 2 shardsched whatif -i cluster.h5 --min-nodes general,high-memory \\\n"
            "      --expander priority --expander-priorities priorities.yaml --pool-size gpu=16\n"
            "  shardsched whatif -i cluster.h5 --group train-4096 --min-nodes gpu\n");
}

/* Checks the syntax of a POOL=COUNT list (counts: lo .. 1,000,000). */
static int check_pairs(const char *opt, const char *s, int need_count, int64_t lo, bool loud)
{
    const char *p = s;
    while (*p) {
        const char *e = strchr(p, ','), *end = e ? e : p + strlen(p);
        const char *eq = memchr(p, '=', (size_t)(end - p));
        if (end == p || eq == p)
            return ss_opt_fail(CMD, loud, "%s: empty pool name in '%s'", opt, s);
        if (need_count) {
            char *q;
            if (!eq)
                return ss_opt_fail(CMD, loud, "%s: '%.*s' is not POOL=COUNT", opt, (int)(end - p),
                                   p);
            long long v = strtoll(eq + 1, &q, 10);
            if (q != end || eq + 1 == end || v < lo || v > 1000000)
                return ss_opt_fail(
                    CMD, loud, "%s: bad COUNT '%.*s' for pool %.*s (an integer %lld..1000000)", opt,
                    (int)(end - eq - 1), eq + 1, (int)(eq - p), p, (long long)lo);
        } else if (eq)
            return ss_opt_fail(CMD, loud, "%s: '%.*s' is a pool name, not POOL=COUNT", opt,
                               (int)(end - p), p);
        p = e ? e + 1 : end;
        if (e && !*p)
            return ss_opt_fail(CMD, loud, "%s: trailing ',' in '%s'", opt, s);
    }
    return SS_OPT_RUN;
}

static int parse(int argc, char **argv, opts_t *o, bool loud)
{
    const ss_opt_t opts[] = {
        SS_O_STR('i', "input", &o->in),
        SS_O_STR('o', "output", &o->out),
        SS_O_STR(0, "cluster-out", &o->cluster_out),
        SS_O_STR(0, "add", &o->add),
        SS_O_STR(0, "min-nodes", &o->min_nodes),
        SS_O_STR(0, "group", &o->group),
        SS_O_STR(0, "pool-size", &o->pool_size),
        SS_O_STR(0, "pool-label", &o->pool_label),
        SS_O_CHOICE(0, "expander", &o->expander, ss_expander_names),
        SS_O_STR(0, "expander-priorities", &o->prio_file),
        SS_O_FLAG(0, "json", &o->json),
        SS_O_FLAG('q', "quiet", &o->quiet),
        SS_O_STR(0, "policy", &o->policy),
        SS_O_INT(0, "partition-nodes", &o->part_nodes, 1, 100000000),
        SS_O_INT(0, "shard-nodes", &o->shard_nodes, 1, 100000000),
        SS_O_RULES(&o->rules),
        SS_O_END,
    };
    const ss_opt_spec_t spec = {CMD, opts, usage, NULL};
    memset(o, 0, sizeof *o);
    o->policy = "least-allocated";
    ss_rule_cli_init(&o->rules);
    int st = ss_opt_parse(&spec, argc, argv, loud);
    if (st != SS_OPT_RUN)
        return st;
    if (!o->in)
        return ss_opt_fail(CMD, loud, "-i FILE is required");
    if (o->add && o->min_nodes)
        return ss_opt_fail(CMD, loud, "--add and --min-nodes do not go together");
    if (o->add && (st = check_pairs("--add", o->add, 1, 0, loud)) != SS_OPT_RUN)
        return st;
    if (o->min_nodes && (st = check_pairs("--min-nodes", o->min_nodes, 0, 0, loud)) != SS_OPT_RUN)
        return st;
    if (o->pool_size && (st = check_pairs("--pool-size", o->pool_size, 1, 0, loud)) != SS_OPT_RUN)
        return st;
    if (o->pool_size && !o->min_nodes && !o->group)
        return ss_opt_fail(CMD, loud, "--pool-size needs --min-nodes or --group");
    if (o->expander == SS_EXP_PRIORITY && !o->prio_file)
        return ss_opt_fail(CMD, loud, "--expander priority needs --expander-priorities FILE");
    if (o->prio_file && o->expander != SS_EXP_PRIORITY)
        return ss_opt_fail(CMD, loud, "--expander-priorities needs --expander priority");
    if (o->out && SS_OPT_DISTINCT(CMD, loud, o->out, o->in) != SS_OPT_RUN)
        return 2;
    if (o->cluster_out && (SS_OPT_DISTINCT(CMD, loud, o->cluster_out, o->in, o->out) != SS_OPT_RUN))
        return 2;
    return ss_opt_policy(CMD, o->policy, loud);
}

/* The pool of each NAME[=N] of list s into counts (or a use mask). */
static int pools_of(run_t *r, const char *opt, const char *s, int32_t *counts, uint8_t *use,
                    ss_error_t *err)
{
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", s);
    for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(t, '=');
        if (eq)
            *eq = 0;
        int32_t k = ss_pools_index(&r->pools, r->c, t);
        if (k < 0) {
            char known[512] = "";
            for (int32_t i = 0; i < r->pools.n && strlen(known) < 400; i++)
                snprintf(known + strlen(known), sizeof known - strlen(known), "%s%s", i ? ", " : "",
                         ss_cluster_strget(r->c, r->pools.name[i]));
            return ss_error_set(
                err, SS_EINVAL, "%s: %s: no node of %s has pool label %s=%s (pools: %s)", r->o->in,
                opt, r->o->in,
                r->pools.label >= 0 ? ss_cluster_strget(r->c, r->pools.label) : "(none found)", t,
                r->pools.n ? known : "none");
        }
        if (counts)
            counts[k] = eq ? (int32_t)atol(eq + 1) : 0;
        if (use)
            use[k] = 1;
    }
    return 0;
}

static char *slurp(const char *path, size_t *len, ss_error_t *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        ss_error_set(err, SS_EIO, "%s: cannot open the priorities file", path);
        return NULL;
    }
    char *buf = NULL;
    size_t cap = 0, n = 0, k;
    do {
        if (n + 4096 > cap) {
            char *nb = realloc(buf, cap = cap * 2 + 8192);
            if (!nb) {
                free(buf);
                fclose(f);
                ss_error_set(err, SS_ENOMEM, "%s: out of memory", path);
                return NULL;
            }
            buf = nb;
        }
        n += k = fread(buf + n, 1, cap - n - 1, f);
    } while (k > 0);
    fclose(f);
    buf[n] = 0;
    *len = n;
    return buf;
}

/* One priority: the highest matching pattern of pools' names. */
static int prio_apply(run_t *r, const char *key, json_t *list, ss_error_t *err)
{
    char *q;
    long v = strtol(key, &q, 10);
    if (*q || q == key || !json_is_array(list))
        return ss_error_set(err, SS_EFORMAT,
                            "%s: priorities: '%s' is not an integer priority with a list of "
                            "regular expressions",
                            r->o->prio_file, key);
    size_t i;
    json_t *pat;
    json_array_foreach(list, i, pat)
    {
        regex_t re;
        if (!json_is_string(pat) ||
            regcomp(&re, json_string_value(pat), REG_EXTENDED | REG_NOSUB) != 0)
            return ss_error_set(err, SS_EFORMAT,
                                "%s: priorities: priority %ld: entry %zu is not a valid regular "
                                "expression",
                                r->o->prio_file, v, i);
        for (int32_t k = 0; k < r->pools.n; k++)
            if (regexec(&re, ss_cluster_strget(r->c, r->pools.name[k]), 0, NULL, 0) == 0 &&
                v > r->prio[k])
                r->prio[k] = (int32_t)v;
        regfree(&re);
    }
    return 0;
}

/* --expander-priorities: CA's ConfigMap (data.priorities, YAML text) or
 * the map itself. */
static int read_priorities(run_t *r, ss_error_t *err)
{
    size_t len = 0;
    char *buf = slurp(r->o->prio_file, &len, err);
    if (!buf)
        return SS_EIO; /* slurp set the message (SS_EIO or SS_ENOMEM) */
    ss_yaml_t *y = NULL, *y2 = NULL;
    int rc = ss_yaml_load(r->o->prio_file, buf, len, &y, err);
    json_t *doc = rc == 0 && ss_yaml_count(y) ? ss_yaml_doc(y, 0) : NULL;
    json_t *pr = json_object_get(json_object_get(doc, "data"), "priorities");
    if (rc == 0 && json_is_string(pr)) {
        const char *s = json_string_value(pr);
        rc = ss_yaml_load(r->o->prio_file, s, strlen(s), &y2, err);
        doc = rc == 0 && ss_yaml_count(y2) ? ss_yaml_doc(y2, 0) : NULL;
    }
    if (rc == 0 && !json_is_object(doc))
        rc = ss_error_set(err, SS_EFORMAT,
                          "%s: no priorities: expected a ConfigMap with data.priorities (YAML: "
                          "priority -> list of regular expressions) or that map",
                          r->o->prio_file);
    const char *key;
    json_t *val;
    if (rc == 0)
        json_object_foreach(doc, key, val) if (rc == 0) rc = prio_apply(r, key, val, err);
    ss_yaml_free(y2);
    ss_yaml_free(y);
    free(buf);
    return rc;
}

/* Resolves the pools named by the options (every rank alike). */
static int setup(run_t *r, ss_error_t *err)
{
    const opts_t *o = r->o;
    int rc = ss_pools_find(r->c, o->pool_label, &r->pools, err);
    int32_t n = r->pools.n;
    if (rc < 0)
        return rc;
    r->add = calloc((size_t)n + 1, sizeof *r->add);
    r->limit = malloc(((size_t)n + 1) * sizeof *r->limit);
    r->use = calloc((size_t)n + 1, 1);
    r->prio = malloc(((size_t)n + 1) * sizeof *r->prio);
    if (!r->add || !r->limit || !r->use || !r->prio)
        return ss_error_set(err, SS_ENOMEM, "out of memory");
    for (int32_t k = 0; k < n; k++) {
        r->limit[k] = -1;
        r->prio[k] = INT32_MIN;
    }
    if (o->add && (rc = pools_of(r, "--add", o->add, r->add, NULL, err)) < 0)
        return rc;
    if (o->min_nodes && (rc = pools_of(r, "--min-nodes", o->min_nodes, NULL, r->use, err)) < 0)
        return rc;
    if (!o->min_nodes)
        memset(r->use, 1, (size_t)n);
    if (o->pool_size && (rc = pools_of(r, "--pool-size", o->pool_size, r->limit, NULL, err)) < 0)
        return rc;
    r->group = -1;
    for (int32_t g = 0; o->group && g < r->c->n_groups; g++)
        if (strcmp(ss_cluster_strget(r->c, r->c->group_name[g]), o->group) == 0)
            r->group = g;
    if (o->group && r->group < 0)
        return ss_error_set(err, SS_EINVAL, "%s: --group: no pod group named %s", o->in, o->group);
    if ((o->min_nodes || o->group) && n == 0)
        return ss_error_set(err, SS_EINVAL, "%s: no node has a pool label (%s)", o->in,
                            o->pool_label ? o->pool_label : "karpenter.sh/nodepool, ..., pool");
    if (o->prio_file && (rc = read_priorities(r, err)) < 0)
        return rc;
    return 0;
}

/* Schedules r->c as it is now into *pl (replacing it). Collective. */
static int write_outputs(run_t *r, ss_error_t *err)
{
    int rc = 0;
    if (r->o->out)
        rc = ss_placements_write_mpi(r->o->out, r->comm, r->c, r->pl, err);
    if (rc == 0 && r->o->cluster_out)
        rc = ss_dist_agree_err(r->comm,
                               r->rank == 0 ? ss_snapshot_write(r->o->cluster_out, r->c, err) : 0,
                               r->o->cluster_out, err);
    return rc;
}

/* r->where: the node of every pod pending in the snapshot at the end
 * (committed by the first schedule, or placed by the last), -1. */
static int fill_where(run_t *r, ss_error_t *err)
{
    const ss_cluster_t *c = r->c;
    if (!(r->where = malloc(((size_t)c->n_pods + 1) * sizeof *r->where)))
        return ss_error_set(err, SS_ENOMEM, "out of memory");
    for (int32_t p = 0; p < c->n_pods; p++) /* the copies' DaemonSet pods: not pending */
        r->where[p] = p < r->n_pods0 && r->orig_pending[p] ? c->pod_node[p] : -1;
    for (int32_t i = 0; i < r->pl->n; i++)
        if (r->orig_pending[r->pl->pod[i]])
            r->where[r->pl->pod[i]] = r->pl->node[i];
    return 0;
}

/* Reads, sets up, schedules, answers. *found: --min-nodes' answer fits. */
static int run(run_t *r, int *found, ss_error_t *err)
{
    *found = 1;
    double t0 = MPI_Wtime();
    int rc = ss_snapshot_read(r->o->in, &r->c, err);
    if (rc == 0 && !(r->orig_pending = calloc((size_t)r->c->n_pods + 1, 1)))
        rc = ss_error_set(err, SS_ENOMEM, "out of memory");
    for (int32_t p = 0; rc == 0 && p < r->c->n_pods; p++)
        r->orig_pending[p] = r->c->pod_node[p] < 0;
    r->n_pods0 = rc == 0 ? r->c->n_pods : 0;
    rc = ss_dist_agree_err(r->comm, rc, r->o->in, err);
    if (rc == 0)
        rc = ss_dist_agree_err(r->comm, setup(r, err), "whatif", err);
    if (rc == 0 && r->o->add)
        rc = ss_dist_agree_err(r->comm, ss_wi_set_copies(r, r->add, err), "whatif copies", err);
    r->t_read = MPI_Wtime() - t0;
    if (rc == 0)
        rc = ss_wi_schedule(r, err);
    r->t_first = MPI_Wtime() - t0 - r->t_read;
    if (rc < 0)
        return rc;
    if (r->o->min_nodes || (r->group >= 0 && !r->o->add)) {
        r->target = 0;
        int32_t n = 0, *t = ss_wi_target_pods(r, &n);
        free(t);
        r->target = n;
        if (r->o->min_nodes || ss_wi_target_placed(r) < n)
            rc = ss_wi_min_nodes(r, found, err);
    }
    return rc < 0 ? rc : fill_where(r, err);
}

int ss_cmd_whatif(int argc, char **argv, MPI_Comm comm)
{
    opts_t o;
    run_t r;
    memset(&r, 0, sizeof r);
    MPI_Comm_rank(comm, &r.rank);
    int prc = parse(argc, argv, &o, r.rank == 0);
    if (prc != SS_OPT_RUN)
        return prc;
    r.comm = comm;
    r.o = &o;
    r.pools.label = -1;
    ss_rule_cli_get(&o.rules, &r.so);
    r.ro = (ss_run_opts_t){ss_policy_find(o.policy),
                           (int32_t)o.part_nodes,
                           (int32_t)o.shard_nodes,
                           0,
                           NULL,
                           NULL,
                           &r.so,
                           1};
    ss_error_t err = {""};
    int found = 1;
    int rc = run(&r, &found, &err);
    if ((rc = ss_dist_fail(comm, CMD, rc, &err)) == 0 && ss_wi_writable(&r)) {
        rc = write_outputs(&r, &err);
        rc = ss_dist_fail(comm, CMD, rc, &err);
    }
    if (rc == 0 && r.rank == 0 && ss_wi_report(&r, found) < 0)
        rc = -1;
    if (rc == 0 && r.rank == 0 && !o.quiet)
        fprintf(stderr,
                "shardsched whatif: read %.2fs, first schedule %.2fs, victims %.2fs, estimate "
                "%.3fs, search and verify %.2fs (probes %.2fs); %d schedule(s) of the cluster, %d "
                "of probes, %d rank(s)\n",
                r.t_read, r.t_first, r.t_settle, r.t_est, r.t_verify, r.t_probe, r.schedules,
                r.probes, r.pl ? r.pl->ranks : 0);
    if (rc == 0 && !found && r.rank == 0 && !ss_wi_writable(&r))
        fprintf(stderr,
                "shardsched whatif: no answer fits: %d of %d target pods stay unplaced with the "
                "pools given%s (nothing written)\n",
                r.n_leftover - ss_wi_target_placed(&r), r.target,
                r.capped ? "; --pool-size leaves no room for some" : "");
    else if (rc == 0 && !found && r.rank == 0)
        fprintf(stderr,
                "shardsched whatif: %d of %d target pods fit no new node of the pools given and "
                "%d more are not placed by more new nodes (their reasons are in the summary); "
                "the answer places every other one\n",
                r.unplaceable, r.target, r.stuck);
    ss_placements_destroy(r.pl);
    ss_placements_destroy(r.pl0);
    ss_placements_destroy(r.pl1);
    free(r.orig_pending);
    free(r.leftover);
    free(r.where);
    free(r.probe_pods);
    ss_whatif_undo_free(&r.undo);
    ss_pools_free(&r.pools);
    free(r.add);
    free(r.limit);
    free(r.use);
    free(r.prio);
    ss_cluster_destroy(r.c);
    return rc < 0 || !found ? 1 : 0;
}
