import type { SensorId } from '../model/ids.js';
import type { MemberCore } from '../roles/member/member-core.js';
import type { ReplicaKeeper } from '../roles/replica-keeper.js';
import type { SensorPeer } from '../roles/sensor/sensor-peer.js';
import type { Tracker } from '../roles/tracker/tracker.js';
import type { RoleEvent } from '../roles/events.js';
import type { Observer } from '../roles/observer/observer.js';
import { EventRows, finite, flagOf, reclaimRows, recoveryRows, type AreaRow, type ConsoleData, type PeerRow, type ReclaimRow, type RecoveryRow } from './console-data.js';
import type { ConsoleSource } from './run-console.js';
import type { DemoCommand } from './components/ConsoleApp.js';
import { RateHistory, savedFigures } from './rate-history.js';
import { OccupancyHistory } from './occupancy-history.js';

/** Keeps a role's events as log lines for the console (headless, they are printed instead). */
export class EventLog {
	readonly lines: string[] = [];
	/** The last thousand events. */
	readonly events: RoleEvent[] = [];
	/** How many events ever arrived: what the console's derived rows are kept against. */
	count = 0;
	readonly sink = (event: RoleEvent): void => {
		this.count++;
		this.events.push(event);
		if (this.events.length > 1000) this.events.shift();
		this.lines.push(`${new Date().toISOString().slice(11, 23)} ${JSON.stringify(event)}`);
		if (this.lines.length > 500) this.lines.shift();
	};
}

/** A sensor's own view of its areas: occupancy as it knows it, its permits and its lease. */
export function ownAreaRows(peer: SensorPeer): AreaRow[] {
	return [...peer.counter.areas].map((id) => {
		const ledger = peer.counter.ledger(id)!;
		const area = peer.node.layout.areas.get(id)!;
		return { id, kind: area.kind, name: area.name, parent: area.parent, capacity: ledger.capacity, occupancy: ledger.occupancy(), staff: ledger.staff(), refused: ledger.refused(), permits: peer.counter.permits(id), lease: finite(peer.counter.budget(id)) };
	});
}

/** What an observer holds of every area it follows, as rows. */
export function observerAreaRows(observer: Observer): AreaRow[] {
	return Object.entries(observer.areas()).map(([id, area]) => ({ id, ...area }));
}

/** Every member a node knows, with its failure detector's view of each. */
function membersOf(node: MemberCore, now: number, traffic?: (id: string) => { in: number; out: number }, flags?: ReplicaKeeper | null): PeerRow[] {
	return [...node.directory.members()].map((member) => {
		const heard = node.liveness.lastHeard(member.id);
		const counts = traffic?.(member.id);
		const flag = member.sensor === null ? undefined : flags?.flags().get(member.sensor as SensorId);
		const flagged = flag?.since === null ? undefined : flagOf(flag?.held);
		return {
			...(flagged === undefined ? {} : { flagged }),
			id: member.id,
			role: member.role,
			area: member.sensor === null ? (member.areas === null ? 'all areas' : member.areas.join(',')) : (node.layout.sensors.get(member.sensor as never)?.areas.join(',') ?? ''),
			address: `${member.host}:${member.port}`,
			status: member.id === node.self.id ? 'alive' : (node.liveness.health(member.id) ?? 'alive'),
			incarnation: member.incarnation,
			lastHeardMs: heard === undefined ? null : Math.round(now - heard),
			datagramsIn: counts?.in ?? 0,
			datagramsOut: counts?.out ?? 0,
		};
	});
}

/** Restarts seen from outside: a member whose incarnation went up. */
class RestartWatch {
	readonly #seen = new Map<string, number>();
	readonly rows: RecoveryRow[] = [];

	update(node: MemberCore): void {
		for (const member of node.directory.members()) {
			const before = this.#seen.get(member.id);
			if (before !== undefined && member.incarnation > before) {
				this.rows.push({ peer: member.id, incarnation: member.incarnation, replayed: null, ms: null, fetched: null, tornTail: false });
			}
			this.#seen.set(member.id, member.incarnation);
		}
	}
}

function header(role: string, node: MemberCore, started: number, now: number, identity = node.self.id): ConsoleData['header'] {
	return { role, identity, mall: node.layout.name, epoch: node.welcome.epoch, trackerUp: now - node.lastFromTracker < node.config.timings.trackerSilenceMs, uptimeMs: now - started };
}

/** The observer's console: the whole mall it follows. */
export class ObserverData implements ConsoleSource {
	readonly #history = new RateHistory();
	readonly #occupancy = new OccupancyHistory();
	readonly #restarts = new RestartWatch();
	readonly #started = performance.now();

	constructor(readonly observer: Observer, readonly log: EventLog) {}

	read(): ConsoleData {
		const now = performance.now();
		const node = this.observer.node;
		const datagrams = this.observer.datagrams();
		this.#restarts.update(node);
		return {
			header: header('observer', node, this.#started, now),
			areas: this.#occupancy.sample(observerAreaRows(this.observer), now),
			peers: membersOf(node, now, undefined, this.observer.core.replicas),
			saved: savedFigures(datagrams, this.#history, now),
			recoveries: this.#restarts.rows,
			reclaims: this.#reclaims(),
			logs: this.log.lines,
			simulation: null,
		};
	}

	/** What granters took back, as the rows say: every replica sees the same. */
	#reclaims(): ReclaimRow[] {
		const rows: ReclaimRow[] = [];
		for (const area of this.observer.node.layout.areas.keys()) {
			for (const [by, row] of this.observer.ledger(area)?.rows() ?? []) {
				for (const [from, permits] of row.taken) rows.push({ by, from, area, permits });
			}
		}
		return rows;
	}
}

/** A sensor's own console: its gate, its areas with its permits, its neighbours. */
export class PeerData implements ConsoleSource {
	readonly #history = new RateHistory();
	readonly #recoveries = new EventRows(recoveryRows);
	readonly #reclaims = new EventRows(reclaimRows);
	readonly #restarts = new RestartWatch();
	readonly #started = performance.now();

	constructor(readonly peer: SensorPeer, readonly log: EventLog) {}

	/** On a peer's own console, e and x move a person through this sensor; nothing else applies. */
	async perform(command: DemoCommand): Promise<string> {
		if (command.type !== 'inject') return 'only e and x act on a peer console; the demo has the rest';
		const answer = await this.peer.move(command.direction, 'visitor');
		this.log.sink(answer);
		return answer.admitted ? `${command.direction}: admitted` : `${command.direction}: refused, ${answer.detail}`;
	}

	read(): ConsoleData {
		const now = performance.now();
		const { peer } = this;
		const node = peer.node;
		const traffic = node.traffic;
		this.#restarts.update(node);
		const last = peer.lastAnswer;
		const gate = last === null ? 'gate idle' : last.admitted ? 'gate GREEN' : `gate RED (${last.reason})`;
		return {
			header: header('peer', node, this.#started, now, `${peer.sensor} · ${gate}`),
			areas: ownAreaRows(peer),
			peers: membersOf(node, now, (id) => ({ in: 0, out: node.link.sentTo.get(id) ?? 0 }), peer.core.replicas),
			saved: savedFigures(traffic, this.#history, now),
			recoveries: [...this.#recoveries.read(this.log.events, this.log.count), ...this.#restarts.rows],
			reclaims: this.#reclaims.read(this.log.events, this.log.count),
			logs: this.log.lines,
			simulation: null,
		};
	}
}

/** The tracker's console: members, logins and refusals, epochs. It counts nothing itself. */
export class TrackerData implements ConsoleSource {
	readonly #started = performance.now();
	readonly #reclaims = new EventRows(reclaimRows);
	/** Restarts as the tracker sees them: a member logging in with an incarnation past its first. */
	readonly #recoveries = new EventRows<RecoveryRow>((events) =>
		events
			.filter((event) => event.type === 'member-joined' && Number(event['incarnation']) > 1)
			.map((event) => ({ peer: String(event['id']), incarnation: Number(event['incarnation']), replayed: null, ms: null, fetched: null, tornTail: false })),
	);

	constructor(readonly tracker: Tracker, readonly log: EventLog, readonly mallName: string) {}

	/** On the tracker's console, R (twice) revokes the selected account; the demo's keys do nothing here. */
	async perform(command: DemoCommand): Promise<string> {
		if (command.type !== 'revoke') return 'the tracker counts nothing: only R (revoke) acts here';
		const result = this.tracker.revoke(command.account);
		this.log.sink({ type: 'revoke', user: command.account, ...result });
		return result.message;
	}

	read(): ConsoleData {
		const now = performance.now();
		const { tracker } = this;
		return {
			header: { role: 'tracker', identity: `${tracker.logins} logins · ${tracker.refusals} refused`, mall: this.mallName, epoch: tracker.epoch, trackerUp: true, uptimeMs: now - this.#started },
			areas: [],
			peers: tracker.book.members().map((member) => {
				const heard = tracker.lastHeard(member.id);
				return {
					id: member.id,
					role: member.role,
					area: member.sensor ?? 'observer',
					address: `${member.host}:${member.port}`,
					status: heard !== undefined && now - heard > 10_000 ? 'suspect' : 'alive',
					incarnation: member.incarnation,
					lastHeardMs: heard === undefined ? null : Math.round(now - heard),
					datagramsIn: 0,
					datagramsOut: tracker.link.sentTo.get(member.id) ?? 0,
				};
			}),
			saved: { sent: 0, flood: 0, saved: 0, percent: 0, history: [] },
			reclaims: this.#reclaims.read(this.log.events, this.log.count),
			recoveries: this.#recoveries.read(this.log.events, this.log.count),
			logs: this.log.lines,
			simulation: null,
		};
	}
}
