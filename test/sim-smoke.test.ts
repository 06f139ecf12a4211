import test from 'ava';
import { areaId } from '../source/model/ids.js';
import { SimCluster } from '../source/simulator/sim-cluster.js';
import { TINY_PASSWORDS, tinyMall } from './helpers/tiny-mall.js';

const shop = areaId('shop');

test('smoke: an entry at one door reaches the other door and the observer', async (t) => {
	const sim = await SimCluster.create({ mall: await tinyMall(), passwords: TINY_PASSWORDS, seed: 1 });
	t.teardown(() => sim.close());
	const front = await sim.peer('shop-front');
	const back = await sim.peer('shop-back');
	const ops = await sim.observer();
	t.log(`joined at ${sim.now} ms; events ${sim.scheduler.fired}`);
	const answer = await sim.settle(front.move('enter', 'visitor'));
	t.log(JSON.stringify(answer));
	await sim.until(() => back.counter.ledger(shop)!.occupancy() === 1 && ops.areas()['shop']?.occupancy === 1, 5000, 'convergence');
	t.log(`converged at ${sim.now} ms; events ${sim.scheduler.fired}`);
	for (const line of sim.trace.slice(0, 20)) t.log(`${line.at.toFixed(1)} ${line.node} ${JSON.stringify(line.event)}`);
	t.true(answer.admitted);
});
