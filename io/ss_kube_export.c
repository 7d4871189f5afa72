/* ss_kube_export: a cluster as kubectl-style v1 Lists (Nodes; Pods,
 * PodGroups, PriorityClasses, PodDisruptionBudgets and Namespaces), so that
 * `gen --emit-kube` can make large realistic inputs for the importer and
 * import(export(c)) round-trips, inter-pod rules included (spread
 * constraints, pod (anti-)affinity terms, owners, start times, preemption
 * policies). Objects are built one at a time and streamed, so 10,000 nodes
 * and a million pods need no big tree. Rules the engine does not implement
 * are written as fields that import maps back to the same `unsupported`
 * bits. MIG nodes are written as the NVIDIA GPU operator shows them with
 * the mixed strategy, and MIG requests as nvidia.com/mig-<profile>
 * (docs/mig.md "gen and export"); ss_kube_export_mig_config writes the
 * mig-parted entries their nvidia.com/mig.config labels name. Pod groups
 * are written in the gang dialect the options name (io/ss_kube_export_gangs.c). */
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ss_atomic.h"
#include "ss_kube_export_gangs.h"
#include "ss_kube_export_mig.h"
#include "ss_kube_import.h"
#include "ss_mig.h"
#include "ss_quantity.h"

#define MIG_CONFIG_LABEL "nvidia.com/mig.config"

static const char *S(const ss_cluster_t *c, int32_t id)
{
    return ss_cluster_strget(c, id);
}

static void put_qty(json_t *o, const char *k, int64_t v, int scale, int binary)
{
    char buf[32];
    json_object_set_new(o, k, json_string(ss_quantity_format(v, scale, binary, buf)));
}

/* The GPU operator's view of a MIG node (mixed strategy): capacity and
 * allocatable nvidia.com/mig-<profile> counts, nvidia.com/gpu the GPUs not
 * in MIG mode; labels nvidia.com/gpu.count (all GPUs), the entry in
 * nvidia.com/mig.config, applied (mig.config.state success). */
static void mig_node_json(const ss_cluster_t *c, const kexp_mig_node_t *x, json_t *labels,
                          json_t *alloc)
{
    const ss_mig_model_t *m = ss_mig_model(x->model);
    char buf[96];
    put_qty(alloc, SS_KUBE_GPU, x->n - x->n_mig, 0, 0);
    for (int p = 0; p < m->n_profiles; p++)
        if (x->total[p])
            put_qty(alloc, kexp_mig_res(m->profiles[p].name, buf, sizeof buf), x->total[p], 0, 0);
    snprintf(buf, sizeof buf, "%d", (int)x->n);
    json_object_set_new(labels, "nvidia.com/gpu.count", json_string(buf));
    json_object_set_new(labels, MIG_CONFIG_LABEL, json_string(x->name));
    json_object_set_new(labels, "nvidia.com/mig.config.state", json_string("success"));
    json_object_set_new(labels, "nvidia.com/mig.strategy", json_string("mixed"));
    (void)c;
}

static json_t *node_object(const ss_cluster_t *c, const void *ctx, int32_t n)
{
    (void)ctx;
    json_t *labels = json_object(), *alloc = json_object(), *taints = json_array();
    for (int32_t i = 0; i < c->node_label_count[n]; i++) {
        const ss_label_t *l = &c->labels[c->node_label_begin[n] + i];
        json_object_set_new(labels, S(c, l->key), json_string(S(c, l->value)));
    }
    for (int l = 0; l + 1 < c->n_levels; l++) {
        int32_t v = c->node_topo[n * SS_TOPO_STRIDE + l];
        const char *key = kexp_level_key(c, l);
        if (v > 0 && !json_object_get(labels, key))
            json_object_set_new(labels, key, json_string(S(c, v)));
    }
    json_object_set_new(labels, SS_KUBE_HOSTNAME_LABEL, json_string(S(c, c->node_name[n])));
    int32_t ng = c->node_gpu_count[n];
    if (ng > 0 && !json_object_get(labels, SS_KUBE_GPU_PRODUCT_LABEL))
        json_object_set_new(labels, SS_KUBE_GPU_PRODUCT_LABEL,
                            json_string(S(c, c->gpu_model[c->node_gpu_begin[n]])));
    put_qty(alloc, "cpu", c->node_cpu[n], SS_QTY_MILLI, 0);
    put_qty(alloc, "memory", c->node_mem[n], 0, 1);
    put_qty(alloc, "pods", c->node_pods[n], 0, 0);
    kexp_mig_node_t *mig = ng > 0 ? malloc(sizeof *mig) : NULL;
    bool is_mig = mig && kexp_mig_node(c, n, mig);
    if (is_mig)
        mig_node_json(c, mig, labels, alloc);
    else if (ng > 0)
        put_qty(alloc, SS_KUBE_GPU, ng, 0, 0);
    free(mig);
    for (int e = 0; e < c->n_ext; e++)
        put_qty(alloc, S(c, c->ext_name[e]), c->node_ext[(size_t)n * SS_MAX_EXT + e], 0, 0);
    static const char *effects[] = {"", "NoSchedule", "PreferNoSchedule", "NoExecute"};
    for (int32_t i = 0; i < c->node_taint_count[n]; i++) {
        const ss_taint_t *t = &c->taints[c->node_taint_begin[n] + i];
        json_t *o = json_pack("{s:s, s:s}", "key", S(c, t->key), "effect", effects[t->effect & 3]);
        if (t->value > 0)
            json_object_set_new(o, "value", json_string(S(c, t->value)));
        json_array_append_new(taints, o);
    }
    json_t *spec = json_object();
    if (json_array_size(taints))
        json_object_set(spec, "taints", taints);
    if (c->node_unsched[n])
        json_object_set_new(spec, "unschedulable", json_true());
    json_decref(taints);
    json_t *status = json_object();
    if (is_mig) /* the operator's nodes show both; import reads allocatable */
        json_object_set_new(status, "capacity", json_deep_copy(alloc));
    json_object_set_new(status, "allocatable", alloc);
    return json_pack("{s:s, s:s, s:{s:s, s:o}, s:o, s:o}", "apiVersion", "v1", "kind", "Node",
                     "metadata", "name", S(c, c->node_name[n]), "labels", labels, "spec", spec,
                     "status", status);
}

static json_t *terms_json(const ss_cluster_t *c, int32_t begin, int32_t count, bool preferred)
{
    static const char *ops[SS_OP_COUNT] = {"In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt"};
    json_t *arr = json_array();
    for (int32_t t = begin; t < begin + count; t++) {
        json_t *exprs = json_array(), *fields = json_array(), *term = json_object();
        for (int32_t e = 0; e < c->terms[t].expr_count; e++) {
            const ss_expr_t *x = &c->exprs[c->terms[t].expr_begin + e];
            json_t *vals = json_array();
            for (int32_t v = 0; v < x->val_count; v++)
                json_array_append_new(vals, json_string(S(c, c->expr_values[x->val_begin + v])));
            json_t *o = json_pack("{s:s, s:s}", "key", x->is_field ? "metadata.name" : S(c, x->key),
                                  "operator", ops[x->op]);
            if (x->val_count || x->op <= SS_OP_NOT_IN || x->op >= SS_OP_GT)
                json_object_set(o, "values", vals);
            json_decref(vals);
            json_array_append_new(x->is_field ? fields : exprs, o);
        }
        json_object_set_new(term, "matchExpressions", exprs);
        if (json_array_size(fields))
            json_object_set(term, "matchFields", fields);
        json_decref(fields);
        json_array_append_new(arr, preferred ? json_pack("{s:i, s:o}", "weight", c->terms[t].weight,
                                                         "preference", term)
                                             : term);
    }
    return arr;
}

/* A label selector as matchExpressions; NULL for a null selector. */
static json_t *selector_json(const ss_cluster_t *c, const ss_selector_t *s)
{
    static const char *ops[4] = {"In", "NotIn", "Exists", "DoesNotExist"};
    if (s->null)
        return NULL;
    json_t *sel = json_object(), *exprs = json_array();
    for (int32_t e = 0; e < s->count; e++) {
        const ss_expr_t *x = &c->exprs[s->begin + e];
        json_t *o = json_pack("{s:s, s:s}", "key", S(c, x->key), "operator", ops[x->op & 3]);
        if (x->op == SS_OP_IN || x->op == SS_OP_NOT_IN) {
            json_t *vals = json_array();
            for (int32_t v = 0; v < x->val_count; v++)
                json_array_append_new(vals, json_string(S(c, c->expr_values[x->val_begin + v])));
            json_object_set_new(o, "values", vals);
        }
        json_array_append_new(exprs, o);
    }
    if (json_array_size(exprs))
        json_object_set(sel, "matchExpressions", exprs);
    json_decref(exprs);
    return sel;
}

static json_t *pod_term_json(const ss_cluster_t *c, const ss_podterm_t *t)
{
    json_t *o = json_pack("{s:s}", "topologyKey", S(c, t->key)), *sel = selector_json(c, &t->sel);
    if (sel)
        json_object_set_new(o, "labelSelector", sel);
    if (t->ns_count) {
        json_t *ns = json_array();
        for (int32_t i = 0; i < t->ns_count; i++)
            json_array_append_new(ns, json_string(S(c, c->expr_values[t->ns_begin + i])));
        json_object_set_new(o, "namespaces", ns);
    }
    if ((sel = selector_json(c, &t->ns_sel)))
        json_object_set_new(o, "namespaceSelector", sel);
    return t->weight ? json_pack("{s:i, s:o}", "weight", t->weight, "podAffinityTerm", o) : o;
}

/* podAffinity / podAntiAffinity: required and preferred terms in the
 * template's order within each list (import reads required, then
 * preferred, affinity before anti-affinity). */
static void pod_terms_json(const ss_cluster_t *c, const ss_template_t *t, json_t *aff)
{
    static const char *names[2] = {"podAffinity", "podAntiAffinity"};
    for (int kind = 0; kind < 2; kind++) {
        json_t *req = json_array(), *pref = json_array(), *o = json_object();
        for (int32_t i = 0; i < t->pterm_count; i++) {
            const ss_podterm_t *x = &c->pterms[t->pterm_begin + i];
            if (x->kind == kind)
                json_array_append_new(x->weight ? pref : req, pod_term_json(c, x));
        }
        if (json_array_size(req))
            json_object_set(o, "requiredDuringSchedulingIgnoredDuringExecution", req);
        if (json_array_size(pref))
            json_object_set(o, "preferredDuringSchedulingIgnoredDuringExecution", pref);
        if (json_object_size(o))
            json_object_set(aff, names[kind], o);
        json_decref(req);
        json_decref(pref);
        json_decref(o);
    }
}

static json_t *spreads_json(const ss_cluster_t *c, const ss_template_t *t)
{
    json_t *arr = json_array();
    for (int32_t i = 0; i < t->spread_count; i++) {
        const ss_spread_t *x = &c->spreads[t->spread_begin + i];
        json_t *o =
            json_pack("{s:i, s:s, s:s}", "maxSkew", x->max_skew, "topologyKey", S(c, x->key),
                      "whenUnsatisfiable",
                      x->when == SS_WHEN_SCHEDULE_ANYWAY ? "ScheduleAnyway" : "DoNotSchedule");
        json_t *sel = selector_json(c, &x->sel);
        if (sel)
            json_object_set_new(o, "labelSelector", sel);
        if (x->min_domains > 1 && x->when == SS_WHEN_DO_NOT_SCHEDULE)
            json_object_set_new(o, "minDomains", json_integer(x->min_domains));
        if (x->node_affinity_policy != SS_INCL_HONOR)
            json_object_set_new(o, "nodeAffinityPolicy", json_string("Ignore"));
        if (x->node_taints_policy != SS_INCL_IGNORE)
            json_object_set_new(o, "nodeTaintsPolicy", json_string("Honor"));
        json_array_append_new(arr, o);
    }
    return arr;
}

static json_t *affinity_json(const ss_cluster_t *c, const ss_template_t *t)
{
    json_t *na = json_object(), *req = terms_json(c, t->req_begin, t->req_count, false);
    if (t->model_count > 0) { /* GPU models: nvidia.com/gpu.product In (...) in every term */
        json_t *vals = json_array();
        for (int32_t m = 0; m < t->model_count; m++)
            json_array_append_new(vals, json_string(S(c, c->models[t->model_begin + m])));
        if (json_array_size(req) == 0)
            json_array_append_new(req, json_pack("{s:[]}", "matchExpressions"));
        size_t i;
        json_t *term;
        json_array_foreach(req, i, term)
            json_array_append_new(json_object_get(term, "matchExpressions"),
                                  json_pack("{s:s, s:s, s:O}", "key", SS_KUBE_GPU_PRODUCT_LABEL,
                                            "operator", "In", "values", vals));
        json_decref(vals);
    }
    if (json_array_size(req))
        json_object_set_new(na, "requiredDuringSchedulingIgnoredDuringExecution",
                            json_pack("{s:O}", "nodeSelectorTerms", req));
    json_decref(req);
    if (t->pref_count)
        json_object_set_new(na, "preferredDuringSchedulingIgnoredDuringExecution",
                            terms_json(c, t->pref_begin, t->pref_count, true));
    json_t *aff = json_object();
    if (json_object_size(na))
        json_object_set(aff, "nodeAffinity", na);
    json_decref(na);
    pod_terms_json(c, t, aff);
    return aff;
}

/* The class the export options name for priority value v, or NULL. */
static const ss_kube_priority_class_t *class_of(const ss_kube_export_opts_t *o, int32_t v)
{
    for (int32_t i = 0; o && i < o->n_classes; i++)
        if (o->classes[i].value == v)
            return &o->classes[i];
    return NULL;
}

static json_t *pod_spec(const ss_cluster_t *c, const ss_kube_export_opts_t *eo, int32_t p)
{
    const ss_template_t *t = &c->templates[c->pod_template[p]];
    const ss_kube_priority_class_t *pc = class_of(eo, c->pod_priority[p]);
    json_t *req = json_object(), *spec = json_object(), *sel = json_object(), *tols = json_array();
    put_qty(req, "cpu", t->req.cpu_milli, SS_QTY_MILLI, 0);
    put_qty(req, "memory", t->req.memory, 0, 1);
    if (t->req.gpu_count > 0 && t->req.gpu_milli == SS_GPU_MILLI)
        put_qty(req, SS_KUBE_GPU, t->req.gpu_count, 0, 0);
    for (int e = 0; e < c->n_ext; e++)
        if (t->req.ext[e])
            put_qty(req, S(c, c->ext_name[e]), t->req.ext[e], 0, 0);
    json_t *lim = NULL;
    if (t->mig_count > 0) { /* an extended resource: limits equal to requests */
        char buf[96];
        kexp_mig_res(S(c, t->mig_profile), buf, sizeof buf);
        put_qty(req, buf, t->mig_count, 0, 0);
        lim = json_object();
        put_qty(lim, buf, t->mig_count, 0, 0);
    }
    json_object_set_new(spec, "schedulerName", json_string(SS_KUBE_DEFAULT_SCHEDULER));
    json_object_set_new(spec, "priority", json_integer(c->pod_priority[p]));
    if (pc)
        json_object_set_new(spec, "priorityClassName", json_string(pc->name));
    if ((t->flags & SS_TF_PREEMPT_NEVER) || (pc && pc->preempt_never))
        json_object_set_new(
            spec, "preemptionPolicy",
            json_string(t->flags & SS_TF_PREEMPT_NEVER ? "Never" : "PreemptLowerPriority"));
    if (c->pod_node[p] >= 0)
        json_object_set_new(spec, "nodeName", json_string(S(c, c->node_name[c->pod_node[p]])));
    json_t *res = json_pack("{s:o}", "requests", req);
    if (lim)
        json_object_set_new(res, "limits", lim);
    json_object_set_new(spec, "containers",
                        json_pack("[{s:s, s:o}]", "name", "main", "resources", res));
    for (int32_t i = 0; i < t->sel_count; i++)
        json_object_set_new(sel, S(c, c->labels[t->sel_begin + i].key),
                            json_string(S(c, c->labels[t->sel_begin + i].value)));
    if (json_object_size(sel))
        json_object_set(spec, "nodeSelector", sel);
    json_decref(sel);
    json_t *aff = affinity_json(c, t);
    if (json_object_size(aff))
        json_object_set(spec, "affinity", aff);
    json_decref(aff);
    static const char *effects[] = {"", "NoSchedule", "PreferNoSchedule", "NoExecute"};
    for (int32_t i = 0; i < t->tol_count; i++) {
        const ss_toleration_t *x = &c->tolerations[t->tol_begin + i];
        json_t *o = json_pack("{s:s}", "operator", x->op == SS_TOL_EXISTS ? "Exists" : "Equal");
        if (x->key > 0)
            json_object_set_new(o, "key", json_string(S(c, x->key)));
        if (x->value > 0)
            json_object_set_new(o, "value", json_string(S(c, x->value)));
        if (x->effect > 0)
            json_object_set_new(o, "effect", json_string(effects[x->effect & 3]));
        json_array_append_new(tols, o);
    }
    if (json_array_size(tols))
        json_object_set(spec, "tolerations", tols);
    json_decref(tols);
    json_t *sp = spreads_json(c, t);
    if (json_array_size(sp))
        json_object_set(spec, "topologySpreadConstraints", sp);
    json_decref(sp);
    /* Each unsupported bit as a field the importer maps back to it. */
    if (t->unsupported & SS_RULE_OTHER)
        json_object_set_new(spec, "resourceClaims",
                            json_pack("[{s:s}]", "name", "shardsched-unsupported"));
    if (t->unsupported & SS_RULE_SCHEDULING_GATES)
        json_object_set_new(spec, "schedulingGates",
                            json_pack("[{s:s}]", "name", "shardsched.io/unsupported"));
    if (t->unsupported & SS_RULE_WORKLOAD_REF)
        json_object_set_new(
            spec, "workloadRef",
            json_pack("{s:s, s:s}", "name", "shardsched-unsupported", "podGroup", "unsupported"));
    if (t->unsupported & SS_RULE_SCHEDULING_GROUP)
        json_object_set_new(spec, "schedulingGroup",
                            json_pack("{s:s}", "podGroupName", "shardsched-unsupported"));
    return spec;
}

static json_t *pod_object(const ss_cluster_t *c, const void *ctx, int32_t p)
{
    const ss_template_t *t = &c->templates[c->pod_template[p]];
    json_t *labels = json_object(), *md = json_object();
    for (int32_t i = 0; i < t->plabel_count; i++)
        json_object_set_new(labels, S(c, c->labels[t->plabel_begin + i].key),
                            json_string(S(c, c->labels[t->plabel_begin + i].value)));
    json_t *ann = json_object();
    const ss_kube_export_opts_t *eo = ctx;
    int dialect = eo ? eo->gang_dialect : SS_KUBE_DIALECT_DEFAULT;
    kexp_gang_pod_meta(c, dialect, p, labels, ann);
    json_object_set_new(md, "name", json_string(S(c, c->pod_name[p])));
    json_object_set_new(md, "namespace", json_string(S(c, c->pod_ns[p])));
    json_object_set_new(md, "labels", labels);
    const char *w = S(c, t->workload), *slash = strchr(w, '/');
    if (*w && slash) {
        /* A DaemonSet must come back as one (its pods get no default spreading). */
        bool ds = (t->flags & SS_TF_DAEMONSET) != 0;
        json_t *ref = ds ? json_pack("{s:s, s:s, s:s}", "apiVersion", "apps/v1", "kind",
                                     "DaemonSet", "name", slash + 1)
                         : json_pack("{s:s, s:s#, s:s}", "apiVersion", "v1", "kind", w,
                                     (int)(slash - w), "name", slash + 1);
        if (t->flags & SS_TF_CONTROLLER)
            json_object_set_new(ref, "controller", json_true());
        json_object_set_new(md, "ownerReferences", json_pack("[o]", ref));
    }
    if (t->unsupported & SS_RULE_POD_GROUP)
        json_object_set_new(ann, "pod-group.scheduling.run.ai/name", /* a gang key not read */
                            json_string("shardsched-unsupported"));
    if (t->unsupported & SS_RULE_TOPOLOGY)
        json_object_set_new(ann, "kai.scheduler/topology", json_string("shardsched-unsupported"));
    if (t->req.gpu_count > 0 && t->req.gpu_milli < SS_GPU_MILLI) {
        char buf[32];
        json_object_set_new(ann, SS_KUBE_ALI_GPU_MILLI,
                            json_string(ss_quantity_format(t->req.gpu_milli, 0, 0, buf)));
        json_object_set_new(ann, SS_KUBE_ALI_GPU_COUNT, json_string("1"));
    }
    /* the eviction facts (format version 5), as import reads them */
    if (t->flags & SS_TF_MIRROR)
        json_object_set_new(ann, "kubernetes.io/config.mirror", json_string("shardsched"));
    if (t->flags & (SS_TF_SAFE_TO_EVICT | SS_TF_NOT_SAFE_EVICT))
        json_object_set_new(ann, "cluster-autoscaler.kubernetes.io/safe-to-evict",
                            json_string(t->flags & SS_TF_SAFE_TO_EVICT ? "true" : "false"));
    if (t->flags & SS_TF_DO_NOT_DISRUPT)
        json_object_set_new(ann, "karpenter.sh/do-not-disrupt", json_string("true"));
    if (json_object_size(ann))
        json_object_set(md, "annotations", ann);
    json_decref(ann);
    json_t *spec = pod_spec(c, ctx, p), *vols = json_array();
    if (spec)
        kexp_gang_pod_spec(c, dialect, p, spec);
    if (t->flags & SS_TF_LOCAL_STORAGE)
        json_array_append_new(vols, json_pack("{s:s, s:{}}", "name", "scratch", "emptyDir"));
    if (t->flags & SS_TF_PVC)
        json_array_append_new(vols, json_pack("{s:s, s:{s:s}}", "name", "data",
                                              "persistentVolumeClaim", "claimName", "data"));
    if (spec && json_array_size(vols))
        json_object_set(spec, "volumes", vols);
    json_decref(vols);
    json_t *status = json_pack("{s:s}", "phase", c->pod_node[p] >= 0 ? "Running" : "Pending");
    if (c->pod_start && c->pod_start[p] != 0) {
        char buf[64];
        struct tm tm;
        time_t tt = (time_t)c->pod_start[p];
        if (gmtime_r(&tt, &tm) && strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm))
            json_object_set_new(status, "startTime", json_string(buf));
    }
    return json_pack("{s:s, s:s, s:o, s:o, s:o}", "apiVersion", "v1", "kind", "Pod", "metadata", md,
                     "spec", spec, "status", status);
}

/* A PodGroup lives in its members' namespace: importers look a pod's group
 * up as "<pod namespace>/<group>". A group name "ns/name" (as import makes)
 * names it; a bare name (as gen makes) takes the namespace of its first
 * member (group_ns[g], the string id; 0 if it has none: "default"). */
typedef struct {
    const int32_t *group_ns;
    int dialect; /* ss_kube_dialect_t */
} kexp_groups_t;

static json_t *group_object(const ss_cluster_t *c, const void *ctx, int32_t g)
{
    const kexp_groups_t *x = ctx;
    if (c->group_parent && c->group_parent[g] >= 0)
        return json_null(); /* a sub-group: no dialect written has them; its pods join the gang */
    const char *gn = S(c, c->group_name[g]), *slash = strchr(gn, '/');
    const char *ns = x->group_ns[g] > 0 ? S(c, x->group_ns[g]) : "default";
    return kexp_gang_object(c, x->dialect, g, slash ? gn : ns,
                            slash ? (int)(slash - gn) : (int)strlen(ns), slash ? slash + 1 : gn);
}

static json_t *class_object(const ss_cluster_t *c, const void *ctx, int32_t i)
{
    (void)c;
    const ss_kube_priority_class_t *pc = ctx;
    pc += i;
    json_t *o = json_pack("{s:s, s:s, s:{s:s}, s:i}", "apiVersion", "scheduling.k8s.io/v1", "kind",
                          "PriorityClass", "metadata", "name", pc->name, "value", pc->value);
    if (pc->global_default)
        json_object_set_new(o, "globalDefault", json_true());
    if (pc->preempt_never)
        json_object_set_new(o, "preemptionPolicy", json_string("Never"));
    return o;
}

static void put_int_or_pct(json_t *o, const char *k, int32_t v, int32_t pct)
{
    char buf[16];
    snprintf(buf, sizeof buf, "%d%%", (int)v);
    if (v >= 0)
        json_object_set_new(o, k, pct ? json_string(buf) : json_integer(v));
}

static json_t *pdb_object(const ss_cluster_t *c, const void *ctx, int32_t i)
{
    (void)ctx;
    const ss_pdb_t *b = &c->pdbs[i];
    json_t *spec = json_object(), *sel = selector_json(c, &b->sel);
    if (sel)
        json_object_set_new(spec, "selector", sel);
    put_int_or_pct(spec, "minAvailable", b->min_available, b->min_pct);
    put_int_or_pct(spec, "maxUnavailable", b->max_unavailable, b->max_pct);
    if (b->always_allow)
        json_object_set_new(spec, "unhealthyPodEvictionPolicy", json_string("AlwaysAllow"));
    json_t *o = json_pack("{s:s, s:s, s:{s:s, s:s}, s:o}", "apiVersion", "policy/v1", "kind",
                          "PodDisruptionBudget", "metadata", "name", S(c, b->name), "namespace",
                          S(c, b->ns), "spec", spec);
    if (b->allowed >= 0)
        json_object_set_new(o, "status", json_pack("{s:i}", "disruptionsAllowed", b->allowed));
    return o;
}

static json_t *namespace_object(const ss_cluster_t *c, const void *ctx, int32_t i)
{
    (void)ctx;
    json_t *labels = json_object();
    for (int32_t l = 0; l < c->ns_label_count[i]; l++) {
        const ss_label_t *x = &c->labels[c->ns_label_begin[i] + l];
        json_object_set_new(labels, S(c, x->key), json_string(S(c, x->value)));
    }
    return json_pack("{s:s, s:s, s:{s:s, s:o}}", "apiVersion", "v1", "kind", "Namespace",
                     "metadata", "name", S(c, c->ns_name[i]), "labels", labels);
}

typedef struct {
    json_t *(*make)(const ss_cluster_t *, const void *, int32_t);
    const void *ctx;
    int32_t n;
} ksection_t;

/* Streams a List: one object per line, the sections' objects in order. */
static int write_list(const ss_cluster_t *c, const char *path, const ksection_t *sec, int nsec,
                      ss_error_t *err)
{
    char tmp[4096];
    FILE *f = ss_atomic_fopen(path, tmp, sizeof tmp, err);
    if (!f)
        return SS_EIO;
    errno = 0;
    int bad = fprintf(f, "{\"apiVersion\": \"v1\", \"kind\": \"List\", \"items\": [") < 0;
    bool first = true;
    for (int s = 0; s < nsec; s++)
        for (int32_t i = 0; i < sec[s].n && !bad; i++) {
            json_t *o = sec[s].make(c, sec[s].ctx, i);
            if (o == json_null())
                continue; /* nothing to write for this row */
            char *txt = o ? json_dumps(o, JSON_COMPACT) : NULL;
            bad = !txt || fprintf(f, "%s\n  %s", first ? "" : ",", txt) < 0;
            first = false;
            free(txt);
            json_decref(o);
        }
    bad |= fprintf(f, "\n]}\n") < 0;
    int e = errno;
    int rc = bad ? ss_error_set(err, SS_EIO, "%s: writing Kubernetes JSON failed: %s", path,
                                e ? strerror(e) : "out of memory")
                 : 0;
    return ss_atomic_fclose(f, tmp, path, rc, err);
}

int ss_kube_export_cluster_opts(const ss_cluster_t *c, const char *nodes_json,
                                const char *pods_json, const ss_kube_export_opts_t *o,
                                ss_error_t *err)
{
    int32_t nc = o ? o->n_classes : 0;
    int32_t *group_ns = calloc((size_t)c->n_groups + 1, sizeof *group_ns);
    ss_kube_priority_class_t *used = calloc((size_t)nc + 1, sizeof *used);
    if (!group_ns || !used) {
        free(group_ns);
        free(used);
        return ss_error_set(err, SS_ENOMEM, "out of memory");
    }
    for (int32_t p = c->n_pods - 1; p >= 0; p--) /* backwards: the first member wins */
        if (c->pod_group[p] >= 0)
            group_ns[ss_cluster_gang_of(c, p)] = c->pod_ns[p];
    /* the classes of the priorities used (and a global default, which
     * applies to pods without a class) */
    int32_t nu = 0;
    for (int32_t i = 0; i < nc; i++) {
        bool in_use = o->classes[i].global_default;
        for (int32_t p = 0; p < c->n_pods && !in_use; p++)
            in_use = class_of(o, c->pod_priority[p]) == &o->classes[i];
        if (in_use)
            used[nu++] = o->classes[i];
    }
    const kexp_groups_t groups = {group_ns, o ? o->gang_dialect : SS_KUBE_DIALECT_DEFAULT};
    const ksection_t nodes[1] = {{node_object, NULL, c->n_nodes}};
    const ksection_t pods[5] = {
        {pod_object, o, c->n_pods},
        {group_object, &groups, kexp_gang_has_object(groups.dialect) ? c->n_groups : 0},
        {class_object, used, nu},
        {pdb_object, NULL, c->n_pdbs},
        {namespace_object, NULL, c->n_namespaces}};
    int rc = write_list(c, nodes_json, nodes, 1, err);
    if (rc == 0)
        rc = write_list(c, pods_json, pods, 5, err);
    free(group_ns);
    free(used);
    return rc;
}

int ss_kube_export_cluster(const ss_cluster_t *c, const char *nodes_json, const char *pods_json,
                           ss_error_t *err)
{
    return ss_kube_export_cluster_opts(c, nodes_json, pods_json, NULL, err);
}
