#include "status.h"

const char *gb_status_str(gb_status st)
{
    switch (st) {
    case GB_OK: return "ok";
    case GB_ERR_NOMEM: return "out of memory";
    case GB_ERR_INVALID: return "invalid";
    case GB_ERR_RETRY: return "retryable failure";
    case GB_ERR_PERMANENT: return "permanent failure";
    case GB_ERR_IO: return "i/o error";
    case GB_ERR_NOTFOUND: return "not found";
    case GB_ERR_LIMIT: return "limit exceeded";
    case GB_ERR_UNSUPPORTED: return "unsupported";
    case GB_ERR_TIMEOUT: return "timeout";
    case GB_ERR_EXISTS: return "already exists";
    case GB_ERR_STATE: return "invalid state";
    }
    return "unknown status";
}
