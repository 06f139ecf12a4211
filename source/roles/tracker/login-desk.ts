import type { z } from 'zod';
import type { Account, Mall, PasswordHash } from '../../model/mall.js';
import type { Address } from '../../network/address.js';
import { decodeBody, encodeBody } from '../../protocol/codec.js';
import { encodeClear, encodeHandshake, openFrame, type Frame } from '../../protocol/frame.js';
import { handshakeMessage, type HandshakeMessage, type login } from '../../protocol/messages.js';
import type { Random } from '../../runtime/random.js';
import { handshakeCookie, loginKey, verifyDeviceProof } from '../../security/handshake-keys.js';
import { KEY_BYTES, NONCE_BYTES, agree, ephemeralAgreement, type Identity } from '../../security/keys.js';
import { LoginThrottle, type ThrottleKey, type ThrottleVerdict } from '../../security/login-throttle.js';

export type Login = z.infer<typeof login>;

/** A login that opened under its handshake key: who asked, from where, and the key to answer under. */
export interface Attempt {
	readonly login: Login;
	readonly from: Address;
	readonly clientEphemeral: Buffer;
	readonly key: Buffer;
	/** What a device proof is over: this handshake's tracker key and cookie. */
	readonly trackerEphemeral: Buffer;
	readonly cookie: Buffer;
	/** The sealed answer, once decided: a retransmitted login gets it again; until then a repeat is ignored. */
	answered: Buffer | null;
}

export type Opened =
	/** Dropped: not a login this tracker can open (a stranger's bytes, an old period, a forged address). */
	| { readonly kind: 'drop'; readonly reason: 'unexpected' | 'auth-failed' | 'malformed' }
	/** A repeat of a login already answered: the same answer again (UDP lost the first). */
	| { readonly kind: 'repeat'; readonly bytes: Buffer }
	/** A repeat of a login still being decided: nothing to do yet. */
	| { readonly kind: 'in-progress' }
	| { readonly kind: 'new'; readonly attempt: Attempt };

export type Verification =
	/** The member proved the device key certified for it before: no password check, no throttle. */
	| { readonly kind: 'device' }
	/** The password must be checked (scrypt, in the shell): against `hash`, a dummy of the same cost for unknown users. */
	| { readonly kind: 'password'; readonly hash: PasswordHash; readonly keys: readonly ThrottleKey[] }
	| { readonly kind: 'throttled'; readonly retryAfterMs: number }
	| { readonly kind: 'busy'; readonly retryAfterMs: number };

/**
 * How long one handshake key and cookie secret serve: a login must come within two
 * periods of its hello, and a key leaked later opens no login older than that.
 */
export const HANDSHAKE_PERIOD_MS = 30_000;
/** Password checks (scrypt, ~40 ms each) running at once; beyond, logins are told to come back. */
export const MAX_CHECKS = 4;
/** How long a busy tracker asks a login to wait before trying again. */
const BUSY_RETRY_MS = 250;
/** Answers kept to repeat to retransmitted logins (bounded: a stranger cannot grow it). */
const ANSWERS_KEPT = 4096;
/** Failures of one user allowed from hosts other than its last good one before they are slowed. */
const FREE_FROM_ANYWHERE = 10;
/** Failures from one host, whatever the users, before it is slowed. */
const FREE_PER_HOST = 10;

interface Period {
	readonly index: number;
	readonly secret: Buffer;
	readonly ephemeral: ReturnType<typeof ephemeralAgreement>;
}

/**
 * The tracker's front desk for logins (design.md §6). Three rules from WireGuard:
 * nothing a stranger sends costs the tracker memory (a hello is answered from a secret
 * of the period, not a table); only whoever receives at an address can log in from it
 * (the cookie is in the login key); the expensive step (scrypt) comes only after the
 * cheap ones, and is counted before it runs. Unknown users are checked against a dummy
 * hash of the same cost, and refused in the same words, so answers do not tell them apart.
 */
export class LoginDesk {
	#current: Period;
	#previous: Period | null = null;
	readonly #throttle = new LoginThrottle();
	/** Attempts by client key: being decided, or answered (kept to repeat the answer). */
	readonly #attempts = new Map<string, Attempt>();
	/** The host each user last logged in from: guesses from elsewhere cannot lock it out. */
	readonly #lastGoodHost = new Map<string, string>();
	#checking = 0;
	readonly #dummy: PasswordHash;

	constructor(
		readonly mall: Mall,
		readonly identity: Identity,
		readonly random: Random,
		/** Each member's device key (Ed25519, base64) as last certified, from the data directory. */
		readonly devices: Map<string, string>,
		now: number,
	) {
		this.#current = this.#period(Math.floor(now / HANDSHAKE_PERIOD_MS));
		this.#dummy = dummyHash(mall, random);
	}

	/** The challenge for a hello: made from the period's secret, nothing kept. */
	challenge(clientEphemeral: string, from: Address, now: number): Buffer {
		this.#rotate(now);
		const period = this.#current;
		const cookie = handshakeCookie(period.secret, Buffer.from(clientEphemeral, 'base64'), from);
		return encodeClear(
			encodeBody({
				type: 'challenge',
				for: clientEphemeral,
				trackerKey: this.identity.agreePublic.toString('base64'),
				eph: period.ephemeral.publicKey.toString('base64'),
				period: period.index,
				cookie: cookie.toString('base64'),
			}),
		);
	}

	/** Opens a sealed login; only one made from our challenge to that address opens. */
	open(frame: Extract<Frame, { kind: 'handshake' }>, from: Address, now: number): Opened {
		this.#rotate(now);
		const clientKey = frame.clientEphemeral.toString('base64');
		const known = this.#attempts.get(clientKey);
		if (known) {
			if (known.from.host !== from.host || known.from.port !== from.port) return { kind: 'drop', reason: 'unexpected' };
			return known.answered ? { kind: 'repeat', bytes: known.answered } : { kind: 'in-progress' };
		}
		const staticSecret = agree(this.identity.agreePrivate, frame.clientEphemeral);
		if (!staticSecret) return { kind: 'drop', reason: 'auth-failed' };
		for (const period of this.#previous ? [this.#current, this.#previous] : [this.#current]) {
			const ephemeralSecret = agree(period.ephemeral.privateKey, frame.clientEphemeral);
			if (!ephemeralSecret) return { kind: 'drop', reason: 'auth-failed' };
			const cookie = handshakeCookie(period.secret, frame.clientEphemeral, from);
			const key = loginKey(staticSecret, ephemeralSecret, frame.clientEphemeral, period.ephemeral.publicKey, cookie);
			const body = openFrame(key, frame);
			if (!body.ok) continue;
			const message = decodeBody(handshakeMessage, body.value);
			if (!message.ok || message.value.type !== 'login') return { kind: 'drop', reason: 'malformed' };
			const attempt: Attempt = { login: message.value, from, clientEphemeral: frame.clientEphemeral, key, trackerEphemeral: period.ephemeral.publicKey, cookie, answered: null };
			this.#remember(clientKey, attempt);
			return { kind: 'new', attempt };
		}
		return { kind: 'drop', reason: 'auth-failed' };
	}

	/** How to tell whether `attempt` is who it says: its device key, or its password (if the throttle lets it be checked now). */
	verification(attempt: Attempt, account: Account | undefined, now: number): Verification {
		const { login: request } = attempt;
		if (account !== undefined && this.devices.get(request.user) === request.signKey &&
			verifyDeviceProof(Buffer.from(request.signKey, 'base64'), request.proof, request.user, attempt.clientEphemeral, attempt.trackerEphemeral, attempt.cookie)) {
			return { kind: 'device' };
		}
		const keys = this.#throttleKeys(request.user, attempt.from.host);
		const verdict: ThrottleVerdict = this.#throttle.begin(keys, now);
		if (!verdict.allowed) return { kind: 'throttled', retryAfterMs: verdict.retryAfterMs };
		if (this.#checking >= MAX_CHECKS) {
			this.#throttle.cancel(keys);
			return { kind: 'busy', retryAfterMs: BUSY_RETRY_MS };
		}
		this.#checking++;
		return { kind: 'password', hash: account?.password ?? this.#dummy, keys };
	}

	/** A password check ended; `valid` only for a real account whose password matched. */
	checked(attempt: Attempt, keys: readonly ThrottleKey[], valid: boolean, now: number): void {
		this.#checking = Math.max(0, this.#checking - 1);
		if (!valid) {
			this.#throttle.fail(keys, now);
			return;
		}
		this.#throttle.succeed(keys);
		this.#lastGoodHost.set(attempt.login.user, attempt.from.host);
	}

	/** Seals `message` as the answer to `attempt`, kept to repeat to a retransmitted login. */
	answer(attempt: Attempt, message: HandshakeMessage): Buffer {
		attempt.answered = encodeHandshake(attempt.key, attempt.clientEphemeral, encodeBody(message), this.random.bytes(NONCE_BYTES));
		return attempt.answered;
	}

	/** A refused attempt is spent: the next try starts a new handshake (and is throttled). */
	forget(attempt: Attempt): void {
		const clientKey = attempt.clientEphemeral.toString('base64');
		if (this.#attempts.get(clientKey) === attempt) this.#attempts.delete(clientKey);
	}

	#throttleKeys(user: string, host: string): ThrottleKey[] {
		const keys: ThrottleKey[] = [
			{ key: `user:${user}@${host}`, free: 3 },
			{ key: `host:${host}`, free: FREE_PER_HOST },
		];
		if (this.#lastGoodHost.get(user) !== host) keys.push({ key: `user:${user}`, free: FREE_FROM_ANYWHERE });
		return keys;
	}

	#remember(clientKey: string, attempt: Attempt): void {
		if (this.#attempts.size >= ANSWERS_KEPT) {
			// Oldest first (insertion order); one still being decided is kept.
			for (const [key, old] of this.#attempts) {
				if (old.answered) {
					this.#attempts.delete(key);
					break;
				}
			}
		}
		this.#attempts.set(clientKey, attempt);
	}

	#rotate(now: number): void {
		const index = Math.floor(now / HANDSHAKE_PERIOD_MS);
		if (index <= this.#current.index) return;
		this.#previous = index === this.#current.index + 1 ? this.#current : null;
		this.#current = this.#period(index);
	}

	#period(index: number): Period {
		return { index, secret: this.random.bytes(KEY_BYTES), ephemeral: ephemeralAgreement(this.random) };
	}
}

/**
 * A hash nobody's password matches, with the cost parameters most accounts use: an
 * unknown user's login costs the same scrypt as a known one's, so timing does not tell
 * which user names exist.
 */
function dummyHash(mall: Mall, random: Random): PasswordHash {
	const counts = new Map<string, { hash: PasswordHash; count: number }>();
	for (const account of mall.accounts.values()) {
		const { N, r, p } = account.password;
		const key = `${N} ${r} ${p}`;
		const entry = counts.get(key) ?? { hash: account.password, count: 0 };
		entry.count++;
		counts.set(key, entry);
	}
	const common = [...counts.values()].sort((a, b) => b.count - a.count)[0]?.hash;
	const { N, r, p } = common ?? { N: 16384, r: 8, p: 1 };
	return { algorithm: 'scrypt', salt: random.bytes(16), hash: random.bytes(32), N, r, p };
}
