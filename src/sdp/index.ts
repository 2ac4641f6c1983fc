export * from './body.ts';
export * from './negotiate.ts';
export * from './parse.ts';
export * from './types.ts';
