/* fuzz_quantity: libFuzzer harness of the Kubernetes quantity parser
 * (io/ss_quantity.h). The input is the quantity text (up to its first NUL),
 * parsed at every scale the importer uses; besides not crashing, a parsed
 * value must survive a round trip through ss_quantity_format, and a failure
 * must come with a message. */
#include <string.h>

#include "ss_fuzz.h"
#include "ss_quantity.h"

static void roundtrip(int64_t v, int scale, int binary)
{
    char buf[64];
    ss_error_t err = {0};
    int64_t back = 0;
    ss_quantity_format(v, scale, binary, buf);
    int rc = ss_quantity_parse(buf, scale, &back, &err);
    SS_FUZZ_CHECK(rc == 0 && back == v,
                  "format(%lld, scale %d, binary %d) = '%s' parses to %lld "
                  "(rc %d: %s)",
                  (long long)v, scale, binary, buf, (long long)back, rc, err.text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    static const int scales[] = {SS_QTY_UNITS, SS_QTY_MILLI, 9};
    for (size_t i = 0; i < sizeof scales / sizeof *scales; i++) {
        ss_error_t err = {0};
        int64_t v = 0;
        int rc = ss_quantity_parse(s, scales[i], &v, &err);
        if (rc < 0) {
            SS_FUZZ_CHECK(rc == SS_EFORMAT || rc == SS_ERANGE, "'%s': code %d", s, rc);
            SS_FUZZ_CHECK(err.text[0] != '\0', "'%s': error %d without a message", s, rc);
            continue;
        }
        SS_FUZZ_CHECK(rc == 0, "'%s': positive code %d", s, rc);
        if (scales[i] == 9)
            continue; /* ss_quantity_format knows scales 0 and 3 only */
        roundtrip(v, scales[i], 0);
        if (scales[i] == SS_QTY_UNITS)
            roundtrip(v, scales[i], 1);
    }
    free(s);
    return 0;
}
