import * as path from 'node:path';

/** repoRoot is where package-lock.json lives: bundling resolves every entry and dependency from here. */
export const repoRoot = path.resolve(__dirname, '..');

/**
 * functionEntries names each Lambda's source entry (its `index.ts` exporting `handler`). The
 * stack points NodejsFunction at these files, so what is deployed is exactly what the tests import.
 */
export const functionEntries = {
  xds: path.join(repoRoot, 'functions/xds/index.ts'),
  admin: path.join(repoRoot, 'functions/admin/index.ts'),
  lifecycle: path.join(repoRoot, 'functions/lifecycle/index.ts'),
  lifecycleComplete: path.join(repoRoot, 'functions/lifecycle-complete/index.ts'),
  reconciler: path.join(repoRoot, 'functions/reconciler/index.ts'),
  renewal: path.join(repoRoot, 'functions/renewal/index.ts'),
  rollouts: path.join(repoRoot, 'functions/rollouts/index.ts'),
  rebuild: path.join(repoRoot, 'functions/rebuild/index.ts'),
  pushCertificate: path.join(repoRoot, 'functions/push-certificate/index.ts'),
  catalogResource: path.join(repoRoot, 'functions/catalog-resource/index.ts'),
} as const;

export type FunctionKind = keyof typeof functionEntries;

/** meshPageSourceDir holds the mesh page's static files (relative to repoRoot): the admin function's bundling copies them beside its bundle. */
export const meshPageSourceDir = 'shared/api/mesh-page/assets';
