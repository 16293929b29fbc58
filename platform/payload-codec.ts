import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { Payload, PayloadCodec } from '@temporalio/common';
import { temporal } from '@temporalio/proto';

/**
 * AES-256-GCM encryption of every Temporal payload (inputs, results, memo,
 * failure attributes) with named keys. The first key encrypts; every key
 * decrypts, so a key can be rotated in front of the old ones and history
 * written under them stays readable. Payloads that are not encrypted pass
 * through decode untouched: histories from before encryption was turned on
 * still replay and read.
 */

/** The `encoding` of an encrypted payload, as Temporal's samples and UI name it. */
export const ENCRYPTED_ENCODING = 'binary/encrypted';
const KEY_ID_METADATA = 'encryption-key-id';
const CIPHER_METADATA = 'encryption-cipher';
const CIPHER = 'AES-256-GCM';
const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;

export interface PayloadKey {
  /** Written next to every payload it encrypts, so the right key is found on decode */
  readonly id: string;
  /** 32 bytes; secret, never logged */
  readonly key: Buffer;
}

const KEY_ID = /^[A-Za-z0-9._-]{1,64}$/;

/**
 * Parses "id:key,id:key" where each key is 32 bytes in base64 (44 characters,
 * `openssl rand -base64 32`) or hex (64 digits). Problems name the entry, never
 * the key material.
 */
export function parsePayloadKeys(text: string, variable = 'AIMO_PAYLOAD_KEYS'): { keys: PayloadKey[]; problems: string[] } {
  const keys: PayloadKey[] = [];
  const problems: string[] = [];
  const entries = text.split(',').map((s) => s.trim()).filter(Boolean);
  entries.forEach((entry, i) => {
    const at = entry.indexOf(':');
    const id = at > 0 ? entry.slice(0, at) : '';
    const material = at > 0 ? entry.slice(at + 1) : '';
    const key = decodeKey(material);
    if (!KEY_ID.test(id)) {
      problems.push(`${variable}: entry ${i + 1} needs "keyId:key" with a key id of letters, digits, ".", "_" or "-" (e.g. ${variable}=k2026a:$(openssl rand -base64 32))`);
    } else if (!key) {
      problems.push(`${variable}: key "${id}" must be 32 bytes as base64 (openssl rand -base64 32) or 64 hex digits (openssl rand -hex 32)`);
    } else if (keys.some((k) => k.id === id)) {
      problems.push(`${variable}: key id "${id}" is listed twice; every key needs its own id`);
    } else {
      keys.push({ id, key });
    }
  });
  if (entries.length === 0) problems.push(`${variable}: set at least one "keyId:key", e.g. ${variable}=k2026a:$(openssl rand -base64 32)`);
  return { keys, problems };
}

function decodeKey(material: string): Buffer | undefined {
  if (/^[0-9a-fA-F]{64}$/.test(material)) return Buffer.from(material, 'hex');
  if (/^[A-Za-z0-9+/]{43}=?$/.test(material)) {
    const key = Buffer.from(material, 'base64');
    return key.length === KEY_BYTES ? key : undefined;
  }
  return undefined;
}

export class PayloadDecryptionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PayloadDecryptionError';
  }
}

export class AesGcmPayloadCodec implements PayloadCodec {
  private readonly current: PayloadKey;
  private readonly byId: ReadonlyMap<string, Buffer>;

  constructor(keys: readonly PayloadKey[]) {
    const [current] = keys;
    if (!current) throw new Error('the payload codec needs at least one key');
    for (const k of keys) if (k.key.length !== KEY_BYTES) throw new Error(`payload key "${k.id}" must be ${KEY_BYTES} bytes`);
    this.current = current;
    this.byId = new Map(keys.map((k) => [k.id, k.key]));
  }

  /** The id new payloads are encrypted under */
  get encryptingKeyId(): string {
    return this.current.id;
  }

  async encode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => this.encrypt(payload));
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => this.decrypt(payload));
  }

  private encrypt(payload: Payload): Payload {
    const { id, key } = this.current;
    const plain = temporal.api.common.v1.Payload.encode(payload).finish();
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    // The key id is bound to the ciphertext: relabelling a payload with another id fails authentication.
    cipher.setAAD(Buffer.from(id, 'utf8'));
    const sealed = Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
    return {
      metadata: {
        encoding: Buffer.from(ENCRYPTED_ENCODING, 'utf8'),
        [KEY_ID_METADATA]: Buffer.from(id, 'utf8'),
        [CIPHER_METADATA]: Buffer.from(CIPHER, 'utf8'),
      },
      data: sealed,
    };
  }

  private decrypt(payload: Payload): Payload {
    const metadata = payload.metadata ?? {};
    if (text(metadata['encoding']) !== ENCRYPTED_ENCODING) return payload;
    const id = text(metadata[KEY_ID_METADATA]);
    const key = id === undefined ? undefined : this.byId.get(id);
    if (!key) {
      throw new PayloadDecryptionError(
        `a payload is encrypted with key "${id ?? '(no key id)'}", which is not among the configured payload keys: add it back (after the current key) to read it`,
      );
    }
    const sealed = Buffer.from(payload.data ?? new Uint8Array());
    if (sealed.length < IV_BYTES + TAG_BYTES) throw new PayloadDecryptionError(`an encrypted payload (key "${id}") is truncated`);
    const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, IV_BYTES));
    decipher.setAAD(Buffer.from(id!, 'utf8'));
    decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
    let plain: Buffer;
    try {
      plain = Buffer.concat([decipher.update(sealed.subarray(IV_BYTES, sealed.length - TAG_BYTES)), decipher.final()]);
    } catch {
      throw new PayloadDecryptionError(`an encrypted payload does not authenticate under key "${id}": it was altered, or the key with that id changed`);
    }
    return temporal.api.common.v1.Payload.decode(plain);
  }
}

function text(bytes: Uint8Array | null | undefined): string | undefined {
  return bytes ? Buffer.from(bytes).toString('utf8') : undefined;
}
