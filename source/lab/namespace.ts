import { execFileSync } from 'node:child_process';
import type { LabTools } from './preflight.js';

/** Something the kernel refused while setting up or changing the namespace: one line for the user. */
export class NamespaceError extends Error {}

/** The nft table every rule of the lab lives in, inside the namespace only. */
const TABLE = ['inet', 'lab'] as const;
/**
 * Loss and partitions sit in chains of their own on the output hook, so each fault can be
 * flushed without touching the other. On loopback every datagram passes output once, so
 * a drop there is a datagram lost on the wire.
 */
const LOSS_CHAIN = 'loss';
const PARTITION_CHAIN = 'partition';
/** Counts every UDP datagram sent, before any drop: the denominator of the loss actually applied. */
const TALLY_CHAIN = 'tally';

/**
 * A network namespace of the lab's own: every process of the lab runs in it and talks on
 * its loopback only, so loss and partitions touch nothing else on the machine. Deleting
 * it is idempotent and synchronous, so a signal handler can do it on the way out.
 */
export class LabNamespace {
	#deleted = false;

	private constructor(readonly name: string, readonly tools: LabTools) {}

	/** Creates the namespace, brings up its loopback and the nft chains the faults use. */
	static create(tools: LabTools, name: string): LabNamespace {
		run(tools.ip, ['netns', 'add', name], `create network namespace ${name}`);
		const namespace = new LabNamespace(name, tools);
		try {
			namespace.#inside(tools.ip, ['link', 'set', 'lo', 'up'], 'bring up its loopback');
			namespace.#nft(['add', 'table', ...TABLE], 'create the nft table');
			namespace.#nft(['add', 'chain', ...TABLE, TALLY_CHAIN, '{ type filter hook output priority -10; }'], 'create the tally chain');
			namespace.#nft(['add', 'rule', ...TABLE, TALLY_CHAIN, 'meta', 'l4proto', 'udp', 'counter'], 'count datagrams');
			namespace.#nft(['add', 'chain', ...TABLE, LOSS_CHAIN, '{ type filter hook output priority 0; }'], 'create the loss chain');
			namespace.#nft(['add', 'chain', ...TABLE, PARTITION_CHAIN, '{ type filter hook output priority 1; }'], 'create the partition chain');
		} catch (error) {
			namespace.delete();
			throw error;
		}
		return namespace;
	}

	/** The command line that runs `argv` inside the namespace. */
	commandInside(argv: readonly string[]): { readonly file: string; readonly args: string[] } {
		// ip netns exec execs the command itself (no fork): the child's pid is the program's, so kill -9 reaches it.
		return { file: this.tools.ip, args: ['netns', 'exec', this.name, ...argv] };
	}

	/** Drops `percent` % of UDP datagrams at random; 0 takes the loss away. */
	setLoss(percent: number): void {
		this.#nft(['flush', 'chain', ...TABLE, LOSS_CHAIN], 'clear the loss rule');
		if (percent <= 0) return;
		this.#nft(['add', 'rule', ...TABLE, LOSS_CHAIN, 'meta', 'l4proto', 'udp', 'numgen', 'random', 'mod', '100', '<', String(Math.round(percent)), 'counter', 'drop'], `drop ${percent} % of datagrams`);
	}

	/** Cuts the member listening on `port` off from everyone: nothing to it, nothing from it. */
	cutOff(port: number): void {
		this.#nft(['add', 'rule', ...TABLE, PARTITION_CHAIN, 'udp', 'dport', String(port), 'counter', 'drop'], `drop datagrams to port ${port}`);
		this.#nft(['add', 'rule', ...TABLE, PARTITION_CHAIN, 'udp', 'sport', String(port), 'counter', 'drop'], `drop datagrams from port ${port}`);
	}

	/** Joins every cut-off member back. */
	healPartitions(): void {
		this.#nft(['flush', 'chain', ...TABLE, PARTITION_CHAIN], 'clear the partition rules');
	}

	/** UDP datagrams sent in the namespace so far, dropped or not. */
	datagramsSent(): number {
		return this.#packets(TALLY_CHAIN);
	}

	/** Datagrams the loss rule dropped since it was last set (setLoss starts it from zero). */
	droppedByLoss(): number {
		return this.#packets(LOSS_CHAIN);
	}

	/** Datagrams the partition rules dropped since the last heal. */
	droppedByPartition(): number {
		return this.#packets(PARTITION_CHAIN);
	}

	/** The sum of the packet counters of a chain's rules, from nft's JSON listing. */
	#packets(chain: string): number {
		const text = this.#nft(['-j', 'list', 'chain', ...TABLE, chain], `read the ${chain} counters`);
		let listing: { nftables?: { rule?: { expr?: { counter?: { packets?: number } }[] } }[] };
		try {
			listing = JSON.parse(text) as typeof listing;
		} catch {
			throw new NamespaceError(`cannot read the ${chain} counters: nft -j printed ${text.trim() === '' ? 'nothing' : 'no JSON'}`);
		}
		let packets = 0;
		for (const item of listing.nftables ?? []) for (const expression of item.rule?.expr ?? []) packets += expression.counter?.packets ?? 0;
		return packets;
	}

	/**
	 * Deletes the namespace (and with it the nft table). Safe to call twice and from a
	 * signal handler; a failure is reported, never thrown, since it runs while stopping.
	 */
	delete(): string | null {
		if (this.#deleted) return null;
		this.#deleted = true;
		try {
			run(this.tools.ip, ['netns', 'delete', this.name], `delete network namespace ${this.name}`);
			return null;
		} catch (error) {
			return (error as Error).message;
		}
	}

	#nft(args: readonly string[], what: string): string {
		return this.#inside(this.tools.nft, args, what);
	}

	#inside(file: string, args: readonly string[], what: string): string {
		if (this.#deleted) throw new NamespaceError(`cannot ${what}: the namespace ${this.name} is deleted`);
		return run(this.tools.ip, ['netns', 'exec', this.name, file, ...args], what);
	}
}

/** Runs a short system command; its stderr's first line becomes the error a user reads. */
function run(file: string, args: readonly string[], what: string): string {
	try {
		return execFileSync(file, [...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 10_000 });
	} catch (error) {
		const failure = error as { stderr?: string; message: string };
		const reason = (failure.stderr ?? '').trim().split('\n')[0] || failure.message.split('\n')[0];
		throw new NamespaceError(`cannot ${what}: ${reason}`);
	}
}

/**
 * Deletes the namespaces of earlier lab runs whose process is gone (a run killed with
 * -9 cannot clean up after itself), killing the footfall processes it left running in
 * them first; returns their names. A namespace whose pid is alive belongs to a run still
 * going and is left alone.
 */
export function deleteStaleNamespaces(tools: LabTools): string[] {
	let listing: string;
	try {
		listing = run(tools.ip, ['netns', 'list'], 'list network namespaces');
	} catch {
		return [];
	}
	const deleted: string[] = [];
	for (const match of listing.matchAll(/^footfall-lab-(\d+)\b/gm)) {
		const name = match[0];
		if (isRunning(Number(match[1]))) continue;
		try {
			// Orphans of that run: nothing else is started in a namespace of this name.
			for (const pid of run(tools.ip, ['netns', 'pids', name], `list the processes in ${name}`).split(/\s+/).filter(Boolean)) {
				try {
					process.kill(Number(pid), 'SIGKILL');
				} catch {
					// gone already
				}
			}
			run(tools.ip, ['netns', 'delete', name], `delete network namespace ${name}`);
			deleted.push(name);
		} catch {
			// left as it was: the run goes on in a namespace of its own
		}
	}
	return deleted;
}

/** Whether a process with this pid exists (a run of the lab that owns a namespace or a scratch directory). */
export function isRunning(pid: number): boolean {
	try {
		process.kill(pid, 0);
		return true;
	} catch (error) {
		// EPERM: alive, but someone else's.
		return (error as NodeJS.ErrnoException).code === 'EPERM';
	}
}
