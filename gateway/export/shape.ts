/**
 * The shape of an exported query, read from its document and typed against
 * the supergraph: which response keys it asks for, which of them are lists,
 * which leaves are dates, and the one list it pages through, if any. The
 * export decides its rows and columns from this shape rather than from the
 * data alone, so that a field null in every row still has its column and an
 * empty list still has its header.
 */
import { readFileSync } from 'node:fs';
import {
  buildSchema,
  getNamedType,
  getNullableType,
  isInterfaceType,
  isListType,
  isObjectType,
  Kind,
  parse,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLNamedType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from 'graphql';
import { supergraphPath } from '../../schema/sdl.ts';

/** A refusal before anything is asked: the request itself cannot be exported as it is. */
export class ExportRequestError extends Error {
  override name = 'ExportRequestError';
  /** Stable code for the HTTP answer's error. */
  readonly code: 'BAD_REQUEST' | 'EXPORT_TOO_LARGE';
  constructor(message: string, code: 'BAD_REQUEST' | 'EXPORT_TOO_LARGE' = 'BAD_REQUEST') {
    super(message);
    this.code = code;
  }
}

/** One field of the answer, by its response key (its alias, if it has one). */
export interface Shape {
  key: string;
  /** The field's own name in the schema. */
  field: string;
  /** The named type of the field, when the schema knows it. */
  type?: string;
  /** Whether the field is a list; undefined when the schema does not say (the data then tells). */
  list?: boolean;
  /** The fields asked of it, in the order of the query; none for a leaf. */
  children?: Shape[];
  /** The field as written, for its arguments. */
  nodes: FieldNode[];
}

/** The list an export walks page by page: a connection with `pageInfo { hasNextPage endCursor }`. */
export interface Walk {
  /** Response keys from the root to the connection. */
  path: string[];
  /** The variable its `after` argument takes. */
  afterVariable: string;
  /** Response keys, within the connection, of its parts. */
  nodesKey: string;
  pageInfoKey: string;
  hasNextPageKey: string;
  endCursorKey: string;
  totalCountKey?: string;
}

export interface QueryShape {
  document: DocumentNode;
  operation: OperationDefinitionNode;
  /** The root fields asked. */
  root: Shape[];
  walk: Walk | null;
}

let supergraph: GraphQLSchema | undefined;

/**
 * The supergraph's types (join directives and all: only the types and fields
 * are read), built once. Both the gateway and the command line read the
 * checked-in file, so dates are typed without introspection, which is off in
 * production.
 */
export function supergraphSchema(): GraphQLSchema {
  return (supergraph ??= buildSchema(readFileSync(supergraphPath, 'utf8'), { assumeValidSDL: true }));
}

/** A type named `Coverage`, or a field so named: collected apart, never a column. */
export function isCoverage(shape: Pick<Shape, 'field' | 'type'>): boolean {
  return shape.type === 'Coverage' || /^(coverage|\w+Coverage)$/.test(shape.field);
}

export function shapeOf(query: string, operationName?: string, schema: GraphQLSchema | undefined = supergraphSchema()): QueryShape {
  let document: DocumentNode;
  try {
    document = parse(query);
  } catch (e) {
    throw new ExportRequestError(`The query cannot be read: ${(e as Error).message}`);
  }
  const operations = document.definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
  const operation = operationName ? operations.find((o) => o.name?.value === operationName) : operations.length === 1 ? operations[0] : undefined;
  if (!operation) {
    throw new ExportRequestError(
      operationName
        ? `The document has no operation named ${operationName}`
        : operations.length === 0
          ? 'The document has no operation'
          : 'The document has several operations: name the one to export',
    );
  }
  if (operation.operation !== 'query') throw new ExportRequestError(`Only queries can be exported, not a ${operation.operation}`);
  const fragments = new Map(
    document.definitions.filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION).map((f) => [f.name.value, f]),
  );
  const root = fieldsOf(operation.selectionSet, schema?.getQueryType() ?? undefined, schema, fragments, new Set());
  const declared = new Set(operation.variableDefinitions?.map((v) => v.variable.name.value) ?? []);
  return { document, operation, root, walk: findWalk(root, declared) };
}

/** The fields of a selection set, fragments spread, each response key once (repeated fields merged). */
function fieldsOf(
  set: SelectionSetNode,
  parent: GraphQLNamedType | undefined,
  schema: GraphQLSchema | undefined,
  fragments: Map<string, FragmentDefinitionNode>,
  spreading: Set<string>,
): Shape[] {
  const byKey = new Map<string, { shape: Shape; sets: Array<{ set: SelectionSetNode; type: GraphQLNamedType | undefined }> }>();
  const visit = (s: SelectionSetNode, type: GraphQLNamedType | undefined) => {
    for (const sel of s.selections) {
      if (sel.kind === Kind.FIELD) {
        const key = sel.alias?.value ?? sel.name.value;
        const def = type && (isObjectType(type) || isInterfaceType(type)) ? type.getFields()[sel.name.value] : undefined;
        const named = def ? getNamedType(def.type) : sel.name.value === '__typename' ? schema?.getType('String') ?? undefined : undefined;
        let entry = byKey.get(key);
        if (!entry) {
          const shape: Shape = { key, field: sel.name.value, nodes: [] };
          if (named) shape.type = named.name;
          if (def) shape.list = isListType(getNullableType(def.type));
          entry = { shape, sets: [] };
          byKey.set(key, entry);
        }
        entry.shape.nodes.push(sel);
        if (sel.selectionSet) entry.sets.push({ set: sel.selectionSet, type: named });
      } else if (sel.kind === Kind.INLINE_FRAGMENT) {
        visit(sel.selectionSet, sel.typeCondition ? schema?.getType(sel.typeCondition.name.value) ?? undefined : type);
      } else {
        const name = sel.name.value;
        const fragment = fragments.get(name);
        // A fragment spread within itself is refused by validation at the gateway; here it is only not followed.
        if (!fragment || spreading.has(name)) continue;
        spreading.add(name);
        visit(fragment.selectionSet, schema?.getType(fragment.typeCondition.name.value) ?? undefined);
        spreading.delete(name);
      }
    }
  };
  visit(set, parent);
  return [...byKey.values()].map(({ shape, sets }) => {
    if (sets.length === 0) return shape;
    const merged: SelectionSetNode = { kind: Kind.SELECTION_SET, selections: sets.flatMap((s) => s.set.selections) };
    // Every part of a merged field has the same type: the first one's stands for all.
    return { ...shape, children: fieldsOf(merged, sets[0]!.type, schema, fragments, spreading) };
  });
}

function findWalk(root: Shape[], declared: Set<string>): Walk | null {
  const found: Array<{ path: string[]; shape: Shape }> = [];
  const visit = (shapes: Shape[], path: string[]) => {
    for (const s of shapes) {
      if (!s.children || isCoverage(s)) continue;
      if (s.children.some((c) => c.field === 'pageInfo')) found.push({ path: [...path, s.key], shape: s });
      else visit(s.children, [...path, s.key]);
    }
  };
  visit(root, []);
  if (found.length === 0) return null;
  const named = found.map((f) => f.path.join('.')).join(' and ');
  if (found.length > 1) throw new ExportRequestError(`The query pages through ${named}: export one list at a time`);
  const { path, shape } = found[0]!;
  const where = path.join('.');
  const child = (field: string) => shape.children!.find((c) => c.field === field);
  const pageInfo = child('pageInfo')!;
  const hasNextPage = pageInfo.children?.find((c) => c.field === 'hasNextPage');
  const endCursor = pageInfo.children?.find((c) => c.field === 'endCursor');
  if (!hasNextPage || !endCursor) {
    throw new ExportRequestError(`${where} asks for pageInfo: ask for pageInfo { hasNextPage endCursor }, so that every page can be read`);
  }
  const nodes = child('nodes');
  if (!nodes?.children) throw new ExportRequestError(`${where} is paged but asks for no nodes: ask for nodes { ... }, the rows`);
  const after = shape.nodes.flatMap((n) => n.arguments ?? []).find((a) => a.name.value === 'after');
  if (!after || after.value.kind !== Kind.VARIABLE || !declared.has(after.value.name.value)) {
    throw new ExportRequestError(
      `${where} is paged (it asks for pageInfo) but its after argument is not a variable, so only one page could be read: ` +
        `declare $after: String in the operation and pass ${shape.field}(..., after: $after)`,
    );
  }
  const totalCount = child('totalCount');
  return {
    path,
    afterVariable: after.value.name.value,
    nodesKey: nodes.key,
    pageInfoKey: pageInfo.key,
    hasNextPageKey: hasNextPage.key,
    endCursorKey: endCursor.key,
    ...(totalCount ? { totalCountKey: totalCount.key } : {}),
  };
}
