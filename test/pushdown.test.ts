/**
 * Counts and filters where the data lives: a REST source whose API offers
 * filters is asked for the matching records only (its own parameters, its
 * own date format, its own codes), the adapter still applies every condition
 * to what arrives, and a snapshot source's export is mapped once per change
 * of the file. Checked against recorded upstream answers (the exact request
 * that goes out) and against the sandbox's stand-ins and truth (the same
 * records, fewer bytes).
 */
import { Agent } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCityAdapter, type ClassifyEvent } from '../adapters/city-adapter.ts';
import { CityConfig, loadCityConfigs, requestDefaults, resolveCity, SourceConfig } from '../adapters/config.ts';
import { createConnector, createRestConnector } from '../adapters/connectors/index.ts';
import { createFilterTranslator } from '../adapters/connectors/filters.ts';
import { file, startUpstream, type Upstream } from '../adapters/connectors/fixtures/upstream-server.ts';
import type { RestSource } from '../adapters/connectors/rest.ts';
import { createFleet, defaultCitiesDir, PERSON_KEY_SECRET_ENV, type Fleet } from '../adapters/fleet.ts';
import type { ConnectorDeps, LookupKey, RawRow, Where } from '../adapters/port.ts';
import { silentLogger } from '../runtime/logger.ts';
import { dialects } from '../sandbox/dialects.ts';
import { startSandbox, type Sandbox } from '../sandbox/index.ts';
import type { EntityName } from '../schema/records.ts';

const dispatcher = new Agent({ connections: 8 });
const deps = (): ConnectorDeps => ({ dispatcher, now: Date.now, logger: silentLogger });
const secret = 'pushdown-test-secret-key';
afterAll(() => dispatcher.close());

// ---------------------------------------------------------------------------
// A recorded SIGeSS-like system: pages from 1, `{ risultato: { elementi, totale } }`,
// dates dd/mm/yyyy, two local codes for the mobile unit.

const json = 'application/json; charset=utf-8';
const batch = (p: Partial<Record<LookupKey, string>>) => p as Record<LookupKey, string>;
let upstream: Upstream;
beforeAll(async () => {
  upstream = await startUpstream();
});
afterAll(() => upstream?.close());

const fields = {
  localId: 'id', fiscalCode: 'codiceFiscale', givenName: 'nome', familyName: 'cognome', sex: 'sesso',
  birthDate: 'dataNascita', citizenship: 'cittadinanza', permitType: 'permesso', vulnerabilities: 'vulnerabilita',
  intakeDate: 'dataPresaInCarico', intakeChannel: 'canale', intakeStatus: 'stato',
};

function filteringSource(filters: Record<string, string | { from?: string; to?: string }> = { 'intake.date': { from: 'dal', to: 'al' }, 'intake.channel': 'canale', 'intake.status': 'stato' }): RestSource {
  return {
    kind: 'rest',
    id: 'main',
    domains: ['people'],
    baseUrl: upstream.baseUrl,
    apiKey: 'chiave-di-prova',
    dateFormat: 'dd/mm/yyyy',
    listSeparator: ',',
    vocabularies: {
      sex: { M: 'MALE', F: 'FEMALE' },
      permitType: { ASILO: 'ASYLUM_SEEKER', PROT_SUSS: 'SUBSIDIARY_PROTECTION', PROT_SPEC: 'SPECIAL_PROTECTION', LAVORO: 'WORK' },
      intakeChannel: { SPORTELLO: 'ONE_STOP_SHOP', UDS: 'MOBILE_UNIT', 'Unità di strada': 'MOBILE_UNIT', SEGNALAZIONE: 'REFERRAL', ENTE_TERZO: 'REFERRAL' },
      // No local code for TRANSFERRED or DROPPED_OUT: this system never records them.
      intakeStatus: { IN_CARICO: 'ACTIVE', IN_ATTESA: 'ACTIVE', CHIUSA: 'CLOSED_AUTONOMY' },
      // MSNA (an unaccompanied minor) is in no national list: a record carrying it is rejected.
      vulnerability: { TRATTA: 'TRAFFICKING', SALUTE_MENTALE: 'MENTAL_HEALTH', GENITORE_SOLO: 'SINGLE_PARENT' },
    },
    ...requestDefaults,
    retries: 0,
    auth: { header: 'X-API-Key', prefix: '', key: { env: 'LGNET_090064_MAIN_KEY' } },
    paging: { style: 'page', startParam: 'pagina', sizeParam: 'dimensione', firstPage: 1, maxPageSize: 2, itemsPath: 'risultato.elementi', totalPath: 'risultato.totale' },
    maxBatchSize: 500,
    entities: { beneficiaries: { path: '/api/v1/assistiti', fields, batchParams: batch({ localId: 'codici' }), filters } },
  };
}

const urls = () => upstream.requests.map((r) => r.url).sort();

describe('a REST source whose API offers filters', () => {
  it('is asked for the matching records only, on every page: dates in its own format, every local code of the national codes asked, paged by the filtered total', async () => {
    const page = (n: number) => file(`rest/assistiti-dal-gennaio-a-marzo-2024-unita-di-strada-pagina-${n}.json`, json);
    const query = 'dal=01%2F01%2F2024&al=31%2F03%2F2024&canale=UDS,Unit%C3%A0%20di%20strada';
    upstream.reset((req) => (req.url === `/api/v1/assistiti?${query}&pagina=1&dimensione=2` ? page(1) : req.url === `/api/v1/assistiti?${query}&pagina=2&dimensione=2` ? page(2) : { status: 404 }));
    const connector = createRestConnector('090064', filteringSource(), deps());
    const where: Where = { 'intake.channel': ['MOBILE_UNIT'], 'intake.date': { from: '2024-01', to: '2024-03' }, sex: ['FEMALE'] };

    const pushed = connector.pushable!('beneficiaries', where);
    const result = await connector.page('beneficiaries', { offset: 0, limit: 3, where: pushed });

    // The sex is not among the filters the API offers: it is left to the adapter.
    expect(pushed).toEqual({ 'intake.channel': ['MOBILE_UNIT'], 'intake.date': { from: '2024-01', to: '2024-03' } });
    expect(urls()).toEqual([`/api/v1/assistiti?${query}&pagina=1&dimensione=2`, `/api/v1/assistiti?${query}&pagina=2&dimensione=2`]);
    expect(result.total).toBe(3);
    expect(result.rows.map((r) => r['id'])).toEqual(['B001', 'B002', 'B003']);
  });

  it('takes only the conditions it can write: a month or a year as its first or last day, no impossible day, no code without a local code', () => {
    const translator = createFilterTranslator(filteringSource());
    // 2024 is a leap year: the month's last day is the 29th.
    expect(translator.query('beneficiaries', { 'intake.date': { from: '2023', to: '2024-02' } })).toEqual({ dal: '01/01/2023', al: '29/02/2024' });
    expect(translator.query('beneficiaries', { 'intake.date': { from: '2024-02-30', to: '2024-12-31' } })).toEqual({ al: '31/12/2024' });
    expect(translator.pushable('beneficiaries', { 'intake.date': { from: '2024-02-30', to: '2024-12-31' } })).toEqual({ 'intake.date': { to: '2024-12-31' } });
    expect(translator.pushable('beneficiaries', { 'intake.status': ['TRANSFERRED'] })).toEqual({});
    expect(translator.query('beneficiaries', { 'intake.status': ['TRANSFERRED', 'ACTIVE'] })).toEqual({ stato: ['IN_CARICO', 'IN_ATTESA'] });
    // A source offering one bound only is asked for that one; the other is applied in process.
    const onlyFrom = createFilterTranslator(filteringSource({ 'intake.date': { from: 'dal' } }));
    expect(onlyFrom.pushable('beneficiaries', { 'intake.date': { from: '2024-01', to: '2024-03' } })).toEqual({ 'intake.date': { from: '2024-01' } });
  });
});

describe('the adapter over a source that filters', () => {
  /** Every record of the recorded system, served page by page whatever filter is asked (as a system ignoring its parameters would). */
  const recorded: RawRow[] = JSON.parse(file('rest/assistiti-tutti-pagina-1-dimensione-5.json', json).body!.toString()).risultato.elementi;
  function serve(select: (url: URL) => RawRow[]) {
    upstream.reset((req) => {
      const url = new URL(req.url, 'http://upstream');
      const rows = select(url);
      const size = Number(url.searchParams.get('dimensione'));
      const start = (Number(url.searchParams.get('pagina')) - 1) * size;
      return { headers: { 'content-type': json }, body: JSON.stringify({ risultato: { elementi: rows.slice(start, start + size), totale: rows.length } }) };
    });
  }
  function adapterOver(source: RestSource) {
    // A file's config: the key by reference, not resolved.
    const { apiKey: _, ...config } = source;
    const city = resolveCity(
      CityConfig.parse({ code: '090064', name: 'Sassari', region: 'Sardegna', province: 'SS', editions: ['LGNET3'], sources: [SourceConfig.parse(config)] }),
      { LGNET_090064_MAIN_KEY: 'chiave-di-prova' },
    );
    return createCityAdapter(city, { personKeySecret: secret, deps: deps(), createConnector, scanPageSize: 2 });
  }
  const where: Where = { 'intake.date': { from: '2024-02', to: '2024-04' }, 'intake.channel': ['ONE_STOP_SHOP'] };
  const everything = (w: Where) => ({ offset: 0, limit: Infinity, where: w });

  it('applies every condition again, so that a source ignoring its filters changes nothing: the records that do not match are dropped', async () => {
    serve(() => recorded);
    const filtered = await adapterOver(filteringSource()).list('beneficiaries', everything(where), {});
    const asked = upstream.requests.map((r) => new URL(r.url, 'http://upstream').searchParams);
    serve(() => recorded);
    const plain = await adapterOver(filteringSource({})).list('beneficiaries', everything(where), {});

    expect(asked.length).toBeGreaterThan(0);
    for (const params of asked) expect({ dal: params.get('dal'), al: params.get('al'), canale: params.get('canale') }).toEqual({ dal: '01/02/2024', al: '30/04/2024', canale: 'SPORTELLO' });
    expect(upstream.requests.every((r) => !r.url.includes('dal='))).toBe(true);
    // C001 came in by the one-stop shop, in January; C002 and C004 were referred.
    expect(filtered.items.map((b) => b.localId)).toEqual(['C003', 'C005']);
    expect(filtered.items).toEqual(plain.items);
    expect(filtered).toMatchObject({ total: 2, accepted: 2 });
  });

  it('pages a filtered read by the total the source gives for it', async () => {
    const matching = recorded.filter((r) => r['canale'] === 'SPORTELLO');
    serve((url) => (url.searchParams.get('canale') === 'SPORTELLO' ? matching : recorded));
    const page = await adapterOver(filteringSource()).list('beneficiaries', everything({ 'intake.channel': ['ONE_STOP_SHOP'] }), {});

    // Three rows in pages of two: one request for the first page, and the rest, by the filtered total, in one more.
    expect(upstream.requests).toHaveLength(2);
    expect(upstream.requests.every((r) => r.url.includes('canale=SPORTELLO'))).toBe(true);
    // C001 carries MSNA, in no national list: read, counted as rejected, not in the answer.
    expect(page.items.map((b) => b.localId)).toEqual(['C003', 'C005']);
    expect(page.rejected).toBe(1);
  });

  it("counts the rejections among the records the source sent, and leaves the source's status to reads of every record", async () => {
    // For the period asked, the system sends one record, and it is rejected.
    serve((url) => (url.searchParams.has('dal') ? recorded.filter((r) => r['id'] === 'C001') : recorded));
    const adapter = adapterOver(filteringSource());
    const page = await adapter.list('beneficiaries', everything({ 'intake.date': { from: '2024-01', to: '2024-01' } }), {});

    expect(page).toMatchObject({ items: [], total: 0, rejected: 1 });
    // One record of one is no sign of a system that rejects most of its records.
    expect(adapter.sources()[0]!.status).toBe('UP');
    const whole = await adapter.list('beneficiaries', everything({}), {});
    expect(whole).toMatchObject({ total: 5, rejected: 1 });
    expect(adapter.sources()[0]!.status).toBe('UP');
  });
});

// ---------------------------------------------------------------------------
// Against the sandbox: the stand-ins of the larger REST cities filter in their own dialect.

describe('push-down against the sandbox', () => {
  let sandbox: Sandbox;
  /** Adapters as configured, and the same without any filter: what a read costs without push-down. */
  let pushing: Fleet;
  let plain: Fleet;
  const configs = loadCityConfigs(defaultCitiesDir).filter((c) => dialects.some((d) => d.code === c.code));
  /** Cities whose people source filters intake dates itself: a REST or GraphQL API with a parameter for it, or an SQL view with a DATE column. */
  const filtersIntakeDates = (s: SourceConfig): boolean => {
    const e = s.entities.beneficiaries as { filters?: unknown; dates?: Record<string, string> } | undefined;
    if (!e) return false;
    if (s.kind === 'rest' || s.kind === 'graphql') return Object.keys((e.filters ?? {}) as object).includes('intake.date');
    if (s.kind === 'sql') return e.dates?.intakeDate === 'date' && (e.filters === undefined || (e.filters as string[]).includes('intake.date'));
    return false;
  };
  const filtering = configs.filter((c) => c.sources.some(filtersIntakeDates)).map((c) => c.code);
  const restFiltering = configs
    .filter((c) => c.sources.some((s) => s.kind === 'rest' && Object.values(s.entities).some((e) => e && Object.keys(e.filters).length > 0)))
    .map((c) => c.code);
  /** The same sources with nothing pushed down: every condition applied after a whole read. */
  const unfiltered = (s: SourceConfig): SourceConfig => {
    const strip = (value: unknown) => (s.kind === 'sql' ? { ...(value as object), filters: [] } : { ...(value as object), filters: {} });
    if (s.kind !== 'rest' && s.kind !== 'graphql' && s.kind !== 'sql') return s;
    return { ...s, entities: Object.fromEntries(Object.entries(s.entities).map(([e, x]) => [e, x && strip(x)])) } as SourceConfig;
  };
  const withoutFilters = configs.map((c) => ({ ...c, sources: c.sources.map(unfiltered) })) as CityConfig[];

  beforeAll(async () => {
    sandbox = await startSandbox({});
    const env = { ...sandbox.env, [PERSON_KEY_SECRET_ENV]: secret };
    pushing = createFleet({ configs, env, deps: deps(), createConnector });
    plain = createFleet({ configs: withoutFilters, env, deps: deps(), createConnector });
  });
  afterAll(() => sandbox?.close());

  const year: Where = { 'intake.date': { from: '2024-01', to: '2024-12' } };
  const inYear = (d: string | null) => d !== null && d >= '2024-01-01' && d <= '2024-12-31';
  const withoutKey = (items: ReadonlyArray<object>) => items.map((b) => {
    const { personKey: _, ...rest } = b as { personKey?: string };
    return rest;
  });

  /** A whole read through one fleet, with the bytes and requests the city's stand-ins spent on it. */
  async function read<E extends EntityName>(fleet: Fleet, city: string, entity: E, where: Where) {
    sandbox.resetRequestCounts();
    const page = await fleet.adapter(city)!.list(entity, { offset: 0, limit: Infinity, where }, {});
    return { page, bytes: sandbox.bytesSent(city), requests: sandbox.requestCount(city) };
  }

  it('the four larger REST cities filter at the source, and so do the database and GraphQL cities that can', () => {
    expect(restFiltering.sort()).toEqual(['001272', '015146', '058091', '063049']);
    expect(filtering).toEqual(expect.arrayContaining(restFiltering));
    const kinds = new Set(configs.filter((c) => filtering.includes(c.code)).flatMap((c) => c.sources.map((s) => s.kind)));
    expect(kinds.has('sql') && kinds.has('graphql')).toBe(true);
  });

  it.each(['001272', '015146', '058091', '063049'])("%s: a whole read of one year's beneficiaries returns exactly the records of the same read without push-down, and of the truth, for fewer bytes", async (city) => {
    const truth = sandbox.truth.get(city)!.accepted.beneficiaries.filter((b) => inYear(b.intake.date));
    expect(truth.length).toBeGreaterThan(0);
    const pushed = await read(pushing, city, 'beneficiaries', year);
    const whole = await read(plain, city, 'beneficiaries', year);

    expect(withoutKey(pushed.page.items)).toEqual(truth);
    expect(pushed.page.items).toEqual(whole.page.items);
    expect({ total: pushed.page.total, accepted: pushed.page.accepted }).toEqual({ total: truth.length, accepted: truth.length });
    expect(pushed.bytes).toBeGreaterThan(0);
    expect(pushed.bytes).toBeLessThan(whole.bytes);
  });

  it.each(['001272', '015146', '058091', '063049'])('%s: a year and a channel, civic projects signed in a year and placements begun by its end come out as the truth has them', async (city) => {
    const t = sandbox.truth.get(city)!.accepted;
    const mobile = await read(pushing, city, 'beneficiaries', { ...year, 'intake.channel': ['MOBILE_UNIT'] });
    expect(withoutKey(mobile.page.items)).toEqual(t.beneficiaries.filter((b) => inYear(b.intake.date) && b.intake.channel === 'MOBILE_UNIT'));

    const signed = await read(pushing, city, 'civicProjects', { signedOn: { from: '2024-01-01', to: '2024-12-31' } });
    expect(signed.page.items).toEqual(t.civicProjects.filter((p) => inYear(p.signedOn)));
    // Placements hang off a person: those of a rejected person stay out (PARENT_REJECTED), filtered or not.
    const begun = await read(pushing, city, 'placements', { from: { to: '2024-12-31' } });
    const all = await read(plain, city, 'placements', { from: { to: '2024-12-31' } });
    expect(begun.page.items).toEqual(t.placements.filter((p) => p.from <= '2024-12-31'));
    expect(begun.page.items).toEqual(all.page.items);
  });

  it("costs a national report's reads of one year fewer bytes where the source filters, and the same elsewhere, with the same records", async () => {
    const costs: Array<{ city: string; pushed: number; whole: number; requests: number; plainRequests: number }> = [];
    for (const { code: city } of configs) {
      const pushed = await read(pushing, city, 'beneficiaries', year);
      const whole = await read(plain, city, 'beneficiaries', year);
      expect(pushed.page.items, city).toEqual(whole.page.items);
      costs.push({ city, pushed: pushed.bytes, whole: whole.bytes, requests: pushed.requests, plainRequests: whole.requests });
    }
    for (const c of costs) {
      if (filtering.includes(c.city)) expect(c.pushed, c.city).toBeLessThan(c.whole);
      // Elsewhere the same rows travel: the same bytes, but for the few a database's answer to a statement of another shape may differ by.
      else expect(Math.abs(c.pushed - c.whole), c.city).toBeLessThanOrEqual(Math.ceil(c.whole * 0.01));
      // Filtering never costs more round trips than reading everything.
      expect(c.requests, c.city).toBeLessThanOrEqual(c.plainRequests);
    }
    const sum = (f: (c: (typeof costs)[number]) => number) => costs.reduce((n, c) => n + f(c), 0);
    expect(sum((c) => c.pushed)).toBeLessThan(sum((c) => c.whole));
  });

  it('a CSV city answers a second whole read from the same export: one conditional request, no body, nothing mapped again', async () => {
    // A city whose every domain is in one CSV export.
    const config = configs.find((c) => c.sources.length === 1 && c.sources[0]!.kind === 'csv')!;
    const code = config.code;
    // Revalidated at every read, so that the second read does ask the stand-in whether the export changed.
    const city = resolveCity({ ...config, sources: config.sources.map((s) => ({ ...s, revalidateMs: 0 }) as SourceConfig) }, sandbox.env);
    const classified: ClassifyEvent[] = [];
    const adapter = createCityAdapter(city, { personKeySecret: secret, deps: deps(), createConnector, observeClassify: (e) => classified.push(e) });
    const truth = sandbox.truth.get(code)!.accepted;

    const first = await adapter.list('beneficiaries', { offset: 0, limit: Infinity, where: year }, {});
    expect(classified.map((e) => `${e.entity} ${e.rows}`)).toEqual([`beneficiaries ${sandbox.rows(code, 'main', 'beneficiaries').length}`]);
    sandbox.resetRequestCounts();
    classified.length = 0;

    const second = await adapter.list('beneficiaries', { offset: 0, limit: Infinity, where: year }, {});

    expect(sandbox.requestCount(code)).toBe(1);
    expect(sandbox.bytesSent(code)).toBe(0);
    expect(classified).toEqual([]);
    expect(second).toEqual(first);
    expect(withoutKey(second.items)).toEqual(truth.beneficiaries.filter((b) => inYear(b.intake.date)));

    // The records that hang off a person are kept with the persons' export: their second read maps nothing either.
    await adapter.list('placements', { offset: 0, limit: Infinity, where: { from: { to: '2024-12-31' } } }, {});
    sandbox.resetRequestCounts();
    classified.length = 0;
    const placements = await adapter.list('placements', { offset: 0, limit: Infinity, where: { from: { to: '2024-12-31' } } }, {});
    expect(classified).toEqual([]);
    expect(sandbox.bytesSent(code)).toBe(0);
    expect(placements.items).toEqual(truth.placements.filter((p) => p.from <= '2024-12-31'));
  });
});
