import { createHash } from 'node:crypto';

/**
 * canonicalJson serialises with object keys sorted at every depth, so equal content gives
 * equal bytes in any process: versions derived from it survive restarts and redeploys.
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      const sorted: Record<string, unknown> = {};
      for (const k of Object.keys(v as Record<string, unknown>).sort()) sorted[k] = (v as Record<string, unknown>)[k];
      return sorted;
    }
    return v;
  });
}

/** contentVersion is a short content hash: the xDS `version_info` of what it hashes. */
export function contentVersion(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value)).digest('base64url').slice(0, 22);
}
