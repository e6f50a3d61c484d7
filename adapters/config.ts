/**
 * A city's config: who the city is in the programme, and which source
 * systems serve which domains, with how the city's own field names and codes
 * map to the national ones. One JSON file per city in `adapters/cities/`;
 * adding a city is adding a file.
 *
 * Credentials and endpoints are given by reference (`{ "env": "NAME" }`),
 * never in the file; they are resolved once at start against the environment
 * the process was given, then the config is frozen.
 */
import { ConfigError } from '../runtime/config-error.ts';
import { readdirSync, readFileSync } from 'node:fs';
import { isAbsolute, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import iconv from 'iconv-lite';
import { z } from 'zod';
import { Edition } from '../schema/code-lists.ts';
import { CityCode, entityNames, type EntityName } from '../schema/records.ts';
import { reportIndicators, type ReportIndicator } from '../schema/editions.ts';
import {
  Auth,
  DateFormat,
  EnvRef,
  MappingBase,
  Vocabularies,
  canonicalFieldsOf,
  fieldMap,
  filterMap,
  filterablePaths,
  requestDefaults,
  type CanonicalField,
  type FilterablePath,
} from './source-base.ts';
import { GraphqlSource } from './connectors/graphql-config.ts';
import { SoapSource } from './connectors/soap-config.ts';
import { SpreadsheetSource } from './connectors/spreadsheet-config.ts';
import { SqlSource } from './connectors/sql-config.ts';

export { EnvRef, canonicalFieldsOf, filterablePaths, requestDefaults, DateFormat, Vocabularies };
export type { CanonicalField, FilterablePath };

const RestEntity = <E extends EntityName>(entity: E) =>
  z
    .object({
      /** Resource path below baseUrl, e.g. "/api/v1/assistiti". */
      path: z.string().startsWith('/'),
      fields: fieldMap(entity),
      /**
       * Query parameters that select records by a list of values, for batch
       * look-ups: canonical key field -> parameter (values joined by commas).
       */
      batchParams: z.partialRecord(z.enum(['localId', 'beneficiaryId']), z.string().min(1)).default({}),
      /**
       * Filters the API offers, so that a filtered read asks the source for
       * the matching records only (see `filterMap`); every condition is still
       * applied to the records that arrive.
       */
      filters: filterMap(entity).default({}),
    })
    .strict();

const RestSource = z
  .object({
    kind: z.literal('rest'),
    ...MappingBase,
    auth: Auth,
    paging: z
      .object({
        /** `page`: page number and size; `offset`: offset and limit. */
        style: z.enum(['page', 'offset']),
        /** Page number or offset parameter. */
        startParam: z.string().min(1),
        /** Page size or limit parameter. */
        sizeParam: z.string().min(1),
        /** Number of the first page (0 or 1); ignored for `offset`. */
        firstPage: z.union([z.literal(0), z.literal(1)]).default(1),
        maxPageSize: z.number().int().positive(),
        /** Dotted path of the array of records in a response body, e.g. "data" or "result.items". */
        itemsPath: z.string().min(1),
        /** Dotted path of the total number of records matching the request. */
        totalPath: z.string().min(1),
      })
      .strict(),
    /** Most values in one batch look-up request; larger batches are split. */
    maxBatchSize: z.number().int().positive().default(500),
    entities: z
      .object(Object.fromEntries(entityNames.map((e) => [e, RestEntity(e).optional()])) as {
        [E in EntityName]: z.ZodOptional<ReturnType<typeof RestEntity<E>>>;
      })
      .strict(),
  })
  .strict();

const CsvEntity = <E extends EntityName>(entity: E) =>
  z
    .object({
      /** File path below baseUrl, e.g. "/export/beneficiari.csv". */
      path: z.string().startsWith('/'),
      fields: fieldMap(entity),
    })
    .strict();

const CsvSource = z
  .object({
    kind: z.literal('csv'),
    ...MappingBase,
    /** Required in a city's file (see CityConfig): an export holds names and fiscal codes. */
    auth: Auth.optional(),
    /** Character encoding of the files, e.g. "windows-1252" or "utf-8". */
    encoding: z
      .string()
      .default('windows-1252')
      .refine((e) => iconv.encodingExists(e), { message: 'not a character encoding this system knows' }),
    delimiter: z.string().length(1).default(';'),
    /** How often the files are checked for a new export, in milliseconds (a conditional request). */
    revalidateMs: z.number().int().nonnegative().default(30_000),
    entities: z
      .object(Object.fromEntries(entityNames.map((e) => [e, CsvEntity(e).optional()])) as {
        [E in EntityName]: z.ZodOptional<ReturnType<typeof CsvEntity<E>>>;
      })
      .strict(),
  })
  .strict();

export const SourceConfig = z.discriminatedUnion('kind', [RestSource, CsvSource, SoapSource, SqlSource, SpreadsheetSource, GraphqlSource]);
export type SourceConfig = z.infer<typeof SourceConfig>;
export type RestSourceConfig = z.infer<typeof RestSource>;
export type CsvSourceConfig = z.infer<typeof CsvSource>;

export const CityConfig = z
  .object({
    /** ISTAT municipality code. */
    code: CityCode,
    name: z.string().min(1),
    /** Other official names (Bolzano/Bozen). */
    altNames: z.array(z.string()).default([]),
    region: z.string().min(1),
    /** Province (or metropolitan city) abbreviation, e.g. "SS". */
    province: z.string().regex(/^[A-Z]{2}$/),
    editions: z.array(Edition).min(1),
    /** The body (ente strumentale) that runs the programme for the city, where there is one. */
    operatingBody: z.string().min(1).nullable().default(null),
    /**
     * Resident population, as ISTAT published it, with the year and the source
     * named: figures are read per capita against it.
     */
    population: z
      .object({ residents: z.number().int().positive(), year: z.number().int().min(1861).max(2100), source: z.string().min(1) })
      .strict()
      .optional(),
    /** The city's own targets per edition, where its agreement sets any (the network's are in schema/editions.ts). */
    targets: z.partialRecord(Edition, z.object(Object.fromEntries(reportIndicators.map((i) => [i, z.number().int().positive().optional()])) as Record<ReportIndicator, z.ZodOptional<z.ZodNumber>>).strict()).default({}),
    sources: z.array(SourceConfig),
  })
  .strict()
  .superRefine((city, ctx) => {
    const seen = new Map<string, string>();
    for (const source of city.sources) {
      // An export holds names and fiscal codes: no city publishes one that anyone may read.
      if (source.kind === 'csv' && !source.auth) {
        ctx.addIssue({ code: 'custom', message: `source "${source.id}": a CSV export needs "auth" (the header and the key's variable): it holds personal data` });
      }
      if (source.connectTimeoutMs > source.timeoutMs) {
        ctx.addIssue({ code: 'custom', message: `source "${source.id}": connectTimeoutMs (${source.connectTimeoutMs}) is longer than timeoutMs (${source.timeoutMs}), which bounds the whole attempt` });
      }
      if (source.kind === 'rest') {
        // A filter parameter that is also a paging parameter would page wrongly, or filter nothing.
        const paging = new Set([source.paging.startParam, source.paging.sizeParam]);
        for (const [entity, e] of Object.entries(source.entities)) {
          const seen = new Map<string, string>();
          for (const [path, param] of Object.entries(e?.filters ?? {})) {
            for (const name of typeof param === 'string' ? [param] : [param.from, param.to].filter((p) => p !== undefined)) {
              if (paging.has(name)) ctx.addIssue({ code: 'custom', message: `source "${source.id}" ${entity} filter "${path}": parameter "${name}" is a paging parameter` });
              const other = seen.get(name);
              if (other !== undefined) ctx.addIssue({ code: 'custom', message: `source "${source.id}" ${entity}: parameter "${name}" is given to both "${other}" and "${path}"` });
              seen.set(name, path);
            }
          }
        }
      }
      for (const domain of source.domains) {
        const other = seen.get(domain);
        if (other) ctx.addIssue({ code: 'custom', message: `domain "${domain}" is served by both "${other}" and "${source.id}"` });
        seen.set(domain, source.id);
      }
    }
  });
export type CityConfig = z.infer<typeof CityConfig>;

/** A source whose references have been resolved: plain strings everywhere. */
export type ResolvedSource = SourceConfig & {
  baseUrl: string;
  apiKey: string | null;
  /** Why the source cannot be used (e.g. its endpoint variable is not set); it then answers CITY_NOT_CONFIGURED. */
  problem?: string;
  /**
   * The city's file the source is declared in (`adapters/cities/090064-sassari.json`),
   * when known: a message about the source's data can then name the key to change, and where.
   */
  configFile?: string;
};
export type ResolvedCity = Omit<CityConfig, 'sources'> & { sources: ResolvedSource[] };

export { ConfigError };

const repoRoot = fileURLToPath(new URL('../', import.meta.url));
/** The file each config was read from, as messages show it (see configFileOf). */
const configFiles = new WeakMap<object, string>();

/**
 * The file a config was read from by loadCityConfigs: relative to the
 * repository (`adapters/cities/090064-sassari.json`) when it is in it, else
 * its full path; undefined for a config made otherwise (a test's).
 */
export function configFileOf(config: CityConfig): string | undefined {
  return configFiles.get(config);
}

/** A city file's path as messages show it: relative to the repository when it is in it, else in full. */
export function shownConfigPath(dir: string, file: string): string {
  const path = join(dir, file);
  const inRepo = relative(repoRoot, path);
  return inRepo.startsWith('..') || isAbsolute(inRepo) ? path : inRepo.split('\\').join('/');
}

/** Reads and validates every city file in a folder; fails loudly, naming the file and the rule broken. */
export function loadCityConfigs(dir: string): CityConfig[] {
  const files = readdirSync(dir).filter((f) => f.endsWith('.json')).sort();
  const cities = files.map((file) => {
    let json: unknown;
    try {
      json = JSON.parse(readFileSync(join(dir, file), 'utf8'));
    } catch (e) {
      throw new ConfigError(`${file}: not valid JSON (${(e as Error).message})`);
    }
    const parsed = CityConfig.safeParse(json);
    if (!parsed.success) {
      throw new ConfigError(`${file}: ${z.prettifyError(parsed.error)}`);
    }
    if (!file.startsWith(parsed.data.code)) {
      throw new ConfigError(`${file}: the file name must start with the city's ISTAT code ${parsed.data.code}`);
    }
    configFiles.set(parsed.data, shownConfigPath(dir, file));
    return parsed.data;
  });
  const codes = new Set<string>();
  for (const c of cities) {
    if (codes.has(c.code)) throw new ConfigError(`city ${c.code} is configured twice`);
    codes.add(c.code);
  }
  return cities;
}

function resolve(value: string | { env: string }, env: Readonly<Record<string, string | undefined>>, where: string): string {
  if (typeof value === 'string') return value;
  const v = env[value.env];
  if (v === undefined || v === '') throw new ConfigError(`${where}: environment variable ${value.env} is not set`);
  return v;
}

/**
 * Resolves a source's references against an environment; throws a ConfigError naming what is missing.
 * `configFile`: the city's file, as messages name it (see configFileOf).
 */
export function resolveSource(cityCode: string, s: SourceConfig, env: Readonly<Record<string, string | undefined>>, configFile?: string): ResolvedSource {
  const where = `city ${cityCode} source "${s.id}"`;
  const baseUrl = resolve(s.baseUrl, env, where).replace(/\/+$/, '');
  const apiKey = s.auth ? resolve(s.auth.key, env, where) : null;
  return { ...s, baseUrl, apiKey, ...(configFile ? { configFile } : {}) } as ResolvedSource;
}

/**
 * Resolves the references of a city's sources against an environment, and freezes the result.
 * `configFile` defaults to the file the config was loaded from.
 */
export function resolveCity(city: CityConfig, env: Readonly<Record<string, string | undefined>>, configFile = configFileOf(city)): ResolvedCity {
  return deepFreeze({ ...city, sources: city.sources.map((s) => resolveSource(city.code, s, env, configFile)) });
}

/**
 * Like resolveCity, but a source that cannot be resolved is kept with its
 * `problem` instead of failing the city: one missing variable must not take a
 * whole city, or the graph, down.
 */
export function resolveCityLeniently(city: CityConfig, env: Readonly<Record<string, string | undefined>>, configFile = configFileOf(city)): ResolvedCity {
  const sources = city.sources.map((s) => {
    try {
      return resolveSource(city.code, s, env, configFile);
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      return { ...s, baseUrl: '', apiKey: null, problem: e.message, ...(configFile ? { configFile } : {}) } as ResolvedSource;
    }
  });
  return deepFreeze({ ...city, sources });
}

export function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object' && !Object.isFrozen(o)) {
    Object.freeze(o);
    for (const v of Object.values(o)) deepFreeze(v);
  }
  return o;
}
