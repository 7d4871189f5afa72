/* ss_verify: the independent checker (see ss_verify.h). Every rule is written
 * out here again with straightforward loops — labels scanned linearly, each
 * toleration tried against each taint, requests summed per node — on purpose:
 * this code must not share a bug with the engine's indexed fast paths. It
 * runs once per result, over up to 1,000,000 placement rows. */
#include "ss_verify.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "ss_reason.h"
#include "ss_verify_impl.h"

static const char *rule_texts[SS_VRULE_COUNT] = {
#define SS_VRULE_TEXT(name, text) text,
    SS_VRULE_MAP(SS_VRULE_TEXT)
#undef SS_VRULE_TEXT
};

const char *ss_verify_rule_text(int rule)
{
    return rule >= 0 && rule < SS_VRULE_COUNT ? rule_texts[rule] : "unknown rule";
}

static const char *effect_name(int32_t effect)
{
    switch (effect) {
    case SS_EFFECT_NO_SCHEDULE:
        return "NoSchedule";
    case SS_EFFECT_PREFER_NO_SCHEDULE:
        return "PreferNoSchedule";
    case SS_EFFECT_NO_EXECUTE:
        return "NoExecute";
    }
    return "";
}

void ss_verify_violation(vctx_t *v, int rule, int32_t pod, int32_t node, const char *fmt, ...)
{
    ss_verify_report_t *rep = v->rep;
    rep->violations++;
    rep->by_rule[rule]++;
    if (rep->n_messages >= SS_VERIFY_MAX_MESSAGES)
        return;
    const ss_cluster_t *c = v->c;
    char who[128] = "pod ?", where[96] = "(no node)", detail[192] = "";
    if (pod >= 0) {
        const char *ns = ss_cluster_strget(c, c->pod_ns[pod]);
        snprintf(who, sizeof who, "pod %s%s%s", ns, *ns ? "/" : "",
                 ss_cluster_strget(c, c->pod_name[pod]));
    }
    if (node >= 0 && node < c->n_nodes)
        snprintf(where, sizeof where, "node %s", ss_cluster_strget(c, c->node_name[node]));
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(detail, sizeof detail, fmt, ap);
        va_end(ap);
    }
    snprintf(rep->messages[rep->n_messages++], SS_VERIFY_MSG_LEN, "%.127s on %.95s: %s%s%.191s",
             who, where, rule_texts[rule], *detail ? ": " : "", detail);
}

/* ---- Kubernetes matching rules, written out plainly ---- */

/* Value id of label key on node, or -1 when the node has no such label. The
 * hostname label is implied by the node name when not stored. */
int32_t ss_verify_node_label(const vctx_t *v, int32_t node, int32_t key)
{
    const ss_cluster_t *c = v->c;
    int32_t b = c->node_label_begin[node], n = c->node_label_count[node];
    for (int32_t i = b; i < b + n; i++)
        if (c->labels[i].key == key)
            return c->labels[i].value;
    if (key >= 0 && key == v->hostname_key)
        return c->node_name[node];
    return -1;
}

/* Kubernetes' Toleration.ToleratesTaint. */
static bool tolerates(const ss_toleration_t *t, int32_t key, int32_t value, int32_t effect)
{
    if (t->effect != SS_EFFECT_ANY && t->effect != effect)
        return false;
    if (t->key != 0 && t->key != key)
        return false;
    if (t->op == SS_TOL_EXISTS)
        return true;
    return t->op == SS_TOL_EQUAL && t->value == value;
}

static bool template_tolerates(const ss_cluster_t *c, const ss_template_t *t, int32_t key,
                               int32_t value, int32_t effect)
{
    for (int32_t i = t->tol_begin; i < t->tol_begin + t->tol_count; i++)
        if (tolerates(&c->tolerations[i], key, value, effect))
            return true;
    return false;
}

/* Go's strconv.ParseInt(s, 10, 64): optional sign, then only decimal digits,
 * no overflow. */
static bool parse_int64(const char *s, int64_t *out)
{
    const char *d = (*s == '+' || *s == '-') ? s + 1 : s;
    if (!*d)
        return false;
    for (const char *q = d; *q; q++)
        if (*q < '0' || *q > '9')
            return false;
    errno = 0;
    char *end;
    long long x = strtoll(s, &end, 10);
    if (errno == ERANGE || *end)
        return false;
    *out = (int64_t)x;
    return true;
}

static bool value_in(const ss_cluster_t *c, const ss_expr_t *e, int32_t value)
{
    for (int32_t i = e->val_begin; i < e->val_begin + e->val_count; i++)
        if (c->expr_values[i] == value)
            return true;
    return false;
}

/* One node selector requirement against a node (labels.Requirement.Matches;
 * matchFields compares metadata.name). */
static bool expr_matches(const vctx_t *v, const ss_expr_t *e, int32_t node)
{
    const ss_cluster_t *c = v->c;
    int32_t value = e->is_field ? c->node_name[node] : ss_verify_node_label(v, node, e->key);
    bool has = value >= 0;
    switch (e->op) {
    case SS_OP_IN:
        return has && value_in(c, e, value);
    case SS_OP_NOT_IN:
        return !has || !value_in(c, e, value);
    case SS_OP_EXISTS:
        return has;
    case SS_OP_DOES_NOT_EXIST:
        return !has;
    case SS_OP_GT:
    case SS_OP_LT: {
        int64_t have, want;
        if (!has || e->val_count != 1 || !parse_int64(ss_cluster_strget(c, value), &have) ||
            !parse_int64(ss_cluster_strget(c, c->expr_values[e->val_begin]), &want))
            return false;
        return e->op == SS_OP_GT ? have > want : have < want;
    }
    }
    return false;
}

/* Required node affinity: terms ORed, expressions ANDed, an empty term
 * matches nothing, no terms at all means no constraint. */
static bool affinity_matches(const vctx_t *v, const ss_template_t *t, int32_t node)
{
    const ss_cluster_t *c = v->c;
    if (t->req_count == 0)
        return true;
    for (int32_t i = t->req_begin; i < t->req_begin + t->req_count; i++) {
        const ss_term_t *term = &c->terms[i];
        bool all = term->expr_count > 0;
        for (int32_t e = term->expr_begin; all && e < term->expr_begin + term->expr_count; e++)
            all = expr_matches(v, &c->exprs[e], node);
        if (all)
            return true;
    }
    return false;
}

/* ---- per placed pod ---- */

static void check_taints(vctx_t *v, const ss_template_t *t, int32_t pod, int32_t node)
{
    const ss_cluster_t *c = v->c;
    if (c->node_unsched[node] &&
        !template_tolerates(c, t, v->unsched_key, 0, SS_EFFECT_NO_SCHEDULE))
        ss_verify_violation(v, SS_VRULE_CORDONED, pod, node, NULL);
    int32_t b = c->node_taint_begin[node], n = c->node_taint_count[node];
    for (int32_t i = b; i < b + n; i++) {
        const ss_taint_t *x = &c->taints[i];
        if (x->effect != SS_EFFECT_NO_SCHEDULE && x->effect != SS_EFFECT_NO_EXECUTE)
            continue;
        if (!template_tolerates(c, t, x->key, x->value, x->effect)) {
            ss_verify_violation(v, SS_VRULE_TAINT, pod, node, "%s=%s:%s",
                                ss_cluster_strget(c, x->key), ss_cluster_strget(c, x->value),
                                effect_name(x->effect));
            return; /* one per pod */
        }
    }
}

static void check_selectors(vctx_t *v, const ss_template_t *t, int32_t pod, int32_t node)
{
    const ss_cluster_t *c = v->c;
    for (int32_t i = t->sel_begin; i < t->sel_begin + t->sel_count; i++) {
        const ss_label_t *l = &c->labels[i];
        if (ss_verify_node_label(v, node, l->key) != l->value) {
            ss_verify_violation(v, SS_VRULE_SELECTOR, pod, node, "%s=%s",
                                ss_cluster_strget(c, l->key), ss_cluster_strget(c, l->value));
            break;
        }
    }
    if (!affinity_matches(v, t, node))
        ss_verify_violation(v, SS_VRULE_AFFINITY, pod, node, "none of %d terms matches",
                            t->req_count);
}

bool ss_verify_node_matches(const vctx_t *v, const ss_template_t *t, int32_t node)
{
    const ss_cluster_t *c = v->c;
    for (int32_t i = t->sel_begin; i < t->sel_begin + t->sel_count; i++)
        if (ss_verify_node_label(v, node, c->labels[i].key) != c->labels[i].value)
            return false;
    return affinity_matches(v, t, node);
}

bool ss_verify_taints_tolerated(const vctx_t *v, const ss_template_t *t, int32_t node)
{
    const ss_cluster_t *c = v->c;
    int32_t b = c->node_taint_begin[node], n = c->node_taint_count[node];
    for (int32_t i = b; i < b + n; i++) {
        const ss_taint_t *x = &c->taints[i];
        if ((x->effect == SS_EFFECT_NO_SCHEDULE || x->effect == SS_EFFECT_NO_EXECUTE) &&
            !template_tolerates(c, t, x->key, x->value, x->effect))
            return false;
    }
    return true;
}

/* A MIG pod's mask: mig_count instances of the node, each of its profile
 * (verify's own reading of docs/mig.md's numbering, not the engine's). */
static void check_mig(vctx_t *v, const ss_template_t *t, int32_t pod, int32_t node, uint64_t mask)
{
    const ss_cluster_t *c = v->c;
    int32_t idx = 0, bits = __builtin_popcountll(mask);
    if (bits != t->mig_count)
        ss_verify_violation(v, SS_VRULE_MIG, pod, node, "%d MIG instance(s) for a request of %d",
                            bits, t->mig_count);
    for (int32_t g = c->node_gpu_begin[node]; g < c->node_gpu_begin[node] + c->node_gpu_count[node];
         g++) {
        int32_t n = c->gpu_mig_model[g] ? c->gpu_mig_count[g] : 0;
        for (int32_t j = 0; j < n; j++, idx++)
            if (idx < 64 && (mask >> idx & 1) &&
                c->mig_insts[c->gpu_mig_begin[g] + j].profile != t->mig_profile)
                ss_verify_violation(
                    v, SS_VRULE_MIG, pod, node,
                    "MIG instance %d is %s, the pod asks nvidia.com/mig-%s", idx,
                    ss_cluster_strget(c, c->mig_insts[c->gpu_mig_begin[g] + j].profile),
                    ss_cluster_strget(c, t->mig_profile));
    }
    if (idx < 64 && (mask >> idx) != 0)
        ss_verify_violation(v, SS_VRULE_MIG, pod, node,
                            "mask 0x%llx names MIG instances the node does not have (it has %d)",
                            (unsigned long long)mask, idx);
}

static void check_gpus(vctx_t *v, const ss_template_t *t, int32_t pod, int32_t node, uint64_t mask)
{
    const ss_cluster_t *c = v->c;
    if (t->mig_count > 0) {
        check_mig(v, t, pod, node, mask);
        return;
    }
    int32_t ng = c->node_gpu_count[node], gb = c->node_gpu_begin[node];
    uint64_t inside = ng >= 64 ? UINT64_MAX : ((UINT64_C(1) << ng) - 1);
    int bits = __builtin_popcountll(mask);
    if (t->req.gpu_count == 0 && mask != 0) {
        ss_verify_violation(v, SS_VRULE_GPU_MASK, pod, node,
                            "GPUs assigned to a pod that asks none");
        return;
    }
    if (t->req.gpu_count == 0)
        return;
    if (bits != t->req.gpu_count || (mask & ~inside) != 0) {
        ss_verify_violation(v, SS_VRULE_GPU_MASK, pod, node,
                            "mask 0x%llx has %d GPUs for a request of %d, node has %d GPUs",
                            (unsigned long long)mask, bits, t->req.gpu_count, ng);
        return;
    }
    for (int32_t b = 0; b < ng; b++)
        if ((mask >> b & 1) && c->gpu_mig_model[gb + b]) {
            ss_verify_violation(v, SS_VRULE_GPU_MASK, pod, node,
                                "GPU %d is in MIG mode: it serves MIG requests only", b);
            return;
        }
    if (t->model_count == 0)
        return;
    for (int32_t b = 0; b < ng; b++) {
        if (!(mask >> b & 1))
            continue;
        int32_t model = c->gpu_model[gb + b];
        bool ok = false;
        for (int32_t m = t->model_begin; m < t->model_begin + t->model_count && !ok; m++)
            ok = c->models[m] == model;
        if (!ok) {
            ss_verify_violation(v, SS_VRULE_GPU_MODEL, pod, node, "GPU %d is %s", b,
                                ss_cluster_strget(c, model));
            return;
        }
    }
}

static void check_row(vctx_t *v, int32_t row)
{
    const ss_cluster_t *c = v->c;
    const ss_placements_t *p = v->p;
    int32_t pod = ss_summary_row_pod(c, p, row);
    int32_t node = p->node[row], why = p->reason[row];
    if (pod < 0)
        return; /* reported by check_rows */
    if (node < -1 || node >= c->n_nodes) {
        ss_verify_violation(v, SS_VRULE_ROWS, pod, -1, "row %d: node index %d out of range", row,
                            node);
        return;
    }
    if (node == -1) {
        if (why == SS_REASON_NONE)
            ss_verify_violation(v, SS_VRULE_REASON, pod, -1, "unplaced with reason 'placed'");
        else if (why < 0 || why >= SS_REASON_COUNT)
            ss_verify_violation(v, SS_VRULE_REASON, pod, -1, "unknown reason code %d", why);
        if (p->gpu_mask[row] != 0)
            ss_verify_violation(v, SS_VRULE_GPU_MASK, pod, -1, "GPU mask set on an unplaced pod");
        return;
    }
    const ss_template_t *t = &c->templates[c->pod_template[pod]];
    if (why != SS_REASON_NONE)
        ss_verify_violation(v, SS_VRULE_REASON, pod, node, "placed with reason '%s'",
                            ss_reason_text(why));
    if (t->unsupported)
        ss_verify_violation(v, SS_VRULE_UNSUPPORTED, pod, node, "rule bits 0x%x", t->unsupported);
    check_taints(v, t, pod, node);
    check_selectors(v, t, pod, node);
    check_gpus(v, t, pod, node, p->gpu_mask[row]);
}

/* Rows name pending pods, strictly increasing, each pending pod once. */
static int check_rows(vctx_t *v, ss_error_t *err)
{
    const ss_cluster_t *c = v->c;
    const ss_placements_t *p = v->p;
    uint8_t *seen = calloc(c->n_pods > 0 ? (size_t)c->n_pods : 1, 1);
    if (!seen)
        return ss_error_set(err, SS_ENOMEM, "verify: out of memory for %d pods", c->n_pods);
    int32_t prev = -1;
    for (int32_t row = 0; row < p->n; row++) {
        int32_t pod = p->pod[row];
        if (ss_summary_row_pod(c, p, row) < 0)
            ss_verify_violation(v, SS_VRULE_ROWS, pod >= 0 && pod < c->n_pods ? pod : -1, -1,
                                "row %d names pod index %d, which is not a pending pod", row, pod);
        else if (seen[pod])
            ss_verify_violation(v, SS_VRULE_ROWS, pod, -1, "row %d: pod has two rows", row);
        else if (pod <= prev)
            ss_verify_violation(v, SS_VRULE_ROWS, pod, -1, "row %d: pod indices not increasing",
                                row);
        if (pod >= 0 && pod < c->n_pods)
            seen[pod] = 1;
        if (pod > prev)
            prev = pod;
    }
    for (int32_t pod = 0; pod < c->n_pods; pod++)
        if (c->pod_node[pod] == -1 && !seen[pod])
            ss_verify_violation(v, SS_VRULE_ROWS, pod, -1, "pending pod has no placements row");
    free(seen);
    return 0;
}

bool ss_verify_row_placed(const vctx_t *v, int32_t row)
{
    const ss_placements_t *p = v->p;
    return ss_summary_row_pod(v->c, p, row) >= 0 && p->node[row] >= 0 &&
           p->node[row] < v->c->n_nodes;
}

/* ---- commit order ---- */

static int order_cmp(const void *a, const void *b)
{
    const ss_verify_order_t *x = a, *y = b;
    if (x->key != y->key)
        return x->key < y->key ? -1 : 1;
    return (x->row > y->row) - (x->row < y->row);
}

/* The placed rows in replay order: by seq when any row has one (reporting
 * placed rows without one, unplaced rows with one and repeated values), else
 * queue order (priority descending, then pod index). *n_out = rows. */
ss_verify_order_t *ss_verify_commit_order(vctx_t *v, int32_t *n_out)
{
    const ss_cluster_t *c = v->c;
    const ss_placements_t *p = v->p;
    int by_seq = 0;
    for (int32_t row = 0; row < p->n && !by_seq; row++)
        by_seq = p->seq[row] >= 0;
    v->rep->rules.order_by_seq = by_seq;
    ss_verify_order_t *o = malloc((p->n > 0 ? (size_t)p->n : 1) * sizeof *o);
    if (!o)
        return NULL;
    int32_t n = 0;
    for (int32_t row = 0; row < p->n; row++) {
        int32_t q = ss_summary_row_pod(c, p, row);
        if (!ss_verify_row_placed(v, row)) {
            if (by_seq && p->seq[row] >= 0)
                ss_verify_violation(v, SS_VRULE_SEQ, q, -1, "unplaced row %d has seq %d", row,
                                    p->seq[row]);
            continue;
        }
        int64_t key = (int64_t)INT32_MAX - c->pod_priority[q];
        if (by_seq && p->seq[row] < 0)
            ss_verify_violation(v, SS_VRULE_SEQ, q, p->node[row], "placed row %d has no seq", row);
        if (by_seq)
            key = p->seq[row] >= 0 ? p->seq[row] : (int64_t)INT32_MAX + 1;
        o[n++] = (ss_verify_order_t){key, row};
    }
    qsort(o, (size_t)n, sizeof *o, order_cmp);
    for (int32_t i = 1; by_seq && i < n; i++)
        if (o[i].key == o[i - 1].key && o[i].key <= INT32_MAX)
            ss_verify_violation(v, SS_VRULE_SEQ, p->pod[o[i].row], p->node[o[i].row],
                                "rows %d and %d have the same seq %lld", o[i - 1].row, o[i].row,
                                (long long)o[i].key);
    *n_out = n;
    return o;
}

/* ---- gangs ---- */

/* Placed member pod (on node) of group g: counted, and held to g's level. */
static void check_member(vctx_t *v, int32_t g, int32_t pod, int32_t node, int32_t *placed,
                         int32_t *first, int32_t *first_pod, uint8_t *split)
{
    const ss_cluster_t *c = v->c;
    if (placed[g]++ == 0) {
        first[g] = node;
        first_pod[g] = pod;
        return;
    }
    int level = c->group_topo_level[g];
    if (c->group_topo_mode[g] == SS_TOPO_MODE_REQUIRED && !split[g] &&
        ss_summary_topo_common(c, first[g], node) <= level) {
        split[g] = 1;
        ss_verify_violation(v, SS_VRULE_TOPOLOGY, pod, node,
                            "group %s requires one %s; first member on %s",
                            ss_cluster_strget(c, c->group_name[g]), ss_topo_level_name(c, level),
                            ss_cluster_strget(c, c->node_name[first[g]]));
    }
}

static int check_gangs(vctx_t *v, ss_error_t *err)
{
    const ss_cluster_t *c = v->c;
    const ss_placements_t *p = v->p;
    size_t ng = c->n_groups > 0 ? (size_t)c->n_groups : 1;
    int32_t *running = calloc(ng, sizeof *running), *placed = calloc(ng, sizeof *placed);
    int32_t *first = malloc(ng * sizeof *first), *first_pod = malloc(ng * sizeof *first_pod);
    uint8_t *split = calloc(ng, 1);
    if (!running || !placed || !first || !first_pod || !split) {
        free(running), free(placed), free(first), free(first_pod), free(split);
        return ss_error_set(err, SS_ENOMEM, "verify: out of memory for %d groups", c->n_groups);
    }
    /* A member of a sub-group is a member of every group around it. */
    for (int32_t pod = 0; pod < c->n_pods; pod++)
        if (c->pod_node[pod] >= 0 && c->pod_group[pod] >= 0 && c->pod_group[pod] < c->n_groups)
            for (int32_t g = c->pod_group[pod]; g >= 0; g = c->group_parent[g])
                running[g]++;
    for (int32_t row = 0; row < p->n; row++) {
        int32_t pod = ss_summary_row_pod(c, p, row), node = p->node[row];
        if (pod < 0 || node < 0 || node >= c->n_nodes || c->pod_group[pod] < 0 ||
            c->pod_group[pod] >= c->n_groups)
            continue;
        for (int32_t g = c->pod_group[pod]; g >= 0; g = c->group_parent[g])
            check_member(v, g, pod, node, placed, first, first_pod, split);
    }
    for (int32_t g = 0; g < c->n_groups; g++) {
        int32_t top = g; /* a sub-group counts once its gang placed anything */
        while (c->group_parent[top] >= 0)
            top = c->group_parent[top];
        if (top != g && placed[top] > 0 && placed[g] == 0) {
            first_pod[g] = first_pod[top];
            first[g] = first[top];
        }
        if (placed[top] > 0 && placed[g] + running[g] < c->group_min_member[g])
            ss_verify_violation(v, SS_VRULE_GANG, first_pod[g], first[g],
                                "group %s: %d placed + %d running < minMember %d",
                                ss_cluster_strget(c, c->group_name[g]), placed[g], running[g],
                                c->group_min_member[g]);
    }
    free(running), free(placed), free(first), free(first_pod), free(split);
    return 0;
}

/* ---- driver ---- */

int64_t ss_verify(const ss_cluster_t *c, const ss_placements_t *p, ss_verify_report_t *rep,
                  ss_error_t *err)
{
    return ss_verify_with(c, p, 0, rep, err);
}

int64_t ss_verify_with(const ss_cluster_t *c, const ss_placements_t *p, int pdb_hard,
                       ss_verify_report_t *rep, ss_error_t *err)
{
    memset(rep, 0, sizeof *rep);
    if (!c || !p)
        return ss_error_set(err, SS_EINVAL, "verify: no cluster or no placements");
    vctx_t v = {c, p, rep, ss_strtab_find(c->strings, "kubernetes.io/hostname"),
                ss_strtab_find(c->strings, "node.kubernetes.io/unschedulable")};
    /* A key never interned matches no toleration key but the empty one. */
    if (v.unsched_key < 0)
        v.unsched_key = INT32_MIN;
    ss_usage_t u;
    int rc = check_rows(&v, err);
    if (rc < 0)
        return rc;
    for (int32_t row = 0; row < p->n; row++)
        check_row(&v, row);
    if ((rc = ss_usage_compute(c, p, &u, err)) < 0)
        return rc;
    if ((rc = ss_verify_replay(&v, pdb_hard, err)) < 0 || (rc = check_gangs(&v, err)) < 0 ||
        (rc = ss_summary_compute(c, p, &u, &rep->summary, err)) < 0) {
        ss_usage_free(&u);
        return rc;
    }
    ss_usage_free(&u);
    return rep->violations;
}

void ss_verify_report_free(ss_verify_report_t *rep)
{
    if (rep)
        ss_summary_free(&rep->summary);
}

void ss_verify_print_violations(FILE *f, const ss_verify_report_t *rep)
{
    if (rep->violations == 0)
        return;
    for (int32_t i = 0; i < rep->n_messages; i++)
        fprintf(f, "violation: %s\n", rep->messages[i]);
    if (rep->violations > rep->n_messages)
        fprintf(f, "... and %lld more\n", (long long)(rep->violations - rep->n_messages));
    fprintf(f, "%lld violation(s):", (long long)rep->violations);
    for (int r = 0; r < SS_VRULE_COUNT; r++)
        if (rep->by_rule[r])
            fprintf(f, " %s: %lld;", rule_texts[r], (long long)rep->by_rule[r]);
    fprintf(f, "\n");
}

void ss_verify_print_summary(FILE *f, const ss_verify_report_t *rep)
{
    ss_summary_print(f, &rep->summary);
    ss_verify_print_rules(f, rep);
}

void ss_verify_print_rules(FILE *f, const ss_verify_report_t *rep)
{
    const ss_verify_rules_t *s = &rep->rules;
    fprintf(f, "commit order: %s\n", s->order_by_seq ? "seq" : "queue (no seq in the file)");
    fprintf(f, "spread constraints (DoNotSchedule): %lld checked, %lld violated\n",
            (long long)s->spread_checked, (long long)s->spread_violated);
    fprintf(f, "pod affinity (required): %lld checked, %lld violated\n",
            (long long)s->affinity_checked, (long long)s->affinity_violated);
    fprintf(f, "pod anti-affinity (required, both directions): %lld checked, %lld violated\n",
            (long long)s->anti_checked, (long long)s->anti_violated);
    fprintf(f, "preemption: %lld victims of %lld preemptors\n", (long long)s->victims,
            (long long)s->preemptors);
    fprintf(f, "PDB budget exceeded: %lld of %lld%s\n", (long long)s->pdb_exceeded,
            (long long)s->pdbs, s->pdb_hard ? " (hard: violations)" : " (best effort)");
}
