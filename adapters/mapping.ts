/**
 * From a city's row to a canonical record: field names, codes, dates and
 * numbers mapped per the city's config, then validated by the canonical zod
 * schema. A row that fails is rejected with one reason, never dropped.
 */
import { createHmac } from 'node:crypto';
import type { RejectReason, VocabularyName } from '../schema/code-lists.ts';
import { STATELESS, isEuEeaSwiss, isIsoCountry, vocabularyTargets } from '../schema/code-lists.ts';
import { isValidFiscalCode, normaliseFiscalCode } from '../schema/fiscal-code.ts';
import { entitySchemas, type EntityName, type EntityRecord } from '../schema/records.ts';
import type { DateFormat, SourceConfig } from './config.ts';
import { cellDefects, rowDefect, type RawRow } from './port.ts';
import { specColumns } from './source-base.ts';

export interface Rejection {
  reason: RejectReason;
  /** The canonical field at fault. */
  field: string;
  /** What was wrong, without the value itself (it may be personal data). */
  detail: string;
}

export type MapResult<T> =
  | { ok: true; record: T }
  | {
      ok: false;
      localId: string | null;
      rejection: Rejection;
      /** The rejection depends on today's date: it may not hold tomorrow, so it must not be kept. */
      volatile?: true;
    };

class Reject extends Error {
  readonly rejection: Rejection;
  readonly volatile: boolean;
  constructor(reason: RejectReason, field: string, detail: string, volatile = false) {
    super(detail);
    this.rejection = { reason, field, detail };
    this.volatile = volatile;
  }
}

/** Today's date where the programme runs (Italian time), as YYYY-MM-DD. */
const italianDate = new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Rome', year: 'numeric', month: '2-digit', day: '2-digit' });

const DATE_PATTERNS: Record<DateFormat, RegExp> = {
  'yyyy-mm-dd': /^(?<y>\d{4})-(?<m>\d{2})-(?<d>\d{2})$/,
  'dd/mm/yyyy': /^(?<d>\d{1,2})\/(?<m>\d{1,2})\/(?<y>\d{4})$/,
  'dd-mm-yyyy': /^(?<d>\d{1,2})-(?<m>\d{1,2})-(?<y>\d{4})$/,
  'dd.mm.yyyy': /^(?<d>\d{1,2})\.(?<m>\d{1,2})\.(?<y>\d{4})$/,
  yyyymmdd: /^(?<y>\d{4})(?<m>\d{2})(?<d>\d{2})$/,
};

/** Parses a date written in `format`; null when it is not one, or the day does not exist. */
export function parseDate(text: string, format: DateFormat): string | null {
  const g = DATE_PATTERNS[format].exec(text)?.groups;
  if (!g) return null;
  const y = Number(g.y), m = Number(g.m), d = Number(g.d);
  const date = new Date(Date.UTC(y, m - 1, d));
  if (date.getUTCFullYear() !== y || date.getUTCMonth() !== m - 1 || date.getUTCDate() !== d) return null;
  return `${g.y}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`;
}

/**
 * The value a field spec names in a row. A spec is the source's field name;
 * a dotted path (`permesso.tipo.codice`) reaches into nested objects when the
 * row has no field of that very name; a template (`{giorno}/{mese}/{anno}`)
 * puts several fields together, e.g. a date split in columns, and is empty
 * when every field it names is.
 */
export function fieldValue(row: RawRow, spec: string): unknown {
  if (spec.includes('{')) {
    let any = false;
    const text = spec.replace(/\{([^{}]+)\}/g, (_, path: string) => {
      const v = pathValue(row, path.trim());
      if (v === null || v === undefined || String(v).trim() === '') return '';
      any = true;
      return String(v).trim();
    });
    return any ? text : null;
  }
  return pathValue(row, spec);
}

function pathValue(row: RawRow, path: string): unknown {
  if (path in row || !path.includes('.')) return row[path];
  let v: unknown = row;
  for (const part of path.split('.')) {
    if (v === null || v === undefined || typeof v !== 'object') return undefined;
    v = Array.isArray(v) ? v.map((x) => (x as Record<string, unknown> | null)?.[part]).filter((x) => x !== undefined) : (v as Record<string, unknown>)[part];
  }
  return v;
}

/**
 * A city's code as it is matched against its vocabulary: case, accents,
 * apostrophes and runs of spaces do not count, so a code typed by hand
 * ("UNITA' MOBILE", " Unità  mobile ") finds its entry ("Unità mobile").
 */
export function folded(code: string): string {
  return code.normalize('NFD').replace(/\p{M}/gu, '').replace(/['’`]/g, '').replace(/\s+/g, ' ').trim().toLowerCase();
}

/** The keyed pseudonym of a person: HMAC-SHA256 of the normalised fiscal code, base64url. */
export function personKeyOf(fiscalCode: string, secret: string): string {
  return createHmac('sha256', secret).update(normaliseFiscalCode(fiscalCode)).digest('base64url');
}

/** Compiled per source: lower-cased vocabularies, so each row is a few map look-ups. */
export interface RowMapper {
  map<E extends EntityName>(entity: E, row: RawRow): MapResult<EntityRecord<E>>;
}

/**
 * @param now milliseconds since the epoch: dates after today are refused where
 *   they cannot be in the future (births, intakes).
 */
export function createRowMapper(city: string, source: SourceConfig, personKeySecret: string, now: () => number = Date.now): RowMapper {
  const vocab = new Map<VocabularyName, Map<string, string>>();
  for (const [name, table] of Object.entries(source.vocabularies) as Array<[VocabularyName, Record<string, string> | undefined]>) {
    if (table) vocab.set(name, new Map(Object.entries(table).map(([k, v]) => [folded(k), v])));
  }
  const citizenship = source.citizenship
    ? new Map(Object.entries(source.citizenship).map(([k, v]) => [folded(k), v]))
    : null;

  function code(list: VocabularyName, field: string, value: string): string {
    const table = vocab.get(list);
    if (!table) {
      // No vocabulary: the city writes the national codes themselves.
      const national = value.toUpperCase();
      if (!vocabularyTargets[list].safeParse(national).success) throw new Reject('UNKNOWN_CODE', field, `not a national ${list} code`);
      return national;
    }
    const mapped = table.get(folded(value));
    if (mapped === undefined) throw new Reject('UNKNOWN_CODE', field, `code not in the city's ${list} vocabulary`);
    return mapped;
  }

  function reader(entity: EntityName, row: RawRow) {
    const fields = source.entities[entity]!.fields as Record<string, string>;
    const text = (field: string): string | null => {
      const v = fieldValue(row, fields[field]!);
      if (v === null || v === undefined) return null;
      const s = (typeof v === 'string' ? v : String(v)).trim();
      return s === '' ? null : s;
    };
    const required = (field: string): string => {
      const v = text(field);
      if (v === null) throw new Reject('MISSING_FIELD', field, `${field} is missing`);
      return v;
    };
    const date = (field: string, optional = false): string | null => {
      const v = optional ? text(field) : required(field);
      if (v === null) return null;
      const iso = parseDate(v, source.dateFormat);
      if (!iso) throw new Reject('INVALID_DATE', field, `${field} is not a valid ${source.dateFormat} date`);
      return iso;
    };
    const int = (field: string): number => {
      const v = required(field);
      if (!/^-?\d+$/.test(v)) throw new Reject('INVALID_VALUE', field, `${field} is not a whole number`);
      const n = Number(v);
      if (n < 0) throw new Reject('INVALID_VALUE', field, `${field} is negative`);
      return n;
    };
    const list = (field: string): string[] => {
      const v = fieldValue(row, fields[field]!);
      if (v === null || v === undefined) return [];
      const items = Array.isArray(v) ? v.map(String) : String(v).split(source.listSeparator);
      return items.map((s) => s.trim()).filter((s) => s !== '');
    };
    return { text, required, date, int, list };
  }

  function build(entity: EntityName, row: RawRow): Record<string, unknown> {
    const r = reader(entity, row);
    const base = { localId: r.required('localId'), city };
    switch (entity) {
      case 'beneficiaries': {
        const rawCf = r.required('fiscalCode');
        const fiscalCode = normaliseFiscalCode(rawCf);
        if (!isValidFiscalCode(fiscalCode)) throw new Reject('INVALID_FISCAL_CODE', 'fiscalCode', 'fiscal code malformed or wrong check character');
        const rawCitizenship = r.required('citizenship');
        const iso = citizenship ? citizenship.get(folded(rawCitizenship)) : rawCitizenship.toUpperCase();
        if (!iso) throw new Reject('UNKNOWN_CODE', 'citizenship', "citizenship not in the city's citizenship table");
        if (iso !== STATELESS && !isIsoCountry(iso)) throw new Reject('UNKNOWN_CODE', 'citizenship', 'citizenship is not an ISO 3166-1 alpha-2 country code, nor XX (stateless)');
        if (isEuEeaSwiss(iso)) throw new Reject('INVALID_VALUE', 'citizenship', 'EU, EEA or Swiss citizenship: outside the programme');
        const birthDate = r.date('birthDate')!;
        const intakeDate = r.date('intakeDate')!;
        const today = italianDate.format(new Date(now()));
        if (birthDate > today) throw new Reject('INVALID_VALUE', 'birthDate', 'born after today', true);
        if (intakeDate > today) throw new Reject('INVALID_VALUE', 'intakeDate', 'taken in charge after today', true);
        if (intakeDate < birthDate) throw new Reject('INVALID_VALUE', 'intakeDate', 'taken in charge before birth');
        return {
          ...base,
          personKey: personKeyOf(fiscalCode, personKeySecret),
          fiscalCode,
          givenName: r.required('givenName'),
          familyName: r.required('familyName'),
          sex: code('sex', 'sex', r.required('sex')),
          birthDate,
          citizenship: iso,
          permitType: code('permitType', 'permitType', r.required('permitType')),
          vulnerabilities: [...new Set(r.list('vulnerabilities').map((v) => code('vulnerability', 'vulnerabilities', v)))],
          intake: {
            date: intakeDate,
            channel: code('intakeChannel', 'intakeChannel', r.required('intakeChannel')),
            status: code('intakeStatus', 'intakeStatus', r.required('intakeStatus')),
          },
        };
      }
      case 'services':
        return { ...base, name: r.required('name'), category: code('serviceCategory', 'category', r.required('category')) };
      case 'enrollments':
      case 'placements': {
        const from = r.date('from')!;
        const to = r.date('to', true);
        if (to !== null && to < from) throw new Reject('INVALID_VALUE', 'to', 'ends before it starts');
        const other = entity === 'enrollments' ? { serviceId: r.required('serviceId') } : { resourceId: r.required('resourceId') };
        return { ...base, beneficiaryId: r.required('beneficiaryId'), ...other, from, to };
      }
      case 'civicProjects':
        return {
          ...base,
          beneficiaryId: r.required('beneficiaryId'),
          status: code('civicProjectStatus', 'status', r.required('status')),
          signedOn: r.date('signedOn', true),
        };
      case 'housingResources': {
        const capacity = r.int('capacity');
        const occupancy = r.int('occupancy');
        if (occupancy > capacity) throw new Reject('INVALID_VALUE', 'occupancy', 'occupancy exceeds capacity');
        return { ...base, name: r.required('name'), kind: code('housingKind', 'kind', r.required('kind')), capacity, occupancy };
      }
    }
  }

  return {
    map<E extends EntityName>(entity: E, row: RawRow): MapResult<EntityRecord<E>> {
      const defect = row[rowDefect];
      if (defect !== undefined) {
        return { ok: false, localId: localIdOf(source, entity, row), rejection: { reason: 'MALFORMED_ROW', field: 'record', detail: defect } };
      }
      const cells = row[cellDefects];
      if (cells !== undefined) {
        // A cell that holds no value (an error, a formula without its result) is a value the field cannot have.
        for (const [field, spec] of Object.entries(source.entities[entity]!.fields as Record<string, string>)) {
          const bad = specColumns(spec).find((column) => cells[column] !== undefined);
          if (bad !== undefined) {
            return { ok: false, localId: localIdOf(source, entity, row), rejection: { reason: 'INVALID_VALUE', field, detail: `${field}: ${cells[bad]}` } };
          }
        }
      }
      let candidate: Record<string, unknown>;
      try {
        candidate = build(entity, row);
      } catch (e) {
        if (e instanceof Reject) {
          const result = { ok: false as const, localId: localIdOf(source, entity, row), rejection: e.rejection };
          return e.volatile ? { ...result, volatile: true } : result;
        }
        throw e;
      }
      const parsed = entitySchemas[entity].safeParse(candidate);
      if (!parsed.success) {
        const issue = parsed.error.issues[0]!;
        const field = issue.path.join('.') || 'record';
        return {
          ok: false,
          localId: localIdOf(source, entity, row),
          rejection: { reason: 'INVALID_VALUE', field, detail: `${field}: ${issue.message}` },
        };
      }
      return { ok: true, record: parsed.data as EntityRecord<E> };
    },
  };
}

function localIdOf(source: SourceConfig, entity: EntityName, row: RawRow): string | null {
  const v = fieldValue(row, (source.entities[entity]!.fields as Record<string, string>).localId!);
  return v === null || v === undefined || String(v).trim() === '' ? null : String(v).trim();
}
