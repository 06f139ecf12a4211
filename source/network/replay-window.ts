/**
 * Anti-replay for one sender incarnation, as IPsec does it (RFC 4303 §3.4.3): the
 * highest sequence number seen and a bitmap of the `size` numbers below it. A number
 * seen before, or older than the window, is refused. Reordering inside the window is
 * fine; a datagram older than the window is refused as if replayed, and anti-entropy
 * repairs whatever it carried.
 */
export class ReplayWindow {
	#highest = -1;
	readonly #seen: Uint8Array;

	constructor(readonly size = 4096) {
		this.#seen = new Uint8Array(size / 8);
	}

	/** Records `seq` and returns true if it is fresh; false for a replay or a stale one. */
	accept(seq: number): boolean {
		if (seq > this.#highest) {
			const advance = seq - this.#highest;
			if (advance >= this.size) {
				this.#seen.fill(0);
			} else {
				for (let n = this.#highest + 1; n < seq; n++) this.#clear(n);
			}
			this.#highest = seq;
			this.#set(seq);
			return true;
		}
		if (this.#highest - seq >= this.size) return false;
		if (this.#has(seq)) return false;
		this.#set(seq);
		return true;
	}

	// The slot of `seq` is bit (seq % size) of the bitmap: inline, no allocation per datagram.
	#has(seq: number): boolean {
		const slot = seq % this.size;
		return (this.#seen[slot >> 3]! & (1 << (slot & 7))) !== 0;
	}

	#set(seq: number): void {
		const slot = seq % this.size;
		this.#seen[slot >> 3]! |= 1 << (slot & 7);
	}

	#clear(seq: number): void {
		const slot = seq % this.size;
		this.#seen[slot >> 3]! &= ~(1 << (slot & 7));
	}
}
