/**
 * Faults the sandbox can inject into a city's stand-in, and the HTTP server
 * both kinds of stand-in run on, which applies them on every request.
 *
 * The spec is the one given in the environment, a comma-separated list of
 * `<target>=<fault>`:
 *
 *   090064=down,015146=slow:5000,063049=garbage,082053=flaky:0.3
 *
 * A target is a city (`090064`: every source of the city) or one source of a
 * city (`076063/housing`); a source target wins over its city's. Faults:
 *
 * - `down`: the connection is refused (the stand-in stops listening).
 * - `slow:<delayMs>`: every answer is held back that many milliseconds.
 * - `garbage`: 200 with bytes that are neither JSON nor CSV, labelled as usual.
 * - `html`: 200 with a text/html maintenance page.
 * - `half`: the answer promises its whole length, sends half of it, and the
 *   connection is cut.
 * - `auth`: 401 to everything, whatever the key.
 * - `flaky:<p>`: 503 with probability p (0..1), drawn from a PRNG seeded per
 *   stand-in, so the same requests in the same order fail the same way.
 * - `rename:<field>`: the system renames one of its fields (to `<field>_v2`)
 *   in every record it sends, as a new release of a city's system might: a
 *   JSON API (REST, GraphQL) the key, a SOAP service the element, a CSV
 *   export or a spreadsheet the column of its header, a database the view's
 *   column. The answers still arrive, and the records (or the file) cannot
 *   be read.
 *
 * Bad input, each applied by the stand-ins of the kinds of source that can
 * have it (`faultKindsOf`; the sandbox refuses it for any other):
 *
 * - `truncate`: a complete answer (its Content-Length is what is sent) whose
 *   body stops halfway: a JSON document or a SOAP envelope cut in the middle,
 *   a workbook cut short, a CSV export that ends halfway through a row (just
 *   after a cell of the middle row).
 * - `duplicate`: the first record of every list is sent again at its end (in
 *   every page, total and look-up, as the rest).
 * - `encoding`: a CSV export in the other encoding than its config says:
 *   UTF-8 for one said to be windows-1252 (or any one-byte encoding), and
 *   windows-1252 for one said to be UTF-8 (with no byte order mark).
 * - `formula`: in a spreadsheet's housing sheet, the places of the first
 *   housing resource hold a formula that cannot be computed (`=B2+`, saved
 *   with the error #VALUE! as its result), and those of the second a formula
 *   whose result is text ("dieci posti").
 * - `soapfault` / `soapfault:auth`: a SOAP service answers every operation
 *   with a SOAP fault (status 500): `soap:Server` "database non disponibile",
 *   or with `:auth` `soap:Client.Authentication` "credenziali non valide".
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Server as NetServer, Socket } from 'node:net';

export type Fault =
  | { kind: 'down' }
  | { kind: 'slow'; delayMs: number }
  | { kind: 'garbage' }
  | { kind: 'html' }
  | { kind: 'half' }
  | { kind: 'auth' }
  | { kind: 'flaky'; probability: number }
  | { kind: 'rename'; field: string }
  | { kind: 'truncate' }
  | { kind: 'duplicate' }
  | { kind: 'encoding' }
  | { kind: 'formula' }
  | { kind: 'soapfault'; auth: boolean };

export type FaultKind = Fault['kind'];

/** The faults every kind of source over HTTP can have. */
const httpFaults: readonly FaultKind[] = ['down', 'slow', 'garbage', 'html', 'half', 'auth', 'flaky', 'rename'];

/**
 * The faults each kind of source can have in the sandbox: what its stand-in
 * applies. A database has no HTTP body to cut or to send twice; only a CSV
 * export has an encoding, only a spreadsheet formulas, only a SOAP service
 * SOAP faults.
 */
export const faultKindsOf: Readonly<Record<string, ReadonlySet<FaultKind>>> = {
  rest: new Set([...httpFaults, 'truncate', 'duplicate']),
  csv: new Set([...httpFaults, 'truncate', 'duplicate', 'encoding']),
  soap: new Set([...httpFaults, 'truncate', 'duplicate', 'soapfault']),
  spreadsheet: new Set([...httpFaults, 'truncate', 'duplicate', 'formula']),
  graphql: new Set([...httpFaults, 'truncate']),
  sql: new Set(httpFaults),
};

/** Faults by target: `"090064"` (a city) or `"076063/housing"` (one of its sources). */
export type FaultSpec = ReadonlyMap<string, Fault>;

export class FaultSpecError extends Error {
  override name = 'FaultSpecError';
}

const TARGET = /^(\d{6})(?:\/([a-z][a-z0-9-]*))?$/;

/**
 * Parses a fault spec. Empty (or blank) means no faults. Throws a
 * FaultSpecError naming the part that is wrong.
 */
export function parseFaults(spec: string): FaultSpec {
  const faults = new Map<string, Fault>();
  for (const raw of spec.split(',')) {
    const part = raw.trim();
    if (part === '') continue;
    const eq = part.indexOf('=');
    if (eq < 0) throw new FaultSpecError(`fault "${part}": expected <city>=<fault>, e.g. 090064=down`);
    const target = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (!TARGET.test(target)) {
      throw new FaultSpecError(`fault "${part}": "${target}" is not a city (six-digit ISTAT code) or <city>/<source>`);
    }
    if (faults.has(target)) throw new FaultSpecError(`fault "${part}": ${target} is given a fault twice`);
    faults.set(target, parseFault(value, part));
  }
  return faults;
}

function parseFault(value: string, part: string): Fault {
  const colon = value.indexOf(':');
  const kind = (colon < 0 ? value : value.slice(0, colon)).trim();
  const arg = colon < 0 ? null : value.slice(colon + 1).trim();
  const noArg = (f: Fault): Fault => {
    if (arg !== null) throw new FaultSpecError(`fault "${part}": ${kind} takes no argument`);
    return f;
  };
  switch (kind) {
    case 'down':
    case 'garbage':
    case 'html':
    case 'half':
    case 'auth':
    case 'truncate':
    case 'duplicate':
    case 'encoding':
    case 'formula':
      return noArg({ kind });
    case 'soapfault': {
      if (arg !== null && arg !== 'auth' && arg !== 'server') throw new FaultSpecError(`fault "${part}": soapfault takes "auth" or nothing (a server fault), e.g. soapfault:auth`);
      return { kind, auth: arg === 'auth' };
    }
    case 'slow': {
      if (arg === null || !/^\d+$/.test(arg) || Number(arg) <= 0) {
        throw new FaultSpecError(`fault "${part}": slow needs a delay in milliseconds, e.g. slow:5000`);
      }
      return { kind, delayMs: Number(arg) };
    }
    case 'flaky': {
      const p = arg === null || !/^(0(\.\d+)?|1(\.0+)?|\.\d+)$/.test(arg) ? NaN : Number(arg);
      if (Number.isNaN(p)) throw new FaultSpecError(`fault "${part}": flaky needs a probability between 0 and 1, e.g. flaky:0.3`);
      return { kind, probability: p };
    }
    case 'rename': {
      // A column of a hand-kept sheet may have spaces and accents ("Data di nascita"); a comma ends the fault.
      if (arg === null || !/^[^\p{Cc}]{1,64}$/u.test(arg)) throw new FaultSpecError(`fault "${part}": rename needs the field to rename, e.g. rename:codice_fiscale`);
      return { kind, field: arg };
    }
    default:
      throw new FaultSpecError(
        `fault "${part}": unknown fault "${kind}"; known: down, slow:<ms>, garbage, html, half, auth, flaky:<p>, rename:<field>, truncate, duplicate, encoding, formula, soapfault[:auth]`,
      );
  }
}

/** The fault that applies to one source of a city: the source's own, else the city's. */
export function faultFor(faults: FaultSpec, city: string, sourceId: string): Fault | null {
  return faults.get(`${city}/${sourceId}`) ?? faults.get(city) ?? null;
}

/** The targets of a spec that name no known city or source, e.g. to refuse a typo. */
export function unknownTargets(faults: FaultSpec, sources: ReadonlyArray<{ city: string; sourceId: string }>): string[] {
  const known = new Set(sources.flatMap((s) => [s.city, `${s.city}/${s.sourceId}`]));
  return [...faults.keys()].filter((t) => !known.has(t));
}

// ---------------------------------------------------------------------------
// Deterministic randomness, shared by the sandbox (flaky faults, which records
// to break): the same seed always gives the same sequence.

/** 32-bit FNV-1a of a string: turns names into PRNG seeds. */
export function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** mulberry32: a small, fast PRNG; returns floats in [0, 1). */
export function createPrng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// ---------------------------------------------------------------------------
// The server both stand-ins run on.

/** A whole answer, built by a stand-in before any fault is applied. */
export interface StandInResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

/**
 * A stand-in's answer to one request, given its whole body (empty for a GET):
 * the services that are asked by posting (SOAP, GraphQL) answer from it.
 * `fault` is the fault in force for the request, for the faults the
 * stand-in applies itself (`StandInServerOptions.handles`).
 */
export type StandInHandler = (req: IncomingMessage, url: URL, body: Buffer, fault: Fault | null) => StandInResponse | Promise<StandInResponse>;

export interface StandInServerOptions {
  host: string;
  /** 0 = an ephemeral port. */
  port: number;
  handler: StandInHandler;
  fault?: Fault | null;
  /** Seed of the PRNG behind `flaky` and `garbage`; reset each time a fault is set. */
  seed: number;
  /**
   * Faults the handler applies itself (it knows its format: where a CSV row
   * ends, which file a changed export is): the server answers what the
   * handler gives for them, as it is.
   */
  handles?: readonly FaultKind[];
}

/** A running stand-in. */
export interface StandIn {
  readonly host: string;
  /** Kept while the stand-in is down, so it comes back where it was. */
  readonly port: number;
  /** `http://host:port`, without the source's base path. */
  readonly origin: string;
  readonly fault: Fault | null;
  /** Requests received (refused connections are not requests). */
  requestCount(): number;
  /**
   * Bytes of response bodies sent (headers not counted; a HEAD or a 304 sends
   * none; a body cut short counts what was written): what reading the source
   * costs the network.
   */
  bytesSent(): number;
  /** Forgets the requests and the bytes counted so far. */
  resetRequestCount(): void;
  /** Applies a fault from the next request on; `down` stops listening, lifting it listens again. */
  setFault(fault: Fault | null): Promise<void>;
  close(): Promise<void>;
}

/** Largest request head (request line and headers) a stand-in accepts, in bytes. */
const MAX_HEADER_BYTES = 128 * 1024;
/** Largest request body a stand-in reads, in bytes (a batch of 1000 UUIDs is about 40 KB); a larger one ends the connection. */
const MAX_BODY_BYTES = 1024 * 1024;

const MAINTENANCE_PAGE = Buffer.from(
  '<!DOCTYPE html>\n<html lang="it"><head><meta charset="utf-8"><title>Servizio in manutenzione</title></head>\n' +
    '<body><h1>Servizio temporaneamente non disponibile</h1>\n' +
    '<p>Il sistema è in manutenzione programmata. Si prega di riprovare più tardi.</p></body></html>\n',
  'utf8',
);

export async function createStandInServer(options: StandInServerOptions): Promise<StandIn> {
  const { host, handler, seed } = options;
  const handles = new Set(options.handles ?? []);
  let fault: Fault | null = options.fault ?? null;
  let random = createPrng(seed);
  let count = 0;
  let bytes = 0;
  let closed = false;
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();

  // A batch of 500 UUIDs is a request line of about 19 KB, above Node's default
  // 16 KB header limit; the cities' gateways take such look-ups.
  const server: Server = createServer({ maxHeaderSize: MAX_HEADER_BYTES }, (req, res) => {
    count++;
    const current = fault;
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) {
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      if (current?.kind === 'slow') {
        const timer = setTimeout(() => {
          timers.delete(timer);
          void serve(req, res, body, current);
        }, current.delayMs);
        timers.add(timer);
        return;
      }
      void serve(req, res, body, current);
    });
  });
  // Keep-alive connections would outlive `down`: track them to cut them.
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.on('clientError', (_err, socket) => socket.destroy());

  async function serve(req: IncomingMessage, res: ServerResponse, body: Buffer, current: Fault | null): Promise<void> {
    if (res.destroyed || closed) return;
    let response: StandInResponse;
    try {
      response = await answer(req, body, current);
    } catch (e) {
      response = {
        status: 500,
        headers: { 'content-type': 'text/plain; charset=utf-8' },
        body: Buffer.from(`stand-in error: ${(e as Error).message}\n`),
      };
    }
    // An answer worked out asynchronously may find the client gone or the stand-in closed.
    if (res.destroyed || closed) return;
    const head = req.method === 'HEAD' || response.status === 304;
    res.statusCode = response.status;
    for (const [name, value] of Object.entries(response.headers)) res.setHeader(name, value);
    res.setHeader('content-length', String(response.body.length));
    if (head) {
      res.end();
      return;
    }
    if (current?.kind === 'half' && response.body.length > 1) {
      // The whole length is promised; half is sent, then the connection is cut.
      const half = response.body.subarray(0, Math.floor(response.body.length / 2));
      bytes += half.length;
      res.write(half, () => res.socket?.destroy());
      return;
    }
    bytes += response.body.length;
    res.end(response.body);
  }

  async function answer(req: IncomingMessage, body: Buffer, current: Fault | null): Promise<StandInResponse> {
    const normal = () => handler(req, new URL(req.url ?? '/', 'http://stand-in'), body, current);
    if (current && handles.has(current.kind)) return normal();
    switch (current?.kind) {
      case 'auth':
        return json(401, { error: 'unauthorized', message: 'credenziali non valide' });
      case 'flaky':
        if (random() < current.probability) {
          return { status: 503, headers: { 'content-type': 'text/plain; charset=utf-8' }, body: Buffer.from('Service Unavailable\n') };
        }
        break;
      case 'html':
        return { status: 200, headers: { 'content-type': 'text/html; charset=utf-8' }, body: MAINTENANCE_PAGE };
      case 'garbage': {
        const type = (await normal()).headers['content-type'] ?? 'application/octet-stream';
        return { status: 200, headers: { 'content-type': type }, body: garbage(random) };
      }
      case 'rename': {
        const answered = await normal();
        if (!answered.headers['content-type']?.startsWith('application/json') || answered.status !== 200) return answered;
        const renamed = renameField(JSON.parse(answered.body.toString('utf8')), current.field);
        return { ...answered, body: Buffer.from(JSON.stringify(renamed), 'utf8') };
      }
      case 'truncate': {
        // A complete answer, Content-Length and all, of half a document: the file itself is cut.
        const answered = await normal();
        if (answered.status !== 200 || answered.body.length < 2) return answered;
        return { ...answered, body: answered.body.subarray(0, Math.floor(answered.body.length / 2)) };
      }
      default:
        break;
    }
    return normal();
  }

  const listen = (port: number) => listenOn(server, port, host);

  const stopListening = () =>
    new Promise<void>((resolve) => {
      if (!server.listening) return resolve();
      server.close(() => resolve());
      for (const s of sockets) s.destroy();
    });

  const port = await listen(options.port);
  if (fault?.kind === 'down') await stopListening();

  const standIn: StandIn = {
    host,
    port,
    origin: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    get fault() {
      return fault;
    },
    requestCount: () => count,
    bytesSent: () => bytes,
    resetRequestCount: () => {
      count = 0;
      bytes = 0;
    },
    async setFault(next) {
      if (closed) throw new Error('stand-in is closed');
      fault = next;
      random = createPrng(seed);
      if (next?.kind === 'down') await stopListening();
      else if (!server.listening) await listen(port);
    },
    async close() {
      if (closed) return;
      closed = true;
      for (const t of timers) clearTimeout(t);
      timers.clear();
      await stopListening();
    },
  };
  return standIn;
}

/** The rows with the first one again at the end, as a `duplicate` fault serves them. */
export function withDuplicate<T>(rows: readonly T[]): readonly T[] {
  return rows.length === 0 ? rows : [...rows, rows[0]!];
}

/** A copy of a JSON value with `field` renamed to `<field>_v2` in every object, at any depth. */
function renameField(value: unknown, field: string): unknown {
  if (Array.isArray(value)) return value.map((v) => renameField(v, field));
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k === field ? `${field}_v2` : k, renameField(v, field)]));
}

/** A JSON answer. */
export function json(status: number, body: unknown, headers: Record<string, string> = {}): StandInResponse {
  return {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
    body: Buffer.from(JSON.stringify(body), 'utf8'),
  };
}

/**
 * Bytes that parse as neither JSON nor CSV: a gzip magic number (a body
 * compressed without saying so) followed by noise with NULs in it.
 */
function garbage(random: () => number): Buffer {
  const bytes = Buffer.alloc(512);
  bytes[0] = 0x1f;
  bytes[1] = 0x8b;
  for (let i = 2; i < bytes.length; i++) bytes[i] = i % 7 === 0 ? 0 : Math.floor(random() * 256);
  return bytes;
}

/** Starts a server listening (port 0: any free one) and gives the port it got; a failure to listen rejects. */
export function listenOn(server: NetServer, port: number, host: string): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const onError = (e: Error) => reject(e);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : port);
    });
  });
}

/** RFC 9110: If-None-Match decides when present; otherwise If-Modified-Since (HTTP dates have whole seconds). */
export function notModified(req: IncomingMessage, file: { etag: string; modifiedSeconds: number }): boolean {
  const inm = req.headers['if-none-match'];
  if (inm !== undefined) {
    // Weak comparison: W/"x" matches "x".
    const tags = inm.split(',').map((t) => t.trim().replace(/^W\//, ''));
    return tags.includes('*') || tags.includes(file.etag);
  }
  const ims = req.headers['if-modified-since'];
  if (ims !== undefined) {
    const since = Date.parse(ims);
    return !Number.isNaN(since) && file.modifiedSeconds <= Math.floor(since / 1000);
  }
  return false;
}
