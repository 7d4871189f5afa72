/* shardsched bind: placements into Kubernetes Bindings, written out
 * (--emit) or posted to an API server (--server). A single-process tool:
 * under mpirun only rank 0 reads, writes and posts, so that nothing is bound
 * twice; the other ranks wait and return the same status (ss_dist_on_rank0). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ss_bind.h"
#include "ss_cli.h"
#include "ss_opt.h"
#include "ss_progress.h"
#include "ss_rank0.h"
#include "ss_snapshot.h"
#include "ss_mig_relayout.h"
#include "ss_verify.h"

static void usage(FILE *f)
{
    fputs("usage: shardsched bind -i cluster.h5 -p placements.h5 [-q]\n"
          "                       (--emit FILE|- [--ndjson] | --server URL [HTTP options])\n"
          "       shardsched bind --replay LOG --server URL [HTTP options]\n"
          "\n"
          "Turns the placements into Kubernetes Bindings. The placed members of a pod group\n"
          "are bound when the group has at least minMember members placed or running;\n"
          "a group below minMember is never bound. Placements with preemption victims are\n"
          "an ordered request log instead (docs/kubernetes.md): per preemptor, set its\n"
          "nominatedNodeName, remove its victims, wait until they are gone, then bind.\n"
          "Placements with MIG re-layouts (schedule --mig-relayout) are a request log too:\n"
          "per re-laid-out node, set nvidia.com/mig.config, wait for the MIG manager, then\n"
          "bind the node's pods (docs/mig.md). consolidate --emit-log writes a plan's\n"
          "waves as a request log: per wave, cordon its nodes, evict its pods, wait for\n"
          "the replacements and the budgets; a refusal stops the plan at its wave\n"
          "(docs/consolidate.md).\n"
          "\n"
          "  -i, --input FILE         cluster snapshot the placements were computed on\n"
          "  -p, --placements FILE    result of shardsched schedule\n"
          "  --emit FILE              write the Bindings as a v1 List for\n"
          "                           `kubectl create -f FILE`; - = stdout\n"
          "  --ndjson                 one Binding per line instead of a List (refused for\n"
          "                           a plan with victims)\n"
          "                           (with victims, --emit writes the request log)\n"
          "  --replay LOG             execute a request log written by --emit (with\n"
          "                           --server; -i and -p are not needed)\n"
          "  --preempt-with delete|evict\n"
          "                           remove victims by DELETE (default; after the\n"
          "                           DisruptionTarget condition, as kube-scheduler) or\n"
          "                           by policy/v1 Eviction (PDBs are enforced; refused\n"
          "                           for a plan with victims that schedule computed\n"
          "                           without --preempt-with evict, i.e. soft PDBs)\n"
          "  --allow-soft-pdb         evict a soft-PDB plan's victims anyway (the API\n"
          "                           server may refuse some; their preemptors stay unbound)\n"
          "  --evict-wait S           how long a preemptor waits for its victims to be\n"
          "                           gone, else it is not bound (default 60)\n"
          "  --binder kube|godel      kube (default): Binding objects; godel: per pod a\n"
          "                           merge patch of its godel.bytedance.com annotations\n"
          "                           (pod-state assumed, selected-scheduler, assumed-node\n"
          "                           or, when it preempts, nominated-node with the\n"
          "                           victims) for Gödel's binder; always a request log\n"
          "  --godel-scheduler NAME   the selected-scheduler value (default shardsched)\n"
          "  --write-status VERSION   per gang left below minMember, a status patch of its\n"
          "                           scheduling.k8s.io/VERSION PodGroup (v1alpha2:\n"
          "                           PodGroupScheduled; v1alpha3, v1beta1:\n"
          "                           PodGroupInitiallyScheduled) False, Unschedulable,\n"
          "                           with the engine's counts and reasons; written with\n"
          "                           --emit, sent with --server (a request log)\n"
          "  --mig-wait S             placements with MIG re-layouts: how long to wait,\n"
          "                           after setting a node's nvidia.com/mig.config, for\n"
          "                           nvidia.com/mig.config.state=success and the new\n"
          "                           allocatable, else its pods are not bound (default 300)\n"
          "  --server URL             POST each to\n"
          "                           URL/api/v1/namespaces/NS/pods/NAME/binding\n"
          "                           (GET URL/api must answer a Kubernetes API first)\n"
          "                           (e.g. http://127.0.0.1:8001 with `kubectl proxy`)\n"
          "  --token-file F           bearer token for the API server (one line; one\n"
          "                           trailing newline allowed)\n"
          "  --ca-file F              CA bundle to verify an https server\n"
          "  --insecure-skip-tls-verify\n"
          "  --concurrency N          requests in flight, 1..4096 (default 16)\n"
          "  --qps Q                  requests started per second (default: unlimited)\n"
          "  --journal FILE           record confirmed bindings (bound, or already bound\n"
          "                           to its node or another); a rerun skips them and\n"
          "                           posts the rest; locked; another run's journal is\n"
          "                           refused (crash-safe)\n"
          "  --timeout S              per request, seconds (default 30)\n"
          "  --max-attempts N         per binding, 1..100 (default 8)\n"
          "  --max-backoff S          cap of the retry backoff, seconds (default 10)\n"
          "  --seed S                 seed of the retry jitter (default 1)\n"
          "  -q, --quiet              no 'wrote N bindings' line and no progress\n"
          "  -h, --help               this text\n"
          "\n"
          "Exit status 0 iff every binding was bound (201) or already bound to its node\n"
          "(409); 1 on failures, unknown outcomes or pods bound elsewhere; 2 on bad usage.\n"
          "Under mpirun only rank 0 binds (docs/kubernetes.md).\n"
          "\n"
          "Examples:\n"
          "  shardsched bind -i cluster.h5 -p placements.h5 --emit bindings.json\n"
          "  shardsched bind -i cluster.h5 -p placements.h5 --emit - --ndjson | head\n"
          "  shardsched bind -i cluster.h5 -p placements.h5 --emit plan.jsonl \\\n"
          "      --preempt-with evict && shardsched bind --replay plan.jsonl \\\n"
          "      --server http://127.0.0.1:8001 --journal bind.journal\n"
          "  kubectl proxy & shardsched bind -i cluster.h5 -p placements.h5 \\\n"
          "      --server http://127.0.0.1:8001 --journal bind.journal\n",
          f);
}

typedef struct {
    const char *in, *placements, *emit, *replay, *preempt_with, *binder;
    int ndjson, quiet, allow_soft_pdb;
    ss_bind_opts_t http;
} bind_args_t;

/* --binder, --godel-scheduler, --write-status (io/ss_bind_godel.c). */
static int godel_args(bind_args_t *a, bool loud)
{
    if (a->binder && strcmp(a->binder, "kube") && strcmp(a->binder, "godel"))
        return ss_opt_fail("bind", loud, "--binder '%s': expected kube or godel", a->binder);
    bool godel = a->binder && !strcmp(a->binder, "godel");
    if (a->http.godel_scheduler && (!godel || !*a->http.godel_scheduler))
        return ss_opt_fail("bind", loud, "--godel-scheduler NAME takes --binder godel and a name");
    if (godel && !a->http.godel_scheduler)
        a->http.godel_scheduler = "shardsched";
    if (a->http.podgroup_status && !ss_bind_podgroup_condition(a->http.podgroup_status))
        return ss_opt_fail("bind", loud,
                           "--write-status '%s': expected a scheduling.k8s.io version: v1alpha2 "
                           "(PodGroupScheduled), v1alpha3 or v1beta1 (PodGroupInitiallyScheduled)",
                           a->http.podgroup_status);
    if ((godel || a->http.podgroup_status) && (a->ndjson || a->replay))
        return ss_opt_fail("bind", loud,
                           "--binder godel and --write-status write a request log: no --ndjson, "
                           "and no --replay (the log already says every request)");
    return SS_OPT_RUN;
}

/* Returns SS_OPT_RUN, or the exit status after --help or a usage error. */
static int parse_args(int argc, char **argv, bind_args_t *a, bool loud)
{
    ss_bind_opts_default(&a->http);
    int insecure = 0;
    int64_t concurrency = a->http.concurrency, attempts = a->http.max_attempts;
    const ss_opt_t opts[] = {
        SS_O_STR('i', "input", &a->in),
        SS_O_STR('p', "placements", &a->placements),
        SS_O_STR(0, "emit", &a->emit),
        SS_O_FLAG(0, "ndjson", &a->ndjson),
        SS_O_STR(0, "replay", &a->replay),
        SS_O_STR(0, "preempt-with", &a->preempt_with),
        SS_O_DOUBLE(0, "evict-wait", &a->http.evict_wait_s, 0, 86400),
        SS_O_FLAG(0, "allow-soft-pdb", &a->allow_soft_pdb),
        SS_O_DOUBLE(0, "mig-wait", &a->http.mig_wait_s, 0, 86400),
        SS_O_STR(0, "server", &a->http.server),
        SS_O_STR(0, "binder", &a->binder),
        SS_O_STR(0, "godel-scheduler", &a->http.godel_scheduler),
        SS_O_STR(0, "write-status", &a->http.podgroup_status),
        SS_O_STR(0, "token-file", &a->http.token_file),
        SS_O_STR(0, "ca-file", &a->http.ca_file),
        SS_O_FLAG(0, "insecure-skip-tls-verify", &insecure),
        SS_O_INT(0, "concurrency", &concurrency, 1, 4096),
        SS_O_DOUBLE(0, "qps", &a->http.qps, 0, 1e9),
        SS_O_STR(0, "journal", &a->http.journal),
        SS_O_DOUBLE(0, "timeout", &a->http.timeout_s, 0.001, 86400),
        SS_O_INT(0, "max-attempts", &attempts, 1, 100),
        SS_O_DOUBLE(0, "max-backoff", &a->http.max_backoff_s, 0, 3600),
        SS_O_U64(0, "seed", &a->http.seed),
        SS_O_FLAG('q', "quiet", &a->quiet),
        SS_O_END,
    };
    const ss_opt_spec_t spec = {"bind", opts, usage, NULL};
    int st = ss_opt_parse(&spec, argc, argv, loud);
    if (st != SS_OPT_RUN)
        return st;
    a->http.insecure = insecure;
    a->http.concurrency = (int)concurrency;
    a->http.max_attempts = (int)attempts;
    a->http.placements = a->placements; /* named in the journal's header */
    if (a->preempt_with && strcmp(a->preempt_with, "delete") && strcmp(a->preempt_with, "evict"))
        return ss_opt_fail("bind", loud, "--preempt-with '%s': expected delete or evict",
                           a->preempt_with);
    a->http.preempt_evict = a->preempt_with && !strcmp(a->preempt_with, "evict");
    st = godel_args(a, loud);
    if (st != SS_OPT_RUN)
        return st;
    if (a->replay) {
        if (!a->http.server || a->emit || a->in || a->placements || a->ndjson)
            return ss_opt_fail("bind", loud,
                               "--replay LOG takes --server URL, and no -i, -p, --emit or "
                               "--ndjson (the log already says every request)");
        a->http.placements = a->replay;
    } else if (!a->in || !a->placements) {
        return ss_opt_fail("bind", loud, "%s is required",
                           !a->in ? "-i cluster.h5" : "-p placements.h5");
    } else if (!a->emit == !a->http.server) {
        return ss_opt_fail("bind", loud, "give exactly one of --emit FILE or --server URL");
    }
    ss_error_t uerr = {{0}};
    if (a->http.server && ss_bind_server_check(a->http.server, &uerr) < 0)
        return ss_opt_fail("bind", loud, "%s", uerr.text);
    if (SS_OPT_DISTINCT("bind", loud, a->emit, a->in, a->placements) != SS_OPT_RUN ||
        SS_OPT_DISTINCT("bind", loud, a->http.journal, a->in, a->placements) != SS_OPT_RUN ||
        SS_OPT_DISTINCT("bind", loud, a->http.journal, a->replay, NULL) != SS_OPT_RUN)
        return 2;
    return SS_OPT_RUN;
}

/* bind posts only what the independent verifier accepts (issue 10, item 6):
 * placements of another snapshot are refused by ss_placements_read (the
 * fingerprint), placements that break a rule here. */
static int check_placements(const bind_args_t *a, const ss_cluster_t *c, const ss_placements_t *p,
                            ss_error_t *err)
{
    if (!p->has_fingerprint)
        fprintf(stderr,
                "shardsched bind: warning: %s has no snapshot fingerprint (written by an older "
                "shardsched); it is checked row by row against %s\n",
                a->placements, a->in);
    ss_verify_report_t rep;
    memset(&rep, 0, sizeof rep);
    int64_t nv = ss_verify(c, p, &rep, err);
    int rc = nv < 0 ? (int)nv : 0;
    if (nv > 0)
        rc = ss_error_set(err, SS_EFORMAT,
                          "%s: refusing to bind: the verifier finds %lld violation(s) against %s, "
                          "the first: %s (see shardsched verify)",
                          a->placements, (long long)nv, a->in,
                          rep.n_messages > 0 ? rep.messages[0] : "?");
    ss_verify_report_free(&rep);
    return rc;
}

/* Posts the bindings, or runs the request log when l is not NULL. */
static int post(const bind_args_t *a, const ss_binding_t *b, int32_t n, const ss_bind_log_t *l,
                ss_bind_summary_t *s, ss_error_t *err)
{
    ss_cli_progress_t pr; /* bindings (or requests) decided, on a terminal */
    ss_bind_opts_t http = a->http;
    ss_cli_progress_begin(&pr, "bind", !a->quiet);
    http.progress = ss_cli_progress_get(&pr);
    int rc = l ? ss_bind_log_run(l, &http, s, err) : ss_bind_post(b, n, &http, s, err);
    ss_cli_progress_end(&pr);
    if (rc == 0)
        ss_bind_summary_print(s, stdout);
    return rc;
}

/* --emit of a plan with victims: the request log, never a Binding List. */
static int emit_log(const bind_args_t *a, const ss_bind_log_t *l, const ss_bind_summary_t *s,
                    ss_error_t *err)
{
    if (a->ndjson)
        return ss_error_set(err, SS_EINVAL,
                            "%s: refusing to write a plan with %d preemption victim(s) or MIG "
                            "re-layouts as plain Bindings (--ndjson): binding a preemptor before "
                            "its victims are gone (or a MIG pod before its node is re-laid out) "
                            "would overcommit its node; drop --ndjson to write the ordered "
                            "request log, and run it with bind --replay",
                            a->placements, l->n_victims);
    int rc = ss_bind_log_write(l, a->emit, err);
    if (rc == 0 && !a->quiet)
        fprintf(stderr,
                "bind: wrote a request log of %d requests in %d units (%d victims to %s; %d "
                "gang members held back, %d pods unplaced): run it with bind --replay %s "
                "--server URL\n",
                l->n, l->n_units, l->n_victims, a->http.preempt_evict ? "evict" : "delete", s->held,
                s->unplaced, a->emit);
    return rc;
}

static int run(void *arg)
{
    const bind_args_t *a = arg;
    ss_error_t err = {{0}};
    ss_cluster_t *c = NULL;
    ss_placements_t *p = NULL;
    ss_binding_t *b = NULL;
    ss_bind_log_t log;
    memset(&log, 0, sizeof log);
    bool use_log = a->replay != NULL;
    int32_t n = 0;
    ss_bind_summary_t s;
    memset(&s, 0, sizeof s);
    int rc = 0;
    if (a->replay) {
        rc = ss_bind_log_read(a->replay, &log, &err);
    } else {
        rc = ss_snapshot_read(a->in, &c, &err);
        if (rc == 0)
            rc = ss_placements_read(a->placements, c, &p, &err);
        if (rc == 0 && p->n_relayout > 0) /* MIG masks count the re-laid-out instances */
            rc = ss_mig_relayout_apply(c, p, &err);
        if (rc == 0)
            rc = check_placements(a, c, p, &err);
        if (rc == 0) /* --emit too: the log it writes is run with --server later */
            rc = ss_bind_check_pdb_mode(p, a->placements, a->http.preempt_evict, a->allow_soft_pdb,
                                        &err);
        if (rc == 0)
            rc = ss_bind_collect(c, p, &b, &n, &s, &err);
        if (rc == 0) /* Bindings, or a request log (victims, MIG, godel, status) */
            rc = ss_bind_plan(c, p, b, n, &a->http, &log, &use_log, &err);
    }
    if (rc == 0 && a->emit && use_log) {
        rc = emit_log(a, &log, &s, &err);
    } else if (rc == 0 && a->emit) {
        rc = ss_bind_emit(b, n, a->emit, a->ndjson, &err);
        if (rc == 0 && !a->quiet)
            fprintf(stderr,
                    "bind: wrote %d bindings (%d gang members held back, %d pods unplaced)\n", n,
                    s.held, s.unplaced);
    } else if (rc == 0) {
        rc = post(a, b, n, use_log ? &log : NULL, &s, &err);
    }
    ss_bind_log_free(&log);
    free(b);
    ss_placements_destroy(p);
    ss_cluster_destroy(c);
    if (rc < 0) {
        fprintf(stderr, "shardsched bind: %s\n", err.text);
        return 1;
    }
    if (a->emit)
        return 0;
    return ss_bind_summary_status(&s);
}

int ss_cmd_bind(int argc, char **argv, MPI_Comm comm)
{
    int rank = 0;
    MPI_Comm_rank(comm, &rank);
    bind_args_t a;
    memset(&a, 0, sizeof a);
    int st = parse_args(argc, argv, &a, rank == 0);
    if (st != SS_OPT_RUN)
        return st;
    return ss_dist_on_rank0(comm, "bind", run, &a);
}
