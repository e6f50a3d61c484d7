/**
 * The config of a graphql source (see docs/CITIES.md): a city system with a
 * GraphQL API of its own (its own schema and names, not federated). Each
 * entity names the query document the graph sends, the dotted paths of the
 * list of records and of their total in the answer's `data`, and the
 * variables that carry paging, batch look-ups and filters.
 *
 * Every query document is checked once, at start, with graphql's `parse`:
 * one operation, a `query` (a connector only reads), every variable the
 * config names declared in it, every required variable one the graph always
 * sends, and the paths of the list, the total and the mapped fields selected
 * by it (as far as they can be followed without the city's schema: a
 * fragment stops the check). A mistake fails the config at start, naming the
 * file and the key, instead of failing each query later.
 */
import { Kind, parse, type DocumentNode, type OperationDefinitionNode, type SelectionNode, type SelectionSetNode } from 'graphql';
import { z } from 'zod';
import { entityNames, type EntityName } from '../../schema/records.ts';
import { Auth, MappingBase, fieldMap, filterMap } from '../source-base.ts';

const NAME = '[_A-Za-z][_0-9A-Za-z]*';
/** A dotted path of GraphQL names: a variable (`filtro.canali`), or a place in `data` or in a record (`assistiti.elementi`). */
const DottedPath = z.string().regex(new RegExp(`^${NAME}(\\.${NAME})*$`), 'a dotted path of GraphQL names, e.g. "assistiti.elementi"');

/**
 * How the API pages: `offset` (the variable `startVariable` is the position
 * of the first record, from 0) or `page` (it is a page number from
 * `firstPage`, pages of `sizeVariable` records).
 */
const Paging = z
  .object({
    style: z.enum(['offset', 'page']),
    startVariable: DottedPath,
    sizeVariable: DottedPath,
    firstPage: z.number().int().min(0).default(1),
    /** Most records the API returns for one request; larger slices are read in several requests. */
    maxPageSize: z.number().int().min(1).max(10_000).default(100),
  })
  .strict();

const GraphqlEntity = <E extends EntityName>(entity: E) =>
  z
    .object({
      /** Where the API answers, below the source's baseUrl (`/graphql`); empty when baseUrl is the endpoint itself. */
      path: z.string().regex(/^(\/[^?#]*)?$/, 'empty, or a path starting with "/"').default(''),
      /** The query document sent for this entity, e.g. `query ($primi: Int!, $dopo: Int) { assistiti(primi: $primi, dopo: $dopo) { totale elementi { codice } } }`. */
      query: z.string().min(1),
      /** Dotted path of the list of records in `data`. */
      itemsPath: DottedPath,
      /** Dotted path of the number of records (all pages; with filters, the matching ones) in `data`. */
      totalPath: DottedPath,
      /** Canonical field -> dotted path in a record as the query selects it (`persona.nome`; `fragilita.codice` for a list of objects). */
      fields: fieldMap(entity),
      /**
       * The variable (dotted, for a field of an input object) that selects
       * records by a list of ids (`localId`) or of beneficiary ids
       * (`beneficiaryId`). Without one, a look-up reads the whole entity.
       */
      batchVariables: z.object({ localId: DottedPath.optional(), beneficiaryId: DottedPath.optional() }).strict().default({}),
      /** Canonical path -> the variable that filters on it (`{ "from", "to" }` for a date range), as for a REST source. */
      filters: filterMap(entity).default({}),
    })
    .strict();

export const GraphqlSource = z
  .object({
    kind: z.literal('graphql'),
    ...MappingBase,
    auth: Auth.optional(),
    paging: Paging,
    /** Most ids in one look-up request. */
    maxBatchSize: z.number().int().min(1).max(1_000).default(100),
    entities: z
      .object(Object.fromEntries(entityNames.map((e) => [e, GraphqlEntity(e).optional()])) as {
        [E in EntityName]: z.ZodOptional<ReturnType<typeof GraphqlEntity<E>>>;
      })
      .strict(),
  })
  .strict()
  .superRefine((source, ctx) => {
    for (const [entity, e] of Object.entries(source.entities)) {
      if (!e) continue;
      for (const { key, message } of documentProblems(source.paging, e)) {
        ctx.addIssue({ code: 'custom', path: ['entities', entity, ...key], message });
      }
    }
  });
export type GraphqlSourceConfig = z.infer<typeof GraphqlSource>;
export type GraphqlEntityConfig = NonNullable<GraphqlSourceConfig['entities'][EntityName]>;
export type GraphqlPaging = GraphqlSourceConfig['paging'];

/** A problem with an entity's query document, and the config key it is about. */
export interface DocumentProblem {
  key: string[];
  message: string;
}

type EntityShape = Pick<GraphqlEntityConfig, 'query' | 'itemsPath' | 'totalPath' | 'fields' | 'batchVariables' | 'filters'>;

/** What is wrong with an entity's query document, given the variables and paths the config names; empty when nothing is. */
export function documentProblems(paging: Pick<GraphqlPaging, 'startVariable' | 'sizeVariable'>, entity: EntityShape): DocumentProblem[] {
  let document: DocumentNode;
  try {
    document = parse(entity.query);
  } catch (e) {
    const where = (e as { locations?: Array<{ line: number; column: number }> }).locations?.[0];
    const what = e instanceof Error ? e.message : 'unreadable';
    return [{ key: ['query'], message: `not a GraphQL document: ${what}${where ? ` (line ${where.line}, column ${where.column})` : ''}` }];
  }
  const operations = document.definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
  if (operations.length !== 1) return [{ key: ['query'], message: `holds ${operations.length} operations: give exactly one` }];
  const operation = operations[0]!;
  if (operation.operation !== 'query') return [{ key: ['query'], message: `is a ${operation.operation}: a connector only reads, give a query` }];

  const problems: DocumentProblem[] = [];
  const declared = new Map((operation.variableDefinitions ?? []).map((v) => [v.variable.name.value, v]));
  const root = (path: string) => path.split('.')[0]!;
  const sent: Array<{ key: string[]; path: string; list: boolean }> = [
    { key: ['paging', 'startVariable'], path: paging.startVariable, list: false },
    { key: ['paging', 'sizeVariable'], path: paging.sizeVariable, list: false },
    ...Object.entries(entity.batchVariables).flatMap(([k, v]) => (v === undefined ? [] : [{ key: ['batchVariables', k], path: v, list: true }])),
    ...Object.entries(entity.filters).flatMap(([k, v]) =>
      typeof v === 'string'
        ? [{ key: ['filters', k], path: v, list: true }]
        : Object.entries(v).flatMap(([bound, p]) => (p === undefined ? [] : [{ key: ['filters', k, bound], path: p, list: false }])),
    ),
  ];
  for (const { key, path, list } of sent) {
    const v = declared.get(root(path));
    if (!v) {
      problems.push({ key: key[0] === 'paging' ? ['query'] : key, message: `the query declares no variable $${root(path)} (for ${key.join('.')})` });
      continue;
    }
    // A variable of its own (not a field of an input object) shows whether it takes a list: ids and codes go as lists, paging and dates as one value.
    const type = v.type.kind === Kind.NON_NULL_TYPE ? v.type.type : v.type;
    if (path === root(path) && (type.kind === Kind.LIST_TYPE) !== list) {
      problems.push({ key: key[0] === 'paging' ? ['query'] : key, message: `variable $${path} (for ${key.join('.')}) must ${list ? '' : 'not '}be a list` });
    }
  }
  // Paging is sent with every request; anything else only sometimes, so it must not be required.
  const always = new Set([root(paging.startVariable), root(paging.sizeVariable)]);
  for (const [name, v] of declared) {
    if (v.type.kind === Kind.NON_NULL_TYPE && v.defaultValue === undefined && !always.has(name)) {
      problems.push({ key: ['query'], message: `variable $${name} is required (non-null, no default), but the graph sends only the paging variables with every request` });
    }
  }

  const selection = operation.selectionSet;
  for (const key of ['itemsPath', 'totalPath'] as const) {
    if (!selects(selection, entity[key].split('.'))) problems.push({ key: [key], message: `the query selects no "${entity[key]}"` });
  }
  const records = selectionAt(selection, entity.itemsPath.split('.'));
  if (records) {
    for (const [field, spec] of Object.entries(entity.fields)) {
      // A field may be a template joining several paths ("{nome} {secondoNome}").
      const paths = spec.includes('{') ? [...spec.matchAll(/\{([^{}]+)\}/g)].map((m) => m[1]!.trim()) : [spec];
      for (const path of paths) {
        if (!selects(records, path.split('.'))) problems.push({ key: ['fields', field], message: `the query selects no "${path}" in a record of "${entity.itemsPath}"` });
      }
    }
  }
  return problems;
}

/** Whether `path` (response keys) is selected below `set`; true where a fragment makes it unknowable without the schema. */
function selects(set: SelectionSetNode, path: readonly string[]): boolean {
  let current: SelectionSetNode | undefined = set;
  for (const key of path) {
    if (!current) return false;
    if (current.selections.some((s) => s.kind !== Kind.FIELD)) return true;
    const field: SelectionNode | undefined = current.selections.find((s) => s.kind === Kind.FIELD && (s.alias?.value ?? s.name.value) === key);
    if (!field || field.kind !== Kind.FIELD) return false;
    current = field.selectionSet;
  }
  return true;
}

/** The selection set at `path`, or undefined where it cannot be followed (absent, or behind a fragment). */
function selectionAt(set: SelectionSetNode, path: readonly string[]): SelectionSetNode | undefined {
  let current: SelectionSetNode | undefined = set;
  for (const key of path) {
    const field: SelectionNode | undefined = current?.selections.find((s) => s.kind === Kind.FIELD && (s.alias?.value ?? s.name.value) === key);
    current = field?.kind === Kind.FIELD ? field.selectionSet : undefined;
  }
  return current;
}
