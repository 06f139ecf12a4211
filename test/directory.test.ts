import test from 'ava';
import { DirectoryBook } from '../source/network/directory-book.js';
import { DirectoryReplica } from '../source/network/directory-replica.js';
import type { MemberRecord } from '../source/protocol/messages.js';

const record = (id: string, incarnation = 1): MemberRecord => ({
	id, role: 'sensor', sensor: id, areas: null, host: '127.0.0.1', port: 1000, signKey: 'k', agreeKey: 'k', incarnation, epoch: 1, sig: 's',
});

const ids = (replica: DirectoryReplica) => [...replica.members()].map((member) => `${member.id}@${member.incarnation}`).sort();

test('a new member catches up from version 0 with pages in order', (t) => {
	const book = new DirectoryBook();
	for (const id of ['a', 'b', 'c', 'd', 'e']) book.put(record(id));
	book.remove('b');
	book.put(record('c', 2));
	const replica = new DirectoryReplica(() => true);
	for (const page of book.pagesSince(0)) t.is(replica.apply(page).kind, 'applied');
	t.is(replica.version, book.version);
	t.deepEqual(ids(replica), ['a@1', 'c@2', 'd@1', 'e@1']);
});

test('a page past the replica version is a gap, and pulling from the version repairs it', (t) => {
	const book = new DirectoryBook();
	const replica = new DirectoryReplica(() => true);
	replica.apply(book.put(record('a')));
	book.put(record('b')); // lost
	t.is(replica.apply(book.put(record('c'))).kind, 'gap');
	for (const page of book.pagesSince(replica.version)) replica.apply(page);
	t.deepEqual(ids(replica), ['a@1', 'b@1', 'c@1']);
});

test('repeated and old pages change nothing', (t) => {
	const book = new DirectoryBook();
	const replica = new DirectoryReplica(() => true);
	const first = book.put(record('a'));
	replica.apply(first);
	replica.apply(book.remove('a')!);
	t.is(replica.apply(first).kind, 'old');
	t.deepEqual(ids(replica), []);
});

test('a page with a record the tracker did not sign is refused whole', (t) => {
	const book = new DirectoryBook();
	const replica = new DirectoryReplica((member) => member.sig === 's');
	replica.apply(book.put(record('a')));
	const forged = book.put({ ...record('b'), sig: 'forged' });
	t.deepEqual(replica.apply(forged), { kind: 'forged', id: 'b' });
	t.is(replica.version, 1, 'nothing of it applied');
	t.deepEqual(ids(replica), ['a@1']);
});
