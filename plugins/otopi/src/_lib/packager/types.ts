/** The packager contract lives in core, so every plugin group can use it typed. */
export type * from '@otopi/core';
