/**
 * The schema reference for analysts and dashboard builders, in docs/schema/:
 * every query, type, enum, input and scalar of the API schema (what the
 * gateway serves), with the descriptions the SDL gives them and who may read
 * each, as the SDL's `@access` rules say. The rules are not composed into the
 * supergraph, so they are read from the subgraphs' own SDL, where they are
 * enforced.
 *
 *   npm run schema:docs            writes docs/schema/
 *   npm run schema:docs -- --check exits 1 when docs/schema/ is stale
 *
 * docs/schema/api.graphql is the API schema itself, for tools: the operation
 * types of `npm run codegen` are generated against it.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  astFromValue,
  getNamedType,
  GraphQLEnumType,
  GraphQLInputObjectType,
  GraphQLList,
  GraphQLNonNull,
  GraphQLObjectType,
  GraphQLScalarType,
  isSpecifiedScalarType,
  Kind,
  parse,
  print,
  printSchema,
  type GraphQLArgument,
  type GraphQLField,
  type GraphQLInputField,
  type GraphQLSchema,
  type GraphQLType,
} from 'graphql';
import { describeGrants, readAccessRules, type AccessRule, type Grant } from '../access/rules.ts';
import { subgraphNames, subgraphSdl, supergraphPath } from '../schema/sdl.ts';
import { apiSchemaOf } from './schema-check.ts';

export const docsDir = fileURLToPath(new URL('../docs/schema/', import.meta.url));

export interface TypeRule {
  grants: readonly Grant[];
  audit: string | null;
}

export interface ReadRules {
  /** By schema coordinate, `Type.field`. */
  fields: Map<string, AccessRule>;
  /** By type name: who may see its objects at all. */
  types: Map<string, TypeRule>;
}

/**
 * The `@access` rules of every subgraph, by coordinate. A field several
 * subgraphs declare (an entity's key, a field one subgraph resolves and
 * another only requires) takes the rule declared on the field itself over
 * one it inherits from its type: that is the resolving subgraph's.
 */
export function readRules(sdls: readonly string[] = subgraphNames.map((n) => subgraphSdl(n))): ReadRules {
  const fields = new Map<string, AccessRule>();
  const types = new Map<string, TypeRule>();
  for (const sdl of sdls) {
    const doc = parse(sdl);
    for (const [coordinate, rule] of readAccessRules(doc).fields) {
      const known = fields.get(coordinate);
      if (!known || (known.declaredOn === 'type' && rule.declaredOn === 'field')) fields.set(coordinate, rule);
    }
    for (const def of doc.definitions) {
      if (def.kind !== Kind.OBJECT_TYPE_DEFINITION && def.kind !== Kind.OBJECT_TYPE_EXTENSION) continue;
      const d = def.directives?.find((x) => x.name.value === 'access');
      if (!d || types.has(def.name.value)) continue;
      const grants = d.arguments?.find((a) => a.name.value === 'grants')?.value;
      const audit = d.arguments?.find((a) => a.name.value === 'audit')?.value;
      const values = grants?.kind === Kind.LIST ? grants.values : grants ? [grants] : [];
      types.set(def.name.value, {
        grants: values.flatMap((v) => (v.kind === Kind.STRING ? [v.value as Grant] : [])),
        audit: audit?.kind === Kind.STRING ? audit.value : null,
      });
    }
  }
  return { fields, types };
}

type Page = 'queries.md' | 'types.md' | 'enums.md' | 'inputs.md' | 'scalars.md';

/** The page a named type is documented on; null for GraphQL's own scalars. */
function pageOf(type: GraphQLType): Page | null {
  if (type instanceof GraphQLObjectType) return 'types.md';
  if (type instanceof GraphQLEnumType) return 'enums.md';
  if (type instanceof GraphQLInputObjectType) return 'inputs.md';
  if (type instanceof GraphQLScalarType) return isSpecifiedScalarType(type) ? null : 'scalars.md';
  return null;
}

/** GitHub's anchor of a heading that is a plain name. */
const anchor = (name: string) => name.toLowerCase();

/** A type as it is written in GraphQL, its named type linked to where it is described. */
function typeRef(type: GraphQLType, from: Page): string {
  if (!pageOf(getNamedType(type))) return `\`${String(type)}\``;
  if (type instanceof GraphQLNonNull) return `${typeRef(type.ofType, from)}!`;
  if (type instanceof GraphQLList) return `[${typeRef(type.ofType, from)}]`;
  const page = pageOf(type);
  return `[${type.name}](${page === from ? '' : page}#${anchor(type.name)})`;
}

/** A description inside a table cell: one line, paragraphs kept apart, pipes escaped. */
function cell(text: string | null | undefined): string {
  if (!text) return '';
  return text
    .trim()
    .split(/\n\s*\n/)
    .map((p) => p.replace(/\s*\n\s*/g, ' '))
    .join('<br><br>')
    .replace(/\|/g, '\\|');
}

/** A description as paragraphs of the page. */
function block(text: string | null | undefined): string[] {
  return text ? [text.trim(), ''] : [];
}

/** The first sentence of a description, for indexes. */
function summary(text: string | null | undefined): string {
  const one = cell(text).split('<br><br>')[0] ?? '';
  const m = one.match(/^(.*?[.!?])\s+(?=[A-Z])/);
  return m ? m[1]! : one;
}

function defaultOf(arg: GraphQLArgument | GraphQLInputField): string {
  if (arg.defaultValue === undefined) return '';
  const ast = astFromValue(arg.defaultValue, arg.type);
  return ast ? `\`${print(ast)}\`` : '';
}

function readers(rule: TypeRule | AccessRule | undefined): string {
  return rule ? describeGrants(rule.grants) : '';
}

/** What a field's own rule adds to its type's: a narrower set of readers, suppression of small counts. */
function fieldRuleNote(coordinate: string, typeName: string, rules: ReadRules): string {
  const rule = rules.fields.get(coordinate);
  if (!rule) return '';
  const typeRule = rules.types.get(typeName);
  const notes: string[] = [];
  const same = typeRule && rule.grants.length === typeRule.grants.length && rule.grants.every((g) => typeRule.grants.includes(g));
  if (rule.declaredOn === 'field' && !same) notes.push(`**Read by** ${readers(rule)} only.`);
  if (rule.published) notes.push('Published: for the dashboard role, a small count is withheld (null).');
  return notes.join(' ');
}

function argumentRows(args: readonly GraphQLArgument[], page: Page): string[] {
  return [
    '| argument | type | default | description |',
    '|---|---|---|---|',
    ...args.map((a) => `| \`${a.name}\` | ${typeRef(a.type, page)} | ${defaultOf(a)} | ${cell(a.description)}${a.deprecationReason ? ` Deprecated: ${cell(a.deprecationReason)}` : ''} |`),
  ];
}

function signature(field: GraphQLField<unknown, unknown>): string {
  const args = field.args.map((a) => `${a.name}: ${String(a.type)}${a.defaultValue !== undefined ? ` = ${print(astFromValue(a.defaultValue, a.type)!)}` : ''}`);
  return `${field.name}${args.length ? `(${args.join(', ')})` : ''}: ${String(field.type)}`;
}

const generatedNote = 'Written by `npm run schema:docs` from the API schema ([api.graphql](api.graphql)); edit the SDL in `schema/subgraphs/`, not this page.';

function queriesPage(schema: GraphQLSchema, rules: ReadRules): string {
  const query = schema.getQueryType()!;
  const fields = Object.values(query.getFields()).sort((a, b) => a.name.localeCompare(b.name));
  const out = [
    '# Queries',
    '',
    generatedNote,
    '',
    'Every question starts at one of these fields of `Query`. Who may read each is its `@access` rule; a field the caller may not read is null, with a `FORBIDDEN_FIELD` error naming it.',
    '',
    ...fields.map((f) => `- [${f.name}](#${anchor(f.name)}): ${summary(f.description)}`),
    '',
  ];
  for (const f of fields) {
    const rule = rules.fields.get(`Query.${f.name}`);
    out.push(`## ${f.name}`, '', '```graphql', signature(f), '```', '');
    out.push(...block(f.description));
    out.push(`Returns ${typeRef(f.type, 'queries.md')}.${rule ? ` Who may ask: ${readers(rule)}.` : ''}`, '');
    if (f.deprecationReason) out.push(`Deprecated: ${f.deprecationReason}`, '');
    if (f.args.length) out.push(...argumentRows(f.args, 'queries.md'), '');
  }
  return out.join('\n');
}

function typesPage(schema: GraphQLSchema, rules: ReadRules): string {
  const query = schema.getQueryType();
  const types = Object.values(schema.getTypeMap())
    .filter((t): t is GraphQLObjectType => t instanceof GraphQLObjectType && t !== query && !t.name.startsWith('__'))
    .sort((a, b) => a.name.localeCompare(b.name));
  const out = [
    '# Types',
    '',
    generatedNote,
    '',
    'What the queries return. Each type says who may read its objects; a field that narrows it says so.',
    '',
    ...types.map((t) => `- [${t.name}](#${anchor(t.name)}): ${summary(t.description)}`),
    '',
  ];
  for (const t of types) {
    const rule = rules.types.get(t.name);
    out.push(`## ${t.name}`, '', ...block(t.description));
    if (rule) {
      out.push(`Who may read it: ${readers(rule)}.${rule.audit ? ` Reading it is a read of a ${rule.audit} record, written to the audit trail.` : ''}`, '');
    }
    out.push('| field | type | description |', '|---|---|---|');
    for (const f of Object.values(t.getFields())) {
      const args = f.args.length ? `<br>${f.args.map((a) => `\`${a.name}\`: ${typeRef(a.type, 'types.md')}${a.description ? ` (${cell(a.description)})` : ''}`).join('<br>')}` : '';
      const note = fieldRuleNote(`${t.name}.${f.name}`, t.name, rules);
      const text = [cell(f.description), note, f.deprecationReason ? `Deprecated: ${cell(f.deprecationReason)}` : ''].filter(Boolean).join(' ');
      out.push(`| \`${f.name}\`${f.args.length ? '(…)' : ''} | ${typeRef(f.type, 'types.md')} | ${text}${args} |`);
    }
    out.push('');
  }
  return out.join('\n');
}

function enumsPage(schema: GraphQLSchema): string {
  const enums = Object.values(schema.getTypeMap())
    .filter((t): t is GraphQLEnumType => t instanceof GraphQLEnumType && !t.name.startsWith('__'))
    .sort((a, b) => a.name.localeCompare(b.name));
  const out = [
    '# Enums',
    '',
    generatedNote,
    '',
    'The code lists of the graph: national code lists that every city\'s own codes are mapped to, and the choices queries take. A client that switches over an enum\'s values should keep a default case: values are added when a code list grows.',
    '',
    ...enums.map((e) => `- [${e.name}](#${anchor(e.name)}): ${summary(e.description)}`),
    '',
  ];
  for (const e of enums) {
    out.push(`## ${e.name}`, '', ...block(e.description), '| value | description |', '|---|---|');
    for (const v of e.getValues()) out.push(`| \`${v.name}\` | ${cell(v.description)}${v.deprecationReason ? ` Deprecated: ${cell(v.deprecationReason)}` : ''} |`);
    out.push('');
  }
  return out.join('\n');
}

function inputsPage(schema: GraphQLSchema): string {
  const inputs = Object.values(schema.getTypeMap())
    .filter((t): t is GraphQLInputObjectType => t instanceof GraphQLInputObjectType)
    .sort((a, b) => a.name.localeCompare(b.name));
  const out = [
    '# Inputs',
    '',
    generatedNote,
    '',
    'The filters and ranges queries take as arguments.',
    '',
    ...inputs.map((i) => `- [${i.name}](#${anchor(i.name)}): ${summary(i.description)}`),
    '',
  ];
  for (const i of inputs) {
    out.push(`## ${i.name}`, '', ...block(i.description), '| field | type | default | description |', '|---|---|---|---|');
    for (const f of Object.values(i.getFields())) out.push(`| \`${f.name}\` | ${typeRef(f.type, 'inputs.md')} | ${defaultOf(f)} | ${cell(f.description)} |`);
    out.push('');
  }
  return out.join('\n');
}

function scalarsPage(schema: GraphQLSchema): string {
  const scalars = Object.values(schema.getTypeMap())
    .filter((t): t is GraphQLScalarType => t instanceof GraphQLScalarType && !isSpecifiedScalarType(t))
    .sort((a, b) => a.name.localeCompare(b.name));
  const out = [
    '# Scalars',
    '',
    generatedNote,
    '',
    "Besides GraphQL's own (`String`, `Int`: 32-bit, `Float`, `Boolean`, and `ID`: a string, opaque), the graph has these. Each travels in JSON as a string, in the format its description gives, both in answers and in variables.",
    '',
  ];
  for (const s of scalars) {
    out.push(`## ${s.name}`, '', ...block(s.description));
    if (s.specifiedByURL) out.push(`Specified by <${s.specifiedByURL}>.`, '');
  }
  return out.join('\n');
}

function indexPage(schema: GraphQLSchema): string {
  const count = (kind: new (...args: never[]) => unknown) => Object.values(schema.getTypeMap()).filter((t) => t instanceof kind && !t.name.startsWith('__') && t !== schema.getQueryType()).length;
  const customScalars = Object.values(schema.getTypeMap()).filter((t) => t instanceof GraphQLScalarType && !isSpecifiedScalarType(t)).length;
  return [
    '# The schema, field by field',
    '',
    generatedNote,
    '`npm test` fails while these pages differ from what the SDL says.',
    '',
    'The reference for analysts and dashboard builders of what the graph answers. For questions answered with one query each, see [docs/QUERIES.md](../QUERIES.md); for a typed client, [docs/CLIENTS.md](../CLIENTS.md).',
    '',
    `- [Queries](queries.md): the ${Object.keys(schema.getQueryType()!.getFields()).length} fields a question starts from, with their arguments`,
    `- [Types](types.md): the ${count(GraphQLObjectType)} types they return, field by field`,
    `- [Enums](enums.md): the ${count(GraphQLEnumType)} code lists and choices`,
    `- [Inputs](inputs.md): the ${count(GraphQLInputObjectType)} filters and ranges`,
    `- [Scalars](scalars.md): the ${customScalars} scalars of the graph and their formats`,
    '- [api.graphql](api.graphql): the whole API schema as SDL, for tools',
    '',
    '## Who may read what',
    '',
    'Each query and type names who may read it, from the `@access` rules of `schema/subgraphs/*.graphql`, which every subgraph enforces:',
    '',
    "- **operators of the record's own city**: an operator's token names a city; they read that city's records whole;",
    "- **operators**: operators of any city (catalogues of services and housing, without names);",
    '- **analysts**: every city, pseudonymised;',
    '- **the dashboard role**: published tables only, through the operations of `gateway/operations/dashboard/`; a field marked *published* withholds a small count (null, with a `SMALL_COUNT_SUPPRESSED` error).',
    '',
    'A field the caller may not read is null, and the answer carries a `FORBIDDEN_FIELD` error naming it. The roles are described in the [README](../../README.md#who-may-see-what).',
    '',
  ].join('\n');
}

/** Every file of docs/schema/, by name. */
export function renderSchemaDocs(supergraphSdl: string = readFileSync(supergraphPath, 'utf8'), rules: ReadRules = readRules()): Map<string, string> {
  const schema = apiSchemaOf(supergraphSdl);
  return new Map([
    ['README.md', indexPage(schema)],
    ['queries.md', queriesPage(schema, rules)],
    ['types.md', typesPage(schema, rules)],
    ['enums.md', enumsPage(schema)],
    ['inputs.md', inputsPage(schema)],
    ['scalars.md', scalarsPage(schema)],
    ['api.graphql', `${printSchema(schema)}\n`],
  ]);
}

/** The files of `dir` that differ from a fresh rendering, are missing, or are left over from an older one. */
export function staleSchemaDocs(dir: string = docsDir, files: Map<string, string> = renderSchemaDocs()): string[] {
  const stale = [...files].filter(([name, text]) => !existsSync(join(dir, name)) || readFileSync(join(dir, name), 'utf8') !== text).map(([name]) => name);
  const extra = existsSync(dir) ? readdirSync(dir).filter((name) => !files.has(name)) : [];
  return [...stale, ...extra].sort();
}

export function writeSchemaDocs(dir: string = docsDir, files: Map<string, string> = renderSchemaDocs()): void {
  mkdirSync(dir, { recursive: true });
  // A page of an older rendering would describe what the schema no longer has.
  for (const name of readdirSync(dir)) if (!files.has(name)) rmSync(join(dir, name), { recursive: true });
  for (const [name, text] of files) writeFileSync(join(dir, name), text);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const unknown = args.find((a) => a !== '--check');
  if (unknown) {
    console.error(`schema-docs: unknown option ${unknown}\nUsage: node --experimental-strip-types scripts/schema-docs.ts [--check]`);
    process.exit(2);
  }
  if (args.includes('--check')) {
    const stale = staleSchemaDocs();
    if (stale.length) {
      console.error(`docs/schema/ is stale (${stale.join(', ')}): run \`npm run schema:docs\`.`);
      process.exit(1);
    }
    console.log('docs/schema/ matches the schema.');
  } else {
    writeSchemaDocs();
    console.log(`Wrote ${docsDir}`);
  }
}
