export * from './profiles.js';
export * from './model-fit.js';
export * from './sim-fleet.js';
export * from './sim-telemetry.js';
