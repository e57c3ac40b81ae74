/* Status codes shared by every layer. Functions return a gb_status; results go out through
 * parameters. GB_RETRY and GB_PERMANENT double as the consumer-contract answers: a receiver
 * maps RETRY to HTTP 503 / gRPC UNAVAILABLE and PERMANENT to HTTP 400 / gRPC INVALID_ARGUMENT. */
#ifndef GB_STATUS_H
#define GB_STATUS_H

typedef enum gb_status {
    GB_OK = 0,
    GB_ERR_NOMEM,       /* allocation failed or a memory bound was hit */
    GB_ERR_INVALID,     /* malformed input or argument */
    GB_ERR_RETRY,       /* transient: backpressure, peer unavailable; try again later */
    GB_ERR_PERMANENT,   /* the data can never be accepted: drop, count, report */
    GB_ERR_IO,          /* system call / socket / file failure */
    GB_ERR_NOTFOUND,    /* lookup missed */
    GB_ERR_LIMIT,       /* a configured size limit was exceeded */
    GB_ERR_UNSUPPORTED, /* valid but not implemented / not available in this build */
    GB_ERR_TIMEOUT,     /* deadline passed */
    GB_ERR_EXISTS,      /* duplicate */
    GB_ERR_STATE,       /* call not legal in the current lifecycle state */
} gb_status;

const char *gb_status_str(gb_status st);

#endif
