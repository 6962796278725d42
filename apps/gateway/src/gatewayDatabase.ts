import Database from 'better-sqlite3';
import type { ModelInfo } from './providers.js';

export interface GatewayDatabaseOptions {
  /** SQLite file, or `:memory:`. @default ':memory:' */
  path?: string;
  /** Models to seed the catalogue with. */
  models: readonly ModelInfo[];
  /** Called with each query's duration in seconds (the gateway passes `collector.recordDbQuery`). */
  onQuery: (seconds: number) => void;
}

/** One row of `GET /api/usage`. */
export interface UsageRow {
  model: string;
  provider: string;
  requests: number;
  cachedRequests: number;
  promptTokens: number;
  completionTokens: number;
  costUsd: number;
}

export interface UsageRecord {
  model: string;
  provider: string;
  promptTokens: number;
  completionTokens: number;
  costUsd: number;
  cached: boolean;
}

interface ModelRow {
  id: string;
  provider: string;
  context_window: number;
  input_price_per_1k: number;
  output_price_per_1k: number;
}

const toModel = (r: ModelRow): ModelInfo => ({
  id: r.id,
  provider: r.provider,
  contextWindow: r.context_window,
  inputPricePer1k: r.input_price_per_1k,
  outputPricePer1k: r.output_price_per_1k,
});

/**
 * The gateway's embedded SQLite database (better-sqlite3): the model catalogue and usage totals per model.
 * Usage is aggregated on write, so the table stays as small as the catalogue. Every query is timed.
 */
export class GatewayDatabase {
  private readonly db: Database.Database;
  private readonly onQuery: (seconds: number) => void;
  private readonly statements;

  constructor(options: GatewayDatabaseOptions) {
    this.db = new Database(options.path ?? ':memory:');
    this.onQuery = options.onQuery;
    this.db.pragma('journal_mode = WAL');
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS models (
        id TEXT PRIMARY KEY,
        provider TEXT NOT NULL,
        context_window INTEGER NOT NULL,
        input_price_per_1k REAL NOT NULL,
        output_price_per_1k REAL NOT NULL
      );
      CREATE TABLE IF NOT EXISTS usage (
        model TEXT PRIMARY KEY REFERENCES models(id),
        requests INTEGER NOT NULL DEFAULT 0,
        cached_requests INTEGER NOT NULL DEFAULT 0,
        prompt_tokens INTEGER NOT NULL DEFAULT 0,
        completion_tokens INTEGER NOT NULL DEFAULT 0,
        cost_usd REAL NOT NULL DEFAULT 0
      );`);
    const upsertModel = this.db.prepare(
      `INSERT INTO models VALUES (@id, @provider, @contextWindow, @inputPricePer1k, @outputPricePer1k)
       ON CONFLICT(id) DO UPDATE SET provider = excluded.provider, context_window = excluded.context_window,
         input_price_per_1k = excluded.input_price_per_1k, output_price_per_1k = excluded.output_price_per_1k`,
    );
    this.db.transaction((models: readonly ModelInfo[]) => {
      for (const m of models) upsertModel.run(m);
    })(options.models);
    this.statements = {
      listModels: this.db.prepare<[], ModelRow>('SELECT * FROM models ORDER BY provider, id'),
      findModel: this.db.prepare<[string], ModelRow>('SELECT * FROM models WHERE id = ?'),
      recordUsage: this.db.prepare(
        `INSERT INTO usage (model, requests, cached_requests, prompt_tokens, completion_tokens, cost_usd)
         VALUES (@model, 1, @cached, @promptTokens, @completionTokens, @costUsd)
         ON CONFLICT(model) DO UPDATE SET requests = requests + 1, cached_requests = cached_requests + excluded.cached_requests,
           prompt_tokens = prompt_tokens + excluded.prompt_tokens, completion_tokens = completion_tokens + excluded.completion_tokens,
           cost_usd = cost_usd + excluded.cost_usd`,
      ),
      usage: this.db.prepare<[], UsageRow>(
        `SELECT u.model, m.provider, u.requests, u.cached_requests AS cachedRequests, u.prompt_tokens AS promptTokens,
           u.completion_tokens AS completionTokens, u.cost_usd AS costUsd
         FROM usage u JOIN models m ON m.id = u.model ORDER BY u.requests DESC, u.model`,
      ),
    };
  }

  private timed<T>(query: () => T): T {
    const t0 = performance.now();
    try {
      return query();
    } finally {
      this.onQuery((performance.now() - t0) / 1000);
    }
  }

  listModels(): ModelInfo[] {
    return this.timed(() => this.statements.listModels.all().map(toModel));
  }

  findModel(id: string): ModelInfo | undefined {
    const row = this.timed(() => this.statements.findModel.get(id));
    return row === undefined ? undefined : toModel(row);
  }

  recordUsage(u: UsageRecord): void {
    this.timed(() => this.statements.recordUsage.run({ ...u, cached: u.cached ? 1 : 0 }));
  }

  usage(): UsageRow[] {
    return this.timed(() => this.statements.usage.all());
  }

  close(): void {
    this.db.close();
  }
}
