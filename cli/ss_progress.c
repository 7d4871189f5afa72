/* cli/ss_progress: the progress line on a terminal (ss_progress.h). */
#include "ss_progress.h" /* cli/ss_progress.h: same directory first */

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define REDRAW_S 0.2

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void draw(ss_cli_progress_t *pr, int64_t done, int64_t total, double t)
{
    char line[160];
    if (total > 0) {
        double frac = (double)done / (double)total;
        frac = frac < 0 ? 0 : frac > 1 ? 1 : frac;
        double el = t - pr->t0;
        if (frac > 0 && frac < 1)
            snprintf(line, sizeof line, "%s  %lld/%lld  %3d%%  ETA %.0fs", pr->label,
                     (long long)done, (long long)total, (int)(frac * 100), el * (1 - frac) / frac);
        else
            snprintf(line, sizeof line, "%s  %lld/%lld  %3d%%", pr->label, (long long)done,
                     (long long)total, (int)(frac * 100));
    } else {
        snprintf(line, sizeof line, "%s ...", pr->label);
    }
    fprintf(stderr, "\r\033[K%s", line);
    fflush(stderr);
    pr->drawn = true;
    pr->last = t;
}

static void tick(void *ctx, int64_t done, int64_t total)
{
    ss_cli_progress_t *pr = ctx;
    double t = now_s();
    if (t - pr->last >= REDRAW_S)
        draw(pr, done, total, t);
}

void ss_cli_progress_begin(ss_cli_progress_t *pr, const char *label, bool show)
{
    memset(pr, 0, sizeof *pr);
    snprintf(pr->label, sizeof pr->label, "%s", label);
    pr->on = show && isatty(STDERR_FILENO);
    pr->p.fn = tick;
    pr->p.ctx = pr;
    pr->t0 = now_s();
    if (pr->on)
        draw(pr, 0, 0, pr->t0);
}

const ss_progress_t *ss_cli_progress_get(const ss_cli_progress_t *pr)
{
    return pr->on ? &pr->p : NULL;
}

void ss_cli_progress_end(ss_cli_progress_t *pr)
{
    if (pr->on && pr->drawn) {
        fputs("\r\033[K", stderr);
        fflush(stderr);
    }
    pr->drawn = false;
    pr->on = false;
}
