/* fuzz_openb: libFuzzer harness of the OpenB CSV importer (io/ss_openb.h,
 * ss_openb_load, which ss_openb_import runs before writing). The input is
 * split at the first form feed into the node CSV and the pod CSV; without
 * one, the whole input is the pod CSV, read against a small fixed node list.
 * Besides not crashing: failure leaves no cluster and gives a message. */
#include <string.h>

#include "ss_fuzz.h"
#include "ss_openb.h"
#include "ss_trace.h"

static const char *NODES = "sn,cpu_milli,memory_mib,gpu,model\n"
                           "n0,64000,1024,2,V100M16\n"
                           "n1,32000,2048,0,\n"
                           "n2,96000,786432,8,A100\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *part[SS_FUZZ_MAX_PARTS];
    int n = ss_fuzz_split(data, size, part, 2);
    const char *nodes = n == 1 ? NODES : part[0], *pods = part[n - 1];
    const char *np = ss_fuzz_file(0, "nodes.csv", nodes, strlen(nodes));
    const char *pp = ss_fuzz_file(1, "pods.csv", pods, strlen(pods));
    ss_cluster_t *c = NULL;
    ss_trace_t *t = NULL;
    ss_error_t err = {0};
    int rc = ss_openb_load(np, pp, &c, &t, &err);
    if (rc < 0) {
        SS_FUZZ_CHECK(err.text[0] != '\0', "failed load (%d) without a message", rc);
        SS_FUZZ_CHECK(c == NULL && t == NULL, "failed load (%d: %s) left a result", rc, err.text);
    } else {
        ss_error_t verr = {0};
        SS_FUZZ_CHECK(c && t, "load returned %d without a cluster and trace", rc);
        SS_FUZZ_CHECK(ss_cluster_validate(c, &verr) == 0, "loaded cluster does not validate: %s",
                      verr.text);
    }
    ss_cluster_destroy(c);
    ss_trace_destroy(t);
    ss_fuzz_free_parts(part, n);
    return 0;
}
