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
  /** In the registry: records a city sent that were rejected, by entity, as last counted. */
  recordsRejected: Gauge<'city' | 'entity'>;
  /** Answers sent, by HTTP status class. */
  requests: Counter<'status'>;
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
    recordsRejected: new Gauge({ name: 'lgnet_records_rejected', help: 'Records a city sent that were rejected, as last counted', labelNames: ['city', 'entity'], registers: [registry] }),
    requests: new Counter({ name: 'lgnet_http_requests_total', help: 'Answers sent, by HTTP status class', labelNames: ['status'], registers: [registry] }),
    route: async (_req, res) => {
      const text = await registry.metrics();
      res.writeHead(200, { 'content-type': registry.contentType });
      res.end(text);
    },
  };
  return metrics;
}
