/**
 * Demand control: limits on what one GraphQL request may ask, checked before
 * anything runs, so that no resolver runs and no city system is asked for a
 * query that is refused.
 *
 * Depth, aliases, directives and estimated cost are graphql-armor's validation
 * rules; tokens are counted by graphql-armor's counting parser while the
 * document is parsed; root fields (which armor does not limit) is a small
 * validation rule here. Every refusal is a GraphQLError with
 * `extensions: { code: 'DEMAND_LIMIT_EXCEEDED', limit, max, found? }`,
 * answered with HTTP 400.
 *
 * How armor reports, and what is changed here:
 * - Armor's validation rules build `GraphQLError('Syntax Error: <limit> of N
 *   exceeded, found M.')` and hand it to `onReject` callbacks; with
 *   `propagateOnRejection` they would also throw it, which graphql-js's
 *   `validate` does not catch (Apollo would answer 500). Armor's Apollo wiring
 *   therefore reports the error to the validation context with code
 *   BAD_USER_INPUT, and Apollo Server then wraps every validation error in its
 *   own ValidationError, overwriting the code with GRAPHQL_VALIDATION_FAILED
 *   (HTTP 400). Here `propagateOnRejection` is off and our own `onReject`
 *   reports a DemandLimitError (our message, `limit`, `max`, `found` read
 *   from armor's exposed limits); a plugin then puts our code back on the
 *   wrapped error (`didEncounterErrors` runs before errors are formatted).
 * - Armor's Apollo plugin for tokens counts in `parsingDidStart` and throws,
 *   which Apollo treats as an unexpected error; armor then rethrows every
 *   unexpected error as GRAPHQL_VALIDATION_FAILED, answered with HTTP 500, and
 *   a plain syntax error (`{ a {`) becomes such a 500 too, instead of Apollo's
 *   400 GRAPHQL_PARSE_FAILED. So tokens are wired here: armor's
 *   MaxTokensParserWLexer stops at the first token over the limit, only that
 *   refusal is thrown (other parse errors are left to Apollo's own parser),
 *   and `unexpectedErrorProcessingRequest` rethrows only our refusal, which
 *   Apollo answers with the status in its `extensions.http` (400).
 */
import type { ApolloServerPlugin } from '@apollo/server';
import { ApolloArmor } from '@escape.tech/graphql-armor';
// A dependency of @escape.tech/graphql-armor (same version it bundles); not re-exported by it.
import { MaxTokensParserWLexer } from '@escape.tech/graphql-armor-max-tokens';
import { GraphQLError, Kind, type ASTVisitor, type SelectionSetNode, type ValidationContext, type ValidationRule } from 'graphql';

export interface DemandLimits {
  maxDepth: number;
  maxAliases: number;
  maxRootFields: number;
  maxCost: number;
  maxTokens: number;
  maxDirectives: number;
}

export type DemandLimitName = 'depth' | 'aliases' | 'rootFields' | 'cost' | 'tokens' | 'directives';

export const DEMAND_LIMIT_EXCEEDED = 'DEMAND_LIMIT_EXCEEDED';

export const defaultDemandLimits: Readonly<DemandLimits> = Object.freeze({
  // The data graph has no cycles: the deepest query the schema allows is 8
  // levels (beneficiaries nodes placements resource city dataQuality reasons
  // code); 10 leaves room for schema growth and stops a cycle added later
  // from being walked without end. Introspection (`__schema`) is not counted
  // (armor's ignoreIntrospection); graphql-js's own MaxIntrospectionDepthRule,
  // which Apollo Server runs, bounds nesting inside it.
  maxDepth: 10,
  // Armor's default. The real queries use none; 15 still lets a dashboard put
  // a few cities or filters side by side, and each alias of a list field is
  // a full fan-out to every city (the incident: 1,000 aliases).
  maxAliases: 15,
  // Query has 8 fields today; asking each once, plus an alias or two, fits in 10.
  // Each root field asks every city system, so this bounds the fan-out.
  maxRootFields: 10,
  // Cost is armor's estimate with the weights in `costWeights`: about how many
  // objects (records and their sub-records) the answer may hold, a literal
  // `first: N` multiplying what is under it by N. One page of the maximum size
  // (first: 500) of the richest real queries (the README's, the joins across
  // subgraphs) costs 4,000-4,500; two such pages in one request do not fit.
  maxCost: 5000,
  // The largest real queries are under 100 tokens and the standard
  // introspection query 163-184; 2,000 leaves ten times that, and bounds the
  // parser's work on anything sent (the 1,000-alias query is ~13,000 tokens).
  maxTokens: 2000,
  // The real queries use none; clients may use @include/@skip for optional
  // parts. 20 is ample for that and bounds directive-stuffing (armor's default: 50).
  maxDirectives: 20,
});

/**
 * Armor's cost weights. Scalars are free: fields of one object are read
 * together, and how many there are is bounded by the schema's width, the
 * alias limit and the token limit; what costs the cities and the subgraphs'
 * memory is how many records are fetched. Each object counts 1, with no extra
 * weight per level (depth has its own limit). Fragments are flattened (a
 * fragment costs what it selects, not a level more). Only literal `first` /
 * `last` arguments multiply: armor does not see variables or schema defaults.
 */
const costWeights = { objectCost: 1, scalarCost: 0, depthCostFactor: 1, flattenFragments: true } as const;

const envNames: Record<keyof DemandLimits, string> = {
  maxDepth: 'LGNET_LIMIT_DEPTH',
  maxAliases: 'LGNET_LIMIT_ALIASES',
  maxRootFields: 'LGNET_LIMIT_ROOT_FIELDS',
  maxCost: 'LGNET_LIMIT_COST',
  maxTokens: 'LGNET_LIMIT_TOKENS',
  maxDirectives: 'LGNET_LIMIT_DIRECTIVES',
};

/**
 * Reads overrides from env LGNET_LIMIT_DEPTH, LGNET_LIMIT_ALIASES,
 * LGNET_LIMIT_ROOT_FIELDS, LGNET_LIMIT_COST, LGNET_LIMIT_TOKENS,
 * LGNET_LIMIT_DIRECTIVES; a variable left out or empty keeps the default. A
 * bad value (not a whole number of at least 1) throws an Error naming the
 * variable and the value.
 */
export function demandLimitsFromEnv(env: Readonly<Record<string, string | undefined>>): DemandLimits {
  const limits: DemandLimits = { ...defaultDemandLimits };
  for (const key of Object.keys(envNames) as (keyof DemandLimits)[]) {
    const name = envNames[key];
    const raw = env[name];
    if (raw === undefined || raw.trim() === '') continue;
    const value = /^\s*\d+\s*$/.test(raw) ? Number(raw) : NaN;
    if (!Number.isSafeInteger(value) || value < 1) {
      throw new Error(`${name} must be a whole number of at least 1; got ${JSON.stringify(raw)}`);
    }
    limits[key] = value;
  }
  return limits;
}

/** A refusal; Apollo may wrap it (as `originalError`) in its own ValidationError. */
export class DemandLimitError extends GraphQLError {
  readonly limit: DemandLimitName;
  constructor(limit: DemandLimitName, max: number, found?: number) {
    super(messageFor(limit, max, found), {
      extensions: {
        code: DEMAND_LIMIT_EXCEEDED,
        limit,
        max,
        ...(found === undefined ? {} : { found }),
        // Read by Apollo Server for the HTTP status, and removed from the answer.
        http: { status: 400 },
      },
    });
    this.name = 'DemandLimitError';
    this.limit = limit;
  }
}

function messageFor(limit: DemandLimitName, max: number, found: number | undefined): string {
  const n = (x: number) => (Number.isInteger(x) ? String(x) : x.toFixed(1));
  switch (limit) {
    case 'depth':
      return found === undefined
        ? `The query is too deep; at most ${max} levels are allowed.`
        : `The query is ${n(found)} levels deep; at most ${max} are allowed.`;
    case 'aliases':
      return `The query has ${found === undefined ? 'too many' : n(found)} aliases; at most ${max} are allowed.`;
    case 'rootFields':
      return `The query asks for ${found === undefined ? 'too many' : n(found)} root fields; at most ${max} are allowed.`;
    case 'cost':
      return found === undefined
        ? `The query's estimated cost is too high; at most ${max} is allowed.`
        : `The query's estimated cost is ${n(found)}; at most ${max} is allowed.`;
    case 'tokens':
      return `The query has more than ${max} tokens; at most ${max} are allowed.`;
    case 'directives':
      return `The query has ${found === undefined ? 'too many' : n(found)} directives; at most ${max} are allowed.`;
  }
}

/**
 * An armor `onReject` callback reporting our error instead of armor's. Armor
 * only says what it found in its message (`..., found 12.`), with
 * `exposeLimits` on; when the message does not say, `found` is left out.
 */
function reportTo(limit: DemandLimitName, max: number) {
  return (ctx: ValidationContext | null, armorError: GraphQLError): void => {
    const m = /found (\d+(?:\.\d+)?)/.exec(armorError.message);
    const error = new DemandLimitError(limit, max, m ? Number(m[1]) : undefined);
    if (ctx) ctx.reportError(error);
    else throw error;
  };
}

/**
 * Root fields of each operation (armor has no such limit): distinct response
 * names at the top level, through fragments; `__typename` is not counted.
 */
function maxRootFieldsRule(max: number): ValidationRule {
  return (context: ValidationContext): ASTVisitor => ({
    OperationDefinition(operation) {
      const names = new Set<string>();
      const seenFragments = new Set<string>();
      const collect = (set: SelectionSetNode) => {
        for (const s of set.selections) {
          if (s.kind === Kind.FIELD) {
            if (s.name.value !== '__typename') names.add((s.alias ?? s.name).value);
          } else if (s.kind === Kind.INLINE_FRAGMENT) {
            collect(s.selectionSet);
          } else if (!seenFragments.has(s.name.value)) {
            seenFragments.add(s.name.value);
            const fragment = context.getFragment(s.name.value);
            if (fragment) collect(fragment.selectionSet);
          }
        }
      };
      collect(operation.selectionSet);
      if (names.size > max) context.reportError(new DemandLimitError('rootFields', max, names.size));
    },
  });
}

/** Armor's counting parser, stopped at the first token over the limit. */
function tokensPlugin(max: number): ApolloServerPlugin<any> {
  return {
    async requestDidStart() {
      return {
        async parsingDidStart({ source }) {
          try {
            new MaxTokensParserWLexer(source, {
              n: max,
              exposeLimits: true,
              propagateOnRejection: false,
              onReject: [reportTo('tokens', max)],
            }).parseDocument();
          } catch (error) {
            // Any other parse error is Apollo's to report (400 GRAPHQL_PARSE_FAILED).
            if (error instanceof DemandLimitError) throw error;
          }
        },
      };
    },
    async unexpectedErrorProcessingRequest({ error }) {
      // Rethrown, Apollo answers with this error and its `extensions.http` status.
      if (error instanceof DemandLimitError) throw error;
    },
  };
}

/** Puts our code back on refusals that Apollo wrapped as GRAPHQL_VALIDATION_FAILED. */
const restoreCodePlugin: ApolloServerPlugin<any> = {
  async requestDidStart() {
    return {
      async didEncounterErrors({ errors }) {
        for (const error of errors) {
          if (error instanceof DemandLimitError || error.originalError instanceof DemandLimitError) {
            error.extensions.code = DEMAND_LIMIT_EXCEEDED;
          }
        }
      },
    };
  },
};

function checkLimits(limits: DemandLimits): void {
  for (const key of Object.keys(envNames) as (keyof DemandLimits)[]) {
    const v = limits[key];
    // A NaN limit would make armor's `found > n` always false: no limit at all.
    if (!Number.isSafeInteger(v) || v < 1) throw new Error(`Demand limit ${key} must be a whole number of at least 1; got ${String(v)}`);
  }
}

/** What to give ApolloServer: plugins and validationRules. */
export function demandControl(limits: DemandLimits): { plugins: ApolloServerPlugin<any>[]; validationRules: ValidationRule[] } {
  checkLimits(limits);
  const common = { exposeLimits: true, propagateOnRejection: false } as const;
  const armor = new ApolloArmor({
    // Field suggestions ("Did you mean ...") reveal the schema; armor masks them.
    blockFieldSuggestion: { enabled: true },
    // Wired by tokensPlugin instead (see the file comment).
    maxTokens: { enabled: false },
    maxDepth: { ...common, n: limits.maxDepth, ignoreIntrospection: true, flattenFragments: true, onReject: [reportTo('depth', limits.maxDepth)] },
    maxAliases: { ...common, n: limits.maxAliases, onReject: [reportTo('aliases', limits.maxAliases)] },
    maxDirectives: { ...common, n: limits.maxDirectives, onReject: [reportTo('directives', limits.maxDirectives)] },
    costLimit: { ...common, ...costWeights, maxCost: limits.maxCost, ignoreIntrospection: true, onReject: [reportTo('cost', limits.maxCost)] },
  });
  // Armor also suggests allowBatchedHttpRequests: false (Apollo Server 5's
  // default) and includeStacktraceInErrorResponses: false (the gateway sets it).
  const { plugins, validationRules } = armor.protect();
  // Armor's declarations name @apollo/server's CommonJS types, this file the
  // ES module ones (two declarations of HeaderMap): the same objects at run time.
  const armorPlugins = plugins as unknown as ApolloServerPlugin<any>[];
  return {
    plugins: [tokensPlugin(limits.maxTokens), ...armorPlugins, restoreCodePlugin],
    validationRules: [...validationRules, maxRootFieldsRule(limits.maxRootFields)],
  };
}
