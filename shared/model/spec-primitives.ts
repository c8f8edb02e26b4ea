import * as z from 'zod';

/**
 * The smallest pieces of the service spec, in a leaf module: spec.ts and the feature files
 * beside it (spec-<feature>.ts, whose schemas spec.ts holds) both build on them, so neither
 * imports the other at load time. spec.ts re-exports them.
 */

/** DNS_LABEL is RFC 1123: lowercase alphanumerics and '-', 1 to 63 characters, alphanumeric at both ends. */
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

export const serviceName = z
  .string()
  .regex(DNS_LABEL, 'must be a DNS label: 1-63 lowercase letters, digits or "-", starting and ending alphanumeric');

export const port = z.int().min(1, 'must be a port from 1 to 65535').max(65535, 'must be a port from 1 to 65535');
