#!/usr/bin/env node
'use strict';
// Interop sender: emits a fixed, rich set of traces, metrics or logs through the real
// OpenTelemetry JS SDK and one of its OTLP exporters (http/json, http/protobuf, grpc), then
// prints what the collector must have received as one JSON document on stdout.
//
// Usage: node send.js --protocol http/json|http/protobuf|grpc --endpoint URL
//                     --signal traces|metrics|logs --run-id ID [--compression none|gzip]
//
// The endpoint is the base URL: http exporters post to URL/v1/<signal>, grpc dials URL.
// Ids are derived from the run id (custom IdGenerator), span and log times are explicit with
// nanosecond digits, metric values come from fixed recordings. The expected document uses the
// OTLP/JSON shape (lowerCamelCase, hex ids, 64-bit integers as strings, enums as integers) so
// the test compares it field by field with the collector's file exporter output. Values the SDK
// chooses itself (metric timestamps, default resource attributes) are taken from the SDK's data
// at export time, before encoding; everything else is computed here from the inputs.
// Exits 1 when an export fails or the SDK did not record what was asked.

const crypto = require('crypto');
const api = require('@opentelemetry/api');
const { TraceState } = require('@opentelemetry/core');
const { resourceFromAttributes, defaultResource } = require('@opentelemetry/resources');
const { BasicTracerProvider, BatchSpanProcessor } = require('@opentelemetry/sdk-trace-base');
const { StackContextManager } = require('@opentelemetry/sdk-trace');
const {
  MeterProvider,
  PeriodicExportingMetricReader,
  AggregationTemporality,
  DataPointType,
} = require('@opentelemetry/sdk-metrics');
const { LoggerProvider, BatchLogRecordProcessor } = require('@opentelemetry/sdk-logs');
const { SeverityNumber } = require('@opentelemetry/api-logs');

const EXPORTERS = {
  'http/json': {
    traces: () => require('@opentelemetry/exporter-trace-otlp-http').OTLPTraceExporter,
    metrics: () => require('@opentelemetry/exporter-metrics-otlp-http').OTLPMetricExporter,
    logs: () => require('@opentelemetry/exporter-logs-otlp-http').OTLPLogExporter,
  },
  'http/protobuf': {
    traces: () => require('@opentelemetry/exporter-trace-otlp-proto').OTLPTraceExporter,
    metrics: () => require('@opentelemetry/exporter-metrics-otlp-proto').OTLPMetricExporter,
    logs: () => require('@opentelemetry/exporter-logs-otlp-proto').OTLPLogExporter,
  },
  grpc: {
    traces: () => require('@opentelemetry/exporter-trace-otlp-grpc').OTLPTraceExporter,
    metrics: () => require('@opentelemetry/exporter-metrics-otlp-grpc').OTLPMetricExporter,
    logs: () => require('@opentelemetry/exporter-logs-otlp-grpc').OTLPLogExporter,
  },
};

const SCOPE_VERSION = '1.4.2';
const SCOPE_SCHEMA_URL = 'https://opentelemetry.io/schemas/1.26.0';
const RESOURCE_SCHEMA_URL = 'https://opentelemetry.io/schemas/1.25.0';
const EXPORT_TIMEOUT_MS = 10000;

function usage(msg) {
  process.stderr.write(`send.js: ${msg}\n`);
  process.stderr.write(
    'usage: node send.js --protocol http/json|http/protobuf|grpc --endpoint URL ' +
      '--signal traces|metrics|logs --run-id ID [--compression none|gzip]\n'
  );
  process.exit(2);
}

function parseArgs(argv) {
  const out = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const m = /^--(protocol|endpoint|signal|run-id|compression)(?:=(.*))?$/.exec(a);
    if (!m) usage(`unknown argument ${a}`);
    let v = m[2];
    if (v === undefined) {
      if (i + 1 >= argv.length) usage(`${a} needs a value`);
      v = argv[++i];
    }
    out[m[1]] = v;
  }
  for (const k of ['protocol', 'endpoint', 'signal', 'run-id']) {
    if (!out[k]) usage(`--${k} is required`);
  }
  if (!EXPORTERS[out.protocol]) usage(`bad --protocol ${out.protocol}`);
  if (!['traces', 'metrics', 'logs'].includes(out.signal)) usage(`bad --signal ${out.signal}`);
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(out['run-id'])) usage('--run-id must be [A-Za-z0-9._-]{1,64}');
  out.compression = out.compression || 'none';
  if (!['none', 'gzip'].includes(out.compression)) usage(`bad --compression ${out.compression}`);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Deterministic ids and times

function hexId(runId, label, bytes) {
  const h = crypto.createHash('sha256').update(`${runId}/${label}`).digest('hex');
  return h.slice(0, bytes * 2);
}

class SeqIdGenerator {
  constructor(runId) {
    this.runId = runId;
    this.t = 0;
    this.s = 0;
  }
  generateTraceId() {
    return hexId(this.runId, `trace-${this.t++}`, 16);
  }
  generateSpanId() {
    return hexId(this.runId, `span-${this.s++}`, 8);
  }
}

// All explicit times are BASE_SEC + an offset in nanoseconds, as HrTime, so the nanosecond
// digits survive (a millisecond number would not carry them).
const BASE_SEC = Math.floor(Date.now() / 1000) - 5;
function hr(offsetNs) {
  return [BASE_SEC + Math.floor(offsetNs / 1e9), offsetNs % 1e9];
}
function hrToNs(t) {
  return (BigInt(t[0]) * 1000000000n + BigInt(t[1])).toString();
}

// ---------------------------------------------------------------------------------------------
// OTLP/JSON shapes of attribute values, computed from the JS values per the OTLP mapping the SDK
// follows: string, boolean, integral number -> intValue, other number -> doubleValue, arrays,
// plain objects -> kvlistValue, Uint8Array -> bytesValue.

function anyValue(v) {
  if (typeof v === 'string') return { stringValue: v };
  if (typeof v === 'boolean') return { boolValue: v };
  if (typeof v === 'number') {
    return Number.isInteger(v) ? { intValue: String(v) } : { doubleValue: v };
  }
  if (v instanceof Uint8Array) return { bytesValue: Buffer.from(v).toString('base64') };
  if (Array.isArray(v)) return { arrayValue: { values: v.map(anyValue) } };
  if (v && typeof v === 'object') return { kvlistValue: { values: keyValues(v) } };
  throw new Error(`no OTLP mapping for ${typeof v}`);
}
function keyValues(obj) {
  return Object.keys(obj || {}).map(k => ({ key: k, value: anyValue(obj[k]) }));
}

function resourceJson(resource) {
  // Only synchronous attributes are used here, so the resource is settled.
  return { attributes: keyValues(resource.attributes) };
}

// ---------------------------------------------------------------------------------------------
// Export bookkeeping: wrap the real exporter to record results and the SDK data handed to it.

function wrapExporter(exporter, state) {
  return {
    export(items, resultCallback) {
      state.exports++;
      state.batches.push(items);
      exporter.export(items, result => {
        if (result.code !== 0) {
          state.failures.push(result.error ? String(result.error.message || result.error) : 'code ' + result.code);
        }
        resultCallback(result);
      });
    },
    shutdown() {
      return exporter.shutdown();
    },
    forceFlush() {
      return exporter.forceFlush ? exporter.forceFlush() : Promise.resolve();
    },
    selectAggregationTemporality: exporter.selectAggregationTemporality
      ? t => exporter.selectAggregationTemporality(t)
      : undefined,
    selectAggregation: exporter.selectAggregation ? t => exporter.selectAggregation(t) : undefined,
  };
}

async function settle(state, what, promise) {
  try {
    await promise;
  } catch (e) {
    state.failures.push(`${what}: ${e && e.message ? e.message : e}`);
  }
}

function makeExporter(args) {
  const Ctor = EXPORTERS[args.protocol][args.signal]();
  const base = args.endpoint.replace(/\/+$/, '');
  const url = args.protocol === 'grpc' ? base : `${base}/v1/${args.signal}`;
  return new Ctor({ url, timeoutMillis: EXPORT_TIMEOUT_MS, compression: args.compression });
}

function makeResource(args) {
  return defaultResource().merge(
    resourceFromAttributes(
      {
        'service.name': 'genops-interop-js',
        'service.version': '2.3.1',
        'service.namespace': 'genops.interop',
        'service.instance.id': args['run-id'],
        'deployment.environment.name': 'test',
        'genops.interop.run_id': args['run-id'],
        'genops.interop.protocol': args.protocol,
        'genops.interop.signal': args.signal,
        'host.cpu.count': 2,
      },
      { schemaUrl: RESOURCE_SCHEMA_URL }
    )
  );
}

// ---------------------------------------------------------------------------------------------
// Traces

const ALL_TYPES = {
  'attr.string': 'héllo, wörld ✓ 世界',
  'attr.string.empty': '',
  'attr.bool.true': true,
  'attr.bool.false': false,
  'attr.int': 42,
  'attr.int.negative': -7,
  'attr.int.zero': 0,
  'attr.int.big': 9007199254740991,
  'attr.double': 3.14159,
  'attr.double.negative': -0.000125,
  'attr.string_array': ['alpha', 'beta', ''],
  'attr.int_array': [1, -2, 3000000000],
  'attr.double_array': [0.5, 1.25, -2.75],
  'attr.bool_array': [true, false, true],
};

const GENAI = {
  'gen_ai.provider.name': 'openai',
  'gen_ai.system': 'openai',
  'gen_ai.operation.name': 'chat',
  'gen_ai.request.model': 'gpt-4o-mini',
  'gen_ai.response.model': 'gpt-4o-mini-2024-07-18',
  'gen_ai.request.temperature': 0.2,
  'gen_ai.request.max_tokens': 512,
  'gen_ai.usage.input_tokens': 1234,
  'gen_ai.usage.output_tokens': 87,
  'gen_ai.response.finish_reasons': ['stop'],
  'genops.team': 'ml-platform',
  'genops.customer_id': 'cust-0042',
  'genops.cost.total': 0.01875,
  'genops.project': 'interop',
};

function spanJson(span) {
  const ctx = span.spanContext();
  const parent = span.parentSpanContext;
  const out = {
    traceId: ctx.traceId,
    spanId: ctx.spanId,
    parentSpanId: parent && parent.spanId ? parent.spanId : '',
    traceState: ctx.traceState ? ctx.traceState.serialize() : '',
    // OTLP flags: W3C trace flags in the low byte, plus "has is_remote" (0x100) and
    // "is_remote" (0x200) for the parent.
    flags: (ctx.traceFlags & 0xff) | 0x100 | (parent && parent.isRemote ? 0x200 : 0),
    name: span.name,
    kind: span.kind + 1, // API enum starts at INTERNAL=0; OTLP has UNSPECIFIED=0
    startTimeUnixNano: hrToNs(span.startTime),
    endTimeUnixNano: hrToNs(span.endTime),
    attributes: keyValues(span.attributes),
    droppedAttributesCount: span.droppedAttributesCount || 0,
    events: span.events.map(e => ({
      timeUnixNano: hrToNs(e.time),
      name: e.name,
      attributes: keyValues(e.attributes),
      droppedAttributesCount: e.droppedAttributesCount || 0,
    })),
    droppedEventsCount: span.droppedEventsCount || 0,
    links: span.links.map(l => ({
      traceId: l.context.traceId,
      spanId: l.context.spanId,
      traceState: l.context.traceState ? l.context.traceState.serialize() : '',
      attributes: keyValues(l.attributes),
      droppedAttributesCount: l.droppedAttributesCount || 0,
      flags: (l.context.traceFlags & 0xff) | 0x100 | (l.context.isRemote ? 0x200 : 0),
    })),
    droppedLinksCount: span.droppedLinksCount || 0,
    status: { code: span.status.code, message: span.status.message || '' },
  };
  return out;
}

function emitTraces(args, tracer) {
  const runId = args['run-id'];
  const { SpanKind, SpanStatusCode, trace, ROOT_CONTEXT } = api;
  const ms = 1e6;

  // Trace 1: SERVER root -> CLIENT (gen_ai call) -> INTERNAL, and an INTERNAL sibling that fails.
  const root = tracer.startSpan(
    'POST /v1/chat/completions',
    {
      kind: SpanKind.SERVER,
      startTime: hr(1 * ms + 123),
      attributes: {
        ...ALL_TYPES,
        'http.request.method': 'POST',
        'http.response.status_code': 200,
        'url.path': '/v1/chat/completions',
        'genops.interop.run_id': runId,
      },
    },
    ROOT_CONTEXT
  );
  root.addEvent('request.received', { 'http.request.body.size': 2048, 'client.address': '10.1.2.3' }, hr(2 * ms + 7));
  root.addEvent('no.attributes', hr(3 * ms + 1));
  const rootCtx = trace.setSpan(ROOT_CONTEXT, root);

  const linked = {
    traceId: hexId(runId, 'linked-trace', 16),
    spanId: hexId(runId, 'linked-span', 8),
    traceFlags: api.TraceFlags.SAMPLED,
    isRemote: true,
    traceState: new TraceState('genops=team:ml,vendor=x1'),
  };
  const client = tracer.startSpan(
    'chat gpt-4o-mini',
    {
      kind: SpanKind.CLIENT,
      startTime: hr(10 * ms + 456),
      attributes: { ...GENAI, 'server.address': 'api.openai.com', 'server.port': 443 },
      links: [{ context: linked, attributes: { 'link.reason': 'retry-of', 'link.attempt': 2 } }],
    },
    rootCtx
  );
  client.addEvent(
    'gen_ai.content.prompt',
    { 'gen_ai.prompt': 'Summarize the quarterly report.', 'gen_ai.prompt.tokens': 1234 },
    hr(11 * ms + 999)
  );
  const clientCtx = trace.setSpan(rootCtx, client);

  const tokenize = tracer.startSpan(
    'tokenize',
    { kind: SpanKind.INTERNAL, startTime: hr(12 * ms + 1), attributes: { 'tokenizer.name': 'o200k_base', 'tokens.count': 1234 } },
    clientCtx
  );
  tokenize.end(hr(13 * ms + 2));
  client.setStatus({ code: SpanStatusCode.OK });
  client.end(hr(180 * ms + 789));

  const policy = tracer.startSpan(
    'genops.policy.check',
    { kind: SpanKind.INTERNAL, startTime: hr(181 * ms + 5), attributes: { 'genops.policy.name': 'cost_limit', 'genops.budget.limit': 10.5 } },
    rootCtx
  );
  policy.addEvent(
    'exception',
    { 'exception.type': 'BudgetExceeded', 'exception.message': 'monthly budget of 10.5 USD exceeded', 'exception.escaped': false },
    hr(182 * ms + 6)
  );
  policy.setStatus({ code: SpanStatusCode.ERROR, message: 'budget exceeded: 12.75 > 10.5 USD' });
  policy.end(hr(183 * ms + 7));

  root.setStatus({ code: SpanStatusCode.OK });
  root.end(hr(250 * ms + 8));

  // Trace 2: a CONSUMER span continuing a remote parent (is_remote flag, trace state) with a
  // PRODUCER child.
  const remoteParent = {
    traceId: hexId(runId, 'remote-trace', 16),
    spanId: hexId(runId, 'remote-span', 8),
    traceFlags: api.TraceFlags.SAMPLED,
    isRemote: true,
    traceState: new TraceState('genops=t61rcWkgMzE'),
  };
  const remoteCtx = trace.setSpanContext(ROOT_CONTEXT, remoteParent);
  const consume = tracer.startSpan(
    'genops.events process',
    { kind: SpanKind.CONSUMER, startTime: hr(300 * ms), attributes: { 'messaging.system': 'kafka', 'messaging.destination.name': 'genops.events', 'messaging.batch.message_count': 3 } },
    remoteCtx
  );
  const produce = tracer.startSpan(
    'genops.ledger publish',
    { kind: SpanKind.PRODUCER, startTime: hr(301 * ms + 11), attributes: { 'messaging.system': 'kafka', 'messaging.destination.name': 'genops.ledger' } },
    trace.setSpan(remoteCtx, consume)
  );
  produce.end(hr(302 * ms + 12));
  consume.end(hr(310 * ms + 13));

  return 6;
}

// ---------------------------------------------------------------------------------------------
// Metrics

const BOUNDS = [1, 4, 16, 64, 256, 1024];

function histogramOf(values, bounds) {
  const counts = new Array(bounds.length + 1).fill(0);
  for (const v of values) {
    let i = 0;
    while (i < bounds.length && v > bounds[i]) i++; // bucket i holds (bounds[i-1], bounds[i]]
    counts[i]++;
  }
  return {
    count: values.length,
    sum: values.reduce((a, b) => a + b, 0),
    min: Math.min(...values),
    max: Math.max(...values),
    bucketCounts: counts,
    explicitBounds: bounds,
  };
}

function emitMetrics(args, meter) {
  const runId = args['run-id'];
  const common = { 'genops.team': 'ml-platform', 'genops.customer_id': 'cust-0042', 'genops.interop.run_id': runId };
  const expected = [];

  const counter = meter.createCounter('genops.requests', {
    description: 'Requests handled, by route',
    unit: '{request}',
    valueType: api.ValueType.INT,
  });
  const cA = { ...common, 'http.route': '/v1/chat/completions', 'gen_ai.request.model': 'gpt-4o-mini' };
  const cB = { ...common, 'http.route': '/v1/embeddings', 'http.response.status_code': 200 };
  [1, 2, 4].forEach(v => counter.add(v, cA));
  counter.add(5, cB);
  expected.push({
    name: 'genops.requests',
    description: 'Requests handled, by route',
    unit: '{request}',
    type: 'sum',
    aggregationTemporality: 2,
    isMonotonic: true,
    points: [
      { attributes: keyValues(cA), asInt: '7' },
      { attributes: keyValues(cB), asInt: '5' },
    ],
  });

  const updown = meter.createUpDownCounter('genops.requests.inflight', {
    description: 'Requests in flight',
    unit: '{request}',
    valueType: api.ValueType.DOUBLE,
  });
  const uA = { ...common, 'server.address': 'api.openai.com' };
  updown.add(3.5, uA);
  updown.add(-1.25, uA);
  updown.add(-2.5, {});
  expected.push({
    name: 'genops.requests.inflight',
    description: 'Requests in flight',
    unit: '{request}',
    type: 'sum',
    aggregationTemporality: 2,
    isMonotonic: false,
    points: [
      { attributes: keyValues(uA), asDouble: 2.25 },
      { attributes: [], asDouble: -2.5 },
    ],
  });

  const gauge = meter.createObservableGauge('genops.budget.remaining', {
    description: 'Budget left in the current period',
    unit: 'USD',
    valueType: api.ValueType.DOUBLE,
  });
  const gA = { ...common, 'genops.budget.name': 'monthly' };
  const gB = { ...common, 'genops.budget.name': 'daily', 'genops.budget.hard_limit': true };
  gauge.addCallback(obs => {
    obs.observe(1234.5625, gA);
    obs.observe(-0.75, gB);
  });
  expected.push({
    name: 'genops.budget.remaining',
    description: 'Budget left in the current period',
    unit: 'USD',
    type: 'gauge',
    points: [
      { attributes: keyValues(gA), asDouble: 1234.5625 },
      { attributes: keyValues(gB), asDouble: -0.75 },
    ],
  });

  const hist = meter.createHistogram('gen_ai.client.token.usage', {
    description: 'Tokens used per GenAI call',
    unit: '{token}',
    valueType: api.ValueType.INT,
    advice: { explicitBucketBoundaries: BOUNDS },
  });
  const hIn = { ...common, 'gen_ai.token.type': 'input', 'gen_ai.request.model': 'gpt-4o-mini' };
  const hOut = { ...common, 'gen_ai.token.type': 'output', 'gen_ai.request.model': 'gpt-4o-mini' };
  const inVals = [3, 17, 17, 64, 900, 5000];
  const outVals = [1, 250];
  inVals.forEach(v => hist.record(v, hIn));
  outVals.forEach(v => hist.record(v, hOut));
  expected.push({
    name: 'gen_ai.client.token.usage',
    description: 'Tokens used per GenAI call',
    unit: '{token}',
    type: 'histogram',
    aggregationTemporality: 2,
    points: [
      { attributes: keyValues(hIn), ...histogramOf(inVals, BOUNDS) },
      { attributes: keyValues(hOut), ...histogramOf(outVals, BOUNDS) },
    ],
  });

  const dur = meter.createHistogram('genops.request.duration', {
    description: 'Request duration',
    unit: 's',
    advice: { explicitBucketBoundaries: [0.005, 0.025, 0.1, 0.5, 2.5] },
  });
  const dA = { ...common, 'http.route': '/v1/chat/completions' };
  const durVals = [0.0031, 0.0042, 0.09, 0.75];
  durVals.forEach(v => dur.record(v, dA));
  expected.push({
    name: 'genops.request.duration',
    description: 'Request duration',
    unit: 's',
    type: 'histogram',
    aggregationTemporality: 2,
    points: [{ attributes: keyValues(dA), ...histogramOf(durVals, [0.005, 0.025, 0.1, 0.5, 2.5]) }],
  });
  return expected;
}

// Fill in timestamps from the SDK data handed to the exporter and check that the SDK aggregated
// what we recorded (the expectation must describe what the SDK meant to send).
function finishMetrics(expected, batches, problems) {
  const sdkMetrics = new Map();
  for (const rm of batches) {
    for (const sm of rm.scopeMetrics) {
      for (const m of sm.metrics) {
        if (sdkMetrics.has(m.descriptor.name)) problems.push(`metric ${m.descriptor.name} exported twice`);
        sdkMetrics.set(m.descriptor.name, m);
      }
    }
  }
  const attrKey = kvs => JSON.stringify(kvs.map(kv => [kv.key, kv.value]).sort());
  for (const e of expected) {
    const m = sdkMetrics.get(e.name);
    if (!m) {
      problems.push(`SDK did not export metric ${e.name}`);
      continue;
    }
    const wantType = { sum: DataPointType.SUM, gauge: DataPointType.GAUGE, histogram: DataPointType.HISTOGRAM }[e.type];
    if (m.dataPointType !== wantType) problems.push(`${e.name}: SDK data point type ${m.dataPointType}`);
    if (e.aggregationTemporality !== undefined && m.aggregationTemporality !== AggregationTemporality.CUMULATIVE) {
      problems.push(`${e.name}: SDK temporality ${m.aggregationTemporality}`);
    }
    const byAttrs = new Map(m.dataPoints.map(dp => [attrKey(keyValues(dp.attributes)), dp]));
    if (byAttrs.size !== e.points.length) problems.push(`${e.name}: SDK has ${byAttrs.size} points, expected ${e.points.length}`);
    for (const p of e.points) {
      const dp = byAttrs.get(attrKey(p.attributes));
      if (!dp) {
        problems.push(`${e.name}: SDK has no point for ${attrKey(p.attributes)}`);
        continue;
      }
      p.startTimeUnixNano = hrToNs(dp.startTime);
      p.timeUnixNano = hrToNs(dp.endTime);
      const v = dp.value;
      if (e.type === 'histogram') {
        if (v.count !== p.count || Math.abs(v.sum - p.sum) > 1e-9 || v.min !== p.min || v.max !== p.max ||
            JSON.stringify(v.buckets.counts) !== JSON.stringify(p.bucketCounts) ||
            JSON.stringify(v.buckets.boundaries) !== JSON.stringify(p.explicitBounds)) {
          problems.push(`${e.name}: SDK histogram ${JSON.stringify(v)} differs from recorded ${JSON.stringify(p)}`);
        }
        p.sum = v.sum; // the SDK's own float summation is what goes on the wire
        p.count = String(p.count);
        p.bucketCounts = p.bucketCounts.map(String);
      } else {
        const want = p.asInt !== undefined ? Number(p.asInt) : p.asDouble;
        if (Math.abs(v - want) > 1e-9) problems.push(`${e.name}: SDK value ${v}, recorded ${want}`);
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Logs

function logJson(rec) {
  const sc = rec.spanContext;
  const out = {
    timeUnixNano: hrToNs(rec.hrTime),
    observedTimeUnixNano: hrToNs(rec.hrTimeObserved),
    severityNumber: rec.severityNumber || 0,
    severityText: rec.severityText || '',
    attributes: keyValues(rec.attributes),
    droppedAttributesCount: rec.droppedAttributesCount || 0,
    flags: sc ? sc.traceFlags : 0,
    traceId: sc ? sc.traceId : '',
    spanId: sc ? sc.spanId : '',
    eventName: rec.eventName || '',
  };
  if (rec.body !== undefined) out.body = anyValue(rec.body);
  return out;
}

function emitLogs(args, logger, tracer) {
  const runId = args['run-id'];
  const ms = 1e6;
  const { trace, ROOT_CONTEXT, SpanKind } = api;
  const span = tracer.startSpan('chat gpt-4o-mini', { kind: SpanKind.CLIENT, startTime: hr(0) }, ROOT_CONTEXT);
  const active = trace.setSpan(ROOT_CONTEXT, span);
  const common = { 'genops.interop.run_id': runId, 'genops.team': 'ml-platform' };

  api.context.with(active, () => {
    logger.emit({
      timestamp: hr(1 * ms + 101),
      observedTimestamp: hr(1 * ms + 202),
      severityNumber: SeverityNumber.INFO,
      severityText: 'INFO',
      body: 'chat completion finished in 180 ms',
      attributes: { ...common, ...GENAI, 'code.function.name': 'complete' },
    });
    logger.emit({
      eventName: 'genops.budget.exceeded',
      timestamp: hr(2 * ms + 303),
      observedTimestamp: hr(2 * ms + 404),
      severityNumber: SeverityNumber.ERROR,
      severityText: 'ERROR',
      body: {
        event: 'budget.exceeded',
        'amount.usd': 12.75,
        'limit.usd': 10,
        hard: true,
        tags: ['cost', 'monthly'],
        customer: { id: 'cust-0042', tier: 'enterprise', seats: 40 },
      },
      attributes: { ...common, 'genops.customer_id': 'cust-0042', 'genops.budget.name': 'monthly' },
    });
  });
  span.end(hr(3 * ms));

  // Outside any span: no trace context on the record.
  logger.emit({
    timestamp: hr(4 * ms + 505),
    observedTimestamp: hr(4 * ms + 606),
    severityNumber: SeverityNumber.WARN2,
    severityText: 'WARN2',
    body: 'pricing table is 3 days old',
    attributes: { ...common, 'attr.int_array': [1, 2, 3], 'attr.double': 0.5, 'attr.bool': false },
  });
  logger.emit({
    timestamp: hr(5 * ms + 707),
    observedTimestamp: hr(5 * ms + 808),
    severityNumber: SeverityNumber.DEBUG,
    severityText: 'debug',
    body: new Uint8Array([0, 1, 2, 250, 251, 252, 253, 254, 255]),
    attributes: { ...common },
  });
  return 4;
}

// ---------------------------------------------------------------------------------------------

async function main() {
  const args = parseArgs(process.argv.slice(2));
  api.diag.setLogger(
    { error: m => process.stderr.write(`otel error: ${m}\n`), warn: m => process.stderr.write(`otel warn: ${m}\n`),
      info: () => {}, debug: () => {}, verbose: () => {} },
    api.DiagLogLevel.WARN
  );
  api.context.setGlobalContextManager(new StackContextManager().enable());

  const state = { exports: 0, batches: [], failures: [] };
  const problems = [];
  const resource = makeResource(args);
  const scopeName = `genops.interop.js.${args.signal}`;
  const doc = {
    runId: args['run-id'],
    protocol: args.protocol,
    signal: args.signal,
    resource: resourceJson(resource),
    resourceSchemaUrl: RESOURCE_SCHEMA_URL,
    scope: { name: scopeName, version: SCOPE_VERSION },
    scopeSchemaUrl: SCOPE_SCHEMA_URL,
  };
  const exporter = wrapExporter(makeExporter(args), state);

  if (args.signal === 'traces') {
    const provider = new BasicTracerProvider({
      resource,
      idGenerator: new SeqIdGenerator(args['run-id']),
      spanProcessors: [new BatchSpanProcessor(exporter, { maxExportBatchSize: 512, scheduledDelayMillis: 60000, exportTimeoutMillis: EXPORT_TIMEOUT_MS })],
    });
    const tracer = provider.getTracer(scopeName, SCOPE_VERSION, { schemaUrl: SCOPE_SCHEMA_URL });
    const n = emitTraces(args, tracer);
    await settle(state, 'traces flush', provider.forceFlush());
    await settle(state, 'traces shutdown', provider.shutdown());
    const spans = state.batches.flat();
    if (spans.length !== n) problems.push(`SDK exported ${spans.length} spans, expected ${n}`);
    doc.spans = spans.map(spanJson);
  } else if (args.signal === 'metrics') {
    const provider = new MeterProvider({
      resource,
      readers: [new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 600000, exportTimeoutMillis: EXPORT_TIMEOUT_MS })],
    });
    const meter = provider.getMeter(scopeName, SCOPE_VERSION, { schemaUrl: SCOPE_SCHEMA_URL });
    const expected = emitMetrics(args, meter);
    // One collection only: shutdown collects and exports once (a forceFlush before it would
    // export a second, later cumulative snapshot).
    await settle(state, 'metrics shutdown', provider.shutdown());
    if (state.exports !== 1) problems.push(`SDK made ${state.exports} metric exports, expected 1`);
    finishMetrics(expected, state.batches, problems);
    doc.metrics = expected;
  } else {
    const tracerProvider = new BasicTracerProvider({ resource, idGenerator: new SeqIdGenerator(args['run-id']) });
    const provider = new LoggerProvider({
      resource,
      processors: [new BatchLogRecordProcessor({ exporter, maxExportBatchSize: 512, scheduledDelayMillis: 60000, exportTimeoutMillis: EXPORT_TIMEOUT_MS })],
    });
    const logger = provider.getLogger(scopeName, SCOPE_VERSION, { schemaUrl: SCOPE_SCHEMA_URL });
    const n = emitLogs(args, logger, tracerProvider.getTracer(scopeName));
    await settle(state, 'logs flush', provider.forceFlush());
    await settle(state, 'logs shutdown', provider.shutdown());
    await settle(state, 'tracer shutdown', tracerProvider.shutdown());
    const recs = state.batches.flat();
    if (recs.length !== n) problems.push(`SDK exported ${recs.length} log records, expected ${n}`);
    doc.logRecords = recs.map(logJson);
  }

  doc.exports = state.exports;
  process.stdout.write(JSON.stringify(doc) + '\n');
  for (const p of problems) process.stderr.write(`send.js: ${p}\n`);
  for (const f of state.failures) process.stderr.write(`send.js: export failed (${args.protocol} ${args.signal}): ${f}\n`);
  if (state.exports === 0) process.stderr.write('send.js: nothing was exported\n');
  return problems.length || state.failures.length || state.exports === 0 ? 1 : 0;
}

main().then(
  code => process.exit(code),
  err => {
    process.stderr.write(`send.js: ${err && err.stack ? err.stack : err}\n`);
    process.exit(1);
  }
);
