import type { AreaId } from '../../model/ids.js';
import type { AreaLedger } from '../../counting/area-ledger.js';
import type { Address } from '../../network/address.js';
import type { Timings } from '../../network/config.js';
import type { Transport } from '../../network/transport.js';
import type { Clock } from '../../runtime/clock.js';
import { CoreRunner } from '../../runtime/core-runner.js';
import { systemRandom, type Random } from '../../runtime/random.js';
import type { Identity } from '../../security/keys.js';
import type { EventSink } from '../events.js';
import { JoinError } from '../join-error.js';
import type { MemberCore } from '../member/member-core.js';
import type { RowProof } from '../replica-keeper.js';
import { ObserverCore, type AreaFigures, type ObserverEffect } from './observer-core.js';

export type { AreaFigures } from './observer-core.js';

export interface ObserverOptions {
	readonly transport: Transport;
	readonly clock: Clock;
	readonly timings: Timings;
	readonly tracker: Address;
	readonly user: string;
	readonly password: string;
	/** The areas to follow (null: all). */
	readonly areas: readonly string[] | null;
	readonly identity: Identity;
	readonly lastIncarnation: number;
	readonly trackerKey?: string | null;
	readonly random?: Random;
	readonly events: EventSink;
	readonly onTrustTracker?: (key: string) => void;
}

/** An observer's shell: its core (observer-core.ts) on a transport and a clock. */
export class Observer {
	readonly core: ObserverCore;
	readonly #runner: CoreRunner<ObserverEffect>;
	readonly #listeners: (() => void)[] = [];
	#joined!: { resolve: () => void; reject: (error: Error) => void };

	private constructor(readonly options: ObserverOptions) {
		this.core = new ObserverCore(
			{
				tracker: options.tracker,
				user: options.user,
				password: options.password,
				areas: options.areas,
				identity: options.identity,
				lastIncarnation: options.lastIncarnation,
				trackerKey: options.trackerKey ?? null,
				timings: options.timings,
				random: options.random ?? systemRandom,
			},
			options.clock.now(),
		);
		this.#runner = new CoreRunner(this.core, {
			transport: options.transport,
			clock: options.clock,
			events: options.events,
			perform: (effect) => {
				switch (effect.kind) {
					case 'joined':
						this.#joined.resolve();
						return;
					case 'join-failed':
						this.#runner.stop();
						this.#joined.reject(new JoinError(effect.message));
						return;
					case 'changed':
						for (const listener of this.#listeners) listener();
						return;
					case 'trust-tracker':
						options.onTrustTracker?.(effect.key);
						return;
					case 'superseded':
						this.#joined.reject(new JoinError('another process logged in as this observer, or its account was revoked'));
						void this.close(false).then(this.#markStopped);
						return;
				}
			},
		});
	}

	#markStopped: () => void = () => {};
	/** Resolves when the observer stopped by itself: another process took its place, or its account was revoked. */
	readonly stopped = new Promise<void>((resolve) => (this.#markStopped = resolve));

	static async start(options: ObserverOptions): Promise<Observer> {
		const observer = new Observer(options);
		const joined = new Promise<void>((resolve, reject) => (observer.#joined = { resolve, reject }));
		observer.#runner.flush();
		await joined;
		return observer;
	}

	get node(): MemberCore {
		return this.core.member;
	}

	get address(): Address {
		return this.options.transport.address;
	}

	/** Called after every change of a figure (the shell's caller coalesces). */
	onChange(listener: () => void): void {
		this.#listeners.push(listener);
	}

	areas(): Record<string, AreaFigures> {
		return this.core.areas();
	}

	datagrams(): { sent: number; flood: number; saved: number; sensors: number } {
		return this.core.datagrams();
	}

	ledger(area: AreaId): AreaLedger<RowProof> | undefined {
		return this.core.ledger(area);
	}

	/** Leaves (telling the tracker, unless superseded) and closes the socket. */
	async close(sayGoodbye = true): Promise<void> {
		if (!this.#runner.running) return;
		if (sayGoodbye) this.#runner.step(() => this.core.member.close());
		this.#runner.stop();
		await this.options.transport.close();
	}
}
