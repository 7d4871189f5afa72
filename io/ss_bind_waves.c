/* ss_bind_waves: a consolidate plan (engine/ss_consolidate.h) as an ordered
 * request log (docs/kubernetes.md "Consolidation waves"), so that
 * `bind --replay` executes it with the log's retries, journal and
 * exactly-once guarantees. The plan is one unit, wave by wave: cordon the
 * wave's nodes (as kubectl drain and Karpenter do), evict the wave's pods
 * (the API server enforces the PodDisruptionBudgets again), then wait until
 * they are gone, their controllers' replacements run and the budgets allow
 * the next wave; a disruption-budget refusal stops the plan at its wave. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "ss_bind_int.h"
#include "ss_plan_io.h"
#include "ss_rules.h"

static const char CORDON_CTYPE[] = "application/strategic-merge-patch+json";

/* "/api/v1/namespaces/NS/pods?labelSelector=k%3Dv%2C..." for the labels of
 * pod q's template, or NULL (out of memory, a name too long). */
static char *selector_path(const ss_cluster_t *c, int32_t q)
{
    const ss_template_t *t = &c->templates[c->pod_template[q]];
    size_t cap = 64;
    for (int32_t k = 0; k < t->plabel_count; k++) {
        const ss_label_t *lb = &c->labels[t->plabel_begin + k];
        cap += strlen(ss_cluster_strget(c, lb->key)) + strlen(ss_cluster_strget(c, lb->value)) + 2;
    }
    char *sel = malloc(cap), *esel = malloc(3 * cap), *path = malloc(3 * cap + SS_BIND_FIELD_MAX);
    char ens[SS_BIND_FIELD_MAX];
    size_t n = 0;
    bool ok = sel && esel && path;
    for (int32_t k = 0; ok && k < t->plabel_count; k++) {
        const ss_label_t *lb = &c->labels[t->plabel_begin + k];
        n += (size_t)snprintf(sel + n, cap - n, "%s%s=%s", k ? "," : "",
                              ss_cluster_strget(c, lb->key), ss_cluster_strget(c, lb->value));
    }
    if (ok)
        sel[n] = '\0';
    ok = ok && ss_bind_escape(sel, esel, 3 * cap, true) >= 0 &&
         ss_bind_escape(ss_cluster_strget(c, c->pod_ns[q]), ens, sizeof ens, true) >= 0;
    if (ok)
        snprintf(path, 3 * cap + SS_BIND_FIELD_MAX, "/api/v1/namespaces/%s/pods?labelSelector=%s",
                 ens, esel);
    free(sel);
    free(esel);
    if (!ok) {
        free(path);
        return NULL;
    }
    return path;
}

static char *pdb_path(const ss_cluster_t *c, const ss_pdb_t *d)
{
    char ens[SS_BIND_FIELD_MAX], ename[SS_BIND_FIELD_MAX];
    if (ss_bind_escape(ss_cluster_strget(c, d->ns), ens, sizeof ens, true) < 0 ||
        ss_bind_escape(ss_cluster_strget(c, d->name), ename, sizeof ename, true) < 0)
        return NULL;
    size_t n = strlen(ens) + strlen(ename) + 64;
    char *s = malloc(n);
    if (s)
        snprintf(s, n, "/apis/policy/v1/namespaces/%s/poddisruptionbudgets/%s", ens, ename);
    return s;
}

/* The running pods counted by (namespace, template), sorted: what a wave's
 * "running" entries are counted from without a pass over every pod. */
typedef struct {
    int32_t ns, tmpl, count;
} group_t;

static int by_group(const void *a, const void *b)
{
    const group_t *x = a, *y = b;
    return x->ns != y->ns ? (x->ns < y->ns ? -1 : 1) : (x->tmpl < y->tmpl ? -1 : x->tmpl > y->tmpl);
}

static group_t *count_groups(const ss_cluster_t *c, int32_t *n)
{
    group_t *g = malloc(((size_t)c->n_pods + 1) * sizeof *g);
    int32_t m = 0;
    for (int32_t q = 0; g && q < c->n_pods; q++)
        if (c->pod_node[q] >= 0)
            g[m++] = (group_t){c->pod_ns[q], c->pod_template[q], 1};
    if (g)
        qsort(g, (size_t)m, sizeof *g, by_group);
    int32_t k = 0;
    for (int32_t i = 0; g && i < m; i++) {
        if (k > 0 && g[k - 1].ns == g[i].ns && g[k - 1].tmpl == g[i].tmpl)
            g[k - 1].count++;
        else
            g[k++] = g[i];
    }
    *n = k;
    return g;
}

/* Whether every label of template a is one of template b's. */
static bool tlabels_within(const ss_cluster_t *c, int32_t a, int32_t b)
{
    const ss_template_t *ta = &c->templates[a];
    const ss_template_t *tb = &c->templates[b];
    if (ta == tb)
        return true;
    for (int32_t i = 0; i < ta->plabel_count; i++) {
        const ss_label_t *x = &c->labels[ta->plabel_begin + i];
        bool found = false;
        for (int32_t j = 0; !found && j < tb->plabel_count; j++) {
            const ss_label_t *y = &c->labels[tb->plabel_begin + j];
            found = x->key == y->key && x->value == y->value;
        }
        if (!found)
            return false;
    }
    return true;
}

/* Whether pods a and b have the same namespace and labels. */
static bool same_labels(const ss_cluster_t *c, int32_t a, int32_t b)
{
    int32_t ta = c->pod_template[a], tb = c->pod_template[b];
    return c->pod_ns[a] == c->pod_ns[b] &&
           (ta == tb || (tlabels_within(c, ta, tb) && tlabels_within(c, tb, ta)));
}

/* The running pods of pod q's namespace whose labels hold all of q's. */
static int32_t count_like(const ss_cluster_t *c, const group_t *g, int32_t ng, int32_t q)
{
    int32_t lo = 0, hi = ng, ns = c->pod_ns[q], n = 0;
    while (lo < hi) { /* the first group of ns */
        int32_t mid = lo + (hi - lo) / 2;
        if (g[mid].ns < ns)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (int32_t i = lo; i < ng && g[i].ns == ns; i++)
        n += tlabels_within(c, c->pod_template[q], g[i].tmpl) ? g[i].count : 0;
    return n;
}

/* The wait of wave w's last eviction x: its pods gone, each distinct
 * (namespace, labels) of its pods Running again as many times as the
 * snapshot has such running pods, and the next wave's budgets. */
static int wave_wait(const ss_cluster_t *c, const ss_cplan_t *p, int32_t w, ss_bind_line_t *x,
                     double wait_s, const group_t *groups, int32_t ng)
{
    int32_t m = 0, nm = 0;
    for (int32_t i = 0; i < p->n_moves; i++)
        nm += p->move_wave[i] == w;
    x->gone = calloc((size_t)nm + 1, sizeof *x->gone);
    x->running = calloc((size_t)nm + 1, sizeof *x->running);
    x->running_min = calloc((size_t)nm + 1, sizeof *x->running_min);
    x->budget = calloc((size_t)c->n_pdbs + 1, sizeof *x->budget);
    x->budget_min = calloc((size_t)c->n_pdbs + 1, sizeof *x->budget_min);
    int32_t *rep = malloc(((size_t)nm + 1) * sizeof *rep); /* a pod of each running entry */
    if (!x->gone || !x->running || !x->running_min || !x->budget || !x->budget_min || !rep) {
        free(rep);
        return SS_ENOMEM;
    }
    x->wait_s = wait_s;
    for (int32_t i = 0; i < p->n_moves; i++) {
        if (p->move_wave[i] != w)
            continue;
        int32_t q = p->move_pod[i], k = 0;
        char *g = NULL;
        for (k = 0; k < m && !same_labels(c, rep[k], q); k++)
            ;
        if (k == m) {
            if (!(x->running[m] = selector_path(c, q)))
                return free(rep), SS_ENOMEM;
            rep[m++] = q;
        }
        char path[3 * SS_BIND_FIELD_MAX];
        char ens[SS_BIND_FIELD_MAX], ename[SS_BIND_FIELD_MAX];
        if (ss_bind_escape(ss_cluster_strget(c, c->pod_ns[q]), ens, sizeof ens, true) < 0 ||
            ss_bind_escape(ss_cluster_strget(c, c->pod_name[q]), ename, sizeof ename, true) < 0)
            return free(rep), SS_ENOMEM;
        snprintf(path, sizeof path, "/api/v1/namespaces/%s/pods/%s", ens, ename);
        if (!(g = strdup(path)))
            return free(rep), SS_ENOMEM;
        x->gone[x->n_gone++] = g;
    }
    x->n_running = m;
    for (int32_t k = 0; k < m; k++) /* the running pods each entry lists */
        x->running_min[k] = count_like(c, groups, ng, rep[k]);
    free(rep);
    int32_t n0 = 0, n1 = 0; /* the next wave's moves: [n0, n1) (moves are in wave order) */
    while (n0 < p->n_moves && p->move_wave[n0] <= w)
        n0++;
    for (n1 = n0; n1 < p->n_moves && p->move_wave[n1] == w + 1; n1++)
        ;
    for (int32_t d = 0; d < c->n_pdbs && n1 > n0; d++) {
        int32_t need = 0;
        for (int32_t i = n0; i < n1; i++)
            need += ss_pdb_covers_victim(c, &c->pdbs[d], p->move_pod[i]);
        if (need == 0)
            continue;
        if (!(x->budget[x->n_budgets] = pdb_path(c, &c->pdbs[d])))
            return SS_ENOMEM;
        x->budget_min[x->n_budgets++] = need;
    }
    return 0;
}

static json_t *cordon_body(void)
{
    return json_pack("{s:{s:b}}", "spec", "unschedulable", 1);
}

static json_t *evict_body(const char *ns, const char *name)
{
    return json_pack("{s:s, s:s, s:{s:s, s:s}}", "apiVersion", "policy/v1", "kind", "Eviction",
                     "metadata", "name", name, "namespace", ns);
}

static ss_bind_line_t *add(ss_bind_log_t *l, int op, const char *ns, const char *name,
                           const char *node, json_t *body, const char *ctype, int32_t w)
{
    char *text = body ? json_dumps(body, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(body);
    ss_bind_line_t *x = text ? ss_bind_log_add(l, 0, op, NULL, ns, name, node, text, ctype) : NULL;
    if (x)
        x->wave = w;
    return x;
}

static int wave_lines(const ss_cluster_t *c, const ss_cplan_t *p, int32_t w, double wait_s,
                      ss_bind_log_t *l, const group_t *groups, int32_t ng)
{
    for (int32_t i = 0; i < p->n_drain; i++) {
        if (p->drain_wave[i] != w)
            continue;
        const char *node = ss_cluster_strget(c, c->node_name[p->drain_node[i]]);
        if (!add(l, SS_REQ_CORDON, "", node, node, cordon_body(), CORDON_CTYPE, w))
            return SS_ENOMEM;
    }
    ss_bind_line_t *last = NULL;
    for (int32_t i = 0; i < p->n_moves; i++) {
        if (p->move_wave[i] != w)
            continue;
        const char *ns = ss_cluster_strget(c, c->pod_ns[p->move_pod[i]]);
        const char *name = ss_cluster_strget(c, c->pod_name[p->move_pod[i]]);
        if (!(last = add(l, SS_REQ_EVICT, ns, name, NULL, evict_body(ns, name), "application/json",
                         w)))
            return SS_ENOMEM;
        l->n_victims++;
    }
    return last ? wave_wait(c, p, w, last, wait_s, groups, ng) : 0;
}

int ss_plan_wave_log(const ss_cluster_t *c, const ss_cplan_t *p, double wait_s, ss_bind_log_t *l,
                     ss_error_t *err)
{
    memset(l, 0, sizeof *l);
    int32_t ng = 0;
    group_t *groups = p->n_waves > 0 ? count_groups(c, &ng) : NULL;
    int rc = p->n_waves > 0 && !groups ? SS_ENOMEM : 0;
    for (int32_t w = 1; rc == 0 && w <= p->n_waves; w++)
        rc = wave_lines(c, p, w, wait_s, l, groups, ng);
    free(groups);
    if (rc < 0) {
        ss_bind_log_free(l);
        return ss_error_set(err, rc, "out of memory (or a name too long) building the wave log");
    }
    return 0;
}
