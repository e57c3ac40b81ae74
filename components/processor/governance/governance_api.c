/* governance processor: the budget API (GOVERNANCE.md §4), served on budget_api.endpoint by the
 * shared HTTP/1.1 server (components/extension/httpext).
 *
 *   GET /v1/budgets          200 {"budgets":[state, ...]}   every counter of the current windows
 *   GET /v1/budgets/{name}   200 {"budgets":[state, ...]}   the counters (groups) of one budget
 *                            404 {"error":"unknown budget \"x\""}
 *   other methods            405 {"error":"method not allowed"} with Allow: GET
 *   other paths              404 {"error":"not found"}
 * A state is gov_budget_state_json's object (name, group, window, window_start, reset_at, limit,
 * used, remaining, utilization, status, currency). The handler runs on a network worker and only
 * reads the store (gov_budgets_list is thread-safe).
 *
 * Rejected: a separate extension (it would need to find the processor's store across the graph;
 * each governance processor serving its own endpoint keeps several of them independent). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "governance_internal.h"

typedef struct list_ctx {
    gb_sbuf *out;
    const char *name; /* NULL = every budget */
    uint32_t n;
} list_ctx;

static void visit(const gov_budget_state *s, void *arg)
{
    list_ctx *l = arg;
    if (l->name && strcmp(s->def->name, l->name) != 0) return;
    if (l->n++) gb_sbuf_putc(l->out, ',');
    gov_budget_state_json(s, l->out);
}

__attribute__((format(printf, 3, 4))) static void json_error(net_http_response *resp, int status,
                                                             const char *fmt, ...)
{
    resp->status = status;
    net_http_resp_header(resp, "Content-Type", "application/json");
    gb_sbuf_puts(&resp->body, "{\"error\":\"");
    char text[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    gb_sbuf_json_escape(&resp->body, text, strlen(text));
    gb_sbuf_puts(&resp->body, "\"}");
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Percent-decodes s into out (NUL-terminated); false when malformed or too long. */
static bool pct_decode(gb_str s, char *out, size_t cap)
{
    size_t o = 0;
    for (uint32_t i = 0; i < s.len; i++) {
        char ch = s.ptr[i];
        if (ch == '%') {
            if (i + 2 >= s.len) return false;
            int h = hexval(s.ptr[i + 1]), l = hexval(s.ptr[i + 2]);
            if (h < 0 || l < 0) return false;
            ch = (char)(h * 16 + l);
            i += 2;
        }
        if (ch == 0 || o + 1 >= cap) return false;
        out[o++] = ch;
    }
    out[o] = 0;
    return true;
}

void governance_api_handle(const net_http_request *req, net_http_response *resp, void *arg)
{
    governance_core *core = arg;
    const gb_str base = GB_STR_LIT("/v1/budgets");
    gb_str path = req->path;
    char name[256];
    const char *want = NULL;
    if (gb_str_eq(path, base)) {
        want = NULL;
    } else if (path.len > base.len + 1 && gb_str_has_prefix(path, base) &&
               path.ptr[base.len] == '/') {
        gb_str rest = gb_str_n(path.ptr + base.len + 1, path.len - base.len - 1);
        if (memchr(rest.ptr, '/', rest.len) || !pct_decode(rest, name, sizeof name)) {
            json_error(resp, 404, "not found");
            return;
        }
        want = name;
    } else {
        json_error(resp, 404, "not found");
        return;
    }
    if (!gb_str_eq_c(req->method, "GET")) {
        net_http_resp_header(resp, "Allow", "GET");
        json_error(resp, 405, "method not allowed");
        return;
    }
    if (want) {
        bool known = false;
        for (uint32_t i = 0; i < core->cc.n_budgets; i++)
            if (!strcmp(core->cc.budgets[i].name, want)) known = true;
        if (!known) {
            json_error(resp, 404, "unknown budget \"%s\"", want);
            return;
        }
    }
    list_ctx l = {&resp->body, want, 0};
    gb_sbuf_puts(&resp->body, "{\"budgets\":[");
    if (core->budgets) {
        gb_status st = gov_budgets_list(core->budgets, (int64_t)time(NULL), visit, &l);
        if (st) {
            gb_sbuf_reset(&resp->body);
            json_error(resp, 500, "cannot read the budgets: %s", gb_status_str(st));
            return;
        }
    }
    gb_sbuf_puts(&resp->body, "]}");
    resp->status = 200;
    net_http_resp_header(resp, "Content-Type", "application/json");
}
