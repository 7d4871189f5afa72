/* ss_fuzz: what the libFuzzer harnesses of tests/fuzz/ share: the entry
 * points libFuzzer calls, splitting one input into several files' texts, and
 * a scratch directory for the importers that read paths. Each harness is
 * built twice: with clang -fsanitize=fuzzer by scripts/fuzz.sh, and with
 * replay_main.c by the normal build, which replays tests/fuzz/regressions/
 * and tests/fuzz/corpus/ under ctest. A harness abort()s when it finds a
 * wrong answer (not only a crash), so a property violation is a finding too. */
#ifndef SS_FUZZ_H
#define SS_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define SS_FUZZ_MAX_PARTS 3

/* Splits data at form feeds ('\f') into at most max parts, each a new
 * NUL-terminated copy (free with ss_fuzz_free_parts); the last part keeps
 * any further form feeds. Returns the number of parts (>= 1). */
int ss_fuzz_split(const uint8_t *data, size_t size, char **parts, int max);
void ss_fuzz_free_parts(char **parts, int n);

/* Writes len bytes to DIR/name, DIR being a per-process scratch directory
 * (under $TMPDIR or /tmp, removed at exit). Returns the path (static
 * storage, one per name slot 0..3) or aborts. */
const char *ss_fuzz_file(int slot, const char *name, const void *buf, size_t len);

/* The scratch directory itself. */
const char *ss_fuzz_dir(void);

/* abort()s with a message when cond is false: a harness's property check. */
#define SS_FUZZ_CHECK(cond, ...)                                                                   \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz property failed: %s: ", #cond);                                  \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fputc('\n', stderr);                                                                   \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

#endif
