/* Golden placements: small hand-written clusters whose placement for every
 * policy was worked out BY HAND from the documented arithmetic, run through
 * the real binary (`shardsched schedule`, fast engine at mpirun -n 1, 2, 3
 * with 1 and 2 threads, and the --exhaustive reference) and compared with
 * literal rows. The fast engine and the reference share the matching,
 * capacity, GPU-choice and scoring code, so only answers computed outside
 * the code can catch a scoring bug (scripts/mutation-check.sh shows which
 * mutation each case catches).
 *
 * The arithmetic (engine/ss_policy.h, docs/architecture.md):
 *   least  = (floor((free_cpu-req)*100/cpu) + floor((free_mem-req)*100/mem)) / 2
 *   most   = (floor(requested_cpu*100/cpu) + floor(requested_mem*100/mem)) / 2,
 *            requested = allocatable - free + request
 *   balanced = (int)((1 - |fcpu - fmem| / 2) * 100), f = requested / allocatable
 *   + 2 x affinity, affinity = floor(matched preferred weight * 100 / template's total)
 *   + 3 x taint, taint = 100 - floor(untolerated PreferNoSchedule * 100 / the
 *     cluster's largest PreferNoSchedule count on any node) (100 when that is 0)
 * Highest total wins, ties to the lowest node index (table order). Queue:
 * priority descending, then snapshot order; a gang is all-or-nothing.
 * The static bonus 2 x affinity + 3 x taint is +300 on every node of a
 * cluster without PreferNoSchedule taints or preferred terms; the sums below
 * leave it out there.
 *
 * To add a policy: append its name to `policies` and one answer to every
 * `want` row (worked out by hand the same way). kube-default is least +
 * balanced + 3 x taint + 2 x affinity (engine/ss_policy.h); in the cases
 * before `kube_default` every row's answer equals its least-allocated one
 * (worked out by hand), and `kube_default` is the case where the balanced
 * term changes the answer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "ss_reason.h"
#include "ss_snapshot.h"

#include "golden_build.h"
#include "ss_test_files.h"

static const char *const policies[] = {"least-allocated", "most-allocated", "balanced",
                                       "kube-default"};
#define NPOL ((int)(sizeof policies / sizeof policies[0]))

/* Expected result of one pod under each policy (in `policies` order): a node
 * name, "node#k" (also checks that the pod got GPU k of the node), or "!" and
 * the unschedulable reason text (ss_reason.h). */
typedef struct {
    const char *pod;
    const char *want[NPOL];
} gwant_t;

typedef struct {
    const char *name;
    const gnode_t *nodes;
    const gpod_t *pods;
    const gwant_t *want;
} gcase_t;

/* A pod row: name, cpu (milli), memory (GiB), then any other gpod_t field. */
#define POD(n, cpu, mem, ...)                                                                      \
    {                                                                                              \
        .name = n, .cpu_m = cpu, .mem_g = mem, __VA_ARGS__                                         \
    }

#define NO_CPU "!insufficient cpu"
#define NO_AFFINITY "!node(s) didn't match required node affinity"
#define NO_GPU_MODEL "!node(s) have no allowed GPU model"
#define NO_GANG "!pod group could not place minMember pods"
#define NO_GPU "!insufficient nvidia.com/gpu"
#define NO_MIG "!insufficient MIG instances of the requested profile"

/* ---- resources: fit formulas, ties, the pods limit, priority order ----
 * No taints or preferred terms: +300 everywhere, left out. Pods 1000m/1GiB;
 * cpu and memory fractions are equal on every node, so balanced = 100 on
 * every feasible node and balanced is decided by ties alone.
 * Queue: p-high (prio 10), p-low, p-huge.
 * p-high: least r0 = 75 (3/4), r1 = floor(87.5) = 87, r2 has no pod slot
 *         (pods 1, one running), r3 = 87: tie r1/r3 -> r1.
 *         most r0 = 25, r1 = floor(12.5) = 12, r3 = 12 -> r0. balanced -> r0.
 *         (pods limit ignored: least r2 = floor(30*100/32) = 93 -> r2.)
 * p-low:  least r0 75, r1 (2/8 used) 75, r3 87 -> r3.
 *         most r0 (2/4) 50 -> r0. balanced all 100 -> r0.
 * p-huge: 40 cores fit nowhere: r0, r1, r3 say cpu, r2 pods -> cpu. */
static const gnode_t resources_nodes[] = {{"r0", 4000, 4, 0, NULL, NULL, NULL},
                                          {"r1", 8000, 8, 0, NULL, NULL, NULL},
                                          {"r2", 32000, 32, 1, NULL, NULL, NULL},
                                          {"r3", 8000, 8, 0, NULL, NULL, NULL},
                                          {0}};
static const gpod_t resources_pods[] = {POD("p-low", 1000, 1),
                                        POD("p-high", 1000, 1, .prio = 10),
                                        POD("p-huge", 40000, 1),
                                        POD("r2-run", 1000, 1, .on = "r2"),
                                        {0}};
static const gwant_t resources_want[] = {
    /* pod       least    most  balanced */
    {"p-high", {"r1", "r0", "r0", "r1"}},
    {"p-low", {"r3", "r0", "r0", "r3"}},
    {"p-huge", {NO_CPU, NO_CPU, NO_CPU, NO_CPU}},
    {0}};

/* ---- taint_weight: PreferNoSchedule x 3, NoExecute filters ----
 * Largest PreferNoSchedule count: a2's 4 (a2 itself is filtered by its
 * NoSchedule taint; the static bound still counts it).
 * Taint score: a0 (1 untolerated) 100 - 25 = 75 -> 225; others 100 -> 300.
 * a3's NoExecute taint filters it unless tolerated.
 * q (1000m/1GiB): least a0 90+225 = 315, a1 (5/10 used) 40+300 = 340 -> a1.
 *   (weight 1: a0 90+75 = 165 > a1 40+100 = 140 -> a0.)
 *   (NoExecute ignored: a3 90+300 = 390 -> a3.)
 *   most a0 10+225 = 235, a1 60+300 = 360 -> a1.
 *   balanced a0 100+225 = 325, a1 100+300 = 400 -> a1.
 * q-tol (tolerates maint:NoExecute), a1 now 6/10 used:
 *   least a0 315, a1 30+300 = 330, a3 90+300 = 390 -> a3.
 *   most a0 235, a1 70+300 = 370, a3 10+300 = 310 -> a1.
 *   balanced a0 325, a1 400, a3 400: tie -> a1. */
static const gnode_t taint_weight_nodes[] = {
    {"a0", 10000, 10, 0, NULL, "spot=true:PreferNoSchedule", NULL},
    {"a1", 10000, 10, 0, NULL, NULL, NULL},
    {"a2", 10000, 10, 0, NULL,
     "p1=x:PreferNoSchedule,p2=x:PreferNoSchedule,p3=x:PreferNoSchedule,"
     "p4=x:PreferNoSchedule,dedicated=db:NoSchedule",
     NULL},
    {"a3", 10000, 10, 0, NULL, "maint=true:NoExecute", NULL},
    {0}};
static const gpod_t taint_weight_pods[] = {POD("q", 1000, 1),
                                           POD("q-tol", 1000, 1, .tol = "maint:NoExecute"),
                                           POD("a1-run", 5000, 5, .on = "a1"),
                                           {0}};
static const gwant_t taint_weight_want[] = {
    {"q", {"a1", "a1", "a1", "a1"}}, {"q-tol", {"a3", "a1", "a1", "a3"}}, {0}};

/* ---- static_bound: WHERE SHARDSCHED AND KUBE-SCHEDULER DIFFER ----
 * shardsched normalises TaintToleration by the cluster's largest
 * PreferNoSchedule count (b2's 4, though b2 is infeasible: NoSchedule);
 * kube-scheduler normalises over the feasible nodes of the pod ({b0, b1},
 * largest count 1). b3 is full (cpu).
 * s (1000m/1GiB), least-allocated:
 *   shardsched: b0 90 + 3 x (100 - 1*100/4 = 75) = 315,
 *               b1 (8/10 used) 10 + 3 x 100 = 310  -> b0.
 *   kube-scheduler (LeastAllocated + TaintToleration x3 + NodeAffinity x2):
 *               b0 90 + 3 x (100 - 1*100/1 = 0) = 90, b1 10 + 300 = 310 -> b1.
 *               (BalancedAllocation would add 100 to both: still b1.)
 *   most: b0 10+225 = 235, b1 90+300 = 390 -> b1 (kube: b1 too).
 *   balanced: b0 100+225 = 325, b1 100+300 = 400 -> b1 (kube: b1 too). */
static const gnode_t static_bound_nodes[] = {
    {"b0", 10000, 10, 0, NULL, "spot=true:PreferNoSchedule", NULL},
    {"b1", 10000, 10, 0, NULL, NULL, NULL},
    {"b2", 10000, 10, 0, NULL,
     "p1=x:PreferNoSchedule,p2=x:PreferNoSchedule,p3=x:PreferNoSchedule,"
     "p4=x:PreferNoSchedule,dedicated=db:NoSchedule",
     NULL},
    {"b3", 10000, 10, 0, NULL, NULL, NULL},
    {0}};
static const gpod_t static_bound_pods[] = {POD("s", 1000, 1),
                                           POD("b1-run", 8000, 8, .on = "b1"),
                                           POD("b3-run", 10000, 10, .on = "b3"),
                                           {0}};
static const gwant_t static_bound_want[] = {
    {"s", {"b0", "b1", "b1", "b0"}}, /* kube-scheduler: b1 b1 b1 (see above) */
    {0}};

/* ---- affinity_weight: preferred node affinity x 2 ----
 * w (4 replicas, 1000m/1GiB) prefers zone=a (50) and disk=nvme (50): total
 * 100, c0 matches 50 -> affinity 50 -> +100. No taints: +300 everywhere.
 * c0 and c2 start 7/10 used; c1, c3 empty.
 * w-0: least c0 20+100 = 120 > c1 90 -> c0 (weight 1: c0 70 < c1 90 -> c1).
 *      most c0 80+100 -> c0; balanced c0 100+100 -> c0.
 * w-1: least c0 (9/10) 10+100 = 110 > 90 -> c0; most, balanced -> c0.
 * w-2: least c0 (10/10 after) 0+100 = 100 > 90 -> c0; most 100+100 -> c0;
 *      balanced 100+100 -> c0. c0 is now full.
 * w-3: least c1 90, c2 20, c3 90 -> c1; most c1 10, c2 80, c3 10 -> c2;
 *      balanced all 100 -> c1. */
static const gnode_t affinity_weight_nodes[] = {{"c0", 10000, 10, 0, "zone=a", NULL, NULL},
                                                {"c1", 10000, 10, 0, "zone=b", NULL, NULL},
                                                {"c2", 10000, 10, 0, "zone=c", NULL, NULL},
                                                {"c3", 10000, 10, 0, "zone=b", NULL, NULL},
                                                {0}};
static const gpod_t affinity_weight_pods[] = {
    POD("w", 1000, 1, .count = 4, .pref = "50:zone In a|50:disk In nvme"),
    POD("c0-run", 7000, 7, .on = "c0"),
    POD("c2-run", 7000, 7, .on = "c2"),
    {0}};
static const gwant_t affinity_weight_want[] = {{"w-0", {"c0", "c0", "c0", "c0"}},
                                               {"w-1", {"c0", "c0", "c0", "c0"}},
                                               {"w-2", {"c0", "c0", "c0", "c0"}},
                                               {"w-3", {"c1", "c2", "c1", "c1"}},
                                               {0}};

/* ---- operators: required / preferred node affinity operators ----
 * Nodes 16 cores / 16 GiB, pods 1000m/1GiB; the filters leave one node or a
 * tie, so every policy agrees (least 93 on an empty node, 87 with one pod;
 * most 6 / 12; balanced 100).
 * p-notin  disk NotIn ssd;hdd -> o3 only (nvme).   [NotIn as In: o0]
 * p-gt     gen Gt 4 -> o1, o2 tie -> o1.           [Gt as Lt: o0]
 * p-lt     gen Lt 4 -> o0.
 * p-notin-missing gen NotIn 2;5;8 -> o3 (no gen label matches NotIn).
 * p-none   disk In tape -> nowhere: required node affinity.
 * p-pref   prefers gen Gt 6 (30 of 30): o2 gets +200 -> o2.
 * p-sel    nodeSelector disk=ssd -> o1, o2 (one pod each) tie -> o1. */
static const gnode_t operators_nodes[] = {{"o0", 16000, 16, 0, "gen=2,disk=hdd", NULL, NULL},
                                          {"o1", 16000, 16, 0, "gen=5,disk=ssd", NULL, NULL},
                                          {"o2", 16000, 16, 0, "gen=8,disk=ssd", NULL, NULL},
                                          {"o3", 16000, 16, 0, "disk=nvme", NULL, NULL},
                                          {0}};
static const gpod_t operators_pods[] = {POD("p-notin", 1000, 1, .req = "disk NotIn ssd;hdd"),
                                        POD("p-gt", 1000, 1, .req = "gen Gt 4"),
                                        POD("p-lt", 1000, 1, .req = "gen Lt 4"),
                                        POD("p-notin-missing", 1000, 1, .req = "gen NotIn 2;5;8"),
                                        POD("p-none", 1000, 1, .req = "disk In tape"),
                                        POD("p-pref", 1000, 1, .pref = "30:gen Gt 6"),
                                        POD("p-sel", 1000, 1, .sel = "disk=ssd"),
                                        {0}};
static const gwant_t operators_want[] = {
    {"p-notin", {"o3", "o3", "o3", "o3"}},
    {"p-gt", {"o1", "o1", "o1", "o1"}},
    {"p-lt", {"o0", "o0", "o0", "o0"}},
    {"p-notin-missing", {"o3", "o3", "o3", "o3"}},
    {"p-none", {NO_AFFINITY, NO_AFFINITY, NO_AFFINITY, NO_AFFINITY}},
    {"p-pref", {"o2", "o2", "o2", "o2"}},
    {"p-sel", {"o1", "o1", "o1", "o1"}},
    {0}};

/* ---- balanced: the deviation term ----
 * bal (2000m/2GiB) prefers pool=x (10 of 100): d1 +20. No taints: +300.
 * d1 runs a 4000m / 0 GiB pod.
 *   least: d0 75; d1 cpu 25, mem 75 -> 50+20 = 70; d2 cpu 50, mem
 *          floor(87.5) = 87 -> 68; d3 87, 50 -> 68.  -> d0
 *   most:  d0 25; d1 75, 25 -> 50+20 = 70; d2 50, 12 -> 31; d3 -> 31. -> d1
 *   balanced: d0 fcpu = fmem = .25 -> 100; d1 .75 vs .25 -> std .25 -> 75+20
 *          = 95; d2 .5 vs .125 -> std .1875 -> 81; d3 81.  -> d0
 *          (deviation halved: d1 87+20 = 107 > 100 -> d1.)
 * lean (1000m/3GiB), after bal:
 *   least (bal on d0): d0 cpu 3/8 -> 62, mem 5/8 -> 37 -> 49; d1 37, 62 ->
 *          49; d2 75, 81 -> 78; d3 93, 25 -> 59. -> d2
 *   most (bal on d1): d0 12, 37 -> 24; d1 7/8 -> 87, 5/8 -> 62 -> 74; d2 25,
 *          18 -> 21; d3 6, 75 -> 40. -> d1
 *   balanced (bal on d0): d0 .375/.625 -> 87; d1 .625/.375 -> 87; d2
 *          .25/.1875 -> 96; d3 .0625/.75 -> 65. -> d2 */
static const gnode_t balanced_nodes[] = {{"d0", 8000, 8, 0, NULL, NULL, NULL},
                                         {"d1", 8000, 8, 0, "pool=x", NULL, NULL},
                                         {"d2", 4000, 16, 0, NULL, NULL, NULL},
                                         {"d3", 16000, 4, 0, NULL, NULL, NULL},
                                         {0}};
static const gpod_t balanced_pods[] = {POD("bal", 2000, 2, .pref = "10:pool In x|90:pool In y"),
                                       POD("lean", 1000, 3),
                                       POD("d1-run", 4000, 0, .on = "d1"),
                                       {0}};
static const gwant_t balanced_want[] = {
    {"bal", {"d0", "d1", "d0", "d0"}}, {"lean", {"d2", "d1", "d2", "d2"}}, {0}};

/* ---- gpu: tightest GPU for fractional pods, the GPU model filter ----
 * Nodes 32 cores / 128 GiB. g0: 2 x A100, GPU 0 holds 600 of a running pod
 * (400 free); g1: 1 x V100 and a 16-core / 64 GiB running pod; g2: no GPU;
 * g3: 1 x A100. Every pod is decided by its filters, so all policies agree.
 * f1  300 milli of an A100, nodeSelector shape=dual -> g0; tightest fitting
 *     GPU: GPU 0 (400 free) before GPU 1 (1000) -> g0#0. [loosest: g0#1]
 * f2  one whole A100 on g0: GPU 1 is the only fully free one -> g0#1
 *     (had f1 taken GPU 1: insufficient nvidia.com/gpu).
 * m1  one V100 -> only g1 -> g1#0. [model filter ignored, least: g1 cpu
 *     17/32 -> 46, mem 65/128 -> 49 -> 47 < g3 96, 99 -> 97 -> g3]
 * m2  one H100: no node has one -> GPU model.
 * any 500 milli, any model: g0 has 100 and 0 left, g1's is taken, g2 none
 *     -> g3#0. */
static const gnode_t gpu_nodes[] = {
    {"g0", 32000, 128, 0, "shape=dual", NULL, "A100:1000,A100:1000"},
    {"g1", 32000, 128, 0, NULL, NULL, "V100:1000"},
    {"g2", 32000, 128, 0, NULL, NULL, NULL},
    {"g3", 32000, 128, 0, NULL, NULL, "A100:1000"},
    {0}};
static const gpod_t gpu_pods[] = {
    POD("f1", 1000, 1, .gpus = 1, .gpu_m = 300, .sel = "shape=dual", .models = "A100"),
    POD("f2", 1000, 1, .gpus = 1, .gpu_m = 1000, .sel = "shape=dual", .models = "A100"),
    POD("m1", 1000, 1, .gpus = 1, .gpu_m = 1000, .models = "V100"),
    POD("m2", 1000, 1, .gpus = 1, .gpu_m = 1000, .models = "H100"),
    POD("any", 1000, 1, .gpus = 1, .gpu_m = 500),
    POD("g0-run", 1000, 1, .gpus = 1, .gpu_m = 600, .on = "g0", .gpu_mask = 1),
    POD("g1-run", 16000, 64, .on = "g1"),
    {0}};
static const gwant_t gpu_want[] = {{"f1", {"g0#0", "g0#0", "g0#0", "g0#0"}},
                                   {"f2", {"g0#1", "g0#1", "g0#1", "g0#1"}},
                                   {"m1", {"g1#0", "g1#0", "g1#0", "g1#0"}},
                                   {"m2", {NO_GPU_MODEL, NO_GPU_MODEL, NO_GPU_MODEL, NO_GPU_MODEL}},
                                   {"any", {"g3#0", "g3#0", "g3#0", "g3#0"}},
                                   {0}};

/* ---- gang: all or nothing at minMember ----
 * No taints: +300 everywhere. Queue: big (prio 10), ok (5), after (0).
 * big: 3 x 3000m/3GiB, minMember 3: only k0 and k1 hold one -> 2 < 3, the
 *      two placed are removed (reason gang); big-2 never fitted and keeps
 *      its own reason (cpu on every node). [committed: big-0 k0, big-1 k1]
 * ok: 2 x 1000m/1GiB, minMember 2.
 *      least ok-0 k0 75 (k1 75, k2 50, k3 50) -> k0; ok-1 k0 50, k1 75 -> k1.
 *      most ok-0 k2 50 (k0 25) -> k2; ok-1 k2 (2/2) 100 -> k2.
 *      balanced all 100 -> k0, k0.
 * after: 3000m/3GiB. least k0, k1 both 0 (exactly full) -> k0.
 *      most k0 75, k1 75 -> k0. balanced k0 has 2 left -> k1 100. */
static const gnode_t gang_nodes[] = {{"k0", 4000, 4, 0, NULL, NULL, NULL},
                                     {"k1", 4000, 4, 0, NULL, NULL, NULL},
                                     {"k2", 2000, 2, 0, NULL, NULL, NULL},
                                     {"k3", 2000, 2, 0, NULL, NULL, NULL},
                                     {0}};
static const gpod_t gang_pods[] = {
    POD("big", 3000, 3, .count = 3, .prio = 10, .group = "big", .min_member = 3),
    POD("ok", 1000, 1, .count = 2, .prio = 5, .group = "ok", .min_member = 2),
    POD("after", 3000, 3),
    {0}};
static const gwant_t gang_want[] = {{"big-0", {NO_GANG, NO_GANG, NO_GANG, NO_GANG}},
                                    {"big-1", {NO_GANG, NO_GANG, NO_GANG, NO_GANG}},
                                    {"big-2", {NO_CPU, NO_CPU, NO_CPU, NO_CPU}},
                                    {"ok-0", {"k0", "k2", "k0", "k0"}},
                                    {"ok-1", {"k1", "k2", "k0", "k1"}},
                                    {"after", {"k0", "k0", "k1", "k0"}},
                                    {0}};

/* ---- kube_default: the balanced term of kube-scheduler's default profile ----
 * No taints or preferred terms: +300 everywhere, left out. One pod, 1000m/1GiB.
 *   e0 64000m/8GiB: least cpu floor(63000*100/64000) = 98, mem floor(87.5) = 87
 *          -> (98+87)/2 = 92; balanced fcpu .015625, fmem .125, std .0546875
 *          -> floor(94.53) = 94; most (1+12)/2 = 6; kube-default 92+94 = 186.
 *   e1 8000m/8GiB: least 87, 87 -> 87; balanced 100; most 12; kube-default 187.
 *   e2 2000m/2GiB: least 50; balanced 100; most 50; kube-default 150.
 *   e3 4000m/16GiB: least 75, floor(93.75) = 93 -> 84; balanced .25 vs .0625,
 *          std .09375 -> 90; most (25+6)/2 = 15; kube-default 174.
 *   least -> e0 (92); most -> e2 (50); balanced e1 = e2 = 100 -> e1 (lower
 *   index); kube-default -> e1 (187 > 186), where least alone picks e0. */
static const gnode_t kube_default_nodes[] = {{"e0", 64000, 8, 0, NULL, NULL, NULL},
                                             {"e1", 8000, 8, 0, NULL, NULL, NULL},
                                             {"e2", 2000, 2, 0, NULL, NULL, NULL},
                                             {"e3", 4000, 16, 0, NULL, NULL, NULL},
                                             {0}};
static const gpod_t kube_default_pods[] = {POD("kd", 1000, 1), {0}};
static const gwant_t kube_default_want[] = {{"kd", {"e0", "e2", "e1", "e1"}}, {0}};

/* ---- mig: MIG pods on the instances that exist (issue 15, docs/mig.md) ----
 * No taints or preferred terms: +300 everywhere, left out. Pods 1000m/4GiB.
 * "node#k" is the node-local MIG instance k: the node's GPUs in order, each
 * GPU's instances by start. h0 (shape=h): GPU0 4g.40gb@0 (#0) 3g.40gb@4 (#1),
 * GPU1 seven 1g.10gb (#2..#8). h1: 3g.40gb@0 (#0, held by the running r1,
 * 8000m/32GiB, which takes the first free instance) and 3g.40gb@4 (#1).
 * h2 (pool=a100, A100 80GB): GPU0 seven 1g.10gb (#0..#6), GPU1 1g.10gb@0 (#7)
 * 2g.20gb@2 (#8). Queue: table order.
 * p3 (3g.40gb): h0 or h1. least h0 (96+96)/2 = 96, h1 (71+71)/2 = 71 -> h0#1;
 *   most h0 (3+3)/2 = 3, h1 (28+28)/2 = 28 -> h1#1; balanced 100 = 100 -> h0#1
 *   (lower index); kube-default h0 96+100 > h1 71+100 -> h0#1.
 * p4 (4g.40gb): only h0 has one -> h0#0.
 * p1 (shape=h, 2 x 1g.10gb in one pod): h0's GPU1 -> h0#2#3.
 * p7 (7g.80gb): no such instance anywhere -> insufficient MIG instances.
 * w (a whole GPU): every GPU is in MIG mode -> insufficient nvidia.com/gpu.
 * t1 (pool=a100, 1g.10gb): h2's GPU1 has 3 free memory slices in unused
 *   instances, GPU0 7: the tightest GPU first -> h2#7; t2: GPU1 has no 1g
 *   left -> GPU0's first -> h2#0. */
static const gnode_t mig_nodes[] = {
    {"h0", 32000, 128, 0, "shape=h", NULL,
     "H100-80GB:1000[4g.40gb@0 3g.40gb@4],"
     "H100-80GB:1000[1g.10gb@0 1g.10gb@1 1g.10gb@2 1g.10gb@3 1g.10gb@4 1g.10gb@5 1g.10gb@6]"},
    {"h1", 32000, 128, 0, NULL, NULL, "H100-80GB:1000[3g.40gb@0 3g.40gb@4]"},
    {"h2", 32000, 128, 0, "pool=a100", NULL,
     "A100-80GB:1000[1g.10gb@0 1g.10gb@1 1g.10gb@2 1g.10gb@3 1g.10gb@4 1g.10gb@5 1g.10gb@6],"
     "A100-80GB:1000[1g.10gb@0 2g.20gb@2]"},
    {0}};
static const gpod_t mig_pods[] = {
    POD("p3", 1000, 4, .mig = "3g.40gb"),
    POD("p4", 1000, 4, .mig = "4g.40gb"),
    POD("p1", 1000, 4, .mig = "1g.10gb", .mig_n = 2, .sel = "shape=h"),
    POD("p7", 1000, 4, .mig = "7g.80gb"),
    POD("w", 1000, 4, .gpus = 1),
    POD("t1", 1000, 4, .mig = "1g.10gb", .sel = "pool=a100"),
    POD("t2", 1000, 4, .mig = "1g.10gb", .sel = "pool=a100"),
    POD("r1", 8000, 32, .mig = "3g.40gb", .on = "h1"),
    {0}};
static const gwant_t mig_want[] = {
    {"p3", {"h0#1", "h1#1", "h0#1", "h0#1"}},         {"p4", {"h0#0", "h0#0", "h0#0", "h0#0"}},
    {"p1", {"h0#2#3", "h0#2#3", "h0#2#3", "h0#2#3"}}, {"p7", {NO_MIG, NO_MIG, NO_MIG, NO_MIG}},
    {"w", {NO_GPU, NO_GPU, NO_GPU, NO_GPU}},          {"t1", {"h2#7", "h2#7", "h2#7", "h2#7"}},
    {"t2", {"h2#0", "h2#0", "h2#0", "h2#0"}},         {0}};

#define GCASE(n)                                                                                   \
    {                                                                                              \
#n, n##_nodes, n##_pods, n##_want                                                          \
    }
static const gcase_t cases[] = {
    GCASE(resources),    GCASE(taint_weight), GCASE(static_bound), GCASE(affinity_weight),
    GCASE(operators),    GCASE(balanced),     GCASE(gpu),          GCASE(gang),
    GCASE(kube_default), GCASE(mig),
};

/* How the binary is run: ranks, threads, nodes per virtual shard (0 = the
 * default), --exhaustive. SS_GOLDEN_QUICK=1 keeps the first two (for
 * scripts/mutation-check.sh). */
typedef struct {
    int ranks, threads, shard_nodes, exhaustive;
} grun_t;
static const grun_t runs[] = {
    {2, 2, 1, 0},
    {1, 1, 0, 0},
    {3, 1, 2, 0},
    {1, 1, 0, 1},
};

/* What the placements say for one row, in the syntax of gwant_t. */
static void got_text(const ss_cluster_t *c, const ss_placements_t *p, int32_t row, bool gpu,
                     char *buf, size_t n)
{
    if (p->node[row] < 0) {
        snprintf(buf, n, "!%s", ss_reason_text(p->reason[row]));
        return;
    }
    int k = snprintf(buf, n, "%s", ss_cluster_strget(c, c->node_name[p->node[row]]));
    for (int g = 0; gpu && g < 64 && k > 0 && (size_t)k < n; g++)
        if (p->gpu_mask[row] >> g & 1)
            k += snprintf(buf + k, n - (size_t)k, "#%d", g);
}

/* Compares one placements file with column pol of the case; returns the
 * number of mismatches (printed). */
static int compare(const gcase_t *gc, const ss_cluster_t *c, const ss_placements_t *p, int pol,
                   const char *how)
{
    int bad = 0;
    for (int32_t r = 0; r < p->n; r++) {
        const char *name = ss_cluster_strget(c, c->pod_name[p->pod[r]]);
        const gwant_t *w = gc->want;
        while (w->pod && strcmp(w->pod, name))
            w++;
        if (!w->pod) {
            printf("golden %s: pending pod %s has no expected row\n", gc->name, name);
            bad++;
            continue;
        }
        char got[256];
        got_text(c, p, r, strchr(w->want[pol], '#') != NULL, got, sizeof got);
        if (strcmp(got, w->want[pol])) {
            printf("golden %s %s %s: pod %s: want %s, got %s\n", gc->name, policies[pol], how, name,
                   w->want[pol], got);
            bad++;
        }
    }
    return bad;
}

static int run_one(const gcase_t *gc, const ss_cluster_t *c, int pol, const grun_t *r)
{
    char how[96], cmd[2048], out[600];
    snprintf(how, sizeof how, "(-n %d, %d threads, shard-nodes %d%s)", r->ranks, r->threads,
             r->shard_nodes, r->exhaustive ? ", --exhaustive" : "");
    snprintf(out, sizeof out, "%s", wpath("p.h5"));
    char shard[32] = "";
    if (r->shard_nodes > 0)
        snprintf(shard, sizeof shard, "--shard-nodes %d", r->shard_nodes);
    snprintf(cmd, sizeof cmd,
             "OMP_NUM_THREADS=%d mpirun -n %d --oversubscribe --bind-to none '%s' schedule "
             "-i '%s' -o '%s' --policy %s --quiet %s %s > '%s' 2>&1",
             r->threads, r->ranks, SS_BINARY, wpath("c.h5"), out, policies[pol], shard,
             r->exhaustive ? "--exhaustive" : "", wpath("log.txt"));
    unlink(out);
    if (system(cmd) != 0) {
        snprintf(cmd, sizeof cmd, "cat '%s'", wpath("log.txt"));
        if (system(cmd) != 0)
            printf("(no log)\n");
        printf("golden %s %s %s: schedule failed\n", gc->name, policies[pol], how);
        return 1;
    }
    ss_placements_t *p = NULL;
    ss_error_t err = {{0}};
    if (ss_placements_read(out, c, &p, &err) < 0) {
        printf("golden %s: %s\n", gc->name, err.text);
        return 1;
    }
    int bad = compare(gc, c, p, pol, how);
    ss_placements_destroy(p);
    return bad;
}

static void test_case(void **state)
{
    const gcase_t *gc = *state;
    ss_cluster_t *c = gb_cluster(gc->nodes, gc->pods);
    ss_error_t err = {{0}};
    if (ss_cluster_validate(c, &err) < 0 || ss_snapshot_write(wpath("c.h5"), c, &err) < 0) {
        printf("golden %s: %s\n", gc->name, err.text);
        fail();
    }
    const char *quick = getenv("SS_GOLDEN_QUICK");
    int nruns = quick && *quick == '1' ? 2 : (int)(sizeof runs / sizeof runs[0]);
    int bad = 0;
    for (int pol = 0; pol < NPOL; pol++)
        for (int i = 0; i < nruns; i++)
            bad += run_one(gc, c, pol, &runs[i]);
    ss_cluster_destroy(c);
    assert_int_equal(bad, 0);
}

static int setup(void **state)
{
    (void)state;
    return ss_test_workdir_make("ss_golden");
}

static int teardown(void **state)
{
    (void)state;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", workdir);
    return system(cmd) == 0 ? 0 : -1;
}

/* One cmocka test per case, named after it. */
#define GTEST(i, n)                                                                                \
    {                                                                                              \
#n, test_case, NULL, NULL, (void *)&cases[i]                                               \
    }
int main(void)
{
    static const struct CMUnitTest tests[] = {
        GTEST(0, resources),    GTEST(1, taint_weight),
        GTEST(2, static_bound), GTEST(3, affinity_weight),
        GTEST(4, operators),    GTEST(5, balanced),
        GTEST(6, gpu),          GTEST(7, gang),
        GTEST(8, kube_default), GTEST(9, mig),
    };
    _Static_assert(sizeof tests / sizeof tests[0] == sizeof cases / sizeof cases[0],
                   "one test per case");
    return cmocka_run_group_tests_name("golden", tests, setup, teardown);
}
