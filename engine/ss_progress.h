/* ss_progress: how long work reports how far it has got. The layer that does
 * the work (engine, jobs, io) calls ss_progress_tick with done/total; the
 * command line (cli/ss_progress.c) decides whether and how to show it (a bar
 * on a terminal, nothing with -q or when stderr is not a terminal). A NULL
 * progress, or one without fn, costs one branch per call.
 *
 * fn is called from the thread that does the work's outer loop, never from
 * inside an OpenMP parallel region; it must be cheap (the cli one returns at
 * once unless ~0.2 s have passed since it last drew). */
#ifndef SS_PROGRESS_H
#define SS_PROGRESS_H

#include <stdint.h>

typedef void (*ss_progress_f)(void *ctx, int64_t done, int64_t total);

typedef struct {
    ss_progress_f fn;
    void *ctx;
} ss_progress_t;

static inline void ss_progress_tick(const ss_progress_t *p, int64_t done, int64_t total)
{
    if (p && p->fn)
        p->fn(p->ctx, done, total);
}

#endif
