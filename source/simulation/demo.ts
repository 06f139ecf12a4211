import type { AreaId, SensorId } from '../model/ids.js';
import type { Mall } from '../model/mall.js';
import { DEFAULT_TIMINGS, type Timings } from '../network/config.js';
import { systemClock, wait, type Clock } from '../runtime/clock.js';
import type { Transport } from '../network/transport.js';
import type { EventSink, RoleEvent } from '../roles/events.js';
import type { Observer } from '../roles/observer/observer.js';
import type { SensorPeer } from '../roles/sensor/sensor-peer.js';
import type { Tracker } from '../roles/tracker/tracker.js';
import { seededRandom } from '../runtime/random.js';
import { Crowd, type PlannedMove } from './crowd.js';
import { DemoCluster } from './demo-cluster.js';
import { LatencyRecorder } from './latency.js';
import { converged, datagrams, summarize, type DemoSummary } from './demo-summary.js';

export type { DemoSummary } from './demo-summary.js';

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

/**
 * A whole mall on this machine: the network (demo-cluster.ts), shoppers planned by the
 * crowd, which also knows the truth (crowd.ts), traffic at a steady rate, and the summary
 * (demo-summary.ts). The console's keys act on the cluster through here.
 */
export class Demo {
	readonly crowd: Crowd;
	readonly cluster: DemoCluster;
	#inFlight = 0;
	tried = 0;
	admitted = 0;
	refused = 0;
	/** Refusals by reason: full is the network working; no-permit and cut-off are its limits showing. */
	readonly refusedBy: Record<string, number> = {};
	/** From a move handed to its door to the door's answer. */
	readonly latency = new LatencyRecorder();
	paused = false;
	rate: number;
	#endTraffic: (() => void) | null = null;

	constructor(readonly options: DemoOptions) {
		const random = seededRandom(options.seed);
		this.crowd = new Crowd(options.mall, () => random.fraction());
		this.rate = options.rate;
		this.cluster = new DemoCluster({ mall: options.mall, passwords: options.passwords, bind: options.bind, events: options.events, clock: this.clock, timings: this.timings });
	}

	get clock(): Clock {
		return this.options.clock ?? systemClock;
	}

	get timings(): Timings {
		return this.options.timings ?? DEMO_TIMINGS;
	}

	// The network, as the console and the CLI read it.
	get peers(): ReadonlyMap<string, SensorPeer> {
		return this.cluster.peers;
	}

	get tracker(): Tracker {
		return this.cluster.tracker;
	}

	get observer(): Observer {
		return this.cluster.observer;
	}

	get down(): ReadonlySet<string> {
		return this.cluster.down;
	}

	get log(): readonly string[] {
		return this.cluster.log;
	}

	get peerLogs(): ReadonlyMap<string, readonly string[]> {
		return this.cluster.peerLogs;
	}

	get recoveries(): readonly RoleEvent[] {
		return this.cluster.recoveries;
	}

	/** Starts the tracker, every sensor of the mall and one observer, all joined. */
	start(): Promise<void> {
		return this.cluster.start();
	}

	kill(sensor: string): Promise<boolean> {
		return this.cluster.kill(sensor);
	}

	restart(sensor: string): Promise<boolean> {
		return this.cluster.restart(sensor);
	}

	togglePartition(sensor: string): boolean {
		return this.cluster.togglePartition(sensor);
	}

	cycleLoss(): number {
		return this.cluster.cycleLoss();
	}

	/** Injects one move at a sensor, as if a person passed it (counted in the truth only if it fits the crowd). */
	inject(sensor: string, direction: 'enter' | 'exit'): Promise<string> {
		const peer = this.peers.get(sensor);
		if (!peer) return Promise.resolve('no such sensor');
		// An injected person is counted in the truth (areas' figures) but not walked about by the crowd.
		const move: PlannedMove = { person: null, kind: 'visitor', sensor: sensor as SensorId, direction, to: null };
		return peer.move(direction, 'visitor').then((answer) => {
			// The truth follows: the simulator sees every decision, injected ones too (not
			// counted as false refusals: an injected exit may have nobody inside to walk out).
			this.#settle(move, answer.admitted, answer.admitted ? null : (answer.area as AreaId | null), null);
			this.cluster.remember({ ...answer, peer: sensor, injected: true });
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
		const agreed = await this.#drain();
		return this.summary(trafficMs, agreed, this.clock.now() - drainStarted);
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
		const started = this.clock.now();
		void peer.move(move.direction, move.kind).then((answer) => {
			this.#inFlight--;
			this.latency.record(this.clock.now() - started);
			if (answer.admitted) {
				this.admitted++;
				this.#settle(move, true, null, null);
			} else {
				this.refused++;
				this.refusedBy[answer.reason] = (this.refusedBy[answer.reason] ?? 0) + 1;
				this.#settle(move, false, answer.area as AreaId | null, answer.reason);
			}
		});
	}

	#settle(move: PlannedMove, admitted: boolean, area: AreaId | null, reason: string | null): void {
		const violated = this.crowd.settle(move, admitted, area, reason);
		if (violated !== null) this.options.events({ type: 'violation', sensor: move.sensor, area: violated, message: `${violated} went over capacity` });
	}

	async #settled(): Promise<void> {
		while (this.#inFlight > 0) await wait(this.clock, 5);
	}

	/** True once the observer and every sensor agree exactly with the truth. */
	converged(): boolean {
		return converged(this.cluster, this.crowd);
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
		return datagrams(this.cluster);
	}

	summary(trafficMs: number, agreed: boolean, drainMs: number): DemoSummary {
		return summarize(this.cluster, this.crowd, { tried: this.tried, admitted: this.admitted, refused: this.refused, refusedBy: this.refusedBy, latency: this.latency.summary() }, trafficMs, agreed, drainMs);
	}

	close(): Promise<void> {
		return this.cluster.close();
	}
}
