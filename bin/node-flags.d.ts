/** Types of bin/node-flags.js (plain JavaScript: the bin runs before TypeScript can). */
export declare const TRAFFIC_COMMANDS: ReadonlySet<string>;
export declare const DEFAULT_TRAFFIC_NODE_FLAGS: readonly string[];
export declare function trafficNodeFlags(env?: NodeJS.ProcessEnv): string[];
