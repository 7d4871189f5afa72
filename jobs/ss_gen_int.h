/* ss_gen_int: what the generator's files share (ss_gen.c: options and
 * driver, ss_gen_nodes.c: nodes, ss_gen_running.c: running pods,
 * ss_gen_work.c: pending workloads, ss_gen_rules.c: selectors, affinity,
 * models and tolerations). Not a public header: only jobs/ss_gen*.c include
 * it. */
#ifndef SS_GEN_INT_H
#define SS_GEN_INT_H

#include <stdint.h>

#include "ss_cluster.h"
#include "ss_gen.h"
#include "ss_rng.h"

#define GIB (INT64_C(1) << 30)
#define MIB (INT64_C(1) << 20)

/* Pools in the order their block names sort ("block-", "general-",
 * "high-memory-", "spot-", "system-"), so emitting them in this order inside
 * a zone keeps nodes sorted by topology. */
enum gen_pool { POOL_GPU, POOL_GENERAL, POOL_HIGHMEM, POOL_SPOT, POOL_SYSTEM, NPOOLS };

#define GEN_MIN_ZONES 3 /* PRODUCT.md: several zones even at 2,000 nodes */
#define GEN_MAX_ZONES 8
#define GEN_NTEAMS 40
#define GEN_NMODELS 3
#define GEN_RACK_GPU 18    /* GPU nodes per rack (NVLink domain) */
#define GEN_BLOCK_RACKS 32 /* racks per block (InfiniBand block) */
#define GEN_RACK_CPU 40    /* non-GPU nodes per rack */
#define GEN_GPUS_PER_NODE 8

typedef struct {
    const ss_gen_opts_t *o;
    ss_cluster_t *c;
    ss_error_t *err;
    ss_rng_t rng;      /* the workload's stream: nodes, running and pending pods */
    ss_rng_t rrng;     /* the inter-pod rules' stream (rules DEFAULT only) */
    ss_rng_t trng;     /* running pods' start times (every mode) */
    ss_rng_t mrng;     /* MIG nodes, their running pods, MIG requests (profile AI) */
    bool rules;        /* opts->rules == SS_GEN_RULES_DEFAULT */
    bool ai;           /* opts->profile == SS_GEN_PROFILE_AI */
    bool frag;         /* opts->profile == SS_GEN_PROFILE_FRAGMENTED (running fill) */
    bool mig;          /* ai, GPUs on and opts->mig == SS_GEN_MIG_DEFAULT */
    int32_t mig_nodes; /* nodes put in MIG mode (ss_gen_mig_nodes) */
    int nzones;
    int32_t pool_nodes[NPOOLS]; /* nodes per pool, all zones */
    /* interned strings used everywhere */
    int32_t region, zone[GEN_MAX_ZONES], pool_name[NPOOLS];
    int32_t k_region, k_zone, k_itype, k_pool, k_disk, k_cpugen, k_gpuprod, k_app, k_team;
    int32_t v_ssd, v_hdd, v_true;
    int32_t model[GEN_NMODELS];
    int32_t team[GEN_NTEAMS];
    int32_t k_sys_taint, v_system, k_spot, k_reclaim, v_soon, k_gpu_taint, v_present;
    int32_t k_host; /* kubernetes.io/hostname */
    int fpga;       /* extended resource index, or -1 */
    int fpga_nodes;
} gen_t;

/* Sets an out-of-memory message and returns SS_ENOMEM. */
int ss_gen_oom(gen_t *g);
/* Interns a printf-formatted string; -1 when out of memory. */
int32_t ss_gen_str(gen_t *g, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Index drawn from weights w[0..n-1] (not all zero). */
int ss_gen_pick(gen_t *g, const int *w, int n);
/* True with probability p. */
int ss_gen_chance(gen_t *g, double p);

/* Zones of a cluster of `nodes` nodes (1..GEN_MAX_ZONES). */
int ss_gen_zone_count(int64_t nodes);

/* Returns 0, or SS_ENOMEM from inside a generator step. */
#define GEN_TRY(g, x)                                                                              \
    do {                                                                                           \
        if ((x) < 0)                                                                               \
            return ss_gen_oom(g);                                                                  \
    } while (0)

/* ss_gen_nodes.c, ss_gen_running.c */
int ss_gen_nodes(gen_t *g);
int ss_gen_running(gen_t *g);

/* ss_gen_rules.c: each appends to the cluster's pools and fills the
 * template's range fields; returns 0 or SS_ENOMEM. */
int ss_gen_rule_selector(gen_t *g, ss_template_t *t, int kind);
int ss_gen_rule_required(gen_t *g, ss_template_t *t);
int ss_gen_rule_preferred(gen_t *g, ss_template_t *t);
int ss_gen_rule_models(gen_t *g, ss_template_t *t);
/* Tolerations: bit set of the TOL_* below. */
enum { TOL_SYSTEM = 1, TOL_SPOT = 2, TOL_GPU = 4, TOL_SPOT_PREFER = 8 };
int ss_gen_rule_tolerations(gen_t *g, ss_template_t *t, unsigned which);

/* Selector kinds for gen_rule_selector. */
enum {
    SEL_POOL_GPU, /* pool=<name>: SEL_POOL_GPU + enum gen_pool */
    SEL_POOL_GENERAL,
    SEL_POOL_HIGHMEM,
    SEL_POOL_SPOT,
    SEL_POOL_SYSTEM,
    SEL_SSD,         /* disktype=ssd */
    SEL_ZONE,        /* one zone */
    SEL_GPU_PRODUCT, /* nvidia.com/gpu.product=<a model> */
    SEL_SSD_GEN5,    /* disktype=ssd, cpu-generation=5 */
    SEL_NOWHERE      /* pool=legacy: matches no node */
};

/* ss_gen_rules.c, inter-pod rules (drawn from g->rrng). Each appends to
 * the cluster's pools; returns 0 or SS_ENOMEM. */
/* The selector `app In (app)` (the workload's own pods). */
int ss_gen_rule_app_sel(gen_t *g, int32_t app, ss_selector_t *sel);
/* One of a few realistic topologySpreadConstraints sets on the workload's
 * own pods (zone / hostname, DoNotSchedule / ScheduleAnyway); fills the
 * template's spread range. */
int ss_gen_rule_spread(gen_t *g, ss_template_t *t, int32_t app);
/* Appends one pod (anti-)affinity term (weight 0: required) whose selector
 * is `app In (app)`, over namespace ns (namespaces: [ns]) or, ns < 0, the
 * pod's own; the caller sets the template's pterm range. */
int ss_gen_rule_pterm(gen_t *g, int kind, int32_t weight, int32_t key, int32_t app, int32_t ns);
/* A PodDisruptionBudget "<app>" in ns over `app In (app)`: minAvailable (an
 * integer below size, or a percentage) or maxUnavailable (1, or a
 * percentage); disruptionsAllowed computed (-1). size <= 0: replicas not
 * known yet (no integer minAvailable). */
int ss_gen_rule_pdb(gen_t *g, int32_t app, int32_t ns, int32_t size);
/* rrng draws (ss_gen_pick / ss_gen_chance on the rules' stream). */
int ss_gen_rpick(gen_t *g, const int *w, int n);
int ss_gen_rchance(gen_t *g, double p);

/* Start time of a running pod (Unix seconds; from g->trng): 1 minute to
 * 90 days before 2026-01-01T00:00:00Z, log-uniform. */
int64_t ss_gen_start_time(gen_t *g);

/* ss_gen_work.c */
int ss_gen_pending(gen_t *g);

/* ss_gen_mig.c (g->mig only), from g->mrng: puts a share of the idle
 * MIG-capable GPU nodes in MIG mode and adds running MIG pods on them
 * (after every other running pod; masks filled by
 * ss_cluster_mig_assign_running); then turns a share of the pending GPU
 * inference templates (index >= first_tmpl) into MIG requests. Each returns
 * 0, SS_ENOMEM, or the error of ss_cluster_mig_assign_running. */
int ss_gen_mig_nodes(gen_t *g);
int ss_gen_mig_pending(gen_t *g, int32_t first_tmpl);

#endif
