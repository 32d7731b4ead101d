// Two tree views in the Explorer, both for the active file: "ORPS Refine History" (its functions, each
// with the refinements accepted or rejected; an entry opens its figures, critique and code against the
// current code, and "Re-apply" puts its code back) and "ORPS Search Tree" (the latest refine's
// candidates nested by parent; a candidate opens its code, report and critique). The server builds
// every row and document (server/history.py, server/search_view.py); this module only shows them.
import * as vscode from 'vscode';
import { COMMANDS, SERVER_COMMANDS, VIEWS } from './common/constants';
import { traceError } from './common/logging';

export const CANDIDATE_SCHEME = 'orps-candidate';
export const HISTORY_SCHEME = 'orps-history';

/** Sends a server command; undefined when the server is not running. */
export type Request = (command: string, args: unknown[]) => Promise<unknown>;

interface EntryRow {
    id: string;
    function: string | null;
    group: string;
    label: string;
    description: string;
    tooltip: string;
    outcome: string;
}

interface HistoryAnswer {
    saved: boolean;
    problem: string | null;
    entries: EntryRow[];
}

interface NodeRow {
    id: string;
    parent: string | null;
    label: string;
    description: string;
    tooltip: string;
    pick: boolean;
}

interface SearchAnswer {
    function: string;
    summary: string;
    nodes: NodeRow[];
}

export type HistoryItem =
    | { kind: 'function'; uri: string; group: string; entries: EntryRow[] }
    | { kind: 'entry'; uri: string; row: EntryRow };

export interface SearchItem {
    uri: string;
    row: NodeRow;
    children: NodeRow[];
}

/** A read-only document the server writes: ``scheme:<file path>.<id>.md?{"uri", "id"}``. */
export function viewDocumentUri(scheme: string, source: string, id: string): vscode.Uri {
    const path = vscode.Uri.parse(source).path;
    return vscode.Uri.from({ scheme, path: `${path}.${id}.md`, query: JSON.stringify({ uri: source, id }) });
}

export function activePythonUri(): string | undefined {
    const document = vscode.window.activeTextEditor?.document;
    return document && document.languageId === 'python' && document.uri.scheme === 'file'
        ? document.uri.toString()
        : undefined;
}

/** A tree view of the active file's server data, with a message above it (why it is empty, ...). */
export abstract class FileView<T> implements vscode.TreeDataProvider<T>, vscode.Disposable {
    protected readonly changes = new vscode.EventEmitter<T | undefined>();
    readonly onDidChangeTreeData = this.changes.event;
    message: string | undefined; // shown above the tree: why it is empty, or that the history is not saved

    constructor(
        protected readonly request: Request,
        protected readonly activeUri: () => string | undefined,
        private readonly onMessage: (message: string | undefined) => void = () => undefined,
    ) {}

    refresh(): void {
        this.changes.fire(undefined);
    }

    dispose(): void {
        this.changes.dispose();
    }

    protected say(message: string | undefined): void {
        this.message = message;
        this.onMessage(message);
    }

    abstract getTreeItem(element: T): vscode.TreeItem;
    abstract getChildren(element?: T): Promise<T[]>;
}

export class HistoryView extends FileView<HistoryItem> {
    /** Only this function's entries (from the hover's link), until the active file changes. */
    focus: { uri: string; function: string | null } | undefined;

    async getChildren(element?: HistoryItem): Promise<HistoryItem[]> {
        if (element) {
            return element.kind === 'function'
                ? element.entries.map((row) => ({ kind: 'entry' as const, uri: element.uri, row }))
                : [];
        }
        const uri = this.activeUri();
        if (!uri) {
            this.say('Open a Python file to see its refine history.');
            return [];
        }
        const focused = this.focus?.uri === uri ? this.focus.function : undefined;
        const answer = (await this.request(SERVER_COMMANDS.history, [
            { uri, function: focused ?? null },
        ])) as HistoryAnswer | null | undefined;
        if (!answer) {
            this.say('The orps language server is not running.');
            return [];
        }
        const groups = new Map<string, EntryRow[]>();
        for (const row of answer.entries) {
            groups.set(row.group, [...(groups.get(row.group) ?? []), row]);
        }
        const empty = answer.entries.length === 0 ? 'No refinement of this file was accepted or rejected yet.' : undefined;
        this.say([empty, answer.saved ? undefined : answer.problem].filter((m) => m).join(' ') || undefined);
        return [...groups].map(([group, entries]) => ({ kind: 'function' as const, uri, group, entries }));
    }

    getTreeItem(element: HistoryItem): vscode.TreeItem {
        if (element.kind === 'function') {
            const accepted = element.entries.filter((e) => e.outcome === 'accepted').length;
            const item = new vscode.TreeItem(element.group, vscode.TreeItemCollapsibleState.Expanded);
            item.description = `${element.entries.length} refinement(s), ${accepted} accepted`;
            item.contextValue = 'orps.historyFunction';
            return item;
        }
        const { row } = element;
        const item = new vscode.TreeItem(row.label, vscode.TreeItemCollapsibleState.None);
        item.id = row.id;
        item.description = row.description;
        item.tooltip = row.tooltip;
        item.contextValue = 'orps.historyEntry';
        item.command = {
            command: 'vscode.open',
            title: 'Show the refinement',
            arguments: [viewDocumentUri(HISTORY_SCHEME, element.uri, row.id), { preview: true }],
        };
        return item;
    }
}

export class SearchView extends FileView<SearchItem> {
    private nodes: NodeRow[] = [];

    async getChildren(element?: SearchItem): Promise<SearchItem[]> {
        if (element) {
            return this.items(element.uri, element.row.id);
        }
        const uri = this.activeUri();
        this.nodes = [];
        if (!uri) {
            this.say('Open a Python file to see its latest refine.');
            return [];
        }
        const answer = (await this.request(SERVER_COMMANDS.searchTree, [{ uri }])) as SearchAnswer | null | undefined;
        if (answer === undefined) {
            this.say('The orps language server is not running.');
            return [];
        }
        if (!answer) {
            this.say('No refine of this file yet: refine a function to see its search.');
            return [];
        }
        this.nodes = answer.nodes;
        this.say(`${answer.function}: ${answer.summary}`);
        return this.items(uri, null);
    }

    private items(uri: string, parent: string | null): SearchItem[] {
        const ids = new Set(this.nodes.map((n) => n.id));
        const isChild = (n: NodeRow): boolean =>
            parent === null ? n.parent === null || !ids.has(n.parent) : n.parent === parent;
        return this.nodes
            .filter(isChild)
            .map((row) => ({ uri, row, children: this.nodes.filter((n) => n.parent === row.id) }));
    }

    getTreeItem(element: SearchItem): vscode.TreeItem {
        const { row } = element;
        const state =
            element.children.length > 0
                ? vscode.TreeItemCollapsibleState.Expanded
                : vscode.TreeItemCollapsibleState.None;
        const item = new vscode.TreeItem(row.label, state);
        item.id = row.id;
        item.description = row.description;
        item.tooltip = row.tooltip;
        item.contextValue = row.pick ? 'orps.searchPick' : 'orps.searchNode';
        item.command = {
            command: 'vscode.open',
            title: 'Show the candidate',
            arguments: [viewDocumentUri(CANDIDATE_SCHEME, element.uri, row.id), { preview: true }],
        };
        return item;
    }
}

/** Serves ``orps-candidate:`` and ``orps-history:`` documents: read-only, asked of the server. */
export class ViewDocuments implements vscode.TextDocumentContentProvider {
    constructor(private readonly request: Request) {}

    async provideTextDocumentContent(uri: vscode.Uri): Promise<string> {
        const { uri: source, id } = JSON.parse(uri.query) as { uri: string; id: string };
        const answer =
            uri.scheme === CANDIDATE_SCHEME
                ? await this.request(SERVER_COMMANDS.candidate, [{ uri: source, node: id }])
                : await this.request(SERVER_COMMANDS.historyEntry, [{ uri: source, entry: id }]);
        if (answer === undefined) {
            return 'The orps language server is not running (see the ORPS output).';
        }
        return (answer as { text?: string } | null)?.text ?? 'No longer available: the server no longer has it.';
    }
}

export interface Views {
    /** The server said the file's history or search changed (``orps/views``). */
    changed(uri: string): void;
}

export function registerViews(context: vscode.ExtensionContext, request: Request): Views {
    const history = new HistoryView(request, activePythonUri, (message) => (historyTree.message = message));
    const search = new SearchView(request, activePythonUri, (message) => (searchTree.message = message));
    const historyTree = vscode.window.createTreeView(VIEWS.history, { treeDataProvider: history });
    const searchTree = vscode.window.createTreeView(VIEWS.search, { treeDataProvider: search });
    const documents = new ViewDocuments(request);
    const refresh = (): void => {
        history.refresh();
        search.refresh();
    };
    context.subscriptions.push(
        history,
        search,
        historyTree,
        searchTree,
        vscode.workspace.registerTextDocumentContentProvider(CANDIDATE_SCHEME, documents),
        vscode.workspace.registerTextDocumentContentProvider(HISTORY_SCHEME, documents),
        vscode.window.onDidChangeActiveTextEditor(() => {
            history.focus = undefined;
            refresh();
        }),
        vscode.commands.registerCommand(COMMANDS.refreshViews, refresh),
        vscode.commands.registerCommand(COMMANDS.showHistory, (target?: { uri: string; function: string | null }) => {
            history.focus = target;
            history.refresh();
            return vscode.commands.executeCommand(`${VIEWS.history}.focus`);
        }),
        vscode.commands.registerCommand(COMMANDS.reapply, (item?: HistoryItem) => reapply(request, item)),
    );
    return {
        changed: (uri: string): void => {
            if (uri === activePythonUri()) {
                refresh();
            }
        },
    };
}

async function reapply(request: Request, item: HistoryItem | undefined): Promise<void> {
    if (!item || item.kind !== 'entry') {
        void vscode.window.showInformationMessage('ORPS: choose a refinement in the ORPS Refine History view.');
        return;
    }
    try {
        const answer = (await request(SERVER_COMMANDS.reapplyHistory, [{ uri: item.uri, entry: item.row.id }])) as
            | { applied: boolean; reason?: string | null }
            | null
            | undefined;
        if (answer && !answer.applied) {
            void vscode.window.showWarningMessage(`ORPS: ${answer.reason ?? 'not re-applied'}.`);
        }
    } catch (error) {
        traceError('re-applying the refinement failed', error);
    }
}
