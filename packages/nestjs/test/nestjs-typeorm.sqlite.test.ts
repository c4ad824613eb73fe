/**
 * `@nestjs/typeorm` repositories: the DataSource Nest creates is traced by
 * @osprofiler/typeorm (through `dataSourceFactory`), so repository calls made while a
 * request is traced become `db` points under its `wsgi` point. SQLite (better-sqlite3).
 */
import 'reflect-metadata';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { Body, Controller, Get, Inject, Injectable, Module, Param, ParseIntPipe, Post, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { getRepositoryToken, TypeOrmModule } from '@nestjs/typeorm';
import { MemoryDriver, shutdown } from '@osprofiler/core';
import { instrumentDataSource } from '@osprofiler/typeorm';
import { Column, DataSource, Entity, PrimaryGeneratedColumn, type DataSourceOptions, type Repository } from 'typeorm';
import { ProfilerModule } from '../src/index';
import { events, request, signed, waitFor } from './support';

const KEY = 'TYPEORM_KEY';
const STORE = 'nest-typeorm';
const store = new MemoryDriver({}, STORE);

@Entity('notes')
class Note {
  @PrimaryGeneratedColumn({ type: 'integer' })
  id!: number;

  @Column({ type: 'varchar' })
  text!: string;
}

@Injectable()
class NotesService {
  constructor(@Inject(getRepositoryToken(Note)) private readonly notes: Repository<Note>) {}
  add(text: string): Promise<Note> {
    return this.notes.save(this.notes.create({ text }));
  }
  one(id: number): Promise<Note | null> {
    return this.notes.findOneBy({ id });
  }
}

@Controller('notes')
class NotesController {
  constructor(@Inject(NotesService) private readonly notes: NotesService) {}
  @Post()
  add(@Body() body: { text: string }) {
    return this.notes.add(body.text);
  }
  @Get(':id')
  one(@Param('id', ParseIntPipe) id: number) {
    return this.notes.one(id);
  }
}

@Module({
  imports: [
    ProfilerModule.forRoot({ enabled: true, hmacKeys: [KEY], connectionString: `memory://${STORE}`, flushIntervalMs: 5, traceDb: true }),
    TypeOrmModule.forRootAsync({
      useFactory: () => ({ type: 'better-sqlite3', database: ':memory:', entities: [Note], synchronize: true }),
      dataSourceFactory: async (options?: DataSourceOptions) => instrumentDataSource(new DataSource(options!)),
    }),
    TypeOrmModule.forFeature([Note]),
  ],
  controllers: [NotesController],
  providers: [NotesService],
})
class AppModule {}

describe('@nestjs/typeorm repositories under ProfilerModule', () => {
  let app: INestApplication;
  let url: string;
  beforeAll(async () => {
    app = await NestFactory.create(AppModule, { logger: false });
    await app.listen(0, '127.0.0.1');
    url = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await app?.close();
    await shutdown();
  });

  it('repository calls in a traced request are db points (with sql points under them) inside the wsgi point', async () => {
    const created = JSON.parse((await request(`${url}/notes`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"text":"hello"}' })).body.toString()) as Note;
    const base = randomUUID();
    const r = await request(`${url}/notes/${created.id}`, { headers: signed(KEY, base, base) });
    expect(JSON.parse(r.body.toString())).toEqual({ id: created.id, text: 'hello' });
    await waitFor(async () => (await events(store, base)).some((e) => e.name === 'wsgi-stop'));
    const ev = await events(store, base);
    const wsgi = ev.find((e) => e.name === 'wsgi-start')!;
    const db = ev.filter((e) => e.name === 'db-start');
    expect(db).toHaveLength(1);
    expect(db[0].parent_id).toBe(wsgi.trace_id);
    const sql = ev.filter((e) => e.name === 'sql-start');
    expect(sql.length).toBeGreaterThanOrEqual(1);
    expect(sql[0].parent_id).toBe(db[0].trace_id);
    expect(JSON.stringify(sql[0].info)).toContain('notes');
    expect(ev.find((e) => e.name === 'wsgi-stop')!.info.nest).toEqual({ controller: 'NotesController', handler: 'one' });
  });
});
