import type { AreaId } from '../model/ids.js';
import type { Mall } from '../model/mall.js';
import { DEFAULT_TIMINGS, type Timings } from '../network/config.js';
import { systemClock, wait, type Clock } from '../runtime/clock.js';
import type { Transport } from '../network/transport.js';
import type { Address } from '../network/address.js';
import { generateIdentity } from '../security/keys.js';
import type { EventSink } from '../roles/events.js';
import { Observer } from '../roles/observer/observer.js';
import { SensorPeer } from '../roles/sensor/sensor-peer.js';
import { Tracker } from '../roles/tracker/tracker.js';
import { Crowd, type PlannedMove } from './crowd.js';
import { ControlledTransport } from '../network/controlled-transport.js';
import type { RoleEvent } from '../roles/events.js';
import type { SensorId } from '../model/ids.js';
import { seededRandom, systemRandom } from '../runtime/random.js';

export interface DemoOptions {
	readonly mall: Mall;
	readonly passwords: ReadonlyMap<string, string>;
	/** Moves tried per second. */
	readonly rate: number;
	readonly durationMs: number;
	readonly seed: number;
	/** Binds one transport per member: UDP on loopback for the real demo, memory in tests. */
	readonly bind: () => Promise<Transport>;
	readonly events: EventSink;
	readonly clock?: Clock;
	readonly timings?: Timings;
	/** How long to wait for every replica to agree after traffic stops. */
	readonly drainMs?: number;
}

/** The summary a demo ends with: its last JSON line. */
export interface DemoSummary {
	readonly type: 'summary';
	readonly areas: Record<string, { capacity: number; occupancy: number; staff: number; peak: number; admitted: number; refused: number }>;
	readonly violations: number;
	readonly converged: boolean;
	readonly datagrams: { sent: number; flood: number; saved: number; savedPercent: number; dropped: Record<string, number> };
	readonly moves: { tried: number; admitted: number; refused: number; refusedBy: Record<string, number>; perSecond: number };
	readonly peers: number;
	readonly drainMs: number;
}

/** Moves in flight at once: enough to keep every sensor busy, few enough to stay plausible. */
const MAX_IN_FLIGHT = 256;
/** The generator's tick: moves due in each tick are started together. */
const TICK_MS = 10;
const DEFAULT_DRAIN_MS = 8000;
/**
 * In the demo every member of the mall logs in at the same moment on one machine (160
 * scrypt checks for the large mall), so joining gets longer than a lone peer's default.
 */
const DEMO_TIMINGS: Timings = { ...DEFAULT_TIMINGS, joinTimeoutMs: 60_000 };

export class Demo {
	readonly crowd: Crowd;
	readonly peers = new Map<string, SensorPeer>();
	tracker!: Tracker;
	observer!: Observer;
	#inFlight = 0;
	tried = 0;
	admitted = 0;
	refused = 0;
	/** Refusals by reason: full is the network working; no-permit and cut-off are its limits showing. */
	readonly refusedBy: Record<string, number> = {};
	paused = false;
	rate: number;
	/** Sensors killed by the operator and not restarted yet. */
	readonly down = new Set<string>();
	readonly transports = new Map<string, ControlledTransport>();
	/** Loss applied to every member's transport, 0 to 1. */
	loss = 0;
	/** The network's events and each peer's own, for the console's log panes. */
	readonly log: string[] = [];
	readonly peerLogs = new Map<string, string[]>();
	readonly recoveries: RoleEvent[] = [];
	#endTraffic: (() => void) | null = null;

	constructor(readonly options: DemoOptions) {
		this.crowd = new Crowd(options.mall, ((random) => () => random.fraction())(seededRandom(options.seed)));
		this.rate = options.rate;
	}

	get clock(): Clock {
		return this.options.clock ?? systemClock;
	}

	get timings(): Timings {
		return this.options.timings ?? DEMO_TIMINGS;
	}

	/** Starts the tracker, every sensor of the mall and one observer, all joined. */
	async start(): Promise<void> {
		const { mall, passwords, events } = this.options;
		this.tracker = new Tracker({
			mall,
			transport: await this.options.bind(),
			clock: this.clock,
			events: (event) => {
				this.#remember(this.log, event);
				events(event);
			},
		});
		const trackerAddress: Address = this.tracker.address;
		const password = (user: string): string => {
			const value = passwords.get(user);
			if (value === undefined) throw new Error(`no password for account "${user}" in the passwords file`);
			return value;
		};
		this.#password = password;
		await Promise.all([...mall.sensors.keys()].map((sensor) => this.#startPeer(sensor, 0)));
		const observerAccount = [...mall.accounts.values()].find((account) => account.role === 'observer');
		if (!observerAccount) throw new Error('the fixture has no observer account');
		this.observer = await Observer.start({
			transport: await this.options.bind(),
			clock: this.clock,
			timings: this.timings,
			tracker: trackerAddress,
			user: observerAccount.user,
			password: password(observerAccount.user),
			areas: null,
			identity: generateIdentity(systemRandom),
			lastIncarnation: 0,
			events: () => {},
		});
	}

	#password: (user: string) => string = () => '';

	async #startPeer(sensor: SensorId, lastIncarnation: number): Promise<SensorPeer> {
		const account = [...this.options.mall.accounts.values()].find((candidate) => candidate.sensor === sensor);
		if (!account) throw new Error(`sensor "${sensor}" has no account in the fixture`);
		const transport = new ControlledTransport(await this.options.bind());
		transport.loss = this.loss;
		this.transports.set(sensor, transport);
		const lines = this.peerLogs.get(sensor) ?? [];
		this.peerLogs.set(sensor, lines);
		const peer = await SensorPeer.start({
			transport,
			clock: this.clock,
			timings: this.timings,
			tracker: this.tracker.address,
			user: account.user,
			password: this.#password(account.user),
			sensor,
			identity: generateIdentity(systemRandom),
			lastIncarnation,
			events: (event) => {
				this.#remember(lines, event);
				if (event.type === 'recovery' || event.type === 'reclaim') this.recoveries.push(event);
				if (event.type === 'recovery' || event.type === 'liveness' || event.type === 'reclaim' || event.type === 'granter') this.#remember(this.log, { ...event, peer: sensor });
			},
		});
		this.peers.set(sensor, peer);
		this.down.delete(sensor);
		return peer;
	}

	#remember(lines: string[], event: RoleEvent): void {
		lines.push(`${new Date().toISOString().slice(11, 23)} ${JSON.stringify(event)}`);
		if (lines.length > 500) lines.splice(0, lines.length - 500);
	}

	/** Stops a sensor as abruptly as kill -9: no goodbye, in-flight moves refused. */
	async kill(sensor: string): Promise<boolean> {
		const peer = this.peers.get(sensor);
		if (!peer || this.down.has(sensor)) return false;
		this.down.add(sensor);
		this.#remember(this.log, { type: 'killed', peer: sensor });
		await peer.crash();
		return true;
	}

	/** Starts a killed sensor again: the same identity, the next incarnation, its counts from its replicas. */
	async restart(sensor: string): Promise<boolean> {
		const peer = this.peers.get(sensor);
		if (!peer || !this.down.has(sensor)) return false;
		this.#remember(this.log, { type: 'restarting', peer: sensor });
		await this.#startPeer(peer.sensor, peer.incarnation);
		return true;
	}

	/** Cuts a sensor off from everyone, or joins it back. */
	togglePartition(sensor: string): boolean {
		const transport = this.transports.get(sensor);
		if (!transport) return false;
		transport.partitioned = !transport.partitioned;
		this.#remember(this.log, { type: transport.partitioned ? 'partitioned' : 'healed', peer: sensor });
		return transport.partitioned;
	}

	/** Packet loss on every sensor's link: 0, 10 %, 30 %, and round again. */
	cycleLoss(): number {
		this.loss = this.loss === 0 ? 0.1 : this.loss === 0.1 ? 0.3 : 0;
		for (const transport of this.transports.values()) transport.loss = this.loss;
		this.#remember(this.log, { type: 'loss', share: this.loss });
		return this.loss;
	}

	/** Injects one move at a sensor, as if a person passed it (counted in the truth only if it fits the crowd). */
	inject(sensor: string, direction: 'enter' | 'exit'): Promise<string> {
		const peer = this.peers.get(sensor);
		if (!peer) return Promise.resolve('no such sensor');
		// An injected person is counted in the truth (areas' figures) but not walked about by the crowd.
		const move: PlannedMove = { person: null, kind: 'visitor', sensor: sensor as SensorId, direction, to: null };
		return peer.move(direction, 'visitor').then((answer) => {
			// The truth follows: the simulator sees every decision, injected ones too.
			this.#settle(move, answer.admitted, answer.admitted ? null : (answer.area as AreaId | null));
			this.#remember(this.log, { ...answer, peer: sensor, injected: true });
			return answer.admitted ? 'admitted' : `refused: ${answer.reason}`;
		});
	}

	/** Runs traffic for `durationMs` (or until `stop()`), then waits for every replica to agree. */
	async run(): Promise<DemoSummary> {
		const started = this.clock.now();
		await new Promise<void>((resolve) => {
			let owed = 0;
			let last = started;
			const cancel = this.clock.setInterval(() => {
				const now = this.clock.now();
				// Owed by the time elapsed, not by ticks: a tick delayed by a redraw must not lose its moves.
				const elapsed = now - last;
				last = now;
				if (now - started >= this.options.durationMs) return this.stop();
				if (this.paused) return;
				owed += (this.rate * elapsed) / 1000;
				while (owed >= 1 && this.#inFlight < MAX_IN_FLIGHT) {
					owed--;
					this.step();
				}
				owed = Math.min(owed, this.rate); // do not bank more than a second of backlog
			}, TICK_MS);
			this.#endTraffic = () => {
				cancel();
				resolve();
			};
		});
		const trafficMs = this.clock.now() - started;
		await this.#settled();
		const drainStarted = this.clock.now();
		const converged = await this.#drain();
		return this.summary(trafficMs, converged, this.clock.now() - drainStarted);
	}

	/** Ends the traffic early; `run()` then drains and resolves with the summary. */
	stop(): void {
		this.#endTraffic?.();
		this.#endTraffic = null;
	}

	/** Plans one move and sends it to its sensor. */
	step(): void {
		const move = this.crowd.plan();
		if (!move) return;
		const peer = this.peers.get(move.sensor);
		if (!peer) {
			this.crowd.settle(move, false, null);
			return;
		}
		this.tried++;
		this.#inFlight++;
		void peer.move(move.direction, move.kind).then((answer) => {
			this.#inFlight--;
			if (answer.admitted) this.admitted++;
			else {
				this.refused++;
				this.refusedBy[answer.reason] = (this.refusedBy[answer.reason] ?? 0) + 1;
			}
			this.#settle(move, answer.admitted, answer.admitted ? null : (answer.area as AreaId | null));
		});
	}

	#settle(move: PlannedMove, admitted: boolean, area: AreaId | null): void {
		const violated = this.crowd.settle(move, admitted, area);
		if (violated !== null) this.options.events({ type: 'violation', sensor: move.sensor, area: violated, message: `${violated} went over capacity` });
	}

	async #settled(): Promise<void> {
		while (this.#inFlight > 0) await wait(this.clock, 5);
	}

	/** True once the observer and every sensor agree exactly with the truth. */
	converged(): boolean {
		for (const [sensor, peer] of this.peers) {
			if (this.down.has(sensor)) continue;
			for (const area of peer.counter.areas) {
				const ledger = peer.counter.ledger(area)!;
				const truth = this.crowd.truth.get(area)!;
				if (ledger.occupancy() !== truth.visitors || ledger.staff() !== truth.staff) return false;
			}
		}
		for (const [area, truth] of this.crowd.truth) {
			const ledger = this.observer.ledger(area);
			if (!ledger || ledger.occupancy() !== truth.visitors || ledger.staff() !== truth.staff) return false;
		}
		return true;
	}

	async #drain(): Promise<boolean> {
		const deadline = this.clock.now() + (this.options.drainMs ?? DEFAULT_DRAIN_MS);
		while (!this.converged()) {
			if (this.clock.now() > deadline) return false;
			await wait(this.clock, 20);
		}
		return true;
	}

	datagrams(): DemoSummary['datagrams'] {
		let sent = 0;
		let flood = 0;
		const dropped: Record<string, number> = {};
		const members = [...[...this.peers.values()].map((peer) => peer.node.traffic), this.observer.node.traffic];
		for (const traffic of members) {
			sent += traffic.sent;
			flood += traffic.flood;
			for (const [reason, count] of traffic.dropped) dropped[reason] = (dropped[reason] ?? 0) + count;
		}
		for (const [reason, count] of this.tracker.link.traffic.dropped) dropped[reason] = (dropped[reason] ?? 0) + count;
		const saved = flood - sent;
		return { sent, flood, saved, savedPercent: flood === 0 ? 0 : Math.round((1000 * saved) / flood) / 10, dropped };
	}

	summary(trafficMs: number, converged: boolean, drainMs: number): DemoSummary {
		const areas: DemoSummary['areas'] = {};
		for (const [id, truth] of this.crowd.truth) {
			areas[id] = {
				capacity: this.options.mall.areas.get(id)!.capacity,
				occupancy: truth.visitors,
				staff: truth.staff,
				peak: truth.peak,
				admitted: truth.admitted,
				refused: truth.refused,
			};
		}
		return {
			type: 'summary',
			areas,
			violations: this.crowd.violations,
			converged,
			datagrams: this.datagrams(),
			moves: { tried: this.tried, admitted: this.admitted, refused: this.refused, refusedBy: { ...this.refusedBy }, perSecond: Math.round((this.tried * 1000) / Math.max(1, trafficMs)) },
			peers: this.peers.size,
			drainMs: Math.round(drainMs),
		};
	}

	async close(): Promise<void> {
		await Promise.all([...this.peers].map(([sensor, peer]) => (this.down.has(sensor) ? Promise.resolve() : peer.close())));
		await this.observer?.close();
		await this.tracker?.close();
	}
}
