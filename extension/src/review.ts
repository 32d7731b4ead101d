// "ORPS: Review Refinement": a diff editor between the current file and the proposal (a read-only
// `orps-proposal:` document), with Accept and Reject; the diff closes once the user has chosen. With
// orps.reviewMode "inline", the review happens in the file itself, hunk by hunk (server/review.py).
import * as vscode from 'vscode';
import { LanguageClient } from 'vscode-languageclient/node';
import { documentArguments } from './common/args';
import { CONFIG_SECTION, SERVER_COMMANDS } from './common/constants';
import { traceError } from './common/logging';
import { PROPOSAL_SCHEME, ServerDocuments, virtualUri } from './documents';

interface Proposal {
    uri: string;
    summary: string;
    stale?: string | null;
}

export async function reviewRefinement(
    client: LanguageClient,
    documents: ServerDocuments,
    source: vscode.Uri,
): Promise<void> {
    const args = documentArguments(source.toString());
    const mode = vscode.workspace.getConfiguration(CONFIG_SECTION, source).get<string>('reviewMode');
    if (mode === 'inline') {
        // the server marks the hunks (orps/review) and puts Accept and Reject on each as code lenses
        await client.sendRequest('workspace/executeCommand', { command: SERVER_COMMANDS.reviewInline, arguments: args });
        return;
    }
    const proposal = (await client.sendRequest('workspace/executeCommand', {
        command: SERVER_COMMANDS.proposal,
        arguments: args,
    })) as Proposal | null;
    if (!proposal) {
        void vscode.window.showInformationMessage('ORPS: no refinement to review for this file. Refine it first.');
        return;
    }
    if (proposal.stale) {
        void vscode.window.showWarningMessage(`ORPS: ${proposal.stale}.`);
        return;
    }
    const proposed = virtualUri(PROPOSAL_SCHEME, source);
    documents.refresh(proposed);
    const title = `${vscode.workspace.asRelativePath(source)} ↔ ORPS proposal`;
    await vscode.commands.executeCommand('vscode.diff', source, proposed, title);
    const choice = await vscode.window.showInformationMessage(proposal.summary, 'Accept', 'Reject');
    if (choice === 'Accept') {
        const result = (await client.sendRequest('workspace/executeCommand', {
            command: SERVER_COMMANDS.apply,
            arguments: args,
        })) as { applied: boolean; reason?: string } | null;
        if (!result?.applied) {
            void vscode.window.showWarningMessage(`ORPS: not applied${result?.reason ? `: ${result.reason}` : ''}.`);
            return;
        }
    } else if (choice === 'Reject') {
        await client
            .sendRequest('workspace/executeCommand', { command: SERVER_COMMANDS.reject, arguments: args })
            .catch((error) => traceError('recording the rejection failed', error));
    } else {
        return; // dismissed: the review stays open
    }
    await closeDiffs(proposed);
}

/** Closes the review's diff tabs: after a choice both sides would only say the same thing. */
async function closeDiffs(proposed: vscode.Uri): Promise<void> {
    const tabs = vscode.window.tabGroups.all
        .flatMap((group) => group.tabs)
        .filter((tab) => tab.input instanceof vscode.TabInputTextDiff && tab.input.modified.toString() === proposed.toString());
    if (tabs.length > 0) {
        await vscode.window.tabGroups.close(tabs);
    }
}
