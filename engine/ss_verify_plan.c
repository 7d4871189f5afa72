/* ss_verify_plan: the independent checker of consolidate plans
 * (ss_verify_plan.h). It keeps its own free capacity per node and GPU and
 * its own reading of the drain conventions, and shares with the planner only
 * the definitions: the static filters (ss_match_static), what a selector
 * and a PDB mean (ss_rules.h), and the MIG instance numbering. */
#include "ss_verify_plan.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "ss_match.h"
#include "ss_rules.h"

typedef struct {
    const ss_cluster_t *c;
    const ss_cplan_t *p;
    ss_vplan_report_t *r;
    ss_match_ctx_t x;
    int64_t *cpu, *mem, *ext; /* free, per node (ext: n_nodes x SS_MAX_EXT) */
    int32_t *pods, *gpu;      /* free pod slots per node; free milli per GPU record */
    uint64_t *mig;            /* taken node-local MIG instances per node */
    int32_t *at;              /* where each pod is now */
    int32_t *moved_wave;      /* the wave a pod moved in, 0: not moved */
    uint8_t *drained;
    int32_t host;
    int32_t *dcnt;     /* [strings + 1] scratch: pods per domain value */
    uint8_t *elig;     /* [n_nodes] scratch: a spread constraint's eligible nodes */
    int32_t *termpods; /* running pods with a required non-hostname anti-affinity term */
    int32_t n_termpods;
} vx_t;

static void viol(vx_t *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void viol(vx_t *v, const char *fmt, ...)
{
    ss_vplan_report_t *r = v->r;
    if (r->n_messages < SS_VPLAN_MAX_MESSAGES) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(r->messages[r->n_messages++], SS_VPLAN_MSG_LEN, fmt, ap);
        va_end(ap);
    }
    r->violations++;
}

static const char *pod_s(const vx_t *v, int32_t q, char *buf, size_t n)
{
    snprintf(buf, n, "pod %s/%s", ss_cluster_strget(v->c, v->c->pod_ns[q]),
             ss_cluster_strget(v->c, v->c->pod_name[q]));
    return buf;
}

static const char *node_s(const vx_t *v, int32_t n)
{
    return ss_cluster_strget(v->c, v->c->node_name[n]);
}

/* Takes (sign +1) or gives back (-1) pod q's request on node n with mask. */
static void take(vx_t *v, int32_t q, int32_t n, uint64_t mask, int sign)
{
    const ss_cluster_t *c = v->c;
    const ss_template_t *t = &c->templates[c->pod_template[q]];
    v->cpu[n] = ss_sat_sub64(v->cpu[n], sign * t->req.cpu_milli);
    v->mem[n] = ss_sat_sub64(v->mem[n], sign * t->req.memory);
    v->pods[n] -= sign;
    for (int k = 0; k < c->n_ext; k++)
        v->ext[(size_t)n * SS_MAX_EXT + k] -= sign * t->req.ext[k];
    if (t->mig_count > 0) {
        v->mig[n] = sign > 0 ? v->mig[n] | mask : v->mig[n] & ~mask;
        return;
    }
    for (int32_t i = 0; i < c->node_gpu_count[n] && i < 64; i++)
        if (mask >> i & 1)
            v->gpu[c->node_gpu_begin[n] + i] -= sign * t->req.gpu_milli;
}

/* The drain conventions, read again: NULL when q may move under allow. */
static const char *unmovable(const vx_t *v, int32_t q, uint32_t allow)
{
    const ss_cluster_t *c = v->c;
    const ss_template_t *t = &c->templates[c->pod_template[q]];
    uint32_t f = t->flags;
    bool pdb = false;
    for (int32_t k = 0; k < c->n_pdbs; k++)
        pdb |= ss_pdb_covers(c, &c->pdbs[k], q);
    if (f & (SS_TF_DAEMONSET | SS_TF_MIRROR))
        return f & SS_TF_DAEMONSET ? "a DaemonSet pod" : "a mirror pod";
    if (!(f & SS_TF_CONTROLLER) && !(allow & SS_ALLOW_BARE))
        return "a pod without a controller";
    if ((f & SS_TF_NOT_SAFE_EVICT) && !(allow & SS_ALLOW_NOT_SAFE))
        return "annotated safe-to-evict: false";
    if ((f & SS_TF_DO_NOT_DISRUPT) && !(allow & SS_ALLOW_DO_NOT_DISRUPT))
        return "annotated do-not-disrupt";
    if ((f & SS_TF_LOCAL_STORAGE) && !(f & SS_TF_SAFE_TO_EVICT) &&
        !(allow & SS_ALLOW_LOCAL_STORAGE))
        return "a pod with local storage";
    if ((f & SS_TF_PVC) && !(allow & SS_ALLOW_PVC))
        return "a pod with a persistentVolumeClaim";
    const char *ns = ss_cluster_strget(c, c->pod_ns[q]);
    if (!strcmp(ns, "kube-system") && !pdb && !(f & SS_TF_SAFE_TO_EVICT) &&
        !(allow & SS_ALLOW_KUBE_SYSTEM))
        return "a kube-system pod without a PDB";
    return NULL;
}

/* Resources and GPUs of move i on its target now. NULL or what fails. */
static const char *fits(const vx_t *v, int32_t q, int32_t n, uint64_t mask)
{
    const ss_cluster_t *c = v->c;
    const ss_template_t *t = &c->templates[c->pod_template[q]];
    if (v->pods[n] < 1)
        return "no pod slot";
    if (v->cpu[n] < t->req.cpu_milli)
        return "cpu";
    if (v->mem[n] < t->req.memory)
        return "memory";
    for (int k = 0; k < c->n_ext; k++)
        if (t->req.ext[k] > 0 && v->ext[(size_t)n * SS_MAX_EXT + k] < t->req.ext[k])
            return "extended resource";
    int32_t ng = c->node_gpu_count[n], bits = __builtin_popcountll(mask);
    if (t->mig_count > 0) {
        int32_t ni = ss_cluster_node_mig_count(c, n);
        if (bits != t->mig_count || (ni < 64 && (mask >> ni)) || (mask & v->mig[n]))
            return "MIG instances (count, range or already taken)";
        for (int32_t i = 0; i < ni; i++)
            if ((mask >> i & 1) &&
                c->mig_insts[ss_cluster_node_mig_inst(c, n, i, NULL)].profile != t->mig_profile)
                return "MIG instance of another profile";
        return NULL;
    }
    if (bits != t->req.gpu_count || (ng < 64 && (mask >> ng)))
        return "GPU mask (count or range)";
    for (int32_t i = 0; i < ng && i < 64; i++)
        if ((mask >> i & 1) && v->gpu[c->node_gpu_begin[n] + i] < t->req.gpu_milli)
            return "GPU capacity";
    return NULL;
}

static bool anti_host(const vx_t *v, int32_t a, int32_t b)
{
    const ss_cluster_t *c = v->c;
    const ss_template_t *t = &c->templates[c->pod_template[a]];
    for (int32_t i = 0; i < t->pterm_count; i++) {
        const ss_podterm_t *pt = &c->pterms[t->pterm_begin + i];
        if (pt->weight == 0 && pt->kind == SS_PT_ANTI_AFFINITY && pt->key == v->host &&
            ss_pterm_matches_pod(c, pt, c->pod_ns[a], b))
            return true;
    }
    return false;
}

/* ---- inter-pod rules (docs/kubernetes.md "Inter-pod rules", filters 1-4),
 * recounted from where every pod is now; the mover q is lifted (at -1) ---- */

static bool nval(const vx_t *v, int32_t n, int32_t key, int32_t *val)
{
    return n >= 0 && ss_node_label(&v->x, v->c, n, key, val) && *val >= 0;
}

/* Spread constraint s of q's template on node `to`: NULL or what fails. */
static const char *spread_fails(vx_t *v, int32_t q, const ss_spread_t *s, int32_t to)
{
    const ss_cluster_t *c = v->c;
    int32_t tm = c->pod_template[q], val, vt;
    const ss_template_t *t = &c->templates[tm];
    if (!nval(v, to, s->key, &vt))
        return "the node lacks the spread constraint's topology key";
    for (int32_t n = 0; n < c->n_nodes; n++) {
        bool ok = true;
        for (int32_t i = 0; i < t->spread_count && ok; i++) {
            const ss_spread_t *o = &c->spreads[t->spread_begin + i];
            ok = o->when != SS_WHEN_DO_NOT_SCHEDULE || nval(v, n, o->key, &val);
        }
        if (ok && s->node_affinity_policy == SS_INCL_HONOR)
            ok = ss_match_node_selector(&v->x, c, tm, n) &&
                 ss_match_required_affinity(&v->x, c, tm, n);
        if (ok && s->node_taints_policy == SS_INCL_HONOR)
            ok = ss_match_taints(&v->x, c, tm, n, NULL) == 1;
        v->elig[n] = ok;
    }
    for (int32_t o = 0; o < c->n_pods; o++)
        if (v->at[o] >= 0 && v->elig[v->at[o]] && c->pod_ns[o] == c->pod_ns[q] &&
            nval(v, v->at[o], s->key, &val) && ss_sel_match_pod(c, &s->sel, o))
            v->dcnt[val]++;
    int32_t min = INT32_MAX, domains = 0, here = v->dcnt[vt];
    for (int32_t n = 0; n < c->n_nodes; n++) /* each eligible domain once: mark it -1 - cnt */
        if (v->elig[n] && nval(v, n, s->key, &val) && v->dcnt[val] >= 0) {
            domains++;
            min = v->dcnt[val] < min ? v->dcnt[val] : min;
            v->dcnt[val] = -1 - v->dcnt[val];
        }
    for (int32_t n = 0; n < c->n_nodes; n++)
        if (nval(v, n, s->key, &val))
            v->dcnt[val] = 0;
    if (domains < s->min_domains || domains == 0)
        min = 0;
    int32_t self = ss_sel_match_pod(c, &s->sel, q);
    return here + self - min > s->max_skew ? "DoNotSchedule topology spread (skew)" : NULL;
}

/* A pod placed now, other than q, in to's domain of key that term (of a pod
 * in owner_ns) matches: its row, or -1. any: the node may be anywhere with
 * the key. */
static int32_t term_pod(const vx_t *v, const ss_podterm_t *pt, int32_t owner_ns, int32_t to,
                        bool any)
{
    int32_t vt = -1, val;
    if (!any && !nval(v, to, pt->key, &vt))
        return -1;
    for (int32_t o = 0; o < v->c->n_pods; o++)
        if (v->at[o] >= 0 && nval(v, v->at[o], pt->key, &val) && (any || val == vt) &&
            ss_pterm_matches_pod(v->c, pt, owner_ns, o))
            return o;
    return -1;
}

/* q's own required pod affinity and non-hostname anti-affinity on `to`. */
static const char *terms_fail(const vx_t *v, int32_t q, int32_t to)
{
    const ss_cluster_t *c = v->c;
    const ss_template_t *t = &c->templates[c->pod_template[q]];
    int32_t ns = c->pod_ns[q], val;
    bool any_aff = false, waived = true;
    for (int32_t i = 0; i < t->pterm_count; i++) {
        const ss_podterm_t *pt = &c->pterms[t->pterm_begin + i];
        if (pt->weight == 0 && pt->kind == SS_PT_AFFINITY) {
            any_aff = true;
            waived = waived && ss_pterm_matches_pod(c, pt, ns, q) && term_pod(v, pt, ns, to, 1) < 0;
        }
    }
    for (int32_t i = 0; i < t->pterm_count; i++) {
        const ss_podterm_t *pt = &c->pterms[t->pterm_begin + i];
        if (pt->weight != 0)
            continue;
        if (pt->kind == SS_PT_AFFINITY && !nval(v, to, pt->key, &val))
            return "the node lacks a required pod affinity term's topology key";
        if (pt->kind == SS_PT_AFFINITY && !(any_aff && waived) && term_pod(v, pt, ns, to, 0) < 0)
            return "required pod affinity (no matching pod in the node's domain)";
        if (pt->kind == SS_PT_ANTI_AFFINITY && pt->key != v->host &&
            term_pod(v, pt, ns, to, 0) >= 0)
            return "required pod anti-affinity (a matching pod in the node's domain)";
    }
    return NULL;
}

/* Running pods' required non-hostname anti-affinity against q on `to`: the
 * row of a pod that repels it, or -1. */
static int32_t repelled_by(const vx_t *v, int32_t q, int32_t to)
{
    const ss_cluster_t *c = v->c;
    for (int32_t i = 0; i < v->n_termpods; i++) {
        int32_t e = v->termpods[i], ve, vt;
        const ss_template_t *t = &c->templates[c->pod_template[e]];
        for (int32_t k = 0; e != q && v->at[e] >= 0 && k < t->pterm_count; k++) {
            const ss_podterm_t *pt = &c->pterms[t->pterm_begin + k];
            if (pt->weight == 0 && pt->kind == SS_PT_ANTI_AFFINITY && pt->key != v->host &&
                nval(v, v->at[e], pt->key, &ve) && nval(v, to, pt->key, &vt) && ve == vt &&
                ss_pterm_matches_pod(c, pt, c->pod_ns[e], q))
                return e;
        }
    }
    return -1;
}

/* Move i's inter-pod rules, q lifted from its node. */
static void check_rules(vx_t *v, int32_t i, int32_t q, int32_t to, const char *who)
{
    const ss_cluster_t *c = v->c;
    const ss_template_t *t = &c->templates[c->pod_template[q]];
    int32_t at = v->at[q], e;
    const char *why = NULL;
    v->at[q] = -1;
    for (int32_t k = 0; k < t->spread_count && !why; k++)
        if (c->spreads[t->spread_begin + k].when == SS_WHEN_DO_NOT_SCHEDULE)
            why = spread_fails(v, q, &c->spreads[t->spread_begin + k], to);
    if (!why && t->pterm_count > 0)
        why = terms_fail(v, q, to);
    if (why)
        viol(v, "move %d: %s cannot go to %s after the earlier moves: %s", (int)i, who,
             node_s(v, to), why);
    if ((e = repelled_by(v, q, to)) >= 0) {
        char w2[400];
        viol(v, "move %d: %s cannot go to %s: required pod anti-affinity of %s on %s", (int)i, who,
             node_s(v, to), pod_s(v, e, w2, sizeof w2), node_s(v, v->at[e]));
    }
    v->at[q] = at;
}

/* Move i, after the earlier ones. */
static void check_move(vx_t *v, int32_t i, bool any_anti)
{
    const ss_cluster_t *c = v->c;
    const ss_cplan_t *p = v->p;
    int32_t q = p->move_pod[i], from = p->move_from[i], to = p->move_to[i];
    char who[400];
    const char *why;
    pod_s(v, q, who, sizeof who);
    if (i > 0 && p->move_wave[i] < p->move_wave[i - 1])
        viol(v, "move %d (%s): wave %d after wave %d (moves out of order)", (int)i, who,
             (int)p->move_wave[i], (int)p->move_wave[i - 1]);
    if (v->moved_wave[q])
        viol(v, "move %d: %s moved twice", (int)i, who);
    if (v->at[q] != from)
        viol(v, "move %d: %s is on %s, not on %s", (int)i, who, node_s(v, v->at[q]),
             node_s(v, from));
    if ((why = unmovable(v, q, p->allow)))
        viol(v, "move %d: %s may not move: %s", (int)i, who, why);
    if (to == from || v->drained[to])
        viol(v, "move %d: %s goes to %s, which %s", (int)i, who, node_s(v, to),
             to == from ? "it is on" : "the plan drains");
    int st = ss_match_static(&v->x, c, c->pod_template[q], to);
    if (st != 0)
        viol(v,
             "move %d: %s cannot run on %s: static filter %d (taint, cordon, selector, "
             "affinity or GPU model)",
             (int)i, who, node_s(v, to), st);
    if ((why = fits(v, q, to, p->move_gpu_mask[i])))
        viol(v, "move %d: %s does not fit on %s after the earlier moves: %s", (int)i, who,
             node_s(v, to), why);
    for (int32_t o = 0; any_anti && o < c->n_pods; o++)
        if (o != q && v->at[o] == to && (anti_host(v, o, q) || anti_host(v, q, o))) {
            char w2[400];
            viol(v, "move %d: %s and %s on %s: required hostname anti-affinity", (int)i, who,
                 pod_s(v, o, w2, sizeof w2), node_s(v, to));
        }
    check_rules(v, i, q, to, who);
    take(v, q, v->at[q], c->pod_gpu_mask[q], -1);
    take(v, q, to, p->move_gpu_mask[i], +1);
    v->at[q] = to;
    v->moved_wave[q] = p->move_wave[i];
}

/* Gangs whole and in one wave; PDB budgets per wave; drained nodes empty. */
static int check_end(vx_t *v)
{
    const ss_cluster_t *c = v->c;
    const ss_cplan_t *p = v->p;
    char who[400];
    /* a gang: every running member moved in the same wave, or none moved
     * (first[g]: the first running member's wave, -1 none seen yet) */
    int32_t *first = malloc((c->n_groups ? (size_t)c->n_groups : 1) * sizeof *first);
    if (!first)
        return SS_ENOMEM;
    for (int32_t g = 0; g < c->n_groups; g++)
        first[g] = -1;
    for (int32_t q = 0; q < c->n_pods; q++) {
        int32_t g = c->pod_group[q];
        if (c->pod_node[q] < 0)
            continue;
        if (g >= 0 && first[g] == -1)
            first[g] = v->moved_wave[q];
        else if (g >= 0 && first[g] != v->moved_wave[q] && first[g] != -2) {
            viol(v, "%s: gang %s not moved whole in one wave", pod_s(v, q, who, sizeof who),
                 ss_cluster_strget(c, c->group_name[g]));
            first[g] = -2; /* once per gang */
        }
        if (v->drained[v->at[q]])
            viol(v, "%s is still on %s, which the plan drains", pod_s(v, q, who, sizeof who),
                 node_s(v, v->at[q]));
    }
    free(first);
    int32_t *allowed = calloc(c->n_pdbs ? (size_t)c->n_pdbs : 1, sizeof *allowed);
    if (!allowed || ss_pdb_allowed_all(c, allowed) < 0) {
        free(allowed);
        return SS_ENOMEM;
    }
    size_t K = c->n_pdbs ? (size_t)c->n_pdbs : 1;
    int32_t *lost = calloc((size_t)(p->n_waves > 0 ? p->n_waves : 1) * K, sizeof *lost);
    if (!lost) {
        free(allowed);
        return SS_ENOMEM;
    }
    for (int32_t i = 0; i < p->n_moves; i++)
        for (int32_t k = 0; k < c->n_pdbs; k++)
            if (ss_pdb_covers(c, &c->pdbs[k], p->move_pod[i]))
                lost[(size_t)(p->move_wave[i] - 1) * K + (size_t)k]++;
    for (int32_t w = 1; w <= p->n_waves; w++)
        for (int32_t k = 0; k < c->n_pdbs; k++) {
            int32_t n = lost[(size_t)(w - 1) * K + (size_t)k];
            v->r->pdb_checked += n > 0;
            if (n > allowed[k])
                viol(v, "wave %d: PDB %s/%s loses %d pods, disruptionsAllowed %d", (int)w,
                     ss_cluster_strget(c, c->pdbs[k].ns), ss_cluster_strget(c, c->pdbs[k].name),
                     (int)n, (int)allowed[k]);
        }
    free(lost);
    free(allowed);
    return 0;
}

static int vx_init(vx_t *v, const ss_cluster_t *c, const ss_cplan_t *p, ss_vplan_report_t *r)
{
    size_t N = c->n_nodes ? (size_t)c->n_nodes : 1, P = c->n_pods ? (size_t)c->n_pods : 1;
    memset(v, 0, sizeof *v);
    v->c = c;
    v->p = p;
    v->r = r;
    ss_match_ctx_init(&v->x, c);
    v->host = v->x.hostname;
    v->cpu = malloc(N * sizeof *v->cpu);
    v->mem = malloc(N * sizeof *v->mem);
    v->ext = calloc(N * SS_MAX_EXT, sizeof *v->ext);
    v->pods = malloc(N * sizeof *v->pods);
    v->gpu = malloc((c->n_gpus ? (size_t)c->n_gpus : 1) * sizeof *v->gpu);
    v->mig = calloc(N, sizeof *v->mig);
    v->at = malloc(P * sizeof *v->at);
    v->moved_wave = calloc(P, sizeof *v->moved_wave);
    v->drained = calloc(N, 1);
    v->dcnt = calloc((size_t)ss_strtab_count(c->strings) + 1, sizeof *v->dcnt);
    v->elig = calloc(N, 1);
    v->termpods = malloc(P * sizeof *v->termpods);
    if (!v->dcnt || !v->elig || !v->termpods)
        return SS_ENOMEM;
    for (int32_t q = 0; q < c->n_pods; q++) {
        const ss_template_t *t = &c->templates[c->pod_template[q]];
        bool anti = false;
        for (int32_t k = 0; k < t->pterm_count; k++) {
            const ss_podterm_t *pt = &c->pterms[t->pterm_begin + k];
            anti |= pt->weight == 0 && pt->kind == SS_PT_ANTI_AFFINITY && pt->key != v->host;
        }
        if (anti && c->pod_node[q] >= 0)
            v->termpods[v->n_termpods++] = q;
    }
    if (!v->cpu || !v->mem || !v->ext || !v->pods || !v->gpu || !v->mig || !v->at ||
        !v->moved_wave || !v->drained)
        return SS_ENOMEM;
    for (int32_t n = 0; n < c->n_nodes; n++) {
        v->cpu[n] = c->node_cpu[n];
        v->mem[n] = c->node_mem[n];
        v->pods[n] = c->node_pods[n];
        for (int k = 0; k < c->n_ext; k++)
            v->ext[(size_t)n * SS_MAX_EXT + k] = c->node_ext[(size_t)n * SS_MAX_EXT + k];
    }
    for (int32_t g = 0; g < c->n_gpus; g++)
        v->gpu[g] = c->gpu_milli[g];
    for (int32_t q = 0; q < c->n_pods; q++)
        if ((v->at[q] = c->pod_node[q]) >= 0)
            take(v, q, c->pod_node[q], c->pod_gpu_mask[q], +1);
    for (int32_t i = 0; i < p->n_drain; i++)
        v->drained[p->drain_node[i]] = 1;
    return 0;
}

static void vx_free(vx_t *v)
{
    free(v->cpu);
    free(v->mem);
    free(v->ext);
    free(v->pods);
    free(v->gpu);
    free(v->mig);
    free(v->at);
    free(v->moved_wave);
    free(v->drained);
    free(v->dcnt);
    free(v->elig);
    free(v->termpods);
}

int64_t ss_verify_plan(const ss_cluster_t *c, const ss_cplan_t *p, ss_vplan_report_t *r,
                       ss_error_t *err)
{
    vx_t v;
    memset(r, 0, sizeof *r);
    int rc = vx_init(&v, c, p, r);
    bool any_anti = false;
    for (int32_t i = 0; i < c->n_pterms; i++)
        any_anti |= c->pterms[i].weight == 0 && c->pterms[i].kind == SS_PT_ANTI_AFFINITY &&
                    c->pterms[i].key == v.host;
    uint8_t *used = calloc(c->n_nodes ? (size_t)c->n_nodes : 1, 1);
    if (rc == 0 && used) {
        for (int32_t q = 0; q < c->n_pods; q++)
            if (c->pod_node[q] >= 0 && !used[c->pod_node[q]]++)
                r->in_use_before++;
        for (int32_t i = 0; i < p->n_moves; i++)
            check_move(&v, i, any_anti);
        rc = check_end(&v);
        memset(used, 0, c->n_nodes ? (size_t)c->n_nodes : 1);
        for (int32_t q = 0; q < c->n_pods; q++)
            if (v.at[q] >= 0 && !used[v.at[q]]++)
                r->in_use_after++;
    }
    r->nodes = c->n_nodes;
    r->freed = p->n_drain;
    r->moved = p->n_moves;
    r->waves = p->n_waves;
    r->lower_bound = ss_consolidate_lower_bound(c);
    free(used);
    vx_free(&v);
    if (rc < 0 || !used || r->lower_bound < 0)
        return ss_error_set(err, SS_ENOMEM, "verify --plan: out of memory");
    return r->violations;
}

void ss_verify_plan_print(FILE *f, const ss_vplan_report_t *r)
{
    for (int32_t i = 0; i < r->n_messages; i++)
        fprintf(f, "violation: %s\n", r->messages[i]);
    if (r->violations > r->n_messages)
        fprintf(f, "... and %lld more\n", (long long)(r->violations - r->n_messages));
    fprintf(f, "plan: %d nodes freed, %d pods moved, %d waves\n", (int)r->freed, (int)r->moved,
            (int)r->waves);
    fprintf(f, "nodes: %d, with running pods %d before, %d after; lower bound %d\n", (int)r->nodes,
            (int)r->in_use_before, (int)r->in_use_after, (int)r->lower_bound);
    fprintf(f, "PDB budgets checked: %d (wave, PDB) pairs\n", (int)r->pdb_checked);
}
