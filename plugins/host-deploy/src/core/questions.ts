/**
 * The questions of a run by hand (`ovirt-host-deploy` on a terminal): the engine, its port,
 * the management bridge, the certificate enrollment and the firewall. An engine drives the
 * machine dialect and sets all of these itself, so nothing is asked there. Each question is
 * asked only when nothing set its key (command line, config file, `[environment:enforce]`),
 * and its answer is looked up first in `QUESTION/1/<name>`: an answer file written by
 * `DIALOG/answerFile` repeats the run without asking.
 *
 * Runs at customization after the config file's `[environment:enforce]` section, before
 * validation plans the bridge and checks the firewall.
 */
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { DialogEnv, Priority, definePlugin, type EnvKey, type HandlerContext } from '@otopi/core';
import { NetworkCompatEnv, VdsmEnv, ENROLLMENT_MODES } from '../_lib/keys.js';
import { pendingKeyPath } from '../_lib/pki/files.js';
import { trustStorePath, vdsmConfigEntries, VDSM_CONF } from '../_lib/vdsm/conf.js';

export const QUESTIONS = {
  engineHost: 'ODEPLOY_ENGINE_HOST',
  enginePort: 'ODEPLOY_ENGINE_PORT',
  bridge: 'ODEPLOY_MANAGEMENT_BRIDGE',
  enrollment: 'ODEPLOY_CERTIFICATE_ENROLLMENT',
  firewall: 'ODEPLOY_FIREWALL',
} as const;

const NONE = 'none';
const BRIDGE_RE = /^[A-Za-z0-9_.-]{1,15}$/;

const readText = (path: string): string | null => {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
};

/** Whether nothing but the key's declared default gave it its value. */
const unset = (ctx: HandlerContext, key: EnvKey<unknown>): boolean => ctx.env.sourceOf(key.key)?.kind === 'default';

/** Asks until the answer passes `check` (which returns the problem, or undefined). */
async function ask(
  ctx: HandlerContext,
  query: { name: string; note: string; default?: string; validValues?: readonly string[] },
  check: (answer: string) => string | undefined = () => undefined,
): Promise<string> {
  for (;;) {
    const answer = await ctx.dialog.queryString({ ...query, caseSensitive: query.validValues === undefined });
    const problem = check(answer);
    if (problem === undefined) return answer;
    // Asked again as QUESTION/<n+1>/<name>: a bad answer from a file does not repeat itself.
    ctx.log.error(`Invalid answer: ${problem}`);
  }
}

async function askEngine(ctx: HandlerContext): Promise<void> {
  if (unset(ctx, VdsmEnv.engineHost) && unset(ctx, VdsmEnv.engineAddress)) {
    const engine = await ask(
      ctx,
      {
        name: QUESTIONS.engineHost,
        note: "Engine host name or address: the management bridge is made on the interface that reaches it ('none': no engine, no bridge): ",
      },
      (a) => (/^[A-Za-z0-9.:-]+$/.test(a) ? undefined : `'${a}' is not a host name or an address`),
    );
    if (engine !== NONE) {
      ctx.env.set(VdsmEnv.engineHost, engine);
      if (isIP(engine) !== 0) ctx.env.set(VdsmEnv.engineAddress, engine);
    }
  }
  const engine = ctx.env.get(VdsmEnv.engineAddress) ?? ctx.env.get(VdsmEnv.engineHost);
  if (engine === null) return;
  if (unset(ctx, VdsmEnv.enginePort)) {
    const port = await ask(
      ctx,
      {
        name: QUESTIONS.enginePort,
        note: `TCP port on ${engine} the host checks after making the bridge [@DEFAULT@]: `,
        default: String(ctx.env.get(VdsmEnv.enginePort)),
      },
      (a) =>
        /^\d{1,5}$/.test(a) && Number(a) >= 1 && Number(a) <= 65_535
          ? undefined
          : 'expected a port number from 1 to 65535',
    );
    ctx.env.set(VdsmEnv.enginePort, Number(port));
  }
  if (unset(ctx, VdsmEnv.managementBridgeName)) {
    const bridge = await ask(
      ctx,
      {
        name: QUESTIONS.bridge,
        note: "Management bridge name ('none': no bridge) [@DEFAULT@]: ",
        default: ctx.env.get(VdsmEnv.managementBridgeName) ?? NONE,
      },
      (a) => (a === NONE || BRIDGE_RE.test(a) ? undefined : 'expected an interface name of at most 15 characters'),
    );
    ctx.env.set(VdsmEnv.managementBridgeName, bridge === NONE ? null : bridge);
  }
}

async function askEnrollment(ctx: HandlerContext): Promise<void> {
  if (!unset(ctx, VdsmEnv.certificateEnrollment)) return;
  const store = trustStorePath(vdsmConfigEntries(ctx.env), readText(VDSM_CONF));
  const pending = readText(pendingKeyPath(store)) !== null;
  const mode = await ask(ctx, {
    name: QUESTIONS.enrollment,
    note:
      'The VDSM certificate: inline shows the request now and asks for the signed chain; request saves the key\n' +
      'and the request and ends incomplete; accept installs the chain for a saved request; none enrolls nothing.\n' +
      'Certificate enrollment (@VALUES@) [@DEFAULT@]: ',
    default: pending ? 'accept' : 'inline',
    validValues: ENROLLMENT_MODES,
  });
  ctx.env.set(VdsmEnv.certificateEnrollment, mode);
}

async function askFirewall(ctx: HandlerContext): Promise<void> {
  if (!unset(ctx, NetworkCompatEnv.iptablesEnable)) return;
  const answer = await ask(ctx, {
    name: QUESTIONS.firewall,
    note: 'Configure the firewall with the oVirt rules (vdsm, SSH, ...; the rest is rejected)? (@VALUES@) [@DEFAULT@]: ',
    default: 'yes',
    validValues: ['yes', 'no'],
  });
  ctx.env.set(NetworkCompatEnv.iptablesEnable, answer === 'yes');
}

export default definePlugin({
  // The VDSM keys it asks for (the PKI plugin declares only its own).
  env: [VdsmEnv],
  setup(plugin) {
    plugin.on({
      name: 'ask',
      stage: 'customization',
      priority: Priority.LOW + 100,
      after: 'otopi.core.config.enforce',
      condition: ({ env }) => env.get(DialogEnv.dialect) !== 'machine',
      run: async (ctx) => {
        await askEngine(ctx);
        await askEnrollment(ctx);
        await askFirewall(ctx);
        const engine = ctx.env.get(VdsmEnv.engineAddress) ?? ctx.env.get(VdsmEnv.engineHost);
        const bridge = ctx.env.get(VdsmEnv.managementBridgeName);
        ctx.log.info(
          `Engine ${engine === null ? 'none' : `${engine}:${ctx.env.get(VdsmEnv.enginePort)}`}; ` +
            `bridge ${engine === null || bridge === null || bridge === '' ? 'none' : bridge}; ` +
            `certificate ${ctx.env.get(VdsmEnv.certificateEnrollment)}; ` +
            `firewall ${ctx.env.get(NetworkCompatEnv.iptablesEnable) ? 'oVirt rules' : 'left alone'}`,
        );
      },
    });
  },
});
