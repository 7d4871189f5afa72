/* ss_consolidate: which running pods may move (the drain conventions of
 * cluster-autoscaler and Karpenter, docs/consolidate.md), the --allow
 * words, the volume lower bound and the plan's memory. The planner itself is
 * in ss_consolidate_plan.c. */
#include "ss_consolidate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ss_rules.h"

static const char *const reason_names[SS_MOVE_COUNT] = {
    "movable",
    "no controller",
    "DaemonSet",
    "mirror pod",
    "local storage",
    "kube-system without a PDB",
    "persistentVolumeClaim",
    "safe-to-evict: false",
    "do-not-disrupt",
    "PDB allows no disruption",
    "inter-pod rules not checked by consolidate", /* unused: every required rule is checked */
    "gang cannot move whole",
};

const char *ss_move_reason_name(int r)
{
    return r >= 0 && r < SS_MOVE_COUNT ? reason_names[r] : NULL;
}

static const struct {
    const char *word;
    uint32_t bit;
} allow_words[] = {
    {"local-storage", SS_ALLOW_LOCAL_STORAGE},
    {"kube-system", SS_ALLOW_KUBE_SYSTEM},
    {"pvc", SS_ALLOW_PVC},
    {"bare", SS_ALLOW_BARE},
    {"not-safe-to-evict", SS_ALLOW_NOT_SAFE},
    {"do-not-disrupt", SS_ALLOW_DO_NOT_DISRUPT},
};
#define N_ALLOW (sizeof allow_words / sizeof allow_words[0])

int ss_allow_parse(const char *s, uint32_t *allow, ss_error_t *err)
{
    while (s && *s) {
        const char *end = strchr(s, ',');
        size_t len = end ? (size_t)(end - s) : strlen(s);
        size_t i;
        for (i = 0; i < N_ALLOW; i++)
            if (strlen(allow_words[i].word) == len && !strncmp(allow_words[i].word, s, len))
                break;
        if (i == N_ALLOW)
            return ss_error_set(err, SS_EINVAL,
                                "--allow: unknown word '%.*s' (known: local-storage, kube-system, "
                                "pvc, bare, not-safe-to-evict, do-not-disrupt)",
                                (int)len, s);
        *allow |= allow_words[i].bit;
        s = end ? end + 1 : s + len;
    }
    return 0;
}

void ss_allow_format(uint32_t allow, char *buf, size_t n)
{
    size_t at = 0;
    if (n)
        buf[0] = 0;
    for (size_t i = 0; i < N_ALLOW && n; i++)
        if (allow & allow_words[i].bit) {
            int w = snprintf(buf + at, n - at, "%s%s", at ? "," : "", allow_words[i].word);
            if (w < 0 || (size_t)w >= n - at)
                return;
            at += (size_t)w;
        }
}

void ss_cplan_free(ss_cplan_t *p)
{
    if (!p)
        return;
    free(p->drain_node);
    free(p->drain_wave);
    free(p->move_pod);
    free(p->move_from);
    free(p->move_to);
    free(p->move_wave);
    free(p->move_gpu_mask);
    memset(p, 0, sizeof *p);
}

int ss_consolidate_movable(const ss_cluster_t *c, int32_t pod, uint32_t allow,
                           const int32_t *allowed)
{
    const ss_template_t *t = &c->templates[c->pod_template[pod]];
    uint32_t f = t->flags;
    bool covered = false;
    if (f & SS_TF_MIRROR)
        return SS_MOVE_MIRROR;
    if (f & SS_TF_DAEMONSET)
        return SS_MOVE_DAEMONSET;
    if (!(f & SS_TF_CONTROLLER) && !(allow & SS_ALLOW_BARE))
        return SS_MOVE_BARE;
    if ((f & SS_TF_NOT_SAFE_EVICT) && !(allow & SS_ALLOW_NOT_SAFE))
        return SS_MOVE_NOT_SAFE;
    if ((f & SS_TF_DO_NOT_DISRUPT) && !(allow & SS_ALLOW_DO_NOT_DISRUPT))
        return SS_MOVE_DO_NOT_DISRUPT;
    if ((f & SS_TF_LOCAL_STORAGE) && !(f & SS_TF_SAFE_TO_EVICT) &&
        !(allow & SS_ALLOW_LOCAL_STORAGE))
        return SS_MOVE_LOCAL_STORAGE;
    if ((f & SS_TF_PVC) && !(allow & SS_ALLOW_PVC))
        return SS_MOVE_PVC;
    for (int32_t k = 0; k < c->n_pdbs; k++)
        if (c->pdbs[k].ns == c->pod_ns[pod] && ss_pdb_covers(c, &c->pdbs[k], pod)) {
            covered = true;
            if (allowed && allowed[k] <= 0)
                return SS_MOVE_PDB_ZERO;
        }
    const char *ns = ss_cluster_strget(c, c->pod_ns[pod]);
    if (ns && !strcmp(ns, "kube-system") && !covered && !(f & SS_TF_SAFE_TO_EVICT) &&
        !(allow & SS_ALLOW_KUBE_SYSTEM))
        return SS_MOVE_KUBE_SYSTEM;
    return SS_MOVE_OK;
}

static int cmp_desc64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? 1 : x > y ? -1 : 0;
}

/* The fewest of the largest capacities cap[0..n) whose sum reaches need. */
static int32_t fewest(int64_t *cap, int32_t n, int64_t need)
{
    if (need <= 0)
        return 0;
    qsort(cap, (size_t)n, sizeof *cap, cmp_desc64);
    int64_t sum = 0;
    for (int32_t i = 0; i < n; i++) {
        sum = ss_sat_add64(sum, cap[i]);
        if (sum >= need)
            return i + 1;
    }
    return n;
}

int32_t ss_consolidate_lower_bound(const ss_cluster_t *c)
{
    int32_t n = c->n_nodes, best = 0;
    int64_t need[4] = {0, 0, 0, 0};
    int64_t *cap = malloc((n ? (size_t)n : 1) * sizeof *cap);
    if (!cap)
        return -1;
    for (int32_t p = 0; p < c->n_pods; p++) {
        if (c->pod_node[p] < 0)
            continue;
        const ss_request_t *r = &c->templates[c->pod_template[p]].req;
        need[0] = ss_sat_add64(need[0], r->cpu_milli);
        need[1] = ss_sat_add64(need[1], r->memory);
        need[2] = ss_sat_add64(need[2], (int64_t)r->gpu_count * r->gpu_milli);
        need[3] += 1;
    }
    for (int res = 0; res < 4; res++) {
        for (int32_t i = 0; i < n; i++)
            cap[i] = res == 0   ? c->node_cpu[i]
                     : res == 1 ? c->node_mem[i]
                     : res == 2 ? (int64_t)c->node_gpu_count[i] * SS_GPU_MILLI
                                : c->node_pods[i];
        int32_t k = fewest(cap, n, need[res]);
        best = k > best ? k : best;
    }
    free(cap);
    return best;
}
