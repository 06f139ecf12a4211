import type { z } from 'zod';
import { decodeBody, encodeBody } from '../protocol/codec.js';
import { encodeClear, encodeHandshake, type Frame } from '../protocol/frame.js';
import { openHandshake } from '../protocol/handshake.js';
import { clearMessage, type login, type welcome } from '../protocol/messages.js';
import { loginKey } from '../security/handshake-keys.js';
import { NONCE_BYTES, agree, ephemeralAgreement } from '../security/keys.js';
import type { Address } from './address.js';
import { formatAddress } from './address.js';
import type { Clock } from '../runtime/clock.js';
import type { Transport } from './transport.js';
import { systemRandom } from '../runtime/random.js';

export type Welcome = z.infer<typeof welcome>;
export type LoginRequest = Omit<z.infer<typeof login>, 'type'>;

export interface SessionOptions {
	readonly transport: Transport;
	readonly clock: Clock;
	readonly tracker: Address;
	readonly request: LoginRequest;
	/** The tracker's X25519 key, base64, if the operator pinned it: anything else is refused. */
	readonly pinnedTrackerKey?: string | undefined;
	readonly retryMs: number;
	readonly timeoutMs: number;
}

/** Why joining failed, in one sentence for the operator. */
export class JoinError extends Error {}

/**
 * The member's side of the login: hello → challenge → sealed login → sealed welcome or
 * refusal. Each step is re-sent until answered (UDP may lose it) and the whole is
 * bounded by `timeoutMs`. The shell routes clear and handshake frames here while it runs.
 */
export class TrackerSession {
	readonly #ephemeral = ephemeralAgreement(systemRandom);
	#key: Buffer | null = null;
	#sealedLogin: Buffer | null = null;
	#settle: { resolve: (welcome: Welcome) => void; reject: (error: Error) => void } | null = null;
	readonly #cancels: (() => void)[] = [];

	constructor(readonly options: SessionOptions) {}

	run(): Promise<Welcome> {
		return new Promise<Welcome>((resolve, reject) => {
			this.#settle = { resolve, reject };
			const { clock, retryMs, timeoutMs, tracker } = this.options;
			const hello = encodeClear(encodeBody({ type: 'hello', eph: this.#ephemeral.publicKey.toString('base64') }));
			// Re-sent until answered, backing off: a tracker busy with a burst of logins
			// (scrypt, ~40 ms each) must not be buried in repeats.
			let interval = retryMs;
			const step = (): void => {
				this.options.transport.send(tracker, this.#sealedLogin ?? hello);
				this.#cancels.push(clock.setTimeout(step, interval));
				interval = Math.min(interval * 2, 4 * retryMs);
			};
			step();
			this.#cancels.push(
				clock.setTimeout(
					() => this.#fail(`the tracker at ${formatAddress(tracker)} did not answer within ${Math.round(timeoutMs / 1000)} s`),
					timeoutMs,
				),
			);
		});
	}

	/** Takes a frame that arrived from the tracker's address. */
	handle(frame: Frame): void {
		if (frame.kind === 'clear') {
			const message = decodeBody(clearMessage, frame.body);
			if (!message.ok) return;
			if (message.value.type === 'refused') {
				this.#fail(`the tracker refused: ${message.value.reason}`);
				return;
			}
			if (message.value.type !== 'challenge' || this.#key) return;
			const trackerKey = Buffer.from(message.value.trackerKey, 'base64');
			if (this.options.pinnedTrackerKey !== undefined && message.value.trackerKey !== this.options.pinnedTrackerKey) {
				this.#fail(`the tracker's key ${message.value.trackerKey} is not the pinned one ${this.options.pinnedTrackerKey}: refusing to send the password`);
				return;
			}
			const trackerEphemeral = Buffer.from(message.value.eph, 'base64');
			const staticSecret = agree(this.#ephemeral.privateKey, trackerKey);
			const ephemeralSecret = agree(this.#ephemeral.privateKey, trackerEphemeral);
			if (!staticSecret || !ephemeralSecret) return;
			this.#key = loginKey(staticSecret, ephemeralSecret, this.#ephemeral.publicKey, trackerEphemeral);
			this.#sealedLogin = encodeHandshake(this.#key, this.#ephemeral.publicKey, encodeBody({ type: 'login', ...this.options.request }), systemRandom.bytes(NONCE_BYTES));
			this.options.transport.send(this.options.tracker, this.#sealedLogin);
			return;
		}
		if (frame.kind !== 'handshake' || !this.#key || !frame.clientEphemeral.equals(this.#ephemeral.publicKey)) return;
		const message = openHandshake(this.#key, frame);
		if (!message.ok) return;
		if (message.value.type === 'refused') {
			this.#fail(`the tracker refused the login: ${message.value.reason}`);
		} else if (message.value.type === 'welcome') {
			this.#stop();
			this.#settle?.resolve(message.value);
		}
	}

	#fail(reason: string): void {
		this.#stop();
		this.#settle?.reject(new JoinError(reason));
	}

	#stop(): void {
		for (const cancel of this.#cancels.splice(0)) cancel();
	}
}
