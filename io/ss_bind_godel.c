/* ss_bind_godel: two more things bind writes besides Binding objects
 * (issue 13, "Write"):
 *   - `--binder godel`: ByteDance Gödel's binder takes placements as pod
 *     annotations and does the final checks and the binding itself. Per
 *     placed pod one merge patch sets godel.bytedance.com/pod-state
 *     "assumed", godel.bytedance.com/selected-scheduler and either
 *     godel.bytedance.com/assumed-node (the node) or, when the placement
 *     preempts, godel.bytedance.com/nominated-node (JSON: the node and the
 *     victims; Gödel's binder evicts them). The patches are request-log
 *     lines (op "godel", one-line units in commit order), so they get the
 *     log's retry, journal and `bind --replay` for free.
 *   - `--write-status VERSION`: per gang the placements leave below
 *     minMember, a status patch of the upstream PodGroup (scheduling.k8s.io)
 *     with the condition PodGroupScheduled (v1alpha2) or
 *     PodGroupInitiallyScheduled (v1alpha3, v1beta1) False, reason
 *     Unschedulable, and the engine's counts and reasons as the message
 *     (op "podgroup-status"), for the gangs the import read from an
 *     upstream PodGroup (/groups/dialect); a gang of unknown origin (gen's,
 *     older snapshots) gets one too, and a 404 (no such PodGroup) is
 *     reported, not failed. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "ss_bind_int.h"
#include "ss_reason.h"

#define GODEL "godel.bytedance.com/"
#define PG_PREFIX "/apis/scheduling.k8s.io/"
static const char GODEL_CTYPE[] = "application/merge-patch+json";
static const char STATUS_CTYPE[] = "application/strategic-merge-patch+json";

const char *ss_bind_podgroup_condition(const char *version)
{
    if (!version)
        return NULL;
    if (!strcmp(version, "v1alpha2"))
        return "PodGroupScheduled";
    if (!strcmp(version, "v1alpha3") || !strcmp(version, "v1beta1"))
        return "PodGroupInitiallyScheduled";
    return NULL;
}

static char *dump(json_t *o, size_t flags)
{
    char *s = o ? json_dumps(o, JSON_COMPACT | flags) : NULL;
    json_decref(o);
    return s;
}

char *ss_bind_godel_patch(const char *sched, const char *node, const char *const *victim_ns,
                          const char *const *victim_name, int32_t n_victims)
{
    char *nominated = NULL;
    if (n_victims > 0) { /* Gödel's NominatedNode: {"node": N, "victims": [VictimPod]} */
        json_t *v = json_array();
        for (int32_t k = 0; v && k < n_victims; k++)
            json_array_append_new(
                v, json_pack("{s:s, s:s}", "name", victim_name[k], "namespace", victim_ns[k]));
        nominated = dump(v ? json_pack("{s:s, s:o}", "node", node, "victims", v) : NULL,
                         JSON_PRESERVE_ORDER);
        if (!nominated)
            return NULL;
    }
    json_t *a =
        json_pack("{s:s, s:s, s:o, s:o}", GODEL "pod-state", "assumed", GODEL "selected-scheduler",
                  sched, GODEL "assumed-node", nominated ? json_null() : json_string(node),
                  GODEL "nominated-node", nominated ? json_string(nominated) : json_null());
    free(nominated);
    return dump(a ? json_pack("{s:{s:o}}", "metadata", "annotations", a) : NULL, JSON_SORT_KEYS);
}

static const ss_placements_t *sort_p; /* qsort has no context argument */

/* Commit order (seq), rows without one after, in row order (as the log). */
static int by_seq(const void *a, const void *b)
{
    int32_t ra = *(const int32_t *)a, rb = *(const int32_t *)b;
    int32_t sa = sort_p->seq && sort_p->seq[ra] >= 0 ? sort_p->seq[ra] : INT32_MAX;
    int32_t sb = sort_p->seq && sort_p->seq[rb] >= 0 ? sort_p->seq[rb] : INT32_MAX;
    return sa < sb ? -1 : sa > sb ? 1 : (ra < rb ? -1 : ra > rb);
}

/* One godel line for row r (binding bi); its victims from vstart/vpod. */
static int godel_line(const ss_cluster_t *c, const ss_binding_t *bi, const int32_t *vpod,
                      int32_t nv, const char *sched, ss_bind_log_t *l, ss_error_t *err)
{
    const char **vns = malloc(((size_t)nv + 1) * sizeof *vns);
    const char **vname = malloc(((size_t)nv + 1) * sizeof *vname);
    char *body = NULL;
    if (vns && vname) {
        for (int32_t k = 0; k < nv; k++) {
            vns[k] = ss_cluster_strget(c, c->pod_ns[vpod[k]]);
            vname[k] = ss_cluster_strget(c, c->pod_name[vpod[k]]);
        }
        body = ss_bind_godel_patch(sched, bi->node, vns, vname, nv);
    }
    free(vns);
    free(vname);
    if (!body || !ss_bind_log_add(l, l->n_units, SS_REQ_GODEL, NULL, bi->ns, bi->name, bi->node,
                                  body, GODEL_CTYPE))
        return ss_error_set(err, SS_ENOMEM,
                            "out of memory (or a name too long) writing the "
                            "Gödel patch of pod %s/%s",
                            bi->ns, bi->name);
    return 0;
}

static int godel_build(const ss_cluster_t *c, const ss_placements_t *p, const ss_binding_t *b,
                       int32_t n, const char *sched, ss_bind_log_t *l, ss_error_t *err)
{
    int32_t *vstart = calloc((size_t)p->n + 2, sizeof *vstart);
    int32_t *vpod = malloc(((size_t)p->n_victims + 1) * sizeof *vpod);
    int32_t *fill = calloc((size_t)p->n + 1, sizeof *fill);
    int32_t *bound = malloc(((size_t)p->n + 1) * sizeof *bound);
    int32_t *order = malloc(((size_t)p->n + 1) * sizeof *order);
    int rc = vstart && vpod && fill && bound && order
                 ? 0
                 : ss_error_set(err, SS_ENOMEM, "out of memory building the Gödel patches");
    for (int32_t v = 0; rc == 0 && v < p->n_victims; v++) {
        int32_t r = p->victim_row[v], pod = p->victim_pod[v];
        if (r < 0 || r >= p->n || p->node[r] < 0 || pod < 0 || pod >= c->n_pods ||
            c->pod_node[pod] != p->node[r])
            rc = ss_error_set(err, SS_EFORMAT,
                              "victim %d (row %d, pod %d) is not a running pod on the node its "
                              "preemptor is placed on",
                              v, r, pod);
        else
            vstart[r + 1]++;
    }
    for (int32_t r = 0; rc == 0 && r < p->n; r++)
        vstart[r + 1] += vstart[r];
    for (int32_t v = 0; rc == 0 && v < p->n_victims; v++) {
        int32_t r = p->victim_row[v];
        vpod[vstart[r] + fill[r]++] = p->victim_pod[v];
    }
    int32_t m = 0;
    for (int32_t r = 0, k = 0; rc == 0 && r < p->n; r++) { /* b is in row order */
        const char *name = ss_cluster_strget(c, c->pod_name[p->pod[r]]);
        const char *ns = ss_cluster_strget(c, c->pod_ns[p->pod[r]]);
        bound[r] = (p->node[r] >= 0 && k < n && b[k].name == name && b[k].ns == ns) ? k++ : -1;
        if (bound[r] >= 0)
            order[m++] = r;
    }
    sort_p = p;
    if (rc == 0)
        qsort(order, (size_t)m, sizeof *order, by_seq);
    for (int32_t i = 0; rc == 0 && i < m; i++) {
        int32_t r = order[i];
        rc =
            godel_line(c, &b[bound[r]], vpod + vstart[r], vstart[r + 1] - vstart[r], sched, l, err);
    }
    free(vstart);
    free(vpod);
    free(fill);
    free(bound);
    free(order);
    return rc;
}

/* ---- PodGroup status ---- */

/* lastTransitionTime: SOURCE_DATE_EPOCH, else the placements file's
 * modification time (when the engine decided: a rerun of the same
 * placements writes the same patch, which the journal's fingerprint
 * needs), else now. */
static void transition_time(const char *placements, char *out, size_t cap)
{
    time_t t = time(NULL);
    struct stat st;
    const char *env = getenv("SOURCE_DATE_EPOCH");
    if (env && *env)
        t = (time_t)strtoll(env, NULL, 10);
    else if (placements && stat(placements, &st) == 0)
        t = st.st_mtime;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

typedef struct {
    int32_t pending, placed, rolled_back, running;
    int32_t why[SS_REASON_COUNT]; /* reasons of the unplaced members */
} gang_t;

/* The condition's message: the counts and the engine's reasons. */
static void gang_message(const ss_cluster_t *c, int32_t g, const gang_t *e, char *msg, size_t cap)
{
    int32_t k = e->running + e->rolled_back;
    size_t len = (size_t)snprintf(
        msg, cap,
        "shardsched could not place the gang: placed %d of minMember %d (%d running, %d placed "
        "then rolled back; %d pending members, %d of them unplaced)",
        k, c->group_min_member[g], e->running, e->rolled_back, e->pending, e->pending - e->placed);
    const char *sep = ": ";
    int32_t done[SS_REASON_COUNT] = {0};
    for (int round = 0; round < SS_REASON_COUNT && len < cap; round++) {
        int best = -1; /* most frequent first, ties by code */
        for (int r = 0; r < SS_REASON_COUNT; r++)
            if (e->why[r] > 0 && !done[r] && (best < 0 || e->why[r] > e->why[best]))
                best = r;
        if (best < 0)
            break;
        done[best] = 1;
        len += (size_t)snprintf(msg + len, cap - len, "%s%d %s", sep, e->why[best],
                                ss_reason_text(best));
        sep = ", ";
    }
}

/* The status patch line of group g. */
static int status_line(const ss_cluster_t *c, int32_t g, const gang_t *e, const char *version,
                       const char *when, ss_bind_log_t *l, ss_error_t *err)
{
    const char *full = ss_cluster_strget(c, c->group_name[g]), *slash = strchr(full, '/');
    char ns[SS_BIND_FIELD_MAX], name[SS_BIND_FIELD_MAX], ens[SS_BIND_FIELD_MAX],
        ename[SS_BIND_FIELD_MAX], path[3 * SS_BIND_FIELD_MAX], msg[1024];
    /* "ns/name"; a name without a namespace (gen's clusters) is in "default" */
    snprintf(ns, sizeof ns, "%.*s", slash ? (int)(slash - full) : 7, slash ? full : "default");
    snprintf(name, sizeof name, "%s", slash ? slash + 1 : full);
    if (ss_bind_escape(ns, ens, sizeof ens, true) < 0 ||
        ss_bind_escape(name, ename, sizeof ename, true) < 0 || !*ens || !*ename)
        return ss_error_set(err, SS_EFORMAT, "pod group '%s': not a namespace/name", full);
    snprintf(path, sizeof path, PG_PREFIX "%s/namespaces/%s/podgroups/%s/status", version, ens,
             ename);
    gang_message(c, g, e, msg, sizeof msg);
    char *body =
        dump(json_pack("{s:{s:[{s:s, s:s, s:s, s:s, s:s}]}}", "status", "conditions", "type",
                       ss_bind_podgroup_condition(version), "status", "False", "reason",
                       "Unschedulable", "message", msg, "lastTransitionTime", when),
             JSON_SORT_KEYS);
    if (!body ||
        !ss_bind_log_add(l, l->n_units, SS_REQ_PGSTATUS, path, ns, name, "", body, STATUS_CTYPE))
        return ss_error_set(err, SS_ENOMEM, "out of memory writing the status of pod group %s",
                            full);
    return 0;
}

static int status_build(const ss_cluster_t *c, const ss_placements_t *p, const ss_bind_opts_t *o,
                        ss_bind_log_t *l, ss_error_t *err)
{
    gang_t *e = calloc((size_t)c->n_groups + 1, sizeof *e);
    if (!e)
        return ss_error_set(err, SS_ENOMEM, "out of memory");
    for (int32_t pod = 0; pod < c->n_pods; pod++)
        if (c->pod_group[pod] >= 0 && c->pod_node[pod] >= 0)
            e[ss_cluster_gang_of(c, pod)].running++;
    for (int32_t r = 0; r < p->n; r++) {
        int32_t g = c->pod_group[p->pod[r]] >= 0 ? ss_cluster_gang_of(c, p->pod[r]) : -1;
        if (g < 0 || c->pod_node[p->pod[r]] >= 0)
            continue;
        e[g].pending++;
        e[g].placed += p->node[r] >= 0;
        if (p->node[r] < 0 && p->reason[r] >= 0 && p->reason[r] < SS_REASON_COUNT)
            e[g].why[p->reason[r]]++;
        e[g].rolled_back += p->node[r] < 0 && p->reason[r] == SS_REASON_GANG;
    }
    char when[32];
    transition_time(o->placements, when, sizeof when);
    int rc = 0;
    for (int32_t g = 0; rc == 0 && g < c->n_groups; g++) {
        int32_t d = c->group_dialect ? c->group_dialect[g] : SS_GD_UNKNOWN;
        if (d != SS_GD_UNKNOWN && d != SS_GD_PODGROUP)
            continue; /* not an upstream PodGroup (unknown: gen's, older files: tried) */
        if (e[g].pending > 0 && e[g].placed + e[g].running < c->group_min_member[g])
            rc = status_line(c, g, &e[g], o->podgroup_status, when, l, err);
    }
    free(e);
    return rc;
}

int ss_bind_plan(const ss_cluster_t *c, const ss_placements_t *p, const ss_binding_t *b, int32_t n,
                 const ss_bind_opts_t *o, ss_bind_log_t *l, bool *use_log, ss_error_t *err)
{
    int rc = 0;
    *use_log = false;
    if (o->podgroup_status && !ss_bind_podgroup_condition(o->podgroup_status))
        return ss_error_set(err, SS_EINVAL,
                            "--write-status '%s': expected a scheduling.k8s.io version: "
                            "v1alpha2, v1alpha3 or v1beta1",
                            o->podgroup_status);
    if (o->godel_scheduler) {
        if (p->n_relayout > 0)
            return ss_error_set(err, SS_EINVAL,
                                "--binder godel: the placements re-lay out MIG GPUs (schedule "
                                "--mig-relayout), which Gödel's binder does not do; bind them "
                                "with --binder kube");
        *use_log = true;
        rc = godel_build(c, p, b, n, o->godel_scheduler, l, err);
    } else {
        *use_log = ss_bind_needs_log(c, p, b, n);
        if (!*use_log && o->podgroup_status) { /* status patches are log lines */
            ss_bind_log_t probe;
            memset(&probe, 0, sizeof probe);
            rc = status_build(c, p, o, &probe, err);
            *use_log = rc == 0 && probe.n > 0;
            ss_bind_log_free(&probe);
        }
        if (rc == 0 && *use_log)
            rc = ss_bind_log_build(c, p, b, n, o, l, err);
    }
    if (rc == 0 && o->podgroup_status)
        rc = status_build(c, p, o, l, err);
    if (rc < 0)
        ss_bind_log_free(l);
    return rc;
}

/* ---- reading a log's godel and podgroup-status lines ---- */

/* The node a godel body names: assumed-node, or nominated-node's "node". */
static char *godel_node(json_t *body, const char **why)
{
    json_t *a = json_object_get(json_object_get(body, "metadata"), "annotations");
    const char *state = json_string_value(json_object_get(a, GODEL "pod-state"));
    const char *sched = json_string_value(json_object_get(a, GODEL "selected-scheduler"));
    const char *node = json_string_value(json_object_get(a, GODEL "assumed-node"));
    const char *nom = json_string_value(json_object_get(a, GODEL "nominated-node"));
    if (!state || strcmp(state, "assumed") || !sched || !*sched || !node == !nom) {
        *why = "the godel patch does not set pod-state assumed, selected-scheduler and one of "
               "assumed-node or nominated-node";
        return NULL;
    }
    if (node)
        return *node ? strdup(node) : (*why = "assumed-node is empty", NULL);
    json_t *n = json_loads(nom, 0, NULL);
    const char *s = json_string_value(json_object_get(n, "node"));
    char *out = s && *s && json_is_array(json_object_get(n, "victims")) ? strdup(s) : NULL;
    json_decref(n);
    if (!out)
        *why = "nominated-node is not {\"node\": NAME, \"victims\": [...]}";
    return out;
}

static bool status_path(const char *path, ss_bind_line_t *x)
{
    if (strncmp(path, PG_PREFIX, sizeof PG_PREFIX - 1))
        return false;
    const char *v = path + sizeof PG_PREFIX - 1, *end = strchr(v, '/');
    char version[32], pre[96];
    if (!end || end - v >= (long)sizeof version)
        return false;
    snprintf(version, sizeof version, "%.*s", (int)(end - v), v);
    if (!ss_bind_podgroup_condition(version))
        return false;
    snprintf(pre, sizeof pre, PG_PREFIX "%s/namespaces/", version);
    return ss_bind_parse_path(path, pre, "/podgroups/", "/status", &x->ns, &x->name);
}

int ss_bind_godel_parse(json_t *o, ss_bind_line_t *x, const char **why)
{
    json_t *body = json_object_get(o, "body"), *wait = json_object_get(o, "wait");
    const char *path = json_string_value(json_object_get(o, "path"));
    const char *ctype = json_string_value(json_object_get(o, "contentType"));
    bool godel = x->op == SS_REQ_GODEL;
    if (!path ||
        !(godel ? ss_bind_parse_path(path, "/api/v1/namespaces/", "/pods/", "", &x->ns, &x->name)
                : status_path(path, x)))
        return *why = godel ? "path is not /api/v1/namespaces/NS/pods/NAME"
                            : "path is not /apis/scheduling.k8s.io/VERSION/namespaces/NS/"
                              "podgroups/NAME/status",
               SS_EFORMAT;
    if (!ctype || strcmp(ctype, godel ? GODEL_CTYPE : STATUS_CTYPE))
        return *why = godel ? "contentType is not application/merge-patch+json"
                            : "contentType is not application/strategic-merge-patch+json",
               SS_EFORMAT;
    if (!json_is_object(body) || (wait && !json_is_null(wait)))
        return *why = "body is not an object, or wait is not null", SS_EFORMAT;
    if (!godel && !json_is_array(json_object_get(json_object_get(body, "status"), "conditions")))
        return *why = "the status patch has no status.conditions", SS_EFORMAT;
    x->node = godel ? godel_node(body, why) : strdup("");
    if (!x->node)
        return godel ? SS_EFORMAT : SS_ENOMEM;
    x->method = strdup("PATCH");
    x->path = strdup(path);
    x->ctype = strdup(ctype);
    x->body = json_dumps(body, JSON_COMPACT | JSON_PRESERVE_ORDER);
    return x->method && x->path && x->ctype && x->body ? 0 : SS_ENOMEM;
}
