/** PageAsset is a static file of the mesh page, as text with its content type. */
export interface PageAsset {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly text: string;
}

/**
 * The mesh page's three static files, in shared/api/mesh-page/assets/: the document
 * (page.html, plain HTML loading the other two from beside it), its stylesheet (page.css) and
 * its script (page.js, plain browser JavaScript that polls `/services`, `/nodes` and
 * `/endpoints`, redraws the graph as inline SVG and the tables, takes `?refresh=<ms>` (default
 * 2000) and counts its redraws in `body[data-refreshes]`). Served as written: no build step, no
 * framework, nothing fetched from elsewhere.
 */
export const meshPageFiles = ['page.html', 'page.js', 'page.css'] as const;
export type MeshPageFile = (typeof meshPageFiles)[number];

/**
 * MeshPageFiles reads one of the page's files as UTF-8 text: the port through which the edge
 * supplies them. They are files, not strings in the code, so the admin function's bundle does
 * not carry them: its handler reads them from beside the bundle on the first request for the
 * page (functions/admin/page-files.ts), the local runner from the source tree.
 */
export type MeshPageFiles = (file: MeshPageFile) => string;

/** meshPagePrefix is where the page lives on the management API (`/mesh`). */
export const meshPagePrefix = '/mesh';

const assets: Readonly<Record<string, { type: string; file: MeshPageFile }>> = {
  '/mesh': { type: 'text/html; charset=utf-8', file: 'page.html' },
  '/mesh/': { type: 'text/html; charset=utf-8', file: 'page.html' },
  '/mesh/app.js': { type: 'text/javascript; charset=utf-8', file: 'page.js' },
  '/mesh/style.css': { type: 'text/css; charset=utf-8', file: 'page.css' },
};

/** isMeshPagePath tells whether a path belongs to the mesh page (served by the admin API, never JSON). */
export const isMeshPagePath = (path: string) => path === meshPagePrefix || path.startsWith(`${meshPagePrefix}/`);

/**
 * meshPageAsset answers a GET of the mesh page: the document, its script and its stylesheet,
 * which read the JSON API from the browser, as `read` supplies them. Anything else under /mesh
 * is a 404 in words, and only GET (and HEAD) are allowed. No-cache, so a redeploy shows at the
 * next load.
 */
export function meshPageAsset(method: string, path: string, read: MeshPageFiles): PageAsset {
  const asset = assets[path];
  if (method !== 'GET' && method !== 'HEAD') {
    return { status: 405, headers: { 'content-type': 'text/plain; charset=utf-8', allow: 'GET' }, text: `${method} is not allowed on ${path}; use GET` };
  }
  if (!asset) return { status: 404, headers: { 'content-type': 'text/plain; charset=utf-8' }, text: `no mesh page asset at ${path}; the page is at ${meshPagePrefix}` };
  return {
    status: 200,
    headers: { 'content-type': asset.type, 'cache-control': 'no-cache', 'x-content-type-options': 'nosniff' },
    text: method === 'HEAD' ? '' : read(asset.file),
  };
}
