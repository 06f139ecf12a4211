import type { MemberRecord } from '../protocol/messages.js';
import type { DirectoryPage } from './directory-book.js';

export type PageResult =
	/** Applied: these members joined or changed, these left. */
	| { readonly kind: 'applied'; readonly joined: readonly MemberRecord[]; readonly left: readonly string[] }
	/** Already had it. */
	| { readonly kind: 'old' }
	/** Starts past our version: something was missed, pull from our version. */
	| { readonly kind: 'gap' };

/** A member's copy of the tracker's directory, kept up to date page by page. */
export class DirectoryReplica {
	#version = 0;
	readonly #members = new Map<string, MemberRecord>();

	get version(): number {
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

	apply(page: DirectoryPage): PageResult {
		if (page.to <= this.#version) return { kind: 'old' };
		if (page.from > this.#version) return { kind: 'gap' };
		const left: string[] = [];
		for (const id of page.left) if (this.#members.delete(id)) left.push(id);
		for (const record of page.joined) this.#members.set(record.id, record);
		this.#version = page.to;
		return { kind: 'applied', joined: page.joined, left };
	}
}
