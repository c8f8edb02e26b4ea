import { dashboardWidgets, layoutHtml } from '../../scripts/dashboard-layout';

describe("the dashboard's layout picture (scripts/dashboard-layout.ts)", () => {
  const widgets = dashboardWidgets();
  const html = layoutHtml(widgets);

  it('draws every synthesized widget with its title, and says it is a layout, not data', () => {
    const titles = widgets.filter((w) => w.type === 'metric').map((w) => w.properties.title!);
    expect(titles).toEqual(expect.arrayContaining(['xDS polls', 'Requests per service (inbound, per minute)', 'mTLS handshake failures']));
    for (const title of titles) expect(html).toContain(title.replace(/&/g, '&amp;'));
    expect(html).toContain('Not real data');
    expect(html.match(/no data: layout only/g)).toHaveLength(titles.length);
  });

  it('lists what each graph plots: the data-plane queries as synthesized', () => {
    expect(html).toContain('SELECT SUM(&quot;envoy.http.downstream_rq_total&quot;) FROM &quot;EnvoyMesh&quot;');
    expect(html).toContain('NodesBehind (Maximum) · EnvoyControlPlane');
  });
});
