/* ss_kube_pods: Pod objects into pod rows. Classifies each pod (running,
 * pending, terminal, another scheduler's, bound to an unknown node), computes
 * its effective request as Kubernetes does (resource/helpers.go PodRequests:
 * max(sum of containers + sidecars, largest init container + the sidecars
 * started before it) + overhead; limits stand in for absent requests), finds
 * the extended resources pods ask for, and adds the pods, giving running
 * ones the first free GPUs of their node; priorities and start times come
 * from ss_kube_policy.c. */
#include "ss_kube_internal.h"

#include <stdlib.h>
#include <string.h>

#include "ss_quantity.h"

static int map_of_strings(const kitem_t *it, const char *field, ss_error_t *err)
{
    json_t *m, *v;
    const char *key;
    char who[512];
    int rc = kat(it, it->obj, NULL, "metadata", field, NULL, KT_OBJ, &m, err);
    json_object_foreach(m, key, v)
    {
        if (rc == 0 && !json_is_string(v))
            rc = ss_error_set(err, SS_EFORMAT, "%s: metadata.%s.%s: expected a string",
                              kwho(it, who), field, key);
    }
    return rc;
}

int kube_pod_seen(kctx_t *k, const kitem_t *it, int32_t doc, size_t off, size_t len,
                  ss_error_t *err)
{
    json_t *node, *phase, *sched;
    int rc;
    if ((rc = map_of_strings(it, "labels", err)) < 0 ||
        (rc = map_of_strings(it, "annotations", err)) < 0 ||
        (rc = kat(it, it->obj, NULL, "spec", "nodeName", NULL, KT_STR, &node, err)) < 0 ||
        (rc = kat(it, it->obj, NULL, "status", "phase", NULL, KT_STR, &phase, err)) < 0 ||
        (rc = kat(it, it->obj, NULL, "spec", "schedulerName", NULL, KT_STR, &sched, err)) < 0)
        return rc;
    const char *ns = kstr(it->obj, "metadata", "namespace", NULL);
    char key[512];
    snprintf(key, sizeof key, "%s/%s", ns && *ns ? ns : "default",
             kstr(it->obj, "metadata", "name", NULL));
    int32_t before = ss_strtab_count(k->podkeys), id = ss_strtab_intern(k->podkeys, key);
    if (id < 0)
        return ss_error_set(err, SS_ENOMEM, "out of memory");
    if (id < before) {
        const kpod_t *f = &k->pods.v[id - 1];
        return ss_error_set(err, SS_EFORMAT,
                            "%s: items[%zu]: Pod %s appears twice (first at %s: items[%zu])",
                            it->path, it->index, key, k->docs[f->doc].path, f->index);
    }
    if (k->pods.n == k->pods.cap) {
        size_t cap = k->pods.cap ? k->pods.cap * 2 : 1024;
        kpod_t *nv = realloc(k->pods.v, cap * sizeof *nv);
        if (!nv)
            return ss_error_set(err, SS_ENOMEM, "out of memory");
        k->pods.v = nv;
        k->pods.cap = cap;
    }
    kpod_t *p = &k->pods.v[k->pods.n++];
    memset(p, 0, sizeof *p);
    p->index = it->index;
    p->off = off;
    p->len = len;
    p->doc = doc;
    const char *nn = json_string_value(node), *ph = json_string_value(phase);
    const char *sn = json_string_value(sched);
    if (nn && *nn && (p->node_sid = ss_strtab_intern(k->podnodes, nn)) < 0)
        return ss_error_set(err, SS_ENOMEM, "out of memory");
    if (ph && (!strcmp(ph, "Succeeded") || !strcmp(ph, "Failed")))
        p->flags |= KP_TERMINAL;
    if (strcmp(sn && *sn ? sn : SS_KUBE_DEFAULT_SCHEDULER, k->o->scheduler_name))
        p->flags |= KP_OTHER_SCHED;
    if ((p->flags & KP_TERMINAL) || ((p->flags & KP_OTHER_SCHED) && !p->node_sid))
        return 0;
    /* Requested resources (the slots of other names are fixed here, in the
     * order the files name them); an error is raised when the pod is added. */
    krvec_t r;
    if (kube_pod_requests(k, it, &r, err) < 0) {
        p->flags |= KP_REQ_ERROR;
        return 0;
    }
    for (int i = KRES_FIRST_OTHER; i < KRES_MAX; i++)
        if (r.v[i] != 0)
            p->resmask |= UINT64_C(1) << (i - KRES_FIRST_OTHER);
    return 0;
}

/* The pod's name for a message (its text is parsed again). */
static void pod_name(const kctx_t *k, const kpod_t *p, char *buf)
{
    json_t *o = kube_doc_item(&k->docs[p->doc], p->off, p->len, NULL);
    kname(o, buf);
    json_decref(o);
}

int kube_classify_pods(kctx_t *k, ss_error_t *err)
{
    int rc = kube_index_node_names(k, err);
    if (rc < 0)
        return rc;
    k->pod_class = malloc(k->pods.n + 1);
    if (!k->pod_class)
        return ss_error_set(err, SS_ENOMEM, "out of memory");
    for (size_t i = 0; i < k->pods.n; i++) {
        const kpod_t *p = &k->pods.v[i];
        const char *node = p->node_sid ? ss_strtab_get(k->podnodes, p->node_sid) : NULL;
        uint8_t cls;
        if (node && kube_node_row(k, node) < 0) {
            cls = KPOD_UNKNOWN_NODE;
            int u = k->rep->unknown_node++;
            char nb[320];
            if (u < SS_KUBE_MAX_REPORTED) {
                pod_name(k, p, nb);
                snprintf(k->rep->unknown_names[u], sizeof k->rep->unknown_names[u],
                         "%.80s -> %.70s", nb, node);
            }
        } else if (p->flags & KP_TERMINAL) {
            cls = KPOD_TERMINAL;
            k->rep->terminal++;
        } else if (node) {
            cls = KPOD_RUNNING;
            k->rep->running++;
        } else if (p->flags & KP_OTHER_SCHED) {
            cls = KPOD_OTHER_SCHED;
            k->rep->other_scheduler++;
        } else {
            cls = KPOD_PENDING;
            k->rep->pending++;
        }
        k->pod_class[i] = cls;
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
                              krvec_t *r, ss_error_t *err)
{
    static const char *const kinds[2] = {"requests", "limits"};
    char who[512];
    memset(r, 0, sizeof *r);
    if (!json_is_object(ctr))
        return ss_error_set(err, SS_EFORMAT, "%s: %s: expected an object", kwho(it, who), where);
    json_t *reqs;
    int rc = kat(it, ctr, where, "resources", "requests", NULL, KT_OBJ, &reqs, err);
    for (int pass = 0; pass < 2 && rc == 0; pass++) {
        json_t *m, *v;
        if ((rc = kat(it, ctr, where, "resources", kinds[pass], NULL, KT_OBJ, &m, err)) < 0)
            return rc;
        const char *name;
        json_object_foreach(m, name, v)
        {
            if (pass == 1 && json_object_get(reqs, name))
                continue;
            int scale, slot = res_slot(k, name, &scale);
            char field[400];
            snprintf(field, sizeof field, "%s.resources.%s.%s", where, kinds[pass], name);
            if (slot < 0)
                return ss_error_set(err, SS_EUNSUPPORTED, "%s: %s: too many different resources",
                                    kwho(it, who), field);
            rc = kqty(it, field, v, scale, &r->v[slot], err);
            if (rc == 0 && r->v[slot] < 0)
                rc = ss_error_set(err, SS_ERANGE, "%s: %s: negative", kwho(it, who), field);
            if (rc < 0)
                return rc;
        }
    }
    return rc;
}

static const char *slot_name(const kctx_t *k, int slot)
{
    return slot == KRES_CPU   ? "cpu"
           : slot == KRES_MEM ? "memory"
           : slot == KRES_GPU ? SS_KUBE_GPU
                              : ss_strtab_get(k->resnames, slot - KRES_FIRST_OTHER + 1);
}

/* a += b, checked: an overflow is an error naming the pod and what was summed. */
static int vadd(const kctx_t *k, const kitem_t *it, const char *what, krvec_t *a, const krvec_t *b,
                ss_error_t *err)
{
    char who[512];
    for (int i = 0; i < KRES_MAX; i++)
        if (__builtin_add_overflow(a->v[i], b->v[i], &a->v[i]))
            return ss_error_set(err, SS_ERANGE,
                                "%s: %s: %s: the pod's total request overflows (over %lld %s)",
                                kwho(it, who), what, slot_name(k, i), (long long)INT64_MAX,
                                i == KRES_CPU   ? "millicores"
                                : i == KRES_MEM ? "bytes"
                                                : "units");
    return 0;
}

static void vmax(krvec_t *a, const krvec_t *b)
{
    for (int i = 0; i < KRES_MAX; i++)
        if (b->v[i] > a->v[i])
            a->v[i] = b->v[i];
}

static int init_containers(kctx_t *k, const kitem_t *it, krvec_t *r, ss_error_t *err)
{
    krvec_t c, sidecars = {{0}}, init = {{0}};
    json_t *arr, *ctr, *rp;
    size_t i;
    char where[64];
    int rc = kat(it, it->obj, NULL, "spec", "initContainers", NULL, KT_ARR, &arr, err);
    json_array_foreach(arr, i, ctr)
    {
        snprintf(where, sizeof where, "spec.initContainers[%zu]", i);
        if (rc < 0 || (rc = container_requests(k, it, ctr, where, &c, err)) < 0 ||
            (rc = kat(it, ctr, where, "restartPolicy", NULL, NULL, KT_STR, &rp, err)) < 0)
            return rc;
        if (rp && !strcmp(json_string_value(rp), "Always")) { /* sidecar: runs along */
            if ((rc = vadd(k, it, where, r, &c, err)) < 0 ||
                (rc = vadd(k, it, where, &sidecars, &c, err)) < 0)
                return rc;
            c = sidecars;
        } else if ((rc = vadd(k, it, where, &c, &sidecars, err)) < 0) {
            return rc;
        }
        vmax(&init, &c);
    }
    vmax(r, &init);
    return rc;
}

int kube_pod_requests(kctx_t *k, const kitem_t *it, krvec_t *r, ss_error_t *err)
{
    krvec_t c;
    size_t i;
    json_t *arr, *ctr, *oh;
    char where[64], who[512];
    int rc;
    memset(r, 0, sizeof *r);
    if ((rc = kat(it, it->obj, NULL, "spec", "containers", NULL, KT_ARR, &arr, err)) < 0)
        return rc;
    json_array_foreach(arr, i, ctr)
    {
        snprintf(where, sizeof where, "spec.containers[%zu]", i);
        if ((rc = container_requests(k, it, ctr, where, &c, err)) < 0 ||
            (rc = vadd(k, it, where, r, &c, err)) < 0)
            return rc;
    }
    if ((rc = init_containers(k, it, r, err)) < 0 ||
        (rc = kat(it, it->obj, NULL, "spec", "overhead", NULL, KT_OBJ, &oh, err)) < 0)
        return rc;
    const char *name;
    json_t *v;
    memset(&c, 0, sizeof c);
    json_object_foreach(oh, name, v)
    {
        int scale, slot = res_slot(k, name, &scale);
        char field[300];
        snprintf(field, sizeof field, "spec.overhead.%s", name);
        if (slot < 0)
            return ss_error_set(err, SS_EUNSUPPORTED, "%s: %s: too many different resources",
                                kwho(it, who), field);
        if ((rc = kqty(it, field, v, scale, &c.v[slot], err)) < 0)
            return rc;
        if (c.v[slot] < 0)
            return ss_error_set(err, SS_ERANGE, "%s: %s: negative", kwho(it, who), field);
    }
    return vadd(k, it, "spec.overhead", r, &c, err);
}

static bool kept(uint8_t cls)
{
    return cls == KPOD_PENDING || cls == KPOD_RUNNING;
}

int kube_scan_resources(kctx_t *k, ss_error_t *err)
{
    uint64_t used = 0;
    for (size_t p = 0; p < k->pods.n; p++)
        if (kept(k->pod_class[p]))
            used |= k->pods.v[p].resmask;
    for (int i = 0; i < KRES_MAX; i++)
        k->ext_of_res[i] = -1;
    for (int i = KRES_FIRST_OTHER; i < KRES_MAX; i++) {
        if (!(used >> (i - KRES_FIRST_OTHER) & 1))
            continue;
        const char *name = ss_strtab_get(k->resnames, i - KRES_FIRST_OTHER + 1);
        if (kube_mig_resource(name)) /* a MIG request, not an extended resource */
            continue;
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
    char nb[320];
    memset(req, 0, sizeof *req);
    req->cpu_milli = r->v[KRES_CPU];
    req->memory = r->v[KRES_MEM];
    int rc;
    if ((rc = klimit(it, "requests (effective) cpu in millicores", r->v[KRES_CPU], KMAX_CPU_MILLI,
                     err)) < 0 ||
        (rc = klimit(it, "requests (effective) memory in bytes", r->v[KRES_MEM], KMAX_MEMORY,
                     err)) < 0)
        return rc;
    for (int i = KRES_FIRST_OTHER; i < KRES_MAX; i++)
        if (k->ext_of_res[i] >= 0) {
            char field[300];
            snprintf(field, sizeof field, "requests (effective) %s", slot_name(k, i));
            if ((rc = klimit(it, field, r->v[i], KMAX_EXT, err)) < 0)
                return rc;
            req->ext[k->ext_of_res[i]] = r->v[i];
        }
    int64_t gpus = r->v[KRES_GPU], milli = SS_GPU_MILLI;
    json_t *am = kget(it->obj, "metadata", "annotations", SS_KUBE_ALI_GPU_MILLI);
    if (gpus == 0 && am) {
        json_t *ac = kget(it->obj, "metadata", "annotations", SS_KUBE_ALI_GPU_COUNT);
        rc = kqty(it, "metadata.annotations." SS_KUBE_ALI_GPU_MILLI, am, 0, &milli, err);
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
    char nb[320];
    int32_t b = k->c->node_gpu_begin[n], cnt = k->c->node_gpu_count[n], got = 0;
    *mask = 0;
    for (int32_t g = 0; g < cnt && got < req->gpu_count; g++) {
        if (k->gpu_used[b + g] + req->gpu_milli > k->c->gpu_milli[b + g] ||
            k->c->gpu_mig_model[b + g]) /* a GPU in MIG mode serves MIG requests only */
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

static int add_pod(kctx_t *k, const kitem_t *it, bool pending, ss_error_t *err)
{
    krvec_t r;
    ss_request_t req;
    int32_t tmpl = -1, gang = 0, group = -1, prio = 0, node = -1, migp = 0, migc = 0;
    uint32_t rules = 0;
    uint64_t mask = 0;
    int64_t start = 0;
    bool never = false;
    int rc;
    if ((rc = kube_pod_requests(k, it, &r, err)) < 0 ||
        (rc = to_request(k, it, &r, &req, err)) < 0 ||
        (rc = kube_pod_priority(k, it, &prio, &never, err)) < 0 ||
        (rc = kube_pod_start(it, &start, err)) < 0 ||
        (rc = kube_gang_pod(k, it, pending, &gang, &rules, &prio, err)) < 0 ||
        (rc = kube_mig_request(k, it, &r, pending, &migp, &migc, &rules, err)) < 0)
        return rc;
    if (!pending)
        node = kube_node_row(k, kstr(it->obj, "spec", "nodeName", NULL));
    if (node >= 0 && k->mig_single[node] && req.gpu_count > 0 && migc == 0) {
        /* single strategy: the node's nvidia.com/gpu are MIG devices */
        migp = k->mig_single[node];
        migc = req.gpu_count;
        req.gpu_count = req.gpu_milli = 0;
    }
    if ((rc = kube_pod_template(k, it, &req, pending, rules, never ? SS_TF_PREEMPT_NEVER : 0, migp,
                                migc, &tmpl, err)) < 0 ||
        (rc = kube_gang_join(k, gang, &group, err)) < 0)
        return rc;
    if (!pending && (rc = running_gpus(k, it, node, &req, &mask, err)) < 0)
        return rc;
    const char *ns = kstr(it->obj, "metadata", "namespace", NULL);
    int32_t name = kstr_id(k, kstr(it->obj, "metadata", "name", NULL), err);
    int32_t nsid = kstr_id(k, ns && *ns ? ns : "default", err);
    int32_t row = name < 0 || nsid < 0
                      ? -1
                      : ss_cluster_add_pod(k->c, name, nsid, tmpl, prio, group, node, mask);
    if (row < 0)
        return ss_error_set(err, SS_ENOMEM, "out of memory");
    ss_cluster_set_pod_start(k->c, row, start);
    return 0;
}

int kube_add_pods(kctx_t *k, ss_error_t *err)
{
    int rc = 0;
    for (size_t p = 0; p < k->pods.n && rc == 0; p++) {
        if ((p & 1023) == 0)
            ss_progress_tick(k->o->progress, (int64_t)(k->nodes.n + p),
                             (int64_t)(k->nodes.n + k->pods.n));
        if (!kept(k->pod_class[p]))
            continue;
        const kpod_t *kp = &k->pods.v[p];
        const kdoc_t *d = &k->docs[kp->doc];
        kitem_t it = {kube_doc_item(d, kp->off, kp->len, err), d->path, "Pod", kp->index};
        if (!it.obj)
            return SS_EFORMAT;
        rc = add_pod(k, &it, k->pod_class[p] == KPOD_PENDING, err);
        json_decref(it.obj);
    }
    return rc;
}
