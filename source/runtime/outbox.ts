import type { Address } from '../network/address.js';
import type { RoleEvent } from '../roles/events.js';

/** Every core can ask for a datagram to be sent and an event to be reported. */
export type BaseEffect =
	| { readonly kind: 'send'; readonly to: Address; readonly bytes: Buffer }
	| { readonly kind: 'event'; readonly event: RoleEvent };

/**
 * Where a role's core leaves what it wants done: datagrams to send, events to report,
 * records to make durable. The core never performs an effect itself; its shell drains
 * the outbox after every step and performs them in order (the sans-IO style of
 * memberlist's broadcast queue and quinn's poll_transmit: state changes never touch a
 * socket, so the same core runs on UDP, in tests and in the simulator).
 */
export class Outbox<E extends { readonly kind: string } = BaseEffect> {
	#effects: (E | BaseEffect)[] = [];

	send(to: Address, bytes: Buffer): void {
		this.#effects.push({ kind: 'send', to, bytes });
	}

	event(event: RoleEvent): void {
		this.#effects.push({ kind: 'event', event });
	}

	push(effect: E): void {
		this.#effects.push(effect);
	}

	get size(): number {
		return this.#effects.length;
	}

	/** Everything asked for since the last drain, in order. */
	drain(): (E | BaseEffect)[] {
		const effects = this.#effects;
		this.#effects = [];
		return effects;
	}
}
