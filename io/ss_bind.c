/* ss_bind: Binding objects from placements (a gang's placed members are
 * posted only when the group reaches minMember), and writing them as a v1
 * List or NDJSON. The HTTP poster is in
 * ss_bind_http.c. */
#include "ss_bind.h"
#include "ss_atomic.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void ss_bind_opts_default(ss_bind_opts_t *o)
{
    memset(o, 0, sizeof *o);
    o->concurrency = 16;
    o->timeout_s = 30;
    o->max_attempts = 8;
    o->max_backoff_s = 10;
    o->seed = 1;
    o->log = stderr;
    o->evict_wait_s = 60;
    o->poll_s = 0.5;
    o->mig_wait_s = 300;
}

/* Per group: placed pending members + running members, and minMember -
 * running (what this run must bind). */
static int count_groups(const ss_cluster_t *c, const ss_placements_t *p, int32_t **have,
                        int32_t **need, ss_error_t *err)
{
    *have = calloc((size_t)c->n_groups + 1, sizeof **have);
    *need = calloc((size_t)c->n_groups + 1, sizeof **need);
    if (!*have || !*need)
        return ss_error_set(err, SS_ENOMEM, "out of memory");
    for (int32_t g = 0; g < c->n_groups; g++)
        (*need)[g] = c->group_min_member[g];
    for (int32_t pod = 0; pod < c->n_pods; pod++)
        if (c->pod_group[pod] >= 0 && c->pod_node[pod] >= 0) {
            (*have)[c->pod_group[pod]]++;
            (*need)[c->pod_group[pod]]--;
        }
    for (int32_t i = 0; i < p->n; i++) {
        int32_t pod = p->pod[i];
        if (pod < 0 || pod >= c->n_pods || p->node[i] >= c->n_nodes)
            return ss_error_set(err, SS_EFORMAT,
                                "placements row %d names pod %d / node %d, outside the cluster", i,
                                pod, p->node[i]);
        if (p->node[i] >= 0 && c->pod_node[pod] < 0 && c->pod_group[pod] >= 0)
            (*have)[c->pod_group[pod]]++;
    }
    return 0;
}

int ss_bind_collect(const ss_cluster_t *c, const ss_placements_t *p, ss_binding_t **out, int32_t *n,
                    ss_bind_summary_t *s, ss_error_t *err)
{
    *out = NULL;
    *n = 0;
    int32_t *have = NULL, *need = NULL;
    ss_binding_t *b = malloc(((size_t)p->n + 1) * sizeof *b);
    int rc =
        b ? count_groups(c, p, &have, &need, err) : ss_error_set(err, SS_ENOMEM, "out of memory");
    int32_t k = 0;
    for (int32_t i = 0; rc == 0 && i < p->n; i++) {
        int32_t pod = p->pod[i], g = c->pod_group[pod];
        if (p->node[i] < 0) {
            s->unplaced++;
            continue;
        }
        /* a group below minMember (placed + running) is never posted */
        if (g >= 0 && have[g] < c->group_min_member[g]) {
            s->held++;
            continue;
        }
        b[k++] = (ss_binding_t){ss_cluster_strget(c, c->pod_ns[pod]),
                                ss_cluster_strget(c, c->pod_name[pod]),
                                ss_cluster_strget(c, c->node_name[p->node[i]]),
                                g,
                                g >= 0 ? ss_cluster_strget(c, c->group_name[g]) : "",
                                g >= 0 ? need[g] : 0};
    }
    free(have);
    free(need);
    if (rc < 0) {
        free(b);
        return rc;
    }
    *out = b;
    *n = k;
    s->total = k;
    return 0;
}

static json_t *binding_object(const ss_binding_t *b)
{
    return json_pack("{s:s, s:s, s:{s:s, s:s}, s:{s:s, s:s, s:s}}", "apiVersion", "v1", "kind",
                     "Binding", "metadata", "name", b->name, "namespace", b->ns, "target",
                     "apiVersion", "v1", "kind", "Node", "name", b->node);
}

char *ss_bind_json(const ss_binding_t *b)
{
    json_t *o = binding_object(b);
    char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    return s;
}

static int write_all(FILE *f, const ss_binding_t *b, int32_t n, bool ndjson)
{
    if (ndjson) {
        for (int32_t i = 0; i < n; i++) {
            char *s = ss_bind_json(&b[i]);
            int bad = !s || fprintf(f, "%s\n", s) < 0;
            free(s);
            if (bad)
                return -1;
        }
        return 0;
    }
    /* a v1 List, written item by item so that a million bindings need no tree */
    if (fprintf(f, "{\"apiVersion\": \"v1\", \"kind\": \"List\", \"items\": [") < 0)
        return -1;
    for (int32_t i = 0; i < n; i++) {
        char *s = ss_bind_json(&b[i]);
        int bad = !s || fprintf(f, "%s\n  %s", i ? "," : "", s) < 0;
        free(s);
        if (bad)
            return -1;
    }
    return fprintf(f, "\n]}\n") < 0 ? -1 : 0;
}

int ss_bind_emit(const ss_binding_t *b, int32_t n, const char *path, bool ndjson, ss_error_t *err)
{
    if (!strcmp(path, "-")) {
        if (write_all(stdout, b, n, ndjson) < 0 || fflush(stdout) != 0)
            return ss_error_set(err, SS_EIO, "writing bindings to standard output failed");
        return 0;
    }
    char tmp[4096];
    FILE *f = ss_atomic_fopen(path, tmp, sizeof tmp, err);
    if (!f)
        return SS_EIO;
    int rc = write_all(f, b, n, ndjson) < 0
                 ? ss_error_set(err, SS_EIO, "%s: writing bindings failed", path)
                 : 0;
    return ss_atomic_fclose(f, tmp, path, rc, err);
}

void ss_bind_summary_print(const ss_bind_summary_t *s, FILE *f)
{
    if (!f)
        return;
    if (!s->waves || s->total) /* a plan of waves binds nothing: its own line below */
        fprintf(
            f,
            "bind summary: %d to bind: %d bound, %d already bound (409, same node), %d skipped "
            "(journal says bound); %d gone (404); %d not bound: %d failed, %d unknown (no reply: "
            "may have been applied, a rerun confirms), %d elsewhere (409, bound to another "
            "node); %d retries; %d gang members held back (group below minMember); %d pods "
            "unplaced%s\n",
            s->total, s->bound, s->already, s->journaled, s->gone, s->failed,
            s->failed - s->unknown - s->elsewhere, s->unknown, s->elsewhere, s->retries, s->held,
            s->unplaced, s->interrupted ? "; INTERRUPTED" : "");
    if (s->waves)
        fprintf(f,
                "bind waves: %d waves: %d done%s; %d of %d nodes cordoned, %d of %d pods evicted "
                "(or already gone), %d evictions refused by a disruption budget; %d of %d "
                "requests confirmed this run; %d retries%s\n",
                s->waves, s->waves_done, s->wave_stopped ? " (STOPPED at a wave: see above)" : "",
                s->cordoned, s->cordons, s->removed, s->victims, s->pdb_refused, s->requests_done,
                s->requests_total, s->retries, s->interrupted ? "; INTERRUPTED" : "");
    if (s->requests_total && !s->waves && (s->preemptors || s->victims || !s->mig_nodes))
        fprintf(f,
                "bind preemption: %d preemptors, %d victims: %d removed (deleted, evicted or "
                "already gone), %d refused by a disruption budget; %d bindings abandoned "
                "(victims not gone within the wait); %d of %d requests confirmed this run\n",
                s->preemptors, s->victims, s->removed, s->pdb_refused, s->stuck, s->requests_done,
                s->requests_total);
    if (s->mig_nodes)
        fprintf(f,
                "bind MIG: %d nodes to re-lay out (nvidia.com/mig.config): %d ready (%d already "
                "so: not patched again), %d not ready (their pods not bound: see above); %d of %d "
                "requests confirmed this run\n",
                s->mig_nodes, s->mig_ready, s->mig_already, s->mig_failed, s->requests_done,
                s->requests_total);
    if (s->pg_status)
        fprintf(f,
                "bind PodGroup status: %d unplaceable gangs: %d status patches confirmed (%d of "
                "them 404: no upstream PodGroup of that name), %d failed\n",
                s->pg_status, s->pg_written, s->pg_missing, s->pg_failed);
    if (s->partial_gangs)
        fprintf(f, "bind: %d PARTLY BOUND GANG(S): see the report above\n", s->partial_gangs);
}

int ss_bind_summary_status(const ss_bind_summary_t *s)
{
    return (s->gone || s->failed || s->interrupted || s->partial_gangs || s->stuck ||
            s->pdb_refused || s->mig_failed || s->pg_failed || s->wave_stopped ||
            s->waves_done < s->waves)
               ? 1
               : 0;
}
