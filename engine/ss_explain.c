/* ss_explain: per-reason node counts for one pod, in kube-scheduler's
 * FailedScheduling wording (see ss_explain.h). The verdict of every node
 * comes from the engine's filters (ss_match_static, ss_state_fit); what is
 * new here is only the splitting into kube's reason strings and the
 * counting. A handful of distinct reasons per pod (a few fixed texts, one per
 * distinct untolerated taint), so they live in a small array searched
 * linearly. */
#include "ss_explain.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ss_match.h"
#include "ss_reason.h"

#define MAX_NODE_REASONS (4 + SS_MAX_EXT) /* pods, cpu, memory, gpu, extended */

typedef struct {
    int kind;
    int32_t a, b;
} key_t_;

typedef struct {
    const ss_cluster_t *c;
    const ss_state_t *s;
    const ss_template_t *t;
    ss_match_ctx_t mx;
    int32_t tmpl;
    const ss_explain_rules_t *rules;
} eval_t;

/* The node's first NoSchedule / NoExecute taint no toleration of t
 * tolerates, as kube's FindMatchingUntoleratedTaint; its key and value. */
static void first_untolerated(const eval_t *e, int32_t node, int32_t *key, int32_t *value)
{
    const ss_cluster_t *c = e->c;
    const ss_taint_t *taint = c->taints + c->node_taint_begin[node];
    const ss_toleration_t *tol = c->tolerations + e->t->tol_begin;
    *key = *value = -1;
    for (int32_t i = 0; i < c->node_taint_count[node]; i++) {
        if (taint[i].effect == SS_EFFECT_PREFER_NO_SCHEDULE)
            continue;
        bool ok = false;
        for (int32_t k = 0; k < e->t->tol_count && !ok; k++)
            ok = ss_match_toleration(&tol[k], &taint[i]);
        if (!ok) {
            *key = taint[i].key;
            *value = taint[i].value;
            return;
        }
    }
}

/* Every resource the node lacks for a pod of t, with ss_state_fit's
 * comparisons, in NodeResourcesFit's order. Returns how many. */
static int capacity_reasons(const eval_t *e, int32_t node, key_t_ *out)
{
    const ss_state_t *s = e->s;
    const ss_request_t *r = &e->t->req;
    int n = 0;
    if (s->free_pods[node] < 1)
        out[n++] = (key_t_){SS_EXPLAIN_PODS, 0, 0};
    if (s->free_cpu[node] < r->cpu_milli)
        out[n++] = (key_t_){SS_EXPLAIN_CPU, 0, 0};
    if (s->free_mem[node] < r->memory)
        out[n++] = (key_t_){SS_EXPLAIN_MEMORY, 0, 0};
    if (r->gpu_count > 0 && ss_state_pick_gpus(s, e->t, node) == UINT64_MAX)
        out[n++] = (key_t_){SS_EXPLAIN_GPU, 0, 0};
    for (int k = 0; k < e->c->n_ext; k++)
        if (r->ext[k] > 0 && s->free_ext[(size_t)node * SS_MAX_EXT + k] < r->ext[k])
            out[n++] = (key_t_){SS_EXPLAIN_EXT, k, 0};
    return n;
}

/* The explain kind of an inter-pod rule reason code. */
static int rule_kind(int why)
{
    switch (why) {
    case SS_REASON_SPREAD:
        return SS_EXPLAIN_SPREAD;
    case SS_REASON_SPREAD_LABEL:
        return SS_EXPLAIN_SPREAD_LABEL;
    case SS_REASON_POD_AFFINITY:
        return SS_EXPLAIN_POD_AFFINITY;
    case SS_REASON_POD_ANTI_AFFINITY:
        return SS_EXPLAIN_POD_ANTI;
    default:
        return SS_EXPLAIN_EXISTING_ANTI;
    }
}

/* The reasons node gives (0 = feasible); *unresolvable set when a static
 * filter, a missing spread key or pod affinity failed (kube's
 * UnschedulableAndUnresolvable), *rule when a resolvable inter-pod rule
 * did. */
static int node_reasons(const eval_t *e, int32_t node, key_t_ *out, bool *unresolvable, bool *rule)
{
    *rule = false;
    int why = ss_match_static(&e->mx, e->c, e->tmpl, node);
    *unresolvable = why != SS_REASON_NONE;
    switch (why) {
    case SS_REASON_NONE:
        break;
    case SS_REASON_CORDONED:
        out[0] = (key_t_){SS_EXPLAIN_UNSCHEDULABLE, 0, 0};
        return 1;
    case SS_REASON_TAINT:
        out[0].kind = SS_EXPLAIN_TAINT;
        first_untolerated(e, node, &out[0].a, &out[0].b);
        return 1;
    default: /* node selector, required affinity, GPU model (an affinity in kube) */
        out[0] = (key_t_){SS_EXPLAIN_AFFINITY, 0, 0};
        return 1;
    }
    if (ss_state_fit(e->s, e->t, node) != SS_REASON_NONE)
        return capacity_reasons(e, node, out);
    why = e->rules ? ss_explain_rules_check(e->rules, node) : SS_REASON_NONE;
    if (why == SS_REASON_NONE)
        return 0;
    *unresolvable = why == SS_REASON_SPREAD_LABEL || why == SS_REASON_POD_AFFINITY;
    *rule = !*unresolvable;
    out[0] = (key_t_){rule_kind(why), why, 0};
    return 1;
}

/* Adds one node to reason k of out, appending it when new. */
static int count_reason(ss_explain_t *out, int32_t *cap, const key_t_ *k)
{
    for (int32_t i = 0; i < out->n_reasons; i++) {
        ss_explain_reason_t *r = &out->reasons[i];
        if (r->kind == k->kind && r->a == k->a && r->b == k->b) {
            r->nodes++;
            return 0;
        }
    }
    if (out->n_reasons == *cap) {
        int32_t ncap = *cap ? 2 * *cap : 16;
        ss_explain_reason_t *nr = realloc(out->reasons, (size_t)ncap * sizeof *nr);
        if (!nr)
            return SS_ENOMEM;
        out->reasons = nr;
        *cap = ncap;
    }
    out->reasons[out->n_reasons++] = (ss_explain_reason_t){k->kind, k->a, k->b, 1, NULL};
    return 0;
}

static const char *str_or_empty(const ss_cluster_t *c, int32_t id)
{
    const char *s = id >= 0 ? ss_cluster_strget(c, id) : NULL;
    return s ? s : "";
}

/* kube's text of reason r; NULL if out of memory. */
static char *reason_text(const ss_cluster_t *c, const ss_explain_reason_t *r)
{
    const char *fixed = NULL;
    switch (r->kind) {
    case SS_EXPLAIN_UNSCHEDULABLE:
        fixed = "node(s) were unschedulable";
        break;
    case SS_EXPLAIN_AFFINITY:
        fixed = "node(s) didn't match Pod's node affinity/selector";
        break;
    case SS_EXPLAIN_PODS:
        fixed = "Too many pods";
        break;
    case SS_EXPLAIN_CPU:
        fixed = "Insufficient cpu";
        break;
    case SS_EXPLAIN_MEMORY:
        fixed = "Insufficient memory";
        break;
    case SS_EXPLAIN_GPU:
        fixed = "Insufficient nvidia.com/gpu";
        break;
    case SS_EXPLAIN_SPREAD:
    case SS_EXPLAIN_SPREAD_LABEL:
    case SS_EXPLAIN_POD_AFFINITY:
    case SS_EXPLAIN_POD_ANTI:
    case SS_EXPLAIN_EXISTING_ANTI:
        fixed = ss_reason_text(r->a); /* the engine's reason texts are kube's */
        break;
    default: /* SS_EXPLAIN_TAINT, SS_EXPLAIN_EXT: texts with names */
        break;
    }
    if (fixed)
        return strdup(fixed);
    const char *k =
        r->kind == SS_EXPLAIN_EXT ? str_or_empty(c, c->ext_name[r->a]) : str_or_empty(c, r->a);
    const char *v = r->kind == SS_EXPLAIN_EXT ? "" : str_or_empty(c, r->b);
    size_t n = strlen(k) + strlen(v) + 64;
    char *t = malloc(n);
    if (!t)
        return NULL;
    if (r->kind == SS_EXPLAIN_EXT)
        snprintf(t, n, "Insufficient %s", k);
    else
        snprintf(t, n, "node(s) had untolerated taint {%s: %s}", k, v);
    return t;
}

/* "<count> <text>", the string kube sorts; NULL if out of memory. */
static char *histogram_entry(int64_t count, const char *text)
{
    size_t n = strlen(text) + 24;
    char *s = malloc(n);
    if (s)
        snprintf(s, n, "%lld %s", (long long)count, text);
    return s;
}

typedef struct {
    char *line;
    ss_explain_reason_t r;
} sortrow_t;

static int cmp_row(const void *a, const void *b)
{
    return strcmp(((const sortrow_t *)a)->line, ((const sortrow_t *)b)->line);
}

/* Gives every reason its text and puts them in message order. */
static int sort_reasons(const ss_cluster_t *c, ss_explain_t *out)
{
    int rc = 0;
    sortrow_t *rows = calloc(out->n_reasons > 0 ? (size_t)out->n_reasons : 1, sizeof *rows);
    if (!rows)
        return SS_ENOMEM;
    for (int32_t i = 0; i < out->n_reasons && rc == 0; i++) {
        rows[i].r = out->reasons[i];
        out->reasons[i].text = reason_text(c, &out->reasons[i]);
        rows[i].r.text = out->reasons[i].text;
        if (!rows[i].r.text || !(rows[i].line = histogram_entry(rows[i].r.nodes, rows[i].r.text)))
            rc = SS_ENOMEM;
    }
    if (rc == 0) {
        qsort(rows, (size_t)out->n_reasons, sizeof *rows, cmp_row);
        for (int32_t i = 0; i < out->n_reasons; i++)
            out->reasons[i] = rows[i].r;
    }
    for (int32_t i = 0; i < out->n_reasons; i++)
        free(rows[i].line);
    free(rows);
    return rc;
}

static int32_t max_untolerated_prefer(const ss_cluster_t *c)
{
    int32_t most = 0;
    for (int32_t n = 0; n < c->n_nodes; n++) {
        int32_t k = 0;
        for (int32_t i = 0; i < c->node_taint_count[n]; i++)
            k += c->taints[c->node_taint_begin[n] + i].effect == SS_EFFECT_PREFER_NO_SCHEDULE;
        most = k > most ? k : most;
    }
    return most;
}

static void score_with(const ss_state_t *s, int32_t tmpl, const ss_policy_t *policy,
                       const ss_policy_ctx_t *px, int32_t node, int32_t max_untol,
                       const ss_match_ctx_t *mx, ss_explain_score_t *out)
{
    const ss_cluster_t *c = s->c;
    const ss_template_t *t = &c->templates[tmpl];
    int32_t total = 0, untol = 0;
    for (int32_t i = 0; i < t->pref_count; i++)
        total += c->terms[t->pref_begin + i].weight;
    ss_match_taints(mx, c, tmpl, node, &untol);
    int32_t pref = ss_match_preferred_weight(mx, c, tmpl, node);
    out->fit = SS_WEIGHT_FIT * ss_policy_fit(policy->id, px, s, t, node);
    /* The two static parts, each through the engine's own formula. */
    out->affinity = ss_policy_static_score(pref, total, 0, 0) - SS_WEIGHT_TAINT * 100;
    out->taint = ss_policy_static_score(0, 0, untol, max_untol);
    out->total = out->fit + out->affinity + out->taint;
}

void ss_explain_score(const ss_state_t *s, int32_t tmpl, const ss_policy_t *policy, int32_t node,
                      ss_explain_score_t *out)
{
    ss_match_ctx_t mx;
    ss_match_ctx_init(&mx, s->c);
    ss_policy_ctx_t *px = NULL;
    memset(out, 0, sizeof *out);
    if (ss_policy_ctx_create(policy, s->c, &px, NULL) < 0)
        return; /* out of memory: the breakdown stays zero */
    score_with(s, tmpl, policy, px, node, max_untolerated_prefer(s->c), &mx, out);
    ss_policy_ctx_destroy(px);
}

void ss_explain_free(ss_explain_t *e)
{
    if (!e)
        return;
    for (int32_t i = 0; i < e->n_reasons; i++)
        free(e->reasons[i].text);
    free(e->reasons);
    memset(e, 0, sizeof *e);
}

int ss_explain_nodes(const ss_state_t *s, int32_t tmpl, const ss_policy_t *policy,
                     ss_explain_t *out, ss_error_t *err)
{
    return ss_explain_nodes_rules(s, tmpl, NULL, policy, out, err);
}

int ss_explain_nodes_rules(const ss_state_t *s, int32_t tmpl, const ss_explain_rules_t *rules,
                           const ss_policy_t *policy, ss_explain_t *out, ss_error_t *err)
{
    memset(out, 0, sizeof *out);
    out->best_node = -1;
    if (!s || tmpl < 0 || tmpl >= s->c->n_templates)
        return ss_error_set(err, SS_EINVAL, "explain: template %d out of range", tmpl);
    eval_t e = {s->c, s, &s->c->templates[tmpl], {0}, tmpl, rules};
    ss_match_ctx_init(&e.mx, s->c);
    int32_t max_untol = policy ? max_untolerated_prefer(s->c) : 0, cap = 0;
    ss_policy_ctx_t *px = NULL;
    if (policy && ss_policy_ctx_create(policy, s->c, &px, err) < 0)
        return SS_ENOMEM;
    out->n_nodes = s->c->n_nodes;
    for (int32_t n = 0; n < s->c->n_nodes; n++) {
        key_t_ keys[MAX_NODE_REASONS];
        bool unresolvable, rule;
        int k = node_reasons(&e, n, keys, &unresolvable, &rule);
        if (k == 0) {
            out->n_feasible++;
            ss_explain_score_t sc;
            if (policy) {
                score_with(s, tmpl, policy, px, n, max_untol, &e.mx, &sc);
                if (out->best_node < 0 || sc.total > out->best_score) {
                    out->best_node = n;
                    out->best_score = sc.total;
                }
            }
            continue;
        }
        if (unresolvable)
            out->n_unresolvable++;
        else if (rule)
            out->n_rules++;
        else
            out->n_capacity++;
        for (int i = 0; i < k; i++)
            if (count_reason(out, &cap, &keys[i]) < 0)
                goto oom;
    }
    if (sort_reasons(s->c, out) < 0)
        goto oom;
    ss_policy_ctx_destroy(px);
    return 0;
oom:
    ss_policy_ctx_destroy(px);
    ss_explain_free(out);
    out->best_node = -1;
    return ss_error_set(err, SS_ENOMEM, "explain: out of memory counting reasons");
}

/* Appends printf output to the growing string *buf (length *len, capacity
 * *cap). Returns 0 or SS_ENOMEM. */
static int append(char **buf, size_t *len, size_t *cap, const char *a, const char *b)
{
    size_t need = *len + strlen(a) + strlen(b) + 1;
    if (need > *cap) {
        size_t ncap = need * 2;
        char *nb = realloc(*buf, ncap);
        if (!nb)
            return SS_ENOMEM;
        *buf = nb;
        *cap = ncap;
    }
    *len += (size_t)sprintf(*buf + *len, "%s%s", a, b);
    return 0;
}

/* Appends the preemption suffix (no node feasible). */
static int append_preemption(const ss_explain_t *e, char **buf, size_t *len, size_t *cap)
{
    char head[64], unres[64], cap_[96];
    snprintf(head, sizeof head, " preemption: 0/%d nodes are available:", e->n_nodes);
    snprintf(unres, sizeof unres, "%d Preemption is not helpful for scheduling", e->n_unresolvable);
    snprintf(cap_, sizeof cap_,
             "%d Preemption was not replayed (explain does not replay preemption)",
             e->n_capacity + e->n_rules);
    /* Two entries, sorted byte-wise like the filter histogram. */
    const char *x = e->n_unresolvable ? unres : NULL;
    const char *y = e->n_capacity + e->n_rules ? cap_ : NULL;
    if (x && y && strcmp(x, y) > 0) {
        const char *t = x;
        x = y;
        y = t;
    }
    int rc = append(buf, len, cap, head, " ");
    if (rc == 0)
        rc = append(buf, len, cap, x ? x : y, x && y ? ", " : ".");
    if (rc == 0 && x && y)
        rc = append(buf, len, cap, y, ".");
    return rc;
}

char *ss_explain_message(const ss_explain_t *e)
{
    if (e->n_nodes == 0)
        return strdup("no nodes available to schedule pods");
    size_t len = 0, cap = 0;
    char *buf = NULL, head[64], line[32];
    snprintf(head, sizeof head, "%d/%d nodes are available", e->n_feasible, e->n_nodes);
    int rc = append(&buf, &len, &cap, head, e->n_reasons ? ": " : ".");
    for (int32_t i = 0; i < e->n_reasons && rc == 0; i++) {
        snprintf(line, sizeof line, "%lld ", (long long)e->reasons[i].nodes);
        rc = append(&buf, &len, &cap, line, e->reasons[i].text);
        if (rc == 0)
            rc = append(&buf, &len, &cap, i + 1 < e->n_reasons ? ", " : ".", "");
    }
    if (rc == 0 && e->n_feasible == 0)
        rc = append_preemption(e, &buf, &len, &cap);
    if (rc < 0) {
        free(buf);
        return NULL;
    }
    return buf;
}

/* Row of pod in p (p->pod is increasing), or -1. */
static int32_t row_of(const ss_placements_t *p, int32_t pod)
{
    int32_t lo = 0, hi = p->n;
    while (lo < hi) {
        int32_t mid = lo + (hi - lo) / 2;
        if (p->pod[mid] < pod)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < p->n && p->pod[lo] == pod ? lo : -1;
}

int ss_explain_state(const ss_cluster_t *c, const ss_placements_t *p, const int32_t *order,
                     int32_t n_order, int32_t pod, ss_state_t **out, int32_t *position,
                     ss_error_t *err)
{
    *out = NULL;
    int32_t pos = -1;
    for (int32_t i = 0; i < n_order && pos < 0; i++) {
        if (order[i] < 0 || order[i] >= c->n_pods)
            return ss_error_set(err, SS_EINVAL, "explain: queue entry %d is pod %d, not a pod", i,
                                order[i]);
        if (order[i] == pod)
            pos = i;
        else if (row_of(p, order[i]) < 0)
            return ss_error_set(err, SS_EINVAL,
                                "explain: queued pod %d has no row in the placements", order[i]);
    }
    if (pos < 0)
        return ss_error_set(err, SS_ENOTFOUND, "explain: pod %d is not in the queue", pod);
    ss_state_t *s = ss_state_create(c);
    if (!s)
        return ss_error_set(err, SS_ENOMEM, "explain: out of memory building the state");
    for (int32_t i = 0; i < pos; i++) {
        int32_t row = row_of(p, order[i]);
        if (p->node[row] >= 0)
            ss_state_apply(s, &c->templates[c->pod_template[order[i]]], p->node[row],
                           p->gpu_mask[row], +1);
    }
    if (position)
        *position = pos;
    *out = s;
    return 0;
}
