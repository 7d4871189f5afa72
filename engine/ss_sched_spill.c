/* ss_sched_spill: the run across partitions and processes (see ss_sched.h).
 *
 * 1. Every queue unit becomes an item with a home partition, chosen from
 *    the workload and the cluster only: a point drawn from the item's first
 *    pod's name, moved along a golden-ratio sequence by the item's rank
 *    among its template's items, picks a partition in proportion to the
 *    nodes there that pass the template's static filters (and have its
 *    GPUs).
 * 2. Round 0: each partition places its items in queue order, on its own
 *    nodes, with nothing shared (OpenMP threads over partitions).
 * 3. One exchange per round (typed records, ss_sched_msg_t): the items that
 *    failed (and how many of their pods landed), the templates a partition
 *    can no longer hold, and each partition's largest free capacity. Every
 *    process then routes each failed item the same way: to the next
 *    partition of its rotation (home, home+1, ...) that is not known full
 *    for its template and whose largest free node could hold one pod.
 *    Rounds end when nothing is routed; there are fewer than the partitions.
 * 4. Pod groups that fit no single partition are placed across partitions:
 *    one sum of what each partition could hold (per crossing topology
 *    domain), members assigned to partitions in order, one sum of what
 *    landed (rolled back if short of minMember).
 * 5. One gather of the rows each process decided fills every process's
 *    placements.
 * The same input gives the same placements for any number of processes and
 * threads: every decision depends on partitions, never on who owns them. */
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "ss_hash.h"
#include "ss_reason.h"
#include "ss_sched_int.h"
#include "ss_sched_rules.h"
#include "ss_subgroups.h"

/* IT_DEFER: a unit with rules on domains wider than a partition, placed
 * after the rounds (ss_sched_rules.h). */
enum { IT_ACTIVE, IT_PLACED, IT_DONE, IT_FINAL, IT_DEFER };

#define MAX_CROSS 64       /* crossing topology domains tried per pod group */
#define DEAD_ELSEWHERE 255 /* full in a partition another process owns (reason unknown) */

typedef struct {
    int32_t begin, count; /* pods still to place: order[begin .. begin+count) */
    int32_t group, tmpl;
    int32_t home, pos; /* current partition: (home + pos) % n_parts */
    int8_t state, failed;
    int8_t reason; /* IT_FINAL: why the engine cannot place it */
} item_t;

typedef struct {
    int64_t cpu, mem;
    int32_t pods, gpus, gpu_milli;
} pfree_t;

typedef struct {
    ss_sched_msg_t *m;
    int32_t n, cap;
} msgbuf_t;

typedef struct {
    ss_sched_t *s;
    const int32_t *order;
    ss_placements_t *out;
    item_t *it;
    int32_t n_items, P, T, n_own;
    uint8_t *dead; /* [P * T] 0: may fit; else the reason (owner) or DEAD_ELSEWHERE */
    pfree_t *pf;   /* [P] */
    int32_t *active, n_active;
    int32_t **list, *n_list; /* [n_own] items routed to each owned partition this round */
    ss_work_t *w;            /* [n_own] */
    msgbuf_t *mb;            /* [n_own] */
    int64_t *sums;           /* place_across's sums: (MAX_CROSS + 1) * P + 1 */
    ss_rules_t *rules;       /* NULL: the cluster has no inter-pod rule */
    ss_rview_t **views;      /* [n_own] what each owned partition has counted */
    int32_t *lseq;           /* [n_own] next commit number in each owned partition */
} run_t;

static inline int32_t cur_part(const run_t *r, const item_t *it)
{
    return (it->home + it->pos) % r->P;
}

static inline int owned(const run_t *r, int32_t q)
{
    return q >= r->s->part_lo && q < r->s->part_hi;
}

static int msg_push(msgbuf_t *b, ss_sched_msg_t m)
{
    if (b->n == b->cap) {
        int32_t cap = b->cap ? 2 * b->cap : 256;
        ss_sched_msg_t *x = realloc(b->m, (size_t)cap * sizeof *x);
        if (!x)
            return SS_ENOMEM;
        b->m = x;
        b->cap = cap;
    }
    b->m[b->n++] = m;
    return 0;
}

/* ---------- setup ---------- */

static int work_init(const ss_sched_t *s, ss_work_t *w, int32_t part)
{
    memset(w, 0, sizeof *w);
    size_t ns = (size_t)s->lay.n_shards;
    w->part = part;
    w->k_lo = s->lay.part_shard[part];
    w->k_hi = s->lay.part_shard[part + 1];
    w->lo = s->lay.bounds[w->k_lo];
    w->hi = s->lay.bounds[w->k_hi];
    w->pr.first = malloc(ns * sizeof(int32_t));
    w->pr.cnt = malloc(ns * sizeof(int32_t));
    w->pr.done = malloc(ns);
    w->pr.bound = malloc(ns * sizeof(int32_t));
    w->pr.bound_node = malloc(ns * sizeof(int32_t));
    w->taken = malloc(ns * sizeof(int32_t));
    w->heads = malloc(ns * sizeof(int32_t));
    w->mine = malloc(64 * sizeof *w->mine);
    w->mine_cap = 64;
    return w->pr.first && w->pr.cnt && w->pr.done && w->pr.bound && w->pr.bound_node && w->taken &&
                   w->heads && w->mine
               ? 0
               : SS_ENOMEM;
}

static void work_free(ss_work_t *w)
{
    free(w->pr.first);
    free(w->pr.cnt);
    free(w->pr.done);
    free(w->pr.bound);
    free(w->pr.bound_node);
    free(w->taken);
    free(w->heads);
    free(w->mine);
    free(w->win);
}

/* Verdicts and score signatures of every template with pending pods,
 * before the parallel part reads them. The verdict entries are numbered in
 * queue order on every process; process r computes the entries e with
 * e % size == r, and one gather of their records (entry, node-specific
 * flag, K static scores, K reasons) gives every process all of them. The
 * gather is entered on every path: a process that failed sends a record
 * with entry -1. Then the signatures, in template order. */
static int prepare_templates(ss_sched_t *s, const run_t *r, const ss_sched_comm_t *comm,
                             ss_error_t *err)
{
    const ss_cluster_t *c = s->c;
    int32_t K = s->cl.n_classes;
    int rc = 0;
    for (int32_t i = 0; i < r->n_items && rc == 0; i++) {
        const item_t *it = &r->it[i];
        for (int32_t j = 0; j < it->count && rc == 0; j++) {
            int32_t t = c->pod_template[r->order[it->begin + j]];
            if (s->tmpl_vent[t] >= 0)
                continue;
            s->tmpl_vent[t] = ss_vcache_reserve(s->vcache, c, &s->cl, t);
            if (s->tmpl_vent[t] < 0)
                rc = ss_error_set(err, SS_ENOMEM, "out of memory caching verdicts");
        }
    }
    int32_t n = ss_vcache_count(s->vcache), rank = comm ? comm->rank : 0;
    int32_t size = comm ? comm->size : 1, words = 2 + K + (K + 7) / 8;
    for (int32_t e = rank; e < n && rc == 0; e += size)
        ss_vcache_compute(s->vcache, &s->mx, c, &s->cl, e);
    if (comm && size > 1) {
        int32_t mine = (n - rank + size - 1) / size;
        int64_t *rec = malloc(((size_t)(mine > 0 ? mine : 0) * words + 1) * sizeof *rec);
        int64_t fail_rec = -1;
        int32_t m = 0;
        if (!rec && rc == 0)
            rc = ss_error_set(err, SS_ENOMEM, "out of memory exchanging verdicts");
        for (int32_t e = rank; e < n && rc == 0; e += size) {
            ss_verdict_t v;
            ss_vcache_view(s->vcache, e, &v);
            int64_t *x = rec + (size_t)m++ * words;
            x[0] = e;
            x[1] = v.node_specific;
            memcpy(x + 2, v.bonus, (size_t)K * sizeof(int64_t));
            memset(x + 2 + K, 0, (size_t)((K + 7) / 8) * sizeof(int64_t));
            memcpy(x + 2 + K, v.reason, (size_t)K);
        }
        int64_t *all = NULL;
        int32_t n_all = 0;
        int grc = comm->gather_i64(comm->ctx, rc < 0 ? &fail_rec : rec, rc < 0 ? 1 : m * words,
                                   &all, &n_all, err);
        s->stats.collectives += 2;
        for (int32_t i = 0; rc == 0 && grc == 0 && i < n_all; i += words) {
            int64_t e = all[i];
            if (e < 0 || e >= n || i + words > n_all) {
                grc = e == -1 ? ss_error_set(err, SS_EPEER, "another rank failed caching verdicts")
                              : ss_error_set(err, SS_EINVAL, "verdict record names entry %lld",
                                             (long long)e);
                break;
            }
            ss_verdict_t v;
            ss_vcache_view(s->vcache, (int32_t)e, &v);
            ss_vcache_set_node_specific(s->vcache, (int32_t)e, (int)all[i + 1]);
            memcpy(v.bonus, all + i + 2, (size_t)K * sizeof(int64_t));
            memcpy(v.reason, all + i + 2 + K, (size_t)K);
        }
        free(rec);
        if (rc == 0)
            rc = grc;
    }
    /* Each verdict's hash once, then each template's signature. */
    uint64_t *vh = malloc(((size_t)n + 1) * sizeof *vh);
    if (!vh && rc == 0)
        rc = ss_error_set(err, SS_ENOMEM, "out of memory caching verdicts");
    for (int32_t e = 0; e < n && rc == 0; e++) {
        ss_verdict_t v;
        ss_vcache_view(s->vcache, e, &v);
        vh[e] = ss_sigtab_verdict_hash(&v, K);
    }
    for (int32_t t = 0; t < c->n_templates && rc == 0; t++) {
        if (s->tmpl_vent[t] < 0)
            continue;
        ss_verdict_t v;
        ss_vcache_view(s->vcache, s->tmpl_vent[t], &v);
        s->tmpl_sig[t] = ss_sigtab_id_hashed(s->sigs, c, t, &v, &vh[s->tmpl_vent[t]]);
        if (s->tmpl_sig[t] < 0)
            rc = ss_error_set(err, SS_ENOMEM, "out of memory caching verdicts");
    }
    free(vh);
    return rc;
}

/* Nodes per partition that pass template t's static filters and have its
 * GPUs: the weights of its home draw. cnt[q * K + k] counts class k's nodes
 * in partition q. */
static void weights(const ss_sched_t *s, const run_t *r, const int32_t *cnt, int32_t t,
                    int64_t *budget, int64_t *wq)
{
    const ss_cluster_t *c = s->c;
    const ss_template_t *tp = &c->templates[t];
    int32_t K = s->cl.n_classes;
    ss_verdict_t v;
    ss_vcache_view(s->vcache, s->tmpl_vent[t], &v);
    memset(wq, 0, (size_t)r->P * sizeof *wq);
    if (v.node_specific && *budget <= 0) {
        for (int32_t q = 0; q < r->P; q++) /* unknown: every partition alike */
            wq[q] = 1;
        return;
    }
    if (v.node_specific) {
        /* A template that names nodes: evaluate them, node by node, for
         * the first templates (a bounded cost). */
        ss_work_t w = {.v = v};
        *budget -= c->n_nodes;
        for (int32_t q = 0; q < r->P; q++)
            for (int32_t i = ss_layout_node_lo(&s->lay, q); i < ss_layout_node_lo(&s->lay, q + 1);
                 i++) {
                int64_t bonus;
                if (ss_sched_node_static(s, &w, t, i, &bonus) == SS_REASON_NONE &&
                    c->node_gpu_count[i] >= tp->req.gpu_count)
                    wq[q]++;
            }
        return;
    }
    for (int32_t k = 0; k < K; k++) {
        if (v.reason[k] != SS_REASON_NONE || c->node_gpu_count[s->cl.rep[k]] < tp->req.gpu_count)
            continue;
        for (int32_t q = 0; q < r->P; q++)
            wq[q] += cnt[(size_t)q * K + k];
    }
}

/* Home partitions and the initial "cannot fit" marks. */
static int assign_homes(ss_sched_t *s, run_t *r, ss_error_t *err)
{
    int32_t K = s->cl.n_classes, P = r->P;
    int32_t *cnt = calloc((size_t)P * K + 1, sizeof *cnt);
    int32_t *seen = calloc((size_t)r->T + 1, sizeof *seen);    /* items per template so far */
    int32_t *slot = malloc(((size_t)r->T + 1) * sizeof *slot); /* template's weights in wall */
    int64_t *wall = NULL;                                      /* P weights per template seen */
    int32_t n_slots = 0, cap_slots = 0;
    int32_t n_keys = ss_vcache_count(s->vcache) * 17 + 1;
    int32_t *by_key = malloc((size_t)n_keys * sizeof *by_key); /* (entry, GPUs) -> slot */
    uint8_t *marked = calloc((size_t)r->T + 1, 1);
    int64_t budget = 50000000; /* node evaluations for templates that name nodes */
    int rc = 0;
    if (!cnt || !seen || !slot || !by_key || !marked) {
        rc = ss_error_set(err, SS_ENOMEM, "out of memory assigning partitions");
        goto out;
    }
    for (int32_t t = 0; t < r->T; t++)
        slot[t] = -1;
    for (int32_t k = 0; k < n_keys; k++)
        by_key[k] = -1;
    for (int32_t q = 0; q < P; q++)
        for (int32_t i = ss_layout_node_lo(&s->lay, q); i < ss_layout_node_lo(&s->lay, q + 1); i++)
            cnt[(size_t)q * K + s->cl.node_class[i]]++;
    for (int32_t i = 0; i < r->n_items; i++) {
        item_t *it = &r->it[i];
        int32_t t = it->tmpl;
        if (it->state != IT_ACTIVE)
            continue;
        /* Templates with one verdict entry and GPU count share weights. */
        const ss_template_t *tp = &s->c->templates[t];
        ss_verdict_t vv;
        ss_vcache_view(s->vcache, s->tmpl_vent[t], &vv);
        int shared = !vv.node_specific && tp->req.gpu_count < 16;
        int32_t key = shared ? s->tmpl_vent[t] * 17 + tp->req.gpu_count : 0;
        if (slot[t] < 0 && shared && by_key[key] >= 0)
            slot[t] = by_key[key];
        if (slot[t] < 0) {
            if (n_slots == cap_slots) {
                cap_slots = cap_slots ? 2 * cap_slots : 256;
                int64_t *x = realloc(wall, (size_t)cap_slots * P * sizeof *x);
                if (!x) {
                    rc = ss_error_set(err, SS_ENOMEM, "out of memory assigning partitions");
                    goto out;
                }
                wall = x;
            }
            slot[t] = n_slots++;
            if (shared)
                by_key[key] = slot[t];
            weights(s, r, cnt, t, &budget, wall + (size_t)slot[t] * P);
        }
        const int64_t *w = wall + (size_t)slot[t] * P;
        if (!marked[t]) {
            marked[t] = 1;
            for (int32_t q = 0; q < P; q++)
                if (w[q] == 0)
                    r->dead[(size_t)q * r->T + t] = DEAD_ELSEWHERE;
        }
        int64_t total = 0;
        for (int32_t q = 0; q < P; q++)
            total += w[q];
        /* A point drawn from the item's first pod (namespace and name, so
         * that the same pods give the same homes however the snapshot
         * numbers its templates), moved along a golden-ratio sequence by
         * the item's rank among its template's items (so that a template's
         * items spread evenly). */
        uint64_t j = (uint64_t)seen[t]++;
        int32_t p0 = r->order[it->begin];
        const char *ns = ss_cluster_strget(s->c, s->c->pod_ns[p0]);
        const char *nm = ss_cluster_strget(s->c, s->c->pod_name[p0]);
        uint64_t g = ss_hash_bytes(ss_hash_bytes(SS_HASH_INIT, ns, strlen(ns) + 1), nm, strlen(nm));
        g ^= g >> 31; /* a finaliser, so the high bits used below mix too */
        g *= 0xD1B54A32D192ED03ull;
        g ^= g >> 29;
        g += j * 0x9E3779B97F4A7C15ull;
        if (total == 0) {
            it->home = (int32_t)((g >> 32) % (uint64_t)P);
            continue;
        }
        int64_t pick = (int64_t)(((g >> 32) * (uint64_t)total) >> 32), acc = 0;
        int32_t q = 0;
        while (q < P - 1 && acc + w[q] <= pick)
            acc += w[q++];
        it->home = q;
    }
out:
    free(cnt);
    free(seen);
    free(slot);
    free(wall);
    free(by_key);
    free(marked);
    return rc;
}

/* ---------- one round ---------- */

static int fits_free(const ss_sched_t *s, const pfree_t *f, int32_t t)
{
    const ss_request_t *q = &s->c->templates[t].req;
    if (f->pods < 1 || f->cpu < q->cpu_milli || f->mem < q->memory)
        return 0;
    if (q->gpu_count > 0 && q->gpu_milli >= SS_GPU_MILLI)
        return f->gpus >= q->gpu_count;
    if (q->gpu_count > 0)
        return f->gpu_milli >= q->gpu_milli;
    return 1;
}

static pfree_t part_free(const ss_sched_t *s, const ss_state_t *st, int32_t lo, int32_t hi)
{
    const ss_cluster_t *c = s->c;
    pfree_t f = {INT64_MIN, INT64_MIN, INT32_MIN, 0, 0};
    for (int32_t i = lo; i < hi; i++) {
        f.cpu = st->free_cpu[i] > f.cpu ? st->free_cpu[i] : f.cpu;
        f.mem = st->free_mem[i] > f.mem ? st->free_mem[i] : f.mem;
        f.pods = st->free_pods[i] > f.pods ? st->free_pods[i] : f.pods;
        int32_t whole = 0;
        for (int32_t g = c->node_gpu_begin[i]; g < c->node_gpu_begin[i] + c->node_gpu_count[i];
             g++) {
            whole += st->gpu_free[g] >= SS_GPU_MILLI;
            f.gpu_milli = st->gpu_free[g] > f.gpu_milli ? st->gpu_free[g] : f.gpu_milli;
        }
        f.gpus = whole > f.gpus ? whole : f.gpus;
    }
    return f;
}

/* Places one item in w's partition. *ok: 1 placed, 0 failed; *placed: pods
 * of a single-pod item that landed before it failed. */
static int place_item(ss_sched_t *s, ss_work_t *w, const run_t *r, const item_t *it, int *ok,
                      int32_t *placed)
{
    const ss_cluster_t *c = s->c;
    const int32_t *pods = r->order + it->begin;
    *ok = 0;
    *placed = 0;
    int rc;
    if (it->group < 0 && r->rules && ss_rules_pair_kind(r->rules, pods[0]) == SS_PAIR_LOCAL) {
        int32_t o = w->part - s->part_lo, done = 0;
        rc = 0;
        while (done < it->count && rc == 0) {
            int32_t e = done + 1, got = 0, x = ss_rules_pair_of(r->rules, pods[done]);
            while (e < it->count && ss_rules_pair_of(r->rules, pods[e]) == x)
                e++;
            rc = ss_rules_place(s, w, r->views[o], s->st, 1, pods + done, e - done, r->out,
                                &r->lseq[o], &got);
            *placed += got;
            if (got < e - done) {
                int why = r->out->reason[s->row_of_pod[pods[done + got]]];
                for (int32_t j = e; j < it->count; j++)
                    r->out->reason[s->row_of_pod[pods[j]]] = why;
                break;
            }
            done = e;
        }
        *ok = rc == 0 && *placed == it->count;
        return rc;
    }
    if (it->group < 0) {
        rc = ss_sched_place_runs(s, w, pods, it->count, r->out, placed);
        *ok = rc == 0 && *placed == it->count;
        return rc;
    }
    int32_t g = it->group, min = c->group_min_member[g], total = 0;
    if (ss_gang_has_subgroups(c, s->sub_running, pods, it->count)) {
        int done = 0;
        if ((rc = ss_sched_place_gang_subs(s, w, pods, it->count, g, r->out, &done)) < 0)
            return rc;
        *ok = done;
        for (int32_t i = 0; i < it->count && !done; i++)
            if (r->out->reason[s->row_of_pod[pods[i]]] == SS_REASON_NONE)
                r->out->reason[s->row_of_pod[pods[i]]] = SS_REASON_GANG;
        return 0;
    }
    if (c->group_topo_mode[g] != SS_TOPO_MODE_NONE) {
        int done = 0;
        if ((rc = ss_sched_place_gang_topo(s, w, pods, it->count, g, r->out, &done)) < 0)
            return rc;
        if (done) {
            *ok = 1;
            return 0;
        }
        if (c->group_topo_mode[g] == SS_TOPO_MODE_REQUIRED) {
            for (int32_t i = 0; i < it->count; i++)
                r->out->reason[s->row_of_pod[pods[i]]] = SS_REASON_TOPOLOGY;
            return 0;
        }
    }
    if ((rc = ss_sched_place_runs(s, w, pods, it->count, r->out, &total)) < 0)
        return rc;
    int sub = total >= min
                  ? ss_subgroups_ok(c, pods, it->count, r->out, s->row_of_pod, s->sub_running)
                  : 0;
    if (sub < 0)
        return ss_error_set(&w->err, SS_ENOMEM, "out of memory checking sub-groups");
    if (sub) {
        *ok = 1;
        return 0;
    }
    return ss_sched_gang_rollback(s, w, pods, it->count, r->out);
}

/* The partition (index) of a node. */
static int32_t part_of(const ss_sched_t *s, int32_t node)
{
    int32_t a = 0, b = s->lay.n_parts - 1;
    while (a < b) {
        int32_t m = (a + b + 1) / 2;
        if (ss_layout_node_lo(&s->lay, m) <= node)
            a = m;
        else
            b = m - 1;
    }
    return a;
}

/* Commit numbers (and rule counts) for an item's pods that just landed on
 * this process's nodes by the heap engine or across partitions. */
static int note_placed(ss_sched_t *s, run_t *r, const item_t *it)
{
    for (int32_t j = 0; j < it->count; j++) {
        int32_t pod = r->order[it->begin + j], row = s->row_of_pod[pod], node = r->out->node[row];
        if (node < s->node_lo || node >= s->node_hi || r->out->seq[row] >= 0)
            continue;
        int32_t o = part_of(s, node) - s->part_lo;
        r->out->seq[row] = r->lseq[o]++;
        if (r->rules && ss_rview_add(r->views[o], pod, node, +1) < 0)
            return SS_ENOMEM;
    }
    return 0;
}

/* One partition's share of a round: its routed items in queue order. */
static int run_part(ss_sched_t *s, run_t *r, int32_t o)
{
    ss_work_t *w = &r->w[o];
    msgbuf_t *mb = &r->mb[o];
    int32_t q = w->part;
    mb->n = 0;
    for (int32_t x = 0; x < r->n_list[o]; x++) {
        const item_t *it = &r->it[r->list[o][x]];
        uint8_t *dead = &r->dead[(size_t)q * r->T + it->tmpl];
        int ok = 0, rc = 0;
        int32_t placed = 0;
        if (it->group < 0 && *dead && *dead != DEAD_ELSEWHERE) {
            for (int32_t i = 0; i < it->count; i++) /* known full: no need to look */
                r->out->reason[s->row_of_pod[r->order[it->begin + i]]] = *dead;
        } else if ((rc = place_item(s, w, r, it, &ok, &placed)) < 0) {
            return rc;
        }
        if (note_placed(s, r, it) < 0)
            return ss_error_set(&w->err, SS_ENOMEM, "out of memory counting placed pods");
        if (ok)
            continue;
        if (msg_push(mb, (ss_sched_msg_t){.kind = SS_MSG_FAILED,
                                          .part = q,
                                          .unit = r->list[o][x],
                                          .count = placed}) < 0)
            return ss_error_set(&w->err, SS_ENOMEM, "out of memory listing failed units");
        /* A template is full for good only without rules: counts can
         * make a later pod of it fit (an affinity target lands, a spread
         * minimum rises). */
        if (it->group < 0 && (!*dead || *dead == DEAD_ELSEWHERE) &&
            ss_rules_pair_kind(r->rules, r->order[it->begin]) == SS_PAIR_PLAIN) {
            int32_t last = s->row_of_pod[r->order[it->begin + it->count - 1]];
            *dead = (uint8_t)r->out->reason[last];
            if (msg_push(mb, (ss_sched_msg_t){.kind = SS_MSG_DEAD, .part = q, .tmpl = it->tmpl}) <
                0)
                return ss_error_set(&w->err, SS_ENOMEM, "out of memory listing failed units");
        }
    }
    pfree_t f = part_free(s, s->st, w->lo, w->hi);
    if (msg_push(mb, (ss_sched_msg_t){.kind = SS_MSG_FREE,
                                      .part = q,
                                      .pods = f.pods,
                                      .cpu = f.cpu,
                                      .mem = f.mem,
                                      .gpus = f.gpus,
                                      .gpu_milli = f.gpu_milli}) < 0)
        return ss_error_set(&w->err, SS_ENOMEM, "out of memory listing failed units");
    return 0;
}

/* Routes the failed items of this round: the next partition of each one's
 * rotation that may hold it, or done. Returns the items routed. */
static int32_t route(const ss_sched_t *s, run_t *r)
{
    int32_t n = 0;
    for (int32_t x = 0; x < r->n_active; x++) {
        item_t *it = &r->it[r->active[x]];
        if (!it->failed) {
            it->state = IT_PLACED;
            continue;
        }
        it->failed = 0;
        int32_t pos = it->pos + 1;
        for (; pos < r->P; pos++) {
            int32_t q = (it->home + pos) % r->P;
            if (!r->dead[(size_t)q * r->T + it->tmpl] && fits_free(s, &r->pf[q], it->tmpl))
                break;
        }
        if (pos >= r->P) {
            it->state = IT_DONE;
            continue;
        }
        it->pos = pos;
        r->active[n++] = r->active[x];
    }
    r->n_active = n;
    return n;
}

/* Applies the gathered records; returns SS_EPEER if another process
 * reported an error. */
static int apply_msgs(run_t *r, const ss_sched_msg_t *m, int32_t n, ss_error_t *err)
{
    for (int32_t i = 0; i < n; i++) {
        const ss_sched_msg_t *x = &m[i];
        if (x->kind == SS_MSG_ERROR)
            return ss_error_set(err, SS_EPEER, "another rank failed during the run");
        if (x->part < 0 || x->part >= r->P)
            return ss_error_set(err, SS_EINVAL, "record names partition %d of %d", x->part, r->P);
        if (x->kind == SS_MSG_FREE) {
            r->pf[x->part] = (pfree_t){x->cpu, x->mem, x->pods, x->gpus, x->gpu_milli};
        } else if (x->kind == SS_MSG_DEAD && x->tmpl >= 0 && x->tmpl < r->T) {
            if (!owned(r, x->part)) /* the owner keeps the reason it found */
                r->dead[(size_t)x->part * r->T + x->tmpl] = DEAD_ELSEWHERE;
        } else if (x->kind == SS_MSG_FAILED && x->unit >= 0 && x->unit < r->n_items) {
            item_t *it = &r->it[x->unit];
            it->failed = 1;
            if (it->group < 0 && x->count > 0 && x->count < it->count) {
                it->begin += x->count;
                it->count -= x->count;
            }
        } else {
            return ss_error_set(err, SS_EINVAL, "malformed record of kind %d", x->kind);
        }
    }
    return 0;
}

/* One round: the owned partitions place their routed items, then every
 * process learns the outcome (one gather). */
static int round_run(ss_sched_t *s, run_t *r, const ss_sched_comm_t *comm, ss_error_t *err)
{
    for (int32_t o = 0; o < r->n_own; o++)
        r->n_list[o] = 0;
    for (int32_t x = 0; x < r->n_active; x++) {
        int32_t q = cur_part(r, &r->it[r->active[x]]);
        if (owned(r, q)) {
            int32_t o = q - s->part_lo;
            r->list[o][r->n_list[o]++] = r->active[x];
        }
    }
    int rc = 0;
    double t0 = omp_get_wtime();
    if (r->n_own > 1) {
        /* Partitions in parallel; runs inside them stay on one thread. */
#pragma omp parallel for schedule(dynamic, 1) reduction(min : rc)
        for (int32_t o = 0; o < r->n_own; o++) {
            r->w[o].rc = run_part(s, r, o);
            rc = r->w[o].rc < rc ? r->w[o].rc : rc;
        }
    } else if (r->n_own == 1) {
        /* One partition: its runs spread their shards over the threads. */
        rc = r->w[0].rc = run_part(s, r, 0);
    }
    /* This process's records, in partition order. */
    msgbuf_t all = {0};
    for (int32_t o = 0; o < r->n_own && rc == 0; o++)
        for (int32_t i = 0; i < r->mb[o].n && rc == 0; i++)
            rc = msg_push(&all, r->mb[o].m[i]) < 0 ? SS_ENOMEM : 0;
    ss_error_t mine_err = {0};
    if (rc < 0) {
        mine_err = r->w[0].err;
        for (int32_t o = 0; o < r->n_own; o++)
            if (r->w[o].rc < 0) {
                mine_err = r->w[o].err;
                break;
            }
        if (mine_err.text[0] == 0)
            ss_error_set(&mine_err, rc, "out of memory listing failed units");
        free(all.m);
        all = (msgbuf_t){0};
        static ss_sched_msg_t error_rec = {.kind = SS_MSG_ERROR};
        all.m = &error_rec;
        all.n = 1;
    }
    ss_sched_msg_t *got = all.m;
    int32_t n_got = all.n;
    int grc = 0;
    double t1 = omp_get_wtime();
    s->stats.place_s += t1 - t0;
    if (comm) {
        grc = comm->gather_msgs(comm->ctx, all.m, all.n, &got, &n_got, err);
        s->stats.collectives += 2;
    }
    if (grc == 0 && rc == 0)
        grc = apply_msgs(r, got, n_got, err);
    s->stats.exchange_s += omp_get_wtime() - t1;
    if (rc == 0)
        free(all.m);
    if (rc < 0) {
        *err = mine_err;
        return rc;
    }
    return grc;
}

/* ---------- pod groups across partitions ---------- */

/* Domains of level l that span more than one partition, as [d] indices. */
static int32_t crossing_domains(const ss_sched_t *s, int l, int32_t *out, int32_t max)
{
    int32_t n = 0;
    if (l == s->c->n_levels - 1)
        return 0;
    for (int32_t d = 0; d < s->n_dom[l] && n < max; d++) {
        int32_t lo = ss_sched_dom_lo(s, l, d), hi = ss_sched_dom_hi(s, l, d);
        if (s->node_shard[lo] != s->node_shard[hi - 1]) {
            int32_t a = s->node_shard[lo], b = s->node_shard[hi - 1];
            int32_t pa = 0, pb = 0;
            while (s->lay.part_shard[pa + 1] <= a)
                pa++;
            while (s->lay.part_shard[pb + 1] <= b)
                pb++;
            if (pa != pb)
                out[n++] = d;
        }
    }
    return n;
}

/* The crossing domains a pod group may use (*whole: also the whole
 * cluster); returns their count, -1 when there is nothing to try. */
static int32_t across_domains(const ss_sched_t *s, const item_t *it, int32_t *dom, int *whole)
{
    const ss_cluster_t *c = s->c;
    int mode = c->group_topo_mode[it->group], level = c->group_topo_level[it->group];
    int32_t nd = mode == SS_TOPO_MODE_NONE ? 0 : crossing_domains(s, level, dom, MAX_CROSS);
    *whole = mode != SS_TOPO_MODE_REQUIRED;
    return nd == 0 && !*whole ? -1 : nd; /* -1: every domain inside one partition, tried */
}

/* What each owned partition could hold of the group now, per crossing
 * domain (v[j * P + q]) and whole (v[nd * P + q]), by placing it there and
 * rolling it back. */
/* The reasons of an item's unplaced rows, saved before and put back after
 * placements across partitions: trying a group in this rank's partitions
 * must not change what the rank later reports for rows it does not place
 * (that would depend on which partitions the rank owns). */
static int8_t *reasons_save(const ss_sched_t *s, const run_t *r, const item_t *it)
{
    int8_t *x = malloc((size_t)it->count + 1);
    for (int32_t i = 0; x && i < it->count; i++)
        x[i] = (int8_t)r->out->reason[s->row_of_pod[r->order[it->begin + i]]];
    return x;
}

static void reasons_restore(const ss_sched_t *s, const run_t *r, const item_t *it, const int8_t *x)
{
    for (int32_t i = 0; x && i < it->count; i++) {
        int32_t row = s->row_of_pod[r->order[it->begin + i]];
        if (r->out->node[row] < 0)
            r->out->reason[row] = x[i];
    }
}

static int gang_caps(ss_sched_t *s, run_t *r, const item_t *it, const int32_t *dom, int32_t nd,
                     int whole, int64_t *v, ss_error_t *err)
{
    int level = s->c->group_topo_level[it->group];
    const int32_t *pods = r->order + it->begin;
    int8_t *saved = reasons_save(s, r, it);
    int rc = saved ? 0 : ss_error_set(err, SS_ENOMEM, "out of memory placing a pod group");
    for (int32_t o = 0; o < r->n_own && rc == 0; o++) {
        ss_work_t *w = &r->w[o];
        int32_t plo = w->lo, phi = w->hi;
        for (int32_t j = 0; j <= nd && rc == 0; j++) {
            if (j == nd && !whole)
                break;
            int32_t lo = j < nd ? ss_sched_dom_lo(s, level, dom[j]) : plo;
            int32_t hi = j < nd ? ss_sched_dom_hi(s, level, dom[j]) : phi;
            w->lo = lo > plo ? lo : plo;
            w->hi = hi < phi ? hi : phi;
            int32_t total = 0;
            if (w->lo < w->hi) {
                rc = ss_sched_place_runs(s, w, pods, it->count, r->out, &total);
                if (rc == 0)
                    rc = ss_sched_gang_rollback(s, w, pods, it->count, r->out);
            }
            v[(size_t)j * r->P + w->part] = total;
        }
        w->lo = plo;
        w->hi = phi;
        if (rc < 0)
            *err = w->err;
    }
    reasons_restore(s, r, it, saved);
    free(saved);
    return rc;
}

/* The best-fitting crossing domain that holds min pods, else the whole
 * cluster (when allowed and it does); nd: none, -1: nowhere. */
static int32_t gang_pick(const int64_t *v, int32_t nd, int whole, int32_t P, int32_t min)
{
    int32_t pick = -1;
    int64_t best = INT64_MAX;
    for (int32_t j = 0; j <= nd; j++) {
        if (j == nd && (!whole || pick >= 0))
            break;
        int64_t sum = 0;
        for (int32_t q = 0; q < P; q++)
            sum += v[(size_t)j * P + q];
        if (sum >= min && sum - min < best) {
            best = sum - min;
            pick = j;
        }
    }
    return pick;
}

/* Before the groups are placed one by one: one sum of what every candidate
 * could hold in the present state. Capacity only shrinks as groups land
 * (a rolled-back group restores it), so a group that fits nowhere now fits
 * nowhere at its turn: it is dropped without collectives of its own.
 * cand[0..*n) keeps the others, in order. Two collectives. */
static int across_precheck(ss_sched_t *s, run_t *r, const ss_sched_comm_t *comm, int32_t *cand,
                           int32_t *n, ss_error_t *err)
{
    int32_t P = r->P, dom[MAX_CROSS];
    int64_t total = 1;
    for (int32_t i = 0; i < *n; i++) {
        int whole;
        int32_t nd = across_domains(s, &r->it[cand[i]], dom, &whole);
        total += nd < 0 ? 0 : (int64_t)(nd + 1) * P;
    }
    int64_t *v = total <= INT32_MAX / 2 ? calloc((size_t)total, sizeof *v) : NULL;
    int rc = v ? 0 : ss_error_set(err, SS_ENOMEM, "out of memory placing pod groups");
    int64_t flag = rc < 0;
    if (comm) { /* everyone has the buffer, or no one sums into it */
        int mrc = comm->sum(comm->ctx, &flag, 1, rc < 0 ? &(ss_error_t){0} : err);
        s->stats.collectives++;
        if (rc == 0 && (mrc < 0 || flag > 0))
            rc = mrc < 0 ? mrc
                         : ss_error_set(err, SS_EPEER, "another rank failed placing pod groups");
    }
    int agreed = rc == 0; /* the same on every rank: all hold v, or none sums */
    int64_t off = 0;
    for (int32_t i = 0; i < *n && rc == 0; i++) {
        int whole;
        int32_t nd = across_domains(s, &r->it[cand[i]], dom, &whole);
        if (nd < 0)
            continue;
        rc = gang_caps(s, r, &r->it[cand[i]], dom, nd, whole, v + off, err);
        off += (int64_t)(nd + 1) * P;
    }
    if (agreed) {
        v[total - 1] = rc < 0;
        if (comm) { /* entered by all: every rank holds v here */
            int mrc = comm->sum(comm->ctx, v, (int32_t)total, err);
            s->stats.collectives++;
            if (rc == 0 && (mrc < 0 || v[total - 1] > 0))
                rc = mrc < 0
                         ? mrc
                         : ss_error_set(err, SS_EPEER, "another rank failed placing pod groups");
        }
    }
    int32_t m = 0;
    off = 0;
    for (int32_t i = 0; i < *n && rc == 0; i++) {
        const item_t *it = &r->it[cand[i]];
        int whole;
        int32_t nd = across_domains(s, it, dom, &whole);
        if (nd < 0)
            continue;
        if (gang_pick(v + off, nd, whole, P, s->c->group_min_member[it->group]) >= 0)
            cand[m++] = cand[i];
        off += (int64_t)(nd + 1) * P;
    }
    *n = m;
    free(v);
    return rc;
}

/* Places a pod group over several partitions (two sums). */
static int place_across(ss_sched_t *s, run_t *r, const ss_sched_comm_t *comm, item_t *it,
                        ss_error_t *err)
{
    const ss_cluster_t *c = s->c;
    int32_t n = it->count, min = c->group_min_member[it->group], P = r->P;
    int level = c->group_topo_level[it->group], whole;
    const int32_t *pods = r->order + it->begin;
    if (ss_gang_has_subgroups(c, s->sub_running, pods, n))
        return 0; /* a gang with sub-groups is placed inside one partition */
    int32_t dom[MAX_CROSS], nd = across_domains(s, it, dom, &whole);
    if (nd < 0)
        return 0;
    int32_t nv = (nd + 1) * P + 1;
    int64_t *v = r->sums; /* allocated with the run: no failure between the sums */
    memset(v, 0, (size_t)nv * sizeof *v);
    int rc = gang_caps(s, r, it, dom, nd, whole, v, err);
    v[nv - 1] = rc < 0;
    int mrc = comm ? comm->sum(comm->ctx, v, nv, err) : 0;
    s->stats.collectives += comm != NULL;
    if (rc == 0 && mrc == 0 && v[nv - 1] > 0)
        mrc = ss_error_set(err, SS_EPEER, "another rank failed placing a pod group");
    if (rc < 0 || mrc < 0)
        return rc < 0 ? rc : mrc;
    int32_t pick = gang_pick(v, nd, whole, P, min);
    if (pick < 0)
        return 0;
    /* Members in order to partitions in order, as many as each holds. */
    int8_t *saved = reasons_save(s, r, it);
    if (!saved)
        rc = ss_error_set(err, SS_ENOMEM, "out of memory placing a pod group");
    int64_t placed = 0;
    int32_t off = 0;
    for (int32_t q = 0; q < P && off < n; q++) {
        int32_t take =
            (int32_t)(v[(size_t)pick * P + q] < n - off ? v[(size_t)pick * P + q] : n - off);
        if (take > 0 && owned(r, q) && rc == 0) {
            ss_work_t *w = &r->w[q - s->part_lo];
            int32_t plo = w->lo, phi = w->hi, total = 0;
            int32_t lo = pick < nd ? ss_sched_dom_lo(s, level, dom[pick]) : plo;
            int32_t hi = pick < nd ? ss_sched_dom_hi(s, level, dom[pick]) : phi;
            w->lo = lo > plo ? lo : plo;
            w->hi = hi < phi ? hi : phi;
            rc = ss_sched_place_runs(s, w, pods + off, take, r->out, &total);
            if (rc < 0)
                *err = w->err;
            placed += total;
            w->lo = plo;
            w->hi = phi;
        }
        off += take;
    }
    int64_t agg[2] = {placed, rc < 0};
    mrc = comm ? comm->sum(comm->ctx, agg, 2, err) : 0;
    s->stats.collectives += comm != NULL;
    if (rc == 0 && mrc == 0 && agg[1] > 0)
        mrc = ss_error_set(err, SS_EPEER, "another rank failed placing a pod group");
    if (rc == 0 && mrc == 0 && agg[0] >= min)
        it->state = IT_PLACED;
    else if (rc == 0 && mrc == 0)
        for (int32_t o = 0; o < r->n_own && rc == 0; o++)
            if ((rc = ss_sched_gang_rollback(s, &r->w[o], pods, n, r->out)) < 0)
                *err = r->w[o].err;
    reasons_restore(s, r, it, saved); /* unplaced members keep their reasons */
    free(saved);
    return rc < 0 ? rc : mrc;
}

/* ---------- the whole run ---------- */

/* The rows this process decided: pods it placed, and the unplaced pods of
 * items whose last partition it owns. Gathered, they fill every process's
 * table: reasons first, then placements (a pod placed across partitions
 * may also be listed unplaced by its item's last partition). */
static int finish(ss_sched_t *s, run_t *r, const ss_sched_comm_t *comm, int rc_in, ss_error_t *err)
{
    ss_placements_t *out = r->out;
    ss_sched_row_t *mine = malloc(((size_t)out->n + 1) * sizeof *mine);
    int32_t n = 0;
    int rc = rc_in;
    if (!mine && rc == 0)
        rc = ss_error_set(err, SS_ENOMEM, "out of memory gathering placements");
    for (int32_t i = 0; i < r->n_items && rc == 0; i++) {
        const item_t *it = &r->it[i];
        if (it->state == IT_FINAL || !owned(r, cur_part(r, it)))
            continue;
        for (int32_t j = 0; j < it->count; j++) {
            int32_t row = s->row_of_pod[r->order[it->begin + j]];
            if (out->node[row] < 0)
                mine[n++] = (ss_sched_row_t){row, -1, 0, out->reason[row], -1};
        }
    }
    for (int32_t row = 0; row < out->n && rc == 0; row++)
        if (out->node[row] >= s->node_lo && out->node[row] < s->node_hi)
            mine[n++] = (ss_sched_row_t){row, out->node[row], out->gpu_mask[row], SS_REASON_NONE,
                                         out->seq[row]};
    ss_sched_row_t err_rec = {-1, -1, 0, -1, 0};
    const ss_sched_row_t *send = rc < 0 ? &err_rec : mine;
    int32_t n_send = rc < 0 ? 1 : n;
    ss_sched_row_t *all = (ss_sched_row_t *)send;
    int32_t n_all = n_send;
    int grc = 0;
    if (comm) {
        grc = comm->gather_rows(comm->ctx, send, n_send, &all, &n_all, err);
        s->stats.collectives += 2;
    }
    if (rc == 0 && grc == 0) {
        /* Items the engine cannot honour are decided the same everywhere. */
        for (int32_t row = 0; row < out->n; row++) {
            out->node[row] = -1;
            out->gpu_mask[row] = 0;
            out->reason[row] = SS_REASON_NO_NODES;
            out->seq[row] = -1;
        }
        for (int32_t i = 0; i < r->n_items; i++) {
            const item_t *it = &r->it[i];
            for (int32_t j = 0; it->state == IT_FINAL && j < it->count; j++)
                out->reason[s->row_of_pod[r->order[it->begin + j]]] = it->reason;
        }
        for (int pass = 0; pass < 2 && grc == 0; pass++)
            for (int32_t i = 0; i < n_all; i++) {
                const ss_sched_row_t *x = &all[i];
                if (x->row == -1 && x->reason == -1) {
                    grc = ss_error_set(err, SS_EPEER, "another rank failed during the run");
                    break;
                }
                if (x->row < 0 || x->row >= out->n) {
                    grc = ss_error_set(err, SS_EINVAL, "gathered row %d of %d", x->row, out->n);
                    break;
                }
                if ((pass == 0) == (x->node < 0)) {
                    out->node[x->row] = x->node;
                    out->gpu_mask[x->row] = x->gpu_mask;
                    out->reason[x->row] = (int8_t)x->reason;
                    out->seq[x->row] = x->node < 0 ? -1 : x->pad;
                }
            }
    }
    free(mine);
    return rc < 0 ? rc : grc;
}

static void run_free(run_t *r)
{
    for (int32_t o = 0; r->w && o < r->n_own; o++)
        work_free(&r->w[o]);
    for (int32_t o = 0; r->mb && o < r->n_own; o++)
        free(r->mb[o].m);
    for (int32_t o = 0; r->list && o < r->n_own; o++)
        free(r->list[o]);
    free(r->w);
    free(r->mb);
    free(r->list);
    free(r->n_list);
    free(r->it);
    free(r->dead);
    free(r->pf);
    free(r->active);
    free(r->sums);
    for (int32_t o = 0; r->views && o < r->n_own; o++)
        ss_rview_destroy(r->views[o]);
    free(r->views);
    free(r->lseq);
    ss_rules_destroy(r->rules);
}

/* Items from the queue's units; unsupported ones are decided at once. */
static int build_items(ss_sched_t *s, run_t *r, const ss_unit_t *units, int32_t n_units)
{
    const ss_cluster_t *c = s->c;
    for (int32_t u = 0; u < n_units; u++) {
        item_t *it = &r->it[r->n_items++];
        const int32_t *pods = r->order + units[u].begin;
        *it = (item_t){units[u].begin,
                       units[u].count,
                       units[u].group,
                       c->pod_template[pods[0]],
                       0,
                       0,
                       IT_ACTIVE,
                       0,
                       0};
        for (int32_t i = 0; i < it->count; i++) {
            int rs = ss_sched_pod_unsupported(c, pods[i]);
            if (rs != SS_REASON_NONE) { /* a gang with such a member is not placed either */
                it->state = IT_FINAL;
                it->reason = (int8_t)rs;
                break;
            }
            if (it->group < 0)
                break; /* one template */
        }
        for (int32_t i = 0; r->rules && it->state == IT_ACTIVE && i < it->count; i++)
            if (ss_rules_pair_kind(r->rules, pods[i]) != SS_PAIR_PLAIN &&
                (it->group >= 0 || ss_rules_pair_kind(r->rules, pods[i]) == SS_PAIR_WIDE)) {
                it->state = IT_DEFER;
                if (it->group >= 0 && c->group_topo_mode[it->group] != SS_TOPO_MODE_NONE) {
                    it->state = IT_FINAL; /* docs/kubernetes.md: not modelled together */
                    it->reason = SS_REASON_UNSUPPORTED_OTHER;
                }
            }
    }
    return 0;
}

static int run_setup(ss_sched_t *s, run_t *r, const int32_t *order, const ss_unit_t *units,
                     int32_t n_units, ss_placements_t *out, ss_error_t *err)
{
    const ss_cluster_t *c = s->c;
    r->s = s;
    r->order = order;
    r->out = out;
    r->P = s->lay.n_parts;
    r->T = c->n_templates > 0 ? c->n_templates : 1;
    r->n_own = s->part_hi - s->part_lo;
    size_t nu = n_units > 0 ? (size_t)n_units : 1, no = r->n_own > 0 ? (size_t)r->n_own : 1;
    r->it = malloc(nu * sizeof *r->it);
    r->active = malloc(nu * sizeof *r->active);
    r->dead = calloc((size_t)r->P * r->T, 1);
    r->pf = calloc((size_t)r->P, sizeof *r->pf);
    r->w = calloc(no, sizeof *r->w);
    r->mb = calloc(no, sizeof *r->mb);
    r->list = calloc(no, sizeof *r->list);
    r->n_list = calloc(no, sizeof *r->n_list);
    r->sums = malloc(((size_t)(MAX_CROSS + 1) * r->P + 1) * sizeof *r->sums);
    r->views = calloc(no, sizeof *r->views);
    r->lseq = calloc(no, sizeof *r->lseq);
    if (!r->it || !r->active || !r->dead || !r->pf || !r->w || !r->mb || !r->list || !r->n_list ||
        !r->sums || !r->views || !r->lseq)
        return ss_error_set(err, SS_ENOMEM, "out of memory starting the run");
    {
        int none = 0;
        int ds = s->opts.default_spreading >= 0 ? s->opts.default_spreading : c->default_spreading;
        int loc = s->opts.locality >= 0 ? s->opts.locality : c->locality;
        r->rules = ss_rules_create(s, ds, loc, &none, err);
        if (!r->rules)
            return SS_ENOMEM;
        for (int32_t o = 0; r->rules && o < r->n_own; o++)
            if (!(r->views[o] = ss_rview_create(r->rules)))
                return ss_error_set(err, SS_ENOMEM, "out of memory starting the run");
    }
    for (int32_t o = 0; o < r->n_own; o++)
        if (work_init(s, &r->w[o], s->part_lo + o) < 0 ||
            !(r->list[o] = malloc(nu * sizeof *r->list[o])))
            return ss_error_set(err, SS_ENOMEM, "out of memory starting the run");
    build_items(s, r, units, n_units);
    for (int32_t q = 0; q < r->P; q++) /* unknown until the first exchange: may fit */
        r->pf[q] = (pfree_t){INT64_MAX, INT64_MAX, INT32_MAX, INT32_MAX, INT32_MAX};
    for (int32_t i = 0; i < r->n_items; i++)
        if (r->it[i].state == IT_ACTIVE)
            r->active[r->n_active++] = i;
    return 0;
}

/* ---------- after the rounds: deferred units, preemption, commit order ---------- */

typedef struct {
    int64_t key;
    int32_t row;
} seqkey_t;

static int cmp_seqkey(const void *a, const void *b)
{
    const seqkey_t *x = a, *y = b;
    return (x->key > y->key) - (x->key < y->key);
}

/* Commit order over the whole run: the partitions' placements (partition by
 * partition, each in its own order: their rules never look across), then
 * the deferred ones in their order (key2 >= 0). Dense from 0. */
static int renumber(const ss_sched_t *s, ss_placements_t *out, const int64_t *key2)
{
    seqkey_t *k = malloc(((size_t)out->n + 1) * sizeof *k);
    if (!k)
        return SS_ENOMEM;
    int32_t n = 0;
    for (int32_t row = 0; row < out->n; row++) {
        if (out->node[row] < 0) {
            out->seq[row] = -1;
            continue;
        }
        int64_t key = key2 && key2[row] >= 0
                          ? ((int64_t)s->lay.n_parts << 32) + key2[row]
                          : ((int64_t)part_of(s, out->node[row]) << 32) + out->seq[row];
        k[n++] = (seqkey_t){key, row};
    }
    qsort(k, (size_t)n, sizeof *k, cmp_seqkey);
    for (int32_t i = 0; i < n; i++)
        out->seq[k[i].row] = i;
    free(k);
    return 0;
}

/* The partitions the deferred pass may try for a pod: their largest free
 * room (an upper bound: it only shrinks during the pass) and zones. */
typedef struct {
    pfree_t *pf;   /* [P] */
    uint8_t *zone; /* [P * (Z + 1)]: the partition has a node in zone z */
    uint8_t *ok;   /* [Z + 1]: the pod's zones now */
    int32_t Z;
    int32_t *cls_b, *cls; /* [P + 1] / [nodes]: each partition's distinct node classes (CSR) */
    uint8_t *stat_ok;     /* [P]: a node of the partition passes the template's static filters */
    int32_t stat_t;       /* the template stat_ok is for, -1: none */
    ss_rwalks_t *wk;      /* the current run's walks */
} dparts_t;

static void dparts_free(dparts_t *d)
{
    free(d->pf);
    free(d->zone);
    free(d->ok);
    free(d->cls_b);
    free(d->cls);
    free(d->stat_ok);
    ss_rwalks_destroy(d->wk);
}

/* d->stat_ok for template t (w's verdict is t's). */
static void dparts_static(const ss_sched_t *s, const ss_work_t *w, dparts_t *d, int32_t t)
{
    if (d->stat_t == t)
        return;
    d->stat_t = t;
    for (int32_t q = 0; q < s->lay.n_parts; q++) {
        int ok = w->v.node_specific;
        for (int32_t i = d->cls_b[q]; i < d->cls_b[q + 1] && !ok; i++)
            ok = w->v.reason[d->cls[i]] == SS_REASON_NONE;
        d->stat_ok[q] = (uint8_t)ok;
    }
}

static int dparts_init(const ss_sched_t *s, const ss_state_t *st, const ss_rview_t *v, dparts_t *d)
{
    int32_t P = s->lay.n_parts;
    d->Z = ss_rules_n_zones(v);
    d->pf = malloc((size_t)P * sizeof *d->pf);
    d->zone = calloc((size_t)P * (size_t)(d->Z + 1), 1);
    d->ok = malloc((size_t)d->Z + 1);
    d->wk = ss_rwalks_create(P);
    d->cls_b = calloc((size_t)P + 1, sizeof *d->cls_b);
    d->cls = malloc(((size_t)s->c->n_nodes + 1) * sizeof *d->cls);
    d->stat_ok = malloc((size_t)P + 1);
    uint8_t *seen = calloc((size_t)s->cl.n_classes + 1, 1);
    d->stat_t = -1;
    if (!d->pf || !d->zone || !d->ok || !d->wk || !d->cls_b || !d->cls || !d->stat_ok || !seen) {
        free(seen);
        return SS_ENOMEM;
    }
    int32_t m = 0;
    for (int32_t q = 0; q < P; q++) {
        int32_t lo = ss_layout_node_lo(&s->lay, q), hi = ss_layout_node_lo(&s->lay, q + 1);
        d->pf[q] = part_free(s, st, lo, hi);
        d->cls_b[q] = m;
        for (int32_t n = lo; n < hi; n++) {
            d->zone[(size_t)q * (size_t)(d->Z + 1) + (size_t)ss_rules_zone_of(v, n)] = 1;
            int32_t k = s->cl.node_class[n];
            if (!seen[k]) {
                seen[k] = 1;
                d->cls[m++] = k;
            }
        }
        for (int32_t i = d->cls_b[q]; i < m; i++)
            seen[d->cls[i]] = 0;
    }
    d->cls_b[P] = m;
    free(seen);
    return 0;
}

/* At most this many partitions of its rotation are tried for a deferred
 * pod before the whole cluster is searched. */
#define DEFER_TRIES 4

/* One deferred pod (not of a gang): the best node of the first DEFER_TRIES
 * partitions of its item's rotation (home, home+1, ...) that have a zone its
 * zone rules allow now and a node with room that passes the static filters
 * (the highest score, then the lowest node); when no node of those passes
 * every rule, the whole cluster, which also gives the reason when no node
 * passes. */
static int defer_one(ss_sched_t *s, const item_t *it, ss_work_t *w, ss_state_t *st, ss_rview_t *v,
                     dparts_t *d, int32_t pod, ss_placements_t *out, int32_t *seq, int32_t *got)
{
    int32_t P = s->lay.n_parts, t = s->c->pod_template[pod], tries = 0, best = -1, bpart = -1;
    int64_t bscore = 0;
    int rc = ss_rules_zones_allowed(v, pod, d->ok);
    *got = 0;
    ss_sched_verdict(s, w, t);
    dparts_static(s, w, d, t);
    for (int32_t k = 0; k < P && rc == 0 && tries < DEFER_TRIES; k++) {
        int32_t q = (it->home + k) % P, z = 0;
        while (z <= d->Z && !(d->ok[z] && d->zone[(size_t)q * (size_t)(d->Z + 1) + (size_t)z]))
            z++;
        if (z > d->Z || !d->stat_ok[q] || !fits_free(s, &d->pf[q], t))
            continue;
        w->lo = ss_layout_node_lo(&s->lay, q);
        w->hi = ss_layout_node_lo(&s->lay, q + 1);
        int32_t node;
        int64_t score;
        int empty = 0;
        rc = ss_rules_walk_best(s, w, v, st, d->wk, q, pod, &node, &score, &empty);
        tries += !empty;
        if (rc == 0 && node >= 0 &&
            (best < 0 || score > bscore || (score == bscore && node < best))) {
            best = node;
            bscore = score;
            bpart = q;
        }
    }
    w->lo = 0;
    w->hi = s->c->n_nodes;
    if (rc == 0 && best >= 0) {
        rc = ss_rules_walk_commit(s, w, v, st, d->wk, bpart, pod, best, out, seq);
        *got = rc == 0;
        d->pf[bpart] = part_free(s, st, ss_layout_node_lo(&s->lay, bpart),
                                 ss_layout_node_lo(&s->lay, bpart + 1));
    }
    if (rc == 0 && !*got) {
        rc = ss_rules_place(s, w, v, st, 0, &pod, 1, out, seq, got);
        int32_t node = out->node[s->row_of_pod[pod]], q = node >= 0 ? part_of(s, node) : 0;
        if (rc == 0 && *got) {
            ss_rwalks_touch(s, w, v, st, d->wk, q, node);
            d->pf[q] =
                part_free(s, st, ss_layout_node_lo(&s->lay, q), ss_layout_node_lo(&s->lay, q + 1));
        }
    }
    return rc == SS_ENOMEM ? ss_error_set(&w->err, rc, "out of memory placing deferred pods") : rc;
}

/* The units deferred to after the rounds, in queue order: every process
 * holds every row now, rebuilds the whole state and the counts, and places
 * them identically (pods of gangs over the whole cluster, the others by
 * defer_one). */
static int deferred_pass(ss_sched_t *s, run_t *r, ss_state_t *st, ss_rview_t *v, int64_t *key2,
                         int32_t *seqp, ss_error_t *err)
{
    const ss_cluster_t *c = s->c;
    ss_placements_t *out = r->out;
    ss_work_t w;
    dparts_t d = {0};
    if (work_init(s, &w, 0) < 0 || dparts_init(s, st, v, &d) < 0) {
        work_free(&w);
        dparts_free(&d);
        return ss_error_set(err, SS_ENOMEM, "out of memory placing deferred pods");
    }
    w.lo = 0;
    w.hi = c->n_nodes;
    int32_t seq = *seqp;
    int rc = 0;
    for (int32_t i = 0; i < r->n_items && rc == 0; i++) {
        item_t *it = &r->it[i];
        if (it->state != IT_DEFER)
            continue;
        const int32_t *pods = r->order + it->begin;
        int32_t total = 0, stop = 0;
        s->stats.deferred += it->count;
        ss_rwalks_reset(d.wk);
        for (int32_t j = 0; j < it->count && rc == 0; j++) {
            int32_t got = 0, row = s->row_of_pod[pods[j]];
            if (stop && it->group < 0) { /* a run of one pair failed: the rest too */
                out->reason[row] = out->reason[s->row_of_pod[pods[j - 1]]];
                continue;
            }
            if (it->group < 0)
                rc = defer_one(s, it, &w, st, v, &d, pods[j], out, &seq, &got);
            else
                rc = ss_rules_place(s, &w, v, st, 0, pods + j, 1, out, &seq, &got);
            if (rc < 0)
                *err = w.err;
            total += got;
            if (got)
                key2[row] = out->seq[row];
            else if (j + 1 < it->count &&
                     ss_rules_pair_of(r->rules, pods[j + 1]) == ss_rules_pair_of(r->rules, pods[j]))
                stop = 1;
            else
                stop = 0;
        }
        int sub = rc == 0 && it->group >= 0 && total >= c->group_min_member[it->group]
                      ? ss_subgroups_ok(c, pods, it->count, out, s->row_of_pod, s->sub_running)
                      : 1;
        if (sub < 0)
            rc = ss_error_set(err, SS_ENOMEM, "out of memory checking sub-groups");
        if (rc == 0 && it->group >= 0 && (total < c->group_min_member[it->group] || !sub)) {
            for (int32_t j = 0; j < it->count && rc == 0; j++) {
                int32_t row = s->row_of_pod[pods[j]];
                if (out->node[row] >= 0) {
                    ss_state_apply(st, &c->templates[c->pod_template[pods[j]]], out->node[row],
                                   out->gpu_mask[row], -1);
                    rc = ss_rview_add(v, pods[j], out->node[row], -1);
                    out->node[row] = -1;
                    out->gpu_mask[row] = 0;
                    key2[row] = -1;
                }
                out->reason[row] = SS_REASON_GANG;
            }
            if (rc < 0)
                rc = ss_error_set(err, SS_ENOMEM, "out of memory placing deferred pods");
        }
    }
    work_free(&w);
    dparts_free(&d);
    *seqp = seq;
    return rc;
}

/* The parallel reader gives each process the capacity of its own nodes
 * only; the deferred pass and preemption need every node's. One gather of
 * (cpu, memory, pods, extended) per node and milli-GPU per GPU, in process
 * order, fills the rest in (the values the file holds). */
#define CAP_WORDS (3 + SS_MAX_EXT)
static int fill_capacity(ss_sched_t *s, const ss_sched_comm_t *comm, ss_error_t *err)
{
    ss_cluster_t *c = (ss_cluster_t *)s->c; /* only other ranks' unread columns change */
    int32_t lo = s->node_lo, hi = s->node_hi;
    int32_t glo = lo < c->n_nodes ? c->node_gpu_begin[lo] : c->n_gpus, ghi = glo;
    for (int32_t n = lo; n < hi; n++)
        ghi = c->node_gpu_begin[n] + c->node_gpu_count[n];
    int32_t nn = hi - lo, ng = ghi > glo ? ghi - glo : 0;
    int64_t *rec = malloc(((size_t)nn * CAP_WORDS + (size_t)ng + 4) * sizeof *rec);
    int64_t fail_rec[4] = {-1, 0, 0, 0};
    int rc = rec ? 0 : ss_error_set(err, SS_ENOMEM, "out of memory exchanging capacities");
    int32_t m = 0;
    if (rc == 0) {
        rec[m++] = lo;
        rec[m++] = nn;
        rec[m++] = glo;
        rec[m++] = ng;
        for (int32_t n = lo; n < hi; n++) {
            rec[m++] = c->node_cpu[n];
            rec[m++] = c->node_mem[n];
            rec[m++] = c->node_pods[n];
            for (int k = 0; k < SS_MAX_EXT; k++)
                rec[m++] = c->node_ext[(size_t)n * SS_MAX_EXT + k];
        }
        for (int32_t g = glo; g < glo + ng; g++)
            rec[m++] = c->gpu_milli[g];
    }
    int64_t *all = NULL;
    int32_t n_all = 0;
    int grc =
        comm->gather_i64(comm->ctx, rc < 0 ? fail_rec : rec, rc < 0 ? 4 : m, &all, &n_all, err);
    s->stats.collectives += 2;
    for (int32_t i = 0; rc == 0 && grc == 0 && i + 4 <= n_all;) {
        int64_t xlo = all[i], xn = all[i + 1], xg = all[i + 2], xng = all[i + 3];
        if (xlo < 0) {
            grc = ss_error_set(err, SS_EPEER, "another rank failed exchanging capacities");
            break;
        }
        i += 4;
        if (xn < 0 || xlo + xn > c->n_nodes || xg < 0 || xg + xng > c->n_gpus ||
            i + xn * CAP_WORDS + xng > n_all) {
            grc = ss_error_set(err, SS_EINVAL, "malformed capacity record");
            break;
        }
        for (int64_t n = xlo; n < xlo + xn; n++) {
            c->node_cpu[n] = all[i++];
            c->node_mem[n] = all[i++];
            c->node_pods[n] = (int32_t)all[i++];
            for (int k = 0; k < SS_MAX_EXT; k++)
                c->node_ext[(size_t)n * SS_MAX_EXT + k] = all[i++];
        }
        for (int64_t g = xg; g < xg + xng; g++)
            c->gpu_milli[g] = (int32_t)all[i++];
    }
    free(rec);
    return rc < 0 ? rc : grc;
}

static int rules_tail(ss_sched_t *s, run_t *r, const ss_sched_comm_t *comm, ss_error_t *err)
{
    const ss_cluster_t *c = s->c;
    ss_placements_t *out = r->out;
    int32_t n_defer = 0;
    for (int32_t i = 0; r->rules && i < r->n_items; i++) {
        item_t *it = &r->it[i];
        /* A partition sees other partitions' domains as they were at the
         * start, which makes its spread minimum too low: a unit refused for
         * spread everywhere is tried again with the exact counts. */
        if (it->state == IT_DONE && it->group < 0 && s->lay.n_parts > 1 &&
            ss_rules_pair_kind(r->rules, r->order[it->begin]) == SS_PAIR_LOCAL &&
            out->reason[s->row_of_pod[r->order[it->begin]]] == SS_REASON_SPREAD)
            it->state = IT_DEFER;
        n_defer += it->state == IT_DEFER;
    }
    /* Preemption: units with pods still unplaced whose priority is above
     * some running pod's. */
    int32_t low = INT32_MAX, n_try = 0;
    for (int32_t p = 0; p < c->n_pods; p++)
        if (c->pod_node[p] >= 0 && c->pod_priority[p] < low)
            low = c->pod_priority[p];
    ss_unit_t *units = malloc(((size_t)r->n_items + 1) * sizeof *units);
    if (!units)
        return ss_error_set(err, SS_ENOMEM, "out of memory preempting");
    for (int32_t i = 0; s->opts.preemption && r->rules && i < r->n_items; i++) {
        const item_t *it = &r->it[i];
        if (it->state == IT_FINAL || it->state == IT_PLACED)
            continue;
        if (out->node[s->row_of_pod[r->order[it->begin + it->count - 1]]] < 0)
            n_try++; /* a unit to try again (it may preempt, or fit now) */
    }
    int64_t *key2 = NULL;
    int32_t seq2 = 0;
    int rc = 0;
    if ((n_defer > 0 || n_try > 0) && comm && comm->size > 1)
        rc = fill_capacity(s, comm, err); /* entered by all: the condition is global */
    if (rc == 0 && (n_defer > 0 || n_try > 0)) {
        key2 = malloc(((size_t)out->n + 1) * sizeof *key2);
        ss_state_t *st = ss_state_create(c);
        ss_rview_t *v = ss_rview_create(r->rules);
        if (!key2 || !st || !v)
            rc = ss_error_set(err, SS_ENOMEM, "out of memory placing deferred pods");
        for (int32_t row = 0; row < out->n && rc == 0; row++) {
            key2[row] = -1;
            if (out->node[row] < 0)
                continue;
            int32_t pod = out->pod[row];
            ss_state_apply(st, &c->templates[c->pod_template[pod]], out->node[row],
                           out->gpu_mask[row], +1);
            if (ss_rview_add(v, pod, out->node[row], +1) < 0)
                rc = ss_error_set(err, SS_ENOMEM, "out of memory placing deferred pods");
        }
        double td = omp_get_wtime();
        if (rc == 0)
            rc = deferred_pass(s, r, st, v, key2, &seq2, err);
        s->stats.deferred_s += omp_get_wtime() - td;
        /* The deferred pass may have left more pods unplaced. */
        n_try = 0;
        for (int32_t i = 0; rc == 0 && s->opts.preemption && i < r->n_items; i++) {
            const item_t *it = &r->it[i];
            if (it->state == IT_FINAL || it->state == IT_PLACED)
                continue;
            int unplaced = 0;
            for (int32_t j = 0; j < it->count && !unplaced; j++)
                unplaced = out->node[s->row_of_pod[r->order[it->begin + j]]] < 0;
            if (unplaced && it->group >= 0 &&
                c->group_topo_mode[it->group] == SS_TOPO_MODE_REQUIRED)
                continue; /* a required domain is not searched by preemption */
            if (unplaced)
                units[n_try++] = (ss_unit_t){it->begin, it->count, it->group};
        }
        double tp = omp_get_wtime();
        if (rc == 0 && n_try > 0)
            rc = ss_preempt_run(s, v, st, r->order, units, n_try, out, key2, &seq2, err);
        s->stats.preempt_s += omp_get_wtime() - tp;
        ss_rview_destroy(v);
        ss_state_destroy(st);
    }
    if (rc == 0 && renumber(s, out, key2) < 0)
        rc = ss_error_set(err, SS_ENOMEM, "out of memory numbering placements");
    free(key2);
    free(units);
    return rc;
}

/* Agrees on rc over comm (one sum of a failure flag): SS_EPEER where
 * another process failed. */
static int agree(ss_sched_t *s, const ss_sched_comm_t *comm, int rc, const char *what,
                 ss_error_t *err)
{
    if (!comm)
        return rc;
    int64_t failed = rc < 0;
    ss_error_t e;
    int mrc = comm->sum(comm->ctx, &failed, 1, &e);
    s->stats.collectives++;
    if (rc < 0)
        return rc;
    if (mrc < 0) {
        *err = e;
        return mrc;
    }
    return failed > 0 ? ss_error_set(err, SS_EPEER, "%s: another rank failed", what) : 0;
}

int ss_sched_run(ss_sched_t *s, const int32_t *order, const ss_unit_t *units, int32_t n_units,
                 const ss_sched_comm_t *comm, ss_placements_t *out, ss_error_t *err)
{
    const ss_cluster_t *c = s->c;
    int32_t pending = 0;
    for (int32_t p = 0; p < c->n_pods; p++)
        if (c->pod_node[p] < 0) {
            if (pending < out->n)
                out->pod[pending] = p;
            pending++;
        }
    if (pending != out->n)
        return ss_error_set(err, SS_EINVAL, "placements have %d rows for %d pending pods", out->n,
                            pending);
    for (int32_t r = 0; r < out->n; r++) {
        out->node[r] = -1;
        out->gpu_mask[r] = 0;
        out->reason[r] = SS_REASON_NO_NODES;
        out->seq[r] = -1;
    }
    memset(&s->stats, 0, sizeof s->stats);
    double t0 = omp_get_wtime();
    run_t r = {0};
    int rc = run_setup(s, &r, order, units, n_units, out, err);
    rc = agree(s, comm, rc, "starting the run", err); /* every process starts, or none */
    if (rc == 0)
        rc = prepare_templates(s, &r, comm, err); /* one gather, entered by all */
    if (rc == 0)
        rc = assign_homes(s, &r, err);
    rc = agree(s, comm, rc, "assigning partitions", err);
    /* Every process runs the same rounds: the stop rule reads only
     * gathered data. */
    double t1 = omp_get_wtime();
    s->stats.setup_s = t1 - t0;
    for (int round = 0; rc == 0 && r.n_active > 0 && round < r.P; round++) {
        rc = round_run(s, &r, comm, err);
        if (rc == 0)
            s->stats.spilled += route(s, &r) * (round == 0);
        s->stats.rounds++;
        ss_progress_tick(s->progress, n_units - r.n_active, n_units);
    }
    double t2 = omp_get_wtime();
    /* Pod groups no single partition could hold, in queue order. */
    int32_t n_cand = 0;
    for (int32_t i = 0; rc == 0 && r.P > 1 && i < r.n_items; i++)
        if (r.it[i].state == IT_DONE && r.it[i].group >= 0)
            r.active[n_cand++] = i; /* the rounds are over: active is free */
    if (rc == 0 && n_cand > 0)
        rc = across_precheck(s, &r, comm, r.active, &n_cand, err);
    for (int32_t i = 0; rc == 0 && i < n_cand; i++) {
        s->stats.across++;
        rc = place_across(s, &r, comm, &r.it[r.active[i]], err);
        if (rc == 0 && note_placed(s, &r, &r.it[r.active[i]]) < 0)
            rc = ss_error_set(err, SS_ENOMEM, "out of memory counting placed pods");
    }
    double t3 = omp_get_wtime();
    s->stats.across_s = t3 - t2;
    rc = finish(s, &r, comm, rc, err);
    double t4 = omp_get_wtime();
    s->stats.finish_s = t4 - t3;
    if (rc == 0)
        rc = rules_tail(s, &r, comm, err); /* the same on every process */
    s->stats.rules_s += omp_get_wtime() - t4;
    run_free(&r);
    return rc;
}
