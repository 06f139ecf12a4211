import { sensorId } from '../../model/ids.js';
import type { Account, Mall, PasswordHash } from '../../model/mall.js';
import { layoutToJson } from '../../model/layout-codec.js';
import { formatAddress, type Address } from '../../network/address.js';
import { DirectoryBook, type DirectoryPage } from '../../network/directory-book.js';
import { chunkDocument } from '../../network/document.js';
import { MemberLink } from '../../network/member-link.js';
import type { SavedGranters } from '../../counting/granter-registry.js';
import { decodeBody, encodeBody } from '../../protocol/codec.js';
import { encodeClear, parseFrame } from '../../protocol/frame.js';
import { clearMessage, MAX_INCARNATION, MAX_SUBSCRIBED_AREAS, type MemberMessage, type MemberRecord } from '../../protocol/messages.js';
import type { Kept } from '../../recovery/data-directory.js';
import { Outbox } from '../../runtime/outbox.js';
import type { Random } from '../../runtime/random.js';
import { signCertificate } from '../../security/certificate.js';
import { randomKey, type Identity } from '../../security/keys.js';
import type { ThrottleKey } from '../../security/login-throttle.js';
import { LeaseNotary } from './lease-notary.js';
import { LoginDesk, type Attempt } from './login-desk.js';

/** The tracker's id among members. */
export const TRACKER_ID = 'tracker';

/** Pages sent for one pull: the member pulls again once it has them, so bursts stay small. */
const MAX_PAGES_PER_PULL = 16;
/** Joins and leaves within this window are announced together, two members to a page. */
const ANNOUNCE_MS = 20;
/** At most one "log in again" hint per address this often: a flood of old-epoch datagrams gets few answers. */
const HINT_EVERY_MS = 250;
const HINTS_KEPT = 4096;
/** What a refused member is told, whatever the cause: the tracker's own log says which. */
const NOT_ACCEPTED = 'the user name or password was not accepted';

export interface TrackerConfig {
	readonly mall: Mall;
	/** Its static identity: logins are encrypted to it, certificates and assignments signed by it. */
	readonly identity: Identity;
	readonly random: Random;
	/** The epoch to start; a random one if not given (a restart is a new epoch). */
	readonly epoch?: number;
	/** What its data directory kept: incarnations, granters, device keys, revoked accounts. */
	readonly kept?: Partial<Pick<Kept, 'members' | 'granters' | 'devices' | 'revoked'>>;
}

export type TrackerEffect =
	/** Check a password against a hash (scrypt, ~40 ms: off the core) and call `passwordChecked`. */
	| { readonly kind: 'check-password'; readonly ticket: number; readonly password: string; readonly hash: PasswordHash }
	/** Make these facts durable and call `persisted`: nothing that depends on them is answered before. */
	| { readonly kind: 'persist'; readonly ticket: number; readonly changes: Partial<Kept> };

/**
 * The tracker, as a state machine: holds the layout and the accounts, authenticates
 * members (login-desk.ts), certifies them and tells everyone who is in the network
 * (directory pages, layout chunks), and notarises lease takes and granter moves
 * (lease-notary.ts). Not on the counting path: if it stops, counting goes on and only
 * joining waits. Nothing it answers depends on a fact it has not made durable first.
 */
export class TrackerCore {
	readonly outbox = new Outbox<TrackerEffect>();
	epoch: number;
	networkKey: Buffer;
	readonly book = new DirectoryBook();
	link: MemberLink;
	readonly desk: LoginDesk;
	readonly notary: LeaseNotary;
	/** The last incarnation given to each member, kept after it leaves: a returning member always gets a higher one. */
	readonly incarnations: Map<string, number>;
	readonly devices: Map<string, string>;
	readonly revoked: Set<string>;
	readonly #layout: string[];
	readonly #layoutVersion: number;
	readonly #lastHeard = new Map<string, number>();
	readonly #hintedAt = new Map<string, number>();
	/** The process run each member last logged in from (login `run`): not kept, a restarted tracker only loses the shortcut. */
	readonly #runs = new Map<string, string>();
	#announced = 0;
	#lastAnnounce = -Infinity;
	#announceAt = Infinity;
	#ticket = 0;
	readonly #continuations = new Map<number, (ok: boolean, now: number) => void>();
	logins = 0;
	refusals = 0;

	constructor(readonly config: TrackerConfig, now: number) {
		const { mall, identity, random, kept } = config;
		this.incarnations = new Map(kept?.members ?? []);
		this.devices = new Map(kept?.devices ?? []);
		this.revoked = new Set(kept?.revoked ?? []);
		this.epoch = config.epoch ?? 1 + (random.bytes(4).readUInt32BE(0) % (2 ** 31 - 1));
		this.networkKey = randomKey(random);
		this.link = this.#newLink();
		this.desk = new LoginDesk(mall, identity, random, this.devices, now);
		this.notary = new LeaseNotary(mall, kept?.granters ?? {}, identity.signPrivate);
		this.#layout = chunkDocument(layoutToJson(mall));
		this.#layoutVersion = this.epoch;
	}

	get identity(): Identity {
		return this.config.identity;
	}

	/** When each member was last heard from (milliseconds on the tracker's clock). */
	lastHeard(id: string): number | undefined {
		return this.#lastHeard.get(id);
	}

	receive(bytes: Buffer, from: Address, now: number): void {
		const frame = parseFrame(bytes);
		if (!frame.ok) {
			this.link.traffic.countDrop(frame.reason);
			return;
		}
		switch (frame.value.kind) {
			case 'clear': {
				const message = decodeBody(clearMessage, frame.value.body);
				if (message.ok && message.value.type === 'hello') this.outbox.send(from, this.desk.challenge(message.value.eph, from, now));
				else this.link.traffic.countDrop(message.ok ? 'unexpected' : message.reason);
				return;
			}
			case 'handshake': {
				const opened = this.desk.open(frame.value, from, now);
				if (opened.kind === 'drop') this.link.traffic.countDrop(opened.reason);
				else if (opened.kind === 'repeat') this.outbox.send(from, opened.bytes);
				else if (opened.kind === 'new') this.#admit(opened.attempt, now);
				return;
			}
			case 'member': {
				const accepted = this.link.accept(frame.value);
				if (accepted.ok) this.#onMember(accepted.value.sender, accepted.value.message, from, now);
				// A member of an epoch before our restart: tell it to log in again (it checks first).
				else if (accepted.reason === 'wrong-epoch') this.#hint(from, now);
				return;
			}
		}
	}

	tick(now: number): void {
		if (now >= this.#announceAt) this.#flushAnnouncements(now);
	}

	wakeAt(): number {
		return this.#announceAt;
	}

	/** A password check asked for by `check-password` ended. */
	passwordChecked(ticket: number, matches: boolean, now: number): void {
		this.#resume(ticket, matches, now);
	}

	/** A `persist` was made durable (or could not be: `ok` false). */
	persisted(ticket: number, ok: boolean, now: number): void {
		this.#resume(ticket, ok, now);
	}

	// ---- logins ----------------------------------------------------------------------

	#admit(attempt: Attempt, now: number): void {
		const { user } = attempt.login;
		const account = this.config.mall.accounts.get(user);
		const verification = this.desk.verification(attempt, account, now);
		switch (verification.kind) {
			case 'device':
				this.#authenticated(attempt, account!, 'device key');
				return;
			case 'throttled':
				this.#refuse(attempt, `too many failed logins for "${user}" or from ${attempt.from.host}: try again in ${Math.ceil(verification.retryAfterMs / 1000)} s`, 'throttled', { retryAfterMs: verification.retryAfterMs });
				return;
			case 'busy':
				this.#refuse(attempt, 'the tracker is busy checking other logins: try again shortly', 'busy', { retryAfterMs: verification.retryAfterMs, busy: true });
				return;
			case 'password':
				this.#checkPassword(attempt, account, verification.hash, verification.keys);
				return;
		}
	}

	#checkPassword(attempt: Attempt, account: Account | undefined, hash: PasswordHash, keys: readonly ThrottleKey[]): void {
		const ticket = this.#await((matches, now) => {
			const valid = matches && account !== undefined;
			this.desk.checked(attempt, keys, valid, now);
			if (valid) this.#authenticated(attempt, account, 'password');
			else this.#refuse(attempt, NOT_ACCEPTED, account ? `wrong password for user "${attempt.login.user}"` : `unknown user "${attempt.login.user}"`);
		});
		this.outbox.push({ kind: 'check-password', ticket, password: attempt.login.password, hash });
	}

	/** Who it says it is: now whether the account may be what it asks to be. */
	#authenticated(attempt: Attempt, account: Account, via: string): void {
		const { login } = attempt;
		if (this.revoked.has(login.user)) {
			this.#refuse(attempt, `account "${login.user}" was revoked by the operator`, 'revoked', { revoked: true });
			return;
		}
		if (account.role !== login.role) {
			this.#refuse(attempt, `account "${login.user}" is ${account.role === 'sensor' ? 'a sensor' : 'an observer'} account, not ${login.role === 'sensor' ? 'a sensor' : 'an observer'}`);
			return;
		}
		if (login.sensor !== null && login.sensor !== account.sensor) {
			this.#refuse(attempt, `account "${login.user}" speaks for sensor "${account.sensor}", not "${login.sensor}"`);
			return;
		}
		if (login.areas !== null) {
			const unknown = login.areas.find((area) => !this.config.mall.areas.has(area as never));
			if (unknown !== undefined) {
				this.#refuse(attempt, `unknown area "${unknown}"`);
				return;
			}
			if (login.areas.length > MAX_SUBSCRIBED_AREAS) {
				this.#refuse(attempt, `at most ${MAX_SUBSCRIBED_AREAS} areas can be named; leave --areas out to follow all`);
				return;
			}
		}
		const previous = this.book.get(login.user);
		const sameProcess = previous !== undefined && previous.signKey === login.signKey && previous.agreeKey === login.agreeKey && previous.host === attempt.from.host && previous.port === attempt.from.port;
		const known = this.incarnations.get(login.user) ?? 0;
		// A process that logs in again while it runs keeps its incarnation: it restarted
		// nothing, its sequence numbers go on, and its neighbours need learn nothing new.
		const continuing = login.continuing && login.lastIncarnation > 0 && this.devices.get(login.user) === login.signKey && (sameProcess ? previous.incarnation === login.lastIncarnation : login.lastIncarnation >= known);
		// The same run logging in again before it heard our welcome (lost, or late): the same incarnation.
		const again = !continuing && previous !== undefined && this.#runs.get(login.user) === login.run && previous.signKey === login.signKey;
		const incarnation = continuing ? login.lastIncarnation : again ? previous.incarnation : Math.max(known, login.lastIncarnation) + 1;
		if (incarnation > MAX_INCARNATION) {
			// Four billion restarts are no honest account's: someone with its password claimed the last one.
			this.#refuse(attempt, `account "${login.user}" has no incarnation left (the last one given was ${known}); the operator must revoke it and make a new account`);
			return;
		}
		const record = signCertificate(
			{
				id: login.user,
				role: account.role,
				sensor: account.sensor,
				areas: account.role === 'observer' ? login.areas : null,
				host: attempt.from.host,
				port: attempt.from.port,
				signKey: login.signKey,
				agreeKey: login.agreeKey,
				incarnation,
				epoch: this.epoch,
			},
			this.identity.signPrivate,
		);
		this.incarnations.set(login.user, incarnation);
		this.devices.set(login.user, login.signKey);
		this.#runs.set(login.user, login.run);
		// Durable before the welcome: a member never gets an incarnation twice, and its device key is known next time.
		const ticket = this.#await((ok, when) => {
			if (!ok) {
				this.desk.forget(attempt);
				this.#event({ type: 'error', message: `the login of "${login.user}" could not be made durable; not answered` });
				return;
			}
			if (previous && !sameProcess && !again) {
				// Another process held this identity before: tell it, in case it still runs.
				this.link.send(previous.id, { type: 'superseded', incarnation });
			}
			this.link.setPeer(record.id, { address: attempt.from, agreeKey: Buffer.from(record.agreeKey, 'base64'), incarnation });
			this.#lastHeard.set(record.id, when);
			const unchanged = previous !== undefined && previous.sig === record.sig;
			const version = unchanged ? this.book.version : this.book.put(record).to;
			this.logins++;
			this.outbox.send(attempt.from, this.desk.answer(attempt, {
				type: 'welcome',
				epoch: this.epoch,
				networkKey: this.networkKey.toString('base64'),
				member: record,
				trackerId: TRACKER_ID,
				trackerSignKey: this.identity.signPublic.toString('base64'),
				trackerAgreeKey: this.identity.agreePublic.toString('base64'),
				layout: { version: this.#layoutVersion, chunks: this.#layout.length },
				directoryVersion: version,
			}));
			this.#event({ type: 'member-joined', id: record.id, role: record.role, sensor: record.sensor, address: formatAddress(attempt.from), incarnation, via, continuing });
			if (!unchanged) this.#announce(when);
		});
		this.outbox.push({ kind: 'persist', ticket, changes: { members: new Map(this.incarnations), devices: new Map(this.devices) } });
	}

	/** Refuses a login: the member is told `reason`; the operator's log says `detail`. */
	#refuse(attempt: Attempt, reason: string, detail = reason, extra: { retryAfterMs?: number; busy?: boolean; revoked?: boolean } = {}): void {
		this.refusals++;
		this.#event({ type: 'login-refused', user: attempt.login.user, from: formatAddress(attempt.from), reason: detail });
		this.outbox.send(attempt.from, this.desk.answer(attempt, { type: 'refused', reason, ...extra }));
		// A refused handshake is spent: the next attempt starts over (and is throttled).
		this.desk.forget(attempt);
	}

	#hint(from: Address, now: number): void {
		const key = formatAddress(from);
		if (now - (this.#hintedAt.get(key) ?? -Infinity) < HINT_EVERY_MS) return;
		if (this.#hintedAt.size >= HINTS_KEPT) this.#hintedAt.clear();
		this.#hintedAt.set(key, now);
		this.outbox.send(from, encodeClear(encodeBody({ type: 'rejoin', epoch: this.epoch })));
	}

	// ---- members ---------------------------------------------------------------------

	#onMember(sender: string, message: MemberMessage, from: Address, now: number): void {
		this.#lastHeard.set(sender, now);
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
				this.#onLease(sender, message);
				return;
			case 'leave': {
				const page = this.book.remove(sender);
				this.link.removePeer(sender);
				this.#lastHeard.delete(sender);
				if (page) {
					this.#event({ type: 'member-left', id: sender, address: formatAddress(from) });
					this.#announce(now);
				}
				return;
			}
			default:
				this.link.traffic.countDrop('unexpected');
		}
	}

	/** Takes and granter moves: decided one at a time, made durable, then answered. */
	#onLease(sender: string, message: Extract<MemberMessage, { type: 'take' | 'reassign' }>): void {
		const sensor = this.book.get(sender)?.sensor;
		if (!sensor || !this.config.mall.areas.has(message.area as never)) {
			this.link.traffic.countDrop('not-allowed');
			return;
		}
		const { changed, events } = this.notary.decide(sender, sensorId(sensor), message);
		if (!changed) {
			this.#sendDurable(this.notary.durable(0));
			return;
		}
		const version = this.notary.version;
		const ticket = this.#await((ok) => {
			if (!ok) {
				this.#event({ type: 'error', message: `a ${message.type} from ${sender} could not be made durable; not answered` });
				return;
			}
			for (const event of events) this.#event(event);
			this.#sendDurable(this.notary.durable(version));
		});
		this.outbox.push({ kind: 'persist', ticket, changes: { granters: this.notary.registry.toJSON() as SavedGranters } });
	}

	#sendDurable(replies: readonly { readonly to: string; readonly reply: MemberMessage }[]): void {
		for (const { to, reply } of replies) this.link.send(to, reply);
	}

	// ---- revocation --------------------------------------------------------------------

	/**
	 * Revokes an account for good (the operator's `revoke USER`): it can no longer log in,
	 * leaves the directory, and the network moves to a new epoch and key without it, so
	 * it can neither read nor send anything more. Its permits go back to its areas by the
	 * reclaim rules, as for a dead sensor. Returns the line to show the operator.
	 */
	revoke(user: string): { readonly ok: boolean; readonly message: string } {
		if (!this.config.mall.accounts.has(user)) return { ok: false, message: `no account "${user}" in the fixture` };
		if (this.revoked.has(user)) return { ok: false, message: `"${user}" is revoked already` };
		// Refused from now on (failing closed), though the revocation holds only once durable.
		// Its device key stays known: a revoked device that logs in is recognised, and told so, and stops.
		this.revoked.add(user);
		const ticket = this.#await((ok, when) => {
			if (!ok) {
				// Not durable, so not done: a restart would forget it. Let the operator say it again.
				this.revoked.delete(user);
				this.#event({ type: 'error', message: `the revocation of "${user}" could not be made durable (the tracker's data directory could not be written); nothing changed: revoke it again once it can` });
				return;
			}
			this.#rekeyWithout(user, when);
		});
		this.outbox.push({ kind: 'persist', ticket, changes: { revoked: [...this.revoked] } });
		return { ok: true, message: `revoking "${user}": a new epoch without it follows` };
	}

	#rekeyWithout(user: string, now: number): void {
		const previousEpoch = this.epoch;
		const oldLink = this.link;
		const page = this.book.remove(user);
		this.epoch = 1 + (this.config.random.bytes(4).readUInt32BE(0) % (2 ** 31 - 1));
		this.networkKey = randomKey(this.config.random);
		// Each member hears the new key over the old epoch's link, sealed to it alone.
		for (const member of this.book.members()) {
			const record = signCertificate({ ...withoutSignature(member), epoch: this.epoch }, this.identity.signPrivate);
			oldLink.send(member.id, { type: 'rekey', epoch: this.epoch, networkKey: this.networkKey.toString('base64'), member: record, left: user });
		}
		this.link = this.#newLink(oldLink);
		for (const member of this.book.members()) {
			this.link.setPeer(member.id, { address: { host: member.host, port: member.port }, agreeKey: Buffer.from(member.agreeKey, 'base64'), incarnation: member.incarnation });
		}
		this.#lastHeard.delete(user);
		this.#event({ type: 'revoked', user, epoch: this.epoch, previousEpoch });
		if (page) this.#announce(now);
	}

	#newLink(previous?: MemberLink): MemberLink {
		return new MemberLink({
			transport: { send: (to, bytes) => this.outbox.send(to, bytes) },
			identity: this.config.identity,
			self: TRACKER_ID,
			incarnation: 1,
			epoch: this.epoch,
			networkKey: this.networkKey,
			traffic: previous?.traffic,
		});
	}

	// ---- announcements -----------------------------------------------------------------

	/**
	 * Tells every member what changed since the last announcement: at once if none went
	 * out in the last ANNOUNCE_MS, else together with whatever else changes until then.
	 */
	#announce(now: number): void {
		if (this.#announceAt !== Infinity) return;
		this.#announceAt = Math.max(now, this.#lastAnnounce + ANNOUNCE_MS);
		if (this.#announceAt <= now) this.#flushAnnouncements(now);
	}

	#flushAnnouncements(now: number): void {
		this.#announceAt = Infinity;
		this.#lastAnnounce = now;
		const pages = this.book.pagesSince(this.#announced);
		this.#announced = this.book.version;
		for (const member of this.book.members()) for (const page of pages) this.#sendPage(member.id, page);
	}

	#sendPage(to: string, page: DirectoryPage): void {
		this.link.send(to, { type: 'directory-page', from: page.from, to: page.to, joined: page.joined as MemberRecord[], left: page.left });
	}

	// ---- effects ------------------------------------------------------------------------

	#await(continuation: (ok: boolean, now: number) => void): number {
		const ticket = ++this.#ticket;
		this.#continuations.set(ticket, continuation);
		return ticket;
	}

	#resume(ticket: number, ok: boolean, now: number): void {
		const continuation = this.#continuations.get(ticket);
		this.#continuations.delete(ticket);
		continuation?.(ok, now);
	}

	#event(event: { readonly type: string; readonly [field: string]: unknown }): void {
		this.outbox.event(event);
	}
}

function withoutSignature(record: MemberRecord): Omit<MemberRecord, 'sig'> {
	const unsigned: Partial<MemberRecord> = { ...record };
	delete unsigned.sig;
	return unsigned as Omit<MemberRecord, 'sig'>;
}
