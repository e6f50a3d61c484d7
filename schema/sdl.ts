/**
 * Each subgraph's SDL, as served by its process and as composed into the
 * supergraph. The people, services and housing subgraphs share the value
 * types in `subgraphs/common.graphql`; all four share the coverage types of
 * `subgraphs/coverage.graphql`, and declare who may read what with the
 * directive of `subgraphs/access.graphql`.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const subgraphNames = ['registry', 'people', 'services', 'housing'] as const;
export type SubgraphName = (typeof subgraphNames)[number];

const dir = fileURLToPath(new URL('./subgraphs/', import.meta.url));
const read = (file: string) => readFileSync(dir + file, 'utf8');

export function subgraphSdl(name: SubgraphName): string {
  const own = read(`${name}.graphql`);
  const shared = name === 'registry' ? [] : [read('common.graphql')];
  return [own, ...shared, read('coverage.graphql'), read('access.graphql')].join('\n');
}

export const supergraphPath = fileURLToPath(new URL('./supergraph.graphql', import.meta.url));
