import { join } from 'node:path';
import type { AreaId } from '../model/ids.js';
import { mergeRows, type Row } from '../counting/row.js';
import { wireRow, type WireRow } from '../protocol/messages.js';
import { rowFromWire, rowToWire } from '../protocol/wire-row.js';
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
}

/**
 * A sensor peer's log: every change to its own rows is written here, durably, before it
 * takes effect (an answer to the gate, a row sent to anyone). Each record holds the full
 * current rows of the areas that changed, so replay is a max-merge: a record applied
 * twice, or a snapshot that overlaps a record, changes nothing.
 */
export class PeerJournal {
	readonly #latest = new Map<AreaId, Row>();
	#snapshotting: Promise<void> | null = null;

	private constructor(private readonly log: RecordLog) {}

	static async open(directory: string): Promise<{ journal: PeerJournal; restored: Restored }> {
		const { log, replay } = await RecordLog.open(join(directory, 'log'));
		const journal = new PeerJournal(log);
		let replayed = 0;
		for (const payload of replay.snapshot === null ? replay.records : [replay.snapshot, ...replay.records]) {
			for (const wire of parseRecord(payload)) journal.#remember(wire.a as AreaId, rowFromWire(wire));
			replayed++;
		}
		return { journal, restored: { rows: new Map(journal.#latest), replayed, ms: replay.ms, damage: replay.damage } };
	}

	/** Writes the current rows of some areas; resolves once they are on disk. */
	async write(rows: readonly (readonly [AreaId, Row])[]): Promise<void> {
		for (const [area, row] of rows) this.#remember(area, row);
		await this.log.append(encodeRecord(rows));
		if (this.log.logBytes > SNAPSHOT_BYTES && !this.#snapshotting) {
			this.#snapshotting = this.log.snapshot(encodeRecord([...this.#latest])).finally(() => (this.#snapshotting = null));
		}
	}

	async close(): Promise<void> {
		await this.#snapshotting;
		await this.log.close();
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
function parseRecord(payload: Buffer): WireRow[] {
	const parsed = wireRow.array().safeParse(JSON.parse(payload.toString('utf8')));
	if (!parsed.success) throw new Error(`log record does not hold rows: ${parsed.error.issues[0]?.message}`);
	return parsed.data;
}
