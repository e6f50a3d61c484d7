export type Maybe<T> = T | null;
export type InputMaybe<T> = Maybe<T>;
/** All built-in and custom scalars, mapped to their actual values */
export type Scalars = {
  ID: { input: string; output: string; }
  String: { input: string; output: string; }
  Boolean: { input: boolean; output: boolean; }
  Int: { input: number; output: number; }
  Float: { input: number; output: number; }
  /** A calendar date, `YYYY-MM-DD` (ISO 8601). */
  Date: { input: string; output: string; }
  /** A date and time, ISO 8601 in UTC, e.g. `2026-11-21T09:30:00.000Z`. */
  DateTime: { input: string; output: string; }
  /**
   * A calendar month, `YYYY-MM`: how analysts see the dates of a person's
   * record, exact dates being personal data.
   */
  YearMonth: { input: string; output: string; }
};

/**
 * Which beneficiaries to include. Conditions combine with AND; a list matches
 * any of its values (an empty list matches nothing); a condition left out does
 * not filter.
 */
export type BeneficiaryFilter = {
  /** ISTAT codes of the cities to ask. Default: every city of the registry (one without a system for this data is named in `coverage.missing`). */
  cities?: InputMaybe<Array<Scalars['ID']['input']>>;
  /** Only people taken in charge through these channels. */
  intakeChannels?: InputMaybe<Array<IntakeChannel>>;
  /** Only people taken in charge in these months (by the month of the intake date). */
  intakeMonths?: InputMaybe<MonthRange>;
  /** Only people whose case is in one of these states. */
  intakeStatuses?: InputMaybe<Array<IntakeStatus>>;
};

/** Which civic-engagement projects to include. Conditions combine with AND; a list matches any of its values (an empty list matches nothing); a condition left out does not filter. */
export type CivicProjectFilter = {
  /** ISTAT codes of the cities to ask. Default: every city of the registry. */
  cities?: InputMaybe<Array<Scalars['ID']['input']>>;
  /** Only projects signed in these months (a draft, never signed, is in no range). */
  signedMonths?: InputMaybe<MonthRange>;
  statuses?: InputMaybe<Array<CivicProjectStatus>>;
};

/** Status of an individual civic-engagement project. */
export type CivicProjectStatus =
  /** Completed (concluso). */
  | 'COMPLETED'
  /** Being prepared (in preparazione). */
  | 'DRAFT'
  /** Signed and running (sottoscritto). */
  | 'SIGNED'
  /** Stopped before its end (interrotto). */
  | 'WITHDRAWN';

/**
 * What records can be grouped by in a breakdown. Not every dimension applies to
 * every kind of record (a civic project has no housing kind); the ones about the
 * person (channel, status, sex, age band, citizenship, permit, vulnerability)
 * apply to every kind, through the person the record is about.
 */
export type Dimension =
  /** Age of the person at intake: `0-17`, `18-24`, `25-34`, `35-44`, `45-54`, `55-64`, `65+`. */
  | 'AGE_BAND'
  /** Intake channel of the person (`IntakeChannel`). */
  | 'CHANNEL'
  /** Citizenship of the person, ISO 3166-1 alpha-2 (`XX` stateless). */
  | 'CITIZENSHIP'
  /** The city (ISTAT code). */
  | 'CITY'
  /** Status of the project (civic projects only). */
  | 'CIVIC_PROJECT_STATUS'
  /** Kind of the housing resource (placements only; `UNKNOWN` when the city's record of the resource was rejected). */
  | 'HOUSING_KIND'
  /** Where the person's case stands (`IntakeStatus`). */
  | 'INTAKE_STATUS'
  /**
   * Month, `YYYY-MM`: of the intake for beneficiaries, of the start for
   * placements and enrolments, of the signing for civic projects (`NONE` for a
   * project never signed).
   */
  | 'MONTH'
  /** Residence permit of the person at intake (`PermitType`). */
  | 'PERMIT'
  /** Category of the service (enrolments only; `UNKNOWN` when the city's record of the service was rejected). */
  | 'SERVICE_CATEGORY'
  /** Sex of the person. */
  | 'SEX'
  /**
   * Vulnerabilities recorded for the person (`Vulnerability`, or `NONE`). A
   * person with several counts in each of them, so these buckets add up to
   * more than the total. Special categories of data: only ever counted.
   */
  | 'VULNERABILITY';

/** The data domains of the graph, one subgraph each. */
export type Domain =
  /** Housing resources and placements (inclusione abitativa). */
  | 'housing'
  /** Beneficiaries and their intake (presa in carico). */
  | 'people'
  /** Service catalogues, enrolments and civic-engagement projects. */
  | 'services';

/** An edition of the LGNet programme. */
export type Edition =
  /** LGNet2 (AMIF 2014-2020). */
  | 'LGNET2'
  /** LGNet3 (AMIF 2021-2027), running to January 2027. */
  | 'LGNET3'
  /** LGNet Emergency Assistance, from 2020 (AMIF 2014-2020 emergency measures). */
  | 'LGNET_EA';

/** Which enrolments to include. Conditions combine with AND; a condition left out does not filter. */
export type EnrollmentFilter = {
  /** ISTAT codes of the cities to ask. Default: every city of the registry. */
  cities?: InputMaybe<Array<Scalars['ID']['input']>>;
  /** Only enrolments that started in these months. */
  startMonths?: InputMaybe<MonthRange>;
};

/** The kinds of records the cities send. */
export type EntityName =
  | 'beneficiaries'
  | 'civicProjects'
  | 'enrollments'
  | 'housingResources'
  | 'placements'
  | 'services';

/** Kind of housing resource. */
export type HousingKind =
  /** Protected shelter (rifugio protetto). */
  | 'PROTECTED_SHELTER'
  /** Help with the rent of a home on the market (sostegno all'affitto). */
  | 'RENT_SUPPORT'
  /** Flat for semi-autonomous living (appartamento di semi-autonomia). */
  | 'SEMI_AUTONOMY_FLAT'
  /** Solidarity co-housing (co-abitazione solidale). */
  | 'SOLIDARITY_COHOUSING';

/** Which housing resources to include. Conditions combine with AND; a list matches any of its values (an empty list matches nothing); a condition left out does not filter. */
export type HousingResourceFilter = {
  /** ISTAT codes of the cities to ask. Default: every city of the registry (one without a system for this data is named in `coverage.missing`). */
  cities?: InputMaybe<Array<Scalars['ID']['input']>>;
  kinds?: InputMaybe<Array<HousingKind>>;
};

/** How a person was taken in charge. */
export type IntakeChannel =
  /** By a mobile unit reaching people where they are (unità mobile, unità di strada). */
  | 'MOBILE_UNIT'
  /** At a one-stop-shop (sportello unico, punto unico di accesso). */
  | 'ONE_STOP_SHOP'
  /** Sent by another service or organisation (invio). */
  | 'REFERRAL';

/** Where a person's case stands. */
export type IntakeStatus =
  /** Currently taken in charge (in carico). */
  | 'ACTIVE'
  /** Closed because the person reached autonomy (dimissione per autonomia). */
  | 'CLOSED_AUTONOMY'
  /** The person left the path (interruzione, abbandono). */
  | 'DROPPED_OUT'
  /** Moved to another service or city (trasferito). */
  | 'TRANSFERRED';

/**
 * An inclusive range of months. Either end may be left out: the range then
 * has no limit on that side.
 */
export type MonthRange = {
  /** First month, `YYYY-MM`. */
  from?: InputMaybe<Scalars['YearMonth']['input']>;
  /** Last month, `YYYY-MM` (included). */
  to?: InputMaybe<Scalars['YearMonth']['input']>;
};

/** Kind of residence permit (permesso di soggiorno). */
export type PermitType =
  /** Asylum application pending (richiesta asilo). */
  | 'ASYLUM_SEEKER'
  /** Family reasons (motivi familiari). */
  | 'FAMILY'
  /** EU long-term resident (soggiornante di lungo periodo). */
  | 'LONG_TERM_RESIDENT'
  /** Medical care (cure mediche). */
  | 'MEDICAL_CARE'
  /** Any other permit. */
  | 'OTHER'
  /** International protection, refugee status (status di rifugiato). */
  | 'REFUGEE_STATUS'
  /** Special protection (protezione speciale). */
  | 'SPECIAL_PROTECTION'
  /** Study (studio). */
  | 'STUDY'
  /** International protection, subsidiary (protezione sussidiaria). */
  | 'SUBSIDIARY_PROTECTION'
  /** Temporary protection (protezione temporanea). */
  | 'TEMPORARY_PROTECTION'
  /** Work (lavoro). */
  | 'WORK';

/** Which placements to include. Conditions combine with AND; a condition left out does not filter. */
export type PlacementFilter = {
  /** ISTAT codes of the cities to ask. Default: every city of the registry. */
  cities?: InputMaybe<Array<Scalars['ID']['input']>>;
  /** Only placements that started in these months. */
  startMonths?: InputMaybe<MonthRange>;
};

/** Why a record was left out of the graph. */
export type RejectReason =
  /** A second record with the same local id as one the city already sent in the same read (a record listed twice, or two versions of it): the first one is kept and counted as the record, each later one is counted here, so that no record appears twice in a list or a total. */
  | 'DUPLICATE_RECORD'
  /** Not a date in the city's declared format, or a day that does not exist. */
  | 'INVALID_DATE'
  /** A malformed fiscal code, or one with a wrong check character. */
  | 'INVALID_FISCAL_CODE'
  /** Any other value out of range, such as a negative capacity or an end before a start. */
  | 'INVALID_VALUE'
  /** A row of the source that could not be read as a record, such as a CSV line with the wrong number of cells. */
  | 'MALFORMED_ROW'
  /** A required field is empty or absent. */
  | 'MISSING_FIELD'
  /** A placement, enrolment or civic project of a person whose own record was rejected: it belongs to nobody the graph can show, so it is counted here rather than lost. */
  | 'PARENT_REJECTED'
  /** A code the city's vocabulary mapping does not know. */
  | 'UNKNOWN_CODE';

/** Category of a service. */
export type ServiceCategory =
  /** Individual civic-engagement path (impegno civico). */
  | 'CIVIC_ENGAGEMENT'
  /** Civic orientation (orientamento civico). */
  | 'CIVIC_ORIENTATION'
  /** Personal professional guidance (orientamento al lavoro). */
  | 'JOB_GUIDANCE'
  /** Italian language course (corso di lingua italiana). */
  | 'LANGUAGE_COURSE'
  /** Legal advice (consulenza legale). */
  | 'LEGAL_ADVICE'
  /** Meeting space, such as a women's Safe Space (spazio di incontro). */
  | 'MEETING_SPACE'
  /** Mobile unit that reaches people where they are (unità mobile). */
  | 'MOBILE_UNIT'
  /** One-stop-shop, single access point, often socio-sanitary (sportello unico). */
  | 'ONE_STOP_SHOP'
  /** Psychosocial support (supporto psicosociale). */
  | 'PSYCHOSOCIAL_SUPPORT'
  /** Workshop: IT, tailoring, dance, school support... (laboratorio). */
  | 'WORKSHOP';

/** Which services to include. Conditions combine with AND; a list matches any of its values (an empty list matches nothing); a condition left out does not filter. */
export type ServiceFilter = {
  categories?: InputMaybe<Array<ServiceCategory>>;
  /** ISTAT codes of the cities to ask. Default: every city of the registry (one without a system for this data is named in `coverage.missing`). */
  cities?: InputMaybe<Array<Scalars['ID']['input']>>;
};

/** Sex as recorded on the residence permit. */
export type Sex =
  | 'FEMALE'
  | 'MALE';

/** Kind of source system. */
export type SourceKind =
  /** A CSV export published by the city. */
  | 'CSV'
  /** The city's own GraphQL API (not part of this federation). */
  | 'GRAPHQL'
  /** A REST/JSON web API. */
  | 'REST'
  /** A SOAP/XML web service, often a legacy case-management system. */
  | 'SOAP'
  /** A spreadsheet (.xlsx) kept by hand and published by the city. */
  | 'SPREADSHEET'
  /** Read-only views of the city's database (PostgreSQL, MariaDB/MySQL). */
  | 'SQL';

/** Whether a source can be read. */
export type SourceStatus =
  /** It answers, but needed retries on more than a fifth of its last 20 requests: slow or flaky. */
  | 'DEGRADED'
  /** It failed the last request (refused the connection, answered an error, or sent something unreadable), or its circuit is open after repeated failures: it is not asked until the circuit's pause is over. */
  | 'DOWN'
  /** The graph has no endpoint or key for it (see the subgraph's log): it cannot be asked. */
  | 'NOT_CONFIGURED'
  /** The last request failed; the graph is serving its last good snapshot. */
  | 'STALE'
  /** Not known yet: not asked, or slower to answer than a status check waits (3 seconds); data questions wait longer (the source's own time limit). */
  | 'UNKNOWN'
  /** It answered the last request. */
  | 'UP';

/** How a target's figure is meant. */
export type TargetComparison =
  /** The target is an approximate figure ("about 600 projects"). */
  | 'ABOUT'
  /** The target is reached at this figure or above ("more than 3,000 people"). */
  | 'AT_LEAST';

/** Vulnerability recorded at intake. */
export type Vulnerability =
  /** Disability (disabilità). */
  | 'DISABILITY'
  /** Survivor of gender-based violence (violenza di genere). */
  | 'GENDER_VIOLENCE'
  /** Homeless or in housing emergency (senza dimora). */
  | 'HOMELESSNESS'
  /** Mental distress (disagio psichico). */
  | 'MENTAL_HEALTH'
  /** Physical health fragility (fragilità sanitaria). */
  | 'PHYSICAL_HEALTH'
  /** Pregnancy (gravidanza). */
  | 'PREGNANCY'
  /** Single parent (nucleo monogenitoriale). */
  | 'SINGLE_PARENT'
  /** Victim of trafficking (tratta). */
  | 'TRAFFICKING';
