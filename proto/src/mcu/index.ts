export * from './layer-graph.js';
export * from './mcu-profiles.js';
export * from './greedy-memory-planner.js';
export * from './flash-estimate.js';
export * from './arena-estimate.js';
export * from './fit-check.js';
export * from './int8-graph-model.js';
