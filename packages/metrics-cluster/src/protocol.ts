/** Messages between the primary and its workers. Kept plain so cluster's JSON IPC carries them. */
export const TAG = 'gatewayz-metrics';

export type ClusterRequest = { [TAG]: 'collect' | 'reset'; id: number };
export type ClusterReply = { [TAG]: 'state'; id: number; state: string } | { [TAG]: 'reset-done'; id: number };

export function isRequest(m: unknown): m is ClusterRequest {
  return (
    typeof m === 'object' &&
    m !== null &&
    ((m as ClusterRequest)[TAG] === 'collect' || (m as ClusterRequest)[TAG] === 'reset')
  );
}

export function isReply(m: unknown): m is ClusterReply {
  return (
    typeof m === 'object' &&
    m !== null &&
    ((m as ClusterReply)[TAG] === 'state' || (m as ClusterReply)[TAG] === 'reset-done')
  );
}
