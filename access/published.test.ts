import { describe, expect, it } from 'vitest';
import { publishFigure } from './published.ts';

describe('published figures', () => {
  it('withhold a lone count from 1 to 4, and show 0 and 5 as they are', () => {
    expect(publishFigure(3, { threshold: 5 })).toEqual({ value: null, withheld: true });
    expect(publishFigure(0, { threshold: 5 })).toEqual({ value: 0, withheld: false });
    expect(publishFigure(5, { threshold: 5 })).toEqual({ value: 5, withheld: false });
  });

  it("withhold a small reason of a city's data quality, and enough else that it cannot be worked back out", () => {
    const quality = [{ entity: 'beneficiaries', received: 400, accepted: 397, rejected: 3, reasons: [{ code: 'INVALID_DATE', count: 2 }, { code: 'MISSING_FIELD', count: 1 }] }];
    const { value, withheld } = publishFigure(quality, { threshold: 5 }) as { value: typeof quality; withheld: boolean };
    expect(withheld).toBe(true);
    const [q] = value;
    expect(q!.rejected).toBeNull();
    expect(q!.reasons.map((r) => r.count)).toEqual([null, null]);
    // received - accepted would give rejected back: one of them is withheld too.
    expect(q!.received === null || q!.accepted === null).toBe(true);
    expect(q!.entity).toBe('beneficiaries');
  });

  it('leave a table with no small count whole', () => {
    const quality = [{ entity: 'services', received: 40, accepted: 40, rejected: 0, reasons: [] }];
    expect(publishFigure(quality, { threshold: 5 })).toEqual({ value: quality, withheld: false });
  });

  it('refuse a shape it does not know, rather than publish it unchecked', () => {
    expect(() => publishFigure({ total: 3 }, { threshold: 5 })).toThrow(/count or a list of entity qualities/);
  });
});
