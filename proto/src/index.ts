export * from './errors.js';
export * from './messages.js';
export * from './topics.js';
export * from './envelope.js';
export * from './weights.js';
