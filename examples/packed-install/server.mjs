// A plain Express app, as a user would write it after `npm install @gatewayz/metrics-express express`.
import { expressMetrics, setMetricsLabels } from '@gatewayz/metrics-express';
import express from 'express';

const app = express();
app.use(expressMetrics());
app.get('/hello', (_req, res) => res.send('hello world'));
app.post('/api/chat', (req, res) => {
  setMetricsLabels(req, { provider: 'openai', model: 'gpt-4o' });
  res.json({ reply: 'hi' });
});

const server = app.listen(Number(process.env.PORT ?? 3000), '127.0.0.1', () => {
  console.log(`listening on http://127.0.0.1:${server.address().port}`);
});
