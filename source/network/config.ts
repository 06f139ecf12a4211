import { DEFAULT_LIVENESS, type LivenessTimings } from './liveness.js';

/**
 * Every interval and bound of the network, with its default and the reason for it
 * (memberlist's DefaultLANConfig is the model). Tests and the simulator use these
 * defaults as they are (time is virtual there); the demo lengthens the join timeout.
 */
export interface Timings {
	/** Every member re-sends its own rows this often: what loss took, this repairs. */
	readonly antiEntropyMs: number;
	/** A changed row leaves this long after the change: a burst becomes one datagram per recipient. */
	readonly flushMs: number;
	/**
	 * …and never sooner than this after the last flush: every row version sent is signed
	 * (~35 µs), so a busy sensor signs at most ~100 versions a second per area.
	 */
	readonly minFlushIntervalMs: number;
	/** The bounded wait for a loan of permits before an entry is refused (design.md §1). */
	readonly borrowWaitMs: number;
	/** A loan request unanswered this long is sent again (or to the next-richest sensor). */
	readonly borrowRetryMs: number;
	/** How often idle permits are moved towards where entries happen, and leases looked after. */
	readonly rebalanceMs: number;
	/** The window over which demand per sensor is measured for rebalancing. */
	readonly demandWindowMs: number;
	/** Members ask the tracker for directory changes this often (also tells it they are there). */
	readonly directoryPullMs: number;
	/** A document chunk or directory page not received this long after asking is asked for again. */
	readonly documentRetryMs: number;
	/** How long joining may take before the member gives up with a clear error. */
	readonly joinTimeoutMs: number;
	/** A handshake step unanswered this long is sent again (UDP may lose it). */
	readonly handshakeRetryMs: number;
	/** No answer from the tracker for this long: the console shows it down (members do not log in again for silence alone). */
	readonly trackerSilenceMs: number;
	/**
	 * After a "log in again" hint, which anyone can forge, a member asks the tracker
	 * within its own epoch for this long: only if no answer comes does it log in again.
	 */
	readonly trackerProbeMs: number;
	/**
	 * After logging in to a new epoch, a member still speaks the old one with members that
	 * have not moved yet, until none of them has been heard in the old epoch for this long:
	 * after a tracker restart they move one by one, each once it notices (and while the
	 * tracker is down again, not at all), and none should lose sight of another meanwhile.
	 */
	readonly epochBridgeMs: number;
	/** Failure detection among neighbours: see network/liveness.ts. */
	readonly liveness: LivenessTimings;
	/** How often failure detection looks at its neighbours: no longer than liveness.probeEveryMs. */
	readonly livenessTickMs: number;
	/** A restarting peer waits this long at most for the replicas of its rows to answer. */
	readonly ownRowsWaitMs: number;
	/** A row held back this long (pending) makes its replica ask others for the rows that may explain it. */
	readonly pendingRelayMs: number;
	/**
	 * A granter asked this many times in a row without raising the lease, while it answers
	 * pings, is moved away from like a dead one. At 30 % loss on each way, twenty lost
	 * round trips in a row happen about once in a million asks.
	 */
	readonly unansweredLeaseRequests: number;
}

export const DEFAULT_TIMINGS: Timings = {
	antiEntropyMs: 1000,
	flushMs: 2,
	minFlushIntervalMs: 10,
	borrowWaitMs: 150,
	borrowRetryMs: 40,
	rebalanceMs: 250,
	demandWindowMs: 5000,
	directoryPullMs: 2000,
	documentRetryMs: 200,
	joinTimeoutMs: 10_000,
	handshakeRetryMs: 500,
	trackerSilenceMs: 6000,
	trackerProbeMs: 1500,
	epochBridgeMs: 15_000,
	liveness: DEFAULT_LIVENESS,
	livenessTickMs: 100,
	ownRowsWaitMs: 1000,
	pendingRelayMs: 3000,
	unansweredLeaseRequests: 20,
};
