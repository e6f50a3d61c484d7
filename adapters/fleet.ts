/**
 * Every configured city's adapter, built once at start from the city files
 * and the environment (endpoints, credentials, the personKey secret).
 */
import { fileURLToPath } from 'node:url';
import type { Domain } from '../schema/code-lists.ts';
import { createCityAdapter, type ConnectorFactory } from './city-adapter.ts';
import { ConfigError, configFileOf, loadCityConfigs, resolveCityLeniently, type CityConfig, type ResolvedCity } from './config.ts';
import type { CityAdapter, ConnectorDeps } from './port.ts';

export const defaultCitiesDir = fileURLToPath(new URL('./cities/', import.meta.url));

export interface Fleet {
  /** Every city of the registry, with resolved sources, by ISTAT code order. */
  readonly cities: readonly ResolvedCity[];
  adapter(code: string): CityAdapter | undefined;
  /**
   * Codes of the cities to ask for a domain's data, in code order: every
   * registered city, so that one without a source for the domain is asked,
   * answers CITY_NOT_CONFIGURED, and is named as missing rather than quietly
   * left out.
   */
  citiesServing(domain: Domain): string[];
}

export interface FleetOptions {
  configs?: CityConfig[];
  env: Readonly<Record<string, string | undefined>>;
  deps: ConnectorDeps;
  createConnector: ConnectorFactory;
  /** Only build adapters for sources serving these domains (a subgraph needs its own). */
  domains?: readonly Domain[];
  /** How long a data-quality sweep of a city is reused, in milliseconds. */
  qualityTtlMs?: number;
}

export const PERSON_KEY_SECRET_ENV = 'LGNET_PERSON_KEY_SECRET';

export function createFleet(options: FleetOptions): Fleet {
  const configs = options.configs ?? loadCityConfigs(defaultCitiesDir);
  const secret = options.env[PERSON_KEY_SECRET_ENV];
  if (!secret || secret.length < 16) {
    throw new ConfigError(`${PERSON_KEY_SECRET_ENV} must be set to a secret of at least 16 characters (the personKey HMAC key)`);
  }
  const wanted = options.domains ? new Set(options.domains) : null;
  const needsPeople = wanted !== null && (wanted.has('services') || wanted.has('housing'));
  const cities: ResolvedCity[] = [];
  const adapters = new Map<string, CityAdapter>();
  for (const config of [...configs].sort((a, b) => a.code.localeCompare(b.code))) {
    // A placement, enrolment or civic project is in the graph only if its person is: the
    // subgraphs that hold them also read the people source, to know which persons are valid.
    const keep = (domains: readonly Domain[]) => domains.some((d) => wanted!.has(d) || (d === 'people' && needsPeople));
    const c = wanted ? { ...config, sources: config.sources.filter((s) => keep(s.domains)) } : config;
    // The copy above is not the config that was loaded: its file is looked up on the original.
    const city = resolveCityLeniently(c, options.env, configFileOf(config));
    for (const source of city.sources) {
      if (source.problem) options.deps.logger.error('source not configured', { city: city.code, source: source.id, reason: source.problem });
    }
    cities.push(city);
    // Every registered city gets an adapter, even one with no source yet: asked,
    // it answers CITY_NOT_CONFIGURED, so national answers name it as missing.
    adapters.set(
      city.code,
      createCityAdapter(city, {
        personKeySecret: secret,
        deps: options.deps,
        createConnector: options.createConnector,
        ...(options.qualityTtlMs !== undefined ? { qualityTtlMs: options.qualityTtlMs } : {}),
      }),
    );
  }
  return {
    cities,
    adapter: (code) => adapters.get(code),
    citiesServing: () => cities.map((c) => c.code),
  };
}
