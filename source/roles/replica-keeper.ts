import { sensorId, type AreaId, type SensorId } from '../model/ids.js';
import type { AreaLedger } from '../counting/area-ledger.js';
import type { RowProblem } from '../counting/row-checks.js';
import { rowCovers, type Row } from '../counting/row.js';
import type { MemberMessage, MemberRecord, WireRow } from '../protocol/messages.js';
import { rowFromWire } from '../protocol/wire-row.js';
import { verifyAssignment } from '../security/assignment-signature.js';
import { verifyRow } from '../security/row-signature.js';
import type { MemberCore } from './member/member-core.js';

/** What travels with a row a replica holds: its owner's signature, and the certificate of the key that made it. */
export interface RowProof {
	readonly wire: WireRow;
	readonly signer: MemberRecord;
}

type RowsMessage = Extract<MemberMessage, { type: 'rows' }>;
type RelayedRows = Extract<MemberMessage, { type: 'relayed-rows' }>;
type RowsQuery = Extract<MemberMessage, { type: 'rows-query' }>;

/** A replica's view of one sensor that sent it rows it holds back. */
export interface Flag {
	/** Rows held back, by why; counted once per version refused. */
	readonly held: Partial<Record<RowProblem, number>>;
	/** Since when a row of it has been held back (now: none). */
	readonly since: number | null;
}

/** What came of rows that arrived. */
export interface Received {
	/** A row counted: figures changed. */
	readonly changed: boolean;
	/** Owners whose rows were counted, per area (leases listen for their granter's). */
	readonly accepted: readonly (readonly [AreaId, SensorId])[];
}

/**
 * The replica duties sensor peers and observers share (design.md §7): rows from others
 * are offered to the ledgers, which count them only if their owner could have produced
 * them; an assignment in a row counts only with the tracker's signature; a row passed on
 * by a third party counts only with its owner's, made by a key the tracker certified for
 * it. Rows held back too long make the replica ask its neighbours for rows it may have
 * missed, and their owner is flagged, for the console, the observer's lines and the log.
 */
export class ReplicaKeeper {
	/**
	 * Assignments and certificates already checked good, keyed by everything that was
	 * signed as well as the signature: a signature copied onto other terms is checked,
	 * and fails.
	 */
	readonly #goodAssignments = new Set<string>();
	readonly #goodCertificates = new Set<string>();
	readonly #flags = new Map<SensorId, { held: Partial<Record<RowProblem, number>>; since: number | null; reported: boolean }>();
	#nextRelayAt = 0;

	constructor(
		readonly ledgers: ReadonlyMap<AreaId, AreaLedger<RowProof>>,
		readonly member: MemberCore,
		/** The sensor whose own rows these replicas hold (null for an observer): its rows are never offered, only restored. */
		readonly self: SensorId | null,
	) {}

	/** Rows from their owner, over its own authenticated link. */
	onRows(sender: MemberRecord, message: RowsMessage, now: number): Received {
		// A member may only speak for its own sensor: the rows of a datagram are the sender's.
		if (sender.role !== 'sensor' || sender.sensor === null) {
			this.member.traffic.countDrop('not-allowed');
			return { changed: false, accepted: [] };
		}
		const owner = sensorId(sender.sensor);
		let changed = false;
		const accepted: (readonly [AreaId, SensorId])[] = [];
		for (const wire of message.rows) {
			const outcome = this.#offer(wire.a as AreaId, owner, wire, sender, now, false);
			if (outcome === 'refused') continue;
			for (const [area, who] of outcome) {
				accepted.push([area, who]);
				changed = true;
			}
		}
		return { changed, accepted };
	}

	/**
	 * Rows of `message.owner` passed on by `sender`: believed only if the certificate is
	 * the tracker's for that sensor and every row is signed by its key. Our own rows come
	 * back to `restoreOwn` (after a crash, or when we find we came back behind).
	 */
	onRelayed(message: RelayedRows, now: number, restoreOwn: (area: AreaId, row: Row) => boolean): Received {
		const owner = sensorId(message.owner);
		const signer = message.signer;
		if (message.rows.length === 0) return { changed: false, accepted: [] };
		if (signer === null || signer.sensor !== message.owner || !this.#certified(signer)) {
			this.member.traffic.countDrop('bad-signature');
			return { changed: false, accepted: [] };
		}
		const signKey = Buffer.from(signer.signKey, 'base64');
		let changed = false;
		const accepted: (readonly [AreaId, SensorId])[] = [];
		for (const wire of message.rows) {
			const area = wire.a as AreaId;
			const ledger = this.ledgers.get(area);
			if (!ledger?.hasSensor(owner)) continue;
			const row = rowFromWire(wire);
			// Only a row that would tell us something is worth a signature check (~95 µs).
			if (rowCovers(ledger.row(owner), row)) continue;
			if (!verifyRow(signKey, owner, area, row, wire.s)) {
				this.member.traffic.countDrop('bad-signature');
				continue;
			}
			if (owner === this.self) {
				changed = restoreOwn(area, row) || changed;
				continue;
			}
			const outcome = this.#offer(area, owner, wire, signer, now, true, row);
			if (outcome === 'refused') continue;
			for (const pair of outcome) {
				accepted.push(pair);
				changed = true;
			}
		}
		return { changed, accepted };
	}

	/** Answers a rows query: the newest signed rows we hold of each sensor of the areas we share with the asker. */
	answerQuery(asker: MemberRecord, query: RowsQuery, ownSigner: MemberRecord | null): void {
		const wanted = query.owners === undefined ? null : new Set(query.owners);
		const byOwner = new Map<string, { owner: SensorId; signer: MemberRecord; rows: WireRow[] }>();
		for (const [area, ledger] of this.ledgers) {
			if (!this.#follows(asker, area)) continue;
			for (const owner of ledger.sensors) {
				if (wanted !== null && !wanted.has(owner)) continue;
				// The counted version (what others' rows may depend on) and any newer one held back.
				for (const proof of ledger.proofs(owner)) {
					const signer = owner === this.self && ownSigner ? ownSigner : proof.signer;
					const key = `${owner} ${signer.sig}`;
					const entry = byOwner.get(key) ?? { owner, signer, rows: [] };
					entry.rows.push(proof.wire);
					byOwner.set(key, entry);
				}
			}
		}
		const parts = [...byOwner];
		if (parts.length === 0) {
			// Nothing held: an empty answer still tells the asker we are done.
			this.member.send(asker.id, { type: 'relayed-rows', owner: asker.sensor ?? asker.id, signer: null, rows: [], part: [0, 1] });
			return;
		}
		parts.forEach(([, { owner, signer, rows }], index) => {
			this.member.send(asker.id, { type: 'relayed-rows', owner, signer, rows: rows.slice(0, 8), part: [index, parts.length] });
		});
		this.member.traffic.countUnicast();
	}

	/**
	 * Rows held back longer than `pendingRelayMs` make us ask two neighbours for the
	 * rows of every sensor of that area (a lost row of a sensor that is gone can only come
	 * from another replica), and flag their owner once.
	 */
	tick(now: number, neighbours: readonly string[]): void {
		const { pendingRelayMs } = this.member.config.timings;
		for (const ledger of this.ledgers.values()) for (const owner of ledger.recheck()) this.#release(owner, ledger);
		let stuck = false;
		for (const [owner, flag] of this.#flags) {
			if (flag.since === null || now - flag.since < pendingRelayMs) continue;
			stuck = true;
			if (!flag.reported) {
				flag.reported = true;
				this.member.out.event({ type: 'rows-held', sensor: owner, held: { ...flag.held }, forMs: Math.round(now - flag.since) });
			}
		}
		if (!stuck || now < this.#nextRelayAt || neighbours.length === 0) return;
		this.#nextRelayAt = now + pendingRelayMs;
		for (const id of neighbours.slice(0, 2)) this.member.send(id, { type: 'rows-query' });
	}

	/** Sensors whose rows are held back, and why. */
	flags(): ReadonlyMap<SensorId, Flag> {
		return this.#flags;
	}

	/** Offers one row; returns the owners counted as a result (with others it made checkable), or 'refused'. */
	#offer(area: AreaId, owner: SensorId, wire: WireRow, signer: MemberRecord, now: number, relayed: boolean, parsed?: Row): (readonly [AreaId, SensorId])[] | 'refused' {
		const ledger = this.ledgers.get(area);
		if (!ledger?.hasSensor(owner) || owner === this.self) {
			if (!relayed) this.member.traffic.countDrop('not-allowed');
			return 'refused';
		}
		const row = parsed ?? rowFromWire(wire);
		if (row.assignment !== null && !this.#authentic(area, owner, row)) {
			this.member.traffic.countDrop('bad-signature');
			this.#hold(owner, 'outflow-beyond-lease', now);
			return 'refused';
		}
		const outcome = ledger.offer(owner, row, { wire, signer });
		if (outcome.kind === 'stale') return [];
		if (outcome.kind === 'pending') this.#hold(owner, outcome.problem, now);
		// Counted: this version, or an older honest one while a newer waits (then it stays flagged).
		else if (ledger.pending(owner) !== undefined) this.#hold(owner, ledger.pending(owner)!.problem, now);
		const counted: (readonly [AreaId, SensorId])[] = outcome.kind === 'accepted' ? [[area, owner]] : [];
		for (const other of outcome.alsoAccepted) counted.push([area, other]);
		for (const [, who] of counted) this.#release(who, ledger);
		return counted;
	}

	/** Assignments are the tracker's: its signature, checked once per assignment. */
	#authentic(area: AreaId, holder: SensorId, row: Row): boolean {
		const assignment = row.assignment!;
		const key = JSON.stringify([area, holder, assignment]);
		if (this.#goodAssignments.has(key)) return true;
		const good = this.member.trackerSignKeys.some((trackerKey) => verifyAssignment(trackerKey, area, holder, assignment));
		if (good) this.#goodAssignments.add(key);
		return good;
	}

	#certified(record: MemberRecord): boolean {
		const key = JSON.stringify(record);
		if (this.#goodCertificates.has(key)) return true;
		const good = this.member.certifies(record);
		if (good) this.#goodCertificates.add(key);
		return good;
	}

	#hold(owner: SensorId, problem: RowProblem, now: number): void {
		const flag = this.#flags.get(owner) ?? { held: {}, since: null, reported: false };
		flag.held[problem] = (flag.held[problem] ?? 0) + 1;
		flag.since ??= now;
		this.#flags.set(owner, flag);
	}

	/** A row of `owner` was counted: unless another of its rows still waits somewhere, it is no longer held back. */
	#release(owner: SensorId, ledger: AreaLedger<RowProof>): void {
		const flag = this.#flags.get(owner);
		if (!flag || ledger.pending(owner) !== undefined) return;
		for (const other of this.ledgers.values()) if (other.pending(owner) !== undefined) return;
		flag.since = null;
		flag.reported = false;
	}

	#follows(member: MemberRecord, area: AreaId): boolean {
		if (member.role === 'observer') return member.areas === null || member.areas.includes(area);
		return member.sensor !== null && (this.ledgers.get(area)?.hasSensor(sensorId(member.sensor)) ?? false);
	}
}
