/**
 * A city system that is a SOAP 1.1 web service (document/literal): one
 * operation per entity, paged by elements of the request (`<pagina>`,
 * `<dimensionePagina>`) with the total in the response (`<totaleRecord>`),
 * batch look-ups by a list of ids in the request, and SOAP faults.
 *
 * Requests go through the source's one HTTP client and resilience policy
 * (http.ts). Responses are read by local element names, whatever prefixes a
 * server picks; each record element becomes a RawRow whose keys are dotted
 * paths (`anagrafica.nome`), attributes `path@name`, repeated children a
 * list, an empty element "" and an `xsi:nil` one null.
 *
 * Errors: a SOAP fault is CITY_SOURCE_ERROR naming its faultcode (its
 * faultstring only where it cannot hold personal data), or CITY_AUTH_FAILED
 * when it says authentication; bytes that are not XML, or XML without the
 * configured elements, are CITY_BAD_RESPONSE naming what is wrong, never
 * quoting it; a record element with no fields is that one row rejected.
 */
import { XMLBuilder, XMLParser, XMLValidator } from 'fast-xml-parser';
import { CityError } from '../../schema/errors.ts';
import type { EntityName } from '../../schema/records.ts';
import type { ResolvedSource } from '../config.ts';
import { rowDefect, type ConnectorDeps, type LookupKey, type RawPage, type RawRow, type SourceConnector } from '../port.ts';
import { abortable, createHttpClient, failureBody, mapConcurrently, mediaType, withHealth, type UpstreamResponse } from './http.ts';
import { maxConcurrentRequests, readAll, readSlice } from './paged.ts';

export type SoapSource = ResolvedSource & { kind: 'soap' };
type SoapEntity = NonNullable<SoapSource['entities'][EntityName]>;


export const SOAP_ENVELOPE_NS = 'http://schemas.xmlsoap.org/soap/envelope/';

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  // Prefixes differ between servers and even between responses: elements are matched by local name.
  removeNSPrefix: true,
  // Ids ("007"), dates and codes stay text: the row mapper reads them.
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  processEntities: true,
  htmlEntities: false,
});
const builder = new XMLBuilder({ ignoreAttributes: false, attributeNamePrefix: '@_', suppressEmptyNode: false });

interface Chunk {
  rows: RawRow[];
  total: number;
}

export function createSoapConnector(city: string, source: SoapSource, deps: ConnectorDeps): SourceConnector {
  const bad = (detail: string) => new CityError('CITY_BAD_RESPONSE', city, detail);
  const notConfigured = (detail: string) => new CityError('CITY_NOT_CONFIGURED', city, `source "${source.id}": ${detail}`);
  const http = createHttpClient(city, source, deps);
  const { paging } = source;

  let state: 'UP' | 'DOWN' | 'UNKNOWN' = 'UNKNOWN';
  let lastGood: Date | null = null;
  /** Per endpoint, the WSDL's operations and their SOAPActions, once read (a failed read is tried again at the next use). */
  const wsdls = new Map<string, Promise<Map<string, string | null>>>();

  function entityConfig(entity: EntityName): SoapEntity {
    const config = source.entities[entity];
    if (!config) throw notConfigured(`does not serve ${entity}`);
    return config;
  }

  /** Posts one envelope; resolves with the response's Body, throws a CityError for a fault or an unreadable answer. */
  async function call(path: string, soapAction: string, envelope: string, signal: AbortSignal | undefined): Promise<Record<string, unknown>> {
    let res: UpstreamResponse;
    try {
      res = await http.post(path, {
        body: envelope,
        headers: { accept: 'text/xml', 'content-type': 'text/xml; charset=utf-8', soapaction: `"${soapAction}"` },
        signal,
        // SOAP 1.1 sends a fault with status 500.
        readBodyOn: (status) => status === 500,
      });
    } catch (e) {
      // The HTTP client calls a 500 the city unavailable; the fault in its body says more.
      const kept = failureBody(e);
      if (kept) {
        const fault = faultIn(kept);
        if (fault) throw fault;
      }
      throw e;
    }
    if (res.status === 304) throw bad('status 304 to a SOAP request');
    const doc = readXml(res.body, mediaType(res.headers['content-type']));
    if (doc === null) throw bad('expected a SOAP envelope, got a body that does not parse as XML');
    const body = bodyOf(doc);
    const fault = faultOf(body);
    if (fault) throw fault;
    return body;
  }

  /** The fault a status-500 body holds; null when it holds none that can be read (the status then speaks for itself). */
  function faultIn(bytes: Buffer): CityError | null {
    try {
      const doc = readXml(bytes, 'text/xml');
      return doc === null ? null : faultOf(bodyOf(doc));
    } catch {
      return null;
    }
  }

  /** The parsed document; throws for a content type that is not XML, null for bytes that do not parse. */
  function readXml(bytes: Buffer, type: string | null): Record<string, unknown> | null {
    if (type !== null && type !== 'text/plain' && !/^(text|application)\/([\w.-]+\+)?xml$/.test(type)) throw bad(`expected XML, got ${type}`);
    const text = new TextDecoder().decode(bytes);
    // The validator's messages quote element names and positions only; none is repeated here.
    if (XMLValidator.validate(text) !== true) return null;
    return parser.parse(text) as Record<string, unknown>;
  }

  function bodyOf(doc: Record<string, unknown>): Record<string, unknown> {
    const envelope = doc['Envelope'];
    if (!isObject(envelope)) throw bad('expected a SOAP envelope, got XML without an Envelope');
    const body = envelope['Body'];
    if (!isObject(body)) throw bad('SOAP envelope without a Body');
    return body;
  }

  /** A SOAP 1.1 (or 1.2) fault in the Body, as the error it stands for; null when there is none. */
  function faultOf(body: Record<string, unknown>): CityError | null {
    const fault = body['Fault'];
    if (fault === undefined) return null;
    const f = isObject(fault) ? fault : {};
    // SOAP 1.1: faultcode, faultstring; SOAP 1.2: Code/Value (Subcode/Value), Reason/Text.
    const code11 = textOf(f['faultcode']);
    const code12 = [textOf(at(f, 'Code.Value')), textOf(at(f, 'Code.Subcode.Value'))].filter((c) => c !== null).join('/');
    const code = code11 ?? (code12 || null);
    const reason = textOf(f['faultstring']) ?? textOf(at(f, 'Reason.Text'));
    const safeCode = code !== null && /^[\w.:/-]{1,80}$/.test(code) ? code : 'with an unreadable faultcode';
    const said = reason !== null && dataFree(reason) ? ` ("${reason}")` : '';
    const detail = `SOAP fault ${safeCode}${said}`;
    // wsse:FailedAuthentication, wsse:InvalidSecurityToken, Client.Authentication, ...: the credentials were refused.
    if (code !== null && /auth|security|credential|unauthori[sz]ed|forbidden/i.test(code)) return new CityError('CITY_AUTH_FAILED', city, detail);
    return new CityError('CITY_SOURCE_ERROR', city, detail);
  }

  /** The request envelope of an operation: the paging elements, and the batch list if any. */
  function envelopeOf(config: SoapEntity, index: number, size: number, batch?: { path: string; values: readonly string[] }): string {
    // Qualified: a default namespace on the request element reaches its children; unqualified: only the element is prefixed.
    const request: Record<string, unknown> = source.elementFormDefault === 'qualified' ? { '@_xmlns': source.namespace } : { '@_xmlns:tns': source.namespace };
    if (batch) {
      const names = batch.path.split('.');
      let value: unknown = [...batch.values];
      for (const name of names.slice(1).reverse()) value = { [name]: value };
      request[names[0]!] = value;
    }
    request[paging.startParam] = paging.style === 'page' ? paging.firstPage + index / size : index;
    request[paging.sizeParam] = size;
    const name = source.elementFormDefault === 'qualified' ? config.request : `tns:${config.request}`;
    return '<?xml version="1.0" encoding="utf-8"?>' + builder.build({ 'soap:Envelope': { '@_xmlns:soap': SOAP_ENVELOPE_NS, 'soap:Body': { [name]: request } } });
  }

  /** Whether the WSDL declares the entity's operation (and its SOAPAction, where it declares one); read once. */
  async function checkOperation(entity: EntityName, config: SoapEntity, signal: AbortSignal | undefined): Promise<void> {
    if (!source.checkWsdl) return;
    let wsdl = wsdls.get(config.path);
    if (!wsdl) {
      // Shared by every caller until it settles, so read under no one caller's signal (the policy bounds it); each waits under its own.
      wsdl = readWsdl(config.path);
      wsdls.set(config.path, wsdl);
      wsdl.catch(() => wsdls.delete(config.path));
    }
    const operations = await abortable(wsdl, signal);
    if (!operations.has(config.operation)) throw notConfigured(`the WSDL declares no operation "${config.operation}" (${entity})`);
    const declared = operations.get(config.operation);
    if (declared !== null && declared !== undefined && declared !== config.soapAction) {
      throw notConfigured(`operation "${config.operation}" (${entity}) has SOAPAction "${declared}" in the WSDL, not "${config.soapAction}"`);
    }
  }

  async function readWsdl(path: string): Promise<Map<string, string | null>> {
    const res = await http.get(`${path}?wsdl`, { headers: { accept: 'text/xml' } });
    const doc = readXml(res.body, mediaType(res.headers['content-type']));
    if (doc === null) throw bad(`the WSDL at "${path}?wsdl" does not parse as XML`);
    const definitions = doc['definitions'];
    if (!isObject(definitions)) throw bad(`the WSDL at "${path}?wsdl" is not a WSDL 1.1 document`);
    const operations = new Map<string, string | null>();
    for (const portType of list(definitions['portType'])) {
      for (const op of list(isObject(portType) ? portType['operation'] : undefined)) {
        const name = isObject(op) ? op['@_name'] : undefined;
        if (typeof name === 'string' && !operations.has(name)) operations.set(name, null);
      }
    }
    for (const binding of list(definitions['binding'])) {
      for (const op of list(isObject(binding) ? binding['operation'] : undefined)) {
        if (!isObject(op) || typeof op['@_name'] !== 'string') continue;
        const action = at(op, 'operation.@_soapAction');
        operations.set(op['@_name'], typeof action === 'string' ? action : (operations.get(op['@_name']) ?? null));
      }
    }
    return operations;
  }

  /** One request for `size` records from position `index`; records the source's health. */
  async function fetchChunk(entity: EntityName, config: SoapEntity, index: number, size: number, signal: AbortSignal | undefined, batch?: { path: string; values: readonly string[] }): Promise<Chunk> {
    try {
      await checkOperation(entity, config, signal);
      const body = await call(config.path, config.soapAction, envelopeOf(config, index, size, batch), signal);
      const chunk = readChunk(body, config);
      // A server that pages by its own size (smaller or larger) would make rows go missing or repeat.
      const expected = Math.max(0, Math.min(size, chunk.total - index));
      if (chunk.rows.length > size || chunk.rows.length < expected) {
        throw bad(`${chunk.rows.length} records for a request of ${size} from record ${index} (total ${chunk.total}): check paging.maxPageSize against the service's own limit`);
      }
      state = 'UP';
      lastGood = new Date(deps.now());
      return chunk;
    } catch (e) {
      // The caller giving up says nothing about the city, nor does a fault of the graph's own (not a CityError);
      // nor does a config that names an operation the service lacks.
      if (!signal?.aborted && e instanceof CityError && e.code !== 'CITY_NOT_CONFIGURED') state = 'DOWN';
      throw e;
    }
  }

  function readChunk(body: Record<string, unknown>, config: SoapEntity): Chunk {
    const names = config.recordsPath.split('.');
    const parent = reach(body, names.slice(0, -1));
    const records = isObject(parent) ? parent[names[names.length - 1]!] : undefined;
    const rows = list(records).map(rowOf);
    const totalText = textOf(reach(body, config.totalPath.split('.')));
    if (totalText === null || !/^\d{1,15}$/.test(totalText)) throw bad(`"${config.totalPath}" is not a non-negative integer`);
    return { rows, total: Number(totalText) };
  }

  /** The value at a path of local names below the Body; a missing element is CITY_BAD_RESPONSE naming it. */
  function reach(body: Record<string, unknown>, names: readonly string[]): unknown {
    let value: unknown = body;
    for (let i = 0; i < names.length; i++) {
      // An element repeated where one is expected: the first one is read.
      if (Array.isArray(value)) value = value[0];
      const next = isObject(value) ? value[names[i]!] : undefined;
      if (next === undefined) throw bad(`no element "${names.slice(0, i + 1).join('.')}" in the response Body`);
      value = next;
    }
    return value;
  }

  /** Every record the request selects, following pages of maxPageSize until the total is reached. */
  async function fetchAll(entity: EntityName, config: SoapEntity, signal: AbortSignal | undefined, batch?: { path: string; values: readonly string[] }): Promise<RawRow[]> {
    return (await readAll(paging.maxPageSize, (start, size) => fetchChunk(entity, config, start, size, signal, batch))).rows;
  }

  return {
    kind: 'soap',

    async page(entity, { offset, limit }, signal) {
      const config = entityConfig(entity);
      const { rows, total } = await readSlice(paging.style, paging.maxPageSize, offset, limit, (start, size) => fetchChunk(entity, config, start, size, signal));
      return { rows, total: total! } satisfies RawPage;
    },

    async lookup(entity, key, values, signal) {
      const config = entityConfig(entity);
      const wanted = [...new Set(values)];
      if (wanted.length === 0) return [];
      const path = (config.batchParams as Partial<Record<LookupKey, string>>)[key];
      if (path === undefined) {
        // No batch list in the request: read the whole entity and pick the rows here.
        const field = (config.fields as Record<string, string | undefined>)[key];
        if (field === undefined) throw notConfigured(`${entity} has no field for ${key}`);
        const set = new Set(wanted);
        return (await fetchAll(entity, config, signal)).filter((row) => {
          const v = row[field];
          return typeof v === 'string' && set.has(v);
        });
      }
      const batches: string[][] = [];
      for (let i = 0; i < wanted.length; i += source.maxBatchSize) batches.push(wanted.slice(i, i + source.maxBatchSize));
      const results = await mapConcurrently(batches, maxConcurrentRequests, (values) => fetchAll(entity, config, signal, { path, values }));
      return results.flat();
    },

    status() {
      return withHealth({ status: state, asOf: lastGood }, http.health());
    },
  };
}

/**
 * A record element as a row: nested elements flattened to dotted keys,
 * attributes as `path@name`, repeated children as a list of their values,
 * `xsi:nil` as null. One with no fields (text, or nil) is a defective row.
 */
export function rowOf(record: unknown): RawRow {
  if (!isObject(record) || record['@_nil'] === 'true' || Object.keys(record).every((k) => k === '#text')) {
    return { [rowDefect]: 'record element without fields' } as RawRow;
  }
  const row: Record<string, unknown> = {};
  flatten(record, '', row);
  return row;
}

function flatten(value: unknown, path: string, row: Record<string, unknown>): void {
  if (Array.isArray(value)) {
    // Repeated children: each key collects the values of every repetition.
    const parts = value.map((v) => {
      const one: Record<string, unknown> = {};
      flatten(v, path, one);
      return one;
    });
    const keys = [...new Set(parts.flatMap((p) => Object.keys(p)))];
    for (const key of keys) row[key] = parts.flatMap((p) => (key in p ? [p[key]] : [])).flat();
    return;
  }
  if (!isObject(value)) {
    row[path] = value;
    return;
  }
  if (value['@_nil'] === 'true' || value['@_nil'] === '1') {
    row[path] = null;
    return;
  }
  let children = false;
  for (const [k, v] of Object.entries(value)) {
    if (k === '#text') continue;
    if (k.startsWith('@_')) {
      if (k !== '@_nil' && k !== '@_type') row[`${path}@${k.slice(2)}`] = v;
      continue;
    }
    children = true;
    flatten(v, path === '' ? k : `${path}.${k}`, row);
  }
  // An element with text and attributes: the text is the element's value.
  if ('#text' in value && path !== '') row[path] = value['#text'];
  else if (!children && path !== '') row[path] = '';
}

/** Text of a leaf element; null for anything else. */
function textOf(v: unknown): string | null {
  if (typeof v === 'string') return v;
  if (isObject(v) && typeof v['#text'] === 'string') return v['#text'];
  return null;
}

/**
 * Whether a fault's text can be repeated: short words and punctuation, no
 * digits (an id, a date, a fiscal code) and no capitalised word after the
 * first (a name). Anything else is left out; the faultcode always says enough.
 */
function dataFree(text: string): boolean {
  if (text.length > 100 || !/^[\p{L} ,.;:()'-]+$/u.test(text)) return false;
  return text.split(/\s+/).slice(1).every((w) => !/^\p{Lu}/u.test(w));
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function list(v: unknown): unknown[] {
  if (v === undefined) return [];
  return Array.isArray(v) ? v : [v];
}

function at(v: unknown, path: string): unknown {
  let value = v;
  for (const key of path.split('.')) {
    if (!isObject(value)) return undefined;
    value = value[key];
  }
  return value;
}
