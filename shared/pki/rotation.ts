import { defaultLeafLifetimeSeconds } from './certificate';

/**
 * RotationPolicy says how long service certificates live and when they are renewed: well
 * before expiry, so a renewal that fails (KMS throttled, a poll missed) has time to be retried
 * and Envoy has time to pick up the new secret version while the old one is still valid.
 */
export interface RotationPolicy {
  /** Lifetime of a newly issued service certificate. @default 24 h */
  readonly lifetimeSeconds: number;
  /** Renew once less than this fraction of a certificate's lifetime remains. @default 0.5 */
  readonly renewWhenRemaining: number;
}

export const defaultRotationPolicy: RotationPolicy = {
  lifetimeSeconds: defaultLeafLifetimeSeconds,
  renewWhenRemaining: 0.5,
};

/** rotationPolicy checks overrides of the default policy; the error names the bad field. */
export function rotationPolicy(overrides: Partial<RotationPolicy> = {}): RotationPolicy {
  const policy = { ...defaultRotationPolicy, ...overrides };
  if (!Number.isInteger(policy.lifetimeSeconds) || policy.lifetimeSeconds < 60) {
    throw new RangeError(`lifetimeSeconds must be an integer of at least 60, got ${policy.lifetimeSeconds}`);
  }
  if (!(policy.renewWhenRemaining > 0 && policy.renewWhenRemaining < 1)) {
    throw new RangeError(`renewWhenRemaining must be between 0 and 1 exclusive, got ${policy.renewWhenRemaining}`);
  }
  return policy;
}

/** The validity of an issued certificate, as IssuedCertificate carries it. */
export interface ValidityWindow {
  readonly notBefore: string;
  readonly notAfter: string;
}

/** renewalTime is when a certificate is due for renewal under the policy. */
export function renewalTime(certificate: ValidityWindow, policy: RotationPolicy): Date {
  const notBefore = Date.parse(certificate.notBefore);
  const notAfter = Date.parse(certificate.notAfter);
  return new Date(notAfter - Math.round((notAfter - notBefore) * policy.renewWhenRemaining));
}

/**
 * needsRotation is true once less than the policy's fraction of the certificate's own lifetime
 * remains, once it has expired, or when its lifetime is no longer what the policy issues (a
 * policy change then takes effect at the next check, not a day later).
 */
export function needsRotation(certificate: ValidityWindow, now: Date, policy: RotationPolicy): boolean {
  const notBefore = Date.parse(certificate.notBefore);
  const notAfter = Date.parse(certificate.notAfter);
  if (Number.isNaN(notBefore) || Number.isNaN(notAfter)) return true;
  if (now.getTime() >= renewalTime(certificate, policy).getTime()) return true;
  return notAfter - notBefore > (policy.lifetimeSeconds + maxBackdateSeconds) * 1000;
}

/** Issuance backdates notBefore a little for clock skew; a lifetime that long is still "the policy's". */
const maxBackdateSeconds = 300;
