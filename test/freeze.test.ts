import test from 'ava';
import { ProcessCluster } from './helpers/process-cluster.js';
import { DEFAULT_LIVENESS } from '../source/network/liveness.js';

type Status = { neighbours: Record<string, { health: string; sent: number }> };

/** A peer frozen with SIGSTOP: declared dead within the bound, sent nothing more, and back after SIGCONT. */
test('a frozen peer is declared dead within the bound, receives nothing more, and comes back after SIGCONT', async (t) => {
	t.timeout(60_000);
	const cluster = new ProcessCluster('freeze');
	t.teardown(() => cluster.stop());
	const tracker = cluster.tracker();
	const address = String((await tracker.ready()).listen);
	const front = cluster.member('peer', 'fashion-door', address);
	const side = cluster.member('peer', 'fashion-side-door', address);
	await Promise.all([front.ready(), side.ready()]);
	const health = async () => ((await front.command('status', 'status')) as unknown as Status).neighbours['fashion-side-door'];
	const waitFor = async (wanted: string, ms: number) => {
		const deadline = Date.now() + ms;
		for (;;) {
			const seen = await health();
			if (seen?.health === wanted) return seen;
			if (Date.now() > deadline) throw new Error(`fashion-side-door not ${wanted} within ${ms} ms (is ${seen?.health})`);
			await new Promise((resolve) => setTimeout(resolve, 100));
		}
	};
	await waitFor('alive', 5000);
	side.child.kill('SIGSTOP');
	const frozenAt = Date.now();
	const dead = await front.waitFor((line) => line.type === 'liveness' && line.member === 'fashion-side-door' && line.health === 'dead', DEFAULT_LIVENESS.deadAfterMs + 3000, 'declared dead');
	const detectedMs = Date.now() - frozenAt;
	t.log(`declared dead ${detectedMs} ms after SIGSTOP (bound ${DEFAULT_LIVENESS.deadAfterMs} ms + a tick); silent ${String(dead.silentMs)} ms`);
	const sentAtDeath = (await health())!.sent;
	// Entries at the front door make rows; none may go to the dead door. Two anti-entropy rounds pass.
	const answers = await front.commands(['enter', 'enter', 'enter'], 'entry');
	t.true(answers.every((answer) => answer.admitted === true));
	await new Promise((resolve) => setTimeout(resolve, 2200));
	t.is((await health())!.sent, sentAtDeath, 'nothing sent to a dead member');
	side.child.kill('SIGCONT');
	await front.waitFor((line) => line.type === 'liveness' && line.member === 'fashion-side-door' && line.health === 'alive', 5000, 'alive again');
	t.like(await side.command('enter', 'entry'), { admitted: true });
	// The next anti-entropy round (1 s) goes to it again; bounded wait for the counter to move.
	const deadline = Date.now() + 5000;
	let sent = (await health())!.sent;
	while (sent <= sentAtDeath && Date.now() < deadline) {
		await new Promise((resolve) => setTimeout(resolve, 100));
		sent = (await health())!.sent;
	}
	t.true(sent > sentAtDeath, 'routed to again');
});
