/**
 * AMIF 2021-2027 common indicators for specific objective 2, legal migration
 * and integration (point (b) of Article 3(2)), as worded in Annex VIII of
 * Regulation (EU) 2021/1147 establishing the Asylum, Migration and Integration
 * Fund (OJ L 251, 15.7.2021, p. 1; ELI http://data.europa.eu/eli/reg/2021/1147/oj).
 *
 * Wording checked against the English consolidated text of the Regulation
 * (EUR-Lex CELEX 32021R1147, consolidations of 11.6.2024 and of 1.7.2026; the
 * specific-objective-2 part of Annex VIII is the same in both), as republished
 * in Markdown at github.com/legalize-dev/legalize-eu, file eu/32021R1147.md.
 *
 * The Annex numbers the indicators of each specific objective 1 to 11 (outputs
 * 1-7, results 8-11); the breakdown of output 3 is 3.1-3.3. Ids here prefix
 * that number with O.2 / R.2 (e.g. 'O.2.3.1', 'R.2.9').
 *
 * The Annex requires every indicator relating to persons to be reported by
 * age bracket (< 18, 18-60, > 60) and by gender: see `amifPersonBreakdown`.
 */
import type { ServiceCategory } from './code-lists.ts';

/** The LGNet entities an indicator is counted from (names as in `entitySchemas`). */
export type AmifSourceEntity = 'beneficiaries' | 'enrollments' | 'civicProjects' | 'placements';

export interface AmifIndicator {
  /** 'O.2.<n>' or 'R.2.<n>', n being the number the Annex gives the indicator (e.g. 'O.2.3.1'). */
  readonly id: string;
  /** The number in the Annex, as printed there (e.g. '3.1'). */
  readonly annexNumber: string;
  readonly kind: 'OUTPUT' | 'RESULT';
  /** For a breakdown line of the Annex, the id of the indicator it breaks down. */
  readonly partOf?: string;
  /**
   * The Annex's English wording, without the trailing punctuation and, for
   * output 3, without the lead-in ", separately specifying:" to its breakdown.
   */
  readonly wording: string;
  /** How LGNet data supports it, or null. */
  readonly supported: null | {
    readonly entity: AmifSourceEntity;
    /** The counting rule, in words. "The period" is the reporting period asked for. */
    readonly rule: string;
    /** For enrolments: the categories of the service enrolled in that count. */
    readonly serviceCategories?: readonly ServiceCategory[];
  };
  /** Why not, when not supported. */
  readonly notSupportedBecause?: string;
}

/** An enrolment or placement counts in the period when it overlaps it. */
const OVERLAPS =
  'its from date is on or before the last day of the period and its to date is null (ongoing) or on or after the first day';

/** Persons are counted once: by personKey, so someone supported in two cities counts once network-wide. */
const DISTINCT = 'distinct persons (one per personKey across all cities)';

const indicators: AmifIndicator[] = [
  // ---- Output indicators ----
  {
    id: 'O.2.1',
    annexNumber: '1',
    kind: 'OUTPUT',
    wording: 'Number of participants in pre-departure measures',
    supported: null,
    notSupportedBecause:
      'LGNet works with third-country nationals already staying in Italy; it runs no measures before departure from a third country and records none.',
  },
  {
    id: 'O.2.2',
    annexNumber: '2',
    kind: 'OUTPUT',
    wording: 'Number of local and regional authorities supported to implement integration measures',
    supported: {
      entity: 'beneficiaries',
      rule:
        'Distinct municipalities (city ISTAT codes) with activity in the period: at least one beneficiary taken in charge (intake date) in the period, or an enrolment, placement or civic-engagement project of theirs overlapping it. ' +
        'The authority counted is the Comune, also where an ente strumentale (e.g. ANCI Liguria for Genova) runs its interventions. Cities of the edition with no activity in the period are not counted.',
    },
  },
  {
    id: 'O.2.3',
    annexNumber: '3',
    kind: 'OUTPUT',
    wording: 'Number of participants supported',
    supported: {
      entity: 'beneficiaries',
      rule:
        `${DISTINCT} taken in charge in the period (intake date within it), or with an enrolment in any service or a housing placement where ${OVERLAPS}, or with a civic-engagement project signed in the period (signedOn within it).`,
    },
  },
  {
    id: 'O.2.3.1',
    annexNumber: '3.1',
    kind: 'OUTPUT',
    partOf: 'O.2.3',
    wording: 'the number of participants in a language course',
    supported: {
      entity: 'enrollments',
      rule:
        `${DISTINCT} with at least one enrolment in a service of category LANGUAGE_COURSE where ${OVERLAPS}. ` +
        'Italian-language workshops count only if the city maps them to LANGUAGE_COURSE, not to WORKSHOP.',
      serviceCategories: ['LANGUAGE_COURSE'],
    },
  },
  {
    id: 'O.2.3.2',
    annexNumber: '3.2',
    kind: 'OUTPUT',
    partOf: 'O.2.3',
    wording: 'the number of participants in a civic orientation course',
    supported: {
      entity: 'enrollments',
      rule: `${DISTINCT} with at least one enrolment in a service of category CIVIC_ORIENTATION where ${OVERLAPS}.`,
      serviceCategories: ['CIVIC_ORIENTATION'],
    },
  },
  {
    id: 'O.2.3.3',
    annexNumber: '3.3',
    kind: 'OUTPUT',
    partOf: 'O.2.3',
    wording: 'the number of participants who received personalised professional guidance',
    supported: {
      entity: 'enrollments',
      rule:
        `${DISTINCT} with at least one enrolment in a service of category JOB_GUIDANCE where ${OVERLAPS}. ` +
        'The data does not tell individual from group guidance: a city whose JOB_GUIDANCE services include group-only sessions overstates "personalised" guidance.',
      serviceCategories: ['JOB_GUIDANCE'],
    },
  },
  {
    id: 'O.2.4',
    annexNumber: '4',
    kind: 'OUTPUT',
    wording: 'Number of information packages and campaigns to raise awareness of legal migration channels to the Union',
    supported: null,
    notSupportedBecause:
      'The indicator counts information packages and campaigns about legal ways into the Union, not persons; LGNet records neither its awareness events nor any material on migration channels.',
  },
  {
    id: 'O.2.5',
    annexNumber: '5',
    kind: 'OUTPUT',
    wording: 'Number of participants receiving information or assistance in applying for family reunification',
    supported: null,
    notSupportedBecause:
      'An enrolment in a LEGAL_ADVICE service does not record its subject, so assistance with family reunification cannot be told from other legal advice.',
  },
  {
    id: 'O.2.6',
    annexNumber: '6',
    kind: 'OUTPUT',
    wording: 'Number of participants benefitting from mobility schemes',
    supported: null,
    notSupportedBecause:
      'Mobility schemes (circular or temporary migration into the Union) are outside LGNet; nothing is recorded about them.',
  },
  {
    id: 'O.2.7',
    annexNumber: '7',
    kind: 'OUTPUT',
    wording: 'Number of integration projects where local and regional authorities are the beneficiary',
    supported: null,
    notSupportedBecause:
      'The indicator counts funded projects (grant agreements) by their beneficiary; the data holds records about persons, not the projects or grants that fund each city.',
  },

  // ---- Result indicators ----
  {
    id: 'R.2.8',
    annexNumber: '8',
    kind: 'RESULT',
    wording:
      'Number of participants in language courses who, upon leaving the language course, have improved their proficiency level in the host-country language by at least one level in the Common European Framework of Reference for Languages or national equivalent',
    supported: null,
    notSupportedBecause:
      'No language level (CEFR or other) is recorded at the start or end of a language course; an enrolment holds only its dates.',
  },
  {
    id: 'R.2.9',
    annexNumber: '9',
    kind: 'RESULT',
    wording: 'Number of participants who report that the activity was helpful for their integration',
    supported: null,
    notSupportedBecause: "It needs the participant's own assessment (a survey or feedback); no satisfaction or feedback data is held.",
  },
  {
    id: 'R.2.10',
    annexNumber: '10',
    kind: 'RESULT',
    wording: 'Number of participants who applied for their qualification or skills acquired in a third country to be recognised or assessed',
    supported: null,
    notSupportedBecause: 'No data on qualifications or skills, nor on applications for their recognition or assessment, is held.',
  },
  {
    id: 'R.2.11',
    annexNumber: '11',
    kind: 'RESULT',
    wording: 'Number of participants who applied for a long-term residence status',
    supported: null,
    notSupportedBecause:
      'Only the permit type at intake is recorded: neither applications for a permit nor later changes of status, so an application for long-term residence cannot be counted.',
  },
];

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}

/** The indicators of specific objective 2 in the Annex's order, outputs then results. */
export const amifIndicators: readonly AmifIndicator[] = deepFreeze(indicators);

/**
 * The breakdown the Annex requires for every indicator relating to persons.
 * Sex as recorded (`Sex`) stands for gender. Brackets are in whole years of
 * age; the Annex does not say at which date age is taken.
 */
export const amifPersonBreakdown = deepFreeze({
  ageBrackets: [
    { label: '< 18', minAge: 0, maxAge: 17 },
    { label: '18-60', minAge: 18, maxAge: 60 },
    { label: '> 60', minAge: 61, maxAge: null },
  ],
  bySex: true,
} as const);
