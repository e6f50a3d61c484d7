import { describe, expect, it } from 'vitest';
import { shapeOf } from './shape.ts';
import { cellOf, chooseRows, MAX_LIST_COLUMNS, neutralise, outsideRows, rowsAt, tabulate, type Cell } from './table.ts';

/** The table of a query's answer, rows chosen as an export chooses them. */
function tableOf(query: string, data: Record<string, unknown>, rows?: string) {
  const { root } = shapeOf(query);
  const choice = chooseRows(root, data, rows);
  const table = tabulate(choice.shape, rowsAt(data, choice.path));
  const column = (name: string) => {
    const i = table.columns.indexOf(name);
    expect(i, `column ${name} among ${table.columns.join(', ')}`).toBeGreaterThanOrEqual(0);
    return table.rows.map((r) => r[i]);
  };
  return { choice, table, column, outside: outsideRows(root, data, choice.shape) };
}

const dateOf = (cell: Cell) => (cell !== null && typeof cell === 'object' ? cell.date.toISOString() : cell);

describe('flattening a row', () => {
  const query = `{ beneficiaries(first: 2) { nodes { id city { code name } intake { month channel } vulnerabilities placements { resource { kind } fromMonth } } } }`;

  it('names nested fields by their dotted path, and keeps the columns of an object that is null in every row', () => {
    const { table, column } = tableOf(query, {
      beneficiaries: { nodes: [{ id: 'a', city: { code: '082053', name: 'Palermo' }, intake: null, vulnerabilities: [], placements: [] }] },
    });
    expect(table.columns.slice(0, 5)).toEqual(['id', 'city.code', 'city.name', 'intake.month', 'intake.channel']);
    expect(column('city.code')).toEqual(['082053']);
    expect(column('intake.channel')).toEqual([null]);
  });

  it('joins a list of scalars with a semicolon', () => {
    const { column } = tableOf(query, {
      beneficiaries: { nodes: [{ id: 'a', vulnerabilities: ['DISABILITY', 'PREGNANCY'], placements: [] }, { id: 'b', vulnerabilities: [], placements: [] }] },
    });
    expect(column('vulnerabilities')).toEqual(['DISABILITY; PREGNANCY', '']);
  });

  it('spreads a list of objects over indexed columns, as many as the longest list holds', () => {
    const { table, column } = tableOf(query, {
      beneficiaries: {
        nodes: [
          { id: 'a', placements: [{ resource: { kind: 'FLAT' }, fromMonth: '2024-01' }] },
          { id: 'b', placements: [{ resource: { kind: 'SHELTER' }, fromMonth: '2024-02' }, { resource: null, fromMonth: '2024-05' }] },
        ],
      },
    });
    expect(table.columns.filter((c) => c.startsWith('placements'))).toEqual([
      'placements[0].resource.kind',
      'placements[0].fromMonth',
      'placements[1].resource.kind',
      'placements[1].fromMonth',
    ]);
    expect(column('placements[1].fromMonth')).toEqual([null, '2024-05']);
    expect(column('placements[0].resource.kind')).toEqual(['FLAT', 'SHELTER']);
  });

  it('counts a list of objects instead when some row holds more items than there may be columns for', () => {
    const many = Array.from({ length: MAX_LIST_COLUMNS + 1 }, () => ({ resource: { kind: 'FLAT' }, fromMonth: '2024-01' }));
    const { table, column } = tableOf(query, { beneficiaries: { nodes: [{ id: 'a', placements: many }, { id: 'b', placements: [] }] } });
    expect(table.columns.filter((c) => c.startsWith('placements'))).toEqual(['placements.count']);
    expect(column('placements.count')).toEqual([MAX_LIST_COLUMNS + 1, 0]);
  });

  it('joins a list of objects asked for one field only, like a list of scalars', () => {
    const { column } = tableOf(`{ beneficiaryFigures(by: [MONTH]) { groups { keys count citiesMissing { code } } } }`, {
      beneficiaryFigures: { groups: [{ keys: ['2024-01'], count: 3, citiesMissing: [{ code: '090064' }, { code: '015146' }] }] },
    });
    expect(column('citiesMissing.code')).toEqual(['090064; 015146']);
    expect(column('count')).toEqual([3]);
  });

  it('makes date cells of Date and DateTime fields, and leaves text typed String as text even when it looks like a date', () => {
    const { column } = tableOf(`{ report(edition: LGNET3) { from cities { city { code source { asOf } } beneficiaries } } beneficiaryFigures(by: [MONTH]) { groups { keys } } }`, {
      report: { from: '2024-06-01', cities: [{ city: { code: '2024-03-01', source: { asOf: '2025-01-02T03:04:05.000Z' } }, beneficiaries: 12 }] },
      beneficiaryFigures: { groups: [] },
    }, 'report.cities');
    expect(column('city.code')).toEqual(['2024-03-01']);
    expect(dateOf(column('city.source.asOf')[0]!)).toBe('2025-01-02T03:04:05.000Z');
    expect(column('beneficiaries')).toEqual([12]);
  });
});

describe('a cell', () => {
  it('is a date at UTC midnight for a Date value, and text for a day that does not exist', () => {
    expect(dateOf(cellOf('2024-03-01', 'Date'))).toBe('2024-03-01T00:00:00.000Z');
    expect(cellOf('2024-02-31', 'Date')).toBe('2024-02-31');
  });

  it('is a date for an ISO string of a field the schema does not know, and text for a month', () => {
    expect(dateOf(cellOf('2024-03-01'))).toBe('2024-03-01T00:00:00.000Z');
    expect(dateOf(cellOf('2024-03-01T10:00:00+01:00'))).toBe('2024-03-01T09:00:00.000Z');
    expect(cellOf('2024-03')).toBe('2024-03');
  });

  it('keeps numbers and booleans as they are', () => {
    expect(cellOf(0.25, 'Float')).toBe(0.25);
    expect(cellOf(false, 'Boolean')).toBe(false);
    expect(cellOf(null, 'Int')).toBeNull();
  });
});

describe('neutralising formulas', () => {
  it.each(['=1+2', '+39 06', '-5', '@SUM(A1)', '\tx', '\rx'])('prefixes %j with an apostrophe', (text) => {
    expect(neutralise(text)).toBe(`'${text}`);
  });

  it('leaves other text alone', () => {
    expect(neutralise('Palermo')).toBe('Palermo');
    expect(neutralise('a=b')).toBe('a=b');
    expect(neutralise('')).toBe('');
  });
});

describe('choosing the rows', () => {
  const report = `{
    report(edition: LGNET3) {
      from
      totals { beneficiaries targets { indicator target } coverage { citiesAsked missing { city { code } code reason } } }
      cities { city { code name } beneficiaries targets { indicator target progress } }
    }
  }`;
  const data = {
    report: {
      from: '2024-06-01',
      totals: { beneficiaries: 30, targets: [{ indicator: 'A', target: 10 }, { indicator: 'B', target: 20 }, { indicator: 'C', target: 5 }], coverage: { citiesAsked: 2, missing: [] } },
      cities: [
        { city: { code: '082053', name: 'Palermo' }, beneficiaries: 20, targets: [] },
        { city: { code: '090064', name: 'Sassari' }, beneficiaries: 10, targets: [] },
      ],
    },
  };

  it("takes the list whose items ask for the most fields, never coverage's, and says which others there were", () => {
    const { choice } = tableOf(report, data);
    expect(choice.path).toEqual(['report', 'cities']);
    expect(choice.others).toEqual(['report.totals.targets']);
  });

  it('takes the list named instead, when one is', () => {
    const { choice, column } = tableOf(report, data, 'report.totals.targets');
    expect(choice.path).toEqual(['report', 'totals', 'targets']);
    expect(column('indicator')).toEqual(['A', 'B', 'C']);
  });

  it('refuses a name that is no list of the answer, listing those there are', () => {
    expect(() => tableOf(report, data, 'report.nothing')).toThrow(/report\.nothing is not a list of objects in the answer: its lists are report\.totals\.targets, report\.cities/);
  });

  it('keeps the values outside the rows, coverage aside', () => {
    const { outside } = tableOf(report, data);
    expect(outside.map((o) => o.name)).toEqual(['report.from', 'report.totals.beneficiaries', 'report.totals.targets[0].indicator', 'report.totals.targets[0].target', 'report.totals.targets[1].indicator', 'report.totals.targets[1].target', 'report.totals.targets[2].indicator', 'report.totals.targets[2].target']);
    expect(outside.find((o) => o.name === 'report.totals.beneficiaries')?.cell).toBe(30);
  });

  it('makes one row of an answer with no list of objects', () => {
    const { choice, table } = tableOf(`{ city(code: "082053") { code name population { residents } } }`, { city: { code: '082053', name: 'Palermo', population: { residents: 630000 } } });
    expect(choice.path).toEqual([]);
    expect(table.columns).toEqual(['city.code', 'city.name', 'city.population.residents']);
    expect(table.rows).toEqual([['082053', 'Palermo', 630000]]);
  });

  it('still has a header for a list with no items', () => {
    const { table } = tableOf(`{ beneficiaryFigures(by: [MONTH]) { groups { keys count } } }`, { beneficiaryFigures: { groups: [] } });
    expect(table.columns).toEqual(['keys', 'count']);
    expect(table.rows).toEqual([]);
  });
});

describe('a paged list', () => {
  it('is walked through the variable its after argument takes', () => {
    const { walk } = shapeOf(`query Q($next: String) { beneficiaries(first: 500, after: $next) { total: totalCount nodes { id } pageInfo { more: hasNextPage endCursor } } }`);
    expect(walk).toEqual({ path: ['beneficiaries'], afterVariable: 'next', nodesKey: 'nodes', pageInfoKey: 'pageInfo', hasNextPageKey: 'more', endCursorKey: 'endCursor', totalCountKey: 'total' });
  });

  it('is refused when its after argument is not a variable', () => {
    expect(() => shapeOf(`{ beneficiaries(first: 500) { nodes { id } pageInfo { hasNextPage endCursor } } }`)).toThrow(/beneficiaries is paged .* declare \$after: String/);
    expect(() => shapeOf(`{ beneficiaries(first: 500, after: "x") { nodes { id } pageInfo { hasNextPage endCursor } } }`)).toThrow(/not a variable/);
  });

  it('is refused when it does not ask for what a walk needs', () => {
    expect(() => shapeOf(`query($after: String) { beneficiaries(after: $after) { nodes { id } pageInfo { hasNextPage } } }`)).toThrow(/pageInfo \{ hasNextPage endCursor \}/);
    expect(() => shapeOf(`query($after: String) { beneficiaries(after: $after) { totalCount pageInfo { hasNextPage endCursor } } }`)).toThrow(/asks for no nodes/);
  });

  it('is refused with another paged list beside it', () => {
    expect(() =>
      shapeOf(`query($a: String, $b: String) { beneficiaries(after: $a) { nodes { id } pageInfo { hasNextPage endCursor } } placements(after: $b) { nodes { id } pageInfo { hasNextPage endCursor } } }`),
    ).toThrow(/pages through beneficiaries and placements: export one list at a time/);
  });

  it('is found through fragments too', () => {
    const { walk } = shapeOf(`query($after: String) { beneficiaries(after: $after) { ...Page } } fragment Page on BeneficiaryConnection { nodes { id } pageInfo { hasNextPage endCursor } }`);
    expect(walk?.path).toEqual(['beneficiaries']);
  });
});
