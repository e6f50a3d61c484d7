/**
 * Stand-in for a city whose newer system has a GraphQL API of its own (not
 * federated, its own Italian names): POST `{ query, variables }` as JSON to
 * `/graphql`, with `Authorization: Bearer <key>`, executed by graphql-js
 * against the schema below, over the records it is given (in its own nested
 * shape, served in the order given).
 *
 * Paging is connection-style: `primi` records after the first `dopo`, with
 * `totale` counting every record the `filtro` selects; asking more than
 * `maxPageSize` is refused (BAD_USER_INPUT), as such APIs do. Filters match
 * ids and codes exactly (any of a list) and dates (`yyyy-mm-dd`, the
 * system's own format) inclusively.
 *
 * It answers as GraphQL servers do: 200 with `errors` coded in
 * `extensions.code` (UNAUTHENTICATED for a wrong key, GRAPHQL_PARSE_FAILED,
 * GRAPHQL_VALIDATION_FAILED, BAD_USER_INPUT), and partial data when a
 * record's `persona` cannot be read (`brokenRecords`: the person registry
 * behind it is down for them), with the error's path into that record.
 *
 * The sandbox's faults apply as to every stand-in (faults.ts): `rename`
 * renames a key of the answer, as a new release of the schema might.
 */
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { GraphQLError, buildSchema, graphql, type ExecutionResult } from 'graphql';
import { createStandInServer, json, type Fault, type StandIn, type StandInResponse } from './faults.ts';

/** A person in the stand-in's own shape. */
export interface Assistito {
  codice: string;
  persona: { nome: string; cognome: string; codiceFiscale: string; sesso: string; dataNascita: string; cittadinanza: string } | null;
  permesso: { tipo: { codice: string; descrizione?: string } } | null;
  fragilita: ReadonlyArray<{ codice: string }>;
  presaInCarico: { data: string; canale: string; stato: string } | null;
}

export interface Servizio {
  codice: string;
  denominazione: string;
  categoria: string;
}

export interface Iscrizione {
  codice: string;
  assistito: string;
  servizio: string;
  dal: string;
  al: string | null;
}

export interface GraphqlStandInOptions {
  records: { assistiti?: readonly Assistito[]; servizi?: readonly Servizio[]; iscrizioni?: readonly Iscrizione[] };
  apiKey: string;
  /** Codes of the people whose `persona` cannot be read: served as null, with an error pointing at it. */
  brokenRecords?: ReadonlySet<string>;
  /** Most records one request may ask for; default 100. */
  maxPageSize?: number;
  host?: string;
  /** 0 = an ephemeral port. */
  port?: number;
  fault?: Fault | null;
  /** Seed of the fault PRNG (flaky, garbage). */
  seed?: number;
}

export interface GraphqlStandIn extends StandIn {
  /** The GraphQL endpoint: origin and `/graphql`. */
  readonly url: string;
}

export const graphqlStandInSchema = buildSchema(/* GraphQL */ `
  type Query {
    assistiti(primi: Int!, dopo: Int = 0, filtro: FiltroAssistiti): PaginaAssistiti!
    servizi(primi: Int!, dopo: Int = 0, filtro: FiltroServizi): PaginaServizi!
    iscrizioni(primi: Int!, dopo: Int = 0, filtro: FiltroIscrizioni): PaginaIscrizioni!
  }
  input FiltroAssistiti { codici: [ID!], canali: [String!], stati: [String!], presaInCaricoDal: String, presaInCaricoAl: String }
  input FiltroServizi { codici: [ID!], categorie: [String!] }
  input FiltroIscrizioni { codici: [ID!], assistiti: [ID!], servizi: [ID!] }
  type PaginaAssistiti { totale: Int! elementi: [Assistito]! }
  type PaginaServizi { totale: Int! elementi: [Servizio]! }
  type PaginaIscrizioni { totale: Int! elementi: [Iscrizione]! }
  type Assistito { codice: ID! persona: Persona permesso: Permesso fragilita: [Fragilita!]! presaInCarico: PresaInCarico }
  type Persona { nome: String cognome: String codiceFiscale: String sesso: String dataNascita: String cittadinanza: String }
  type Permesso { tipo: TipoPermesso }
  type TipoPermesso { codice: String descrizione: String }
  type Fragilita { codice: String! }
  type PresaInCarico { data: String canale: String stato: String }
  type Servizio { codice: ID! denominazione: String categoria: String }
  type Iscrizione { codice: ID! assistito: ID! servizio: ID! dal: String al: String }
`);

export async function createGraphqlStandIn(options: GraphqlStandInOptions): Promise<GraphqlStandIn> {
  const { apiKey, records } = options;
  const maxPageSize = options.maxPageSize ?? 100;
  const broken = options.brokenRecords ?? new Set<string>();
  const expected = Buffer.from(`Bearer ${apiKey}`);

  function slice<T>(all: readonly T[], args: { primi: number; dopo: number }, keep: (r: T) => boolean) {
    if (args.primi < 1 || args.primi > maxPageSize) {
      throw new GraphQLError(`primi deve essere tra 1 e ${maxPageSize}`, { extensions: { code: 'BAD_USER_INPUT' } });
    }
    if (args.dopo < 0) throw new GraphQLError('dopo non può essere negativo', { extensions: { code: 'BAD_USER_INPUT' } });
    const selected = all.filter(keep);
    return { totale: selected.length, elementi: selected.slice(args.dopo, args.dopo + args.primi) };
  }
  const anyOf = (list: readonly string[] | null | undefined, value: string | null | undefined) => !list || (value != null && list.includes(value));
  const within = (value: string | null | undefined, from: string | null | undefined, to: string | null | undefined) =>
    (!from && !to) || (value != null && value !== '' && (!from || value >= from) && (!to || value <= to));

  const rootValue = {
    assistiti(args: { primi: number; dopo: number; filtro?: { codici?: string[]; canali?: string[]; stati?: string[]; presaInCaricoDal?: string; presaInCaricoAl?: string } | null }) {
      const f = args.filtro ?? {};
      const page = slice(records.assistiti ?? [], args, (r) =>
        anyOf(f.codici, r.codice) && anyOf(f.canali, r.presaInCarico?.canale) && anyOf(f.stati, r.presaInCarico?.stato) && within(r.presaInCarico?.data, f.presaInCaricoDal, f.presaInCaricoAl),
      );
      // A person whose registry entry cannot be read comes with a null `persona` and an error at its path.
      const elementi = page.elementi.map((r) => ({
        ...r,
        persona: () => {
          if (broken.has(r.codice)) throw new GraphQLError('anagrafe non disponibile', { extensions: { code: 'ANAGRAFE_NON_DISPONIBILE' } });
          return r.persona;
        },
      }));
      return { ...page, elementi };
    },
    servizi(args: { primi: number; dopo: number; filtro?: { codici?: string[]; categorie?: string[] } | null }) {
      const f = args.filtro ?? {};
      return slice(records.servizi ?? [], args, (r) => anyOf(f.codici, r.codice) && anyOf(f.categorie, r.categoria));
    },
    iscrizioni(args: { primi: number; dopo: number; filtro?: { codici?: string[]; assistiti?: string[]; servizi?: string[] } | null }) {
      const f = args.filtro ?? {};
      return slice(records.iscrizioni ?? [], args, (r) => anyOf(f.codici, r.codice) && anyOf(f.assistiti, r.assistito) && anyOf(f.servizi, r.servizio));
    },
  };

  function authorised(header: string | string[] | undefined): boolean {
    if (typeof header !== 'string') return false;
    const given = Buffer.from(header);
    return given.length === expected.length && timingSafeEqual(given, expected);
  }

  /** The answer to one request, before any fault. */
  async function handle(req: IncomingMessage, url: URL, body: Buffer): Promise<StandInResponse> {
    const path = url.pathname;
    if (path !== '/graphql') return json(404, { errors: [{ message: `nessun servizio su ${path}` }] });
    if (req.method !== 'POST') return json(405, { errors: [{ message: `${req.method} non consentito: usare POST` }] }, { allow: 'POST' });
    if (!authorised(req.headers['authorization'])) {
      return json(200, { errors: [{ message: 'token mancante o non valido', extensions: { code: 'UNAUTHENTICATED' } }], data: null });
    }
    let request: { query?: unknown; variables?: unknown; operationName?: unknown };
    try {
      request = JSON.parse(body.toString('utf8')) as typeof request;
    } catch {
      return json(400, { errors: [{ message: 'corpo della richiesta non JSON' }] });
    }
    if (typeof request?.query !== 'string') return json(400, { errors: [{ message: 'manca "query"' }] });
    const result = await graphql({
      schema: graphqlStandInSchema,
      source: request.query,
      rootValue,
      variableValues: (request.variables ?? undefined) as Record<string, unknown> | undefined,
      operationName: typeof request.operationName === 'string' ? request.operationName : undefined,
    });
    return json(200, coded(result));
  }

  const server = await createStandInServer({
    host: options.host ?? '127.0.0.1',
    port: options.port ?? 0,
    handler: handle,
    fault: options.fault ?? null,
    seed: options.seed ?? 0,
  });
  return Object.assign(server, { url: `${server.origin}/graphql` }) as GraphqlStandIn;
}

/**
 * The result as JSON, each error with a code as Apollo's servers give it:
 * parse and validation failures (no data at all), input refused, else an
 * internal error.
 */
function coded(result: ExecutionResult): Record<string, unknown> {
  if (!result.errors) return { data: result.data };
  const whole = !('data' in result);
  const errors = result.errors.map((e) => {
    const own = e.extensions?.['code'];
    const code = typeof own === 'string' ? own : whole ? (e.message.startsWith('Syntax Error') ? 'GRAPHQL_PARSE_FAILED' : 'GRAPHQL_VALIDATION_FAILED') : 'INTERNAL_SERVER_ERROR';
    return { ...e.toJSON(), extensions: { ...e.extensions, code } };
  });
  return whole ? { errors } : { errors, data: result.data ?? null };
}
