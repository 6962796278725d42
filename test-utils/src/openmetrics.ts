import { spawnSync } from 'node:child_process';

/** One family as the strict parser reads it: name, type, and samples as `[name, labels, value]` (value as Python's repr). */
export type StrictFamily = [string, string, [string, Record<string, string>, string][]];

const SCRIPT = `
import sys, json
from prometheus_client.openmetrics.parser import text_string_to_metric_families
out = [[f.name, f.type, [[s.name, s.labels, repr(s.value)] for s in f.samples]] for f in text_string_to_metric_families(sys.stdin.read())]
print(json.dumps(out))`;

export const PYTHON_BIN = process.env.PYTHON_BIN ?? '/usr/bin/python3';

/**
 * Parses `text` with the strict OpenMetrics parser of Python's prometheus_client (Debian's
 * python3-prometheus-client); throws with the parser's message when the text is not valid OpenMetrics.
 */
export function strictOpenMetrics(text: string): StrictFamily[] {
  const r = spawnSync(PYTHON_BIN, ['-c', SCRIPT], { input: text, encoding: 'utf8', timeout: 30_000 });
  if (r.error)
    throw new Error(`cannot run ${PYTHON_BIN} (apt-get install -y python3-prometheus-client): ${r.error.message}`);
  if (r.status !== 0) throw new Error(`strict OpenMetrics parser: ${r.stderr.trim().split('\n').pop()}`);
  return JSON.parse(r.stdout) as StrictFamily[];
}
