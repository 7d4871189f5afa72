/* ss_mig: the MIG profile table and its placement rules (see ss_mig.h).
 *
 * Sources (read 2026-12, docs/mig.md lists them):
 * - NVIDIA Multi-Instance GPU User Guide, "Supported MIG Profiles"
 *   (docs.nvidia.com/datacenter/tesla/mig-user-guide/supported-mig-profiles.html):
 *   the profiles of A100-SXM4-40GB (1g.5gb .. 7g.40gb), A100-80GB ("the
 *   profile names change according to the memory proportion": 1g.10gb ..
 *   7g.80gb), H100 80GB, H100 NVL 94GB and H200 141GB, their fractions of
 *   memory (eighths) and SMs (sevenths), and "Number of Instances Available"
 *   (7x 1g, 1x 1g+me: "a single 1g profile can include media extensions",
 *   4x 1g.<2 eighths>, 3x 2g, 2x 3g, 1x 4g, 1x 7g).
 * - The guide's placement diagrams and `nvidia-smi mig -lgipp` (GPU instance
 *   possible placements, {starts}:size in memory slices), identical on
 *   Ampere and Hopper: 1g and 1g+me {0..6}:1, 1g.<2 eighths> {0,2,4,6}:2,
 *   2g {0,2,4}:2, 3g {0,4}:4, 4g {0}:4, 7g {0}:8. NVML: "creation of a new
 *   GPU instance will fail if there is overlap with the already occupied
 *   memory slices" (nvmlDeviceGetGpuInstancePossiblePlacements_v2).
 * - NVIDIA mig-parted deployments/systemd/config-default.yaml: the same
 *   counts per model (all-1g.10gb: 7 on H100-80GB, 4 on A100-40GB; all-1g.35gb:
 *   4 on H200; all-3g.47gb: 2 on H100 NVL ...) and the device-filter PCI ids.
 * - The NVIDIA device plugin advertises a profile's "+" as "." in resource
 *   names (nvidia.com/mig-1g.10gb.me); gpu-feature-discovery labels
 *   nvidia.com/gpu.product as e.g. NVIDIA-H100-80GB-HBM3, and with the
 *   single strategy appends -MIG-<profile>. */
#include "ss_mig.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* Ampere and Hopper share one geometry; only the memory in the names
 * differs. Order: 1g, 1g+me, 1g (two eighths), 2g, 3g, 4g, 7g. */
#define MIG_GEOMETRY(n1, n1me, n1x2, n2, n3, n4, n7)                                               \
    7,                                                                                             \
    {                                                                                              \
        {n1, 1, 1, 7, 0, 0x7f}, {n1me, 1, 1, 1, 1, 0x7f}, {n1x2, 1, 2, 4, 0, 0x55},                \
            {n2, 2, 2, 3, 0, 0x15}, {n3, 3, 4, 2, 0, 0x11}, {n4, 4, 4, 1, 0, 0x01},                \
            {n7, 7, 8, 1, 0, 0x01},                                                                \
    }

static const ss_mig_model_t mig_models[] = {
    {"A100-40GB",
     "NVIDIA-A100-SXM4-40GB",
     MIG_GEOMETRY("1g.5gb", "1g.5gb+me", "1g.10gb", "2g.10gb", "3g.20gb", "4g.20gb", "7g.40gb"),
     {0x20B010DE, 0x20B110DE, 0x20F110DE, 0x20F610DE}},
    {"A100-80GB",
     "NVIDIA-A100-SXM4-80GB",
     MIG_GEOMETRY("1g.10gb", "1g.10gb+me", "1g.20gb", "2g.20gb", "3g.40gb", "4g.40gb", "7g.80gb"),
     {0x20B210DE, 0x20B510DE, 0x20F310DE, 0x20F510DE}},
    {"H100-80GB",
     "NVIDIA-H100-80GB-HBM3",
     MIG_GEOMETRY("1g.10gb", "1g.10gb+me", "1g.20gb", "2g.20gb", "3g.40gb", "4g.40gb", "7g.80gb"),
     {0x233010DE, 0x233110DE, 0x232210DE, 0x232410DE}},
    {"H100-94GB",
     "NVIDIA-H100-NVL",
     MIG_GEOMETRY("1g.12gb", "1g.12gb+me", "1g.24gb", "2g.24gb", "3g.47gb", "4g.47gb", "7g.94gb"),
     {0x232110DE, 0x233A10DE}},
    {"H200-141GB",
     "NVIDIA-H200",
     MIG_GEOMETRY("1g.18gb", "1g.18gb+me", "1g.35gb", "2g.35gb", "3g.71gb", "4g.71gb", "7g.141gb"),
     {0x233510DE, 0x233B10DE}},
};
#define MIG_NMODELS ((int)(sizeof mig_models / sizeof mig_models[0]))
enum { M_A100_40, M_A100_80, M_H100_80, M_H100_94, M_H200 };

int ss_mig_model_count(void)
{
    return MIG_NMODELS;
}

const ss_mig_model_t *ss_mig_model(int i)
{
    return i >= 0 && i < MIG_NMODELS ? &mig_models[i] : NULL;
}

/* Whether tok occurs in s (both upper case) not preceded by a letter or
 * digit ("H200" in "NVIDIA-H200", not in "NVIDIA-GH200-480GB"). */
static bool has_token(const char *s, const char *tok)
{
    size_t n = strlen(tok);
    for (const char *p = strstr(s, tok); p; p = strstr(p + 1, tok))
        if ((p == s || !isalnum((unsigned char)p[-1])) && !isdigit((unsigned char)p[n]))
            return true;
    return false;
}

int ss_mig_find_model(const char *name)
{
    char u[160];
    size_t n = 0;
    if (!name)
        return -1;
    for (; name[n] && n + 1 < sizeof u; n++)
        u[n] = (char)toupper((unsigned char)name[n]);
    u[n] = 0;
    char *mig = strstr(u, "-MIG-");
    if (mig)
        *mig = 0;
    for (int i = 0; i < MIG_NMODELS; i++)
        if (!strcasecmp(u, mig_models[i].name))
            return i;
    if (has_token(u, "A100") || has_token(u, "A800"))
        return has_token(u, "80GB") ? M_A100_80 : M_A100_40;
    if (has_token(u, "H100") || has_token(u, "H800")) {
        if (has_token(u, "96GB") || has_token(u, "64GB"))
            return -1; /* H100 96GB (GH200-class) and H100 64GB: not in the table */
        return has_token(u, "NVL") || has_token(u, "94GB") ? M_H100_94 : M_H100_80;
    }
    if (has_token(u, "H200"))
        return M_H200;
    return -1;
}

/* Profile names compare case-insensitively, '+' matching '.' as well (the
 * device plugin's resource spelling). */
static bool profile_name_eq(const char *table, const char *s)
{
    for (; *table && *s; table++, s++)
        if (tolower((unsigned char)*table) != tolower((unsigned char)*s) &&
            !(*table == '+' && *s == '.'))
            return false;
    return !*table && !*s;
}

int ss_mig_find_profile(const ss_mig_model_t *m, const char *name)
{
    if (!m || !name)
        return -1;
    for (int p = 0; p < m->n_profiles; p++)
        if (profile_name_eq(m->profiles[p].name, name))
            return p;
    return -1;
}

int ss_mig_label_profile(const char *label, int *model)
{
    const char *mig = NULL;
    for (const char *q = label; q && *q && !mig; q++)
        if (!strncasecmp(q, "-MIG-", 5))
            mig = q;
    int m = mig ? ss_mig_find_model(label) : -1;
    if (model)
        *model = m;
    return m < 0 ? -1 : ss_mig_find_profile(&mig_models[m], mig + 5);
}

bool ss_mig_model_has_device(const ss_mig_model_t *m, uint32_t device_id)
{
    for (int i = 0; m && i < SS_MIG_MAX_DEVICE_IDS; i++)
        if (m->device_ids[i] && m->device_ids[i] == device_id)
            return true;
    return false;
}

static uint32_t mem_mask(const ss_mig_profile_t *p, int start)
{
    return ((1u << p->mem) - 1u) << start;
}

bool ss_mig_layout_valid(const ss_mig_model_t *m, const ss_mig_inst_t *inst, int n, char *why,
                         size_t why_len)
{
    char tmp[8];
    uint32_t used = 0;
    int compute = 0, media = 0, count[SS_MIG_MAX_PROFILES] = {0};
    if (!why) {
        why = tmp;
        why_len = sizeof tmp;
    }
    if (n < 0 || n > SS_MIG_MAX_INSTANCES) {
        snprintf(why, why_len, "%d instances; a GPU holds at most %d", n, SS_MIG_MAX_INSTANCES);
        return false;
    }
    for (int i = 0; i < n; i++) {
        int pi = inst[i].profile, s = inst[i].start;
        if (pi < 0 || pi >= m->n_profiles) {
            snprintf(why, why_len, "instance %d: profile %d is not one of %s's", i, pi, m->name);
            return false;
        }
        const ss_mig_profile_t *p = &m->profiles[pi];
        if (s < 0 || s >= SS_MIG_MEM_SLICES || !(p->starts >> s & 1u)) {
            snprintf(why, why_len, "instance %d: %s cannot start at memory slice %d", i, p->name,
                     s);
            return false;
        }
        if (used & mem_mask(p, s)) {
            snprintf(why, why_len, "instance %d: %s at slice %d overlaps another instance", i,
                     p->name, s);
            return false;
        }
        used |= mem_mask(p, s);
        compute += p->compute;
        media += p->media;
        if (++count[pi] > p->max_count) {
            snprintf(why, why_len, "more than %d %s instances", p->max_count, p->name);
            return false;
        }
    }
    if (compute > SS_MIG_COMPUTE_SLICES) {
        snprintf(why, why_len, "%d compute slices; a GPU has %d", compute, SS_MIG_COMPUTE_SLICES);
        return false;
    }
    if (media > 1) {
        snprintf(why, why_len, "%d instances with media extensions; at most one", media);
        return false;
    }
    if (why_len)
        why[0] = 0;
    return true;
}

bool ss_mig_layout_maximal(const ss_mig_model_t *m, const ss_mig_layout_t *l)
{
    ss_mig_inst_t t[SS_MIG_MAX_INSTANCES + 1];
    if (l->n >= SS_MIG_MAX_INSTANCES)
        return true;
    memcpy(t, l->inst, (size_t)l->n * sizeof *t);
    for (int p = 0; p < m->n_profiles; p++)
        for (int s = 0; s < SS_MIG_MEM_SLICES; s++) {
            if (!(m->profiles[p].starts >> s & 1u))
                continue;
            t[l->n] = (ss_mig_inst_t){(int8_t)p, (int8_t)s};
            if (ss_mig_layout_valid(m, t, l->n + 1, NULL, 0))
                return false;
        }
    return true;
}

typedef struct {
    const ss_mig_model_t *m;
    bool maximal_only;
    ss_mig_layout_t *out;
    int max, found;
    ss_mig_layout_t cur;
} enum_t;

/* At memory slice pos: every profile that may start there (table order),
 * then nothing. cur is always valid. */
static void enum_at(enum_t *e, int pos, uint32_t used)
{
    if (pos == SS_MIG_MEM_SLICES) {
        if (e->maximal_only && !ss_mig_layout_maximal(e->m, &e->cur))
            return;
        if (e->out && e->found < e->max)
            e->out[e->found] = e->cur;
        e->found++;
        return;
    }
    if (!(used >> pos & 1u) && e->cur.n < SS_MIG_MAX_INSTANCES)
        for (int p = 0; p < e->m->n_profiles; p++) {
            const ss_mig_profile_t *pr = &e->m->profiles[p];
            if (!(pr->starts >> pos & 1u) || pos + pr->mem > SS_MIG_MEM_SLICES)
                continue;
            e->cur.inst[e->cur.n++] = (ss_mig_inst_t){(int8_t)p, (int8_t)pos};
            if (ss_mig_layout_valid(e->m, e->cur.inst, e->cur.n, NULL, 0))
                enum_at(e, pos + 1, used | mem_mask(pr, pos));
            e->cur.n--;
        }
    enum_at(e, pos + 1, used);
}

int ss_mig_enumerate(const ss_mig_model_t *m, bool maximal_only, ss_mig_layout_t *out, int max)
{
    enum_t e = {.m = m, .maximal_only = maximal_only, .out = out, .max = max};
    enum_at(&e, 0, 0);
    return e.found;
}

/* Places order[i..n) (profile indices) into l, each at the lowest free
 * valid start (after the previous one of the same profile). */
static bool canon_at(const ss_mig_model_t *m, const int8_t *order, int i, int n, uint32_t used,
                     int min_start, ss_mig_layout_t *l)
{
    if (i == n)
        return true;
    const ss_mig_profile_t *p = &m->profiles[order[i]];
    for (int s = min_start; s + p->mem <= SS_MIG_MEM_SLICES; s++) {
        if (!(p->starts >> s & 1u) || (used & mem_mask(p, s)))
            continue;
        l->inst[i] = (ss_mig_inst_t){order[i], (int8_t)s};
        int next_min = i + 1 < n && order[i + 1] == order[i] ? s + 1 : 0;
        if (canon_at(m, order, i + 1, n, used | mem_mask(p, s), next_min, l))
            return true;
    }
    return false;
}

/* Larger first: memory slices, then compute slices, then table order. */
static bool canon_before(const ss_mig_model_t *m, int a, int b)
{
    const ss_mig_profile_t *pa = &m->profiles[a], *pb = &m->profiles[b];
    if (pa->mem != pb->mem)
        return pa->mem > pb->mem;
    if (pa->compute != pb->compute)
        return pa->compute > pb->compute;
    return a < b;
}

int ss_mig_canonical(const ss_mig_model_t *m, const int32_t *counts, ss_mig_layout_t *out,
                     ss_error_t *err)
{
    int8_t order[SS_MIG_MAX_INSTANCES];
    int8_t prof[SS_MIG_MAX_PROFILES];
    int n = 0, np = m->n_profiles;
    for (int p = 0; p < np; p++)
        prof[p] = (int8_t)p;
    for (int i = 1; i < np; i++) /* insertion sort of the profiles, larger first */
        for (int j = i; j > 0 && canon_before(m, prof[j], prof[j - 1]); j--) {
            int8_t t = prof[j];
            prof[j] = prof[j - 1];
            prof[j - 1] = t;
        }
    for (int k = 0; k < np; k++) {
        int p = prof[k];
        if (counts[p] < 0 || counts[p] > m->profiles[p].max_count || n + counts[p] > 7)
            return ss_error_set(err, SS_EINVAL, "%d %s instances do not fit one %s GPU", counts[p],
                                m->profiles[p].name, m->name);
        for (int c = 0; c < counts[p]; c++)
            order[n++] = (int8_t)p;
    }
    ss_mig_layout_t l = {.n = n};
    char why[160];
    if (!canon_at(m, order, 0, n, 0, 0, &l) || !ss_mig_layout_valid(m, l.inst, n, why, sizeof why))
        return ss_error_set(err, SS_EINVAL, "no valid %s layout holds these instances", m->name);
    for (int i = 1; i < n; i++) /* order by start */
        for (int j = i; j > 0 && l.inst[j].start < l.inst[j - 1].start; j--) {
            ss_mig_inst_t t = l.inst[j];
            l.inst[j] = l.inst[j - 1];
            l.inst[j - 1] = t;
        }
    *out = l;
    return 0;
}

void ss_mig_unused(const ss_mig_model_t *m, const ss_mig_layout_t *l, int *compute, int *mem)
{
    int c = SS_MIG_COMPUTE_SLICES, s = SS_MIG_MEM_SLICES;
    for (int i = 0; i < l->n; i++) {
        c -= m->profiles[l->inst[i].profile].compute;
        s -= m->profiles[l->inst[i].profile].mem;
    }
    *compute = c;
    *mem = s;
}
