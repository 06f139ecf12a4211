import type { z } from 'zod';
import { formatAddress, type Address } from '../../network/address.js';
import { decodeBody, encodeBody } from '../../protocol/codec.js';
import { encodeClear, encodeHandshake, type Frame } from '../../protocol/frame.js';
import { openHandshake } from '../../protocol/handshake.js';
import { clearMessage, type login, type welcome } from '../../protocol/messages.js';
import type { Random } from '../../runtime/random.js';
import { deviceProof, loginKey } from '../../security/handshake-keys.js';
import { NONCE_BYTES, agree, ephemeralAgreement, type Identity } from '../../security/keys.js';

export type Welcome = z.infer<typeof welcome>;
/** What a member asks for when it logs in (the proof is made per handshake). */
export type LoginRequest = Omit<z.infer<typeof login>, 'type' | 'proof'>;

export interface SessionConfig {
	readonly tracker: Address;
	readonly request: LoginRequest;
	readonly identity: Identity;
	/**
	 * The tracker's X25519 key, base64, when it is known: pinned by the operator, kept from
	 * the first login in the data directory, or learned by this process. A challenge with
	 * any other key is ignored: the password goes to nobody else.
	 */
	readonly trustedTrackerKey: string | null;
	readonly retryMs: number;
	readonly timeoutMs: number;
	readonly random: Random;
}

export type SessionResult =
	| { readonly kind: 'welcome'; readonly welcome: Welcome; readonly trackerKey: string }
	| { readonly kind: 'failed'; readonly message: string; readonly revoked?: boolean };

/** Retries towards the tracker back off up to this many times the first interval. */
const MAX_BACKOFF = 4;
/**
 * A sealed login sent this many times without an answer (about 7 s with the backoff)
 * starts over from a new hello: the tracker may have restarted since its challenge, and a
 * new one knows neither its old ephemeral key nor its cookie secret, so repeating the
 * login would never be answered. A tracker that is only slow answers well within it.
 */
const LOGIN_SENDS = 5;

/**
 * The member's side of a login, as a state machine: hello → challenge → sealed login →
 * sealed welcome or refusal. Each step is sent again, backing off, until answered (UDP
 * may lose it), and the whole is bounded by `timeoutMs`. Only what is sealed under the
 * login key — which only the tracker holding the trusted key can derive — can end the
 * session: an unauthenticated datagram is ignored, never believed.
 */
export class LoginSession {
	#ephemeral: ReturnType<typeof ephemeralAgreement>;
	#key: Buffer | null = null;
	#sealedLogin: Buffer | null = null;
	#hello: Buffer;
	#nextSendAt: number;
	#interval: number;
	readonly #deadline: number;
	/** A challenge came with another key than the trusted one: said at the timeout. */
	#untrustedKey: string | null = null;
	/** The tracker was busy: start a new handshake at this time. */
	#restartAt = Infinity;
	/** Times the sealed login went out unanswered. */
	#loginSends = 0;
	/** The key the tracker answered with, once a challenge was taken. */
	#trackerKey = '';
	result: SessionResult | null = null;

	constructor(readonly config: SessionConfig, readonly out: { send(to: Address, bytes: Buffer): void }, now: number) {
		this.#ephemeral = ephemeralAgreement(config.random);
		this.#hello = this.#makeHello();
		this.#interval = config.retryMs;
		this.#deadline = now + config.timeoutMs;
		this.#nextSendAt = now;
		this.tick(now);
	}

	wakeAt(): number {
		return this.result !== null ? Infinity : Math.min(this.#nextSendAt, this.#deadline, this.#restartAt);
	}

	tick(now: number): void {
		if (this.result !== null) return;
		if (now >= this.#deadline) {
			const { tracker, trustedTrackerKey } = this.config;
			this.#fail(
				this.#untrustedKey !== null
					? `the tracker at ${formatAddress(tracker)} answered with key ${this.#untrustedKey}, not the trusted ${trustedTrackerKey}: refusing to send the password (pass --tracker-key ${this.#untrustedKey} if the tracker's key really changed)`
					: `the tracker at ${formatAddress(tracker)} did not answer within ${Math.round(this.config.timeoutMs / 1000)} s`,
			);
			return;
		}
		if (this.#sealedLogin !== null && this.#loginSends >= LOGIN_SENDS && now >= this.#nextSendAt) this.#restartAt = now;
		if (now >= this.#restartAt) {
			// A busy tracker answered the last handshake for good, or a restarted one cannot answer it: start afresh.
			this.#restartAt = Infinity;
			this.#loginSends = 0;
			this.#ephemeral = ephemeralAgreement(this.config.random);
			this.#hello = this.#makeHello();
			this.#key = null;
			this.#sealedLogin = null;
			this.#interval = this.config.retryMs;
			this.#nextSendAt = now;
		}
		if (now >= this.#nextSendAt && this.#restartAt === Infinity) {
			this.out.send(this.config.tracker, this.#sealedLogin ?? this.#hello);
			if (this.#sealedLogin !== null) this.#loginSends++;
			// A tracker busy with a burst of logins must not be buried in repeats.
			this.#nextSendAt = now + this.#interval;
			this.#interval = Math.min(this.#interval * 2, MAX_BACKOFF * this.config.retryMs);
		}
	}

	/** A clear or handshake frame that came from the tracker's address. */
	handle(frame: Frame, now: number): void {
		if (this.result !== null) return;
		if (frame.kind === 'clear') this.#onClear(frame.body, now);
		else if (frame.kind === 'handshake') this.#onSealed(frame, now);
	}

	#onClear(body: Buffer, now: number): void {
		const message = decodeBody(clearMessage, body);
		if (!message.ok || message.value.type !== 'challenge' || this.#key) return;
		const challenge = message.value;
		if (challenge.for !== this.#ephemeral.publicKey.toString('base64')) return; // for another hello
		const { trustedTrackerKey, identity, request } = this.config;
		if (trustedTrackerKey !== null && challenge.trackerKey !== trustedTrackerKey) {
			this.#untrustedKey = challenge.trackerKey;
			return;
		}
		const trackerKey = Buffer.from(challenge.trackerKey, 'base64');
		const trackerEphemeral = Buffer.from(challenge.eph, 'base64');
		const cookie = Buffer.from(challenge.cookie, 'base64');
		const staticSecret = agree(this.#ephemeral.privateKey, trackerKey);
		const ephemeralSecret = agree(this.#ephemeral.privateKey, trackerEphemeral);
		if (!staticSecret || !ephemeralSecret) return;
		const clientEphemeral = this.#ephemeral.publicKey;
		this.#key = loginKey(staticSecret, ephemeralSecret, clientEphemeral, trackerEphemeral, cookie);
		this.#trackerKey = challenge.trackerKey;
		const proof = deviceProof(identity.signPrivate, request.user, clientEphemeral, trackerEphemeral, cookie);
		this.#sealedLogin = encodeHandshake(this.#key, clientEphemeral, encodeBody({ type: 'login', ...request, proof }), this.config.random.bytes(NONCE_BYTES));
		this.out.send(this.config.tracker, this.#sealedLogin);
		this.#loginSends = 1;
		this.#interval = this.config.retryMs;
		this.#nextSendAt = now + this.#interval;
	}

	#onSealed(frame: Extract<Frame, { kind: 'handshake' }>, now: number): void {
		if (!this.#key || !frame.clientEphemeral.equals(this.#ephemeral.publicKey)) return;
		const message = openHandshake(this.#key, frame);
		if (!message.ok) return;
		const answer = message.value;
		if (answer.type === 'welcome') {
			this.result = { kind: 'welcome', welcome: answer, trackerKey: this.#trackerKey };
		} else if (answer.type === 'refused') {
			if (answer.busy === true && now + (answer.retryAfterMs ?? this.config.retryMs) < this.#deadline) {
				this.#restartAt = now + (answer.retryAfterMs ?? this.config.retryMs);
				return;
			}
			this.#fail(`the tracker refused the login: ${answer.reason}`, answer.revoked === true);
		}
	}

	#makeHello(): Buffer {
		return encodeClear(encodeBody({ type: 'hello', eph: this.#ephemeral.publicKey.toString('base64') }));
	}

	#fail(message: string, revoked = false): void {
		this.result = revoked ? { kind: 'failed', message, revoked } : { kind: 'failed', message };
	}
}
