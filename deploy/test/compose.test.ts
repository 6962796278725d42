import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, posix } from 'node:path';
import { UPSTREAMS } from '@gatewayz/gateway';
import { describe, expect, it } from 'vitest';
import { DEPLOY_DIR, readYaml } from './expressions.js';

interface Service {
  image?: string;
  build?: { context: string; dockerfile: string };
  command?: string[];
  ports?: string[];
  expose?: string[];
  volumes?: string[];
  depends_on?: Record<string, { condition?: string }> | string[];
  environment?: Record<string, string>;
  healthcheck?: {
    test: string[] | string;
    interval?: string;
    timeout?: string;
    retries?: number;
    start_period?: string;
  };
  restart?: string;
  user?: string;
}

const compose = readYaml<{ services: Record<string, Service> }>(join(DEPLOY_DIR, 'docker-compose.yml'));
const { demo, prometheus, grafana, alertmanager, webhook } = compose.services;

/** Bind mounts of a service: container path → host path (relative to deploy/). Named volumes are skipped. */
function binds(service: Service | undefined): Map<string, string> {
  const out = new Map<string, string>();
  for (const volume of service?.volumes ?? []) {
    const [host, container] = volume.split(':');
    if (host?.startsWith('.')) out.set(container!, join(DEPLOY_DIR, host));
  }
  return out;
}

/** The host file behind a container path, through the service's bind mounts (file or directory mounts). */
function hostPath(service: Service | undefined, containerPath: string): string | undefined {
  for (const [container, host] of binds(service)) {
    if (containerPath === container) return host;
    if (containerPath.startsWith(`${container}/`)) return join(host, containerPath.slice(container.length + 1));
  }
  return undefined;
}

/** The container ports a service publishes (`ports`) or opens to the compose network only (`expose`). */
const containerPort = (service: Service | undefined) => [
  ...(service?.ports ?? []).map((p) => p.split(':').at(-1)),
  ...(service?.expose ?? []).map(String),
];

const dockerfile = readFileSync(join(DEPLOY_DIR, '..', demo!.build!.dockerfile), 'utf8');
/** The Dockerfile's instructions, continuation lines joined and comments dropped: `[keyword, rest]`. */
const instructions = dockerfile
  .replace(/\\\n/g, ' ')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l && !l.startsWith('#'))
  .map((l) => {
    const [keyword, ...rest] = l.split(/\s+/);
    return [keyword!.toUpperCase(), rest.join(' ')] as const;
  });

/**
 * The image a service runs: its `image`, or the FROM of the Dockerfile it builds.
 * What each one ships that a healthcheck can call (no shell is assumed: the tests use the CMD form):
 * - node:20-bookworm (Debian, the demo) and node:20-bookworm-slim (the webhook): node itself, whose global fetch
 *   makes an HTTP probe;
 * - prom/prometheus and prom/alertmanager: built on quay.io/prometheus/busybox, so busybox `wget`; there is no curl;
 * - grafana/grafana (the Alpine image; not the -ubuntu tag): busybox `wget` (and curl).
 */
const imageOf = (service: Service) =>
  service.image ??
  instructions
    .filter(([k]) => k === 'FROM')
    .at(-1)![1]
    .split(/\s+/)[0]!;
const TOOLS: Array<[RegExp, string[]]> = [
  [/^node:20-bookworm(?:-slim)?$/, ['node']],
  [/^prom\/prometheus:v2\.\d+\.\d+$/, ['wget']],
  [/^prom\/alertmanager:v0\.\d+\.\d+$/, ['wget']],
  [/^grafana\/grafana:\d+\.\d+\.\d+$/, ['wget', 'curl']],
];
/** The health endpoint each service's healthcheck must probe, on its own container port. */
const HEALTH: Record<string, { port: string; paths: string[] }> = {
  demo: { port: '8000', paths: ['/healthz', '/metrics/health'] },
  prometheus: { port: '9090', paths: ['/-/ready', '/-/healthy'] },
  grafana: { port: '3000', paths: ['/api/health'] },
  alertmanager: { port: '9093', paths: ['/-/ready', '/-/healthy'] },
  webhook: { port: '5001', paths: ['/healthz'] },
};

describe('docker-compose.yml', () => {
  it('has the demo, prometheus, alertmanager, webhook and grafana services', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['alertmanager', 'demo', 'grafana', 'prometheus', 'webhook']);
    expect(prometheus?.image).toMatch(/^prom\/prometheus:/);
    expect(grafana?.image).toMatch(/^grafana\/grafana:/);
    // The version the delivery test runs (Debian's prometheus-alertmanager 0.25).
    expect(alertmanager?.image).toBe('prom/alertmanager:v0.25.0');
  });

  it('builds the demo from the repository and runs `pnpm demo` on port 8000', () => {
    expect(demo?.build?.context).toBe('..');
    expect(existsSync(join(DEPLOY_DIR, '..', demo!.build!.dockerfile))).toBe(true);
    expect(existsSync(join(DEPLOY_DIR, '..', 'pnpm-workspace.yaml'))).toBe(true);
    expect(demo?.command).toEqual(['npx', '-y', 'pnpm@12.4.2', 'demo']);
    expect(containerPort(demo)).toEqual(['8000']);
  });

  it('bind-mounts only files and folders that exist', () => {
    for (const service of Object.values(compose.services)) {
      for (const [container, host] of binds(service)) expect(existsSync(host), `${host} for ${container}`).toBe(true);
    }
  });

  it('points Prometheus at a config that scrapes the demo service on its port', () => {
    const flag = prometheus?.command?.find((c) => c.startsWith('--config.file='));
    const containerConfig = flag!.slice('--config.file='.length);
    const config = hostPath(prometheus, containerConfig);
    expect(config).toBe(join(DEPLOY_DIR, 'prometheus', 'prometheus.docker.yml'));
    const parsed = readYaml<any>(config!);
    const targets: string[] = parsed.scrape_configs.flatMap((s: any) =>
      s.static_configs.flatMap((c: any) => c.targets),
    );
    expect(targets).toEqual(['demo:8000']);
    const [host, port] = targets[0]!.split(':');
    expect(compose.services[host!]).toBe(demo);
    expect(containerPort(demo)).toContain(port);
    // Rule files resolve relative to the config file inside the container, and must be mounted from ours.
    for (const rules of parsed.rule_files as string[]) {
      const inContainer = posix.resolve(posix.dirname(containerConfig), rules);
      const onHost = hostPath(prometheus, inContainer);
      expect(onHost, `${inContainer} is mounted`).toBe(join(DEPLOY_DIR, 'prometheus', rules));
      expect(existsSync(onHost!)).toBe(true);
    }
  });

  it('gives Grafana the provisioning folder, a datasource reaching the prometheus service, and the dashboards', () => {
    const provisioning = hostPath(grafana, '/etc/grafana/provisioning');
    expect(provisioning).toBe(join(DEPLOY_DIR, 'grafana', 'provisioning'));
    const datasources = readYaml<any>(join(provisioning!, 'datasources', 'prometheus.yml')).datasources;
    const url = new URL(datasources[0].url);
    expect(compose.services[url.hostname]).toBe(prometheus);
    expect(containerPort(prometheus)).toContain(url.port);
    expect(datasources[0].type).toBe('prometheus');

    const providers = readYaml<any>(join(provisioning!, 'dashboards', 'dashboards.yml')).providers;
    expect(providers).toHaveLength(1);
    expect(providers[0].type).toBe('file');
    const dashboards = hostPath(grafana, providers[0].options.path);
    expect(dashboards).toBe(join(DEPLOY_DIR, 'grafana', 'dashboards'));
    expect(statSync(dashboards!).isDirectory()).toBe(true);
    const home = grafana?.environment?.GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH;
    expect(existsSync(hostPath(grafana, home!)!)).toBe(true);
  });

  describe.each(Object.keys(HEALTH))('service %s', (name) => {
    const service = compose.services[name]!;

    it('has a restart policy', () => {
      expect(['always', 'unless-stopped', 'on-failure']).toContain(service.restart);
    });

    it('has a healthcheck that probes its health endpoint with a tool its image ships', () => {
      const check = service.healthcheck;
      expect(check, `${name} has a healthcheck`).toBeDefined();
      // The exec form: no shell is needed in the image, and the tool is the first word.
      expect(Array.isArray(check!.test)).toBe(true);
      const [form, tool, ...args] = check!.test as string[];
      expect(form).toBe('CMD');
      const image = imageOf(service);
      const tools = TOOLS.find(([pattern]) => pattern.test(image))?.[1];
      expect(tools, `known tools for image ${image}`).toBeDefined();
      expect(tools).toContain(tool);
      const urls = args.join(' ').match(/https?:\/\/[^\s'"`)]+/g) ?? [];
      expect(urls, check!.test.toString()).toHaveLength(1);
      const url = new URL(urls[0]!);
      expect(url.hostname).toBe('127.0.0.1');
      expect(url.port).toBe(HEALTH[name]!.port);
      expect(containerPort(service)).toContain(url.port);
      expect(HEALTH[name]!.paths).toContain(url.pathname);
      if (tool === 'wget') expect(args).toContain('--spider');
      if (tool === 'node') {
        expect(args[0]).toBe('-e');
        // A failed fetch or a non-2xx answer must exit non-zero.
        expect(args[1]).toMatch(/process\.exit\(r\.ok \? 0 : 1\)/);
        expect(args[1]).toMatch(/\(\) => process\.exit\(1\)/);
      }
      for (const key of ['interval', 'timeout', 'start_period'] as const) expect(check![key]).toMatch(/^\d+s$/);
      expect(check!.retries).toBeGreaterThan(0);
    });
  });

  it('starts Prometheus once the demo and Alertmanager are healthy, Alertmanager once the webhook is, Grafana once Prometheus is', () => {
    expect(prometheus?.depends_on).toEqual({
      demo: { condition: 'service_healthy' },
      alertmanager: { condition: 'service_healthy' },
    });
    expect(alertmanager?.depends_on).toEqual({ webhook: { condition: 'service_healthy' } });
    expect(grafana?.depends_on).toEqual({ prometheus: { condition: 'service_healthy' } });
    expect(demo?.depends_on).toBeUndefined();
    expect(webhook?.depends_on).toBeUndefined();
  });

  it('runs Alertmanager and the webhook as unprivileged users', () => {
    for (const service of [alertmanager, webhook]) {
      expect(service?.user, 'user: is set').toBeDefined();
      expect(String(service!.user).split(':')[0]).not.toMatch(/^(root|0)$/);
    }
  });

  it('points Prometheus at the alertmanager service, and Alertmanager at our config', () => {
    const flag = prometheus?.command?.find((c) => c.startsWith('--config.file='));
    const parsed = readYaml<any>(hostPath(prometheus, flag!.slice('--config.file='.length))!);
    const targets: string[] = parsed.alerting.alertmanagers.flatMap((a: any) =>
      a.static_configs.flatMap((c: any) => c.targets),
    );
    expect(targets).toEqual(['alertmanager:9093']);
    const [host, port] = targets[0]!.split(':');
    expect(compose.services[host!]).toBe(alertmanager);
    expect(containerPort(alertmanager)).toContain(port);
    const amFlag = alertmanager?.command?.find((c) => c.startsWith('--config.file='));
    expect(hostPath(alertmanager, amFlag!.slice('--config.file='.length))).toBe(
      join(DEPLOY_DIR, 'alertmanager', 'alertmanager.yml'),
    );
    // A single instance: clustering is off (an empty listen address), and the storage is a named volume.
    expect(alertmanager?.command).toContain('--cluster.listen-address=');
    const storageFlag = (alertmanager?.command ?? []).find((c) => c.startsWith('--storage.path=')) ?? '';
    const storage = storageFlag.slice('--storage.path='.length);
    expect(storage).toMatch(/^\//);
    expect(alertmanager?.volumes).toContainEqual(expect.stringMatching(new RegExp(`^[a-z-]+:${storage}$`)));
  });

  it("sends Alertmanager's notifications to the webhook service, which runs the shipped webhook-logger.mjs", () => {
    const config = readYaml<any>(join(DEPLOY_DIR, 'alertmanager', 'alertmanager.yml'));
    const urls: string[] = config.receivers.flatMap((r: any) => (r.webhook_configs ?? []).map((w: any) => w.url));
    expect(urls.length).toBeGreaterThan(0);
    for (const raw of urls) {
      const url = new URL(raw);
      expect(compose.services[url.hostname], raw).toBe(webhook);
      expect(containerPort(webhook)).toContain(url.port);
    }
    expect(webhook?.environment?.PORT).toBe(new URL(urls[0]!).port);
    expect(webhook?.environment?.HOST).toBe('0.0.0.0');
    const script = webhook?.command?.at(-1);
    expect(webhook?.command?.[0]).toBe('node');
    expect(hostPath(webhook, script!)).toBe(join(DEPLOY_DIR, 'alertmanager', 'webhook-logger.mjs'));
    // Reached on the compose network only.
    expect(webhook?.ports).toBeUndefined();
  });

  it('runs the demo as an unprivileged user that owns the files it builds', () => {
    const users = [...instructions.filter(([k]) => k === 'USER').map(([, u]) => u), ...(demo?.user ? [demo.user] : [])];
    const user = users.at(-1);
    expect(user, 'a USER in the Dockerfile or user: in compose').toBeDefined();
    expect(user!.split(':')[0]).not.toMatch(/^(root|0)$/);
    // `pnpm demo` builds the packages on start (dist/, .turbo/): the sources must belong to that user.
    const copies = instructions.filter(([k]) => k === 'COPY' || k === 'ADD');
    expect(copies.length).toBeGreaterThan(0);
    for (const [, args] of copies) expect(args).toContain(`--chown=${user}:${user}`);
    const workdir = instructions.filter(([k]) => k === 'WORKDIR').at(-1)![1];
    expect(instructions.some(([k, a]) => k === 'RUN' && a === `chown ${user}:${user} ${workdir}`)).toBe(true);
  });

  it('takes the Grafana admin password from the environment, never a default', () => {
    const env = grafana?.environment ?? {};
    expect(env.GF_SECURITY_ADMIN_PASSWORD).toMatch(/^\$\{GRAFANA_ADMIN_PASSWORD:\?[^}]+\}$/);
    expect(Object.values(env)).not.toContain('admin:admin');
    expect(readFileSync(join(DEPLOY_DIR, 'docker-compose.yml'), 'utf8')).not.toMatch(/admin\/admin/);
  });

  it("gives the demo's simulated upstreams fixed loopback ports, clear of its own port and not published", () => {
    const base = Number(demo?.environment?.UPSTREAM_BASE_PORT);
    expect(Number.isInteger(base) && base > 0).toBe(true);
    const upstreams = Array.from({ length: UPSTREAMS.length }, (_, i) => String(base + i));
    expect(upstreams).not.toContain(demo?.environment?.PORT);
    for (const port of demo?.ports ?? []) for (const part of port.split(':')) expect(upstreams).not.toContain(part);
  });

  it('publishes Alertmanager on the host loopback only (it has no authentication)', () => {
    expect(alertmanager?.ports).toEqual(['127.0.0.1:9093:9093']);
  });

  it("does not publish Prometheus' lifecycle or admin API", () => {
    for (const flag of prometheus?.command ?? []) expect(flag).not.toMatch(/^--web\.enable-(lifecycle|admin-api)/);
    // Prometheus has no authentication: its port is published on the host's loopback only.
    for (const port of prometheus?.ports ?? []) expect(port).toMatch(/^127\.0\.0\.1:\d+:9090$/);
  });
});
