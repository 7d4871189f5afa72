/* ss_kube_internal: state shared by the Kubernetes importer's files
 * (ss_kube_import.c: documents, orchestration, pod groups; ss_kube_nodes.c:
 * Node objects; ss_kube_pods.c: Pod objects, effective requests and
 * templates). Not a public API. */
#ifndef SS_KUBE_INTERNAL_H
#define SS_KUBE_INTERNAL_H

#include <jansson.h>

#include "ss_kube_import.h"

/* Resource vector of one pod: [0] cpu milli, [1] memory bytes, [2] GPUs,
 * [3 + i] the i-th other resource name in kctx_t.resnames (id i + 1). */
#define KRES_CPU 0
#define KRES_MEM 1
#define KRES_GPU 2
#define KRES_FIRST_OTHER 3
#define KRES_MAX 40

typedef struct {
    int64_t v[KRES_MAX];
} krvec_t;

enum kpod_class { KPOD_PENDING, KPOD_RUNNING, KPOD_TERMINAL, KPOD_OTHER_SCHED, KPOD_UNKNOWN_NODE };

typedef struct {
    json_t *obj;      /* borrowed from a document */
    const char *path; /* file it came from (or "<nodes>" for strings) */
} kitem_t;

typedef struct {
    kitem_t *v;
    size_t n, cap;
} kitems_t;

typedef struct {
    const ss_kube_opts_t *o;
    ss_kube_report_t *rep;
    ss_cluster_t *c;
    kitems_t nodes, pods, pgs;
    ss_strtab_t *resnames; /* other resource names requested (id 1..) */
    int32_t *node_by_str;  /* cluster string id -> node row, -1 */
    int32_t node_by_str_len;
    uint8_t *pod_class; /* enum kpod_class per pods item */
    int32_t *gpu_used;  /* milli used per GPU record (running pods) */
    ss_strtab_t *tkeys; /* template dedupe keys */
    int32_t *tkey_tmpl;
    int32_t tkey_cap;
    ss_strtab_t *pgkeys; /* PodGroup "ns/name" (id 1..) */
    int32_t *pg_min;     /* minMember per pgkeys id */
    int32_t *pg_group;   /* group row per pgkeys id, -1 until used */
    int32_t pg_cap;
    int32_t ext_of_res[KRES_MAX]; /* resource vector slot -> ext index, -1 */
} kctx_t;

/* Helpers (ss_kube_import.c). */
json_t *kget(json_t *o, const char *k1, const char *k2, const char *k3);
const char *kstr(json_t *o, const char *k1, const char *k2, const char *k3);
/* "ns/name" of an object into buf (size 256). */
const char *kname(json_t *o, char *buf);
/* Parses a quantity (string or number) with err naming path, object, field. */
int kqty(const kitem_t *it, const char *field, json_t *v, int scale, int64_t *out, ss_error_t *err);
int kwarn(kctx_t *k, int kind, const kitem_t *it, ss_error_t *err);
int32_t kstr_id(kctx_t *k, const char *s, ss_error_t *err);

/* Group row of a pod (pod-group label or Volcano annotation), or -1. */
int kube_pod_group(kctx_t *k, const kitem_t *it, int32_t *group, ss_error_t *err);

/* ss_kube_nodes.c */
int kube_index_node_names(kctx_t *k, ss_error_t *err);    /* before classifying pods */
int32_t kube_node_row(const kctx_t *k, const char *name); /* -1: not in the input */
int kube_effect(const char *s, int32_t *effect);          /* -1 unless a taint effect or "" */
int kube_add_nodes(kctx_t *k, ss_error_t *err);

/* ss_kube_template.c: the pod's template (deduplicated); pending says
 * whether unmodelled fields are counted and set as SS_RULE_OTHER. */
int kube_pod_template(kctx_t *k, const kitem_t *it, const ss_request_t *req, bool pending,
                      int32_t *tmpl, ss_error_t *err);

/* ss_kube_pods.c */
int kube_classify_pods(kctx_t *k, ss_error_t *err);
int kube_scan_resources(kctx_t *k, ss_error_t *err);
int kube_add_pods(kctx_t *k, ss_error_t *err);
/* Effective request of a pod (Kubernetes' PodRequests with sidecars). */
int kube_pod_requests(kctx_t *k, const kitem_t *it, krvec_t *r, ss_error_t *err);

#endif
