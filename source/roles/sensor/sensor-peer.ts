import type { AreaId, SensorId } from '../../model/ids.js';
import type { Direction, Person, SensorCounter } from '../../counting/sensor-counter.js';
import type { Address } from '../../network/address.js';
import type { Timings } from '../../network/config.js';
import type { Router } from '../../network/routing.js';
import type { Transport } from '../../network/transport.js';
import type { PeerJournal, Restored } from '../../recovery/peer-journal.js';
import type { Clock } from '../../runtime/clock.js';
import { CoreRunner } from '../../runtime/core-runner.js';
import { systemRandom, type Random } from '../../runtime/random.js';
import type { Identity } from '../../security/keys.js';
import type { EventSink } from '../events.js';
import { JoinError } from '../join-error.js';
import type { MemberCore } from '../member/member-core.js';
import type { RowProof } from '../replica-keeper.js';
import type { LeaseKeeper } from './lease-keeper.js';
import { SensorCore, type MoveAnswer, type PeerStatus, type SensorEffect } from './sensor-core.js';

export type { MoveAnswer, PeerStatus } from './sensor-core.js';

export interface SensorPeerOptions {
	readonly transport: Transport;
	readonly clock: Clock;
	readonly timings: Timings;
	readonly tracker: Address;
	readonly user: string;
	readonly password: string;
	/** The sensor this peer expects to speak for (null: whatever its account says). */
	readonly sensor: string | null;
	readonly identity: Identity;
	readonly lastIncarnation: number;
	/** The tracker key to trust: pinned by the operator or kept from the first login; null trusts the first tracker reached. */
	readonly trackerKey?: string | null;
	readonly random?: Random;
	readonly journal?: PeerJournal | null;
	readonly restored?: Restored | null;
	readonly events: EventSink;
	/** The tracker's key at the first login, to keep (trust on first use). */
	readonly onTrustTracker?: (key: string) => void;
}

/**
 * A sensor peer's shell: its core (sensor-core.ts) on a transport, a clock and its log.
 * It performs what the core asks — datagrams, appends to the log, answers to the gate —
 * and turns gate answers into promises for whoever asked.
 */
export class SensorPeer {
	readonly core: SensorCore;
	readonly #runner: CoreRunner<SensorEffect>;
	readonly #answers = new Map<number, (answer: MoveAnswer) => void>();
	#request = 0;
	#ready!: { resolve: () => void; reject: (error: Error) => void };
	#closed: (() => void) | null = null;
	/** Resolves when the peer stops deciding: closed, crashed, failed, or replaced by another process. */
	readonly stopped: Promise<void>;
	#markStopped: () => void = () => {};
	#down = false;

	private constructor(readonly options: SensorPeerOptions) {
		this.stopped = new Promise((resolve) => (this.#markStopped = resolve));
		const { clock } = options;
		this.core = new SensorCore(
			{
				tracker: options.tracker,
				user: options.user,
				password: options.password,
				sensor: options.sensor,
				identity: options.identity,
				lastIncarnation: options.lastIncarnation,
				trackerKey: options.trackerKey ?? null,
				timings: options.timings,
				random: options.random ?? systemRandom,
				restored: options.restored ?? null,
				journaled: options.journal != null,
			},
			clock.now(),
		);
		this.#runner = new CoreRunner(this.core, {
			transport: options.transport,
			clock,
			events: options.events,
			perform: (effect) => this.#perform(effect),
		});
	}

	/**
	 * Joins and starts deciding. With a journal, the peer first takes back its own rows
	 * from its log, then from every replica of its areas, and only then serves (design.md §4).
	 */
	static async start(options: SensorPeerOptions): Promise<SensorPeer> {
		const peer = new SensorPeer(options);
		const ready = new Promise<void>((resolve, reject) => (peer.#ready = { resolve, reject }));
		peer.#runner.flush();
		await ready;
		return peer;
	}

	get node(): MemberCore {
		return this.core.member;
	}

	get counter(): SensorCounter<RowProof> {
		return this.core.counter;
	}

	get router(): Router {
		return this.core.router;
	}

	get leases(): LeaseKeeper {
		return this.core.leases;
	}

	get sensor(): SensorId {
		return this.core.sensor;
	}

	get incarnation(): number {
		return this.core.member.self.incarnation;
	}

	get address(): Address {
		return this.options.transport.address;
	}

	get journal(): PeerJournal | null {
		return this.options.journal ?? null;
	}

	get admitted(): number {
		return this.core.admitted;
	}

	get refused(): number {
		return this.core.refused;
	}

	/** The last decision at the gate: what its light shows. */
	get lastAnswer(): MoveAnswer | null {
		return this.core.lastAnswer;
	}

	/** Moves one person through the sensor; resolves once decided (at once, or within the loan wait). */
	move(direction: Direction, person: Person): Promise<MoveAnswer> {
		return new Promise((resolve) => {
			const request = ++this.#request;
			this.#answers.set(request, resolve);
			if (this.#runner.running) this.#runner.step(() => this.core.move(request, direction, person, this.options.clock.now()));
			else this.#drainAnswers(() => this.core.move(request, direction, person, this.options.clock.now()));
		});
	}

	status(): PeerStatus {
		return this.core.status(this.options.clock.now());
	}

	/** Permits this sensor holds in `area`, as its own replica counts them. */
	permits(area: AreaId): number {
		return this.core.counter.permits(area);
	}

	/** Leaves cleanly: waiting moves are refused, the last rows made durable and sent, the tracker told. */
	async close(): Promise<void> {
		if (this.#down) return;
		const closed = new Promise<void>((resolve) => (this.#closed = resolve));
		this.#runner.step(() => this.core.close(this.options.clock.now()));
		await closed;
		await this.#shutDown();
	}

	/** Stops at once without a word to anyone, as kill -9 would. */
	async crash(): Promise<void> {
		if (this.#down) return;
		this.#runner.stop();
		this.#drainAnswers(() => this.core.crash(this.options.clock.now()));
		// A crash waits for nothing: the log is left as the disk has it.
		await this.#shutDown(false);
	}

	async #shutDown(closeLog = true): Promise<void> {
		if (this.#down) return;
		this.#down = true;
		this.#runner.stop();
		this.#markStopped();
		await this.options.transport.close();
		// A crash writes nothing more: admissions it answered red stay uncounted.
		const closing = (closeLog ? this.options.journal?.close() : this.options.journal?.abandon())?.catch(() => {});
		if (closeLog) await closing;
	}

	/** After a crash, only the gate's answers leave the core: nothing is sent or written. */
	#drainAnswers(input: () => void): void {
		input();
		for (const effect of this.core.outbox.drain()) if (effect.kind === 'answer') this.#answers.get(effect.request)?.(effect.answer);
	}

	#perform(effect: SensorEffect): void {
		switch (effect.kind) {
			case 'answer': {
				const resolve = this.#answers.get(effect.request);
				this.#answers.delete(effect.request);
				resolve?.(effect.answer);
				return;
			}
			case 'append': {
				const journal = this.options.journal!;
				const done = (ok: boolean): void => {
					if (this.#runner.running || this.#closed) this.#runner.step(() => this.core.saved(effect.ticket, ok, this.options.clock.now()));
				};
				journal.write(effect.rows).then(() => done(true), () => done(false));
				return;
			}
			case 'ready':
				this.#ready.resolve();
				return;
			case 'join-failed':
				this.#runner.stop();
				this.#ready.reject(new JoinError(effect.message));
				return;
			case 'trust-tracker':
				this.options.onTrustTracker?.(effect.key);
				return;
			case 'superseded':
			case 'failed':
				// Two processes spending one sensor's permits could overshoot: the older one stops.
				// Whoever waits for it to start or to close hears that it stopped.
				this.#ready.reject(new JoinError(effect.kind === 'failed' ? effect.message : 'another process logged in as this sensor'));
				this.#closed?.();
				void this.crash();
				return;
			case 'closed':
				this.#closed?.();
				return;
			case 'joined':
				return;
		}
	}
}
