"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.registerAll = registerAll;
exports.autoStatus = autoStatus;
/**
 * Automatic mode: turns on every adapter that is installed, when OSPROFILER_ENABLED is
 * true. Later adapters add themselves to ADAPTERS.
 */
const core_1 = require("@osprofiler/core");
const express_1 = require("@osprofiler/express");
const status = { enabled: false, adapters: [], notes: [] };
let done = false;
function isMissing(err, name) {
    const e = err;
    return e?.code === 'MODULE_NOT_FOUND' && typeof e.message === 'string' && e.message.includes(name);
}
/** Each adapter's own register step; returns false when it chose not to register. */
const ADAPTERS = [
    { name: 'express', register: () => (0, express_1.registerExpress)() },
    {
        // Outgoing http/https/fetch propagation; optional so auto works without it.
        name: 'node',
        register: () => {
            // A plain require: the adapter is optional and loaded only in automatic mode.
            // eslint-disable-next-line @typescript-eslint/no-require-imports
            require('@osprofiler/node/register');
            return true;
        },
    },
];
/**
 * Registers every available adapter once per process. Never throws: a bad OSPROFILER_*
 * value or a failing adapter is reported as a process warning and left out.
 */
function registerAll(env = process.env) {
    if (done)
        return status;
    done = true;
    try {
        const config = (0, core_1.resolveConfig)({}, env);
        status.enabled = config.enabled;
        // Keys without OSPROFILER_ENABLED, or enabled without keys or sampling: said once.
        (0, core_1.warnAboutConfig)(config);
    }
    catch (err) {
        const msg = err instanceof Error ? err.message : String(err);
        status.notes.push(msg);
        warn(`automatic mode is off: ${msg}`);
        return status;
    }
    if (!status.enabled) {
        status.notes.push('OSPROFILER_ENABLED is not true');
        return status;
    }
    for (const a of ADAPTERS) {
        try {
            if (a.register())
                status.adapters.push(a.name);
            else
                status.notes.push(`${a.name}: not registered`);
        }
        catch (err) {
            if (isMissing(err, `@osprofiler/${a.name}`))
                status.notes.push(`${a.name}: @osprofiler/${a.name} is not installed`);
            else {
                const msg = err instanceof Error ? err.message : String(err);
                status.notes.push(`${a.name}: ${msg}`);
                warn(`adapter ${a.name} failed to register: ${msg}`);
            }
        }
    }
    return status;
}
/** What automatic mode did in this process. */
function autoStatus() {
    return status;
}
function warn(msg) {
    try {
        process.emitWarning(`osprofiler: ${msg}`, { code: 'OSPROFILER_AUTO' });
    }
    catch {
        // never hurt the host
    }
}
//# sourceMappingURL=register.js.map