/* Bounded decompression of request bodies (HTTP Content-Encoding, gRPC message encoding).
 * The output is one new gb_buf that never grows past max_out bytes: decompression stops as soon
 * as the limit would be exceeded (GB_ERR_LIMIT), so a compression bomb costs at most max_out
 * bytes of memory and the time to inflate max_out bytes. */
#ifndef NET_DECOMPRESS_H
#define NET_DECOMPRESS_H

#include <stddef.h>
#include <stdint.h>

#include "../base/buf.h"
#include "../base/str.h"

typedef enum net_encoding {
    NET_ENC_IDENTITY = 0,
    NET_ENC_GZIP,
    NET_ENC_DEFLATE, /* zlib stream (RFC 1950); raw deflate (RFC 1951) is accepted too */
    NET_ENC_ZSTD,
    NET_ENC_SNAPPY, /* snappy block format (as otelcol's confighttp "snappy") */
    NET_ENC_UNKNOWN,
} net_encoding;

/* Maps a Content-Encoding / grpc-encoding token (case-insensitive; "" and "identity" are
 * NET_ENC_IDENTITY, "x-gzip" is gzip) to an encoding; NET_ENC_UNKNOWN otherwise. */
net_encoding net_encoding_parse(gb_str token);
const char *net_encoding_name(net_encoding e);

/* Decompresses in[0..len) into a new buffer (*out, one reference). GB_ERR_LIMIT when the output
 * would exceed max_out (0 = no limit), GB_ERR_INVALID on corrupt or truncated input (err gets a
 * reason), GB_ERR_UNSUPPORTED for unknown encodings. */
gb_status net_decompress(net_encoding enc, const uint8_t *in, size_t len, size_t max_out,
                         gb_buf **out, char *err, size_t err_size);

#endif
