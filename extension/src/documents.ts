// Read-only virtual documents for what the server proposes: `orps-proposal:` (the file as it would be
// after applying) and `orps-critique:` (the critic's review, Markdown). Nothing is written to disk, so
// nothing typed there can be lost, and two files of the same name in different projects never share one.
import * as vscode from 'vscode';
import { LanguageClient } from 'vscode-languageclient/node';
import { documentArguments } from './common/args';
import { SERVER_COMMANDS } from './common/constants';

export const PROPOSAL_SCHEME = 'orps-proposal';
export const CRITIQUE_SCHEME = 'orps-critique';

/** The virtual document about ``source`` (its path, for the tab's title and the language; the
 * source's URI in the query, to ask the server). */
export function virtualUri(scheme: string, source: vscode.Uri): vscode.Uri {
    const path = scheme === CRITIQUE_SCHEME ? `${source.path}.critique.md` : source.path;
    return vscode.Uri.from({ scheme, path, query: source.toString() });
}

export class ServerDocuments implements vscode.TextDocumentContentProvider, vscode.Disposable {
    private readonly changes = new vscode.EventEmitter<vscode.Uri>();
    readonly onDidChange = this.changes.event;

    constructor(private readonly client: () => LanguageClient | undefined) {}

    async provideTextDocumentContent(uri: vscode.Uri): Promise<string> {
        const running = this.client();
        if (!running) {
            return 'The orps language server is not running (see the ORPS output).';
        }
        const command = uri.scheme === CRITIQUE_SCHEME ? SERVER_COMMANDS.critique : SERVER_COMMANDS.proposal;
        const answer = (await running.sendRequest('workspace/executeCommand', {
            command,
            arguments: documentArguments(uri.query),
        })) as { proposal?: string; text?: string } | null;
        if (!answer) {
            return 'No refinement for this file any more: refine it again.';
        }
        return (uri.scheme === CRITIQUE_SCHEME ? answer.text : answer.proposal) ?? '';
    }

    /** Shows the latest content of an open virtual document again (a new refine, a new review). */
    refresh(uri: vscode.Uri): void {
        this.changes.fire(uri);
    }

    dispose(): void {
        this.changes.dispose();
    }
}

export function registerServerDocuments(provider: ServerDocuments): vscode.Disposable[] {
    return [
        provider,
        vscode.workspace.registerTextDocumentContentProvider(PROPOSAL_SCHEME, provider),
        vscode.workspace.registerTextDocumentContentProvider(CRITIQUE_SCHEME, provider),
    ];
}

/** The critique as Markdown source, not a rendered preview: the text is the model's, and a preview
 * would fetch any image it links to. */
export async function showCritique(documents: ServerDocuments, source: vscode.Uri): Promise<void> {
    const uri = virtualUri(CRITIQUE_SCHEME, source);
    documents.refresh(uri);
    await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(uri), { preview: true });
}
