/* ss_kube_export_mig: what io/ss_kube_export.c and io/ss_kube_export_mig.c
 * share about MIG nodes (issue 15, docs/mig.md "gen and export"): a node's
 * MIG state per GPU and the name of the mig-parted entry that gives it. Not
 * a public header. */
#ifndef SS_KUBE_EXPORT_MIG_H
#define SS_KUBE_EXPORT_MIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ss_cluster.h"
#include "ss_mig.h"

/* A node's MIG state per GPU: in MIG mode or not, instance counts per
 * profile of the node's model (the first MIG GPU's), and the name of the
 * mig-parted entry that gives it. */
typedef struct {
    int model; /* ss_mig model index */
    int32_t n; /* GPUs */
    int32_t n_mig;
    bool mig[SS_MAX_GPUS_PER_NODE];
    int32_t counts[SS_MAX_GPUS_PER_NODE][SS_MIG_MAX_PROFILES];
    int32_t total[SS_MIG_MAX_PROFILES]; /* over the node's GPUs */
    char name[128];
} kexp_mig_node_t;

/* The device plugin's resource spelling of a profile:
 * "nvidia.com/mig-<profile>" with '+' as '.'. Returns buf. */
const char *kexp_mig_res(const char *profile, char *buf, size_t n);

/* Node n's MIG state and entry name; false when none of its GPUs is in MIG
 * mode. */
bool kexp_mig_node(const ss_cluster_t *c, int32_t n, kexp_mig_node_t *x);

#endif
