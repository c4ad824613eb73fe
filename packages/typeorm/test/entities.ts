/** Test entities as EntitySchemas (no decorators), table names unique per test run. */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

export type TypeormModule = typeof import('typeorm');
const require_ = createRequire(__filename);

/** The lowest and highest TypeORM versions of the supported range, both installed (npm aliases). */
export const VERSIONS: Array<[string, TypeormModule]> = ['typeorm-low', 'typeorm'].map((name) => {
  const main = require_.resolve(name); // <pkg>/index.js (package.json is not in its exports)
  const { version } = JSON.parse(readFileSync(join(dirname(main), 'package.json'), 'utf8')) as { version: string };
  return [version, require_(name) as TypeormModule];
});

export interface User {
  id?: number;
  name: string;
  posts?: Post[];
}
export interface Post {
  id?: number;
  title: string;
  author?: User;
}

export function schemas(t: TypeormModule) {
  const suffix = randomUUID().replace(/-/g, '').slice(0, 10);
  const userTable = `osp_user_${suffix}`;
  const postTable = `osp_post_${suffix}`;
  const UserEntity = new t.EntitySchema<User>({
    name: 'User',
    tableName: userTable,
    columns: { id: { type: Number, primary: true, generated: true }, name: { type: String } },
    indices: [{ columns: ['name'] }],
    relations: { posts: { type: 'one-to-many', target: 'Post', inverseSide: 'author' } },
  });
  const PostEntity = new t.EntitySchema<Post>({
    name: 'Post',
    tableName: postTable,
    columns: { id: { type: Number, primary: true, generated: true }, title: { type: String } },
    relations: { author: { type: 'many-to-one', target: 'User', inverseSide: 'posts' } },
  });
  return { UserEntity, PostEntity, userTable, postTable };
}
