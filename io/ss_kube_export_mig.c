/* ss_kube_export_mig: the MIG side of the Kubernetes export (issue 15,
 * docs/mig.md "gen and export"): a node's MIG state and the name of its
 * mig-parted entry (all-<profile>, all-balanced, custom-<hash>), and
 * ss_kube_export_mig_config, which writes mig-parted's configuration of the
 * entries the exported nodes' nvidia.com/mig.config labels name, so that
 * `import --mig-config` reads the same layouts back. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ss_atomic.h"
#include "ss_kube_export_mig.h"
#include "ss_kube_import.h"

static const char *S(const ss_cluster_t *c, int32_t id)
{
    return ss_cluster_strget(c, id);
}

/* The device plugin's resource spelling of a profile ('+' as '.'). */
const char *kexp_mig_res(const char *profile, char *buf, size_t n)
{
    snprintf(buf, n, "nvidia.com/mig-%s", profile);
    for (char *q = buf; *q; q++)
        if (*q == '+')
            *q = '.';
    return buf;
}

/* Whether counts are the model's all-balanced entry (mig-parted's
 * config-default: 2x the 1g of one memory slice, one 2g, one 3g). */
static bool balanced(const ss_mig_model_t *m, const int32_t *counts)
{
    for (int p = 0; p < m->n_profiles; p++) {
        const ss_mig_profile_t *x = &m->profiles[p];
        int32_t want = x->media                         ? 0
                       : x->compute == 1 && x->mem == 1 ? 2
                       : x->compute == 2 && x->mem == 2 ? 1
                       : x->compute == 3 && x->mem == 4 ? 1
                                                        : 0;
        if (counts[p] != want)
            return false;
    }
    return true;
}

/* The entry name: all-<profile> (one profile, full GPUs) or all-balanced
 * when every GPU is in MIG mode with the same counts, else
 * custom-<hash of the model and the per-GPU states>. */
static void mig_entry_name(const ss_mig_model_t *m, kexp_mig_node_t *x)
{
    bool same = x->n_mig == x->n;
    for (int32_t g = 1; g < x->n && same; g++)
        same = !memcmp(x->counts[g], x->counts[0], sizeof x->counts[0]);
    int single = -1, kinds = 0;
    for (int p = 0; p < m->n_profiles; p++)
        if (x->counts[0][p]) {
            kinds++;
            single = p;
        }
    char buf[96];
    if (same && kinds == 1 && x->counts[0][single] == m->profiles[single].max_count) {
        snprintf(x->name, sizeof x->name, "all-%s",
                 kexp_mig_res(m->profiles[single].name, buf, sizeof buf) +
                     strlen("nvidia.com/mig-"));
        return;
    }
    if (same && balanced(m, x->counts[0])) {
        snprintf(x->name, sizeof x->name, "all-balanced");
        return;
    }
    uint32_t h = 2166136261u; /* FNV-1a */
    const unsigned char *b = (const unsigned char *)m->name;
    for (; *b; b++)
        h = (h ^ *b) * 16777619u;
    for (int32_t g = 0; g < x->n; g++) {
        h = (h ^ (uint32_t)(x->mig[g] + 1)) * 16777619u;
        for (int p = 0; p < m->n_profiles; p++)
            h = (h ^ (uint32_t)x->counts[g][p]) * 16777619u;
    }
    snprintf(x->name, sizeof x->name, "custom-%08x", h);
}

/* Node n's MIG state; false when none of its GPUs is in MIG mode. */
bool kexp_mig_node(const ss_cluster_t *c, int32_t n, kexp_mig_node_t *x)
{
    const ss_mig_model_t *m = NULL;
    memset(x, 0, sizeof *x);
    x->model = -1;
    x->n = c->node_gpu_count[n];
    for (int32_t g = 0; g < x->n; g++) {
        int32_t gpu = c->node_gpu_begin[n] + g;
        if (!c->gpu_mig_model[gpu])
            continue;
        if (!m) {
            x->model = ss_mig_find_model(S(c, c->gpu_mig_model[gpu]));
            if (!(m = ss_mig_model(x->model)))
                return false; /* validated clusters never get here */
        }
        x->mig[g] = true;
        x->n_mig++;
        for (int32_t i = 0; i < c->gpu_mig_count[gpu]; i++) {
            int p = ss_mig_find_profile(m, S(c, c->mig_insts[c->gpu_mig_begin[gpu] + i].profile));
            if (p >= 0) {
                x->counts[g][p]++;
                x->total[p]++;
            }
        }
    }
    if (!m)
        return false;
    mig_entry_name(m, x);
    return true;
}

/* ---- the mig-parted configuration of the MIG nodes' entries ---- */

typedef struct {
    char name[128];
    int model;
    int32_t node; /* one node that uses it */
} mig_entry_t;

/* One device group: GPUs gpus[0..n) of x share the state of gpus[0]. */
static int put_group(FILE *f, const ss_mig_model_t *m, const kexp_mig_node_t *x,
                     const int32_t *gpus, int32_t n, bool all, bool filter)
{
    int bad = fprintf(f, "    - ") < 0;
    if (filter) {
        bad |= fprintf(f, "device-filter: [") < 0;
        for (int i = 0; i < SS_MIG_MAX_DEVICE_IDS && m->device_ids[i]; i++)
            bad |= fprintf(f, "%s\"0x%08X\"", i ? ", " : "", (unsigned)m->device_ids[i]) < 0;
        bad |= fprintf(f, "]\n      ") < 0;
    }
    if (all)
        bad |= fprintf(f, "devices: all\n") < 0;
    else {
        bad |= fprintf(f, "devices: [") < 0;
        for (int32_t i = 0; i < n; i++)
            bad |= fprintf(f, "%s%d", i ? ", " : "", (int)gpus[i]) < 0;
        bad |= fprintf(f, "]\n") < 0;
    }
    bool on = x->mig[gpus[0]];
    bad |= fprintf(f, "      mig-enabled: %s\n", on ? "true" : "false") < 0;
    if (on) {
        bad |= fprintf(f, "      mig-devices:\n") < 0;
        for (int p = 0; p < m->n_profiles; p++)
            if (x->counts[gpus[0]][p])
                bad |= fprintf(f, "        \"%s\": %d\n", m->profiles[p].name,
                               (int)x->counts[gpus[0]][p]) < 0;
    }
    return bad;
}

/* An entry's groups: a custom entry lists its GPUs by state (the first GPU
 * of each distinct state, then every GPU sharing it); an all-* entry is one
 * group per model, filtered by the model's PCI ids when several models use
 * the name. */
static int put_entry(FILE *f, const ss_cluster_t *c, const mig_entry_t *e, int32_t ne, int32_t k,
                     kexp_mig_node_t *x)
{
    bool custom = !strncmp(e[k].name, "custom-", 7);
    int variants = 0;
    for (int32_t j = k; j < ne; j++)
        variants += !strcmp(e[j].name, e[k].name);
    int bad = fprintf(f, "  %s:\n", e[k].name) < 0;
    for (int32_t j = k; j < ne && !bad; j++) {
        if (strcmp(e[j].name, e[k].name))
            continue;
        kexp_mig_node(c, e[j].node, x);
        const ss_mig_model_t *m = ss_mig_model(x->model);
        int32_t gpus[SS_MAX_GPUS_PER_NODE];
        bool done[SS_MAX_GPUS_PER_NODE] = {false};
        for (int32_t g = 0; g < x->n && !bad; g++) {
            if (done[g])
                continue;
            int32_t n = 0;
            for (int32_t h = g; h < x->n; h++)
                if (!done[h] && x->mig[h] == x->mig[g] &&
                    !memcmp(x->counts[h], x->counts[g], sizeof x->counts[g])) {
                    done[h] = true;
                    gpus[n++] = h;
                }
            bad |= put_group(f, m, x, gpus, n, !custom, variants > 1);
        }
    }
    return bad;
}

/* Whether an entry before k has e[k]'s name (written with that one). */
static bool named_before(const mig_entry_t *e, int32_t k)
{
    for (int32_t i = 0; i < k; i++)
        if (!strcmp(e[i].name, e[k].name))
            return true;
    return false;
}

int ss_kube_export_mig_config(const ss_cluster_t *c, const char *path, bool *written,
                              ss_error_t *err)
{
    mig_entry_t *e = NULL;
    kexp_mig_node_t *x = malloc(sizeof *x);
    int32_t ne = 0, cap = 0;
    int rc = 0;
    *written = false;
    for (int32_t n = 0; n < c->n_nodes && x && rc == 0; n++) {
        if (c->node_gpu_count[n] == 0 || !kexp_mig_node(c, n, x))
            continue;
        bool seen = false;
        for (int32_t j = 0; j < ne && !seen; j++)
            seen = e[j].model == x->model && !strcmp(e[j].name, x->name);
        if (seen)
            continue;
        if (ne == cap) {
            mig_entry_t *ng = realloc(e, (size_t)(cap = cap * 2 + 16) * sizeof *e);
            if (!ng) {
                rc = ss_error_set(err, SS_ENOMEM, "%s: out of memory", path);
                break;
            }
            e = ng;
        }
        snprintf(e[ne].name, sizeof e[ne].name, "%s", x->name);
        e[ne].model = x->model;
        e[ne++].node = n;
    }
    if (!x)
        rc = ss_error_set(err, SS_ENOMEM, "%s: out of memory", path);
    if (rc == 0 && ne > 0) {
        char tmp[4096];
        FILE *f = ss_atomic_fopen(path, tmp, sizeof tmp, err);
        if (!f)
            rc = SS_EIO;
        else {
            errno = 0;
            int bad = fprintf(f, "# mig-parted configuration of the entries the MIG nodes' "
                                 "nvidia.com/mig.config labels name\n"
                                 "# (shardsched export; docs/mig.md)\nversion: v1\n"
                                 "mig-configs:\n") < 0;
            for (int32_t k = 0; k < ne && !bad; k++)
                if (!named_before(e, k))
                    bad |= put_entry(f, c, e, ne, k, x);
            int en = errno;
            rc = bad ? ss_error_set(err, SS_EIO, "%s: writing the MIG configuration failed: %s",
                                    path, en ? strerror(en) : "out of memory")
                     : 0;
            rc = ss_atomic_fclose(f, tmp, path, rc, err);
            *written = rc == 0;
        }
    }
    free(e);
    free(x);
    return rc;
}
