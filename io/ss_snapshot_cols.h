/* ss_snapshot_cols: the one table of the snapshot format's columns (format
 * v3, docs/snapshot-format.md; each column says since which version it
 * exists, so version 1 files are still read), shared by the serial reader/writer
 * (ss_snapshot.c) and the parallel reader (ss_snapshot_mpi.c) so the two
 * can never disagree about a dataset. Internal to io/. */
#ifndef SS_SNAPSHOT_COLS_H
#define SS_SNAPSHOT_COLS_H

#include <stddef.h>

#include "ss_cluster.h"
#include "ss_h5util.h"

enum {
    T_NODES,
    T_GPUS,
    T_TEMPLATES,
    T_PODS,
    T_GROUPS,
    T_LABELS,
    T_TAINTS,
    T_TOLERATIONS,
    T_TERMS,
    T_EXPRS,
    T_VALUES,
    T_MODELS,
    T_SPREADS,
    T_PTERMS,
    T_NAMESPACES,
    T_PDBS,
    T_MIG_INSTS,
    T_COUNT
};

/* A table: rows counted by one int32 member of ss_cluster_t. */
typedef struct {
    const char *group;
    size_t count_off, cap_off;
} table_t;

/* Which rows of a column a rank reads in parallel: all of them, the rows of
 * its own nodes, or the GPU rows its nodes' ranges span. */
enum { R_ALL, R_NODES, R_GPUS };
#define W_EXT (-1)    /* width: one column per declared extended resource */
#define W_LEVELS (-2) /* width: one column per topology level (n_levels) */

/* A column: element (row i, column k) lives at
 * (*(char **)((char *)c + arr_off)) + i * stride + field_off + k * size. */
typedef struct {
    int table;
    const char *name;
    ss_h5_type_t type;
    int width; /* 1 (1-D dataset), W_LEVELS or W_EXT (2-D) */
    int rows;  /* R_ALL, R_NODES, R_GPUS */
    size_t arr_off, field_off, stride;
    int since; /* the format_version that added the column (1, 2 or 3) */
} col_t;

extern const table_t ss_snap_tables[T_COUNT];
/* The first column of each table is the one others' row counts are compared with. */
extern const col_t ss_snap_cols[];
extern const size_t ss_snap_ncols;

/* True iff col exists in a file of format_version version. */
static inline int ss_snap_col_in(const col_t *col, int version)
{
    return col->since <= version;
}

/* Helpers over the table (c's arrays are located through the offsets). */
int32_t *ss_snap_table_count(ss_cluster_t *c, int t);
char **ss_snap_col_array(ss_cluster_t *c, const col_t *col);
int ss_snap_col_width(const ss_cluster_t *c, const col_t *col);
void ss_snap_col_path(const col_t *col, char *buf, size_t n);
/* Checks that every column of every table in the open file f (of
 * format_version version) has the same row count, sets c's counts and
 * allocates c's arrays for them (zeroed). Columns newer than the file are not
 * looked for: their arrays are allocated zeroed (the neutral value of every
 * version 2 and 3 column), and a table with no column in the file has 0 rows.
 * Metadata only: the same on every rank. */
int ss_snap_size_tables(hid_t f, const char *fname, int version, ss_cluster_t *c, ss_error_t *err);

/* Reads the version 2 root attributes (default_spreading, locality) into c;
 * for a version 1 file sets their neutral values (NONE, OFF). Missing in a
 * version 2 file: SS_EFORMAT. Every rank may call it (attribute reads). */
int ss_snap_read_modes(hid_t f, const char *fname, int version, ss_cluster_t *c, ss_error_t *err);

/* What a version 3 file means in version 4's terms (docs/snapshot-format.md):
 * running MIG pods held no instance mask (they take the first free
 * instances, ss_cluster_mig_assign_running), and templates' SS_RULE_MIG bit
 * meant "not placed yet" (cleared: the engine places MIG pods). Called by
 * both readers after the columns, before validation. */
int ss_snap_upgrade(const char *fname, int version, ss_cluster_t *c, ss_error_t *err);

/* The topology levels (format version 6: /topology/level_key; before: the
 * five legacy levels, keys interned). After the strings, before the tables
 * are sized (the width of /nodes/topo is the level count). */
int ss_snap_read_levels(hid_t f, const char *fname, int version, ss_cluster_t *c, ss_error_t *err);
int ss_snap_write_levels(hid_t f, const char *fname, const ss_cluster_t *c, ss_error_t *err);
/* The node level of /nodes/topo must repeat the node's name. */
int ss_snap_check_topo_names(const char *fname, const ss_cluster_t *c, ss_error_t *err);

#endif
