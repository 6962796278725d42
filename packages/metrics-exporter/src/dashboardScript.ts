/**
 * The dashboard page's script, served as its own asset (`{prefix}/dashboard/dashboard.js`) so that the page's
 * CSP needs no 'unsafe-inline'. It reads its configuration from `data-*` attributes on `<body>` and the
 * server's history from the `#history` JSON data island, draws it at once, then polls `{prefix}/json`.
 * It never writes a style attribute in markup: sizes and positions go through the CSSOM, which CSP allows.
 */
export const DASHBOARD_SCRIPT = `(() => {
  'use strict';
  const SVG = 'http://www.w3.org/2000/svg';
  const body = document.body;
  const cfg = {
    jsonPath: body.dataset.jsonPath || 'json',
    intervalMs: Number(body.dataset.intervalMs) || 1000,
    spanMs: (Number(body.dataset.historySeconds) || 900) * 1000,
  };
  const MAX_POINTS = 20000;
  const MIN_SPAN_MS = 20000;
  const $ = (id) => document.getElementById(id);
  const num = (v) => (typeof v === 'number' && isFinite(v) ? v : null);

  let points = [];
  try {
    const island = JSON.parse(($('history') || {}).textContent || '{}');
    if (Array.isArray(island.points)) points = island.points.filter((p) => p && num(p.t) !== null);
  } catch (e) {
    points = [];
  }

  const pad2 = (n) => (n < 10 ? '0' : '') + n;
  const clock = (t, seconds) => {
    const d = new Date(t);
    return pad2(d.getHours()) + ':' + pad2(d.getMinutes()) + (seconds ? ':' + pad2(d.getSeconds()) : '');
  };
  const trim = (v, digits) => String(Number(v.toFixed(digits)));
  const fmtMs = (v) => {
    if (v == null) return '–';
    const m = v * 1000;
    return (m >= 100 ? trim(m, 0) : m >= 10 ? trim(m, 1) : trim(m, 2)) + ' ms';
  };
  const fmtRate = (v) => (v == null ? '–' : (v >= 100 ? trim(v, 0) : v >= 10 ? trim(v, 1) : trim(v, 2)) + ' req/s');
  const fmtPct = (v) => (v == null ? '–' : trim(v * 100, v >= 0.1 ? 0 : 1) + '%');
  const fmtPctLong = (v) => (v == null ? '–' : (v * 100).toFixed(1) + '%');
  const sig = (v) => (v >= 100 ? trim(v, 0) : v >= 10 ? trim(v, 1) : v >= 1 ? trim(v, 2) : v === 0 ? '0' : String(Number(v.toPrecision(2))));
  const fmtTok = (v) => (v == null ? '–' : (v >= 1000 ? sig(v / 1000) + 'k' : sig(v)) + ' tok/s');
  const fmtUsd = (v) => (v == null ? '–' : '$' + sig(v) + '/h');

  // The AI families (ours, then the OTel names), summed over their series as the server's history does.
  const AI = {
    tokens: ['model_tokens_total', 'gen_ai_client_token_usage'],
    cost: ['model_cost_usd_total'],
    ttft: ['model_time_to_first_token_seconds', 'gen_ai_server_time_to_first_token_seconds'],
  };
  const familyTotal = (s, names, field) => {
    const f = (s.families || []).find((x) => names.indexOf(x.name) >= 0);
    if (!f) return null;
    let total = 0;
    for (const x of f.series) {
      const l = x.labels || {};
      if (l.type === 'cached_input' || l.gen_ai_token_type === 'cached_input') continue;
      const v = f.type === 'histogram' ? x[field || 'sum'] : x.value;
      if (num(v) !== null) total += v;
    }
    return total;
  };

  const CHARTS = [
    {
      id: 'latency',
      fmt: fmtMs,
      series: [
        { key: 'p50', label: 'p50' },
        { key: 'p95', label: 'p95' },
        { key: 'p99', label: 'p99' },
      ],
    },
    {
      id: 'rates',
      fmt: fmtRate,
      series: [
        { key: 'rps', label: 'requests/s' },
        { key: 'eps', label: 'errors/s' },
      ],
    },
    { id: 'cache', fmt: fmtPct, fixedMax: 1, series: [{ key: 'hitRate', label: 'hit rate' }] },
    // The AI charts say so when their family never appeared (a collector without completions).
    { id: 'tokens', fmt: fmtTok, present: 'tokens', none: 'no model calls yet', series: [{ key: 'tokensPerSec', label: 'tokens/s' }] },
    { id: 'cost', fmt: fmtUsd, present: 'costUsd', none: 'no model calls yet', series: [{ key: 'costPerHour', label: 'USD/hour' }] },
    { id: 'ttft', fmt: fmtMs, present: 'ttftCount', none: 'no model calls yet', series: [{ key: 'ttftAvg', label: 'avg time to first token' }] },
  ];

  function niceStep(raw) {
    const p = Math.pow(10, Math.floor(Math.log10(raw)));
    const f = raw / p;
    return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 2.5 ? 2.5 : f <= 5 ? 5 : 10) * p;
  }
  const TIME_STEPS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 21600].map((s) => s * 1000);

  function el(name, attrs, parent) {
    const e = document.createElementNS(SVG, name);
    for (const k in attrs) e.setAttribute(k, String(attrs[k]));
    if (parent) parent.appendChild(e);
    return e;
  }

  function domain() {
    if (!points.length) return null;
    const t1 = points[points.length - 1].t;
    let t0 = Math.max(points[0].t, t1 - cfg.spanMs);
    if (t1 - t0 < MIN_SPAN_MS) t0 = t1 - MIN_SPAN_MS;
    return { t0, t1 };
  }

  function draw(chart) {
    const svg = $(chart.id);
    if (!svg) return;
    const W = Math.max(200, Math.round(svg.getBoundingClientRect().width || 600));
    const H = 200;
    const m = { l: 58, r: 12, t: 10, b: 24 };
    const ph = H - m.t - m.b;
    svg.setAttribute('viewBox', '0 0 ' + W + ' ' + H);
    svg.replaceChildren();
    const d = domain();
    const visible = d ? points.filter((p) => p.t >= d.t0) : [];
    let max = 0;
    if (chart.fixedMax) max = chart.fixedMax;
    else for (const p of visible) for (const s of chart.series) if (num(p[s.key]) !== null && p[s.key] > max) max = p[s.key];
    if (!(max > 0)) max = chart.fmt === fmtMs ? 0.001 : 1;
    const step = chart.fixedMax ? 0.25 : niceStep(max / 4);
    const top = chart.fixedMax ? chart.fixedMax : Math.ceil(max / step - 1e-9) * step;
    const y = (v) => m.t + ph - (v / top) * ph;
    const ticks = [];
    for (let v = 0; v <= top + step / 2; v += step) ticks.push({ v, text: chart.fmt(v) });
    // The left margin grows with the longest tick label (about 6.5 px a character at 11 px), so none is cut off.
    m.l = Math.max(m.l, Math.ceil(Math.max(...ticks.map((k) => k.text.length)) * 6.5) + 10);
    const pw = W - m.l - m.r;

    const grid = el('g', { class: 'axis y-axis', 'data-testid': chart.id + '-y-axis' }, svg);
    for (const k of ticks) {
      el('line', { class: 'grid', x1: m.l, x2: W - m.r, y1: y(k.v), y2: y(k.v) }, grid);
      const label = el('text', { class: 'tick y-tick', x: m.l - 6, y: y(k.v) + 4, 'text-anchor': 'end' }, grid);
      label.textContent = k.text;
    }
    const xa = el('g', { class: 'axis x-axis', 'data-testid': chart.id + '-x-axis' }, svg);
    el('line', { class: 'baseline', x1: m.l, x2: W - m.r, y1: m.t + ph, y2: m.t + ph }, xa);
    const absent = chart.present && !points.some((p) => num(p[chart.present]) !== null);
    if (!d || absent) {
      const t = el('text', { class: 'empty', x: m.l + pw / 2, y: m.t + ph / 2, 'text-anchor': 'middle' }, svg);
      t.textContent = d ? chart.none : 'waiting for data…';
      svg.dataset.empty = d ? 'absent' : 'waiting';
      chart.view = null;
      return;
    }
    delete svg.dataset.empty;
    const x = (t) => m.l + ((t - d.t0) / (d.t1 - d.t0)) * pw;
    // As many clock labels as fit (about 64 px each), and at least two.
    const maxTicks = Math.max(2, Math.floor(pw / 64));
    let k = TIME_STEPS.findIndex((s) => (d.t1 - d.t0) / s <= maxTicks);
    if (k < 0) k = TIME_STEPS.length - 1;
    while (k > 0 && Math.floor(d.t1 / TIME_STEPS[k]) - Math.ceil(d.t0 / TIME_STEPS[k]) < 1) k--;
    const tStep = TIME_STEPS[k];
    for (let t = Math.ceil(d.t0 / tStep) * tStep; t <= d.t1; t += tStep) {
      el('line', { class: 'tick-mark', x1: x(t), x2: x(t), y1: m.t + ph, y2: m.t + ph + 4 }, xa);
      // A label too close to the right edge ends at the edge instead of being cut off.
      const edge = x(t) + 28 > W;
      const at = { x: edge ? W - 1 : x(t), y: H - 6, 'text-anchor': edge ? 'end' : 'middle' };
      const label = el('text', Object.assign({ class: 'tick x-tick' }, at), xa);
      label.textContent = clock(t, tStep < 60000);
    }
    chart.series.forEach((s, i) => {
      let path = '';
      let pen = false;
      let n = 0;
      for (const p of visible) {
        const v = num(p[s.key]);
        if (v === null) {
          pen = false;
          continue;
        }
        path += (pen ? 'L' : 'M') + x(p.t).toFixed(1) + ' ' + y(Math.min(v, top)).toFixed(1);
        pen = true;
        n++;
      }
      if (n === 1) path += 'h1';
      if (n) el('path', { class: 'line s' + i, 'data-series': s.key, 'data-points': n, d: path }, svg);
    });
    const guide = el('line', { class: 'guide', x1: 0, x2: 0, y1: m.t, y2: m.t + ph, visibility: 'hidden' }, svg);
    const dots = chart.series.map((_, i) => el('circle', { class: 'dot s' + i, r: 3.5, visibility: 'hidden' }, svg));
    el('rect', { class: 'hit', x: m.l, y: m.t, width: pw, height: ph }, svg);
    chart.view = { x, y, top, m, pw, visible, guide, dots };
  }

  function nearest(list, t) {
    let lo = 0;
    let hi = list.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (list[mid].t < t) lo = mid + 1;
      else hi = mid;
    }
    if (lo > 0 && Math.abs(list[lo - 1].t - t) <= Math.abs(list[lo].t - t)) lo--;
    return list[lo];
  }

  function hover(chart, clientX) {
    const v = chart.view;
    const tip = $(chart.id + '-tip');
    const svg = $(chart.id);
    if (!v || !v.visible.length || !tip || !svg) return;
    const box = svg.getBoundingClientRect();
    const sx = box.width > 0 ? (Number(svg.viewBox.baseVal.width) || box.width) / box.width : 1;
    const px = (clientX - box.left) * sx;
    const d = domain();
    const t = d.t0 + ((px - v.m.l) / v.pw) * (d.t1 - d.t0);
    const p = nearest(v.visible, t);
    const gx = v.x(p.t);
    v.guide.setAttribute('x1', gx);
    v.guide.setAttribute('x2', gx);
    v.guide.setAttribute('visibility', 'visible');
    const lines = [clock(p.t, true)];
    chart.series.forEach((s, i) => {
      const val = num(p[s.key]);
      lines.push(s.label + ': ' + chart.fmt(val));
      const dot = v.dots[i];
      if (val === null) dot.setAttribute('visibility', 'hidden');
      else {
        dot.setAttribute('cx', gx);
        dot.setAttribute('cy', v.y(Math.min(val, v.top)));
        dot.setAttribute('visibility', 'visible');
      }
    });
    tip.replaceChildren();
    lines.forEach((line, i) => {
      const row = document.createElement('div');
      row.className = i === 0 ? 'tip-time' : 'tip-row s' + (i - 1);
      row.textContent = line;
      tip.appendChild(row);
    });
    tip.hidden = false;
    const wrap = tip.parentElement.getBoundingClientRect();
    const left = gx / sx + (box.left - wrap.left);
    const w = tip.offsetWidth;
    tip.style.left = Math.max(0, Math.min(wrap.width - w, left + 12 > wrap.width - w ? left - w - 12 : left + 12)) + 'px';
  }

  function unhover(chart) {
    const v = chart.view;
    const tip = $(chart.id + '-tip');
    if (tip) tip.hidden = true;
    if (!v) return;
    v.guide.setAttribute('visibility', 'hidden');
    for (const dot of v.dots) dot.setAttribute('visibility', 'hidden');
  }

  for (const chart of CHARTS) {
    const svg = $(chart.id);
    if (!svg) continue;
    svg.addEventListener('pointermove', (e) => hover(chart, e.clientX));
    svg.addEventListener('pointerdown', (e) => hover(chart, e.clientX));
    svg.addEventListener('pointerleave', () => unhover(chart));
  }

  function drawAll() {
    for (const chart of CHARTS) draw(chart);
    body.dataset.renders = String((Number(body.dataset.renders) || 0) + 1);
  }

  function table(tbody, rows, withBar) {
    const maxReq = Math.max(1, ...rows.map((r) => r.requests));
    tbody.replaceChildren(
      ...rows.map((r) => {
        const tr = document.createElement('tr');
        const cells = [r.name, String(r.requests), fmtPctLong(r.errorRate), fmtMs(r.latency.avg)];
        for (const c of cells) {
          const td = document.createElement('td');
          td.textContent = c;
          tr.appendChild(td);
        }
        if (withBar) {
          const td = document.createElement('td');
          td.className = 'bar-cell';
          const bar = document.createElement('div');
          bar.className = 'bar';
          bar.style.width = ((100 * r.requests) / maxReq).toFixed(0) + '%';
          td.appendChild(bar);
          tr.appendChild(td);
        }
        return tr;
      }),
    );
  }

  function add(point) {
    const last = points[points.length - 1];
    if (last && point.t <= last.t) return;
    points.push(point);
    const cut = point.t - cfg.spanMs;
    let drop = 0;
    while (drop < points.length - 1 && points[drop].t < cut) drop++;
    if (points.length - drop > MAX_POINTS) drop = points.length - MAX_POINTS;
    if (drop) points = points.slice(drop);
  }

  async function tick() {
    try {
      const res = await fetch(cfg.jsonPath, { headers: { accept: 'application/json' }, cache: 'no-store' });
      if (!res.ok) throw new Error('HTTP ' + res.status);
      const s = await res.json();
      const t = Date.parse(s.timestamp) || Date.now();
      const lat = s.window.latency;
      const prev = points[points.length - 1];
      const dt = prev ? (t - prev.t) / 1000 : 0;
      const rate = (now, before) =>
        prev && dt > 0 && num(now) !== null && num(before) !== null && now >= before ? (now - before) / dt : null;
      const tokens = familyTotal(s, AI.tokens);
      const costUsd = familyTotal(s, AI.cost);
      const ttftCount = familyTotal(s, AI.ttft, 'count');
      const ttftSum = familyTotal(s, AI.ttft, 'sum');
      const dCount = prev && num(ttftCount) !== null && num(prev.ttftCount) !== null ? ttftCount - prev.ttftCount : 0;
      const dSum = prev && num(ttftSum) !== null && num(prev.ttftSum) !== null ? ttftSum - prev.ttftSum : null;
      const costRate = rate(costUsd, prev && prev.costUsd);
      add({
        t,
        requests: s.totals.requests,
        errors: s.totals.errors,
        p50: lat.p50,
        p95: lat.p95,
        p99: lat.p99,
        rps: rate(s.totals.requests, prev && prev.requests),
        eps: rate(s.totals.errors, prev && prev.errors),
        hitRate: s.cache.hitRate,
        tokens,
        costUsd,
        ttftCount,
        ttftSum,
        tokensPerSec: rate(tokens, prev && prev.tokens),
        costPerHour: costRate === null ? null : costRate * 3600,
        ttftAvg: dCount > 0 && dSum !== null && dSum >= 0 ? dSum / dCount : null,
      });
      drawAll();
      const h = s.health.status;
      $('health').className = 'badge ' + h;
      $('health').textContent = h;
      $('summary').textContent =
        s.totals.requests + ' requests · window error rate ' + fmtPctLong(s.window.errorRate) + ' · up ' + Math.round(s.uptimeSeconds) + ' s';
      $('latnow').textContent = 'now: p50 ' + fmtMs(lat.p50) + ' · p95 ' + fmtMs(lat.p95) + ' · p99 ' + fmtMs(lat.p99);
      const last = points[points.length - 1];
      $('ratenow').textContent = last.rps == null ? '' : 'now: ' + fmtRate(last.rps);
      $('cachenow').textContent =
        'hit rate ' + fmtPctLong(s.cache.hitRate) + ' (' + s.cache.hits + ' hits, ' + s.cache.misses + ' misses)';
      const aiNow = (id, v, fmt) => {
        $(id).textContent = v == null ? '' : 'now: ' + fmt(v);
      };
      aiNow('toknow', last.tokensPerSec, fmtTok);
      aiNow('costnow', last.costPerHour, fmtUsd);
      $('ttftnow').textContent = num(last.ttftCount) === null ? '' : last.ttftCount + ' first tokens';
      table($('providers'), s.providers.map((p) => ({ name: p.provider, requests: p.requests, errorRate: p.errorRate, latency: p.latency })), true);
      table($('models'), s.models.map((p) => ({ name: p.model, requests: p.requests, errorRate: p.errorRate, latency: p.latency })), false);
      $('error').textContent = '';
      body.dataset.updates = String((Number(body.dataset.updates) || 0) + 1);
    } catch (e) {
      $('error').textContent = 'cannot load metrics: ' + (e && e.message);
    }
  }

  drawAll();
  let resizing = 0;
  window.addEventListener('resize', () => {
    cancelAnimationFrame(resizing);
    resizing = requestAnimationFrame(drawAll);
  });
  tick();
  setInterval(tick, cfg.intervalMs);
})();
`;
