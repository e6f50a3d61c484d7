/**
 * Canonical records: what every city's data becomes once mapped. These zod
 * schemas are the one source of the TypeScript types and of the runtime
 * validation that decides whether a record a city sent enters the graph.
 *
 * Ids are the city's own (`localId`); the graph's ids are `<city>:<localId>`
 * (see `globalId`), so two cities may use the same local id.
 */
import { z } from 'zod';
import {
  CivicProjectStatus,
  HousingKind,
  IntakeChannel,
  IntakeStatus,
  PermitType,
  ServiceCategory,
  Sex,
  Vulnerability,
  isThirdCountry,
} from './code-lists.ts';
import { isValidFiscalCode } from './fiscal-code.ts';

/** ISTAT municipality code: six digits, e.g. 090064 for Sassari. */
export const CityCode = z.string().regex(/^\d{6}$/, 'an ISTAT code is six digits');
export type CityCode = z.infer<typeof CityCode>;

/** A calendar date as ISO 8601 `YYYY-MM-DD`, checked to exist. */
export const IsoDate = z.iso.date();

const LocalId = z.string().min(1).max(64);

export const Intake = z.object({
  date: IsoDate,
  channel: IntakeChannel,
  status: IntakeStatus,
});
export type Intake = z.infer<typeof Intake>;

export const Beneficiary = z.object({
  localId: LocalId,
  city: CityCode,
  /** Keyed hash (HMAC-SHA256) of the normalised fiscal code: the same person in two cities has the same key. */
  personKey: z.string().min(16),
  fiscalCode: z.string().refine(isValidFiscalCode, 'not a valid fiscal code'),
  givenName: z.string().min(1),
  familyName: z.string().min(1),
  sex: Sex,
  birthDate: IsoDate,
  citizenship: z.string().refine(isThirdCountry, 'not a third-country ISO 3166-1 alpha-2 code'),
  permitType: PermitType,
  vulnerabilities: z.array(Vulnerability),
  intake: Intake,
});
export type Beneficiary = z.infer<typeof Beneficiary>;

export const Service = z.object({
  localId: LocalId,
  city: CityCode,
  name: z.string().min(1),
  category: ServiceCategory,
});
export type Service = z.infer<typeof Service>;

export const Enrollment = z.object({
  localId: LocalId,
  city: CityCode,
  beneficiaryId: LocalId,
  serviceId: LocalId,
  from: IsoDate,
  to: IsoDate.nullable(),
});
export type Enrollment = z.infer<typeof Enrollment>;

export const CivicProject = z.object({
  localId: LocalId,
  city: CityCode,
  beneficiaryId: LocalId,
  status: CivicProjectStatus,
  /** Date the agreement was signed; null while a draft. */
  signedOn: IsoDate.nullable(),
});
export type CivicProject = z.infer<typeof CivicProject>;

export const HousingResource = z.object({
  localId: LocalId,
  city: CityCode,
  name: z.string().min(1),
  kind: HousingKind,
  /** Places (posti) the resource offers. */
  capacity: z.number().int().nonnegative(),
  /** Places occupied today, as the city reports it. */
  occupancy: z.number().int().nonnegative(),
});
export type HousingResource = z.infer<typeof HousingResource>;

export const Placement = z.object({
  localId: LocalId,
  city: CityCode,
  beneficiaryId: LocalId,
  resourceId: LocalId,
  from: IsoDate,
  to: IsoDate.nullable(),
});
export type Placement = z.infer<typeof Placement>;

/** The entities a city can send, by the name used in configs and quality reports. */
export const entitySchemas = {
  beneficiaries: Beneficiary,
  services: Service,
  enrollments: Enrollment,
  civicProjects: CivicProject,
  housingResources: HousingResource,
  placements: Placement,
} as const;
export type EntityName = keyof typeof entitySchemas;
export type EntityRecord<E extends EntityName> = z.infer<(typeof entitySchemas)[E]>;
export const entityNames = Object.keys(entitySchemas) as EntityName[];

/** Which domain (subgraph) owns each entity. */
export const entityDomain = {
  beneficiaries: 'people',
  services: 'services',
  enrollments: 'services',
  civicProjects: 'services',
  housingResources: 'housing',
  placements: 'housing',
} as const satisfies Record<EntityName, 'people' | 'services' | 'housing'>;

/** The graph-wide id of a city record. */
export function globalId(city: string, localId: string): string {
  return `${city}:${localId}`;
}

/** Splits a graph-wide id; null when it is not one. */
export function parseGlobalId(id: string): { city: string; localId: string } | null {
  const m = /^(\d{6}):(.+)$/.exec(id);
  return m ? { city: m[1]!, localId: m[2]! } : null;
}
