import { describe, expect, it } from 'vitest';
import { createIdCodec } from './opaque-id.ts';

const secret = 'a-test-secret-of-at-least-32-characters';

describe('opaque record ids', () => {
  it('give the same record the same id, and name it again when decoded', () => {
    const ids = createIdCodec(secret);
    const id = ids.encode('Beneficiary', '082053', 'PA-00017');
    expect(ids.encode('Beneficiary', '082053', 'PA-00017')).toBe(id);
    expect(ids.decode(id, 'Beneficiary')).toEqual({ kind: 'Beneficiary', city: '082053', localId: 'PA-00017' });
  });

  it("hide the city's own record number and city code", () => {
    const id = createIdCodec(secret).encode('Beneficiary', '082053', 'PA-00017');
    expect(id).not.toContain('PA-00017');
    expect(id).not.toContain('082053');
    expect(Buffer.from(id, 'base64url').toString('latin1')).not.toContain('PA-00017');
  });

  it('refuse an id of another kind, an altered id, and an id made with another key', () => {
    const ids = createIdCodec(secret);
    const id = ids.encode('Placement', '015146', '9');
    expect(ids.decode(id, 'Beneficiary')).toBeNull();
    const raw = Buffer.from(id, 'base64url');
    raw[14] = raw[14]! ^ 1;
    expect(ids.decode(raw.toString('base64url'), 'Placement')).toBeNull();
    const other = createIdCodec('another-secret-of-at-least-32-characters!');
    expect(other.decode(id, 'Placement')).toBeNull();
    expect(ids.decode('015146:9', 'Placement')).toBeNull();
    expect(ids.decode('x'.repeat(100_000), 'Placement')).toBeNull();
  });

  it('refuse a short secret, naming the rule and the length', () => {
    expect(() => createIdCodec('short')).toThrow(/at least 32 characters; got 5/);
  });
});
