import type { Address } from './address.js';

/**
 * How a member sends and receives datagrams. Small on purpose (memberlist's
 * transport.go): the real one is UDP, tests use an in-memory network that drops,
 * duplicates and reorders.
 */
export interface Transport {
	readonly address: Address;
	/** Fire and forget, like UDP: a failure is counted, never thrown at the caller. */
	send(to: Address, bytes: Buffer): void;
	/** Sets the one receiver of every datagram that arrives. */
	onReceive(handler: (bytes: Buffer, from: Address) => void): void;
	close(): Promise<void>;
	/** Datagrams the transport could not hand to the network. */
	readonly sendErrors: number;
}
