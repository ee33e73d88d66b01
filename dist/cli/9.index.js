export const id = 9;
export const ids = [9];
export const modules = {

/***/ 1009:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   PolicyError: () => (/* binding */ PolicyError),
/* harmony export */   parsePolicy: () => (/* binding */ parsePolicy)
/* harmony export */ });
/* harmony import */ var yaml__WEBPACK_IMPORTED_MODULE_0__ = __webpack_require__(38815);
/* harmony import */ var _adaline_schema_js__WEBPACK_IMPORTED_MODULE_1__ = __webpack_require__(54455);
/* harmony import */ var _policy_js__WEBPACK_IMPORTED_MODULE_2__ = __webpack_require__(13481);
/**
 * Reads the `policy` input's YAML into a Policy, with one message per mistake. A module of its own
 * so that the YAML parser, a large part of the bundle, is loaded only by runs that set a policy.
 */



class PolicyError extends Error {
}
const LIMIT_KINDS = {
    'max-fail-runs': 'count',
    'max-unknown-runs': 'count',
    'max-failed-rows': 'count',
    'max-tokens': 'count',
    'max-fail-rate': 'rate',
    'min-pass-rate': 'rate',
    'max-cost': 'amount',
    'max-avg-latency': 'amount',
    'max-pass-rate-drop': 'rate',
    'max-new-failures': 'count'
};
const SETTING_KEYS = ['allow-status', 'on-empty', 'scope', 'significance'];
const KNOWN_KEYS = [...Object.keys(LIMIT_KINDS), ...SETTING_KEYS];
/** Parses the policy YAML. Empty text is the empty policy: report only, gate skipped. */
function parsePolicy(text) {
    // read as a Map: a key such as "constructor" or "__proto__" is a key like any other, never a
    // property every object has
    let document;
    try {
        const parsed = (0,yaml__WEBPACK_IMPORTED_MODULE_0__/* .parseDocument */ .Tp)(text);
        // a tag the policy does not read (!!js/function, !!binary) is a mistake, not a warning on stderr
        const [problem] = [...parsed.errors, ...parsed.warnings];
        if (problem)
            throw problem;
        document = parsed.toJS({ mapAsMap: true });
    }
    catch (error) {
        const reason = error.message.split('\n')[0];
        throw new PolicyError(`is not valid YAML: ${reason}`);
    }
    const policy = (0,_policy_js__WEBPACK_IMPORTED_MODULE_2__/* .emptyPolicy */ .UR)();
    if (document == null)
        return policy;
    if (!(document instanceof Map)) {
        throw new PolicyError('must be a YAML mapping of rules, such as "max-fail-runs: 0"');
    }
    for (const [key, value] of document) {
        if (typeof key === 'string' && Object.hasOwn(LIMIT_KINDS, key)) {
            const name = key;
            policy.limits[name] = parseLimit(name, LIMIT_KINDS[name], value);
        }
        else if (key === 'allow-status') {
            policy.allowStatus = parseStatuses(value);
        }
        else if (key === 'on-empty') {
            policy.onEmpty = oneOf(key, value, ['fail', 'pass']);
        }
        else if (key === 'scope') {
            policy.scope = oneOf(key, value, ['latest', 'all']);
        }
        else if (key === 'significance') {
            policy.significance = parseSignificance(value);
        }
        else {
            const shown = typeof key === 'string' ? `an unknown key "${key}"` : 'a key that is not text';
            throw new PolicyError(`has ${shown}; known keys: ${KNOWN_KEYS.join(', ')}`);
        }
    }
    return policy;
}
function parseLimit(key, kind, value) {
    if (kind === 'rate') {
        const rate = parseRate(value);
        if (rate === undefined) {
            throw new PolicyError(`${key} must be a rate from 0 to 1 or a percentage such as "5%"`);
        }
        return rate;
    }
    // -0 is 0: a limit is never written "-0"
    const number = typeof value === 'number' ? value + 0 : NaN;
    if (kind === 'count' && (!Number.isInteger(number) || number < 0)) {
        throw new PolicyError(`${key} must be a whole number of 0 or more`);
    }
    if (!Number.isFinite(number) || number < 0) {
        throw new PolicyError(`${key} must be a number of 0 or more`);
    }
    return number;
}
/** A level above 0 and at most 1: at 0 no drop could ever be significant, and the rules would never break. */
function parseSignificance(value) {
    const level = parseRate(value);
    if (level === undefined || level === 0) {
        throw new PolicyError('significance must be a level above 0 and at most 1, or a percentage such as "5%" (the chance of calling noise a regression)');
    }
    return level;
}
function parseRate(value) {
    let rate;
    if (typeof value === 'number')
        rate = value;
    else if (typeof value === 'string') {
        const match = /^\s*(\d+(?:\.\d+)?)\s*%\s*$/.exec(value);
        if (match)
            rate = Number(match[1]) / 100;
    }
    return rate !== undefined && rate >= 0 && rate <= 1 ? rate + 0 : undefined;
}
function parseStatuses(value) {
    const list = typeof value === 'string' ? value.split(',').map(s => s.trim()) : value;
    const known = _adaline_schema_js__WEBPACK_IMPORTED_MODULE_1__/* .EVALUATION_STATUSES */ .co;
    if (!Array.isArray(list) ||
        list.length === 0 ||
        !list.every(item => typeof item === 'string' && known.includes(item))) {
        throw new PolicyError(`allow-status must be a list of: ${_adaline_schema_js__WEBPACK_IMPORTED_MODULE_1__/* .EVALUATION_STATUSES */ .co.join(', ')}`);
    }
    return [...new Set(list)];
}
function oneOf(key, value, options) {
    if (typeof value === 'string' && options.includes(value))
        return value;
    throw new PolicyError(`${key} must be one of: ${options.join(', ')}`);
}


/***/ })

};
