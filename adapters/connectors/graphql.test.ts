import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CityError } from '../../schema/errors.ts';
import { silentLogger, type Logger } from '../../runtime/logger.ts';
import { ConfigError, loadCityConfigs } from '../config.ts';
import { createRowMapper } from '../mapping.ts';
import { rowDefect, type ConnectorDeps } from '../port.ts';
import { answer, jsonReply, startGraphqlUpstream, type GraphqlUpstream, type RecordedPost } from './fixtures/graphql/graphql-upstream.ts';
import { closedPortUrl, fixture } from './fixtures/upstream-server.ts';
import { GraphqlSource as GraphqlSourceSchema } from './graphql-config.ts';
import { createGraphqlConnector, flattenRecord, type GraphqlSource } from './graphql.ts';

const city = '072006'; // Bari
const token = 'tok-bari-123';

let upstream: GraphqlUpstream;
let agent: Agent;
const clock = Date.parse('2025-03-10T08:00:00Z');
const deps = (logger: Logger = silentLogger): ConnectorDeps => ({ dispatcher: agent, now: () => clock, logger });

beforeAll(async () => {
  upstream = await startGraphqlUpstream();
  agent = new Agent();
});
afterAll(async () => {
  await agent.close();
  await upstream.close();
});

const assistitiQuery = `query Assistiti($primi: Int!, $dopo: Int!, $filtro: FiltroAssistiti) {
  assistiti(primi: $primi, dopo: $dopo, filtro: $filtro) {
    totale
    elementi {
      codice
      persona { nome cognome codiceFiscale sesso dataNascita cittadinanza }
      permesso { tipo { codice } }
      fragilita { codice }
      presaInCarico { data canale stato }
    }
  }
}`;

const assistitiFields = {
  localId: 'codice', fiscalCode: 'persona.codiceFiscale', givenName: 'persona.nome', familyName: 'persona.cognome',
  sex: 'persona.sesso', birthDate: 'persona.dataNascita', citizenship: 'persona.cittadinanza', permitType: 'permesso.tipo.codice',
  vulnerabilities: 'fragilita.codice', intakeDate: 'presaInCarico.data', intakeChannel: 'presaInCarico.canale', intakeStatus: 'presaInCarico.stato',
};

/** A city's config for its GraphQL system, as a city file would hold it (before its references are resolved). */
function configJson(overrides: Record<string, unknown> = {}, entity: Record<string, unknown> = {}) {
  return {
    kind: 'graphql',
    id: 'main',
    domains: ['people'],
    baseUrl: { env: 'LGNET_072006_MAIN_URL' },
    dateFormat: 'dd/mm/yyyy',
    vocabularies: {
      sex: { M: 'MALE', F: 'FEMALE' },
      intakeChannel: { SPORTELLO: 'ONE_STOP_SHOP', UDS: 'MOBILE_UNIT', UNITA_MOBILE: 'MOBILE_UNIT', INVIO: 'REFERRAL' },
    },
    auth: { header: 'Authorization', prefix: 'Bearer ', key: { env: 'LGNET_072006_MAIN_KEY' } },
    // No retries here, so that every request counted is one the test expects; retries have their own test.
    retries: 0,
    paging: { style: 'offset', startVariable: 'dopo', sizeVariable: 'primi', maxPageSize: 2 },
    maxBatchSize: 100,
    entities: {
      beneficiaries: {
        path: '/graphql',
        query: assistitiQuery,
        itemsPath: 'assistiti.elementi',
        totalPath: 'assistiti.totale',
        fields: assistitiFields,
        batchVariables: { localId: 'filtro.codici' },
        filters: {
          'intake.date': { from: 'filtro.presaInCaricoDal', to: 'filtro.presaInCaricoAl' },
          'intake.channel': 'filtro.canali',
        },
        ...entity,
      },
    },
    ...overrides,
  };
}

function source(overrides: Record<string, unknown> = {}, entity: Record<string, unknown> = {}): GraphqlSource {
  const parsed = GraphqlSourceSchema.parse(configJson(overrides, entity));
  return { ...parsed, baseUrl: upstream.url, apiKey: token };
}

const records = (name: string) => JSON.parse(fixture(`graphql/${name}`).toString()).data.assistiti.elementi as Array<Record<string, unknown>>;
const everyone = [...records('assistiti-dopo-0-primi-2.json'), ...records('assistiti-dopo-2-primi-2.json'), ...records('assistiti-dopo-4-primi-2.json')];

/** Answers a page of the five recorded records from the variables `dopo` and `primi`, as the city's API does. */
function pagedFromVariables(req: RecordedPost) {
  const { dopo, primi } = req.body!.variables as { dopo: number; primi: number };
  return jsonReply({ data: { assistiti: { totale: everyone.length, elementi: everyone.slice(dopo, dopo + primi) } } });
}

/** The rejection of `p`, which must be a CityError. */
async function cityError(p: Promise<unknown>): Promise<CityError> {
  const e = await p.then(() => undefined, (err: unknown) => err);
  expect(e).toBeInstanceOf(CityError);
  return e as CityError;
}

const variables = () => upstream.requests.map((r) => r.body?.variables);

describe('the request', () => {
  it('POSTs the entity\'s query document with the paging variables and the bearer key, as JSON', async () => {
    upstream.reset(() => answer('assistiti-dopo-0-primi-2.json'));
    const connector = createGraphqlConnector(city, source(), deps());

    await connector.page('beneficiaries', { offset: 0, limit: 2 });

    expect(upstream.requests).toHaveLength(1);
    const [req] = upstream.requests;
    expect(req).toMatchObject({ method: 'POST', url: '/graphql' });
    expect(JSON.parse(req!.text)).toEqual({ query: assistitiQuery, variables: { dopo: 0, primi: 2 } });
    expect(req!.headers['authorization']).toBe(`Bearer ${token}`);
    expect(req!.headers['content-type']).toBe('application/json');
    expect(req!.headers['accept']).toBe('application/json');
    // No header of the graph's own leaves the process.
    expect(Object.keys(req!.headers).filter((h) => h.startsWith('x-lgnet'))).toEqual([]);
  });
});

describe('records', () => {
  it('are flattened into rows keyed by dotted paths, lists of objects becoming the list of their inner values', async () => {
    upstream.reset(() => answer('assistiti-dopo-0-primi-2.json'));
    const connector = createGraphqlConnector(city, source(), deps());

    const { rows, total } = await connector.page('beneficiaries', { offset: 0, limit: 2 });

    expect(total).toBe(5);
    expect(rows[0]).toEqual({
      codice: 'A001',
      'persona.nome': 'Niccolò', 'persona.cognome': 'Abebe', 'persona.codiceFiscale': 'BBENCC90B03Z315A',
      'persona.sesso': 'M', 'persona.dataNascita': '03/02/1990', 'persona.cittadinanza': 'ET',
      'permesso.tipo.codice': 'PROT_SUSS',
      'fragilita.codice': ['MSNA'],
      'presaInCarico.data': '15/01/2024', 'presaInCarico.canale': 'SPORTELLO', 'presaInCarico.stato': 'IN_CARICO',
    });
    // A person with no vulnerabilities: the empty list stays, and reads as no values.
    expect(rows[1]!['fragilita']).toEqual([]);
  });

  it('keep lists of scalars as arrays, join the values of nested lists of objects in order, and keep a null object null', () => {
    expect(flattenRecord({
      codice: 'A9',
      alias: ['Mimì', 'Mimma'],
      fragilita: [{ codice: 'TRATTA', note: null }, null, { codice: 'MSNA' }],
      nuclei: [{ membri: [{ codice: 'F1' }, { codice: 'F2' }] }, { membri: [{ codice: 'F3' }] }],
      residenza: null,
    })).toEqual({
      codice: 'A9',
      alias: ['Mimì', 'Mimma'],
      'fragilita.codice': ['TRATTA', 'MSNA'],
      'fragilita.note': [],
      'nuclei.membri.codice': ['F1', 'F2', 'F3'],
      residenza: null,
    });
  });

  it('map to canonical records through the config\'s dotted paths', async () => {
    upstream.reset(() => answer('assistiti-dopo-2-primi-2.json'));
    const config = source({ vocabularies: { ...configJson().vocabularies, permitType: { PROT_SPEC: 'SPECIAL_PROTECTION', ASILO: 'ASYLUM_SEEKER' }, intakeStatus: { CHIUSA: 'CLOSED_AUTONOMY', IN_CARICO: 'ACTIVE' }, vulnerability: { TRATTA: 'TRAFFICKING', SALUTE_MENTALE: 'MENTAL_HEALTH' } } });
    const connector = createGraphqlConnector(city, config, deps());
    const { rows } = await connector.page('beneficiaries', { offset: 2, limit: 2 });

    const mapped = createRowMapper(city, config, 'segreto-di-prova').map('beneficiaries', rows[0]!);
    expect(mapped.ok ? 'accepted' : mapped.rejection).toBe('accepted');
    expect(mapped.ok && mapped.record).toMatchObject({
      localId: 'A003', givenName: 'Ngozi', familyName: "D'Amico", sex: 'FEMALE', birthDate: '1995-11-18', citizenship: 'NG',
      permitType: 'SPECIAL_PROTECTION', vulnerabilities: ['TRAFFICKING', 'MENTAL_HEALTH'],
    });
  });
});

describe('paging', () => {
  it('passes an offset and a limit through to an offset-style API', async () => {
    upstream.reset(pagedFromVariables);
    const connector = createGraphqlConnector(city, source(), deps());

    const { rows, total } = await connector.page('beneficiaries', { offset: 1, limit: 2 });

    expect(rows.map((r) => r['codice'])).toEqual(['A002', 'A003']);
    expect(total).toBe(5);
    expect(variables()).toEqual([{ dopo: 1, primi: 2 }]);
  });

  it('never asks for more than maxPageSize records in one request', async () => {
    upstream.reset(pagedFromVariables);
    const connector = createGraphqlConnector(city, source(), deps());

    const { rows } = await connector.page('beneficiaries', { offset: 0, limit: 5 });

    expect(rows.map((r) => r['codice'])).toEqual(['A001', 'A002', 'A003', 'A004', 'A005']);
    const asked = variables().map((v) => v!['dopo']).sort();
    expect(asked).toEqual([0, 2, 4]);
    expect(variables().every((v) => v!['primi'] === 2)).toBe(true);
  });

  it('sends page numbers from firstPage to a page-style API, and slices the covering pages', async () => {
    upstream.reset((req) => {
      const { pagina, dimensione } = req.body!.variables as { pagina: number; dimensione: number };
      return jsonReply({ data: { assistiti: { totale: 5, elementi: everyone.slice((pagina - 1) * dimensione, pagina * dimensione) } } });
    });
    const query = assistitiQuery.replace('$primi: Int!, $dopo: Int!', '$dimensione: Int!, $pagina: Int!').replace('primi: $primi, dopo: $dopo', 'primi: $dimensione, pagina: $pagina');
    const connector = createGraphqlConnector(city, source({ paging: { style: 'page', startVariable: 'pagina', sizeVariable: 'dimensione', firstPage: 1, maxPageSize: 2 } }, { query }), deps());

    const { rows } = await connector.page('beneficiaries', { offset: 1, limit: 2 });

    expect(rows.map((r) => r['codice'])).toEqual(['A002', 'A003']);
    expect(variables().sort((a, b) => (a!['pagina'] as number) - (b!['pagina'] as number))).toEqual([{ pagina: 1, dimensione: 2 }, { pagina: 2, dimensione: 2 }]);
  });

  it('answers no rows, and the total, for a slice past the end', async () => {
    upstream.reset(pagedFromVariables);
    const connector = createGraphqlConnector(city, source(), deps());
    expect(await connector.page('beneficiaries', { offset: 10, limit: 2 })).toEqual({ rows: [], total: 5 });
  });

  it('refuses a page shorter than asked while more records remain (the API pages by a smaller size of its own)', async () => {
    upstream.reset(() => jsonReply({ data: { assistiti: { totale: 5, elementi: everyone.slice(0, 1) } } }));
    const connector = createGraphqlConnector(city, source(), deps());
    const e = await cityError(connector.page('beneficiaries', { offset: 0, limit: 2 }));
    expect(e).toMatchObject({ code: 'CITY_BAD_RESPONSE', city });
    expect(e.message).toContain('maxPageSize');
  });
});

describe('filters', () => {
  it('says which conditions the API applies: the declared ones, not the others', () => {
    const connector = createGraphqlConnector(city, source(), deps());
    const where = { 'intake.date': { from: '2024-01', to: '2024-03' }, 'intake.channel': ['MOBILE_UNIT'], sex: ['FEMALE'] };
    expect(connector.pushable!('beneficiaries', where)).toEqual({ 'intake.date': { from: '2024-01', to: '2024-03' }, 'intake.channel': ['MOBILE_UNIT'] });
  });

  it('sends them as variables: dates in the source\'s format, national codes as every local code for them', async () => {
    upstream.reset(() => answer('assistiti-uds-primo-trimestre-2024.json'));
    const connector = createGraphqlConnector(city, source(), deps());
    const where = { 'intake.date': { from: '2024-01', to: '2024-03' }, 'intake.channel': ['MOBILE_UNIT'] };

    const { rows, total } = await connector.page('beneficiaries', { offset: 0, limit: 2, where });

    expect(rows.map((r) => r['codice'])).toEqual(['A002']);
    expect(total).toBe(1);
    expect(variables()).toEqual([{
      filtro: { presaInCaricoDal: '01/01/2024', presaInCaricoAl: '31/03/2024', canali: ['UDS', 'UNITA_MOBILE'] },
      dopo: 0,
      primi: 2,
    }]);
  });
});

describe('batch look-ups', () => {
  it('asks once for a batch of ids, deduplicated, through the list variable', async () => {
    upstream.reset(() => answer('assistiti-codici-A001-A003.json'));
    const connector = createGraphqlConnector(city, source({ paging: { style: 'offset', startVariable: 'dopo', sizeVariable: 'primi', maxPageSize: 100 } }), deps());

    const rows = await connector.lookup('beneficiaries', 'localId', ['A001', 'A003', 'A001']);

    expect(rows.map((r) => r['persona.nome'])).toEqual(['Niccolò', 'Ngozi']);
    expect(variables()).toEqual([{ filtro: { codici: ['A001', 'A003'] }, dopo: 0, primi: 100 }]);
    expect(JSON.parse(upstream.requests[0]!.text).query).toBe(assistitiQuery);
  });

  it('splits 250 ids into exactly 3 requests of at most maxBatchSize', async () => {
    upstream.reset((req) => {
      const ids = (req.body!.variables!['filtro'] as { codici: string[] }).codici;
      return jsonReply({ data: { assistiti: { totale: ids.length, elementi: ids.map((codice) => ({ codice })) } } });
    });
    const connector = createGraphqlConnector(city, source({ paging: { style: 'offset', startVariable: 'dopo', sizeVariable: 'primi', maxPageSize: 100 } }), deps());
    const ids = Array.from({ length: 250 }, (_, i) => `B${String(i).padStart(4, '0')}`);

    const rows = await connector.lookup('beneficiaries', 'localId', ids);

    const sizes = variables().map((v) => (v!['filtro'] as { codici: string[] }).codici.length);
    expect(sizes.sort((a, b) => a - b)).toEqual([50, 100, 100]);
    expect(new Set(rows.map((r) => r['codice']))).toEqual(new Set(ids));
  });

  it('follows the pages of a batch answer until its total is reached', async () => {
    upstream.reset(pagedFromVariables);
    const connector = createGraphqlConnector(city, source(), deps());

    const rows = await connector.lookup('beneficiaries', 'localId', ['A001', 'A002', 'A003', 'A004', 'A005']);

    expect(rows).toHaveLength(5);
    expect(upstream.requests).toHaveLength(3);
  });

  it('without a batch variable, reads the whole entity and keeps the records asked for', async () => {
    upstream.reset(pagedFromVariables);
    const connector = createGraphqlConnector(city, source({}, { batchVariables: {} }), deps());

    const rows = await connector.lookup('beneficiaries', 'localId', ['A005', 'A002', 'Z999']);

    expect(rows.map((r) => r['codice'])).toEqual(['A002', 'A005']);
    expect(variables().every((v) => v!['filtro'] === undefined)).toBe(true);
  });

  it('makes no request for an empty list of ids', async () => {
    upstream.reset(() => ({ status: 500 }));
    const connector = createGraphqlConnector(city, source(), deps());
    expect(await connector.lookup('beneficiaries', 'localId', [])).toEqual([]);
    expect(upstream.requests).toHaveLength(0);
  });

  it('says the city has no source for an entity the source does not serve, without asking upstream', async () => {
    upstream.reset(() => ({ status: 500 }));
    const connector = createGraphqlConnector(city, source(), deps());
    expect(await cityError(connector.page('placements', { offset: 0, limit: 10 }))).toMatchObject({ code: 'CITY_NOT_CONFIGURED', city });
    expect(upstream.requests).toHaveLength(0);
  });
});

describe('errors the city\'s GraphQL API answers with', () => {
  it('reports errors without data as CITY_SOURCE_ERROR naming the first error\'s code, never its message', async () => {
    upstream.reset(() => answer('errore-validazione-senza-dati.json'));
    const connector = createGraphqlConnector(city, source(), deps());
    const e = await cityError(connector.page('beneficiaries', { offset: 0, limit: 2 }));
    expect(e).toMatchObject({ code: 'CITY_SOURCE_ERROR', city, detail: 'GraphQL error GRAPHQL_VALIDATION_FAILED (and 1 more)' });
    expect(e.message).not.toMatch(/Niccolò|BBENCC90B03Z315A|nomeCompleto/);
    expect(connector.status().status).toBe('DOWN');
  });

  it('reports an UNAUTHENTICATED error as CITY_AUTH_FAILED', async () => {
    upstream.reset(() => answer('non-autenticato.json'));
    const connector = createGraphqlConnector(city, source(), deps());
    const e = await cityError(connector.page('beneficiaries', { offset: 0, limit: 2 }));
    expect(e).toMatchObject({ code: 'CITY_AUTH_FAILED', city, detail: 'GraphQL error UNAUTHENTICATED' });
    expect(e.message).not.toContain('mario.rossi');
  });

  it('reports a FORBIDDEN error on one field, even with data, as CITY_AUTH_FAILED', async () => {
    upstream.reset(() => jsonReply({
      data: { assistiti: { totale: 5, elementi: everyone.slice(0, 2) } },
      errors: [{ message: 'non autorizzato', path: ['assistiti', 'elementi', 0, 'persona', 'codiceFiscale'], extensions: { code: 'FORBIDDEN' } }],
    }));
    const connector = createGraphqlConnector(city, source(), deps());
    expect(await cityError(connector.page('beneficiaries', { offset: 0, limit: 2 }))).toMatchObject({ code: 'CITY_AUTH_FAILED', detail: 'GraphQL error FORBIDDEN' });
  });

  it('serves the records that came with partial data, and turns each lost or broken record into a defective row that is counted', async () => {
    upstream.reset(() => answer('assistiti-record-parziali.json'));
    const warnings: unknown[] = [];
    const logger: Logger = { ...silentLogger, warn: (...args: unknown[]) => void warnings.push(args) };
    const config = source({ paging: { style: 'offset', startVariable: 'dopo', sizeVariable: 'primi', maxPageSize: 3 } });
    const connector = createGraphqlConnector(city, config, deps(logger));

    const { rows, total } = await connector.page('beneficiaries', { offset: 0, limit: 3 });

    expect(total).toBe(5);
    expect(rows.map((r) => [r['codice'], r[rowDefect]])).toEqual([
      ['A001', undefined],
      [undefined, "the city's system sent this record as null (GraphQL error INTERNAL_SERVER_ERROR)"],
      ['A003', "the city's system could not give this record whole (GraphQL error ANAGRAFE_NON_DISPONIBILE)"],
    ]);
    const mapper = createRowMapper(city, config, 'segreto-di-prova');
    expect(rows.slice(1, 3).map((r) => mapper.map('beneficiaries', r))).toMatchObject([
      { ok: false, rejection: { reason: 'MALFORMED_ROW' } },
      { ok: false, localId: 'A003', rejection: { reason: 'MALFORMED_ROW' } },
    ]);
    expect(JSON.stringify(rows.map((r) => r[rowDefect] ?? ''))).not.toMatch(/Josè|DMCNGZ95S58Z335F/);
    expect(warnings.length).toBeGreaterThan(0);
  });

  it('reports an error on the list itself, with its data null, as CITY_SOURCE_ERROR', async () => {
    upstream.reset(() => answer('assistiti-elenco-nullo.json'));
    const connector = createGraphqlConnector(city, source(), deps());
    const e = await cityError(connector.page('beneficiaries', { offset: 0, limit: 2 }));
    expect(e).toMatchObject({ code: 'CITY_SOURCE_ERROR', city, detail: 'GraphQL error DATABASE_ERROR' });
    expect(e.message).not.toContain('A001');
  });

  it('reports data without the configured list (a field renamed in the city\'s schema) as CITY_BAD_RESPONSE naming the path', async () => {
    upstream.reset(() => answer('assistiti-campo-rinominato.json'));
    const connector = createGraphqlConnector(city, source(), deps());
    const e = await cityError(connector.page('beneficiaries', { offset: 0, limit: 2 }));
    expect(e).toMatchObject({ code: 'CITY_BAD_RESPONSE', city });
    expect(e.message).toContain('"assistiti.elementi"');
  });

  it('reports data without the configured total as CITY_BAD_RESPONSE naming the path', async () => {
    upstream.reset(() => jsonReply({ data: { assistiti: { elementi: everyone.slice(0, 2) } } }));
    const connector = createGraphqlConnector(city, source(), deps());
    const e = await cityError(connector.page('beneficiaries', { offset: 0, limit: 2 }));
    expect(e).toMatchObject({ code: 'CITY_BAD_RESPONSE', city });
    expect(e.message).toContain('"assistiti.totale"');
  });

  it('reports JSON that is not a GraphQL answer as CITY_BAD_RESPONSE, without quoting it', async () => {
    upstream.reset(() => answer('json-non-graphql.json'));
    const connector = createGraphqlConnector(city, source(), deps());
    const e = await cityError(connector.page('beneficiaries', { offset: 0, limit: 2 }));
    expect(e).toMatchObject({ code: 'CITY_BAD_RESPONSE', city, detail: 'not a GraphQL answer: a JSON object with neither "data" nor "errors"' });
  });
});

describe('errors of the exchange', () => {
  it('reports an HTML page sent with status 200 as CITY_BAD_RESPONSE', async () => {
    upstream.reset(() => ({ status: 200, headers: { 'content-type': 'text/html; charset=utf-8' }, body: fixture('html/manutenzione.html') }));
    const connector = createGraphqlConnector(city, source(), deps());
    const e = await cityError(connector.page('beneficiaries', { offset: 0, limit: 2 }));
    expect(e).toMatchObject({ code: 'CITY_BAD_RESPONSE', city });
    expect(e.message).toContain('expected JSON, got text/html');
  });

  it('reports bytes that do not parse as CITY_BAD_RESPONSE', async () => {
    upstream.reset(() => ({ status: 200, headers: { 'content-type': 'application/json' }, body: Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0x7b, 0x22]) }));
    const connector = createGraphqlConnector(city, source(), deps());
    const e = await cityError(connector.page('beneficiaries', { offset: 0, limit: 2 }));
    expect(e).toMatchObject({ code: 'CITY_BAD_RESPONSE', city });
    expect(e.message).toContain('does not parse');
  });

  it('reports 401 as CITY_AUTH_FAILED', async () => {
    upstream.reset(() => jsonReply({ errors: [{ message: 'token non valido' }] }, 401));
    const connector = createGraphqlConnector(city, source(), deps());
    expect(await cityError(connector.page('beneficiaries', { offset: 0, limit: 2 }))).toMatchObject({ code: 'CITY_AUTH_FAILED', city, detail: 'status 401' });
  });

  it('reports 500 as CITY_UNAVAILABLE', async () => {
    upstream.reset(() => jsonReply({ errors: [{ message: 'NullPointerException per BBENCC90B03Z315A' }] }, 500));
    const connector = createGraphqlConnector(city, source(), deps());
    const e = await cityError(connector.page('beneficiaries', { offset: 0, limit: 2 }));
    expect(e).toMatchObject({ code: 'CITY_UNAVAILABLE', city, detail: 'status 500' });
  });

  it('retries a 503 through the source\'s policy, sending the same query and variables again', async () => {
    let served = 0;
    upstream.reset(() => (served++ === 0 ? { status: 503 } : answer('assistiti-dopo-0-primi-2.json')));
    const connector = createGraphqlConnector(city, source({ retries: 1, retryDelayMs: 1 }), deps());

    const { total } = await connector.page('beneficiaries', { offset: 0, limit: 2 });

    expect(total).toBe(5);
    expect(upstream.requests).toHaveLength(2);
    expect(upstream.requests.map((r) => r.method)).toEqual(['POST', 'POST']);
    expect(upstream.requests[1]!.text).toBe(upstream.requests[0]!.text);
  });

  it('reports a refused connection as CITY_UNAVAILABLE', async () => {
    const connector = createGraphqlConnector(city, { ...source(), baseUrl: await closedPortUrl() }, deps());
    const e = await cityError(connector.page('beneficiaries', { offset: 0, limit: 2 }));
    expect(e).toMatchObject({ code: 'CITY_UNAVAILABLE', city });
    expect(e.message).toContain('ECONNREFUSED');
  });

  it('gives up on a server that never answers after timeoutMs, as CITY_TIMEOUT', async () => {
    upstream.reset(() => ({ hang: true }));
    const connector = createGraphqlConnector(city, source({ timeoutMs: 200 }), deps());
    const e = await cityError(connector.page('beneficiaries', { offset: 0, limit: 2 }));
    expect(e).toMatchObject({ code: 'CITY_TIMEOUT', city });
  }, 10_000);
});

describe('the config', () => {
  const problems = (overrides: Record<string, unknown> = {}, entity: Record<string, unknown> = {}) => {
    const result = GraphqlSourceSchema.safeParse(configJson(overrides, entity));
    return result.success ? [] : result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  };

  it('accepts a query that declares every variable the config names and selects every path it reads', () => {
    expect(problems()).toEqual([]);
  });

  it('refuses a query document with a syntax error, naming the key and the place', () => {
    const [problem, ...rest] = problems({}, { query: 'query { assistiti(primi: 2 { totale }' });
    expect(rest).toEqual([]);
    expect(problem).toMatch(/^entities\.beneficiaries\.query: not a GraphQL document: Syntax Error: .* \(line 1, column \d+\)$/);
  });

  it('refuses a mutation: a connector only reads', () => {
    expect(problems({}, { query: 'mutation { cancella(codice: "A001") { ok } }' })).toEqual(['entities.beneficiaries.query: is a mutation: a connector only reads, give a query']);
  });

  it('refuses a filter or batch variable the query does not declare, and one that is not a list', () => {
    const query = assistitiQuery.replace(', $filtro: FiltroAssistiti', ', $filtro: FiltroAssistiti, $canale: String');
    expect(problems({}, { query, batchVariables: { localId: 'codici' }, filters: { 'intake.channel': 'canale' } })).toEqual([
      'entities.beneficiaries.batchVariables.localId: the query declares no variable $codici (for batchVariables.localId)',
      'entities.beneficiaries.filters.intake.channel: variable $canale (for filters.intake.channel) must be a list',
    ]);
  });

  it('refuses a required variable the graph does not send with every request', () => {
    const query = assistitiQuery.replace('$filtro: FiltroAssistiti', '$filtro: FiltroAssistiti!');
    expect(problems({}, { query })).toEqual([
      'entities.beneficiaries.query: variable $filtro is required (non-null, no default), but the graph sends only the paging variables with every request',
    ]);
  });

  it('refuses a list, a total or a mapped field the query does not select', () => {
    expect(problems({}, { totalPath: 'assistiti.conteggio', fields: { ...assistitiFields, givenName: 'persona.nomeProprio' } })).toEqual([
      'entities.beneficiaries.totalPath: the query selects no "assistiti.conteggio"',
      'entities.beneficiaries.fields.givenName: the query selects no "persona.nomeProprio" in a record of "assistiti.elementi"',
    ]);
  });

  it('stops the graph at start naming the city\'s file and the key when a query does not parse', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lgnet-graphql-'));
    try {
      const file = {
        code: city, name: 'Bari', region: 'Puglia', province: 'BA', editions: ['LGNET2'],
        sources: [configJson({}, { query: 'query { assistiti( }' })],
      };
      writeFileSync(join(dir, `${city}-bari.json`), JSON.stringify(file));
      expect(() => loadCityConfigs(dir)).toThrow(ConfigError);
      expect(() => loadCityConfigs(dir)).toThrow(/072006-bari\.json[\s\S]*Syntax Error[\s\S]*sources\[0\]\.entities\.beneficiaries\.query/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
