import type { Address } from './address.js';
import type { Transport } from './transport.js';
import { seededRandom } from '../runtime/random.js';

/**
 * A transport the demo's operator can degrade: cut off (a partition of this member from
 * everyone) or lossy (a share of datagrams dropped each way). Wraps a real one.
 */
export class ControlledTransport implements Transport {
	/** True: nothing goes out or comes in, as if the cable were pulled. */
	partitioned = false;
	/** Share of datagrams dropped, each way, 0 to 1. */
	loss = 0;
	dropped = 0;
	readonly #random: () => number;

	constructor(private readonly inner: Transport, seed = inner.address.port) {
		const random = seededRandom(seed);
		this.#random = () => random.fraction();
	}

	get address(): Address {
		return this.inner.address;
	}

	get sendErrors(): number {
		return this.inner.sendErrors;
	}

	#passes(): boolean {
		if (this.partitioned || (this.loss > 0 && this.#random() < this.loss)) {
			this.dropped++;
			return false;
		}
		return true;
	}

	send(to: Address, bytes: Buffer): void {
		if (this.#passes()) this.inner.send(to, bytes);
	}

	onReceive(handler: (bytes: Buffer, from: Address) => void): void {
		this.inner.onReceive((bytes, from) => {
			if (this.#passes()) handler(bytes, from);
		});
	}

	close(): Promise<void> {
		return this.inner.close();
	}
}
