/**
 * Prometheus metrics (prom-client), one registry per process, served at
 * `GET /metrics` beside `/health`. Labels name cities, subgraphs and codes,
 * never a person.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { RouteHandler } from './http.ts';

export interface Metrics {
  registry: Registry;
  /** At the gateway: each call to a subgraph, by outcome (`ok` or an error code). */
  subgraphCalls: Counter<'subgraph' | 'outcome'>;
  subgraphSeconds: Histogram<'subgraph'>;
  /** In a subgraph: each city failure reported in an answer, by code. */
  cityErrors: Counter<'city' | 'code'>;
  /** In a subgraph: each request to a city system, by outcome (`ok` or an error code), and its time. */
  cityRequests: Counter<'city' | 'source' | 'outcome'>;
  cityRequestSeconds: Histogram<'city' | 'source'>;
  /** In a subgraph: each source's status as last seen (1 for the status it is in), its circuit included. */
  sourceStatus: Gauge<'city' | 'source' | 'status'>;
  /** In the registry: records a city sent that were rejected, by entity, as last counted. */
  recordsRejected: Gauge<'city' | 'entity'>;
  /** Answers sent, by HTTP status class. */
  requests: Counter<'status'>;
  /** Called before each scrape, to set gauges read from live state. */
  beforeScrape: Array<() => void>;
  /** The `/metrics` route. */
  route: RouteHandler;
}

export function createMetrics(component: string): Metrics {
  const registry = new Registry();
  registry.setDefaultLabels({ component });
  collectDefaultMetrics({ register: registry, prefix: 'lgnet_' });
  const metrics: Metrics = {
    registry,
    subgraphCalls: new Counter({ name: 'lgnet_subgraph_calls_total', help: 'Calls from the gateway to a subgraph, by outcome', labelNames: ['subgraph', 'outcome'], registers: [registry] }),
    subgraphSeconds: new Histogram({
      name: 'lgnet_subgraph_call_seconds',
      help: 'Time of a call from the gateway to a subgraph',
      labelNames: ['subgraph'],
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20],
      registers: [registry],
    }),
    cityErrors: new Counter({ name: 'lgnet_city_errors_total', help: 'City failures reported in answers, by code', labelNames: ['city', 'code'], registers: [registry] }),
    cityRequests: new Counter({ name: 'lgnet_city_requests_total', help: 'Requests to a city system, by outcome', labelNames: ['city', 'source', 'outcome'], registers: [registry] }),
    cityRequestSeconds: new Histogram({
      name: 'lgnet_city_request_seconds',
      help: 'Time of a request to a city system',
      labelNames: ['city', 'source'],
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    sourceStatus: new Gauge({ name: 'lgnet_source_status', help: "A city source's status as last seen: 1 for the status it is in", labelNames: ['city', 'source', 'status'], registers: [registry] }),
    recordsRejected: new Gauge({ name: 'lgnet_records_rejected', help: 'Records a city sent that were rejected, as last counted', labelNames: ['city', 'entity'], registers: [registry] }),
    requests: new Counter({ name: 'lgnet_http_requests_total', help: 'Answers sent, by HTTP status class', labelNames: ['status'], registers: [registry] }),
    beforeScrape: [],
    route: async (_req, res) => {
      for (const f of metrics.beforeScrape) f();
      const text = await registry.metrics();
      res.writeHead(200, { 'content-type': registry.contentType });
      res.end(text);
    },
  };
  return metrics;
}
