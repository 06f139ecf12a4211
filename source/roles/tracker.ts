import { randomInt } from 'node:crypto';
import type { Mall } from '../model/mall.js';
import type { Address } from '../network/address.js';
import { formatAddress } from '../network/address.js';
import type { Clock } from '../runtime/clock.js';
import { DirectoryBook, type DirectoryPage } from '../network/directory-book.js';
import { chunkDocument } from '../network/document.js';
import { MemberLink } from '../network/member-link.js';
import type { Transport } from '../network/transport.js';
import { layoutToJson } from '../model/layout-codec.js';
import { decodeBody, encodeBody } from '../protocol/codec.js';
import { encodeClear, encodeHandshake, parseFrame, type Frame } from '../protocol/frame.js';
import { openHandshake } from '../protocol/handshake.js';
import {
	clearMessage,
	MAX_SUBSCRIBED_AREAS,
	type HandshakeMessage,
	type MemberMessage,
	type MemberRecord,
} from '../protocol/messages.js';
import { signCertificate } from '../security/certificate.js';
import { loginKey } from '../security/handshake-keys.js';
import { NONCE_BYTES, agree, ephemeralAgreement, generateIdentity, randomKey, type Identity } from '../security/keys.js';
import { LoginThrottle } from '../security/login-throttle.js';
import { verifyPassword } from '../security/password.js';
import type { EventSink } from './events.js';
import { GranterRegistry, type SavedGranters } from '../counting/granter-registry.js';
import { areaId, sensorId } from '../model/ids.js';
import { systemRandom } from '../runtime/random.js';

/** The tracker's member id, the same in every epoch. */
export const TRACKER_ID = 'tracker';
/** Handshakes waiting for their login; older ones are forgotten, and there are never more than this many. */
const MAX_PENDING_HANDSHAKES = 4096;
const HANDSHAKE_TTL_MS = 30_000;
/** Pages sent for one pull: the member pulls again once it has them, so bursts stay small. */
const MAX_PAGES_PER_PULL = 16;
/** Joins and leaves within this window are announced together, two members to a page. */
const ANNOUNCE_MS = 20;

export interface TrackerOptions {
	readonly mall: Mall;
	readonly transport: Transport;
	readonly clock: Clock;
	readonly events: EventSink;
	/** Its static identity: logins are encrypted to it. Fresh if not given. */
	readonly identity?: Identity;
	/** The epoch to start; a random one if not given (a restart is a new epoch). */
	readonly epoch?: number;
	/** The last incarnation given to each member before a restart (from the tracker's data directory). */
	readonly incarnations?: ReadonlyMap<string, number>;
	/** Makes the incarnations durable; awaited before a welcome is sent. */
	readonly onIncarnations?: (incarnations: ReadonlyMap<string, number>) => Promise<void>;
	/** Who grants whose leases and what was taken back, as saved before a restart. */
	readonly granters?: SavedGranters;
	/** Makes the granter records durable; awaited before a take or a reassignment is answered. */
	readonly onGranters?: (granters: SavedGranters) => Promise<void>;
}

interface PendingHandshake {
	readonly ephemeral: ReturnType<typeof ephemeralAgreement>;
	readonly at: number;
	/** Once answered, the same answer is sent again if the login is repeated (UDP loss). */
	answer?: Buffer;
	/** Set while the password is being checked: a repeated login must not start another scrypt. */
	checking?: boolean;
}

/**
 * Holds the layout and the accounts, authenticates members, certifies them and tells
 * everyone who is in the network. Not on the counting path: if it stops, counting goes
 * on and only joining waits.
 */
export class Tracker {
	readonly identity: Identity;
	readonly epoch: number;
	readonly networkKey = randomKey(systemRandom);
	readonly book = new DirectoryBook();
	readonly link: MemberLink;
	readonly #pending = new Map<string, PendingHandshake>();
	readonly #throttle = new LoginThrottle();
	readonly #layout: string[];
	readonly #layoutVersion: number;
	readonly #lastHeard = new Map<string, number>();
	/** The last incarnation given to each member id this epoch, kept after it leaves: a returning member always gets a higher one. */
	readonly #incarnations = new Map<string, number>();
	#announced = 0;
	#lastAnnounce = -Infinity;
	#announceScheduled: (() => void) | null = null;
	readonly granters: GranterRegistry;
	logins = 0;
	refusals = 0;

	constructor(readonly options: TrackerOptions) {
		this.identity = options.identity ?? generateIdentity(systemRandom);
		for (const [id, incarnation] of options.incarnations ?? []) this.#incarnations.set(id, incarnation);
		this.epoch = options.epoch ?? randomInt(1, 2 ** 31);
		this.link = new MemberLink({
			transport: options.transport,
			identity: this.identity,
			self: TRACKER_ID,
			incarnation: 1,
			epoch: this.epoch,
			networkKey: this.networkKey,
			clock: options.clock,
		});
		this.granters = new GranterRegistry(options.mall, options.granters);
		this.#layout = chunkDocument(layoutToJson(options.mall));
		this.#layoutVersion = this.epoch;
		options.transport.onReceive((bytes, from) => this.receive(bytes, from));
	}

	get address(): Address {
		return this.options.transport.address;
	}

	/** When each member was last heard from (milliseconds on the tracker's clock). */
	lastHeard(id: string): number | undefined {
		return this.#lastHeard.get(id);
	}

	receive(bytes: Buffer, from: Address): void {
		const frame = parseFrame(bytes);
		if (!frame.ok) {
			this.link.traffic.countDrop(frame.reason);
			return;
		}
		switch (frame.value.kind) {
			case 'clear':
				this.#onClear(frame.value.body, from);
				return;
			case 'handshake':
				// Nothing that arrives may crash the tracker: an unexpected failure is reported and the login dropped.
				this.#onLogin(frame.value, from).catch((error: Error) => this.options.events({ type: 'error', message: `login from ${formatAddress(from)} failed: ${error.message}` }));
				return;
			case 'member': {
				const accepted = this.link.accept(frame.value);
				if (accepted.ok) this.#onMember(accepted.value.sender, accepted.value.message, from);
				// A member of an epoch before our restart: tell it to log in again.
				else if (accepted.reason === 'wrong-epoch') this.options.transport.send(from, encodeClear(encodeBody({ type: 'rejoin', epoch: this.epoch })));
				return;
			}
		}
	}

	#onClear(body: Buffer, from: Address): void {
		const message = decodeBody(clearMessage, body);
		if (!message.ok || message.value.type !== 'hello') {
			this.link.traffic.countDrop(message.ok ? 'unexpected' : message.reason);
			return;
		}
		this.#forgetOldHandshakes();
		const clientKey = message.value.eph;
		let pending = this.#pending.get(clientKey);
		if (!pending) {
			if (this.#pending.size >= MAX_PENDING_HANDSHAKES) {
				this.options.transport.send(from, encodeClear(encodeBody({ type: 'refused', reason: 'tracker busy: too many logins under way, try again shortly' })));
				return;
			}
			pending = { ephemeral: ephemeralAgreement(systemRandom), at: this.options.clock.now() };
			this.#pending.set(clientKey, pending);
		}
		const reply = { type: 'challenge', trackerKey: this.identity.agreePublic.toString('base64'), eph: pending.ephemeral.publicKey.toString('base64') };
		this.options.transport.send(from, encodeClear(encodeBody(reply)));
	}

	async #onLogin(frame: Extract<Frame, { kind: 'handshake' }>, from: Address): Promise<void> {
		const clientKey = frame.clientEphemeral.toString('base64');
		const pending = this.#pending.get(clientKey);
		if (!pending) {
			this.link.traffic.countDrop('unexpected');
			return;
		}
		const staticSecret = agree(this.identity.agreePrivate, frame.clientEphemeral);
		const ephemeralSecret = agree(pending.ephemeral.privateKey, frame.clientEphemeral);
		if (!staticSecret || !ephemeralSecret) {
			this.link.traffic.countDrop('auth-failed');
			return;
		}
		const key = loginKey(staticSecret, ephemeralSecret, frame.clientEphemeral, pending.ephemeral.publicKey);
		const opened = openHandshake(key, frame);
		if (!opened.ok) {
			this.link.traffic.countDrop(opened.reason);
			return;
		}
		const login = opened.value;
		if (login.type !== 'login') {
			this.link.traffic.countDrop('unexpected');
			return;
		}
		if (pending.answer) {
			this.options.transport.send(from, pending.answer);
			return;
		}
		if (pending.checking) return;
		pending.checking = true;
		const answer = (reply: HandshakeMessage): void => {
			pending.answer = encodeHandshake(key, frame.clientEphemeral, encodeBody(reply), systemRandom.bytes(NONCE_BYTES));
			this.options.transport.send(from, pending.answer);
		};
		const refuse = (reason: string, retryAfterMs?: number): void => {
			this.refusals++;
			this.options.events({ type: 'login-refused', user: login.user, from: formatAddress(from), reason });
			answer(retryAfterMs === undefined ? { type: 'refused', reason } : { type: 'refused', reason, retryAfterMs });
			// A refused handshake is spent: the next attempt starts over (and is throttled).
			this.#pending.delete(clientKey);
		};
		const throttleKeys = [`user:${login.user}`, `host:${from.host}`];
		const verdict = this.#throttle.check(throttleKeys, this.options.clock.now());
		if (!verdict.allowed) {
			refuse(`too many failed logins for "${login.user}" or from ${from.host}: try again in ${Math.ceil(verdict.retryAfterMs / 1000)} s`, verdict.retryAfterMs);
			return;
		}
		const account = this.options.mall.accounts.get(login.user);
		const passwordOk = account ? await verifyPassword(login.password, account.password) : false;
		if (!account || !passwordOk) {
			this.#throttle.fail(throttleKeys, this.options.clock.now());
			refuse(account ? `wrong password for user "${login.user}"` : `unknown user "${login.user}"`);
			return;
		}
		if (account.role !== login.role) {
			refuse(`account "${login.user}" is ${account.role === 'sensor' ? 'a sensor' : 'an observer'} account, not ${login.role === 'sensor' ? 'a sensor' : 'an observer'}`);
			return;
		}
		if (login.sensor !== null && login.sensor !== account.sensor) {
			refuse(`account "${login.user}" speaks for sensor "${account.sensor}", not "${login.sensor}"`);
			return;
		}
		if (login.areas !== null) {
			const unknown = login.areas.find((area) => !this.options.mall.areas.has(area as never));
			if (unknown !== undefined) {
				refuse(`unknown area "${unknown}"`);
				return;
			}
			if (login.areas.length > MAX_SUBSCRIBED_AREAS) {
				refuse(`at most ${MAX_SUBSCRIBED_AREAS} areas can be named; leave --areas out to follow all`);
				return;
			}
		}
		this.#throttle.succeed(throttleKeys);
		const previous = this.book.get(login.user);
		const record = signCertificate(
			{
				id: login.user,
				role: account.role,
				sensor: account.sensor,
				areas: account.role === 'observer' ? login.areas : null,
				host: from.host,
				port: from.port,
				signKey: login.signKey,
				agreeKey: login.agreeKey,
				incarnation: Math.max((this.#incarnations.get(login.user) ?? 0) + 1, login.lastIncarnation + 1),
				epoch: this.epoch,
			},
			this.identity.signPrivate,
		);
		const sameProcess = previous?.agreeKey === record.agreeKey && previous.host === record.host && previous.port === record.port;
		if (previous && !sameProcess) {
			// Another process held this identity before: tell it, in case it still runs.
			this.link.send(previous.id, { type: 'superseded', incarnation: record.incarnation });
		}
		this.#incarnations.set(record.id, record.incarnation);
		await this.options.onIncarnations?.(this.#incarnations);
		this.link.setPeer(record.id, { address: from, agreeKey: Buffer.from(record.agreeKey, 'base64'), incarnation: record.incarnation });
		this.#lastHeard.set(record.id, this.options.clock.now());
		const page = this.book.put(record);
		this.logins++;
		answer({
			type: 'welcome',
			epoch: this.epoch,
			networkKey: this.networkKey.toString('base64'),
			member: record,
			trackerId: TRACKER_ID,
			trackerSignKey: this.identity.signPublic.toString('base64'),
			trackerAgreeKey: this.identity.agreePublic.toString('base64'),
			layout: { version: this.#layoutVersion, chunks: this.#layout.length },
			directoryVersion: page.to,
		});
		this.options.events({
			type: 'member-joined',
			id: record.id,
			role: record.role,
			sensor: record.sensor,
			address: formatAddress(from),
			incarnation: record.incarnation,
		});
		this.#announce();
	}

	#onMember(sender: string, message: MemberMessage, from: Address): void {
		this.#lastHeard.set(sender, this.options.clock.now());
		switch (message.type) {
			case 'directory-pull':
				for (const page of this.book.pagesSince(message.version).slice(0, MAX_PAGES_PER_PULL)) this.#sendPage(sender, page);
				return;
			case 'doc-pull': {
				const data = this.#layout[message.index];
				if (message.version !== this.#layoutVersion || data === undefined) return;
				this.link.send(sender, { type: 'doc-chunk', doc: 'layout', version: this.#layoutVersion, index: message.index, total: this.#layout.length, data });
				return;
			}
			case 'take':
			case 'reassign':
				this.#onLease(sender, message).catch((error: Error) => this.options.events({ type: 'error', message: `${message.type} from ${sender} failed: ${error.message}` }));
				return;
			case 'leave': {
				const page = this.book.remove(sender);
				this.link.removePeer(sender);
				this.#lastHeard.delete(sender);
				if (page) {
					this.options.events({ type: 'member-left', id: sender, address: formatAddress(from) });
					this.#announce();
				}
				return;
			}
			default:
				this.link.traffic.countDrop('unexpected');
		}
	}

	/**
	 * Takes and reassignments (counting/granter-registry.ts): decided one at a time, made
	 * durable, then answered. A repeated request gets the same answer.
	 */
	async #onLease(sender: string, message: Extract<MemberMessage, { type: 'take' | 'reassign' }>): Promise<void> {
		const sensor = this.book.get(sender)?.sensor;
		const area = areaId(message.area);
		if (!sensor || !this.options.mall.areas.has(area)) {
			this.link.traffic.countDrop('not-allowed');
			return;
		}
		if (message.type === 'take') {
			const holder = sensorId(message.holder);
			const before = this.granters.takenBy(area, holder, sensorId(sensor));
			const verdict = this.granters.take(area, holder, sensorId(sensor), message.gen, message.total);
			if (verdict.ok && message.total > before) {
				await this.options.onGranters?.(this.granters.toJSON());
				this.options.events({ type: 'take-approved', area, holder, granter: sensor, gen: message.gen, total: message.total, permits: message.total - before });
			}
			this.link.send(sender, { type: 'take-reply', area, holder, gen: message.gen, total: message.total, ok: verdict.ok, ...(verdict.ok ? {} : { reason: verdict.reason }) });
			return;
		}
		const holder = sensorId(sensor);
		let reason: string | undefined;
		if (message.to !== null) {
			const before = this.granters.assignment(area, holder);
			const verdict = this.granters.reassign(area, holder, message.gen, sensorId(message.to), message.floor);
			if (!verdict.ok) reason = verdict.reason;
			const after = this.granters.assignment(area, holder);
			if (after && before && after.gen !== before.gen) {
				await this.options.onGranters?.(this.granters.toJSON());
				this.options.events({ type: 'granter-moved', area, holder, from: before.granter, to: after.granter, gen: after.gen });
			}
		}
		const assignment = this.granters.assignment(area, holder);
		if (!assignment) return;
		this.link.send(sender, { type: 'assignment', area, ...assignment, ...(reason === undefined ? {} : { reason }) });
	}

	/**
	 * Tells every member what changed since the last announcement: at once if none went
	 * out in the last ANNOUNCE_MS, else together with whatever else changes until then.
	 */
	#announce(): void {
		if (this.#announceScheduled) return;
		const flush = (): void => {
			this.#announceScheduled = null;
			this.#lastAnnounce = this.options.clock.now();
			const pages = this.book.pagesSince(this.#announced);
			this.#announced = this.book.version;
			for (const member of this.book.members()) for (const page of pages) this.#sendPage(member.id, page);
		};
		const wait = this.#lastAnnounce + ANNOUNCE_MS - this.options.clock.now();
		if (wait <= 0) flush();
		else this.#announceScheduled = this.options.clock.setTimeout(flush, wait);
	}

	#sendPage(to: string, page: DirectoryPage): void {
		this.link.send(to, { type: 'directory-page', from: page.from, to: page.to, joined: page.joined as MemberRecord[], left: page.left });
	}

	#forgetOldHandshakes(): void {
		const cutoff = this.options.clock.now() - HANDSHAKE_TTL_MS;
		for (const [key, pending] of this.#pending) {
			if (pending.at >= cutoff) break; // insertion order is age order
			this.#pending.delete(key);
		}
	}

	async close(): Promise<void> {
		this.#announceScheduled?.();
		await this.options.transport.close();
	}
}
