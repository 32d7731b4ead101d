// Ids and names in one place; the manifest (package.json) must agree with them.
export const EXTENSION_NAME = 'ORPS';
export const SERVER_MODULE = 'orps_server';
export const CONFIG_SECTION = 'orps';
export const SECRET_KEY = 'orps.apiKey';
export const RESTART_DELAY_MS = 1000;

// UI commands have ids of their own: the language client registers the server's (orps.refine, ...).
export const COMMANDS = {
    refineAtCursor: 'orps.refineFunctionAtCursor',
    runTests: 'orps.runTestsInFile',
    showCritique: 'orps.showCritiqueForFile',
    review: 'orps.reviewRefinement',
    setApiKey: 'orps.setApiKey',
    restart: 'orps.restartServer',
    showHistory: 'orps.showHistory',
    reapply: 'orps.reapplyHistoryEntry',
    refreshViews: 'orps.refreshViews',
} as const;

export const VIEWS = {
    history: 'orps.historyView',
    search: 'orps.searchView',
} as const;

export const SERVER_COMMANDS = {
    refine: 'orps.refine',
    runTests: 'orps.runTests',
    showCritique: 'orps.showCritique',
    showProposal: 'orps.showProposal',
    proposal: 'orps.proposal',
    critique: 'orps.critique',
    apply: 'orps.applyRefinement',
    reject: 'orps.rejectRefinement',
    reviewInline: 'orps.reviewInline',
    history: 'orps.history',
    historyEntry: 'orps.historyEntry',
    reapplyHistory: 'orps.reapplyHistory',
    searchTree: 'orps.searchTree',
    candidate: 'orps.candidate',
} as const;
