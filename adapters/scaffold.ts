/**
 * A first draft of a city's config file, for a city IT team starting to
 * connect a system (`npm run adapter:new`, scripts/adapter-new.ts). Pure
 * functions: the draft from the city's identity and the kind of its system,
 * and, given what was read from the system (a few records, a view's columns,
 * a workbook, a GraphQL schema, a WSDL), proposals of which of the city's
 * fields holds each canonical field, where records and totals are, and which
 * local codes need a national code. Every kind goes through the same
 * proposals (`proposeFields`, `codesSeen`, `guessDateFormat`): what differs
 * is only how a kind's answer becomes a `Sample`.
 *
 * Whatever the draft cannot know is a placeholder that names itself
 * (`"TODO_intakeDate"`), or a vocabulary entry mapped to `"TODO"`: the latter
 * fails validation until filled, the former does not, so `todoPaths` lists
 * every one of them.
 */
import { parse } from 'csv-parse/sync';
import type ExcelJS from 'exceljs';
import { XMLParser } from 'fast-xml-parser';
import {
  buildClientSchema,
  getNamedType,
  isInterfaceType,
  isLeafType,
  isListType,
  isNonNullType,
  isObjectType,
  type GraphQLField,
  type GraphQLInterfaceType,
  type GraphQLObjectType,
  type GraphQLType,
  type IntrospectionQuery,
} from 'graphql';
import iconv from 'iconv-lite';
import type { VocabularyName } from '../schema/code-lists.ts';
import { entityNames, type EntityName } from '../schema/records.ts';
import type { SpreadsheetEntityConfig } from './connectors/spreadsheet-config.ts';
import type { SqlDialect } from './connectors/sql-config.ts';
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
  /** REST, GraphQL, SOAP: where the records and the total were in the answer. */
  itemsPath?: string;
  totalPath?: string;
  /** REST: the page size parameter the sample was read with. */
  sizeParam?: string;
  /** CSV: how the file was written. */
  encoding?: string;
  delimiter?: string;
  /**
   * SQL, spreadsheet: the columns that hold dates, and how: `date` when the
   * system types them as dates (an SQL DATE column, Excel date cells), `text`
   * when they are written out (`03/04/2024`, "4 marzo 2024").
   */
  dates?: Record<string, DateStorage>;
  /** SQL: the view read. */
  view?: string;
  /** Spreadsheet: the sheet read (when one was named), the row of the column names and the row of group labels above it. */
  sheet?: string;
  headerRow?: number;
  groupRow?: number;
}
export type DateStorage = 'date' | 'text';

export interface ScaffoldInput {
  kind: ScaffoldKind;
  code: string;
  name: string;
  altNames?: string[];
  region: string;
  province: string;
  /** The variable holding the key (or the database password); default LGNET_<code>_MAIN_KEY. */
  keyEnv?: string;
  /** What the command line says of the system: kept in the draft whether or not a sample could be read. */
  given?: { path?: string; view?: string; sheet?: string; dialect?: SqlDialect };
  sample?: Sample;
  /** SOAP: what the WSDL declares. */
  soap?: SoapProposal;
  /** GraphQL: the query planned from the API's schema. */
  graphql?: GraphqlPlan;
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
  intakeDate: ['data_presa_in_carico', 'data_ingresso', 'presa_in_carico', 'data_accoglienza', 'data_accesso', 'data_intake', 'intake_data', 'intake_date'],
  intakeChannel: ['canale', 'canale_accesso', 'canale_ingresso', 'canale_di_accesso', 'modalita_accesso', 'channel', 'intake_canale', 'intake_channel'],
  intakeStatus: ['stato', 'stato_presa_in_carico', 'esito', 'status', 'intake_stato', 'intake_status'],
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
/** Names only one entity gives a field: a beneficiary's own id is often named after the beneficiary, which elsewhere names the link to one. */
const entitySynonyms: { [E in EntityName]?: Record<string, string[]> } = {
  beneficiaries: {
    localId: ['id_assistito', 'codice_assistito', 'id_beneficiario', 'codice_beneficiario', 'id_utente', 'cod_utente', 'codice_utente', 'n_cartella', 'numero_cartella', 'cartella'],
  },
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
    // A dotted path, an attribute (`@codice`), or a spreadsheet's group label above its sub-column ("Intake / Data").
    const parts = column.split(/[.@]| \/ /).map(normaliseName).filter((p) => p !== '');
    for (const field of fields) {
      const known = [normaliseName(field), ...(synonyms[field] ?? []), ...(entitySynonyms[entity]?.[field] ?? [])];
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
  const totalPath = findTotal(body, found.path);
  return {
    ...sampleFromRecords(entity, found.records, limit),
    ...(found.path !== '' ? { itemsPath: found.path } : {}),
    ...(totalPath !== undefined ? { totalPath } : {}),
  };
}

/** The values of flat rows (a view's, a sheet's), column by column: distinct, as text, blanks left out. */
function valuesOfRows(columns: readonly string[], rows: readonly Record<string, unknown>[]): Record<string, string[]> {
  const text = (v: unknown) => (v === null || v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v).trim());
  return Object.fromEntries(columns.map((c) => [c, [...new Set(rows.map((r) => text(r[c])).filter((v) => v !== ''))].slice(0, MAX_VALUES)]));
}

/** The fields and values of the first `limit` records, nested (JSON) or flattened by dotted paths (lists for repeated values). */
export function sampleFromRecords(entity: EntityName, records: readonly unknown[], limit = 5): Pick<Sample, 'entity' | 'columns' | 'values'> {
  const values = new Map<string, Set<string>>();
  for (const record of records.slice(0, limit)) flatten(record, '', values);
  // An empty list in one record (`fragilita: []`) is no field of its own where another record shows its items.
  for (const k of [...values.keys()]) if ([...values.keys()].some((other) => other.startsWith(`${k}.`))) values.delete(k);
  return { entity, columns: [...values.keys()], values: Object.fromEntries([...values].map(([k, v]) => [k, [...v]])) };
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

// ---------------------------------------------------------------------------
// Spreadsheet: where the header is, then the rows as the connector reads them.

/** A cell's text when it holds text (a string, rich text, a hyperlink's text); null for a number, a date, a formula or nothing. */
function textOfCell(value: ExcelJS.CellValue): string | null {
  if (typeof value === 'string') return value.trim() === '' ? null : value;
  if (value === null || typeof value !== 'object' || 'formula' in value || 'sharedFormula' in value) return null;
  if ('richText' in value) return value.richText.map((r) => r.text).join('');
  if ('text' in value && typeof value.text === 'string') return value.text;
  return null;
}

/** The labels of a row: one per cell, a merged cell once; how many are text, how many of those hold a digit; whether a merged cell spans several of its columns. */
function rowLabels(sheet: ExcelJS.Worksheet, r: number): { labels: number; texts: number; digits: number; across: boolean } {
  const row = sheet.getRow(r);
  const seen = new Map<string, boolean>();
  let digits = 0;
  let across = false;
  for (let c = 1; c <= sheet.columnCount; c++) {
    const master = row.getCell(c).master;
    const value = master.value;
    if (value === null || value === undefined || (typeof value === 'string' && value.trim() === '')) continue;
    if (seen.has(master.address)) {
      if (Number(master.row) === r) across = true;
      continue;
    }
    const text = textOfCell(value);
    seen.set(master.address, text !== null);
    if (text !== null && /\d/.test(text)) digits++;
  }
  const texts = [...seen.values()].filter(Boolean).length;
  return { labels: seen.size, texts, digits, across };
}

/**
 * Where a hand-kept sheet's column names are: the first row (of the first 30)
 * holding two labels or more, at least two thirds of them text; rows above
 * it (a title merged across the columns, a date) are not read. When that
 * row has a label merged across columns and the row below holds more labels,
 * all of them text and few with a digit, the first is a row of group labels
 * ("Intake" above "Data" and "Canale") and the second the header; a record
 * below a header would show a date, a number, an id or a fiscal code.
 * Null when no row fits.
 */
export function findHeader(sheet: ExcelJS.Worksheet): { headerRow: number; groupRow?: number } | null {
  const last = Math.min(sheet.rowCount, 30);
  for (let r = 1; r <= last; r++) {
    const row = rowLabels(sheet, r);
    if (row.labels < 2 || row.texts * 3 < row.labels * 2) continue;
    if (row.across && r < last) {
      const below = rowLabels(sheet, r + 1);
      if (below.labels > row.labels && below.texts === below.labels && below.digits * 5 <= below.labels) return { groupRow: r, headerRow: r + 1 };
    }
    return { headerRow: r };
  }
  return null;
}

/**
 * A sample from an .xlsx workbook: the header found (`findHeader`) on the
 * sheet named, or the first; the columns named as the connector names them
 * (a group label and its sub-column joined by " / "); the first `limit`
 * records, with dates told apart: a column holding Excel date cells is
 * `date`, one holding dates written as text (`03/04/2024`, "4 marzo 2024") is
 * `text`. Throws an Error saying what is wrong (never quoting a cell).
 */
export async function sampleFromWorkbook(entity: EntityName, bytes: Buffer, contentType: string | undefined, sheetName: string | undefined, limit = 5): Promise<Omit<Sample, 'path'>> {
  // Loaded when a workbook is read: exceljs takes a while to load, and the other kinds do without it.
  const { dateText, readSheet, readWorkbook } = await import('./connectors/spreadsheet.ts');
  let workbook: ExcelJS.Workbook;
  try {
    workbook = await readWorkbook(bytes, contentType, '');
  } catch (e) {
    throw new Error((e as { detail?: string }).detail ?? 'not a readable xlsx workbook');
  }
  const wanted = sheetName?.trim().toLowerCase();
  const sheet = wanted === undefined ? workbook.worksheets[0] : workbook.worksheets.find((ws) => ws.name.trim().toLowerCase() === wanted);
  if (!sheet) throw new Error(`no sheet "${sheetName}" in the workbook (it has ${workbook.worksheets.length})`);
  const header = findHeader(sheet);
  if (!header) throw new Error(`no row of column names in the first rows of sheet "${sheet.name}"`);
  const config = { path: '/', sheet: sheet.name, ...header, headerJoin: ' / ', totalsPattern: '^totale', fields: {} } as unknown as SpreadsheetEntityConfig;
  // Read twice with two date formats: a value that differs between the two reads is an Excel date cell, written out by the reader.
  let iso: readonly Record<string, unknown>[], compact: readonly Record<string, unknown>[];
  try {
    iso = readSheet(workbook, config, new Set(), 'yyyy-mm-dd', '').slice(0, limit);
    compact = readSheet(workbook, config, new Set(), 'yyyymmdd', '').slice(0, limit);
  } catch (e) {
    throw new Error((e as { detail?: string }).detail ?? 'the sheet could not be read');
  }
  if (iso.length === 0) throw new Error(`no records below the header (row ${header.headerRow}) of sheet "${sheet.name}"`);
  const columns = Object.keys(iso[0]!);
  const values = valuesOfRows(columns, iso);
  const dates: Record<string, DateStorage> = {};
  for (const column of columns) {
    if (iso.some((row, i) => row[column] !== compact[i]![column])) dates[column] = 'date';
    else {
      const written = values[column]!;
      if (written.length > 0 && written.every((v) => /^\d{4}-\d{2}-\d{2}$/.test(dateText(v, 'yyyy-mm-dd')))) dates[column] = 'text';
    }
  }
  return {
    entity,
    columns,
    values,
    dates,
    ...(sheetName !== undefined ? { sheet: sheet.name } : {}),
    headerRow: header.headerRow,
    ...(header.groupRow !== undefined ? { groupRow: header.groupRow } : {}),
  };
}

// ---------------------------------------------------------------------------
// SQL: a view's columns, as information_schema types them, and a few rows.

/** A column of a view as information_schema.columns describes it. */
export interface SqlColumn {
  name: string;
  /** information_schema's data_type, e.g. "date", "character varying", "varchar". */
  type: string;
}

/** A sample from a view: its columns in order (those holding no value too), its first `limit` rows, DATE columns as `date` and columns of dates written as text as `text`. */
export function sampleFromSql(entity: EntityName, view: string, columns: readonly SqlColumn[], rows: readonly Record<string, unknown>[], limit = 5): Sample {
  const names = columns.map((c) => c.name);
  const values = valuesOfRows(names, rows.slice(0, limit));
  const dates: Record<string, DateStorage> = {};
  for (const { name, type } of columns) {
    if (type.toLowerCase() === 'date') dates[name] = 'date';
    else if (guessDateFormat(values[name]!) !== null) dates[name] = 'text';
  }
  return { entity, view, columns: names, values, dates };
}

// ---------------------------------------------------------------------------
// Which of a system's operations or root fields reads which entity.

/** Words (normalised) in the name of an operation or root field that reads each entity. */
const entityWords: Record<EntityName, string[]> = {
  beneficiaries: ['assistiti', 'assistito', 'utenti', 'utente', 'persone', 'persona', 'beneficiari', 'beneficiario', 'beneficiaries', 'beneficiary', 'people'],
  services: ['servizi', 'servizio', 'interventi', 'intervento', 'catalogo', 'services', 'service'],
  enrollments: ['iscrizioni', 'iscrizione', 'frequenze', 'frequenza', 'partecipazioni', 'adesioni', 'enrollments', 'enrolments', 'enrollment'],
  civicProjects: ['progetti', 'progetto', 'patti', 'patto', 'projects', 'project'],
  housingResources: ['strutture', 'struttura', 'alloggi', 'alloggio', 'residenze', 'housing'],
  placements: ['inserimenti', 'inserimento', 'accoglienze', 'accoglienza', 'ospitalita', 'placements', 'placement'],
};
/** First words of a name that reads a list, preferred over one that reads a single record (`DettaglioAssistito`). */
const listingWords = new Set(['ricerca', 'cerca', 'elenco', 'elenca', 'leggi', 'lista', 'list', 'get', 'find', 'search', 'trova', 'all']);

/** The entity a name reads, by its first word that names one (`ElencoStruttureAccoglienza`: housingResources); null when none does. */
function entityOfName(name: string): EntityName | null {
  for (const word of normaliseName(name).split('_')) {
    const entity = entityNames.find((e) => entityWords[e].includes(word));
    if (entity) return entity;
  }
  return null;
}

/** For each entity, the name that reads it (a listing name before another; the first of equals); each name used once. */
export function matchEntities(names: readonly string[]): Partial<Record<EntityName, string>> {
  const best: Partial<Record<EntityName, { name: string; listing: boolean }>> = {};
  for (const name of names) {
    const entity = entityOfName(name);
    if (!entity) continue;
    const listing = listingWords.has(normaliseName(name).split('_')[0]!);
    const current = best[entity];
    if (!current || (listing && !current.listing)) best[entity] = { name, listing };
  }
  return Object.fromEntries(Object.entries(best).map(([e, b]) => [e, b!.name]));
}

/** What a paging argument or request element does, by its name: the page size, a position from 0, or a page number; null when its name says none. */
export function pagingRole(name: string): 'size' | 'offset' | 'page' | null {
  const n = normaliseName(name);
  if (/^(primi|first|limit|size|page_size|pagesize|per_page|per_pagina|dimensione(_pagina)?|elementi_per_pagina|righe(_per_pagina)?|record_per_pagina|risultati_per_pagina|numero_(elementi|risultati|righe|record)|max_(risultati|elementi|record)|quanti|take|count)$/.test(n)) return 'size';
  if (/^(pagina|page|numero_pagina|page_number|indice_pagina)$/.test(n)) return 'page';
  if (/^(dopo|offset|skip|start|inizio|da|salta|primo|primo_risultato|primo_elemento|primo_record|indice_inizio|from)$/.test(n)) return 'offset';
  return null;
}

// ---------------------------------------------------------------------------
// GraphQL: the root field's records, their total and their leaves, from introspection.

/** The query a graphql draft sends for the entity, and what it was planned from. */
export interface GraphqlPlan {
  rootField: string;
  /** Dotted paths of the list of records and of their total in `data`; null where the schema shows none. */
  itemsPath: string | null;
  totalPath: string | null;
  /** The variables of the root field's Int arguments that page it; a null variable was not found. */
  paging: { style: 'offset' | 'page'; startVariable: string | null; sizeVariable: string | null };
  /** Variable name -> its type as declared (`Int!`). */
  variables: Record<string, string>;
  /** The query document: every leaf of a record (nested objects down to three levels), paged by the variables. */
  query: string;
  /** Dotted paths of a record's leaves, as the query selects them. */
  leaves: string[];
  /** Required arguments of the root field that are not paging: the query cannot be sent without them. */
  required: string[];
}

const MAX_DEPTH = 3;
const GRAPHQL_NAME = /^[_A-Za-z][_0-9A-Za-z]*$/;

/** Whether an argument must be given (non-null, no default). */
const requiredArg = (a: { type: unknown; defaultValue: unknown }) => isNonNullType(a.type) && a.defaultValue === undefined;

/** The selection of every leaf below an object type, and their dotted paths; fields that need arguments are left out. */
function selectLeaves(type: GraphQLObjectType | GraphQLInterfaceType, prefix: string[]): { selection: string; paths: string[] } {
  const parts: string[] = [];
  const paths: string[] = [];
  for (const field of Object.values(type.getFields()) as Array<GraphQLField<unknown, unknown>>) {
    if (field.name.startsWith('__') || !GRAPHQL_NAME.test(field.name) || field.args.some(requiredArg)) continue;
    const named = getNamedType(field.type);
    const path = [...prefix, field.name];
    if (isLeafType(named)) {
      parts.push(field.name);
      paths.push(path.join('.'));
    } else if ((isObjectType(named) || isInterfaceType(named)) && path.length < MAX_DEPTH) {
      const inner = selectLeaves(named, path);
      if (inner.paths.length === 0) continue;
      parts.push(`${field.name} { ${inner.selection} }`);
      paths.push(...inner.paths);
    }
  }
  return { selection: parts.join(' '), paths };
}

const isListOf = (type: GraphQLType) => isListType(isNonNullType(type) ? type.ofType : type);
const TOTAL_NAME = /^(total|totale|total_count|totale_\w+|count|conteggio|numero_totale|numero_elementi|numero_risultati|numero_record)$/;
const ITEMS_NAME = /^(elementi|items|nodes|records|risultati|data|dati|lista|elenco\w*|results)$/;

/**
 * Plans the sample query from the API's introspection: the root field named
 * (or, without a name, the one whose name reads beneficiaries: `assistiti`);
 * in its type, the list of records (a name like `elementi`, `items`, `nodes`
 * first) and an Int total beside it (`totale`, `total`, `count`); or the root
 * field itself when it is the list. Throws an Error naming the root fields
 * when the one asked for is not there or holds no records.
 */
export function planGraphqlQuery(introspection: IntrospectionQuery, rootField?: string, entity: EntityName = 'beneficiaries'): GraphqlPlan {
  if (!isObject((introspection as { __schema?: unknown } | null)?.__schema)) throw new Error('the answer holds no schema (is introspection turned off?)');
  const schema = buildClientSchema(introspection);
  const fields = schema.getQueryType()?.getFields() ?? {};
  const names = Object.keys(fields);
  const name = rootField ?? matchEntities(names)[entity];
  const shown = names.length > 12 ? `${names.slice(0, 12).join(', ')}, ...` : names.join(', ');
  if (name === undefined) throw new Error(`no root field reads ${entity} by its name (root fields: ${shown}): give --query-field`);
  const root = fields[name];
  if (!root) throw new Error(`the API has no root field "${name}" (root fields: ${shown})`);

  const variables: Record<string, string> = {};
  const paging: GraphqlPlan['paging'] = { style: 'offset', startVariable: null, sizeVariable: null };
  const required: string[] = [];
  for (const arg of root.args) {
    const role = getNamedType(arg.type).name === 'Int' && !isListOf(arg.type) ? pagingRole(arg.name) : null;
    if (role === 'size' && paging.sizeVariable === null) paging.sizeVariable = arg.name;
    else if ((role === 'offset' || role === 'page') && paging.startVariable === null) {
      paging.startVariable = arg.name;
      paging.style = role;
    } else {
      if (requiredArg(arg)) required.push(arg.name);
      continue;
    }
    variables[arg.name] = String(arg.type);
  }

  const type = getNamedType(root.type);
  if (!isObjectType(type) && !isInterfaceType(type)) throw new Error(`root field "${name}" is a ${type.name}, not a list of records`);
  let itemsKey: string | null = null;
  let totalKey: string | null = null;
  let record: GraphQLObjectType | GraphQLInterfaceType = type;
  if (!isListOf(root.type)) {
    const inner = Object.values(type.getFields()) as Array<GraphQLField<unknown, unknown>>;
    const lists = inner.filter((f) => isListOf(f.type) && (isObjectType(getNamedType(f.type)) || isInterfaceType(getNamedType(f.type))));
    const items = lists.find((f) => ITEMS_NAME.test(normaliseName(f.name))) ?? lists[0];
    if (!items) throw new Error(`root field "${name}" holds no list of records`);
    itemsKey = items.name;
    record = getNamedType(items.type) as GraphQLObjectType | GraphQLInterfaceType;
    const ints = inner.filter((f) => getNamedType(f.type).name === 'Int' && !isListOf(f.type) && !f.args.some(requiredArg));
    totalKey = (ints.find((f) => TOTAL_NAME.test(normaliseName(f.name))) ?? ints[0])?.name ?? null;
  }
  const leaves = selectLeaves(record, []);
  if (leaves.paths.length === 0) throw new Error(`a record of "${name}" has no field the query can select`);

  const declared = Object.entries(variables).map(([v, t]) => `$${v}: ${t}`);
  const args = Object.keys(variables).map((v) => `${v}: $${v}`);
  const records = itemsKey === null ? leaves.selection : `${totalKey ?? ''} ${itemsKey} { ${leaves.selection} }`.trim();
  const query = `query ${declared.length > 0 ? `(${declared.join(', ')}) ` : ''}{ ${name}${args.length > 0 ? `(${args.join(', ')})` : ''} { ${records} } }`;
  return {
    rootField: name,
    itemsPath: itemsKey === null ? name : `${name}.${itemsKey}`,
    totalPath: totalKey === null ? null : `${name}.${totalKey}`,
    paging,
    variables,
    query,
    leaves: leaves.paths,
    required,
  };
}

/** The variables that ask for the first `size` records: the page size, and the start at 0 (offset) or at page 1. */
export function graphqlSampleVariables(plan: GraphqlPlan, size: number): Record<string, number> {
  const variables: Record<string, number> = {};
  if (plan.paging.sizeVariable) variables[plan.paging.sizeVariable] = size;
  if (plan.paging.startVariable) variables[plan.paging.startVariable] = plan.paging.style === 'page' ? 1 : 0;
  return variables;
}

/** A sample from the answer's `data` to the planned query: every leaf the query selects, with the values its first `limit` records hold. */
export function sampleFromGraphql(entity: EntityName, plan: GraphqlPlan, data: unknown, limit = 5): Sample {
  let records: unknown = data;
  for (const key of (plan.itemsPath ?? '').split('.')) records = (records as Record<string, unknown> | null)?.[key];
  if (!Array.isArray(records)) throw new Error(`the answer holds no list at "${plan.itemsPath}"`);
  const { values } = sampleFromRecords(entity, records.filter((r) => r !== null), limit);
  return {
    entity,
    columns: plan.leaves,
    values: Object.fromEntries(plan.leaves.map((p) => [p, values[p] ?? []])),
    ...(plan.itemsPath ? { itemsPath: plan.itemsPath } : {}),
    ...(plan.totalPath ? { totalPath: plan.totalPath } : {}),
  };
}

// ---------------------------------------------------------------------------
// SOAP: the WSDL's operations, and a page of records when its types say how to ask.

/** As the SOAP connector reads XML: local names, attributes as `@_name`, every value text. */
const xml = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@_', removeNSPrefix: true, parseTagValue: false, parseAttributeValue: false, trimValues: true, processEntities: true, htmlEntities: false });
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const listOf = (v: unknown): unknown[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
/** `tns:Name` -> `Name`. */
const local = (v: unknown) => (typeof v === 'string' ? v.slice(v.indexOf(':') + 1) : undefined);

/** One operation of a WSDL: its SOAPAction (null when the binding gives none) and the elements of its request and response. */
export interface WsdlOperation {
  name: string;
  soapAction: string | null;
  request: string | null;
  response: string | null;
}
/** A child element of a request, as the WSDL's schema declares it. */
export interface WsdlChild {
  name: string;
  /** The type's local name (`int`), or null for an element typed inline. */
  type: string | null;
  required: boolean;
}
export interface Wsdl {
  namespace: string | null;
  operations: WsdlOperation[];
  /** The schema's elementFormDefault; null when the WSDL has no schema. */
  elementFormDefault: 'qualified' | 'unqualified' | null;
  /** Request element -> its children in order, where the schema declares them. */
  children: Map<string, WsdlChild[]>;
}

/** Reads a WSDL 1.1: its target namespace, its operations (port type and binding), and the request elements its schema declares. Throws an Error when it is not one. */
export function readWsdl(text: string): Wsdl {
  let doc: unknown;
  try {
    doc = xml.parse(text);
  } catch {
    throw new Error('the WSDL does not parse as XML');
  }
  const definitions = isObject(doc) ? doc['definitions'] : undefined;
  if (!isObject(definitions)) throw new Error('not a WSDL 1.1 document (no <definitions>)');
  const messages = new Map<string, string>();
  for (const m of listOf(definitions['message'])) {
    if (!isObject(m) || typeof m['@_name'] !== 'string') continue;
    const parts = listOf(m['part']).filter(isObject);
    const part = parts.find((p) => p['@_name'] === 'parameters') ?? parts[0];
    const element = local(part?.['@_element']);
    if (element) messages.set(m['@_name'], element);
  }
  const operations = new Map<string, WsdlOperation>();
  for (const portType of listOf(definitions['portType'])) {
    for (const op of listOf(isObject(portType) ? portType['operation'] : undefined)) {
      if (!isObject(op) || typeof op['@_name'] !== 'string' || operations.has(op['@_name'])) continue;
      const message = (key: string) => messages.get(local(isObject(op[key]) ? (op[key] as Record<string, unknown>)['@_message'] : undefined) ?? '') ?? null;
      operations.set(op['@_name'], { name: op['@_name'], soapAction: null, request: message('input'), response: message('output') });
    }
  }
  for (const binding of listOf(definitions['binding'])) {
    for (const op of listOf(isObject(binding) ? binding['operation'] : undefined)) {
      if (!isObject(op) || typeof op['@_name'] !== 'string') continue;
      const action = isObject(op['operation']) ? op['operation']['@_soapAction'] : undefined;
      const known = operations.get(op['@_name']);
      if (known && typeof action === 'string') known.soapAction = action;
    }
  }
  const children = new Map<string, WsdlChild[]>();
  let elementFormDefault: Wsdl['elementFormDefault'] = null;
  const types = isObject(definitions['types']) ? definitions['types'] : {};
  for (const schema of listOf(types['schema']).filter(isObject)) {
    elementFormDefault ??= schema['@_elementFormDefault'] === 'qualified' ? 'qualified' : 'unqualified';
    const complexTypes = new Map(listOf(schema['complexType']).filter(isObject).map((t) => [String(t['@_name']), t]));
    for (const element of listOf(schema['element']).filter(isObject)) {
      const type = isObject(element['complexType']) ? element['complexType'] : complexTypes.get(local(element['@_type']) ?? '');
      const group = isObject(type) ? (type['sequence'] ?? type['all']) : undefined;
      if (!isObject(group)) continue;
      children.set(String(element['@_name']), listOf(group['element']).filter(isObject).flatMap((c) => {
        const childName = local(c['@_name'] ?? c['@_ref']);
        return childName ? [{ name: childName, type: local(c['@_type']) ?? null, required: c['@_minOccurs'] !== '0' }] : [];
      }));
    }
  }
  return { namespace: typeof definitions['@_targetNamespace'] === 'string' ? definitions['@_targetNamespace'] : null, operations: [...operations.values()], elementFormDefault, children };
}

/** What a draft says of a SOAP service, from its WSDL. */
export interface SoapProposal {
  namespace: string | null;
  elementFormDefault: 'qualified' | 'unqualified' | null;
  /** Per entity, the operation whose name reads it. */
  entities: Partial<Record<EntityName, { operation: string; soapAction: string; request: string }>>;
  /** The request's paging elements, from the schema; `firstPage` once a page was asked for. */
  paging: { style: 'page' | 'offset'; startParam: string; sizeParam: string; firstPage?: 0 | 1 } | null;
  /** Why no records can be asked for (no operation for the entity, no schema of its request, other required elements); null when they can. */
  whyNoSample: string | null;
}

const intTypes = new Set(['int', 'integer', 'long', 'short', 'nonNegativeInteger', 'positiveInteger', 'unsignedInt', 'unsignedShort', 'unsignedLong']);

/** Per entity, the operation whose name reads it; the paging elements of the beneficiaries' request where the schema declares them. */
export function proposeSoap(wsdl: Wsdl, entity: EntityName = 'beneficiaries'): SoapProposal {
  const byName = new Map(wsdl.operations.filter((o) => o.request !== null).map((o) => [o.name, o]));
  const entities: SoapProposal['entities'] = {};
  for (const [e, name] of Object.entries(matchEntities([...byName.keys()]))) {
    const op = byName.get(name)!;
    entities[e as EntityName] = { operation: op.name, soapAction: op.soapAction ?? '', request: op.request! };
  }
  const proposal: SoapProposal = { namespace: wsdl.namespace, elementFormDefault: wsdl.elementFormDefault, entities, paging: null, whyNoSample: null };
  const op = entities[entity];
  if (!op) return { ...proposal, whyNoSample: `no operation reads ${entity} by its name` };
  const children = wsdl.children.get(op.request);
  if (!children) {
    const why = wsdl.children.size === 0 ? 'the WSDL has no schema of its messages (no <types>)' : `the WSDL's schema does not declare the children of ${op.request}`;
    return { ...proposal, whyNoSample: `${why}, so the request's paging elements are unknown` };
  }
  const ints = children.filter((c) => c.type === null || intTypes.has(c.type));
  const size = ints.find((c) => pagingRole(c.name) === 'size');
  const start = ints.find((c) => c !== size && (pagingRole(c.name) === 'page' || pagingRole(c.name) === 'offset'));
  if (size && start) proposal.paging = { style: pagingRole(start.name) === 'page' ? 'page' : 'offset', startParam: start.name, sizeParam: size.name };
  const other = children.filter((c) => c.required && c !== size && c !== start).map((c) => c.name);
  if (!proposal.paging) proposal.whyNoSample = `${op.request} declares no paging elements by a known name (${children.map((c) => c.name).join(', ') || 'no children'})`;
  else if (other.length > 0) proposal.whyNoSample = `${op.request} requires ${other.join(', ')} besides paging`;
  return proposal;
}

const escapeXml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/"/g, '&quot;');

/** The envelope asking the entity's operation for `size` records from `start` (a page number or a position), as the connector asks. */
export function soapSampleRequest(proposal: SoapProposal, entity: EntityName, start: number, size: number): string {
  const op = proposal.entities[entity];
  if (!op || !proposal.paging || !proposal.namespace) throw new Error(`no request for ${entity} can be made from the WSDL`);
  const qualified = proposal.elementFormDefault !== 'unqualified';
  const { startParam, sizeParam } = proposal.paging;
  const head = qualified ? `<${op.request} xmlns="${escapeXml(proposal.namespace)}">` : `<tns:${op.request} xmlns:tns="${escapeXml(proposal.namespace)}">`;
  const tail = qualified ? `</${op.request}>` : `</tns:${op.request}>`;
  return '<?xml version="1.0" encoding="utf-8"?>'
    + '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>'
    + `${head}<${startParam}>${start}</${startParam}><${sizeParam}>${size}</${sizeParam}>${tail}`
    + '</soap:Body></soap:Envelope>';
}

/** A SOAP fault answered instead of records. */
export class SoapFault extends Error {
  override name = 'SoapFault';
}

/**
 * A sample from a SOAP response: the first repeated element of objects below
 * the Body is the records' element (`RicercaAssistitiRisposta.assistiti.assistito`),
 * each flattened as the connector flattens it (`anagrafica.nome`, `@id`,
 * `cittadinanza@codice`); the total is a whole number beside them named as a
 * total (`totaleRecord`, `numeroTotale`, `esito.numeroElementi`). Throws a
 * SoapFault naming its faultcode, or an Error.
 */
export async function sampleFromSoapResponse(entity: EntityName, text: string, limit = 5): Promise<Omit<Sample, 'path'>> {
  // Loaded when a response is read, as the other kinds do without the SOAP connector.
  const { rowOf } = await import('./connectors/soap.ts');
  let doc: unknown;
  try {
    doc = xml.parse(text);
  } catch {
    throw new Error('the answer does not parse as XML');
  }
  const body = isObject(doc) && isObject(doc['Envelope']) ? doc['Envelope']['Body'] : undefined;
  if (!isObject(body)) throw new Error('the answer is not a SOAP envelope');
  if (isObject(body['Fault'])) {
    const fault = body['Fault'];
    const string = typeof fault['faultstring'] === 'string' ? `: ${fault['faultstring'].slice(0, 120)}` : '';
    throw new SoapFault(`SOAP fault ${typeof fault['faultcode'] === 'string' ? fault['faultcode'] : '(no faultcode)'}${string}`);
  }
  // Records sit deeper than in a JSON body: below the response element and a list element (`RicercaAssistitiRisposta.assistiti.assistito`).
  const found = findRecords(body, '', -2);
  const records = found?.records ?? [];
  // The shallowest whole number named as a total, outside the records.
  let totalPath: string | undefined;
  let level: Array<[string, unknown]> = [['', body]];
  for (let depth = 0; depth < 4 && totalPath === undefined && level.length > 0; depth++) {
    const next: Array<[string, unknown]> = [];
    for (const [path, value] of level) {
      if (!isObject(value)) continue;
      for (const [k, v] of Object.entries(value)) {
        const at = path === '' ? k : `${path}.${k}`;
        if (k.startsWith('@_') || at === found?.path) continue;
        if (totalPath === undefined && typeof v === 'string' && /^\d{1,15}$/.test(v) && TOTAL_NAME.test(normaliseName(k))) totalPath = at;
        next.push([at, v]);
      }
    }
    level = next;
  }
  return {
    ...sampleFromRecords(entity, records.map(rowOf), limit),
    ...(found ? { itemsPath: found.path } : {}),
    ...(totalPath !== undefined ? { totalPath } : {}),
  };
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

/** The separator of a list held in one field ("VIT,MSNA", "SD|SAN"), from the values seen; "," when none shows one. */
function listSeparatorOf(values: readonly string[]): string {
  return [',', '|', ';'].find((sep) => values.some((v) => v.includes(sep))) ?? ',';
}

/** The draft config of a city with one source of the kind (see the module's comment). */
export function scaffoldConfig(input: ScaffoldInput): Record<string, unknown> {
  const { kind, code, sample, given = {}, soap, graphql } = input;
  const keyEnv = input.keyEnv ?? `LGNET_${code}_MAIN_KEY`;
  const proposal = sample ? proposeFields(sample.entity, sample.columns) : null;
  const vulnerabilities = sample?.entity === 'beneficiaries' && proposal?.vulnerabilities ? (sample.values[proposal.vulnerabilities] ?? []) : [];
  const separator = listSeparatorOf(vulnerabilities);
  const fieldsFor = (e: EntityName) => fieldsOf(e, sample?.entity === e ? proposal : null);
  /** The command line speaks of the beneficiaries. */
  const givenFor = (e: EntityName) => (e === 'beneficiaries' ? given : {});
  const sampled = (e: EntityName) => (sample?.entity === e ? sample : undefined);
  const pathFor = (e: EntityName) => sampled(e)?.path ?? givenFor(e).path ?? `/${todo(e)}`;

  const vocabularies: Record<string, Record<string, string>> = {};
  let citizenship: Record<string, string> | undefined;
  let dateFormat: DateFormat = 'dd/mm/yyyy';
  /** Canonical date field -> how its column holds dates, for the sampled entity. */
  const storage: Record<string, DateStorage> = {};
  if (sample && proposal) {
    for (const [list, codes] of codesSeen(sample, proposal, separator)) {
      const table = Object.fromEntries(codes.map((c) => [c, TODO]));
      if (list === 'citizenship') citizenship = table;
      else vocabularies[list] = table;
    }
    const written: string[] = [];
    for (const f of dateFields[sample.entity]) {
      const column = proposal[f];
      if (!column) continue;
      storage[f] = sample.dates?.[column] ?? 'text';
      // Dates the system types as dates reach the mapping in whatever format the config says: only written ones tell it.
      if (storage[f] === 'text') written.push(...(sample.values[column] ?? []));
    }
    dateFormat = guessDateFormat(written) ?? dateFormat;
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
    case 'soap': {
      const paging = soap?.paging;
      source = {
        ...base,
        auth,
        namespace: soap?.namespace ?? todo('namespace'),
        ...(soap?.elementFormDefault ? { elementFormDefault: soap.elementFormDefault } : {}),
        paging: paging
          ? { style: paging.style, startParam: paging.startParam, sizeParam: paging.sizeParam, ...(paging.style === 'page' ? { firstPage: paging.firstPage ?? 1 } : {}), maxPageSize: 100 }
          : { style: 'page', startParam: todo('startParam'), sizeParam: todo('sizeParam'), maxPageSize: 100 },
        entities: entities((e) => {
          const op = soap?.entities[e];
          return {
            path: given.path ?? '',
            operation: op?.operation ?? todo(`${e}Operation`),
            soapAction: op?.soapAction ?? todo(`${e}SoapAction`),
            request: op?.request ?? todo(`${e}Request`),
            recordsPath: sampled(e)?.itemsPath ?? todo(`${e}RecordsPath`),
            totalPath: sampled(e)?.totalPath ?? todo(`${e}TotalPath`),
            fields: fieldsFor(e),
          };
        }),
      };
      break;
    }
    case 'sql':
      source = {
        ...base,
        dialect: given.dialect ?? 'postgres',
        auth: { key: { env: keyEnv } },
        entities: entities((e) => ({
          view: sampled(e)?.view ?? givenFor(e).view ?? todo(`${e}View`),
          ...(sampled(e) && Object.keys(storage).length > 0 ? { dates: storage } : {}),
          fields: fieldsFor(e),
        })),
      };
      break;
    case 'spreadsheet':
      source = {
        ...base,
        auth,
        entities: entities((e) => {
          const read = sampled(e);
          const sheet = read?.sheet ?? givenFor(e).sheet;
          return {
            path: pathFor(e),
            ...(sheet !== undefined ? { sheet } : {}),
            ...(read?.headerRow !== undefined ? { headerRow: read.headerRow } : {}),
            ...(read?.groupRow !== undefined ? { groupRow: read.groupRow } : {}),
            fields: fieldsFor(e),
          };
        }),
      };
      break;
    case 'graphql': {
      const start = graphql ? (graphql.paging.startVariable ?? todo('startVariable')) : 'offset';
      const size = graphql ? (graphql.paging.sizeVariable ?? todo('sizeVariable')) : 'limit';
      source = {
        ...base,
        auth: { header: 'Authorization', prefix: 'Bearer ', key: { env: keyEnv } },
        paging: { style: graphql?.paging.style ?? 'offset', startVariable: start, sizeVariable: size, maxPageSize: 100 },
        entities: entities((e) => {
          const fields = fieldsFor(e);
          const path = given.path ?? (graphql ? '' : '/graphql');
          if (graphql && e === 'beneficiaries') {
            return {
              path,
              query: graphql.query,
              itemsPath: graphql.itemsPath ?? todo('itemsPath'),
              totalPath: graphql.totalPath ?? todo('totalPath'),
              fields,
            };
          }
          // The query selects every mapped field, so that it stays consistent as the placeholders are replaced.
          const selection = Object.values(fields).join(' ');
          return {
            path,
            query: `query ($${start}: Int!, $${size}: Int!) { ${todo(e)}(${start}: $${start}, ${size}: $${size}) { ${todo('total')} ${todo('items')} { ${selection} } } }`,
            itemsPath: `${todo(e)}.${todo('items')}`,
            totalPath: `${todo(e)}.${todo('total')}`,
            fields,
          };
        }),
      };
      break;
    }
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
