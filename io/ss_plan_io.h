/* ss_plan_io: the consolidate plan file (kind "plan", docs/consolidate.md):
 * its HDF5 datasets and the --emit JSON document with the policy/v1
 * Eviction objects of each wave. */
#ifndef SS_PLAN_IO_H
#define SS_PLAN_IO_H

#include "ss_bind.h"
#include "ss_cluster.h"
#include "ss_consolidate.h"
#include "ss_error.h"

/* Writes p (a plan for c) to path atomically (io/ss_atomic.h). */
int ss_plan_write(const char *path, const ss_cluster_t *c, const ss_cplan_t *p, ss_error_t *err);

/* Reads a plan into *p (the caller frees it with ss_cplan_free) and checks
 * it against c: the snapshot fingerprint, node and pod rows in range, every
 * moved pod running, waves in 1..waves. Returns 0 or a negative code with a
 * message naming the file and dataset. */
int ss_plan_read(const char *path, const ss_cluster_t *c, ss_cplan_t *p, ss_error_t *err);

/* Writes the --emit JSON document atomically:
 * {"waves": [{"wave", "drain": [names], "moves": [{namespace, name, from, to}],
 *   "evictions": [policy/v1 Eviction]}]}. */
int ss_plan_emit_json(const char *path, const ss_cluster_t *c, const ss_cplan_t *p,
                      ss_error_t *err);

/* The plan's waves as an ordered request log for bind --replay
 * (io/ss_bind_waves.c; docs/kubernetes.md "Consolidation waves"): one unit,
 * wave by wave: a cordon line (PATCH spec.unschedulable: true) per node the
 * wave drains, then one policy/v1 Eviction per pod the wave moves, the last
 * of which waits (wait_s) until the wave's pods are gone, the pods with
 * each moved pod's labels in its namespace are Running again as many as c
 * has, and every PodDisruptionBudget covering a pod of the next wave allows
 * the disruptions that wave makes. Every line carries its wave. A plan
 * without waves gives a log without lines (*l is then empty). */
int ss_plan_wave_log(const ss_cluster_t *c, const ss_cplan_t *p, double wait_s, ss_bind_log_t *l,
                     ss_error_t *err);

#endif
