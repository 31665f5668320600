/**
 * The run's environment: a typed key/value store shared by all plugins.
 * Declared keys are validated by their schema on every write. Values from outside (command
 * line, config files, dialog replies, `env-set`) may name any well-formed key, as in otopi:
 * an undeclared key keeps the value its `type:` prefix (or the reply) gave it
 * (`open-keys.ts`).
 */
import { OtopiError } from '../errors.js';
import { formatTypedValue, type EnvValue } from './codec.js';
import type { EnvFamily, EnvKey, KeySpec } from './declare.js';
import { ENV_KEY_RE, checkUndeclared, editDistance, looksSecret, type UndeclaredKey } from './open-keys.js';

/**
 * Told about a key in a namespace a loaded group owns that matches no declared key, once per
 * key; throwing refuses the value (strict runs).
 */
export type UndeclaredKeyListener = (notice: UndeclaredKey, source: ValueSource) => void;

/** Where a value came from; kept for error messages and answer-file generation. */
export type ValueSource =
  | { readonly kind: 'default' }
  | { readonly kind: 'cmdline'; readonly where: string }
  | { readonly kind: 'config'; readonly file: string; readonly line: number; readonly section: string }
  | { readonly kind: 'handler'; readonly name: string }
  | { readonly kind: 'dialog'; readonly question: string }
  | { readonly kind: 'code' };

export function describeSource(source: ValueSource): string {
  switch (source.kind) {
    case 'default':
      return 'default';
    case 'cmdline':
      return `command line ${source.where}`;
    case 'config':
      return `${source.file}:${source.line} [${source.section}]`;
    case 'handler':
      return `handler ${source.name}`;
    case 'dialog':
      return `dialog ${source.question}`;
    case 'code':
      return 'code';
  }
}

export class EnvRegistry {
  private readonly keys = new Map<string, EnvKey<unknown>>();
  private readonly families = new Map<string, EnvFamily<unknown>>();

  declare(k: EnvKey<unknown>): void {
    const old = this.keys.get(k.key);
    if (old !== undefined && old !== k) {
      throw new OtopiError('ENV_DUPLICATE_DECLARATION', `environment key '${k.key}' is declared twice`, { key: k.key });
    }
    this.keys.set(k.key, k);
  }

  declareFamily(f: EnvFamily<unknown>): void {
    const old = this.families.get(f.prefix);
    if (old !== undefined && old !== f) {
      throw new OtopiError('ENV_DUPLICATE_DECLARATION', `environment family '${f.prefix}/*' is declared twice`);
    }
    this.families.set(f.prefix, f);
  }

  /** The spec that governs `key`: its own declaration, else the longest matching family. */
  lookup(key: string): KeySpec<unknown> | undefined {
    const own = this.keys.get(key);
    if (own !== undefined) return own;
    let best: EnvFamily<unknown> | undefined;
    for (const f of this.families.values()) {
      if (key.startsWith(`${f.prefix}/`) && (best === undefined || f.prefix.length > best.prefix.length)) best = f;
    }
    return best;
  }

  declared(): EnvKey<unknown>[] {
    return [...this.keys.values()].sort((a, b) => (a.key < b.key ? -1 : 1));
  }

  familyList(): EnvFamily<unknown>[] {
    return [...this.families.values()].sort((a, b) => (a.prefix < b.prefix ? -1 : 1));
  }

  /** Closest declared key names, for "did you mean" hints. */
  suggest(key: string): string[] {
    const scored = [...this.keys.keys()]
      .map((k) => [k, editDistance(k.toLowerCase(), key.toLowerCase())] as const)
      .filter(([, d]) => d <= Math.max(2, Math.floor(key.length / 4)))
      .sort((a, b) => a[1] - b[1] || (a[0] < b[0] ? -1 : 1));
    return scored.slice(0, 3).map(([k]) => k);
  }
}

export class Environment {
  private readonly values = new Map<string, unknown>();
  private readonly sources = new Map<string, ValueSource>();
  private readonly changed = new Set<string>();
  private readonly extraSecrets = new Set<string>();
  private readonly noticed = new Set<string>();
  /** Whether an undeclared key is a secret, by key; forgotten when keys are declared. */
  private readonly openSecrets = new Map<string, boolean>();
  private version = 0;
  private secretCache: { version: number; secrets: string[] } | undefined;

  /** Told about likely typos among undeclared keys (the runtime warns, or refuses in strict runs). */
  onUndeclaredKey: UndeclaredKeyListener | undefined;

  constructor(readonly registry: EnvRegistry = new EnvRegistry()) {}

  /** Declares keys and sets their defaults (otopi's `setdefault` at plugin load). */
  declare(keys: Iterable<EnvKey<unknown>>): void {
    this.openSecrets.clear();
    for (const k of keys) {
      this.registry.declare(k);
      if (!this.values.has(k.key)) {
        const value = typeof k.default === 'function' ? (k.default as () => unknown)() : k.default;
        this.values.set(k.key, value);
        this.version++;
        this.sources.set(k.key, { kind: 'default' });
      }
    }
  }

  declareFamily(family: EnvFamily<unknown>): void {
    this.openSecrets.clear();
    this.registry.declareFamily(family);
  }

  get<T>(k: EnvKey<T>): T {
    if (this.values.has(k.key)) return this.values.get(k.key) as T;
    return (typeof k.default === 'function' ? (k.default as () => T)() : k.default) as T;
  }

  /** Sets a declared key; the value is checked against its schema. */
  set<T>(k: EnvKey<T>, value: T, source: ValueSource = { kind: 'code' }): void {
    this.write(k.key, k, value, source);
  }

  /** Reads any key, declared or not. */
  getRaw(key: string): unknown {
    return this.values.get(key);
  }

  has(key: string): boolean {
    return this.values.has(key);
  }

  sourceOf(key: string): ValueSource | undefined {
    return this.sources.get(key);
  }

  /**
   * Sets a key from outside the code (command line, file, dialog, `env-set`). A declared key
   * (or one of a declared family) takes only values that fit its schema. Any other
   * well-formed key takes the value as given, as otopi's environment does; when its
   * namespace belongs to a loaded group, {@link onUndeclaredKey} hears of it first, once.
   *
   * @throws OtopiError `ENV_SCHEMA` for a value a declared key refuses, `ENV_BAD_KEY` for a
   * key that is not `GROUP/name`, or what the listener throws (`ENV_UNKNOWN_KEY`).
   */
  setExternal(key: string, value: EnvValue, source: ValueSource): void {
    const spec = this.registry.lookup(key);
    if (spec !== undefined) {
      this.write(key, spec, value, source);
      return;
    }
    if (!ENV_KEY_RE.test(key)) {
      throw new OtopiError('ENV_BAD_KEY', `'${key}' is not an environment key (from ${describeSource(source)})`, {
        key,
        ...fileOf(source),
        hint: 'Keys look like GROUP/name, e.g. CORE/logDir.',
      });
    }
    const notice = this.noticed.has(key) ? undefined : checkUndeclared(this.registry, key);
    if (notice !== undefined) {
      this.onUndeclaredKey?.(notice, source);
      this.noticed.add(key);
    }
    this.values.set(key, Array.isArray(value) ? [...(value as readonly string[])] : value);
    this.version++;
    this.sources.set(key, source);
    this.changed.add(key);
  }

  /** Whether no loaded group declares `key` (nor a family it belongs to). */
  isUndeclared(key: string): boolean {
    return this.registry.lookup(key) === undefined;
  }

  /** Keys whose value changed since the last call, sorted. */
  takeChanges(): string[] {
    const out = [...this.changed].sort();
    this.changed.clear();
    return out;
  }

  keys(): string[] {
    return [...this.values.keys()].sort();
  }

  /**
   * A declared key's `sensitive`. An undeclared key is a secret when its name looks like one
   * (`…password…`, `…token…`) or when it is a likely typo of a sensitive key
   * (`CANARY/pasword`): what was typed there was meant to stay hidden.
   */
  isSensitive(key: string): boolean {
    const spec = this.registry.lookup(key);
    if (spec !== undefined) return spec.sensitive;
    let secret = this.openSecrets.get(key);
    if (secret === undefined) {
      const notice = looksSecret(key) ? undefined : checkUndeclared(this.registry, key);
      secret =
        looksSecret(key) ||
        (notice !== undefined && notice.likelyTypo && this.registry.lookup(notice.closest)?.sensitive === true);
      this.openSecrets.set(key, secret);
    }
    return secret;
  }

  /** Registers a secret that is not the value of a sensitive key (a hidden answer, a token). */
  addSecret(secret: string): void {
    if (secret.length > 0 && !this.extraSecrets.has(secret)) {
      this.extraSecrets.add(secret);
      this.version++;
    }
  }

  /** Every secret currently known: sensitive values plus registered secrets. */
  secrets(): string[] {
    if (this.secretCache?.version === this.version) return this.secretCache.secrets;
    const out = new Set(this.extraSecrets);
    for (const [key, value] of this.values) {
      if (!this.isSensitive(key)) continue;
      if (typeof value === 'string' && value.length > 0) out.add(value);
      else if (typeof value === 'number') out.add(String(value));
      else if (Array.isArray(value)) for (const v of value) if (typeof v === 'string' && v.length > 0) out.add(v);
    }
    this.secretCache = { version: this.version, secrets: [...out] };
    return this.secretCache.secrets;
  }

  /** `type:value` text of a key for dumps and `env-get`, redacted when sensitive. */
  render(key: string): string {
    const value = this.values.get(key);
    if (this.isSensitive(key) && value !== null && value !== undefined) return `${typeTagFor(value)}:**REDACTED**`;
    return renderValue(value);
  }

  private write(key: string, spec: KeySpec<unknown>, value: unknown, source: ValueSource): void {
    const result = spec.schema.safeParse(value);
    if (!result.success) {
      const shown = spec.sensitive ? '(value redacted)' : renderValue(value);
      const issue = result.error.issues[0]?.message ?? 'invalid value';
      throw new OtopiError(
        'ENV_SCHEMA',
        `${key}: ${shown} does not fit ${spec.nullable ? `${spec.type} or none` : spec.type}: ${issue} (from ${describeSource(source)})`,
        { key, ...fileOf(source) },
      );
    }
    // A secret stays one after its key changes: an earlier value (from an answer file, say)
    // may already sit in a recorded command or message.
    if (spec.sensitive) {
      const data: unknown = result.data;
      for (const item of Array.isArray(data) ? (data as unknown[]) : [data]) {
        if (typeof item === 'string' || typeof item === 'number') this.addSecret(String(item));
      }
    }
    this.values.set(key, result.data);
    this.version++;
    this.sources.set(key, source);
    this.changed.add(key);
  }
}

function fileOf(source: ValueSource): { file?: string; line?: number } {
  return source.kind === 'config' ? { file: source.file, line: source.line } : {};
}

function typeTagFor(value: unknown): string {
  if (typeof value === 'boolean') return 'bool';
  if (typeof value === 'number') return 'int';
  if (Array.isArray(value)) return 'multi-str';
  return 'str';
}

/** `type:value` for serialisable values; `object:<description>` for the rest. */
export function renderValue(value: unknown): string {
  if (value === null || value === undefined) return 'none:None';
  if (
    typeof value === 'boolean' ||
    typeof value === 'string' ||
    (typeof value === 'number' && Number.isInteger(value)) ||
    (Array.isArray(value) && value.every((v) => typeof v === 'string'))
  ) {
    return formatTypedValue(value as EnvValue);
  }
  const described = typeof value === 'object' && 'description' in value ? String(value.description) : undefined;
  return `object:${described ?? Object.prototype.toString.call(value)}`;
}
