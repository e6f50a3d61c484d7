/**
 * Every configured city's adapter, built once at start from the city files
 * and the environment (endpoints, credentials, the personKey secret).
 */
import { fileURLToPath } from 'node:url';
import type { Domain } from '../schema/code-lists.ts';
import { createCityAdapter, type ConnectorFactory } from './city-adapter.ts';
import { ConfigError, loadCityConfigs, resolveCity, type CityConfig, type ResolvedCity } from './config.ts';
import type { CityAdapter, ConnectorDeps } from './port.ts';

export const defaultCitiesDir = fileURLToPath(new URL('./cities/', import.meta.url));

export interface Fleet {
  /** Every city of the registry, with resolved sources, by ISTAT code order. */
  readonly cities: readonly ResolvedCity[];
  adapter(code: string): CityAdapter | undefined;
  /** Codes of the cities that have a source for the domain, in code order. */
  citiesServing(domain: Domain): string[];
}

export interface FleetOptions {
  configs?: CityConfig[];
  env: Readonly<Record<string, string | undefined>>;
  deps: ConnectorDeps;
  createConnector: ConnectorFactory;
  /** Only build adapters for sources serving these domains (a subgraph needs its own). */
  domains?: readonly Domain[];
}

export const PERSON_KEY_SECRET_ENV = 'LGNET_PERSON_KEY_SECRET';

export function createFleet(options: FleetOptions): Fleet {
  const configs = options.configs ?? loadCityConfigs(defaultCitiesDir);
  const secret = options.env[PERSON_KEY_SECRET_ENV];
  if (!secret || secret.length < 16) {
    throw new ConfigError(`${PERSON_KEY_SECRET_ENV} must be set to a secret of at least 16 characters (the personKey HMAC key)`);
  }
  const wanted = options.domains ? new Set(options.domains) : null;
  const cities = configs
    .map((c) => (wanted ? { ...c, sources: c.sources.filter((s) => s.domains.some((d) => wanted.has(d))) } : c))
    .map((c) => resolveCity(c, options.env))
    .sort((a, b) => a.code.localeCompare(b.code));
  const adapters = new Map<string, CityAdapter>();
  for (const city of cities) {
    if (city.sources.length === 0) continue;
    adapters.set(city.code, createCityAdapter(city, { personKeySecret: secret, deps: options.deps, createConnector: options.createConnector }));
  }
  return {
    cities,
    adapter: (code) => adapters.get(code),
    citiesServing: (domain) => [...adapters.values()].filter((a) => a.domains.has(domain)).map((a) => a.city),
  };
}
