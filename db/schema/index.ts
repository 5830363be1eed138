export * from './catalog.js';
export * from './conversations.js';
export * from './governance.js';
export * from './identity.js';
export * from './pipelines.js';
export * from './quality.js';
export * from './social.js';
export * from './types.js';
