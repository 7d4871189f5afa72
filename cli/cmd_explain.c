/* shardsched explain: why one pod was or was not placed by a schedule run,
 * in the words of kube-scheduler's FailedScheduling event ("0/200 nodes are
 * available: 120 Insufficient cpu, ..."), every reason with its node count
 * (engine/ss_explain.h). The nodes are judged in the state the engine saw
 * when it tried the pod (ss_explain_on: the commits before its position,
 * victims removed with their preemptor),
 * the inter-pod rules included (engine/ss_explain_rules.c). A placed pod
 * gets its node, GPUs, score and every hard inter-pod rule on its node; a
 * gang member its pod group's outcome; a pod with a rule shardsched does not
 * implement, that rule.
 *
 * Single-process: rank 0 reads the files and does the work, the other ranks
 * wait for its status (broadcast), as verify does. Exit 0 when the pod was
 * explained, 1 when it does not exist or the input cannot be read, 2 on bad
 * usage. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ss_cli.h"
#include "ss_opt.h"
#include "ss_rank0.h"
#include "ss_explain.h"
#include "ss_queue.h"
#include "ss_reason.h"
#include "ss_snapshot.h"

#define CMD "shardsched explain"

typedef struct {
    const char *cluster, *placements, *target;
    int json; /* index into formats: 0 text, 1 json */
} opts_t;

static void usage(FILE *f)
{
    fprintf(f, "usage: " CMD " -i cluster.h5 -p placements.h5 [-o json] NAMESPACE/POD\n"
               "\n"
               "Says why a pending pod was or was not placed by 'shardsched schedule', as\n"
               "kube-scheduler's FailedScheduling event does: every node is run through the\n"
               "filters in the state the engine saw when it tried the pod and counted per\n"
               "reason. That state is the running pods plus the placements committed before\n"
               "it (/placements/seq; for an unplaced pod: up to the last commit of a pod\n"
               "ahead of it in the queue), minus the victims of those preemptors.\n"
               "Topology spread and pod (anti-)affinity, both ways, are counted too:\n"
               "\n"
               "  0/200 nodes are available: 3 node(s) were unschedulable, 61 Insufficient cpu,\n"
               "  9 Insufficient memory, 127 node(s) had untolerated taint {gpu: true}. ...\n"
               "\n"
               "A node short of several resources counts once under each. A placed pod gets its\n"
               "node, GPUs, score (fit + node affinity + taint) and each hard inter-pod rule\n"
               "on that node with the count and skew it saw; a pod group member gets the\n"
               "group's outcome (minMember, members placed, topology); a pod with a rule\n"
               "shardsched does not implement gets that rule.\n"
               "\n"
               "  -i, --input FILE        cluster snapshot (shardsched gen / import)\n"
               "  -p, --placements FILE   result of shardsched schedule on that snapshot\n"
               "  -o, --output FORMAT     text (default) or json: one JSON object on stdout\n"
               "  -h, --help              this text\n"
               "\n"
               "Examples:\n"
               "  shardsched gen --nodes 200 --pods 3000 --seed 3 -o cluster.h5\n"
               "  shardsched schedule -i cluster.h5 -o placements.h5\n"
               "  " CMD " -i cluster.h5 -p placements.h5 team-a/train-7-3\n"
               "  " CMD " -i cluster.h5 -p placements.h5 -o json team-a/train-7-3 | jq .message\n"
               "\n"
               "Exit status: 0 explained, 1 no such pod or unreadable input, 2 bad usage.\n"
               "Under mpirun, rank 0 does the work and every rank exits with its status.\n");
}

/* Prints one usage error line (rank 0) and returns 2. */
/* Returns SS_OPT_RUN, or the exit status after --help or a usage error
 * (printed when loud). */
static int parse(int argc, char **argv, opts_t *o, bool loud)
{
    static const char *const formats[] = {"text", "json", NULL};
    memset(o, 0, sizeof *o);
    const ss_opt_t opts[] = {
        SS_O_STR('i', "input", &o->cluster),
        SS_O_STR('p', "placements", &o->placements),
        SS_O_CHOICE('o', "output", &o->json, formats),
        SS_O_END,
    };
    const ss_opt_spec_t spec = {"explain", opts, usage, &o->target};
    int st = ss_opt_parse(&spec, argc, argv, loud);
    if (st != SS_OPT_RUN)
        return st;
    if (!o->cluster || !o->placements)
        return ss_opt_fail("explain", loud, "both -i cluster.h5 and -p placements.h5 are needed");
    if (!o->target)
        return ss_opt_fail("explain", loud, "which pod? give NAMESPACE/POD");
    const char *slash = strchr(o->target, '/');
    if (!slash || slash == o->target || !slash[1])
        return ss_opt_fail("explain", loud, "the pod is named NAMESPACE/POD, not '%s'", o->target);
    return SS_OPT_RUN;
}

/* Index of pod "ns/name" in c, or -1. */
static int32_t find_pod(const ss_cluster_t *c, const char *target)
{
    const char *slash = strchr(target, '/');
    size_t nlen = (size_t)(slash - target);
    char *ns = strndup(target, nlen);
    int32_t ns_id = ns ? ss_strtab_find(c->strings, ns) : -1;
    int32_t name_id = ss_strtab_find(c->strings, slash + 1);
    free(ns);
    if (ns_id < 0 || name_id < 0)
        return -1;
    for (int32_t p = 0; p < c->n_pods; p++)
        if (c->pod_name[p] == name_id && c->pod_ns[p] == ns_id)
            return p;
    return -1;
}

/* What run() found out, for either output format. */
typedef struct {
    const ss_cluster_t *c;
    const ss_placements_t *p;
    const ss_policy_t *policy;
    const char *target;
    int32_t pod, row, position, n_order;
    int reason;
    int counted; /* ex holds node counts */
    ss_explain_t ex;
    char *message;
    ss_explain_score_t score;
    /* the hard inter-pod rules on the pod's node, when placed */
    ss_explain_rule_t *rules;
    int32_t n_rules;
    /* pod group, when the pod is a member */
    int32_t g_pending, g_placed;
} report_t;

static const char *S(const ss_cluster_t *c, int32_t id)
{
    const char *s = ss_cluster_strget(c, id);
    return s ? s : "?";
}

static bool unsupported(int reason)
{
    return (reason >= SS_REASON_UNSUPPORTED_SPREAD && reason <= SS_REASON_UNSUPPORTED_OTHER) ||
           (reason >= SS_REASON_UNSUPPORTED_WORKLOAD_REF &&
            reason <= SS_REASON_UNSUPPORTED_SCHEDULING_GATES);
}

static void group_counts(report_t *r)
{
    const ss_cluster_t *c = r->c;
    int32_t g = c->pod_group[r->pod];
    for (int32_t i = 0; i < r->p->n; i++)
        if (c->pod_group[r->p->pod[i]] == g) {
            r->g_pending++;
            r->g_placed += r->p->node[i] >= 0;
        }
}

static void print_rules(const report_t *r);

static void print_text(const report_t *r)
{
    const ss_cluster_t *c = r->c;
    int32_t node = r->p->node[r->row], g = c->pod_group[r->pod];
    if (node >= 0) {
        printf("pod %s: placed on node %s", r->target, S(c, c->node_name[node]));
        if (r->p->gpu_mask[r->row]) {
            const char *sep = " (GPUs ";
            for (int i = 0; i < 64; i++)
                if (r->p->gpu_mask[r->row] >> i & 1) {
                    printf("%s%d", sep, i);
                    sep = ",";
                }
            printf(")");
        }
        printf("\n");
    } else {
        printf("pod %s: not placed: %s\n", r->target, ss_reason_text(r->reason));
    }
    printf("  tried at queue position %d of %d (priority %d)\n", r->position + 1, r->n_order,
           c->pod_priority[r->pod]);
    if (node >= 0 && r->policy)
        printf("  score %lld = fit %lld (%s) + node affinity %lld + taint %lld; best of %d "
               "feasible node(s): %lld\n",
               (long long)r->score.total, (long long)r->score.fit, r->policy->name,
               (long long)r->score.affinity, (long long)r->score.taint, r->ex.n_feasible,
               (long long)r->ex.best_score);
    if (g >= 0) {
        printf("  pod group %s: minMember %d, %d pending member(s), %d placed",
               S(c, c->group_name[g]), c->group_min_member[g], r->g_pending, r->g_placed);
        if (c->group_topo_mode[g] != SS_TOPO_MODE_NONE)
            printf(", topology %s %s",
                   c->group_topo_mode[g] == SS_TOPO_MODE_REQUIRED ? "required" : "preferred",
                   ss_topo_level_name(c, c->group_topo_level[g]));
        printf("\n");
        if (node < 0 && r->counted)
            printf("  (nodes judged in the state before the group; members' tentative "
                   "placements are not counted)\n");
    }
    if (unsupported(r->reason))
        printf("  the pod (or its group) has a rule shardsched does not implement, so it is "
               "never placed as if the rule were absent; nodes were not tried\n");
    if (r->counted)
        printf("  %s\n", r->message);
    if (node >= 0)
        print_rules(r);
}

static const char *rule_name(int kind)
{
    switch (kind) {
    case SS_XRULE_SPREAD:
        return "spread";
    case SS_XRULE_AFFINITY:
        return "pod affinity";
    case SS_XRULE_ANTI:
        return "pod anti-affinity";
    default:
        return "existing pods' anti-affinity";
    }
}

/* "<key>=<value>", value "(none)" when the node lacks the key. */
static void domain_text(const ss_cluster_t *c, const ss_explain_rule_t *x, char *buf, size_t n)
{
    snprintf(buf, n, "%s=%s", S(c, x->key), x->value >= 0 ? S(c, x->value) : "(none)");
}

/* One line per hard inter-pod rule on the pod's node. */
static void print_rules(const report_t *r)
{
    const ss_cluster_t *c = r->c;
    for (int32_t i = 0; i < r->n_rules; i++) {
        const ss_explain_rule_t *x = &r->rules[i];
        char dom[256];
        domain_text(c, x, dom, sizeof dom);
        printf("  %s %s: %s", x->ok ? "satisfied" : "VIOLATED", rule_name(x->kind), dom);
        if (x->kind == SS_XRULE_SPREAD)
            printf(" holds %d matching pod(s); skew %d + %d (itself) - min %d = %d, maxSkew %d "
                   "(%d eligible domain(s))\n",
                   x->count, x->count, x->self, x->min, x->skew, x->max_skew, x->domains);
        else if (x->kind == SS_XRULE_EXISTING)
            printf(" holds %d pod(s) whose required anti-affinity matches it%s%s%s\n", x->count,
                   x->holder >= 0 ? " (e.g. " : "",
                   x->holder >= 0 ? S(c, c->pod_name[x->holder]) : "", x->holder >= 0 ? ")" : "");
        else
            printf(" holds %d matching pod(s)%s\n", x->count,
                   x->exception ? " (first pod of its kind: no matching pod on any node)" : "");
    }
}

static json_t *json_rules(const report_t *r)
{
    const ss_cluster_t *c = r->c;
    json_t *a = json_array();
    for (int32_t i = 0; a && i < r->n_rules; i++) {
        const ss_explain_rule_t *x = &r->rules[i];
        json_t *o =
            json_pack("{s:s,s:s,s:o,s:i,s:b}", "rule", rule_name(x->kind), "key", S(c, x->key),
                      "value", x->value >= 0 ? json_string(S(c, x->value)) : json_null(), "count",
                      x->count, "ok", x->ok);
        if (o && x->kind == SS_XRULE_SPREAD)
            json_object_update_new(o, json_pack("{s:i,s:i,s:i,s:i,s:i}", "self", x->self, "min",
                                                x->min, "skew", x->skew, "max_skew", x->max_skew,
                                                "domains", x->domains));
        if (o && x->kind == SS_XRULE_AFFINITY)
            json_object_set_new(o, "first_pod_exception", json_boolean(x->exception));
        json_array_append_new(a, o);
    }
    return a;
}

static json_t *json_text(const report_t *r)
{
    const ss_cluster_t *c = r->c;
    int32_t node = r->p->node[r->row], g = c->pod_group[r->pod];
    json_t *o = json_object(), *gpus = json_array(), *reasons = json_array();
    json_object_set_new(o, "pod", json_string(r->target));
    json_object_set_new(o, "placed", json_boolean(node >= 0));
    json_object_set_new(o, "node", node >= 0 ? json_string(S(c, c->node_name[node])) : json_null());
    for (int i = 0; i < 64; i++)
        if (r->p->gpu_mask[r->row] >> i & 1)
            json_array_append_new(gpus, json_integer(i));
    json_object_set_new(o, "gpus", gpus);
    json_object_set_new(o, "reason", json_string(ss_reason_text(r->reason)));
    json_object_set_new(o, "queue_position", json_integer(r->position + 1));
    json_object_set_new(o, "queue_length", json_integer(r->n_order));
    if (r->counted) {
        json_object_set_new(o, "message", json_string(r->message));
        json_object_set_new(o, "nodes", json_integer(r->ex.n_nodes));
        json_object_set_new(o, "feasible", json_integer(r->ex.n_feasible));
        json_object_set_new(o, "unresolvable", json_integer(r->ex.n_unresolvable));
        json_object_set_new(o, "capacity", json_integer(r->ex.n_capacity));
        json_object_set_new(o, "inter_pod_rules", json_integer(r->ex.n_rules));
        for (int32_t i = 0; i < r->ex.n_reasons; i++)
            json_array_append_new(reasons, json_pack("{s:s,s:I}", "reason", r->ex.reasons[i].text,
                                                     "nodes", (json_int_t)r->ex.reasons[i].nodes));
    }
    json_object_set_new(o, "reasons", reasons);
    if (node >= 0 && r->counted)
        json_object_set_new(o, "rules", json_rules(r));
    if (node >= 0 && r->policy)
        json_object_set_new(
            o, "score",
            json_pack("{s:s,s:I,s:I,s:I,s:I,s:I}", "policy", r->policy->name, "total",
                      (json_int_t)r->score.total, "fit", (json_int_t)r->score.fit, "affinity",
                      (json_int_t)r->score.affinity, "taint", (json_int_t)r->score.taint, "best",
                      (json_int_t)r->ex.best_score));
    if (g >= 0)
        json_object_set_new(
            o, "group",
            json_pack("{s:s,s:i,s:i,s:i,s:s,s:s}", "name", S(c, c->group_name[g]), "min_member",
                      c->group_min_member[g], "pending", r->g_pending, "placed", r->g_placed,
                      "topology_mode",
                      c->group_topo_mode[g] == SS_TOPO_MODE_REQUIRED    ? "required"
                      : c->group_topo_mode[g] == SS_TOPO_MODE_PREFERRED ? "preferred"
                                                                        : "none",
                      "topology_level", ss_topo_level_name(c, c->group_topo_level[g])));
    return o;
}

/* Warns on stderr where the counts disagree with what the engine did: an
 * engine/explain mismatch is a bug in one of them. */
static void cross_check(const report_t *r)
{
    const ss_cluster_t *c = r->c;
    int32_t node = r->p->node[r->row], g = c->pod_group[r->pod];
    bool free_choice = g < 0 || c->group_topo_mode[g] == SS_TOPO_MODE_NONE;
    if (!r->counted || !free_choice)
        return;
    if (node < 0 && r->reason != SS_REASON_GANG && r->ex.n_feasible > 0)
        fprintf(stderr, CMD ": warning: %d node(s) look feasible, the engine placed nothing\n",
                r->ex.n_feasible);
    for (int32_t i = 0; node >= 0 && i < r->n_rules; i++)
        if (!r->rules[i].ok) {
            fprintf(stderr, CMD ": warning: the pod's node breaks its %s rule\n",
                    rule_name(r->rules[i].kind));
            break;
        }
    const ss_template_t *tp = &c->templates[c->pod_template[r->pod]];
    if (tp->spread_count > 0 || c->n_pterms > 0 || c->default_spreading || c->locality ||
        r->p->n_victims > 0) { /* the score leaves the inter-pod score terms out */
        if (node >= 0 && r->policy && r->ex.best_node != node)
            fprintf(stderr,
                    CMD ": note: the score shown leaves out the inter-pod score terms (spread "
                        "ScheduleAnyway, default spreading, preferred pod (anti-)affinity, "
                        "locality), so the chosen node need not score best here\n");
        return;
    }
    if (node >= 0 && r->policy && r->ex.best_node != node)
        fprintf(stderr, CMD ": warning: node %s scores higher than the chosen one\n",
                r->ex.best_node >= 0 ? S(c, c->node_name[r->ex.best_node]) : "(none)");
}

/* Counts, scores and prints; the pod is pending. Returns the exit status. */
static int explain_pending(report_t *r, const opts_t *o)
{
    ss_error_t err = {{0}};
    ss_queue_t *q = ss_queue_build(r->c, &err);
    ss_state_t *st = NULL;
    ss_explain_rules_t *rules = NULL;
    int32_t *on = malloc((r->c->n_pods > 0 ? (size_t)r->c->n_pods : 1) * sizeof *on);
    int status = 1;
    if (!on) {
        fprintf(stderr, CMD ": out of memory for %d pods\n", r->c->n_pods);
        goto out;
    }
    if (!q || ss_explain_on(r->c, r->p, q->order, q->n_order, r->pod, on, &r->position, &err) < 0 ||
        ss_explain_rules_create(r->c, on, r->pod, &rules, &err) < 0) {
        fprintf(stderr, CMD ": %s\n", err.text);
        goto out;
    }
    if (!(st = ss_explain_state_on(r->c, r->p, on))) {
        fprintf(stderr, CMD ": out of memory building the state\n");
        goto out;
    }
    r->n_order = q->n_order;
    if (r->c->pod_group[r->pod] >= 0)
        group_counts(r);
    int32_t node = r->p->node[r->row], tmpl = r->c->pod_template[r->pod];
    if (!unsupported(r->reason)) {
        if (ss_explain_nodes_rules(st, tmpl, rules, r->policy, &r->ex, &err) < 0 ||
            !(r->message = ss_explain_message(&r->ex))) {
            fprintf(stderr, CMD ": %s\n", err.text[0] ? err.text : "out of memory");
            goto out;
        }
        r->counted = 1;
        if (node >= 0 && r->policy)
            ss_explain_score(st, tmpl, r->policy, node, &r->score);
        if (node >= 0 && (r->n_rules = ss_explain_rules_detail(rules, node, NULL, 0)) > 0) {
            if (!(r->rules = calloc((size_t)r->n_rules, sizeof *r->rules))) {
                fprintf(stderr, CMD ": out of memory\n");
                goto out;
            }
            ss_explain_rules_detail(rules, node, r->rules, r->n_rules);
        }
    }
    cross_check(r);
    if (o->json) {
        json_t *j = json_text(r);
        char *s = j ? json_dumps(j, JSON_INDENT(2)) : NULL;
        if (s)
            printf("%s\n", s);
        free(s);
        json_decref(j);
        if (!s) {
            fprintf(stderr, CMD ": out of memory writing JSON\n");
            goto out;
        }
    } else {
        print_text(r);
    }
    status = 0;
out:
    ss_explain_rules_destroy(rules);
    ss_state_destroy(st);
    ss_queue_destroy(q);
    free(on);
    return status;
}

/* The work of rank 0; returns the exit status. */
static int run(const opts_t *o)
{
    ss_error_t err = {{0}};
    ss_cluster_t *c = NULL;
    ss_placements_t *p = NULL;
    report_t r;
    memset(&r, 0, sizeof r);
    int status = 1;
    if (ss_snapshot_read(o->cluster, &c, &err) < 0 ||
        ss_placements_read(o->placements, c, &p, &err) < 0) {
        fprintf(stderr, CMD ": %s\n", err.text);
        goto out;
    }
    r = (report_t){.c = c, .p = p, .policy = ss_policy_find(p->policy), .target = o->target};
    r.pod = find_pod(c, o->target);
    if (r.pod < 0) {
        fprintf(stderr, CMD ": no pod '%s' in %s\n", o->target, o->cluster);
        goto out;
    }
    if (c->pod_node[r.pod] >= 0) {
        printf("pod %s: running on node %s before the schedule run (not pending)\n", o->target,
               S(c, c->node_name[c->pod_node[r.pod]]));
        status = 0;
        goto out;
    }
    for (r.row = 0; r.row < p->n && p->pod[r.row] != r.pod; r.row++)
        ;
    r.reason = p->reason[r.row];
    status = explain_pending(&r, o);
out:
    fflush(stdout);
    free(r.message);
    free(r.rules);
    ss_explain_free(&r.ex);
    ss_placements_destroy(p);
    ss_cluster_destroy(c);
    return status;
}

static int run_rank0(void *arg)
{
    return run((const opts_t *)arg);
}

int ss_cmd_explain(int argc, char **argv, MPI_Comm comm)
{
    int rank = 0;
    MPI_Comm_rank(comm, &rank);
    opts_t o;
    int st = parse(argc, argv, &o, rank == 0);
    if (st != SS_OPT_RUN)
        return st;
    return ss_dist_on_rank0(comm, "explain", run_rank0, &o);
}
