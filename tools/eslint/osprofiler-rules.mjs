// The repo's own ESLint rules (a local plugin, referenced from eslint.config.mjs).
//
// catch-contained: in adapters and drivers, every `catch` either rethrows or hands the
// failure to core's counter — a call of a `contained` function (`contained(where, err)`,
// `contained('x')(…)`, `this.contained(…)`) or `recordFailure(…)`. ESLint's `no-empty`
// is not enough: it passes a bare `catch {}` holding only a comment, which is how
// failures went uncounted. Rethrowing counts `throw …` and `return Promise.reject(…)`
// anywhere in the catch body (not inside a nested function).

const COUNTER_NAMES = new Set(['contained', 'recordFailure']);

function calleeName(callee) {
  if (callee.type === 'Identifier') return callee.name;
  if (callee.type === 'MemberExpression' && !callee.computed && callee.property.type === 'Identifier') return callee.property.name;
  if (callee.type === 'CallExpression') return calleeName(callee.callee);
  return undefined;
}

function isCounterCall(node) {
  if (node.type !== 'CallExpression') return false;
  const name = calleeName(node.callee);
  return name !== undefined && (COUNTER_NAMES.has(name) || /Contained$|^contained/.test(name));
}

function isRejectCall(node) {
  return (
    node.type === 'CallExpression' &&
    node.callee.type === 'MemberExpression' &&
    node.callee.object.type === 'Identifier' &&
    node.callee.object.name === 'Promise' &&
    node.callee.property.type === 'Identifier' &&
    node.callee.property.name === 'reject'
  );
}

const FUNCTION_TYPES = new Set(['FunctionExpression', 'FunctionDeclaration', 'ArrowFunctionExpression']);

/** True when some node under `root` (not inside a nested function) satisfies `test`. */
function someInside(root, test, visitorKeys) {
  const stack = [root];
  while (stack.length > 0) {
    const node = stack.pop();
    if (test(node)) return true;
    const keys = visitorKeys[node.type] ?? [];
    for (const k of keys) {
      const child = node[k];
      const children = Array.isArray(child) ? child : [child];
      for (const c of children) {
        if (c === null || c === undefined || typeof c.type !== 'string') continue;
        if (FUNCTION_TYPES.has(c.type)) continue;
        stack.push(c);
      }
    }
  }
  return false;
}

const catchContained = {
  meta: {
    type: 'problem',
    docs: { description: 'every catch in an adapter or driver counts the failure (contained/recordFailure) or rethrows' },
    messages: {
      uncounted:
        'This catch neither counts the failure (contained(…) / recordFailure(…)) nor rethrows it. Profiler failures are contained AND counted: call contained(where, err), or rethrow.',
    },
    schema: [],
  },
  create(context) {
    const visitorKeys = context.sourceCode.visitorKeys;
    return {
      CatchClause(node) {
        const ok = someInside(node.body, (n) => n.type === 'ThrowStatement' || isCounterCall(n) || isRejectCall(n), visitorKeys);
        if (!ok) context.report({ node, messageId: 'uncounted' });
      },
    };
  },
};

export default {
  meta: { name: 'osprofiler', version: '1.0.0' },
  rules: { 'catch-contained': catchContained },
};
