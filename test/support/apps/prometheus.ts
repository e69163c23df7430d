import { Controller, Get, Header, Module, type DynamicModule } from '@nestjs/common';
import type { Registry } from 'prom-client';

/** A module serving `registry` at `GET /metrics`, as an app (or @willsoto/nestjs-prometheus) would. */
export function metricsRoute(registry: Registry): DynamicModule {
  @Controller('metrics')
  class MetricsController {
    @Get()
    @Header('Content-Type', 'text/plain; version=0.0.4')
    scrape(): Promise<string> {
      return registry.metrics();
    }
  }
  @Module({})
  class MetricsRouteModule {}
  return { module: MetricsRouteModule, controllers: [MetricsController] };
}

/** One sample of a scrape: `name{labels} value`. */
interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The samples of a Prometheus text exposition. */
export function parseMetrics(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) throw new Error(`not a Prometheus sample: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, name, value] of (match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[name!] = value!;
    samples.push({ name: match[1]!, labels, value: Number(match[3]) });
  }
  return samples;
}

/**
 * The sum of the samples named `name` whose labels include `labels` (0 when none): a counter of
 * one label set, or of all of them.
 */
export function metricValue(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  return samples
    .filter((sample) => sample.name === name && Object.entries(labels).every(([key, value]) => sample.labels[key] === value))
    .reduce((total, sample) => total + sample.value, 0);
}

/** Scrapes `<origin>/metrics`. */
export async function scrape(origin: string): Promise<Sample[]> {
  const response = await fetch(`${origin}/metrics`);
  if (response.status !== 200) throw new Error(`/metrics answered ${response.status}`);
  return parseMetrics(await response.text());
}
