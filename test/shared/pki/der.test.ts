import { boolean, namedBits, oid, readChildren, readElement, sequence, set, time, tlv, unsignedInteger, utf8String } from '../../../shared/pki/der';

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

describe('DER encoding', () => {
  test.each([
    ['zero', unsignedInteger(0), '020100'],
    ['a small integer', unsignedInteger(2), '020102'],
    ['an integer whose top bit is set, with a zero byte so it stays positive', unsignedInteger(128), '02020080'],
    ['an integer given with leading zero bytes, minimally', unsignedInteger(Uint8Array.of(0, 0, 0x7f)), '02017f'],
    ['the OID of subjectAltName', oid('2.5.29.17'), '0603551d11'],
    ['an OID with multi-byte arcs (ecdsa-with-SHA256)', oid('1.2.840.10045.4.3.2'), '06082a8648ce3d040302'],
    ['TRUE', boolean(true), '0101ff'],
    ['digitalSignature alone, trailing zero bits dropped', namedBits([0]), '03020780'],
    ['keyCertSign and cRLSign', namedBits([5, 6]), '03020106'],
    ['a UTF8String', utf8String('hé'), '0c0368c3a9'],
    ['a 2026 instant as UTCTime', time(new Date('2026-11-25T04:00:00.999Z')), '170d3236313132353034303030305a'],
    ['a 2050 instant as GeneralizedTime', time(new Date('2050-01-01T00:00:00Z')), '180f32303530303130313030303030305a'],
    ['a SET OF with its members sorted', set(Uint8Array.of(2, 1, 9), Uint8Array.of(2, 1, 1)), '3106020101020109'],
  ])('encodes %s', (_label, encoded, expected) => {
    expect(hex(encoded)).toBe(expected);
  });

  test.each([
    [127, '7f'],
    [128, '8180'],
    [300, '82012c'],
  ])('encodes a length of %i as %s', (length, header) => {
    expect(hex(tlv(0x04, new Uint8Array(length))).slice(2, 2 + header.length)).toBe(header);
  });

  test('reads back the elements it wrote, long lengths included', () => {
    const long = new Uint8Array(300).fill(7);
    const encoded = sequence(unsignedInteger(5), tlv(0x04, long));
    const [first, second] = readChildren(readElement(encoded));
    expect({ first: hex(first!.raw), secondTag: second!.tag, secondLength: second!.value.length }).toEqual({
      first: '020105',
      secondTag: 0x04,
      secondLength: 300,
    });
  });

  test.each([
    ['an empty buffer', new Uint8Array(0), 'DER: truncated element'],
    ['a length beyond the buffer', Uint8Array.of(0x30, 0x05, 0x02), 'DER: element runs past the end of its buffer'],
    ['an indefinite length', Uint8Array.of(0x30, 0x80), 'DER: unsupported length encoding'],
  ])('refuses to read %s', (_label, bytes, message) => {
    expect(() => readElement(bytes)).toThrow(message);
  });

  test.each([['1'], ['1.x.3'], ['1.-2']])('refuses the malformed OID %s', (dotted) => {
    expect(() => oid(dotted)).toThrow(`not an object identifier: ${dotted}`);
  });
});
