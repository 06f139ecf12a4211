import { join } from 'node:path';
import type { SavedGranters } from '../counting/granter-registry.js';
import { nodeDisk, type Disk } from '../runtime/disk.js';
import type { Random } from '../runtime/random.js';
import { exportIdentity, generateIdentity, importIdentity, type Identity } from '../security/keys.js';
import { writeDurably } from './log-files.js';

/** The data directory cannot be used; the message says which file and why. */
export class DataDirectoryError extends Error {}

/** What a process keeps between runs; each role uses the fields that are its own. */
export interface Kept {
	/** A peer's or observer's last incarnation. */
	readonly incarnation: number;
	/** A member's: the tracker key it trusted at its first login (trust on first use, as ssh's known_hosts). */
	readonly trackerKey: string | null;
	/** The tracker's: the last incarnation it gave each member. */
	readonly members: ReadonlyMap<string, number>;
	/** The tracker's: the epochs it ran, newest last. */
	readonly epochs: readonly number[];
	/** The tracker's: who grants each holder's leases, and what each granter took (counting/granter-registry.ts). */
	readonly granters: SavedGranters;
	/** The tracker's: each member's device key (Ed25519, base64) as last certified: it logs in again with it, not its password. */
	readonly devices: ReadonlyMap<string, string>;
	/** The tracker's: accounts the operator revoked, for good. */
	readonly revoked: readonly string[];
}

const NOTHING_KEPT: Kept = { incarnation: 0, trackerKey: null, members: new Map(), epochs: [], granters: {}, devices: new Map(), revoked: [] };

interface SavedFile {
	readonly keys: { sign: string; agree: string };
	readonly incarnation?: number;
	readonly trackerKey?: string | null;
	readonly members?: Record<string, number>;
	readonly epochs?: number[];
	readonly granters?: SavedGranters;
	readonly devices?: Record<string, string>;
	readonly revoked?: string[];
}

/**
 * What a process keeps in its `--data` directory between runs, beside its log: its keys
 * (so that a tracker keeps the identity peers pinned, and a peer comes back as itself)
 * and the few facts of `Kept`. Every save is durable and atomic: a temporary file is
 * written and fsynced, renamed over the old one, and the directory fsynced, so that a
 * crash or a power cut leaves the old file or the new one, never neither. Saves run one
 * after the other, each keeping whatever it does not change.
 */
export class DataDirectory {
	/** Saves one after the other, so that a later save never lands before an earlier one. */
	#writing: Promise<void> = Promise.resolve();

	private constructor(
		readonly disk: Disk,
		readonly path: string | null,
		readonly name: string,
		readonly identity: Identity,
		/** As loaded, then as last saved. */
		public kept: Kept,
	) {}

	/** Without a path, nothing is kept: a fresh identity, and saves that write nothing. */
	static async open(path: string | undefined, name: string, random: Random, disk: Disk = nodeDisk): Promise<DataDirectory> {
		if (path === undefined) return new DataDirectory(disk, null, name, generateIdentity(random), NOTHING_KEPT);
		try {
			await disk.mkdir(path);
		} catch (error) {
			throw new DataDirectoryError(`${path}: cannot create the data directory: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
		}
		const file = join(path, `${name}.json`);
		let text: string;
		try {
			text = (await disk.readFile(file)).toString('utf8');
		} catch (error) {
			if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw new DataDirectoryError(`${file}: cannot read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
			const fresh = new DataDirectory(disk, path, name, generateIdentity(random), NOTHING_KEPT);
			await fresh.save({});
			return fresh;
		}
		try {
			const saved = JSON.parse(text) as SavedFile;
			return new DataDirectory(disk, path, name, importIdentity(saved.keys), {
				incarnation: saved.incarnation ?? 0,
				trackerKey: saved.trackerKey ?? null,
				members: new Map(Object.entries(saved.members ?? {})),
				epochs: saved.epochs ?? [],
				granters: saved.granters ?? {},
				devices: new Map(Object.entries(saved.devices ?? {})),
				revoked: saved.revoked ?? [],
			});
		} catch (error) {
			throw new DataDirectoryError(`${file}: unreadable (${(error as Error).message}); move it away to start with a new identity`);
		}
	}

	/** Makes `changes` durable together with everything kept before; resolves once they are. */
	save(changes: Partial<Kept>): Promise<void> {
		this.kept = { ...this.kept, ...changes };
		if (this.path === null) return Promise.resolve();
		const path = this.path;
		const file = join(path, `${this.name}.json`);
		const { incarnation, trackerKey, members, epochs, granters, devices, revoked } = this.kept;
		const saved: SavedFile = {
			keys: exportIdentity(this.identity),
			incarnation,
			trackerKey,
			members: Object.fromEntries(members),
			epochs: [...epochs],
			granters,
			devices: Object.fromEntries(devices),
			revoked: [...revoked],
		};
		const write = async (): Promise<void> => {
			await writeDurably(this.disk, `${file}.tmp`, Buffer.from(`${JSON.stringify(saved)}\n`), 'w', 0o600);
			await this.disk.rename(`${file}.tmp`, file);
			await this.disk.syncDirectory(path);
		};
		this.#writing = this.#writing.then(write, write);
		return this.#writing;
	}
}
