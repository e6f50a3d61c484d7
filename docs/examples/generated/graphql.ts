/** Internal type. DO NOT USE DIRECTLY. */
type Exact<T extends { [key: string]: unknown }> = { [K in keyof T]: T[K] };
/** Internal type. DO NOT USE DIRECTLY. */
export type Incremental<T> = T | { [P in keyof T]?: P extends ' $fragmentName' | '__typename' ? T[P] : never };
import type * as Types from './schema.js';

export type ProgressAgainstTargetsQueryVariables = Exact<{ [key: string]: never; }>;


export type ProgressAgainstTargetsQuery = { report: { from: Types.Scalars['Date']['output'], to: Types.Scalars['Date']['output'], totals: { beneficiaries: number | null, takenInCharge: number | null, housingSupported: number | null, civicProjectsSigned: number | null, uniquePersons: number | null, targets: Array<{ indicator: string, value: number | null, target: number | null, progress: number | null }>, coverage: { citiesAsked: number, citiesAnswered: number, missing: Array<{ reason: string, city: { code: string } }>, degraded: Array<{ reason: string, city: { code: string } }> } }, cities: Array<{ beneficiaries: number | null, takenInCharge: number | null, housingSupported: number | null, civicProjectsSigned: number | null, city: { code: string, name: string, population: { residents: number, year: number } | null }, targets: Array<{ indicator: string, target: number | null, progress: number | null }> }> } | null };

export type TakenInChargeByChannelQueryVariables = Exact<{ [key: string]: never; }>;


export type TakenInChargeByChannelQuery = { report: { cities: Array<{ city: { name: string }, takenInChargeByChannel: Array<{ channel: Types.IntakeChannel, count: number }> | null }>, totals: { takenInChargeByChannel: Array<{ channel: Types.IntakeChannel, count: number }> | null } } | null };

export type IntakesPerMonthQueryVariables = Exact<{ [key: string]: never; }>;


export type IntakesPerMonthQuery = { beneficiaryFigures: { total: number, groups: Array<{ keys: Array<string>, count: number | null, citiesMissing: Array<{ code: string }> }>, coverage: { citiesAnswered: number, citiesAsked: number } } | null };

export type MoversBetweenCitiesQueryVariables = Exact<{ [key: string]: never; }>;


export type MoversBetweenCitiesQuery = { movers: { persons: number, pairs: Array<{ persons: number, from: { name: string }, to: { name: string } }> } | null };

export type CivicProjectsByStatusQueryVariables = Exact<{ [key: string]: never; }>;


export type CivicProjectsByStatusQuery = { civicProjectFigures: { total: number, groups: Array<{ keys: Array<string>, count: number | null }> } | null };

export type HealthVulnerabilityShareQueryVariables = Exact<{ [key: string]: never; }>;


export type HealthVulnerabilityShareQuery = { beneficiaryFigures: { persons: number, groups: Array<{ keys: Array<string>, persons: number | null }> } | null };

export type PlacementLengthByHousingKindQueryVariables = Exact<{ [key: string]: never; }>;


export type PlacementLengthByHousingKindQuery = { placementFigures: { groups: Array<{ keys: Array<string>, count: number | null, averageDays: number | null, medianDays: number | null }> } | null };

export type PeopleBySexAndAgeBandQueryVariables = Exact<{ [key: string]: never; }>;


export type PeopleBySexAndAgeBandQuery = { beneficiaryFigures: { groups: Array<{ keys: Array<string>, count: number | null }> } | null };

export type TopCitizenshipsQueryVariables = Exact<{ [key: string]: never; }>;


export type TopCitizenshipsQuery = { beneficiaryFigures: { groups: Array<{ keys: Array<string>, count: number | null }> } | null };

export type EnrollmentsByServiceCategoryQueryVariables = Exact<{ [key: string]: never; }>;


export type EnrollmentsByServiceCategoryQuery = { enrollmentFigures: { groups: Array<{ keys: Array<string>, count: number | null, persons: number | null }> } | null };

export type CivicProjectsSignedInQuarterQueryVariables = Exact<{ [key: string]: never; }>;


export type CivicProjectsSignedInQuarterQuery = { civicProjects: { totalCount: number, nodes: Array<{ id: string, status: Types.CivicProjectStatus, signedMonth: Types.Scalars['YearMonth']['output'] | null, city: { code: string }, beneficiary: { id: string } }> | null, pageInfo: { hasNextPage: boolean, endCursor: string | null }, coverage: { rejected: number | null, missing: Array<{ city: { code: string } }> } } | null };

export type AmifIndicatorsQueryVariables = Exact<{ [key: string]: never; }>;


export type AmifIndicatorsQuery = { euIndicators: { indicators: Array<{ id: string, wording: string, value: number | null, rule: string | null, notSupportedBecause: string | null, byGenderAndAge: Array<{ sex: string, ageBracket: string, count: number }> | null }>, coverage: { citiesAnswered: number, citiesAsked: number } } | null };

export type CitiesDataQualityQueryVariables = Exact<{ [key: string]: never; }>;


export type CitiesDataQualityQuery = { cities: Array<{ code: string, name: string, source: { kind: Types.SourceKind, status: Types.SourceStatus, statusReason: string | null, asOf: Types.Scalars['DateTime']['output'] | null } | null, dataQuality: Array<{ entity: Types.EntityName, received: number | null, accepted: number | null, rejected: number | null, reasons: Array<{ code: Types.RejectReason, count: number | null }> }> | null }> };

export type EditionMonthsAndMoversQueryVariables = Exact<{ [key: string]: never; }>;


export type EditionMonthsAndMoversQuery = { report: { totals: { intakesByMonth: Array<{ month: Types.Scalars['YearMonth']['output'], beneficiaries: number | null, takenInCharge: number | null }> | null, movers: { persons: number | null, pairs: Array<{ persons: number | null, from: { name: string }, to: { name: string } }> } | null, peopleCoverage: { citiesAsked: number, citiesAnswered: number, missing: Array<{ reason: string, city: { code: string } }> } | null } } | null };

export type HousingOccupancyQueryVariables = Exact<{ [key: string]: never; }>;


export type HousingOccupancyQuery = { housingOccupancy: { cities: Array<{ places: number | null, occupied: number | null, city: { name: string } }>, coverage: { citiesAsked: number, citiesAnswered: number, missing: Array<{ reason: string, city: { code: string } }> } } | null };

export type BeneficiaryFiguresQueryVariables = Exact<{
  from?: Types.Scalars['Date']['input'] | null | undefined;
  to?: Types.Scalars['Date']['input'] | null | undefined;
  by: Array<Types.Dimension> | Types.Dimension;
  cities?: Array<string | number> | string | number | null | undefined;
}>;


export type BeneficiaryFiguresQuery = { beneficiaryFigures: { total: number, persons: number, groups: Array<{ keys: Array<string>, count: number | null, persons: number | null, citiesMissing: Array<{ code: string, name: string }> }>, coverage: { citiesAsked: number, citiesAnswered: number, missing: Array<{ code: string, reason: string, city: { code: string } }> } } | null };

export type DashboardCitiesQueryVariables = Exact<{ [key: string]: never; }>;


export type DashboardCitiesQuery = { cities: Array<{ code: string, name: string, region: string, editions: Array<Types.Edition>, source: { kind: Types.SourceKind, status: Types.SourceStatus, asOf: Types.Scalars['DateTime']['output'] | null } | null, dataQuality: Array<{ entity: Types.EntityName, rejected: number | null, asOf: Types.Scalars['DateTime']['output'], reasons: Array<{ code: Types.RejectReason, count: number | null }> }> | null }> };

export type DashboardEditionsQueryVariables = Exact<{ [key: string]: never; }>;


export type DashboardEditionsQuery = { editions: Array<{ edition: Types.Edition, name: string, fund: string, from: Types.Scalars['Date']['output'], to: Types.Scalars['Date']['output'], cities: Array<{ code: string, name: string }>, targets: Array<{ indicator: string, description: string, value: number, comparison: Types.TargetComparison }> }> };

export type DashboardHousingQueryVariables = Exact<{ [key: string]: never; }>;


export type DashboardHousingQuery = { housingOccupancy: { cities: Array<{ places: number | null, occupied: number | null, city: { code: string, name: string } }>, coverage: { citiesAsked: number, citiesAnswered: number, missing: Array<{ code: string, reason: string, city: { code: string } }>, stale: Array<{ asOf: Types.Scalars['DateTime']['output'] | null, city: { code: string } }>, degraded: Array<{ reason: string, city: { code: string } }> } } | null };

export type DashboardReportQueryVariables = Exact<{
  edition: Types.Edition;
}>;


export type DashboardReportQuery = { report: { edition: Types.Edition, from: Types.Scalars['Date']['output'], to: Types.Scalars['Date']['output'], cities: Array<{ beneficiaries: number | null, takenInCharge: number | null, housingSupported: number | null, civicProjectsSigned: number | null, city: { code: string, name: string, population: { residents: number, year: number, source: string } | null }, targets: Array<{ indicator: string, value: number | null, target: number | null, comparison: Types.TargetComparison | null, progress: number | null }>, coverage: { citiesAsked: number, citiesAnswered: number, missing: Array<{ code: string, reason: string, city: { code: string } }>, stale: Array<{ asOf: Types.Scalars['DateTime']['output'] | null, city: { code: string } }>, degraded: Array<{ reason: string, city: { code: string } }> } }>, totals: { beneficiaries: number | null, takenInCharge: number | null, housingSupported: number | null, civicProjectsSigned: number | null, uniquePersons: number | null, targets: Array<{ indicator: string, description: string, value: number | null, target: number | null, comparison: Types.TargetComparison | null, progress: number | null }>, coverage: { citiesAsked: number, citiesAnswered: number, missing: Array<{ code: string, reason: string, city: { code: string } }>, stale: Array<{ asOf: Types.Scalars['DateTime']['output'] | null, city: { code: string } }>, degraded: Array<{ reason: string, city: { code: string } }> } } } | null };

export type DashboardTrendsQueryVariables = Exact<{
  edition: Types.Edition;
}>;


export type DashboardTrendsQuery = { report: { edition: Types.Edition, from: Types.Scalars['Date']['output'], to: Types.Scalars['Date']['output'], totals: { beneficiaries: number | null, takenInCharge: number | null, intakesByMonth: Array<{ month: Types.Scalars['YearMonth']['output'], beneficiaries: number | null, takenInCharge: number | null }> | null, movers: { persons: number | null, pairs: Array<{ persons: number | null, from: { code: string, name: string }, to: { code: string, name: string } }> } | null, peopleCoverage: { citiesAsked: number, citiesAnswered: number, missing: Array<{ code: string, reason: string, city: { code: string } }>, stale: Array<{ asOf: Types.Scalars['DateTime']['output'] | null, city: { code: string } }>, degraded: Array<{ reason: string, city: { code: string } }> } | null } } | null };
