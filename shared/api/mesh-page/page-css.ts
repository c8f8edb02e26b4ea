/** pageCss is the mesh page's stylesheet. */
export const pageCss = String.raw`
:root { --ok: #2e7d32; --behind: #ef8f00; --nacking: #c62828; --idle: #8a8f98; --ink: #1d232b; --muted: #5f6b7a; --line: #d9dee5; --bg: #f6f8fa; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); background: var(--bg); }
header { display: flex; align-items: baseline; gap: 24px; padding: 14px 24px; background: #fff; border-bottom: 1px solid var(--line); }
h1 { font-size: 20px; margin: 0; }
h2 { font-size: 15px; margin: 0 0 8px; }
.summary { display: flex; gap: 18px; color: var(--muted); }
.summary b { color: var(--ink); }
.updated { margin-left: auto; color: var(--muted); font-size: 12px; }
.error { margin: 12px 24px; padding: 8px 12px; background: #fdecea; color: var(--nacking); border: 1px solid #f5c2c0; border-radius: 4px; }
main { padding: 16px 24px; display: grid; gap: 18px; }
section { background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: 12px 16px; overflow-x: auto; }
.legend { color: var(--muted); font-size: 12px; margin: 0 0 8px; }
.swatch { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin: 0 4px 0 10px; vertical-align: -1px; }
.swatch.ok { background: var(--ok); } .swatch.behind { background: var(--behind); } .swatch.nacking { background: var(--nacking); } .swatch.idle { background: var(--idle); }
.graph svg { display: block; max-width: 100%; height: auto; }
.node rect { fill: #fff; stroke-width: 2; }
.node.ok rect { stroke: var(--ok); } .node.behind rect { stroke: var(--behind); } .node.nacking rect { stroke: var(--nacking); } .node.idle rect { stroke: var(--idle); }
.node .name { font-weight: 600; font-size: 13px; }
.node .meta { font-size: 11px; fill: var(--muted); }
.node.plaintext rect { stroke-dasharray: 5 3; }
.edge { fill: none; stroke: #7b8794; stroke-width: 1.5; stroke-opacity: 0.85; }
.edge.denied { stroke: var(--nacking); stroke-dasharray: 4 3; }
table { border-collapse: collapse; width: 100%; font-size: 13px; }
th, td { text-align: left; padding: 5px 10px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { color: var(--muted); font-weight: 500; font-size: 12px; }
td.num { font-variant-numeric: tabular-nums; }
.pill { display: inline-block; padding: 0 7px; border-radius: 9px; font-size: 12px; color: #fff; }
.pill.latest { background: var(--ok); } .pill.behind { background: var(--behind); } .pill.nacking { background: var(--nacking); }
.empty { color: var(--muted); font-style: italic; }
code { font-size: 12px; }
`;
