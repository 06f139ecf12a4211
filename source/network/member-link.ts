import type { Address } from './address.js';
import { ReplayWindow } from './replay-window.js';
import { TrafficCounters } from './traffic.js';
import { MAX_DATAGRAM, encodeMember, openFrame, type DropReason, type Frame, type Parsed } from '../protocol/frame.js';
import { decodeBody, encodeBody } from '../protocol/codec.js';
import { memberMessage, type MemberMessage } from '../protocol/messages.js';
import { agree, type Identity } from '../security/keys.js';
import { directionKey } from '../security/handshake-keys.js';

export interface LinkPeer {
	readonly address: Address;
	readonly agreeKey: Buffer;
	readonly incarnation: number;
}

interface PeerState extends LinkPeer {
	/** Derived on first use: most members never exchange a datagram (hierarchy filtering). */
	keys: { readonly send: Buffer; readonly receive: Buffer } | null | undefined;
	readonly window: ReplayWindow;
}

export interface LinkOptions {
	/** Where sealed datagrams go: the role's outbox. */
	readonly transport: { send(to: Address, bytes: Buffer): void };
	readonly identity: Identity;
	readonly self: string;
	readonly incarnation: number;
	readonly epoch: number;
	readonly networkKey: Buffer;
	/** Counters to add to, if they should outlive this link (a member's across epochs). */
	readonly traffic?: TrafficCounters;
	/** The first sequence number: a member that logs in again as the same incarnation carries on its count. */
	readonly firstSeq?: number;
}

/**
 * The sealed channel between members of one epoch: who may speak (the peers it was told
 * of), under which pairwise key, and which datagrams are fresh. Every datagram that
 * fails any check is dropped and counted by reason, never thrown.
 */
export class MemberLink {
	readonly traffic: TrafficCounters;
	readonly #peers = new Map<string, PeerState>();
	/** Datagrams sent to each member: shows that a dead member receives nothing more. */
	readonly sentTo = new Map<string, number>();
	#seq: number;

	constructor(readonly options: LinkOptions) {
		this.traffic = options.traffic ?? new TrafficCounters();
		this.#seq = options.firstSeq ?? 0;
	}

	/** The next sequence number this link would use. */
	get nextSeq(): number {
		return this.#seq;
	}

	get self(): string {
		return this.options.self;
	}

	get epoch(): number {
		return this.options.epoch;
	}

	/** Adds or updates a peer; a new incarnation gets a fresh replay window. */
	setPeer(id: string, peer: LinkPeer): void {
		const current = this.#peers.get(id);
		if (current && current.incarnation === peer.incarnation && current.agreeKey.equals(peer.agreeKey) &&
			current.address.host === peer.address.host && current.address.port === peer.address.port) {
			return;
		}
		const same = current && current.incarnation === peer.incarnation && current.agreeKey.equals(peer.agreeKey);
		this.#peers.set(id, { ...peer, keys: same ? current.keys : undefined, window: same ? current.window : new ReplayWindow() });
	}

	/** The direction keys with a peer; null if its public key is not a valid point. */
	#keys(id: string, peer: PeerState): { readonly send: Buffer; readonly receive: Buffer } | null {
		if (peer.keys === undefined) {
			const secret = agree(this.options.identity.agreePrivate, peer.agreeKey);
			const { networkKey, epoch } = this.options;
			peer.keys = secret && {
				send: directionKey(secret, networkKey, epoch, this.self, id),
				receive: directionKey(secret, networkKey, epoch, id, this.self),
			};
		}
		return peer.keys;
	}

	hasPeer(id: string): boolean {
		return this.#peers.has(id);
	}

	removePeer(id: string): void {
		this.#peers.delete(id);
	}

	/** Seals and sends one message; false if the peer is unknown or the message too big. */
	send(to: string, message: MemberMessage): boolean {
		const bytes = this.seal(to, message);
		return bytes !== null && this.forward(to, bytes);
	}

	/**
	 * Seals one message for `to` without sending it: what an indirect probe hands a helper
	 * to pass on, which the helper can neither read nor forge. Null if the peer is unknown
	 * or the message too big.
	 */
	seal(to: string, message: MemberMessage): Buffer | null {
		const peer = this.#peers.get(to);
		const keys = peer && this.#keys(to, peer);
		if (!peer || !keys) return null;
		const bytes = encodeMember(
			keys.send,
			{ epoch: this.options.epoch, incarnation: this.options.incarnation, seq: this.#seq++, sender: this.self },
			encodeBody(message),
		);
		if (bytes.length > MAX_DATAGRAM) {
			this.traffic.countDrop('oversize'); // a bug, not weather: counted so it shows
			return null;
		}
		return bytes;
	}

	/** Sends bytes already sealed (by us, or by another member for `to`) to `to`'s address; false if it is unknown. */
	forward(to: string, bytes: Buffer): boolean {
		const peer = this.#peers.get(to);
		if (!peer) return false;
		this.options.transport.send(peer.address, bytes);
		this.sentTo.set(to, (this.sentTo.get(to) ?? 0) + 1);
		return true;
	}

	/** Counts a dropped datagram by reason, and says why: one function for the link's life, not one per datagram. */
	readonly #drop = (reason: DropReason): Parsed<never> => {
		this.traffic.countDrop(reason);
		return { ok: false, reason };
	};

	/** Checks a member frame and returns its sender and message, or why it was dropped. */
	accept(frame: Extract<Frame, { kind: 'member' }>): Parsed<{ sender: string; message: MemberMessage }> {
		const drop = this.#drop;
		if (frame.epoch !== this.options.epoch) return drop('wrong-epoch');
		const peer = this.#peers.get(frame.sender);
		if (!peer || frame.sender === this.self) return drop('unknown-sender');
		if (frame.incarnation < peer.incarnation) return drop('stale-incarnation');
		// A higher incarnation than we know: its new keys have not reached us yet.
		if (frame.incarnation > peer.incarnation) return drop('unknown-sender');
		const keys = this.#keys(frame.sender, peer);
		if (!keys) return drop('unknown-sender');
		const body = openFrame(keys.receive, frame);
		if (!body.ok) return drop(body.reason);
		// Only after authentication, or anyone could burn sequence numbers in the window.
		if (!peer.window.accept(frame.seq)) return drop('replayed');
		const message = decodeBody(memberMessage, body.value);
		if (!message.ok) return drop(message.reason);
		this.traffic.received++;
		return { ok: true, value: { sender: frame.sender, message: message.value } };
	}
}
