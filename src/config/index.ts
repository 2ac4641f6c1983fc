export { type Config, type ConfigResult, formatProblems, loadConfig, parseConfig } from './load.ts';
export { configSchema } from './schema.ts';
