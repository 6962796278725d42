import { createHash } from 'node:crypto';
import { bearerCredentials } from '@gatewayz/metrics-exporter';
import type { ChatMessage } from './providerClient.js';
import { GatewayError } from './reply.js';

/** A `POST /v1/chat/completions` body, checked: what the gateway uses of OpenAI's request shape. */
export interface ChatCompletionRequest {
  model: string;
  /** The messages, each `content` flattened to text (OpenAI's `[{type: 'text', text}]` parts joined). */
  messages: ChatMessage[];
  stream: boolean;
  /** `stream_options.include_usage`: end the stream with a chunk carrying `usage`. */
  includeUsage: boolean;
  /** `max_completion_tokens`, or the older `max_tokens`. */
  maxTokens: number | undefined;
  /** Characters in all the messages' contents. */
  chars: number;
}

const SHAPE =
  'expected a JSON object like {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hello"}]}';

const invalid = (message: string, param: string | null) =>
  new GatewayError(400, 'invalid_request', message, param === null ? undefined : { param });

function contentText(content: unknown, i: number): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    let text = '';
    for (const part of content) {
      const p = part as { type?: unknown; text?: unknown } | null;
      if (p === null || typeof p !== 'object')
        throw invalid(`messages[${i}].content parts must be objects`, 'messages');
      if (p.type === 'text' && typeof p.text === 'string') text += p.text;
    }
    return text;
  }
  if (content === null || content === undefined) return '';
  throw invalid(`messages[${i}].content must be a string or an array of content parts`, 'messages');
}

/**
 * Parses an OpenAI chat completion request. Fields the demo does not use (`temperature`, `user`, `tools`, …)
 * are accepted and ignored, as a gateway passing requests on would; the ones it uses are checked, and a bad
 * one is a 400 naming it in `param`.
 */
export function parseChatCompletionRequest(body: string | undefined, maxChars: number): ChatCompletionRequest {
  if (body === undefined || body.trim() === '') throw invalid(`empty body: ${SHAPE}`, null);
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch (err) {
    throw new GatewayError(400, 'invalid_json', `body is not valid JSON (${(err as Error).message}): ${SHAPE}`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw invalid(`body is not a JSON object: ${SHAPE}`, null);
  }
  const o = value as Record<string, unknown>;
  if (typeof o.model !== 'string' || o.model === '') throw invalid(`"model" must be a non-empty string`, 'model');
  if (!Array.isArray(o.messages) || o.messages.length === 0) {
    throw invalid(`"messages" must be a non-empty array: ${SHAPE}`, 'messages');
  }
  let chars = 0;
  const messages = o.messages.map((m: unknown, i): ChatMessage => {
    const msg = m as { role?: unknown; content?: unknown } | null;
    if (msg === null || typeof msg !== 'object' || typeof msg.role !== 'string') {
      throw invalid(`messages[${i}] must be an object with a string "role"`, 'messages');
    }
    const content = contentText(msg.content, i);
    chars += content.length;
    return { role: msg.role, content };
  });
  if (chars > maxChars) throw invalid(`the messages are longer than ${maxChars} characters in all`, 'messages');
  if (o.stream !== undefined && o.stream !== null && typeof o.stream !== 'boolean') {
    throw invalid('"stream" must be a boolean', 'stream');
  }
  const options = o.stream_options;
  if (options !== undefined && options !== null && (typeof options !== 'object' || Array.isArray(options))) {
    throw invalid('"stream_options" must be an object', 'stream_options');
  }
  const includeUsage = (options as { include_usage?: unknown } | null | undefined)?.include_usage;
  if (includeUsage !== undefined && includeUsage !== null && typeof includeUsage !== 'boolean') {
    throw invalid('"stream_options.include_usage" must be a boolean', 'stream_options');
  }
  let maxTokens: number | undefined;
  for (const name of ['max_completion_tokens', 'max_tokens'] as const) {
    const v = o[name];
    if (v === undefined || v === null) continue;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1)
      throw invalid(`"${name}" must be an integer >= 1`, name);
    maxTokens ??= v;
  }
  return { model: o.model, messages, stream: o.stream === true, includeUsage: includeUsage === true, maxTokens, chars };
}

/**
 * The tenant of a request: the demo has no accounts and takes any API key, and a key's tenant is the first 16
 * hex digits of its SHA-256 (never the key itself). A request without `Authorization: Bearer <key>` is a 401.
 */
export function tenantOf(authorization: string | undefined): string {
  const key = bearerCredentials(authorization);
  if (key === undefined) {
    throw new GatewayError(
      401,
      'missing_api_key',
      "You didn't provide an API key: send Authorization: Bearer <key>. The demo accepts any key; its hash is the tenant.",
    );
  }
  return createHash('sha256').update(key).digest('hex').slice(0, 16);
}
