#!/usr/bin/env node
'use strict';
// Governance end-to-end sender: emits GenAI spans described by the test (a JSON file) through the
// real OpenTelemetry JS SDK (BasicTracerProvider, OTLPTraceExporter http/protobuf) and prints
// what it sent as one JSON document on stdout.
//
// Usage: node governance_spans.js --endpoint URL --spans FILE
//
// FILE: {"resource": {...attributes...},
//        "spans": [{"label", "name", "traceId", "spanId", "startTimeUnixNano", "endTimeUnixNano",
//                   "attributes": {...}, "sends": 1|2}]}
// Every span is created with the SDK's tracer; the ids come from the file (an IdGenerator hands
// them out), so the test can send the same span again in a later run, as a client retry does.
// All spans go out in one export request; spans with "sends": 2 are exported once more in a
// second request (same trace and span id, same content): an immediate retry.
// Attribute values keep their JSON types: integers become OTLP intValue, other numbers
// doubleValue, strings stringValue (the SDK's mapping).
// Exits 1 when an export fails, 2 on bad arguments.

const fs = require('fs');
const api = require('@opentelemetry/api');
const { resourceFromAttributes } = require('@opentelemetry/resources');
const { BasicTracerProvider } = require('@opentelemetry/sdk-trace-base');
const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-proto');

const EXPORT_TIMEOUT_MS = 10000;

function usage(msg) {
  process.stderr.write(`governance_spans.js: ${msg}\n`);
  process.stderr.write('usage: node governance_spans.js --endpoint URL --spans FILE\n');
  process.exit(2);
}

function parseArgs(argv) {
  const out = {};
  for (let i = 0; i < argv.length; i++) {
    const m = /^--(endpoint|spans)(?:=(.*))?$/.exec(argv[i]);
    if (!m) usage(`unknown argument ${argv[i]}`);
    let v = m[2];
    if (v === undefined) {
      if (i + 1 >= argv.length) usage(`${argv[i]} needs a value`);
      v = argv[++i];
    }
    out[m[1]] = v;
  }
  if (!out.endpoint || !out.spans) usage('--endpoint and --spans are required');
  return out;
}

// Ids come from the spec: the test pushes the pair of the span about to start.
class GivenIdGenerator {
  constructor() {
    this.next = null;
  }
  generateTraceId() {
    if (!this.next) throw new Error('no trace id queued');
    return this.next.traceId;
  }
  generateSpanId() {
    if (!this.next) throw new Error('no span id queued');
    return this.next.spanId;
  }
}

// Ended spans are collected here and exported explicitly, so the test decides what goes in which
// request (a retry is the same ReadableSpan exported again).
class CollectingProcessor {
  constructor() {
    this.ended = [];
  }
  onStart() {}
  onEnd(span) {
    this.ended.push(span);
  }
  forceFlush() {
    return Promise.resolve();
  }
  shutdown() {
    return Promise.resolve();
  }
}

function hr(nsString) {
  const ns = BigInt(nsString);
  return [Number(ns / 1000000000n), Number(ns % 1000000000n)];
}

function exportOnce(exporter, spans) {
  return new Promise(resolve => {
    exporter.export(spans, result => {
      resolve(result.code === 0 ? null : String((result.error && result.error.message) || `code ${result.code}`));
    });
  });
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  let spec;
  try {
    spec = JSON.parse(fs.readFileSync(args.spans, 'utf8'));
  } catch (e) {
    usage(`cannot read ${args.spans}: ${e.message}`);
  }
  if (!Array.isArray(spec.spans) || spec.spans.length === 0) usage('spans: a non-empty list is required');

  const ids = new GivenIdGenerator();
  const collector = new CollectingProcessor();
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes(spec.resource || {}),
    idGenerator: ids,
    spanProcessors: [collector],
  });
  const tracer = provider.getTracer('genops-governance-e2e', '1.0.0');

  const byLabel = new Map();
  for (const s of spec.spans) {
    if (!/^[0-9a-f]{32}$/.test(s.traceId) || !/^[0-9a-f]{16}$/.test(s.spanId)) usage(`${s.label}: bad ids`);
    ids.next = s;
    const span = tracer.startSpan(
      s.name,
      { kind: api.SpanKind.CLIENT, startTime: hr(s.startTimeUnixNano), attributes: s.attributes },
      api.ROOT_CONTEXT
    );
    ids.next = null;
    span.setStatus({ code: api.SpanStatusCode.OK });
    span.end(hr(s.endTimeUnixNano));
    byLabel.set(s.label, span);
  }
  if (collector.ended.length !== spec.spans.length) {
    process.stderr.write(`governance_spans.js: ${collector.ended.length} spans ended, ${spec.spans.length} expected\n`);
    process.exit(1);
  }

  const exporter = new OTLPTraceExporter({
    url: `${args.endpoint.replace(/\/+$/, '')}/v1/traces`,
    timeoutMillis: EXPORT_TIMEOUT_MS,
  });
  const failures = [];
  const requests = [collector.ended];
  const again = spec.spans.filter(s => (s.sends || 1) > 1).map(s => collector.ended[spec.spans.indexOf(s)]);
  if (again.length) requests.push(again);
  for (const batch of requests) {
    const err = await exportOnce(exporter, batch);
    if (err) failures.push(err);
  }
  await exporter.shutdown();
  await provider.shutdown();
  if (failures.length) {
    process.stderr.write(`governance_spans.js: export failed: ${failures.join('; ')}\n`);
    process.exit(1);
  }

  // What the SDK recorded, for the test to compare with its spec (ids, times, attributes).
  const sent = spec.spans.map(s => {
    const span = byLabel.get(s.label);
    const ctx = span.spanContext();
    return {
      label: s.label,
      traceId: ctx.traceId,
      spanId: ctx.spanId,
      attributes: span.attributes,
      sends: s.sends || 1,
    };
  });
  process.stdout.write(JSON.stringify({ requests: requests.length, spans: sent }) + '\n');
}

main().catch(e => {
  process.stderr.write(`governance_spans.js: ${e && e.stack ? e.stack : e}\n`);
  process.exit(1);
});
