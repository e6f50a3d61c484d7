/**
 * The SQL stand-in end to end: an embedded PostgreSQL (PGlite) behind
 * pglite-socket, read by the very connector that reads a city's database,
 * over the PostgreSQL wire protocol on loopback. No server installed.
 */
import { Agent } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveSource } from '../adapters/config.ts';
import { createSqlConnector, type SqlConnector, type SqlSource } from '../adapters/connectors/sql.ts';
import { SqlSource as SqlSourceSchema } from '../adapters/connectors/sql-config.ts';
import type { RawRow } from '../adapters/port.ts';
import { silentLogger } from '../runtime/logger.ts';
import type { EntityName } from '../schema/records.ts';
import { createSqlStandIn, type SqlStandIn } from './sql-stand-in.ts';

const city = '072006'; // Bari

const config = SqlSourceSchema.parse({
  kind: 'sql',
  dialect: 'postgres',
  id: 'cartella',
  domains: ['people', 'services'],
  baseUrl: { env: 'LGNET_072006_CARTELLA_URL' },
  dateFormat: 'dd/mm/yyyy',
  vocabularies: { sex: { M: 'MALE', F: 'FEMALE' }, intakeChannel: { SPORTELLO: 'ONE_STOP_SHOP', UDS: 'MOBILE_UNIT' } },
  // pglite-socket serves one backend: one connection is the pool (see sql-stand-in.ts).
  maxConcurrent: 1,
  retries: 0,
  entities: {
    beneficiaries: {
      view: 'cartella.v_assistiti',
      fields: {
        localId: 'id', fiscalCode: 'cf', givenName: 'nome', familyName: 'cognome', sex: 'sesso', birthDate: 'nato_il',
        citizenship: 'cittadinanza', permitType: 'permesso', vulnerabilities: 'fragilita', intakeDate: 'preso_il',
        intakeChannel: 'canale', intakeStatus: 'stato',
      },
      // Birth dates in a DATE column, intake dates as text in dd/mm/yyyy.
      dates: { birthDate: 'date' },
    },
    enrollments: {
      view: 'v_iscrizioni',
      fields: { localId: 'id', beneficiaryId: 'assistito', serviceId: 'servizio', from: 'dal', to: 'al' },
      dates: { from: 'date', to: 'date' },
    },
  },
});

const person = (id: string, sesso: string, natoIl: string, presoIl: string, canale: string): RawRow => ({
  id, cf: `CF${id}`, nome: 'Nome', cognome: "D'Ambrosio", sesso, nato_il: natoIl, cittadinanza: 'MA', permesso: 'ASILO',
  fragilita: ['TRATTA', 'SALUTE_MENTALE'], preso_il: presoIl, canale, stato: 'IN_CARICO', note: 'non esposta',
});
const rows = new Map<EntityName, RawRow[]>([
  [
    'beneficiaries',
    [
      person('B03', 'F', '12/03/1990', '10/01/2024', 'UDS'),
      person('B01', 'M', '01/02/1985', '15/02/2024', 'SPORTELLO'),
      person('B02', 'f', '31/02/1999', '20/03/2024', 'UDS'),
      person("B'; DROP VIEW cartella.v_assistiti; --", 'F', '05/06/2001', '01/04/2024', 'SPORTELLO'),
      person('B04', 'M', '', '02/05/2024', 'UDS'),
    ],
  ],
  [
    'enrollments',
    [
      { id: 'E1', assistito: 'B01', servizio: 'S1', dal: '01/03/2024', al: null },
      { id: 'E2', assistito: 'B03', servizio: 'S2', dal: '15/01/2024', al: '31/01/2024' },
      { id: 'E3', assistito: 'B01', servizio: 'S2', dal: '01/04/2024', al: '' },
    ],
  ],
]);

let standIn: SqlStandIn;
let connector: SqlConnector;
const agent = new Agent();

beforeAll(async () => {
  standIn = await createSqlStandIn({ source: config, rows });
  const source = resolveSource(city, config, { LGNET_072006_CARTELLA_URL: standIn.url }) as SqlSource;
  connector = createSqlConnector(city, source, { dispatcher: agent, now: Date.now, logger: silentLogger });
});
afterAll(async () => {
  await connector.close();
  await standIn.close();
  await agent.close();
});

describe('the SQL stand-in', () => {
  it('listens on an ephemeral loopback port and names itself by a connection string', () => {
    expect(standIn.url).toBe(`postgres://postgres@127.0.0.1:${standIn.port}/postgres`);
    expect(standIn.port).toBeGreaterThan(0);
  });

  it('serves a page of a view in the order of its localId column, with the total, DATE columns in the source format', async () => {
    standIn.resetRequestCount();
    const page = await connector.page('beneficiaries', { offset: 0, limit: 2 }, undefined);
    expect(page.total).toBe(5);
    expect(page.rows.map((r) => r.id)).toEqual(["B'; DROP VIEW cartella.v_assistiti; --", 'B01']);
    expect(page.rows[1]).toEqual({
      id: 'B01', cf: 'CFB01', nome: 'Nome', cognome: "D'Ambrosio", sesso: 'M', nato_il: '01/02/1985', cittadinanza: 'MA',
      permesso: 'ASILO', fragilita: 'TRATTA,SALUTE_MENTALE', preso_il: '15/02/2024', canale: 'SPORTELLO', stato: 'IN_CARICO',
    });
    // One COUNT, one SELECT of rows.
    expect(standIn.requestCount()).toBe(2);
    const rest = await connector.page('beneficiaries', { offset: 2, limit: 10 }, undefined);
    expect(rest.rows.map((r) => r.id)).toEqual(['B02', 'B03', 'B04']);
  });

  it('keeps an impossible or missing date out of a DATE column, and says which', async () => {
    expect(standIn.nulledDates).toEqual([{ entity: 'beneficiaries', localId: 'B02', column: 'nato_il' }]);
    const [b02, b04] = await connector.lookup('beneficiaries', 'localId', ['B02', 'B04'], undefined).then((r) => r.sort((a, b) => String(a.id).localeCompare(String(b.id))));
    expect([b02!.nato_il, b04!.nato_il]).toEqual([null, null]);
  });

  it('applies the conditions the connector pushes: codes whatever their case, DATE ranges, ids', async () => {
    const pushed = connector.pushable!('beneficiaries', { sex: ['FEMALE'], birthDate: { from: '1990', to: '1999' }, 'intake.date': { from: '2024-02' } });
    // Intake dates are text here: filtered by the caller only.
    expect(pushed).toEqual({ sex: ['FEMALE'], birthDate: { from: '1990', to: '1999' } });
    standIn.resetRequestCount();
    const page = await connector.page('beneficiaries', { offset: 0, limit: 10, where: pushed }, undefined);
    // B02 ('f') has no birth date the DATE column could hold; the odd id was born in 2001.
    expect(page.rows.map((r) => r.id)).toEqual(['B03']);
    expect(page.total).toBe(1);
    expect(standIn.requestCount()).toBe(2);

    const enrolments = await connector.page('enrollments', { offset: 0, limit: 10, where: { beneficiaryId: ['B01'], from: { from: '2024-03-01' } } }, undefined);
    expect(enrolments.rows).toEqual([
      { id: 'E1', assistito: 'B01', servizio: 'S1', dal: '01/03/2024', al: null },
      { id: 'E3', assistito: 'B01', servizio: 'S2', dal: '01/04/2024', al: null },
    ]);
  });

  it('looks ids up in one statement, quotes and DROP in a value only ever a parameter', async () => {
    standIn.resetRequestCount();
    const found = await connector.lookup('beneficiaries', 'localId', ['B03', "B'; DROP VIEW cartella.v_assistiti; --", 'B99'], undefined);
    expect(found.map((r) => r.id).sort()).toEqual(["B'; DROP VIEW cartella.v_assistiti; --", 'B03']);
    expect(standIn.requestCount()).toBe(1);
    // The view is still there.
    expect((await connector.page('beneficiaries', { offset: 0, limit: 0 }, undefined)).total).toBe(5);
    const children = await connector.lookup('enrollments', 'beneficiaryId', ['B03'], undefined);
    expect(children).toEqual([{ id: 'E2', assistito: 'B03', servizio: 'S2', dal: '15/01/2024', al: '31/01/2024' }]);
  });

  it('answers many calls at once through a pool of one connection', async () => {
    const ids = ['B01', 'B02', 'B03', 'B04'];
    const answers = await Promise.all(Array.from({ length: 12 }, (_, i) => connector.lookup('beneficiaries', 'localId', [ids[i % 4]!], undefined)));
    expect(answers.map((r) => r.map((row) => row.id))).toEqual(Array.from({ length: 12 }, (_, i) => [ids[i % 4]]));
    expect(standIn.connections().most).toBe(1);
  });

  it('stops: the source is then unavailable', async () => {
    const other = await createSqlStandIn({ source: config, rows: new Map() });
    const source = resolveSource(city, config, { LGNET_072006_CARTELLA_URL: other.url }) as SqlSource;
    const c = createSqlConnector(city, source, { dispatcher: agent, now: Date.now, logger: silentLogger });
    expect(await c.page('enrollments', { offset: 0, limit: 5 }, undefined)).toEqual({ rows: [], total: 0 });
    await c.close();
    await other.close();
    await expect(c.page('enrollments', { offset: 0, limit: 5 }, undefined)).rejects.toMatchObject({ code: 'CITY_UNAVAILABLE', city });
    expect(c.status()).toMatchObject({ status: 'DOWN' });
    await c.close();
  });

  it('speaks PostgreSQL only', async () => {
    await expect(createSqlStandIn({ source: { ...config, dialect: 'mysql' }, rows })).rejects.toThrow(/PostgreSQL only/);
  });
});
