/* ss_kube_mig: MIG nodes and MIG requests in the Kubernetes importer
 * (issue 15, docs/mig.md "Import").
 *
 * Nodes, as the NVIDIA GPU operator exposes them:
 * - mixed strategy: status.allocatable nvidia.com/mig-<profile> counts (the
 *   device plugin writes a profile's "+" as "."), nvidia.com/gpu the GPUs
 *   not in MIG mode, the label nvidia.com/gpu.product the board
 *   (NVIDIA-A100-SXM4-40GB) and nvidia.com/gpu.count all its GPUs;
 * - single strategy: nvidia.com/gpu counts MIG devices and the product label
 *   names the profile (NVIDIA-A100-SXM4-40GB-MIG-1g.5gb).
 * Which instances each GPU holds: with --mig-config, the mig-parted entry
 * the node's nvidia.com/mig.config label names; without it, NVIDIA's
 * canonical placement (ss_mig_canonical) of the counts, split evenly over
 * the MIG GPUs when they divide, else first fit, largest profile first.
 *
 * Pods: nvidia.com/mig-<profile>: N is recorded in the template (mig_profile,
 * mig_count), never as an extended resource. A running pod's
 * nvidia.com/gpu on a single-strategy node is a MIG request of the node's
 * profile. */
#include "ss_kube_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ss_mig.h"
#include "ss_quantity.h"

#define MIG_RES_PREFIX "nvidia.com/mig-"
#define MIG_CONFIG_LABEL "nvidia.com/mig.config"
#define GPU_COUNT_LABEL "nvidia.com/gpu.count"
#define NP SS_MIG_MAX_PROFILES

bool kube_mig_resource(const char *name)
{
    return !strncmp(name, MIG_RES_PREFIX, strlen(MIG_RES_PREFIX));
}

/* ---------------------------------------------------------------- pods */

int kube_mig_request(kctx_t *k, const kitem_t *it, const krvec_t *r, bool pending, int32_t *profile,
                     int32_t *count, uint32_t *rules, ss_error_t *err)
{
    char who[512], name[128];
    *profile = *count = 0;
    for (int i = KRES_FIRST_OTHER; i < KRES_MAX; i++) {
        const char *res = ss_strtab_get(k->resnames, i - KRES_FIRST_OTHER + 1);
        if (!res || !kube_mig_resource(res) || r->v[i] == 0)
            continue;
        if (*count > 0)
            return ss_error_set(err, SS_EUNSUPPORTED,
                                "%s: requests (effective) %s: a pod asking two MIG profiles is "
                                "not supported",
                                kwho(it, who), res);
        if (r->v[i] > SS_MIG_MAX_INSTANCES * SS_MAX_GPUS_PER_NODE)
            return ss_error_set(err, SS_ERANGE, "%s: requests (effective) %s: %lld; at most %d",
                                kwho(it, who), res, (long long)r->v[i],
                                SS_MIG_MAX_INSTANCES * SS_MAX_GPUS_PER_NODE);
        /* the resource spelling 1g.10gb.me is the profile 1g.10gb+me */
        snprintf(name, sizeof name, "%s", res + strlen(MIG_RES_PREFIX));
        size_t n = strlen(name);
        if (n > 3 && !strcmp(name + n - 3, ".me"))
            name[n - 3] = '+';
        if ((*profile = kstr_id(k, name, err)) < 0)
            return SS_ENOMEM;
        *count = (int32_t)r->v[i];
    }
    (void)pending;
    (void)rules;
    return 0;
}

/* --------------------------------------------------------------- nodes */

/* A node's MIG layout: per GPU, not partitioned (mig 0) or a layout. */
typedef struct {
    int32_t n; /* GPUs */
    bool mig[SS_MAX_GPUS_PER_NODE];
    ss_mig_layout_t lay[SS_MAX_GPUS_PER_NODE];
} kmig_node_t;

static void describe(const ss_mig_model_t *m, int32_t whole, const int32_t *counts, char *buf,
                     size_t n)
{
    size_t at = (size_t)snprintf(buf, n, "%d whole GPU(s)", (int)whole);
    for (int p = 0; p < m->n_profiles && at < n; p++)
        if (counts[p])
            at +=
                (size_t)snprintf(buf + at, n - at, ", %d %s", (int)counts[p], m->profiles[p].name);
}

static void tally(const ss_mig_model_t *m, const kmig_node_t *x, int32_t *whole, int32_t *counts)
{
    *whole = 0;
    memset(counts, 0, NP * sizeof *counts);
    for (int32_t g = 0; g < x->n; g++) {
        if (!x->mig[g])
            (*whole)++;
        for (int32_t i = 0; x->mig[g] && i < x->lay[g].n; i++)
            counts[x->lay[g].inst[i].profile]++;
    }
    (void)m;
}

/* One GPU's layout by first fit from the counts still to place (larger
 * profiles first); subtracts what it took. */
static void first_fit(const ss_mig_model_t *m, int32_t *left, ss_mig_layout_t *out)
{
    int32_t cur[NP] = {0};
    ss_mig_layout_t l = {0};
    for (int mem = SS_MIG_MEM_SLICES; mem >= 1; mem--) /* larger first: memory, then compute */
        for (int cs = SS_MIG_COMPUTE_SLICES; cs >= 1; cs--)
            for (int p = 0; p < m->n_profiles; p++)
                while (m->profiles[p].mem == mem && m->profiles[p].compute == cs &&
                       left[p] > cur[p]) {
                    cur[p]++;
                    if (ss_mig_canonical(m, cur, &l, NULL) < 0) {
                        cur[p]--;
                        break;
                    }
                }
    ss_mig_canonical(m, cur, &l, NULL);
    for (int p = 0; p < m->n_profiles; p++)
        left[p] -= cur[p];
    *out = l;
}

/* Without a configuration: the canonical layout of the allocatable counts.
 * label_total: nvidia.com/gpu.count, or -1. */
static int from_counts(const kitem_t *it, const ss_mig_model_t *m, int32_t whole,
                       const int32_t *counts, int32_t label_total, kmig_node_t *x, ss_error_t *err)
{
    char who[512], what[400];
    int32_t left[NP], any = 0;
    memcpy(left, counts, sizeof left);
    for (int p = 0; p < m->n_profiles; p++)
        any += counts[p];
    int32_t nmig = label_total >= whole ? label_total - whole : -1;
    memset(x, 0, sizeof *x);
    x->n = whole;
    bool even = nmig > 0;
    int32_t share[NP] = {0};
    for (int p = 0; even && p < m->n_profiles; p++) {
        share[p] = counts[p] / nmig;
        even = counts[p] % nmig == 0;
    }
    ss_mig_layout_t l;
    if (even && ss_mig_canonical(m, share, &l, NULL) == 0) {
        for (int32_t g = 0; g < nmig; g++)
            x->mig[x->n] = true, x->lay[x->n++] = l;
        return 0;
    }
    while ((nmig < 0 ? any > 0 : x->n < whole + nmig) && x->n < SS_MAX_GPUS_PER_NODE) {
        first_fit(m, left, &x->lay[x->n]);
        x->mig[x->n++] = true;
        any = 0;
        for (int p = 0; p < m->n_profiles; p++)
            any += left[p];
    }
    if (any > 0) {
        describe(m, whole, counts, what, sizeof what);
        return ss_error_set(err, SS_EFORMAT,
                            "%s: the MIG allocatable (%s) does not fit %d %s GPU(s) "
                            "(nvidia.com/gpu.count %d)",
                            kwho(it, who), what, (int)(x->n - whole), m->name, (int)label_total);
    }
    return 0;
}

/* ---- --mig-config: mig-parted's configuration ---- */

int kube_mig_config_load(kctx_t *k, ss_error_t *err)
{
    const char *path = k->o->mig_config_path;
    if (!path)
        return 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        return ss_error_set(err, SS_EIO, "%s: cannot open: %s", path, strerror(errno));
    char *buf = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len + 4096 > cap) {
            char *nb = realloc(buf, cap = cap * 2 + 8192);
            if (!nb) {
                free(buf);
                fclose(f);
                return ss_error_set(err, SS_ENOMEM, "%s: out of memory", path);
            }
            buf = nb;
        }
        size_t got = fread(buf + len, 1, cap - len - 1, f);
        len += got;
        if (got == 0)
            break;
    }
    fclose(f);
    buf[len] = 0;
    int rc = ss_yaml_load(path, buf, len, &k->mig_yaml, err);
    free(buf);
    if (rc < 0)
        return rc;
    json_t *doc = ss_yaml_count(k->mig_yaml) ? ss_yaml_doc(k->mig_yaml, 0) : NULL;
    k->mig_configs = json_object_get(doc, "mig-configs");
    if (!json_is_object(k->mig_configs))
        return ss_error_set(err, SS_EFORMAT, "%s: no mig-configs mapping (not a mig-parted config)",
                            path);
    return 0;
}

void kube_mig_free(kctx_t *k)
{
    ss_yaml_free(k->mig_yaml);
    k->mig_yaml = NULL;
}

/* Whether a device group applies to GPU g of model m. */
static int group_covers(const char *path, const char *entry, size_t gi, json_t *grp,
                        const ss_mig_model_t *m, int32_t g, bool *yes, ss_error_t *err)
{
    json_t *dev = json_object_get(grp, "devices"), *flt = json_object_get(grp, "device-filter");
    *yes = false;
    if (json_is_string(dev) && !strcmp(json_string_value(dev), "all"))
        *yes = true;
    else if (json_is_array(dev)) {
        size_t i;
        json_t *v;
        json_array_foreach(dev, i, v)
        {
            if (!json_is_integer(v))
                return ss_error_set(err, SS_EFORMAT,
                                    "%s: mig-configs.%s[%zu].devices[%zu]: expected a GPU index",
                                    path, entry, gi, i);
            *yes |= json_integer_value(v) == g;
        }
    } else
        return ss_error_set(err, SS_EFORMAT,
                            "%s: mig-configs.%s[%zu].devices: expected \"all\" or a list of GPU "
                            "indices",
                            path, entry, gi);
    if (flt && *yes) {
        bool match = false;
        json_t *one = json_is_array(flt) ? NULL : flt, *v;
        size_t i, n = one ? 1 : json_array_size(flt);
        for (i = 0; i < n; i++) {
            v = one ? one : json_array_get(flt, i);
            const char *s = json_string_value(v);
            if (!s)
                return ss_error_set(err, SS_EFORMAT,
                                    "%s: mig-configs.%s[%zu].device-filter: expected PCI "
                                    "device ids (\"0x20B010DE\")",
                                    path, entry, gi);
            match |= ss_mig_model_has_device(m, (uint32_t)strtoul(s, NULL, 16));
        }
        *yes = match;
    }
    return 0;
}

/* The layout of one device group (mig-devices), checked against m. */
static int group_layout(const char *path, const char *entry, size_t gi, json_t *grp,
                        const ss_mig_model_t *m, const char *product, bool *mig, ss_mig_layout_t *l,
                        ss_error_t *err)
{
    json_t *en = json_object_get(grp, "mig-enabled"), *devs = json_object_get(grp, "mig-devices");
    int32_t counts[NP] = {0};
    const char *name;
    json_t *v;
    if (en && !json_is_boolean(en))
        return ss_error_set(err, SS_EFORMAT,
                            "%s: mig-configs.%s[%zu].mig-enabled: expected a "
                            "boolean",
                            path, entry, gi);
    *mig = json_is_true(en);
    l->n = 0;
    if (!*mig)
        return 0;
    if (devs && !json_is_object(devs))
        return ss_error_set(err, SS_EFORMAT,
                            "%s: mig-configs.%s[%zu].mig-devices: expected a "
                            "mapping of profile to count",
                            path, entry, gi);
    json_object_foreach(devs, name, v)
    {
        int p = ss_mig_find_profile(m, name);
        if (p < 0)
            return ss_error_set(err, SS_EFORMAT,
                                "%s: mig-configs.%s[%zu].mig-devices: '%s' is not a MIG profile "
                                "of %s (nvidia.com/gpu.product %s)",
                                path, entry, gi, name, m->name, product);
        if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 7)
            return ss_error_set(err, SS_EFORMAT,
                                "%s: mig-configs.%s[%zu].mig-devices.%s: expected a count 0..7",
                                path, entry, gi, name);
        counts[p] += (int32_t)json_integer_value(v);
    }
    ss_error_t why;
    if (ss_mig_canonical(m, counts, l, &why) < 0)
        return ss_error_set(err, SS_EFORMAT, "%s: mig-configs.%s[%zu].mig-devices: %s", path, entry,
                            gi, why.text);
    return 0;
}

/* The layout an entry gives T GPUs of model m. */
static int entry_layout(const char *path, const char *entry, json_t *ent, const ss_mig_model_t *m,
                        const char *product, int32_t total, kmig_node_t *x, ss_error_t *err)
{
    memset(x, 0, sizeof *x);
    x->n = total;
    for (int32_t g = 0; g < total; g++) {
        size_t gi;
        json_t *grp;
        json_array_foreach(ent, gi, grp)
        {
            bool yes;
            int rc;
            if (!json_is_object(grp))
                return ss_error_set(err, SS_EFORMAT,
                                    "%s: mig-configs.%s[%zu]: expected a "
                                    "mapping",
                                    path, entry, gi);
            if ((rc = group_covers(path, entry, gi, grp, m, g, &yes, err)) < 0)
                return rc;
            if (!yes)
                continue;
            if ((rc = group_layout(path, entry, gi, grp, m, product, &x->mig[g], &x->lay[g], err)) <
                0)
                return rc;
            break;
        }
    }
    return 0;
}

/* With --mig-config: the entry the node's label names, on as many GPUs as
 * its nvidia.com/gpu.count (or the fewest that give its allocatable). */
static int from_config(kctx_t *k, const kitem_t *it, const ss_mig_model_t *m, const char *entry,
                       int32_t whole, const int32_t *counts, int32_t label_total, kmig_node_t *x,
                       ss_error_t *err)
{
    const char *path = k->o->mig_config_path;
    const char *product = kstr(it->obj, "metadata", "labels", SS_KUBE_GPU_PRODUCT_LABEL);
    char who[512], want[400], got[400];
    json_t *ent = json_object_get(k->mig_configs, entry);
    if (!ent)
        return ss_error_set(err, SS_ENOTFOUND,
                            "%s: mig-configs has no entry '%s' (%s: label " MIG_CONFIG_LABEL ")",
                            path, entry, kwho(it, who));
    if (!json_is_array(ent))
        return ss_error_set(err, SS_EFORMAT,
                            "%s: mig-configs.%s: expected a list of device "
                            "groups",
                            path, entry);
    int32_t lo = label_total >= 0 ? label_total : 1;
    int32_t hi = label_total >= 0 ? label_total : SS_MAX_GPUS_PER_NODE;
    int32_t w, c[NP];
    for (int32_t t = lo; t <= hi; t++) {
        int rc = entry_layout(path, entry, ent, m, product ? product : "", t, x, err);
        if (rc < 0)
            return rc;
        tally(m, x, &w, c);
        if (w == whole && !memcmp(c, counts, sizeof c))
            return 0;
        if (t == lo)
            describe(m, w, c, got, sizeof got);
    }
    describe(m, whole, counts, want, sizeof want);
    return ss_error_set(err, SS_EFORMAT,
                        "%s: mig-configs.%s gives %s on %d GPU(s)%s, but %s shows %s in "
                        "status.allocatable",
                        path, entry, got, (int)lo,
                        label_total >= 0 ? " (nvidia.com/gpu.count)" : " (nor any count up to 64)",
                        kwho(it, who), want);
}

/* The node's MIG allocatable: counts per profile of m (mixed strategy). */
static int mixed_counts(const kitem_t *it, json_t *alloc, const ss_mig_model_t *m,
                        const char *product, int32_t *counts, bool *mixed, ss_error_t *err)
{
    const char *key;
    json_t *v;
    char who[512], field[300];
    *mixed = false;
    json_object_foreach(alloc, key, v)
    {
        if (!kube_mig_resource(key))
            continue;
        *mixed = true;
        const char *prof = key + strlen(MIG_RES_PREFIX);
        char name[128];
        snprintf(name, sizeof name, "%s", prof);
        size_t n = strlen(name);
        if (n > 3 && !strcmp(name + n - 3, ".me"))
            name[n - 3] = '+';
        int p = m ? ss_mig_find_profile(m, name) : -1;
        if (p < 0)
            return ss_error_set(err, SS_EFORMAT,
                                "%s: status.allocatable.%s: not a MIG profile of the GPU "
                                "nvidia.com/gpu.product '%s' (docs/mig.md lists the models)",
                                kwho(it, who), key, product ? product : "");
        int64_t q;
        snprintf(field, sizeof field, "status.allocatable.%s", key);
        int rc = kqty(it, field, v, 0, &q, err);
        if (rc < 0)
            return rc;
        if (q < 0 || q > SS_MIG_MAX_INSTANCES * SS_MAX_GPUS_PER_NODE)
            return ss_error_set(err, SS_ERANGE, "%s: %s: must be 0..448", kwho(it, who), field);
        counts[p] += (int32_t)q;
    }
    return 0;
}

static int32_t label_int(const kitem_t *it, const char *key)
{
    const char *s = kstr(it->obj, "metadata", "labels", key);
    char *end;
    if (!s || !*s)
        return -1;
    long v = strtol(s, &end, 10);
    return *end || v < 0 || v > SS_MAX_GPUS_PER_NODE ? -1 : (int32_t)v;
}

/* Adds the node's GPU records with their MIG state; *handled false when
 * the node has no MIG (the caller adds plain GPUs). */
int kube_node_mig(kctx_t *k, const kitem_t *it, int32_t nidx, int64_t n_gpu, int32_t model_sid,
                  int32_t *begin, int32_t *count, bool *handled, ss_error_t *err)
{
    const char *product = kstr(it->obj, "metadata", "labels", SS_KUBE_GPU_PRODUCT_LABEL);
    const char *entry = kstr(it->obj, "metadata", "labels", MIG_CONFIG_LABEL);
    json_t *alloc = kget(it->obj, "status", "allocatable", NULL);
    if (!alloc)
        alloc = kget(it->obj, "status", "capacity", NULL);
    int mi = ss_mig_find_model(product);
    const ss_mig_model_t *m = ss_mig_model(mi);
    int32_t counts[NP] = {0}, whole = (int32_t)n_gpu, total = label_int(it, GPU_COUNT_LABEL);
    bool mixed;
    char who[512];
    int rc = mixed_counts(it, alloc, m, product, counts, &mixed, err);
    int sp = product ? ss_mig_label_profile(product, NULL) : -1;
    *handled = false;
    if (rc < 0)
        return rc;
    if (!mixed && product && sp < 0 && strstr(product, "-MIG-"))
        return ss_error_set(err, SS_EFORMAT,
                            "%s: metadata.labels." SS_KUBE_GPU_PRODUCT_LABEL
                            ": '%s' names no MIG profile of a known GPU (docs/mig.md)",
                            kwho(it, who), product);
    bool single = !mixed && sp >= 0 && n_gpu > 0;
    if (!mixed && !single)
        return 0;
    int64_t most = single ? SS_MIG_MAX_INSTANCES * SS_MAX_GPUS_PER_NODE : SS_MAX_GPUS_PER_NODE;
    if (n_gpu > most)
        return ss_error_set(
            err, SS_ERANGE, "%s: status.allocatable." SS_KUBE_GPU ": %lld %s; at most %lld",
            kwho(it, who), (long long)n_gpu, single ? "MIG devices" : "GPUs", (long long)most);
    if (single) { /* nvidia.com/gpu counts MIG devices of one profile */
        counts[sp] = whole;
        whole = 0;
        k->mig_single[nidx] = kstr_id(k, m->profiles[sp].name, err);
        if (k->mig_single[nidx] < 0)
            return SS_ENOMEM;
        if (total < 0 && !(k->mig_configs && entry)) /* each GPU full: all-<profile> */
            total = (counts[sp] + m->profiles[sp].max_count - 1) / m->profiles[sp].max_count;
    }
    kmig_node_t x;
    if (k->mig_configs && entry)
        rc = from_config(k, it, m, entry, whole, counts, total, &x, err);
    else
        rc = from_counts(it, m, whole, counts, total, &x, err);
    if (rc < 0)
        return rc;
    int32_t msid = kstr_id(k, m->name, err);
    if (msid < 0)
        return SS_ENOMEM;
    *begin = k->c->n_gpus;
    *count = x.n;
    for (int32_t g = 0; g < x.n; g++) {
        int32_t gid = ss_cluster_add_gpu(k->c, model_sid, SS_GPU_MILLI);
        ss_mig_instance_t inst[SS_MIG_MAX_INSTANCES];
        for (int32_t i = 0; x.mig[g] && i < x.lay[g].n; i++) {
            inst[i].profile = kstr_id(k, m->profiles[x.lay[g].inst[i].profile].name, err);
            inst[i].start = x.lay[g].inst[i].start;
            if (inst[i].profile < 0)
                return SS_ENOMEM;
        }
        if (gid < 0 || (x.mig[g] && ss_cluster_set_gpu_mig(k->c, gid, msid, inst, x.lay[g].n) < 0))
            return ss_error_set(err, SS_ENOMEM, "out of memory");
    }
    *handled = true;
    return 0;
}
