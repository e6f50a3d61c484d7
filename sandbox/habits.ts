/**
 * What a city's config does not say about its system, and the sandbox must
 * still choose to stand in for it: how the system types the values the
 * config maps, small habits of its exports that the adapters must tolerate,
 * and where below its host it answers.
 *
 * Everything the graph needs to read a city (field names, codes, dates,
 * paging, filters, encoding) is in the city's config, adapters/cities/, and
 * the stand-ins read it from there (sandbox/dialects.ts). A city missing
 * from this table gets the defaults: a new city needs no line here.
 */
import type { SpreadsheetQuirks } from './spreadsheet-stand-in.ts';

/** Small habits of a source that the adapters must tolerate. */
export interface Quirks {
  /** Codes (and citizenship) written in another case than the vocabulary keys: matching ignores case. */
  codesCase?: 'upper' | 'lower';
  /** Fiscal codes written in lower case, or in groups with spaces (the adapters normalise them). */
  fiscalCode?: 'lower' | 'spaced';
  /** Every value right-padded with spaces to this width, as fixed-width exports do (the adapters trim). */
  padTo?: number;
  /** Fields (columns) the source sends that the programme does not map, with their constant value. */
  extraFields?: Readonly<Record<string, string>>;
  /**
   * A system kept in two languages at once (Bolzano's ASSB, Italian and
   * German): where a vocabulary holds several codes for one national code,
   * each record is written with one of them, chosen by its id.
   */
  bilingual?: boolean;
}

/** How a JSON (or XML) system types the values it sends. */
export interface ValueTypes {
  ids: 'string' | 'number';
  numbers: 'number' | 'string';
  /** A list (an array, repeated XML elements) or one string joined by the source's `listSeparator`. */
  vulnerabilities: 'array' | 'joined';
  /** How an absent optional value (an open end date, no signature yet) is written. */
  absent: 'null' | 'omit' | 'empty';
}

export interface SourceHabits {
  /** Path of the source below its host, e.g. "/api/v2"; default "/<city slug>/<source id>". */
  basePath?: string;
  quirks?: Quirks;
  /** JSON and XML sources. */
  values?: Partial<ValueTypes>;
  /** REST: page size when a request gives none. Default 20. */
  defaultPageSize?: number;
  /** CSV: a UTF-8 byte order mark before the header (default: for UTF-8 exports, as Excel writes them). */
  bom?: boolean;
  /** CSV: default "\r\n". */
  lineEnding?: '\r\n' | '\n';
  /** CSV: every value quoted, not only those that need it. */
  quoteAll?: boolean;
  /** CSV: default `text/csv; charset=<encoding>`. */
  contentType?: string;
  /** Spreadsheets: what makes the workbooks hand-kept (see spreadsheet-stand-in.ts); every one on by default. */
  spreadsheet?: SpreadsheetQuirks;
}

export const defaultValueTypes: ValueTypes = { ids: 'string', numbers: 'number', vulnerabilities: 'array', absent: 'null' };

type CityHabits = Readonly<Record<string, SourceHabits>>;

/** By ISTAT code, then by source id. */
const habits: Readonly<Record<string, CityHabits>> = {
  '001272': { main: { basePath: '/api/v2', quirks: { extraFields: { ultimo_aggiornamento: '2025-12-31T23:00:00Z' } }, defaultPageSize: 20 } }, // Torino
  '007003': { main: { basePath: '/export', quirks: { extraFields: { Operatore: '' } } } }, // Aosta
  '010025': { main: { basePath: '/anciliguria/lgnet/api', values: { numbers: 'string', vulnerabilities: 'joined', absent: 'empty' }, defaultPageSize: 50 } }, // Genova
  '015146': { main: { basePath: '/sociale/api', values: { ids: 'number', absent: 'omit' } } }, // Milano
  '021008': { main: { basePath: '/assb/rest', quirks: { bilingual: true }, values: { vulnerabilities: 'joined' }, defaultPageSize: 25 } }, // Bolzano
  '027042': { main: { basePath: '/ws/sociale/v1', values: { numbers: 'string', vulnerabilities: 'joined', absent: 'empty' } } }, // Venezia
  '032006': { main: { basePath: '/opendata/lgnet', lineEnding: '\n' } }, // Trieste
  '037006': { main: { basePath: '' } }, // Bologna
  '048017': { main: { basePath: '/odata/v4', values: { ids: 'number' }, defaultPageSize: 50 } }, // Firenze
  '054039': { main: { basePath: '/sociale/estrazioni', quirks: { padTo: 24 } } }, // Perugia
  '058091': { main: { basePath: '/api', defaultPageSize: 15 }, housing: { basePath: '/patrimonio/solr', values: { numbers: 'string', absent: 'omit' }, defaultPageSize: 10 } }, // Roma
  '059011': { main: { basePath: '/files', quirks: { extraFields: { Note: '' } }, quoteAll: true, contentType: 'application/vnd.ms-excel' } }, // Latina
  '061022': { main: { basePath: '/caserta/lgnet' } }, // Caserta
  '063049': { main: { basePath: '/cartellasociale/api/v1', quirks: { codesCase: 'upper' }, values: { ids: 'number', numbers: 'string', vulnerabilities: 'joined', absent: 'empty' }, defaultPageSize: 50 } }, // Napoli
  '070006': { main: { basePath: '/campobasso/export', quirks: { fiscalCode: 'lower' } } }, // Campobasso
  '072006': { main: { basePath: '/bari/welfare', values: { absent: 'omit' } } }, // Bari
  '073027': { main: { basePath: '/export', contentType: 'text/plain; charset=windows-1252' } }, // Taranto
  '076063': { main: { basePath: '/potenza/api', values: { vulnerabilities: 'joined' }, defaultPageSize: 10 }, housing: { basePath: '/acta/export' } }, // Potenza
  '079023': { main: { basePath: '/catanzaro/dati', quirks: { codesCase: 'lower' } } }, // Catanzaro
  '082053': { main: { basePath: '/servizisociali/api', values: { ids: 'number', vulnerabilities: 'joined' }, defaultPageSize: 30 } }, // Palermo
  '084001': { main: { basePath: '/agrigento/export' } }, // Agrigento
  '087015': { main: { basePath: '/catania/opendata', lineEnding: '\n' } }, // Catania
  '090064': { main: { basePath: '/sassari/sociale/api', quirks: { fiscalCode: 'spaced' }, defaultPageSize: 10 } }, // Sassari
  '092009': { main: { basePath: '/cagliari/export' } }, // Cagliari
};

/** The habits of a city's source; none for a city or source the table does not name. */
export function habitsOf(city: string, sourceId: string): SourceHabits {
  return habits[city]?.[sourceId] ?? {};
}
