import { pageCss } from './mesh-page/page-css';
import { pageHtml } from './mesh-page/page-html';
import { pageJs } from './mesh-page/page-js';

/** PageAsset is a static file of the mesh page, as text with its content type. */
export interface PageAsset {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly text: string;
}

/** meshPagePrefix is where the page lives on the management API (`/mesh`). */
export const meshPagePrefix = '/mesh';

const assets: Readonly<Record<string, { type: string; text: string }>> = {
  '/mesh': { type: 'text/html; charset=utf-8', text: pageHtml },
  '/mesh/': { type: 'text/html; charset=utf-8', text: pageHtml },
  '/mesh/app.js': { type: 'text/javascript; charset=utf-8', text: pageJs },
  '/mesh/style.css': { type: 'text/css; charset=utf-8', text: pageCss },
};

/** isMeshPagePath tells whether a path belongs to the mesh page (served by the admin API, never JSON). */
export const isMeshPagePath = (path: string) => path === meshPagePrefix || path.startsWith(`${meshPagePrefix}/`);

/**
 * meshPageAsset answers a GET of the mesh page: the document, its script and its stylesheet,
 * which read the JSON API from the browser. Anything else under /mesh is a 404 in words, and
 * only GET (and HEAD) are allowed. No-cache, so a redeploy shows at the next load.
 */
export function meshPageAsset(method: string, path: string): PageAsset {
  const asset = assets[path];
  if (method !== 'GET' && method !== 'HEAD') {
    return { status: 405, headers: { 'content-type': 'text/plain; charset=utf-8', allow: 'GET' }, text: `${method} is not allowed on ${path}; use GET` };
  }
  if (!asset) return { status: 404, headers: { 'content-type': 'text/plain; charset=utf-8' }, text: `no mesh page asset at ${path}; the page is at ${meshPagePrefix}` };
  return {
    status: 200,
    headers: { 'content-type': asset.type, 'cache-control': 'no-cache', 'x-content-type-options': 'nosniff' },
    text: method === 'HEAD' ? '' : asset.text,
  };
}
