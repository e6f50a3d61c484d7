import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import iconv from 'iconv-lite';
import { afterEach, describe, expect, it } from 'vitest';
import { CityConfig } from './config.ts';
import { proposeFields, sampleFromCsv, sampleFromJson, scaffoldConfig, scaffoldKinds, todoPaths } from './scaffold.ts';

const run = promisify(execFile);
const script = fileURLToPath(new URL('../scripts/adapter-new.ts', import.meta.url));
const sassari = { code: '090064', name: 'Sassari', region: 'Sardegna', province: 'SS' };

/** The config as a city team would leave it after replacing each placeholder by a plain name. */
const withNames = (config: unknown) => JSON.parse(JSON.stringify(config).replace(/TODO_(\w+)/g, '$1')) as unknown;

const records = [
  { id: 'A1', codice_fiscale: 'RSSMRA90A01Z999X', anagrafica: { nome: 'Ada', cognome: 'Obi', sesso: 'F', data_nascita: '1990-01-02', cittadinanza: 'NG' }, permesso: { tipo: { codice: '01', descrizione: 'Asilo' } }, fragilita: [{ codice: 'VIT' }, { codice: 'MSNA' }], data_presa_in_carico: '2024-03-01', canale: 'UDS', stato: 'attivo' },
  { id: 'A2', codice_fiscale: 'BNCLCU85B02Z999Y', anagrafica: { nome: 'Luca', cognome: 'Bianchi', sesso: 'M', data_nascita: '1985-02-02', cittadinanza: 'SN' }, permesso: { tipo: { codice: '02', descrizione: 'Rifugiato' } }, fragilita: [], data_presa_in_carico: '2024-04-11', canale: 'SPORTELLO', stato: 'chiuso' },
];

describe('a scaffold', () => {
  it.each(scaffoldKinds)('of a %s source parses with CityConfig once its placeholders are replaced by plain names', (kind) => {
    const config = scaffoldConfig({ kind, ...sassari });
    expect(todoPaths(config)).toContain('sources[0].entities.beneficiaries.fields.intakeDate');
    expect((config.sources as Array<{ entities: { beneficiaries: { fields: Record<string, string> } } }>)[0]!.entities.beneficiaries.fields.intakeDate).toBe('TODO_intakeDate');
    const named = withNames(config);
    expect(todoPaths(named)).toEqual([]);
    const parsed = CityConfig.safeParse(named);
    expect(parsed.error?.issues ?? []).toEqual([]);
    expect(parsed.data?.sources[0]?.kind).toBe(kind);
    expect(parsed.data?.editions).toEqual(['LGNET3']);
  });

  it('refers to the environment for the endpoint and the key, by the name given with --key-env', () => {
    const config = scaffoldConfig({ kind: 'rest', ...sassari, keyEnv: 'SASSARI_API_KEY' }) as { sources: Array<{ baseUrl: unknown; auth: { key: unknown } }> };
    expect(config.sources[0]!.baseUrl).toEqual({ env: 'LGNET_090064_MAIN_URL' });
    expect(config.sources[0]!.auth.key).toEqual({ env: 'SASSARI_API_KEY' });
  });

  it('fails validation while a local code seen in a sample is still mapped to TODO, and passes once it is mapped', () => {
    const sample = { ...sampleFromJson('beneficiaries', { data: records }), path: '/assistiti' };
    const named = withNames(scaffoldConfig({ kind: 'rest', ...sassari, sample })) as { sources: Array<{ vocabularies: Record<string, Record<string, string>> }> };
    const vocabularies = named.sources[0]!.vocabularies;
    expect(vocabularies.sex).toEqual({ F: 'TODO', M: 'TODO' });
    const failed = CityConfig.safeParse(named);
    expect(failed.success).toBe(false);
    expect(failed.error!.issues.map((i) => i.path.slice(2).join('.'))).toContain('vocabularies.sex.F');

    Object.assign(vocabularies, {
      sex: { F: 'FEMALE', M: 'MALE' },
      permitType: { '01': 'ASYLUM_SEEKER', '02': 'REFUGEE_STATUS' },
      vulnerability: { MSNA: 'SINGLE_PARENT', VIT: 'TRAFFICKING' },
      intakeChannel: { SPORTELLO: 'ONE_STOP_SHOP', UDS: 'MOBILE_UNIT' },
      intakeStatus: { attivo: 'ACTIVE', chiuso: 'CLOSED_AUTONOMY' },
    });
    expect(todoPaths(named)).toEqual([]);
    const passed = CityConfig.safeParse(named);
    expect(passed.error?.issues ?? []).toEqual([]);
  });
});

describe('field proposals', () => {
  it('name the best matching field of a nested REST record for each canonical field, and leave the others null', () => {
    const sample = sampleFromJson('beneficiaries', { data: records, total: 2 });
    expect(sample.itemsPath).toBe('data');
    expect(sample.totalPath).toBe('total');
    expect(proposeFields('beneficiaries', sample.columns)).toEqual({
      localId: 'id',
      fiscalCode: 'codice_fiscale',
      givenName: 'anagrafica.nome',
      familyName: 'anagrafica.cognome',
      sex: 'anagrafica.sesso',
      birthDate: 'anagrafica.data_nascita',
      citizenship: 'anagrafica.cittadinanza',
      permitType: 'permesso.tipo.codice',
      vulnerabilities: 'fragilita.codice',
      intakeDate: 'data_presa_in_carico',
      intakeChannel: 'canale',
      intakeStatus: 'stato',
    });
    expect(proposeFields('services', ['codice', 'nome_servizio', 'colore'])).toEqual({ localId: 'codice', name: 'nome_servizio', category: null });
  });

  it('come from a CSV export in windows-1252 with Italian headers, with its codes, citizenship names and date format', () => {
    const csv = 'Codice;Codice fiscale;Nome;Cognome;Sesso;Data di nascita;Cittadinanza;Permesso;Vulnerabilità;Data presa in carico;Canale;Stato\r\n'
      + 'A1;RSSMRA90A01Z999X;Ada;Obi;F;02/01/1990;Nigeria;01;VIT,MSNA;01/03/2024;UDS;attivo\r\n'
      + 'A2;BNCLCU85B02Z999Y;Luca;Bianchi;M;02/02/1985;Senegal;02;;11/04/2024;SPORTELLO;chiuso\r\n';
    const sample = sampleFromCsv('beneficiaries', iconv.encode(csv, 'windows-1252'));
    expect(sample).toMatchObject({ encoding: 'windows-1252', delimiter: ';' });
    expect(proposeFields('beneficiaries', sample.columns)).toMatchObject({ localId: 'Codice', fiscalCode: 'Codice fiscale', birthDate: 'Data di nascita', vulnerabilities: 'Vulnerabilità', intakeDate: 'Data presa in carico' });
    const config = scaffoldConfig({ kind: 'csv', ...sassari, sample: { ...sample, path: '/export/assistiti.csv' } }) as { sources: Array<Record<string, unknown>> };
    const source = config.sources[0]!;
    expect(source).toMatchObject({ dateFormat: 'dd/mm/yyyy', encoding: 'windows-1252', citizenship: { Nigeria: 'TODO', Senegal: 'TODO' } });
    expect((source.vocabularies as Record<string, unknown>).vulnerability).toEqual({ MSNA: 'TODO', VIT: 'TODO' });
    expect(todoPaths(config)).toContain('sources[0].citizenship.Nigeria');
  });
});

describe('npm run adapter:new', () => {
  const folders: string[] = [];
  const folder = () => {
    const dir = mkdtempSync(join(tmpdir(), 'adapter-new-'));
    folders.push(dir);
    return dir;
  };
  afterEach(() => {
    for (const dir of folders.splice(0)) rmSync(dir, { recursive: true, force: true });
  });
  const cli = (args: string[], env: Record<string, string> = {}) =>
    run(process.execPath, ['--experimental-strip-types', '--no-warnings', script, ...args], { env: { ...process.env, ...env }, timeout: 30_000 }).then(
      ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
      (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
    );

  it('writes the file into the folder given, exits 0, and refuses to overwrite it', async () => {
    const out = join(folder(), 'city.json');
    const first = await cli(['--kind', 'soap', '--city', '021008', '--out', out]);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/sources\[0\]\.entities\.beneficiaries\.fields: .*intakeDate/);
    const written = JSON.parse(readFileSync(out, 'utf8')) as { name: string; altNames: string[]; region: string; province: string };
    expect(written).toMatchObject({ name: 'Bolzano', altNames: ['Bozen'], province: 'BZ' });
    const before = statSync(out).mtimeMs;

    const second = await cli(['--kind', 'rest', '--city', '021008', '--out', out]);
    expect(second.code).toBe(1);
    expect(second.stderr).toMatch(/exists already: not overwritten/);
    expect(statSync(out).mtimeMs).toBe(before);
    expect(JSON.parse(readFileSync(out, 'utf8')).sources[0].kind).toBe('soap');
  });

  it('exits 2 naming an unknown city code, and on a missing --kind without a terminal', async () => {
    const unknown = await cli(['--kind', 'rest', '--city', '999999', '--out', join(folder(), 'x.json')]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/"999999" is not the ISTAT code/);
    const missing = await cli(['--city', '090064', '--out', join(folder(), 'x.json')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/missing --kind/);
  });

  it('reads five records of a REST system with the key from --key-env, proposes its fields and codes, and never prints the key', async () => {
    const requests: IncomingMessage[] = [];
    const server = createServer((req, res) => {
      requests.push(req);
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ data: [...records, ...records, ...records], total: 6 }));
    });
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    const stop = setTimeout(() => server.close(), 30_000).unref();
    try {
      const { port } = server.address() as AddressInfo;
      const out = join(folder(), 'sassari.json');
      const key = 'k-3f9a-secret';
      const result = await cli(['--kind', 'rest', '--city', '090064', '--url', `http://127.0.0.1:${port}/api`, '--path', '/assistiti', '--key-env', 'SASSARI_KEY', '--out', out], { SASSARI_KEY: key });
      expect(result.code).toBe(0);
      expect(requests.map((r) => r.url)).toEqual(['/api/assistiti?limit=5']);
      expect(requests[0]!.headers['x-api-key']).toBe(key);
      expect(result.stdout + result.stderr).not.toContain(key);
      expect(result.stdout).toMatch(/fails validation until each has its national code/);
      expect(result.stdout).toMatch(/vocabularies\.sex: .*F/);
      const source = JSON.parse(readFileSync(out, 'utf8')).sources[0];
      expect(source).toMatchObject({ dateFormat: 'yyyy-mm-dd', auth: { key: { env: 'SASSARI_KEY' } }, paging: { sizeParam: 'limit', itemsPath: 'data', totalPath: 'total' } });
      expect(source.entities.beneficiaries).toMatchObject({ path: '/assistiti', fields: { givenName: 'anagrafica.nome', permitType: 'permesso.tipo.codice', intakeDate: 'data_presa_in_carico' } });
      expect(source.vocabularies.intakeChannel).toEqual({ SPORTELLO: 'TODO', UDS: 'TODO' });
    } finally {
      clearTimeout(stop);
      await new Promise((done) => server.close(done));
    }
  });
});
