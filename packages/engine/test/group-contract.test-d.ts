// Type tests (checked by `npm run typecheck`): an engine program names a group's keys and
// questions through the group's tokens, so a misspelt key, a value of the wrong type or a
// question of another kind does not compile; and a key declared with `keySchema.oneOf` holds
// the union of its choices.
import { expectTypeOf } from 'vitest';
import type { EnvKey } from '@otopi/core';
import { CERTIFICATE_CHAIN, DEPLOY_PROCEED, VdsmEnv } from '../../../plugins/host-deploy/src/_lib/contract.js';
import { OmgmtPackagesEnv } from '../../../plugins/host-mgmt/src/_lib/contract.js';
import type { DialogEvent } from '../src/dialog/parser.js';
import { asks, keySteps } from '../src/dialog/tokens.js';

keySteps.set(VdsmEnv.engineHost, 'engine.lab');
keySteps.set(VdsmEnv.enginePort, 8080);
keySteps.setIf(VdsmEnv.engineAddress, undefined);
// @ts-expect-error a misspelt key is no token of the group
keySteps.set(VdsmEnv.engineHots, 'engine.lab');
// @ts-expect-error VDSM/enginePort is an int
keySteps.set(VdsmEnv.enginePort, '8080');
// @ts-expect-error VDSM/certificateEnrollment takes one of its modes
keySteps.set(VdsmEnv.certificateEnrollment, 'inlne');
// @ts-expect-error OMGMT_PACKAGES/packagesUpdateMode takes one of its modes
keySteps.set(OmgmtPackagesEnv.packagesUpdateMode, 'upgrade');
// @ts-expect-error a key is a token, not its name
keySteps.set('VDSM/engineHost', 'engine.lab');

expectTypeOf(VdsmEnv.certificateEnrollment).toEqualTypeOf<EnvKey<'none' | 'inline' | 'request' | 'accept'>>();
expectTypeOf(OmgmtPackagesEnv.packagesUpdateMode).toEqualTypeOf<EnvKey<'disabled' | 'checkUpdate' | 'update'>>();
expectTypeOf(VdsmEnv.engineHost).toEqualTypeOf<EnvKey<string | null>>();

declare const event: DialogEvent;
if (asks(event, CERTIFICATE_CHAIN)) expectTypeOf(event.kind).toEqualTypeOf<'query-multi-string'>();
if (asks(event, DEPLOY_PROCEED)) expectTypeOf(event.description).toEqualTypeOf<string>();
// @ts-expect-error a question is a token, not its name
asks(event, 'DEPLOY_PROCEED');
