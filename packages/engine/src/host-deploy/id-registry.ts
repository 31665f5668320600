/**
 * Which host holds which vdsm id (VDSM/vdsmId), shared by every host of a deploy, as the oVirt
 * engine's database was: a host that reports an id another host holds is refused (and rolls
 * back). Hosts deploy concurrently, so checking and claiming are one synchronous step:
 * whichever host reports an id first holds it for the run, and no second host can slip in
 * between a check and a claim.
 *
 * Optionally backed by a registry file of ids registered by earlier runs, one `<id> <host>`
 * per line (`#` comments). Deploys in other processes may share the file: every claim and record
 * re-reads it under a mutex (`<file>.lock`, freed by the kernel if its holder dies), and a claim
 * that persists writes its line at once, so two deploys started together can neither both claim
 * one id nor both write the header.
 */
import { appendFileSync, closeSync, fsyncSync, openSync, readFileSync } from 'node:fs';
import { ProcessMutex } from '@otopi/core';
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
    registry.#reload();
    return registry;
  }

  /** Reads the file again and takes in what other processes added. */
  #reload(): void {
    const file = this.file;
    if (file === undefined) return;
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw new EngineError(
        'VDSM_ID_REGISTRY',
        `cannot read the vdsm id registry ${file}: ${(error as Error).message}`,
        {
          file,
          cause: error,
        },
      );
    }
    this.#fileExists = true;
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
      const other = this.#recorded.get(id);
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
      this.#recorded.set(id, host);
      this.#holders.set(id, host);
    });
  }

  /** Runs `step` holding the file's mutex, after reading the file again. */
  async #locked<T>(step: () => T): Promise<T> {
    if (this.file === undefined) return step();
    const mutex = new ProcessMutex(`${this.file}.lock`);
    const refused = await mutex.acquire({ waitMs: 30_000, command: 'vdsm id registry' });
    if (refused !== undefined)
      throw new EngineError(
        'VDSM_ID_REGISTRY',
        `the vdsm id registry ${this.file} stayed locked for 30 s (pid ${refused.holder?.pid ?? '?'})`,
        { file: this.file },
      );
    try {
      this.#reload();
      return step();
    } finally {
      mutex.release();
    }
  }

  /**
   * Claims `id` for `host`: returns the name of another host that holds it (the claim is then
   * refused), else records the claim and returns undefined. Claiming an id the same host holds
   * is fine (a redeploy). With `persist` (a real run, not a dry run) and a registry file, the
   * claim is written to the file at once, under its mutex, so another deploy sees it.
   */
  async claim(id: string, host: string, options: { persist?: boolean } = {}): Promise<string | undefined> {
    return this.#locked(() => {
      const holder = this.#holders.get(id);
      if (holder !== undefined && holder !== host) return holder;
      this.#holders.set(id, host);
      if (options.persist === true) this.#append(id, host);
      return undefined;
    });
  }

  /** The host holding `id`, if any. */
  holder(id: string): string | undefined {
    return this.#holders.get(id);
  }

  /** Adds `<id> <host>` to the registry file (when there is one and the line is not there yet). */
  async record(id: string, host: string): Promise<void> {
    if (this.file === undefined) return;
    await this.#locked(() => {
      const other = this.#recorded.get(id);
      if (other !== undefined && other !== host)
        throw new EngineError('VDSM_ID_REGISTRY', `id ${id} is listed for ${other} in ${this.file ?? ''}, not ${host}`);
      this.#append(id, host);
    });
  }

  /** Appends the line (and the header to a new file); the caller holds the mutex. */
  #append(id: string, host: string): void {
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
