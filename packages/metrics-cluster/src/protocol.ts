/** Messages between the primary and its workers. Kept plain so cluster's JSON IPC carries them. */
export const TAG = 'gatewayz-metrics';

/** What the primary asks a worker: its state, or a reset. */
export const REQUEST_KINDS = ['collect', 'reset'] as const;
export type RequestKind = (typeof REQUEST_KINDS)[number];

/** What a worker answers: its serialised state (to `collect`), or that it has reset (to `reset`). */
export const REPLY_KINDS = ['state', 'reset-done'] as const;
export type ReplyKind = (typeof REPLY_KINDS)[number];

/** The reply each request gets: the compiler fails when a kind is added to one list without the other. */
export const REPLY_TO = { collect: 'state', reset: 'reset-done' } as const satisfies Record<RequestKind, ReplyKind>;

export type ClusterRequest = { [TAG]: RequestKind; id: number };
export type ClusterReply =
  | { [TAG]: typeof REPLY_TO.collect; id: number; state: string }
  | { [TAG]: typeof REPLY_TO.reset; id: number };

const tagOf = (m: unknown): unknown =>
  typeof m === 'object' && m !== null ? (m as Record<typeof TAG, unknown>)[TAG] : undefined;

export function isRequest(m: unknown): m is ClusterRequest {
  return (REQUEST_KINDS as readonly unknown[]).includes(tagOf(m));
}

export function isReply(m: unknown): m is ClusterReply {
  return (REPLY_KINDS as readonly unknown[]).includes(tagOf(m));
}
