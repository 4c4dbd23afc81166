/** The on-device model store (DESIGN.md §5): verified bundles on disk, the active/previous/shadow record, loaders. */
export * from './types.js';
export * from './model-store.js';
export { DEFAULT_SELF_TEST_EXAMPLES, SELF_TEST_CHANCE_FACTOR, runPairedSelfTest, type PairedSelfTest } from './self-test.js';
export { int8Loader, type Int8LoadAdmission, type Int8LoaderOptions } from './int8-loader.js';
export { AgentModels, type ModelStoreFactory } from './agent-models.js';
export { selfTestExamplesOf } from './self-test-data.js';
