/**
 * Stand-in for a city system that is a SOAP 1.1 web service (document/
 * literal): each entity's endpoint serves its WSDL at `?wsdl` and answers its
 * operation over the rows it is given, paged by the request's elements, with
 * the total in the response, and batch look-ups by a list of ids.
 *
 * Its quirks, as such services have them: the response's prefixes are its
 * own (`ns2:`), a bad request (an unknown SOAPAction, a page larger than the
 * maximum, a body that is not an envelope) is a SOAP fault with status 500,
 * and a missing or wrong key is a fault `Client.Authentication`, also with
 * 500. The sandbox's faults apply as to every stand-in (faults.ts), and
 * these as a SOAP service has them: `soapfault` answers every operation with
 * a fault of the service's own (`soap:Server`, "database non disponibile";
 * `soapfault:auth`, `soap:Client.Authentication`), `rename:<element>` calls
 * that element `<element>_v2` in every record (a dotted path renames its
 * last element where the record has the path), `duplicate` lists the
 * first record of every operation again at its end, and `truncate` cuts
 * every operation's answer in the middle (a complete answer of XML that does
 * not parse; the WSDL, a file of its own, is served whole).
 *
 * Rows are given in the source's own names, flattened as the connector
 * flattens them: dotted paths (`anagrafica.nome`), `@name` for an attribute
 * of the record (`path@name` below it), a list for repeated children, null
 * for `xsi:nil`.
 *
 * A service without `auth` in its config is reached without a key (on the
 * city's own network, say): the stand-in then takes every request, and the
 * sandbox's `auth` fault still refuses them all.
 */
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { XMLBuilder, XMLParser, XMLValidator } from 'fast-xml-parser';
import type { SoapSourceConfig } from '../adapters/connectors/soap-config.ts';
import type { RawRow } from '../adapters/port.ts';
import type { EntityName } from '../schema/records.ts';
import { createStandInServer, withDuplicate, type Fault, type StandIn, type StandInResponse } from './faults.ts';

/** What the stand-in needs of a soap source's config. */
export type SoapStandInDialect = Pick<SoapSourceConfig, 'id' | 'namespace' | 'paging' | 'maxBatchSize' | 'entities'> & {
  /** As the config's: absent, no key is asked for. */
  auth?: { header: string; prefix: string } | null;
};

export interface SoapStandInOptions {
  dialect: SoapStandInDialect;
  rows: ReadonlyMap<EntityName, readonly RawRow[]>;
  /** The key the auth header must carry; needed only where the dialect has `auth`. */
  apiKey?: string | null;
  /** Path of the service below the origin, e.g. "/ws"; the entities' paths follow it. */
  basePath?: string;
  host?: string;
  /** 0 = an ephemeral port. */
  port?: number;
  fault?: Fault | null;
  /** Seed of the fault PRNG (flaky, garbage). */
  seed?: number;
}

export interface SoapStandIn extends StandIn {
  /** Base URL of the source: origin and base path. */
  readonly url: string;
}

const SOAP_NS = 'http://schemas.xmlsoap.org/soap/envelope/';
const XSI_NS = 'http://www.w3.org/2001/XMLSchema-instance';
const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@_', removeNSPrefix: true, parseTagValue: false, trimValues: true });
const builder = new XMLBuilder({ ignoreAttributes: false, attributeNamePrefix: '@_', suppressEmptyNode: true, suppressBooleanAttributes: false });

type Operation = { entity: EntityName; config: NonNullable<SoapStandInDialect['entities'][EntityName]>; rows: readonly RawRow[] };

export async function createSoapStandIn(options: SoapStandInOptions): Promise<SoapStandIn> {
  const { dialect, apiKey } = options;
  const basePath = options.basePath ?? '';
  if (dialect.auth && !apiKey) throw new Error(`source "${dialect.id}" asks for a key in ${dialect.auth.header}: give the stand-in an API key`);
  const expected = dialect.auth ? Buffer.from(dialect.auth.prefix + apiKey) : null;
  /** Endpoint path -> SOAPAction -> operation. */
  const endpoints = new Map<string, Map<string, Operation>>();
  for (const [entity, config] of Object.entries(dialect.entities) as Array<[EntityName, Operation['config'] | undefined]>) {
    if (!config) continue;
    const path = basePath + config.path;
    const ops = endpoints.get(path) ?? new Map<string, Operation>();
    ops.set(config.soapAction, { entity, config, rows: options.rows.get(entity) ?? [] });
    endpoints.set(path, ops);
  }

  function authorised(header: string | string[] | undefined): boolean {
    if (expected === null) return true;
    if (typeof header !== 'string') return false;
    const given = Buffer.from(header);
    return given.length === expected.length && timingSafeEqual(given, expected);
  }

  function handle(req: IncomingMessage, url: URL, body: Buffer, current: Fault | null): StandInResponse {
    const ops = endpoints.get(url.pathname.replace(/\/+$/, ''));
    if (!ops) return { status: 404, headers: { 'content-type': 'text/plain; charset=utf-8' }, body: Buffer.from('servizio non trovato\n') };
    if (req.method === 'GET' && url.search === '?wsdl') return xml(200, wsdlOf(url.pathname, [...ops.values()]));
    if (req.method !== 'POST') return { status: 405, headers: { allow: 'POST', 'content-type': 'text/plain; charset=utf-8' }, body: Buffer.from('solo POST\n') };
    if (!authorised(dialect.auth ? req.headers[dialect.auth.header.toLowerCase()] : undefined)) return fault('Client.Authentication', 'credenziali mancanti o non valide');
    if (current?.kind === 'soapfault') return current.auth ? fault('Client.Authentication', 'credenziali non valide') : fault('Server', 'database non disponibile');
    const action = String(req.headers['soapaction'] ?? '').replace(/^"|"$/g, '');
    const op = ops.get(action);
    if (!op) return fault('Client', 'SOAPAction sconosciuta');
    if (!/^text\/xml\b/.test(req.headers['content-type'] ?? '')) return fault('Client', 'atteso text/xml');
    const text = body.toString('utf8');
    if (XMLValidator.validate(text) !== true) return fault('Client', 'richiesta non valida');
    const request = (parser.parse(text) as Record<string, any>)?.['Envelope']?.['Body']?.[op.config.request];
    if (typeof request !== 'object' || request === null) return fault('Client', `atteso l'elemento ${op.config.request}`);
    const served = current?.kind === 'duplicate' ? withDuplicate(op.rows) : current?.kind === 'rename' ? op.rows.map((r) => renamed(r, current.field)) : op.rows;
    const answered = answer({ ...op, rows: served }, request as Record<string, unknown>);
    return current?.kind === 'truncate' ? { ...answered, body: answered.body.subarray(0, Math.floor(answered.body.length / 2)) } : answered;
  }

  function answer({ config, rows }: Operation, request: Record<string, unknown>): StandInResponse {
    const { paging } = dialect;
    const size = int(request[paging.sizeParam]);
    const start = int(request[paging.startParam]);
    const first = paging.style === 'page' ? paging.firstPage : 0;
    if (size === null || size < 1 || size > paging.maxPageSize) return fault('Client', `${paging.sizeParam} deve essere tra 1 e ${paging.maxPageSize}`);
    if (start === null || start < first) return fault('Client', `${paging.startParam} deve essere almeno ${first}`);
    let selected = rows;
    for (const [key, listPath] of Object.entries(config.batchParams)) {
      const names = listPath.split('.');
      let node: unknown = request;
      for (const name of names) node = Array.isArray(node) ? node.flatMap((n) => (n as Record<string, unknown>)?.[name] ?? []) : (node as Record<string, unknown> | undefined)?.[name];
      if (node === undefined) continue;
      const ids = (Array.isArray(node) ? node : [node]).map(String);
      if (ids.length > dialect.maxBatchSize) return fault('Client', `al massimo ${dialect.maxBatchSize} codici per richiesta`);
      const field = (config.fields as Record<string, string>)[key]!;
      const wanted = new Set(ids);
      selected = selected.filter((row) => wanted.has(String(row[field])));
    }
    const offset = paging.style === 'page' ? (start - first) * size : start;
    const records = selected.slice(offset, offset + size).map(recordOf);
    const body: Record<string, unknown> = {};
    const recordNames = config.recordsPath.split('.');
    setPath(body, recordNames.slice(0, -1), records.length === 0 ? '' : { [`ns2:${recordNames.at(-1)!}`]: records });
    setPath(body, config.totalPath.split('.'), String(selected.length));
    // The response element carries the namespace declaration.
    const [top] = Object.keys(body);
    (body[top!] as Record<string, unknown>)['@_xmlns:ns2'] = dialect.namespace;
    return xml(200, envelope(body));
  }

  const server = await createStandInServer({
    host: options.host ?? '127.0.0.1',
    port: options.port ?? 0,
    handler: handle,
    fault: options.fault ?? null,
    seed: options.seed ?? 0,
    handles: ['truncate'],
  });
  return Object.assign(server, { url: server.origin + basePath }) as SoapStandIn;
}

/**
 * A record as nested elements: dotted keys to children, `@name` to attributes,
 * lists repeated, null as xsi:nil. A list of attribute values is one repeated
 * element per value (`fragilita.voce@codice`: `<voce codice="..."/>` each),
 * beside the texts of the same repeated element if the row has those too; an
 * absent attribute (null) is left out, as an attribute cannot be nil.
 */
function recordOf(row: RawRow): Record<string, unknown> {
  const record: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(row)) {
    const at = key.lastIndexOf('@');
    const path = at >= 0 ? key.slice(0, at) : key;
    const names = path === '' ? [] : path.split('.').map((n) => `ns2:${n}`);
    if (at >= 0) {
      const attribute = `@_${key.slice(at + 1)}`;
      if (names.length > 0 && Array.isArray(value)) {
        const parent = elementAt(record, names.slice(0, -1));
        const last = names.at(-1)!;
        const existing = Array.isArray(parent[last]) ? (parent[last] as unknown[]) : [];
        parent[last] = Array.from({ length: Math.max(value.length, existing.length) }, (_, i) => (i < value.length ? { ...asElement(existing[i]), [attribute]: String(value[i]) } : existing[i]));
        continue;
      }
      if (value !== null && value !== undefined) elementAt(record, names)[attribute] = String(value);
      continue;
    }
    const leaf = value === null || value === undefined ? { '@_xsi:nil': 'true', '@_xmlns:xsi': XSI_NS } : Array.isArray(value) ? value.map(String) : String(value);
    setPath(record, names, leaf, true);
  }
  return record;
}

/**
 * A row whose element `element` (a local name, or a dotted path ending in
 * it) is called `<name>_v2`, wherever the row's keys reach it: its text, its
 * children and its attributes move with it.
 */
function renamed(row: RawRow, element: string): RawRow {
  const wanted = element.split('.');
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(row)) {
    const at = key.indexOf('@');
    const path = (at >= 0 ? key.slice(0, at) : key).split('.');
    for (let end = wanted.length; end <= path.length; end++) {
      if (wanted.every((name, k) => path[end - wanted.length + k] === name)) {
        path[end - 1] = `${path[end - 1]}_v2`;
        break;
      }
    }
    out[path.join('.') + (at >= 0 ? key.slice(at) : '')] = value;
  }
  return out;
}

/** The element at a path of prefixed names, made where missing; one whose text came first keeps it beside the attributes to come. */
function elementAt(record: Record<string, unknown>, names: readonly string[]): Record<string, unknown> {
  let node = record;
  for (const n of names) {
    const next = node[n];
    node = (typeof next === 'string' ? (node[n] = { '#text': next }) : isElement(next) ? next : (node[n] = {})) as Record<string, unknown>;
  }
  return node;
}

const isElement = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const asElement = (v: unknown): Record<string, unknown> => (isElement(v) ? v : v === undefined ? {} : { '#text': v });

function setPath(target: Record<string, unknown>, names: readonly string[], value: unknown, prefixed = false): void {
  let node = target;
  const key = (n: string) => (prefixed || n.includes(':') ? n : `ns2:${n}`);
  for (const name of names.slice(0, -1)) {
    const next = node[key(name)];
    node = (isElement(next) ? next : (node[key(name)] = {})) as Record<string, unknown>;
  }
  const last = key(names.at(-1)!);
  const existing = node[last];
  if (isElement(existing) && typeof value === 'string') existing['#text'] = value;
  // Texts of a repeated element whose attributes came first: each beside its own.
  else if (Array.isArray(existing) && Array.isArray(value) && existing.some(isElement)) {
    node[last] = Array.from({ length: Math.max(value.length, existing.length) }, (_, i) => (i < value.length ? { ...asElement(existing[i]), '#text': value[i] } : existing[i]));
  } else node[last] = value;
}

function envelope(body: Record<string, unknown>): string {
  return '<?xml version="1.0" encoding="utf-8"?>' + builder.build({ 'soap:Envelope': { '@_xmlns:soap': SOAP_NS, 'soap:Body': body } });
}

function xml(status: number, text: string): StandInResponse {
  return { status, headers: { 'content-type': 'text/xml; charset=utf-8' }, body: Buffer.from(text, 'utf8') };
}

/** A SOAP 1.1 fault, sent with status 500 as the binding says. */
function fault(code: string, text: string): StandInResponse {
  return xml(500, envelope({ 'soap:Fault': { faultcode: `soap:${code}`, faultstring: text } }));
}

function int(v: unknown): number | null {
  return typeof v === 'string' && /^\d{1,9}$/.test(v) ? Number(v) : null;
}

/** A WSDL 1.1 of the endpoint's operations (their messages typed loosely: the stand-in checks requests itself). */
function wsdlOf(path: string, ops: readonly Operation[]): string {
  const portOps = ops.map(({ config }) => ({ '@_name': config.operation, 'wsdl:input': { '@_message': `tns:${config.operation}In` }, 'wsdl:output': { '@_message': `tns:${config.operation}Out` } }));
  const bindingOps = ops.map(({ config }) => ({
    '@_name': config.operation,
    'soap:operation': { '@_soapAction': config.soapAction },
    'wsdl:input': { 'soap:body': { '@_use': 'literal' } },
    'wsdl:output': { 'soap:body': { '@_use': 'literal' } },
  }));
  const messages = ops.flatMap(({ config }) => [
    { '@_name': `${config.operation}In`, 'wsdl:part': { '@_name': 'parameters', '@_element': `tns:${config.request}` } },
    { '@_name': `${config.operation}Out`, 'wsdl:part': { '@_name': 'parameters', '@_element': `tns:${config.recordsPath.split('.')[0]}` } },
  ]);
  return '<?xml version="1.0" encoding="utf-8"?>' + builder.build({
    'wsdl:definitions': {
      '@_xmlns:wsdl': 'http://schemas.xmlsoap.org/wsdl/',
      '@_xmlns:soap': 'http://schemas.xmlsoap.org/wsdl/soap/',
      '@_xmlns:tns': 'urn:lgnet:stand-in',
      '@_targetNamespace': 'urn:lgnet:stand-in',
      'wsdl:message': messages,
      'wsdl:portType': { '@_name': 'Port', 'wsdl:operation': portOps },
      'wsdl:binding': { '@_name': 'Binding', '@_type': 'tns:Port', 'soap:binding': { '@_style': 'document', '@_transport': 'http://schemas.xmlsoap.org/soap/http' }, 'wsdl:operation': bindingOps },
      'wsdl:service': { '@_name': 'Service', 'wsdl:port': { '@_name': 'Port', '@_binding': 'tns:Binding', 'soap:address': { '@_location': path } } },
    },
  });
}
