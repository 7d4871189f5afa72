/* shardsched bind: placements into Kubernetes Bindings, written out
 * (--emit) or posted to an API server (--server). A single-process tool:
 * under mpirun only rank 0 reads, writes and posts, so that nothing is bound
 * twice; the other ranks wait and return the same status. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ss_bind.h"
#include "ss_cli.h"
#include "ss_snapshot.h"

static const char usage_text[] =
    "usage: shardsched bind -i cluster.h5 -p placements.h5 (--emit FILE|- [--ndjson] | --server "
    "URL)\n"
    "  --emit FILE            write the Bindings as a v1 List (kubectl create -f FILE); - = "
    "stdout\n"
    "  --ndjson               one Binding per line instead of a List\n"
    "  --server URL           POST each to URL/api/v1/namespaces/NS/pods/NAME/binding\n"
    "                         (e.g. http://127.0.0.1:8001 with `kubectl proxy`)\n"
    "  --token-file F         bearer token for the API server\n"
    "  --ca-file F            CA bundle to verify an https server\n"
    "  --insecure-skip-tls-verify\n"
    "  --concurrency N        requests in flight (default 16)\n"
    "  --qps Q                requests started per second (default: unlimited)\n"
    "  --journal FILE         record decided bindings; a rerun skips them (crash-safe)\n"
    "  --timeout S            per request, seconds (default 30)\n"
    "  --max-attempts N       per binding (default 8)\n"
    "  --max-backoff S        cap of the retry backoff, seconds (default 10)\n"
    "  --seed S               seed of the retry jitter (default 1)\n"
    "Exit status 0 iff every binding was bound (201) or already bound (409).\n";

typedef struct {
    const char *in, *placements, *emit;
    bool ndjson, help;
    ss_bind_opts_t http;
} bind_args_t;

static int num_opt(const char *o, const char *v, double lo, double hi, double *out)
{
    char *end;
    double x = strtod(v, &end);
    if (end == v || *end || x < lo || x > hi) {
        fprintf(stderr, "shardsched bind: %s: '%s' is not a number in [%g, %g]\n", o, v, lo, hi);
        return 2;
    }
    *out = x;
    return 0;
}

static int parse_value(bind_args_t *a, const char *o, const char *v)
{
    double x = 0;
    int rc = 0;
    if (!strcmp(o, "-i"))
        a->in = v;
    else if (!strcmp(o, "-p"))
        a->placements = v;
    else if (!strcmp(o, "--emit"))
        a->emit = v;
    else if (!strcmp(o, "--server"))
        a->http.server = v;
    else if (!strcmp(o, "--token-file"))
        a->http.token_file = v;
    else if (!strcmp(o, "--ca-file"))
        a->http.ca_file = v;
    else if (!strcmp(o, "--journal"))
        a->http.journal = v;
    else if (!strcmp(o, "--concurrency") && !(rc = num_opt(o, v, 1, 4096, &x)))
        a->http.concurrency = (int)x;
    else if (!strcmp(o, "--qps") && !(rc = num_opt(o, v, 0, 1e9, &x)))
        a->http.qps = x;
    else if (!strcmp(o, "--timeout") && !(rc = num_opt(o, v, 0.001, 86400, &x)))
        a->http.timeout_s = x;
    else if (!strcmp(o, "--max-attempts") && !(rc = num_opt(o, v, 1, 100, &x)))
        a->http.max_attempts = (int)x;
    else if (!strcmp(o, "--max-backoff") && !(rc = num_opt(o, v, 0, 3600, &x)))
        a->http.max_backoff_s = x;
    else if (!strcmp(o, "--seed") && !(rc = num_opt(o, v, 0, 1e18, &x)))
        a->http.seed = (uint64_t)x;
    else if (!rc) {
        fprintf(stderr, "shardsched bind: unknown option '%s'\n%s", o, usage_text);
        return 2;
    }
    return rc;
}

static int parse_args(int argc, char **argv, bind_args_t *a)
{
    ss_bind_opts_default(&a->http);
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i];
        if (!strcmp(o, "--help") || !strcmp(o, "-h")) {
            a->help = true;
            return 0;
        }
        if (!strcmp(o, "--ndjson")) {
            a->ndjson = true;
            continue;
        }
        if (!strcmp(o, "--insecure-skip-tls-verify")) {
            a->http.insecure = true;
            continue;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "shardsched bind: %s needs a value\n%s", o, usage_text);
            return 2;
        }
        int rc = parse_value(a, o, argv[++i]);
        if (rc)
            return rc;
    }
    if (!a->in || !a->placements || !a->emit == !a->http.server) {
        fprintf(stderr, "shardsched bind: need -i, -p and one of --emit or --server\n%s",
                usage_text);
        return 2;
    }
    return 0;
}

static int run(const bind_args_t *a)
{
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
        rc = ss_bind_collect(c, p, &b, &n, &s, &err);
    if (rc == 0 && a->emit) {
        rc = ss_bind_emit(b, n, a->emit, a->ndjson, &err);
        if (rc == 0)
            fprintf(stderr,
                    "bind: wrote %d bindings (%d gang members held back, %d pods unplaced)\n", n,
                    s.held, s.unplaced);
    } else if (rc == 0) {
        rc = ss_bind_post(b, n, &a->http, &s, &err);
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
    return (s.gone || s.failed || s.interrupted || s.partial_gangs) ? 1 : 0;
}

int ss_cmd_bind(int argc, char **argv, MPI_Comm comm)
{
    int rank = 0, status = 0;
    MPI_Comm_rank(comm, &rank);
    if (rank == 0) {
        bind_args_t a;
        memset(&a, 0, sizeof a);
        status = parse_args(argc, argv, &a);
        if (status == 0 && a.help)
            fputs(usage_text, stdout);
        else if (status == 0)
            status = run(&a);
        fflush(stdout);
    }
    if (MPI_Bcast(&status, 1, MPI_INT, 0, comm) != MPI_SUCCESS && status == 0)
        status = 1;
    return status;
}
