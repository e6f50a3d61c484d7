/**
 * Who may read what, as declared once in the SDL with `@access`
 * (schema/subgraphs/access.graphql), read here and enforced by each subgraph
 * on every field it resolves: where the data is, so that a subgraph reached
 * directly is just as closed as the gateway.
 *
 * A type's rule says who may see its objects at all; a field's own rule
 * narrows it. A field a role may not read resolves to null and the answer
 * carries one error naming the rule, so a withheld value never passes for
 * missing data.
 */
import { defaultFieldResolver, Kind, type DirectiveNode, type DocumentNode, type FieldDefinitionNode, type GraphQLFieldResolver, type TypeNode } from 'graphql';
import type { Caller } from './caller.ts';

/** Who a rule lets read: operators of the record's own city, operators of any city, analysts, the dashboard. */
export const grantNames = ['OPERATOR_OWN_CITY', 'OPERATOR', 'ANALYST', 'DASHBOARD'] as const;
export type Grant = (typeof grantNames)[number];

export interface AccessRule {
  grants: readonly Grant[];
  /** Counts that reach the dashboard role pass through small-count suppression. */
  published: boolean;
  /** The kind of personal record reading it counts as, for the audit trail; null when it is not one. */
  audit: string | null;
  /** Where the rule was declared: on the field itself, or on its type. */
  declaredOn: 'field' | 'type';
}

export interface DeclaredRules {
  /** By schema coordinate, `Type.field`. */
  fields: Map<string, AccessRule>;
  /** Rules that break the model: no rule, an unknown grant, a field wider than its type, a withheld value that cannot be null. */
  problems: string[];
}

/** Whether a grant covers everything another does. */
function covers(wide: Grant, narrow: Grant): boolean {
  return wide === narrow || (wide === 'OPERATOR' && narrow === 'OPERATOR_OWN_CITY');
}

/** Some reader allowed by `outer` is not allowed by `inner`. */
function narrower(inner: readonly Grant[], outer: readonly Grant[]): boolean {
  return outer.some((o) => !inner.some((i) => covers(i, o)));
}

function argument(d: DirectiveNode, name: string) {
  return d.arguments?.find((a) => a.name.value === name)?.value;
}

function parseRule(d: DirectiveNode | undefined, where: string, declaredOn: AccessRule['declaredOn'], problems: string[]): AccessRule | null {
  if (!d) return null;
  const g = argument(d, 'grants');
  const values = g?.kind === Kind.LIST ? g.values : g ? [g] : [];
  const grants: Grant[] = [];
  for (const v of values) {
    const name = v.kind === Kind.STRING ? v.value : '';
    if ((grantNames as readonly string[]).includes(name)) grants.push(name as Grant);
    else problems.push(`${where}: unknown grant ${JSON.stringify(name)} (known: ${grantNames.join(', ')})`);
  }
  if (grants.length === 0) problems.push(`${where}: @access grants nobody; give at least one grant`);
  const published = argument(d, 'published');
  const audit = argument(d, 'audit');
  return {
    grants,
    published: published?.kind === Kind.BOOLEAN && published.value,
    audit: audit?.kind === Kind.STRING ? audit.value : null,
    declaredOn,
  };
}

function namedType(t: TypeNode): string {
  return t.kind === Kind.NAMED_TYPE ? t.name.value : namedType(t.type);
}

/** Reads every `@access` rule of an SDL and checks that the rules hold together. */
export function readAccessRules(doc: DocumentNode): DeclaredRules {
  const problems: string[] = [];
  const typeRules = new Map<string, AccessRule | null>();
  const types: Array<{ name: string; fields: readonly FieldDefinitionNode[] }> = [];
  for (const def of doc.definitions) {
    if (def.kind !== Kind.OBJECT_TYPE_DEFINITION && def.kind !== Kind.OBJECT_TYPE_EXTENSION) continue;
    const name = def.name.value;
    const rule = parseRule(def.directives?.find((d) => d.name.value === 'access'), name, 'type', problems);
    if (rule) typeRules.set(name, rule);
    else if (!typeRules.has(name)) typeRules.set(name, null);
    types.push({ name, fields: def.fields ?? [] });
  }
  const fields = new Map<string, AccessRule>();
  for (const { name, fields: defs } of types) {
    const typeRule = typeRules.get(name) ?? null;
    for (const f of defs) {
      const coordinate = `${name}.${f.name.value}`;
      const own = parseRule(f.directives?.find((d) => d.name.value === 'access'), coordinate, 'field', problems);
      if (!own && !typeRule) {
        problems.push(`${coordinate} has no @access rule, and neither has ${name}`);
        continue;
      }
      const rule: AccessRule = own ? { ...own, audit: own.audit ?? typeRule?.audit ?? null } : { ...typeRule!, published: false, declaredOn: 'type' };
      fields.set(coordinate, rule);
      if (own && typeRule) {
        const wider = own.grants.filter((g) => !typeRule.grants.some((t) => covers(t, g)));
        if (wider.length) problems.push(`${coordinate} grants ${wider.join(', ')}, which ${name} does not`);
      }
      // A value some reader of the object may not see is null for that reader.
      const nullable = f.type.kind !== Kind.NON_NULL_TYPE;
      if (!nullable && typeRule && narrower(rule.grants, typeRule.grants)) {
        problems.push(`${coordinate} is withheld from some who may read ${name}, so it must be nullable`);
      }
      const target = typeRules.get(namedType(f.type));
      if (!nullable && target && narrower(target.grants, rule.grants)) {
        problems.push(`${coordinate} returns ${namedType(f.type)}, which some of its readers may not see, so it must be nullable`);
      }
    }
  }
  return { fields, problems };
}

/** The city a record belongs to, for rules that grant its own city's operators. */
export function cityOf(parent: unknown): string | undefined {
  const city = (parent as { city?: unknown } | null)?.city;
  return typeof city === 'string' ? city : undefined;
}

/** Whether a caller may read a field of `parent` under `grants`. */
export function mayRead(grants: readonly Grant[], caller: Caller, parent: unknown): boolean {
  for (const g of grants) {
    if (g === 'ANALYST' && caller.role === 'analyst') return true;
    if (g === 'DASHBOARD' && caller.role === 'dashboard') return true;
    if (g === 'OPERATOR' && caller.role === 'operator') return true;
    if (g === 'OPERATOR_OWN_CITY' && caller.role === 'operator' && caller.city !== undefined && cityOf(parent) === caller.city) return true;
  }
  return false;
}

/** In words, for errors: who may read under a rule. */
export function describeGrants(grants: readonly Grant[]): string {
  const words: Record<Grant, string> = {
    OPERATOR_OWN_CITY: "operators of the record's own city",
    OPERATOR: 'operators',
    ANALYST: 'analysts',
    DASHBOARD: 'the dashboard role',
  };
  const list = grants.map((g) => words[g]);
  return list.length > 1 ? `${list.slice(0, -1).join(', ')} and ${list[list.length - 1]}` : list[0] ?? 'nobody';
}

/** What enforcement needs from the request's context. */
export interface AccessHooks<C> {
  caller(ctx: C): Caller;
  /** A field was withheld from the caller. */
  denied(ctx: C, coordinate: string, rule: AccessRule): void;
  /** A field of a person's record was read (for the audit trail). */
  read(ctx: C, coordinate: string, rule: AccessRule, parent: unknown): void;
  /** A published count on its way to the dashboard role: returns what may be shown. */
  publish(ctx: C, coordinate: string, value: unknown): unknown;
}

type ResolverMap = Record<string, Record<string, unknown>>;

/**
 * Wraps every field resolver of the SDL's object types (the default one
 * where none is given) with its rule. Throws when the rules do not hold
 * together: a subgraph does not start with a field nobody ruled on.
 */
export function enforceAccessRules<C>(doc: DocumentNode, resolvers: ResolverMap, hooks: AccessHooks<C>): ResolverMap {
  const { fields, problems } = readAccessRules(doc);
  if (problems.length) throw new Error(`The @access rules do not hold together:\n  ${problems.join('\n  ')}`);
  // Scalars and enums pass as they are; object types' maps are copied before their fields are wrapped.
  const out: ResolverMap = { ...resolvers };
  const copied = new Set<string>();
  for (const [coordinate, rule] of fields) {
    const [type, field] = coordinate.split('.') as [string, string];
    if (!copied.has(type)) {
      out[type] = { ...(resolvers[type] ?? {}) };
      copied.add(type);
    }
    const own = out[type]?.[field];
    if (own !== undefined && typeof own !== 'function') throw new Error(`${coordinate}: a resolver must be a function to be ruled`);
    const inner = (own as GraphQLFieldResolver<unknown, C> | undefined) ?? defaultFieldResolver;
    const wrapped: GraphQLFieldResolver<unknown, C> = (parent, args, ctx, info) => {
      const caller = hooks.caller(ctx);
      if (!mayRead(rule.grants, caller, parent)) {
        hooks.denied(ctx, coordinate, rule);
        return null;
      }
      if (rule.audit) hooks.read(ctx, coordinate, rule, parent);
      const value = inner(parent, args, ctx, info);
      if (!rule.published || caller.role !== 'dashboard') return value;
      return value instanceof Promise ? value.then((v) => hooks.publish(ctx, coordinate, v)) : hooks.publish(ctx, coordinate, value);
    };
    out[type]![field] = wrapped;
  }
  return out;
}
