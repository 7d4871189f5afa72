/* ss_kube_pods: Pod objects into pod rows. Classifies each pod (running,
 * pending, terminal, another scheduler's, bound to an unknown node), computes
 * its effective request as Kubernetes does (resource/helpers.go PodRequests:
 * max(sum of containers + sidecars, largest init container + the sidecars
 * started before it) + overhead; limits stand in for absent requests), finds
 * the extended resources pods ask for, and adds the pods, giving running
 * ones the first free GPUs of their node. */
#include "ss_kube_internal.h"

#include <stdlib.h>
#include <string.h>

#include "ss_quantity.h"

int kube_classify_pods(kctx_t *k, ss_error_t *err)
{
    int rc = kube_index_node_names(k, err);
    if (rc < 0)
        return rc;
    k->pod_class = malloc(k->pods.n + 1);
    if (!k->pod_class)
        return ss_error_set(err, SS_ENOMEM, "out of memory");
    for (size_t p = 0; p < k->pods.n; p++) {
        json_t *o = k->pods.v[p].obj;
        const char *node = kstr(o, "spec", "nodeName", NULL);
        const char *phase = kstr(o, "status", "phase", NULL);
        const char *sched = kstr(o, "spec", "schedulerName", NULL);
        bool terminal = phase && (!strcmp(phase, "Succeeded") || !strcmp(phase, "Failed"));
        uint8_t cls;
        if (node && *node && kube_node_row(k, node) < 0) {
            cls = KPOD_UNKNOWN_NODE;
            int i = k->rep->unknown_node++;
            char nb[256];
            if (i < SS_KUBE_MAX_REPORTED)
                snprintf(k->rep->unknown_names[i], sizeof k->rep->unknown_names[i],
                         "%.80s -> %.70s", kname(o, nb), node);
        } else if (terminal) {
            cls = KPOD_TERMINAL;
            k->rep->terminal++;
        } else if (node && *node) {
            cls = KPOD_RUNNING;
            k->rep->running++;
        } else if (strcmp(sched && *sched ? sched : SS_KUBE_DEFAULT_SCHEDULER,
                          k->o->scheduler_name)) {
            cls = KPOD_OTHER_SCHED;
            k->rep->other_scheduler++;
        } else {
            cls = KPOD_PENDING;
            k->rep->pending++;
        }
        k->pod_class[p] = cls;
    }
    return 0;
}

/* Slot of a resource name in a krvec_t, interning other names; -1 when
 * there are too many different names. */
static int res_slot(kctx_t *k, const char *name, int *scale)
{
    *scale = 0;
    if (!strcmp(name, "cpu")) {
        *scale = SS_QTY_MILLI;
        return KRES_CPU;
    }
    if (!strcmp(name, "memory"))
        return KRES_MEM;
    if (!strcmp(name, SS_KUBE_GPU))
        return KRES_GPU;
    int32_t id = ss_strtab_intern(k->resnames, name);
    if (id < 1 || KRES_FIRST_OTHER + id - 1 >= KRES_MAX)
        return -1;
    return KRES_FIRST_OTHER + id - 1;
}

/* Adds the requests of one container (requests, limits where no request). */
static int container_requests(kctx_t *k, const kitem_t *it, json_t *ctr, const char *where,
                              size_t idx, krvec_t *r, ss_error_t *err)
{
    static const char *const kinds[2] = {"requests", "limits"};
    memset(r, 0, sizeof *r);
    for (int pass = 0; pass < 2; pass++) {
        json_t *m = kget(ctr, "resources", kinds[pass], NULL);
        const char *name;
        json_t *v;
        json_object_foreach(m, name, v)
        {
            if (pass == 1 && kget(ctr, "resources", "requests", name))
                continue;
            int scale, slot = res_slot(k, name, &scale);
            char field[300];
            snprintf(field, sizeof field, "spec.%s[%zu].resources.%s.%s", where, idx, kinds[pass],
                     name);
            if (slot < 0)
                return ss_error_set(err, SS_EUNSUPPORTED, "%s: %s: too many different resources",
                                    it->path, field);
            int rc = kqty(it, field, v, scale, &r->v[slot], err);
            if (rc == 0 && r->v[slot] < 0)
                rc = ss_error_set(err, SS_ERANGE, "%s: %s: negative", it->path, field);
            if (rc < 0)
                return rc;
        }
    }
    return 0;
}

static void vadd(krvec_t *a, const krvec_t *b)
{
    for (int i = 0; i < KRES_MAX; i++)
        a->v[i] += b->v[i];
}

static void vmax(krvec_t *a, const krvec_t *b)
{
    for (int i = 0; i < KRES_MAX; i++)
        if (b->v[i] > a->v[i])
            a->v[i] = b->v[i];
}

int kube_pod_requests(kctx_t *k, const kitem_t *it, krvec_t *r, ss_error_t *err)
{
    krvec_t c, sidecars = {{0}}, init = {{0}};
    size_t i;
    json_t *ctr;
    int rc;
    memset(r, 0, sizeof *r);
    json_array_foreach(kget(it->obj, "spec", "containers", NULL), i, ctr)
    {
        if ((rc = container_requests(k, it, ctr, "containers", i, &c, err)) < 0)
            return rc;
        vadd(r, &c);
    }
    json_array_foreach(kget(it->obj, "spec", "initContainers", NULL), i, ctr)
    {
        if ((rc = container_requests(k, it, ctr, "initContainers", i, &c, err)) < 0)
            return rc;
        const char *rp = kstr(ctr, "restartPolicy", NULL, NULL);
        if (rp && !strcmp(rp, "Always")) { /* sidecar: runs along the containers */
            vadd(r, &c);
            vadd(&sidecars, &c);
            c = sidecars;
        } else {
            vadd(&c, &sidecars);
        }
        vmax(&init, &c);
    }
    vmax(r, &init);
    const char *name;
    json_t *v;
    json_object_foreach(kget(it->obj, "spec", "overhead", NULL), name, v)
    {
        int scale, slot = res_slot(k, name, &scale);
        char field[300];
        snprintf(field, sizeof field, "spec.overhead.%s", name);
        if (slot < 0)
            return ss_error_set(err, SS_EUNSUPPORTED, "%s: %s: too many different resources",
                                it->path, field);
        if ((rc = kqty(it, field, v, scale, &c.v[slot], err)) < 0)
            return rc;
        if (c.v[slot] < 0)
            return ss_error_set(err, SS_ERANGE, "%s: %s: negative", it->path, field);
        r->v[slot] += c.v[slot];
    }
    return 0;
}

static bool kept(uint8_t cls)
{
    return cls == KPOD_PENDING || cls == KPOD_RUNNING;
}

int kube_scan_resources(kctx_t *k, ss_error_t *err)
{
    bool used[KRES_MAX] = {false};
    krvec_t r;
    for (size_t p = 0; p < k->pods.n; p++) {
        if ((p & 1023) == 0)
            ss_progress_tick(k->o->progress, (int64_t)(k->nodes.n + p),
                             (int64_t)(k->nodes.n + k->pods.n));
        if (!kept(k->pod_class[p]))
            continue;
        int rc = kube_pod_requests(k, &k->pods.v[p], &r, err);
        if (rc < 0)
            return rc;
        for (int i = KRES_FIRST_OTHER; i < KRES_MAX; i++)
            used[i] |= (r.v[i] != 0);
    }
    for (int i = 0; i < KRES_MAX; i++)
        k->ext_of_res[i] = -1;
    for (int i = KRES_FIRST_OTHER; i < KRES_MAX; i++) {
        if (!used[i])
            continue;
        const char *name = ss_strtab_get(k->resnames, i - KRES_FIRST_OTHER + 1);
        int e = ss_cluster_add_ext(k->c, name);
        if (e < 0)
            return ss_error_set(err, SS_EUNSUPPORTED,
                                "pods request more than %d different extended resources "
                                "(the last was %s)",
                                SS_MAX_EXT, name);
        k->ext_of_res[i] = e;
    }
    return 0;
}

/* The request as the engine stores it, with GPU sharing annotations. */
static int to_request(kctx_t *k, const kitem_t *it, const krvec_t *r, ss_request_t *req,
                      ss_error_t *err)
{
    char nb[256];
    memset(req, 0, sizeof *req);
    req->cpu_milli = r->v[KRES_CPU];
    req->memory = r->v[KRES_MEM];
    for (int i = KRES_FIRST_OTHER; i < KRES_MAX; i++)
        if (k->ext_of_res[i] >= 0)
            req->ext[k->ext_of_res[i]] = r->v[i];
    int64_t gpus = r->v[KRES_GPU], milli = SS_GPU_MILLI;
    json_t *am = kget(it->obj, "metadata", "annotations", SS_KUBE_ALI_GPU_MILLI);
    if (gpus == 0 && am) {
        json_t *ac = kget(it->obj, "metadata", "annotations", SS_KUBE_ALI_GPU_COUNT);
        int rc = kqty(it, "metadata.annotations." SS_KUBE_ALI_GPU_MILLI, am, 0, &milli, err);
        if (rc == 0)
            gpus = 1;
        if (rc == 0 && ac)
            rc = kqty(it, "metadata.annotations." SS_KUBE_ALI_GPU_COUNT, ac, 0, &gpus, err);
        if (rc < 0)
            return rc;
        if (milli < 1 || milli > SS_GPU_MILLI || gpus < 0 || (gpus > 1 && milli != SS_GPU_MILLI))
            return ss_error_set(err, SS_ERANGE,
                                "%s: Pod %s: GPU share annotations: gpu-milli must be 1..1000, "
                                "and 1000 when gpu-count > 1",
                                it->path, kname(it->obj, nb));
    }
    if (gpus > SS_MAX_GPUS_PER_NODE)
        return ss_error_set(err, SS_ERANGE, "%s: Pod %s: requests %lld GPUs; at most %d", it->path,
                            kname(it->obj, nb), (long long)gpus, SS_MAX_GPUS_PER_NODE);
    req->gpu_count = (int32_t)gpus;
    req->gpu_milli = gpus > 0 ? (int32_t)milli : 0;
    return 0;
}

/* The first GPUs of node row n with room for the request; marks them used. */
static int running_gpus(kctx_t *k, const kitem_t *it, int32_t n, const ss_request_t *req,
                        uint64_t *mask, ss_error_t *err)
{
    char nb[256];
    int32_t b = k->c->node_gpu_begin[n], cnt = k->c->node_gpu_count[n], got = 0;
    *mask = 0;
    for (int32_t g = 0; g < cnt && got < req->gpu_count; g++) {
        if (k->gpu_used[b + g] + req->gpu_milli > k->c->gpu_milli[b + g])
            continue;
        *mask |= UINT64_C(1) << g;
        got++;
    }
    if (got < req->gpu_count)
        return ss_error_set(err, SS_EFORMAT,
                            "%s: Pod %s runs on %s but that node has no %d free GPUs for it",
                            it->path, kname(it->obj, nb),
                            ss_cluster_strget(k->c, k->c->node_name[n]), req->gpu_count);
    for (int32_t g = 0; g < cnt; g++)
        if (*mask & (UINT64_C(1) << g))
            k->gpu_used[b + g] += req->gpu_milli;
    return 0;
}

static int pod_priority(kctx_t *k, const kitem_t *it, int32_t *prio, ss_error_t *err)
{
    (void)k;
    char nb[256];
    json_t *v = kget(it->obj, "spec", "priority", NULL);
    json_int_t p = v ? json_integer_value(v) : 0;
    if (v && !json_is_integer(v))
        return ss_error_set(err, SS_EFORMAT, "%s: Pod %s: spec.priority: not an integer", it->path,
                            kname(it->obj, nb));
    /* Kubernetes priorities are int32 (system-node-critical is 2000001000). */
    if (p > INT32_MAX || p < INT32_MIN)
        return ss_error_set(err, SS_ERANGE, "%s: Pod %s: spec.priority: out of range", it->path,
                            kname(it->obj, nb));
    *prio = (int32_t)p;
    return 0;
}

static int add_pod(kctx_t *k, const kitem_t *it, bool pending, ss_error_t *err)
{
    krvec_t r;
    ss_request_t req;
    int32_t tmpl = -1, group = -1, prio = 0, node = -1;
    uint64_t mask = 0;
    int rc;
    if ((rc = kube_pod_requests(k, it, &r, err)) < 0 ||
        (rc = to_request(k, it, &r, &req, err)) < 0 || (rc = pod_priority(k, it, &prio, err)) < 0 ||
        (rc = kube_pod_template(k, it, &req, pending, &tmpl, err)) < 0 ||
        (rc = kube_pod_group(k, it, &group, err)) < 0)
        return rc;
    if (!pending) {
        node = kube_node_row(k, kstr(it->obj, "spec", "nodeName", NULL));
        if ((rc = running_gpus(k, it, node, &req, &mask, err)) < 0)
            return rc;
    }
    const char *ns = kstr(it->obj, "metadata", "namespace", NULL);
    int32_t name = kstr_id(k, kstr(it->obj, "metadata", "name", NULL), err);
    int32_t nsid = kstr_id(k, ns && *ns ? ns : "default", err);
    if (name < 0 || nsid < 0 ||
        ss_cluster_add_pod(k->c, name, nsid, tmpl, prio, group, node, mask) < 0)
        return ss_error_set(err, SS_ENOMEM, "out of memory");
    return 0;
}

int kube_add_pods(kctx_t *k, ss_error_t *err)
{
    for (size_t p = 0; p < k->pods.n; p++) {
        if (!kept(k->pod_class[p]))
            continue;
        int rc = add_pod(k, &k->pods.v[p], k->pod_class[p] == KPOD_PENDING, err);
        if (rc < 0)
            return rc;
    }
    return 0;
}
