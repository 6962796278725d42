export type { Framework, Gateway, GatewayOptions } from './gateway.js';
export { FRAMEWORKS, startGateway, UPSTREAMS } from './gateway.js';
export type { ModelInfo, ProviderProfile } from './providers.js';
export { DEFAULT_MODEL, PROVIDERS } from './providers.js';
export type { TrafficOptions, TrafficReport } from './trafficGenerator.js';
export { runTraffic } from './trafficGenerator.js';
