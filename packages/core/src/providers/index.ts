/** Provider contracts (types only), re-exported by the package index. */
export type * from './packager.js';
export type * from './services.js';
export type * from './system.js';
