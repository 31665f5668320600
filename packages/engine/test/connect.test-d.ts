// Type tests (checked by `npm run typecheck`): a connection cannot be asked for without a
// host key policy, and there is no policy that accepts any key.
import { expectTypeOf } from 'vitest';
import type { DialogChannel } from '../src/dialog/driver.js';
import { connectSsh, type ConnectOptions, type DeploySession, type HostKeyPolicy } from '../src/index.js';

const auth = { privateKey: 'key' };

// @ts-expect-error hostKey is required
const noPolicy: ConnectOptions = { host: 'h1', auth };
// @ts-expect-error there is no "accept anything" kind
const acceptAll: ConnectOptions = { host: 'h1', auth, hostKey: { kind: 'any' } };
// @ts-expect-error a known_hosts policy names its file
const noFile: HostKeyPolicy = { kind: 'known-hosts', trustOnFirstUse: true };
// @ts-expect-error hostKey cannot be left undefined explicitly (exactOptionalPropertyTypes)
const undefinedPolicy: ConnectOptions = { host: 'h1', auth, hostKey: undefined };
void [noPolicy, acceptAll, noFile, undefinedPolicy];

expectTypeOf(connectSsh).parameter(0).toHaveProperty('hostKey').toEqualTypeOf<HostKeyPolicy>();
expectTypeOf<ConnectOptions['hostKey']>().not.toBeUndefined();

// A deploy session is what the machine-dialog driver drives.
expectTypeOf<DeploySession>().toExtend<DialogChannel>();
