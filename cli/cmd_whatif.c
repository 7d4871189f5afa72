/* shardsched whatif (issue 14): what the pending pods would do with more
 * nodes. --add POOL=COUNT schedules them as if COUNT copies of the pool's
 * first node were there; --min-nodes POOL,... finds a small number of new
 * nodes that places every pending pod (or one pod group): first-fit
 * decreasing over the pods a first schedule left unplaced, an expander
 * among pools, then a schedule with the answer to verify it (growing by
 * doubling and bisection when it is short); --group NAME says whether a
 * gang fits now, where, and what it lacks. An MPI program like schedule:
 * every rank reads the whole snapshot and builds the same copies, so every
 * rank ends with the same answer. docs/whatif.md. */
#include <jansson.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

#define CMD "whatif"

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

typedef struct {
    const char *in, *out, *cluster_out, *add, *min_nodes, *group, *pool_size, *pool_label;
    const char *prio_file, *policy;
    int expander, json, quiet;
    int64_t part_nodes, shard_nodes;
    ss_rule_cli_t rules;
} opts_t;

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

/* ---- the run's state ---- */

typedef struct {
    MPI_Comm comm;
    int rank;
    const opts_t *o;
    ss_run_opts_t ro;
    ss_sched_opts_t so;
    ss_cluster_t *c;
    ss_pools_t pools;
    int32_t *add;   /* [pools] --add counts / the answer */
    int32_t *limit; /* [pools] --pool-size (-1: none) */
    uint8_t *use;   /* [pools] --min-nodes' pools */
    int32_t group;  /* --group's index, -1 */
    int32_t *prio;  /* [pools] priority expander's values */
    int32_t schedules;
    /* --min-nodes */
    int minmode;
    int32_t lower_bound, first_pool, unplaceable, target;
    ss_placements_t *pl;  /* the last schedule */
    ss_placements_t *pl0; /* --min-nodes: the first schedule, committed into c */
    ss_whatif_undo_t undo;
    uint8_t *orig_pending; /* [pods] pending in the snapshot */
    uint8_t *leftover;     /* [pods] target pods the first schedule left unplaced */
    int32_t n_leftover;
    int32_t capped; /* left-over pods that only --pool-size kept out */
    int32_t stuck;  /* left-over pods that fit a new node but no number of them placed */
    int verified;   /* the answer's schedule placed every pod new nodes can take */
    double t_read, t_first, t_est, t_verify; /* seconds (stderr only: never in the JSON) */
    int32_t *where; /* [pods] the node of each pending pod at the end, -1 */
} run_t;

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
static int schedule(run_t *r, ss_error_t *err)
{
    ss_layout_t l;
    ss_dist_part_t part;
    ss_layout_build(r->c, r->ro.part_nodes, r->ro.shard_nodes, &l);
    ss_dist_partition(r->comm, &l, &part);
    ss_placements_destroy(r->pl);
    r->pl = NULL;
    r->schedules++;
    return ss_run_schedule(r->comm, &r->ro, r->c, &part, &r->pl, err);
}

/* Replaces the copies by counts (per pool). Not collective: every rank
 * does the same. */
static int set_copies(run_t *r, const int32_t *counts, ss_error_t *err)
{
    ss_whatif_remove(r->c, &r->undo);
    return ss_whatif_add(r->c, &r->pools, counts, &r->undo, err);
}

/* ---- --min-nodes ---- */

/* The pending pods --min-nodes and --group answer for (pod rows). */
static int32_t *target_pods(const run_t *r, int32_t *n)
{
    const ss_cluster_t *c = r->c;
    int32_t *t = malloc(((size_t)c->n_pods + 1) * sizeof *t), k = 0;
    for (int32_t p = 0; t && p < c->n_pods; p++)
        if (c->pod_node[p] < 0 && (r->group < 0 || c->pod_group[p] == r->group))
            t[k++] = p;
    *n = k;
    return t;
}

/* Target pods placed by r->pl. */
static int32_t target_placed(const run_t *r)
{
    int32_t k = 0;
    for (int32_t i = 0; i < r->pl->n; i++)
        k += r->pl->node[i] >= 0 &&
             (r->leftover ? r->leftover[r->pl->pod[i]]
                          : r->group < 0 || r->c->pod_group[r->pl->pod[i]] == r->group);
    return k;
}

/* Expander rounds over the pods rem[0 .. *n) (unplaced by the first
 * schedule): each round estimates every pool not chosen yet, the expander
 * picks one, its pods leave rem. est[k] = the nodes of pool k. */
static int estimate(run_t *r, int32_t *rem, int32_t *n, int32_t *est, ss_error_t *err)
{
    int32_t np = r->pools.n, nrem = *n;
    ss_whatif_option_t *opt = calloc((size_t)np + 1, sizeof *opt);
    uint8_t **fits = calloc((size_t)np + 1, sizeof *fits);
    uint8_t *chosen = calloc((size_t)np + 1, 1);
    int rc = opt && fits && chosen ? 0 : ss_error_set(err, SS_ENOMEM, "out of memory");
    r->first_pool = -1;
    while (rc == 0 && nrem > 0) {
        int32_t no = 0;
        for (int32_t k = 0; rc == 0 && k < np; k++) {
            if (!r->use[k] || chosen[k] || r->limit[k] == 0)
                continue;
            if (!fits[no] && !(fits[no] = malloc((size_t)nrem)))
                rc = ss_error_set(err, SS_ENOMEM, "out of memory");
            opt[no].est.fits = fits[no];
            opt[no].pool = k;
            opt[no].priority = r->prio[k];
            if (rc == 0)
                rc = ss_whatif_ffd(r->c, r->pools.first[k], rem, nrem, r->limit[k], &opt[no].est,
                                   err);
            no++;
        }
        int32_t b = rc == 0 ? ss_whatif_expand(r->o->expander, opt, no) : -1;
        if (b < 0)
            break;
        int32_t k = opt[b].pool, m = 0;
        chosen[k] = 1;
        est[k] = opt[b].est.nodes;
        r->lower_bound += opt[b].est.lower_bound;
        if (r->first_pool < 0)
            r->first_pool = k;
        for (int32_t i = 0; i < nrem; i++)
            if (!opt[b].est.fits[i])
                rem[m++] = rem[i];
        nrem = m;
    }
    *n = nrem;
    for (int32_t k = 0; fits && k < np; k++)
        free(fits[k]);
    free(fits);
    free(opt);
    free(chosen);
    return rc;
}

/* The counts at scale x (64 = the estimate), capped by --pool-size. */
static void scaled(const run_t *r, const int32_t *est, int64_t x, int32_t *cnt)
{
    for (int32_t k = 0; k < r->pools.n; k++) {
        int64_t v = est[k] > 0 ? (est[k] * x + 63) / 64 : 0;
        if (r->limit[k] >= 0 && v > r->limit[k])
            v = r->limit[k];
        cnt[k] = v > 1000000 ? 1000000 : (int32_t)v;
    }
}

/* Schedules with the counts at scale x; *placed: target pods placed. */
static int try_scale(run_t *r, const int32_t *est, int64_t x, int32_t *cnt, int32_t *placed,
                     ss_error_t *err)
{
    scaled(r, est, x, cnt);
    int rc = ss_dist_agree_err(r->comm, set_copies(r, cnt, err), "whatif copies", err);
    if (rc == 0)
        rc = schedule(r, err);
    if (rc < 0)
        return rc;
    *placed = target_placed(r);
    return 0;
}

/* Keeps r->pl as the best so far. */
static void keep(run_t *r, ss_placements_t **best)
{
    ss_placements_destroy(*best);
    *best = r->pl;
    r->pl = NULL;
}

/* Doubling from the estimate (scale 64) until every pod is placed (*hi),
 * --pool-size stops growth, or more nodes place nothing more: then the
 * answer is the smallest scale that placed the most (need lowers to it;
 * r->stuck counts the pods no number of new nodes placed). */
static int grow(run_t *r, const int32_t *est, int32_t *need, int64_t *lo, int64_t *hi,
                ss_placements_t **best, int32_t *cnt, ss_error_t *err)
{
    size_t bytes = (size_t)r->pools.n * sizeof *cnt;
    int32_t *c2 = malloc(bytes + sizeof *c2), placed = 0, prev = 0;
    int64_t lo_prev = 64;
    if (!c2)
        return ss_error_set(err, SS_ENOMEM, "out of memory");
    int rc = try_scale(r, est, 64, cnt, &placed, err);
    *lo = 64;
    *hi = -1;
    if (rc == 0 && placed >= *need)
        *hi = 64;
    if (rc == 0)
        keep(r, best);
    for (int step = 0; rc == 0 && *hi < 0 && step < 16; step++) {
        prev = placed;
        scaled(r, est, *lo, c2);
        scaled(r, est, *lo * 2, cnt);
        if (memcmp(cnt, c2, bytes) == 0)
            break; /* every pool at its --pool-size */
        if ((rc = try_scale(r, est, *lo * 2, cnt, &placed, err)) < 0)
            break;
        if (placed >= *need) {
            *hi = *lo * 2;
            keep(r, best);
        } else if (placed <= prev) { /* stalled: the last scale is the answer */
            *need = prev;
            *hi = *lo;
            *lo = lo_prev;
        } else {
            keep(r, best);
            lo_prev = *lo;
            *lo *= 2;
        }
    }
    r->stuck = r->n_leftover - r->unplaceable - *need;
    free(c2);
    return rc;
}

/* Verifies the estimate by scheduling with it; grows by doubling, then
 * bisects between the last short and the first fitting scale. Leaves the
 * answer's copies in r->c, its placements in r->pl, its counts in r->add.
 * *found: whether an answer was verified (r->stuck pods aside). */
static int verify(run_t *r, const int32_t *est, int *found, ss_error_t *err)
{
    int32_t np = r->pools.n, *cnt = calloc((size_t)np + 1, sizeof *cnt);
    int32_t *chi = calloc((size_t)np + 1, sizeof *chi), placed = 0;
    int32_t need = r->n_leftover - r->unplaceable;
    if (!cnt || !chi) {
        free(cnt);
        free(chi);
        return ss_error_set(err, SS_ENOMEM, "out of memory");
    }
    size_t bytes = (size_t)np * sizeof *cnt;
    int64_t lo = 64, hi = -1;
    ss_placements_t *best = NULL;
    int rc = grow(r, est, &need, &lo, &hi, &best, cnt, err);
    while (rc == 0 && hi > 0 && hi - lo > 1) { /* bisection on the scale */
        int64_t mid = lo + (hi - lo) / 2;
        scaled(r, est, hi, chi);
        scaled(r, est, mid, cnt);
        if (memcmp(cnt, chi, bytes) == 0) {
            hi = mid;
            continue;
        }
        scaled(r, est, lo, chi);
        if (memcmp(cnt, chi, bytes) == 0) {
            lo = mid;
            continue;
        }
        if ((rc = try_scale(r, est, mid, cnt, &placed, err)) < 0)
            break;
        if (placed >= need) {
            hi = mid;
            keep(r, &best);
        } else
            lo = mid;
    }
    if (rc == 0 && hi > 0) {
        scaled(r, est, hi, cnt);
        rc = ss_dist_agree_err(r->comm, set_copies(r, cnt, err), "whatif copies", err);
        ss_placements_destroy(r->pl);
        r->pl = best;
        best = NULL;
        memcpy(r->add, cnt, bytes);
    } else if (rc == 0) /* no answer: report the last try */
        memcpy(r->add, cnt, bytes);
    *found = rc == 0 && hi > 0;
    if (!r->pl) {
        r->pl = best;
        best = NULL;
    }
    ss_placements_destroy(best);
    free(cnt);
    free(chi);
    return rc;
}

/* Makes the first schedule's placements running pods of c (its victims
 * pending again, as their controllers would recreate them), so that the
 * verifying schedules place only the pods left over: t[0 .. m) (flagged in
 * r->leftover). r->pl moves to r->pl0. */
static int commit(run_t *r, const int32_t *t, int32_t m, ss_error_t *err)
{
    ss_cluster_t *c = r->c;
    ss_placements_t *pl = r->pl;
    r->leftover = calloc((size_t)c->n_pods + 1, 1);
    if (!r->leftover)
        return ss_error_set(err, SS_ENOMEM, "out of memory");
    for (int32_t i = 0; i < m; i++)
        r->leftover[t[i]] = 1;
    for (int32_t i = 0; i < pl->n; i++)
        if (pl->node[i] >= 0) {
            c->pod_node[pl->pod[i]] = pl->node[i];
            c->pod_gpu_mask[pl->pod[i]] = pl->gpu_mask[i];
        }
    for (int32_t v = 0; v < pl->n_victims; v++) {
        c->pod_node[pl->victim_pod[v]] = -1;
        c->pod_gpu_mask[pl->victim_pod[v]] = 0;
    }
    r->pl0 = pl;
    r->pl = NULL;
    return 0;
}

/* Of the pods t[0 .. m) no chosen pool took, those that some pool's node
 * would take without --pool-size (r->capped): the rest fit no new node. */
static int count_capped(run_t *r, const int32_t *t, int32_t m, ss_error_t *err)
{
    uint8_t *fits = malloc((size_t)m), *any = calloc((size_t)m, 1);
    int rc = fits && any ? 0 : ss_error_set(err, SS_ENOMEM, "out of memory");
    for (int32_t k = 0; rc == 0 && k < r->pools.n; k++) {
        ss_ffd_t e = {.fits = fits};
        if (!r->use[k] || r->limit[k] < 0)
            continue; /* a pool without a limit took all it could */
        rc = ss_whatif_ffd(r->c, r->pools.first[k], t, m, -1, &e, err);
        for (int32_t i = 0; rc == 0 && i < m; i++)
            any[i] |= fits[i];
    }
    r->capped = 0;
    for (int32_t i = 0; rc == 0 && i < m; i++)
        r->capped += any[i];
    free(fits);
    free(any);
    return rc;
}

/* --min-nodes (or --group that does not fit): first schedule done (r->pl). */
static int min_nodes(run_t *r, int *found, ss_error_t *err)
{
    int32_t n = 0, *t = target_pods(r, &n), np = r->pools.n;
    int32_t *est = calloc((size_t)np + 1, sizeof *est);
    int rc = t && est ? 0 : ss_error_set(err, SS_ENOMEM, "out of memory");
    r->minmode = 1;
    r->target = n;
    int32_t m = 0;
    for (int32_t i = 0, j = 0; rc == 0 && i < n; i++) { /* the unplaced target pods */
        while (r->pl->pod[j] < t[i])
            j++;
        if (r->pl->node[j] < 0)
            t[m++] = t[i];
    }
    r->n_leftover = m;
    if (rc == 0 && m > 0)
        rc = commit(r, t, m, err);
    double t0 = MPI_Wtime();
    if (rc == 0)
        rc = estimate(r, t, &m, est, err);
    if (rc == 0 && m > 0)
        rc = count_capped(r, t, m, err);
    r->unplaceable = m - r->capped;
    int32_t total = 0;
    for (int32_t k = 0; k < np; k++)
        total += est[k];
    *found = 0;
    double t1 = MPI_Wtime();
    r->t_est = t1 - t0;
    if (rc == 0 && total == 0)
        r->verified = 1; /* nothing to add (or nothing that new nodes help) */
    else if (rc == 0 && total > 0)
        rc = verify(r, est, &r->verified, err);
    if (rc == 0 && !r->pl) /* nothing added: the left-over pods' reasons */
        rc = schedule(r, err);
    *found = r->verified && m == 0 && r->stuck == 0;
    r->t_verify = MPI_Wtime() - t1;
    free(est);
    free(t);
    return rc;
}

/* ---- output ---- */

/* The domain the placed pending members of group g share: at the group's
 * topology level when it has one, else the narrowest level they share
 * ("zone=z1"); buf "" when none (or nothing placed). */
static void group_domain(const run_t *r, int32_t g, char *buf, size_t n)
{
    const ss_cluster_t *c = r->c;
    buf[0] = 0;
    int lv_hi =
        c->group_topo_mode[g] != SS_TOPO_MODE_NONE ? c->group_topo_level[g] : c->n_levels - 2;
    int lv_lo = c->group_topo_mode[g] != SS_TOPO_MODE_NONE ? c->group_topo_level[g] : 0;
    for (int lv = lv_hi; lv >= lv_lo; lv--) {
        int32_t v = -2;
        for (int32_t p = 0; p < c->n_pods && v != -1; p++) {
            if (c->pod_group[p] != g || r->where[p] < 0)
                continue;
            int32_t w = c->node_topo[(size_t)r->where[p] * SS_TOPO_STRIDE + lv];
            v = v == -2 || v == w ? w : -1;
        }
        if (v >= 0 && ss_cluster_strget(c, v)[0]) {
            snprintf(buf, n, "%s=%s", ss_topo_level_name(c, lv), ss_cluster_strget(c, v));
            return;
        }
    }
}

/* Per group: pending members, placed ones. */
static json_t *groups_json(const run_t *r, FILE *txt)
{
    const ss_cluster_t *c = r->c;
    json_t *a = json_array();
    int32_t *pend = calloc((size_t)c->n_groups + 1, sizeof *pend);
    int32_t *pl = calloc((size_t)c->n_groups + 1, sizeof *pl);
    for (int32_t p = 0; pend && pl && p < c->n_pods; p++) {
        int32_t g = c->pod_group[p];
        if (g >= 0 && r->orig_pending[p]) {
            pend[g]++;
            pl[g] += r->where[p] >= 0;
        }
    }
    for (int32_t g = 0; a && pend && pl && g < c->n_groups; g++) {
        if (!pend[g])
            continue;
        char dom[300];
        group_domain(r, g, dom, sizeof dom);
        json_t *o = json_object();
        ss_json_set(o, "name", json_string(ss_cluster_strget(c, c->group_name[g])));
        ss_json_set(o, "pods", json_integer(pend[g]));
        ss_json_set(o, "placed", json_boolean(pl[g] == pend[g]));
        ss_json_set(o, "placed_pods", json_integer(pl[g]));
        ss_json_set(o, "domain", pl[g] == pend[g] && dom[0] ? json_string(dom) : json_null());
        json_array_append_new(a, o);
        if (txt && (r->group < 0 || r->group == g))
            fprintf(txt, "  group %s: %d pending pods, %s%s%s\n",
                    ss_cluster_strget(c, c->group_name[g]), pend[g],
                    pl[g] == pend[g] ? "placed" : "not placed",
                    pl[g] == pend[g] && dom[0] ? " in " : "", pl[g] == pend[g] ? dom : "");
    }
    free(pend);
    free(pl);
    return a;
}

/* --group's members: the nodes, the victims (names). */
static void group_detail(const run_t *r, json_t *root, FILE *txt)
{
    const ss_cluster_t *c = r->c;
    json_t *nodes = json_array(), *vict = json_array();
    for (int32_t p = 0; p < c->n_pods; p++)
        if (c->pod_group[p] == r->group && r->orig_pending[p] && r->where[p] >= 0)
            json_array_append_new(nodes,
                                  json_string(ss_cluster_strget(c, c->node_name[r->where[p]])));
    for (int k = 0; k < 2; k++) {
        const ss_placements_t *pl = k ? r->pl : r->pl0;
        for (int32_t v = 0; pl && v < pl->n_victims; v++)
            if (c->pod_group[pl->pod[pl->victim_row[v]]] == r->group) {
                int32_t p = pl->victim_pod[v];
                char b[600];
                snprintf(b, sizeof b, "%s/%s", ss_cluster_strget(c, c->pod_ns[p]),
                         ss_cluster_strget(c, c->pod_name[p]));
                json_array_append_new(vict, json_string(b));
            }
    }
    if (txt) {
        fprintf(txt, "  group %s: on nodes", ss_cluster_strget(c, c->group_name[r->group]));
        for (size_t i = 0; i < json_array_size(nodes); i++)
            fprintf(txt, "%s %s", i ? "," : "", json_string_value(json_array_get(nodes, i)));
        fprintf(txt, "%s; %zu preemption victim(s)\n", json_array_size(nodes) ? "" : " (none)",
                json_array_size(vict));
    }
    json_t *o = json_object();
    ss_json_set(o, "name", json_string(ss_cluster_strget(c, c->group_name[r->group])));
    ss_json_set(o, "nodes", nodes);
    ss_json_set(o, "victims", vict);
    ss_json_set(root, "group", o);
}

/* Pods per added node (text) and the added counts (JSON). */
static void added_out(const run_t *r, json_t *root, FILE *txt)
{
    const ss_cluster_t *c = r->c;
    json_t *add = json_object(), *on = json_object();
    for (int32_t k = 0; k < r->pools.n; k++)
        if (r->add[k] > 0)
            ss_json_set(add, ss_cluster_strget(c, r->pools.name[k]), json_integer(r->add[k]));
    int32_t *per = calloc((size_t)c->n_nodes + 1, sizeof *per), used = 0;
    for (int32_t p = 0; per && p < c->n_pods; p++)
        if (r->orig_pending[p] && r->where[p] >= 0)
            per[r->where[p]]++;
    for (int32_t a = 0; per && a < r->undo.n_added; a++) {
        int32_t nd = r->undo.added[a];
        used += per[nd] > 0;
        ss_json_set(on, ss_cluster_strget(c, c->node_name[nd]), json_integer(per[nd]));
        if (txt && a < 20)
            fprintf(txt, "    %s: %d pod(s)\n", ss_cluster_strget(c, c->node_name[nd]), per[nd]);
    }
    if (txt && r->undo.n_added > 20)
        fprintf(txt, "    ... %d more new nodes\n", r->undo.n_added - 20);
    free(per);
    ss_json_set(root, "added", add);
    ss_json_set(root, "pods_on_added", on);
    ss_json_set(root, "added_used", json_integer(used));
}

/* Whether the outputs are written: not for a --min-nodes without an answer
 * for the pods that new nodes can take. */
static bool writable(const run_t *r)
{
    return !r->minmode || (r->verified && r->capped == 0);
}

/* The summary (text on stdout unless --json or -q) and --json's object. */
static int report(const run_t *r, int found)
{
    const ss_cluster_t *c = r->c;
    const opts_t *o = r->o;
    FILE *txt = o->json || o->quiet ? NULL : stdout;
    json_t *root = json_object(), *why = json_object();
    int32_t placed = 0, pending = 0, nreason[SS_REASON_COUNT] = {0};
    for (int32_t p = 0; p < c->n_pods; p++) {
        pending += r->orig_pending[p];
        placed += r->orig_pending[p] && r->where[p] >= 0;
    }
    for (int32_t i = 0; i < r->pl->n; i++) {
        int32_t why = r->pl->reason[i];
        if (r->pl->node[i] < 0 && r->orig_pending[r->pl->pod[i]] && why >= 0 &&
            why < SS_REASON_COUNT)
            nreason[why]++;
    }
    for (int k = 0; k < SS_REASON_COUNT; k++)
        if (nreason[k])
            ss_json_set(why, ss_json_reason_key(k), json_integer(nreason[k]));
    if (txt) {
        fprintf(txt, "whatif %s: %d nodes + %d new, %d pending pods: %d placed, %d not", o->in,
                c->n_nodes - r->undo.n_added, r->undo.n_added, pending, placed, pending - placed);
        for (int k = 0, f = 1; k < SS_REASON_COUNT; k++)
            if (nreason[k])
                fprintf(txt, "%s%s %d", f-- > 0 ? " (" : ", ", ss_json_reason_key(k), nreason[k]);
        fprintf(txt, "%s\n", pending - placed ? ")" : "");
    }
    ss_json_set(root, "command", json_string("whatif"));
    ss_json_set(root, "input", json_string(o->in));
    ss_json_set(root, "nodes_before", json_integer(c->n_nodes - r->undo.n_added));
    ss_json_set(root, "pending", json_integer(pending));
    ss_json_set(root, "placed", json_integer(placed));
    ss_json_set(root, "unplaced", why);
    if (r->undo.n_added || o->add || r->minmode) {
        if (txt)
            fprintf(txt, "  %d new node(s):\n", r->undo.n_added);
        added_out(r, root, txt);
    }
    if (r->minmode) {
        int32_t total = 0;
        for (int32_t k = 0; k < r->pools.n; k++)
            total += r->add[k];
        const char *pool =
            r->first_pool >= 0 ? ss_cluster_strget(c, r->pools.name[r->first_pool]) : NULL;
        ss_json_set(root, "pool", pool ? json_string(pool) : json_null());
        ss_json_set(root, "nodes", json_integer(total));
        ss_json_set(root, "lower_bound", json_integer(r->lower_bound));
        ss_json_set(root, "target", json_integer(r->target));
        ss_json_set(root, "unplaceable", json_integer(r->unplaceable));
        ss_json_set(root, "schedules", json_integer(r->schedules));
        ss_json_set(root, "capped", json_integer(r->capped));
        ss_json_set(root, "not_helped", json_integer(r->stuck));
        ss_json_set(root, "fits", json_boolean(found));
        if (txt)
            fprintf(txt,
                    "  min-nodes: %d new node(s)%s%s (volume lower bound %d), %d schedule(s); %s\n",
                    total, pool ? ", first pool " : "", pool ? pool : "", r->lower_bound,
                    r->schedules,
                    found          ? "every target pod placed"
                    : !writable(r) ? "NO ANSWER: target pods stay unplaced (see below)"
                                   : "every target pod placed that a new node can take");
        if (txt && r->unplaceable)
            fprintf(txt, "  %d target pod(s) fit no new node of the pools given\n", r->unplaceable);
        if (txt && r->stuck)
            fprintf(txt,
                    "  %d target pod(s) fit a new node, but more new nodes placed none of them "
                    "(another rule: see the reasons)\n",
                    r->stuck);
        if (txt && r->capped)
            fprintf(txt, "  %d target pod(s) would fit, but --pool-size leaves no room\n",
                    r->capped);
    }
    ss_json_set(root, "groups", groups_json(r, txt));
    if (r->group >= 0)
        group_detail(r, root, txt);
    return o->json ? ss_json_emit(CMD, root, 0) : (json_decref(root), 0);
}

/* -o and --cluster-out (collective; after everything else succeeded). */
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
    for (int32_t p = 0; p < c->n_pods; p++)
        r->where[p] = r->orig_pending[p] ? c->pod_node[p] : -1;
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
    rc = ss_dist_agree_err(r->comm, rc, r->o->in, err);
    if (rc == 0)
        rc = ss_dist_agree_err(r->comm, setup(r, err), "whatif", err);
    if (rc == 0 && r->o->add)
        rc = ss_dist_agree_err(r->comm, set_copies(r, r->add, err), "whatif copies", err);
    r->t_read = MPI_Wtime() - t0;
    if (rc == 0)
        rc = schedule(r, err);
    r->t_first = MPI_Wtime() - t0 - r->t_read;
    if (rc < 0)
        return rc;
    if (r->o->min_nodes || (r->group >= 0 && !r->o->add)) {
        r->target = 0;
        int32_t n = 0, *t = target_pods(r, &n);
        free(t);
        r->target = n;
        if (r->o->min_nodes || target_placed(r) < n)
            rc = min_nodes(r, found, err);
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
    if ((rc = ss_dist_fail(comm, CMD, rc, &err)) == 0 && writable(&r)) {
        rc = write_outputs(&r, &err);
        rc = ss_dist_fail(comm, CMD, rc, &err);
    }
    if (rc == 0 && r.rank == 0 && report(&r, found) < 0)
        rc = -1;
    if (rc == 0 && r.rank == 0 && !o.quiet)
        fprintf(stderr,
                "shardsched whatif: read %.2fs, first schedule %.2fs, estimate %.3fs, verify "
                "%.2fs; %d schedule(s), %d rank(s)\n",
                r.t_read, r.t_first, r.t_est, r.t_verify, r.schedules, r.pl ? r.pl->ranks : 0);
    if (rc == 0 && !found && r.rank == 0 && !writable(&r))
        fprintf(stderr,
                "shardsched whatif: no answer fits: %d of %d target pods stay unplaced with the "
                "pools given%s (nothing written)\n",
                r.n_leftover - target_placed(&r), r.target,
                r.capped ? "; --pool-size leaves no room for some" : "");
    else if (rc == 0 && !found && r.rank == 0)
        fprintf(stderr,
                "shardsched whatif: %d of %d target pods fit no new node of the pools given and "
                "%d more are not placed by more new nodes (their reasons are in the summary); "
                "the answer places every other one\n",
                r.unplaceable, r.target, r.stuck);
    ss_placements_destroy(r.pl);
    ss_placements_destroy(r.pl0);
    free(r.orig_pending);
    free(r.leftover);
    free(r.where);
    ss_whatif_undo_free(&r.undo);
    ss_pools_free(&r.pools);
    free(r.add);
    free(r.limit);
    free(r.use);
    free(r.prio);
    ss_cluster_destroy(r.c);
    return rc < 0 || !found ? 1 : 0;
}
