/**
 * Which host holds which vdsm id (VDSM/vdsmId), shared by every host of a deploy, as the oVirt
 * engine's database was: a host that reports an id another host holds is refused (and rolls
 * back). Hosts deploy concurrently, so checking and claiming are one synchronous step:
 * whichever host reports an id first holds it for the run, and no second host can slip in
 * between a check and a claim.
 *
 * Optionally backed by a registry file of ids registered by earlier runs, one `<id> <host>`
 * per line (`#` comments); hosts that end installed (or incomplete, or rebooting) are added.
 */
import { appendFileSync, closeSync, fsyncSync, openSync, readFileSync } from 'node:fs';
import { EngineError } from '../errors.js';

const ID_RE = /^[A-Za-z0-9][A-Za-z0-9._:-]*$/;
const HOST_RE = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

export class VdsmIdRegistry {
  /** id → the host holding it. */
  readonly #holders = new Map<string, string>();
  /** Ids already in the file, with their host. */
  readonly #recorded = new Map<string, string>();
  readonly file: string | undefined;
  /** Whether the file exists (its header is written once). */
  #fileExists = false;

  private constructor(file: string | undefined) {
    this.file = file;
  }

  /** An empty registry for one run (nothing kept after it). */
  static inMemory(): VdsmIdRegistry {
    return new VdsmIdRegistry(undefined);
  }

  /**
   * Loads the registry file (a missing file is an empty registry, created at the first
   * record).
   *
   * @throws EngineError `VDSM_ID_REGISTRY` naming the file and line of a malformed entry, or an
   *   id listed for two hosts.
   */
  static load(file: string): VdsmIdRegistry {
    const registry = new VdsmIdRegistry(file);
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return registry;
      throw new EngineError(
        'VDSM_ID_REGISTRY',
        `cannot read the vdsm id registry ${file}: ${(error as Error).message}`,
        {
          file,
          cause: error,
        },
      );
    }
    registry.#fileExists = true;
    text.split('\n').forEach((raw, index) => {
      const line = raw.trim();
      if (line === '' || line.startsWith('#')) return;
      const [id, host, ...rest] = line.split(/\s+/);
      const where = { file, line: index + 1 };
      if (id === undefined || host === undefined || rest.length > 0 || !ID_RE.test(id) || !HOST_RE.test(host)) {
        throw new EngineError(
          'VDSM_ID_REGISTRY',
          `${file}:${index + 1}: expected '<vdsm id> <host name>' (got '${line}')`,
          where,
        );
      }
      const other = registry.#recorded.get(id);
      if (other !== undefined && other !== host) {
        throw new EngineError(
          'VDSM_ID_REGISTRY',
          `${file}:${index + 1}: id ${id} is listed for ${other} and for ${host}`,
          {
            ...where,
            hint: 'two hosts cannot share a vdsm id: remove the wrong line',
          },
        );
      }
      registry.#recorded.set(id, host);
      registry.#holders.set(id, host);
    });
    return registry;
  }

  /**
   * Claims `id` for `host`: returns the name of another host that holds it (the claim is then
   * refused), else records the claim and returns undefined. Claiming an id the same host holds
   * is fine (a redeploy).
   */
  claim(id: string, host: string): string | undefined {
    const holder = this.#holders.get(id);
    if (holder !== undefined && holder !== host) return holder;
    this.#holders.set(id, host);
    return undefined;
  }

  /** The host holding `id`, if any. */
  holder(id: string): string | undefined {
    return this.#holders.get(id);
  }

  /** Adds `<id> <host>` to the registry file (when there is one and the line is not there yet). */
  record(id: string, host: string): void {
    if (this.file === undefined || this.#recorded.get(id) === host) return;
    const fresh = !this.#fileExists;
    try {
      appendFileSync(
        this.file,
        `${fresh ? '# vdsm ids of deployed hosts: <vdsm id> <host name> (otopi deploy --vdsm-id-registry)\n' : ''}${id} ${host}\n`,
        { mode: 0o600 },
      );
      const fd = openSync(this.file, 'r');
      try {
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
    } catch (error) {
      throw new EngineError(
        'VDSM_ID_REGISTRY',
        `cannot add ${host} to the vdsm id registry ${this.file}: ${(error as Error).message}`,
        {
          file: this.file,
          cause: error,
        },
      );
    }
    this.#fileExists = true;
    this.#recorded.set(id, host);
  }
}
