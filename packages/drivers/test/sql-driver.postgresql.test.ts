/** postgresql:// against the real PostgreSQL on 127.0.0.1:5432 (db test), tables of its own. */
import { sqlDriverCases } from './support/sql-cases';
import { postgresAccess } from './support/sql';

sqlDriverCases('postgresql', postgresAccess);
