export * from './profiles.js';
export * from './model-fit.js';
export * from './sim-fleet.js';
export * from './sim-telemetry.js';
export * from './device-clock.js';
export * from './sim-model-loader.js';
export * from './sim-traffic.js';
export * from './sim-serving.js';
