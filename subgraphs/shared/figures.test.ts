import { describe, expect, it } from 'vitest';
import { ageBand, checkDimensions, daysBetween, groupFacts, monthsBetween, NONE, UNKNOWN, type Fact } from './figures.ts';

const fact = (city: string, personKey: string, values: Fact['values'], days?: number | null): Fact => ({ city, personKey, values, days });

describe('grouped counts', () => {
  it('list every bucket of the dimensions asked, zeros included, and count each record in it', () => {
    const groups = groupFacts(
      [fact('000001', 'p1', { CHANNEL: 'MOBILE_UNIT' }), fact('000001', 'p2', { CHANNEL: 'MOBILE_UNIT' }), fact('000002', 'p1', { CHANNEL: 'REFERRAL' })],
      ['CITY', 'CHANNEL'],
      { cities: ['000001', '000002'], missing: [], months: null },
    );
    expect(groups).toHaveLength(2 * 3);
    expect(groups.find((g) => g.keys.join() === '000001,MOBILE_UNIT')).toMatchObject({ count: 2, persons: 2 });
    expect(groups.find((g) => g.keys.join() === '000002,ONE_STOP_SHOP')).toMatchObject({ count: 0, persons: 0 });
  });

  it('count a record in each of its values, NONE for none, and UNKNOWN where the value is not known', () => {
    const groups = groupFacts(
      [fact('000001', 'p1', { VULNERABILITY: ['MENTAL_HEALTH', 'HOMELESSNESS'] }), fact('000001', 'p2', { VULNERABILITY: [] }), fact('000001', 'p3', {})],
      ['VULNERABILITY'],
      { cities: ['000001'], missing: [], months: null },
    );
    const count = (k: string) => groups.find((g) => g.keys[0] === k)?.count;
    expect([count('MENTAL_HEALTH'), count('HOMELESSNESS'), count(NONE), count(UNKNOWN)]).toEqual([1, 1, 1, 1]);
  });

  it('name the missing cities on the buckets they may belong to: their own, or all when not grouped by city', () => {
    const byCity = groupFacts([], ['CITY'], { cities: ['000001', '000002'], missing: ['000002'], months: null });
    expect(byCity.map((g) => g.citiesMissing)).toEqual([[], [{ code: '000002' }]]);
    const byMonth = groupFacts([], ['MONTH'], { cities: ['000001', '000002'], missing: ['000002'], months: ['2024-01', '2024-02'] });
    expect(byMonth.map((g) => [g.keys[0], g.count, g.citiesMissing])).toEqual([
      ['2024-01', 0, [{ code: '000002' }]],
      ['2024-02', 0, [{ code: '000002' }]],
    ]);
  });

  it('give the average and median length of the records that ended only', () => {
    const [g] = groupFacts([fact('000001', 'a', {}, 10), fact('000001', 'b', {}, 30), fact('000001', 'c', {}, 20), fact('000001', 'd', {}, 40), fact('000001', 'e', {}, null)], [], {
      cities: ['000001'],
      missing: [],
      months: null,
    });
    expect(g).toMatchObject({ keys: [], count: 5, averageDays: 25, medianDays: 25 });
  });

  it('refuse more than three dimensions, a dimension twice, or one that does not apply', () => {
    expect(() => checkDimensions(['CITY', 'MONTH', 'SEX', 'PERMIT'], ['CITY', 'MONTH', 'SEX', 'PERMIT'], 'x')).toThrow(/at most 3/);
    expect(() => checkDimensions(['CITY', 'CITY'], ['CITY'], 'x')).toThrow(/twice/);
    expect(() => checkDimensions(['HOUSING_KIND'], ['CITY'], 'civic projects')).toThrow(/civic projects cannot be grouped by HOUSING_KIND/);
  });
});

describe('calendar helpers', () => {
  it('band ages at intake by whole years', () => {
    expect(ageBand('2000-06-15', '2025-06-14')).toBe('18-24');
    expect(ageBand('2000-06-15', '2025-06-15')).toBe('25-34');
    expect(ageBand('1950-01-01', '2024-01-01')).toBe('65+');
  });
  it('count days and list months across a year end', () => {
    expect(daysBetween('2024-02-28', '2024-03-01')).toBe(2);
    expect(monthsBetween('2023-11-20', '2024-02-01')).toEqual(['2023-11', '2023-12', '2024-01', '2024-02']);
  });
});
