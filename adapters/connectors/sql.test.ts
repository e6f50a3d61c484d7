/**
 * The SQL connector against the machine's real servers: PostgreSQL at
 * 127.0.0.1:5432 (user postgres, database test) and MariaDB at
 * 127.0.0.1:3306 (user root, no password, database test). Each test seeds
 * its own schema (PostgreSQL) or database (MariaDB) with a unique name from
 * fixtures/sql/servizi-sociali.sql, and drops it afterwards. The same suite
 * runs on both dialects; only the expected SQL text differs.
 *
 * Every statement the connector sends is recorded by a thin wrapper around
 * its client's `query`, so the tests check the exact SQL and parameters, and
 * that no value ever reaches SQL text.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { Agent } from 'undici';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../runtime/logger.ts';
import { CityError, asCityError } from '../../schema/errors.ts';
import { createCityAdapter } from '../city-adapter.ts';
import { CityConfig, resolveCity, resolveSource } from '../config.ts';
import type { ConnectorDeps, RawRow, UpstreamRequest } from '../port.ts';
import { createSqlConnector, type SqlClient, type SqlConnector, type SqlSource, type SqlStatement } from './sql.ts';
import { SqlSource as SqlSourceSchema, parseConnectionString, type SqlDialect } from './sql-config.ts';

const city = '090064'; // Sassari
const seed = readFileSync(new URL('./fixtures/sql/servizi-sociali.sql', import.meta.url), 'utf8');
const oddId = "A9'; DROP TABLE assistiti; --";

interface Server {
  dialect: SqlDialect;
  url: string;
  /** Runs SQL as the administrator (several statements at once). */
  admin(sql: string): Promise<Array<Record<string, unknown>>>;
  end(): Promise<void>;
  /** A view whose every read takes about `seconds` on the server. */
  slowView(schema: string, seconds: number): string;
}

async function postgres(): Promise<Server> {
  const url = 'postgres://postgres@127.0.0.1:5432/test';
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  return {
    dialect: 'postgres',
    url,
    async admin(sql) {
      const result = (await client.query(sql)) as unknown as pg.QueryResult | pg.QueryResult[];
      return Array.isArray(result) ? result.flatMap((r) => r.rows ?? []) : result.rows;
    },
    end: () => client.end(),
    slowView: (schema, seconds) =>
      `CREATE VIEW ${schema}.v_lenta AS SELECT a.* FROM ${schema}.v_assistiti a CROSS JOIN (SELECT pg_sleep(${seconds}) AS z) z`,
  };
}

async function mariadb(): Promise<Server> {
  const url = 'mysql://root@127.0.0.1:3306/test';
  const connection = await mysql.createConnection({ host: '127.0.0.1', port: 3306, user: 'root', database: 'test', multipleStatements: true });
  return {
    dialect: 'mysql',
    url,
    async admin(sql) {
      const [result] = await connection.query(sql);
      return Array.isArray(result) ? (result.filter((r) => !Array.isArray(r)) as Array<Record<string, unknown>>) : [];
    },
    end: () => connection.end(),
    slowView: (schema, seconds) =>
      `CREATE VIEW ${schema}.v_lenta AS SELECT a.* FROM ${schema}.v_assistiti a CROSS JOIN (SELECT SLEEP(${seconds}) AS z) z`,
  };
}

/** A TCP relay in front of a server: it can cut every connection, or take connections and never answer. */
interface Relay {
  port: number;
  /** `silent`: connections are accepted and never answered (a host that does not respond); `alien`: answered by something that is not a database. */
  mode: 'forward' | 'silent' | 'alien';
  cut(): void;
  close(): Promise<void>;
}
async function startRelay(target: { host: string; port: number }, dialect: SqlDialect = 'postgres'): Promise<Relay> {
  const sockets = new Set<net.Socket>();
  const track = (s: net.Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => {});
  };
  const relay: Relay = {
    port: 0,
    mode: 'forward',
    cut: () => sockets.forEach((s) => s.destroy()),
    close: () => {
      relay.cut();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
  const server = net.createServer((client) => {
    track(client);
    if (relay.mode === 'silent') return;
    if (relay.mode === 'alien') {
      // Something else listens on the port: it answers with a message of a kind no database sends.
      client.end(dialect === 'postgres' ? Buffer.from([0x7e, 0, 0, 0, 4]) : Buffer.from([1, 0, 0, 0, 0x7e]));
      return;
    }
    const upstream = net.connect(target.port, target.host);
    track(upstream);
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  relay.port = (server.address() as net.AddressInfo).port;
  return relay;
}

/** A port nobody listens on. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** The rejection of `p`, which must be a CityError. */
async function cityError(p: Promise<unknown>): Promise<CityError> {
  const e = await p.then(() => undefined, (err: unknown) => err);
  expect(e).toBeInstanceOf(CityError);
  return e as CityError;
}

const ids = (rows: readonly RawRow[]) => rows.map((r) => r.id_assistito ?? r.id_iscrizione ?? r.codice);

describe.each([
  { dialect: 'postgres' as const, connect: postgres },
  { dialect: 'mysql' as const, connect: mariadb },
])('the SQL connector on $dialect', ({ dialect, connect }) => {
  let server: Server;
  let schema: string;
  const agent = new Agent();
  /** Every statement sent by every connector of the test, in order. */
  let sent: SqlStatement[];
  const connectors: SqlConnector[] = [];
  const observed: UpstreamRequest[] = [];

  const deps = (): ConnectorDeps => ({ dispatcher: agent, now: () => Date.now(), logger: silentLogger, observe: (r) => observed.push(r) });
  /** The client's `query`, recorded. */
  const recording = (client: SqlClient): SqlClient => ({
    dialect: client.dialect,
    query(statement) {
      sent.push(statement);
      return client.query(statement);
    },
    close: () => client.close(),
  });

  /** PostgreSQL quotes names in double quotes and numbers placeholders; MySQL quotes in backticks and marks each with "?". */
  const n = (name: string) => (dialect === 'postgres' ? `"${name.split('.').join('"."')}"` : `\`${name.split('.').join('`.`')}\``);
  const p = (i: number) => (dialect === 'postgres' ? `$${i}` : '?');
  /** MySQL's LIMIT and OFFSET are sent as text (see sql.ts). */
  const num = (v: number) => (dialect === 'postgres' ? v : String(v));
  /** A list of values: one array parameter for PostgreSQL, one "?" each for MySQL. */
  const list = (expr: string, values: string[], first: number) =>
    dialect === 'postgres' ? `${expr} = ANY(${p(first)})` : `${expr} IN (${values.map(() => '?').join(', ')})`;
  const listParams = (values: string[]) => (dialect === 'postgres' ? [values] : values);
  const codeExpr = (column: string) => `LOWER(TRIM(CAST(${n(column)} AS ${dialect === 'postgres' ? 'TEXT' : 'CHAR'})))`;

  const peopleColumns = [
    'id_assistito', 'codice_fiscale', 'nome', 'cognome', 'sesso', 'data_nascita', 'cittadinanza',
    'permesso', 'vulnerabilita', 'data_presa_in_carico', 'canale', 'stato',
  ];

  /** The city's config of the source, as its file has it. */
  function rawConfig(overrides: Record<string, unknown> = {}): Record<string, unknown> {
    return {
      kind: 'sql',
      dialect,
      id: 'anagrafe',
      domains: ['people', 'services'],
      baseUrl: { env: 'LGNET_090064_ANAGRAFE_URL' },
      dateFormat: 'dd/mm/yyyy',
      vocabularies: {
        sex: { M: 'MALE', F: 'FEMALE' },
        permitType: { ASILO: 'ASYLUM_SEEKER', PROT_SUSS: 'SUBSIDIARY_PROTECTION', PROT_SPEC: 'SPECIAL_PROTECTION', LAVORO: 'WORK' },
        intakeChannel: { SPORTELLO: 'ONE_STOP_SHOP', "UNITA' DI STRADA": 'MOBILE_UNIT', SEGNALAZIONE: 'REFERRAL' },
        intakeStatus: { IN_CARICO: 'ACTIVE', CHIUSA: 'CLOSED_AUTONOMY', TRASFERITO: 'TRANSFERRED' },
        vulnerability: { TRATTA: 'TRAFFICKING', SALUTE_MENTALE: 'MENTAL_HEALTH', SENZA_DIMORA: 'HOMELESSNESS' },
        civicProjectStatus: { BOZZA: 'DRAFT', FIRMATO: 'SIGNED', CONCLUSO: 'COMPLETED' },
      },
      // No retries, so that every statement counted is one the test expects; retries have their own test.
      retries: 0,
      entities: {
        beneficiaries: {
          view: `${schema}.v_assistiti`,
          fields: {
            localId: 'id_assistito', fiscalCode: 'codice_fiscale', givenName: 'nome', familyName: 'cognome', sex: 'sesso',
            birthDate: 'data_nascita', citizenship: 'cittadinanza', permitType: 'permesso', vulnerabilities: 'vulnerabilita',
            intakeDate: 'data_presa_in_carico', intakeChannel: 'canale', intakeStatus: 'stato',
          },
          dates: { birthDate: 'date', intakeDate: 'date' },
        },
        enrollments: {
          view: `${schema}.v_iscrizioni`,
          fields: { localId: 'id_iscrizione', beneficiaryId: 'assistito', serviceId: 'servizio', from: 'dal', to: 'al' },
          dates: { from: 'date', to: 'date' },
        },
        civicProjects: {
          view: `${schema}.v_progetti`,
          fields: { localId: 'codice', beneficiaryId: 'assistito', status: 'stato', signedOn: 'firmato_il' },
        },
      },
      ...overrides,
    };
  }
  const env = (extra: Record<string, string> = {}) => ({ LGNET_090064_ANAGRAFE_URL: server.url, ...extra });
  /** The source's config, parsed and resolved as at start. */
  function source(overrides: Record<string, unknown> = {}, extraEnv: Record<string, string> = {}): SqlSource {
    return resolveSource(city, SqlSourceSchema.parse(rawConfig(overrides)), env(extraEnv)) as SqlSource;
  }

  function connector(s: SqlSource = source()): SqlConnector {
    const c = createSqlConnector(city, s, deps(), { wrapClient: recording });
    connectors.push(c);
    return c;
  }

  beforeAll(async () => {
    server = await connect();
  });
  afterAll(async () => {
    await server.end();
    await agent.close();
  });
  beforeEach(async () => {
    sent = [];
    observed.length = 0;
    schema = `sqlc_${randomBytes(6).toString('hex')}`;
    await server.admin(dialect === 'postgres' ? `CREATE SCHEMA ${schema}` : `CREATE DATABASE ${schema} CHARACTER SET utf8mb4`);
    await server.admin(seed.replaceAll('{{schema}}', schema));
  });
  afterEach(async () => {
    await Promise.all(connectors.splice(0).map((c) => c.close()));
    // No statement of the test carried a value in its text: not one quote, whatever the values held.
    for (const s of sent) expect(s.sql).not.toMatch(/['\\;]|--/);
    await server.admin(dialect === 'postgres' ? `DROP SCHEMA ${schema} CASCADE` : `DROP DATABASE ${schema}`);
  });

  it('reads pages in the order of the localId column, with the total, selecting only the mapped columns', async () => {
    const c = connector();
    const first = await c.page('beneficiaries', { offset: 0, limit: 3 }, undefined);
    expect(first.total).toBe(7);
    expect(ids(first.rows)).toEqual(['A001', 'A002', 'A003']);
    // The view's telefono is not mapped, so never read; DATE columns come in the source's date format.
    expect(first.rows[2]).toEqual({
      id_assistito: 'A003', codice_fiscale: 'DMCNGZ95S58Z335F', nome: 'Ngozi', cognome: "D'Amico", sesso: 'F',
      data_nascita: '18/11/1995', cittadinanza: 'NG', permesso: 'PROT_SPEC', vulnerabilita: 'TRATTA,SALUTE_MENTALE',
      data_presa_in_carico: '10/03/2024', canale: "UNITA' DI STRADA", stato: 'CHIUSA',
    });
    const second = await c.page('beneficiaries', { offset: 3, limit: 3 }, undefined);
    expect(ids(second.rows)).toEqual(['A004', 'A005', 'A006']);
    const last = await c.page('beneficiaries', { offset: 6, limit: 3 }, undefined);
    expect(ids(last.rows)).toEqual([oddId]);
    expect(last.total).toBe(7);

    const view = n(`${schema}.v_assistiti`);
    expect(sent.slice(0, 2)).toEqual([
      { sql: `SELECT COUNT(*) AS ${n('total')} FROM ${view}`, params: [] },
      { sql: `SELECT ${peopleColumns.map(n).join(', ')} FROM ${view} ORDER BY ${n('id_assistito')} LIMIT ${p(1)} OFFSET ${p(2)}`, params: [num(3), num(0)] },
    ]);
    // The last page asks only for the rows there are.
    expect(sent[5]!.params).toEqual([num(1), num(6)]);
    expect(c.status()).toMatchObject({ status: 'UP' });
    expect(observed.every((r) => r.outcome === 'ok' && r.city === city && r.source === 'anagrafe')).toBe(true);
    expect(observed).toHaveLength(6);
  });

  it('answers a slice past the end, or of no rows, with the total alone: one COUNT, no SELECT of rows', async () => {
    const c = connector();
    expect(await c.page('beneficiaries', { offset: 7, limit: 5 }, undefined)).toEqual({ rows: [], total: 7 });
    expect(await c.page('beneficiaries', { offset: 0, limit: 0 }, undefined)).toEqual({ rows: [], total: 7 });
    expect(sent.map((s) => s.sql.split(' ')[1])).toEqual(['COUNT(*)', 'COUNT(*)']);
  });

  it('pushes codes (through the vocabulary, whatever their case and spaces), date ranges on DATE columns and ids into the query, with the exact SQL and parameters', async () => {
    const c = connector();
    const where = {
      sex: ['FEMALE'],
      'intake.date': { from: '2024-01', to: '2024-03' },
      'intake.channel': ['MOBILE_UNIT', 'ONE_STOP_SHOP'],
      // Not filterable: applied by the caller only.
      vulnerabilities: ['TRAFFICKING'],
    };
    expect(c.pushable!('beneficiaries', where)).toEqual({
      sex: ['FEMALE'],
      'intake.date': { from: '2024-01', to: '2024-03' },
      'intake.channel': ['MOBILE_UNIT', 'ONE_STOP_SHOP'],
    });
    const pushed = c.pushable!('beneficiaries', where);
    const page = await c.page('beneficiaries', { offset: 0, limit: 10, where: pushed }, undefined);
    // F and 'f ' are both women; A004 and A005 were taken in charge outside the range; A006 is a man.
    expect(ids(page.rows)).toEqual(['A003', oddId]);
    expect(page.total).toBe(2);

    const channels = ["unita' di strada", 'sportello'];
    const filter =
      ` WHERE ${list(codeExpr('sesso'), ['f'], 1)}` +
      ` AND ${n('data_presa_in_carico')} >= ${p(2)} AND ${n('data_presa_in_carico')} <= ${p(3)}` +
      ` AND ${list(codeExpr('canale'), channels, 4)}`;
    const params = [...listParams(['f']), '2024-01-01', '2024-03-31', ...listParams(channels)];
    const view = n(`${schema}.v_assistiti`);
    const next = dialect === 'postgres' ? 5 : 0;
    expect(sent).toEqual([
      { sql: `SELECT COUNT(*) AS ${n('total')} FROM ${view}${filter}`, params },
      {
        sql: `SELECT ${peopleColumns.map(n).join(', ')} FROM ${view}${filter} ORDER BY ${n('id_assistito')} LIMIT ${p(next)} OFFSET ${p(next + 1)}`,
        params: [...params, num(2), num(0)],
      },
    ]);
  });

  it('pages through filtered rows: offsets and the total count the matching rows only', async () => {
    const c = connector();
    const where = { 'intake.status': ['ACTIVE'], birthDate: { from: '1988' } };
    const pushed = c.pushable!('beneficiaries', where);
    expect(pushed).toEqual(where);
    const first = await c.page('beneficiaries', { offset: 0, limit: 2, where: pushed }, undefined);
    const second = await c.page('beneficiaries', { offset: 2, limit: 2, where: pushed }, undefined);
    // Active and born in 1988 or after: A001, A002, A004, A005, and the odd id (A006 was transferred).
    expect([first.total, second.total]).toEqual([5, 5]);
    expect(ids(first.rows)).toEqual(['A001', 'A002']);
    expect(ids(second.rows)).toEqual(['A004', 'A005']);
    const count = await c.page('beneficiaries', { offset: 0, limit: 0, where: pushed }, undefined);
    expect(count.total).toBe(5);
  });

  it('pushes ids as lists, and leaves to the caller what SQL cannot say as the mapping would', async () => {
    const c = connector();
    // A text date column (firmato_il) is never ranged in SQL; a range that keeps empty dates is never pushed.
    expect(c.pushable!('civicProjects', { signedOn: { from: '2024' }, status: ['SIGNED'], beneficiaryId: ['A001', 'A005'] })).toEqual({
      beneficiaryId: ['A001', 'A005'],
      status: ['SIGNED'],
    });
    expect(c.pushable!('enrollments', { to: { from: '2024-02', orEmpty: true }, from: { to: '2024-02-29' } })).toEqual({ from: { to: '2024-02-29' } });
    // A national code no local code maps to cannot be asked for.
    expect(c.pushable!('beneficiaries', { permitType: ['FAMILY'] })).toEqual({});
    // An entity the source does not serve filters nothing.
    expect(c.pushable!('services', { category: ['WORKSHOP'] })).toEqual({});

    const page = await c.page('enrollments', { offset: 0, limit: 10, where: { localId: ['I01', 'I04', "I9' OR '1'='1"], from: { to: '2024-02-29' } } }, undefined);
    expect(ids(page.rows)).toEqual(['I01', 'I04']);
    expect(page.rows[1]).toEqual({ id_iscrizione: 'I04', assistito: oddId, servizio: 'S01', dal: '20/02/2024', al: null });
    const view = n(`${schema}.v_iscrizioni`);
    const lookedUp = ['I01', 'I04', "I9' OR '1'='1"];
    expect(sent[0]).toEqual({
      sql: `SELECT COUNT(*) AS ${n('total')} FROM ${view} WHERE ${list(n('id_iscrizione'), lookedUp, 1)} AND ${n('dal')} <= ${p(2)}`,
      params: [...listParams(lookedUp), '2024-02-29'],
    });
  });

  it('honours the filters the config allows, and nothing else', async () => {
    const c = connector(
      source({
        entities: {
          beneficiaries: {
            view: `${schema}.v_assistiti`,
            fields: {
              localId: 'id_assistito', fiscalCode: 'codice_fiscale', givenName: 'nome', familyName: 'cognome', sex: 'sesso',
              birthDate: 'data_nascita', citizenship: 'cittadinanza', permitType: 'permesso', vulnerabilities: 'vulnerabilita',
              intakeDate: 'data_presa_in_carico', intakeChannel: 'canale', intakeStatus: 'stato',
            },
            dates: { intakeDate: 'date' },
            filters: ['sex'],
          },
        },
      }),
    );
    expect(c.pushable!('beneficiaries', { sex: ['MALE'], 'intake.date': { from: '2024' }, citizenship: ['NG'] })).toEqual({ sex: ['MALE'] });
    // A list longer than a look-up batch is not written into one statement.
    const small = connector(source({ maxBatchSize: 2 }));
    expect(small.pushable!('beneficiaries', { localId: ['A001', 'A002', 'A003'], sex: ['MALE'] })).toEqual({ sex: ['MALE'] });
    expect(small.pushable!('beneficiaries', { localId: ['A001', 'A002'] })).toEqual({ localId: ['A001', 'A002'] });
  });

  it('looks ids up in batches of maxBatchSize, each value a parameter, quotes and DROP TABLE included', async () => {
    const c = connector(source({ maxBatchSize: 2 }));
    const wanted = ['A001', oddId, 'A003', 'A001', "Z' OR '1'='1", 'A005'];
    const rows = await c.lookup('beneficiaries', 'localId', wanted, undefined);
    expect(ids(rows).sort()).toEqual(['A001', 'A003', 'A005', oddId].sort());
    const view = n(`${schema}.v_assistiti`);
    const select = `SELECT ${peopleColumns.map(n).join(', ')} FROM ${view} WHERE `;
    const batches = [['A001', oddId], ['A003', "Z' OR '1'='1"], ['A005']];
    expect(sent).toEqual(batches.map((batch) => ({ sql: select + list(n('id_assistito'), batch, 1), params: listParams(batch) })));
    // The table the odd id names is still there, whole.
    const [left] = await server.admin(`SELECT COUNT(*) AS n FROM ${schema}.assistiti`);
    expect(Number(left!.n)).toBe(7);
    expect(await c.lookup('beneficiaries', 'localId', [], undefined)).toEqual([]);
    expect(sent).toHaveLength(3);
  });

  it("looks up a person's records by beneficiaryId, with DATE columns in the source's format and empty ones null", async () => {
    const c = connector();
    const rows = await c.lookup('enrollments', 'beneficiaryId', ['A001', oddId], undefined);
    const byId = Object.fromEntries(rows.map((r) => [r.id_iscrizione, r]));
    expect(Object.keys(byId).sort()).toEqual(['I01', 'I02', 'I04']);
    expect(byId.I01).toEqual({ id_iscrizione: 'I01', assistito: 'A001', servizio: 'S01', dal: '20/01/2024', al: '20/02/2024' });
    expect(byId.I02).toMatchObject({ al: null });
    expect(sent).toEqual([
      {
        sql: `SELECT ${['id_iscrizione', 'assistito', 'servizio', 'dal', 'al'].map(n).join(', ')} FROM ${n(`${schema}.v_iscrizioni`)} WHERE ${list(n('assistito'), ['A001', oddId], 1)}`,
        params: listParams(['A001', oddId]),
      },
    ]);
    // Text dates are handed on as the city wrote them.
    const projects = await c.lookup('civicProjects', 'localId', ['P01', 'P02'], undefined);
    expect(projects.map((r) => r.firmato_il).sort()).toEqual(['15/02/2024', null]);
  });

  it('refuses to serve a text column the config calls a DATE column, rather than compare its dates as text', async () => {
    const c = connector(
      source({
        entities: {
          civicProjects: {
            view: `${schema}.v_progetti`,
            fields: { localId: 'codice', beneficiaryId: 'assistito', status: 'stato', signedOn: 'firmato_il' },
            dates: { signedOn: 'date' },
          },
        },
      }),
    );
    const e = await cityError(c.page('civicProjects', { offset: 0, limit: 5 }, undefined));
    expect(e).toMatchObject({ code: 'CITY_BAD_RESPONSE', city });
    expect(e.detail).toMatch(/column "firmato_il" of view ".*v_progetti" is not a DATE column/);
  });

  it('maps what it reads like any other source: records through the city adapter, DATE and text dates alike', async () => {
    const cityConfig = resolveCity(CityConfig.parse({ code: city, name: 'Sassari', region: 'Sardegna', province: 'SS', editions: ['LGNET3'], sources: [rawConfig()] }), env());
    const adapter = createCityAdapter(cityConfig, {
      personKeySecret: 'sixteen-chars-secret',
      deps: deps(),
      createConnector: (code, resolved) => connector(resolved as SqlSource),
    });
    const page = await adapter.list('beneficiaries', { offset: 0, limit: 10, where: { 'intake.channel': ['MOBILE_UNIT'] } }, {});
    expect(page.items.map((r) => [r.localId, r.sex, r.birthDate, r.intake.date, r.intake.channel])).toEqual([
      ['A003', 'FEMALE', '1995-11-18', '2024-03-10', 'MOBILE_UNIT'],
      ['A004', 'FEMALE', '2001-01-01', '2024-04-22', 'MOBILE_UNIT'],
    ]);
    const [project, missing] = await adapter.byId('civicProjects', ['P01', 'P99'], {});
    expect(project).toMatchObject({ localId: 'P01', status: 'SIGNED', signedOn: '2024-02-15' });
    expect(missing).toMatchObject({ code: 'NOT_FOUND' });
  });

  describe('errors, each a CityError naming the city', () => {
    it('a server that refuses connections: CITY_UNAVAILABLE, and the source is DOWN', async () => {
      const { dialect: d } = server;
      const url = `${d === 'postgres' ? 'postgres://postgres' : 'mysql://root'}@127.0.0.1:${await closedPort()}/test`;
      const c = connector(source({}, { LGNET_090064_ANAGRAFE_URL: url }));
      const e = await cityError(c.page('beneficiaries', { offset: 0, limit: 1 }, undefined));
      expect(e).toMatchObject({ code: 'CITY_UNAVAILABLE', city, detail: 'connection failed (ECONNREFUSED)' });
      expect(c.status()).toMatchObject({ status: 'DOWN' });
      expect(observed.map((r) => r.outcome)).toEqual(['CITY_UNAVAILABLE']);
    });

    it('a connection lost in the middle of a statement: CITY_UNAVAILABLE', async () => {
      await server.admin(server.slowView(schema, 2));
      const target = parseConnectionString(dialect, server.url);
      const relay = await startRelay(target);
      try {
        const url = server.url.replace(`:${target.port}/`, `:${relay.port}/`);
        const c = connector(source({ entities: { beneficiaries: { ...source().entities.beneficiaries!, view: `${schema}.v_lenta` } } }, { LGNET_090064_ANAGRAFE_URL: url }));
        const pending = c.page('beneficiaries', { offset: 0, limit: 1 }, undefined);
        setTimeout(() => relay.cut(), 400);
        const e = await cityError(pending);
        expect(e).toMatchObject({ code: 'CITY_UNAVAILABLE', city, detail: 'connection lost' });
      } finally {
        await relay.close();
      }
    });

    it('an answer that is not the database protocol: CITY_BAD_RESPONSE naming the city, never an internal error', async () => {
      const relay = await startRelay({ host: '127.0.0.1', port: 1 }, dialect);
      relay.mode = 'alien';
      try {
        const url = `${dialect === 'postgres' ? 'postgres://postgres' : 'mysql://root'}@127.0.0.1:${relay.port}/test`;
        const c = connector(source({ retries: 0 }, { LGNET_090064_ANAGRAFE_URL: url }));
        const e = await cityError(c.page('beneficiaries', { offset: 0, limit: 1 }, undefined));
        expect(e).toMatchObject({ code: 'CITY_BAD_RESPONSE', city });
      } finally {
        await relay.close();
      }
    });

    it('a statement that runs past timeoutMs: CITY_TIMEOUT', async () => {
      await server.admin(server.slowView(schema, 2));
      const c = connector(source({ timeoutMs: 300, connectTimeoutMs: 300, entities: { beneficiaries: { ...source().entities.beneficiaries!, view: `${schema}.v_lenta` } } }));
      const started = Date.now();
      const e = await cityError(c.page('beneficiaries', { offset: 0, limit: 1 }, undefined));
      expect(e).toMatchObject({ code: 'CITY_TIMEOUT', city });
      expect(e.detail).toMatch(/no answer within 300 ms/);
      expect(Date.now() - started).toBeLessThan(1_800);
    });

    it('a host that takes the connection and never answers: CITY_TIMEOUT after connectTimeoutMs', async () => {
      const relay = await startRelay({ host: '127.0.0.1', port: 1 });
      relay.mode = 'silent';
      try {
        const url = `${dialect === 'postgres' ? 'postgres://postgres' : 'mysql://root'}@127.0.0.1:${relay.port}/test`;
        const c = connector(source({ connectTimeoutMs: 200 }, { LGNET_090064_ANAGRAFE_URL: url }));
        const started = Date.now();
        const e = await cityError(c.page('beneficiaries', { offset: 0, limit: 1 }, undefined));
        expect(e).toMatchObject({ code: 'CITY_TIMEOUT', city });
        expect(e.detail).toMatch(dialect === 'postgres' ? /no connection within 200 ms/ : /ETIMEDOUT/);
        expect(Date.now() - started).toBeLessThan(1_500);
      } finally {
        await relay.close();
      }
    });

    it('credentials the server refuses: CITY_AUTH_FAILED, never quoting the password', async () => {
      // MariaDB checks root's (empty) password: the one from auth.key is refused. PostgreSQL trusts 127.0.0.1, so an unknown user stands in.
      const overrides = dialect === 'mysql' ? { auth: { key: { env: 'LGNET_090064_ANAGRAFE_PASSWORD' } } } : {};
      const url = dialect === 'mysql' ? server.url : 'postgres://nessuno@127.0.0.1:5432/test';
      const c = connector(source(overrides, { LGNET_090064_ANAGRAFE_URL: url, LGNET_090064_ANAGRAFE_PASSWORD: 'segreta-sbagliata' }));
      const e = await cityError(c.page('beneficiaries', { offset: 0, limit: 1 }, undefined));
      expect(e).toMatchObject({ code: 'CITY_AUTH_FAILED', city });
      expect(e.detail).toMatch(dialect === 'postgres' ? /^SQLSTATE 28000 / : /^ER_ACCESS_DENIED_ERROR \(1045, SQLSTATE 28000\)/);
      expect(e.message).not.toMatch(/segreta|nessuno/);
      expect(c.status()).toMatchObject({ status: 'DOWN' });
    });

    it('a view or column that is not there: CITY_SOURCE_ERROR naming the SQLSTATE or code, never the SQL or a value', async () => {
      const missingView = connector(source({ entities: { beneficiaries: { ...source().entities.beneficiaries!, view: `${schema}.v_sparita` } } }));
      const e1 = await cityError(missingView.page('beneficiaries', { offset: 0, limit: 1, where: { localId: ['A001'] } }, undefined));
      expect(e1).toMatchObject({ code: 'CITY_SOURCE_ERROR', city });
      expect(e1.detail).toBe(
        dialect === 'postgres'
          ? `SQLSTATE 42P01 (undefined_table) reading view "${schema}.v_sparita"`
          : `ER_NO_SUCH_TABLE (1146, SQLSTATE 42S02) reading view "${schema}.v_sparita"`,
      );
      const fields = { ...source().entities.enrollments!.fields, serviceId: 'id_servizio' };
      const missingColumn = connector(source({ entities: { enrollments: { ...source().entities.enrollments!, fields } } }));
      const e2 = await cityError(missingColumn.lookup('enrollments', 'beneficiaryId', [oddId], undefined));
      expect(e2).toMatchObject({ code: 'CITY_SOURCE_ERROR', city });
      expect(e2.detail).toMatch(dialect === 'postgres' ? /^SQLSTATE 42703 \(undefined_column\)/ : /^ER_BAD_FIELD_ERROR \(1054, SQLSTATE 42S22\)/);
      for (const e of [e1, e2]) {
        expect(e.message).not.toMatch(/SELECT|DROP|A001|id_servizio/);
        expect(e.cause).toBeUndefined();
      }
    });

    it("a fault of the graph's own is not the city's: thrown as it is, for the adapter to report as INTERNAL_ERROR", async () => {
      const broken = (client: SqlClient): SqlClient => ({ ...client, query: () => Promise.reject(new TypeError('cannot read properties of undefined')) });
      const c = createSqlConnector(city, source(), deps(), { wrapClient: broken });
      connectors.push(c);
      const e = await c.page('beneficiaries', { offset: 0, limit: 1 }, undefined).catch((err: unknown) => err);
      expect(e).toBeInstanceOf(TypeError);
      expect(c.status()).toMatchObject({ status: 'UNKNOWN' });
      expect(asCityError(e, city)).toMatchObject({ code: 'INTERNAL_ERROR', city });
      expect(observed.map((r) => r.outcome)).toEqual(['INTERNAL_ERROR']);
    });

    it('a source that is not configured for an entity: CITY_NOT_CONFIGURED', async () => {
      const c = connector();
      await expect(c.page('services', { offset: 0, limit: 1 }, undefined)).rejects.toMatchObject({ code: 'CITY_NOT_CONFIGURED', city });
      await expect(c.lookup('housingResources', 'localId', ['H1'], undefined)).rejects.toMatchObject({ code: 'CITY_NOT_CONFIGURED', city });
      expect(sent).toEqual([]);
    });
  });

  describe('resilience', () => {
    it('retries a statement whose connection was reset, and says so in its health once it happens often', async () => {
      let resets = 0;
      const flaky = (client: SqlClient): SqlClient => ({
        dialect: client.dialect,
        query(statement) {
          sent.push(statement);
          if (resets < 1) {
            resets++;
            return Promise.reject(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }));
          }
          return client.query(statement);
        },
        close: () => client.close(),
      });
      const c = createSqlConnector(city, source({ retries: 1, retryDelayMs: 1 }), deps(), { wrapClient: flaky });
      connectors.push(c);
      const page = await c.page('beneficiaries', { offset: 0, limit: 2 }, undefined);
      expect(ids(page.rows)).toEqual(['A001', 'A002']);
      // The COUNT was sent twice, then the rows once.
      expect(sent.map((s) => s.sql.split(' ')[1])).toEqual(['COUNT(*)', 'COUNT(*)', n('id_assistito') + ',']);
      expect(observed.map((r) => r.outcome)).toEqual(['CITY_UNAVAILABLE', 'ok', 'ok']);
      expect(c.status()).toMatchObject({ status: 'UP' });
    });

    it('opens the circuit after breakerFailures failures in a row: then answers at once, without a statement', async () => {
      const url = `${dialect === 'postgres' ? 'postgres://postgres' : 'mysql://root'}@127.0.0.1:${await closedPort()}/test`;
      const c = connector(source({ breakerFailures: 2 }, { LGNET_090064_ANAGRAFE_URL: url }));
      for (let i = 0; i < 2; i++) await cityError(c.page('beneficiaries', { offset: 0, limit: 1 }, undefined));
      expect(sent).toHaveLength(2);
      const e = await cityError(c.lookup('beneficiaries', 'localId', ['A001'], undefined));
      expect(e).toMatchObject({ code: 'CITY_UNAVAILABLE', city });
      expect(e.detail).toMatch(/^circuit open since .*: connection failed \(ECONNREFUSED\)$/);
      expect(sent).toHaveLength(2);
      expect(c.status()).toMatchObject({ status: 'DOWN', reason: expect.stringMatching(/^circuit open since/) });
    });

    it('gives up at once when the caller does, with the caller\'s reason', async () => {
      await server.admin(server.slowView(schema, 1));
      const c = connector(source({ entities: { beneficiaries: { ...source().entities.beneficiaries!, view: `${schema}.v_lenta` } } }));
      const controller = new AbortController();
      const reason = new Error('the query ran out of time');
      setTimeout(() => controller.abort(reason), 100);
      const started = Date.now();
      await expect(c.page('beneficiaries', { offset: 0, limit: 1 }, controller.signal)).rejects.toBe(reason);
      expect(Date.now() - started).toBeLessThan(800);
      // Not the city's fault: it is not DOWN.
      expect(c.status().status).not.toBe('DOWN');
    });

    it('reads in sessions that cannot write, whatever the database user may', async () => {
      let raw: SqlClient | undefined;
      const c = createSqlConnector(city, source(), deps(), { wrapClient: (client) => (raw = recording(client)) });
      connectors.push(c);
      await c.page('beneficiaries', { offset: 0, limit: 1 }, undefined);
      // Straight to the client, past the connector's own statements: the server refuses the write.
      const write = raw!.query({ sql: `INSERT INTO ${schema}.progetti VALUES (${dialect === 'postgres' ? '$1, $2, $3, $4' : '?, ?, ?, ?'})`, params: ['P09', 'A001', 'BOZZA', null] });
      await expect(write).rejects.toMatchObject(dialect === 'postgres' ? { code: '25006' } : { code: 'ER_CANT_EXECUTE_IN_READ_ONLY_TRANSACTION' });
      const [left] = await server.admin(`SELECT COUNT(*) AS n FROM ${schema}.progetti`);
      expect(Number(left!.n)).toBe(3);
    });

    it('keeps no connection that would hold the process: idle connections are unreferenced', async () => {
      const before = process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap').length;
      const c = connector(source({ maxConcurrent: 2 }));
      await Promise.all([c.page('beneficiaries', { offset: 0, limit: 1 }, undefined), c.lookup('beneficiaries', 'localId', ['A001'], undefined)]);
      // A connection is unreferenced once the pool takes it back, which may take a turn or two of a busy event loop.
      const sockets = () => process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap').length;
      for (let i = 0; i < 100 && sockets() > before; i++) await new Promise((resolve) => setTimeout(resolve, 50));
      expect(sockets()).toBeLessThanOrEqual(before);
      // The pool is still there, and serves the next statement.
      expect(ids(await c.lookup('beneficiaries', 'localId', ['A002'], undefined))).toEqual(['A002']);
    });
  });
});

describe('the SQL config', () => {
  const base = {
    kind: 'sql', dialect: 'postgres', id: 'anagrafe', domains: ['people'], baseUrl: 'postgres://lgnet@db.comune.example.it:5432/servizi',
    dateFormat: 'yyyy-mm-dd', vocabularies: {},
  };
  const fields = {
    localId: 'id', fiscalCode: 'cf', givenName: 'nome', familyName: 'cognome', sex: 'sesso', birthDate: 'nascita', citizenship: 'cittadinanza',
    permitType: 'permesso', vulnerabilities: 'vuln', intakeDate: 'presa', intakeChannel: 'canale', intakeStatus: 'stato',
  };
  const people = (extra: Record<string, unknown> = {}) => ({ ...base, entities: { beneficiaries: { view: 'servizi.v_assistiti', fields, ...extra } } });

  it('takes plain view and column names only: nothing that could carry SQL', () => {
    expect(SqlSourceSchema.safeParse(people()).success).toBe(true);
    for (const view of ['v"; DROP TABLE x; --', 'a.b.c', 'v assistiti', '`v`', '']) {
      expect(SqlSourceSchema.safeParse(people({ view })).success, view).toBe(false);
    }
    for (const column of ['id"--', 'id; DROP', 'nome cognome', '1id']) {
      expect(SqlSourceSchema.safeParse(people({ fields: { ...fields, givenName: column } })).success, column).toBe(false);
    }
  });

  it('ranges dates in SQL only on DATE columns, and knows the date fields', () => {
    expect(SqlSourceSchema.safeParse(people({ dates: { intakeDate: 'date' }, filters: ['intake.date', 'sex'] })).success).toBe(true);
    const text = SqlSourceSchema.safeParse(people({ filters: ['intake.date'] }));
    expect(text.success).toBe(false);
    expect(JSON.stringify(text.error?.issues)).toMatch(/only on a DATE column/);
    expect(SqlSourceSchema.safeParse(people({ dates: { givenName: 'date' } })).success).toBe(false);
    expect(SqlSourceSchema.safeParse(people({ filters: ['vulnerabilities'] })).success).toBe(false);
  });

  it('reads the connection string of its dialect, and says what is wrong with another', () => {
    expect(parseConnectionString('mysql', 'mysql://root:p%40ss@127.0.0.1/test')).toEqual({ host: '127.0.0.1', port: 3306, user: 'root', password: 'p@ss', database: 'test' });
    expect(parseConnectionString('postgres', 'postgresql://lgnet@[::1]:6543/servizi')).toMatchObject({ host: '::1', port: 6543, database: 'servizi' });
    expect(SqlSourceSchema.safeParse({ ...people(), baseUrl: 'mysql://root@127.0.0.1/test' }).success).toBe(false);
    expect(SqlSourceSchema.safeParse({ ...people(), baseUrl: 'postgres://127.0.0.1/test' }).success).toBe(false);
    expect(SqlSourceSchema.safeParse({ ...people(), baseUrl: 'postgres://u@127.0.0.1/' }).success).toBe(false);
    // A reference to the environment is read at start, where the connector checks it.
    expect(SqlSourceSchema.safeParse({ ...people(), baseUrl: { env: 'LGNET_X_URL' } }).success).toBe(true);
    // The password comes from the environment; SQL has no header to put it in.
    expect(SqlSourceSchema.safeParse({ ...people(), auth: { key: { env: 'LGNET_X_PASSWORD' } } }).success).toBe(true);
    expect(SqlSourceSchema.safeParse({ ...people(), auth: { header: 'X-API-Key', key: { env: 'LGNET_X_PASSWORD' } } }).success).toBe(false);
  });

  it('a connector whose connection string is unusable answers CITY_NOT_CONFIGURED, and never connects', async () => {
    const parsed = SqlSourceSchema.parse({ ...people(), baseUrl: { env: 'LGNET_X_URL' } });
    const resolved = resolveSource(city, parsed, { LGNET_X_URL: 'http://db.example.it/servizi' }) as SqlSource;
    const dispatcher = new Agent();
    const c = createSqlConnector(city, resolved, { dispatcher, now: Date.now, logger: silentLogger });
    await dispatcher.close();
    await expect(c.page('beneficiaries', { offset: 0, limit: 1 }, undefined)).rejects.toMatchObject({ code: 'CITY_NOT_CONFIGURED', city });
    expect(c.status()).toMatchObject({ status: 'NOT_CONFIGURED', reason: expect.stringMatching(/postgres:\/\//) });
    expect(c.pushable!('beneficiaries', { sex: ['MALE'] })).toEqual({});
  });
});
