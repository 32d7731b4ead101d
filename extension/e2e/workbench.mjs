// What a person does and sees in VS Code's workbench, as DOM conditions waited on with timeouts
// (puppeteer's waitForFunction): never a fixed sleep as the way to sync.

/** A wait that ran out: says what it waited for. */
export class WaitError extends Error {}

const SECOND = 1000;

export class Workbench {
    constructor(page) {
        this.page = page;
    }

    /** Wait until fn(...args), run in the page, is truthy; its value. */
    async until(what, fn, args = [], timeoutMs = 30 * SECOND) {
        try {
            const handle = await this.page.waitForFunction(fn, { timeout: timeoutMs, polling: 200 }, ...args);
            return await handle.jsonValue();
        } catch (error) {
            if (error && error.name === 'TimeoutError') {
                throw new WaitError(`waited ${timeoutMs / SECOND} s for ${what}`);
            }
            throw error;
        }
    }

    async ready() {
        await this.until(
            'the workbench (the explorer and the status bar)',
            () => document.querySelector('.monaco-workbench .part.statusbar') && document.querySelector('.explorer-folders-view'),
            [],
            90 * SECOND,
        );
    }

    async chord(...keys) {
        for (const key of keys) {
            await this.page.keyboard.down(key);
        }
        for (const key of [...keys].reverse()) {
            await this.page.keyboard.up(key);
        }
    }

    /** Type into the open quick input and pick the row whose label contains label. */
    async pick(label, what) {
        await this.until(`the quick input for ${what}`, () => {
            const input = document.querySelector('.quick-input-widget .quick-input-box input');
            return input && document.activeElement === input;
        });
        await this.page.keyboard.type(label);
        await this.until(
            `"${label}" in the quick input's list`,
            (text) => [...document.querySelectorAll('.quick-input-list .monaco-list-row.focused')].some((row) =>
                row.textContent.replace(/\s+/g, ' ').includes(text)),
            [label],
        );
        await this.page.keyboard.press('Enter');
        await this.until('the quick input to close', () => {
            const widget = document.querySelector('.quick-input-widget');
            return !widget || widget.style.display === 'none';
        });
    }

    async openFile(name) {
        await this.chord('Control', 'KeyP');
        await this.pick(name, `opening ${name}`);
        await this.until(
            `${name} in the active editor`,
            (file) => document.querySelector('.tabs-container .tab.active')?.getAttribute('aria-label')?.startsWith(file) &&
                document.querySelector('.editor-instance .monaco-editor .view-lines'),
            [name],
        );
    }

    async command(title) {
        await this.page.keyboard.press('F1');
        await this.pick(title, `the command "${title}"`);
    }

    async goToLine(line) {
        await this.chord('Control', 'KeyG');
        await this.until('the go-to-line input', () => {
            const input = document.querySelector('.quick-input-widget .quick-input-box input');
            return input && document.activeElement === input;
        });
        await this.page.keyboard.type(String(line));
        await this.page.keyboard.press('Enter');
        await this.until(`the cursor on line ${line}`, (n) => {
            const item = document.querySelector('#status\\.editor\\.selection');
            return item && new RegExp(`Ln ${n},`).test(item.textContent);
        }, [line]);
    }

    /** The active editor's text as shown (a short file: every line is rendered). */
    async editorText() {
        return this.page.evaluate(() => {
            const lines = [...document.querySelectorAll('.editor-instance .monaco-editor .view-lines .view-line')];
            lines.sort((a, b) => parseFloat(a.style.top) - parseFloat(b.style.top));
            return lines.map((line) => line.textContent.replace(/\u00a0/g, ' ')).join('\n');
        });
    }

    async untilEditorText(what, needle, timeoutMs) {
        await this.until(
            what,
            (text) => [...document.querySelectorAll('.editor-instance .monaco-editor .view-lines .view-line')]
                .some((line) => line.textContent.replace(/\u00a0/g, ' ').includes(text)),
            [needle],
            timeoutMs,
        );
    }

    async codeLenses(timeoutMs) {
        return this.until(
            'code lenses in the editor',
            () => {
                const titles = [...document.querySelectorAll('.editor-instance .monaco-editor .codelens-decoration a')]
                    .map((a) => a.textContent.trim());
                return titles.length ? titles : null;
            },
            [],
            timeoutMs,
        );
    }

    async showProblems() {
        const visible = () => {
            const panel = document.querySelector('.markers-panel');
            return panel && panel.offsetParent !== null;
        };
        if (!(await this.page.evaluate(visible))) {
            await this.chord('Control', 'Shift', 'KeyM');
        }
        await this.until('the Problems panel', visible);
    }

    /** The Problems panel's rows (files and markers) as text, once some row contains `some` (if given)
     *  and none contains `none` (if given). */
    async untilProblems(what, { some = null, none = null }, timeoutMs) {
        return this.until(
            what,
            (wanted, unwanted) => {
                const rows = [...document.querySelectorAll('.markers-panel .monaco-list-row')]
                    .map((row) => row.textContent.replace(/\s+/g, ' ').trim());
                const ok = (wanted === null || rows.some((row) => row.includes(wanted))) &&
                    (unwanted === null || !rows.some((row) => row.includes(unwanted)));
                return ok ? rows : null;
            },
            [some, none],
            timeoutMs,
        );
    }

    /** A toast whose message matches pattern, once one has faded in (a screenshot then shows what a person
     *  sees): its message and button labels. buttons: labels it must offer; severity: info, warning or error. */
    async untilToast(what, pattern, { buttons = [], severity = null } = {}, timeoutMs = 30 * SECOND) {
        return this.until(
            what,
            (source, flags, wanted, level) => {
                const re = new RegExp(source, flags);
                for (const toast of document.querySelectorAll('.notifications-toasts .notification-toast.notification-fade-in-done')) {
                    const message = toast.querySelector('.notification-list-item-message')?.textContent ?? '';
                    const labels = [...toast.querySelectorAll('.notification-list-item-buttons-container .monaco-button')]
                        .map((b) => b.textContent.trim());
                    const icon = toast.querySelector('.notification-list-item-icon');
                    const levelOk = level === null || (icon && icon.classList.contains(`codicon-${level}`));
                    if (re.test(message) && wanted.every((b) => labels.includes(b)) && levelOk) {
                        return { message, buttons: labels };
                    }
                }
                return null;
            },
            [pattern.source, pattern.flags, buttons, severity],
            timeoutMs,
        );
    }

    /** Open the quick fix menu (Ctrl+.) and wait for an action whose label starts with prefix; its label. */
    async quickFix(prefix, timeoutMs = 15 * SECOND) {
        await this.chord('Control', 'Period');
        return this.until(
            `"${prefix} ..." in the quick fix menu`,
            (start) => [...document.querySelectorAll('.action-widget .monaco-list-row')]
                .map((row) => row.textContent.replace(/\s+/g, ' ').trim())
                .find((label) => label.startsWith(start)) ?? null,
            [prefix],
            timeoutMs,
        );
    }

    async chooseQuickFix(prefix) {
        const rows = await this.page.$$('.action-widget .monaco-list-row');
        for (const row of rows) {
            const label = await row.evaluate((el) => el.textContent.replace(/\s+/g, ' ').trim());
            if (label.startsWith(prefix)) {
                await row.click();
                await this.until('the quick fix menu to close', () => !document.querySelector('.action-widget .monaco-list-row'));
                return;
            }
        }
        throw new WaitError(`no "${prefix} ..." in the quick fix menu any more`);
    }

    /** The ORPS status bar item's text, once it matches pattern. */
    async untilStatus(what, pattern, timeoutMs) {
        return this.until(
            what,
            (source, flags) => {
                const re = new RegExp(source, flags);
                const item = [...document.querySelectorAll('.part.statusbar .statusbar-item')]
                    .map((el) => el.textContent.replace(/\s+/g, ' ').trim())
                    .find((text) => text.startsWith('ORPS'));
                return item && re.test(item) ? item : null;
            },
            [pattern.source, pattern.flags],
            timeoutMs,
        );
    }

    async screenshot(file) {
        await this.page.screenshot({ path: file, type: 'png' });
    }
}
