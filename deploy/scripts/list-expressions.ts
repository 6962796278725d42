/**
 * Prints every PromQL expression of the rules and dashboards as JSON (see test/expressions.ts).
 *
 *   npx tsx scripts/list-expressions.ts [--raw] [name=value ...]
 *
 * `name=value` overrides a Grafana variable (e.g. `__rate_interval=5m instance=127.0.0.1:8000`); `--raw` prints
 * one substituted expression per line instead of JSON.
 */
import { allExpressions } from '../test/expressions.js';

const args = process.argv.slice(2);
const variables = Object.fromEntries(
  args.filter((a) => a.includes('=')).map((a) => [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)]),
);
const expressions = allExpressions({ variables });
if (args.includes('--raw')) console.log(expressions.map((e) => e.expr.replace(/\s*\n\s*/g, ' ')).join('\n'));
else console.log(JSON.stringify(expressions, null, 2));
