export * from './canonical-json.js';
export * from './manifest.js';
export * from './signature.js';
export * from './payload-check.js';
export * from './bundle-file.js';
export * from './profile-check.js';
