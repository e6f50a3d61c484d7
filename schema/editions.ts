/**
 * The programme's editions, as data: their reporting periods and the targets
 * the national level monitors (see the programme's published figures).
 *
 * Periods are the ones used for reports; the exact dates of each grant
 * agreement may differ by a few weeks. LGNet3 runs to January 2027.
 */
import type { Edition } from './code-lists.ts';

/** The figures of the programme report that targets are set for. */
export const reportIndicators = ['beneficiaries', 'takenInCharge', 'housingSupported', 'civicProjectsSigned'] as const;
export type ReportIndicator = (typeof reportIndicators)[number];

/** What each indicator counts, in words. */
export const indicatorDescriptions: Readonly<Record<ReportIndicator, string>> = {
  beneficiaries: 'People taken in charge in the period, by any channel',
  takenInCharge: 'People taken in charge by mobile units and one-stop-shops',
  housingSupported: 'People in housing support measures',
  civicProjectsSigned: 'Individual civic-engagement projects signed',
};

export interface EditionTarget {
  indicator: ReportIndicator;
  description: string;
  value: number;
  comparison: 'AT_LEAST' | 'ABOUT';
}

export interface EditionInfo {
  edition: Edition;
  name: string;
  fund: string;
  from: string;
  to: string;
  targets: EditionTarget[];
}

export const editions: readonly EditionInfo[] = [
  {
    edition: 'LGNET_EA',
    name: 'LGNetEA – Emergency Assistance',
    fund: 'AMIF 2014-2020, emergency measures',
    from: '2020-07-01',
    to: '2022-12-31',
    targets: [
      { indicator: 'takenInCharge', description: 'People taken in charge by mobile units and one-stop-shops', value: 3000, comparison: 'AT_LEAST' },
      { indicator: 'housingSupported', description: 'People in housing support measures', value: 500, comparison: 'AT_LEAST' },
      { indicator: 'civicProjectsSigned', description: 'Individual civic-engagement projects signed', value: 600, comparison: 'ABOUT' },
    ],
  },
  {
    edition: 'LGNET2',
    name: 'LGNet2',
    fund: 'AMIF 2014-2020',
    from: '2023-01-01',
    to: '2023-12-31',
    targets: [],
  },
  {
    edition: 'LGNET3',
    name: 'LGNet3',
    fund: 'AMIF 2021-2027',
    from: '2024-01-01',
    to: '2027-01-31',
    targets: [
      { indicator: 'beneficiaries', description: 'Third-country nationals who benefit across the network', value: 9000, comparison: 'AT_LEAST' },
    ],
  },
];
