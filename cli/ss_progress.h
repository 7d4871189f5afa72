/* cli/ss_progress: how the command line shows engine/ss_progress.h ticks.
 * A line on stderr, redrawn at most every ~0.2 s:
 *     LABEL  done/total  NN%  ETA Ns
 * only when stderr is a terminal and the command was not given -q; the line
 * is erased when the phase ends, so a finished command leaves only its
 * summary. With stderr a file or a pipe nothing is ever written. */
#ifndef SS_CLI_PROGRESS_H
#define SS_CLI_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>

/* engine/ss_progress.h: the tick type (this file has the same name, so the
 * path is spelled out). */
#include "../engine/ss_progress.h"

typedef struct {
    ss_progress_t p; /* hand &p (or ss_cli_progress_get) to the work */
    char label[48];
    bool on, drawn;
    double t0, last; /* seconds, monotonic */
} ss_cli_progress_t;

/* Starts a phase. show: false for -q or a rank other than 0. When the phase
 * is shown, LABEL is drawn at once (a phase without ticks still says what
 * it is doing). */
void ss_cli_progress_begin(ss_cli_progress_t *pr, const char *label, bool show);

/* The progress to pass to the work: NULL when nothing is shown. */
const ss_progress_t *ss_cli_progress_get(const ss_cli_progress_t *pr);

/* Ends the phase: erases the line. Safe to call twice. */
void ss_cli_progress_end(ss_cli_progress_t *pr);

#endif
