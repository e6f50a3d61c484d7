/**
 * How each city's own system speaks, read from the city's config in
 * reverse: the config says how the graph reads the city (field names,
 * codes, dates, paging, filters, encoding), so the stand-in that plays the
 * city writes exactly that. The city is described once, in its JSON file in
 * adapters/cities/; the sandbox adds only what a config does not say
 * (sandbox/habits.ts: how values are typed, small habits of its exports;
 * sandbox/city-sizes.ts: how large the city is; render.ts: which records
 * it breaks).
 */
import { loadCityConfigs, type CityConfig, type DateFormat, type SourceConfig, type Vocabularies } from '../adapters/config.ts';
import type { GraphqlSourceConfig } from '../adapters/connectors/graphql-config.ts';
import type { SoapSourceConfig } from '../adapters/connectors/soap-config.ts';
import type { SpreadsheetSourceConfig } from '../adapters/connectors/spreadsheet-config.ts';
import type { SqlSourceConfig } from '../adapters/connectors/sql-config.ts';
import { defaultCitiesDir } from '../adapters/fleet.ts';
import type { CanonicalField } from '../adapters/config.ts';
import type { LookupKey } from '../adapters/port.ts';
import type { Domain, Edition } from '../schema/code-lists.ts';
import { entityNames, type EntityName } from '../schema/records.ts';
import { defaultValueTypes, habitsOf, type Quirks, type SourceHabits, type ValueTypes } from './habits.ts';
import type { SpreadsheetQuirks } from './spreadsheet-stand-in.ts';

export type { Quirks, ValueTypes } from './habits.ts';

/** Canonical field -> the source's own field spec: a name, a dotted path, or a template of columns (`{giorno}/{mese}/{anno}`). */
export type EntityFields<E extends EntityName> = Readonly<Record<CanonicalField<E>, string>>;

export interface EntityDialect<E extends EntityName> {
  /** Path below the source's base URL (which includes `basePath`); "" where the kind has none. */
  path: string;
  fields: EntityFields<E>;
}

export interface RestEntityDialect<E extends EntityName> extends EntityDialect<E> {
  /** Query parameter selecting records by a comma-separated list, per canonical key field. */
  batchParams: Readonly<Partial<Record<LookupKey, string>>>;
  /**
   * Filters the API offers, as the city's config declares them: canonical
   * path (`filterablePaths`) -> query parameter, or, for a date, the
   * parameters of the two bounds of an inclusive range written in the
   * source's date format. The stand-in applies them to its own rows.
   */
  filters: Readonly<Record<string, RestFilterParams>>;
}

export type RestFilterParams = string | { readonly from?: string; readonly to?: string };

interface SourceDialectBase {
  /** The source's id in the city's config, e.g. "main", "housing". */
  id: string;
  domains: readonly Domain[];
  /** Path prefix of the source's base URL, e.g. "/api/v2" ("" for none). */
  basePath: string;
  dateFormat: DateFormat;
  /** Separator of vulnerabilities when written as one string. */
  listSeparator: string;
  /** Source value -> ISO 3166-1 alpha-2; null when the source writes alpha-2 itself. */
  citizenship: Readonly<Record<string, string>> | null;
  /** Source code -> national code, per code list; a list not given is written in national codes. */
  vocabularies: Vocabularies;
  quirks: Quirks;
  /** How values are typed: JSON and XML sources only; text sources write every value as text. */
  values: ValueTypes | null;
  /** The header carrying the key, and the text before it; null where the source asks for none. */
  auth: { header: string; prefix: string } | null;
}

export interface RestSourceDialect extends SourceDialectBase {
  kind: 'rest';
  auth: { header: string; prefix: string };
  values: ValueTypes;
  paging: {
    style: 'page' | 'offset';
    startParam: string;
    sizeParam: string;
    /** First page number (page style); 0 for offset style. */
    firstPage: 0 | 1;
    maxPageSize: number;
    /** Page size when the request gives none. */
    defaultPageSize: number;
    /** Dotted path of the records array in the body. */
    itemsPath: string;
    /** Dotted path of the total number of matching records. */
    totalPath: string;
  };
  /** Most values one batch parameter accepts. */
  maxBatchSize: number;
  entities: { readonly [E in EntityName]?: RestEntityDialect<E> };
}

export interface CsvSourceDialect extends SourceDialectBase {
  kind: 'csv';
  values: null;
  encoding: string;
  /** A UTF-8 byte order mark before the header (as Excel writes). */
  bom: boolean;
  delimiter: string;
  lineEnding: '\r\n' | '\n';
  /** Every value quoted, not only those that need it. */
  quoteAll: boolean;
  contentType: string;
  entities: { readonly [E in EntityName]?: EntityDialect<E> };
}

/** A kind whose stand-in reads the source's config itself: the dialect carries it. */
interface ConfiguredDialect<K extends string, C> extends SourceDialectBase {
  kind: K;
  config: C;
  entities: { readonly [E in EntityName]?: EntityDialect<E> };
}
export type SoapSourceDialect = ConfiguredDialect<'soap', SoapSourceConfig> & { values: ValueTypes };
export type SqlSourceDialect = ConfiguredDialect<'sql', SqlSourceConfig> & { values: null };
export type SpreadsheetSourceDialect = ConfiguredDialect<'spreadsheet', SpreadsheetSourceConfig> & { values: null; spreadsheet: SpreadsheetQuirks };
export type GraphqlSourceDialect = ConfiguredDialect<'graphql', GraphqlSourceConfig> & { values: ValueTypes };

export type SourceDialect = RestSourceDialect | CsvSourceDialect | SoapSourceDialect | SqlSourceDialect | SpreadsheetSourceDialect | GraphqlSourceDialect;

export interface CityDialect {
  code: string;
  /** Lower-case file-name slug, e.g. "sassari". */
  slug: string;
  name: string;
  editions: readonly Edition[];
  operatingBody: string | null;
  sources: readonly SourceDialect[];
}

/** The environment variable holding a source's base URL or API key, as `npm run adapter:new` names them. */
export function sourceEnvName(city: string, sourceId: string, what: 'URL' | 'KEY'): string {
  return `LGNET_${city}_${sourceId.toUpperCase().replace(/-/g, '_')}_${what}`;
}

/** "Reggio nell'Emilia" -> "reggio-nell-emilia". */
export function slugOf(name: string): string {
  return name.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
}

/** Canonical field -> spec, per entity the source serves, with the path each entity has (REST, CSV, spreadsheet). */
function entitiesOf(source: SourceConfig): { [E in EntityName]?: EntityDialect<E> } {
  const out: Record<string, EntityDialect<EntityName>> = {};
  for (const entity of entityNames) {
    const e = source.entities[entity] as { path?: string; fields: Record<string, string> } | undefined;
    if (e) out[entity] = { path: e.path ?? '', fields: e.fields as EntityFields<EntityName> };
  }
  return out as { [E in EntityName]?: EntityDialect<E> };
}

/** How the stand-in of one source of a city speaks: its config, read in reverse, and its habits. */
export function sourceDialect(city: CityConfig, source: SourceConfig, habits: SourceHabits = habitsOf(city.code, source.id)): SourceDialect {
  const values: ValueTypes = { ...defaultValueTypes, ...habits.values };
  const auth = source.auth && 'header' in source.auth ? { header: source.auth.header, prefix: source.auth.prefix } : null;
  const base: SourceDialectBase = {
    id: source.id,
    domains: source.domains,
    basePath: habits.basePath ?? `/${slugOf(city.name)}/${source.id}`,
    dateFormat: source.dateFormat,
    listSeparator: source.listSeparator,
    citizenship: source.citizenship ?? null,
    vocabularies: source.vocabularies,
    quirks: habits.quirks ?? {},
    values: null,
    auth,
  };
  switch (source.kind) {
    case 'rest': {
      const entities: Record<string, RestEntityDialect<EntityName>> = {};
      for (const entity of entityNames) {
        const e = source.entities[entity];
        if (e) entities[entity] = { path: e.path, fields: e.fields as EntityFields<EntityName>, batchParams: e.batchParams, filters: e.filters };
      }
      return {
        ...base,
        kind: 'rest',
        auth: { header: source.auth.header, prefix: source.auth.prefix },
        values,
        paging: { ...source.paging, firstPage: source.paging.style === 'offset' ? 0 : source.paging.firstPage, defaultPageSize: habits.defaultPageSize ?? 20 },
        maxBatchSize: source.maxBatchSize,
        entities: entities as RestSourceDialect['entities'],
      };
    }
    case 'csv':
      return {
        ...base,
        kind: 'csv',
        values: null,
        encoding: source.encoding,
        // Excel writes a byte order mark before UTF-8.
        bom: habits.bom ?? source.encoding.toLowerCase().replace(/[^a-z0-9]/g, '') === 'utf8',
        delimiter: source.delimiter,
        lineEnding: habits.lineEnding ?? '\r\n',
        quoteAll: habits.quoteAll ?? false,
        contentType: habits.contentType ?? `text/csv; charset=${source.encoding}`,
        entities: entitiesOf(source),
      };
    case 'soap':
      return { ...base, kind: 'soap', values, config: source, entities: entitiesOf(source) };
    case 'sql':
      return { ...base, kind: 'sql', values: null, config: source, entities: entitiesOf(source) };
    case 'spreadsheet':
      return { ...base, kind: 'spreadsheet', values: null, config: source, spreadsheet: habits.spreadsheet ?? {}, entities: entitiesOf(source) };
    case 'graphql':
      return { ...base, kind: 'graphql', values, config: source, entities: entitiesOf(source) };
  }
}

/** How a city's systems speak, from its config. */
export function cityDialect(city: CityConfig): CityDialect {
  return {
    code: city.code,
    slug: slugOf(city.name),
    name: city.name,
    editions: city.editions,
    operatingBody: city.operatingBody,
    sources: city.sources.map((s) => sourceDialect(city, s)),
  };
}

/** Every city of the registry (adapters/cities/) with a system to stand in for, as the sandbox does. */
export const dialects: readonly CityDialect[] = loadCityConfigs(defaultCitiesDir).filter((c) => c.sources.length > 0).map(cityDialect);

const byCode = new Map(dialects.map((d) => [d.code, d]));

/** The dialect of a registered city; throws for a city the registry does not know. */
export function dialectOf(code: string): CityDialect {
  const d = byCode.get(code);
  if (!d) throw new Error(`no city ${code} in adapters/cities/`);
  return d;
}
