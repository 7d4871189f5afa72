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
#include "ss_verify.h"

static void usage(FILE *f)
{
    fputs("usage: shardsched bind -i cluster.h5 -p placements.h5 [-q]\n"
          "                       (--emit FILE|- [--ndjson] | --server URL [HTTP options])\n"
          "\n"
          "Turns the placements into Kubernetes Bindings. The placed members of a pod group\n"
          "are bound when the group has at least minMember members placed or running;\n"
          "a group below minMember is never bound.\n"
          "\n"
          "  -i, --input FILE         cluster snapshot the placements were computed on\n"
          "  -p, --placements FILE    result of shardsched schedule\n"
          "  --emit FILE              write the Bindings as a v1 List for\n"
          "                           `kubectl create -f FILE`; - = stdout\n"
          "  --ndjson                 one Binding per line instead of a List\n"
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
          "  kubectl proxy & shardsched bind -i cluster.h5 -p placements.h5 \\\n"
          "      --server http://127.0.0.1:8001 --journal bind.journal\n",
          f);
}

typedef struct {
    const char *in, *placements, *emit;
    int ndjson, quiet;
    ss_bind_opts_t http;
} bind_args_t;

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
        SS_O_STR(0, "server", &a->http.server),
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
    if (!a->in || !a->placements)
        return ss_opt_fail("bind", loud, "%s is required",
                           !a->in ? "-i cluster.h5" : "-p placements.h5");
    if (!a->emit == !a->http.server)
        return ss_opt_fail("bind", loud, "give exactly one of --emit FILE or --server URL");
    ss_error_t uerr = {{0}};
    if (a->http.server && ss_bind_server_check(a->http.server, &uerr) < 0)
        return ss_opt_fail("bind", loud, "%s", uerr.text);
    if (SS_OPT_DISTINCT("bind", loud, a->emit, a->in, a->placements) != SS_OPT_RUN ||
        SS_OPT_DISTINCT("bind", loud, a->http.journal, a->in, a->placements) != SS_OPT_RUN)
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

static int run(void *arg)
{
    const bind_args_t *a = arg;
    ss_error_t err = {{0}};
    ss_cluster_t *c = NULL;
    ss_placements_t *p = NULL;
    ss_binding_t *b = NULL;
    int32_t n = 0;
    ss_bind_summary_t s;
    memset(&s, 0, sizeof s);
    int rc = ss_snapshot_read(a->in, &c, &err);
    if (rc == 0)
        rc = ss_placements_read(a->placements, c, &p, &err);
    if (rc == 0)
        rc = check_placements(a, c, p, &err);
    if (rc == 0)
        rc = ss_bind_collect(c, p, &b, &n, &s, &err);
    if (rc == 0 && a->emit) {
        rc = ss_bind_emit(b, n, a->emit, a->ndjson, &err);
        if (rc == 0 && !a->quiet)
            fprintf(stderr,
                    "bind: wrote %d bindings (%d gang members held back, %d pods unplaced)\n", n,
                    s.held, s.unplaced);
    } else if (rc == 0) {
        ss_cli_progress_t pr; /* bindings decided / to post, on a terminal */
        ss_bind_opts_t http = a->http;
        ss_cli_progress_begin(&pr, "bind", !a->quiet);
        http.progress = ss_cli_progress_get(&pr);
        rc = ss_bind_post(b, n, &http, &s, &err);
        ss_cli_progress_end(&pr);
        if (rc == 0)
            ss_bind_summary_print(&s, stdout);
    }
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
