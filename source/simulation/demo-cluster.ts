import type { Mall } from '../model/mall.js';
import type { SensorId } from '../model/ids.js';
import type { Timings } from '../network/config.js';
import type { Clock } from '../runtime/clock.js';
import type { Transport } from '../network/transport.js';
import { ControlledTransport } from '../network/controlled-transport.js';
import { generateIdentity } from '../security/keys.js';
import { systemRandom } from '../runtime/random.js';
import type { EventSink, RoleEvent } from '../roles/events.js';
import { Observer } from '../roles/observer/observer.js';
import { SensorPeer } from '../roles/sensor/sensor-peer.js';
import { Tracker } from '../roles/tracker/tracker.js';

export interface ClusterOptions {
	readonly mall: Mall;
	readonly passwords: ReadonlyMap<string, string>;
	/** Binds one transport per member: UDP on loopback for the real demo, memory in tests. */
	readonly bind: () => Promise<Transport>;
	readonly events: EventSink;
	readonly clock: Clock;
	readonly timings: Timings;
}

/** Lines kept per log pane. */
const LOG_LINES = 500;

/**
 * The demo's network: a tracker, every sensor of the mall as its own peer with its own
 * socket, and one observer, in this process — and what the operator's keys do to it:
 * kill a peer as kill -9 would, restart it, cut it off, make every link lossy. It keeps
 * the logs the console's panes show.
 */
export class DemoCluster {
	readonly peers = new Map<string, SensorPeer>();
	tracker!: Tracker;
	observer!: Observer;
	/** Sensors killed by the operator and not restarted yet. */
	readonly down = new Set<string>();
	readonly transports = new Map<string, ControlledTransport>();
	/** Loss applied to every member's transport, 0 to 1. */
	loss = 0;
	/** The network's events and each peer's own, for the console's log panes. */
	readonly log: string[] = [];
	readonly peerLogs = new Map<string, string[]>();
	readonly recoveries: RoleEvent[] = [];

	constructor(readonly options: ClusterOptions) {}

	/** Starts the tracker, every sensor of the mall and one observer, all joined. */
	async start(): Promise<void> {
		const { mall, events, clock, timings } = this.options;
		this.tracker = new Tracker({
			mall,
			transport: await this.options.bind(),
			clock,
			events: (event) => {
				this.#remember(this.log, event);
				events(event);
			},
		});
		await Promise.all([...mall.sensors.keys()].map((sensor) => this.#startPeer(sensor, 0)));
		const observerAccount = [...mall.accounts.values()].find((account) => account.role === 'observer');
		if (!observerAccount) throw new Error('the fixture has no observer account');
		this.observer = await Observer.start({
			transport: await this.options.bind(),
			clock,
			timings,
			tracker: this.tracker.address,
			user: observerAccount.user,
			password: this.#password(observerAccount.user),
			areas: null,
			identity: generateIdentity(systemRandom),
			lastIncarnation: 0,
			events: () => {},
		});
	}

	#password(user: string): string {
		const value = this.options.passwords.get(user);
		if (value === undefined) throw new Error(`no password for account "${user}" in the passwords file`);
		return value;
	}

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
			clock: this.options.clock,
			timings: this.options.timings,
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

	remember(event: RoleEvent): void {
		this.#remember(this.log, event);
	}

	#remember(lines: string[], event: RoleEvent): void {
		lines.push(`${new Date().toISOString().slice(11, 23)} ${JSON.stringify(event)}`);
		if (lines.length > LOG_LINES) lines.splice(0, lines.length - LOG_LINES);
	}

	/** Stops a sensor as abruptly as kill -9: no goodbye, in-flight moves refused. */
	async kill(sensor: string): Promise<boolean> {
		const peer = this.peers.get(sensor);
		if (!peer || this.down.has(sensor)) return false;
		this.down.add(sensor);
		this.remember({ type: 'killed', peer: sensor });
		await peer.crash();
		return true;
	}

	/** Starts a killed sensor again: the same identity, the next incarnation, its counts from its replicas. */
	async restart(sensor: string): Promise<boolean> {
		const peer = this.peers.get(sensor);
		if (!peer || !this.down.has(sensor)) return false;
		this.remember({ type: 'restarting', peer: sensor });
		await this.#startPeer(peer.sensor, peer.incarnation);
		return true;
	}

	/** Cuts a sensor off from everyone, or joins it back. */
	togglePartition(sensor: string): boolean {
		const transport = this.transports.get(sensor);
		if (!transport) return false;
		transport.partitioned = !transport.partitioned;
		this.remember({ type: transport.partitioned ? 'partitioned' : 'healed', peer: sensor });
		return transport.partitioned;
	}

	/** Packet loss on every sensor's link: 0, 10 %, 30 %, and round again. */
	cycleLoss(): number {
		this.loss = this.loss === 0 ? 0.1 : this.loss === 0.1 ? 0.3 : 0;
		for (const transport of this.transports.values()) transport.loss = this.loss;
		this.remember({ type: 'loss', share: this.loss });
		return this.loss;
	}

	async close(): Promise<void> {
		await Promise.all([...this.peers].map(([sensor, peer]) => (this.down.has(sensor) ? Promise.resolve() : peer.close())));
		await this.observer?.close();
		await this.tracker?.close();
	}
}
