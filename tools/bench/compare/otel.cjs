// Preloaded (`node --require ./otel.cjs app.cjs`) for the OpenTelemetry variant: the set-up
// OpenTelemetry's Node guide gives, every request sampled (the SDK's default), spans
// batched by the BatchSpanProcessor (its defaults) and sent as OTLP/HTTP protobuf to the
// bench's loopback sink (BENCH_OTLP_URL).
'use strict';
const { NodeTracerProvider } = require('@opentelemetry/sdk-trace-node');
const { BatchSpanProcessor } = require('@opentelemetry/sdk-trace-base');
const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-proto');
const { resourceFromAttributes } = require('@opentelemetry/resources');
const { registerInstrumentations } = require('@opentelemetry/instrumentation');
const { HttpInstrumentation } = require('@opentelemetry/instrumentation-http');
const { ExpressInstrumentation } = require('@opentelemetry/instrumentation-express');
const { KnexInstrumentation } = require('@opentelemetry/instrumentation-knex');
const api = require('@opentelemetry/api');

const provider = new NodeTracerProvider({
  resource: resourceFromAttributes({ 'service.name': 'bench' }),
  spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url: process.env.BENCH_OTLP_URL }))],
});
provider.register();
registerInstrumentations({ instrumentations: [new HttpInstrumentation(), new ExpressInstrumentation(), new KnexInstrumentation()] });

const tracer = api.trace.getTracer('bench');
globalThis.__bench = {
  // The app's own nested function spans, as an OpenTelemetry user writes them.
  traced: (name, fn) =>
    tracer.startActiveSpan(name, (span) => {
      try {
        return fn();
      } finally {
        span.end();
      }
    }),
  flush: () => provider.forceFlush(),
};
