/**
 * The one classifier of errors met while asking a city (schema/errors.ts),
 * fed the errors undici, zlib and Node really raise. The same classes over
 * real HTTP are in http.test.ts.
 */
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { gunzipSync, gzipSync } from 'node:zlib';
import { errors, request } from 'undici';
import { describe, expect, it } from 'vitest';
import { CityError, asCityError, errorCatalogue } from '../../schema/errors.ts';
import { closedPortUrl } from './fixtures/upstream-server.ts';

const city = '063049'; // Napoli

/** What `fn` throws. */
function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  return expect.fail('expected a throw');
}

describe('the error classifier', () => {
  it('keeps a CityError as it is', () => {
    const e = new CityError('CITY_AUTH_FAILED', city, 'status 401');
    expect(asCityError(e, '000000')).toBe(e);
  });

  it('calls a connection refused before any response CITY_UNAVAILABLE', async () => {
    const refused = await request(await closedPortUrl()).then(() => expect.fail('expected a refusal'), (e: unknown) => e);
    expect(asCityError(refused, city)).toMatchObject({ code: 'CITY_UNAVAILABLE', city, detail: 'connection failed (ECONNREFUSED)' });
    // Every address tried, each refused (Happy Eyeballs): the first one's code.
    const everyAddress = new AggregateError([refused, refused], 'connect failed');
    expect(asCityError(everyAddress, city)).toMatchObject({ code: 'CITY_UNAVAILABLE', detail: 'connection failed (ECONNREFUSED)' });
  });

  it('calls a connection lost before the response CITY_UNAVAILABLE, and the same loss while the body is read a body cut short', () => {
    const closed = new errors.SocketError('other side closed');
    expect(asCityError(closed, city)).toMatchObject({ code: 'CITY_UNAVAILABLE', detail: 'connection failed (UND_ERR_SOCKET)' });
    expect(asCityError(closed, city, { stage: 'body' })).toMatchObject({ code: 'CITY_BAD_RESPONSE', detail: 'body cut short: connection lost while reading it (UND_ERR_SOCKET)' });
    const premature = Object.assign(new Error('Premature close'), { code: 'ERR_STREAM_PREMATURE_CLOSE' });
    expect(asCityError(premature, city, { stage: 'body' })).toMatchObject({ code: 'CITY_BAD_RESPONSE' });
  });

  it('calls a body shorter than its Content-Length and a truncated gzip CITY_BAD_RESPONSE', () => {
    expect(asCityError(new errors.ResponseContentLengthMismatchError(), city, { stage: 'body' })).toMatchObject({
      code: 'CITY_BAD_RESPONSE',
      detail: 'body cut short: shorter or longer than its Content-Length (UND_ERR_RES_CONTENT_LENGTH_MISMATCH)',
    });
    const gzip = gzipSync(Buffer.from('Codice;Nome\n'.repeat(200)));
    const truncated = thrown(() => gunzipSync(gzip.subarray(0, gzip.length / 2)));
    expect(asCityError(truncated, city, { stage: 'body' })).toMatchObject({ code: 'CITY_BAD_RESPONSE', detail: 'compressed body cut short or corrupt (Z_BUF_ERROR)' });
  });

  it('calls an answer that is not HTTP CITY_BAD_RESPONSE, without quoting it', async () => {
    // A server that answers with a line of a person's record instead of a status line.
    const sockets = new Set<Socket>();
    const server = createServer((socket) => {
      sockets.add(socket);
      socket.end('A001;Niccolò;Abebe\r\n\r\n');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const malformed = await request(`http://127.0.0.1:${port}/`).then(() => expect.fail('expected a parse error'), (e: unknown) => e);
      const e = asCityError(malformed, city);
      expect(e).toMatchObject({ code: 'CITY_BAD_RESPONSE', detail: expect.stringMatching(/^malformed HTTP answer \((HPE_[A-Z_]+|not HTTP\/1\.1)\)$/) });
      expect(e.message).not.toContain('Niccolò');
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('calls undici\'s timeouts, an AbortError and a TimeoutError CITY_TIMEOUT', () => {
    expect(asCityError(new errors.HeadersTimeoutError(), city)).toMatchObject({ code: 'CITY_TIMEOUT', detail: 'no answer in time (UND_ERR_HEADERS_TIMEOUT)' });
    expect(asCityError(new errors.ConnectTimeoutError(), city)).toMatchObject({ code: 'CITY_TIMEOUT', detail: 'no answer in time (UND_ERR_CONNECT_TIMEOUT)' });
    expect(asCityError(new DOMException('The operation timed out.', 'TimeoutError'), city)).toMatchObject({ code: 'CITY_TIMEOUT' });
    expect(asCityError(new DOMException('This operation was aborted', 'AbortError'), city)).toMatchObject({ code: 'CITY_TIMEOUT' });
  });

  it('calls the caller\'s own reason for giving up, whatever it is, CITY_TIMEOUT: the query was over, the city did nothing wrong', () => {
    const caller = new AbortController();
    const reason = new Error('the gateway gave up on the query');
    caller.abort(reason);
    expect(asCityError(reason, city, { signal: caller.signal })).toMatchObject({ code: 'CITY_TIMEOUT', detail: 'the query ran out of time, or was given up, before the city answered' });
    // The same error without the signal is nobody's known doing.
    expect(asCityError(reason, city).code).toBe('INTERNAL_ERROR');
  });

  it('does not blame the city for a fault of the graph\'s own: INTERNAL_ERROR, naming the city, never quoting the message', () => {
    const bug = thrown(() => (null as unknown as { split(s: string): string[] }).split(','));
    const e = asCityError(bug, city);
    expect(e).toMatchObject({ code: 'INTERNAL_ERROR', city, detail: "an unexpected TypeError in the graph's own code, not the city's doing (logged by the subgraph)" });
    expect(e.cause).toBe(bug);
    expect(errorCatalogue.INTERNAL_ERROR.status).toBe(500);
    expect(e.message).toBe(`The graph failed while handling city ${city}'s data: ${e.detail}`);
    // A message may quote the data it choked on; it stays out of the error.
    const quoting = new RangeError('invalid date "BBENCC90B03Z315K"');
    expect(asCityError(quoting, city).message).not.toContain('BBENCC90B03Z315K');
    // Nor is an odd error name repeated.
    expect(asCityError(Object.assign(new Error('x'), { name: 'Niccolò <b>' }), city).detail).toContain('an unexpected error in');
  });

  it('treats a JSON parse failure that reaches it as the graph\'s fault: connectors must turn the city\'s bad JSON into CITY_BAD_RESPONSE themselves', () => {
    const parse = thrown(() => JSON.parse('{"nome":"Niccol'));
    expect(asCityError(parse, city).code).toBe('INTERNAL_ERROR');
  });
});
