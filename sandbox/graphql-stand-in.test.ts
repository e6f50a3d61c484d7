import { readFileSync } from 'node:fs';
import { printSchema } from 'graphql';
import { Agent } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatDate } from '../adapters/connectors/filters.ts';
import { GraphqlSource as GraphqlSourceSchema, type GraphqlSourceConfig } from '../adapters/connectors/graphql-config.ts';
import { createGraphqlConnector, type GraphqlSource } from '../adapters/connectors/graphql.ts';
import { createRowMapper } from '../adapters/mapping.ts';
import { rowDefect, type RawRow, type SourceConnector } from '../adapters/port.ts';
import { silentLogger } from '../runtime/logger.ts';
import { CityError } from '../schema/errors.ts';
import { fiscalCodeCheckChar } from '../schema/fiscal-code.ts';
import type { EntityName } from '../schema/records.ts';
import { createGraphqlStandIn, deriveGraphqlSchema, type GraphqlStandIn, type GraphqlStandInSource } from './graphql-stand-in.ts';

const city = '072006'; // Bari
const apiKey = 'chiave-stand-in';
const today = () => Date.parse('2025-03-10T08:00:00Z');

const assistitiQuery = `query Assistiti($primi: Int!, $dopo: Int, $filtro: FiltroAssistiti) {
  assistiti(primi: $primi, dopo: $dopo, filtro: $filtro) {
    totale
    elementi {
      codice
      persona { nome cognome codiceFiscale sesso dataNascita cittadinanza telefono }
      permesso { tipo { codice descrizione } }
      fragilita { codice }
      presaInCarico { data canale stato }
    }
  }
}`;

/** The config a city would write for this system. */
const source = GraphqlSourceSchema.parse({
  kind: 'graphql',
  id: 'main',
  domains: ['people', 'services'],
  baseUrl: { env: 'LGNET_072006_MAIN_URL' },
  dateFormat: 'yyyy-mm-dd',
  vocabularies: {
    sex: { F: 'FEMALE', M: 'MALE' },
    permitType: { ASILO: 'ASYLUM_SEEKER' },
    intakeChannel: { SPORTELLO: 'ONE_STOP_SHOP', UDS: 'MOBILE_UNIT', INVIO: 'REFERRAL' },
    intakeStatus: { IN_CARICO: 'ACTIVE', CHIUSO: 'CLOSED_AUTONOMY' },
    vulnerability: { TRATTA: 'TRAFFICKING', SALUTE_MENTALE: 'MENTAL_HEALTH' },
  },
  auth: { header: 'Authorization', prefix: 'Bearer ', key: { env: 'LGNET_072006_MAIN_KEY' } },
  retries: 0,
  paging: { style: 'offset', startVariable: 'dopo', sizeVariable: 'primi', maxPageSize: 2 },
  maxBatchSize: 2,
  entities: {
    beneficiaries: {
      path: '/graphql',
      query: assistitiQuery,
      itemsPath: 'assistiti.elementi',
      totalPath: 'assistiti.totale',
      fields: {
        localId: 'codice', fiscalCode: 'persona.codiceFiscale', givenName: 'persona.nome', familyName: 'persona.cognome',
        sex: 'persona.sesso', birthDate: 'persona.dataNascita', citizenship: 'persona.cittadinanza', permitType: 'permesso.tipo.codice',
        vulnerabilities: 'fragilita.codice', intakeDate: 'presaInCarico.data', intakeChannel: 'presaInCarico.canale', intakeStatus: 'presaInCarico.stato',
      },
      batchVariables: { localId: 'filtro.codici' },
      filters: {
        'intake.date': { from: 'filtro.presaInCaricoDal', to: 'filtro.presaInCaricoAl' },
        'intake.channel': 'filtro.canali',
        'intake.status': 'filtro.stati',
      },
    },
    enrollments: {
      path: '/graphql',
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

function configFor(url: string, key = apiKey): GraphqlSource {
  return { ...source, baseUrl: url, apiKey: key };
}

/** A person's row, keyed as the config writes its fields, with a column the query never selects. */
const person = (codice: string, nome: string, codiceFiscale: string, data: string, canale: string, fragilita: string[] = [], stato = 'IN_CARICO'): RawRow => ({
  codice,
  'persona.nome': nome,
  'persona.cognome': 'Rossi',
  'persona.codiceFiscale': codiceFiscale,
  'persona.sesso': 'F',
  'persona.dataNascita': '1995-11-18',
  'persona.cittadinanza': 'NG',
  'permesso.tipo.codice': 'ASILO',
  'permesso.tipo.descrizione': 'richiesta asilo',
  'fragilita.codice': fragilita,
  'presaInCarico.data': data,
  'presaInCarico.canale': canale,
  'presaInCarico.stato': stato,
  noteRiservate: 'colloquio del lunedì',
});
const assistiti: RawRow[] = [
  person('B01', 'Ngozi', 'DMCNGZ95S58Z335F', '2024-01-15', 'SPORTELLO', ['TRATTA']),
  person('B02', 'Amina', 'TRRMNA01A41Z343R', '2024-02-02', 'UDS'),
  person('B03', 'Fatou', 'NDYFTA99C45Z343F', '2024-03-31', 'UDS', ['TRATTA', 'SALUTE_MENTALE']),
  person('B04', 'Josè', 'MNDJSO88E21Z611W', '2024-04-01', 'UDS'),
  person('B05', 'Niccolò', 'BBENCC90B03Z315A', '2024-05-20', 'INVIO', [], 'CHIUSO'),
];
const iscrizioni: RawRow[] = [
  { codice: 'I1', assistito: 'B01', servizio: 'S1', dal: '2024-02-01', al: null },
  { codice: 'I2', assistito: 'B03', servizio: 'S1', dal: '2024-04-01', al: '2024-06-30' },
  { codice: 'I3', assistito: 'B01', servizio: 'S2', dal: '2024-03-01', al: null },
  { codice: 'I4', assistito: 'B05', servizio: 'S2', dal: '2024-06-01', al: null },
];

let standIn: GraphqlStandIn;
let agent: Agent;
let connector: SourceConnector;
const deps = () => ({ dispatcher: agent, now: today, logger: silentLogger });

beforeAll(async () => {
  standIn = await createGraphqlStandIn({
    source,
    rows: new Map<EntityName, RawRow[]>([['beneficiaries', assistiti], ['enrollments', iscrizioni]]),
    apiKey,
    basePath: '/bari',
    brokenRecords: new Map([['beneficiaries', new Set(['B04'])], ['enrollments', new Set(['I2'])]]),
  });
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

/** POSTs a body to the stand-in as a client would; the status, the allow header and the parsed answer. */
async function post(path: string, body: unknown, headers: Record<string, string> = { authorization: `Bearer ${apiKey}` }) {
  const response = await fetch(standIn.origin + path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as { data?: unknown; errors?: Array<{ message: string; path?: unknown[]; extensions?: { code?: string } }> } };
}
const ask = (variables: Record<string, unknown>, query = assistitiQuery) => post('/bari/graphql', { query, variables });
const codesOf = (answer: { errors?: Array<{ extensions?: { code?: string } }> }) => answer.errors?.map((e) => e.extensions?.code);

describe('the schema the stand-in derives from a config', () => {
  it('holds the root fields with the arguments the queries pass, input objects from the variable paths, and records typed by their mapping', () => {
    expect(printSchema(deriveGraphqlSchema(source))).toBe(`type Query {
  assistiti(primi: Int!, dopo: Int, filtro: FiltroAssistiti): Assistiti!
  iscrizioni(primi: Int!, dopo: Int, filtro: FiltroIscrizioni): Iscrizioni!
}

input FiltroAssistiti {
  codici: [ID!]
  presaInCaricoDal: String
  presaInCaricoAl: String
  canali: [String!]
  stati: [String!]
}

input FiltroIscrizioni {
  codici: [ID!]
  assistiti: [ID!]
}

type Persona {
  nome: String
  cognome: String
  codiceFiscale: String
  sesso: String
  dataNascita: String
  cittadinanza: String
  telefono: String
}

type Tipo {
  codice: String
  descrizione: String
}

type Permesso {
  tipo: Tipo
}

type Fragilita {
  codice: String
}

type PresaInCarico {
  data: String
  canale: String
  stato: String
}

type Elementi {
  codice: ID
  persona: Persona
  permesso: Permesso
  fragilita: [Fragilita!]!
  presaInCarico: PresaInCarico
}

type Assistiti {
  totale: Int!
  elementi: [Elementi]!
}

type IscrizioniElementi {
  codice: ID
  assistito: ID
  servizio: ID
  dal: String
  al: String
}

type Iscrizioni {
  totale: Int!
  elementi: [IscrizioniElementi]!
}`);
  });

  it('types vulnerabilities at a leaf as one string when the rows hold them joined, and as a list otherwise', () => {
    const flat: GraphqlStandInSource = {
      ...source,
      entities: {
        beneficiaries: {
          ...source.entities.beneficiaries!,
          query: assistitiQuery.replace('fragilita { codice }', 'fragilita'),
          fields: { ...source.entities.beneficiaries!.fields, vulnerabilities: 'fragilita' },
        },
      },
    };
    const fieldOf = (rows: RawRow[]) => printSchema(deriveGraphqlSchema(flat, new Map([['beneficiaries', rows]]))).match(/ {2}fragilita: .*/)?.[0];
    expect(fieldOf([{ fragilita: 'TRATTA|SALUTE_MENTALE' }, { fragilita: null }])).toBe('  fragilita: String');
    expect(fieldOf([{ fragilita: ['TRATTA'] }])).toBe('  fragilita: [String]');
    expect(fieldOf([])).toBe('  fragilita: [String]');
  });

  it('follows the paging variables into an input object, types literal arguments from the literal, and names a type after its fragment', () => {
    const catalogue = GraphqlSourceSchema.parse({
      kind: 'graphql', id: 'catalogo', domains: ['services'], baseUrl: 'http://unused', dateFormat: 'dd/mm/yyyy', vocabularies: {},
      paging: { style: 'page', startVariable: 'pagina.numero', sizeVariable: 'pagina.dimensione', firstPage: 1, maxPageSize: 2 },
      entities: {
        services: {
          query: `query Catalogo($pagina: Pagina!, $codici: [ID!], $categorie: [CodiceCategoria!]) {
            catalogo(pagina: $pagina, soloAttivi: true, ordine: DENOMINAZIONE, filtro: { codici: $codici, categorie: $categorie }) {
              conteggio: numeroVoci
              voci: servizi { ...Voce __typename }
            }
          }
          fragment Voce on VoceServizio { id nome: denominazione categoria { sigla } }`,
          itemsPath: 'catalogo.voci',
          totalPath: 'catalogo.conteggio',
          fields: { localId: 'id', name: 'nome', category: 'categoria.sigla' },
          batchVariables: { localId: 'codici' },
          filters: { category: 'categorie' },
        },
      },
    });
    expect(printSchema(deriveGraphqlSchema(catalogue))).toBe(`type Query {
  catalogo(pagina: Pagina!, soloAttivi: Boolean, ordine: CatalogoOrdine, filtro: CatalogoFiltroInput): Catalogo!
}

input Pagina {
  numero: Int
  dimensione: Int
}

scalar CodiceCategoria

enum CatalogoOrdine {
  DENOMINAZIONE
}

input CatalogoFiltroInput {
  codici: [ID!]
  categorie: [CodiceCategoria!]
}

type Categoria {
  sigla: String
}

type VoceServizio {
  id: ID
  denominazione: String
  categoria: Categoria
}

type Catalogo {
  numeroVoci: Int!
  servizi: [VoceServizio]!
}`);
  });

  const withQuery = (query: string, batchVariables: Record<string, string> = {}) =>
    ({ ...source, entities: { services: { query, itemsPath: 'servizi.elementi', totalPath: 'servizi.totale', path: '', fields: { localId: 'codice', name: 'nome', category: 'categoria' }, batchVariables, filters: {} } } }) as GraphqlStandInSource;

  it.each([
    ['a fragment on a scalar', 'query ($primi: Int!, $dopo: Int) { servizi(primi: $primi, dopo: $dopo) { totale elementi { codice ... on String { nome } categoria } } }', /^source "main" services: a fragment on String, a scalar/],
    ['fragments on two types at one place', 'query ($primi: Int!, $dopo: Int) { servizi(primi: $primi, dopo: $dopo) { totale elementi { ... on Servizio { codice } ... on Corso { nome categoria } } } }', /^source "main" services: fragments on Corso where the type is Servizio/],
    ['a field selected both as a value and as an object', 'query ($primi: Int!, $dopo: Int) { servizi(primi: $primi, dopo: $dopo) { totale elementi { codice nome categoria categoria { sigla } } } }', /^source "main" services: "categoria" is selected both as a value and as an object/],
    ['a directive no schema declares', 'query ($primi: Int!, $dopo: Int) { servizi(primi: $primi, dopo: $dopo) @cache { totale elementi { codice nome categoria } } }', /^source "main" services: the query cannot be served: Unknown directive "@cache"/],
  ])('refuses at creation a query holding %s, naming the entity', (_what, query, message) => {
    expect(() => deriveGraphqlSchema(withQuery(query))).toThrow(message);
  });

  it('refuses at creation a config that names a field inside a variable of a scalar type', () => {
    const query = 'query ($primi: Int!, $dopo: Int, $filtro: String) { servizi(primi: $primi, dopo: $dopo, filtro: $filtro) { totale elementi { codice nome categoria } } }';
    expect(() => deriveGraphqlSchema(withQuery(query, { localId: 'filtro.codici' }))).toThrow('source "main" services: $filtro is a String, yet the config names filtro.codici inside it');
  });

  it('refuses at creation two entities answering through one root field', () => {
    const both = {
      ...source,
      entities: {
        ...source.entities,
        enrollments: {
          ...source.entities.enrollments!,
          query: source.entities.enrollments!.query.replace('iscrizioni(', 'assistiti(').replace('FiltroIscrizioni', 'FiltroAssistiti'),
          itemsPath: 'assistiti.elementi',
          totalPath: 'assistiti.totale',
        },
      },
    } as GraphqlStandInSource;
    expect(() => deriveGraphqlSchema(both)).toThrow('source "main" enrollments: its query\'s root field "assistiti" is also beneficiaries\'s: give each entity its own');
  });
});

describe('the GraphQL stand-in over HTTP', () => {
  it('answers a page with each row un-flattened into the record the query selects, columns it does not select left out', async () => {
    const { status, body } = await ask({ primi: 2, dopo: 0 });
    expect(status).toBe(200);
    expect(body).toEqual({
      data: {
        assistiti: {
          totale: 5,
          elementi: [
            {
              codice: 'B01',
              persona: { nome: 'Ngozi', cognome: 'Rossi', codiceFiscale: 'DMCNGZ95S58Z335F', sesso: 'F', dataNascita: '1995-11-18', cittadinanza: 'NG', telefono: null },
              permesso: { tipo: { codice: 'ASILO', descrizione: 'richiesta asilo' } },
              fragilita: [{ codice: 'TRATTA' }],
              presaInCarico: { data: '2024-01-15', canale: 'SPORTELLO', stato: 'IN_CARICO' },
            },
            {
              codice: 'B02',
              persona: { nome: 'Amina', cognome: 'Rossi', codiceFiscale: 'TRRMNA01A41Z343R', sesso: 'F', dataNascita: '1995-11-18', cittadinanza: 'NG', telefono: null },
              permesso: { tipo: { codice: 'ASILO', descrizione: 'richiesta asilo' } },
              fragilita: [],
              presaInCarico: { data: '2024-02-02', canale: 'UDS', stato: 'IN_CARICO' },
            },
          ],
        },
      },
    });
  });

  it('answers a broken record with its person null and an error at that path, the rest of the page whole', async () => {
    const { body } = await ask({ primi: 2, dopo: 2 });
    expect(body.errors).toEqual([
      expect.objectContaining({ message: 'anagrafe non disponibile', path: ['assistiti', 'elementi', 1, 'persona'], extensions: { code: 'ANAGRAFE_NON_DISPONIBILE' } }),
    ]);
    const elementi = (body.data as { assistiti: { elementi: Array<Record<string, unknown>> } }).assistiti.elementi;
    expect(elementi.map((e) => [e['codice'], e['persona'] === null])).toEqual([['B03', false], ['B04', true]]);
    expect(elementi[1]!['presaInCarico']).toEqual({ data: '2024-04-01', canale: 'UDS', stato: 'IN_CARICO' });
  });

  it('selects by the variables at the config\'s paths: ids, a code list without regard to case, and an inclusive date range', async () => {
    const codes = async (filtro: Record<string, unknown>) => {
      const data = (await ask({ primi: 2, filtro })).body.data as { assistiti: { totale: number; elementi: Array<{ codice: string }> } };
      return [data.assistiti.totale, data.assistiti.elementi.map((e) => e.codice)];
    };
    expect(await codes({ codici: ['B05', 'B02'] })).toEqual([2, ['B02', 'B05']]);
    expect(await codes({ canali: ['uds'] })).toEqual([3, ['B02', 'B03']]);
    expect(await codes({ stati: ['CHIUSO'] })).toEqual([1, ['B05']]);
    expect(await codes({ presaInCaricoDal: '2024-02-02', presaInCaricoAl: '2024-04-01' })).toEqual([3, ['B02', 'B03']]);
    expect(await codes({ presaInCaricoDal: '2024-04-02' })).toEqual([1, ['B05']]);
    expect(await codes({ canali: ['UDS'], presaInCaricoAl: '2024-03-31' })).toEqual([2, ['B02', 'B03']]);
  });

  it('answers a broken record of an entity without nested objects as null, with an error at its index', async () => {
    const query = source.entities.enrollments!.query;
    const { body } = await post('/bari/graphql', { query, variables: { primi: 2, dopo: 0 } });
    expect(body).toEqual({
      data: { iscrizioni: { totale: 4, elementi: [{ codice: 'I1', assistito: 'B01', servizio: 'S1', dal: '2024-02-01', al: null }, null] } },
      errors: [expect.objectContaining({ message: 'archivio non disponibile', path: ['iscrizioni', 'elementi', 1], extensions: { code: 'ARCHIVIO_NON_DISPONIBILE' } })],
    });
  });

  it.each([
    ['a page larger than maxPageSize', { primi: 3 }],
    ['a page of no records', { primi: 0 }],
    ['a negative start', { primi: 2, dopo: -1 }],
    ['a batch longer than maxBatchSize', { primi: 2, filtro: { codici: ['B01', 'B02', 'B03'] } }],
    ['a date not in the source\'s format', { primi: 2, filtro: { presaInCaricoDal: '15/01/2024' } }],
  ])('refuses %s with BAD_USER_INPUT and no data', async (_what, variables) => {
    const { status, body } = await ask(variables);
    expect(status).toBe(200);
    expect(codesOf(body)).toEqual(['BAD_USER_INPUT']);
    expect(body.data).toBeNull();
  });

  it('answers as a GraphQL server does: parse and validation failures coded, without data', async () => {
    const broken = await ask({ primi: 2 }, 'query { assistiti(primi: 2 { totale } }');
    expect([broken.status, codesOf(broken.body), 'data' in broken.body]).toEqual([200, ['GRAPHQL_PARSE_FAILED'], false]);
    const unknown = await ask({ primi: 2 }, 'query { assistiti(primi: 2) { totale conteggio } }');
    expect([unknown.status, codesOf(unknown.body), 'data' in unknown.body]).toEqual([200, ['GRAPHQL_VALIDATION_FAILED'], false]);
  });

  it('refuses a missing or wrong key with 200 and an UNAUTHENTICATED error', async () => {
    for (const headers of [{}, { authorization: 'Bearer chiave-sbagliata' }, { authorization: apiKey }] as Array<Record<string, string>>) {
      const { status, body } = await post('/bari/graphql', { query: assistitiQuery, variables: { primi: 1 } }, headers);
      expect([status, codesOf(body), body.data]).toEqual([200, ['UNAUTHENTICATED'], null]);
    }
  });

  it('answers only POSTs of JSON with a query, at the endpoint of its base path and the entities\' path', async () => {
    const get = await fetch(`${standIn.url}/graphql`, { headers: { authorization: `Bearer ${apiKey}` } });
    expect([get.status, get.headers.get('allow')]).toEqual([405, 'POST']);
    expect((await post('/graphql', { query: assistitiQuery, variables: { primi: 1 } })).status).toBe(404);
    expect((await post('/bari/graphql', 'query { assistiti }')).status).toBe(400);
    expect((await post('/bari/graphql', { variables: {} })).status).toBe(400);
    expect((await post('/bari/graphql/', { query: assistitiQuery, variables: { primi: 1 } })).status).toBe(200);
  });
});

describe('the GraphQL stand-in, read by the GraphQL connector', () => {
  it('serves every record through its paging, and each maps to a valid canonical record but the one whose person could not be read', async () => {
    standIn.resetRequestCount();
    const { rows, total } = await connector.page('beneficiaries', { offset: 0, limit: 5 });

    expect(total).toBe(5);
    expect(standIn.requestCount()).toBe(3);
    const mapper = createRowMapper(city, configFor(standIn.url), 'segreto-di-prova', today);
    const results = rows.map((r) => mapper.map('beneficiaries', r));
    expect(results.map((r) => (r.ok ? r.record.localId : `${r.localId} ${r.rejection.reason}`))).toEqual(['B01', 'B02', 'B03', 'B04 MALFORMED_ROW', 'B05']);
    expect(rows[3]![rowDefect]).toContain('ANAGRAFE_NON_DISPONIBILE');
    expect(results[2]).toMatchObject({ ok: true, record: { vulnerabilities: ['TRAFFICKING', 'MENTAL_HEALTH'], intake: { channel: 'MOBILE_UNIT' } } });
    expect(results[4]).toMatchObject({ ok: true, record: { givenName: 'Niccolò', intake: { status: 'CLOSED_AUTONOMY', date: '2024-05-20' } } });
  });

  it('applies the filters the connector pushes down: a period, a channel and a status', async () => {
    const where = { 'intake.date': { from: '2024-02', to: '2024-04' }, 'intake.channel': ['MOBILE_UNIT'], 'intake.status': ['ACTIVE'] };
    expect(connector.pushable!('beneficiaries', where)).toEqual(where);

    const { rows, total } = await connector.page('beneficiaries', { offset: 0, limit: 10, where });

    expect(total).toBe(3);
    expect(rows.map((r) => r['codice'])).toEqual(['B02', 'B03', 'B04']);
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

  it('pages by page number through variables inside an input object, without a key when the config has no auth', async () => {
    const catalogue = GraphqlSourceSchema.parse({
      kind: 'graphql', id: 'catalogo', domains: ['services'], baseUrl: { env: 'LGNET_072006_CATALOGO_URL' }, dateFormat: 'dd/mm/yyyy', retries: 0,
      vocabularies: { serviceCategory: { L2: 'LANGUAGE_COURSE', SPO: 'ONE_STOP_SHOP' } },
      paging: { style: 'page', startVariable: 'pagina.numero', sizeVariable: 'pagina.dimensione', firstPage: 1, maxPageSize: 2 },
      entities: {
        services: {
          query: `query Catalogo($pagina: Pagina!, $codici: [ID!], $categorie: [String!]) {
            catalogo(pagina: $pagina, filtro: { codici: $codici, categorie: $categorie }) { conteggio: numeroVoci voci: servizi { ...Voce } }
          }
          fragment Voce on VoceServizio { id nome: denominazione categoria { sigla } }`,
          itemsPath: 'catalogo.voci',
          totalPath: 'catalogo.conteggio',
          fields: { localId: 'id', name: 'nome', category: 'categoria.sigla' },
          batchVariables: { localId: 'codici' },
          filters: { category: 'categorie' },
        },
      },
    });
    const rows: RawRow[] = [
      { id: 'S1', nome: 'Sportello unico', 'categoria.sigla': 'SPO' },
      { id: 'S2', nome: 'Italiano per adulti', 'categoria.sigla': 'L2' },
      { id: 'S3', nome: 'Italiano serale', 'categoria.sigla': 'l2' },
    ];
    const server = await createGraphqlStandIn({ source: catalogue, rows: new Map([['services', rows]]), apiKey: 'mai-chiesta', basePath: '/catalogo' });
    try {
      const reader = createGraphqlConnector(city, { ...catalogue, baseUrl: server.url, apiKey: null }, deps());
      const all = await reader.page('services', { offset: 0, limit: 3 });
      expect([all.total, all.rows.map((r) => r['nome']), server.requestCount()]).toEqual([3, ['Sportello unico', 'Italiano per adulti', 'Italiano serale'], 2]);
      expect((await reader.page('services', { offset: 2, limit: 2 })).rows.map((r) => r['id'])).toEqual(['S3']);
      expect((await reader.page('services', { offset: 0, limit: 5, where: { category: ['LANGUAGE_COURSE'] } })).rows.map((r) => r['id'])).toEqual(['S2', 'S3']);
      expect((await reader.lookup('services', 'localId', ['S3', 'S1'])).map((r) => r['id'])).toEqual(['S1', 'S3']);
    } finally {
      await server.close();
    }
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

// ---------------------------------------------------------------------------
// The sandbox's GraphQL cities: their configs' graphql sources, read end to end.

/** The records of a small city, in national codes: what the stand-in's rows must map back to. */
function fiscalCode(i: number): string {
  const first15 = `KNTMDU${80 + i}A${String(10 + i)}Z${String(300 + i)}`;
  return first15 + fiscalCodeCheckChar(first15);
}
const population: { [E in EntityName]: Array<Record<string, unknown>> } = {
  beneficiaries: [
    ['P1', 'Aïssatou', 'Traoré', 'FEMALE', '1980-01-10', 'SN', 'ASYLUM_SEEKER', ['TRAFFICKING', 'MENTAL_HEALTH'], '2024-01-15', 'ONE_STOP_SHOP', 'ACTIVE'],
    ['P2', 'Mamadou', 'Diallo', 'MALE', '1981-01-11', 'GN', 'REFUGEE_STATUS', [], '2024-02-29', 'MOBILE_UNIT', 'ACTIVE'],
    ['P3', 'Oksana', 'Shevchenko', 'FEMALE', '1982-01-12', 'UA', 'TEMPORARY_PROTECTION', ['SINGLE_PARENT'], '2024-03-01', 'MOBILE_UNIT', 'CLOSED_AUTONOMY'],
    ['P4', 'Chiamaka', 'Okafor', 'FEMALE', '1983-01-13', 'NG', 'SUBSIDIARY_PROTECTION', ['PREGNANCY'], '2024-03-31', 'MOBILE_UNIT', 'ACTIVE'],
    ['P5', 'José', 'Quispe Mamani', 'MALE', '1984-01-14', 'PE', 'WORK', [], '2024-05-02', 'REFERRAL', 'DROPPED_OUT'],
  ].map(([localId, givenName, familyName, sex, birthDate, citizenship, permitType, vulnerabilities, intakeDate, intakeChannel, intakeStatus], i) => ({
    localId, fiscalCode: fiscalCode(i), givenName, familyName, sex, birthDate, citizenship, permitType, vulnerabilities, intakeDate, intakeChannel, intakeStatus,
  })),
  services: [
    { localId: 'S1', name: 'Sportello unico Porta Futuro', category: 'ONE_STOP_SHOP' },
    { localId: 'S2', name: 'Corso di italiano L2', category: 'LANGUAGE_COURSE' },
    { localId: 'S3', name: 'Laboratorio di sartoria', category: 'WORKSHOP' },
  ],
  enrollments: [
    { localId: 'E1', beneficiaryId: 'P1', serviceId: 'S1', from: '2024-01-20', to: null },
    { localId: 'E2', beneficiaryId: 'P1', serviceId: 'S2', from: '2024-02-05', to: '2024-06-28' },
    { localId: 'E3', beneficiaryId: 'P3', serviceId: 'S3', from: '2024-03-04', to: null },
    { localId: 'E4', beneficiaryId: 'P5', serviceId: 'S2', from: '2024-05-06', to: null },
  ],
  civicProjects: [
    { localId: 'C1', beneficiaryId: 'P1', status: 'SIGNED', signedOn: '2024-04-11' },
    { localId: 'C2', beneficiaryId: 'P4', status: 'DRAFT', signedOn: null },
    { localId: 'C3', beneficiaryId: 'P3', status: 'COMPLETED', signedOn: '2024-03-20' },
  ],
  housingResources: [
    { localId: 'H1', name: 'Casa Rosa', kind: 'PROTECTED_SHELTER', capacity: 8, occupancy: 5 },
    { localId: 'H2', name: 'Appartamento via Sparano', kind: 'SEMI_AUTONOMY_FLAT', capacity: 4, occupancy: 4 },
  ],
  placements: [
    { localId: 'A1', beneficiaryId: 'P1', resourceId: 'H1', from: '2024-01-16', to: '2024-03-15' },
    { localId: 'A2', beneficiaryId: 'P4', resourceId: 'H2', from: '2024-04-02', to: null },
    { localId: 'A3', beneficiaryId: 'P3', resourceId: 'H1', from: '2024-03-02', to: null },
  ],
};

const vocabularyOf: Record<string, string> = {
  sex: 'sex', permitType: 'permitType', intakeChannel: 'intakeChannel', intakeStatus: 'intakeStatus', vulnerabilities: 'vulnerability',
  category: 'serviceCategory', kind: 'housingKind', status: 'civicProjectStatus',
};
const dateFields = new Set(['birthDate', 'intakeDate', 'from', 'to', 'signedOn']);

/** A record written as the city's system holds it: its own codes and date format, each value under the key of its field spec. */
function rowOf(config: GraphqlSourceConfig, entity: EntityName, record: Record<string, unknown>): RawRow {
  const own = (field: string, national: string): string => {
    const table = field === 'citizenship' ? config.citizenship : (config.vocabularies as Record<string, Record<string, string> | undefined>)[vocabularyOf[field] ?? ''];
    if (!table) return national;
    const code = Object.keys(table).find((k) => table[k] === national);
    if (code === undefined) throw new Error(`the test's ${field} ${national} has no code in the config`);
    return code;
  };
  const row: Record<string, unknown> = {};
  for (const [field, spec] of Object.entries(config.entities[entity]!.fields as Record<string, string>)) {
    const value = record[field];
    let written: unknown = value;
    if (value === null) written = null;
    else if (dateFields.has(field)) written = formatDate(value as string, config.dateFormat);
    else if (field === 'vulnerabilities') {
      const codes = (value as string[]).map((v) => own(field, v));
      // A list of objects holds one code each; a field of its own holds them joined.
      written = spec.includes('.') ? codes : codes.join(config.listSeparator);
    } else if (field in vocabularyOf || field === 'citizenship') written = own(field, value as string);
    if (!spec.includes('{')) {
      row[spec] = written;
      continue;
    }
    // A template: each of its parts is a column, read back from the value written whole.
    const parts = [...spec.matchAll(/\{([^{}]+)\}/g)].map((m) => m[1]!);
    const pattern = new RegExp(`^${spec.split(/\{[^{}]+\}/).map((s) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')).join('(.*?)')}$`);
    const found = pattern.exec(String(written));
    if (!found) throw new Error(`the test cannot split "${String(written)}" by ${spec}`);
    parts.forEach((p, i) => (row[p] = found[i + 1]));
  }
  return row;
}

/** The canonical record the mapper gives for a population record. */
const expectedOf = (entity: EntityName, record: Record<string, unknown>) => {
  if (entity !== 'beneficiaries') return record;
  const { intakeDate, intakeChannel, intakeStatus, ...rest } = record;
  return { ...rest, intake: { date: intakeDate, channel: intakeChannel, status: intakeStatus } };
};

describe.each([
  ['graphql-city-bari.json', '072006', 'enrollments', 'E2'],
  ['graphql-city-potenza.json', '076063', 'beneficiaries', 'P3'],
])('the stand-in built from the sandbox city config %s', (file, code, brokenEntity, brokenId) => {
  const parsed = GraphqlSourceSchema.parse(JSON.parse(readFileSync(new URL(`../adapters/connectors/fixtures/${file}`, import.meta.url), 'utf8')));
  // Pages of 2 records, so that every entity is read over several pages.
  const config: GraphqlSourceConfig = { ...parsed, paging: { ...parsed.paging, maxPageSize: 2 } };
  const entities = (Object.keys(config.entities) as EntityName[]).filter((e) => config.entities[e] !== undefined);
  const rows = new Map(entities.map((e) => [e, population[e].map((r) => rowOf(config, e, r))]));
  let server: GraphqlStandIn;
  let reader: SourceConnector;

  beforeAll(async () => {
    server = await createGraphqlStandIn({ source: config, rows, apiKey, basePath: `/${code}`, brokenRecords: new Map([[brokenEntity as EntityName, new Set([brokenId])]]) });
    reader = createGraphqlConnector(code, { ...config, baseUrl: server.url, apiKey }, deps());
  });
  afterAll(() => server.close());

  it('serves every entity\'s query over several pages, each row mapping back to the record it was written from but the broken one', async () => {
    const mapper = createRowMapper(code, config, 'segreto-di-prova', today);
    for (const entity of entities) {
      server.resetRequestCount();
      const { rows: read, total } = await reader.page(entity, { offset: 0, limit: population[entity].length });
      expect([entity, total, server.requestCount()]).toEqual([entity, population[entity].length, Math.ceil(population[entity].length / 2)]);
      const results = read.map((r) => mapper.map(entity, r));
      population[entity].forEach((record, i) => {
        const result = results[i]!;
        if (entity === brokenEntity && record['localId'] === brokenId) {
          expect(result).toMatchObject({ ok: false, localId: brokenId, rejection: { reason: 'MALFORMED_ROW' } });
        } else {
          expect(result).toMatchObject({ ok: true, record: { ...expectedOf(entity, record), city: code } });
        }
      });
    }
  });

  it('pushes down a period, channels and a status for beneficiaries, and the stand-in selects by them', async () => {
    const where = { 'intake.date': { from: '2024-02-29', to: '2024-03' }, 'intake.channel': ['MOBILE_UNIT', 'REFERRAL'], 'intake.status': ['ACTIVE'] };
    expect(reader.pushable!('beneficiaries', where)).toEqual(where);
    const { rows: read, total } = await reader.page('beneficiaries', { offset: 0, limit: 10, where });
    const mapper = createRowMapper(code, config, 'segreto-di-prova', today);
    expect([total, read.map((r) => mapper.map('beneficiaries', r)).map((r) => (r.ok ? r.record.localId : r.localId))]).toEqual([2, ['P2', 'P4']]);
  });

  it('looks up by ids and by beneficiaries through the batch variables', async () => {
    const localIds = async (entity: EntityName, key: 'localId' | 'beneficiaryId', values: string[]) => {
      const mapper = createRowMapper(code, config, 'segreto-di-prova', today);
      return (await reader.lookup(entity, key, values)).map((r) => mapper.map(entity, r)).map((r) => (r.ok ? r.record.localId : r.localId));
    };
    expect(await localIds('beneficiaries', 'localId', ['P5', 'P2'])).toEqual(['P2', 'P5']);
    expect(await localIds('enrollments', 'beneficiaryId', ['P1', 'P5'])).toEqual(['E1', 'E2', 'E4']);
    expect(await localIds('civicProjects', 'beneficiaryId', ['P3'])).toEqual(['C3']);
  });
});
