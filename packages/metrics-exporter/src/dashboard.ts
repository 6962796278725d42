/**
 * A self-contained live dashboard page (no external scripts, hand-drawn SVG) that polls the JSON
 * endpoint and draws latency quantiles, request and error rates, health, providers, models and cache.
 */
export function dashboardHtml(options: { jsonPath: string; intervalMs?: number; title?: string }): string {
  const config = JSON.stringify({ jsonPath: options.jsonPath, intervalMs: options.intervalMs ?? 1000 }).replace(
    /</g,
    '\\u003c',
  );
  const title = (options.title ?? 'gatewayz metrics').replace(/[<>&"]/g, (c) => `&#${c.charCodeAt(0)};`);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title><link rel="icon" href="data:,">
<style>
:root{--bg:#0f1419;--panel:#161c24;--fg:#d8dee9;--muted:#7b8794;--p50:#5ec4ff;--p95:#f7c948;--p99:#ff6b6b;--ok:#3ddc84;--warn:#f7c948;--bad:#ff6b6b}
*{box-sizing:border-box}body{margin:0;font:14px/1.4 system-ui,sans-serif;background:var(--bg);color:var(--fg)}
header{display:flex;align-items:center;gap:16px;padding:12px 20px;border-bottom:1px solid #222b36}
h1{font-size:18px;margin:0;font-weight:600}.badge{padding:3px 10px;border-radius:12px;font-weight:600;text-transform:uppercase;font-size:12px}
.healthy{background:var(--ok);color:#04210f}.degraded{background:var(--warn);color:#2a2000}.unhealthy{background:var(--bad);color:#2a0000}.unknown{background:#444;color:#ddd}
main{display:grid;grid-template-columns:repeat(auto-fit,minmax(420px,1fr));gap:16px;padding:16px 20px}
section{background:var(--panel);border-radius:8px;padding:12px 14px}h2{font-size:13px;margin:0 0 8px;color:var(--muted);font-weight:600;text-transform:uppercase;letter-spacing:.04em}
svg{width:100%;height:180px;display:block}.legend{display:flex;gap:12px;font-size:12px;color:var(--muted)}.legend i{display:inline-block;width:10px;height:3px;margin-right:4px;vertical-align:middle}
table{width:100%;border-collapse:collapse;font-size:13px}td,th{padding:4px 6px;text-align:right;border-bottom:1px solid #222b36}td:first-child,th:first-child{text-align:left}
.bar{height:8px;background:var(--p50);border-radius:4px}.stat{font-size:28px;font-weight:600}.muted{color:var(--muted)}#error{color:var(--bad)}
</style></head>
<body>
<header><h1>${title}</h1><span id="health" class="badge unknown" data-testid="health">unknown</span>
<span class="muted" id="summary"></span><span id="error"></span></header>
<main>
<section><h2>Latency (sliding window)</h2><div class="legend"><span><i style="background:var(--p50)"></i>p50</span><span><i style="background:var(--p95)"></i>p95</span><span><i style="background:var(--p99)"></i>p99</span><span id="latnow"></span></div><svg id="latency" data-testid="latency-chart" viewBox="0 0 600 180" preserveAspectRatio="none"></svg></section>
<section><h2>Requests and errors per second</h2><div class="legend"><span><i style="background:var(--p50)"></i>requests/s</span><span><i style="background:var(--bad)"></i>errors/s</span><span id="ratenow"></span></div><svg id="rates" data-testid="rate-chart" viewBox="0 0 600 180" preserveAspectRatio="none"></svg></section>
<section><h2>Cache hit rate</h2><div class="legend"><span id="cachenow"></span></div><svg id="cache" data-testid="cache-chart" viewBox="0 0 600 180" preserveAspectRatio="none"></svg></section>
<section><h2>Providers</h2><table data-testid="providers"><thead><tr><th>provider</th><th>requests</th><th>error rate</th><th>avg latency</th><th></th></tr></thead><tbody id="providers"></tbody></table></section>
<section><h2>Models</h2><table data-testid="models"><thead><tr><th>model</th><th>requests</th><th>error rate</th><th>avg latency</th></tr></thead><tbody id="models"></tbody></table></section>
</main>
<script>
(() => {
  const cfg = ${config};
  const MAX = 120;
  const hist = { t: [], p50: [], p95: [], p99: [], rps: [], eps: [], cache: [] };
  let prev = null;
  const $ = (id) => document.getElementById(id);
  const esc = (s) => String(s).replace(/[&<>"']/g, (c) => '&#' + c.charCodeAt(0) + ';');
  const ms = (v) => (v == null ? '–' : (v * 1000).toFixed(v < 0.01 ? 2 : 0) + ' ms');
  const pct = (v) => (v == null ? '–' : (v * 100).toFixed(1) + '%');
  function push(k, v) { hist[k].push(v); if (hist[k].length > MAX) hist[k].shift(); }
  function chart(svg, series, fixedMax) {
    const W = 600, H = 180, pad = 4;
    let max = fixedMax || 0;
    if (!fixedMax) for (const s of series) for (const v of s.data) if (v != null && v > max) max = v;
    if (!(max > 0)) max = 1;
    let out = '';
    for (let g = 1; g < 4; g++) out += '<line x1="0" x2="' + W + '" y1="' + (H * g) / 4 + '" y2="' + (H * g) / 4 + '" stroke="#222b36"/>';
    for (const s of series) {
      let d = '';
      s.data.forEach((v, i) => {
        if (v == null) return;
        const x = (i / (MAX - 1)) * W, y = H - pad - (v / max) * (H - 2 * pad - 16);
        d += (d ? 'L' : 'M') + x.toFixed(1) + ' ' + y.toFixed(1);
      });
      if (d) out += '<path data-series="' + s.name + '" d="' + d + '" fill="none" stroke="' + s.color + '" stroke-width="2"/>';
    }
    out += '<text x="4" y="14" fill="#7b8794" font-size="11">' + esc(s0(max)) + '</text>';
    svg.innerHTML = out;
    function s0(m) { return fixedMax === 1 ? '100%' : series[0].fmt ? series[0].fmt(m) : m.toFixed(1); }
  }
  function table(tbody, rows, withBar) {
    const maxReq = Math.max(1, ...rows.map((r) => r.requests));
    tbody.innerHTML = rows.map((r) => '<tr><td>' + esc(r.name) + '</td><td>' + r.requests + '</td><td>' + pct(r.errorRate) + '</td><td>' + ms(r.latency.avg) + '</td>' +
      (withBar ? '<td style="width:30%"><div class="bar" style="width:' + ((100 * r.requests) / maxReq).toFixed(0) + '%"></div></td>' : '') + '</tr>').join('');
  }
  async function tick() {
    try {
      const res = await fetch(cfg.jsonPath, { headers: { accept: 'application/json' }, cache: 'no-store' });
      if (!res.ok) throw new Error('HTTP ' + res.status);
      const s = await res.json();
      const now = Date.now();
      const lat = s.window.latency;
      push('p50', lat.p50); push('p95', lat.p95); push('p99', lat.p99);
      if (prev) {
        const dt = (now - prev.at) / 1000;
        const dr = s.totals.requests - prev.requests, de = s.totals.errors - prev.errors;
        push('rps', dr >= 0 && dt > 0 ? dr / dt : null); push('eps', de >= 0 && dt > 0 ? de / dt : null);
      } else { push('rps', null); push('eps', null); }
      prev = { at: now, requests: s.totals.requests, errors: s.totals.errors };
      push('cache', s.cache.hitRate);
      chart($('latency'), [{ name: 'p50', data: hist.p50, color: 'var(--p50)', fmt: ms }, { name: 'p95', data: hist.p95, color: 'var(--p95)' }, { name: 'p99', data: hist.p99, color: 'var(--p99)' }]);
      chart($('rates'), [{ name: 'rps', data: hist.rps, color: 'var(--p50)', fmt: (m) => m.toFixed(1) + '/s' }, { name: 'eps', data: hist.eps, color: 'var(--bad)' }]);
      chart($('cache'), [{ name: 'hit', data: hist.cache, color: 'var(--ok)' }], 1);
      const h = s.health.status;
      $('health').className = 'badge ' + h; $('health').textContent = h;
      $('summary').textContent = s.totals.requests + ' requests · window error rate ' + pct(s.window.errorRate) + ' · up ' + Math.round(s.uptimeSeconds) + ' s';
      $('latnow').textContent = 'now: p50 ' + ms(lat.p50) + ' · p95 ' + ms(lat.p95) + ' · p99 ' + ms(lat.p99);
      const last = hist.rps[hist.rps.length - 1];
      $('ratenow').textContent = last == null ? '' : 'now: ' + last.toFixed(1) + ' req/s';
      $('cachenow').textContent = 'hit rate ' + pct(s.cache.hitRate) + ' (' + s.cache.hits + ' hits, ' + s.cache.misses + ' misses)';
      table($('providers'), s.providers.map((p) => ({ name: p.provider, requests: p.requests, errorRate: p.errorRate, latency: p.latency })), true);
      table($('models'), s.models.map((p) => ({ name: p.model, requests: p.requests, errorRate: p.errorRate, latency: p.latency })), false);
      $('error').textContent = '';
      document.body.dataset.updates = String((Number(document.body.dataset.updates) || 0) + 1);
    } catch (e) {
      $('error').textContent = 'cannot load metrics: ' + e.message;
    }
  }
  tick();
  setInterval(tick, cfg.intervalMs);
})();
</script>
</body></html>
`;
}
