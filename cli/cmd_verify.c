/* shardsched verify: reads a cluster snapshot and a placements file, runs the
 * independent checker (engine/ss_verify.h) and prints every violation (the
 * first 20, then a count) and the run summary, as text or (-o json) one
 * JSON object. A single-process tool: rank 0
 * does the work, the other ranks wait for its status (ss_dist_on_rank0), so
 * that all ranks exit alike under mpirun. Exit 0 iff no violation, 1 on violations,
 * 2 on bad usage or unreadable input. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ss_cli.h"
#include "ss_json_out.h"
#include "ss_opt.h"
#include "ss_rank0.h"
#include "ss_snapshot.h"
#include "ss_mig_relayout.h"
#include "ss_verify.h"
#include "ss_verify_plan.h"
#include "ss_plan_io.h"

typedef struct {
    const char *cluster, *placements, *plan;
    int quiet, format; /* format: FORMAT_TEXT or FORMAT_JSON */
    int pdb_hard;      /* PDB budgets exceeded by victims are violations */
} opts_t;

enum { FORMAT_TEXT, FORMAT_JSON };
static const char *const formats[] = {"text", "json", NULL};

static void usage(FILE *f)
{
    fprintf(f, "usage: shardsched verify -i cluster.h5 -p placements.h5 [-o text|json] [-q]\n"
               "                         [--pdb-hard]\n"
               "       shardsched verify -i cluster.h5 --plan plan.h5\n"
               "\n"
               "Checks every placement against the snapshot with code independent of the\n"
               "scheduler (taints and tolerations, cordoned nodes, nodeSelector, required node\n"
               "affinity, GPU models, cpu/memory/pods/extended resources, per-GPU sharing,\n"
               "gangs all-or-nothing and their required topology domain, reason codes), then\n"
               "replays the placements in commit order (/placements/seq; queue order when the\n"
               "file has none) from the running pods, removing each preemptor's victims first,\n"
               "and checks at each placement: resources, DoNotSchedule topology spread,\n"
               "required pod affinity and anti-affinity in both directions, and that every\n"
               "victim was running, is removed once and has a lower priority than its\n"
               "preemptor. It prints the violations, then a summary: pods placed and\n"
               "unschedulable by reason, utilisation per resource and zone, gangs, stranded\n"
               "GPUs, and the inter-pod rules checked / violated, victims, PDBs exceeded.\n"
               "\n"
               "  -i, --input FILE        cluster snapshot (shardsched gen / import)\n"
               "  -p, --placements FILE   result of shardsched schedule on that snapshot\n"
               "  -o, --output FORMAT     text (default) or json: one JSON object on stdout\n"
               "                          (ok, violations, violations_by_rule, messages,\n"
               "                          pending, placed, unschedulable_by_reason,\n"
               "                          utilisation, gangs, gpus, rules)\n"
               "      --plan FILE         check a consolidate plan instead (docs/consolidate.md):\n"
               "                          each move valid after the earlier ones, PDB budgets\n"
               "                          per wave, no unmovable pod moved, drained nodes empty;\n"
               "                          prints nodes freed, pods moved, waves, lower bound\n"
               "  -q, --quiet             print violations and the verdict only, no summary\n"
               "      --pdb-hard          a PodDisruptionBudget exceeded by the victims is a\n"
               "                          violation (a run with --preempt-with evict); by\n"
               "                          default it is only counted (best effort, as\n"
               "                          kube-scheduler's preemption), unless the file says\n"
               "                          it was computed with --preempt-with evict\n"
               "  -h, --help              this text\n"
               "\n"
               "Exit status: 0 no violation, 1 violations found, 2 bad usage or unreadable input.\n"
               "Under mpirun, rank 0 does the work and every rank exits with its status.\n"
               "The checks are described in docs/architecture.md.\n"
               "\n"
               "Examples:\n"
               "  shardsched verify -i cluster.h5 -p placements.h5\n"
               "  shardsched verify -q -i cluster.h5 -p placements.h5 || echo violations\n"
               "  shardsched verify -i cluster.h5 -p placements.h5 -o json | jq .placed\n");
}

/* Returns SS_OPT_RUN, or the exit status after --help or a usage error.
 * Every rank parses the same argv, so all agree; only rank 0 prints. */
static int parse(int argc, char **argv, opts_t *o, bool loud)
{
    memset(o, 0, sizeof *o);
    const ss_opt_t opts[] = {
        SS_O_STR('i', "input", &o->cluster),
        SS_O_STR('p', "placements", &o->placements),
        SS_O_CHOICE('o', "output", &o->format, formats),
        SS_O_FLAG('q', "quiet", &o->quiet),
        SS_O_FLAG(0, "pdb-hard", &o->pdb_hard),
        SS_O_STR(0, "plan", &o->plan),
        SS_O_END,
    };
    const ss_opt_spec_t spec = {"verify", opts, usage, NULL};
    int st = ss_opt_parse(&spec, argc, argv, loud);
    if (st != SS_OPT_RUN)
        return st;
    if (o->plan && o->placements)
        return ss_opt_fail("verify", loud, "--plan and -p exclude each other");
    if (!o->cluster || (!o->placements && !o->plan))
        return ss_opt_fail("verify", loud, "%s is required",
                           !o->cluster ? "-i cluster.h5" : "-p placements.h5 (or --plan plan.h5)");
    return SS_OPT_RUN;
}

static double pct(int64_t part, int64_t whole)
{
    return whole > 0 ? 100.0 * (double)part / (double)whole : 0.0;
}

static const char *const rule_keys[] = {
#define SS_VRULE_KEY(name, text) #name,
    SS_VRULE_MAP(SS_VRULE_KEY)
#undef SS_VRULE_KEY
};

/* obj[lowercase(upper)] = n */
static int set_count(json_t *obj, const char *upper, int64_t n)
{
    char key[48];
    size_t i;
    for (i = 0; upper[i] && i + 1 < sizeof key; i++)
        key[i] = (char)tolower((unsigned char)upper[i]);
    key[i] = 0;
    return ss_json_set(obj, key, json_integer(n));
}

static int json_summary(json_t *j, const ss_summary_t *s)
{
    static const char *res[SS_RES_COUNT] = {"cpu", "memory", "gpu", "pods"};
    json_t *by = json_object(), *use = json_object(), *g = json_object(), *gpu = json_object();
    int64_t unsched = s->unsched_bad_reason;
    int rc = by && use && g && gpu ? 0 : -1;
    for (int r = 0; r < SS_REASON_COUNT; r++) {
        unsched += s->unsched[r];
        if (s->unsched[r] && rc == 0)
            rc = ss_json_set(by, ss_json_reason_key(r), json_integer(s->unsched[r]));
    }
    if (s->unsched_bad_reason && rc == 0)
        rc = ss_json_set(by, "unknown", json_integer(s->unsched_bad_reason));
    for (int r = 0; r < SS_RES_COUNT && rc == 0; r++)
        rc = ss_json_set(use, res[r],
                         json_pack("{sIsIsIsfsf}", "capacity", (json_int_t)s->res[r].capacity,
                                   "before", (json_int_t)s->res[r].before, "after",
                                   (json_int_t)s->res[r].after, "before_pct",
                                   pct(s->res[r].before, s->res[r].capacity), "after_pct",
                                   pct(s->res[r].after, s->res[r].capacity)));
    if (rc == 0)
        rc = ss_json_set(g, "with_pending", json_integer(s->gangs)) |
             ss_json_set(g, "placed", json_integer(s->gangs_placed)) |
             ss_json_set(g, "rejected", json_integer(s->gangs_rejected)) |
             ss_json_set(gpu, "free", json_real((double)s->free_gpu_milli / SS_GPU_MILLI)) |
             ss_json_set(gpu, "stranded", json_real((double)s->stranded_gpu_milli / SS_GPU_MILLI)) |
             ss_json_set(gpu, "stranded_nodes", json_integer(s->stranded_nodes));
    if (rc == 0)
        rc = ss_json_set(j, "pending", json_integer(s->pending)) |
             ss_json_set(j, "placed", json_integer(s->placed)) |
             ss_json_set(j, "unschedulable", json_integer(unsched));
    rc |= ss_json_set(j, "unschedulable_by_reason", by);
    rc |= ss_json_set(j, "utilisation", use);
    rc |= ss_json_set(j, "gangs", g);
    rc |= ss_json_set(j, "gpus", gpu);
    return rc;
}

/* j.rules: the inter-pod rules' figures. Returns 0 or -1. */
static int json_rules(json_t *j, const ss_verify_rules_t *s)
{
    json_t *r = json_pack(
        "{sssIsIsIsIsIsIsIsIsIsIsb}", "order", s->order_by_seq ? "seq" : "queue", "spread_checked",
        (json_int_t)s->spread_checked, "spread_violated", (json_int_t)s->spread_violated,
        "affinity_checked", (json_int_t)s->affinity_checked, "affinity_violated",
        (json_int_t)s->affinity_violated, "anti_affinity_checked", (json_int_t)s->anti_checked,
        "anti_affinity_violated", (json_int_t)s->anti_violated, "victims", (json_int_t)s->victims,
        "preemptors", (json_int_t)s->preemptors, "pdbs", (json_int_t)s->pdbs, "pdb_exceeded",
        (json_int_t)s->pdb_exceeded, "pdb_hard", s->pdb_hard);
    return r ? ss_json_set(j, "rules", r) : -1;
}

/* The JSON summary: one object on stdout. Returns 0 or -1. */
static int print_json(const opts_t *o, const ss_placements_t *p, const ss_verify_report_t *rep)
{
    json_t *j = json_object(), *by = json_object(), *msgs = json_array();
    int rc = j && by && msgs ? 0 : -1;
    for (int r = 0; r < SS_VRULE_COUNT && rc == 0; r++)
        if (rep->by_rule[r])
            rc = set_count(by, rule_keys[r], rep->by_rule[r]);
    for (int32_t i = 0; i < rep->n_messages && rc == 0; i++)
        rc = json_array_append_new(msgs, json_string(rep->messages[i]));
    if (j && rc == 0)
        rc = ss_json_set(j, "cluster", json_string(o->cluster)) |
             ss_json_set(j, "placements", json_string(o->placements)) |
             ss_json_set(j, "policy", json_string(p->policy)) |
             ss_json_set(j, "exhaustive", json_boolean(p->exhaustive)) |
             ss_json_set(j, "ok", json_boolean(rep->violations == 0)) |
             ss_json_set(j, "violations", json_integer(rep->violations));
    if (j) {
        rc |= ss_json_set(j, "violations_by_rule", by);
        rc |= ss_json_set(j, "messages", msgs);
        by = msgs = NULL;
        if (rc == 0)
            rc = json_summary(j, &rep->summary);
        if (rc == 0)
            rc = json_rules(j, &rep->rules);
    }
    json_decref(by);
    json_decref(msgs);
    return ss_json_emit("verify", j, rc);
}

static void print_header(const opts_t *o, const ss_placements_t *p)
{
    printf("verify: %s with %s (policy %s%s)\n", o->cluster, o->placements,
           p->policy[0] ? p->policy : "?", p->exhaustive ? ", exhaustive" : "");
    if (p->seconds > 0) /* 0: the run did not record its time */
        printf("schedule time: %.3f s\n", p->seconds);
}

/* The work of rank 0; returns the exit status. */
static int run(void *arg)
{
    const opts_t *o = arg;
    ss_error_t err = {{0}};
    ss_cluster_t *c = NULL;
    ss_placements_t *p = NULL;
    ss_verify_report_t rep;
    memset(&rep, 0, sizeof rep);
    int status = 2;
    if (ss_snapshot_read(o->cluster, &c, &err) < 0) {
        fprintf(stderr, "shardsched verify: %s\n", err.text);
        goto out;
    }
    if (ss_placements_read(o->placements, c, &p, &err) < 0) {
        fprintf(stderr, "shardsched verify: %s\n", err.text);
        goto out;
    }
    /* A --mig-relayout plan: its MIG masks count the instances after the
     * re-layout, which must leave every running pod's GPU alone. */
    if (p->n_relayout > 0 && ss_mig_relayout_apply(c, p, &err) < 0) {
        fprintf(stderr, "shardsched verify: %s: MIG re-layout: %s\n", o->placements, err.text);
        goto out;
    }
    if (!p->has_fingerprint)
        fprintf(stderr,
                "shardsched verify: warning: %s has no snapshot fingerprint (written by an older "
                "shardsched); checking it row by row against %s\n",
                o->placements, o->cluster);
    /* A plan computed with --preempt-with evict is held to hard PDBs. */
    int64_t nv = ss_verify_with(c, p, o->pdb_hard || p->pdb_hard, &rep, &err);
    if (nv < 0) {
        fprintf(stderr, "shardsched verify: %s\n", err.text);
        goto out;
    }
    if (o->format == FORMAT_JSON) {
        status = print_json(o, p, &rep) < 0 ? 2 : nv == 0 ? 0 : 1;
        goto out;
    }
    if (!o->quiet)
        print_header(o, p);
    ss_verify_print_violations(stdout, &rep);
    if (!o->quiet)
        ss_verify_print_summary(stdout, &rep);
    if (nv == 0)
        printf("verify: OK, no violation\n");
    else
        printf("verify: FAILED, %lld violation(s)\n", (long long)nv);
    status = nv == 0 ? 0 : 1;
out:
    fflush(stdout);
    ss_verify_report_free(&rep);
    ss_placements_destroy(p);
    ss_cluster_destroy(c);
    return status;
}

/* verify --plan: rank 0's work (engine/ss_verify_plan.c). */
static int run_plan(void *arg)
{
    const opts_t *o = arg;
    ss_error_t err = {{0}};
    ss_cluster_t *c = NULL;
    ss_cplan_t plan;
    ss_vplan_report_t *rep = calloc(1, sizeof *rep);
    int status = 2;
    memset(&plan, 0, sizeof plan);
    int64_t nv = -1;
    if (!rep || ss_snapshot_read(o->cluster, &c, &err) < 0 ||
        ss_plan_read(o->plan, c, &plan, &err) < 0 || (nv = ss_verify_plan(c, &plan, rep, &err)) < 0)
        fprintf(stderr, "shardsched verify: %s\n", rep ? err.text : "out of memory");
    else {
        if (!o->quiet)
            printf("verify: %s with plan %s\n", o->cluster, o->plan);
        ss_verify_plan_print(stdout, rep);
        printf(nv == 0 ? "verify: OK, no violation\n" : "verify: FAILED, %lld violation(s)\n",
               (long long)nv);
        status = nv == 0 ? 0 : 1;
    }
    fflush(stdout);
    free(rep);
    ss_cplan_free(&plan);
    ss_cluster_destroy(c);
    return status;
}

int ss_cmd_verify(int argc, char **argv, MPI_Comm comm)
{
    int rank = 0;
    MPI_Comm_rank(comm, &rank);
    opts_t o;
    int st = parse(argc, argv, &o, rank == 0);
    if (st != SS_OPT_RUN)
        return st;
    return ss_dist_on_rank0(comm, "verify", o.plan ? run_plan : run, &o);
}
