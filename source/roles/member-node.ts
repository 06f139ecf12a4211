import type { MallLayout } from '../model/mall.js';
import { layoutFromJson } from '../model/layout-codec.js';
import type { Address } from '../network/address.js';
import { formatAddress } from '../network/address.js';
import { wait, type Clock } from '../runtime/clock.js';
import type { Timings } from '../network/config.js';
import { DirectoryReplica } from '../network/directory-replica.js';
import { DocumentAssembly } from '../network/document.js';
import { MemberLink } from '../network/member-link.js';
import { JoinError, TrackerSession, type Welcome } from '../network/tracker-session.js';
import type { Transport } from '../network/transport.js';
import { parseFrame } from '../protocol/frame.js';
import { TrafficCounters } from '../network/traffic.js';
import { Liveness } from '../network/liveness.js';
import { decodeBody } from '../protocol/codec.js';
import { clearMessage } from '../protocol/messages.js';
import type { MemberMessage, MemberRecord } from '../protocol/messages.js';
import type { Identity } from '../security/keys.js';
import type { EventSink } from './events.js';

export interface MemberOptions {
	readonly transport: Transport;
	readonly clock: Clock;
	readonly timings: Timings;
	readonly tracker: Address;
	readonly user: string;
	readonly password: string;
	readonly role: 'sensor' | 'observer';
	/** Sensors: the sensor this peer expects to speak for (null: whatever its account says). */
	readonly sensor: string | null;
	/** Observers: the areas to follow (null: all). */
	readonly areas: readonly string[] | null;
	readonly identity: Identity;
	readonly lastIncarnation: number;
	readonly pinnedTrackerKey?: string | undefined;
	readonly events: EventSink;
}

/** Retries towards the tracker back off up to this interval. */
const MAX_RETRY_MS = 2000;

export interface MemberHandlers {
	onMessage(sender: MemberRecord, message: MemberMessage): void;
	onJoined(member: MemberRecord): void;
	/** Another process logged in as this member: stop at once, without a word. */
	onSuperseded(): void;
	/** The members this one shares areas with: the ones whose failure it must notice. */
	neighbours(): Iterable<string>;
}

/** How often failure detection looks at its neighbours. */
const LIVENESS_TICK_MS = 250;

/**
 * What sensor peers and observers share: joining through the tracker, the layout, the
 * directory of members kept up to date, and the sealed link to every member. The role
 * on top handles its own messages.
 */
export class MemberNode {
	#directory = new DirectoryReplica();
	#handlers: MemberHandlers | null = null;
	/** Messages for the role that arrive before it serves: handed over when it does. */
	readonly #early: [MemberRecord, MemberMessage][] = [];
	#layout: MallLayout | null = null;
	#assembly: DocumentAssembly | null = null;
	#assembled: (() => void) | null = null;
	#lastPull = -Infinity;
	/** When the tracker last answered: a long silence means it is gone or restarted. */
	#lastFromTracker: number;
	#session: TrackerSession | null = null;
	#rejoining = false;
	#welcome!: Welcome;
	#link!: MemberLink;
	/** One set of counters for the node's life, across epochs. */
	readonly traffic = new TrafficCounters();
	readonly liveness: Liveness;
	/** Indirect probes under way: target → the members that asked us to ping it. */
	readonly #probing = new Map<string, Set<string>>();
	readonly #cancels: (() => void)[] = [];
	#closed = false;
	superseded = false;

	private constructor(readonly options: MemberOptions) {
		this.liveness = new Liveness(options.timings.liveness);
		this.#lastFromTracker = options.clock.now();
		options.transport.onReceive((bytes, from) => {
			const frame = parseFrame(bytes);
			if (!frame.ok) {
				this.traffic.countDrop(frame.reason);
				return;
			}
			if (frame.value.kind !== 'member') {
				if (from.port !== options.tracker.port) return;
				if (this.#session) this.#session.handle(frame.value);
				else if (frame.value.kind === 'clear' && isRejoinHint(frame.value.body)) void this.#rejoin('the tracker says the epoch changed');
				return;
			}
			if (this.#link) this.#receive(frame.value);
		});
	}

	get layout(): MallLayout {
		if (!this.#layout) throw new Error('the layout has not arrived yet');
		return this.#layout;
	}

	get welcome(): Welcome {
		return this.#welcome;
	}

	get link(): MemberLink {
		return this.#link;
	}

	get directory(): DirectoryReplica {
		return this.#directory;
	}

	/** When the tracker last answered (the console shows whether it is reachable). */
	get lastFromTracker(): number {
		return this.#lastFromTracker;
	}

	/** True while logging in again: the directory is being rebuilt and may lack members. */
	get rejoining(): boolean {
		return this.#rejoining;
	}

	get trackerId(): string {
		return this.#welcome.trackerId;
	}

	get self(): MemberRecord {
		return this.#welcome.member;
	}

	get address(): Address {
		return this.options.transport.address;
	}

	/** Logs in, fetches the layout and catches up with the directory, within the join timeout. */
	static async join(options: MemberOptions): Promise<MemberNode> {
		const node = new MemberNode(options);
		const deadline = options.clock.now() + options.timings.joinTimeoutMs;
		await node.#login(options.lastIncarnation);
		await node.#fetchLayout(deadline);
		await node.#catchUp(node.#welcome.directoryVersion, deadline);
		return node;
	}

	/** One login with the tracker; on success the link of the (possibly new) epoch is installed. */
	async #login(lastIncarnation: number): Promise<void> {
		const { options } = this;
		const session = new TrackerSession({
			transport: options.transport,
			clock: options.clock,
			tracker: options.tracker,
			request: {
				user: options.user,
				password: options.password,
				role: options.role,
				sensor: options.sensor,
				signKey: options.identity.signPublic.toString('base64'),
				agreeKey: options.identity.agreePublic.toString('base64'),
				areas: options.areas === null ? null : [...options.areas],
				lastIncarnation,
			},
			pinnedTrackerKey: options.pinnedTrackerKey,
			retryMs: options.timings.handshakeRetryMs,
			timeoutMs: options.timings.joinTimeoutMs,
		});
		this.#session = session;
		try {
			this.#welcome = await session.run();
		} finally {
			this.#session = null;
		}
		this.#lastFromTracker = options.clock.now();
		const welcome = this.#welcome;
		this.#link = new MemberLink({
			transport: options.transport,
			identity: options.identity,
			self: welcome.member.id,
			incarnation: welcome.member.incarnation,
			epoch: welcome.epoch,
			networkKey: Buffer.from(welcome.networkKey, 'base64'),
			clock: options.clock,
			traffic: this.traffic,
		});
		this.#link.setPeer(welcome.trackerId, {
			address: options.tracker,
			agreeKey: Buffer.from(welcome.trackerAgreeKey, 'base64'),
			incarnation: 1,
		});
	}

	/**
	 * The tracker restarted (a new epoch) or went quiet: log in again, by ourselves. Until
	 * that succeeds the old epoch's link stays: counting goes on among the members that
	 * still share it; only joining waits (design.md, roles).
	 */
	async #rejoin(why: string): Promise<void> {
		if (this.#rejoining || this.#closed || this.superseded) return;
		this.#rejoining = true;
		const before = this.#welcome;
		try {
			await this.#login(before.member.incarnation);
			if (this.#welcome.epoch === before.epoch) {
				// Same tracker after all (its answers were lost): keep the directory, re-key the link.
				for (const member of this.#directory.members()) this.#linkTo(member);
				return;
			}
			this.#directory = new DirectoryReplica();
			await this.#catchUp(this.#welcome.directoryVersion, this.options.clock.now() + this.options.timings.joinTimeoutMs);
			this.options.events({ type: 'rejoined', why, epoch: this.#welcome.epoch, previousEpoch: before.epoch, incarnation: this.self.incarnation, members: this.#directory.size });
			// Every member is new to this epoch's link: the role greets them all again.
			for (const member of this.#directory.members()) if (member.id !== this.self.id) this.#handlers?.onJoined(member);
		} catch (error) {
			this.options.events({ type: 'rejoin-failed', why, message: (error as Error).message });
		} finally {
			this.#rejoining = false;
		}
	}

	/** Starts the periodic directory pull (which also watches the tracker); the role calls it once its handlers are set. */
	serve(handlers: MemberHandlers): void {
		this.#handlers = handlers;
		for (const [sender, message] of this.#early.splice(0)) handlers.onMessage(sender, message);
		this.#cancels.push(
			this.options.clock.setInterval(() => {
				const silent = this.options.clock.now() - this.#lastFromTracker;
				if (silent > this.options.timings.trackerSilenceMs) void this.#rejoin(`no answer from the tracker for ${Math.round(silent / 1000)} s`);
				else this.#pull(true);
			}, this.options.timings.directoryPullMs),
		);
		this.#cancels.push(this.options.clock.setInterval(() => this.#watchNeighbours(), LIVENESS_TICK_MS));
	}

	#watchNeighbours(): void {
		const now = this.options.clock.now();
		const neighbours = new Set(this.#handlers?.neighbours() ?? []);
		for (const [id] of this.liveness.members()) if (!neighbours.has(id)) this.liveness.unwatch(id);
		for (const id of neighbours) this.liveness.watch(id, now);
		for (const action of this.liveness.tick(now)) {
			switch (action.kind) {
				case 'ping':
					this.#link.send(action.to, { type: 'ping' });
					break;
				case 'ping-req':
					this.#link.send(action.via, { type: 'ping-req', target: action.target });
					break;
				case 'changed':
					this.#reportHealth(action.member, action.health, action.silentMs);
					break;
			}
		}
	}

	#reportHealth(member: string, health: string, silentMs: number): void {
		this.options.events({ type: 'liveness', member, health, silentMs: Math.round(silentMs) });
	}

	/** Probes are answered here, for every role alike; true if `message` was one. */
	#onProbe(sender: string, message: MemberMessage): boolean {
		switch (message.type) {
			case 'ping':
				this.#link.send(sender, { type: 'ack' });
				return true;
			case 'ping-req': {
				const askers = this.#probing.get(message.target) ?? new Set<string>();
				askers.add(sender);
				this.#probing.set(message.target, askers);
				this.#link.send(message.target, { type: 'ping' });
				return true;
			}
			case 'ack': {
				if (message.for !== undefined) {
					// Someone reached the member we could not: it is alive, only our path to it is not.
					this.#heard(message.for);
					return true;
				}
				for (const asker of this.#probing.get(sender) ?? []) this.#link.send(asker, { type: 'ack', for: sender });
				this.#probing.delete(sender);
				return true;
			}
			case 'heartbeat':
				return true;
			default:
				return false;
		}
	}

	#heard(member: string): void {
		const change = this.liveness.heard(member, this.options.clock.now());
		if (change?.kind === 'changed') this.#reportHealth(change.member, change.health, change.silentMs);
	}

	send(to: string, message: MemberMessage): boolean {
		return this.#link.send(to, message);
	}

	#receive(frame: Extract<ReturnType<typeof parseFrame>, { ok: true }>['value'] & { kind: 'member' }): void {
		if (this.#closed) return;
		const accepted = this.#link.accept(frame);
		if (!accepted.ok) {
			if (accepted.reason === 'unknown-sender') this.#pull(false);
			return;
		}
		const { sender, message } = accepted.value;
		if (sender === this.trackerId) {
			this.#lastFromTracker = this.options.clock.now();
			this.#fromTracker(message);
			return;
		}
		const record = this.#directory.get(sender);
		if (!record) return;
		this.#heard(sender);
		if (!this.#onProbe(sender, message)) this.#deliver(record, message);
	}

	#deliver(sender: MemberRecord, message: MemberMessage): void {
		if (this.#handlers) this.#handlers.onMessage(sender, message);
		else if (this.#early.length < 1024) this.#early.push([sender, message]);
	}

	#fromTracker(message: MemberMessage): void {
		switch (message.type) {
			case 'directory-page': {
				const result = this.#directory.apply(message);
				// While joining, the catch-up loop pulls; a gap pull too would only double the pages.
				if (result.kind === 'gap' && this.#handlers) this.#pull(false);
				if (result.kind !== 'applied') return;
				for (const id of result.left) {
					this.#link.removePeer(id);
				}
				for (const record of result.joined) {
					if (record.id === this.self.id) continue;
					this.#linkTo(record);
					this.#handlers?.onJoined(record);
				}
				return;
			}
			case 'doc-chunk':
				if (this.#assembly && message.version === this.#assembly.version) {
					this.#assembly.add(message.index, message.data);
					if (this.#assembly.missing().length === 0) this.#assembled?.();
				}
				return;
			case 'superseded':
				if (message.incarnation > this.self.incarnation && !this.superseded) {
					this.superseded = true;
					this.options.events({ type: 'superseded', incarnation: message.incarnation, message: 'another process logged in as this member; stopping' });
					this.#handlers?.onSuperseded();
				}
				return;
			default:
				this.#deliver({ id: this.trackerId } as MemberRecord, message);
		}
	}

	#linkTo(record: MemberRecord): void {
		if (record.id === this.self.id) return;
		this.#link.setPeer(record.id, { address: { host: record.host, port: record.port }, agreeKey: Buffer.from(record.agreeKey, 'base64'), incarnation: record.incarnation });
	}

	/** Asks the tracker for what changed; `periodic` pulls always go, gap pulls at most every documentRetryMs. */
	#pull(periodic: boolean): void {
		const now = this.options.clock.now();
		if (!periodic && now - this.#lastPull < this.options.timings.documentRetryMs) return;
		this.#lastPull = now;
		this.#link.send(this.trackerId, { type: 'directory-pull', version: this.#directory.version });
	}

	/** Pulls every chunk of the layout, a window at a time, asking again for missing ones. */
	async #fetchLayout(deadline: number): Promise<void> {
		const { clock, timings } = this.options;
		const assembly = new DocumentAssembly(this.#welcome.layout.version, this.#welcome.layout.chunks);
		this.#assembly = assembly;
		const whole = new Promise<void>((resolve) => (this.#assembled = resolve));
		let retry = timings.documentRetryMs;
		while (assembly.missing().length > 0) {
			if (clock.now() > deadline) throw new JoinError(`the mall layout did not arrive from the tracker at ${formatAddress(this.options.tracker)} in time`);
			for (const index of assembly.missing().slice(0, 32)) {
				this.#link.send(this.trackerId, { type: 'doc-pull', doc: 'layout', version: assembly.version, index });
			}
			await Promise.race([whole, wait(clock, retry)]);
			// A busy tracker answers late; asking ever faster would only bury it deeper.
			retry = Math.min(retry * 2, MAX_RETRY_MS);
		}
		this.#assembly = null;
		const document = assembly.result();
		if (!document.ok) throw new JoinError(`the mall layout from the tracker is corrupt: ${document.error}`);
		const layout = layoutFromJson(document.value);
		if (!layout.ok) throw new JoinError(`the mall layout from the tracker is invalid: ${layout.error}`);
		this.#layout = layout.layout;
	}

	/** Pulls until the directory reaches `version`: again at once after progress, after a pause without. */
	async #catchUp(version: number, deadline: number): Promise<void> {
		const { clock, timings } = this.options;
		let retry = timings.documentRetryMs;
		while (this.#directory.version < version) {
			if (clock.now() > deadline) throw new JoinError(`the directory did not arrive from the tracker at ${formatAddress(this.options.tracker)} in time`);
			const before = this.#directory.version;
			this.#pull(true);
			const pulled = clock.now();
			while (this.#directory.version === before && clock.now() - pulled < retry) await wait(clock, 5);
			retry = this.#directory.version === before ? Math.min(retry * 2, MAX_RETRY_MS) : timings.documentRetryMs;
		}
	}

	/** Leaves cleanly: tells the tracker, stops every timer, closes the socket. */
	async close(): Promise<void> {
		if (this.#closed) return;
		this.#closed = true;
		for (const cancel of this.#cancels.splice(0)) cancel();
		if (!this.superseded) this.#link.send(this.trackerId, { type: 'leave' });
		await this.options.transport.close();
	}

	/** Stops at once without a word to anyone, as a crash would. */
	async crash(): Promise<void> {
		this.#closed = true;
		for (const cancel of this.#cancels.splice(0)) cancel();
		await this.options.transport.close();
	}

}

/** The tracker's clear "log in again": it does not know our epoch (it restarted). */
function isRejoinHint(body: Buffer): boolean {
	const message = decodeBody(clearMessage, body);
	return message.ok && message.value.type === 'rejoin';
}

