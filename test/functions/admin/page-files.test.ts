import { mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { meshPageAsset, meshPageFiles } from '../../../shared/api/mesh-page';
import { readMeshPageFiles } from '../../../functions/admin/page-files';

const sourceDir = join(__dirname, '..', '..', '..', 'shared', 'api', 'mesh-page', 'assets');

describe('the mesh page read from files (functions/admin/page-files.ts)', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'mesh-page-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('serves each file as written, with its content type', () => {
    const read = readMeshPageFiles(sourceDir);
    expect(meshPageAsset('GET', '/mesh', read)).toMatchObject({ status: 200, headers: { 'content-type': 'text/html; charset=utf-8' }, text: readFileSync(join(sourceDir, 'page.html'), 'utf8') });
    expect(meshPageAsset('GET', '/mesh/app.js', read).text).toBe(readFileSync(join(sourceDir, 'page.js'), 'utf8'));
    expect(meshPageAsset('GET', '/mesh/style.css', read).text).toBe(readFileSync(join(sourceDir, 'page.css'), 'utf8'));
  });

  it('reads a file on its first request only, and none for a HEAD, a 404 or a 405', () => {
    for (const file of meshPageFiles) writeFileSync(join(dir, file), `first ${file}`);
    const read = readMeshPageFiles(dir);
    expect(meshPageAsset('HEAD', '/mesh', read)).toMatchObject({ status: 200, text: '' });
    expect(meshPageAsset('GET', '/mesh/other.txt', read).status).toBe(404);
    expect(meshPageAsset('POST', '/mesh', read).status).toBe(405);
    for (const file of meshPageFiles) writeFileSync(join(dir, file), `second ${file}`);
    expect(meshPageAsset('GET', '/mesh', read).text).toBe('second page.html');
    writeFileSync(join(dir, 'page.html'), 'third page.html');
    unlinkSync(join(dir, 'page.js'));
    expect(meshPageAsset('GET', '/mesh/', read).text).toBe('second page.html');
    expect(() => meshPageAsset('GET', '/mesh/app.js', read)).toThrow(/page\.js/);
  });
});
