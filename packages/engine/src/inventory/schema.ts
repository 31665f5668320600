/**
 * The fields of an inventory host section, as zod schemas over the text the INI file holds.
 * Each schema turns the text into the value the deploy uses, or says in one phrase what is
 * wrong; the loader adds file, line, host and field.
 */
import { z } from 'zod';

const ADDRESS_RE =
  /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*\.?|[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*)$/;
/** POSIX portable user names, plus the trailing `$` some systems allow. */
const USER_RE = /^[A-Za-z_][A-Za-z0-9_.-]*\$?$/;
const ENV_VAR_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;
const FINGERPRINT_RE = /^(?:SHA256:[A-Za-z0-9+/]{43}=?|(?:MD5:)?(?:[0-9A-Fa-f]{2}:){15}[0-9A-Fa-f]{2})$/;
const BOOL_WORDS: Readonly<Record<string, boolean>> = {
  true: true,
  yes: true,
  on: true,
  '1': true,
  false: false,
  no: false,
  off: false,
  '0': false,
};

/** A non-empty inventory value. */
export const text = z.string().min(1, 'must not be empty');
const path = text;
const envVar = z.string().regex(ENV_VAR_RE, 'expected the name of an environment variable');
const seconds = z
  .string()
  .regex(/^\d+(?:\.\d+)?$/, 'expected a number of seconds')
  .transform(Number)
  .refine((n) => n > 0 && n <= 86_400 * 7, 'expected more than 0 and at most a week (604800) seconds');
/** An inventory boolean: true/false, yes/no, on/off, 1/0, any case. */
export const bool = z
  .string()
  .refine((v) => Object.hasOwn(BOOL_WORDS, v.toLowerCase()), 'expected true or false (also yes/no, on/off, 1/0)')
  .transform((v) => BOOL_WORDS[v.toLowerCase()] === true);

/** Every field a `[defaults]` or `[host NAME]` section may hold besides environment keys and answers. */
export const HOST_FIELDS = z.strictObject({
  /** Host name or IP address to connect to. Default: the section's host name. */
  address: z.string().regex(ADDRESS_RE, 'expected a host name or an IP address').optional(),
  /** SSH port. Default 22. */
  port: z
    .string()
    .regex(/^\d{1,5}$/, 'expected a port number')
    .transform(Number)
    .refine((p) => p >= 1 && p <= 65_535, 'expected a port number from 1 to 65535')
    .optional(),
  /** SSH user. Default root. */
  user: z.string().regex(USER_RE, 'expected a user name').optional(),
  /** Private key file (OpenSSH or PEM). */
  identity_file: path.optional(),
  /** Passphrase of the key, literally (the inventory must then be private), from a variable or a file. */
  passphrase: text.optional(),
  passphrase_env: envVar.optional(),
  passphrase_file: path.optional(),
  /** Password login, literally (the inventory must then be private), from a variable or a file. */
  password: text.optional(),
  password_env: envVar.optional(),
  password_file: path.optional(),
  /** OpenSSH known_hosts file. Default: `known_hosts` beside the inventory. */
  known_hosts: path.optional(),
  /** The host key's fingerprint as `ssh-keygen -lf` prints it, or the legacy MD5 `xx:xx:...`; replaces the known_hosts check. */
  fingerprint: z
    .string()
    .regex(
      FINGERPRINT_RE,
      "expected 'SHA256:' and 43 base64 characters as ssh-keygen -lf prints it, or the MD5 form xx:xx:... (16 pairs)",
    )
    .optional(),
  /** Trust an unknown host key on first use and record it in known_hosts. Default false. */
  tofu: bool.optional(),
  /** An OpenSSH client config to read for this host (`none`: none). Default `-F`, else `~/.ssh/config`. */
  ssh_config: path.optional(),
  /** Jump hosts, as OpenSSH's ProxyJump: `[user@]host[:port]`, comma-separated; `none` for none. */
  proxy_jump: text.optional(),
  /** Use only the key files given, not the ssh-agent's keys. */
  identities_only: bool.optional(),
  /** The ssh-agent's socket; `none` for no agent. Default `SSH_AUTH_SOCK`. */
  ssh_agent: path.optional(),
  /** Run the installer as root through sudo when `user` is not root. */
  become: z.enum(['sudo', 'none'], { message: "expected 'sudo' or 'none'" }).optional(),
  /** The sudo password, literally (the inventory must then be private), from a variable or a file. */
  become_password: text.optional(),
  become_password_env: envVar.optional(),
  become_password_file: path.optional(),
  /** Tries again after a connection refused or reset before login. Default 3 (after 1.5, 3 and 6 s). */
  connect_retries: z
    .string()
    .regex(/^\d{1,2}$/, 'expected a number of retries')
    .transform(Number)
    .refine((n) => n <= 10, 'expected at most 10 retries')
    .optional(),
  /** Seconds allowed for TCP connect, handshake and login. */
  connect_timeout: seconds.optional(),
  /** Seconds without any output from the host before it is given up. */
  inactivity_timeout: seconds.optional(),
  /** Seconds a host's whole deploy may take. */
  hard_timeout: seconds.optional(),
});

export type HostFields = z.output<typeof HOST_FIELDS>;
export type HostFieldName = keyof z.input<typeof HOST_FIELDS>;
export const HOST_FIELD_NAMES = Object.keys(HOST_FIELDS.shape) as HostFieldName[];

/** Host names become file names (the per-host log), so they are plain. */
export const HOST_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
/** Environment keys: a group, then `/`-separated parts. */
export const ENV_KEY_RE = /^[A-Za-z_][A-Za-z0-9_]*(?:\/[A-Za-z0-9_.-]+)+$/;
/** Question names, as the machine dialog writes them. */
export const QUESTION_NAME_RE = /^[A-Za-z0-9_][A-Za-z0-9_./-]*$/;
