/* fuzz_journal: libFuzzer harness of the bind journal reader
 * (io/ss_bind_journal.c, ss_bind_journal_open) and the token reader
 * (ss_bind_read_token). The input's first byte chooses the mode: odd, the
 * rest is a journal body behind the header this run expects (so that the
 * record parser is reached); even, the rest is the whole journal file
 * (headers of other runs, torn lines). The same bytes are then read as a
 * token file. Besides not crashing: every outcome the journal marks is one
 * the journal may set, and the counts agree with the outcomes. */
#include <inttypes.h>
#include <string.h>

#include "ss_bind_int.h"
#include "ss_fuzz.h"

#define SERVER "http://127.0.0.1:8001"
#define PLACEMENTS "placements.h5"

static const ss_binding_t B[] = {
    {"default", "p0", "n0", -1, "", 0},
    {"default", "p1", "n1", -1, "", 0},
    {"team-a", "train-0", "n0", 0, "team-a/train", 2},
    {"team-a", "train-1", "n1", 0, "team-a/train", 2},
    {"x%y", "a b", "n\t2", -1, "", 0},
};
#define NB ((int32_t)(sizeof B / sizeof *B))

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    uint64_t fp = ss_bind_fingerprint(B, NB);
    char header[512];
    int hl = 0;
    if (data[0] & 1)
        hl = snprintf(header, sizeof header,
                      "# shardsched bind journal v2\tserver=%s\tbindings=%d:%016" PRIx64
                      "\tplacements=%s\n",
                      SERVER, (int)NB, fp, PLACEMENTS);
    char *file = malloc((size_t)hl + size);
    if (!file)
        return 0;
    memcpy(file, header, (size_t)hl);
    memcpy(file + hl, data + 1, size - 1);
    const char *path = ss_fuzz_file(0, "journal", file, (size_t)hl + size - 1);
    free(file);

    uint8_t outcome[NB] = {0};
    outcome[1] = SS_BIND_FAILED; /* decided already: the journal must leave it */
    ss_bind_summary_t s = {0};
    ss_bind_journal_t j;
    ss_error_t err = {0};
    int rc = ss_bind_journal_open(&j, path, SERVER, fp, PLACEMENTS, B, NB, outcome, &s, NULL, &err);
    if (rc < 0) {
        SS_FUZZ_CHECK(err.text[0] != '\0', "journal open failed (%d) without a message", rc);
    } else {
        int32_t journaled = 0, elsewhere = 0;
        for (int32_t i = 0; i < NB; i++) {
            SS_FUZZ_CHECK(outcome[i] == SS_BIND_PENDING || outcome[i] == SS_BIND_JOURNALED ||
                              outcome[i] == SS_BIND_ELSEWHERE || i == 1,
                          "binding %d: outcome %d", (int)i, outcome[i]);
            journaled += outcome[i] == SS_BIND_JOURNALED;
            elsewhere += outcome[i] == SS_BIND_ELSEWHERE;
        }
        SS_FUZZ_CHECK(outcome[1] == SS_BIND_FAILED, "a decided outcome was overwritten");
        SS_FUZZ_CHECK(s.journaled == journaled && s.elsewhere == elsewhere,
                      "summary %d journaled %d elsewhere, outcomes %d and %d", (int)s.journaled,
                      (int)s.elsewhere, (int)journaled, (int)elsewhere);
        /* an append after the load must work on what is there */
        rc = ss_bind_journal_append(&j, "bound", &B[0], NULL, &err);
        SS_FUZZ_CHECK(rc == 0, "append after load failed: %s", err.text);
    }
    ss_bind_journal_close(&j);

    char tok[64];
    path = ss_fuzz_file(0, "journal", data, size);
    rc = ss_bind_read_token(path, tok, sizeof tok, &err);
    if (rc == 0)
        for (const char *c = tok; *c; c++)
            SS_FUZZ_CHECK(*c >= 0x21 && *c <= 0x7e, "token byte 0x%02x accepted",
                          (unsigned char)*c);
    return 0;
}
