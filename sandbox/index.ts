/**
 * The sandbox: a stand-in for every source system of every LGNet city, each a
 * real HTTP server on loopback speaking its city's dialect, serving the
 * synthetic population (with a few records deliberately broken), with faults
 * that can be switched on per city.
 *
 * `env` holds what the adapters need to reach them, under the names the city
 * configs reference: `LGNET_<code>_<SOURCE>_URL` and `LGNET_<code>_<SOURCE>_KEY`.
 */
import { randomBytes } from 'node:crypto';
import { loadCityConfigs, type CityConfig, type SourceConfig } from '../adapters/config.ts';
import { defaultCitiesDir } from '../adapters/fleet.ts';
import type { RawRow } from '../adapters/port.ts';
import type { EntityName } from '../schema/records.ts';
import { sandboxCities } from './city-sizes.ts';
import { createCsvStandIn } from './csv-stand-in.ts';
import { cityDialect, type CityDialect, type SourceDialect } from './dialects.ts';
import { FaultSpecError, faultFor, faultKindsOf, hashString, parseFaults, unknownTargets, type Fault, type FaultSpec, type StandIn } from './faults.ts';
import { createGraphqlStandIn } from './graphql-stand-in.ts';
import { generatePopulation } from './population.ts';
import type { CityPopulation, Population } from './population-types.ts';
import { renderCity, type BrokenRecord } from './render.ts';
import { createRestStandIn } from './rest-stand-in.ts';
import { createSoapStandIn } from './soap-stand-in.ts';
import { createSpreadsheetStandIn } from './spreadsheet-stand-in.ts';
import { createSqlStandIn } from './sql-stand-in.ts';
import { computeTruth, type CityTruth } from './truth.ts';

export type { BrokenRecord } from './render.ts';
export type { Fault, FaultSpec } from './faults.ts';
export { parseFaults, FaultSpecError } from './faults.ts';
export type { CityTruth, EntityTruthQuality, TruthRecord } from './truth.ts';
export { acceptedRecords, computeTruth, countBy, distinctPersons, monthOf, totalQuality } from './truth.ts';

export interface SandboxOptions {
  /** Seed of the population (and of which records are broken). Default 20260101. */
  seed?: number;
  /** Population scale; 1 is sized like LGNet3. Default 1. */
  scale?: number;
  /** Fault spec, e.g. "090064=down,015146=slow:5000" (see faults.ts). Default none. */
  faults?: string;
  /** Default 127.0.0.1. */
  host?: string;
  /** First port; the sources take consecutive ports from it. 0 (default) = an ephemeral port each. */
  port?: number;
  /** A ready population instead of the generated one (tests with hand-made records). */
  population?: Population;
  /** The cities to stand in for. Default: every city of the registry (adapters/cities/). */
  configs?: readonly CityConfig[];
}

export interface Sandbox {
  /** Base URL and API key of every source of every city, by the env names the configs reference. */
  readonly env: Readonly<Record<string, string>>;
  readonly population: Population;
  /** Per city, the records rendered with a defect, and the reason the adapters should reject them for. */
  readonly broken: ReadonlyMap<string, ReadonlyArray<BrokenRecord>>;
  /**
   * Per city the sandbox serves, what the graph must show of it: which
   * records it accepts and why it rejects the others (see truth.ts).
   */
  readonly truth: ReadonlyMap<string, CityTruth>;
  /** The rows a source serves for an entity, in its dialect (for tests). */
  rows(city: string, sourceId: string, entity: EntityName): readonly RawRow[];
  /** Requests received by one city's stand-ins, or by all. */
  requestCount(city?: string): number;
  /** Bytes of response bodies one city's stand-ins sent, or all of them (a 304 sends none). */
  bytesSent(city?: string): number;
  /** Forgets the requests and the bytes counted so far, of every stand-in. */
  resetRequestCounts(): void;
  /** Replaces every fault with those of the spec ("" clears them); await it before the next request. */
  setFaults(spec: string): Promise<void>;
  close(): Promise<void>;
}

interface Running {
  city: string;
  sourceId: string;
  standIn: StandIn & { readonly url: string };
  rows: ReadonlyMap<EntityName, readonly RawRow[]>;
}

/** What every stand-in is started with, whatever its kind. */
interface StandInStart {
  rows: ReadonlyMap<EntityName, readonly RawRow[]>;
  apiKey: string;
  host: string;
  port: number;
  fault: Fault | null;
  seed: number;
}

/** Starts the stand-in of one source, of the kind its config says. */
async function startStandIn(dialect: SourceDialect, common: StandInStart): Promise<StandIn & { readonly url: string }> {
  const basePath = dialect.basePath;
  switch (dialect.kind) {
    case 'rest':
      return createRestStandIn({ ...common, dialect });
    case 'csv':
      return createCsvStandIn({ ...common, dialect });
    case 'soap':
      return createSoapStandIn({ ...common, basePath, dialect: { ...dialect.config, auth: dialect.auth ?? undefined } });
    case 'sql':
      return createSqlStandIn({ ...common, source: dialect.config });
    case 'spreadsheet':
      return createSpreadsheetStandIn({ ...common, basePath, source: dialect.config, quirks: dialect.spreadsheet });
    case 'graphql':
      return createGraphqlStandIn({ ...common, basePath, source: { ...dialect.config, auth: dialect.auth ?? undefined } });
  }
}

/** The environment variable a config reads a value from; the sandbox cannot stand in for an endpoint written in the file. */
function envNameOf(city: string, source: SourceConfig, what: 'baseUrl' | 'key'): string | null {
  const ref = what === 'baseUrl' ? source.baseUrl : source.auth?.key;
  if (ref === undefined) return null;
  if (typeof ref === 'string') throw new Error(`city ${city} source "${source.id}": ${what} is written in the config; the sandbox stands in only for sources read from the environment ({ "env": ... })`);
  return ref.env;
}

export const DEFAULT_SEED = 20260101;

export async function startSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const seed = options.seed ?? DEFAULT_SEED;
  const scale = options.scale ?? 1;
  const host = options.host ?? '127.0.0.1';
  const firstPort = options.port ?? 0;
  // A city registered before its system is connected has no source: nothing to stand in for, and no people.
  const configs = (options.configs ?? loadCityConfigs(defaultCitiesDir)).filter((c) => c.sources.length > 0);
  const dialects: CityDialect[] = configs.map(cityDialect);
  const allSources = dialects.flatMap((d) => d.sources.map((s) => ({ city: d.code, sourceId: s.id })));

  // A bad spec fails before anything listens.
  const checkFaults = (spec: string): FaultSpec => {
    const faults = parseFaults(spec);
    const unknown = unknownTargets(faults, allSources);
    if (unknown.length > 0) throw new FaultSpecError(`fault target(s) ${unknown.join(', ')}: no such city or source in the sandbox`);
    // A fault a kind of source cannot have (a formula in a REST answer) would quietly change nothing: refused.
    for (const [target, fault] of faults) {
      const [city, only] = target.split('/');
      for (const source of dialects.find((d) => d.code === city)!.sources) {
        if (only !== undefined && source.id !== only) continue;
        const possible = faultKindsOf[source.kind];
        if (possible?.has(fault.kind)) continue;
        throw new FaultSpecError(
          `fault target ${target}: source ${city}/${source.id} is ${source.kind}, which cannot have the fault ${fault.kind}` +
            (possible ? ` (it can have: ${[...possible].join(', ')})` : ''),
        );
      }
    }
    return faults;
  };
  let faults = checkFaults(options.faults ?? '');

  const population = options.population ?? generatePopulation(sandboxCities(configs), { seed, scale });
  const running: Running[] = [];
  const env: Record<string, string> = {};
  const broken = new Map<string, ReadonlyArray<BrokenRecord>>();
  let truth: ReadonlyMap<string, CityTruth>;

  try {
    // Every source's place (and port) is fixed before any starts: they start at once (an SQL engine takes seconds).
    const planned = configs.flatMap((config, c) => {
      const dialect = dialects[c]!;
      const rendered = renderCity(population.get(dialect.code) ?? emptyCity(dialect.code), dialect, { seed });
      broken.set(dialect.code, rendered.broken);
      return config.sources.map((source, s) => ({ config, source, dialect: dialect.sources[s]!, rows: rendered.sources.get(source.id)! }));
    });
    await Promise.all(
      planned.map(async ({ config, source, dialect, rows }, index) => {
        const apiKey = randomBytes(24).toString('base64url');
        const urlEnv = envNameOf(config.code, source, 'baseUrl')!;
        const keyEnv = envNameOf(config.code, source, 'key');
        const standIn = await startStandIn(dialect, {
          rows,
          apiKey,
          host,
          port: firstPort === 0 ? 0 : firstPort + index,
          fault: faultFor(faults, config.code, source.id),
          seed: hashString(`${seed}:${config.code}:${source.id}`),
        });
        running.push({ city: config.code, sourceId: source.id, standIn, rows });
        env[urlEnv] = standIn.url;
        if (keyEnv) env[keyEnv] = apiKey;
      }),
    );
    // Only the cities with a stand-in are in the graph, each with what it serves.
    const served = new Map(dialects.map((d) => [d.code, population.get(d.code) ?? emptyCity(d.code)] as const));
    truth = computeTruth(served, broken);
  } catch (e) {
    await Promise.allSettled(running.map((r) => r.standIn.close()));
    throw e;
  }

  let closed = false;
  return {
    env: Object.freeze(env),
    population,
    broken,
    truth,
    rows(city, sourceId, entity) {
      const r = running.find((x) => x.city === city && x.sourceId === sourceId);
      if (!r) throw new Error(`the sandbox has no source "${sourceId}" for city ${city}`);
      const rows = r.rows.get(entity);
      if (!rows) throw new Error(`source "${sourceId}" of city ${city} does not serve ${entity}`);
      return rows;
    },
    requestCount(city) {
      return running.filter((r) => city === undefined || r.city === city).reduce((n, r) => n + r.standIn.requestCount(), 0);
    },
    bytesSent(city) {
      return running.filter((r) => city === undefined || r.city === city).reduce((n, r) => n + r.standIn.bytesSent(), 0);
    },
    resetRequestCounts() {
      for (const r of running) r.standIn.resetRequestCount();
    },
    async setFaults(spec) {
      faults = checkFaults(spec);
      await Promise.all(running.map((r) => r.standIn.setFault(faultFor(faults, r.city, r.sourceId))));
    },
    async close() {
      if (closed) return;
      closed = true;
      await Promise.all(running.map((r) => r.standIn.close()));
    },
  };
}

function emptyCity(city: string): CityPopulation {
  return { city, beneficiaries: [], services: [], enrollments: [], civicProjects: [], housingResources: [], placements: [] };
}

/** The dialect of every city, for tools that need to know what the sandbox speaks. */
export { dialects, dialectOf, sourceEnvName } from './dialects.ts';
export type { CityDialect, SourceDialect };
