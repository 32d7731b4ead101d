// "ORPS Tests" in the Explorer: the active file's tests (server/test_panel.py builds every row), each
// with its verdict, time and memory, and its input, expected and actual output as read-only
// `orps-test:` documents; Run (one test), Edit, Delete on each, Run All and Add Test on the view. The
// selection's code action ("Add the selected text as a test's input") lands in addSelectionAsTest.
//
// Editing: the text of a test is often several lines, which an input box cannot hold. So every text
// is asked through `askText`: the clipboard (any number of lines, as copied from a problem page), one
// typed line (prefilled with the current value when it is one line), or, to edit, the tests file
// opened at the test (the editor's own, undoable edit; saving it reruns the tests).
import * as vscode from 'vscode';
import { COMMANDS, SERVER_COMMANDS, VIEWS } from './common/constants';
import { traceError } from './common/logging';
import { activePythonUri, FileView, Request } from './views';

export const TEST_SCHEME = 'orps-test';
export type Part = 'input' | 'expected' | 'actual';
const PARTS: Part[] = ['input', 'expected', 'actual'];

export interface TestRow {
    number: number;
    id: string;
    kind: string;
    origin: string;
    path: string | null;
    line: number | null;
    label: string;
    description: string;
    tooltip: string;
    verdict: string | null;
    input: string;
    expected: string;
    actual: string;
    editable: boolean;
}

interface TestsAnswer {
    tests: TestRow[];
    summary: string | null;
    canAdd: boolean;
    message: string | null;
}

interface ChangeAnswer {
    changed: boolean;
    reason: string | null;
}

export type TestItem = { kind: 'test'; uri: string; row: TestRow } | { kind: 'part'; uri: string; row: TestRow; part: Part };

/** The codicon of a verdict (none: not run). */
export function verdictIcon(verdict: string | null): string {
    switch (verdict) {
        case 'AC':
            return 'pass';
        case 'WA':
            return 'error';
        case 'TLE':
            return 'watch';
        case 'MLE':
        case 'OLE':
            return 'warning';
        case 'RE':
            return 'bug';
        case null:
            return 'circle-large-outline';
        default:
            return 'question';
    }
}

/** ``orps-test:<file path>.test-<number>.<part>.txt?{"uri", "id", "part"}``: one part of one test. */
export function testDocumentUri(source: string, row: TestRow, part: Part): vscode.Uri {
    const path = vscode.Uri.parse(source).path;
    return vscode.Uri.from({
        scheme: TEST_SCHEME,
        path: `${path}.test-${row.number}.${part}.txt`,
        query: JSON.stringify({ uri: source, id: row.id, part }),
    });
}

export class TestView extends FileView<TestItem> {
    canAdd = false;

    async getChildren(element?: TestItem): Promise<TestItem[]> {
        if (element) {
            return element.kind === 'test'
                ? PARTS.map((part) => ({ kind: 'part' as const, uri: element.uri, row: element.row, part }))
                : [];
        }
        const uri = this.activeUri();
        if (!uri) {
            this.say('Open a Python file to see its tests.');
            return [];
        }
        const answer = (await this.request(SERVER_COMMANDS.tests, [{ uri }])) as TestsAnswer | null | undefined;
        if (!answer) {
            this.canAdd = false;
            this.say('The orps language server is not running.');
            return [];
        }
        this.canAdd = answer.canAdd;
        this.say([answer.summary, answer.message].filter((m) => m).join(' · ') || undefined);
        return answer.tests.map((row) => ({ kind: 'test' as const, uri, row }));
    }

    getTreeItem(element: TestItem): vscode.TreeItem {
        if (element.kind === 'part') {
            const item = new vscode.TreeItem(element.part, vscode.TreeItemCollapsibleState.None);
            const text = element.row[element.part];
            item.description = firstLine(text);
            item.contextValue = `orps.testPart.${element.part}`;
            item.command = {
                command: 'vscode.open',
                title: `Show the test's ${element.part}`,
                arguments: [testDocumentUri(element.uri, element.row, element.part), { preview: true }],
            };
            return item;
        }
        const { row } = element;
        const item = new vscode.TreeItem(row.label, vscode.TreeItemCollapsibleState.Collapsed);
        item.id = `${element.uri}#${row.id}`;
        item.description = row.description;
        item.tooltip = row.tooltip;
        item.iconPath = new vscode.ThemeIcon(verdictIcon(row.verdict));
        item.contextValue = row.editable ? 'orps.testEditable' : 'orps.test';
        return item;
    }
}

function firstLine(text: string): string {
    const lines = text.split('\n');
    const more = lines.length > 2 || (lines.length === 2 && lines[1] !== '') ? ' …' : '';
    return lines[0].slice(0, 60) + more;
}

/** Serves ``orps-test:`` documents from the server's listing (the excerpts it sends). */
export class TestDocuments implements vscode.TextDocumentContentProvider {
    constructor(private readonly request: Request) {}

    async provideTextDocumentContent(uri: vscode.Uri): Promise<string> {
        const { uri: source, id, part } = JSON.parse(uri.query) as { uri: string; id: string; part: Part };
        const answer = (await this.request(SERVER_COMMANDS.tests, [{ uri: source }])) as TestsAnswer | null | undefined;
        if (answer === undefined) {
            return 'The orps language server is not running (see the ORPS output).';
        }
        const row = answer?.tests.find((t) => t.id === id);
        return row ? row[part] : 'No longer available: the file has no such test any more.';
    }
}

/** How a text is given: from the clipboard (any number of lines), one typed line, or (to edit) in the tests file. */
export interface TextChoice {
    label: string;
    source: 'clipboard' | 'type' | 'file';
    description?: string;
}

export function textChoices(clipboard: string, editing: boolean): TextChoice[] {
    const choices: TextChoice[] = [];
    if (clipboard) {
        const lines = clipboard.replace(/\n$/, '').split('\n').length;
        choices.push({
            label: 'From the clipboard',
            source: 'clipboard',
            description: `${lines} line(s): ${firstLine(clipboard)}`,
        });
    }
    choices.push({ label: 'Type one line', source: 'type' });
    if (editing) {
        choices.push({ label: 'Edit it in the tests file', source: 'file', description: 'any number of lines' });
    }
    return choices;
}

/** A line typed or pasted as a test's text ends as a file's last line does. */
export function asTestText(text: string): string {
    return text === '' || text.endsWith('\n') ? text : `${text}\n`;
}

type Asked = { text: string } | 'file' | undefined;

async function askText(what: string, editing: boolean, current?: string): Promise<Asked> {
    const clipboard = await vscode.env.clipboard.readText();
    const choice = await vscode.window.showQuickPick(textChoices(clipboard, editing), {
        title: `ORPS: the test's ${what}`,
    });
    if (!choice) {
        return undefined;
    }
    if (choice.source === 'file') {
        return 'file';
    }
    if (choice.source === 'clipboard') {
        return { text: asTestText(clipboard) };
    }
    const oneLine = current !== undefined && !current.replace(/\n$/, '').includes('\n');
    const typed = await vscode.window.showInputBox({
        title: `ORPS: the test's ${what}`,
        prompt: 'One line (for several, copy them and choose "From the clipboard")',
        value: oneLine ? current.replace(/\n$/, '') : '',
        ignoreFocusOut: true,
    });
    return typed === undefined ? undefined : { text: asTestText(typed) };
}

async function changed(answer: unknown): Promise<void> {
    const result = answer as ChangeAnswer | null | undefined;
    if (result && !result.changed) {
        void vscode.window.showWarningMessage(`ORPS: ${result.reason ?? 'not changed'}.`);
    }
}

async function openTestsFile(row: TestRow): Promise<void> {
    if (!row.path) {
        return;
    }
    const document = await vscode.workspace.openTextDocument(vscode.Uri.file(row.path));
    const line = Math.max(0, (row.line ?? 1) - 1);
    await vscode.window.showTextDocument(document, { selection: new vscode.Range(line, 0, line, 0) });
}

export interface TestPanel {
    /** The server said the file's tests or their results changed (``orps/tests``, ``orps/status``). */
    (update: { uri: string }): void;
}

export function registerTestPanel(context: vscode.ExtensionContext, request: Request): TestPanel {
    const view = new TestView(request, activePythonUri, (message) => (tree.message = message));
    const tree = vscode.window.createTreeView(VIEWS.tests, { treeDataProvider: view });
    const guard =
        (doing: string, run: (...args: never[]) => Promise<unknown>) =>
        (...args: never[]): Promise<void> =>
            run(...args).then(
                () => undefined,
                (error) => traceError(`${doing} failed`, error),
            );
    const editPart = (part: 'input' | 'expected') => async (item?: TestItem) => {
        if (!item?.row.editable) {
            void vscode.window.showInformationMessage(
                item ? `ORPS: ${item.row.label} comes from ${item.row.origin}: edit it there.` : 'ORPS: choose a test.',
            );
            return;
        }
        const asked = await askText(part, true, item.row[part]);
        if (asked === 'file') {
            await openTestsFile(item.row);
        } else if (asked) {
            await changed(
                await request(SERVER_COMMANDS.updateTest, [{ uri: item.uri, number: item.row.number, [part]: asked.text }]),
            );
        }
    };
    const addTest = async (uri: string | undefined, input?: string): Promise<void> => {
        if (!uri) {
            void vscode.window.showInformationMessage('ORPS: open a Python file first.');
            return;
        }
        const given = input !== undefined ? { text: input } : await askText('input', false);
        if (!given || given === 'file') {
            return;
        }
        const expected = await askText('expected output', false);
        if (!expected || expected === 'file') {
            return;
        }
        await changed(await request(SERVER_COMMANDS.addTest, [{ uri, input: given.text, expected: expected.text }]));
    };
    context.subscriptions.push(
        view,
        tree,
        vscode.workspace.registerTextDocumentContentProvider(TEST_SCHEME, new TestDocuments(request)),
        vscode.window.onDidChangeActiveTextEditor(() => view.refresh()),
        vscode.commands.registerCommand(
            COMMANDS.runTest,
            guard('running the test', async (item?: TestItem) => {
                if (item) {
                    await request(SERVER_COMMANDS.runTest, [{ uri: item.uri, id: item.row.id }]);
                }
            }),
        ),
        vscode.commands.registerCommand(
            COMMANDS.runAllTests,
            guard('running the tests', async () => {
                const uri = activePythonUri();
                if (uri) {
                    await request(SERVER_COMMANDS.runTests, [{ uri }]);
                }
            }),
        ),
        vscode.commands.registerCommand(COMMANDS.editTestInput, guard('editing the test', editPart('input'))),
        vscode.commands.registerCommand(COMMANDS.editTestExpected, guard('editing the test', editPart('expected'))),
        vscode.commands.registerCommand(
            COMMANDS.deleteTest,
            guard('deleting the test', async (item?: TestItem) => {
                if (!item) {
                    return;
                }
                const sure = await vscode.window.showWarningMessage(
                    `ORPS: delete ${item.row.label} from ${item.row.origin.split(':')[0]}?`,
                    { modal: true },
                    'Delete',
                );
                if (sure === 'Delete') {
                    await changed(await request(SERVER_COMMANDS.deleteTest, [{ uri: item.uri, number: item.row.number }]));
                }
            }),
        ),
        vscode.commands.registerCommand(
            COMMANDS.addTest,
            guard('adding the test', () => addTest(activePythonUri())),
        ),
        vscode.commands.registerCommand(
            COMMANDS.addSelectionAsTest,
            guard('adding the test', (args?: { uri: string; input: string }) => addTest(args?.uri, args?.input)),
        ),
    );
    return (update: { uri: string }): void => {
        if (update.uri === activePythonUri()) {
            view.refresh();
        }
    };
}
