/* ss_mig_plan_io: the MIG re-layout of a placements file (issue 15,
 * docs/snapshot-format.md, docs/mig.md "Re-layout"): the /mig_relayout
 * group, written only when the placements re-lay out a GPU. The hooks that
 * io/ss_snapshot.c calls (the parallel writer, io/ss_snapshot_mpi.c, calls
 * ss_mig_plan_write too). */
#ifndef SS_MIG_PLAN_IO_H
#define SS_MIG_PLAN_IO_H

#include <hdf5.h>

#include "ss_error.h"
#include "ss_placements.h"

/* The /mig_relayout columns of p, flat (for the serial writer here and the
 * collective one, io/ss_snapshot_mpi.c): n rows of gpu (p->relayout_gpu,
 * borrowed), model, inst_begin, inst_count; m rows of inst_profile,
 * inst_start. Strings are borrowed from the ss_mig table. */
typedef struct {
    int32_t n, m;
    const int32_t *gpu;
    const char **model;
    int32_t *inst_begin, *inst_count;
    const char **inst_profile;
    int32_t *inst_start;
} ss_mig_plan_cols_t;

/* Fills cols from p (checked first: ss_mig_relayout_check without a
 * cluster). Returns 0, SS_EINVAL (err names fname) or SS_ENOMEM. */
int ss_mig_plan_cols(const char *fname, const ss_placements_t *p, ss_mig_plan_cols_t *cols,
                     ss_error_t *err);
void ss_mig_plan_cols_free(ss_mig_plan_cols_t *cols);

/* Writes /mig_relayout (gpu, model, inst_begin, inst_count, inst_profile,
 * inst_start) when p->n_relayout > 0; nothing otherwise. The rows must pass
 * ss_mig_relayout_check (without a cluster). Returns 0 or a negative code. */
int ss_mig_plan_write(hid_t f, const char *fname, const ss_placements_t *p, ss_error_t *err);

/* Reads /mig_relayout into p when the file has it (n_relayout 0 when not),
 * checking types, row counts, instance ranges, model and profile names and
 * every layout (ss_mig_relayout_check without a cluster). version: the
 * file's format_version (a file older than version 4 carrying the group is
 * refused once the format is at version 4). Errors name fname and the
 * dataset. */
int ss_mig_plan_read(hid_t f, const char *fname, int version, ss_placements_t *p, ss_error_t *err);

#endif
