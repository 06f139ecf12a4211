import type { Address } from '../network/address.js';
import type { Transport } from '../network/transport.js';
import type { RoleEvent } from '../roles/events.js';
import type { Cancel, Clock } from './clock.js';
import type { BaseEffect, Outbox } from './outbox.js';

/** What a runner needs of a role's core: it reacts to datagrams and to time, and leaves effects in its outbox. */
export interface Core<E extends { readonly kind: string }> {
	readonly outbox: Outbox<E>;
	receive(bytes: Buffer, from: Address, now: number): void;
	/** Does whatever is due at `now`. */
	tick(now: number): void;
	/** When `tick` is next needed (Infinity: not until something arrives). */
	wakeAt(): number;
}

export interface RunnerPorts<E> {
	readonly transport: Transport;
	readonly clock: Clock;
	readonly events: (event: RoleEvent) => void;
	/** Performs an effect that is not a send or an event (a durable write, a password check…). */
	readonly perform: (effect: E) => void;
}

/**
 * The thin shell around a core: datagrams from the transport go in, the passage of time
 * goes in through one timer armed at the core's next wake-up, and after every step the
 * outbox is drained and each effect performed, in order. Everything a core does reaches
 * the world through here, so a core runs the same on UDP with the system clock and in
 * the simulator with virtual time.
 */
export class CoreRunner<E extends { readonly kind: string }> {
	#armedAt = Infinity;
	#cancel: Cancel | null = null;
	#running = true;

	constructor(readonly core: Core<E>, readonly ports: RunnerPorts<E>) {
		ports.transport.onReceive((bytes, from) => {
			if (this.#running) this.step(() => this.core.receive(bytes, from, this.ports.clock.now()));
		});
	}

	/** Runs one input into the core (`input` calls it), then performs what it asked for and re-arms the timer. */
	step(input: () => void): void {
		input();
		this.flush();
	}

	/** Performs what the core asked for and re-arms the timer for its next wake-up. */
	flush(): void {
		for (const effect of this.core.outbox.drain()) this.#perform(effect);
		this.#arm();
	}

	/** No more input and no more timers: the core is left as it is (a crash), or after its own goodbye (a close). */
	stop(): void {
		this.#running = false;
		this.#cancel?.();
		this.#cancel = null;
		this.#armedAt = Infinity;
		this.ports.transport.onReceive(() => {});
	}

	get running(): boolean {
		return this.#running;
	}

	#perform(effect: E | BaseEffect): void {
		const base = effect as BaseEffect;
		if (base.kind === 'send') this.ports.transport.send(base.to, base.bytes);
		else if (base.kind === 'event') this.ports.events(base.event);
		else this.ports.perform(effect as E);
	}

	#arm(): void {
		if (!this.#running) return;
		const at = this.core.wakeAt();
		// Only an earlier wake-up re-arms: a timer that fires early finds nothing due and costs one call.
		if (at >= this.#armedAt) return;
		this.#cancel?.();
		this.#armedAt = at;
		if (at === Infinity) return;
		const { clock } = this.ports;
		this.#cancel = clock.setTimeout(() => {
			this.#cancel = null;
			this.#armedAt = Infinity;
			if (this.#running) this.step(() => this.core.tick(clock.now()));
		}, Math.max(0, at - clock.now()));
	}
}
