/* OTLP codecs: protobuf (zero-copy decode into a batch arena, direct encode) and OTLP/JSON
 * (per the OTLP JSON mapping: hex trace/span ids, 64-bit integers as strings, enums as integers,
 * lowerCamelCase keys; decoders also accept the protobuf field names, enum names and numbers
 * written as strings, as the protobuf JSON mapping allows).
 *
 * Decoding: unknown fields are skipped, never fatal. Malformed input returns GB_ERR_INVALID with
 * a one-line reason in err (e.g. "proto: resource_spans: truncated length-delimited field").
 * Views in the batch point into `buf` (protobuf) or into the batch arena (JSON), and the batch
 * takes its own reference on buf.
 *
 * Encoding appends to a gb_sbuf (binary-safe); a limit on the sbuf bounds the output. */
#ifndef OTLP_OTLP_H
#define OTLP_OTLP_H

#include <stddef.h>
#include <stdint.h>

#include "../base/buf.h"
#include "../base/sbuf.h"
#include "../pdata/pdata.h"

typedef struct otlp_error {
    char msg[256];
} otlp_error;

/* Export{Trace,Metrics,Logs}ServiceRequest, signal taken from b->signal. data/len is the
 * serialized message, which must lie inside buf (or buf may be NULL when the caller guarantees
 * the bytes outlive the batch). Appends the decoded resources to b. */
gb_status otlp_decode_proto(pd_batch *b, gb_buf *buf, const uint8_t *data, size_t len,
                            otlp_error *err);
gb_status otlp_encode_proto(const pd_batch *b, gb_sbuf *out);
/* Same bytes without the final copy: the message is left where the encoder wrote it, inside sb's
 * storage, with at least `headroom` writable bytes just before *out (room for a gRPC 5-byte
 * prefix, say). sb->len is unchanged; *out stays valid until sb is used again. For exporters that
 * send straight from the encoder's buffer. */
gb_status otlp_encode_proto_inplace(const pd_batch *b, gb_sbuf *sb, size_t headroom,
                                    uint8_t **out, size_t *len);

gb_status otlp_decode_json(pd_batch *b, const char *data, size_t len, otlp_error *err);
gb_status otlp_encode_json(const pd_batch *b, gb_sbuf *out);

/* Export*ServiceResponse. rejected = 0 and msg = NULL give the empty (all-accepted) response;
 * otherwise partial_success {rejected_<items>, error_message}. */
gb_status otlp_encode_response_proto(pd_signal s, int64_t rejected, const char *msg,
                                     gb_sbuf *out);
gb_status otlp_encode_response_json(pd_signal s, int64_t rejected, const char *msg, gb_sbuf *out);
gb_status otlp_decode_response_proto(pd_signal s, const uint8_t *data, size_t len,
                                     int64_t *rejected, char *msg, size_t msg_size);
gb_status otlp_decode_response_json(pd_signal s, const char *data, size_t len, int64_t *rejected,
                                    char *msg, size_t msg_size);

/* google.rpc.Status {code, message} as returned in OTLP/HTTP error bodies. */
gb_status otlp_encode_status_proto(int32_t code, const char *msg, gb_sbuf *out);
gb_status otlp_encode_status_json(int32_t code, const char *msg, gb_sbuf *out);

/* gRPC status codes used by the receivers and exporters. */
enum {
    OTLP_GRPC_OK = 0,
    OTLP_GRPC_CANCELLED = 1,
    OTLP_GRPC_UNKNOWN = 2,
    OTLP_GRPC_INVALID_ARGUMENT = 3,
    OTLP_GRPC_DEADLINE_EXCEEDED = 4,
    OTLP_GRPC_NOT_FOUND = 5,
    OTLP_GRPC_PERMISSION_DENIED = 7,
    OTLP_GRPC_RESOURCE_EXHAUSTED = 8,
    OTLP_GRPC_FAILED_PRECONDITION = 9,
    OTLP_GRPC_ABORTED = 10,
    OTLP_GRPC_OUT_OF_RANGE = 11,
    OTLP_GRPC_UNIMPLEMENTED = 12,
    OTLP_GRPC_INTERNAL = 13,
    OTLP_GRPC_UNAVAILABLE = 14,
    OTLP_GRPC_DATA_LOSS = 15,
    OTLP_GRPC_UNAUTHENTICATED = 16,
};

#endif
