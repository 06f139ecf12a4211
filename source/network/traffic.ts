import type { DropReason } from '../protocol/frame.js';

/**
 * What a process sent and what flooding would have cost (the original's `media`): for
 * every datagram of an area's event or state, hierarchy filtering sends to the members
 * that care; the original sent to every member. `saved` is the difference.
 */
export class TrafficCounters {
	sent = 0;
	flood = 0;
	received = 0;
	readonly dropped = new Map<DropReason, number>();

	/** One message delivered to `recipients` members where flooding would reach `members`. */
	countFiltered(recipients: number, members: number): void {
		this.sent += recipients;
		this.flood += Math.max(recipients, members);
	}

	/** A unicast message (a loan request, a directory pull): the same under flooding. */
	countUnicast(): void {
		this.sent += 1;
		this.flood += 1;
	}

	countDrop(reason: DropReason): void {
		this.dropped.set(reason, (this.dropped.get(reason) ?? 0) + 1);
	}

	get saved(): number {
		return this.flood - this.sent;
	}

	snapshot(): { sent: number; flood: number; saved: number; received: number; dropped: Record<string, number> } {
		return {
			sent: this.sent,
			flood: this.flood,
			saved: this.saved,
			received: this.received,
			dropped: Object.fromEntries(this.dropped),
		};
	}
}
