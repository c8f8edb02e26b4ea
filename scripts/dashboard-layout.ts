/**
 * `npx tsx scripts/dashboard-layout.ts [out.png]`: draws the LAYOUT of the mesh dashboard as
 * `cdk synth` makes it for the example app (every widget where CloudWatch places it, with its
 * title and what each graph plots), into a local HTML page, and screenshots it with Debian's
 * Chromium (playwright-core never downloads a browser). No metric is read: the picture says so.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { chromium } from 'playwright-core';
import { ExampleMeshStack } from '../infra/example-stack';

interface Widget {
  type: 'metric' | 'text';
  x: number;
  y: number;
  width: number;
  height: number;
  properties: { title?: string; markdown?: string; metrics?: unknown[][] };
}

/** flatten turns the synthesized body (a join of text and tokens) into its text, tokens named. */
const flatten = (v: unknown): string =>
  typeof v === 'string'
    ? v
    : Array.isArray(v)
      ? v.map(flatten).join('')
      : v && typeof v === 'object' && 'Fn::Join' in v
        ? (v as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1].map(flatten).join('')
        : v && typeof v === 'object' && 'Ref' in v
          ? String((v as { Ref: string }).Ref).replace(/^AWS::/, '').replace(/[0-9A-F]{8}$/, '')
          : 'token';

/** dashboardWidgets synthesizes the example app (without bundling) and reads its dashboard's widgets. */
export function dashboardWidgets(): Widget[] {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new ExampleMeshStack(app, 'EnvoyMeshExample');
  const [dashboard] = Object.values(Template.fromStack(stack).findResources('AWS::CloudWatch::Dashboard'));
  return (JSON.parse(flatten((dashboard!.Properties as { DashboardBody: unknown }).DashboardBody)) as { widgets: Widget[] }).widgets;
}

const escape = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

/** seriesOf says what one graph line plots: its label, and its query, expression or metric. */
function seriesOf(entry: unknown[]): string {
  const options = (typeof entry.at(-1) === 'object' ? entry.at(-1) : {}) as { label?: string; expression?: string; stat?: string };
  if (options.expression) return `${options.label ? `${options.label}: ` : ''}${options.expression}`;
  const names = entry.filter((e) => typeof e === 'string' && e !== '.' && e !== '...') as string[];
  return `${options.label ?? names[1] ?? ''}${options.stat ? ` (${options.stat})` : ''} · ${names[0] ?? ''}`;
}

/** layoutHtml draws each widget at its grid place (24 columns; a height unit is 30 px). */
export function layoutHtml(widgets: readonly Widget[]): string {
  const boxes = widgets.map((w) => {
    const style = `left:${(w.x / 24) * 100}%;top:${w.y * 30}px;width:calc(${(w.width / 24) * 100}% - 8px);height:${w.height * 30 - 8}px`;
    if (w.type === 'text') {
      const text = escape(w.properties.markdown ?? '').replace(/^## (.*)$/m, '<b>$1</b>').replace(/`([^`]+)`/g, '<code>$1</code>');
      return `<div class="w text" style="${style}">${text.replace(/\n/g, '<br>')}</div>`;
    }
    const lines = (w.properties.metrics ?? []).map((m) => `<li>${escape(seriesOf(m))}</li>`).join('');
    return `<div class="w" style="${style}"><div class="t">${escape(w.properties.title ?? '')}</div><div class="plot">no data: layout only</div><ul>${lines}</ul></div>`;
  });
  const height = Math.max(...widgets.map((w) => (w.y + w.height) * 30));
  return `<!doctype html><meta charset="utf-8"><style>
body{font:12px system-ui,sans-serif;margin:0;background:#f2f3f3;color:#16191f}
.banner{background:#232f3e;color:#fff;padding:10px 14px;font-size:14px}
.grid{position:relative;margin:8px;height:${height}px}
.w{position:absolute;box-sizing:border-box;background:#fff;border:1px solid #d5dbdb;border-radius:3px;padding:6px 8px;overflow:hidden}
.w.text{background:#fafafa}
.t{font-weight:600;margin-bottom:4px}
.plot{height:34px;border-left:1px solid #aab7b8;border-bottom:1px solid #aab7b8;color:#879596;font-style:italic;display:flex;align-items:center;justify-content:center;margin-bottom:4px}
ul{margin:0;padding-left:14px;color:#545b64;font-size:10.5px;line-height:1.3}
code{background:#eee;padding:0 2px}
.banner code{background:#37475a;color:#fff}
</style>
<div class="banner">Layout of the mesh dashboard as <code>cdk synth</code> makes it for the example app (${widgets.length} widgets): each panel lists what it plots. Not real data.</div>
<div class="grid">${boxes.join('')}</div>`;
}

async function main(): Promise<void> {
  const out = process.argv[2] ?? join(__dirname, '..', 'docs', 'dashboard-layout.png');
  const html = layoutHtml(dashboardWidgets());
  const page = join(__dirname, '..', 'test-output', 'dashboard-layout.html');
  mkdirSync(join(__dirname, '..', 'test-output'), { recursive: true });
  writeFileSync(page, html);
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium' });
  try {
    const tab = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    await tab.goto(`file://${page}`);
    await tab.screenshot({ path: out, fullPage: true });
  } finally {
    await browser.close();
  }
  console.log(`wrote ${out} (from ${page})`);
}

if (require.main === module) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
