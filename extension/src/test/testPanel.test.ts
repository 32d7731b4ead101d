// The test panel (extension/src/testPanel.ts, bundled on its own into out-test/testPanel.js) against a
// stand-in for the `vscode` module and a stand-in server that answers as server/test_panel.py does.
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { disposable, EventEmitter, FakeUri, loadBundle, Provider, TreeItem, uri, Uri } from '../testing/fakeVscode';

const SOURCE = 'file:///work/double.py';


interface World {
    requests: [string, unknown[]][];
    answers: Record<string, unknown>;
    commands: Map<string, (...args: unknown[]) => Promise<unknown>>;
    messages: string[];
    picks: string[]; // the labels the user picks, in order
    typed: string[]; // what the user types in input boxes, in order
    prefilled: (string | undefined)[];
    confirm: string | undefined;
    clipboard: string;
    shown: { path: string; line: number }[];
    tree: { message: string | undefined; provider: Provider } | undefined;
    documents: Map<string, { provideTextDocumentContent(u: FakeUri): Promise<string> }>;
    activeEditorListeners: (() => void)[];
}

function fakeVscode(world: World): unknown {
    class ThemeIcon {
        constructor(public id: string) {}
    }
    class Range {
        constructor(public startLine: number) {}
    }
    return {
        EventEmitter,
        TreeItem,
        ThemeIcon,
        Range,
        TreeItemCollapsibleState: { None: 0, Collapsed: 1, Expanded: 2 },
        Uri,
        env: { clipboard: { readText: async () => world.clipboard } },
        window: {
            activeTextEditor: { document: { languageId: 'python', uri: uri('file', '/work/double.py') } },
            createOutputChannel: () => ({ info: () => undefined, error: () => undefined }),
            createTreeView: (_id: string, options: { treeDataProvider: Provider }) => {
                const tree = { message: undefined as string | undefined, provider: options.treeDataProvider };
                world.tree = tree;
                return { ...disposable, set message(text: string | undefined) { tree.message = text; } };
            },
            onDidChangeActiveTextEditor: (listener: () => void) => {
                world.activeEditorListeners.push(listener);
                return disposable;
            },
            showWarningMessage: async (message: string, ...rest: unknown[]) => {
                world.messages.push(message);
                return rest.length > 0 ? world.confirm : undefined;
            },
            showInformationMessage: async (message: string) => world.messages.push(message),
            showQuickPick: async (choices: { label: string }[]) => {
                const wanted = world.picks.shift();
                return choices.find((c) => c.label === wanted);
            },
            showInputBox: async (options: { value?: string }) => {
                world.prefilled.push(options.value);
                return world.typed.shift();
            },
            showTextDocument: async (document: { path: string }, options: { selection: { startLine: number } }) =>
                world.shown.push({ path: document.path, line: options.selection.startLine }),
        },
        workspace: {
            registerTextDocumentContentProvider: (
                scheme: string,
                provider: { provideTextDocumentContent(u: FakeUri): Promise<string> },
            ) => {
                world.documents.set(scheme, provider);
                return disposable;
            },
            openTextDocument: async (u: FakeUri) => ({ path: u.path }),
        },
        commands: {
            registerCommand: (id: string, run: (...args: unknown[]) => Promise<unknown>) => {
                world.commands.set(id, run);
                return disposable;
            },
        },
    };
}

type Panel = (update: { uri: string }) => void;

interface PanelModule {
    registerTestPanel(context: unknown, request: unknown): Panel;
}

function load(world: World): PanelModule {
    return loadBundle<PanelModule>('../testPanel.js', fakeVscode(world));
}

const ROW = (number: number, verdict: string | null, editable = true) => ({
    number,
    id: String(number),
    kind: 'stdio',
    origin: `double.tests.json:${2 + 4 * number}`,
    path: '/work/double.tests.json',
    line: 2 + 4 * number,
    label: `Test ${number}`,
    description: verdict ? `${verdict} 12 ms 11.2 MB` : 'not run',
    tooltip: `Test ${number}`,
    verdict,
    wall_ms: 20,
    cpu_ms: 12,
    judge_cpu_ms: null,
    peak_kb: 11468,
    input: `${number}\n`,
    expected: `${2 * number}\n`,
    actual: verdict ? `${2 * number}\n` : '(not run)',
    editable,
});

function world(answers: Record<string, unknown> = {}): World {
    return {
        requests: [],
        answers: {
            'orps.tests': {
                uri: SOURCE,
                tests: [ROW(1, 'AC'), ROW(2, 'WA'), ROW(3, null)],
                summary: '1/3 passed',
                canAdd: true,
                message: null,
            },
            ...answers,
        },
        commands: new Map(),
        messages: [],
        picks: [],
        typed: [],
        prefilled: [],
        confirm: undefined,
        clipboard: '',
        shown: [],
        tree: undefined,
        documents: new Map(),
        activeEditorListeners: [],
    };
}

function start(w: World, running = true): Panel {
    const request = async (command: string, args: unknown[]) => {
        w.requests.push([command, args]);
        return running ? (w.answers[command] ?? null) : undefined;
    };
    return load(w).registerTestPanel({ subscriptions: [] }, request);
}

async function roots(w: World): Promise<unknown[]> {
    assert.ok(w.tree);
    return w.tree.provider.getChildren();
}

test('each test is listed with its verdict, time and memory, and opens its input, expected and actual', async () => {
    const w = world();
    start(w);
    const [first, second, third] = await roots(w);
    const provider = w.tree!.provider;
    const item = provider.getTreeItem(first);
    assert.equal(item.label, 'Test 1');
    assert.equal(item.description, 'AC 12 ms 11.2 MB');
    assert.equal(item.iconPath?.id, 'pass');
    assert.equal(item.contextValue, 'orps.testEditable');
    assert.equal(provider.getTreeItem(second).iconPath?.id, 'error');
    assert.equal(provider.getTreeItem(third).iconPath?.id, 'circle-large-outline');
    assert.equal(w.tree!.message, '1/3 passed');

    const parts = await provider.getChildren(second);
    assert.deepEqual(
        parts.map((p) => provider.getTreeItem(p).label),
        ['input', 'expected', 'actual'],
    );
    const expected = provider.getTreeItem(parts[1]);
    assert.equal(expected.description, '4');
    const opened = expected.command!.arguments[0] as FakeUri;
    assert.equal(opened.scheme, 'orps-test');
    assert.equal(opened.path, '/work/double.py.test-2.expected.txt');
    const text = await w.documents.get('orps-test')!.provideTextDocumentContent(opened);
    assert.equal(text, '4\n');
    assert.deepEqual(w.requests.at(-1), ['orps.tests', [{ uri: SOURCE }]]);
});

test('without a server the panel says so, and documents say so', async () => {
    const w = world();
    start(w, false);
    assert.deepEqual(await roots(w), []);
    assert.equal(w.tree!.message, 'The orps language server is not running.');
    const doc = uri('orps-test', '/work/double.py.test-1.input.txt', JSON.stringify({ uri: SOURCE, id: '1', part: 'input' }));
    assert.match(await w.documents.get('orps-test')!.provideTextDocumentContent(doc), /not running/);
});

test('run sends the one test, and the panel refreshes for the active file only', async () => {
    const w = world();
    const changed = start(w);
    let refreshed = 0;
    w.tree!.provider.onDidChangeTreeData(() => refreshed++);
    const [, second] = await roots(w);
    await w.commands.get('orps.runTestInPanel')!(second);
    assert.deepEqual(w.requests.at(-1), ['orps.runTest', [{ uri: SOURCE, id: '2' }]]);
    changed({ uri: 'file:///elsewhere/other.py' });
    assert.equal(refreshed, 0);
    changed({ uri: SOURCE });
    w.activeEditorListeners.forEach((l) => l());
    assert.equal(refreshed, 2);
    await w.commands.get('orps.runAllTestsInPanel')!();
    assert.deepEqual(w.requests.at(-1), ['orps.runTests', [{ uri: SOURCE }]]);
});

test('delete asks first and deletes only when confirmed', async () => {
    const w = world({ 'orps.deleteTest': { changed: true, reason: null } });
    start(w);
    const [first] = await roots(w);
    await w.commands.get('orps.deleteTestInPanel')!(first);
    assert.equal(w.requests.at(-1)![0], 'orps.tests'); // cancelled: nothing sent
    assert.match(w.messages[0], /delete Test 1 from double\.tests\.json\?/);
    w.confirm = 'Delete';
    await w.commands.get('orps.deleteTestInPanel')!(first);
    assert.deepEqual(w.requests.at(-1), ['orps.deleteTest', [{ uri: SOURCE, number: 1 }]]);
});

test('the selection becomes the input and the clipboard the expected output; a refusal is shown', async () => {
    const w = world({ 'orps.addTest': { changed: false, reason: 'double.py is tested as a module' } });
    start(w);
    w.clipboard = '14\n15';
    w.picks = ['From the clipboard'];
    await w.commands.get('orps.addSelectionAsTest')!({ uri: SOURCE, input: '7\n' });
    assert.deepEqual(w.requests.at(-1), ['orps.addTest', [{ uri: SOURCE, input: '7\n', expected: '14\n15\n' }]]);
    assert.deepEqual(w.messages, ['ORPS: double.py is tested as a module.']);

    w.picks = ['Type one line', 'Type one line'];
    w.typed = ['5', '10'];
    await w.commands.get('orps.addTestInPanel')!();
    assert.deepEqual(w.requests.at(-1), ['orps.addTest', [{ uri: SOURCE, input: '5\n', expected: '10\n' }]]);
});

test('edit types one line over the current value, or opens the tests file at the test', async () => {
    const w = world({ 'orps.updateTest': { changed: true, reason: null } });
    start(w);
    const [first] = await roots(w);
    w.picks = ['Type one line'];
    w.typed = ['8'];
    await w.commands.get('orps.editTestExpected')!(first);
    assert.deepEqual(w.prefilled, ['2']);
    assert.deepEqual(w.requests.at(-1), ['orps.updateTest', [{ uri: SOURCE, number: 1, expected: '8\n' }]]);

    w.picks = ['Edit it in the tests file'];
    await w.commands.get('orps.editTestInput')!(first);
    assert.deepEqual(w.shown, [{ path: '/work/double.tests.json', line: 5 }]);
});

test('a test the panel does not own is not edited: it says where it lives', async () => {
    const w = world({
        'orps.tests': { uri: SOURCE, tests: [{ ...ROW(1, 'AC', false), origin: 'test/sample-1.in:1' }], summary: null },
    });
    start(w);
    const [only] = await roots(w);
    assert.equal(w.tree!.provider.getTreeItem(only).contextValue, 'orps.test');
    await w.commands.get('orps.editTestInput')!(only);
    assert.deepEqual(w.messages, ['ORPS: Test 1 comes from test/sample-1.in:1: edit it there.']);
    assert.equal(w.requests.at(-1)![0], 'orps.tests');
});
