/**
 * The national code lists. Every city maps its own vocabulary onto these
 * values (see the `vocabularies` of a city's config); the GraphQL enums of the
 * subgraphs carry exactly the same values, and a test keeps the two in step.
 *
 * Each list is a zod enum, so the one declaration gives both the TypeScript
 * type and the runtime check.
 */
import countries from 'i18n-iso-countries';
import { z } from 'zod';

/** Sex as recorded on the residence permit. */
export const Sex = z.enum(['FEMALE', 'MALE']);
export type Sex = z.infer<typeof Sex>;

/** Kind of residence permit (permesso di soggiorno) held at intake. */
export const PermitType = z.enum([
  'ASYLUM_SEEKER', // richiesta asilo
  'REFUGEE_STATUS', // protezione internazionale: status di rifugiato
  'SUBSIDIARY_PROTECTION', // protezione sussidiaria
  'SPECIAL_PROTECTION', // protezione speciale
  'TEMPORARY_PROTECTION', // protezione temporanea
  'WORK', // lavoro
  'FAMILY', // motivi familiari
  'STUDY', // studio
  'LONG_TERM_RESIDENT', // soggiornante di lungo periodo
  'MEDICAL_CARE', // cure mediche
  'OTHER',
]);
export type PermitType = z.infer<typeof PermitType>;

/** How a person was taken in charge (presa in carico). */
export const IntakeChannel = z.enum([
  'ONE_STOP_SHOP', // sportello unico / punto unico di accesso
  'MOBILE_UNIT', // unità mobile
  'REFERRAL', // invio da altri servizi o enti
]);
export type IntakeChannel = z.infer<typeof IntakeChannel>;

/** Where a person's case stands. */
export const IntakeStatus = z.enum([
  'ACTIVE', // in carico
  'CLOSED_AUTONOMY', // dimesso: autonomia raggiunta
  'TRANSFERRED', // trasferito ad altro servizio o città
  'DROPPED_OUT', // interruzione / abbandono
]);
export type IntakeStatus = z.infer<typeof IntakeStatus>;

/** Vulnerabilities recorded at intake (a person may have several). */
export const Vulnerability = z.enum([
  'PHYSICAL_HEALTH', // fragilità sanitaria
  'MENTAL_HEALTH', // disagio psichico
  'HOMELESSNESS', // senza dimora / emergenza abitativa
  'GENDER_VIOLENCE', // vittima di violenza di genere
  'TRAFFICKING', // vittima di tratta
  'SINGLE_PARENT', // nucleo monogenitoriale
  'DISABILITY', // disabilità
  'PREGNANCY', // gravidanza
]);
export type Vulnerability = z.infer<typeof Vulnerability>;

/** Category of a service in a city's catalogue. */
export const ServiceCategory = z.enum([
  'ONE_STOP_SHOP', // sportello unico
  'MOBILE_UNIT', // unità mobile
  'WORKSHOP', // laboratorio
  'LANGUAGE_COURSE', // corso di italiano
  'CIVIC_ENGAGEMENT', // progetto di impegno civico
  'CIVIC_ORIENTATION', // orientamento civico
  'JOB_GUIDANCE', // orientamento al lavoro
  'MEETING_SPACE', // spazio di incontro (es. Safe Space)
  'PSYCHOSOCIAL_SUPPORT', // supporto psicosociale
  'LEGAL_ADVICE', // consulenza legale
]);
export type ServiceCategory = z.infer<typeof ServiceCategory>;

/** Kind of housing resource (inclusione abitativa). */
export const HousingKind = z.enum([
  'PROTECTED_SHELTER', // rifugio protetto
  'SOLIDARITY_COHOUSING', // co-abitazione solidale
  'SEMI_AUTONOMY_FLAT', // appartamento di semi-autonomia
  'RENT_SUPPORT', // sostegno all'affitto
]);
export type HousingKind = z.infer<typeof HousingKind>;

/** Status of an individual civic-engagement project (progetto individuale di impegno civico). */
export const CivicProjectStatus = z.enum([
  'DRAFT', // in preparazione
  'SIGNED', // sottoscritto
  'COMPLETED', // concluso
  'WITHDRAWN', // interrotto
]);
export type CivicProjectStatus = z.infer<typeof CivicProjectStatus>;

/** The programme's editions. */
export const Edition = z.enum(['LGNET_EA', 'LGNET2', 'LGNET3']);
export type Edition = z.infer<typeof Edition>;

/** The data domains, one subgraph each (the registry has no city data). */
export const Domain = z.enum(['people', 'services', 'housing']);
export type Domain = z.infer<typeof Domain>;

/** Why a record a city sent was not taken into the graph. */
export const RejectReason = z.enum([
  'MISSING_FIELD', // a required field is empty or absent
  'INVALID_DATE', // not a date in the city's declared format, or an impossible one
  'UNKNOWN_CODE', // a value the city's vocabulary mapping does not know
  'INVALID_FISCAL_CODE', // malformed codice fiscale, or wrong check character
  'INVALID_VALUE', // any other value out of range (a negative capacity, an end before a start)
  'MALFORMED_ROW', // the source's row could not be read as a record (e.g. wrong number of CSV cells)
  'PARENT_REJECTED', // a placement, enrolment or civic project of a beneficiary whose own record was rejected
  'DUPLICATE_RECORD', // a record whose localId an earlier record of the same read already had: the first one is kept
]);
export type RejectReason = z.infer<typeof RejectReason>;

/** The code lists a city maps its vocabulary onto, by the name used in city configs. */
export const vocabularyTargets = {
  sex: Sex,
  permitType: PermitType,
  intakeChannel: IntakeChannel,
  intakeStatus: IntakeStatus,
  vulnerability: Vulnerability,
  serviceCategory: ServiceCategory,
  housingKind: HousingKind,
  civicProjectStatus: CivicProjectStatus,
} as const;
export type VocabularyName = keyof typeof vocabularyTargets;

/**
 * Citizenship is an ISO 3166-1 alpha-2 code (checked against the maintained
 * i18n-iso-countries list, Kosovo's XK included), or `XX` for a stateless
 * person (apolide). EU/EEA/Swiss citizens are outside the programme.
 */
export const STATELESS = 'XX';
const EU_EEA_CH = new Set(
  'AT BE BG HR CY CZ DK EE FI FR DE GR IE IT LV LT LU MT NL PL PT RO SK SI ES SE IS LI NO CH'.split(' '),
);

/** An officially assigned ISO 3166-1 alpha-2 code (and XK). */
export function isIsoCountry(code: string): boolean {
  return /^[A-Z]{2}$/.test(code) && countries.isValid(code);
}

export function isEuEeaSwiss(code: string): boolean {
  return EU_EEA_CH.has(code);
}

/** A citizenship the programme serves: a non-EU/EEA/Swiss country, or stateless. */
export function isThirdCountry(code: string): boolean {
  return code === STATELESS || (isIsoCountry(code) && !isEuEeaSwiss(code));
}
