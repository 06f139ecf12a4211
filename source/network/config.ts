import { DEFAULT_LIVENESS, type LivenessTimings } from './liveness.js';

/**
 * Every interval and bound of the network, with its default and the reason for it
 * (memberlist's DefaultLANConfig is the model). Tests shorten some; nothing else does.
 */
export interface Timings {
	/** Every member re-sends its own rows this often: what loss took, this repairs. */
	readonly antiEntropyMs: number;
	/** Rows written within this window leave together: one datagram per recipient, not per event. */
	readonly flushMs: number;
	/** The bounded wait for a loan of permits before an entry is refused (design.md §1). */
	readonly borrowWaitMs: number;
	/** A loan request unanswered this long is sent again (or to the next-richest sensor). */
	readonly borrowRetryMs: number;
	/** How often idle permits are moved towards where entries happen. */
	readonly rebalanceMs: number;
	/** The window over which demand per sensor is measured for rebalancing. */
	readonly demandWindowMs: number;
	/** Members ask the tracker for directory changes this often (also tells it they are there). */
	readonly directoryPullMs: number;
	/** A document chunk not received this long after asking is asked for again. */
	readonly documentRetryMs: number;
	/** How long joining may take before the member gives up with a clear error. */
	readonly joinTimeoutMs: number;
	/** A handshake step unanswered this long is sent again (UDP may lose it). */
	readonly handshakeRetryMs: number;
	/** No answer from the tracker for this long: it is gone or restarted, so log in again (it answers every directory pull). */
	readonly trackerSilenceMs: number;
	/** Failure detection among neighbours: see network/liveness.ts. */
	readonly liveness: LivenessTimings;
	/** A restarting peer waits this long at most for the replicas of its own rows to answer. */
	readonly ownRowsWaitMs: number;
}

export const DEFAULT_TIMINGS: Timings = {
	antiEntropyMs: 1000,
	flushMs: 2,
	borrowWaitMs: 150,
	borrowRetryMs: 40,
	rebalanceMs: 250,
	demandWindowMs: 5000,
	directoryPullMs: 2000,
	documentRetryMs: 200,
	joinTimeoutMs: 10_000,
	handshakeRetryMs: 500,
	ownRowsWaitMs: 1000,
	liveness: DEFAULT_LIVENESS,
	trackerSilenceMs: 6000,
};
