/* ss_mig_relayout: MIG re-layout (issue 15, `schedule --mig-relayout`,
 * docs/mig.md "Re-layout"): choosing new layouts for idle GPUs so that the
 * pods a first scheduling pass left unplaced fit, applying them to a
 * cluster, and naming and writing the mig-parted configuration entries the
 * re-laid-out nodes need.
 *
 * Plain engine code: no MPI, no HDF5. The chosen layouts live in the
 * placements (ss_placements_t's relayout_* arrays, by increasing GPU
 * record); every layout is the canonical placement (ss_mig_canonical) of
 * its counts, because the MIG manager creates the canonical placement from
 * `mig-devices: {profile: count}`. */
#ifndef SS_MIG_RELAYOUT_H
#define SS_MIG_RELAYOUT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "ss_cluster.h"
#include "ss_error.h"
#include "ss_placements.h"
#include "ss_state.h"

/* Most MIG instances one node holds (the MIG mask is a uint64). */
#define SS_MIG_NODE_MAX_INSTANCES 64

/* Pods of one template that the first pass left unplaced and a re-layout
 * could serve: a MIG pod (mig_count > 0: mig_count instances of
 * mig_profile on one node) or a GPU pod (req.gpu_count > 0 and no MIG
 * request: gpu_count GPUs not in MIG mode on one node; a fractional pod
 * is counted as needing a whole GPU). */
typedef struct {
    int32_t tmpl;  /* template index */
    int32_t count; /* pods of it to serve */
} ss_relayout_demand_t;

typedef struct {
    const ss_cluster_t *c;
    /* Free capacity after the first pass (read-only): a node takes only
     * the pods its free pod slots, cpu, memory and extended resources
     * hold, and a GPU not in MIG mode serves a whole-GPU pod as it is only
     * when it is wholly free. NULL: capacity is not checked. s->c must be c. */
    const ss_state_t *s;
    /* [c->n_gpus]: nonzero = the GPU holds a running pod or a placement of
     * the first pass: never re-laid-out. NULL: every GPU is idle. */
    const uint8_t *gpu_busy;
    /* Demand, in the order it should be served (the lead passes it by
     * decreasing priority, then template index). Each template at most
     * once. */
    const ss_relayout_demand_t *demand;
    int32_t n_demand;
} ss_relayout_input_t;

/* The busy flags choose() needs, from the cluster and the first pass:
 * busy[g] (c->n_gpus entries, set here, not cleared) = 1 for every GPU
 * holding a running pod (c->pod_node, c->pod_gpu_mask) or a placed row of
 * pass1 (may be NULL). A GPU pod's mask names GPUs, a MIG pod's names the
 * node's MIG instances (node-local: the node's GPUs in order, each GPU's
 * instances in order); a running MIG pod whose mask is still 0 (no
 * instance assigned) makes every GPU of its node with an instance of its
 * profile busy. Returns 0 or SS_EINVAL (a mask naming what the node lacks;
 * err names the pod and node). */
int ss_mig_relayout_busy(const ss_cluster_t *c, const ss_placements_t *pass1, uint8_t *busy,
                         ss_error_t *err);

/* MIG instances of node after p's re-layouts (p may be NULL: now). The
 * bound of a MIG pod's mask on that node, for checks of placements that
 * carry re-layouts. */
int32_t ss_mig_relayout_node_instances(const ss_cluster_t *c, const ss_placements_t *p,
                                       int32_t node);

/* Chooses new layouts for idle GPUs of MIG-capable models so that the
 * demand is served with the fewest GPUs re-laid-out, then the fewest
 * unused slices (the rule: docs/mig.md "Re-layout"; a greedy over nodes in
 * index order, then over each node's GPUs). Appends them to p->relayout_*
 * (the GPU records must be greater than those p already has). served (may
 * be NULL; [n_demand]) receives how many pods of each demand entry the
 * chosen layouts (and whole GPUs already free on the same nodes) hold.
 * Deterministic; no randomness. Returns 0, SS_EINVAL (bad input, err names
 * the field) or SS_ENOMEM; p is unchanged on error. */
int ss_mig_relayout_choose(const ss_relayout_input_t *in, ss_placements_t *p, int32_t *served,
                           ss_error_t *err);

/* Checks p's re-layouts against c: GPU records increasing and in range,
 * each model the ss_mig model of the GPU's board (c->gpu_model through
 * ss_mig_find_model: the GPU must be MIG-capable) or -1 (MIG disabled, no
 * instances), each layout valid (ss_mig_layout_valid) and the canonical
 * placement of its counts, at most 64 instances per node after the change.
 * c may be NULL: only what needs no cluster. The message names the
 * re-layout row, the GPU record and the node. Returns 0 or SS_EINVAL. */
int ss_mig_relayout_check(const ss_cluster_t *c, const ss_placements_t *p, ss_error_t *err);

/* Rewrites the layouts of the GPUs p->relayout_gpu[] in c: their new
 * instances are appended to c->mig_insts, gpu_mig_model becomes the string
 * id of the model's name, or 0 for MIG disabled (a whole GPU again).
 * Instances of other GPUs are untouched (their ranges stay), and the masks
 * of running MIG pods on the nodes are renumbered to the new node-local
 * instance order (a mask of 0, not assigned yet, stays 0). Checks first
 * (ss_mig_relayout_check; and no running pod may hold a GPU p changes) and
 * changes nothing on error (strings it interned
 * before running out of memory may stay in the table). Returns 0,
 * SS_EINVAL or SS_ENOMEM. */
int ss_mig_relayout_apply(ss_cluster_t *c, const ss_placements_t *p, ss_error_t *err);

/* Undoing a re-layout after the second pass: what the re-laid-out GPUs
 * were (per row of p: gpu_mig_model, gpu_mig_begin, gpu_mig_count). */
typedef struct {
    int32_t n;
    int32_t *model, *begin, *count;
} ss_mig_relayout_saved_t;

/* Saves the GPUs p re-lays out, before ss_mig_relayout_apply(c, p).
 * Returns 0, SS_EINVAL or SS_ENOMEM. */
int ss_mig_relayout_save(const ss_cluster_t *c, const ss_placements_t *p,
                         ss_mig_relayout_saved_t *s, ss_error_t *err);
void ss_mig_relayout_saved_free(ss_mig_relayout_saved_t *s);

/* After the second pass: c is the applied cluster, s what
 * ss_mig_relayout_save saved, p the second pass's placements carrying the
 * re-layout rows. Drops the rows no placed pod of p holds (a new instance,
 * or the GPU for a GPU pod): those GPUs get their old layout back in c, and
 * the MIG masks of p's placed rows and of c's running pods on their nodes
 * are renumbered, so p stays valid for c without a third pass. *dropped
 * (may be NULL): rows dropped. Returns 0, SS_EINVAL or SS_ENOMEM; nothing
 * changes on error. */
int ss_mig_relayout_prune(ss_cluster_t *c, const ss_mig_relayout_saved_t *s, ss_placements_t *p,
                          int32_t *dropped, ss_error_t *err);

/* The mig-parted config entry re-laid-out node needs: "shardsched-" and 16
 * hex digits of a hash of the node's whole per-GPU layout list after the
 * re-layout (model, MIG enabled, count per profile of each GPU in order),
 * so nodes with the same layouts share one entry. 27 characters, a valid
 * label value. The result is the same before and after
 * ss_mig_relayout_apply(c, p). */
void ss_mig_plan_entry_name(const ss_cluster_t *c, const ss_placements_t *p, int32_t node,
                            char *buf, size_t n);

/* Writes mig-parted's configuration (`version: v1`, `mig-configs:`) with
 * one entry per distinct ss_mig_plan_entry_name of the nodes p re-lays
 * out, in name order: each lists every GPU of the node (node-local
 * indices; GPUs with the same layout share one device group), those not
 * re-laid-out as they are. A comment above each entry names its nodes.
 * Nothing is written for no re-layout but the header. Returns 0, SS_EINVAL
 * (p does not check against c), SS_EIO or SS_ENOMEM. */
int ss_mig_plan_write_config(FILE *f, const ss_cluster_t *c, const ss_placements_t *p,
                             ss_error_t *err);

#endif
