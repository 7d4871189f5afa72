/* ss_error: one table of error codes for the whole project, and a small
 * struct that carries a human message ("c.h5: dataset /pods/template has 7
 * rows, /pods/name has 8") from where an error is seen to where it is printed.
 *
 * Convention: functions return 0 on success or a negative SS_E* code, and fill
 * an ss_error_t the caller passes (may be NULL when the caller does not care).
 */
#ifndef SS_ERROR_H
#define SS_ERROR_H

#define SS_ERRNO_MAP(X)                                                                            \
    X(OK, 0, "success")                                                                            \
    X(EINVAL, -1, "invalid argument")                                                              \
    X(ENOMEM, -2, "out of memory")                                                                 \
    X(EIO, -3, "input/output error")                                                               \
    X(EFORMAT, -4, "malformed input")                                                              \
    X(EVERSION, -5, "unsupported format version")                                                  \
    X(ERANGE, -6, "value out of range")                                                            \
    X(EMPI, -7, "MPI error")                                                                       \
    X(ENOTFOUND, -8, "not found")                                                                  \
    X(EUNSUPPORTED, -9, "unsupported")                                                             \
    X(EPEER, -10, "error on another rank")                                                         \
    X(ENET, -11, "network error")

enum {
#define SS_ERRNO_ENUM(name, val, text) SS_##name = val,
    SS_ERRNO_MAP(SS_ERRNO_ENUM)
#undef SS_ERRNO_ENUM
};

typedef struct {
    char text[1024]; /* room for a long path, an object name (<= 317) and the reason */
} ss_error_t;

/* Static description of an error code; never NULL. */
const char *ss_strerror(int code);

/* Formats a message into err (if err is not NULL) and returns code, so that
 * callers can write `return ss_error_set(err, SS_EFORMAT, "%s: ...", path);`. */
int ss_error_set(ss_error_t *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prefixes the message already in err with "prefix: ". Returns code. */
int ss_error_prefix(ss_error_t *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
