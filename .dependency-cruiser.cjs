/**
 * The directions of docs/ARCHITECTURE.md ("Directions"), enforced in
 * `npm test`: a violation names both files.
 *
 *   gateway   -> access, runtime, schema
 *   subgraphs -> access, adapters, runtime, schema
 *   adapters  -> schema, runtime (plumbing: logger, config errors)
 *   access    -> schema, runtime
 *   runtime   -> schema, and itself
 *   schema    -> nothing of the project's
 *   sandbox   -> schema, adapters (it speaks each city's configuration), access/caller, runtime plumbing
 *   scripts, test -> anything; nothing in production code -> sandbox, scripts or test
 */
const production = '^(gateway|subgraphs|adapters|access|runtime|schema)/';
const notTests = '\\.test\\.ts$';

module.exports = {
  forbidden: [
    {
      name: 'production-never-reaches-sandbox-scripts-or-tests',
      comment: 'Production code runs without the sandbox, the scripts or the tests.',
      severity: 'error',
      from: { path: production, pathNot: notTests },
      to: { path: '^(sandbox|scripts|test)/' },
    },
    {
      name: 'gateway-directions',
      comment: 'The gateway knows the schema, who may see what, and the plumbing; never a city or a subgraph.',
      severity: 'error',
      from: { path: '^gateway/' },
      to: { path: '^(subgraphs|adapters)/' },
    },
    {
      name: 'adapters-directions',
      comment: 'The adapters know the schema and the plumbing; never who asks, nor the processes that use them.',
      severity: 'error',
      from: { path: '^adapters/', pathNot: notTests },
      to: { path: '^(gateway|subgraphs|access)/' },
    },
    {
      name: 'access-directions',
      comment: 'Who may see what depends on the schema and the plumbing only.',
      severity: 'error',
      from: { path: '^access/', pathNot: notTests },
      to: { path: '^(gateway|subgraphs|adapters)/' },
    },
    {
      name: 'runtime-is-plumbing',
      comment: 'runtime/ is production plumbing: it knows the schema at most.',
      severity: 'error',
      from: { path: '^runtime/', pathNot: notTests },
      to: { path: '^(gateway|subgraphs|adapters|access)/' },
    },
    {
      name: 'schema-stands-alone',
      comment: 'The canonical model depends on nothing of the project.',
      severity: 'error',
      from: { path: '^schema/', pathNot: notTests },
      to: { path: '^(gateway|subgraphs|adapters|access|runtime|sandbox)/' },
    },
    {
      name: 'sandbox-directions',
      comment: "The sandbox stands in for the cities: it may read the schema, the cities' configurations, the roles and plain plumbing, never the graph's processes.",
      severity: 'error',
      from: { path: '^sandbox/', pathNot: notTests },
      to: { path: '^(gateway|subgraphs)/|^access/(?!caller\\.ts)' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|data|bench)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
