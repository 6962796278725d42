/** The dashboard page's stylesheet, served as its own asset (`{prefix}/dashboard/dashboard.css`). */
export const DASHBOARD_STYLESHEET = `:root{--bg:#0f1419;--panel:#161c24;--fg:#d8dee9;--muted:#8b97a5;--line:#263040;--s0:#5ec4ff;--s1:#f7c948;--s2:#ff6b6b;--ok:#3ddc84;--warn:#f7c948;--bad:#ff6b6b}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;font:14px/1.4 system-ui,-apple-system,"Segoe UI",sans-serif;background:var(--bg);color:var(--fg);overflow-wrap:anywhere}
header{display:flex;flex-wrap:wrap;align-items:center;gap:8px 16px;padding:12px 20px;border-bottom:1px solid var(--line)}
h1{font-size:18px;margin:0;font-weight:600}
.badge{padding:3px 10px;border-radius:12px;font-weight:600;text-transform:uppercase;font-size:12px}
.healthy{background:var(--ok);color:#04210f}.degraded{background:var(--warn);color:#2a2000}.unhealthy{background:var(--bad);color:#2a0000}.unknown{background:#444;color:#ddd}
main{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(100%,440px),1fr));gap:16px;padding:16px 20px}
section{background:var(--panel);border-radius:8px;padding:12px 14px;min-width:0}
h2{font-size:13px;margin:0 0 6px;color:var(--muted);font-weight:600;text-transform:uppercase;letter-spacing:.04em}
.legend{display:flex;flex-wrap:wrap;gap:4px 12px;font-size:12px;color:var(--muted);margin-bottom:4px}
.legend i{display:inline-block;width:12px;height:3px;margin-right:4px;vertical-align:middle;border-radius:2px}
.legend .now{margin-left:auto}
i.s0{background:var(--s0)}i.s1{background:var(--s1)}i.s2{background:var(--s2)}
.cache i.s0{background:var(--ok)}.rates i.s1{background:var(--bad)}
.chart{position:relative}
svg{width:100%;height:200px;display:block;touch-action:pan-y}
svg text{fill:var(--muted);font-size:11px;font-family:inherit}
svg .grid{stroke:var(--line);stroke-width:1}
svg .baseline,svg .tick-mark{stroke:#3a4656;stroke-width:1}
svg .line{fill:none;stroke-width:2;stroke-linejoin:round;stroke-linecap:round}
svg .s0{stroke:var(--s0)}svg .s1{stroke:var(--s1)}svg .s2{stroke:var(--s2)}
.rates svg .s1{stroke:var(--bad)}.cache svg .s0{stroke:var(--ok)}
svg .dot{stroke:var(--bg);stroke-width:1.5}
svg .dot.s0{fill:var(--s0)}svg .dot.s1{fill:var(--s1)}svg .dot.s2{fill:var(--s2)}
.rates svg .dot.s1{fill:var(--bad)}.cache svg .dot.s0{fill:var(--ok)}
svg .guide{stroke:var(--muted);stroke-width:1;stroke-dasharray:3 3}
svg .hit{fill:transparent;cursor:crosshair}
.tip{position:absolute;top:8px;left:0;pointer-events:none;background:#0b0f14ee;border:1px solid var(--line);border-radius:6px;padding:6px 8px;font-size:12px;white-space:nowrap;box-shadow:0 4px 12px #0008}
.tip[hidden]{display:none}
.tip-time{color:var(--muted);margin-bottom:2px}
.tip-row::before{content:"";display:inline-block;width:8px;height:8px;border-radius:50%;margin-right:6px;background:var(--s0)}
.tip-row.s1::before{background:var(--s1)}.tip-row.s2::before{background:var(--s2)}
.rates .tip-row.s1::before{background:var(--bad)}.cache .tip-row.s0::before{background:var(--ok)}
.table-wrap{overflow-x:auto;-webkit-overflow-scrolling:touch}
table{width:100%;border-collapse:collapse;font-size:13px;overflow-wrap:normal}
td,th{padding:4px 6px;text-align:right;border-bottom:1px solid var(--line);white-space:nowrap}
td:first-child,th:first-child{text-align:left;white-space:normal;overflow-wrap:break-word}
th{color:var(--muted);font-weight:600}
.bar-cell{width:30%;min-width:60px}
.bar{height:8px;background:var(--s0);border-radius:4px}
.muted{color:var(--muted)}#error{color:var(--bad)}
@media (max-width:520px){header{padding:10px 12px}main{padding:10px;gap:10px}section{padding:10px}h1{font-size:16px}.legend .now{margin-left:0;flex-basis:100%}td,th{padding:4px 3px}.bar-cell{width:15%;min-width:36px}}
`;
