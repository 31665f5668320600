// Test-side control of the lab's vm flavour: a VM joins the running instance as host hN
// (test/lab/vm/up.sh) and leaves it again (vm/down.sh). Its entry in hosts.json carries the
// VM's extra fields (agent.ts reads them).
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { labHost } from '../lab.js';
import { asVm, type VmHost } from './agent.js';

function script(name: string, args: readonly string[], timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [fileURLToPath(new URL(name, import.meta.url)), ...args], {
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    const timer = setTimeout(() => child.kill('SIGTERM'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else reject(new Error(`test/lab/vm/${name} ${args.join(' ')} failed (exit ${code}); see its output above`));
    });
  });
}

/**
 * Boots VM host hN with its lab address on a bond (`bond`) or a VLAN (`vlan`); the image is
 * built first when the cache has none (several minutes, once per machine).
 */
export async function vmUp(index: number, layout: 'bond' | 'vlan'): Promise<VmHost> {
  await script('up.sh', [String(index), layout], 30 * 60_000);
  return asVm(labHost(index));
}

/** Removes VM host hN (a no-op when it is not there). */
export async function vmDown(index: number): Promise<void> {
  await script('down.sh', [String(index)], 2 * 60_000);
}
