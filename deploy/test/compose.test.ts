import { existsSync, statSync } from 'node:fs';
import { join, posix } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEPLOY_DIR, readYaml } from './expressions.js';

interface Service {
  image?: string;
  build?: { context: string; dockerfile: string };
  command?: string[];
  ports?: string[];
  volumes?: string[];
  depends_on?: string[];
  environment?: Record<string, string>;
}

const compose = readYaml<{ services: Record<string, Service> }>(join(DEPLOY_DIR, 'docker-compose.yml'));
const { demo, prometheus, grafana } = compose.services;

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

const containerPort = (service: Service | undefined) => (service?.ports ?? []).map((p) => p.split(':').at(-1));

describe('docker-compose.yml', () => {
  it('has the demo, prometheus and grafana services', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['demo', 'grafana', 'prometheus']);
    expect(prometheus?.image).toMatch(/^prom\/prometheus:/);
    expect(grafana?.image).toMatch(/^grafana\/grafana:/);
  });

  it('builds the demo from the repository and runs `pnpm demo` on port 8000', () => {
    expect(demo?.build?.context).toBe('..');
    expect(existsSync(join(DEPLOY_DIR, '..', demo!.build!.dockerfile))).toBe(true);
    expect(existsSync(join(DEPLOY_DIR, '..', 'pnpm-workspace.yaml'))).toBe(true);
    expect(demo?.command).toEqual(['npx', '-y', 'pnpm@12.4.2', 'demo']);
    expect(containerPort(demo)).toEqual(['8000']);
  });

  it('bind-mounts only files and folders that exist', () => {
    for (const service of [demo, prometheus, grafana]) {
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
});
