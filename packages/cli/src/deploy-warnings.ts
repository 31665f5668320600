/**
 * Warnings of many hosts, folded: the same warning from ten hosts is one line with the count,
 * not ten. Live progress shows a warning the first time any host gives it; the summary lists
 * each once with the hosts that gave it.
 */
import type { DeployEvent } from '@otopi/engine';

export class WarningFold {
  readonly #hosts = new Map<string, string[]>();

  /** Records a host's warning; true the first time this text is seen (show it), false for a repeat. */
  add(event: DeployEvent): boolean {
    if (event.type !== 'log' || event.level !== 'WARNING') return true;
    const hosts = this.#hosts.get(event.text);
    if (hosts === undefined) {
      this.#hosts.set(event.text, [event.host]);
      return true;
    }
    if (!hosts.includes(event.host)) hosts.push(event.host);
    return false;
  }

  /** One line per distinct warning: `WARNING on 3 hosts (a, b, c): text`; hosts past five are counted. */
  lines(): string[] {
    return [...this.#hosts].map(([text, hosts]) => {
      const names =
        hosts.length <= 5 ? hosts.join(', ') : `${hosts.slice(0, 5).join(', ')} and ${hosts.length - 5} more`;
      return `WARNING on ${hosts.length} host${hosts.length === 1 ? '' : 's'} (${names}): ${text}`;
    });
  }
}
