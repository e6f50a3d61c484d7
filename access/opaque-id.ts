/**
 * Opaque record ids. A record's id in the graph hides the city's own record
 * number (which staff and documents outside the graph can link to a person)
 * while staying stable, so it still joins across subgraphs, still works in
 * `beneficiary(id)`, and is the same in every answer for the same record.
 *
 * Deterministic authenticated encryption: the IV is a keyed hash of the
 * plaintext (the synthetic-IV construction), so equal records give equal ids
 * and an id cannot be forged or altered without the key. Every subgraph
 * holds the same key (`LGNET_GRAPH_SECRET`).
 */
import { createCipheriv, createDecipheriv, createHmac, hkdfSync } from 'node:crypto';

/** The kinds of record an id may name; an id of one kind is refused as another. */
export const idKinds = ['Beneficiary', 'Placement', 'Enrollment', 'CivicProject', 'HousingResource', 'Service'] as const;
export type IdKind = (typeof idKinds)[number];

export interface RecordRef {
  kind: IdKind;
  city: string;
  localId: string;
}

export interface IdCodec {
  encode(kind: IdKind, city: string, localId: string): string;
  /** The record an id names; null when the id was not issued with this key or is not of that kind. */
  decode(id: string, kind: IdKind): RecordRef | null;
}

/** Longest id accepted: a local id is at most 64 characters. */
const MAX_ID_LENGTH = 200;

export function deriveKey(secret: string, purpose: string, bytes = 32): Buffer {
  return Buffer.from(hkdfSync('sha256', secret, 'lgnet-graph', purpose, bytes));
}

export function createIdCodec(secret: string): IdCodec {
  if (secret.length < 32) throw new Error(`the graph secret must be at least 32 characters; got ${secret.length}`);
  const encKey = deriveKey(secret, 'opaque-id/enc');
  const ivKey = deriveKey(secret, 'opaque-id/iv');
  return {
    encode(kind, city, localId) {
      const plain = Buffer.from(`${kind}|${city}|${localId}`, 'utf8');
      const iv = createHmac('sha256', ivKey).update(plain).digest().subarray(0, 12);
      const cipher = createCipheriv('aes-256-gcm', encKey, iv);
      const body = Buffer.concat([cipher.update(plain), cipher.final()]);
      return Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64url');
    },
    decode(id, kind) {
      if (typeof id !== 'string' || id.length > MAX_ID_LENGTH || !/^[A-Za-z0-9_-]+$/.test(id)) return null;
      const raw = Buffer.from(id, 'base64url');
      if (raw.length < 12 + 16 + 1) return null;
      try {
        const decipher = createDecipheriv('aes-256-gcm', encKey, raw.subarray(0, 12));
        decipher.setAuthTag(raw.subarray(raw.length - 16));
        const plain = Buffer.concat([decipher.update(raw.subarray(12, raw.length - 16)), decipher.final()]).toString('utf8');
        const [k, city, ...rest] = plain.split('|');
        if (k !== kind || !city || rest.length === 0) return null;
        return { kind, city, localId: rest.join('|') };
      } catch {
        return null;
      }
    },
  };
}
