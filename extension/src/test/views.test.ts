// The two tree views and their documents (extension/src/views.ts, bundled on its own into
// out-test/views.js) against a stand-in for the `vscode` module and a stand-in server that answers
// as server/history.py and server/search_view.py do.
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { disposable, EventEmitter, FakeUri, loadBundle, Provider, TreeItem, uri, Uri } from '../testing/fakeVscode';

const SOURCE = 'file:///work/primes.py';


interface World {
    requests: [string, unknown[]][];
    answers: Record<string, unknown>;
    commands: Map<string, (...args: unknown[]) => unknown>;
    executed: string[];
    warnings: string[];
    trees: Map<string, { message: string | undefined; provider: Provider }>;
    documents: Map<string, { provideTextDocumentContent(u: FakeUri): Promise<string> }>;
    activeEditorListeners: (() => void)[];
    changes: number;
}

function fakeVscode(world: World): unknown {
    return {
        EventEmitter,
        TreeItem,
        TreeItemCollapsibleState: { None: 0, Collapsed: 1, Expanded: 2 },
        Uri,
        window: {
            activeTextEditor: { document: { languageId: 'python', uri: uri('file', '/work/primes.py') } },
            createOutputChannel: () => ({ info: () => undefined, error: () => undefined }),
            createTreeView: (id: string, options: { treeDataProvider: Provider }) => {
                const tree = { message: undefined as string | undefined, provider: options.treeDataProvider };
                world.trees.set(id, tree);
                return { ...disposable, set message(text: string | undefined) { tree.message = text; } };
            },
            onDidChangeActiveTextEditor: (listener: () => void) => {
                world.activeEditorListeners.push(listener);
                return disposable;
            },
            showWarningMessage: (message: string) => world.warnings.push(message),
            showInformationMessage: (message: string) => world.warnings.push(message),
        },
        workspace: {
            registerTextDocumentContentProvider: (
                scheme: string,
                provider: { provideTextDocumentContent(u: FakeUri): Promise<string> },
            ) => {
                world.documents.set(scheme, provider);
                return disposable;
            },
        },
        commands: {
            registerCommand: (id: string, run: (...args: unknown[]) => unknown) => {
                world.commands.set(id, run);
                return disposable;
            },
            executeCommand: async (id: string) => world.executed.push(id),
        },
    };
}

interface ViewsModule {
    registerViews(context: unknown, request: (command: string, args: unknown[]) => Promise<unknown>): {
        changed(uri: string): void;
    };
}

function load(world: World): ViewsModule {
    return loadBundle<ViewsModule>('../views.js', fakeVscode(world));
}

const ENTRY = (id: string, group: string, outcome: string) => ({
    id,
    function: group,
    group,
    label: `${outcome}: 5/5 passed, CPU 3.0x lower`,
    description: '2030-01-02 03:04',
    tooltip: 'applied, 2030-01-02 03:04\nA sieve.',
    outcome,
    when: '2030-01-02T03:04:00+00:00',
});

const NODE = (id: string, parent: string | null, pick = false) => ({
    id,
    parent,
    round: parent ? 0 : -1,
    label: (pick ? '★ ' : '') + id,
    description: `${parent ? 'round 0' : 'original'} · 5 AC · 12 ms CPU`,
    tooltip: id,
    pick,
});

function world(answers: Record<string, unknown>): World {
    return {
        requests: [],
        answers,
        commands: new Map(),
        executed: [],
        warnings: [],
        trees: new Map(),
        documents: new Map(),
        activeEditorListeners: [],
        changes: 0,
    };
}

function start(w: World, running = true): { changed(uri: string): void } {
    const context = { subscriptions: [] as unknown[] };
    return load(w).registerViews(context, async (command, args) => {
        w.requests.push([command, args]);
        return running ? w.answers[command] : undefined;
    });
}

test('the history view lists the active file\'s functions, each with its entries, newest first', async () => {
    const w = world({
        'orps.history': {
            saved: true,
            problem: null,
            entries: [ENTRY('e2', 'total', 'accepted'), ENTRY('e1', 'total', 'rejected'), ENTRY('e0', 'Box.size', 'rejected')],
        },
    });
    start(w);
    const view = w.trees.get('orps.historyView');
    assert.ok(view);
    const roots = await view.provider.getChildren();
    assert.deepEqual(w.requests[0], ['orps.history', [{ uri: SOURCE, function: null }]]);
    const labels = roots.map((r) => view.provider.getTreeItem(r));
    assert.deepEqual(
        labels.map((i) => [i.label, i.description]),
        [
            ['total', '2 refinement(s), 1 accepted'],
            ['Box.size', '1 refinement(s), 0 accepted'],
        ],
    );
    const entries = (await view.provider.getChildren(roots[0])).map((e) => view.provider.getTreeItem(e));
    assert.deepEqual(
        entries.map((i) => [i.id, i.label, i.contextValue]),
        [
            ['e2', 'accepted: 5/5 passed, CPU 3.0x lower', 'orps.historyEntry'],
            ['e1', 'rejected: 5/5 passed, CPU 3.0x lower', 'orps.historyEntry'],
        ],
    );
    // clicking opens the read-only orps-history: document, which the server writes
    const opened = entries[0].command;
    assert.equal(opened?.command, 'vscode.open');
    const document = opened?.arguments[0] as FakeUri;
    assert.equal(document.scheme, 'orps-history');
    assert.equal(document.path, '/work/primes.py.e2.md');
    w.answers['orps.historyEntry'] = { text: '# ORPS history: total\n' };
    const text = await w.documents.get('orps-history')?.provideTextDocumentContent(document);
    assert.equal(text, '# ORPS history: total\n');
    assert.deepEqual(w.requests.at(-1), ['orps.historyEntry', [{ uri: SOURCE, entry: 'e2' }]]);
    assert.equal(view.message, undefined);
});

test('Re-apply sends the entry to the server and says why when it was refused', async () => {
    const w = world({
        'orps.history': { saved: false, problem: 'no storage folder', entries: [ENTRY('e2', 'total', 'accepted')] },
        'orps.reapplyHistory': { applied: false, reason: "not re-applied: 'total' is not a top-level function" },
    });
    start(w);
    const view = w.trees.get('orps.historyView');
    assert.ok(view);
    const [root] = await view.provider.getChildren();
    assert.equal(view.message, 'no storage folder'); // not saved: the view says so
    const [entry] = await view.provider.getChildren(root);
    await w.commands.get('orps.reapplyHistoryEntry')?.(entry);
    assert.deepEqual(w.requests.at(-1), ['orps.reapplyHistory', [{ uri: SOURCE, entry: 'e2' }]]);
    assert.deepEqual(w.warnings, ["ORPS: not re-applied: 'total' is not a top-level function."]);
});

test('the hover\'s link focuses the history on one function', async () => {
    const w = world({ 'orps.history': { saved: true, problem: null, entries: [] } });
    start(w);
    await w.commands.get('orps.showHistory')?.({ uri: SOURCE, function: 'total' });
    assert.deepEqual(w.executed, ['orps.historyView.focus']);
    const view = w.trees.get('orps.historyView');
    await view?.provider.getChildren();
    assert.deepEqual(w.requests.at(-1), ['orps.history', [{ uri: SOURCE, function: 'total' }]]);
    assert.equal(view?.message, 'No refinement of this file was accepted or rejected yet.');
    w.activeEditorListeners.forEach((l) => l()); // another file: the whole history again
    await view?.provider.getChildren();
    assert.deepEqual(w.requests.at(-1), ['orps.history', [{ uri: SOURCE, function: null }]]);
});

test('the search view nests candidates by parent and opens one as an orps-candidate: document', async () => {
    const w = world({
        'orps.searchTree': {
            function: 'sum_primes_below',
            summary: 'ORPS refinement: 5/5 passed, CPU 3.0x lower',
            nodes: [NODE('original', null), NODE('r0.k0.s0', 'original', true), NODE('r0.k0.s1', 'original'),
                NODE('r1.k0.s0', 'r0.k0.s0')],
        },
        'orps.candidate': { text: '# ORPS candidate r0.k0.s0\n' },
    });
    start(w);
    const view = w.trees.get('orps.searchView');
    assert.ok(view);
    const [root, ...others] = await view.provider.getChildren();
    assert.equal(others.length, 0);
    const rootItem = view.provider.getTreeItem(root);
    assert.deepEqual([rootItem.label, rootItem.collapsibleState], ['original', 2]);
    assert.equal(view.message, 'sum_primes_below: ORPS refinement: 5/5 passed, CPU 3.0x lower');
    const children = (await view.provider.getChildren(root)).map((c) => view.provider.getTreeItem(c));
    assert.deepEqual(
        children.map((c) => [c.label, c.contextValue, c.collapsibleState]),
        [
            ['★ r0.k0.s0', 'orps.searchPick', 2],
            ['r0.k0.s1', 'orps.searchNode', 0],
        ],
    );
    assert.equal(children[0].description, 'round 0 · 5 AC · 12 ms CPU');
    const document = children[0].command?.arguments[0] as FakeUri;
    assert.equal(document.scheme, 'orps-candidate');
    const text = await w.documents.get('orps-candidate')?.provideTextDocumentContent(document);
    assert.equal(text, '# ORPS candidate r0.k0.s0\n');
    assert.deepEqual(w.requests.at(-1), ['orps.candidate', [{ uri: SOURCE, node: 'r0.k0.s0' }]]);
});

test('the views say when there is nothing to show, and refresh when the server says the file changed', async () => {
    const w = world({ 'orps.searchTree': null });
    const views = start(w);
    const view = w.trees.get('orps.searchView');
    assert.ok(view);
    assert.deepEqual(await view.provider.getChildren(), []);
    assert.equal(view.message, 'No refine of this file yet: refine a function to see its search.');
    let refreshed = 0;
    view.provider.onDidChangeTreeData(() => refreshed++);
    views.changed('file:///work/other.py'); // not the active file
    views.changed(SOURCE);
    assert.equal(refreshed, 1);

    const down = world({});
    start(down, false);
    const history = down.trees.get('orps.historyView');
    assert.deepEqual(await history?.provider.getChildren(), []);
    assert.equal(history?.message, 'The orps language server is not running.');
});
