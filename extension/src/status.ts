// The status bar: the active file's last test summary; a spinner while a refine runs.
import * as vscode from 'vscode';
import { COMMANDS } from './common/constants';
import { ServerStatus, statusText } from './common/messages';

export class StatusBar implements vscode.Disposable {
    private readonly item = vscode.window.createStatusBarItem(vscode.StatusBarAlignment.Left, 50);
    private readonly byUri = new Map<string, ServerStatus>();

    constructor(private trusted: () => boolean) {
        this.item.command = COMMANDS.runTests;
        this.render();
        this.item.show();
    }

    update(status: ServerStatus): void {
        if (status.uri) {
            this.byUri.set(status.uri, { ...this.byUri.get(status.uri), ...status });
        }
        this.render();
    }

    render(): void {
        const uri = vscode.window.activeTextEditor?.document.uri.toString();
        const status = uri ? this.byUri.get(uri) : undefined;
        this.item.text = statusText(status, this.trusted());
        this.item.tooltip = this.trusted()
            ? 'ORPS: the active file\'s tests (click to run them)'
            : 'ORPS runs nothing in an untrusted workspace';
    }

    dispose(): void {
        this.item.dispose();
    }
}
