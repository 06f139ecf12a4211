import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { SavedGranters } from '../counting/granter-registry.js';
import { exportIdentity, generateIdentity, importIdentity, type Identity } from '../security/keys.js';

/** The data directory cannot be used; the message says which file and why. */
export class DataDirectoryError extends Error {}

interface Saved {
	readonly keys: { sign: string; agree: string };
	/** A peer's last incarnation. */
	readonly incarnation: number;
	/** The tracker's: the last incarnation it gave each member, and the epochs it ran. */
	readonly members?: Record<string, number>;
	readonly epochs?: number[];
	/** The tracker's: who grants each holder's leases, and what each granter took (counting/granter-registry.ts). */
	readonly granters?: SavedGranters;
}

interface Changes {
	incarnation?: number;
	members?: ReadonlyMap<string, number>;
	epochs?: readonly number[];
	granters?: SavedGranters;
}

/**
 * What a process keeps in its `--data` directory between runs, beside its log: its keys
 * (so that a tracker keeps the identity peers pinned, and a peer comes back as itself),
 * its last incarnation, and for the tracker the incarnations it gave and its epochs.
 * Written atomically (temporary file, then rename): a crash leaves the old file or the new.
 */
export class DataDirectory {
	/** Saves one after the other, so that a later save never lands before an earlier one. */
	#writing: Promise<void> = Promise.resolve();

	private constructor(
		readonly path: string | null,
		readonly name: string,
		readonly identity: Identity,
		/** As loaded, then as last saved: each save keeps whatever it does not change. */
		public lastIncarnation: number,
		public members: ReadonlyMap<string, number>,
		public epochs: readonly number[],
		public granters: SavedGranters,
	) {}

	static async open(path: string | undefined, name: string): Promise<DataDirectory> {
		if (path === undefined) return new DataDirectory(null, name, generateIdentity(), 0, new Map(), [], {});
		try {
			await mkdir(path, { recursive: true });
		} catch (error) {
			throw new DataDirectoryError(`${path}: cannot create the data directory: ${(error as NodeJS.ErrnoException).code}`);
		}
		const file = join(path, `${name}.json`);
		let text: string;
		try {
			text = await readFile(file, 'utf8');
		} catch {
			const fresh = new DataDirectory(path, name, generateIdentity(), 0, new Map(), [], {});
			await fresh.save({});
			return fresh;
		}
		try {
			const saved = JSON.parse(text) as Saved;
			return new DataDirectory(path, name, importIdentity(saved.keys), saved.incarnation, new Map(Object.entries(saved.members ?? {})), saved.epochs ?? [], saved.granters ?? {});
		} catch (error) {
			throw new DataDirectoryError(`${file}: unreadable (${(error as Error).message}); move it away to start with a new identity`);
		}
	}

	save(changes: Changes): Promise<void> {
		this.lastIncarnation = changes.incarnation ?? this.lastIncarnation;
		this.members = new Map(changes.members ?? this.members);
		this.epochs = [...(changes.epochs ?? this.epochs)];
		this.granters = changes.granters ?? this.granters;
		if (this.path === null) return Promise.resolve();
		const file = join(this.path, `${this.name}.json`);
		const saved: Saved = {
			keys: exportIdentity(this.identity),
			incarnation: this.lastIncarnation,
			members: Object.fromEntries(this.members),
			epochs: [...this.epochs],
			granters: this.granters,
		};
		const write = async (): Promise<void> => {
			await writeFile(`${file}.tmp`, `${JSON.stringify(saved)}\n`, { mode: 0o600 });
			await rename(`${file}.tmp`, file);
		};
		this.#writing = this.#writing.then(write, write);
		return this.#writing;
	}
}
