'use strict';
(function () {
  var SVG = 'http://www.w3.org/2000/svg';
  var params = new URLSearchParams(location.search);
  var refreshMs = Math.max(250, Number(params.get('refresh')) || 2000);

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    setAttrs(node, attrs);
    append(node, children);
    return node;
  }
  function svg(tag, attrs, children) {
    var node = document.createElementNS(SVG, tag);
    setAttrs(node, attrs);
    append(node, children);
    return node;
  }
  function setAttrs(node, attrs) {
    Object.keys(attrs || {}).forEach(function (k) {
      if (attrs[k] !== undefined && attrs[k] !== null) node.setAttribute(k, String(attrs[k]));
    });
  }
  function append(node, children) {
    (children === undefined ? [] : [].concat(children)).forEach(function (c) {
      if (c === null || c === undefined) return;
      node.appendChild(typeof c === 'string' || typeof c === 'number' ? document.createTextNode(String(c)) : c);
    });
  }
  function getJson(path) {
    return fetch(path, { headers: { accept: 'application/json' } }).then(function (res) {
      return res.json().then(function (body) {
        if (!res.ok) throw new Error(path + ': ' + res.status + ' ' + (body && body.error ? body.error : ''));
        return body;
      });
    });
  }
  function ago(iso) {
    var s = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
    if (s < 120) return s + 's ago';
    if (s < 7200) return Math.round(s / 60) + 'm ago';
    return Math.round(s / 3600) + 'h ago';
  }
  function byName(a, b) { return a < b ? -1 : a > b ? 1 : 0; }

  /** model joins the three API answers into one record per service. */
  function model(services, nodes, endpoints) {
    var byService = {};
    services.services.forEach(function (r) {
      var spec = r.spec;
      byService[spec.name] = {
        name: spec.name,
        spec: spec,
        revision: r.revision,
        updatedAt: r.updatedAt,
        mtls: !(spec.mtls && (spec.mtls.enabled === false || spec.mtls.mode === 'off')),
        mtlsMode: spec.mtls && spec.mtls.mode === 'permissive' ? 'permissive' : '',
        deps: (spec.dependencies || []).map(function (d) { return d.service; }).concat((spec.routes || []).map(function (r) { return r.service; })).filter(function (d, i, all) { return all.indexOf(d) === i; }),
        dependents: [],
        zones: [],
        conv: { liveNodes: 0, onLatest: 0, behind: [], nodes: [] },
      };
    });
    Object.keys(byService).forEach(function (name) {
      byService[name].deps.forEach(function (d) { if (byService[d]) byService[d].dependents.push(name); });
    });
    nodes.services.forEach(function (c) { if (byService[c.service]) byService[c.service].conv = c; });
    endpoints.services.forEach(function (e) { if (byService[e.service]) byService[e.service].zones = e.zones; });
    Object.keys(byService).forEach(function (name) {
      var s = byService[name];
      var declared = s.spec.inbound && s.spec.inbound.allowedCallers;
      s.allowed = declared ? declared.slice() : s.dependents.slice().sort(byName);
      s.allowedDeclared = Boolean(declared);
      s.nacking = s.conv.behind.filter(function (b) { return b.lastNack; }).length;
      s.behindCount = s.conv.behind.length - s.nacking;
      s.health = s.conv.liveNodes === 0 ? 'idle' : s.nacking > 0 ? 'nacking' : s.behindCount > 0 ? 'behind' : 'ok';
      s.healthy = 0; s.total = 0;
      s.zones.forEach(function (z) { s.healthy += z.counts.healthy; s.total += z.endpoints.length; });
    });
    return Object.keys(byService).sort(byName).map(function (n) { return byService[n]; });
  }

  function allows(target, caller) {
    return !target.allowedDeclared || target.allowed.indexOf('*') >= 0 || target.allowed.indexOf(caller) >= 0;
  }

  /** drawGraph lays services out in columns by dependency depth: callers on the left, what they call on the right. */
  function drawGraph(services) {
    var byName_ = {};
    services.forEach(function (s) { byName_[s.name] = s; });
    var depth = {};
    function depthOf(name, seen) {
      if (depth[name] !== undefined) return depth[name];
      if (seen[name]) return 0;
      seen[name] = true;
      var d = 0;
      byName_[name].deps.forEach(function (dep) { if (byName_[dep]) d = Math.max(d, 1 + depthOf(dep, seen)); });
      delete seen[name];
      depth[name] = d;
      return d;
    }
    services.forEach(function (s) { depthOf(s.name, {}); });
    var maxDepth = 0;
    services.forEach(function (s) { maxDepth = Math.max(maxDepth, depth[s.name]); });
    var W = 210, H = 66, GX = 110, GY = 26, PAD = 20;
    var columns = [];
    services.forEach(function (s) {
      var col = maxDepth - depth[s.name];
      (columns[col] = columns[col] || []).push(s);
    });
    var pos = {}, rows = 0;
    columns.forEach(function (list, col) {
      (list || []).forEach(function (s, row) { pos[s.name] = { x: PAD + col * (W + GX), y: PAD + row * (H + GY) }; });
      rows = Math.max(rows, (list || []).length);
    });
    var width = PAD * 2 + (maxDepth + 1) * W + maxDepth * GX;
    var height = PAD * 2 + Math.max(1, rows) * H + Math.max(0, rows - 1) * GY;
    var root = svg('svg', { viewBox: '0 0 ' + width + ' ' + height, width: width, height: height, role: 'img', 'aria-label': 'service graph' });
    root.appendChild(svg('defs', {}, [
      svg('marker', { id: 'arrow', viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse' }, [svg('path', { d: 'M 0 0 L 10 5 L 0 10 z', fill: '#7b8794' })]),
      svg('marker', { id: 'arrow-denied', viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse' }, [svg('path', { d: 'M 0 0 L 10 5 L 0 10 z', fill: '#c62828' })]),
    ]));
    services.forEach(function (s) {
      var p = pos[s.name];
      var envoys = s.conv.liveNodes === 0 ? 'no Envoy' : s.conv.onLatest + '/' + s.conv.liveNodes + ' Envoys on latest';
      var g = svg('g', {
        class: 'node ' + s.health + (s.mtls ? '' : ' plaintext'),
        transform: 'translate(' + p.x + ',' + p.y + ')',
        'data-service': s.name,
        'data-mtls': s.mtls ? 'on' : 'off',
        'data-live': s.conv.liveNodes,
        'data-latest': s.conv.onLatest,
        'data-health': s.health,
      }, [
        svg('title', {}, s.name + ' · allowed callers: ' + (s.allowed.length ? s.allowed.join(', ') : 'none')),
        svg('rect', { width: W, height: H, rx: 8 }),
        svg('text', { class: 'name', x: 12, y: 20 }, s.name),
        svg('text', { class: 'meta', x: 12, y: 37 }, s.spec.protocol + ' · ' + (s.mtls ? (s.mtlsMode ? 'mTLS ' + s.mtlsMode : 'mTLS') : 'plaintext') + ' · ' + s.healthy + '/' + s.total + ' healthy'),
        svg('text', { class: 'meta', x: 12, y: 54 }, envoys),
      ]);
      root.appendChild(g);
    });
    // Arrows go on top: one that passes a service on its way is seen to pass it, not to end there.
    services.forEach(function (s) {
      s.deps.forEach(function (dep) {
        if (!pos[dep]) return;
        var a = pos[s.name], b = pos[dep];
        var x1 = a.x + W, y1 = a.y + H / 2, x2 = b.x, y2 = b.y + H / 2;
        // Next column: one curve. Further: down into the gap under the lower row, across, and up,
        // so the arrow does not run through the services of the columns between.
        var gap = Math.max(a.y, b.y) + H + GY / 2;
        var d = x2 > x1 && x2 - x1 <= GX
          ? 'M ' + x1 + ' ' + y1 + ' C ' + (x1 + GX / 2) + ' ' + y1 + ', ' + (x2 - GX / 2) + ' ' + y2 + ', ' + x2 + ' ' + y2
          : x2 > x1
          ? 'M ' + x1 + ' ' + y1 + ' C ' + (x1 + GX / 2) + ' ' + y1 + ', ' + (x1 + GX / 2) + ' ' + gap + ', ' + (x1 + GX) + ' ' + gap +
            ' L ' + (x2 - GX) + ' ' + gap + ' C ' + (x2 - GX / 2) + ' ' + gap + ', ' + (x2 - GX / 2) + ' ' + y2 + ', ' + x2 + ' ' + y2
          : 'M ' + (a.x + W / 2) + ' ' + (a.y + H) + ' C ' + (a.x + W / 2) + ' ' + (a.y + H + 40) + ', ' + (b.x + W / 2) + ' ' + (b.y + H + 40) + ', ' + (b.x + W / 2) + ' ' + (b.y + H);
        var denied = !allows(byName_[dep], s.name);
        root.appendChild(svg('path', { class: 'edge' + (denied ? ' denied' : ''), d: d, 'data-from': s.name, 'data-to': dep, 'marker-end': denied ? 'url(#arrow-denied)' : 'url(#arrow)' },
          [svg('title', {}, s.name + ' → ' + dep + (denied ? ' (refused by ' + dep + "'s allowed callers)" : ''))]));
      });
    });
    var box = document.getElementById('graph');
    box.replaceChildren(services.length ? root : el('p', { class: 'empty' }, 'No service is declared yet: PUT /services/{name} or meshctl apply.'));
  }

  function fill(tableId, rows, emptyText, columns) {
    var body = document.querySelector('#' + tableId + ' tbody');
    body.replaceChildren.apply(body, rows.length ? rows : [el('tr', {}, [el('td', { class: 'empty', colspan: columns }, emptyText)])]);
  }

  function render(services) {
    var live = 0, latest = 0, behind = 0, nacking = 0;
    services.forEach(function (s) { live += s.conv.liveNodes; latest += s.conv.onLatest; behind += s.behindCount; nacking += s.nacking; });
    document.getElementById('summary').replaceChildren(
      el('span', {}, [el('b', { id: 'count-services' }, services.length), ' services']),
      el('span', {}, [el('b', { id: 'count-envoys' }, live), ' Envoys']),
      el('span', {}, [el('b', { id: 'count-latest' }, latest), ' on latest']),
      el('span', {}, [el('b', { id: 'count-behind' }, behind), ' behind']),
      el('span', {}, [el('b', { id: 'count-nacking' }, nacking), ' NACKing'])
    );
    drawGraph(services);

    fill('services-table', services.map(function (s) {
      return el('tr', { 'data-service': s.name }, [
        el('td', {}, el('b', {}, s.name)),
        el('td', {}, s.spec.protocol),
        el('td', { 'data-col': 'mtls' }, s.mtls ? (s.mtlsMode || 'on') : 'off'),
        el('td', { 'data-col': 'deps' }, s.deps.join(', ') || '–'),
        el('td', { 'data-col': 'callers' }, (s.allowed.join(', ') || 'none') + (s.allowedDeclared ? '' : ' (dependents)')),
        el('td', { class: 'num', 'data-col': 'endpoints' }, s.healthy + '/' + s.total),
        el('td', { class: 'num', 'data-col': 'envoys' }, s.conv.onLatest + '/' + s.conv.liveNodes),
        el('td', { class: 'num', 'data-col': 'behind' }, s.behindCount),
        el('td', { class: 'num', 'data-col': 'nacking' }, s.nacking),
      ]);
    }), 'No service is declared yet.', 9);

    var zoneRows = [];
    services.forEach(function (s) {
      s.zones.forEach(function (z) {
        zoneRows.push(el('tr', { 'data-service': s.name, 'data-zone': z.zone }, [
          el('td', {}, s.name),
          el('td', {}, z.zone || '(none)'),
          el('td', { class: 'num', 'data-col': 'healthy' }, z.counts.healthy),
          el('td', { class: 'num', 'data-col': 'unhealthy' }, z.counts.unhealthy),
          el('td', { class: 'num', 'data-col': 'draining' }, z.counts.draining),
          el('td', {}, z.endpoints.map(function (e) { return el('code', { title: e.id + ' (' + e.source + ')' }, e.address + ':' + e.port + (e.health === 'healthy' ? '' : ' ' + e.health) + ' '); })),
        ]));
      });
    });
    fill('endpoints-table', zoneRows, 'No endpoint has been seen yet: lifecycle events add them.', 6);

    var envoyRows = [];
    services.forEach(function (s) {
      var behindById = {};
      s.conv.behind.forEach(function (b) { behindById[b.nodeId] = b; });
      s.conv.nodes.forEach(function (n) {
        var b = behindById[n.nodeId];
        var state = !b ? 'latest' : b.lastNack ? 'nacking' : 'behind';
        envoyRows.push(el('tr', { 'data-node': n.nodeId, 'data-state': state }, [
          el('td', {}, el('code', {}, n.nodeId)),
          el('td', {}, s.name),
          el('td', {}, n.zone || '–'),
          el('td', {}, el('span', { class: 'pill ' + state }, state === 'nacking' ? 'NACKing' : state)),
          el('td', {}, ago(n.lastPollAt)),
          el('td', {}, n.lastNack ? n.lastNack.type + ': ' + n.lastNack.message : ''),
        ]));
      });
    });
    fill('envoys-table', envoyRows, 'No Envoy has polled yet.', 6);

    var changes = services.slice().sort(function (a, b) {
      var ka = (a.conv.lastChange && a.conv.lastChange.at) || a.updatedAt || '';
      var kb = (b.conv.lastChange && b.conv.lastChange.at) || b.updatedAt || '';
      return byName(kb, ka);
    });
    fill('changes-table', changes.map(function (s) {
      var c = s.conv.lastChange;
      return el('tr', { 'data-service': s.name }, [
        el('td', {}, s.name),
        el('td', { class: 'num' }, s.revision),
        el('td', {}, s.updatedAt ? ago(s.updatedAt) : '–'),
        el('td', {}, c ? ago(c.at) : '–'),
        el('td', { class: 'num' }, c ? c.reachedNodes : '–'),
        el('td', { class: 'num', 'data-col': 'convergence' }, c ? c.convergenceMs.p50 + ' ms / ' + c.convergenceMs.max + ' ms' : '–'),
      ]);
    }), 'No change yet.', 6);
  }

  function refresh() {
    Promise.all([getJson('/services'), getJson('/nodes'), getJson('/endpoints')])
      .then(function (answers) {
        render(model(answers[0], answers[1], answers[2]));
        document.getElementById('error').hidden = true;
        document.getElementById('updated').textContent = 'updated ' + new Date().toLocaleTimeString() + ' · every ' + refreshMs / 1000 + ' s';
        document.body.setAttribute('data-refreshes', String(Number(document.body.getAttribute('data-refreshes')) + 1));
      })
      .catch(function (err) {
        var box = document.getElementById('error');
        box.textContent = 'Cannot read the control plane: ' + err.message + ' (retrying)';
        box.hidden = false;
      })
      .then(function () { setTimeout(refresh, refreshMs); });
  }
  refresh();
})();
