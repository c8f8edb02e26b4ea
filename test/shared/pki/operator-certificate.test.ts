import { createPrivateKey, generateKeyPairSync } from 'node:crypto';
import { OperatorCertificateError, OperatorCertificateProblem, parseOperatorCertificate } from '../../../shared/pki/operator-certificate';
import { issue, operatorChain, secretJson } from '../../support/operator-certificates';

/** Every certificate here is made at this instant and checked against clocks set around it. */
const issuedAt = new Date(Date.UTC(2031, 4, 10, 12, 0, 0));
const day = 86_400_000;
const chain = operatorChain(issuedAt, { days: 90 });
const at = (offsetMs: number) => new Date(issuedAt.getTime() + offsetMs);

function problemOf(value: string, now = issuedAt): { problem: OperatorCertificateProblem; field: string; message: string } {
  try {
    parseOperatorCertificate(value, now);
  } catch (err) {
    if (!(err instanceof OperatorCertificateError)) throw err;
    return { problem: err.problem, field: err.field, message: err.message };
  }
  throw new Error('the secret was accepted');
}

describe('parseOperatorCertificate', () => {
  const rsaKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
  const rsa = operatorChain(issuedAt, { leafKey: rsaKey });
  const rsaPkcs1 = String(rsaKey.export({ type: 'pkcs1', format: 'pem' }));
  const sec1 = String(chain.leaf.privateKey.export({ type: 'sec1', format: 'pem' }));

  it.each([
    ['the documented JSON form', secretJson(chain), chain],
    ['the spec’s first names (certificatePem, privateKeyPem)', JSON.stringify({ certificatePem: chain.chainPem, privateKeyPem: chain.keyPem }), chain],
    ['ACM’s export, leaf apart from its chain', JSON.stringify({ certificate: chain.leaf.certificatePem, certificateChain: chain.intermediate.certificatePem, privateKey: chain.keyPem }), chain],
    ['ACM’s export as its API spells it', JSON.stringify({ Certificate: chain.leaf.certificatePem, CertificateChain: chain.intermediate.certificatePem, PrivateKey: chain.keyPem }), chain],
    ['plain PEM, key first (cat privkey.pem fullchain.pem)', `${chain.keyPem}\n${chain.chainPem}`, chain],
    ['plain PEM with a SEC1 EC key', `${chain.chainPem}${sec1}`, chain],
    ['a PKCS#1 RSA key', JSON.stringify({ certificateChain: rsa.chainPem, privateKey: rsaPkcs1 }), rsa],
  ])('reads %s: the chain leaf first, the key as PKCS#8', (_form, value, expected) => {
    const read = parseOperatorCertificate(value, at(30 * day));
    expect(read.fingerprint).toBe(expected.fingerprint);
    expect(read.certificateChainPem.match(/-----BEGIN CERTIFICATE-----/g)).toHaveLength(2);
    expect(read.certificateChainPem.startsWith(expected.leaf.certificatePem.trim())).toBe(true);
    expect(read.privateKeyPem).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    expect(createPrivateKey(read.privateKeyPem).export({ type: 'pkcs8', format: 'der' })).toEqual(expected.leaf.privateKey.export({ type: 'pkcs8', format: 'der' }));
    expect(read.subjectAltNames).toEqual(['DNS:shop.example.com', 'DNS:*.shop.example.com']);
    expect(read.notAfter).toBe(new Date(issuedAt.getTime() + 90 * day).toISOString());
  });

  const other = operatorChain(issuedAt);
  const encrypted = String(chain.leaf.privateKey.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'secret' }));
  const caLeaf = issue({ name: 'ca', notBefore: at(-day), notAfter: at(day), ca: true, dnsNames: ['ca.example.com'] });
  const noSan = issue({ name: 'no-san', issuer: chain.intermediate, notBefore: at(-day), notAfter: at(day) });
  const pem = (c: { certificatePem: string; privateKey: import('node:crypto').KeyObject }) => String(c.privateKey.export({ type: 'pkcs8', format: 'pem' }));

  it.each<[string, string, Date, OperatorCertificateProblem, string]>([
    ['text that is neither JSON nor PEM', 'hunter2', issuedAt, 'format', '(secret)'],
    ['JSON that does not parse', '{"certificateChain": ', issuedAt, 'format', '(secret)'],
    ['a JSON array', JSON.stringify([chain.chainPem, chain.keyPem]).replace(/-----/g, ''), issuedAt, 'format', '(secret)'],
    ['an unknown field', JSON.stringify({ certificateChain: chain.chainPem, privateKey: chain.keyPem, passphrase: 'x' }), issuedAt, 'format', 'passphrase'],
    ['a field that is no string', JSON.stringify({ certificateChain: [chain.chainPem], privateKey: chain.keyPem }), issuedAt, 'format', 'certificateChain'],
    ['no certificate', JSON.stringify({ privateKey: chain.keyPem }), issuedAt, 'no-certificate', 'certificateChain'],
    ['no private key', JSON.stringify({ certificateChain: chain.chainPem }), issuedAt, 'no-private-key', 'privateKey'],
    ['plain PEM without a key', chain.chainPem, issuedAt, 'no-private-key', 'privateKey'],
    ['a key where the chain goes', JSON.stringify({ certificateChain: chain.keyPem, privateKey: chain.keyPem }), issuedAt, 'bad-certificate', 'certificateChain'],
    ['a certificate that does not parse', JSON.stringify({ certificateChain: '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----', privateKey: chain.keyPem }), issuedAt, 'bad-certificate', 'certificateChain[0]'],
    ['an encrypted key', JSON.stringify({ certificateChain: chain.chainPem, privateKey: encrypted }), issuedAt, 'encrypted-private-key', 'privateKey'],
    ['a key that does not parse', JSON.stringify({ certificateChain: chain.chainPem, privateKey: '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----' }), issuedAt, 'bad-private-key', 'privateKey'],
    ['another certificate’s key', JSON.stringify({ certificateChain: chain.chainPem, privateKey: other.keyPem }), issuedAt, 'key-mismatch', 'privateKey'],
    ['the intermediate first (the key is not its)', JSON.stringify({ certificateChain: `${chain.intermediate.certificatePem}${chain.leaf.certificatePem}`, privateKey: chain.keyPem }), issuedAt, 'key-mismatch', 'privateKey'],
    ['an intermediate of another CA (the chain does not link)', JSON.stringify({ certificateChain: `${chain.leaf.certificatePem}${other.intermediate.certificatePem}`, privateKey: chain.keyPem }), issuedAt, 'chain-order', 'certificateChain[1]'],
    ['a certificate expired by the clock given', secretJson(chain), at(91 * day), 'expired', 'certificateChain[0]'],
    ['a certificate not valid yet by the clock given', secretJson(chain), at(-2 * day), 'not-yet-valid', 'certificateChain[0]'],
    ['a leaf without subject alternative names', JSON.stringify({ certificateChain: noSan.certificatePem, privateKey: pem(noSan) }), issuedAt, 'no-subject-alt-names', 'certificateChain[0]'],
    ['a CA certificate as the leaf', JSON.stringify({ certificateChain: caLeaf.certificatePem, privateKey: pem(caLeaf) }), issuedAt, 'ca-certificate', 'certificateChain[0]'],
    ['two keys in plain PEM', `${chain.chainPem}${chain.keyPem}${other.keyPem}`, issuedAt, 'format', '(secret)'],
  ])('refuses %s, naming the problem and the field', (_case, value, now, problem, field) => {
    const found = problemOf(value, now);
    expect({ problem: found.problem, field: found.field }).toEqual({ problem, field });
    expect(found.message.startsWith(`${field}: `)).toBe(true);
    // A refusal never carries the key (its base64 body), whatever went wrong.
    const keyBody = chain.keyPem.split('\n')[1]!;
    expect(found.message).not.toContain(keyBody);
  });

  it('moves with the clock it is given, not the machine’s: valid on its last day, expired the next', () => {
    expect(parseOperatorCertificate(secretJson(chain), at(90 * day - 1000)).fingerprint).toBe(chain.fingerprint);
    expect(problemOf(secretJson(chain), at(90 * day + 1000)).problem).toBe('expired');
  });
});
