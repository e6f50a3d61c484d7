/**
 * The sandbox's bad-input faults, each as the stand-in of a kind of source
 * serves it and as that kind's connector meets it: a few cities of the
 * registry, one per kind, chosen by their config (never by code: the roster
 * may change).
 */
import { Agent } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadCityConfigs, resolveCity, type CityConfig, type ResolvedSource } from '../adapters/config.ts';
import { createConnector } from '../adapters/connectors/index.ts';
import { defaultCitiesDir } from '../adapters/fleet.ts';
import { createRowMapper } from '../adapters/mapping.ts';
import type { SourceConnector } from '../adapters/port.ts';
import { silentLogger } from '../runtime/logger.ts';
import { CityError } from '../schema/errors.ts';
import type { EntityName } from '../schema/records.ts';
import { FaultSpecError, parseFaults } from './faults.ts';
import { startSandbox, type Sandbox } from './index.ts';

type Source = CityConfig['sources'][number];
const registry = loadCityConfigs(defaultCitiesDir);
const isUtf8 = (s: Source) => s.kind === 'csv' && /^utf-?8$/i.test(s.encoding);

/** The first city with a source that is `kind` and passes `also`, and that source; undefined when the registry has none. */
function pick(kind: Source['kind'], also: (s: Source) => boolean = () => true): { city: CityConfig; source: Source } | undefined {
  for (const city of registry) {
    const source = city.sources.find((s) => s.kind === kind && s.entities.beneficiaries && also(s));
    if (source) return { city, source };
  }
  return undefined;
}

const rest = pick('rest')!;
const soap = pick('soap')!;
const csvOneByte = pick('csv', (s) => !isUtf8(s))!;
const csvUtf8 = pick('csv', isUtf8);
const sheet = pick('spreadsheet', (s) => s.entities.housingResources !== undefined)!;
const chosen = [rest, soap, csvOneByte, csvUtf8, sheet].filter((p) => p !== undefined);

let sandbox: Sandbox;
const agent = new Agent();

beforeAll(async () => {
  sandbox = await startSandbox({ configs: [...new Map(chosen.map((p) => [p.city.code, p.city])).values()] });
}, 60_000);
afterEach(async () => {
  await sandbox.setFaults('');
});
afterAll(async () => {
  await sandbox?.close();
  await agent.close();
});

/** A new connector (nothing cached, a closed circuit) for a chosen source, as the subgraphs build it. */
function connectorOf(p: { city: CityConfig; source: Source }): { connector: SourceConnector; resolved: ResolvedSource } {
  const resolved = resolveCity(p.city, sandbox.env).sources.find((s) => s.id === p.source.id)!;
  return { connector: createConnector(p.city.code, { ...resolved, retries: 0 }, { dispatcher: agent, now: Date.now, logger: silentLogger }), resolved };
}

async function cityError(p: Promise<unknown>): Promise<CityError> {
  const e = await p.then(() => undefined, (err: unknown) => err);
  expect(e).toBeInstanceOf(CityError);
  return e as CityError;
}

const everything = (connector: SourceConnector, entity: EntityName = 'beneficiaries') => connector.page(entity, { offset: 0, limit: 100_000 });
/** The file a snapshot source's people are in (an export, a workbook). */
const exportPath = (s: Source) => (s.entities.beneficiaries as { path: string }).path;
const fieldOf = (s: Source, entity: EntityName, field: string) => (s.entities[entity]!.fields as Record<string, string>)[field]!;
/** A required field of a person read from one field of the source's own (not a template, not an attribute). */
const plainField = (s: Source) => ['birthDate', 'familyName', 'givenName', 'fiscalCode'].find((f) => !/[{}@]/.test(fieldOf(s, 'beneficiaries', f)))!;

describe('bad-input faults', () => {
  it('are read from the environment format, each with the argument it takes', () => {
    const faults = parseFaults('090064=truncate,015146=duplicate,054039=encoding,070006=formula,027042=soapfault,032006=soapfault:auth');
    expect(Object.fromEntries(faults)).toEqual({
      '090064': { kind: 'truncate' },
      '015146': { kind: 'duplicate' },
      '054039': { kind: 'encoding' },
      '070006': { kind: 'formula' },
      '027042': { kind: 'soapfault', auth: false },
      '032006': { kind: 'soapfault', auth: true },
    });
    expect(() => parseFaults('027042=soapfault:client')).toThrow(/soapfault takes "auth" or nothing/);
    expect(() => parseFaults('090064=truncate:3')).toThrow(/truncate takes no argument/);
  });

  it('are refused for a source whose kind cannot have them, naming the target, the source and the fault', async () => {
    const restSource = `${rest.city.code}/${rest.source.id}`;
    const cases: Array<[string, RegExp]> = [
      [`${rest.city.code}=formula`, new RegExp(`fault target ${rest.city.code}: source ${restSource} is rest, which cannot have the fault formula`)],
      [`${restSource}=encoding`, new RegExp(`source ${restSource} is rest, which cannot have the fault encoding`)],
      [`${csvOneByte.city.code}=soapfault`, /is csv, which cannot have the fault soapfault/],
      [`${soap.city.code}=formula`, /is soap, which cannot have the fault formula/],
    ];
    for (const [spec, message] of cases) {
      const refused = sandbox.setFaults(spec);
      await expect(refused, spec).rejects.toThrow(FaultSpecError);
      await expect(sandbox.setFaults(spec), spec).rejects.toThrow(message);
    }
  });
});

describe('a CSV export', () => {
  it('cut halfway through a row arrives whole, and is refused by its connector as a truncated file', async () => {
    await sandbox.setFaults(`${csvOneByte.city.code}=truncate`);
    const { connector } = connectorOf(csvOneByte);

    const e = await cityError(everything(connector));

    expect(e).toMatchObject({ code: 'CITY_BAD_RESPONSE', city: csvOneByte.city.code });
    expect(e.detail).toMatch(new RegExp(`^the export ${exportPath(csvOneByte.source).replace(/[./]/g, '\\$&')}: the last row has 2 cells where the header has \\d+ \\(a truncated file\\?\\) at line \\d+$`));
  });

  it('in the other encoding is refused by its connector, naming the encoding key, both ways', async () => {
    for (const p of [csvOneByte, csvUtf8].filter((x) => x !== undefined)) {
      await sandbox.setFaults(`${p.city.code}=encoding`);
      const { connector } = connectorOf(p);

      const e = await cityError(everything(connector));

      expect(e, p.city.code).toMatchObject({ code: 'CITY_BAD_RESPONSE', city: p.city.code });
      expect(e.detail, p.city.code).toContain(`sources[id=${p.source.id}].encoding in adapters/cities/${p.city.code}-`);
      expect(e.detail, p.city.code).toMatch(isUtf8(p.source) ? /its bytes are not UTF-8/ : /its letters are UTF-8/);
    }
  });

  it('with a renamed column is refused, naming the column and the key that names it', async () => {
    const field = plainField(csvOneByte.source);
    const column = fieldOf(csvOneByte.source, 'beneficiaries', field);
    await sandbox.setFaults(`${csvOneByte.city.code}=rename:${column}`);
    const { connector } = connectorOf(csvOneByte);

    const e = await cityError(everything(connector));

    expect(e.detail).toContain(`has no column "${column}" (renamed or removed?): change sources[id=${csvOneByte.source.id}].entities.beneficiaries.fields.${field} in adapters/cities/${csvOneByte.city.code}-`);
  });
});

describe('a SOAP service', () => {
  it("answering with a fault of its own is CITY_SOURCE_ERROR naming the faultcode, and an authentication fault CITY_AUTH_FAILED", async () => {
    await sandbox.setFaults(`${soap.city.code}=soapfault`);
    const server = await cityError(everything(connectorOf(soap).connector));
    await sandbox.setFaults(`${soap.city.code}=soapfault:auth`);
    const auth = await cityError(everything(connectorOf(soap).connector));

    expect(server).toMatchObject({ code: 'CITY_SOURCE_ERROR', city: soap.city.code, detail: 'SOAP fault soap:Server ("database non disponibile")' });
    expect(auth).toMatchObject({ code: 'CITY_AUTH_FAILED', city: soap.city.code, detail: 'SOAP fault soap:Client.Authentication ("credenziali non valide")' });
  });

  it('cut halfway is refused as a body that does not parse as XML', async () => {
    await sandbox.setFaults(`${soap.city.code}=truncate`);

    const e = await cityError(everything(connectorOf(soap).connector));

    expect(e).toMatchObject({ code: 'CITY_BAD_RESPONSE', detail: 'expected a SOAP envelope, got a body that does not parse as XML' });
  });

  it('with a renamed element sends records without it, the rest as before', async () => {
    const path = fieldOf(soap.source, 'beneficiaries', plainField(soap.source));
    await sandbox.setFaults(`${soap.city.code}=rename:${path}`);

    const { rows } = await everything(connectorOf(soap).connector);

    expect(rows.length).toBeGreaterThan(0);
    expect(rows.every((r) => r[path] === undefined && r[`${path}_v2`] !== undefined)).toBe(true);
    expect(rows.every((r) => r[fieldOf(soap.source, 'beneficiaries', 'localId')] !== undefined)).toBe(true);
  });
});

describe('a spreadsheet', () => {
  it('with formulas where the places of housing resources belong has those resources rejected as INVALID_VALUE', async () => {
    await sandbox.setFaults(`${sheet.city.code}=formula`);
    const { connector, resolved } = connectorOf(sheet);
    const mapper = createRowMapper(sheet.city.code, resolved, 'sixteen-chars-secret');

    const { rows } = await everything(connector, 'housingResources');
    const mapped = rows.map((r) => mapper.map('housingResources', r));

    expect(mapped.slice(0, 2).map((m) => (m.ok ? 'accepted' : [m.rejection.reason, m.rejection.field]))).toEqual([
      ['INVALID_VALUE', 'capacity'],
      ['INVALID_VALUE', 'capacity'],
    ]);
    expect(mapped[0]).toMatchObject({ rejection: { detail: expect.stringMatching(/holds a formula whose result is the error #VALUE!$/) } });
  });

  it('cut halfway is refused as an unreadable workbook', async () => {
    await sandbox.setFaults(`${sheet.city.code}=truncate`);

    const e = await cityError(everything(connectorOf(sheet).connector));

    expect(e).toMatchObject({ code: 'CITY_BAD_RESPONSE', detail: 'not a readable xlsx workbook (a truncated or corrupt file?)' });
  });
});

describe('duplicate', () => {
  it('sends the first record of a list again at its end, in the total too, from every kind of source that can have it', async () => {
    for (const p of [rest, soap, csvOneByte, sheet]) {
      const before = await everything(connectorOf(p).connector);
      await sandbox.setFaults(`${p.city.code}=duplicate`);

      const after = await everything(connectorOf(p).connector);

      const id = fieldOf(p.source, 'beneficiaries', 'localId');
      expect(after.total, p.city.code).toBe(before.total + 1);
      expect(after.rows.map((r) => String(r[id])), p.city.code).toEqual([...before.rows, before.rows[0]!].map((r) => String(r[id])));
      await sandbox.setFaults('');
    }
  });
});

describe('truncate on a JSON API', () => {
  it('is a complete answer of half a document, refused as JSON that does not parse', async () => {
    await sandbox.setFaults(`${rest.city.code}=truncate`);

    const e = await cityError(everything(connectorOf(rest).connector));

    expect(e).toMatchObject({ code: 'CITY_BAD_RESPONSE', city: rest.city.code, detail: 'expected JSON, got application/json that does not parse' });
  });
});
