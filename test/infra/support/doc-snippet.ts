import * as fs from 'node:fs';
import * as path from 'node:path';
import * as ts from 'typescript';
import { Construct } from 'constructs';

/** docSnippet is the first TypeScript block under a heading of a document in docs/, as a reader copies it. */
export function docSnippet(document: string, heading: string): string {
  const doc = fs.readFileSync(path.join(__dirname, '..', '..', '..', 'docs', document), 'utf8');
  const section = doc.split(heading)[1] ?? '';
  const block = /```ts\n([\s\S]*?)```/.exec(section)?.[1];
  if (!block) throw new Error(`docs/${document} has no ts block under "${heading}"`);
  return block;
}

/**
 * runDocSnippet runs a documented snippet as written, with `this` the given scope and the
 * names it uses (constructs, helpers, the resources it expects to exist) passed in.
 */
export function runDocSnippet(snippet: string, scope: Construct, names: Record<string, unknown>): void {
  const js = ts.transpileModule(snippet, { compilerOptions: { target: ts.ScriptTarget.ES2022 } }).outputText;
  const run = new Function(...Object.keys(names), js) as (...args: unknown[]) => void;
  run.call(scope, ...Object.values(names));
}
