import type { MallLayout } from '../../model/mall.js';
import { layoutFromJson } from '../../model/layout-codec.js';
import { formatAddress, type Address } from '../../network/address.js';
import type { Timings } from '../../network/config.js';
import { BridgedDirectory, DirectoryReplica, type DirectoryView } from '../../network/directory-replica.js';
import { DocumentAssembly } from '../../network/document.js';
import { Liveness } from '../../network/liveness.js';
import { MemberLink } from '../../network/member-link.js';
import { TrafficCounters } from '../../network/traffic.js';
import { decodeBody } from '../../protocol/codec.js';
import { parseFrame, type Frame } from '../../protocol/frame.js';
import { clearMessage, type MemberMessage, type MemberRecord } from '../../protocol/messages.js';
import type { Random } from '../../runtime/random.js';
import { verifyCertificate } from '../../security/certificate.js';
import type { Identity } from '../../security/keys.js';
import type { RoleEvent } from '../events.js';
import { LoginSession, type Welcome } from './login-session.js';

/** What a member (sensor peer or observer) is configured with. */
export interface MemberConfig {
	readonly tracker: Address;
	readonly user: string;
	readonly password: string;
	readonly role: 'sensor' | 'observer';
	/** Sensors: the sensor this peer expects to speak for (null: whatever its account says). */
	readonly sensor: string | null;
	/** Observers: the areas to follow (null: all). */
	readonly areas: readonly string[] | null;
	readonly identity: Identity;
	/** The incarnation this member last had (its data directory), 0 if none. */
	readonly lastIncarnation: number;
	/** The tracker key to trust (pinned, or kept from the first login); null: trust the first one reached. */
	readonly trackerKey: string | null;
	readonly timings: Timings;
	readonly random: Random;
}

/** What a member asks its shell to do, beyond sending and reporting. */
export type MemberEffect =
	/** Joined: layout and directory caught up; the role serves from now on. */
	| { readonly kind: 'joined' }
	| { readonly kind: 'join-failed'; readonly message: string }
	/** The tracker's key at the first login: kept in the data directory (trust on first use). */
	| { readonly kind: 'trust-tracker'; readonly key: string }
	/** Another process logged in as this member, or the operator revoked it: this one must stop. */
	| { readonly kind: 'superseded' };

/** Where a member's effects go: its role's outbox. */
export interface MemberSink {
	send(to: Address, bytes: Buffer): void;
	event(event: RoleEvent): void;
	push(effect: MemberEffect): void;
}

/** What the role on top of a member handles. */
export interface MemberHandlers {
	/** Joined and caught up: the role starts its own duties. */
	onServing(now: number): void;
	onMessage(sender: MemberRecord, message: MemberMessage, now: number): void;
	/** A member joined or changed (a new incarnation), or everyone again after a new epoch. */
	onJoined(member: MemberRecord, now: number): void;
	/** The members this one shares areas with: the ones whose failure it must notice. */
	neighbours(): Iterable<string>;
}

type Phase =
	| { readonly kind: 'login'; readonly session: LoginSession }
	| { readonly kind: 'layout'; readonly assembly: DocumentAssembly; retryAt: number; retryMs: number; readonly deadline: number }
	| {
			readonly kind: 'catch-up';
			readonly target: number;
			retryAt: number;
			retryMs: number;
			readonly deadline: number;
			/** Joining for the first time; else logging in again into a new epoch, for this reason, from that one. */
			readonly joining: boolean;
			readonly rejoin?: { readonly why: string; readonly previousEpoch: number };
	  }
	| { readonly kind: 'serving' }
	| { readonly kind: 'stopped' };

/** Unknown senders asked about (each to two members) per second at most. */
const RECORD_QUERIES_PER_SECOND = 4;
/** At most this many members wait on one indirect probe of ours: a few are asked at a time (memberlist: 3). */
const MAX_PROBE_ASKERS = 8;
/** Retries towards the tracker back off up to this interval. */
const MAX_RETRY_MS = 2000;
/** Layout chunks asked for at once. */
const LAYOUT_WINDOW = 32;

/**
 * What sensor peers and observers share, as a state machine with no socket, timer or
 * file in sight: joining through the tracker (login, layout, directory), the sealed link
 * to every member, failure detection of its neighbours, and watching the tracker. The
 * role on top handles its own messages through `MemberHandlers`; everything to be done
 * goes to the role's outbox.
 */
export class MemberCore {
	#phase: Phase;
	#directory: DirectoryReplica;
	/** The previous epoch's link and directory, kept for members that have not moved to the new one yet. */
	#bridge: { readonly link: MemberLink; readonly directory: BridgedDirectory; until: number } | null = null;
	/**
	 * Members last heard speaking the previous epoch: they are spoken to in it, even once
	 * the tracker lists them in the new one, until they are heard in the new one (their
	 * own welcome may still be on its way).
	 */
	readonly #speaksOld = new Set<string>();
	#layout: MallLayout | null = null;
	#welcome: Welcome | null = null;
	#link: MemberLink | null = null;
	/** The tracker keys this process has seen: the current one, and older ones to check old certificates. */
	readonly #trackerSignKeys: Buffer[] = [];
	#trustedTrackerKey: string | null;
	/** Logging in again while serving: the old link goes on until the new epoch's arrives. */
	#rejoin: { readonly session: LoginSession; readonly why: string } | null = null;
	/** "Log in again" hints received: each one only makes us ask the tracker (anyone can send one). */
	hintsHeard = 0;
	/** This process run, as the tracker knows it (login `run`). */
	readonly #run: string;
	/** When we last asked members for the record of each unknown sender. */
	readonly #recordAsked = new Map<string, number>();
	#recordAskWindow = { since: -Infinity, asked: 0 };
	/** A "log in again" hint is being checked: asked the tracker in our epoch at `since`. */
	#hintCheck: { readonly since: number; readonly until: number; nextPullAt: number } | null = null;
	#lastFromTracker: number;
	#lastPull = -Infinity;
	#nextPullAt = Infinity;
	#nextLivenessAt = Infinity;
	/** Indirect probes under way: target → the members that asked us to ping it. */
	readonly #probing = new Map<string, Set<string>>();
	/** Messages for the role that arrive before it serves: handed over when it does. */
	readonly #early: [MemberRecord, MemberMessage][] = [];
	/** One set of counters for the node's life, across epochs. */
	readonly traffic = new TrafficCounters();
	readonly liveness: Liveness;
	superseded = false;
	/** Why it stopped, when `superseded`: the operator revoked the account (else another process took its place). */
	revoked = false;

	constructor(readonly config: MemberConfig, readonly out: MemberSink, readonly handlers: MemberHandlers, now: number) {
		this.liveness = new Liveness(config.timings.liveness);
		this.#trustedTrackerKey = config.trackerKey;
		this.#directory = new DirectoryReplica((record) => this.certifies(record));
		this.#run = config.random.bytes(16).toString('base64');
		this.#lastFromTracker = now;
		this.#phase = { kind: 'login', session: this.#session(config.lastIncarnation, false, now) };
	}

	// ---- what the role and the console read ------------------------------------------

	get layout(): MallLayout {
		if (!this.#layout) throw new Error('the layout has not arrived yet');
		return this.#layout;
	}

	get welcome(): Welcome {
		if (!this.#welcome) throw new Error('not logged in yet');
		return this.#welcome;
	}

	get link(): MemberLink {
		if (!this.#link) throw new Error('not logged in yet');
		return this.#link;
	}

	/** Who is in the network: this epoch's directory, with the previous epoch's members that have not moved yet. */
	get directory(): DirectoryView {
		return this.#bridge?.directory ?? this.#directory;
	}

	get self(): MemberRecord {
		return this.welcome.member;
	}

	get trackerId(): string {
		return this.welcome.trackerId;
	}

	/** When the tracker last answered (the console shows whether it is reachable). */
	get lastFromTracker(): number {
		return this.#lastFromTracker;
	}

	/** True while logging in again: the directory is being rebuilt and may lack members. */
	get rejoining(): boolean {
		return this.#rejoin !== null || (this.#phase.kind === 'catch-up' && !this.#phase.joining);
	}

	get serving(): boolean {
		return this.#phase.kind === 'serving' || (this.#phase.kind === 'catch-up' && !this.#phase.joining);
	}

	/** The tracker's Ed25519 keys seen by this process, newest first: certificates are checked against them. */
	get trackerSignKeys(): readonly Buffer[] {
		return this.#trackerSignKeys;
	}

	// ---- inputs ----------------------------------------------------------------------

	receive(bytes: Buffer, from: Address, now: number): void {
		if (this.#phase.kind === 'stopped') return;
		const frame = parseFrame(bytes);
		if (!frame.ok) {
			this.traffic.countDrop(frame.reason);
			return;
		}
		if (frame.value.kind === 'member') {
			if (this.#link) this.#receiveMember(frame.value, now);
			else this.traffic.countDrop('unexpected');
			return;
		}
		// Clear and handshake frames are the tracker's: a login under way takes them, and a
		// "log in again" hint (which anyone could forge) starts a check, nothing more.
		const session = this.#phase.kind === 'login' ? this.#phase.session : this.#rejoin?.session;
		if (session) {
			if (from.port === this.config.tracker.port) session.handle(frame.value, now);
			else this.traffic.countDrop('unexpected');
			this.#afterSession(now);
		} else if (frame.value.kind === 'clear' && this.serving && isRejoinHint(frame.value.body)) {
			this.hintsHeard++;
			this.#checkHint(now);
		} else {
			// A handshake frame with no login under way, or a clear one that is no hint.
			this.traffic.countDrop('unexpected');
		}
	}

	tick(now: number): void {
		switch (this.#phase.kind) {
			case 'login':
				this.#phase.session.tick(now);
				this.#afterSession(now);
				return;
			case 'layout':
				this.#layoutTick(now);
				return;
			case 'catch-up':
				this.#catchUpTick(now);
				break;
			case 'stopped':
				return;
		}
		if (!this.serving) return;
		if (this.#rejoin) {
			this.#rejoin.session.tick(now);
			this.#afterSession(now);
		}
		if (now >= this.#nextPullAt) {
			this.#nextPullAt = now + this.config.timings.directoryPullMs;
			this.#pull(now, true);
		}
		if (this.#hintCheck) this.#hintTick(now);
		if (this.#bridge && now >= this.#bridge.until) {
			this.#bridge = null;
			this.#speaksOld.clear();
		}
		if (now >= this.#nextLivenessAt) {
			this.#nextLivenessAt = now + this.config.timings.livenessTickMs;
			this.#watchNeighbours(now);
		}
	}

	wakeAt(): number {
		switch (this.#phase.kind) {
			case 'login':
				return this.#phase.session.wakeAt();
			case 'layout':
				return Math.min(this.#phase.retryAt, this.#phase.deadline);
			case 'stopped':
				return Infinity;
			case 'catch-up':
				if (this.#phase.joining) return Math.min(this.#phase.retryAt, this.#phase.deadline);
		}
		let at = Math.min(this.#nextPullAt, this.#nextLivenessAt);
		if (this.#phase.kind === 'catch-up') at = Math.min(at, this.#phase.retryAt);
		if (this.#rejoin) at = Math.min(at, this.#rejoin.session.wakeAt());
		if (this.#hintCheck) at = Math.min(at, this.#hintCheck.nextPullAt, this.#hintCheck.until);
		if (this.#bridge) at = Math.min(at, this.#bridge.until);
		return at;
	}

	/** Seals and sends one message to a member (or the tracker), in the epoch it is in; false if it is unknown. */
	send(to: string, message: MemberMessage): boolean {
		const bridge = this.#bridge;
		if (bridge && this.#speaksOld.has(to) && bridge.link.hasPeer(to)) {
			// It spoke the old epoch last. Once it is in our epoch's directory it logged in to
			// ours, but its welcome may have been lost: say it both ways. The first frame of
			// ours it reads in the new epoch makes it answer in the new one, and so do we.
			if (this.#directory.get(to) && this.#link?.hasPeer(to)) this.#link.send(to, message);
			return bridge.link.send(to, message);
		}
		if (this.#link?.hasPeer(to)) return this.#link.send(to, message);
		return bridge?.link.send(to, message) ?? false;
	}

	/** Leaves cleanly: tells the tracker, then nothing more. */
	close(): void {
		if (this.#phase.kind === 'stopped') return;
		if (this.#link && !this.superseded) this.#link.send(this.trackerId, { type: 'leave' });
		this.#phase = { kind: 'stopped' };
	}

	/** Stops at once without a word to anyone, as a crash would. */
	crash(): void {
		this.#phase = { kind: 'stopped' };
	}

	// ---- joining ---------------------------------------------------------------------

	#session(lastIncarnation: number, continuing: boolean, now: number): LoginSession {
		const { config } = this;
		return new LoginSession(
			{
				tracker: config.tracker,
				identity: config.identity,
				request: {
					user: config.user,
					password: config.password,
					role: config.role,
					sensor: config.sensor,
					signKey: config.identity.signPublic.toString('base64'),
					agreeKey: config.identity.agreePublic.toString('base64'),
					areas: config.areas === null ? null : [...config.areas],
					lastIncarnation,
					continuing,
					run: this.#run,
				},
				trustedTrackerKey: this.#trustedTrackerKey,
				retryMs: config.timings.handshakeRetryMs,
				timeoutMs: config.timings.joinTimeoutMs,
				random: config.random,
			},
			this.out,
			now,
		);
	}

	/** A session may have finished: act on its result. */
	#afterSession(now: number): void {
		const session = this.#phase.kind === 'login' ? this.#phase.session : this.#rejoin?.session;
		const result = session?.result;
		if (!result) return;
		if (this.#phase.kind === 'login') {
			if (result.kind === 'failed') {
				this.#phase = { kind: 'stopped' };
				this.out.push({ kind: 'join-failed', message: result.message });
				return;
			}
			this.#install(result.welcome, result.trackerKey, now);
			this.#phase = { kind: 'layout', assembly: new DocumentAssembly(result.welcome.layout.version, result.welcome.layout.chunks), retryAt: now, retryMs: this.config.timings.documentRetryMs, deadline: now + this.config.timings.joinTimeoutMs };
			this.#layoutTick(now);
			return;
		}
		const rejoin = this.#rejoin!;
		this.#rejoin = null;
		if (result.kind === 'failed') {
			this.out.event({ type: 'rejoin-failed', why: rejoin.why, message: result.message });
			if (result.revoked === true && !this.superseded) {
				// Revoked for good: nothing it decides would be counted any more, so it decides nothing.
				this.superseded = true;
				this.revoked = true;
				this.out.event({ type: 'revoked', message: 'the operator revoked this account; stopping' });
				this.out.push({ kind: 'superseded' });
			}
			return;
		}
		const before = this.welcome;
		const previous = { link: this.#link!, directory: this.#directory };
		this.#install(result.welcome, result.trackerKey, now);
		if (result.welcome.epoch === before.epoch) {
			// Same tracker after all (its answers were lost): keep the directory, link it again.
			for (const member of this.#directory.members()) this.#linkTo(member);
			this.out.event({ type: 'rejoined', why: rejoin.why, epoch: this.welcome.epoch, previousEpoch: before.epoch, incarnation: this.self.incarnation, members: this.#directory.size });
			return;
		}
		this.#directory = new DirectoryReplica((record) => this.certifies(record));
		// Members still in the old epoch are spoken to there until they move too.
		this.#bridge = { link: previous.link, directory: new BridgedDirectory(this.#directory, previous.directory), until: now + this.config.timings.epochBridgeMs };
		this.#phase = { kind: 'catch-up', target: result.welcome.directoryVersion, retryAt: now, retryMs: this.config.timings.documentRetryMs, deadline: Infinity, joining: false, rejoin: { why: rejoin.why, previousEpoch: before.epoch } };
		this.#catchUpTick(now);
	}

	/** A welcome: the link of its epoch replaces the old one. */
	#install(welcome: Welcome, trackerKey: string, now: number): void {
		if (this.#trustedTrackerKey === null) {
			this.#trustedTrackerKey = trackerKey;
			this.out.push({ kind: 'trust-tracker', key: trackerKey });
		}
		const signKey = Buffer.from(welcome.trackerSignKey, 'base64');
		if (!this.#trackerSignKeys.some((known) => known.equals(signKey))) this.#trackerSignKeys.unshift(signKey);
		this.#welcome = welcome;
		this.#lastFromTracker = now;
		this.#link = new MemberLink({
			transport: { send: (to, bytes) => this.out.send(to, bytes) },
			identity: this.config.identity,
			self: welcome.member.id,
			incarnation: welcome.member.incarnation,
			epoch: welcome.epoch,
			networkKey: Buffer.from(welcome.networkKey, 'base64'),
			traffic: this.traffic,
			// The sequence numbers of one incarnation go on across epochs: a re-login keeps the incarnation.
			firstSeq: this.#link?.nextSeq ?? 0,
		});
		this.#link.setPeer(welcome.trackerId, { address: this.config.tracker, agreeKey: Buffer.from(welcome.trackerAgreeKey, 'base64'), incarnation: 1 });
	}

	#layoutTick(now: number): void {
		const phase = this.#phase;
		if (phase.kind !== 'layout') return;
		const missing = phase.assembly.missing();
		if (missing.length === 0) {
			const document = phase.assembly.result();
			const layout = document.ok ? layoutFromJson(document.value) : null;
			if (!document.ok || !layout?.ok) {
				this.#phase = { kind: 'stopped' };
				this.out.push({ kind: 'join-failed', message: `the mall layout from the tracker is ${document.ok ? `invalid: ${layout && !layout.ok ? layout.error : ''}` : `corrupt: ${document.error}`}` });
				return;
			}
			this.#layout = layout.layout;
			this.#phase = { kind: 'catch-up', target: this.welcome.directoryVersion, retryAt: now, retryMs: this.config.timings.documentRetryMs, deadline: phase.deadline, joining: true };
			this.#catchUpTick(now);
			return;
		}
		if (now >= phase.deadline) {
			this.#phase = { kind: 'stopped' };
			this.out.push({ kind: 'join-failed', message: `the mall layout did not arrive from the tracker at ${formatAddress(this.config.tracker)} in time` });
			return;
		}
		if (now < phase.retryAt) return;
		for (const index of missing.slice(0, LAYOUT_WINDOW)) this.send(this.trackerId, { type: 'doc-pull', doc: 'layout', version: phase.assembly.version, index });
		phase.retryAt = now + phase.retryMs;
		// A busy tracker answers late; asking ever faster would only bury it deeper.
		phase.retryMs = Math.min(phase.retryMs * 2, MAX_RETRY_MS);
	}

	#catchUpTick(now: number): void {
		const phase = this.#phase;
		if (phase.kind !== 'catch-up') return;
		if (this.#directory.pageVersion >= phase.target) {
			this.#phase = { kind: 'serving' };
			this.#nextPullAt = now + this.config.timings.directoryPullMs;
			this.#nextLivenessAt = now + this.config.timings.livenessTickMs;
			if (phase.joining) {
				this.out.push({ kind: 'joined' });
				this.handlers.onServing(now);
				for (const [sender, message] of this.#early.splice(0)) this.handlers.onMessage(sender, message, now);
			} else {
				this.out.event({ type: 'rejoined', why: phase.rejoin?.why ?? '', epoch: this.welcome.epoch, previousEpoch: phase.rejoin?.previousEpoch ?? 0, incarnation: this.self.incarnation, members: this.#directory.size });
				// Those still in other epochs could not be heard meanwhile: their silence says nothing yet.
				this.liveness.restartSilence(now);
				// Every member is new to this epoch's link: the role greets them all again.
				for (const member of this.#directory.members()) if (member.id !== this.self.id) this.handlers.onJoined(member, now);
			}
			return;
		}
		if (now >= phase.deadline) {
			this.#phase = { kind: 'stopped' };
			this.out.push({ kind: 'join-failed', message: `the directory did not arrive from the tracker at ${formatAddress(this.config.tracker)} in time` });
			return;
		}
		if (now < phase.retryAt) return;
		this.#pull(now, true);
		phase.retryAt = now + phase.retryMs;
		phase.retryMs = Math.min(phase.retryMs * 2, MAX_RETRY_MS);
	}

	// ---- watching the tracker --------------------------------------------------------

	/**
	 * The tracker restarted (a new epoch) or the answers to our last login were lost: log
	 * in again, by ourselves, as the same process (the incarnation stays). Until that
	 * succeeds the old epoch's link stays: counting goes on among the members that still
	 * share it; only joining waits (design.md, roles).
	 */
	#startRejoin(why: string, now: number): void {
		// Catching up after a rejoin counts as serving: the tracker may have restarted again before we caught up.
		const serving = this.#phase.kind === 'serving' || (this.#phase.kind === 'catch-up' && !this.#phase.joining);
		if (this.#rejoin || this.superseded || !serving) return;
		this.out.event({ type: 'rejoining', why, epoch: this.welcome.epoch, incarnation: this.self.incarnation });
		this.#rejoin = { session: this.#session(this.self.incarnation, true, now), why };
	}

	/**
	 * A "log in again" hint arrived. Anyone can send one, so it is only a reason to ask the
	 * tracker in our epoch: if it answers, the hint was false; if it stays silent for
	 * trackerProbeMs while we ask three times, it has restarted and we log in again.
	 */
	#checkHint(now: number): void {
		if (this.#hintCheck || this.#rejoin) return;
		this.#hintCheck = { since: now, until: now + this.config.timings.trackerProbeMs, nextPullAt: now };
		this.#hintTick(now);
	}

	#hintTick(now: number): void {
		const check = this.#hintCheck!;
		if (this.#lastFromTracker > check.since) {
			this.#hintCheck = null;
			return;
		}
		if (now >= check.until) {
			this.#hintCheck = null;
			this.#startRejoin('the tracker says the epoch changed, and no longer answers in ours', now);
			return;
		}
		if (now >= check.nextPullAt) {
			check.nextPullAt = now + this.config.timings.trackerProbeMs / 3;
			this.#pull(now, true);
		}
	}

	/** Asks the tracker for what changed; periodic pulls always go, gap pulls at most every documentRetryMs. */
	#pull(now: number, periodic: boolean): void {
		if (!periodic && now - this.#lastPull < this.config.timings.documentRetryMs) return;
		this.#lastPull = now;
		this.send(this.trackerId, { type: 'directory-pull', version: this.#directory.pageVersion });
	}

	// ---- from members ----------------------------------------------------------------

	#receiveMember(frame: Extract<Frame, { kind: 'member' }>, now: number): void {
		// A member still in the previous epoch speaks it: the bridge's link hears it.
		const bridged = this.#bridge !== null && frame.epoch === this.#bridge.link.epoch && frame.epoch !== this.#link!.epoch;
		const accepted = (bridged ? this.#bridge!.link : this.#link!).accept(frame);
		if (!accepted.ok) {
			if (accepted.reason === 'unknown-sender' && this.serving && !bridged) {
				this.#pull(now, false);
				this.#askForRecord(frame.sender, now);
			}
			return;
		}
		const { sender, message } = accepted.value;
		if (sender === this.trackerId) {
			// The old tracker is gone: only the current one's word counts.
			if (bridged) {
				this.traffic.countDrop('unexpected');
				return;
			}
			this.#lastFromTracker = now;
			this.#fromTracker(message, now);
			return;
		}
		const record = this.directory.get(sender);
		if (!record) {
			this.traffic.countDrop('unknown-sender');
			return;
		}
		if (bridged) {
			this.#speaksOld.add(sender);
			// Someone has not moved yet (the tracker may be down again): the bridge stays while they talk.
			this.#bridge!.until = Math.max(this.#bridge!.until, now + this.config.timings.epochBridgeMs);
		} else this.#speaksOld.delete(sender);
		this.#heard(sender, now);
		if (!this.#onProbe(sender, message) && !this.#onRecordGossip(record, message, now)) this.#deliver(record, message, now);
	}

	/**
	 * Someone speaks to us with keys we do not hold: most likely a member that restarted
	 * while the tracker could not tell us (down, or its pages lost). The tracker is asked
	 * (a pull); so are two members we hear from, for the tracker-signed record they hold.
	 */
	#askForRecord(id: string, now: number): void {
		if (id === this.self.id || id === this.trackerId || now - (this.#recordAsked.get(id) ?? -Infinity) < this.config.timings.documentRetryMs) return;
		// Anyone can send a frame naming any sender: a few questions a second, whatever arrives.
		if (now - this.#recordAskWindow.since >= 1000) this.#recordAskWindow = { since: now, asked: 0 };
		if (++this.#recordAskWindow.asked > RECORD_QUERIES_PER_SECOND) return;
		if (this.#recordAsked.size >= 256) this.#recordAsked.clear();
		this.#recordAsked.set(id, now);
		let asked = 0;
		for (const [member, { health }] of this.liveness.members()) {
			if (health !== 'alive' || member === id || !this.#directory.get(member)) continue;
			this.send(member, { type: 'record-query', id });
			if (++asked === 2) break;
		}
	}

	/** Record queries and answers between members: the directory's business, not the role's. */
	#onRecordGossip(sender: MemberRecord, message: MemberMessage, now: number): boolean {
		if (message.type === 'record-query') {
			const record = this.#directory.get(message.id);
			if (record) this.send(sender.id, { type: 'record', record });
			return true;
		}
		if (message.type !== 'record') return false;
		const { record } = message;
		if (record.id === this.self.id || !this.#directory.learn(record, this.welcome.epoch)) return true;
		this.#linkTo(record);
		if (this.#phase.kind === 'serving') this.handlers.onJoined(record, now);
		return true;
	}

	#deliver(sender: MemberRecord, message: MemberMessage, now: number): void {
		if (this.#phase.kind === 'serving' || (this.#phase.kind === 'catch-up' && !this.#phase.joining)) this.handlers.onMessage(sender, message, now);
		else if (this.#early.length < 1024) this.#early.push([sender, message]);
	}

	#fromTracker(message: MemberMessage, now: number): void {
		switch (message.type) {
			case 'directory-page': {
				const result = this.#directory.apply(message);
				if (result.kind === 'forged') {
					this.traffic.countDrop('bad-signature');
					this.out.event({ type: 'error', message: `the tracker sent a member record for ${result.id} that its key does not sign; ignored` });
					return;
				}
				// While joining, the catch-up pulls; a gap pull too would only double the pages.
				if (result.kind === 'gap' && this.#phase.kind === 'serving') this.#pull(now, false);
				if (result.kind !== 'applied') return;
				for (const id of result.left) {
					this.#link!.removePeer(id);
					this.liveness.unwatch(id);
				}
				for (const record of result.joined) {
					if (record.id === this.self.id) continue;
					// It has just moved to our epoch (or restarted): until now we could not have heard it.
					this.liveness.restartSilence(now, record.id);
					this.#linkTo(record);
					if (this.#phase.kind === 'serving') this.handlers.onJoined(record, now);
				}
				if (this.#phase.kind === 'catch-up') {
					// Progress: the tracker answers, so ask again at the first pace, not the backed-off one.
					this.#phase.retryMs = this.config.timings.documentRetryMs;
					this.#catchUpTick(now);
				}
				return;
			}
			case 'doc-chunk': {
				const phase = this.#phase;
				if (phase.kind === 'layout' && message.version === phase.assembly.version) {
					phase.assembly.add(message.index, message.data);
					if (phase.assembly.missing().length === 0) this.#layoutTick(now);
				}
				return;
			}
			case 'superseded':
				if (message.incarnation > this.self.incarnation && !this.superseded) {
					this.superseded = true;
					this.out.event({ type: 'superseded', incarnation: message.incarnation, message: 'another process logged in as this member; stopping' });
					this.out.push({ kind: 'superseded' });
				}
				return;
			case 'rekey':
				this.#rekey(message, now);
				return;
			default:
				this.#deliver({ id: this.trackerId } as MemberRecord, message, now);
		}
	}

	/**
	 * The tracker moved the network to a new epoch and key without a member it revoked:
	 * the same members, a new link for each, nobody logs in again.
	 */
	#rekey(message: Extract<MemberMessage, { type: 'rekey' }>, now: number): void {
		if (message.epoch === this.welcome.epoch || message.member.id !== this.self.id) return;
		const previousEpoch = this.welcome.epoch;
		// No bridge here: the old epoch is the one the revoked member still has.
		this.#bridge = null;
		this.#speaksOld.clear();
		this.#install({ ...this.welcome, epoch: message.epoch, networkKey: message.networkKey, member: message.member }, this.#trustedTrackerKey ?? '', now);
		this.#directory.remove(message.left);
		this.liveness.unwatch(message.left);
		for (const member of this.#directory.members()) this.#linkTo(member);
		this.out.event({ type: 'rekeyed', epoch: message.epoch, previousEpoch, without: message.left });
		for (const member of this.#directory.members()) if (member.id !== this.self.id) this.handlers.onJoined(member, now);
	}

	#linkTo(record: MemberRecord): void {
		if (record.id === this.self.id) return;
		this.#link!.setPeer(record.id, { address: { host: record.host, port: record.port }, agreeKey: Buffer.from(record.agreeKey, 'base64'), incarnation: record.incarnation });
	}

	/** Whether one of the tracker's keys signed `record`: a certificate, wherever it comes from. */
	certifies(record: MemberRecord): boolean {
		return this.#trackerSignKeys.some((key) => verifyCertificate(record, key));
	}

	// ---- failure detection ------------------------------------------------------------

	#watchNeighbours(now: number): void {
		const neighbours = new Set(this.handlers.neighbours());
		for (const [id] of this.liveness.members()) if (!neighbours.has(id)) this.liveness.unwatch(id);
		for (const id of neighbours) this.liveness.watch(id, now, this.config.timings.joinTimeoutMs);
		for (const action of this.liveness.tick(now, this.config.timings.livenessTickMs)) {
			switch (action.kind) {
				case 'ping':
					this.send(action.to, { type: 'ping' });
					break;
				case 'ping-req': {
					// Our ping, sealed for the target alone: the helper passes it on and brings back its sealed ack.
					const ping = this.#seal(action.target, { type: 'ping', via: action.via });
					if (ping) this.send(action.via, { type: 'ping-req', target: action.target, ping: ping.toString('base64') });
					break;
				}
				case 'changed':
					this.#reportHealth(action.member, action.health, action.silentMs);
					break;
			}
		}
	}

	#reportHealth(member: string, health: string, silentMs: number): void {
		this.out.event({ type: 'liveness', member, health, silentMs: Math.round(silentMs) });
	}

	/**
	 * Probes are answered here, for every role alike; true if `message` was one. An
	 * indirect probe (SWIM's ping-req) carries the asker's ping sealed for the target, and
	 * the target's ack comes back sealed for the asker: the helper only passes frames on,
	 * so no member can vouch for one that is dead and keep its permits from being reclaimed.
	 */
	#onProbe(sender: string, message: MemberMessage): boolean {
		switch (message.type) {
			case 'ping': {
				if (message.via === undefined) {
					this.send(sender, { type: 'ack' });
					return true;
				}
				const ack = this.#seal(sender, { type: 'ack' });
				if (ack) this.send(message.via, { type: 'ack-relay', to: sender, ack: ack.toString('base64') });
				return true;
			}
			case 'ping-req': {
				const ping = Buffer.from(message.ping, 'base64');
				const askers = this.#probing.get(message.target) ?? new Set<string>();
				// Only the asker's own frames, to members we know, for a few askers each: nobody
				// reaches anyone through us, nor grows our memory.
				if (!isFrameFrom(ping, sender) || !this.#directory.get(message.target) || askers.size >= MAX_PROBE_ASKERS) {
					this.traffic.countDrop('unexpected');
					return true;
				}
				askers.add(sender);
				this.#probing.set(message.target, askers);
				this.#forward(message.target, ping);
				return true;
			}
			case 'ack-relay': {
				const ack = Buffer.from(message.ack, 'base64');
				const askers = this.#probing.get(sender);
				if (!askers?.delete(message.to) || !isFrameFrom(ack, sender)) {
					this.traffic.countDrop('unexpected');
					return true;
				}
				if (askers.size === 0) this.#probing.delete(sender);
				this.#forward(message.to, ack);
				return true;
			}
			case 'ack':
			case 'heartbeat':
				// Heard already: anything authentic from a member says it lives.
				return true;
			default:
				return false;
		}
	}

	/** Seals a message for `to` in the epoch we speak with it (as `send` would), without sending it. */
	#seal(to: string, message: MemberMessage): Buffer | null {
		const bridge = this.#bridge;
		if (bridge && this.#speaksOld.has(to) && bridge.link.hasPeer(to)) return bridge.link.seal(to, message);
		if (this.#link?.hasPeer(to)) return this.#link.seal(to, message);
		return bridge?.link.seal(to, message) ?? null;
	}

	/** Passes on a frame another member sealed for `to`. */
	#forward(to: string, bytes: Buffer): void {
		if (!this.#link?.forward(to, bytes)) this.#bridge?.link.forward(to, bytes);
	}

	#heard(member: string, now: number): void {
		const change = this.liveness.heard(member, now);
		if (change?.kind === 'changed') this.#reportHealth(change.member, change.health, change.silentMs);
	}
}

/** Whether `bytes` is a member frame that says it is from `sender` (its seal is for its recipient to check). */
function isFrameFrom(bytes: Buffer, sender: string): boolean {
	const frame = parseFrame(bytes);
	return frame.ok && frame.value.kind === 'member' && frame.value.sender === sender;
}

/** The tracker's clear "log in again". */
export function isRejoinHint(body: Buffer): boolean {
	const message = decodeBody(clearMessage, body);
	return message.ok && message.value.type === 'rejoin';
}
