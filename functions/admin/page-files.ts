import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MeshPageFile, MeshPageFiles } from '../../shared/api/mesh-page';

/**
 * meshPageDirName is the folder beside the admin bundle that holds the mesh page's files: the
 * stack copies shared/api/mesh-page/assets there when it bundles the function
 * (infra/mesh-function.ts, `copyFiles`), and functions/admin/index.ts reads them from
 * `join(__dirname, meshPageDirName)`.
 */
export const meshPageDirName = 'mesh-page';

/**
 * readMeshPageFiles reads the page's files from `dir`, each on its first request and then from
 * memory: a cold start that serves only the JSON API reads none of them. A missing file throws
 * (the handler's 500), as a deployment without them is broken, not a page to apologise for.
 */
export function readMeshPageFiles(dir: string): MeshPageFiles {
  const cache = new Map<MeshPageFile, string>();
  return (file) => {
    let text = cache.get(file);
    if (text === undefined) {
      text = readFileSync(join(dir, file), 'utf8');
      cache.set(file, text);
    }
    return text;
  };
}
