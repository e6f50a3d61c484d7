/**
 * The SQL stand-in end to end: an embedded PostgreSQL (PGlite) behind
 * pglite-socket, read by the very connector that reads a city's database,
 * over the PostgreSQL wire protocol on loopback. No server installed.
 *
 * Then each fault of the sandbox as a database client meets it: what the
 * connector reports (and what a plain `pg` client gets), and the answers
 * coming back once the fault is lifted. Then many clients at once, each on
 * its own connection, served one cycle at a time by the one backend, with
 * clients that leave in the middle of one. Last, the two sandbox cities whose
 * system is a database, each read whole from the stand-in built from its
 * config (fixtures/sql-city-*.json).
 */
import { readFileSync } from 'node:fs';
import net from 'node:net';
import pg from 'pg';
import { Agent } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createCityAdapter } from '../adapters/city-adapter.ts';
import { CityConfig, resolveCity, resolveSource, type SourceConfig } from '../adapters/config.ts';
import { createSqlConnector, type SqlConnector, type SqlSource } from '../adapters/connectors/sql.ts';
import { SqlSource as SqlSourceSchema, type SqlSourceConfig } from '../adapters/connectors/sql-config.ts';
import type { RawRow } from '../adapters/port.ts';
import { silentLogger } from '../runtime/logger.ts';
import type { EntityName } from '../schema/records.ts';
import type { Fault } from './faults.ts';
import { createSqlStandIn, type SqlStandIn } from './sql-stand-in.ts';

const city = '072006'; // Bari

const rawConfig = {
  kind: 'sql',
  dialect: 'postgres',
  id: 'cartella',
  domains: ['people', 'services'],
  baseUrl: { env: 'LGNET_072006_CARTELLA_URL' },
  dateFormat: 'dd/mm/yyyy',
  vocabularies: { sex: { M: 'MALE', F: 'FEMALE' }, intakeChannel: { SPORTELLO: 'ONE_STOP_SHOP', UDS: 'MOBILE_UNIT' } },
  // A pool of one, as the sandbox cities' configs have: the first tests count the connections it opens.
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
};
const config = SqlSourceSchema.parse(rawConfig);

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

// ---------------------------------------------------------------------------
// Faults, as a database client meets them.

describe('the SQL stand-in under a fault', () => {
  let faulty: SqlStandIn;
  const opened: SqlConnector[] = [];
  const clients: pg.Client[] = [];

  beforeAll(async () => {
    faulty = await createSqlStandIn({ source: config, rows, seed: 42 });
  });
  afterEach(async () => {
    await faulty.setFault(null);
    await Promise.all(opened.splice(0).map((c) => c.close()));
    await Promise.all(clients.splice(0).map((c) => c.end().catch(() => {})));
  });
  afterAll(async () => {
    await faulty.close();
  });

  /** A connector of its own (no connection yet), with the source's keys changed as given. */
  const connectorOf = (overrides: Record<string, unknown> = {}): SqlConnector => {
    const source = resolveSource(city, SqlSourceSchema.parse({ ...rawConfig, ...overrides }), { LGNET_072006_CARTELLA_URL: faulty.url }) as SqlSource;
    const c = createSqlConnector(city, source, { dispatcher: agent, now: Date.now, logger: silentLogger });
    opened.push(c);
    return c;
  };
  const readB01 = (c: SqlConnector) => c.lookup('beneficiaries', 'localId', ['B01'], undefined).then((r) => r.map((row) => row.id));

  /** A plain `pg` client, as a city's own tools would connect: it connects, reads one column and disconnects. */
  const pgRead = async (options: pg.ClientConfig = {}): Promise<unknown> => {
    const client = new pg.Client({ connectionString: faulty.url, connectionTimeoutMillis: 2_000, ...options });
    client.on('error', () => {});
    try {
      await client.connect();
      return (await client.query('SELECT "cf" FROM "cartella"."v_assistiti" WHERE "id" = $1', ['B01'])).rows;
    } finally {
      await client.end().catch(() => {});
    }
  };

  /** A session opened before a fault; `ended` resolves with the error the server ends it with, if it does. */
  const openSession = async (): Promise<{ ended: Promise<Error & { code?: string }> }> => {
    const client = new pg.Client({ connectionString: faulty.url });
    clients.push(client);
    const ended = new Promise<Error & { code?: string }>((resolve) => client.on('error', resolve));
    await client.connect();
    await client.query('SELECT 1');
    return { ended };
  };

  const cases: Array<{ name: string; fault: Fault; overrides?: Record<string, unknown>; code: string; detail: RegExp; pgError: Record<string, unknown> }> = [
    {
      name: 'down: the connection is refused',
      fault: { kind: 'down' },
      code: 'CITY_UNAVAILABLE',
      detail: /^connection failed \(ECONNREFUSED\)$/,
      pgError: { code: 'ECONNREFUSED' },
    },
    {
      name: 'slow: no connection is made within the time the source allows',
      fault: { kind: 'slow', delayMs: 400 },
      overrides: { connectTimeoutMs: 100 },
      code: 'CITY_TIMEOUT',
      detail: /^no connection within 100 ms$/,
      pgError: { message: 'timeout expired' },
    },
    {
      name: 'garbage: bytes that are not PostgreSQL, then the connection closes',
      fault: { kind: 'garbage' },
      code: 'CITY_UNAVAILABLE',
      detail: /^connection lost$/,
      pgError: { message: 'Connection terminated unexpectedly' },
    },
    {
      name: 'html: a web server answers on the port',
      fault: { kind: 'html' },
      code: 'CITY_UNAVAILABLE',
      detail: /^connection lost$/,
      pgError: { message: 'Connection terminated unexpectedly' },
    },
    {
      name: 'half: the first answer is cut halfway',
      fault: { kind: 'half' },
      code: 'CITY_UNAVAILABLE',
      detail: /^connection lost$/,
      pgError: { message: 'Connection terminated unexpectedly' },
    },
    {
      name: 'auth: the password is refused (SQLSTATE 28P01)',
      fault: { kind: 'auth' },
      code: 'CITY_AUTH_FAILED',
      detail: /^SQLSTATE 28P01 \(invalid_password\) reading view "cartella\.v_assistiti"$/,
      pgError: { code: '28P01', severity: 'FATAL', message: 'password authentication failed for user "postgres"' },
    },
    {
      name: 'flaky:1: every new connection is reset',
      fault: { kind: 'flaky', probability: 1 },
      code: 'CITY_UNAVAILABLE',
      detail: /^connection failed \(ECONNRESET\)$/,
      pgError: { code: 'ECONNRESET' },
    },
    {
      name: 'rename:cf: the view has cf_v2 instead of cf (SQLSTATE 42703)',
      fault: { kind: 'rename', field: 'cf' },
      code: 'CITY_SOURCE_ERROR',
      detail: /^SQLSTATE 42703 \(undefined_column\) reading view "cartella\.v_assistiti"$/,
      pgError: { code: '42703' },
    },
  ];

  it.each(cases)('$name: the connector says so, naming the city, and answers again once the fault is lifted', async ({ fault, overrides, code, detail, pgError }) => {
    const c = connectorOf(overrides);
    await faulty.setFault(fault);
    expect(faulty.fault).toEqual(fault);
    await expect(readB01(c)).rejects.toMatchObject({ code, city, detail: expect.stringMatching(detail) });
    await expect(pgRead(overrides ? { connectionTimeoutMillis: 100 } : {})).rejects.toMatchObject(pgError);

    await faulty.setFault(null);
    expect(await readB01(c)).toEqual(['B01']);
    expect(await pgRead()).toEqual([{ cf: 'CFB01' }]);
  });

  it('slow holds back every answer: a new connection and one statement take two delays', async () => {
    const c = connectorOf();
    await faulty.setFault({ kind: 'slow', delayMs: 400 });
    const started = performance.now();
    expect(await readB01(c)).toEqual(['B01']);
    expect(performance.now() - started).toBeGreaterThanOrEqual(2 * 400 - 5);
    await faulty.setFault(null);
    const again = performance.now();
    expect(await readB01(c)).toEqual(['B01']);
    expect(performance.now() - again).toBeLessThan(400);
  });

  it.each([{ kind: 'down' }, { kind: 'auth' }, { kind: 'flaky', probability: 0.5 }] as Fault[])(
    '$kind ends the sessions open with FATAL 57P01, as a server shutting down does',
    async (fault) => {
      const { ended } = await openSession();
      await faulty.setFault(fault);
      await expect(ended).resolves.toMatchObject({ code: '57P01', message: 'terminating connection due to administrator command' });
    },
  );

  it('half cuts an open session at its next answer', async () => {
    const client = new pg.Client({ connectionString: faulty.url });
    client.on('error', () => {});
    clients.push(client);
    await client.connect();
    await faulty.setFault({ kind: 'half' });
    await expect(client.query('SELECT 1')).rejects.toThrow('Connection terminated unexpectedly');
  });

  it('down stops listening and listens again on the same port when lifted', async () => {
    const port = faulty.port;
    const tryConnect = () =>
      new Promise<string>((resolve) => {
        const socket = net.connect({ host: faulty.host, port }, () => {
          socket.destroy();
          resolve('connected');
        });
        socket.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
      });
    await faulty.setFault({ kind: 'down' });
    expect(await tryConnect()).toBe('ECONNREFUSED');
    await faulty.setFault(null);
    expect(faulty.port).toBe(port);
    expect(await tryConnect()).toBe('connected');
  });

  it('html is an HTTP answer with a page, written on the PostgreSQL port', async () => {
    await faulty.setFault({ kind: 'html' });
    const answer = await new Promise<string>((resolve, reject) => {
      const chunks: Buffer[] = [];
      const socket = net.connect({ host: faulty.host, port: faulty.port }, () => {
        // A startup message: length, protocol 3.0, user=postgres, terminator.
        const params = Buffer.from('user\0postgres\0\0');
        const head = Buffer.alloc(8);
        head.writeUInt32BE(8 + params.length, 0);
        head.writeUInt32BE(196608, 4);
        socket.write(Buffer.concat([head, params]));
      });
      socket.on('data', (c: Buffer) => chunks.push(c));
      socket.on('close', () => resolve(Buffer.concat(chunks).toString('utf8')));
      socket.on('error', reject);
    });
    expect(answer).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    expect(answer).toContain('Content-Type: text/html');
    expect(answer).toContain('<html>');
  });

  it('auth names the user that was refused', async () => {
    await faulty.setFault({ kind: 'auth' });
    const url = new URL(faulty.url);
    url.username = 'lettore';
    url.password = 'segreta';
    await expect(pgRead({ connectionString: url.href })).rejects.toMatchObject({ code: '28P01', message: 'password authentication failed for user "lettore"' });
  });

  it('flaky resets the same new connections, in the same order, each time it is set', async () => {
    const outcomes = async (): Promise<string> => {
      let seen = '';
      for (let i = 0; i < 16; i++) {
        const client = new pg.Client({ connectionString: faulty.url, connectionTimeoutMillis: 2_000 });
        client.on('error', () => {});
        try {
          await client.connect();
          seen += 'o';
        } catch (e) {
          expect(e).toMatchObject({ code: 'ECONNRESET' });
          seen += 'x';
        } finally {
          await client.end().catch(() => {});
        }
      }
      return seen;
    };
    await faulty.setFault({ kind: 'flaky', probability: 0.5 });
    const first = await outcomes();
    expect(first).toMatch(/o/);
    expect(first).toMatch(/x/);
    await faulty.setFault({ kind: 'flaky', probability: 0.5 });
    expect(await outcomes()).toBe(first);
  });

  it('rename renames the column in every view that has it, and back when lifted', async () => {
    const columns = async () => {
      const client = new pg.Client({ connectionString: faulty.url });
      clients.push(client);
      await client.connect();
      const result = await client.query<{ view: string; column: string }>(
        `SELECT table_schema || '.' || table_name AS view, column_name AS column FROM information_schema.columns
         WHERE table_name IN ('v_assistiti', 'v_iscrizioni') AND column_name LIKE 'id%' ORDER BY 1, 2`,
      );
      await client.end();
      return result.rows.map((r) => `${r.view}.${r.column}`);
    };
    expect(await columns()).toEqual(['cartella.v_assistiti.id', 'public.v_iscrizioni.id']);
    await faulty.setFault({ kind: 'rename', field: 'id' });
    expect(await columns()).toEqual(['cartella.v_assistiti.id_v2', 'public.v_iscrizioni.id_v2']);
    // Another column: the first is renamed back before.
    await faulty.setFault({ kind: 'rename', field: 'assistito' });
    expect(await columns()).toEqual(['cartella.v_assistiti.id', 'public.v_iscrizioni.id']);
    await faulty.setFault(null);
    expect(await columns()).toEqual(['cartella.v_assistiti.id', 'public.v_iscrizioni.id']);
    expect(await readB01(connectorOf())).toEqual(['B01']);
  });

  it('counts the statements that arrive and the bytes sent, fault answers included, and forgets both on reset', async () => {
    const c = connectorOf();
    faulty.resetRequestCount();
    expect([faulty.requestCount(), faulty.bytesSent()]).toEqual([0, 0]);
    await readB01(c);
    expect(faulty.requestCount()).toBe(1);
    const normal = faulty.bytesSent();
    expect(normal).toBeGreaterThan(100);

    // A new connection meets the garbage at its startup: no statement arrives, 512 bytes go out.
    await faulty.setFault({ kind: 'garbage' });
    await expect(readB01(connectorOf())).rejects.toMatchObject({ code: 'CITY_UNAVAILABLE' });
    expect(faulty.requestCount()).toBe(1);
    expect(faulty.bytesSent()).toBe(normal + 512);

    faulty.resetRequestCount();
    expect([faulty.requestCount(), faulty.bytesSent()]).toEqual([0, 0]);
  });

  it('starts with the fault it is given, and takes no fault once closed', async () => {
    const down = await createSqlStandIn({ source: config, rows: new Map(), fault: { kind: 'down' } });
    const source = resolveSource(city, config, { LGNET_072006_CARTELLA_URL: down.url }) as SqlSource;
    const c = createSqlConnector(city, source, { dispatcher: agent, now: Date.now, logger: silentLogger });
    opened.push(c);
    expect(down.port).toBeGreaterThan(0);
    await expect(c.page('enrollments', { offset: 0, limit: 5 }, undefined)).rejects.toMatchObject({ code: 'CITY_UNAVAILABLE', city });
    await down.setFault(null);
    expect(await c.page('enrollments', { offset: 0, limit: 5 }, undefined)).toEqual({ rows: [], total: 0 });
    await down.close();
    await expect(down.setFault({ kind: 'down' })).rejects.toThrow('stand-in is closed');
  });
});

// ---------------------------------------------------------------------------
// Many clients at once, each on its own connection, as the subgraphs' pools and a city's tools connect.

/** A client written message by message, to do what `pg` never does: leave a cycle open, send a message a byte at a time. */
class RawClient {
  private buffer = Buffer.alloc(0);
  private readonly received: Array<{ type: string; body: Buffer }> = [];
  private wake: (() => void) | null = null;
  closed = false;

  private readonly socket: net.Socket;

  private constructor(socket: net.Socket) {
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, chunk]);
      this.wake?.();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake?.();
    });
    socket.on('error', () => {});
  }

  /** Connects and starts a session; with `ssl`, asks for SSL first and goes on without it when told 'N'. */
  static async open(port: number, { ssl = false } = {}): Promise<RawClient> {
    const socket = net.connect({ host: '127.0.0.1', port });
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    const client = new RawClient(socket);
    if (ssl) {
      const request = Buffer.alloc(8);
      request.writeUInt32BE(8, 0);
      request.writeUInt32BE(80877103, 4);
      socket.write(request);
      expect((await client.bytes(1)).toString('ascii')).toBe('N');
    }
    const params = Buffer.from('user\0postgres\0database\0postgres\0\0');
    const head = Buffer.alloc(8);
    head.writeUInt32BE(8 + params.length, 0);
    head.writeUInt32BE(196608, 4);
    socket.write(Buffer.concat([head, params]));
    await client.until('Z');
    return client;
  }

  private async bytes(n: number): Promise<Buffer> {
    while (this.buffer.length < n) await this.next();
    const taken = this.buffer.subarray(0, n);
    this.buffer = this.buffer.subarray(n);
    return taken;
  }

  private next(): Promise<void> {
    if (this.closed) throw new Error('connection closed');
    return new Promise((resolve) => (this.wake = () => ((this.wake = null), resolve())));
  }

  /** The messages received up to the first of the given type, that one included. */
  async until(type: string): Promise<Array<{ type: string; body: Buffer }>> {
    for (;;) {
      while (this.buffer.length >= 5 && this.buffer.length >= 1 + this.buffer.readUInt32BE(1)) {
        const length = 1 + this.buffer.readUInt32BE(1);
        this.received.push({ type: String.fromCharCode(this.buffer[0]!), body: this.buffer.subarray(5, length) });
        this.buffer = this.buffer.subarray(length);
      }
      const at = this.received.findIndex((m) => m.type === type);
      if (at >= 0) return this.received.splice(0, at + 1);
      await this.next();
    }
  }

  send(...messages: Buffer[]): void {
    this.socket.write(Buffer.concat(messages));
  }

  /** Sends the messages one byte per write, each after the previous has gone. */
  async dribble(...messages: Buffer[]): Promise<void> {
    for (const byte of Buffer.concat(messages)) {
      await new Promise<void>((resolve) => this.socket.write(Buffer.from([byte]), () => resolve()));
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
  }

  vanish(): void {
    this.socket.destroy();
  }
}

const wire = {
  message(type: string, ...parts: Buffer[]): Buffer {
    const body = Buffer.concat(parts);
    const head = Buffer.alloc(5);
    head.write(type, 0, 'ascii');
    head.writeUInt32BE(body.length + 4, 1);
    return Buffer.concat([head, body]);
  },
  text: (s: string) => Buffer.from(`${s}\0`, 'utf8'),
  int16: (n: number) => Buffer.from([n >> 8, n & 0xff]),
  int32(n: number): Buffer {
    const b = Buffer.alloc(4);
    b.writeInt32BE(n);
    return b;
  },
  parse: (sql: string) => wire.message('P', wire.text(''), wire.text(sql), wire.int16(0)),
  /** Binds the unnamed statement with text parameters, every column in text. */
  bind: (...values: string[]) =>
    wire.message('B', wire.text(''), wire.text(''), wire.int16(0), wire.int16(values.length), ...values.flatMap((v) => [wire.int32(Buffer.byteLength(v)), Buffer.from(v)]), wire.int16(0)),
  execute: () => wire.message('E', wire.text(''), wire.int32(0)),
  sync: () => wire.message('S'),
  query: (sql: string) => wire.message('Q', wire.text(sql)),
  /** The values of the DataRow messages among those received. */
  rows(messages: Array<{ type: string; body: Buffer }>): Array<Array<string | null>> {
    return messages
      .filter((m) => m.type === 'D')
      .map(({ body }) => {
        const values: Array<string | null> = [];
        let at = 2;
        for (let i = 0; i < body.readInt16BE(0); i++) {
          const length = body.readInt32BE(at);
          at += 4;
          values.push(length < 0 ? null : body.subarray(at, at + length).toString('utf8'));
          at += Math.max(length, 0);
        }
        return values;
      });
  },
  /** The SQLSTATE of the ErrorResponse among those received, if any. */
  sqlState(messages: Array<{ type: string; body: Buffer }>): string | null {
    const error = messages.find((m) => m.type === 'E');
    if (!error) return null;
    const field = error.body.toString('utf8').split('\0').find((f) => f.startsWith('C'));
    return field ? field.slice(1) : null;
  },
};

describe('the SQL stand-in serving many clients at once', () => {
  let many: SqlStandIn;
  const clients: pg.Client[] = [];
  const raws: RawClient[] = [];

  beforeAll(async () => {
    many = await createSqlStandIn({ source: config, rows, maxConnections: 12 });
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.end().catch(() => {})));
    for (const r of raws.splice(0)) r.vanish();
    await many.setFault(null);
    await vi.waitFor(() => expect(many.connections().now).toBe(0));
  });
  afterAll(async () => {
    await many.close();
  });

  const pgClient = async (): Promise<pg.Client> => {
    const client = new pg.Client({ connectionString: many.url, connectionTimeoutMillis: 5_000 });
    client.on('error', () => {});
    clients.push(client);
    await client.connect();
    return client;
  };
  const rawClient = async (options?: { ssl?: boolean }): Promise<RawClient> => {
    const raw = await RawClient.open(many.port, options);
    raws.push(raw);
    return raw;
  };
  /** Whether a promise has settled, looked at after the others have had time to run. */
  const settledAfter = async (p: Promise<unknown>, ms: number): Promise<boolean> => {
    let settled = false;
    p.then(
      () => (settled = true),
      () => (settled = true),
    );
    await new Promise((resolve) => setTimeout(resolve, ms));
    return settled;
  };
  const cfOf = (client: pg.Client, id: string) =>
    client.query<{ cf: string }>('SELECT "cf" FROM "cartella"."v_assistiti" WHERE "id" = $1', [id]).then((r) => r.rows.map((row) => row.cf));

  it('serves eight clients at once, each on its own connection, and each gets its own rows: bound parameters never cross', async () => {
    const eight = await Promise.all(Array.from({ length: 8 }, () => pgClient()));
    expect(many.connections()).toEqual({ now: 8, most: 8 });
    const ids = ['B01', 'B02', 'B03', 'B04'];
    // Ids that match nothing, as a lookup of a long batch sends: a Bind of some 200 kB, which arrives in several reads.
    const unknown = Array.from({ length: 20_000 }, (_, n) => `X${n}`);
    many.resetRequestCount();
    const answers = await Promise.all(
      eight.map(async (client, i) => {
        const seen: string[] = [];
        for (let round = 0; round < 20; round++) {
          const id = ids[(i + round) % 4]!;
          // Two statements of different shapes: a Bind meant for one and run against the other would fail or answer wrong.
          if (i % 2 === 0) {
            const r = await client.query<{ who: string; id: string; cf: string }>(
              'SELECT $1::text AS who, "id", "cf" FROM "cartella"."v_assistiti" WHERE "id" = ANY($2::text[]) ORDER BY "id"',
              [`client ${i} round ${round}`, [...unknown, id]],
            );
            seen.push(...r.rows.map((row) => `${row.who}: ${row.id} ${row.cf}`));
          } else {
            const r = await client.query<{ n: number; id: string }>('SELECT "id", $2::int AS n FROM "v_iscrizioni" WHERE "assistito" = $1 ORDER BY "id"', [id, i * 100 + round]);
            seen.push(`client ${i} round ${round}: ${r.rows.map((row) => `${row.id}#${row.n}`).join(' ')}`);
          }
        }
        return seen;
      }),
    );
    const enrolments: Record<string, string[]> = { B01: ['E1', 'E3'], B03: ['E2'] };
    answers.forEach((seen, i) => {
      expect(seen).toEqual(
        Array.from({ length: 20 }, (_, round) => {
          const id = ids[(i + round) % 4]!;
          return i % 2 === 0
            ? `client ${i} round ${round}: ${id} CF${id}`
            : `client ${i} round ${round}: ${(enrolments[id] ?? []).map((e) => `${e}#${i * 100 + round}`).join(' ')}`;
        }),
      );
    });
    expect(many.requestCount()).toBe(8 * 20);
    await Promise.all(clients.splice(0).map((c) => c.end()));
    await vi.waitFor(() => expect(many.connections()).toEqual({ now: 0, most: 8 }));
  });

  it('serves the connector with a pool of eight connections: every one of many lookups at once gets its own rows', async () => {
    const source = resolveSource(city, SqlSourceSchema.parse({ ...rawConfig, maxConcurrent: 8 }), { LGNET_072006_CARTELLA_URL: many.url }) as SqlSource;
    const c = createSqlConnector(city, source, { dispatcher: agent, now: Date.now, logger: silentLogger });
    try {
      const ids = ['B01', 'B02', 'B03', 'B04'];
      // As many as the connector takes at once: eight running, 24 waiting for a connection.
      const answers = await Promise.all(
        Array.from({ length: 32 }, (_, i) =>
          i % 2 === 0
            ? c.lookup('beneficiaries', 'localId', [ids[i % 4]!], undefined).then((r) => r.map((row) => `${row.id} ${row.cf}`))
            : c.lookup('enrollments', 'beneficiaryId', [ids[i % 4]!], undefined).then((r) => r.map((row) => String(row.id)).sort()),
        ),
      );
      const enrolments: Record<string, string[]> = { B01: ['E1', 'E3'], B03: ['E2'] };
      expect(answers).toEqual(Array.from({ length: 32 }, (_, i) => (i % 2 === 0 ? [`${ids[i % 4]} CF${ids[i % 4]}`] : (enrolments[ids[i % 4]!] ?? []))));
      expect(many.connections().now).toBeGreaterThan(1);
      expect(many.connections().now).toBeLessThanOrEqual(8);
    } finally {
      await c.close();
    }
  });

  it('keeps the backend for a client in the middle of a cycle, and gives the Sync it owed when it leaves after an error', async () => {
    const raw = await rawClient();
    // A Parse that fails: the backend now discards every message until a Sync, which this client never sends.
    raw.send(wire.parse('SELEC "cf" FROM "cartella"."v_assistiti"'), wire.bind());
    expect(wire.sqlState(await raw.until('E'))).toBe('42601');
    const others = await Promise.all(Array.from({ length: 4 }, () => pgClient()));
    const reads = Promise.all(others.map((client, i) => cfOf(client, `B0${i + 1}`)));
    expect(await settledAfter(reads, 200)).toBe(false);
    raw.vanish();
    expect(await reads).toEqual([['CFB01'], ['CFB02'], ['CFB03'], ['CFB04']]);
  });

  it('keeps the backend for a client inside a transaction: another waits for its end, and sees nothing of it once rolled back', async () => {
    const [inside, outside] = await Promise.all([pgClient(), pgClient()]);
    await inside.query('BEGIN');
    await inside.query('CREATE TABLE public.not_yet (x int)');
    const read = outside.query<{ t: string | null }>(`SELECT to_regclass('public.not_yet')::text AS t`);
    expect(await settledAfter(read, 200)).toBe(false);
    await inside.query('ROLLBACK');
    expect((await read).rows).toEqual([{ t: null }]);
  });

  it('rolls back the transaction of a client that leaves inside it, before the next client is served', async () => {
    const [raw, other] = await Promise.all([rawClient(), pgClient()]);
    raw.send(wire.query('BEGIN'));
    await raw.until('Z');
    raw.send(wire.query('CREATE TABLE public.left_behind (x int)'));
    await raw.until('Z');
    const read = other.query<{ t: string | null }>(`SELECT to_regclass('public.left_behind')::text AS t`);
    expect(await settledAfter(read, 200)).toBe(false);
    raw.vanish();
    expect((await read).rows).toEqual([{ t: null }]);
    // And the backend is out of the transaction: a statement that cannot run inside one runs.
    await other.query('VACUUM "stand_in"."beneficiaries"');
  });

  it('serves a client whose messages come a byte at a time, after an SSL request, while the others go on', async () => {
    const raw = await rawClient({ ssl: true });
    const others = await Promise.all(Array.from({ length: 4 }, () => pgClient()));
    let dribbling = true;
    // The others read all the while the raw client sends, each read checked.
    const reads = Promise.all(
      others.map(async (client, i) => {
        let count = 0;
        for (; dribbling || count === 0; count++) expect(await cfOf(client, `B0${((i + count) % 4) + 1}`)).toEqual([`CFB0${((i + count) % 4) + 1}`]);
        return count;
      }),
    );
    await raw.dribble(wire.parse('SELECT "cf", $1::text FROM "cartella"."v_assistiti" WHERE "id" = $1'), wire.bind('B03'), wire.execute(), wire.sync());
    const answer = await raw.until('Z');
    dribbling = false;
    expect(wire.sqlState(answer)).toBeNull();
    expect(wire.rows(answer)).toEqual([['CFB03', 'B03']]);
    expect(Math.min(...(await reads))).toBeGreaterThan(0);
  });

  it('lets a client that sends Terminate go, with the connection closed and the backend free for the others', async () => {
    const raw = await rawClient();
    raw.send(wire.parse('SELECT 1'), wire.message('X'));
    await vi.waitFor(() => expect(raw.closed).toBe(true));
    const other = await pgClient();
    expect(await cfOf(other, 'B02')).toEqual(['CFB02']);
  });

  it('makes a schema change between the cycles of the clients: a rename waits for the cycle open to end', async () => {
    const raw = await rawClient();
    raw.send(wire.parse('SELECT "cf" FROM "cartella"."v_assistiti" WHERE "id" = $1'));
    await raw.until('1');
    const renamed = many.setFault({ kind: 'rename', field: 'cf' });
    expect(await settledAfter(renamed, 200)).toBe(false);
    raw.send(wire.bind('B04'), wire.execute(), wire.sync());
    const answer = await raw.until('Z');
    expect(wire.sqlState(answer)).toBeNull();
    expect(wire.rows(answer)).toEqual([['CFB04']]);
    await renamed;
    await expect(cfOf(await pgClient(), 'B04')).rejects.toMatchObject({ code: '42703' });
  });

  it('serves maxConnections clients at once and refuses one more at its startup with SQLSTATE 53300, then serves again once one leaves', async () => {
    const twelve = await Promise.all(Array.from({ length: 12 }, () => pgClient()));
    expect(many.connections().now).toBe(12);
    const extra = new pg.Client({ connectionString: many.url, connectionTimeoutMillis: 5_000 });
    extra.on('error', () => {});
    await expect(extra.connect()).rejects.toMatchObject({ code: '53300', severity: 'FATAL', message: 'sorry, too many clients already' });
    expect(many.connections().now).toBe(12);
    await twelve[0]!.end();
    await vi.waitFor(() => expect(many.connections().now).toBe(11));
    expect(await cfOf(await pgClient(), 'B01')).toEqual(['CFB01']);
    expect(await Promise.all(twelve.slice(1).map((client) => cfOf(client, 'B03')))).toEqual(Array.from({ length: 11 }, () => ['CFB03']));
  });
});

// ---------------------------------------------------------------------------
// Two sandbox cities whose system is a PostgreSQL database: their sql sources,
// as in their configs, kept as fixtures.

/** The same people, services and housing in both cities, as the graph reads them. */
const sample = {
  beneficiaries: [
    {
      localId: '1001', fiscalCode: 'BBENCC90B03Z315A', givenName: 'Niccolò', familyName: 'Abebe', sex: 'MALE', birthDate: '1990-02-03',
      citizenship: 'ET', permitType: 'ASYLUM_SEEKER', vulnerabilities: ['HOMELESSNESS', 'MENTAL_HEALTH'],
      intake: { date: '2024-01-15', channel: 'ONE_STOP_SHOP', status: 'ACTIVE' },
    },
    {
      localId: '1002', fiscalCode: 'DMCNGZ95S58Z335F', givenName: 'Ngozi', familyName: "D'Amico", sex: 'FEMALE', birthDate: '1995-11-18',
      citizenship: 'NG', permitType: 'SPECIAL_PROTECTION', vulnerabilities: ['TRAFFICKING'],
      intake: { date: '2024-03-10', channel: 'MOBILE_UNIT', status: 'CLOSED_AUTONOMY' },
    },
    {
      localId: '1003', fiscalCode: 'HSSFTM92C45Z330D', givenName: 'Fatima', familyName: 'Hassan', sex: 'FEMALE', birthDate: '1992-03-05',
      citizenship: 'MA', permitType: 'WORK', vulnerabilities: [],
      intake: { date: '2023-12-30', channel: 'REFERRAL', status: 'ACTIVE' },
    },
  ],
  services: [
    { localId: 'S01', name: 'Sportello immigrazione', category: 'ONE_STOP_SHOP' },
    { localId: 'S02', name: 'Corso di italiano L2', category: 'LANGUAGE_COURSE' },
  ],
  enrollments: [
    { localId: 'F1', beneficiaryId: '1001', serviceId: 'S02', from: '2024-02-01', to: null },
    { localId: 'F2', beneficiaryId: '1002', serviceId: 'S01', from: '2024-03-11', to: '2024-04-30' },
  ],
  civicProjects: [
    { localId: 'P1', beneficiaryId: '1001', status: 'SIGNED', signedOn: '2024-02-15' },
    { localId: 'P2', beneficiaryId: '1003', status: 'DRAFT', signedOn: null },
  ],
  housingResources: [
    { localId: 'H1', name: 'Casa di accoglienza San Donato', kind: 'PROTECTED_SHELTER', capacity: 12, occupancy: 9 },
    { localId: 'H2', name: 'Appartamento via del Pratello', kind: 'SEMI_AUTONOMY_FLAT', capacity: 4, occupancy: 3 },
  ],
  placements: [
    { localId: 'A1', beneficiaryId: '1002', resourceId: 'H1', from: '2024-03-10', to: '2024-06-30' },
    { localId: 'A2', beneficiaryId: '1003', resourceId: 'H2', from: '2024-01-08', to: null },
  ],
} satisfies Record<EntityName, Array<Record<string, unknown>>>;

/** The code list each coded field is read through. */
const codeLists: Record<string, string> = {
  sex: 'sex', permitType: 'permitType', vulnerabilities: 'vulnerability', intakeChannel: 'intakeChannel', intakeStatus: 'intakeStatus',
  category: 'serviceCategory', status: 'civicProjectStatus', kind: 'housingKind',
};
const dateFields = new Set(['birthDate', 'intakeDate', 'from', 'to', 'signedOn']);

/** A canonical record written as the city's database holds it: its codes, its date format, its columns (a template's split). */
function ownRow(source: SqlSourceConfig, entity: EntityName, record: Record<string, unknown>): RawRow {
  const own = (table: Record<string, string> | undefined, national: string) => {
    if (table === undefined) return national;
    const code = Object.keys(table).find((k) => table[k] === national);
    if (code === undefined) throw new Error(`no code of the city for ${national}`);
    return code;
  };
  const row: Record<string, unknown> = {};
  for (const [field, spec] of Object.entries(source.entities[entity]!.fields as Record<string, string>)) {
    const intake = field.startsWith('intake') ? (record.intake as Record<string, unknown>)[field.slice('intake'.length).toLowerCase()] : undefined;
    const v = intake ?? record[field];
    let value: unknown;
    if (v === null || v === undefined) value = null;
    else if (dateFields.has(field)) {
      const [y, m, d] = String(v).split('-');
      value = source.dateFormat === 'dd/mm/yyyy' ? `${d}/${m}/${y}` : String(v);
    } else if (field === 'citizenship') value = own(source.citizenship, String(v));
    else if (field === 'vulnerabilities') value = (v as string[]).map((n) => own(source.vocabularies.vulnerability, n));
    else if (codeLists[field]) value = own((source.vocabularies as Record<string, Record<string, string>>)[codeLists[field]!], String(v));
    else value = String(v);
    if (!spec.includes('{')) {
      row[spec] = value;
      continue;
    }
    const columns = [...spec.matchAll(/\{([^{}]+)\}/g)].map((m) => m[1]!);
    const literals = spec.split(/\{[^{}]+\}/).map((l) => l.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&'));
    const parts = new RegExp(`^${literals.join('(.*?)')}$`).exec(String(value))!;
    columns.forEach((c, i) => (row[c] = parts[i + 1]));
  }
  return row;
}

describe.each([
  { name: 'bologna', code: '037006', cityName: 'Bologna', region: 'Emilia-Romagna', province: 'BO' },
  { name: 'firenze', code: '048017', cityName: 'Firenze', region: 'Toscana', province: 'FI' },
])('the SQL stand-in of $cityName, from its config', ({ name, code, cityName, region, province }) => {
  const raw = JSON.parse(readFileSync(new URL(`../adapters/connectors/fixtures/sql-city-${name}.json`, import.meta.url), 'utf8')) as SourceConfig;
  const cityConfig = CityConfig.parse({ code, name: cityName, region, province, editions: ['LGNET3'], sources: [raw] });
  const source = cityConfig.sources[0] as SqlSourceConfig;
  let cityStandIn: SqlStandIn;
  let cityConnector: SqlConnector;
  let adapter: ReturnType<typeof createCityAdapter>;

  beforeAll(async () => {
    const cityRows = new Map<EntityName, RawRow[]>(
      (Object.entries(sample) as Array<[EntityName, Array<Record<string, unknown>>]>).map(([entity, records]) => [entity, records.map((r) => ownRow(source, entity, r))]),
    );
    cityStandIn = await createSqlStandIn({ source, rows: cityRows });
    const env = { [`LGNET_${code}_MAIN_URL`]: cityStandIn.url, [`LGNET_${code}_MAIN_KEY`]: 'una-password-qualsiasi' };
    adapter = createCityAdapter(resolveCity(cityConfig, env), {
      personKeySecret: 'sixteen-chars-secret',
      deps: { dispatcher: agent, now: Date.now, logger: silentLogger },
      createConnector: (c, resolved, deps) => (cityConnector = createSqlConnector(c, resolved as SqlSource, deps)),
    });
  });
  afterAll(async () => {
    await cityConnector?.close();
    await cityStandIn?.close();
  });

  it('is a PostgreSQL source with every domain, a pool of one connection and a password from the environment', () => {
    expect(source).toMatchObject({ kind: 'sql', dialect: 'postgres', domains: ['people', 'services', 'housing'], maxConcurrent: 1 });
    expect(source.baseUrl).toEqual({ env: `LGNET_${code}_MAIN_URL` });
    expect(source.auth).toEqual({ key: { env: `LGNET_${code}_MAIN_KEY` } });
  });

  it.each(Object.keys(sample) as EntityName[])('serves every %s through the SQL connector, each record valid', async (entity) => {
    const page = await adapter.list(entity, { offset: 0, limit: 10 }, {});
    expect(page.rejected).toBe(0);
    expect(page.items).toEqual(sample[entity].map((r) => expect.objectContaining({ ...r, city: code })));
  });

  it('looks persons up by id in one statement', async () => {
    cityStandIn.resetRequestCount();
    const found = await adapter.byId('beneficiaries', ['1003', '1001'], {});
    expect(found.map((r) => (r as { localId?: string }).localId)).toEqual(['1003', '1001']);
    expect(cityStandIn.requestCount()).toBe(1);
  });
});

describe('the two SQL cities differ in how they keep dates', () => {
  const load = (name: string) =>
    SqlSourceSchema.parse(JSON.parse(readFileSync(new URL(`../adapters/connectors/fixtures/sql-city-${name}.json`, import.meta.url), 'utf8')));
  const bologna = load('bologna');
  const firenze = load('firenze');

  it('Bologna keeps intake and placement dates in DATE columns, in views of its servizi_sociali schema: date filters go into the SQL', async () => {
    expect(bologna.entities.beneficiaries?.dates).toMatchObject({ intakeDate: 'date' });
    expect(bologna.entities.placements?.dates).toEqual({ from: 'date', to: 'date' });
    expect(Object.values(bologna.entities).every((e) => e!.view.startsWith('servizi_sociali.'))).toBe(true);

    const rowsOf = new Map<EntityName, RawRow[]>([['placements', sample.placements.map((r) => ownRow(bologna, 'placements', r))]]);
    const db = await createSqlStandIn({ source: { ...bologna, entities: { placements: bologna.entities.placements } }, rows: rowsOf });
    const source = resolveSource('037006', bologna, { LGNET_037006_MAIN_URL: db.url, LGNET_037006_MAIN_KEY: 'x' }) as SqlSource;
    const c = createSqlConnector('037006', source, { dispatcher: agent, now: Date.now, logger: silentLogger });
    try {
      const where = { from: { from: '2024-03-01' } };
      expect(c.pushable!('placements', where)).toEqual(where);
      db.resetRequestCount();
      const page = await c.page('placements', { offset: 0, limit: 10, where }, undefined);
      expect(page).toEqual({ total: 1, rows: [{ id_accoglienza: 'A1', id_assistito: '1002', id_alloggio: 'H1', data_ingresso: '2024-03-10', data_uscita: '2024-06-30' }] });
      expect(db.requestCount()).toBe(2);
    } finally {
      await c.close();
      await db.close();
    }
  });

  it('Firenze keeps text dates in dd/mm/yyyy and the birth date in three columns: no date filter goes into the SQL', () => {
    expect(firenze.dateFormat).toBe('dd/mm/yyyy');
    expect(firenze.entities.beneficiaries?.fields.birthDate).toBe('{giorno_nascita}/{mese_nascita}/{anno_nascita}');
    expect(Object.values(firenze.entities).every((e) => !e!.view.includes('.') && Object.keys(e!.dates).length === 0)).toBe(true);
    const source = resolveSource('048017', firenze, { LGNET_048017_MAIN_URL: 'postgres://postgres@127.0.0.1:1/postgres', LGNET_048017_MAIN_KEY: 'x' }) as SqlSource;
    const c = createSqlConnector('048017', source, { dispatcher: agent, now: Date.now, logger: silentLogger });
    expect(c.pushable!('placements', { from: { from: '2024-03-01' }, beneficiaryId: ['1002'] })).toEqual({ beneficiaryId: ['1002'] });
    expect(c.pushable!('beneficiaries', { birthDate: { from: '1990' }, 'intake.date': { from: '2024' }, sex: ['FEMALE'] })).toEqual({ sex: ['FEMALE'] });
  });
});
