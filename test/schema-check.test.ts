/**
 * What dashboard builders rely on stays true: the schema reference in
 * docs/schema/ and the operation types in docs/examples/generated/ match the
 * schema, and no change breaks a client's query unless the changelog of
 * schema/published/ says so and why.
 */
import { generate } from '@graphql-codegen/cli';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildSchema, GraphQLEnumType, GraphQLInputObjectType, GraphQLObjectType, GraphQLScalarType, isSpecifiedScalarType, Kind, parse, print, visit, type DocumentNode } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import codegenConfig from '../codegen.ts';
import { supergraphPath } from '../schema/sdl.ts';
import { apiSdlOf, checkSchema, compareSchemas, coordinateOf, publishedDir, publishSchema, unreleasedEntries } from '../scripts/schema-check.ts';
import { docsDir, renderSchemaDocs, staleSchemaDocs } from '../scripts/schema-docs.ts';

const repo = fileURLToPath(new URL('../', import.meta.url));
const supergraph = readFileSync(supergraphPath, 'utf8');

describe('the schema reference in docs/schema/', () => {
  const files = renderSchemaDocs();
  const api = buildSchema(files.get('api.graphql')!);

  it('matches what the SDL says (run `npm run schema:docs` after changing the SDL)', () => {
    expect(staleSchemaDocs(docsDir, files), 'stale pages of docs/schema/: run `npm run schema:docs`').toEqual([]);
  });

  it('is found stale when a page differs, is missing, or is left over from an older schema', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lgnet-schema-docs-'));
    try {
      for (const [name, text] of files) writeFileSync(join(dir, name), text);
      expect(staleSchemaDocs(dir, files)).toEqual([]);
      writeFileSync(join(dir, 'enums.md'), files.get('enums.md')!.replace('## Sex', '## Gender'));
      rmSync(join(dir, 'scalars.md'));
      writeFileSync(join(dir, 'old-page.md'), '# A type the schema no longer has\n');
      expect(staleSchemaDocs(dir, files)).toEqual(['enums.md', 'old-page.md', 'scalars.md']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('gives every query, type, enum, input and scalar of the API schema a section on its page, with its description', () => {
    const missing: string[] = [];
    const expectSection = (page: string, name: string, description: string | null | undefined) => {
      const text = files.get(page)!;
      const at = text.indexOf(`\n## ${name}\n`);
      if (at < 0) missing.push(`${page}: ${name}`);
      else if (description && !text.slice(at).includes(description.trim().split('\n')[0]!)) missing.push(`${page}: the description of ${name}`);
    };
    const query = api.getQueryType()!;
    for (const f of Object.values(query.getFields())) expectSection('queries.md', f.name, f.description);
    for (const t of Object.values(api.getTypeMap())) {
      if (t.name.startsWith('__') || t === query) continue;
      if (t instanceof GraphQLObjectType) expectSection('types.md', t.name, t.description);
      else if (t instanceof GraphQLEnumType) expectSection('enums.md', t.name, t.description);
      else if (t instanceof GraphQLInputObjectType) expectSection('inputs.md', t.name, t.description);
      else if (t instanceof GraphQLScalarType && !isSpecifiedScalarType(t)) expectSection('scalars.md', t.name, t.description);
    }
    expect(missing).toEqual([]);
    expect(Object.keys(query.getFields()).length).toBeGreaterThan(10);
  });

  it('says who may read each query and type, and where a field is read by fewer, as the @access rules declare', () => {
    const queries = files.get('queries.md')!;
    const types = files.get('types.md')!;
    const section = (text: string, name: string) => text.slice(text.indexOf(`\n## ${name}\n`)).split('\n## ')[1]!;
    expect(section(queries, 'beneficiaries')).toContain('Who may ask: operators and analysts.');
    expect(section(queries, 'report')).toContain('Who may ask: operators, analysts and the dashboard role.');
    const beneficiary = section(types, 'Beneficiary');
    expect(beneficiary).toContain("Who may read it: operators of the record's own city and analysts.");
    expect(beneficiary.split('\n').find((l) => l.startsWith('| `fiscalCode`'))).toContain("**Read by** operators of the record's own city only.");
    expect(beneficiary.split('\n').find((l) => l.startsWith('| `personKey`'))).not.toContain('Read by');
    expect(section(types, 'CityReport').split('\n').find((l) => l.startsWith('| `beneficiaries`'))).toContain('Published: for the dashboard role, a small count is withheld');
  });

  it('describes the API schema, without the federation directives and types of the supergraph', () => {
    const sdl = files.get('api.graphql')!;
    expect(sdl).not.toMatch(/join__|link__|@link|_entities|_Service/);
    expect(sdl).toContain('type Beneficiary {');
  });
});

describe('the operation types in docs/examples/generated/', () => {
  it('match a fresh `npm run codegen` over the current schema', async () => {
    const fresh: Array<{ filename: string; content: string }> = await generate({ ...codegenConfig, schema: apiSdlOf(supergraph), cwd: repo, silent: true }, false);
    expect(fresh.map((f) => f.filename).sort()).toEqual(['docs/examples/generated/graphql.ts', 'docs/examples/generated/schema.ts']);
    for (const f of fresh) expect(readFileSync(join(repo, f.filename), 'utf8'), `${f.filename} is stale: run \`npm run codegen\``).toBe(f.content);
  });

  it("type every scalar of the graph as a string, with its format as the doc comment, and nothing as any or unknown", () => {
    const shared = readFileSync(join(repo, 'docs/examples/generated/schema.ts'), 'utf8');
    const operations = readFileSync(join(repo, 'docs/examples/generated/graphql.ts'), 'utf8');
    const api = buildSchema(apiSdlOf(supergraph));
    const scalars = Object.values(api.getTypeMap()).filter((t): t is GraphQLScalarType => t instanceof GraphQLScalarType && !isSpecifiedScalarType(t));
    expect(scalars.map((s) => s.name).sort()).toEqual(['Date', 'DateTime', 'YearMonth']);
    for (const s of scalars) {
      const entry = shared.match(new RegExp(`/\\*\\*([^/]*)\\*/\\s*${s.name}: \\{ input: (\\w+); output: (\\w+); \\}`));
      expect(entry, s.name).not.toBeNull();
      expect(entry!.slice(2)).toEqual(['string', 'string']);
      expect(entry![1]!.replace(/\s*\*\s*/g, ' ')).toContain(s.description!.split('\n')[0]!.trim());
    }
    // Code only, without the doc comments; the helper `Exact<T extends { [key: string]: unknown }>` constrains keys, and types no value.
    const code = (text: string) => text.replace(/\/\*[\s\S]*?\*\//g, '').replace('type Exact<T extends { [key: string]: unknown }>', '');
    for (const text of [shared, operations]) expect(code(text)).not.toMatch(/\b(any|unknown)\b/);
    expect(operations).toContain("from?: Types.Scalars['Date']['input']");
  });

  it('hold each question of docs/QUERIES.md as written there, named', () => {
    const page = readFileSync(join(repo, 'docs/QUERIES.md'), 'utf8');
    const questions = [...page.matchAll(/^## (\d+)\. (.+)\n[\s\S]*?```graphql\n([\s\S]*?)```/gm)];
    const dir = join(repo, 'docs/examples/operations');
    const files = readdirSync(dir);
    expect(questions.length).toBeGreaterThanOrEqual(12);
    const unnamed = (doc: DocumentNode) => print(visit(doc, { OperationDefinition: (node) => ({ ...node, name: undefined }) }));
    for (const [, number, title, query] of questions) {
      const file = files.find((f) => f.startsWith(`${number!.padStart(2, '0')}-`));
      expect(file, `no operation in docs/examples/operations/ for "${number}. ${title}"`).toBeDefined();
      const doc = parse(readFileSync(join(dir, file!), 'utf8'));
      const op = doc.definitions[0];
      expect(op?.kind === Kind.OPERATION_DEFINITION && op.name?.value, file).toMatch(/^[A-Z]\w+$/);
      expect(unnamed(doc), `${file} differs from question ${number} of docs/QUERIES.md`).toBe(unnamed(parse(query!)));
    }
  });
});

/** A copy of a supergraph with one field of a type removed, or one added. */
function editField(sdl: string, type: string, edit: { remove: string } | { add: string }): string {
  let found = false;
  const doc = visit(parse(sdl), {
    ObjectTypeDefinition(node) {
      if (node.name.value !== type) return undefined;
      found = true;
      if ('remove' in edit) {
        const fields = node.fields?.filter((f) => f.name.value !== edit.remove);
        if (fields?.length === node.fields?.length) throw new Error(`${type}.${edit.remove} is not in the supergraph`);
        return { ...node, fields };
      }
      const added = (parse(`type T { ${edit.add} }`).definitions[0] as { fields: NonNullable<typeof node.fields> }).fields;
      return { ...node, fields: [...(node.fields ?? []), ...added] };
    },
  });
  if (!found) throw new Error(`${type} is not in the supergraph`);
  return print(doc);
}

describe('the schema check against schema/published/', () => {
  let dir: string;
  const published = () => ({ supergraph: join(dir, 'supergraph.graphql'), published: join(dir, 'published') });
  const declare = (sections: string) => {
    const log = join(dir, 'published', 'CHANGELOG.md');
    writeFileSync(log, readFileSync(log, 'utf8').replace(/^## Unreleased\n/m, `## Unreleased\n\n${sections}\n`));
  };

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'lgnet-schema-check-'));
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });
  // Each test starts from the repository's own files, copied.
  const fresh = (supergraphSdl: string) => {
    rmSync(join(dir, 'published'), { recursive: true, force: true });
    mkdirSync(join(dir, 'published'));
    for (const f of ['api.graphql', 'CHANGELOG.md']) copyFileSync(join(publishedDir, f), join(dir, 'published', f));
    writeFileSync(join(dir, 'supergraph.graphql'), supergraphSdl);
  };

  it("passes the repository's schema against its published one", () => {
    const result = checkSchema();
    expect(result.problems).toEqual([]);
    expect(result.breaking.filter((b) => !b.declared)).toEqual([]);
  });

  it('fails on a removed field, naming its coordinate, and exits 1', () => {
    fresh(editField(supergraph, 'AccessLogEntry', { remove: 'clientOperation' }));
    const result = checkSchema(published());
    expect(result.problems).toHaveLength(1);
    expect(result.problems[0]).toMatch(/^`AccessLogEntry\.clientOperation`: AccessLogEntry\.clientOperation was removed\./);
    const cli = spawnSync(process.execPath, ['--experimental-strip-types', 'scripts/schema-check.ts', '--supergraph', published().supergraph, '--published', published().published], { cwd: repo, encoding: 'utf8' });
    expect(cli.status).toBe(1);
    expect(cli.stderr).toContain('`AccessLogEntry.clientOperation`');
  });

  it('passes the same change once the changelog declares it under Unreleased, with why', () => {
    fresh(editField(supergraph, 'AccessLogEntry', { remove: 'clientOperation' }));
    declare("### `AccessLogEntry.clientOperation`\n\nThe gateway no longer reports the client's query hash; read `operation` instead.\n");
    const result = checkSchema(published());
    expect(result.problems).toEqual([]);
    expect(result.breaking).toEqual([expect.objectContaining({ coordinate: 'AccessLogEntry.clientOperation', declared: true })]);
  });

  it('still fails when the declaring section gives no reason', () => {
    fresh(editField(supergraph, 'AccessLogEntry', { remove: 'clientOperation' }));
    declare('### `AccessLogEntry.clientOperation`\n');
    expect(checkSchema(published()).problems[0]).toMatch(/^`AccessLogEntry\.clientOperation`: .*says nothing: write why/);
  });

  it('does not count a section filed under an earlier publication as declaring a new change', () => {
    fresh(editField(supergraph, 'AccessLogEntry', { remove: 'clientOperation' }));
    const log = join(dir, 'published', 'CHANGELOG.md');
    writeFileSync(log, `${readFileSync(log, 'utf8')}\n## 2020-01-01\n\n### \`AccessLogEntry.clientOperation\`\n\nRemoved once, long ago.\n`);
    expect(checkSchema(published()).problems).toHaveLength(1);
  });

  it('passes an added field', () => {
    fresh(editField(supergraph, 'AccessLogEntry', { add: '"Why the record was read, as the reader gave it." purpose: String' }));
    const result = checkSchema(published());
    expect(result).toMatchObject({ problems: [], breaking: [], changed: true });
  });

  it('names arguments, enum values and changed types by their coordinates, and takes the spec form `Type.field(arg:)` too', () => {
    const before = 'type Query { count(city: ID, month: String): Int\n kind: Kind }\nenum Kind { A B }';
    const after = 'type Query { count(city: ID): Int!\n kind: String }\nenum Kind { A }';
    const result = compareSchemas(before, after, '## Unreleased\n\n### `Query.count(month:)`\nMonths are asked as a range now.\n\n### `Kind.B`\nNo city records it.\n');
    expect(result.breaking.map((b) => [b.coordinate, b.declared]).sort()).toEqual([
      ['Kind.B', true],
      ['Query.count(month)', true],
      ['Query.kind', false],
    ]);
    expect(result.problems).toHaveLength(1);
    expect(result.problems[0]).toMatch(/^`Query\.kind`: Query\.kind changed type from Kind to String\./);
    // A widened answer (Int to Int!) breaks nobody.
    expect(result.breaking.some((b) => b.coordinate === 'Query.count')).toBe(false);
    expect(coordinateOf('A required arg edition on Query.report was added.', buildSchema(before))).toBe('Query.report(edition)');
  });

  it('lists an enum value added as a change a client may notice, without failing', () => {
    const result = compareSchemas('type Query { kind: Kind }\nenum Kind { A }', 'type Query { kind: Kind }\nenum Kind { A B }', '');
    expect(result.problems).toEqual([]);
    expect(result.dangerous.map((d) => d.coordinate)).toEqual(['Kind.B']);
  });

  it('reads only the sections under Unreleased', () => {
    const entries = unreleasedEntries('# Changes\n\nHeadings such as `Type.field` name a change.\n\n## Unreleased\n\n### `A.b`\nWhy.\n\n### `C.d(e:)`\n\n## 2026-01-01\n\n### `F.g`\nOld.\n');
    expect(entries).toEqual([
      { coordinate: 'A.b', why: 'Why.' },
      { coordinate: 'C.d(e)', why: '' },
    ]);
  });

  it('publishes only when every breaking change is declared, and then files the sections under the date', () => {
    const removed = editField(supergraph, 'AccessLogEntry', { remove: 'clientOperation' });
    fresh(removed);
    const before = readFileSync(join(dir, 'published', 'api.graphql'), 'utf8');
    expect(publishSchema(published(), '2030-05-06')).toMatchObject({ written: false, result: { problems: [expect.stringContaining('`AccessLogEntry.clientOperation`')] } });
    expect(readFileSync(join(dir, 'published', 'api.graphql'), 'utf8')).toBe(before);

    declare('### `AccessLogEntry.clientOperation`\n\nRead `operation` instead.\n');
    expect(publishSchema(published(), '2030-05-06').written).toBe(true);
    expect(readFileSync(join(dir, 'published', 'api.graphql'), 'utf8')).toBe(apiSdlOf(removed));
    const log = readFileSync(join(dir, 'published', 'CHANGELOG.md'), 'utf8');
    expect(log).toMatch(/## Unreleased\n\n## 2030-05-06\n\n### `AccessLogEntry.clientOperation`\n\nRead `operation` instead.\n/);
    expect(unreleasedEntries(log)).toEqual([]);
    // Published, the change is the new baseline: the check passes, and publishing again changes nothing.
    expect(checkSchema(published())).toMatchObject({ problems: [], changed: false });
    expect(publishSchema(published(), '2030-05-07').written).toBe(false);
  });
});
