/**
 * A registry of named algorithms (advantage estimators, policy losses): the command line accepts
 * exactly the registered names, and a library user can add one.
 */
import { InputError } from '../core/errors.js';

export class NamedRegistry<T> {
  private readonly entries = new Map<string, T>();

  /** `what` names the kind in messages ("advantage estimator"); `input` is the config field that selects one. */
  constructor(
    private readonly what: string,
    private readonly input: string,
  ) {}

  /** Names in registration order (the built-ins first). */
  names(): string[] {
    return [...this.entries.keys()];
  }

  /** Re-registering a name for a different entry is an error; for the same entry it is harmless (module reloads). */
  register(name: string, entry: T): void {
    const existing = this.entries.get(name);
    if (existing !== undefined && existing !== entry) throw new InputError(`${this.what} ${JSON.stringify(name)} is already registered`, this.input);
    this.entries.set(name, entry);
  }

  /** The entry, or an `InputError` listing the supported names. */
  get(name: string): T {
    const entry = this.entries.get(name);
    if (entry === undefined) throw new InputError(`unknown ${this.what} ${JSON.stringify(name)}; supported: ${this.names().join(', ')}`, this.input);
    return entry;
  }
}
