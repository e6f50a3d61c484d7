import ExcelJS from 'exceljs';
import { describe, expect, it } from 'vitest';
import type { ExportCoverage } from './coverage.ts';
import { toCsv, toJson, toXlsx, type ExportResult } from './formats.ts';
import { cellOf } from './table.ts';

const coverage: ExportCoverage = {
  requestedAt: '2025-03-01T10:00:00.000Z',
  citiesAsked: 3,
  citiesAnswered: 2,
  missing: [{ city: '090064', name: 'Sassari', code: 'CITY_UNAVAILABLE', reason: 'City 090064 is unavailable: connection failed (ECONNREFUSED)' }],
  stale: [{ city: '015146', asOf: '2025-02-28T08:00:00.000Z' }],
  degraded: [{ city: '063049', reason: '40 % of beneficiaries rejected; mainly MISSING_FIELD' }],
  rejected: 7,
  otherErrors: [{ code: 'RECORD_REJECTED', city: '082053', count: 2, message: 'City 082053 sent a record that was rejected' }],
};

const result: ExportResult = {
  rowsFrom: 'report.cities',
  otherLists: [],
  items: [{ city: { code: '082053' } }, { city: { code: '090064' } }],
  table: {
    columns: ['city.code', 'note', 'progress', 'signed', 'updated'],
    rows: [
      ['082053', '=HYPERLINK("http://x")', 0.25, cellOf('2024-03-01', 'Date'), cellOf('2025-01-02T03:04:05.000Z', 'DateTime')],
      ['090064', 'a; b "c"\nd', 12, null, null],
    ],
  },
  outside: [{ name: 'report.from', cell: cellOf('2024-06-01', 'Date') }, { name: 'report.totals.beneficiaries', cell: 30 }],
  coverage,
  pages: 1,
};

describe('CSV', () => {
  const text = toCsv(result).toString('utf8');
  const lines = text.split('\r\n');

  it('starts with a byte-order mark and ends every line, the last included, with CRLF', () => {
    expect(text.startsWith('\uFEFF')).toBe(true);
    expect(text.endsWith('\r\n')).toBe(true);
    expect(text.replaceAll('\r\n', '').includes('\r')).toBe(false);
  });

  it('gives the coverage and the values outside the rows as comment lines before the header', () => {
    const header = lines.findIndex((l) => l === 'city.code;note;progress;signed;updated');
    const comments = lines.slice(0, header).map((l) => l.replace('\uFEFF', ''));
    expect(comments.every((l) => l.startsWith('# '))).toBe(true);
    expect(comments).toContain('# asked at: 2025-03-01T10:00:00.000Z');
    expect(comments).toContain('# cities asked: 3');
    expect(comments).toContain('# cities answered: 2');
    expect(comments).toContain('# missing: 090064 Sassari CITY_UNAVAILABLE: City 090064 is unavailable: connection failed (ECONNREFUSED)');
    expect(comments).toContain('# stale: 015146 as of 2025-02-28T08:00:00.000Z');
    // The separator inside a comment would split it over cells.
    expect(comments).toContain('# degraded: 063049: 40 % of beneficiaries rejected, mainly MISSING_FIELD');
    expect(comments).toContain('# rejected records: 7');
    expect(comments).toContain('# report.from: 2024-06-01');
  });

  it('separates fields with semicolons, writes decimals with a comma, and quotes as RFC 4180 says', () => {
    expect(text).toContain('\r\n082053;"\'=HYPERLINK(""http://x"")";0,25;2024-03-01;2025-01-02T03:04:05.000Z\r\n');
    expect(text).toContain('\r\n090064;"a; b ""c""\nd";12;;\r\n');
  });
});

describe('XLSX', async () => {
  const book = new ExcelJS.Workbook();
  await book.xlsx.load((await toXlsx(result)) as unknown as ArrayBuffer);
  const data = book.getWorksheet('Data')!;
  const cover = book.getWorksheet('Coverage')!;

  it('has a header row, then one row per row of the table', () => {
    expect(data.getRow(1).values).toEqual([undefined, 'city.code', 'note', 'progress', 'signed', 'updated']);
    expect(data.actualRowCount).toBe(3);
  });

  it('keeps numbers as number cells, dates as date cells and text as text, a formula neutralised', () => {
    const row = data.getRow(2);
    expect(row.getCell(1).type).toBe(ExcelJS.ValueType.String);
    expect(row.getCell(1).value).toBe('082053');
    expect(row.getCell(2).type).toBe(ExcelJS.ValueType.String);
    expect(row.getCell(2).value).toBe('\'=HYPERLINK("http://x")');
    expect(row.getCell(3).type).toBe(ExcelJS.ValueType.Number);
    expect(row.getCell(3).value).toBe(0.25);
    expect(row.getCell(4).type).toBe(ExcelJS.ValueType.Date);
    expect((row.getCell(4).value as Date).toISOString()).toBe('2024-03-01T00:00:00.000Z');
    expect(row.getCell(5).type).toBe(ExcelJS.ValueType.Date);
    expect((row.getCell(5).value as Date).toISOString()).toBe('2025-01-02T03:04:05.000Z');
    expect(data.getRow(3).getCell(4).type).toBe(ExcelJS.ValueType.Null);
  });

  it('has a Coverage sheet naming the cities asked and answered, each missing, stale and degraded city, and when it was asked', () => {
    const rows = cover.getSheetValues().filter(Boolean).map((r) => (r as unknown[]).slice(1));
    const find = (label: string) => rows.find((r) => r[0] === label);
    expect(find('Cities asked')?.[1]).toBe(3);
    expect(find('Cities answered')?.[1]).toBe(2);
    expect(find('Rejected records')?.[1]).toBe(7);
    expect((find('Asked at')?.[1] as Date).toISOString()).toBe('2025-03-01T10:00:00.000Z');
    expect(find('090064')).toEqual(['090064', 'Sassari', 'CITY_UNAVAILABLE', coverage.missing[0]!.reason]);
    expect((find('015146')?.[2] as Date).toISOString()).toBe('2025-02-28T08:00:00.000Z');
    expect(find('063049')?.[2]).toBe(coverage.degraded[0]!.reason);
    expect(find('RECORD_REJECTED')?.slice(0, 3)).toEqual(['RECORD_REJECTED', '082053', 2]);
    expect(find('report.totals.beneficiaries')?.[1]).toBe(30);
  });
});

describe('JSON', () => {
  it('keeps the rows as the graph answered them, with the coverage beside them', () => {
    const parsed = JSON.parse(toJson(result).toString('utf8'));
    expect(parsed.rows).toEqual(result.items);
    expect(parsed.rowsFrom).toBe('report.cities');
    expect(parsed.coverage).toEqual(coverage);
    expect(parsed.outside).toEqual({ 'report.from': '2024-06-01', 'report.totals.beneficiaries': 30 });
  });
});
