/**
 * How each city's own system speaks: protocol, paths, field names, codes,
 * date format, paging, authentication. One dialect per LGNet city, as data.
 *
 * The stand-ins serve the synthetic population in these dialects, and the
 * city configs in `adapters/cities/` map exactly these names and codes back
 * to the national ones (sandbox/dialects.test.ts keeps the two in step). No
 * two cities are alike: each municipality bought, built or inherited its own
 * software, so field names, vocabularies, date formats and paging all differ.
 *
 * Field names are given per entity as a tuple in the canonical order of
 * `canonicalFieldsOf` (adapters/config.ts); the labels of the tuple types say
 * which is which.
 */
import type { CanonicalField, DateFormat, Vocabularies } from '../adapters/config.ts';
import { canonicalFieldsOf } from '../adapters/config.ts';
import type { LookupKey } from '../adapters/port.ts';
import type {
  CivicProjectStatus,
  Domain,
  Edition,
  HousingKind,
  IntakeChannel,
  IntakeStatus,
  PermitType,
  ServiceCategory,
  Sex,
  Vulnerability,
} from '../schema/code-lists.ts';
import { entityDomain, entityNames, type EntityName } from '../schema/records.ts';

// ---------------------------------------------------------------------------
// Types

/** Canonical field -> the source's own field (column) name. */
export type EntityFields<E extends EntityName> = Readonly<Record<CanonicalField<E>, string>>;

export interface EntityDialect<E extends EntityName> {
  /** Path below the source's base URL (which includes `basePath`). */
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

/** Small habits of a source's export that the adapters must tolerate. */
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
}

export interface RestSourceDialect extends SourceDialectBase {
  kind: 'rest';
  auth: { header: string; prefix: string };
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
  /**
   * Most values one batch parameter accepts. 500 everywhere, the configs' default:
   * a look-up of a page of 500 beneficiaries is one request per joined entity.
   */
  maxBatchSize: number;
  /** How values are typed in the JSON. */
  values: {
    ids: 'string' | 'number';
    numbers: 'number' | 'string';
    vulnerabilities: 'array' | 'joined';
    /** How an absent optional value (an open end date, no signature yet) is written. */
    absent: 'null' | 'omit' | 'empty';
  };
  entities: { readonly [E in EntityName]?: RestEntityDialect<E> };
}

export interface CsvSourceDialect extends SourceDialectBase {
  kind: 'csv';
  /** The key is optional for CSV exports: many are published without one. */
  auth: { header: string; prefix: string } | null;
  encoding: 'windows-1252' | 'utf-8';
  /** A UTF-8 byte order mark before the header (as Excel writes). */
  bom: boolean;
  delimiter: string;
  lineEnding: '\r\n' | '\n';
  /** Every value quoted, not only those that need it. */
  quoteAll: boolean;
  contentType: string;
  entities: { readonly [E in EntityName]?: EntityDialect<E> };
}

export type SourceDialect = RestSourceDialect | CsvSourceDialect;

export interface CityDialect {
  code: string;
  /** Lower-case file-name slug, e.g. "sassari". */
  slug: string;
  name: string;
  altNames: readonly string[];
  region: string;
  province: string;
  editions: readonly Edition[];
  operatingBody: string | null;
  sources: readonly SourceDialect[];
}

/** The environment variable holding a source's base URL or API key. */
export function sourceEnvName(city: string, sourceId: string, what: 'URL' | 'KEY'): string {
  return `LGNET_${city}_${sourceId.toUpperCase().replace(/-/g, '_')}_${what}`;
}

// ---------------------------------------------------------------------------
// Vocabularies: the codes cities actually use, named so each city's choice reads.

type Table<T extends string> = Readonly<Record<string, T>>;

const sex = {
  mf: { M: 'MALE', F: 'FEMALE' },
  words: { Maschio: 'MALE', Femmina: 'FEMALE' },
  digits: { '1': 'MALE', '2': 'FEMALE' },
  /** uomo / donna */
  ud: { U: 'MALE', D: 'FEMALE' },
  adjectives: { maschile: 'MALE', femminile: 'FEMALE' },
  /** männlich / weiblich */
  german: { M: 'MALE', W: 'FEMALE' },
} satisfies Record<string, Table<Sex>>;

const permit = {
  words: {
    'Richiesta asilo': 'ASYLUM_SEEKER',
    'Status di rifugiato': 'REFUGEE_STATUS',
    'Protezione sussidiaria': 'SUBSIDIARY_PROTECTION',
    'Protezione speciale': 'SPECIAL_PROTECTION',
    'Protezione temporanea': 'TEMPORARY_PROTECTION',
    Lavoro: 'WORK',
    'Motivi familiari': 'FAMILY',
    Studio: 'STUDY',
    'Soggiornante di lungo periodo': 'LONG_TERM_RESIDENT',
    'Cure mediche': 'MEDICAL_CARE',
    Altro: 'OTHER',
  },
  codes: {
    RA: 'ASYLUM_SEEKER', RIF: 'REFUGEE_STATUS', SUS: 'SUBSIDIARY_PROTECTION', PSP: 'SPECIAL_PROTECTION',
    PTE: 'TEMPORARY_PROTECTION', LAV: 'WORK', FAM: 'FAMILY', STU: 'STUDY', SLP: 'LONG_TERM_RESIDENT',
    CM: 'MEDICAL_CARE', ALT: 'OTHER',
  },
  snake: {
    richiedente_asilo: 'ASYLUM_SEEKER', rifugiato: 'REFUGEE_STATUS', protezione_sussidiaria: 'SUBSIDIARY_PROTECTION',
    protezione_speciale: 'SPECIAL_PROTECTION', protezione_temporanea: 'TEMPORARY_PROTECTION', lavoro: 'WORK',
    famiglia: 'FAMILY', studio: 'STUDY', lungo_periodo: 'LONG_TERM_RESIDENT', cure_mediche: 'MEDICAL_CARE', altro: 'OTHER',
  },
  numbered: {
    '01': 'ASYLUM_SEEKER', '02': 'REFUGEE_STATUS', '03': 'SUBSIDIARY_PROTECTION', '04': 'SPECIAL_PROTECTION',
    '05': 'TEMPORARY_PROTECTION', '06': 'WORK', '07': 'FAMILY', '08': 'STUDY', '09': 'LONG_TERM_RESIDENT',
    '10': 'MEDICAL_CARE', '99': 'OTHER',
  },
  german: {
    Asylbewerber: 'ASYLUM_SEEKER', Flüchtlingsstatus: 'REFUGEE_STATUS', 'Subsidiärer Schutz': 'SUBSIDIARY_PROTECTION',
    'Besonderer Schutz': 'SPECIAL_PROTECTION', 'Vorübergehender Schutz': 'TEMPORARY_PROTECTION', Arbeit: 'WORK',
    Familie: 'FAMILY', Studium: 'STUDY', Daueraufenthalt: 'LONG_TERM_RESIDENT', 'Medizinische Behandlung': 'MEDICAL_CARE',
    Sonstiges: 'OTHER',
  },
} satisfies Record<string, Table<PermitType>>;

const channel = {
  codes: { SPORTELLO: 'ONE_STOP_SHOP', UDS: 'MOBILE_UNIT', INVIO: 'REFERRAL' },
  words: { 'Sportello unico': 'ONE_STOP_SHOP', 'Unità di strada': 'MOBILE_UNIT', 'Invio servizi': 'REFERRAL' },
  /** punto unico di accesso / unità mobile / segnalazione */
  pua: { PUA: 'ONE_STOP_SHOP', UM: 'MOBILE_UNIT', SEGN: 'REFERRAL' },
  letters: { S: 'ONE_STOP_SHOP', U: 'MOBILE_UNIT', I: 'REFERRAL' },
  snake: { accesso_diretto: 'ONE_STOP_SHOP', unita_mobile: 'MOBILE_UNIT', invio_ente: 'REFERRAL' },
  digits: { '1': 'ONE_STOP_SHOP', '2': 'MOBILE_UNIT', '3': 'REFERRAL' },
  english: { 'walk-in': 'ONE_STOP_SHOP', outreach: 'MOBILE_UNIT', referral: 'REFERRAL' },
  german: { Anlaufstelle: 'ONE_STOP_SHOP', 'Mobile Einheit': 'MOBILE_UNIT', Zuweisung: 'REFERRAL' },
} satisfies Record<string, Table<IntakeChannel>>;

const status = {
  codes: { IN_CARICO: 'ACTIVE', DIMESSO: 'CLOSED_AUTONOMY', TRASFERITO: 'TRANSFERRED', ABBANDONO: 'DROPPED_OUT' },
  words: { 'In carico': 'ACTIVE', 'Dimesso per autonomia': 'CLOSED_AUTONOMY', Trasferito: 'TRANSFERRED', Interrotto: 'DROPPED_OUT' },
  letters: { A: 'ACTIVE', D: 'CLOSED_AUTONOMY', T: 'TRANSFERRED', I: 'DROPPED_OUT' },
  snake: { attivo: 'ACTIVE', chiuso_autonomia: 'CLOSED_AUTONOMY', trasferito: 'TRANSFERRED', drop_out: 'DROPPED_OUT' },
  numbered: { '10': 'ACTIVE', '20': 'CLOSED_AUTONOMY', '30': 'TRANSFERRED', '40': 'DROPPED_OUT' },
  german: { Aktiv: 'ACTIVE', Abgeschlossen: 'CLOSED_AUTONOMY', Überstellt: 'TRANSFERRED', Abgebrochen: 'DROPPED_OUT' },
} satisfies Record<string, Table<IntakeStatus>>;

const vulnerability = {
  codes: {
    SAN: 'PHYSICAL_HEALTH', PSI: 'MENTAL_HEALTH', SD: 'HOMELESSNESS', VDG: 'GENDER_VIOLENCE', TRA: 'TRAFFICKING',
    MONO: 'SINGLE_PARENT', DIS: 'DISABILITY', GRAV: 'PREGNANCY',
  },
  words: {
    'Fragilità sanitaria': 'PHYSICAL_HEALTH', 'Disagio psichico': 'MENTAL_HEALTH', 'Senza dimora': 'HOMELESSNESS',
    'Violenza di genere': 'GENDER_VIOLENCE', 'Vittima di tratta': 'TRAFFICKING', 'Nucleo monogenitoriale': 'SINGLE_PARENT',
    Disabilità: 'DISABILITY', Gravidanza: 'PREGNANCY',
  },
  snake: {
    salute_fisica: 'PHYSICAL_HEALTH', salute_mentale: 'MENTAL_HEALTH', senza_dimora: 'HOMELESSNESS',
    violenza_genere: 'GENDER_VIOLENCE', tratta: 'TRAFFICKING', genitore_solo: 'SINGLE_PARENT', disabilita: 'DISABILITY',
    gravidanza: 'PREGNANCY',
  },
  numbered: {
    V1: 'PHYSICAL_HEALTH', V2: 'MENTAL_HEALTH', V3: 'HOMELESSNESS', V4: 'GENDER_VIOLENCE', V5: 'TRAFFICKING',
    V6: 'SINGLE_PARENT', V7: 'DISABILITY', V8: 'PREGNANCY',
  },
  german: {
    'Körperliche Erkrankung': 'PHYSICAL_HEALTH', 'Psychische Erkrankung': 'MENTAL_HEALTH', Obdachlosigkeit: 'HOMELESSNESS',
    'Geschlechtsspezifische Gewalt': 'GENDER_VIOLENCE', Menschenhandel: 'TRAFFICKING', Alleinerziehend: 'SINGLE_PARENT',
    Behinderung: 'DISABILITY', Schwangerschaft: 'PREGNANCY',
  },
} satisfies Record<string, Table<Vulnerability>>;

const category = {
  words: {
    'Sportello unico': 'ONE_STOP_SHOP', 'Unità mobile': 'MOBILE_UNIT', Laboratorio: 'WORKSHOP',
    'Corso di italiano': 'LANGUAGE_COURSE', 'Impegno civico': 'CIVIC_ENGAGEMENT', 'Orientamento civico': 'CIVIC_ORIENTATION',
    'Orientamento al lavoro': 'JOB_GUIDANCE', 'Spazio di incontro': 'MEETING_SPACE',
    'Supporto psicosociale': 'PSYCHOSOCIAL_SUPPORT', 'Consulenza legale': 'LEGAL_ADVICE',
  },
  codes: {
    SPO: 'ONE_STOP_SHOP', UM: 'MOBILE_UNIT', LAB: 'WORKSHOP', L2: 'LANGUAGE_COURSE', PIC: 'CIVIC_ENGAGEMENT',
    OC: 'CIVIC_ORIENTATION', OL: 'JOB_GUIDANCE', SSP: 'MEETING_SPACE', PSS: 'PSYCHOSOCIAL_SUPPORT', LEG: 'LEGAL_ADVICE',
  },
  snake: {
    sportello: 'ONE_STOP_SHOP', unita_mobile: 'MOBILE_UNIT', laboratorio: 'WORKSHOP', italiano_l2: 'LANGUAGE_COURSE',
    impegno_civico: 'CIVIC_ENGAGEMENT', orientamento_civico: 'CIVIC_ORIENTATION', orientamento_lavoro: 'JOB_GUIDANCE',
    safe_space: 'MEETING_SPACE', psicosociale: 'PSYCHOSOCIAL_SUPPORT', legale: 'LEGAL_ADVICE',
  },
  numbered: {
    '101': 'ONE_STOP_SHOP', '102': 'MOBILE_UNIT', '103': 'WORKSHOP', '104': 'LANGUAGE_COURSE', '105': 'CIVIC_ENGAGEMENT',
    '106': 'CIVIC_ORIENTATION', '107': 'JOB_GUIDANCE', '108': 'MEETING_SPACE', '109': 'PSYCHOSOCIAL_SUPPORT',
    '110': 'LEGAL_ADVICE',
  },
  german: {
    Anlaufstelle: 'ONE_STOP_SHOP', 'Mobile Einheit': 'MOBILE_UNIT', Werkstatt: 'WORKSHOP', Italienischkurs: 'LANGUAGE_COURSE',
    'Bürgerschaftliches Engagement': 'CIVIC_ENGAGEMENT', Staatsbürgerkunde: 'CIVIC_ORIENTATION',
    Berufsorientierung: 'JOB_GUIDANCE', Begegnungsraum: 'MEETING_SPACE', 'Psychosoziale Unterstützung': 'PSYCHOSOCIAL_SUPPORT',
    Rechtsberatung: 'LEGAL_ADVICE',
  },
} satisfies Record<string, Table<ServiceCategory>>;

const housing = {
  words: {
    'Rifugio protetto': 'PROTECTED_SHELTER', 'Co-housing': 'SOLIDARITY_COHOUSING',
    'Appartamento di semi-autonomia': 'SEMI_AUTONOMY_FLAT', "Sostegno all'affitto": 'RENT_SUPPORT',
  },
  codes: { RP: 'PROTECTED_SHELTER', CS: 'SOLIDARITY_COHOUSING', ASA: 'SEMI_AUTONOMY_FLAT', SAF: 'RENT_SUPPORT' },
  snake: {
    rifugio_protetto: 'PROTECTED_SHELTER', coabitazione_solidale: 'SOLIDARITY_COHOUSING',
    semiautonomia: 'SEMI_AUTONOMY_FLAT', contributo_affitto: 'RENT_SUPPORT',
  },
  german: {
    Schutzunterkunft: 'PROTECTED_SHELTER', 'Solidarisches Wohnen': 'SOLIDARITY_COHOUSING',
    'Teilautonome Wohnung': 'SEMI_AUTONOMY_FLAT', Mietzuschuss: 'RENT_SUPPORT',
  },
} satisfies Record<string, Table<HousingKind>>;

const civic = {
  words: { Bozza: 'DRAFT', Firmato: 'SIGNED', Concluso: 'COMPLETED', Interrotto: 'WITHDRAWN' },
  codes: { IN_PREPARAZIONE: 'DRAFT', SOTTOSCRITTO: 'SIGNED', CONCLUSO: 'COMPLETED', INTERROTTO: 'WITHDRAWN' },
  letters: { B: 'DRAFT', S: 'SIGNED', C: 'COMPLETED', I: 'WITHDRAWN' },
  numbered: { '0': 'DRAFT', '1': 'SIGNED', '2': 'COMPLETED', '9': 'WITHDRAWN' },
  german: { Entwurf: 'DRAFT', Unterzeichnet: 'SIGNED', Abgeschlossen: 'COMPLETED', Abgebrochen: 'WITHDRAWN' },
} satisfies Record<string, Table<CivicProjectStatus>>;

// ---------------------------------------------------------------------------
// Citizenship: the third countries the programme sees most, as the cities write them.

/** [ISO alpha-2, ISO alpha-3, Italian name]. */
const COUNTRIES: ReadonlyArray<readonly [string, string, string]> = [
  ['AF', 'AFG', 'Afghanistan'], ['AL', 'ALB', 'Albania'], ['DZ', 'DZA', 'Algeria'], ['AM', 'ARM', 'Armenia'],
  ['BD', 'BGD', 'Bangladesh'], ['BY', 'BLR', 'Bielorussia'], ['BJ', 'BEN', 'Benin'], ['BO', 'BOL', 'Bolivia'],
  ['BA', 'BIH', 'Bosnia ed Erzegovina'], ['BR', 'BRA', 'Brasile'], ['BF', 'BFA', 'Burkina Faso'], ['CM', 'CMR', 'Camerun'],
  ['TD', 'TCD', 'Ciad'], ['CN', 'CHN', 'Cina'], ['CO', 'COL', 'Colombia'], ['CG', 'COG', 'Congo'],
  ['CI', 'CIV', "Costa d'Avorio"], ['CU', 'CUB', 'Cuba'], ['EC', 'ECU', 'Ecuador'], ['EG', 'EGY', 'Egitto'],
  ['SV', 'SLV', 'El Salvador'], ['ER', 'ERI', 'Eritrea'], ['ET', 'ETH', 'Etiopia'], ['PH', 'PHL', 'Filippine'],
  ['GM', 'GMB', 'Gambia'], ['GE', 'GEO', 'Georgia'], ['GH', 'GHA', 'Ghana'], ['JO', 'JOR', 'Giordania'],
  ['GN', 'GIN', 'Guinea'], ['GW', 'GNB', 'Guinea-Bissau'], ['HN', 'HND', 'Honduras'], ['IN', 'IND', 'India'],
  ['IR', 'IRN', 'Iran'], ['IQ', 'IRQ', 'Iraq'], ['KE', 'KEN', 'Kenya'], ['KG', 'KGZ', 'Kirghizistan'],
  ['LB', 'LBN', 'Libano'], ['LR', 'LBR', 'Liberia'], ['LY', 'LBY', 'Libia'], ['MK', 'MKD', 'Macedonia del Nord'],
  ['ML', 'MLI', 'Mali'], ['MA', 'MAR', 'Marocco'], ['MR', 'MRT', 'Mauritania'], ['MD', 'MDA', 'Moldavia'],
  ['ME', 'MNE', 'Montenegro'], ['NP', 'NPL', 'Nepal'], ['NE', 'NER', 'Niger'], ['NG', 'NGA', 'Nigeria'],
  ['PK', 'PAK', 'Pakistan'], ['PS', 'PSE', 'Palestina'], ['PE', 'PER', 'Perù'], ['CD', 'COD', 'Repubblica Democratica del Congo'],
  ['DO', 'DOM', 'Repubblica Dominicana'], ['RU', 'RUS', 'Russia'], ['SN', 'SEN', 'Senegal'], ['RS', 'SRB', 'Serbia'],
  ['SL', 'SLE', 'Sierra Leone'], ['SY', 'SYR', 'Siria'], ['SO', 'SOM', 'Somalia'], ['LK', 'LKA', 'Sri Lanka'],
  ['SD', 'SDN', 'Sudan'], ['SS', 'SSD', 'Sudan del Sud'], ['TJ', 'TJK', 'Tagikistan'], ['TG', 'TGO', 'Togo'],
  ['TN', 'TUN', 'Tunisia'], ['TR', 'TUR', 'Turchia'], ['UA', 'UKR', 'Ucraina'], ['UG', 'UGA', 'Uganda'],
  ['UZ', 'UZB', 'Uzbekistan'], ['VE', 'VEN', 'Venezuela'], ['YE', 'YEM', 'Yemen'], ['ZW', 'ZWE', 'Zimbabwe'],
];

/** The ISO alpha-2 codes the citizenship tables cover: the population must stay within them. */
export const coveredCountries: readonly string[] = COUNTRIES.map(([a2]) => a2);

const citizenship = {
  /** "Nigeria", "Costa d'Avorio", "Marocco". */
  italianNames: Object.fromEntries(COUNTRIES.map(([a2, , it]) => [it, a2])),
  /** Legacy systems: upper case without accents, "COSTA D'AVORIO", "PERU". */
  italianUpper: Object.fromEntries(
    COUNTRIES.map(([a2, , it]) => [it.normalize('NFD').replace(/\p{M}/gu, '').toUpperCase(), a2]),
  ),
  alpha3: Object.fromEntries(COUNTRIES.map(([a2, a3]) => [a3, a2])),
} satisfies Record<string, Table<string>>;

// ---------------------------------------------------------------------------
// Builders: expand each city's compact choices into full dialects.

type BeneficiaryNames = [
  localId: string, fiscalCode: string, givenName: string, familyName: string, sex: string, birthDate: string,
  citizenship: string, permitType: string, vulnerabilities: string, intakeDate: string, intakeChannel: string,
  intakeStatus: string,
];
type ServiceNames = [localId: string, name: string, category: string];
type EnrollmentNames = [localId: string, beneficiaryId: string, serviceId: string, from: string, to: string];
type CivicProjectNames = [localId: string, beneficiaryId: string, status: string, signedOn: string];
type HousingNames = [localId: string, name: string, kind: string, capacity: string, occupancy: string];
type PlacementNames = [localId: string, beneficiaryId: string, resourceId: string, from: string, to: string];

interface NamesOf {
  beneficiaries: BeneficiaryNames;
  services: ServiceNames;
  enrollments: EnrollmentNames;
  civicProjects: CivicProjectNames;
  housingResources: HousingNames;
  placements: PlacementNames;
}

/** Per entity: [path, field names in canonical order]. */
type EntitySpecs = { [E in EntityName]?: readonly [path: string, names: NamesOf[E]] };

interface SourceSpec {
  id: string;
  domains: Domain[];
  basePath?: string;
  dateFormat: DateFormat;
  listSeparator?: string;
  citizenship?: Readonly<Record<string, string>>;
  vocabularies: Vocabularies;
  quirks?: Quirks;
  entities: EntitySpecs;
}

interface RestSpec extends SourceSpec {
  auth: { header: string; prefix?: string };
  paging: Omit<RestSourceDialect['paging'], 'firstPage'> & { firstPage?: 0 | 1 };
  maxBatchSize?: number;
  /**
   * Batch parameters: one for the record's own id and one for its
   * beneficiary's (entities that hang off a beneficiary), or `by-field`
   * where the source filters by any field's own name.
   */
  batch: { localId: string; beneficiaryId: string } | 'by-field';
  /** Entities the source cannot look up by a list of ids (only page through). */
  noBatch?: EntityName[];
  /** Filters the API offers, per entity (see RestEntityDialect.filters); none where not given. */
  filters?: { readonly [E in EntityName]?: Readonly<Record<string, RestFilterParams>> };
  values: RestSourceDialect['values'];
}

interface CsvSpec extends SourceSpec {
  auth?: { header: string; prefix?: string };
  encoding?: 'windows-1252' | 'utf-8';
  delimiter?: string;
  lineEnding?: '\r\n' | '\n';
  quoteAll?: boolean;
  contentType?: string;
}

const childEntities: ReadonlySet<EntityName> = new Set(['enrollments', 'civicProjects', 'placements']);

function expandFields<E extends EntityName>(entity: E, names: readonly string[], where: string): EntityFields<E> {
  const canonical = canonicalFieldsOf[entity] as readonly string[];
  if (names.length !== canonical.length) throw new Error(`${where} ${entity}: ${names.length} names for ${canonical.length} fields`);
  if (new Set(names).size !== names.length) throw new Error(`${where} ${entity}: a field name is used twice`);
  return Object.fromEntries(canonical.map((c, i) => [c, names[i]!])) as EntityFields<E>;
}

function checkDomains(spec: SourceSpec, where: string): void {
  for (const entity of entityNames) {
    const served = spec.domains.includes(entityDomain[entity]);
    if (served !== (spec.entities[entity] !== undefined)) {
      throw new Error(`${where}: ${entity} ${served ? 'missing from' : 'outside the domains of'} source "${spec.id}"`);
    }
  }
}

function base(spec: SourceSpec): SourceDialectBase {
  return {
    id: spec.id,
    domains: spec.domains,
    basePath: spec.basePath ?? '',
    dateFormat: spec.dateFormat,
    listSeparator: spec.listSeparator ?? ',',
    citizenship: spec.citizenship ?? null,
    vocabularies: spec.vocabularies,
    quirks: spec.quirks ?? {},
  };
}

function rest(spec: RestSpec): RestSourceDialect {
  checkDomains(spec, 'rest');
  const entities: Record<string, RestEntityDialect<EntityName>> = {};
  for (const entity of entityNames) {
    const e = spec.entities[entity];
    if (!e) continue;
    const fields = expandFields(entity, e[1], spec.id) as Record<string, string>;
    const batchParams: Partial<Record<LookupKey, string>> = {};
    if (!spec.noBatch?.includes(entity)) {
      const keys: LookupKey[] = childEntities.has(entity) ? ['localId', 'beneficiaryId'] : ['localId'];
      for (const key of keys) batchParams[key] = spec.batch === 'by-field' ? fields[key]! : spec.batch[key];
    }
    entities[entity] = { path: e[0], fields: fields as EntityFields<EntityName>, batchParams, filters: spec.filters?.[entity] ?? {} };
  }
  return {
    ...base(spec),
    kind: 'rest',
    auth: { header: spec.auth.header, prefix: spec.auth.prefix ?? '' },
    paging: { ...spec.paging, firstPage: spec.paging.style === 'offset' ? 0 : (spec.paging.firstPage ?? 1) },
    maxBatchSize: spec.maxBatchSize ?? 500,
    values: spec.values,
    entities: entities as RestSourceDialect['entities'],
  };
}

function csv(spec: CsvSpec): CsvSourceDialect {
  checkDomains(spec, 'csv');
  const entities: Record<string, EntityDialect<EntityName>> = {};
  for (const entity of entityNames) {
    const e = spec.entities[entity];
    if (e) entities[entity] = { path: e[0], fields: expandFields(entity, e[1], spec.id) };
  }
  const encoding = spec.encoding ?? 'windows-1252';
  return {
    ...base(spec),
    kind: 'csv',
    auth: spec.auth ? { header: spec.auth.header, prefix: spec.auth.prefix ?? '' } : null,
    encoding,
    // Every UTF-8 export of these cities comes from Excel, which writes a BOM.
    bom: encoding === 'utf-8',
    delimiter: spec.delimiter ?? ';',
    lineEnding: spec.lineEnding ?? '\r\n',
    quoteAll: spec.quoteAll ?? false,
    contentType: spec.contentType ?? `text/csv; charset=${encoding}`,
    entities: entities as CsvSourceDialect['entities'],
  };
}

const ALL: Domain[] = ['people', 'services', 'housing'];
const EA_2_3: Edition[] = ['LGNET_EA', 'LGNET2', 'LGNET3'];

// ---------------------------------------------------------------------------
// The 24 cities, by ISTAT code.

export const dialects: readonly CityDialect[] = [
  {
    code: '001272', slug: 'torino', name: 'Torino', altNames: [], region: 'Piemonte', province: 'TO',
    editions: EA_2_3, operatingBody: null,
    sources: [
      rest({
        id: 'main', domains: ALL, basePath: '/api/v2', dateFormat: 'yyyy-mm-dd',
        auth: { header: 'X-API-Key' },
        paging: { style: 'page', startParam: 'page', sizeParam: 'size', firstPage: 1, maxPageSize: 1000, defaultPageSize: 20, itemsPath: 'data', totalPath: 'meta.total' },
        batch: { localId: 'ids', beneficiaryId: 'id_assistito' },
        filters: {
          beneficiaries: {
            'intake.date': { from: 'presa_in_carico_dal', to: 'presa_in_carico_al' },
            'intake.channel': 'canale_accesso',
            'intake.status': 'stato_presa_in_carico',
          },
          civicProjects: { signedOn: { from: 'sottoscritto_dal', to: 'sottoscritto_al' } },
          placements: { from: { from: 'ingresso_dal', to: 'ingresso_al' } },
        },
        values: { ids: 'string', numbers: 'number', vulnerabilities: 'array', absent: 'null' },
        vocabularies: {
          sex: sex.mf, permitType: permit.codes, intakeChannel: channel.codes, intakeStatus: status.codes,
          vulnerability: vulnerability.codes, serviceCategory: category.codes, housingKind: housing.codes, civicProjectStatus: civic.codes,
        },
        quirks: { extraFields: { ultimo_aggiornamento: '2025-12-31T23:00:00Z' } },
        entities: {
          beneficiaries: ['/assistiti', ['id', 'codice_fiscale', 'nome', 'cognome', 'sesso', 'data_nascita', 'cittadinanza', 'tipo_permesso', 'vulnerabilita', 'data_presa_in_carico', 'canale_accesso', 'stato_presa_in_carico']],
          services: ['/servizi', ['id', 'denominazione', 'categoria']],
          enrollments: ['/iscrizioni', ['id', 'id_assistito', 'id_servizio', 'data_inizio', 'data_fine']],
          civicProjects: ['/progetti-impegno-civico', ['id', 'id_assistito', 'stato', 'data_sottoscrizione']],
          housingResources: ['/risorse-abitative', ['id', 'denominazione', 'tipologia', 'posti', 'posti_occupati']],
          placements: ['/inserimenti-abitativi', ['id', 'id_assistito', 'id_risorsa', 'data_ingresso', 'data_uscita']],
        },
      }),
    ],
  },
  {
    code: '007003', slug: 'aosta', name: 'Aosta', altNames: [], region: "Valle d'Aosta/Vallée d'Aoste", province: 'AO',
    editions: ['LGNET3'], operatingBody: null,
    sources: [
      csv({
        id: 'main', domains: ALL, basePath: '/export', dateFormat: 'dd/mm/yyyy', listSeparator: ',',
        auth: { header: 'X-API-Key' },
        citizenship: citizenship.italianNames,
        vocabularies: {
          sex: sex.mf, permitType: permit.words, intakeChannel: channel.words, intakeStatus: status.words,
          vulnerability: vulnerability.words, serviceCategory: category.words, housingKind: housing.words, civicProjectStatus: civic.words,
        },
        quirks: { extraFields: { Operatore: '' } },
        entities: {
          beneficiaries: ['/utenti.csv', ['IdUtente', 'CodiceFiscale', 'Nome', 'Cognome', 'Sesso', 'DataNascita', 'Cittadinanza', 'TipoPermesso', 'Vulnerabilita', 'DataPresaCarico', 'CanaleAccesso', 'StatoPresaCarico']],
          services: ['/servizi.csv', ['IdServizio', 'Servizio', 'Categoria']],
          enrollments: ['/iscrizioni.csv', ['IdIscrizione', 'IdUtente', 'IdServizio', 'DataInizio', 'DataFine']],
          civicProjects: ['/progetti_civici.csv', ['IdProgetto', 'IdUtente', 'Stato', 'DataFirma']],
          housingResources: ['/alloggi.csv', ['IdAlloggio', 'Alloggio', 'Tipologia', 'Posti', 'Occupati']],
          placements: ['/inserimenti.csv', ['IdInserimento', 'IdUtente', 'IdAlloggio', 'DataIngresso', 'DataUscita']],
        },
      }),
    ],
  },
  {
    code: '010025', slug: 'genova', name: 'Genova', altNames: [], region: 'Liguria', province: 'GE',
    editions: EA_2_3, operatingBody: 'ANCI Liguria',
    sources: [
      rest({
        id: 'main', domains: ALL, basePath: '/anciliguria/lgnet/api', dateFormat: 'dd/mm/yyyy', listSeparator: ';',
        citizenship: citizenship.italianUpper,
        auth: { header: 'X-ANCI-Key' },
        paging: { style: 'page', startParam: 'page', sizeParam: 'pageSize', firstPage: 1, maxPageSize: 1000, defaultPageSize: 50, itemsPath: 'payload.list', totalPath: 'payload.count' },
        batch: { localId: 'id', beneficiaryId: 'idbeneficiario' },
        values: { ids: 'string', numbers: 'string', vulnerabilities: 'joined', absent: 'empty' },
        vocabularies: {
          sex: sex.words, permitType: permit.snake, intakeChannel: channel.letters, intakeStatus: status.codes,
          vulnerability: vulnerability.snake, serviceCategory: category.snake, housingKind: housing.codes, civicProjectStatus: civic.codes,
        },
        entities: {
          beneficiaries: ['/beneficiari', ['id', 'codicefiscale', 'nome', 'cognome', 'sesso', 'datanascita', 'cittadinanza', 'permesso', 'vulnerabilita', 'dataaccesso', 'canaleaccesso', 'statoaccesso']],
          services: ['/servizi', ['id', 'nome', 'categoria']],
          enrollments: ['/iscrizioni', ['id', 'idbeneficiario', 'idservizio', 'datainizio', 'datafine']],
          civicProjects: ['/progetti', ['id', 'idbeneficiario', 'stato', 'datafirma']],
          housingResources: ['/alloggi', ['id', 'nome', 'tipologia', 'posti', 'occupati']],
          placements: ['/inserimenti', ['id', 'idbeneficiario', 'idalloggio', 'datainizio', 'datafine']],
        },
      }),
    ],
  },
  {
    code: '015146', slug: 'milano', name: 'Milano', altNames: [], region: 'Lombardia', province: 'MI',
    editions: EA_2_3, operatingBody: null,
    sources: [
      // A Spring Data service: zero-based pages, `content` and `totalElements`, Spring's default cap of 2000.
      rest({
        id: 'main', domains: ALL, basePath: '/sociale/api', dateFormat: 'yyyy-mm-dd',
        citizenship: citizenship.alpha3,
        auth: { header: 'Authorization', prefix: 'Bearer ' },
        paging: { style: 'page', startParam: 'page', sizeParam: 'size', firstPage: 0, maxPageSize: 2000, defaultPageSize: 20, itemsPath: 'content', totalPath: 'totalElements' },
        batch: { localId: 'id', beneficiaryId: 'idAssistito' },
        // Spring Data's derived queries: `...Da`/`...A` for a range, a list for `in`.
        filters: {
          beneficiaries: {
            'intake.date': { from: 'dataPresaInCaricoDa', to: 'dataPresaInCaricoA' },
            'intake.channel': 'canaleAccesso',
          },
          civicProjects: { signedOn: { from: 'dataFirmaDa', to: 'dataFirmaA' }, status: 'statoProgetto' },
        },
        values: { ids: 'number', numbers: 'number', vulnerabilities: 'array', absent: 'omit' },
        vocabularies: {
          sex: sex.words, permitType: permit.words, intakeChannel: channel.words, intakeStatus: status.words,
          vulnerability: vulnerability.words, serviceCategory: category.words, housingKind: housing.words, civicProjectStatus: civic.words,
        },
        entities: {
          beneficiaries: ['/assistiti', ['idAssistito', 'codiceFiscale', 'nome', 'cognome', 'sesso', 'dataNascita', 'cittadinanza', 'tipoPermesso', 'vulnerabilita', 'dataPresaInCarico', 'canaleAccesso', 'statoPresaInCarico']],
          services: ['/servizi', ['idServizio', 'nomeServizio', 'categoriaServizio']],
          enrollments: ['/iscrizioni', ['idIscrizione', 'idAssistito', 'idServizio', 'dataInizio', 'dataFine']],
          civicProjects: ['/progetti-civici', ['idProgetto', 'idAssistito', 'statoProgetto', 'dataFirma']],
          housingResources: ['/alloggi', ['idAlloggio', 'nomeAlloggio', 'tipoAlloggio', 'postiTotali', 'postiOccupati']],
          placements: ['/ospitalita', ['idOspitalita', 'idAssistito', 'idAlloggio', 'dataIngresso', 'dataUscita']],
        },
      }),
    ],
  },
  {
    code: '021008', slug: 'bolzano', name: 'Bolzano', altNames: ['Bozen'], region: 'Trentino-Alto Adige/Südtirol', province: 'BZ',
    editions: ['LGNET_EA', 'LGNET2'], operatingBody: 'Azienda Servizi Sociali di Bolzano (ASSB)',
    sources: [
      // The ASSB's system is bilingual and keeps German names and codes.
      rest({
        id: 'main', domains: ALL, basePath: '/assb/rest', dateFormat: 'dd.mm.yyyy', listSeparator: ';',
        citizenship: citizenship.alpha3,
        auth: { header: 'X-Gravitee-Api-Key' },
        paging: { style: 'offset', startParam: 'start', sizeParam: 'anzahl', maxPageSize: 1000, defaultPageSize: 25, itemsPath: 'eintraege', totalPath: 'gesamt' },
        batch: { localId: 'ids', beneficiaryId: 'klient' },
        values: { ids: 'string', numbers: 'number', vulnerabilities: 'joined', absent: 'null' },
        // Both languages' codes: records written by Italian- and German-speaking staff sit side by side.
        vocabularies: {
          sex: { ...sex.german, ...sex.words }, permitType: { ...permit.german, ...permit.words },
          intakeChannel: { ...channel.german, ...channel.words }, intakeStatus: { ...status.german, ...status.words },
          vulnerability: { ...vulnerability.german, ...vulnerability.words }, serviceCategory: { ...category.german, ...category.words },
          housingKind: { ...housing.german, ...housing.words }, civicProjectStatus: { ...civic.german, ...civic.words },
        },
        quirks: { bilingual: true },
        entities: {
          beneficiaries: ['/klienten', ['KlientID', 'Steuernummer', 'Vorname', 'Nachname', 'Geschlecht', 'Geburtsdatum', 'Staatsangehoerigkeit', 'Aufenthaltstitel', 'Vulnerabilitaeten', 'Aufnahmedatum', 'Aufnahmekanal', 'Status']],
          services: ['/dienste', ['DienstID', 'Bezeichnung', 'Kategorie']],
          enrollments: ['/einschreibungen', ['EinschreibungID', 'KlientID', 'DienstID', 'Beginn', 'Ende']],
          civicProjects: ['/buergerprojekte', ['ProjektID', 'KlientID', 'Projektstatus', 'Unterzeichnet']],
          housingResources: ['/unterkuenfte', ['UnterkunftID', 'Bezeichnung', 'Art', 'Plaetze', 'Belegt']],
          placements: ['/unterbringungen', ['UnterbringungID', 'KlientID', 'UnterkunftID', 'Einzug', 'Auszug']],
        },
      }),
    ],
  },
  {
    code: '027042', slug: 'venezia', name: 'Venezia', altNames: [], region: 'Veneto', province: 'VE',
    editions: ['LGNET3'], operatingBody: null,
    sources: [
      // Filters by any field's own name: ?id_ass=1,2,3.
      rest({
        id: 'main', domains: ALL, basePath: '/ws/sociale/v1', dateFormat: 'dd/mm/yyyy', listSeparator: '|',
        citizenship: citizenship.italianNames,
        auth: { header: 'apikey' },
        paging: { style: 'offset', startParam: 'offset', sizeParam: 'limit', maxPageSize: 1000, defaultPageSize: 10, itemsPath: 'items', totalPath: 'count' },
        batch: 'by-field',
        values: { ids: 'string', numbers: 'string', vulnerabilities: 'joined', absent: 'empty' },
        vocabularies: {
          sex: sex.ud, permitType: permit.snake, intakeChannel: channel.pua, intakeStatus: status.letters,
          vulnerability: vulnerability.snake, serviceCategory: category.snake, housingKind: housing.snake, civicProjectStatus: civic.letters,
        },
        entities: {
          beneficiaries: ['/ass', ['id_ass', 'cod_fisc', 'nome', 'cogn', 'sex', 'dt_nasc', 'citt', 'perm_sogg', 'vuln', 'dt_pic', 'canale', 'stato_pic']],
          services: ['/serv', ['id_serv', 'descr', 'cat']],
          enrollments: ['/iscr', ['id_iscr', 'id_ass', 'id_serv', 'dt_ini', 'dt_fin']],
          civicProjects: ['/pic', ['id_pic', 'id_ass', 'stato', 'dt_firma']],
          housingResources: ['/alloggi', ['id_all', 'descr', 'tipo', 'posti_tot', 'posti_occ']],
          placements: ['/ins', ['id_ins', 'id_ass', 'id_all', 'dt_ini', 'dt_fin']],
        },
      }),
    ],
  },
  {
    code: '032006', slug: 'trieste', name: 'Trieste', altNames: [], region: 'Friuli-Venezia Giulia', province: 'TS',
    editions: EA_2_3, operatingBody: null,
    sources: [
      csv({
        id: 'main', domains: ALL, basePath: '/opendata/lgnet', dateFormat: 'dd.mm.yyyy', listSeparator: '|',
        auth: { header: 'X-API-Key' },
        encoding: 'utf-8', lineEnding: '\n',
        vocabularies: {
          sex: sex.mf, permitType: permit.codes, intakeChannel: channel.pua, intakeStatus: status.codes,
          vulnerability: vulnerability.codes, serviceCategory: category.codes, housingKind: housing.codes, civicProjectStatus: civic.codes,
        },
        entities: {
          beneficiaries: ['/beneficiari.csv', ['id', 'codice_fiscale', 'nome', 'cognome', 'sesso', 'data_nascita', 'cittadinanza', 'permesso_di_soggiorno', 'vulnerabilita', 'data_presa_in_carico', 'canale_di_accesso', 'stato']],
          services: ['/servizi.csv', ['id', 'nome_servizio', 'categoria']],
          enrollments: ['/iscrizioni.csv', ['id', 'id_beneficiario', 'id_servizio', 'data_inizio', 'data_fine']],
          civicProjects: ['/progetti_impegno_civico.csv', ['id', 'id_beneficiario', 'stato', 'data_firma']],
          housingResources: ['/risorse_abitative.csv', ['id', 'nome_risorsa', 'tipologia', 'posti', 'posti_occupati']],
          placements: ['/inserimenti_abitativi.csv', ['id', 'id_beneficiario', 'id_risorsa', 'data_ingresso', 'data_uscita']],
        },
      }),
    ],
  },
  {
    code: '037006', slug: 'bologna', name: 'Bologna', altNames: [], region: 'Emilia-Romagna', province: 'BO',
    editions: EA_2_3, operatingBody: null,
    sources: [
      // Writes sex in the national codes: no sex vocabulary.
      rest({
        id: 'main', domains: ALL, dateFormat: 'yyyy-mm-dd',
        citizenship: citizenship.italianNames,
        auth: { header: 'X-Chiave-Accesso' },
        paging: { style: 'page', startParam: 'pagina', sizeParam: 'dimensione', firstPage: 1, maxPageSize: 1000, defaultPageSize: 25, itemsPath: 'risultati', totalPath: 'totale' },
        batch: { localId: 'id', beneficiaryId: 'persona' },
        values: { ids: 'string', numbers: 'number', vulnerabilities: 'array', absent: 'null' },
        vocabularies: {
          permitType: permit.numbered, intakeChannel: channel.snake, intakeStatus: status.snake,
          vulnerability: vulnerability.words, serviceCategory: category.words, housingKind: housing.words, civicProjectStatus: civic.words,
        },
        entities: {
          beneficiaries: ['/sociale/persone', ['id', 'cf', 'nome', 'cognome', 'genere', 'data_di_nascita', 'nazionalita', 'permesso_soggiorno', 'fragilita', 'data_accesso', 'modalita_accesso', 'esito']],
          services: ['/sociale/servizi', ['id', 'titolo', 'ambito']],
          enrollments: ['/sociale/frequenze', ['id', 'persona', 'servizio', 'dal', 'al']],
          civicProjects: ['/sociale/patti-civici', ['id', 'persona', 'stato_patto', 'firmato_il']],
          housingResources: ['/sociale/alloggi', ['id', 'nome', 'tipologia', 'capienza', 'occupati']],
          placements: ['/sociale/accoglienze', ['id', 'persona', 'alloggio', 'dal', 'al']],
        },
      }),
    ],
  },
  {
    code: '048017', slug: 'firenze', name: 'Firenze', altNames: [], region: 'Toscana', province: 'FI',
    editions: EA_2_3, operatingBody: null,
    sources: [
      // Behind an Azure API Management gateway, OData-style skip/top.
      rest({
        id: 'main', domains: ALL, basePath: '/odata/v4', dateFormat: 'yyyy-mm-dd',
        citizenship: citizenship.alpha3,
        auth: { header: 'Ocp-Apim-Subscription-Key' },
        paging: { style: 'offset', startParam: '$skip', sizeParam: '$top', maxPageSize: 1000, defaultPageSize: 50, itemsPath: 'value', totalPath: 'count' },
        batch: { localId: 'ids', beneficiaryId: 'beneficiarioId' },
        values: { ids: 'number', numbers: 'number', vulnerabilities: 'array', absent: 'null' },
        vocabularies: {
          sex: sex.mf, permitType: permit.words, intakeChannel: channel.letters, intakeStatus: status.codes,
          vulnerability: vulnerability.numbered, serviceCategory: category.numbered, housingKind: housing.codes, civicProjectStatus: civic.numbered,
        },
        entities: {
          beneficiaries: ['/Beneficiari', ['Id', 'CodiceFiscale', 'Nome', 'Cognome', 'Sesso', 'DataNascita', 'Cittadinanza', 'TipoPermesso', 'Vulnerabilita', 'DataPresaInCarico', 'CanaleAccesso', 'StatoPresaInCarico']],
          services: ['/Servizi', ['Id', 'Denominazione', 'Categoria']],
          enrollments: ['/Iscrizioni', ['Id', 'BeneficiarioId', 'ServizioId', 'DataInizio', 'DataFine']],
          civicProjects: ['/ProgettiCivici', ['Id', 'BeneficiarioId', 'Stato', 'DataSottoscrizione']],
          housingResources: ['/RisorseAbitative', ['Id', 'Denominazione', 'Tipologia', 'Capienza', 'Occupazione']],
          placements: ['/Inserimenti', ['Id', 'BeneficiarioId', 'RisorsaId', 'DataInizio', 'DataFine']],
        },
      }),
    ],
  },
  {
    code: '054039', slug: 'perugia', name: 'Perugia', altNames: [], region: 'Umbria', province: 'PG',
    editions: EA_2_3, operatingBody: null,
    sources: [
      // A fixed-width mainframe extract turned into CSV: every value padded to 24 characters.
      csv({
        id: 'main', domains: ALL, basePath: '/sociale/estrazioni', dateFormat: 'dd/mm/yyyy', listSeparator: ',',
        auth: { header: 'X-Chiave-Export' },
        citizenship: citizenship.italianUpper,
        vocabularies: {
          sex: sex.digits, permitType: permit.numbered, intakeChannel: channel.digits, intakeStatus: status.numbered,
          vulnerability: vulnerability.numbered, serviceCategory: category.numbered, housingKind: housing.codes, civicProjectStatus: civic.numbered,
        },
        quirks: { padTo: 24 },
        entities: {
          beneficiaries: ['/ANAGRAFICA.CSV', ['ID', 'CF', 'NOME', 'COGNOME', 'SESSO', 'DATA_NASCITA', 'NAZIONALITA', 'PERMESSO', 'VULNERABILITA', 'DATA_INGRESSO', 'CANALE', 'STATO']],
          services: ['/SERVIZI.CSV', ['ID', 'DESCRIZIONE', 'CATEGORIA']],
          enrollments: ['/ISCRIZIONI.CSV', ['ID', 'ID_ANAGRAFICA', 'ID_SERVIZIO', 'DATA_INIZIO', 'DATA_FINE']],
          civicProjects: ['/PROGETTI.CSV', ['ID', 'ID_ANAGRAFICA', 'STATO', 'DATA_FIRMA']],
          housingResources: ['/ALLOGGI.CSV', ['ID', 'DESCRIZIONE', 'TIPO', 'POSTI', 'OCCUPATI']],
          placements: ['/INSERIMENTI.CSV', ['ID', 'ID_ANAGRAFICA', 'ID_ALLOGGIO', 'DATA_INIZIO', 'DATA_FINE']],
        },
      }),
    ],
  },
  {
    code: '058091', slug: 'roma', name: 'Roma', altNames: [], region: 'Lazio', province: 'RM',
    editions: EA_2_3, operatingBody: null,
    sources: [
      // A vendor product in English, mostly in the national codes.
      rest({
        id: 'main', domains: ['people', 'services'], basePath: '/api', dateFormat: 'yyyy-mm-dd',
        auth: { header: 'Authorization', prefix: 'Bearer ' },
        paging: { style: 'page', startParam: 'page', sizeParam: 'per_page', firstPage: 1, maxPageSize: 2000, defaultPageSize: 15, itemsPath: 'data', totalPath: 'pagination.total_items' },
        batch: { localId: 'id', beneficiaryId: 'beneficiary_id' },
        filters: {
          beneficiaries: {
            'intake.date': { from: 'intake_date_from', to: 'intake_date_to' },
            'intake.channel': 'intake_channel',
            'intake.status': 'intake_status',
            sex: 'gender',
          },
          civicProjects: { signedOn: { from: 'signed_from', to: 'signed_to' }, status: 'status' },
        },
        values: { ids: 'string', numbers: 'number', vulnerabilities: 'array', absent: 'null' },
        vocabularies: { intakeChannel: channel.english },
        entities: {
          beneficiaries: ['/beneficiaries', ['id', 'fiscal_code', 'first_name', 'last_name', 'gender', 'birth_date', 'nationality', 'permit_type', 'vulnerabilities', 'intake_date', 'intake_channel', 'intake_status']],
          services: ['/services', ['id', 'name', 'category']],
          enrollments: ['/enrollments', ['id', 'beneficiary_id', 'service_id', 'start_date', 'end_date']],
          civicProjects: ['/civic-projects', ['id', 'beneficiary_id', 'status', 'signed_on']],
        },
      }),
      // The housing department's property register: a Solr index (start/rows, response.docs).
      rest({
        id: 'housing', domains: ['housing'], basePath: '/patrimonio/solr', dateFormat: 'yyyymmdd',
        auth: { header: 'X-Auth-Token' },
        paging: { style: 'offset', startParam: 'start', sizeParam: 'rows', maxPageSize: 5000, defaultPageSize: 10, itemsPath: 'response.docs', totalPath: 'response.numFound' },
        batch: { localId: 'codici', beneficiaryId: 'assistiti' },
        values: { ids: 'string', numbers: 'string', vulnerabilities: 'array', absent: 'omit' },
        vocabularies: { housingKind: housing.snake },
        entities: {
          housingResources: ['/alloggi/select', ['codice_alloggio', 'nome_struttura', 'tipologia_alloggio', 'capienza', 'presenze']],
          placements: ['/inserimenti/select', ['codice_inserimento', 'codice_assistito', 'codice_alloggio', 'data_inizio', 'data_fine']],
        },
      }),
    ],
  },
  {
    code: '059011', slug: 'latina', name: 'Latina', altNames: [], region: 'Lazio', province: 'LT',
    editions: EA_2_3, operatingBody: null,
    sources: [
      // Saved from a spreadsheet: headers in plain words, every cell quoted, commas.
      csv({
        id: 'main', domains: ALL, basePath: '/files', dateFormat: 'dd-mm-yyyy', listSeparator: '/',
        auth: { header: 'Authorization', prefix: 'Token ' },
        citizenship: citizenship.italianNames,
        delimiter: ',', quoteAll: true, contentType: 'application/vnd.ms-excel',
        vocabularies: {
          sex: sex.words, permitType: permit.words, intakeChannel: channel.pua, intakeStatus: status.words,
          vulnerability: vulnerability.words, serviceCategory: category.words, housingKind: housing.words, civicProjectStatus: civic.words,
        },
        quirks: { extraFields: { Note: '' } },
        entities: {
          beneficiaries: ['/Beneficiari.csv', ['Codice', 'Codice fiscale', 'Nome', 'Cognome', 'Sesso', 'Data di nascita', 'Cittadinanza', 'Permesso di soggiorno', 'Vulnerabilità', 'Data presa in carico', 'Canale di accesso', 'Stato presa in carico']],
          services: ['/Servizi.csv', ['Codice', 'Servizio', 'Categoria']],
          enrollments: ['/Iscrizioni.csv', ['Codice', 'Codice beneficiario', 'Codice servizio', 'Data inizio', 'Data fine']],
          civicProjects: ['/Progetti.csv', ['Codice', 'Codice beneficiario', 'Stato', 'Data firma']],
          housingResources: ['/Alloggi.csv', ['Codice', 'Alloggio', 'Tipologia', 'Posti', 'Posti occupati']],
          placements: ['/Inserimenti.csv', ['Codice', 'Codice beneficiario', 'Codice alloggio', 'Data ingresso', 'Data uscita']],
        },
      }),
    ],
  },
  {
    code: '061022', slug: 'caserta', name: 'Caserta', altNames: [], region: 'Campania', province: 'CE',
    editions: EA_2_3, operatingBody: null,
    sources: [
      csv({
        id: 'main', domains: ALL, basePath: '/caserta/lgnet', dateFormat: 'yyyymmdd', listSeparator: ',',
        auth: { header: 'X-Export-Token' },
        vocabularies: {
          sex: sex.ud, permitType: permit.snake, intakeChannel: channel.snake, intakeStatus: status.snake,
          vulnerability: vulnerability.snake, serviceCategory: category.snake, housingKind: housing.snake, civicProjectStatus: civic.words,
        },
        entities: {
          beneficiaries: ['/utenti.csv', ['progressivo', 'codfisc', 'nome', 'cognome', 'sesso', 'datanasc', 'cittadinanza', 'permesso', 'vulnerabilita', 'dataingresso', 'provenienza', 'stato']],
          services: ['/servizi.csv', ['progressivo', 'descrizione', 'tipo']],
          enrollments: ['/iscrizioni.csv', ['progressivo', 'utente', 'servizio', 'datainizio', 'datafine']],
          civicProjects: ['/patti.csv', ['progressivo', 'utente', 'stato', 'datafirma']],
          housingResources: ['/alloggi.csv', ['progressivo', 'descrizione', 'tipo', 'posti', 'occupati']],
          placements: ['/ospitalita.csv', ['progressivo', 'utente', 'alloggio', 'datainizio', 'datafine']],
        },
      }),
    ],
  },
  {
    code: '063049', slug: 'napoli', name: 'Napoli', altNames: [], region: 'Campania', province: 'NA',
    editions: EA_2_3, operatingBody: null,
    sources: [
      // An Oracle-backed service: upper-case names and values.
      rest({
        id: 'main', domains: ALL, basePath: '/cartellasociale/api/v1', dateFormat: 'dd-mm-yyyy', listSeparator: ',',
        citizenship: citizenship.italianUpper,
        auth: { header: 'X-Api-Token' },
        paging: { style: 'page', startParam: 'p', sizeParam: 'n', firstPage: 1, maxPageSize: 1000, defaultPageSize: 50, itemsPath: 'elementi', totalPath: 'numeroElementi' },
        batch: { localId: 'ids', beneficiaryId: 'idUtente' },
        // Dates in its own dd-mm-yyyy, codes matched whatever their case.
        filters: {
          beneficiaries: {
            'intake.date': { from: 'dataPresaCaricoDa', to: 'dataPresaCaricoA' },
            'intake.channel': 'canale',
          },
          placements: { from: { from: 'dataIngressoDa', to: 'dataIngressoA' } },
        },
        values: { ids: 'number', numbers: 'string', vulnerabilities: 'joined', absent: 'empty' },
        vocabularies: {
          sex: sex.words, permitType: permit.codes, intakeChannel: channel.words, intakeStatus: status.codes,
          vulnerability: vulnerability.codes, serviceCategory: category.words, housingKind: housing.words, civicProjectStatus: civic.codes,
        },
        quirks: { codesCase: 'upper' },
        entities: {
          beneficiaries: ['/utenti', ['ID_UTENTE', 'CODICE_FISCALE', 'NOME', 'COGNOME', 'SESSO', 'DATA_NASCITA', 'CITTADINANZA', 'TIPO_PERMESSO', 'VULNERABILITA', 'DATA_PRESA_CARICO', 'CANALE', 'STATO']],
          services: ['/servizi', ['ID_SERVIZIO', 'DESCRIZIONE', 'CATEGORIA']],
          enrollments: ['/iscrizioni', ['ID_ISCRIZIONE', 'ID_UTENTE', 'ID_SERVIZIO', 'DATA_INIZIO', 'DATA_FINE']],
          civicProjects: ['/progetti', ['ID_PROGETTO', 'ID_UTENTE', 'STATO_PROGETTO', 'DATA_FIRMA']],
          housingResources: ['/strutture', ['ID_STRUTTURA', 'DESCRIZIONE', 'TIPOLOGIA', 'POSTI', 'POSTI_OCCUPATI']],
          placements: ['/ospiti', ['ID_OSPITE', 'ID_UTENTE', 'ID_STRUTTURA', 'DATA_INGRESSO', 'DATA_USCITA']],
        },
      }),
    ],
  },
  {
    code: '070006', slug: 'campobasso', name: 'Campobasso', altNames: [], region: 'Molise', province: 'CB',
    editions: ['LGNET3'], operatingBody: null,
    sources: [
      csv({
        id: 'main', domains: ALL, basePath: '/campobasso/export', dateFormat: 'dd/mm/yyyy', listSeparator: ',',
        citizenship: citizenship.italianUpper,
        auth: { header: 'X-API-Key' },
        vocabularies: {
          sex: sex.mf, permitType: permit.codes, intakeChannel: channel.codes, intakeStatus: status.letters,
          vulnerability: vulnerability.codes, serviceCategory: category.codes, housingKind: housing.snake, civicProjectStatus: civic.letters,
        },
        quirks: { fiscalCode: 'lower' },
        entities: {
          beneficiaries: ['/assistiti.csv', ['ID_ASS', 'COD_FISC', 'NOME', 'COGNOME', 'SESSO', 'DT_NASCITA', 'CITTADINANZA', 'TIPO_PDS', 'VULNERABILITA', 'DT_PRESA_CARICO', 'CANALE_ACCESSO', 'STATO_PRESA_CARICO']],
          services: ['/servizi.csv', ['ID_SERV', 'DESCR_SERV', 'CAT_SERV']],
          enrollments: ['/iscrizioni.csv', ['ID_ISCR', 'ID_ASS', 'ID_SERV', 'DT_INIZIO', 'DT_FINE']],
          civicProjects: ['/pic.csv', ['ID_PIC', 'ID_ASS', 'STATO_PIC', 'DT_FIRMA']],
          housingResources: ['/alloggi.csv', ['ID_ALL', 'DESCR_ALL', 'TIPO_ALL', 'POSTI_TOT', 'POSTI_OCC']],
          placements: ['/inserimenti.csv', ['ID_INS', 'ID_ASS', 'ID_ALL', 'DT_INGRESSO', 'DT_USCITA']],
        },
      }),
    ],
  },
  {
    code: '072006', slug: 'bari', name: 'Bari', altNames: [], region: 'Puglia', province: 'BA',
    editions: ['LGNET3'], operatingBody: null,
    sources: [
      // Behind an IBM API Connect gateway.
      rest({
        id: 'main', domains: ALL, basePath: '/bari/welfare', dateFormat: 'yyyy-mm-dd',
        auth: { header: 'X-IBM-Client-Id' },
        paging: { style: 'offset', startParam: 'offset', sizeParam: 'limit', maxPageSize: 1000, defaultPageSize: 20, itemsPath: 'records', totalPath: 'totalRecords' },
        batch: { localId: 'codici', beneficiaryId: 'codiceAssistito' },
        values: { ids: 'string', numbers: 'number', vulnerabilities: 'array', absent: 'omit' },
        vocabularies: {
          sex: sex.digits, permitType: permit.snake, intakeChannel: channel.digits, intakeStatus: status.numbered,
          vulnerability: vulnerability.snake, serviceCategory: category.codes, housingKind: housing.snake, civicProjectStatus: civic.words,
        },
        entities: {
          beneficiaries: ['/assistiti', ['codice', 'codFiscale', 'nomeAssistito', 'cognomeAssistito', 'sesso', 'dataDiNascita', 'statoCittadinanza', 'permessoSoggiorno', 'vulnerabilita', 'dataIngresso', 'canaleIngresso', 'statoCaso']],
          services: ['/catalogo-servizi', ['codice', 'nomeServizio', 'tipoServizio']],
          enrollments: ['/partecipazioni', ['codice', 'codiceAssistito', 'codiceServizio', 'dataInizio', 'dataFine']],
          civicProjects: ['/impegno-civico', ['codice', 'codiceAssistito', 'stato', 'dataStipula']],
          housingResources: ['/alloggi', ['codice', 'nomeAlloggio', 'tipoAlloggio', 'postiDisponibili', 'postiOccupati']],
          placements: ['/assegnazioni-alloggio', ['codice', 'codiceAssistito', 'codiceAlloggio', 'dataInizio', 'dataFine']],
        },
      }),
    ],
  },
  {
    code: '073027', slug: 'taranto', name: 'Taranto', altNames: [], region: 'Puglia', province: 'TA',
    editions: EA_2_3, operatingBody: null,
    sources: [
      // Tab-separated text files, with the headers of the printed registers.
      csv({
        id: 'main', domains: ALL, basePath: '/export', dateFormat: 'dd/mm/yyyy', listSeparator: ',',
        auth: { header: 'apikey' },
        citizenship: citizenship.italianNames,
        delimiter: '\t', contentType: 'text/plain; charset=windows-1252',
        vocabularies: {
          sex: sex.mf, permitType: permit.words, intakeChannel: channel.words, intakeStatus: status.letters,
          vulnerability: vulnerability.words, serviceCategory: category.words, housingKind: housing.words, civicProjectStatus: civic.letters,
        },
        entities: {
          beneficiaries: ['/beneficiari.txt', ['N.', 'Cod. Fiscale', 'Nome', 'Cognome', 'M/F', 'Nato il', 'Cittadinanza', 'Permesso', 'Fragilità', 'Presa in carico il', 'Canale', 'Stato']],
          services: ['/servizi.txt', ['N.', 'Servizio', 'Tipologia']],
          enrollments: ['/frequenze.txt', ['N.', 'N. beneficiario', 'N. servizio', 'Dal', 'Al']],
          civicProjects: ['/patti.txt', ['N.', 'N. beneficiario', 'Stato', 'Firmato il']],
          housingResources: ['/alloggi.txt', ['N.', 'Alloggio', 'Tipologia', 'Posti', 'Occupati']],
          placements: ['/inserimenti.txt', ['N.', 'N. beneficiario', 'N. alloggio', 'Dal', 'Al']],
        },
      }),
    ],
  },
  {
    code: '076063', slug: 'potenza', name: 'Potenza', altNames: [], region: 'Basilicata', province: 'PZ',
    editions: EA_2_3, operatingBody: 'Azienda Comunale per la Tutela Ambientale (ACTA)',
    sources: [
      rest({
        id: 'main', domains: ['people', 'services'], basePath: '/potenza/api', dateFormat: 'yyyy-mm-dd', listSeparator: '|',
        auth: { header: 'Authorization', prefix: 'ApiKey ' },
        paging: { style: 'page', startParam: 'pageNumber', sizeParam: 'pageSize', firstPage: 0, maxPageSize: 1000, defaultPageSize: 10, itemsPath: 'result.items', totalPath: 'result.totalCount' },
        batch: { localId: 'idList', beneficiaryId: 'idAnagrafica' },
        values: { ids: 'string', numbers: 'number', vulnerabilities: 'joined', absent: 'null' },
        vocabularies: {
          sex: sex.mf, permitType: permit.codes, intakeChannel: channel.snake, intakeStatus: status.letters,
          vulnerability: vulnerability.numbered, serviceCategory: category.snake, civicProjectStatus: civic.letters,
        },
        entities: {
          beneficiaries: ['/anagrafica', ['idAnagrafica', 'cf', 'nome', 'cognome', 'sesso', 'nascita', 'cittadinanza', 'permesso', 'vulnerabilita', 'presaInCarico', 'canale', 'stato']],
          services: ['/servizi', ['idServizio', 'servizio', 'categoria']],
          enrollments: ['/adesioni', ['idAdesione', 'idAnagrafica', 'idServizio', 'dal', 'al']],
          civicProjects: ['/patti', ['idPatto', 'idAnagrafica', 'stato', 'firma']],
        },
      }),
      // The operating body (ACTA) runs the housing and publishes its own export.
      csv({
        id: 'housing', domains: ['housing'], basePath: '/acta/export', dateFormat: 'dd/mm/yyyy', listSeparator: ',',
        auth: { header: 'X-API-Key' },
        vocabularies: { housingKind: housing.words },
        entities: {
          housingResources: ['/alloggi.csv', ['COD_ALLOGGIO', 'DENOMINAZIONE', 'TIPOLOGIA', 'POSTI_LETTO', 'POSTI_OCCUPATI']],
          placements: ['/inserimenti.csv', ['COD_INSERIMENTO', 'COD_ASSISTITO', 'COD_ALLOGGIO', 'DATA_INGRESSO', 'DATA_DIMISSIONE']],
        },
      }),
    ],
  },
  {
    code: '079023', slug: 'catanzaro', name: 'Catanzaro', altNames: [], region: 'Calabria', province: 'CZ',
    editions: ['LGNET3'], operatingBody: null,
    sources: [
      // Writes every code, citizenship included, in lower case.
      csv({
        id: 'main', domains: ALL, basePath: '/catanzaro/dati', dateFormat: 'dd/mm/yyyy', listSeparator: ',',
        auth: { header: 'Authorization', prefix: 'Basic ' },
        vocabularies: {
          sex: sex.mf, permitType: permit.codes, intakeChannel: channel.letters, intakeStatus: status.codes,
          vulnerability: vulnerability.codes, serviceCategory: category.codes, housingKind: housing.codes, civicProjectStatus: civic.codes,
        },
        quirks: { codesCase: 'lower' },
        entities: {
          beneficiaries: ['/utenti.csv', ['id', 'cod_fiscale', 'nome', 'cognome', 'sesso', 'data_nascita', 'cittadinanza', 'tipologia_permesso', 'vulnerabilita', 'data_ingresso', 'canale_ingresso', 'stato_utente']],
          services: ['/servizi.csv', ['id', 'servizio', 'categoria']],
          enrollments: ['/iscrizioni.csv', ['id', 'id_utente', 'id_servizio', 'data_inizio', 'data_fine']],
          civicProjects: ['/impegno_civico.csv', ['id', 'id_utente', 'stato', 'data_firma']],
          housingResources: ['/alloggi.csv', ['id', 'alloggio', 'tipologia', 'posti', 'occupati']],
          placements: ['/inserimenti.csv', ['id', 'id_utente', 'id_alloggio', 'data_inizio', 'data_fine']],
        },
      }),
    ],
  },
  {
    code: '082053', slug: 'palermo', name: 'Palermo', altNames: [], region: 'Sicilia', province: 'PA',
    editions: EA_2_3, operatingBody: null,
    sources: [
      rest({
        id: 'main', domains: ALL, basePath: '/servizisociali/api', dateFormat: 'dd/mm/yyyy', listSeparator: ',',
        citizenship: citizenship.italianNames,
        auth: { header: 'X-Access-Key' },
        paging: { style: 'page', startParam: 'page', sizeParam: 'limit', firstPage: 1, maxPageSize: 1000, defaultPageSize: 30, itemsPath: 'rows', totalPath: 'total' },
        batch: { localId: 'id', beneficiaryId: 'id_persona' },
        values: { ids: 'number', numbers: 'number', vulnerabilities: 'joined', absent: 'null' },
        vocabularies: {
          sex: sex.adjectives, permitType: permit.words, intakeChannel: channel.pua, intakeStatus: status.words,
          vulnerability: vulnerability.words, serviceCategory: category.codes, housingKind: housing.codes, civicProjectStatus: civic.words,
        },
        entities: {
          beneficiaries: ['/persone', ['id_persona', 'c_fiscale', 'nome', 'cognome', 'sesso', 'nato_il', 'cittadinanza', 'titolo_soggiorno', 'fragilita', 'data_accoglienza', 'canale_accoglienza', 'stato_accoglienza']],
          services: ['/servizi', ['id_servizio', 'nome_servizio', 'area']],
          enrollments: ['/frequenze', ['id_frequenza', 'id_persona', 'id_servizio', 'inizio', 'fine']],
          civicProjects: ['/patti-civici', ['id_patto', 'id_persona', 'stato_patto', 'data_patto']],
          housingResources: ['/posti-letto', ['id_struttura', 'struttura', 'tipo_struttura', 'posti', 'occupati']],
          placements: ['/accoglienze', ['id_accoglienza', 'id_persona', 'id_struttura', 'ingresso', 'uscita']],
        },
      }),
    ],
  },
  {
    code: '084001', slug: 'agrigento', name: 'Agrigento', altNames: [], region: 'Sicilia', province: 'AG',
    editions: ['LGNET_EA'], operatingBody: null,
    sources: [
      csv({
        id: 'main', domains: ALL, basePath: '/agrigento/export', dateFormat: 'dd/mm/yyyy', listSeparator: ',',
        auth: { header: 'X-Auth-Key' },
        citizenship: citizenship.italianNames,
        vocabularies: {
          sex: sex.adjectives, permitType: permit.words, intakeChannel: channel.words, intakeStatus: status.letters,
          vulnerability: vulnerability.words, serviceCategory: category.codes, housingKind: housing.words, civicProjectStatus: civic.words,
        },
        entities: {
          beneficiaries: ['/Anagrafe.csv', ['Matricola', 'CodFiscale', 'Nome', 'Cognome', 'Sesso', 'DataNascita', 'Nazione', 'Permesso', 'Vulnerabilita', 'DataIngresso', 'Canale', 'Stato']],
          services: ['/Servizi.csv', ['Matricola', 'Descrizione', 'Categoria']],
          enrollments: ['/Iscrizioni.csv', ['Matricola', 'MatricolaUtente', 'MatricolaServizio', 'Inizio', 'Fine']],
          civicProjects: ['/Patti.csv', ['Matricola', 'MatricolaUtente', 'Stato', 'DataFirma']],
          housingResources: ['/Alloggi.csv', ['Matricola', 'Descrizione', 'Tipologia', 'Posti', 'Occupati']],
          placements: ['/Inserimenti.csv', ['Matricola', 'MatricolaUtente', 'MatricolaAlloggio', 'Inizio', 'Fine']],
        },
      }),
    ],
  },
  {
    code: '087015', slug: 'catania', name: 'Catania', altNames: [], region: 'Sicilia', province: 'CT',
    editions: ['LGNET_EA'], operatingBody: null,
    sources: [
      // Open-data style: UTF-8 with BOM, commas, vulnerabilities split by semicolons.
      csv({
        id: 'main', domains: ALL, basePath: '/catania/opendata', dateFormat: 'yyyy-mm-dd', listSeparator: ';',
        auth: { header: 'Authorization', prefix: 'Bearer ' },
        citizenship: citizenship.alpha3,
        encoding: 'utf-8', delimiter: ',', lineEnding: '\n',
        vocabularies: {
          sex: sex.mf, permitType: permit.snake, intakeChannel: channel.snake, intakeStatus: status.snake,
          vulnerability: vulnerability.snake, serviceCategory: category.snake, housingKind: housing.snake, civicProjectStatus: civic.codes,
        },
        entities: {
          beneficiaries: ['/utenti.csv', ['id_utente', 'codice_fiscale_utente', 'nome_utente', 'cognome_utente', 'sesso_utente', 'data_nascita_utente', 'cittadinanza_utente', 'permesso_utente', 'vulnerabilita_utente', 'data_presa_carico', 'canale_presa_carico', 'stato_presa_carico']],
          services: ['/servizi.csv', ['id_servizio', 'nome_servizio', 'categoria_servizio']],
          enrollments: ['/iscrizioni.csv', ['id_iscrizione', 'id_utente', 'id_servizio', 'data_inizio_iscrizione', 'data_fine_iscrizione']],
          civicProjects: ['/progetti.csv', ['id_progetto', 'id_utente', 'stato_progetto', 'data_firma_progetto']],
          housingResources: ['/alloggi.csv', ['id_alloggio', 'nome_alloggio', 'tipologia_alloggio', 'posti_alloggio', 'posti_occupati_alloggio']],
          placements: ['/inserimenti.csv', ['id_inserimento', 'id_utente', 'id_alloggio', 'data_ingresso', 'data_uscita']],
        },
      }),
    ],
  },
  {
    code: '090064', slug: 'sassari', name: 'Sassari', altNames: [], region: 'Sardegna', province: 'SS',
    editions: EA_2_3, operatingBody: null,
    sources: [
      // Elasticsearch-style from/size paging (up to its 10,000 window); fiscal codes written in groups.
      rest({
        id: 'main', domains: ALL, basePath: '/sassari/sociale/api', dateFormat: 'yyyy-mm-dd',
        auth: { header: 'Authorization', prefix: 'Token ' },
        paging: { style: 'offset', startParam: 'from', sizeParam: 'size', maxPageSize: 10000, defaultPageSize: 10, itemsPath: 'hits', totalPath: 'total' },
        batch: { localId: 'uid', beneficiaryId: 'beneficiario' },
        noBatch: ['services'],
        values: { ids: 'string', numbers: 'number', vulnerabilities: 'array', absent: 'null' },
        vocabularies: {
          sex: sex.mf, permitType: permit.numbered, intakeChannel: channel.codes, intakeStatus: status.snake,
          vulnerability: vulnerability.codes, serviceCategory: category.words, housingKind: housing.words, civicProjectStatus: civic.numbered,
        },
        quirks: { fiscalCode: 'spaced' },
        entities: {
          beneficiaries: ['/beneficiari', ['uid', 'codiceFiscale', 'nome', 'cognome', 'sesso', 'dataNascita', 'paeseCittadinanza', 'permesso', 'vulnerabilita', 'dataPresaInCarico', 'canale', 'statoPresa']],
          services: ['/servizi', ['uid', 'nome', 'categoria']],
          enrollments: ['/iscrizioni', ['uid', 'beneficiario', 'servizio', 'inizio', 'fine']],
          civicProjects: ['/progetti-civici', ['uid', 'beneficiario', 'stato', 'firmatoIl']],
          housingResources: ['/alloggi', ['uid', 'nome', 'tipo', 'capienza', 'occupazione']],
          placements: ['/inserimenti', ['uid', 'beneficiario', 'alloggio', 'inizio', 'fine']],
        },
      }),
    ],
  },
  {
    code: '092009', slug: 'cagliari', name: 'Cagliari', altNames: [], region: 'Sardegna', province: 'CA',
    editions: ['LGNET3'], operatingBody: null,
    sources: [
      csv({
        id: 'main', domains: ALL, basePath: '/cagliari/export', dateFormat: 'dd/mm/yyyy', listSeparator: '|',
        auth: { header: 'Authorization', prefix: 'Bearer ' },
        encoding: 'utf-8',
        vocabularies: {
          sex: sex.words, permitType: permit.words, intakeChannel: channel.words, intakeStatus: status.codes,
          vulnerability: vulnerability.words, serviceCategory: category.codes, housingKind: housing.words, civicProjectStatus: civic.words,
        },
        entities: {
          beneficiaries: ['/beneficiari.csv', ['IDBeneficiario', 'CodiceFiscale', 'Nome', 'Cognome', 'Genere', 'DataNascita', 'Cittadinanza', 'Permesso', 'Vulnerabilita', 'DataAccesso', 'Canale', 'Stato']],
          services: ['/servizi.csv', ['IDServizio', 'NomeServizio', 'Categoria']],
          enrollments: ['/iscrizioni.csv', ['IDIscrizione', 'IDBeneficiario', 'IDServizio', 'DataInizio', 'DataFine']],
          civicProjects: ['/progetti.csv', ['IDProgetto', 'IDBeneficiario', 'Stato', 'DataFirma']],
          housingResources: ['/alloggi.csv', ['IDAlloggio', 'NomeAlloggio', 'Tipologia', 'Posti', 'Occupati']],
          placements: ['/inserimenti.csv', ['IDInserimento', 'IDBeneficiario', 'IDAlloggio', 'DataIngresso', 'DataUscita']],
        },
      }),
    ],
  },
];

const byCode = new Map(dialects.map((d) => [d.code, d]));

/** The dialect of a city; throws for a city the sandbox does not know. */
export function dialectOf(code: string): CityDialect {
  const d = byCode.get(code);
  if (!d) throw new Error(`no dialect for city ${code}`);
  return d;
}
