// A minimal Alertmanager webhook receiver: prints every alert of every notification as one JSON line on stdout,
// so that `docker compose -f deploy/docker-compose.yml logs webhook` shows what Alertmanager delivered.
// No dependencies (plain Node 20). deploy/test/alertmanager.integration.test.ts runs this same file as the receiver.
//
//   HOST=127.0.0.1 PORT=5001 node deploy/alertmanager/webhook-logger.mjs
//
// POST /alerts/<anything>  the Alertmanager webhook payload (version 4); answers 200, or 400 for a body that is not
//                          such a payload, 413 over 1 MiB
// GET  /healthz            200 "ok" (the compose healthcheck)
import { createServer } from 'node:http';

const HOST = process.env.HOST ?? '127.0.0.1';
const PORT = Number(process.env.PORT ?? 5001);
const LIMIT = 1024 * 1024;

const server = createServer((req, res) => {
  const path = (req.url ?? '/').split('?')[0];
  if (req.method === 'GET' && path === '/healthz') {
    res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
    return;
  }
  if (req.method !== 'POST' || !path.startsWith('/alerts')) {
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
    return;
  }
  const chunks = [];
  let size = 0;
  req.on('data', (chunk) => {
    size += chunk.length;
    if (size > LIMIT) {
      res.writeHead(413, { 'content-type': 'text/plain', connection: 'close' }).end('too large\n');
      req.destroy();
    } else chunks.push(chunk);
  });
  req.on('end', () => {
    if (res.headersSent) return;
    let body;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      body = undefined;
    }
    if (!body || !Array.isArray(body.alerts)) {
      res.writeHead(400, { 'content-type': 'text/plain' }).end('expected an Alertmanager webhook payload\n');
      return;
    }
    for (const alert of body.alerts) {
      const line = {
        time: new Date().toISOString(),
        path,
        receiver: body.receiver,
        groupKey: body.groupKey,
        status: alert.status,
        labels: alert.labels,
        annotations: alert.annotations,
        startsAt: alert.startsAt,
        endsAt: alert.endsAt,
      };
      process.stdout.write(`${JSON.stringify(line)}\n`);
    }
    res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
  });
});

server.listen(PORT, HOST, () => {
  const { port } = server.address();
  process.stderr.write(`webhook-logger listening on http://${HOST}:${port}\n`);
});
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => {
    server.close(() => process.exit(0));
    setTimeout(() => process.exit(0), 2000).unref();
  });
}
