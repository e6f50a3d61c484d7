/**
 * The synthetic population, in national terms, before each city's stand-in
 * renders it in its own dialect. Records are canonical records without the
 * fields the adapters compute (`personKey`).
 */
import type {
  Beneficiary,
  CivicProject,
  Enrollment,
  HousingResource,
  Placement,
  Service,
} from '../schema/records.ts';

export type SyntheticBeneficiary = Omit<Beneficiary, 'personKey'>;

export interface CityPopulation {
  city: string;
  beneficiaries: SyntheticBeneficiary[];
  services: Service[];
  enrollments: Enrollment[];
  civicProjects: CivicProject[];
  housingResources: HousingResource[];
  placements: Placement[];
}

export interface PopulationOptions {
  /** Seed of the generator: the same seed and scale give the same population, byte for byte. */
  seed: number;
  /** Multiplies the number of people (and of housing places); 1 is sized like LGNet3. */
  scale: number;
}

export type Population = ReadonlyMap<string, CityPopulation>;

/** A stretch of days, ISO `yyyy-mm-dd`, both included. */
export interface ActivePeriod {
  from: string;
  to: string;
}

/** A city the generator fills, and how much of the programme it takes. */
export interface PopulationCity {
  /** ISTAT code. */
  code: string;
  /** Relative share of the persons, among all cities (see city-sizes.ts). */
  weight: number;
  /**
   * When the city takes people in charge: the periods of the editions it
   * belongs to. Nobody's intake falls outside them, and the city's activity
   * (enrolments, signed projects, placements) starts no later than the end of
   * the last. Left out, the city is active over the whole synthetic world.
   */
  activePeriods?: ReadonlyArray<ActivePeriod>;
}
