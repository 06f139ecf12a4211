import type { MemberRecord } from '../protocol/messages.js';
import type { DirectoryPage } from './directory-book.js';

export type PageResult =
	/** Applied: these members joined or changed, these left. */
	| { readonly kind: 'applied'; readonly joined: readonly MemberRecord[]; readonly left: readonly string[] }
	/** Already had it. */
	| { readonly kind: 'old' }
	/** Starts past our version: something was missed, pull from our version. */
	| { readonly kind: 'gap' }
	/** A record in it is not signed by the tracker: nothing of it is believed. */
	| { readonly kind: 'forged'; readonly id: string };

/** Pages held while the one before them is missing: one pull's worth. */
const MAX_PAGES_AHEAD = 64;

/** What a member routes by and looks members up in (routing.ts, the roles, the console). */
export interface DirectoryView {
	/** Changes whenever the members change. */
	readonly version: number;
	readonly size: number;
	get(id: string): MemberRecord | undefined;
	members(): IterableIterator<MemberRecord>;
}

/**
 * A directory and, for a short while after the network moved to a new epoch, the members
 * of the previous one that have not logged in again yet: they are still there, only not
 * in the new directory so far (member-core.ts keeps the old epoch's link for them).
 */
export class BridgedDirectory implements DirectoryView {
	constructor(readonly current: DirectoryReplica, readonly previous: DirectoryReplica) {}

	get version(): number {
		return this.current.version + this.previous.version;
	}

	get size(): number {
		let size = this.current.size;
		for (const member of this.previous.members()) if (!this.current.get(member.id)) size++;
		return size;
	}

	get(id: string): MemberRecord | undefined {
		return this.current.get(id) ?? this.previous.get(id);
	}

	*members(): IterableIterator<MemberRecord> {
		yield* this.current.members();
		for (const member of this.previous.members()) if (!this.current.get(member.id)) yield member;
	}
}

/**
 * A member's copy of the tracker's directory, kept up to date page by page. Every record
 * is a certificate, checked against the tracker's key before it is believed: routing,
 * link keys and the keys that sign relayed rows all come from here.
 */
export class DirectoryReplica implements DirectoryView {
	#version = 0;
	/** Pages that arrived before the one they follow, by the version they start from. */
	readonly #ahead = new Map<number, DirectoryPage>();
	/** Records learned from members rather than from the tracker's pages. */
	#learned = 0;
	readonly #members = new Map<string, MemberRecord>();

	constructor(readonly verify: (record: MemberRecord) => boolean) {}

	/** Changes whenever the members change, by a page or a learned record. */
	get version(): number {
		return this.#version + this.#learned;
	}

	/** The tracker's version this replica has applied every page up to: what a pull asks from. */
	get pageVersion(): number {
		return this.#version;
	}

	get(id: string): MemberRecord | undefined {
		return this.#members.get(id);
	}

	members(): IterableIterator<MemberRecord> {
		return this.#members.values();
	}

	get size(): number {
		return this.#members.size;
	}

	/**
	 * A member's newer record, passed on by another member while the tracker could not send
	 * it (down, or our pulls lost): believed if the tracker's key signs it, it is of our
	 * epoch and it is a later incarnation than the one we hold.
	 */
	learn(record: MemberRecord, epoch: number): boolean {
		const current = this.#members.get(record.id);
		if (record.epoch !== epoch || (current !== undefined && current.incarnation >= record.incarnation)) return false;
		if (!this.verify(record)) return false;
		this.#members.set(record.id, record);
		this.#learned++;
		return true;
	}

	/**
	 * Applies a page, and any held pages it makes contiguous. A page past our version waits
	 * (a few of them) for the one before it: on a lossy link, the pages of one pull arrive
	 * with holes, and throwing away all after the first hole would make catching up take
	 * as many pulls as there are holes.
	 */
	apply(page: DirectoryPage): PageResult {
		const result = this.#applyOne(page);
		if (result.kind === 'gap') {
			if (this.#ahead.size >= MAX_PAGES_AHEAD) this.#ahead.clear();
			this.#ahead.set(page.from, page);
			return result;
		}
		if (result.kind !== 'applied') return result;
		const joined = [...result.joined];
		const left = [...result.left];
		for (let progress = true; progress; ) {
			progress = false;
			for (const [from, held] of this.#ahead) {
				if (from > this.#version) continue;
				this.#ahead.delete(from);
				const next = this.#applyOne(held);
				if (next.kind === 'applied') {
					joined.push(...next.joined);
					left.push(...next.left);
					progress = true;
				}
			}
		}
		return { kind: 'applied', joined, left };
	}

	#applyOne(page: DirectoryPage): PageResult {
		if (page.to <= this.#version) return { kind: 'old' };
		if (page.from > this.#version) return { kind: 'gap' };
		for (const record of page.joined) {
			const current = this.#members.get(record.id);
			// A record we hold already was checked when it came.
			if (current?.sig !== record.sig && !this.verify(record)) return { kind: 'forged', id: record.id };
		}
		const left: string[] = [];
		for (const id of page.left) if (this.#members.delete(id)) left.push(id);
		// A record learned from a member may be newer than the page (which may be old news).
		for (const record of page.joined) if ((this.#members.get(record.id)?.incarnation ?? 0) <= record.incarnation) this.#members.set(record.id, record);
		this.#version = page.to;
		return { kind: 'applied', joined: page.joined, left };
	}

	/** Drops a member without a page (revoked: the tracker's page follows in the new epoch). */
	remove(id: string): void {
		this.#members.delete(id);
	}
}
