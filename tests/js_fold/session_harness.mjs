// Drives the browser's Session (client_web/src/net/session.js) with a fake
// socket and prints what it did: the state's seq after each message and every
// `sync` it asked for. Run by test_session_sync.py.
import { Session } from "../../client_web/src/net/session.js";

const emitted = [];
const session = new Session("token");
session.socket = { connected: true, emit: (name, data) => emitted.push([name, data]) };
session.welcome = { participant: "p", seq: 0 };

const event = (n) => ({ type: "delegation_added", v: 1, at: n, actor: "@admin", delegation: `d${n}`, name: `D${n}`, cls: "observer", region: "", sector: null, voting_rights: false });
const batch = (first, last, epoch = "e1") => ({ epoch, first, last, ts: 0, events: Array.from({ length: last - first + 1 }, (_, i) => event(first + i)) });
const steps = [];
const note = (what) => steps.push({ what, seq: session.seq, status: session.status, delegations: Object.keys(session.state?.delegations ?? {}).length, syncs: emitted.splice(0) });

session.onSnapshot({ epoch: "e1", seq: 2, state: { ...JSON.parse(process.argv[2]) }, resync: false });
note("snapshot at 2");
session.onBatch(batch(1, 4));
note("batch 1..4 overlapping what we have");
session.onBatch(batch(3, 4));
note("batch 3..4 already applied");
session.onBatch(batch(7, 8));
note("batch 7..8 after a gap");
session.onBatch(batch(9, 9));
note("batch 9 while the gap is being filled");
session.onBatch(batch(5, 9));
note("the missed events 5..9");
session.onBatch({ ...batch(10, 10), events: [{ type: "an_event_from_a_newer_server", v: 1, at: 0, actor: "x" }] });
note("an event type this client does not know");
session.onBatch(batch(11, 11, "e2"));
note("a batch of another epoch");
process.stdout.write(JSON.stringify(steps));
