/**
 * The collector's checks of a line that came without an index ('L' bodies, the apps'
 * default) made by the RegExp that core's index reads the line's head with
 * (@osprofiler/core line-layout.ts, through `searchIndex.indexOfLines(batch, heads)`).
 *
 * core's LINE_HEAD with two of the collector's checks in it (validate.ts): the trace_id made of an
 * id's characters (group 2; its length, at most 128, is checked apart) and the timestamp
 * in Python's format. A line it matches passes those two checks by construction (the
 * decoder's timestamp and the first `", "trace_id": "` are the head's: no field before them
 * holds a quote), so the collector runs it instead of them on lines that came without an
 * index, and the index then starts from its match instead of matching the head again.
 */
const CHECKED_HEAD = /\{"name": "([^"\\\x00-\x1f]*)", "base_id": "[^"\\\x00-\x1f]*", "trace_id": "([A-Za-z0-9_.:-]+)", "parent_id": "([^"\\\x00-\x1f]*)", "timestamp": "\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,9})?", "info": /y;

/**
 * CHECKED_HEAD's match of `line` when its trace_id has at most 128 characters (then the
 * line passes the trace_id and timestamp checks), else null (check it the usual way).
 */
export function checkedHead(line: string): RegExpExecArray | null {
  CHECKED_HEAD.lastIndex = 0;
  const m = CHECKED_HEAD.exec(line);
  return m !== null && m[2].length <= 128 ? m : null;
}

