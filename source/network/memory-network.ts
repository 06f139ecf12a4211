import type { Address } from './address.js';
import type { Transport } from './transport.js';
import { seededRandom } from '../runtime/random.js';

/** Faults a memory network applies to every datagram, each a probability in [0, 1]. */
export interface Faults {
	readonly drop: number;
	readonly duplicate: number;
	/** Chance that a datagram is held back by up to `maxDelayMs`, so later ones overtake it. */
	readonly reorder: number;
	readonly maxDelayMs: number;
}

export const NO_FAULTS: Faults = { drop: 0, duplicate: 0, reorder: 0, maxDelayMs: 0 };


/**
 * An in-process network for tests: every transport gets an address on host `memory`,
 * and every datagram between them goes through the fault model.
 */
export class MemoryNetwork {
	readonly #endpoints = new Map<number, MemoryTransport>();
	#nextPort = 1;
	readonly #random: () => number;
	dropped = 0;
	duplicated = 0;
	reordered = 0;

	constructor(public faults: Faults = NO_FAULTS, seed = 1) {
		const random = seededRandom(seed);
		this.#random = () => random.fraction();
	}

	/** A new endpoint; `port` to come back at a known address (a restarted tracker). */
	bind(port = this.#nextPort++): MemoryTransport {
		if (this.#endpoints.has(port)) throw new Error(`memory port ${port} is in use`);
		const transport = new MemoryTransport(this, { host: 'memory', port });
		this.#endpoints.set(transport.address.port, transport);
		return transport;
	}

	unbind(port: number): void {
		this.#endpoints.delete(port);
	}

	/** Sends one datagram through the fault model. */
	carry(from: Address, to: Address, bytes: Buffer): void {
		const copies = this.#random() < this.faults.duplicate ? 2 : 1;
		if (copies === 2) this.duplicated++;
		for (let copy = 0; copy < copies; copy++) {
			if (this.#random() < this.faults.drop) {
				this.dropped++;
				continue;
			}
			const late = this.#random() < this.faults.reorder;
			if (late) this.reordered++;
			const delay = late ? Math.floor(this.#random() * this.faults.maxDelayMs) + 1 : 0;
			const deliver = (): void => {
				const endpoint = this.#endpoints.get(to.port);
				if (!endpoint || to.host !== 'memory') return;
				endpoint.deliver(Buffer.from(bytes), from);
			};
			if (delay > 0) setTimeout(deliver, delay);
			else setImmediate(deliver);
		}
	}
}

export class MemoryTransport implements Transport {
	#handler: (bytes: Buffer, from: Address) => void = () => {};
	#open = true;
	readonly sendErrors = 0;

	constructor(private readonly network: MemoryNetwork, readonly address: Address) {}

	send(to: Address, bytes: Buffer): void {
		if (this.#open) this.network.carry(this.address, to, bytes);
	}

	onReceive(handler: (bytes: Buffer, from: Address) => void): void {
		this.#handler = handler;
	}

	deliver(bytes: Buffer, from: Address): void {
		if (this.#open) this.#handler(bytes, from);
	}

	async close(): Promise<void> {
		this.#open = false;
		this.network.unbind(this.address.port);
	}
}
