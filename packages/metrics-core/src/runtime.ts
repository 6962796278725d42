import type { FamilyRegistry, Histogram } from './registry.js';

/* The core has no dependencies and must load in any runtime: Node's pieces are found at run time, never imported. */
type Any = any;

interface Probe {
  p: Any;
  loop: Any;
  elu: Any;
  lastElu: Any;
  sinks: Set<WeakRef<Histogram>>;
  fs: Any;
}

let probe: Probe | undefined | null;

const GC_KINDS: Record<number, string> = { 1: 'minor', 2: 'major', 4: 'incremental', 8: 'weakcb' };

/** One set of samplers per process, shared by every collector (started on first use). */
function getProbe(): Probe | null {
  if (probe !== undefined) return probe;
  probe = null;
  const p: Any = (globalThis as Any).process;
  if (!p || typeof p.memoryUsage !== 'function' || typeof p.cpuUsage !== 'function') return null;
  const builtin = (id: string): Any => {
    try {
      return typeof p.getBuiltinModule === 'function' ? p.getBuiltinModule(id) : undefined;
    } catch {
      return undefined;
    }
  };
  const hooks = builtin('node:perf_hooks');
  const perf: Any = (globalThis as Any).performance;
  const out: Probe = {
    p,
    loop: undefined,
    elu: typeof perf?.eventLoopUtilization === 'function' ? perf : undefined,
    lastElu: undefined,
    sinks: new Set(),
    fs: p.platform === 'linux' ? builtin('node:fs') : undefined,
  };
  out.lastElu = out.elu?.eventLoopUtilization();
  try {
    out.loop = hooks?.monitorEventLoopDelay({ resolution: 10 });
    out.loop?.enable();
  } catch {
    out.loop = undefined;
  }
  try {
    const obs = new hooks.PerformanceObserver((list: Any) => {
      for (const e of list.getEntries()) {
        const kind = GC_KINDS[e.detail?.kind ?? e.kind] ?? 'unknown';
        for (const r of out.sinks) {
          const h = r.deref();
          if (h) h.observe({ kind }, e.duration / 1000);
          else out.sinks.delete(r);
        }
      }
    });
    obs.observe({ entryTypes: ['gc'] });
  } catch {
    // no perf_hooks: no GC histogram samples
  }
  probe = out;
  return out;
}

/**
 * Declares the Node.js runtime families on `r`, with prom-client's names and types (see docs), read at scrape
 * time only. Every family is per instance: a cluster aggregator keeps each worker's series under `worker`.
 * Does nothing outside Node.
 */
export function declareRuntimeMetrics(r: FamilyRegistry): void {
  const probe = getProbe();
  if (!probe) return;
  const p = probe.p;
  const perInstance = true;
  const cpu = (name: string, help: string, pick: (u: { user: number; system: number }) => number) =>
    r.counter({ name, help, unit: 'seconds', perInstance: true, collect: () => pick(p.cpuUsage()) / 1e6 });
  cpu('process_cpu_user_seconds_total', 'Total user CPU time spent in seconds.', (u) => u.user);
  cpu('process_cpu_system_seconds_total', 'Total system CPU time spent in seconds.', (u) => u.system);
  cpu('process_cpu_seconds_total', 'Total user and system CPU time spent in seconds.', (u) => u.user + u.system);
  const gauge = (name: string, help: string, collect: () => number, unit?: string) =>
    r.gauge({ name, help, perInstance, collect, ...(unit ? { unit } : {}) });
  gauge(
    'process_resident_memory_bytes',
    'Resident memory size in bytes.',
    () => (typeof p.memoryUsage.rss === 'function' ? p.memoryUsage.rss() : p.memoryUsage().rss),
    'bytes',
  );
  const start = Math.round(Date.now() / 1000 - p.uptime());
  gauge('process_start_time_seconds', 'Start time of the process since unix epoch in seconds.', () => start, 'seconds');
  const fs = probe.fs;
  if (fs) {
    let fds = Number.NaN;
    try {
      fds = fs.readdirSync('/proc/self/fd').length - 1;
    } catch {}
    if (fds >= 0)
      gauge('process_open_fds', 'Number of open file descriptors.', () => fs.readdirSync('/proc/self/fd').length - 1);
  }
  // One memoryUsage() per scrape feeds the three heap families.
  let mem: Any;
  const heap = (name: string, help: string, key: string) =>
    gauge(
      name,
      help,
      () => {
        if (key === 'heapUsed' || !mem) mem = p.memoryUsage();
        return mem[key];
      },
      'bytes',
    );
  heap('nodejs_heap_size_used_bytes', 'Process heap size used from Node.js in bytes.', 'heapUsed');
  heap('nodejs_heap_size_total_bytes', 'Process heap size from Node.js in bytes.', 'heapTotal');
  heap('nodejs_external_memory_bytes', 'Node.js external memory size in bytes.', 'external');
  const loop = probe.loop;
  if (loop) {
    // Read once per scrape, then the monitor starts afresh (as prom-client does).
    let stats: number[] = [0, 0, 0, 0];
    gauge(
      'nodejs_eventloop_lag_seconds',
      'Mean event loop delay since the last scrape, in seconds (perf_hooks.monitorEventLoopDelay).',
      () => {
        // The monitor's samples include its own 10 ms timer interval: the lag is what comes on top.
        const lag = (ns: number) => (Number.isFinite(ns) ? Math.max(0, ns / 1e9 - 0.01) : 0);
        stats = [lag(loop.mean), ...[50, 90, 99].map((q) => lag(loop.percentile(q)))];
        loop.reset();
        return stats[0]!;
      },
      'seconds',
    );
    for (const [i, q] of [50, 90, 99].entries()) {
      gauge(
        `nodejs_eventloop_lag_p${q}_seconds`,
        `The ${q}th percentile of the event loop delay since the last scrape, in seconds.`,
        () => stats[i + 1]!,
        'seconds',
      );
    }
  }
  if (probe.elu) {
    gauge('nodejs_eventloop_utilization', 'Event loop utilization (0-1) since the last scrape.', () => {
      const now = probe.elu.eventLoopUtilization();
      const u = probe.elu.eventLoopUtilization(now, probe.lastElu).utilization;
      probe.lastElu = now;
      return u;
    });
  }
  const gc = r.histogram({
    name: 'nodejs_gc_duration_seconds',
    help: 'Garbage collection duration by kind, one of major, minor, incremental or weakcb.',
    unit: 'seconds',
    labelNames: ['kind'],
    buckets: [0.001, 0.01, 0.1, 1, 2, 5],
    perInstance,
  });
  probe.sinks.add(new WeakRef(gc));
  const [major, minor, patch] = String(p.versions?.node ?? '0.0.0').split('.');
  r.gauge({
    name: 'nodejs_version_info',
    help: 'Node.js version info.',
    labelNames: ['version', 'major', 'minor', 'patch'],
    perInstance,
    merge: 'max',
    collect: () => [{ labels: { version: String(p.version), major, minor, patch } as Any, value: 1 }],
  });
}
