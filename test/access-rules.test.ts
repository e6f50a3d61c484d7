/**
 * Every field of the graph has an access rule, declared once in the SDL, and
 * the rules hold together. The rules themselves are checked end to end with
 * real tokens in test/privacy.test.ts.
 */
import { readFileSync } from 'node:fs';
import { buildASTSchema, graphql, Kind, parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import type { Caller } from '../access/caller.ts';
import { enforceAccessRules, mayRead, readAccessRules } from '../access/rules.ts';
import { subgraphNames, subgraphSdl, supergraphPath } from '../schema/sdl.ts';

describe('the access rules of the graph', () => {
  const rules = Object.fromEntries(subgraphNames.map((n) => [n, readAccessRules(parse(subgraphSdl(n)))]));

  it('hold together in every subgraph', () => {
    for (const n of subgraphNames) expect(rules[n]!.problems, n).toEqual([]);
  });

  it('cover every field of the supergraph, in every subgraph that resolves it', () => {
    const supergraph = parse(readFileSync(supergraphPath, 'utf8'));
    const missing: string[] = [];
    let fields = 0;
    for (const def of supergraph.definitions) {
      if (def.kind !== Kind.OBJECT_TYPE_DEFINITION || /^(join__|link__|_)/.test(def.name.value)) continue;
      for (const f of def.fields ?? []) {
        const coordinate = `${def.name.value}.${f.name.value}`;
        fields++;
        const owners = subgraphNames.filter((n) => parse(subgraphSdl(n)).definitions.some(
          (d) => (d.kind === Kind.OBJECT_TYPE_DEFINITION || d.kind === Kind.OBJECT_TYPE_EXTENSION) && d.name.value === def.name.value && d.fields?.some((x) => x.name.value === f.name.value),
        ));
        if (owners.length === 0) missing.push(`${coordinate}: no subgraph defines it`);
        for (const n of owners) if (!rules[n]!.fields.has(coordinate)) missing.push(`${coordinate} in ${n}`);
      }
    }
    expect(missing).toEqual([]);
    expect(fields).toBeGreaterThan(80);
  });

  it('keep names, fiscal codes, exact dates, vulnerabilities and resource names to the own city', () => {
    const own = (coordinate: string) => {
      const owner = subgraphNames.find((n) => rules[n]!.fields.has(coordinate))!;
      return rules[owner]!.fields.get(coordinate)!.grants;
    };
    for (const c of ['Beneficiary.givenName', 'Beneficiary.familyName', 'Beneficiary.fiscalCode', 'Beneficiary.birthDate', 'Beneficiary.vulnerabilities', 'Beneficiary.localId', 'Intake.date', 'Placement.from', 'Placement.to', 'Enrollment.from', 'CivicProject.signedOn', 'HousingResource.name', 'Service.name']) {
      expect(own(c), c).toEqual(['OPERATOR_OWN_CITY']);
    }
    expect(own('Service.name')).toEqual(['OPERATOR_OWN_CITY']);
    // The dashboard role reads no list (two counts could be subtracted); its figures are published tables.
    for (const c of ['Query.beneficiaries', 'Query.beneficiary', 'Query.housingResources', 'Query.services', 'BeneficiaryConnection.nodes']) expect(own(c), c).not.toContain('DASHBOARD');
    expect(own('City.dataQuality')).toContain('DASHBOARD');
  });
});

describe('reading rules', () => {
  const problemsOf = (sdl: string) => readAccessRules(parse(`directive @access(grants: [String!]!, published: Boolean, audit: String) on OBJECT | FIELD_DEFINITION\n${sdl}`)).problems;

  it('names a field without a rule', () => {
    expect(problemsOf('type Query { a: Int }')).toEqual(['Query.a has no @access rule, and neither has Query']);
  });

  it('names an unknown grant', () => {
    expect(problemsOf('type Query { a: Int @access(grants: ["EVERYONE"]) }')[0]).toMatch(/unknown grant "EVERYONE"/);
  });

  it('refuses a field wider than its type', () => {
    expect(problemsOf('type T @access(grants: ["ANALYST"]) { a: Int @access(grants: ["ANALYST", "DASHBOARD"]) }')).toEqual(['T.a grants DASHBOARD, which T does not']);
  });

  it('refuses a withheld field that cannot be null', () => {
    expect(problemsOf('type T @access(grants: ["OPERATOR", "ANALYST"]) { a: Int! @access(grants: ["OPERATOR_OWN_CITY"]) }')).toEqual([
      'T.a is withheld from some who may read T, so it must be nullable',
    ]);
    expect(problemsOf('type T @access(grants: ["ANALYST"]) { a: Int! }')).toEqual([]);
  });

  it('refuses a non-null field returning a type some of its readers may not see', () => {
    expect(problemsOf('type P @access(grants: ["OPERATOR_OWN_CITY"]) { x: Int }\ntype T @access(grants: ["OPERATOR", "DASHBOARD"]) { p: P! }')).toEqual([
      'T.p returns P, which some of its readers may not see, so it must be nullable',
    ]);
  });
});

describe('enforcing rules', () => {
  const palermo: Caller = { role: 'operator', city: '082053', subject: 'op' };
  const milano: Caller = { role: 'operator', city: '015146', subject: 'op2' };
  const analyst: Caller = { role: 'analyst', subject: 'an' };
  const dashboard: Caller = { role: 'dashboard', subject: 'db' };

  it('lets operators read their own city only where the rule says own city', () => {
    const record = { city: '082053' };
    expect(mayRead(['OPERATOR_OWN_CITY'], palermo, record)).toBe(true);
    expect(mayRead(['OPERATOR_OWN_CITY'], milano, record)).toBe(false);
    expect(mayRead(['OPERATOR'], milano, record)).toBe(true);
    expect(mayRead(['OPERATOR_OWN_CITY', 'ANALYST'], analyst, record)).toBe(true);
    expect(mayRead(['OPERATOR_OWN_CITY', 'ANALYST'], dashboard, record)).toBe(false);
    // A record that does not say its city is nobody's own.
    expect(mayRead(['OPERATOR_OWN_CITY'], palermo, {})).toBe(false);
  });

  it('answers null for a withheld field, tells whom, logs the reads and publishes counts through the hook', async () => {
    const doc = parse(`
      directive @access(grants: [String!]!, published: Boolean, audit: String) on OBJECT | FIELD_DEFINITION
      type Query { people: [Person!] @access(grants: ["OPERATOR", "ANALYST"]) count: Int @access(grants: ["ANALYST", "DASHBOARD"], published: true) }
      type Person @access(grants: ["OPERATOR_OWN_CITY", "ANALYST"], audit: "person") { sex: String! name: String @access(grants: ["OPERATOR_OWN_CITY"]) }
    `);
    const people = [{ city: '082053', localId: '1', sex: 'F', name: 'Ada' }, { city: '082053', localId: '2', sex: 'M', name: 'Bo' }];
    const seen = { denied: [] as string[], read: [] as string[], published: [] as unknown[] };
    const resolvers = enforceAccessRules<{ caller: Caller }>(doc, { Query: { people: () => people, count: () => 3 } }, {
      caller: (ctx) => ctx.caller,
      denied: (_ctx, coordinate) => seen.denied.push(coordinate),
      read: (_ctx, coordinate, _rule, parent) => seen.read.push(`${coordinate}@${(parent as { localId: string }).localId}`),
      publish: (_ctx, _c, v) => (seen.published.push(v), null),
    });
    const schema = buildASTSchema(doc);
    for (const [type, fields] of Object.entries(resolvers)) {
      const t = schema.getType(type) as unknown as { getFields(): Record<string, { resolve?: unknown }> };
      for (const [f, fn] of Object.entries(fields)) t.getFields()[f]!.resolve = fn;
    }
    const run = (caller: Caller, source: string) => graphql({ schema, source, contextValue: { caller } });

    const asAnalyst = await run(analyst, '{ people { sex name } count }');
    expect(asAnalyst.data).toEqual({ people: [{ sex: 'F', name: null }, { sex: 'M', name: null }], count: 3 });
    expect(seen.denied).toEqual(['Person.name', 'Person.name']);
    expect(seen.read).toEqual(['Person.sex@1', 'Person.sex@2']);

    const asOperator = await run(palermo, '{ people { name } }');
    expect(asOperator.data).toEqual({ people: [{ name: 'Ada' }, { name: 'Bo' }] });

    const asDashboard = await run(dashboard, '{ people { sex } count }');
    expect(asDashboard.data).toEqual({ people: null, count: null });
    expect(seen.published).toEqual([3]);
  });
});
