import { readFileSync } from 'node:fs';
import { buildASTSchema, GraphQLEnumType, parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import * as codeLists from '../schema/code-lists.ts';
import { composeSupergraph } from '../schema/compose.ts';
import { subgraphNames, subgraphSdl, supergraphPath } from '../schema/sdl.ts';

describe('the supergraph', () => {
  it('composes without errors, and the checked-in file matches a fresh composition', () => {
    const result = composeSupergraph();
    if ('errors' in result) throw new Error(result.errors.join('\n'));
    expect(readFileSync(supergraphPath, 'utf8')).toBe(result.supergraphSdl);
  });

  it('keeps the names dashboards rely on', () => {
    const sdl = readFileSync(supergraphPath, 'utf8');
    for (const name of ['beneficiaries(', 'housingResources(', 'services(', 'cities(', 'personKey:', 'coverage:', 'dataQuality:', 'placements:', 'enrollments:', 'civicProjects:']) {
      expect(sdl).toContain(name);
    }
  });
});

describe('the GraphQL enums', () => {
  const enumsIn = (sdl: string) => {
    // Federation directives are not defined in plain GraphQL: strip them to read the enums.
    const doc = parse(sdl.replace(/extend schema[^{}]*?\]\)/s, '').replace(/@(key|shareable)(\([^)]*\))?/g, ''));
    return buildASTSchema(doc, { assumeValidSDL: true });
  };
  const lists: Record<string, { options: readonly string[] }> = {
    Sex: codeLists.Sex,
    PermitType: codeLists.PermitType,
    IntakeChannel: codeLists.IntakeChannel,
    IntakeStatus: codeLists.IntakeStatus,
    Vulnerability: codeLists.Vulnerability,
    ServiceCategory: codeLists.ServiceCategory,
    CivicProjectStatus: codeLists.CivicProjectStatus,
    HousingKind: codeLists.HousingKind,
    Edition: codeLists.Edition,
    RejectReason: codeLists.RejectReason,
    Domain: codeLists.Domain,
  };

  it('carry exactly the values of the national code lists', () => {
    const seen = new Set<string>();
    for (const name of subgraphNames) {
      const schema = enumsIn(subgraphSdl(name));
      for (const [enumName, list] of Object.entries(lists)) {
        const type = schema.getType(enumName);
        if (!type) continue;
        seen.add(enumName);
        expect(type).toBeInstanceOf(GraphQLEnumType);
        expect((type as GraphQLEnumType).getValues().map((v) => v.name).sort(), `${enumName} in ${name}`).toEqual([...list.options].sort());
      }
    }
    expect([...seen].sort()).toEqual(Object.keys(lists).sort());
  });

  it('describe every value for analysts', () => {
    for (const name of subgraphNames) {
      const schema = enumsIn(subgraphSdl(name));
      for (const type of Object.values(schema.getTypeMap())) {
        if (!(type instanceof GraphQLEnumType) || type.name.startsWith('__') || ['EntityName', 'TargetComparison'].includes(type.name)) continue;
        expect(type.description, `${type.name} in ${name}`).toBeTruthy();
      }
    }
  });
});
