/* ss_bind_mig: what bind needs for MIG re-layouts (issue 15, docs/mig.md
 * "bind"): which nodes of a plan must get a new nvidia.com/mig.config label
 * before their pods are bound, the mig-parted entry each is set to, the
 * allocatable the NVIDIA device plugin advertises once the MIG manager has
 * applied it (mixed strategy), and how a GET of the node is judged against
 * that (state success and exactly those counts). The request log
 * (ss_bind_log.c) carries it; ss_bind_replay.c executes it. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ss_bind_int.h"
#include "ss_hash.h"
#include "ss_mig_relayout.h"

#define LABEL "nvidia.com/mig.config"
#define STATE_LABEL "nvidia.com/mig.config.state"
#define MAX_KEYS 64 /* distinct profiles of one node, and nvidia.com/gpu */

/* The re-layout row of GPU record g, or -1 (relayout_gpu is increasing). */
static int32_t relayout_row(const ss_placements_t *p, int32_t g)
{
    int32_t lo = 0, hi = p->n_relayout - 1;
    while (lo <= hi) {
        int32_t mid = lo + (hi - lo) / 2;
        if (p->relayout_gpu[mid] == g)
            return mid;
        if (p->relayout_gpu[mid] < g)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    return -1;
}

/* Re-layout row k checked; its GPU's bit set in mask. */
static int check_row(const ss_cluster_t *c, const ss_placements_t *p, int32_t k,
                     const int32_t *gpu_node, uint64_t *mask, ss_error_t *err)
{
    int32_t g = p->relayout_gpu[k], m = p->relayout_model[k];
    const ss_mig_model_t *mm = m >= 0 ? ss_mig_model(m) : NULL;
    char why[200] = "";
    if (g < 0 || g >= c->n_gpus || (k > 0 && g <= p->relayout_gpu[k - 1]))
        return ss_error_set(err, SS_EFORMAT,
                            "placements: MIG re-layout row %d names GPU record %d: not a GPU "
                            "of the cluster in increasing order",
                            k, g);
    if (m < -1 || (m >= 0 && !mm))
        return ss_error_set(err, SS_EFORMAT,
                            "placements: MIG re-layout row %d (GPU record %d): model %d is "
                            "not in the MIG table",
                            k, g, m);
    ss_mig_inst_t inst[SS_MIG_MAX_INSTANCES];
    int32_t n = mm ? p->relayout[k].n : 0;
    if (n < 0 || n > SS_MIG_MAX_INSTANCES)
        return ss_error_set(err, SS_EFORMAT, "placements: MIG re-layout row %d: %d instances", k,
                            n);
    memcpy(inst, p->relayout[k].inst, (size_t)n * sizeof *inst);
    if (mm && !ss_mig_layout_valid(mm, inst, n, why, sizeof why))
        return ss_error_set(err, SS_EFORMAT,
                            "placements: MIG re-layout row %d (GPU record %d): not a valid "
                            "%s layout: %s",
                            k, g, mm->name, why);
    int32_t nd = gpu_node[g];
    if (nd < 0 || g - c->node_gpu_begin[nd] >= 64)
        return ss_error_set(err, SS_EFORMAT,
                            "placements: MIG re-layout row %d: GPU record %d belongs to no "
                            "node (or is past its 64th GPU)",
                            k, g);
    mask[nd] |= 1ull << (g - c->node_gpu_begin[nd]);
    return 0;
}

int ss_bind_mig_masks(const ss_cluster_t *c, const ss_placements_t *p, uint64_t *mask,
                      ss_error_t *err)
{
    memset(mask, 0, (size_t)c->n_nodes * sizeof *mask);
    if (p->n_relayout == 0)
        return 0;
    int32_t *gpu_node = malloc(((size_t)c->n_gpus + 1) * sizeof *gpu_node);
    if (!gpu_node)
        return ss_error_set(err, SS_ENOMEM, "out of memory reading the MIG re-layouts");
    for (int32_t g = 0; g < c->n_gpus; g++)
        gpu_node[g] = -1;
    for (int32_t nd = 0; nd < c->n_nodes; nd++)
        for (int32_t i = 0; i < c->node_gpu_count[nd]; i++)
            gpu_node[c->node_gpu_begin[nd] + i] = nd;
    int rc = 0;
    for (int32_t k = 0; rc == 0 && k < p->n_relayout; k++)
        rc = check_row(c, p, k, gpu_node, mask, err);
    free(gpu_node);
    return rc;
}

bool ss_bind_mig_row_needs(const ss_cluster_t *c, const ss_placements_t *p, int32_t r,
                           uint64_t mask)
{
    if (!mask || p->node[r] < 0)
        return false;
    const ss_template_t *t = &c->templates[c->pod_template[p->pod[r]]];
    return t->mig_count > 0 || (t->req.gpu_count > 0 && (p->gpu_mask[r] & mask) != 0);
}

/* ---- the node after the re-layout ---- */

typedef struct {
    int32_t n;
    char key[MAX_KEYS][96];
    int64_t val[MAX_KEYS];
} counts_t;

static int count_add(counts_t *k, const char *profile, int64_t v)
{
    char key[96];
    if (profile)
        snprintf(key, sizeof key, "nvidia.com/mig-%s", profile);
    else
        snprintf(key, sizeof key, "nvidia.com/gpu");
    for (char *q = key; *q; q++)
        *q = *q == '+' ? '.' : *q; /* the device plugin's spelling of +me */
    for (int32_t i = 0; i < k->n; i++)
        if (!strcmp(k->key[i], key))
            return k->val[i] += v, 0;
    if (k->n == MAX_KEYS)
        return -1;
    snprintf(k->key[k->n], sizeof k->key[0], "%s", key);
    k->val[k->n++] = v;
    return 0;
}

/* Visits node nd's GPUs after p's re-layout: whole GPUs, and every
 * instance's profile name (text, for the entry name's hash when h). */
static int node_after(const ss_cluster_t *c, const ss_placements_t *p, int32_t nd, counts_t *k,
                      uint64_t *h)
{
    k->n = 0;
    if (count_add(k, NULL, 0) < 0)
        return -1;
    for (int32_t i = 0; i < c->node_gpu_count[nd]; i++) {
        int32_t g = c->node_gpu_begin[nd] + i, r = relayout_row(p, g);
        char item[160];
        const ss_mig_model_t *mm =
            r >= 0 && p->relayout_model[r] >= 0 ? ss_mig_model(p->relayout_model[r])
            : r < 0 && c->gpu_mig_model[g]
                ? ss_mig_model(ss_mig_find_model(ss_cluster_strget(c, c->gpu_mig_model[g])))
                : NULL;
        bool mig = r >= 0 ? p->relayout_model[r] >= 0 : c->gpu_mig_model[g] != 0;
        snprintf(item, sizeof item, "gpu %d %s;", i, mig && mm ? mm->name : "whole");
        *h = ss_hash_bytes(*h, item, strlen(item));
        if (!mig && count_add(k, NULL, 1) < 0)
            return -1;
        int32_t n = !mig ? 0 : r >= 0 ? p->relayout[r].n : c->gpu_mig_count[g];
        for (int32_t j = 0; j < n; j++) {
            const char *name =
                r >= 0 ? (mm ? mm->profiles[p->relayout[r].inst[j].profile].name : "?")
                       : ss_cluster_strget(c, c->mig_insts[c->gpu_mig_begin[g] + j].profile);
            int start =
                r >= 0 ? p->relayout[r].inst[j].start : c->mig_insts[c->gpu_mig_begin[g] + j].start;
            snprintf(item, sizeof item, "%s@%d;", name, start);
            *h = ss_hash_bytes(*h, item, strlen(item));
            if (count_add(k, name, 1) < 0)
                return -1;
        }
    }
    return 0;
}

static int by_key(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int ss_bind_mig_expect(const ss_cluster_t *c, const ss_placements_t *p, int32_t nd,
                       ss_bind_line_t *x, ss_error_t *err)
{
    static counts_t k; /* bind is single-threaded; 6 KiB off the stack */
    uint64_t h = SS_HASH_INIT;
    char entry[128];
    const char *node = ss_cluster_strget(c, c->node_name[nd]);
    if (node_after(c, p, nd, &k, &h) < 0)
        return ss_error_set(err, SS_EINVAL, "node %s: more than %d MIG profiles after re-layout",
                            node, MAX_KEYS - 1);
    ss_mig_plan_entry_name(c, p, nd, entry, sizeof entry); /* the one schedule's config uses */
    x->entry = strdup(entry);
    x->alloc_key = calloc((size_t)k.n, sizeof *x->alloc_key);
    x->alloc_val = calloc((size_t)k.n, sizeof *x->alloc_val);
    if (!x->entry || !x->alloc_key || !x->alloc_val)
        return ss_error_set(err, SS_ENOMEM, "out of memory building the request log");
    for (int32_t i = 0; i < k.n; i++)
        if (!(x->alloc_key[x->n_alloc++] = strdup(k.key[i])))
            return ss_error_set(err, SS_ENOMEM, "out of memory building the request log");
    qsort(x->alloc_key, (size_t)k.n, sizeof *x->alloc_key, by_key);
    for (int32_t i = 0; i < k.n; i++)
        for (int32_t j = 0; j < k.n; j++)
            if (!strcmp(x->alloc_key[i], k.key[j]))
                x->alloc_val[i] = k.val[j];
    return 0;
}

/* ---- judging a GET of the node ---- */

/* An integer quantity ("7"), or -1. */
static int64_t count_of(json_t *v)
{
    const char *s = json_string_value(v);
    if (json_is_integer(v))
        return json_integer_value(v);
    char *end;
    long long n = s && *s ? strtoll(s, &end, 10) : -1;
    return s && *s && !*end && n >= 0 ? n : -1;
}

/* The allocatable counts that differ from x's, appended to out. */
static int alloc_diff(const ss_bind_line_t *x, json_t *alloc, char *out, size_t cap)
{
    int bad = 0;
    size_t len = strlen(out);
    for (int32_t i = 0; i < x->n_alloc; i++) {
        json_t *v = json_object_get(alloc, x->alloc_key[i]);
        int64_t have = v ? count_of(v) : 0;
        if (have == x->alloc_val[i])
            continue;
        if (len < cap)
            len += (size_t)snprintf(out + len, cap - len, "%s%s=%lld (want %lld)",
                                    bad++ ? ", " : "; allocatable ", x->alloc_key[i],
                                    (long long)have, (long long)x->alloc_val[i]);
    }
    const char *key;
    json_t *v;
    json_object_foreach(alloc, key, v)
    {
        if (strncmp(key, "nvidia.com/mig-", 15))
            continue;
        bool known = false;
        for (int32_t i = 0; i < x->n_alloc && !known; i++)
            known = !strcmp(key, x->alloc_key[i]);
        if (known || count_of(v) == 0)
            continue;
        if (len < cap)
            len += (size_t)snprintf(out + len, cap - len, "%s%s=%lld (want 0)",
                                    bad++ ? ", " : "; allocatable ", key, (long long)count_of(v));
    }
    return bad;
}

enum ss_bind_mig_seen ss_bind_mig_check(const ss_bind_line_t *x, long code, const char *ctype,
                                        const char *body, size_t len, char *seen, size_t cap)
{
    json_error_t jerr;
    json_t *o = json_loadb(body, len, 0, &jerr);
    const char *kind = json_is_object(o) ? json_string_value(json_object_get(o, "kind")) : NULL;
    enum ss_bind_mig_seen v;
    if (kind && !strcmp(kind, "Node") && code >= 200 && code < 300) {
        json_t *labels = json_object_get(json_object_get(o, "metadata"), "labels");
        json_t *alloc = json_object_get(json_object_get(o, "status"), "allocatable");
        const char *label = json_string_value(json_object_get(labels, LABEL));
        const char *state = json_string_value(json_object_get(labels, STATE_LABEL));
        snprintf(seen, cap, LABEL "=%s, " STATE_LABEL "=%s", label ? label : "(unset)",
                 state ? state : "(unset)");
        bool mine = label && !strcmp(label, x->entry);
        int diff = alloc_diff(x, alloc, seen, cap);
        v = !mine                                             ? SS_MIG_WAITING
            : state && !strcmp(state, "failed")               ? SS_MIG_FAILED
            : state && !strcmp(state, "success") && diff == 0 ? SS_MIG_READY
                                                              : SS_MIG_WAITING;
    } else if (kind && !strcmp(kind, "Status")) {
        const char *reason = json_string_value(json_object_get(o, "reason"));
        const char *msg = json_string_value(json_object_get(o, "message"));
        snprintf(seen, cap, "HTTP %ld %s: %.200s", code, reason ? reason : "(no reason)",
                 msg ? msg : "");
        v = code == 404 && reason && !strcmp(reason, "NotFound") ? SS_MIG_GONE
            : code == 429 || code >= 500                         ? SS_MIG_RETRY
                                                                 : SS_MIG_REFUSED;
    } else {
        snprintf(seen, cap, "HTTP %ld, not a Kubernetes Node or Status (%s)", code,
                 ctype && *ctype ? ctype : "untyped");
        v = code == 429 || code >= 500 ? SS_MIG_RETRY : SS_MIG_ALIEN;
    }
    json_decref(o);
    return v;
}
