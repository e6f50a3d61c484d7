import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { SourceConfig } from './config.ts';
import { createRowMapper, parseDate, personKeyOf } from './mapping.ts';
import { fiscalCodeCheckChar, isValidFiscalCode } from '../schema/fiscal-code.ts';

const source = SourceConfig.parse({
  kind: 'csv',
  id: 'main',
  domains: ['people', 'housing'],
  baseUrl: 'http://127.0.0.1:1',
  dateFormat: 'dd/mm/yyyy',
  listSeparator: '|',
  citizenship: { Nigeria: 'NG', "Costa d'Avorio": 'CI' },
  vocabularies: {
    sex: { M: 'MALE', F: 'FEMALE' },
    permitType: { 'Richiesta asilo': 'ASYLUM_SEEKER' },
    intakeChannel: { SPORTELLO: 'ONE_STOP_SHOP', UDS: 'MOBILE_UNIT' },
    intakeStatus: { 'In carico': 'ACTIVE' },
    vulnerability: { san: 'PHYSICAL_HEALTH', psi: 'MENTAL_HEALTH' },
    housingKind: { 'Rifugio protetto': 'PROTECTED_SHELTER' },
  },
  entities: {
    beneficiaries: {
      path: '/beneficiari.csv',
      fields: {
        localId: 'ID', fiscalCode: 'CF', givenName: 'NOME', familyName: 'COGNOME', sex: 'SESSO', birthDate: 'NASCITA',
        citizenship: 'CITTADINANZA', permitType: 'PERMESSO', vulnerabilities: 'FRAGILITA', intakeDate: 'DATA_PRESA',
        intakeChannel: 'CANALE', intakeStatus: 'STATO',
      },
    },
    housingResources: {
      path: '/strutture.csv',
      fields: { localId: 'ID', name: 'NOME', kind: 'TIPO', capacity: 'POSTI', occupancy: 'OCCUPATI' },
    },
  },
});

const withCheck = (first15: string) => first15 + fiscalCodeCheckChar(first15);
const cf = withCheck('DMCNGZ90A41Z335');
const row = {
  ID: ' 17 ', CF: cf.toLowerCase(), NOME: 'Ngozi', COGNOME: "D'Amico", SESSO: 'f', NASCITA: '01/01/1990',
  CITTADINANZA: 'nigeria', PERMESSO: 'Richiesta asilo', FRAGILITA: 'san|psi', DATA_PRESA: '3/4/2024', CANALE: 'UDS', STATO: 'In carico',
};
const mapper = createRowMapper('090064', source, 'a-secret-of-sixteen-chars');

describe('dates', () => {
  it('are read in the format the city declares and written as ISO', () => {
    expect(parseDate('3/4/2024', 'dd/mm/yyyy')).toBe('2024-04-03');
    expect(parseDate('20240403', 'yyyymmdd')).toBe('2024-04-03');
    expect(parseDate('03.04.2024', 'dd.mm.yyyy')).toBe('2024-04-03');
  });
  it('that do not exist are refused', () => {
    expect(parseDate('31/02/2023', 'dd/mm/yyyy')).toBeNull();
    expect(parseDate('29/02/2023', 'dd/mm/yyyy')).toBeNull();
    expect(parseDate('29/02/2024', 'dd/mm/yyyy')).toBe('2024-02-29');
    expect(parseDate('2024-04-03', 'dd/mm/yyyy')).toBeNull();
  });
});

describe('fiscal codes', () => {
  it('are checked by their check character', () => {
    expect(isValidFiscalCode(cf)).toBe(true);
    const wrong = cf.slice(0, 15) + (cf[15] === 'A' ? 'B' : 'A');
    expect(isValidFiscalCode(wrong)).toBe(false);
    // A published example: RSSMRA85T10A562S.
    expect(isValidFiscalCode('RSSMRA85T10A562S')).toBe(true);
  });
});

describe('a city row', () => {
  it('becomes a canonical beneficiary with national codes, ISO dates and a pseudonym', () => {
    const r = mapper.map('beneficiaries', row);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.record).toEqual({
      localId: '17', city: '090064', fiscalCode: cf, givenName: 'Ngozi', familyName: "D'Amico", sex: 'FEMALE',
      birthDate: '1990-01-01', citizenship: 'NG', permitType: 'ASYLUM_SEEKER', vulnerabilities: ['PHYSICAL_HEALTH', 'MENTAL_HEALTH'],
      intake: { date: '2024-04-03', channel: 'MOBILE_UNIT', status: 'ACTIVE' },
      personKey: personKeyOf(cf, 'a-secret-of-sixteen-chars'),
    });
  });

  it.each([
    ['an impossible date', { NASCITA: '31/02/1990' }, 'INVALID_DATE', 'birthDate'],
    ['an unknown channel', { CANALE: 'BOH' }, 'UNKNOWN_CODE', 'intakeChannel'],
    ['a missing fiscal code', { CF: '  ' }, 'MISSING_FIELD', 'fiscalCode'],
    ['a wrong check character', { CF: cf.slice(0, 15) + (cf[15] === 'A' ? 'B' : 'A') }, 'INVALID_FISCAL_CODE', 'fiscalCode'],
    ["a citizenship outside the city's table", { CITTADINANZA: 'Atlantide' }, 'UNKNOWN_CODE', 'citizenship'],
    ['a birth date after today', { NASCITA: '01/01/2999' }, 'INVALID_VALUE', 'birthDate'],
    ['an intake before birth', { DATA_PRESA: '31/12/1989' }, 'INVALID_VALUE', 'intakeDate'],
  ])('with %s is rejected with its reason and id', (_name, change, reason, field) => {
    const r = mapper.map('beneficiaries', { ...row, ...change });
    expect(r).toMatchObject({ ok: false, localId: '17', rejection: { reason, field } });
  });

  it('with a negative capacity, or more occupants than places, is rejected', () => {
    const base = { ID: 'R1', NOME: 'Rifugio Sole', TIPO: 'rifugio protetto', POSTI: '8', OCCUPATI: '3' };
    expect(mapper.map('housingResources', base)).toMatchObject({ ok: true, record: { capacity: 8, occupancy: 3, kind: 'PROTECTED_SHELTER' } });
    expect(mapper.map('housingResources', { ...base, POSTI: '-2' })).toMatchObject({ ok: false, rejection: { reason: 'INVALID_VALUE', field: 'capacity' } });
    expect(mapper.map('housingResources', { ...base, OCCUPATI: '9' })).toMatchObject({ ok: false, rejection: { reason: 'INVALID_VALUE', field: 'occupancy' } });
  });

  it("is judged by Italy's date, and a rejection for a date after today is marked as not to be kept", () => {
    // 23:30 UTC on 10 March is already 11 March in Rome.
    const lateEvening = createRowMapper('090064', source, 'a-secret-of-sixteen-chars', () => Date.parse('2026-03-10T23:30:00Z'));
    expect(lateEvening.map('beneficiaries', { ...row, DATA_PRESA: '11/03/2026' })).toMatchObject({ ok: true });
    expect(lateEvening.map('beneficiaries', { ...row, DATA_PRESA: '12/03/2026' })).toMatchObject({ ok: false, volatile: true, rejection: { field: 'intakeDate' } });
    expect(lateEvening.map('beneficiaries', { ...row, DATA_PRESA: '31/02/2026' })).not.toHaveProperty('volatile');
  });

  it('from a city writing ISO codes and national codes is checked against the lists themselves', () => {
    const plain = createRowMapper('090064', { ...source, citizenship: undefined, vocabularies: { ...source.vocabularies, intakeStatus: undefined } }, 'a-secret-of-sixteen-chars');
    const iso = { ...row, CITTADINANZA: 'ng', STATO: 'active' };
    expect(plain.map('beneficiaries', iso)).toMatchObject({ ok: true, record: { citizenship: 'NG', intake: { status: 'ACTIVE' } } });
    expect(plain.map('beneficiaries', { ...iso, STATO: 'OPEN' })).toMatchObject({ ok: false, rejection: { reason: 'UNKNOWN_CODE', field: 'intakeStatus' } });
    for (const notACountry of ['QQ', 'EU', 'DD', 'ZZ']) {
      expect(plain.map('beneficiaries', { ...iso, CITTADINANZA: notACountry }), notACountry).toMatchObject({ ok: false, rejection: { reason: 'UNKNOWN_CODE', field: 'citizenship' } });
    }
    // A stateless person (apolide) is within the programme.
    expect(plain.map('beneficiaries', { ...iso, CITTADINANZA: 'XX' })).toMatchObject({ ok: true, record: { citizenship: 'XX' } });
    expect(plain.map('beneficiaries', { ...iso, CITTADINANZA: 'XK' })).toMatchObject({ ok: true, record: { citizenship: 'XK' } });
    // An EU citizen is outside the programme: a wrong value, not an unknown code.
    expect(plain.map('beneficiaries', { ...iso, CITTADINANZA: 'FR' })).toMatchObject({ ok: false, rejection: { reason: 'INVALID_VALUE', field: 'citizenship' } });
  });

  it('never puts the rejected value in the reason', () => {
    const r = mapper.map('beneficiaries', { ...row, CF: 'XXXYYY' });
    expect(r.ok).toBe(false);
    expect(JSON.stringify(r)).not.toContain('XXXYYY');
  });
});

describe('personKey', () => {
  it('is the same for the same person however the code is written, and a keyed hash, not a plain one', () => {
    const k = personKeyOf(cf, 'secret-one-sixteen');
    expect(personKeyOf(` ${cf.toLowerCase().slice(0, 8)} ${cf.slice(8)} `, 'secret-one-sixteen')).toBe(k);
    expect(personKeyOf(cf, 'secret-two-sixteen')).not.toBe(k);
    expect(k).not.toBe(createHash('sha256').update(cf).digest('base64url'));
  });
});

describe('fields that are not one flat column', () => {
  const nested = SourceConfig.parse({
    kind: 'csv',
    id: 'main',
    domains: ['people'],
    baseUrl: 'http://127.0.0.1:1',
    dateFormat: 'dd/mm/yyyy',
    vocabularies: { vulnerability: { san: 'PHYSICAL_HEALTH', psi: 'MENTAL_HEALTH' } },
    entities: {
      beneficiaries: {
        path: '/beneficiari.csv',
        fields: {
          localId: 'id', fiscalCode: 'persona.cf', givenName: 'persona.nome', familyName: 'persona.cognome', sex: 'persona.sesso',
          // A date kept as day and month in one column and the year in another.
          birthDate: '{nascita_giorno_mese}/{nascita_anno}',
          citizenship: 'persona.cittadinanza', permitType: 'permesso.tipo.codice', vulnerabilities: 'fragilita.codice',
          intakeDate: 'presa.data', intakeChannel: 'presa.canale', intakeStatus: 'presa.stato',
        },
      },
    },
  });
  const row = {
    id: 'A1',
    persona: { cf, nome: 'Grace', cognome: 'Okafor', sesso: 'FEMALE', cittadinanza: 'NG' },
    nascita_giorno_mese: '01/01',
    nascita_anno: '1990',
    permesso: { tipo: { codice: 'ASYLUM_SEEKER' } },
    fragilita: [{ codice: 'san' }, { codice: 'psi' }],
    presa: { data: '15/03/2024', canale: 'MOBILE_UNIT', stato: 'ACTIVE' },
  };
  const mapper = createRowMapper('082053', nested, 'sixteen-chars-secret', () => Date.parse('2026-12-01'));

  it('reads a code inside an object, a list of objects, and a date put together from two columns', () => {
    const r = mapper.map('beneficiaries', row);
    expect(r.ok && r.record).toMatchObject({ birthDate: '1990-01-01', permitType: 'ASYLUM_SEEKER', vulnerabilities: ['PHYSICAL_HEALTH', 'MENTAL_HEALTH'], intake: { date: '2024-03-15' } });
  });

  it('rejects a record whose parts of a date are all missing as MISSING_FIELD, and half a date as INVALID_DATE', () => {
    const none = mapper.map('beneficiaries', { ...row, nascita_giorno_mese: '', nascita_anno: null });
    expect(!none.ok && none.rejection).toMatchObject({ reason: 'MISSING_FIELD', field: 'birthDate' });
    const half = mapper.map('beneficiaries', { ...row, nascita_anno: '' });
    expect(!half.ok && half.rejection).toMatchObject({ reason: 'INVALID_DATE', field: 'birthDate' });
  });

  it('refuses a template for an id, and a template that names no field', () => {
    const base = { kind: 'csv', id: 'main', domains: ['services'], baseUrl: 'http://127.0.0.1:1', dateFormat: 'dd/mm/yyyy', vocabularies: {} };
    const withFields = (fields: Record<string, string>) => SourceConfig.safeParse({ ...base, entities: { services: { path: '/s.csv', fields } } });
    expect(withFields({ localId: '{a}-{b}', name: 'n', category: 'c' }).error?.message).toMatch(/id is looked up by value/);
    expect(withFields({ localId: 'id', name: '{}', category: 'c' }).error?.message).toMatch(/not a template/);
    expect(withFields({ localId: 'id', name: '{nome} {cognome}', category: 'c' }).success).toBe(true);
  });
});

describe('codes typed by hand', () => {
  it('match their vocabulary whatever the case, accents, apostrophes and spaces', async () => {
    const { folded } = await import('./mapping.ts');
    expect(folded(" UNITA'  MOBILE ")).toBe(folded('Unità mobile'));
    expect(folded("Costa d'Avorio")).toBe(folded('COSTA DAVORIO'));
    expect(folded('Sportello')).not.toBe(folded('Sportelli'));
  });
});
