import { join } from 'node:path';
import { crc32 } from 'node:zlib';
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
 * written and fsynced, the current file becomes `<name>.json.previous`, the temporary
 * one takes its place, and the directory is fsynced. A crash or a power cut between the
 * renames can leave no file under the name, only the new one as `.tmp` (whole: it was
 * fsynced first) and the old as `.previous`: opening then takes the `.tmp`, else the
 * `.previous` — the old save or the new one, never neither. Each file starts with a CRC-32 of the rest:
 * a disk that changed a byte is caught, and a member then starts from the previous copy
 * (what it keeps is the same or one save older, and the tracker never gives an
 * incarnation twice). The tracker refuses instead: its last save may hold a decision it
 * has already answered. Saves run one after the other, each keeping what it does not change.
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

	/**
	 * Without a path, nothing is kept: a fresh identity, and saves that write nothing.
	 * `fallBack`: whether a bad file may be replaced by the previous copy (members yes, the tracker no).
	 */
	static async open(path: string | undefined, name: string, random: Random, disk: Disk = nodeDisk, fallBack = name !== 'tracker'): Promise<DataDirectory> {
		if (path === undefined) return new DataDirectory(disk, null, name, generateIdentity(random), NOTHING_KEPT);
		try {
			await disk.mkdir(path);
		} catch (error) {
			throw new DataDirectoryError(`${path}: cannot create the data directory: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
		}
		const file = join(path, `${name}.json`);
		const current = await readKept(disk, file);
		let saved = current.saved;
		if (saved === null && current.problem !== 'missing') {
			const previous = await readKept(disk, `${file}.previous`);
			if (!fallBack || previous.saved === null) {
				const tail =
					previous.problem === 'missing'
						? 'move it away to start with a new identity'
						: !fallBack
							? `${file}.previous holds the save before it: move it into place to start from it (its last change may be lost), or move both away to start anew`
							: `and so is ${file}.previous (${previous.problem}); move them away to start with a new identity`;
				throw new DataDirectoryError(`${file}: unreadable (${current.problem}); ${tail}`);
			}
			saved = previous.saved;
		} else if (saved === null) {
			// Missing: a first start, or a crash between the renames of a save (the file moved
			// to .previous, the new one not yet in place). Then the new one is whole in .tmp
			// (fsynced before any rename), or the one before it is in .previous.
			const newer = await readKept(disk, `${file}.tmp`);
			const older = await readKept(disk, `${file}.previous`);
			saved = newer.saved ?? older.saved;
			if (saved === null) {
				// Something was kept here, and none of it can be read: starting anew would be a new identity.
				if (newer.problem !== 'missing' || older.problem !== 'missing') {
					const what = [newer.problem !== 'missing' ? `${file}.tmp (${newer.problem})` : null, older.problem !== 'missing' ? `${file}.previous (${older.problem})` : null].filter(Boolean).join(' and ');
					throw new DataDirectoryError(`${file} is missing and ${what} cannot be read; move them away to start with a new identity`);
				}
				const fresh = new DataDirectory(disk, path, name, generateIdentity(random), NOTHING_KEPT);
				await fresh.save({});
				return fresh;
			}
		}
		try {
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
		const json = JSON.stringify(saved);
		const bytes = Buffer.from(`${crc32(json).toString(16).padStart(8, '0')} ${json}\n`);
		const write = async (): Promise<void> => {
			await writeDurably(this.disk, `${file}.tmp`, bytes, 'w', 0o600);
			await this.disk.rename(file, `${file}.previous`).catch((error: NodeJS.ErrnoException) => {
				if (error.code !== 'ENOENT') throw error;
			});
			await this.disk.rename(`${file}.tmp`, file);
			await this.disk.syncDirectory(path);
		};
		this.#writing = this.#writing.then(write, write);
		return this.#writing;
	}
}

/** A kept file, checked: its contents, or why there are none. */
async function readKept(disk: Disk, file: string): Promise<{ saved: SavedFile | null; problem: string }> {
	let text: string;
	try {
		text = (await disk.readFile(file)).toString('utf8');
	} catch (error) {
		const code = (error as NodeJS.ErrnoException).code;
		if (code === 'ENOENT') return { saved: null, problem: 'missing' };
		throw new DataDirectoryError(`${file}: cannot read: ${code ?? (error as Error).message}`);
	}
	// `<crc32 in hex> <json>`; a file written before checksums is plain JSON.
	const match = /^([0-9a-f]{8}) (.*?)\n?$/s.exec(text);
	if (match && crc32(match[2]!).toString(16).padStart(8, '0') !== match[1]) return { saved: null, problem: 'its checksum does not match: the disk changed it' };
	try {
		return { saved: JSON.parse(match ? match[2]! : text) as SavedFile, problem: '' };
	} catch (error) {
		return { saved: null, problem: (error as Error).message };
	}
}
