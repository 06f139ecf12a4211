import { formatAddress, type Address } from '../network/address.js';
import type { Transport } from '../network/transport.js';
import type { Random } from '../runtime/random.js';
import type { Scheduler } from './scheduler.js';

/** What the network does to every datagram, each a probability in [0, 1], and how late it is. */
export interface LinkFaults {
	readonly loss: number;
	readonly duplicate: number;
	/** Chance that a datagram is held back by up to `maxDelayMs` more, so later ones overtake it. */
	readonly reorder: number;
	readonly maxDelayMs: number;
}

export const CLEAN_LINKS: LinkFaults = { loss: 0, duplicate: 0, reorder: 0, maxDelayMs: 0 };

/** One way to the next host on a LAN: a fraction of a millisecond. */
const BASE_LATENCY_MS = 0.2;
const JITTER_MS = 0.3;

/**
 * The simulated network: every host's datagrams go through one fault model driven by the
 * simulation's seed — loss, duplication, delay and reordering on every link, partitions
 * that cut a host off both ways or one way only. Delivery is an event on the scheduler,
 * so the whole history follows from the seed. Hosts are names (`tracker`, `node-3`), not
 * addresses: nothing here ever reaches a real network.
 */
export class SimNetwork {
	readonly #endpoints = new Map<string, SimTransport>();
	#faults: LinkFaults = CLEAN_LINKS;
	/** Hosts that send nothing out / receive nothing (a partition is both). */
	readonly #cutOut = new Set<string>();
	readonly #cutIn = new Set<string>();
	/** Pairs of hosts that cannot reach each other, one way: `from>to`. */
	readonly #blocked = new Set<string>();
	#nextPort = 40_000;
	/** Who sees every datagram sent (an on-path eavesdropper, in tests of attacks). */
	readonly #taps: ((from: Address, to: Address, bytes: Buffer) => void)[] = [];
	delivered = 0;
	dropped = 0;
	duplicated = 0;

	constructor(readonly scheduler: Scheduler, readonly random: Random) {}

	get faults(): LinkFaults {
		return this.#faults;
	}

	set faults(faults: LinkFaults) {
		this.#faults = faults;
	}

	/** A new endpoint on `host`; `port` to come back at a known address (a restarted tracker). */
	bind(host: string, port = this.#nextPort++): SimTransport {
		const address = { host, port };
		const key = formatAddress(address);
		if (this.#endpoints.has(key)) throw new Error(`${key} is in use`);
		const transport = new SimTransport(this, address);
		this.#endpoints.set(key, transport);
		return transport;
	}

	unbind(address: Address): void {
		this.#endpoints.delete(formatAddress(address));
	}

	/** Cuts `host` off from everyone, both ways (or heals it). */
	partition(host: string, cut: boolean): void {
		this.cut(host, 'out', cut);
		this.cut(host, 'in', cut);
	}

	/** Cuts one way only: what `host` sends (`out`), or what it receives (`in`). */
	cut(host: string, way: 'in' | 'out', cut: boolean): void {
		const set = way === 'in' ? this.#cutIn : this.#cutOut;
		if (cut) set.add(host);
		else set.delete(host);
	}

	/** Blocks datagrams from `from` to `to` (one way), or lets them through again. */
	block(from: string, to: string, blocked: boolean): void {
		if (blocked) this.#blocked.add(`${from}>${to}`);
		else this.#blocked.delete(`${from}>${to}`);
	}

	/** Removes every partition and cut; link faults stay as set. */
	healAll(): void {
		this.#cutIn.clear();
		this.#cutOut.clear();
		this.#blocked.clear();
	}

	/** Whether anything sent from `from` can reach `to` now (loss aside). */
	reachable(from: string, to: string): boolean {
		return !this.#cutOut.has(from) && !this.#cutIn.has(to) && !this.#blocked.has(`${from}>${to}`);
	}

	/** Shows every datagram as it is sent, before any fault. */
	tap(listener: (from: Address, to: Address, bytes: Buffer) => void): void {
		this.#taps.push(listener);
	}

	/**
	 * Sends one datagram through the fault model. `from` is whatever the sender claims:
	 * a test may forge it, as anyone can forge a UDP source address.
	 */
	carry(from: Address, to: Address, bytes: Buffer): void {
		for (const tap of this.#taps) tap(from, to, bytes);
		const faults = this.#faults;
		const copies = faults.duplicate > 0 && this.random.fraction() < faults.duplicate ? 2 : 1;
		if (copies === 2) this.duplicated++;
		for (let copy = 0; copy < copies; copy++) {
			if (!this.reachable(from.host, to.host) || (faults.loss > 0 && this.random.fraction() < faults.loss)) {
				this.dropped++;
				continue;
			}
			let delay = BASE_LATENCY_MS + this.random.fraction() * JITTER_MS;
			if (faults.reorder > 0 && this.random.fraction() < faults.reorder) delay += this.random.fraction() * faults.maxDelayMs;
			// A copy of the bytes: the sender may reuse its buffer, as with a real socket.
			const datagram = Buffer.from(bytes);
			this.scheduler.setTimeout(() => {
				// Reachability is looked at again on arrival: a partition made meanwhile cuts what is in flight.
				if (!this.reachable(from.host, to.host)) {
					this.dropped++;
					return;
				}
				const endpoint = this.#endpoints.get(formatAddress(to));
				if (!endpoint) return;
				this.delivered++;
				endpoint.deliver(datagram, from);
			}, delay);
		}
	}
}

/** A host's socket on the simulated network. */
export class SimTransport implements Transport {
	#handler: (bytes: Buffer, from: Address) => void = () => {};
	#open = true;
	readonly sendErrors = 0;

	constructor(private readonly network: SimNetwork, readonly address: Address) {}

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
		this.network.unbind(this.address);
	}
}
