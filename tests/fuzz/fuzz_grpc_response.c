/* Fuzz target: everything the gRPC client parses from a peer or from config - the
 * grpc-status-details-bin chain (base64 -> google.rpc.Status -> Any -> RetryInfo), response
 * framing with every encoding (bounded), and endpoint strings.
 * The first byte picks the encoding. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/sbuf.h"
#include "net/grpc_client.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *enc[] = {"identity", "gzip", "zstd", "snappy", "br", NULL};
    int64_t delay;
    net_grpc_parse_retry_info(data, size, &delay);

    uint8_t bin[4096];
    size_t n = 0;
    if (net_grpc_base64_decode((const char *)data, size, bin, sizeof(bin), &n) == GB_OK)
        net_grpc_parse_retry_info(bin, n, &delay);

    if (size > 0) {
        gb_sbuf out;
        gb_sbuf_init(&out, 0);
        net_grpc_unframe(data + 1, size - 1, enc[data[0] % 6], 1 << 16, &out);
        gb_sbuf_free(&out);
    }

    char ep[512];
    size_t l = size < sizeof(ep) - 1 ? size : sizeof(ep) - 1;
    memcpy(ep, data, l);
    ep[l] = '\0';
    net_grpc_endpoint e;
    char err[128];
    net_grpc_parse_endpoint(ep, &e, err, sizeof(err));
    return 0;
}
