/**
 * Guards the schema dashboards and analysts build on: the current API schema
 * (the supergraph as the gateway serves it, federation's directives and
 * types removed) against the one last published in `schema/published/`.
 *
 *   npm run schema:check      exits 1 on a breaking change not declared in schema/published/CHANGELOG.md
 *   npm run schema:publish    the same check, then copies the schema to schema/published/api.graphql
 *                             and files the changelog's Unreleased sections under today's date
 *
 * A breaking change (a field, argument, type or enum value removed, a type
 * changed, a required argument added) passes only when the changelog declares
 * it under `## Unreleased`, in a section whose heading is the change's schema
 * coordinate in backticks (`Type.field`, `Type.field(argument)`, `Enum.VALUE`,
 * `Type`) and whose text says why: a client's query stops working, so its
 * authors need the reason and what to ask instead. Dangerous changes (an enum
 * value added, a default changed) are printed, and listed when published.
 *
 * Options, to check or publish other files than the repository's:
 * `--supergraph <file>`, `--published <folder>`.
 */
import { printSchema as printFederationSchema, Supergraph } from '@apollo/federation-internals';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildSchema, findBreakingChanges, findDangerousChanges, printSchema, type GraphQLSchema } from 'graphql';
import { supergraphPath } from '../schema/sdl.ts';

export const publishedDir = fileURLToPath(new URL('../schema/published/', import.meta.url));
const root = fileURLToPath(new URL('../', import.meta.url));

/**
 * The API schema of a supergraph, as @apollo/gateway computes it for its
 * clients (the same library and call), so what is checked and documented is
 * what introspection shows. It is rebuilt from its SDL by this module's own
 * graphql: federation's library loads graphql as CommonJS, and where this
 * module gets the ES build (vitest), objects of one cannot be used by the other.
 */
export function apiSchemaOf(supergraphSdl: string): GraphQLSchema {
  return buildSchema(printFederationSchema(Supergraph.build(supergraphSdl).apiSchema()));
}

/** The API schema's SDL, descriptions included, in the supergraph's order. */
export function apiSdlOf(supergraphSdl: string): string {
  return printSchema(apiSchemaOf(supergraphSdl)) + '\n';
}

export interface SchemaChange {
  /** The schema coordinate a changelog section names, e.g. `Query.beneficiaries(filter)`. */
  coordinate: string;
  /** graphql-js's kind of change, e.g. `FIELD_REMOVED`. */
  type: string;
  description: string;
}

export interface ChangelogEntry {
  coordinate: string;
  /** Why the change was made and what clients do instead; empty when the section says nothing. */
  why: string;
}

export interface CheckResult {
  breaking: Array<SchemaChange & { declared: boolean }>;
  dangerous: SchemaChange[];
  /** What fails the check, one sentence each, naming the coordinate. */
  problems: string[];
  /** Whether the current schema differs from the published one at all. */
  changed: boolean;
}

/**
 * The coordinate a change is about, read from graphql-js's description of it
 * (the description is the only place the names are; its wording is fixed
 * within graphql 16). A description no pattern knows is its own coordinate,
 * so it can still be declared, word for word.
 */
export function coordinateOf(description: string, previous: GraphQLSchema): string {
  let m: RegExpMatchArray | null;
  if ((m = description.match(/^A required arg (\w+) on directive @?(\w+) was added\.$/))) return `@${m[2]}(${m[1]})`;
  if ((m = description.match(/^Repeatable flag was removed from @?(\w+)\.$/))) return `@${m[1]}`;
  if ((m = description.match(/^(\w+) was removed from enum type (\w+)\.$/))) return `${m[2]}.${m[1]}`;
  if ((m = description.match(/^(\w+) was (?:removed from|added to) union type (\w+)\.$/))) return m[2]!;
  if ((m = description.match(/^(\w+) was added to enum type (\w+)\.$/))) return `${m[2]}.${m[1]}`;
  if ((m = description.match(/^An? (?:required|optional) field (\w+) on input type (\w+) was added\.$/))) return `${m[2]}.${m[1]}`;
  if ((m = description.match(/^An? (?:required|optional) arg (\w+) on (\w+)\.(\w+) was added\.$/))) return `${m[2]}.${m[3]}(${m[1]})`;
  if ((m = description.match(/^(\w+)\.(\w+) arg (\w+) /))) return `${m[1]}.${m[2]}(${m[3]})`;
  if ((m = description.match(/^(\w+)\.(\w+) (?:was removed|changed type)/))) return `${m[1]}.${m[2]}`;
  if ((m = description.match(/^(\w+) was removed from @?(\w+)\.$/))) {
    // A directive's argument or location.
    const directive = previous.getDirective(m[2]!);
    return directive?.args.some((a) => a.name === m![1]) ? `@${m[2]}(${m[1]})` : `@${m[2]}`;
  }
  if ((m = description.match(/^\w+ added to interfaces implemented by (\w+)\.$/))) return m[1]!;
  if ((m = description.match(/^(?:Standard scalar )?(\w+) (?:was removed|changed from|no longer implements)/))) {
    return !previous.getType(m[1]!) && previous.getDirective(m[1]!) ? `@${m[1]}` : m[1]!;
  }
  return description;
}

/** `Type.field(arg:)` (the spec's form) and `Type.field(arg)` are the same coordinate. */
function normalise(coordinate: string): string {
  return coordinate.replace(/`/g, '').replace(/\s+/g, '').replace(/:\)$/, ')');
}

/**
 * The sections of the changelog's `## Unreleased` part: the breaking changes
 * made since the schema was last published. Sections already filed under a
 * date are history: they declare nothing for the next change, so that a
 * coordinate removed, brought back and removed again needs a new reason.
 */
export function unreleasedEntries(changelog: string): ChangelogEntry[] {
  const lines = changelog.split('\n');
  const start = lines.findIndex((l) => /^##\s+Unreleased\s*$/i.test(l));
  if (start < 0) return [];
  const entries: ChangelogEntry[] = [];
  let current: { coordinate: string; body: string[] } | null = null;
  const close = () => {
    if (current) entries.push({ coordinate: current.coordinate, why: current.body.join('\n').replace(/<!--[\s\S]*?-->/g, '').trim() });
  };
  for (const line of lines.slice(start + 1)) {
    if (/^##\s/.test(line)) break;
    const heading = line.match(/^###\s+(.*)$/);
    if (heading) {
      close();
      const code = heading[1]!.match(/`([^`]+)`/);
      current = { coordinate: normalise(code ? code[1]! : heading[1]!), body: [] };
    } else current?.body.push(line);
  }
  close();
  return entries;
}

/** Compares two API schemas (SDL) and judges the breaking changes against the changelog's Unreleased sections. */
export function compareSchemas(publishedSdl: string, currentSdl: string, changelog: string): CheckResult {
  const previous = buildSchema(publishedSdl);
  const next = buildSchema(currentSdl);
  const entries = unreleasedEntries(changelog);
  const declared = new Map(entries.map((e) => [e.coordinate, e]));
  const change = (c: { type: string; description: string }): SchemaChange => ({ coordinate: coordinateOf(c.description, previous), type: c.type, description: c.description });
  const breaking = findBreakingChanges(previous, next).map((c) => {
    const x = change(c);
    return { ...x, declared: declared.has(normalise(x.coordinate)) };
  });
  const dangerous = findDangerousChanges(previous, next).map(change);
  const problems: string[] = [];
  for (const b of breaking) {
    const entry = declared.get(normalise(b.coordinate));
    if (!entry) {
      problems.push(`\`${b.coordinate}\`: ${b.description} This breaks clients that ask for it: restore it, or declare it in schema/published/CHANGELOG.md under "## Unreleased" as "### \`${b.coordinate}\`" followed by why and what clients ask instead.`);
    } else if (!entry.why) {
      problems.push(`\`${b.coordinate}\`: ${b.description} Its changelog section says nothing: write why, and what clients ask instead.`);
    }
  }
  return { breaking, dangerous, problems, changed: printSchema(previous) !== printSchema(next) };
}

export interface Paths {
  supergraph: string;
  published: string;
}

export const defaultPaths: Paths = { supergraph: supergraphPath, published: publishedDir };

function readPublished(paths: Paths): { sdl: string; changelog: string } {
  const api = join(paths.published, 'api.graphql');
  const log = join(paths.published, 'CHANGELOG.md');
  if (!existsSync(api)) throw new Error(`${api} is missing: there is no published schema to compare with (npm run schema:publish writes it).`);
  return { sdl: readFileSync(api, 'utf8'), changelog: existsSync(log) ? readFileSync(log, 'utf8') : '' };
}

/** The check of `npm run schema:check`, over files. */
export function checkSchema(paths: Paths = defaultPaths): CheckResult {
  const published = readPublished(paths);
  return compareSchemas(published.sdl, apiSdlOf(readFileSync(paths.supergraph, 'utf8')), published.changelog);
}

/**
 * The changelog with its Unreleased sections filed under `date` (and the
 * dangerous changes listed there), and an empty Unreleased part left on top
 * for the next change.
 */
export function fileUnreleased(changelog: string, date: string, dangerous: SchemaChange[], whenNothingDeclared = 'No breaking change: every query that ran before runs the same.'): string {
  const lines = changelog.split('\n');
  let start = lines.findIndex((l) => /^##\s+Unreleased\s*$/i.test(l));
  if (start < 0) {
    // No Unreleased part yet: it goes before the first dated section, or at the end.
    const first = lines.findIndex((l) => /^##\s/.test(l));
    start = first < 0 ? lines.length : first;
    lines.splice(start, 0, '## Unreleased', '');
  }
  let end = lines.findIndex((l, i) => i > start && /^##\s/.test(l));
  if (end < 0) end = lines.length;
  const body = lines.slice(start + 1, end).join('\n').trim();
  const notes = dangerous.length
    ? ['Changes a client may notice, though its queries still run:', '', ...dangerous.map((d) => `- \`${d.coordinate}\`: ${d.description}`)]
    : [];
  const dated = [`## ${date}`, '', ...(body ? [body, ''] : []), ...(notes.length ? [...notes, ''] : []), ...(body || notes.length ? [] : [whenNothingDeclared, ''])];
  const rest = lines.slice(end);
  return [...lines.slice(0, start), '## Unreleased', '', ...dated, ...rest].join('\n').replace(/\n{3,}/g, '\n\n').replace(/\n*$/, '\n');
}

/**
 * `npm run schema:publish`: refuses while a breaking change is undeclared;
 * otherwise writes the current API schema as the published one.
 */
export function publishSchema(paths: Paths = defaultPaths, date = new Date().toISOString().slice(0, 10)): { result: CheckResult; written: boolean } {
  const currentSdl = apiSdlOf(readFileSync(paths.supergraph, 'utf8'));
  const api = join(paths.published, 'api.graphql');
  const log = join(paths.published, 'CHANGELOG.md');
  if (!existsSync(api)) {
    // The first publication has nothing to compare with.
    writeFileSync(api, currentSdl);
    const changelog = existsSync(log) ? readFileSync(log, 'utf8') : '# Changes to the published API schema\n\n## Unreleased\n';
    writeFileSync(log, fileUnreleased(changelog, date, [], 'First publication.'));
    return { result: { breaking: [], dangerous: [], problems: [], changed: true }, written: true };
  }
  const result = checkSchema(paths);
  if (result.problems.length || !result.changed) return { result, written: false };
  writeFileSync(api, currentSdl);
  writeFileSync(log, fileUnreleased(readFileSync(log, 'utf8'), date, result.dangerous));
  return { result, written: true };
}

function main(args: string[]): number {
  const usage = 'Usage: node --experimental-strip-types scripts/schema-check.ts [--publish] [--supergraph <file>] [--published <folder>]';
  const paths = { ...defaultPaths };
  let publish = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--publish') publish = true;
    else if (a === '--supergraph' && args[i + 1]) paths.supergraph = args[++i]!;
    else if (a === '--published' && args[i + 1]) paths.published = args[++i]!;
    else if (a === '-h' || a === '--help') {
      console.log(usage);
      return 0;
    } else {
      console.error(`schema-check: unknown option ${a}\n${usage}`);
      return 2;
    }
  }
  const where = relative(root, join(paths.published, 'api.graphql')) || join(paths.published, 'api.graphql');
  let outcome: { result: CheckResult; written: boolean };
  try {
    outcome = publish ? publishSchema(paths) : { result: checkSchema(paths), written: false };
  } catch (e) {
    console.error(`schema-check: ${(e as Error).message}`);
    return 2;
  }
  const { result, written } = outcome;
  for (const d of result.dangerous) console.log(`note: \`${d.coordinate}\`: ${d.description}`);
  for (const b of result.breaking) if (b.declared && !result.problems.some((p) => p.startsWith(`\`${b.coordinate}\``))) console.log(`declared: \`${b.coordinate}\`: ${b.description}`);
  if (result.problems.length) {
    console.error(`Breaking changes against ${where}:\n${result.problems.map((p) => `- ${p}`).join('\n')}`);
    return 1;
  }
  if (publish) console.log(written ? `Published the current API schema to ${where}.` : `Nothing to publish: ${where} is the current API schema.`);
  else console.log(result.changed ? `The API schema changed since ${where}, without an undeclared breaking change.` : `The API schema is the one published in ${where}.`);
  return 0;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) process.exitCode = main(process.argv.slice(2));
