/**
 * The fields no log line may carry: every field the access rules keep to a
 * city's own operators (names, fiscal codes, exact dates, vulnerabilities,
 * resource names...), read from the same declaration the subgraphs enforce,
 * so that a field made personal in the SDL is redacted from logs too.
 */
import { parse } from 'graphql';
import { subgraphNames, subgraphSdl } from '../schema/sdl.ts';
import { readAccessRules } from './rules.ts';

/** Record fields that are neither rules nor records, but carry personal data as the cities send it. */
const sourceFields = ['fiscalCode', 'givenName', 'familyName', 'birthDate'];

export function personalFieldNames(): string[] {
  const names = new Set(sourceFields);
  for (const name of subgraphNames) {
    for (const [coordinate, rule] of readAccessRules(parse(subgraphSdl(name))).fields) {
      if (rule.grants.every((g) => g === 'OPERATOR_OWN_CITY')) names.add(coordinate.split('.')[1]!);
    }
  }
  return [...names].sort();
}
