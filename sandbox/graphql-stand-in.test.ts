import { Agent } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GraphqlSource as GraphqlSourceSchema } from '../adapters/connectors/graphql-config.ts';
import { createGraphqlConnector, type GraphqlSource } from '../adapters/connectors/graphql.ts';
import { createRowMapper } from '../adapters/mapping.ts';
import { rowDefect, type SourceConnector } from '../adapters/port.ts';
import { silentLogger } from '../runtime/logger.ts';
import { CityError } from '../schema/errors.ts';
import { createGraphqlStandIn, type Assistito, type GraphqlStandIn, type Iscrizione } from './graphql-stand-in.ts';

const city = '072006'; // Bari
const apiKey = 'chiave-stand-in';

const person = (codice: string, nome: string, codiceFiscale: string, data: string, canale: string, fragilita: string[] = []): Assistito => ({
  codice,
  persona: { nome, cognome: 'Rossi', codiceFiscale, sesso: 'F', dataNascita: '1995-11-18', cittadinanza: 'NG' },
  permesso: { tipo: { codice: 'ASILO', descrizione: 'richiesta asilo' } },
  fragilita: fragilita.map((c) => ({ codice: c })),
  presaInCarico: { data, canale, stato: 'IN_CARICO' },
});
const assistiti: Assistito[] = [
  person('B01', 'Ngozi', 'DMCNGZ95S58Z335F', '2024-01-15', 'SPORTELLO', ['TRATTA']),
  person('B02', 'Amina', 'TRRMNA01A41Z343R', '2024-02-02', 'UDS'),
  person('B03', 'Fatou', 'NDYFTA99C45Z343F', '2024-03-31', 'UDS', ['TRATTA', 'SALUTE_MENTALE']),
  person('B04', 'Josè', 'MNDJSO88E21Z611W', '2024-04-01', 'UDS'),
  person('B05', 'Niccolò', 'BBENCC90B03Z315A', '2024-05-20', 'INVIO'),
];
const iscrizioni: Iscrizione[] = [
  { codice: 'I1', assistito: 'B01', servizio: 'S1', dal: '2024-02-01', al: null },
  { codice: 'I2', assistito: 'B03', servizio: 'S1', dal: '2024-04-01', al: '2024-06-30' },
  { codice: 'I3', assistito: 'B01', servizio: 'S2', dal: '2024-03-01', al: null },
  { codice: 'I4', assistito: 'B05', servizio: 'S2', dal: '2024-06-01', al: null },
];

/** The config a city would write for this system. */
function configFor(url: string, key = apiKey): GraphqlSource {
  const parsed = GraphqlSourceSchema.parse({
    kind: 'graphql',
    id: 'main',
    domains: ['people', 'services'],
    baseUrl: { env: 'LGNET_072006_MAIN_URL' },
    dateFormat: 'yyyy-mm-dd',
    vocabularies: {
      sex: { F: 'FEMALE', M: 'MALE' },
      permitType: { ASILO: 'ASYLUM_SEEKER' },
      intakeChannel: { SPORTELLO: 'ONE_STOP_SHOP', UDS: 'MOBILE_UNIT', INVIO: 'REFERRAL' },
      intakeStatus: { IN_CARICO: 'ACTIVE' },
      vulnerability: { TRATTA: 'TRAFFICKING', SALUTE_MENTALE: 'MENTAL_HEALTH' },
    },
    auth: { header: 'Authorization', prefix: 'Bearer ', key: { env: 'LGNET_072006_MAIN_KEY' } },
    retries: 0,
    paging: { style: 'offset', startVariable: 'dopo', sizeVariable: 'primi', maxPageSize: 2 },
    maxBatchSize: 2,
    entities: {
      beneficiaries: {
        query: `query ($primi: Int!, $dopo: Int, $filtro: FiltroAssistiti) {
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
        }`,
        itemsPath: 'assistiti.elementi',
        totalPath: 'assistiti.totale',
        fields: {
          localId: 'codice', fiscalCode: 'persona.codiceFiscale', givenName: 'persona.nome', familyName: 'persona.cognome',
          sex: 'persona.sesso', birthDate: 'persona.dataNascita', citizenship: 'persona.cittadinanza', permitType: 'permesso.tipo.codice',
          vulnerabilities: 'fragilita.codice', intakeDate: 'presaInCarico.data', intakeChannel: 'presaInCarico.canale', intakeStatus: 'presaInCarico.stato',
        },
        batchVariables: { localId: 'filtro.codici' },
        filters: { 'intake.date': { from: 'filtro.presaInCaricoDal', to: 'filtro.presaInCaricoAl' }, 'intake.channel': 'filtro.canali' },
      },
      enrollments: {
        query: `query Iscrizioni($primi: Int!, $dopo: Int, $filtro: FiltroIscrizioni) {
          iscrizioni(primi: $primi, dopo: $dopo, filtro: $filtro) { totale elementi { codice assistito servizio dal al } }
        }`,
        itemsPath: 'iscrizioni.elementi',
        totalPath: 'iscrizioni.totale',
        fields: { localId: 'codice', beneficiaryId: 'assistito', serviceId: 'servizio', from: 'dal', to: 'al' },
        batchVariables: { localId: 'filtro.codici', beneficiaryId: 'filtro.assistiti' },
      },
    },
  });
  return { ...parsed, baseUrl: url, apiKey: key };
}

let standIn: GraphqlStandIn;
let agent: Agent;
let connector: SourceConnector;
const deps = () => ({ dispatcher: agent, now: () => Date.parse('2025-03-10T08:00:00Z'), logger: silentLogger });

beforeAll(async () => {
  standIn = await createGraphqlStandIn({ records: { assistiti, iscrizioni }, apiKey, brokenRecords: new Set(['B04']), maxPageSize: 2 });
  agent = new Agent();
  connector = createGraphqlConnector(city, configFor(standIn.url), deps());
});
afterAll(async () => {
  await agent.close();
  await standIn.close();
});

async function cityError(p: Promise<unknown>): Promise<CityError> {
  const e = await p.then(() => undefined, (err: unknown) => err);
  expect(e).toBeInstanceOf(CityError);
  return e as CityError;
}

describe('the GraphQL stand-in, read by the GraphQL connector', () => {
  it('serves every record through its paging, and each maps to a valid canonical record but the one whose person could not be read', async () => {
    standIn.resetRequestCount();
    const { rows, total } = await connector.page('beneficiaries', { offset: 0, limit: 5 });

    expect(total).toBe(5);
    expect(standIn.requestCount()).toBe(3);
    const mapper = createRowMapper(city, configFor(standIn.url), 'segreto-di-prova');
    const results = rows.map((r) => mapper.map('beneficiaries', r));
    expect(results.map((r) => (r.ok ? r.record.localId : `${r.localId} ${r.rejection.reason}`))).toEqual(['B01', 'B02', 'B03', 'B04 MALFORMED_ROW', 'B05']);
    expect(rows[3]![rowDefect]).toContain('ANAGRAFE_NON_DISPONIBILE');
    expect(results[2]).toMatchObject({ ok: true, record: { vulnerabilities: ['TRAFFICKING', 'MENTAL_HEALTH'], intake: { channel: 'MOBILE_UNIT' } } });
  });

  it('applies the filters the connector pushes down: a period and a channel', async () => {
    const where = { 'intake.date': { from: '2024-02', to: '2024-03' }, 'intake.channel': ['MOBILE_UNIT'] };
    expect(connector.pushable!('beneficiaries', where)).toEqual(where);

    const { rows, total } = await connector.page('beneficiaries', { offset: 0, limit: 10, where });

    expect(total).toBe(2);
    expect(rows.map((r) => r['codice'])).toEqual(['B02', 'B03']);
  });

  it('answers batch look-ups by id and by beneficiary, in batches of maxBatchSize', async () => {
    standIn.resetRequestCount();
    const people = await connector.lookup('beneficiaries', 'localId', ['B05', 'B01', 'B02']);
    expect(people.map((r) => r['codice']).sort()).toEqual(['B01', 'B02', 'B05']);
    expect(standIn.requestCount()).toBe(2);

    const enrolments = await connector.lookup('enrollments', 'beneficiaryId', ['B01', 'B05']);
    expect(enrolments.map((r) => r['codice'])).toEqual(['I1', 'I3', 'I4']);
  });

  it('refuses a wrong key with an UNAUTHENTICATED error, which the connector reports as CITY_AUTH_FAILED', async () => {
    const stranger = createGraphqlConnector(city, configFor(standIn.url, 'chiave-sbagliata'), deps());
    expect(await cityError(stranger.page('beneficiaries', { offset: 0, limit: 2 }))).toMatchObject({ code: 'CITY_AUTH_FAILED', city, detail: 'GraphQL error UNAUTHENTICATED' });
  });

  it('refuses a query its schema does not know, which the connector reports as CITY_SOURCE_ERROR', async () => {
    const config = configFor(standIn.url);
    const renamed = { ...config.entities.beneficiaries!, query: config.entities.beneficiaries!.query.replace('dataNascita', 'nascita') };
    const outdated = createGraphqlConnector(city, { ...config, entities: { ...config.entities, beneficiaries: renamed } }, deps());
    expect(await cityError(outdated.page('beneficiaries', { offset: 0, limit: 2 }))).toMatchObject({ code: 'CITY_SOURCE_ERROR', detail: 'GraphQL error GRAPHQL_VALIDATION_FAILED' });
  });

  it('refuses a page larger than its own limit, which the connector reports as CITY_SOURCE_ERROR', async () => {
    const config = configFor(standIn.url);
    const greedy = createGraphqlConnector(city, { ...config, paging: { ...config.paging, maxPageSize: 50 } }, deps());
    expect(await cityError(greedy.page('beneficiaries', { offset: 0, limit: 10 }))).toMatchObject({ code: 'CITY_SOURCE_ERROR', detail: 'GraphQL error BAD_USER_INPUT' });
  });

  describe('under the sandbox faults', () => {
    afterAll(() => standIn.setFault(null));

    it.each([
      [{ kind: 'auth' as const }, 'CITY_AUTH_FAILED', 'status 401'],
      [{ kind: 'html' as const }, 'CITY_BAD_RESPONSE', 'expected JSON, got text/html'],
      [{ kind: 'garbage' as const }, 'CITY_BAD_RESPONSE', 'does not parse'],
      [{ kind: 'rename' as const, field: 'elementi' }, 'CITY_BAD_RESPONSE', '"assistiti.elementi"'],
      [{ kind: 'down' as const }, 'CITY_UNAVAILABLE', 'connection failed'],
    ])('%o is reported as %s', async (fault, code, detail) => {
      await standIn.setFault(fault);
      // A connector of its own, so that one fault's failures do not open the circuit for the next.
      const fresh = createGraphqlConnector(city, configFor(standIn.url), deps());
      const e = await cityError(fresh.page('beneficiaries', { offset: 0, limit: 2 }));
      expect(e).toMatchObject({ code, city });
      expect(e.detail).toContain(detail);
    });

    it('serves again once the fault is lifted', async () => {
      await standIn.setFault(null);
      expect((await connector.page('beneficiaries', { offset: 0, limit: 2 })).total).toBe(5);
    });
  });
});
