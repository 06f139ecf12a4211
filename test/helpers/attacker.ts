import type { AreaId } from '../../source/model/ids.js';
import type { Row } from '../../source/counting/row.js';
import type { Address } from '../../source/network/address.js';
import { DEFAULT_TIMINGS } from '../../source/network/config.js';
import { parseFrame } from '../../source/protocol/frame.js';
import { rowToWire } from '../../source/protocol/wire-row.js';
import type { MemberMessage } from '../../source/protocol/messages.js';
import { seededRandom } from '../../source/runtime/random.js';
import { LoginSession, type LoginRequest, type SessionResult } from '../../source/roles/member/login-session.js';
import type { SensorPeer } from '../../source/roles/sensor/sensor-peer.js';
import { generateIdentity, type Identity } from '../../source/security/keys.js';
import { signRow } from '../../source/security/row-signature.js';
import { TRACKER_ADDRESS, type SimCluster } from '../../source/simulator/sim-cluster.js';
import type { SimTransport } from '../../source/simulator/sim-network.js';

let next = 0;

/**
 * Mallory: a host of her own on the simulated network. She logs in through the real
 * member-side handshake (as many times at once as she likes), forges source addresses,
 * and — holding one account — speaks for its sensor over its authenticated link.
 */
export class Attacker {
	readonly random = seededRandom(999);
	readonly identity: Identity = generateIdentity(this.random);

	constructor(readonly sim: SimCluster, readonly host = 'mallory') {}

	/** One login attempt through the real handshake from a fresh socket on her host; resolves with its result. */
	login(user: string, password: string, role: 'sensor' | 'observer' = 'sensor', identity: Identity = this.identity, trackerKey: string | null = null, claims: Partial<LoginRequest> = {}): Promise<SessionResult> {
		const transport: SimTransport = this.sim.network.bind(this.host, 50_000 + next++);
		return new Promise((resolve) => {
			const session = new LoginSession(
				{
					tracker: TRACKER_ADDRESS,
					identity,
					request: { user, password, role, sensor: null, signKey: identity.signPublic.toString('base64'), agreeKey: identity.agreePublic.toString('base64'), areas: null, lastIncarnation: 0, continuing: false, run: Buffer.alloc(16, next).toString('base64'), ...claims },
					trustedTrackerKey: trackerKey,
					retryMs: DEFAULT_TIMINGS.handshakeRetryMs,
					timeoutMs: DEFAULT_TIMINGS.joinTimeoutMs,
					random: this.random,
				},
				transport,
				this.sim.now,
			);
			let cancel = (): void => {};
			const settle = (): void => {
				if (session.result === null) return arm();
				cancel();
				void transport.close();
				resolve(session.result);
			};
			const arm = (): void => {
				cancel();
				const at = session.wakeAt();
				if (at !== Infinity) cancel = this.sim.scheduler.setTimeout(() => (session.tick(this.sim.now), settle()), at - this.sim.now);
			};
			transport.onReceive((bytes) => {
				const frame = parseFrame(bytes);
				if (frame.ok) session.handle(frame.value, this.sim.now);
				settle();
			});
			settle();
		});
	}

	/** Sends bytes that claim to come from `from`: UDP source addresses are anyone's to forge. */
	spoof(from: Address, to: Address, bytes: Buffer): void {
		this.sim.network.carry(from, to, bytes);
	}

	/** Sends from her own host. */
	send(to: Address, bytes: Buffer): void {
		this.sim.network.carry({ host: this.host, port: 50_000 }, to, bytes);
	}
}

/**
 * With one sensor account in her hands (the peer's keys and authenticated link), Mallory
 * sends that sensor's row saying whatever she likes, signed with its own key: exactly what
 * a compromised sensor box could do.
 */
export function sendForgedRow(peer: SensorPeer, area: AreaId, row: Row, to: readonly string[]): void {
	const wire = rowToWire(area, row, signRow(peer.options.identity.signPrivate, peer.sensor, area, row));
	const message: MemberMessage = { type: 'rows', rows: [wire] };
	for (const id of to) peer.node.send(id, message);
}
