import { join } from 'node:path';
import type { AreaId } from '../model/ids.js';
import { mergeRows, type Row } from '../counting/row.js';
import { unsignedWireRow, type UnsignedWireRow } from '../protocol/messages.js';
import { rowFromWire, rowToWire } from '../protocol/wire-row.js';
import type { Clock } from '../runtime/clock.js';
import type { Disk } from '../runtime/disk.js';
import { RecordLog, type LogDamage } from './record-log.js';

/** A snapshot is taken once the log passes this size, so replay time stays bounded. */
export const SNAPSHOT_BYTES = 8 * 1024 * 1024;

export interface Restored {
	/** The sensor's own rows as its log last had them. */
	readonly rows: ReadonlyMap<AreaId, Row>;
	/** Records replayed after the snapshot (plus one if there was a snapshot). */
	readonly replayed: number;
	readonly ms: number;
	readonly damage: LogDamage | null;
	/** False when part of the log is lost for good: the rows are a lower bound, and the peer must hear from its replicas before it spends. */
	readonly complete: boolean;
}

export interface JournalOptions {
	readonly disk?: Disk;
	readonly clock?: Clock;
	readonly groupCommitMs?: number;
	/** A snapshot failed: the log goes on with its old files, which still hold everything. */
	readonly onSnapshotFailed?: (error: Error) => void;
}

/**
 * A sensor peer's log: every change to its own rows is written here, durably, before it
 * takes effect (an answer to the gate, a row sent to anyone). Each record holds the full
 * current rows of the areas that changed, so replay is a max-merge: a record applied
 * twice, or a snapshot that overlaps a record, changes nothing; records that outlive a
 * lost snapshot are still worth replaying; and a corrupt record can be stepped over.
 */
export class PeerJournal {
	readonly #latest = new Map<AreaId, Row>();
	#snapshotting = false;

	private constructor(private readonly log: RecordLog, private readonly options: JournalOptions) {}

	static async open(directory: string, options: JournalOptions = {}): Promise<{ journal: PeerJournal; restored: Restored }> {
		const { log, replay } = await RecordLog.open(join(directory, 'log'), { ...options, stepOverCorrupt: true });
		const journal = new PeerJournal(log, options);
		let replayed = 0;
		for (const payload of replay.snapshot === null ? replay.records : [replay.snapshot, ...replay.records]) {
			for (const wire of parseRecord(payload)) journal.#remember(wire.a as AreaId, rowFromWire(wire));
			replayed++;
		}
		return { journal, restored: { rows: new Map(journal.#latest), replayed, ms: replay.ms, damage: replay.damage, complete: replay.complete } };
	}

	/**
	 * Writes the current rows of some areas; resolves once they are on disk. Twice, in the
	 * same commit (one write, one fsync): should the disk change a byte of one copy, replay
	 * steps over it and finds the other, so a flipped bit costs nothing — the last record
	 * above all, which no later one would cover.
	 */
	async write(rows: readonly (readonly [AreaId, Row])[]): Promise<void> {
		for (const [area, row] of rows) this.#remember(area, row);
		const record = encodeRecord(rows);
		await Promise.all([this.log.append(record), this.log.append(record)]);
		if (this.log.logBytes > SNAPSHOT_BYTES && !this.#snapshotting) {
			this.#snapshotting = true;
			// A failed snapshot loses nothing (the old snapshot and log hold every record, and
			// appends carry on there); it is reported, and the next write tries again.
			this.log.snapshot(encodeRecord([...this.#latest])).then(
				() => (this.#snapshotting = false),
				(error: Error) => {
					this.#snapshotting = false;
					this.options.onSnapshotFailed?.(error);
				},
			);
		}
	}

	async close(): Promise<void> {
		await this.log.close();
	}

	/** Stops writing at once, as at kill -9: rows waiting for their commit are not written. */
	async abandon(): Promise<void> {
		await this.log.abandon();
	}

	#remember(area: AreaId, row: Row): void {
		const previous = this.#latest.get(area);
		this.#latest.set(area, previous ? mergeRows(previous, row) : row);
	}
}

function encodeRecord(rows: readonly (readonly [AreaId, Row])[]): Buffer {
	return Buffer.from(JSON.stringify(rows.map(([area, row]) => rowToWire(area, row))), 'utf8');
}

/** A record that passed its checksum but does not parse is a bug, not weather: it fails loudly. */
function parseRecord(payload: Buffer): UnsignedWireRow[] {
	const parsed = unsignedWireRow.array().safeParse(JSON.parse(payload.toString('utf8')));
	if (!parsed.success) throw new Error(`log record does not hold rows: ${parsed.error.issues[0]?.message}`);
	return parsed.data;
}
