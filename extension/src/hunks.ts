// The inline review's marks: the lines each pending hunk would replace, shaded as removed, with what
// it puts there after them and the whole hunk as a diff on hover. The server decides everything (the
// hunks, where they are, Accept and Reject as code lenses); this only paints what `orps/review` says.
import * as vscode from 'vscode';
import { hunkSummary, ReviewUpdate } from './common/messages';

export class HunkMarks implements vscode.Disposable {
    private readonly removed = vscode.window.createTextEditorDecorationType({
        isWholeLine: true,
        backgroundColor: new vscode.ThemeColor('diffEditor.removedLineBackground'),
        overviewRulerColor: new vscode.ThemeColor('editorOverviewRuler.deletedForeground'),
        overviewRulerLane: vscode.OverviewRulerLane.Left,
    });
    private readonly added = vscode.window.createTextEditorDecorationType({
        after: { color: new vscode.ThemeColor('editorCodeLens.foreground'), margin: '0 0 0 2em' },
    });
    private readonly byUri = new Map<string, ReviewUpdate['hunks']>();

    update(update: ReviewUpdate): void {
        if (update.hunks.length === 0) {
            this.byUri.delete(update.uri);
        } else {
            this.byUri.set(update.uri, update.hunks);
        }
        for (const editor of vscode.window.visibleTextEditors) {
            if (editor.document.uri.toString() === update.uri) {
                this.render(editor);
            }
        }
    }

    render(editor: vscode.TextEditor): void {
        const hunks = this.byUri.get(editor.document.uri.toString()) ?? [];
        const removed: vscode.DecorationOptions[] = [];
        const added: vscode.DecorationOptions[] = [];
        const last = Math.max(0, editor.document.lineCount - 1);
        for (const hunk of hunks) {
            const hover = new vscode.MarkdownString().appendCodeblock(hunk.diff, 'diff');
            const first = Math.min(hunk.line, last);
            if (hunk.removed > 0) {
                const end = Math.min(hunk.line + hunk.removed - 1, last);
                removed.push({ range: new vscode.Range(first, 0, end, 0), hoverMessage: hover });
            }
            const at = hunk.removed > 0 ? Math.min(hunk.line + hunk.removed - 1, last) : first;
            const line = editor.document.lineAt(at);
            added.push({
                range: new vscode.Range(at, line.text.length, at, line.text.length),
                hoverMessage: hover,
                renderOptions: { after: { contentText: hunkSummary(hunk.removed, hunk.added) } },
            });
        }
        editor.setDecorations(this.removed, removed);
        editor.setDecorations(this.added, added);
    }

    /** Forget every mark (the server restarted: whatever review it had is gone). */
    clear(): void {
        for (const uri of [...this.byUri.keys()]) {
            this.update({ uri, hunks: [] });
        }
    }

    dispose(): void {
        this.removed.dispose();
        this.added.dispose();
        this.byUri.clear();
    }
}
