/**
 * Composes the four subgraph SDLs into the supergraph the gateway serves.
 *
 *   node schema/compose.ts          writes schema/supergraph.graphql
 *   node schema/compose.ts --check  exits 1 when the checked-in file is stale
 *
 * The routing URLs in the file are placeholders: the gateway is told where
 * each subgraph runs when it starts.
 */
import { composeServices } from '@apollo/composition';
import { readFileSync, writeFileSync } from 'node:fs';
import { parse } from 'graphql';
import { fileURLToPath } from 'node:url';
import { subgraphNames, subgraphSdl, supergraphPath } from './sdl.ts';

export function composeSupergraph(): { supergraphSdl: string } | { errors: string[] } {
  const result = composeServices(
    subgraphNames.map((name) => ({
      name,
      url: `http://${name}.invalid/graphql`,
      typeDefs: parse(subgraphSdl(name)),
    })),
  );
  if (result.errors) return { errors: result.errors.map((e) => e.message) };
  return { supergraphSdl: result.supergraphSdl };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const result = composeSupergraph();
  if ('errors' in result) {
    console.error(`Composition failed:\n${result.errors.join('\n')}`);
    process.exit(1);
  }
  if (process.argv.includes('--check')) {
    const current = readFileSync(supergraphPath, 'utf8');
    if (current !== result.supergraphSdl) {
      console.error('schema/supergraph.graphql is stale: run `npm run compose` and commit it.');
      process.exit(1);
    }
    console.log('schema/supergraph.graphql matches a fresh composition.');
  } else {
    writeFileSync(supergraphPath, result.supergraphSdl);
    console.log(`Wrote ${supergraphPath}`);
  }
}
