/**
 * The few DER (ASN.1 Distinguished Encoding Rules) encoders and one reader that X.509
 * issuance needs. Hand-rolled on purpose: Node has no certificate-creation API, and the
 * libraries that do (pkijs, @peculiar/x509) add hundreds of KB to a Lambda's cold start for
 * a certificate that is a dozen nested TLVs. Everything here is checked by parsing the
 * result with node:crypto's X509Certificate (OpenSSL) in the tests.
 */

export const tags = {
  boolean: 0x01,
  integer: 0x02,
  bitString: 0x03,
  octetString: 0x04,
  null: 0x05,
  oid: 0x06,
  utf8String: 0x0c,
  ia5String: 0x16,
  utcTime: 0x17,
  generalizedTime: 0x18,
  sequence: 0x30,
  set: 0x31,
} as const;

function lengthBytes(length: number): number[] {
  if (length < 0x80) return [length];
  const bytes: number[] = [];
  for (let n = length; n > 0; n = Math.floor(n / 256)) bytes.unshift(n & 0xff);
  return [0x80 | bytes.length, ...bytes];
}

/** tlv encodes one DER element: tag, definite length, contents. */
export function tlv(tag: number, ...contents: Uint8Array[]): Uint8Array {
  const body = Buffer.concat(contents);
  return Buffer.concat([Uint8Array.from([tag, ...lengthBytes(body.length)]), body]);
}

export const sequence = (...items: Uint8Array[]) => tlv(tags.sequence, ...items);

/** set encodes a SET OF; DER wants the members sorted by their encodings. */
export const set = (...items: Uint8Array[]) => tlv(tags.set, ...[...items].sort(Buffer.compare));

export const nullValue = () => tlv(tags.null);

export const boolean = (value: boolean) => tlv(tags.boolean, Uint8Array.of(value ? 0xff : 0x00));

/**
 * unsignedInteger encodes a non-negative big-endian magnitude as a DER INTEGER: leading zero
 * bytes stripped, one zero byte added back where the top bit would read as a sign.
 */
export function unsignedInteger(magnitude: Uint8Array | number): Uint8Array {
  let bytes = typeof magnitude === 'number' ? smallIntegerBytes(magnitude) : Uint8Array.from(magnitude);
  let start = 0;
  while (start < bytes.length - 1 && bytes[start] === 0) start++;
  bytes = bytes.subarray(start);
  if (bytes.length === 0) bytes = Uint8Array.of(0);
  if ((bytes[0] ?? 0) & 0x80) bytes = Buffer.concat([Uint8Array.of(0), bytes]);
  return tlv(tags.integer, bytes);
}

function smallIntegerBytes(value: number): Uint8Array {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`DER integer must be a non-negative safe integer, got ${value}`);
  const bytes: number[] = [];
  for (let n = value; n > 0; n = Math.floor(n / 256)) bytes.unshift(n & 0xff);
  return Uint8Array.from(bytes.length ? bytes : [0]);
}

/** oid encodes a dotted OBJECT IDENTIFIER, e.g. "2.5.29.17". */
export function oid(dotted: string): Uint8Array {
  const arcs = dotted.split('.').map(Number);
  const [first, second, ...rest] = arcs;
  if (first === undefined || second === undefined || arcs.some((a) => !Number.isSafeInteger(a) || a < 0)) {
    throw new RangeError(`not an object identifier: ${dotted}`);
  }
  const out: number[] = [];
  for (const arc of [first * 40 + second, ...rest]) {
    const base128: number[] = [arc & 0x7f];
    for (let n = Math.floor(arc / 128); n > 0; n = Math.floor(n / 128)) base128.unshift(0x80 | (n & 0x7f));
    out.push(...base128);
  }
  return tlv(tags.oid, Uint8Array.from(out));
}

export const octetString = (contents: Uint8Array) => tlv(tags.octetString, contents);

/** bitString wraps whole bytes (a signature, a public key): zero unused bits. */
export const bitString = (contents: Uint8Array) => tlv(tags.bitString, Uint8Array.of(0), contents);

/**
 * namedBits encodes a BIT STRING of flags (keyUsage) as DER demands: bit 0 is the most
 * significant bit of the first byte, and trailing zero bits are dropped.
 */
export function namedBits(bits: readonly number[]): Uint8Array {
  if (bits.length === 0) return tlv(tags.bitString, Uint8Array.of(0));
  const highest = Math.max(...bits);
  const bytes = new Uint8Array(Math.floor(highest / 8) + 1);
  for (const bit of bits) bytes[bit >> 3]! |= 0x80 >> (bit & 7);
  const unused = 7 - (highest & 7);
  return tlv(tags.bitString, Uint8Array.of(unused), bytes);
}

export const utf8String = (value: string) => tlv(tags.utf8String, Buffer.from(value, 'utf8'));

export const ia5String = (value: string) => {
  // eslint-disable-next-line no-control-regex
  if (!/^[\x00-\x7f]*$/.test(value)) throw new RangeError('IA5String must be ASCII');
  return tlv(tags.ia5String, Buffer.from(value, 'ascii'));
};

/**
 * time encodes an X.509 Time: UTCTime for 1950-2049 and GeneralizedTime otherwise, as RFC
 * 5280 §4.1.2.5 requires, always in UTC with whole seconds.
 */
export function time(at: Date): Uint8Array {
  const iso = at.toISOString(); // YYYY-MM-DDTHH:MM:SS.sssZ
  const digits = iso.slice(0, 19).replace(/[-T:]/g, '') + 'Z';
  const year = at.getUTCFullYear();
  if (year >= 1950 && year < 2050) return tlv(tags.utcTime, Buffer.from(digits.slice(2), 'ascii'));
  return tlv(tags.generalizedTime, Buffer.from(digits, 'ascii'));
}

/** contextExplicit wraps a value in a constructed context-specific tag [n] (EXPLICIT tagging). */
export const contextExplicit = (n: number, ...contents: Uint8Array[]) => tlv(0xa0 | n, ...contents);

/** contextPrimitive is an IMPLICIT [n] on a primitive value (e.g. a GeneralName's URI or key identifier). */
export const contextPrimitive = (n: number, contents: Uint8Array) => tlv(0x80 | n, contents);

/** Element is one parsed TLV, located in the buffer it was read from. */
export interface Element {
  readonly tag: number;
  /** The whole element, header included. */
  readonly raw: Uint8Array;
  /** The contents only. */
  readonly value: Uint8Array;
}

/** readElement reads the DER element that starts at `offset`; it throws on truncated or indefinite lengths. */
export function readElement(buffer: Uint8Array, offset = 0): Element & { readonly end: number } {
  const tag = buffer[offset];
  let lengthByte = buffer[offset + 1];
  if (tag === undefined || lengthByte === undefined) throw new RangeError('DER: truncated element');
  let cursor = offset + 2;
  let length = lengthByte;
  if (lengthByte & 0x80) {
    const count = lengthByte & 0x7f;
    if (count === 0 || count > 4) throw new RangeError('DER: unsupported length encoding');
    length = 0;
    for (let i = 0; i < count; i++) {
      lengthByte = buffer[cursor++];
      if (lengthByte === undefined) throw new RangeError('DER: truncated length');
      length = length * 256 + lengthByte;
    }
  }
  const end = cursor + length;
  if (end > buffer.length) throw new RangeError('DER: element runs past the end of its buffer');
  return { tag, raw: buffer.subarray(offset, end), value: buffer.subarray(cursor, end), end };
}

/** readChildren splits a constructed element's contents into its elements. */
export function readChildren(parent: Element): Element[] {
  const children: Element[] = [];
  for (let offset = 0; offset < parent.value.length; ) {
    const child = readElement(parent.value, offset);
    children.push(child);
    offset = child.end;
  }
  return children;
}
