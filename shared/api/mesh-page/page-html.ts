/**
 * pageHtml is the mesh page's document: plain HTML that loads its stylesheet and script from
 * beside it. The page, its CSS and its JS are served as written here: no build step, no
 * framework, nothing fetched from elsewhere.
 */
export const pageHtml = String.raw`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Mesh · Envoy control plane</title>
<link rel="stylesheet" href="/mesh/style.css">
</head>
<body data-refreshes="0">
<header>
  <h1>Mesh</h1>
  <div id="summary" class="summary"></div>
  <div id="updated" class="updated">loading…</div>
</header>
<div id="error" class="error" hidden></div>
<main>
  <section class="graph-section">
    <h2>Service graph</h2>
    <p class="legend"><span class="swatch ok"></span>all Envoys on latest <span class="swatch behind"></span>some behind <span class="swatch nacking"></span>NACKing <span class="swatch idle"></span>no Envoy · arrows go from caller to dependency; a red arrow is a call the dependency's allow-list refuses</p>
    <div id="graph" class="graph"></div>
  </section>
  <section>
    <h2>Services</h2>
    <table id="services-table"><thead><tr><th>service</th><th>protocol</th><th>mTLS</th><th>depends on</th><th>allowed callers</th><th>endpoints (healthy/all)</th><th>Envoys latest/live</th><th>behind</th><th>NACKing</th></tr></thead><tbody></tbody></table>
  </section>
  <section>
    <h2>Endpoints by zone</h2>
    <table id="endpoints-table"><thead><tr><th>service</th><th>zone</th><th>healthy</th><th>unhealthy</th><th>draining</th><th>addresses</th></tr></thead><tbody></tbody></table>
  </section>
  <section>
    <h2>Envoys</h2>
    <table id="envoys-table"><thead><tr><th>node</th><th>service</th><th>zone</th><th>state</th><th>last poll</th><th>last NACK</th></tr></thead><tbody></tbody></table>
  </section>
  <section>
    <h2>Recent changes</h2>
    <table id="changes-table"><thead><tr><th>service</th><th>spec revision</th><th>spec updated</th><th>last change reached Envoys</th><th>Envoys reached</th><th>convergence p50 / max</th></tr></thead><tbody></tbody></table>
  </section>
</main>
<script src="/mesh/app.js"></script>
</body>
</html>
`;
