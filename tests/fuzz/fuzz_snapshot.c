/* fuzz_snapshot: libFuzzer harness of the snapshot reader (io/ss_snapshot.h,
 * ss_snapshot_read). It fuzzes the *contents* of a valid HDF5 file, not
 * libhdf5's object parser: a valid snapshot (tests/data/kube imported) is
 * opened in memory with the HDF5 core driver (backing store off, from its
 * file image), the input is read as a list of edits of its datasets (values,
 * string offsets, references between tables, extents), the edited image is
 * taken back with H5Fget_file_image and written to a scratch file, and
 * ss_snapshot_read must either reject it with a message or return a cluster
 * that validates.
 *
 * Edits, each starting with an op byte (op % 4), until the input ends:
 *   0 SET    ds:u8 index:u16 value:<element size bytes>   one element, raw
 *   1 EDGE   ds:u8 index:u16 which:u8    one element := an edge value (0, -1,
 *            INT32_MAX, the dataset's row count, ...)
 *   2 ROWS   group:u8 rows:u8            every dataset of a group recreated
 *                                        with that many rows (data kept or
 *                                        zero-filled)
 *   3 ROWS1  ds:u8 rows:u8               one dataset recreated the same way */
#include <hdf5.h>
#include <string.h>

#include "ss_fuzz.h"
#include "ss_h5util.h"
#include "ss_kube_import.h"
#include "ss_snapshot.h"

#ifndef SS_FUZZ_KUBE_DIR
#error SS_FUZZ_KUBE_DIR (tests/data/kube) must be defined
#endif

#define MAX_DS 128
#define MAX_EDITS 64

static unsigned char *base; /* the valid snapshot's file image */
static size_t base_len;
static char ds_path[MAX_DS][96]; /* its datasets, in name order */
static int n_ds;
static char group_path[MAX_DS][96]; /* the groups holding them */
static int n_groups;

static herr_t collect(hid_t loc, const char *name, const H5L_info_t *info, void *data)
{
    (void)info;
    (void)data;
    hid_t d = H5Dopen2(loc, name, H5P_DEFAULT);
    if (d < 0 || n_ds == MAX_DS) {
        if (d >= 0)
            H5Dclose(d);
        return 0;
    }
    H5Dclose(d);
    snprintf(ds_path[n_ds++], sizeof ds_path[0], "/%s", name);
    char g[96];
    snprintf(g, sizeof g, "/%s", name);
    char *slash = strrchr(g, '/');
    if (slash == g)
        return 0;
    *slash = '\0';
    for (int i = 0; i < n_groups; i++)
        if (!strcmp(group_path[i], g))
            return 0;
    snprintf(group_path[n_groups++], sizeof group_path[0], "%s", g);
    return 0;
}

static hid_t open_image(const void *img, size_t len, unsigned flags)
{
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    if (fapl < 0 || H5Pset_fapl_core(fapl, 1 << 16, 0) < 0 ||
        H5Pset_file_image(fapl, (void *)img, len) < 0) {
        fprintf(stderr, "fuzz_snapshot: cannot set up the core driver\n");
        abort();
    }
    hid_t f = H5Fopen("fuzz_snapshot_image", flags, fapl);
    H5Pclose(fapl);
    return f;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    ss_h5_quiet();
    ss_kube_opts_t o;
    ss_kube_opts_default(&o);
    o.log = NULL;
    ss_cluster_t *c = NULL;
    ss_error_t err = {0};
    char tmp[600];
    snprintf(tmp, sizeof tmp, "%s/base.h5", ss_fuzz_dir());
    if (ss_kube_import_files(SS_FUZZ_KUBE_DIR "/nodes.json", SS_FUZZ_KUBE_DIR "/pods.json",
                             SS_FUZZ_KUBE_DIR "/podgroups.json", &o, &c, NULL, &err) < 0 ||
        ss_snapshot_write(tmp, c, &err) < 0) {
        fprintf(stderr, "fuzz_snapshot: cannot build the base snapshot: %s\n", err.text);
        abort();
    }
    ss_cluster_destroy(c);
    FILE *f = fopen(tmp, "rb");
    if (!f || fseek(f, 0, SEEK_END) != 0 || (base_len = (size_t)ftell(f)) == 0 ||
        !(base = malloc(base_len)) || fseek(f, 0, SEEK_SET) != 0 ||
        fread(base, 1, base_len, f) != base_len) {
        fprintf(stderr, "fuzz_snapshot: cannot read %s back\n", tmp);
        abort();
    }
    fclose(f);
    hid_t h = open_image(base, base_len, H5F_ACC_RDONLY);
    if (h < 0 || H5Lvisit(h, H5_INDEX_NAME, H5_ITER_INC, collect, NULL) < 0 || n_ds == 0) {
        fprintf(stderr, "fuzz_snapshot: cannot list the datasets of the base snapshot\n");
        abort();
    }
    H5Fclose(h);
    return 0;
}

typedef struct {
    const uint8_t *p, *end;
} input_t;

static int take(input_t *in, void *out, size_t n)
{
    if ((size_t)(in->end - in->p) < n)
        return -1;
    memcpy(out, in->p, n);
    in->p += n;
    return 0;
}

/* Opens ds, with its type, element size, rank and dims; -1 on failure. */
static hid_t open_ds(hid_t f, const char *path, hid_t *type, size_t *esize, int *rank,
                     hsize_t dims[2], hsize_t *nelem)
{
    hid_t d = H5Dopen2(f, path, H5P_DEFAULT);
    if (d < 0)
        return -1;
    hid_t sp = H5Dget_space(d);
    *rank = sp < 0 ? -1 : H5Sget_simple_extent_ndims(sp);
    if (*rank < 1 || *rank > 2) {
        H5Sclose(sp);
        H5Dclose(d);
        return -1;
    }
    dims[1] = 1;
    H5Sget_simple_extent_dims(sp, dims, NULL);
    H5Sclose(sp);
    *nelem = dims[0] * (*rank == 2 ? dims[1] : 1);
    *type = H5Dget_type(d);
    *esize = H5Tget_size(*type);
    return d;
}

/* One element of ds := the esize bytes at val (little endian, as stored). */
static void set_elem(hid_t f, int ds, uint16_t index, const unsigned char *val, int edge)
{
    hid_t type;
    size_t esize;
    int rank;
    hsize_t dims[2], nelem;
    hid_t d = open_ds(f, ds_path[ds], &type, &esize, &rank, dims, &nelem);
    if (d < 0)
        return;
    unsigned char buf[64] = {0};
    if (nelem > 0 && esize <= sizeof buf) {
        hsize_t k = index % nelem;
        if (edge >= 0) {
            const int64_t edges[] = {0,
                                     -1,
                                     1,
                                     2,
                                     INT32_MAX,
                                     INT32_MIN,
                                     INT64_MAX,
                                     INT64_MIN,
                                     (int64_t)INT32_MAX + 1,
                                     (int64_t)dims[0],
                                     (int64_t)dims[0] - 1,
                                     (int64_t)dims[0] + 1,
                                     255,
                                     256,
                                     INT64_MAX / 2 + 1,
                                     -2};
            int64_t v = edges[edge % (int)(sizeof edges / sizeof *edges)];
            for (size_t b = 0; b < esize && b < 8; b++)
                buf[b] = (unsigned char)((uint64_t)v >> (8 * b));
            if (esize > 8 && v < 0)
                memset(buf + 8, 0xff, esize - 8);
        } else {
            memcpy(buf, val, esize);
        }
        hsize_t coord[2] = {rank == 2 ? k / dims[1] : k, rank == 2 ? k % dims[1] : 0};
        hid_t fs = H5Dget_space(d), ms = H5Screate_simple(1, (hsize_t[]){1}, NULL);
        if (H5Sselect_elements(fs, H5S_SELECT_SET, 1, coord) >= 0)
            H5Dwrite(d, type, ms, fs, H5P_DEFAULT, buf);
        H5Sclose(ms);
        H5Sclose(fs);
    }
    H5Tclose(type);
    H5Dclose(d);
}

/* Recreates dataset path with rows rows (the same type and columns), the
 * old data kept where it fits and zeros after it. */
static void set_rows(hid_t f, const char *path, hsize_t rows)
{
    hid_t type;
    size_t esize;
    int rank;
    hsize_t dims[2], nelem;
    hid_t d = open_ds(f, path, &type, &esize, &rank, dims, &nelem);
    if (d < 0)
        return;
    size_t row_bytes = esize * (rank == 2 ? dims[1] : 1);
    unsigned char *old = malloc(nelem * esize + 1);
    unsigned char *neu = calloc(rows * row_bytes + 1, 1);
    if (old && neu && (nelem == 0 || H5Dread(d, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, old) >= 0)) {
        memcpy(neu, old, (rows < dims[0] ? rows : dims[0]) * row_bytes);
        H5Dclose(d);
        d = -1;
        dims[0] = rows;
        hid_t sp = H5Screate_simple(rank, dims, NULL);
        if (H5Ldelete(f, path, H5P_DEFAULT) >= 0) {
            hid_t nd = H5Dcreate2(f, path, type, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
            if (nd >= 0 && rows > 0)
                H5Dwrite(nd, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, neu);
            if (nd >= 0)
                H5Dclose(nd);
        }
        H5Sclose(sp);
    }
    free(old);
    free(neu);
    if (d >= 0)
        H5Dclose(d);
    H5Tclose(type);
}

static void apply(hid_t f, input_t *in)
{
    for (int e = 0; e < MAX_EDITS; e++) {
        uint8_t op, a, b;
        uint16_t index;
        unsigned char val[16] = {0};
        if (take(in, &op, 1) < 0 || take(in, &a, 1) < 0)
            return;
        switch (op % 4) {
        case 0: /* SET: takes up to 16 bytes; the element uses its size */
            if (take(in, &index, 2) < 0)
                return;
            take(in, val, (size_t)(in->end - in->p) < 8 ? (size_t)(in->end - in->p) : 8);
            set_elem(f, a % n_ds, index, val, -1);
            break;
        case 1:
            if (take(in, &index, 2) < 0 || take(in, &b, 1) < 0)
                return;
            set_elem(f, a % n_ds, index, NULL, b);
            break;
        case 2: {
            if (take(in, &b, 1) < 0)
                return;
            const char *g = group_path[a % n_groups];
            size_t gl = strlen(g);
            for (int i = 0; i < n_ds; i++)
                if (!strncmp(ds_path[i], g, gl) && ds_path[i][gl] == '/' &&
                    !strchr(ds_path[i] + gl + 1, '/'))
                    set_rows(f, ds_path[i], b);
            break;
        }
        default:
            if (take(in, &b, 1) < 0)
                return;
            set_rows(f, ds_path[a % n_ds], b);
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    hid_t f = open_image(base, base_len, H5F_ACC_RDWR);
    if (f < 0) {
        fprintf(stderr, "fuzz_snapshot: cannot open the base image\n");
        abort();
    }
    input_t in = {data, data + size};
    apply(f, &in);
    H5Fflush(f, H5F_SCOPE_GLOBAL);
    ssize_t n = H5Fget_file_image(f, NULL, 0);
    unsigned char *img = n > 0 ? malloc((size_t)n) : NULL;
    if (!img || H5Fget_file_image(f, img, (size_t)n) != n) {
        fprintf(stderr, "fuzz_snapshot: cannot take the edited image\n");
        abort();
    }
    H5Fclose(f);
    const char *path = ss_fuzz_file(0, "snapshot.h5", img, (size_t)n);
    free(img);
    ss_cluster_t *c = (ss_cluster_t *)&in; /* must become NULL or a cluster */
    ss_error_t err = {0};
    int rc = ss_snapshot_read(path, &c, &err);
    if (rc < 0) {
        SS_FUZZ_CHECK(c == NULL, "failed read (%d: %s) left a cluster", rc, err.text);
        SS_FUZZ_CHECK(err.text[0] != '\0', "failed read (%d) without a message", rc);
    } else {
        ss_error_t verr = {0};
        SS_FUZZ_CHECK(rc == 0 && c, "read returned %d and cluster %p", rc, (void *)c);
        SS_FUZZ_CHECK(ss_cluster_validate(c, &verr) == 0, "read cluster does not validate: %s",
                      verr.text);
        ss_cluster_destroy(c);
    }
    return 0;
}
