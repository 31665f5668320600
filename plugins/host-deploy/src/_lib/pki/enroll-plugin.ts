/**
 * VDSM certificate enrollment (VDSM/certificateEnrollment, reference §3.1), shared by the
 * host-deploy and host-mgmt groups as ovirt-host-common was: each group's `vdsm/pki.ts` is this
 * plugin with its options. The host makes its key and a request, shows the request as
 * VDSM_CERTIFICATE_REQUEST, and asks the chain (VDSM_CERTIFICATE_CHAIN, CA first); the key
 * never leaves the host and is registered as a secret before anything could log it. The
 * certificates and keys for vdsm, libvirt and SPICE are written in the main transaction with
 * enforced owners and modes.
 */
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import {
  DialogEnv,
  FileTransaction,
  FolderAttributes,
  OtopiError,
  Priority,
  definePlugin,
  recordChange,
  type HandlerContext,
} from '@otopi/core';
import { resolveOwner } from '../accounts.js';
import { CERTIFICATE_CHAIN, CERTIFICATE_REQUEST } from '../contract.js';
import { VdsmEnv, type EnrollmentMode } from '../keys.js';
import { ChainError, checkChain, type Chain } from './chain.js';
import { certificateRequest, generateHostKey, keySecrets, loadHostKey, type HostKey } from './csr.js';
import { pendingKeyPath, pendingRequestPath, pkiFiles, pkiFolders, type PkiFile } from './files.js';
import { KEEP_DAYS, installedIsWanted, reusableKey, sameAsInstalled } from './reuse.js';
import { trustStorePath, vdsmConfigEntries, VDSM_CONF } from '../vdsm/conf.js';
import { vdsmChanges } from '../tokens.js';
import { markIncomplete } from '../incomplete.js';
import { removeHostFile } from '../node-files.js';

const readText = (path: string): string | null => {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
};

function storeOf(ctx: HandlerContext): string {
  return trustStorePath(vdsmConfigEntries(ctx.env), readText(VDSM_CONF));
}

function hostKey(ctx: HandlerContext, mode: EnrollmentMode, store: string): Promise<HostKey> | HostKey {
  const bits = ctx.env.get(VdsmEnv.keySize);
  if (mode === 'accept') {
    const pending = readText(pendingKeyPath(store));
    if (pending === null)
      throw new OtopiError(
        'PREREQUISITE_MISSING',
        `VDSM/certificateEnrollment is 'accept', but there is no pending key ${pendingKeyPath(store)}`,
        {
          key: VdsmEnv.certificateEnrollment.key,
          hint: "Run with VDSM/certificateEnrollment=str:request first, have the request signed, then run with 'accept'.",
        },
      );
    return loadHostKey(pending);
  }
  if (!ctx.env.get(VdsmEnv.certificateRenew)) {
    const files = pkiFiles(store);
    const installedKey = readText(files.find((f) => f.content === 'key')!.path);
    const reuse = reusableKey(installedKey, readText(`${store}/certs/vdsmcert.pem`), bits);
    if (reuse !== null) {
      ctx.log.info(
        'Requesting a certificate for the installed host key (VDSM/certificateRenew=bool:True makes a new one)',
      );
      return reuse;
    }
  }
  ctx.log.info(`Generating a ${bits}-bit RSA host key`);
  return generateHostKey(bits);
}

/**
 * What a dry run can say without the engine's answer: a host that holds a consistent key and a
 * certificate valid for more than KEEP_DAYS keeps them when the engine signs the same key and
 * names again, as a real run then does; only otherwise would a key and request be made.
 */
function dryRunEnrollment(ctx: HandlerContext, mode: EnrollmentMode, store: string): void {
  const files = pkiFiles(store);
  const cert = readText(`${store}/certs/vdsmcert.pem`);
  const key = reusableKey(readText(files.find((f) => f.content === 'key')!.path), cert, ctx.env.get(VdsmEnv.keySize));
  const valid = cert !== null && Date.parse(new X509Certificate(cert).validTo) - Date.now() > KEEP_DAYS * 86_400_000;
  if (mode !== 'accept' && !ctx.env.get(VdsmEnv.certificateRenew) && key !== null && valid) {
    ctx.log.info(
      'Dry run: the installed VDSM key and certificate would be kept (a chain signed for the same key and names is not installed again)',
    );
    return;
  }
  const what =
    mode === 'accept' ? 'install the certificates for the pending key' : 'make a key and a certificate request';
  ctx.log.info(`Dry run: would ${what} (${mode}) under ${store}`);
  recordChange(`VDSM certificate: ${what}`);
}

async function chainFor(ctx: HandlerContext, key: HostKey): Promise<readonly string[]> {
  const given = ctx.env.get(VdsmEnv.certificateChain);
  if (given !== null && given.length > 0) return given;
  return ctx.dialog.queryMultiString({
    // A bad paste is asked again on a terminal (the signed chain is not lost to a typo).
    validate: (lines) => {
      try {
        checkChain(lines, key.privateKey);
        return undefined;
      } catch (error) {
        if (error instanceof ChainError) return `the chain was refused: ${error.message}`;
        throw error;
      }
    },
    name: CERTIFICATE_CHAIN.name,
    note:
      ctx.env.get(DialogEnv.dialect) === 'machine'
        ? 'Please input VDSM certificate chain that matches certificate request, top is issuer'
        : 'Please input VDSM certificate chain that matches certificate request, top is issuer.\n' +
          "Sign the request above on the engine, e.g. 'otopi ca sign --ca-dir DIR --host NAME < request.pem',\n" +
          'and paste what it prints: the CA certificate first, then the host certificate.',
  });
}

function ownerIds(): { vdsm: { uid: number; gid: number } } {
  const ids = resolveOwner('vdsm', 'kvm');
  if (typeof ids === 'string')
    throw new OtopiError('PREREQUISITE_MISSING', `Cannot install the VDSM certificates: ${ids} (is vdsm installed?)`);
  return { vdsm: ids };
}

async function install(ctx: HandlerContext, store: string, key: HostKey, chain: Chain): Promise<FileTransaction[]> {
  const { vdsm } = ownerIds();
  for (const folder of pkiFolders(store))
    await ctx.transaction.append(new FolderAttributes(folder.path, { mode: folder.mode, ...vdsm }, !folder.always));
  const body = (f: PkiFile): string =>
    f.content === 'ca' ? chain.ca : f.content === 'cert' ? chain.host : key.privateKeyPem;
  const elements = pkiFiles(store).map(
    (f) =>
      new FileTransaction({
        path: f.path,
        content: body(f),
        owner: f.owner === 'vdsm' ? vdsm.uid : 0,
        group: f.group === 'kvm' ? vdsm.gid : 0,
        mode: f.mode,
        enforcePermissions: true,
        // A previous private key is not kept lying around as a backup.
        backup: f.content !== 'key',
        log: ctx.log,
      }),
  );
  for (const element of elements) await ctx.transaction.append(element);
  return elements;
}

/**
 * A redeploy whose engine said what it would issue (VDSM/engineCaFingerprint and
 * VDSM/certificateNames) keeps an installed certificate that already is that, without making
 * a request: nothing is signed, shown or written.
 */
function keptWithoutRequest(ctx: HandlerContext, store: string): boolean {
  const caFingerprint = ctx.env.get(VdsmEnv.engineCaFingerprint);
  const names = ctx.env.get(VdsmEnv.certificateNames);
  if (ctx.env.get(VdsmEnv.certificateRenew) || caFingerprint === null || names === null) return false;
  const files = pkiFiles(store);
  const installed = { ca: readText(files[0]!.path), host: readText(`${store}/certs/vdsmcert.pem`) };
  const key = reusableKey(
    readText(files.find((f) => f.content === 'key')!.path),
    installed.host,
    ctx.env.get(VdsmEnv.keySize),
  );
  const wanted = {
    caFingerprint,
    names: names
      .split(',')
      .map((n) => n.trim())
      .filter((n) => n !== ''),
  };
  if (!installedIsWanted(installed, key, wanted)) return false;
  ctx.log.info(
    `The installed VDSM certificate (CN=${wanted.names[0]}) is kept without a new request: issued by the engine's CA for the installed key and these names, valid for more than 30 days`,
  );
  return true;
}

export interface VdsmPkiOptions {
  /**
   * Keep the installed certificate when the engine answers with one just like it (same CA,
   * key and names, valid for more than 30 days), so a redeploy changes nothing. host-deploy
   * keeps it; a re-enrollment (host-mgmt) always installs the certificate it received.
   */
  readonly keepSameCertificate: boolean;
}

/** The enrollment plugin; `VDSM/certificateRenew=bool:True` makes a new key in either group. */
export function vdsmPkiPlugin(options: VdsmPkiOptions) {
  return definePlugin({
    // Only the keys it reads: host-mgmt carries this plugin without the rest of host-deploy.
    env: [
      {
        certificateEnrollment: VdsmEnv.certificateEnrollment,
        certificateChain: VdsmEnv.certificateChain,
        certificateRenew: VdsmEnv.certificateRenew,
        keySize: VdsmEnv.keySize,
        engineCaFingerprint: VdsmEnv.engineCaFingerprint,
        certificateNames: VdsmEnv.certificateNames,
      },
    ],
    setup(plugin) {
      let pendingToRemove: string[] | null = null;
      plugin.on({
        name: 'enroll',
        stage: 'misc',
        priority: Priority.LOW,
        condition: ({ env }) => env.get(VdsmEnv.certificateEnrollment) !== 'none',
        run: async (ctx) => {
          const mode = ctx.env.get(VdsmEnv.certificateEnrollment);
          const store = storeOf(ctx);
          if (ctx.dryRun) {
            dryRunEnrollment(ctx, mode, store);
            return;
          }
          if (options.keepSameCertificate && mode === 'inline' && keptWithoutRequest(ctx, store)) return;
          const key = await hostKey(ctx, mode, store);
          for (const secret of keySecrets(key.privateKeyPem)) ctx.env.addSecret(secret);
          const request = certificateRequest(key);
          ctx.dialog.displayMultiString(
            CERTIFICATE_REQUEST.name,
            request.trimEnd().split('\n'),
            'The certificate request of this host',
          );
          if (mode === 'request') {
            const { vdsm } = ownerIds();
            await ctx.transaction.append(new FolderAttributes(`${store}/keys`, { mode: 0o700, ...vdsm }, true));
            await ctx.transaction.append(
              new FileTransaction({
                path: pendingKeyPath(store),
                content: key.privateKeyPem,
                owner: 0,
                group: 0,
                mode: 0o400,
                enforcePermissions: true,
                backup: false,
              }),
            );
            await ctx.transaction.append(
              new FolderAttributes(`${store}/requests`, { mode: 0o755, uid: 0, gid: 0 }, true),
            );
            await ctx.transaction.append(
              new FileTransaction({
                path: pendingRequestPath(store),
                content: request,
                owner: 0,
                group: 0,
                mode: 0o644,
                enforcePermissions: true,
                backup: false,
              }),
            );
            markIncomplete(ctx.env, 'Certificate enrollment required');
            ctx.log.info(
              `The key is kept in ${pendingKeyPath(store)} and its request in ${pendingRequestPath(store)} until ` +
                'the signed certificate is installed with VDSM/certificateEnrollment=str:accept',
            );
            return;
          }
          let chain: Chain;
          try {
            chain = checkChain(await chainFor(ctx, key), key.privateKey);
          } catch (error) {
            if (!(error instanceof ChainError)) throw error;
            throw new OtopiError('ENV_BAD_VALUE', `The VDSM certificate chain was refused: ${error.message}`, {
              key: VdsmEnv.certificateChain.key,
            });
          }
          const files = pkiFiles(store);
          const installed = { ca: readText(files[0]!.path), host: readText(`${store}/certs/vdsmcert.pem`) };
          if (
            options.keepSameCertificate &&
            !ctx.env.get(VdsmEnv.certificateRenew) &&
            sameAsInstalled(installed, chain)
          ) {
            ctx.log.info(
              `The installed VDSM certificate (${chain.subject}) is kept: same CA, key and names, still valid for more than 30 days`,
            );
            return;
          }
          ctx.log.info(`Installing the VDSM certificate for ${chain.subject}, valid until ${chain.validTo}`);
          const elements = await install(ctx, store, key, chain);
          vdsmChanges(ctx.providers).add({ what: 'certificates', changed: () => elements.some((e) => e.changed) });
          if (mode === 'accept') pendingToRemove = [pendingKeyPath(store), pendingRequestPath(store)];
        },
      });
      plugin.on({
        name: 'removePending',
        stage: 'closeup',
        condition: () => pendingToRemove !== null,
        run: async (ctx) => {
          for (const path of pendingToRemove!) await removeHostFile(ctx, path);
        },
      });
    },
  });
}
