/**
 * Published figures: what the dashboard role may see of a count the rules
 * mark `published`. A lone count is withheld when small; a city's data
 * quality is a table (received = accepted + rejected, rejected = the sum of
 * its reasons), so a withheld cell is also kept from being worked back out.
 */
import { suppressCount, suppressTable, type SuppressionOptions } from './suppression.ts';

interface Quality {
  received: number | null;
  accepted: number | null;
  rejected: number | null;
  reasons: Array<{ code: string; count: number | null }>;
}

function isQuality(v: unknown): v is Quality {
  const q = v as Quality | null;
  return typeof q === 'object' && q !== null && typeof q.received === 'number' && typeof q.accepted === 'number' && typeof q.rejected === 'number' && Array.isArray(q.reasons);
}

function publishQuality(q: Quality, options: SuppressionOptions): { value: Quality; withheld: boolean } {
  const cells: Record<string, number> = { received: q.received!, accepted: q.accepted!, rejected: q.rejected! };
  for (const r of q.reasons) cells[`reason:${r.code}`] = r.count!;
  const relations = [{ total: 'received', parts: ['accepted', 'rejected'] }];
  if (q.reasons.length) relations.push({ total: 'rejected', parts: q.reasons.map((r) => `reason:${r.code}`) });
  const { values, withheld } = suppressTable({ cells, relations }, options);
  return {
    value: {
      ...q,
      received: values.received!,
      accepted: values.accepted!,
      rejected: values.rejected!,
      reasons: q.reasons.map((r) => ({ ...r, count: values[`reason:${r.code}`]! })),
    },
    withheld: Object.keys(withheld).length > 0,
  };
}

/**
 * The value the dashboard may see, and whether anything was withheld. Knows
 * the shapes the schema publishes: a count, and a list of entity qualities.
 * Any other shape is a mistake in the rules and throws.
 */
export function publishFigure(value: unknown, options: SuppressionOptions): { value: unknown; withheld: boolean } {
  if (value === null || value === undefined) return { value: null, withheld: false };
  if (typeof value === 'number') {
    const shown = suppressCount(value, options);
    return { value: shown, withheld: shown === null };
  }
  if (Array.isArray(value) && value.every(isQuality)) {
    const out = value.map((q) => publishQuality(q, options));
    return { value: out.map((o) => o.value), withheld: out.some((o) => o.withheld) };
  }
  throw new Error('a published figure must be a count or a list of entity qualities');
}
