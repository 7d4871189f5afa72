/* ss_mig: the MIG (Multi-Instance GPU) profile table and its placement rules
 * (issue 15, docs/mig.md).
 *
 * One table for the MIG-capable GPU models the engine knows (A100 40GB,
 * A100 80GB, H100 80GB, H100 NVL 94GB, H200 141GB): each profile's name,
 * compute slices (of 7), memory slices (of 8), the most instances of it one
 * GPU holds, and the memory slices it may start at. A layout is a set of
 * instances (profile, start); it is valid when every start is allowed, no
 * two instances share a memory slice, the compute slices add up to at most
 * 7, no profile exceeds its count, and at most one instance has the media
 * extensions (+me). Plain C, no allocation: every function works on the
 * static table and caller arrays. */
#ifndef SS_MIG_H
#define SS_MIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ss_error.h"

#define SS_MIG_MEM_SLICES 8     /* memory slices of a GPU */
#define SS_MIG_COMPUTE_SLICES 7 /* compute slices of a GPU */
#define SS_MIG_MAX_INSTANCES 7  /* instances of one GPU, at most */
#define SS_MIG_MAX_PROFILES 8   /* profiles of one model, at most */
#define SS_MIG_MAX_DEVICE_IDS 4 /* PCI device ids of one model in the table */
#define SS_MIG_MAX_LAYOUTS 4096 /* valid layouts of one model: 2,319 (239 maximal) */

typedef struct {
    const char *name; /* e.g. "1g.10gb", "1g.10gb+me" */
    int8_t compute;   /* compute slices */
    int8_t mem;       /* memory slices (of 8) */
    int8_t max_count; /* most instances on one GPU */
    int8_t media;     /* 1: has the media extensions (+me): one such instance per GPU */
    uint8_t starts;   /* bit s: may start at memory slice s */
} ss_mig_profile_t;

typedef struct {
    const char *name;      /* the table's own name, e.g. "H100-80GB" */
    const char *gpu_label; /* nvidia.com/gpu.product of one typical board */
    int32_t n_profiles;
    ss_mig_profile_t profiles[SS_MIG_MAX_PROFILES]; /* largest first is NOT implied */
    uint32_t device_ids[SS_MIG_MAX_DEVICE_IDS];     /* mig-parted device-filter ids, 0 = none */
} ss_mig_model_t;

/* One instance of a layout: a profile index of the model, and its first
 * memory slice. */
typedef struct {
    int8_t profile, start;
} ss_mig_inst_t;

/* A layout of one GPU: up to 7 instances, ordered by start. */
typedef struct {
    int32_t n;
    ss_mig_inst_t inst[SS_MIG_MAX_INSTANCES];
} ss_mig_layout_t;

/* The models of the table. */
int ss_mig_model_count(void);
const ss_mig_model_t *ss_mig_model(int i); /* NULL if out of range */

/* The model a GPU name means, or -1: the table's own name ("A100-40GB",
 * "H200-141GB"), or the GPU operator's nvidia.com/gpu.product label
 * ("NVIDIA-A100-SXM4-80GB", "NVIDIA-H100-80GB-HBM3", "NVIDIA-H100-NVL",
 * "NVIDIA-H200"), with or without a single strategy's "-MIG-<profile>"
 * suffix. Case-insensitive. A GPU the table does not have (V100, H100 96GB,
 * B200) is -1. */
int ss_mig_find_model(const char *name);

/* The profile index of model m named name ("1g.10gb"; the device plugin's
 * resource spelling "1g.10gb.me" of "1g.10gb+me" too), or -1. */
int ss_mig_find_profile(const ss_mig_model_t *m, const char *name);

/* The profile a single-strategy nvidia.com/gpu.product label names
 * ("NVIDIA-A100-SXM4-40GB-MIG-1g.5gb": 1g.5gb of model A100-40GB), or -1
 * when the label has no -MIG- part or names no profile of the table. */
int ss_mig_label_profile(const char *label, int *model);

/* Bit-per-model device-filter check: whether PCI device id (e.g. 0x20B010DE)
 * is one of model m's. */
bool ss_mig_model_has_device(const ss_mig_model_t *m, uint32_t device_id);

/* Whether the n instances form a valid layout of m (any order). On false,
 * why (may be NULL) says which rule fails, naming the instance. */
bool ss_mig_layout_valid(const ss_mig_model_t *m, const ss_mig_inst_t *inst, int n, char *why,
                         size_t why_len);

/* Whether the valid layout l is maximal: no instance of any profile can be
 * added to it. */
bool ss_mig_layout_maximal(const ss_mig_model_t *m, const ss_mig_layout_t *l);

/* Every valid layout of m (the empty one included), ordered by (start,
 * profile) lexicographically, into out[0 .. max) (out may be NULL to count).
 * maximal_only: only the maximal ones. Returns how many there are. */
int ss_mig_enumerate(const ss_mig_model_t *m, bool maximal_only, ss_mig_layout_t *out, int max);

/* NVIDIA's canonical placement of a count per profile (counts[p] for each
 * profile p of m): the layout the MIG manager creates for
 * `mig-devices: {profile: count}` on one GPU. Rule (docs/mig.md):
 * instances go largest first (memory slices, then compute slices, then
 * table order), each at the lowest valid start that is free, backtracking
 * to the next start when the rest no longer fits; the first complete layout
 * found is the answer. Returns 0, or SS_EINVAL (err names the profile) when
 * the counts fit no layout of m. */
int ss_mig_canonical(const ss_mig_model_t *m, const int32_t *counts, ss_mig_layout_t *out,
                     ss_error_t *err);

/* Unused slices of a layout: compute (of 7) and memory (of 8). */
void ss_mig_unused(const ss_mig_model_t *m, const ss_mig_layout_t *l, int *compute, int *mem);

#endif
