// "ORPS: Review Refinement": a diff editor between the current code and the proposal, with
// Accept and Reject.
import * as vscode from 'vscode';
import { LanguageClient } from 'vscode-languageclient/node';
import { documentArguments } from './common/args';
import { SERVER_COMMANDS } from './common/constants';

interface Proposal {
    uri: string;
    proposalUri: string;
    summary: string;
    stale?: string | null;
}

export async function reviewRefinement(client: LanguageClient, document: vscode.TextDocument): Promise<void> {
    const proposal = (await client.sendRequest('workspace/executeCommand', {
        command: SERVER_COMMANDS.proposal,
        arguments: documentArguments(document.uri.toString()),
    })) as Proposal | null;
    if (!proposal) {
        void vscode.window.showInformationMessage('ORPS: no refinement to review for this file. Refine it first.');
        return;
    }
    if (proposal.stale) {
        void vscode.window.showWarningMessage(`ORPS: ${proposal.stale}.`);
        return;
    }
    const title = `${vscode.workspace.asRelativePath(document.uri)} ↔ ORPS proposal`;
    await vscode.commands.executeCommand('vscode.diff', document.uri, vscode.Uri.parse(proposal.proposalUri), title);
    const choice = await vscode.window.showInformationMessage(proposal.summary, 'Accept', 'Reject');
    if (choice === 'Accept') {
        const result = (await client.sendRequest('workspace/executeCommand', {
            command: SERVER_COMMANDS.apply,
            arguments: documentArguments(document.uri.toString()),
        })) as { applied: boolean; reason?: string } | null;
        if (!result?.applied) {
            void vscode.window.showWarningMessage(`ORPS: not applied${result?.reason ? `: ${result.reason}` : ''}.`);
        }
    }
}
