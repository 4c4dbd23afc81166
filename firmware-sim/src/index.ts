export * from './profiles.js';
export * from './sim-fleet.js';
export * from './sim-telemetry.js';
