import type { MemberRecord } from '../protocol/messages.js';

/** Records per directory page: two ~330-byte records keep a page under 1200 bytes. */
export const RECORDS_PER_PAGE = 2;
export const LEFT_PER_PAGE = 32;

type Entry = { readonly changedAt: number } & ({ readonly record: MemberRecord } | { readonly left: string });

export interface DirectoryPage {
	readonly from: number;
	readonly to: number;
	readonly joined: MemberRecord[];
	readonly left: string[];
}

/**
 * The tracker's authoritative member list. Every change gets the next version; each
 * member id keeps only its latest entry (a record, or a tombstone once it left), so a
 * member that is behind catches up with one page per couple of members, not one per
 * change it missed.
 */
export class DirectoryBook {
	#version = 0;
	readonly #entries = new Map<string, Entry>();

	get version(): number {
		return this.#version;
	}

	get(id: string): MemberRecord | undefined {
		const entry = this.#entries.get(id);
		return entry && 'record' in entry ? entry.record : undefined;
	}

	members(): MemberRecord[] {
		const members: MemberRecord[] = [];
		for (const entry of this.#entries.values()) if ('record' in entry) members.push(entry.record);
		return members;
	}

	/** Adds or replaces a member; returns the page that announces it. */
	put(record: MemberRecord): DirectoryPage {
		const from = this.#version;
		this.#entries.set(record.id, { changedAt: ++this.#version, record });
		return { from, to: this.#version, joined: [record], left: [] };
	}

	/** Removes a member; returns the page that announces it, or null if it was not there. */
	remove(id: string): DirectoryPage | null {
		if (!this.get(id)) return null;
		const from = this.#version;
		this.#entries.set(id, { changedAt: ++this.#version, left: id });
		return { from, to: this.#version, joined: [], left: [id] };
	}

	/** Every page a member at version `since` needs, in order; the last one ends at the current version. */
	pagesSince(since: number): DirectoryPage[] {
		const changed = [...this.#entries.values()].filter((entry) => entry.changedAt > since).sort((a, b) => a.changedAt - b.changedAt);
		const pages: DirectoryPage[] = [];
		let page: { joined: MemberRecord[]; left: string[]; to: number } = { joined: [], left: [], to: since };
		let from = since;
		const close = (): void => {
			pages.push({ from, to: page.to, joined: page.joined, left: page.left });
			from = page.to;
			page = { joined: [], left: [], to: from };
		};
		for (const entry of changed) {
			if (page.joined.length === RECORDS_PER_PAGE || page.left.length === LEFT_PER_PAGE) close();
			if ('record' in entry) page.joined.push(entry.record);
			else page.left.push(entry.left);
			page.to = entry.changedAt;
		}
		page.to = this.#version;
		if (page.joined.length > 0 || page.left.length > 0 || pages.length === 0 || page.to > from) close();
		return pages;
	}
}
