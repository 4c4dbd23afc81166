/** Serving on the device (issue 10 items 3 and 5): the inference path, its statistics, shadow runs, the local endpoint. */
export * from './inference-service.js';
export * from './inference-stats.js';
export * from './input-histogram.js';
export * from './input-monitor.js';
export * from './shadow-recorder.js';
export * from './serving-server.js';
export * from './agent-serving.js';
