import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { personalFieldNames } from '../access/redaction.ts';
import { childOf, createLogger } from './logger.ts';

function capture() {
  const lines: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk, _enc, done) {
      for (const l of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(l) as Record<string, unknown>);
      done();
    },
  });
  return { lines, destination };
}

describe('logs', () => {
  it('are JSON lines with the level by name, the component, and the bindings of a child logger', () => {
    const { lines, destination } = capture();
    const log = childOf(childOf(createLogger('subgraph:people', { destination }), { requestId: 'r-1' }), { city: '082053' });
    log.error('city failed', { code: 'CITY_TIMEOUT' });
    expect(lines).toEqual([expect.objectContaining({ level: 'error', component: 'subgraph:people', requestId: 'r-1', city: '082053', code: 'CITY_TIMEOUT', msg: 'city failed', time: expect.any(String) })]);
  });

  it('never carry a personal field, whatever code logs it, by the same rules the subgraphs enforce', () => {
    const { lines, destination } = capture();
    const log = createLogger('gateway', { destination, redact: personalFieldNames() });
    log.warn('oops', { fiscalCode: 'RSSMRA80A01H501U', record: { givenName: 'Ada', vulnerabilities: ['TRAFFICKING'] }, deep: { row: { birthDate: '1980-01-01' } }, city: '082053' });
    const text = JSON.stringify(lines);
    for (const secret of ['RSSMRA80A01H501U', 'Ada', 'TRAFFICKING', '1980-01-01']) expect(text).not.toContain(secret);
    expect(lines[0]).toMatchObject({ city: '082053', fiscalCode: '[personal data]' });
    expect(personalFieldNames()).toEqual(expect.arrayContaining(['givenName', 'familyName', 'fiscalCode', 'birthDate', 'vulnerabilities']));
  });

  it('follow the level asked for, and refuse one that does not exist', () => {
    const { lines, destination } = capture();
    createLogger('gateway', { destination, level: 'warn' }).info('quiet');
    expect(lines).toEqual([]);
    expect(() => createLogger('gateway', { level: 'loud' })).toThrow(/LOG_LEVEL must be one of/);
  });
});
