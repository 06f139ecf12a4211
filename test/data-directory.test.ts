import test from 'ava';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataDirectory, DataDirectoryError } from '../source/recovery/data-directory.js';
import { systemRandom } from '../source/runtime/random.js';

function scratch(t: { teardown: (fn: () => void) => void }): string {
	const directory = mkdtempSync(join(tmpdir(), 'footfall-data-'));
	t.teardown(() => rmSync(directory, { recursive: true, force: true }));
	return directory;
}

test('saves made one after another, without waiting, all land: each keeps what the others wrote', async (t) => {
	const path = scratch(t);
	const data = await DataDirectory.open(path, 'tracker', systemRandom);
	await Promise.all([
		data.save({ epochs: [7] }),
		data.save({ members: new Map([['bakery-door', 3]]) }),
		data.save({ granters: { 'bakery shop-front': { gen: 2, granter: 'shop-side', floor: 4, takes: { 'shop-back': 5 } } } }),
	]);
	const reopened = await DataDirectory.open(path, 'tracker', systemRandom);
	t.deepEqual(reopened.kept.epochs, [7]);
	t.deepEqual([...reopened.kept.members], [['bakery-door', 3]]);
	t.deepEqual(reopened.kept.granters, { 'bakery shop-front': { gen: 2, granter: 'shop-side', floor: 4, takes: { 'shop-back': 5 } } });
	t.deepEqual(reopened.identity.agreePublic, data.identity.agreePublic, 'the same keys');
});

test('an unreadable file is refused with its path, not overwritten', async (t) => {
	const path = scratch(t);
	writeFileSync(join(path, 'peer.json'), '{ not json');
	const error = await t.throwsAsync(DataDirectory.open(path, 'peer', systemRandom), { instanceOf: DataDirectoryError });
	t.regex(error!.message, /peer\.json: unreadable .*move it away/);
});

test('a byte the disk changed is caught by the checksum; a member starts from the previous copy', async (t) => {
	const path = scratch(t);
	const data = await DataDirectory.open(path, 'peer', systemRandom);
	await data.save({ incarnation: 3 });
	await data.save({ incarnation: 4, trackerKey: 'K'.repeat(43) + '=' });
	const file = join(path, 'peer.json');
	const bytes = readFileSync(file);
	bytes[20]! ^= 0x01;
	writeFileSync(file, bytes);
	const reopened = await DataDirectory.open(path, 'peer', systemRandom);
	t.is(reopened.kept.incarnation, 3, 'the save before, whole');
	t.deepEqual(reopened.identity.agreePublic, data.identity.agreePublic, 'the same keys');
});

test('a tracker whose file the disk changed refuses to start, and says what to do', async (t) => {
	const path = scratch(t);
	const data = await DataDirectory.open(path, 'tracker', systemRandom);
	await data.save({ epochs: [1] });
	await data.save({ epochs: [1, 2] });
	const file = join(path, 'tracker.json');
	const bytes = readFileSync(file);
	bytes[30]! ^= 0x04;
	writeFileSync(file, bytes);
	const error = await t.throwsAsync(DataDirectory.open(path, 'tracker', systemRandom), { instanceOf: DataDirectoryError });
	t.regex(error!.message, /tracker\.json: unreadable \(its checksum does not match: the disk changed it\); .*tracker\.json\.previous holds the save before it/);
});

test('a crash between the renames of a save (no file, the new one in .tmp, the old in .previous): the same keys and the newer save come back', async (t) => {
	const path = scratch(t);
	const file = join(path, 'tracker.json');
	const data = await DataDirectory.open(path, 'tracker', systemRandom);
	await data.save({ epochs: [1] });
	const older = readFileSync(file);
	await data.save({ epochs: [1, 2] });
	// The rename of the file to .previous reached the disk; that of .tmp into its place did not.
	writeFileSync(`${file}.tmp`, readFileSync(file));
	writeFileSync(`${file}.previous`, older);
	rmSync(file);
	const reopened = await DataDirectory.open(path, 'tracker', systemRandom);
	t.deepEqual(reopened.identity.agreePublic, data.identity.agreePublic, 'the same keys: peers that pinned the tracker still trust it');
	t.deepEqual(reopened.kept.epochs, [1, 2], 'the newer save, from .tmp');
	// And with only .previous left (the .tmp not yet whole): the save before.
	writeFileSync(`${file}.tmp`, 'torn');
	const fromPrevious = await DataDirectory.open(path, 'tracker', systemRandom);
	t.deepEqual(fromPrevious.identity.agreePublic, data.identity.agreePublic);
	t.deepEqual(fromPrevious.kept.epochs, [1]);
});

test('no file, and neither .tmp nor .previous can be read: refused, never a new identity', async (t) => {
	const path = scratch(t);
	const file = join(path, 'tracker.json');
	await DataDirectory.open(path, 'tracker', systemRandom);
	writeFileSync(`${file}.tmp`, 'torn');
	writeFileSync(`${file}.previous`, '00000000 {"keys":');
	rmSync(file);
	await t.throwsAsync(DataDirectory.open(path, 'tracker', systemRandom), { instanceOf: DataDirectoryError, message: /tracker\.json is missing and .*\.tmp \(.*\) and .*\.previous \(.*\) cannot be read; move them away/ });
});
