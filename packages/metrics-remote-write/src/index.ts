export type { RemoteWriteErrorCode } from './remoteWriteError.js';
export { RemoteWriteError } from './remoteWriteError.js';
export type { FlushResult, RemoteWriterOptions, RemoteWriteStats } from './remoteWriter.js';
export { RemoteWriter, SELF_METRICS } from './remoteWriter.js';
