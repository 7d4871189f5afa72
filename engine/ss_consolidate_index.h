/* ss_consolidate_index: the free-room index behind consolidate's target
 * search (engine/ss_consolidate_plan.c, docs/consolidate.md "Speed").
 *
 * Nodes are grouped into capacity classes (equal cpu and memory
 * allocatable, taints and cordon: in practice a node pool) and, inside a
 * class, into cells by free cpu (row) x free memory (column): row r of a
 * class of cpu C holds free_cpu * side / (C + 1) == r, the same for memory;
 * side = 256, fewer when there are many classes. Each cell is a linked
 * list, with bitmaps of the non-empty rows, columns and cells and per-cell
 * bounds of free cpu, memory and pod slots (kept loose on changes, made
 * exact whenever a cell is read). A query walks a class's cells in the
 * order of the target policy's score and stops a row, then the class, as
 * soon as no later cell's bound can beat the best node found, so a search
 * costs about the nodes whose bound is within a cell of the winner's, not a
 * scan of the cluster.
 *
 * The answer is exactly the scan's: the node with the best score
 * (ss_cidx_score) among those the caller accepts, the lowest row on ties.
 * Every bound is a true bound on the score of the nodes below it, and no
 * node with a score equal to the best is skipped. */
#ifndef SS_CONSOLIDATE_INDEX_H
#define SS_CONSOLIDATE_INDEX_H

#include <stdbool.h>
#include <stdint.h>

#include "ss_cluster.h"
#include "ss_state.h"

/* The score the search minimises for a node of capacity cpu, mem left with
 * fc, fm free after the pod (both >= 0): free cpu plus memory per mille of
 * the node; negated for least-allocated (most free first). */
static inline int64_t ss_cidx_score(int64_t cpu, int64_t mem, int64_t fc, int64_t fm, bool most)
{
    int64_t s = (cpu > 0 ? fc * 1000 / cpu : 0) + (mem > 0 ? fm / (mem / 1000 + 1) : 0);
    return most ? -s : s;
}

typedef struct ss_cidx ss_cidx_t;

/* An index over c's nodes reading their free room from s (borrowed; both
 * must outlive it). Every node starts out of the index. NULL: no memory. */
ss_cidx_t *ss_cidx_create(const ss_cluster_t *c, const ss_state_t *s);
void ss_cidx_destroy(ss_cidx_t *ix); /* accepts NULL */

/* Number of capacity classes, and node n's class. */
int32_t ss_cidx_classes(const ss_cidx_t *ix);
int32_t ss_cidx_class_of(const ss_cidx_t *ix, int32_t n);

/* Puts node n in the index (in: a possible target) or takes it out, at the
 * bucket of its free room in s now. Call after every change of n's free
 * room or eligibility. */
void ss_cidx_set(ss_cidx_t *ix, int32_t n, bool in);

typedef struct {
    int64_t cpu, mem;      /* the pod's requests */
    bool most;             /* least-allocated: the most free room after the pod */
    const uint8_t *cls_ok; /* [classes]: 0 = no node of the class can pass; NULL: all may */
    /* The caller's remaining filters for node n (static filters, every
     * resource, GPUs, rules); called only for a node in the index with the
     * pod's cpu, memory and a pod slot free that would beat the best so far. */
    bool (*accept)(void *ctx, int32_t n);
    void *ctx;
} ss_cidx_query_t;

/* The accepted node with the least score, lowest row on ties; -1: none. */
int32_t ss_cidx_best(ss_cidx_t *ix, const ss_cidx_query_t *q);

#endif
