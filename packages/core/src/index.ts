export * from './enums.js';
export * from './types.js';
export * from './sms.js';
export * from './calls.js';
export * from './delivery-errors.js';
