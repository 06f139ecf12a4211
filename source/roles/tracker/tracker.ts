import type { Mall } from '../../model/mall.js';
import type { Address } from '../../network/address.js';
import type { DirectoryBook } from '../../network/directory-book.js';
import type { MemberLink } from '../../network/member-link.js';
import type { Transport } from '../../network/transport.js';
import type { GranterRegistry } from '../../counting/granter-registry.js';
import type { DataDirectory } from '../../recovery/data-directory.js';
import type { Clock } from '../../runtime/clock.js';
import { CoreRunner } from '../../runtime/core-runner.js';
import { systemRandom, type Random } from '../../runtime/random.js';
import { generateIdentity, type Identity } from '../../security/keys.js';
import { scryptChecker, type PasswordChecker } from '../../security/password-checker.js';
import type { EventSink } from '../events.js';
import { TrackerCore, type TrackerEffect } from './tracker-core.js';

export interface TrackerOptions {
	readonly mall: Mall;
	readonly transport: Transport;
	readonly clock: Clock;
	readonly events: EventSink;
	readonly random?: Random;
	/** Its static identity (kept in its data directory, so that members' pins stay valid); fresh if not given. */
	readonly identity?: Identity;
	/** The epoch to start; a random one if not given (a restart is a new epoch). */
	readonly epoch?: number;
	/** Where what it must not forget is kept (incarnations, device keys, granters, revocations); nothing is kept without. */
	readonly data?: DataDirectory | null;
	readonly passwords?: PasswordChecker;
}

/**
 * The tracker's shell: its core (tracker-core.ts) on a transport and a clock, with
 * password checks run off the core and facts written to its data directory before the
 * core answers anything that depends on them.
 */
export class Tracker {
	readonly core: TrackerCore;
	readonly #runner: CoreRunner<TrackerEffect>;

	constructor(readonly options: TrackerOptions) {
		const random = options.random ?? systemRandom;
		const data = options.data ?? null;
		this.core = new TrackerCore(
			{
				mall: options.mall,
				identity: options.identity ?? data?.identity ?? generateIdentity(random),
				random,
				...(options.epoch === undefined ? {} : { epoch: options.epoch }),
				kept: data?.kept ?? {},
			},
			options.clock.now(),
		);
		const passwords = options.passwords ?? scryptChecker;
		this.#runner = new CoreRunner(this.core, {
			transport: options.transport,
			clock: options.clock,
			events: options.events,
			perform: (effect) => {
				switch (effect.kind) {
					case 'check-password':
						passwords.check(effect.password, effect.hash, (matches) => this.#runner.step(() => this.core.passwordChecked(effect.ticket, matches, options.clock.now())));
						return;
					case 'persist': {
						const done = (ok: boolean): void => this.#runner.step(() => this.core.persisted(effect.ticket, ok, options.clock.now()));
						if (data === null) done(true);
						else data.save(effect.changes).then(() => done(true), () => done(false));
						return;
					}
				}
			},
		});
		this.#runner.flush();
	}

	get address(): Address {
		return this.options.transport.address;
	}

	get identity(): Identity {
		return this.core.identity;
	}

	get epoch(): number {
		return this.core.epoch;
	}

	get book(): DirectoryBook {
		return this.core.book;
	}

	get link(): MemberLink {
		return this.core.link;
	}

	get granters(): GranterRegistry {
		return this.core.notary.registry;
	}

	get logins(): number {
		return this.core.logins;
	}

	get refusals(): number {
		return this.core.refusals;
	}

	lastHeard(id: string): number | undefined {
		return this.core.lastHeard(id);
	}

	/** The operator revokes an account (console key, or `revoke USER` on a headless tracker's stdin). */
	revoke(user: string): { readonly ok: boolean; readonly message: string } {
		let result: { ok: boolean; message: string } = { ok: false, message: '' };
		this.#runner.step(() => (result = this.core.revoke(user)));
		return result;
	}

	/** Stops answering; the socket closes. */
	async close(): Promise<void> {
		this.#runner.stop();
		await this.options.transport.close();
	}
}
