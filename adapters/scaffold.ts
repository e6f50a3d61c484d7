/**
 * A first draft of a city's config file, for a city IT team starting to
 * connect a system (`npm run adapter:new`, scripts/adapter-new.ts). Pure
 * functions: the draft from the city's identity and the kind of its system,
 * and, given a few records read from the system, proposals of which of the
 * city's fields holds each canonical field and which local codes need a
 * national code.
 *
 * Whatever the draft cannot know is a placeholder that names itself
 * (`"TODO_intakeDate"`), or a vocabulary entry mapped to `"TODO"`: the latter
 * fails validation until filled, the former does not, so `todoPaths` lists
 * every one of them.
 */
import { parse } from 'csv-parse/sync';
import iconv from 'iconv-lite';
import type { VocabularyName } from '../schema/code-lists.ts';
import { entityNames, type EntityName } from '../schema/records.ts';
import { DateFormat, canonicalFieldsOf } from './source-base.ts';

export const scaffoldKinds = ['rest', 'csv', 'soap', 'sql', 'spreadsheet', 'graphql'] as const;
export type ScaffoldKind = (typeof scaffoldKinds)[number];

/** What was read from the city's system for one entity. */
export interface Sample {
  entity: EntityName;
  /** The entity's path below the base URL, when known. */
  path?: string;
  /** The record fields seen, as the config names them (dotted paths into nested records). */
  columns: string[];
  /** Field -> the distinct values seen in it (as text). */
  values: Record<string, string[]>;
  /** REST: where the records and the total were in the response body. */
  itemsPath?: string;
  totalPath?: string;
  /** REST: the page size parameter the sample was read with. */
  sizeParam?: string;
  /** CSV: how the file was written. */
  encoding?: string;
  delimiter?: string;
}

export interface ScaffoldInput {
  kind: ScaffoldKind;
  code: string;
  name: string;
  altNames?: string[];
  region: string;
  province: string;
  /** The variable holding the key (or the database password); default LGNET_<code>_MAIN_KEY. */
  keyEnv?: string;
  sample?: Sample;
}

const TODO = 'TODO';
const todo = (what: string) => `${TODO}_${what}`;

/** Which code list a canonical field's values go through, per entity. */
const codeFields: { [E in EntityName]?: Record<string, VocabularyName | 'citizenship'> } = {
  beneficiaries: { sex: 'sex', citizenship: 'citizenship', permitType: 'permitType', vulnerabilities: 'vulnerability', intakeChannel: 'intakeChannel', intakeStatus: 'intakeStatus' },
  services: { category: 'serviceCategory' },
  civicProjects: { status: 'civicProjectStatus' },
  housingResources: { kind: 'housingKind' },
};
const dateFields: Record<EntityName, string[]> = {
  beneficiaries: ['birthDate', 'intakeDate'],
  services: [],
  enrollments: ['from', 'to'],
  civicProjects: ['signedOn'],
  housingResources: [],
  placements: ['from', 'to'],
};

/** Field names (lower case, words joined by "_", no accents) a city commonly gives each canonical field. */
const synonyms: Record<string, string[]> = {
  localId: ['id', 'codice', 'cod', 'local_id', 'identificativo', 'codice_id'],
  fiscalCode: ['codice_fiscale', 'cf', 'codicefiscale', 'fiscal_code', 'fiscalcode', 'cod_fiscale'],
  givenName: ['nome', 'given_name', 'first_name', 'firstname', 'givenname'],
  familyName: ['cognome', 'family_name', 'last_name', 'lastname', 'surname'],
  sex: ['sesso', 'genere', 'sex', 'gender'],
  birthDate: ['data_nascita', 'nascita', 'data_di_nascita', 'nato_il', 'birth_date', 'birthdate', 'date_of_birth', 'dob'],
  citizenship: ['cittadinanza', 'nazionalita', 'citizenship', 'nationality'],
  permitType: ['permesso', 'tipo_permesso', 'permesso_soggiorno', 'titolo_soggiorno', 'permit', 'permit_type'],
  vulnerabilities: ['fragilita', 'vulnerabilita', 'vulnerabilities', 'vulnerability'],
  intakeDate: ['data_presa_in_carico', 'data_ingresso', 'presa_in_carico', 'data_accoglienza', 'data_intake', 'intake_date'],
  intakeChannel: ['canale', 'canale_accesso', 'canale_ingresso', 'channel', 'intake_channel'],
  intakeStatus: ['stato', 'stato_presa_in_carico', 'esito', 'status', 'intake_status'],
  name: ['nome', 'denominazione', 'descrizione', 'name'],
  category: ['categoria', 'tipologia', 'tipo', 'category'],
  beneficiaryId: ['id_assistito', 'codice_assistito', 'assistito', 'id_beneficiario', 'beneficiario', 'beneficiary_id'],
  serviceId: ['id_servizio', 'codice_servizio', 'servizio', 'service_id'],
  resourceId: ['id_alloggio', 'codice_alloggio', 'alloggio', 'id_struttura', 'struttura', 'resource_id'],
  from: ['dal', 'data_inizio', 'inizio', 'data_avvio', 'from', 'start', 'start_date'],
  to: ['al', 'data_fine', 'fine', 'data_chiusura', 'to', 'end', 'end_date'],
  status: ['stato', 'esito', 'status'],
  signedOn: ['data_firma', 'firmato_il', 'data_sottoscrizione', 'signed_on'],
  kind: ['tipo', 'tipologia', 'kind', 'type'],
  capacity: ['capienza', 'posti', 'posti_letto', 'capacity'],
  occupancy: ['occupati', 'posti_occupati', 'occupazione', 'occupancy'],
};
/** The last part of a nested code's path (`permesso.tipo.codice`). */
const codeLeaves = new Set(['codice', 'cod', 'code', 'id']);

/** `Data Nascita`, `dataNascita`, `data-nascita` -> `data_nascita`; accents dropped. */
export function normaliseName(name: string): string {
  return name
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');
}

/**
 * For each canonical field of the entity, the city's field whose name best
 * matches it (null where none does): the whole name first, then one part of a
 * dotted path (`anagrafica.nome`), then a name that contains a known one
 * (`data_nascita_assistito`). Each city field is proposed once.
 */
export function proposeFields<E extends EntityName>(entity: E, columnNames: readonly string[]): Record<string, string | null> {
  const fields = canonicalFieldsOf[entity] as readonly string[];
  const candidates: Array<{ field: string; column: string; score: number; order: number }> = [];
  columnNames.forEach((column, order) => {
    const whole = normaliseName(column);
    const parts = column.split(/[.@]/).map(normaliseName).filter((p) => p !== '');
    for (const field of fields) {
      const known = [normaliseName(field), ...(synonyms[field] ?? [])];
      let score = 0;
      if (known.includes(whole)) score = 4;
      else if (parts.length > 1 && parts.some((p) => known.includes(p))) {
        score = codeFields[entity]?.[field] && codeLeaves.has(parts.at(-1)!) ? 3 : 2;
      } else if (known.some((k) => k.length > 3 && `_${whole}_`.includes(`_${k}_`))) score = 1;
      if (score > 0) candidates.push({ field, column, score, order });
    }
  });
  candidates.sort((a, b) => b.score - a.score || a.order - b.order);
  const proposal: Record<string, string | null> = Object.fromEntries(fields.map((f) => [f, null]));
  const used = new Set<string>();
  for (const c of candidates) {
    if (proposal[c.field] !== null || used.has(c.column)) continue;
    proposal[c.field] = c.column;
    used.add(c.column);
  }
  return proposal;
}

/** Guesses the date format from values seen; null when none fits them all (or none was seen). */
export function guessDateFormat(values: readonly string[]): DateFormat | null {
  const patterns: Record<DateFormat, RegExp> = {
    'yyyy-mm-dd': /^\d{4}-\d{2}-\d{2}/,
    'dd/mm/yyyy': /^\d{2}\/\d{2}\/\d{4}$/,
    'dd-mm-yyyy': /^\d{2}-\d{2}-\d{4}$/,
    'dd.mm.yyyy': /^\d{2}\.\d{2}\.\d{4}$/,
    yyyymmdd: /^\d{8}$/,
  };
  const seen = values.map((v) => v.trim()).filter((v) => v !== '');
  if (seen.length === 0) return null;
  return (DateFormat.options.find((f) => seen.every((v) => patterns[f].test(v))) ?? null) as DateFormat | null;
}

const MAX_VALUES = 50;

/** Adds each leaf of a record to `values` under its dotted path: nested objects by name, a list of objects as the list of their fields. */
function flatten(value: unknown, prefix: string, values: Map<string, Set<string>>): void {
  if (Array.isArray(value)) {
    for (const item of value) flatten(item, prefix, values);
    if (value.length === 0 && prefix !== '' && !values.has(prefix)) values.set(prefix, new Set());
    return;
  }
  if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) flatten(v, prefix === '' ? k : `${prefix}.${k}`, values);
    return;
  }
  if (prefix === '') return;
  const set = values.get(prefix) ?? new Set<string>();
  if (value !== null && value !== undefined && String(value).trim() !== '' && set.size < MAX_VALUES) set.add(String(value).trim());
  values.set(prefix, set);
}

/** The first array of objects in a response body and its dotted path ("" for the body itself), looking two levels down. */
function findRecords(body: unknown, path = '', depth = 0): { path: string; records: unknown[] } | null {
  if (Array.isArray(body)) return body.some((r) => r !== null && typeof r === 'object' && !Array.isArray(r)) ? { path, records: body } : null;
  if (body === null || typeof body !== 'object' || depth > 2) return null;
  for (const [k, v] of Object.entries(body)) {
    const found = findRecords(v, path === '' ? k : `${path}.${k}`, depth + 1);
    if (found) return found;
  }
  return null;
}

/** The path of a number beside the records that reads as their total (`total`, `totale`, `count`, ...). */
function findTotal(body: unknown, recordsPath: string): string | undefined {
  const parent = recordsPath.includes('.') ? recordsPath.slice(0, recordsPath.lastIndexOf('.')) : '';
  let at: unknown = body;
  for (const k of parent === '' ? [] : parent.split('.')) at = (at as Record<string, unknown>)?.[k];
  if (at === null || typeof at !== 'object') return undefined;
  const key = Object.keys(at).find((k) => typeof (at as Record<string, unknown>)[k] === 'number' && /^(total[a-z_]*|totale[a-z_]*|count|conteggio|numero_?record)$/i.test(k));
  return key === undefined ? undefined : parent === '' ? key : `${parent}.${key}`;
}

/** A sample from a REST response body: its first `limit` records, and where they (and their total) were. */
export function sampleFromJson(entity: EntityName, body: unknown, limit = 5): Omit<Sample, 'path'> {
  const found = findRecords(body);
  if (!found) throw new Error('the response holds no list of records');
  const values = new Map<string, Set<string>>();
  for (const record of found.records.slice(0, limit)) flatten(record, '', values);
  // An empty list in one record (`fragilita: []`) is no field of its own where another record shows its items.
  for (const k of [...values.keys()]) if ([...values.keys()].some((other) => other.startsWith(`${k}.`))) values.delete(k);
  const totalPath = findTotal(body, found.path);
  return {
    entity,
    columns: [...values.keys()],
    values: Object.fromEntries([...values].map(([k, v]) => [k, [...v]])),
    ...(found.path !== '' ? { itemsPath: found.path } : {}),
    ...(totalPath !== undefined ? { totalPath } : {}),
  };
}

/** A sample from a CSV export: its header and the values of its first `limit` rows; the encoding and delimiter guessed. */
export function sampleFromCsv(entity: EntityName, bytes: Uint8Array, limit = 5): Omit<Sample, 'path'> {
  let encoding = 'utf-8';
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    encoding = 'windows-1252';
    text = iconv.decode(Buffer.from(bytes), encoding);
  }
  text = text.replace(/^\uFEFF/, '');
  const header = text.split(/\r?\n/, 1)[0] ?? '';
  const delimiter = [';', ',', '\t', '|'].map((d) => ({ d, n: header.split(d).length })).sort((a, b) => b.n - a.n)[0]!.d;
  const rows = parse(text, { delimiter, columns: true, skip_empty_lines: true, relax_column_count: true, to: limit, trim: true }) as Array<Record<string, string>>;
  const columns = ((parse(header, { delimiter, trim: true }) as string[][])[0] ?? []).filter((c) => c !== '');
  const values: Record<string, string[]> = Object.fromEntries(columns.map((c) => [c, [...new Set(rows.map((r) => r[c] ?? '').filter((v) => v !== ''))]]));
  return { entity, columns, values, encoding, delimiter };
}

/** The local codes a sample shows for each code list, per the proposed fields: code list -> codes. */
function codesSeen(sample: Sample, proposal: Record<string, string | null>, separator: string): Map<VocabularyName | 'citizenship', string[]> {
  const seen = new Map<VocabularyName | 'citizenship', string[]>();
  for (const [field, list] of Object.entries(codeFields[sample.entity] ?? {})) {
    const column = proposal[field];
    if (!column) continue;
    let codes = sample.values[column] ?? [];
    if (field === 'vulnerabilities') codes = codes.flatMap((c) => c.split(separator).map((x) => x.trim())).filter((c) => c !== '');
    // Citizenship already in ISO alpha-2 needs no table.
    if (list === 'citizenship' && codes.every((c) => /^[A-Z]{2}$/.test(c))) continue;
    if (codes.length > 0) seen.set(list, [...new Set(codes)].sort());
  }
  return seen;
}

/** The `fields` of an entity: the sample's proposals where it is the sampled entity, a TODO placeholder elsewhere. */
function fieldsOf(entity: EntityName, proposal: Record<string, string | null> | null): Record<string, string> {
  return Object.fromEntries((canonicalFieldsOf[entity] as readonly string[]).map((f) => [f, proposal?.[f] ?? todo(f)]));
}

/** The draft config of a city with one source of the kind (see the module's comment). */
export function scaffoldConfig(input: ScaffoldInput): Record<string, unknown> {
  const { kind, code, sample } = input;
  const keyEnv = input.keyEnv ?? `LGNET_${code}_MAIN_KEY`;
  const separator = ',';
  const proposal = sample ? proposeFields(sample.entity, sample.columns) : null;
  const fieldsFor = (e: EntityName) => fieldsOf(e, sample?.entity === e ? proposal : null);
  const pathFor = (e: EntityName) => (sample?.entity === e && sample.path ? sample.path : `/${todo(e)}`);

  const vocabularies: Record<string, Record<string, string>> = {};
  let citizenship: Record<string, string> | undefined;
  let dateFormat: DateFormat = 'dd/mm/yyyy';
  if (sample && proposal) {
    for (const [list, codes] of codesSeen(sample, proposal, separator)) {
      const table = Object.fromEntries(codes.map((c) => [c, TODO]));
      if (list === 'citizenship') citizenship = table;
      else vocabularies[list] = table;
    }
    const dates = dateFields[sample.entity].flatMap((f) => (proposal[f] ? (sample.values[proposal[f]!] ?? []) : []));
    dateFormat = guessDateFormat(dates) ?? dateFormat;
  }

  const auth = { header: 'X-API-Key', key: { env: keyEnv } };
  const base = {
    id: 'main',
    kind,
    domains: ['people', 'services', 'housing'],
    baseUrl: { env: `LGNET_${code}_MAIN_URL` },
    dateFormat,
    listSeparator: separator,
    ...(citizenship ? { citizenship } : {}),
    vocabularies,
  };
  const entities = (of: (e: EntityName) => Record<string, unknown>) => Object.fromEntries(entityNames.map((e) => [e, of(e)]));

  let source: Record<string, unknown>;
  switch (kind) {
    case 'rest':
      source = {
        ...base,
        auth,
        paging: {
          style: 'offset',
          startParam: todo('startParam'),
          sizeParam: sample?.sizeParam ?? todo('sizeParam'),
          maxPageSize: 100,
          itemsPath: sample?.itemsPath ?? todo('itemsPath'),
          totalPath: sample?.totalPath ?? todo('totalPath'),
        },
        entities: entities((e) => ({ path: pathFor(e), fields: fieldsFor(e) })),
      };
      break;
    case 'csv':
      source = {
        ...base,
        auth,
        encoding: sample?.encoding ?? 'windows-1252',
        delimiter: sample?.delimiter ?? ';',
        entities: entities((e) => ({ path: pathFor(e), fields: fieldsFor(e) })),
      };
      break;
    case 'soap':
      source = {
        ...base,
        auth,
        namespace: todo('namespace'),
        paging: { style: 'page', startParam: todo('startParam'), sizeParam: todo('sizeParam'), maxPageSize: 100 },
        entities: entities((e) => ({
          path: '',
          operation: todo(`${e}Operation`),
          soapAction: todo(`${e}SoapAction`),
          request: todo(`${e}Request`),
          recordsPath: todo(`${e}RecordsPath`),
          totalPath: todo(`${e}TotalPath`),
          fields: fieldsFor(e),
        })),
      };
      break;
    case 'sql':
      source = {
        ...base,
        dialect: 'postgres',
        auth: { key: { env: keyEnv } },
        entities: entities((e) => ({ view: todo(`${e}View`), fields: fieldsFor(e) })),
      };
      break;
    case 'spreadsheet':
      source = { ...base, auth, entities: entities((e) => ({ path: pathFor(e), fields: fieldsFor(e) })) };
      break;
    case 'graphql':
      source = {
        ...base,
        auth: { header: 'Authorization', prefix: 'Bearer ', key: { env: keyEnv } },
        paging: { style: 'offset', startVariable: 'offset', sizeVariable: 'limit', maxPageSize: 100 },
        entities: entities((e) => {
          const fields = fieldsFor(e);
          // The query selects every mapped field, so that it stays consistent as the placeholders are replaced.
          const selection = Object.values(fields).join(' ');
          return {
            path: '/graphql',
            query: `query ($offset: Int!, $limit: Int!) { ${todo(e)}(offset: $offset, limit: $limit) { ${todo('total')} ${todo('items')} { ${selection} } } }`,
            itemsPath: `${todo(e)}.${todo('items')}`,
            totalPath: `${todo(e)}.${todo('total')}`,
            fields,
          };
        }),
      };
      break;
  }
  return {
    code,
    name: input.name,
    altNames: input.altNames ?? [],
    region: input.region,
    province: input.province,
    editions: ['LGNET3'],
    operatingBody: null,
    sources: [source],
  };
}

/** The paths (`sources[0].entities.beneficiaries.fields.intakeDate`) of every value still holding a TODO. */
export function todoPaths(value: unknown, path = ''): string[] {
  if (typeof value === 'string') return value.includes(TODO) ? [path] : [];
  if (Array.isArray(value)) return value.flatMap((v, i) => todoPaths(v, `${path}[${i}]`));
  if (value !== null && typeof value === 'object') {
    return Object.entries(value).flatMap(([k, v]) => todoPaths(v, path === '' ? k : /^[A-Za-z_$][\w$]*$/.test(k) ? `${path}.${k}` : `${path}[${JSON.stringify(k)}]`));
  }
  return [];
}

/** `Reggio nell'Emilia` -> `reggio-nell-emilia`: the name part of a city file's name. */
export function fileSlug(name: string): string {
  return normaliseName(name).replace(/_/g, '-');
}
