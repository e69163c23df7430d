import { TusOptionsError } from '../../errors/tus.errors.js';

/** Span attributes: names as in OpenTelemetry (`tus.upload.id`, `http.request.method`). */
export type TusSpanAttributes = Record<string, string | number | boolean | undefined>;

/** One span, as the module uses it. */
export interface TusSpan {
  setAttributes(attributes: TusSpanAttributes): void;
  /** Records the error and marks the span failed. */
  fail(error: unknown): void;
  end(): void;
}

/**
 * Spans through `@opentelemetry/api`: each tus request and each storage call. Without the package,
 * or with `tracing: false`, {@link NO_TRACING} does nothing at all; with the package but no SDK
 * registered (yet), `enabled` is false and the module starts no span.
 */
export interface TusTracing {
  /** Whether spans are recorded now: read per request, so an SDK registered later is picked up. */
  readonly enabled: boolean;
  /** Starts a span, a child of the active one. */
  start(name: string, attributes: TusSpanAttributes): TusSpan;
  /** Runs `work` with `span` active, so that the spans it starts are its children. */
  within<T>(span: TusSpan, work: () => T): T;
}

const NO_SPAN: TusSpan = { setAttributes: () => undefined, fail: () => undefined, end: () => undefined };

export const NO_TRACING: TusTracing = { enabled: false, start: () => NO_SPAN, within: (_span, work) => work() };

/** The name the module's tracer goes by. */
export const TRACER_NAME = 'nestjs-tus';

type OtelApi = typeof import('@opentelemetry/api');
type OtelSpan = import('@opentelemetry/api').Span;

/**
 * `tracing` unset: spans when `@opentelemetry/api` is installed, none otherwise. `true`: the
 * package is required (a `TusOptionsError` without it). `false`: none.
 */
export async function createTracing(option: boolean | undefined): Promise<TusTracing> {
  if (option === false) return NO_TRACING;
  let api: OtelApi;
  try {
    api = await import('@opentelemetry/api');
  } catch (error) {
    if (option === true) {
      throw new TusOptionsError([`tracing needs the optional peer @opentelemetry/api: npm i @opentelemetry/api (${(error as Error).message})`]);
    }
    return NO_TRACING;
  }
  return openTelemetryTracing(api);
}

function openTelemetryTracing(api: OtelApi): TusTracing {
  const spans = new WeakMap<TusSpan, OtelSpan>();
  const clean = (attributes: TusSpanAttributes) => {
    const defined: Record<string, string | number | boolean> = {};
    for (const name in attributes) if (attributes[name] !== undefined) defined[name] = attributes[name]!;
    return defined;
  };
  return {
    // Without an SDK the API's spans are no-ops, but wrapping each request and storage call in one
    // (and a context) still costs a few percent of a small request: checked per request instead,
    // which is two property reads.
    get enabled() {
      return hasTracerProvider(api);
    },
    start: (name, attributes) => {
      // The tracer is asked for each span: an SDK registered after start-up is picked up.
      const span = api.trace.getTracer(TRACER_NAME).startSpan(name, { kind: api.SpanKind.INTERNAL, attributes: clean(attributes) });
      const handle: TusSpan = {
        setAttributes: (more) => span.setAttributes(clean(more)),
        fail: (error) => {
          if (error instanceof Error) span.recordException(error);
          span.setStatus({ code: api.SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
        },
        end: () => span.end(),
      };
      spans.set(handle, span);
      return handle;
    },
    within: (handle, work) => {
      const span = spans.get(handle);
      return span === undefined ? work() : api.context.with(api.trace.setSpan(api.context.active(), span), work);
    },
  };
}

/**
 * Whether an SDK registered a tracer provider: the API's global provider is a proxy whose delegate
 * is unset until `trace.setGlobalTracerProvider()`; any other provider is someone's own.
 */
function hasTracerProvider(api: OtelApi): boolean {
  const provider = api.trace.getTracerProvider();
  return !(provider instanceof api.ProxyTracerProvider) || provider.getDelegateTracer(TRACER_NAME) !== undefined;
}
