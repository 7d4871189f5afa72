/* ss_mig_relayout: checking and applying MIG re-layouts, and the mig-parted
 * configuration entries they need (see ss_mig_relayout.h; the choice is in
 * ss_mig_relayout_choose.c). */
#include "ss_mig_relayout.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "ss_hash.h"
#include "ss_mig_relayout_int.h"

int32_t *ss_mig_gpu_nodes(const ss_cluster_t *c)
{
    int32_t *map = malloc((size_t)(c->n_gpus > 0 ? c->n_gpus : 1) * sizeof *map);
    if (!map)
        return NULL;
    for (int32_t g = 0; g < c->n_gpus; g++)
        map[g] = -1;
    for (int32_t n = 0; n < c->n_nodes; n++)
        for (int32_t j = 0; j < c->node_gpu_count[n]; j++)
            if (c->node_gpu_begin[n] + j >= 0 && c->node_gpu_begin[n] + j < c->n_gpus)
                map[c->node_gpu_begin[n] + j] = n;
    return map;
}

int ss_mig_relayout_find(const ss_placements_t *p, int32_t g)
{
    int32_t lo = 0, hi = p ? p->n_relayout : 0;
    while (lo < hi) {
        int32_t mid = lo + (hi - lo) / 2;
        if (p->relayout_gpu[mid] < g)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < (p ? p->n_relayout : 0) && p->relayout_gpu[lo] == g ? lo : -1;
}

int ss_mig_board_model(const ss_cluster_t *c, int32_t g)
{
    return ss_mig_find_model(ss_cluster_strget(c, c->gpu_model[g]));
}

bool ss_mig_gpu_current(const ss_cluster_t *c, int32_t g, int *model, ss_mig_layout_t *l)
{
    l->n = 0;
    *model = -1;
    if (!c->gpu_mig_model[g])
        return true;
    *model = ss_mig_find_model(ss_cluster_strget(c, c->gpu_mig_model[g]));
    const ss_mig_model_t *m = ss_mig_model(*model);
    if (!m || c->gpu_mig_count[g] > SS_MIG_MAX_INSTANCES)
        return false;
    for (int32_t i = 0; i < c->gpu_mig_count[g]; i++) {
        const ss_mig_instance_t *x = &c->mig_insts[c->gpu_mig_begin[g] + i];
        int pr = ss_mig_find_profile(m, ss_cluster_strget(c, x->profile));
        if (pr < 0)
            return false;
        l->inst[l->n++] = (ss_mig_inst_t){(int8_t)pr, (int8_t)x->start};
    }
    return true;
}

void ss_mig_gpu_after(const ss_cluster_t *c, const ss_placements_t *p, int32_t g, int *model,
                      ss_mig_layout_t *l)
{
    int r = ss_mig_relayout_find(p, g);
    if (r >= 0) {
        *model = p->relayout_model[r];
        *l = p->relayout[r];
    } else if (!ss_mig_gpu_current(c, g, model, l)) {
        *model = -1;
        l->n = 0;
    }
}

void ss_mig_layout_counts(const ss_mig_layout_t *l, int32_t *counts)
{
    memset(counts, 0, SS_MIG_MAX_PROFILES * sizeof *counts);
    for (int i = 0; i < l->n; i++)
        counts[l->inst[i].profile]++;
}

bool ss_mig_layout_same(const ss_mig_layout_t *a, const ss_mig_layout_t *b)
{
    if (a->n != b->n)
        return false;
    for (int i = 0; i < a->n; i++)
        if (a->inst[i].profile != b->inst[i].profile || a->inst[i].start != b->inst[i].start)
            return false;
    return true;
}

bool ss_mig_layout_is_canonical(const ss_mig_model_t *m, const ss_mig_layout_t *l)
{
    int32_t counts[SS_MIG_MAX_PROFILES];
    ss_mig_layout_t canon;
    ss_error_t ignore;
    ss_mig_layout_counts(l, counts);
    return ss_mig_canonical(m, counts, &canon, &ignore) == 0 && ss_mig_layout_same(&canon, l);
}

/* The checks of one row that need no cluster. */
static int check_row(const ss_placements_t *p, int32_t i, char *why, size_t n)
{
    int32_t mi = p->relayout_model[i];
    const ss_mig_layout_t *l = &p->relayout[i];
    const ss_mig_model_t *m = ss_mig_model(mi);
    if (p->relayout_gpu[i] < 0 || (i > 0 && p->relayout_gpu[i] <= p->relayout_gpu[i - 1]))
        return snprintf(why, n, "GPU records must be >= 0 and increasing"), -1;
    if (mi < -1 || (mi >= 0 && !m))
        return snprintf(why, n, "model %d is not an ss_mig model (-1 = MIG disabled)", (int)mi), -1;
    if (l->n < 0 || l->n > SS_MIG_MAX_INSTANCES || (!m && l->n))
        return snprintf(why, n, "%d instances%s", (int)l->n, m ? "" : " with MIG disabled"), -1;
    if (!m)
        return 0;
    for (int k = 0; k < l->n; k++)
        if (l->inst[k].profile < 0 || l->inst[k].profile >= m->n_profiles)
            return snprintf(why, n, "instance %d: profile %d of %s", k, (int)l->inst[k].profile,
                            m->name),
                   -1;
    if (!ss_mig_layout_valid(m, l->inst, l->n, why, n))
        return -1;
    if (!ss_mig_layout_is_canonical(m, l))
        return snprintf(why, n, "not the canonical placement of its counts on %s", m->name), -1;
    return 0;
}

/* Instances of node after p's re-layouts. */
static int32_t node_instances(const ss_cluster_t *c, const ss_placements_t *p, int32_t node)
{
    int32_t total = 0;
    for (int32_t j = 0; j < c->node_gpu_count[node]; j++) {
        int model;
        ss_mig_layout_t l;
        ss_mig_gpu_after(c, p, c->node_gpu_begin[node] + j, &model, &l);
        total += l.n;
    }
    return total;
}

/* The checks of row i that need the cluster; map: GPU record -> node. */
static int check_on_cluster(const ss_cluster_t *c, const ss_placements_t *p, const int32_t *map,
                            int32_t i, ss_error_t *err)
{
    int32_t g = p->relayout_gpu[i], node = g < c->n_gpus ? map[g] : -1;
    if (node < 0)
        return ss_error_set(err, SS_EINVAL,
                            "re-layout row %d: GPU record %d is not a GPU of any node (%d GPU "
                            "records)",
                            (int)i, (int)g, (int)c->n_gpus);
    const char *nn = ss_cluster_strget(c, c->node_name[node]);
    int32_t local = g - c->node_gpu_begin[node];
    int board = ss_mig_board_model(c, g);
    if (board < 0)
        return ss_error_set(err, SS_EINVAL,
                            "re-layout row %d: GPU record %d (node %s GPU %d): model '%s' is not "
                            "MIG-capable",
                            (int)i, (int)g, nn, (int)local, ss_cluster_strget(c, c->gpu_model[g]));
    if (p->relayout_model[i] >= 0 && p->relayout_model[i] != board)
        return ss_error_set(err, SS_EINVAL,
                            "re-layout row %d: GPU record %d (node %s GPU %d): a layout of %s on "
                            "a %s board",
                            (int)i, (int)g, nn, (int)local,
                            ss_mig_model(p->relayout_model[i])->name, ss_mig_model(board)->name);
    if (i + 1 < p->n_relayout && p->relayout_gpu[i + 1] < c->n_gpus &&
        map[p->relayout_gpu[i + 1]] == node)
        return 0; /* the node's instances are counted at its last row */
    int32_t total = node_instances(c, p, node);
    if (total > SS_MIG_NODE_MAX_INSTANCES)
        return ss_error_set(err, SS_EINVAL,
                            "re-layout row %d: GPU record %d (node %s GPU %d): the node would "
                            "hold %d MIG instances, at most %d",
                            (int)i, (int)g, nn, (int)local, (int)total, SS_MIG_NODE_MAX_INSTANCES);
    return 0;
}

int32_t ss_mig_relayout_node_instances(const ss_cluster_t *c, const ss_placements_t *p,
                                       int32_t node)
{
    return node_instances(c, p, node);
}

/* Marks the GPUs of one pod on node busy: mask names GPUs (a GPU pod) or
 * instances (a MIG pod of profile string id mig_profile). */
static int mark_pod(const ss_cluster_t *c, int32_t node, const ss_template_t *t, uint64_t mask,
                    uint8_t *busy)
{
    int32_t b = c->node_gpu_begin[node], k = c->node_gpu_count[node], at = 0;
    if (t->mig_count <= 0) {
        for (int32_t j = 0; j < k && j < 64; j++)
            if (mask >> j & 1u)
                busy[b + j] = 1;
        return k >= 64 || !(mask >> k) ? 0 : -1;
    }
    for (int32_t j = 0; j < k; j++) {
        int32_t n = c->gpu_mig_count[b + j];
        bool has = false;
        for (int32_t i = 0; i < n; i++, at++) {
            has |= c->mig_insts[c->gpu_mig_begin[b + j] + i].profile == t->mig_profile;
            if (at < 64 && (mask >> at & 1u))
                busy[b + j] = 1;
        }
        if (!mask && has) /* no instance assigned yet: any may be the pod's */
            busy[b + j] = 1;
    }
    return at >= 64 || !(mask >> at) ? 0 : -1;
}

int ss_mig_relayout_busy(const ss_cluster_t *c, const ss_placements_t *pass1, uint8_t *busy,
                         ss_error_t *err)
{
    for (int32_t i = 0; i < c->n_pods; i++) {
        int32_t node = c->pod_node[i];
        const ss_template_t *t = &c->templates[c->pod_template[i]];
        if (node >= 0 && mark_pod(c, node, t, c->pod_gpu_mask[i], busy) < 0)
            return ss_error_set(err, SS_EINVAL,
                                "re-layout: running pod %s/%s: its GPU mask names a %s node %s "
                                "lacks",
                                ss_cluster_strget(c, c->pod_ns[i]),
                                ss_cluster_strget(c, c->pod_name[i]),
                                t->mig_count > 0 ? "MIG instance" : "GPU",
                                ss_cluster_strget(c, c->node_name[node]));
    }
    for (int32_t r = 0; pass1 && r < pass1->n; r++) {
        int32_t node = pass1->node[r], pod = pass1->pod[r];
        if (node < 0 || pod < 0 || pod >= c->n_pods)
            continue;
        const ss_template_t *t = &c->templates[c->pod_template[pod]];
        if (t->mig_count > 0 && !pass1->gpu_mask[r])
            continue; /* a placed MIG pod always holds instances; nothing to mark */
        if (mark_pod(c, node, t, pass1->gpu_mask[r], busy) < 0)
            return ss_error_set(err, SS_EINVAL,
                                "re-layout: placement row %d (pod %s/%s): its GPU mask names a "
                                "%s node %s lacks",
                                (int)r, ss_cluster_strget(c, c->pod_ns[pod]),
                                ss_cluster_strget(c, c->pod_name[pod]),
                                t->mig_count > 0 ? "MIG instance" : "GPU",
                                ss_cluster_strget(c, c->node_name[node]));
    }
    return 0;
}

int ss_mig_relayout_check(const ss_cluster_t *c, const ss_placements_t *p, ss_error_t *err)
{
    char why[200];
    int rc = 0;
    if (p->n_relayout < 0 ||
        (p->n_relayout && (!p->relayout_gpu || !p->relayout_model || !p->relayout)))
        return ss_error_set(err, SS_EINVAL, "re-layout: %d rows without their arrays",
                            (int)p->n_relayout);
    for (int32_t i = 0; i < p->n_relayout; i++)
        if (check_row(p, i, why, sizeof why) < 0)
            return ss_error_set(err, SS_EINVAL, "re-layout row %d (GPU record %d): %s", (int)i,
                                (int)p->relayout_gpu[i], why);
    if (!c || !p->n_relayout)
        return 0;
    int32_t *map = ss_mig_gpu_nodes(c);
    if (!map)
        return ss_error_set(err, SS_ENOMEM, "re-layout: out of memory");
    for (int32_t i = 0; i < p->n_relayout && rc == 0; i++)
        rc = check_on_cluster(c, p, map, i, err);
    free(map);
    return rc;
}

int ss_mig_relayout_apply(ss_cluster_t *c, const ss_placements_t *p, ss_error_t *err)
{
    uint64_t *masks = NULL;
    int rc = ss_mig_relayout_check(c, p, err);
    if (rc < 0 || (rc = ss_mig_relayout_running_masks(c, p, &masks, err)) < 0)
        return rc;
    int32_t old = c->n_mig_insts, total = 0;
    int32_t *model_sid = malloc((size_t)(p->n_relayout ? p->n_relayout : 1) * sizeof *model_sid);
    if (!model_sid) {
        free(masks);
        return ss_error_set(err, SS_ENOMEM, "re-layout: out of memory");
    }
    for (int32_t i = 0; i < p->n_relayout; i++) { /* intern, then append, then switch */
        const ss_mig_model_t *m = ss_mig_model(p->relayout_model[i]);
        model_sid[i] = m ? ss_cluster_str(c, m->name) : 0;
        for (int k = 0; m && k < p->relayout[i].n; k++) {
            const ss_mig_inst_t *x = &p->relayout[i].inst[k];
            int32_t sid = ss_cluster_str(c, m->profiles[x->profile].name);
            if (sid < 0 || model_sid[i] < 0 || ss_cluster_add_mig_instance(c, sid, x->start) < 0) {
                c->n_mig_insts = old;
                free(model_sid);
                free(masks);
                return ss_error_set(err, SS_ENOMEM, "re-layout: out of memory for MIG instances");
            }
        }
    }
    for (int32_t i = 0; i < p->n_relayout; i++) {
        int32_t g = p->relayout_gpu[i], n = model_sid[i] ? p->relayout[i].n : 0;
        c->gpu_mig_model[g] = model_sid[i];
        c->gpu_mig_begin[g] = old + total;
        c->gpu_mig_count[g] = n;
        total += n;
    }
    if (c->n_pods > 0) /* no pods: pod_gpu_mask may be NULL */
        memcpy(c->pod_gpu_mask, masks, (size_t)c->n_pods * sizeof *masks);
    free(model_sid);
    free(masks);
    return 0;
}

/* ---- the mig-parted configuration ---- */

void ss_mig_plan_entry_name(const ss_cluster_t *c, const ss_placements_t *p, int32_t node,
                            char *buf, size_t n)
{
    uint64_t h = SS_HASH_INIT;
    for (int32_t j = 0; j < c->node_gpu_count[node]; j++) {
        int model;
        ss_mig_layout_t l;
        int32_t counts[SS_MIG_MAX_PROFILES];
        ss_mig_gpu_after(c, p, c->node_gpu_begin[node] + j, &model, &l);
        const ss_mig_model_t *m = ss_mig_model(model);
        ss_mig_layout_counts(&l, counts);
        char one[160];
        int at = snprintf(one, sizeof one, "%s:", m ? m->name : "-");
        for (int k = 0; m && k < m->n_profiles; k++)
            at += snprintf(one + at, sizeof one - (size_t)at, "%d,", (int)counts[k]);
        h = ss_hash_bytes(h, one, strlen(one) + 1);
    }
    snprintf(buf, n, "shardsched-%016" PRIx64, h);
}

typedef struct {
    char name[32];
    int32_t node;
} entry_t;

static int entry_cmp(const void *a, const void *b)
{
    const entry_t *x = a, *y = b;
    int d = strcmp(x->name, y->name);
    return d ? d : (x->node > y->node) - (x->node < y->node);
}

/* Whether GPUs a and b of the node end up in the same state. */
static bool same_state(const ss_cluster_t *c, const ss_placements_t *p, int32_t a, int32_t b)
{
    int ma, mb;
    ss_mig_layout_t la, lb;
    int32_t ca[SS_MIG_MAX_PROFILES], cb[SS_MIG_MAX_PROFILES];
    ss_mig_gpu_after(c, p, a, &ma, &la);
    ss_mig_gpu_after(c, p, b, &mb, &lb);
    ss_mig_layout_counts(&la, ca);
    ss_mig_layout_counts(&lb, cb);
    return ma == mb && !memcmp(ca, cb, sizeof ca);
}

/* One entry: the node's GPUs, those in the same state as one device group. */
static void write_entry(FILE *f, const ss_cluster_t *c, const ss_placements_t *p, int32_t node,
                        const char *name)
{
    int32_t b = c->node_gpu_begin[node], k = c->node_gpu_count[node];
    fprintf(f, "  %s:\n", name);
    for (int32_t j = 0; j < k; j++) {
        bool first = true;
        for (int32_t e = 0; e < j && first; e++)
            first = !same_state(c, p, b + e, b + j);
        if (!first)
            continue;
        fprintf(f, "    - devices: [");
        for (int32_t e = j, sep = 0; e < k; e++)
            if (same_state(c, p, b + j, b + e))
                fprintf(f, "%s%d", sep++ ? ", " : "", (int)e);
        int model;
        ss_mig_layout_t l;
        int32_t counts[SS_MIG_MAX_PROFILES];
        ss_mig_gpu_after(c, p, b + j, &model, &l);
        const ss_mig_model_t *m = ss_mig_model(model);
        fprintf(f, "]\n      mig-enabled: %s\n", m ? "true" : "false");
        if (!m)
            continue;
        ss_mig_layout_counts(&l, counts);
        fprintf(f, "      mig-devices:%s\n", l.n ? "" : " {}");
        for (int q = 0; q < m->n_profiles; q++)
            if (counts[q])
                fprintf(f, "        \"%s\": %d\n", m->profiles[q].name, (int)counts[q]);
    }
}

int ss_mig_plan_write_config(FILE *f, const ss_cluster_t *c, const ss_placements_t *p,
                             ss_error_t *err)
{
    int rc = ss_mig_relayout_check(c, p, err);
    if (rc < 0)
        return rc;
    entry_t *e = malloc((size_t)(p->n_relayout ? p->n_relayout : 1) * sizeof *e);
    int32_t *map = ss_mig_gpu_nodes(c);
    if (!e || !map) {
        free(e);
        free(map);
        return ss_error_set(err, SS_ENOMEM, "mig-parted config: out of memory");
    }
    int32_t ne = 0;
    for (int32_t i = 0; i < p->n_relayout; i++) {
        int32_t node = map[p->relayout_gpu[i]];
        if (i > 0 && map[p->relayout_gpu[i - 1]] == node) /* a node's GPUs are one range */
            continue;
        e[ne].node = node;
        ss_mig_plan_entry_name(c, p, node, e[ne].name, sizeof e[ne].name);
        ne++;
    }
    free(map);
    qsort(e, (size_t)ne, sizeof *e, entry_cmp);
    fprintf(f,
            "# mig-parted configuration written by shardsched (schedule --mig-relayout):\n"
            "# label each node nvidia.com/mig.config=<its entry>.\n"
            "version: v1\nmig-configs:%s\n",
            ne ? "" : " {}");
    for (int32_t i = 0; i < ne; i++) {
        if (i > 0 && !strcmp(e[i].name, e[i - 1].name))
            continue;
        fprintf(f, "  # nodes:");
        for (int32_t j = i; j < ne && !strcmp(e[j].name, e[i].name); j++)
            fprintf(f, " %s", ss_cluster_strget(c, c->node_name[e[j].node]));
        fprintf(f, "\n");
        write_entry(f, c, p, e[i].node, e[i].name);
    }
    free(e);
    if (fflush(f) != 0 || ferror(f))
        return ss_error_set(err, SS_EIO, "mig-parted config: write failed");
    return 0;
}
