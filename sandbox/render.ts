/**
 * Renders a city's canonical population into the rows its own system would
 * serve: the city's field names, codes, date format, list joins and habits
 * (sandbox/dialects.ts).
 *
 * It also breaks a few records per city (2 to 6, chosen by a PRNG from the
 * seed and the city, spread over the entities), one defect each, of the kinds
 * the adapters must catch: an impossible date, an unknown code, a missing
 * required field, a fiscal code with a wrong check character, a negative
 * capacity. What it broke is returned with the reason the adapters should
 * give, so tests can expect exactly those rejections. Ids are never broken.
 */
import type { RawRow } from '../adapters/port.ts';
import type { RejectReason, VocabularyName } from '../schema/code-lists.ts';
import { entityNames, type EntityName } from '../schema/records.ts';
import type { CityDialect, SourceDialect } from './dialects.ts';
import { createPrng, hashString } from './faults.ts';
import type { CityPopulation } from './population-types.ts';

export interface BrokenRecord {
  entity: EntityName;
  localId: string;
  reason: RejectReason;
}

export interface RenderedCity {
  city: string;
  /** Rows per source id, then per entity, in the population's order. */
  sources: ReadonlyMap<string, ReadonlyMap<EntityName, readonly RawRow[]>>;
  broken: readonly BrokenRecord[];
}

export interface RenderOptions {
  /** Seed of the choice of records to break (the sandbox passes the population's seed). */
  seed: number;
  /** false renders every record faithfully. Default true. */
  breakRecords?: boolean;
}

/** Fewest and most records broken per city. */
export const MIN_BROKEN = 2;
export const MAX_BROKEN = 6;

// ---------------------------------------------------------------------------
// What each canonical field is, for rendering.

type FieldKind =
  | { kind: 'id' | 'text' | 'date' | 'optionalDate' | 'number' | 'fiscalCode' | 'citizenship' }
  | { kind: 'code'; list: VocabularyName }
  | { kind: 'codes'; list: VocabularyName };

const id = { kind: 'id' } as const;
const text = { kind: 'text' } as const;
const date = { kind: 'date' } as const;
const optionalDate = { kind: 'optionalDate' } as const;
const num = { kind: 'number' } as const;
const code = (list: VocabularyName) => ({ kind: 'code', list }) as const;

const fieldKinds: { [E in EntityName]: Record<string, FieldKind> } = {
  beneficiaries: {
    localId: id, fiscalCode: { kind: 'fiscalCode' }, givenName: text, familyName: text, sex: code('sex'), birthDate: date,
    citizenship: { kind: 'citizenship' }, permitType: code('permitType'), vulnerabilities: { kind: 'codes', list: 'vulnerability' },
    intakeDate: date, intakeChannel: code('intakeChannel'), intakeStatus: code('intakeStatus'),
  },
  services: { localId: id, name: text, category: code('serviceCategory') },
  enrollments: { localId: id, beneficiaryId: id, serviceId: id, from: date, to: optionalDate },
  civicProjects: { localId: id, beneficiaryId: id, status: code('civicProjectStatus'), signedOn: optionalDate },
  housingResources: { localId: id, name: text, kind: code('housingKind'), capacity: num, occupancy: num },
  placements: { localId: id, beneficiaryId: id, resourceId: id, from: date, to: optionalDate },
};

/** A canonical record as flat canonical fields (the intake is spread out). */
function flatten(entity: EntityName, record: object): Record<string, unknown> {
  if (entity === 'beneficiaries') {
    const { intake, ...rest } = record as { intake: { date: string; channel: string; status: string } };
    return { ...rest, intakeDate: intake.date, intakeChannel: intake.channel, intakeStatus: intake.status };
  }
  return record as Record<string, unknown>;
}

// ---------------------------------------------------------------------------
// Defects

type DefectValue = 'impossibleDate' | 'unknownCode' | 'missing' | 'wrongCheckChar' | 'negative';

interface DefectKind {
  field: string;
  reason: RejectReason;
  value: DefectValue;
  /** The vocabulary the source must have for an unknown code to be UNKNOWN_CODE (not merely invalid). */
  needsVocabulary?: VocabularyName;
  /** Only for records where the field has a value (an optional date). */
  needsValue?: boolean;
}

const defectKinds: { [E in EntityName]: DefectKind[] } = {
  beneficiaries: [
    { field: 'birthDate', reason: 'INVALID_DATE', value: 'impossibleDate' },
    { field: 'intakeDate', reason: 'INVALID_DATE', value: 'impossibleDate' },
    { field: 'sex', reason: 'UNKNOWN_CODE', value: 'unknownCode', needsVocabulary: 'sex' },
    { field: 'intakeChannel', reason: 'UNKNOWN_CODE', value: 'unknownCode', needsVocabulary: 'intakeChannel' },
    { field: 'fiscalCode', reason: 'MISSING_FIELD', value: 'missing' },
    { field: 'fiscalCode', reason: 'INVALID_FISCAL_CODE', value: 'wrongCheckChar' },
    { field: 'familyName', reason: 'MISSING_FIELD', value: 'missing' },
  ],
  services: [
    { field: 'category', reason: 'UNKNOWN_CODE', value: 'unknownCode', needsVocabulary: 'serviceCategory' },
    { field: 'name', reason: 'MISSING_FIELD', value: 'missing' },
  ],
  enrollments: [{ field: 'from', reason: 'INVALID_DATE', value: 'impossibleDate' }],
  civicProjects: [
    { field: 'status', reason: 'UNKNOWN_CODE', value: 'unknownCode', needsVocabulary: 'civicProjectStatus' },
    { field: 'signedOn', reason: 'INVALID_DATE', value: 'impossibleDate', needsValue: true },
  ],
  housingResources: [
    { field: 'capacity', reason: 'INVALID_VALUE', value: 'negative' },
    { field: 'kind', reason: 'UNKNOWN_CODE', value: 'unknownCode', needsVocabulary: 'housingKind' },
  ],
  placements: [{ field: 'from', reason: 'INVALID_DATE', value: 'impossibleDate' }],
};

/** Codes no city uses: "?" for sex, as clerks type it; "BOH" ("who knows") elsewhere. */
const UNKNOWN_CODES: Partial<Record<VocabularyName, string>> = { sex: '?' };
const UNKNOWN_CODE = 'BOH';

/** Days that do not exist, as [year, month, day]. */
const IMPOSSIBLE_DATES: ReadonlyArray<readonly [number, number, number]> = [
  [2023, 2, 31], [2022, 4, 31], [2023, 2, 29], [2024, 6, 31], [2021, 11, 31], [2024, 2, 30],
];

interface PlannedDefect extends DefectKind {
  entity: EntityName;
  index: number;
  localId: string;
  /** Which impossible date, or which wrong check character. */
  variant: number;
}

/** Whether a field is stored in an SQL DATE column. */
function isDateColumn(source: SourceDialect, entity: EntityName, field: string): boolean {
  if (source.kind !== 'sql') return false;
  const dates = source.config.entities[entity]?.dates as Readonly<Record<string, string>> | undefined;
  return dates?.[field] === 'date';
}

/**
 * The columns of a template and their parts of a value written through it:
 * `{giorno}/{mese}/{anno}` and "05/03/2024" give giorno 05, mese 03, anno
 * 2024. An absent value leaves every column absent.
 */
export function splitTemplate(spec: string, value: unknown): Record<string, unknown> {
  const columns = [...spec.matchAll(/\{([^{}]+)\}/g)].map((m) => m[1]!.trim());
  // Two columns with nothing between them could be cut anywhere.
  if (/\}\{/.test(spec)) throw new Error(`the template "${spec}" has two columns with nothing between them: the stand-in cannot tell where one ends`);
  if (value === null || value === undefined || value === '') return Object.fromEntries(columns.map((c) => [c, value === '' ? '' : null]));
  const text = typeof value === 'string' ? value.trim() : String(value);
  const pattern = new RegExp(`^${spec.split(/\{[^{}]+\}/).map((literal) => literal.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('(.*?)')}$`, 's');
  const m = pattern.exec(text);
  if (!m) throw new Error(`"${text}" cannot be written through the template "${spec}"`);
  return Object.fromEntries(columns.map((c, i) => [c, m[i + 1]]));
}

function sourceFor(dialect: CityDialect, entity: EntityName): SourceDialect | undefined {
  return dialect.sources.find((s) => s.entities[entity] !== undefined);
}

/**
 * Chooses the records to break: 2 to 6, entity after entity in turn from a
 * random start (so they spread over the entities), a random record each, with
 * a defect that the record and its source allow.
 */
export function planDefects(population: CityPopulation, dialect: CityDialect, seed: number): PlannedDefect[] {
  const random = createPrng(hashString(`${seed}:${dialect.code}:defects`));
  const pick = (n: number) => Math.floor(random() * n);
  const wanted = MIN_BROKEN + pick(MAX_BROKEN - MIN_BROKEN + 1);
  const entities = entityNames.filter((e) => population[e].length > 0 && sourceFor(dialect, e));
  if (entities.length === 0) return [];
  const start = pick(entities.length);
  const used = new Map<EntityName, Set<number>>();
  const planned: PlannedDefect[] = [];
  // Rounds over the entities until enough are planned or none can take more.
  for (let turn = 0; planned.length < wanted && turn < wanted * entities.length; turn++) {
    const entity = entities[(start + turn) % entities.length]!;
    const records = population[entity] as ReadonlyArray<{ localId: string }>;
    const taken = used.get(entity) ?? new Set<number>();
    used.set(entity, taken);
    const source = sourceFor(dialect, entity)!;
    // A few tries for a record that can take one of the entity's defects.
    for (let attempt = 0; attempt < 8 && taken.size < records.length; attempt++) {
      const index = pick(records.length);
      if (taken.has(index)) continue;
      const flat = flatten(entity, records[index]!);
      const possible = defectKinds[entity].filter(
        (d) =>
          (!d.needsVocabulary || source.vocabularies[d.needsVocabulary] !== undefined) &&
          // A DATE column cannot hold a day that does not exist.
          (d.value !== 'impossibleDate' || !isDateColumn(source, entity, d.field)) &&
          (!d.needsValue || (flat[d.field] !== null && flat[d.field] !== undefined)),
      );
      if (possible.length === 0) continue;
      const defect = possible[pick(possible.length)]!;
      taken.add(index);
      planned.push({ ...defect, entity, index, localId: records[index]!.localId, variant: pick(1 << 16) });
      break;
    }
  }
  return planned;
}

// ---------------------------------------------------------------------------
// Rendering

/** Marks a field that is left out of the row altogether. */
const OMIT = Symbol('omit');
type Rendered = unknown;

/** A date in one of the dialects' formats, from its parts (which need not make a real day). */
export function formatDate(year: number, month: number, day: number, format: SourceDialect['dateFormat']): string {
  const y = String(year).padStart(4, '0');
  const m = String(month).padStart(2, '0');
  const d = String(day).padStart(2, '0');
  switch (format) {
    case 'yyyy-mm-dd':
      return `${y}-${m}-${d}`;
    case 'dd/mm/yyyy':
      return `${d}/${m}/${y}`;
    case 'dd-mm-yyyy':
      return `${d}-${m}-${y}`;
    case 'dd.mm.yyyy':
      return `${d}.${m}.${y}`;
    case 'yyyymmdd':
      return `${y}${m}${d}`;
  }
}

function formatIsoDate(iso: string, format: SourceDialect['dateFormat']): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(iso);
  if (!m) throw new Error(`not an ISO date: ${iso}`);
  return formatDate(Number(m[1]), Number(m[2]), Number(m[3]), format);
}

/** The first source code of each national code, per list: what the city writes. */
/** Per code list, national code -> the source's codes for it, in the vocabulary's order. */
function inverseVocabularies(source: SourceDialect): Map<VocabularyName, Map<string, string[]>> {
  const out = new Map<VocabularyName, Map<string, string[]>>();
  for (const [list, table] of Object.entries(source.vocabularies) as Array<[VocabularyName, Record<string, string> | undefined]>) {
    if (!table) continue;
    const inverse = new Map<string, string[]>();
    for (const [own, national] of Object.entries(table)) inverse.set(national, [...(inverse.get(national) ?? []), own]);
    out.set(list, inverse);
  }
  return out;
}

function createSourceRenderer(city: string, source: SourceDialect) {
  const vocab = inverseVocabularies(source);
  const citizenship = source.citizenship
    ? new Map(Object.entries(source.citizenship).map(([own, iso]) => [iso, own] as const).reverse())
    : null;
  // Text sources (CSV, SQL text columns, spreadsheets) write every value as text; JSON and XML ones type them.
  const values = source.values;
  const { quirks } = source;
  const where = `city ${city} source "${source.id}"`;

  const absent = (): Rendered => {
    if (!values) return '';
    return values.absent === 'null' ? null : values.absent === 'omit' ? OMIT : '';
  };
  const caseOf = (s: string) => (quirks.codesCase === 'upper' ? s.toUpperCase() : quirks.codesCase === 'lower' ? s.toLowerCase() : s);

  /** The record being written: a bilingual system writes all of one record's codes in one language. */
  let language = 0;

  function ownCode(list: VocabularyName, national: string): string {
    const table = vocab.get(list);
    if (!table) return national;
    const codes = table.get(national);
    if (codes === undefined) throw new Error(`${where}: the ${list} vocabulary has no code for ${national}`);
    return caseOf(quirks.bilingual ? codes[language % codes.length]! : codes[0]!);
  }

  function fiscalCode(cf: string): string {
    if (quirks.fiscalCode === 'lower') return cf.toLowerCase();
    if (quirks.fiscalCode === 'spaced') return `${cf.slice(0, 6)} ${cf.slice(6, 11)} ${cf.slice(11)}`;
    return cf;
  }

  function renderValue(kind: FieldKind, value: unknown): Rendered {
    switch (kind.kind) {
      case 'id': {
        const s = String(value);
        return values?.ids === 'number' && /^[1-9]\d{0,14}$/.test(s) ? Number(s) : s;
      }
      case 'text':
        return value;
      case 'date':
        return formatIsoDate(value as string, source.dateFormat);
      case 'optionalDate':
        return value === null || value === undefined ? absent() : formatIsoDate(value as string, source.dateFormat);
      case 'number':
        return values?.numbers === 'number' ? value : String(value);
      case 'fiscalCode':
        return fiscalCode(value as string);
      case 'citizenship': {
        const iso = value as string;
        if (!citizenship) return caseOf(iso);
        const own = citizenship.get(iso);
        if (own === undefined) throw new Error(`${where}: the citizenship table has no entry for ${iso}`);
        return caseOf(own);
      }
      case 'code':
        return ownCode(kind.list, value as string);
      case 'codes': {
        const codes = (value as string[]).map((v) => ownCode(kind.list, v));
        if (values?.vulnerabilities === 'array') return codes;
        if (codes.length === 0) return absent();
        return codes.join(source.listSeparator);
      }
    }
  }

  function defectValue(d: PlannedDefect, kind: FieldKind, original: unknown): Rendered {
    switch (d.value) {
      case 'impossibleDate': {
        const [y, m, day] = IMPOSSIBLE_DATES[d.variant % IMPOSSIBLE_DATES.length]!;
        return formatDate(y, m, day, source.dateFormat);
      }
      case 'unknownCode':
        return kind.kind === 'code' ? (UNKNOWN_CODES[kind.list] ?? UNKNOWN_CODE) : UNKNOWN_CODE;
      case 'missing':
        // Some clerks leave a blank, which is as missing as nothing.
        return values !== null && values.absent !== 'empty' ? absent() : d.variant % 3 === 0 ? '   ' : '';
      case 'wrongCheckChar': {
        const cf = original as string;
        const right = cf.charCodeAt(15) - 65;
        const wrong = String.fromCharCode(65 + ((right + 1 + (d.variant % 25)) % 26));
        return fiscalCode(cf.slice(0, 15) + wrong);
      }
      case 'negative':
        return renderValue(num, -(1 + (d.variant % 5)));
    }
  }

  const pad = (v: Rendered): Rendered => (quirks.padTo && typeof v === 'string' ? v.padEnd(quirks.padTo) : v);

  return function renderRow(entity: EntityName, record: object, defect: PlannedDefect | undefined): RawRow {
    const fields = source.entities[entity]!.fields as Record<string, string>;
    // Which language the record was written in: drawn from its id, so the same record always reads the same.
    if (quirks.bilingual) language = hashString(`${city}:${(record as { localId: string }).localId}`) % 2;
    const flat = flatten(entity, record);
    const row: Record<string, unknown> = {};
    for (const [canonical, kind] of Object.entries(fieldKinds[entity])) {
      const original = flat[canonical];
      let v = defect?.field === canonical ? defectValue(defect, kind, original) : renderValue(kind, original);
      if (v === OMIT) continue;
      // Cells of text sources are text: an absent value is an empty cell.
      if (values === null) v = v === null || v === undefined ? '' : Array.isArray(v) ? v.join(source.listSeparator) : String(v);
      const spec = fields[canonical]!;
      if (!spec.includes('{')) {
        row[spec] = pad(v);
        continue;
      }
      // A template ({giorno}/{mese}/{anno}): the value is cut back into the columns the graph puts together.
      for (const [column, part] of Object.entries(splitTemplate(spec, v))) row[column] = pad(part);
    }
    for (const [name, value] of Object.entries(quirks.extraFields ?? {})) row[name] = pad(value);
    return Object.freeze(row);
  };
}

/** The rows each source of a city serves, and the records broken on the way. */
export function renderCity(population: CityPopulation, dialect: CityDialect, options: RenderOptions): RenderedCity {
  const defects = options.breakRecords === false ? [] : planDefects(population, dialect, options.seed);
  const defectAt = new Map(defects.map((d) => [`${d.entity}#${d.index}`, d]));
  const sources = new Map<string, Map<EntityName, readonly RawRow[]>>();
  for (const source of dialect.sources) {
    const render = createSourceRenderer(dialect.code, source);
    const rows = new Map<EntityName, readonly RawRow[]>();
    for (const entity of entityNames) {
      if (!source.entities[entity]) continue;
      const records = population[entity] as readonly object[];
      rows.set(entity, Object.freeze(records.map((r, i) => render(entity, r, defectAt.get(`${entity}#${i}`)))));
    }
    sources.set(source.id, rows);
  }
  return {
    city: dialect.code,
    sources,
    broken: Object.freeze(defects.map(({ entity, localId, reason }) => ({ entity, localId, reason }))),
  };
}
