import { needsRotation, renewalTime, rotationPolicy } from '../../../shared/pki/rotation';

const day = { notBefore: '2026-11-25T03:59:00.000Z', notAfter: '2026-11-26T04:00:00.000Z' };
const at = (iso: string) => new Date(iso);

describe('needsRotation', () => {
  test.each([
    ['a certificate just issued', day, at('2026-11-25T04:00:00Z'), rotationPolicy(), false],
    ['a certificate with more than half its life left', day, at('2026-11-25T15:59:00Z'), rotationPolicy(), false],
    ['a certificate with less than half its life left', day, at('2026-11-25T16:00:00Z'), rotationPolicy(), true],
    ['an expired certificate', day, at('2026-11-27T00:00:00Z'), rotationPolicy(), true],
    ['a certificate past a stricter renewal point', day, at('2026-11-25T10:00:00Z'), rotationPolicy({ renewWhenRemaining: 0.8 }), true],
    ['a certificate longer-lived than the policy now issues', day, at('2026-11-25T04:00:00Z'), rotationPolicy({ lifetimeSeconds: 3600 }), true],
    ['a certificate shorter-lived than the policy now issues', day, at('2026-11-25T04:00:00Z'), rotationPolicy({ lifetimeSeconds: 7 * 86400 }), false],
    ['a certificate whose dates do not parse', { notBefore: 'x', notAfter: 'y' }, at('2026-11-25T04:00:00Z'), rotationPolicy(), true],
  ])('says %s needs rotation: %s', (_label, certificate, now, policy, expected) => {
    expect(needsRotation(certificate, now, policy)).toBe(expected);
  });
});

describe('renewalTime', () => {
  test('is when the remaining fraction of the lifetime falls below the policy', () => {
    expect(renewalTime(day, rotationPolicy()).toISOString()).toBe('2026-11-25T15:59:30.000Z');
    expect(renewalTime(day, rotationPolicy({ renewWhenRemaining: 0.25 })).toISOString()).toBe('2026-11-25T21:59:45.000Z');
  });
});

describe('rotationPolicy', () => {
  test('defaults to 24 h certificates renewed at half-life', () => {
    expect(rotationPolicy()).toEqual({ lifetimeSeconds: 86400, renewWhenRemaining: 0.5 });
  });

  test.each([
    [{ lifetimeSeconds: 59 }, 'lifetimeSeconds must be an integer of at least 60, got 59'],
    [{ lifetimeSeconds: 3600.5 }, 'lifetimeSeconds must be an integer of at least 60, got 3600.5'],
    [{ renewWhenRemaining: 0 }, 'renewWhenRemaining must be between 0 and 1 exclusive, got 0'],
    [{ renewWhenRemaining: 1 }, 'renewWhenRemaining must be between 0 and 1 exclusive, got 1'],
    [{ renewWhenRemaining: Number.NaN }, 'renewWhenRemaining must be between 0 and 1 exclusive, got NaN'],
  ])('rejects %j', (overrides, message) => {
    expect(() => rotationPolicy(overrides)).toThrow(message);
  });
});
