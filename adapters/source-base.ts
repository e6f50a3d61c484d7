/**
 * What every kind of source shares in a city's config: the mapping of the
 * city's field names and codes to the national ones, the keys that bound and
 * protect its requests, and the building blocks (references to the
 * environment, field maps, filter maps, credentials) each connector's own
 * config is made of. Each kind of source declares its config beside its
 * connector (adapters/connectors/); adapters/config.ts joins them.
 */
import { z } from 'zod';
import { Domain, vocabularyTargets, type VocabularyName } from '../schema/code-lists.ts';
import type { EntityName } from '../schema/records.ts';

/** A value given by reference to an environment variable. */
export const EnvRef = z.object({ env: z.string().regex(/^[A-Z][A-Z0-9_]*$/) }).strict();
export const StringOrRef = z.union([z.string().min(1), EnvRef]);

/** Canonical field name -> the source's own field (column) name, per entity. */
const canonicalFields = {
  beneficiaries: [
    'localId', 'fiscalCode', 'givenName', 'familyName', 'sex', 'birthDate', 'citizenship',
    'permitType', 'vulnerabilities', 'intakeDate', 'intakeChannel', 'intakeStatus',
  ],
  services: ['localId', 'name', 'category'],
  enrollments: ['localId', 'beneficiaryId', 'serviceId', 'from', 'to'],
  civicProjects: ['localId', 'beneficiaryId', 'status', 'signedOn'],
  housingResources: ['localId', 'name', 'kind', 'capacity', 'occupancy'],
  placements: ['localId', 'beneficiaryId', 'resourceId', 'from', 'to'],
} as const satisfies Record<EntityName, readonly string[]>;
export type CanonicalField<E extends EntityName> = (typeof canonicalFields)[E][number];
export const canonicalFieldsOf = canonicalFields;

/** Fields the graph looks records up by: each must name one source field. */
const idFields = new Set(['localId', 'beneficiaryId', 'serviceId', 'resourceId']);

/**
 * Canonical field -> the source's field: its name, a dotted path into nested
 * objects (`permesso.tipo.codice`), or a template putting several fields
 * together (`{giorno}/{mese}/{anno}`: a date split in columns).
 */
export function fieldMap<E extends EntityName>(entity: E) {
  const keys = canonicalFields[entity] as readonly string[];
  return z
    .record(z.string(), z.string().min(1))
    .superRefine((map, ctx) => {
      for (const k of Object.keys(map)) {
        if (!keys.includes(k)) ctx.addIssue({ code: 'custom', message: `unknown canonical field "${k}" for ${entity}; known: ${keys.join(', ')}` });
      }
      for (const k of keys) {
        if (!(k in map)) ctx.addIssue({ code: 'custom', message: `${entity}: no source field mapped to "${k}"` });
      }
      for (const [k, spec] of Object.entries(map)) {
        if (!spec.includes('{') && !spec.includes('}')) continue;
        // A template puts fields together: {a}/{b}. Keys are looked up by value, so they name one field.
        if (idFields.has(k)) ctx.addIssue({ code: 'custom', path: [k], message: `${entity}.${k}: an id is looked up by value and must name one field, not a template` });
        else if (!/^(?:[^{}]*\{[^{}]+\})+[^{}]*$/.test(spec)) ctx.addIssue({ code: 'custom', path: [k], message: `${entity}.${k}: "${spec}" is not a template of {field} names` });
      }
    });
}

/**
 * The canonical paths a source may filter on itself (a `Where` condition on
 * one of them can be pushed down), per entity: the canonical field the path
 * reads, and how a condition's values reach the source. A date is sent as a
 * range of two parameters in the source's own date format; a code through the
 * source's vocabulary (or citizenship table) back to its own codes; an id as
 * it is. Lists (vulnerabilities), names and numbers are not filtered on.
 */
export type FilterablePath =
  | { field: string; kind: 'date' }
  | { field: string; kind: 'id' }
  | { field: string; kind: 'code'; vocabulary: VocabularyName | 'citizenship' };

const dateOf = (field: string): FilterablePath => ({ field, kind: 'date' });
const idOf = (field: string): FilterablePath => ({ field, kind: 'id' });
const codeOf = (field: string, vocabulary: VocabularyName | 'citizenship'): FilterablePath => ({ field, kind: 'code', vocabulary });

export const filterablePaths: { readonly [E in EntityName]: Readonly<Record<string, FilterablePath>> } = {
  beneficiaries: {
    localId: idOf('localId'),
    sex: codeOf('sex', 'sex'),
    birthDate: dateOf('birthDate'),
    citizenship: codeOf('citizenship', 'citizenship'),
    permitType: codeOf('permitType', 'permitType'),
    'intake.date': dateOf('intakeDate'),
    'intake.channel': codeOf('intakeChannel', 'intakeChannel'),
    'intake.status': codeOf('intakeStatus', 'intakeStatus'),
  },
  services: { localId: idOf('localId'), category: codeOf('category', 'serviceCategory') },
  enrollments: { localId: idOf('localId'), beneficiaryId: idOf('beneficiaryId'), serviceId: idOf('serviceId'), from: dateOf('from'), to: dateOf('to') },
  civicProjects: { localId: idOf('localId'), beneficiaryId: idOf('beneficiaryId'), status: codeOf('status', 'civicProjectStatus'), signedOn: dateOf('signedOn') },
  housingResources: { localId: idOf('localId'), kind: codeOf('kind', 'housingKind') },
  placements: { localId: idOf('localId'), beneficiaryId: idOf('beneficiaryId'), resourceId: idOf('resourceId'), from: dateOf('from'), to: dateOf('to') },
};

/** The query parameters of a date filter: each bound of the range, inclusive; a bound without one is applied in process only. */
const DateFilterParams = z
  .object({ from: z.string().min(1).optional(), to: z.string().min(1).optional() })
  .strict()
  .refine((p) => p.from !== undefined || p.to !== undefined, { message: 'a date filter needs "from", "to" or both' });

/**
 * The filters a REST API offers for an entity: canonical path -> its query
 * parameter (`{ "from", "to" }` for a date range). Checked against
 * `filterablePaths`, so a misspelt path fails at start instead of quietly
 * filtering nothing.
 */
export function filterMap<E extends EntityName>(entity: E) {
  const paths = filterablePaths[entity];
  return z
    .record(z.string(), z.union([z.string().min(1), DateFilterParams]))
    .superRefine((map, ctx) => {
      for (const [path, param] of Object.entries(map)) {
        const f = paths[path];
        if (!f) {
          ctx.addIssue({ code: 'custom', path: [path], message: `unknown filter "${path}" for ${entity}; filterable: ${Object.keys(paths).join(', ')}` });
        } else if (f.kind === 'date' && typeof param === 'string') {
          ctx.addIssue({ code: 'custom', path: [path], message: `"${path}" is a date: give its parameters as { "from": ..., "to": ... }` });
        } else if (f.kind !== 'date' && typeof param !== 'string') {
          ctx.addIssue({ code: 'custom', path: [path], message: `"${path}" is matched by value: give the one parameter that takes a comma-separated list` });
        }
      }
    });
}

export const DateFormat = z.enum(['yyyy-mm-dd', 'dd/mm/yyyy', 'dd-mm-yyyy', 'dd.mm.yyyy', 'yyyymmdd']);
export type DateFormat = z.infer<typeof DateFormat>;

/** The city's own code -> the national code, per code list. Matching ignores case and surrounding spaces. */
export const Vocabularies = z
  .object(
    Object.fromEntries(
      (Object.keys(vocabularyTargets) as VocabularyName[]).map((name) => [
        name,
        z.record(z.string(), vocabularyTargets[name]).optional(),
      ]),
    ) as { [K in VocabularyName]: z.ZodOptional<z.ZodRecord<z.ZodString, (typeof vocabularyTargets)[K]>> },
  )
  .strict();
export type Vocabularies = z.infer<typeof Vocabularies>;

/**
 * Defaults of the keys that bound and protect each source's requests (see
 * MappingBase and docs/CITIES.md). Times in milliseconds.
 */
export const requestDefaults = {
  timeoutMs: 5_000,
  connectTimeoutMs: 2_000,
  retries: 2,
  retryDelayMs: 200,
  breakerFailures: 5,
  breakerHalfOpenAfterMs: 15_000,
  maxConcurrent: 8,
  maxQueued: 32,
  maxRejectedShare: 0.2,
} as const;

/** How records are read and mapped: shared by every kind of source. */
export const MappingBase = {
  /** The identifier the source is known by inside this city's config (e.g. "main", "housing"). */
  id: z.string().regex(/^[a-z][a-z0-9-]*$/),
  /** The domains this source serves for the city. */
  domains: z.array(Domain).min(1),
  /** Where the source is. */
  baseUrl: StringOrRef,
  /** How dates are written by the source. */
  dateFormat: DateFormat,
  /** Separator of multi-valued fields (vulnerabilities) when the source writes them as one string. */
  listSeparator: z.string().min(1).default(','),
  /**
   * How citizenship is written: ISO 3166-1 alpha-2 (`iso2`), or anything else
   * through the `citizenship` table (source value -> alpha-2).
   */
  citizenship: z.record(z.string(), z.string().regex(/^[A-Z]{2}$/)).optional(),
  vocabularies: Vocabularies,
  /** Longest wait for one attempt of an upstream request, connection and whole body included, in milliseconds. */
  timeoutMs: z.number().int().positive().max(120_000).default(requestDefaults.timeoutMs),
  /**
   * Longest wait for a connection to the source (part of timeoutMs), in
   * milliseconds: a host that does not answer at all is given up on sooner
   * than one that is slow to answer.
   */
  connectTimeoutMs: z.number().int().positive().max(60_000).default(requestDefaults.connectTimeoutMs),
  /** Further attempts of a read that failed with 502, 503, 504, 408, 429, a lost connection or a timeout. */
  retries: z.number().int().min(0).max(3).default(requestDefaults.retries),
  /** Pause before the first retry, in milliseconds: doubled for each further one, each drawn between half and all of it. */
  retryDelayMs: z.number().int().min(1).max(10_000).default(requestDefaults.retryDelayMs),
  /** Consecutive failed attempts (the city down, not a 404) after which the source's circuit opens. */
  breakerFailures: z.number().int().min(1).max(100).default(requestDefaults.breakerFailures),
  /** How long an open circuit answers at once before one request is let through to probe, in milliseconds. */
  breakerHalfOpenAfterMs: z.number().int().min(100).max(600_000).default(requestDefaults.breakerHalfOpenAfterMs),
  /** Most requests in flight to the source at once, from this process (a city's server is small). */
  maxConcurrent: z.number().int().min(1).max(64).default(requestDefaults.maxConcurrent),
  /** Most requests waiting for one of those places; beyond, a request is refused at once as CITY_UNAVAILABLE. */
  maxQueued: z.number().int().min(0).max(1_000).default(requestDefaults.maxQueued),
  /**
   * Share of the records of an entity (0 to 1) that may be rejected before the
   * source shows as DEGRADED and every national answer names it: a renamed
   * field or a new code in the city's system rejects most of its records at once.
   */
  maxRejectedShare: z.number().min(0).max(1).default(requestDefaults.maxRejectedShare),
};

export const Auth = z
  .object({
    /** Header the key is sent in, e.g. "X-API-Key" or "Authorization". */
    header: z.string().min(1),
    /** Text before the key, e.g. "Bearer " (with its space). */
    prefix: z.string().default(''),
    key: EnvRef,
  })
  .strict();

/**
 * Where a key of a source's config is, as a message that asks for a change
 * names it: `sources[id=main].entities.beneficiaries.fields.birthDate in
 * adapters/cities/090064-sassari.json` (or "in the city's file" when the file
 * is not known).
 */
export function configKeyOf(source: { id: string; configFile?: string }, key: string): string {
  return `sources[id=${source.id}].${key} in ${source.configFile ?? "the city's file"}`;
}

/** What a kind of source calls one of its fields, for messages: a CSV export or a sheet has columns, a SOAP service elements. */
export function fieldWordOf(kind: string): string {
  switch (kind) {
    case 'csv':
    case 'spreadsheet':
    case 'sql':
      return 'column';
    case 'soap':
      return 'element';
    default:
      return 'field';
  }
}

/** The source's own field names a field spec reads: the spec itself, or each name in a template's braces. */
export function specColumns(spec: string): string[] {
  return spec.includes('{') ? [...spec.matchAll(/\{([^{}]+)\}/g)].map((m) => m[1]!.trim()) : [spec];
}

/**
 * The keys of an entity's `fields` that read any of `columns`, where they
 * are: `sources[id=main].entities.beneficiaries.fields.birthDate in
 * adapters/cities/054039-perugia.json`, or `...fields.{sex, birthDate} in ...`
 * for several. For a message about columns a file
 * or a service no longer has, so that it says what to change.
 */
export function fieldKeysReading(source: { id: string; configFile?: string; entities: Partial<Record<EntityName, { fields: Record<string, string> } | undefined>> }, entity: EntityName, columns: readonly string[]): string {
  const fields = source.entities[entity]?.fields ?? {};
  const wanted = new Set(columns);
  const keys = Object.entries(fields).filter(([, spec]) => specColumns(spec).some((c) => wanted.has(c))).map(([field]) => field);
  const named = keys.length === 0 ? '' : keys.length === 1 ? `.${keys[0]}` : `.{${keys.join(', ')}}`;
  return configKeyOf(source, `entities.${entity}.fields${named}`);
}

/** Canonical fields a record may leave empty (every other one is required: a record without it is rejected). */
export const optionalCanonicalFields: ReadonlySet<string> = new Set(['vulnerabilities', 'to', 'signedOn']);
