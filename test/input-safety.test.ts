/**
 * Input safety: every argument is validated. Injection strings and 100 KB
 * strings in every string and ID argument of every query (found by walking the
 * supergraph's API schema, not listed by hand) answer a coded error or a normal
 * empty answer, never a 500 or a crash, never an echo of what was sent; and
 * the servers stay up. Each value is sent through the gateway and straight to
 * the subgraph that owns the field, with an analyst's token.
 */
import { readFileSync } from 'node:fs';
import { printSchema as printApiSchema, Supergraph } from '@apollo/federation-internals';
import {
  astFromValue,
  buildSchema,
  getNamedType,
  GraphQLBoolean,
  GraphQLFloat,
  GraphQLInt,
  isEnumType,
  isInputObjectType,
  isLeafType,
  isListType,
  isNonNullType,
  isObjectType,
  isInterfaceType,
  isScalarType,
  print,
  type GraphQLField,
  type GraphQLInputType,
  type GraphQLOutputType,
} from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../scripts/stack.ts';
import { supergraphPath } from '../schema/sdl.ts';
import { gql } from './helpers.ts';

// --- The values sent -------------------------------------------------------

/** About `bytes` bytes of UTF-8 mixing scripts, emoji, combining and invisible marks, a right-to-left override and a lone surrogate. */
function mixedUnicode(bytes: number): string {
  const units = ['é', 'ß', 'Ж', '中文', '日本語', '한국어', 'עברית', 'العربية', '🙂', '👩‍👩‍👧', '\u202E', '\u200B', 'e\u0301', '\uFEFF', '𝔘𝔫𝔦', '\uD800', 'ǅ', '\u0085', '\u2028'];
  const parts: string[] = [];
  let size = 0;
  for (let i = 0; size < bytes; i++) {
    const u = units[i % units.length]!;
    parts.push(u);
    size += Buffer.byteLength(u, 'utf8');
  }
  return parts.join('');
}

const KB100 = 100_000;
const hostile: ReadonlyArray<{ name: string; value: string }> = [
  { name: 'SQL tautology', value: "' OR 1=1 --" },
  { name: 'SQL drop', value: '"; DROP TABLE beneficiaries; --' },
  { name: 'script tag', value: '<script>alert(1)</script>' },
  { name: 'path traversal', value: '../../../../etc/passwd' },
  { name: 'JNDI lookup', value: '${jndi:ldap://x}' },
  { name: 'NoSQL operator', value: '{"$gt": ""}' },
  { name: 'NUL character', value: '\u0000' },
  { name: "100 KB of 'A'", value: 'A'.repeat(KB100) },
  { name: '100 KB of mixed unicode', value: mixedUnicode(KB100) },
];

// --- The arguments, from the schema ----------------------------------------

interface Slot {
  /** e.g. `beneficiaries(filter.cities)` */
  label: string;
  field: string;
  /** The subgraph that owns the field. */
  owner: string;
  /** The query, with the variables it declares. */
  query: string;
  /** The variables carrying `value` in the argument under test (and placeholders in required ones). */
  variables: (value: string) => Record<string, unknown>;
  /** The same query with `value` written in it as a literal, without variables. */
  literal: (value: string) => string;
}

/** Scalars that carry a string on the wire: String, ID and custom scalars (DateTime, Date...). */
const carriesString = (t: GraphQLInputType) => isScalarType(t) && ![GraphQLInt, GraphQLFloat, GraphQLBoolean].some((s) => s.name === t.name);

/** A valid value of a type, for required arguments and input fields other than the one under test. */
function placeholder(type: GraphQLInputType): unknown {
  if (isNonNullType(type)) return placeholder(type.ofType);
  if (isListType(type)) return [placeholder(type.ofType as GraphQLInputType)];
  if (isEnumType(type)) return type.getValues()[0]!.value;
  if (isInputObjectType(type)) return requiredFields(type, null);
  if (type.name === 'Int' || type.name === 'Float') return 1;
  if (type.name === 'Boolean') return false;
  return 'x';
}

function requiredFields(type: GraphQLInputType, except: string | null): Record<string, unknown> {
  if (!isInputObjectType(type)) return {};
  const out: Record<string, unknown> = {};
  for (const f of Object.values(type.getFields())) {
    if (f.name !== except && isNonNullType(f.type) && f.defaultValue === undefined) out[f.name] = placeholder(f.type);
  }
  return out;
}

/** Every place in an argument's type where a string goes, with how to build the argument around it. */
function stringPlaces(type: GraphQLInputType, path: string[], wrap: (v: unknown) => unknown, depth = 0): Array<{ path: string[]; build: (v: string) => unknown }> {
  if (depth > 6) return [];
  if (isNonNullType(type)) return stringPlaces(type.ofType, path, wrap, depth);
  if (isListType(type)) return stringPlaces(type.ofType as GraphQLInputType, path, (v) => wrap([v]), depth);
  if (isInputObjectType(type)) {
    return Object.values(type.getFields()).flatMap((f) =>
      stringPlaces(f.type, [...path, f.name], (v) => wrap({ ...requiredFields(type, f.name), [f.name]: v }), depth + 1),
    );
  }
  if (carriesString(type)) return [{ path, build: (v) => wrap(v) }];
  return [];
}

/** `{ __typename <first plain scalar> }` for an object, nothing for a leaf. */
function selectionFor(type: GraphQLOutputType): string {
  const named = getNamedType(type);
  if (isLeafType(named)) return '';
  if (isObjectType(named) || isInterfaceType(named)) {
    const scalar = Object.values(named.getFields()).find((f) => isLeafType(getNamedType(f.type)) && f.args.every((a) => !isNonNullType(a.type)));
    return `{ __typename ${scalar?.name ?? ''} }`;
  }
  return '{ __typename }';
}

function slotsOf(): { slots: Slot[]; fieldsWithArgs: string[] } {
  const supergraph = Supergraph.build(readFileSync(supergraphPath, 'utf8'));
  // Printed and rebuilt: federation-internals loads graphql's CommonJS build, this file its ES modules.
  const api = buildSchema(printApiSchema(supergraph.apiSchema()));
  const subgraphs = [...supergraph.subgraphs()];
  const slots: Slot[] = [];
  const fieldsWithArgs: string[] = [];
  for (const field of Object.values(api.getQueryType()!.getFields()) as GraphQLField<unknown, unknown>[]) {
    if (field.args.length) fieldsWithArgs.push(field.name);
    const owners = subgraphs.filter((s) => s.schema.schemaDefinition.rootType('query')?.field(field.name)).map((s) => s.name);
    if (owners.length !== 1) throw new Error(`Query.${field.name} is owned by ${owners.length} subgraphs (${owners.join(', ')}); this test sends it to one`);
    const required = field.args.filter((a) => isNonNullType(a.type) && a.defaultValue === undefined);
    for (const arg of field.args) {
      for (const place of stringPlaces(arg.type, [arg.name], (v) => v)) {
        const used = [arg, ...required.filter((r) => r !== arg)];
        const variables = (value: string) => ({
          ...Object.fromEntries(required.filter((r) => r !== arg).map((r) => [r.name, placeholder(r.type)])),
          [arg.name]: place.build(value),
        });
        const query = `query Probe(${used.map((a) => `$${a.name}: ${a.type.toString()}`).join(', ')}) { ${field.name}(${used.map((a) => `${a.name}: $${a.name}`).join(', ')}) ${selectionFor(field.type)} }`;
        slots.push({
          label: `${field.name}(${place.path.join('.')})`,
          field: field.name,
          owner: owners[0]!,
          query,
          variables,
          literal: (value) => {
            const vars = variables(value);
            const args = used.map((a) => `${a.name}: ${print(astFromValue(vars[a.name], a.type)!)}`).join(', ');
            return `{ ${field.name}(${args}) ${selectionFor(field.type)} }`;
          },
        });
      }
    }
  }
  return { slots, fieldsWithArgs };
}

const { slots, fieldsWithArgs } = slotsOf();
const targets = ['gateway', 'subgraph'] as const;
const cases = slots.length * hostile.length * targets.length;

// --- What an answer may be -------------------------------------------------

/** Codes an answer to a hostile argument may carry: the client's mistake, or a rule. */
const allowedCodes = new Set(['BAD_USER_INPUT', 'GRAPHQL_VALIDATION_FAILED', 'FORBIDDEN', 'FORBIDDEN_FIELD']);
const MAX_MESSAGE = 500;
const MAX_RESPONSE = 10_240;

interface RawAnswer {
  status: number;
  text: string;
  json?: { data?: Record<string, unknown> | null; errors?: Array<{ message?: unknown; extensions?: { code?: unknown } }> };
}

async function post(url: string, body: string, token: string, extra: Record<string, string> = {}): Promise<RawAnswer> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, ...extra }, body });
  const text = await res.text();
  let json: RawAnswer['json'];
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, text, json };
}

const short = (s: string) => (s.length > 120 ? `${s.slice(0, 120)}... (${s.length} chars)` : s);

/**
 * What is wrong with an answer to a hostile value, if anything: a 5xx, a body
 * that is not JSON, an uncoded or unexpected error, a long message, an echo of
 * a long value, a big response.
 */
function problemsOf(a: RawAnswer, sent: string, codes: ReadonlySet<string> = allowedCodes): string[] {
  const problems: string[] = [];
  if (a.status >= 500) problems.push(`HTTP ${a.status}`);
  const bytes = Buffer.byteLength(a.text, 'utf8');
  if (bytes > MAX_RESPONSE) problems.push(`response of ${bytes} bytes`);
  if (sent.length >= 1000 && a.text.includes(JSON.stringify(sent.slice(0, 1000)).slice(1, -1))) problems.push('the value is echoed back');
  if (!a.json || typeof a.json !== 'object') return [...problems, `body is not JSON: ${short(a.text)}`];
  const errors = a.json.errors ?? [];
  if (!Array.isArray(errors)) return [...problems, `errors is not a list: ${short(a.text)}`];
  if (!errors.length && (a.json.data === undefined || a.json.data === null)) problems.push(`neither data nor errors: ${short(a.text)}`);
  for (const e of errors) {
    const code = e?.extensions?.code;
    const message = typeof e?.message === 'string' ? e.message : '';
    if (typeof code !== 'string') problems.push(`uncoded error: ${short(message)}`);
    else if (!codes.has(code)) problems.push(`error coded ${code}: ${short(message)}`);
    if (message.length >= MAX_MESSAGE) problems.push(`error message of ${message.length} characters: ${short(message)}`);
  }
  return problems;
}

// --- The stack ---------------------------------------------------------------

let stack: Stack;
let analyst: string;

beforeAll(async () => {
  stack = await startStack({ port: 0 });
  analyst = await stack.token('analyst');
});
afterAll(async () => {
  await stack?.close();
});

const urlOf = (target: (typeof targets)[number], slot: Slot) => (target === 'gateway' ? stack.gatewayUrl : stack.subgraphUrls[slot.owner as keyof Stack['subgraphUrls']]);
const allUrls = () => [['gateway', stack.gatewayUrl] as const, ...Object.entries(stack.subgraphUrls).map(([n, u]) => [n, u] as const)];

/** Runs `jobs` a few at a time: bounded load on a small machine. */
async function pooled<T>(jobs: Array<() => Promise<T>>, width = 4): Promise<T[]> {
  const out: T[] = new Array(jobs.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < jobs.length) {
        const i = next++;
        out[i] = await jobs[i]!();
      }
    }),
  );
  return out;
}

describe('the schema walk', () => {
  it('finds the string and ID arguments of the queries, inside input objects and lists too', () => {
    expect(slots.length).toBeGreaterThanOrEqual(5);
    expect(cases).toBeGreaterThan(10);
    // Input objects and lists are walked into (e.g. a filter's list of city codes).
    expect(slots.some((s) => s.label.includes('.'))).toBe(true);
    // Each owner is a subgraph the stack runs.
    for (const s of slots) expect(['registry', 'people', 'services', 'housing']).toContain(s.owner);
    // Every query that takes arguments was looked at; most of them take a string.
    expect(new Set(slots.map((s) => s.field)).size).toBeGreaterThanOrEqual(Math.ceil(fieldsWithArgs.length / 2));
  });
});

describe('every string and ID argument of every query', () => {
  /** A refusal by role: the argument was never looked at. */
  const refusedByRole = (a: RawAnswer) => !!a.json?.errors?.length && a.json.errors.every((e) => ['FORBIDDEN', 'FORBIDDEN_FIELD'].includes(String(e.extensions?.code)));

  for (const slot of slots) {
    for (const target of targets) {
      const where = target === 'gateway' ? 'through the gateway' : `straight from the ${slot.owner} subgraph`;
      it(`${slot.label} answers injection strings and 100 KB values with a coded error or an empty answer, ${where}`, async () => {
        const url = urlOf(target, slot);
        const sendAll = (token: string, role: string) =>
          pooled(
            hostile.map((h) => async () => {
              const a = await post(url, JSON.stringify({ query: slot.query, variables: slot.variables(h.value) }), token);
              return { h, a, role, problems: problemsOf(a, h.value) };
            }),
          );
        const answers = await sendAll(analyst, 'analyst');
        // A field analysts may not read is refused before its arguments are read: ask it as one who may.
        if (answers.every((x) => refusedByRole(x.a))) answers.push(...(await sendAll(await stack.token('operator', { city: '082053' }), 'operator')));
        const bad = answers.filter((x) => x.problems.length).map((x) => `${x.role}, ${x.h.name}: ${x.problems.join('; ')}`);
        expect(bad).toEqual([]);
        // Each answer is the field's own: an error, or data naming the field (null or empty).
        for (const { a } of answers) {
          if (!a.json?.errors?.length) expect(a.json?.data).toHaveProperty(slot.field);
        }
      });
    }
  }
});

describe('oversized requests', () => {
  const longName = 'A'.repeat(KB100);
  /** What a request's envelope (not its arguments) may be answered with. */
  const envelopeCodes = new Set(['BAD_USER_INPUT', 'GRAPHQL_VALIDATION_FAILED', 'GRAPHQL_PARSE_FAILED', 'BAD_REQUEST', 'OPERATION_RESOLUTION_FAILURE', 'DEMAND_LIMIT_EXCEEDED']);

  it('answers an operation named with 100 KB, and an unknown 100 KB operation name, without a 5xx or an echo', async () => {
    const jobs = allUrls().flatMap(([name, url]) => [
      async () => {
        const a = await post(url, JSON.stringify({ query: `query ${longName} { __typename }`, operationName: longName }), analyst);
        return { what: `${name}, operation named with 100 KB`, a, problems: problemsOf(a, longName, envelopeCodes) };
      },
      async () => {
        const a = await post(url, JSON.stringify({ query: 'query Small { __typename }', operationName: longName }), analyst);
        return { what: `${name}, unknown 100 KB operationName`, a, problems: problemsOf(a, longName, envelopeCodes) };
      },
    ]);
    const answers = await pooled(jobs);
    expect(answers.filter((x) => x.problems.length).map((x) => `${x.what}: ${x.problems.join('; ')}`)).toEqual([]);
  });

  it('answers a query that reaches a subgraph under a 100 KB operation name, through the gateway, with its data or a coded refusal', async () => {
    const a = await post(stack.gatewayUrl, JSON.stringify({ query: `query ${longName} { cities { code } }`, operationName: longName }), analyst);
    expect(problemsOf(a, longName, envelopeCodes)).toEqual([]);
  });

  it('answers a 900 KB query body (under the 1 MB limit) without a 5xx or an echo', async () => {
    const padding = 'A'.repeat(900_000);
    const jobs = allUrls().flatMap(([name, url]) => [
      async () => {
        // A comment: nothing for the parser's token limit to count.
        const query = `# ${padding}\n{ __typename }`;
        const body = JSON.stringify({ query });
        const a = await post(url, body, analyst);
        // A comment is no mistake: the query is answered.
        const answered = a.status === 200 && a.json?.data?.__typename === 'Query' ? [] : [`not answered: ${short(a.text)}`];
        return { what: `${name}, 900 KB comment (${body.length} bytes)`, a, problems: [...problemsOf(a, padding, envelopeCodes), ...answered] };
      },
      async () => {
        // A literal argument (of a field the target serves): checked by the same rules as a variable.
        const slot = slots.find((s) => name === 'gateway' || s.owner === name);
        const query = slot ? slot.literal(padding) : `{ __typename(x: "${padding}") }`;
        const body = JSON.stringify({ query });
        const a = await post(url, body, analyst);
        return { what: `${name}, 900 KB string literal (${body.length} bytes)`, a, problems: problemsOf(a, padding, new Set([...envelopeCodes, ...allowedCodes])) };
      },
    ]);
    const answers = await pooled(jobs, 2);
    expect(answers.filter((x) => x.problems.length).map((x) => `${x.what}: ${x.problems.join('; ')}`)).toEqual([]);
  });

  it('refuses a body over 1 MB with 413 and a coded error', async () => {
    const body = JSON.stringify({ query: '{ __typename }', variables: { pad: 'A'.repeat(1_100_000) } });
    const answers: string[] = [];
    for (const [name, url] of allUrls()) {
      const a = await post(url, body, analyst).catch((e: Error) => ({ status: 0, text: `request failed: ${e.message} ${String((e.cause as Error | undefined)?.message ?? '')}`, json: undefined }));
      answers.push(`${name}: ${a.status} ${String(a.json?.errors?.[0]?.extensions?.code)} ${Buffer.byteLength(a.text) <= MAX_RESPONSE ? 'small' : 'big'}`);
    }
    expect(answers).toEqual(allUrls().map(([name]) => `${name}: 413 BAD_REQUEST small`));
  });
});

describe('after all of that', () => {
  it('the gateway and every subgraph are still up, and a normal query still answers', async () => {
    const health = await fetch(stack.healthUrl);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok', subgraphs: { registry: 'ok', people: 'ok', services: 'ok', housing: 'ok' } });
    const r = await gql(stack.gatewayUrl, '{ cities { code } }', undefined, { authorization: `Bearer ${analyst}` });
    expect(r.status).toBe(200);
    expect(r.errors).toBeUndefined();
    expect((r.data!.cities as Array<{ code: string }>).length).toBeGreaterThan(0);
    for (const c of r.data!.cities as Array<{ code: string }>) expect(c.code).toMatch(/^\d{6}$/);
  });
});
