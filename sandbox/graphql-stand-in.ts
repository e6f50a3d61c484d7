/**
 * Stand-in for a city whose system has a GraphQL API of its own (not
 * federated, its own Italian names), derived from the city's `graphql`
 * source config read in reverse: the config says which query the graph
 * sends, where the records and their total are in the answer, which
 * variables carry paging, batch look-ups and filters, and where each
 * canonical field sits in a record; the stand-in builds the schema under
 * which every entity's query is valid, and answers it from rows keyed as the
 * config writes its fields. The config stays the one place a city's mapping
 * lives: a stand-in cannot drift from it.
 *
 * The schema (`deriveGraphqlSchema`), from each entity's query document:
 * - the root fields it selects, with the arguments it passes, each typed as
 *   the variable it passes (an inline literal typed from the literal);
 * - an input object for each variable declared with a named type of its own
 *   (`$filtro: FiltroAssistiti`), holding the dotted paths the config names
 *   in it (`filtro.codici`: `[ID!]`; a code list `[String!]`; a date bound
 *   `String`; paging `Int`); a named type the config names nothing in is a
 *   scalar taking any value;
 * - an object type along each selection, named from its path (PascalCase;
 *   a fragment's type condition names it instead): the total `Int!`, the list
 *   of records at itemsPath, and in a record `ID` for ids, `Int` for capacity
 *   and occupancy, a list for vulnerabilities (of strings at a leaf, of
 *   objects through one: `fragilita.codice`; a string when the rows hold them
 *   joined), `String` for the rest, nullable, answering null when the rows do
 *   not hold them.
 * A query it cannot serve (conflicting shapes, a fragment on a scalar, a
 * dotted variable path into a scalar, anything graphql's validation refuses
 * against the derived schema) fails at creation, naming the entity.
 *
 * Rows are keyed by the config's field specs as written: `codice`, the flat
 * key `persona.nome`, each part of a template (`{giorno}/{mese}/{anno}`: keys
 * `giorno`, `mese`, `anno`); a list under `fragilita.codice` becomes
 * `fragilita: [{ codice }, ...]`. Columns the query does not select are never
 * sent.
 *
 * The meaning of a request comes from the config, not from argument names:
 * the variables at the config's paths. Paging is by `offset` (position from
 * 0) or `page` (number from `firstPage`); a size above `maxPageSize` is
 * refused (BAD_USER_INPUT), as such APIs do, and so is a batch longer than
 * `maxBatchSize`. Ids match exactly, codes without regard to case (any of a
 * list); dates inclusively, both sides read in the source's date format. The
 * total counts every record the variables select, over all pages.
 *
 * It answers as GraphQL servers do: 200 with `errors` coded in
 * `extensions.code` (UNAUTHENTICATED for a wrong key, GRAPHQL_PARSE_FAILED,
 * GRAPHQL_VALIDATION_FAILED, BAD_USER_INPUT), and partial data for the
 * records named in `brokenRecords`: their first nested object (the head of
 * the first dotted non-id field, e.g. `persona`) is null with an error at its
 * path, as when the registry behind it is down for them; an entity without a
 * nested object sends such a record as null, with an error at its index.
 *
 * The sandbox's faults apply as to every stand-in (faults.ts): `rename`
 * renames a key of the answer, as a new release of the schema might.
 */
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import {
  GraphQLError,
  Kind,
  buildSchema,
  graphql,
  parse,
  print,
  validate,
  type DocumentNode,
  type ExecutionResult,
  type FragmentDefinitionNode,
  type GraphQLResolveInfo,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type TypeNode,
  type ValueNode,
  type VariableDefinitionNode,
} from 'graphql';
import { filterablePaths } from '../adapters/config.ts';
import type { GraphqlEntityConfig, GraphqlSourceConfig } from '../adapters/connectors/graphql-config.ts';
import { fieldValue } from '../adapters/mapping.ts';
import type { RawRow } from '../adapters/port.ts';
import type { EntityName } from '../schema/records.ts';
import { createStandInServer, json, type Fault, type StandIn, type StandInResponse } from './faults.ts';
import { isoOf } from './source-dates.ts';

/** What the stand-in reads of a city's graphql source config. */
export type GraphqlStandInSource = Pick<GraphqlSourceConfig, 'id' | 'paging' | 'maxBatchSize' | 'entities' | 'dateFormat'> & {
  /** Without it, the stand-in asks for no key. */
  auth?: { header: string; prefix: string } | undefined;
};

export interface GraphqlStandInOptions {
  source: GraphqlStandInSource;
  /** Per entity, its rows keyed by the config's field specs as written (see above); served in the order given. */
  rows: ReadonlyMap<EntityName, readonly RawRow[]>;
  apiKey: string;
  /** Path of the source's baseUrl below the origin, e.g. "/bari/graphql"; each entity answers at basePath + its path. */
  basePath?: string;
  /** Per entity, the localIds whose nested object cannot be read: served as null, with an error pointing at it. */
  brokenRecords?: ReadonlyMap<EntityName, ReadonlySet<string>>;
  host?: string;
  /** 0 = an ephemeral port. */
  port?: number;
  fault?: Fault | null;
  /** Seed of the fault PRNG (flaky, garbage). */
  seed?: number;
}

export interface GraphqlStandIn extends StandIn {
  /** What the config's `baseUrl` must be: origin and basePath. */
  readonly url: string;
}

export async function createGraphqlStandIn(options: GraphqlStandInOptions): Promise<GraphqlStandIn> {
  const { source, rows, apiKey } = options;
  const basePath = (options.basePath ?? '').replace(/\/+$/, '');
  const derived = deriveSchema(source, rows);
  const broken = options.brokenRecords ?? new Map<EntityName, ReadonlySet<string>>();
  const expected = source.auth ? Buffer.from(source.auth.prefix + apiKey) : null;
  const endpoints = new Set(Object.values(source.entities).flatMap((e) => (e ? [endpointOf(basePath + e.path)] : [])));

  /** Each entity's answer is worked out once per request, whichever of its root fields asks first. */
  type Context = { answers: Map<EntityName, Record<string, unknown>> };
  const rootValue: Record<string, (args: unknown, context: Context, info: GraphQLResolveInfo) => unknown> = {};
  for (const plan of derived.plans) {
    for (const field of plan.rootFields) {
      rootValue[field] = (_args, context, info) => {
        let answer = context.answers.get(plan.entity);
        if (!answer) {
          answer = answerFor(plan, rows.get(plan.entity) ?? [], broken.get(plan.entity), source, info.variableValues);
          context.answers.set(plan.entity, answer);
        }
        return answer[field];
      };
    }
  }

  function authorised(header: string | string[] | undefined): boolean {
    if (expected === null) return true;
    if (typeof header !== 'string') return false;
    const given = Buffer.from(header);
    return given.length === expected.length && timingSafeEqual(given, expected);
  }

  /** The answer to one request, before any fault. */
  async function handle(req: IncomingMessage, url: URL, body: Buffer): Promise<StandInResponse> {
    const path = url.pathname;
    if (!endpoints.has(endpointOf(path))) return json(404, { errors: [{ message: `nessun servizio su ${path}` }] });
    if (req.method !== 'POST') return json(405, { errors: [{ message: `${req.method} non consentito: usare POST` }] }, { allow: 'POST' });
    if (!authorised(source.auth ? req.headers[source.auth.header.toLowerCase()] : undefined)) {
      return json(200, { errors: [{ message: 'token mancante o non valido', extensions: { code: 'UNAUTHENTICATED' } }], data: null });
    }
    let request: { query?: unknown; variables?: unknown; operationName?: unknown };
    try {
      request = JSON.parse(body.toString('utf8')) as typeof request;
    } catch {
      return json(400, { errors: [{ message: 'corpo della richiesta non JSON' }] });
    }
    if (typeof request?.query !== 'string') return json(400, { errors: [{ message: 'manca "query"' }] });
    const result = await graphql({
      schema: derived.schema,
      source: request.query,
      rootValue,
      contextValue: { answers: new Map() } satisfies Context,
      variableValues: (request.variables ?? undefined) as Record<string, unknown> | undefined,
      operationName: typeof request.operationName === 'string' ? request.operationName : undefined,
    });
    return json(200, coded(result));
  }

  const server = await createStandInServer({
    host: options.host ?? '127.0.0.1',
    port: options.port ?? 0,
    handler: handle,
    fault: options.fault ?? null,
    seed: options.seed ?? 0,
  });
  return Object.assign(server, { url: server.origin + basePath }) as GraphqlStandIn;
}

/**
 * The schema a stand-in derives from a source config, e.g. to read it with
 * `printSchema`. The rows tell only whether vulnerabilities at a leaf are a
 * list or one joined string.
 */
export function deriveGraphqlSchema(source: GraphqlStandInSource, rows: ReadonlyMap<EntityName, readonly RawRow[]> = new Map()): GraphQLSchema {
  return deriveSchema(source, rows).schema;
}

/** A request path as compared with the endpoints: without a trailing slash, `/` for the origin itself. */
function endpointOf(path: string): string {
  return path.replace(/\/+$/, '') || '/';
}

// ---------------------------------------------------------------------------
// The schema, read from the query documents.

/** One field of a selection, merged over its occurrences (repeats, aliases, fragments). */
interface Selected {
  /** The field's name in the schema. */
  name: string;
  /** Its response keys (aliases, or the name), first seen first: the config's paths are written in them. */
  keys: string[];
  args: Map<string, ValueNode>;
  /** By field name; null for a leaf. */
  children: Map<string, Selected> | null;
  /** The type a fragment's type condition gives it. */
  typeName?: string;
}

/** What the stand-in knows of one entity's query. */
interface EntityPlan {
  entity: EntityName;
  config: GraphqlEntityConfig;
  /** The root fields on the way to the records or their total: answered by this entity. */
  rootFields: string[];
  root: Map<string, Selected>;
  items: Selected;
  total: Selected;
  /** Field name of the nested object of a record that breaks, if the records have one. */
  brokenHead: string | null;
  /** Response-key path in a record of the list of objects that holds the vulnerabilities, if they are held so. */
  listOfObjects: string | null;
}

const BUILT_IN_SCALARS = new Set(['String', 'Int', 'Float', 'Boolean', 'ID']);
const ID_FIELDS = new Set(['localId', 'beneficiaryId', 'serviceId', 'resourceId']);
const COUNT_FIELDS = new Set(['capacity', 'occupancy']);

function deriveSchema(source: GraphqlStandInSource, rows: ReadonlyMap<EntityName, readonly RawRow[]>): { schema: GraphQLSchema; plans: EntityPlan[] } {
  const types = new TypeRegistry();
  const entities = (Object.entries(source.entities) as Array<[EntityName, GraphqlEntityConfig | undefined]>).filter(
    (e): e is [EntityName, GraphqlEntityConfig] => e[1] !== undefined,
  );
  const fail = (entity: EntityName, message: string) => new Error(`source "${source.id}" ${entity}: ${message}`);

  const documents = entities.map(([entity, config]) => {
    let document: DocumentNode;
    try {
      document = parse(config.query);
    } catch (e) {
      throw fail(entity, `the query does not parse: ${(e as Error).message}`);
    }
    const operations = document.definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
    if (operations.length !== 1 || operations[0]!.operation !== 'query') throw fail(entity, 'the document must hold exactly one query');
    return { entity, config, document, operation: operations[0]! };
  });

  // Input types first: their names are the queries' own, and the object types must not take them.
  const inputs = new Map<string, Map<string, { type: string; entity: EntityName }>>();
  const scalars = new Set<string>();
  for (const { entity, config, operation } of documents) {
    const declared = new Map((operation.variableDefinitions ?? []).map((v) => [v.variable.name.value, v]));
    for (const { path, type } of variablePaths(source, entity, config)) {
      const [variable, ...rest] = path.split('.');
      const definition = declared.get(variable!);
      if (!definition) throw fail(entity, `the query declares no variable $${variable} (for ${path})`);
      const named = namedType(definition.type);
      if (rest.length === 0) continue;
      if (BUILT_IN_SCALARS.has(named)) throw fail(entity, `$${variable} is a ${named}, yet the config names ${path} inside it`);
      let owner = named;
      for (const [i, key] of rest.entries()) {
        const fields = inputs.get(owner) ?? new Map<string, { type: string; entity: EntityName }>();
        inputs.set(owner, fields);
        const wanted = i === rest.length - 1 ? type : `${owner}${pascal(key)}`;
        const had = fields.get(key);
        if (had && had.type !== wanted) throw fail(entity, `${path} makes ${owner}.${key} a ${wanted}, ${had.entity} a ${had.type}`);
        fields.set(key, { type: wanted, entity });
        owner = wanted;
      }
    }
    for (const definition of declared.values()) {
      const named = namedType(definition.type);
      if (!BUILT_IN_SCALARS.has(named)) scalars.add(named);
    }
  }
  for (const name of inputs.keys()) scalars.delete(name);
  for (const [name, fields] of inputs) types.fix(name, 'input', `{ ${[...fields].map(([k, f]) => `${k}: ${f.type}`).join(' ')} }`);
  for (const name of scalars) types.fix(name, 'scalar', '');

  const plans: EntityPlan[] = [];
  const rootOwners = new Map<string, { entity: EntityName; sdl: string; answers: boolean }>();
  for (const { entity, config, document, operation } of documents) {
    const problem = (message: string) => fail(entity, message);
    const fragments = new Map(
      document.definitions.filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION).map((d) => [d.name.value, d]),
    );
    const root: Selected = { name: '', keys: [], args: new Map(), children: new Map(), typeName: 'Query' };
    collect(operation.selectionSet, root, fragments, new Set(), problem);
    const items = selectedAt(root, config.itemsPath);
    const total = selectedAt(root, config.totalPath);
    if (!items) throw problem(`the query selects no "${config.itemsPath}"`);
    if (!total) throw problem(`the query selects no "${config.totalPath}"`);
    if (!items.children) throw problem(`"${config.itemsPath}" is selected without the fields of its records`);
    if (total.children) throw problem(`"${config.totalPath}" is selected as an object, not a number`);

    for (const key of Object.keys(config.batchVariables)) {
      if ((config.fields as Record<string, string | undefined>)[key] === undefined) throw problem(`batchVariables.${key} looks up a field the config does not map`);
    }
    const declared = new Map((operation.variableDefinitions ?? []).map((v) => [v.variable.name.value, v]));
    const shape = recordShape(entity, config, rows.get(entity) ?? [], problem);
    const argsOf = (field: Selected) => argumentsSdl(field, declared, types, problem);
    const onTheWay = (node: Selected): boolean => node === items || node === total || [...(node.children?.values() ?? [])].some(onTheWay);

    /** The type of a field of the answer outside the records: a wrapper on the way to them, the list, the total, or a field nobody reads. */
    const answerType = (node: Selected, names: string[]): string => {
      if (node === total) return 'Int!';
      if (node === items) return `[${recordType(node, names, [], shape, types, argsOf, problem)}]!`;
      if (!node.children) return 'String';
      const fields = [...node.children.values()].map((c) => `${c.name}${argsOf(c)}: ${answerType(c, [...names, c.name])}`);
      const name = types.object(node, names, `{ ${fields.join(' ')} }`, problem);
      return onTheWay(node) ? `${name}!` : name;
    };

    const rootFields: string[] = [];
    for (const field of root.children!.values()) {
      const sdl = `${field.name}${argsOf(field)}: ${answerType(field, [field.name])}`;
      const answers = onTheWay(field);
      const other = rootOwners.get(field.name);
      // A root field answers for one entity: two entities could not tell their requests apart.
      if (other && (other.sdl !== sdl || other.answers || answers)) throw problem(`its query's root field "${field.name}" is also ${other.entity}'s: give each entity its own`);
      rootOwners.set(field.name, { entity, sdl, answers });
      if (answers) rootFields.push(field.name);
    }
    plans.push({ entity, config, rootFields, root: root.children!, items, total, brokenHead: brokenHeadOf(config, items, shape.listOfObjects), listOfObjects: shape.listOfObjects });
  }

  const sdl = `type Query { ${[...rootOwners.values()].map((r) => r.sdl).join(' ')} }\n${types.sdl()}`;
  let schema: GraphQLSchema;
  try {
    schema = buildSchema(sdl);
  } catch (e) {
    throw new Error(`source "${source.id}": the queries give no consistent schema: ${(e as Error).message}`);
  }
  for (const { entity, document } of documents) {
    const [first] = validate(schema, document);
    if (first) throw fail(entity, `the query cannot be served: ${first.message}`);
  }
  return { schema, plans };
}

/** Every variable path the config names for an entity, with the type of the value it carries. */
function variablePaths(source: GraphqlStandInSource, entity: EntityName, config: GraphqlEntityConfig): Array<{ path: string; type: string }> {
  const out = [
    { path: source.paging.startVariable, type: 'Int' },
    { path: source.paging.sizeVariable, type: 'Int' },
  ];
  for (const path of Object.values(config.batchVariables)) if (path !== undefined) out.push({ path, type: '[ID!]' });
  for (const [canonical, variables] of Object.entries(config.filters)) {
    const f = filterablePaths[entity][canonical];
    if (!f) continue;
    if (typeof variables === 'string') out.push({ path: variables, type: f.kind === 'id' ? '[ID!]' : '[String!]' });
    else for (const path of [variables.from, variables.to]) if (path !== undefined) out.push({ path, type: 'String' });
  }
  return out;
}

/** Merges a selection set into `owner`, following fragments; a type condition names the owner's type. */
function collect(set: SelectionSetNode, owner: Selected, fragments: ReadonlyMap<string, FragmentDefinitionNode>, spreading: Set<string>, problem: (m: string) => Error): void {
  const adopt = (typeName: string) => {
    if (BUILT_IN_SCALARS.has(typeName)) throw problem(`a fragment on ${typeName}, a scalar, cannot select fields`);
    if (owner.typeName !== undefined && owner.typeName !== typeName) throw problem(`fragments on ${typeName} where the type is ${owner.typeName}`);
    owner.typeName = typeName;
  };
  for (const selection of set.selections) {
    if (selection.kind === Kind.INLINE_FRAGMENT) {
      if (selection.typeCondition) adopt(selection.typeCondition.name.value);
      collect(selection.selectionSet, owner, fragments, spreading, problem);
      continue;
    }
    if (selection.kind === Kind.FRAGMENT_SPREAD) {
      const name = selection.name.value;
      const fragment = fragments.get(name);
      if (!fragment) throw problem(`the query spreads a fragment it does not define: ${name}`);
      if (spreading.has(name)) throw problem(`fragment ${name} spreads itself`);
      adopt(fragment.typeCondition.name.value);
      collect(fragment.selectionSet, owner, fragments, new Set([...spreading, name]), problem);
      continue;
    }
    const name = selection.name.value;
    // Every object type answers __typename: nothing to derive from it.
    if (name === '__typename') continue;
    const key = selection.alias?.value ?? name;
    let field = owner.children!.get(name);
    if (!field) {
      field = { name, keys: [], args: new Map(), children: selection.selectionSet ? new Map() : null };
      owner.children!.set(name, field);
    } else if ((field.children === null) !== (selection.selectionSet === undefined)) {
      throw problem(`"${name}" is selected both as a value and as an object`);
    }
    if (!field.keys.includes(key)) field.keys.push(key);
    for (const arg of selection.arguments ?? []) if (!field.args.has(arg.name.value)) field.args.set(arg.name.value, arg.value);
    if (selection.selectionSet) collect(selection.selectionSet, field, fragments, spreading, problem);
  }
}

/** The field selected at a dotted path of response keys, below `owner`. */
function selectedAt(owner: Selected, path: string): Selected | undefined {
  let node: Selected | undefined = owner;
  for (const key of path.split('.')) node = childByKey(node, key);
  return node;
}

function childByKey(node: Selected | undefined, key: string): Selected | undefined {
  return node?.children ? [...node.children.values()].find((c) => c.keys.includes(key)) : undefined;
}

/** How the leaves of an entity's records are typed: by the canonical field the config maps them to. */
interface RecordShape {
  /** Response-key path in a record -> its scalar type. */
  leaves: Map<string, string>;
  /** Path of the object that is a list, one element per vulnerability (`fragilita` for `fragilita.codice`). */
  listOfObjects: string | null;
}

function recordShape(entity: EntityName, config: GraphqlEntityConfig, rows: readonly RawRow[], problem: (m: string) => Error): RecordShape {
  const leaves = new Map<string, string>();
  let listOfObjects: string | null = null;
  for (const [field, spec] of Object.entries(config.fields as Record<string, string>)) {
    if (spec.includes('{')) {
      for (const m of spec.matchAll(/\{([^{}]+)\}/g)) leaves.set(m[1]!.trim(), 'String');
      continue;
    }
    if (ID_FIELDS.has(field)) leaves.set(spec, 'ID');
    else if (COUNT_FIELDS.has(field)) leaves.set(spec, 'Int');
    else if (field === 'vulnerabilities' && entity === 'beneficiaries') {
      if (spec.includes('.')) {
        listOfObjects = spec.slice(0, spec.lastIndexOf('.'));
        leaves.set(spec, 'String');
      } else {
        // The rows show how the system writes them: a list, or one string the config splits with its listSeparator.
        const values = rows.map((r) => r[spec]).filter((v) => v !== null && v !== undefined);
        leaves.set(spec, values.length > 0 && values.every((v) => typeof v === 'string') ? 'String' : '[String]');
      }
    } else leaves.set(spec, 'String');
  }
  for (const path of leaves.keys()) {
    if (listOfObjects !== null && path !== listOfObjects && listOfObjects.startsWith(`${path}.`)) throw problem(`"${path}" is mapped as a value, yet the vulnerabilities go through it`);
  }
  return { leaves, listOfObjects };
}

/** The name of the object type of a record (or of an object inside one), defined with its fields. */
function recordType(
  node: Selected,
  names: string[],
  keyPath: string[],
  shape: RecordShape,
  types: TypeRegistry,
  argsOf: (field: Selected) => string,
  problem: (m: string) => Error,
): string {
  const fields = [...node.children!.values()].map((child) => {
    const paths = child.keys.map((k) => [...keyPath, k].join('.'));
    let type: string;
    if (!child.children) {
      type = paths.map((p) => shape.leaves.get(p)).find((t) => t !== undefined) ?? 'String';
    } else {
      const mapped = paths.find((p) => shape.leaves.has(p));
      if (mapped !== undefined) throw problem(`"${mapped}" is selected as an object, yet the config maps it as a value`);
      const inner = recordType(child, [...names, child.name], [...keyPath, child.keys[0]!], shape, types, argsOf, problem);
      type = shape.listOfObjects !== null && paths.includes(shape.listOfObjects) ? `[${inner}!]!` : inner;
    }
    return `${child.name}${argsOf(child)}: ${type}`;
  });
  return types.object(node, names, `{ ${fields.join(' ')} }`, problem);
}

/** The arguments of a field as SDL, each typed as the variable passed to it or from its literal. */
function argumentsSdl(field: Selected, declared: ReadonlyMap<string, VariableDefinitionNode>, types: TypeRegistry, problem: (m: string) => Error): string {
  if (field.args.size === 0) return '';
  const typeOf = (value: ValueNode, hint: string): string => {
    switch (value.kind) {
      case Kind.VARIABLE: {
        const definition = declared.get(value.name.value);
        if (!definition) throw problem(`the query passes $${value.name.value} without declaring it`);
        return print(definition.type);
      }
      case Kind.INT:
        return 'Int';
      case Kind.FLOAT:
        return 'Float';
      case Kind.BOOLEAN:
        return 'Boolean';
      case Kind.STRING:
      case Kind.NULL:
        return 'String';
      case Kind.ENUM:
        return types.define([pascal(hint)], 'enum', `{ ${value.value} }`);
      case Kind.LIST:
        return `[${value.values.length > 0 ? typeOf(value.values[0]!, hint) : 'String'}]`;
      case Kind.OBJECT: {
        const fields = value.fields.map((f) => `${f.name.value}: ${typeOf(f.value, `${hint}${pascal(f.name.value)}`)}`);
        return types.define([`${pascal(hint)}Input`], 'input', `{ ${fields.join(' ')} }`);
      }
    }
  };
  return `(${[...field.args].map(([name, value]) => `${name}: ${typeOf(value, `${field.name}${pascal(name)}`)}`).join(', ')})`;
}

/**
 * The field name of the records' first nested object (the head of the first
 * dotted non-id field), if they have one; never the list of vulnerabilities,
 * which cannot be null.
 */
function brokenHeadOf(config: GraphqlEntityConfig, items: Selected, listOfObjects: string | null): string | null {
  for (const [field, spec] of Object.entries(config.fields as Record<string, string>)) {
    if (ID_FIELDS.has(field)) continue;
    const path = spec.includes('{') ? (/\{([^{}]+)\}/.exec(spec)?.[1]?.trim() ?? '') : spec;
    if (!path.includes('.') || path.split('.')[0] === listOfObjects?.split('.')[0]) continue;
    const head = childByKey(items, path.split('.')[0]!);
    if (head?.children) return head.name;
  }
  return null;
}

/**
 * The named types of the derived schema. An object type is named from its
 * path (`Persona`, else `ElementiPersona`, ...), taking a name already given
 * only to an identical type; the names the queries write themselves (input
 * types, fragments' type conditions) are kept as written.
 */
class TypeRegistry {
  private readonly defined = new Map<string, string>();
  private readonly reserved = new Set(['Query', 'Mutation', 'Subscription', ...BUILT_IN_SCALARS]);

  /** A name the queries write themselves. */
  fix(name: string, keyword: 'input' | 'scalar', body: string): void {
    this.defined.set(name, `${keyword} ${name} ${body}`.trim());
  }

  /** The first candidate free or holding the same definition; else the last one numbered. */
  define(candidates: readonly string[], keyword: 'type' | 'input' | 'enum', body: string): string {
    const fits = (name: string) => !this.reserved.has(name) && (this.defined.get(name) ?? `${keyword} ${name} ${body}`) === `${keyword} ${name} ${body}`;
    const last = candidates[candidates.length - 1]!;
    const name = candidates.find(fits) ?? Array.from({ length: this.defined.size + 1 }, (_, i) => `${last}${i + 2}`).find(fits)!;
    this.defined.set(name, `${keyword} ${name} ${body}`);
    return name;
  }

  /** An object type for a selected field: named by its fragments' type condition, else from its path. */
  object(node: Selected, names: readonly string[], body: string, problem: (m: string) => Error): string {
    if (node.typeName !== undefined) {
      const had = this.defined.get(node.typeName);
      if (this.reserved.has(node.typeName) || (had !== undefined && had !== `type ${node.typeName} ${body}`)) {
        throw problem(`fragments on ${node.typeName} name two different types`);
      }
      this.defined.set(node.typeName, `type ${node.typeName} ${body}`);
      return node.typeName;
    }
    const candidates = names.map((_, i) => names.slice(names.length - 1 - i).map(pascal).join(''));
    return this.define(candidates, 'type', body);
  }

  sdl(): string {
    return [...this.defined.values()].join('\n');
  }
}

function namedType(type: TypeNode): string {
  return type.kind === Kind.NAMED_TYPE ? type.name.value : namedType(type.type);
}

/** `presa_in_carico` and `presaInCarico` -> `PresaInCarico`. */
function pascal(name: string): string {
  return name
    .split(/_+/)
    .filter((part) => part !== '')
    .map((part) => part[0]!.toUpperCase() + part.slice(1))
    .join('');
}

// ---------------------------------------------------------------------------
// Answering: the variables at the config's paths, over the rows.

function answerFor(
  plan: EntityPlan,
  all: readonly RawRow[],
  broken: ReadonlySet<string> | undefined,
  source: GraphqlStandInSource,
  variables: Readonly<Record<string, unknown>>,
): Record<string, unknown> {
  const { entity, config } = plan;
  const { paging } = source;
  const fields = config.fields as Record<string, string>;
  const refuse = (message: string) => new GraphQLError(message, { extensions: { code: 'BAD_USER_INPUT' } });
  let selected = all;

  for (const [key, path] of Object.entries(config.batchVariables)) {
    const value = path === undefined ? undefined : at(variables, path);
    if (value === null || value === undefined) continue;
    const wanted = listOf(value);
    if (wanted.length > source.maxBatchSize) throw refuse(`${path}: al massimo ${source.maxBatchSize} codici per richiesta`);
    const set = new Set(wanted.map((v) => String(v).trim()));
    selected = selected.filter((row) => set.has(textOf(fieldValue(row, fields[key]!)) ?? '\u0000'));
  }

  for (const [canonical, variablesOf] of Object.entries(config.filters)) {
    const f = filterablePaths[entity][canonical];
    if (!f) continue;
    const spec = fields[f.field]!;
    if (typeof variablesOf === 'string') {
      const value = at(variables, variablesOf);
      if (value === null || value === undefined) continue;
      // Ids match as written; codes as the collations behind such APIs compare them, without regard to case.
      const fold = f.kind === 'code' ? (s: string) => s.toLowerCase() : (s: string) => s;
      const set = new Set(listOf(value).map((v) => fold(String(v).trim())));
      selected = selected.filter((row) => {
        const v = textOf(fieldValue(row, spec));
        return v !== null && set.has(fold(v));
      });
      continue;
    }
    const bounds = [variablesOf.from, variablesOf.to].map((path) => {
      const value = path === undefined ? null : at(variables, path);
      if (value === null || value === undefined || value === '') return null;
      const iso = typeof value === 'string' ? isoOf(value.trim(), source.dateFormat) : null;
      if (iso === null) throw refuse(`${path}: data non valida, atteso ${source.dateFormat}`);
      return iso;
    });
    const [from, to] = bounds;
    if (from === null && to === null) continue;
    selected = selected.filter((row) => {
      const v = textOf(fieldValue(row, spec));
      const iso = v === null ? null : isoOf(v, source.dateFormat);
      // An empty date (an open end, a draft's signature) is in no range.
      return iso !== null && (from === null || iso >= from!) && (to === null || iso <= to!);
    });
  }

  const size = at(variables, paging.sizeVariable);
  const lowest = paging.style === 'page' ? paging.firstPage : 0;
  const start = at(variables, paging.startVariable) ?? lowest;
  if (!Number.isInteger(size) || (size as number) < 1 || (size as number) > paging.maxPageSize) {
    throw refuse(`${paging.sizeVariable} deve essere tra 1 e ${paging.maxPageSize}`);
  }
  if (!Number.isInteger(start) || (start as number) < lowest) throw refuse(`${paging.startVariable} deve essere un intero da ${lowest}`);
  const offset = paging.style === 'page' ? ((start as number) - lowest) * (size as number) : (start as number);
  const page = selected.slice(offset, offset + (size as number));

  const records = page.map((row) => {
    const isBroken = broken !== undefined && broken.has(textOf(fieldValue(row, fields['localId']!)) ?? '\u0000');
    const record = recordOf(row, plan.items.children!, [], plan.listOfObjects);
    if (!isBroken) return record;
    // A GraphQL error in place of a value is answered as null with the error at its path.
    const error = new GraphQLError(`${entity === 'beneficiaries' ? 'anagrafe' : 'archivio'} non disponibile`, {
      extensions: { code: entity === 'beneficiaries' ? 'ANAGRAFE_NON_DISPONIBILE' : 'ARCHIVIO_NON_DISPONIBILE' },
    });
    return plan.brokenHead === null ? error : { ...record, [plan.brokenHead]: error };
  });

  const wrap = (children: ReadonlyMap<string, Selected>): Record<string, unknown> => {
    const out: Record<string, unknown> = {};
    for (const child of children.values()) {
      if (child === plan.items) out[child.name] = records;
      else if (child === plan.total) out[child.name] = selected.length;
      else if (child.children) out[child.name] = wrap(child.children);
    }
    return out;
  };
  return wrap(plan.root);
}

/**
 * A row un-flattened into the record the query selects, keyed by field
 * names: the value of a leaf is the row's at its dotted path of response
 * keys; a list of objects (`fragilita.codice`) has one element per value of
 * the lists under it.
 */
function recordOf(row: RawRow, children: ReadonlyMap<string, Selected>, keyPath: readonly string[], listOfObjects: string | null): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const child of children.values()) {
    const paths = child.keys.map((k) => [...keyPath, k].join('.'));
    if (!child.children) {
      out[child.name] = paths.map((p) => row[p]).find((v) => v !== undefined) ?? null;
      continue;
    }
    if (listOfObjects !== null && paths.includes(listOfObjects)) {
      // Each leaf of the element holds the list of its values, in order: element i takes the i-th of each.
      const lists = [...child.children.values()]
        .filter((c) => !c.children)
        .map((c) => ({ name: c.name, values: listOf(c.keys.map((k) => row[`${listOfObjects}.${k}`]).find((v) => v !== undefined)) }));
      const length = Math.max(0, ...lists.map((l) => l.values.length));
      out[child.name] = Array.from({ length }, (_, i) => Object.fromEntries(lists.map((l) => [l.name, l.values[i] ?? null])));
      continue;
    }
    out[child.name] = recordOf(row, child.children, [...keyPath, child.keys[0]!], listOfObjects);
  }
  return out;
}

/** The value at a dotted path of an object, or undefined. */
function at(value: unknown, path: string): unknown {
  let node = value;
  for (const key of path.split('.')) {
    if (typeof node !== 'object' || node === null) return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}

function listOf(value: unknown): unknown[] {
  if (value === null || value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

/** A scalar of a row as trimmed text; null when empty or not a scalar. */
function textOf(value: unknown): string | null {
  if (typeof value !== 'string' && typeof value !== 'number') return null;
  const text = String(value).trim();
  return text === '' ? null : text;
}


/**
 * The result as JSON, each error with a code as Apollo's servers give it:
 * parse and validation failures (no data at all), input refused, else an
 * internal error.
 */
function coded(result: ExecutionResult): Record<string, unknown> {
  if (!result.errors) return { data: result.data };
  const whole = !('data' in result);
  const errors = result.errors.map((e) => {
    const own = e.extensions?.['code'];
    const code = typeof own === 'string' ? own : whole ? (e.message.startsWith('Syntax Error') ? 'GRAPHQL_PARSE_FAILED' : 'GRAPHQL_VALIDATION_FAILED') : 'INTERNAL_SERVER_ERROR';
    return { ...e.toJSON(), extensions: { ...e.extensions, code } };
  });
  return whole ? { errors } : { errors, data: result.data ?? null };
}
