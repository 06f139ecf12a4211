import { DEFAULT_TIMINGS, type Timings } from '../../source/network/config.js';
import { systemClock } from '../../source/runtime/clock.js';
import { MemoryNetwork, type Faults } from '../../source/network/memory-network.js';
import { ControlledTransport } from '../../source/network/controlled-transport.js';
import type { Mall } from '../../source/model/mall.js';
import { generateIdentity } from '../../source/security/keys.js';
import { Observer } from '../../source/roles/observer.js';
import { SensorPeer } from '../../source/roles/sensor-peer.js';
import { Tracker } from '../../source/roles/tracker.js';
import type { EventSink } from '../../source/roles/events.js';
import type { PeerJournal, Restored } from '../../source/recovery/peer-journal.js';
import { systemRandom } from '../../source/runtime/random.js';

/** Shorter than the defaults so that tests converge fast; the mechanisms are the same. */
export const TEST_TIMINGS: Timings = {
	...DEFAULT_TIMINGS,
	antiEntropyMs: 200,
	directoryPullMs: 300,
	joinTimeoutMs: 8000,
	handshakeRetryMs: 100,
	documentRetryMs: 50,
	ownRowsWaitMs: 300,
	trackerSilenceMs: 2000,
	liveness: { probeAfterMs: 500, indirectAfterMs: 600, suspectAfterMs: 700, deadAfterMs: 1200 },
};

/** A tracker on an in-memory network with faults, and helpers to add members to it. */
export class MemoryCluster {
	readonly network: MemoryNetwork;
	tracker: Tracker;
	readonly closers: (() => Promise<void>)[] = [];
	/** Each peer's transport, to cut it off from everyone (a partition) and heal it. */
	readonly cables = new Map<SensorPeer, ControlledTransport>();

	constructor(readonly mall: Mall, readonly passwords: ReadonlyMap<string, string>, faults?: Faults, seed = 1) {
		this.network = new MemoryNetwork(faults, seed);
		this.tracker = new Tracker({ mall, transport: this.network.bind(), clock: systemClock, events: () => {} });
		this.closers.push(() => this.tracker.close());
	}

	async peer(
		user: string,
		overrides: { password?: string; sensor?: string | null; journal?: PeerJournal | null; restored?: Restored | null; events?: EventSink; lastIncarnation?: number } = {},
	): Promise<SensorPeer> {
		const transport = new ControlledTransport(this.network.bind());
		const peer = await SensorPeer.start({
			journal: overrides.journal ?? null,
			restored: overrides.restored ?? null,
			transport,
			clock: systemClock,
			timings: TEST_TIMINGS,
			tracker: this.tracker.address,
			user,
			password: overrides.password ?? this.passwords.get(user) ?? '',
			sensor: overrides.sensor ?? null,
			identity: generateIdentity(systemRandom),
			lastIncarnation: overrides.lastIncarnation ?? 0,
			events: overrides.events ?? (() => {}),
		});
		this.closers.push(() => peer.close());
		this.cables.set(peer, transport);
		return peer;
	}

	/** Cuts `peer` off from every other member and the tracker, or heals it. */
	partition(peer: SensorPeer, cut: boolean): void {
		this.cables.get(peer)!.partitioned = cut;
	}

	async observer(user = 'ops', areas: string[] | null = null): Promise<Observer> {
		const observer = await Observer.start({
			transport: this.network.bind(),
			clock: systemClock,
			timings: TEST_TIMINGS,
			tracker: this.tracker.address,
			user,
			password: this.passwords.get(user) ?? '',
			areas,
			identity: generateIdentity(systemRandom),
			lastIncarnation: 0,
			events: () => {},
		});
		this.closers.push(() => observer.close());
		return observer;
	}

	/** Kills the tracker and starts a new one at the same address with the same keys: a new epoch. */
	async restartTracker(): Promise<Tracker> {
		const { address, identity } = this.tracker;
		const granters = this.tracker.granters.toJSON(); // as its data directory would keep them
		await this.tracker.close();
		this.tracker = new Tracker({ mall: this.mall, transport: this.network.bind(address.port), clock: systemClock, events: () => {}, identity, granters });
		this.closers.push(() => this.tracker.close());
		return this.tracker;
	}

	async close(): Promise<void> {
		for (const close of this.closers.reverse()) await close();
	}
}

/** Resolves once `condition` holds, checking every few milliseconds; rejects after `ms`. */
export async function eventually(condition: () => boolean, ms = 5000, what = 'condition'): Promise<void> {
	const deadline = Date.now() + ms;
	while (!condition()) {
		if (Date.now() > deadline) throw new Error(`${what} did not hold within ${ms} ms`);
		await new Promise((resolve) => setTimeout(resolve, 10));
	}
}
