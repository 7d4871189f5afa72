/* fuzz_kube: libFuzzer harness of the Kubernetes JSON and YAML importer
 * (io/ss_kube_import.h, ss_kube_import_strings; a part not starting with
 * '{' or '[' goes through io/ss_yaml.c). The input is split at form
 * feeds: one part is the pods JSON (imported against a small fixed node
 * list), two parts are nodes and pods, three add the PodGroups. An input of
 * odd length is imported with --strict. Besides not crashing: success gives
 * a cluster that validates, failure gives no cluster and a message. */
#include <string.h>

#include "ss_fuzz.h"
#include "ss_kube_import.h"

static const char *NODES =
    "{\"apiVersion\":\"v1\",\"kind\":\"List\",\"items\":["
    "{\"kind\":\"Node\",\"metadata\":{\"name\":\"n0\",\"labels\":{\"kubernetes.io/hostname\":"
    "\"n0\",\"topology.kubernetes.io/rack\":\"r0\",\"nvidia.com/gpu.product\":\"H100\"}},"
    "\"spec\":{\"taints\":[{\"key\":\"k\",\"value\":\"v\",\"effect\":\"NoSchedule\"}]},"
    "\"status\":{\"allocatable\":{\"cpu\":\"8\",\"memory\":\"32Gi\",\"pods\":\"110\","
    "\"nvidia.com/gpu\":\"4\"}}},"
    "{\"kind\":\"Node\",\"metadata\":{\"name\":\"n1\"},\"spec\":{\"unschedulable\":true},"
    "\"status\":{\"allocatable\":{\"cpu\":\"4\",\"memory\":\"8Gi\",\"pods\":\"10\"}}}]}";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *part[SS_FUZZ_MAX_PARTS];
    int n = ss_fuzz_split(data, size, part, 3);
    const char *nodes = n == 1 ? NODES : part[0];
    const char *pods = n == 1 ? part[0] : part[1];
    const char *groups = n == 3 ? part[2] : NULL;
    ss_kube_opts_t o;
    ss_kube_opts_default(&o);
    o.log = NULL;
    o.strict = size % 2 == 1;
    ss_cluster_t *c = (ss_cluster_t *)&o; /* must become NULL or a cluster */
    ss_kube_report_t rep;
    ss_error_t err = {0};
    int rc = ss_kube_import_strings(nodes, pods, groups, &o, &c, &rep, &err);
    if (rc < 0) {
        SS_FUZZ_CHECK(c == NULL, "failed import (%d: %s) left a cluster", rc, err.text);
        SS_FUZZ_CHECK(err.text[0] != '\0', "failed import (%d) without a message", rc);
    } else {
        SS_FUZZ_CHECK(rc == 0 && c != NULL, "import returned %d and cluster %p", rc, (void *)c);
        ss_error_t verr = {0};
        SS_FUZZ_CHECK(ss_cluster_validate(c, &verr) == 0, "imported cluster does not validate: %s",
                      verr.text);
        ss_cluster_destroy(c);
    }
    ss_fuzz_free_parts(part, n);
    return 0;
}
