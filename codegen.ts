/**
 * `npm run codegen`: TypeScript types for the operations dashboards send,
 * the dashboard's published operations and the documented questions of
 * docs/QUERIES.md (docs/examples/operations/), against the API schema of
 * docs/schema/api.graphql. The output, docs/examples/generated/ (graphql.ts:
 * each operation's variables and answer; schema.ts: the scalars, enums and
 * inputs they use), is checked in; `npm test` fails while it is stale.
 */
import type { CodegenConfig } from '@graphql-codegen/cli';

/**
 * The graph's own scalars. Each travels in JSON as a string in the format its
 * SDL description gives; the generated `Scalars` type carries that
 * description as the doc comment, and operation types point at it, so an
 * editor shows the format where a value is used. `strictScalars` fails the
 * generation on a scalar missing here, rather than typing it `any`.
 */
const customScalars = ['Date', 'DateTime', 'YearMonth'] as const;

const config: CodegenConfig = {
  schema: 'docs/schema/api.graphql',
  documents: ['gateway/operations/dashboard/*.graphql', 'docs/examples/operations/*.graphql'],
  generates: {
    // What the operations share: the scalars (with their descriptions), the enums as unions of strings, the inputs.
    'docs/examples/generated/schema.ts': {
      plugins: ['typescript'],
      config: { onlyOperationTypes: true, enumsAsTypes: true, scalars: Object.fromEntries(customScalars.map((s) => [s, 'string'])) },
    },
    // Each operation's variables and answer.
    'docs/examples/generated/graphql.ts': {
      plugins: ['typescript-operations'],
      config: {
        importSchemaTypesFrom: './docs/examples/generated/schema.ts',
        namespacedImportName: 'Types',
        // `./schema.js`, as ES modules resolved by Node and tsc's nodenext need.
        emitLegacyCommonJSImports: false,
        scalars: Object.fromEntries(customScalars.map((s) => [s, { input: `Types.Scalars['${s}']['input']`, output: `Types.Scalars['${s}']['output']` }])),
      },
    },
  },
  config: { strictScalars: true },
};

export default config;
