/**
 * The conformance check over a fixture city file and a fake connector: what
 * it reports for a renamed field, a code the vocabulary lacks, a refused key,
 * an unset variable and a file that breaks a rule.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent } from 'undici';
import { afterAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../runtime/logger.ts';
import { CityError } from '../schema/errors.ts';
import { fiscalCodeCheckChar } from '../schema/fiscal-code.ts';
import { runConformance, UnknownCityError, worstStatus, type ConformanceReport } from './conformance.ts';
import type { ConnectorFactory } from './city-adapter.ts';
import type { RawRow } from './port.ts';

const dispatcher = new Agent();
const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  await dispatcher.close();
});

const cityFile = {
  code: '090064', name: 'Sassari', region: 'Sardegna', province: 'SS', editions: ['LGNET3'],
  sources: [
    {
      id: 'main', kind: 'rest', domains: ['people'],
      baseUrl: { env: 'LGNET_090064_MAIN_URL' },
      auth: { header: 'X-API-Key', key: { env: 'LGNET_090064_MAIN_KEY' } },
      paging: { style: 'page', startParam: 'page', sizeParam: 'size', maxPageSize: 500, itemsPath: 'data', totalPath: 'total' },
      dateFormat: 'yyyy-mm-dd',
      vocabularies: { sex: { M: 'MALE', F: 'FEMALE' }, intakeChannel: { SPORTELLO: 'ONE_STOP_SHOP', UDS: 'MOBILE_UNIT' } },
      entities: {
        beneficiaries: {
          path: '/assistiti',
          fields: {
            localId: 'id', fiscalCode: 'cf', givenName: 'nome', familyName: 'cognome', sex: 'sesso', birthDate: 'nascita',
            citizenship: 'cittadinanza', permitType: 'permesso', vulnerabilities: 'fragilita', intakeDate: 'presa',
            intakeChannel: 'canale', intakeStatus: 'stato',
          },
        },
      },
    },
  ],
};

function citiesDir(file: unknown = cityFile): string {
  const dir = mkdtempSync(join(tmpdir(), 'lgnet-conformance-'));
  dirs.push(dir);
  writeFileSync(join(dir, '090064-sassari.json'), JSON.stringify(file));
  return dir;
}

const cf = (n: number) => {
  const first15 = `DMCNGZ90A41Z${String(300 + n).padStart(3, '0')}`;
  return first15 + fiscalCodeCheckChar(first15);
};
/** Ten valid persons, each as `change` makes it. */
const persons = (change: (row: Record<string, unknown>, i: number) => void = () => {}): RawRow[] =>
  Array.from({ length: 10 }, (_, i) => {
    const row: Record<string, unknown> = {
      id: `B${i}`, cf: cf(i), nome: 'Ngozi', cognome: 'Okafor', sesso: 'F', nascita: '1990-01-01', cittadinanza: 'NG',
      permesso: 'ASYLUM_SEEKER', fragilita: '', presa: '2024-04-03', canale: i % 2 ? 'UDS' : 'SPORTELLO', stato: 'ACTIVE',
    };
    change(row, i);
    return row;
  });

/** A connector that serves these rows, or fails every request with this error. */
function upstream(rows: readonly RawRow[], error?: CityError): ConnectorFactory {
  return () => ({
    kind: 'rest',
    async page(_entity, { offset, limit }) {
      if (error) throw error;
      return { rows: rows.slice(offset, offset + limit), total: rows.length };
    },
    async lookup() {
      if (error) throw error;
      return [];
    },
    status: () => ({ status: 'UNKNOWN', asOf: null }),
  });
}

const env = { LGNET_090064_MAIN_URL: 'http://127.0.0.1:1', LGNET_090064_MAIN_KEY: 'a-key' };
const run = (factory: ConnectorFactory, options: { dir?: string; env?: Record<string, string> } = {}) =>
  runConformance('090064', {
    env: options.env ?? env,
    deps: { dispatcher, now: Date.now, logger: silentLogger },
    citiesDir: options.dir ?? citiesDir(),
    createConnector: factory,
  });
const check = (r: ConformanceReport, name: string, entity?: string) => r.checks.find((c) => c.check === name && (entity === undefined || c.entity === entity));

describe('the conformance check', () => {
  it('passes a city whose records all map, and times the request that reached the source', async () => {
    const report = await run(upstream(persons()));
    expect(worstStatus(report)).toBe('PASS');
    expect(check(report, 'reachable')).toMatchObject({ source: 'main', status: 'PASS' });
    expect(check(report, 'reachable')!.detail).toMatch(/beneficiaries \d+ ms/);
    expect(check(report, 'sample', 'beneficiaries')!.detail).toContain('10 sampled, 0 rejected');
    expect(check(report, 'quality', 'beneficiaries')!.detail).toContain('received 10 = accepted 10 + rejected 0');
    expect(check(report, 'pushdown', 'beneficiaries')!.detail).toContain('no filters declared');
  });

  it('fails a field the system renamed, naming fields.<canonical> and the column it no longer sends', async () => {
    const report = await run(upstream(persons((row) => {
      row.canale_v2 = row.canale;
      delete row.canale;
    })));
    const fields = check(report, 'fields', 'beneficiaries')!;
    expect(fields.status).toBe('FAIL');
    expect(fields.detail).toContain('fields.intakeChannel names `canale`, which the system does not send');
    expect(fields.fix).toContain('090064-sassari.json sources[id=main].entities.beneficiaries.fields');
    expect(check(report, 'sample', 'beneficiaries')).toMatchObject({ status: 'FAIL' });
    expect(check(report, 'quality', 'beneficiaries')).toMatchObject({ status: 'FAIL' });
    expect(worstStatus(report)).toBe('FAIL');
  });

  it('warns of a code the vocabulary lacks, naming vocabularies.intakeChannel and the code, while few records carry it', async () => {
    const report = await run(upstream(persons((row, i) => {
      if (i === 0) row.canale = 'WEB';
    })));
    const codes = check(report, 'codes', 'beneficiaries')!;
    expect(codes.status).toBe('WARN');
    expect(codes.detail).toContain('"WEB" (1)');
    expect(codes.detail).toContain('vocabularies.intakeChannel');
    expect(codes.fix).toBe('add "WEB" to 090064-sassari.json sources[id=main].vocabularies.intakeChannel, each mapped to its national code');
    expect(worstStatus(report)).toBe('WARN');
  });

  it('fails a code the vocabulary lacks once it rejects more than maxRejectedShare of the records', async () => {
    const report = await run(upstream(persons((row, i) => {
      if (i < 5) row.canale = i % 2 ? 'web ' : 'WEB';
    })));
    const codes = check(report, 'codes', 'beneficiaries')!;
    expect(codes.status).toBe('FAIL');
    // Matched as the mapper matches: case and spaces do not count, each spelling is named.
    expect(codes.detail).toMatch(/5 of 10 sampled records rejected UNKNOWN_CODE in intakeChannel: local codes "WEB" \(3\), "web" \(2\)/);
  });

  it('fails a source that refuses the key, naming the variable that holds it', async () => {
    const report = await run(upstream([], new CityError('CITY_AUTH_FAILED', '090064', 'status 401')));
    const reachable = check(report, 'reachable')!;
    expect(reachable.status).toBe('FAIL');
    expect(reachable.detail).toContain('the key in LGNET_090064_MAIN_KEY is refused');
    expect(reachable.fix).toContain('header "X-API-Key"');
    expect(check(report, 'sample')).toBeUndefined();
  });

  it('fails a source whose variables are not set, naming each one and the key of the file that references it', async () => {
    const report = await run(upstream(persons()), { env: { LGNET_090064_MAIN_URL: 'http://127.0.0.1:1' } });
    const e = check(report, 'env')!;
    expect(e.status).toBe('FAIL');
    expect(e.detail).toBe('LGNET_090064_MAIN_KEY (auth.key) not set');
    expect(e.fix).toContain('090064-sassari.json sources[id=main].auth.key');
  });

  it('fails a file that breaks a rule, naming the file and the rule as the loader does', async () => {
    const broken = structuredClone(cityFile) as { sources: Array<{ entities: { beneficiaries: { fields: Record<string, string> } } }> };
    delete broken.sources[0]!.entities.beneficiaries.fields.intakeStatus;
    const report = await run(upstream(persons()), { dir: citiesDir(broken) });
    expect(report.checks).toHaveLength(1);
    expect(report.checks[0]!.status).toBe('FAIL');
    expect(report.checks[0]!.detail).toMatch(/^090064-sassari\.json: .*no source field mapped to "intakeStatus"/s);
  });

  it('refuses a city that has no file', async () => {
    await expect(runConformance('001272', { env, deps: { dispatcher, now: Date.now, logger: silentLogger }, citiesDir: citiesDir() })).rejects.toBeInstanceOf(UnknownCityError);
  });
});
