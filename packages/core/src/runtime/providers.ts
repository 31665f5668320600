/**
 * A typed registry of shared providers (`ctx.providers`). Plugin groups publish a provider (a
 * packager, a service manager) under a token; other plugins look it up. The last provider
 * wins, so a later, more specific plugin can replace a generic one.
 */
import { OtopiError } from '../errors.js';

export interface ProviderToken<T> {
  readonly id: string;
  /** Phantom field carrying the provider type. */
  readonly __type?: T;
}

export function defineProvider<T>(id: string): ProviderToken<T> {
  return { id };
}

export class ProviderRegistry {
  private readonly providers = new Map<string, unknown>();

  provide<T>(token: ProviderToken<T>, provider: T): void {
    this.providers.set(token.id, provider);
  }

  get<T>(token: ProviderToken<T>): T {
    if (!this.providers.has(token.id)) {
      throw new OtopiError('INTERNAL', `no provider for '${token.id}' has been registered`, {
        hint: 'A plugin that provides it must run earlier; check the plan (--dump-plan).',
      });
    }
    return this.providers.get(token.id) as T;
  }

  find<T>(token: ProviderToken<T>): T | undefined {
    return this.providers.get(token.id) as T | undefined;
  }
}
